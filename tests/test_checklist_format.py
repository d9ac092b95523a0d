"""Tests of the checklist file format: problems with lines, loading, round trip, hashing, fuzzing."""

import copy
import re
import tempfile
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.checklist import (
    ChecklistError,
    Problem,
    content_hash,
    dump_checklist_yaml,
    load_checklist_data,
    load_checklist_file,
    load_checklist_text,
    validate_checklist,
)
from audit.scoring import score

DATA = Path(__file__).parent / "data" / "checklists"
SHIPPED = Path(__file__).parent.parent / "checklists"
MARK = "#<"  # ends the line where a case expects its problem

HEAD = """\
id: test
languages: [en, hu]
title: {en: Test, hu: Teszt}
"""
MAIN_SECTION = """\
sections:
  - id: main
    title: {en: Main, hu: Fő}
    items:
      - {id: base, type: yesno, text: {en: Base, hu: Alap}}
"""
SECOND_SECTION = """\
  - id: second
    title: TX
    items:
"""


def checklist_text(items="", top="", after=""):
    """A checklist with one section holding item `base` plus `items`; TX stands for {en: X, hu: X}."""
    text = HEAD + textwrap.dedent(top) + MAIN_SECTION + textwrap.indent(textwrap.dedent(items), " " * 6)
    text += after
    return text.replace("TX", "{en: X, hu: X}")


def marked_line(text):
    return next(number for number, line in enumerate(text.splitlines(), 1) if MARK in line)


def case(name, message, items="", top="", after="", text=None):
    return pytest.param(text if text is not None else checklist_text(items, top, after), message, id=name)


YESNO_KEYS = "id, type, text, help, weight, pass_mark, critical, na, dimension, require_comment_on_fail, require_photo_on_fail, show_if"

