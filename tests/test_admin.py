"""Auditors manage brands, regions, branches and accounts; bad input is named and changes nothing."""
import html
import io
import os
import re

import pytest
from PIL import Image

from audit.db import database
from audit.models import Brand, Branch, ManagerRegion, Region, User
from conftest import csrf_from, hidden_fields_from


def _post(client, url, data, **kwargs):
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, data={**data, **hidden_fields_from(page)}, **kwargs)


def _png_of_size(width, height):
    data = io.BytesIO()
    Image.new("1", (width, height)).save(data, "PNG")
    return data.getvalue()


def _png_with_exif(size=(120, 60)):
    image = Image.new("RGB", size, "#c00")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (47.0, 29.0, 0.0)}  # GPSInfo
    buffer = io.BytesIO()
    image.save(buffer, "PNG", exif=exif)
    return buffer.getvalue()


def _errors(response):
    """The field errors a page shows, for a readable failure message."""
    import re

    return re.findall(r'class="error"[^>]*>([^<]+)<', response.get_data(as_text=True))


def _count(app, model):
    with app.app_context(), database.connection_context():
        return model.select().count()


def test_auditor_creates_a_brand_with_a_logo_stripped_of_metadata(app, login_as):
    client = login_as("auditor")
    response = _post(
        client,
        "/admin/brands/new",
        {"name": "Kelet Optika", "primary_color": " #123456 ", "accent_color": "#2A6F97\t",  # pasted: spaces go
         "default_language": "ro", "logo": (io.BytesIO(_png_with_exif()), "logo.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context(), database.connection_context():
        brand = Brand.get(Brand.name == "Kelet Optika")
    assert (brand.primary_color, brand.accent_color, brand.default_language) == ("#123456", "#2a6f97", "ro")
    path = os.path.join(app.config["MEDIA_DIR"], "logos", brand.logo_file)
    with Image.open(path) as stored:
        assert stored.format == "PNG" and stored.size == (120, 60)
        assert not stored.getexif()
        assert "exif" not in stored.info
    assert client.get(f"/media/logos/{brand.logo_file}").status_code == 200
    # The colours come with the browser's picker, and the value as stored.
    page = client.get(f"/admin/brands/{brand.id}").get_data(as_text=True)
    assert re.search(r'<input id="primary_color"[^>]* type="color" value="#123456">', page), page


@pytest.mark.parametrize(
    "logo,message",
    [
        (b"not an image at all", "The file is not a readable PNG or JPEG image."),
        (b"%PDF-1.4\n1 0 obj<<>>endobj", "The file is not a readable PNG or JPEG image."),
        (_png_with_exif()[:60], "The file is not a readable PNG or JPEG image."),
        # A 4001 x 4001 logo: the refusal says how far to shrink it (it said "too many pixels" alone).
        (_png_of_size(4001, 4001), "The image has too many pixels (at most 16 million). Make it smaller and try again."),
    ],
)
def test_bad_logo_is_refused_and_nothing_is_stored(app, login_as, logo, message):
    client = login_as("auditor")
    before = _count(app, Brand)
    response = _post(
        client,
        "/admin/brands/new",
        {"name": "Bad Logo Ltd", "primary_color": "#123456", "accent_color": "#654321",
         "default_language": "en", "logo": (io.BytesIO(logo), "logo.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _count(app, Brand) == before
    logos = os.path.join(app.config["MEDIA_DIR"], "logos")
    assert not os.path.isdir(logos) or os.listdir(logos) == []


def test_a_brand_refused_for_another_field_asks_for_its_logo_again(app, login_as):
    client = login_as("auditor")
    before = _count(app, Brand)
    response = _post(client, "/admin/brands/new",
                     {"name": "", "primary_color": "#123456", "accent_color": "#654321", "default_language": "en",
                      "logo": (io.BytesIO(_png_with_exif()), "logo.png")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "This field is required." in page
    assert "Choose the logo again: a form sent back forgets the file it had." in page
    assert _count(app, Brand) == before
    # Without a logo chosen, nothing is said of it.
    response = _post(client, "/admin/brands/new", {"name": "", "primary_color": "#123456", "accent_color": "#654321",
                                                   "default_language": "en"})
    assert "Choose the logo again" not in response.get_data(as_text=True)


def test_the_brand_form_says_what_a_logo_may_be(app, login_as):
    page = login_as("auditor").get("/admin/brands/new").get_data(as_text=True)
    assert "A PNG or JPEG of at most 2 MB and 16 million pixels." in page


def test_svg_logo_is_refused_by_its_extension(app, login_as):
    client = login_as("auditor")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = _post(
        client, "/admin/brands/new",
        {"name": "Svg Co", "primary_color": "#123456", "accent_color": "#654321",
         "default_language": "en", "logo": (io.BytesIO(svg), "logo.svg")},
        content_type="multipart/form-data",
    )
    assert "The logo must be a PNG or JPEG image." in response.get_data(as_text=True)
    assert _count(app, Brand) == 2


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("primary_color", "blue", "Give a colour as # and six hex digits"),
        ("accent_color", "#12345", "Give a colour as # and six hex digits"),
        ("name", "", "This field is required."),
        ("name", "Baltia Bank", "A brand with this name already exists."),
        ("name", " baltia BANK ", "A brand with this name already exists."),
        ("primary_color", "#ffffff", "This colour is too light for text on white paper"),
        ("primary_color", "#777777", "(contrast 4.4:1, at least 4.5:1 is needed)"),
        ("accent_color", "#ffffff", "This colour is too light for the chart marks on white paper (contrast 1:1, at least 3:1"),
        ("accent_color", "#f2a900", "(contrast 2:1, at least 3:1 is needed)"),
    ],
)
def test_bad_brand_fields_are_named_and_nothing_changes(app, login_as, org, field, value, message):
    client = login_as("auditor")
    data = {"name": "Aurora Electronics", "primary_color": "#1f4e79", "accent_color": "#b58500",
            "default_language": "hu", field: value}
    brand_id = org["brands"][0].id
    response = _post(client, f"/admin/brands/{brand_id}", data)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert message in text
    assert "Nothing was saved." in text
    with app.app_context(), database.connection_context():
        brand = Brand.get_by_id(brand_id)
    assert (brand.name, brand.primary_color) == ("Aurora Electronics", "#1f4e79")


def test_brand_form_messages_are_translated(app, login_as, org):
    client = login_as("auditor")
    client.post("/language", data={"language": "ru", "csrf_token": csrf_from(client.get("/admin/"))})
    response = _post(client, "/admin/brands/new", {"name": "", "primary_color": "zzz",
                                                     "accent_color": "#000000", "default_language": "en"})
    text = response.get_data(as_text=True)
    assert 'lang="ru"' in text
    assert "Give a colour as # and six hex digits" not in text
    assert "Nothing was saved." not in text


def test_auditor_creates_region_and_branch(app, login_as, org):
    client = login_as("auditor")
    brand_id = org["brands"][0].id
    assert _post(client, "/admin/regions/new", {"brand": brand_id, "name": "Transdanubia"}).status_code == 302
    with app.app_context(), database.connection_context():
        region = Region.get(Region.name == "Transdanubia")
    response = _post(client, "/admin/branches/new", {
        "region": region.id, "code": "pcs-01", "name": "Aurora Pécs Árkád", "address": "Bajcsy-Zsilinszky u. 11.",
        "city": "Pécs", "country": "HU", "latitude": "46.0727", "longitude": "18.2323", "is_active": "y"})
    assert response.status_code == 302
    with app.app_context(), database.connection_context():
        branch = Branch.get(Branch.code == "PCS-01")
    assert (branch.city, branch.latitude, branch.longitude) == ("Pécs", 46.0727, 18.2323)
    listing = client.get("/admin/branches").get_data(as_text=True)
    assert "Aurora Pécs Árkád" in listing


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"latitude": "91", "longitude": "19"}, "Latitude must be between -90 and 90."),
        ({"latitude": "47.5", "longitude": ""}, "Give both latitude and longitude, or neither."),
        ({"latitude": "north", "longitude": "19"}, "Not a valid float value."),
        ({"code": "BUD 01!"}, "Use only letters, digits, - and _ in the code."),
        ({"code": "BUD-01", "name": "Copy"}, "Another branch in this region already has this code."),
        ({"code": " bud-01 ", "name": "Copy"}, "Another branch in this region already has this code."),
        ({"country": "XX"}, "Not a valid choice."),
    ],
)
def test_bad_branch_input_is_named_and_nothing_changes(app, login_as, org, changes, message):
    client = login_as("auditor")
    before = _count(app, Branch)
    data = {"region": org["regions"][0].id, "code": "BUD-09", "name": "New", "address": "Fő utca 1.",
            "city": "Budapest", "country": "HU", "latitude": "", "longitude": ""}
    data.update(changes)
    response = _post(client, "/admin/branches/new", data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _count(app, Branch) == before


def test_auditor_creates_a_manager_scoped_to_regions(app, login_as, org):
    client = login_as("auditor")
    region_ids = [r.id for r in org["regions"]]
    response = _post(client, "/admin/users/new", {
        "name": "Ileana Pop", "email": "Ileana@Example.com", "role": "manager", "language": "ro",
        "regions": region_ids, "password": "a long enough pw", "is_enabled": "y"})
    assert response.status_code == 302, _errors(response)
    with app.app_context(), database.connection_context():
        user = User.by_email("ileana@example.com")
        assert user.region_ids() == set(region_ids)
        assert user.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"role": "manager", "regions": []}, "A manager needs at least one region."),
        ({"role": "shopper", "regions": ["REGION"]}, "Only managers are given regions."),
        ({"password": "short"}, "The password must be at least 10 characters long."),
        # Saved, it locked the account out: signing in took spaces alone for no password.
        ({"password": " " * 12}, "A password of spaces only cannot be used: type letters, digits or signs too."),
        ({"email": "manager@example.com"}, "Another account already uses this e-mail address."),
        ({"email": "not-an-address"}, "Enter a valid e-mail address."),
        ({"role": "admin"}, "Not a valid choice."),
    ],
)
def test_bad_account_input_is_named_and_nothing_changes(app, login_as, org, changes, message):
    client = login_as("auditor")
    before = _count(app, User), _count(app, ManagerRegion)
    data = {"name": "New Person", "email": "new@example.com", "role": "shopper", "language": "",
            "regions": [], "password": "long enough password", "is_enabled": "y"}
    data.update(changes)
    if data["regions"] == ["REGION"]:
        data["regions"] = [org["regions"][0].id]
    response = _post(client, "/admin/users/new", data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert (_count(app, User), _count(app, ManagerRegion)) == before


def _as_its_page_shows_it(client, account):
    """The account form as its page sends it, every field as shown (the manager's regions ticked)."""
    page = client.get(f"/admin/users/{account.id}")
    regions = re.findall(r'<option selected value="(\d+)"', page.get_data(as_text=True))
    return page, {"name": account.name, "email": account.email, "role": account.role, "language": "",
                  "password": "", "is_enabled": "y", "regions": regions}


@pytest.mark.parametrize("role, said", [
    ("shopper", "Mark Manager is now a shopper; they no longer see Hungary, Estonia."),
    ("auditor", "Mark Manager is now an auditor and sees every region, no longer only Hungary, Estonia."),
])
def test_a_manager_given_another_role_loses_the_regions_in_one_step(app, login_as, org, role, said):
    """Refused with "Only managers are given regions." until every region was unticked by hand."""
    client = login_as("auditor")
    manager = org["users"]["manager"]
    with app.app_context(), database.connection_context():
        ManagerRegion.create(manager=manager, region=org["regions"][1])
    page, data = _as_its_page_shows_it(client, manager)
    assert len(data["regions"]) == 2
    # Said on the form before saving, beside the regions; only on a manager's (others have none to lose).
    lose = "Given another role, this account loses its regions."
    assert lose in html.unescape(page.get_data(as_text=True))
    assert lose not in html.unescape(client.get(f"/admin/users/{org['users']['shopper'].id}").get_data(as_text=True))
    assert lose not in html.unescape(client.get("/admin/users/new").get_data(as_text=True))
    response = client.post(f"/admin/users/{manager.id}", data={**data, "role": role, **hidden_fields_from(page)},
                           follow_redirects=True)
    assert said in html.unescape(response.get_data(as_text=True)), _errors(response)
    with app.app_context(), database.connection_context():
        account = User.get_by_id(manager.id)
        assert account.role == role and account.region_ids() == set()


def test_a_region_ticked_anew_for_a_manager_made_a_shopper_is_refused(app, login_as, org):
    """Ticking a region and choosing Shopper at once says two contrary things: which was meant is asked."""
    client = login_as("auditor")
    manager = org["users"]["manager"]
    page, data = _as_its_page_shows_it(client, manager)
    data = {**data, "role": "shopper", "regions": [r.id for r in org["regions"]]}
    response = client.post(f"/admin/users/{manager.id}", data={**data, **hidden_fields_from(page)})
    assert response.status_code == 200
    assert "Only managers are given regions." in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        account = User.get_by_id(manager.id)
        assert account.role == "manager" and account.region_ids() == {org["regions"][0].id}


def test_disabling_an_account_in_the_form_signs_it_out(app, login_as, org):
    auditor = login_as("auditor")
    shopper = login_as("shopper")
    assert shopper.get("/visits/").status_code == 200
    target = org["users"]["shopper"]
    response = _post(auditor, f"/admin/users/{target.id}", {
        "name": target.name, "email": target.email, "role": "shopper", "language": "", "password": ""})
    assert response.status_code == 302, _errors(response)
    assert shopper.get("/visits/").status_code == 302


def test_a_lower_case_code_of_another_branch_is_refused_when_a_branch_is_edited(app, login_as, org):
    client = login_as("auditor")
    region = org["regions"][0]
    data = {"region": region.id, "code": "bud-02", "name": "Second", "address": "Fő utca 2.", "city": "Budapest",
            "country": "HU", "latitude": "", "longitude": ""}
    assert _post(client, "/admin/branches/new", data).status_code == 302
    with app.app_context(), database.connection_context():
        second = Branch.get((Branch.region == region) & (Branch.code == "BUD-02"))
    response = _post(client, f"/admin/branches/{second.id}", dict(data, code="bud-01"))
    assert response.status_code == 200
    assert "Another branch in this region already has this code." in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert Branch.get_by_id(second.id).code == "BUD-02"
    assert _post(client, f"/admin/branches/{second.id}", dict(data, code="bud-02", name="Renamed")).status_code == 302


def test_a_region_name_differing_only_in_case_is_a_duplicate(app, login_as, org):
    client = login_as("auditor")
    before = _count(app, Region)
    response = _post(client, "/admin/regions/new", {"brand": org["brands"][0].id, "name": " hungary "})
    assert response.status_code == 200
    assert "This brand already has a region with this name." in response.get_data(as_text=True)
    assert _count(app, Region) == before


def test_a_region_with_visits_stays_with_its_brand_and_an_empty_one_may_move(app, login_as, org):
    """Moved to another brand, a region's scored history would count in that brand's averages and
    reports, under its logo."""
    from datetime import date

    from audit.models import Checklist, ChecklistVersion, Visit

    client = login_as("auditor")
    hungary, other_brand = org["regions"][0], org["brands"][1]
    with app.app_context(), database.connection_context():
        checklist = Checklist.create(slug="tiny")
        version = ChecklistVersion.create(checklist=checklist, number=1, content={}, content_hash="x", is_published=True)
        Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                     planned_from=date.today(), planned_to=date.today())
        empty = Region.create(brand=hungary.brand_id, name="Dunántúl")

    refused = _post(client, f"/admin/regions/{hungary.id}", {"brand": other_brand.id, "name": hungary.name})
    moved = _post(client, f"/admin/regions/{empty.id}", {"brand": other_brand.id, "name": "Dunántúl"})

    assert refused.status_code == 200
    assert "This region&#39;s branches have visits made for its brand, so it cannot move" in refused.get_data(as_text=True)
    assert moved.status_code == 302
    with app.app_context(), database.connection_context():
        assert Region.get_by_id(hungary.id).brand_id == hungary.brand_id
        assert Region.get_by_id(empty.id).brand_id == other_brand.id


