"""Every route x every role: the permission matrix. A route missing from it fails the test."""
from datetime import date

import pytest

from audit.db import database
from audit.media import store_logo
from audit.models import Brand
from conftest import csrf_from, login

ROLES = ["anonymous", "shopper", "other_shopper", "auditor", "manager", "other_manager"]

LOGIN = 302  # anonymous visitors are sent to the sign-in page
ADMIN_ONLY = {"anonymous": LOGIN, "shopper": 403, "other_shopper": 403, "auditor": 200, "manager": 403,
              "other_manager": 403}


def _matrix(org):
    """rule -> (method, url, {role: expected status}). `branch` is in `manager`'s region only."""
    branch = org["branches"][0]
    brand, region = org["brands"][0], org["regions"][0]
    user = org["users"]["shopper"]
    everyone = {role: 200 for role in ROLES}
    return {
        "/": ("GET", "/", {role: 302 for role in ROLES}),
        "/login": ("GET", "/login", {"anonymous": 200, **{r: 302 for r in ROLES[1:]}}),
        "/logout": ("POST", "/logout", {"anonymous": LOGIN, **{r: 302 for r in ROLES[1:]}}),
        "/language": ("POST", "/language", {role: 302 for role in ROLES}),
        "/account/password": ("GET", "/account/password", {"anonymous": LOGIN, **{r: 200 for r in ROLES[1:]}}),
        "/manifest.webmanifest": ("GET", "/manifest.webmanifest", everyone),
        "/sw.js": ("GET", "/sw.js", everyone),
        "/healthz": ("GET", "/healthz", everyone),
        "/static/<path:filename>": ("GET", "/static/app.css", everyone),
        "/media/logos/<name>": ("GET", "/media/logos/LOGO", {"anonymous": LOGIN, **{r: 200 for r in ROLES[1:]}}),
        "/admin/": ("GET", "/admin/", ADMIN_ONLY),
        "/admin/brands": ("GET", "/admin/brands", ADMIN_ONLY),
        "/admin/brands/new": ("GET", "/admin/brands/new", ADMIN_ONLY),
        "/admin/brands/<int:brand_id>": ("GET", f"/admin/brands/{brand.id}", ADMIN_ONLY),
        "/admin/regions": ("GET", "/admin/regions", ADMIN_ONLY),
        "/admin/regions/new": ("GET", "/admin/regions/new", ADMIN_ONLY),
        "/admin/regions/<int:region_id>": ("GET", f"/admin/regions/{region.id}", ADMIN_ONLY),
        # It has branches: the auditor is sent back to it with a message, nothing deleted.
        "/admin/regions/<int:region_id>/delete": ("POST", f"/admin/regions/{region.id}/delete",
                                                  {**ADMIN_ONLY, "auditor": 302}),
        "/admin/branches": ("GET", "/admin/branches", ADMIN_ONLY),
        "/admin/branches/new": ("GET", "/admin/branches/new", ADMIN_ONLY),
        "/admin/branches/<int:branch_id>": ("GET", f"/admin/branches/{branch.id}", ADMIN_ONLY),
        "/admin/branches/import": ("GET", "/admin/branches/import", ADMIN_ONLY),
        "/admin/brands/<int:brand_id>/branches.csv": ("GET", f"/admin/brands/{brand.id}/branches.csv", ADMIN_ONLY),
        "/admin/users": ("GET", "/admin/users", ADMIN_ONLY),
        "/admin/users/new": ("GET", "/admin/users/new", ADMIN_ONLY),
        "/admin/users/<int:user_id>": ("GET", f"/admin/users/{user.id}", ADMIN_ONLY),
        "/admin/users/import": ("GET", "/admin/users/import", ADMIN_ONLY),
        "/admin/users/invitations.csv": ("POST", "/admin/users/invitations.csv", ADMIN_ONLY),
        "/admin/users/invitations": ("GET", "/admin/users/invitations", ADMIN_ONLY),
        # No import made accounts with this id: not found (an import's own page, test_invitations).
        "/admin/users/imports/<batch>": ("GET", "/admin/users/imports/not-an-import", {**ADMIN_ONLY, "auditor": 404}),
        "/admin/users/<int:user_id>/password-link": ("POST", f"/admin/users/{user.id}/password-link", ADMIN_ONLY),
        # A link that is none: gone for everyone (a real one is for whoever holds it, test_password_links).
        "/password/<token>": ("GET", "/password/not-a-link", {role: 410 for role in ROLES}),
        "/dashboard/": ("GET", "/dashboard/", {"anonymous": LOGIN, "shopper": 403, "auditor": 200,
                                               "manager": 200, "other_manager": 200}),
        "/dashboard/ranking": ("GET", "/dashboard/ranking", {"anonymous": LOGIN, "shopper": 403, "auditor": 200,
                                                             "manager": 200, "other_manager": 200}),
        "/dashboard/branches/<int:branch_id>": (
            "GET", f"/dashboard/branches/{branch.id}",
            {"anonymous": LOGIN, "shopper": 403, "auditor": 200, "manager": 200, "other_manager": 404},
        ),
        "/visits/": ("GET", "/visits/", {"anonymous": LOGIN, "shopper": 200, "auditor": 403,
                                         "manager": 403, "other_manager": 403}),
        "/visits/checklist-language": ("POST", "/visits/checklist-language", {
            "anonymous": LOGIN, "shopper": 204, "auditor": 403, "manager": 403, "other_manager": 403}),
        "/reports/branches/<int:branch_id>/visits.pdf": (
            "GET", f"/reports/branches/{branch.id}/visits.pdf",
            {"anonymous": LOGIN, "shopper": 403, "auditor": 200, "manager": 200, "other_manager": 404},
        ),
        **_editor_matrix(),
        **_shopper_matrix(),
    }


