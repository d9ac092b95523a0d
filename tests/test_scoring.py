"""Tests of audit.scoring: worked examples checked by hand, one test per rule, and properties."""

import copy
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from audit.checklist import load_checklist_file
from audit.scoring import (
    AnswerProblem,
    ItemScore,
    ScoreResult,
    check_answers,
    display_percent,
    find_answer_problems,
    score,
    score_items,
    visible_item_ids,
)

DATA = Path(__file__).parent / "data" / "checklists"


# -- small checklist builders (score takes raw dicts; defaults are filled in by the scorer) ----------


def yesno(item_id, **extra):
    return {"id": item_id, "type": "yesno", "text": {"en": item_id}, **extra}


def scale(item_id, low=1, high=5, **extra):
    return {"id": item_id, "type": "scale", "min": low, "max": high, "text": {"en": item_id}, **extra}


def choice(item_id, points=(("proactive", 2), ("asked", 1), ("none", 0)), **extra):
    options = [{"id": option_id, "points": value, "text": {"en": option_id}} for option_id, value in points]
    return {"id": item_id, "type": "choice", "options": options, "text": {"en": item_id}, **extra}


def timer(item_id, thresholds=((60, 1), (180, 0.5)), **extra):
    steps = [{"max": limit, "points": value} for limit, value in thresholds]
    return {"id": item_id, "type": "timer", "thresholds": steps, "text": {"en": item_id}, **extra}


def number(item_id, thresholds=((0, 1), (2, 0.5)), **extra):
    steps = [{"max": limit, "points": value} for limit, value in thresholds]
    return {"id": item_id, "type": "number", "thresholds": steps, "text": {"en": item_id}, **extra}


def text_item(item_id, **extra):
    return {"id": item_id, "type": "text", "text": {"en": item_id}, **extra}


def photo(item_id, **extra):
    return {"id": item_id, "type": "photo", "text": {"en": item_id}, **extra}


def section(section_id, *items, **extra):
    return {"id": section_id, "title": {"en": section_id}, "items": list(items), **extra}


def checklist(*sections, **extra):
    return {"id": "test", "languages": ["en", "hu"], "title": {"en": "Test", "hu": "Teszt"},
            "sections": list(sections), **extra}


BANDS = [
    {"min": 75, "label": {"en": "Good", "hu": "Jó"}},
    {"min": 0, "label": {"en": "Needs improvement", "hu": "Fejlesztendő"}},
    {"min": 90, "label": {"en": "Excellent", "hu": "Kiváló"}},
]


# -- worked examples ------------------------------------------------------------------------------


def test_worked_example_without_section_weights():
    visit = checklist(
        section("welcome", yesno("greeted", weight=2), scale("knowledge")),
        section("advice", choice("offer"), timer("wait")),
    )
    result = score(visit, {"greeted": "yes", "knowledge": 4, "offer": "asked", "wait": 90})
    # greeted 2 of 2; knowledge (4-1)/(5-1) = 3/4 of 1; offer 1/2 points of 1; wait 90 <= 180 -> 0.5 of 1.
    # welcome: 2.75 / 3 = 91.666..%; advice: 1 / 2 = 50%; overall: 3.75 / 5 = 75%.
    assert result.sections == {"welcome": Fraction(275, 3), "advice": Fraction(50)}
    assert result.overall == Fraction(75)
    assert result.to_json() == {
        "overall": 75.0,
        "sections": {"welcome": 91.67, "advice": 50.0},
        "dimensions": {},
        "critical_failures": [],
        "band": None,
    }


def test_worked_example_of_the_full_fixture_file():
    visit = load_checklist_file(DATA / "full.yaml")
    answers = {"greeted": "yes", "wait": 120, "offer": "asked", "knowledge": 4, "queue_length": 3,
               "notes": "Friendly", "shelf_photo": ["p1"]}
    result = score(visit, answers)
    # welcome (weight 40): greeted 2 of 2 + wait 120 s -> 0.5 of 1 = 2.5 / 3 = 83.33%.
    # advice (weight 60): offer asked 1/2 + knowledge (4-1)/4 = 0.75 + queue 3 <= 5 -> 0.25 = 1.5 / 3 = 50%.
    # overall: (40 x 250/3 + 60 x 50) / 100 = 190/3 = 63.33% -> band "Needs improvement" (below 75).
    # dimensions: politeness = greeted 100%; promptness = wait 50%.
    assert result.overall == Fraction(190, 3)
    assert result.to_json() == {
        "overall": 63.33,
        "sections": {"welcome": 83.33, "advice": 50.0},
        "dimensions": {"politeness": 100.0, "promptness": 50.0},
        "critical_failures": [],
        "band": "Needs improvement",
    }
    assert result.to_json(language="ru")["band"] == "Требует улучшения"


# -- item rules -----------------------------------------------------------------------------------


def test_yes_earns_all_points_and_no_earns_none():
    visit = checklist(section("main", yesno("greeted", weight=3), yesno("thanked", weight=1)))
    result = score(visit, {"greeted": "yes", "thanked": "no"})
    # 3 of 3 + 0 of 1 = 3 / 4 = 75%
    assert result.items["greeted"].earned == 3
    assert result.items["thanked"].earned == 0
    assert result.overall == 75


def test_item_weight_defaults_to_one():
    visit = checklist(section("main", yesno("greeted"), yesno("thanked", weight=3)))
    result = score(visit, {"greeted": "yes", "thanked": "no"})
    # 1 of 1 + 0 of 3 = 25%
    assert result.items["greeted"].possible == 1
    assert result.overall == 25