def test_a_branch_with_visits_stays_with_its_brand_but_may_change_region_within_it(app, login_as, org):
    from datetime import date

    from audit.models import Checklist, ChecklistVersion, Visit

    client = login_as("auditor")
    branch, region = org["branches"][0], org["regions"][0]
    with app.app_context(), database.connection_context():
        version = ChecklistVersion.create(checklist=Checklist.create(slug="tiny"), number=1, content={},
                                          content_hash="x", is_published=True)
        Visit.create(branch=branch, checklist_version=version, shopper=org["users"]["shopper"],
                     planned_from=date.today(), planned_to=date.today())
        same_brand = Region.create(brand=region.brand_id, name="Dunántúl")
        other_brand = Region.get(Region.brand == org["brands"][1].id)
    data = {"code": branch.code, "name": branch.name, "address": "Váci utca 1.", "city": "Budapest", "country": "HU",
            "latitude": "", "longitude": "", "is_active": "y"}

    refused = _post(client, f"/admin/branches/{branch.id}", {**data, "region": other_brand.id})
    moved = _post(client, f"/admin/branches/{branch.id}", {**data, "region": same_brand.id})

    assert "This branch has visits made for its brand, so it cannot move to another brand&#39;s region." in (
        refused.get_data(as_text=True))
    assert moved.status_code == 302
    with app.app_context(), database.connection_context():
        assert Branch.get_by_id(branch.id).region_id == same_brand.id


