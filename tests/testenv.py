"""Where the suite finds its services, and the secrets its apps share."""

from __future__ import annotations

import os

POSTGRES_ADMIN_URL = os.environ.get("MOSTRADOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("MOSTRADOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
