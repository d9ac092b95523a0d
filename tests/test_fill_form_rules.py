"""The fill page without JavaScript, where a QA pass found it wrong: line breaks count once (browsers
send two characters), a refused photo does not hide the other problems, picking the checklist's language
keeps what was typed, a sent visit's page says it was sent (no empty form), answers to questions that do
not apply never reach the reviewer, "1,200" is no number, and the phone gets every refusal's message in
the page's language."""
import html
import io
import json
import re
from datetime import datetime

import pytest
from werkzeug.datastructures import MultiDict

from audit.answers import answers_from_form, check_submission
from audit.db import database
from audit.models import Visit
from conftest import csrf_from
from test_fill_form import (KEPT, NEEDS_COMMENT, REQUIRED, REQUIRED_WITHOUT_NA, FillPage, _fill_url, _jpeg, _post, _stored,
                            complete_form, content, shopper, visit)  # noqa: F401 - fixtures
from tests_support import translated

NOT_AN_IMAGE = "The file is not a readable PNG or JPEG image."
GIVE_A_NUMBER = "Give a number."


def _state(app, visit_uuid, **fields):
    with app.app_context(), database.connection_context():
        Visit.update(**fields).where(Visit.uuid == visit_uuid).execute()


# -- 1. line breaks ---------------------------------------------------------------------------------


def test_text_with_line_breaks_the_browser_accepted_is_not_refused_as_too_long(app, shopper, visit, content):
    """A textarea's maxlength counts a line break once; the browser sends it as CRLF, two characters."""
    typed = "\n".join(["a" * 7] * 500)  # 3,999 characters as the textarea counts them
    sent = typed.replace("\n", "\r\n")  # 4,498 as the browser sends them
    assert len(typed) <= 4000 < len(sent)

    response = _post(shopper, visit, "submit", {**complete_form(content), "answer-comments": sent,
                                                "answer-greeted": "no", "comment-greeted": sent})

    assert response.status_code == 302, FillPage(response).errors()
    stored, answers, comments, _evidence = _stored(app, visit)
    assert stored.state == "submitted"
    assert answers["comments"] == typed and comments["greeted"] == typed


def test_form_text_is_read_with_its_line_breaks_as_lf(content):
    form = MultiDict({"answer-comments": "one\r\ntwo\rthree\nfour", "comment-greeted": "a\r\nb"})

    answers, comments = answers_from_form(content, form)

    assert answers["comments"] == "one\ntwo\nthree\nfour" and comments["greeted"] == "a\nb"


def test_not_applicable_chosen_for_a_typed_answer_is_read_whatever_the_empty_box_beside_it(app, shopper, visit,
                                                                                           content):
    """A timer that allows "not applicable": its seconds box and its N/A button share the answer's
    name, and a browser sends the box (empty) before the button. Read alone, the empty box made it
    "Answer this question", and a shopper without JavaScript could not send the visit."""
    page = shopper.get(_fill_url(visit)).get_data(as_text=True)
    fieldset = page[page.index('id="q-till_wait"'):page.index("</fieldset>", page.index('id="q-till_wait"'))]
    assert fieldset.index('type="number"') < fieldset.index('value="na"')  # the order the browser sends them in
    form = {**complete_form(content), "answer-till_wait": ["", "na"]}

    response = _post(shopper, visit, "submit", form)

    assert response.status_code == 302, FillPage(response).errors()
    stored, answers, _comments, _evidence = _stored(app, visit)
    assert stored.state == "submitted" and answers["till_wait"] == "na"


@pytest.mark.parametrize("sent, read", [(["95", "na"], 95), (["", "na"], "na"), (["95"], 95), ([""], None)])
def test_a_typed_answer_wins_over_not_applicable_chosen_beside_it(content, sent, read):
    """Both given (the button chosen, then seconds typed): what was typed is kept, and the page shows it."""
    answers, _comments = answers_from_form(content, MultiDict([("answer-till_wait", value) for value in sent]))

    assert answers.get("till_wait") == read


