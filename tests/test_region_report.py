"""The region report after its ranking: the region as a whole against its brand, for a board. Read
back from the real PDF, its figures checked against the stored visits and answers counted here."""
import io
from collections import Counter, defaultdict

import pytest
from babel.dates import format_date
from pypdf import PdfReader

from audit import periods
from audit.db import database
from audit.demo import DEMO_PASSWORD
from audit.localtime import local_date
from audit.models import Answer, Branch, Visit, VisitState, utcnow
from conftest import demo_data, login
from tests_support import translated

PERIOD = "182"


@pytest.fixture
def region(app):
    """The demo's Hungarian region: its id, its branches' ids and the period's approved visits."""
    with app.app_context(), database.connection_context():
        demo_data()
        region_id = Branch.get(Branch.code == "BUD-01").region_id
        ids = [b.id for b in Branch.select().where(Branch.region == region_id)]
        period = periods.parse(PERIOD, utcnow())
        visits = list(Visit.select().where(Visit.branch.in_(ids) & (Visit.state == VisitState.APPROVED.value)
                                           & (Visit.ended_at >= period.start) & (Visit.ended_at < period.end)))
    assert len(visits) > 5
    return {"id": region_id, "branches": ids, "visits": visits}


def _pages(app, region_id, language="en"):
    client = app.test_client()
    assert login(client, "manager.hu@example.com", DEMO_PASSWORD).status_code == 302
    response = client.get(f"/reports/regions/{region_id}.pdf?lang={language}&period={PERIOD}")
    assert response.status_code == 200
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.data)).pages]


def _after(text, heading, until=None):
    part = text.split(heading, 1)[1]
    return part.split(until, 1)[0] if until else part


def test_the_region_as_a_whole_follows_its_ranking_on_a_page_of_its_own(app, region):
    pages = _pages(app, region["id"])
    assert "All branches" in pages[0] and "Trend" not in pages[0]
    rest = " ".join(pages[1:])
    for heading in ("Trend", "Sections", "Service quality dimensions", "Failed most often", "Critical failures"):
        assert heading in rest, heading
    # The region's bars, marked with its brand's average, named in the legend.
    with app.app_context(), database.connection_context():
        name = Branch.get_by_id(region["branches"][0]).region.name
    assert f"{name} Brand average" in rest


def test_the_regions_trend_gives_each_months_average_of_its_visits(app, region):
    """Each whole calendar month the period touches (the first one too, before the period began)."""
    months = defaultdict(list)
    with app.app_context(), database.connection_context():
        first = local_date(periods.parse(PERIOD, utcnow()).start).replace(day=1)
        for visit in Visit.select().where(Visit.branch.in_(region["branches"])
                                          & (Visit.state == VisitState.APPROVED.value)):
            if local_date(visit.ended_at) >= first:
                months[local_date(visit.ended_at).replace(day=1)].append(float(visit.score))
    assert len(months) > 3
    text = " ".join(_pages(app, region["id"])[1:])
    for month, scores in months.items():
        # The chart's point: the month as the reader names it, then its average.
        assert f"{format_date(month, 'LLL yyyy', locale='en')} {sum(scores) / len(scores):.1f}%" in text


def test_the_questions_failed_most_often_are_counted_across_the_regions_branches(app, region):
    """Of the checklist the region used most in the period (the demo's region also has phone enquiries),
    every branch's answers counted together."""
    with app.app_context(), database.connection_context():
        used = Counter(v.checklist_version.checklist_id for v in region["visits"])
        assert len(used) > 1
        (most_used, _count), = used.most_common(1)
        visits = [v for v in region["visits"] if v.checklist_version.checklist_id == most_used]
        answers = list(Answer.select().where(Answer.visit.in_([v.id for v in visits])
                                             & Answer.possible.is_null(False)))
        failed = Counter(a.item_id for a in answers if a.failed)
        answered = Counter(a.item_id for a in answers)
        version = visits[0].checklist_version.content
        branches_failing = {v.branch_id for v in visits for a in answers if a.visit_id == v.id and a.failed}
    assert len(branches_failing) > 1
    texts = {item["id"]: item["text"]["en"] for section in version["sections"] for item in section["items"]}
    (top, failures), = failed.most_common(1)
    listed = _after(" ".join(_pages(app, region["id"])[1:]), "Failed most often", "Critical failures")
    assert f"{texts[top]} {failures} / {answered[top]}" in listed


def test_critical_failures_are_listed_by_branch_with_the_questions_that_capped_them(app, region):
    with app.app_context(), database.connection_context():
        critical = [v for v in region["visits"] if v.has_critical_failure]
        per_branch = Counter(v.branch_id for v in critical)
        codes = {b.id: f"{b.code} {b.name}" for b in Branch.select().where(Branch.id.in_(region["branches"]))}
    assert critical, "the demo's region has a critical failure in the period"
    listed = _after(" ".join(_pages(app, region["id"])[1:]), "Critical failures")
    for branch_id, count in per_branch.items():
        assert f"{codes[branch_id]} {count}" in listed
    for branch_id in set(region["branches"]) - set(per_branch):
        assert codes[branch_id] not in listed


def test_a_region_without_critical_failures_says_so(app, region):
    with app.app_context(), database.connection_context():
        Visit.update(has_critical_failure=False).where(Visit.branch.in_(region["branches"])).execute()
    listed = _after(" ".join(_pages(app, region["id"])[1:]), "Critical failures")
    assert "No critical failures in this period." in listed


def test_the_regions_zip_opens_with_its_region_report(app, region):
    """The ZIP a manager hands on: the region report first, the same as downloaded alone, then each
    branch's; its job counts the region report among its reports."""
    import html
    import re
    import zipfile

    from audit.models import Job
    from conftest import csrf_from

    client = app.test_client()
    assert login(client, "manager.hu@example.com", DEMO_PASSWORD).status_code == 302
    page = client.get(f"/dashboard/?period={PERIOD}").get_data(as_text=True)
    action = html.unescape(re.search(r'action="(/reports/regions/\d+/reports\.zip\?[^"]*)"', page).group(1))
    started = client.post(action + "&lang=en", data={"csrf_token": csrf_from(client.get("/dashboard/"))})
    assert started.status_code == 302  # the tests' queue runs the job at once
    with app.app_context(), database.connection_context():
        job = Job.get()
    assert (job.status, job.done, job.total) == ("done", len(region["branches"]) + 1, len(region["branches"]) + 1)
    ready = translated(app, "hu", "All %(count)d reports are ready.") % {"count": job.total}  # the manager's language
    assert ready in client.get(started.headers["Location"]).get_data(as_text=True)
    archive = zipfile.ZipFile(io.BytesIO(client.get(started.headers["Location"] + "/download").data))
    names = archive.namelist()
    assert names[0].startswith(f"region-{region['id']}-") and len(names) == len(region["branches"]) + 1

    def text(data):
        return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]

    assert text(archive.read(names[0])) == _pages(app, region["id"])
    assert all(re.fullmatch(r"[A-Z]{3}-\d\d-report-\d{8}-\d{8}-en\.pdf", name) for name in names[1:])
