"""A brand's branches from a CSV file and back: an agency enters a chain of hundreds of branches (or
corrects their addresses) in a spreadsheet; a file with any mistake saves nothing, and says which rows."""
import html
import io

import pytest

from audit.db import database
from audit.models import AuditEntry, Branch, Region
from conftest import csrf_from
from tests_support import translated

URL = "/admin/branches/import"
HEADER = "code,name,region,address,city,country,latitude,longitude,active"


def _import(client, brand, text, encoding="utf-8", follow=True):
    data = text.encode(encoding) if isinstance(text, str) else text
    return client.post(URL, data={"brand": str(brand.id), "file": (io.BytesIO(data), "branches.csv"),
                                  "csrf_token": csrf_from(client.get(URL))},
                       content_type="multipart/form-data", follow_redirects=follow)


def _page(response):
    return html.unescape(response.get_data(as_text=True))


def _branches(app, brand):
    with app.app_context(), database.connection_context():
        query = Branch.select(Branch, Region).join(Region).where(Region.brand == brand).order_by(Branch.code)
        return {b.code: (b.name, b.region.name, b.address, b.city, b.country, b.latitude, b.longitude, b.is_active)
                for b in query}


def test_a_chains_branches_arrive_from_a_spreadsheets_csv(app, org, login_as):
    """Excel where the decimal mark is a comma saves with semicolons and a byte order mark."""
    auditor = login_as("auditor")
    brand = org["brands"][0]
    with app.app_context(), database.connection_context():
        Region.create(brand=brand, name="Transdanubia")
    text = ("\ufeffcode;name;region;address;city;country;latitude;longitude;active\r\n"
            "deb-01;Aurora Debrecen Fórum;Hungary;Csapó u. 30.;Debrecen;hu;47,5316;21,6273;yes\r\n"
            "PEC-01;Aurora Pécs Árkád;transdanubia;Bajcsy-Zs. u. 11.;Pécs;HU;;;\r\n"
            "GYR-01;Aurora Győr;Transdanubia;Budai út 1.;Győr;HU;;;no\r\n"
            ";;;;;;;;\r\n")
    response = _import(auditor, brand, text)
    page = _page(response)
    assert response.request.path == "/admin/branches" and "3 branches added, 0 updated." in page
    branches = _branches(app, brand)
    assert branches["DEB-01"] == ("Aurora Debrecen Fórum", "Hungary", "Csapó u. 30.", "Debrecen", "HU", 47.5316, 21.6273, True)
    assert branches["PEC-01"][1:] == ("Transdanubia", "Bajcsy-Zs. u. 11.", "Pécs", "HU", None, None, True)
    assert branches["GYR-01"][-1] is False
    with app.app_context(), database.connection_context():
        entry = AuditEntry.get(AuditEntry.action == "branches.imported")
        assert (entry.target, entry.details) == ("Aurora Electronics", {"added": 3, "updated": 0})


def test_the_branches_go_out_as_csv_and_come_back_with_corrections(app, org, login_as):
    auditor = login_as("auditor")
    brand = org["brands"][0]
    exported = auditor.get(f"/admin/brands/{brand.id}/branches.csv")
    assert exported.status_code == 200 and exported.headers["Content-Disposition"].endswith('"Aurora-Electronics-branches.csv"')
    text = exported.data.decode("utf-8-sig")
    assert text.splitlines() == [HEADER, "BUD-01,Aurora Váci utca,Hungary,Váci utca 19.,Budapest,HU,47.4936,19.053,yes"]
    assert "NRV-01" not in text  # another brand's
    before = _branches(app, brand)
    assert "0 branches added, 0 updated." in _page(_import(auditor, brand, text))  # nothing changed
    assert _branches(app, brand) == before  # unchanged, round trip
    corrected = text.replace("Váci utca 19.", "Váci utca 21.").replace(",yes", ",no")
    assert "0 branches added, 1 updated." in _page(_import(auditor, brand, corrected))
    assert _branches(app, brand)["BUD-01"][2:] == ("Váci utca 21.", "Budapest", "HU", 47.4936, 19.053, False)


