"""The JSON API under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from mostrador.contacts.endpoints import router as contacts_router
from mostrador.conversations.endpoints import router as conversations_router
from mostrador.inboxes.endpoints import router as inboxes_router
from mostrador.messages.endpoints import router as messages_router

router = APIRouter(prefix="/api/v1")
router.include_router(inboxes_router)
router.include_router(contacts_router)
router.include_router(conversations_router)
router.include_router(messages_router)
