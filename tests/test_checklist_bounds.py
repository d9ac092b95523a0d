"""Bounds on a checklist's numbers: weights, option points, threshold values and a scale's length, in
the web editor and in the file format, so that no number saved can break a page."""
import io
import textwrap

import pytest

from audit.checklist import ChecklistError, load_checklist_text
from audit.checklist.format import MAX_SCALE_STEPS, MAX_WEIGHT
from audit.db import database
from audit.models import Checklist, ChecklistVersion
from audit.operations import save_draft
from conftest import csrf_from
from tests_support import SMALL, small_draft_started

BASE = "/checklists/small-visit"
NOTHING_SAVED = "Please correct the fields marked below. Nothing was saved."
MARK = "#<"  # ends the line where a case expects its problem


@pytest.fixture
def auditor(app, org, tmp_path, login_as):
    """An auditor signed in, with a draft of SMALL (yesno 'greeted', timer 'wait') started."""
    client = login_as("auditor")
    started = small_draft_started(app, client, tmp_path)
    assert started.status_code == 302
    return client


def _token(client, url):
    return csrf_from(client.get(url))


def _draft_content(app):
    with app.app_context(), database.connection_context():
        return Checklist.get(Checklist.slug == "small-visit").draft().content


def _post_item(client, url, **changes):
    data = {"item_id": "greeted", "type": "yesno", "text_en": "Greeted?", "text_ru": "Поприветствовали?",
            "help_en": "", "help_ru": "", "weight": "2", "critical": "y", "dimension": "politeness",
            "scale_min": "", "scale_max": "", "show_if_item": "", "show_if_values": "", "unit_en": "", "unit_ru": ""}
    data.update(changes)
    return client.post(url, data={**data, "csrf_token": _token(client, url)})


def _post_section(client, url, **changes):
    data = {"section_id": "welcome", "title_en": "Welcome", "title_ru": "Приветствие", "weight": ""}
    data.update(changes)
    return client.post(url, data={**data, "csrf_token": _token(client, url)})


def _refused(response, message):
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert NOTHING_SAVED in page


# -- the editor -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "weight,message",
    [
        ("1e30", f"The weight can be at most {MAX_WEIGHT}."),
        ("100000000000000000000000000000", f"The weight can be at most {MAX_WEIGHT}."),
        ("1000.01", f"The weight can be at most {MAX_WEIGHT}."),
        ("inf", "Not a valid decimal value."),
        ("nan", "Not a valid decimal value."),
        ("snan", "Not a valid decimal value."),
    ],
)
def test_a_huge_item_weight_is_refused_and_the_item_page_still_opens(app, auditor, weight, message):
    url = BASE + "/draft/items/greeted"
    before = _draft_content(app)
    response = _post_item(auditor, url, weight=weight)
    _refused(response, message)
    if message == "Not a valid decimal value.":  # its one message: no range checks of a number nobody typed
        page = response.get_data(as_text=True)
        assert "The weight must be more than 0." not in page and "at most" not in page
    assert _draft_content(app) == before
    assert auditor.get(url).status_code == 200


@pytest.mark.parametrize("weight", ["1e30", "1001", "inf"])
def test_a_huge_section_weight_is_refused_and_the_section_page_still_opens(app, auditor, weight):
    url = BASE + "/draft/sections/welcome"
    before = _draft_content(app)
    response = _post_section(auditor, url, weight=weight)
    message = "Not a valid decimal value." if weight == "inf" else f"The weight can be at most {MAX_WEIGHT}."
    _refused(response, message)
    assert _draft_content(app) == before
    assert auditor.get(url).status_code == 200


def test_the_largest_weight_is_saved_and_shown(app, auditor):
    url = BASE + "/draft/items/greeted"
    assert _post_item(auditor, url, weight=str(MAX_WEIGHT)).status_code == 302
    assert _draft_content(app)["sections"][0]["items"][0]["weight"] == MAX_WEIGHT
    page = auditor.get(url)
    assert page.status_code == 200 and f'value="{MAX_WEIGHT}"' in page.get_data(as_text=True)


def test_huge_option_points_are_refused(app, auditor):
    before = _draft_content(app)
    response = _post_item(auditor, BASE + "/draft/sections/welcome/items/new", item_id="offer", type="choice",
                          text_en="Offer", **{"options-0-option_id": "proactive", "options-0-points": "1e30",
                                              "options-0-text_en": "Unasked", "options-1-option_id": "none",
                                              "options-1-points": "0", "options-1-text_en": "Nothing"})
    _refused(response, f"Points can be at most {MAX_WEIGHT}.")
    assert _draft_content(app) == before


