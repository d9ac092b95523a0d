"""Uploaded images: verified by content, re-encoded without metadata, stored under random names."""
import hashlib
import io
import math
import os
import re
import secrets
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

from PIL import Image, ImageFile, UnidentifiedImageError

from .i18n import decimal_text, gettext as _

# Pillow names phone JPEGs that carry extra pictures (depth maps, previews) "MPO"; they are JPEGs.
ACCEPTED_FORMATS = ("PNG", "JPEG", "MPO")
PHOTO_LONG_SIDE = 1600
PHOTO_QUALITY = 85
EXIF_IFD = 0x8769
DATE_TIME_ORIGINAL = 0x9003
DATE_TIME = 0x0132
OFFSET_TIME_ORIGINAL = 0x9011  # "+02:00": the zone of DateTimeOriginal, where the camera wrote it
OFFSET_TIME = 0x9010
ORIENTATION = 0x0112
# How to turn each EXIF orientation upright: the table ImageOps.exif_transpose uses.
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# Serialises the checks below, which must change two process-wide settings for their duration.
_verifying = threading.Lock()


class ImageRejected(ValueError):
    """An upload that is not an acceptable image; the message is for the user."""


@dataclass(frozen=True)
class StoredPhoto:
    """A visit photo as stored: its file name under media_dir/photos and what we learnt from it."""

    file_name: str
    sha256: str
    width: int
    height: int
    captured_at: datetime | None  # the camera's clock, as written: local time, of no zone
    captured_offset: timedelta | None = None  # its zone's offset from UTC, when the camera wrote it


def _open_verified(data, max_pixels, long_side=None):
    """Open a PNG or JPEG checked by content, its size read from the header before any decoding.
    long_side: the largest side the caller keeps; a larger JPEG may be decoded already scaled down."""
    if not data:
        raise ImageRejected(_("The file is empty."))
    # Pillow's own bomb limit only warns below twice its value; we refuse everything it would warn
    # about, and compare against it ourselves in case code outside the lock resets the filters.
    pixel_limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    with _verifying:
        # WeasyPrint sets LOAD_TRUNCATED_IMAGES for the whole process when the reports import it;
        # with it on, Pillow pads a cut-off upload with grey and skips PNG checksums.
        load_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                return _decode_checked(data, pixel_limit, long_side)
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = load_truncated


def _decode_checked(data, pixel_limit, long_side):
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise ImageRejected(_("The file is not a PNG or JPEG image."))
            if probe.width * probe.height > pixel_limit:
                raise _too_many_pixels(pixel_limit)
            probe.verify()
        image = Image.open(io.BytesIO(data))
        if long_side and max(image.size) > long_side:
            # A phone's full-size JPEG (the form without JavaScript sends it as taken) is decoded at
            # 1/2, 1/4 or 1/8 of its size, never below what is kept (libjpeg's DCT scaling): every byte
            # is still read, so a truncated file still fails, in a third of the time. No-op for PNG.
            scale = max(image.size) / long_side
            image.draft(None, (math.ceil(image.width / scale), math.ceil(image.height / scale)))
        image.load()  # decodes every byte: a truncated file fails here
        return image
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(pixel_limit)
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError, ValueError):
        raise ImageRejected(_("The file is not a readable PNG or JPEG image."))


def _too_many_pixels(limit):
    """The refusal says the limit: "too many pixels" alone left an agency guessing how far to shrink
    its 9000 x 6000 logo."""
    return ImageRejected(_("The image has too many pixels (at most %(most)s million). Make it smaller and try again.",
                           most=decimal_text(limit / 1_000_000, places=1)))