PROBLEM_CASES = [
    # YAML itself
    case("yaml_syntax_error", "YAML syntax error: a line without its ':', or indented unlike the lines around it",
         text="id: test\nlanguages: [en]\ntitle: {en: Test}\nsections\n#<\n"),
    case("colon_in_unquoted_text", "YAML syntax error: a ': ' inside a text that is not in quotes; put the text in quotes",
         items="- id: x\n  type: yesno\n  text:\n    en: Note: the door  #<\n    hu: X"),
    case("flow_list_not_closed", "YAML syntax error: a list in [...] is not closed with ']'",
         text="id: test\nlanguages: [en, hu\ntitle: {en: Test}  #<\n"),
    case("tab_indentation", "YAML syntax error: a tab where YAML takes only spaces; indent with spaces",
         text="id: test\nlanguages:\n\t- en  #<\n"),
    case("quote_not_closed", "YAML syntax error: a quoted text is not closed with its quote",
         text="id: test\nlanguages: [en]\ntitle: {en: 'Test}\n#<"),
    case("rare_problem_in_pyyamls_words", "YAML syntax error: found undefined alias 'nope'",
         items="- {id: x, type: yesno, text: *nope}  #<"),
    case("flow_list_not_closed_after_a_question", "YAML syntax error: a list in [...] is not closed with ']'",
         items="- {id: greeted, type: yesno, text: {en: Greeted?, hu: X}}\n- {id: x, type: yesno, text: TX, na: [yes}  #<"),
    case("question_mark_starting_flow_text", "YAML syntax error: expected the node content, but found '?' (while parsing a flow node)",
         items="- {id: greeted, type: yesno, text: {en: ?Greeted, hu: X}}  #<"),
    case("empty_file", "the file is empty", text="# nothing here  #<\n"),
    case("top_level_not_a_mapping", "the top level must be a mapping with id, languages, title and sections (got a list)",
         text="- id: test  #<\n- languages: [en]\n"),
    case("duplicate_key", "duplicate key 'text' (first on line 11)",
         items="- id: x\n  type: yesno\n  text: TX\n  text: TX  #<"),
    case("unsupported_tag", "unsupported YAML tag '!translate'",
         items="- {id: x, type: yesno, text: {en: !translate greeting, hu: X}}  #<"),
    case("alias_inside_itself", "an alias refers to a mapping or list that contains it",
         items="- &loop {id: x, type: yesno, text: TX, help: *loop}  #<"),
    # the top level
    case("missing_required_key", "missing required key 'title'",
         text="id: test  #<\nlanguages: [en]\nsections:\n  - {id: main, title: {en: Main}, items: [{id: a, type: yesno, text: {en: A}}]}\n"),
    case("unknown_top_level_key", "unknown key 'colour' (allowed: id, languages, title, critical_cap, on_site, bands, dimensions, sections)",
         top="colour: red  #<\n"),
    case("checklist_id_badly_formed", "id 'Retail Visit' must be lowercase words joined by - or _, like 'retail-store-visit'",
         text=checklist_text().replace("id: test", "id: Retail Visit  #<")),
    case("unknown_language", "languages: 'de' is not a supported language (supported: en, hu, bg, et, ro, ru)",
         text="id: test\nlanguages: [en, de]  #<\ntitle: {en: Test, de: Test}\n"
              "sections:\n  - {id: main, title: {en: M, de: M}, items: [{id: a, type: yesno, text: {en: A, de: A}}]}\n"),
    case("language_listed_twice", "languages: 'hu' is listed twice",
         text=checklist_text().replace("languages: [en, hu]", "languages: [en, hu, hu]  #<")),
    case("critical_cap_out_of_range", "critical_cap must be between 0 and 100 (got 120)", top="critical_cap: 120  #<\n"),
    case("critical_cap_not_a_number", "critical_cap must be a number (got 'fifty')", top="critical_cap: fifty  #<\n"),
    case("band_min_out_of_range", "band 1: min must be between 0 and 100 (got -5)",
         top="bands:\n  - {min: -5, label: TX}  #<\n"),
    case("band_min_used_twice", "band 2: min 75 is used by another band too (line 5)",
         top="bands:\n  - {min: 75, label: TX}\n  - {min: 75, label: TX}  #<\n"),
    case("band_without_label", "band 1: missing required key 'label'", top="bands:\n  - {min: 75}  #<\n"),
    case("dimension_tag_not_snake_case", "dimensions: tag 'Care' must be lowercase snake_case, like 'greeted_quickly'",
         top="dimensions:\n  Care: TX  #<\n"),
    case("item_dimension_not_declared", "item 'x': dimension 'speed' is not declared in dimensions (care)",
         top="dimensions: {care: TX}\n", items="- {id: x, type: yesno, text: TX, dimension: speed}  #<"),
    # translations
    case("missing_translation", "item 'x': text is missing the 'hu' translation",
         items="- {id: x, type: yesno, text: {en: X}}  #<"),
    case("empty_translation", "item 'x': text has an empty 'hu' translation",
         items="- {id: x, type: yesno, text: {en: X, hu: ''}}  #<"),
    case("translation_in_undeclared_language", "item 'x': text has a translation in 'ro', which is not one of the checklist's languages (en, hu)",
         items="- id: x\n  type: yesno\n  text:\n    en: X\n    hu: X\n    ro: X  #<"),
    case("translation_too_long", "item 'x': help in 'hu' is 2001 characters long; at most 2000 fit a question on a phone",
         items="- id: x\n  type: yesno\n  text: TX\n  help:\n    en: X\n    hu: " + "h" * 2001 + "  #<"),
    case("translation_not_text", "item 'x': text in 'en' must be text (got 5)",
         items="- {id: x, type: yesno, text: {en: 5, hu: X}}  #<"),
    case("text_not_a_mapping", "item 'x': text must be a mapping from language to text, like {en: ...} (got 'Greeted')",
         items="- {id: x, type: yesno, text: Greeted}  #<"),
    case("help_missing_translation", "item 'x': help is missing the 'en' translation",
         items="- {id: x, type: yesno, text: TX, help: {hu: Segítség}}  #<"),
    case("unit_missing_translation", "item 'x': unit is missing the 'hu' translation",
         items="- {id: x, type: number, text: TX, thresholds: [{max: 3, points: 1}], unit: {en: people}}  #<"),
    case("unit_form_unknown_to_the_language", "item 'x': unit in 'en' has the plural form 'few', which numbers in "
         "'en' do not take (its forms: one, other)",
         items="- id: x\n  type: number\n  text: TX\n  thresholds: [{max: 3, points: 1}]\n  unit:\n"
               "    en:\n      one: time\n      few: times  #<\n      other: times\n    hu: alkalom"),
    case("unit_form_not_a_category", "item 'x': unit in 'hu' has the plural form 'plural', which numbers in 'hu' "
         "do not take (its forms: one, other)",
         items="- {id: x, type: number, text: TX, thresholds: [{max: 3, points: 1}], unit: {en: times, hu: {plural: a, other: a}}}  #<"),
    case("unit_forms_without_other", "item 'x': unit in 'en' needs the plural form 'other', the one most numbers "
         "take, as in {one: time, other: times}",
         items="- id: x\n  type: number\n  text: TX\n  thresholds: [{max: 3, points: 1}]\n  unit:\n"
               "    en: {one: time}  #<\n    hu: alkalom"),
    case("unit_form_empty", "item 'x': unit (one) has an empty 'en' translation",
         items="- {id: x, type: number, text: TX, thresholds: [{max: 3, points: 1}], unit: {en: {one: '', other: times}, hu: a}}  #<"),
    case("unit_form_not_text", "item 'x': unit (other) in 'hu' must be text (got 5)",
         items="- {id: x, type: number, text: TX, thresholds: [{max: 3, points: 1}], unit: {en: times, hu: {other: 5}}}  #<"),
    case("unit_neither_text_nor_forms", "item 'x': unit in 'hu' must be text, or a mapping of plural forms to texts "
         "like {one: time, other: times} (got a list)",
         items="- {id: x, type: number, text: TX, thresholds: [{max: 3, points: 1}], unit: {en: times, hu: [a]}}  #<"),
    case("text_forms_only_for_a_unit", "item 'x': text in 'hu' must be text (got a mapping)",
         items="- {id: x, type: yesno, text: {en: X, hu: {one: X, other: X}}}  #<"),
    # sections
    case("sections_empty", "sections must be a non-empty list of sections (got an empty list)",
         text=HEAD + "sections: []  #<\n"),
    case("section_without_items", "section 'second': items must be a non-empty list of items (got an empty list)",
         after="  - id: second\n    title: TX\n    items: []  #<\n"),
    case("section_unknown_key", "section 'second': unknown key 'colour' (allowed: id, title, weight, items)",
         after=SECOND_SECTION + "      - {id: y, type: yesno, text: TX}\n    colour: red  #<\n"),
    case("duplicate_section_id", "duplicate section id 'main' (first used on line 5)",
         after="  - id: main  #<\n    title: TX\n    items:\n      - {id: y, type: yesno, text: TX}\n"),
    case("section_weight_not_positive", "section 'main': weight must be greater than 0 (got -1)",
         text=checklist_text().replace("    title: {en: Main, hu: Fő}\n", "    title: {en: Main, hu: Fő}\n    weight: -1  #<\n")),
    case("only_some_sections_weighted", "section 'second' has no weight, but other sections do: either every section has a weight or none does",
         text=checklist_text(after=SECOND_SECTION.replace("  - id: second", "  - id: second  #<") + "      - {id: y, type: yesno, text: TX}\n")
         .replace("    title: {en: Main, hu: Fő}\n", "    title: {en: Main, hu: Fő}\n    weight: 2\n")),
    # items
    case("item_missing_required_key", "item 'x': missing required key 'text'", items="- {id: x, type: yesno}  #<"),
    case("item_unknown_key", f"item 'x': unknown key 'colour' (allowed: {YESNO_KEYS})",
         items="- id: x\n  type: yesno\n  text: TX\n  colour: red  #<"),
    case("item_key_not_for_its_type", f"item 'x': key 'min' is not allowed on a yesno item (allowed: {YESNO_KEYS})",
         items="- {id: x, type: yesno, text: TX, min: 1}  #<"),
    case("unknown_item_type", "item 'x': unknown type 'radio' (allowed: yesno, scale, choice, timer, number, text, photo)",
         items="- {id: x, type: radio, text: TX}  #<"),
    case("duplicate_item_id_across_sections", "duplicate item id 'base' (first used on line 8)",
         after=SECOND_SECTION + "      - {id: base, type: yesno, text: TX}  #<\n"),
    case("item_id_not_snake_case", "item 'GreetedFast': id 'GreetedFast' must be lowercase snake_case, like 'greeted_quickly'",
         items="- {id: GreetedFast, type: yesno, text: TX}  #<"),
    case("item_id_not_text", "item 2 of section 'main': id must be text (got 12)", items="- {id: 12, type: yesno, text: TX}  #<"),
    case("weight_zero", "item 'x': weight must be greater than 0 (got 0)", items="- {id: x, type: yesno, text: TX, weight: 0}  #<"),
    case("weight_text", "item 'x': weight must be a number (got 'two')", items="- {id: x, type: yesno, text: TX, weight: two}  #<"),
    case("weight_quoted_number", "item 'x': weight must be a number (got '2')", items="- {id: x, type: yesno, text: TX, weight: '2'}  #<"),
    case("weight_boolean", "item 'x': weight must be a number (got true)", items="- {id: x, type: yesno, text: TX, weight: true}  #<"),
    case("weight_nan", "item 'x': weight must be a number (got .nan)", items="- {id: x, type: yesno, text: TX, weight: .nan}  #<"),
    case("weight_infinite", "item 'x': weight must be a number (got .inf)", items="- {id: x, type: yesno, text: TX, weight: .inf}  #<"),
    case("pass_mark_zero", "item 'x': pass_mark must be greater than 0 (got 0)", items="- {id: x, type: scale, min: 1, max: 5, text: TX, pass_mark: 0}  #<"),
    case("pass_mark_above_100", "item 'x': pass_mark must be at most 100 (got 101)", items="- {id: x, type: yesno, text: TX, pass_mark: 101}  #<"),
    case("pass_mark_text", "item 'x': pass_mark must be a number (got '75%')", items="- {id: x, type: timer, text: TX, pass_mark: 75%, thresholds: [{max: 60, points: 1}]}  #<"),
    case("pass_mark_on_photo_item", "item 'x': photo items score nothing, so they cannot have 'pass_mark'",
         items="- id: x\n  type: photo\n  text: TX\n  pass_mark: 50  #<"),
    case("weight_on_text_item", "item 'x': text items score nothing, so they cannot have 'weight'",
         items="- id: x\n  type: text\n  text: TX\n  weight: 2  #<"),
    case("critical_on_photo_item", "item 'x': photo items score nothing, so they cannot have 'critical'",
         items="- id: x\n  type: photo\n  text: TX\n  critical: true  #<"),
    case("thresholds_on_text_item", "item 'x': text items score nothing, so they cannot have 'thresholds'",
         items="- id: x\n  type: text\n  text: TX\n  thresholds: [{max: 1, points: 1}]  #<"),
    case("flag_not_boolean", "item 'x': critical must be true or false (got 'yes')",
         items="- {id: x, type: yesno, text: TX, critical: yes}  #<"),
    case("scale_min_not_below_max", "item 'x': min must be less than max (got min 5, max 5)",
         items="- id: x\n  type: scale\n  text: TX\n  min: 5\n  max: 5  #<"),
    case("scale_bound_not_whole", "item 'x': min must be a whole number (got 1.5)",
         items="- id: x\n  type: scale\n  text: TX\n  min: 1.5  #<\n  max: 5"),
    case("scale_without_max", "item 'x': missing required key 'max'", items="- {id: x, type: scale, text: TX, min: 1}  #<"),
    case("choice_without_options", "item 'x': a choice item needs at least two options (it has none)",
         items="- {id: x, type: choice, text: TX}  #<"),
    case("choice_with_one_option", "item 'x': a choice item needs at least two options (it has 1)",
         items="- id: x\n  type: choice\n  text: TX\n  options:  #<\n    - {id: only, points: 1, text: TX}"),
    case("option_points_negative", "item 'x': option 'bad': points must not be negative (got -1)",
         items="- id: x\n  type: choice\n  text: TX\n  options:\n    - {id: good, points: 1, text: TX}\n"
               "    - {id: bad, points: -1, text: TX}  #<"),
    case("option_points_all_zero", "item 'x': options all give 0 points; at least one option must give points",
         items="- id: x\n  type: choice\n  text: TX\n  options:  #<\n    - {id: a, points: 0, text: TX}\n"
               "    - {id: b, points: 0, text: TX}"),
    case("option_id_used_twice", "item 'x': option id 'a' is used twice (first on line 13)",
         items="- id: x\n  type: choice\n  text: TX\n  options:\n    - {id: a, points: 1, text: TX}\n"
               "    - {id: a, points: 0, text: TX}  #<"),
    case("option_id_not_snake_case", "item 'x': option 'Very good': id 'Very good' must be lowercase snake_case, like 'greeted_quickly'",
         items="- id: x\n  type: choice\n  text: TX\n  options:\n    - {id: Very good, points: 1, text: TX}  #<\n"
               "    - {id: bad, points: 0, text: TX}"),
    case("timer_without_thresholds", "item 'x': a timer item needs thresholds, like [{max: 60, points: 1}, {max: 180, points: 0.5}]",
         items="- {id: x, type: timer, text: TX}  #<"),
    case("thresholds_not_ascending", "item 'x': thresholds must be in ascending order of max (180 then 60)",
         items="- id: x\n  type: timer\n  text: TX\n  thresholds:\n    - {max: 180, points: 0.5}\n    - {max: 60, points: 1}  #<"),
    case("threshold_points_above_one", "item 'x': threshold 1: points must be between 0 and 1 (got 2)",
         items="- {id: x, type: timer, text: TX, thresholds: [{max: 60, points: 2}]}  #<"),
    case("threshold_max_text", "item 'x': threshold 1: max must be a number (got '1 min')",
         items="- {id: x, type: timer, text: TX, thresholds: [{max: 1 min, points: 1}]}  #<"),
    case("unit_on_timer", "item 'x': key 'unit' is not allowed on a timer item (allowed: id, type, text, help, weight, pass_mark, critical, "
                          "na, dimension, require_comment_on_fail, require_photo_on_fail, thresholds, show_if)",
         items="- id: x\n  type: timer\n  text: TX\n  thresholds: [{max: 60, points: 1}]\n  unit: TX  #<"),
    # show_if
    case("show_if_unknown_item", "the question “X” (id x) is shown only after an answer to the question with id 'ghost', which the "
         "checklist does not have: write the id of an earlier question in its show_if, or remove that show_if",
         items="- {id: x, type: yesno, text: TX, show_if: {item: ghost, in: [yes]}}  #<"),
    case("show_if_later_item", "the question “X” (id x) is shown only after an answer to the question “X” (id later), which comes "
         "after it: move it below the question “X” (id later), or remove that show_if",
         items="- {id: x, type: yesno, text: TX, show_if: {item: later, in: [yes]}}  #<\n- {id: later, type: yesno, text: TX}"),
    case("show_if_itself", "the question “X” (id x) is shown only after an answer to itself: write the id of an earlier "
         "question in its show_if, or remove that show_if",
         items="- {id: x, type: yesno, text: TX, show_if: {item: x, in: [yes]}}  #<"),
    case("show_if_scale_item", "the question “X” (id x) is shown only after an answer to the question “X” (id knowledge), a "
         "'scale' question, but only yesno and choice questions can show another: make it one of these, or change "
         "or remove the show_if of the question “X” (id x)",
         items="- {id: knowledge, type: scale, min: 1, max: 5, text: TX}\n"
               "- {id: x, type: yesno, text: TX, show_if: {item: knowledge, in: ['5']}}  #<"),
    case("show_if_value_not_yes_or_no", "the question “X” (id x) is shown only after the answer 'maybe' to the question “Base” "
         "(id base), which has no such answer (its answers: yes, no): write one of these in its show_if, or remove "
         "that show_if",
         items="- id: x\n  type: yesno\n  text: TX\n  show_if:\n    item: base\n    in: [yes, maybe]  #<"),
    case("show_if_value_not_an_option", "the question “X” (id x) is shown only after the answer 'sometimes' to the question “X” "
         "(id offer), which has no such answer (its answers: always, never): write one of these in its show_if, or "
         "remove that show_if",
         items="- id: offer\n  type: choice\n  text: TX\n  options: [{id: always, points: 1, text: TX}, {id: never, points: 0, text: TX}]\n"
               "- {id: x, type: yesno, text: TX, show_if: {item: offer, in: [sometimes]}}  #<"),
    case("show_if_without_values", "item 'x': show_if in must be a non-empty list of answers (got an empty list)",
         items="- {id: x, type: yesno, text: TX, show_if: {item: base, in: []}}  #<"),
]