def test_a_file_with_mistakes_names_each_row_and_saves_nothing(app, org, login_as):
    auditor = login_as("auditor")
    brand = org["brands"][0]
    before = _branches(app, brand)
    text = (HEADER + "\n"
            "BUD-01,Aurora Váci utca,Hungary,Váci utca 19.,Budapest,HU,47.4936,19.053,yes\n"  # fine, updated
            "BUD-02,,Hungary,Andrássy út 1.,Budapest,HU,,,\n"  # no name
            "BUD-03,Aurora Allee,Nowhere,Október 23. u. 8.,Budapest,HU,,,\n"  # no such region
            "BUD-04,Aurora Corvin,Hungary,Futó u. 37.,Budapest,HU,147.5,19.07,\n"  # latitude
            "BUD-05,Aurora Mammut,Hungary,Lövőház u. 2.,Budapest,HU,47.5,,\n"  # one coordinate
            "bud-01,Again,Hungary,Váci utca 19.,Budapest,HU,,,\n"  # the first row's branch again
            "BUD 06,Aurora Arena,Hungary,Kerepesi út 9.,Budapest,XX,,,maybe\n")  # code, country, active
    response = _import(auditor, brand, text)
    page = _page(response)
    assert response.status_code == 200 and response.request.path == URL
    # Every mistake of a row at once: one a round took a file of hundreds of rows as many rounds.
    assert "Nothing was saved: 8 mistakes to correct in the file." in page
    for expected in ("Row 3: Name: This field is required.",
                     "Row 4: No region named “Nowhere” in Aurora Electronics: add it first, or correct the name.",
                     "Row 5: Latitude: Latitude must be between -90 and 90.",
                     "Row 6: Longitude: Give both latitude and longitude, or neither.",
                     "Row 7: The same branch (code BUD-01 in Hungary) as row 2.",
                     "Row 8: Active: write yes or no.",
                     "Row 8: Country: write its two-letter code, such as HU, or its name.",
                     "Row 8: Code: Use only letters, digits, - and _ in the code."):
        assert expected in page, expected
    assert _branches(app, brand) == before


def test_a_coordinate_that_is_no_number_is_said_once(app, org, login_as):
    """"abc" as latitude was two mistakes, not a number and not between -90 and 90."""
    auditor = login_as("auditor")
    page = _page(_import(auditor, org["brands"][0], HEADER + "\n"
                         "BUD-09,Aurora Óbuda,Hungary,Fő tér 1.,Budapest,HU,abc,19.04,\n"))
    assert "Nothing was saved: 1 mistake to correct in the file." in page
    assert "Row 2: Latitude: Not a valid float value." in page


def test_a_row_in_no_region_names_its_other_mistakes_too(app, org, login_as):
    auditor = login_as("auditor")
    brand = org["brands"][0]
    page = _page(_import(auditor, brand, "code,name,region,address,city,country\nPEC-01,,Transdanubia,,Pécs,Hungaria\n"))
    for expected in ("Row 2: No region named “Transdanubia” in Aurora Electronics: add it first, or correct the name.",
                     "Row 2: Name: This field is required.", "Row 2: Street address: This field is required.",
                     "Row 2: Country: write its two-letter code, such as HU, or its name."):
        assert expected in page, expected
    assert "Nothing was saved: 4 mistakes to correct in the file." in page
    assert "Not a valid choice" not in page and "This field is required.\n" not in page


EMPTY = "The file is empty: choose the CSV file with the list and import it again."
WORKBOOK = "The file is an Excel workbook, not a CSV file: save it as “CSV UTF-8” and import that file."
NOT_CSV = ("The file is not a CSV file (it holds binary data, as a PDF or a picture does): save the list as "
           "“CSV UTF-8” and import that file.")
# The first bytes of the files an auditor picks by mistake: each said as itself, not as missing columns.
XLSX = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml"
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
NUL_HEADER = b"\x00\x01\x02\x03code,name\n"


