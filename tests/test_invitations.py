"""Invitations not used yet: an import leads to its own page of links, which a reload shows again
without importing again, and every account whose owner has not chosen a password yet can be given a
new link later (an agency's 50 shoppers lost their links with one reload or a closed tab)."""
import csv
import html
import io
import re
import time

import pytest

from audit.db import database
from audit.models import AuditEntry, User
from conftest import csrf_from, hidden_fields_from, login
from test_password_links import NEW_PASSWORD, _set
from test_user_import import HEADER, _import

LINK = re.compile(r'value="http://localhost(/password/[^"]+)" aria-label="Link for ([^"]+)"')


def _links(response):
    """{name: link} of an invitations page."""
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return {name: link for link, name in LINK.findall(html.unescape(response.get_data(as_text=True)))}


def _count(app, query):
    with app.app_context(), database.connection_context():
        return query.count()


def test_an_import_leads_to_its_page_which_a_reload_shows_again_until_each_link_is_used(app, org, login_as):
    auditor = login_as("auditor")
    _import(auditor, f"{HEADER}\nearlier@example.com,Earlier Import,shopper,,\n")  # waiting too, on its own page
    answer = _import(auditor, f"{HEADER}\nnora@example.com,Nóra Kovács,shopper,hu,\nivan@example.com,Ivan,shopper,,\n")
    assert answer.status_code == 302
    page_url = answer.headers["Location"]
    users_before = _count(app, User.select())

    first = auditor.get(page_url)
    assert first.headers["Cache-Control"] == "no-store" and first.headers["Referrer-Policy"] == "no-referrer"
    links = _links(first)
    assert set(links) == {"Nóra Kovács", "Ivan"}
    assert "2 accounts wait for their first password" in html.unescape(first.get_data(as_text=True))

    # The reload: the same accounts with new links, nothing imported again.
    time.sleep(1.1)  # a link is signed with the second it is made: the same second, the same link
    reloaded = _links(auditor.get(page_url))
    assert set(reloaded) == {"Nóra Kovács", "Ivan"} and reloaded["Ivan"] != links["Ivan"]
    assert _count(app, User.select()) == users_before
    assert _count(app, AuditEntry.select().where(AuditEntry.action == "users.imported")) == 2
    # Each showing of links is in the audit log, as a single account's link is.
    assert _count(app, AuditEntry.select().where((AuditEntry.action == "users.invitation_links")
                                                 & (AuditEntry.target == "2"))) == 2

    # Nóra uses the link of the reloaded page; the page then lists Ivan alone.
    assert _set(app.test_client(), reloaded["Nóra Kovács"], NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), "nora@example.com", NEW_PASSWORD).status_code == 302
    assert set(_links(auditor.get(page_url))) == {"Ivan"}
    # A link of the first page works as well as a new one, until one of them is used.
    assert _set(app.test_client(), links["Ivan"], NEW_PASSWORD).status_code == 302
    assert _set(app.test_client(), reloaded["Ivan"], "another-long-password").status_code == 410
    done = auditor.get(page_url)
    assert _links(done) == {}
    assert "Every account of this import has its password now." in html.unescape(done.get_data(as_text=True))


