"""Static files under URLs that change with their content (`/static/app.css?v=3f2a9c01d4e7`).

After a deployment a phone must not run last release's JavaScript or CSS against this release's pages:
the service worker keeps the app shell, and without a version in the URL it answered the first page
after a deployment with the old files. A URL that names the content also lets a browser keep the file
for a year without asking again, and gives the service worker's shell cache a name that changes
exactly when one of its files does.
"""
import hashlib
import posixpath

from flask import current_app, request, url_for
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600
VERSION_LENGTH = 12
# The app shell the service worker keeps for offline use: every page's CSS and scripts, and the icons.
WORKER_TEMPLATE = "pwa/sw.js"  # the service worker, rendered by pwa.service_worker
OFFLINE_TEMPLATE = "pwa/offline.html"  # rendered into the worker, in every language
SHELL_FILES = ("app.css", "app.js", "outbox.js", "shopper.js", "fill.js", "vendor/exifr/mini.umd.js",
               "icons/icon-192.png", "icons/icon-512.png")


def version_of(filename):
    """The first hex digits of the SHA-256 of a static file's bytes; None for a file that is not there.

    Kept per process (a deployment starts new processes); read again on every call under the debug
    server, where the files change while it runs."""
    app = current_app._get_current_object()
    versions = app.extensions.setdefault("asset_versions", {})
    if filename in versions and not app.debug:
        return versions[filename]
    path = safe_join(app.static_folder, filename)
    try:
        with open(path, "rb") as file:
            version = hashlib.sha256(file.read()).hexdigest()[:VERSION_LENGTH]
    except (TypeError, OSError):  # safe_join refused the name, or no such file
        version = None
    # Kept only under a file's own name: a URL may spell one file many ways (`./app.css`), and a
    # name per spelling would let anyone grow every process's memory.
    if version is not None and posixpath.normpath(filename) == filename:
        versions[filename] = version
    return version


def shell_urls():
    """The versioned URLs of the app shell, in SHELL_FILES order."""
    return [url_for("static", filename=name) for name in SHELL_FILES]


def shell_cache_name(urls):
    """The service worker's cache of the shell: a new name for every new worker (a file of the shell or
    the worker's own code changed), so that a new worker fills a cache of its own, never the one the
    worker in charge answers from, and the old one is dropped when the new worker takes over."""
    jinja = current_app.jinja_env
    worker = jinja.loader.get_source(jinja, WORKER_TEMPLATE)[0]
    return "audit-shell-" + hashlib.sha256("\n".join([*urls, worker]).encode()).hexdigest()[:VERSION_LENGTH]


def account_key(email):
    """What a shopper's pages say of whose they are (meta audit-account), for the service worker, which
    compares it with the e-mail address typed at sign-in: SHA-256 of the address as typed, trimmed and
    in lower case; the address itself is not in the page."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _versioned_static_url(endpoint, values):
    if endpoint == "static" and "v" not in values:
        version = version_of(values.get("filename", ""))
        if version:
            values["v"] = version


def _keep_versioned_files(response):
    # Only the current version may be kept: a page from before a deployment that asks for its old
    # version gets today's file, which must not stay in the browser under the old URL.
    if request.endpoint != "static":  # every other answer: checked first, it costs nothing
        return response
    wanted = request.args.get("v")
    # A 304 too: its headers replace the kept ones, and a no-cache there made the browser ask again.
    if wanted and response.status_code in (200, 304) and wanted == version_of(request.view_args.get("filename", "")):
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
    return response


def init_app(app):
    app.url_defaults(_versioned_static_url)
    app.jinja_env.globals["account_key"] = account_key
    app.after_request(_keep_versioned_files)
