"""Auditors review submitted visits: approve, return with a comment, correct an answer, see warnings."""
import html
import io
import re
from datetime import date, datetime, timedelta

import pytest

from audit import ROOT
from audit.db import database
from audit.demo import best_answers
from audit.models import Answer, AuditEntry, Evidence, User, Visit, VisitEvent, VisitScore, VisitState, utcnow
from audit.operations import add_photo, publish_checklist_file, submit_visit
from conftest import csrf_from
from tests_support import tiny_png, translated



@pytest.fixture
def submitted(app, org):
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today())
        start = utcnow() - timedelta(minutes=25)
        submit_visit(visit, best_answers(version.content), {}, {}, started_at=start, ended_at=utcnow())
    return str(visit.uuid)


def _visit(app, uuid):
    with app.app_context(), database.connection_context():
        return Visit.get(Visit.uuid == uuid)


def _post(client, url, page, data=None):
    return client.post(url, data={**(data or {}), "csrf_token": csrf_from(client.get(page))})


def _answer_of(page, item_id):
    """The answer line of one item on the review page, as its reader sees it (tags out, spaces folded)."""
    row = re.search(rf'id="a-{item_id}">(.*?)</li>', page, re.S)
    assert row, f"no row for {item_id}"
    line = re.search(r'<p class="answer">(.*?)</p>', row.group(1), re.S)
    assert line, f"no answer line for {item_id}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", line.group(1))).split())


def _in_language(client, language):
    client.post("/language", data={"language": language, "csrf_token": csrf_from(client.get("/review/"))})
    return client


@pytest.fixture
def mixed(app, org):
    """A submitted visit with part points, a middle option, "not applicable", a timer and a number with a unit."""
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today())
        answers = {**best_answers(version.content), "greeted": "yes", "entrance_tidy": "no",
                   "needs_questions": "one_question", "first_impression": 3, "busy_acknowledged": "na",
                   "wait_for_contact": 95, "times_repeated": 1}
        start = utcnow() - timedelta(minutes=25)
        submit_visit(visit, answers, {}, {}, started_at=start, ended_at=utcnow())
    return str(visit.uuid)


