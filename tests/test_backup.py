"""`flask backup` / `flask restore`: online, consistent, verified; on SQLite and on PostgreSQL."""
import json
import os
import sqlite3
import threading
import uuid
from datetime import date
from urllib.parse import urlparse

import pytest

from audit import backup, create_app
from audit.db import database
from audit.demo import load_demo
from audit.media import store_logo, store_photo
from audit.migrations import LATEST, migrate_database
from audit.models import ALL_MODELS, Action, Brand, Branch, Evidence, User, Visit
from conftest import PG_URL, engine
from tests_support import tiny_png


def _snapshot(models):
    """Every row of every table, all columns, sorted by primary key."""
    return {
        model.__name__: list(model.select().order_by(model._meta.primary_key).tuples())
        for model in models
    }


def _media(media_dir, in_flight=False):
    """{relative path: bytes} of the media files; with in_flight, also the job files still being written."""
    files = {}
    for folder, _dirs, names in os.walk(media_dir):
        for name in names:
            if name.endswith(".part") and not in_flight:
                continue
            full = os.path.join(folder, name)
            with open(full, "rb") as f:
                files[os.path.relpath(full, media_dir)] = f.read()
    return files


def _load_organisation(app):
    """Demo data plus a stored logo, a stored visit photo and an export file."""
    media_dir = app.config["MEDIA_DIR"]
    with app.app_context(), database.connection_context():
        load_demo()
        brand = Brand.select().order_by(Brand.id).first()
        brand.logo_file = store_logo(tiny_png((120, 60)), media_dir, 2 * 1024 * 1024, 10**7)
        brand.save()
        visit = Visit.select().where(Visit.state == "approved").order_by(Visit.id).first()
        photo = store_photo(tiny_png((300, 200), "#aa3300"), media_dir, 10**7, 10**7)
        Evidence.create(visit=visit, item_id=None, client_id=uuid.uuid4().hex, file_name=photo.file_name,
                        sha256=photo.sha256, width=photo.width, height=photo.height)
    os.makedirs(os.path.join(media_dir, "exports"), exist_ok=True)
    with open(os.path.join(media_dir, "exports", "region-hungary.zip"), "wb") as f:
        f.write(os.urandom(50_000))
    # A job's file still being written (renamed when done): not part of any backup.
    with open(os.path.join(media_dir, "exports", f"{uuid.uuid4()}.xlsx.part"), "wb") as f:
        f.write(b"PK half a file")


