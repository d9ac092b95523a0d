"""Tests of the translators' spreadsheet: export, import of edited cells, and files that cannot be used."""

import copy
import io
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.checklist import load_checklist_data, load_checklist_file
from audit.checklist.xlsx import (
    MAX_ROWS,
    NOT_XLSX,
    export_texts_xlsx,
    import_texts_xlsx,
    translatable_texts,
)

SHIPPED = Path(__file__).parent.parent / "checklists"
RETAIL = SHIPPED / "retail-store-visit.yaml"


@pytest.fixture(scope="module")
def checklist():
    return load_checklist_file(RETAIL)


@pytest.fixture(scope="module")
def exported(checklist):
    return export_texts_xlsx(checklist)


def open_sheet(data):
    return openpyxl.load_workbook(io.BytesIO(data))["texts"]


def saved(sheet):
    output = io.BytesIO()
    sheet.parent.save(output)
    return output.getvalue()


def column_of(sheet, header):
    return next(cell.column for cell in sheet[1] if cell.value == header)


def row_of(sheet, key):
    return next(cell.row for cell in sheet["A"] if cell.value == key)


def edited(exported, key, language, value):
    """The exported file with the cell of (key, language) set to value, and that cell's reference."""
    sheet = open_sheet(exported)
    cell = sheet.cell(row=row_of(sheet, key), column=column_of(sheet, language))
    cell.value = value
    return saved(sheet), cell.coordinate


def small_checklist(**changes):
    data = {
        "id": "small",
        "languages": ["en", "hu"],
        "title": {"en": "Small", "hu": "Kicsi"},
        "sections": [{
            "id": "main",
            "title": {"en": "Main", "hu": "Fő"},
            "items": [{"id": "greeted", "type": "yesno", "text": {"en": "Greeted?", "hu": "Köszöntötték?"}}],
        }],
    }
    data.update(changes)
    return load_checklist_data(data)


# -- export ----------------------------------------------------------------------------------------


def test_export_has_key_context_and_one_column_per_language(checklist, exported):
    sheet = open_sheet(exported)
    header = [cell.value for cell in sheet[1]]
    assert header == ["key", "context", "en", "hu", "bg", "et", "ro", "ru"]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["C"].width >= 40
    assert sheet["C2"].alignment.wrap_text


def test_export_names_every_text_with_a_stable_key(checklist, exported):
    sheet = open_sheet(exported)
    keys = [cell.value for cell in sheet["A"]][2:]  # after the header and the row naming the checklist
    assert len(keys) == len(set(keys)) == len(list(translatable_texts(checklist)))
    for key in ("title", "band:90", "dimension:care", "section:arrival:title", "item:greeted:text",
                "item:greeted:help", "item:additional_offer:option:proactive", "item:times_repeated:unit"):
        assert key in keys
    row = row_of(sheet, "item:greeted:text")
    assert sheet.cell(row=row, column=2).value == "Item text (section greeting_needs)"
    assert sheet.cell(row=row, column=column_of(sheet, "hu")).value == checklist_text(checklist, "greeted", "hu")


def checklist_text(checklist, item_id, language):
    items = [item for section in checklist["sections"] for item in section["items"]]
    return next(item for item in items if item["id"] == item_id)["text"][language]


def test_text_starting_with_equals_is_exported_as_text_not_formula():
    checklist = small_checklist(title={"en": "=HYPERLINK(\"http://x\")", "hu": "Kicsi"})
    data = export_texts_xlsx(checklist)
    sheet = open_sheet(data)
    assert sheet.cell(row=row_of(sheet, "title"), column=column_of(sheet, "en")).data_type == "s"
    result, report = import_texts_xlsx(checklist, data)
    assert report.changed == 0 and report.problems == []
    assert result == checklist


# -- import ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.yaml")), ids=lambda path: path.stem)
def test_round_trip_changes_nothing(path):
    checklist = load_checklist_file(path)
    result, report = import_texts_xlsx(checklist, export_texts_xlsx(checklist))
    assert (report.changed, report.unknown_keys, report.problems) == (0, [], [])
    assert result == checklist
    assert result is not checklist