def test_not_applicable_chosen_for_a_free_text_answer_is_read_as_such(content):
    content["sections"][-1]["items"][-1]["na"] = True  # "comments", a text item, allowing N/A
    answers, _comments = answers_from_form(content, MultiDict([("answer-comments", ""), ("answer-comments", "na")]))

    assert answers["comments"] == "na"


# -- 7. numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["1,200", "12,345,678", "-1,200", "100,000"])
def test_a_number_with_thousands_commas_is_no_number(content, typed):
    """'1,200' is twelve hundred in English and 1.2 in Hungarian: neither is guessed."""
    answers, _comments = answers_from_form(content, MultiDict({"answer-times_repeated": typed}))

    assert answers["times_repeated"] == typed
    problems, _result = check_submission(content, answers, {}, {})
    assert [(p.item_id, p.code) for p in problems if p.item_id == "times_repeated"] == [
        ("times_repeated", "not_a_number")]


@pytest.mark.parametrize("typed,read", [("1,5", 1.5), ("1.5", 1.5), ("0,500", 0.5), ("1,2000", 1.2), ("1200", 1200)])
def test_a_decimal_comma_or_point_is_still_a_number(content, typed, read):
    answers, _comments = answers_from_form(content, MultiDict({"answer-times_repeated": typed}))

    assert answers["times_repeated"] == read


def test_thousands_commas_are_named_beside_the_question(app, shopper, visit, content):
    response = _post(shopper, visit, "submit", {**complete_form(content), "answer-wait_for_contact": "1,200"})

    assert response.status_code == 200
    assert FillPage(response).errors() == {"wait_for_contact": GIVE_A_NUMBER}
    assert _stored(app, visit)[0].state == "draft"


# -- 5. a rejected photo and the other problems -----------------------------------------------------


def test_a_rejected_photo_and_every_other_problem_are_shown_at_once(app, shopper, visit, content):
    form = {**complete_form(content), "answer-greeted": "no", "answer-floor_clean": "no",
            "photo-shop_front": (io.BytesIO(b"%PDF-1.4 not a photo"), "front.jpg"),
            "photo-floor_clean": (io.BytesIO(b"GIF89a broken"), "floor.jpg")}
    del form["answer-first_impression"]

    response = _post(shopper, visit, "submit", form)

    assert response.status_code == 200
    page = FillPage(response)
    assert KEPT in page.flashes
    assert page.errors() == {
        "shop_front": NOT_AN_IMAGE,
        "floor_clean": f"{NOT_AN_IMAGE} Add a photo that shows what went wrong.",
        "greeted": NEEDS_COMMENT,
        "first_impression": REQUIRED_WITHOUT_NA,  # a scale without "not applicable"
    }
    stored, answers, _comments, evidence = _stored(app, visit)
    assert (stored.state, answers, evidence) == ("draft", {}, [])


def test_a_rejected_photo_alone_still_stops_the_visit(app, shopper, visit, content):
    form = {**complete_form(content), "photo-shop_front": (io.BytesIO(b"not a photo"), "front.jpg")}

    response = _post(shopper, visit, "submit", form)

    assert response.status_code == 200 and FillPage(response).errors() == {"shop_front": NOT_AN_IMAGE}
    assert _stored(app, visit)[0].state == "draft"


# -- 4. the checklist language ----------------------------------------------------------------------


def test_the_checklist_language_pick_belongs_to_the_fill_form(shopper, visit):
    text = shopper.get(_fill_url(visit)).get_data(as_text=True)

    assert re.search(r'<form method="post"[^>]*id="fill-form"', text)
    assert re.search(r'<select id="checklist-lang" name="lang" form="fill-form">', text)
    assert re.search(r'<button type="submit" form="fill-form" name="action" value="lang"', text)
    assert 'method="get"' not in text