@pytest.mark.parametrize("changes", [{"role": "shopper"}, {"role": "manager", "regions": ["REGION"]}, {"is_enabled": ""}])
def test_the_only_enabled_auditor_cannot_be_demoted_or_disabled(app, login_as, org, changes):
    client = login_as("auditor")
    auditor = org["users"]["auditor"]
    data = {"name": auditor.name, "email": auditor.email, "role": "auditor", "language": "", "regions": [],
            "password": "", "is_enabled": "y"}
    data.update(changes)
    if data["regions"] == ["REGION"]:
        data["regions"] = [org["regions"][0].id]
    if data["is_enabled"] == "":
        del data["is_enabled"]
    response = _post(client, f"/admin/users/{auditor.id}", data)
    assert response.status_code == 200
    assert "This is the only enabled auditor account" in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        kept = User.get_by_id(auditor.id)
        assert (kept.role, kept.is_enabled) == ("auditor", True)
    assert client.get("/admin/").status_code == 200

    # With a second auditor, the first may become anything.
    assert _post(client, "/admin/users/new", {"name": "Second Auditor", "email": "second@example.com", "role": "auditor",
                                             "language": "", "regions": [], "password": "long enough password",
                                             "is_enabled": "y"}).status_code == 302
    assert _post(client, f"/admin/users/{auditor.id}", data).status_code == 302


