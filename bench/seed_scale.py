"""Seed one account at scale for P4 (agent inbox): contacts, conversations, messages, labels, a few agents.

PostgreSQL: binary COPY on the raw asyncpg connection (``copy_records_to_table``); the secondary indexes of the
two big tables are dropped for the load and rebuilt from their own definitions afterwards, then VACUUM ANALYZE.
SQLite: Core ``insert(table)`` executemany in batches (the FTS5 triggers index the text as rows arrive), then
ANALYZE. Either way the schema comes from the Alembic migrations, and the data is deterministic (seeded RNG).

Run alone:  .venv/bin/python -m bench.seed_scale --scale full   (PostgreSQL database ``mostrador_p4``)
            .venv/bin/python -m bench.seed_scale --scale small --backend sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import ROOT
from mostrador.auth.passwords import hash_password
from mostrador.kit.crypto import encrypt_json
from mostrador.migrate import upgrade
from mostrador.models import (
    Account,
    Contact,
    Conversation,
    ConversationLabel,
    Inbox,
    Label,
    Message,
    User,
)

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET_KEY = "bench-p4"
ACCOUNT_NAME = "P4 bench"
DAY = 86_400.0
CHUNK = 50_000


@dataclass(frozen=True)
class Scale:
    name: str
    contacts: int
    conversations: int
    messages: int
    big: int  # messages of the one very long conversation


SCALES = {
    "full": Scale("full", 100_000, 100_000, 1_000_000, 50_000),
    "small": Scale("small", 10_000, 10_000, 100_000, 50_000),
}

# --- Spanish text -------------------------------------------------------------------------------------------

FIRST = [
    "Lucía",
    "María",
    "Carmen",
    "Sofía",
    "Valentina",
    "Martina",
    "Paula",
    "Elena",
    "Isabel",
    "Camila",
    "Ana",
    "Julia",
    "Laura",
    "Daniela",
    "Marta",
    "Alejandro",
    "Daniel",
    "Pablo",
    "Hugo",
    "Javier",
    "Diego",
    "Mateo",
    "Santiago",
    "Carlos",
    "Manuel",
    "José",
    "Andrés",
    "Miguel",
    "Raúl",
    "Jorge",
    "Sergio",
    "Fernando",
]
LAST = [
    "García",
    "Rodríguez",
    "González",
    "Fernández",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Martín",
    "Jiménez",
    "Ruiz",
    "Hernández",
    "Díaz",
    "Moreno",
    "Muñoz",
    "Álvarez",
    "Romero",
    "Navarro",
    "Torres",
    "Domínguez",
    "Vázquez",
    "Ramos",
    "Castro",
    "Ortega",
    "Rubio",
    "Molina",
    "Delgado",
    "Ortiz",
    "Morales",
]
CITIES = [
    "Madrid",
    "Sevilla",
    "Valencia",
    "Bilbao",
    "Zaragoza",
    "Málaga",
    "Granada",
    "Murcia",
    "Ciudad de México",
    "Guadalajara",
    "Monterrey",
    "Puebla",
    "Buenos Aires",
    "Córdoba",
    "Rosario",
    "Bogotá",
    "Lima",
    "Santiago",
]
PRODUCTS = [
    "camisa de lino",
    "chaqueta vaquera",
    "lámpara de mesa",
    "juego de sábanas",
    "cafetera italiana",
    "zapatillas blancas",
    "vestido de flores",
    "mochila de cuero",
    "alfombra de yute",
    "set de toallas",
    "sartén antiadherente",
    "silla de terraza",
    "bufanda de lana",
    "pantalón chino",
    "jarrón de cerámica",
]
SIZES = ["XS", "S", "M", "L", "XL", "38", "40", "42"]

# Per topic: what customers write, what agents answer. {p} pedido, {x} producto, {c} ciudad, {n} nombre.
TOPICS: list[tuple[str, list[str], list[str]]] = [
    (
        "devolución",
        [
            "Hola, quiero hacer una devolución del pedido {p}, la {x} llegó con un defecto.",
            "Buenas, ¿cómo tramito la devolución de la {x}? No me queda bien.",
            "Ya envié el paquete de la devolución, ¿cuándo me devolvéis el dinero del pedido {p}?",
            "¿Puedo devolver la {x} en la tienda de {c} aunque la compré online?",
            "Llevo dos semanas esperando el reembolso de la devolución, pedido {p}.",
        ],
        [
            "Hola {n}, ya hemos registrado la devolución del pedido {p}. Te enviamos la etiqueta por correo.",
            "Sin problema, tienes 30 días para la devolución. Puedes llevarla a cualquier tienda, también en {c}.",
            "Hemos recibido tu devolución; el reembolso tarda de 5 a 7 días hábiles en verse en tu cuenta.",
            "Lo siento mucho por el defecto de la {x}. Tramitamos la devolución y te la recogemos en casa.",
        ],
    ),
    (
        "envío",
        [
            "Hola, mi pedido {p} todavía no ha llegado a {c}, ¿está retrasado?",
            "El seguimiento del envío no se actualiza desde el martes, pedido {p}.",
            "¿Cuánto tarda el envío a {c}? Necesito la {x} para el viernes.",
            "El repartidor dice que no estaba en casa pero sí estaba. Pedido {p}.",
        ],
        [
            "Hola {n}, tu pedido {p} salió ayer del almacén; llegará a {c} en 48 horas.",
            "Perdona el retraso, la agencia de transporte tiene incidencias en {c}. Te aviso en cuanto se mueva.",
            "El envío estándar tarda de 2 a 4 días hábiles. Te paso el número de seguimiento en un momento.",
            "Hemos abierto una incidencia con el transportista por el pedido {p}; mañana te llaman para entregarlo.",
        ],
    ),
    (
        "factura",
        [
            "¿Me podéis mandar la factura del pedido {p}? La necesito a nombre de mi empresa.",
            "En la factura sale mal el NIF, ¿la podéis corregir?",
            "Necesito la factura simplificada de la compra en la tienda de {c}.",
        ],
        [
            "Claro {n}, pásame el NIF y la razón social y te enviamos la factura del pedido {p} por correo.",
            "Ya está corregida la factura; la tienes en tu área de cliente.",
            "Te adjunto la factura de la compra. Cualquier otra cosa, aquí estamos.",
        ],
    ),
    (
        "stock",
        [
            "¿Tenéis la {x} en talla {s}?",
            "¿Cuándo vuelve a haber stock de la {x}?",
            "¿En la tienda de {c} queda alguna {x}?",
        ],
        [
            "Ahora mismo nos queda la {x} en talla {s} en la tienda de {c}. ¿Te la reservamos?",
            "Esperamos reposición de la {x} la semana que viene. Te aviso por aquí.",
            "Online no nos queda, pero en {c} sí. Te la podemos enviar a casa sin coste.",
        ],
    ),
    (
        "horario",
        [
            "¿A qué hora abre la tienda de {c} el sábado?",
            "¿Abrís el domingo en {c}?",
            "¿Cuál es la dirección de la tienda de {c}?",
        ],
        [
            "Abrimos de lunes a sábado de 10:00 a 21:00 y los domingos de 11:00 a 20:00.",
            "La tienda de {c} está en el centro, junto a la plaza mayor. Te mando la ubicación.",
        ],
    ),
    (
        "pago",
        [
            "El pago con tarjeta me da error al confirmar el pedido.",
            "¿Se puede pagar con Bizum o transferencia?",
            "Me habéis cobrado dos veces el pedido {p}.",
        ],
        [
            "Lo revisamos: el segundo cargo del pedido {p} es una preautorización y se libera en 72 horas.",
            "Aceptamos tarjeta, Bizum, PayPal y transferencia bancaria.",
            "Prueba de nuevo por favor; el banco rechazó el pago por seguridad. Si sigue fallando, te mando un enlace.",
        ],
    ),
    (
        "cambio",
        [
            "Quiero cambiar la {x} por una talla {s}, ¿cómo lo hago?",
            "¿El cambio de talla tiene coste?",
        ],
        [
            "El cambio de talla es gratis. Te enviamos la {x} en talla {s} y el mensajero recoge la otra.",
            "Puedes hacer el cambio en cualquier tienda o desde la web, sin coste.",
        ],
    ),
    (
        "garantía",
        [
            "La {x} dejó de funcionar a los tres meses, ¿entra en la garantía?",
            "¿Cuánto dura la garantía de la {x}?",
        ],
        [
            "Todos nuestros productos tienen dos años de garantía. Mándanos una foto del ticket y del defecto.",
            "Tramitamos la garantía de la {x}: la reparamos o te la cambiamos por una nueva.",
        ],
    ),
    (
        "mayorista",
        [
            "Tengo una tienda en {c} y me interesa comprar al por mayor.",
            "¿Qué descuento hacéis a partir de 50 unidades de la {x}?",
        ],
        [
            "Hola {n}, te paso con el equipo de ventas para profesionales; te enviamos la tarifa mayorista.",
            "A partir de 50 unidades aplicamos un 20 % de descuento. Te preparo un presupuesto.",
        ],
    ),
    (
        "reclamación",
        [
            "Quiero poner una reclamación, el trato en la tienda de {c} fue muy malo.",
            "Es la tercera vez que escribo por el pedido {p} y nadie me responde.",
        ],
        [
            "Sentimos mucho lo ocurrido, {n}. Hemos pasado tu reclamación a la responsable de la tienda de {c}.",
            "Tienes toda la razón. Ya me encargo yo personalmente del pedido {p} y te escribo hoy mismo.",
        ],
    ),
]
CHAT_IN = [
    "Gracias",
    "Muchas gracias!",
    "Vale, perfecto",
    "Ok 👍",
    "Buenos días",
    "Hola?",
    "Genial, gracias",
    "Entendido",
    "¿Sigue ahí alguien?",
    "Perfecto, quedo a la espera",
]
CHAT_OUT = [
    "¡A ti! Que tengas un buen día.",
    "De nada, {n}. Cualquier cosa nos escribes.",
    "Un momento, lo reviso.",
    "Gracias por tu paciencia.",
    "¿Te puedo ayudar en algo más?",
]
NOTES = [
    "Cliente habitual, ofrecer envío gratis.",
    "Revisar con almacén el pedido {p}.",
    "Pendiente de respuesta del transportista.",
    "Ojo: ya reclamó el mes pasado.",
]
LABELS = [
    ("devolución", "#d97706"),
    ("envío", "#0891b2"),
    ("factura", "#2563eb"),
    ("urgente", "#be123c"),
    ("mayorista", "#7c3aed"),
    ("reclamo", "#dc2626"),
    ("vip", "#16a34a"),
    ("garantía", "#6b7280"),
]
AGENT_NAMES = ["Lucía Fernández", "Diego Ramírez", "Valentina Gómez", "Marta Ruiz", "Javier Castro", "Ana Molina"]


def mix(a: int, b: int, salt: int = 0) -> int:
    """Cheap deterministic hash: every choice about message ``b`` of conversation ``a`` comes from here."""
    h = (a * 0x9E3779B1 + b * 0x85EBCA77 + salt * 0xC2B2AE3D) & 0xFFFFFFFF
    h ^= h >> 15
    h = (h * 0x2C1B3C6D) & 0xFFFFFFFF
    return h ^ (h >> 12)


def order_number(conversation_id: int) -> str:
    return f"PED-{(conversation_id * 7919) % 900_000 + 100_000}"  # unique per conversation (7919 ⟂ 900,000)


@dataclass
class MessageKind:
    inbound: bool
    private: bool = False
    bot: bool = False


def kind_of(conversation_id: int, seq: int) -> MessageKind:
    if seq == 0:
        return MessageKind(inbound=True)
    h = mix(conversation_id, seq, 1) % 100
    if h < 50:
        return MessageKind(inbound=True)
    return MessageKind(inbound=False, private=h >= 97, bot=h < 56)


def text_of(conversation_id: int, seq: int, kind: MessageKind, customer: str) -> str:
    h = mix(conversation_id, seq, 2)
    topic = TOPICS[mix(conversation_id, 0, 3) % len(TOPICS)]
    values = {
        "p": order_number(conversation_id),
        "x": PRODUCTS[mix(conversation_id, 0, 4) % len(PRODUCTS)],
        "c": CITIES[mix(conversation_id, 0, 5) % len(CITIES)],
        "n": customer,
        "s": SIZES[mix(conversation_id, 0, 6) % len(SIZES)],
    }
    if kind.private:
        pool = NOTES
    elif seq >= 2 and h % 10 < 3:
        pool = CHAT_IN if kind.inbound else CHAT_OUT
    else:
        pool = topic[1] if kind.inbound else topic[2]
    return pool[(h >> 8) % len(pool)].format(**values)


# --- the plan ------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    scale: Scale
    now: datetime
    agent_ids: list[int]
    # per conversation (index = id - 1), in creation order
    contact: list[int] = field(default_factory=list)
    inbox: list[int] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    assignee: list[int | None] = field(default_factory=list)
    count: list[int] = field(default_factory=list)
    times: list[list[float]] = field(default_factory=list)  # message timestamps (epoch), ascending
    big_id: int = 0
    ten_id: int = 0

    def at(self, epoch: float) -> datetime:
        return datetime.fromtimestamp(epoch, UTC)


def customer_name(contact_id: int) -> str:
    return FIRST[mix(contact_id, 0, 7) % len(FIRST)]


def make_plan(scale: Scale, seed: int = 4) -> Plan:
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    end_epoch = now.timestamp()
    plan = Plan(scale=scale, now=now, agent_ids=[2, 3, 4, 5, 6])
    n = scale.conversations
    # message counts: one huge conversation, the rest around the same mean, adjusted to the exact total
    rest = scale.messages - scale.big
    mean = rest / (n - 1)
    counts = [max(1, round(rng.triangular(1, 2 * mean - 1, mean))) for _ in range(n - 1)]
    diff = rest - sum(counts)
    while diff:
        i = rng.randrange(n - 1)
        step = 1 if diff > 0 else -1
        if counts[i] + step >= 1:
            counts[i] += step
            diff -= step
    big_index = rng.randrange(n - 1)
    counts.insert(big_index, scale.big)
    statuses = rng.choices(["open", "pending", "snoozed", "resolved"], weights=[30, 8, 4, 58], k=n)
    statuses[big_index] = "open"
    drafts: list[tuple[float, float, int, str]] = []  # (start, last activity, count, status)
    for i in range(n):
        if i == big_index:
            last = end_epoch - 120
            start = end_epoch - 90 * DAY
        else:
            age = (
                rng.uniform(0, 90 * DAY) if statuses[i] == "resolved" else min(89 * DAY, rng.expovariate(1 / (6 * DAY)))
            )
            last = end_epoch - age
            start = max(end_epoch - 90 * DAY, last - rng.uniform(300, 3 * DAY))
        drafts.append((start, last, counts[i], statuses[i]))
    drafts.sort()  # ids follow creation time, as in a live system
    active: dict[tuple[int, int], int] = {}
    attached = int(scale.contacts * 0.8)  # the other 20 % of contacts have no conversation (imports, opt-outs)
    for index, (start, last, count, status) in enumerate(drafts):
        conversation_id = index + 1
        contact = index + 1 if index < attached else rng.randint(1, attached)
        inbox = 1 if rng.random() < 0.75 else 2
        if count == scale.big:
            plan.big_id = conversation_id
        key = (inbox, contact)
        if status != "resolved":
            previous = active.get(key)
            if previous == plan.big_id:
                status = "resolved"
            else:
                if previous is not None:  # only one active per contact and inbox: the older one got resolved
                    plan.status[previous - 1] = "resolved"
                active[key] = conversation_id
        if status == "resolved" or rng.random() < 0.7:
            assignee: int | None = plan.agent_ids[rng.randrange(5)]
        else:
            assignee = None
        if conversation_id == plan.big_id:
            assignee = plan.agent_ids[0]
        span = last - start
        times = [*sorted(start + rng.random() * span for _ in range(count - 1)), last]
        plan.contact.append(contact)
        plan.inbox.append(inbox)
        plan.status.append(status)
        plan.assignee.append(assignee)
        plan.count.append(count)
        plan.times.append(times)
    candidates = [i + 1 for i, c in enumerate(plan.count) if c == 10] or [
        min(range(n), key=lambda i: abs(plan.count[i] - 10)) + 1
    ]
    plan.ten_id = candidates[len(candidates) // 2]
    return plan


def last_inbound(plan: Plan, conversation_id: int) -> float | None:
    times = plan.times[conversation_id - 1]
    for seq in range(len(times) - 1, -1, -1):
        if kind_of(conversation_id, seq).inbound:
            return times[seq]
    return None


# --- rows ----------------------------------------------------------------------------------------------------

CONTACT_COLUMNS = (
    "id",
    "account_id",
    "name",
    "phone_e164",
    "wa_id",
    "bsuid",
    "username",
    "email",
    "language",
    "custom_attributes",
    "marketing_opt_out_at",
    "created_at",
    "updated_at",
)
CONVERSATION_COLUMNS = (
    "id",
    "account_id",
    "display_id",
    "inbox_id",
    "contact_id",
    "status",
    "priority",
    "assignee_id",
    "team_id",
    "snoozed_until",
    "last_customer_message_at",
    "window_expires_at",
    "last_activity_at",
    "last_message_preview",
    "unread_count",
    "created_at",
    "updated_at",
)
MESSAGE_COLUMNS = (
    "id",
    "account_id",
    "inbox_id",
    "conversation_id",
    "direction",
    "sender_kind",
    "sender_user_id",
    "type",
    "text",
    "content",
    "is_private",
    "reply_to_id",
    "reply_to_provider_id",
    "provider_message_id",
    "idempotency_key",
    "status",
    "error_code",
    "error_title",
    "error_detail",
    "pricing",
    "attempts",
    "next_attempt_at",
    "provider_timestamp",
    "created_at",
    "updated_at",
)
LABEL_LINK_COLUMNS = ("conversation_id", "label_id", "account_id")


def contact_rows(plan: Plan) -> Iterator[tuple[Any, ...]]:
    base = plan.now - timedelta(days=400)
    for cid in range(1, plan.scale.contacts + 1):
        h = mix(cid, 0, 8)
        spain = h % 3 != 0
        digits = f"34{600_000_000 + h % 99_999_999}" if spain else f"521{5_500_000_000 + h % 99_999_999}"
        created = base + timedelta(seconds=h % (300 * 86_400))
        attributes = {"ciudad": CITIES[h % len(CITIES)]} if h % 4 == 0 else {}
        yield (
            cid,
            1,
            f"{customer_name(cid)} {LAST[(h >> 8) % len(LAST)]}",
            "+" + digits,
            digits,
            None,
            None,
            None,
            "es",
            attributes,
            None,
            created,
            created,
        )


def conversation_rows(plan: Plan) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(5)
    for index in range(plan.scale.conversations):
        cid = index + 1
        times = plan.times[index]
        status = plan.status[index]
        inbound_at = last_inbound(plan, cid)
        last_seq = len(times) - 1
        last_kind = kind_of(cid, last_seq)
        preview = text_of(cid, last_seq, last_kind, customer_name(plan.contact[index]))[:200]
        priority = rng.choices(["none", "low", "medium", "high", "urgent"], weights=[80, 5, 7, 5, 3])[0]
        unread = rng.randint(1, 4) if status == "open" and last_kind.inbound else 0
        snoozed = plan.now + timedelta(hours=rng.randint(1, 72)) if status == "snoozed" else None
        customer_at = plan.at(inbound_at) if inbound_at is not None else None
        window = customer_at + timedelta(hours=24) if customer_at is not None else None
        yield (
            cid,
            1,
            cid,
            plan.inbox[index],
            plan.contact[index],
            status,
            priority,
            plan.assignee[index],
            None,
            snoozed,
            customer_at,
            window,
            plan.at(times[-1]),
            preview,
            unread,
            plan.at(times[0]),
            plan.at(times[-1]),
        )


def label_rows(plan: Plan) -> Iterator[tuple[int, int, int]]:
    for cid in range(1, plan.scale.conversations + 1):
        h = mix(cid, 0, 9)
        if h % 4:
            continue
        topic = mix(cid, 0, 3) % len(TOPICS)
        first = {0: 1, 1: 2, 2: 3, 7: 8, 8: 5, 9: 6}.get(topic, 4)
        yield (cid, first, 1)
        second = (h >> 4) % len(LABELS) + 1
        if (h >> 10) % 3 == 0 and second != first:
            yield (cid, second, 1)


def message_order(plan: Plan) -> list[tuple[float, int, int]]:
    """Every message as (time, conversation, seq), in time order: ids interleave across conversations."""
    order = [(t, index + 1, seq) for index, times in enumerate(plan.times) for seq, t in enumerate(times)]
    order.sort()
    return order


def message_rows(plan: Plan, order: Sequence[tuple[float, int, int]], start: int, stop: int) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for mid in range(start + 1, stop + 1):
        t, cid, seq = order[mid - 1]
        index = cid - 1
        kind = kind_of(cid, seq)
        at = plan.at(t)
        body = text_of(cid, seq, kind, customer_name(plan.contact[index]))
        h = mix(cid, seq, 10)
        inbox = plan.inbox[index]
        content: dict[str, Any]
        agent: int | None
        if kind.inbound:
            media = h % 20
            if media == 0:
                kind_name, content, body = (
                    "image",
                    {"media_id": f"{h}", "mime_type": "image/jpeg", "caption": body},
                    body,
                )
            elif media == 1:
                kind_name, content, body = "audio", {"media_id": f"{h}", "mime_type": "audio/ogg", "voice": True}, ""
            else:
                kind_name, content = "text", {}
            rows.append(
                (
                    mid,
                    1,
                    inbox,
                    cid,
                    "inbound",
                    "contact",
                    None,
                    kind_name,
                    body,
                    content,
                    False,
                    None,
                    None,
                    f"wamid.P4{mid:010d}",
                    None,
                    "received",
                    None,
                    None,
                    None,
                    None,
                    0,
                    None,
                    at,
                    at,
                    at,
                )
            )
        elif kind.private:
            agent = plan.assignee[index] or plan.agent_ids[h % 5]
            rows.append(
                (
                    mid,
                    1,
                    inbox,
                    cid,
                    "outbound",
                    "agent",
                    agent,
                    "note",
                    body,
                    {},
                    True,
                    None,
                    None,
                    None,
                    None,
                    "sent",
                    None,
                    None,
                    None,
                    None,
                    0,
                    None,
                    None,
                    at,
                    at,
                )
            )
        else:
            agent = None if kind.bot else plan.assignee[index] or plan.agent_ids[h % 5]
            roll = h % 100
            status = "read" if roll < 60 else "delivered" if roll < 85 else "sent" if roll < 96 else "failed"
            error = (131047, "Re-engagement message") if status == "failed" else (None, None)
            pricing = {"billable": False, "category": "service", "pricing_model": "PMP"} if roll % 3 == 0 else None
            rows.append(
                (
                    mid,
                    1,
                    inbox,
                    cid,
                    "outbound",
                    "bot" if kind.bot else "agent",
                    agent,
                    "text",
                    body,
                    {},
                    False,
                    None,
                    None,
                    f"wamid.P4{mid:010d}",
                    None,
                    status,
                    error[0],
                    error[1],
                    "Message failed to send because more than 24 hours have passed" if error[0] else None,
                    pricing,
                    1,
                    None,
                    None,
                    at,
                    at,
                )
            )
    return rows


def fixed_rows(plan: Plan) -> dict[str, list[tuple[Any, ...]]]:
    created = plan.now - timedelta(days=400)
    password = hash_password("bench-p4-password")
    users: list[tuple[Any, ...]] = []
    for uid, name in enumerate(AGENT_NAMES, start=1):
        role = "admin" if uid == 1 else "agent"
        users.append(
            (uid, 1, f"agente{uid}@p4.bench", name, password, role, "es", True, "online", 50, 1, None, created, created)
        )
    inboxes = [
        (
            i,
            1,
            f"WhatsApp {city}",
            "whatsapp",
            f"p4-{i}",
            "p4-waba",
            f"+34 91{i} 000 000",
            encrypt_json(SECRET_KEY, {"phone_number_id": f"p4-{i}", "waba_id": "p4-waba", "access_token": "x"}),
            False,
            None,
            None,
            None,
            None,
            created,
            created,
        )
        for i, city in ((1, "Madrid"), (2, "México"))
    ]
    labels = [(i, 1, name, color, "", created, created) for i, (name, color) in enumerate(LABELS, start=1)]
    return {
        "accounts": [
            (
                1,
                f"{ACCOUNT_NAME} ({plan.scale.name})",
                "es",
                "Europe/Madrid",
                plan.scale.conversations + 1,
                created,
                created,
            )
        ],
        "users": users,
        "inboxes": inboxes,
        "labels": labels,
    }


FIXED_COLUMNS = {
    "accounts": ("id", "name", "locale", "timezone", "next_conversation_number", "created_at", "updated_at"),
    "users": (
        "id",
        "account_id",
        "email",
        "name",
        "password_hash",
        "role",
        "locale",
        "is_active",
        "availability",
        "max_open_conversations",
        "session_version",
        "last_seen_at",
        "created_at",
        "updated_at",
    ),
    "inboxes": (
        "id",
        "account_id",
        "name",
        "channel_kind",
        "channel_key",
        "business_account_id",
        "display_phone_number",
        "config_encrypted",
        "auto_assign",
        "quality_rating",
        "messaging_limit",
        "account_status",
        "last_assigned_user_id",
        "created_at",
        "updated_at",
    ),
    "labels": ("id", "account_id", "name", "color", "description", "created_at", "updated_at"),
}
JSON_COLUMNS = {"custom_attributes", "content", "pricing"}


# --- writers -------------------------------------------------------------------------------------------------


def progress() -> Progress:
    return Progress(TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def pg_url(database: str) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"


async def reset_postgres(database: str) -> str:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()
    return pg_url(database)


def jsonify(columns: Sequence[str], rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """asyncpg's jsonb codec takes text."""
    positions = [i for i, name in enumerate(columns) if name in JSON_COLUMNS]
    out = []
    for row in rows:
        values = list(row)
        for i in positions:
            if values[i] is not None:
                values[i] = json.dumps(values[i], ensure_ascii=False, separators=(",", ":"))
        out.append(tuple(values))
    return out