def test_a_large_imports_page_shows_fifty_links_a_page_and_its_csv_holds_them_all(app, org, login_as):
    auditor = login_as("auditor")
    rows = "".join(f"s{n:02d}@example.com,Shopper {n:02d},shopper,,\n" for n in range(60))
    page_url = _import(auditor, f"{HEADER}\n{rows}").headers["Location"]

    first, second = _links(auditor.get(page_url)), _links(auditor.get(page_url + "?page=2"))

    assert len(first) == 50 and len(second) == 10 and not set(first) & set(second)
    page = auditor.get(page_url)
    batch = re.search(r'name="batch" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    sent = auditor.post("/admin/users/invitations.csv", data={"batch": batch, "csrf_token": csrf_from(page)})
    table = list(csv.reader(io.StringIO(sent.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(table) == 61 and {row[1] for row in table[1:]} == set(first) | set(second)


def test_invitations_not_used_yet_lists_every_enabled_account_without_a_password(app, org, login_as):
    """Of any import or made on the account page without a password; not one whose password is set
    (by its owner, an auditor or the command line) nor a disabled one, which gets no link."""
    auditor = login_as("auditor")
    _import(auditor, f"{HEADER}\nnora@example.com,Nóra Kovács,shopper,hu,\nivan@example.com,Ivan,shopper,,\n")
    _import(auditor, f"{HEADER}\nmaria@example.com,Maria Tamm,manager,et,Estonia\nolga@example.com,Olga,shopper,,\n"
                     "pal@example.com,Pál,shopper,,\n")
    form = auditor.get("/admin/users/new")
    auditor.post("/admin/users/new", data={"name": "Nina Newshopper", "email": "nina@example.com", "role": "shopper",
                                           "language": "", "password": "", "is_enabled": "y",
                                           **hidden_fields_from(form)})
    with app.app_context(), database.connection_context():
        olga, pal = User.by_email("olga@example.com"), User.by_email("pal@example.com")
        nora = User.by_email("nora@example.com")
    # Olga is disabled on her page; an auditor types Pál's password on his.
    for account, password, enabled in ((olga, "", ""), (pal, "a-typed-long-password", "y")):
        page = auditor.get(f"/admin/users/{account.id}")
        assert auditor.post(f"/admin/users/{account.id}", data={
            "name": account.name, "email": account.email, "role": "shopper", "language": "", "password": password,
            "is_enabled": enabled, **hidden_fields_from(page)}).status_code == 302
    # Nóra uses her link; the command line makes Ivan an auditor with a password.
    _set(app.test_client(), _links(auditor.get("/admin/users/invitations"))["Nóra Kovács"], NEW_PASSWORD)
    assert app.test_cli_runner().invoke(args=["create-auditor", "ivan@example.com", "--password",
                                              "a-long-password-1"]).exit_code == 0

    waiting = auditor.get("/admin/users/invitations")

    assert waiting.headers["Cache-Control"] == "no-store" and waiting.headers["Referrer-Policy"] == "no-referrer"
    links = _links(waiting)
    assert sorted(links) == ["Maria Tamm", "Nina Newshopper"]
    assert _set(app.test_client(), links["Nina Newshopper"], NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), "nina@example.com", NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), "pal@example.com", "a-typed-long-password").status_code == 302
    with app.app_context(), database.connection_context():
        assert User.by_email("nora@example.com").password_set_at > nora.created_at
    # The accounts list says it, and leads there.
    listing = html.unescape(auditor.get("/admin/users").get_data(as_text=True))
    assert "1 invitation not used yet: its link" in listing
    status = {name: text for name, text in re.findall(
        r'>([^<>]+)</a></th>.*?data-label="Status">([^<]+)</td>', listing, re.S)}
    assert (status["Maria Tamm"], status["Pál"], status["Olga"], status["Nóra Kovács"]) == (
        "invited: no password yet", "enabled", "disabled", "enabled")
    # The CSV of every waiting account: the same accounts.
    page = auditor.get("/admin/users/invitations")
    sent = auditor.post("/admin/users/invitations.csv", data={"csrf_token": csrf_from(page)})
    table = list(csv.reader(io.StringIO(sent.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row[0] for row in table[1:]] == ["maria@example.com"]
    # A disabled account gets no link on its page either.
    refused = auditor.post(f"/admin/users/{olga.id}/password-link", data={"csrf_token": csrf_from(page)})
    assert refused.status_code == 302 and refused.headers["Location"] == f"/admin/users/{olga.id}"


def test_when_every_invitation_is_used_the_page_says_so(app, org, login_as):
    auditor = login_as("auditor")
    page = auditor.get("/admin/users/invitations")
    assert _links(page) == {}
    assert "Every enabled account has its password now." in html.unescape(page.get_data(as_text=True))
    assert "invitations not used yet: their links" not in auditor.get("/admin/users").get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert not AuditEntry.select().where(AuditEntry.action == "users.invitation_links").exists()


def test_an_import_that_adds_nobody_goes_back_to_the_accounts(app, org, login_as):
    auditor = login_as("auditor")
    answer = _import(auditor, f"{HEADER}\nshopper@example.com,Sara,shopper,,\n")
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/users"
    page = html.unescape(auditor.get("/admin/users").get_data(as_text=True))
    assert "1 e-mail address already had an account, left as it is (change it on its page): shopper@example.com" in page


@pytest.mark.parametrize("role", ["shopper", "manager"])
def test_only_an_auditor_sees_invitations(app, org, login_as, role):
    auditor = login_as("auditor")
    page_url = _import(auditor, f"{HEADER}\nnora@example.com,Nóra Kovács,shopper,hu,\n").headers["Location"]
    batch = page_url.rsplit("/", 1)[1]
    client = login_as(role)
    token = csrf_from(client.get("/visits/" if role == "shopper" else "/dashboard/"))

    for response in (client.get(page_url), client.get("/admin/users/invitations"),
                     client.post("/admin/users/invitations.csv", data={"batch": batch, "csrf_token": token})):
        assert response.status_code == 403
        assert "/password/" not in response.get_data(as_text=True)
    assert app.test_client().get(page_url).status_code == 302  # signed out: to the sign-in page
