"""Online backups: `flask backup PATH` and `flask restore PATH`.

A backup is a directory, or the same directory packed as one .tar.gz file when PATH ends in
.tar.gz or .tgz:

    manifest.json        created_at, engine, schema_version, and every file below with its sha256
    database.sqlite3     SQLite: a copy made with SQLite's online backup API (self-contained, no WAL)
    database.pgdump      PostgreSQL: `pg_dump --format=custom`
    media/...            the whole MEDIA_DIR (logos/, photos/, exports/)

The database is copied first and MEDIA_DIR second. Media files are written before any row points at
them and are never rewritten, so every file the backed-up rows name is already complete when the
media are copied; files that appear later are extra but harmless.
"""
import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import with_appcontext
from playhouse.db_url import parse as parse_url

from .cli import reports_database_errors
from .db import database

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


class BackupError(click.ClickException):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


# ----------------------------------------------------------------------------- helpers

def engine_of(url):
    """'sqlite' or 'postgresql' for a DATABASE_URL."""
    return "sqlite" if url.startswith("sqlite:") else "postgresql"


def sqlite_path(url):
    return url[len("sqlite:///"):]


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def is_archive(path):
    return str(path).endswith(ARCHIVE_SUFFIXES)


def find_pg_tool(name):
    """The path of pg_dump or pg_restore: on PATH, else the newest under /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: [int(part) if part.isdigit() else 0 for part in p.split("/")[4].split(".")],
    )
    if candidates:
        return candidates[-1]
    raise BackupError(
        f"{name} was not found on PATH nor under /usr/lib/postgresql/*/bin. Install the PostgreSQL "
        f"client tools of the server's major version or newer (e.g. apt-get install postgresql-client) "
        f"and try again."
    )


def pg_environment(url):
    """Connection settings for pg_dump/pg_restore as libpq variables: the password never reaches argv."""
    params = parse_url(url)
    env = dict(os.environ)
    for key, variable in (("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER"),
                          ("password", "PGPASSWORD"), ("database", "PGDATABASE"),
                          ("sslmode", "PGSSLMODE")):
        if params.get(key) not in (None, ""):
            env[variable] = str(params[key])
    return env, params["database"]


def _run_pg_tool(name, args, url):
    env, _name = pg_environment(url)
    tool = find_pg_tool(name)
    try:
        result = subprocess.run([tool, *args], env=env, capture_output=True, text=True)
    except OSError as error:
        raise BackupError(f"Could not run {tool}: {error.strerror}.")
    if result.returncode != 0:
        raise BackupError(f"{name} failed (exit code {result.returncode}): {result.stderr.strip()}")


def _media_files(media_dir):
    """Relative paths (with /) of every regular file under media_dir, sorted; a job's file still being
    written (tasks.PARTIAL_SUFFIX, renamed when it is done) is left out."""
    from .tasks import PARTIAL_SUFFIX

    files = []
    for folder, _dirs, names in os.walk(media_dir):
        for name in names:
            if name.endswith(PARTIAL_SUFFIX):
                continue
            full = os.path.join(folder, name)
            if os.path.isfile(full) and not os.path.islink(full):
                files.append(os.path.relpath(full, media_dir).replace(os.sep, "/"))
    return sorted(files)


# ----------------------------------------------------------------------------- backup

def _backup_sqlite(url, target):
    # The online backup API reads one consistent snapshot; WAL lets the app keep writing meanwhile.
    source = sqlite3.connect(sqlite_path(url), timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        # The copy must stand alone: no -wal file beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
        verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        copy.close()
        source.close()
    if verdict != "ok":
        raise BackupError(f"The copy of the database failed SQLite's integrity check: {verdict}")


def _backup_postgresql(url, target):
    # pg_dump reads one snapshot (repeatable read), so the dump is consistent while the app writes.
    _env, name = pg_environment(url)
    _run_pg_tool("pg_dump", ["--format=custom", "--no-owner", f"--file={target}", name], url)


def _copy_media(media_dir, target_dir):
    files = []
    for relative in _media_files(media_dir):
        source = os.path.join(media_dir, *relative.split("/"))
        destination = os.path.join(target_dir, MEDIA, *relative.split("/"))
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        try:
            shutil.copyfile(source, destination)
        except FileNotFoundError:
            continue  # deleted since we listed it (an expired export): not part of this backup
        files.append(f"{MEDIA}/{relative}")
    return files


def _prepare_target(path):
    """Refuse an existing target and check that PATH can be written; returns the working directory."""
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise BackupError(f"{path} already exists; choose a new path so that no backup is overwritten.")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise BackupError(f"Cannot write the backup to {path}: {parent} is not an existing folder.")
    if not os.access(parent, os.W_OK):
        raise BackupError(f"Cannot write the backup to {path}: the folder {parent} is not writable.")
    if is_archive(path):
        return tempfile.mkdtemp(prefix=".backup-", dir=parent)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise BackupError(f"Cannot write the backup to {path}: {error.strerror}.")
    return path


def _schema_version_to_back_up(url):
    """The schema version of the database at url; refuses a database that is not there (a mistyped
    DATABASE_URL) or holds no schema, without creating anything: a nightly backup of the wrong
    database must fail loudly, not succeed with nothing in it."""
    from .migrations import current_version

    if engine_of(url) == "sqlite" and not os.path.isfile(sqlite_path(url)):
        raise BackupError(
            f"There is no database at {sqlite_path(url)}; nothing was backed up. Check DATABASE_URL "
            f"(an absolute path takes four slashes: sqlite:////var/lib/audit/audit.sqlite3)."
        )
    with database.connection_context():
        version = current_version()
    if version is None:
        raise BackupError(
            "The database of DATABASE_URL holds no data of the app (no schema version: `flask init-db` "
            "was never run on it); nothing was backed up. Check DATABASE_URL."
        )
    return version


def write_backup(path, url, media_dir):
    """Write a backup of the database at `url` and of media_dir to path; returns the manifest.

    Readable by its owner only, whatever the umask: it holds password hashes, shoppers' names and
    addresses, and every photo."""
    previous = os.umask(0o077)  # a command's own process; pg_dump, started from here, inherits it
    try:
        return _write_backup(path, url, media_dir)
    finally:
        os.umask(previous)


def _write_backup(path, url, media_dir):
    engine = engine_of(url)
    schema_version = _schema_version_to_back_up(url)
    work = _prepare_target(path)
    try:
        created_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        database_file = DATABASE_FILES[engine]
        if engine == "sqlite":
            _backup_sqlite(url, os.path.join(work, database_file))
        else:
            _backup_postgresql(url, os.path.join(work, database_file))
        names = [database_file] + _copy_media(media_dir, work)
        manifest = {
            "format": FORMAT,
            "created_at": created_at,
            "engine": engine,
            "schema_version": schema_version,
            "database": database_file,
            "files": [
                {"path": name, "size": os.path.getsize(os.path.join(work, *name.split("/"))),
                 "sha256": sha256_of(os.path.join(work, *name.split("/")))}
                for name in names
            ],
        }
        with open(os.path.join(work, MANIFEST), "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2, ensure_ascii=False)
        if work != path:
            partial = path + ".partial"
            with tarfile.open(partial, "w:gz") as archive:
                for name in [MANIFEST] + names:
                    archive.add(os.path.join(work, *name.split("/")), arcname=name)
            os.replace(partial, path)  # a half-written archive never carries the final name
        return manifest
    except OSError as error:
        if work == path:
            shutil.rmtree(path, ignore_errors=True)
        raise BackupError(f"Cannot write the backup to {path}: {error.strerror or error}.")
    except BackupError:
        if work == path:
            shutil.rmtree(path, ignore_errors=True)
        raise
    finally:
        if work != path:
            shutil.rmtree(work, ignore_errors=True)
            if os.path.exists(path + ".partial"):
                os.remove(path + ".partial")


# ----------------------------------------------------------------------------- restore

def _open_backup(path, scratch):
    """The directory holding the backup's files (an archive is unpacked into scratch) and its manifest."""
    if not os.path.exists(path):
        raise BackupError(f"There is no backup at {path}.")
    if os.path.isdir(path):
        folder = path
    else:
        try:
            with tarfile.open(path, "r:*") as archive:
                archive.extractall(scratch, filter="data")
        except (tarfile.TarError, OSError, EOFError) as error:
            raise BackupError(f"{path} is not a readable backup archive ({error}).")
        folder = scratch
    try:
        with open(os.path.join(folder, MANIFEST), encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise BackupError(f"{path} is not a backup made by `flask backup`: it has no {MANIFEST}.")
    except (OSError, ValueError) as error:
        raise BackupError(f"{path}: {MANIFEST} cannot be read ({error}).")
    problems = [key for key in ("engine", "schema_version", "database", "files") if key not in manifest] \
        if isinstance(manifest, dict) else ["(not a JSON object)"]
    if problems:
        raise BackupError(f"{path}: {MANIFEST} is incomplete; missing {', '.join(problems)}.")
    return folder, manifest


def _verify(folder, manifest, path):
    """Check every file against its sha256 in the manifest; returns the number of media files."""
    problems = []
    for entry in manifest["files"]:
        name = entry.get("path", "")
        full = os.path.join(folder, *name.split("/"))
        if name.startswith("/") or ".." in name.split("/"):
            problems.append(f"{name}: not a path inside the backup")
        elif not os.path.isfile(full):
            problems.append(f"{name}: missing")
        elif sha256_of(full) != entry.get("sha256"):
            problems.append(f"{name}: sha256 does not match the manifest")
    if not any(entry.get("path") == manifest["database"] for entry in manifest["files"]):
        problems.append(f"{manifest['database']}: not listed in the manifest")
    if problems:
        raise BackupError(f"The backup at {path} is damaged; nothing was restored. " + "; ".join(problems))
    return sum(1 for entry in manifest["files"] if entry["path"].startswith(MEDIA + "/"))


def database_is_empty():
    """True when no table of the app holds a row (a freshly created schema counts as empty)."""
    from .models import ALL_MODELS, SchemaVersion

    with database.connection_context():
        tables = set(database.get_tables())
        for model in ALL_MODELS:
            if model is not SchemaVersion and model._meta.table_name in tables and model.select().exists():
                return False
    return True


def _restore_sqlite(backup_file, url):
    with sqlite3.connect(backup_file) as check:
        verdict = check.execute("PRAGMA integrity_check").fetchone()[0]
    check.close()
    if verdict != "ok":
        raise BackupError(f"The database in the backup failed SQLite's integrity check: {verdict}")
    target_path = sqlite_path(url)
    os.makedirs(os.path.dirname(os.path.abspath(target_path)), exist_ok=True)
    # Copying over a WAL database file would meet its stale -wal file; the backup API writes through
    # SQLite instead, in one transaction, so the target is either the old or the restored database.
    source = sqlite3.connect(backup_file)
    target = sqlite3.connect(target_path, timeout=30)
    try:
        source.backup(target)
        target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as error:
        raise BackupError(f"Could not restore into {target_path}: {error}. Stop the app and try again.")
    finally:
        target.close()
        source.close()


# While pg_restore loads the backup into a new, empty schema public, the data it replaces waits
# under this name; it is dropped once the load has committed, or renamed back if the load failed.
PREVIOUS_SCHEMA = "audit_before_restore"


def _schema_exists(name):
    return database.execute_sql("SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,)).fetchone() is not None


def _restore_postgresql(backup_file, url):
    _env, name = pg_environment(url)
    find_pg_tool("pg_restore")  # before anything is moved
    with database.connection_context():
        if _schema_exists(PREVIOUS_SCHEMA):
            raise BackupError(
                f"The database holds a schema {PREVIOUS_SCHEMA}: the data from before a restore that was "
                f"interrupted. Nothing was restored. If the data in schema public is the right one, drop it "
                f"(DROP SCHEMA {PREVIOUS_SCHEMA} CASCADE); if not, drop public and rename {PREVIOUS_SCHEMA} "
                f"to public. Then try again."
            )
        with database.atomic():
            if _schema_exists("public"):
                database.execute_sql(f"ALTER SCHEMA public RENAME TO {PREVIOUS_SCHEMA}")
            database.execute_sql("CREATE SCHEMA public")
    try:
        _run_pg_tool("pg_restore", ["--no-owner", "--no-acl", "--single-transaction", "--exit-on-error",
                                    f"--dbname={name}", backup_file], url)
    except BackupError as error:
        with database.connection_context(), database.atomic():
            database.execute_sql("DROP SCHEMA public CASCADE")
            if _schema_exists(PREVIOUS_SCHEMA):
                database.execute_sql(f"ALTER SCHEMA {PREVIOUS_SCHEMA} RENAME TO public")
            else:
                database.execute_sql("CREATE SCHEMA public")
        raise BackupError(f"{error.message}\nThe database was left as it was; nothing was restored.") from None
    with database.connection_context():
        database.execute_sql(f"DROP SCHEMA IF EXISTS {PREVIOUS_SCHEMA} CASCADE")


def _restore_media(folder, manifest, media_dir):
    for entry in manifest["files"]:
        if not entry["path"].startswith(MEDIA + "/"):
            continue
        relative = entry["path"][len(MEDIA) + 1:].split("/")
        destination = os.path.join(media_dir, *relative)
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        partial = destination + ".restoring"
        shutil.copyfile(os.path.join(folder, *entry["path"].split("/")), partial)
        os.replace(partial, destination)


def restore_backup(path, url, media_dir, force=False):
    """Bring the backup at path into the database at url and into media_dir; returns a summary."""
    from .migrations import LATEST, migrate_database

    engine = engine_of(url)
    with tempfile.TemporaryDirectory(prefix="audit-restore-") as scratch:
        folder, manifest = _open_backup(path, scratch)
        if manifest["engine"] != engine:
            raise BackupError(
                f"The backup at {path} is of a {manifest['engine']} database but DATABASE_URL points at "
                f"{engine}; restore it into a {manifest['engine']} database."
            )
        if type(manifest["schema_version"]) is not int or manifest["schema_version"] < 1:
            raise BackupError(
                f"The backup at {path} has no schema version ({manifest['schema_version']!r}), so it holds no "
                f"database made by the app; nothing was restored."
            )
        if manifest["schema_version"] > LATEST:
            raise BackupError(
                f"The backup has schema version {manifest['schema_version']}, newer than this version of the "
                f"app understands ({LATEST}); upgrade the app first."
            )
        media_count = _verify(folder, manifest, path)
        if not force and not database_is_empty():
            raise BackupError(
                "The database is not empty; restoring would replace its data. "
                "Restore into an empty database, or pass --force to replace it."
            )
        # Our own connection must be closed before the database underneath it is replaced.
        if not database.is_closed():
            database.close()
        backup_file = os.path.join(folder, manifest["database"])
        if engine == "sqlite":
            _restore_sqlite(backup_file, url)
        else:
            _restore_postgresql(backup_file, url)
        _restore_media(folder, manifest, media_dir)
        with database.connection_context():
            before, after = migrate_database()
    return {"manifest": manifest, "media_files": media_count, "schema_before": before, "schema_after": after}


# ----------------------------------------------------------------------------- commands

@click.command("backup")
@click.argument("path", type=click.Path())
@with_appcontext
@reports_database_errors
def backup_command(path):
    """Back up the database and MEDIA_DIR to PATH (a new directory, or a .tar.gz file) while the app runs."""
    config = current_app.config
    manifest = write_backup(path, config["DATABASE_URL"], config["MEDIA_DIR"])
    media = [f for f in manifest["files"] if f["path"].startswith(MEDIA + "/")]
    size = sum(f["size"] for f in manifest["files"])
    click.echo(
        f"Wrote a {manifest['engine']} backup at schema version {manifest['schema_version']} to {path}: "
        f"{manifest['database']} and {len(media)} media files, {size / 1024 / 1024:.1f} MB in all."
    )


@click.command("restore")
@click.argument("path", type=click.Path())
@click.option("--force", is_flag=True, help="Replace the data of a database that is not empty.")
@with_appcontext
@reports_database_errors
def restore_command(path, force):
    """Restore a backup made by `flask backup` into the configured database and MEDIA_DIR."""
    config = current_app.config
    summary = restore_backup(path, config["DATABASE_URL"], config["MEDIA_DIR"], force=force)
    manifest = summary["manifest"]
    click.echo(f"Verified the database file and {summary['media_files']} media files against the "
               f"manifest (sha256): all match.")
    click.echo(f"Restored the {manifest['engine']} backup of {manifest['created_at']} into the database "
               f"and {summary['media_files']} media files into {config['MEDIA_DIR']}.")
    if summary["schema_before"] != summary["schema_after"]:
        click.echo(f"Upgraded the restored database from schema version {summary['schema_before']} "
                   f"to {summary['schema_after']}.")