class _ActionWriter(threading.Thread):
    """Keeps inserting actions through the app's models, as a running app would, until stopped."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app, self.stop, self.count, self.error = app, threading.Event(), 0, None

    def run(self):
        try:
            with self.app.app_context(), database.connection_context():
                branch = Branch.select().order_by(Branch.id).first()
                author = User.select().order_by(User.id).first()
                while not self.stop.is_set():
                    Action.create(branch=branch, what=f"Fix the shelf labels ({self.count})",
                                  owner="Store manager", due_date=date(2026, 1, 31), created_by=author)
                    self.count += 1
        except Exception as error:  # noqa: BLE001 - reported by the test
            self.error = error


@pytest.fixture
def fresh_url(tmp_path):
    """A second, empty database: a new SQLite file, or a new database on the same PostgreSQL server."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'restored' / 'audit.sqlite3'}"
        return
    import psycopg

    name = f"audit_restore_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
    yield urlparse(PG_URL)._replace(path=f"/{name}").geturl()
    if not database.is_closed():
        database.close()
    with psycopg.connect(PG_URL, autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_while_the_app_writes_restores_every_row_and_file(app, app_config, fresh_url, tmp_path):
    _load_organisation(app)
    writer = _ActionWriter(app)
    writer.start()
    while writer.count < 5 and writer.is_alive():
        pass
    before_backup = writer.count
    target = tmp_path / "nightly"
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    during_backup = writer.count - before_backup
    writer.stop.set()
    writer.join(10)
    assert writer.error is None, writer.error
    assert result.exit_code == 0, result.output
    assert f"Wrote a {engine()} backup at schema version {LATEST} to {target}" in result.output
    assert during_backup > 0, "the app could not write while the backup ran"

    manifest = json.loads((target / "manifest.json").read_text())
    assert (manifest["engine"], manifest["schema_version"]) == (engine(), LATEST)
    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    assert len(_media(app.config["MEDIA_DIR"], in_flight=True)) == len(_media(app.config["MEDIA_DIR"])) + 1
    assert set(listed) == {manifest["database"]} | {
        "media/" + name.replace(os.sep, "/") for name in _media(app.config["MEDIA_DIR"])
    }
    if engine() == "sqlite":
        with sqlite3.connect(target / manifest["database"]) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert not (target / (manifest["database"] + "-wal")).exists()

    with app.app_context(), database.connection_context():
        untouched = [model for model in ALL_MODELS if model is not Action]
        source = _snapshot(untouched)
        source_actions = _snapshot([Action])["Action"]
    source_media = _media(app.config["MEDIA_DIR"])

    restored_app = create_app(dict(app_config, DATABASE_URL=fresh_url, MEDIA_DIR=str(tmp_path / "media2")))
    with restored_app.app_context(), database.connection_context():
        migrate_database()  # as `flask init-db` would: a schema without rows still counts as empty
    result = restored_app.test_cli_runner().invoke(args=["restore", str(target)])
    assert result.exit_code == 0, result.output
    media_count = len(source_media)
    assert f"Verified the database file and {media_count} media files against the manifest (sha256)" \
        in result.output

    with restored_app.app_context(), database.connection_context():
        assert _snapshot(untouched) == source
        restored_actions = _snapshot([Action])["Action"]
        # Rows written after the backup began may be missing, but none is half there or out of order.
        assert before_backup <= len(restored_actions) <= len(source_actions)
        assert restored_actions == source_actions[: len(restored_actions)]
        # The id sequences came back too: the restored app can keep writing.
        Action.create(branch=Branch.select().first(), what="After the restore", owner="x",
                      due_date=date(2026, 2, 1), created_by=User.select().first())
    assert _media(restored_app.config["MEDIA_DIR"], in_flight=True) == source_media


@pytest.mark.parametrize("name", ["backup-dir", "backup.tar.gz"])
def test_restore_into_a_database_with_data_needs_force(app, org, tmp_path, name):
    with open(os.path.join(app.config["MEDIA_DIR"], "note.txt"), "w") as f:
        f.write("kept")
    runner = app.test_cli_runner()
    target = tmp_path / name
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    assert target.is_dir() == (name == "backup-dir")
    with app.app_context(), database.connection_context():
        Brand.create(name="Added after the backup")
        brands = sorted(b.name for b in Brand.select())
    os.remove(os.path.join(app.config["MEDIA_DIR"], "note.txt"))

    refused = runner.invoke(args=["restore", str(target)])
    assert refused.exit_code == 1
    assert ("The database is not empty; restoring would replace its data. "
            "Restore into an empty database, or pass --force to replace it.") in refused.output
    with app.app_context(), database.connection_context():
        assert sorted(b.name for b in Brand.select()) == brands

    forced = runner.invoke(args=["restore", "--force", str(target)])
    assert forced.exit_code == 0, forced.output
    with app.app_context(), database.connection_context():
        assert sorted(b.name for b in Brand.select()) == sorted(b.name for b in org["brands"])
    with open(os.path.join(app.config["MEDIA_DIR"], "note.txt")) as f:
        assert f.read() == "kept"


def _tampered(tmp_path, runner):
    target = tmp_path / "tampered"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    (target / "media" / "exports" / "a.zip").write_bytes(b"changed")
    return target


def _garbled_archive(tmp_path, runner):
    path = tmp_path / "nightly.tar.gz"
    path.write_bytes(os.urandom(2000))
    return path


def _garbled_manifest(tmp_path, runner):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text("{not json")
    return tmp_path / "broken"


def _no_manifest(tmp_path, runner):
    (tmp_path / "empty").mkdir()
    return tmp_path / "empty"


@pytest.mark.parametrize(
    "make_path, message",
    [
        (lambda tmp_path, runner: tmp_path / "nowhere", "There is no backup at"),
        (_no_manifest, "is not a backup made by `flask backup`: it has no manifest.json."),
        (_garbled_manifest, "manifest.json cannot be read"),
        (_garbled_archive, "is not a readable backup archive"),
        (_tampered, "is damaged; nothing was restored. media/exports/a.zip: sha256 does not match the manifest"),
    ],
    ids=["missing", "no-manifest", "garbled-manifest", "garbled-archive", "tampered-file"],
)
def test_missing_or_damaged_backup_is_refused_with_a_message(app, tmp_path, make_path, message):
    os.makedirs(os.path.join(app.config["MEDIA_DIR"], "exports"), exist_ok=True)
    with open(os.path.join(app.config["MEDIA_DIR"], "exports", "a.zip"), "wb") as f:
        f.write(b"original")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["restore", str(make_path(tmp_path, runner))])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "make_path, message",
    [
        (lambda tmp_path: tmp_path / "a-file" / "backup", "is not an existing folder"),
        (lambda tmp_path: tmp_path / "full", "already exists; choose a new path"),
    ],
    ids=["under-a-file", "existing"],
)
def test_backup_to_an_unusable_path_is_refused_with_a_message(app, tmp_path, make_path, message):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old").write_text("x")
    result = app.test_cli_runner().invoke(args=["backup", str(make_path(tmp_path))])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_pg_dump_is_named_with_how_to_install_it(app, tmp_path, monkeypatch):
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    monkeypatch.setattr(backup.glob, "glob", lambda pattern: [])
    with pytest.raises(backup.BackupError, match="pg_dump was not found on PATH nor under /usr/lib/postgresql"):
        backup.find_pg_tool("pg_dump")
    if engine() == "postgresql":
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b")])
        assert result.exit_code == 1
        assert "pg_dump was not found" in result.output
        assert not (tmp_path / "b").exists()