def test_create_auditor_makes_the_first_account_and_restores_an_auditor(app, org):
    from conftest import login

    runner = app.test_cli_runner()
    made = runner.invoke(args=["create-auditor", "Boss@Example.com", "--name", "Bea Boss"],
                         input="a long enough pw\na long enough pw\n")
    assert made.exit_code == 0, made.output
    assert "Created the auditor account boss@example.com." in made.output
    client = app.test_client()
    assert login(client, "boss@example.com", "a long enough pw").status_code == 302
    assert client.get("/admin/").status_code == 200

    # A manager made an auditor: their regions go (an auditor sees everything), their sessions end.
    manager = app.test_client()
    assert login(manager, "manager@example.com").status_code == 302
    again = runner.invoke(args=["create-auditor", "manager@example.com", "--password", "another long pw"])
    assert again.exit_code == 0 and "Updated the auditor account manager@example.com (it was: manager)." in again.output
    assert manager.get("/dashboard/").status_code == 302  # signed out
    with app.app_context(), database.connection_context():
        user = User.by_email("manager@example.com")
        assert (user.role, user.is_enabled, user.name) == ("auditor", True, "Mark Manager")
        assert not ManagerRegion.select().where(ManagerRegion.manager == user).exists()
        from audit.models import AuditEntry
        logged = [(e.target, e.details["via"], e.details.get("was")) for e in AuditEntry.select().order_by(AuditEntry.id)
                  if e.details and e.details.get("via") == "create-auditor"]
        assert logged == [("boss@example.com", "create-auditor", None), ("manager@example.com", "create-auditor", "manager")]


