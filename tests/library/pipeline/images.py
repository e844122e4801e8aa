"""Image files made in the tests: every format, EXIF of every kind, broken and hostile files."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime
from fractions import Fraction
from typing import Any

import pillow_heif
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

pillow_heif.register_heif_opener()

RED = (230, 20, 20)
BLUE = (20, 40, 220)

# EXIF tags used below.
MAKE, MODEL, ORIENTATION = 0x010F, 0x0110, 0x0112
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
EXPOSURE_TIME, F_NUMBER, ISO = 0x829A, 0x829D, 0x8827
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL, FOCAL_LENGTH, LENS_MODEL = 0x9003, 0x9011, 0x920A, 0xA434


def picture(width: int = 640, height: int = 480, *, seed: int = 0) -> Image.Image:
    """A blue picture with a red square marking its top-left corner and a few stripes."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 4, height // 4))
    for x in range(width // 2, width, 16):
        image.paste((255, 255, (seed * 37) % 256), (x, height // 2, x + 4, height))
    return image


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def animated_gif(frames: int = 4, size: int = 300) -> bytes:
    pictures = [
        Image.new("RGB", (size, size), ((60 * i) % 256, 100, 200 - 40 * i)) for i in range(frames)
    ]
    out = io.BytesIO()
    pictures[0].save(out, "GIF", save_all=True, append_images=pictures[1:], duration=120, loop=0)
    return out.getvalue()


def mpo(width: int = 640, height: int = 480) -> bytes:
    """A multi-picture (stereo) file as cameras write it: two JPEGs in one."""
    out = io.BytesIO()
    left, right = picture(width, height), picture(width, height, seed=3)
    left.save(out, "MPO", save_all=True, append_images=[right])
    return out.getvalue()


# What each EXIF orientation does to the stored pixels; the inverse rebuilds the stored image
# from the picture as it should be displayed.
INVERSE = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def oriented_jpeg(orientation: int, displayed: Image.Image) -> bytes:
    """A JPEG whose pixels, turned by its EXIF ``orientation``, show ``displayed``."""
    method = INVERSE[orientation]
    stored = displayed if method is None else displayed.transpose(method)
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return encode(stored, "JPEG", quality=95, exif=exif)


def rational(value: float | Fraction) -> IFDRational:
    fraction = Fraction(value).limit_denominator(100_000)
    return IFDRational(fraction.numerator, fraction.denominator)


def dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return rational(degrees), rational(minutes), rational(round(seconds, 4))


def camera_jpeg(
    *,
    taken: datetime | None = None,
    offset: str | None = None,
    gps: tuple[float, float] | None = None,
    altitude: float | None = None,
    camera: bool = True,
    image: Image.Image | None = None,
) -> bytes:
    """A JPEG with the EXIF a camera writes (each part optional)."""
    exif = Image.Exif()
    details = exif.get_ifd(EXIF_IFD)
    if camera:
        exif[MAKE] = "Fujifilm"
        exif[MODEL] = "X-T5"
        details[LENS_MODEL] = "XF16-55mmF2.8 R LM WR"
        details[ISO] = 400
        details[F_NUMBER] = rational(2.8)
        details[EXPOSURE_TIME] = rational(Fraction(1, 250))
        details[FOCAL_LENGTH] = rational(23)
    if taken is not None:
        details[DATETIME_ORIGINAL] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if offset is not None:
        details[OFFSET_TIME_ORIGINAL] = offset
    if gps is not None:
        latitude, longitude = gps
        block = exif.get_ifd(GPS_IFD)
        block[1] = "N" if latitude >= 0 else "S"
        block[2] = dms(latitude)
        block[3] = "E" if longitude >= 0 else "W"
        block[4] = dms(longitude)
        if altitude is not None:
            block[5] = b"\x00"
            block[6] = rational(altitude)
    return encode(image or picture(), "JPEG", quality=90, exif=exif)


def garbled_exif_jpeg() -> bytes:
    """EXIF whose values are the wrong types, impossible or nonsense."""
    exif = Image.Exif()
    exif[MAKE] = b"\xff\xfe\x00"
    exif[MODEL] = 12345
    exif[ORIENTATION] = 42
    details = exif.get_ifd(EXIF_IFD)
    details[F_NUMBER] = rational(0)
    details[ISO] = 0
    details[DATETIME_ORIGINAL] = "yesterday-ish"
    details[OFFSET_TIME_ORIGINAL] = "+99:99"
    gps = exif.get_ifd(GPS_IFD)
    gps[2] = (rational(500), rational(0), rational(0))
    gps[4] = (rational(2), rational(1))
    return encode(picture(), "JPEG", quality=90, exif=exif)


def exif_garbage_block_jpeg() -> bytes:
    """A JPEG whose EXIF segment is random bytes after a valid header."""
    return encode(
        picture(), "JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff" + b"\x13" * 60
    )


def truncated_jpeg() -> bytes:
    data = encode(picture(800, 600), "JPEG", quality=95)
    return data[: len(data) // 2]


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def mp4_head() -> bytes:
    """The start of an MP4 file (an ``ftyp`` box and an empty ``mdat``)."""
    ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 512) + b"isomiso2"
    return ftyp + struct.pack(">I", 8) + b"mdat"
