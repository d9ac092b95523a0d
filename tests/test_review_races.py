"""Two reviewers on one visit: a correction or decision made from a page read before the other's
change is refused with what happened, changes nothing, and keeps what was typed."""
import html
import re
from datetime import date, timedelta

import pytest

from audit import ROOT
from audit.db import database
from audit.demo import best_answers
from audit.models import Answer, Visit, VisitEvent, utcnow
from audit.operations import publish_checklist_file, submit_visit
from conftest import csrf_from
from tests_support import signed_in_new_auditor


@pytest.fixture
def timed(app, org):
    """A submitted visit whose first wait was timed at 240 s, with a comment on it."""
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today())
        submit_visit(visit, {**best_answers(version.content), "wait_for_contact": 240},
                     {"wait_for_contact": "Sara here, I waited long."}, {},
                     started_at=utcnow() - timedelta(minutes=25), ended_at=utcnow())
    return str(visit.uuid)


@pytest.fixture
def second_auditor(app, org):
    return signed_in_new_auditor(app, "bea@example.com", "Bea Reviewer")


def _form(page, action):
    """The fields of the page's form posting to `action`, as the browser sends them back (hidden ones)."""
    text = page.get_data(as_text=True)
    form = re.search(rf'<form method="post" action="{re.escape(action)}[^"]*">(.*?)</form>', text, re.S)
    assert form, f"no form posting to {action}"
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form.group(1))
                + re.findall(r'name="(csrf_token)" type="hidden" value="([^"]*)"', form.group(1)))


def _text(response):
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def _answer(app, uuid, item_id):
    with app.app_context(), database.connection_context():
        row = Answer.get((Answer.visit == Visit.get(Visit.uuid == uuid)) & (Answer.item_id == item_id))
        return row.value, row.original_value, row.correction_reason, row.comment


def test_a_correction_from_a_page_read_before_another_reviewers_is_refused(app, login_as, timed, second_auditor):
    anna = login_as("auditor")
    page = f"/review/{timed}"
    action = f"/review/{timed}/answers/wait_for_contact"
    annas_page, beas_page = anna.get(page), second_auditor.get(page)
    done = anna.post(action, data={**_form(annas_page, action), "value": "40", "reason": "The video shows 40 s."})
    assert done.status_code == 302
    stale = second_auditor.post(action, data={**_form(beas_page, action), "value": "60",
                                              "reason": "Rounded up from the notes."})
    assert stale.status_code == 409
    text = _text(stale)
    assert ("This answer was changed by another reviewer since you opened the page; here it is now. Make your "
            "change again if it is still needed.") in text
    assert "Corrected from 240" in text and "The video shows 40 s." in text  # the answer as it is now
    assert 'value="Rounded up from the notes."' in stale.get_data(as_text=True)  # what Bea typed, kept
    assert _answer(app, timed, "wait_for_contact")[:3] == (40, 240, "The video shows 40 s.")
    # Made again from the page as it is now, it goes through.
    again = second_auditor.post(action, data={**_form(stale, action), "value": "60", "reason": "Rounded up."})
    assert again.status_code == 302
    assert _answer(app, timed, "wait_for_contact")[:3] == (60, 240, "Rounded up.")


def test_a_comment_correction_from_a_stale_page_is_refused_and_keeps_the_other(app, login_as, timed, second_auditor):
    anna = login_as("auditor")
    page = f"/review/{timed}"
    action = f"/review/{timed}/comments/wait_for_contact"
    annas_page, beas_page = anna.get(page), second_auditor.get(page)
    assert anna.post(action, data={**_form(annas_page, action), "comment": "I waited long.",
                                   "reason": "Named herself."}).status_code == 302
    stale = second_auditor.post(action, data={**_form(beas_page, action), "comment": "Waited.",
                                              "reason": "The shopper's name."})
    assert stale.status_code == 409
    assert "This answer was changed by another reviewer since you opened the page" in _text(stale)
    assert "Waited.</textarea>" in stale.get_data(as_text=True)
    assert _answer(app, timed, "wait_for_contact")[3] == "I waited long."


@pytest.mark.parametrize("decision", ["approve", "return"])
def test_a_decision_from_a_page_read_before_a_correction_is_refused(app, login_as, timed, second_auditor, decision):
    """The one deciding must have seen the corrections: a return from a stale page threw them away."""
    anna = login_as("auditor")
    page = f"/review/{timed}"
    beas_page = second_auditor.get(page)
    correct = f"/review/{timed}/answers/wait_for_contact"
    assert anna.post(correct, data={**_form(anna.get(page), correct), "value": "40",
                                    "reason": "The video shows 40 s."}).status_code == 302
    action = f"/review/{timed}/{decision}"
    response = second_auditor.post(action, data={**_form(beas_page, action), "comment": "Check the wait."},
                                   follow_redirects=True)
    assert ("Another reviewer corrected this visit since you opened the page: nothing was done. Look at the "
            "corrections below, then decide again.") in _text(response)
    if decision == "return":
        assert "Check the wait.</textarea>" in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert Visit.get(Visit.uuid == timed).state == "submitted"
    assert _answer(app, timed, "wait_for_contact")[:3] == (40, 240, "The video shows 40 s.")


