"""The translators' spreadsheet: every text of a checklist as one row, one column per language.

A translator gets the XLSX from `export_texts_xlsx`, fills in or corrects the language columns and
sends it back; `import_texts_xlsx` copies the texts into a copy of the checklist and reports what it
could not use. Only texts ever change: ids, types, numbers and order come from the checklist, never
from the file, so a spreadsheet cannot break scoring.

The workbook also carries, in a hidden sheet, the texts as they were when it was exported. An import
then applies only the cells the translator changed: a text edited in the checklist after the export
is not put back to its old wording by an untouched cell, and one both sides changed keeps the
checklist's wording and is reported (ImportReport.kept).

Each row is found by its key, a stable path that names one text:
`title`, `band:90`, `dimension:care`, `section:welcome:title`, `item:greeted:text`,
`item:greeted:help`, `item:offer:option:proactive`, `item:products:unit`.
Item ids are unique across a checklist, so item keys need no section.

The spreadsheet says which checklist it is for, so that one checklist's translations cannot overwrite
another's texts (their item ids are often the same: greeted, opening_hours...): a row keyed
`checklist:<id>` right under the header, which travels with the rows when a translator copies them
into a workbook of their own, the same row in the hidden sheet, and the workbook's identifier property.

The file comes from outside, so reading it never raises: a broken or hostile file becomes a problem
in the report and the checklist comes back unchanged.
"""

import copy
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import openpyxl
from babel.dates import format_date
from flask_babel import get_locale, gettext, lazy_gettext
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .format import LANGUAGES
from .units import UnitTextError, unit_as_text, unit_from_text

# The sheet title and the headers are read back by name, so they stay untranslated: a file exported
# in one language must import in any other.
SHEET_TITLE = "texts"
EXPORTED_SHEET_TITLE = "exported"  # hidden: the texts as exported, to tell the translator's edits apart
KEY_HEADER = "key"
CONTEXT_HEADER = "context"
CHECKLIST_KEY_PREFIX = "checklist:"  # the key of the row naming the checklist: checklist:<id>
# An id or a header read from a file is shown in a message, which travels in the session cookie: a
# crafted one is cut (real ones are far shorter).
_SHOWN_LENGTH = 80

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# A 5 MB zip can inflate to gigabytes, and openpyxl reads some parts (shared strings) whole, so the
# sizes the zip declares are checked before openpyxl sees it. Real translation files stay far below.
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
# Enough for key, context, the six languages and a few notes columns; caps work on a crafted sheet.
MAX_COLUMNS = 64

# Lazy: it is defined at import, outside any request, and translated when it becomes the message.
NOT_XLSX = lazy_gettext("The file is not an Excel workbook (.xlsx); save it from Excel or LibreOffice as .xlsx.")

_KEY_WIDTH = 34
_CONTEXT_WIDTH = 36
_LANGUAGE_WIDTH = 50


@dataclass(frozen=True)
class TranslatableText:
    """One text of a checklist: its key, a short description, and its {language: text} mapping.

    The description is in the request's language (English outside a request): it only helps the
    translator and is never read back. Only a question and its help are shown with their line
    breaks (`is_multiline`); titles, labels, options and units are shown on one line.
    """

    key: str
    context: str
    texts: dict
    is_multiline: bool = False
    # A number item's unit: its texts are the item's units as written in a cell (units.unit_as_text,
    # "one: time | other: times"), a copy; an import reads them back into `item` (units.unit_from_text).
    item: dict | None = field(default=None, compare=False, repr=False)


@dataclass
class ImportReport:
    """What an import did: how many texts changed, keys it did not know, and cells it could not use.

    `unknown_keys` and `problems` hold (cell reference, key or message) pairs, like ("A7", "item:x:text");
    the reference is None for a problem with the whole file. `kept` lists the cells the translator
    changed whose text the checklist also changed after the export: the checklist's text stays.
    `ignored_columns` lists the header cells that name no language, as (cell reference, header as shown).
    `joined` lists the cells of texts shown on one line whose line breaks became spaces.
    """

    changed: int = 0
    unknown_keys: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    kept: list = field(default_factory=list)  # (cell reference, key, language): changed on both sides
    ignored_columns: list = field(default_factory=list)  # (cell reference, header): a translator's own column
    joined: list = field(default_factory=list)  # (cell reference, key, language): its line breaks made spaces