@pytest.mark.parametrize("item_type,largest", [("timer", 86400), ("number", 10**9)])
def test_a_threshold_past_any_answer_is_refused(app, auditor, item_type, largest):
    url = BASE + "/draft/items/wait"
    before = _draft_content(app)
    response = _post_item(auditor, url, item_id="wait", type=item_type, text_en="Wait", text_ru="Ожидание",
                          weight="", critical="", dimension="",
                          **{"thresholds-0-max": "60", "thresholds-0-points": "1",
                             "thresholds-1-max": "1e30", "thresholds-1-points": "0.5"})
    _refused(response, f"Give a number no larger than {largest:,}.")  # in the reader's digits: 86,400
    assert _draft_content(app) == before
    assert auditor.get(url).status_code == 200


def test_a_draft_saved_with_a_huge_weight_before_the_bound_still_opens_and_names_it(app, auditor):
    content = _draft_content(app)
    content["sections"][0]["items"][0]["weight"] = 10**30
    with app.app_context(), database.connection_context():
        save_draft(Checklist.get(Checklist.slug == "small-visit").draft(), content)
    page = auditor.get(BASE + "/draft/items/greeted")
    assert page.status_code == 200
    assert f'value="{10**30}"' in page.get_data(as_text=True)  # there to be corrected
    draft = auditor.get(BASE + "/draft").get_data(as_text=True)
    assert f"item &#39;greeted&#39;: weight must be at most {MAX_WEIGHT} (got {10**30})" in draft


@pytest.mark.parametrize(
    "low,high,is_saved",
    [
        ("0", "10", True),  # 11 values
        ("-5", "5", True),
        ("1", "11", True),
        ("0", "11", False),  # 12 values
        ("1", "100000", False),
        ("999", "1001", False),  # three values, past any scale anyone means
        ("-1000", "-990", True),
    ],
)
def test_a_scale_has_at_most_eleven_values_in_the_editor(app, auditor, low, high, is_saved):
    before = _draft_content(app)
    response = _post_item(auditor, BASE + "/draft/sections/welcome/items/new", item_id="knowledge", type="scale",
                          text_en="Knowledge", scale_min=low, scale_max=high)
    if is_saved:
        assert response.status_code == 302
        item = _draft_content(app)["sections"][0]["items"][-1]
        assert (item["id"], item["min"], item["max"]) == ("knowledge", int(low), int(high))
    elif int(high) - int(low) + 1 > MAX_SCALE_STEPS:
        count = int(high) - int(low) + 1
        _refused(response, f"A scale can have at most {MAX_SCALE_STEPS} values, e.g. 0 to 10 or 1 to 5; "
                           f"this one has {count}.")
        assert _draft_content(app) == before
    else:
        _refused(response, "Give a value from -1,000 to 1,000.")
        assert _draft_content(app) == before


def test_a_timer_whose_thresholds_all_give_no_points_is_refused_in_the_editor(app, auditor):
    """No answer could pass it: it failed every visit, and marked critical it flagged every one."""
    url = BASE + "/draft/items/wait"
    before = _draft_content(app)
    response = _post_item(auditor, url, item_id="wait", type="timer", text_en="Wait", text_ru="Ожидание",
                          weight="", critical="", dimension="",
                          **{"thresholds-0-max": "60", "thresholds-0-points": "0",
                             "thresholds-1-max": "120", "thresholds-1-points": "0"})
    _refused(response, "At least one threshold must earn points.")
    assert _draft_content(app) == before


# -- the file format and the import ---------------------------------------------------------------

HEAD = """\
id: test
languages: [en]
title: {en: Test}
sections:
  - id: main
    title: {en: Main}
"""


def checklist(items, section=""):
    """A checklist of one section (with `section` keys, like a weight) holding `items`."""
    return HEAD + textwrap.indent(textwrap.dedent(section), " " * 4) + "    items:\n" + textwrap.indent(
        textwrap.dedent(items), " " * 6)


def marked_line(text):
    return next(number for number, line in enumerate(text.splitlines(), 1) if MARK in line)


SCALE = "- id: x\n  type: scale\n  text: {en: X}\n  min: %s\n  max: %s  #<"
HUGE = 10**29