def _shopper_matrix():
    """The shopper's pages and the sync API: `visit` is `shopper`'s; to `other_shopper` it does not exist."""
    visit = "/visits/VISIT"
    api = "/api/v1/visits/VISIT"
    own = {"anonymous": LOGIN, "shopper": 200, "other_shopper": 404, "auditor": 403, "manager": 403,
           "other_manager": 403}
    api_own = {**own, "anonymous": 401}
    rows = [
        ("/visits/<visit_uuid>/fill", "GET", visit + "/fill", own),
        ("/visits/<visit_uuid>/photos/<client_id>", "GET", visit + "/photos/PHOTO", own),
        ("/api/v1/openapi.json", "GET", "/api/v1/openapi.json", {role: 200 for role in ROLES}),
        ("/api/v1/visits", "GET", "/api/v1/visits", {**api_own, "other_shopper": 200}),
        ("/api/v1/visits/<visit_uuid>", "GET", api, api_own),
        # Form data where JSON belongs: the shopper gets 400, everyone else is stopped before.
        ("/api/v1/visits/<visit_uuid>/submission", "POST", api + "/submission", {**api_own, "shopper": 400}),
        ("/api/v1/visits/<visit_uuid>/photos", "POST", api + "/photos", {**api_own, "shopper": 422}),
        ("/admin/visits", "GET", "/admin/visits", ADMIN_ONLY),
        ("/admin/log", "GET", "/admin/log", ADMIN_ONLY),
        # No branch named: a branch outside everyone's scope, so a missing page.
        ("/dashboard/actions", "POST", "/dashboard/actions", {"anonymous": LOGIN, "shopper": 403, "auditor": 404,
                                                              "manager": 404, "other_manager": 404}),
        ("/dashboard/actions/<int:action_id>/done", "POST", "/dashboard/actions/ACTION/done",
         {"anonymous": LOGIN, "shopper": 403, "auditor": 302, "manager": 302, "other_manager": 404}),
        ("/dashboard/actions/<int:action_id>/reopen", "POST", "/dashboard/actions/ACTION/reopen",
         {"anonymous": LOGIN, "shopper": 403, "auditor": 302, "manager": 302, "other_manager": 404}),
        ("/dashboard/actions/<int:action_id>", "GET", "/dashboard/actions/ACTION",
         {"anonymous": LOGIN, "shopper": 403, "auditor": 200, "manager": 200, "other_manager": 404}),
        ("/review/", "GET", "/review/", ADMIN_ONLY),
        ("/reports/regions/<int:region_id>.pdf", "GET", "/reports/regions/REGION.pdf",
         {"anonymous": LOGIN, "shopper": 403, "auditor": 200, "manager": 200, "other_manager": 404}),
        # The brand of `manager`'s region: another brand's manager has none of its regions.
        ("/reports/brands/<int:brand_id>.pdf", "GET", "/reports/brands/BRAND.pdf",
         {"anonymous": LOGIN, "shopper": 403, "auditor": 200, "manager": 200, "other_manager": 404}),
        ("/reports/regions/<int:region_id>/reports.zip", "POST", "/reports/regions/REGION/reports.zip",
         {"anonymous": LOGIN, "shopper": 403, "auditor": 302, "manager": 302, "other_manager": 404}),
        ("/reports/jobs/<job_uuid>", "GET", "/reports/jobs/JOB",
         {"anonymous": LOGIN, "shopper": 403, "auditor": 404, "manager": 200, "other_manager": 404}),
        ("/reports/jobs/<job_uuid>/download", "GET", "/reports/jobs/JOB/download",
         {"anonymous": LOGIN, "shopper": 403, "auditor": 404, "manager": 404, "other_manager": 404}),
        ("/reports/export.csv", "GET", "/reports/export.csv",
         {"anonymous": LOGIN, "shopper": 403, "auditor": 200, "manager": 200, "other_manager": 200}),
        # Starts a job over the user's own branches (none of the others' ever), shown on its page.
        ("/reports/export.xlsx", "POST", "/reports/export.xlsx",
         {"anonymous": LOGIN, "shopper": 403, "auditor": 302, "manager": 302, "other_manager": 302}),
        # Not yet approved: the auditor may read it, a manager never sees it.
        ("/reports/visits/<visit_uuid>.pdf", "GET", "/reports/visits/VISIT.pdf",
         {"anonymous": LOGIN, "shopper": 403, "auditor": 200, "manager": 404, "other_manager": 404}),
        ("/review/<visit_uuid>", "GET", "/review/VISIT", ADMIN_ONLY),
        ("/review/<visit_uuid>/photos/<client_id>", "GET", "/review/VISIT/photos/PHOTO", ADMIN_ONLY),
        ("/review/<visit_uuid>/photos/<client_id>/reports", "POST", "/review/VISIT/photos/PHOTO/reports",
         {**ADMIN_ONLY, "auditor": 302}),
        # The visit is not submitted: the auditor is sent back to it with a message.
        ("/review/<visit_uuid>/approve", "POST", "/review/VISIT/approve", {**ADMIN_ONLY, "auditor": 302}),
        # An empty note or correction: the page again with the message beside the field.
        ("/review/<visit_uuid>/return", "POST", "/review/VISIT/return", {**ADMIN_ONLY, "auditor": 422}),
        ("/review/<visit_uuid>/reopen", "POST", "/review/VISIT/reopen", {**ADMIN_ONLY, "auditor": 422}),
        ("/review/<visit_uuid>/answers/<item_id>", "POST", "/review/VISIT/answers/greeted",
         {**ADMIN_ONLY, "auditor": 422}),
        # Its answer has no comment to correct (tests/test_review.py corrects one).
        ("/review/<visit_uuid>/comments/<item_id>", "POST", "/review/VISIT/comments/greeted",
         {**ADMIN_ONLY, "auditor": 404}),
        ("/admin/visits/new", "GET", "/admin/visits/new", ADMIN_ONLY),
        ("/admin/visits/bulk", "GET", "/admin/visits/bulk", ADMIN_ONLY),
        ("/admin/visits/<visit_uuid>", "GET", "/admin/visits/VISIT", ADMIN_ONLY),
        # A visit that does not exist: the roles are told apart without withdrawing the one the others use.
        ("/admin/visits/<visit_uuid>/withdraw", "POST", "/admin/visits/00000000-0000-4000-8000-000000000000/withdraw",
         {**ADMIN_ONLY, "auditor": 404}),
    ]
    return {rule: (method, url, expected) for rule, method, url, expected in rows}


