"""A pass mark per item: a 4 on a scale of 1 to 5 is no failure where the checklist says so (the
shipped checklists pass their 1-5 scales from 4). Whether an answer failed is stored with it, and the
phone's submission, the dashboard's "failed most often", critical failures and reports read it."""
import copy
import re
from datetime import date, timedelta

from audit.checklist.format import content_hash
from audit.db import database
from audit.demo import best_answers
from audit.migrations import LATEST, migrate_database
from audit.models import Answer, Visit, utcnow
from audit.operations import publish_checklist
from audit.review import approve
from conftest import csrf_from
from tests_support import retail_checklist

API = "/api/v1/visits"


def _checklist():
    """The shipped retail checklist, its first impression asking for a comment when it fails."""
    content = copy.deepcopy(retail_checklist()[0])
    item = next(item for section in content["sections"] for item in section["items"] if item["id"] == "first_impression")
    assert item["pass_mark"] == 75 and (item["min"], item["max"]) == (1, 5)
    item["require_comment_on_fail"] = True
    return content


def _visit(app, org, content):
    with app.app_context(), database.connection_context():
        version, _created = publish_checklist(content, content_hash(content))
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today() + timedelta(days=5))
    return str(visit.uuid)


def _send(client, visit_uuid, answers, comments=None):
    token = csrf_from(client.get(f"/visits/{visit_uuid}/fill"))
    return client.post(f"{API}/{visit_uuid}/submission", json={"answers": answers, "comments": comments or {}},
                       headers={"X-CSRFToken": token})


def test_an_answer_at_the_pass_mark_passes_and_one_below_fails(app, org, login_as):
    content = _checklist()
    shopper = login_as("shopper")
    four, three = _visit(app, org, content), _visit(app, org, content)
    # A 4 of 5 passes: no comment asked for.
    assert _send(shopper, four, {**best_answers(content), "first_impression": 4}).status_code in (200, 201)
    # A 3 fails: the comment the checklist wants when it fails is asked for, and nothing is stored.
    refused = _send(shopper, three, {**best_answers(content), "first_impression": 3})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["field_codes"] == {"answers.first_impression": "comment_required"}
    assert _send(shopper, three, {**best_answers(content), "first_impression": 3},
                 {"first_impression": "Boxes blocked the entrance."}).status_code in (200, 201)
    with app.app_context(), database.connection_context():
        stored = {visit_uuid: Answer.get((Answer.visit == Visit.get(Visit.uuid == visit_uuid).id)
                                         & (Answer.item_id == "first_impression"))
                  for visit_uuid in (four, three)}
        assert (stored[four].earned, stored[four].possible, stored[four].failed) == (0.75, 1, False)
        assert (stored[three].earned, stored[three].failed) == (0.5, True)
        greeted = Answer.get((Answer.visit == Visit.get(Visit.uuid == four).id) & (Answer.item_id == "greeted"))
        assert greeted.failed is False
        for visit_uuid in (four, three):
            approve(Visit.get(Visit.uuid == visit_uuid), org["users"]["auditor"])
    # The manager's dashboard: the first impression failed once in two visits, not twice.
    manager = login_as("manager")
    manager.post("/language", data={"language": "en", "csrf_token": csrf_from(manager.get("/dashboard/")), "next": "/"})
    page = manager.get("/dashboard/?period=30").get_data(as_text=True)
    failed = re.search(r'<ol class="failed">(.*?)</ol>', page, re.S).group(1)
    impression = next(line for line in failed.split("<li>") if "first impression" in line)
    assert "1 of 2 visits" in impression


def test_a_version_11_database_records_which_answers_failed(db, org):
    """Before version 12 an answer failed when it earned less than possible: the upgrade writes that
    down for every stored answer, and the covering index holds it."""
    content = retail_checklist()[0]
    version, _created = publish_checklist(content, content_hash(content))
    visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                         planned_from=date.today(), planned_to=date.today(), ended_at=utcnow(), state="approved")
    for item_id, earned, possible in (("greeted", 1, 1), ("first_impression", 0.75, 1), ("notes", None, None)):
        Answer.create(visit=visit, item_id=item_id, value=None, earned=earned, possible=possible)
    db.execute_sql("DROP INDEX answer_visit_id_item_id_earned_possible_failed")
    db.execute_sql("ALTER TABLE answer DROP COLUMN failed")
    db.execute_sql("CREATE INDEX answer_visit_id_item_id_earned_possible ON answer (visit_id, item_id, earned, possible)")
    db.execute_sql("UPDATE schema_version SET version = 11")
    assert migrate_database() == (11, LATEST)
    assert {a.item_id: a.failed for a in Answer.select()} == {"greeted": False, "first_impression": True, "notes": None}
    indexes = {index.name for index in db.get_indexes("answer")}
    assert "answer_visit_id_item_id_earned_possible_failed" in indexes
    assert "answer_visit_id_item_id_earned_possible" not in indexes


def test_the_answers_export_says_which_answers_failed_and_which_the_reviewer_corrected(app, org, login_as):
    """A reviewer's correction of a 4 (a pass) to a 3 (below the mark): the manager's export shows the
    answer failed, and corrected, in the CSV (for programs) and the XLSX (in the reader's words)."""
    import csv
    import io

    import openpyxl

    content = _checklist()
    shopper = login_as("shopper")
    visit_uuid = _visit(app, org, content)
    assert _send(shopper, visit_uuid, {**best_answers(content), "first_impression": 4}).status_code in (200, 201)
    auditor = login_as("auditor")
    review = f"/review/{visit_uuid}"
    auditor.post(f"{review}/answers/first_impression", data={
        "value": "3", "reason": "The photo shows boxes at the door.", "csrf_token": csrf_from(auditor.get(review))})
    auditor.post(f"{review}/approve", data={"csrf_token": csrf_from(auditor.get(review))})
    manager = login_as("manager")
    text = manager.get("/reports/export.csv?kind=answers&period=30").data.decode("utf-8-sig")
    rows = {row["item"]: row for row in csv.DictReader(io.StringIO(text))}
    assert (rows["first_impression"]["answer"], rows["first_impression"]["failed"],
            rows["first_impression"]["corrected"]) == ("3", "yes", "yes")
    assert (rows["first_impression"]["original_answer"], rows["first_impression"]["correction_reason"]) == (
        "4", "The photo shows boxes at the door.")
    assert (rows["greeted"]["failed"], rows["greeted"]["corrected"]) == ("no", "no")
    assert (rows["greeted"]["original_answer"], rows["greeted"]["correction_reason"]) == ("", "")
    assert rows["comments"]["failed"] == ""  # a free text scores nothing: neither passed nor failed
    job = manager.post("/reports/export.xlsx?period=30&lang=hu", data={"csrf_token": csrf_from(manager.get("/dashboard/"))})
    book = openpyxl.load_workbook(io.BytesIO(manager.get(job.headers["Location"] + "/download").data))
    sheet = book.worksheets[1]
    header = [cell.value for cell in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[header.index("Tételazonosító")] == "first_impression") \
        if "Tételazonosító" in header else None
    assert row is not None, header
    assert row[header.index("A küszöb alatt")] == "Igen" and row[header.index("A felülvizsgáló javította")] == "Igen"
    assert (row[header.index("A próbavásárló válasza")], row[header.index("A javítás oka")]) == (
        "4", "The photo shows boxes at the door.")
