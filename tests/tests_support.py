"""Small helpers shared by tests (not fixtures)."""
import io

from PIL import Image


def tiny_png(size=(40, 20), colour="#1f4e79"):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()
