"""Raw data for a filter as CSV or XLSX: one row per visit, and one row per answer.

Rows come from joined SQL queries. A manager's export never names the shopper (the trade's
confidentiality rule); an auditor's does.

The CSV is for other programs: its column names, answers (`yes`, an option's id) and sections are the
stored codes, and its questions and bands are in the checklist's source language, the same whatever
language the reader asked for. The XLSX is for people, who open it in a spreadsheet: column
and sheet names, sections, answers (Yes, an option's text, "95 s") and Yes/No in the reader's language.
"""
import csv
import io
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

import xlsxwriter

from .db import id_in, streamed
from .i18n import answer_label, gettext, lazy_gettext as _l, localized
from .localtime import local_date
from .models import Answer, Branch, Brand, Checklist, ChecklistVersion, Region, User, Visit, VisitState

VISIT_COLUMNS = ["visit", "brand", "region", "branch_code", "branch", "checklist", "version", "date", "score",
                 "band", "critical_failure"]
# failed: below the item's pass mark; corrected: the reviewer changed the shopper's answer, which
# original_answer gives, with the reviewer's reason (as the visit report and the review page do).
ANSWER_COLUMNS = ["visit", "branch_code", "date", "section", "item", "question", "answer", "earned", "possible",
                  "failed", "corrected", "original_answer", "correction_reason", "comment"]
# The columns' names in the XLSX.
COLUMN_LABELS = {
    "visit": _l("Visit"), "brand": _l("Brand"), "region": _l("Region"), "branch_code": _l("Branch code"),
    "branch": _l("Branch"), "checklist": _l("Checklist"), "version": _l("Version"), "date": _l("Date"),
    "score": _l("Score (%)"), "band": _l("Band"), "critical_failure": _l("Critical failure"),
    "shopper": _l("Shopper"), "section": _l("Section"), "item": _l("Item id"), "question": _l("Question"),
    "answer": _l("Answer"), "earned": _l("Points earned"), "possible": _l("Points possible"),
    "failed": _l("Below the pass mark"), "corrected": _l("Corrected by the reviewer"),
    "original_answer": _l("The shopper's answer"), "correction_reason": _l("Reason for the correction"),
    "comment": _l("Comment"),
}


def _header(columns, for_people):
    return [str(COLUMN_LABELS[name]) for name in columns] if for_people else list(columns)


def sheet_titles():
    """The XLSX's sheets, in the reader's language: (visits, answers)."""
    return gettext("Visits"), gettext("Answers")


def _approved_in_period(query, branch_ids, start, end, version_ids=None):
    """The approved visits of the branches in the period; of some checklist versions only, when given
    (the dashboard's checklist filter)."""
    query = query.where(id_in(Visit.branch, branch_ids) & (Visit.state == VisitState.APPROVED.value)
                        & (Visit.ended_at >= start) & (Visit.ended_at < end))
    return query if version_ids is None else query.where(id_in(Visit.checklist_version, version_ids))


def count_rows(branch_ids, start, end, version_ids=None):
    """How many rows an export of the period has: its visits and their answers (headers aside)."""
    visits = _approved_in_period(Visit.select(Visit.id), branch_ids, start, end, version_ids)
    return visits.count() + Answer.select().where(Answer.visit.in_(visits)).count()


class VersionTexts(NamedTuple):
    """A checklist version as an export writes it, in one language."""
    title: str
    number: int
    questions: dict      # item id: question
    items: dict          # item id: item
    section_titles: dict  # section id: title
    band_language: str   # the language its band names are given in
    positions: dict      # item id: its place in the checklist, first section's first item 0


def _version(version_id, language, versions):
    """A checklist version's VersionTexts in `language`, read once per export. Language None: for
    programs (the CSV), the same whoever downloads it: the checklist's id and its texts in its source
    language.

    Rows carry only the version's id: joined into every row, the whole checklist was read and parsed
    again for each visit and answer, which took a 500-branch chain's half-year export minutes and
    gigabytes of memory (bench/bench_exports.py)."""
    if version_id not in versions:
        version = (ChecklistVersion.select(ChecklistVersion, Checklist).join(Checklist)
                   .where(ChecklistVersion.id == version_id).get())
        sections = version.content["sections"]
        texts_in = language or version.content["languages"][0]
        items = [item for section in sections for item in section["items"]]
        versions[version_id] = VersionTexts(
            title=version.title(language) if language else version.checklist.slug,
            number=version.number,
            questions={item["id"]: localized(item["text"], texts_in) or "" for item in items},
            items={item["id"]: item for item in items},
            section_titles={section["id"]: localized(section["title"], texts_in) or section["id"] for section in sections},
            band_language=texts_in,
            positions={item["id"]: place for place, item in enumerate(items)})
    return versions[version_id]


