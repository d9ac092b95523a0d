"""What the operator and the visitors see when a part the app depends on is not right: Redis away
(the sign-in counts, the job queue), or a database whose schema is not this release's. The answer is
the app's "busy for a moment" 503, never a 500, nothing half-stored, and /healthz says what to fix."""
import logging
import re

import pytest

from audit import create_app
from audit.db import database
from audit.migrations import LATEST
from audit.models import Job, SchemaVersion
from conftest import PASSWORD, csrf_from, login

# A real address where no Redis listens: every connection is refused, as when Redis is down.
REDIS_AWAY = "redis://127.0.0.1:1"
BUSY = "The service is busy for a moment. Nothing was lost; please try again."


def test_sign_in_while_the_shared_sign_in_counts_are_away_is_a_503_and_signs_nobody_in(app_config, org):
    app = create_app(dict(app_config, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_AWAY))
    client = app.test_client()
    token = csrf_from(client.get("/login"))
    answer = client.post("/login", data={"email": "manager@example.com", "password": PASSWORD, "csrf_token": token})
    assert (answer.status_code, answer.headers["Retry-After"]) == (503, "5")
    assert BUSY in answer.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302  # still signed out: to the sign-in page

    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json() == {
        "status": "unavailable", "problems": ["the sign-in counts' storage (RATELIMIT_STORAGE_URI) does not answer"]}


@pytest.mark.parametrize("job", ["xlsx-export", "region-zip"])
def test_a_job_the_queue_cannot_take_is_a_503_and_leaves_no_job_behind(app_config, org, job):
    app = create_app(dict(app_config, HUEY_IMMEDIATE=False, REDIS_URL=REDIS_AWAY))
    client = app.test_client()
    assert login(client, "manager@example.com").status_code == 302
    token = csrf_from(client.get("/dashboard/"))
    url = "/reports/export.xlsx" if job == "xlsx-export" else f"/reports/regions/{org['regions'][0].id}/reports.zip"
    answer = client.post(url, data={"csrf_token": token})
    assert (answer.status_code, answer.headers["Retry-After"]) == (503, "5")
    assert BUSY in answer.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert Job.select().count() == 0  # no job row that no worker would ever start

    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json() == {"status": "unavailable", "problems": ["the job queue (REDIS_URL) does not answer"]}


def _back_to_schema_9():
    """The database as the release before schema 10 left it (visit.clock_shift_s came with 10)."""
    database.execute_sql("ALTER TABLE visit DROP COLUMN clock_shift_s")
    SchemaVersion.update(version=9).execute()


def test_a_database_not_upgraded_to_this_release_is_named_in_the_log_and_the_health_check(
        app, org, login_as, caplog):
    assert LATEST >= 10
    with app.app_context(), database.connection_context():
        _back_to_schema_9()
    shopper = login_as("shopper")
    needed = f"database schema version 9, the app needs {LATEST}: run `flask init-db`"

    with caplog.at_level(logging.ERROR):
        page = shopper.get("/visits/")
    assert page.status_code == 503 and BUSY in page.get_data(as_text=True)
    assert f"The database cannot serve this release: {needed}." in caplog.messages

    health = app.test_client().get("/healthz")
    assert (health.status_code, health.get_json()) == (503, {"status": "unavailable", "problems": [needed]})

    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.output == f"Upgraded the database from schema version 9 to {LATEST}.\n"
    assert shopper.get("/visits/").status_code == 200
    health = app.test_client().get("/healthz")
    assert (health.status_code, health.get_json()) == (200, {"status": "ok"})


def test_init_db_refuses_a_database_from_a_newer_release(app):
    with app.app_context(), database.connection_context():
        SchemaVersion.update(version=LATEST + 1).execute()
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: This database is from a newer release: it is at schema version {LATEST + 1}, and this release "
        f"knows versions up to {LATEST}. Upgrade the app; nothing was changed.\n")
    with app.app_context(), database.connection_context():
        assert [row.version for row in SchemaVersion.select()] == [LATEST + 1]
    health = app.test_client().get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["problems"] == [
        f"database schema version {LATEST + 1} is from a newer release (this one knows up to {LATEST}): upgrade the app"]