@pytest.mark.parametrize(("text", "message"), PROBLEM_CASES)
def test_each_problem_is_reported_with_its_line_and_message(text, message):
    with pytest.raises(ChecklistError) as caught:
        load_checklist_text(text, "check.yaml")
    line = marked_line(text)
    assert [(problem.line, problem.message) for problem in caught.value.problems] == [(line, message)]
    assert str(caught.value.problems[0]) == f"check.yaml:{line}: {message}"


def test_a_question_in_text_inside_braces_is_read_as_written():
    """Checklists are questions: the pure-Python YAML reader ended unquoted text at the '?' inside
    {...} and [...], and refused `{en: Greeted?, hu: X}`; libyaml reads it as YAML means it."""
    checklist = load_checklist_text(checklist_text(
        "- {id: greeted, type: yesno, text: {en: Were you greeted? Warmly?, hu: Köszöntöttek?}}\n"
        "- {id: kind, type: choice, text: TX, options: [{id: a, points: 1, text: {en: Why?, hu: Miért?}},\n"
        "                                               {id: b, points: 0, text: {en: Why not?, hu: X}}]}\n"),
        "check.yaml")
    items = {item["id"]: item for section in checklist["sections"] for item in section["items"]}
    assert items["greeted"]["text"] == {"en": "Were you greeted? Warmly?", "hu": "Köszöntöttek?"}
    assert [option["text"]["en"] for option in items["kind"]["options"]] == ["Why?", "Why not?"]


