"""Raw data for a filter as CSV or XLSX: one row per visit, and one row per answer.

Rows come from joined SQL queries; item texts are given in the reader's language. A manager's export
never names the shopper (the trade's confidentiality rule); an auditor's does.
"""
import csv
import io

from openpyxl import Workbook

from .i18n import localized
from .models import Answer, Branch, Brand, ChecklistVersion, Region, User, Visit, VisitState

VISIT_COLUMNS = ["visit", "brand", "region", "branch_code", "branch", "checklist", "version", "date", "score",
                 "band", "critical_failure"]
ANSWER_COLUMNS = ["visit", "branch_code", "date", "section", "item", "question", "answer", "earned", "possible",
                  "comment"]


def _visits(branch_ids, start, end):
    return (
        Visit.select(Visit, Branch, Region, Brand, ChecklistVersion, User)
        .join(Branch).join(Region).join(Brand)
        .switch(Visit).join(ChecklistVersion)
        .switch(Visit).join(User)
        .where(Visit.branch.in_(list(branch_ids)) & (Visit.state == VisitState.APPROVED.value)
               & (Visit.ended_at >= start) & (Visit.ended_at < end))
        .order_by(Visit.ended_at)
    )


def visit_rows(branch_ids, start, end, language, with_shopper):
    """The header and one row per approved visit in the period."""
    header = VISIT_COLUMNS + (["shopper"] if with_shopper else [])
    yield header
    for visit in _visits(branch_ids, start, end):
        row = [str(visit.uuid), visit.branch.region.brand.name, visit.branch.region.name, visit.branch.code,
               visit.branch.name, visit.checklist_version.title(language), visit.checklist_version.number,
               visit.ended_at.date().isoformat() if visit.ended_at else "",
               float(visit.score) if visit.score is not None else "",
               localized(visit.band, language) or "", "yes" if visit.has_critical_failure else "no"]
        if with_shopper:
            row.append(visit.shopper.name)
        yield row


def answer_rows(branch_ids, start, end, language):
    """The header and one row per answer of the approved visits in the period."""
    yield ANSWER_COLUMNS
    texts = {}
    query = (
        Answer.select(Answer, Visit, Branch, ChecklistVersion)
        .join(Visit).join(Branch).switch(Visit).join(ChecklistVersion)
        .where(Answer.visit.in_(_visits(branch_ids, start, end).select(Visit.id)))
        .order_by(Visit.ended_at, Answer.id)
    )
    for answer in query:
        version = answer.visit.checklist_version
        if version.id not in texts:
            texts[version.id] = {item["id"]: item["text"] for s in version.content["sections"] for item in s["items"]}
        value = answer.value
        yield [str(answer.visit.uuid), answer.visit.branch.code,
               answer.visit.ended_at.date().isoformat() if answer.visit.ended_at else "", answer.section_id or "",
               answer.item_id, localized(texts[version.id].get(answer.item_id), language) or "",
               value if isinstance(value, (str, int, float)) else str(value),
               float(answer.earned) if answer.earned is not None else "",
               float(answer.possible) if answer.possible is not None else "", answer.comment]


def as_csv(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()


def as_xlsx(sheets):
    """An XLSX with one sheet per (title, rows); write-only, so big exports stay light."""
    book = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            # A text that starts like a formula stays text in the reader's spreadsheet.
            sheet.append([f"'{cell}" if isinstance(cell, str) and cell[:1] in "=+-@" else cell for cell in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
