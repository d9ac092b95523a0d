"""What the shopper sees on the phone around sending, in Chromium at phone size: badges that tell the
truth, refusals beside the question, a returned visit that is not "Sent", one thumbnail per photo,
forms that need the network while offline, and a phone shared by two shoppers."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from audit import ROOT
from audit.db import database
from audit.demo import best_answers
from audit.models import Answer, Evidence, Visit, VisitState
from audit.operations import publish_checklist_file
from audit.review import return_to_shopper
from tests.e2e.conftest import PHONE, screenshot, sign_in, wait_for_held, wait_until
from tests.e2e.test_offline import _fill_everything, _photo_file, _phone_with_visit_kept, _stored, _wait_until_cached

pytestmark = pytest.mark.browser


def _visit(org, shopper="shopper", state=VisitState.ASSIGNED.value):
    version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
    return str(Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"][shopper],
                            planned_from=date.today(), planned_to=date.today() + timedelta(days=5), state=state).uuid)


def _sign_in(page, base, who="shopper"):
    sign_in(page, base, f"{who}@example.com")
    expect(page).to_have_url(re.compile(r"/visits/$"))


def _open_new_visit(app, browser, live_server, org, viewport=None, timezone_id=None, service_workers="allow"):
    """A new phone (PHONE's size unless viewport says, in timezone_id's time zone if given; without a
    service worker with service_workers="block", so that the page's own sending is the one a test
    routes), the shopper signed in on it, on the fill page of a visit just assigned to them."""
    with app.app_context(), database.connection_context():
        visit = _visit(org)
    context = browser.new_context(**{**PHONE, "viewport": viewport or PHONE["viewport"]},
                                  **({"timezone_id": timezone_id} if timezone_id else {}), service_workers=service_workers)
    page = context.new_page()
    _sign_in(page, live_server)
    page.goto(live_server + f"/visits/{visit}/fill")
    return context, page, visit


# Ten days of waiting (a zero too many): what only the server refuses, a number past the largest a
# timer takes (the phone asks for a missing answer, comment or photo itself before it sends).
TOO_LONG_A_WAIT = "864000"
WAIT_TOO_LONG = "Give a number no larger than 86,400."


def _answer_a_wait_too_long(page, tmp_path):
    _fill_everything(page, _photo_file(tmp_path))
    page.locator('input[name="answer-wait_for_contact"]').fill(TOO_LONG_A_WAIT)


def test_the_offline_badge_shows_only_on_visits_kept_for_offline_use(app, browser, live_server, org):
    with app.app_context(), database.connection_context():
        open_visit = _visit(org)
        sent_visit = _visit(org, state=VisitState.SUBMITTED.value)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _sign_in(page, live_server)
    _wait_until_cached(page, f"/visits/{open_visit}/fill")
    expect(page.locator(f'article[data-visit="{sent_visit}"] [data-offline-note]')).to_be_hidden()
    context.close()

    plain = browser.new_context(**PHONE, java_script_enabled=False)  # no service worker: nothing is kept
    page = plain.new_page()
    _sign_in(page, live_server)
    expect(page.locator("[data-offline-note]")).to_have_count(2)
    expect(page.locator("[data-offline-note]").first).to_be_hidden()
    expect(page.locator("[data-offline-note]").last).to_be_hidden()
    plain.close()


def test_what_the_server_refuses_is_said_beside_the_question_and_the_fixed_visit_arrives(app, browser, live_server, org, tmp_path):
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    _answer_a_wait_too_long(page, tmp_path)
    page.get_by_role("button", name="Send the visit").click()
    refusal = page.locator("#q-wait_for_contact .error.server")
    expect(refusal).to_have_text(WAIT_TOO_LONG)
    expect(refusal).to_be_in_viewport()
    expect(page.locator("[data-save-state]")).to_contain_text("Could not be sent")
    screenshot(page, "fill-refused-by-server", full_page=False)  # what the phone shows: the question
    assert _stored(app, visit)[0].state == VisitState.ASSIGNED.value

    wait = page.locator('[name="answer-wait_for_contact"]')
    expect(wait).to_be_focused()  # the cursor is where it is put right
    wait.fill("86")
    expect(refusal).to_have_count(0)
    page.get_by_role("button", name="Send the visit").click()
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)
    stored, answers, photos = _stored(app, visit)
    assert stored.state == VisitState.SUBMITTED.value and answers["wait_for_contact"] == 86 and len(photos) == 1
    context.close()


def test_a_visit_page_says_its_own_state_whatever_other_visits_wait_for(app, browser, live_server, org, tmp_path):
    """A visit the server refused waits for its shopper, not for the network: another visit's page says
    where that visit's own work is (saved, waiting, sent), and counts only what is really waiting."""
    with app.app_context(), database.connection_context():
        refused, other = _visit(org), _visit(org)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    state = page.locator("[data-save-state]")
    _sign_in(page, live_server)
    page.goto(live_server + f"/visits/{refused}/fill")
    _answer_a_wait_too_long(page, tmp_path)
    page.get_by_role("button", name="Send the visit").click()
    expect(state).to_have_text("Could not be sent: Some answers need attention.", timeout=15000)

    page.goto(live_server + f"/visits/{other}/fill")
    page.locator('input[name="answer-entrance_tidy"][value="yes"]').check()
    expect(state).to_contain_text("Saved on this phone at")
    page.reload()
    page.wait_for_timeout(1000)  # the page has read the outbox
    expect(state).to_have_text(re.compile(r"^Saved on this phone at \d\d:\d\d( [AP]M)?$"))

    _fill_everything(page, _photo_file(tmp_path))
    context.set_offline(True)
    page.get_by_role("button", name="Send the visit").click()
    wait_until(page, f"AuditStore.getOutbox('{other}').then(e => !!e && e.attempts > 0)")
    page.wait_for_timeout(500)  # the page has read the outbox after the failed try
    expect(state).to_have_text("Waiting to send (1)")
    screenshot(page, "fill-waiting-beside-a-refused-visit", full_page=False)

    context.set_offline(False)  # the network is back: this visit goes, the refused one waits for its shopper
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)
    assert _stored(app, other)[0].state == VisitState.SUBMITTED.value
    page.goto(live_server + f"/visits/{other}/fill")
    page.wait_for_timeout(1000)
    expect(state).to_have_text(re.compile(r"^Sent at \d\d:\d\d( [AP]M)?$"))
    context.close()


