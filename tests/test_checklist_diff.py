"""Tests of the version diff: each kind of edit gives the expected change, moves are not remove + add."""

import copy

import pytest

from audit.checklist import load_checklist_text
from audit.checklist.diff import Change, diff_checklists

BASE = """\
id: shop
languages: [en, hu]
title: {en: Shop visit, hu: Bolti látogatás}
critical_cap: 50
bands:
  - {min: 80, label: {en: Good, hu: Jó}}
  - {min: 0, label: {en: Weak, hu: Gyenge}}
dimensions:
  care: {en: Care, hu: Gondoskodás}
  speed: {en: Speed, hu: Gyorsaság}
sections:
  - id: welcome
    title: {en: Welcome, hu: Üdvözlés}
    weight: 1
    items:
      - {id: greeted, type: yesno, text: {en: "Greeted?", hu: "Köszöntötték?"}, help: {en: At once, hu: Azonnal}}
      - {id: smiled, type: yesno, text: {en: "Smiled?", hu: "Mosolygott?"}, dimension: care}
      - id: offer
        type: choice
        text: {en: Offer, hu: Ajánlat}
        options:
          - {id: proactive, points: 2, text: {en: Proactive, hu: Magától}}
          - {id: asked, points: 1, text: {en: When asked, hu: Kérésre}}
          - {id: none, points: 0, text: {en: None, hu: Nincs}}
      - id: offer_fit
        type: scale
        min: 1
        max: 5
        text: {en: Fit, hu: Illeszkedés}
        show_if: {item: offer, in: [proactive, asked]}
  - id: till
    title: {en: Till, hu: Pénztár}
    weight: 1
    items:
      - id: till_wait
        type: timer
        text: {en: Wait, hu: Várakozás}
        thresholds: [{max: 60, points: 1}, {max: 120, points: 0.5}]
      - id: bags
        type: number
        text: {en: Bags, hu: Szatyrok}
        unit: {en: {one: bag, other: bags}, hu: szatyor}
        thresholds: [{max: 1, points: 1}]
      - {id: thanked, type: yesno, text: {en: "Thanked?", hu: "Megköszönték?"}, critical: true}
"""


@pytest.fixture(scope="module")
def base():
    return load_checklist_text(BASE)


def section(checklist, section_id):
    return next(entry for entry in checklist["sections"] if entry["id"] == section_id)


def item(checklist, item_id):
    items = [entry for part in checklist["sections"] for entry in part["items"]]
    return next(entry for entry in items if entry["id"] == item_id)


def edit_option(checklist, option_id, **fields):
    option = next(entry for entry in item(checklist, "offer")["options"] if entry["id"] == option_id)
    option.update(fields)


def move_item(checklist, item_id, to_section, index):
    moving = item(checklist, item_id)
    for part in checklist["sections"]:
        part["items"] = [entry for entry in part["items"] if entry["id"] != item_id]
    section(checklist, to_section)["items"].insert(index, moving)


def add_romanian(checklist):
    checklist["languages"].append("ro")
    for texts in [checklist["title"], item(checklist, "greeted")["text"], item(checklist, "greeted")["help"]]:
        texts["ro"] = "x"


def new_item(item_id):
    return {"id": item_id, "type": "yesno", "text": {"en": "New", "hu": "Új"}, "weight": 1, "critical": False,
            "na": False, "require_comment_on_fail": False, "require_photo_on_fail": False}