# -- the texts of a checklist ----------------------------------------------------------------------


def _number_key(value):
    # A band min read as 90.0 must give the same key as 90, or re-imports would not find it.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _item_texts(item, section_id):
    item_id = item["id"]
    yield TranslatableText(f"item:{item_id}:text", gettext("Item text (section %(section)s)", section=section_id),
                           item["text"], is_multiline=True)
    if "help" in item:
        yield TranslatableText(
            f"item:{item_id}:help",
            gettext("Help for item %(item)s (section %(section)s)", item=item_id, section=section_id),
            item["help"], is_multiline=True,
        )
    for option in item.get("options", []):
        yield TranslatableText(
            f"item:{item_id}:option:{option['id']}",
            gettext("Answer option of item %(item)s (section %(section)s)", item=item_id, section=section_id),
            option["text"],
        )
    if "unit" in item:
        yield TranslatableText(
            f"item:{item_id}:unit",
            gettext("Unit of the number in item %(item)s (section %(section)s)", item=item_id, section=section_id),
            {language: unit_as_text(unit) for language, unit in item["unit"].items()}, item=item,
        )


def translatable_texts(checklist):
    """Every text of a normalised checklist in file order; the mappings are the checklist's own."""
    yield TranslatableText("title", gettext("Checklist title"), checklist["title"])
    for band in checklist.get("bands") or []:
        key = _number_key(band["min"])
        # Translators: min is the lowest score of the band, in percent.
        yield TranslatableText(f"band:{key}", gettext("Score band label (from %(min)s%%)", min=key), band["label"])
    for tag, labels in (checklist.get("dimensions") or {}).items():
        yield TranslatableText(f"dimension:{tag}", gettext("Service quality dimension (%(tag)s)", tag=tag), labels)
    for section in checklist["sections"]:
        yield TranslatableText(f"section:{section['id']}:title",
                               gettext("Section title (%(section)s)", section=section["id"]), section["title"])
        for item in section["items"]:
            yield from _item_texts(item, section["id"])


# -- export ----------------------------------------------------------------------------------------


def _as_cell_text(text):
    # Excel cannot store most control characters; openpyxl would refuse the whole workbook.
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _write_text(sheet, row, column, text, style):
    cell = sheet.cell(row=row, column=column, value=_as_cell_text(text))
    # A text starting with "=" must stay text: as a formula it would run in the translator's Excel.
    cell.data_type = "s"
    cell.alignment = style
    return cell


def export_texts_xlsx(checklist):
    """The checklist's texts as an XLSX workbook (bytes) for translators: one row per text."""
    languages = list(checklist["languages"])
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    wrap = Alignment(wrap_text=True, vertical="top")
    bold = Font(bold=True)
    # Grey marks the columns the translator should leave alone.
    fixed = PatternFill("solid", fgColor="EEEEEE")

    headers = [KEY_HEADER, CONTEXT_HEADER, *languages]
    for column, header in enumerate(headers, start=1):
        _write_text(sheet, 1, column, header, wrap).font = bold
    identity = CHECKLIST_KEY_PREFIX + checklist["id"]
    _write_text(sheet, 2, 1, identity, wrap).fill = fixed
    _write_text(sheet, 2, 2, gettext("The checklist these texts are for: keep this row as it is."), wrap).fill = fixed
    for column in range(3, len(headers) + 1):
        cell = sheet.cell(row=2, column=column)
        cell.fill, cell.alignment = fixed, wrap
    for row, text in enumerate(translatable_texts(checklist), start=3):
        _write_text(sheet, row, 1, text.key, wrap).fill = fixed
        _write_text(sheet, row, 2, text.context, wrap).fill = fixed
        for column, language in enumerate(languages, start=3):
            _write_text(sheet, row, column, text.texts.get(language, ""), wrap)

    sheet.freeze_panes = "A2"
    widths = [_KEY_WIDTH, _CONTEXT_WIDTH] + [_LANGUAGE_WIDTH] * len(languages)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width

    exported = workbook.create_sheet(EXPORTED_SHEET_TITLE)
    exported.sheet_state = "hidden"
    for column, header in enumerate([KEY_HEADER, *languages], start=1):
        _write_text(exported, 1, column, header, wrap)
    _write_text(exported, 2, 1, identity, wrap)
    for row, text in enumerate(translatable_texts(checklist), start=3):
        for column, value in enumerate([text.key, *(text.texts.get(language, "") for language in languages)], start=1):
            _write_text(exported, row, column, value, wrap)

    workbook.properties.identifier = checklist["id"]
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


