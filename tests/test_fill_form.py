"""The checklist form without JavaScript: a plain POST saves or sends the visit, marks what is missing next
to its question, and never loses what the shopper typed."""
import html
import io
import os
import re
import threading
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from PIL import Image

from audit.db import database
from audit.demo import best_answers
from audit.i18n import localized
from audit.models import Answer, Evidence, User, Visit
from audit.operations import publish_checklist
from conftest import csrf_from
from tests_support import retail_checklist, translated

SCORING = ("yesno", "scale", "choice", "timer", "number")
REQUIRED = "Answer this question (or choose “not applicable” where offered)."
REQUIRED_WITHOUT_NA = "Answer this question."
NEEDS_COMMENT = "Say in a comment what went wrong."
ALREADY_SENT = "This visit was already sent."
KEPT = "Some answers need your attention; they are marked below. Nothing you entered was lost."



def _items(content):
    for section in content["sections"]:
        yield from section["items"]


def complete_form(content):
    """The best answer to every item, as the form's fields would send it."""
    return {f"answer-{item_id}": str(value) for item_id, value in best_answers(content).items()}


def as_answers(content, form):
    """What the server stores for form fields: numbers become numbers, comments are left out."""
    kinds = {item["id"]: item["type"] for item in _items(content)}
    answers = {}
    for name, value in form.items():
        if name.startswith("answer-"):
            item_id = name.removeprefix("answer-")
            answers[item_id] = int(value) if kinds[item_id] in ("scale", "timer", "number") else value
    return answers


def _jpeg(colour=(30, 90, 200)):
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def content():
    return retail_checklist()[0]


def _new_visit(app, org, shopper="shopper"):
    with app.app_context(), database.connection_context():
        version, _created = publish_checklist(*retail_checklist())
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"][shopper],
                             planned_from=date.today(), planned_to=date.today() + timedelta(days=5),
                             scenario="Ask for a mid-range phone for your mother.")
    return str(visit.uuid)


@pytest.fixture
def visit(app, org):
    return _new_visit(app, org)


@pytest.fixture
def shopper(login_as):
    return login_as("shopper")


def _fill_url(visit_uuid):
    return f"/visits/{visit_uuid}/fill"


def _post(client, visit_uuid, action, fields, query=""):
    """Post the fill form the way a browser does: the page first, then its form with its token."""
    page = client.get(_fill_url(visit_uuid) + query)
    assert page.status_code == 200
    data = {**fields, "csrf_token": csrf_from(page)}
    if action is not None:  # none: another button sent it (a photo's Remove)
        data["action"] = action
    return client.post(_fill_url(visit_uuid) + query, data=data, content_type="multipart/form-data")


def _stored(app, visit_uuid):
    """(visit, {item: answer}, {item: comment}, [evidence]) as the database holds them now."""
    with app.app_context(), database.connection_context():
        stored = Visit.get(Visit.uuid == visit_uuid)
        rows = list(Answer.select().where(Answer.visit == stored))
        evidence = list(Evidence.select().where(Evidence.visit == stored).order_by(Evidence.id))
    return stored, {a.item_id: a.value for a in rows}, {a.item_id: a.comment for a in rows if a.comment}, evidence


class FillPage(HTMLParser):
    """What the fill page shows, per item: its type, legend, inputs, text areas and error message."""

    def __init__(self, response):
        super().__init__(convert_charrefs=True)
        self.items = {}
        self.flashes = []
        self.text_lang = None  # the language the first question is marked in (its legend's lang)
        self._item = None
        self._capture = None  # (where to put the text, key)
        self.feed(response.get_data(as_text=True))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "span" and self._capture == ("legend", None) and self.text_lang is None:
            self.text_lang = attrs.get("lang")
        if tag == "fieldset" and "data-item" in attrs:
            self._item = {"type": attrs["data-type"], "legend": "", "inputs": [], "textareas": {}, "error": None}
            self.items[attrs["data-item"]] = self._item
        elif tag == "p" and "flash" in classes:
            self.flashes.append("")
            self._capture = ("flash", None)
        elif self._item is None:
            return
        elif tag == "legend":
            self._capture = ("legend", None)
        elif tag == "p" and "error" in classes:
            self._item["error"] = ""
            self._capture = ("error", None)
        elif tag == "input":
            self._item["inputs"].append({"type": attrs.get("type"), "name": attrs.get("name"),
                                         "value": attrs.get("value"), "checked": "checked" in attrs})
        elif tag == "textarea":
            self._item["textareas"][attrs["name"]] = ""
            self._capture = ("textarea", attrs["name"])
        elif tag == "img" and "thumb" in classes:
            self._item.setdefault("thumbs", []).append(attrs["src"])
        elif tag == "button" and "remove-photo" in classes:
            self._item.setdefault("removes", []).append((attrs["name"], attrs["value"], attrs["aria-label"]))

    def handle_endtag(self, tag):
        if tag == "fieldset":
            self._item = None
        if tag in ("legend", "p", "textarea"):
            self._capture = None

    def handle_data(self, data):
        if self._capture is None:
            return
        where, key = self._capture
        if where == "flash":
            self.flashes[-1] += data
        elif where == "textarea":
            self._item["textareas"][key] += data
        else:
            self._item[where] += data

    def choices(self, item_id):
        return [i["value"] for i in self.items[item_id]["inputs"] if i["type"] == "radio"]

    def value(self, item_id):
        """The answer the page shows as given: the checked radio, the number or the text."""
        item = self.items[item_id]
        for field in item["inputs"]:
            if field["name"] == f"answer-{item_id}" and (field["checked"] or field["type"] in ("number", "text")):
                return field["value"] or None
        return item["textareas"].get(f"answer-{item_id}") or None

    def comment(self, item_id):
        return self.items[item_id]["textareas"].get(f"comment-{item_id}", "")

    def errors(self):
        return {item_id: item["error"].strip() for item_id, item in self.items.items() if item["error"] is not None}


# -- the page ---------------------------------------------------------------------------------------