def test_password_reaches_pg_dump_through_the_environment_only():
    env, name = backup.pg_environment("postgresql://audit:s3cret@db.example:5433/audit")
    assert (env["PGPASSWORD"], env["PGHOST"], env["PGPORT"], env["PGUSER"], name) == (
        "s3cret", "db.example", "5433", "audit", "audit")


def test_backup_of_a_sqlite_database_that_is_not_there_is_refused_and_creates_nothing(app_config, tmp_path):
    """A mistyped DATABASE_URL in a nightly cron job: the backup fails loudly instead of saving an
    empty database (which a later restore would put in place of every row)."""
    missing = tmp_path / "data" / "doesnotexist.sqlite3"
    app = create_app(dict(app_config, DATABASE_URL=f"sqlite:///{missing}"))
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "nightly")])
    assert result.exit_code == 1
    assert f"There is no database at {missing}; nothing was backed up. Check DATABASE_URL" in result.output
    assert "Traceback" not in result.output
    assert not missing.exists() and not (tmp_path / "nightly").exists()


def test_backup_of_a_database_without_the_apps_schema_is_refused(app_config, fresh_url, tmp_path):
    if engine() == "sqlite":
        path = urlparse(fresh_url).path
        os.makedirs(os.path.dirname(path))
        sqlite3.connect(path).close()  # a database file, but not the app's
    app = create_app(dict(app_config, DATABASE_URL=fresh_url))
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "nightly.tar.gz")])
    assert result.exit_code == 1
    assert "holds no data of the app (no schema version: `flask init-db` was never run on it); nothing was " \
           "backed up." in result.output
    assert not [name for name in os.listdir(tmp_path) if name.startswith(("nightly", ".backup-"))]


