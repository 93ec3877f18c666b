"""Casa Olivo: a clothing and home-goods chain with stores in Madrid, Ciudad de México and Buenos Aires."""

from __future__ import annotations

from typing import Any

ACCOUNT_NAME = "Casa Olivo"
PHONE_NUMBER_ID = "100000000000001"
WABA_ID = "200000000000001"
DISPLAY_NUMBER = "+34 910 555 010"
ACCESS_TOKEN = "sim-access-token"  # noqa: S105 - the simulator's sandbox token

# (email, name, role, team, locale)
AGENTS: list[tuple[str, str, str, str, str]] = [
    ("lucia@casaolivo.example", "Lucía Fernández", "admin", "Atención Madrid", "es"),
    ("marta@casaolivo.example", "Marta Ruiz", "supervisor", "Postventa", "es"),
    ("diego@casaolivo.example", "Diego Ramírez", "agent", "Atención México", "es"),
    ("valentina@casaolivo.example", "Valentina Gómez", "agent", "Atención Argentina", "es"),
    ("joao@casaolivo.example", "João Pereira", "agent", "Postventa", "pt"),
]

TEAMS = ["Atención Madrid", "Atención México", "Atención Argentina", "Postventa"]

LABELS: list[tuple[str, str, str]] = [
    ("pedido", "#2563eb", "Consultas sobre un pedido"),
    ("envío", "#0891b2", "Entregas y seguimiento"),
    ("devolución", "#d97706", "Cambios y devoluciones"),
    ("reclamo", "#dc2626", "Quejas que necesitan seguimiento"),
    ("mayorista", "#7c3aed", "Clientes profesionales"),
    ("urgente", "#be123c", "Responder cuanto antes"),
]

CANNED: list[tuple[str, str]] = [
    ("horario", "Nuestras tiendas abren de lunes a sábado de 10:00 a 21:00 y los domingos de 11:00 a 20:00."),
    (
        "envio",
        "Los envíos tardan de 2 a 4 días hábiles. Te enviamos el número de seguimiento por aquí en cuanto "
        "salga tu pedido 📦",
    ),
    (
        "devolucion",
        "Tienes 30 días para cambios y devoluciones con el ticket. Puedes hacerlo en cualquier tienda o "
        "pedir la recogida en casa.",
    ),
    ("gracias", "¡Gracias a ti! Si necesitas algo más, aquí estamos 😊"),
    ("talla", "Te paso la guía de tallas: S (36-38), M (40-42), L (44-46), XL (48-50)."),
]

TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "pedido_listo",
        "language": "es",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Hola {{1}}, tu pedido {{2}} ya está listo para recoger en la tienda de {{3}}. ¡Te esperamos!",
                "example": {"body_text": [["Ana", "CO-10482", "Polanco"]]},
            },
            {"type": "FOOTER", "text": "Casa Olivo"},
        ],
    },
    {
        "name": "envio_retrasado",
        "language": "es",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Hola {{1}}, sentimos el retraso: tu pedido {{2}} llegará el {{3}}. "
                "Responde a este mensaje si necesitas cambiar la entrega.",
                "example": {"body_text": [["Lucas", "CO-20931", "jueves 26"]]},
            },
        ],
    },
    {
        "name": "tienda_cerrada",
        "language": "es",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Aviso: la tienda de {{1}} permanecerá cerrada hoy por {{2}}. "
                "Tus recogidas pasan a la tienda más cercana.",
                "example": {"body_text": [["Palermo", "obras"]]},
            },
        ],
    },
    {
        "name": "rebajas_invierno",
        "language": "es",
        "category": "MARKETING",
        "components": [
            {
                "type": "BODY",
                "text": "¡Hola {{1}}! Empiezan las rebajas de invierno: hasta 40 % en textil hogar.",
                "example": {"body_text": [["Marta"]]},
            },
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Ver novedades"},
                    {"type": "QUICK_REPLY", "text": "No me interesa"},
                ],
            },
        ],
    },
    # A photo header: the agent uploads the picture (or pastes a link) in the template picker.
    {
        "name": "nueva_coleccion",
        "language": "es",
        "category": "MARKETING",
        "components": [
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1hZ2UvanBlZw==:ARbDemoHandle"]}},
            {
                "type": "BODY",
                "text": "¡Hola {{1}}! Ya llegó la colección de {{2}} a la tienda. "
                "Te guardamos tu talla hasta el sábado.",
                "example": {"body_text": [["Marta", "lino"]]},
            },
            {"type": "FOOTER", "text": "Casa Olivo"},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Quiero verla"},
                    {"type": "QUICK_REPLY", "text": "No me interesa"},
                ],
            },
        ],
    },
    # A dynamic URL button: the agent types the end of the link (the order number).
    {
        "name": "pedido_enviado",
        "language": "es",
        "category": "UTILITY",
        "components": [
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": "Pedido {{1}} en camino",
                "example": {"header_text": ["CO-10482"]},
            },
            {
                "type": "BODY",
                "text": "Hola {{1}}, tu pedido ya salió del almacén y llegará en 24-48 h. "
                "Puedes seguirlo desde el enlace.",
                "example": {"body_text": [["Lucas"]]},
            },
            {
                "type": "BUTTONS",
                "buttons": [
                    {
                        "type": "URL",
                        "text": "Seguir mi pedido",
                        "url": "https://casaolivo.example/envios/{{1}}",
                        "example": ["https://casaolivo.example/envios/CO-10482"],
                    }
                ],
            },
        ],
    },
    # Named variables and a coupon to copy.
    {
        "name": "cupon_bienvenida",
        "language": "es",
        "category": "MARKETING",
        "parameter_format": "NAMED",
        "components": [
            {
                "type": "BODY",
                "text": "¡Gracias por tu primera compra, {{nombre}}! Usa este código en la tienda online "
                "antes del {{fecha}} y llévate un 10 % de descuento.",
                "example": {
                    "body_text_named_params": [
                        {"param_name": "nombre", "example": "Ana"},
                        {"param_name": "fecha", "example": "31 de marzo"},
                    ]
                },
            },
            {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "OLIVO10"}]},
        ],
    },
]