@pytest.mark.parametrize(("value", "percent"), [(1, 0), (2, 25), (4, 75), (5, 100)])
def test_scale_earns_share_of_the_way_from_min_to_max(value, percent):
    visit = checklist(section("main", scale("knowledge", 1, 5, weight=2)))
    # 2 x (value - 1) / (5 - 1) of 2 points
    assert score(visit, {"knowledge": value}).overall == percent


@pytest.mark.parametrize(("option", "percent"), [("proactive", 100), ("asked", 50), ("none", 0)])
def test_choice_earns_option_points_over_the_best_option_points(option, percent):
    visit = checklist(section("main", choice("offer", weight=4)))
    # 4 x points / 2 of 4 points
    assert score(visit, {"offer": option}).overall == percent


@pytest.mark.parametrize(("seconds", "percent"), [(0, 100), (60, 100), (61, 50), (180, 50), (180.5, 0), (999, 0)])
def test_timer_earns_points_of_first_threshold_whose_max_is_not_below_the_value(seconds, percent):
    visit = checklist(section("main", timer("wait", ((60, 1), (180, 0.5)))))
    assert score(visit, {"wait": seconds}).overall == percent


def test_number_item_scores_like_a_timer():
    item = timer("queue", ((2, 1), (5, 0.25)), unit={"en": "people"})
    item["type"] = "number"
    visit = checklist(section("main", item))
    assert score(visit, {"queue": 4}).overall == 25


def test_thresholds_are_taken_in_ascending_order_of_max():
    visit = checklist(section("main", timer("wait", ((180, 0.5), (60, 1)))))
    assert score(visit, {"wait": 30}).overall == 100


def test_yaml_float_points_are_exact_fractions():
    visit = checklist(section("main", *(timer(f"wait_{n}", ((10, 0.1),)) for n in range(3))))
    result = score(visit, {"wait_0": 5, "wait_1": 5, "wait_2": 5})
    # 0.1 + 0.1 + 0.1 is 0.30000000000000004 in floats; exactly 3/10 here, so 10% of 3 points.
    assert sum(item.earned for item in result.items.values()) == Fraction(3, 10)
    assert result.overall == 10


# -- what is left out -----------------------------------------------------------------------------


def test_na_answer_is_left_out_of_section_and_overall():
    visit = checklist(
        section("welcome", yesno("greeted"), yesno("smiled", na=True)),
        section("advice", yesno("offered")),
    )
    result = score(visit, {"greeted": "yes", "smiled": "na", "offered": "no"})
    # smiled leaves both earned and possible: welcome 1 / 1 = 100%; overall 1 / 2 = 50%.
    assert "smiled" not in result.items
    assert result.sections["welcome"] == 100
    assert result.overall == 50


@pytest.mark.parametrize("answers", [{"greeted": "yes"}, {"greeted": "yes", "smiled": None}])
def test_unanswered_item_is_left_out(answers):
    visit = checklist(section("main", yesno("greeted"), yesno("smiled")))
    assert score(visit, answers).overall == 100


def test_text_and_photo_items_score_nothing():
    visit = checklist(section("main", yesno("greeted"), text_item("notes"), photo("shelf")))
    result = score(visit, {"greeted": "no", "notes": "Rude", "shelf": ["photo-1"]})
    assert set(result.items) == {"greeted"}
    assert result.overall == 0


def test_hidden_show_if_item_does_not_count():
    visit = checklist(section("main", choice("offer"), scale("upsell_quality", show_if={"item": "offer", "in": ["proactive", "asked"]})))
    # offer "none" hides upsell_quality, so its left-over answer 1 (0 points) does not count: 0 / 1 = 0%.
    result = score(visit, {"offer": "proactive", "upsell_quality": 1})
    hidden = score(visit, {"offer": "none", "upsell_quality": 1})
    assert result.overall == 50  # (2/2 + 0/1) / 2
    assert "upsell_quality" not in hidden.items
    assert hidden.overall == 0


@pytest.mark.parametrize("offer_answer", [None, "na"])
def test_show_if_item_is_hidden_while_its_referenced_item_is_unanswered_or_na(offer_answer):
    visit = checklist(section("main", choice("offer", na=True), yesno("upsell", show_if={"item": "offer", "in": ["asked"]})))
    result = score(visit, {"offer": offer_answer, "upsell": "yes"})
    assert result.items == {}
    assert result.overall is None


def test_show_if_item_is_hidden_when_its_referenced_item_is_hidden():
    visit = checklist(section(
        "main",
        yesno("bought"),
        yesno("receipt", show_if={"item": "bought", "in": ["yes"]}),
        yesno("receipt_correct", show_if={"item": "receipt", "in": ["yes"]}),
    ))
    answers = {"bought": "no", "receipt": "yes", "receipt_correct": "no"}
    assert visible_item_ids(visit, answers) == {"bought"}
    assert score(visit, answers).overall == 0  # only bought: 0 / 1


def test_unusable_answer_counts_as_unanswered():
    visit = checklist(section("main", yesno("greeted"), scale("knowledge"), yesno("thanked"), timer("wait"),
                              number("count")))
    result = score(visit, {"greeted": "maybe", "knowledge": 9, "thanked": "yes", "wait": 86_401, "count": 1e25})
    assert set(result.items) == {"thanked"}
    assert result.overall == 100


def test_the_largest_timer_and_number_answers_still_count():
    visit = checklist(section("main", timer("wait"), number("count")))
    result = score(visit, {"wait": 86_400, "count": 10**9})
    assert set(result.items) == {"wait", "count"} and result.overall == 0


# -- sections, dimensions, overall ----------------------------------------------------------------


