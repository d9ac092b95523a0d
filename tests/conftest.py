"""Fixtures: an app on a fresh database (SQLite, or PostgreSQL when AUDIT_TEST_PG_URL is set),
a client, accounts of every role and a signed-in client for each."""
import functools
import os
import re
import sqlite3

import pytest
from jinja2 import BytecodeCache
from peewee import sort_models

from audit import create_app
from audit.db import database
from audit.migrations import migrate_database
from audit.models import ALL_MODELS, Brand, Branch, ManagerRegion, Region, Role, User, utcnow
from audit.security import hash_password

PASSWORD = "correct horse battery"


def _database_of_this_process(url):
    """The PostgreSQL database of this test process: with pytest-xdist each worker has its own
    (`audit_test_gw0`, ...) on the one server, as each SQLite test has its own file."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from urllib.parse import urlparse

    parts = urlparse(url)
    return parts._replace(path=f"{parts.path}_{worker}").geturl()


PG_URL = _database_of_this_process(os.environ.get("AUDIT_TEST_PG_URL"))


@functools.cache
def _names_the_database_server(path):
    with open(path, encoding="utf-8") as module:
        source = module.read()
    return any(name in source for name in ("PG_URL", "engine(", "AUDIT_TEST_PG"))


def _reaches_the_database(item):
    """A test reaches the database through the app's configuration (the app_config fixture, under
    app, client, db, org, demo, live_server...) or by the server's address (PG_URL, engine()) in its
    module: a test that does neither runs the same code on either database."""
    return "app_config" in item.fixturenames or _names_the_database_server(item.module.__file__)


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL, the tests that never reach the database are left out: the SQLite pass ran them,
    and a second run repeats the same code (checklist files, scoring, catalogs, charts)."""
    if PG_URL:
        left_out = [item for item in items if not _reaches_the_database(item)]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if _reaches_the_database(item)]
    _spread_browser_tests(items)


def _spread_browser_tests(items):
    """With several processes (pytest-xdist), the browser tests spread through the first three
    quarters of the run: pytest-xdist hands out the tests in order, in runs, and the browser tests,
    collected first, all went to one process (which ran them one after the other, the slowest
    part, while the others ran out of work). The rest keep their order."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    browser = [item for item in items if item.get_closest_marker("browser")]
    other = [item for item in items if not item.get_closest_marker("browser")]
    if not browser:
        return
    spread = []
    step = 0.75 * len(other) / len(browser)
    for index, item in enumerate(browser):
        spread.append((index * step, 0, item))
    spread.extend((index, 1, item) for index, item in enumerate(other))
    items[:] = [item for _position, _kind, item in sorted(spread, key=lambda entry: entry[:2])]


def pytest_configure(config):
    if PG_URL and PG_URL != os.environ["AUDIT_TEST_PG_URL"]:
        import psycopg

        name = PG_URL.rsplit("/", 1)[1]
        with psycopg.connect(os.environ["AUDIT_TEST_PG_URL"], autocommit=True) as server:
            if not server.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                server.execute(f'CREATE DATABASE "{name}"')


def engine():
    return "postgresql" if PG_URL else "sqlite"


def reset_postgres(url):
    from audit.db import open_database

    db = open_database(url)
    with db.connection_context():
        db.execute_sql("DROP SCHEMA public CASCADE")
        db.execute_sql("CREATE SCHEMA public")


@pytest.fixture
def app_config(tmp_path):
    url = PG_URL or f"sqlite:///{tmp_path / 'test.sqlite3'}"
    if PG_URL:
        reset_postgres(PG_URL)
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": url,
        "MEDIA_DIR": str(tmp_path / "media"),
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "RATELIMIT_ENABLED": False,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_KIB": 1024,
        "ARGON2_PARALLELISM": 1,
    }


class TemplatesCompiledOnce(BytecodeCache):
    """Jinja's compiled templates, kept for the whole test run: each test's new app compiled every
    template it showed again (a tenth of the dashboard tests' time). The source's checksum still decides."""

    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = TemplatesCompiledOnce()


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    app.jinja_env.bytecode_cache = TEMPLATES
    with database.connection_context():
        migrate_database()
    yield app
    if not database.is_closed():
        database.close()


# The demo data as load_demo() leaves it, made once a day in each test process and copied into each
# test's database that asks for it: loading it took a third of a second on SQLite and twice that on
# PostgreSQL, in some 150 tests a pass.
_DEMO_COPIES = {}


def demo_data():
    """The demo organisation and its visit history in the test's database (open, in an app context),
    as load_demo() makes it: the first time by load_demo(), then a copy of what it made. On SQLite the
    copy is SQLite's backup of the database; on PostgreSQL each table's rows as COPY wrote them, kept
    in memory (a copy kept in a schema beside public was seen by the tests of whole databases)."""
    from audit.demo import load_demo

    made = _DEMO_COPIES.get(utcnow().date())
    if made is None:
        load_demo()
        _DEMO_COPIES[utcnow().date()] = _postgresql_rows() if PG_URL else _sqlite_backup()
    elif PG_URL:
        _put_back_postgresql_rows(made)
    else:
        made.backup(database.connection())


def _sqlite_backup():
    made = sqlite3.connect(":memory:")
    database.connection().backup(made)
    return made


def _tables_in_order():
    """The app's tables, each after those its foreign keys point to."""
    return [model._meta.table_name for model in sort_models(ALL_MODELS)]


def _postgresql_rows():
    """Every table's rows (COPY's binary format) and every sequence's position."""
    with database.connection().cursor() as cursor:
        rows = {}
        for table in _tables_in_order():
            with cursor.copy(f'COPY "{table}" TO STDOUT (FORMAT BINARY)') as copy:
                rows[table] = b"".join(bytes(block) for block in copy)
        cursor.execute("SELECT sequencename, last_value FROM pg_sequences "
                       "WHERE schemaname = current_schema() AND last_value IS NOT NULL")
        return rows, cursor.fetchall()


def _put_back_postgresql_rows(made):
    rows, sequences = made
    with database.atomic(), database.connection().cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(f'"{table}"' for table in rows))
        for table, data in rows.items():
            with cursor.copy(f'COPY "{table}" FROM STDIN (FORMAT BINARY)') as copy:
                copy.write(data)
        for sequence, position in sequences:
            cursor.execute("SELECT setval(%s, %s)", (sequence, position))


