"""Visit photos: only real PNG/JPEG pass, every byte of metadata is dropped, the picture stands upright."""
import hashlib
import io
import os
import re
import struct
import zlib
from datetime import datetime, timedelta

import pytest
from PIL import Image, ImageCms, ImageFile, ImageOps

from audit import create_app
from audit.media import ImageRejected, StoredPhoto, store_logo, store_photo

MB = 1024 * 1024
MAX_BYTES = 8 * MB
MAX_PIXELS = 40_000_000
MAX_MILLIONS = "40"  # as the refusal says it
NOT_READABLE = "The file is not a readable PNG or JPEG image."
TOO_MANY_PIXELS = "The image has too many pixels (at most %s million). Make it smaller and try again."


@pytest.fixture
def app(tmp_path):
    return create_app({
        "TESTING": True,
        "SECRET_KEY": "x",
        "DATABASE_URL": f"sqlite:///{tmp_path / 't.sqlite3'}",
        "MEDIA_DIR": str(tmp_path / "media"),
    })


@pytest.fixture
def media_dir(app):
    """The media folder, with a request context open so messages can be translated."""
    with app.test_request_context():
        yield app.config["MEDIA_DIR"]


def _photos(media_dir):
    folder = os.path.join(media_dir, "photos")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def _encode(image, fmt="JPEG", **params):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _phone_jpeg(size=(400, 300)):
    """A sideways phone picture: camera, GPS, dates, XMP, ICC and a comment; red mark top left."""
    image = Image.new("RGB", size, (30, 90, 200))
    image.paste((255, 0, 0), (0, 0, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0110] = "Spy 3000"  # Model
    exif[0x0112] = 6  # Orientation: turn 90° clockwise to view
    exif[0x0132] = "2023:01:01 00:00:00"  # DateTime: when edited, not taken
    exif.get_ifd(0x8769)[0x9003] = "2024:05:17 14:32:09"  # DateTimeOriginal
    exif.get_ifd(0x8825).update({1: "N", 2: (47.0, 29.0, 31.5), 3: "E", 4: (19.0, 2.0, 24.0)})
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    return _encode(image, exif=exif, icc_profile=icc, xmp=xmp, comment=b"shot at the back door")


def _png_header(width, height):
    """A PNG that only claims a size: a bomb costs its attacker a few bytes."""

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b""))