def test_page_shows_every_item_with_its_widget(shopper, visit, content):
    page = FillPage(shopper.get(_fill_url(visit)))

    assert list(page.items) == [item["id"] for item in _items(content)]
    for item in _items(content):
        shown = page.items[item["id"]]
        assert shown["type"] == item["type"]
        assert localized(item["text"], "en") in shown["legend"]
        na = ["na"] if item.get("na") else []
        if item["type"] == "yesno":
            assert page.choices(item["id"]) == ["yes", "no"] + na
        elif item["type"] == "scale":
            assert page.choices(item["id"]) == [str(n) for n in range(item["min"], item["max"] + 1)] + na
        elif item["type"] == "choice":
            assert page.choices(item["id"]) == [option["id"] for option in item["options"]] + na
        elif item["type"] in ("timer", "number"):
            # A timer's seconds in a number field; a number on the decimal keypad, as text (a number
            # field read "1,5" as 15).
            typed = "number" if item["type"] == "timer" else "text"
            assert [(i["type"], i["name"]) for i in shown["inputs"] if i["type"] in ("number", "text")] == [
                (typed, f"answer-{item['id']}")]
            assert page.choices(item["id"]) == na
        elif item["type"] == "text":
            assert f"answer-{item['id']}" in shown["textareas"]
        takes_photos = item["type"] == "photo" or item.get("require_photo_on_fail")
        files = [i["name"] for i in shown["inputs"] if i["type"] == "file"]
        assert files == ([f"photo-{item['id']}"] if takes_photos else [])
        assert (f"comment-{item['id']}" in shown["textareas"]) == (item["type"] in SCORING)
        assert page.value(item["id"]) is None and shown["error"] is None
    assert page.text_lang == "en"


def test_page_in_another_checklist_language_shows_its_texts(shopper, visit, content):
    response = shopper.get(_fill_url(visit) + "?lang=ru")

    page = FillPage(response)
    assert page.text_lang == "ru"
    for item in _items(content):
        assert page.items[item["id"]]["legend"].strip().startswith(item["text"]["ru"])
    text = html.unescape(response.get_data(as_text=True))
    for section in content["sections"]:
        assert f">{section['title']['ru']}</h2>" in text
        assert section["title"]["en"] not in text
    assert '<option value="ru" lang="ru" selected>' in text


@pytest.mark.parametrize("language, label", [("en", "times"), ("ru", "раз"), ("hu", "alkalom")])
def test_a_numbers_unit_beside_its_box_is_the_form_a_count_reads_with(shopper, visit, language, label):
    """No number is typed yet: the unit is shown as a count's box reads in the language of the checklist's
    texts: its `many` form where it has one (Russian "[   ] раз"; its `other`, "раза", is 1,5's), else `other`."""
    text = shopper.get(_fill_url(visit) + f"?lang={language}").get_data(as_text=True)
    box = re.search(r'<fieldset[^>]*id="q-times_repeated".*?</fieldset>', text, re.S).group(0)
    assert f'<label class="inline" for="answer-times_repeated"><span lang="{language}">{label}</span></label>' in box


def test_unknown_checklist_language_falls_back_to_the_shoppers(shopper, visit, content):
    page = FillPage(shopper.get(_fill_url(visit) + "?lang=xx"))

    assert page.text_lang == "en"
    greeted = next(item for item in _items(content) if item["id"] == "greeted")
    assert page.items["greeted"]["legend"].strip().startswith(greeted["text"]["en"])



def test_a_checklist_language_picked_is_kept_for_the_shoppers_next_visits(app, org, login_as, shopper, visit):
    """Picked on one visit (the plain form's Show), the checklist language was gone on the next visit
    opened, and on this one opened again from the list. The page around it stays in the shopper's
    language; a language asked for in the address still wins; other shoppers are not concerned."""
    other_visit = _new_visit(app, org)
    response = _post(shopper, visit, "lang", {"lang": "ru"})
    assert response.headers["Location"].endswith(f"{_fill_url(visit)}?lang=ru")

    for visit_uuid in (visit, other_visit):
        response = shopper.get(_fill_url(visit_uuid))
        assert FillPage(response).text_lang == "ru"
        assert '<html lang="en"' in response.get_data(as_text=True)
    assert FillPage(shopper.get(_fill_url(other_visit) + "?lang=hu")).text_lang == "hu"
    someone_else = login_as("other_shopper")
    assert FillPage(someone_else.get(_fill_url(_new_visit(app, org, "other_shopper")))).text_lang == "en"


def test_the_pages_script_keeps_the_checklist_language_picked_and_refuses_others(app, org, login_as, shopper,
                                                                                   visit):
    """fill.js tells the pick before showing the page in it; an unknown language, a request without
    the page's CSRF token, or an account that is no shopper changes nothing."""
    token = csrf_from(shopper.get(_fill_url(visit)))

    def pick(client, language, headers=None):
        return client.post("/visits/checklist-language", data={"language": language},
                           headers={"X-CSRFToken": token} if headers is None else headers)

    assert pick(shopper, "bg").status_code == 204
    assert FillPage(shopper.get(_fill_url(visit))).text_lang == "bg"
    refused = pick(shopper, "xx")
    assert refused.status_code == 400
    assert refused.get_json()["error"]["message"] == "Choose one of the offered languages."
    assert pick(shopper, "et", headers={}).status_code == 400
    manager = login_as("manager")
    manager_token = csrf_from(manager.get("/", follow_redirects=True))
    assert pick(manager, "et", headers={"X-CSRFToken": manager_token}).status_code == 403
    assert FillPage(shopper.get(_fill_url(visit))).text_lang == "bg"
    with app.app_context(), database.connection_context():
        assert User.get_by_id(org["users"]["manager"].id).checklist_language is None


