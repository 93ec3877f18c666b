"""Content-type sniffing from magic bytes: never trust the declared type of a file from outside."""

from __future__ import annotations

SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
    (b"OggS", 0, "audio/ogg"),
    (b"ID3", 0, "audio/mpeg"),
    (b"#!AMR", 0, "audio/amr"),
    (b"PK\x03\x04", 0, "application/zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "application/x-ole-storage"),
)

OFFICE_ZIP = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
OLE = {"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"}


def sniff(data: bytes) -> str | None:
    head = data[:64]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith(b"3g"):
            return "video/3gpp"
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        return "video/mp4"
    if head[:2] in (b"\xff\xf1", b"\xff\xf9"):
        return "audio/aac"
    if head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    for magic, offset, mime in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return mime
    return None


def compatible(declared: str | None, sniffed: str | None) -> bool:
    """Whether the bytes are what the sender said they are (containers count for their members)."""
    if sniffed is None or declared is None:
        return True  # plain text and unknown formats cannot be sniffed; size and type limits still apply
    base = declared.split(";", 1)[0].strip().lower()
    if base == sniffed:
        return True
    if sniffed == "application/zip" and base in OFFICE_ZIP:
        return True
    if sniffed == "application/x-ole-storage" and base in OLE:
        return True
    return base.split("/")[0] == sniffed.split("/")[0] == "audio"
