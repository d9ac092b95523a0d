"""Accounts and request security: password hashing, login sessions, rate limits, CSRF, headers."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
import time

from flask import current_app, flash, jsonify, redirect, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from .i18n import gettext
from .i18n import lazy_gettext as _l
from .models import User

login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

# A fixed, valid hash to verify against when the e-mail is unknown, so that timing does not
# reveal which accounts exist.
_DUMMY_HASH = None


def _hasher():
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_KIB"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def hash_password(password):
    """argon2id hash of a password with the configured parameters."""
    return _hasher().hash(password)


def check_password(user, password):
    """True when the password matches; an unknown user still costs one verification."""
    global _DUMMY_HASH
    hasher = _hasher()
    if user is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hasher.hash("not-a-real-password")
        try:
            hasher.verify(_DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@login_manager.user_loader
def _load_user(session_id):
    # The id carries the account's session epoch: bumping it ends every session of the account.
    try:
        user_id, epoch = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    user = User.by_id(user_id)
    if user is None or user.session_epoch != epoch or not user.is_enabled:
        return None
    return user


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(self), microphone=()")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


@login_manager.unauthorized_handler
def _unauthorized():
    # The API answers in JSON; pages send the visitor to the sign-in form.
    if request.path.startswith("/api/"):
        return jsonify({"error": {"code": "not_signed_in", "message": gettext("Please sign in.")}}), 401
    flash(gettext("Please sign in to see this page."), "info")
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def _session_timeouts():
    """End a session idle too long, or older than its absolute lifetime (OWASP ASVS 3.3)."""
    from flask_login import current_user, logout_user

    # Only a signed-in session is looked at: touching current_user on an anonymous request (a static
    # file, the manifest) makes Flask-Login rewrite the cookie, and such a late response could
    # overwrite the cookie of a sign-in that happened meanwhile.
    if "_user_id" not in session or request.endpoint in ("static", "pwa.service_worker", "pwa.manifest"):
        return None
    if not current_user.is_authenticated:
        return None
    now = int(time.time())
    started = session.setdefault("signed_in_at", now)
    seen = session.get("seen_at", now)
    config = current_app.config
    idle = now - seen > config["SESSION_IDLE_MINUTES"] * 60
    expired = now - started > config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    if idle or expired:
        logout_user()
        session.clear()
        return login_manager.unauthorized()
    if now - seen >= 60:  # written at most once a minute, so parallel requests do not race over the cookie
        session["seen_at"] = now
    return None


def _refuse_nameless_form_parts():
    # A multipart part without a usable name arrives with the key None, which Flask-WTF's CSRF check
    # cannot read (it would raise): such a request is malformed, so it gets a plain 400 first.
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype == "multipart/form-data":
        keys = list(request.form.keys()) + list(request.files.keys())
        if any(not isinstance(key, str) or "\r" in key or "\n" in key for key in keys):
            from flask import abort

            abort(400)
    return None


def init_app(app):
    app.before_request(_refuse_nameless_form_parts)  # before the CSRF check, which csrf.init_app adds
    login_manager.init_app(app)
    app.before_request(_session_timeouts)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    limiter.init_app(app)
    app.after_request(_security_headers)
