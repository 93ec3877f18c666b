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
    if len(head) > 1 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS: 12-bit sync, layer 00 (with or without CRC, MPEG-2 or -4)
            return "audio/aac"
        if head[1] & 0xE0 == 0xE0 and head[1] & 0x06:  # an MPEG audio frame: 11-bit sync, a layer (MP3, MP2…)
            return "audio/mpeg"
    for magic, offset, mime in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return mime
    return None


# Every type ``sniff`` can name, and the members of the containers it recognises: a file declared as one of these
# whose bytes sniff as nothing is not what it claims to be.
RECOGNISABLE = frozenset(
    {mime for _magic, _offset, mime in SIGNATURES}
    | {"image/webp", "video/3gpp", "video/mp4", "audio/mp4", "audio/aac", "audio/mpeg"}
    | OFFICE_ZIP
    | OLE
)
# What a sender says when it does not know the type: no claim to check the bytes against.
GENERIC_TYPES = frozenset({"application/octet-stream", "binary/octet-stream", "application/unknown"})


def claimed_type(declared: str | None) -> str | None:
    """The declared type without parameters, lower case; None when nothing specific was declared."""
    base = (declared or "").split(";", 1)[0].strip().lower()
    return base if base and base not in GENERIC_TYPES else None


def recognisable(mime_type: str) -> bool:
    """Whether files of this type have magic bytes ``sniff`` knows (plain text, CSV, … have none)."""
    return mime_type.split(";", 1)[0].strip().lower() in RECOGNISABLE


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
    if base in ISO_MEDIA and sniffed in ISO_MEDIA:
        return True  # one container for sound and picture: the brand does not say which an .m4a or .mp4 holds
    return base.split("/")[0] == sniffed.split("/")[0] == "audio"


# ISO base media files (``ftyp``): an audio-only .m4a often carries a video brand (isom, mp42).
# HEIC/AVIF photos and QuickTime films (an iPhone's, sent as documents) are ISO files too.
ISO_MEDIA = frozenset(
    {"audio/mp4", "video/mp4", "audio/3gpp", "video/3gpp", "video/quicktime", "image/heic", "image/heif", "image/avif"}
)


# Containers whose members the magic bytes cannot tell apart: the file name or the declared type decides, but only
# among the types the container can hold (see ``compatible``).
CONTAINERS = {"application/zip", "application/x-ole-storage"}
EXTENSION_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".txt": "text/plain",
}
TEXT_SAMPLE = 8192


def _base(mime_type: str | None) -> str | None:
    base = (mime_type or "").split(";", 1)[0].strip().lower()
    return base or None


def _extension_type(filename: str) -> str | None:
    dot = filename.rfind(".")
    return EXTENSION_TYPES.get(filename[dot:].lower()) if dot >= 0 else None


def _looks_like_text(data: bytes) -> bool:
    sample = data[:TEXT_SAMPLE]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(sample) - 3  # a multi-byte character cut by the sample's end
    return True


def real_type(data: bytes, filename: str = "", declared: str | None = None) -> str | None:
    """What a file really is, from its bytes; the name and the declared type only pick a member of a container
    (a .docx is a zip) or confirm plain text, which has no magic bytes. None: not recognisable."""
    sniffed = sniff(data)
    candidates = [t for t in (_base(declared), _extension_type(filename)) if t]
    if sniffed is None:
        if "text/plain" in candidates and _looks_like_text(data):
            return "text/plain"
        return None
    if sniffed in CONTAINERS:
        return next((t for t in candidates if t != sniffed and compatible(t, sniffed)), sniffed)
    return sniffed


def codec(data: bytes, mime_type: str) -> str | None:
    """The audio codec inside an Ogg file (``opus`` or ``vorbis``), from its first page; None when unknown."""
    if _base(mime_type) != "audio/ogg":
        return None
    head = data[:512]
    if b"OpusHead" in head:
        return "opus"
    if b"\x01vorbis" in head:
        return "vorbis"
    return None


def is_animated(data: bytes, mime_type: str) -> bool:
    """Whether a WebP or GIF holds an animation (a VP8X header with the animation flag, or ANIM/several frames)."""
    base = _base(mime_type)
    if base == "image/webp":
        if data[12:16] == b"VP8X" and len(data) > 20:
            return bool(data[20] & 0x02)
        return b"ANIM" in data[:4096]
    if base == "image/gif":
        return data.count(b"\x21\xf9\x04") > 1
    return False
