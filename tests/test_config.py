import pytest

from audit import create_app
from audit.config import ConfigError


def test_app_refuses_to_start_without_secret_key_outside_demo(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("AUDIT_DEMO", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app()


def test_demo_mode_starts_without_secret_key_and_reads_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("AUDIT_DEMO", "1")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    app = create_app()
    assert app.config["DATABASE_URL"].endswith("demo.sqlite3")
    assert app.config["MEDIA_DIR"] == str(tmp_path / "media")
    assert app.config["SESSION_COOKIE_SECURE"] is False  # plain http on the laptop


def test_production_settings_have_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.delenv("AUDIT_DEMO", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.sqlite3'}")
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize("url, named", [
    ("mysql://audit:S3cretPW@db/audit", "mysql://..."),
    ("postgresql+psycopg2://audit:S3cretPW@db:5432/audit", "postgresql+psycopg2://..."),
    ("sqlite://audit.sqlite3", "sqlite://..."),
    ("audit.sqlite3", "a value without a scheme"),
])
def test_an_unusable_database_url_is_named_without_its_password(tmp_path, url, named):
    with pytest.raises(ConfigError) as refused:
        create_app({"SECRET_KEY": "x", "DATABASE_URL": url, "MEDIA_DIR": str(tmp_path)})
    assert f"DATABASE_URL must start with sqlite:/// or postgresql://, not {named} (e.g." in str(refused.value)
    assert "S3cretPW" not in str(refused.value)


@pytest.mark.parametrize("name,value,minimum", [
    ("PROXY_COUNT", "two", 0), ("PROXY_COUNT", "-1", 0), ("SESSION_HOURS", "-1", 1), ("MAX_UPLOAD_MB", "1.5", 1),
])
def test_a_number_setting_with_a_typo_stops_the_start_and_is_named(monkeypatch, tmp_path, name, value, minimum):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"{name} must be a whole number of {minimum} or more, not '{value}'"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "MEDIA_DIR": str(tmp_path / "media")})


@pytest.mark.parametrize("name,value,minimum", [
    ("MAX_UPLOAD_MB", "0", 1),              # every POST, sign-in too, would be "too large"
    ("SESSION_HOURS", "0", 1),              # every session would end at once: a sign-in loop
    ("SESSION_IDLE_MINUTES", "0", 1),
    ("ARGON2_TIME_COST", "0", 1),           # no password could be set
    ("ARGON2_MEMORY_KIB", "31", 32),        # argon2's least: 8 KiB for each of the 4 lanes
    ("JOB_FILES_KEEP_DAYS", "0", 1),        # a job's file could go a minute after it was made
])
def test_a_number_setting_below_what_works_stops_the_start_and_names_the_least(
        monkeypatch, tmp_path, name, value, minimum):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"^{name} must be a whole number of {minimum} or more, not '{value}'.$"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "MEDIA_DIR": str(tmp_path / "media")})


def test_the_least_argon2_memory_hashes_passwords(monkeypatch, tmp_path):
    from audit.security import hash_password

    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("ARGON2_MEMORY_KIB", "32")
    monkeypatch.setenv("ARGON2_TIME_COST", "1")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "MEDIA_DIR": str(tmp_path / "media")})
    with app.app_context():
        assert hash_password("correct horse battery").startswith("$argon2id$v=19$m=32,t=1,p=4$")


@pytest.mark.parametrize("value", ["maybe", "enabled", "ture", "2"])
def test_an_on_off_setting_with_an_unknown_word_stops_the_start(monkeypatch, tmp_path, value):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.delenv("AUDIT_DEMO", raising=False)
    monkeypatch.setenv("SESSION_COOKIE_SECURE", value)
    with pytest.raises(ConfigError, match=f"^SESSION_COOKIE_SECURE must be one of 1, true, yes, on \\(on\\) or "
                                          f"0, false, no, off \\(off\\), not '{value}'.$"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "MEDIA_DIR": str(tmp_path / "media")})


