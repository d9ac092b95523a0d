"""The auditors' checklist editor: drafts, every field, order, translations, import/export, publishing."""
import html
import io
import os
import re
from datetime import date

import openpyxl
import pytest
from babel.support import Translations
from markupsafe import escape

from audit.checklist import ChecklistError, load_checklist_text
from audit.db import database
from audit.models import Checklist, ChecklistVersion, Visit, VisitState
from audit.operations import publish_checklist_file, score_and_store_answers
from conftest import csrf_from

SHOP = """\
id: shop-visit
languages: [en, hu]
title: {en: Shop visit, hu: Boltlátogatás}
sections:
  - id: welcome
    title: {en: Welcome, hu: Fogadás}
    items:
      - id: greeted
        type: yesno
        text: {en: "Greeted?", hu: "Köszöntötték?"}
      - id: offer
        type: choice
        text: {en: Offer, hu: Ajánlat}
        options:
          - {id: proactive, points: 2, text: {en: Unasked, hu: Kérés nélkül}}
          - {id: none, points: 0, text: {en: Nothing, hu: Semmi}}
      - id: upsell
        type: scale
        min: 1
        max: 5
        text: {en: Upsell, hu: Kiegészítő ajánlat}
        show_if: {item: offer, in: [proactive]}
  - id: farewell
    title: {en: Farewell, hu: Búcsú}
    items:
      - id: thanked
        type: yesno
        text: {en: "Thanked?", hu: "Megköszönték?"}
"""
BASE = "/checklists/shop-visit"


@pytest.fixture
def shop(app, org, tmp_path):
    path = tmp_path / "shop-visit.yaml"
    path.write_text(SHOP, encoding="utf-8")
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(str(path))
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today(), state=VisitState.APPROVED.value)
        score_and_store_answers(visit, {"greeted": "yes", "offer": "none", "thanked": "no"})
    return {"visit_id": visit.id}


@pytest.fixture
def auditor(login_as, shop):
    return login_as("auditor")


NOTHING_SAVED = "Please correct the fields marked below. Nothing was saved."


def _token(client, url=BASE + "/"):
    return csrf_from(client.get(url))


def _start_draft(client):
    response = client.post(BASE + "/draft/start", data={"csrf_token": _token(client)})
    assert response.status_code == 302
    return response


def _draft_content(app):
    with app.app_context(), database.connection_context():
        return Checklist.get(Checklist.slug == "shop-visit").draft().content


def _item_data(**changes):
    data = {"item_id": "smiled", "type": "yesno", "text_en": "Did they smile?", "text_hu": "",
            "help_en": "", "help_hu": "", "weight": "", "dimension": "", "scale_min": "", "scale_max": "",
            "show_if_item": "", "show_if_values": "", "unit_en": "", "unit_hu": ""}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _post_item(client, url, **changes):
    return client.post(url, data={**_item_data(**changes), "csrf_token": _token(client, url)})


def test_draft_starts_from_the_published_version_once(app, auditor):
    _start_draft(auditor)
    again = auditor.post(BASE + "/draft/start", data={"csrf_token": _token(auditor)}, follow_redirects=True)
    assert "This checklist already has a draft; edit that one." in again.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        numbers = sorted((v.number, v.is_published) for v in Checklist.get(Checklist.slug == "shop-visit").history())
    assert numbers == [(1, True), (2, False)]


def test_new_item_with_only_the_source_text_is_saved_and_counted_as_missing(app, auditor):
    _start_draft(auditor)
    response = _post_item(auditor, BASE + "/draft/sections/farewell/items/new", critical="y", weight="2")
    assert response.status_code == 302
    content = _draft_content(app)
    assert content["sections"][1]["items"][-1] == {
        "id": "smiled", "type": "yesno", "text": {"en": "Did they smile?"}, "weight": 2, "critical": True,
        "na": False, "require_comment_on_fail": False, "require_photo_on_fail": False,
    }
    page = auditor.get(BASE + "/draft").get_data(as_text=True)
    assert "Did they smile?" in page
    assert "item:smiled:text" in page  # listed among the texts that block publishing
    publish = auditor.post(BASE + "/draft/publish", data={"csrf_token": _token(auditor, BASE + "/draft")},
                           follow_redirects=True)
    assert "The draft cannot be published yet" in publish.get_data(as_text=True)


def test_numbers_from_a_file_survive_saving_the_item_in_the_editor(app, auditor):
    """The editor showed numbers to two places: saving an item after changing only its text rounded a
    weight of 0.125 to 0.12 and a pass mark of 99.999 to 100, which dropped it."""
    _start_draft(auditor)
    with app.app_context(), database.connection_context():
        draft = Checklist.get(Checklist.slug == "shop-visit").draft()
        content = draft.content
        greeted = content["sections"][0]["items"][0]
        greeted.update(weight=0.125, pass_mark=99.999)
        type(draft).update(content=content).where(type(draft).id == draft.id).execute()
    url = BASE + "/draft/items/greeted"
    page = auditor.get(url).get_data(as_text=True)
    assert 'value="0.125"' in page and 'value="99.999"' in page
    shown = dict(re.findall(r'<input id="(weight|pass_mark)"[^>]*value="([^"]*)"', page))
    # Only the question's text is changed; the numbers go back as the page shows them.
    assert _post_item(auditor, url, item_id="greeted", text_en="Greeted at the door?", text_hu="Köszöntötték?",
                      **shown).status_code == 302
    saved = _draft_content(app)["sections"][0]["items"][0]
    assert (saved["text"]["en"], saved["weight"], saved["pass_mark"]) == ("Greeted at the door?", 0.125, 99.999)
    assert _post_item(auditor, BASE + "/draft/sections/farewell/items/new", pass_mark="0.001").status_code == 302


def test_a_pass_mark_is_saved_with_the_item_and_shown_again(app, auditor):
    """A scale item passed from 4 of 5: the editor writes pass_mark 75; 100 (or empty) is no mark."""
    _start_draft(auditor)
    url = BASE + "/draft/sections/farewell/items/new"
    assert _post_item(auditor, url, item_id="tidy", type="scale", scale_min="1", scale_max="5",
                      pass_mark="75").status_code == 302
    assert _post_item(auditor, url, item_id="quiet", pass_mark="100").status_code == 302
    items = {item["id"]: item for item in _draft_content(app)["sections"][1]["items"]}
    assert items["tidy"]["pass_mark"] == 75 and "pass_mark" not in items["quiet"]
    page = auditor.get(BASE + "/draft/items/tidy").get_data(as_text=True)
    assert re.search(r'id="pass_mark"[^>]*value="75(\.0+)?"', page) or re.search(r'value="75(\.0+)?"[^>]*id="pass_mark"', page)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"item_id": "Smiled Twice"}, "Use lowercase letters, digits and single underscores"),
        ({"item_id": "greeted"}, "Another section or item already has this id."),
        ({"text_en": ""}, "This field is required."),
        ({"weight": "-1"}, "The weight must be more than 0."),
        ({"weight": "lots"}, "Not a valid decimal value."),
        ({"type": "scale", "scale_min": "5", "scale_max": "1"}, "The highest value must be above the lowest."),
        ({"type": "choice", "options-0-option_id": "only", "options-0-points": "1"},
         "A single choice needs at least two options"),
        ({"type": "timer", "thresholds-0-max": "180", "thresholds-0-points": "0.5",
          "thresholds-1-max": "60", "thresholds-1-points": "1"}, "List the thresholds from the smallest value up"),
        ({"type": "timer", "thresholds-0-max": "60", "thresholds-0-points": "2"}, "Give a share from 0 to 1"),
        # A row typed in but without its key would be dropped on saving: it is named instead.
        ({"type": "choice", "options-0-option_id": "yes", "options-0-points": "1", "options-0-text_en": "Yes",
          "options-1-option_id": "no", "options-1-points": "0", "options-1-text_en": "No",
          "options-2-points": "1", "options-2-text_en": "Partly"}, "Give the option an id, or empty the row."),
        ({"type": "timer", "thresholds-0-max": "60", "thresholds-0-points": "1", "thresholds-1-points": "0.5"},
         "Give the value this threshold goes up to, or empty the row."),
        ({"show_if_item": "offer", "show_if_values": ""}, "Name the answers that show this item."),
        # Said in words, with the answers to write: it named the file's show_if key and the item's id.
        ({"show_if_item": "offer", "show_if_values": "proactive, maybe"},
         "“Offer” has no answer “maybe”: write one of its answers, proactive (Unasked), none (Nothing)."),
        ({"type": "bogus"}, "Not a valid choice."),
        ({"pass_mark": "0"}, "Give a pass mark above 0 and at most 100."),
        ({"pass_mark": "150"}, "Give a pass mark above 0 and at most 100."),
        # A right-to-left override pasted in turned the rest of the question's line around.
        ({"text_en": "Did they \u202esmile?"}, "This text holds a control character"),
    ],
)
def test_bad_item_input_is_named_and_the_draft_stays_as_it_was(app, auditor, changes, message):
    _start_draft(auditor)
    before = _draft_content(app)
    response = _post_item(auditor, BASE + "/draft/sections/farewell/items/new", **changes)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert NOTHING_SAVED in response.get_data(as_text=True) or "would not be valid" in response.get_data(as_text=True) \
        or "has no answer" in response.get_data(as_text=True)
    assert _draft_content(app) == before


