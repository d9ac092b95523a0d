"""Error pages: a translated sentence, never a bare traceback."""
from flask import jsonify, render_template, request, session
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from peewee import DatabaseError, DataError, IntegrityError, InterfaceError, OperationalError, ProgrammingError

from .i18n import gettext as _

MESSAGES = {
    400: lambda: _("The request could not be understood. Please go back and try again."),
    403: lambda: _("You do not have access to this page."),
    404: lambda: _("This page does not exist, or you do not have access to it."),
    405: lambda: _("This action is not allowed here."),
    413: lambda: _("The photos sent at once were too large together, so nothing was saved. Go back with your "
                   "browser's Back button: what you typed is still there. Then add fewer photos at a time, "
                   "saving after each.") if request.endpoint == "shopper.fill" else _("The file is too large."),
    429: lambda: _("Too many attempts. Please wait a minute and try again."),
    500: lambda: _("Something went wrong on our side. Your data is safe; please try again."),
}


class ServiceUnavailable(Exception):
    """A service the app needs besides the database did not answer (Redis: the sign-in counts, the
    job queue); the visitor gets the same 503 as when the database is away."""

    def __init__(self, what, cause):
        super().__init__(f"{what}: {cause}")


def _render(code, message=None, api_code=None):
    message = message or MESSAGES.get(code, MESSAGES[500])()
    if request.path.startswith("/api/"):
        return jsonify({"error": {"code": api_code or code, "message": message}}), code
    return render_template("error.html", code=code, message=message), code


def init_app(app):
    for code in MESSAGES:
        app.register_error_handler(code, lambda e, code=code: _render(code))

    # The database went away for a moment (a restart, a dropped connection, a long lock): nothing was
    # half-stored, since every change is one transaction. Say so; the phone's outbox retries a 503.
    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(e):
        _log_schema_problem(app)
        from .db import reported_error

        app.logger.warning("database unavailable: %s", reported_error(e))
        return _unavailable()

    # On PostgreSQL a column or table that the code expects and the database lacks is a
    # ProgrammingError (SQLite calls it an OperationalError): a release started before `flask init-db`.
    @app.errorhandler(ProgrammingError)
    def _schema_behind(e):
        if not _log_schema_problem(app):
            raise e  # a bug: the 500 page, with its traceback in the log
        return _unavailable()

    # Anything else the database says of itself ("file is not a database": DATABASE_URL names a file
    # that is none, a backup archive say): the operator's to fix, the visitor's to wait for.
    @app.errorhandler(DatabaseError)
    def _database_unusable(e):
        if isinstance(e, (IntegrityError, DataError)):
            raise e  # a bug in what was stored or asked: the 500 page, with its traceback in the log
        app.logger.error("The database (DATABASE_URL) cannot be used: %s", e)
        return _unavailable()

    @app.errorhandler(ServiceUnavailable)
    def _service_unavailable(e):
        app.logger.warning("service unavailable: %s", e)
        return _unavailable()

    @app.errorhandler(CSRFError)
    def _csrf(e):
        # The phone's outbox recognises "csrf" and retries with a fresh token instead of giving up.
        if "_user_id" not in session and request.blueprint != "auth":  # not the sign-in or language forms
            # No session at all: it ended (its lifetime, a cleared cookie), and "reload" would lead to
            # the sign-in page with what was typed gone. The browser's Back button still has it.
            return _render(400, _("You were signed out, so nothing was saved. Go back to copy what you typed, "
                                  "then sign in again."), api_code="csrf")
        return _render(
            400, _("Your form expired or was sent from elsewhere. Please reload the page and try again."),
            api_code="csrf",
        )


def _log_schema_problem(app):
    """Log, as an error for the operator, a database schema this release cannot use; True if so."""
    from .migrations import schema_problem

    try:
        problem = schema_problem()
    except Exception:  # noqa: BLE001 - the database is away: that is what the caller reports
        return False
    if problem:
        app.logger.error("The database cannot serve this release: %s.", problem)
    return bool(problem)


def _unavailable():
    if request.blueprint == "health":
        # The database failed before the check itself ran (connecting, on every request): a monitor
        # still gets the check's JSON, with what is wrong.
        problem = "the database (DATABASE_URL) does not answer, or is not a database"
        return jsonify({"status": "unavailable", "problems": [problem]}), 503, {"Retry-After": "5"}
    english = "The service is busy for a moment. Nothing was lost; please try again."
    try:
        # Choosing the language may itself need the database that is away.
        message = _("The service is busy for a moment. Nothing was lost; please try again.")
    except Exception:  # noqa: BLE001 - any failure here falls back to English, never to a 500
        message = english
    if request.path.startswith("/api/"):
        return jsonify({"error": {"code": "unavailable", "message": message}}), 503
    # No page template: the base page reads the signed-in user from the database that is away.
    body = f"<!doctype html><meta charset=utf-8><title>503</title><p>{escape(message)}</p>"
    return body, 503, {"Content-Type": "text/html; charset=utf-8", "Retry-After": "5"}