@pytest.mark.parametrize("value, secure", [("On", True), (" yes ", True), ("0", False), ("off", False), ("", True)])
def test_an_on_off_setting_reads_the_usual_words(monkeypatch, tmp_path, value, secure):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.delenv("AUDIT_DEMO", raising=False)
    monkeypatch.setenv("SESSION_COOKIE_SECURE", value)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "MEDIA_DIR": str(tmp_path / "media")})
    assert app.config["SESSION_COOKIE_SECURE"] is secure  # empty: as if unset, on in production


def test_a_media_dir_that_cannot_be_made_stops_the_start_and_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ConfigError, match=f"^MEDIA_DIR: the folder {tmp_path}/a-file/media cannot be created"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "MEDIA_DIR": str(tmp_path / "a-file" / "media")})


def test_an_unknown_sign_in_storage_stops_the_start_without_its_password(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "bogus://user:S3cretPW@x")
    with pytest.raises(ConfigError) as refused:
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "MEDIA_DIR": str(tmp_path / "media")})
    assert str(refused.value) == ("RATELIMIT_STORAGE_URI must name a storage the app can use (memory://, or "
                                  "redis://host:6379 with several processes), not bogus://....")


def test_proxy_count_puts_the_proxy_fix_in_front(monkeypatch, tmp_path):
    from werkzeug.middleware.proxy_fix import ProxyFix

    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PROXY_COUNT", "2")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "MEDIA_DIR": str(tmp_path / "media")})
    assert isinstance(app.wsgi_app, ProxyFix) and app.wsgi_app.x_for == 2 and app.wsgi_app.x_proto == 2


def test_a_sign_in_limit_with_a_typo_stops_the_start_and_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "ten a minute")
    with pytest.raises(ConfigError, match="LOGIN_RATE_LIMIT must read like '10 per minute', not 'ten a minute'"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "MEDIA_DIR": str(tmp_path / "media")})


def test_a_bad_setting_stops_the_flask_commands_with_its_message_and_no_traceback(tmp_path):
    import os
    import subprocess
    import sys

    from audit import ROOT

    env = {key: value for key, value in os.environ.items() if key != "AUDIT_DEMO"}
    env.update(SECRET_KEY="x" * 32, SESSION_HOURS="abc", DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3",
               MEDIA_DIR=str(tmp_path / "media"), AUDIT_INSTANCE=str(tmp_path / "instance"))
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    result = subprocess.run([flask, "--app", "app", "init-db"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    assert "Configuration error: SESSION_HOURS must be a whole number of 1 or more, not 'abc'." in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.sqlite3").exists()  # nothing was created


def test_an_instance_folder_that_cannot_be_made_stops_the_start_and_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    (tmp_path / "a-file").write_text("x")
    monkeypatch.setenv("AUDIT_INSTANCE", str(tmp_path / "a-file" / "instance"))
    with pytest.raises(ConfigError, match=f"^AUDIT_INSTANCE: the folder {tmp_path}/a-file/instance cannot be created"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "MEDIA_DIR": str(tmp_path / "media")})


@pytest.mark.parametrize("url", ["garbage", "http://cache:6379/0", "localhost:6379"])
def test_a_redis_url_the_queue_cannot_use_stops_the_start_in_one_line(tmp_path, url):
    with pytest.raises(ConfigError, match=r"^REDIS_URL must start with redis://, rediss:// or unix://") as refused:
        create_app({"SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}",
                    "MEDIA_DIR": str(tmp_path / "media"), "REDIS_URL": url})
    assert "\n" not in str(refused.value)


def test_a_database_port_that_is_no_number_stops_the_start_in_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("DATABASE_URL", "postgresql://audit:S3cretPW@127.0.0.1:notaport/audit")
    with pytest.raises(ConfigError) as refused:
        create_app()
    assert str(refused.value) == ("DATABASE_URL's port must be a number from 1 to 65535 (e.g. "
                                  "postgresql://user:password@host:5432/audit).")
