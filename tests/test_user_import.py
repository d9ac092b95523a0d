"""Accounts from a CSV file: an agency signs up its panel of shoppers (and a client's managers) from
its spreadsheet. Every row is checked as the account form checks it; a file with any mistake saves
nothing and says which rows; each new account gets a link to choose its password."""
import csv
import html
import io
import re

import pytest

from audit.db import database
from audit.models import AuditEntry, ManagerRegion, Region, User
from conftest import csrf_from, login
from test_password_links import NEW_PASSWORD, _set

URL = "/admin/users/import"
HEADER = "email,name,role,language,regions"


def _import(client, text, encoding="utf-8", follow=False):
    """The import's answer: the page it goes to (follow) or the redirect itself; a refused file's page."""
    data = text.encode(encoding) if isinstance(text, str) else text
    return client.post(URL, data={"file": (io.BytesIO(data), "panel.csv"), "csrf_token": csrf_from(client.get(URL))},
                       content_type="multipart/form-data", follow_redirects=follow)


def _page(response):
    return html.unescape(response.get_data(as_text=True))


def _accounts(app):
    with app.app_context(), database.connection_context():
        return {u.email: (u.name, u.role, u.language, u.password_hash, u.session_epoch, u.is_enabled)
                for u in User.select()}


def _regions_of(app, email):
    with app.app_context(), database.connection_context():
        user = User.get(User.email == email)
        return sorted((link.region.brand.name, link.region.name)
                      for link in ManagerRegion.select().where(ManagerRegion.manager == user))


def test_a_panel_of_shoppers_and_managers_arrives_with_a_link_each(app, org, login_as):
    """Excel where the decimal mark is a comma saves with semicolons and a byte order mark; roles may
    be written as the reader's language names them; a region whose name two brands use is named with
    its brand."""
    auditor = login_as("auditor")
    with app.app_context(), database.connection_context():
        Region.create(brand=org["brands"][1], name="Hungary")  # Baltia Bank has a "Hungary" too
        Region.create(brand=org["brands"][1], name="North/South")
        Region.create(brand=org["brands"][0], name="North/South")
    text = ("\ufeffemail;name;role;language;regions\r\n"
            "  Nora.Kovacs@Example.com ;Nóra Kovács;shopper;hu;\r\n"
            "ivan@example.com;Иван Петров;Shopper;;\r\n"
            "maria@example.com;Maria Tamm;manager;et;Estonia | Aurora Electronics / Hungary | Baltia Bank / North/South\r\n"
            ";;;;\r\n")

    response = _import(auditor, text)

    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/users/imports/")
    response = auditor.get(response.headers["Location"])
    page = _page(response)
    assert response.status_code == 200, page[:2000]
    assert "3 accounts added." in page and "3 accounts wait for their first password" in page
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
    with app.app_context(), database.connection_context():
        added = {u.email: (u.name, u.role, u.language, u.is_enabled) for u in
                 User.select().where(User.email.in_(["nora.kovacs@example.com", "ivan@example.com", "maria@example.com"]))}
        entry = AuditEntry.get(AuditEntry.action == "users.imported")
        assert (entry.target, entry.details) == ("panel.csv", {"added": 3, "existing": 0})
    assert added == {"nora.kovacs@example.com": ("Nóra Kovács", "shopper", "hu", True),
                     "ivan@example.com": ("Иван Петров", "shopper", None, True),
                     "maria@example.com": ("Maria Tamm", "manager", "et", True)}
    assert _regions_of(app, "maria@example.com") == [("Aurora Electronics", "Hungary"), ("Baltia Bank", "Estonia"),
                                                     ("Baltia Bank", "North/South")]
    # Nobody can sign in before choosing a password with their link; the link shown works.
    assert login(app.test_client(), "ivan@example.com", "").status_code == 200
    links = dict(re.findall(r'value="http://localhost(/password/[^"]+)" aria-label="Link for ([^"]+)"', page))
    links = {name: link for link, name in links.items()}
    assert set(links) == {"Nóra Kovács", "Иван Петров", "Maria Tamm"}
    visitor = app.test_client()
    assert _set(visitor, links["Иван Петров"], NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), "ivan@example.com", NEW_PASSWORD).status_code == 302