def test_a_hungarian_reviewer_sees_the_checklists_labels_and_decimal_commas(app, login_as, mixed):
    page = _in_language(login_as("auditor"), "hu").get(f"/review/{mixed}").get_data(as_text=True)
    assert _answer_of(page, "greeted") == "Válasz: Igen · 2 / 2 pont"
    assert _answer_of(page, "entrance_tidy") == "Válasz: Nem · 0 / 1 pont A küszöb alatt"  # failed, in words too
    assert _answer_of(page, "needs_questions") == "Válasz: Csak egy-két általános kérdést tett fel · 1 / 2 pont A küszöb alatt"
    assert _answer_of(page, "first_impression") == "Válasz: 3 (1–5 skálán) · 0,5 / 1 pont A küszöb alatt"
    assert _answer_of(page, "busy_acknowledged") == "Válasz: Nem releváns"
    assert _answer_of(page, "wait_for_contact") == "Válasz: 95 mp · 0,5 / 1 pont A küszöb alatt"
    assert _answer_of(page, "times_repeated") == "Válasz: 1 alkalom · 0,5 / 1 pont A küszöb alatt"
    # A correction offers the same labels and sends the stored value.
    choices = re.search(r'<select id="value-needs_questions" name="value"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert '<option value="one_question" selected>Csak egy-két általános kérdést tett fel</option>' in choices
    assert '<option value="several_questions">Több kérdést is feltett a célról, a felhasználóról és a keretösszegről' \
        in choices


def test_an_english_reviewer_sees_the_english_labels(app, login_as, mixed):
    page = _in_language(login_as("auditor"), "en").get(f"/review/{mixed}").get_data(as_text=True)
    assert _answer_of(page, "greeted") == "Answer: Yes · Points: 2 of 2"
    assert _answer_of(page, "entrance_tidy") == "Answer: No · Points: 0 of 1 Below the pass mark"
    assert _answer_of(page, "needs_questions") == "Answer: Asked only one or two general questions · Points: 1 of 2 Below the pass mark"
    assert _answer_of(page, "first_impression") == "Answer: 3 on a scale of 1 to 5 · Points: 0.5 of 1 Below the pass mark"
    assert _answer_of(page, "busy_acknowledged") == "Answer: Not applicable"
    assert _answer_of(page, "wait_for_contact") == "Answer: 95 sec · Points: 0.5 of 1 Below the pass mark"
    assert _answer_of(page, "times_repeated") == "Answer: 1 time · Points: 0.5 of 1 Below the pass mark"


@pytest.mark.parametrize(("value", "english", "russian"), [
    (2, "2 times", "2 раза"), (5, "5 times", "5 раз"), (21, "21 times", "21 раз"), (1.5, "1.5 times", "1,5 раза"),
    (1.0, "1 time", "1 раз"),
])
def test_a_number_answer_gives_its_unit_in_the_form_its_number_takes(app, login_as, mixed, value, english, russian):
    """"1 times" read as a mistake; Russian needs three words for it (1 раз, 2 раза, 5 раз), and a
    decimal takes the form CLDR gives it (1,5 раза)."""
    with app.app_context(), database.connection_context():
        Answer.update(value=value).where((Answer.visit == _visit(app, mixed).id)
                                         & (Answer.item_id == "times_repeated")).execute()
    auditor = login_as("auditor")
    page = _in_language(auditor, "en").get(f"/review/{mixed}").get_data(as_text=True)
    assert _answer_of(page, "times_repeated").startswith(f"Answer: {english} · ")
    page = _in_language(auditor, "ru").get(f"/review/{mixed}").get_data(as_text=True)
    assert f" {russian} · " in _answer_of(page, "times_repeated")


def test_a_corrected_answer_names_both_answers_by_their_labels(app, login_as, mixed):
    auditor = _in_language(login_as("auditor"), "hu")
    _post(auditor, f"/review/{mixed}/answers/needs_questions", f"/review/{mixed}",
          {"value": "several_questions", "reason": "A felvételen három kérdés hallható."})
    page = auditor.get(f"/review/{mixed}").get_data(as_text=True)
    assert _answer_of(page, "needs_questions") == (
        "Válasz: Több kérdést is feltett a célról, a felhasználóról és a keretösszegről · 2 / 2 pont "
        "Eredeti válasz: Csak egy-két általános kérdést tett fel; a javítás oka: A felvételen három kérdés hallható.")


def _queue_rows(response):
    """The queue's table body, as its reader sees it (the filters' menus name every branch)."""
    page = html.unescape(response.get_data(as_text=True))
    return " ".join(re.sub(r"<[^>]+>", " ", re.search(r"<tbody>(.*?)</tbody>", page, re.S).group(1)).split())


def test_queue_lists_submitted_visits_oldest_first_with_filters(app, login_as, submitted, org):
    client = login_as("auditor")
    page = client.get("/review/").get_data(as_text=True)
    assert "Aurora Váci utca" in page
    other_region = org["regions"][1].id
    assert "Aurora Váci utca" not in _queue_rows(client.get(f"/review/?region={other_region}"))


def test_review_page_shows_every_answer_with_its_score_and_history(app, login_as, submitted):
    page = login_as("auditor").get(f"/review/{submitted}").get_data(as_text=True)
    assert "Sara Shopper" in page  # auditors see who made the visit; managers never do
    assert _answer_of(page, "entrance_tidy") == "Answer: Yes · Points: 1 of 1"
    assert "Submitted" in page  # the history


def test_approving_makes_the_visit_count_for_managers(app, login_as, submitted):
    auditor = login_as("auditor")
    assert _post(auditor, f"/review/{submitted}/approve", f"/review/{submitted}").status_code == 302
    visit = _visit(app, submitted)
    assert visit.state == VisitState.APPROVED.value and visit.approved_at is not None
    dashboard = login_as("manager").get("/dashboard/").get_data(as_text=True)
    assert "100.0%" in dashboard
    with app.app_context(), database.connection_context():
        events = [(e.from_state, e.to_state) for e in VisitEvent.select().where(VisitEvent.visit == visit)]
    assert events == [("assigned", "submitted"), ("submitted", "approved")]


def test_return_needs_a_comment_and_the_shopper_sees_it_and_sends_again(app, login_as, submitted):
    auditor = login_as("auditor")
    refused = auditor.post(f"/review/{submitted}/return", data={
        "comment": "", "csrf_token": csrf_from(auditor.get(f"/review/{submitted}"))}, follow_redirects=True)
    assert "Tell the shopper why the visit comes back." in refused.get_data(as_text=True)
    assert _visit(app, submitted).state == VisitState.SUBMITTED.value

    _post(auditor, f"/review/{submitted}/return", f"/review/{submitted}", {"comment": "Add the till wait time."})
    assert _visit(app, submitted).state == VisitState.RETURNED.value
    shopper = login_as("shopper")
    home = shopper.get("/visits/").get_data(as_text=True)
    assert "Add the till wait time." in home
    fill = shopper.get(f"/visits/{submitted}/fill").get_data(as_text=True)
    assert 'value="yes" checked' in fill  # the sent answers come back to be edited
    with app.app_context(), database.connection_context():
        visit = Visit.get(Visit.uuid == submitted)
        answers = best_answers(visit.checklist_version.content)
        answers["till_wait"] = 400
        assert submit_visit(visit, answers, {}, {}) == "received"
        assert Visit.get_by_id(visit.id).state == VisitState.SUBMITTED.value
        states = [e.to_state for e in VisitEvent.select().where(VisitEvent.visit == visit).order_by(VisitEvent.id)]
    assert states == ["submitted", "returned", "submitted"]


def test_a_returned_visit_reads_returned_to_you_for_its_shopper_and_to_the_shopper_for_auditors(app, login_as, org, submitted):
    """The shopper's words ("Returned to you", "To do") are about their own work; an auditor reading
    them on the visits list and the review page was told the visit came back to the auditor."""
    auditor = login_as("auditor")
    _post(auditor, f"/review/{submitted}/return", f"/review/{submitted}", {"comment": "Add the till wait time."})
    for page in (auditor.get(f"/review/{submitted}"), auditor.get("/admin/visits")):
        text = page.get_data(as_text=True)
        assert "Returned to the shopper" in text and "Returned to you" not in text
    with app.app_context(), database.connection_context():
        Visit.create(branch=org["branches"][0], checklist_version=_visit(app, submitted).checklist_version,
                     shopper=org["users"]["shopper"], planned_from=date.today(), planned_to=date.today())
    listed = auditor.get("/admin/visits").get_data(as_text=True)
    assert ">Assigned<" in listed and ">To do<" not in listed
    assert "Returned to you" in login_as("shopper").get("/visits/").get_data(as_text=True)


def test_a_correction_recomputes_the_score_and_keeps_both_values(app, login_as, submitted):
    before = _visit(app, submitted).score
    auditor = login_as("auditor")
    missing = auditor.post(f"/review/{submitted}/answers/greeted", data={
        "value": "no", "reason": "", "csrf_token": csrf_from(auditor.get(f"/review/{submitted}"))},
        follow_redirects=True)
    assert "Give the reason for the correction." in missing.get_data(as_text=True)
    bad = auditor.post(f"/review/{submitted}/answers/greeted", data={
        "value": "maybe", "reason": "typo", "csrf_token": csrf_from(auditor.get(f"/review/{submitted}"))},
        follow_redirects=True)
    assert "Choose one of the offered answers." in bad.get_data(as_text=True)
    assert _visit(app, submitted).score == before

    _post(auditor, f"/review/{submitted}/answers/greeted", f"/review/{submitted}",
          {"value": "no", "reason": "The photo shows nobody at the door."})
    visit = _visit(app, submitted)
    assert visit.original_score == before and visit.score < before
    assert visit.has_critical_failure
    with app.app_context(), database.connection_context():
        answer = Answer.get((Answer.visit == visit) & (Answer.item_id == "greeted"))
        assert (answer.value, answer.original_value, answer.correction_reason) == (
            "no", "yes", "The photo shows nobody at the door.")
        section = VisitScore.get((VisitScore.visit == visit) & (VisitScore.kind == "section")
                                 & (VisitScore.key == answer.section_id))
        assert section.percent < 100
    page = auditor.get(f"/review/{submitted}").get_data(as_text=True)
    assert "The photo shows nobody at the door." in page


def _field_of(page, item_id):
    """The correction form's answer field of one item (its tag)."""
    row = re.search(rf'id="a-{item_id}">(.*?)</li>', page, re.S).group(1)
    return re.search(r'<(?:input|select|textarea)[^>]*\bname="value"[^>]*>', row).group(0)


def test_a_number_is_corrected_in_a_number_field_that_starts_from_the_answer(app, login_as, submitted):
    """A timer's correction is typed in a number field holding the shopper's answer (it was empty and
    took any text: "1,200" seconds in English was stored as 1.2); "not applicable" is a box where
    the question offers it."""
    auditor = login_as("auditor")
    _post(auditor, f"/review/{submitted}/answers/till_wait", f"/review/{submitted}",
          {"value": "95", "reason": "The receipt shows the queue time."})
    page = auditor.get(f"/review/{submitted}").get_data(as_text=True)
    field = _field_of(page, "till_wait")
    assert 'type="number"' in field and 'value="95"' in field and 'step="1"' in field
    assert 'name="not_applicable"' in re.search(r'id="a-till_wait">(.*?)</li>', page, re.S).group(1)
    assert 'name="not_applicable"' not in re.search(r'id="a-wait_for_contact">(.*?)</li>', page, re.S).group(1)
    _post(auditor, f"/review/{submitted}/answers/till_wait", f"/review/{submitted}",
          {"value": "", "not_applicable": "y", "reason": "There was no till: the shop only takes orders."})
    with app.app_context(), database.connection_context():
        answer = Answer.get((Answer.visit == _visit(app, submitted)) & (Answer.item_id == "till_wait"))
        assert (answer.value, answer.original_value) == ("na", 0)
    empty = auditor.post(f"/review/{submitted}/answers/wait_for_contact", data={
        "value": "", "reason": "typo", "csrf_token": csrf_from(auditor.get(f"/review/{submitted}"))}, follow_redirects=True)
    assert "Give the corrected answer." in empty.get_data(as_text=True)


def test_a_correction_to_the_answer_already_given_changes_nothing(app, login_as, submitted):
    auditor = login_as("auditor")
    before = _visit(app, submitted)
    same = auditor.post(f"/review/{submitted}/answers/greeted", data={
        "value": "yes", "reason": "Checked the photo.", "csrf_token": csrf_from(auditor.get(f"/review/{submitted}"))},
        follow_redirects=True)
    assert "That is the answer already: nothing was changed." in same.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        answer = Answer.get((Answer.visit == before) & (Answer.item_id == "greeted"))
        assert answer.original_value is None and not answer.correction_reason
        assert VisitEvent.select().where(VisitEvent.visit == before).count() == 1  # the submission only
    assert _visit(app, submitted).original_score is None


def _sent_with_nothing_offered(app, org):
    """A sent visit whose shopper was offered nothing: the question on the offer's relevance is hidden."""
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today())
        answers = {**best_answers(version.content), "additional_offer": "none"}
        answers.pop("offer_relevance", None)
        submit_visit(visit, answers, {"additional_offer": "Nothing offered."}, {},
                     started_at=utcnow() - timedelta(minutes=25), ended_at=utcnow())
    return visit


