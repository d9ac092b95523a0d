"""The shopper's hardest promise, in Chromium at phone size: fill a whole visit offline, reload, close
and reopen, go online, and the server holds exactly one visit with every answer and photo."""
import random
import re
import shutil
import threading
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from werkzeug.serving import make_server

from audit import ROOT
from audit.db import database
from audit.models import Answer, Evidence, User, Visit, VisitState
from audit.operations import publish_checklist_file
from tests.e2e.conftest import PHONE, screenshot, sign_in, wait_until
from tests.e2e.test_accessibility import _serious as _serious_accessibility_problems

pytestmark = pytest.mark.browser


@pytest.fixture
def assigned(app, org):
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today() + timedelta(days=5),
                             scenario="Ask for a mid-range phone for your mother.")
    return str(visit.uuid)


def _sign_in(page, base):
    sign_in(page, base, "shopper@example.com")
    expect(page).to_have_url(re.compile(r"/visits/$"))


def _wait_until_cached(page, path):
    # The page says so once the service worker has stored the visit's page for offline use.
    expect(page.locator(f'article[data-fill-url="{path}"] [data-offline-note]')).to_be_visible(timeout=15000)
    wait_until(page,
        "(path) => caches.open('audit-pages').then(c => c.match(location.origin + path)).then(Boolean)",
        arg=path, timeout=5000,
    )


def _on_visit_page(browser, base, visit_uuid):
    """(context, page): a new phone, the shopper signed in on it, on the visit's page."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _sign_in(page, base)
    page.goto(base + f"/visits/{visit_uuid}/fill")
    return context, page


def _phone_with_visit_kept(browser, base, path):
    """A new phone, the shopper signed in on it, with the visit page at `path` kept for offline use:
    (context, page)."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _sign_in(page, base)
    _wait_until_cached(page, path)
    return context, page


# When the camera took the photo, on its clock (Budapest in winter): 09:15:30 in UTC.
TAKEN = ("2026:11:26 10:15:30", "+01:00")


def _photo_file(tmp_path):
    path = tmp_path / "shopfront.jpg"
    exif = Image.Exif()
    exif.get_ifd(0x8769).update({0x9003: TAKEN[0], 0x9011: TAKEN[1]})  # DateTimeOriginal, OffsetTimeOriginal
    Image.new("RGB", (2400, 1800), "#3a6ea5").save(path, "JPEG", exif=exif)
    return str(path)


def _fill_everything(page, photo, js=True, by_hand=False):
    """Answer every shown item the best way; returns {item id: answer} as the page holds it.

    By hand (and always without JavaScript) each answer is a Playwright tap or typing, with round trips
    to the browser and its checks for each question: over a quarter of the browser tests' time, in
    the 30 tests that fill a whole visit before what they test. Otherwise one script a round gives the
    answers the way the page's own listeners receive them: a choice by the element's click() (a tap's
    click, input and change events), a typed value with its input and change events. Photos always go
    through the file control, as the camera's do."""
    if by_hand or not js:
        return _fill_everything_by_hand(page, photo, js)
    answered = {}
    # Conditional items appear once the answer they depend on is given: go round until none is left.
    for _round in range(3):
        given = page.evaluate(ANSWER_THE_SHOWN_ITEMS, list(answered))
        for item, answer in given.items():
            if answer is None:  # a photo item
                fieldset = page.locator(f'fieldset[data-item="{item}"]')
                fieldset.locator("input[type=file]").set_input_files(photo)
                expect(fieldset.locator("img.thumb")).to_have_count(1)
            else:
                answered[item] = answer
        if not [answer for answer in given.values() if answer is not None]:
            break
    return answered