CASES = [
    # checklist level
    ("title", lambda c: c["title"].update(hu="Bolt"), [("changed", "checklist", "title (hu)")]),
    ("critical_cap", lambda c: c.update(critical_cap=60), [("changed", "checklist", "critical_cap 50 → 60")]),
    ("critical_cap_removed", lambda c: c.pop("critical_cap"), [("changed", "checklist", "critical_cap 50 → none")]),
    ("language_added_once", add_romanian, [("changed", "checklist", "languages en, hu → en, hu, ro")]),
    ("band_label", lambda c: c["bands"][0]["label"].update(en="Very good"), [("changed", "band 80", "label (en)")]),
    ("band_added", lambda c: c["bands"].insert(0, {"min": 95, "label": {"en": "Top", "hu": "Csúcs"}}),
     [("added", "band 95", "Top")]),
    ("band_removed", lambda c: c["bands"].pop(0), [("removed", "band 80", "Good")]),
    ("dimension_label", lambda c: c["dimensions"]["care"].update(hu="Törődés"),
     [("changed", "dimension care", "label (hu)")]),
    ("dimension_added", lambda c: c["dimensions"].update(honesty={"en": "Honesty", "hu": "Őszinteség"}),
     [("added", "dimension honesty", "Honesty")]),
    ("dimension_removed", lambda c: c["dimensions"].pop("speed"), [("removed", "dimension speed", "Speed")]),
    ("dimensions_reordered", lambda c: c.update(dimensions={"speed": c["dimensions"]["speed"],
                                                            "care": c["dimensions"]["care"]}),
     [("moved", "dimension care", "now after dimension speed")]),
    # sections
    ("section_title_and_weight", lambda c: [c["sections"][1]["title"].update(en="Checkout", hu="Kassza"),
                                            c["sections"][1].update(weight=2)],
     [("changed", "section till", "title (en, hu); weight 1 → 2")]),
    ("section_moved", lambda c: c["sections"].reverse(), [("moved", "section welcome", "now after section till")]),
    ("section_added", lambda c: c["sections"].append(
        {"id": "exit", "title": {"en": "Exit", "hu": "Kijárat"}, "weight": 1, "items": [new_item("door")]}),
     [("added", "section exit", "Exit"), ("added", "item door", "yesno in section exit")]),
    ("section_removed", lambda c: c["sections"].pop(1),
     [("removed", "section till", "Till"), ("removed", "item till_wait", "timer in section till"),
      ("removed", "item bags", "number in section till"), ("removed", "item thanked", "yesno in section till")]),
    # items
    ("item_weight_and_text", lambda c: [item(c, "smiled").update(weight=2), item(c, "smiled")["text"].update(hu="?")],
     [("changed", "item smiled", "weight 1 → 2; text (hu)")]),
    ("item_flags", lambda c: item(c, "thanked").update(critical=False, na=True),
     [("changed", "item thanked", "critical true → false; na false → true")]),
    ("item_pass_mark_set", lambda c: item(c, "offer_fit").update(pass_mark=75),
     [("changed", "item offer_fit", "pass_mark 100 → 75")]),
    ("item_dimension", lambda c: item(c, "smiled").update(dimension="speed"),
     [("changed", "item smiled", "dimension care → speed")]),
    ("item_help_removed", lambda c: item(c, "greeted").pop("help"), [("changed", "item greeted", "help removed")]),
    ("item_help_added", lambda c: item(c, "smiled").update(help={"en": "Look", "hu": "Nézze"}),
     [("changed", "item smiled", "help added")]),
    ("item_scale_bounds", lambda c: item(c, "offer_fit").update(max=10),
     [("changed", "item offer_fit", "max 5 → 10")]),
    ("item_unit", lambda c: item(c, "bags")["unit"].update(en="carrier bags"),
     [("changed", "item bags", "unit (en)")]),
    ("item_unit_form", lambda c: item(c, "bags")["unit"]["en"].update(one="carrier bag"),
     [("changed", "item bags", "unit (en)")]),
    ("item_unit_forms_given", lambda c: item(c, "bags")["unit"].update(hu={"one": "szatyor", "other": "szatyrok"}),
     [("changed", "item bags", "unit (hu)")]),
    ("option_points", lambda c: edit_option(c, "asked", points=1.5),
     [("changed", "item offer", "option asked points 1 → 1.5")]),
    ("option_text", lambda c: edit_option(c, "asked", text={"en": "On request", "hu": "Kérésre"}),
     [("changed", "item offer", "option asked text (en)")]),
    ("option_added_and_removed", lambda c: item(c, "offer")["options"].__setitem__(
        2, {"id": "nothing", "points": 0, "text": {"en": "Nothing", "hu": "Semmi"}}),
     [("changed", "item offer", "option nothing added; option none removed")]),
    ("options_reordered", lambda c: item(c, "offer")["options"].reverse(),
     [("changed", "item offer", "options reordered")]),
    ("thresholds", lambda c: item(c, "till_wait")["thresholds"][1].update(max=90),
     [("changed", "item till_wait", "thresholds up to 60: 1, up to 120: 0.5 → up to 60: 1, up to 90: 0.5")]),
    ("show_if_changed", lambda c: item(c, "offer_fit")["show_if"].update({"in": ["proactive"]}),
     [("changed", "item offer_fit", "show_if offer in proactive, asked → offer in proactive")]),
    ("show_if_removed", lambda c: item(c, "offer_fit").pop("show_if"),
     [("changed", "item offer_fit", "show_if offer in proactive, asked → none")]),
    ("item_added", lambda c: section(c, "welcome")["items"].insert(1, new_item("eye_contact")),
     [("added", "item eye_contact", "yesno in section welcome")]),
    ("item_removed", lambda c: section(c, "welcome")["items"].pop(1),
     [("removed", "item smiled", "yesno in section welcome")]),
    ("item_moved_within_section", lambda c: move_item(c, "greeted", "welcome", 1),
     [("moved", "item greeted", "within section welcome, now after item smiled")]),
    ("item_moved_to_first", lambda c: move_item(c, "thanked", "till", 0),
     [("moved", "item thanked", "within section till, now first")]),
    ("item_moved_between_sections", lambda c: move_item(c, "smiled", "till", 3),
     [("moved", "item smiled", "section welcome → till, now after item thanked")]),
    ("moved_and_changed", lambda c: [move_item(c, "smiled", "till", 0), item(c, "smiled").update(weight=3)],
     [("moved", "item smiled", "section welcome → till, now first"), ("changed", "item smiled", "weight 1 → 3")]),
]


