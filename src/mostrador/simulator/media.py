"""Media helpers: supported types and sizes (CONTRACT §3), signed short-lived URLs, placeholder files."""

from __future__ import annotations

import hashlib
import hmac
import struct
import zlib

MB = 1024 * 1024

# mime type -> (kind, max bytes)
SUPPORTED: dict[str, tuple[str, int]] = {
    "image/jpeg": ("image", 5 * MB),
    "image/png": ("image", 5 * MB),
    "image/webp": ("sticker", 500 * 1024),
    "video/mp4": ("video", 16 * MB),
    "video/3gpp": ("video", 16 * MB),
    "audio/aac": ("audio", 16 * MB),
    "audio/amr": ("audio", 16 * MB),
    "audio/mpeg": ("audio", 16 * MB),
    "audio/mp4": ("audio", 16 * MB),
    "audio/ogg": ("audio", 16 * MB),
    "text/plain": ("document", 100 * MB),
    "application/pdf": ("document", 100 * MB),
    "application/msword": ("document", 100 * MB),
    "application/vnd.ms-excel": ("document", 100 * MB),
    "application/vnd.ms-powerpoint": ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("document", 100 * MB),
}

DEFAULT_MIME = {
    "image": "image/png",
    "video": "video/mp4",
    "audio": "audio/ogg",
    "document": "application/pdf",
    "sticker": "image/webp",
}


def base_mime(mime: str) -> str:
    return mime.split(";", 1)[0].strip().lower()


def check_upload(mime: str, size: int) -> str | None:
    """An error detail when the file is not accepted, else None."""
    spec = SUPPORTED.get(base_mime(mime))
    if spec is None:
        return (
            f"Param file must be a file with one of the following types: {', '.join(sorted(SUPPORTED))}. "
            f"Received file of type '{mime}'."
        )
    if size == 0:
        return "Param file must not be empty."
    if size > spec[1]:
        return f"File of type {mime} must be at most {spec[1] // 1024} KB; received {size // 1024} KB."
    return None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def url_hash(secret: str, media_id: str, expires: int) -> str:
    return hmac.new(secret.encode(), f"{media_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def tiny_png(rgb: tuple[int, int, int] = (37, 211, 102), size: int = 48) -> bytes:
    """A valid solid-colour PNG (used when a simulated user "sends a photo" without a file)."""
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def placeholder(kind: str) -> tuple[bytes, str]:
    """Bytes and mime type standing in for a file of ``kind`` the simulated user sends."""
    if kind == "image":
        return tiny_png(), "image/png"
    if kind == "sticker":
        # a minimal RIFF/WEBP container header; enough for a download round trip
        return (
            b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00",
            "image/webp",
        )
    if kind == "audio":
        return b"OggS\x00\x02" + b"\x00" * 64, "audio/ogg"
    if kind == "video":
        return b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "video/mp4"
    return b"%PDF-1.4\n% Mostrador simulator placeholder\n%%EOF\n", "application/pdf"