def _day(moment):
    # The organisation's calendar day, as a date, not its text: a date cell in XLSX (the reader's
    # spreadsheet sorts and groups it by date), written as 2026-10-27 in CSV.
    return local_date(moment) if moment else ""


def _number(value):
    return float(value) if value is not None else ""


def visit_rows(branch_ids, start, end, language, with_shopper, version_ids=None, for_people=False):
    """The header and one row per approved visit in the period; `for_people`: as the XLSX gives them."""
    yield _header(VISIT_COLUMNS + (["shopper"] if with_shopper else []), for_people)
    yes_no = (gettext("Yes"), gettext("No")) if for_people else ("yes", "no")
    query = _approved_in_period(
        Visit.select(Visit.uuid, Brand.name, Region.name, Branch.code, Branch.name, Visit.checklist_version,
                     Visit.ended_at, Visit.score, Visit.band, Visit.has_critical_failure, User.name)
        .join(Branch).join(Region).join(Brand).switch(Visit).join(User), branch_ids, start, end, version_ids)
    versions = {}
    shown_in = language if for_people else None
    for uuid, brand, region, code, branch, version_id, ended_at, score, band, critical, shopper in (
            streamed(query.order_by(Visit.ended_at, Visit.id).tuples())):
        texts = _version(version_id, shown_in, versions)
        row = [str(uuid), brand, region, code, branch, texts.title, texts.number, _day(ended_at), _number(score),
               localized(band, texts.band_language) or "", yes_no[0] if critical else yes_no[1]]
        if with_shopper:
            row.append(shopper)
        yield row


def answer_rows(branch_ids, start, end, language, version_ids=None, for_people=False, with_shopper=False):
    """The header and one row per answer of the approved visits in the period, each visit's answers in
    its checklist's order (they are stored in the order the phone sent them); `for_people`: as the
    XLSX gives them (the section's title, the answer as the visit report shows it); `with_shopper`
    (an auditor's): with what a shopper first wrote in a free-text answer a reviewer corrected."""
    yield _header(ANSWER_COLUMNS, for_people)
    yes_no = (gettext("Yes"), gettext("No")) if for_people else ("yes", "no")
    query = (
        Answer.select(Visit.uuid, Branch.code, Visit.ended_at, Visit.checklist_version, Answer.section_id,
                      Answer.item_id, Answer.value, Answer.earned, Answer.possible, Answer.failed,
                      Answer.correction_reason, Answer.original_value, Answer.comment)
        .join(Visit).join(Branch)
        .where(Answer.visit.in_(_approved_in_period(Visit.select(Visit.id), branch_ids, start, end, version_ids)))
        # Visit.id: two visits sent at the same moment do not mix their answers.
        .order_by(Visit.ended_at, Visit.id, Answer.id)
    )
    versions, labels = {}, {}
    shown_in = language if for_people else None
    # One visit's answers at a time (a few hundred at most): the export stays streamed.
    for uuid, visit_answers in groupby(streamed(query.tuples()), key=itemgetter(0)):
        visit_answers = list(visit_answers)
        texts = _version(visit_answers[0][3], shown_in, versions)
        visit_answers.sort(key=lambda row: texts.positions.get(row[5], len(texts.positions)))
        for (_uuid, code, ended_at, version_id, section_id, item_id, value, earned, possible, failed, reason, original,
             comment) in visit_answers:
            # The reviewer's correction of a free text may be what took the shopper's name out of it:
            # a manager gets the corrected text and the reason, as in the visit report, not the words.
            shows_original = reason and (with_shopper or texts.items.get(item_id, {}).get("type") != "text")
            if for_people:
                section = texts.section_titles.get(section_id, section_id or "")
                shown = _label(labels, texts.items, version_id, item_id, value, language)
                before = _label(labels, texts.items, version_id, item_id, original, language) if shows_original else ""
            else:
                section = section_id or ""
                shown = _raw(value)
                before = _raw(original) if shows_original else ""
            yield [str(uuid), code, _day(ended_at), section, item_id, texts.questions.get(item_id, ""), shown,
                   _number(earned), _number(possible), "" if failed is None else yes_no[0 if failed else 1],
                   yes_no[0 if reason else 1], before, reason or "", comment]


