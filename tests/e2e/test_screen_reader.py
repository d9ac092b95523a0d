"""What a phone's screen reader is given, in Chromium: each text in its own language, a name for every
photo and button that says what it is, and news of what happened (a photo added, a visit sent)."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from audit import ROOT
from audit.db import database
from audit.demo import best_answers
from audit.i18n import localized
from audit.models import Visit, utcnow
from audit.operations import publish_checklist_file, submit_visit
from conftest import PASSWORD
from tests.e2e.conftest import PHONE, screenshot
from tests.e2e.test_offline import _fill_everything, _photo_file
from tests.e2e.test_shopper_phone import _open_new_visit, _sign_in, _visit

# What the page shows and does with it, whatever the database: run in the SQLite pass only.
pytestmark = [pytest.mark.browser, pytest.mark.page_only]

# The language a screen reader reads an element's text in: that of its closest ancestor marked with one.
LANGUAGE_OF = "element => element.closest('[lang]').getAttribute('lang')"


def test_checklist_texts_are_marked_in_their_language_and_the_interface_in_the_pages(app, browser, live_server, org):
    with app.app_context(), database.connection_context():
        visit = _visit(org)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _sign_in(page, live_server)  # an English interface, a Russian checklist
    page.goto(live_server + f"/visits/{visit}/fill?lang=ru")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    russian = {
        "section title": page.locator(".fill-section h2").first,
        "question": page.locator('fieldset[data-item="greeted"] legend').get_by_text("Поздоровал", exact=False),
        "hint": page.locator('fieldset[data-item="entrance_tidy"] .hint > span'),
        "option": page.locator('fieldset[data-type=choice] label.chip').first.get_by_text(re.compile("[а-я]")),
    }
    english = {
        "Yes": page.locator('fieldset[data-item="greeted"] label.chip').first,
        "critical": page.locator('fieldset[data-item="greeted"] .badge.critical'),
        "Comment": page.locator('fieldset[data-item="greeted"] summary'),
        "Not applicable": page.locator("fieldset[data-item] label.chip", has_text="Not applicable").first,
        "Seconds": page.locator("fieldset[data-type=timer] label.inline").first,
        "Send the visit": page.get_by_role("button", name="Send the visit"),
    }
    assert {name: element.evaluate(LANGUAGE_OF) for name, element in russian.items()} == dict.fromkeys(russian, "ru")
    assert {name: element.evaluate(LANGUAGE_OF) for name, element in english.items()} == dict.fromkeys(english, "en")
    assert english["Yes"].inner_text().strip() == "Yes"
    context.close()


def test_a_photo_just_added_is_named_and_the_status_line_says_so(app, browser, live_server, org, tmp_path):
    context, page, _visit_uuid = _open_new_visit(app, browser, live_server, org)
    photos = page.locator('[data-photos="shop_front"]')
    status = page.locator("[data-save-state]")
    photos.locator("input[type=file]").set_input_files(_photo_file(tmp_path))
    expect(photos.get_by_role("img", name="Photo 1")).to_be_visible(timeout=15000)
    expect(status).to_contain_text(re.compile(r"^Photo 1 added\. Saved on this phone at "))
    photos.locator("input[type=file]").set_input_files(_photo_file(tmp_path))
    expect(photos.get_by_role("img", name="Photo 2")).to_be_visible(timeout=15000)
    expect(status).to_contain_text("Photo 2 added.")
    assert photos.locator("img.thumb[alt='']").count() == 0

    page.reload()  # kept on the phone: still named, in the same order
    expect(photos.locator("img.thumb")).to_have_count(2)
    assert [img.get_attribute("alt") for img in photos.locator("img.thumb").all()] == ["Photo 1", "Photo 2"]
    context.close()


def test_after_sending_the_list_says_the_visit_was_sent(app, browser, live_server, org, tmp_path):
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    _fill_everything(page, _photo_file(tmp_path))
    page.get_by_role("button", name="Send the visit").click()
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)

    note = page.get_by_role("status").filter(has_text="Thank you: the visit was sent.")
    expect(note).to_be_visible()
    expect(note).to_be_focused()  # read out at once, and the keyboard goes on from there
    card = page.locator(f'article[data-visit="{visit}"]')
    expect(card.locator(".badge.state-submitted")).to_have_text("Submitted")  # said once, by the server's list
    page.wait_for_timeout(500)  # the phone's own word comes after its store is read
    expect(card.locator("[data-local-status]")).to_have_text("")
    screenshot(page, "list-after-sending", full_page=False)
    page.reload()  # said once
    expect(page.get_by_text("Thank you: the visit was sent.")).to_have_count(0)
    context.close()


def test_each_correct_button_is_named_after_its_question(app, browser, live_server, org):
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        sent = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                            planned_from=date.today() - timedelta(days=3), planned_to=date.today())
        submit_visit(sent, best_answers(version.content), {}, {}, started_at=utcnow() - timedelta(minutes=30),
                     ended_at=utcnow())
        items = {item["id"]: localized(item["text"], "en")
                 for section in version.content["sections"] for item in section["items"]}
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill("auditor@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server + f"/review/{sent.uuid}")

    buttons = page.locator("li.review-row")
    assert buttons.count() > 10
    for row in buttons.all():
        item = row.get_attribute("id").removeprefix("a-")
        if row.locator(":scope > details.correct > summary").count():
            assert row.locator(":scope > details.correct > summary").text_content() == f"Change this answer: {items[item]}"
    context.close()