def test_all_problems_are_reported_at_once_in_line_order():
    path = DATA / "many_problems.yaml"
    with pytest.raises(ChecklistError) as caught:
        load_checklist_file(path)
    keys = "id, type, text, help, weight, pass_mark, critical, na, dimension, require_comment_on_fail, require_photo_on_fail, show_if"
    assert [str(problem) for problem in caught.value.problems] == [
        f"{path}:3: languages: 'de' is not a supported language (supported: en, hu, bg, et, ro, ru)",
        f"{path}:9: item 'greeted': unknown key 'colour' (allowed: {keys})",
        f"{path}:10: duplicate item id 'greeted' (first used on line 9)",
        f"{path}:11: item 'wait': thresholds must be in ascending order of max (180 then 60)",
        f"{path}:12: item 'mood': unknown type 'radio' (allowed: yesno, scale, choice, timer, number, text, photo)",
    ]
    assert str(caught.value).splitlines() == [str(problem) for problem in caught.value.problems]


# -- loading valid files --------------------------------------------------------------------------


def test_valid_file_loads_as_normalised_plain_data():
    loaded = load_checklist_file(DATA / "full.yaml")
    assert loaded["id"] == "test-store-visit"
    assert loaded["languages"] == ["en", "hu", "ru"]
    assert [band["min"] for band in loaded["bands"]] == [90, 75, 0]  # sorted from the highest min
    greeted, wait = loaded["sections"][0]["items"]
    assert greeted["help"]["en"] == "Count from the moment you step in.\nA nod counts."  # stored without the block's last line break
    assert (greeted["weight"], greeted["critical"], greeted["na"]) == (2, True, False)
    assert (wait["weight"], wait["critical"], wait["require_photo_on_fail"]) == (1, False, False)
    knowledge = loaded["sections"][1]["items"][1]
    assert knowledge["show_if"] == {"item": "offer", "in": ["proactive", "asked"]}
    notes = loaded["sections"][1]["items"][3]
    assert notes == {"id": "notes", "type": "text", "na": False,
                     "text": {"en": "Anything else?", "hu": "Egyéb?", "ru": "Что-то ещё?"}}


