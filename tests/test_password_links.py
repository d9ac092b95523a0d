"""Links to set a password: the auditor invites a new shopper, or helps one who forgot theirs, without
ever knowing the password; a link works once, for a week, and never for a closed account."""
import re

import pytest

from audit import password_links
from audit.db import database
from audit.models import AuditEntry, User
from conftest import PASSWORD, csrf_from, hidden_fields_from, login

NEW_PASSWORD = "a-new-long-password"


def _link_of(page):
    found = re.search(r'id="password-link" type="text" readonly value="http://localhost(/password/[^"]+)"',
                      page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)[:2000]
    return found.group(1)


def _set(client, link, password, repeated=None):
    return client.post(link, data={"password": password, "repeated": password if repeated is None else repeated,
                                   "csrf_token": csrf_from(client.get(link))})


def test_a_new_account_without_a_password_gets_an_invitation_link(app, org, login_as):
    auditor = login_as("auditor")
    form = auditor.get("/admin/users/new")
    created = auditor.post("/admin/users/new", data={
        "name": "Nina Newshopper", "email": "nina@example.com", "role": "shopper", "language": "",
        "password": "", "is_enabled": "y", **hidden_fields_from(form)})
    assert created.status_code == 200 and "Account saved." in created.get_data(as_text=True)
    link = _link_of(created)
    with app.app_context(), database.connection_context():
        nina = User.get(User.email == "nina@example.com")
        assert nina.password_hash  # one nobody knows: nothing to sign in with yet
        assert AuditEntry.get(AuditEntry.action == "user.password_link").target == "nina@example.com"
    assert login(app.test_client(), "nina@example.com", "").status_code == 200  # no way in without the link

    visitor = app.test_client()
    page = visitor.get(link)
    assert page.status_code == 200 and "nina@example.com" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    # Mistakes are said beside the fields, in the visitor's language, and change nothing.
    for password, repeated, message in (("short", "short", "The password must be at least 10 characters long."),
                                        (NEW_PASSWORD, NEW_PASSWORD + "x", "The two passwords differ.")):
        refused = _set(visitor, link, password, repeated)
        assert refused.status_code == 200 and message in refused.get_data(as_text=True)
    assert visitor.post(link, data={"password": NEW_PASSWORD, "repeated": NEW_PASSWORD}).status_code == 400  # CSRF
    with app.app_context(), database.connection_context():
        assert User.get(User.email == "nina@example.com").password_hash == nina.password_hash
    done = _set(visitor, link, NEW_PASSWORD)
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert login(app.test_client(), "nina@example.com", NEW_PASSWORD).status_code == 302
    with app.app_context(), database.connection_context():
        entry = AuditEntry.get(AuditEntry.action == "user.password_set")
        assert (entry.actor_id, entry.target) == (nina.id, "nina@example.com")
    # Once only: the link is spent with the password it set.
    again = app.test_client().get(link)
    assert again.status_code == 410 and "This link no longer works" in again.get_data(as_text=True)
    assert _set(app.test_client(), link, "another-long-password").status_code in (400, 410)


def test_a_forgotten_password_link_signs_the_account_out_everywhere(app, org, login_as):
    shopper_phone = login_as("shopper")
    assert shopper_phone.get("/visits/").status_code == 200
    auditor = login_as("auditor")
    shopper = org["users"]["shopper"]
    account_page = auditor.get(f"/admin/users/{shopper.id}")
    assert "Make a link to set a new password" in account_page.get_data(as_text=True)
    made = auditor.post(f"/admin/users/{shopper.id}/password-link", data={"csrf_token": csrf_from(account_page)})
    link = _link_of(made)
    # The old password works until the link is used.
    assert login(app.test_client(), shopper.email, PASSWORD).status_code == 302
    assert _set(app.test_client(), link, NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), shopper.email, PASSWORD).status_code == 200  # refused now
    assert login(app.test_client(), shopper.email, NEW_PASSWORD).status_code == 302
    assert shopper_phone.get("/visits/").status_code == 302  # the phone's session ended with the old password