def test_restore_refuses_a_backup_without_a_schema_version(app, org, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "nightly"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    manifest = json.loads((target / "manifest.json").read_text())
    (target / "manifest.json").write_text(json.dumps(dict(manifest, schema_version=None)))
    with app.app_context(), database.connection_context():
        Brand.create(name="Added after the backup")
        before = _snapshot(ALL_MODELS)

    result = runner.invoke(args=["restore", "--force", str(target)])
    assert result.exit_code == 1
    assert (f"The backup at {target} has no schema version (None), so it holds no database made by the app; "
            f"nothing was restored.") in result.output
    with app.app_context(), database.connection_context():
        assert _snapshot(ALL_MODELS) == before


def _truncated_dump(target, tmp_path, monkeypatch):
    """The dump cut short (a copy that ran out of disk), its manifest entry made to match."""
    dump = target / "database.pgdump"
    data = dump.read_bytes()
    dump.write_bytes(data[: len(data) * 2 // 3])
    manifest = json.loads((target / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == "database.pgdump":
            entry.update(size=dump.stat().st_size, sha256=backup.sha256_of(dump))
    (target / "manifest.json").write_text(json.dumps(manifest))
    return "pg_restore failed (exit code 1)"


def _pg_restore_older_than_the_dump(target, tmp_path, monkeypatch):
    """The restoring machine's pg_restore cannot read a newer pg_dump's file, as an older client
    cannot: a pg_restore on PATH that says so and fails, as that one does."""
    folder = tmp_path / "old-client"
    folder.mkdir()
    tool = folder / "pg_restore"
    tool.write_text("#!/bin/sh\necho 'pg_restore: error: unsupported version (1.16) in file header' >&2\nexit 1\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return "pg_restore failed (exit code 1): pg_restore: error: unsupported version (1.16) in file header"


@pytest.mark.skipif(not PG_URL, reason="pg_restore is PostgreSQL's")
@pytest.mark.parametrize("break_restore", [_truncated_dump, _pg_restore_older_than_the_dump],
                         ids=["truncated-dump", "pg_restore-older-than-the-dump"])
def test_a_failed_pg_restore_leaves_the_database_as_it_was(app, org, tmp_path, monkeypatch, break_restore):
    runner = app.test_cli_runner()
    target = tmp_path / "nightly"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    expected = break_restore(target, tmp_path, monkeypatch)
    with app.app_context(), database.connection_context():
        Brand.create(name="Added after the backup")
        before = _snapshot(ALL_MODELS)
        tables = sorted(database.get_tables())

    result = runner.invoke(args=["restore", "--force", str(target)])
    assert result.exit_code == 1
    assert expected in result.output
    assert "The database was left as it was; nothing was restored." in result.output
    with app.app_context(), database.connection_context():
        assert sorted(database.get_tables()) == tables
        assert _snapshot(ALL_MODELS) == before
        assert database.execute_sql(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE %s AND nspname <> 'information_schema'",
            ("pg\\_%",)).fetchall() == [("public",)]
        Brand.create(name="The app writes on")  # the id sequences are the old ones, still in step

    monkeypatch.undo()  # the working pg_restore again: the same database takes a good backup
    good = tmp_path / "good"
    assert runner.invoke(args=["backup", str(good)]).exit_code == 0
    assert runner.invoke(args=["restore", "--force", str(good)]).exit_code == 0


@pytest.mark.parametrize("target", ["nightly", "nightly.tar.gz"])
def test_a_backup_is_readable_by_its_owner_only_whatever_the_umask(app, tmp_path, target):
    """It holds password hashes, shoppers' names and addresses and every photo: with the usual umask
    (022) it was readable by every account on the machine."""
    previous = os.umask(0o022)
    try:
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / target)])
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    written = [tmp_path / target] + sorted((tmp_path / target).rglob("*")) if target == "nightly" else [tmp_path / target]
    assert len(written) > (2 if target == "nightly" else 0)
    assert {oct(path.stat().st_mode & 0o077) for path in written} == {"0o0"}