# Customers who wrote before today: (wa_id, name, language, history [(minutes ago, direction, text)], status,
# agent email or None, labels)
HISTORY: list[dict[str, Any]] = [
    {
        "wa_id": "34612345678",
        "name": "Carmen López",
        "language": "es",
        "status": "resolved",
        "agent": "lucia@casaolivo.example",
        "labels": ["devolución"],
        "messages": [
            (3000, "in", "Hola, compré un edredón nórdico y es demasiado grande para mi cama. ¿Puedo cambiarlo?"),
            (2990, "out", "¡Hola Carmen! Claro que sí, tienes 30 días. ¿Qué medida necesitas?"),
            (2980, "in", "La de 135 cm, por favor"),
            (2970, "out", "Perfecto, te lo reservamos en la tienda de Serrano. Puedes pasar cuando quieras."),
            (2960, "in", "¡Genial, gracias!"),
        ],
    },
    {
        "wa_id": "5215587654321",
        "name": "Sofía Hernández",
        "language": "es",
        "status": "open",
        "agent": "diego@casaolivo.example",
        "labels": ["pedido", "envío"],
        "messages": [
            (1700, "in", "Buenas tardes, mi pedido CO-20931 dice que se entregó pero no me llegó nada 😟"),
            (1690, "out", "Hola Sofía, lo siento mucho. Ya abrí una incidencia con la paquetería."),
            (1680, "in", "Gracias, quedo al pendiente"),
        ],
    },
    {
        "wa_id": "5491133445566",
        "name": "Martín Acosta",
        "language": "es",
        "status": "pending",
        "agent": None,
        "labels": ["mayorista"],
        "messages": [
            (
                2200,
                "in",
                "Hola! Tengo un hotel boutique en Palermo y busco 40 juegos de sábanas de percal. "
                "¿Hacen precio por cantidad?",
            ),
        ],
    },
    {
        "wa_id": "447700900123",
        "name": "Emily Clarke",
        "language": "en",
        "status": "resolved",
        "agent": "lucia@casaolivo.example",
        "labels": ["pedido"],
        "messages": [
            (5000, "in", "Hi! Do you ship to the UK?"),
            (4990, "out", "Hi Emily! Yes, we ship to the UK in 5-7 working days."),
        ],
    },
]

# Customers writing *now*: sent through the simulator at start-up, so they travel the real pipeline.
LIVE: list[tuple[str, str, str]] = [
    ("5215512345678", "Ana Martínez", "Hola, ¿tienen la camisa de lino blanca en talla M en la tienda de Polanco?"),
    ("34699111222", "Javier Moreno", "Buenas, ¿a qué hora abren mañana en Gran Vía?"),
    ("5491122334455", "Lucas Pereyra", "Hola! Quiero devolver una lámpara que llegó rota 💔 ¿Cómo hago?"),
    ("5511987654321", "Beatriz Souza", "Olá! Vocês entregam em São Paulo?"),
]