def test_section_without_anything_possible_has_no_score():
    visit = checklist(section("welcome", yesno("greeted")), section("notes", text_item("remarks")))
    result = score(visit, {"greeted": "yes", "remarks": "ok"})
    assert result.sections == {"welcome": 100, "notes": None}
    assert result.to_json()["sections"] == {"welcome": 100.0, "notes": None}


def test_overall_is_none_when_nothing_counts():
    visit = checklist(section("main", yesno("greeted", na=True)), bands=BANDS)
    result = score(visit, {"greeted": "na"})
    assert result.overall is None
    assert result.band is None
    assert result.to_json()["overall"] is None


def test_sections_are_listed_in_file_order():
    visit = checklist(section("zeta", yesno("a")), section("alpha", yesno("b")))
    assert list(score(visit, {}).sections) == ["zeta", "alpha"]


def test_dimension_percent_covers_the_items_with_that_tag_across_sections():
    visit = checklist(
        section("welcome", yesno("greeted", dimension="politeness"), yesno("quick", dimension="promptness")),
        section("till", scale("courtesy", dimension="politeness", weight=2), yesno("receipt")),
        dimensions={"politeness": {"en": "Politeness"}, "honesty": {"en": "Honesty"}},
    )
    result = score(visit, {"greeted": "yes", "quick": "no", "courtesy": 3, "receipt": "yes"})
    # politeness: greeted 1 of 1 + courtesy 2 x (3-1)/4 = 1 of 2 -> 2 / 3 = 66.67%; promptness 0 / 1.
    # honesty is declared but no item carries it: no score. Declared tags come first.
    assert result.dimensions == {"politeness": Fraction(200, 3), "honesty": None, "promptness": 0}


def test_weighted_sections_give_the_weighted_mean_of_section_percentages():
    visit = checklist(
        section("welcome", yesno("greeted"), weight=1),
        section("advice", yesno("offered"), yesno("explained"), yesno("checked"), yesno("closed"), weight=3),
    )
    result = score(visit, {"greeted": "yes", "offered": "yes", "explained": "yes", "checked": "no", "closed": "no"})
    # welcome 100%, advice 2/4 = 50% -> (1 x 100 + 3 x 50) / 4 = 62.5%, not the pooled 3 / 5 = 60%.
    assert result.overall == Fraction(125, 2)


def test_weighted_sections_drop_unscored_section_with_its_weight():
    visit = checklist(
        section("welcome", yesno("greeted"), weight=20),
        section("advice", yesno("offered", na=True), weight=50),
        section("till", yesno("receipt"), weight=30),
    )
    result = score(visit, {"greeted": "yes", "offered": "na", "receipt": "no"})
    # advice has no score and leaves with its 50: (20 x 100 + 30 x 0) / 50 = 40%.
    assert result.sections["advice"] is None
    assert result.overall == 40


def test_weighted_overall_is_none_when_no_section_has_a_score():
    visit = checklist(section("welcome", yesno("greeted"), weight=1), section("till", yesno("receipt"), weight=1))
    assert score(visit, {}).overall is None


def test_float_section_weights_are_exact():
    visit = checklist(section("a", yesno("x"), weight=0.1), section("b", yesno("y"), weight=0.2))
    # (0.1 x 100 + 0.2 x 0) / 0.3 = 33.33..% exactly 100/3
    assert score(visit, {"x": "yes", "y": "no"}).overall == Fraction(100, 3)


# -- critical items -------------------------------------------------------------------------------


def test_critical_failure_is_listed_in_file_order_and_flags_the_visit():
    visit = checklist(section("main", yesno("greeted", critical=True), yesno("thanked"), yesno("safe", critical=True)))
    result = score(visit, {"safe": "no", "greeted": "no", "thanked": "yes"})
    assert result.critical_failures == ["greeted", "safe"]
    assert result.is_flagged
    assert result.to_json()["critical_failures"] == ["greeted", "safe"]


def test_critical_failure_without_critical_cap_only_flags():
    visit = checklist(section("main", yesno("greeted", critical=True), yesno("a"), yesno("b"), yesno("c")))
    result = score(visit, {"greeted": "no", "a": "yes", "b": "yes", "c": "yes"})
    assert result.is_flagged
    assert result.overall == 75


def test_critical_failure_caps_overall_at_critical_cap():
    visit = checklist(section("main", yesno("greeted", critical=True), yesno("a"), yesno("b"), yesno("c")),
                      critical_cap=50, bands=BANDS)
    result = score(visit, {"greeted": "no", "a": "yes", "b": "yes", "c": "yes"})
    # 3 / 4 = 75% uncapped ("Good"); the failed critical item caps it at 50% ("Needs improvement").
    assert result.overall == 50
    assert result.band["en"] == "Needs improvement"
    assert result.sections["main"] == 75  # the cap is on the overall only


def test_critical_cap_never_raises_a_lower_overall():
    visit = checklist(section("main", yesno("greeted", critical=True), yesno("a")), critical_cap=80)
    assert score(visit, {"greeted": "no", "a": "no"}).overall == 0


def test_critical_cap_applies_only_when_a_critical_item_fails():
    visit = checklist(section("main", yesno("greeted", critical=True), yesno("a")), critical_cap=0)
    assert score(visit, {"greeted": "yes", "a": "no"}).overall == 50


def test_critical_item_earning_part_of_its_points_is_a_failure():
    visit = checklist(section("main", scale("knowledge", critical=True)), critical_cap=0)
    result = score(visit, {"knowledge": 4})
    assert result.critical_failures == ["knowledge"]
    assert result.overall == 0


