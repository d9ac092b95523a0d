"""Auditors assign visits: one at a time or a whole region, pinned to the published checklist, and never
the same shopper at the same branch twice within the no-repeat window."""
import html
import re
from datetime import date, timedelta

import pytest
from babel.dates import format_date as babel_date
from flask_babel import force_locale, gettext

from audit.checklist import content_hash, load_checklist_text
from audit.db import database
from audit.models import Branch, Checklist, ChecklistVersion, User, Visit
from audit.operations import AssignmentRefused, assign_region, assign_visit, import_draft, publish_checklist
from conftest import csrf_from, hidden_fields_from
from tests_support import SMALL

DAY = date.today() + timedelta(days=40)  # a window not over yet even 30 days earlier, as the form requires
TOO_SOON = "This shopper already has a visit to this branch within %(days)d days."
NOTHING_SAVED = "Please correct the fields marked below. Nothing was saved."


def _publish(app, text=SMALL):
    with app.app_context(), database.connection_context():
        data = load_checklist_text(text)
        version, _created = publish_checklist(data, content_hash(data))
        return version


def _post(client, url, data):
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, data={**data, **hidden_fields_from(page)})


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def _field_error(response, field):
    """The message shown under one form field, or None."""
    match = re.search(rf'id="{field}-error">([^<]*)<', response.get_data(as_text=True))
    return html.unescape(match.group(1)) if match else None


def _visits(app):
    with app.app_context(), database.connection_context():
        return list(Visit.select().order_by(Visit.id))


def _single(org, checklist_id, planned_from=DAY, planned_to=None, shopper="shopper", branch=0):
    return {
        "branch": str(org["branches"][branch].id),
        "checklist": str(checklist_id),
        "shopper": str(org["users"][shopper].id),
        "planned_from": planned_from.isoformat(),
        "planned_to": (planned_to or planned_from + timedelta(days=6)).isoformat(),
        "scenario": "  Ask for a mid-range phone for your mother.  ",
    }


def _bulk(org, checklist_id, shoppers=("shopper", "other_shopper"), planned_from=DAY):
    return {
        "region": str(org["regions"][0].id),
        "checklist": str(checklist_id),
        "shoppers": [str(org["users"][key].id) for key in shoppers],
        "planned_from": planned_from.isoformat(),
        "planned_to": (planned_from + timedelta(days=6)).isoformat(),
        "scenario": "Ask about a warranty.",
    }


def _existing_visit(app, org, version, shopper, branch, planned_from):
    with app.app_context(), database.connection_context():
        return Visit.create(branch=branch, checklist_version=version, shopper=org["users"][shopper],
                            planned_from=planned_from, planned_to=planned_from + timedelta(days=3))


def test_a_visit_keeps_the_version_published_when_it_was_assigned(app, org, login_as):
    first = _publish(app)
    client = login_as("auditor")

    response = _post(client, "/admin/visits/new", _single(org, first.checklist_id))

    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/visits")
    assert "Visit assigned." in _text(client.get("/admin/visits"))
    [visit] = _visits(app)
    assert visit.checklist_version_id == first.id
    assert visit.shopper_id == org["users"]["shopper"].id and visit.branch_id == org["branches"][0].id
    assert (visit.planned_from, visit.planned_to) == (DAY, DAY + timedelta(days=6))
    assert visit.scenario == "Ask for a mid-range phone for your mother." and visit.state == "assigned"

    second = _publish(app, SMALL.replace("Greeted?", "Were you greeted?"))
    assert second.number == 2 and second.checklist_id == first.checklist_id

    [visit] = _visits(app)
    assert visit.checklist_version_id == first.id  # a later publish does not move the visit
    response = _post(client, "/admin/visits/new", _single(org, first.checklist_id, branch=1))
    assert response.status_code == 302
    assert [v.checklist_version_id for v in _visits(app)] == [first.id, second.id]
    # The list says which checklist and version each visit is to be filled with.
    listed = _text(client.get("/admin/visits"))
    with app.app_context(), database.connection_context():
        title = ChecklistVersion.get_by_id(first.id).title("en")
    assert f"{title} · v1" in listed and f"{title} · v2" in listed


UNTRANSLATED = ("The checklist has no text in the language of Sara Shopper (Magyar), who will see it in English; if "
                "they cannot read it, give their visits to other shoppers.")


@pytest.mark.parametrize("url, form", [
    ("/admin/visits/new", _single),
    ("/admin/visits/bulk", lambda org, checklist_id: _bulk(org, checklist_id, shoppers=("shopper",))),
])
def test_a_shopper_whose_language_the_checklist_lacks_is_named_when_assigned(app, org, login_as, url, form):
    """A Hungarian shopper given a checklist in English and Russian is shown it in English; the auditor
    heard of it from the shopper, at the shop."""
    version = _publish(app)  # in English and Russian
    with app.app_context(), database.connection_context():
        User.update(language="hu").where(User.id == org["users"]["shopper"].id).execute()
        User.update(language="ru").where(User.id == org["users"]["other_shopper"].id).execute()
    client = login_as("auditor")

    assert _post(client, url, form(org, version.checklist_id)).status_code == 302

    assert UNTRANSLATED in _text(client.get("/admin/visits"))


def test_a_visit_given_to_a_shopper_whose_language_the_checklist_lacks_says_so(app, org, login_as):
    version = _publish(app)
    visit = _assigned_visit(app, org, version, shopper="other_shopper")
    with app.app_context(), database.connection_context():
        User.update(language="hu").where(User.id == org["users"]["shopper"].id).execute()
    client = login_as("auditor")

    response = client.post(f"/admin/visits/{visit}", data={
        **_change_form(client, visit), "shopper": str(org["users"]["shopper"].id), "planned_from": DAY.isoformat(),
        "planned_to": (DAY + timedelta(days=6)).isoformat(), "scenario": "Ask about a warranty."})

    assert response.status_code == 302 and UNTRANSLATED in _text(client.get("/admin/visits"))


def test_a_shopper_who_reads_the_checklists_language_gets_no_warning(app, org, login_as):
    version = _publish(app)
    with app.app_context(), database.connection_context():
        User.update(language="ru").where(User.id == org["users"]["shopper"].id).execute()
    client = login_as("auditor")
    assert _post(client, "/admin/visits/new", _single(org, version.checklist_id)).status_code == 302
    assert "has no text in the language" not in _text(client.get("/admin/visits"))


