"""Settings: safe defaults, each overridable from the environment."""
import os
import zoneinfo
from datetime import timedelta
from urllib.parse import urlparse

LANGUAGES = ("en", "hu", "bg", "et", "ro", "ru")

# argon2id lanes; argon2 needs at least 8 KiB of memory per lane.
ARGON2_PARALLELISM = 4

_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


def _flag(name, default=False):
    """An on/off setting; anything but the usual words stops the start, since a typo in
    SESSION_COOKIE_SECURE would otherwise quietly send the session cookie over plain http."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise ConfigError(f"{name} must be one of {', '.join(_ON)} (on) or {', '.join(_OFF)} (off), "
                      f"not {os.environ[name]!r}.")


def _whole(name, default, minimum=0):
    """A whole number of at least `minimum` from the environment; a typo stops the start with its name."""
    value = os.environ.get(name, default)
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise ConfigError(f"{name} must be a whole number of {minimum} or more, not {value!r}.")
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
            hours=_whole("SESSION_HOURS", "12", minimum=1)
        ),
        # The cookie is rewritten only when the session changes (at most once a minute, see
        # security._session_timeouts), not signed and compressed again on every request.
        "SESSION_REFRESH_EACH_REQUEST": False,
        # Signed out after this long without a request (a shopper's day in the field fits easily).
        "SESSION_IDLE_MINUTES": _whole("SESSION_IDLE_MINUTES", "240", minimum=1),
        "MAX_CONTENT_LENGTH": _whole("MAX_UPLOAD_MB", "16", minimum=1) * 1024 * 1024,
        "LOW_DISK_MB": _whole("LOW_DISK_MB", "200"),
        "LOGO_MAX_BYTES": 2 * 1024 * 1024,
        "LOGO_MAX_PIXELS": 4000 * 4000,
        "REDIS_URL": os.environ.get("REDIS_URL"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        # Failed sign-ins of one account, from any address (a botnet has many).
        "ACCOUNT_SIGN_IN_LIMIT": os.environ.get("ACCOUNT_SIGN_IN_LIMIT", "20 per 15 minutes"),
        # How many reverse proxies (load balancer, nginx) stand in front and add X-Forwarded-For and
        # -Proto. 0 trusts none: a client could write those headers itself and dodge the limit above.
        "PROXY_COUNT": _whole("PROXY_COUNT", "0"),
        "BABEL_DEFAULT_LOCALE": "en",
        # The organisation's time zone: what "today", a period's first day and a month are, and how
        # times read (everything is stored in UTC). The demo's organisation is in Central Europe.
        "TIME_ZONE": os.environ.get("TIME_ZONE") or ("Europe/Budapest" if demo else "UTC"),
        "LANGUAGES": LANGUAGES,
        # argon2id, RFC 9106 second recommended option (t=3, m=64 MiB, p=4).
        "ARGON2_TIME_COST": _whole("ARGON2_TIME_COST", "3", minimum=1),
        "ARGON2_MEMORY_KIB": _whole("ARGON2_MEMORY_KIB", str(64 * 1024), minimum=8 * ARGON2_PARALLELISM),
        "ARGON2_PARALLELISM": ARGON2_PARALLELISM,
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
        # At 0 a file could go at the next hourly clean-up, a minute after it was made.
        "JOB_FILES_KEEP_DAYS": _whole("JOB_FILES_KEEP_DAYS", "7", minimum=1),
    }


class ConfigError(RuntimeError):
    """The app cannot start with the settings it was given."""


def check(config, debug):
    """Refuse to start without a secret key unless this is a debug, demo or test run, with a
    DATABASE_URL the app cannot use, or with a MEDIA_DIR that cannot be made."""
    if not config.get("SECRET_KEY"):
        if debug or config.get("DEMO_MODE") or config.get("TESTING"):
            config["SECRET_KEY"] = "dev-only-not-secret"
        else:
            raise ConfigError(
                "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
                "string (e.g. python -c 'import secrets; print(secrets.token_hex(32))'), "
                "or set AUDIT_DEMO=1 for a local demo."
            )
    _check_time_zone(config)
    _check_database_url(config["DATABASE_URL"])
    _check_redis_url(config.get("REDIS_URL"))
    make_folder("MEDIA_DIR", config["MEDIA_DIR"])
    if config["DATABASE_URL"].startswith("sqlite:///"):
        make_folder("DATABASE_URL", os.path.dirname(os.path.abspath(config["DATABASE_URL"][len("sqlite:///"):])))


def _check_time_zone(config):
    try:
        zoneinfo.ZoneInfo(config["TIME_ZONE"])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"TIME_ZONE must be a time zone name like Europe/Budapest or UTC, not "
                          f"{config['TIME_ZONE']!r}.") from None
    # Flask-Babel shows every date and time in it.
    config["BABEL_DEFAULT_TIMEZONE"] = config["TIME_ZONE"]


def _check_redis_url(url):
    # The scheme only, as for DATABASE_URL: the rest may hold a password. Checked by the redis client
    # when the queue is built, it stopped the start with a traceback.
    if url and url.split("://", 1)[0] not in ("redis", "rediss", "unix"):
        raise ConfigError("REDIS_URL must start with redis://, rediss:// or unix:// (for example "
                          "redis://localhost:6379/0), or be left unset for the embedded queue.")


def _check_database_url(url):
    # Only the scheme is named: the rest of the URL may hold the database password, and this
    # message goes to the terminal and the service's journal.
    scheme = urlparse(url).scheme
    if url.startswith("sqlite:///"):
        return
    if scheme in ("postgres", "postgresql") and url.startswith(scheme + "://"):
        try:
            urlparse(url).port
        except ValueError:
            raise ConfigError("DATABASE_URL's port must be a number from 1 to 65535 (e.g. "
                              "postgresql://user:password@host:5432/audit).") from None
        return
    given = f"{scheme}://..." if scheme else "a value without a scheme"
    raise ConfigError(
        f"DATABASE_URL must start with sqlite:/// or postgresql://, not {given} (e.g. "
        f"sqlite:////var/lib/audit/audit.sqlite3, or postgresql://user:password@host:5432/audit)."
    )


def make_folder(name, path):
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"{name}: the folder {path} cannot be created ({error.strerror}).") from None