async def seed_postgres(plan: Plan, database: str, say: Callable[[str], None] = print) -> None:
    url = await reset_postgres(database)
    await asyncio.to_thread(upgrade, url)
    connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{database}")
    try:
        # Bulk-load settings for this session only: no FK triggers (rows are consistent by construction and
        # checked below), big sort memory for the index rebuilds.
        await connection.execute("SET session_replication_role = replica")
        await connection.execute("SET maintenance_work_mem = '512MB'")
        saved: list[tuple[str, str]] = []
        for table in ("messages", "conversations", "contacts"):
            rows = await connection.fetch(
                "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS ddl FROM pg_index i "
                "WHERE i.indrelid = $1::regclass AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                table,
            )
            for row in rows:
                saved.append((row["name"], row["ddl"]))
                await connection.execute(f'DROP INDEX "{row["name"]}"')
        for table, rows in fixed_rows(plan).items():
            await connection.copy_records_to_table(
                table, records=jsonify(FIXED_COLUMNS[table], rows), columns=list(FIXED_COLUMNS[table])
            )
        order = message_order(plan)
        total = len(order)
        with progress() as bar:
            task = bar.add_task("contacts", total=plan.scale.contacts)
            batch: list[tuple[Any, ...]] = []
            for row in contact_rows(plan):
                batch.append(row)
                if len(batch) == CHUNK:
                    await connection.copy_records_to_table(
                        "contacts", records=jsonify(CONTACT_COLUMNS, batch), columns=list(CONTACT_COLUMNS)
                    )
                    bar.advance(task, len(batch))
                    batch = []
            if batch:
                await connection.copy_records_to_table(
                    "contacts", records=jsonify(CONTACT_COLUMNS, batch), columns=list(CONTACT_COLUMNS)
                )
                bar.advance(task, len(batch))
            task = bar.add_task("conversations", total=plan.scale.conversations)
            rows = list(conversation_rows(plan))
            for start in range(0, len(rows), CHUNK):
                await connection.copy_records_to_table(
                    "conversations", records=rows[start : start + CHUNK], columns=list(CONVERSATION_COLUMNS)
                )
                bar.advance(task, len(rows[start : start + CHUNK]))
            links = list(label_rows(plan))
            await connection.copy_records_to_table(
                "conversation_labels", records=links, columns=list(LABEL_LINK_COLUMNS)
            )
            task = bar.add_task("messages", total=total)

            def build(start: int) -> list[tuple[Any, ...]]:
                return jsonify(MESSAGE_COLUMNS, message_rows(plan, order, start, min(total, start + CHUNK)))

            pending = build(0)
            for start in range(0, total, CHUNK):
                # Build the next chunk in a thread while the server ingests this one.
                copy = connection.copy_records_to_table("messages", records=pending, columns=list(MESSAGE_COLUMNS))
                nxt = start + CHUNK
                following = asyncio.to_thread(build, nxt) if nxt < total else asyncio.sleep(0, [])
                _, upcoming = await asyncio.gather(copy, following)
                bar.advance(task, len(pending))
                pending = upcoming
            task = bar.add_task("indexes", total=len(saved))
            for _name, ddl in saved:
                await connection.execute(ddl)
                bar.advance(task)
        for table in ("accounts", "users", "inboxes", "labels", "contacts", "conversations", "messages"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await connection.execute("SET session_replication_role = DEFAULT")
        orphans = await connection.fetchval(
            "SELECT (SELECT count(*) FROM messages m LEFT JOIN conversations c ON c.id = m.conversation_id "
            "WHERE c.id IS NULL) + (SELECT count(*) FROM conversations v LEFT JOIN contacts k ON k.id = v.contact_id "
            "WHERE k.id IS NULL)"
        )
        if orphans:
            raise RuntimeError(f"{orphans} rows point at nothing")
        say("VACUUM ANALYZE …")
        started = time.monotonic()
        await connection.execute("VACUUM ANALYZE")
        say(f"VACUUM ANALYZE took {time.monotonic() - started:.0f} s")
    finally:
        await connection.close()


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def seed_sqlite(plan: Plan, path: Path, say: Callable[[str], None] = print) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = sqlite_url(path)
    await asyncio.to_thread(upgrade, url)
    engine = create_async_engine(url)
    tables = {
        "accounts": Account,
        "users": User,
        "inboxes": Inbox,
        "labels": Label,
        "contacts": Contact,
        "conversations": Conversation,
        "conversation_labels": ConversationLabel,
        "messages": Message,
    }

    def dicts(columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
        return [dict(zip(columns, row, strict=True)) for row in rows]

    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            await connection.exec_driver_sql("PRAGMA synchronous=OFF")
            for table, rows in fixed_rows(plan).items():
                await connection.execute(insert(tables[table]), dicts(FIXED_COLUMNS[table], rows))
            order = message_order(plan)
            with progress() as bar:
                for name, columns, source, count in (
                    ("contacts", CONTACT_COLUMNS, contact_rows(plan), plan.scale.contacts),
                    ("conversations", CONVERSATION_COLUMNS, conversation_rows(plan), plan.scale.conversations),
                ):
                    task = bar.add_task(name, total=count)
                    rows = list(source)
                    for start in range(0, len(rows), 10_000):
                        await connection.execute(insert(tables[name]), dicts(columns, rows[start : start + 10_000]))
                        bar.advance(task, len(rows[start : start + 10_000]))
                await connection.execute(insert(ConversationLabel), dicts(LABEL_LINK_COLUMNS, list(label_rows(plan))))
                task = bar.add_task("messages", total=len(order))
                for start in range(0, len(order), 10_000):
                    rows = message_rows(plan, order, start, min(len(order), start + 10_000))
                    await connection.execute(insert(Message), dicts(MESSAGE_COLUMNS, rows))
                    bar.advance(task, len(rows))
        async with engine.begin() as connection:
            say("ANALYZE …")
            await connection.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


def sqlite_path(scale: Scale) -> Path:
    return ROOT / "var" / "bench-p4" / f"p4_{scale.name}.db"


def pg_database(scale: Scale) -> str:
    return "mostrador_p4" if scale.name == "full" else f"mostrador_p4_{scale.name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    args = parser.parse_args()
    scale = SCALES[args.scale]
    started = time.monotonic()
    plan = make_plan(scale)
    print(
        f"plan: {scale.conversations:,} conversations, {sum(plan.count):,} messages "
        f"({time.monotonic() - started:.1f} s)"
    )
    if args.backend == "postgres":
        asyncio.run(seed_postgres(plan, pg_database(scale)))
    else:
        asyncio.run(seed_sqlite(plan, sqlite_path(scale)))
    print(
        f"seeded in {time.monotonic() - started:.0f} s; long conversation id {plan.big_id}, "
        f"10-message conversation id {plan.ten_id}"
    )


if __name__ == "__main__":
    main()