def test_changing_the_checklist_language_keeps_what_was_typed(app, shopper, visit, content):
    typed = {"answer-greeted": "no", "comment-greeted": "Nobody looked up.", "answer-first_impression": "4",
             "answer-comments": "Loud music.", "lang": "hu"}

    response = _post(shopper, visit, "lang", typed)

    assert response.status_code == 302 and response.headers["Location"].endswith(f"{_fill_url(visit)}?lang=hu")
    page = FillPage(shopper.get(response.headers["Location"]))
    assert page.text_lang == "hu"
    assert (page.value("greeted"), page.comment("greeted"), page.value("first_impression"), page.value("comments")) == (
        "no", "Nobody looked up.", "4", "Loud music.")
    assert "Saved. You can finish it later." not in page.flashes  # it was a language change
    stored = _stored(app, visit)[0]
    assert stored.draft["answers"] == {"greeted": "no", "first_impression": 4, "comments": "Loud music."}

    back = _post(shopper, visit, "lang", {"lang": "en", "answer-greeted": "yes"}, query="?lang=hu")
    assert back.headers["Location"].endswith(f"{_fill_url(visit)}?lang=en")
    assert FillPage(shopper.get(back.headers["Location"])).value("greeted") == "yes"


def test_a_language_picked_before_anything_was_given_does_not_start_the_visit(app, shopper, visit):
    response = _post(shopper, visit, "lang", {"lang": "ru"})

    assert response.headers["Location"].endswith(f"{_fill_url(visit)}?lang=ru")
    stored = _stored(app, visit)[0]
    assert (stored.state, stored.draft, stored.started_at) == ("assigned", None, None)


def test_enter_in_a_field_presses_the_language_button_and_saves(shopper, visit):
    """The pick's button is the form's first: Enter in a field sends action=lang with the same language."""
    response = _post(shopper, visit, "lang", {"lang": "en", "answer-wait_for_contact": "30"})

    page = FillPage(shopper.get(response.headers["Location"]))
    assert "Saved. You can finish it later." in page.flashes and page.value("wait_for_contact") == "30"


# -- 6a. a sent visit -------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["submitted", "approved"])
def test_a_sent_visits_page_says_so_and_has_nothing_to_fill_in(app, shopper, visit, content, state):
    assert _post(shopper, visit, "submit", complete_form(content)).status_code == 302
    _state(app, visit, state=state, submitted_at=datetime(2031, 3, 14, 9, 26))

    response = shopper.get(_fill_url(visit))

    assert response.status_code == 200  # the service worker and the list keep it as any other page
    text = html.unescape(response.get_data(as_text=True)).replace("\N{NARROW NO-BREAK SPACE}", " ")
    # TIME_ZONE is UTC here; the instant is there too, for the phone to write it in its own time zone.
    assert ('This visit was sent on <time datetime="2031-03-14T09:26:00Z">3/14/31, 9:26 AM</time>. '
            'It can no longer be changed.') in text
    assert {"submitted": "Submitted", "approved": "Approved"}[state] in text
    page = FillPage(response)
    assert page.items == {}
    assert "fill-form" not in text and 'name="action"' not in text
    assert "Send the visit" not in text and "Save and finish later" not in text
    assert f'data-visit-sent="{visit}"' in text


def test_a_sent_visit_without_a_sending_time_still_says_it_was_sent(app, shopper, visit):
    _state(app, visit, state="submitted", submitted_at=None)

    text = html.unescape(shopper.get(_fill_url(visit)).get_data(as_text=True))

    assert "This visit was already sent." in text and "fill-form" not in text


def test_a_returned_visit_stays_editable(app, shopper, visit, content):
    assert _post(shopper, visit, "submit", complete_form(content)).status_code == 302
    _state(app, visit, state="returned", review_comment="Really?")

    response = shopper.get(_fill_url(visit))

    page = FillPage(response)
    assert page.value("greeted") == "yes"
    assert "Send the visit" in response.get_data(as_text=True)


def test_a_returned_visit_shows_the_shoppers_own_answers_not_the_reviewers_corrections(app, org, shopper, visit,
                                                                                       content):
    """A correction, then a return: the form showed the reviewer's value as if the shopper had given it,
    and sent again it became the shopper's answer, the correction's reason and the first answer gone."""
    from audit.review import correct_answer, return_to_shopper

    assert _post(shopper, visit, "submit", complete_form(content)).status_code == 302
    with app.app_context(), database.connection_context():
        sent = Visit.get(Visit.uuid == visit)
        correct_answer(sent, "greeted", "no", "The CCTV shows nobody at the door.", org["users"]["auditor"])
        return_to_shopper(Visit.get(Visit.uuid == visit), org["users"]["auditor"], "Were you greeted?")
    assert FillPage(shopper.get(_fill_url(visit))).value("greeted") == "yes"