def test_a_correction_that_shows_a_question_the_shopper_never_saw_says_it_has_no_answer(app, login_as, org):
    """"Nothing was offered" hid the question on the offer; corrected to "on their own initiative", the
    question applies but has no answer and counts for nothing: the reviewer is told so."""
    visit = _sent_with_nothing_offered(app, org)
    auditor = login_as("auditor")
    page = auditor.post(f"/review/{visit.uuid}/answers/additional_offer", data={
        "value": "proactive", "reason": "The recording has the offer.",
        "csrf_token": csrf_from(auditor.get(f"/review/{visit.uuid}"))}, follow_redirects=True)
    text = html.unescape(page.get_data(as_text=True))
    assert "The answer is changed and the score recomputed." in text
    assert ("The question “How relevant and free of pressure was the additional offer?” now applies and has no "
            "answer, so it counts for nothing: give its answer with its own “Change this answer” button below.") in text
    # Said once: a later correction of another question did not make it apply (it was said again each time).
    later = auditor.post(f"/review/{visit.uuid}/answers/greeted", data={
        "value": "no", "reason": "Nobody at the door.", "csrf_token": csrf_from(auditor.get(f"/review/{visit.uuid}"))},
        follow_redirects=True).get_data(as_text=True)
    assert "The answer is changed" in later and "now applies and has no answer" not in later
    back = auditor.post(f"/review/{visit.uuid}/answers/additional_offer", data={
        "value": "none", "reason": "Listened again.", "csrf_token": csrf_from(auditor.get(f"/review/{visit.uuid}"))},
        follow_redirects=True).get_data(as_text=True)
    assert "The answer is changed" in back and "now applies and has no answer" not in back  # hidden again


def test_a_question_a_correction_made_apply_is_answered_by_the_reviewers_own_correction(app, login_as, org):
    """A return gives the shopper their own answers back, under which the question is hidden again: the
    reviewer answers it with its own "Change this answer", and it counts in the score."""
    visit = _sent_with_nothing_offered(app, org)
    auditor = login_as("auditor")
    _post(auditor, f"/review/{visit.uuid}/answers/additional_offer", f"/review/{visit.uuid}",
          {"value": "proactive", "reason": "The recording has the offer."})
    page = auditor.get(f"/review/{visit.uuid}").get_data(as_text=True)
    assert 'action="/review/%s/answers/offer_relevance"' % visit.uuid in page
    shown = re.search(r'answers/offer_relevance">.*?name="shown" value="([0-9a-f]+)"', page, re.S).group(1)
    done = auditor.post(f"/review/{visit.uuid}/answers/offer_relevance", data={
        "value": "5", "reason": "Heard on the recording.", "shown": shown,
        "csrf_token": csrf_from(auditor.get(f"/review/{visit.uuid}"))}, follow_redirects=True).get_data(as_text=True)
    assert "The answer is changed and the score recomputed." in done
    with app.app_context(), database.connection_context():
        answer = Answer.get((Answer.visit == visit) & (Answer.item_id == "offer_relevance"))
        assert (answer.value, answer.correction_reason) == (5, "Heard on the recording.")
        assert answer.possible


def test_integrity_warnings_short_visit_far_check_in_and_a_reused_photo(app, login_as, org):
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visits = []
        for _ in range(2):
            visit = Visit.create(branch=org["branches"][0], checklist_version=version,
                                 shopper=org["users"]["shopper"], planned_from=date.today(), planned_to=date.today())
            add_photo(visit, f"p-{visit.id}", "shop_front", tiny_png(), app.config["MEDIA_DIR"], 2**20, 10**6)
            visits.append(visit)
        now = utcnow()
        submit_visit(visits[0], best_answers(version.content), {}, {"shop_front": [f"p-{visits[0].id}"]},
                     started_at=now - timedelta(minutes=2), ended_at=now, location=(47.52, 19.05))
        assert Evidence.select().count() == 2
    page = login_as("auditor").get(f"/review/{visits[0].uuid}").get_data(as_text=True)
    assert "The visit took 2 minutes, less than 8 minutes." in page
    assert re.search(r"Checked in \d{1,3}(,\d{3})* m from the branch \(more than 300 m\)", page)
    # Once, naming the question of the photo (it was said once per photo, naming nothing).
    assert html.unescape(page).count("A photo of “Photo of the shop front” was also used in another visit.") == 1
    # Leading to that visit, to compare them.
    assert f'<a href="/review/{visits[1].uuid}">The other visit</a>' in page
    # In the reader's words and numbers: one minute, thousands grouped the Russian way.
    with app.test_request_context():
        from flask_babel import force_locale

        from audit.views.review import warning_text

        with force_locale("ru"):
            short = warning_text("short_visit", {"minutes": 1.04, "limit": 8})
            far = warning_text("far_checkin", {"metres": 5592062, "limit": 300})
    assert "1 минута" in short and "8 минут" in short
    assert "5\u00a0592\u00a0062" in far


def test_only_a_submitted_visit_can_be_approved(app, login_as, submitted):
    auditor = login_as("auditor")
    _post(auditor, f"/review/{submitted}/return", f"/review/{submitted}", {"comment": "Time the wait again."})
    again = auditor.post(f"/review/{submitted}/approve", data={
        "csrf_token": csrf_from(auditor.get(f"/review/{submitted}"))}, follow_redirects=True)
    assert "This visit was returned to the shopper meanwhile (by Anna Auditor at" in again.get_data(as_text=True)
    assert _visit(app, submitted).state == "returned"


def test_the_audit_log_names_who_reviewed_and_corrected(app, login_as, submitted):
    auditor = login_as("auditor")
    _post(auditor, f"/review/{submitted}/answers/greeted", f"/review/{submitted}",
          {"value": "no", "reason": "Nobody at the door."})
    _post(auditor, f"/review/{submitted}/approve", f"/review/{submitted}")
    page = auditor.get("/admin/log").get_data(as_text=True)
    assert "Answer corrected: " in page and "Reason: Nobody at the door." in page
    # The question and the answer in words, as the review page says them (not "greeted", "no").
    content = _visit(app, submitted).checklist_version.content
    greeted = next(item for section in content["sections"] for item in section["items"] if item["id"] == "greeted")
    assert f"Question: {greeted['text']['en']}" in page and "Question: greeted" not in page and "New answer: No" in page
    assert f"Visit approved: {submitted}" in page and "Anna Auditor" in page


def test_the_audit_log_says_changes_the_readers_way_not_in_codes(app):
    """An editor's page name ("editor.item"), a stored answer code ("no") and ISO dates were shown as
    they were stored."""
    from flask_babel import force_locale

    from audit.auditlog import detail_lines

    with app.test_request_context(), force_locale("hu"):
        lines = dict(detail_lines({"endpoint": "editor.item", "item_id": "entrance_tidy", "value": "na",
                                   "window": "2026-11-27–2026-12-06 → 2026-12-01–2026-12-10"}, "Igen", "Nem"))
        # Numbers as the reader writes them: a corrected 1.5 whose checklist is gone, a count of visits.
        numbers = dict(detail_lines({"value": 1.5, "count": 1200, "source": 3}, "Igen", "Nem"))
    assert lines == {"Mi": "Tétel mentve.", "Tételazonosító": "entrance_tidy", "Új válasz": "Nem releváns",
                     "Időablak": "2026. nov. 27.–2026. dec. 6. → 2026. dec. 1.–2026. dec. 10."}
    assert numbers == {"Új válasz": "1,5", "Szám": "1\u00a0200", "Kiinduló verzió": "3"}


def test_the_audit_log_reads_in_the_readers_language_a_page_at_a_time(app, login_as, submitted):
    """A reviewer's words come back as typed (not as JSON escapes), what happened is said in the
    reader's language, and a year of changes is read 50 entries a page."""
    auditor = _in_language(login_as("auditor"), "ru")
    _post(auditor, f"/review/{submitted}/return", f"/review/{submitted}", {"comment": "Пожалуйста, проверьте фото"})
    with app.app_context(), database.connection_context():
        from audit.models import AuditEntry

        AuditEntry.insert_many([{"action": "branch.saved", "target": f"BUD-{n:02d}", "details": {"new": False}}
                                for n in range(60)]).execute()
    first = html.unescape(auditor.get("/admin/log").get_data(as_text=True))
    assert first.count("<tr>") == 1 + 50 and "Страница 1 из 2" in first
    second = html.unescape(auditor.get("/admin/log?page=2").get_data(as_text=True))
    returned = translated(app, "ru", "Visit returned to the shopper")
    assert returned != "Visit returned to the shopper"
    assert f"{returned}: {submitted}" in second
    assert f"{translated(app, 'ru', 'Comment')}: Пожалуйста, проверьте фото" in second
    assert "\\u041f" not in second and "visit.returned" not in second


