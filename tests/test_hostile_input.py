"""Hostile input to the sync API: random and mutated submissions, broken images, and a schemathesis run
against our own OpenAPI document. Whatever arrives, the answer is never a 5xx, a refusal names what was
wrong, and a refused request stores nothing."""
import functools
import io
import json
import os
import struct
import time
import zlib
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis.control import currently_in_test_context
from hypothesis import strategies as st
from PIL import Image

from audit.db import database
from audit.demo import best_answers
from audit.models import Answer, Evidence, Visit
from audit.operations import publish_checklist
from conftest import csrf_from
from tests_support import retail_checklist

API = "/api/v1/visits"
SUBMISSION_FIELDS = ("answers", "comments", "photos", "started_at", "ended_at", "location")
# Function-scoped fixtures (app, signed-in client) are shared by all examples on purpose: each example
# leaves the database as it found it, or the test makes a fresh visit before the next one.
HOSTILE = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))



def _items(content):
    for section in content["sections"]:
        yield from section["items"]


def _valid_body(content):
    """A submission the API accepts: the best answer to every item, with a time and a place."""
    return {"answers": best_answers(content), "comments": {}, "photos": {}, "started_at": "2026-11-25T10:30:00Z",
            "ended_at": "2026-11-25T11:00:00+02:00", "location": {"lat": 47.4936, "lon": 19.0530}}


def _new_visit(app, org):
    with app.app_context(), database.connection_context():
        version, _created = publish_checklist(*retail_checklist())
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today() + timedelta(days=5),
                             state="assigned")
    return str(visit.uuid)


def _stored(app, visit_uuid):
    """(state, submission hash, answer rows, evidence rows) of a visit as the database holds them now."""
    with app.app_context(), database.connection_context():
        visit = Visit.get(Visit.uuid == visit_uuid)
        answers = Answer.select().where(Answer.visit == visit).count()
        evidence = Evidence.select().where(Evidence.visit == visit).count()
    return visit.state, visit.submission_hash, answers, evidence


def _photo_files(app):
    folder = os.path.join(app.config["MEDIA_DIR"], "photos")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


class Shopper:
    """A signed-in shopper's client with the CSRF token of a page fetched after signing in."""

    def __init__(self, client):
        self.client = client
        self.token = csrf_from(client.get("/visits/"))

    def post_json(self, visit_uuid, body=None, raw=None):
        url = f"{API}/{visit_uuid}/submission"
        headers = {"X-CSRFToken": self.token}
        if raw is not None:
            return self.client.post(url, data=raw, content_type="application/json", headers=headers)
        return self.client.post(url, json=body, headers=headers)

    def upload(self, visit_uuid, data, client_id="ph-1", item_id="shop_front", file_name="photo.jpg"):
        form = {"client_id": client_id, "item_id": item_id, "file": (io.BytesIO(data), file_name)}
        return self.client.post(f"{API}/{visit_uuid}/photos", data=form, content_type="multipart/form-data",
                                headers={"X-CSRFToken": self.token})


@pytest.fixture
def shopper(login_as):
    return Shopper(login_as("shopper"))


# -- hostile values ---------------------------------------------------------------------------------

NASTY_STRINGS = [
    "", " ", "na", "NA", "yes ", "YES", "NaN", "nan", "Infinity", "-Infinity", "1e999", "-0", "0x10", "1_000",
    "\x00", "yes\x00", "\ud800", "\udfff", "a\ud83d", "\u202eon\u202c", "ｙｅｓ", "𝔂𝓮𝓼", "Ω≈ç√∫", "🙂" * 50,
    "'; DROP TABLE answer; --", "<script>alert(1)</script>", "{{7*7}}", "%(item)s", "../../etc/passwd",
    "2026-02-30T10:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-11-25T10:30:00",
    "x" * 4001, "y" * 70_000,
]
nasty_text = st.sampled_from(NASTY_STRINGS) | st.text(max_size=30) | st.text(
    alphabet=st.characters(codec=None, categories=None), max_size=10)  # includes lone surrogates and NUL
numbers = (st.integers() | st.sampled_from([2**31, 2**63, 2**64 + 1, -(2**63) - 1, 10**300, -1, 0])
           | st.floats(allow_nan=True, allow_infinity=True))
scalars = st.none() | st.booleans() | numbers | nasty_text
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(nasty_text, inner, max_size=4), max_leaves=8)


def _paths(body):
    """Where a mutation can land: top-level keys, and one level into the maps and the location."""
    yield ()
    for key, value in body.items():
        yield (key,)
        if isinstance(value, dict):
            for inner in list(value)[:40]:
                yield (key, inner)