def test_editing_one_hungarian_cell_changes_exactly_that_text(checklist, exported):
    data, _ref = edited(exported, "item:greeted:text", "hu", "  Köszöntötték Önt belépéskor?  ")
    result, report = import_texts_xlsx(checklist, data)
    expected = copy.deepcopy(checklist)
    greeting = next(section for section in expected["sections"] if section["id"] == "greeting_needs")
    greeting["items"][0]["text"]["hu"] = "Köszöntötték Önt belépéskor?"
    assert (report.changed, report.unknown_keys, report.problems) == (1, [], [])
    assert result == expected


def _greeting(checklist):
    return next(section for section in checklist["sections"] if section["id"] == "greeting_needs")["items"][0]


def test_a_text_edited_in_the_checklist_after_the_export_is_not_put_back_by_an_untouched_cell(checklist, exported):
    """The auditor rewords a question after sending the sheet out; the translator changes another
    text. The import applies the translator's cell only: the untouched cells are as exported."""
    reworded = copy.deepcopy(checklist)
    _greeting(reworded)["text"]["en"] = "Did a staff member greet you within 30 seconds?"
    data, _ref = edited(exported, "item:smile_eye_contact:text", "hu", "Mosolyogtak Önre?")

    result, report = import_texts_xlsx(reworded, data)

    assert (report.changed, report.kept, report.problems) == (1, [], [])
    assert _greeting(result)["text"]["en"] == "Did a staff member greet you within 30 seconds?"
    smile = next(item for section in result["sections"] for item in section["items"] if item["id"] == "smile_eye_contact")
    assert smile["text"]["hu"] == "Mosolyogtak Önre?"


def test_a_text_changed_on_both_sides_keeps_the_checklists_and_says_so(checklist, exported):
    reworded = copy.deepcopy(checklist)
    _greeting(reworded)["text"]["hu"] = "Köszöntötték Önt 30 másodpercen belül?"
    data, ref = edited(exported, "item:greeted:text", "hu", "Köszöntötték Önt belépéskor?")

    result, report = import_texts_xlsx(reworded, data)

    assert (report.changed, report.kept, report.problems) == (0, [(ref, "item:greeted:text", "hu")], [])
    assert result == reworded


def test_a_sheet_without_the_exported_texts_applies_every_changed_cell(checklist, exported):
    """A translator may paste the texts into a workbook of their own: then each cell that differs is
    their edit, as before the exported texts were kept in the file."""
    book = openpyxl.load_workbook(io.BytesIO(exported))
    del book["exported"]
    book["texts"].cell(row=row_of(book["texts"], "title"), column=column_of(book["texts"], "hu")).value = "Új cím"
    output = io.BytesIO()
    book.save(output)
    reworded = copy.deepcopy(checklist)
    _greeting(reworded)["text"]["en"] = "Did a staff member greet you within 30 seconds?"

    result, report = import_texts_xlsx(reworded, output.getvalue())

    assert report.changed == 2 and result["title"]["hu"] == "Új cím"
    assert _greeting(result)["text"]["en"] == _greeting(checklist)["text"]["en"]


BANK = SHIPPED / "bank-branch-visit.yaml"


@pytest.fixture(scope="module")
def bank():
    return load_checklist_file(BANK)


def copied_into_a_new_workbook(data, keep=lambda values: True):
    """The visible sheet's rows pasted into a workbook of the translator's own: no hidden sheet, no
    properties, the sheet called "Sheet"."""
    book = openpyxl.Workbook()
    for values in open_sheet(data).iter_rows(values_only=True):
        if keep(values):
            book.active.append(values)
    return saved(book.active)


