"""Shared set-up for the benchmarks: an app on a fresh SQLite file with the demo data."""
import json
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


def write_figures(path, figures):
    """A bench's headline figures as JSON at `path` (its --json PATH): what run_all.py tabulates."""
    with open(path, "w", encoding="utf-8") as out:
        json.dump(figures, out, indent=1)
        out.write("\n")


def machine():
    """One line on the machine the figures come from."""
    import platform

    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"Machine: {os.cpu_count()} cores ({model}), {memory:.0f} GB RAM, Python {platform.python_version()}, "
            f"SQLite {__import__('sqlite3').sqlite_version}")


def wide_checklist(content, items, slug=None):
    """A checklist of exactly `items` items made of renamed copies of `content`'s sections.

    For the 250-question anchor (ODK Central's published figure): the same kinds of items, texts in
    every language, conditions and critical items, validated like any checklist file.
    """
    import copy

    from audit.checklist.format import load_checklist_data

    data = copy.deepcopy(content)
    data["id"] = slug or f"{content['id']}-{items}"
    sections, count, round_ = [], 0, 0
    while count < items:
        round_ += 1
        for section in content["sections"]:
            if count >= items:
                break
            new = copy.deepcopy(section)
            new["id"] = f"{section['id']}_{round_}"
            kept = []
            for item in new["items"][: items - count]:
                item["id"] = f"{item['id']}_{round_}"
                if "show_if" in item:
                    item["show_if"]["item"] = f"{item['show_if']['item']}_{round_}"
                kept.append(item)
            present = {item["id"] for item in kept}
            for item in kept:  # a condition on an item cut off by the limit goes with it
                if "show_if" in item and item["show_if"]["item"] not in present:
                    del item["show_if"]
            new["items"] = kept
            sections.append(new)
            count += len(kept)
    data["sections"] = sections
    return load_checklist_data(data)
