"""The organisation's calendar: its days and months (TIME_ZONE) for times stored in UTC.

Every time is stored as naive UTC. What a day or a month is depends on where one stands: a visit at
00:30 on 1 November in Budapest is 23:30 on 31 October in UTC, and belongs to November's figures.
Dates and times are shown in the same zone by Flask-Babel (BABEL_DEFAULT_TIMEZONE, see config).
"""
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

from flask import current_app


def _zone():
    return ZoneInfo(current_app.config.get("TIME_ZONE", "UTC"))  # ZoneInfo keeps each zone it made


def local_date(moment):
    """The organisation's calendar day of a stored (naive UTC) moment."""
    return moment.replace(tzinfo=timezone.utc).astimezone(_zone()).date()


def utc_start_of(day):
    """The stored (naive UTC) moment at which one of the organisation's days begins."""
    return datetime.combine(day, time.min, tzinfo=_zone()).astimezone(timezone.utc).replace(tzinfo=None)


def today():
    """The organisation's date today."""
    return datetime.now(_zone()).date()


def utc_of_local(moment):
    """The stored (naive UTC) moment of a naive time on the organisation's clocks (a camera's, which
    writes no zone)."""
    return moment.replace(tzinfo=_zone()).astimezone(timezone.utc).replace(tzinfo=None)
