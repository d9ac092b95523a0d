"""Calendar periods: a chain audited monthly reports "October 2026" or "Q3 2026" to its board, against
the month or quarter before, on the organisation's calendar (Budapest here)."""
import io
import re
import zipfile
from datetime import date, datetime, timedelta

import pytest
from pypdf import PdfReader

from audit import ROOT, periods
from audit.db import database
from audit.localtime import local_date, utc_start_of
from audit.localtime import today as local_today
from audit.models import Job, Visit, utcnow
from audit.operations import publish_checklist_file
from conftest import csrf_from

ZONE = "Europe/Budapest"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "TIME_ZONE": ZONE}


def _month_first(months_back, today):
    index = today.year * 12 + today.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _pdf_text(data):
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def _english(client):
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client.get("/dashboard/")), "next": "/"})
    return client


@pytest.fixture
def months(app, org):
    """BUD-01's approved visits: 60 two months ago, 80 and 90 last month, 10 this month (mid-month,
    Budapest time); {"last": last month's first day, "before": the month before's, "this": this one's}."""
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        now = utcnow()
        today = local_date(now)
        firsts = {"this": _month_first(0, today), "last": _month_first(1, today), "before": _month_first(2, today)}
        this_start = utc_start_of(firsts["this"])
        moments = [(utc_start_of(firsts["before"]) + timedelta(days=10), 60),
                   (utc_start_of(firsts["last"]) + timedelta(days=3), 80),
                   (utc_start_of(firsts["last"]) + timedelta(days=20), 90),
                   (this_start + (now - this_start) / 2, 10)]  # this month, whatever today's hour
        uuids = []
        for ended, score in moments:
            visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                                 state="approved", planned_from=ended.date(), planned_to=ended.date(),
                                 started_at=ended - timedelta(minutes=20), ended_at=ended, score=score)
            uuids.append(str(visit.uuid))
        firsts["uuids"] = uuids
    return firsts


def test_a_calendar_period_is_the_organisations_month_quarter_or_year(app):
    now = datetime(2026, 11, 26, 12, 0)  # UTC; Budapest left summer time on 25 October
    with app.app_context():
        october = periods.parse("2026-10", now)
        assert (october.start, october.end, october.previous_start) == (
            datetime(2026, 9, 30, 22, 0), datetime(2026, 10, 31, 23, 0), datetime(2026, 8, 31, 22, 0))
        assert (october.first_day, october.last_day) == (date(2026, 10, 1), date(2026, 10, 31))
        assert october.name("en") == "October 2026" and october.name("hu") == "2026. október"
        running = periods.parse("2026-11", now)  # this month counts up to now, against the whole of October
        assert (running.start, running.end, running.previous_start, running.last_day) == (
            datetime(2026, 10, 31, 23, 0), now, october.start, date(2026, 11, 26))
        third = periods.parse("2026-Q3", now)
        assert (third.start, third.end, third.previous_start) == (
            datetime(2026, 6, 30, 22, 0), datetime(2026, 9, 30, 22, 0), datetime(2026, 3, 31, 22, 0))
        assert third.name("en") == "3rd quarter 2026" and third.name("ru") == "3-й квартал 2026\u202fг."
        # A name stands alone (a heading, a menu option): it starts with a capital in every language.
        assert third.name("ro") == "Trimestrul al III-lea 2026" and october.name("ru") == "Октябрь 2026\u202fг."
        assert october.name("et") == "Oktoober 2026" and october.name("bg") == "Октомври 2026\u202fг."
        year = periods.parse("2025", now)
        assert (year.first_day, year.last_day, year.previous_start) == (
            date(2025, 1, 1), date(2025, 12, 31), datetime(2023, 12, 31, 23, 0))
        rolling = periods.parse("30", now)
        assert (rolling.first_day, rolling.end, rolling.name("en")) == (date(2026, 10, 27), now, None)
        for token in ("2026-12", "2027-Q1", "2027", "2026-13", "2026-00", "1999", "9999", "5", "731", "abc", ""):
            assert periods.parse(token, now) is None, token  # the future, no such period, or out of bounds
        offered = periods.calendar_tokens(now)
        assert offered["month"][:2] == ["2026-11", "2026-10"] and offered["month"][-1] == "2025-12"
        assert offered["quarter"] == ["2026-Q4", "2026-Q3", "2026-Q2", "2026-Q1", "2025-Q4"]
        assert offered["year"] == ["2026", "2025", "2024"]


