"""Ways a shopper could lose what they gave on the phone, in Chromium at phone size: a visit taken
from them while they filled it offline, and the phone's work sent under whoever is signed in."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from audit import ROOT
from audit.db import database
from audit.models import User, Visit, VisitState
from audit.operations import change_visit, publish_checklist_file, withdraw_visit
from tests.e2e.conftest import PHONE, sign_in, wait_until
from tests.e2e.test_offline import _fill_everything, _photo_file, _stored, _wait_until_cached

pytestmark = pytest.mark.browser

TYPED = "The assistant knew every model; she asked what my mother reads and showed two phones with large text."


def _visit(org):
    version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
    return str(Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                            planned_from=date.today(), planned_to=date.today() + timedelta(days=5)).uuid)


def _withdraw(visit, org):
    withdraw_visit(visit)


def _give_to_another_shopper(visit, org):
    change_visit(visit, User.get_by_id(org["users"]["other_shopper"].id), visit.planned_from, visit.planned_to,
                 visit.scenario, 0)


@pytest.mark.parametrize("taken_away", [_withdraw, _give_to_another_shopper], ids=["withdrawn", "given-to-another"])
def test_a_visit_taken_away_while_filled_offline_keeps_its_answers_to_read(app, browser, live_server, org, taken_away):
    """The auditor withdraws the visit (or gives it to another shopper) while the shopper fills it
    offline. Back online, the list said "You have no visits yet" and the visit's page was a missing
    page: what was typed for ten minutes was on the phone with no way to reach it. The list says what
    happened and links the visit, whose page shows the answers to read and copy, and nothing to send."""
    with app.app_context(), database.connection_context():
        visit = _visit(org)
    path = f"/visits/{visit}/fill"
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        sign_in(page, live_server, "shopper@example.com")
        _wait_until_cached(page, path)
        page.goto(live_server + path)
        context.set_offline(True)
        page.locator('input[name="answer-greeted"][value="yes"]').check()
        page.locator('textarea[name="answer-comments"]').fill(TYPED)
        wait_until(page, "([v, typed]) => AuditStore.getDraft(v).then(d => !!d && d.answers.comments === typed)",
                   [visit, TYPED])
        with app.app_context(), database.connection_context():
            taken_away(Visit.get(Visit.uuid == visit), org)
        context.set_offline(False)

        page.goto(live_server + "/visits/")
        kept = page.locator("[data-gone-visits]")
        expect(kept).to_contain_text("These visits are no longer assigned to you", timeout=10000)
        kept.get_by_role("link", name=org["branches"][0].name).click()
        expect(page).to_have_url(re.compile(path + "$"))
        expect(page.locator("[data-visit-gone]")).to_contain_text("This visit is no longer assigned to you")
        answer = page.locator('textarea[name="answer-comments"]')
        expect(answer).to_have_value(TYPED)
        expect(answer).to_have_attribute("readonly", "")
        expect(page.locator('input[name="answer-greeted"][value="yes"]')).to_be_checked()
        expect(page.get_by_role("button", name="Send the visit")).to_be_hidden()
        assert page.evaluate("(v) => AuditStore.getDraft(v).then(d => d.answers.comments)", visit) == TYPED
    finally:
        context.close()


@pytest.mark.parametrize("status", [413, 400])
def test_a_proxys_error_page_keeps_the_visit_waiting_and_it_goes_after(app, browser, live_server, org, tmp_path, status):
    """The reverse proxy in front of the app answers the photo's upload with its own HTML page (nginx's
    413 "Request Entity Too Large" under a low client_max_body_size, a 400 while it is reconfigured).
    Only the app refuses a visit, in its JSON: the phone gave the visit up for good ("Could not be sent:
    413"), and it went only if the shopper noticed and tapped Send again. It waits, and goes once the
    proxy lets it through."""
    with app.app_context(), database.connection_context():
        visit = _visit(org)
    context = browser.new_context(**PHONE, service_workers="block")  # the page's own sending is routed
    try:
        page = context.new_page()
        sign_in(page, live_server, "shopper@example.com")
        page.goto(live_server + f"/visits/{visit}/fill")
        _fill_everything(page, _photo_file(tmp_path))
        page.route("**/api/v1/visits/*/photos", lambda route: route.fulfill(
            status=status, content_type="text/html", body=f"<html><body><h1>{status}</h1><hr>nginx</body></html>"))
        page.get_by_role("button", name="Send the visit").click()
        state = page.locator("[data-save-state]")
        expect(state).to_have_text("Waiting to send (1)")
        page.wait_for_timeout(1500)  # the refusal has come back
        expect(state).to_have_text("Waiting to send (1)")
        entry = page.evaluate("(v) => AuditStore.getOutbox(v)", visit)
        assert entry and not entry.get("rejected"), entry
        page.unroute("**/api/v1/visits/*/photos")  # the proxy is put right: the page's next look sends it
        expect(page).to_have_url(re.compile(r"/visits/$"), timeout=15000)
        stored, _answers, photos = _stored(app, visit)
        assert stored.state == VisitState.SUBMITTED.value and len(photos) == 1
    finally:
        context.close()


def test_on_a_shared_phone_the_next_account_is_told_another_ones_visit_waits(app, browser, live_server, org, tmp_path):
    """The first shopper's visit waits in the outbox (sent offline) when their session ends, and another
    shopper signs in on the phone. Their list said nothing of it: clearing the browser's data, or
    handing the phone back reset, lost the first one's visit. It says one waits for another account,
    without a word of which or what it holds, and the visit is kept for its shopper."""
    with app.app_context(), database.connection_context():
        visit = _visit(org)
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        sign_in(page, live_server, "shopper@example.com")
        page.goto(live_server + f"/visits/{visit}/fill")
        _fill_everything(page, _photo_file(tmp_path))
        context.set_offline(True)
        page.get_by_role("button", name="Send the visit").click()
        expect(page.locator("[data-save-state]")).to_contain_text("Waiting to send (1)")
        page.goto(live_server + "/visits/")
        expect(page.locator("[data-others-waiting]")).to_be_hidden()  # their own: its card says it waits
        context.clear_cookies()  # the session ends; nobody signs out
        context.set_offline(False)

        sign_in(page, live_server, "other_shopper@example.com")
        note = page.locator("[data-others-waiting]")
        expect(note).to_have_text(re.compile(r"^This phone also keeps visits of another account waiting to be sent"))
        assert org["branches"][0].name not in page.locator("main").inner_text()
        # Kept under the first shopper's account.
        entry = page.evaluate("([v, owner]) => AuditStore.getOutbox(v, owner)", [visit, str(org["users"]["shopper"].id)])
        assert entry and not entry.get("rejected"), entry
        assert _stored(app, visit)[0].state == VisitState.ASSIGNED.value
    finally:
        context.close()


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))


def _answer_offline(context, page, live_server, visit, photo=None):
    """The shopper answers part of the visit offline: a yes, a long text and (given) a photo, kept on
    the phone."""
    path = f"/visits/{visit}/fill"
    _wait_until_cached(page, path)
    page.goto(live_server + path)
    context.set_offline(True)
    page.locator('input[name="answer-greeted"][value="yes"]').check()
    page.locator('textarea[name="answer-comments"]').fill(TYPED)
    if photo:
        page.locator('fieldset[data-item="shop_front"] input[type=file]').set_input_files(photo)
        expect(page.locator('fieldset[data-item="shop_front"] img.thumb')).to_have_count(1)
    wait_until(page, "([v, typed]) => AuditStore.getDraft(v).then(d => !!d && d.answers.comments === typed)",
               [visit, TYPED])
    context.set_offline(False)


def _kept_answers_shown(page, live_server, visit, org):
    """The list's "Answers kept on this phone" links the visit, whose page shows the answers kept on the
    phone, to read and copy only."""
    page.goto(live_server + "/visits/")
    kept = page.locator("[data-gone-visits]")
    expect(kept).to_be_visible(timeout=10000)
    expect(kept).to_contain_text("These visits are no longer assigned to you")
    kept.get_by_role("link", name=org["branches"][0].name).click()
    expect(page).to_have_url(re.compile(f"/visits/{visit}/fill$"))
    expect(page.locator("[data-visit-gone]")).to_contain_text("This visit is no longer assigned to you")
    answer = page.locator('textarea[name="answer-comments"]')
    expect(answer).to_have_value(TYPED)
    expect(answer).to_have_attribute("readonly", "")
    expect(page.locator('input[name="answer-greeted"][value="yes"]')).to_be_checked()
    expect(page.get_by_role("button", name="Send the visit")).to_be_hidden()


def _signs_out(context, page):
    _sign_out(page)


def _end_session(context, page):
    context.clear_cookies()  # the session ends (idle); nobody signs out


@pytest.mark.parametrize("leave", [_signs_out, _end_session], ids=["signed-out", "session-ended"])
def test_a_visit_given_to_the_other_shopper_of_a_shared_phone_opens_blank_for_them(app, browser, live_server, org,
                                                                                   tmp_path, leave):
    """Two shoppers share a phone. The first answers part of a visit (a photo too), leaves it, and the
    auditor gives the visit to the second one, who signs in on the same phone. The second one's page
    showed the first one's answers and photo, to be sent as theirs. It shows what the server has for
    them (nothing yet), and the first one's answers stay on the phone: back on it, the first shopper
    finds them under "Answers kept on this phone", and the second one's never there."""
    with app.app_context(), database.connection_context():
        visit = _visit(org)
    path = f"/visits/{visit}/fill"
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        sign_in(page, live_server, "shopper@example.com")
        _answer_offline(context, page, live_server, visit, _photo_file(tmp_path))
        page.goto(live_server + "/visits/")
        leave(context, page)
        with app.app_context(), database.connection_context():
            _give_to_another_shopper(Visit.get(Visit.uuid == visit), org)

        sign_in(page, live_server, "other_shopper@example.com")
        expect(page).to_have_url(re.compile(r"/visits/$"))
        page.goto(live_server + path)
        expect(page.locator("[data-save-state]")).to_be_attached()
        page.wait_for_timeout(1000)  # the phone's store has been read
        expect(page.locator('textarea[name="answer-comments"]')).to_have_value("")
        expect(page.locator('input[name="answer-greeted"][value="yes"]')).not_to_be_checked()
        expect(page.locator("img.thumb")).to_have_count(0)
        assert TYPED not in page.content()
        page.locator('input[name="answer-greeted"][value="no"]').check()  # their own answer, kept apart
        wait_until(page, "(v) => AuditStore.getDraft(v).then(d => !!d && d.answers.greeted === 'no')", visit)
        page.goto(live_server + "/visits/")
        expect(page.locator("[data-gone-visits]")).to_be_hidden()
        _sign_out(page)

        sign_in(page, live_server, "shopper@example.com")
        _kept_answers_shown(page, live_server, visit, org)
        expect(page.locator('fieldset[data-item="shop_front"] img.thumb')).to_have_count(1)
    finally:
        context.close()


def test_a_withdrawn_visits_answers_are_found_again_after_signing_out_and_in(app, browser, live_server, org):
    """A visit withdrawn while its answers were on the phone is listed under "Answers kept on this
    phone". Signing out dropped its kept page: signed in again, the shopper could no longer see them.
    They are still there for the same account, and never shown to another one signing in on the phone."""
    with app.app_context(), database.connection_context():
        visit = _visit(org)
    path = f"/visits/{visit}/fill"
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        sign_in(page, live_server, "shopper@example.com")
        _answer_offline(context, page, live_server, visit)
        with app.app_context(), database.connection_context():
            _withdraw(Visit.get(Visit.uuid == visit), org)
        _kept_answers_shown(page, live_server, visit, org)
        page.goto(live_server + "/visits/")
        _sign_out(page)

        sign_in(page, live_server, "shopper@example.com")
        _kept_answers_shown(page, live_server, visit, org)
        page.goto(live_server + "/visits/")
        _sign_out(page)

        sign_in(page, live_server, "other_shopper@example.com")
        expect(page).to_have_url(re.compile(r"/visits/$"))
        page.wait_for_timeout(1500)  # the list has looked for visits kept on the phone
        expect(page.locator("[data-gone-visits]")).to_be_hidden()
        response = page.goto(live_server + path)
        assert response.status == 404
        assert TYPED not in page.content()
        expect(page.locator("form.fill-form")).to_have_count(0)
    finally:
        context.close()


# Counts, on each page, the walks through every photo kept on the phone (a cursor over the photos
# store: each photo's blob is read), as opposed to the reads of one visit's photos through its index.
PHOTO_READS_COUNTED = """
  window.photosLookedThrough = 0;
  const openCursor = IDBObjectStore.prototype.openCursor;
  IDBObjectStore.prototype.openCursor = function () {
    if (this.name === "photos") window.photosLookedThrough += 1;
    return openCursor.apply(this, arguments);
  };
"""


def test_answers_kept_by_the_previous_version_are_the_signed_in_shoppers_after_the_update(app, browser, live_server, org):
    """The phone's store keeps each account's answers apart since schema 3; a phone in the field holds
    them by visit alone (schema 2). After the update a draft (and its photo) is the shopper's signed in
    then, as the phone showed it to them before, and none is lost; a draft whose sending waits for
    another account is that account's. The photos are looked through once, by the first page: the
    next pages read none of them."""
    with app.app_context(), database.connection_context():
        visit, theirs = _visit(org), _visit(org)
    other = str(org["users"]["other_shopper"].id)
    context = browser.new_context(**PHONE)
    context.add_init_script(PHOTO_READS_COUNTED)
    try:
        page = context.new_page()
        page.goto(live_server + "/login")  # the app's origin, before any of its scripts open the store
        page.evaluate("""([visit, theirs, other, typed]) => new Promise((made) => {
            const canvas = document.createElement("canvas");
            canvas.width = canvas.height = 8;
            canvas.toBlob(made, "image/jpeg");
          }).then((blob) => new Promise((resolve, reject) => {
            const request = indexedDB.open("audit", 2);
            request.onupgradeneeded = () => {
              const db = request.result;
              db.createObjectStore("drafts", {keyPath: "visit"});
              db.createObjectStore("outbox", {keyPath: "visit"});
              db.createObjectStore("photos", {keyPath: "clientId"}).createIndex("visit", "visit");
              db.createObjectStore("meta", {keyPath: "key"});
            };
            request.onsuccess = () => {
              const tx = request.result.transaction(["drafts", "outbox", "photos"], "readwrite");
              const draft = (v) => ({visit: v, answers: {greeted: "yes", comments: typed}, comments: {},
                                     photos: {shop_front: ["photo-" + v]}, updatedAt: Date.now()});
              tx.objectStore("drafts").put(draft(visit));
              tx.objectStore("drafts").put(draft(theirs));
              tx.objectStore("outbox").put({visit: theirs, owner: other, payload: {answers: {}}, csrf: "old",
                submitUrl: "/", photoUrl: "/", attempts: 0, nextTry: Date.now() + 600000, queuedAt: Date.now()});
              for (const v of [visit, theirs]) {
                tx.objectStore("photos").put({clientId: "photo-" + v, visit: v, item: "shop_front", blob, uploaded: false});
              }
              tx.oncomplete = () => { request.result.close(); resolve(); };
              tx.onerror = () => reject(tx.error);
            };
            request.onerror = () => reject(request.error);
          }))""", [visit, theirs, other, TYPED])
        sign_in(page, live_server, "shopper@example.com")
        expect(page).to_have_url(re.compile(r"/visits/$"))
        wait_until(page, "window.photosLookedThrough === 1")  # the list's page took them over
        page.goto(live_server + f"/visits/{visit}/fill")
        expect(page.locator('textarea[name="answer-comments"]')).to_have_value(TYPED)
        expect(page.locator('input[name="answer-greeted"][value="yes"]')).to_be_checked()
        expect(page.locator('fieldset[data-item="shop_front"] img.thumb')).to_have_count(1)
        assert page.evaluate("window.photosLookedThrough") == 0
        page.goto(live_server + f"/visits/{theirs}/fill")
        page.wait_for_timeout(1000)  # the phone's store has been read
        expect(page.locator('textarea[name="answer-comments"]')).to_have_value("")
        expect(page.locator("img.thumb")).to_have_count(0)
        kept = page.evaluate("""([theirs, other]) => Promise.all([
            AuditStore.getDraft(theirs, other), AuditStore.getOutbox(theirs, other), AuditStore.photosOf(theirs, other),
            indexedDB.databases().then(list => list.find(d => d.name === "audit").version)])""", [theirs, other])
        assert kept[0]["answers"]["comments"] == TYPED and kept[1]["owner"] == other and len(kept[2]) == 1, kept
        assert kept[3] == 3
    finally:
        context.close()


# A slow phone: each write of the draft waits until the test lets the writes through; they are counted.
COUNTED_HELD_STORE = """() => {
    window.draftWrites = 0;
    const held = new Promise(resolve => { window.letWritesThrough = resolve; });
    const write = AuditStore.changeDraft.bind(AuditStore);
    AuditStore.changeDraft = (visit, change) => {
        window.draftWrites += 1;
        return held.then(() => write(visit, change));
    };
}"""


def test_quick_taps_on_a_slow_phone_are_all_kept_without_a_queue_of_writes(app, browser, live_server, org):
    """Each tap queued a write of the whole draft of its own, one after the other: on a slow phone ten
    quick taps made a queue of ten writes, and Send waited behind them all. A tap made while a write
    waits to begin joins that write, which reads the page when it begins: while the first tap's write
    is under way the nine others make one more write, however quick or slow the taps are."""
    from tests.e2e.test_shopper_phone import _open_new_visit

    context, page, visit = _open_new_visit(app, browser, live_server, org)
    page.evaluate(COUNTED_HELD_STORE)
    items = page.evaluate("""() => [...document.querySelectorAll('fieldset[data-type=yesno]')]
        .filter(f => f.checkVisibility()).slice(0, 10).map(f => f.dataset.item)""")
    assert len(items) == 10, items
    for item in items:  # each tap while the first write is still under way
        page.locator(f'fieldset[data-item="{item}"] input[value=yes]').check()
    page.evaluate("window.letWritesThrough()")
    wait_until(page, "([v, items]) => AuditStore.getDraft(v).then(d => !!d && items.every(i => d.answers[i] === 'yes'))",
               [visit, items])
    writes = None
    for _second in range(10):  # until no write begins for a second
        if writes == page.evaluate("window.draftWrites"):
            break
        writes = page.evaluate("window.draftWrites")
        page.wait_for_timeout(1000)
    assert writes == 2, writes
    expect(page.locator("[data-save-state]")).to_contain_text("Saved on this phone at")
    context.close()
