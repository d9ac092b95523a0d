"""A shopper takes back a photo on the phone, in Chromium at phone size: gone from the page, from the
phone's store and from every tab of the visit at once, named again in order, and left out when the
visit is sent, so that the server keeps only the photos still wanted (also one it had before, of a
returned visit)."""
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from audit.db import database
from audit.models import Evidence, Visit, VisitState
from audit.operations import remove_photo
from audit.review import return_to_shopper
from tests.e2e.conftest import PHONE, screenshot, wait_for_held
from tests.e2e.test_offline import _fill_everything, _photo_file
from tests.e2e.test_shopper_phone import _open_new_visit

pytestmark = pytest.mark.browser


def _server_photos(visit_uuid):
    """{(question, photo id)} of the visit as the server holds them."""
    visit = Visit.get(Visit.uuid == visit_uuid)
    return {(e.item_id, e.client_id) for e in Evidence.select().where(Evidence.visit == visit)}


def _photos_kept_on_phone(page, visit_uuid):
    return page.evaluate("v => AuditStore.photosOf(v).then(ps => ps.map(p => p.clientId).sort())", visit_uuid)


def _shown(photos):
    """The ids of the photos a question shows, in order."""
    return [img.get_attribute("data-client-id") for img in photos.locator("img.thumb").all()]


def _send(page):
    page.get_by_role("button", name="Send the visit").click()
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)


def _visit_with_two_photos(app, browser, live_server, org, tmp_path, offline=False):
    """A new visit answered whole, with two photos of the shop front (the second added offline if
    asked): (context, page, visit, the question's photos, the photo file)."""
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    photo = _photo_file(tmp_path)
    _fill_everything(page, photo)  # one photo of the shop front
    context.set_offline(offline)
    photos = page.locator('[data-photos="shop_front"]')
    photos.locator("input[type=file]").set_input_files(photo)
    expect(photos.locator("img.thumb")).to_have_count(2)
    return context, page, visit, photos, photo


def test_a_photo_removed_offline_is_gone_from_the_page_the_phone_and_the_sent_visit(
        app, browser, live_server, org, tmp_path):
    context, page, visit, photos, _photo = _visit_with_two_photos(app, browser, live_server, org, tmp_path,
                                                                   offline=True)
    photos.scroll_into_view_if_needed()
    screenshot(page, "fill-two-photos", full_page=False)
    first, second = _shown(photos)

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
    # The photos come back from the phone's store once the page's script has read it: on CI's machine,
    # two test suites and their browsers on two cores, this once took longer than the default 5 s.
    expect(photos.locator("img.thumb")).to_have_count(1, timeout=15000)
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
    expect(photos.locator("img.thumb")).to_have_count(1, timeout=15000)  # read from the phone's store, as above
    expect(photos.locator(f'img.thumb[data-client-id="{removed}"]')).to_have_count(0)

    _send(page)
    with app.app_context(), database.connection_context():
        assert Visit.get(Visit.uuid == visit).state == VisitState.SUBMITTED.value
        assert _server_photos(visit) == {pair for pair in sent if pair[1] != removed}
    context.close()


def test_a_photo_removed_in_one_tab_leaves_the_other_and_does_not_come_back_from_it(
        app, browser, live_server, org, tmp_path):
    context, page, visit, photos, _photo = _visit_with_two_photos(app, browser, live_server, org, tmp_path)
    other = context.new_page()
    other.goto(live_server + f"/visits/{visit}/fill")
    other_photos = other.locator('[data-photos="shop_front"]')
    expect(other_photos.locator("img.thumb")).to_have_count(2)

    removed = photos.locator("img.thumb").last.get_attribute("data-client-id")
    # Dispatched on the button: the second tab, still saving what it restored as the test goes on,
    # moves this tab's page (its answers and status line follow), and a pointer click aimed before
    # that landed beside the button now and then (about once in ten runs).
    photos.get_by_role("button", name="Remove photo 2").dispatch_event("click")
    expect(photos.locator("img.thumb")).to_have_count(1)

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
    # The first tab, told that the visit went, leaves its form for the list too. (Waited for: the
    # context closed while that tab was on its way there stalled Chromium's close, now and then.)
    page.wait_for_url(re.compile(r"/visits/$"), timeout=10000)
    context.close()