def test_editing_an_item_changes_the_draft_but_never_the_published_version_or_past_scores(app, auditor, shop):
    _start_draft(auditor)
    url = BASE + "/draft/items/greeted"
    page = auditor.get(url).get_data(as_text=True)
    assert "Köszöntötték?" in page  # every language side by side
    response = _post_item(auditor, url, item_id="greeted_warmly", text_en="Greeted warmly?", text_hu="Kedvesen köszöntötték?",
                          weight="3", na="y")
    assert response.status_code == 302
    item = _draft_content(app)["sections"][0]["items"][0]
    assert (item["id"], item["weight"], item["na"], item["text"]["hu"]) == ("greeted_warmly", 3, True, "Kedvesen köszöntötték?")
    publish = auditor.post(BASE + "/draft/publish", data={"csrf_token": _token(auditor, BASE + "/draft")})
    assert publish.status_code == 302
    with app.app_context(), database.connection_context():
        v1 = ChecklistVersion.find("shop-visit", 1)
        v2 = ChecklistVersion.find("shop-visit", 2)
        visit = Visit.get_by_id(shop["visit_id"])
        assert v1.content == load_checklist_text(SHOP)
        assert v2.is_published and v2.content["sections"][0]["items"][0]["id"] == "greeted_warmly"
        assert visit.checklist_version_id == v1.id
        assert float(visit.score) == pytest.approx(100 * 1 / 3, abs=0.001)  # greeted 1/1, offer 0/1, thanked 0/1
    history = auditor.get(BASE + "/").get_data(as_text=True)
    assert "greeted_warmly" in history  # what changed since version 1


def test_renaming_an_item_keeps_conditions_pointing_at_it(app, auditor):
    _start_draft(auditor)
    url = BASE + "/draft/items/offer"
    data = {"item_id": "offer_made", "type": "choice", "text_en": "Offer", "text_hu": "Ajánlat",
            "options-0-option_id": "proactive", "options-0-points": "2", "options-0-text_en": "Unasked",
            "options-0-text_hu": "Kérés nélkül", "options-1-option_id": "none", "options-1-points": "0",
            "options-1-text_en": "Nothing", "options-1-text_hu": "Semmi"}
    assert _post_item(auditor, url, **data).status_code == 302
    upsell = _draft_content(app)["sections"][0]["items"][2]
    assert upsell["show_if"] == {"item": "offer_made", "in": ["proactive"]}


OFFER = {"item_id": "offer", "type": "choice", "text_en": "Offer", "text_hu": "Ajánlat",
         "options-0-option_id": "proactive", "options-0-points": "2", "options-0-text_en": "Unasked",
         "options-0-text_hu": "Kérés nélkül", "options-1-option_id": "none", "options-1-points": "0",
         "options-1-text_en": "Nothing", "options-1-text_hu": "Semmi"}


@pytest.mark.parametrize(
    "changes,said",
    [
        # Its options changed: the answer "Upsell" waits for is gone.
        ({"options-0-option_id": "asked"}, "“Upsell” is shown only after the answer “Unasked” to “Offer”, which it "
                                           "would no longer have: keep that answer, or change or remove the condition "
                                           "of “Upsell” first."),
        # Its type changed to yes / no, which has no such answer either.
        ({"type": "yesno"}, "“Upsell” is shown only after the answer “Unasked” to “Offer”, which it would no longer "
                            "have: keep that answer, or change or remove the condition of “Upsell” first."),
        # Its type changed to one that shows no other question at all.
        ({"type": "scale", "scale_min": "1", "scale_max": "5"},
         "“Upsell” is shown only after an answer to “Offer”, and only a yes / no or single choice question can show "
         "another: keep “Offer” one of these, or change or remove the condition of “Upsell” first."),
    ],
)
def test_changing_a_question_another_is_shown_after_is_refused_in_words(app, auditor, changes, said):
    """The validator said "item 'upsell': show_if value 'proactive' is not an answer item 'offer' can take
    (yes, no)": ids and a file's key, to an auditor who had changed the question "Offer"."""
    _start_draft(auditor)
    before = _draft_content(app)
    response = _post_item(auditor, BASE + "/draft/items/offer", **{**OFFER, **changes})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert said in page and "show_if value" not in page and "show_if refers" not in page
    assert _draft_content(app) == before


def test_a_condition_refused_names_the_questions_in_the_auditors_language(app, auditor):
    _start_draft(auditor)
    auditor.post("/language", data={"language": "hu", "csrf_token": _token(auditor)})
    page = html.unescape(_post_item(auditor, BASE + "/draft/items/offer", **{**OFFER, "type": "yesno"})
                         .get_data(as_text=True))
    said = _hu_text("“%(question)s” is shown only after the answer “%(answer)s” to “%(on)s”, which it would no "
                    "longer have: keep that answer, or change or remove the condition of “%(question)s” first.",
                    question="Kiegészítő ajánlat", answer="Kérés nélkül", on="Ajánlat")
    assert said in " ".join(page.split())
    assert "Upsell" not in page


def _move(client, url, direction):
    return client.post(url, data={"direction": direction, "csrf_token": _token(client, BASE + "/draft")},
                       follow_redirects=True)


def _order(app):
    return [[item["id"] for item in section["items"]] for section in _draft_content(app)["sections"]]


def test_items_and_sections_move_without_javascript(app, auditor):
    _start_draft(auditor)
    _move(auditor, BASE + "/draft/items/greeted/move", "down")
    assert _order(app) == [["offer", "greeted", "upsell"], ["thanked"]]
    _move(auditor, BASE + "/draft/items/thanked/move", "up")  # past the top: into the section before
    assert _order(app) == [["offer", "greeted", "upsell", "thanked"], []]
    page = auditor.post(BASE + "/draft/publish", data={"csrf_token": _token(auditor, BASE + "/draft")},
                        follow_redirects=True).get_data(as_text=True)
    assert "The draft cannot be published yet" in page  # an empty section waits in the draft only
    _move(auditor, BASE + "/draft/sections/farewell/move", "up")
    assert [s["id"] for s in _draft_content(app)["sections"]] == ["farewell", "welcome"]
    # The audit log says what was done to which part, not the editor's page name.
    log = html.unescape(auditor.get("/admin/log").get_data(as_text=True))
    assert "What: Item moved.<br>Item id: greeted" in log and "What: Section moved.<br>Section id: farewell" in log
    assert "editor." not in log


def test_a_move_that_breaks_a_condition_is_refused_with_the_reason(app, auditor):
    """Said in words: "show_if refers to item 'offer', which comes later; an item can only depend on an
    earlier one" named ids and a file's key to an auditor who had pressed an arrow."""
    said = "“Upsell” is shown only after an answer to “Offer”, so it cannot come before it: change or remove that " \
           "condition first."
    _start_draft(auditor)
    before = _order(app)
    page = html.unescape(_move(auditor, BASE + "/draft/items/upsell/move", "up").get_data(as_text=True))
    assert said in page and "show_if" not in page and "Item moved." not in page
    assert _order(app) == before
    # A section moved above the one holding the question it depends on, too.
    _move(auditor, BASE + "/draft/items/upsell/move", "down")
    assert _order(app) == [["greeted", "offer"], ["upsell", "thanked"]]
    page = html.unescape(_move(auditor, BASE + "/draft/sections/farewell/move", "up").get_data(as_text=True))
    assert said in page and "show_if" not in page
    assert _order(app) == [["greeted", "offer"], ["upsell", "thanked"]]


def test_deleting_an_item_that_a_condition_names_is_refused(app, auditor):
    """Refused with the questions in words: "show_if refers to unknown item 'offer'" read as if the
    item were missing already, while it was the one being deleted."""
    _start_draft(auditor)
    page = auditor.post(BASE + "/draft/items/offer/delete", follow_redirects=True,
                        data={"csrf_token": _token(auditor, BASE + "/draft"), "confirmed": "yes"}).get_data(as_text=True)
    said = "“Upsell” is shown only after an answer to “Offer”: change or remove that condition first."
    assert said in html.unescape(page)
    # Its section too, the question that depends on it moved to the next section.
    _move(auditor, BASE + "/draft/items/upsell/move", "down")
    assert _order(app) == [["greeted", "offer"], ["upsell", "thanked"]]
    page = auditor.post(BASE + "/draft/sections/welcome/delete", follow_redirects=True,
                        data={"csrf_token": _token(auditor, BASE + "/draft"), "confirmed": "yes"}).get_data(as_text=True)
    assert said in html.unescape(page)
    assert _order(app) == [["greeted", "offer"], ["upsell", "thanked"]]
    auditor.post(BASE + "/draft/items/upsell/delete",
                 data={"csrf_token": _token(auditor, BASE + "/draft"), "confirmed": "yes"})
    assert _order(app) == [["greeted", "offer"], ["thanked"]]


def test_section_add_edit_and_bad_id(app, auditor):
    _start_draft(auditor)
    url = BASE + "/draft/sections/new"
    bad = auditor.post(url, data={"section_id": "offer", "title_en": "Payment", "title_hu": "",
                                  "csrf_token": _token(auditor, url)})
    assert "Another section or item already has this id." in bad.get_data(as_text=True)
    good = auditor.post(url, data={"section_id": "payment", "title_en": "Payment", "title_hu": "Fizetés",
                                   "csrf_token": _token(auditor, url)})
    assert good.status_code == 302
    weighted = auditor.post(BASE + "/draft/sections/payment", data={
        "section_id": "payment", "title_en": "Payment", "title_hu": "Fizetés", "weight": "20",
        "csrf_token": _token(auditor, BASE + "/draft/sections/payment")})
    # Only one section with a weight: the format says all or none.
    assert weighted.status_code == 200
    assert "The checklist would not be valid, so nothing was saved" in weighted.get_data(as_text=True)
    assert "weight" not in _draft_content(app)["sections"][-1]