@pytest.mark.parametrize("data,message", [
    ("code;name\nBUD-01;Aurora\n", "The first row must name the columns; these are missing: region, address, city, country."),
    ("Fórum".encode("latin-1"), "The file is not UTF-8 text. Save it as “CSV UTF-8” and import it again."),
    ("\ufeff".encode("utf-16-le") + b"c\x00o\x00d", "The file is not UTF-8 text. Save it as “CSV UTF-8” and import it again."),
    (HEADER + "\n", "The file has no branch rows."),
    (b"x" * (2 * 1024 * 1024 + 1), "The file is larger than 2 MB."),
    (b"", EMPTY),
    ("\ufeff \r\n\r\n", EMPTY),
    (XLSX, WORKBOOK),
    (XLS, WORKBOOK),
    (PDF, NOT_CSV),
    (PNG, NOT_CSV),
    (NUL_HEADER, NOT_CSV),
], ids=["columns missing", "not UTF-8", "UTF-16 cut short", "no rows", "too large", "0 bytes", "blank", "xlsx", "xls", "PDF",
        "picture", "NUL in the first row"])
def test_a_file_that_is_no_branch_list_is_refused_with_its_reason(app, org, login_as, data, message):
    auditor = login_as("auditor")
    before = _branches(app, org["brands"][0])
    page = _page(_import(auditor, org["brands"][0], data))
    assert message in page and "Please correct the fields marked below. Nothing was saved." in page
    assert _branches(app, org["brands"][0]) == before


@pytest.mark.parametrize("text", [
    HEADER.replace(",", "\t") + "\nKEC-01\tAurora Kecskemét\tHungary\tRákóczi út 1.\tKecskemét\tHU\t46,9\t19,69\tyes\n",
    # Excel's "Unicode Text" (Excel 2013 and older have no "CSV UTF-8"): tabs, UTF-16 after its byte order mark.
    (HEADER.replace(",", "\t") + "\r\nKEC-01\tAurora Kecskemét\tHungary\tRákóczi út 1.\tKecskemét\tHU\t46,9\t19,69\tyes\r\n"
     ).encode("utf-16"),
    ("\ufeff" + HEADER.replace(",", "\t") + "\nKEC-01\tAurora Kecskemét\tHungary\tRákóczi út 1.\tKecskemét\tHU\t46,9\t19,69\tyes\n"
     ).encode("utf-16-be"),
    "sep=;\r\n" + HEADER.replace(",", ";") + "\r\nKEC-01;Aurora Kecskemét;Hungary;Rákóczi út 1.;Kecskemét;HU;46,9;19,69;yes\r\n",
    "\ufeffsep=,\n" + HEADER + "\nKEC-01,Aurora Kecskemét,Hungary,Rákóczi út 1.,Kecskemét,HU,46.9,19.69,yes\n",
], ids=["tab-separated (Google Sheets)", "Excel's Unicode Text", "UTF-16 big-endian", "Excel's sep=; line",
        "sep=, after a byte order mark"])
def test_tab_separated_values_and_excels_separator_line_are_read(app, org, login_as, text):
    auditor = login_as("auditor")
    brand = org["brands"][0]

    page = _page(_import(auditor, brand, text))

    assert "1 branch added, 0 updated." in page
    assert _branches(app, brand)["KEC-01"] == ("Aurora Kecskemét", "Hungary", "Rákóczi út 1.", "Kecskemét", "HU",
                                               46.9, 19.69, True)


def test_rows_after_excels_separator_line_are_counted_as_excel_shows_them(app, org, login_as):
    """Excel hides the "sep=" line: the row of columns is its row 1."""
    auditor = login_as("auditor")
    before = _branches(app, org["brands"][0])

    page = _page(_import(auditor, org["brands"][0], f"sep=,\n{HEADER}\nBUD-02,,Hungary,Andrássy út 1.,Budapest,HU,,,\n"))

    assert "Row 2: Name: This field is required." in page
    assert _branches(app, org["brands"][0]) == before


