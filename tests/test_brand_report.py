"""The brand report: a chain's regions ranked, then the chain as a whole, for its board. Read back from
the real PDF, its figures checked against the stored visits and their section scores counted here."""
import io
import re
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from pypdf import PdfReader

from audit import periods
from audit.db import database
from audit.demo import DEMO_PASSWORD
from audit.models import (Brand, Branch, Checklist, ChecklistVersion, ManagerRegion, Region, Role, User, Visit,
                          VisitScore, VisitState, utcnow)
from conftest import demo_data, login
from tests_support import translated

PERIOD = "182"
SPLIT = "Sofia and Plovdiv"


@pytest.fixture
def chain(app):
    """The demo's Aurora Electronics as a chain of three regions, two of them manager.hu's.

    The demo's managers have one region of each brand (manager.ee: one of Aurora's two, and Baltia's
    only one), so Aurora's Bulgarian branches become a region of their own and manager.hu also gets
    "Romania and Bulgaria": a manager of some regions of a brand, not all."""
    with app.app_context(), database.connection_context():
        demo_data()
        assert not any(count > 1 for count in Counter(
            (mr.manager_id, mr.region.brand_id) for mr in ManagerRegion.select()).values())
        brand = Brand.get(Brand.name == "Aurora Electronics")
        split = Region.create(brand=brand, name=SPLIT)
        Branch.update(region=split).where(Branch.code.in_(["SOF-01", "PDV-01"])).execute()
        manager = User.get(User.email == "manager.hu@example.com")
        ManagerRegion.create(manager=manager, region=Region.get(Region.name == "Romania and Bulgaria"))
        period = periods.parse(PERIOD, utcnow())
        regions = {r.id: r.name for r in Region.select().where(Region.brand == brand)}
        branches = {b.id: b.region_id for b in Branch.select().where(Branch.region.in_(list(regions)))}
        visits = list(Visit.select().where(Visit.branch.in_(list(branches)) & (Visit.state == VisitState.APPROVED.value)
                                           & (Visit.ended_at >= period.start) & (Visit.ended_at < period.end)))
        before = Visit.select().where(Visit.branch.in_(list(branches)) & (Visit.state == VisitState.APPROVED.value)
                                      & (Visit.ended_at < period.start)).count()
        versions = {v.id: v.checklist_id for v in ChecklistVersion.select()}
        slugs = {c.id: c.slug for c in Checklist.select()}
        scores = defaultdict(list)  # (region id, checklist id, section) -> percents
        for visit_id, key, percent in VisitScore.select(VisitScore.visit, VisitScore.key, VisitScore.percent).where(
                VisitScore.visit.in_([v.id for v in visits]) & (VisitScore.kind == "section")
                & VisitScore.percent.is_null(False)).tuples():
            visit = next(v for v in visits if v.id == visit_id)
            scores[(branches[visit.branch_id], versions[visit.checklist_version_id], key)].append(float(percent))
        shoppers = [u.name for u in User.select().where(User.role == Role.SHOPPER.value)]
    assert before == 0, "the period holds the whole demo: no change to show"
    return {"brand": brand.id, "regions": regions, "branches": branches, "visits": visits, "versions": versions,
            "slugs": slugs, "scores": scores, "shoppers": shoppers}


def _get(app, email, brand_id, query=""):
    client = app.test_client()
    assert login(client, email, DEMO_PASSWORD).status_code == 302
    return client.get(f"/reports/brands/{brand_id}.pdf?period={PERIOD}{query}")


def _pages(response):
    assert response.status_code == 200
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.data)).pages]


def _expected_rows(chain, region_ids, checklist=None):
    """[(region name, branches, visits, mean)] best first, and the whole (visits, mean), from the visits."""
    visits = [v for v in chain["visits"] if chain["branches"][v.branch_id] in region_ids
              and (checklist is None or chain["versions"][v.checklist_version_id] == checklist)]
    rows = []
    for region_id in region_ids:
        mine = [float(v.score) for v in visits if chain["branches"][v.branch_id] == region_id]
        branches = sum(1 for r in chain["branches"].values() if r == region_id)
        rows.append((chain["regions"][region_id], branches, len(mine), sum(mine) / len(mine) if mine else None))
    rows.sort(key=lambda row: (row[3] is None, -(row[3] or 0)))
    every = [float(v.score) for v in visits]
    return rows, (len(every), sum(every) / len(every)), visits