@pytest.mark.parametrize(
    "text,message",
    [
        pytest.param(checklist(f"- {{id: x, type: yesno, text: {{en: X}}, weight: {HUGE}}}  #<"),
                     f"item 'x': weight must be at most {MAX_WEIGHT} (got {HUGE})", id="item_weight"),
        pytest.param(checklist("- {id: x, type: yesno, text: {en: X}, weight: 1000.5}  #<"),
                     f"item 'x': weight must be at most {MAX_WEIGHT} (got 1000.5)", id="item_weight_just_past"),
        pytest.param(checklist("- {id: x, type: yesno, text: {en: X}}", section=f"weight: {HUGE}  #<\n"),
                     f"section 'main': weight must be at most {MAX_WEIGHT} (got {HUGE})", id="section_weight"),
        pytest.param(checklist(f"- id: x\n  type: choice\n  text: {{en: X}}\n  options:\n"
                               f"    - {{id: a, points: {HUGE}, text: {{en: A}}}}  #<\n    - {{id: b, points: 0, text: {{en: B}}}}"),
                     f"item 'x': option 'a': points must be at most {MAX_WEIGHT} (got {HUGE})", id="option_points"),
        pytest.param(checklist("- {id: x, type: timer, text: {en: X}, thresholds: [{max: 86401, points: 1}]}  #<"),
                     "item 'x': threshold 1: max must be at most 86400 (got 86401)", id="timer_threshold"),
        pytest.param(checklist(f"- {{id: x, type: number, text: {{en: X}}, thresholds: [{{max: {HUGE}, points: 1}}]}}  #<"),
                     f"item 'x': threshold 1: max must be at most 1000000000 (got {HUGE})", id="number_threshold"),
        pytest.param(checklist(SCALE % (1, 100000)),
                     f"item 'x': a scale can have at most {MAX_SCALE_STEPS} values, like 0 to 10 or 1 to 5 "
                     "(got min 1, max 100000: 100000 values)", id="scale_1_to_100000"),
        pytest.param(checklist(SCALE % (1000, 1001)),
                     "item 'x': min and max must lie between -1000 and 1000 (got min 1000, max 1001)",
                     id="scale_past_a_thousand"),
        pytest.param(checklist("- {id: x, type: timer, text: {en: X}, thresholds: [{max: 60, points: 0}, "
                               "{max: 90, points: 0}]}  #<"),
                     "item 'x': thresholds all give 0 points; at least one threshold must give points",
                     id="thresholds_without_points"),
        pytest.param(checklist(SCALE % (0, 11)),
                     f"item 'x': a scale can have at most {MAX_SCALE_STEPS} values, like 0 to 10 or 1 to 5 "
                     "(got min 0, max 11: 12 values)", id="scale_of_12"),
    ],
)
def test_a_number_past_its_bound_in_a_file_is_named_with_its_line(text, message):
    with pytest.raises(ChecklistError) as caught:
        load_checklist_text(text, "check.yaml")
    assert [str(problem) for problem in caught.value.problems] == [f"check.yaml:{marked_line(text)}: {message}"]


@pytest.mark.parametrize("low,high", [(0, 10), (1, 11), (-5, 5), (1, 5)])
def test_a_scale_of_up_to_eleven_values_loads(low, high):
    loaded = load_checklist_text(checklist(SCALE % (low, high)))
    assert loaded["sections"][0]["items"][0]["max"] - loaded["sections"][0]["items"][0]["min"] + 1 <= MAX_SCALE_STEPS


def test_the_largest_weights_and_points_load():
    loaded = load_checklist_text(checklist(
        f"- {{id: x, type: yesno, text: {{en: X}}, weight: {MAX_WEIGHT}}}\n"
        f"- id: y\n  type: choice\n  text: {{en: Y}}\n  options:\n"
        f"    - {{id: a, points: {MAX_WEIGHT}, text: {{en: A}}}}\n    - {{id: b, points: 0, text: {{en: B}}}}\n"
        "- {id: z, type: timer, text: {en: Z}, thresholds: [{max: 86400, points: 1}]}",
        section=f"weight: {MAX_WEIGHT}\n"))
    section = loaded["sections"][0]
    assert (section["weight"], section["items"][0]["weight"]) == (MAX_WEIGHT, MAX_WEIGHT)


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("        type: yesno\n        critical: true\n        weight: 2\n",
         f"        type: yesno\n        critical: true\n        weight: {HUGE}  #<\n",
         f"item &#39;greeted&#39;: weight must be at most {MAX_WEIGHT} (got {HUGE})"),
        ("      - id: wait\n",
         "      - id: knowledge\n        type: scale\n        min: 1\n        max: 100000  #<\n        text: {en: K, ru: K}\n"
         "      - id: wait\n",
         f"item &#39;knowledge&#39;: a scale can have at most {MAX_SCALE_STEPS} values, like 0 to 10 or 1 to 5 "
         "(got min 1, max 100000: 100000 values)"),
    ],
)
def test_an_import_past_a_bound_is_refused_naming_the_line_and_stores_nothing(app, auditor, old, new, message):
    assert old in SMALL
    text = SMALL.replace(old, new)
    response = auditor.post("/checklists/import", data={"file": (io.BytesIO(text.encode()), "big.yaml"),
                                                         "csrf_token": _token(auditor, "/checklists/")},
                            content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "big.yaml is not a valid checklist, so nothing was saved:" in page
    assert f"Line {marked_line(text)}: {message}" in page
    with app.app_context(), database.connection_context():
        assert ChecklistVersion.select().count() == 2  # version 1 and the draft, as they were
