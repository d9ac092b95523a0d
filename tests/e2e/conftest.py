"""A live server of the test app and Debian's Chromium driven by Playwright, at phone size."""
import os
import shutil
import threading

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = os.path.join(os.path.dirname(__file__), "screenshots")
# Without these flags Chromium keeps trying to reach Google's services on this closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Far above the slowest browser test (about 40 s with both passes on the two cores): only a stall hits it.
BROWSER_TEST_TIMEOUT_S = 300
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("browser") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(BROWSER_TEST_TIMEOUT_S))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A browser test that timed out leaves Playwright's connection mid-call: every later browser test
    would stall in turn. The pass stops there, and prints the stalled test's stacks at once."""
    report = yield
    if (report.failed and item.get_closest_marker("browser") and call.excinfo is not None
            and "Timeout" in str(call.excinfo.value)):
        item.session.shouldstop = f"{item.nodeid} stalled in the browser ({call.excinfo.value})"
    return report


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: run `make test`, which installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, base, email):
    """Sign in through the sign-in form, as a person does (every demo and test account shares PASSWORD)."""
    from conftest import PASSWORD

    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def screenshot(page, name, full_page=True):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    path = os.path.join(SCREENSHOTS, f"{name}.png")
    page.screenshot(path=path, full_page=full_page)
    return path


def wait_for_held(page, held, who):
    """Until a request routed into `held` (a list the route handler appends to) is there: `who`'s
    sending has begun and waits for the test to answer it."""
    for _ in range(40):
        if held:
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"{who} did not send")


def wait_until(page, expression, arg=None, timeout=10000):
    """Until `expression` (JavaScript: a value, a promise, or a function of `arg` giving either) is
    true in the page; an AssertionError naming it if it never is. Playwright's wait_for_function does
    not await a promise: any promise, even of false, counted as true there, so every wait on the phone's
    store (IndexedDB, the caches) passed at once."""
    waited = 0
    while True:
        if page.evaluate(expression, arg):
            return
        if waited >= timeout:
            raise AssertionError(f"never true within {timeout} ms: {expression}")
        page.wait_for_timeout(100)
        waited += 100