def test_the_regions_are_ranked_by_the_average_of_their_visits_with_the_brand_as_last_row(app, chain):
    rows, (visits, mean), counted = _expected_rows(chain, list(chain["regions"]))
    # The sections are those of the checklist most used in the period.
    most_used = Counter(chain["versions"][v.checklist_version_id] for v in counted).most_common(1)[0][0]
    response = _get(app, "auditor@example.com", chain["brand"], "&lang=en")
    assert re.fullmatch(rf'inline; filename="brand-{chain["brand"]}-\d{{8}}-\d{{8}}-en\.pdf"',
                        response.headers["Content-Disposition"])
    text = " ".join(_pages(response))
    assert "All 3 regions of the brand" in text
    places = []
    for place, (name, branches, count, average) in enumerate(rows, 1):
        region_id = next(i for i, n in chain["regions"].items() if n == name)
        section = chain["scores"][(region_id, most_used, "arrival")]
        row = f"{place} {name} {branches} {count} {average:.1f}% — {sum(section) / len(section):.1f}%"
        assert row in text, row
        places.append(text.index(row))
    assert places == sorted(places) and len(places) == 3
    assert f"Aurora Electronics 8 {visits} {mean:.1f}% —" in text
    assert f"{visits} approved visits · Average score: {mean:.1f}%" in text


def test_a_manager_of_some_regions_gets_theirs_alone_against_the_brand(app, chain):
    mine = [i for i, name in chain["regions"].items() if name != SPLIT]
    rows, (visits, mean), _counted = _expected_rows(chain, mine)
    text = " ".join(_pages(_get(app, "manager.hu@example.com", chain["brand"], "&lang=en")))
    assert "2 of 3 regions: Hungary, Romania and Bulgaria" in text
    for place, (name, branches, count, average) in enumerate(rows, 1):
        assert f"{place} {name} {branches} {count} {average:.1f}%" in text
    assert f"All regions of this report 6 {visits} {mean:.1f}%" in text
    # Not the other region, nor its branches; its visits are in the brand's average alone.
    assert SPLIT not in text and "SOF-01" not in text and "PDV-01" not in text
    assert "The regions of this report Brand average" in text


def test_a_brand_of_one_region_says_it_is_the_only_one(app, chain):
    """"All 1 region of the brand" said the report of a bank with one region."""
    with app.app_context(), database.connection_context():
        baltia = Brand.get(Brand.name == "Baltia Bank")
        assert Region.select().where(Region.brand == baltia).count() == 1
    text = " ".join(_pages(_get(app, "auditor@example.com", baltia.id, "&lang=en")))
    assert "The only region of the brand" in text and "All 1 region" not in text


def test_a_manager_of_none_of_the_brands_regions_gets_a_missing_page(app, chain):
    with app.app_context(), database.connection_context():
        baltia = Brand.get(Brand.name == "Baltia Bank").id
    assert _get(app, "manager.hu@example.com", baltia).status_code == 404
    assert _get(app, "manager.ee@example.com", baltia).status_code == 200
    assert _get(app, "auditor@example.com", 999999).status_code == 404


def test_the_highest_and_lowest_branches_are_listed_with_their_region(app, chain):
    """Eight branches: every one, best first, with its region."""
    scores = defaultdict(list)
    for visit in chain["visits"]:
        scores[visit.branch_id].append(float(visit.score))
    with app.app_context(), database.connection_context():
        names = {b.id: f"{b.code} {b.name} {b.region.name}" for b in Branch.select().where(
            Branch.id.in_(list(scores)))}
    order = sorted(scores, key=lambda b: -sum(scores[b]) / len(scores[b]))
    text = " ".join(_pages(_get(app, "auditor@example.com", chain["brand"], "&lang=en")))
    listed = text.split("Failed most often")[0].rsplit("Branches", 1)[1]
    positions = []
    for place, branch_id in enumerate(order, 1):
        row = f"{place} {names[branch_id]} {len(scores[branch_id])} {sum(scores[branch_id]) / len(scores[branch_id]):.1f}%"
        assert row in listed, row
        positions.append(listed.index(row))
    assert positions == sorted(positions)


