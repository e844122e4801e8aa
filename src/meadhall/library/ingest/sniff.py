"""What a file really is, from its first bytes — never from its name or a client's claim."""

from __future__ import annotations

from pathlib import Path

# Enough for every signature below, including an EBML header's DocType and MPO's APP2 marker.
SNIFF_BYTES = 4096

# ISO base media ("ftyp") brands, by what they announce.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2"})
_QUICKTIME_BRANDS = frozenset({b"qt  "})
_MP4_BRANDS = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso3",
        b"iso4",
        b"iso5",
        b"iso6",
        b"mp41",
        b"mp42",
        b"avc1",
        b"dash",
        b"M4V ",
        b"M4VH",
        b"M4VP",
        b"mmp4",
        b"MSNV",
        b"f4v ",
        b"3gp4",
        b"3gp5",
        b"3gp6",
        b"3g2a",
    }
)
# Old QuickTime files start straight with an atom instead of "ftyp".
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})

# The extension a stored file gets when its name has none.
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/tiff": "tif",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "video/x-matroska": "mkv",
}
SUPPORTED_TYPES = frozenset(EXTENSIONS)
# File name extensions worth reading when a folder is scanned (others are not even opened).
MEDIA_SUFFIXES = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".mpo",
        ".png",
        ".apng",
        ".gif",
        ".webp",
        ".avif",
        ".heic",
        ".heif",
        ".hif",
        ".tif",
        ".tiff",
        ".mp4",
        ".m4v",
        ".mov",
        ".qt",
        ".webm",
        ".mkv",
        ".3gp",
    }
)


def sniff_bytes(head: bytes) -> str | None:
    """The MIME type announced by ``head`` (a file's first bytes), or ``None`` if unsupported.

    MPO (a JPEG followed by more JPEGs) is a JPEG as far as storage and browsers go.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "image/tiff"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        # EBML: the DocType element names the flavour within the first few dozen bytes.
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _iso_media_type(head)
    if len(head) >= 8 and head[4:8] in _QUICKTIME_ATOMS:
        return "video/quicktime"
    return None


def _iso_media_type(head: bytes) -> str | None:
    box_size = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    end = min(len(head), box_size) if box_size >= 16 else min(len(head), 64)
    # Compatible brands follow the major brand and its 4-byte minor version.
    brands = {major} | {head[i : i + 4] for i in range(16, end - 3, 4)}
    if brands & _AVIF_BRANDS and (major in _AVIF_BRANDS or major in _HEIF_BRANDS):
        return "image/avif"
    if major in _HEIC_BRANDS or (major in _HEIF_BRANDS and brands & _HEIC_BRANDS):
        return "image/heic"
    if major in _HEIF_BRANDS:
        return "image/heif"
    if major in _QUICKTIME_BRANDS:
        return "video/quicktime"
    if major in _MP4_BRANDS:
        return "video/mp4"
    return None


def read_head(path: Path) -> bytes:
    """The first :data:`SNIFF_BYTES` of a file (blocking: call it in a thread)."""
    with path.open("rb") as handle:
        return handle.read(SNIFF_BYTES)


def sniff_file(path: Path) -> str | None:
    """:func:`sniff_bytes` of a file on disk (blocking: call it in a thread)."""
    return sniff_bytes(read_head(path))