@pytest.mark.parametrize("answers", [{"greeted": "na"}, {}, {"bought": "no", "greeted": "no"}])
def test_critical_item_that_does_not_count_is_not_a_failure(answers):
    visit = checklist(section("main", yesno("bought"), yesno("greeted", critical=True, na=True,
                                                             show_if={"item": "bought", "in": ["yes"]})))
    answers = {"bought": "yes", **answers}
    assert score(visit, answers).critical_failures == []


# -- bands ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("yes_count", "band"), [(10, "Excellent"), (9, "Excellent"), (8, "Good"), (7, "Needs improvement")])
def test_band_is_the_label_of_the_highest_min_reached(yes_count, band):
    visit = checklist(section("main", *(yesno(f"q{n}") for n in range(10))), bands=BANDS)
    answers = {f"q{n}": "yes" if n < yes_count else "no" for n in range(10)}
    # 9 of 10 = 90% reaches min 90 exactly; 80% is Good; 70% falls to min 0.
    assert score(visit, answers).band_text() == band


def test_band_is_none_without_bands():
    visit = checklist(section("main", yesno("greeted")))
    assert score(visit, {"greeted": "yes"}).band is None


def test_band_text_is_in_the_requested_language_and_defaults_to_the_first_language():
    visit = checklist(section("main", yesno("greeted")), bands=BANDS)
    result = score(visit, {"greeted": "yes"})
    assert result.to_json()["band"] == "Excellent"
    assert result.to_json(language="hu")["band"] == "Kiváló"
    assert result.to_json(language="ro")["band"] == "Excellent"  # no Romanian label: the first language


# -- rounding -------------------------------------------------------------------------------------


def test_to_json_rounds_half_up_once_from_the_exact_value():
    visit = checklist(section("main", yesno("a", weight=17489), yesno("b", weight=182511)))
    result = score(visit, {"a": "yes", "b": "no"})
    # 17489 / 200000 = 8.7445% exactly; to 1 place that is 8.7 (rounding 8.74 -> 8.7), while rounding
    # twice (8.7445 -> 8.745 -> 8.75 -> 8.8) or in binary floats could give something else.
    assert result.overall == Fraction(87445, 10000)
    assert result.to_json(places=3)["overall"] == 8.745
    assert result.to_json(places=1)["overall"] == 8.7
    assert result.to_json(places=0)["overall"] == 9.0


@pytest.mark.parametrize(
    ("fraction", "places", "shown"),
    [
        (Fraction(175, 2), 1, Decimal("87.5")),
        (Fraction(2, 3) * 100, 1, Decimal("66.7")),
        (Fraction(1, 8) * 100, 0, Decimal("13")),
        (Fraction(1, 200), 2, Decimal("0.01")),
        (Fraction(0), 2, Decimal("0.00")),
        (Fraction(100), 1, Decimal("100.0")),
        (None, 1, None),
    ],
)
def test_display_percent_rounds_half_up_to_the_given_places(fraction, places, shown):
    result = display_percent(fraction, places)
    assert result == shown
    assert str(result) == str(shown)


def test_score_result_is_frozen():
    result = score(checklist(section("main", yesno("greeted"))), {"greeted": "yes"})
    assert isinstance(result, ScoreResult)
    with pytest.raises(AttributeError):
        result.overall = Fraction(0)


# -- checking answers -----------------------------------------------------------------------------

ANSWERED = checklist(section(
    "main",
    yesno("greeted"),
    yesno("smiled", na=True),
    scale("knowledge"),
    choice("offer"),
    timer("wait"),
    number("count"),
    text_item("notes"),
    photo("shelf", na=True),
))


@pytest.mark.parametrize(
    ("item_id", "value", "code", "message"),
    [
        ("greeted", "maybe", "not_yes_no", "Item 'greeted': 'maybe' is not one of yes, no."),
        ("greeted", True, "not_yes_no", "Item 'greeted': True is not one of yes, no."),
        ("smiled", "maybe", "not_yes_no", "Item 'smiled': 'maybe' is not one of yes, no, na."),
        ("greeted", "na", "na_not_allowed", "Item 'greeted': N/A is not allowed."),
        ("knowledge", 6, "out_of_range", "Item 'knowledge': 6 is outside 1 to 5."),
        ("knowledge", 0, "out_of_range", "Item 'knowledge': 0 is outside 1 to 5."),
        ("knowledge", 3.5, "not_whole", "Item 'knowledge': 3.5 is not a whole number."),
        ("knowledge", "4", "not_a_number", "Item 'knowledge': '4' is not a number."),
        ("knowledge", False, "not_a_number", "Item 'knowledge': False is not a number."),
        ("offer", "maybe", "not_an_option", "Item 'offer': 'maybe' is not one of proactive, asked, none."),
        ("wait", -1, "negative", "Item 'wait': -1 is negative."),
        ("wait", 86_401, "too_large", "Item 'wait': 86401 is larger than 86400."),
        ("count", 1e25, "too_large", "Item 'count': 1e+25 is larger than 1000000000."),
        ("wait", "long", "not_a_number", "Item 'wait': 'long' is not a number."),
        ("wait", float("nan"), "not_a_number", "Item 'wait': nan is not a number."),
        ("notes", 5, "not_text", "Item 'notes': 5 is not text."),
        ("shelf", "photo-1", "not_photos", "Item 'shelf': 'photo-1' is not a list of photo ids."),
        ("ghost", "yes", "unknown_item", "Item 'ghost' is not in this checklist."),
    ],
)
def test_check_answers_names_the_item_and_the_impossible_value(item_id, value, code, message):
    assert check_answers(ANSWERED, {item_id: value}) == [message]
    [problem] = find_answer_problems(ANSWERED, {item_id: value})
    assert isinstance(problem, AnswerProblem)
    assert (problem.item_id, problem.code, problem.message) == (item_id, code, message)


