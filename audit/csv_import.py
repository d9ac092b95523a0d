"""Reading a CSV file that an auditor made or corrected in a spreadsheet (branches, accounts): the
encodings, separators and protected cells that spreadsheets write, and the limits of a file."""
import csv
import io
import itertools
import re

from .form_messages import CONTROL_CHARACTER
from .i18n import gettext as _

MAX_BYTES = 2 * 1024 * 1024
# A cell that exports.csv_chunks wrote with an apostrophe before it, so that a spreadsheet would not
# run it.
_PROTECTED_CELL = re.compile(r"^'(?=[=+\-@\t\r])")


class ImportRefused(ValueError):
    """The file cannot be read at all (its message says why); nothing was saved."""


# The first bytes of files that are chosen by mistake instead of the CSV saved from them: a workbook
# (.xlsx, .ods: a zip; .xls: an OLE2 compound file) and a PDF.
_WORKBOOK_STARTS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
_PDF_START = b"%PDF"
# Excel's "Unicode Text" (tab-separated, UTF-16 after its byte order mark): the one Excel saves where
# "CSV UTF-8" is missing (Excel 2013 and older), and readable for certain by that mark.
_UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff")
# Excel's first line naming the separator ("sep=;"), which Excel itself hides when it opens the file.
_SEPARATOR_LINE = re.compile(r"^sep=([,;\t])\r?$", re.IGNORECASE)
_DELIMITERS = (",", ";", "\t")


def _text_of(raw):
    """The file's text, or ImportRefused naming what the file is instead: each mistake said as
    itself (a workbook, a PDF and an empty file all said that the columns were missing)."""
    if len(raw) > MAX_BYTES:
        raise ImportRefused(_("The file is larger than 2 MB."))
    if raw.startswith(_WORKBOOK_STARTS):
        raise ImportRefused(_("The file is an Excel workbook, not a CSV file: save it as “CSV UTF-8” and import "
                              "that file."))
    not_csv = _("The file is not a CSV file (it holds binary data, as a PDF or a picture does): save the list as "
                "“CSV UTF-8” and import that file.")
    if raw.startswith(_PDF_START):
        raise ImportRefused(not_csv)
    try:
        text = raw.decode("utf-16" if raw.startswith(_UTF16_STARTS) else "utf-8-sig")
    except UnicodeDecodeError:
        if b"\x00" in raw and not raw.startswith(_UTF16_STARTS):
            raise ImportRefused(not_csv) from None
        raise ImportRefused(_("The file is not UTF-8 text. Save it as “CSV UTF-8” and import it again.")) from None
    if not text.strip():
        raise ImportRefused(_("The file is empty: choose the CSV file with the list and import it again."))
    if "\x00" in text.split("\n", 1)[0]:
        # A NUL further down is a character pasted into a cell (its row says so); in the first row,
        # which names the columns, the file is no text.
        raise ImportRefused(not_csv)
    return text


def _delimiter(text):
    """(delimiter, text from the first row of columns): the one Excel's "sep=" line names, or the one
    the first row has most of (commas when it has none)."""
    first_line, _newline, rest = text.partition("\n")
    named = _SEPARATOR_LINE.match(first_line.strip(" "))
    if named:
        return named.group(1), rest
    return max(_DELIMITERS, key=first_line.count), text


def read_rows(raw, columns, required, max_rows, too_many):
    """[(row number, {column: text})] of a CSV file: UTF-8 (with or without Excel's byte order mark) or
    UTF-16 after its byte order mark (Excel's "Unicode Text"),
    separated by commas, by semicolons (Excel's CSV where the decimal mark is a comma) or by tabs (a
    spreadsheet's tab-separated values), with or without Excel's "sep=" line first (not counted as
    a row, as Excel does not show it). Only the `columns` are read, and a row has those the first
    row names (a column left out of the file is not in its rows); the `required` ones must be named
    there. `too_many`: the message for a file of more than `max_rows` rows (it names the number as
    %(count)d)."""
    delimiter, text = _delimiter(_text_of(raw))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, number = [], 1
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        missing = [name for name in required if name not in header]
        if missing:
            raise ImportRefused(_("The first row must name the columns; these are missing: %(columns)s.",
                                  columns=", ".join(missing)))
        for number, cells in enumerate(reader, 2):
            if not any(cell.strip() for cell in cells):
                continue  # an empty line, as spreadsheets leave at the end
            if len(rows) == max_rows:
                raise ImportRefused(too_many % {"count": max_rows})
            if any(CONTROL_CHARACTER.search(cell) for cell in cells):
                raise ImportRefused(_("Row %(row)d holds a control character (such as NUL), which no text "
                                      "needs: remove it and import the file again.", row=number))
            # A row that ends early (a spreadsheet leaves out trailing empty cells) has those cells
            # empty: a column of the header is in every row.
            rows.append((number, {name: _PROTECTED_CELL.sub("", cell.strip())
                                  for name, cell in itertools.zip_longest(header, cells, fillvalue="")
                                  if name in columns}))
    except csv.Error:
        # A quotation mark left open swallows the rest of the file into one cell, past the csv
        # module's limit of a cell (128 KB).
        raise ImportRefused(_("The file cannot be read as CSV after row %(row)d: is a quotation mark left "
                              "open in the row after it?", row=number)) from None
    return rows


def form_problems(number, form):
    """[(row number, "Field: message")] of a row checked with the form that checks the same thing typed
    in the browser (its labels and messages)."""
    return [(number, f"{form[name].label.text if name in form else name}: {message}")
            for name, messages in form.errors.items() for message in messages]