def test_minimal_file_gets_the_defaults_and_no_optional_keys():
    loaded = load_checklist_file(DATA / "minimal.yaml")
    assert list(loaded) == ["id", "languages", "title", "sections"]
    assert loaded["sections"][0]["items"][0] == {
        "id": "greeted", "type": "yesno", "text": {"en": "Greeted?"}, "weight": 1, "critical": False,
        "na": False, "require_comment_on_fail": False, "require_photo_on_fail": False,
    }


def test_yes_and_no_stay_text_in_show_if_and_option_ids():
    loaded = load_checklist_text(checklist_text(
        "- {id: x, type: yesno, text: TX, show_if: {item: base, in: [yes, no]}}\n"
        "- {id: y, type: choice, text: TX, options: [{id: no, points: 0, text: TX}, {id: on, points: 1, text: TX}]}\n"
    ))
    x, y = loaded["sections"][0]["items"][1:]
    assert x["show_if"]["in"] == ["yes", "no"]
    assert [option["id"] for option in y["options"]] == ["no", "on"]


def test_loaded_checklist_is_scored_directly():
    loaded = load_checklist_file(DATA / "full.yaml")
    assert score(loaded, {"greeted": "no"}).critical_failures == ["greeted"]


def test_unreadable_file_is_a_checklist_error(tmp_path):
    with pytest.raises(ChecklistError) as caught:
        load_checklist_file(tmp_path / "missing.yaml")
    [problem] = caught.value.problems
    assert problem.line is None
    assert str(problem) == f"{tmp_path / 'missing.yaml'}: cannot read the file (No such file or directory)"


