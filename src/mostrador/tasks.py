"""Imports every module that defines actors, so both runners know all of them."""

from __future__ import annotations

import importlib

TASK_MODULES: tuple[str, ...] = (
    "mostrador.webhooks.tasks",
    "mostrador.conversations.tasks",
    "mostrador.messages.tasks",
    "mostrador.media.tasks",
    "mostrador.message_templates.tasks",
)


def import_all_tasks() -> None:
    for module in TASK_MODULES:
        importlib.import_module(module)
