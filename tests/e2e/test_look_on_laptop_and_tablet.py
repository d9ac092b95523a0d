"""How the auditor's and the manager's pages look on a 768 px tablet and a 1280 px laptop, in the
languages with the longest words (Bulgarian, Hungarian), measured in Chromium as a user meets them:
touch targets of 44 px on the tablet, no column cut off behind a scroll, nothing squeezed unreadable."""
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from audit import ROOT
from audit.db import database
from audit.demo import best_answers
from audit.models import Branch, Job, User, Visit, utcnow
from audit.operations import publish_checklist_file, submit_visit
from audit.password_links import unusable_password
from audit.review import approve
from conftest import PASSWORD

# What the page shows and does with it, whatever the database: run in the SQLite pass only.
pytestmark = [pytest.mark.browser, pytest.mark.page_only]

TABLET = {"viewport": {"width": 768, "height": 1024}, "has_touch": True}
LAPTOP = {"viewport": {"width": 1280, "height": 800}}
# The height of an element's text, without its padding.
TEXT_HEIGHT = """element => { const range = document.createRange(); range.selectNodeContents(element);
                               return range.getBoundingClientRect().height; }"""


def _signed_in(app, browser, base, who, language, screen):
    with app.app_context(), database.connection_context():
        User.update(language=language).where(User.email == f"{who}@example.com").execute()
    context = browser.new_context(**screen)
    page = context.new_page()
    page.goto(base + "/login")
    page.locator("#email").fill(f"{who}@example.com")
    page.locator("#password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    return context, page


def _heights(locator):
    return [round(box["height"]) for box in locator.evaluate_all(
        "links => links.map(link => link.getBoundingClientRect().toJSON())")]


def test_list_links_are_touch_targets_on_a_tablet(app, browser, live_server, org, sent):
    """A brand, a region, a brand's branches as CSV, a file made lately: each a link alone in its list
    item, 19-24 px tall on a tablet, where a finger taps as on a phone."""
    with app.app_context(), database.connection_context():
        Job.create(kind="xlsx_export", owner=org["users"]["manager"], status="done", title="Aurora Electronics")
    context, page = _signed_in(app, browser, live_server, "auditor", "hu", TABLET)
    for path, links in (("/admin/brands", "ul.list li a"), ("/admin/regions", "ul.list li a"),
                        ("/admin/branches/import", "ul.csv-links li a")):
        page.goto(live_server + path)
        heights = _heights(page.locator(links))
        assert len(heights) == 2 and min(heights) >= 44, (path, heights)
    # A table's row, led by its link (an account, a branch, a visit), and the way back from a review.
    page.goto(live_server + "/admin/users")
    heights = _heights(page.locator("tbody th a"))
    assert len(heights) == 5 and min(heights) >= 44, heights
    page.goto(live_server + "/review/")
    page.locator("tbody th a").first.click()
    assert _heights(page.locator("main a.back")) == [44]
    context.close()
    context, page = _signed_in(app, browser, live_server, "manager", "bg", TABLET)
    page.goto(live_server + "/dashboard/")
    page.locator("details.region-reports summary").last.click()
    heights = _heights(page.locator("details.region-reports ul.list li a"))
    assert len(heights) == 1 and min(heights) >= 44, heights
    context.close()


@pytest.fixture
def sent(app, org):
    """A visit of the retail checklist, sent and waiting for review, at each branch."""
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        for branch in org["branches"]:
            visit = Visit.create(branch=branch, checklist_version=version, shopper=org["users"]["shopper"],
                                 planned_from=date.today() - timedelta(days=3), planned_to=date.today())
            submit_visit(visit, best_answers(version.content), {}, {},
                         started_at=utcnow() - timedelta(minutes=40), ended_at=utcnow())


@pytest.mark.parametrize("language", ["bg", "hu"])
def test_review_queue_keeps_every_column_in_sight_on_a_tablet(app, browser, live_server, sent, language):
    """Seven columns under headings such as "Критично нарушение" and "Ellenőrzőlista": at 768 px the
    last one (critical failure, yes or no) was cut off behind a scroll the reviewer had to find."""
    context, page = _signed_in(app, browser, live_server, "auditor", language, TABLET)
    page.goto(live_server + "/review/")
    table = page.locator(".table-wrap").first
    expect(table.locator("tbody tr")).to_have_count(2)
    overflow = table.evaluate("wrap => wrap.scrollWidth - wrap.clientWidth")
    assert overflow <= 0, f"{overflow} px of the queue hidden behind a scroll"
    context.close()


def test_invitation_link_is_wide_enough_to_read_on_a_tablet(app, browser, live_server, org):
    """The link the auditor copies for each person: at 768 px the e-mail address, one long word, left
    its box 70 px, "http://1"."""
    with app.app_context(), database.connection_context():
        User.create(email="szentgyorgyi.erzsebet@example.com", name="Szentgyörgyi Erzsébet", role="manager",
                    language="hu", password_hash=unusable_password())
    context, page = _signed_in(app, browser, live_server, "auditor", "bg", TABLET)
    page.goto(live_server + "/admin/users/invitations")
    link = page.locator("td.invitation-link input")
    font_size = link.evaluate("input => parseFloat(getComputedStyle(input).fontSize)")
    assert link.bounding_box()["width"] >= 12 * font_size
    overflow = page.locator(".table-wrap").evaluate("wrap => wrap.scrollWidth - wrap.clientWidth")
    assert overflow <= 0, f"{overflow} px of the invitations hidden behind a scroll"
    context.close()
    # A laptop has room for the address on one line beside the link.
    context, page = _signed_in(app, browser, live_server, "auditor", "bg", LAPTOP)
    page.goto(live_server + "/admin/users/invitations")
    email = page.locator("td.email")
    line = email.evaluate("cell => parseFloat(getComputedStyle(cell).lineHeight)")
    assert email.evaluate(TEXT_HEIGHT) < 1.5 * line, "the e-mail address wraps on a laptop"
    context.close()


@pytest.mark.parametrize("language", ["et", "hu"])
def test_ranking_keeps_a_branch_code_whole_on_a_tablet(app, browser, live_server, org, sent, language):
    """The branch column, squeezed by the others' headings ("Võrreldes eelmise perioodiga"), broke the
    code at its hyphen: "BUD-" on one line, "01" on the next."""
    with app.app_context(), database.connection_context():
        for visit in Visit.select():
            approve(visit, org["users"]["auditor"])
    context, page = _signed_in(app, browser, live_server, "manager", language, TABLET)
    page.goto(live_server + "/dashboard/")
    code = page.locator("#ranking th.ranked strong").first
    expect(code).to_have_text("BUD-01")
    line = code.evaluate("code => parseFloat(getComputedStyle(code).lineHeight)")
    assert code.bounding_box()["height"] < 1.5 * line, "the branch code is broken over two lines"
    # Its link is a 44 px target, beside its place in the ranking (not on a line under it).
    link, place = page.locator("#ranking th.ranked a").first, page.locator("#ranking th.ranked .place").first
    assert link.bounding_box()["height"] >= 44
    assert abs(code.bounding_box()["y"] - place.bounding_box()["y"]) < line / 2
    context.close()


def _gap(page, upper, lower):
    """The room between the bottom of `upper` and the top of `lower`, in px."""
    return page.locator(lower).bounding_box()["y"] - sum(
        page.locator(upper).bounding_box()[key] for key in ("y", "height"))


def test_a_button_stands_apart_from_the_text_above_it(app, browser, live_server, org, sent):
    """The import page's Import button touched the hint over it, and the review's Approve button the
    label of the note to send back with a return, as if the two went together."""
    context, page = _signed_in(app, browser, live_server, "auditor", "hu", LAPTOP)
    page.goto(live_server + "/admin/users/import")
    assert _gap(page, "main form.card > p.hint", "main form.card > button[type=submit]") >= 12
    page.goto(live_server + "/review/")
    page.locator("tbody th a").first.click()
    assert _gap(page, ".decision form >> nth=0", ".decision form >> nth=1 >> label") >= 20
    context.close()


def test_a_link_in_a_table_row_is_level_with_the_row_text(app, browser, live_server, org, sent):
    """A row's PDF link, kept a 44 px target, sat 10 px below the branch, the visits and the score
    beside it on the ranking, and the same on every table with a link in a cell."""
    with app.app_context(), database.connection_context():
        for visit in Visit.select():
            approve(visit, org["users"]["auditor"])
    context, page = _signed_in(app, browser, live_server, "manager", "bg", LAPTOP)
    page.goto(live_server + "/dashboard/")
    row = page.locator("#ranking tbody tr").filter(has=page.locator("td a")).first
    text_top = """cell => { const range = document.createRange(); range.selectNodeContents(cell);
                            return range.getClientRects()[0].top; }"""
    score, link = row.locator("td.num").first, row.locator("td a")
    assert abs(link.evaluate(text_top) - score.evaluate(text_top)) <= 2
    assert link.bounding_box()["height"] >= 44
    context.close()


def test_branch_list_keeps_each_code_whole_on_a_tablet(app, browser, live_server, org):
    """The branches' table on a tablet gave the code column the width of "BUD-" and broke every code
    at its hyphen."""
    with app.app_context(), database.connection_context():
        Branch.create(region=org["regions"][0], code="DEB-01", name="Aurora Debrecen Fórum",
                      address="Október huszonharmadika utca 8-10.", city="Debrecen", country="HU")
    context, page = _signed_in(app, browser, live_server, "auditor", "hu", TABLET)
    page.goto(live_server + "/admin/branches")
    for code in page.locator("tbody th a").all():
        line = code.evaluate("code => parseFloat(getComputedStyle(code).lineHeight)")
        assert code.locator(".code").bounding_box()["height"] < 1.5 * line, code.inner_text()
    context.close()
