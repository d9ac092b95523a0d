"""The mystery shopper audit tool: create_app() builds the Flask application."""
import functools
import os

from flask import Flask
from werkzeug.routing import IntegerConverter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config=None):
    """Build the app: settings from the environment, overridden by the `config` mapping."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("AUDIT_INSTANCE", os.path.join(ROOT, "instance")),
        static_folder=os.path.join(ROOT, "static"),
        static_url_path="/static",
    )
    from . import config as settings

    app.config.update(settings.from_environment(app.instance_path))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = os.path.join(ROOT, "translations")
    app.config["CHECKLIST_DIR"] = os.path.join(ROOT, "checklists")
    if config:
        app.config.update(config)
    settings.make_folder("AUDIT_INSTANCE", app.instance_path)
    settings.check(app.config, app.debug)  # makes MEDIA_DIR and the SQLite database's folder too

    from . import assets, cli, db, errors, fragments, i18n, security, tasks
    from .views import admin, api, auth, dashboard, editor, health, pwa, reports, review, shopper

    # Ids in URLs (<int:...>) are the database's 64-bit ids: a larger number matches no route (404),
    # where it made the database driver fail (500).
    app.url_map.converters["int"] = functools.partial(IntegerConverter, max=db.LARGEST_ID)
    db.init_app(app)
    # Before security's hooks, which read the form: a fill form with its photos has a limit of its own.
    app.before_request(shopper.fill_form_size_limit)
    security.init_app(app)
    i18n.init_app(app)
    fragments.init_app(app)
    assets.init_app(app)
    from .scoring import LARGEST_ANSWER, failing_answers, failing_ranges

    app.jinja_env.globals["largest_answer"] = LARGEST_ANSWER  # the fill form's max, the same bound as the check
    # Which answers the fill page asks a comment or photo for (chosen ones; typed ones by range).
    app.jinja_env.globals["failing_answers"] = failing_answers
    app.jinja_env.globals["failing_ranges"] = failing_ranges
    for blueprint in (auth.bp, admin.bp, editor.bp, review.bp, dashboard.bp, shopper.bp, api.bp, reports.bp, pwa.bp,
                      health.bp):
        app.register_blueprint(blueprint)
    errors.init_app(app)
    tasks.init_app(app)
    cli.init_app(app)
    return app