def test_a_return_after_another_reviewers_approval_says_who_and_keeps_the_note(app, login_as, timed, second_auditor):
    anna = login_as("auditor")
    page = f"/review/{timed}"
    annas_page = anna.get(page)
    approve = f"/review/{timed}/approve"
    assert second_auditor.post(approve, data=_form(second_auditor.get(page), approve)).status_code == 302
    action = f"/review/{timed}/return"
    refused = anna.post(action, data={**_form(annas_page, action), "comment": "Please recheck the wait."})
    assert refused.status_code == 409
    text = _text(refused)
    assert "This visit was approved meanwhile (by Bea Reviewer at" in text
    assert "Only a visit waiting for review" not in text
    assert "Please recheck the wait.</textarea>" in refused.get_data(as_text=True)


def test_a_correction_reaching_a_returned_visit_says_it_was_returned(app, login_as, timed, second_auditor):
    anna = login_as("auditor")
    page = f"/review/{timed}"
    annas_page = anna.get(page)
    back = f"/review/{timed}/return"
    assert second_auditor.post(back, data={**_form(second_auditor.get(page), back),
                                           "comment": "Time the wait again."}).status_code == 302
    action = f"/review/{timed}/answers/wait_for_contact"
    refused = anna.post(action, data={**_form(annas_page, action), "value": "40", "reason": "The video."})
    assert refused.status_code == 409
    assert "This visit was returned to the shopper meanwhile (by Bea Reviewer at" in _text(refused)
    assert 'value="The video."' in refused.get_data(as_text=True)


def test_a_return_note_too_long_comes_back_with_the_note_and_the_error_beside_it(app, login_as, timed):
    anna = login_as("auditor")
    page = anna.get(f"/review/{timed}")
    action = f"/review/{timed}/return"
    note = "Please time the wait again. " * 80
    response = anna.post(action, data={**_form(page, action), "comment": note})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert html.escape(note.strip(), quote=False)[:200] in html.unescape(body) or note[:200] in html.unescape(body)
    error = re.search(r'<p class="error" id="comment-error">(.*?)</p>', body, re.S)
    assert error and "The note to the shopper can be at most 2000 characters long" in error.group(1)
    with app.app_context(), database.connection_context():
        assert Visit.get(Visit.uuid == timed).state == "submitted"


def test_a_refused_correction_comes_back_with_its_reason_kept(app, login_as, timed):
    anna = login_as("auditor")
    action = f"/review/{timed}/answers/wait_for_contact"
    response = anna.post(action, data={**_form(anna.get(f"/review/{timed}"), action), "value": "",
                                       "reason": "The video shows the wait."})
    assert response.status_code == 422
    row = re.search(r'id="a-wait_for_contact">(.*?)</li>', response.get_data(as_text=True), re.S).group(1)
    assert "Give the corrected answer." in row and 'value="The video shows the wait."' in row
    assert '<details class="correct" open>' in row
    assert _answer(app, timed, "wait_for_contact")[:3] == (240, None, "")


def test_a_double_click_on_approve_says_approved_once_and_no_refusal(app, login_as, timed):
    anna = login_as("auditor")
    page = anna.get(f"/review/{timed}")
    action = f"/review/{timed}/approve"
    fields = _form(page, action)
    assert anna.post(action, data=fields).status_code == 302
    second = anna.post(action, data=fields, follow_redirects=True)
    text = _text(second)
    assert text.count("The visit is approved.") == 1
    assert "nothing was done" not in text and "Only a visit waiting for review" not in text
    with app.app_context(), database.connection_context():
        visit = Visit.get(Visit.uuid == timed)
        assert [e.to_state for e in VisitEvent.select().where(VisitEvent.visit == visit)].count("approved") == 1


def test_a_double_click_on_return_sends_it_back_once_and_reports_no_refusal(app, login_as, timed):
    anna = login_as("auditor")
    action = f"/review/{timed}/return"
    fields = {**_form(anna.get(f"/review/{timed}"), action), "comment": "Time the wait again."}
    assert anna.post(action, data=fields).status_code == 302
    second = anna.post(action, data=fields, follow_redirects=True)
    assert second.status_code == 200
    text = _text(second)
    assert text.count("The visit went back to the shopper.") == 1 and "meanwhile" not in text


@pytest.mark.parametrize("role", ["manager", "shopper"])
def test_only_auditors_correct_or_decide(app, login_as, timed, role):
    other = login_as(role)
    token = csrf_from(other.get("/account/password")) if role else None
    assert other.get(f"/review/{timed}").status_code in (403, 404)
    for path in ("answers/wait_for_contact", "comments/wait_for_contact", "approve", "return"):
        assert other.post(f"/review/{timed}/{path}", data={
            "value": "1", "reason": "x", "comment": "x", "csrf_token": token}).status_code in (403, 404)
    assert _answer(app, timed, "wait_for_contact")[:3] == (240, None, "")