def test_the_mistakes_are_said_in_the_auditors_language(app, org, login_as):
    auditor = login_as("auditor")
    auditor.post("/language", data={"language": "hu", "csrf_token": csrf_from(auditor.get(URL)), "next": URL})
    page = _page(_import(auditor, org["brands"][0], HEADER + "\nBUD-09,Aurora,Nowhere,Út 1.,Budapest,HU,,,\n"))
    said = translated(app, "hu", "No region named “%(region)s” in %(brand)s: add it first, or correct the name.") % {
        "region": "Nowhere", "brand": "Aurora Electronics"}
    assert said in page and "No region named" not in page


def test_a_branch_with_visits_does_not_move_to_another_brands_region_by_file(app, org, login_as):
    """The file is read as the branch form reads a change: the same rules, the same messages."""
    from datetime import date

    from audit import ROOT
    from audit.models import Visit
    from audit.operations import publish_checklist_file

    auditor = login_as("auditor")
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                     planned_from=date.today(), planned_to=date.today())
    before = _branches(app, org["brands"][0])
    # Code BUD-01 in the other brand's region is another branch: it is added there, this one stays.
    page = _page(_import(auditor, org["brands"][1], HEADER + "\nBUD-01,Baltia Pärnu,Estonia,Rüütli 1,Pärnu,EE,,,\n"))
    assert "1 branch added, 0 updated." in page
    assert _branches(app, org["brands"][0]) == before


def test_a_branch_whose_region_the_file_changes_is_not_added_a_second_time(app, org, login_as):
    """The export, with a branch's region corrected, came back as "1 branch added": a second BUD-01 in
    the new region, the first still open in the old one (and both given a visit by a region's
    assignment)."""
    auditor = login_as("auditor")
    brand = org["brands"][0]
    with app.app_context(), database.connection_context():
        Region.create(brand=brand, name="Transdanubia")
    text = auditor.get(f"/admin/brands/{brand.id}/branches.csv").data.decode("utf-8-sig")
    before = _branches(app, brand)

    page = _page(_import(auditor, brand, text.replace(",Hungary,", ",Transdanubia,")))

    assert ("Row 2: BUD-01 is already a branch of Hungary (Aurora Váci utca): to move it to Transdanubia, change its "
            "region on its page. A second branch with this code is added only by a file that lists the first one "
            "too.") in page
    assert _branches(app, brand) == before
    with app.app_context(), database.connection_context():
        assert Branch.select().join(Region).where(Region.brand == brand).count() == 1
    # A brand that gives each region its own BUD-01 on purpose lists both.
    both = text + "BUD-01,Aurora Pécs,Transdanubia,Király u. 1.,Pécs,HU,,,yes\n"
    assert "1 branch added, 0 updated." in _page(_import(auditor, brand, both))


@pytest.mark.parametrize("country", ["HU", "hu", "Hungary", "Magyarország", " венгрия "])
def test_a_country_is_read_by_its_code_or_its_name(app, org, login_as, country):
    """A spreadsheet's country column often names the country: its row said "Country: Choose one of the
    offered options", which offers nothing in a file."""
    auditor = login_as("auditor")
    brand = org["brands"][0]
    page = _page(_import(auditor, brand, f"code,name,region,address,city,country\nSZE-01,Szeged,Hungary,Kárász u. 1.,"
                                         f"Szeged,{country}\n"))
    assert "1 branch added, 0 updated." in page
    assert _branches(app, brand)["SZE-01"][4] == "HU"


def test_a_country_that_is_no_country_says_what_to_write(app, org, login_as):
    auditor = login_as("auditor")
    brand = org["brands"][0]
    before = _branches(app, brand)
    page = _page(_import(auditor, brand, "code,name,region,address,city,country\n"
                                         "SZE-01,Szeged,Hungary,Kárász u. 1.,Szeged,Hungaria\n"))
    assert "Row 2: Country: write its two-letter code, such as HU, or its name." in page
    assert "offered" not in page and _branches(app, brand) == before


REQUIRED_HEADER = "code,name,region,address,city,country"
BUD_01 = "BUD-01,Aurora Váci utca,Hungary,Váci utca 21.,Budapest,HU"


def _close(app, code):
    with app.app_context(), database.connection_context():
        Branch.update(is_active=False).where(Branch.code == code).execute()


