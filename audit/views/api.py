"""The JSON API the phone's service worker and page script talk to, versioned under /api/v1/.

Errors are JSON bodies that say what was wrong and name the field. POSTs carry the session cookie and
the page's CSRF token in the X-CSRFToken header (Flask-WTF checks it), so another site cannot post.
"""
import re
from datetime import datetime

from flask import Blueprint, abort, current_app, jsonify, request, url_for
from flask_login import current_user

from .. import operations
from ..access import role_required
from ..answers import photo_item_ids
from ..i18n import gettext as _
from ..media import ImageRejected
from ..models import ChecklistVersion, Role, Visit
from .openapi import openapi_document
from .shopper import own_visit_or_404, submission_message, visit_refusal_message

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_JSON_BYTES = 1024 * 1024
# Control characters a paste brings into a comment (BEL...): no keyboard types them, and a report
# printed them as "^G". Dropped, as the form without JavaScript drops them; NUL is refused (below).
_PASTED_CONTROLS = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


@bp.errorhandler(404)
def _visit_not_found(error):
    # A visit the phone holds may have been given to another shopper or withdrawn meanwhile: its
    # shopper is told so (the outbox shows this message), not that a "page" does not exist.
    if request.view_args and "visit_uuid" in request.view_args:
        return problem(404, 404, _("This visit is not assigned to you (any more): it may have been given to another "
                                   "shopper or withdrawn. Nothing was stored; ask your coordinator."))
    return problem(404, 404, _("This page does not exist, or you do not have access to it."))


def problem(status, code, message, fields=None, field_codes=None):
    body = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    if field_codes:
        body["error"]["field_codes"] = field_codes
    return jsonify(body), status


def _visit_json(visit, with_checklist=False):
    branch = visit.branch
    body = {
        "id": str(visit.uuid),
        "state": visit.state,
        "branch": {"name": branch.name, "address": branch.address, "city": branch.city,
                   "latitude": branch.latitude, "longitude": branch.longitude},
        "planned_from": visit.planned_from.isoformat(),
        "planned_to": visit.planned_to.isoformat(),
        "scenario": visit.scenario,
        "review_comment": visit.review_comment,
        "checklist_version": visit.checklist_version_id,
        "fill_url": url_for("shopper.fill", visit_uuid=visit.uuid),
    }
    if with_checklist:
        body["checklist"] = visit.checklist_version.content
    return body


@bp.route("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.route("/visits")
@role_required(Role.SHOPPER)
def visits():
    return jsonify({"visits": [_visit_json(v) for v in Visit.open_for_shopper(current_user)]})


@bp.route("/visits/<visit_uuid>")
@role_required(Role.SHOPPER)
def visit(visit_uuid):
    return jsonify(_visit_json(own_visit_or_404(visit_uuid), with_checklist=True))


def _string_map(value, field, fields, of_lists=False):
    if value is None:
        return {}
    if not isinstance(value, dict):
        fields[field] = _("Must be an object of item ids.")
        return {}
    for key, entry in value.items():
        ok = (isinstance(entry, list) and all(isinstance(x, str) and 0 < len(x) <= 64 for x in entry)
              if of_lists else isinstance(entry, str))
        if not ok:
            fields[f"{field}.{key}"] = _("Must be a list of photo ids.") if of_lists else _("Must be text.")
    return value


def _storable(value):
    """True unless some text in value is no valid UTF-8 (a lone surrogate) or holds a NUL, which
    PostgreSQL text cannot keep; checked before hashing or storing, which would fail with a 500."""
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_storable(key) and _storable(entry) for key, entry in value.items())
    if isinstance(value, list):
        return all(_storable(entry) for entry in value)
    return True


def _timestamp(value, field, fields):
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if moment.tzinfo is not None:  # stored as naive UTC, like every timestamp of the app
            moment = moment.replace(tzinfo=None) - moment.utcoffset()
    except (ValueError, OverflowError):  # OverflowError: in UTC it falls before year 1 or after 9999
        fields[field] = _("Must be a date and time like 2026-11-25T10:30:00Z.")
        return None
    return moment


def _location(value, fields):
    if value is None:
        return None
    try:
        lat, lon = float(value["lat"]), float(value["lon"])
    except (TypeError, KeyError, ValueError):
        fields["location"] = _("Must be an object with lat and lon numbers.")
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        fields["location"] = _("Must be an object with lat and lon numbers.")
        return None
    return lat, lon