def test_file_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("id: test\ntitle: {en: Caf\u00e9}\n".encode("latin-1"))
    with pytest.raises(ChecklistError) as caught:
        load_checklist_file(path)
    assert [str(problem) for problem in caught.value.problems] == [
        f"{path}:2: the file is not UTF-8 text (byte 0xe9 cannot be read); save it as UTF-8"
    ]


def test_data_from_code_is_checked_without_lines():
    data = yaml.safe_load(checklist_text("- {id: x, type: yesno, text: TX, weight: 0}"))
    with pytest.raises(ChecklistError) as caught:
        load_checklist_data(data, "editor")
    assert caught.value.problems == [Problem("editor", None, "item 'x': weight must be greater than 0 (got 0)")]
    assert str(caught.value) == "editor: item 'x': weight must be greater than 0 (got 0)"
    del data["sections"][0]["items"][1]["weight"]
    assert load_checklist_data(data)["sections"][0]["items"][1]["weight"] == 1


def test_validate_checklist_returns_no_problems_for_a_valid_checklist():
    assert validate_checklist(load_checklist_file(DATA / "full.yaml")) == []


# -- writing back ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["full.yaml", "minimal.yaml"])
def test_dump_then_load_gives_an_equal_dict(name):
    loaded = load_checklist_file(DATA / name)
    dumped = dump_checklist_yaml(loaded)
    assert load_checklist_text(dumped, "dumped.yaml") == loaded
    assert yaml.safe_load(dumped) == loaded  # any YAML reader sees the same data
    assert content_hash(load_checklist_text(dumped)) == content_hash(loaded)


def test_dump_is_block_style_in_documented_key_order_with_unicode_kept():
    dumped = dump_checklist_yaml(load_checklist_file(DATA / "full.yaml"))
    assert "{" not in dumped and "[" not in dumped
    assert "Проверка магазина" in dumped
    top_level_keys = [line.split(":")[0] for line in dumped.splitlines() if line[:1].isalpha()]
    assert top_level_keys == ["id", "languages", "title", "critical_cap", "bands", "dimensions", "sections"]
    assert dumped.index("  - id: greeted\n") < dumped.index("        type: yesno\n") < dumped.index("        text:\n")


@pytest.mark.parametrize("tricky", ["yes", "No", "on", "null", "~", "true", "1e3", "0.5", "007", "1:30",
                                    "2024-01-01", "- dash", "#hash", "a: b", "line one\nline two", "ends with a colon:", "'quoted'"])
def test_dump_quotes_text_that_yaml_could_read_as_something_else(tricky):
    loaded = load_checklist_file(DATA / "minimal.yaml")
    loaded["title"]["en"] = tricky
    dumped = dump_checklist_yaml(loaded)
    assert load_checklist_text(dumped) == loaded
    assert yaml.safe_load(dumped) == loaded


def test_content_hash_follows_content_not_key_order_or_number_spelling():
    loaded = load_checklist_file(DATA / "full.yaml")
    reordered = dict(reversed(list(loaded.items())))
    assert content_hash(reordered) == content_hash(loaded)
    respelled = load_checklist_file(DATA / "full.yaml")
    respelled["sections"][0]["weight"] = 40.0
    assert content_hash(respelled) == content_hash(loaded)
    changed = load_checklist_file(DATA / "full.yaml")
    changed["title"]["hu"] = "Más cím"
    assert content_hash(changed) != content_hash(loaded)
    assert len(content_hash(loaded)) == 64


