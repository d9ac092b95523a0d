"""The sync API the shopper's phone talks to: a visit arrives exactly once, whatever is resent or raced,
and every refusal names the field that was wrong and stores nothing."""
import io
import json
import os
import threading
from datetime import date, datetime, timedelta

import pytest
from PIL import Image

from audit.db import database
from audit.demo import best_answers
from audit import stats
from audit.models import Answer, Evidence, Visit, VisitEvent, utcnow
from audit.operations import distance_m, publish_checklist
from audit.scoring import display_percent, score
from conftest import csrf_from
from tests_support import retail_checklist

API = "/api/v1/visits"
ALREADY_SENT = ("This visit was already sent; it can be changed only if the reviewer "
                "returns it.")
REQUIRED = "Answer this question (or choose “not applicable” where offered)."
THREADS = 8





@pytest.fixture
def content():
    return retail_checklist()[0]


def _new_visit(app, org, shopper="shopper", state="assigned", branch=0):
    with app.app_context(), database.connection_context():
        version, _created = publish_checklist(*retail_checklist())
        visit = Visit.create(branch=org["branches"][branch], checklist_version=version,
                             shopper=org["users"][shopper], planned_from=date.today(),
                             planned_to=date.today() + timedelta(days=5), state=state,
                             scenario="Ask for a mid-range phone for your mother.")
    return str(visit.uuid)


@pytest.fixture
def visit(app, org):
    """An assigned visit of `shopper` at BUD-01 (which has coordinates), on the shipped checklist."""
    return _new_visit(app, org)


class Phone:
    """A test client signed in as a shopper, sending what the page's script sends."""

    def __init__(self, client, visit_uuid):
        self.client = client
        self.token = csrf_from(client.get(f"/visits/{visit_uuid}/fill"))

    def submit(self, visit_uuid, body, **kwargs):
        return self.client.post(f"{API}/{visit_uuid}/submission", json=body,
                                headers={"X-CSRFToken": self.token}, **kwargs)

    def upload(self, visit_uuid, client_id, data, item_id="shop_front", file_name="shop.jpg"):
        form = {"client_id": client_id, "item_id": item_id}
        if data is not None:
            form["file"] = (io.BytesIO(data), file_name)
        return self.client.post(f"{API}/{visit_uuid}/photos", data=form, content_type="multipart/form-data",
                                headers={"X-CSRFToken": self.token})


@pytest.fixture
def phone(login_as, visit):
    return Phone(login_as("shopper"), visit)


def _stored(app, visit_uuid):
    """(visit, {item: answer}, {item: comment}, [evidence]) as the database holds them now."""
    with app.app_context(), database.connection_context():
        stored = Visit.get(Visit.uuid == visit_uuid)
        rows = list(Answer.select().where(Answer.visit == stored))
        evidence = list(Evidence.select().where(Evidence.visit == stored).order_by(Evidence.id))
    return stored, {a.item_id: a.value for a in rows}, {a.item_id: a.comment for a in rows if a.comment}, evidence


def _assert_untouched(app, visit_uuid, state="assigned"):
    stored, answers, _comments, _evidence = _stored(app, visit_uuid)
    assert stored.state == state
    assert answers == {}
    assert stored.submission_hash is None and stored.submitted_at is None and stored.score is None