def _xlsx_with(content, changes):
    from audit.checklist.xlsx import export_texts_xlsx

    book = openpyxl.load_workbook(io.BytesIO(export_texts_xlsx(content)))
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        key = row[0].value
        for (k, language), text in changes.get("cells", {}).items():
            if k == key:
                row[header.index(language)].value = text
    for key, text in changes.get("extra", []):
        sheet.append([key, "", text])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_translations_come_back_from_the_spreadsheet_and_only_texts_change(app, auditor):
    _start_draft(auditor)
    _post_item(auditor, BASE + "/draft/sections/farewell/items/new")  # 'smiled', English only
    before = _draft_content(app)
    data = _xlsx_with(before, {"cells": {("item:smiled:text", "hu"): "Mosolyogtak?"},
                               "extra": [("item:ghost:text", "Boo")]})
    page = auditor.post(BASE + "/draft/texts", data={"file": (io.BytesIO(data), "texts.xlsx"),
                                                      "csrf_token": _token(auditor, BASE + "/draft")},
                        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "1 text updated from the spreadsheet." in page
    assert "item:ghost:text" in page
    after = _draft_content(app)
    assert after["sections"][1]["items"][-1]["text"] == {"en": "Did they smile?", "hu": "Mosolyogtak?"}
    after["sections"][1]["items"][-1]["text"] = before["sections"][1]["items"][-1]["text"]
    assert after == before
    published = auditor.post(BASE + "/draft/publish", data={"csrf_token": _token(auditor, BASE + "/draft")},
                             follow_redirects=True)
    assert "Version 2 is published." in published.get_data(as_text=True)


def test_a_spreadsheet_sent_out_before_an_edit_does_not_undo_it(app, auditor):
    """The auditor exports the texts for the translator, then adds a Hungarian text herself; the
    translator's sheet comes back with a change elsewhere and with that text reworded too. Her text
    stays, the page says so, and the translator's other change is applied."""
    _start_draft(auditor)
    _post_item(auditor, BASE + "/draft/sections/farewell/items/new")  # 'smiled', English only
    sheet = auditor.get(BASE + "/v2.xlsx")
    assert sheet.status_code == 200
    assert _post_item(auditor, BASE + "/draft/items/smiled", text_hu="Mosolygott az eladó?").status_code == 302
    book = openpyxl.load_workbook(io.BytesIO(sheet.data))
    texts = book["texts"]
    header = [cell.value for cell in texts[1]]
    rows = {row[0].value: row for row in texts.iter_rows(min_row=2)}
    rows["item:smiled:text"][header.index("hu")].value = "Mosolyogtak?"
    rows["title"][header.index("hu")].value = "Bolti látogatás"
    out = io.BytesIO()
    book.save(out)

    page = auditor.post(BASE + "/draft/texts", data={"file": (io.BytesIO(out.getvalue()), "texts.xlsx"),
                                                      "csrf_token": _token(auditor, BASE + "/draft")},
                        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)

    assert "1 text updated from the spreadsheet." in page
    assert "the checklist&#39;s texts were kept:" in page and "item:smiled:text (hu)" in page
    after = _draft_content(app)
    assert after["sections"][1]["items"][-1]["text"] == {"en": "Did they smile?", "hu": "Mosolygott az eladó?"}
    assert after["title"]["hu"] == "Bolti látogatás"


def test_another_checklists_spreadsheet_is_refused_by_the_draft_and_changes_nothing(app, auditor, tmp_path):
    """QA: a spreadsheet of one checklist, its hidden sheet deleted, was taken by another whose items
    have the same ids ("206 texts updated"): its title and shared questions got the other's wording."""
    path = tmp_path / "bank-visit.yaml"
    path.write_text(SHOP.replace("id: shop-visit", "id: bank-visit").replace("Shop visit", "Bank visit"),
                    encoding="utf-8")
    with app.app_context(), database.connection_context():
        publish_checklist_file(str(path))
    book = openpyxl.load_workbook(io.BytesIO(auditor.get("/checklists/bank-visit/v1.xlsx").data))
    del book["exported"]
    texts = book["texts"]
    header = [cell.value for cell in texts[1]]
    for row in texts.iter_rows(min_row=2):
        if row[0].value == "item:greeted:text":
            row[header.index("hu")].value = "Köszöntötték a bankban?"
    out = io.BytesIO()
    book.save(out)
    _start_draft(auditor)
    before = _draft_content(app)

    page = auditor.post(BASE + "/draft/texts", data={"file": (io.BytesIO(out.getvalue()), "texts.xlsx"),
                                                      "csrf_token": _token(auditor, BASE + "/draft")},
                        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)

    assert ("This spreadsheet is for the checklist “bank-visit”, not “shop-visit”: nothing was changed. Import it "
            "into the draft of “bank-visit”, or export this checklist's texts.") in html.unescape(page)
    assert "updated from the spreadsheet" not in page
    assert _draft_content(app) == before


def test_a_notes_column_in_the_spreadsheet_is_left_out_with_a_notice(app, auditor):
    """QA: the translator's 'notes' column refused the whole spreadsheet ("not one of this checklist's
    languages"); a language the checklist lacks still refuses it, and says how to add it."""
    _start_draft(auditor)
    before = _draft_content(app)
    data = _xlsx_with(before, {"cells": {("item:greeted:text", "hu"): "Üdvözölték?"}})
    book = openpyxl.load_workbook(io.BytesIO(data))
    texts = book["texts"]
    texts["E1"], texts["E3"] = "notes", "ask the client"
    out = io.BytesIO()
    book.save(out)

    def imported(data):
        return html.unescape(auditor.post(BASE + "/draft/texts", data={
            "file": (io.BytesIO(data), "texts.xlsx"), "csrf_token": _token(auditor, BASE + "/draft")},
            content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True))

    page = imported(out.getvalue())
    assert "1 text updated from the spreadsheet." in page
    assert "These columns are not a language and were left out: E1 notes" in page
    assert _draft_content(app)["sections"][0]["items"][0]["text"] == {"en": "Greeted?", "hu": "Üdvözölték?"}

    texts["E1"] = "ro"
    out = io.BytesIO()
    book.save(out)
    before = _draft_content(app)
    page = imported(out.getvalue())
    assert ("E1: The language 'ro' is not one of this checklist's languages (en, hu): add it to the draft first "
            "(“Add a language”), then import the spreadsheet again.") in page
    assert _draft_content(app) == before


def test_a_line_break_in_a_section_title_from_the_spreadsheet_becomes_a_space_and_says_so(app, auditor):
    """QA: a line break in a text the pages show on one line (a section title, an option) came in as it was."""
    _start_draft(auditor)
    before = _draft_content(app)
    data = _xlsx_with(before, {"cells": {("section:welcome:title", "hu"): "Fogadás\naz üzletben",
                                         ("item:greeted:text", "hu"): "Köszöntötték?\nAmint belépett"}})
    page = html.unescape(auditor.post(BASE + "/draft/texts", data={
        "file": (io.BytesIO(data), "texts.xlsx"), "csrf_token": _token(auditor, BASE + "/draft")},
        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True))
    assert "2 texts updated from the spreadsheet." in page
    assert ("These texts are shown on one line, so their line breaks became spaces: D4 section:welcome:title (hu)"
            in page)
    after = _draft_content(app)
    assert after["sections"][0]["title"]["hu"] == "Fogadás az üzletben"
    assert after["sections"][0]["items"][0]["text"]["hu"] == "Köszöntötték?\nAmint belépett"


def test_a_text_too_long_for_the_editor_is_refused_from_the_spreadsheet_too(app, auditor):
    """The editor takes texts of up to 2,000 characters; a 30,000-character cell used to come in and
    leave an item the editor would not save again."""
    _start_draft(auditor)
    before = _draft_content(app)
    data = _xlsx_with(before, {"cells": {("item:greeted:text", "hu"): "Ü" * 30_000}})
    page = auditor.post(BASE + "/draft/texts", data={"file": (io.BytesIO(data), "texts.xlsx"),
                                                      "csrf_token": _token(auditor, BASE + "/draft")},
                        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "is 30000 characters long; at most 2000 fit a question on a phone" in page
    assert _draft_content(app) == before


def test_a_long_list_of_skipped_rows_is_cut_short_so_the_message_still_arrives(app, auditor):
    """The message rides in the session cookie: with every row listed, a big sheet passed the
    browser's 4 KB and the auditor saw no message at all."""
    _start_draft(auditor)
    data = _xlsx_with(_draft_content(app), {"extra": [(f"item:ghost_{n:03d}:text", "Boo") for n in range(300)]})
    response = auditor.post(BASE + "/draft/texts", data={"file": (io.BytesIO(data), "texts.xlsx"),
                                                          "csrf_token": _token(auditor, BASE + "/draft")},
                            content_type="multipart/form-data")
    cookie = next(value for name, value in response.headers.items() if name == "Set-Cookie")
    assert len(cookie) < 4000
    page = auditor.get(BASE + "/draft").get_data(as_text=True)
    assert "item:ghost_009:text and 290 more" in page and "item:ghost_010:text" not in page


def test_a_broken_spreadsheet_is_refused_and_changes_nothing(app, auditor):
    _start_draft(auditor)
    before = _draft_content(app)
    page = auditor.post(BASE + "/draft/texts", data={"file": (io.BytesIO(b"PK\x03\x04 not really"), "t.xlsx"),
                                                      "csrf_token": _token(auditor, BASE + "/draft")},
                        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "The spreadsheet could not be used" in page
    assert _draft_content(app) == before


def test_publishing_an_unchanged_draft_says_there_is_nothing_to_publish(app, auditor):
    _start_draft(auditor)
    page = auditor.post(BASE + "/draft/publish", data={"csrf_token": _token(auditor, BASE + "/draft")},
                        follow_redirects=True).get_data(as_text=True)
    assert "Nothing changed since version 1, so there is nothing to publish." in page


@pytest.mark.parametrize("button, question, said", [
    ("/draft/sections/welcome/delete", "Delete the section “Welcome”?",
     "Its 3 questions go with it, with their texts in every language."),
    ("/draft/items/thanked/delete", "Delete the question “Thanked?”?", "Its texts in every language go with it."),
    ("/draft/discard", "Discard the draft, version 2?", "Every change made in it is lost."),
])
def test_a_deletion_asks_first_and_changes_nothing_until_confirmed(app, auditor, button, question, said):
    """The delete buttons sat beside the move buttons: one slip deleted a section with its questions
    and their translations, or discarded a draft's day of work, with nothing to undo it."""
    _start_draft(auditor)
    before = _draft_content(app)

    asked = auditor.post(BASE + button, data={"csrf_token": _token(auditor, BASE + "/draft")})

    assert asked.status_code == 200
    page = html.unescape(asked.get_data(as_text=True))
    assert question in page and said in page and "Cancel" in page
    assert _draft_content(app) == before
    confirmed = auditor.post(BASE + button, data={"csrf_token": csrf_from(asked), "confirmed": "yes"})
    assert confirmed.status_code == 302
    with app.app_context(), database.connection_context():
        draft = Checklist.get(Checklist.slug == "shop-visit").draft()
        assert draft is None or draft.content != before


def test_a_deletion_says_what_keeps_it_as_the_checklist_was_published_or_not(app, auditor):
    """A checklist never published was told "The versions already published keep it.": there were none,
    and the question deleted was gone for good."""
    _start_draft(auditor)
    asked = html.unescape(auditor.post(BASE + "/draft/items/thanked/delete",
                                       data={"csrf_token": _token(auditor, BASE + "/draft")}).get_data(as_text=True))
    assert "The published versions stay as they are." in asked and "never published" not in asked
    assert auditor.post("/checklists/new", data={"checklist_id": "cafe-visit", "source": "en", "title": "Café",
                                                 "csrf_token": csrf_from(auditor.get("/checklists/new"))}).status_code == 302
    url = "/checklists/cafe-visit/draft/sections/new"
    auditor.post(url, data={"section_id": "welcome", "title_en": "Welcome", "weight": "", "csrf_token": csrf_from(auditor.get(url))})
    url = "/checklists/cafe-visit/draft/sections/welcome/items/new"
    auditor.post(url, data={**_item_data(item_id="greeted", text_en="Greeted?"), "csrf_token": csrf_from(auditor.get(url))})
    token = csrf_from(auditor.get("/checklists/cafe-visit/draft"))
    for button in ("/draft/items/greeted/delete", "/draft/sections/welcome/delete"):
        asked = html.unescape(auditor.post("/checklists/cafe-visit" + button, data={"csrf_token": token})
                              .get_data(as_text=True))
        assert "The checklist was never published, so no version keeps it." in asked, button
        assert "published keep" not in asked and "stay as they are" not in asked


def test_discarding_the_draft_leaves_the_published_versions(app, auditor):
    _start_draft(auditor)
    auditor.post(BASE + "/draft/discard", data={"csrf_token": _token(auditor, BASE + "/draft"), "confirmed": "yes"})
    with app.app_context(), database.connection_context():
        checklist = Checklist.get(Checklist.slug == "shop-visit")
        assert checklist.draft() is None and checklist.latest_published().number == 1
    assert auditor.get(BASE + "/draft").status_code == 404


def test_yaml_export_loads_back_to_the_same_content(app, auditor):
    exported = auditor.get(BASE + "/v1.yaml")
    assert exported.status_code == 200
    assert load_checklist_text(exported.get_data(as_text=True)) == load_checklist_text(SHOP)


def test_the_yaml_export_keeps_the_order_of_the_shipped_files(app, auditor):
    """Read back from the database the content's keys come sorted; the file is for people to edit
    and review, so it starts with id, languages and title, and each text lists the languages in the
    checklist's order, like the shipped files."""
    text = auditor.get(BASE + "/v1.yaml").get_data(as_text=True)
    top_level = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith((" ", "-"))]
    assert top_level[:3] == ["id", "languages", "title"] and top_level[-1] == "sections"
    first_item = text[text.index("  items:"):]
    keys = [line.strip().lstrip("- ").split(":")[0] for line in first_item.splitlines()[1:5]]
    assert keys[:3] == ["id", "type", "text"]
    title = text[text.index("title:"):].splitlines()[1:3]
    assert [line.strip().split(":")[0] for line in title] == ["en", "hu"]


def test_importing_a_yaml_file_makes_a_draft(app, auditor):
    changed = SHOP.replace("Shop visit", "Shop visit 2026")
    page = auditor.post("/checklists/import", data={"file": (io.BytesIO(changed.encode()), "shop-visit.yaml"),
                                                     "csrf_token": _token(auditor, "/checklists/")},
                        content_type="multipart/form-data", follow_redirects=True)
    assert "The file was imported as a draft." in page.get_data(as_text=True)
    assert _draft_content(app)["title"]["en"] == "Shop visit 2026"


@pytest.mark.parametrize(
    "content,message",
    [
        (SHOP.replace("type: scale", "type: slider").encode(), "Line 18: "),
        ("id: x\nsections: [".encode(), "Line"),
        (b"id: x\nlanguages: [en]\ntitle: {en: Caf\xe9}\n", "Line 3: the file is not UTF-8 text (byte 0xe9 cannot be "
         "read); save it as UTF-8"),
        # A message that names another line: the line of the problem comes first, not as a second bracket.
        (SHOP.replace("id: thanked", "id: greeted").encode(),
         "Line 26: duplicate item id &#39;greeted&#39; (first used on line 8)</li>"),
    ],
)
def test_a_bad_yaml_import_shows_its_problems_and_stores_nothing(app, auditor, content, message):
    response = auditor.post("/checklists/import", data={"file": (io.BytesIO(content), "bad.yaml"),
                                                         "csrf_token": _token(auditor, "/checklists/")},
                            content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert "bad.yaml is not a valid checklist, so nothing was saved:" in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert ChecklistVersion.select().count() == 1


def test_an_imported_file_names_a_broken_conditions_questions_by_their_text_and_id(app, auditor):
    """In the reader's language where the file has it, with the id its show_if writes: "item 'upsell':
    show_if value 'asked' is not an answer item 'offer' can take" left the auditor to find both."""
    broken = SHOP.replace("show_if: {item: offer, in: [proactive]}", "show_if: {item: offer, in: [asked]}")
    auditor.post("/language", data={"language": "hu", "csrf_token": _token(auditor)})
    response = auditor.post("/checklists/import", data={"file": (io.BytesIO(broken.encode()), "shop-visit.yaml"),
                                                         "csrf_token": _token(auditor, "/checklists/")},
                            content_type="multipart/form-data")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    question = _hu_text("the question “%(text)s” (id %(id)s)", text="Kiegészítő ajánlat", id="upsell")
    on = _hu_text("the question “%(text)s” (id %(id)s)", text="Ajánlat", id="offer")
    said = _hu_text("%(question)s is shown only after the answer %(value)s to %(on)s, which has no such answer (its "
                    "answers: %(answers)s): write one of these in its show_if, or remove that show_if",
                    question=question, value="'asked'", on=on, answers="proactive, none")
    assert said in " ".join(page.split())
    with app.app_context(), database.connection_context():
        assert ChecklistVersion.select().count() == 1


def test_preview_shows_the_chosen_language_and_marks_missing_translations(app, auditor):
    """The checklist as a shopper reading that language sees it, its buttons too: with the auditor's
    English around Hungarian questions, a translator could not see that a help text named a button
    ("N/A") that no shopper is shown."""
    hungarian = auditor.get(BASE + "/v1/preview?lang=hu").get_data(as_text=True)
    checklist = hungarian[hungarian.index('<div lang="hu">'):]
    assert "Köszöntötték?" in checklist and f"> {_hu('Yes')}</label>" in checklist and "> Yes</label>" not in checklist
    assert "Preview of version 1 as the shopper sees it." in hungarian  # the page around it stays the auditor's
    english = auditor.get(BASE + "/v1/preview?lang=en").get_data(as_text=True)
    assert "Greeted?" in english and "> Yes</label>" in english
    _start_draft(auditor)
    _post_item(auditor, BASE + "/draft/sections/farewell/items/new")
    preview = auditor.get(BASE + "/v2/preview?lang=hu").get_data(as_text=True)
    assert "Did they smile?" in preview and _hu("not translated") in preview
    # Only the checklist's languages are offered (English and Hungarian); another shows the source.
    russian = auditor.get(BASE + "/v1/preview?lang=ru").get_data(as_text=True)
    offered = re.search(r'<select id="preview-lang".*?</select>', russian, re.S).group(0)
    assert re.findall(r'<option value="(\w+)"', offered) == ["en", "hu"]
    assert "Greeted?" in russian and "not translated" not in russian


def test_xlsx_export_has_a_column_per_language(auditor):
    response = auditor.get(BASE + "/v1.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    header = [cell.value for cell in book.active[1]]
    assert header[:2] == ["key", "context"] and set(header[2:]) == {"en", "hu"}


def _settings_data(**changes):
    data = {"title_en": "Small visit", "title_ru": "Небольшой визит", "critical_cap": "40",
            "bands-0-min": "80", "bands-0-label_en": "Good", "bands-0-label_ru": "Хорошо",
            "bands-1-min": "0", "bands-1-label_en": "Poor", "bands-1-label_ru": "Плохо",
            "dimensions-0-tag": "politeness", "dimensions-0-label_en": "Politeness",
            "dimensions-0-label_ru": "Вежливость"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def small(app, tmp_path, login_as, org):
    from tests_support import SMALL

    path = tmp_path / "small-visit.yaml"
    path.write_text(SMALL.replace("critical_cap: 40", "critical_cap: 40\ndimensions:\n  politeness: {en: Politeness, ru: Вежливость}"),
                    encoding="utf-8")
    with app.app_context(), database.connection_context():
        publish_checklist_file(str(path))
    client = login_as("auditor")
    client.post("/checklists/small-visit/draft/start", data={"csrf_token": _token(client, "/checklists/small-visit/")})
    return client


def _small_draft(app):
    with app.app_context(), database.connection_context():
        return Checklist.get(Checklist.slug == "small-visit").draft().content


def test_title_cap_bands_and_dimensions_are_edited_in_the_settings(app, small):
    url = "/checklists/small-visit/draft/settings"
    response = small.post(url, data={**_settings_data(critical_cap="", **{
        "bands-2-min": "95", "bands-2-label_en": "Excellent", "bands-2-label_ru": "Отлично",
        "dimensions-1-tag": "promptness", "dimensions-1-label_en": "Promptness"}), "csrf_token": _token(small, url)})
    assert response.status_code == 302
    content = _small_draft(app)
    assert "critical_cap" not in content
    assert [band["min"] for band in content["bands"]] == [95, 80, 0]
    assert content["dimensions"]["promptness"] == {"en": "Promptness"}


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"bands-1-min": "80"}, "Each band needs its own lowest score."),
        ({"bands-0-min": "120"}, "Give a number from 0 to 100."),
        ({"bands-0-label_en": ""}, "Give the label in the source language."),
        # Still used by item greeted while other dimensions are declared: refused by the validator.
        ({"dimensions-0-tag": "", "dimensions-0-label_en": "", "dimensions-0-label_ru": "",
          "dimensions-1-tag": "promptness", "dimensions-1-label_en": "Promptness"}, "politeness"),
        # A row typed in but without its key would be dropped on saving: it is named instead.
        ({"dimensions-1-label_en": "Promptness"}, "Give the dimension an id, or empty the row."),
        ({"bands-2-label_en": "Excellent"}, "Give the band&#39;s lowest score, or empty the row."),
        ({"critical_cap": "-5"}, "Give a number from 0 to 100."),
        ({"title_en": ""}, "This field is required."),
    ],
)
def test_bad_settings_are_named_and_change_nothing(app, small, changes, message):
    url = "/checklists/small-visit/draft/settings"
    before = _small_draft(app)
    response = small.post(url, data={**_settings_data(**changes), "csrf_token": _token(small, url)})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert NOTHING_SAVED in response.get_data(as_text=True) or "would not be valid" in response.get_data(as_text=True)
    assert _small_draft(app) == before


# -- in the auditor's language ---------------------------------------------------------------------

TRANSLATIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "translations")