@pytest.fixture
def shopper_visit(app, org):
    from datetime import date

    from audit import ROOT
    from audit.models import Action, Job, Visit
    from audit.operations import add_photo, publish_checklist_file
    from tests_support import tiny_png

    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today())
        add_photo(visit, "photo-1", "shop_front", tiny_png(), app.config["MEDIA_DIR"], 2**20, 10**6)
        action = Action.create(branch=org["branches"][0], what="Greet every customer", owner="Store lead",
                               due_date=date.today(), created_by=org["users"]["manager"])
        job = Job.create(kind="region_zip", owner=org["users"]["manager"], total=1, title="Hungary")
    return {"VISIT": str(visit.uuid), "PHOTO": "photo-1", "ACTION": str(action.id), "JOB": str(job.uuid),
            "REGION": str(org["regions"][0].id), "BRAND": str(org["brands"][0].id)}


def _editor_matrix():
    """The checklist editor: auditors only. `small-visit` has a published version 1 and a draft 2.

    The POSTs come last, in this order: deleting item `wait` changes the draft, so publishing it
    succeeds and discarding then finds no draft (back to its history, which says so: 302)."""
    base = "/checklists/small-visit"
    admin_post = {**ADMIN_ONLY, "auditor": 302}
    admin_asks = {**ADMIN_ONLY, "auditor": 200}
    rows = [
        ("/checklists/", "GET", "/checklists/", ADMIN_ONLY),
        ("/checklists/new", "GET", "/checklists/new", ADMIN_ONLY),
        ("/checklists/<slug>/", "GET", base + "/", ADMIN_ONLY),
        ("/checklists/<slug>/v<int:number>.yaml", "GET", base + "/v1.yaml", ADMIN_ONLY),
        ("/checklists/<slug>/v<int:number>.xlsx", "GET", base + "/v1.xlsx", ADMIN_ONLY),
        ("/checklists/<slug>/v<int:number>/preview", "GET", base + "/v1/preview?lang=ru", ADMIN_ONLY),
        ("/checklists/<slug>/draft", "GET", base + "/draft", ADMIN_ONLY),
        ("/checklists/<slug>/draft/settings", "GET", base + "/draft/settings", ADMIN_ONLY),
        ("/checklists/<slug>/draft/sections/new", "GET", base + "/draft/sections/new", ADMIN_ONLY),
        ("/checklists/<slug>/draft/sections/<section_id>", "GET", base + "/draft/sections/welcome", ADMIN_ONLY),
        ("/checklists/<slug>/draft/sections/<section_id>/items/new", "GET",
         base + "/draft/sections/welcome/items/new", ADMIN_ONLY),
        ("/checklists/<slug>/draft/items/<item_id>", "GET", base + "/draft/items/greeted", ADMIN_ONLY),
        ("/checklists/<slug>/client", "POST", base + "/client", admin_post),
        # Nothing chosen: the auditor is sent back to the draft with the message.
        ("/checklists/<slug>/draft/languages", "POST", base + "/draft/languages", admin_post),
        ("/checklists/import", "POST", "/checklists/import", {**ADMIN_ONLY, "auditor": 400}),
        ("/checklists/<slug>/draft/start", "POST", base + "/draft/start", admin_post),
        ("/checklists/<slug>/draft/sections/<section_id>/move", "POST", base + "/draft/sections/welcome/move",
         admin_post),
        ("/checklists/<slug>/draft/items/<item_id>/move", "POST", base + "/draft/items/greeted/move", admin_post),
        # A deletion (and a discard) asks first: the auditor gets the page with the question.
        ("/checklists/<slug>/draft/sections/<section_id>/delete", "POST", base + "/draft/sections/welcome/delete",
         admin_asks),
        ("/checklists/<slug>/draft/items/<item_id>/delete", "POST", base + "/draft/items/wait/delete", admin_asks),
        ("/checklists/<slug>/draft/texts", "POST", base + "/draft/texts", admin_post),
        ("/checklists/<slug>/draft/publish", "POST", base + "/draft/publish", admin_post),
        ("/checklists/<slug>/draft/discard", "POST", base + "/draft/discard", admin_asks),
    ]
    return {rule: (method, url, expected) for rule, method, url, expected in rows}