@pytest.mark.parametrize("args,message", [
    (["create-auditor", "not-an-address", "--password", "a long enough pw"], "EMAIL"),
    (["create-auditor", "new@example.com", "--password", "short"], "at least 10 characters"),
])
def test_create_auditor_refuses_bad_input_and_changes_nothing(app, org, args, message):
    before = _count(app, User)
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0 and message in result.output
    assert _count(app, User) == before


def test_wtforms_own_messages_come_in_the_users_language(app, login_as, org):
    """WTForms' catalogs miss some messages in our languages (Hungarian lacked the length limit): the
    app's catalogs, complete in every language, give them."""
    client = login_as("auditor")
    client.post("/language", data={"language": "hu", "csrf_token": csrf_from(client.get("/admin/"))})
    before = _count(app, Branch)
    response = _post(client, "/admin/branches/new", {
        "region": org["regions"][0].id, "code": "BUD-09", "name": "x" * 161, "address": "Fő utca 1.",
        "city": "Budapest", "country": "HU", "latitude": "észak", "longitude": "19"})
    text = response.get_data(as_text=True)
    assert "Legfeljebb 160 karaktert írjon." in text and "Field cannot be longer" not in text
    assert "Számot adjon meg." in text and "Not a valid float value." not in text
    assert _count(app, Branch) == before


def test_an_agencys_branches_are_listed_50_a_page_by_region_and_found_however_typed(app, login_as, org):
    region_a, region_b = org["regions"]
    with app.app_context(), database.connection_context():
        Branch.insert_many([{"region": region_a.id, "code": f"SZ-{n:03d}", "name": f"Aurora Szeged {n}",
                             "address": "Kárász utca 1.", "city": "Szeged", "country": "HU"} for n in range(1, 101)]).execute()
        Branch.insert_many([{"region": region_b.id, "code": f"TRT-{n:03d}", "name": f"Baltia Тарту {n}",
                             "address": "Rüütli 1", "city": "Tartu", "country": "EE"} for n in range(1, 21)]).execute()
    client = login_as("auditor")
    codes = lambda text: re.findall(r'<th scope="row"><a href="/admin/branches/\d+"><span class="code">([A-Z]+-\d+)</span></a>', text)  # noqa: E731
    first = client.get("/admin/branches").get_data(as_text=True)
    assert len(codes(first)) == 50 and "Page 1 of 3" in first  # 122 branches
    every = codes(first) + [code for n in (2, 3) for code in codes(client.get(f"/admin/branches?page={n}").get_data(as_text=True))]
    assert len(every) == len(set(every)) == 122
    only_b = client.get(f"/admin/branches?region={region_b.id}").get_data(as_text=True)
    assert set(codes(only_b)) == {f"TRT-{n:03d}" for n in range(1, 21)} | {"NRV-01"} and "Page 1" not in only_b
    # Accents or none, as a phone without the language's letters types it: "vaci" finds "Aurora Váci utca".
    for typed, expected in (("тарту 7", {"TRT-007"}), ("SZEGED 10", {"SZ-010", "SZ-100"}), ("nrv", {"NRV-01"}),
                            ("vaci", {"BUD-01"}), ("VÁCI", {"BUD-01"}), ("vácz", set())):
        assert set(codes(client.get(f"/admin/branches?find={typed}").get_data(as_text=True))) == expected, typed
    assert "No branch matches the search." in client.get("/admin/branches?find=nowhere").get_data(as_text=True)
    beyond = client.get("/admin/branches?page=7").get_data(as_text=True)
    assert "There is no page 7: page 3 of 3 is shown." in beyond and len(codes(beyond)) == 22
    too_long = client.get("/admin/branches?find=" + "x" * 101).get_data(as_text=True)
    assert "Type at most 100 characters." in too_long and len(codes(too_long)) == 50