def test_the_queue_comes_50_a_page_with_its_shoppers_in_a_few_queries(app, login_as, org, submitted):
    """A chain's month of visits waits for review at once: listed whole, each row also read its
    shopper on its own."""
    import uuid

    with app.app_context(), database.connection_context():
        first = Visit.get(Visit.uuid == submitted)
        Visit.insert_many([{"branch": first.branch_id, "checklist_version": first.checklist_version_id,
                            "shopper": org["users"]["other_shopper"].id, "planned_from": date.today(),
                            "planned_to": date.today(), "state": VisitState.SUBMITTED.value, "uuid": uuid.uuid4(),
                            "submitted_at": utcnow() + timedelta(minutes=n), "score": 80} for n in range(60)]).execute()
    client = login_as("auditor")
    statements = []
    execute_sql = database.obj.execute_sql
    database.obj.execute_sql = lambda sql, *args, **kwargs: statements.append(sql) or execute_sql(sql, *args, **kwargs)
    try:
        page = client.get("/review/").get_data(as_text=True)
    finally:
        del database.obj.execute_sql
    rows = re.findall(r'<a href="/review/([0-9a-f-]{36})[?"]', page)
    assert len(rows) == 50 and rows[0] == submitted and "Page 1 of 2" in page  # the oldest first
    assert "Sara Shopper" in page and "Otto Othershopper" in page
    assert len(statements) < 12, statements  # not one for each row's shopper
    shopper = org["users"]["other_shopper"].id
    filtered = client.get(f"/review/?shopper={shopper}").get_data(as_text=True)
    assert f'href="/review/?page=2&amp;shopper={shopper}"' in filtered  # the next page keeps the filter
    second = client.get(f"/review/?page=2&shopper={shopper}").get_data(as_text=True)
    assert len(re.findall(r'<a href="/review/([0-9a-f-]{36})[?"]', second)) == 10


def test_a_huge_number_answer_still_shows_on_the_review_page_and_in_the_visit_report(app, login_as, org):
    """Numbers of 10^25 and more do not fit the default decimal precision: showing such an answer
    failed, and with it the whole review page and, once approved, the visit report. Submissions are
    now refused past a day or a billion (scoring.LARGEST_ANSWER), but answers stored before are shown."""
    from audit.review import approve

    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today())
        submit_visit(visit, best_answers(version.content), {}, {}, started_at=utcnow() - timedelta(minutes=25),
                     ended_at=utcnow())
        for item_id, stored_before in (("wait_for_contact", 1e30), ("times_repeated", 10 ** 40)):
            Answer.update(value=stored_before).where((Answer.visit == visit) & (Answer.item_id == item_id)).execute()
    auditor = _in_language(login_as("auditor"), "hu")
    page = auditor.get(f"/review/{visit.uuid}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert _answer_of(text, "times_repeated").startswith("Válasz: 10 000 000 000 000 000 000 000 000 000 000 000 000 000 alkalom")
    assert _answer_of(text, "wait_for_contact").startswith("Válasz: 1 000 000 000 000 000 000 000 000 000 000 mp")
    with app.app_context(), database.connection_context():
        approve(Visit.get_by_id(visit.id), org["users"]["auditor"])
    report = login_as("manager").get(f"/reports/visits/{visit.uuid}.pdf?lang=hu")
    assert report.status_code == 200 and report.data.startswith(b"%PDF")


def test_a_returned_visit_sent_again_has_no_score_before_corrections_of_the_last_review(app, login_as, org, mixed):
    """The corrections belonged to the submission the reviewer returned; the new one has none yet, so
    the page no longer says "before corrections" with the old figure. The history keeps what happened."""
    from audit.review import return_to_shopper

    auditor = login_as("auditor")
    _post(auditor, f"/review/{mixed}/answers/needs_questions", f"/review/{mixed}",
          {"value": "several_questions", "reason": "Three questions can be heard on the recording."})
    corrected = auditor.get(f"/review/{mixed}").get_data(as_text=True)
    assert "before corrections:" in corrected
    with app.app_context(), database.connection_context():
        visit = return_to_shopper(Visit.get(Visit.uuid == mixed), org["users"]["auditor"], "Add the receipt photo.")
        answers = {a.item_id: a.value for a in Answer.select().where(Answer.visit == visit.id)}
        # Sent again from the phone (a Send of its own: another time than the returned sending's).
        submit_visit(Visit.get_by_id(visit.id), answers, {}, {}, started_at=utcnow() - timedelta(minutes=30),
                     ended_at=utcnow() - timedelta(minutes=10))
        assert Visit.get_by_id(visit.id).original_score is None
    page = auditor.get(f"/review/{mixed}").get_data(as_text=True)
    assert "before corrections:" not in page
    needs_questions = next(item for section in _visit(app, mixed).checklist_version.content["sections"]
                           for item in section["items"] if item["id"] == "needs_questions")
    assert (f"“{needs_questions['text']['en']}”: Asked only one or two general questions → Asked several questions "
            "about the purpose, the user and the budget. Reason: Three questions can be heard on the recording."
            ) in html.unescape(page)  # in the history


def test_a_photo_item_shows_its_photos_and_no_empty_answer(app, login_as, mixed):
    page = login_as("auditor").get(f"/review/{mixed}").get_data(as_text=True)
    row = re.search(r'id="a-shop_front">(.*?)</li>', page, re.S).group(1)
    assert 'class="answer"' not in row  # no "Answer: —" above where its photos go
    assert 'class="answer"' in re.search(r'id="a-greeted">(.*?)</li>', page, re.S).group(1)


def test_a_correction_back_to_the_shoppers_own_answer_leaves_no_correction(app, login_as, submitted):
    """Corrected to "not applicable", then back to the shopper's 0 seconds: the page said "Corrected
    from 0 sec" on an answer that is the shopper's own."""
    auditor = login_as("auditor")
    for value, reason in (("", "No till here."), ("0", "There was a till after all.")):
        _post(auditor, f"/review/{submitted}/answers/till_wait", f"/review/{submitted}",
              {"value": value, "not_applicable": "y" if not value else "", "reason": reason})
    with app.app_context(), database.connection_context():
        answer = Answer.get((Answer.visit == _visit(app, submitted)) & (Answer.item_id == "till_wait"))
        assert (answer.value, answer.original_value, answer.correction_reason) == (0, None, "")
    visit = _visit(app, submitted)
    assert visit.original_score is None
    page = auditor.get(f"/review/{submitted}").get_data(as_text=True)
    assert "Corrected from" not in page and "before corrections" not in page


def test_a_corrections_message_is_shown_at_its_question_where_the_page_opens(app, login_as, submitted):
    """The page comes back at the corrected question (#a-<item>): a message at the top was far above
    the screen, and the auditor saw nothing happen."""
    auditor = login_as("auditor")
    done = _post(auditor, f"/review/{submitted}/answers/wait_for_contact", f"/review/{submitted}",
                 {"value": "60", "reason": "typo"})
    assert done.headers["Location"].endswith("?corrected=wait_for_contact#a-wait_for_contact")
    # A refused one comes back as typed, its messages there and its field focused (the page opens there).
    answer = auditor.post(f"/review/{submitted}/answers/wait_for_contact", data={
        "value": "", "reason": "typo", "csrf_token": csrf_from(auditor.get(f"/review/{submitted}"))})
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    row = re.search(r'id="a-wait_for_contact">(.*?)</li>', page, re.S).group(1)
    assert "Give the corrected answer." in row and '<details class="correct" open>' in row
    assert page.count("Give the corrected answer.") == 1


def test_a_correction_reaching_a_visit_returned_meanwhile_is_refused_and_changes_nothing(app, org, submitted):
    """Two reviewers at once: one returns the visit while the other's correction is on its way (read
    as waiting for review). The correction went to the returned visit, whose next sending replaces
    every answer, and its event said "submitted -> submitted"."""
    from audit.review import ReviewRefused, correct_answer, return_to_shopper

    with app.app_context(), database.connection_context():
        read_by_the_corrector = Visit.get(Visit.uuid == submitted)
        return_to_shopper(Visit.get(Visit.uuid == submitted), org["users"]["auditor"], "Was nobody at the door?")
        with pytest.raises(ReviewRefused) as refused:
            correct_answer(read_by_the_corrector, "greeted", "no", "The photo shows nobody.", org["users"]["auditor"])
        assert refused.value.code == "not_submitted"
        greeted = Answer.get((Answer.visit == read_by_the_corrector) & (Answer.item_id == "greeted"))
        assert (greeted.value, greeted.original_value, greeted.correction_reason) == ("yes", None, "")
        assert [(e.from_state, e.to_state) for e in VisitEvent.select().where(
            VisitEvent.visit == read_by_the_corrector).order_by(VisitEvent.id)] == [
            ("assigned", "submitted"), ("submitted", "returned")]
        stored = Visit.get(Visit.uuid == submitted)
        assert (stored.state, stored.original_score) == ("returned", None)


def test_a_comment_naming_the_shopper_is_corrected_before_a_manager_reads_it(app, login_as, org, submitted):
    """Managers never learn who made a visit, but a shopper may sign a comment ("Nobody greeted me,
    Eszter Varga"): the reviewer could correct answers only, and the name reached the manager's
    visit report, branch report and exports."""
    with app.app_context(), database.connection_context():
        visit = Visit.get(Visit.uuid == submitted)
        Answer.update(value="no", comment="Nobody greeted me, Eszter Varga, for two minutes.").where(
            (Answer.visit == visit) & (Answer.item_id == "greeted")).execute()
    auditor = login_as("auditor")
    page = html.unescape(auditor.get(f"/review/{submitted}").get_data(as_text=True))
    assert "Change this comment" in page
    url = f"/review/{submitted}/comments/greeted"
    without_reason = _post(auditor, url, f"/review/{submitted}", {"comment": "Nobody greeted me for two minutes."})
    assert "Give the reason for the correction." in html.unescape(without_reason.get_data(as_text=True))
    response = _post(auditor, url, f"/review/{submitted}",
                     {"comment": "Nobody greeted me for two minutes.", "reason": "Name removed."})
    assert "The comment is changed." in html.unescape(auditor.get(response.headers["Location"]).get_data(as_text=True))
    _post(auditor, f"/review/{submitted}/approve", f"/review/{submitted}")
    with app.app_context(), database.connection_context():
        answer = Answer.get((Answer.visit == visit) & (Answer.item_id == "greeted"))
        assert answer.comment == "Nobody greeted me for two minutes."
        entry = AuditEntry.get(AuditEntry.action == "comment.corrected")
        assert entry.details == {"item": "greeted", "reason": "Name removed."}  # not the words that had to go
    # The log names the question in words, as it does for a corrected answer (it showed "greeted").
    log = html.unescape(auditor.get("/admin/log").get_data(as_text=True))
    assert "Did a staff member greet you?" in log
    manager = login_as("manager")
    from pypdf import PdfReader

    report = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(
        manager.get(f"/reports/visits/{submitted}.pdf?lang=en").data)).pages).split())
    assert "Nobody greeted me for two minutes." in report and "Eszter" not in report
    exported = manager.get("/reports/export.csv?kind=answers&days=30").get_data(as_text=True)
    assert "Nobody greeted me for two minutes." in exported and "Eszter" not in exported