@pytest.mark.parametrize("offset", [0, 1, 29, -29])
def test_second_visit_to_the_same_branch_within_the_window_is_refused(app, org, login_as, offset):
    version = _publish(app)
    _existing_visit(app, org, version, "shopper", org["branches"][0], DAY)
    with app.app_context(), database.connection_context():
        User.update(language="ru").where(User.id == org["users"]["auditor"].id).execute()
    client = login_as("auditor")

    response = _post(client, "/admin/visits/new",
                     _single(org, version.checklist_id, planned_from=DAY + timedelta(days=offset)))

    assert response.status_code == 200
    with app.test_request_context(), force_locale("ru"):
        expected = gettext(TOO_SOON, days=30)
        nothing_saved = gettext(NOTHING_SAVED)
    assert _field_error(response, "shopper") == expected  # in the auditor's language
    assert nothing_saved in _text(response)
    assert len(_visits(app)) == 1


@pytest.mark.parametrize("offset,shopper,branch", [
    (30, "shopper", 0),  # the window is over
    (-30, "shopper", 0),  # planned far enough before the other visit
    (4, "other_shopper", 0),  # someone else may go (after the visit's window: in it, that is a second visit)
    (1, "shopper", 1),  # another branch
])
def test_visit_outside_the_window_or_by_someone_else_is_assigned(app, org, login_as, offset, shopper, branch):
    version = _publish(app)
    _existing_visit(app, org, version, "shopper", org["branches"][0], DAY)
    client = login_as("auditor")

    response = _post(client, "/admin/visits/new", _single(
        org, version.checklist_id, planned_from=DAY + timedelta(days=offset), shopper=shopper, branch=branch))

    assert response.status_code == 302, _field_error(response, "shopper")
    assert len(_visits(app)) == 2


PLANNED_IN_WINDOW = ("This branch already has a visit with this checklist in that window (%(start)s–%(end)s, "
                     "%(shopper)s). To have it visited a second time on purpose, tick “Assign a second visit all the same (a "
                     "re-visit)”.")


@pytest.mark.parametrize("offset", [0, 3, -6], ids=["same days", "its last day", "ending on its first day"])
def test_a_second_visit_with_the_checklist_in_the_branchs_window_is_refused_naming_the_first(app, org, login_as,
                                                                                              offset):
    """As a region's assignment skips such a branch: a double click, or the same visit assigned twice,
    paid for the shop twice (by another shopper, as the no-repeat rule is per shopper)."""
    version = _publish(app)
    _existing_visit(app, org, version, "shopper", org["branches"][0], DAY)
    client = login_as("auditor")
    assert 'name="revisit"' not in _text(client.get("/admin/visits/new"))

    response = _post(client, "/admin/visits/new", _single(org, version.checklist_id, shopper="other_shopper",
                                                          planned_from=DAY + timedelta(days=offset)))

    assert response.status_code == 200
    day = lambda offset: babel_date(DAY + timedelta(days=offset), "medium", locale="en")  # noqa: E731 - the reader's way
    assert _field_error(response, "branch") == PLANNED_IN_WINDOW % {"start": day(0), "end": day(3),
                                                                    "shopper": "Sara Shopper"}
    assert NOTHING_SAVED in _text(response) and 'name="revisit"' in _text(response)
    assert len(_visits(app)) == 1


def test_a_revisit_in_the_window_is_assigned_when_the_auditor_ticks_it(app, org, login_as):
    """The first visit could not be used (the shop was closed, the shopper was recognised): the client
    is owed another in the same month. Another shopper: the no-repeat rule still holds."""
    version = _publish(app)
    _existing_visit(app, org, version, "shopper", org["branches"][0], DAY)
    client = login_as("auditor")
    revisit = {**_single(org, version.checklist_id, planned_from=DAY + timedelta(days=1)), "revisit": "y"}

    too_soon = _post(client, "/admin/visits/new", revisit)
    assigned = _post(client, "/admin/visits/new", {**revisit, "shopper": str(org["users"]["other_shopper"].id)})

    assert _field_error(too_soon, "shopper") == TOO_SOON % {"days": 30}
    assert re.search(r'<input checked id="revisit" name="revisit" type="checkbox"', _text(too_soon))  # still ticked
    assert assigned.status_code == 302
    assert [v.shopper_id for v in _visits(app)] == [org["users"]["shopper"].id, org["users"]["other_shopper"].id]
    assert "Re-visit: Yes" in " ".join(_text(client.get("/admin/log")).split())


def test_the_window_follows_the_configured_number_of_days(app, org, login_as):
    app.config["MIN_DAYS_BETWEEN_VISITS"] = 7
    version = _publish(app)
    _existing_visit(app, org, version, "shopper", org["branches"][0], DAY)
    client = login_as("auditor")

    refused = _post(client, "/admin/visits/new", _single(org, version.checklist_id, planned_from=DAY + timedelta(days=6)))
    assert _field_error(refused, "shopper") == TOO_SOON % {"days": 7}
    accepted = _post(client, "/admin/visits/new", _single(org, version.checklist_id, planned_from=DAY + timedelta(days=7)))
    assert accepted.status_code == 302
    assert len(_visits(app)) == 2


@pytest.fixture
def hungary(app, org):
    """Region Hungary with branches BUD-01..BUD-03 active and BUD-09 closed (inactive)."""
    region = org["regions"][0]
    with app.app_context(), database.connection_context():
        for code, is_active in [("BUD-03", True), ("BUD-02", True), ("BUD-09", False)]:
            Branch.create(region=region, code=code, name=f"Aurora {code}", address="Andrássy út 1.",
                          city="Budapest", country="HU", is_active=is_active)
        return {b.code: b for b in Branch.select().where(Branch.region == region)}


def _assigned(app):
    """{branch code: shopper key} of every stored visit."""
    with app.app_context(), database.connection_context():
        names = {"Sara Shopper": "shopper", "Otto Othershopper": "other_shopper"}
        return {v.branch.code: names[v.shopper.name] for v in Visit.select()}


def test_region_gets_one_visit_per_active_branch_shared_out_in_turn(app, org, login_as, hungary):
    version = _publish(app)
    client = login_as("auditor")

    response = _post(client, "/admin/visits/bulk", _bulk(org, version.checklist_id))

    assert response.status_code == 302
    page = _text(client.get("/admin/visits"))
    assert "3 visits assigned." in page
    assert "No chosen shopper may visit" not in page
    # Branches in code order; shoppers in name order take turns. The closed branch and the other
    # brand's region get nothing.
    assert _assigned(app) == {"BUD-01": "other_shopper", "BUD-02": "shopper", "BUD-03": "other_shopper"}
    visits = _visits(app)
    assert {(v.checklist_version_id, v.planned_from, v.scenario, v.state) for v in visits} == {
        (version.id, DAY, "Ask about a warranty.", "assigned")}


