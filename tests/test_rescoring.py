"""`flask rescore`: after a release corrects the scoring function, the visits scored before it get the
results this release's function gives, and nothing else of theirs changes."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from audit import ROOT
from audit.db import database
from audit.demo import best_answers
from audit.models import Answer, Visit, VisitScore
from audit.operations import publish_checklist_file, submit_visit
from audit.review import correct_answer


def _snapshot(visit_id):
    """Everything stored of a visit's answers and results."""
    visit = Visit.get_by_id(visit_id)
    answers = {a.item_id: (a.value, a.comment, a.earned, a.possible, a.original_value, a.correction_reason)
               for a in Answer.select().where(Answer.visit == visit_id)}
    scores = {(s.kind, s.key): s.percent for s in VisitScore.select().where(VisitScore.visit == visit_id)}
    return (visit.score, visit.band, visit.has_critical_failure, visit.original_score, visit.state), answers, scores


@pytest.fixture
def scored(app, org):
    """Three sent visits: one with the best answers, one failing a critical item, one corrected by a
    reviewer; and one assigned, not yet sent."""
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        best = best_answers(version.content)

        def sent(answers, comments):
            visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                                 planned_from=date.today() - timedelta(days=3), planned_to=date.today())
            submit_visit(visit, answers, comments, {})
            return visit.id

        good = sent(best, {"greeted": "Warm welcome."})
        failing = sent({**best, "greeted": "no"}, {"greeted": "Nobody looked up."})
        corrected = sent(best, {})
        correct_answer(Visit.get_by_id(corrected), "greeted", "no", "The photo shows nobody at the door.",
                       org["users"]["auditor"])
        unsent = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                              planned_from=date.today(), planned_to=date.today() + timedelta(days=3)).id
        before = {visit_id: _snapshot(visit_id) for visit_id in (good, failing, corrected, unsent)}
    return {"good": good, "failing": failing, "corrected": corrected, "unsent": unsent, "before": before}


def _as_an_older_release_scored(good, failing, corrected):
    """Results as a scoring function with a mistake stored them."""
    Visit.update(score=Decimal("12.5"), band="red").where(Visit.id == good).execute()
    VisitScore.update(percent=Decimal("1")).where((VisitScore.visit == good) & (VisitScore.kind == "section")).execute()
    Answer.update(earned=Decimal("0")).where((Answer.visit == corrected) & (Answer.item_id == "entrance_tidy")).execute()
    Visit.update(original_score=Decimal("50")).where(Visit.id == corrected).execute()
    # A sent visit an older release left without a score must get one too.
    Visit.update(score=None, band=None).where(Visit.id == failing).execute()


def test_rescore_gives_every_visit_the_functions_results_and_keeps_its_answers(app, scored):
    runner = app.test_cli_runner()
    with app.app_context(), database.connection_context():
        _as_an_older_release_scored(scored["good"], scored["failing"], scored["corrected"])
        stale = {key: _snapshot(scored[key]) for key in ("good", "failing", "corrected")}
    assert stale["good"] != scored["before"][scored["good"]]

    check = runner.invoke(args=["rescore", "--check"])
    assert check.exit_code == 1, check.output
    assert "Checked 3 sent visits; stored results differ from this release's scoring for 3 (run" in check.output
    with app.app_context(), database.connection_context():  # a check changes nothing
        assert {key: _snapshot(scored[key]) for key in ("good", "failing", "corrected")} == stale

    done = runner.invoke(args=["rescore"])
    assert done.exit_code == 0, done.output
    assert "3 of 3 visits" in done.output and "Checked 3 sent visits; scored again: 3." in done.output
    with app.app_context(), database.connection_context():
        for visit_id, before in scored["before"].items():
            assert _snapshot(visit_id) == before, visit_id
        # The reviewer's correction, its reason and the shopper's answer are still there.
        corrected = Answer.get((Answer.visit == scored["corrected"]) & (Answer.item_id == "greeted"))
        assert (corrected.value, corrected.original_value) == ("no", "yes")
        assert corrected.correction_reason == "The photo shows nobody at the door."
        assert Visit.get_by_id(scored["corrected"]).original_score == Decimal("100")

    again = runner.invoke(args=["rescore", "--check"])
    assert again.exit_code == 0 and "stored results differ from this release's scoring for 0." in again.output


def test_a_check_of_results_already_right_finds_nothing_to_do(app, scored):
    result = app.test_cli_runner().invoke(args=["rescore", "--check"])
    assert result.exit_code == 0, result.output
    assert "Checked 3 sent visits; stored results differ from this release's scoring for 0." in result.output


def test_rescore_refuses_a_database_of_another_release_and_changes_nothing(app, scored):
    from audit.models import SchemaVersion
    from audit.migrations import LATEST

    runner = app.test_cli_runner()
    with app.app_context(), database.connection_context():
        Visit.update(score=Decimal("1")).where(Visit.id == scored["good"]).execute()
        SchemaVersion.create(version=LATEST + 1)  # rolled back to this release from a newer one
    for args in (["rescore"], ["rescore", "--check"], ["media", "prune"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and "is from a newer release" in result.output, result.output
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    with app.app_context(), database.connection_context():
        assert Visit.get_by_id(scored["good"]).score == Decimal("1")
        SchemaVersion.delete().where(SchemaVersion.version > LATEST).execute()
    assert runner.invoke(args=["rescore"]).exit_code == 0


def test_rescore_on_a_database_that_is_not_there_says_so_and_creates_nothing(app_config, tmp_path):
    from audit import create_app

    if app_config["DATABASE_URL"].startswith("sqlite"):
        missing = tmp_path / "mistyped.sqlite3"
        app = create_app(dict(app_config, DATABASE_URL=f"sqlite:///{missing}"))
        result = app.test_cli_runner().invoke(args=["rescore", "--check"])
        assert result.exit_code == 1 and f"There is no database at {missing}" in result.output, result.output
        assert not missing.exists()
    else:  # PostgreSQL: a database with no schema (init-db never run)
        from conftest import reset_postgres

        reset_postgres(app_config["DATABASE_URL"])
        result = create_app(app_config).test_cli_runner().invoke(args=["rescore"])
        assert result.exit_code == 1 and "the database has no schema" in result.output, result.output
        assert "Traceback" not in result.output