# -- fuzzing: only a dict or a ChecklistError, never another exception -----------------------------

FUZZ_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FULL_TEXT = (DATA / "full.yaml").read_text(encoding="utf-8")
FULL_LINES = FULL_TEXT.splitlines(keepends=True)


def load_or_error(text):
    """The loaded dict, or None for a ChecklistError; any other exception fails the test."""
    try:
        loaded = load_checklist_text(text, "fuzz.yaml")
    except ChecklistError as error:
        assert error.problems, "a ChecklistError must name at least one problem"
        assert all(isinstance(problem.message, str) and problem.message for problem in error.problems)
        return None
    assert isinstance(loaded, dict)
    # Whatever loads must score and round-trip.
    score(loaded, {})
    assert load_checklist_text(dump_checklist_yaml(loaded)) == loaded
    return loaded


@FUZZ_SETTINGS
@given(st.text(alphabet=st.sampled_from(list("abc:-{}[]?,'\"!&*#|> \n\t0123456789.~")) | st.characters(), max_size=200))
def test_random_text_gives_a_dict_or_a_checklist_error(text):
    load_or_error(text)


@FUZZ_SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes_in_a_file_give_a_dict_or_a_checklist_error(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.yaml"
        path.write_bytes(content)
        try:
            load_checklist_file(path)
        except ChecklistError as error:
            assert error.problems


@FUZZ_SETTINGS
@given(st.sets(st.integers(0, len(FULL_LINES) - 1), min_size=1, max_size=8))
def test_deleting_lines_of_a_valid_file_gives_a_dict_or_a_checklist_error(deleted):
    load_or_error("".join(line for number, line in enumerate(FULL_LINES) if number not in deleted))


@FUZZ_SETTINGS
@given(st.integers(0, len(FULL_TEXT) - 1), st.integers(0, 5), st.text(max_size=4))
def test_editing_characters_of_a_valid_file_gives_a_dict_or_a_checklist_error(start, length, replacement):
    load_or_error(FULL_TEXT[:start] + replacement + FULL_TEXT[start + length:])


def paths_in(value, path=()):
    """Every path to a value inside nested dicts and lists."""
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths_in(child, path + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths_in(child, path + (index,))


FULL_DATA = load_checklist_file(DATA / "full.yaml")
FULL_PATHS = list(paths_in(FULL_DATA))[1:]
ANY_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 200) | st.floats() | st.text(max_size=6)
    | st.sampled_from(["yes", "na", "greeted", "offer", "yesno", "choice", "text", "en", "hu"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["id", "type", "text", "en", "min", "max", "points", "item", "in", "weight"]) | st.text(max_size=3),
        children, max_size=3),
    max_leaves=6,
)


@FUZZ_SETTINGS
@given(st.lists(st.tuples(st.sampled_from(FULL_PATHS), st.booleans(), ANY_VALUE), min_size=1, max_size=3))
def test_mutating_the_data_of_a_valid_file_gives_a_dict_or_a_checklist_error(mutations):
    data = copy.deepcopy(FULL_DATA)
    for path, delete, value in mutations:
        parent = data
        try:
            for step in path[:-1]:
                parent = parent[step]
            if delete:
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    load_or_error(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    assert isinstance(validate_checklist(data), list)  # the same data straight from code


# -- the shipped checklist library ----------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.yaml")), ids=lambda path: path.name)
def test_shipped_checklist_validates_and_has_25_to_45_items(path):
    loaded = load_checklist_file(path)
    item_count = sum(len(section["items"]) for section in loaded["sections"])
    assert 25 <= item_count <= 45, f"{path.name} has {item_count} items"
    assert set(loaded["languages"]) == {"en", "hu", "bg", "et", "ro", "ru"}
    assert load_checklist_text(dump_checklist_yaml(loaded)) == loaded


def test_a_free_text_or_a_photo_may_be_required_and_a_scored_item_is_so_already():
    """A shelf's photo the client pays for: without `required` the visit went through without it."""
    loaded = load_checklist_text(checklist_text("""\
        - {id: shelf, type: photo, required: true, text: TX}
        - {id: notes, type: text, required: false, text: TX}
        - {id: other, type: photo, text: TX}
    """))
    items = {item["id"]: item for item in loaded["sections"][0]["items"]}
    assert items["shelf"]["required"] is True
    # Only when set: the files without it keep their content, and their version, as they were.
    assert "required" not in items["notes"] and "required" not in items["other"] and "required" not in items["base"]
    with pytest.raises(ChecklistError) as refused:
        load_checklist_text(checklist_text("- {id: asked, type: yesno, required: true, text: TX}\n"))
    assert "key 'required' is not allowed on a yesno item" in str(refused.value)
    with pytest.raises(ChecklistError) as not_a_flag:
        load_checklist_text(checklist_text("- {id: shelf, type: photo, required: sure, text: TX}\n"))
    assert "required must be true or false (got 'sure')" in str(not_a_flag.value)


def test_an_exported_shipped_checklist_keeps_each_long_text_on_its_line():
    """Wrapped at 100 characters mid-sentence, an exported version compared with its shipped file
    differed on every long text; now most long lines come back exactly as written (the rest differ
    only in quoting)."""
    for path in sorted(Path(__file__).resolve().parent.parent.glob("checklists/*.yaml")):
        exported = {line.strip() for line in dump_checklist_yaml(load_checklist_file(path)).splitlines()}
        long_lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if len(line) > 100]
        assert long_lines and sum(line in exported for line in long_lines) >= 0.95 * len(long_lines), path