def _three_photos(page, tmp_path):
    """Three different photos on the shop front question; their ids in the order they were added."""
    photos = page.locator('[data-photos="shop_front"]')
    for colour in ("#aa2222", "#22aa22", "#2222aa"):
        path = tmp_path / f"{colour[1:]}.jpg"
        Image.new("RGB", (1200, 900), colour).save(path, "JPEG")
        count = photos.locator("img.thumb").count()
        photos.locator("input[type=file]").set_input_files(str(path))
        expect(photos.locator("img.thumb")).to_have_count(count + 1)
    return _shown(photos)


def test_photos_keep_the_order_they_were_added_in_and_a_double_tap_removes_one(app, browser, live_server, org,
                                                                                tmp_path):
    """The phone's store gives photos by their random ids: after a reload "Photo 1" was another photo
    (and the reviewer's "photo 1" not the shopper's). A double tap on Remove removed the next photo too,
    which had moved under the finger."""
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    _fill_everything(page, _photo_file(tmp_path))
    photos = page.locator('[data-photos="shop_front"]')
    page.get_by_role("button", name="Remove photo 1").click()  # the one _fill_everything added
    expect(photos.locator("img.thumb")).to_have_count(0)
    page.wait_for_timeout(800)
    added = _three_photos(page, tmp_path)
    page.reload()
    expect(photos.locator("img.thumb")).to_have_count(3)
    assert _shown(photos) == added

    photos.get_by_role("button", name="Remove photo 2").dblclick()

    expect(photos.locator("img.thumb")).to_have_count(2)
    page.wait_for_timeout(1000)
    assert _shown(photos) == [added[0], added[2]]
    context.close()


def test_a_photo_removed_while_the_visit_is_on_its_way_is_never_uploaded_nor_comes_back(
        app, browser, live_server, org, tmp_path):
    """Removed while the first photo was still uploading: the sender had read the photos and the
    sending before, and uploaded it anyway (the reviewer saw it), and its upload put it back on the
    phone, where the visit returned later showed it again."""
    context, page, visit = _open_new_visit(app, browser, live_server, org, service_workers="block")
    _fill_everything(page, _photo_file(tmp_path))
    page.get_by_role("button", name="Remove photo 1").click()
    page.wait_for_timeout(800)
    added = _three_photos(page, tmp_path)
    uploads, held = [], []
    context.on("request", lambda request: uploads.append(re.search(rb'name="client_id"\r\n\r\n([^\r]+)', request.post_data_buffer).group(1).decode())
               if request.method == "POST" and request.url.endswith("/photos") else None)
    page.route("**/photos", lambda route: held.append(route) if not held else route.continue_())
    page.get_by_role("button", name="Send the visit").click()
    wait_for_held(page, held, "the page")

    page.get_by_role("button", name="Remove photo 3").click()
    expect(page.locator('[data-photos="shop_front"] img.thumb')).to_have_count(2)
    page.wait_for_timeout(500)  # the change has joined the waiting visit
    held[0].continue_()
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)

    with app.app_context(), database.connection_context():
        assert _server_photos(visit) == {("shop_front", added[0]), ("shop_front", added[1])}
        return_to_shopper(Visit.get(Visit.uuid == visit), org["users"]["auditor"], "Check the waiting time.")
    assert len(uploads) == 2, (uploads, added)  # the removed photo never left the phone
    assert added[2] not in _photos_kept_on_phone(page, visit)
    page.goto(live_server + f"/visits/{visit}/fill")
    photos = page.locator('[data-photos="shop_front"]')
    expect(photos.locator("img.thumb")).to_have_count(2)
    page.wait_for_timeout(800)
    assert _shown(photos) == added[:2]
    context.close()


def test_a_photo_the_server_no_longer_has_is_uploaded_again_and_the_visit_goes(app, browser, live_server, org,
                                                                               tmp_path):
    """The visit came back; its first photo was removed from the form without JavaScript (another
    phone), and this phone still holds it as uploaded: sent again, the server refused it as not
    arrived, for good. The phone uploads its copy again and the visit goes."""
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    _fill_everything(page, _photo_file(tmp_path))
    page.locator('[data-photos="shop_front"] input[type=file]').set_input_files(_photo_file(tmp_path))
    expect(page.locator('[data-photos="shop_front"] img.thumb')).to_have_count(2)
    _send(page)
    with app.app_context(), database.connection_context():
        sent = _server_photos(visit)
        stored = Visit.get(Visit.uuid == visit)
        return_to_shopper(stored, org["users"]["auditor"], "Check the waiting time.")
        removed = sorted(sent)[0][1]
        assert remove_photo(Visit.get(Visit.uuid == visit), removed) == "shop_front"

    page.goto(live_server + f"/visits/{visit}/fill")
    expect(page.locator('[data-photos="shop_front"] img.thumb')).to_have_count(2)  # the phone's copy too
    _send(page)
    with app.app_context(), database.connection_context():
        assert Visit.get(Visit.uuid == visit).state == VisitState.SUBMITTED.value
        assert _server_photos(visit) == sent
    context.close()


