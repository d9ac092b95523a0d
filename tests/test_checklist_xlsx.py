"""Tests of the translators' spreadsheet: export, import of edited cells, and files that cannot be used."""

import copy
import io
import zipfile
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
    keys = [cell.value for cell in sheet["A"]][1:]
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
    assert open_sheet(data)["C2"].data_type == "s"
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


def test_the_exported_texts_sheet_is_hidden(exported):
    book = openpyxl.load_workbook(io.BytesIO(exported))
    assert book.sheetnames == ["texts", "exported"]
    assert (book["texts"].sheet_state, book["exported"].sheet_state) == ("visible", "hidden")


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
    assert ("C1", "The column 'notes' is not one of this checklist's languages (en, hu, bg, et, ro, ru).") in report.problems
    assert ("A1", "The header row has no language column (en, hu, bg, et, ro, ru), so there is nothing to "
                  "import; use the header row of the exported file.") in report.problems
    assert result == checklist


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
    assert report.problems == [("E1", "The language 'ro' is not one of this checklist's languages (en, hu).")]
    assert result == checklist


def test_missing_language_column_leaves_that_language_unchanged():
    checklist = small_checklist()
    sheet = open_sheet(export_texts_xlsx(checklist))
    sheet.delete_cols(column_of(sheet, "hu"))
    sheet["C2"] = "Smaller"
    result, report = import_texts_xlsx(checklist, saved(sheet))
    assert (report.changed, report.problems) == (1, [])
    assert result["title"] == {"en": "Smaller", "hu": "Kicsi"}


def test_imported_checklist_is_still_a_valid_checklist(checklist, exported):
    sheet = open_sheet(exported)
    hungarian = column_of(sheet, "hu")
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row=row, column=hungarian).value = f"  Szöveg {row}\n"
    result, report = import_texts_xlsx(checklist, saved(sheet))
    assert report.changed == sheet.max_row - 1
    assert report.problems == []
    assert load_checklist_data(result) == result
    assert result["title"]["hu"] == "Szöveg 2"


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