def test_the_dashboard_shows_a_month_against_the_month_before(app, org, login_as, months):
    manager = _english(login_as("manager"))
    token = f"{months['last']:%Y-%m}"
    for path in ("/dashboard/", "/dashboard/ranking"):
        html = manager.get(f"{path}?period={token}").get_data(as_text=True)
        # The menu names the month in the reader's words, grouped; it is the one selected.
        name = f"{months['last']:%B %Y}"
        assert re.search(rf'<optgroup label="Months">.*<option selected value="{token}">{name}</option>', html, re.S) or \
            re.search(rf'<option value="{token}" selected>{name}</option>', html), html[:3000]
        assert f'<option value="{months["this"]:%Y-%m}">{months["this"]:%B %Y} (so far)</option>' in html
        last_day = months["this"] - timedelta(days=1)
        assert (f"Approved visits made from {months['last']:%b} 1, {months['last'].year} to "
                f"{last_day:%b} {last_day.day}, {last_day.year} are counted.") in html
        row = re.search(r"<strong>BUD-01</strong>.*?</tr>", html, re.S).group(0)
        # Two visits, 85 on average, 25 points above the month before (this month's 10 is not counted).
        assert re.findall(r'class="num">([^<]*)<', row)[:2] == ["2", "85.0%"] and "▲ 25.0\u00a0pp" in row, row
        assert f"/reports/branches/{org['branches'][0].id}/visits.pdf?period={token}" in row
    this_month = manager.get(f"/dashboard/ranking?period={months['this']:%Y-%m}").get_data(as_text=True)
    row = re.search(r"<strong>BUD-01</strong>.*?</tr>", this_month, re.S).group(0)
    assert re.findall(r'class="num">([^<]*)<', row)[:2] == ["1", "10.0%"] and "▼ 75.0\u00a0pp" in row, row
    branch_page = manager.get(f"/dashboard/branches/{org['branches'][0].id}?period={token}").get_data(as_text=True)
    assert re.findall(r"/reports/visits/([0-9a-f-]+)\.pdf", branch_page) == [months["uuids"][2], months["uuids"][1]]


def test_a_bookmarked_month_older_than_the_menu_stays_chosen(app, org, login_as, months):
    manager = _english(login_as("manager"))
    html = manager.get("/dashboard/?period=2021-03").get_data(as_text=True)
    assert re.search(r'<option (selected )?value="2021-03"( selected)?>March 2021</option>', html)
    assert "Approved visits made from Mar 1, 2021 to Mar 31, 2021 are counted." in html


def test_the_reports_and_exports_of_a_month_hold_that_month_only(app, org, login_as, months):
    manager = _english(login_as("manager"))
    token = f"{months['last']:%Y-%m}"
    last_day = months["this"] - timedelta(days=1)
    branch_id, region_id = org["branches"][0].id, org["regions"][0].id
    report = manager.get(f"/reports/branches/{branch_id}/visits.pdf?period={token}&lang=en")
    assert report.status_code == 200
    assert f"BUD-01-report-{months['last']:%Y%m%d}-{last_day:%Y%m%d}-en.pdf" in report.headers["Content-Disposition"]
    text = _pdf_text(report.data)
    month = f"{months['last']:%B %Y}"
    assert f"{month} · Period: {months['last']:%B} 1, {months['last'].year} to {last_day:%B} {last_day.day}, {last_day.year}" in text
    assert "2 approved visits" in text and "85.0%" in text
    # Its trend ends with its month: the month after (this one) is not on it.
    assert f"{months['last']:%b %Y}" in text and f"{months['this']:%b %Y}" not in text
    hungarian = _pdf_text(manager.get(f"/reports/branches/{branch_id}/visits.pdf?period={token}&lang=hu").data)
    with app.app_context():
        assert periods.parse(token, utcnow()).name("hu") in hungarian  # "2026. október"
    ranking = _pdf_text(manager.get(f"/reports/regions/{region_id}.pdf?period={token}&lang=en").data)
    assert f"{month} · Period:" in ranking and "85.0%" in ranking and "25.0 pp" in ranking
    exported = manager.get(f"/reports/export.csv?kind=visits&period={token}")
    rows = exported.data.decode("utf-8-sig").splitlines()[1:]
    assert sorted(row.split(",")[0] for row in rows) == sorted(months["uuids"][1:3])
    # Named for what it holds: two months' files no longer both "visits.csv".
    assert exported.headers["Content-Disposition"].endswith(f'"visits-{months["last"]:%Y%m%d}-{last_day:%Y%m%d}.csv"')
    # The region's ZIP: its name and its reports say which month.
    started = manager.post(f"/reports/regions/{region_id}/reports.zip?period={token}&lang=en",
                           data={"csrf_token": csrf_from(manager.get("/dashboard/"))})
    with app.app_context(), database.connection_context():
        job = Job.get()
    assert job.status == "done" and job.title == f"Aurora Electronics · Hungary · {month} · English"
    archive = zipfile.ZipFile(io.BytesIO(manager.get(started.headers["Location"] + "/download").data))
    assert f"{month} · Period:" in _pdf_text(archive.read(f"BUD-01-report-{months['last']:%Y%m%d}-{last_day:%Y%m%d}-en.pdf"))
    for wrong in ("2099-01", "2026-13", "abc"):  # a period that is none, or has not begun: nothing to show
        assert manager.get(f"/reports/branches/{branch_id}/visits.pdf?period={wrong}").status_code == 404
        refused = manager.post(f"/reports/regions/{region_id}/reports.zip?period={wrong}",
                               data={"csrf_token": csrf_from(manager.get("/dashboard/"))})
        assert refused.status_code == 404
    with app.app_context(), database.connection_context():
        assert Job.select().count() == 1  # the refused ones started nothing