def _jpeg_claiming(width, height):
    """A real small JPEG whose frame header is rewritten to claim another size."""
    data = bytearray(_encode(Image.new("RGB", (16, 16), "white")))
    frame = data.index(b"\xff\xc0")
    data[frame + 5:frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def test_phone_photo_loses_all_metadata_and_stands_upright(media_dir):
    data = _phone_jpeg()
    with Image.open(io.BytesIO(data)) as source:  # the test photo really carries what we strip
        assert source.getexif().get_ifd(0x8825)[2] == (47.0, 29.0, 31.5)
        assert "icc_profile" in source.info and "xmp" in source.info and "comment" in source.info

    photo = store_photo(data, media_dir, MAX_BYTES, MAX_PIXELS)

    assert isinstance(photo, StoredPhoto)
    assert (photo.width, photo.height) == (300, 400)
    assert photo.captured_at == datetime(2024, 5, 17, 14, 32, 9)
    assert _photos(media_dir) == [photo.file_name]
    path = os.path.join(media_dir, "photos", photo.file_name)
    with open(path, "rb") as stored_file:
        raw = stored_file.read()
    for trace in (b"Exif", b"GPS", b"SecretCam", b"Spy 3000", b"2024:05:17", b"ICC_PROFILE",
                  b"adobe", b"xmpmeta", b"back door"):
        assert trace not in raw
    with Image.open(path) as stored:
        assert stored.format == "JPEG" and stored.mode == "RGB"
        assert stored.size == (300, 400)
        assert not stored.getexif()
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(stored.info)
        red, green, blue = stored.getpixel((280, 20))  # the mark turned with the picture to top right
        assert red > 200 and green < 60 and blue < 60
        assert stored.getpixel((20, 20))[2] > 150


@pytest.mark.parametrize(
    "tags,expected",
    [
        ({0x0132: "2022:11:03 08:15:00"}, datetime(2022, 11, 3, 8, 15)),
        ({"original": "not a date", 0x0132: "2022:11:03 08:15:00"}, datetime(2022, 11, 3, 8, 15)),
        ({"original": "2024:13:45 99:00:00"}, None),
        ({0x0132: "    :  :     :  :  "}, None),
        ({}, None),
    ],
    ids=["datetime-fallback", "garbled-original-falls-back", "impossible-date", "blank-date", "no-exif"],
)
def test_capture_time_is_read_when_it_can_be(media_dir, tags, expected):
    exif = Image.Exif()
    for tag, value in tags.items():
        if tag == "original":
            exif.get_ifd(0x8769)[0x9003] = value
        else:
            exif[tag] = value
    data = _encode(Image.new("RGB", (64, 48), "grey"), exif=exif)
    photo = store_photo(data, media_dir, MAX_BYTES, MAX_PIXELS)
    assert photo.captured_at == expected
    assert (photo.width, photo.height) == (64, 48)


@pytest.mark.parametrize(
    "own,taken,expected",
    [
        ({}, ("2026:11:26 10:15:30", "+01:00"), (datetime(2026, 11, 26, 10, 15, 30), timedelta(hours=1))),
        ({}, ("2026:11:26 10:15:30", ""), (datetime(2026, 11, 26, 10, 15, 30), None)),
        ({}, ("2026:11:26 10:15:30", "+99:00"), (datetime(2026, 11, 26, 10, 15, 30), None)),
        ({}, ("yesterday", "+01:00"), (None, None)),
        ({}, ("2026:11:26 10:15:30" * 5, "+01:00"), (None, None)),
        ({}, ("", ""), (None, None)),
        ({0x0132: "2022:11:03 08:15:00"}, ("2026:11:26 10:15:30", "+01:00"), (datetime(2022, 11, 3, 8, 15), None)),
    ],
    ids=["phone-read-with-offset", "phone-read-without-offset", "offset-out-of-range", "garbled", "too-long",
         "none-read", "the-files-own-time-wins"],
)
def test_a_capture_time_read_by_the_phone_is_used_when_the_shrunk_file_has_none(media_dir, own, taken, expected):
    """The phone shrinks a photo on a canvas, which drops its EXIF: it sends the camera's time as it read
    it before, in EXIF's own text, and that is read as the file's own time would be."""
    exif = Image.Exif()
    for tag, value in own.items():
        exif[tag] = value
    data = _encode(Image.new("RGB", (64, 48), "grey"), exif=exif)
    photo = store_photo(data, media_dir, MAX_BYTES, MAX_PIXELS, taken)
    assert (photo.captured_at, photo.captured_offset) == expected


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_turned_upright(media_dir, orientation):
    image = Image.new("RGB", (90, 60), "white")
    image.paste((255, 0, 0), (0, 0, 30, 20))
    image.paste((0, 0, 255), (60, 40, 90, 60))
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _encode(image, "PNG", exif=exif)  # lossless, so pixels can be compared
    with Image.open(io.BytesIO(data)) as source:
        expected = ImageOps.exif_transpose(source)
    photo = store_photo(data, media_dir, MAX_BYTES, MAX_PIXELS)
    assert (photo.width, photo.height) == expected.size
    with Image.open(os.path.join(media_dir, "photos", photo.file_name)) as stored:
        for corner in [(5, 5), (expected.width - 5, 5), (5, expected.height - 5),
                       (expected.width - 5, expected.height - 5)]:
            assert all(abs(a - b) < 40 for a, b in zip(stored.getpixel(corner), expected.getpixel(corner)))


def test_large_photo_is_shrunk_to_1600_on_the_long_side(media_dir):
    data = _encode(Image.new("RGB", (4000, 3000), "olive"), quality=50)
    photo = store_photo(data, media_dir, MAX_BYTES, MAX_PIXELS)
    assert (photo.width, photo.height) == (1600, 1200)
    with Image.open(os.path.join(media_dir, "photos", photo.file_name)) as stored:
        assert stored.size == (1600, 1200)



def test_full_size_phone_photo_is_stored_upright_at_1600_and_refused_when_cut_short(media_dir):
    """A photo as the camera took it (the form without JavaScript sends it so): 4000 x 3000, sideways,
    with GPS. A JPEG this large is decoded already scaled down; the stored photo is the same as ever
    (upright, 1600 px, no metadata), and the same file cut short is still refused."""
    image = Image.new("RGB", (4000, 3000), (30, 90, 200))
    image.paste((255, 0, 0), (0, 0, 400, 400))
    exif = Image.Exif()
    exif[0x0112] = 6  # turn 90° clockwise to view
    exif.get_ifd(0x8825).update({1: "N", 2: (47.0, 29.0, 31.5)})
    data = _encode(image, exif=exif, quality=80)

    photo = store_photo(data, media_dir, MAX_BYTES, MAX_PIXELS)

    assert (photo.width, photo.height) == (1200, 1600)
    with Image.open(os.path.join(media_dir, "photos", photo.file_name)) as stored:
        assert stored.size == (1200, 1600) and not stored.getexif()
        red, green, blue = stored.getpixel((1200 - 60, 60))  # the mark turned with it to top right
        assert red > 200 and green < 60 and blue < 60
        assert stored.getpixel((60, 60))[2] > 150
    detailed = _encode(Image.effect_noise((4000, 3000), 80).convert("RGB"))
    with pytest.raises(ImageRejected, match="not a readable"):
        store_photo(detailed[: len(detailed) // 2], media_dir, MAX_BYTES, MAX_PIXELS)
    assert _photos(media_dir) == [photo.file_name]

def test_png_becomes_a_jpeg_with_transparency_turned_white(media_dir):
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    image.paste((0, 128, 0, 255), (100, 0, 200, 100))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    data = _encode(image, "PNG", exif=exif)

    photo = store_photo(data, media_dir, MAX_BYTES, MAX_PIXELS)

    assert photo.file_name.endswith(".jpg")
    path = os.path.join(media_dir, "photos", photo.file_name)
    with Image.open(path) as stored:
        assert stored.format == "JPEG" and stored.mode == "RGB" and stored.size == (200, 100)
        assert all(channel > 240 for channel in stored.getpixel((20, 50)))
        assert stored.getpixel((180, 50))[1] > 100
        assert not stored.getexif()
    with open(path, "rb") as stored_file:
        assert b"SecretCam" not in stored_file.read()


def test_multi_picture_jpeg_from_a_phone_is_accepted(media_dir):
    frames = [Image.new("RGB", (120, 90), "navy"), Image.new("RGB", (120, 90), "black")]
    data = _encode(frames[0], "MPO", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    photo = store_photo(data, media_dir, MAX_BYTES, MAX_PIXELS)
    assert (photo.width, photo.height) == (120, 90)


def _truncated(fmt):
    data = _encode(Image.effect_noise((600, 400), 80).convert("RGB"), fmt)
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    "make_data,max_bytes,max_pixels,message",
    [
        pytest.param(lambda: b"", MAX_BYTES, MAX_PIXELS, "The file is empty.", id="empty"),
        pytest.param(lambda: b"just some notes about the visit\n", MAX_BYTES, MAX_PIXELS, NOT_READABLE,
                     id="plain-text"),
        pytest.param(lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", MAX_BYTES, MAX_PIXELS,
                     NOT_READABLE, id="pdf-named-jpg"),
        pytest.param(lambda: _truncated("JPEG"), MAX_BYTES, MAX_PIXELS, NOT_READABLE, id="truncated-jpeg"),
        pytest.param(lambda: _truncated("PNG"), MAX_BYTES, MAX_PIXELS, NOT_READABLE, id="truncated-png"),
        pytest.param(lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                     MAX_BYTES, MAX_PIXELS, NOT_READABLE, id="svg-with-script"),
        pytest.param(lambda: _encode(Image.new("RGB", (50, 50), "red"), "GIF"), MAX_BYTES, MAX_PIXELS,
                     "The file is not a PNG or JPEG image.", id="gif"),
        pytest.param(lambda: _png_header(50_000, 50_000), MAX_BYTES, MAX_PIXELS, TOO_MANY_PIXELS % MAX_MILLIONS,
                     id="png-bomb"),
        pytest.param(lambda: _jpeg_claiming(60_000, 60_000), MAX_BYTES, MAX_PIXELS, TOO_MANY_PIXELS % MAX_MILLIONS,
                     id="jpeg-bomb"),
        # Over our own limit but under Pillow's: our header check must catch it.
        pytest.param(lambda: _encode(Image.new("RGB", (2000, 1000), "red")), MAX_BYTES, 1_000_000,
                     TOO_MANY_PIXELS % "1", id="over-max-pixels"),
        # Under a (too generous) max_pixels but in Pillow's warning zone: still refused.
        pytest.param(lambda: _png_header(10_000, 10_000), MAX_BYTES, 500_000_000,
                     TOO_MANY_PIXELS % "89.5", id="pillow-bomb-warning"),  # Pillow's own limit, the lower
        pytest.param(lambda: b"\xff\xd8" + b"\x00" * (2 * MB), 2 * MB, MAX_PIXELS,
                     "The photo is larger than 2 MB.", id="over-max-bytes"),
    ],
)
def test_bad_photo_is_refused_and_nothing_is_stored(media_dir, make_data, max_bytes, max_pixels, message):
    with pytest.raises(ImageRejected) as refused:
        store_photo(make_data(), media_dir, max_bytes, max_pixels)
    assert str(refused.value) == message
    assert _photos(media_dir) == []


def test_refusal_is_told_in_the_users_language(app):
    with app.test_request_context(headers={"Accept-Language": "hu"}):
        with pytest.raises(ImageRejected) as refused:
            store_photo(b"not an image", app.config["MEDIA_DIR"], MAX_BYTES, MAX_PIXELS)
    assert str(refused.value) == "A fájl nem olvasható PNG- vagy JPEG-kép."


def test_same_photo_twice_has_one_fingerprint_and_two_files(media_dir):
    data = _phone_jpeg()
    first = store_photo(data, media_dir, MAX_BYTES, MAX_PIXELS)
    second = store_photo(data, media_dir, MAX_BYTES, MAX_PIXELS)
    assert first.sha256 == second.sha256
    assert first.file_name != second.file_name
    assert _photos(media_dir) == sorted([first.file_name, second.file_name])
    with open(os.path.join(media_dir, "photos", first.file_name), "rb") as stored_file:
        assert hashlib.sha256(stored_file.read()).hexdigest() == first.sha256


def test_truncated_upload_is_refused_although_weasyprint_allows_truncated_images(app, media_dir):
    # Importing the PDF reports (WeasyPrint) switches Pillow's truncated-image tolerance on for the
    # whole process; uploads must be checked strictly all the same, and the setting left as found.
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    with pytest.raises(ImageRejected, match="not a readable"):
        store_photo(_truncated("JPEG"), media_dir, MAX_BYTES, MAX_PIXELS)
    with pytest.raises(ImageRejected, match="not a readable"):
        store_logo(_truncated("JPEG"), media_dir, MAX_BYTES, MAX_PIXELS)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    assert _photos(media_dir) == []


def test_bomb_check_leaves_the_warning_filters_as_they_were(media_dir):
    import warnings

    before = list(warnings.filters)
    with pytest.raises(ImageRejected):
        store_photo(_png_header(10_000, 10_000), media_dir, MAX_BYTES, 500_000_000)
    assert warnings.filters == before


def test_logos_share_the_checks_and_still_become_png(media_dir):
    name = store_logo(_phone_jpeg(), media_dir, MAX_BYTES, MAX_PIXELS)
    with Image.open(os.path.join(media_dir, "logos", name)) as stored:
        assert stored.format == "PNG" and not stored.getexif()
    with pytest.raises(ImageRejected, match=re.escape(TOO_MANY_PIXELS % MAX_MILLIONS)):
        store_logo(_png_header(50_000, 50_000), media_dir, MAX_BYTES, MAX_PIXELS)



def test_a_logo_stands_upright_and_a_16_bit_grey_one_keeps_its_shades(media_dir):
    """A logo from a phone's camera came out on its side; a 16-bit greyscale PNG came out all white,
    and the report's cover showed no logo."""
    name = store_logo(_phone_jpeg(size=(400, 300)), media_dir, MAX_BYTES, MAX_PIXELS)
    with Image.open(os.path.join(media_dir, "logos", name)) as stored:
        assert stored.size == (300, 400)  # turned as the camera said
        red = stored.convert("RGB").getpixel((stored.width - 10, 10))  # the red mark, now top right
        assert red[0] > 200 and red[1] < 60, red
    # A quarter of the way to white on the left half, three quarters on the right.
    shades = b"".join(struct.pack("<H", 0x4000 if x < 60 else 0xC000) for _y in range(60) for x in range(120))
    grey = Image.frombytes("I;16", (120, 60), shades)
    buffer = io.BytesIO()
    grey.save(buffer, "PNG")
    name = store_logo(buffer.getvalue(), media_dir, MAX_BYTES, MAX_PIXELS)
    with Image.open(os.path.join(media_dir, "logos", name)) as stored:
        pixels = stored.convert("L")
        assert abs(pixels.getpixel((10, 10)) - 64) <= 1 and abs(pixels.getpixel((100, 10)) - 192) <= 1
