"""In a real headless Chromium at phone size: sign in, switch language, the PWA's parts load."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def _sign_in(page, base, email):
    sign_in(page, base, email)


def test_manager_signs_in_on_a_phone_and_switches_to_hungarian(phone, live_server, org):
    page = phone
    _sign_in(page, live_server, "manager@example.com")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", name="Branches")).to_be_visible()
    expect(page.get_by_role("rowheader", name="BUD-01 Aurora Váci utca")).to_be_visible()
    expect(page.get_by_text("Baltia Нарва")).to_have_count(0)  # another manager's region
    screenshot(page, "dashboard-en")

    # The choice applies with the Change button, not while the arrow keys go through the list.
    page.get_by_label("Language").select_option("hu")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator(".langform button").click()
    expect(page.locator("html")).to_have_attribute("lang", "hu")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", name="Fiókok")).to_be_visible()
    screenshot(page, "dashboard-hu")

    # The choice is the account's: a fresh page load stays Hungarian.
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "hu")


def test_page_fits_the_phone_and_touch_targets_are_large(phone, live_server, org):
    page = phone
    _sign_in(page, live_server, "auditor@example.com")
    for form in ("branch", "brand"):  # the brand's colours come with the browser's picker
        page.goto(live_server + f"/admin/{form}{'es' if form == 'branch' else 's'}/new")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways: {width}px"
        small = page.evaluate(
            """() => [...document.querySelectorAll('button, input:not([type=hidden]), select, .nav a')]
                  .filter(e => e.offsetParent !== null)
                  .map(e => e.type === 'checkbox' ? e.closest('label') : e)  // the label is the target
                  .map(e => [e.textContent.trim() || e.name, e.getBoundingClientRect().height])
                  .filter(([_, h]) => h < 44)"""
        )
        assert small == [], form
        screenshot(page, f"{form}-form")


def test_service_worker_and_manifest_make_it_installable(phone, live_server, org):
    page = phone
    page.goto(live_server + "/login")
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == live_server + "/"
    manifest = page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
    )
    assert manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    status = page.evaluate(f"fetch('{manifest['icons'][0]['src']}').then(r => r.status)")
    assert status == 200


def test_no_javascript_sign_in_and_language_change_still_work(browser, live_server, org):
    from tests.e2e.conftest import PHONE

    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        _sign_in(page, live_server, "manager@example.com")
        expect(page).to_have_url(re.compile(r"/dashboard/$"))
        page.get_by_label("Language").select_option("ru")
        page.locator(".langform button").click()
        expect(page.locator("html")).to_have_attribute("lang", "ru")
    finally:
        context.close()