def as_exported_before_it_named_its_checklist(data):
    """The file as the release before exported it: no row naming the checklist, no identifier."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        assert sheet["A2"].value.startswith("checklist:")
        sheet.delete_rows(2)
    book.properties.identifier = None
    return saved(book.active)


def test_the_spreadsheet_names_its_checklist_where_the_translator_sees_it_and_where_they_do_not(exported):
    book = openpyxl.load_workbook(io.BytesIO(exported))
    assert [book["texts"]["A2"].value, book["texts"]["B2"].value] == [
        "checklist:retail-store-visit", "The checklist these texts are for: keep this row as it is."]
    assert book["exported"]["A2"].value == "checklist:retail-store-visit"
    assert book.properties.identifier == "retail-store-visit"


OTHER_CHECKLIST = ("This spreadsheet is for the checklist “retail-store-visit”, not “bank-branch-visit”: nothing was "
                   "changed. Import it into the draft of “retail-store-visit”, or export this checklist's texts.")


def without_the_checklist_row(data):
    sheet = open_sheet(data)
    sheet.delete_rows(row_of(sheet, "checklist:retail-store-visit"))
    return saved(sheet)


@pytest.mark.parametrize("as_sent", [
    lambda data: data,
    copied_into_a_new_workbook,  # the row is all that says so
    without_the_checklist_row,  # the hidden sheet and the workbook's identifier say so
], ids=["as-exported", "copied-into-a-new-workbook", "checklist-row-deleted"])
def test_another_checklists_spreadsheet_is_refused_and_changes_nothing(checklist, exported, bank, as_sent):
    """QA: the retail checklist's sheet, its hidden sheet deleted, went into the bank checklist's draft:
    "206 texts updated", the bank's title and every shared item id (greeted...) in retail wording."""
    data, _ref = edited(exported, "item:greeted:text", "hu", "Köszöntötték Önt belépéskor?")
    result, report = import_texts_xlsx(bank, as_sent(data))
    assert report.problems == [(None, OTHER_CHECKLIST)]
    assert (report.changed, report.unknown_keys, report.kept) == (0, [], [])
    assert result == bank


def test_a_sheet_naming_another_checklist_anywhere_is_refused(checklist, exported, bank):
    """The bank's own export, with the retail sheet's rows pasted over its texts: the row names retail."""
    book = openpyxl.load_workbook(io.BytesIO(export_texts_xlsx(bank)))
    book["texts"]["A2"] = "checklist:retail-store-visit"
    result, report = import_texts_xlsx(bank, saved(book["texts"]))
    assert report.problems == [(None, OTHER_CHECKLIST)]
    assert result == bank


@pytest.mark.parametrize("as_sent", [
    as_exported_before_it_named_its_checklist,
    lambda data: copied_into_a_new_workbook(as_exported_before_it_named_its_checklist(data)),
    lambda data: copied_into_a_new_workbook(data, keep=lambda values: not str(values[0]).startswith("checklist:")),
], ids=["export-of-the-release-before", "its-rows-copied", "checklist-row-left-out"])
def test_a_sheet_that_does_not_name_its_checklist_imports_into_the_checklist_of_its_title(checklist, exported, as_sent):
    data, _ref = edited(exported, "item:greeted:text", "hu", "Köszöntötték Önt belépéskor?")
    result, report = import_texts_xlsx(checklist, as_sent(data))
    assert (report.changed, report.unknown_keys, report.problems) == (1, [], [])
    assert _greeting(result)["text"]["hu"] == "Köszöntötték Önt belépéskor?"


def test_an_older_export_whose_title_the_translator_rewrote_is_known_by_its_hidden_sheet(checklist, exported):
    data, _ref = edited(exported, "title", "en", "Retail store visit (2027)")
    result, report = import_texts_xlsx(checklist, as_exported_before_it_named_its_checklist(data))
    assert (report.changed, report.problems) == (1, [])
    assert result["title"]["en"] == "Retail store visit (2027)"


