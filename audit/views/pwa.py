"""What makes the site an installable app: manifest, service worker, icons and brand logos."""
import os

from flask import Blueprint, abort, current_app, jsonify, request, send_from_directory, url_for
from flask_babel import force_locale
from flask_login import login_required

from .. import assets
from ..config import LANGUAGES
from ..i18n import gettext as _

bp = Blueprint("pwa", __name__)


@bp.route("/manifest.webmanifest")
def manifest():
    body = {
        "name": _("Mystery shopper audit"),
        "short_name": _("Audit"),
        "start_url": url_for("auth.index"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f4e79",
        "icons": [
            {"src": url_for("static", filename=f"icons/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
            for size in (192, 512)
        ],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.route("/sw.js")
def service_worker():
    # Served from the root so that its scope covers the whole app. The browser asks for it again on
    # each visit to the app: a new version of any shell file makes it a new worker (see audit/assets.py).
    shell_files = assets.shell_urls()
    # Rendered without the app's template context: that reads the signed-in user, which rewrites an
    # anonymous session's cookie (Flask-Login's strong protection), and this answer, asked for while a
    # sign-in is on its way, then put the signed-out cookie back over the new one.
    body = current_app.jinja_env.get_template(assets.WORKER_TEMPLATE).render(
        outbox_url=url_for("static", filename="outbox.js"), shell=assets.shell_cache_name(shell_files),
        shell_files=shell_files + [url_for("pwa.manifest")], offline_pages=_offline_pages(),
        online_only_pages=_offline_pages(online_only=True))
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


def _offline_pages(online_only=False):
    """The page for a page the phone never kept, offline, in each language: the worker cannot ask the
    server then, and picks the one in the language of the pages last seen (or the phone's). With
    online_only, the page for one that works only online (changing the password)."""
    template = current_app.jinja_env.get_template(assets.OFFLINE_TEMPLATE)
    links = {"css_url": url_for("static", filename="app.css"), "visits_url": url_for("shopper.visits")}
    pages = {}
    for language in LANGUAGES:
        with force_locale(language):
            pages[language] = template.render(lang=language, online_only=online_only, **links)
    return pages


@bp.route("/media/logos/<name>")
@login_required
def logo(name):
    folder = os.path.join(current_app.config["MEDIA_DIR"], "logos")
    if not os.path.isfile(os.path.join(folder, os.path.basename(name))):
        abort(404)
    return send_from_directory(folder, name)