def test_the_pages_status_messages_are_in_each_shoppers_language(app, org, login_as):
    """The fill page's status messages (read by fill.js) are rendered once per language and kept:
    two shoppers of one app, in Hungarian and in English, each get their own, page after page."""
    pages = {}
    for key, language in (("shopper", "hu"), ("other_shopper", "en")):
        client = login_as(key)
        client.post("/language", data={"language": language, "csrf_token": csrf_from(client.get("/visits/"))})
        pages[language] = (client, _new_visit(app, org, key))
    for _round in range(2):
        for language, (client, visit_uuid) in pages.items():
            text = client.get(_fill_url(visit_uuid)).get_data(as_text=True)
            sending, unanswered = translated(app, language, "Sending…"), translated(app, language, REQUIRED)
            assert f'data-msg-sending="{sending}"' in text
            assert f'data-msg-unanswered="{html.escape(unanswered)}"' in text
            assert f'data-visit="{visit_uuid}"' in text
    assert "Sending…" not in pages["hu"][0].get(_fill_url(pages["hu"][1])).get_data(as_text=True)

@pytest.mark.parametrize("method", ["GET", "POST"])
def test_another_shoppers_visit_is_not_found(app, login_as, visit, content, method):
    intruder = login_as("other_shopper")
    if method == "GET":
        response = intruder.get(_fill_url(visit))
    else:
        token = csrf_from(intruder.get("/visits/"))
        response = intruder.post(_fill_url(visit), data={**complete_form(content), "action": "submit",
                                                         "csrf_token": token})

    assert response.status_code == 404
    stored, answers, _comments, _evidence = _stored(app, visit)
    assert (stored.state, stored.draft, answers) == ("assigned", None, {})


# -- saving and sending -----------------------------------------------------------------------------


def test_save_keeps_the_typed_answers_as_a_draft_and_shows_them_again(app, shopper, visit):
    typed = {"answer-greeted": "no", "comment-greeted": "Nobody looked up from the till.",
             "answer-first_impression": "4", "answer-wait_for_contact": " 95 ", "answer-busy_acknowledged": "na",
             "answer-needs_questions": "one_question", "answer-comments": "Loud music."}

    response = _post(shopper, visit, "save", typed)

    assert response.status_code == 302 and response.headers["Location"].endswith(f"{_fill_url(visit)}?lang=en")
    page = FillPage(shopper.get(response.headers["Location"]))
    assert "Saved. You can finish it later." in page.flashes
    assert {item_id: page.value(item_id) for item_id in ("greeted", "first_impression", "wait_for_contact",
                                                          "busy_acknowledged", "needs_questions", "comments")} == {
        "greeted": "no", "first_impression": "4", "wait_for_contact": "95", "busy_acknowledged": "na",
        "needs_questions": "one_question", "comments": "Loud music."}
    assert page.comment("greeted") == "Nobody looked up from the till."
    assert page.value("entrance_tidy") is None
    assert page.errors() == {}  # saving half a visit is fine
    stored, answers, _comments, _evidence = _stored(app, visit)
    assert stored.state == "draft" and stored.started_at is not None
    assert stored.draft["answers"] == {"greeted": "no", "first_impression": 4, "wait_for_contact": 95,
                                       "busy_acknowledged": "na", "needs_questions": "one_question",
                                       "comments": "Loud music."}
    assert stored.draft["comments"] == {"greeted": "Nobody looked up from the till."}
    assert answers == {} and stored.submission_hash is None


def test_submit_with_missing_answers_marks_each_and_keeps_what_was_typed(app, shopper, visit, content):
    typed = {"answer-greeted": "yes", "answer-first_impression": "2", "comment-first_impression": "Dark and cold.",
             "answer-times_repeated": "1"}

    response = _post(shopper, visit, "submit", typed)

    assert response.status_code == 200
    page = FillPage(response)
    assert KEPT in page.flashes
    answered = {"greeted", "first_impression", "times_repeated"}
    hidden = {"offer_relevance"}  # shown only once the additional offer is answered
    unanswered = {item["id"] for item in _items(content) if item["type"] in SCORING} - answered - hidden
    # "Not applicable" is named only beside the questions that offer it.
    offer_na = {item["id"] for item in _items(content) if item.get("na")}
    assert page.errors() == {item_id: REQUIRED if item_id in offer_na else REQUIRED_WITHOUT_NA
                             for item_id in unanswered}
    assert offer_na & unanswered and unanswered - offer_na
    assert (page.value("greeted"), page.value("first_impression"), page.value("times_repeated")) == ("yes", "2", "1")
    assert page.comment("first_impression") == "Dark and cold."
    stored, answers, _comments, _evidence = _stored(app, visit)
    assert stored.state == "draft" and answers == {}
    assert stored.draft["answers"] == {"greeted": "yes", "first_impression": 2, "times_repeated": 1}


def test_a_wait_longer_than_a_day_is_refused_in_the_shoppers_language(app, shopper, visit, content):
    """A timer answer past a day (a timer left running, a slip of the finger) is named beside its
    question, with the limit written as the shopper's language writes numbers; nothing is stored."""
    shopper.post("/language", data={"language": "hu", "csrf_token": csrf_from(shopper.get("/visits/"))})
    form = {**complete_form(content), "answer-wait_for_contact": "100000"}

    response = _post(shopper, visit, "submit", form)

    assert response.status_code == 200
    page = FillPage(response)
    expected = translated(app, "hu", "Give a number no larger than %(largest)s.") % {"largest": "86\N{NO-BREAK SPACE}400"}
    assert expected != "Give a number no larger than 86\N{NO-BREAK SPACE}400."
    assert page.errors() == {"wait_for_contact": expected}
    assert page.value("wait_for_contact") == "100000"
    stored, answers, _comments, _evidence = _stored(app, visit)
    assert stored.state == "draft" and answers == {}


@pytest.mark.parametrize("item_id,failing", [
    ("greeted", "no"),
    ("helped_choose", "showed_options"),  # partly earned is still short of full marks
    ("charged_correctly", "no"),
])
def test_failed_item_that_needs_a_comment_is_refused_without_one(app, shopper, visit, content, item_id, failing):
    form = {**complete_form(content), f"answer-{item_id}": failing, f"comment-{item_id}": "  "}

    response = _post(shopper, visit, "submit", form)

    assert response.status_code == 200
    page = FillPage(response)
    assert page.errors() == {item_id: NEEDS_COMMENT}
    assert page.value(item_id) == failing
    assert _stored(app, visit)[0].state == "draft" and _stored(app, visit)[1] == {}

    explained = _post(shopper, visit, "submit", {**form, f"comment-{item_id}": "Left me to decide alone."})

    assert explained.status_code == 302
    stored, answers, comments, _evidence = _stored(app, visit)
    assert stored.state == "submitted" and answers[item_id] == failing
    assert comments == {item_id: "Left me to decide alone."}


