"""Perceptual hashes: near-identical pictures (resized, recompressed) get close hashes."""

from __future__ import annotations

import imagehash
from PIL import Image

_SIGN = 1 << 63


def to_signed(value: int) -> int:
    """An unsigned 64-bit value as the signed one PostgreSQL's ``bigint`` stores."""
    return value - (1 << 64) if value >= _SIGN else value


def to_unsigned(value: int) -> int:
    """The inverse of :func:`to_signed` (for Hamming distances)."""
    return value + (1 << 64) if value < 0 else value


def perceptual_hashes(image: Image.Image) -> tuple[int, int]:
    """``(phash, dhash)`` of ``image`` as signed 64-bit ints; the thumbnail is enough."""
    rgb = image.convert("RGB")
    phash = int(str(imagehash.phash(rgb)), 16)
    dhash = int(str(imagehash.dhash(rgb)), 16)
    return to_signed(phash), to_signed(dhash)


def distance(first: int, second: int) -> int:
    """How many of the 64 bits differ."""
    return (to_unsigned(first) ^ to_unsigned(second)).bit_count()
