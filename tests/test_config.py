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


def test_unknown_database_url_is_named_in_the_error(tmp_path):
    with pytest.raises(ValueError, match="DATABASE_URL must start with"):
        create_app({"SECRET_KEY": "x", "DATABASE_URL": "mysql://db/audit", "MEDIA_DIR": str(tmp_path)})


@pytest.mark.parametrize("name,value", [("PROXY_COUNT", "two"), ("SESSION_HOURS", "-1"), ("MAX_UPLOAD_MB", "1.5")])
def test_a_number_setting_with_a_typo_stops_the_start_and_is_named(monkeypatch, tmp_path, name, value):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"{name} must be a whole number of 0 or more, not '{value}'"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "MEDIA_DIR": str(tmp_path / "media")})


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
    assert result.returncode == 1
    assert "Configuration error: SESSION_HOURS must be a whole number of 0 or more, not 'abc'." in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.sqlite3").exists()  # nothing was created
