"""Secrets at rest (channel access tokens) encrypted with a key derived from MOSTRADOR_SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"mostrador-config-v1:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_json(secret_key: str, value: dict[str, Any]) -> str:
    return _fernet(secret_key).encrypt(json.dumps(value, sort_keys=True).encode()).decode()


class DecryptionError(Exception):
    pass


def decrypt_json(secret_key: str, token: str) -> dict[str, Any]:
    try:
        data = json.loads(_fernet(secret_key).decrypt(token.encode()))
    except InvalidToken as error:
        raise DecryptionError("channel configuration cannot be decrypted with this secret key") from error
    if not isinstance(data, dict):
        raise DecryptionError("channel configuration is not an object")
    return data


def new_token(prefix: str = "mst") -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> str:
    """API tokens are high-entropy, so a plain SHA-256 is enough and allows an indexed lookup."""
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
