"""Accounts and request security: password hashing, login sessions, rate limits, CSRF, headers."""
import hashlib
import math

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
import time

from flask import abort, current_app, flash, jsonify, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from limits import parse as parse_limit
from limits.errors import ConfigurationError, StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import ConfigError
from .errors import ServiceUnavailable
from .i18n import gettext
from .i18n import lazy_gettext as _l
from .models import User

login_manager = LoginManager()
csrf = CSRFProtect()

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


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, unchanged, except that the signing serializer is built once
    per set of keys: Flask builds a new one each time it reads or writes a session, twice a request."""

    def __init__(self):
        self._serializers = {}

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None and app.secret_key:
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
        return serializer

    def save_session(self, app, session, response):
        super().save_session(app, session, response)
        # A static file is the same whatever the cookie, but Flask-Login reads the session on every
        # answer, which made it vary with the cookie: every new session asked for the files again.
        if request.endpoint == "static" and not session.modified:
            response.vary.discard("Cookie")


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


def limit_sign_in_attempts():
    """Count a sign-in attempt of the client's address; answer 429 once LOGIN_RATE_LIMIT is used up.

    The `limits` library counts (fixed windows, in RATELIMIT_STORAGE_URI: memory, or Redis shared by
    every process). Flask-Limiter, used before, runs three hooks on every request of the app to
    serve this one form: a third of what the app adds to each request.
    """
    config = current_app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return
    counter, limit = current_app.extensions["sign_in_limiter"]
    try:
        allowed = counter.hit(limit, "sign-in", request.remote_addr or "unknown")
    except StorageError as error:
        # Redis is away: without the count, guessing passwords would be unlimited, so nobody signs in
        # until it is back; the visitor is told to try again in a moment, as when the database is away.
        raise ServiceUnavailable("the sign-in counts (RATELIMIT_STORAGE_URI)", error) from error
    if not allowed:
        abort(429)


def _account(email):
    # The address as typed, trimmed and in lower case, hashed: the counts' keys (in Redis) hold none.
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()


def account_sign_in_wait(email):
    """Minutes until the account typed may try again, once it has used up ACCOUNT_SIGN_IN_LIMIT failed
    sign-ins, from whatever addresses (the per-address limit alone let many addresses guess one
    account's password); None while it may try. Any address typed is counted, one of nobody's too, so
    the answer says nothing of which accounts exist."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    counter, limit = current_app.extensions["account_sign_in_limiter"]
    try:
        if counter.test(limit, "sign-in-account", _account(email)):
            return None
        reset_at = counter.get_window_stats(limit, "sign-in-account", _account(email)).reset_time
    except StorageError as error:
        raise ServiceUnavailable("the sign-in counts (RATELIMIT_STORAGE_URI)", error) from error
    return max(1, math.ceil((reset_at - time.time()) / 60))


def count_failed_sign_in(email):
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    counter, limit = current_app.extensions["account_sign_in_limiter"]
    try:
        counter.hit(limit, "sign-in-account", _account(email))
    except StorageError as error:
        raise ServiceUnavailable("the sign-in counts (RATELIMIT_STORAGE_URI)", error) from error


def sign_in_counts_problem():
    """Why the sign-in attempts cannot be counted now (the shared storage does not answer), or None."""
    counter, _limit = current_app.extensions["sign_in_limiter"]
    if current_app.config.get("RATELIMIT_ENABLED", True) and not counter.storage.check():
        return "the sign-in counts' storage (RATELIMIT_STORAGE_URI) does not answer"
    return None


def _sign_in_limit(name, text):
    # Read once at start: a typo stops the app with its name, not the first sign-in with a 500.
    try:
        return parse_limit(text)
    except ValueError:
        raise ConfigError(f"{name} must read like '10 per minute', not {text!r}.") from None


def _sign_in_counter(uri):
    # Storage errors come wrapped as StorageError, whatever the backend (Redis, memcached...).
    try:
        storage = storage_from_string(uri, wrap_exceptions=True)
    except ConfigurationError:
        # Only the scheme is named: the rest may hold a password.
        given = uri.split("://", 1)[0] + "://..." if "://" in uri else "a value without a scheme"
        raise ConfigError(f"RATELIMIT_STORAGE_URI must name a storage the app can use (memory://, or "
                          f"redis://host:6379 with several processes), not {given}.") from None
    return FixedWindowRateLimiter(storage)


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


# Sent with every answer unless the view set its own; STS only where cookies are Secure (HTTPS).
SECURITY_HEADERS = [
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "geolocation=(self), camera=(self), microphone=()"),
]
STRICT_TRANSPORT = ("Strict-Transport-Security", "max-age=31536000")


def _security_headers(response):
    # One pass over the answer's headers, not one per header (Headers.setdefault scans them each time).
    present = {name.lower() for name, _value in response.headers.items()}
    wanted = SECURITY_HEADERS
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        wanted = wanted + [STRICT_TRANSPORT]
    if "cache-control" not in present and "_user_id" in session:
        # What a signed-in person sees (a dashboard, a report, an export) stays out of shared caches and
        # off the disk of a shared computer after sign-out.
        wanted = wanted + [("Cache-Control", "private, no-store")]
    response.headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
    return response


@login_manager.unauthorized_handler
def _unauthorized():
    # The API answers in JSON; pages send the visitor to the sign-in form.
    if request.path.startswith("/api/"):
        return jsonify({"error": {"code": "not_signed_in", "message": gettext("Please sign in.")}}), 401
    # Said to a person who opened the page, not to the phone's service worker refreshing its kept pages
    # in the background: its flash rewrote the session cookie, and a sign-in form open at that moment was
    # refused as expired (its CSRF token was in the cookie replaced).
    if request.headers.get("Sec-Fetch-Mode", "navigate") == "navigate":
        flash(gettext("Please sign in to see this page."), "info")
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def _session_timeouts():
    """End a session idle too long, or older than its absolute lifetime (OWASP ASVS 3.3)."""
    from flask_login import current_user, logout_user

    # Only a signed-in session is looked at: touching current_user on an anonymous request (a static
    # file, the manifest) makes Flask-Login rewrite the cookie, and such a late response could
    # overwrite the cookie of a sign-in that happened meanwhile.
    # The endpoint first: reading the session marks the answer as varying with the cookie, and a
    # static file that varies with it is asked for again by every new session.
    if request.endpoint in ("static", "pwa.service_worker", "pwa.manifest") or "_user_id" not in session:
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
    proxies = app.config.get("PROXY_COUNT", 0)
    if proxies:
        # Behind PROXY_COUNT proxies the client's address (the sign-in limit counts per address) and
        # the scheme (https) are the ones those proxies saw; each header is trusted that many hops deep.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.session_interface = CookieSessions()
    app.before_request(_refuse_nameless_form_parts)  # before the CSRF check, which csrf.init_app adds
    login_manager.init_app(app)
    app.before_request(_session_timeouts)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    counter = _sign_in_counter(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions["sign_in_limiter"] = (counter, _sign_in_limit("LOGIN_RATE_LIMIT", app.config["LOGIN_RATE_LIMIT"]))
    app.extensions["account_sign_in_limiter"] = (
        counter, _sign_in_limit("ACCOUNT_SIGN_IN_LIMIT", app.config["ACCOUNT_SIGN_IN_LIMIT"]))
    app.after_request(_security_headers)