@pytest.mark.parametrize("as_sent", [
    as_exported_before_it_named_its_checklist,
    lambda data: copied_into_a_new_workbook(as_exported_before_it_named_its_checklist(data)),
], ids=["export-of-the-release-before", "its-rows-copied"])
def test_a_sheet_that_does_not_name_its_checklist_and_has_another_title_is_refused(exported, bank, as_sent):
    result, report = import_texts_xlsx(bank, as_sent(exported))
    assert report.problems == [(None, "This spreadsheet does not say which checklist it is for, and its title "
                                      "“Retail store visit” is not this checklist's: nothing was changed. Copy the "
                                      "translations into the spreadsheet exported for this checklist and import that.")]
    assert (report.changed, report.unknown_keys) == (0, [])
    assert result == bank


def test_a_sheet_naming_no_checklist_is_known_by_its_source_title_else_by_another(checklist, exported):
    """The source language's title decides when the sheet has it: checklists may share a title in
    another language. A sheet with only the Hungarian column is known by its Hungarian title."""
    data, _ref = edited(exported, "item:greeted:text", "hu", "Köszöntötték Önt belépéskor?")
    hungarian_only = copied_into_a_new_workbook(
        data, keep=lambda values: not str(values[0]).startswith("checklist:"))
    sheet = openpyxl.load_workbook(io.BytesIO(hungarian_only)).active
    for language in ("ru", "ro", "et", "bg", "en"):
        sheet.delete_cols(column_of(sheet, language))
    result, report = import_texts_xlsx(checklist, saved(sheet))
    assert (report.changed, report.problems) == (1, [])

    renamed = copy.deepcopy(checklist)
    renamed["title"]["en"] = "Retail store visit 2027"  # the Hungarian title is still the sheet's
    result, report = import_texts_xlsx(renamed, as_exported_before_it_named_its_checklist(data))
    assert report.problems and "its title “Retail store visit” is not this checklist's" in report.problems[0][1]
    assert result == renamed


def test_a_sheet_that_names_no_checklist_and_has_no_title_is_refused(checklist, exported):
    """Rows of another checklist whose keys are this one's too (greeted...) cannot be told apart: refused."""
    data, _ref = edited(exported, "item:greeted:text", "hu", "Köszöntötték Önt belépéskor?")
    sent = copied_into_a_new_workbook(data, keep=lambda values: values[0] in ("key", "item:greeted:text"))
    result, report = import_texts_xlsx(checklist, sent)
    assert report.problems == [(None, "This spreadsheet does not say which checklist it is for, and has no title "
                                      "to tell: nothing was changed. Copy the translations into the spreadsheet "
                                      "exported for this checklist and import that.")]
    assert result == checklist


def test_the_exported_texts_sheet_is_hidden(exported):
    book = openpyxl.load_workbook(io.BytesIO(exported))
    assert book.sheetnames == ["texts", "exported"]
    assert (book["texts"].sheet_state, book["exported"].sheet_state) == ("visible", "hidden")


def text_of(checklist, key, language):
    return next(text for text in translatable_texts(checklist) if text.key == key).texts[language]


@pytest.mark.parametrize("key", ["title", "band:90", "dimension:care", "section:arrival:title",
                                 "item:additional_offer:option:proactive", "item:times_repeated:unit"])
def test_a_line_break_in_a_text_shown_on_one_line_becomes_a_space_and_is_named(checklist, exported, key):
    """QA: a line break in a title, label, option or unit came in, though it is shown on one line."""
    data, ref = edited(exported, key, "hu", "Első sor \r\n\n  második sor\u2028harmadik")
    result, report = import_texts_xlsx(checklist, data)
    assert (report.changed, report.problems, report.joined) == (1, [], [(ref, key, "hu")])
    assert text_of(result, key, "hu") == "Első sor második sor harmadik"


@pytest.mark.parametrize("key", ["item:greeted:text", "item:greeted:help"])
def test_a_question_and_its_help_keep_their_line_breaks(checklist, exported, key):
    data, _ref = edited(exported, key, "hu", "Első sor\nmásodik sor")
    result, report = import_texts_xlsx(checklist, data)
    assert (report.changed, report.problems, report.joined) == (1, [], [])
    assert text_of(result, key, "hu") == "Első sor\nmásodik sor"