def test_an_agencys_accounts_are_listed_50_a_page_by_role_and_found_by_name_or_address(app, login_as, org):
    """Hundreds of shoppers came on one page 23,000 pixels long, with nothing to find one by."""
    with app.app_context(), database.connection_context():
        User.insert_many([{"email": f"shopper{n:03d}@example.com", "name": f"Próba Vásárló {n}", "role": "shopper",
                           "password_hash": "x"} for n in range(1, 121)]).execute()
    client = login_as("auditor")
    names = lambda text: re.findall(r'<th scope="row"><a href="/admin/users/\d+">([^<]+)</a>', text)  # noqa: E731
    first = client.get("/admin/users").get_data(as_text=True)
    total = 120 + len(org["users"])
    assert len(names(first)) == 50 and "Page 1 of 3" in first
    every = names(first) + [name for n in (2, 3) for name in names(client.get(f"/admin/users?page={n}").get_data(as_text=True))]
    assert len(every) == total
    managers = names(client.get("/admin/users?role=manager").get_data(as_text=True))
    assert managers and all(name in {u.name for u in org["users"].values() if u.role == "manager"} for name in managers)
    assert set(names(client.get("/admin/users?find=proba vasarlo 10").get_data(as_text=True))) == {
        "Próba Vásárló 10", "Próba Vásárló 100", "Próba Vásárló 101", "Próba Vásárló 102", "Próba Vásárló 103",
        "Próba Vásárló 104", "Próba Vásárló 105", "Próba Vásárló 106", "Próba Vásárló 107", "Próba Vásárló 108",
        "Próba Vásárló 109"}
    assert names(client.get("/admin/users?find=SHOPPER042@").get_data(as_text=True)) == ["Próba Vásárló 42"]
    found_page = client.get("/admin/users?role=shopper&find=vasarlo&page=3").get_data(as_text=True)
    assert "Page 3 of 3" in found_page and re.search(r'href="/admin/users\?[^"]*page=2[^"]*"', found_page)
    assert "role=shopper" in found_page and "find=vasarlo" in found_page  # the filters go on to the other pages
    assert "No account matches the search." in client.get("/admin/users?find=nobody").get_data(as_text=True)
    assert len(names(client.get("/admin/users?role=admin").get_data(as_text=True))) == 50  # no such role: all


def test_two_auditors_disabling_each_other_at_once_leave_one_enabled(app, login_as, org, monkeypatch):
    """Each request's form saw the other auditor still enabled (its check ran before the other one
    was written): the write checks again, and the second change is refused with the same message."""
    from audit.forms import UserForm

    first = org["users"]["auditor"]
    client = login_as("auditor")
    assert _post(client, "/admin/users/new", {"name": "Second Auditor", "email": "second@example.com", "role": "auditor",
                                             "language": "", "regions": [], "password": "long enough password",
                                             "is_enabled": "y"}).status_code == 302
    with app.app_context(), database.connection_context():
        second = User.by_email("second@example.com")
        User.update(is_enabled=False).where(User.id == second.id).execute()  # the other request, just committed
    monkeypatch.setattr(UserForm, "_keep_an_auditor", lambda self, field, stops: None)  # its form passed before that
    response = _post(client, f"/admin/users/{first.id}", {
        "name": first.name, "email": first.email, "role": "auditor", "language": "", "regions": [], "password": ""})
    assert response.status_code == 200
    assert "This is the only enabled auditor account" in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert User.get_by_id(first.id).is_enabled


