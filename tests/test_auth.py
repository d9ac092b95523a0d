"""Signing in and out: argon2 hashes, rate limits, CSRF, sessions and the messages users see."""
import re

import pytest

from audit.db import database
from audit.models import User
from conftest import PASSWORD, csrf_from, login


def test_passwords_are_stored_as_argon2id_hashes(app, org):
    with app.app_context(), database.connection_context():
        stored = User.get_by_id(org["users"]["shopper"].id).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_right_password_signs_in_and_lands_on_the_role_home(client, org):
    response = login(client, "manager@example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"


@pytest.mark.parametrize(
    "email,password",
    [("manager@example.com", "wrong password"), ("nobody@example.com", PASSWORD), ("", "")],
)
def test_wrong_credentials_are_refused_with_a_message(client, org, email, password):
    response = login(client, email, password)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "The e-mail or password is not right." in text or "This field is required." in text
    assert client.get("/dashboard/").status_code == 302  # still signed out


def test_refusal_message_is_in_the_browser_language(client, org):
    client.get("/login", headers={"Accept-Language": "hu"})
    page = client.get("/login", headers={"Accept-Language": "hu"})
    response = client.post(
        "/login",
        data={"email": "manager@example.com", "password": "nope", "csrf_token": csrf_from(page)},
        headers={"Accept-Language": "hu"},
    )
    assert 'lang="hu"' in response.get_data(as_text=True)
    assert "The e-mail or password is not right." not in response.get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client, org):
    response = client.post("/login", data={"email": "manager@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/dashboard/").status_code == 302


def test_disabled_account_cannot_sign_in(app, client, org):
    with app.app_context(), database.connection_context():
        User.update(is_enabled=False).where(User.email == "manager@example.com").execute()
    response = login(client, "manager@example.com")
    assert response.status_code == 200
    assert "The e-mail or password is not right." in response.get_data(as_text=True)


def test_disabling_an_account_ends_its_open_session(app, login_as, org):
    client = login_as("manager")
    assert client.get("/dashboard/").status_code == 200
    with app.app_context(), database.connection_context():
        user = User.get_by_id(org["users"]["manager"].id)
        user.is_enabled = False
        user.session_epoch += 1
        user.save()
    assert client.get("/dashboard/").status_code == 302


def test_logout_needs_post_with_csrf_and_ends_the_session(login_as):
    client = login_as("manager")
    with client.session_transaction() as saved:
        stolen = dict(saved)  # a copy of the cookie's content, as an attacker might keep it
    assert client.get("/logout").status_code == 405
    page = client.get("/dashboard/")
    assert client.post("/logout", data={}).status_code == 400  # no token: refused
    assert client.get("/dashboard/").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_from(page)}).status_code == 302
    assert client.get("/dashboard/").status_code == 302
    with client.session_transaction() as replay:
        replay.update(stolen)
    assert client.get("/dashboard/").status_code == 302  # the old session cookie no longer works


def test_login_issues_a_new_session_cookie(client, org):
    client.get("/login")
    before = client.get_cookie("audit_session").value
    login(client, "manager@example.com")
    after = client.get_cookie("audit_session").value
    assert before != after


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_login_never_redirects_off_site(client, org, target):
    page = client.get("/login")
    response = client.post(
        "/login?next=" + target,
        data={"email": "manager@example.com", "password": PASSWORD, "csrf_token": csrf_from(page)},
    )
    assert response.headers["Location"] == "/dashboard/"