@st.composite
def mutated_bodies(draw, content):
    body = json.loads(json.dumps(_valid_body(content)))
    item_ids = [item["id"] for item in _items(content)]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["replace", "delete", "add_key", "add_item", "wrap"]))
        path = draw(st.sampled_from(list(_paths(body))))
        parent = body
        for part in path[:-1]:
            parent = parent[part]
        if kind == "add_key" or not path:
            target = parent[path[-1]] if path and isinstance(parent.get(path[-1]), dict) else body
            target[draw(nasty_text | st.sampled_from(SUBMISSION_FIELDS))] = draw(json_values)
        elif kind == "add_item":
            field = draw(st.sampled_from(["answers", "comments", "photos"]))
            if not isinstance(body.get(field), dict):
                body[field] = {}
            body[field][draw(st.sampled_from(item_ids) | nasty_text)] = draw(json_values)
        elif kind == "delete":
            parent.pop(path[-1], None)
        elif kind == "wrap":  # the right value in the wrong shape: a list, an object, a string
            value = parent[path[-1]]
            parent[path[-1]] = draw(st.sampled_from([[value], {"value": value}, json.dumps(value)]))
        else:
            parent[path[-1]] = draw(json_values)
    return body


random_bodies = st.fixed_dictionaries({}, optional={field: json_values for field in SUBMISSION_FIELDS})

# JSON that the standard library parses into values json.dumps would never write.
RAW_BODIES = [
    b'{"answers": {"greeted": NaN}}', b'{"answers": {"first_impression": 1e999}}',
    b'{"answers": {"times_repeated": -Infinity}}', b'{"location": {"lat": NaN, "lon": NaN}}',
    b'{"location": {"lat": 1e999, "lon": -1e999}}',
    b'{"answers": {"times_repeated": ' + b"9" * 5000 + b"}}",  # past Python's int-string limit
    b'{"answers": {"greeted": "yes"}, "answers": []}', b'{"answers": {"greeted": "\\ud800"}}',
    b'{"comments": {"greeted": "\\u0000"}}', b'{"answers": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b"[]", b"null", b'"answers"', b"{", b"\xff\xfe{}", b"", b'{"answers": {}}' + b" " * (1024 * 1024),
]


def _assert_refusal_names_a_field(response, sent):
    assert response.status_code in (400, 413, 422), (response.status_code, response.data[:300])
    assert response.is_json, response.data[:300]
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    if response.status_code == 422:
        assert error["fields"], error
        for field in error["fields"]:
            assert field.split(".")[0] in SUBMISSION_FIELDS, error
    elif response.status_code == 400:  # only for a body that is not a JSON object
        assert not isinstance(sent, dict) and error["code"] == "not_json", error


class Submissions:
    """Posts one hostile submission and checks the answer; an accepted one moves to a fresh visit."""

    def __init__(self, app, org, shopper):
        self.app, self.org, self.shopper = app, org, shopper
        self.visit = _new_visit(app, org)
        self.counts = {}

    def send(self, body=None, raw=None):
        response = self.shopper.post_json(self.visit, body=body, raw=raw)
        self.counts[response.status_code] = self.counts.get(response.status_code, 0) + 1
        if currently_in_test_context():
            note(f"status {response.status_code}: {response.data[:500]!r}")
        if response.status_code in (200, 201):
            assert response.get_json()["status"] in ("received", "already_received")
            state, digest, _answers, _evidence = _stored(self.app, self.visit)
            assert state == "submitted" and digest
            self.visit = _new_visit(self.app, self.org)
            return response
        sent = json.loads(raw) if raw is not None and _parses(raw) else body
        _assert_refusal_names_a_field(response, sent)
        assert _stored(self.app, self.visit) == ("assigned", None, 0, 0)
        return response


def _parses(raw):
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return True


def test_random_submissions_never_fail_and_store_nothing_when_refused(app, org, shopper):
    submissions = Submissions(app, org, shopper)

    @HOSTILE
    @given(body=random_bodies | json_values)
    def check(body):
        submissions.send(body)

    check()
    print(f"random submissions by status: {submissions.counts}")
    assert 500 not in submissions.counts


def test_mutated_valid_submissions_never_fail_and_store_nothing_when_refused(app, org, shopper):
    submissions = Submissions(app, org, shopper)
    assert submissions.send(_valid_body(retail_checklist()[0])).status_code == 201  # the unmutated one is fine

    @HOSTILE
    @given(body=mutated_bodies(retail_checklist()[0]))
    def check(body):
        submissions.send(body)

    check()
    print(f"mutated submissions by status: {submissions.counts}")


@pytest.mark.parametrize("raw", RAW_BODIES, ids=range(len(RAW_BODIES)))
def test_raw_json_the_encoder_never_writes_is_refused_by_field(app, org, shopper, raw):
    Submissions(app, org, shopper).send(raw=raw)


# -- photos -----------------------------------------------------------------------------------------


def _image_bytes(image_format, size=(64, 48), mode="RGB"):
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 40, 40) if mode == "RGB" else 1).save(buffer, image_format)
    return buffer.getvalue()


@functools.cache
def _samples():
    return {"jpeg": _image_bytes("JPEG"), "png": _image_bytes("PNG")}


