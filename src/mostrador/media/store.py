"""Where media bytes live. Local directory by default; the Protocol is what an S3-compatible store implements."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Protocol


class MediaStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def exists(self, key: str) -> bool: ...


def content_key(account_id: int, data: bytes, extension: str) -> str:
    """Content-addressed: the same file fetched twice is stored once."""
    digest = hashlib.sha256(data).hexdigest()
    return f"{account_id}/{digest[:2]}/{digest}{extension}"


class LocalMediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"media key escapes the store: {key!r}")
        return path

    async def put(self, key: str, data: bytes) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)

        await asyncio.to_thread(write)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).exists)
