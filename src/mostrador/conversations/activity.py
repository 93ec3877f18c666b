"""Activity lines ("Lucía assigned this to Diego"): structured content plus text in the account's language."""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    "assigned": {
        "es": "{actor} asignó la conversación a {target}",
        "en": "{actor} assigned this to {target}",
        "pt": "{actor} atribuiu a conversa a {target}",
    },
    "unassigned": {
        "es": "{actor} dejó la conversación sin asignar",
        "en": "{actor} unassigned this conversation",
        "pt": "{actor} removeu a atribuição",
    },
    "auto_assigned": {
        "es": "Asignada automáticamente a {target}",
        "en": "Automatically assigned to {target}",
        "pt": "Atribuída automaticamente a {target}",
    },
    "team": {
        "es": "{actor} pasó la conversación al equipo {target}",
        "en": "{actor} moved this to team {target}",
        "pt": "{actor} passou a conversa para a equipe {target}",
    },
    "status.open": {
        "es": "{actor} reabrió la conversación",
        "en": "{actor} reopened the conversation",
        "pt": "{actor} reabriu a conversa",
    },
    "status.resolved": {
        "es": "{actor} resolvió la conversación",
        "en": "{actor} resolved the conversation",
        "pt": "{actor} resolveu a conversa",
    },
    "status.pending": {
        "es": "{actor} marcó la conversación como pendiente",
        "en": "{actor} marked this pending",
        "pt": "{actor} marcou a conversa como pendente",
    },
    "status.snoozed": {
        "es": "{actor} pospuso la conversación hasta {target}",
        "en": "{actor} snoozed this until {target}",
        "pt": "{actor} adiou a conversa até {target}",
    },
    "snooze_ended": {
        "es": "Terminó el aplazamiento: la conversación vuelve a estar abierta",
        "en": "Snooze ended: the conversation is open again",
        "pt": "O adiamento terminou: a conversa está aberta de novo",
    },
    "priority": {
        "es": "{actor} cambió la prioridad a {target}",
        "en": "{actor} set the priority to {target}",
        "pt": "{actor} mudou a prioridade para {target}",
    },
    "labels": {
        "es": "{actor} cambió las etiquetas: {target}",
        "en": "{actor} changed the labels: {target}",
        "pt": "{actor} mudou as etiquetas: {target}",
    },
}


def activity_text(kind: str, locale: str, **values: Any) -> str:
    table = TEXTS[kind]
    return table.get(locale[:2], table["es"]).format(**values)