@pytest.fixture
def small_checklist_with_draft(app, tmp_path):
    from audit.models import Checklist
    from audit.operations import publish_checklist_file, start_draft
    from tests_support import SMALL

    path = tmp_path / "small-visit.yaml"
    path.write_text(SMALL, encoding="utf-8")
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(str(path))
        start_draft(Checklist.get(Checklist.slug == "small-visit"), version)


@pytest.fixture
def logo_name(app, org):
    from tests_support import tiny_png

    with app.app_context(), database.connection_context():
        name = store_logo(tiny_png(), app.config["MEDIA_DIR"], 2**20, 10**6)
        Brand.update(logo_file=name).where(Brand.id == org["brands"][0].id).execute()
    return name


def test_every_route_is_in_the_permission_matrix(app, org):
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert rules == set(_matrix(org)), "add the new route to the matrix with the answer each role gets"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_answer_on_every_route(app, org, role, logo_name, small_checklist_with_draft,
                                                           shopper_visit):
    client = app.test_client()
    if role != "anonymous":
        assert login(client, org["users"][role].email).status_code == 302
    token = csrf_from(client.get("/login", follow_redirects=True))
    failures = []
    for rule, (method, url, expected) in _matrix(org).items():
        url = url.replace("LOGO", logo_name)
        for key, value in shopper_visit.items():
            url = url.replace(key, value)
        expected = dict(expected)
        expected.setdefault("other_shopper", expected["shopper"])
        if method == "POST":
            response = client.post(url, data={"csrf_token": token, "language": "en", "direction": "up"})
        else:
            response = client.get(url)
        if response.status_code != expected[role]:
            failures.append(f"{method} {url}: {response.status_code}, expected {expected[role]}")
        if rule == "/logout" and role != "anonymous":
            assert login(client, org["users"][role].email).status_code == 302  # sign back in
            token = csrf_from(client.get("/login", follow_redirects=True))
    assert not failures, "\n".join(failures)