@pytest.fixture
def queue_of_three(app, org):
    """Three submitted visits of Sara's, oldest first, and one of Otto's between them."""
    uuids = {}
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        for n, shopper in enumerate(["shopper", "other_shopper", "shopper", "shopper"]):
            visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"][shopper],
                                 planned_from=date.today(), planned_to=date.today())
            submit_visit(visit, best_answers(version.content), {}, {},
                         started_at=utcnow() - timedelta(minutes=60 - n), ended_at=utcnow() - timedelta(minutes=30 - n))
            Visit.update(submitted_at=utcnow() - timedelta(minutes=10 - n)).where(Visit.id == visit.id).execute()
            uuids.setdefault(shopper, []).append(str(visit.uuid))
    return uuids


def test_a_decision_leads_to_the_next_visit_of_the_filtered_queue_and_keeps_its_filter(app, login_as, org,
                                                                                        queue_of_three):
    anna = login_as("auditor")
    sara = org["users"]["shopper"].id
    first, second, third = queue_of_three["shopper"]
    listed = anna.get(f"/review/?shopper={sara}").get_data(as_text=True)
    assert f'href="/review/{first}?shopper={sara}"' in listed
    page = anna.get(f"/review/{first}?shopper={sara}")
    assert f'href="/review/?shopper={sara}"' in page.get_data(as_text=True)  # back to the filtered queue
    approve = f"/review/{first}/approve"
    done = anna.post(f"{approve}?shopper={sara}", data=_form(page, approve))
    assert done.headers["Location"] == f"/review/{second}?shopper={sara}"  # Otto's visit is not in the list
    assert "The visit is approved. Here is the next visit waiting for review." in _text(anna.get(done.headers["Location"]))
    page = anna.get(done.headers["Location"])
    back = f"/review/{second}/return"
    done = anna.post(f"{back}?shopper={sara}", data={**_form(page, back), "comment": "Time the wait."})
    assert done.headers["Location"] == f"/review/{third}?shopper={sara}"
    page = anna.get(done.headers["Location"])
    approve = f"/review/{third}/approve"
    done = anna.post(f"{approve}?shopper={sara}", data=_form(page, approve))
    assert done.headers["Location"] == f"/review/?shopper={sara}"  # none left after it: the filtered queue
    assert "The visit is approved. No visit waits after it in this list." in _text(anna.get(done.headers["Location"]))


def test_the_queues_filter_carried_through_a_visit_is_only_ever_the_known_fields(app, login_as, queue_of_three):
    anna = login_as("auditor")
    first = queue_of_three["shopper"][0]
    page = anna.get(f"/review/{first}?shopper=abc&next=https://evil.example/&page=2&region=-1").get_data(as_text=True)
    back = re.search(r'<a class="back" href="([^"]*)">Visits waiting for review</a>', page).group(1)
    assert back == "/review/?page=2"
    assert 'action="/review/%s/approve?page=2"' % first in page
    approve = f"/review/{first}/approve"
    done = anna.post(f"{approve}?next=https://evil.example/&shopper=x",
                     data=_form(anna.get(f"/review/{first}"), approve))
    assert done.headers["Location"].startswith("/review/") and "evil" not in done.headers["Location"]


def test_a_decision_in_a_newest_first_queue_of_a_branch_and_days_leads_to_the_next_older_visit(app, login_as, org,
                                                                                               queue_of_three):
    """The branch, days visited and order are carried as the other filters are: the next visit is the
    next of the same list, in its order."""
    anna = login_as("auditor")
    first, second, third = queue_of_three["shopper"]
    with app.app_context(), database.connection_context():
        # Otto's visit, sent between Sara's first and second, is at the other branch.
        Visit.update(branch=org["branches"][1]).where(Visit.uuid == queue_of_three["other_shopper"][0]).execute()
        days = sorted(visit.ended_at.date().isoformat() for visit in Visit.select())
    filters = f"branch={org['branches'][0].id}&visited_from={days[0]}&visited_to={days[-1]}&sort=newest"
    listed = anna.get(f"/review/?{filters}").get_data(as_text=True)
    assert re.findall(r'<th scope="row"><a href="/review/([0-9a-f-]{36})', listed) == [third, second, first]
    assert f'href="/review/{third}?{filters.replace("&", "&amp;")}"' in listed
    approve = f"/review/{third}/approve"
    done = anna.post(f"{approve}?{filters}", data=_form(anna.get(f"/review/{third}?{filters}"), approve))
    assert done.headers["Location"] == f"/review/{second}?{filters}"  # not Otto's, sent before it elsewhere
    back = f"/review/{second}/return"
    done = anna.post(f"{back}?{filters}", data={**_form(anna.get(done.headers["Location"]), back),
                                                "comment": "Time the wait."})
    assert done.headers["Location"] == f"/review/{first}?{filters}"
    approve = f"/review/{first}/approve"
    done = anna.post(f"{approve}?{filters}", data=_form(anna.get(done.headers["Location"]), approve))
    assert done.headers["Location"] == f"/review/?{filters}"
    assert "No visit waits after it in this list." in _text(anna.get(done.headers["Location"]))
