"""The operator's commands: a mistake (a mistyped setting, a database that is away, a catalog that
exists) ends in one line that says what to fix and a non-zero exit, never a traceback, and changes
nothing."""
import os
import shutil
import subprocess
import sys

import pytest

from audit import ROOT, create_app

FLASK = os.path.join(os.path.dirname(sys.executable), "flask")
# The settings a test gives a command; the rest of the environment passes through.
SETTINGS = ("AUDIT_DEMO", "SECRET_KEY", "DATABASE_URL", "MEDIA_DIR", "REDIS_URL", "RATELIMIT_STORAGE_URI")


def _run(command, tmp_path, timeout=120, **settings):
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS}
    env.update(AUDIT_INSTANCE=str(tmp_path / "instance"), SECRET_KEY="s" * 40, MEDIA_DIR=str(tmp_path / "media"),
               DATABASE_URL=f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    env.update(settings)
    env = {key: value for key, value in env.items() if value is not None}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def _flask(tmp_path, *args, **settings):
    return _run([FLASK, "--app", "app", *args], tmp_path, **settings)


@pytest.fixture
def catalogs(tmp_path):
    """A copy of the template and of the Hungarian catalog, for `translate` to work on."""
    folder = tmp_path / "translations"
    (folder / "hu" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(os.path.join(ROOT, "translations", "messages.pot"), folder)
    shutil.copy(os.path.join(ROOT, "translations", "hu", "LC_MESSAGES", "messages.po"), folder / "hu" / "LC_MESSAGES")
    return folder


@pytest.fixture
def translate(app_config, catalogs):
    runner = create_app(dict(app_config, BABEL_TRANSLATION_DIRECTORIES=str(catalogs))).test_cli_runner()
    return lambda *args: runner.invoke(args=["translate", *args])


def test_translate_init_refuses_to_replace_an_existing_catalog(translate, catalogs):
    catalog = catalogs / "hu" / "LC_MESSAGES" / "messages.po"
    translated = catalog.read_bytes()
    result = translate("init", "hu")
    assert result.exit_code == 1
    assert result.output == (f"Error: {catalog} exists already; `init` would replace its translations with empty "
                             f"ones. Use `flask translate update` to add new strings to it.\n")
    assert catalog.read_bytes() == translated


def test_translate_init_of_an_unknown_language_says_so(translate, catalogs):
    result = translate("init", "xx")
    assert result.exit_code == 1
    assert result.output == "Error: 'xx' is not a language code Babel knows (e.g. de, fr, pt_BR).\n"
    assert sorted(os.listdir(catalogs)) == ["hu", "messages.pot"]


def test_translate_init_starts_the_catalog_of_a_new_language(translate, catalogs):
    result = translate("init", "de")
    assert result.exit_code == 0, result.output
    assert 'msgid "The service is busy for a moment. Nothing was lost; please try again."' in \
        (catalogs / "de" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")


def test_demo_data_is_not_loaded_outside_a_local_demo(tmp_path):
    """Its accounts all sign in with the password printed in the README."""
    result = _flask(tmp_path, "demo", "--if-empty")
    assert result.returncode == 1
    assert ("Error: The demo data's accounts all share the published password, so they are loaded only into a "
            "local demo: set AUDIT_DEMO=1 (as `make run` does). Nothing was loaded.") in result.stderr
    assert not (tmp_path / "audit.sqlite3").exists()


def test_a_database_url_the_app_cannot_use_is_refused_without_printing_its_password(tmp_path):
    result = _flask(tmp_path, "init-db", DATABASE_URL="postgresql+psycopg2://audit:S3cretPW@db:5432/audit")
    assert result.returncode != 0
    assert result.stderr.startswith("Configuration error: DATABASE_URL must start with sqlite:/// or postgresql://, "
                                    "not postgresql+psycopg2://... (e.g.")
    assert "S3cretPW" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["init-db"], ["backup", "BACKUP"], ["checklists", "load"]])
def test_a_database_server_that_is_away_is_named_in_one_line(tmp_path, command):
    backup = tmp_path / "nightly"
    result = _flask(tmp_path, *[str(backup) if part == "BACKUP" else part for part in command],
                    DATABASE_URL="postgresql://audit:S3cretPW@127.0.0.1:1/audit")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: The database (DATABASE_URL) cannot be used: connection ")
    assert result.stderr.endswith("Check that its server runs, that DATABASE_URL names it, and that its disk has room.\n")
    assert "S3cretPW" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not backup.exists()


def test_a_media_dir_that_cannot_be_made_stops_the_commands_in_one_line(tmp_path):
    (tmp_path / "a-file").write_text("x")
    result = _flask(tmp_path, "init-db", MEDIA_DIR=str(tmp_path / "a-file" / "media"))
    assert result.returncode != 0
    assert result.stderr == (f"Configuration error: MEDIA_DIR: the folder {tmp_path}/a-file/media cannot be "
                             f"created (Not a directory).\n")
    assert not (tmp_path / "audit.sqlite3").exists()


def test_the_worker_without_a_secret_key_says_so_in_one_line(tmp_path):
    result = _run([sys.executable, "-m", "audit.worker"], tmp_path, SECRET_KEY=None)
    assert result.returncode == 1
    assert result.stderr.startswith("Configuration error: SECRET_KEY is not set.")
    assert "Traceback" not in result.stderr


def test_gunicorn_without_a_secret_key_stops_with_the_message(tmp_path):
    """The README's production line: each worker prints the message alone and tells gunicorn's master
    that the app cannot load, so the master stops instead of starting new workers forever."""
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    result = _run([gunicorn, "-w", "2", "-b", "127.0.0.1:0", "--no-control-socket", "app:app"], tmp_path,
                  timeout=60, SECRET_KEY=None)
    assert result.returncode != 0
    assert "Configuration error: SECRET_KEY is not set." in result.stderr
    assert "App failed to load." in result.stderr
    assert "ConfigError" not in result.stderr  # no traceback of the app's


def test_the_commands_are_listed_without_a_secret_key_and_none_runs_without_one(tmp_path):
    """`flask --help` is how an operator finds the commands before configuring anything: it said
    only that SECRET_KEY was not set. A command itself still needs the key."""
    listed = _flask(tmp_path, "--help", SECRET_KEY=None)
    assert listed.returncode == 0, listed.stderr
    assert all(command in listed.stdout for command in ("init-db", "backup", "restore", "create-auditor", "checklists"))
    as_module = _run([sys.executable, "-m", "flask", "--app", "app", "--help"], tmp_path, SECRET_KEY=None)
    assert as_module.returncode == 0 and "init-db" in as_module.stdout, as_module.stderr
    options = _flask(tmp_path, "init-db", "--help", SECRET_KEY=None)
    assert options.returncode == 0 and "Usage: flask init-db" in options.stdout
    assert not (tmp_path / "audit.sqlite3").exists()
    refused = _flask(tmp_path, "init-db", SECRET_KEY=None)
    assert refused.returncode != 0 and refused.stderr.startswith("Configuration error: SECRET_KEY is not set.")
    assert not (tmp_path / "audit.sqlite3").exists()
