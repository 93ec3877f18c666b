"""The JSON API under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from mostrador.contacts.endpoints import router as contacts_router
from mostrador.inboxes.endpoints import router as inboxes_router

router = APIRouter(prefix="/api/v1")
router.include_router(inboxes_router)
router.include_router(contacts_router)