def test_check_answers_accepts_every_possible_answer():
    answers = {"greeted": "no", "smiled": "na", "knowledge": 4.0, "offer": "none", "wait": Decimal("12.5"),
               "notes": "na", "shelf": []}
    assert check_answers(ANSWERED, answers) == []
    assert check_answers(ANSWERED, {item: None for item in answers}) == []


def test_check_answers_lists_every_problem_in_file_order_then_unknown_items():
    answers = {"ghost": 1, "wait": -3, "greeted": "maybe"}
    assert check_answers(ANSWERED, answers) == [
        "Item 'greeted': 'maybe' is not one of yes, no.",
        "Item 'wait': -3 is negative.",
        "Item 'ghost' is not in this checklist.",
    ]


# -- properties -----------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WEIGHTS = st.one_of(st.integers(1, 5), st.sampled_from([0.25, 0.5, 1.5]))
SCORING = ("yesno", "scale", "choice", "timer", "number")


@st.composite
def generated_items(draw, item_id):
    item_type = draw(st.sampled_from(SCORING + ("text", "photo")))
    item = {"id": item_id, "type": item_type, "text": {"en": item_id}, "na": draw(st.booleans())}
    if item_type in ("text", "photo"):
        return item
    item.update(weight=draw(WEIGHTS), critical=draw(st.booleans()),
                dimension=draw(st.sampled_from([None, "care", "speed"])))
    pass_mark = draw(st.sampled_from([None, 100, 75, 50, 33.3, 0.5]))
    if pass_mark is not None:
        item["pass_mark"] = pass_mark
    if item["dimension"] is None:
        del item["dimension"]
    if item_type == "scale":
        item["min"] = draw(st.integers(0, 3))
        item["max"] = item["min"] + draw(st.integers(1, 6))
    elif item_type == "choice":
        points = draw(st.lists(st.sampled_from([0, 1, 2, 3, 0.5]), min_size=2, max_size=4).filter(any))
        item["options"] = [{"id": f"o{n}", "points": value, "text": {"en": f"o{n}"}} for n, value in enumerate(points)]
    elif item_type in ("timer", "number"):
        maxes = sorted(draw(st.sets(st.integers(0, 300), min_size=1, max_size=3)))
        # Faster is never worse: points do not rise as the wait grows (the monotonicity property needs it).
        points = sorted(draw(st.lists(st.sampled_from([0, 0.25, 0.5, 1]), min_size=len(maxes), max_size=len(maxes))),
                        reverse=True)
        item["thresholds"] = [{"max": limit, "points": value} for limit, value in zip(maxes, points)]
    return item


def answer_values(item):
    """A strategy for the usable (non-N/A) answers to an item."""
    item_type = item["type"]
    if item_type == "yesno":
        return st.sampled_from(["yes", "no"])
    if item_type == "scale":
        return st.integers(item["min"], item["max"])
    if item_type == "choice":
        return st.sampled_from([option["id"] for option in item["options"]])
    if item_type in ("timer", "number"):
        return st.one_of(st.integers(0, 400), st.sampled_from([0.5, 59.9, 60.0, 180.25]))
    if item_type == "text":
        return st.text(max_size=5)
    return st.lists(st.text(min_size=1, max_size=3), max_size=2)


def all_items(visit):
    return [item for part in visit["sections"] for item in part["items"]]


@st.composite
def generated_checklists(draw, with_show_if=True, weighted=None, with_cap=True):
    is_weighted = draw(st.booleans()) if weighted is None else weighted
    sections = []
    count = 0
    for section_number in range(draw(st.integers(1, 4))):
        items = []
        for _ in range(draw(st.integers(1, 5))):
            item = draw(generated_items(f"i{count}"))
            count += 1
            # show_if only within the section, so N/A in one section cannot reach into another.
            targets = [earlier for earlier in items if earlier["type"] in ("yesno", "choice")]
            if with_show_if and targets and draw(st.integers(0, 3)) == 0:
                target = draw(st.sampled_from(targets))
                values = ["yes", "no"] if target["type"] == "yesno" else [o["id"] for o in target["options"]]
                item["show_if"] = {"item": target["id"], "in": draw(st.lists(st.sampled_from(values), min_size=1, unique=True))}
            items.append(item)
        part = {"id": f"s{section_number}", "title": {"en": "S"}, "items": items}
        if is_weighted:
            part["weight"] = draw(WEIGHTS)
        sections.append(part)
    visit = {"id": "generated", "languages": ["en"], "title": {"en": "Generated"}, "sections": sections,
             "bands": [{"min": 50, "label": {"en": "Pass"}}, {"min": 0, "label": {"en": "Fail"}}]}
    if with_cap and draw(st.booleans()):
        visit["critical_cap"] = draw(st.sampled_from([0, 50, 62.5, 100]))
    return visit


@st.composite
def checklists_with_answers(draw, **options):
    visit = draw(generated_checklists(**options))
    answers = {}
    for item in all_items(visit):
        kind = draw(st.sampled_from(["value", "value", "value", "missing", "none", "na"]))
        if kind == "value":
            answers[item["id"]] = draw(answer_values(item))
        elif kind == "none":
            answers[item["id"]] = None
        elif kind == "na":
            answers[item["id"]] = "na"
    return visit, answers


def percentages(result):
    return [result.overall, *result.sections.values(), *result.dimensions.values()]


@PROPERTY_SETTINGS
@given(checklists_with_answers())
def test_scores_stay_between_0_and_100(visit_and_answers):
    visit, answers = visit_and_answers
    result = score(visit, answers)
    for percent in percentages(result):
        assert percent is None or 0 <= percent <= 100
    assert 0 <= display_percent(result.overall or 0, 2) <= 100


