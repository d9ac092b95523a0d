"""The organisation's time zone (TIME_ZONE): its days, months and clock, for times stored in UTC.

A chain in Budapest closes its month at midnight Budapest time. A visit ended at 00:30 on the 1st
there is 23:30 on the last day of the month before in UTC: it belongs to the new month in every
figure, and its times read as the shopper lived them."""
import csv
import io
from datetime import timedelta

import pytest
from flask_babel import format_datetime

from audit import periods
from audit import ROOT, create_app, stats
from audit.config import ConfigError
from audit.db import database
from audit.demo import best_answers
from audit.localtime import local_date, utc_start_of
from audit.models import Visit, utcnow
from audit.operations import publish_checklist_file
from audit.review import approve

ZONE = "Europe/Budapest"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "TIME_ZONE": ZONE}


@pytest.fixture
def first_of_month_visit(app, org):
    """A visit approved, ended 30 minutes into a month, Budapest time (the month before in UTC)."""
    from audit.operations import submit_visit

    with app.app_context(), database.connection_context():
        first = (local_date(utcnow()) - timedelta(days=1)).replace(day=1)  # at least a day ago
        ended = utc_start_of(first) + timedelta(minutes=30)
        assert ended.date() < first  # in UTC still the last day of the month before
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=first - timedelta(days=3), planned_to=first, created_at=ended - timedelta(days=5))
        submit_visit(visit, best_answers(version.content), {}, {}, started_at=ended - timedelta(minutes=25),
                     ended_at=ended)
        approve(Visit.get_by_id(visit.id), org["users"]["auditor"])
        return {"uuid": str(visit.uuid), "ended": ended, "first": first, "branch": org["branches"][0].id}


def test_a_visit_just_after_midnight_is_in_the_new_month_of_every_figure(app, login_as, first_of_month_visit):
    visit = first_of_month_visit
    with app.app_context(), database.connection_context():
        trend = dict(stats.monthly_trend([visit["branch"]], 3, utcnow()))
    month_before = (visit["first"] - timedelta(days=1)).replace(day=1)
    assert trend[visit["first"]] == 100 and trend[month_before] is None  # its month, not the one before

    manager = login_as("manager")
    rows = list(csv.DictReader(io.StringIO(manager.get("/reports/export.csv?kind=visits&days=91").data.decode("utf-8-sig"))))
    assert [(row["visit"], row["date"]) for row in rows] == [(visit["uuid"], visit["first"].isoformat())]
    report = manager.get(f"/reports/visits/{visit['uuid']}.pdf?lang=en")
    assert f"-visit-{visit['first']:%Y%m%d}-en.pdf" in report.headers["Content-Disposition"]


def test_times_read_in_the_organisations_zone(app, login_as, first_of_month_visit):
    page = login_as("auditor").get(f"/review/{first_of_month_visit['uuid']}").get_data(as_text=True)
    with app.test_request_context():
        shown = format_datetime(first_of_month_visit["ended"], "short")
    assert "12:30" in shown and shown in page  # 00:30 in Budapest, though 23:30 in UTC


def test_a_period_starts_at_midnight_in_the_organisations_zone(app):
    with app.app_context():
        start = periods.parse("30", utcnow()).start
        assert local_date(start) == local_date(utcnow()) - timedelta(days=30)
        assert utc_start_of(local_date(start)) == start and start.hour in (22, 23)  # CET/CEST in UTC


def test_an_unknown_time_zone_stops_the_start(app_config):
    with pytest.raises(ConfigError, match="TIME_ZONE must be a time zone name like Europe/Budapest or UTC, not 'Mars/Olympus'"):
        create_app({**app_config, "TIME_ZONE": "Mars/Olympus"})


def test_a_report_made_just_after_local_midnight_trends_over_the_periods_own_months(app, org):
    """At 00:30 on 1 December in Budapest (23:30 on 30 November in UTC), a half-year report runs
    from 2 June: its trend starts in June, not July, and takes in no month before the period."""
    from datetime import datetime

    from flask_babel import force_locale

    from audit.reports.branch import branch_report_context

    end = datetime(2026, 11, 30, 23, 30)
    with app.test_request_context(), database.connection_context(), force_locale("en"):
        start = periods.parse("182", end).start
        assert local_date(start).isoformat() == "2026-06-02"
        trend = branch_report_context(org["branches"][0], "en", start, end)["charts"]["trend"]
    assert "Jun 2026" in trend and "Dec 2026" in trend and "May 2026" not in trend


def test_the_previous_period_is_whole_days_too_whatever_the_hour(app, org):
    """A branch's change against the previous period must not depend on when the page is opened."""
    from datetime import datetime

    from audit.models import Branch

    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        branch = Branch.get_by_id(org["branches"][0].id)
        first_day = utc_start_of(datetime(2026, 8, 27).date())  # the previous period's first day, Budapest
        for ended, score in ((first_day + timedelta(hours=1), 60), (first_day - timedelta(hours=4), 0)):
            Visit.create(branch=branch, checklist_version=version, shopper=org["users"]["shopper"], state="approved",
                         planned_from=ended.date(), planned_to=ended.date(), ended_at=ended, score=score)
        changes = []
        for hour in (0, 6, 12, 21):  # the same day, 26 Oct in Budapest, at four hours
            end = utc_start_of(datetime(2026, 10, 26).date()) + timedelta(hours=hour)
            start = periods.parse("30", end).start
            assert periods.parse("30", end).previous_start == utc_start_of(datetime(2026, 8, 27).date())
            [(_branch, _count, _mean, previous, _change)] = stats.ranking([branch], start, end, None, periods.parse("30", end).previous_start)
            changes.append(previous)
    assert changes == [60, 60, 60, 60]