SLOW_STORE = """() => {
  // A slow phone: the draft is written, and the page hears of it a second later.
  const write = AuditStore.changeDraft.bind(AuditStore);
  AuditStore.changeDraft = (visit, change) => write(visit, change).then(
    kept => new Promise(resolve => setTimeout(() => resolve(kept), 1000)));
}"""


def test_a_photo_removed_or_added_while_the_phone_is_still_saving_stays_so(app, browser, live_server, org, tmp_path):
    """Remove tapped as the thumbnail appeared (the phone still writing the draft that added it): the
    page then took the draft as written, without the removal, and the next save listed the removed
    photo again; a photo added during a save was listed nowhere, so never sent."""
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    photo = _photo_file(tmp_path)
    _fill_everything(page, photo)  # one photo of the shop front
    kept_first = _shown(page.locator('[data-photos="shop_front"]'))
    page.evaluate(SLOW_STORE)
    photos = page.locator('[data-photos="shop_front"]')
    photos.locator("input[type=file]").set_input_files(photo)
    expect(photos.locator("img.thumb")).to_have_count(2)
    added = [photo_id for photo_id in _shown(photos) if photo_id not in kept_first][0]
    photos.get_by_role("button", name="Remove photo 2").click()  # while the draft that adds it is written
    expect(photos.locator("img.thumb")).to_have_count(1)
    # Another photo added while the removal is saved.
    photos.locator("input[type=file]").set_input_files(photo)
    expect(photos.locator("img.thumb")).to_have_count(2)
    later = [photo_id for photo_id in _shown(photos) if photo_id not in kept_first][0]
    expect(page.locator("[data-save-state]")).to_contain_text("Saved on this phone at", timeout=10000)
    page.wait_for_timeout(2500)  # every slow save ended
    listed = page.evaluate("v => AuditStore.getDraft(v).then(d => d.photos.shop_front)", visit)
    assert added not in listed and later in listed and kept_first[0] in listed, (listed, added, later)

    _send(page)
    with app.app_context(), database.connection_context():
        assert _server_photos(visit) == {("shop_front", kept_first[0]), ("shop_front", later)}
    context.close()


def test_the_visits_photos_follow_what_the_phone_keeps_after_a_tab_closed_between_two_writes(
        app, browser, live_server, org, tmp_path):
    """The draft and the phone's photo store are written one after the other. A tab closed between the
    two left a removed photo listed without its copy (every sending refused: "has not arrived yet") or
    a photo shown but listed nowhere (the visit sent without it, with no word)."""
    context, page, visit, photos, _photo = _visit_with_two_photos(app, browser, live_server, org, tmp_path)
    expect(page.locator("[data-save-state]")).to_contain_text("Saved on this phone at")
    removed, kept = _shown(photos)
    # As such a tab left the phone: one photo's copy gone while the draft lists it, and a new photo's
    # copy kept while the draft does not list it yet.
    page.evaluate("""([removed, kept, visit]) => AuditStore.deletePhoto(removed)
        .then(() => AuditStore.getPhoto(kept))
        .then(p => AuditStore.putPhoto(Object.assign({}, p, {clientId: 'taken-just-before-' + kept, uploaded: false})))""",
                  [removed, kept, visit])
    added = "taken-just-before-" + kept
    page.reload()
    expect(photos.locator("img.thumb")).to_have_count(2)
    assert sorted(_shown(photos)) == sorted([kept, added]), (_shown(photos), removed, kept)
    for _attempt in range(50):  # the page writes the lists as they now are
        listed = page.evaluate("v => AuditStore.getDraft(v).then(d => d.photos.shop_front)", visit)
        if sorted(listed) == sorted([kept, added]):
            break
        page.wait_for_timeout(100)
    assert sorted(listed) == sorted([kept, added])

    _send(page)
    with app.app_context(), database.connection_context():
        assert _server_photos(visit) == {("shop_front", kept), ("shop_front", added)}
        assert Visit.get(Visit.uuid == visit).state == VisitState.SUBMITTED.value
    context.close()


