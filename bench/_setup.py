"""Shared set-up for the benchmarks: an app on a fresh SQLite file with the demo data."""
import os
import re
import tempfile

from audit import create_app
from audit.db import database
from audit.demo import load_demo
from audit.migrations import migrate_database

FAST_HASH = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1}


def demo_app(extra=None):
    """(app, folder): a fresh app with the demo organisation, on SQLite in a temp folder."""
    folder = tempfile.mkdtemp(prefix="audit-bench-")
    config = {
        "TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
        "MEDIA_DIR": os.path.join(folder, "media"), "SESSION_COOKIE_SECURE": False, "RATELIMIT_ENABLED": False,
        **FAST_HASH, **(extra or {}),
    }
    app = create_app(config)
    with app.app_context(), database.connection_context():
        migrate_database()
        load_demo()
    return app, folder


def signed_in(app, email, password="demo-password"):
    """A test client signed in as a demo account, and its CSRF token."""
    client = app.test_client()
    client.post("/login", data={"email": email, "password": password, "csrf_token": _token(client, "/login")})
    return client, _token(client, "/")  # signing in starts a new session, with a new token


def _token(client, path):
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