def test_a_late_refusal_does_not_bring_back_a_visit_another_sender_had_received(app, browser, live_server, org, tmp_path):
    """Two senders of one phone's outbox (here two pages; in life also the service worker) send at the
    same time. When one had the visit received, the other's answer that comes later (a refusal: the
    visit is already sent) must not put the visit back in the outbox as refused. The service worker is
    kept out of this phone so that the test, not the worker, decides who sends when."""
    context, page, visit = _open_new_visit(app, browser, live_server, org, service_workers="block")
    # A browser without Web Locks, where two senders do run at once (one with them leaves the work to
    # the sender already running: see the next test).
    context.add_init_script("delete Navigator.prototype.locks;")
    _fill_everything(page, _photo_file(tmp_path))
    context.set_offline(True)
    page.get_by_role("button", name="Send the visit").click()
    wait_until(page, f"AuditStore.getOutbox('{visit}').then(e => !!e && e.attempts > 0)")
    page.close()

    late = context.new_page()  # the sender whose photo upload is answered only after the visit arrived
    held = []
    late.route("**/photos", lambda route: held.append(route))
    context.set_offline(False)  # no other page is open, and no service worker, to send meanwhile
    late.goto(live_server + "/visits/")
    late.evaluate("() => { window.lateSend = AuditOutbox.send(true); }")
    wait_for_held(late, held, "the list page")
    other = context.new_page()  # the other sender has the visit received meanwhile
    other.goto(live_server + "/visits/")
    other.evaluate("AuditOutbox.send(true)")
    for _ in range(60):
        if (_stored(app, visit)[0].state == VisitState.SUBMITTED.value
                and other.evaluate(f"AuditStore.getOutbox('{visit}')") is None):
            break
        other.wait_for_timeout(250)
    assert _stored(app, visit)[0].state == VisitState.SUBMITTED.value
    assert other.evaluate(f"AuditStore.getOutbox('{visit}')") is None

    held[0].fulfill(status=409, content_type="application/json",
                    body='{"error": {"code": "already_submitted", "message": "This visit was already sent."}}')
    assert late.evaluate("window.lateSend.then(entries => entries.length)") == 0  # its run is over
    assert late.evaluate(f"AuditStore.getOutbox('{visit}')") is None
    late.reload()
    card = late.locator(f'article[data-visit="{visit}"]')
    expect(card.locator(".badge.state-submitted")).to_be_visible()  # sent, as the server says
    late.wait_for_timeout(500)  # the phone's own word comes after its store is read
    expect(card.locator("[data-local-status]")).to_have_text("")  # not "Could not be sent" (nor "Sent" twice)
    context.close()