@pytest.mark.parametrize("target", ["/dashboard/%0D%0ASet-Cookie:%20x=1", "/x%0Ay", "/x%09y"])
def test_a_next_address_with_a_line_break_signs_in_and_goes_home_instead_of_failing(client, org, target):
    page = client.get("/login")
    response = client.post(
        "/login?next=" + target,
        data={"email": "manager@example.com", "password": PASSWORD, "csrf_token": csrf_from(page)},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/"
    assert "Set-Cookie: x" not in str(response.headers) and "x=1" not in str(response.headers.getlist("Set-Cookie"))
    changed = client.post("/language", data={"language": "hu", "next": "/x\r\nSet-Cookie: a=b",
                                             "csrf_token": csrf_from(client.get("/dashboard/"))})
    assert changed.status_code == 302 and changed.headers["Location"] == "/"


def test_login_is_rate_limited(app_config, org):
    from audit import create_app

    limited = create_app(dict(app_config, RATELIMIT_ENABLED=True))
    client = limited.test_client()
    token = csrf_from(client.get("/login"))
    codes = [
        client.post("/login", data={"email": "manager@example.com", "password": "bad", "csrf_token": token}).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [200] * 10
    assert codes[10] == 429
    assert "Too many attempts" in client.post("/login", data={"csrf_token": token}).get_data(as_text=True)
    # The right password does not get through while the address is blocked.
    blocked = client.post("/login", data={"email": "manager@example.com", "password": PASSWORD, "csrf_token": token})
    assert blocked.status_code == 429
    # Only sign-in attempts are counted, per address: the form still shows, and another address may try.
    assert client.get("/login").status_code == 200
    other = limited.test_client()
    other_token = csrf_from(other.get("/login", environ_base={"REMOTE_ADDR": "10.0.0.2"}))
    signed_in = other.post("/login", environ_base={"REMOTE_ADDR": "10.0.0.2"},
                           data={"email": "manager@example.com", "password": PASSWORD, "csrf_token": other_token})
    assert signed_in.status_code == 302


def test_one_account_is_limited_however_many_addresses_guess_its_password(app_config, org):
    """Each address keeps to its own limit; an account's failed sign-ins are counted whatever address
    they come from, and past ACCOUNT_SIGN_IN_LIMIT even the right password waits (another account
    does not)."""
    from audit import create_app

    limited = create_app(dict(app_config, RATELIMIT_ENABLED=True, ACCOUNT_SIGN_IN_LIMIT="5 per 15 minutes"))

    def attempt(address, email, password):
        client = limited.test_client()
        token = csrf_from(client.get("/login", environ_base={"REMOTE_ADDR": address}))
        return client.post("/login", environ_base={"REMOTE_ADDR": address},
                           data={"email": email, "password": password, "csrf_token": token})

    assert [attempt(f"203.0.113.{n}", "Manager@Example.com ", "bad").status_code for n in range(5)] == [200] * 5
    blocked = attempt("203.0.113.99", "manager@example.com", PASSWORD)
    assert blocked.status_code == 429
    assert "Too many failed sign-ins for this account: please try again in 15 minutes." in blocked.get_data(as_text=True)
    assert attempt("203.0.113.98", "auditor@example.com", PASSWORD).status_code == 302


def _sign_in_codes(client, forwarded_for, attempts):
    token = csrf_from(client.get("/login", headers={"X-Forwarded-For": forwarded_for}))
    return [client.post("/login", headers={"X-Forwarded-For": forwarded_for},
                        data={"email": "manager@example.com", "password": "bad", "csrf_token": token}).status_code
            for _ in range(attempts)]


def test_behind_a_proxy_the_sign_in_limit_counts_each_client_address(app_config, org):
    from audit import create_app

    proxied = create_app(dict(app_config, RATELIMIT_ENABLED=True, PROXY_COUNT=1))
    # Every request arrives from the proxy's address; the client's is the one the proxy forwards.
    assert _sign_in_codes(proxied.test_client(), "203.0.113.7", 11)[-1] == 429
    assert _sign_in_codes(proxied.test_client(), "203.0.113.8", 1) == [200]  # another phone is not locked out
    # A client that writes the header itself cannot pass as someone else: only the proxy's hop counts.
    assert _sign_in_codes(proxied.test_client(), "198.51.100.1, 203.0.113.7", 1) == [429]


def test_without_a_proxy_a_forged_forwarded_for_does_not_dodge_the_limit(app_config, org):
    from audit import create_app

    direct = create_app(dict(app_config, RATELIMIT_ENABLED=True))
    codes = [_sign_in_codes(direct.test_client(), f"198.51.100.{n}", 1)[0] for n in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429


def test_what_a_signed_in_person_sees_is_kept_by_no_cache(app, login_as):
    """A dashboard, a report or an export stays off shared caches and off a shared computer's disk;
    the sign-in page and versioned static files keep their own rules."""
    manager = login_as("manager")
    for path in ("/dashboard/", "/reports/export.csv?kind=visits"):
        response = manager.get(path)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store", path
    assert "no-store" not in app.test_client().get("/login").headers.get("Cache-Control", "")
    css = re.search(r'href="(/static/app\.css\?v=\w+)"', manager.get("/dashboard/").get_data(as_text=True)).group(1)
    assert "immutable" in manager.get(css).headers["Cache-Control"]


def test_security_headers_on_every_page(client, org):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # plain http in tests: no HSTS
    for path in ("/static/app.js", "/nothing-here"):  # static files and error pages too, once each
        other = client.get(path)
        assert [other.headers.get_all(name) for name in ("Content-Security-Policy", "X-Frame-Options")] == [
            [csp], ["DENY"]], path


def test_a_view_may_set_its_own_security_header_and_https_adds_hsts(app_config, org):
    from flask import make_response

    from audit import create_app

    app = create_app(dict(app_config, SESSION_COOKIE_SECURE=True))

    @app.get("/framed")
    def framed():
        response = make_response("framed")
        response.headers["x-frame-options"] = "SAMEORIGIN"  # any spelling of the name
        return response

    response = app.test_client().get("/framed")
    assert response.headers.get_all("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_flags_in_production(app_config, tmp_path):
    from audit import create_app

    config = dict(app_config, SESSION_COOKIE_SECURE=True)
    app = create_app(config)
    response = app.test_client().get("/login", base_url="https://audit.example")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert re.search(r"audit_session=", cookie)


def test_an_idle_session_ends_and_so_does_an_old_one(app, login_as, org):
    client = login_as("manager")
    assert client.get("/dashboard/").status_code == 200
    with client.session_transaction() as session:
        session["seen_at"] -= app.config["SESSION_IDLE_MINUTES"] * 60 + 5
    assert client.get("/dashboard/").status_code == 302  # idle too long: signed out
    client = login_as("manager")
    with client.session_transaction() as session:
        session["signed_in_at"] -= int(app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()) + 5
    assert client.get("/dashboard/").status_code == 302  # signed in too long ago
    assert client.get("/dashboard/").status_code == 302  # and the session is gone on the server side too


def test_the_api_names_a_stale_csrf_token_so_the_phone_can_retry(app, login_as, org):
    client = login_as("shopper")
    response = client.post("/api/v1/visits/00000000-0000-0000-0000-000000000000/submission", json={"answers": {}},
                           headers={"X-CSRFToken": "stale"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf"


def test_the_session_cookie_is_rewritten_only_when_the_session_changes(app, login_as, org):
    client = login_as("manager")
    client.get("/dashboard/")
    # Within the minute, pages do not send the cookie again (no signing and compressing per request)...
    assert "Set-Cookie" not in client.get("/dashboard/").headers
    with client.session_transaction() as session:
        session["seen_at"] -= 61
        seen = session["seen_at"]
    # ...but once a minute of activity has passed, the new time is written and the session kept alive.
    response = client.get("/dashboard/")
    assert response.status_code == 200 and "audit_session=" in response.headers["Set-Cookie"]
    with client.session_transaction() as session:
        assert session["seen_at"] > seen


def test_session_keys_can_be_rotated_and_a_changed_key_takes_effect_at_once(app, login_as):
    """Sessions are signed with SECRET_KEY; a key moved to SECRET_KEY_FALLBACKS still opens the cookies
    signed with it, and a key that is gone opens nothing (the signer is kept per set of keys)."""
    shopper = login_as("shopper")
    cookie = shopper.get_cookie("audit_session").value

    def status_with(secret, fallbacks):
        app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = secret, fallbacks
        fresh = app.test_client()
        fresh.set_cookie("audit_session", cookie)
        return fresh.get("/visits/").status_code

    assert status_with("test-secret", []) == 200
    assert status_with("rotated-secret", ["test-secret"]) == 200
    assert status_with("rotated-secret", []) == 302  # to the sign-in page
    assert status_with("test-secret", []) == 200


# -- changing one's own password --------------------------------------------------------------------


NEW_PASSWORD = "a-new-long-password"


def _change(client, current, new, repeated=None, **kwargs):
    token = csrf_from(client.get("/account/password"))
    return client.post("/account/password", data={"current": current, "password": new,
                                                   "repeated": new if repeated is None else repeated,
                                                   "csrf_token": token}, **kwargs)


@pytest.mark.parametrize("role", ["shopper", "manager", "auditor"])
def test_anyone_changes_their_password_and_their_other_sessions_end(app, org, login_as, role):
    here, elsewhere = login_as(role), login_as(role)

    response = _change(here, PASSWORD, NEW_PASSWORD, follow_redirects=True)

    assert "Your password is changed. Wherever else you were signed in, you are signed out." in response.get_data(
        as_text=True)
    assert here.get("/account/password").status_code == 200  # this session goes on
    assert elsewhere.get("/account/password").status_code == 302  # the other one has ended
    email = org["users"][role].email
    assert login(app.test_client(), email, PASSWORD).status_code == 200  # refused: the old one is gone
    assert login(app.test_client(), email, NEW_PASSWORD).status_code == 302
    with app.app_context(), database.connection_context():
        from audit.models import AuditEntry
        assert AuditEntry.get(AuditEntry.action == "user.password_changed").target == email


@pytest.mark.parametrize("current,new,repeated,message", [
    ("not-my-password", NEW_PASSWORD, None, "This is not your current password."),
    (PASSWORD, "short", None, "The password must be at least 10 characters long."),
    (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "The two passwords differ. Type the same password twice."),
    ("", NEW_PASSWORD, None, "This field is required."),
], ids=["wrong current", "too short", "typed differently", "no current"])
def test_a_password_change_that_cannot_be_made_says_why_and_changes_nothing(app, org, login_as, current, new,
                                                                         repeated, message):
    client = login_as("shopper")
    with app.app_context(), database.connection_context():
        before = User.get_by_id(org["users"]["shopper"].id)

    response = _change(client, current, new, repeated)

    assert response.status_code == 200 and message in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        after = User.get_by_id(org["users"]["shopper"].id)
    assert (after.password_hash, after.session_epoch) == (before.password_hash, before.session_epoch)
    assert client.get("/account/password").status_code == 200


def test_a_password_change_needs_the_pages_token_and_a_session(app, org, login_as):
    client = login_as("shopper")
    refused = client.post("/account/password", data={"current": PASSWORD, "password": NEW_PASSWORD,
                                                      "repeated": NEW_PASSWORD})
    assert refused.status_code == 400
    anonymous = app.test_client()
    assert anonymous.get("/account/password").status_code == 302
    assert login(app.test_client(), "shopper@example.com", PASSWORD).status_code == 302


def test_an_open_session_is_no_way_to_guess_the_password(app_config, org):
    """Wrong current passwords count as failed sign-ins of the account: past the limit even the right
    one waits."""
    from audit import create_app

    limited = create_app(dict(app_config, RATELIMIT_ENABLED=True, ACCOUNT_SIGN_IN_LIMIT="3 per 15 minutes"))
    client = limited.test_client()
    assert login(client, "shopper@example.com").status_code == 302
    assert [_change(client, f"guess-{n}", NEW_PASSWORD).status_code for n in range(3)] == [200] * 3
    blocked = _change(client, PASSWORD, NEW_PASSWORD)
    assert blocked.status_code == 429
    assert "Too many failed sign-ins for this account" in blocked.get_data(as_text=True)
    assert login(limited.test_client(), "shopper@example.com", NEW_PASSWORD).status_code != 302


def test_the_loser_of_two_password_changes_at_once_is_told_and_signed_out(app, org, login_as, monkeypatch):
    """Both passed the current password; the other one's change landed first (set_password's
    conditional write found the account changed): a bare '409 Conflict' page in English before."""
    from audit import password_links

    client = login_as("shopper")
    monkeypatch.setattr(password_links, "set_password", lambda user, password: False)
    response = _change(client, PASSWORD, NEW_PASSWORD, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.request.path == "/login"
    assert "Your password was changed meanwhile, in another window: sign in with the new one." in page
    assert client.get("/account/password").status_code == 302


def test_a_background_fetch_sent_to_sign_in_leaves_the_sign_in_form_open_meanwhile_valid(client, org):
    """The phone's service worker refreshes its kept pages in the background; after the session ended,
    each was sent to the sign-in page with "Please sign in", a flash that rewrote the session cookie:
    the sign-in form the shopper had open at that moment was refused as expired (its CSRF token was in
    the cookie replaced), and the shopper had to sign in twice. A fetch that is no navigation gets its
    redirect and no new cookie; a person who opens the page is still told why they see the form."""
    background = client.get("/visits/", headers={"Sec-Fetch-Mode": "same-origin"})
    assert background.status_code == 302 and background.headers["Location"].startswith("/login")
    assert "Set-Cookie" not in background.headers
    opened = client.get("/visits/", headers={"Sec-Fetch-Mode": "navigate"})
    assert opened.status_code == 302 and "Set-Cookie" in opened.headers
    assert "Please sign in to see this page." in client.get(opened.headers["Location"]).get_data(as_text=True)
    # The form open before a background fetch still signs in after it.
    fresh = org["users"]["shopper"]
    other = client.application.test_client()
    token = csrf_from(other.get("/login"))
    assert other.get("/visits/", headers={"Sec-Fetch-Mode": "same-origin"}).status_code == 302
    signed_in = other.post("/login", data={"email": fresh.email, "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302 and "/login" not in signed_in.headers["Location"]
