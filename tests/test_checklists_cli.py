"""`flask checklists validate|score|load|export`: exit codes and messages as the file's author reads them."""
import json
import os

import pytest

from audit import ROOT
from audit.checklist import load_checklist_file, load_checklist_text
from audit.db import database
from audit.models import Checklist, ChecklistVersion
from tests_support import SMALL

SHIPPED = sorted(os.path.join(ROOT, "checklists", name) for name in os.listdir(os.path.join(ROOT, "checklists"))
                 if name.endswith(".yaml"))



@pytest.fixture
def runner(app, monkeypatch):
    """The commands as an operator whose environment names no language of the app runs them (English)."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    return app.test_cli_runner()


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small-visit.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_shipped_checklists_validate(runner):
    assert len(SHIPPED) >= 2
    result = runner.invoke(args=["checklists", "validate", *SHIPPED])
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok") == len(SHIPPED)


@pytest.mark.parametrize("path", SHIPPED, ids=os.path.basename)
def test_a_shipped_question_that_asks_for_a_photo_offers_the_camera(path):
    """"Add a photo", "photograph the receipt" in a help text: the phone offered no camera there (a
    photo item, or one that needs a photo when failed), and the shopper could not do as asked."""
    from audit.answers import photo_item_ids

    checklist = load_checklist_file(path)
    takes_photos = set(photo_item_ids(checklist))
    asking = [item["id"] for section in checklist["sections"] for item in section["items"]
              if "photo" in (item.get("help") or {}).get("en", "").lower()]
    assert [item_id for item_id in asking if item_id not in takes_photos] == []


@pytest.mark.parametrize("path", SHIPPED, ids=os.path.basename)
def test_a_shipped_complaint_section_asks_whether_the_complaint_was_recorded(path):
    """A complaint not solved on the spot needs a reference and a date for the answer (the customer's
    right to complain): the retail checklist asked about the apology and the compensation, not that."""
    checklist = load_checklist_file(path)
    problem = next(section for section in checklist["sections"] if section["id"] == "problem_handling")
    recorded = next((item for item in problem["items"] if item["id"] == "complaint_registered"), None)
    assert recorded is not None, f"{os.path.basename(path)} does not ask whether the complaint was recorded"
    assert recorded["type"] == "yesno" and recorded["na"] is True  # most visits raise no complaint


PHONE_ENQUIRY = os.path.join(ROOT, "checklists", "phone-and-online-enquiry.yaml")


def _score(runner, tmp_path, answers):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers))
    result = runner.invoke(args=["checklists", "score", PHONE_ENQUIRY, str(path)])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_phone_enquiry_no_one_answered_scores_zero_and_is_a_critical_failure(runner, tmp_path):
    """With no one on the line there is nothing else to judge: the questions about the conversation do
    not show, answers given to them anyway count for nothing, and the visit is 0% with a critical failure."""
    result = _score(runner, tmp_path, {"contact_made": "phone_no_answer", "greeted": "yes", "product_knowledge": 5,
                                       "price_terms_honest": "yes", "thanked_farewell": "yes"})
    assert result["overall"] == 0.0 and result["critical_failures"] == ["contact_made"]
    assert result["sections"]["reaching"] == 0.0
    assert {section for section, percent in result["sections"].items() if percent is not None} == {"reaching"}
    assert result["band"] == "Needs improvement"


def test_a_chat_enquiry_is_timed_by_the_chat_not_by_the_phone(runner, tmp_path):
    """The channel decides which waits count: rings typed into a chat visit are left out."""
    chat = _score(runner, tmp_path, {"contact_made": "chat_answered", "chat_wait": 45, "ring_count": 12})
    assert chat["sections"]["reaching"] == 100.0 and chat["critical_failures"] == []
    phone = _score(runner, tmp_path, {"contact_made": "phone_first_call", "chat_wait": 45, "ring_count": 12})
    # contact 2 of 2 (weight 2) and rings 0 of 1; the chat's wait does not count on a call
    assert phone["sections"]["reaching"] == 66.67
    # Answered only at the second call: half the points, which passes (its pass mark is 50), so no flag.
    again = _score(runner, tmp_path, {"contact_made": "phone_called_again", "ring_count": 3})
    assert again["sections"]["reaching"] == 66.67 and again["critical_failures"] == []


def test_validate_names_file_and_line_of_each_problem(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("weight: 2", "weight: heavy").replace("max: 180", "max: 30"), encoding="utf-8")
    result = runner.invoke(args=["checklists", "validate", str(bad)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{bad}:15: ") and "weight" in lines[0] and "heavy" in lines[0]
    assert lines[1].startswith(f"{bad}:20: ") and "ascending" in lines[1]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("variable, value", [("LANG", "hu_HU.UTF-8"), ("LANGUAGE", "de:hu")])
def test_validate_names_the_problems_in_the_operators_language(runner, tmp_path, monkeypatch, app, variable, value):
    """A checklist author working in Hungarian read the web import's problems in Hungarian and the
    command line's in English."""
    monkeypatch.setenv(variable, value)
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("weight: 2", "weight: heavy"), encoding="utf-8")
    result = runner.invoke(args=["checklists", "validate", str(bad)])
    assert result.exit_code == 1
    english = "must be a number"
    assert english not in result.output
    with app.test_request_context(headers={"Accept-Language": "hu"}):
        from audit.checklist import ChecklistError, load_checklist_file

        with pytest.raises(ChecklistError) as hungarian:
            load_checklist_file(str(bad))
    assert result.output.strip() == str(hungarian.value.problems[0])