def test_several_scenarios_go_round_the_branches_and_each_shopper_gets_each(app, org, login_as, hungary):
    """A chain rotates what its shoppers ask for: two briefs for a region of six branches and two
    shoppers; the briefs go in turn, shifted each round, so that neither shopper always asks the same."""
    with app.app_context(), database.connection_context():
        for code in ("BUD-04", "BUD-05", "BUD-06"):
            Branch.create(region=org["regions"][0], code=code, name=f"Aurora {code}", address="Andrássy út 1.",
                          city="Budapest", country="HU")
    version = _publish(app)
    client = login_as("auditor")
    briefs = "Ask about a warranty.\n\n---\nAsk for a gift for a teenager;\npay by card."
    assert _post(client, "/admin/visits/bulk", {**_bulk(org, version.checklist_id), "scenario": briefs}).status_code == 302
    with app.app_context(), database.connection_context():
        given = [(v.branch.code, v.shopper.name, v.scenario) for v in Visit.select().join(Branch).order_by(Branch.code)]
    warranty, gift = "Ask about a warranty.", "Ask for a gift for a teenager;\npay by card."
    assert [brief for _code, _name, brief in given] == [warranty, gift, gift, warranty, warranty, gift]
    for name in ("Sara Shopper", "Otto Othershopper"):
        assert {brief for _code, shopper, brief in given if shopper == name} == {warranty, gift}


def test_a_region_without_an_active_branch_is_not_assigned_as_a_success(app, org, login_as):
    """A region just made, or whose branches are all closed, said "0 visits assigned." in green."""
    version = _publish(app)
    with app.app_context(), database.connection_context():
        Branch.update(is_active=False).where(Branch.region == org["regions"][0]).execute()
    client = login_as("auditor")

    response = _post(client, "/admin/visits/bulk", _bulk(org, version.checklist_id))

    assert response.status_code == 200
    assert _field_error(response, "region") == ("This region has no active branch to visit: add its branches first, "
                                                "or open them again.")
    assert "0 visits assigned." not in _text(response) and _visits(app) == []


@pytest.mark.parametrize("scenario,message", [
    ("\n---\n".join(f"Brief {n}" for n in range(13)), "Give at most 12 scenarios."),
    ("Short one.\n---\n" + "x" * 2001, "Scenario 2 is longer than 2000 characters."),
])
def test_too_many_or_too_long_scenarios_are_refused_and_nothing_is_assigned(app, org, login_as, hungary, scenario,
                                                                            message):
    version = _publish(app)
    client = login_as("auditor")
    response = _post(client, "/admin/visits/bulk", {**_bulk(org, version.checklist_id), "scenario": scenario})
    assert response.status_code == 200 and message in _text(response)
    assert _visits(app) == []


def test_region_skips_branches_no_chosen_shopper_may_visit_and_says_which(app, org, login_as, hungary):
    version = _publish(app)
    recent = DAY - timedelta(days=10)
    _existing_visit(app, org, version, "other_shopper", hungary["BUD-01"], recent)
    _existing_visit(app, org, version, "other_shopper", hungary["BUD-02"], recent)
    _existing_visit(app, org, version, "shopper", hungary["BUD-02"], recent)
    client = login_as("auditor")

    response = _post(client, "/admin/visits/bulk", _bulk(org, version.checklist_id))

    assert response.status_code == 302
    page = _text(client.get("/admin/visits"))
    assert "2 visits assigned." in page
    assert "No chosen shopper may visit these branches yet: BUD-02" in page
    with app.app_context(), database.connection_context():
        new = Visit.select().where(Visit.planned_from == DAY)
        assigned = {v.branch.code: v.shopper.name for v in new}
    # Otto visited BUD-01 recently, so Sara takes it; nobody may go to BUD-02; Otto's turn for BUD-03.
    assert assigned == {"BUD-01": "Sara Shopper", "BUD-03": "Otto Othershopper"}


def test_region_where_nobody_may_go_assigns_nothing_and_lists_every_branch(app, org, login_as, hungary):
    version = _publish(app)
    for code in ("BUD-01", "BUD-02", "BUD-03"):
        _existing_visit(app, org, version, "shopper", hungary[code], DAY + timedelta(days=10))
    client = login_as("auditor")

    response = _post(client, "/admin/visits/bulk", _bulk(org, version.checklist_id, shoppers=("shopper",)))

    assert response.status_code == 302
    page = _text(client.get("/admin/visits"))
    assert "0 visits assigned." in page
    assert "No chosen shopper may visit these branches yet: BUD-01, BUD-02, BUD-03" in page
    assert len(_visits(app)) == 3


def test_the_same_region_assigned_twice_adds_no_second_visit_to_a_branch(app, org, login_as, hungary):
    """A double click, or a second try with a day moved, used to give every branch a second shop in
    the same window (to the other shopper, as the no-repeat rule is per shopper)."""
    version = _publish(app)
    client = login_as("auditor")
    assert _post(client, "/admin/visits/bulk", _bulk(org, version.checklist_id)).status_code == 302
    moved = {**_bulk(org, version.checklist_id), "planned_from": (DAY + timedelta(days=1)).isoformat()}

    response = _post(client, "/admin/visits/bulk", moved)

    assert response.status_code == 302
    page = _text(client.get("/admin/visits"))
    assert "0 visits assigned." in page
    assert ("These branches already have a visit with this checklist in that window, so none was added: "
            "BUD-01, BUD-02, BUD-03") in page
    assert len(_visits(app)) == 3
    later = {**_bulk(org, version.checklist_id, planned_from=DAY + timedelta(days=40))}  # next month's round
    assert _post(client, "/admin/visits/bulk", later).status_code == 302
    assert len(_visits(app)) == 6