def test_ids_outside_a_managers_regions_look_like_missing_pages(app, org, login_as):
    client = login_as("other_manager")
    foreign = org["branches"][0].id
    missing = 999999
    assert client.get(f"/reports/branches/{foreign}/visits.pdf").status_code == 404
    assert client.get(f"/reports/branches/{missing}/visits.pdf").status_code == 404


def test_manager_dashboard_lists_only_branches_of_their_regions(login_as, org):
    page = login_as("manager").get("/dashboard/").get_data(as_text=True)
    assert "Aurora Váci utca" in page
    assert "Baltia Нарва" not in page


@pytest.mark.parametrize("path, role", [
    ("/dashboard/branches/99999999999999999999999", "manager"),
    ("/reports/branches/99999999999999999999999/visits.pdf", "manager"),
    ("/reports/regions/99999999999999999999999.pdf", "manager"),
    ("/reports/brands/99999999999999999999999.pdf", "manager"),
    ("/reports/brands/99999999999999999999999.pdf", "auditor"),
    ("/admin/branches/99999999999999999999999", "auditor"),
    ("/admin/users/9223372036854775808", "auditor"),
])
def test_an_id_too_large_for_the_database_is_a_missing_page(login_as, path, role):
    assert login_as(role).get(path).status_code == 404


TOO_LARGE = "99999999999999999999999"


@pytest.mark.parametrize("path, role, status", [
    # The exports and queues take the dashboard's filters from the query: a number no row can have
    # is not found (an export of a region, brand or checklist: not some other file) or filters to
    # nothing; the database is not asked (its driver refused: a 500).
    (f"/reports/export.csv?region={TOO_LARGE}", "manager", 404),
    (f"/reports/export.csv?brand={TOO_LARGE}", "manager", 404),
    (f"/reports/export.csv?checklist={TOO_LARGE}", "manager", 404),
    (f"/reports/export.csv?region=-{TOO_LARGE}", "manager", 404),
    (f"/review/?shopper={TOO_LARGE}&brand={TOO_LARGE}", "auditor", 200),
    (f"/admin/visits?shopper={TOO_LARGE}", "auditor", 200),
])
def test_an_id_too_large_for_the_database_in_a_filter_is_no_row(login_as, path, role, status):
    assert login_as(role).get(path).status_code == status


def test_an_action_for_a_branch_id_too_large_for_the_database_is_refused_and_saves_nothing(app, login_as, org):
    from audit.models import Action

    manager = login_as("manager")
    csrf = csrf_from(manager.get("/dashboard/"))
    for branch in (TOO_LARGE, "-1", "1e3", ""):
        answer = manager.post("/dashboard/actions", data={
            "branch": branch, "what": "Clear the doorway", "owner": "Anna", "due_date": date.today().isoformat(),
            "csrf_token": csrf})
        assert answer.status_code == 404, branch
    with app.app_context(), database.connection_context():
        assert Action.select().count() == 0