def test_a_text_answer_is_corrected_in_a_box_that_keeps_its_lines(app, login_as, submitted):
    """A one-line field ran a shopper's lines together ("...fine.Line two: ...")."""
    with app.app_context(), database.connection_context():
        Answer.update(value="Line one: greeting fine.\nLine two: my name is Mária.").where(
            (Answer.visit == Visit.get(Visit.uuid == submitted)) & (Answer.item_id == "comments")).execute()
    auditor = login_as("auditor")
    page = auditor.get(f"/review/{submitted}").get_data(as_text=True)
    assert re.search(r'<textarea id="value-comments"[^>]*>Line one: greeting fine.\nLine two: my name is Mária.</textarea>',
                     html.unescape(page))
    _post(auditor, f"/review/{submitted}/answers/comments", f"/review/{submitted}",
          {"value": "Line one: greeting fine.\r\nLine two: [name removed].", "reason": "Name removed."})
    with app.app_context(), database.connection_context():
        assert Answer.get((Answer.visit == Visit.get(Visit.uuid == submitted)) & (Answer.item_id == "comments")).value == (
            "Line one: greeting fine.\nLine two: [name removed].")


def test_an_approved_visit_is_reached_for_review_from_its_branch_page(app, login_as, submitted):
    """In no queue once approved: a reviewer correcting it after a manager's dispute typed its address."""
    auditor = login_as("auditor")
    _post(auditor, f"/review/{submitted}/approve", f"/review/{submitted}")
    with app.app_context(), database.connection_context():
        branch = Visit.get(Visit.uuid == submitted).branch_id
    assert f'href="/review/{submitted}"' in auditor.get(f"/dashboard/branches/{branch}?period=30").get_data(as_text=True)
    manager_page = login_as("manager").get(f"/dashboard/branches/{branch}?period=30").get_data(as_text=True)
    assert f"/reports/visits/{submitted}.pdf" in manager_page and f'href="/review/{submitted}"' not in manager_page


