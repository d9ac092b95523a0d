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


def _as_an_older_release_scored(good, corrected):
    """Results as a scoring function with a mistake stored them."""
    Visit.update(score=Decimal("12.5"), band="red").where(Visit.id == good).execute()
    VisitScore.update(percent=Decimal("1")).where((VisitScore.visit == good) & (VisitScore.kind == "section")).execute()
    Answer.update(earned=Decimal("0")).where((Answer.visit == corrected) & (Answer.item_id == "entrance_tidy")).execute()
    Visit.update(original_score=Decimal("50")).where(Visit.id == corrected).execute()


def test_rescore_gives_every_visit_the_functions_results_and_keeps_its_answers(app, scored):
    runner = app.test_cli_runner()
    with app.app_context(), database.connection_context():
        _as_an_older_release_scored(scored["good"], scored["corrected"])
        stale = {key: _snapshot(scored[key]) for key in ("good", "corrected")}
    assert stale["good"] != scored["before"][scored["good"]]

    check = runner.invoke(args=["rescore", "--check"])
    assert check.exit_code == 1, check.output
    assert "Checked 3 scored visits: 2 have stored results that differ from this release's scoring" in check.output
    with app.app_context(), database.connection_context():  # a check changes nothing
        assert {key: _snapshot(scored[key]) for key in ("good", "corrected")} == stale

    done = runner.invoke(args=["rescore"])
    assert done.exit_code == 0, done.output
    assert "3 of 3 visits" in done.output and "Checked 3 scored visits: 2 scored again." in done.output
    with app.app_context(), database.connection_context():
        for visit_id, before in scored["before"].items():
            assert _snapshot(visit_id) == before, visit_id
        # The reviewer's correction, its reason and the shopper's answer are still there.
        corrected = Answer.get((Answer.visit == scored["corrected"]) & (Answer.item_id == "greeted"))
        assert (corrected.value, corrected.original_value) == ("no", "yes")
        assert corrected.correction_reason == "The photo shows nobody at the door."
        assert Visit.get_by_id(scored["corrected"]).original_score == Decimal("100")

    again = runner.invoke(args=["rescore", "--check"])
    assert again.exit_code == 0 and "Checked 3 scored visits: 0 have stored results" in again.output


def test_a_check_of_results_already_right_finds_nothing_to_do(app, scored):
    result = app.test_cli_runner().invoke(args=["rescore", "--check"])
    assert result.exit_code == 0, result.output
    assert "Checked 3 scored visits: 0 have stored results that differ from this release's scoring." in result.output
