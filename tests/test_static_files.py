"""Static files under versioned URLs (audit/assets.py): a page names the exact content of its CSS and
scripts, a browser may keep that content, and a deployment changes the URLs and the service worker."""
import hashlib
import re
import shutil
from datetime import date, timedelta

import pytest

from audit import ROOT, create_app
from audit.db import database
from audit.models import Visit
from audit.operations import publish_checklist_file

STATIC_URL = re.compile(r'(?:src|href)="(/static/[^"?]+)\?v=([0-9a-f]+)"')
SHELL_NAME = re.compile(r'var SHELL = "(audit-shell-[0-9a-f]+)";')
SHELL_FILES = re.compile(r"var SHELL_FILES = (\[.*?\]);")


@pytest.fixture
def fill_page(app, org, login_as):
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today() + timedelta(days=5))
    client = login_as("shopper")
    response = client.get(f"/visits/{visit.uuid}/fill")
    assert response.status_code == 200
    return client, response.get_data(as_text=True)


def _digest(app, path):
    with open(app.static_folder + path.removeprefix("/static"), "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()[:12]


def test_each_static_url_names_its_files_content_and_may_be_kept_a_year(app, fill_page):
    client, html = fill_page
    found = dict(STATIC_URL.findall(html))
    assert {"/static/app.css", "/static/app.js", "/static/outbox.js", "/static/fill.js"} <= set(found)
    for path, version in found.items():
        assert version == _digest(app, path), path
        response = client.get(f"{path}?v={version}")
        assert response.status_code == 200
        assert response.cache_control.max_age == 365 * 24 * 3600 and response.cache_control.immutable
    # Asked again anyway (a new tab's revalidation), the 304 keeps it a year: its headers replace the kept ones.
    versioned = f"/static/app.css?v={found['/static/app.css']}"
    again = client.get(versioned, headers={"If-None-Match": client.get(versioned).headers["ETag"]})
    assert again.status_code == 304 and again.cache_control.immutable and again.cache_control.max_age == 365 * 24 * 3600
    # Without a version, or with one the file no longer has, the browser must ask again each time.
    for url in ("/static/app.css", "/static/app.css?v=0123456789ab"):
        response = client.get(url)
        assert response.status_code == 200 and response.cache_control.no_cache
        assert response.cache_control.max_age is None


def test_the_service_worker_keeps_every_file_the_pages_use(app, fill_page, client):
    _client, html = fill_page
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Service-Worker-Allowed"] == "/" and worker.cache_control.no_cache
    body = worker.get_data(as_text=True)
    shell = set(re.findall(r'"([^"]+)"', SHELL_FILES.search(body).group(1)))
    assert {f"{path}?v={version}" for path, version in STATIC_URL.findall(html)} <= shell
    assert "/manifest.webmanifest" in shell
    manifest = client.get("/manifest.webmanifest").get_json()
    assert {icon["src"] for icon in manifest["icons"]} <= shell
    assert re.search(r'importScripts\("/static/outbox\.js\?v=[0-9a-f]{12}"\);', body)
    # Unchanged, the browser's check for a new worker costs no body.
    assert client.get("/sw.js", headers={"If-None-Match": worker.headers["ETag"]}).status_code == 304


def test_a_deployment_changes_the_urls_and_brings_a_new_service_worker(app_config, tmp_path):
    """A new release of app.css: the new processes give it a new URL, and the worker another shell
    cache, so phones drop what they kept of the old release; files that did not change keep theirs."""
    def serve(static_folder):
        app = create_app(app_config)
        app.static_folder = str(static_folder)
        worker = app.test_client().get("/sw.js")
        body = worker.get_data(as_text=True)
        return worker, SHELL_NAME.search(body).group(1), body

    folder = tmp_path / "static"
    shutil.copytree(f"{ROOT}/static", folder)
    before, shell_before, body_before = serve(folder)
    with open(folder / "app.css", "a", encoding="utf-8") as css:
        css.write("\n.next-release { color: #000; }\n")
    after, shell_after, body_after = serve(folder)

    assert shell_after != shell_before
    css = re.compile(r'"/static/app\.css\?v=([0-9a-f]+)"')
    assert css.search(body_after).group(1) != css.search(body_before).group(1)
    script = re.compile(r'"/static/fill\.js\?v=([0-9a-f]+)"')
    assert script.search(body_after).group(1) == script.search(body_before).group(1)
    assert after.headers["ETag"] != before.headers["ETag"]


def test_a_static_name_that_is_not_a_file_gets_no_version(app):
    with app.test_request_context():
        from flask import url_for

        assert url_for("static", filename="no-such-file.css") == "/static/no-such-file.css"
        assert url_for("static", filename="../pyproject.toml") == "/static/../pyproject.toml"


def test_many_spellings_of_one_file_do_not_grow_the_processs_memory(app, client):
    """`/static/./app.css` and `/static/././app.css` are app.css: the versions kept are one per file, not
    one per spelling anyone can send (no sign-in needed)."""
    for count in range(1, 300):
        for query in ("", "?v=0123456789ab"):
            assert client.get("/static/" + "./" * count + "app.css" + query).status_code == 200
    kept = app.extensions.get("asset_versions", {})
    assert all("./" not in name and "//" not in name for name in kept) and len(kept) <= 10, sorted(kept)[:5]


def test_a_static_file_is_the_same_for_every_session(client):
    """Not marked as varying with the cookie: a phone keeps its CSS and scripts across sign-ins."""
    client.set_cookie("audit_session", "some-session")
    response = client.get("/static/app.css")
    assert response.status_code == 200 and "Cookie" not in response.vary


def test_what_the_browser_asks_for_beside_a_sign_in_never_sets_the_session_cookie(client):
    """The worker script, the manifest and the shell's files are asked for while a sign-in may be on
    its way: an answer carrying the signed-out session's cookie, arriving after the sign-in's, put it
    back and signed the shopper out at once (it happened in a browser test)."""
    client.get("/login")  # a signed-out session that holds the sign-in form's token
    for path in ("/sw.js", "/manifest.webmanifest", "/static/app.css", "/static/outbox.js"):
        response = client.get(path)
        assert response.status_code == 200 and response.headers.getlist("Set-Cookie") == [], path