def test_two_senders_of_one_phone_upload_each_photo_once(app, browser, live_server, org, tmp_path):
    """Two pages of the phone (in life also its service worker) find the same visit waiting: each
    uploaded every photo, twice the phone's data for them. The second leaves the work to the first."""
    context, page, visit = _open_new_visit(app, browser, live_server, org, service_workers="block")
    photo = _photo_file(tmp_path)
    _fill_everything(page, photo)
    page.locator('[data-photos="shop_front"] input[type=file]').set_input_files(photo)
    expect(page.locator('[data-photos="shop_front"] img.thumb')).to_have_count(2)
    context.set_offline(True)
    page.get_by_role("button", name="Send the visit").click()
    wait_until(page, f"AuditStore.getOutbox('{visit}').then(e => !!e && e.attempts > 0)")
    page.close()

    uploads, held = [], []
    context.on("request", lambda request: uploads.append(request.url)
               if request.method == "POST" and request.url.endswith("/photos") else None)
    first = context.new_page()
    first.route("**/photos", lambda route: held.append(route) if not held else route.continue_(), times=1)
    context.set_offline(False)
    first.goto(live_server + "/visits/")
    first.evaluate("() => { window.run = AuditOutbox.send(true); }")
    wait_for_held(first, held, "the first page")
    second = context.new_page()
    second.goto(live_server + "/visits/")
    # Its run ends at once, the visit still waiting: the first page is sending it.
    assert second.evaluate(f"AuditOutbox.send(true).then(entries => entries.map(e => e.visit))") == [visit]
    second.wait_for_timeout(500)
    assert len(uploads) == 1  # the first page's first photo only, held

    held[0].continue_()
    assert first.evaluate("window.run.then(entries => entries.length)") == 0
    assert len(uploads) == 2  # one upload per photo
    with app.app_context(), database.connection_context():
        sent = Visit.get(Visit.uuid == visit)
        assert sent.state == VisitState.SUBMITTED.value
        assert Evidence.select().where(Evidence.visit == sent).count() == 2
    context.close()


def test_a_returned_visit_is_not_called_sent_and_shows_each_photo_once(app, browser, live_server, org, tmp_path):
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    _fill_everything(page, _photo_file(tmp_path))
    page.get_by_role("button", name="Send the visit").click()
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)
    card = page.locator(f'article[data-visit="{visit}"]')
    expect(card.locator(".badge.state-submitted")).to_be_visible()
    page.wait_for_timeout(500)
    expect(card.locator("[data-local-status]")).to_have_text("")  # the server's badge says it once

    with app.app_context(), database.connection_context():
        return_to_shopper(Visit.get(Visit.uuid == visit), org["users"]["auditor"], "The photo is blurred.")
    page.reload()
    expect(card.locator(".state-returned")).to_be_visible()
    expect(card.locator("[data-local-status]")).to_have_text("Saved on this phone")  # its answers, to edit
    page.goto(live_server + f"/visits/{visit}/fill")
    expect(page.locator("[data-save-state]")).to_contain_text("Saved on this phone")
    expect(page.locator("[data-save-state]")).not_to_contain_text("Sent")
    expect(page.locator("img.thumb")).to_have_count(1)  # on the server and on the phone: shown once
    screenshot(page, "fill-returned")
    context.close()