@pytest.fixture
def demo(app):
    with app.app_context(), database.connection_context():
        demo_data()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    """The database connection, open for a test that works with models directly."""
    with app.app_context(), database.connection_context():
        yield database


@pytest.fixture
def org(app):
    """Two brands, a region each, a branch each, and an account of every role with its scope."""
    with app.app_context(), database.connection_context():
        hashed = hash_password(PASSWORD)
        north = Brand.create(name="Aurora Electronics", default_language="hu")
        south = Brand.create(name="Baltia Bank", primary_color="#0b6e4f", default_language="et")
        region_a = Region.create(brand=north, name="Hungary")
        region_b = Region.create(brand=south, name="Estonia")
        branch_a = Branch.create(region=region_a, code="BUD-01", name="Aurora Váci utca",
                                 address="Váci utca 19.", city="Budapest", country="HU",
                                 latitude=47.4936, longitude=19.0530)
        branch_b = Branch.create(region=region_b, code="NRV-01", name="Baltia Нарва",
                                 address="Tallinna mnt 6", city="Narva", country="EE")
        users = {}
        for key, role, name in [
            ("auditor", Role.AUDITOR, "Anna Auditor"),
            ("manager", Role.MANAGER, "Mark Manager"),
            ("other_manager", Role.MANAGER, "Olga Othermanager"),
            ("shopper", Role.SHOPPER, "Sara Shopper"),
            ("other_shopper", Role.SHOPPER, "Otto Othershopper"),
        ]:
            users[key] = User.create(email=f"{key}@example.com", name=name, role=role.value,
                                     password_hash=hashed, password_set_at=utcnow())
        ManagerRegion.create(manager=users["manager"], region=region_a)
        ManagerRegion.create(manager=users["other_manager"], region=region_b)
    return {"brands": (north, south), "regions": (region_a, region_b),
            "branches": (branch_a, branch_b), "users": users}


def login(client, email, password=PASSWORD):
    page = client.get("/login")
    token = csrf_from(page)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def csrf_from(response):
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', response.data) or re.search(
        rb'id="csrf_token"[^>]*value="([^"]+)"', response.data
    )
    assert match, "the page has no CSRF token"
    return match.group(1).decode()


def hidden_fields_from(response):
    """The hidden fields of a page's form, as a browser sends them back: its CSRF token, and for an
    edit page the fingerprint of what it shows (`seen`)."""
    fields = {"csrf_token": csrf_from(response)}
    seen = re.search(rb'name="seen"[^>]*value="([^"]*)"', response.data) or re.search(
        rb'id="seen"[^>]*value="([^"]*)"', response.data)
    if seen:
        fields["seen"] = seen.group(1).decode()
    return fields


@pytest.fixture
def login_as(app, org):
    """login_as('manager') -> a test client signed in as that account of the org fixture."""

    def _login(key):
        client = app.test_client()
        response = login(client, org["users"][key].email)
        assert response.status_code == 302, response.data[:500]
        return client

    return _login