def test_the_same_region_assigned_at_once_from_several_servers_gets_one_visit_a_branch(app, org, hungary):
    """A double click landing on two app servers, or two auditors: the assignments run at the same
    moment. On PostgreSQL both read "no visit yet" and each made one (the shop paid twice); SQLite
    answered the second with a 503. Now one waits for the other and adds nothing."""
    import threading

    version = _publish(app)
    runs = 4
    start, outcomes = threading.Barrier(runs), []

    def assign():
        with app.app_context(), database.connection_context():
            checklist = Checklist.get_by_id(version.checklist_id)
            shoppers = [User.get_by_id(org["users"][key].id) for key in ("shopper", "other_shopper")]
            start.wait()
            try:
                created, _skipped, planned = assign_region(org["regions"][0], checklist, shoppers, DAY,
                                                           DAY + timedelta(days=6), [""], 30)
                outcomes.append((len(created), len(planned)))
            except Exception as error:  # noqa: BLE001 - any failure is the finding
                outcomes.append(error)

    threads = [threading.Thread(target=assign) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [(0, 3)] * (runs - 1) + [(3, 0)], outcomes
    with app.app_context(), database.connection_context():
        assert sorted(v.branch.code for v in Visit.select()) == ["BUD-01", "BUD-02", "BUD-03"]


def _without(data, *keys):
    return {k: v for k, v in data.items() if k not in keys}


SINGLE_BAD_INPUT = [
    ("window ends before it starts", lambda d: {**d, "planned_to": (DAY - timedelta(days=1)).isoformat()},
     "planned_to", "The window must end on or after its first day."),
    ("no shopper", lambda d: _without(d, "shopper"), "shopper", "This field is required."),
    ("no first day", lambda d: {**d, "planned_from": ""}, "planned_from", "Give a date."),
    ("no last day", lambda d: _without(d, "planned_to"), "planned_to", "Give a date."),
    ("a date that is not one", lambda d: {**d, "planned_from": "2026-02-30"}, "planned_from",
     "Not a valid date value."),
]

BULK_BAD_INPUT = [
    ("window ends before it starts", lambda d: {**d, "planned_to": (DAY - timedelta(days=1)).isoformat()},
     "planned_to", "The window must end on or after its first day."),
    ("no shopper chosen", lambda d: _without(d, "shoppers"), "shoppers", "Choose at least one shopper."),
    ("no first day", lambda d: _without(d, "planned_from"), "planned_from", "Give a date."),
    ("no last day", lambda d: {**d, "planned_to": ""}, "planned_to", "Give a date."),
]


@pytest.mark.parametrize("url,form,change,field,message", [
    ("/admin/visits/new", _single, change, field, message) for _name, change, field, message in SINGLE_BAD_INPUT
] + [
    ("/admin/visits/bulk", _bulk, change, field, message) for _name, change, field, message in BULK_BAD_INPUT
], ids=[f"single: {case[0]}" for case in SINGLE_BAD_INPUT] + [f"bulk: {case[0]}" for case in BULK_BAD_INPUT])
def test_bad_assignment_is_explained_and_stores_nothing(app, org, login_as, hungary, url, form, change, field,
                                                        message):
    version = _publish(app)
    client = login_as("auditor")

    response = _post(client, url, change(form(org, version.checklist_id)))

    assert response.status_code == 200
    assert _field_error(response, field) == message
    assert NOTHING_SAVED in _text(response)
    assert _visits(app) == []


@pytest.mark.parametrize("url,form", [("/admin/visits/new", _single), ("/admin/visits/bulk", _bulk)])
def test_checklist_without_published_version_cannot_be_assigned(app, org, login_as, url, form):
    with app.app_context(), database.connection_context():
        draft, _replaced = import_draft(load_checklist_text(SMALL))
    client = login_as("auditor")

    page = client.get(url)
    assert "Small visit" not in _text(page)  # not even offered
    response = _post(client, url, form(org, draft.checklist_id))

    assert response.status_code == 200
    # WTForms refuses an id that was not offered before the view can explain why (see the report).
    assert _field_error(response, "checklist")
    assert NOTHING_SAVED in _text(response)
    assert _visits(app) == []


def test_assignment_operations_refuse_a_checklist_without_published_version(app, org, db):
    draft, _replaced = import_draft(load_checklist_text(SMALL))
    checklist = Checklist.get_by_id(draft.checklist_id)
    shopper = User.get_by_id(org["users"]["shopper"].id)

    with pytest.raises(AssignmentRefused) as single:
        assign_visit(org["branches"][0], checklist, shopper, DAY, DAY, "", 30)
    with pytest.raises(AssignmentRefused) as bulk:
        assign_region(org["regions"][0], checklist, [shopper], DAY, DAY, [""], 30)

    assert single.value.code == bulk.value.code == "no_published_version"
    assert Visit.select().count() == 0
    assert ChecklistVersion.select().where(ChecklistVersion.is_published).count() == 0


@pytest.mark.parametrize("role", ["shopper", "manager"])
def test_only_auditors_may_see_the_list_of_visits(app, org, login_as, role):
    response = login_as(role).get("/admin/visits")

    assert response.status_code == 403
    assert "You do not have access to this page." in _text(response)


@pytest.mark.parametrize("role", ["shopper", "manager"])
@pytest.mark.parametrize("url", ["/admin/visits/new", "/admin/visits/bulk"])
def test_only_auditors_may_assign_visits(app, org, login_as, role, url):
    version = _publish(app)
    client = login_as(role)
    token = csrf_from(client.get("/visits/" if role == "shopper" else "/dashboard/"))

    assert client.get(url).status_code == 403
    data = _bulk(org, version.checklist_id) if url.endswith("bulk") else _single(org, version.checklist_id)
    response = client.post(url, data={**data, "csrf_token": token})

    assert response.status_code == 403
    assert "You do not have access to this page." in _text(response)
    assert _visits(app) == []


def test_the_open_visits_come_50_a_page_in_a_few_queries(app, org, login_as):
    """An agency assigns a month of visits to thousands of branches: listed whole, each row also read
    its shopper on its own."""
    import uuid

    version = _publish(app)
    with app.app_context(), database.connection_context():
        region = org["regions"][0]
        Branch.insert_many([{"region": region.id, "code": f"PG-{n:03d}", "name": f"Aurora {n}", "address": "Fő utca 1.",
                             "city": "Budapest", "country": "HU"} for n in range(120)]).execute()
        shoppers = [org["users"]["shopper"], org["users"]["other_shopper"]]
        Visit.insert_many([{"branch": branch.id, "checklist_version": version.id, "shopper": shoppers[n % 2].id,
                            "planned_from": DAY, "planned_to": DAY + timedelta(days=5), "uuid": uuid.uuid4()}
                           for n, branch in enumerate(Branch.select().where(Branch.code.startswith("PG-")))]).execute()
    client = login_as("auditor")
    statements = []
    database.obj.execute_sql = _counting(database.obj.execute_sql, statements)
    try:
        first = _text(client.get("/admin/visits"))
    finally:
        del database.obj.execute_sql
    listed = re.compile(r'<th scope="row"><a href="/admin/visits/[0-9a-f-]+"><span class="code">(PG-\d+)</span> ')  # each links its change page
    rows = listed.findall(first)
    assert len(rows) == 50 and "Page 1 of 3" in first
    assert "Sara Shopper" in first and "Otto Othershopper" in first
    assert len(statements) < 10, statements  # not one for each row's shopper
    pages = [rows] + [listed.findall(_text(client.get(f"/admin/visits?page={n}"))) for n in (2, 3)]
    assert [len(p) for p in pages] == [50, 50, 20] and len({code for p in pages for code in p}) == 120
    assert "There is no page x: page 1 of 3 is shown." in _text(client.get("/admin/visits?page=x"))


def _counting(execute_sql, statements):
    def counted(sql, *args, **kwargs):
        statements.append(sql)
        return execute_sql(sql, *args, **kwargs)
    return counted


@pytest.mark.parametrize("planned_from,planned_to,field,message", [
    (date(2019, 5, 1), date(2019, 5, 2), "planned_to", "This window is already over: give a day from today on."),
    (date(9999, 12, 30), date(9999, 12, 31), "planned_from", "Plan at most a year ahead."),
    (date(1, 1, 1), date(1, 1, 2), "planned_to", "This window is already over: give a day from today on."),
    (date(1, 1, 1), date.today() + timedelta(days=5), "planned_to", "A window can be at most 92 days long."),
    (date.today() - timedelta(days=100), date.today() + timedelta(days=5), "planned_to",
     "A window can be at most 92 days long."),
])
@pytest.mark.parametrize("form", ["single", "bulk"])
def test_a_window_already_over_or_years_ahead_is_refused_and_nothing_is_assigned(app, org, login_as, form,
                                                                                 planned_from, planned_to, field,
                                                                                 message):
    """A slip of the year (2019 for 2029, 9999) used to assign visits nobody would make, or fail
    with an error page; the form names the date instead."""
    version = _publish(app)
    data = _single(org, version.checklist_id) if form == "single" else _bulk(org, version.checklist_id)
    data.update(planned_from=planned_from.isoformat(), planned_to=planned_to.isoformat())

    response = _post(login_as("auditor"), f"/admin/visits/{'new' if form == 'single' else 'bulk'}", data)

    assert response.status_code == 200
    assert _field_error(response, field) == message
    assert NOTHING_SAVED in _text(response)
    assert _visits(app) == []


def _assigned_visit(app, org, version, shopper="shopper", state="assigned"):
    with app.app_context(), database.connection_context():
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"][shopper],
                             planned_from=DAY, planned_to=DAY + timedelta(days=6), scenario="Ask about a warranty.",
                             state=state, draft={"answers": {"greeted": "yes"}, "comments": {}, "photos": {}}
                             if state == "draft" else None)
        return str(visit.uuid)