@PROPERTY_SETTINGS
@given(checklists_with_answers(), st.data())
def test_making_an_item_na_never_changes_the_score_of_other_sections(visit_and_answers, data):
    visit, answers = visit_and_answers
    part = data.draw(st.sampled_from(visit["sections"]))
    item = data.draw(st.sampled_from(part["items"]))
    before = score(visit, answers)
    after = score(visit, {**answers, item["id"]: "na"})
    for section_id, percent in before.sections.items():
        if section_id != part["id"]:
            assert after.sections[section_id] == percent


def raised_answers(item, value):
    """Strategy for answers to `item` at least as good as `value` (a usable answer)."""
    item_type = item["type"]
    if item_type == "yesno":
        return st.just("yes")
    if item_type == "scale":
        return st.integers(value, item["max"])
    if item_type == "choice":
        points = {option["id"]: Fraction(str(option["points"])) for option in item["options"]}
        return st.sampled_from([option for option, worth in points.items() if worth >= points[value]])
    return st.one_of(st.just(value), st.integers(0, int(value)))  # timer/number: a smaller value


@PROPERTY_SETTINGS
@given(checklists_with_answers(with_show_if=False, with_cap=False), st.data())
def test_raising_an_answer_never_lowers_the_overall(visit_and_answers, data):
    visit, answers = visit_and_answers
    raisable = [item for item in all_items(visit)
                if item["type"] in SCORING and answers.get(item["id"]) not in (None, "na")]
    assume(raisable)
    item = data.draw(st.sampled_from(raisable))
    better = data.draw(raised_answers(item, answers[item["id"]]))
    before = score(visit, answers).overall
    after = score(visit, {**answers, item["id"]: better}).overall
    assert after >= before


@PROPERTY_SETTINGS
@given(checklists_with_answers(weighted=True), st.sampled_from([2, 10, 7, Fraction(1, 3), 0.5]))
def test_scaling_all_section_weights_by_one_factor_changes_nothing(visit_and_answers, factor):
    visit, answers = visit_and_answers
    scaled = copy.deepcopy(visit)
    for part in scaled["sections"]:
        part["weight"] = Fraction(str(part["weight"])) * Fraction(str(factor))
    assert score(scaled, answers) == score(visit, answers)


JUNK = st.one_of(
    st.text(max_size=4), st.integers(-5, 500), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)


@PROPERTY_SETTINGS
@given(checklists_with_answers(), st.data())
def test_answers_check_answers_rejects_count_as_unanswered(visit_and_answers, data):
    visit, answers = visit_and_answers
    items = all_items(visit)
    junk_ids = data.draw(st.lists(st.sampled_from([item["id"] for item in items]), unique=True))
    answers = {**answers, **{item_id: data.draw(JUNK) for item_id in junk_ids}}
    rejected = {problem.item_id for problem in find_answer_problems(visit, answers)}
    usable = {item_id: value for item_id, value in answers.items() if item_id not in rejected}
    assert score(visit, answers) == score(visit, usable)
    assert len(check_answers(visit, answers)) == len(rejected)


# -- the compiled scorer against a plain reference --------------------------------------------------
#
# score() compiles a checklist once, keeps it while the dict is unchanged, and adds up integers. The
# reference below is the plain computation it replaced (every rule applied afresh for each visit, one
# Fraction sum per section and per dimension), kept here only to show both give the same results.


def reference_exact(number):
    if isinstance(number, bool):
        return None
    if isinstance(number, (int, Fraction)):
        return Fraction(number)
    if isinstance(number, float):
        return Fraction(str(number)) if math.isfinite(number) else None
    if isinstance(number, Decimal):
        return Fraction(number) if number.is_finite() else None
    return None


def reference_items_in_order(visit):
    for part in visit.get("sections", []):
        for item in part.get("items", []):
            yield part["id"], item


def reference_visible_ids(visit, answers):
    visible = set()
    for _section_id, item in reference_items_in_order(visit):
        condition = item.get("show_if")
        if not condition:
            visible.add(item["id"])
            continue
        target = condition.get("item")
        target_answer = answers.get(target) if target in visible else None
        if target_answer is not None and target_answer in condition.get("in", []):
            visible.add(item["id"])
    return visible


def reference_share(item, value):
    if item["type"] == "yesno":
        return Fraction(1) if value == "yes" else Fraction(0)
    if item["type"] == "scale":
        low, high = reference_exact(item["min"]), reference_exact(item["max"])
        return (reference_exact(value) - low) / (high - low)
    if item["type"] == "choice":
        points = {option["id"]: reference_exact(option["points"]) for option in item["options"]}
        return points[value] / max(points.values())
    for step in sorted(item["thresholds"], key=lambda step: reference_exact(step["max"])):
        if reference_exact(value) <= reference_exact(step["max"]):
            return reference_exact(step["points"])
    return Fraction(0)


def reference_is_counted(visit, item, value):
    if item.get("type") not in SCORING or value is None or value == "na":
        return False
    if find_answer_problems(visit, {item["id"]: value}):
        return False
    return item["type"] != "choice" or any(reference_exact(option["points"]) for option in item["options"])


def reference_items(visit, answers):
    visible = reference_visible_ids(visit, answers)
    scores = {}
    for section_id, item in reference_items_in_order(visit):
        value = answers.get(item["id"])
        if item["id"] in visible and reference_is_counted(visit, item, value):
            possible = reference_exact(item.get("weight", 1))
            earned = possible * reference_share(item, value)
            passes = earned * 100 >= possible * reference_exact(item.get("pass_mark", 100))
            scores[item["id"]] = ItemScore(earned, possible, section_id, item.get("dimension"), passes)
    return scores