def test_a_file_of_the_required_columns_only_keeps_a_branchs_coordinates_and_closing(app, org, login_as):
    """Correcting addresses in a file without the optional columns wiped the coordinates and opened a
    closed branch again; a new branch of such a file is open, without coordinates."""
    auditor = login_as("auditor")
    brand = org["brands"][0]
    _close(app, "BUD-01")

    page = _page(_import(auditor, brand, f"{REQUIRED_HEADER}\n{BUD_01}\n"
                                         "BUD-07,Aurora Allee,Hungary,Október 23. u. 8.,Budapest,HU\n"))

    assert "1 branch added, 1 updated." in page
    branches = _branches(app, brand)
    assert branches["BUD-01"][2:] == ("Váci utca 21.", "Budapest", "HU", 47.4936, 19.053, False)
    assert branches["BUD-07"][5:] == (None, None, True)


@pytest.mark.parametrize("header,row,stored", [
    # Empty coordinate cells remove the coordinates (as an exported branch without them reads)...
    (HEADER, f"{BUD_01},,,no", (None, None, False)),
    # ... also when the spreadsheet left the row's trailing empty cells out.
    (HEADER, BUD_01, (None, None, False)),
    # An empty active cell keeps the branch closed; coordinates of the file are stored.
    (HEADER, f"{BUD_01},47.5,19.06,", (47.5, 19.06, False)),
    (f"{REQUIRED_HEADER},active", f"{BUD_01},yes", (47.4936, 19.053, True)),
    # One coordinate column changes that coordinate; the other is kept.
    (f"{REQUIRED_HEADER},latitude", f"{BUD_01},47.5", (47.5, 19.053, False)),
], ids=["empty cells", "short row", "empty active", "only active", "only latitude"])
def test_columns_in_the_file_change_a_branch_and_columns_left_out_keep_it(app, org, login_as, header, row, stored):
    auditor = login_as("auditor")
    brand = org["brands"][0]
    _close(app, "BUD-01")

    page = _page(_import(auditor, brand, f"{header}\n{row}\n"))

    assert "0 branches added, 1 updated." in page
    assert _branches(app, brand)["BUD-01"][2:] == ("Váci utca 21.", "Budapest", "HU", *stored)


def test_a_coordinate_kept_from_the_branch_is_checked_with_the_one_in_the_file(app, org, login_as):
    """Emptying only the latitude column leaves the stored longitude alone: the pair is refused."""
    auditor = login_as("auditor")
    brand = org["brands"][0]
    before = _branches(app, brand)

    page = _page(_import(auditor, brand, f"{REQUIRED_HEADER},latitude\n{BUD_01},\n"))

    assert "Row 2: Longitude: Give both latitude and longitude, or neither." in page
    assert _branches(app, brand) == before


def test_a_file_that_closes_a_branch_with_open_visits_leads_to_them(app, org, login_as):
    """As when a branch is closed in its form: its visits stayed on the shoppers' lists, unsaid."""
    from datetime import date, timedelta

    from audit.models import Visit
    from audit.operations import publish_checklist
    from tests_support import retail_checklist

    auditor = login_as("auditor")
    brand = org["brands"][0]
    with app.app_context(), database.connection_context():
        version, _created = publish_checklist(*retail_checklist())
        bud = Branch.get(Branch.code == "BUD-01")
        visit = Visit.create(branch=bud, checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today() + timedelta(days=5))

    response = _import(auditor, brand, f"{REQUIRED_HEADER},active\n{BUD_01},no\n", follow=False)

    assert response.headers["Location"] == "/admin/visits?closed=1"
    page = _page(auditor.get(response.headers["Location"]))
    assert "1 open visit is at a closed branch: withdraw it below." in page and "at closed branches" in page
    assert f"/admin/visits/{visit.uuid}" in page
    # Opened again, no word of it.
    assert _import(auditor, brand, f"{REQUIRED_HEADER},active\n{BUD_01},yes\n", follow=False).headers[
        "Location"] == "/admin/branches"
