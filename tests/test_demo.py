"""`flask demo`: a realistic organisation and six months of scored visits."""
from decimal import Decimal

from audit.db import database
from audit.models import Answer, Brand, Branch, Region, User, Visit, VisitState
from audit.scoring import score


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
        assert (approved.count(), waiting.count()) == (68, 4)  # every third branch's latest visit awaits review
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