# -- import ----------------------------------------------------------------------------------------


def _cell_ref(row, column):
    return f"{get_column_letter(column)}{row}"


class _UnusableFile(Exception):
    """The upload cannot be read as a translation file; the message is a sentence for the user."""


def _check_archive(data):
    """A sentence saying why `data` cannot be an XLSX file, or None when it may be one."""
    if len(data) > MAX_FILE_BYTES:
        return gettext("The file is larger than %(megabytes)s MB; a translation file is far smaller.",
                       megabytes=MAX_FILE_BYTES // (1024 * 1024))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(entry.file_size for entry in archive.infolist())
    except Exception:
        # zipfile rejects damaged archives in many ways (BadZipFile, NotImplementedError for an odd
        # version byte, UnicodeDecodeError for a name...); to the user they all mean "not an XLSX".
        return NOT_XLSX
    if unzipped > MAX_UNZIPPED_BYTES:
        return gettext("The workbook unpacks to more than %(megabytes)s MB; a translation file is far smaller.",
                       megabytes=MAX_UNZIPPED_BYTES // (1024 * 1024))
    return None


def _open_sheet(data):
    """(workbook, texts worksheet, exported worksheet or None) of the uploaded XLSX, or raises _UnusableFile."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:
        # The bytes come from an upload: openpyxl fails on them in many ways (KeyError for a missing
        # part, XML parse errors, TypeError...), and all mean the same thing to the user.
        raise _UnusableFile(NOT_XLSX) from None
    names = workbook.sheetnames
    if not names:
        workbook.close()
        raise _UnusableFile(gettext("The workbook has no worksheet."))
    # A translator may rename the sheet; the first one is the best guess then.
    name = SHEET_TITLE if SHEET_TITLE in names else names[0]
    exported = workbook[EXPORTED_SHEET_TITLE] if EXPORTED_SHEET_TITLE in names and name != EXPORTED_SHEET_TITLE else None
    return workbook, workbook[name], exported


def _read_rows(sheet):
    """The sheet's rows as lists of (value, data_type), or raises _UnusableFile when there are too many."""
    rows = []
    for cells in sheet.iter_rows(max_col=MAX_COLUMNS):
        if len(rows) >= MAX_ROWS:
            raise _UnusableFile(gettext("The worksheet has more than %(rows)s rows; "
                                        "a translation file has one row per text.", rows=MAX_ROWS))
        rows.append([(cell.value, cell.data_type) for cell in cells])
    return rows


@dataclass
class _Workbook:
    """What an import reads of the uploaded workbook."""

    rows: list  # of the texts worksheet
    exported_rows: list | None  # of the hidden worksheet of texts as exported, when there is one
    identifier: str | None  # the workbook's identifier property: the checklist's id since it is written


def _read_workbook(data):
    """The _Workbook of the upload, or raises _UnusableFile."""
    problem = _check_archive(data)
    if problem:
        raise _UnusableFile(problem)
    workbook, sheet, exported = _open_sheet(data)
    try:
        identifier = workbook.properties.identifier if workbook.properties else None
        return _Workbook(_read_rows(sheet), _read_rows(exported) if exported is not None else None,
                         identifier if isinstance(identifier, str) else None)
    except _UnusableFile:
        raise
    except Exception:
        # Same reason as in _open_sheet: a damaged sheet fails while it is streamed, not when opened.
        raise _UnusableFile(gettext("The worksheet cannot be read; save the workbook again as .xlsx.")) from None
    finally:
        workbook.close()


def _describe_value(value):
    """How a non-text cell value reads in a message: 'the number 5', 'a date or time'.

    Each phrase is a whole msgid of its own, inserted as %(value)s into the messages that use it
    ("The cell holds %(value)s, not text; ...").
    """
    if isinstance(value, bool):
        # Translators: value is TRUE or FALSE, as an English spreadsheet shows the cell.
        return gettext("the true/false value %(value)s", value=str(value).upper())
    if isinstance(value, float) and value.is_integer():
        return gettext("the number %(number)s", number=int(value))
    if isinstance(value, (int, float)):
        return gettext("the number %(number)s", number=value)
    if isinstance(value, (datetime, date)):
        # Spreadsheets read "1-5" or "3/4" typed in a cell as a date: the date shown lets the
        # translator see what became of their text.
        day = value.date() if isinstance(value, datetime) else value
        return gettext("the date %(date)s", date=format_date(day, format="long", locale=get_locale() or "en"))
    if isinstance(value, (time, timedelta)):
        return gettext("a date or time")
    # Translators: type is the program's English name for what the cell holds, e.g. "a bytes value".
    return gettext("a %(type)s value", type=type(value).__name__)


def _shown(text):
    return text if len(text) <= _SHOWN_LENGTH else text[:_SHOWN_LENGTH] + "…"


@dataclass
class _Columns:
    """Where the key and the language columns are (1-based column numbers)."""

    key: int | None = None
    languages: dict = field(default_factory=dict)  # language -> column


def _find_columns(header, checklist_languages, report):
    columns = _Columns()
    for column, (value, _type) in enumerate(header, start=1):
        ref = _cell_ref(1, column)
        name = value.strip() if isinstance(value, str) else value
        if name is None or name == "":
            continue
        if not isinstance(name, str):
            # A column of the translator's own, numbered or dated: no language code is a number.
            report.ignored_columns.append((ref, _describe_value(name)))
            continue
        lowered = name.lower()
        if lowered == KEY_HEADER and columns.key is None:
            columns.key = column
        elif lowered == CONTEXT_HEADER:
            continue
        elif lowered in checklist_languages and lowered not in columns.languages:
            columns.languages[lowered] = column
        elif lowered in checklist_languages or lowered == KEY_HEADER:
            report.problems.append((ref, gettext("The column '%(name)s' appears twice.",
                                                 name=name)))
        elif lowered in LANGUAGES:
            # Its texts could only be dropped: the checklist needs the language first.
            report.problems.append((ref, gettext(
                "The language '%(name)s' is not one of this checklist's languages (%(languages)s): add it to "
                "the draft first (“%(add)s”), then import the spreadsheet again.",
                name=name, languages=", ".join(checklist_languages), add=gettext("Add a language"))))
        else:
            # Notes, a reviewer's remarks, a word count: the translator's own column, which no language
            # can be read from (the MAX_COLUMNS cap leaves room for a few).
            report.ignored_columns.append((ref, _shown(name)))
    if columns.key is None:
        # Translators: key is the column header to type exactly as it is (key).
        report.problems.append(("A1", gettext("The header row has no '%(key)s' column, so no row can be matched "
                                              "to a text; use the header row of the exported file.",
                                              key=KEY_HEADER)))
    if not columns.languages:
        known = ", ".join(checklist_languages)
        report.problems.append(("A1", gettext("The header row has no language column (%(languages)s), so there is "
                                              "nothing to import; use the header row of the exported file.",
                                              languages=known)))
    return columns


def _cell(row, column):
    """(value, data_type) of a row's cell; rows may end before the last column."""
    return row[column - 1] if column <= len(row) else (None, "n")


def _cell_text(value, data_type, ref, report):
    """The stripped text of a language cell, or None when it is empty or unusable (then reported)."""
    if value is None:
        return None
    if data_type == "f":
        report.problems.append((ref, gettext("The cell holds a formula; type the text itself (start it with an "
                                             "apostrophe if it begins with =).")))
        return None
    if not isinstance(value, str):
        report.problems.append((ref, gettext("The cell holds %(value)s, not text; format the cell "
                                             "as text and type it again.", value=_describe_value(value))))
        return None
    # Empty and blank cells keep the current text: an unfinished sheet must not delete translations.
    return value.strip() or None


def _exported_texts(rows):
    """{key: {language: text}} of the hidden sheet of texts as exported; None when it is not usable."""
    if not rows:
        return None
    header = [value.strip().lower() if isinstance(value, str) else None for value, _type in rows[0]]
    if not header or header[0] != KEY_HEADER:
        return None
    exported = {}
    for row in rows[1:]:
        values = [value if isinstance(value, str) else "" for value, _type in row]
        if values and values[0]:
            exported[values[0].strip()] = {language: values[column].strip() for column, language in enumerate(header)
                                           if column and language and column < len(values)}
    return exported


def _named_checklists(workbook, key_column):
    """The checklist ids the workbook names, in its rows `checklist:<id>` (visible, then hidden) and its
    identifier property, in that order; none in a file exported before it said so."""
    named = []
    sheets = [(workbook.rows, key_column), (workbook.exported_rows or [], 1)]
    for rows, column in sheets:
        for row in rows[1:]:
            value, _type = _cell(row, column)
            if isinstance(value, str) and value.strip().startswith(CHECKLIST_KEY_PREFIX):
                named.append(value.strip()[len(CHECKLIST_KEY_PREFIX):].strip())
    if workbook.identifier and workbook.identifier.strip():
        named.append(workbook.identifier.strip())
    return named


def _title_texts(rows, key_column, language_columns):
    """{language: text} of the row keyed `title` among the given rows, non-empty texts only."""
    for row in rows[1:]:
        value, _type = _cell(row, key_column)
        if isinstance(value, str) and value.strip() == "title":
            texts = {}
            for language, column in language_columns.items():
                text, _type = _cell(row, column)
                if isinstance(text, str) and text.strip():
                    texts[language] = text.strip()
            return texts
    return {}


def _not_this_checklist(checklist, workbook, columns, exported):
    """Why the workbook's texts are not this checklist's (a sentence), or None when they are."""
    this = checklist["id"]
    named = _named_checklists(workbook, columns.key)
    other = next((name for name in named if name != this), None)
    if other is not None:
        return gettext("This spreadsheet is for the checklist “%(other)s”, not “%(checklist)s”: nothing was "
                       "changed. Import it into the draft of “%(other)s”, or export this checklist's texts.",
                       other=_shown(other), checklist=this)
    if named:
        return None
    # A file exported before it named its checklist, or rows copied into a workbook of their own
    # without the checklist row: its title tells. Item ids alone cannot, as checklists share many
    # (greeted, opening_hours: more than half of the retail checklist's keys are the bank's too). The
    # texts are taken when the title in the sheet, or in the hidden sheet of an older export (the
    # translator may have reworded the visible one), is this checklist's current title in its source
    # language, the one translated from; only a sheet without that language's title may match in
    # another. Another checklist's sheet carries that checklist's title. Anything else is refused: a
    # translator who sends back only the rows they changed is asked to copy them into the exported
    # file, where taking rows without a title could overwrite another checklist's texts.
    sheet_title = _title_texts(workbook.rows, columns.key, columns.languages)
    exported_title = (exported or {}).get("title", {})
    source = checklist["languages"][0]
    has_source_title = bool(sheet_title.get(source) or exported_title.get(source))
    for language in [source] if has_source_title else checklist["languages"]:
        text = (checklist["title"].get(language) or "").strip()
        if text and text in (sheet_title.get(language), exported_title.get(language)):
            return None
    shown = next((titles[language] for titles in (sheet_title, exported_title)
                  for language in checklist["languages"] if titles.get(language)), None)
    if shown is None:
        return gettext("This spreadsheet does not say which checklist it is for, and has no title to tell: "
                       "nothing was changed. Copy the translations into the spreadsheet exported for this "
                       "checklist and import that.")
    return gettext("This spreadsheet does not say which checklist it is for, and its title “%(title)s” is not "
                   "this checklist's: nothing was changed. Copy the translations into the spreadsheet exported "
                   "for this checklist and import that.", title=_shown(shown))


def _import_row(row_number, row, columns, texts_by_key, seen_rows, report, exported):
    key_value, _type = _cell(row, columns.key)
    key_ref = _cell_ref(row_number, columns.key)
    has_texts = any(_cell(row, column)[0] not in (None, "") for column in columns.languages.values())
    if key_value is None or (isinstance(key_value, str) and not key_value.strip()):
        if has_texts:
            report.problems.append((key_ref, gettext("The row has texts but no key.")))
        return
    if not isinstance(key_value, str):
        report.problems.append((key_ref, gettext("The key is %(value)s, not text.",
                                                 value=_describe_value(key_value))))
        return
    key = key_value.strip()
    if key.startswith(CHECKLIST_KEY_PREFIX):
        return  # names the checklist (checked before): no text
    if key not in texts_by_key:
        report.unknown_keys.append((key_ref, key))
        return
    if key in seen_rows:
        report.problems.append((key_ref, gettext("The key '%(key)s' is also in row %(row)s.",
                                                 key=key, row=seen_rows[key])))
        return
    seen_rows[key] = row_number
    entry = texts_by_key[key]
    texts = entry.texts
    for language, column in columns.languages.items():
        value, data_type = _cell(row, column)
        ref = _cell_ref(row_number, column)
        text = _cell_text(value, data_type, ref, report)
        if text is not None and entry.item is not None:
            try:
                # As the checklist would write it: "time | times" is the same as "one: time | other: times".
                text = unit_as_text(unit_from_text(text, language))
            except UnitTextError as error:
                report.problems.append((ref, str(error)))
                continue
        # Compared stripped so that a trailing newline the file cannot keep does not count as an edit.
        current = (texts.get(language) or "").strip()
        was = exported.get(key, {}).get(language) if exported is not None else None
        # Left as exported: the checklist's newer text stays.
        if text is None or text == current or text == was:
            continue
        is_joined = not entry.is_multiline and len(text.splitlines()) > 1
        if is_joined:
            # A title, label, option or unit is shown on one line (a heading, a button, the report's
            # PDF), where a line break reads as a space anyway: it becomes one, and the notice says
            # so, rather than one Alt+Enter sending back a whole file of translations.
            text = " ".join(line.strip() for line in text.splitlines() if line.strip())
            if text == current or text == was:
                continue  # only the line breaks differ: nothing to change
        if was is not None and current != was:
            report.kept.append((ref, key, language))  # both changed it: the checklist's text stays
            continue
        texts[language] = text
        report.changed += 1
        if is_joined:
            report.joined.append((ref, key, language))


def import_texts_xlsx(checklist, data):
    """Texts from a translators' XLSX applied to a deep copy of the checklist: (new checklist, ImportReport)."""
    result = copy.deepcopy(checklist)
    report = ImportReport()
    try:
        workbook = _read_workbook(data)
    except _UnusableFile as error:
        report.problems.append((None, str(error)))
        return result, report
    rows = workbook.rows
    if not rows:
        report.problems.append((None, gettext("The worksheet is empty; use the file exported for this checklist.")))
        return result, report

    columns = _find_columns(rows[0], list(result["languages"]), report)
    if columns.key is None or not columns.languages:
        return result, report
    exported = _exported_texts(workbook.exported_rows)
    other_checklist = _not_this_checklist(result, workbook, columns, exported)
    if other_checklist:
        # Alone: the cells of another checklist's sheet are no use to tell about.
        report.problems[:] = [(None, other_checklist)]
        return result, report
    texts_by_key = {text.key: text for text in translatable_texts(result)}
    seen_rows = {}
    for row_number, row in enumerate(rows[1:], start=2):
        _import_row(row_number, row, columns, texts_by_key, seen_rows, report, exported)
    for entry in texts_by_key.values():
        if entry.item is not None:
            # Only the cells changed are read back: a plain unit with a | in it stays as it was.
            before = entry.item["unit"]
            entry.item["unit"] = {
                language: before[language] if language in before and text == unit_as_text(before[language])
                else unit_from_text(text, language)
                for language, text in entry.texts.items()
            }
    return result, report