def test_a_title_only_broken_into_lines_changes_nothing(checklist, exported):
    data, _ref = edited(exported, "title", "en", "Retail store\nvisit")
    result, report = import_texts_xlsx(checklist, data)
    assert (report.changed, report.problems, report.joined) == (0, [], [])
    assert result == checklist


def test_import_leaves_the_given_checklist_alone(checklist, exported):
    before = copy.deepcopy(checklist)
    data, _ref = edited(exported, "title", "hu", "Új cím")
    import_texts_xlsx(checklist, data)
    assert checklist == before


@pytest.mark.parametrize("value", [None, "", "   ", "\n\t"], ids=["none", "empty", "spaces", "blank"])
def test_empty_cell_keeps_the_existing_translation(checklist, exported, value):
    data, _ref = edited(exported, "item:greeted:text", "hu", value)
    result, report = import_texts_xlsx(checklist, data)
    assert (report.changed, report.problems) == (0, [])
    assert result == checklist


def test_unknown_key_is_reported_with_its_cell_and_nothing_changes(checklist, exported):
    sheet = open_sheet(exported)
    sheet.append(["item:no_such_item:text", "", "Invented", "Kitalált"])
    result, report = import_texts_xlsx(checklist, saved(sheet))
    assert report.unknown_keys == [(f"A{sheet.max_row}", "item:no_such_item:text")]
    assert (report.changed, report.problems) == (0, [])
    assert result == checklist


def test_key_listed_twice_is_reported_and_nothing_is_imported(checklist, exported):
    sheet = open_sheet(exported)
    first = row_of(sheet, "title")
    sheet.append(["title", "", "Another title"])
    result, report = import_texts_xlsx(checklist, saved(sheet))
    assert report.problems == [(f"A{sheet.max_row}", f"The key 'title' is also in row {first}.")]
    assert result == checklist


@pytest.mark.parametrize("value, says", [
    (5, "The cell holds the number 5, not text"),
    (2.5, "The cell holds the number 2.5, not text"),
    (True, "The cell holds the true/false value TRUE, not text"),
    # "1-5" typed in a cell that was not text: the spreadsheet made it a date.
    (datetime(2026, 1, 5), "The cell holds the date January 5, 2026, not text"),
])
def test_non_text_cell_is_reported_and_keeps_the_text(checklist, exported, value, says):
    data, ref = edited(exported, "item:times_repeated:unit", "hu", value)
    result, report = import_texts_xlsx(checklist, data)
    assert len(report.problems) == 1
    assert report.problems[0][0] == ref
    assert report.problems[0][1].startswith(says)
    assert report.changed == 0
    assert result == checklist


def test_formula_cell_is_reported(checklist, exported):
    data, ref = edited(exported, "title", "hu", "=A1")
    result, report = import_texts_xlsx(checklist, data)
    assert report.problems == [(ref, "The cell holds a formula; type the text itself (start it with an "
                                     "apostrophe if it begins with =).")]
    assert result == checklist


@pytest.mark.parametrize("data", [
    b"PK\x03\x04garbage",
    b"key,context,en\ntitle,,Retail store visit\n",
    b"",
    b"PK\x05\x06" + bytes(18),  # an empty zip archive
], ids=["broken-zip", "plain-text", "empty", "empty-zip"])
def test_file_that_is_not_xlsx_gives_a_problem(checklist, data):
    result, report = import_texts_xlsx(checklist, data)
    assert report.problems == [(None, NOT_XLSX)]
    assert result == checklist


def test_zip_that_is_not_a_workbook_gives_a_problem(checklist):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("notes.txt", "hello")
    result, report = import_texts_xlsx(checklist, archive.getvalue())
    assert report.problems == [(None, NOT_XLSX)]
    assert result == checklist


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=20))
def test_damaged_file_never_raises(checklist, exported, damage):
    data = bytearray(exported)
    for position, byte in damage:
        data[position % len(data)] = byte
    result, _report = import_texts_xlsx(checklist, bytes(data))
    assert load_checklist_data(result) == result