def test_the_health_check_of_an_empty_database_says_to_run_init_db(app_config):
    app = create_app(app_config)  # no `flask init-db` yet
    health = app.test_client().get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["problems"] == [
        f"the database has no schema, the app needs schema version {LATEST}: run `flask init-db`"]


def test_a_database_url_naming_a_file_that_is_no_database_is_a_503_and_one_line_for_commands(app_config, tmp_path, caplog):
    """A backup archive or any other file given as the database: visitors get the app's 503 (it was a
    500), the log and /healthz name the database, and a command says it in one line (no traceback)."""
    other = tmp_path / "backup.tar.gz"
    other.write_bytes(b"\x1f\x8b" + b"not a database at all " * 200)
    app = create_app(dict(app_config, DATABASE_URL=f"sqlite:///{other}"))
    with caplog.at_level(logging.ERROR):
        page = app.test_client().get("/login")
    assert page.status_code == 503 and BUSY in page.get_data(as_text=True)
    assert any("The database (DATABASE_URL) cannot be used: file is not a database" in m for m in caplog.messages)
    health = app.test_client().get("/healthz")
    assert (health.status_code, health.get_json()) == (503, {
        "status": "unavailable", "problems": ["the database (DATABASE_URL) does not answer, or is not a database"]})
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("Error: The database (DATABASE_URL) cannot be used: file is not a database.")


def test_a_nearly_full_disk_is_a_warning_of_the_health_check(app_config, app):
    """Uploads will soon fail; reading still works, so the process stays in the balancer's rotation,
    and the monitor is told where room is short (here: less than a petabyte, which any disk has)."""
    assert app.test_client().get("/healthz").get_json() == {"status": "ok"}
    cramped = create_app(dict(app_config, LOW_DISK_MB=10**9))
    answer = cramped.test_client().get("/healthz")
    assert answer.status_code == 200
    warnings = answer.get_json()["warnings"]
    assert warnings and all(re.fullmatch(r"the disk of (MEDIA_DIR|DATABASE_URL) has \d+ MB free", w) for w in warnings)
    assert warnings[0].startswith("the disk of MEDIA_DIR")


def test_a_job_whose_database_connection_drops_says_it_failed_at_once(app, org, monkeypatch):
    """PostgreSQL restarted while a region ZIP was being made: the worker's connection is gone. The
    job used to try to say it failed on that dead connection, and its page showed the progress bar for
    ten minutes; now it says so as soon as the database answers, and no half-written file stays."""
    import os
    from datetime import timedelta

    from audit import tasks
    from audit.models import utcnow
    from audit.reports import branch as branch_reports
    from conftest import engine

    def connection_dropped(*args, **kwargs):
        if engine() == "postgresql":  # as a server restart ends every backend
            database.execute_sql("SELECT pg_terminate_backend(pg_backend_pid())")
        database.connection().close()
        raise OSError("the connection to the database is gone")

    monkeypatch.setattr(branch_reports, "branch_report_pdf", connection_dropped)
    with app.app_context(), database.connection_context():
        job = Job.create(kind="region_zip", owner=org["users"]["manager"], total=1, title="Region")
    end = utcnow()
    with pytest.raises(Exception):
        tasks._run_region_zip(str(job.uuid), [org["branches"][0].id], "en", (end - timedelta(days=30)).isoformat(),
                              end.isoformat())
    with app.app_context(), database.connection_context():
        assert Job.get_by_id(job.id).status == "failed"
    exports = os.path.join(app.config["MEDIA_DIR"], "exports")
    assert not [name for name in os.listdir(exports) if name.endswith(".part")]