# {item: answer} for each shown item not in `done` (an array), answered the best way (a photo item: null).
ANSWER_THE_SHOWN_ITEMS = """(done) => {
    const given = {};
    const typed = (field, value) => {
        field.focus();
        field.value = value;
        field.dispatchEvent(new Event('input', {bubbles: true}));
        field.dispatchEvent(new Event('change', {bubbles: true}));
    };
    for (const fieldset of document.querySelectorAll('fieldset[data-item]')) {
        const item = fieldset.dataset.item, kind = fieldset.dataset.type;
        if (done.includes(item) || item in given || !fieldset.checkVisibility()) continue;
        if (kind === 'yesno') {
            fieldset.querySelector('input[value=yes]').click();
            given[item] = 'yes';
        } else if (kind === 'scale' || kind === 'choice') {
            const radios = fieldset.querySelectorAll('input[type=radio]:not([value=na])');
            const target = kind === 'scale' ? radios[radios.length - 1] : radios[0];
            target.click();
            given[item] = kind === 'scale' ? Number(target.value) : target.value;
        } else if (kind === 'timer' || kind === 'number') {
            typed(fieldset.querySelector('input[inputmode]'), '0');
            given[item] = 0;
        } else if (kind === 'text') {
            typed(fieldset.querySelector('textarea'), 'Helpful and calm; the shop was busy.');
            given[item] = 'Helpful and calm; the shop was busy.';
        } else if (kind === 'photo' && !fieldset.querySelector('img.thumb')) {
            given[item] = null;
        }
    }
    return given;
}"""


def _fill_everything_by_hand(page, photo, js):
    answered = {}
    photographed = set()
    for _round in range(3):
        page.wait_for_timeout(100)
        for fieldset in page.locator("fieldset[data-item]").all():
            item = fieldset.get_attribute("data-item")
            if item in answered or item in photographed or not fieldset.is_visible():
                continue
            _answer(fieldset, item, answered, photographed, photo, js)
    return answered


def _answer(fieldset, item, answered, photographed, photo, js):
    """Answer one item the best way (photo items get one photo)."""
    kind = fieldset.get_attribute("data-type")
    if kind == "yesno":
        fieldset.locator("input[value=yes]").check()
        answered[item] = "yes"
    elif kind in ("scale", "choice"):
        radios = fieldset.locator("input[type=radio]:not([value=na])")
        target = radios.last if kind == "scale" else radios.first
        target.check()
        value = target.get_attribute("value")
        answered[item] = int(value) if kind == "scale" else value
    elif kind in ("timer", "number"):
        fieldset.locator("input[inputmode]").fill("0")  # a timer's number field or a number's decimal keypad
        answered[item] = 0
    elif kind == "text":
        fieldset.locator("textarea").first.fill("Helpful and calm; the shop was busy.")
        answered[item] = "Helpful and calm; the shop was busy."
    elif kind == "photo":
        fieldset.locator("input[type=file]").set_input_files(photo)
        if js:  # shrunk and kept on the phone at once; the plain form uploads it on submit
            expect(fieldset.locator("img.thumb")).to_have_count(1)
        photographed.add(item)


def _stored(app, visit_uuid):
    with app.app_context(), database.connection_context():
        visit = Visit.get(Visit.uuid == visit_uuid)
        answers = {a.item_id: a.value for a in Answer.select().where(Answer.visit == visit)}
        photos = list(Evidence.select().where(Evidence.visit == visit))
        return visit, answers, photos


def test_a_visit_filled_offline_survives_reload_and_reopen_and_arrives_once(app, browser, live_server, assigned, tmp_path):
    context = browser.new_context(**PHONE, permissions=["geolocation"],
                                  geolocation={"latitude": 47.49387, "longitude": 19.05300})
    page = context.new_page()
    fill_path = f"/visits/{assigned}/fill"
    _sign_in(page, live_server)
    _wait_until_cached(page, fill_path)

    context.set_offline(True)
    page.goto(live_server + fill_path)  # from the service worker's cache
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    answered = _fill_everything(page, _photo_file(tmp_path), by_hand=True)
    expect(page.locator("[data-save-state]")).to_contain_text("Saved on this phone")
    screenshot(page, "fill-offline")

    scored = len(answered) - 1  # the free-text item scores nothing
    expect(page.locator("[data-progress]")).to_have_text(f"{scored} of {scored} answered")
    page.reload()
    expect(page.locator("[data-progress]")).to_have_text(f"{scored} of {scored} answered")
    first_item = next(iter(answered))
    expect(page.locator(f'input[name="answer-{first_item}"][value="yes"]')).to_be_checked()

    page.close()
    page = context.new_page()
    page.goto(live_server + fill_path)
    expect(page.locator(f'input[name="answer-{first_item}"][value="yes"]')).to_be_checked()
    expect(page.locator("img.thumb")).to_have_count(1)
    page.get_by_role("button", name="Send the visit").click()
    expect(page.locator("[data-save-state]")).to_contain_text("Waiting to send (1)")
    visit, answers, _photos = _stored(app, assigned)
    assert visit.state == VisitState.ASSIGNED.value and answers == {}

    context.set_offline(False)
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)
    visit, answers, photos = _stored(app, assigned)
    assert visit.state == VisitState.SUBMITTED.value
    assert answers == {k: v for k, v in answered.items()}
    assert len(photos) == 1 and photos[0].width == 1600
    # The phone shrank it on a canvas (no EXIF left), and said when the camera took it.
    assert photos[0].captured_at == datetime(2026, 11, 26, 9, 15, 30)
    assert visit.started_at is not None and visit.ended_at >= visit.started_at
    assert 20 < visit.checkin_distance_m < 40  # only the distance is kept, not where the shopper was
    # The list says it was sent once: the server's state, not the phone's too ("Sent Sent").
    card = page.locator(f'article[data-visit="{assigned}"]')
    expect(card.locator(".badge.state-submitted")).to_be_visible()
    page.wait_for_timeout(500)  # the phone's own word comes after its store is read
    expect(card.locator("[data-local-status]")).to_have_text("")
    context.close()