@pytest.mark.parametrize("offset_tag", [None, "+01:00"], ids=["zone-of-the-organisation", "zone-the-camera-wrote"])
def test_a_photo_taken_during_the_visit_by_a_local_clock_raises_no_warning(app, org, offset_tag):
    """A camera writes its local time: read as UTC, every photo of a visit in Budapest (UTC+1) was
    "taken outside the time of the visit"; a photo taken hours before still is."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from PIL import Image

    from audit.review import integrity_warnings

    def photo_taken_at(moment):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = moment.strftime("%Y:%m:%d %H:%M:%S")
        if offset_tag:
            exif.get_ifd(0x8769)[0x9011] = offset_tag
        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), "grey").save(buffer, "JPEG", exif=exif)
        return buffer.getvalue()

    app.config["TIME_ZONE"] = "Europe/Budapest"
    ended = datetime(2026, 11, 20, 14, 0)  # UTC; 15:00 in Budapest
    local = ended.replace(tzinfo=timezone.utc).astimezone(ZoneInfo("Europe/Budapest")).replace(tzinfo=None)
    with app.test_request_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date(2026, 11, 19), planned_to=date(2026, 11, 21),
                             created_at=datetime(2026, 11, 19, 8, 0))
        add_photo(visit, "during", "shop_front", photo_taken_at(local - timedelta(minutes=10)),
                  app.config["MEDIA_DIR"], 2**20, 10**6)
        Visit.update(started_at=ended - timedelta(minutes=30), ended_at=ended).where(Visit.id == visit.id).execute()
        assert "photo_time" not in [code for code, _d in integrity_warnings(Visit.get_by_id(visit.id), 8, 300)]
        add_photo(visit, "before", "shop_front", photo_taken_at(local - timedelta(hours=3)),
                  app.config["MEDIA_DIR"], 2**20, 10**6)
        assert ("photo_time", {"photo": "before"}) in integrity_warnings(Visit.get_by_id(visit.id), 8, 300)


def test_the_button_beside_an_answer_says_it_changes_it_not_that_it_is_right(app, login_as, submitted):
    """A button "Correct" beside an answer read as a judgement ("this answer is correct")."""
    page = html.unescape(login_as("auditor").get(f"/review/{submitted}").get_data(as_text=True))
    row = re.search(r'id="a-greeted">(.*?)</li>', page, re.S).group(1)
    summaries = [" ".join(re.sub(r"<[^>]+>", " ", summary).split())
                 for summary in re.findall(r"<summary>(.*?)</summary>", row, re.S)]
    assert summaries == ["Change this answer : Did a staff member greet you?"]
    assert re.findall(r'<button type="submit" class="secondary small">([^<]*)</button>', row) == ["Save the change"]
    assert not re.search(r"<summary>\s*Correct\b", page)


def test_the_queue_filters_checklists_by_their_titles_in_the_readers_language(app, login_as, submitted):
    auditor = login_as("auditor")
    offered = re.search(r'<select[^>]*name="checklist".*?</select>', auditor.get("/review/").get_data(as_text=True), re.S).group(0)
    assert ">Retail store visit<" in offered and ">retail-store-visit<" not in offered
    auditor.post("/language", data={"language": "ru", "csrf_token": csrf_from(auditor.get("/review/")), "next": "/review/"})
    russian = re.search(r'<select[^>]*name="checklist".*?</select>', auditor.get("/review/").get_data(as_text=True), re.S).group(0)
    assert ">Посещение магазина<" in russian


def test_the_queue_leaves_out_a_checklist_only_drafted_so_far(app, login_as, submitted):
    """A checklist begun in the editor, never published, has no visit to review: it was offered by its id."""
    auditor = login_as("auditor")
    token = csrf_from(auditor.get("/checklists/new"))
    assert auditor.post("/checklists/new", data={"checklist_id": "quick-check", "source": "en", "title": "Quick check",
                                                 "csrf_token": token}).status_code == 302
    offered = re.search(r'<select[^>]*name="checklist".*?</select>', auditor.get("/review/").get_data(as_text=True), re.S).group(0)
    assert ">Retail store visit<" in offered
    assert "quick-check" not in offered and "Quick check" not in offered


def test_the_history_says_a_correction_with_its_question_not_submitted(app, login_as, submitted):
    """A correction was listed as "Submitted · Anna Auditor · greeted: ...", as if the reviewer had
    sent the visit, the question by its id."""
    auditor = login_as("auditor")
    _post(auditor, f"/review/{submitted}/answers/greeted", f"/review/{submitted}",
          {"value": "no", "reason": "The CCTV shows nobody at the door."})
    page = html.unescape(auditor.get(f"/review/{submitted}").get_data(as_text=True))
    history = re.search(r"<h2>History</h2>(.*?)</ul>", page, re.S).group(1)
    greeted = next(item for section in _visit(app, submitted).checklist_version.content["sections"]
                   for item in section["items"] if item["id"] == "greeted")
    assert (f"Corrected · Anna Auditor · “{greeted['text']['en']}”: Yes → No. Reason: The CCTV shows nobody at the door."
            in " ".join(history.split()))
    assert history.count("Submitted") == 1  # the shopper's sending only


def _history_of(client, uuid):
    """The review page's history, one line per entry as its reader sees it (the time left out)."""
    page = html.unescape(client.get(f"/review/{uuid}").get_data(as_text=True))
    section = re.search(r"<h2>[^<]*</h2>\s*<ul>(.*?)</ul>\s*</section>\s*</main>", page, re.S).group(1)
    return [" ".join(re.sub(r"<[^>]+>", " ", line).split()).split(" · ", 1)[1]
            for line in re.findall(r"<li>(.*?)</li>", section, re.S)]


def test_the_history_says_what_each_corrected_answer_was_and_what_it_became(app, login_as, mixed):
    """QA: the history listed a correction by its question and reason only; which answer it changed,
    and to what, was nowhere once the answer was corrected again."""
    auditor = login_as("auditor")
    for item_id, value, reason in (("greeted", "no", "Nobody at the door."), ("greeted", "yes", "Seen again."),
                                   ("first_impression", "5", "The recording."),
                                   ("wait_for_contact", "40", "Timed on the CCTV."),
                                   ("busy_acknowledged", "yes", "It was busy."),
                                   ("comments", "Line one.\r\nLine two " + "x" * 100, "Name removed.")):
        _post(auditor, f"/review/{mixed}/answers/{item_id}", f"/review/{mixed}", {"value": value, "reason": reason})
    question = {item["id"]: item["text"]["en"] for section in _visit(app, mixed).checklist_version.content["sections"]
                for item in section["items"]}
    assert _history_of(auditor, mixed)[1:] == [
        f"Corrected · Anna Auditor · “{question['greeted']}”: Yes → No. Reason: Nobody at the door.",
        f"Corrected · Anna Auditor · “{question['greeted']}”: No → Yes. Reason: Seen again.",
        f"Corrected · Anna Auditor · “{question['first_impression']}”: 3 → 5. Reason: The recording.",
        f"Corrected · Anna Auditor · “{question['wait_for_contact']}”: 95 sec → 40 sec. Reason: Timed on the CCTV.",
        f"Corrected · Anna Auditor · “{question['busy_acknowledged']}”: Not applicable → Yes. Reason: It was busy.",
        f"Corrected · Anna Auditor · “{question['comments']}”: “Calm and helpful.” → “Line one. Line two "
        + "x" * 60 + "…”. Reason: Name removed.",  # a long text cut, its lines as one
    ]
    # In the reviewer's language, as the answers above it are shown.
    hungarian = _history_of(_in_language(auditor, "hu"), mixed)
    assert "Köszöntötte Önt egy munkatárs?" in hungarian[1] and "Igen → Nem" in hungarian[1]
    assert "95 mp → 40 mp" in hungarian[4]


def test_the_history_says_a_question_had_no_answer_before_its_correction(app, login_as, org):
    visit = _sent_with_nothing_offered(app, org)
    auditor = login_as("auditor")
    for item_id, value in (("additional_offer", "proactive"), ("offer_relevance", "5")):
        _post(auditor, f"/review/{visit.uuid}/answers/{item_id}", f"/review/{visit.uuid}",
              {"value": value, "reason": "The recording has the offer."})
    assert _history_of(auditor, visit.uuid)[-1] == (
        "Corrected · Anna Auditor · “How relevant and free of pressure was the additional offer?”: not answered → 5. "
        "Reason: The recording has the offer.")


def test_a_corrected_comment_is_said_as_one_without_its_words(app, login_as, org, submitted):
    with app.app_context(), database.connection_context():
        Answer.update(comment="Nobody greeted me, Eszter Varga.").where(
            (Answer.visit == _visit(app, submitted)) & (Answer.item_id == "greeted")).execute()
    auditor = login_as("auditor")
    _post(auditor, f"/review/{submitted}/comments/greeted", f"/review/{submitted}",
          {"comment": "Nobody greeted me.", "reason": "Name removed."})
    assert _history_of(auditor, submitted)[-1] == (
        "Comment corrected · Anna Auditor · Did a staff member greet you?: Name removed.")


def test_older_corrections_in_the_history_show_what_they_kept(app, login_as, org, submitted):
    """Corrections made before the history kept their answers (schema 17) have only "item: reason";
    one kept in part, or of a question the checklist lacks, is said as far as it is known."""
    with app.app_context(), database.connection_context():
        visit = _visit(app, submitted)
        auditor = org["users"]["auditor"]
        for comment, details in (("greeted: Before schema 17.", None),
                                 ("greeted: Only the new answer.", {"item": "greeted", "now": "no"}),
                                 ("greeted: Only the old answer.", {"item": "greeted", "was": None}),
                                 ("gone: A question not in the checklist.", {"item": "gone", "was": 1, "now": 2}),
                                 ("greeted: Odd details.", ["not", "a", "mapping"])):
            VisitEvent.create(visit=visit, from_state="submitted", to_state="submitted", actor=auditor,
                              comment=comment, details=details)
    assert _history_of(login_as("auditor"), submitted)[1:] == [
        "Corrected · Anna Auditor · Did a staff member greet you?: Before schema 17.",
        "Corrected · Anna Auditor · “Did a staff member greet you?”: now No. Reason: Only the new answer.",
        "Corrected · Anna Auditor · “Did a staff member greet you?”: was not answered. Reason: Only the old answer.",
        "Corrected · Anna Auditor · “gone”: 1 → 2. Reason: A question not in the checklist.",
        "Corrected · Anna Auditor · Did a staff member greet you?: Odd details.",
    ]