def reference_percent(item_scores):
    possible = sum((item.possible for item in item_scores), Fraction(0))
    return sum((item.earned for item in item_scores), Fraction(0)) / possible * 100 if possible else None


def reference_overall(visit, items, sections):
    if not any("weight" in part for part in visit["sections"]):
        return reference_percent(list(items.values()))
    weighted_sum = total_weight = Fraction(0)
    for part in visit["sections"]:
        if sections[part["id"]] is not None:
            weight = reference_exact(part.get("weight", 1))
            weighted_sum += weight * sections[part["id"]]
            total_weight += weight
    return weighted_sum / total_weight if total_weight else None


def reference_score(visit, answers):
    items = reference_items(visit, answers)
    sections = {part["id"]: reference_percent([s for s in items.values() if s.section_id == part["id"]])
                for part in visit["sections"]}
    tags = list(visit.get("dimensions") or {})
    for _section_id, item in reference_items_in_order(visit):
        if item.get("dimension") is not None and item.get("type") in SCORING and item["dimension"] not in tags:
            tags.append(item["dimension"])
    overall = reference_overall(visit, items, sections)
    failures = [item["id"] for _section_id, item in reference_items_in_order(visit)
                if item.get("critical") and item["id"] in items
                and not items[item["id"]].passed]
    if failures and visit.get("critical_cap") is not None and overall is not None:
        overall = min(overall, reference_exact(visit["critical_cap"]))
    reached = [band for band in visit.get("bands") or []
               if overall is not None and reference_exact(band["min"]) <= overall]
    return ScoreResult(
        overall=overall,
        sections=sections,
        dimensions={tag: reference_percent([s for s in items.values() if s.dimension == tag]) for tag in tags},
        critical_failures=failures,
        band=max(reached, key=lambda band: reference_exact(band["min"]))["label"] if reached else None,
        is_flagged=bool(failures),
        items=items,
        language=(visit.get("languages") or [None])[0],
    )


def compared(result):
    """A result with the order of its dicts, which == on dicts ignores but reports and exports show."""
    return result, list(result.sections), list(result.dimensions), list(result.items)


# Answers check_answers accepts in other forms than the plain ones, or rejects.
ODD_ANSWERS = st.one_of(
    JUNK,
    st.sampled_from([Decimal("2"), Decimal("2.5"), Decimal("NaN"), Fraction(3), Fraction(7, 2), 3.0, True, "3", "yes",
                     "o1", "na", float("inf")]),
)


@st.composite
def answers_to(draw, visit):
    """Answers to a checklist: mostly usable, some None, "na", left out, or odd (see ODD_ANSWERS)."""
    answers = {}
    for item in all_items(visit):
        kind = draw(st.sampled_from(["value", "value", "value", "missing", "none", "na", "odd"]))
        if kind == "value":
            answers[item["id"]] = draw(answer_values(item))
        elif kind == "odd":
            answers[item["id"]] = draw(ODD_ANSWERS)
        elif kind != "missing":
            answers[item["id"]] = None if kind == "none" else "na"
    return answers


@st.composite
def varied_checklists(draw):
    """Generated checklists, some declaring dimensions (in any order, with an unused one) and other bands."""
    visit = draw(generated_checklists())
    if draw(st.booleans()):
        tags = draw(st.permutations(["care", "speed", "unused"]))
        visit["dimensions"] = {tag: {"en": tag} for tag in tags[:draw(st.integers(1, 3))]}
    minimums = draw(st.lists(st.sampled_from([0, 20, 50, 62.5, 75, 100]), unique=True, max_size=4))
    visit["bands"] = [{"min": minimum, "label": {"en": f"from {minimum}"}} for minimum in minimums]
    return visit


@PROPERTY_SETTINGS
@given(varied_checklists(), st.data())
def test_score_equals_the_plain_reference_computation(visit, data):
    # Several visits against one dict: the first compiles it, the others reuse it and its outcomes.
    for answers in data.draw(st.lists(answers_to(visit), min_size=1, max_size=4)):
        expected = reference_score(visit, answers)
        assert compared(score(visit, answers)) == compared(expected)
        assert list(score_items(visit, answers).items()) == list(expected.items.items())
        assert visible_item_ids(visit, answers) == reference_visible_ids(visit, answers)


def editable_checklist():
    return checklist(
        section("welcome", yesno("greeted", critical=True, dimension="care"), scale("knowledge", dimension="speed"),
                weight=2),
        section("advice", choice("offer"), timer("wait", dimension="speed"),
                yesno("upsold", show_if={"item": "offer", "in": ["proactive"]}), weight=1),
        dimensions={"care": {"en": "Care"}, "speed": {"en": "Speed"}},
        bands=copy.deepcopy(BANDS),
        critical_cap=80,
    )


EDITABLE_ANSWERS = {"greeted": "no", "knowledge": 4, "offer": "asked", "wait": 100, "upsold": "yes", "thanked": "yes"}


def _items_of(visit, section_number):
    return visit["sections"][section_number]["items"]


IN_PLACE_EDITS = {
    "item weight": lambda visit: _items_of(visit, 0)[1].update(weight=3),
    "scale max": lambda visit: _items_of(visit, 0)[1].update(max=9),
    "option points": lambda visit: _items_of(visit, 1)[0]["options"][1].update(points=2),
    "threshold max": lambda visit: _items_of(visit, 1)[1]["thresholds"][1].update(max=90),
    "item added": lambda visit: _items_of(visit, 1).append(yesno("thanked")),
    "item removed": lambda visit: _items_of(visit, 0).pop(1),
    "show_if answers": lambda visit: _items_of(visit, 1)[2]["show_if"]["in"].append("asked"),
    "section weight": lambda visit: visit["sections"][1].update(weight=5),
    "critical flag": lambda visit: _items_of(visit, 0)[0].update(critical=False),
    "critical cap": lambda visit: visit.update(critical_cap=10),
    "band min": lambda visit: visit["bands"][0].update(min=40),
    "dimension order": lambda visit: visit["dimensions"].update(care=visit["dimensions"].pop("care")),
}