def test_an_account_page_opened_before_another_auditors_change_does_not_undo_it(app, login_as, org):
    """Auditor A opens a shopper's page; auditor B disables the account (the shopper was let go) and
    takes a region from a manager; A then corrects a name from the page opened earlier. Every field
    was saved: the account was enabled again and the region given back, with "Account saved." Now
    A's page is out of date: nothing is saved, and the page shows the account as it is now."""
    first, second = login_as("auditor"), login_as("auditor")
    shopper, manager = org["users"]["shopper"], org["users"]["manager"]
    opened = {who.id: first.get(f"/admin/users/{who.id}") for who in (shopper, manager)}
    assert _post(second, f"/admin/users/{shopper.id}", {
        "name": shopper.name, "email": shopper.email, "role": "shopper", "language": "", "password": ""},
    ).status_code == 302  # no is_enabled: unticked
    assert _post(second, f"/admin/users/{manager.id}", {
        "name": manager.name, "email": manager.email, "role": "manager", "language": "", "password": "",
        "regions": [org["regions"][1].id], "is_enabled": "y"}).status_code == 302

    for who, changes in ((shopper, {"role": "shopper"}), (manager, {"role": "manager", "regions": [r.id for r in org["regions"]]})):
        response = first.post(f"/admin/users/{who.id}", data={
            "name": who.name + " Jr.", "email": who.email, "language": "", "password": "", "is_enabled": "y",
            **changes, **hidden_fields_from(opened[who.id])}, follow_redirects=True)
        page = response.get_data(as_text=True)
        assert "This was changed meanwhile (in another tab, or by another auditor)" in page
        assert "Account saved." not in page and f'value="{who.name}"' in page
    with app.app_context(), database.connection_context():
        assert not User.get_by_id(shopper.id).is_enabled
        assert User.get_by_id(manager.id).region_ids() == {org["regions"][1].id}
        assert {User.get_by_id(who.id).name for who in (shopper, manager)} == {shopper.name, manager.name}
    # The page as it is now saves, also when the account only signed in and out meanwhile (its
    # sessions' epoch changed, which the page does not show).
    opened_now = first.get(f"/admin/users/{manager.id}")
    signed_in = login_as("manager")
    assert signed_in.post("/logout", data={"csrf_token": csrf_from(signed_in.get("/dashboard/"))}).status_code == 302
    with app.app_context(), database.connection_context():
        assert User.get_by_id(manager.id).session_epoch > manager.session_epoch
    saved = first.post(f"/admin/users/{manager.id}", data={
        "name": manager.name + " Jr.", "email": manager.email, "role": "manager", "language": "", "password": "",
        "regions": [org["regions"][1].id], "is_enabled": "y", **hidden_fields_from(opened_now)})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/admin/users")


@pytest.mark.parametrize("kind", ["brands", "regions", "branches"])
def test_a_brand_region_or_branch_page_opened_before_a_change_does_not_undo_it(app, login_as, org, kind):
    row = {"brands": org["brands"][0], "regions": org["regions"][0], "branches": org["branches"][0]}[kind]
    client = login_as("auditor")
    older = client.get(f"/admin/{kind}/{row.id}")
    model = {"brands": Brand, "regions": Region, "branches": Branch}[kind]
    with app.app_context(), database.connection_context():
        model.update(name="Renamed by another auditor").where(model.id == row.id).execute()
    form = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', older.get_data(as_text=True)))
    form.update(re.findall(r'<select[^>]*name="(\w+)".*?<option selected value="([^"]*)"', older.get_data(as_text=True), re.S))
    response = client.post(f"/admin/{kind}/{row.id}", data=form, follow_redirects=True)
    assert "This was changed meanwhile" in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert model.get_by_id(row.id).name == "Renamed by another auditor"


@pytest.mark.parametrize("kind", ["account", "region", "branch"])
def test_a_form_saved_twice_at_once_makes_one_row_and_the_second_press_says_why(app, login_as, org, monkeypatch,
                                                                                kind):
    """A double press on Save: both forms passed their check (for an account, while the password was
    hashed) and the second insert answered a 500 (the row was made, the auditor saw an error page)."""
    from audit.forms import BranchForm, RegionForm, UserForm

    client = login_as("auditor")
    url, form_class, check_name, data, model, message = {
        "account": ("/admin/users/new", UserForm, "validate_email",
                    {"name": "Double Press", "email": "double@example.com", "role": "shopper", "language": "",
                     "regions": [], "password": "a long enough pw", "is_enabled": "y"},
                    User, "Another account already uses this e-mail address."),
        "region": ("/admin/regions/new", RegionForm, "validate_name",
                   {"brand": org["regions"][0].brand_id, "name": "Twice Pressed"},
                   Region, "This brand already has a region with this name."),
        "branch": ("/admin/branches/new", BranchForm, "validate_code",
                   {"region": org["regions"][0].id, "code": "TWICE-1", "name": "Twice", "address": "Fő utca 1.",
                    "city": "Pécs", "country": "HU", "is_active": "y"},
                   Branch, "Another branch in this region already has this code."),
    }[kind]
    assert _post(client, url, data).status_code == 302  # the first press
    before = _count(app, model)
    check = getattr(form_class, check_name)
    checked = []

    def checked_before_the_first_press_was_written(form, field):
        if not checked:
            checked.append(field.data)
            return None
        return check(form, field)

    monkeypatch.setattr(form_class, check_name, checked_before_the_first_press_was_written)
    second = _post(client, url, data)
    assert second.status_code == 200 and checked
    assert message in _errors(second)
    assert _count(app, model) == before