def test_a_visit_made_outside_its_window_is_flagged_for_the_reviewer(app, login_as, org):
    """The client pays for visits in the window agreed (QA: one made the day before its window began
    passed without a word); one made within it raises nothing."""
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        early, inside = [Visit.create(branch=org["branches"][0], checklist_version=version,
                                      shopper=org["users"]["shopper"], planned_from=start,
                                      planned_to=start + timedelta(days=9))
                         for start in (date.today() + timedelta(days=1), date.today() - timedelta(days=1))]
        now = utcnow()
        for visit in (early, inside):
            submit_visit(visit, best_answers(version.content), {}, {}, started_at=now - timedelta(minutes=30),
                         ended_at=now)
    auditor = login_as("auditor")
    first, last = date.today() + timedelta(days=1), date.today() + timedelta(days=10)
    with app.test_request_context():
        from flask_babel import format_date
        expected = (f"Made on {format_date(date.today())}, outside its window "
                    f"({format_date(first)} to {format_date(last)}).")
    assert expected in html.unescape(auditor.get(f"/review/{early.uuid}").get_data(as_text=True))
    assert "outside its window" not in auditor.get(f"/review/{inside.uuid}").get_data(as_text=True)


def test_returning_a_corrected_visit_says_first_that_the_corrections_are_undone(app, login_as, submitted):
    """The shopper sends their own answers again, so a return undoes the reviewer's corrections (QA:
    found out only after, when the visit came back without them)."""
    auditor = login_as("auditor")
    note = "Your corrections of this visit are undone when it is returned"
    assert note not in auditor.get(f"/review/{submitted}").get_data(as_text=True)
    with app.app_context(), database.connection_context():
        Answer.update(correction_reason="Receipt shows 3 minutes.", original_value=4).where(
            (Answer.visit == Visit.get(Visit.uuid == submitted).id) & (Answer.item_id == "first_impression")).execute()
    assert note in html.unescape(auditor.get(f"/review/{submitted}").get_data(as_text=True))


def test_the_reason_of_a_correction_says_managers_read_it(app, login_as, submitted):
    """The reason is printed beside the answer in the manager's visit report (tests/test_reports.py): the
    field says so, as the comment's does, so that nobody names the shopper in it."""
    page = login_as("auditor").get(f"/review/{submitted}").get_data(as_text=True)
    row = re.search(r'id="a-greeted">(.*?)</li>', page, re.S).group(1)
    field = re.search(r'<input[^>]*id="reason-greeted"[^>]*>', row).group(0)
    assert 'aria-describedby="reason-greeted-hint"' in field
    hint = re.search(r'<p class="hint" id="reason-greeted-hint">(.*?)</p>', row).group(1)
    assert hint == "Managers read this reason beside the answer in their reports: do not name the shopper in it."


def test_a_failed_answer_says_so_in_words_and_the_critical_failure_names_its_questions(app, org, login_as):
    """The row's red edge alone told no screen reader that an answer failed, nor anyone what 0.25 of 1
    meant; "A critical item failed." left the reviewer to look for which among 60 questions."""
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today())
        submit_visit(visit, {**best_answers(version.content), "greeted": "no", "entrance_tidy": "no"},
                     {"greeted": "Nobody at the door.", "entrance_tidy": "Boxes at the door."}, {},
                     started_at=utcnow() - timedelta(minutes=25), ended_at=utcnow())
    page = login_as("auditor").get(f"/review/{visit.uuid}").get_data(as_text=True)

    assert page.count('<span class="badge failed-tag">Below the pass mark</span>') == 2
    critical = re.search(r'A critical item failed\.(.*?)</p>', page, re.S).group(1)
    assert re.findall(r'<a href="#a-(\w+)">', critical) == ["greeted"]  # the tidy entrance is not critical


def test_an_approved_visit_goes_back_to_the_review_with_a_reason_and_leaves_the_managers_figures(
        app, login_as, submitted):
    """Approve had no way back: a visit approved by mistake (the next one's button), or one a client
    queries, could be corrected but never returned to its shopper, nor taken out of the figures."""
    auditor, manager = login_as("auditor"), login_as("manager")
    page = f"/review/{submitted}"
    assert _post(auditor, f"{page}/approve", page).status_code == 302
    assert manager.get(f"/reports/visits/{submitted}.pdf").status_code == 200
    assert manager.get(page).status_code == 403  # managers never reach it

    no_reason = _post(auditor, f"{page}/reopen", page, {"reason": "  "})
    assert no_reason.status_code == 422 and "Say why the visit goes back to the review." in no_reason.get_data(as_text=True)
    assert _visit(app, submitted).state == VisitState.APPROVED.value
    assert _post(manager, f"{page}/reopen", "/dashboard/", {"reason": "x"}).status_code == 403

    reopened = _post(auditor, f"{page}/reopen", page, {"reason": "Approved by mistake: the photo is of another shop."})

    assert reopened.status_code == 302
    visit = _visit(app, submitted)
    assert visit.state == VisitState.SUBMITTED.value and visit.approved_at is None
    assert manager.get(f"/reports/visits/{submitted}.pdf").status_code == 404  # out of the figures
    text = " ".join(html.unescape(auditor.get(page).get_data(as_text=True)).split())
    assert "Back in the review · Anna Auditor · Approved by mistake: the photo is of another shop." in text
    assert "Approved visit back in the review" in auditor.get("/admin/log").get_data(as_text=True)
    again = _post(auditor, f"{page}/reopen", page, {"reason": "Twice."})
    assert again.status_code == 409 and "Only an approved visit can go back to the review." in again.get_data(as_text=True)
    # Now it can be returned to its shopper, or approved again.
    returned = _post(auditor, f"{page}/return", page, {"comment": "Take the photo of this shop.", "seen": visit.submission_hash})
    assert returned.status_code == 302 and _visit(app, submitted).state == VisitState.RETURNED.value


def test_the_queue_names_each_visits_checklist_and_the_day_it_was_made(app, login_as, submitted):
    """A call and a shop visit queue together, and a visit sent offline days later is of its own day."""
    with app.app_context(), database.connection_context():
        Visit.update(ended_at=utcnow() - timedelta(days=3)).where(Visit.uuid == submitted).execute()
        made = _visit(app, submitted).ended_at
    page = " ".join(html.unescape(login_as("auditor").get("/review/").get_data(as_text=True)).split())
    row = re.search(r"<tr> <th scope=\"row\"><a href=\"/review/%s\">.*?</tr>" % submitted, page).group(0)
    assert "<h1>Visits waiting for review <span class=\"muted\">(1)</span></h1>" in page  # how many, filtered
    assert '<td data-label="Checklist">Retail store visit</td>' in row
    assert f'<td data-label="Visited">{made:%b} {made.day}, {made.year}</td>' in row


def test_the_return_note_says_which_language_the_shopper_reads(app, login_as, org, submitted):
    """The note reaches the shopper as written: the reviewer is told the language to write it in."""
    with app.app_context(), database.connection_context():
        User.update(language="ru").where(User.id == org["users"]["shopper"].id).execute()
    page = html.unescape(login_as("auditor").get(f"/review/{submitted}").get_data(as_text=True))
    assert "Sara Shopper reads the app in Русский." in page


def test_the_same_photo_given_for_two_questions_of_a_visit_is_flagged(app, login_as, org):
    """The shop front given as the shelf too: each question needs its own picture."""
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today())
        for client_id, item_id in (("front", "shop_front"), ("again", "entrance_tidy")):
            add_photo(visit, client_id, item_id, tiny_png(), app.config["MEDIA_DIR"], 2**20, 10**6)
        submit_visit(visit, {**best_answers(version.content), "entrance_tidy": "no"},
                     {"entrance_tidy": "Boxes at the door."}, {"shop_front": ["front"], "entrance_tidy": ["again"]},
                     started_at=utcnow() - timedelta(minutes=25), ended_at=utcnow())
    page = html.unescape(login_as("auditor").get(f"/review/{visit.uuid}").get_data(as_text=True))
    assert ("The same photo was given for several questions: “Photo of the shop front” · “Were the entrance and "
            "shop window clean, tidy and free of obstacles?”.") in page