def test_a_returned_visit_is_sent_again_from_another_phone_with_the_photos_the_server_has(
        app, browser, live_server, org, tmp_path):
    """The visit was filled on one phone and returned; the shopper sends it again from another (or
    after clearing the phone's data). Its photo is on the page, from the server, but the sending left
    it out and was refused ("add a photo")."""
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    _fill_everything(page, _photo_file(tmp_path))
    page.locator('input[name="answer-prices_marked"][value="no"]').check()  # a failure that wants a photo
    page.locator("#q-prices_marked input[type=file]").set_input_files(_photo_file(tmp_path))
    expect(page.locator("#q-prices_marked img.thumb")).to_have_count(1)
    page.get_by_role("button", name="Send the visit").click()
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)
    context.close()
    with app.app_context(), database.connection_context():
        sent = Visit.get(Visit.uuid == visit)
        photos = {e.client_id for e in Evidence.select().where(Evidence.visit == sent)}
        by_item = {(e.item_id, e.client_id) for e in Evidence.select().where(Evidence.visit == sent)}
        return_to_shopper(sent, org["users"]["auditor"], "Please check the waiting time again.")
    assert len(photos) == 2 and {item for item, _id in by_item} == {"shop_front", "prices_marked"}

    other = browser.new_context(**PHONE)
    phone = other.new_page()
    _sign_in(phone, live_server)
    phone.goto(live_server + f"/visits/{visit}/fill")
    expect(phone.locator("img.thumb")).to_have_count(len(photos))
    phone.get_by_role("button", name="Send the visit").click()
    phone.wait_for_url(re.compile(r"/visits/$"), timeout=30000)
    with app.app_context(), database.connection_context():
        again = Visit.get(Visit.uuid == visit)
        assert again.state == VisitState.SUBMITTED.value
        assert {(e.item_id, e.client_id) for e in Evidence.select().where(Evidence.visit == again)} == by_item
        assert Answer.get((Answer.visit == again) & (Answer.item_id == "prices_marked")).value == "no"
    other.close()


def test_offline_the_sign_out_and_the_language_forms_say_they_need_the_network(app, browser, live_server, org):
    with app.app_context(), database.connection_context():
        visit = _visit(org)
    fill_path = f"/visits/{visit}/fill"
    context, page = _phone_with_visit_kept(browser, live_server, fill_path)
    context.set_offline(True)
    page.get_by_role("button", name="Sign out").click()
    note = page.locator("[data-offline-action]")
    expect(note).to_contain_text("You are offline. This needs the network")
    page.wait_for_timeout(300)
    assert page.url.endswith("/visits/")
    page.goto(live_server + fill_path)  # still kept for offline use: signing out did not forget it
    expect(page.locator("form.fill-form")).to_be_visible()
    page.select_option("#language-switch", "hu")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("[data-offline-action]")).to_be_visible()
    assert page.url.endswith(fill_path) and page.locator("#language-switch").input_value() == "en"
    screenshot(page, "offline-form-needs-network")
    # A visit assigned after the list was last seen has no offline copy: its address shows the list kept
    # for offline use, with its note, instead of a bare error.
    with app.app_context(), database.connection_context():
        later = _visit(org)
    page.goto(live_server + f"/visits/{later}/fill")
    expect(page.get_by_role("heading", name="My visits")).to_be_visible()
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    context.set_offline(False)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    context.close()


def test_on_a_shared_phone_a_visit_waits_for_its_own_shopper(app, browser, live_server, org, tmp_path):
    with app.app_context(), database.connection_context():
        visit = _visit(org)
        _visit(org, shopper="other_shopper")
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _sign_in(page, live_server)
    page.goto(live_server + f"/visits/{visit}/fill")
    _fill_everything(page, _photo_file(tmp_path))
    context.set_offline(True)
    page.get_by_role("button", name="Send the visit").click()
    expect(page.locator("[data-save-state]")).to_contain_text("Waiting to send (1)")
    context.clear_cookies()  # the first shopper's session ends; the visit waits on the phone
    context.set_offline(False)

    _sign_in(page, live_server, "other_shopper")
    page.wait_for_timeout(6000)  # the list page looks at the outbox every 5 s
    # The first shopper's pages kept for offline use are gone from the phone; the second one's are kept.
    kept = page.evaluate("caches.open('audit-pages').then(c => c.keys()).then(ks => ks.map(r => new URL(r.url).pathname))")
    assert f"/visits/{visit}/fill" not in kept and "/visits/" in kept, kept
    # The first shopper's sending, kept under their account.
    entry = page.evaluate("([v, owner]) => AuditStore.getOutbox(v, owner)", [visit, str(org["users"]["shopper"].id)])
    assert entry and not entry.get("rejected"), entry
    assert _stored(app, visit)[0].state == VisitState.ASSIGNED.value
    expect(page.locator("[data-local-status]")).to_have_text([""])  # the second shopper's own card
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))

    _sign_in(page, live_server)  # the first shopper again: their visit goes
    for _ in range(60):
        if page.evaluate(f"AuditStore.getOutbox('{visit}')") is None:
            break
        page.wait_for_timeout(500)
    assert _stored(app, visit)[0].state == VisitState.SUBMITTED.value
    context.close()