def test_the_links_come_as_csv_for_a_mail_merge_of_the_accounts_still_invited(app, org, login_as):
    """The CSV holds a link for each account of the import still waiting for its first password: an
    account whose password is set since, or which is disabled, is left out, and no other account
    gets a link there (posting other accounts' ids or links made them links that set their
    passwords)."""
    auditor = login_as("auditor")
    imported = _import(auditor, f"{HEADER}\nnora@example.com,Nóra Kovács,shopper,hu,\nivan@example.com,Ivan,shopper,,\n"
                                "olga@example.com,Olga,shopper,,\n")
    page = _page(auditor.get(imported.headers["Location"]))
    batch = re.search(r'name="batch" value="([^"]+)"', page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    with app.app_context(), database.connection_context():
        manager_id = User.get(User.email == "manager@example.com").id
        links_before = AuditEntry.select().where(AuditEntry.action == "user.password_link").count()

    def download(**sent):
        response = auditor.post("/admin/users/invitations.csv", data={"csrf_token": token, **sent})
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert response.headers["Cache-Control"] == "no-store"
        return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))

    rows = download(batch=batch)
    assert rows[0] == ["email", "name", "role", "link"]
    assert [row[:3] for row in rows[1:]] == [["ivan@example.com", "Ivan", "shopper"],
                                             ["nora@example.com", "Nóra Kovács", "shopper"],
                                             ["olga@example.com", "Olga", "shopper"]]
    nora = next(row[3] for row in rows[1:] if row[0] == "nora@example.com").replace("http://localhost", "")
    assert _set(app.test_client(), nora, NEW_PASSWORD).status_code == 302  # a link of the CSV works
    with app.app_context(), database.connection_context():
        User.update(is_enabled=False).where(User.email == "olga@example.com").execute()
    again = download(batch=batch, account=[str(manager_id)], link=["http://localhost/password/forged"])
    assert [row[0] for row in again[1:]] == ["ivan@example.com"]  # Nóra's password is set; Olga is disabled
    assert download(batch="not-an-import")[1:] == []
    with app.app_context(), database.connection_context():
        assert AuditEntry.select().where(AuditEntry.action == "user.password_link").count() == links_before
        assert [entry.target for entry in AuditEntry.select().where(
            AuditEntry.action == "users.invitations_downloaded").order_by(AuditEntry.id)] == ["3", "1", "0"]
    assert auditor.post("/admin/users/invitations.csv", data={"batch": batch}).status_code == 400  # CSRF


def test_an_email_that_has_an_account_leaves_it_as_it_is(app, org, login_as):
    """Importing the panel's file again adds only the new people; nobody's role, name or password
    changes (that is the account page's business)."""
    auditor = login_as("auditor")
    before = _accounts(app)
    text = f"{HEADER}\nSHOPPER@example.com,Somebody Else,auditor,,\nnew@example.com,New Person,shopper,,\n"

    page = _page(_import(auditor, text, follow=True))

    assert "1 account added." in page
    assert ("1 e-mail address already had an account, left as it is (change it on its page): shopper@example.com"
            in page)
    after = _accounts(app)
    assert after["shopper@example.com"] == before["shopper@example.com"]
    assert set(after) - set(before) == {"new@example.com"}
    assert login(app.test_client(), "shopper@example.com").status_code == 302  # the password still works


@pytest.mark.parametrize("rows,problem", [
    ("a@example.com,Anna,boss,,", "Row 3: Role: write shopper or manager."),
    ("a@example.com,Anna,auditor,,", "Row 3: Auditors are added one by one, on the New account page, not from a file."),
    (",Anna,shopper,,\n,Anne,shopper,,", "Row 3: E-mail: This field is required."),
    ("a@example.com,Anna,shopper,de,", "Row 3: Language: write one of en, hu, bg, et, ro, ru, or leave it empty."),
    ("not-an-email,Anna,shopper,,", "Row 3: E-mail: Enter a valid e-mail address."),
    ("a@example.com,,shopper,,", "Row 3: Full name: This field is required."),
    ("a@example.com,Anna,manager,,", "Row 3: Regions (managers): A manager needs at least one region."),
    ("a@example.com,Anna,shopper,,Hungary", "Row 3: Regions (managers): Only managers are given regions."),
    ("a@example.com,Anna,manager,,Atlantis", "Row 3: No region named “Atlantis”: add it first, or correct the name."),
    ("a@example.com,Anna,shopper,,\nA@example.com,Anne,shopper,,", "Row 4: The same e-mail address as row 3."),
], ids=["role", "auditor", "no email", "language", "email", "name", "manager without region", "shopper with region",
        "unknown region", "twice"])
def test_a_file_with_any_mistake_saves_nothing_and_names_the_rows(app, org, login_as, rows, problem):
    """Row 2 is fine; the mistake is in the next row."""
    auditor = login_as("auditor")
    before = _accounts(app)
    text = f"{HEADER}\nok@example.com,Fine Person,shopper,,\n{rows}\n"

    response = _import(auditor, text)

    page = _page(response)
    assert response.status_code == 200 and "Nothing was saved" in page
    found = re.findall(r"<li>(Row \d+: [^<]*)</li>", page)
    assert found[0] == problem and len(found) <= 2  # ("no email": its second row too)
    assert _accounts(app) == before


def test_every_mistake_of_a_row_is_named_at_once(app, org, login_as):
    """A row's first mistake only: a file of hundreds of rows came back once for each mistake of a row."""
    auditor = login_as("auditor")
    before = _accounts(app)

    page = _page(_import(auditor, f"{HEADER}\nnot-an-email,,boss,de,\nb@example.com,,manager,,Atlantis\n"))

    found = re.findall(r"<li>(Row \d+: [^<]*)</li>", page)
    assert found == ["Row 2: Role: write shopper or manager.",
                     "Row 2: Language: write one of en, hu, bg, et, ro, ru, or leave it empty.",
                     "Row 2: E-mail: Enter a valid e-mail address.",
                     "Row 2: Full name: This field is required.",
                     "Row 3: No region named “Atlantis”: add it first, or correct the name.",
                     "Row 3: Full name: This field is required."]
    assert _accounts(app) == before


