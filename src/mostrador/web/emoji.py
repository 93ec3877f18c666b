"""The composer's emoji picker: the emoji a customer-service desk uses, grouped, with search words.

Shipped as data (no font or image download): the browser draws them with the system's emoji font, as WhatsApp
does. Search words are in Spanish, English and Portuguese together, so the search box finds 🚚 by "envío",
"shipping" or "entrega" whatever the interface language.
"""

from __future__ import annotations

from dataclasses import dataclass

from mostrador.web.i18n import N_


@dataclass(frozen=True, slots=True)
class Emoji:
    char: str
    words: str


@dataclass(frozen=True, slots=True)
class EmojiGroup:
    key: str
    label: str  # translated at render time
    emoji: tuple[Emoji, ...]


def _group(key: str, label: str, *items: tuple[str, str]) -> EmojiGroup:
    return EmojiGroup(key, label, tuple(Emoji(char, words) for char, words in items))


EMOJI_GROUPS: tuple[EmojiGroup, ...] = (
    _group(
        "smileys",
        N_("Smileys"),
        ("😀", "sonrisa feliz smile happy sorriso"),
        ("😊", "sonrisa amable blush smile sorriso"),
        ("🙂", "sonrisa leve slight smile sorriso"),
        ("😉", "guiño wink piscadela"),
        ("😄", "risa alegre grin laugh risada"),
        ("😂", "risa lágrimas joy laugh tears risada"),
        ("🤣", "carcajada rofl laugh gargalhada"),
        ("😍", "enamorado love eyes apaixonado"),
        ("🥰", "cariño amor love afeto"),
        ("😘", "beso kiss beijo"),
        ("😎", "genial gafas cool óculos"),
        ("🤗", "abrazo hug abraço"),
        ("🤔", "pensando thinking pensando"),
        ("😅", "uf alivio sweat phew"),
        ("😢", "triste llorar sad cry triste"),
        ("😔", "pena pensive sad desculpa"),
        ("😮", "sorpresa wow surprised surpresa"),
        ("🙄", "ojos en blanco eye roll"),
        ("😴", "sueño sleep dormir"),
        ("🥳", "fiesta celebrar party festa"),
    ),
    _group(
        "gestures",
        N_("Gestures"),
        ("👍", "ok bien sí like thumbs up joinha"),
        ("👎", "mal no dislike thumbs down"),
        ("👌", "perfecto ok perfect perfeito"),
        ("👏", "aplausos bravo clap palmas"),
        ("🙏", "gracias por favor thanks please obrigado"),
        ("🙌", "hurra celebrar hooray viva"),
        ("👋", "hola adiós wave hello bye olá tchau"),
        ("🤝", "trato acuerdo deal handshake acordo"),
        ("✌️", "paz victoria peace vitória"),
        ("🤞", "suerte luck fingers crossed sorte"),
        ("💪", "fuerza ánimo strong força"),
        ("👉", "aquí mira point here aqui"),
        ("👀", "mirando ojos eyes look olhos"),
        ("🤷", "no sé shrug não sei"),
    ),
    _group(
        "hearts",
        N_("Hearts"),
        ("❤️", "corazón amor heart love coração"),
        ("🧡", "corazón naranja orange heart"),
        ("💛", "corazón amarillo yellow heart"),
        ("💚", "corazón verde green heart"),
        ("💙", "corazón azul blue heart"),
        ("💜", "corazón morado purple heart"),
        ("🖤", "corazón negro black heart"),
        ("🤍", "corazón blanco white heart"),
        ("💕", "corazones amor hearts love"),
        ("💖", "corazón brillante sparkling heart"),
        ("⭐", "estrella star estrela"),
        ("✨", "brillo magia sparkles brilho"),
    ),
    _group(
        "shopping",
        N_("Orders and shipping"),
        ("🛍️", "compras bolsas shopping bags compras"),
        ("🛒", "carrito compra cart carrinho"),
        ("📦", "paquete pedido package order pacote"),
        ("🚚", "envío entrega camión shipping delivery truck entrega"),
        ("🏬", "tienda grandes almacenes store loja"),
        ("🏷️", "etiqueta precio oferta tag price etiqueta"),
        ("💳", "tarjeta pago card payment cartão"),
        ("💶", "euros dinero money dinheiro"),
        ("💵", "dólares pesos dinero money dinheiro"),
        ("🧾", "factura recibo ticket receipt invoice nota fiscal"),
        ("🎁", "regalo gift presente"),
        ("👕", "camiseta ropa shirt clothes camisa roupa"),
        ("👗", "vestido ropa dress vestido"),
        ("👖", "pantalón vaqueros jeans calça"),
        ("👟", "zapatillas calzado sneakers tênis"),
        ("🛋️", "sofá hogar couch home sofá casa"),
        ("🛏️", "cama hogar bed cama"),
        ("🕯️", "vela decoración candle vela"),
    ),
    _group(
        "time_place",
        N_("Time and place"),
        ("⏰", "alarma hora reloj alarm clock time relógio"),
        ("⏳", "esperando espera hourglass waiting espera"),
        ("📅", "fecha calendario date calendar data"),
        ("🕘", "horario hora time hours horário"),
        ("📍", "ubicación dirección location pin localização"),
        ("🗺️", "mapa map mapa"),
        ("🏠", "casa hogar home casa"),
        ("🏢", "oficina office escritório"),
        ("📞", "teléfono llamar phone call telefone"),
        ("📱", "móvil celular mobile phone celular"),
        ("✉️", "correo email carta mail e-mail"),
        ("🔗", "enlace link"),
    ),
    _group(
        "symbols",
        N_("Symbols"),
        ("✅", "hecho listo sí done yes check feito"),
        ("☑️", "confirmado checked confirmado"),
        ("✔️", "correcto check certo"),
        ("❌", "no error cancelado cross cancel cancelado"),
        ("⚠️", "aviso atención warning atenção"),
        ("❗", "importante exclamation importante"),
        ("❓", "pregunta duda question pergunta"),
        ("ℹ️", "información info informação"),
        ("🔔", "aviso notificación bell notificação"),
        ("🔒", "seguro privado lock secure seguro"),
        ("🆕", "nuevo new novo"),
        ("🔥", "oferta fuego hot fire oferta"),
        ("💯", "cien perfecto hundred perfect"),
        ("➡️", "siguiente flecha next arrow próximo"),
    ),
    _group(
        "celebrations",
        N_("Celebrations"),
        ("🎉", "fiesta felicidades party congratulations festa parabéns"),
        ("🎊", "confeti celebración confetti celebração"),
        ("🎂", "cumpleaños tarta birthday cake aniversário"),
        ("🎄", "navidad christmas natal"),
        ("🎃", "halloween"),
        ("💐", "flores ramo flowers bouquet flores"),
        ("🌞", "sol verano sun summer verão"),
        ("☕", "café coffee café"),
    ),
)