def test_file_over_5_mb_is_refused(checklist):
    _result, report = import_texts_xlsx(checklist, b"PK\x03\x04" + bytes(5 * 1024 * 1024))
    assert report.problems == [(None, "The file is larger than 5 MB; a translation file is far smaller.")]


def test_sheet_with_too_many_rows_is_refused(checklist):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "texts"
    sheet.append(["key", "context", "en"])
    for number in range(MAX_ROWS):
        sheet.append([f"item:x{number}:text", "", "text"])
    result, report = import_texts_xlsx(checklist, saved(sheet))
    assert report.problems == [(None, f"The worksheet has more than {MAX_ROWS} rows; a translation file "
                                      "has one row per text.")]
    assert report.unknown_keys == []
    assert result == checklist


def test_header_without_language_columns_is_reported(checklist, exported):
    sheet = open_sheet(exported)
    for cell in sheet[1][2:]:
        cell.value = None
    sheet["C1"] = "notes"
    result, report = import_texts_xlsx(checklist, saved(sheet))
    assert report.problems == [("A1", "The header row has no language column (en, hu, bg, et, ro, ru), so there is "
                                      "nothing to import; use the header row of the exported file.")]
    assert result == checklist


@pytest.mark.parametrize("header, shown", [("notes", "notes"), (" Reviewer ", "Reviewer"), (2027, "the number 2027")])
def test_a_column_of_the_translators_own_is_left_out_and_named(checklist, exported, header, shown):
    """QA: a 'notes' column refused the whole spreadsheet, though the file may hold a few."""
    data, _ref = edited(exported, "item:greeted:text", "hu", "Köszöntötték Önt belépéskor?")
    sheet = open_sheet(data)
    notes = sheet.max_column + 1
    sheet.cell(row=1, column=notes).value = header
    sheet.cell(row=row_of(sheet, "title"), column=notes).value = "check with the client"
    result, report = import_texts_xlsx(checklist, saved(sheet))
    assert (report.changed, report.problems) == (1, [])
    assert report.ignored_columns == [("I1", shown)]
    assert _greeting(result)["text"]["hu"] == "Köszöntötték Önt belépéskor?"
    assert result["title"] == checklist["title"]


def test_header_without_key_column_is_reported(checklist, exported):
    sheet = open_sheet(exported)
    sheet["A1"] = "id"
    _result, report = import_texts_xlsx(checklist, saved(sheet))
    assert any(ref == "A1" and "no 'key' column" in message for ref, message in report.problems)


def test_language_the_checklist_lacks_is_reported_and_nothing_is_imported():
    checklist = small_checklist()
    sheet = open_sheet(export_texts_xlsx(checklist))
    sheet["E1"] = "ro"
    sheet["E2"] = "Mic"
    result, report = import_texts_xlsx(checklist, saved(sheet))
    assert report.problems == [("E1", "The language 'ro' is not one of this checklist's languages (en, hu): add it "
                                      "to the draft first (“Add a language”), then import the spreadsheet again.")]
    assert result == checklist


def test_missing_language_column_leaves_that_language_unchanged():
    checklist = small_checklist()
    sheet = open_sheet(export_texts_xlsx(checklist))
    sheet.delete_cols(column_of(sheet, "hu"))
    sheet.cell(row=row_of(sheet, "title"), column=column_of(sheet, "en")).value = "Smaller"
    result, report = import_texts_xlsx(checklist, saved(sheet))
    assert (report.changed, report.problems) == (1, [])
    assert result["title"] == {"en": "Smaller", "hu": "Kicsi"}


def test_imported_checklist_is_still_a_valid_checklist(checklist, exported):
    sheet = open_sheet(exported)
    hungarian = column_of(sheet, "hu")
    for row in range(3, sheet.max_row + 1):  # after the header and the row naming the checklist
        sheet.cell(row=row, column=hungarian).value = f"  Szöveg {row}\n"
    result, report = import_texts_xlsx(checklist, saved(sheet))
    assert report.changed == sheet.max_row - 2
    assert report.problems == []
    assert load_checklist_data(result) == result
    assert result["title"]["hu"] == "Szöveg 3"


