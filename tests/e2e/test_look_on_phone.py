"""How the pages look on a 390 px phone, measured in Chromium as a user meets them: a focus ring that
stands out on every background, targets of 44 px, long words that wrap at twice the text size, and
sentences that read right in Russian."""
import io
from datetime import date, timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect

from audit import ROOT
from audit.db import database
from audit.demo import best_answers
from audit.models import User, Visit, utcnow
from audit.operations import publish_checklist_file, submit_visit
from audit.review import approve
from conftest import PASSWORD
from tests.e2e.conftest import PHONE, screenshot
from tests.e2e.test_shopper_phone import _visit

# What the page shows and does with it, whatever the database: run in the SQLite pass only.
pytestmark = [pytest.mark.browser, pytest.mark.page_only]

SCALE = PHONE["device_scale_factor"]
# Twice the text size, as a phone's font-size setting makes it (the page's sizes are in px and rem).
TWICE_THE_TEXT = "html { font-size: 32px !important; } body { font-size: 34px !important; }"


@pytest.fixture
def approved(app, org):
    """Visits of the bank checklist, whose Russian has the longest words, at the manager's branch: one
    approved with its discretion question failed, one sent and waiting for review, one to fill in."""
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/bank-branch-visit.yaml")
        answers = {**best_answers(version.content), "discretion": "no"}
        comments = {"discretion": "The clerk read my account balance aloud."}
        visits = []
        for days_ago in (9, 2):
            visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                                 planned_from=date.today() - timedelta(days=days_ago), planned_to=date.today())
            submit_visit(visit, answers, comments, {}, started_at=utcnow() - timedelta(minutes=40), ended_at=utcnow())
            visits.append(visit)
        approve(visits[0], org["users"]["auditor"])
        to_fill = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                               planned_from=date.today(), planned_to=date.today() + timedelta(days=5))
    return {"sent": str(visits[1].uuid), "open": str(to_fill.uuid)}


def _signed_in(app, browser, base, who, language="en", **context_options):
    with app.app_context(), database.connection_context():
        User.update(language=language).where(User.email == f"{who}@example.com").execute()
    context = browser.new_context(**PHONE, **context_options)
    page = context.new_page()
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(f"{who}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    return context, page


def _luminance(rgb):
    def channel(value):
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(one, other):
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _ring(page, target):
    """Tab to `target`, then read the screen left of it: the ring (2-5 px out), the halo beyond it
    (5-7 px) and the background (10 px); returns the better contrast of ring or halo against it."""
    for _step in range(80):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the control")
    # The status bar appears once the page has read or written the phone's store, moving what is below
    # it: read the screen only when the control is where it was before and after the picture.
    for _attempt in range(10):
        box = target.bounding_box()
        shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
        if target.bounding_box() == box:
            break
    else:
        pytest.fail("the page kept moving")
    assert target.evaluate("element => element === document.activeElement"), "the control lost the focus"
    y = (box["y"] + box["height"] / 2) * SCALE

    def pixel(offset):
        return shot.getpixel((round((box["x"] - offset) * SCALE), round(y)))

    ring, halo, background = pixel(3.5), pixel(6), pixel(10)
    assert ring != background, "no focus ring drawn"
    return max(_contrast(ring, background), _contrast(halo, background))


def test_the_focus_ring_stands_out_on_white_grey_a_chosen_answer_and_the_blue_bar(app, browser, live_server, org):
    with app.app_context(), database.connection_context():
        visit = _visit(org)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(live_server + "/login")
    contrast = {"blue top bar": _ring(page, page.locator(".appname")),
                "white card": _ring(page, page.get_by_label("E-mail"))}
    page.get_by_label("E-mail").fill("shopper@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.locator("html.js")).to_have_count(1)
    page.goto(live_server + f"/visits/{visit}/fill")
    contrast["page background"] = _ring(page, page.locator(".visit-head a"))
    chosen = page.locator('input[name="answer-entrance_tidy"][value="yes"]')
    chosen.check()
    expect(page.locator("[data-save-state]")).to_contain_text(":")  # the answer is kept: the bar says when
    page.locator(".visit-head a").focus()
    contrast["chosen answer"] = _ring(page, chosen)
    screenshot(page, "focus-on-chosen-answer", full_page=False)
    context.close()
    assert {place: value for place, value in contrast.items() if value < 3} == {}, contrast


def test_the_managers_small_controls_are_44_px(app, browser, live_server, org, approved):
    context, page = _signed_in(app, browser, live_server, "manager")
    page.get_by_text("New action").click()
    date_box = page.get_by_label("By when").bounding_box()
    assert date_box["height"] >= 44, date_box
    page.get_by_label("By when").scroll_into_view_if_needed()
    screenshot(page, "action-date-390", full_page=False)

    # The disclosures (New action, a region's reports, done lately) and the links of a critical failure.
    targets = page.locator("summary:visible, #critical li a").all()
    assert len(targets) >= 2
    assert [(target.text_content().strip(), target.bounding_box()["height"]) for target in targets
            if target.bounding_box()["height"] < 44] == []

    page.goto(live_server + "/dashboard/ranking")
    back = page.get_by_role("link", name="Dashboard", exact=True).last
    links = [back] + page.locator("table.ranking a", has_text="PDF").all()
    assert len(links) >= 2
    sizes = [(link.text_content().strip(), link.bounding_box()) for link in links]
    assert [(name, box) for name, box in sizes if box["height"] < 44 or box["width"] < 44] == []
    page.locator("table.ranking").scroll_into_view_if_needed()
    screenshot(page, "ranking-390", full_page=False)
    context.close()


@pytest.mark.parametrize("path", ["/admin/users", "/admin/brands", "/admin/regions", "/admin/branches", "/review/"])
def test_the_links_of_the_auditors_lists_are_44_px_on_a_phone(app, browser, live_server, org, approved, path):
    context, page = _signed_in(app, browser, live_server, "auditor")
    page.goto(live_server + path)
    links = page.locator("table.stack tbody a, ul.list li a").all()
    assert links, path
    small = [(link.text_content().strip(), link.bounding_box()["height"]) for link in links
             if link.bounding_box()["height"] < 44]
    assert small == [], path
    context.close()


@pytest.mark.parametrize("who, path", [("shopper", "fill"), ("auditor", "review"), ("manager", "/dashboard/")])
def test_long_russian_words_wrap_at_twice_the_text_size(app, browser, live_server, org, approved, who, path):
    context, page = _signed_in(app, browser, live_server, who, "ru", bypass_csp=True)
    address = {"fill": f"/visits/{approved['open']}/fill", "review": f"/review/{approved['sent']}"}.get(path, path)
    page.goto(live_server + address)
    page.add_style_tag(content=TWICE_THE_TEXT)
    page.wait_for_timeout(100)
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    screenshot(page, f"twice-the-text-ru-{who}-{path.strip('/').replace('/', '-')}")
    assert width[0] <= width[1], f"{address} is {width[0]} px wide on a {width[1]} px screen"
    context.close()


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/ranking"])
def test_the_period_sentence_has_one_full_stop_in_russian(app, browser, live_server, org, approved, path):
    context, page = _signed_in(app, browser, live_server, "manager", "ru")
    page.goto(live_server + path)
    lead = page.locator("p.lead").inner_text()
    assert "г." in lead and ".." not in lead, lead
    context.close()
