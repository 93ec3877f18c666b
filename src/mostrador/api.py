"""The JSON API under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from mostrador.canned_responses.endpoints import router as canned_responses_router
from mostrador.contacts.endpoints import router as contacts_router
from mostrador.conversations.endpoints import router as conversations_router
from mostrador.inboxes.endpoints import router as inboxes_router
from mostrador.labels.endpoints import router as labels_router
from mostrador.messages.endpoints import conversation_router as conversation_media_router
from mostrador.messages.endpoints import router as messages_router
from mostrador.teams.endpoints import router as teams_router
from mostrador.users.endpoints import router as agents_router

router = APIRouter(prefix="/api/v1")
router.include_router(inboxes_router)
router.include_router(contacts_router)
router.include_router(conversations_router)
router.include_router(conversation_media_router)
router.include_router(messages_router)
router.include_router(labels_router)
router.include_router(teams_router)
router.include_router(canned_responses_router)
router.include_router(agents_router)
