"""Settings: safe defaults, each overridable from the environment."""
import os
from datetime import timedelta

LANGUAGES = ("en", "hu", "bg", "et", "ro", "ru")


def _flag(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _whole(name, default):
    """A whole number of at least 0 from the environment; a typo stops the start with its name."""
    value = os.environ.get(name, default)
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise ConfigError(f"{name} must be a whole number of 0 or more, not {value!r}.")
    return number


def from_environment(instance_path):
    """Build the config mapping from environment variables, with defaults under instance_path."""
    demo = _flag("AUDIT_DEMO")
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", "sqlite:///" + os.path.join(instance_path, "audit.sqlite3")
        ),
        "MEDIA_DIR": os.environ.get("MEDIA_DIR", os.path.join(instance_path, "media")),
        "DEMO_MODE": demo,
        # Cookies only travel over HTTPS in production; the local demo runs on plain http.
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", not demo),
        "REMEMBER_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", not demo),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_NAME": "audit_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(
            hours=_whole("SESSION_HOURS", "12")
        ),
        # The cookie is rewritten only when the session changes (at most once a minute, see
        # security._session_timeouts), not signed and compressed again on every request.
        "SESSION_REFRESH_EACH_REQUEST": False,
        # Signed out after this long without a request (a shopper's day in the field fits easily).
        "SESSION_IDLE_MINUTES": _whole("SESSION_IDLE_MINUTES", "240"),
        "MAX_CONTENT_LENGTH": _whole("MAX_UPLOAD_MB", "16") * 1024 * 1024,
        "LOGO_MAX_BYTES": 2 * 1024 * 1024,
        "LOGO_MAX_PIXELS": 4000 * 4000,
        "REDIS_URL": os.environ.get("REDIS_URL"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        # How many reverse proxies (load balancer, nginx) stand in front and add X-Forwarded-For and
        # -Proto. 0 trusts none: a client could write those headers itself and dodge the limit above.
        "PROXY_COUNT": _whole("PROXY_COUNT", "0"),
        "BABEL_DEFAULT_LOCALE": "en",
        "LANGUAGES": LANGUAGES,
        # argon2id, RFC 9106 second recommended option (t=3, m=64 MiB, p=4).
        "ARGON2_TIME_COST": _whole("ARGON2_TIME_COST", "3"),
        "ARGON2_MEMORY_KIB": _whole("ARGON2_MEMORY_KIB", str(64 * 1024)),
        "ARGON2_PARALLELISM": 4,
        "WTF_CSRF_TIME_LIMIT": None,
        # A shopper may not visit the same branch again within this many days (they would be known).
        "MIN_DAYS_BETWEEN_VISITS": _whole("MIN_DAYS_BETWEEN_VISITS", "30"),
        # Integrity warnings for reviewers: a visit shorter than this, a check-in farther than this.
        "REVIEW_MIN_MINUTES": _whole("REVIEW_MIN_MINUTES", "8"),
        "REVIEW_MAX_DISTANCE_M": _whole("REVIEW_MAX_DISTANCE_M", "300"),
        "PHOTO_MAX_BYTES": 12 * 1024 * 1024,
        "PHOTO_MAX_PIXELS": 40_000_000,
        # A background job's file (a region's ZIP, an XLSX export) is removed this many days after it
        # was made; the job's page then says to make it again.
        "JOB_FILES_KEEP_DAYS": _whole("JOB_FILES_KEEP_DAYS", "7"),
    }


class ConfigError(RuntimeError):
    """The app cannot start with the settings it was given."""


def check(config, debug):
    """Refuse to start without a secret key unless this is a debug, demo or test run."""
    if not config.get("SECRET_KEY"):
        if debug or config.get("DEMO_MODE") or config.get("TESTING"):
            config["SECRET_KEY"] = "dev-only-not-secret"
        else:
            raise ConfigError(
                "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
                "string (e.g. python -c 'import secrets; print(secrets.token_hex(32))'), "
                "or set AUDIT_DEMO=1 for a local demo."
            )