def test_complete_submission_stores_the_visit_once_and_returns_to_the_list(app, shopper, visit, content):
    form = {**complete_form(content), "answer-first_impression": "3", "comment-first_impression": "Music too loud.",
            "answer-wait_for_contact": "75"}

    response = _post(shopper, visit, "submit", form)

    assert response.status_code == 302 and response.headers["Location"].endswith("/visits/")
    listing = html.unescape(shopper.get("/visits/").get_data(as_text=True))
    assert "Thank you: the visit was sent." in listing
    stored, answers, comments, _evidence = _stored(app, visit)
    assert stored.state == "submitted" and stored.draft is None and stored.submission_hash
    assert stored.score is not None and stored.submitted_at is not None
    assert answers == as_answers(content, form)
    assert comments == {"first_impression": "Music too loud."}
    with app.app_context(), database.connection_context():
        assert Visit.select().count() == 1
        assert Answer.select().count() == len(answers)


def test_control_characters_typed_into_the_form_are_dropped_and_the_visit_is_sent(app, shopper, visit, content):
    """No keyboard types a NUL, but a pasted text can hold one, and PostgreSQL refuses it in text:
    the whole visit failed to save (a 500) for an invisible character."""
    text_item = next(item["id"] for item in _items(content) if item["type"] == "text")
    form = {**complete_form(content), "answer-first_impression": "3",
            "comment-first_impression": "Music\x00 too loud.\x07", f"answer-{text_item}": "Clean\x00 shop"}
    response = _post(shopper, visit, "submit", form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/visits/")
    stored, answers, comments, _evidence = _stored(app, visit)
    assert stored.state == "submitted"
    assert comments == {"first_impression": "Music too loud."} and answers[text_item] == "Clean shop"


def test_concurrent_different_submissions_through_the_form_accept_exactly_one(app, login_as, visit, content):
    # Two tabs or an impatient double tap after an edit: each request read the visit while it was open.
    clients = [login_as("shopper") for _ in range(8)]
    forms = [{**complete_form(content), "answer-wait_for_contact": str(10 + i), "action": "submit",
              "csrf_token": csrf_from(client.get(_fill_url(visit)))} for i, client in enumerate(clients)]
    start = threading.Barrier(len(clients))
    outcomes = [None] * len(clients)

    def send(i):
        start.wait()
        response = clients[i].post(_fill_url(visit), data=forms[i])
        listing = html.unescape(clients[i].get("/visits/").get_data(as_text=True))
        outcomes[i] = (response.status_code, "Thank you: the visit was sent." in listing, ALREADY_SENT in listing)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [sent for _status, sent, _refused in outcomes].count(True) == 1, outcomes
    assert all(status == 302 and sent != refused for status, sent, refused in outcomes), outcomes
    winner = forms[[sent for _status, sent, _refused in outcomes].index(True)]
    stored, answers, _comments, _evidence = _stored(app, visit)
    assert stored.state == "submitted" and stored.draft is None
    assert answers == as_answers(content, {k: v for k, v in winner.items() if k.startswith("answer-")})


def test_sent_visit_no_longer_accepts_posts(app, shopper, visit, content):
    assert _post(shopper, visit, "submit", complete_form(content)).status_code == 302
    before, answers, _comments, _evidence = _stored(app, visit)

    for action in ("save", "submit"):
        response = _post(shopper, visit, action, {**complete_form(content), "answer-greeted": "no",
                                                  "comment-greeted": "Changed my mind."})
        assert response.status_code == 302 and response.headers["Location"].endswith("/visits/")
        assert ALREADY_SENT in html.unescape(shopper.get("/visits/").get_data(as_text=True))

    after, stored_answers, comments, _evidence = _stored(app, visit)
    assert stored_answers == answers and comments == {}
    assert (after.state, after.draft, after.submission_hash) == ("submitted", None, before.submission_hash)


def test_send_tapped_twice_thanks_once_and_reports_no_mistake(app, shopper, visit, content):
    """Two quick taps: both forms go, the first sends the visit, the second found it sent and the list
    said "Thank you: the visit was sent." and "This visit was already sent." (as a mistake) at once."""
    data = {**complete_form(content), "action": "submit", "csrf_token": csrf_from(shopper.get(_fill_url(visit)))}
    for _tap in range(2):
        tapped = shopper.post(_fill_url(visit), data=data, content_type="multipart/form-data")
        assert tapped.status_code == 302 and tapped.headers["Location"].endswith("/visits/")
    listing = html.unescape(shopper.get("/visits/").get_data(as_text=True))
    assert "Thank you: the visit was sent." in listing and ALREADY_SENT not in listing
    assert _stored(app, visit)[0].state == "submitted"


def test_returned_visit_shows_the_sent_answers_and_can_be_sent_again(app, shopper, visit, content):
    form = {**complete_form(content), "answer-first_impression": "2"}
    assert _post(shopper, visit, "submit", form).status_code == 302
    with app.app_context(), database.connection_context():
        Visit.update(state="returned", review_comment="Really a 2?").where(Visit.uuid == visit).execute()

    page = FillPage(shopper.get(_fill_url(visit)))
    assert page.value("first_impression") == "2" and page.value("greeted") == "yes"

    response = _post(shopper, visit, "submit", {**form, "answer-first_impression": "4"})

    assert response.status_code == 302
    stored, answers, _comments, _evidence = _stored(app, visit)
    assert stored.state == "submitted" and answers["first_impression"] == 4


# -- photos -----------------------------------------------------------------------------------------


def test_photo_sent_with_the_form_is_stored_as_evidence(app, shopper, visit, content):
    form = {**complete_form(content), "answer-floor_clean": "no",
            "photo-shop_front": (io.BytesIO(_jpeg()), "front.jpg"),
            "photo-floor_clean": (io.BytesIO(_jpeg((120, 80, 40))), "floor.jpg")}

    response = _post(shopper, visit, "submit", form)

    assert response.status_code == 302, FillPage(response).errors()
    stored, answers, _comments, evidence = _stored(app, visit)
    assert stored.state == "submitted" and answers["floor_clean"] == "no"
    assert sorted(e.item_id for e in evidence) == ["floor_clean", "shop_front"]
    for photo in evidence:
        assert photo.client_id.startswith("form-") and (photo.width, photo.height) == (320, 240)
        assert os.path.isfile(os.path.join(app.config["MEDIA_DIR"], "photos", photo.file_name))
        served = shopper.get(f"/visits/{visit}/photos/{photo.client_id}")
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        # Evidence: the phone may keep it a while, a shared cache (a proxy) never.
        assert served.cache_control.private and not served.cache_control.public


def _noisy_jpeg(side):
    """A photo that compresses as badly as a real one: random pixels."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def test_photos_that_pass_the_request_limit_together_are_taken_each_within_its_own(app, shopper, visit, content):
    """A phone's photos are 5-8 MB: three on the form passed MAX_UPLOAD_MB (16) together, and the shopper
    got an error page for what was typed with them. Here the limits are scaled down: 100 KB a request,
    90 KB a photo, and two photos of 60-90 KB."""
    app.config.update(MAX_CONTENT_LENGTH=100 * 1024, PHOTO_MAX_BYTES=90 * 1024)
    photos = [_noisy_jpeg(240), _noisy_jpeg(240)]
    assert all(60 * 1024 < len(photo) < 90 * 1024 for photo in photos), [len(photo) for photo in photos]
    form = {**complete_form(content), "answer-floor_clean": "no",
            "photo-shop_front": (io.BytesIO(photos[0]), "front.jpg"),
            "photo-floor_clean": (io.BytesIO(photos[1]), "floor.jpg")}

    response = _post(shopper, visit, "submit", form)

    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    stored, _answers, _comments, evidence = _stored(app, visit)
    assert stored.state == "submitted" and sorted(e.item_id for e in evidence) == ["floor_clean", "shop_front"]


def test_the_photos_limit_is_the_visits_own_shoppers_only(app, login_as, visit, content):
    """Anyone else posting to the visit's form is held to the app's limit: the larger body is read
    (spooled to disk) before the request is refused as not theirs."""
    app.config.update(MAX_CONTENT_LENGTH=100 * 1024, PHOTO_MAX_BYTES=90 * 1024)
    other = login_as("other_shopper")
    photos = [_noisy_jpeg(240), _noisy_jpeg(240)]
    response = other.post(_fill_url(visit), data={
        "action": "save", "photo-shop_front": (io.BytesIO(photos[0]), "a.jpg"),
        "photo-floor_clean": (io.BytesIO(photos[1]), "b.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert _stored(app, visit)[3] == []


def test_a_form_past_even_its_photos_limit_says_what_to_do_and_saves_nothing(app, shopper, visit, content):
    app.config.update(MAX_CONTENT_LENGTH=100 * 1024, PHOTO_MAX_BYTES=90 * 1024)
    with app.app_context(), database.connection_context():
        takes_photos = len([item for item in _items(content)
                            if item["type"] == "photo" or item.get("require_photo_on_fail")])
    too_much = "x" * (100 * 1024 + takes_photos * 90 * 1024)
    page = shopper.get(_fill_url(visit))
    response = shopper.post(_fill_url(visit), data={**complete_form(content), "answer-comments": too_much,
                                                    "action": "save", "csrf_token": csrf_from(page)},
                            content_type="multipart/form-data")

    assert response.status_code == 413
    assert "Go back with your browser's Back button: what you typed is still there." in html.unescape(
        response.get_data(as_text=True))
    stored, answers, _comments, _evidence = _stored(app, visit)
    assert stored.draft is None and answers == {}


def test_saved_photo_is_shown_and_counts_for_a_later_submission(app, shopper, visit, content):
    saved = _post(shopper, visit, "save", {"answer-floor_clean": "no",
                                           "photo-floor_clean": (io.BytesIO(_jpeg()), "floor.jpg")})
    assert saved.status_code == 302
    [photo] = _stored(app, visit)[3]
    page = FillPage(shopper.get(_fill_url(visit)))
    assert page.items["floor_clean"]["thumbs"] == [f"/visits/{visit}/photos/{photo.client_id}"]

    # The browser does not send the file again; the stored photo still satisfies "photo when failed".
    response = _post(shopper, visit, "submit", {**complete_form(content), "answer-floor_clean": "no"})

    assert response.status_code == 302, FillPage(response).errors()
    assert [(e.client_id, e.item_id) for e in _stored(app, visit)[3]] == [(photo.client_id, "floor_clean")]


def test_a_photo_is_removed_with_its_button_and_what_was_typed_is_kept(app, shopper, visit, content):
    """The form without JavaScript: Remove beside a photo sends the form, which saves the answers
    typed meanwhile too; the page comes back at the question, without the photo."""
    for colour in ((30, 90, 200), (200, 90, 30)):
        assert _post(shopper, visit, "save", {"photo-shop_front": (io.BytesIO(_jpeg(colour)), "front.jpg")}
                     ).status_code == 302
    first, second = _stored(app, visit)[3]
    page = FillPage(shopper.get(_fill_url(visit)))
    assert page.items["shop_front"]["removes"] == [("remove_photo", first.client_id, "Remove photo 1"),
                                                   ("remove_photo", second.client_id, "Remove photo 2")]

    response = _post(shopper, visit, None, {"answer-greeted": "no", "remove_photo": first.client_id})

    assert response.status_code == 302 and response.location.endswith("#q-shop_front")
    shown = shopper.get(response.location)
    page = FillPage(shown)
    assert page.flashes == ["The photo was removed. Your answers are saved."]
    # Said at the question too, where the page opens (the top of the page is out of sight there).
    assert re.search(r'id="q-shop_front".*?<p class="photo-note">Photo removed.</p>', shown.get_data(as_text=True), re.S)
    assert page.items["shop_front"]["thumbs"] == [f"/visits/{visit}/photos/{second.client_id}"]
    assert page.items["shop_front"]["removes"] == [("remove_photo", second.client_id, "Remove photo 1")]
    assert page.value("greeted") == "no"
    stored, _answers, _comments, evidence = _stored(app, visit)
    assert [e.client_id for e in evidence] == [second.client_id]
    assert stored.draft["photos"] == {"shop_front": [second.client_id]}
    assert shopper.get(f"/visits/{visit}/photos/{first.client_id}").status_code == 404
    # Its file is gone at once (a customer's face is not kept until the next `media prune`).
    photos_dir = os.path.join(app.config["MEDIA_DIR"], "photos")
    assert sorted(os.listdir(photos_dir)) == [second.file_name]

    # Sent, the visit has the photo left.
    assert _post(shopper, visit, "submit", complete_form(content)).status_code == 302
    assert [(e.client_id, e.item_id) for e in _stored(app, visit)[3]] == [(second.client_id, "shop_front")]


def test_a_photo_is_removed_only_from_the_shoppers_own_open_visit(app, org, login_as, shopper, visit, content):
    assert _post(shopper, visit, "save", {"photo-shop_front": (io.BytesIO(_jpeg()), "front.jpg")}).status_code == 302
    [photo] = _stored(app, visit)[3]
    other_visit = _new_visit(app, org)

    # Another visit's form (the shopper's own) cannot name it: nothing is removed.
    assert _post(shopper, other_visit, None, {"remove_photo": photo.client_id}).status_code == 302
    # Another shopper cannot reach the visit at all.
    other = login_as("other_shopper")
    page = shopper.get(_fill_url(visit))
    assert other.post(_fill_url(visit), data={"remove_photo": photo.client_id, "csrf_token": csrf_from(page)},
                      content_type="multipart/form-data").status_code in (400, 404)
    # Without the form's token nothing happens either.
    assert shopper.post(_fill_url(visit), data={"remove_photo": photo.client_id},
                        content_type="multipart/form-data").status_code == 400
    assert [e.client_id for e in _stored(app, visit)[3]] == [photo.client_id]

    # Sent: the photo is the reviewer's evidence now.
    page = shopper.get(_fill_url(visit))
    sent = _post(shopper, visit, "submit", complete_form(content))
    assert sent.status_code == 302 and "Thank you: the visit was sent." in shopper.get(sent.location).get_data(as_text=True)
    response = shopper.post(_fill_url(visit), data={"remove_photo": photo.client_id, "csrf_token": csrf_from(page)},
                            content_type="multipart/form-data")
    assert response.status_code == 302
    assert FillPage(shopper.get(response.location)).flashes == ["This visit was already sent."]
    assert [e.client_id for e in _stored(app, visit)[3]] == [photo.client_id]


def test_failed_item_that_needs_a_photo_is_refused_without_one(app, shopper, visit, content):
    response = _post(shopper, visit, "submit", {**complete_form(content), "answer-prices_marked": "no"})

    assert response.status_code == 200
    assert FillPage(response).errors() == {"prices_marked": "Add a photo that shows what went wrong."}
    assert _stored(app, visit)[0].state == "draft"


def test_file_that_is_not_an_image_is_named_and_nothing_is_sent(app, shopper, visit, content):
    form = {**complete_form(content), "photo-shop_front": (io.BytesIO(b"%PDF-1.4 not a photo"), "front.jpg")}

    response = _post(shopper, visit, "submit", form)

    assert response.status_code == 200
    page = FillPage(response)
    assert page.errors() == {"shop_front": "The file is not a readable PNG or JPEG image."}
    assert KEPT in page.flashes
    assert page.value("greeted") == "yes"  # every typed answer is still there
    stored, answers, _comments, evidence = _stored(app, visit)
    assert (stored.state, answers, evidence) == ("draft", {}, [])


def test_blank_forms_come_from_one_rendering_and_never_show_another_visits_answers(app, org, shopper, visit):
    """A blank form is rendered once per checklist version and language; a draft is rendered for its visit."""
    other = _new_visit(app, org)
    before = FillPage(shopper.get(_fill_url(other)))
    assert before.items and all(before.value(item_id) is None for item_id in before.items)

    _post(shopper, visit, "save", {"answer-greeted": "no", "comment-greeted": "Nobody looked up."})
    drafted = FillPage(shopper.get(_fill_url(visit)))
    assert drafted.value("greeted") == "no" and drafted.comment("greeted") == "Nobody looked up."

    after = shopper.get(_fill_url(other))
    page = FillPage(after)
    assert all(page.value(item_id) is None for item_id in page.items)
    assert page.comment("greeted") == ""
    assert f'data-visit="{other}"' in after.get_data(as_text=True)  # the page itself is the other visit's
    # the checklist language is part of what is cached: Hungarian texts in Hungarian
    hungarian = FillPage(shopper.get(_fill_url(other) + "?lang=hu"))
    assert hungarian.text_lang == "hu" and hungarian.items["greeted"]["legend"] != page.items["greeted"]["legend"]


def test_the_visit_list_shows_every_open_visit_and_the_latest_sent_ones(app, org, shopper):
    """A chain's shopper sends hundreds of visits over the years: the list (also kept on the phone for
    offline use) holds every open visit but only the latest SENT_LISTED sent ones, and says so."""
    from audit.views.shopper import SENT_LISTED

    with app.app_context(), database.connection_context():
        version, _created = publish_checklist(*retail_checklist())
        start = date.today() - timedelta(days=400)
        sent = [Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=start + timedelta(days=n), planned_to=start + timedelta(days=n + 3),
                             state=state, scenario=f"Sent visit {n}")
                for n, state in enumerate(["approved", "submitted"] * 13)]
        open_visits = [Visit.create(branch=org["branches"][0], checklist_version=version,
                                    shopper=org["users"]["shopper"], planned_from=start, planned_to=date.today(),
                                    state=state, scenario=f"Open visit {state}")
                       for state in ("assigned", "draft", "returned")]
    page = html.unescape(shopper.get("/visits/").get_data(as_text=True))
    assert all(f'data-visit="{visit.uuid}"' in page for visit in open_visits)
    latest = sent[-SENT_LISTED:]  # the newest windows
    assert [visit.uuid for visit in sent if f'data-visit="{visit.uuid}"' in page] == [v.uuid for v in latest]
    assert f"The latest {SENT_LISTED} of your {len(sent)} sent visits are listed." in page
    assert f"Sent <span class=\"muted\">({len(sent)})</span>" in page
    # In the shopper's language too.
    shopper.post("/language", data={"language": "hu", "csrf_token": csrf_from(shopper.get("/visits/"))})
    page = html.unescape(shopper.get("/visits/").get_data(as_text=True))
    assert f"Az Ön {len(sent)} elküldött látogatásából a legutóbbi {SENT_LISTED} látható." in page


def test_the_visits_to_do_come_in_the_order_they_are_due(app, org, shopper):
    """Listed newest window first, a visit due in a fortnight sat above the one due in a week."""
    with app.app_context(), database.connection_context():
        version, _created = publish_checklist(*retail_checklist())
        today = date.today()
        windows = [(today + timedelta(days=2), today + timedelta(days=14)),  # begins soon, due last
                   (today - timedelta(days=3), today + timedelta(days=7)),
                   (today, today + timedelta(days=3))]
        visits = [Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                               planned_from=first, planned_to=last, state="assigned", scenario=f"Visit {n}")
                  for n, (first, last) in enumerate(windows)]
    page = shopper.get("/visits/").get_data(as_text=True)
    listed = sorted(visits, key=lambda visit: page.index(f'data-visit="{visit.uuid}"'))
    assert [visit.scenario for visit in listed] == ["Visit 2", "Visit 1", "Visit 0"]


def test_a_form_sent_after_the_session_ended_says_so_and_how_to_keep_what_was_typed(app, shopper, visit, content):
    """Without JavaScript, a shopper whose session ended (its lifetime, a cleared cookie) sends the
    form: "reload the page" would lead to the sign-in page with the answers gone. The page says they
    were signed out and that Back still has what they typed; nothing is stored."""
    token = csrf_from(shopper.get(_fill_url(visit)))
    shopper.delete_cookie("audit_session")

    response = shopper.post(_fill_url(visit), data={**complete_form(content), "action": "submit", "csrf_token": token})

    assert response.status_code == 400
    assert ("You were signed out, so nothing was saved. Go back to copy what you typed, then sign in again."
            in response.get_data(as_text=True))
    stored, answers, _comments, _evidence = _stored(app, visit)
    assert (stored.state, stored.draft, answers) == ("assigned", None, {})
    stale = shopper.post("/login", data={"email": "x@example.com", "password": "y", "csrf_token": token})
    assert "Your form expired or was sent from elsewhere." in stale.get_data(as_text=True)  # never signed in


@pytest.mark.parametrize("typed", ["1e10000000", "1e4300", "9" * 39])
def test_a_number_typed_far_too_large_is_named_not_an_error_page(app, shopper, visit, content, typed):
    """Read exactly, 1e10000000 took the server seconds and 1e4300 could not be kept in the draft
    (an error page); it is refused like any number past the bound, and the rest is kept."""
    response = _post(shopper, visit, "submit", {**complete_form(content), "answer-times_repeated": typed})

    assert response.status_code == 200
    assert FillPage(response).errors() == {"times_repeated": "Give a number no larger than 1,000,000,000."}
    stored, answers, _comments, _evidence = _stored(app, visit)
    assert stored.state == "draft" and answers == {} and stored.draft["answers"]["greeted"] == "yes"


# -- the top bar's language -------------------------------------------------------------------------

TYPED = {"answer-greeted": "no", "comment-greeted": "Nobody looked up from the till.", "answer-first_impression": "4",
         "answer-wait_for_contact": " 95 ", "answer-needs_questions": "one_question", "answer-comments": "Loud music."}


def _top_bar_language_controls(response):
    """(the top bar's language menu tag, its Change button tag), as the page writes them."""
    text = response.get_data(as_text=True)
    form = text[text.index('<form class="langform"'):]
    form = form[:form.index("</form>")]
    return re.search(r'<select id="language-switch"[^>]*>', form).group(0), re.search(r"<button[^>]*>", form).group(0)


def _account_language(app, org, key="shopper"):
    with app.app_context(), database.connection_context():
        return User.get_by_id(org["users"][key].id).language


def test_the_top_bars_language_change_belongs_to_the_fill_form_and_elsewhere_to_its_own(app, login_as, visit):
    """Without JavaScript, the top bar's language change on the fill page sends the fill form (what was
    typed goes with it); on every other page, and on a sent visit's, it is the top bar's own form. The
    top bar is kept per language between requests: one page's never shows on the other."""
    shopper = login_as("shopper")
    for _round in range(2):
        menu, button = _top_bar_language_controls(shopper.get(_fill_url(visit)))
        assert 'form="fill-form"' in menu and 'name="language"' in menu
        assert 'form="fill-form"' in button and 'name="action"' in button and 'value="language"' in button
        for path in ("/visits/", "/password"):
            menu, button = _top_bar_language_controls(shopper.get(path))
            assert "form=" not in menu and "form=" not in button and "name=" not in button
    # The fill page's form is the one the controls name.
    assert 'id="fill-form"' in shopper.get(_fill_url(visit)).get_data(as_text=True)
    shopper.post(_fill_url(visit), data={**complete_form(retail_checklist()[0]), "action": "submit",
                                         "csrf_token": csrf_from(shopper.get(_fill_url(visit)))})
    sent_page = shopper.get(_fill_url(visit))
    assert "fill-form" not in sent_page.get_data(as_text=True)
    assert "form=" not in "".join(_top_bar_language_controls(sent_page))


def test_the_top_bars_language_change_saves_what_was_typed_as_save_does_then_shows_the_page_in_it(
        app, org, shopper, visit):
    saved_by_save = _new_visit(app, org)
    _post(shopper, saved_by_save, "save", TYPED)

    response = _post(shopper, visit, "language", {**TYPED, "language": "hu", "lang": "en"})

    # Back to the page as it was asked for (its checklist follows the shopper's language, as after the
    # top bar's own form), now in Hungarian, with what was typed.
    assert response.status_code == 302 and response.headers["Location"].endswith(_fill_url(visit))
    shown = shopper.get(response.headers["Location"])
    assert '<html lang="hu"' in shown.get_data(as_text=True)
    page = FillPage(shown)
    assert page.text_lang == "hu"
    assert page.flashes == []  # the page in the language picked says that it was done
    assert [page.value(item) for item in ("greeted", "wait_for_contact", "comments")] == ["no", "95", "Loud music."]
    assert page.comment("greeted") == "Nobody looked up from the till."
    stored, by_save = _stored(app, visit)[0], _stored(app, saved_by_save)[0]
    assert stored.draft == by_save.draft and stored.state == by_save.state == "draft"
    assert stored.started_at is not None
    assert _account_language(app, org) == "hu"
    assert '<html lang="hu"' in shopper.get("/visits/").get_data(as_text=True)


def test_the_top_bars_language_change_keeps_the_checklist_language_the_page_was_asked_in(app, org, shopper, visit):
    response = _post(shopper, visit, "language", {**TYPED, "language": "hu", "lang": "ru"}, query="?lang=ru")

    assert response.headers["Location"].endswith(f"{_fill_url(visit)}?lang=ru")
    shown = shopper.get(response.headers["Location"])
    assert '<html lang="hu"' in shown.get_data(as_text=True) and FillPage(shown).text_lang == "ru"
    assert FillPage(shown).value("greeted") == "no"
    # A checklist language picked beside the checklist and not shown yet goes with it, as with Save.
    response = _post(shopper, visit, "language", {**TYPED, "language": "et", "lang": "bg"}, query="?lang=ru")
    assert response.headers["Location"].endswith(f"{_fill_url(visit)}?lang=bg")
    assert _account_language(app, org) == "et"


def test_enter_in_a_field_presses_the_top_bars_language_change_and_so_saves(app, org, shopper, visit):
    """The Change button is the fill form's first: Enter in a field sends it with the language as it was."""
    response = _post(shopper, visit, "language", {**TYPED, "language": "en", "lang": "en"})

    assert response.status_code == 302 and response.headers["Location"].endswith(_fill_url(visit))
    page = FillPage(shopper.get(response.headers["Location"]))
    assert "Saved. You can finish it later." in page.flashes and page.value("greeted") == "no"
    assert _stored(app, visit)[0].draft["answers"]["greeted"] == "no"


def test_a_photo_refused_with_the_top_bars_language_change_is_named_in_the_new_language_and_nothing_is_lost(
        app, org, shopper, visit):
    form = {**TYPED, "language": "hu", "lang": "en", "photo-shop_front": (io.BytesIO(b"%PDF-1.4 not a photo"), "a.jpg")}

    response = _post(shopper, visit, "language", form)

    assert response.status_code == 200
    assert '<html lang="hu"' in response.get_data(as_text=True)
    page = FillPage(response)
    assert page.errors() == {"shop_front": translated(app, "hu", "The file is not a readable PNG or JPEG image.")}
    assert translated(app, "hu", KEPT) in page.flashes
    assert page.value("greeted") == "no" and page.comment("greeted") == "Nobody looked up from the till."
    stored, _answers, _comments, evidence = _stored(app, visit)
    assert stored.draft["answers"]["greeted"] == "no" and evidence == []
    assert _account_language(app, org) == "hu"


@pytest.mark.parametrize("state", ["submitted", "approved"])
def test_the_top_bars_language_change_leaves_a_sent_visit_as_it_was(app, org, shopper, visit, content, state):
    assert _post(shopper, visit, "submit", complete_form(content)).status_code == 302
    with app.app_context(), database.connection_context():
        Visit.update(state=state).where(Visit.uuid == visit).execute()
    before, answers, _comments, _evidence = _stored(app, visit)
    token = csrf_from(shopper.get("/visits/"))

    response = shopper.post(_fill_url(visit), data={**complete_form(content), "answer-greeted": "no",
                                                    "comment-greeted": "Changed my mind.", "action": "language",
                                                    "language": "hu", "lang": "en", "csrf_token": token},
                            content_type="multipart/form-data")

    assert response.status_code == 302 and response.headers["Location"].endswith("/visits/")
    listing = html.unescape(shopper.get("/visits/").get_data(as_text=True))
    assert translated(app, "hu", ALREADY_SENT) in listing and '<html lang="hu"' in listing
    after, stored_answers, comments, _evidence = _stored(app, visit)
    assert (stored_answers, comments) == (answers, {})
    assert (after.state, after.draft, after.submission_hash) == (state, None, before.submission_hash)


def test_the_top_bars_language_change_is_refused_without_the_forms_token_or_on_anothers_visit(
        app, org, login_as, visit):
    shopper = login_as("shopper")
    shopper.get(_fill_url(visit))
    refused = shopper.post(_fill_url(visit), data={**TYPED, "action": "language", "language": "hu"},
                           content_type="multipart/form-data")
    assert refused.status_code == 400
    intruder = login_as("other_shopper")
    token = csrf_from(intruder.get("/visits/"))
    response = intruder.post(_fill_url(visit), content_type="multipart/form-data",
                             data={**TYPED, "action": "language", "language": "hu", "csrf_token": token})
    assert response.status_code == 404
    stored, answers, _comments, _evidence = _stored(app, visit)
    assert (stored.state, stored.draft, answers) == ("assigned", None, {})
    assert _account_language(app, org, "shopper") is None and _account_language(app, org, "other_shopper") is None


def test_a_language_the_app_has_not_is_refused_and_what_was_typed_is_saved(app, org, shopper, visit):
    response = _post(shopper, visit, "language", {**TYPED, "language": "xx", "lang": "en"})

    assert response.status_code == 302
    page = FillPage(shopper.get(response.headers["Location"]))
    assert "Choose one of the offered languages." in page.flashes and page.value("greeted") == "no"
    assert _stored(app, visit)[0].draft["answers"]["greeted"] == "no"
    assert _account_language(app, org) is None