def test_a_visit_waiting_for_a_session_that_ended_says_to_sign_in_again_and_goes_after(app, browser, live_server,
                                                                                        org, tmp_path):
    """Sent offline, then the session ended (four idle hours): the server refused it for the session,
    and the page said "Waiting to send" for good, with "Sign out" in its bar. It says to sign in."""
    context, page, visit = _open_new_visit(app, browser, live_server, org, service_workers="block")
    _fill_everything(page, _photo_file(tmp_path))
    context.set_offline(True)
    page.get_by_role("button", name="Send the visit").click()
    state = page.locator("[data-save-state]")
    expect(state).to_contain_text("Waiting to send (1)")
    context.clear_cookies()  # the session ends while the phone is offline
    context.set_offline(False)
    page.evaluate("AuditOutbox.send(true)")
    expect(state).to_contain_text("Waiting to send: your session has ended.", timeout=15000)
    screenshot(page, "fill-waiting-for-sign-in", full_page=False)
    assert _stored(app, visit)[0].state == VisitState.ASSIGNED.value
    state.get_by_role("link", name="Sign in again to send it").click()
    expect(page).to_have_url(re.compile(r"/login"))
    _sign_in(page, live_server)  # the list page gives the waiting visit the new session's token
    for _ in range(60):
        if _stored(app, visit)[0].state == VisitState.SUBMITTED.value:
            break
        page.wait_for_timeout(500)
    assert _stored(app, visit)[0].state == VisitState.SUBMITTED.value
    context.close()


def test_work_kept_by_the_previous_version_of_the_app_is_sent_after_the_update(app, browser, live_server, org):
    """The phone's store gained a table (schema 2: who is signed in). A visit waiting in the outbox of
    schema 1, from before the update, survives the upgrade and is sent."""
    with app.app_context(), database.connection_context():
        visit = _visit(org)
        answers = best_answers(Visit.get(Visit.uuid == visit).checklist_version.content)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(live_server + "/login")  # a page of the app's origin, before any of its scripts open the store
    page.evaluate("""([visit, answers]) => new Promise((resolve, reject) => {
        const request = indexedDB.open("audit", 1);
        request.onupgradeneeded = () => {
          const db = request.result;
          db.createObjectStore("drafts", {keyPath: "visit"});
          db.createObjectStore("outbox", {keyPath: "visit"});
          db.createObjectStore("photos", {keyPath: "clientId"}).createIndex("visit", "visit");
        };
        request.onsuccess = () => {
          const tx = request.result.transaction("outbox", "readwrite");
          tx.objectStore("outbox").put({visit, payload: {answers, comments: {}, photos: {}}, csrf: "old",
            submitUrl: `/api/v1/visits/${visit}/submission`, photoUrl: `/api/v1/visits/${visit}/photos`,
            attempts: 0, nextTry: 0, queuedAt: Date.now()});
          tx.oncomplete = () => { request.result.close(); resolve(); };
          tx.onerror = () => reject(tx.error);
        };
        request.onerror = () => reject(request.error);
      })""", [visit, answers])
    _sign_in(page, live_server)
    for _ in range(60):
        if _stored(app, visit)[0].state == VisitState.SUBMITTED.value:
            break
        page.wait_for_timeout(500)
    stored, kept, _photos = _stored(app, visit)
    assert stored.state == VisitState.SUBMITTED.value and kept == answers
    assert page.evaluate("indexedDB.databases().then(list => list.find(d => d.name === 'audit').version)") == 3
    context.close()