def _png_declaring(width, height):
    """A PNG header (with a correct checksum) that declares a huge image, followed by a tiny IDAT."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(
        b"IEND", b"")


def _jpeg_declaring(width, height):
    """The sample JPEG with its frame header (SOF0) rewritten to declare other dimensions."""
    data = bytearray(_samples()["jpeg"])
    at = data.index(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


dimensions = st.integers(1, 65535)
broken_images = st.one_of(
    st.binary(max_size=2048),
    st.binary(max_size=64).map(lambda tail: b"\xff\xd8\xff\xe0" + tail),  # a JPEG start, then noise
    st.binary(max_size=64).map(lambda tail: b"\x89PNG\r\n\x1a\n" + tail),
    st.tuples(st.sampled_from(["jpeg", "png"]), st.floats(0, 0.9)).map(  # cut off somewhere before the end
        lambda cut: _samples()[cut[0]][:int(len(_samples()[cut[0]]) * cut[1])]),
    st.tuples(dimensions, dimensions).filter(lambda wh: wh[0] * wh[1] > 40_000_000).map(
        lambda wh: _png_declaring(*wh)),
    st.tuples(dimensions, dimensions).filter(lambda wh: wh[0] * wh[1] > 40_000_000).map(
        lambda wh: _jpeg_declaring(*wh)),
    st.tuples(dimensions, dimensions).map(lambda wh: _png_declaring(*wh)),  # says one size, holds another
    st.sampled_from(["GIF", "BMP", "TIFF", "WEBP", "ICO"]).map(_image_bytes),  # images, not PNG or JPEG
)


def test_broken_photos_are_refused_by_the_file_field_and_store_nothing(app, org, shopper):
    visit = _new_visit(app, org)
    counts = {}

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=broken_images, file_name=st.sampled_from(["photo.jpg", "photo.png", "../../x.jpg", "", "a\x00.jpg"]))
    def check(data, file_name):
        response = shopper.upload(visit, data, file_name=file_name)
        counts[response.status_code] = counts.get(response.status_code, 0) + 1
        note(f"status {response.status_code}: {response.data[:300]!r}")
        assert response.status_code == 422, response.data[:300]
        error = response.get_json()["error"]
        assert error["code"] in ("bad_image", "invalid") and list(error["fields"]) == ["file"], error
        assert _stored(app, visit) == ("assigned", None, 0, 0)
        assert _photo_files(app) == []

    check()
    print(f"broken photos by status: {counts}")


def test_photo_id_with_a_nul_character_is_refused_by_field(app, org, shopper):
    visit = _new_visit(app, org)

    response = shopper.upload(visit, _samples()["jpeg"], client_id="ph\x00-1")

    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["client_id"]
    assert _stored(app, visit) == ("assigned", None, 0, 0) and _photo_files(app) == []


def test_multipart_part_without_a_name_is_not_a_server_error(app, org, shopper):
    # Found by schemathesis: Flask-WTF's CSRF check cannot read a part without a name; the app refuses it first.
    visit = _new_visit(app, org)
    body = b'--b\r\nContent-Disposition: form-data\r\n\r\nnull\r\n--b--\r\n'

    response = shopper.client.post(f"{API}/{visit}/photos", data=body, headers={"X-CSRFToken": shopper.token},
                                   content_type="multipart/form-data; boundary=b")

    assert response.status_code == 400


# -- schemathesis -----------------------------------------------------------------------------------


def test_schemathesis_finds_no_server_error_in_the_openapi_document(app, org, login_as, capsys):
    import schemathesis
    from schemathesis.checks import not_a_server_error

    client = login_as("shopper")
    token = csrf_from(client.get("/visits/"))  # also stores the token in the session cookie read next
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    visit = _new_visit(app, org)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    cases, failures, statuses, started = 0, [], {}, time.monotonic()

    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy(), aim_at_the_real_visit=st.booleans())
        def check(case, aim_at_the_real_visit):
            nonlocal cases, visit
            if aim_at_the_real_visit and case.path_parameters and "visit_id" in case.path_parameters:
                case.path_parameters["visit_id"] = visit  # so the handlers are reached, not only 404s
            if isinstance(case.body, dict) and "photos" in case.path:
                # A multipart part whose name werkzeug cannot read (CR/LF in it, or none) crashes
                # Parts without a printable name are refused before any view (see the test above);
                # keep the run about what the views do.
                case.body = {key: value for key, value in case.body.items() if key.isprintable()}
            if case.method.upper() == "POST":
                case.headers = {**(case.headers or {}), "X-CSRFToken": token}
            response = case.call(cookies={app.config["SESSION_COOKIE_NAME"]: cookie})
            cases += 1
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            try:
                case.validate_response(response, checks=[not_a_server_error])
            except Exception as failure:
                failures.append(f"{case.method} {case.formatted_path}: {failure}")
                raise
            if response.status_code in (200, 201) and case.method.upper() == "POST":
                visit = _new_visit(app, org)  # keep the next cases reaching an open visit

        check()

    with capsys.disabled():
        print(f"\nschemathesis: {cases} cases over {len(list(schema.get_all_operations()))} operations, "
              f"{len(failures)} failures, {time.monotonic() - started:.1f} s; by status {dict(sorted(statuses.items()))}")
    assert failures == []