@pytest.mark.parametrize("edit, expected", [pytest.param(edit, expected, id=name) for name, edit, expected in CASES])
def test_each_edit_gives_the_expected_change(base, edit, expected):
    new = copy.deepcopy(base)
    edit(new)
    assert diff_checklists(base, new) == [Change(*change) for change in expected]


def test_identical_versions_have_no_changes(base):
    assert diff_checklists(base, copy.deepcopy(base)) == []


def test_whole_numbers_written_as_floats_are_not_a_change(base):
    new = copy.deepcopy(base)
    item(new, "smiled")["weight"] = 1.0
    section(new, "till")["weight"] = 1.0
    assert diff_checklists(base, new) == []


def test_moved_item_is_moved_not_removed_and_added(base):
    new = copy.deepcopy(base)
    move_item(new, "greeted", "till", 1)
    changes = diff_checklists(base, new)
    assert [change.kind for change in changes] == ["moved"]
    assert changes[0].target == "item greeted"


def test_inserting_an_item_does_not_move_the_ones_after_it(base):
    new = copy.deepcopy(base)
    section(new, "welcome")["items"].insert(0, new_item("door"))
    assert diff_checklists(base, new) == [Change("added", "item door", "yesno in section welcome")]


def test_changes_follow_the_new_order_with_removals_last(base):
    new = copy.deepcopy(base)
    new["title"]["en"] = "Store visit"
    section(new, "welcome")["items"].pop(0)  # greeted
    item(new, "thanked")["weight"] = 2
    item(new, "smiled")["weight"] = 2
    new["sections"].reverse()
    assert [(change.kind, change.target) for change in diff_checklists(base, new)] == [
        ("changed", "checklist"),
        ("changed", "item thanked"),
        ("moved", "section welcome"),
        ("changed", "item smiled"),
        ("removed", "item greeted"),
    ]


def test_change_reads_as_a_line():
    assert str(Change("changed", "item greeted", "weight 1 → 2")) == "item greeted changed: weight 1 → 2"
    assert str(Change("added", "item door")) == "item door added"