def _phone_jpeg():
    """A camera JPEG that says where it was taken (GPS) and by which camera."""
    image = Image.new("RGB", (640, 480), (30, 90, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif.get_ifd(0x8825).update({1: "N", 2: (47.0, 29.0, 31.5), 3: "E", 4: (19.0, 2.0, 24.0)})  # GPSInfo
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


# -- reading visits ---------------------------------------------------------------------------------


def test_shopper_lists_only_their_own_open_visits(app, org, login_as, visit):
    returned = _new_visit(app, org, state="returned")
    _new_visit(app, org, state="submitted")
    _new_visit(app, org, shopper="other_shopper")

    response = login_as("shopper").get(API)

    assert response.status_code == 200
    listed = {entry["id"]: entry for entry in response.get_json()["visits"]}
    assert set(listed) == {visit, returned}
    entry = listed[visit]
    assert entry["state"] == "assigned"
    assert entry["branch"]["name"] == "Aurora Váci utca" and entry["branch"]["latitude"] == 47.4936
    assert entry["fill_url"] == f"/visits/{visit}/fill"
    assert entry["scenario"] == "Ask for a mid-range phone for your mother."
    assert "checklist" not in entry  # the list stays light; one visit carries its checklist


def test_shopper_fetches_their_visit_with_its_pinned_checklist(app, login_as, visit, content):
    response = login_as("shopper").get(f"{API}/{visit}")

    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == visit and body["planned_from"] == date.today().isoformat()
    assert body["checklist"] == content
    assert body["checklist_version"] == _stored(app, visit)[0].checklist_version_id


@pytest.mark.parametrize("who,status,code", [
    ("other_shopper", 404, 404),  # another shopper's visit looks like no visit at all
    ("manager", 403, 403),
    ("auditor", 403, 403),
    ("anonymous", 401, "not_signed_in"),
])
def test_others_cannot_read_a_shoppers_visit(app, login_as, visit, who, status, code):
    client = app.test_client() if who == "anonymous" else login_as(who)

    response = client.get(f"{API}/{visit}")

    assert response.status_code == status
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]


@pytest.mark.parametrize("who,status", [("manager", 403), ("auditor", 403), ("anonymous", 401)])
def test_only_shoppers_may_list_visits(app, login_as, visit, who, status):
    client = app.test_client() if who == "anonymous" else login_as(who)

    response = client.get(API)

    assert response.status_code == status and response.is_json
    assert "error" in response.get_json()


@pytest.mark.parametrize("visit_id", ["00000000-0000-4000-8000-000000000000", "not-a-uuid"])
def test_unknown_visit_is_404_json(login_as, visit, visit_id):
    response = login_as("shopper").get(f"{API}/{visit_id}")

    assert response.status_code == 404 and response.get_json()["error"]["code"] == 404


def test_a_visit_given_to_another_shopper_tells_the_phone_that_still_holds_it(app, org, phone, visit, content):
    """Finished offline, then given by the auditor to another shopper: the phone's outbox shows why
    it cannot be sent, rather than that a page does not exist."""
    with app.app_context(), database.connection_context():
        Visit.update(shopper=org["users"]["other_shopper"].id).where(Visit.uuid == visit).execute()

    response = phone.submit(visit, {"answers": best_answers(content)})

    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == (
        "This visit is not assigned to you (any more): it may have been given to another shopper or withdrawn. "
        "Nothing was stored; ask your coordinator.")
    assert _stored(app, visit)[0].state == "assigned"


# -- sending a visit --------------------------------------------------------------------------------


def test_valid_submission_is_received_scored_and_stored(app, org, phone, visit, content):
    answers = {**best_answers(content), "first_impression": 3, "needs_questions": "one_question"}
    comments = {"first_impression": "Music too loud."}
    with app.app_context(), database.connection_context():  # assigned a week ago, as visits are
        Visit.update(created_at=utcnow() - timedelta(days=7)).where(Visit.uuid == visit).execute()
    ended = (utcnow() - timedelta(minutes=5)).replace(microsecond=0)
    started = ended - timedelta(minutes=35)
    body = {"answers": answers, "comments": comments, "photos": {},
            "started_at": (started + timedelta(hours=2)).isoformat() + "+02:00", "ended_at": ended.isoformat() + "Z",
            "location": {"lat": 47.4940, "lon": 19.0535}}

    response = phone.submit(visit, body)

    assert response.status_code == 201
    assert response.get_json() == {"status": "received", "message": "The visit was received.", "visit": visit}
    stored, stored_answers, stored_comments, _evidence = _stored(app, visit)
    assert stored.state == "submitted" and stored.submitted_at is not None and stored.draft is None
    assert stored_answers == answers
    assert stored_comments == comments
    expected = score(content, answers)
    assert stored.score == display_percent(expected.overall, 4)
    assert stored.band == expected.band and stored.has_critical_failure is False
    assert 0 < stored.score < 100
    assert (stored.started_at, stored.ended_at) == (started, ended)  # kept as naive UTC
    assert stored.clock_shift_s is None
    branch = org["branches"][0]
    assert stored.checkin_distance_m == pytest.approx(distance_m(47.4940, 19.0535, branch.latitude, branch.longitude), abs=0.1)
    assert 40 < stored.checkin_distance_m < 80


@pytest.mark.parametrize("phone_clock", [timedelta(days=365), timedelta(days=-400)], ids=["a year ahead", "behind"])
def test_a_phone_clock_far_off_moves_the_visits_times_and_tells_the_reviewer(app, login_as, phone, visit, content,
                                                                               phone_clock):
    """A visit ending after it arrived, or before it was assigned, cannot be right: left as the phone
    said, it would sit in a month that no report of this year shows. It keeps its length, ends
    when it arrived, and the reviewer sees by how much its times were moved."""
    with app.app_context(), database.connection_context():  # assigned a week ago, as visits are
        Visit.update(created_at=utcnow() - timedelta(days=7)).where(Visit.uuid == visit).execute()
    ended = utcnow() - timedelta(minutes=10) + phone_clock
    body = {"answers": best_answers(content), "started_at": (ended - timedelta(minutes=30)).isoformat() + "Z",
            "ended_at": ended.isoformat() + "Z"}

    assert phone.submit(visit, body).status_code == 201

    stored = _stored(app, visit)[0]
    assert stored.ended_at == stored.submitted_at
    assert stored.ended_at - stored.started_at == timedelta(minutes=30)
    assert abs(stored.clock_shift_s - (phone_clock - timedelta(minutes=10)).total_seconds()) < 5
    page = login_as("auditor").get(f"/review/{visit}").get_data(as_text=True)
    if phone_clock > timedelta(0):
        assert "The phone&#39;s clock was 1 year ahead: the visit&#39;s times were moved back to when it arrived." in page
    else:
        assert "The phone&#39;s clock was 1 year behind (the visit would have ended before it was assigned)" in page
    auditor = login_as("auditor")
    approved = auditor.post(f"/review/{visit}/approve", data={"csrf_token": csrf_from(auditor.get(f"/review/{visit}"))})
    assert approved.status_code == 302
    with app.app_context(), database.connection_context():  # in the last 30 days' figures, with its score
        last_month = stats.approved_visits([stored.branch_id], utcnow() - timedelta(days=30), utcnow())
        assert [(v.uuid, v.score) for v in last_month] == [(stored.uuid, stored.score)]


@pytest.mark.parametrize("started, ended", [("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"),
                                            ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"),
                                            ("2100-01-01T10:00:00Z", "2100-01-01T10:30:00Z")],
                         ids=["years apart", "start after end", "a century ahead"])
def test_a_phone_clock_at_the_ends_of_the_calendar_is_moved_not_an_error(app, phone, visit, content, started, ended):
    """Moved by the clock's error, a start in year 1 fell off the calendar (an error, and the outbox
    sent it again for ever); a century's shift passed a 32-bit column on PostgreSQL."""
    with app.app_context(), database.connection_context():
        Visit.update(created_at=utcnow() - timedelta(days=7)).where(Visit.uuid == visit).execute()

    response = phone.submit(visit, {"answers": best_answers(content), "started_at": started, "ended_at": ended})

    assert response.status_code == 201
    stored = _stored(app, visit)[0]
    assert stored.ended_at == stored.submitted_at and stored.clock_shift_s
    assert stored.started_at <= stored.ended_at


def test_same_submission_sent_again_is_already_received_and_stores_nothing_new(app, phone, visit, content):
    body = {"answers": best_answers(content), "comments": {"greeted": "Warm hello."}}
    assert phone.submit(visit, body).status_code == 201
    first, answers, _comments, _evidence = _stored(app, visit)

    # The outbox resends; key order and timestamps may differ, the content is the same.
    again = phone.submit(visit, {"answers": dict(reversed(list(body["answers"].items()))),
                                 "comments": body["comments"], "started_at": "2026-11-25T10:00:00Z"})

    assert again.status_code == 200
    assert again.get_json()["status"] == "already_received"
    assert again.get_json()["message"] == "This visit had already arrived; nothing changed."
    stored, stored_answers, _comments, _evidence = _stored(app, visit)
    assert stored_answers == answers
    assert (stored.submitted_at, stored.submission_hash, stored.started_at) == (
        first.submitted_at, first.submission_hash, first.started_at)
    with app.app_context(), database.connection_context():
        assert Answer.select().count() == len(answers)


@pytest.mark.parametrize("change", [
    lambda body: {**body, "answers": {**body["answers"], "first_impression": 2}},
    lambda body: {**body, "comments": {"greeted": "A late second thought."}},
    lambda body: {**body, "answers": {k: v for k, v in body["answers"].items() if k != "comments"}},
], ids=["another answer", "a comment added", "an answer left out"])
def test_different_submission_after_sending_is_refused_and_changes_nothing(app, phone, visit, content, change):
    body = {"answers": best_answers(content)}
    assert phone.submit(visit, body).status_code == 201
    before, answers, comments, _evidence = _stored(app, visit)

    response = phone.submit(visit, change(body))

    assert response.status_code == 409
    assert response.get_json()["error"] == {"code": "already_submitted", "message": ALREADY_SENT}
    after, stored_answers, stored_comments, _evidence = _stored(app, visit)
    assert (stored_answers, stored_comments) == (answers, comments)
    assert (after.state, after.submission_hash, after.score) == ("submitted", before.submission_hash, before.score)


def test_returned_visit_accepts_a_changed_submission(app, phone, visit, content):
    first = {"answers": {**best_answers(content), "first_impression": 2}}
    assert phone.submit(visit, first).status_code == 201
    with app.app_context(), database.connection_context():
        Visit.update(state="returned", review_comment="Was the first impression really a 2?").where(
            Visit.uuid == visit).execute()
    before = _stored(app, visit)[0]
    listed = phone.client.get(API).get_json()["visits"]
    assert [(v["id"], v["state"], v["review_comment"]) for v in listed] == [
        (visit, "returned", "Was the first impression really a 2?")]

    second = {"answers": {**best_answers(content), "first_impression": 4},
              "comments": {"first_impression": "Tidy, but nobody looked up."}}
    response = phone.submit(visit, second)

    assert response.status_code == 201 and response.get_json()["status"] == "received"
    after, answers, comments, _evidence = _stored(app, visit)
    assert after.state == "submitted" and after.submission_hash != before.submission_hash
    assert answers == second["answers"] and comments == second["comments"]
    assert after.score > before.score
    # ...and is closed again: the first content is now a different submission.
    assert phone.submit(visit, first).status_code == 409


def test_a_phone_sending_again_what_arrived_before_a_return_does_not_undo_the_return(app, org, login_as, content):
    """The phone's sending arrived, but its answer never reached the phone (a dropped connection); the
    reviewer returned the visit meanwhile. The outbox sends the same entry again, with the same time
    of sending: that is no new sending, and the visit stays with its shopper (it went back to the
    reviewer unchanged, the shopper never told). A sending the shopper makes after the return, with
    the same answers, has a time of its own and is taken. So is one from a phone whose clock was off."""
    from audit.review import return_to_shopper

    for clock_off in (timedelta(0), timedelta(hours=3)):
        visit = _new_visit(app, org)
        phone = Phone(login_as("shopper"), visit)
        body = {"answers": best_answers(content), "started_at": (utcnow() + clock_off - timedelta(minutes=20)).isoformat() + "Z",
                "ended_at": (utcnow() + clock_off).isoformat() + "Z"}
        assert phone.submit(visit, body).status_code == 201
        with app.app_context(), database.connection_context():
            return_to_shopper(Visit.get(Visit.uuid == visit), org["users"]["auditor"], "Add the queue's photo.")
            events = VisitEvent.select().count()

        again = phone.submit(visit, body)

        assert again.status_code == 200 and again.get_json()["status"] == "already_received"
        with app.app_context(), database.connection_context():
            assert VisitEvent.select().count() == events
        assert _stored(app, visit)[0].state == "returned"
        listed = {v["id"]: v for v in phone.client.get(API).get_json()["visits"]}
        assert (listed[visit]["state"], listed[visit]["review_comment"]) == ("returned", "Add the queue's photo.")

        resent = phone.submit(visit, {**body, "ended_at": (utcnow() + clock_off + timedelta(minutes=5)).isoformat() + "Z"})
        assert resent.status_code == 201 and _stored(app, visit)[0].state == "submitted"


def test_a_returned_visit_sent_again_keeps_when_and_where_it_was_made(app, org, phone, visit, content):
    """Sent again from home after a return, the visit took the sending's time as its end and the
    phone's place at home as its check-in: the far check-in and the short visit that the reviewer
    returned it for were gone from the review page."""
    from audit.review import integrity_warnings, return_to_shopper

    ended = utcnow() - timedelta(hours=2)
    first = {"answers": best_answers(content), "started_at": (ended - timedelta(minutes=2)).isoformat() + "Z",
             "ended_at": ended.isoformat() + "Z", "location": {"lat": 0.0, "lon": 0.0}}
    assert phone.submit(visit, first).status_code == 201
    with app.app_context(), database.connection_context():
        sent = Visit.get(Visit.uuid == visit)
        made = (sent.started_at, sent.ended_at, sent.checkin_distance_m, sent.clock_shift_s)
        before = sorted(code for code, _details in integrity_warnings(sent, 8, 300))
        return_to_shopper(sent, org["users"]["auditor"], "Where were you? Check in at the branch.")
    assert "far_checkin" in before and "short_visit" in before
    with app.app_context(), database.connection_context():
        branch = Visit.get(Visit.uuid == visit).branch
    again = {"answers": {**best_answers(content), "first_impression": 4}, "ended_at": utcnow().isoformat() + "Z",
             "location": {"lat": branch.latitude, "lon": branch.longitude}}
    assert phone.submit(visit, again).status_code == 201
    with app.app_context(), database.connection_context():
        resent = Visit.get(Visit.uuid == visit)
        assert (resent.started_at, resent.ended_at, resent.checkin_distance_m, resent.clock_shift_s) == made
        assert sorted(code for code, _details in integrity_warnings(resent, 8, 300)) == before
        assert resent.state == "submitted"


# -- a sending changed while it was on its way ------------------------------------------------------


def _sent_at(moment):
    return moment.isoformat() + "Z"


def _sent_with_end(app, phone, visit, content, ended=None):
    """The visit sent as the phone's outbox sends it (with the time Send was tapped); returns the body."""
    ended = ended or utcnow() - timedelta(minutes=1)
    body = {"answers": {**best_answers(content), "first_impression": 2}, "comments": {},
            "started_at": _sent_at(ended - timedelta(minutes=25)), "ended_at": _sent_at(ended),
            "changed_at": _sent_at(ended)}
    assert phone.submit(visit, body).status_code == 201
    return body


def _changed(body, **answers):
    """The outbox entry changed on the phone: new answers, the same time of sending, a later change."""
    changed_at = datetime.fromisoformat(body["changed_at"][:-1]) + timedelta(seconds=20)
    return {**body, "answers": {**body["answers"], **answers}, "changed_at": _sent_at(changed_at)}


def test_a_change_made_while_the_visit_was_on_its_way_replaces_the_sending_that_arrived(app, org, login_as, phone,
                                                                                      visit, content):
    """The shopper put an answer right while the outbox was sending: the change joined the entry,
    which goes again with the same time of sending once the first copy arrived. Refused as "already
    sent", the change stayed on the phone and the reviewer saw the answer the shopper had put right."""
    body = _sent_with_end(app, phone, visit, content)
    before = _stored(app, visit)[0]
    changed = {**_changed(body, first_impression=5),
               "comments": {"first_impression": "Bright and tidy, I misread the scale."}}
    assert phone.upload(visit, "ph-late", _phone_jpeg(), item_id="shop_front",
                        ).status_code == 409  # a photo without the sending it goes with: refused
    assert phone.client.post(f"{API}/{visit}/photos", content_type="multipart/form-data", headers={
        "X-CSRFToken": phone.token}, data={"client_id": "ph-late", "item_id": "shop_front", "ended_at": body["ended_at"],
                                           "file": (io.BytesIO(_phone_jpeg()), "shop.jpg")}).status_code == 201
    changed["photos"] = {"shop_front": ["ph-late"]}

    response = phone.submit(visit, changed)

    assert response.status_code == 201 and response.get_json()["status"] == "received"
    after, answers, comments, evidence = _stored(app, visit)
    assert answers == changed["answers"] and comments == changed["comments"]
    assert [(e.client_id, e.item_id) for e in evidence] == [("ph-late", "shop_front")]
    assert after.state == "submitted" and after.score > before.score
    assert (after.submitted_at, after.started_at, after.ended_at) == (before.submitted_at, before.started_at,
                                                                     before.ended_at)
    # Sent again (the phone never heard), it is the same sending. The first copy, arriving late (the
    # service worker had read it before the change), does not undo the change; nor does a copy
    # without the time of its change (a phone from before).
    assert phone.submit(visit, changed).get_json()["status"] == "already_received"
    assert phone.submit(visit, body).status_code == 409
    assert phone.submit(visit, {k: v for k, v in _changed(changed, first_impression=4).items()
                                if k != "changed_at"}).status_code == 409
    assert _stored(app, visit)[1] == changed["answers"]
    # The reviewer's history says what happened, and the review works on the changed answers.
    page = login_as("auditor").get(f"/review/{visit}").get_data(as_text=True)
    assert "Changed by the shopper before the review" in page
    with app.app_context(), database.connection_context():
        stats_row = Answer.get((Answer.visit == after.id) & (Answer.item_id == "first_impression"))
        assert (stats_row.value, stats_row.failed) == (5, False)


@pytest.mark.parametrize("meanwhile", ["a comment corrected", "an answer corrected", "approved", "returned",
                                       "another sending"])
def test_a_change_on_its_way_is_refused_once_the_review_has_begun(app, org, phone, visit, content, meanwhile):
    """Once a reviewer touched the visit, a change from the phone would write over what they did or
    saw: refused as a sending after the visit was sent (the phone says so), nothing changed. So is a
    change with another time of sending (a second phone's old draft)."""
    from audit import review

    body = _sent_with_end(app, phone, visit, {**content})
    body["comments"] = {}
    auditor = org["users"]["auditor"]
    with app.app_context(), database.connection_context():
        sent = Visit.get(Visit.uuid == visit)
        if meanwhile == "a comment corrected":
            Answer.update(comment="Anna at the till").where(
                (Answer.visit == sent) & (Answer.item_id == "greeted")).execute()
            review.correct_comment(sent, "greeted", "", "A name of staff", auditor)
        elif meanwhile == "an answer corrected":
            review.correct_answer(sent, "first_impression", 3, "The photo shows a tidy shop", auditor)
        elif meanwhile == "approved":
            review.approve(sent, auditor)
        elif meanwhile == "returned":
            review.return_to_shopper(sent, auditor, "Add the queue's photo.")
    before = _stored(app, visit)
    ended = body["ended_at"] if meanwhile != "another sending" else _sent_at(utcnow() - timedelta(hours=5))
    changed = {**_changed(body, first_impression=5), "ended_at": ended}

    photo = phone.client.post(f"{API}/{visit}/photos", content_type="multipart/form-data", headers={
        "X-CSRFToken": phone.token}, data={"client_id": "ph-late", "item_id": "shop_front", "ended_at": ended,
                                           "file": (io.BytesIO(_phone_jpeg()), "shop.jpg")})
    response = phone.submit(visit, changed)

    if meanwhile == "returned":  # back with the shopper, who is told to read why before sending again
        assert photo.status_code == 201  # the visit is theirs to fill again: its photos are taken
        assert response.status_code == 409 and response.get_json()["error"]["code"] == "returned"
        assert _stored(app, visit)[1:3] == before[1:3]
        return
    assert photo.status_code == 409 and photo.get_json()["error"]["code"] == "already_submitted"
    assert response.status_code == 409
    assert response.get_json()["error"] == {"code": "already_submitted", "message": ALREADY_SENT}
    after = _stored(app, visit)
    assert after[1:] == before[1:]
    assert (after[0].state, after[0].submission_hash, after[0].score) == (
        before[0].state, before[0].submission_hash, before[0].score)


def test_a_change_on_its_way_does_not_undo_a_return_the_shopper_has_not_seen(app, org, phone, visit, content):
    """The reviewer returned the visit while a change of its sending was on its way: taken as a new
    sending, it undid the return, its comment unread. So did a copy read before the change, arriving
    late. The phone is told to read the return; a sending made after it is taken."""
    from audit.review import return_to_shopper

    from audit import operations

    body = _sent_with_end(app, phone, visit, content)
    changed = _changed(body, first_impression=5)
    assert phone.submit(visit, changed).status_code == 201  # the change arrived
    with app.app_context(), database.connection_context():
        read_before = Visit.get(Visit.uuid == visit)  # a request that read the visit before the return
        return_to_shopper(Visit.get(Visit.uuid == visit), org["users"]["auditor"], "Why a 5?")
        late = _changed(changed, first_impression=3)
        with pytest.raises(operations.SubmissionRefused) as refused:
            operations.submit_visit(read_before, late["answers"], {}, {}, ended_at=datetime.fromisoformat(
                late["ended_at"][:-1]), changed_at=datetime.fromisoformat(late["changed_at"][:-1]))
        assert refused.value.code == "returned"
    before = _stored(app, visit)

    for late in (_changed(changed, first_impression=4), body):  # a later change; the first copy
        response = phone.submit(visit, late)
        assert response.status_code == 409
        assert response.get_json()["error"] == {"code": "returned", "message": (
            "The reviewer returned this visit meanwhile: open it again from your visits to read why, then send it "
            "again.")}
        assert _stored(app, visit)[:3] == before[:3]
    assert phone.submit(visit, changed).get_json()["status"] == "already_received"  # its own copy: as before
    assert _stored(app, visit)[0].state == "returned"
    again = {**_changed(changed, first_impression=4), "ended_at": _sent_at(utcnow())}
    assert phone.submit(visit, again).status_code == 201
    assert _stored(app, visit)[0].state == "submitted"


def test_a_reviewer_deciding_on_a_page_read_before_the_shoppers_change_is_told_to_look_again(
        app, org, login_as, phone, visit, content):
    """The change may arrive while the reviewer reads the visit: approving, returning or correcting
    from the page read before it would decide on answers they never saw."""
    from conftest import hidden_fields_from

    body = _sent_with_end(app, phone, visit, content)
    reviewer = login_as("auditor")
    page = reviewer.get(f"/review/{visit}")
    fields = hidden_fields_from(page)
    assert fields["seen"] == _stored(app, visit)[0].submission_hash
    assert phone.submit(visit, _changed(body, first_impression=5)).status_code == 201
    after_change = _stored(app, visit)

    for action, extra in (("approve", {}), ("return", {"comment": "Why a 2?"}),
                          ("answers/first_impression", {"value": "3", "reason": "The photo"})):
        response = reviewer.post(f"/review/{visit}/{action}", data={**fields, **extra}, follow_redirects=True)
        assert ("The shopper changed this visit after you opened it: nothing was done. Look at its answers "
                "again.") in response.get_data(as_text=True), action
        now = _stored(app, visit)
        assert (now[0].state, now[0].score, now[1]) == (after_change[0].state, after_change[0].score, after_change[1])

    # Said before what the page's answers would say: a correction to the value the shopper has just
    # given, a comment the change took away.
    with app.app_context(), database.connection_context():
        Answer.update(comment="").where((Answer.visit == after_change[0].id) & (Answer.item_id == "greeted")).execute()
    for action, extra in (("answers/first_impression", {"value": "5", "reason": "The photo"}),
                          ("comments/greeted", {"comment": "", "reason": "A name"})):
        response = reviewer.post(f"/review/{visit}/{action}", data={**fields, **extra}, follow_redirects=True)
        assert response.status_code == 409, action  # the page again, what was typed kept
        assert "The shopper changed this visit after you opened it" in response.get_data(as_text=True), action

    # From the page as it is now, the decision is taken.
    fields = hidden_fields_from(reviewer.get(f"/review/{visit}"))
    reviewer.post(f"/review/{visit}/approve", data=fields)
    assert _stored(app, visit)[0].state == "approved"


def test_a_phone_sending_again_what_arrived_before_a_second_return_does_not_undo_it(app, org, phone, visit,
                                                                                     content):
    """The visit's end is kept from its first sending; a returned visit's later sendings have times of
    their own. The phone that sent the second time and never heard, sending again after the second
    return, undid that return (only the first sending's time was known)."""
    from audit.review import return_to_shopper

    auditor = org["users"]["auditor"]
    _sent_with_end(app, phone, visit, content, ended=utcnow() - timedelta(hours=3))
    with app.app_context(), database.connection_context():
        return_to_shopper(Visit.get(Visit.uuid == visit), auditor, "Why a 2?")
    second = {"answers": {**best_answers(content), "first_impression": 3}, "comments": {},
              "ended_at": _sent_at(utcnow() - timedelta(hours=1))}
    assert phone.submit(visit, second).status_code == 201
    with app.app_context(), database.connection_context():
        return_to_shopper(Visit.get(Visit.uuid == visit), auditor, "Still: why?")

    again = phone.submit(visit, second)

    assert again.status_code == 200 and again.get_json()["status"] == "already_received"
    assert _stored(app, visit)[0].state == "returned"


def test_a_visit_withdrawn_while_its_phone_sends_is_said_so_not_an_error(app, org, visit, content):
    """The auditor withdraws the visit between the phone's request being read and its answers being
    stored: the phone is told the visit is no longer theirs (it was a 500, with a photo's file left
    on disk without its row)."""
    from audit import operations
    from tests_support import tiny_png

    with app.app_context(), database.connection_context():
        read_before = Visit.get(Visit.uuid == visit)
        Visit.delete().where(Visit.uuid == visit).execute()
        photos = os.path.join(app.config["MEDIA_DIR"], "photos")
        files_before = set(os.listdir(photos)) if os.path.isdir(photos) else set()
        for attempt in (
            lambda: operations.submit_visit(read_before, best_answers(content), {}, {}),
            lambda: operations.add_photo(read_before, "p-1", "shop_front", tiny_png(), app.config["MEDIA_DIR"],
                                         2**20, 10**6),
            lambda: operations.save_visit_draft(read_before, {"greeted": "yes"}, {}, {}),
        ):
            with pytest.raises(operations.SubmissionRefused) as refused:
                attempt()
            assert (refused.value.status, refused.value.code) == (404, "not_yours")
        assert (set(os.listdir(photos)) if os.path.isdir(photos) else set()) == files_before
        assert Answer.select().count() == Evidence.select().count() == 0


def _without(answers, *item_ids):
    return {k: v for k, v in answers.items() if k not in item_ids}


def _bad(**changes):
    """A complete submission with some parts replaced (None removes the key)."""
    def build(content):
        body = {"answers": best_answers(content)}
        for key, value in changes.items():
            value = value(body["answers"]) if callable(value) else value
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        return body
    return build


INVALID = [
    # (name, body builder, status, error code, {field: message or None (any message)})
    ("answers not an object", _bad(answers=lambda a: list(a)), 422, "invalid",
     {"answers": "Must be an object of item ids and answers."}),
    ("no answers at all", _bad(answers=None), 422, "invalid", {"answers": None}),
    ("unknown item", _bad(answers=lambda a: {**a, "mood": "yes"}), 422, "invalid",
     {"answers.mood": "This question is not in the checklist."}),
    ("yes/no answered maybe", _bad(answers=lambda a: {**a, "greeted": "maybe"}), 422, "invalid",
     {"answers.greeted": "Choose one of the offered answers."}),
    ("yes/no answered true", _bad(answers=lambda a: {**a, "greeted": True}), 422, "invalid",
     {"answers.greeted": "Choose one of the offered answers."}),
    ("option that is not offered", _bad(answers=lambda a: {**a, "needs_questions": "telepathy"}), 422, "invalid",
     {"answers.needs_questions": "Choose one of the offered answers."}),
    ("scale above its range", _bad(answers=lambda a: {**a, "first_impression": 6}), 422, "invalid",
     {"answers.first_impression": "Give a whole number from 1 to 5."}),
    ("scale below its range", _bad(answers=lambda a: {**a, "product_knowledge": 0}), 422, "invalid",
     {"answers.product_knowledge": "Give a whole number from 1 to 5."}),
    ("scale not whole", _bad(answers=lambda a: {**a, "first_impression": 2.5}), 422, "invalid",
     {"answers.first_impression": "Give a number."}),
    ("scale as text", _bad(answers=lambda a: {**a, "first_impression": "five"}), 422, "invalid",
     {"answers.first_impression": "Give a number."}),
    ("negative timer", _bad(answers=lambda a: {**a, "wait_for_contact": -5}), 422, "invalid",
     {"answers.wait_for_contact": "The number cannot be negative."}),
    ("timer longer than a day", _bad(answers=lambda a: {**a, "wait_for_contact": 86_401}), 422, "invalid",
     {"answers.wait_for_contact": "Give a number no larger than 86,400."}),
    ("count of 10^25", _bad(answers=lambda a: {**a, "times_repeated": 1e25}), 422, "invalid",
     {"answers.times_repeated": "Give a number no larger than 1,000,000,000."}),
    ("not applicable where not offered", _bad(answers=lambda a: {**a, "greeted": "na"}), 422, "invalid",
     {"answers.greeted": "“Not applicable” is not offered for this question."}),
    ("required answers missing", _bad(answers=lambda a: _without(a, "entrance_tidy", "till_wait")), 422, "invalid",
     {"answers.entrance_tidy": REQUIRED, "answers.till_wait": REQUIRED}),
    ("failed greeting without comment", _bad(answers=lambda a: {**a, "greeted": "no"}), 422, "invalid",
     {"answers.greeted": "Say in a comment what went wrong."}),
    ("failed greeting with a blank comment", _bad(answers=lambda a: {**a, "greeted": "no"},
                                                   comments={"greeted": "   "}), 422, "invalid",
     {"answers.greeted": "Say in a comment what went wrong."}),
    ("dirty floor without photo", _bad(answers=lambda a: {**a, "floor_clean": "no"}), 422, "invalid",
     {"answers.floor_clean": "Add a photo that shows what went wrong."}),
    ("comment too long", _bad(comments={"greeted": "x" * 4001}), 422, "invalid",
     {"answers.greeted": "This is too long: at most 4000 characters."}),
    ("comments not an object", _bad(comments=["Nice"]), 422, "invalid",
     {"comments": "Must be an object of item ids."}),
    ("comment not text", _bad(comments={"greeted": 5}), 422, "invalid", {"comments.greeted": "Must be text."}),
    ("photo ids not a list", _bad(photos={"shop_front": "p-1"}), 422, "invalid",
     {"photos.shop_front": "Must be a list of photo ids."}),
    ("unknown photo id", _bad(photos={"shop_front": ["never-uploaded"]}), 422, "invalid",
     {"answers.shop_front": "A photo of this answer has not arrived yet; send it again."}),
    ("location out of range", _bad(location={"lat": 91, "lon": 19}), 422, "invalid",
     {"location": "Must be an object with lat and lon numbers."}),
    ("location without lon", _bad(location={"lat": 47.5}), 422, "invalid", {"location": None}),
    ("location as text", _bad(location="Budapest"), 422, "invalid", {"location": None}),
    ("started_at garbage", _bad(started_at="yesterday after lunch"), 422, "invalid",
     {"started_at": "Must be a date and time like 2026-11-25T10:30:00Z."}),
    ("started_at a number", _bad(started_at=1764066600), 422, "invalid", {"started_at": None}),
    ("started_at before year 1 in UTC", _bad(started_at="0001-01-01T00:30:00+01:00"), 422, "invalid",
     {"started_at": None}),
    ("ended_at after year 9999 in UTC", _bad(ended_at="9999-12-31T23:30:00-01:00"), 422, "invalid",
     {"ended_at": None}),
]


def test_a_refusal_names_each_problem_by_its_code_too(app, phone, visit, content):
    """The phone opens the comment box only where a comment is what is missing; a timer past a day
    wants the timer fixed, a missing photo the photo picker."""
    body = {"answers": {**best_answers(content), "greeted": "no", "wait_for_contact": 86_401, "floor_clean": "no"},
            "comments": {"floor_clean": "Dusty."}}

    error = phone.submit(visit, body).get_json()["error"]

    assert error["field_codes"] == {"answers.greeted": "comment_required", "answers.wait_for_contact": "too_large",
                                    "answers.floor_clean": "photo_required"}
    assert set(error["fields"]) == set(error["field_codes"])


@pytest.mark.parametrize("build,status,code,fields", [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_submission_names_the_field_and_stores_nothing(app, phone, visit, content, build, status, code,
                                                               fields):
    response = phone.submit(visit, build(content))

    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    for field, message in fields.items():
        assert field in error["fields"], error
        if message is not None:
            assert error["fields"][field] == message
    _assert_untouched(app, visit)


@pytest.mark.parametrize("data,content_type", [
    ("answers=yes", "application/x-www-form-urlencoded"),
    ('{"answers": {"greeted": "yes"', "application/json"),  # cut off
    ('["answers"]', "application/json"),
    ('"answers"', "application/json"),
], ids=["form data", "broken JSON", "JSON list", "JSON string"])
def test_submission_that_is_not_a_json_object_is_refused(app, phone, visit, data, content_type):
    response = phone.client.post(f"{API}/{visit}/submission", data=data, content_type=content_type,
                                 headers={"X-CSRFToken": phone.token})

    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": "not_json", "message": "Send the submission as a JSON object."}
    _assert_untouched(app, visit)


@pytest.mark.parametrize("headers", [{}, {"X-CSRFToken": "forged"}], ids=["no token", "wrong token"])
def test_submission_without_the_csrf_token_is_refused(app, phone, visit, content, headers):
    response = phone.client.post(f"{API}/{visit}/submission", json={"answers": best_answers(content)},
                                 headers=headers)

    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == (
        "Your form expired or was sent from elsewhere. Please reload the page and try again.")
    _assert_untouched(app, visit)


def test_another_shoppers_visit_cannot_be_sent(app, org, login_as, visit, content):
    other = Phone(login_as("other_shopper"), _new_visit(app, org, shopper="other_shopper"))

    response = other.submit(visit, {"answers": best_answers(content)})

    assert response.status_code == 404
    _assert_untouched(app, visit)


# -- racing duplicates ------------------------------------------------------------------------------


def _race(phones, send):
    """Run send(phone, index) in one thread per phone, all released at once; returns the responses."""
    start = threading.Barrier(len(phones))
    results = [None] * len(phones)

    def run(index):
        start.wait()
        try:
            response = send(phones[index], index)
            results[index] = (response.status_code, response.get_json())
        except Exception as error:  # reported below rather than lost in the thread
            results[index] = (None, repr(error))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(phones))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.fixture
def phones(login_as, visit):
    """THREADS clients, each signed in as the shopper with its own session."""
    return [Phone(login_as("shopper"), visit) for _ in range(THREADS)]


def test_concurrent_identical_submissions_store_one_visit(app, phones, visit, content):
    body = {"answers": best_answers(content), "comments": {"greeted": "Warm hello."}}

    results = _race(phones, lambda phone, _i: phone.submit(visit, body))

    statuses = sorted(status for status, _body in results)
    assert statuses == [200] * (THREADS - 1) + [201], results
    assert sorted(body["status"] for _status, body in results) == ["already_received"] * (THREADS - 1) + ["received"]
    stored, answers, comments, _evidence = _stored(app, visit)
    assert stored.state == "submitted"
    assert answers == body["answers"] and comments == body["comments"]
    with app.app_context(), database.connection_context():
        assert Answer.select().count() == len(body["answers"])
        assert Visit.select().count() == 1


def test_concurrent_different_submissions_accept_exactly_one(app, phones, visit, content):
    bodies = [{"answers": {**best_answers(content), "wait_for_contact": 10 + i}} for i in range(THREADS)]

    results = _race(phones, lambda phone, i: phone.submit(visit, bodies[i]))

    statuses = [status for status, _body in results]
    assert statuses.count(201) == 1, results
    assert set(statuses) <= {201, 409, 200}, results
    winner = bodies[statuses.index(201)]
    stored, answers, _comments, _evidence = _stored(app, visit)
    assert stored.state == "submitted"
    assert answers == winner["answers"]
    with app.app_context(), database.connection_context():
        assert Answer.select().count() == len(winner["answers"])


# -- photos -----------------------------------------------------------------------------------------


def test_photo_is_stored_without_its_exif_once_per_client_id(app, phone, visit, content):
    original = _phone_jpeg()
    with Image.open(io.BytesIO(original)) as source:  # the upload really says where it was taken
        assert source.getexif().get_ifd(0x8825)[2] == (47.0, 29.0, 31.5)

    response = phone.upload(visit, "ph-1", original)

    assert response.status_code == 201
    assert response.get_json() == {"status": "received", "client_id": "ph-1"}
    [evidence] = _stored(app, visit)[3]
    assert (evidence.client_id, evidence.item_id, evidence.width, evidence.height) == ("ph-1", "shop_front", 640, 480)
    path = os.path.join(app.config["MEDIA_DIR"], "photos", evidence.file_name)
    with open(path, "rb") as stored_file:
        raw = stored_file.read()
    assert b"Exif" not in raw and b"SecretCam" not in raw
    with Image.open(path) as stored:
        assert stored.format == "JPEG" and not stored.getexif() and "exif" not in stored.info

    again = phone.upload(visit, "ph-1", original)

    assert again.status_code == 200
    assert again.get_json() == {"status": "already_received", "client_id": "ph-1"}
    assert [e.client_id for e in _stored(app, visit)[3]] == ["ph-1"]
    assert os.listdir(os.path.join(app.config["MEDIA_DIR"], "photos")) == [evidence.file_name]

    # The visit can now refer to it, and the photo is filed under the item it shows.
    body = {"answers": {**best_answers(content), "floor_clean": "no"},
            "photos": {"floor_clean": ["ph-1"]}}
    assert phone.submit(visit, body).status_code == 201
    assert [(e.client_id, e.item_id) for e in _stored(app, visit)[3]] == [("ph-1", "floor_clean")]


def test_a_photo_the_next_sending_leaves_out_is_taken_out_of_the_visit(app, login_as, phone, visit, content):
    """Removed on the phone after it reached the server (a returned visit's photo): the sending lists
    the photos the visit has, and the reviewer no longer sees the one it leaves out."""
    for client_id in ("ph-1", "ph-2"):
        assert phone.upload(visit, client_id, _phone_jpeg()).status_code == 201
    assert phone.submit(visit, {"answers": best_answers(content),
                                "photos": {"shop_front": ["ph-1", "ph-2"]}}).status_code == 201
    with app.app_context(), database.connection_context():
        Visit.update(state="returned", review_comment="The first photo shows a customer.").where(
            Visit.uuid == visit).execute()

    response = phone.submit(visit, {"answers": best_answers(content), "photos": {"shop_front": ["ph-2"]}})

    assert response.status_code == 201
    stored, _answers, _comments, evidence = _stored(app, visit)
    assert stored.state == "submitted" and [(e.client_id, e.item_id) for e in evidence] == [("ph-2", "shop_front")]
    # The removed photo's file is gone with its row.
    assert os.listdir(os.path.join(app.config["MEDIA_DIR"], "photos")) == [evidence[0].file_name]
    reviewer = login_as("auditor")
    page = reviewer.get(f"/review/{visit}").get_data(as_text=True)
    assert f"/review/{visit}/photos/ph-2" in page and "ph-1" not in page
    assert reviewer.get(f"/review/{visit}/photos/ph-1").status_code == 404
    assert reviewer.get(f"/review/{visit}/photos/ph-2").status_code == 200

    # A sending that says nothing of photos leaves them as they are (a client that only uploads);
    # one with an empty list leaves the visit none: naming the photo again later finds it gone.
    with app.app_context(), database.connection_context():
        Visit.update(state="returned").where(Visit.uuid == visit).execute()
    assert phone.submit(visit, {"answers": best_answers(content), "comments": {"greeted": "Photo kept."}}
                        ).status_code == 201
    assert [(e.client_id, e.item_id) for e in _stored(app, visit)[3]] == [("ph-2", "shop_front")]
    with app.app_context(), database.connection_context():
        Visit.update(state="returned").where(Visit.uuid == visit).execute()
    assert phone.submit(visit, {"answers": best_answers(content), "comments": {"greeted": "No photo after all."},
                                "photos": {}}).status_code == 201
    assert _stored(app, visit)[3] == []
    with app.app_context(), database.connection_context():
        Visit.update(state="returned").where(Visit.uuid == visit).execute()
    refused = phone.submit(visit, {"answers": best_answers(content), "photos": {"shop_front": ["ph-2"]}})
    assert refused.status_code == 422 and refused.get_json()["error"]["field_codes"] == {
        "answers.shop_front": "unknown_photo"}


def test_a_photo_that_arrives_after_the_change_that_left_it_out_reaches_no_one(app, login_as, phone, visit, content):
    """The shopper removed a photo while the visit was on its way: the change (without it) arrived
    before the photo's upload, still going. Taken as the change's photo, it reached the reviewer."""
    body = _sent_with_end(app, phone, visit, content)
    changed = {**_changed(body, first_impression=5), "photos": {}}
    assert phone.submit(visit, changed).status_code == 201  # the change, without the photo

    late = phone.client.post(f"{API}/{visit}/photos", content_type="multipart/form-data", data={
        "client_id": "ph-removed", "item_id": "shop_front", "ended_at": body["ended_at"],
        "file": (io.BytesIO(_phone_jpeg()), "shop.jpg")}, headers={"X-CSRFToken": phone.token})

    assert late.status_code == 201  # taken (a change that lists it may still come), but no question's
    [photo] = _stored(app, visit)[3]
    assert (photo.client_id, photo.item_id) == ("ph-removed", None)
    reviewer = login_as("auditor")
    assert "ph-removed" not in reviewer.get(f"/review/{visit}").get_data(as_text=True)
    assert reviewer.get(f"/review/{visit}/photos/ph-removed").status_code == 404
    # A change that lists it makes it the question's after all.
    again = {**_changed(changed), "photos": {"shop_front": ["ph-removed"]}}
    assert phone.submit(visit, again).status_code == 201
    assert [(e.client_id, e.item_id) for e in _stored(app, visit)[3]] == [("ph-removed", "shop_front")]
    assert reviewer.get(f"/review/{visit}/photos/ph-removed").status_code == 200


def test_photo_id_of_another_visit_is_refused(app, org, phone, visit):
    second = _new_visit(app, org)
    assert phone.upload(visit, "ph-1", _phone_jpeg()).status_code == 201

    response = phone.upload(second, "ph-1", _phone_jpeg())

    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "photo_elsewhere"
    assert error["message"] == "A photo with this id belongs to another visit."
    assert error["fields"] == {"client_id": "A photo with this id belongs to another visit."}
    assert _stored(app, second)[3] == []
    assert [e.client_id for e in _stored(app, visit)[3]] == ["ph-1"]


@pytest.mark.parametrize("client_id,item_id,data,fields", [
    ("ph-1", "shop_front", b"GIF89a not really", {"file": "The file is not a readable PNG or JPEG image."}),
    ("ph-1", "shop_front", b"", {"file": "The file is empty."}),
    ("ph-1", "shop_front", None, {"file": "Attach the photo as the file field."}),
    ("", "shop_front", b"jpeg", {"client_id": "Give the photo's id (at most 64 characters)."}),
    ("x" * 65, "shop_front", b"jpeg", {"client_id": "Give the photo's id (at most 64 characters)."}),
    ("ph-1", "shop_back", b"jpeg", {"item_id": "This question is not in the checklist."}),
    # A yes/no that asks for no photo, failed or not: the phone offers no camera there.
    ("ph-1", "entrance_tidy", b"jpeg", {"item_id": "This question takes no photos."}),
], ids=["not an image", "empty file", "no file", "no id", "id too long", "unknown item", "item without photos"])
def test_unusable_photo_upload_names_the_field_and_stores_nothing(app, phone, visit, client_id, item_id, data,
                                                                  fields):
    if data == b"jpeg":
        data = _phone_jpeg()

    response = phone.upload(visit, client_id, data, item_id=item_id)

    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == fields
    assert _stored(app, visit)[3] == []
    photos = os.path.join(app.config["MEDIA_DIR"], "photos")
    assert not os.path.isdir(photos) or os.listdir(photos) == []


def test_photo_upload_without_the_csrf_token_is_refused(app, phone, visit):
    response = phone.client.post(f"{API}/{visit}/photos", content_type="multipart/form-data", data={
        "client_id": "ph-1", "item_id": "shop_front", "file": (io.BytesIO(_phone_jpeg()), "shop.jpg")})

    assert response.status_code == 400 and response.is_json
    assert _stored(app, visit)[3] == []


# -- the description --------------------------------------------------------------------------------


def test_openapi_document_is_json_describing_the_four_paths(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = json.loads(response.get_data(as_text=True))
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {"/visits", "/visits/{visit_id}", "/visits/{visit_id}/submission",
                                      "/visits/{visit_id}/photos"}
    assert set(document["paths"]["/visits/{visit_id}/submission"]) == {"post"}
    assert set(document["paths"]["/visits/{visit_id}/photos"]) == {"post"}

    def refs(node):
        if isinstance(node, dict):
            yield from (node["$ref"],) if "$ref" in node else ()
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(document):  # every reference points at something that exists
        target = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]


@pytest.mark.parametrize("last_kind", ["yesno", "text"])
def test_submission_is_scored_whatever_kind_of_item_comes_last(app, org, login_as, last_kind):
    """The score stored is the checklist's score of the answers, whether the last item counts or not."""
    data, _hash = retail_checklist()
    data = json.loads(json.dumps(data))
    last = data["sections"][-1]["items"]
    if last_kind == "yesno":  # drop the closing free-text items, so a scored item is the last one
        data["sections"][-1]["items"] = [item for item in last if item["type"] != "text"] or last
    assert data["sections"][-1]["items"][-1]["type"] == last_kind
    data["id"] = f"ends-with-{last_kind}"
    with app.app_context(), database.connection_context():
        from audit.checklist import content_hash

        version, _created = publish_checklist(data, content_hash(data))
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today() + timedelta(days=5))
    answers = best_answers(data)
    answers[next(i["id"] for s in data["sections"] for i in s["items"] if i["type"] == "yesno")] = "no"
    phone = Phone(login_as("shopper"), visit.uuid)
    response = phone.submit(visit.uuid, {"answers": answers, "comments": {}})
    assert response.status_code == 201, response.get_json()
    stored, _answers, _comments, _evidence = _stored(app, visit.uuid)
    assert stored.score == display_percent(score(data, answers).overall, 4) and stored.score < 100


def test_control_characters_pasted_into_a_comment_or_a_text_are_dropped(app, phone, visit, content):
    """A BEL pasted into a comment was stored, and the visit's PDF printed it as "^G" (the form
    without JavaScript drops such characters, and the reviewer's forms refuse them); line breaks stay."""
    body = {"answers": {**best_answers(content), "greeted": "no", "comments": "Queue\x07 long.\nSlow till."},
            "comments": {"greeted": "Nobody\x07 looked\x1b up.\nThree minutes."}}
    assert phone.submit(visit, body).status_code == 201
    _stored_visit, answers, comments, _evidence = _stored(app, visit)
    assert comments["greeted"] == "Nobody looked up.\nThree minutes."
    assert answers["comments"] == "Queue long.\nSlow till."