def test_what_was_typed_just_before_the_page_was_left_is_kept(app, browser, live_server, org):
    """A text is saved once the typing pauses (300 ms): a reload, Back or the tab closed in that moment
    lost what was typed last."""
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    text = page.locator('fieldset[data-type="text"] textarea').first
    text.fill("The fitting room was locked")
    page.reload()  # at once, within the pause
    expect(page.locator('fieldset[data-type="text"] textarea').first).to_have_value("The fitting room was locked")
    item = page.locator('fieldset[data-type="text"]').first.get_attribute("data-item")
    kept = page.evaluate("([v, item]) => AuditStore.getDraft(v).then(d => d.answers[item])", [visit, item])
    assert kept == "The fitting room was locked"
    context.close()


def test_a_phone_whose_storage_refuses_a_write_says_so(app, browser, live_server, org, tmp_path):
    """Storage full: the status line kept saying "Saved on this phone" from the write before, and a
    photo vanished without a word."""
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    page.locator('fieldset[data-type="yesno"] input[value=yes]').first.check()
    expect(page.locator("[data-save-state]")).to_contain_text("Saved on this phone at")
    page.evaluate("""() => {
      window.refusing = true;
      const full = () => Promise.reject(new DOMException("The quota has been exceeded.", "QuotaExceededError"));
      for (const name of ["changeDraft", "putPhoto", "putOutbox"]) {
        const write = AuditStore[name].bind(AuditStore);
        AuditStore[name] = (...args) => window.refusing ? full() : write(...args);
      }
    }""")
    not_kept = "Not kept on this phone: its storage is full or closed to this page."
    page.locator('fieldset[data-type="yesno"] input[value=no]').first.check()
    expect(page.locator("[data-save-state]")).to_contain_text(not_kept)
    page.locator('[data-photos="shop_front"] input[type=file]').set_input_files(_photo_file(tmp_path))
    expect(page.locator("[data-save-state]")).to_contain_text(not_kept)
    screenshot(page, "fill-storage-full", full_page=False)
    page.evaluate("() => { window.refusing = false; }")  # space freed: the next answer is kept, and said so
    page.locator('fieldset[data-type="yesno"] input[value=yes]').first.check()
    expect(page.locator("[data-save-state]")).to_contain_text("Saved on this phone at")
    context.close()


def test_a_photo_added_or_removed_while_the_visit_waits_to_send_says_it_waits(app, browser, live_server, org,
                                                                              tmp_path):
    """Sent offline, then a photo added or removed: the line said "Saved on this phone", while the
    visit (and the photo with it) was waiting to send."""
    context, page, visit, photos, photo = _visit_with_two_photos(app, browser, live_server, org, tmp_path,
                                                                  offline=True)
    page.get_by_role("button", name="Send the visit").click()
    expect(page.locator("[data-save-state]")).to_contain_text("Waiting to send")
    photos.locator("input[type=file]").set_input_files(photo)
    expect(photos.locator("img.thumb")).to_have_count(3)
    page.wait_for_timeout(300)
    expect(page.locator("[data-save-state]")).to_contain_text("Waiting to send")
    photos.get_by_role("button", name="Remove photo 1").click()
    expect(photos.locator("img.thumb")).to_have_count(2)
    page.wait_for_timeout(300)
    expect(page.locator("[data-save-state]")).to_contain_text("Waiting to send")
    context.close()


def test_the_page_does_not_move_under_the_finger_as_the_save_line_changes(app, browser, live_server, org, tmp_path):
    """"Photo 2 added. Saved on this phone at …" takes two lines at phone width, "Saved on this phone at
    …" one: the sticky status bar grew and shrank by a line as one replaced the other, and everything
    under it moved as the shopper tapped (a tap on Remove photo landed beside the button)."""
    context, page, _visit, photos, _photo = _visit_with_two_photos(app, browser, live_server, org, tmp_path)
    state = page.locator("[data-save-state]")
    expect(state).to_contain_text("Photo 2 added. Saved on this phone at")
    remove = photos.get_by_role("button", name="Remove photo 2")
    on_page = "e => e.getBoundingClientRect().top + window.scrollY"  # where it is in the page, scrolled or not
    where = remove.evaluate(on_page)
    bar = page.locator("[data-sync-bar]").bounding_box()["height"]
    page.locator('input[name="answer-greeted"][value="no"]').check()  # a plain save: the short message
    expect(state).to_have_text(re.compile(r"^Saved on this phone at"))
    assert page.locator("[data-sync-bar]").bounding_box()["height"] == bar
    assert remove.evaluate(on_page) == where
    context.close()