def test_flaky_network_and_a_double_tap_still_store_one_visit(app, browser, live_server, assigned, tmp_path):
    context, page = _on_visit_page(browser, live_server, assigned)
    answered = _fill_everything(page, _photo_file(tmp_path))

    chance = random.Random(7)
    attempts = {"api": 0, "dropped": 0}

    def flaky(route):
        attempts["api"] += 1
        if attempts["api"] == 1 or chance.random() < 0.5:  # the page's first try always fails
            attempts["dropped"] += 1
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/**", flaky)
    send = page.get_by_role("button", name="Send the visit")
    send.click()
    send.click(no_wait_after=True)  # the impatient double tap
    # Keep nudging the outbox the way the page does on each online event, until it is empty. Once the
    # visit is sent the page goes back to the list of visits, which may happen during a nudge.
    for _ in range(40):
        try:
            remaining = page.evaluate("AuditOutbox.send(true).then(entries => entries.length)")
        except PlaywrightError:  # the page went on to the list in the middle of this nudge
            page.wait_for_url(live_server + "/visits/")
            remaining = page.evaluate("AuditOutbox.send(true).then(entries => entries.length)")
        if remaining == 0:
            break
    assert remaining == 0
    page.wait_for_url(live_server + "/visits/")
    visit, answers, photos = _stored(app, assigned)
    assert visit.state == VisitState.SUBMITTED.value
    assert answers == answered
    assert len(photos) == 1
    assert visit.checkin_distance_m is None  # location not granted: the visit goes through without it
    # At least one send broke off on the way. What sent it in the end may be the page or the service
    # worker (Background Sync), whose requests Playwright does not route: count only what failed.
    assert attempts["dropped"] >= 1
    # Different answers for a visit already sent are refused, and change nothing.
    page.unroute("**/api/v1/**")
    status = page.evaluate(
        """(url) => fetch(url, {method: 'POST', credentials: 'same-origin',
             headers: {'Content-Type': 'application/json',
                       'X-CSRFToken': document.querySelector('input[name=csrf_token]').value},
             body: JSON.stringify({answers: {greeted: 'no'}})}).then(r => r.status)""",
        f"/api/v1/visits/{assigned}/submission",
    )
    assert status == 409
    assert _stored(app, assigned)[1] == answered
    with app.app_context(), database.connection_context():
        assert Visit.select().where(Visit.uuid == assigned).count() == 1
    context.close()


def test_the_plain_form_works_without_javascript(app, browser, live_server, assigned, tmp_path):
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    _sign_in(page, live_server)
    page.goto(live_server + f"/visits/{assigned}/fill")
    page.locator('input[name="answer-greeted"][value="no"]').check()
    page.get_by_role("button", name="Send the visit").click()
    # Refused: answers missing, and the failed critical greeting needs a comment; nothing typed is lost.
    expect(page.locator(".flash-error")).to_contain_text("Nothing you entered was lost")
    expect(page.locator('input[name="answer-greeted"][value="no"]')).to_be_checked()
    expect(page.locator("#q-greeted .error")).to_be_visible()
    screenshot(page, "fill-nojs-errors")
    answered = _fill_everything(page, _photo_file(tmp_path), js=False)
    page.get_by_role("button", name="Send the visit").click()
    expect(page).to_have_url(re.compile(r"/visits/$"))
    visit, answers, photos = _stored(app, assigned)
    assert visit.state == VisitState.SUBMITTED.value
    assert answers == answered
    assert len(photos) == 1
    context.close()


def test_check_in_distance_timer_conditions_and_the_sign_out_warning(app, browser, live_server, assigned):
    # The phone stands about 30 m from the branch (47.4936, 19.0530) and lets the page know where it is.
    context = browser.new_context(**PHONE, permissions=["geolocation"],
                                  geolocation={"latitude": 47.49387, "longitude": 19.05300})
    page = context.new_page()
    _sign_in(page, live_server)
    page.goto(live_server + f"/visits/{assigned}/fill")

    # The timer counts while it runs; the seconds stay editable.
    timer = page.locator("#q-wait_for_contact")
    timer.get_by_role("button", name="Start").click()
    page.wait_for_timeout(2200)
    timer.get_by_role("button", name="Stop").click()
    assert int(timer.locator("input[type=number]").input_value()) >= 2

    # A conditional item appears only for the answers it depends on.
    relevance = page.locator("#q-offer_relevance")
    page.locator('input[name="answer-additional_offer"][value="none"]').check()
    expect(relevance).to_be_hidden()
    page.locator('input[name="answer-additional_offer"][value="proactive"]').check()
    expect(relevance).to_be_visible()

    wait_until(page, "AuditStore.getDraft(document.querySelector('form.fill-form').dataset.visit)"
                           ".then(d => !!(d && d.location))", timeout=10000)

    # Work waiting to be sent (not due for ten minutes), then "Sign out" warns before leaving it behind.
    # (Offline, signing out is refused altogether: tests/e2e/test_shopper_phone.py.)
    page.evaluate("""() => AuditStore.putOutbox({visit: 'x', payload: {answers: {}}, csrf: '', submitUrl: '/x',
                                                photoUrl: '/x', attempts: 0, nextTry: Date.now() + 600000})""")
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_timeout(500)
    assert dialogs and "have not been sent yet" in dialogs[0]
    assert "/fill" in page.url  # still here, still signed in
    context.close()


def test_a_running_timer_keeps_counting_when_the_shopper_leaves_the_page(app, browser, live_server, assigned):
    """Mid-wait the shopper goes to the list (or the phone closes the tab): back on the visit the timer
    still runs, counted from when it started; stopped, it stays stopped with its seconds."""
    context, page = _on_visit_page(browser, live_server, assigned)
    timer = page.locator("#q-wait_for_contact")
    seconds = timer.locator("input[type=number]")
    seconds.fill("5")  # seconds typed before, then timed on top of them
    timer.get_by_role("button", name="Start").click()
    wait_until(page, "AuditStore.getDraft(document.querySelector('form.fill-form').dataset.visit)"
                           ".then(d => !!(d && d.timers && d.timers.wait_for_contact))", timeout=5000)
    page.goto(live_server + "/visits/")
    page.wait_for_timeout(2500)
    page.close()
    page = context.new_page()  # another tab: the first one was closed
    page.goto(live_server + f"/visits/{assigned}/fill")
    timer = page.locator("#q-wait_for_contact")
    seconds = timer.locator("input[type=number]")
    stop = timer.get_by_role("button", name="Stop")
    expect(stop).to_be_visible()
    expect(seconds).to_have_value(re.compile(r"^([89]|1\d)$"))  # 5 typed + about 3 while away
    stop.click()
    stopped = int(seconds.input_value())
    assert 8 <= stopped < 20
    wait_until(page, "AuditStore.getDraft(document.querySelector('form.fill-form').dataset.visit)"
                           ".then(d => d && d.answers.wait_for_contact === %d && !d.timers.wait_for_contact)" % stopped,
                           timeout=5000)
    page.wait_for_timeout(1200)
    page.reload()
    timer = page.locator("#q-wait_for_contact")
    expect(timer.get_by_role("button", name="Start")).to_be_visible()
    expect(timer.locator("input[type=number]")).to_have_value(str(stopped))  # no longer counting
    context.close()


BAD_GATEWAY = [b"<html><body><h1>502 Bad Gateway</h1></body></html>"]


def _proxy(app):
    """The app behind a reverse proxy that answers 502 (as nginx while the app restarts) to every request
    for which proxy.fails(environ) is true; at first none."""
    def proxy(environ, start_response):
        if proxy.fails(environ):
            start_response("502 Bad Gateway", [("Content-Type", "text/html")])
            return BAD_GATEWAY
        return app(environ, start_response)

    proxy.fails = lambda environ: False
    return proxy


@contextmanager
def _serving(wsgi):
    """A live server of another WSGI app than the test's (a proxy or a load balancer in front of it)."""
    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


DEPLOYED = "body { --deployed: 'next release'; }"
DEPLOYED_VALUE = "getComputedStyle(document.body).getPropertyValue('--deployed').trim()"
SHELL_CACHES = "caches.keys().then(names => names.filter(name => name.startsWith('audit-shell-')))"


def _deploy_new_css(app, tmp_path):
    """What a deployment does to a running phone's server: a new app.css, served by new processes
    (which start with no file versions and no fragments kept)."""
    from audit import assets, fragments

    folder = tmp_path / "static"
    shutil.copytree(app.static_folder, folder)
    with open(folder / "app.css", "a", encoding="utf-8") as css:
        css.write("\n" + DEPLOYED + "\n")
    app.static_folder = str(folder)
    app.extensions.pop("asset_versions", None)
    with app.app_context():
        fragments.cache.clear()
        with app.test_request_context():
            return assets.shell_cache_name(assets.shell_urls())


def test_after_a_deployment_the_first_page_has_the_new_css_online_and_offline(app, browser, live_server, assigned, tmp_path):
    """The service worker keeps the shell (CSS, scripts) for offline use. After a deployment the very next
    page must use the new files, not last release's kept ones, and offline pages too once the new
    worker has taken over."""
    path = f"/visits/{assigned}/fill"
    context, page = _phone_with_visit_kept(browser, live_server, path)
    page.goto(live_server + path)
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    old_shell = page.evaluate(SHELL_CACHES)
    assert len(old_shell) == 1 and page.evaluate(DEPLOYED_VALUE) == ""

    new_shell = _deploy_new_css(app, tmp_path)
    assert new_shell not in old_shell
    page.reload()
    assert page.evaluate(DEPLOYED_VALUE) == "'next release'"
    expect(page.locator("form.fill-form")).to_be_visible()

    # The browser finds the new worker; it keeps the new shell and drops the old one. The old shell
    # goes when the new worker takes over, after the old one's fetches under way have ended: with
    # the suite in several processes on two cores that once took longer than 15 s.
    wait_until(page, "(name) => caches.keys().then(names => names.includes(name))", arg=new_shell,
               timeout=60000)
    wait_until(page, f"{SHELL_CACHES}.then(names => names.length === 1)", timeout=60000)
    # The list page asks the worker to keep its visits' pages again, now with the new files' URLs.
    page.goto(live_server + "/visits/")
    _wait_until_cached(page, path)
    context.set_offline(True)
    page.goto(live_server + path)
    expect(page.locator("form.fill-form")).to_be_visible()
    assert page.evaluate(DEPLOYED_VALUE) == "'next release'"
    context.close()


def test_in_a_rolling_deployment_a_phone_never_keeps_an_old_file_under_a_new_version(app, app_config, browser, assigned,
                                                                                      tmp_path):
    """Behind a load balancer the processes of a release are replaced one by one: for a while a page and
    a service worker of the new release come from a new process while their CSS and scripts may come
    from an old one, which answers a new version's URL with its old file. The phone must not keep that
    file under the new URL (it would keep it until the next release); once every process is new, the
    phone takes the new release."""
    from audit import assets, create_app

    folder = tmp_path / "release-2"
    shutil.copytree(app.static_folder, folder)
    with open(folder / "app.css", "a", encoding="utf-8") as css:
        css.write("\n" + DEPLOYED + "\n")
    new = create_app(app_config)
    new.static_folder = str(folder)
    with new.test_request_context():
        new_css = next(url for url in assets.shell_urls() if url.startswith("/static/app.css"))
        new_shell = assets.shell_cache_name(assets.shell_urls())
    asked = []

    def balancer(environ, start_response):
        # The old process (`app`) serves every static file until the deployment ends.
        query = environ.get("QUERY_STRING")
        path = environ["PATH_INFO"] + (f"?{query}" if query else "")
        rolling = balancer.rolling and path.startswith("/static/")
        if rolling:
            asked.append(path)
        target = balancer.release if not rolling else app
        return target(environ, start_response)

    balancer.release, balancer.rolling = app, False
    with _serving(balancer) as base:
        path = f"/visits/{assigned}/fill"
        context, page = _phone_with_visit_kept(browser, base, path)
        try:
            page.goto(base + path)
            page.wait_for_function("navigator.serviceWorker.controller !== null")
            old_shell = page.evaluate(SHELL_CACHES)

            balancer.release, balancer.rolling = new, True
            page.reload()
            expect(page.locator("form.fill-form")).to_be_visible()
            # The page asks the old process for the new CSS, and so does the new worker's install, which
            # fails: the old worker stays.
            for _ in range(40):
                if asked.count(new_css) >= 2:
                    break
                page.wait_for_timeout(250)
            page.wait_for_timeout(500)
            assert asked.count(new_css) >= 2, asked
            assert page.evaluate("(url) => caches.match(url).then(r => r === undefined)", new_css)
            wait_until(page, f"{SHELL_CACHES}.then(names => names.length === 1 && names[0] === '{old_shell[0]}')")

            balancer.rolling = False  # every process is of the new release now
            page.reload()
            assert page.evaluate(DEPLOYED_VALUE) == "'next release'"
            wait_until(page, "(name) => caches.keys().then(names => names.includes(name))", arg=new_shell,
                                   timeout=15000)
            kept = page.evaluate("(url) => caches.match(url).then(r => r ? r.text() : null)", new_css)
            assert kept is not None and DEPLOYED in kept
        finally:
            context.close()


def test_while_the_app_restarts_behind_its_proxy_the_phone_shows_the_visit_it_kept(app, browser, assigned, org):
    """A deployment restarts the app behind its reverse proxy, which answers 502 meanwhile (nginx's "Bad
    Gateway"). The phone is online, but the shopper must get the visit and the list kept on it, with
    the answers given, as offline, not the proxy's error page."""
    proxy = _proxy(app)
    with _serving(proxy) as base:
        path = f"/visits/{assigned}/fill"
        context, page = _phone_with_visit_kept(browser, base, path)
        try:
            page.goto(base + path)
            page.locator('input[name="answer-greeted"][value="yes"]').check()
            wait_until(page, f"AuditStore.getDraft('{assigned}').then(d => !!d && d.answers.greeted === 'yes')")

            proxy.fails = lambda environ: True
            page.reload()
            expect(page.locator("form.fill-form")).to_be_visible()
            expect(page.locator('input[name="answer-greeted"][value="yes"]')).to_be_checked()
            assert "Bad Gateway" not in page.content()
            page.goto(base + "/visits/")
            expect(page.locator(f'article[data-fill-url="{path}"]')).to_be_visible()
            # A page the phone never kept still shows the server's answer: a visit assigned since the
            # list was kept, and the sign-in page.
            with app.app_context(), database.connection_context():
                later = Visit.create(branch=org["branches"][0], checklist_version=Visit.get(Visit.uuid == assigned).checklist_version,
                                     shopper=org["users"]["shopper"], planned_from=date.today(),
                                     planned_to=date.today() + timedelta(days=5))
            assert "Bad Gateway" in page.goto(base + f"/visits/{later.uuid}/fill").text()
            assert "Bad Gateway" in page.goto(base + "/login").text()
            proxy.fails = lambda environ: False
            page.goto(base + path)
            expect(page.locator("form.fill-form")).to_be_visible()
        finally:
            context.close()


def test_on_a_shared_phone_the_next_shopper_never_gets_the_pages_kept_for_the_last(app, browser, assigned, org):
    """The last shopper's session ended without signing out; the next one signs in while the server
    fails (502 behind its proxy). The phone must not show the last shopper's visits, briefs and
    addresses in place of the failing page."""
    proxy = _proxy(app)
    with _serving(proxy) as base:
        context = browser.new_context(**PHONE)
        try:
            page = context.new_page()
            _sign_in(page, base)
            _wait_until_cached(page, f"/visits/{assigned}/fill")
            context.clear_cookies()  # the session ended (idle), nobody signed out
            proxy.fails = lambda environ: environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"].startswith("/visits/")
            sign_in(page, base, "other_shopper@example.com")
            page.wait_for_url(re.compile(r"/visits/$"))
            shown = page.content()
            assert assigned not in shown and org["branches"][0].name not in shown, "the last shopper's list"
            assert "Bad Gateway" in shown
            assert "Bad Gateway" in page.goto(base + f"/visits/{assigned}/fill").text()
        finally:
            context.close()


def _another_visit(app, org, assigned):
    """A second visit of the same shopper, checklist and branch as `assigned`; its uuid."""
    with app.app_context(), database.connection_context():
        return str(Visit.create(branch=org["branches"][0], checklist_version=Visit.get(Visit.uuid == assigned).checklist_version,
                                shopper=org["users"]["shopper"], planned_from=date.today(),
                                planned_to=date.today() + timedelta(days=5)).uuid)


def test_the_same_shopper_signing_in_again_keeps_every_visit_for_offline_use(app, browser, live_server, assigned, org):
    """The session ended (idle) on a visit; the shopper signs in again, typing the address their own way,
    and the network drops: the list and every visit kept before can still be filled offline."""
    other = _another_visit(app, org, assigned)
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        _sign_in(page, live_server)
        _wait_until_cached(page, f"/visits/{other}/fill")
        _wait_until_cached(page, f"/visits/{assigned}/fill")
        page.goto(live_server + f"/visits/{assigned}/fill")
        context.clear_cookies()  # the session ended while the shopper was on this visit
        page.reload()
        expect(page).to_have_url(re.compile(r"/login\?next="))
        from conftest import PASSWORD

        page.get_by_label("E-mail").fill("  Shopper@Example.com ")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("form.fill-form")).to_be_visible()  # back on the visit, not the list
        context.set_offline(True)
        page.goto(live_server + "/visits/")
        # The list says which visits the phone holds, though offline the worker cannot fetch them.
        expect(page.locator(f'article[data-fill-url="/visits/{other}/fill"] [data-offline-note]')).to_be_visible()
        page.goto(live_server + f"/visits/{other}/fill")
        expect(page.locator("form.fill-form")).to_be_visible()
    finally:
        context.close()


def _kept_page_language(page, path):
    """The lang of the page the phone keeps for `path` ('' while none is kept)."""
    return page.evaluate(
        """(path) => caches.open('audit-pages').then(c => c.match(location.origin + path, {ignoreVary: true}))
              .then(r => r ? r.text() : '').then(html => (/<html lang="([^"]+)"/.exec(html) || [, ''])[1])""", path)


def test_a_language_chosen_on_one_visit_reaches_every_visit_kept_offline(app, browser, live_server, assigned, org):
    """The shopper switches to Hungarian on one visit's page and goes offline: the other visit kept on
    the phone opens in Hungarian too, not in the language it was kept in."""
    other = _another_visit(app, org, assigned)
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        _sign_in(page, live_server)
        _wait_until_cached(page, f"/visits/{other}/fill")
        assert _kept_page_language(page, f"/visits/{other}/fill") == "en"
        page.goto(live_server + f"/visits/{assigned}/fill")
        page.get_by_label("Language", exact=True).select_option("hu")
        page.get_by_role("button", name="Change").click()
        expect(page.locator("html")).to_have_attribute("lang", "hu")
        wait_until(page,
            """(path) => caches.open('audit-pages').then(c => c.match(location.origin + path, {ignoreVary: true}))
                  .then(r => r ? r.text() : '').then(html => html.includes('<html lang="hu"'))""",
            arg=f"/visits/{other}/fill", timeout=15000)
        context.set_offline(True)
        page.goto(live_server + f"/visits/{other}/fill")
        expect(page.locator("form.fill-form")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "hu")
        expect(page.get_by_label("Nyelv", exact=True)).to_be_visible()  # the top bar too, not only the checklist
    finally:
        context.close()


def test_offline_a_page_never_kept_says_so_in_the_shoppers_language(app, browser, live_server, assigned, org):
    """Nothing is kept on the phone yet (the network dropped right after signing in): a visit opened
    offline gets a page in the shopper's language, styled, that says what to do, not a bare error."""
    with app.app_context(), database.connection_context():
        User.update(language="ro").where(User.id == org["users"]["shopper"].id).execute()
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        _sign_in(page, live_server)
        _wait_until_cached(page, f"/visits/{assigned}/fill")
        wait_until(page,
            "() => caches.open('audit-settings').then(c => c.match(location.origin + '/sw/pages-language'))"
            ".then(r => r ? r.text() : '').then(lang => lang === 'ro')", timeout=10000)
        page.evaluate("() => caches.delete('audit-pages')")  # as if the list had never been kept
        context.set_offline(True)
        response = page.goto(live_server + f"/visits/{assigned}/fill")
        assert response.status == 503
        expect(page.locator("html")).to_have_attribute("lang", "ro")
        expect(page.get_by_role("heading", name="Nu aveți conexiune la internet")).to_be_visible()
        expect(page.get_by_role("link", name="Vizitele mele")).to_have_attribute("href", "/visits/")
        # The app's own style, from the shell the phone keeps.
        assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor") == "rgb(31, 78, 121)"
        screenshot(page, "offline-never-kept-ro")
        assert not _serious_accessibility_problems(page)
        # The top bar's link to change the password, offline: the same page, not the browser's error.
        context.set_offline(False)
        page.goto(live_server + "/visits/")
        context.set_offline(True)
        page.get_by_role("link", name="Parolă").click()
        expect(page.get_by_role("heading", name="Nu aveți conexiune la internet")).to_be_visible()
    finally:
        context.close()


def test_a_sent_visit_whose_kept_page_is_still_its_form_cannot_be_changed_there(app, browser, live_server, assigned,
                                                                                 tmp_path):
    """Once sent, the phone keeps the visit's page as the server then gives it ("sent"); when that
    fetch failed (the network went as the visit arrived), the page kept offline, or the one Back
    brings, is still its form: a change made there waited on the phone and was refused once online,
    for good, and the list then said both "Submitted" and "Could not send"."""
    fill_path = f"/visits/{assigned}/fill"
    context, page = _phone_with_visit_kept(browser, live_server, fill_path)
    # The form page as the phone kept it before the sending, put back after it: the failed fetch.
    copy_kept_form = """(path) => caches.open('audit-pages').then(c => c.match(location.origin + path))
        .then(r => caches.open('test-copy').then(c => c.put(path, r)))"""
    put_form_back = """(path) => caches.open('test-copy').then(c => c.match(path))
        .then(r => caches.open('audit-pages').then(c => c.put(location.origin + path, r)))"""
    page.evaluate(copy_kept_form, fill_path)
    page.goto(live_server + fill_path)
    answered = _fill_everything(page, _photo_file(tmp_path))
    page.get_by_role("button", name="Send the visit").click()
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)
    assert _stored(app, assigned)[0].state == VisitState.SUBMITTED.value
    page.wait_for_timeout(500)  # the sent page kept meanwhile, then replaced by the form
    page.evaluate(put_form_back, fill_path)

    context.set_offline(True)
    page.goto(live_server + fill_path)
    expect(page.locator("form.fill-form")).to_have_count(1)  # the form, as kept before the sending
    expect(page.locator("[data-save-state]")).to_contain_text("It can no longer be changed")
    first_item = next(iter(answered))
    choices = page.locator(f'input[name="answer-{first_item}"]')
    assert choices.count() and all(choice.is_disabled() for choice in choices.all())
    expect(page.get_by_role("button", name="Send the visit")).to_be_hidden()
    screenshot(page, "sent-visit-kept-form-offline")

    context.set_offline(False)
    page.goto(live_server + "/visits/")
    card = page.locator(f'article[data-visit="{assigned}"]')
    expect(card.locator(".badge.state-submitted")).to_be_visible()
    page.wait_for_timeout(500)  # the phone's own word comes after its store is read
    expect(card.locator("[data-local-status]")).to_have_text("")
    context.close()
