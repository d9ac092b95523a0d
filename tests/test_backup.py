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
