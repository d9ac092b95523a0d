"""A shopper takes back a photo on the phone, in Chromium at phone size: gone from the page, from the
phone's store and from every tab of the visit at once, named again in order, and left out when the
visit is sent, so that the server keeps only the photos still wanted (also one it had before, of a
returned visit)."""
import re

import pytest
from playwright.sync_api import expect

from audit.db import database
from audit.models import Evidence, Visit, VisitState
from audit.review import return_to_shopper
from tests.e2e.conftest import PHONE, screenshot
from tests.e2e.test_offline import _fill_everything, _photo_file
from tests.e2e.test_shopper_phone import _open_new_visit

pytestmark = pytest.mark.browser


def _server_photos(visit_uuid):
    """{(question, photo id)} of the visit as the server holds them."""
    visit = Visit.get(Visit.uuid == visit_uuid)
    return {(e.item_id, e.client_id) for e in Evidence.select().where(Evidence.visit == visit)}


def _photos_kept_on_phone(page, visit_uuid):
    return page.evaluate("v => AuditStore.photosOf(v).then(ps => ps.map(p => p.clientId).sort())", visit_uuid)


def _send(page):
    page.get_by_role("button", name="Send the visit").click()
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)


def test_a_photo_removed_offline_is_gone_from_the_page_the_phone_and_the_sent_visit(
        app, browser, live_server, org, tmp_path):
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    photo = _photo_file(tmp_path)
    _fill_everything(page, photo)  # one photo of the shop front
    context.set_offline(True)
    photos = page.locator('[data-photos="shop_front"]')
    photos.locator("input[type=file]").set_input_files(photo)
    expect(photos.locator("img.thumb")).to_have_count(2)
    photos.scroll_into_view_if_needed()
    screenshot(page, "fill-two-photos", full_page=False)
    first, second = [img.get_attribute("data-client-id") for img in photos.locator("img.thumb").all()]

    photos.get_by_role("button", name="Remove photo 1").click()

    expect(photos.locator("img.thumb")).to_have_count(1)
    assert photos.locator("img.thumb").get_attribute("data-client-id") == second
    # Named after what is left, and the cursor stays in the question, on the remaining photo's button.
    expect(photos.locator("img.thumb")).to_have_attribute("alt", "Photo 1")
    remaining = photos.get_by_role("button", name="Remove photo 1")
    expect(remaining).to_be_focused()
    expect(page.locator("[data-save-state]")).to_contain_text("Photo removed. Saved on this phone at")
    assert _photos_kept_on_phone(page, visit) == [second]
    remaining.scroll_into_view_if_needed()
    screenshot(page, "fill-photo-removed", full_page=False)

    page.reload()  # offline: the page kept on the phone, and the draft
    expect(photos.locator("img.thumb")).to_have_count(1)
    assert photos.locator("img.thumb").get_attribute("data-client-id") == second

    context.set_offline(False)
    _send(page)
    with app.app_context(), database.connection_context():
        assert _server_photos(visit) == {("shop_front", second)}
        assert Visit.get(Visit.uuid == visit).state == VisitState.SUBMITTED.value
    assert first != second
    context.close()


def test_a_returned_visits_photo_removed_on_the_phone_is_left_out_when_it_is_sent_again(
        app, browser, live_server, org, tmp_path):
    """The reviewer returned the visit for a photo that shows a customer's face: the shopper removes
    it, and the visit sent again no longer has it (the server had it from the first sending)."""
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    photo = _photo_file(tmp_path)
    _fill_everything(page, photo)
    page.locator('[data-photos="shop_front"] input[type=file]').set_input_files(photo)
    expect(page.locator('[data-photos="shop_front"] img.thumb')).to_have_count(2)
    _send(page)
    with app.app_context(), database.connection_context():
        sent = _server_photos(visit)
        return_to_shopper(Visit.get(Visit.uuid == visit), org["users"]["auditor"], "Photo 1 shows a customer.")
    assert len(sent) == 2

    page.goto(live_server + f"/visits/{visit}/fill")
    photos = page.locator('[data-photos="shop_front"]')
    expect(photos.locator("img.thumb")).to_have_count(2)
    removed = photos.locator("img.thumb").first.get_attribute("data-client-id")
    photos.get_by_role("button", name="Remove photo 1").click()
    expect(photos.locator("img.thumb")).to_have_count(1)
    page.reload()  # the server still shows it until the visit is sent again: the phone keeps it removed
    expect(photos.locator("img.thumb")).to_have_count(1)
    expect(photos.locator(f'img.thumb[data-client-id="{removed}"]')).to_have_count(0)

    _send(page)
    with app.app_context(), database.connection_context():
        assert Visit.get(Visit.uuid == visit).state == VisitState.SUBMITTED.value
        assert _server_photos(visit) == {pair for pair in sent if pair[1] != removed}
    context.close()


def test_a_photo_removed_in_one_tab_leaves_the_other_and_does_not_come_back_from_it(
        app, browser, live_server, org, tmp_path):
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    photo = _photo_file(tmp_path)
    _fill_everything(page, photo)
    photos = page.locator('[data-photos="shop_front"]')
    photos.locator("input[type=file]").set_input_files(photo)
    expect(photos.locator("img.thumb")).to_have_count(2)
    other = context.new_page()
    other.goto(live_server + f"/visits/{visit}/fill")
    other_photos = other.locator('[data-photos="shop_front"]')
    expect(other_photos.locator("img.thumb")).to_have_count(2)

    removed = photos.locator("img.thumb").last.get_attribute("data-client-id")
    photos.get_by_role("button", name="Remove photo 2").click()

    expect(other_photos.locator("img.thumb")).to_have_count(1)
    expect(other_photos.locator(f'img.thumb[data-client-id="{removed}"]')).to_have_count(0)
    # The other tab saves its own change: its list of photos does not bring the removed one back.
    other.locator('input[name="answer-greeted"][value="no"]').check()
    other.locator('textarea[name="comment-greeted"]').fill("Nobody looked up.")
    expect(other.locator("[data-save-state]")).to_contain_text("Saved on this phone")
    page.reload()
    expect(photos.locator("img.thumb")).to_have_count(1)

    _send(other)
    with app.app_context(), database.connection_context():
        kept = _server_photos(visit)
    assert len(kept) == 1 and removed not in {client_id for _item, client_id in kept}
    context.close()