def test_critical_failures_are_counted_by_region(app, chain):
    per_region = Counter(chain["branches"][v.branch_id] for v in chain["visits"] if v.has_critical_failure)
    assert len(per_region) > 1
    listed = " ".join(_pages(_get(app, "auditor@example.com", chain["brand"], "&lang=en"))).split(
        "Critical failures")[-1]
    for region_id, count in per_region.items():
        assert f"{chain['regions'][region_id]} {count}" in listed


def test_no_shopper_is_named(app, chain):
    for email in ("manager.hu@example.com", "auditor@example.com"):
        text = " ".join(_pages(_get(app, email, chain["brand"], "&lang=en")))
        for name in chain["shoppers"]:
            assert name not in text
            assert name.split()[-1] not in text


def test_a_report_of_the_dashboards_checklist_counts_its_visits_alone(app, chain):
    enquiry = next(i for i, slug in chain["slugs"].items() if slug == "phone-and-online-enquiry")
    rows, (visits, mean), _counted = _expected_rows(chain, list(chain["regions"]), checklist=enquiry)
    everything, _whole, _counted = _expected_rows(chain, list(chain["regions"]))
    response = _get(app, "auditor@example.com", chain["brand"], f"&lang=en&checklist={enquiry}")
    assert f'brand-{chain["brand"]}-phone-and-online-enquiry-' in response.headers["Content-Disposition"]
    text = " ".join(_pages(response))
    for place, (name, branches, count, average) in enumerate(rows, 1):
        assert (f"{place} {name} {branches} {count} {average:.1f}%" if average is not None
                else f"— {name} {branches} 0 — —") in text
    assert visits < sum(row[2] for row in everything)
    assert f"Aurora Electronics 8 {visits} {mean:.1f}%" in text


def test_a_period_without_approved_visits_says_so(app, chain):
    month = f"{(utcnow() - timedelta(days=300)):%Y-%m}"
    client = app.test_client()
    assert login(client, "auditor@example.com", DEMO_PASSWORD).status_code == 302
    text = " ".join(_pages(client.get(f"/reports/brands/{chain['brand']}.pdf?period={month}&lang=en")))
    assert "No approved visits in this period." in text
    for name in chain["regions"].values():
        assert f"— {name} " in text  # listed without a place
    assert "BUD-01" not in text  # no list of branches without a score


@pytest.mark.parametrize("language", ["hu", "ru"])
def test_the_report_is_in_the_readers_language(app, chain, language):
    text = " ".join(_pages(_get(app, "manager.hu@example.com", chain["brand"], f"&lang={language}")))
    for words in ("Region", "Trend", "Critical failures", "Failed most often", "Branches"):
        assert translated(app, language, words) in text
    assert "Critical failures" not in text and "Trend" not in text
    _rows, (_visits, mean), _counted = _expected_rows(chain, [i for i, n in chain["regions"].items() if n != SPLIT])
    assert f"{mean:.1f}".replace(".", ",") in text  # a decimal comma in both


def test_the_dashboard_offers_the_report_of_a_brand_of_two_regions_or_more(app, chain):
    client = app.test_client()
    assert login(client, "manager.hu@example.com", DEMO_PASSWORD).status_code == 302
    retail = next(i for i, slug in chain["slugs"].items() if slug == "retail-store-visit")
    page = client.get(f"/dashboard/?period={PERIOD}&checklist={retail}").get_data(as_text=True)
    link = re.search(r'href="/reports/brands/(\d+)\.pdf\?([^"]*)"', page)
    assert link and int(link.group(1)) == chain["brand"]
    assert set(link.group(2).replace("&amp;", "&").split("&")) == {f"period={PERIOD}", f"checklist={retail}"}
    # A manager with one region of each brand: the region report is the brand's.
    other = app.test_client()
    assert login(other, "manager.ee@example.com", DEMO_PASSWORD).status_code == 302
    assert "/reports/brands/" not in other.get("/dashboard/").get_data(as_text=True)
