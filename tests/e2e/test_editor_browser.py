"""The checklist editor used end to end in Chromium, as an auditor on a laptop."""
import re

import pytest
from playwright.sync_api import expect

from audit.db import database
from audit.models import Checklist, ChecklistVersion
from audit.operations import publish_checklist_file
from conftest import PASSWORD
from tests.e2e.conftest import screenshot
from tests_support import SMALL

pytestmark = pytest.mark.browser


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def small(app, tmp_path):
    path = tmp_path / "small-visit.yaml"
    path.write_text(SMALL, encoding="utf-8")
    with app.app_context(), database.connection_context():
        publish_checklist_file(str(path))


def test_auditor_edits_translates_reorders_and_publishes_a_checklist(app, laptop, live_server, org, small):
    page = laptop
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill("auditor@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Checklists").click()
    page.get_by_role("link", name="Small visit").click()
    page.get_by_role("button", name="New draft from this version").click()
    expect(page.get_by_role("heading", name=re.compile("Small visit"))).to_be_visible()

    # A new item, in English only for now.
    page.get_by_role("link", name="Add an item to this section").click()
    page.locator("[name=item_id]").fill("smiled")
    page.locator("[name=type]").select_option("yesno")
    page.locator("[name=text_en]").fill("Did the assistant smile?")
    page.locator("[name=critical]").check()
    screenshot(page, "editor-item")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Item saved.")).to_be_visible()
    expect(page.locator("#item-smiled")).to_contain_text("Did the assistant smile?")

    # Up one place, without JavaScript's help: plain form buttons.
    page.locator("#item-smiled").get_by_role("button", name="Move up smiled").click()
    # to_have_text waits for the page the form posted to (all_text_contents would read whatever is there)
    expect(page.locator(".item-row code")).to_have_text(["greeted", "smiled", "wait"])

    # Publishing waits for the Russian text.
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.get_by_text("The draft cannot be published yet")).to_be_visible()
    expect(page.locator(".missing")).to_contain_text("item:smiled:text")
    screenshot(page, "editor-draft")

    page.locator("#item-smiled").get_by_role("link", name="Edit").click()
    page.locator("[name=text_ru]").fill("Улыбнулся ли консультант?")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.get_by_text("Version 2 is published.")).to_be_visible()

    # The preview shows it as a shopper would see it, in Russian.
    page.locator("li.card", has_text="Version 2").get_by_role("link", name="Preview").click()
    page.get_by_label("Checklist language").select_option("ru")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("Улыбнулся ли консультант?")).to_be_visible()

    with app.app_context(), database.connection_context():
        v2 = ChecklistVersion.find("small-visit", 2)
        assert v2.is_published
        ids = [item["id"] for item in v2.content["sections"][0]["items"]]
        assert ids == ["greeted", "smiled", "wait"]
        assert Checklist.get(Checklist.slug == "small-visit").draft() is None


def test_a_question_is_deleted_only_once_the_auditor_confirms(app, laptop, live_server, org, small):
    """The delete button sits beside the move buttons: a slip deleted the question with its texts in
    every language at once, with nothing to undo it."""
    page = laptop
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill("auditor@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server + "/checklists/small-visit/")
    page.get_by_role("button", name="New draft from this version").click()

    page.locator("#item-greeted").get_by_role("button", name="Delete greeted").click()
    expect(page.get_by_role("heading", name="Delete the question “Greeted?”?")).to_be_visible()
    screenshot(page, "editor-delete-question")
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator(".item-row code")).to_have_text(["greeted", "wait"])

    page.locator("#item-greeted").get_by_role("button", name="Delete greeted").click()
    page.get_by_role("button", name="Yes, delete the question").click()
    expect(page.get_by_text("Item deleted.")).to_be_visible()
    expect(page.locator(".item-row code")).to_have_text(["wait"])