def test_changing_a_weight_in_place_changes_the_next_score():
    visit = checklist(section("main", yesno("greeted"), yesno("thanked")))
    answers = {"greeted": "yes", "thanked": "no"}
    assert score(visit, answers).overall == 50
    visit["sections"][0]["items"][0]["weight"] = 3
    assert score(visit, answers).overall == 75  # 3 of 4, not the 1 of 2 compiled before


@pytest.mark.parametrize("edit", IN_PLACE_EDITS.values(), ids=IN_PLACE_EDITS.keys())
def test_any_change_made_in_place_is_scored_as_if_the_checklist_were_new(edit):
    visit = editable_checklist()
    before = score(visit, EDITABLE_ANSWERS)
    edit(visit)
    after = score(visit, EDITABLE_ANSWERS)
    assert compared(after) != compared(before)  # the edit matters, so a stale score would be caught
    assert compared(after) == compared(reference_score(visit, EDITABLE_ANSWERS))
    assert compared(after) == compared(score(copy.deepcopy(visit), EDITABLE_ANSWERS))


def test_a_long_scale_scores_every_value_exactly():
    visit = checklist(section("main", scale("count", 0, 3000, weight=3)))
    for value in range(0, 3001, 2):  # more values than the scorer remembers per item
        assert score(visit, {"count": value}).items["count"].earned == Fraction(3 * value, 3000)


# -- pass marks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value, passed", [(5, True), (4, True), (3, False), (1, False)])
def test_a_pass_mark_lets_an_answer_pass_without_full_points(value, passed):
    """pass_mark 75 on a scale of 1 to 5: a 4 (75%) passes, a 3 (50%) fails; the points are the same."""
    visit = checklist(section("main", scale("friendly", pass_mark=75, critical=True)), critical_cap=50)
    result = score(visit, {"friendly": value})
    assert result.items["friendly"].passed is passed
    assert result.critical_failures == ([] if passed else ["friendly"])
    assert result.overall == min(Fraction(value - 1, 4) * 100, 100 if passed else 50)


def test_without_a_pass_mark_only_full_points_pass():
    visit = checklist(section("main", scale("friendly"), choice("asked"), timer("wait"), yesno("greeted")))
    result = score(visit, {"friendly": 4, "asked": "asked", "wait": 100, "greeted": "yes"})
    assert {item_id: item.passed for item_id, item in result.items.items()} == {
        "friendly": False, "asked": False, "wait": False, "greeted": True}
    marked = checklist(section("main", choice("asked", pass_mark=50), timer("wait", pass_mark=50.5)))
    result = score(marked, {"asked": "asked", "wait": 100})  # 50% of the points each
    assert (result.items["asked"].passed, result.items["wait"].passed) == (True, False)


def test_failing_answers_are_those_below_the_pass_mark_of_items_with_a_fixed_set_of_answers():
    """What the fill page opens the comment box for as the answer is chosen (data-failing)."""
    from audit.scoring import failing_answers

    assert failing_answers({"id": "a", "type": "yesno"}) == ["no"]
    assert failing_answers({"id": "b", "type": "scale", "min": 1, "max": 5, "pass_mark": 75}) == [1, 2, 3]
    assert failing_answers({"id": "c", "type": "scale", "min": 0, "max": 10}) == list(range(10))  # all points
    assert failing_answers({"id": "d", "type": "choice", "pass_mark": 50, "options": [
        {"id": "asked", "points": 2}, {"id": "half", "points": 1}, {"id": "none", "points": 0}]}) == ["none"]
    assert failing_answers({"id": "e", "type": "timer", "thresholds": [{"max": 60, "points": 1}]}) == []


def test_failing_ranges_are_the_typed_answers_below_the_pass_mark_as_the_scorer_compares_them():
    """What the fill page asks a comment or photo for as a wait or a count is typed (data-failing-ranges):
    an answer fails when it is above the first number and at most the second (None: no bound)."""
    from audit.scoring import failing_ranges

    wait = {"id": "w", "type": "timer", "thresholds": [{"max": 60, "points": 1}, {"max": 180, "points": 0.5}]}
    assert failing_ranges(wait) == [[60.0, 180.0], [180.0, None]]  # half the points fall short of 100%
    assert failing_ranges({**wait, "pass_mark": 50}) == [[180.0, None]]
    # Steps in any order; a decimal limit kept as written; the first step can fail too.
    count = {"id": "n", "type": "number", "pass_mark": 60, "thresholds": [
        {"max": 10.5, "points": 1}, {"max": 2, "points": 0}]}
    assert failing_ranges(count) == [[None, 2.0], [10.5, None]]
    for ranges, item in ((failing_ranges(wait), wait), (failing_ranges(count), count)):
        for answer in (0, 2, 3, 60, 61, 180, 181, 10.5, 11):
            inside = any((low is None or answer > low) and (high is None or answer <= high) for low, high in ranges)
            visit = {"id": "v", "sections": [{"id": "s", "items": [item]}]}
            assert inside == (not score(visit, {item["id"]: answer}).items[item["id"]].passed), (item["id"], answer)
    assert failing_ranges({"id": "a", "type": "yesno"}) == []