# ----------------------------------------------------------------------------- the queue's filters

@pytest.fixture
def spread(app, org):
    """Four sent visits, oldest sent first: the first, third and fourth at the Budapest branch, the
    second at the Narva one; visited on 10, 12, 15 (at 23:30 UTC: the 16th in Budapest) and 20 March."""
    branch_a, branch_b = org["branches"]
    made = [(branch_a, datetime(2026, 3, 10, 10)), (branch_b, datetime(2026, 3, 12, 10)),
            (branch_a, datetime(2026, 3, 15, 23, 30)), (branch_a, datetime(2026, 3, 20, 10))]
    uuids = []
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        for n, (branch, ended) in enumerate(made):
            visit = Visit.create(branch=branch, checklist_version=version, shopper=org["users"]["shopper"],
                                 planned_from=date(2026, 3, 1), planned_to=date(2026, 3, 31))
            submit_visit(visit, best_answers(version.content), {}, {}, started_at=ended - timedelta(minutes=25),
                         ended_at=ended)
            Visit.update(ended_at=ended, submitted_at=utcnow() - timedelta(minutes=10 - n)).where(
                Visit.id == visit.id).execute()
            uuids.append(str(visit.uuid))
    return uuids


def _listed(response):
    """The visits a queue page lists, in its order, and the query of the link to each."""
    assert response.status_code == 200
    rows = re.findall(r'<th scope="row"><a href="/review/([0-9a-f-]{36})\??([^"]*)"', response.get_data(as_text=True))
    return [uuid for uuid, _query in rows], {html.unescape(query) for _uuid, query in rows}


def test_the_queue_filters_by_branch_and_day_visited_and_lists_newest_first_when_asked(app, login_as, org, spread):
    first, second, third, fourth = spread
    auditor = login_as("auditor")
    budapest = org["branches"][0].id
    assert _listed(auditor.get("/review/"))[0] == spread  # oldest sent first, as before
    assert _listed(auditor.get(f"/review/?branch={budapest}"))[0] == [first, third, fourth]
    march = f"/review/?branch={budapest}&visited_from=2026-03-11&visited_to=2026-03-15"
    listed, links = _listed(auditor.get(march))
    assert listed == [third] and links == {f"branch={budapest}&visited_from=2026-03-11&visited_to=2026-03-15"}
    assert _listed(auditor.get("/review/?visited_from=2026-03-12&visited_to=2026-03-12"))[0] == [second]  # one day
    newest, links = _listed(auditor.get(f"/review/?branch={budapest}&sort=newest"))
    assert newest == [fourth, third, first] and links == {f"branch={budapest}&sort=newest"}
    assert _listed(auditor.get("/review/?sort=oldest"))[1] == {""}  # the default is not carried
    # Days on the organisation's calendar: 23:30 UTC on the 15th is the 16th in Budapest.
    app.config["TIME_ZONE"] = "Europe/Budapest"
    assert _listed(auditor.get(march))[0] == []
    assert _listed(auditor.get(march.replace("03-15", "03-16")))[0] == [third]
    # The form shows what is filtered, to change it.
    page = auditor.get(f"{march}&sort=newest").get_data(as_text=True)
    assert f'<option selected value="{budapest}">' in page
    assert re.search(r'<input[^>]*id="visited_from"[^>]*value="2026-03-11"', page)
    assert re.search(r'<input[^>]*type="date"[^>]*id="visited_to"|<input[^>]*id="visited_to"[^>]*type="date"', page)
    assert '<option selected value="newest">Newest sent first</option>' in page


def test_the_filtered_queue_comes_a_page_at_a_time_keeping_its_filters(app, login_as, org, spread):
    import uuid

    with app.app_context(), database.connection_context():
        first = Visit.get(Visit.uuid == spread[0])
        Visit.insert_many([{"branch": org["branches"][n % 2].id, "checklist_version": first.checklist_version_id,
                            "shopper": first.shopper_id, "planned_from": date(2026, 3, 1),
                            "planned_to": date(2026, 3, 31), "state": VisitState.SUBMITTED.value,
                            "uuid": uuid.uuid4(), "ended_at": datetime(2026, 3, 18, 10), "score": 80,
                            "submitted_at": utcnow() + timedelta(minutes=n)} for n in range(120)]).execute()
    auditor = login_as("auditor")
    budapest = org["branches"][0].id
    query = f"branch={budapest}&visited_from=2026-03-13&sort=newest"
    page = auditor.get(f"/review/?{query}")
    text = html.unescape(page.get_data(as_text=True))
    assert "(62)" in text and "Page 1 of 2" in text  # 60 added at Budapest, and the 15th's and 20th's
    assert f'href="/review/?page=2&branch={budapest}&visited_from=2026-03-13&sort=newest"' in text
    second = auditor.get(f"/review/?page=2&{query}")
    listed, links = _listed(second)
    assert len(listed) == 12 and listed[-2:] == [spread[3], spread[2]]  # the oldest sent last
    assert links == {f"branch={budapest}&page=2&visited_from=2026-03-13&sort=newest"}
    assert f'href="/review/?page=1&branch={budapest}&visited_from=2026-03-13&sort=newest"' in html.unescape(
        second.get_data(as_text=True))


@pytest.mark.parametrize("asked", ["999999", "abc", "-1", "1.5", "9" * 30])
def test_a_branch_not_the_reviewers_is_said_and_the_queue_shows_every_branch(app, login_as, spread, asked):
    auditor = login_as("auditor")
    response = auditor.get(f"/review/?branch={asked}&sort=newest")
    page = html.unescape(response.get_data(as_text=True))
    assert _listed(response)[0] == spread[::-1]  # the order asked still holds
    assert "There is no branch of yours with that id: the list shows every branch." in page
    assert "The list is shown without the filters marked below." in page
    assert re.search(r'<select[^>]*aria-invalid="true"[^>]*id="branch"|<select[^>]*id="branch"[^>]*aria-invalid', page)
    # Not carried on: the visit's page leads back to the queue without it.
    assert _listed(response)[1] == {"sort=newest"}
    visit_page = auditor.get(f"/review/{spread[0]}?branch={asked}&sort=newest").get_data(as_text=True)
    assert '<a class="back" href="/review/?sort=newest">' in visit_page


@pytest.mark.parametrize("query, field, message", [
    ("visited_from=2026-02-30", "visited_from", "“2026-02-30” is not a date: the list is not filtered by it."),
    ("visited_to=yesterday", "visited_to", "“yesterday” is not a date: the list is not filtered by it."),
    ("visited_from=2026-3-1", "visited_from", "“2026-3-1” is not a date: the list is not filtered by it."),
    ("visited_to=9999-12-31", "visited_to", "“9999-12-31” is not a date: the list is not filtered by it."),
    ("visited_from=2026-03-20&visited_to=2026-03-10", "visited_to",
     "The first day visited comes after the last: the list is not filtered by the day of the visit. Swap the two days."),
])
def test_a_day_visited_that_cannot_be_used_is_said_in_the_readers_language(app, login_as, spread, query, field, message):
    auditor = login_as("auditor")
    response = auditor.get(f"/review/?{query}")
    assert _listed(response)[0] == spread
    page = html.unescape(response.get_data(as_text=True))
    assert re.search(rf'<p class="error" id="{field}-error">{re.escape(message)}</p>', page)
    assert _listed(response)[1] == {""}  # not carried to the visits
    hungarian = html.unescape(_in_language(auditor, "hu").get(f"/review/?{query}").get_data(as_text=True))
    value = re.search(r"“([^”]*)”", message)
    wanted = translated(app, "hu", message.replace(value.group(1), "%(value)s") if value else message)
    assert (wanted % {"value": value.group(1)} if value else wanted) in hungarian