# -- 6b. questions that do not apply ----------------------------------------------------------------


def test_answers_to_questions_that_do_not_apply_are_not_sent(app, shopper, visit, content):
    form = {**complete_form(content), "answer-additional_offer": "none", "answer-offer_relevance": "1",
            "comment-offer_relevance": "Pushy."}

    response = _post(shopper, visit, "submit", form)

    assert response.status_code == 302, FillPage(response).errors()
    stored, answers, comments, _evidence = _stored(app, visit)
    assert stored.state == "submitted" and answers["additional_offer"] == "none"
    assert "offer_relevance" not in answers and "offer_relevance" not in comments


def test_answers_to_questions_that_do_not_apply_yet_are_kept_in_the_draft(app, shopper, visit):
    """Without JavaScript every question shows: one answered before the question it depends on is kept
    (nothing typed is lost), only never sent while it does not apply."""
    _post(shopper, visit, "save", {"answer-offer_relevance": "4", "comment-offer_relevance": "Fine."})

    page = FillPage(shopper.get(_fill_url(visit)))
    assert page.value("offer_relevance") == "4" and page.comment("offer_relevance") == "Fine."


# -- 2, 3. messages the phone says itself -----------------------------------------------------------


def _refusals(text):
    match = re.search(r'data-msg-refusals="([^"]*)"', text)
    return json.loads(html.unescape(match.group(1)))


@pytest.mark.parametrize("language", ["en", "hu"])
def test_the_page_gives_the_phone_every_refusal_and_the_bad_photo_message_in_its_language(
        app, shopper, visit, language):
    shopper.post("/language", data={"language": language, "csrf_token": csrf_from(shopper.get("/visits/"))})

    text = shopper.get(_fill_url(visit)).get_data(as_text=True)

    refusals = _refusals(text)
    assert refusals["comment_required"] == translated(app, language, NEEDS_COMMENT)
    assert refusals["required"] == translated(app, language, REQUIRED)
    assert refusals["photo_required"] == translated(app, language, "Add a photo that shows what went wrong.")
    assert refusals["too_large"] == translated(app, language, "Give a number no larger than %(largest)s.") % {
        "largest": "{largest}"}
    assert refusals["too_long"] == translated(app, language, "This is too long: at most %(count)d characters.") % {
        "count": 4000}
    assert f'data-msg-bad-photo="{html.escape(translated(app, language, NOT_AN_IMAGE))}"' in text


def test_a_required_photo_or_text_stops_the_visit_until_given(app):
    """The checklist may require a free text or a photo (the shelf's): without it the visit was sent."""
    from audit.checklist import load_checklist_text
    from audit.views.shopper import submission_message

    content = load_checklist_text("""\
id: shelf-visit
languages: [en, hu]
title: {en: Shelf, hu: Polc}
sections:
  - id: main
    title: {en: Main, hu: Fő}
    items:
      - {id: tidy, type: yesno, text: {en: "Tidy?", hu: "Rendes?"}}
      - {id: shelf, type: photo, required: true, text: {en: The shelf, hu: A polc}}
      - {id: story, type: text, required: true, text: {en: "What happened?", hu: "Mi történt?"}}
      - {id: extra, type: photo, text: {en: Anything else, hu: Más}}
      - {id: store, type: photo, required: true, na: true, text: {en: The storeroom, hu: A raktár}}
""")
    problems, _result = check_submission(content, {"tidy": "yes", "story": "  "}, {}, {})
    assert sorted((p.item_id, p.code) for p in problems) == [
        ("shelf", "photo_missing"), ("store", "photo_missing"), ("story", "required")]
    with app.test_request_context():
        said = {p.item_id: submission_message(p) for p in problems}
    assert said["shelf"] == "Add a photo: this question needs one." and said["story"] == REQUIRED
    given, _result = check_submission(content, {"tidy": "yes", "story": "Nobody was at the till.", "store": "na"}, {},
                                      {"shelf": ["photo-1"]})
    assert given == []