def store_logo(data, media_dir, max_bytes, max_pixels):
    """Check and re-encode a logo as PNG; returns the stored file name (under media_dir/logos)."""
    if len(data) > max_bytes:
        raise ImageRejected(
            _("The logo is larger than %(size)d MB.", size=max_bytes // (1024 * 1024))
        )
    image = _open_verified(data, max_pixels)
    # Upright as its EXIF says, as photos are: a logo from a phone's camera came out on its side.
    image = _eight_bit(_upright(image, _read_exif(image)))
    image.thumbnail((800, 800))  # a logo never needs more; keeps reports light
    has_alpha = image.mode in ("RGBA", "LA") or "transparency" in image.info
    clean = image.convert("RGBA" if has_alpha else "RGB")
    folder = os.path.join(media_dir, "logos")
    os.makedirs(folder, exist_ok=True)
    name = secrets.token_hex(16) + ".png"
    # A fresh image with the pixels only: no EXIF, no text chunks survive.
    _fresh_copy(clean).save(os.path.join(folder, name), "PNG", optimize=True)
    return name


def store_photo(data, media_dir, max_bytes, max_pixels, taken=None):
    """Check a visit photo, turn it upright, strip all metadata and store it as JPEG (media_dir/photos).

    `taken`: (time, offset) as the phone read them from the camera's file before shrinking it (the
    shrunk copy, drawn on a canvas, has no EXIF of its own), in EXIF's own text ("2026:11:26 10:15:30",
    "+01:00"); used when the file itself says no time, read as the file's own would be, else ignored."""
    if len(data) > max_bytes:
        raise ImageRejected(
            _("The photo is larger than %(size)d MB.", size=max_bytes // (1024 * 1024))
        )
    image = _open_verified(data, max_pixels, PHOTO_LONG_SIDE)
    exif = _read_exif(image)
    # Read before the pixels are copied out: the copy carries no metadata at all.
    captured_at = _capture_time(exif)
    captured_offset = _capture_offset(exif) if captured_at else None
    if captured_at is None and taken:
        captured_at = _exif_time(taken[0])
        captured_offset = _exif_offset(taken[1]) if captured_at else None
    image = _upright(image, exif)
    image.thumbnail((PHOTO_LONG_SIDE, PHOTO_LONG_SIDE))  # the phone shrinks too; we do not trust it
    clean = _as_rgb(image)
    buffer = io.BytesIO()
    # A fresh image with the pixels only: no EXIF (GPS), XMP, ICC profile or comment survives.
    _fresh_copy(clean).save(buffer, "JPEG", quality=PHOTO_QUALITY, optimize=True)
    encoded = buffer.getvalue()
    folder = os.path.join(media_dir, "photos")
    os.makedirs(folder, exist_ok=True)
    name = secrets.token_hex(16) + ".jpg"
    path = os.path.join(folder, name)
    with open(path, "xb") as stored:  # "x": never overwrite another visit's evidence
        try:
            stored.write(encoded)
            stored.flush()
        except OSError:
            # A half-written photo (disk full) must not be left looking like evidence.
            os.remove(path)
            raise
    return StoredPhoto(
        file_name=name,
        sha256=hashlib.sha256(encoded).hexdigest(),
        width=clean.width,
        height=clean.height,
        captured_at=captured_at,
        captured_offset=captured_offset,
    )


def _fresh_copy(image):
    """A new image holding only `image`'s pixels: none of its metadata (info, EXIF, ICC profile).
    Pasted in place, where a round trip through bytes cost a quarter of storing a phone photo."""
    fresh = Image.new(image.mode, image.size)
    fresh.paste(image)
    return fresh


def _read_exif(image):
    """The image's EXIF, or None when it has none or it cannot be parsed (then it is simply ignored)."""
    try:
        exif = image.getexif()
    except (SyntaxError, ValueError, OSError, EOFError):
        return None
    return exif or None


def _upright(image, exif):
    """The picture turned as its EXIF orientation says, so it is stored the way it was seen."""
    # Not ImageOps.exif_transpose: it also rewrites the EXIF it carries along, which we drop anyway,
    # and that rewrite raises TypeError on some corrupt EXIF that still gives a valid orientation.
    orientation = exif.get(ORIENTATION) if exif is not None else None
    method = UPRIGHT.get(orientation) if isinstance(orientation, int) else None
    return image.transpose(method) if method is not None else image


def _capture_time(exif):
    """When the camera took the picture: DateTimeOriginal, else DateTime; None if absent or garbled."""
    if exif is None:
        return None
    try:
        candidates = [exif.get_ifd(EXIF_IFD).get(DATE_TIME_ORIGINAL), exif.get(DATE_TIME)]
    except (SyntaxError, ValueError, OSError, EOFError, KeyError, TypeError):
        candidates = [exif.get(DATE_TIME)]
    for value in candidates:
        moment = _exif_time(value)
        if moment is not None:
            return moment
    return None


def _exif_time(value):
    """An EXIF date and time ("2026:11:26 10:15:30", text or bytes) as a naive datetime, else None."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        return datetime.strptime(value.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def _capture_offset(exif):
    """The offset from UTC of the capture time's zone ("+02:00"), when the camera wrote it; else None."""
    try:
        ifd = exif.get_ifd(EXIF_IFD)
    except (SyntaxError, ValueError, OSError, EOFError, KeyError, TypeError):
        return None
    for tag in (OFFSET_TIME_ORIGINAL, OFFSET_TIME):
        offset = _exif_offset(ifd.get(tag))
        if offset is not None:
            return offset
    return None


def _exif_offset(value):
    """An EXIF offset from UTC ("+02:00", text or bytes) as a timedelta, else None."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    found = re.fullmatch(r"([+-])(\d{2}):(\d{2})", value.strip("\x00 "), re.ASCII) if isinstance(value, str) else None
    if found and int(found.group(2)) <= 14 and int(found.group(3)) < 60:
        offset = timedelta(hours=int(found.group(2)), minutes=int(found.group(3)))
        return -offset if found.group(1) == "-" else offset
    return None


def _as_rgb(image):
    """RGB pixels; transparent areas (screenshots, PNGs) become white rather than black."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return _eight_bit(image).convert("RGB")


def _eight_bit(image):
    """16-bit greyscale (scanners, design tools) scaled to 8 bits: a direct convert clips every value
    past 255 to white (a dark grey logo came out blank on the report's cover)."""
    if image.mode.startswith("I;16") or image.mode == "I":
        return image.point(lambda value: value / 256, "F").convert("L")
    return image


def send_photo(media_dir, file_name):
    """A stored visit photo as an answer: evidence only its visit's people may see, so kept by no
    shared cache on the way (a proxy), and shown again by the browser only once the app has said yes
    (a 304 when unchanged, cheap on a field connection). Kept an hour without asking, it was shown to
    whoever used the shared phone or computer next, signed out or signed in as someone else."""
    from flask import send_from_directory

    response = send_from_directory(os.path.join(media_dir, "photos"), file_name, max_age=0)
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response