def test_mutated_spreadsheets_never_raise_and_never_change_more_than_texts():
    """Hostile input: random byte flips and cuts of a real export give a report, never an exception."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from audit.checklist import load_checklist_file
    from audit.checklist.xlsx import export_texts_xlsx, import_texts_xlsx

    checklist = load_checklist_file(Path(__file__).resolve().parent.parent / "checklists" / "retail-store-visit.yaml")
    original = export_texts_xlsx(checklist)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)), max_size=8),
           st.integers(0, len(original)))
    def check(flips, cut):
        data = bytearray(original[:cut] if cut > 100 else original)
        for position, value in flips:
            if position < len(data):
                data[position] = value
        result, report = import_texts_xlsx(checklist, bytes(data))
        ids = lambda c: [(s["id"], [i["id"] for i in s["items"]]) for s in c["sections"]]  # noqa: E731
        assert ids(result) == ids(checklist)
        assert report.problems or report.changed >= 0

    check()


# -- a unit's plural forms -------------------------------------------------------------------------


def _unit(checklist, item_id="times_repeated"):
    return next(item["unit"] for section in checklist["sections"] for item in section["items"] if item["id"] == item_id)


def test_a_units_forms_are_one_cell_per_language_and_a_plain_unit_its_text(checklist, exported):
    sheet = open_sheet(exported)
    row = row_of(sheet, "item:times_repeated:unit")
    cells = {language: sheet.cell(row=row, column=column_of(sheet, language)).value for language in ("en", "hu", "ru")}
    assert cells == {"en": "one: time | other: times", "hu": "alkalom",
                     "ru": "one: раз | few: раза | many: раз | other: раза"}


def test_a_units_forms_come_back_from_the_spreadsheet_labelled_or_in_order(checklist, exported):
    """A translator writes the forms labelled, or in the order of the language's forms; a plain unit
    given forms gets them; the cells left as exported change nothing."""
    data, _ref = edited(exported, "item:times_repeated:unit", "en", "time | times!")
    result, report = import_texts_xlsx(checklist, data)
    assert (report.changed, report.problems) == (1, [])
    assert _unit(result)["en"] == {"one": "time", "other": "times!"}
    assert {language: unit for language, unit in _unit(result).items() if language != "en"} == {
        language: unit for language, unit in _unit(checklist).items() if language != "en"}
    data, _ref = edited(exported, "item:times_repeated:unit", "hu", "one: alkalom | other: alkalmak")
    result, report = import_texts_xlsx(checklist, data)
    assert _unit(result)["hu"] == {"one": "alkalom", "other": "alkalmak"}
    assert load_checklist_data(result)  # still a valid checklist
    data, _ref = edited(exported, "item:times_repeated:unit", "ru", "other: раза | one: раз | few: раза | many: раз")
    result, report = import_texts_xlsx(checklist, data)
    assert (report.changed, result) == (0, checklist)  # the same forms, written in another order


@pytest.mark.parametrize("value, says", [
    ("time | times | timez", "Numbers in this language take 2 forms (one, other): write them in this order, "
                             "separated by |, or label them, like “one: … | other: …”."),
    ("one: time | few: times | other: times", "Numbers in this language take no form “few” (their forms: one, other)."),
    ("one: time", "Give the form “other” too: numbers with no form of their own take it."),
    ("one: time | times", "Label every form, like “one: … | other: …”, or write the forms in the order one, other "
                          "without labels."),
    ("one: | other: times", "The form “one” is empty: write its text, or leave the form out."),
])
def test_a_unit_cell_that_cannot_be_read_is_reported_and_keeps_the_unit(checklist, exported, value, says):
    data, ref = edited(exported, "item:times_repeated:unit", "en", value)
    result, report = import_texts_xlsx(checklist, data)
    assert report.problems == [(ref, says)]
    assert (report.changed, result) == (0, checklist)