def test_a_visit_not_yet_sent_goes_to_another_shopper_who_starts_afresh(app, org, login_as):
    version = _publish(app)
    visit = _assigned_visit(app, org, version, state="draft")
    client = login_as("auditor")
    page = _text(client.get(f"/admin/visits/{visit}"))
    assert "Another shopper starts afresh" in page

    response = client.post(f"/admin/visits/{visit}", data={**_change_form(client, visit),
        "shopper": str(org["users"]["other_shopper"].id), "planned_from": DAY.isoformat(),
        "planned_to": (DAY + timedelta(days=9)).isoformat(), "scenario": "Ask about a repair."})

    assert response.status_code == 302
    assert "The visit was changed." in _text(client.get("/admin/visits"))
    [changed] = _visits(app)
    assert (changed.shopper_id, changed.state, changed.draft, changed.planned_to, changed.scenario) == (
        org["users"]["other_shopper"].id, "assigned", None, DAY + timedelta(days=9), "Ask about a repair.")
    assert login_as("shopper").get(f"/visits/{visit}/fill").status_code == 404  # no longer the first shopper's
    assert login_as("other_shopper").get(f"/visits/{visit}/fill").status_code == 200
    log = _text(client.get("/admin/log"))  # what changed, from what to what
    assert "Shopper: Sara Shopper → Otto Othershopper" in log and "Scenario brief: Ask about a repair." in log
    day = lambda offset: babel_date(DAY + timedelta(days=offset), "medium", locale="en")  # noqa: E731 - the reader's way
    assert f"Window: {day(0)}–{day(6)} → {day(0)}–{day(9)}" in log


def test_changing_a_visit_keeps_the_rules_of_assigning_one(app, org, login_as):
    version = _publish(app)
    visit = _assigned_visit(app, org, version)
    _existing_visit(app, org, version, "other_shopper", org["branches"][0], DAY - timedelta(days=10))
    client = login_as("auditor")
    data = {"shopper": str(org["users"]["other_shopper"].id), "planned_from": DAY.isoformat(),
            "planned_to": (DAY + timedelta(days=6)).isoformat(), "scenario": ""}

    too_soon = client.post(f"/admin/visits/{visit}", data={**_change_form(client, visit), **data})
    over = client.post(f"/admin/visits/{visit}", data={**_change_form(client, visit), **data,
                                                        "shopper": str(org["users"]["shopper"].id),
                                                        "planned_from": "2019-05-01", "planned_to": "2019-05-02"})

    assert _field_error(too_soon, "shopper") == TOO_SOON % {"days": 30}
    assert _field_error(over, "planned_to") == "This window is already over: give a day from today on."
    stored = next(v for v in _visits(app) if str(v.uuid) == visit)
    assert (stored.shopper_id, stored.planned_from, stored.scenario) == (
        org["users"]["shopper"].id, DAY, "Ask about a warranty.")
    # The visit's own window does not count against its own shopper.
    same = client.post(f"/admin/visits/{visit}", data={**_change_form(client, visit), **data,
                                                        "shopper": str(org["users"]["shopper"].id)})
    assert same.status_code == 302


