"""Long lists a page at a time, and found by what a user types: a chain's ranking, an agency's branches.

Searching is done in Python, not with SQL LIKE: SQLite folds the case of ASCII letters only, and
Hungarian, Estonian and Cyrillic names must be found however they are typed. The lists searched are
an organisation's branches (hundreds to a few thousand rows).
"""
import unicodedata

PAGE_SIZE = 50


def _folded(text):
    """Text as a search compares it: any case, and letters without their accents ("Lõuna" is found by
    "louna", typed on a phone without Estonian letters; "Váci" by "vaci")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def found(items, wanted, texts_of):
    """The items one of whose texts (texts_of(item)) contains `wanted`, in any case and with or without
    accents."""
    wanted = _folded((wanted or "").strip())
    if not wanted:
        return list(items)
    return [item for item in items if any(wanted in _folded(text) for text in texts_of(item))]


class Page:
    """One page of a list, or of a query (counted and read a page at a time in the database). `asked`
    is the page number as the URL gave it (any text); a page that does not exist shows the nearest one,
    and `missing` keeps what was asked so that the page can say so."""

    def __init__(self, items, asked, size=PAGE_SIZE):
        asked = asked or "1"
        wanted = int(asked) if asked.isdecimal() and len(asked) < 10 else None
        is_query = hasattr(items, "paginate")
        self.total = items.count() if is_query else len(items)
        self.pages = max(1, -(-self.total // size))
        self.number = min(max(wanted or 1, 1), self.pages)
        if is_query:
            self.items = list(items.paginate(self.number, size))
        else:
            self.items = items[(self.number - 1) * size: self.number * size]
        self.missing = asked[:20] if wanted != self.number else None