def test_a_text_direction_override_in_a_file_is_named_with_its_line():
    """A right-to-left override (U+202E) pasted into a question turned the rest of its line around."""
    text = (DATA / "minimal.yaml").read_text(encoding="utf-8").replace('"Greeted?"', '"Greeted \u202e?"')
    with pytest.raises(ChecklistError) as refused:
        load_checklist_text(text, "rtl.yaml")
    assert "holds a control character (such as a text direction override)" in str(refused.value)
    assert [problem.line for problem in refused.value.problems] == [8]


def test_a_language_taken_out_of_languages_is_one_problem_not_one_per_text():
    """Taking 'en' out of a shipped checklist's languages gave some 130 lines, one per text."""
    path = sorted(Path(__file__).resolve().parent.parent.glob("checklists/*.yaml"))[0]
    text = path.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith("languages:"))
    without_english = text.replace(line, line.replace("en, ", ""), 1)
    with pytest.raises(ChecklistError) as refused:
        load_checklist_text(without_english, path.name)
    problems = refused.value.problems
    assert len(problems) == 1, [str(problem) for problem in problems[:5]]
    assert re.search(r"\d{3} texts have a translation in 'en', which is not one of the checklist's languages "
                     r"\(hu, bg, et, ro, ru\): add it to languages, or remove those translations", problems[0].message)


def test_a_quote_left_open_is_named_on_its_own_line():
    """A help text whose closing quote was lost ran on into the next line's quote: the parser then
    said the line after it was "indented unlike the lines around it", which it was not."""
    path = sorted(Path(__file__).resolve().parent.parent.glob("checklists/*.yaml"))[0]
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(n for n, line in enumerate(lines, 1)
                  if line.strip().startswith("en: '") and line.endswith("'") and lines[n].strip().startswith("hu: '"))
    lines[number - 1] = lines[number - 1][:-1]
    with pytest.raises(ChecklistError) as refused:
        load_checklist_text("\n".join(lines) + "\n", path.name)
    assert [(problem.line, problem.message) for problem in refused.value.problems] == [
        (number, "YAML syntax error: a quoted text is not closed with its quote")]


def test_a_unit_may_give_its_plural_forms_or_one_text_per_language():
    """A language's unit is a text for every number, or its CLDR plural forms, kept in CLDR's order; forms
    of `other` alone are that text. The file written back has the forms on one line and loads the same."""
    text = checklist_text(items="""\
        - id: visits
          type: number
          text: TX
          thresholds: [{max: 3, points: 1}]
          unit:
            en: {other: times, one: time}
            hu: {other: alkalom}
        """)
    checklist = load_checklist_text(text)
    unit = checklist["sections"][0]["items"][1]["unit"]
    assert unit == {"en": {"one": "time", "other": "times"}, "hu": "alkalom"}
    assert list(unit["en"]) == ["one", "other"]
    dumped = dump_checklist_yaml(checklist)
    assert "      en: {one: time, other: times}\n          hu: alkalom\n" in dumped
    assert load_checklist_text(dumped) == checklist
    plain = load_checklist_text(text.replace("{other: alkalom}", "alkalom"))
    assert content_hash(plain) == content_hash(checklist)


def test_russian_unit_takes_its_four_forms():
    text = (HEAD.replace("[en, hu]", "[en, ru]").replace("hu: Teszt", "ru: Тест") + MAIN_SECTION.replace("hu: Fő", "ru: О")
            .replace("hu: Alap", "ru: Б") + textwrap.indent(textwrap.dedent("""\
        - id: visits
          type: number
          text: {en: X, ru: X}
          thresholds: [{max: 3, points: 1}]
          unit:
            en: times
            ru: {one: раз, few: раза, many: раз, other: раза}
        """), " " * 6))
    unit = load_checklist_text(text)["sections"][0]["items"][1]["unit"]
    assert unit["ru"] == {"one": "раз", "few": "раза", "many": "раз", "other": "раза"}
    with pytest.raises(ChecklistError) as error:
        load_checklist_text(text.replace("few: раза", "two: раза"), "visit.yaml")
    assert str(error.value) == ("visit.yaml:15: item 'visits': unit in 'ru' has the plural form 'two', which numbers "
                                "in 'ru' do not take (its forms: one, few, many, other)")