def test_an_ambiguous_region_asks_for_its_brand(app, org, login_as):
    auditor = login_as("auditor")
    with app.app_context(), database.connection_context():
        Region.create(brand=org["brands"][1], name="Hungary")
    page = _page(_import(auditor, f"{HEADER}\nm@example.com,Mira,manager,,hungary\n"))
    assert ("Row 2: Several brands have a region named “hungary”: write it as “brand / region”.") in page
    assert "m@example.com" not in _accounts(app)


@pytest.mark.parametrize("data,message", [
    (b"\xff\xfeemail", "The file is not UTF-8 text."),
    ("name,role\nAnna,shopper\n", "The first row must name the columns; these are missing: email."),
    (f"{HEADER}\n", "The file has no account rows."),
    (HEADER + "\n" + "x@example.com,X,shopper,,\n" * 2001, "The file has more than 2000 accounts; import it in parts."),
    (HEADER + '\nq@example.com,"Kovács ""Kati,shopper,hu,\n' + "x@example.com,X,shopper,,\n" * 6000,  # 156 KB in a cell
     "The file cannot be read as CSV after row 1: is a quotation mark left open in the row after it?"),
    (f"{HEADER}\nok@example.com,Fine,shopper,,\nn@example.com,Na\x00me,shopper,,\n",
     "Row 3 holds a control character (such as NUL), which no text needs: remove it and import the file again."),
    (b"PK\x03\x04\x14\x00\x06\x00", "The file is an Excel workbook, not a CSV file: save it as “CSV UTF-8”"),
    (b"\xef\xbb\xbf", "The file is empty: choose the CSV file with the list and import it again."),
    (b"%PDF-1.4\n", "The file is not a CSV file (it holds binary data, as a PDF or a picture does)"),
], ids=["not utf-8", "no email column", "no rows", "too many", "a quote left open", "NUL", "xlsx", "empty", "PDF"])
def test_a_file_that_cannot_be_read_says_why(app, org, login_as, data, message):
    auditor = login_as("auditor")
    before = _accounts(app)
    page = _page(_import(auditor, data))
    assert message in page
    assert _accounts(app) == before


def test_a_tab_separated_panel_arrives(app, org, login_as):
    """Google Sheets' "Tab-separated values", as the panel is often kept there."""
    auditor = login_as("auditor")

    page = _page(_import(auditor, "email\tname\trole\nanna@example.com\tAnna Szabó\tshopper\n", follow=True))

    assert "1 account added." in page
    assert _accounts(app)["anna@example.com"][:2] == ("Anna Szabó", "shopper")


def test_a_panel_saved_as_excels_unicode_text_arrives(app, org, login_as):
    """Excel 2013 and older have no "CSV UTF-8": their "Unicode Text" (UTF-16, tabs) was refused as not
    UTF-8, and their "CSV" loses every letter outside the computer's code page (Cyrillic names, ő)."""
    auditor = login_as("auditor")
    panel = "email\tname\trole\r\nivan@example.com\tИван Петров\tshopper\r\nodon@example.com\tŐry Ödön\tshopper\r\n"

    page = _page(_import(auditor, panel.encode("utf-16"), follow=True))

    assert "2 accounts added." in page
    assert _accounts(app)["ivan@example.com"][:2] == ("Иван Петров", "shopper")
    assert _accounts(app)["odon@example.com"][:2] == ("Őry Ödön", "shopper")


def test_the_import_speaks_the_auditors_language(app, org, login_as):
    from tests_support import translated

    auditor = login_as("auditor")
    auditor.post("/language", data={"language": "hu", "csrf_token": csrf_from(auditor.get("/admin/users"))})
    page = _page(_import(auditor, f"{HEADER}\na@example.com,Anna,boss,,\n"))
    assert translated(app, "hu", "Role: write shopper or manager.") in page
    assert translated(app, "hu", "Role: write shopper or manager.") != "Role: write shopper or manager."
    # A role written in the reader's words.
    hungarian_shopper = translated(app, "hu", "Shopper")
    page = _page(_import(auditor, f"{HEADER}\na@example.com,Anna,{hungarian_shopper.lower()},,\n"))
    assert "a@example.com" in _accounts(app) and _accounts(app)["a@example.com"][1] == "shopper"


@pytest.mark.parametrize("role", ["shopper", "manager"])
def test_only_an_auditor_imports_accounts(app, org, login_as, role):
    client = login_as(role)
    token = csrf_from(client.get("/visits/" if role == "shopper" else "/dashboard/"))
    response = client.post(URL, data={"file": (io.BytesIO(f"{HEADER}\nx@example.com,X,auditor,,\n".encode()), "a.csv"),
                                      "csrf_token": token}, content_type="multipart/form-data")
    assert response.status_code == 403
    assert "x@example.com" not in _accounts(app)