def test_validate_reports_yaml_syntax_and_missing_file_without_traceback(runner, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nsections: [\n", encoding="utf-8")
    result = runner.invoke(args=["checklists", "validate", str(broken), str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1
    assert f"{broken}:" in result.output and "missing.yaml" in result.output
    assert "Traceback" not in result.output


def test_score_prints_the_result_as_json(runner, small, tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"greeted": "no", "wait": 100}))
    result = runner.invoke(args=["checklists", "score", str(small), str(answers)])
    assert result.exit_code == 0, result.output
    # greeted 0/2, wait 0.5/1 -> 0.5/3 = 16.67 %; critical failure, capped at 40 anyway
    assert json.loads(result.output) == {
        "overall": 16.67, "sections": {"welcome": 16.67}, "dimensions": {"politeness": 0.0},
        "critical_failures": ["greeted"], "band": "Poor",
    }


@pytest.mark.parametrize(
    "answers,needle",
    [({"greeted": "maybe"}, "greeted"), ({"unknown_item": "yes"}, "unknown_item"), ({"wait": -5}, "wait")],
)
def test_score_refuses_impossible_answers_with_exit_2(runner, small, tmp_path, answers, needle):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers))
    result = runner.invoke(args=["checklists", "score", str(small), str(path)])
    assert result.exit_code == 2
    assert needle in result.output


def test_score_refuses_answers_that_are_not_json(runner, small, tmp_path):
    path = tmp_path / "answers.json"
    path.write_text("{greeted: yes")
    result = runner.invoke(args=["checklists", "score", str(small), str(path)])
    assert result.exit_code == 2 and "not valid JSON" in result.output


def test_load_publishes_only_changed_files(runner, small):
    first = runner.invoke(args=["checklists", "load", str(small)])
    assert first.exit_code == 0 and "published small-visit version 1" in first.output
    again = runner.invoke(args=["checklists", "load", str(small)])
    assert "unchanged, small-visit stays at version 1" in again.output
    small.write_text(SMALL.replace("Small visit", "Small store visit"), encoding="utf-8")
    changed = runner.invoke(args=["checklists", "load", str(small)])
    assert "published small-visit version 2" in changed.output
    with database.connection_context():
        versions = ChecklistVersion.select().join(Checklist).where(Checklist.slug == "small-visit")
        assert sorted(v.number for v in versions) == [1, 2]


def test_load_without_paths_loads_the_whole_library(runner):
    result = runner.invoke(args=["checklists", "load"])
    assert result.exit_code == 0, result.output
    with database.connection_context():
        assert Checklist.select().count() == len(SHIPPED)


def test_load_refuses_an_invalid_file_and_stores_nothing_of_it(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("type: timer", "type: stopwatch"), encoding="utf-8")
    result = runner.invoke(args=["checklists", "load", str(bad)])
    assert result.exit_code == 1 and "stopwatch" in result.output
    with database.connection_context():
        assert Checklist.select().count() == 0


def test_export_writes_yaml_that_loads_to_the_same_content(runner, small, tmp_path):
    runner.invoke(args=["checklists", "load", str(small)])
    out = tmp_path / "exported.yaml"
    result = runner.invoke(args=["checklists", "export", "small-visit", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_checklist_file(str(out)) == load_checklist_text(SMALL, "small.yaml")


def test_export_of_an_unknown_checklist_says_so(runner):
    result = runner.invoke(args=["checklists", "export", "nope"])
    assert result.exit_code == 1 and "Checklist 'nope' has no published version." in result.output


def test_export_to_a_folder_that_does_not_exist_says_so(runner, small, tmp_path):
    runner.invoke(args=["checklists", "load", str(small)])
    result = runner.invoke(args=["checklists", "export", "small-visit", "-o", str(tmp_path / "missing" / "x.yaml")])
    assert result.exit_code == 1
    assert result.output == f"Error: Cannot write {tmp_path / 'missing' / 'x.yaml'}: No such file or directory.\n"


def test_export_of_a_version_that_does_not_exist_names_it(runner, small):
    runner.invoke(args=["checklists", "load", str(small)])
    result = runner.invoke(args=["checklists", "export", "small-visit", "--version", "0"])
    assert result.exit_code == 1 and "Checklist 'small-visit' has no version 0." in result.output


def test_load_is_refused_while_a_draft_is_open_and_changes_nothing(runner, small):
    """Published under the draft's feet, the file would be version 3 and the draft, published later,
    version 2: "Version 2 is published" while version 3 stays the one in use."""
    from audit.operations import start_draft

    assert runner.invoke(args=["checklists", "load", str(small)]).exit_code == 0
    with database.connection_context():
        checklist = Checklist.get(Checklist.slug == "small-visit")
        start_draft(checklist, checklist.latest_published())
    again = runner.invoke(args=["checklists", "load", str(small)])  # the same file: nothing to do
    assert again.exit_code == 0 and "unchanged, small-visit stays at version 1" in again.output
    small.write_text(SMALL.replace("Small visit", "Small store visit"), encoding="utf-8")
    refused = runner.invoke(args=["checklists", "load", str(small)])
    assert refused.exit_code == 1
    assert "not published: small-visit has a draft (version 2) open in the editor" in refused.output
    with database.connection_context():
        versions = sorted((v.number, v.is_published) for v in ChecklistVersion.select().join(Checklist)
                          .where(Checklist.slug == "small-visit"))
    assert versions == [(1, True), (2, False)]