def test_a_visit_assigned_by_mistake_is_withdrawn_but_a_sent_one_is_not(app, org, login_as):
    version = _publish(app)
    mistake = _assigned_visit(app, org, version)
    sent = _assigned_visit(app, org, version, shopper="other_shopper", state="submitted")
    client = login_as("auditor")
    token = csrf_from(client.get(f"/admin/visits/{mistake}"))

    assert client.post(f"/admin/visits/{mistake}/withdraw", data={"csrf_token": token, "confirm": "y"}).status_code == 302
    refused = client.post(f"/admin/visits/{sent}/withdraw", data={"csrf_token": token, "confirm": "y"},
                          follow_redirects=True)

    assert "This visit was sent meanwhile; it can no longer be changed here." in _text(refused)
    assert [str(v.uuid) for v in _visits(app)] == [sent]
    assert client.post(f"/admin/visits/{sent}/withdraw", data={}).status_code == 400  # no token, nothing done
    assert login_as("shopper").get(f"/visits/{mistake}/fill").status_code == 404


@pytest.mark.parametrize("change", [{"is_enabled": None}, {"role": "manager"}], ids=["disabled", "made a manager"])
def test_closing_a_shoppers_account_leads_to_the_visits_they_can_no_longer_make(app, org, login_as, change):
    version = _publish(app)
    visit = _assigned_visit(app, org, version)
    shopper = org["users"]["shopper"]
    client = login_as("auditor")
    form = {"email": shopper.email, "name": shopper.name, "role": "shopper", "is_enabled": "y", "language": "",
            "password": "", **change}
    if change.get("role") == "manager":
        form["regions"] = [str(org["regions"][0].id)]

    response = _post(client, f"/admin/users/{shopper.id}", {k: v for k, v in form.items() if v is not None})

    assert response.status_code == 302 and response.headers["Location"] == f"/admin/visits?shopper={shopper.id}"
    page = _text(client.get(response.headers["Location"]))
    assert "Sara Shopper can no longer make 1 open visit: give it to another shopper below." in page
    assert f'/admin/visits/{visit}"' in page


def test_closing_a_branch_leads_to_its_open_visits(app, org, login_as):
    """A branch marked closed kept its assigned visits on the shoppers' lists, with no word to the
    auditor: the auditor now lands on them, to withdraw them."""
    version = _publish(app)
    visit = _assigned_visit(app, org, version)
    branch = org["branches"][0]
    client = login_as("auditor")
    form = {"region": branch.region_id, "code": branch.code, "name": branch.name, "address": branch.address,
            "city": branch.city, "country": branch.country}  # "is_active" left out: unticked

    response = _post(client, f"/admin/branches/{branch.id}", form)

    assert response.status_code == 302 and response.headers["Location"] == f"/admin/visits?branch={branch.id}"
    page = _text(client.get(response.headers["Location"]))
    assert f"{branch.code} {branch.name} is closed and still has 1 open visit: withdraw it below." in page
    assert f'/admin/visits/{visit}"' in page
    # Saved again while closed, with its visits gone: no more word of them.
    assert client.post(f"/admin/visits/{visit}/withdraw", data={"csrf_token": csrf_from(client.get(
        f"/admin/visits/{visit}")), "confirm": "y"}).status_code == 302
    assert _post(client, f"/admin/branches/{branch.id}", form).headers["Location"] == "/admin/branches"


def test_a_visit_given_to_another_shopper_leaves_the_first_ones_photos_behind(app, org, login_as):
    """The new shopper starts afresh: the photos the first one sent were of a visit the new one did
    not make, and must neither show on their page nor go out with their visit."""
    from audit.models import Evidence
    from audit.operations import add_photo
    from tests_support import tiny_png

    version = _publish(app)
    visit = _assigned_visit(app, org, version, state="draft")
    with app.app_context(), database.connection_context():
        add_photo(Visit.get(Visit.uuid == visit), "first-shoppers-photo", "greeted", tiny_png(), app.config["MEDIA_DIR"],
                  2**20, 10**6)
    client = login_as("auditor")

    assert client.post(f"/admin/visits/{visit}", data={**_change_form(client, visit),
        "shopper": str(org["users"]["other_shopper"].id), "planned_from": DAY.isoformat(),
        "planned_to": (DAY + timedelta(days=6)).isoformat(), "scenario": ""}).status_code == 302

    with app.app_context(), database.connection_context():
        assert Evidence.select().count() == 0
    new = login_as("other_shopper")
    assert "first-shoppers-photo" not in new.get(f"/visits/{visit}/fill").get_data(as_text=True)
    assert new.get(f"/visits/{visit}/photos/first-shoppers-photo").status_code == 404


def test_a_visit_given_to_another_shopper_takes_nothing_more_from_the_first_one(app, org):
    """The first shopper's request read the visit as theirs just before the auditor's change was
    stored: its draft, photo or submission must not land on the visit now another shopper's."""
    from audit.models import Evidence
    from audit.operations import SubmissionRefused, add_photo, change_visit, save_visit_draft, submit_visit
    from audit.demo import best_answers
    from tests_support import tiny_png

    version = _publish(app)
    visit = _assigned_visit(app, org, version)
    with app.app_context(), database.connection_context():
        as_read = Visit.get(Visit.uuid == visit)  # what the first shopper's request holds
        change_visit(as_read, User.get_by_id(org["users"]["other_shopper"].id), DAY, DAY + timedelta(days=6), "", 30)
        for attempt in (
            lambda: save_visit_draft(as_read, {"greeted": "yes"}, {}, {}),
            lambda: add_photo(as_read, "late-photo", "greeted", tiny_png(), app.config["MEDIA_DIR"], 2**20, 10**6),
            lambda: submit_visit(as_read, best_answers(version.content), {}, {}),
        ):
            with pytest.raises(SubmissionRefused) as refused:
                attempt()
            assert (refused.value.status, refused.value.code) == (404, "not_yours")
        stored = Visit.get(Visit.uuid == visit)
        assert (stored.shopper_id, stored.state, stored.draft, Evidence.select().count()) == (
            org["users"]["other_shopper"].id, "assigned", None, 0)


def test_a_long_window_reaching_back_does_not_get_around_the_no_repeat_rule(app, org, login_as):
    """The rule compared the windows' first days only: a window from long ago to next month placed a
    second visit of the same shopper at the same branch beside the first."""
    version = _publish(app)
    _existing_visit(app, org, version, "shopper", org["branches"][0], DAY)
    client = login_as("auditor")

    response = _post(client, "/admin/visits/new", _single(org, version.checklist_id, planned_from=DAY - timedelta(days=60),
                                                          planned_to=DAY + timedelta(days=20)))

    assert _field_error(response, "shopper") == TOO_SOON % {"days": 30}
    assert len(_visits(app)) == 1