@bp.route("/visits/<visit_uuid>/submission", methods=["POST"])
@role_required(Role.SHOPPER)
def submit(visit_uuid):
    visit = own_visit_or_404(visit_uuid)
    if (request.content_length or 0) > MAX_JSON_BYTES:
        return problem(413, "too_large", _("The submission is too large."))
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON parser's stack; silent=True catches only ValueError
        body = None
    if not isinstance(body, dict):
        return problem(400, "not_json", _("Send the submission as a JSON object."))
    fields = {}
    answers = body.get("answers")
    if not isinstance(answers, dict):
        fields["answers"] = _("Must be an object of item ids and answers.")
        answers = {}
    comments = {key: _PASTED_CONTROLS.sub("", text) if isinstance(text, str) else text for key, text in
                _string_map(body.get("comments"), "comments", fields).items()}
    answers = {key: _PASTED_CONTROLS.sub("", value) if isinstance(value, str) else value
               for key, value in answers.items()}
    # Left out, the photos uploaded stay as they are; given, they are all the visit keeps.
    photos = _string_map(body.get("photos"), "photos", fields, of_lists=True) if body.get("photos") is not None else None
    started_at = _timestamp(body.get("started_at"), "started_at", fields)
    ended_at = _timestamp(body.get("ended_at"), "ended_at", fields)
    changed_at = _timestamp(body.get("changed_at"), "changed_at", fields)
    location = _location(body.get("location"), fields)
    for field, value in (("answers", answers), ("comments", comments), ("photos", photos or {})):
        for key, entry in value.items():
            if not (_storable(key) and _storable(entry)):
                fields[f"{field}.{key}"] = _("Must be text without NUL characters or broken Unicode.")
    if fields:
        return problem(422, "invalid", _("Some fields cannot be used."), fields)
    try:
        outcome = operations.submit_visit(visit, answers, comments, photos, started_at, ended_at, location, changed_at,
                                          media_dir=current_app.config["MEDIA_DIR"])
    except operations.SubmissionRefused as refused:
        if refused.code == "not_yours":
            abort(404)  # given to another shopper meanwhile: as if it had never been theirs
        if refused.code == "returned":
            return problem(409, "returned", visit_refusal_message("returned"))
        if refused.status == 409:
            return problem(409, "already_submitted", visit_refusal_message("already_submitted"))
        # The codes tell the phone what to fix: the comment box for comment_required, else the answer.
        return problem(422, "invalid", _("Some answers need attention."),
                       {f"answers.{p.item_id}": submission_message(p) for p in refused.problems},
                       {f"answers.{p.item_id}": p.code for p in refused.problems})
    status = 201 if outcome == "received" else 200
    message = _("The visit was received.") if outcome == "received" else _("This visit had already arrived; nothing changed.")
    return jsonify({"status": outcome, "message": message, "visit": str(visit.uuid)}), status


@bp.route("/visits/<visit_uuid>/photos", methods=["POST"])
@role_required(Role.SHOPPER)
def upload_photo(visit_uuid):
    visit = own_visit_or_404(visit_uuid)
    fields = {}
    client_id = (request.form.get("client_id") or "").strip()
    item_id = (request.form.get("item_id") or "").strip()
    upload = request.files.get("file")
    if not (0 < len(client_id) <= 64) or "\x00" in client_id:  # PostgreSQL cannot compare text with NUL
        fields["client_id"] = _("Give the photo's id (at most 64 characters).")
    content = ChecklistVersion.shared_content(visit.checklist_version_id)
    if item_id not in {i["id"] for s in content["sections"] for i in s["items"]}:
        fields["item_id"] = _("This question is not in the checklist.")
    elif item_id not in photo_item_ids(content):
        # The phone offers a camera only where the checklist asks for photos; one stored elsewhere
        # went to the reviewer and the reports beside a question that is no place for it.
        fields["item_id"] = _("This question takes no photos.")
    if upload is None:
        fields["file"] = _("Attach the photo as the file field.")
    # The sending the photo goes with (see operations.add_photo): optional.
    ended_at = _timestamp(request.form.get("ended_at") or None, "ended_at", fields)
    if fields:
        return problem(422, "invalid", _("Some fields cannot be used."), fields)
    config = current_app.config
    try:
        evidence, created = operations.add_photo(
            visit, client_id, item_id, upload.read(), config["MEDIA_DIR"], config["PHOTO_MAX_BYTES"],
            config["PHOTO_MAX_PIXELS"],
            # When the camera took it, as the phone read it before shrinking it (EXIF's own text):
            # optional, and what cannot be read is left out, as an unreadable EXIF time is.
            taken=(request.form.get("taken_at", ""), request.form.get("taken_offset", "")), ended_at=ended_at,
        )
    except ImageRejected as rejected:
        return problem(422, "bad_image", str(rejected), {"file": str(rejected)})
    except operations.SubmissionRefused as refused:
        if refused.code == "not_yours":
            abort(404)
        if refused.code == "not_open":
            return problem(409, "already_submitted", visit_refusal_message("already_submitted"))
        if refused.code == "storage_unavailable":
            return problem(503, "storage_unavailable", _(
                "The server cannot store photos right now. The photo stays on this phone and is sent again later."))
        message = visit_refusal_message("photo_elsewhere")
        return problem(409, "photo_elsewhere", message, {"client_id": message})
    return jsonify({"status": "received" if created else "already_received", "client_id": evidence.client_id}), (
        201 if created else 200)