def test_a_link_is_refused_when_tampered_with_expired_or_the_account_closed(app, org, login_as, monkeypatch):
    auditor = login_as("auditor")
    shopper = org["users"]["shopper"]
    page = auditor.get(f"/admin/users/{shopper.id}")
    link = _link_of(auditor.post(f"/admin/users/{shopper.id}/password-link", data={"csrf_token": csrf_from(page)}))
    token = link.rsplit("/", 1)[1]
    visitor = app.test_client()
    for broken in (link[:-3], f"/password/{token[::-1]}", "/password/x"):
        response = visitor.get(broken)
        assert response.status_code == 410 and "is not complete" in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        other = password_links.make_token(org["users"]["other_shopper"])
    assert visitor.get(f"/password/{other}").status_code == 200  # another account's link is its own
    monkeypatch.setattr(password_links, "LINK_DAYS", -1)  # a week has passed
    expired = visitor.get(link)
    assert expired.status_code == 410 and "valid for a limited time" in expired.get_data(as_text=True)
    monkeypatch.setattr(password_links, "LINK_DAYS", 7)
    with app.app_context(), database.connection_context():
        User.update(is_enabled=False).where(User.id == shopper.id).execute()
    assert visitor.get(link).status_code == 410  # a closed account: no way back in by a link
    refused = auditor.post(f"/admin/users/{shopper.id}/password-link", data={"csrf_token": csrf_from(page)},
                           follow_redirects=True)
    assert "This account is disabled" in refused.get_data(as_text=True)


@pytest.mark.parametrize("role", ["manager", "shopper"])
def test_only_an_auditor_makes_links(app, org, login_as, role):
    client = login_as(role)
    token = csrf_from(client.get("/"  if role == "manager" else "/visits/", follow_redirects=True))
    response = client.post(f"/admin/users/{org['users']['other_shopper'].id}/password-link", data={"csrf_token": token})
    assert response.status_code in (403, 404)
    with app.app_context(), database.connection_context():
        assert not AuditEntry.select().where(AuditEntry.action == "user.password_link").exists()


def test_a_link_sent_twice_at_once_sets_the_password_once(app, org):
    """Two sends of the form (a double tap, two tabs): the first sets the password, the second finds
    the link used, and the password is the first one."""
    with app.app_context(), database.connection_context():
        shopper = User.get_by_id(org["users"]["shopper"].id)
        link = f"/password/{password_links.make_token(shopper)}"
    first, second = app.test_client(), app.test_client()
    tokens = [csrf_from(client.get(link)) for client in (first, second)]
    with app.app_context(), database.connection_context():
        assert password_links.set_password(shopper, NEW_PASSWORD)  # the first send, as it lands
        # The second read the account before the first landed: its write finds the password changed.
        assert not password_links.set_password(shopper, "the-second-password")
    late = second.post(link, data={"password": "the-second-password", "repeated": "the-second-password",
                                   "csrf_token": tokens[1]})
    assert late.status_code == 410
    assert login(app.test_client(), shopper.email, NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), shopper.email, "the-second-password").status_code == 200


def test_a_link_speaks_the_language_chosen_for_its_account(app, org, login_as):
    """An agency imports its Hungarian shoppers with their language: the invitation opened on a phone
    set to English is in Hungarian. A language picked on the page still wins."""
    from tests_support import translated

    with app.app_context(), database.connection_context():
        shopper = User.get(User.email == "shopper@example.com")
        User.update(language="hu").where(User.id == shopper.id).execute()
        link = f"/password/{password_links.make_token(User.get_by_id(shopper.id))}"
    visitor = app.test_client()
    page = visitor.get(link, headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="hu"' in page and translated(app, "hu", "Choose your password") in page
    # Set, the password sends the person to sign in: in the same language, with its message.
    done = _set(visitor, link, NEW_PASSWORD)
    signing_in = visitor.get(done.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="hu"' in signing_in and translated(app, "hu", "Your password is set. Sign in with it.") in signing_in
    # The address is filled in (a new shopper did not know which one the agency had used), for this
    # sign-in only.
    assert re.search(r'<input[^>]*name="email"[^>]*value="shopper@example.com"', signing_in)
    assert login(visitor, "shopper@example.com", NEW_PASSWORD).status_code == 302
    visitor.post("/logout", data={"csrf_token": csrf_from(visitor.get("/visits/"))})
    assert 'value="shopper@example.com"' not in visitor.get("/login").get_data(as_text=True)
    other = app.test_client()
    with app.app_context(), database.connection_context():
        link = f"/password/{password_links.make_token(User.get(User.email == 'shopper@example.com'))}"
    other.post("/language", data={"language": "ru", "csrf_token": csrf_from(other.get("/login"))})
    assert '<html lang="ru"' in other.get(link).get_data(as_text=True)