def test_a_region_made_by_mistake_is_deleted_but_not_one_with_branches_or_managers(app, login_as, org):
    """A region made by mistake stayed in every menu and in the dashboard's list of regions' reports."""
    client = login_as("auditor")
    assert _post(client, "/admin/regions/new", {"brand": org["regions"][0].brand_id, "name": "Dbl Region"}).status_code == 302
    with app.app_context(), database.connection_context():
        mistake = Region.get(Region.name == "Dbl Region")
        managed = Region.create(brand=org["regions"][0].brand_id, name="Managed, empty")
        ManagerRegion.create(manager=org["users"]["manager"], region=managed)
    used = org["regions"][0]
    page = client.get(f"/admin/regions/{mistake.id}").get_data(as_text=True)
    assert "Delete the region" in page
    assert "Delete the region" not in client.get(f"/admin/regions/{used.id}").get_data(as_text=True)
    token = csrf_from(client.get(f"/admin/regions/{mistake.id}"))
    for region, message in ((used, "This region has branches: it cannot be deleted."),
                            (managed, "Managers still see this region: take it from their accounts first.")):
        refused = client.post(f"/admin/regions/{region.id}/delete", data={"csrf_token": token}, follow_redirects=True)
        assert message in html.unescape(refused.get_data(as_text=True))
    assert client.post(f"/admin/regions/{mistake.id}/delete", data={}).status_code == 400  # no token
    before = _count(app, Region)
    deleted = client.post(f"/admin/regions/{mistake.id}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "Region deleted." in deleted.get_data(as_text=True)
    assert _count(app, Region) == before - 1 and "Dbl Region" not in deleted.get_data(as_text=True)
    manager = login_as("manager")
    assert manager.post(f"/admin/regions/{managed.id}/delete",
                        data={"csrf_token": csrf_from(manager.get("/dashboard/"))}).status_code == 403


@pytest.fixture
def first_auditor(app):
    """A new installation: its first auditor signed in, and nothing else made yet."""
    from tests_support import signed_in_new_auditor

    return signed_in_new_auditor(app, "first@agency.eu", "First Auditor")


def _links(response):
    return re.findall(r'<a href="([^"]+)">', response.get_data(as_text=True))


def test_overview_of_a_new_installation_lists_the_first_steps_with_their_pages(app, first_auditor):
    page = first_auditor.get("/admin/")
    text = page.get_data(as_text=True)
    assert "Getting started" in text
    for url in ["/admin/brands/new", "/admin/regions/new", "/admin/branches/import", "/admin/users/import",
                "/checklists/", "/admin/visits/new"]:
        assert url in _links(page), url
    with app.app_context(), database.connection_context():
        Region.create(brand=Brand.create(name="Acme Foods"), name="Cluj")
    page = first_auditor.get("/admin/")
    links = _links(page)
    assert "/admin/brands/new" not in links and "/admin/regions/new" not in links  # done: no longer a link
    assert "/admin/branches/import" in links


def test_overview_drops_the_first_steps_once_each_is_done(app, org, login_as):
    from datetime import date

    from audit.models import ChecklistVersion, Visit
    from audit.operations import publish_checklist_file
    from tests_support import ROOT

    client = login_as("auditor")
    assert "Getting started" in client.get("/admin/").get_data(as_text=True)  # no checklist, no visit yet
    with app.app_context(), database.connection_context():
        publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        Visit.create(branch=org["branches"][0], checklist_version=ChecklistVersion.get(),
                     shopper=org["users"]["shopper"], planned_from=date.today(), planned_to=date.today())
    assert "Getting started" not in client.get("/admin/").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/admin/visits/new", "/admin/visits/bulk"])
def test_assigning_with_nothing_to_assign_says_what_to_add_first(app, first_auditor, url):
    page = first_auditor.get(url)
    text = page.get_data(as_text=True)
    assert "Before a visit can be assigned" in text
    assert "No checklist is published yet" in text and "No shopper has an account yet" in text
    links = _links(page)
    assert "/admin/branches" in links and "/checklists/" in links and "/admin/users" in links


def test_assigning_with_everything_in_place_shows_no_missing_list(app, org, login_as):
    from audit.operations import publish_checklist_file
    from tests_support import ROOT

    with app.app_context(), database.connection_context():
        publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
    client = login_as("auditor")
    for url in ["/admin/visits/new", "/admin/visits/bulk"]:
        assert "Before a visit can be assigned" not in client.get(url).get_data(as_text=True)


def test_empty_regions_and_branches_lead_to_what_comes_first(app, first_auditor):
    regions = first_auditor.get("/admin/regions")
    assert "/admin/brands/new" in _links(regions)
    branches = first_auditor.get("/admin/branches")
    assert "/admin/regions/new" in _links(branches)
    with app.app_context(), database.connection_context():
        Region.create(brand=Brand.create(name="Acme Foods"), name="Cluj")
    assert "/admin/brands/new" not in _links(first_auditor.get("/admin/regions"))
    assert "/admin/branches/import" in _links(first_auditor.get("/admin/branches"))
