"""Photos from the field: proof that the bytes are an image, where and when the camera says it was taken (EXIF),
and a small JPEG preview. Pillow does the decoding; a photo whose EXIF is broken is still a photo (the position and
time are left empty), a file that is not an image is refused with the reason.
"""

from __future__ import annotations

import io
import math
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from core.errors import InvalidInput

THUMBNAIL_PX = 320
MAX_PIXELS = 64_000_000  # a decompression bomb is refused before it is decoded (phones take up to ~50 MP)
# MPO: the multi-picture JPEG some phones write (the first picture is the photo).
IMAGE_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
DOCUMENT_TYPES = {"application/pdf"}
# One photo decoded at a time per process: a 50 MP photo takes ~150 MB while its preview is made.
_DECODING = threading.Semaphore(1)


def check_document(data: bytes, filename: str) -> None:
    """A document is a PDF (the only kind served as what it says it is, besides images)."""
    if not data.startswith(b"%PDF-"):
        raise InvalidInput(f"{filename} is not a PDF document", "file")


@dataclass(frozen=True)
class Photo:
    media_type: str
    width: int
    height: int
    position: tuple[float, float] | None  # lon, lat (WGS 84) from the EXIF GPS tags
    taken_at: datetime | None  # the camera's clock (local time: no zone in EXIF 2.2)
    thumbnail: bytes  # JPEG, at most THUMBNAIL_PX on its longer side


def inspect(data: bytes, filename: str) -> Photo:
    """The photo in ``data``; InvalidInput when it is no image Pillow can read."""
    with _DECODING:
        return _inspect(data, filename)


def _inspect(data: bytes, filename: str) -> Photo:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image.verify()  # the whole file, not only its header
            image = Image.open(io.BytesIO(data))
            kind = IMAGE_TYPES.get(image.format or "")
            if kind is None:
                raise InvalidInput(f"{filename} is a {image.format} image; photos are JPEG, PNG, WebP or GIF", "file")
            width, height = image.size
            if image.width * image.height > MAX_PIXELS:
                raise InvalidInput(f"{filename} has {image.width} × {image.height} pixels, more than a photo", "file")
            position, taken = _exif(image)
            return Photo(kind, width, height, position, taken, _thumbnail(image))
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise InvalidInput(f"{filename} is not an image (JPEG, PNG, WebP or GIF) that can be opened", "file") from exc
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt image data
        raise InvalidInput(f"{filename} is damaged: the image cannot be read ({exc})", "file") from exc


def _thumbnail(image: Image.Image) -> bytes:
    """The preview, made in place: a JPEG is decoded at a fraction of its size (draft), nothing is copied whole."""
    image.draft("RGB", (THUMBNAIL_PX * 2, THUMBNAIL_PX * 2))
    image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX), reducing_gap=2.0)
    try:
        small = ImageOps.exif_transpose(image)  # upright, as the camera held it
    except Exception:  # broken EXIF: the photo as stored
        small = image
    if small.mode not in ("RGB", "L"):
        small = small.convert("RGB")
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def _exif(image: Image.Image) -> tuple[tuple[float, float] | None, datetime | None]:
    """Position and time from the EXIF tags, or None for each that is missing or malformed."""
    try:
        exif = image.getexif()
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        detail = exif.get_ifd(ExifTags.IFD.Exif)
    except Exception:  # Pillow raises many kinds on broken EXIF; the photo itself is fine
        return None, None
    return _position(gps), _time(detail.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime))


def _position(gps: dict[int, Any]) -> tuple[float, float] | None:
    try:
        lat = _degrees(gps[ExifTags.GPS.GPSLatitude], gps.get(ExifTags.GPS.GPSLatitudeRef, "N"), "S")
        lon = _degrees(gps[ExifTags.GPS.GPSLongitude], gps.get(ExifTags.GPS.GPSLongitudeRef, "E"), "W")
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:  # cameras write zeros when they had no fix
        return None
    return round(lon, 7), round(lat, 7)


def _degrees(value: Any, ref: Any, negative: str) -> float:
    d, m, s = (float(part) for part in value)
    ref = ref.decode() if isinstance(ref, bytes) else str(ref)
    degrees = d + m / 60 + s / 3600
    return -degrees if ref.strip().upper() == negative else degrees


def _time(value: Any) -> datetime | None:
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    try:
        return datetime.strptime(str(value).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except (TypeError, ValueError):
        return None