def _raw(value):
    """An answer as the CSV gives it: the stored code ("yes", an option's id, seconds)."""
    return value if isinstance(value, (str, int, float)) else str(value)


def _label(labels, items, version_id, item_id, value, language):
    """answer_label, kept per export: answers repeat (Yes, an option, a scale's steps), and a timer's
    label asks Babel for the locale's unit each time."""
    key = (version_id, item_id, type(value), value) if isinstance(value, (str, int, float)) else None
    if key in labels:
        return labels[key]
    item = items.get(item_id)
    # A scale's step stays a number a spreadsheet can average; the range is the checklist's.
    label = answer_label(item, value, language, scale_range=False) if item else str(value)
    if key is not None and len(labels) < 100_000:
        labels[key] = label
    return label


# A cell that starts with one of these is a formula to a spreadsheet that opens the CSV (OWASP: CSV
# injection); a shopper's comment could start so. Prefixed with an apostrophe it is shown as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_ROWS_PER_CHUNK = 1000


def _as_text_cell(cell):
    return "'" + cell if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell


def csv_chunks(rows):
    """The rows as CSV text, a chunk of rows at a time: the answer is sent while the rows are read.

    It starts with a byte order mark: without it, Excel reads a CSV file in the computer's legacy
    code page, and every accented or Cyrillic letter comes out garbled ("FĂłrum" for "Fórum")."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    for number, row in enumerate(rows, 1):
        writer.writerow([_as_text_cell(cell) for cell in row])
        if number % CSV_ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# Rows a spreadsheet sheet can hold (Excel's limit, header included). Two years of a large chain's
# answers can pass it: the rows go on in another sheet ("answers 2") rather than being cut off.
SHEET_ROWS = 1_048_576


def write_xlsx(sheets, file, progress=None, every=5000):
    """An XLSX of one sheet per (title, rows) into the binary `file`; the first row is the header, and
    a sheet that would pass SHEET_ROWS goes on in "<title> 2", "<title> 3"..., each with the header.
    `progress(rows written)`, when given, is called every `every` rows (headers aside).

    XlsxWriter's constant-memory mode puts each row on disk as it comes; every text is a text cell,
    so one that starts like a formula is never run by the reader's spreadsheet."""
    book = xlsxwriter.Workbook(file, {"constant_memory": True, "strings_to_formulas": False,
                                      "strings_to_numbers": False, "strings_to_urls": False,
                                      "default_date_format": "yyyy-mm-dd"})
    written = 0
    formats = {"header": book.add_format({"bold": True}), "score": book.add_format({"num_format": "0.0"})}
    for title, rows in sheets:
        rows = iter(rows)
        header = next(rows)
        sheet, number, part = None, SHEET_ROWS, 0
        for row in rows:
            if number == SHEET_ROWS:
                part += 1
                sheet, number = _sheet_with_header(book, title if part == 1 else f"{title} {part}", header,
                                                   formats), 1
            sheet.write_row(number, 0, row)
            number += 1
            written += 1
            if progress is not None and written % every == 0:
                progress(written)
        if sheet is None:  # nothing in the period: the header alone
            _sheet_with_header(book, title, header, formats)
    book.close()


# Columns' widths in characters where the header's own would not do (texts, ids); the rest fit their header.
COLUMN_WIDTHS = {"visit": 38, "brand": 22, "region": 24, "branch": 30, "checklist": 32, "question": 60,
                 "answer": 30, "comment": 50, "section": 34, "band": 20, "shopper": 22}


def _sheet_with_header(book, title, header, formats):
    """A sheet with the header in bold, kept in view when scrolling, columns as wide as what they hold,
    and the score shown as the reports show it (one decimal; the cell keeps every digit)."""
    sheet = book.add_worksheet(title)
    sheet.write_row(0, 0, header, formats["header"])
    sheet.freeze_panes(1, 0)
    names = {str(label): name for name, label in COLUMN_LABELS.items()}
    for column, label in enumerate(header):
        name = names.get(label)
        width = COLUMN_WIDTHS.get(name, min(max(len(label) + 2, 10), 30))
        sheet.set_column(column, column, width, formats["score"] if name == "score" else None)
    return sheet
