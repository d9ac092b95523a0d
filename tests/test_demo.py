"""`flask demo`: a realistic organisation and six months of scored visits."""
from decimal import Decimal

from audit.db import database
from audit.models import Answer, Brand, Branch, Checklist, ChecklistVersion, Region, User, Visit, VisitState
from audit.scoring import score
from conftest import csrf_from, login


def test_demo_loads_the_organisation_and_prints_the_logins(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "manager.hu@example.com" in result.output and "demo-password" in result.output
    with database.connection_context():
        assert (Brand.select().count(), Region.select().count(), Branch.select().count()) == (2, 3, 12)
        roles = [u.role for u in User.select()]
        assert (roles.count("auditor"), roles.count("manager"), roles.count("shopper")) == (1, 2, 3)
        managers = {u.email: u.region_ids() for u in User.select().where(User.role == "manager")}
        assert managers["manager.hu@example.com"] != managers["manager.ee@example.com"]
        approved = Visit.select().where(Visit.state == VisitState.APPROVED.value)
        waiting = Visit.select().where(Visit.state == VisitState.SUBMITTED.value)
        # Six months at each of twelve branches, and an enquiry a month to four of them; every third
        # branch's latest visit awaits review.
        assert (approved.count(), waiting.count()) == (68 + 24, 4)
        assert Visit.select().where(Visit.state == VisitState.ASSIGNED.value).count() == 12
        months = {v.ended_at.strftime("%Y-%m") for v in approved}
        assert len(months) >= 6


def test_demo_scores_are_the_scoring_functions(app):
    app.test_cli_runner().invoke(args=["demo"])
    with database.connection_context():
        scores = []
        for visit in Visit.select().where(Visit.state.in_([VisitState.APPROVED.value, VisitState.SUBMITTED.value])):
            answers = {a.item_id: a.value for a in Answer.select().where(Answer.visit == visit)}
            expected = score(visit.checklist_version.content, answers).overall
            assert abs(Decimal(expected.numerator) / expected.denominator - visit.score) < Decimal("0.0001")
            scores.append(visit.score)
    assert min(scores) >= 0 and max(scores) <= 100
    assert max(scores) - min(scores) > 15  # branches differ, or dashboards would show nothing


def test_demo_refuses_a_database_that_has_data_but_if_empty_is_quiet(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    again = runner.invoke(args=["demo"])
    assert again.exit_code != 0 and "not empty" in again.output
    quiet = runner.invoke(args=["demo", "--if-empty"])
    assert quiet.exit_code == 0 and "demo data not loaded" in quiet.output
    with database.connection_context():
        assert Brand.select().count() == 2
    assert "manager.hu@example.com" in quiet.output  # a demo database: its logins, each time


def test_demo_if_empty_on_a_database_of_its_own_lists_no_logins_that_are_not_there(app):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["create-auditor", "ops@example.com", "--name", "Ops"], input="long-password-1\nlong-password-1\n")
    assert made.exit_code == 0, made.output
    quiet = runner.invoke(args=["demo", "--if-empty"])
    assert quiet.exit_code == 0 and "demo data not loaded" in quiet.output
    assert "Demo logins" not in quiet.output and "@example.com" not in quiet.output


def test_demo_has_a_history_of_enquiries_made_away_from_a_third_of_the_branches_of_both_clients(app):
    """The enquiry checklist (on_site: false) had no visits: the dashboards and reports showed two of
    the organisation's three checklists. A third of the branches, of both clients, get one a month, with no
    distance to the branch (made by phone or online)."""
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    with database.connection_context():
        enquiries = list(Visit.select().join(ChecklistVersion).join(Checklist)
                         .where(Checklist.slug == "phone-and-online-enquiry"))
        assert enquiries and all(v.state == VisitState.APPROVED.value and v.checkin_distance_m is None
                                 and v.score is not None for v in enquiries)
        per_branch = {}
        for visit in enquiries:
            per_branch.setdefault(visit.branch.code, set()).add(visit.ended_at.strftime("%Y-%m"))
        assert len(per_branch) == 4 and all(len(months) >= 5 for months in per_branch.values()), per_branch
        assert {Branch.get(Branch.code == code).region.brand.name for code in per_branch} == {
            "Aurora Electronics", "Baltia Bank"}
        on_site = Visit.select().join(ChecklistVersion).join(Checklist).where(
            (Checklist.slug != "phone-and-online-enquiry") & Visit.ended_at.is_null(False))
        assert all(v.checkin_distance_m is not None for v in on_site)
    # A manager of both clients' regions chooses among three checklists on the dashboard.
    client = app.test_client()
    assert login(client, "manager.ee@example.com", "demo-password").status_code == 302
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client.get("/dashboard/")), "next": "/"})
    page = client.get("/dashboard/?brand=0&period=182").get_data(as_text=True)
    for title in ("Retail store visit", "Bank branch / service office visit", "Phone and online enquiry"):
        assert f">{title}</option>" in page, title