def _change_form(client, visit):
    """The change page's hidden fields: its token, and what the page was made from."""
    response = client.get(f"/admin/visits/{visit}")
    seen = re.search(r'name="seen"[^>]*value="([0-9a-f]+)"', response.get_data(as_text=True)).group(1)
    return {"seen": seen, "csrf_token": csrf_from(response)}


def test_a_form_posted_without_its_brief_field_is_not_an_error(app, org, login_as):
    """A script or a page of an older release may leave the field out: a new visit's brief is an
    empty box (it answered 500), a changed visit's stays as it is."""
    version = _publish(app)
    client = login_as("auditor")

    assigned = _post(client, "/admin/visits/new", _without(_single(org, version.checklist_id), "scenario"))

    assert assigned.status_code == 302
    [visit] = _visits(app)
    assert visit.scenario == ""
    with app.app_context(), database.connection_context():
        Visit.update(scenario="Ask about a warranty.").where(Visit.id == visit.id).execute()
    changed = client.post(f"/admin/visits/{visit.uuid}", data={
        **_change_form(client, visit.uuid), "shopper": str(org["users"]["shopper"].id),
        "planned_from": DAY.isoformat(), "planned_to": (DAY + timedelta(days=9)).isoformat()})
    assert changed.status_code == 302
    [visit] = _visits(app)
    assert (visit.scenario, visit.planned_to) == ("Ask about a warranty.", DAY + timedelta(days=9))


def test_two_tabs_on_one_visit_do_not_undo_each_others_change(app, org, login_as):
    version = _publish(app)
    visit = _assigned_visit(app, org, version)
    client = login_as("auditor")
    tab_a, tab_b = _change_form(client, visit), _change_form(client, visit)
    common = {"shopper": str(org["users"]["shopper"].id), "planned_from": DAY.isoformat()}

    first = client.post(f"/admin/visits/{visit}", data={**tab_a, **common, "planned_to": (DAY + 9 * ONE_DAY).isoformat(),
                                                         "scenario": "Ask about a warranty."})
    second = client.post(f"/admin/visits/{visit}", data={**tab_b, **common, "planned_to": (DAY + 6 * ONE_DAY).isoformat(),
                                                          "scenario": "Ask about a repair."}, follow_redirects=True)

    assert first.status_code == 302
    assert ("This visit was changed meanwhile (in another tab, or by another auditor); here it is as it is now. "
            "Make your change again.") in _text(second)
    [stored] = _visits(app)
    assert (stored.planned_to, stored.scenario) == (DAY + 9 * ONE_DAY, "Ask about a warranty.")


def test_withdrawing_a_visit_takes_a_tick(app, org, login_as):
    version = _publish(app)
    visit = _assigned_visit(app, org, version)
    client = login_as("auditor")
    token = csrf_from(client.get(f"/admin/visits/{visit}"))

    unticked = client.post(f"/admin/visits/{visit}/withdraw", data={"csrf_token": token}, follow_redirects=True)

    assert "Tick the box to withdraw the visit." in _text(unticked) and len(_visits(app)) == 1
    assert client.post(f"/admin/visits/{visit}/withdraw", data={"csrf_token": token, "confirm": "y"}).status_code == 302
    assert _visits(app) == []


def test_a_disabled_shoppers_visit_is_not_quietly_given_to_the_first_shopper_listed(app, org, login_as):
    version = _publish(app)
    visit = _assigned_visit(app, org, version)
    with app.app_context(), database.connection_context():
        User.update(is_enabled=False).where(User.id == org["users"]["shopper"].id).execute()
    client = login_as("auditor")
    page = _text(client.get(f"/admin/visits/{visit}"))
    assert f'<option selected value="{org["users"]["shopper"].id}">Sara Shopper (can no longer make visits)</option>' in page

    kept = client.post(f"/admin/visits/{visit}", data={**_change_form(client, visit),
                                                        "shopper": str(org["users"]["shopper"].id),
                                                        "planned_from": DAY.isoformat(),
                                                        "planned_to": (DAY + 6 * ONE_DAY).isoformat(), "scenario": "x"})

    assert _field_error(kept, "shopper") == "This account can no longer make visits: choose another shopper."
    assert _visits(app)[0].scenario == "Ask about a warranty."


ONE_DAY = timedelta(days=1)


# -- checklists written for one client ------------------------------------------------------------


def _tie_to_client(client, slug, brand_id):
    page = client.get(f"/checklists/{slug}/")
    return client.post(f"/checklists/{slug}/client", data={"brand": str(brand_id), "csrf_token": csrf_from(page)},
                       follow_redirects=True)


def test_a_checklist_written_for_one_client_is_used_at_its_branches_only(app, org, login_as):
    """An agency's checklist for one chain, assigned at another client's branch, is a slip that costs a
    visit: refused, one visit or a region's, and nothing is assigned; at its own client's it is taken."""
    version = _publish(app)
    auditor = login_as("auditor")
    with app.app_context(), database.connection_context():
        slug = Checklist.get_by_id(version.checklist_id).slug
    aurora, baltia = org["brands"]
    saved = _tie_to_client(auditor, slug, baltia.id)
    assert "The checklist’s client is saved." in _text(saved)
    assert '<option selected value="%d">Baltia Bank</option>' % baltia.id in _text(saved)
    assert "for Baltia Bank" in _text(auditor.get("/checklists/"))
    form = _text(auditor.get("/admin/visits/new"))
    assert re.search(r"<option value=\"%d\">[^<]* · v1 \(Baltia Bank\)</option>" % version.checklist_id, form)

    message = ("This checklist is for Baltia Bank, and %s is Aurora Electronics’s: choose one for Aurora "
               "Electronics or for any client.")
    single = _post(auditor, "/admin/visits/new", _single(org, version.checklist_id))  # BUD-01, Aurora's
    assert single.status_code == 200
    assert _field_error(single, "checklist") == message % "Aurora Váci utca"
    bulk = _post(auditor, "/admin/visits/bulk", _bulk(org, version.checklist_id))  # Aurora's Hungary
    assert bulk.status_code == 200 and _field_error(bulk, "checklist") == message % "Hungary"
    assert _visits(app) == []

    assert _post(auditor, "/admin/visits/new", _single(org, version.checklist_id, branch=1)).status_code == 302
    _tie_to_client(auditor, slug, 0)  # any client's again
    assert _post(auditor, "/admin/visits/new", _single(org, version.checklist_id)).status_code == 302
    assert len(_visits(app)) == 2


