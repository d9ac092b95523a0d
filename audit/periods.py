"""The periods a manager reads figures for, and the period each one is compared with.

Two kinds: rolling ones (the last N days up to now, in whole days of the organisation's calendar) and
calendar ones (a month, a quarter, a year of that calendar), which is how a chain audited monthly
reports to its board: "October 2026", "Q3 2026", against the month or quarter before. A period is
named in URLs by a token: "182" (days), "2026-10", "2026-Q3", "2026". A calendar period still
running ends now, and is compared with the whole period before it.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_skeleton

from .localtime import local_date, utc_start_of

ROLLING_DAYS = (30, 91, 182, 365)
DEFAULT = "182"
# Any number of days in a hand-made link (reports took ?days= before calendar periods).
FEWEST_DAYS, MOST_DAYS = 7, 730
# What the period menus offer besides the rolling periods; older ones are still read from a link.
MONTHS_OFFERED, QUARTERS_OFFERED, YEARS_OFFERED = 12, 5, 3
EARLIEST_YEAR = 2000

# ASCII digits only: \d also takes other scripts' ("٢٠٢٦"), which named the same year a second way.
_MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.ASCII)
_YEAR = re.compile(r"^(\d{4})$", re.ASCII)
_DAYS = re.compile(r"^\d{1,3}$", re.ASCII)


@dataclass(frozen=True)
class Period:
    token: str
    kind: str  # "days", "month", "quarter" or "year"
    start: datetime  # stored (naive UTC) moments: [start, end)
    end: datetime
    previous_start: datetime  # the period compared with is [previous_start, start)
    first_day: date  # the organisation's calendar days it names (a calendar period's last day,
    last_day: date   # even when it is still running, is the day up to which it counts so far)

    @property
    def is_calendar(self):
        return self.kind != "days"

    def name(self, locale):
        """"October 2026", "2026. IV. negyedév", "2026": a calendar period as the reader names it;
        None for a rolling one (its menu label says how many days). The name stands alone, as a
        heading, a menu option or a file's title, so it starts with a capital: Romanian and Russian
        write months and quarters in lower case ("trimestrul al III-lea 2026")."""
        skeleton = {"month": "yMMMM", "quarter": "yQQQQ", "year": "y"}.get(self.kind)
        if skeleton is None:
            return None
        name = format_skeleton(skeleton, self.first_day, locale=locale)
        return name[:1].upper() + name[1:]


def _months_later(day, months):
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _rolling(days, now):
    first, last = local_date(now) - timedelta(days=days), local_date(now)
    # From the start of a day: from the same hour, a report's first day held only that day's later
    # visits, and which of them changed with the hour the report was made. The period before has as
    # many whole days (end - start also counts today's hours so far).
    start = utc_start_of(first)
    return Period(str(days), "days", start, now, utc_start_of(first - (last - first)), first, last)


def _calendar(token, kind, first, months, now):
    if not EARLIEST_YEAR <= first.year <= local_date(now).year:
        return None  # a future period has nothing yet; a link to one is not followed
    after = _months_later(first, months)
    start = utc_start_of(first)
    if start > now:
        return None
    end = min(utc_start_of(after), now)
    last = local_date(end - timedelta(microseconds=1)) if end > start else first
    return Period(token, kind, start, end, utc_start_of(_months_later(first, -months)), first, last)


def parse(token, now):
    """The Period a token names at `now`, or None when it names none (or one not begun)."""
    token = str(token or "").strip()
    if _DAYS.match(token):
        days = int(token)
        return _rolling(days, now) if FEWEST_DAYS <= days <= MOST_DAYS else None
    match = _MONTH.match(token) or _QUARTER.match(token) or _YEAR.match(token)
    # Year 0000 is no date at all (date() refuses it): years before the app's first are refused here.
    if not match or int(match[1]) < EARLIEST_YEAR:
        return None
    year = int(match[1])
    if match.re is _MONTH:
        month = int(match[2])
        return _calendar(token, "month", date(year, month, 1), 1, now) if 1 <= month <= 12 else None
    if match.re is _QUARTER:
        return _calendar(token, "quarter", date(year, 3 * int(match[2]) - 2, 1), 3, now)
    return _calendar(token, "year", date(year, 1, 1), 12, now)


def calendar_tokens(now):
    """{"month": [...], "quarter": [...], "year": [...]}: the calendar periods the menus offer, the
    current one first (it counts up to now)."""
    this_month = local_date(now).replace(day=1)
    this_quarter = this_month.replace(month=3 * ((this_month.month - 1) // 3) + 1)
    months = [_months_later(this_month, -n) for n in range(MONTHS_OFFERED)]
    quarters = [_months_later(this_quarter, -3 * n) for n in range(QUARTERS_OFFERED)]
    return {
        "month": [f"{day:%Y-%m}" for day in months],
        "quarter": [f"{day.year}-Q{(day.month - 1) // 3 + 1}" for day in quarters],
        "year": [str(this_month.year - n) for n in range(YEARS_OFFERED)],
    }
