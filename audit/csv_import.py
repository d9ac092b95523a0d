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


def read_rows(raw, columns, required, max_rows, too_many):
    """[(row number, {column: text})] of a CSV file: UTF-8 (with or without Excel's byte order mark),
    separated by commas or by semicolons (Excel's CSV where the decimal mark is a comma). Only the
    `columns` are read, and a row has those the first row names (a column left out of the file is
    not in its rows); the `required` ones must be named there. `too_many`: the message
    for a file of more than `max_rows` rows (it names the number as %(count)d)."""
    if len(raw) > MAX_BYTES:
        raise ImportRefused(_("The file is larger than 2 MB."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(_("The file is not UTF-8 text. Save it as “CSV UTF-8” and import it again.")) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
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