def test_tying_a_checklist_to_a_client_says_which_open_visits_are_at_another_clients_branches(app, org, login_as):
    version = _publish(app)
    auditor = login_as("auditor")
    with app.app_context(), database.connection_context():
        slug = Checklist.get_by_id(version.checklist_id).slug
    assert _post(auditor, "/admin/visits/new", _single(org, version.checklist_id)).status_code == 302  # Aurora's
    assert _post(auditor, "/admin/visits/new", _single(org, version.checklist_id, branch=1)).status_code == 302

    page = _text(_tie_to_client(auditor, slug, org["brands"][1].id))  # Baltia Bank's

    assert ("1 visit not yet sent uses this checklist at another client’s branch: withdraw it and assign it again "
            "with the right checklist.") in page
    assert "not yet sent" not in _text(_tie_to_client(auditor, slug, 0))
    with app.app_context(), database.connection_context():
        from audit.models import AuditEntry
        entries = AuditEntry.select().where(AuditEntry.action.startswith("checklist.")).order_by(AuditEntry.id)
        assert [(e.action, e.details) for e in entries] == [("checklist.client", {"client": "Baltia Bank"}),
                                                            ("checklist.any_client", None)]
    log = _text(auditor.get("/admin/log"))
    assert "Checklist tied to a client" in log and "Client: Baltia Bank" in log


def test_a_checklists_client_is_an_auditors_choice_among_the_clients(app, org, login_as):
    version = _publish(app)
    with app.app_context(), database.connection_context():
        slug = Checklist.get_by_id(version.checklist_id).slug
    assert _tie_to_client(login_as("manager"), slug, org["brands"][0].id).status_code == 403
    refused = _tie_to_client(login_as("auditor"), slug, 9999)
    assert "Not a valid choice." in _text(refused)
    with app.app_context(), database.connection_context():
        assert Checklist.get_by_id(version.checklist_id).brand_id is None


def _move_window(client, visit, planned_from, **extra):
    return client.post(f"/admin/visits/{visit}", data={
        **_change_form(client, visit), "shopper": str(extra.pop("shopper")), "planned_from": planned_from.isoformat(),
        "planned_to": (planned_from + 6 * ONE_DAY).isoformat(), "scenario": "Ask about a warranty.", **extra})


def test_moving_a_visits_window_onto_another_visit_of_the_branch_is_refused_unless_a_revisit(app, org, login_as):
    """As assigning a second one is: the branch would be paid for twice in that window. The tick that
    the refusal offers moves it all the same, and the log says it was on purpose."""
    version = _publish(app)
    visit = _assigned_visit(app, org, version)  # DAY .. DAY+6, Sara Shopper
    _existing_visit(app, org, version, "other_shopper", org["branches"][0], DAY + 20 * ONE_DAY)
    client = login_as("auditor")
    shopper = org["users"]["shopper"].id
    assert 'name="revisit"' not in _text(client.get(f"/admin/visits/{visit}"))

    refused = _move_window(client, visit, DAY + 18 * ONE_DAY, shopper=shopper)

    assert refused.status_code == 200
    day = lambda offset: babel_date(DAY + offset * ONE_DAY, "medium", locale="en")  # noqa: E731
    assert _field_error(refused, "planned_from") == PLANNED_IN_WINDOW % {"start": day(20), "end": day(23),
                                                                         "shopper": "Otto Othershopper"}
    assert 'name="revisit"' in _text(refused)
    assert [v.planned_from for v in _visits(app)] == [DAY, DAY + 20 * ONE_DAY]  # nothing moved

    moved = _move_window(client, visit, DAY + 18 * ONE_DAY, shopper=shopper, revisit="y")

    assert moved.status_code == 302
    assert sorted(v.planned_from for v in _visits(app)) == [DAY + 18 * ONE_DAY, DAY + 20 * ONE_DAY]
    assert "Re-visit: Yes" in " ".join(_text(client.get("/admin/log")).split())


def test_a_revisit_made_on_purpose_keeps_its_window_through_other_changes(app, org, login_as):
    """A re-visit overlaps its first visit by design: changing its brief, its shopper or moving it
    within the overlap it had is no new double booking."""
    version = _publish(app)
    _existing_visit(app, org, version, "other_shopper", org["branches"][0], DAY)  # DAY .. DAY+3
    visit = _assigned_visit(app, org, version)  # DAY .. DAY+6, overlapping on purpose
    client = login_as("auditor")

    kept = _move_window(client, visit, DAY + ONE_DAY, shopper=org["users"]["shopper"].id)

    assert kept.status_code == 302, _field_error(kept, "planned_from")
    assert sorted(v.planned_from for v in _visits(app)) == [DAY, DAY + ONE_DAY]


def test_the_visits_list_shows_one_state_and_a_sent_visit_leads_to_its_review(app, org, login_as):
    """An approved visit was found again only through the dashboard (to correct it), a returned one
    nowhere: the list takes a state, and a sent visit's row opens its review."""
    version = _publish(app)
    states = {"assigned": DAY, "submitted": DAY + 8 * ONE_DAY, "returned": DAY + 16 * ONE_DAY,
              "approved": DAY + 24 * ONE_DAY}
    uuids = {}
    with app.app_context(), database.connection_context():
        for state, planned_from in states.items():
            uuids[state] = str(Visit.create(branch=org["branches"][0], checklist_version=version,
                                            shopper=org["users"]["shopper"], planned_from=planned_from,
                                            planned_to=planned_from + 3 * ONE_DAY, state=state).uuid)
    client = login_as("auditor")

    default = _text(client.get("/admin/visits"))
    approved = _text(client.get("/admin/visits?state=approved"))
    returned = _text(client.get("/admin/visits?state=returned"))
    nothing = _text(client.get("/admin/visits?state=draft"))
    unknown = client.get("/admin/visits?state=deleted")

    assert f"/admin/visits/{uuids['assigned']}" in default and f"/review/{uuids['submitted']}" in default
    assert uuids["approved"] not in default  # the open ones, as before
    assert f"/review/{uuids['approved']}" in approved and uuids["submitted"] not in approved
    assert f"/review/{uuids['returned']}" in returned and uuids["assigned"] not in returned
    assert "No visits in this state." in nothing
    assert unknown.status_code == 200 and uuids["approved"] not in _text(unknown)  # read as no filter
    assert login_as("manager").get("/admin/visits?state=approved").status_code == 403