def test_an_action_added_or_done_on_a_months_dashboard_comes_back_to_that_month(app, org, login_as, months):
    manager = login_as("manager")
    token = f"{months['last']:%Y-%m}"
    csrf = csrf_from(manager.get(f"/dashboard/?period={token}"))
    with app.app_context():
        today = local_today()  # Budapest's: past 23:00 UTC its date is tomorrow's
    added = manager.post(f"/dashboard/actions?period={token}&brand=0", data={
        "branch": org["branches"][0].id, "what": "Clear the doorway", "owner": "Store lead",
        "due_date": today.isoformat(), "csrf_token": csrf})
    assert added.status_code == 302 and added.headers["Location"] == f"/dashboard/?period={token}&brand=0#actions"
    with app.app_context(), database.connection_context():
        from audit.models import Action

        action = Action.get(Action.what == "Clear the doorway")
    done = manager.post(f"/dashboard/actions/{action.id}/done?period={months['last'].year}-Q{(months['last'].month - 1) // 3 + 1}",
                        data={"csrf_token": csrf})
    assert done.headers["Location"] == f"/dashboard/?period={months['last'].year}-Q{(months['last'].month - 1) // 3 + 1}#actions"


@pytest.mark.parametrize("token", ["٢٠٢٦", "２０２６", "٢٠٢٦-١٠", "0000", "0000-01", "0000-Q1"])
def test_a_period_in_other_digits_or_of_year_zero_is_no_period(app, org, login_as, token):
    """Digits of other scripts named the same year a second way: two "2026" in the menu, and the odd
    token carried into every link and report. Year 0000 is no date at all: it was a 500 on every page
    that takes a period."""
    manager = login_as("manager")
    html = manager.get(f"/dashboard/?period={token}").get_data(as_text=True)
    assert '<option selected value="182">' in html and f'value="{token}"' not in html
    assert "/visits.pdf?period=182" in html and f"period={token}" not in html.replace(f'name="next" value="/dashboard/?period={token}"', "")
    assert manager.get(f"/reports/branches/{org['branches'][0].id}/visits.pdf?period={token}").status_code == 404
    assert manager.get(f"/reports/export.csv?period={token}").status_code == 404


def test_a_zip_of_days_is_titled_in_the_language_of_its_reports(app, org, login_as, months):
    """A rolling period's days were written in the page's language, a calendar month's name in the
    reports': an English page's Bulgarian ZIP was "Oct 28, 2026 – Nov 27, 2026 · Български"."""
    from flask_babel import force_locale, format_date

    manager = _english(login_as("manager"))
    region_id = org["regions"][0].id
    started = manager.post(f"/reports/regions/{region_id}/reports.zip?days=30&lang=bg",
                           data={"csrf_token": csrf_from(manager.get("/dashboard/"))})
    assert started.status_code == 302
    with app.test_request_context(), force_locale("bg"):
        period = periods.parse("30", utcnow())
        days = f"{format_date(period.first_day)} – {format_date(period.last_day)}"
    with app.app_context(), database.connection_context():
        job = Job.get()
    assert job.title == f"Aurora Electronics · Hungary · {days} · Български"
    assert re.search("[а-я]", days)  # a Bulgarian month's abbreviation, not "Oct"
