"""The review loop in Chromium: the auditor returns a visit, the shopper corrects and resends it on the
phone, the auditor approves it, and the manager sees it on the dashboard."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from audit import ROOT
from audit.db import database
from audit.demo import best_answers
from audit.models import Visit, VisitState, utcnow
from audit.operations import publish_checklist_file, submit_visit
from tests.e2e.conftest import PHONE, screenshot, sign_in

pytestmark = pytest.mark.browser



@pytest.fixture
def submitted(app, org):
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today() + timedelta(days=3))
        submit_visit(visit, best_answers(version.content), {}, {}, started_at=utcnow() - timedelta(minutes=20),
                     ended_at=utcnow())
    return str(visit.uuid)


def _sign_in(page, base, email):
    sign_in(page, base, email)


def test_return_resend_approve_and_the_manager_sees_it(app, browser, live_server, submitted):
    laptop = browser.new_context(viewport={"width": 1280, "height": 900})
    page = laptop.new_page()
    _sign_in(page, live_server, "auditor@example.com")
    page.get_by_role("link", name="Review").click()
    page.get_by_role("link", name=re.compile("Aurora Váci utca")).click()
    expect(page.get_by_text("Sara Shopper").first).to_be_visible()  # auditors see who made the visit
    page.get_by_label("What the shopper should check or change").fill("Please time the wait at the till.")
    page.get_by_role("button", name="Return to the shopper").click()
    expect(page.get_by_text("The visit went back to the shopper.")).to_be_visible()

    phone = browser.new_context(**PHONE)
    shopper = phone.new_page()
    _sign_in(shopper, live_server, "shopper@example.com")
    expect(shopper.get_by_text("Please time the wait at the till.")).to_be_visible()
    shopper.get_by_role("link", name=re.compile("Fill in")).click()
    expect(shopper.locator('input[name="answer-greeted"][value="yes"]')).to_be_checked()  # what was sent
    shopper.locator("#answer-till_wait").fill("95")
    shopper.get_by_role("button", name="Send the visit").click()
    shopper.wait_for_url(re.compile(r"/visits/$"), timeout=20000)
    with app.app_context(), database.connection_context():
        visit = Visit.get(Visit.uuid == submitted)
        assert visit.state == VisitState.SUBMITTED.value
        assert {a.item_id: a.value for a in visit.answers}["till_wait"] == 95

    page.goto(live_server + f"/review/{submitted}")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("The visit is approved.")).to_be_visible()
    screenshot(page, "review-queue")

    office = browser.new_context(viewport={"width": 1280, "height": 900})  # the manager's own browser
    manager = office.new_page()
    _sign_in(manager, live_server, "manager@example.com")
    expect(manager.get_by_role("rowheader", name=re.compile("BUD-01"))).to_be_visible()
    row = manager.get_by_role("row", name=re.compile("BUD-01"))
    expect(row).to_contain_text("1")
    expect(manager.get_by_text("Sara Shopper")).to_have_count(0)
    screenshot(manager, "dashboard-manager")
    laptop.close()
    phone.close()
    office.close()


def _answer_rows(page):
    """Each answered row's question, answer and "Change this answer" boxes, in page order."""
    return page.evaluate("""() => [...document.querySelectorAll('li.review-row')].filter(
        row => row.querySelector(':scope > details.correct')).map(row => {
            const box = element => { const r = element.getBoundingClientRect(); return {left: r.left + scrollX, right: r.right + scrollX, top: r.top + scrollY, bottom: r.bottom + scrollY}; };
            const summary = row.querySelector(':scope > details.correct > summary');
            const words = document.createRange();  // the words a pointer aims at, not the summary's whole box
            words.selectNodeContents(summary.firstChild);
            return {id: row.id, question: box(row.querySelector('p strong')), answer: box(row.querySelector('p.answer')),
                    button: box(summary), words: box(words), row: box(row)};
        })""")


@pytest.mark.parametrize("screen", ["laptop", "phone"])
def test_change_this_answer_keeps_its_place_on_every_row(app, browser, live_server, submitted, screen):
    """Beside a long question the button dropped below it, beside a short one it stood at the right:
    the rows did not line up. On a wide screen it is in a column of its own, at the row's top; on a
    phone it is under the answer, on every row."""
    options = {"viewport": {"width": 1280, "height": 800}} if screen == "laptop" else PHONE
    context = browser.new_context(**options)
    page = context.new_page()
    _sign_in(page, live_server, "auditor@example.com")
    page.goto(live_server + f"/review/{submitted}")
    rows = _answer_rows(page)
    screenshot(page, f"review-rows-{screen}")
    assert len(rows) > 5
    if screen == "laptop":
        assert len({round(row["button"]["left"]) for row in rows}) == 1, rows
        for row in rows:  # beside the question, at the top of its row, however long the question
            assert row["button"]["left"] >= row["question"]["right"] and row["button"]["top"] < row["question"]["bottom"], row
    else:
        assert len({round(row["button"]["left"]) for row in rows}) == 1, rows
        for row in rows:
            assert row["button"]["top"] >= row["answer"]["bottom"] - 1, row
    # Opened, its form is as wide as the page allows and the button's words stay where they were. On a
    # laptop the form takes half the row (in its 18rem column a text answer was corrected four words a line).
    first = next(row for row in rows if page.locator(f"#{row['id']} textarea[name=value]").count())
    page.locator(f"#{first['id']} > details.correct > summary").click()
    opened = next(row for row in _answer_rows(page) if row["id"] == first["id"])
    assert abs(opened["words"]["left"] - first["words"]["left"]) < 1 and abs(opened["words"]["top"] - first["words"]["top"]) < 1
    form = page.locator(f"#{first['id']} > details.correct > form").bounding_box()
    assert form["width"] >= (0.45 if screen == "laptop" else 0.95) * (first["row"]["right"] - first["row"]["left"]), (form, first)
    screenshot(page, f"review-rows-{screen}-open", full_page=False)
    context.close()
