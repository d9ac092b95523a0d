"""Error pages: a translated sentence, never a bare traceback."""
from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError

from .i18n import gettext as _

MESSAGES = {
    400: lambda: _("The request could not be understood. Please go back and try again."),
    403: lambda: _("You do not have access to this page."),
    404: lambda: _("This page does not exist, or you do not have access to it."),
    405: lambda: _("This action is not allowed here."),
    413: lambda: _("The file is too large."),
    429: lambda: _("Too many attempts. Please wait a minute and try again."),
    500: lambda: _("Something went wrong on our side. Your data is safe; please try again."),
}


def _render(code, message=None, api_code=None):
    message = message or MESSAGES.get(code, MESSAGES[500])()
    if request.path.startswith("/api/"):
        return jsonify({"error": {"code": api_code or code, "message": message}}), code
    return render_template("error.html", code=code, message=message), code


def init_app(app):
    for code in MESSAGES:
        app.register_error_handler(code, lambda e, code=code: _render(code))

    @app.errorhandler(CSRFError)
    def _csrf(e):
        # The phone's outbox recognises "csrf" and retries with a fresh token instead of giving up.
        return _render(
            400, _("Your form expired or was sent from elsewhere. Please reload the page and try again."),
            api_code="csrf",
        )
