"""Uploaded images: verified by content, re-encoded without metadata, stored under random names."""
import io
import os
import secrets

from PIL import Image, UnidentifiedImageError

from .i18n import gettext as _


class ImageRejected(ValueError):
    """An upload that is not an acceptable image; the message is for the user."""


def _open_verified(data, max_pixels):
    if not data:
        raise ImageRejected(_("The file is empty."))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ("PNG", "JPEG"):
                raise ImageRejected(_("The file is not a PNG or JPEG image."))
            if probe.width * probe.height > max_pixels:
                raise ImageRejected(_("The image has too many pixels."))
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()  # decodes every byte: a truncated file fails here
        return image
    except ImageRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ImageRejected(_("The file is not a readable PNG or JPEG image."))


def store_logo(data, media_dir, max_bytes, max_pixels):
    """Check and re-encode a logo as PNG; returns the stored file name (under media_dir/logos)."""
    if len(data) > max_bytes:
        raise ImageRejected(
            _("The logo is larger than %(size)d MB.", size=max_bytes // (1024 * 1024))
        )
    image = _open_verified(data, max_pixels)
    image.thumbnail((800, 800))  # a logo never needs more; keeps reports light
    has_alpha = image.mode in ("RGBA", "LA") or "transparency" in image.info
    clean = image.convert("RGBA" if has_alpha else "RGB")
    folder = os.path.join(media_dir, "logos")
    os.makedirs(folder, exist_ok=True)
    name = secrets.token_hex(16) + ".png"
    # A fresh image from the pixels only: no EXIF, no text chunks survive.
    Image.frombytes(clean.mode, clean.size, clean.tobytes()).save(
        os.path.join(folder, name), "PNG", optimize=True
    )
    return name