def test_a_full_sqlite_database_is_named_full_not_a_failed_rollback(app_config, org, monkeypatch):
    """SQLite ends the transaction itself when the disk is full, and the rollback that followed failed
    with "no transaction is active": the operator was sent to check DATABASE_URL and the server. A
    database that may not grow (max_page_count) is full in the same way, without filling a disk."""
    import audit.db
    from conftest import engine

    if engine() != "sqlite":
        pytest.skip("SQLite's own way of ending a transaction; PostgreSQL keeps it until the rollback")
    with create_app(app_config).app_context(), database.connection_context():
        pages = database.execute_sql("PRAGMA page_count").fetchone()[0]
    monkeypatch.setattr(audit.db, "SQLITE_PRAGMAS", dict(audit.db.SQLITE_PRAGMAS, max_page_count=pages + 2))
    result = create_app(app_config).test_cli_runner().invoke(args=["demo", "--scale", "2000", "--branches", "50"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: The database (DATABASE_URL) cannot be used: database or disk is full.")


def test_init_db_run_by_two_machines_at_once_creates_the_schema_once(app_config, tmp_path):
    """A deployment starts `flask init-db` on each app machine: on an empty database one of two crashed
    with a duplicate key (PostgreSQL) or "database is locked" (SQLite). Now one creates, the other
    finds the schema current."""
    import threading
    import uuid
    from urllib.parse import urlparse

    from audit.migrations import migrate_database
    from conftest import PG_URL

    for attempt in range(3):
        if PG_URL:
            import psycopg

            name = f"audit_race_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(PG_URL, autocommit=True) as server:
                server.execute(f'CREATE DATABASE "{name}"')
            url = urlparse(PG_URL)._replace(path=f"/{name}").geturl()
        else:
            url = f"sqlite:///{tmp_path / f'race-{attempt}.sqlite3'}"
        app = create_app(dict(app_config, DATABASE_URL=url))
        start, results = threading.Barrier(2), []

        def run():
            with app.app_context(), database.connection_context():
                start.wait()
                try:
                    results.append(migrate_database())
                except Exception as error:  # noqa: BLE001 - what the other machine would have printed
                    results.append(error)

        machines = [threading.Thread(target=run) for _ in range(2)]
        for machine in machines:
            machine.start()
        for machine in machines:
            machine.join()
        assert len(results) == 2 and (None, LATEST) in results and (LATEST, LATEST) in results, results
        with app.app_context(), database.connection_context():
            assert [row.version for row in SchemaVersion.select()] == [LATEST]
        if PG_URL:
            database.close()
            with psycopg.connect(PG_URL, autocommit=True) as server:
                server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_region_zip_is_made_while_other_people_save(app, org, monkeypatch):
    """A manager's region ZIP takes seconds to minutes; meanwhile shoppers send visits and change their
    language. On SQLite each such save made the job fail ("database is locked") when it next wrote its
    progress: its open cursor over the branches kept an old read snapshot."""
    import io
    import threading
    import zipfile
    from datetime import timedelta

    from audit import tasks
    from audit.models import User, utcnow
    from audit.reports import branch as branch_reports

    real_report = branch_reports.branch_report_pdf

    def report_while_someone_saves(*args, **kwargs):
        def save():  # another person's request: its own connection, its own transaction
            with database.connection_context():
                User.update(language="hu").where(User.id == org["users"]["shopper"].id).execute()

        other = threading.Thread(target=save)
        other.start()
        other.join()
        return real_report(*args, **kwargs)

    monkeypatch.setattr(branch_reports, "branch_report_pdf", report_while_someone_saves)
    branches = [branch.id for branch in org["branches"][:2]]
    with app.app_context(), database.connection_context():
        job = Job.create(kind="region_zip", owner=org["users"]["manager"], total=len(branches), title="Region")
    end = utcnow()
    tasks._run_region_zip(str(job.uuid), branches, "en", (end - timedelta(days=30)).isoformat(), end.isoformat())
    with app.app_context(), database.connection_context():
        job = Job.get_by_id(job.id)
        assert (job.status, job.done) == ("done", len(branches))
    with open(f"{app.config['MEDIA_DIR']}/exports/{job.file_name}", "rb") as made:
        assert len(zipfile.ZipFile(io.BytesIO(made.read())).namelist()) == len(branches)