def _hungarian(client):
    response = client.post("/language", data={"language": "hu", "next": "/checklists/",
                                              "csrf_token": _token(client, "/checklists/")})
    assert response.status_code == 302


def test_the_condition_questions_are_offered_in_the_auditors_language(app, auditor):
    """"Show only when item" listed the earlier questions in the checklist's first language, on a page
    in the auditor's."""
    _start_draft(auditor)
    _hungarian(auditor)
    page = auditor.get(BASE + "/draft/items/thanked").get_data(as_text=True)
    choices = re.search(r'<select[^>]*name="show_if_item"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert "greeted · Köszöntötték?" in choices and "Greeted?" not in choices


def _hu_text(msgid, **values):
    """A message as the Hungarian page says it (to compare with the page unescaped, its spaces joined)."""
    text = Translations.load(TRANSLATIONS, ["hu"]).gettext(msgid)
    assert text != msgid, f"no Hungarian text for {msgid!r}"
    return " ".join((text % values).split())


def _hu(msgid, **values):
    """A message as the Hungarian page should show it: the catalog's text, filled in, HTML-escaped."""
    text = Translations.load(TRANSLATIONS, ["hu"]).gettext(msgid)
    assert text != msgid, f"no Hungarian text for {msgid!r}"
    return str(escape(text % values if values else text))


def test_problems_in_an_imported_file_are_told_in_the_auditors_language(app, auditor):
    _hungarian(auditor)
    bad = SHOP.replace("type: scale", "type: slider").encode()
    response = auditor.post("/checklists/import", data={"file": (io.BytesIO(bad), "bad.yaml"),
                                                         "csrf_token": _token(auditor, "/checklists/")},
                            content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    label = _hu("item '%(id)s'", id="upsell")
    problem = _hu("unknown type %(value)s (allowed: %(allowed)s)", value="'slider'",
                  allowed="yesno, scale, choice, timer, number, text, photo")
    assert f"{label}: {problem}" in page  # ids, keys and values stay as written in the file
    assert "unknown type" not in page
    with app.app_context(), database.connection_context():
        assert ChecklistVersion.select().count() == 1


def test_problems_in_a_spreadsheet_are_told_in_the_auditors_language(app, auditor):
    _start_draft(auditor)
    _hungarian(auditor)
    before = _draft_content(app)
    data = _xlsx_with(before, {"extra": [(5, "Öt")]})  # a row whose key is a number
    page = auditor.post(BASE + "/draft/texts", data={"file": (io.BytesIO(data), "texts.xlsx"),
                                                      "csrf_token": _token(auditor, BASE + "/draft")},
                        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    number = Translations.load(TRANSLATIONS, ["hu"]).gettext("the number %(number)s") % {"number": 5}
    assert _hu("The key is %(value)s, not text.", value=number) in page
    assert _draft_content(app) == before


def test_missing_translations_are_listed_once_whatever_the_language(app, auditor):
    _start_draft(auditor)
    _post_item(auditor, BASE + "/draft/sections/farewell/items/new")  # 'smiled', English only
    _hungarian(auditor)
    page = auditor.get(BASE + "/draft").get_data(as_text=True)
    assert "item:smiled:text" in page  # in the list of texts to translate...
    assert _hu("Other problems:") not in page  # ...and not again as a validator message
    assert _hu("%(field)s is missing the '%(language)s' translation", field="text", language="hu") not in page


def test_the_version_history_is_told_in_the_auditors_language(app, auditor):
    _start_draft(auditor)
    _post_item(auditor, BASE + "/draft/items/greeted", item_id="greeted_warmly", text_en="Greeted warmly?",
               text_hu="Kedvesen köszöntötték?")
    auditor.post(BASE + "/draft/publish", data={"csrf_token": _token(auditor, BASE + "/draft")})
    _hungarian(auditor)
    history = auditor.get(BASE + "/").get_data(as_text=True)
    assert _hu("%(type)s in section %(section)s", type="yesno", section="welcome") in history
    assert "in section welcome" not in history


def _inputs(page):
    """The form as the browser would send it unchanged: every field's current value (a checkbox only
    when checked, a select's selected option)."""
    import html

    data = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and (' type="checkbox"' not in tag or " checked" in tag):
            data[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        options = re.findall(r"<option[^>]*>", body)
        chosen = next((o for o in options if " selected" in o), options[0] if options else None)
        data[name] = html.unescape(re.search(r'value="([^"]*)"', chosen).group(1)) if chosen else ""
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        data[name] = html.unescape(text).lstrip("\r\n")  # WTForms starts a textarea with a line break
    return data


def test_a_choice_items_options_and_the_settings_labels_keep_every_language_when_edited(app, auditor):
    """The options of a choice item, the bands and the dimensions come up with their texts in every
    language, and a save that changes something else keeps them (they came up empty, and a save lost
    every language but the one retyped)."""
    _start_draft(auditor)
    url = BASE + "/draft/items/offer"
    page = auditor.get(url).get_data(as_text=True)
    data = _inputs(page)
    assert (data["options-0-text_en"], data["options-0-text_hu"]) == ("Unasked", "Kérés nélkül")
    assert (data["options-1-text_en"], data["options-1-text_hu"]) == ("Nothing", "Semmi")
    data["options-0-points"] = "3"
    saved = auditor.post(url, data=data)
    assert saved.status_code == 302, re.findall(r'class="[^"]*(?:error|problem)[^"]*"[^>]*>([^<]+)', saved.get_data(as_text=True))
    offer = _draft_content(app)["sections"][0]["items"][1]
    assert offer["options"][0] == {"id": "proactive", "points": 3, "text": {"en": "Unasked", "hu": "Kérés nélkül"}}
    assert offer["options"][1]["text"] == {"en": "Nothing", "hu": "Semmi"}


def test_a_units_plural_forms_are_entered_in_one_field_per_language_and_come_back(app, auditor):
    """An auditor writes "time | times" (the forms in the order the box shows) or labels them; the item
    page shows them labelled, and a save that changes something else keeps them, and a plain unit stays
    plain (one with a | in it too, though a | typed in the field separates forms)."""
    _start_draft(auditor)
    new = BASE + "/draft/sections/farewell/items/new"
    number = {"item_id": "repeated", "type": "number", "text_hu": "Ismétlés", "thresholds-0-max": "1",
              "thresholds-0-points": "1"}
    assert _post_item(auditor, new, **number, unit_en="time | times", unit_hu="alkalom").status_code == 302
    item = _draft_content(app)["sections"][1]["items"][-1]
    assert item["unit"] == {"en": {"one": "time", "other": "times"}, "hu": "alkalom"}
    url = BASE + "/draft/items/repeated"
    data = _inputs(auditor.get(url).get_data(as_text=True))
    assert (data["unit_en"], data["unit_hu"]) == ("one: time | other: times", "alkalom")
    with app.app_context(), database.connection_context():
        draft = Checklist.get(Checklist.slug == "shop-visit").draft()
        content = draft.content
        content["sections"][1]["items"][-1]["unit"]["hu"] = "db | darab"
        type(draft).update(content=content).where(type(draft).id == draft.id).execute()
    data = _inputs(auditor.get(url).get_data(as_text=True))
    data["text_en"] = "Repeated?"
    assert auditor.post(url, data=data).status_code == 302
    item = _draft_content(app)["sections"][1]["items"][-1]
    assert (item["text"]["en"], item["unit"]) == ("Repeated?", {"en": {"one": "time", "other": "times"},
                                                                "hu": "db | darab"})
    data = _inputs(auditor.get(url).get_data(as_text=True))
    data["unit_en"], data["unit_hu"] = "other: times", "one: alkalom | other: alkalmak"
    assert auditor.post(url, data=data).status_code == 302
    assert _draft_content(app)["sections"][1]["items"][-1]["unit"] == {
        "en": "times", "hu": {"one": "alkalom", "other": "alkalmak"}}


@pytest.mark.parametrize("unit, message", [
    ("time | times | timez", "Numbers in this language take 2 forms (one, other): write them in this order, "
                             "separated by |, or label them, like “one: … | other: …”."),
    ("one: time", "Give the form “other” too: numbers with no form of their own take it."),
    ("many: times | other: times", "Numbers in this language take no form “many” (their forms: one, other)."),
])
def test_a_unit_that_cannot_be_read_is_named_beside_its_field_and_nothing_is_saved(app, auditor, unit, message):
    _start_draft(auditor)
    before = _draft_content(app)
    response = _post_item(auditor, BASE + "/draft/sections/farewell/items/new", item_id="repeated", type="number",
                          **{"thresholds-0-max": "1", "thresholds-0-points": "1"}, unit_en=unit)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and NOTHING_SAVED in page
    field = re.search(r'id="unit_en".*?</div>', page, re.S).group(0)
    assert f'<p class="error">{message}</p>' in field
    assert _draft_content(app) == before


def test_the_settings_come_up_with_every_bands_and_dimensions_labels(app, small):
    url = "/checklists/small-visit/draft/settings"
    page = small.get(url).get_data(as_text=True)
    data = _inputs(page)
    before = _small_draft(app)
    for index, band in enumerate(before["bands"]):
        for language, label in band["label"].items():
            assert data[f"bands-{index}-label_{language}"] == label
    data["critical_cap"] = "40"
    assert small.post(url, data=data).status_code == 302
    after = _small_draft(app)
    assert after["critical_cap"] == 40
    assert [band["label"] for band in after["bands"]] == [band["label"] for band in before["bands"]]
    assert after["dimensions"] == before["dimensions"]


def _hidden(response, name):
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', response.get_data(as_text=True)) or re.search(
        rf'id="{name}"[^>]*value="([^"]*)"', response.get_data(as_text=True))
    return found.group(1)


def test_a_section_page_opened_before_a_translators_save_does_not_undo_it(app, login_as, shop):
    """Two translators on one section, every language side by side: the Hungarian title saved, then
    the Russian one from a page opened before it, which sent the old Hungarian title back ("Section
    saved." to both). The later page is out of date: nothing is saved and it is shown as it is now."""
    first, second = login_as("auditor"), login_as("auditor")
    _start_draft(first)
    url = BASE + "/draft/sections/welcome"
    older = second.get(url)
    saved = first.post(url, data={"section_id": "welcome", "title_en": "Welcome", "title_hu": "Üdvözlés",
                                  "csrf_token": csrf_from(first.get(url)), "seen": _hidden(first.get(url), "seen")})
    assert saved.status_code == 302
    late = second.post(url, data={"section_id": "welcome", "title_en": "Welcome at the door", "title_hu": "Fogadás",
                                  "csrf_token": csrf_from(older), "seen": _hidden(older, "seen")}, follow_redirects=True)
    page = html.unescape(late.get_data(as_text=True))
    assert "This part of the draft was changed meanwhile" in page and re.search(r'name="title_hu"[^>]*>\s*Üdvözlés</textarea>', page)
    assert _draft_content(app)["sections"][0]["title"] == {"en": "Welcome", "hu": "Üdvözlés"}
    # An item's page and the settings page: the same.
    item_url = BASE + "/draft/items/greeted"
    older_item = second.get(item_url)
    assert _post_item(first, item_url, item_id="greeted", text_en="Greeted?", text_hu="Üdvözölték?",
                      seen=_hidden(first.get(item_url), "seen")).status_code == 302
    late_item = second.post(item_url, data={**_item_data(item_id="greeted", text_en="Greeted at once?",
                                                         text_hu="Köszöntötték?"),
                                            "csrf_token": csrf_from(older_item), "seen": _hidden(older_item, "seen")})
    assert late_item.status_code == 302 and late_item.headers["Location"].endswith(item_url)
    assert _draft_content(app)["sections"][0]["items"][0]["text"] == {"en": "Greeted?", "hu": "Üdvözölték?"}
    # Another section's or item's change meanwhile does not make the page out of date.
    other = second.get(BASE + "/draft/sections/farewell")
    assert second.post(BASE + "/draft/sections/farewell", data={
        "section_id": "farewell", "title_en": "Goodbye", "title_hu": "Búcsú", "csrf_token": csrf_from(other),
        "seen": _hidden(other, "seen")}).status_code == 302
    assert _draft_content(app)["sections"][1]["title"]["en"] == "Goodbye"


def test_two_auditors_saving_and_publishing_at_once_lose_nothing(app, org, shop):
    """Each save changed the content it had read: the later one undid the earlier (5 of 6 tries on
    SQLite), and a publication wrote its stale content back or was undone by a save. One at a time,
    each change is made to the draft as the other left it."""
    import threading

    from audit import operations
    from audit.checklist import editing

    with app.app_context(), database.connection_context():
        checklist = Checklist.get(Checklist.slug == "shop-visit")
        draft = operations.start_draft(checklist, checklist.latest_published())

    def retitle(section_id, title):
        def change(content):
            fields = {"id": section_id, "title": title, "weight": None}
            return editing.save_section(content, section_id, fields)
        return change

    for attempt in range(3):
        outcomes = {}

        def run(index, act):
            with app.app_context(), database.connection_context():
                start.wait()
                try:
                    outcomes[index] = act()
                except operations.DraftError as error:
                    outcomes[index] = error.code

        titles = ({"en": f"Welcome {attempt}", "hu": "Fogadás"}, {"en": f"Goodbye {attempt}", "hu": "Búcsú"})
        acts = [lambda: operations.edit_draft(draft.id, retitle("welcome", titles[0])) and "saved",
                lambda: operations.edit_draft(draft.id, retitle("farewell", titles[1])) and "saved"]
        if attempt == 2:
            acts.append(lambda: operations.publish_draft(draft.id, editing.check_complete) and "published")
        start = threading.Barrier(len(acts))
        threads = [threading.Thread(target=run, args=(index, act)) for index, act in enumerate(acts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with app.app_context(), database.connection_context():
            stored = ChecklistVersion.get_by_id(draft.id)
        saved = [title for index, title in enumerate(titles) if outcomes[index] == "saved"]
        if attempt < 2:
            assert sorted(outcomes.values()) == ["saved", "saved"]
            assert [s["title"] for s in stored.content["sections"]] == list(titles)
        else:  # published: with every save made before it; a save after it is refused, not lost
            assert outcomes[2] == "published" and stored.is_published
            for title in saved:
                assert title in [s["title"] for s in stored.content["sections"]]
            assert all(outcomes[index] in ("saved", "gone") for index in (0, 1))


def test_the_settings_offer_a_row_for_each_dimension_the_items_carry(app, auditor):
    """Tags are free while a checklist declares no dimension: three in use and two empty rows made the
    settings page refuse every save ("dimension ... is not declared"), with no way to a third row."""
    _start_draft(auditor)
    for item_id, tag in (("greeted", "politeness"), ("offer", "knowledge"), ("thanked", "promptness")):
        url = BASE + f"/draft/items/{item_id}"
        item = _draft_content(app)
        found = next(i for s in item["sections"] for i in s["items"] if i["id"] == item_id)
        data = {**_item_data(item_id=item_id, type=found["type"], text_en=found["text"]["en"],
                             text_hu=found["text"]["hu"], dimension=tag), "seen": _hidden(auditor.get(url), "seen")}
        if found["type"] == "choice":
            for n, option in enumerate(found["options"]):
                data.update({f"options-{n}-option_id": option["id"], f"options-{n}-points": str(option["points"]),
                             f"options-{n}-text_en": option["text"]["en"], f"options-{n}-text_hu": option["text"]["hu"]})
        response = auditor.post(url, data={**data, "csrf_token": csrf_from(auditor.get(url))})
        assert response.status_code == 302, html.unescape(response.get_data(as_text=True))[:3000]
    url = BASE + "/draft/settings"
    page = html.unescape(auditor.get(url).get_data(as_text=True))
    tags = re.findall(r'name="dimensions-(\d+)-tag"[^>]*value="([^"]*)"', page)
    assert len(tags) == 5 and not any(tag for _n, tag in tags)  # rows for them, left empty: none is declared
    assert ("The items carry these tags, not declared here: politeness, knowledge, promptness. Declare every "
            "one of them, or none.") in page
    # Saving the title alone leaves them undeclared (the regression QA found every such save refused).
    form = {"title_en": "Shop visit!", "title_hu": "Boltlátogatás", "seen": _hidden(auditor.get(url), "seen"),
            "csrf_token": csrf_from(auditor.get(url))}
    assert auditor.post(url, data=form).status_code == 302
    assert _draft_content(app)["title"]["en"] == "Shop visit!" and "dimensions" not in _draft_content(app)
    form = {"title_en": "Shop visit", "title_hu": "Boltlátogatás", "seen": _hidden(auditor.get(url), "seen"),
            "csrf_token": csrf_from(auditor.get(url))}
    for n, tag in enumerate(("politeness", "knowledge", "promptness")):
        form.update({f"dimensions-{n}-tag": tag, f"dimensions-{n}-label_en": tag.title()})
    assert auditor.post(url, data=form).status_code == 302
    assert sorted(_draft_content(app)["dimensions"]) == ["knowledge", "politeness", "promptness"]


@pytest.mark.parametrize("page", ["/draft/items/greeted", "/draft/sections/welcome", "/draft/settings"])
def test_a_page_of_a_draft_published_or_discarded_since_says_so(app, auditor, page):
    """Saved from a tab opened before another discarded the draft: a bare 404 ("this page does not
    exist"), the typed text lost without a word why."""
    _start_draft(auditor)
    older = auditor.get(BASE + page)
    assert auditor.post(BASE + "/draft/discard",
                        data={"csrf_token": _token(auditor, BASE + "/draft"), "confirmed": "yes"}).status_code == 302
    response = auditor.post(BASE + page, data={"csrf_token": csrf_from(older), "seen": _hidden(older, "seen")},
                            follow_redirects=True)
    assert response.status_code == 200 and response.request.path == BASE + "/"
    assert "This draft was published or discarded meanwhile; nothing was changed." in response.get_data(as_text=True)


def test_a_photo_or_a_free_text_is_made_required_in_the_editor(app, auditor):
    _start_draft(auditor)
    url = BASE + "/draft/sections/farewell/items/new"
    assert _post_item(auditor, url, item_id="shelf", type="photo", text_en="The shelf", required="y").status_code == 302
    assert _post_item(auditor, url, item_id="smiled", type="yesno", required="y").status_code == 302
    items = {item["id"]: item for item in _draft_content(app)["sections"][1]["items"]}
    assert items["shelf"].get("required") is True and "required" not in items["smiled"]  # scored: always answered
    page = auditor.get(BASE + "/draft/items/shelf").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*id="required"|<input[^>]*id="required"[^>]*checked', page)


def test_a_checklist_is_begun_in_the_browser_and_published_once_it_has_its_parts(app, auditor):
    """Before, a new checklist could only be imported as a file: an agency's auditor had to write YAML."""
    assert 'href="/checklists/new"' in auditor.get("/checklists/").get_data(as_text=True)
    token = csrf_from(auditor.get("/checklists/new"))

    def begin(**fields):
        data = {"checklist_id": "bank-visit", "source": "hu", "title": "Bankfiók-látogatás", "csrf_token": token}
        return auditor.post("/checklists/new", data={**data, **fields})

    for fields, message in (({"checklist_id": "Bank Visit"}, "Use lowercase words joined by - or _"),
                            ({"checklist_id": "shop-visit"}, "A checklist with this id exists already."),
                            ({"title": " "}, "This field is required."),
                            ({"source": "xx"}, "Not a valid choice.")):
        refused = begin(**fields)
        assert refused.status_code == 200 and message in html.unescape(refused.get_data(as_text=True)), fields
    with app.app_context(), database.connection_context():
        assert Checklist.select().where(Checklist.slug != "shop-visit").count() == 0
    # Written in Hungarian, translated into English (Hungarian named again counts once).
    begun = begin(checklist_id="bank-visit-two", translations=["en", "hu"])
    assert begun.status_code == 302 and begun.headers["Location"] == "/checklists/bank-visit-two/draft"
    with app.app_context(), database.connection_context():
        assert Checklist.get(Checklist.slug == "bank-visit-two").draft().content == {
            "id": "bank-visit-two", "languages": ["hu", "en"], "title": {"hu": "Bankfiók-látogatás"}, "sections": []}
    # A language added before it has any section.
    added = auditor.post("/checklists/bank-visit-two/draft/languages",
                         data={"language": "ru", "csrf_token": csrf_from(auditor.get("/checklists/bank-visit-two/draft"))})
    assert added.status_code == 302
    with app.app_context(), database.connection_context():
        assert Checklist.get(Checklist.slug == "bank-visit-two").draft().content["languages"] == ["hu", "en", "ru"]
    # In Hungarian only: the draft page says what it still needs; with a section and a question it publishes.
    assert begin().status_code == 302
    needs = html.unescape(auditor.get("/checklists/bank-visit/draft").get_data(as_text=True))
    # In the editor's words, not the file checker's ("sections must be a non-empty list of sections").
    assert "Add a section, then its questions: a checklist needs at least one of each." in needs
    assert "non-empty list" not in needs
    url = "/checklists/bank-visit/draft/sections/new"
    assert auditor.post(url, data={"section_id": "welcome", "title_hu": "Fogadás", "weight": "",
                                   "csrf_token": csrf_from(auditor.get(url))}).status_code == 302
    needs = html.unescape(auditor.get("/checklists/bank-visit/draft").get_data(as_text=True))
    assert "Add a question to the section “Fogadás”: a section without one cannot be published." in needs
    assert "non-empty list" not in needs and "Add a section, then" not in needs
    url = "/checklists/bank-visit/draft/sections/welcome/items/new"
    added = auditor.post(url, data={**_item_data(item_id="greeted", text_hu="Köszöntötték?"),
                                    "csrf_token": csrf_from(auditor.get(url))})
    assert added.status_code == 302
    published = auditor.post("/checklists/bank-visit/draft/publish",
                             data={"csrf_token": csrf_from(auditor.get("/checklists/bank-visit/draft"))})
    assert "Version 1 is published." in html.unescape(auditor.get(published.headers["Location"]).get_data(as_text=True))
    with app.app_context(), database.connection_context():
        version = Checklist.get(Checklist.slug == "bank-visit").latest_published()
        assert version.number == 1 and version.content["sections"][0]["items"][0]["text"] == {"hu": "Köszöntötték?"}


def test_a_language_is_added_to_a_checklist_and_its_texts_are_then_to_translate(app, auditor):
    """A file with a new language and none of its texts was refused whole: a translator could not be
    given the spreadsheet with an empty column to fill."""
    _start_draft(auditor)
    draft = auditor.get(BASE + "/draft")
    assert 'action="/checklists/shop-visit/draft/languages"' in draft.get_data(as_text=True)
    token = csrf_from(draft)
    refused = auditor.post(BASE + "/draft/languages", data={"language": "hu", "csrf_token": token})  # has it
    assert refused.status_code == 302
    assert _draft_content(app)["languages"] == ["en", "hu"]
    added = auditor.post(BASE + "/draft/languages", data={"language": "bg", "csrf_token": token})
    assert added.status_code == 302 and added.headers["Location"] == BASE + "/draft"
    content = _draft_content(app)
    assert content["languages"] == ["en", "hu", "bg"]
    page = html.unescape(auditor.get(BASE + "/draft").get_data(as_text=True))
    assert "Български added: its texts are listed below to translate" in page
    assert "<code>title</code> · <span lang=\"en\">“Shop visit”</span> · Български" in page  # missing, to translate
    sheet = openpyxl.load_workbook(io.BytesIO(auditor.get(BASE + "/v2.xlsx").data)).active
    assert "bg" in [cell.value for cell in sheet[1]]
    # Not publishable until it is translated.
    published = auditor.post(BASE + "/draft/publish", data={"csrf_token": token})
    assert "cannot be published yet" in html.unescape(auditor.get(published.headers["Location"]).get_data(as_text=True))


def test_discarding_the_only_draft_of_a_new_checklist_takes_the_checklist_away(app, auditor):
    """A checklist begun in the browser and discarded before it was ever published left a checklist
    without versions: the list of checklists answered 500 for every auditor, and its id stayed taken."""
    def begin():
        return auditor.post("/checklists/new", data={"checklist_id": "cafe-visit", "source": "en", "title": "Café",
                                                     "csrf_token": csrf_from(auditor.get("/checklists/new"))})

    assert begin().status_code == 302
    discarded = auditor.post("/checklists/cafe-visit/draft/discard",
                             data={"csrf_token": csrf_from(auditor.get("/checklists/cafe-visit/draft")),
                                   "confirmed": "yes"})
    assert discarded.status_code == 302 and discarded.headers["Location"] == "/checklists/"
    listed = auditor.get("/checklists/")
    assert listed.status_code == 200
    page = html.unescape(listed.get_data(as_text=True))
    assert "The draft was discarded; the checklist, never published, is gone with it." in page
    assert "cafe-visit" not in page
    assert auditor.get("/checklists/cafe-visit/").status_code == 404
    with app.app_context(), database.connection_context():
        assert Checklist.get_or_none(Checklist.slug == "cafe-visit") is None
        # One left without versions by the release before (its discard kept the checklist) is skipped
        # by the list, and its id can be begun again.
        Checklist.create(slug="cafe-visit")
    assert auditor.get("/checklists/").status_code == 200
    assert auditor.get("/checklists/cafe-visit/").status_code == 404
    assert begin().status_code == 302
    with app.app_context(), database.connection_context():
        assert Checklist.get(Checklist.slug == "cafe-visit").draft().content["title"] == {"en": "Café"}


def test_a_new_item_offers_four_option_and_step_rows(app, auditor):
    """Most choice items have three or four options, a timer three steps: with two rows, the third
    needed a save and an edit."""
    def rows(url, kind):
        return len(re.findall(rf'name="{kind}-\d+-points"', auditor.get(url).get_data(as_text=True)))

    _start_draft(auditor)
    section = re.search(r'/draft/sections/([\w-]+)/items/new', auditor.get(BASE + "/draft").get_data(as_text=True))
    new_item = f"{BASE}/draft/sections/{section.group(1)}/items/new"
    assert rows(new_item, "options") == 4 and rows(new_item, "thresholds") == 4


def test_a_change_to_a_question_deleted_meanwhile_says_so_and_saves_nothing(app, auditor):
    """The question was deleted in another tab while its form was open here: the change answered
    "This page does not exist", and the auditor did not know why it was gone."""
    _start_draft(auditor)
    url = BASE + "/draft/items/greeted"
    token = _token(auditor, url)  # the form, open in this tab
    assert auditor.post(url + "/delete",
                        data={"csrf_token": _token(auditor, BASE + "/draft"), "confirmed": "yes"}).status_code == 302
    before = _draft_content(app)

    response = auditor.post(url, data={**_item_data(), "csrf_token": token})

    assert response.status_code == 302 and response.headers["Location"] == BASE + "/draft"
    page = html.unescape(auditor.get(response.headers["Location"]).get_data(as_text=True))
    assert "This question was deleted meanwhile (in another tab, or by another auditor); nothing was saved." in page
    assert _draft_content(app) == before
    assert auditor.get(url).status_code == 404  # a link to it is still a missing page


def test_a_multi_line_help_saved_unchanged_in_the_editor_changes_nothing(app, auditor, tmp_path):
    """Browsers send a text box's line breaks as CRLF and the files have LF: saving a question without
    touching it made a new version ("changed item greeted: help") that no reader could see, and loading
    the file again made a third."""
    lines = SHOP.replace('text: {en: "Greeted?", hu: "Köszöntötték?"}',
                         'text: {en: "Greeted?", hu: "Köszöntötték?"}\n'
                         '        help:\n          en: |-\n            First line.\n            Second line.\n'
                         '          hu: |-\n            Első sor.\n            Második sor.')
    path = tmp_path / "shop-visit.yaml"
    path.write_text(lines, encoding="utf-8")
    with app.app_context(), database.connection_context():
        assert publish_checklist_file(str(path))[0].number == 2
    _start_draft(auditor)
    url = BASE + "/draft/items/greeted"
    response = _post_item(auditor, url, item_id="greeted", text_en="Greeted?", text_hu="Köszöntötték?",
                          help_en="First line.\r\nSecond line.  ", help_hu=" Első sor.\r\nMásodik sor.")
    assert response.status_code == 302
    assert _draft_content(app)["sections"][0]["items"][0]["help"] == {
        "en": "First line.\nSecond line.", "hu": "Első sor.\nMásodik sor."}
    page = auditor.post(BASE + "/draft/publish", data={"csrf_token": _token(auditor, BASE + "/draft")},
                        follow_redirects=True).get_data(as_text=True)
    assert "Nothing changed since version 2, so there is nothing to publish." in page


def test_spaces_around_a_text_in_a_file_are_not_a_change(app, shop, tmp_path):
    path = tmp_path / "spaced.yaml"
    path.write_text(SHOP.replace('en: "Greeted?"', 'en: "  Greeted? "'), encoding="utf-8")
    with app.app_context(), database.connection_context():
        version, created = publish_checklist_file(str(path))
        assert (version.number, created) == (1, False)
        assert version.content["sections"][0]["items"][0]["text"]["en"] == "Greeted?"


def test_a_drafts_export_imports_again_with_what_it_still_lacks(app, auditor):
    """The draft page allows a language not translated yet and a checklist with no section yet, but
    its exported file was refused on import ("title is missing the 'bg' translation", "sections must
    be a non-empty list"): an auditor could not take a draft out to a text editor and back."""
    _start_draft(auditor)
    token = csrf_from(auditor.get(BASE + "/draft"))
    assert auditor.post(BASE + "/draft/languages", data={"language": "bg", "csrf_token": token}).status_code == 302
    before = _draft_content(app)
    exported = auditor.get(BASE + "/v2.yaml").data
    imported = auditor.post("/checklists/import", data={"file": (io.BytesIO(exported), "shop-visit-v2.yaml"),
                                                         "csrf_token": _token(auditor, "/checklists/")},
                            content_type="multipart/form-data", follow_redirects=True)
    assert "The file replaced the draft." in imported.get_data(as_text=True)
    assert _draft_content(app) == before
    assert "<code>title</code> · <span lang=\"en\">“Shop visit”</span> · Български" in html.unescape(imported.get_data(as_text=True))  # still to translate

    begun = auditor.post("/checklists/new", data={"checklist_id": "bank-visit", "source": "en", "title": "Bank visit",
                                                  "csrf_token": csrf_from(auditor.get("/checklists/new"))})
    assert begun.status_code == 302
    exported = auditor.get("/checklists/bank-visit/v1.yaml").data
    imported = auditor.post("/checklists/import", data={"file": (io.BytesIO(exported), "bank-visit-v1.yaml"),
                                                         "csrf_token": _token(auditor, "/checklists/")},
                            content_type="multipart/form-data", follow_redirects=True)
    assert "The file replaced the draft." in imported.get_data(as_text=True)
    # Published, a file must still be whole: the command line refuses what a draft may lack.
    with pytest.raises(ChecklistError, match="sections must be a non-empty list"):
        load_checklist_text(exported.decode())


def test_a_changed_source_wording_lists_its_unchanged_translations_to_check(app, auditor):
    """The English of a question changed: its Hungarian, still the old question's, counted as
    translated and nothing told the translator."""
    _start_draft(auditor)
    assert "Translations to check" not in auditor.get(BASE + "/draft").get_data(as_text=True)
    _post_item(auditor, BASE + "/draft/items/greeted", item_id="greeted", text_en="Were you greeted within a minute?",
               text_hu="Köszöntötték?")
    page = html.unescape(auditor.get(BASE + "/draft").get_data(as_text=True))
    assert "Translations to check" in page
    assert ("<code>item:greeted:text</code> · <span lang=\"en\">“Were you greeted within a minute?”</span> · Magyar"
            in page)
    # Translated again: nothing left to check.
    _post_item(auditor, BASE + "/draft/items/greeted", item_id="greeted", text_en="Were you greeted within a minute?",
               text_hu="Egy percen belül köszöntötték?")
    assert "Translations to check" not in auditor.get(BASE + "/draft").get_data(as_text=True)


def test_a_new_checklists_settings_offer_rows_for_its_usual_bands(app, auditor):
    """A checklist begun in the browser has no bands, and its settings offered one empty row: the
    usual three or four bands took as many saves."""
    assert auditor.post("/checklists/new", data={"checklist_id": "office-visit", "source": "hu", "title": "Iroda",
                                                 "csrf_token": csrf_from(auditor.get("/checklists/new"))}).status_code == 302
    url = "/checklists/office-visit/draft/settings"
    page = auditor.get(url).get_data(as_text=True)
    assert len(re.findall(r'name="bands-\d+-min"', page)) == 4
    assert len(re.findall(r'name="bands-\d+-label_hu"', page)) == 4
    bands = {"bands-0-min": "85", "bands-0-label_hu": "Kiváló", "bands-1-min": "60", "bands-1-label_hu": "Megfelelő",
             "bands-2-min": "0", "bands-2-label_hu": "Fejlesztendő"}
    response = auditor.post(url, data={"title_hu": "Iroda", **bands, "seen": _hidden(auditor.get(url), "seen"),
                                       "csrf_token": csrf_from(auditor.get(url))})
    assert response.status_code == 302
    with app.app_context(), database.connection_context():
        content = Checklist.get(Checklist.slug == "office-visit").draft().content
    assert [(band["min"], band["label"]["hu"]) for band in content["bands"]] == [
        (85, "Kiváló"), (60, "Megfelelő"), (0, "Fejlesztendő")]
    # Three bands now: a row for a fourth.
    assert len(re.findall(r'name="bands-\d+-min"', auditor.get(url).get_data(as_text=True))) == 4


def test_the_spreadsheets_problems_read_as_sentences_one_after_another(app, auditor):
    """Each problem ends in its full stop: joined with "; ", the message read "type it again.; D5: ..."."""
    _start_draft(auditor)
    data = _xlsx_with(_draft_content(app), {"cells": {("item:greeted:text", "hu"): 7, ("title", "hu"): 1.5}})
    page = html.unescape(auditor.post(BASE + "/draft/texts", data={
        "file": (io.BytesIO(data), "texts.xlsx"), "csrf_token": _token(auditor, BASE + "/draft")},
        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True))
    assert "The spreadsheet could not be used:" in page
    assert re.search(r"type it again\. [A-Z]+\d+: The cell holds", page), page[:3000]
    assert ".;" not in page
