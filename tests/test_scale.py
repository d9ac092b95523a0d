"""`flask demo --scale N`: a national chain with N scored visits, written in bulk inserts.

What a user relies on: the chain is there with the counts asked for, every stored score is the scoring
function's, the data looks like a real chain (branches, sections and trends differ), the database keeps
working normally afterwards (ids, PostgreSQL's sequence), bad input changes nothing, and managers see
exactly their own branches.
"""
import re
import statistics
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from peewee import fn

import audit.scale
from audit.db import bulk_insert, database, streamed
from audit.demo import DEMO_PASSWORD, best_answers
from audit.models import (
    Answer,
    Brand,
    Branch,
    ChecklistVersion,
    ManagerRegion,
    Region,
    User,
    Visit,
    VisitEvent,
    VisitScore,
    VisitState,
    utcnow,
)
from audit.operations import publish_checklist
from audit.scale import CHAIN, CHAIN_MANAGER, CHECKLIST, ScaleError, load_scale
from audit.scoring import display_percent, score
from conftest import csrf_from, engine, login
from tests_support import retail_checklist

APPROVED, SUBMITTED = VisitState.APPROVED.value, VisitState.SUBMITTED.value
FIXED_NOW = datetime(2026, 3, 20, 8, 0)


def _chain_visits():
    return (Visit.select(Visit, ChecklistVersion).join_from(Visit, ChecklistVersion)
            .join_from(Visit, Branch).join(Region).join(Brand).where(Brand.name == CHAIN))


def _chain_branches():
    return Branch.select().join(Region).join(Brand).where(Brand.name == CHAIN)


def _by_branch(visits):
    """{branch id: [visits, oldest first]}."""
    grouped = {}
    for visit in sorted(visits, key=lambda v: v.ended_at):
        grouped.setdefault(visit.branch_id, []).append(visit)
    return grouped


def _table_counts():
    return {model.__name__: model.select().count()
            for model in (Brand, Region, Branch, User, ManagerRegion, Visit, Answer, VisitScore, VisitEvent)}


# -- the command ------------------------------------------------------------------------------------


def test_demo_scale_loads_the_demo_organisation_and_the_chain(app):
    result = app.test_cli_runner().invoke(args=["demo", "--scale", "600", "--branches", "50"])

    assert result.exit_code == 0, result.output
    assert "Loaded demo data:" in result.output
    counts = re.search(r"Loaded the chain: 50 branches, 600 visits, ([\d,]+) answers in [\d.]+ s; "
                       r"its manager is manager\.chain@example\.com\.", result.output)
    assert counts, result.output
    assert "manager.hu@example.com" in result.output and DEMO_PASSWORD in result.output
    with database.connection_context():
        assert {b.name for b in Brand.select()} == {"Aurora Electronics", "Baltia Bank", CHAIN}
        # The demo's: six months at twelve branches, their next visits assigned, an enquiry a month to four.
        assert Visit.select().join(Branch).join(Region).join(Brand).where(Brand.name != CHAIN).count() == 72 + 12 + 24
        chain = Brand.get(Brand.name == CHAIN)
        regions = {r.id for r in Region.select().where(Region.brand == chain)}
        assert len(regions) == 10
        branches = list(_chain_branches())
        assert len(branches) == 50 and {b.region_id for b in branches} == regions
        assert len({b.code for b in branches}) == 50
        visits = _chain_visits()
        assert visits.count() == 600
        answers = Answer.select().where(Answer.visit.in_(visits.select(Visit.id))).count()
        assert f"{answers:,}" == counts.group(1)
        managers = [u for u in User.select() if u.is_manager and u.region_ids() & regions]
        assert [m.email for m in managers] == [CHAIN_MANAGER]
        assert managers[0].region_ids() == regions
        chain_shoppers = User.select().where(User.email.startswith("chain.shopper"))
        assert chain_shoppers.count() == 40 and all(u.is_shopper for u in chain_shoppers)
        assert {v.shopper_id for v in visits} <= {u.id for u in chain_shoppers}


# -- stored results ---------------------------------------------------------------------------------


def test_stored_scores_answers_and_parts_are_the_scoring_functions(db):
    load_scale(120, branches=20)
    visits = list(_chain_visits())
    assert len(visits) == 120
    content = visits[0].checklist_version.content
    assert {v.checklist_version_id for v in visits} == {ChecklistVersion.find(CHECKLIST).id}
    place = {item["id"]: (section["id"], item.get("dimension"))
             for section in content["sections"] for item in section["items"]}
    answers, parts = {}, {}
    for answer in Answer.select().where(Answer.visit.in_([v.id for v in visits])):
        answers.setdefault(answer.visit_id, []).append(answer)
    for row in VisitScore.select().where(VisitScore.visit.in_([v.id for v in visits])):
        parts.setdefault(row.visit_id, {})[(row.kind, row.key)] = row.percent
    flagged = 0
    for visit in visits:
        rows = answers[visit.id]
        result = score(content, {a.item_id: a.value for a in rows})
        assert visit.score == display_percent(result.overall, 4)
        assert visit.band == result.band and visit.has_critical_failure is result.is_flagged
        flagged += visit.has_critical_failure
        expected_parts = {("section", key): display_percent(value, 4) for key, value in result.sections.items()}
        expected_parts |= {("dimension", key): display_percent(value, 4) for key, value in result.dimensions.items()}
        assert parts[visit.id] == expected_parts
        for answer in rows:
            assert (answer.section_id, answer.dimension) == place[answer.item_id]
            item = result.items.get(answer.item_id)
            assert (answer.earned, answer.possible) == (
                (display_percent(item.earned, 4), display_percent(item.possible, 4)) if item else (None, None))
            assert answer.comment == "" and answer.correction_reason == "" and answer.original_value is None
    assert 0 < flagged < len(visits)  # critical failures are there, and the exception


# -- realistic data ---------------------------------------------------------------------------------


def test_branches_sections_and_trends_differ_as_in_a_real_chain(db, monkeypatch):
    monkeypatch.setattr(audit.scale, "utcnow", lambda: FIXED_NOW)  # the same draws whatever the date
    load_scale(1200, branches=20)  # five years of a visit a month
    history = _by_branch(_chain_visits().where(Visit.state == APPROVED))
    assert len(history) == 20

    means = [statistics.mean(v.score for v in visits) for visits in history.values()]
    assert max(means) - min(means) > 20  # a ranking with a clear best and worst

    approved = _chain_visits().where(Visit.state == APPROVED).select(Visit.id)
    parts_by_kind = {}
    for kind in ("section", "dimension"):
        parts_by_kind[kind] = parts = dict(
            VisitScore.select(VisitScore.key, fn.AVG(VisitScore.percent))
            .where((VisitScore.kind == kind) & VisitScore.visit.in_(approved) & VisitScore.percent.is_null(False))
            .group_by(VisitScore.key).tuples())
        assert len(parts) >= 5
        assert max(parts.values()) - min(parts.values()) > 5, (kind, parts)  # the dashboard shows strengths

    # Branches have strengths and weaknesses of their own: a branch's section score is not just its
    # overall level plus the section's chain-wide level. What is left after taking both out is a few
    # points from noise alone (about 4 here), more where sections truly differ per branch.
    per_branch = {}
    for branch_id, key, percent in (VisitScore.select(Visit.branch, VisitScore.key, fn.AVG(VisitScore.percent))
                                    .join(Visit).where((VisitScore.kind == "section") & Visit.id.in_(approved))
                                    .group_by(Visit.branch, VisitScore.key).tuples()):
        per_branch.setdefault(branch_id, {})[key] = float(percent)
    keys = sorted(parts_by_kind["section"])
    assert all(sorted(sections) == keys for sections in per_branch.values())
    branch_level = {b: statistics.mean(sections.values()) for b, sections in per_branch.items()}
    section_level = {k: statistics.mean(sections[k] for sections in per_branch.values()) for k in keys}
    chain_level = statistics.mean(branch_level.values())
    own = [sections[k] - branch_level[b] - section_level[k] + chain_level
           for b, sections in per_branch.items() for k in keys]
    assert statistics.pstdev(own) > 5.5

    # Second half of each branch's history against the first (Decembers left out: the rush hits every
    # branch alike). Noise alone moves a branch by a few points; the trends move some by many, both ways.
    changes = []
    for visits in history.values():
        half = len(visits) // 2
        before, after = ([v.score for v in part if v.ended_at.month != 12] for part in (visits[:half], visits[half:]))
        changes.append(statistics.mean(after) - statistics.mean(before))
    assert min(changes) < -3 and max(changes) > 3, changes  # some branches improve, some slip
    assert max(changes) - min(changes) > 15, changes


def test_a_visit_a_month_per_branch_in_the_past_most_approved_the_latest_some_waiting(db):
    load_scale(100, branches=10)
    now = utcnow()
    visits = list(_chain_visits())
    history = _by_branch(visits)
    assert len(history) == 10 and {len(v) for v in history.values()} == {10}
    for branch_visits in history.values():
        gaps = [(b.ended_at - a.ended_at).days for a, b in zip(branch_visits, branch_visits[1:])]
        assert all(1 <= gap <= 58 for gap in gaps), gaps  # a day in each calendar month
        assert 9 * 28 <= (now - branch_visits[0].ended_at).days <= 11 * 31  # ten months back
        for visit in branch_visits:
            assert visit.started_at < visit.ended_at < visit.submitted_at < now
            if visit.state == SUBMITTED:
                assert visit.approved_at is None
            else:
                assert visit.submitted_at < visit.approved_at < now
    states = [v.state for v in visits]
    assert set(states) == {APPROVED, SUBMITTED}
    assert 0 < states.count(SUBMITTED) <= len(history) // 5  # a few wait for review
    assert all(v is vs[-1] for vs in history.values() for v in vs if v.state == SUBMITTED)  # only the latest
    events = {}
    for event in VisitEvent.select().where(VisitEvent.visit.in_([v.id for v in visits])):
        events.setdefault(event.visit_id, []).append(event.to_state)
    assert all(sorted(events[v.id]) == ([APPROVED, SUBMITTED] if v.state == APPROVED else [SUBMITTED])
               for v in visits)


def test_each_branch_is_visited_once_in_each_calendar_month(db, monkeypatch):
    monkeypatch.setattr(audit.scale, "utcnow", lambda: FIXED_NOW)  # the 20th: on some days it goes unseen
    load_scale(100, branches=10)
    history = _by_branch(_chain_visits())
    doubled = {branch_id: [v.ended_at.date().isoformat() for v in visits]
               for branch_id, visits in history.items()
               if len({v.ended_at.strftime("%Y-%m") for v in visits}) != len(visits)}
    assert doubled == {}


# -- afterwards -------------------------------------------------------------------------------------


def test_new_visits_and_submissions_work_after_the_bulk_insert(app, org, login_as):
    """The chain's visit ids were given explicitly; on PostgreSQL the id sequence must follow them."""
    with app.app_context(), database.connection_context():
        load_scale(30, branches=10)
        last_chain_id = _chain_visits().select(Visit.id).order_by(Visit.id.desc()).scalar()
        version = ChecklistVersion.find(CHECKLIST)
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today() + timedelta(days=5))
        assert visit.id > last_chain_id
    content = version.content
    phone = login_as("shopper")
    token = csrf_from(phone.get(f"/visits/{visit.uuid}/fill"))
    response = phone.post(f"/api/v1/visits/{visit.uuid}/submission", json={"answers": best_answers(content)},
                          headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.data[:500]
    with app.app_context(), database.connection_context():
        stored = Visit.get_by_id(visit.id)
        assert stored.state == SUBMITTED
        assert stored.score == display_percent(score(content, best_answers(content)).overall, 4)
        assert VisitEvent.select().where(VisitEvent.visit == visit.id).count() == 1
        assert _chain_visits().count() == 30


# -- bad input changes nothing ----------------------------------------------------------------------


def test_loading_the_chain_twice_is_refused_and_changes_nothing(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "--scale", "40", "--branches", "10"]).exit_code == 0
    with database.connection_context():
        before = _table_counts()

    again = runner.invoke(args=["demo", "--scale", "40", "--branches", "10"])

    assert again.exit_code != 0
    assert f"already has the {CHAIN} chain" in again.output
    with database.connection_context():
        assert _table_counts() == before
        assert _chain_visits().count() == 40


@pytest.mark.parametrize("args,option", [
    (["--scale", "0"], "--scale"),
    (["--scale", "-5"], "--scale"),
    (["--scale", "100", "--branches", "0"], "--branches"),
])
def test_sizes_below_one_are_refused_by_the_command_and_nothing_is_written(app, args, option):
    result = app.test_cli_runner().invoke(args=["demo", *args])

    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.output and "x>=1" in result.output
    with database.connection_context():
        assert set(_table_counts().values()) == {0}


@pytest.mark.parametrize("kwargs,message", [
    ({"regions": 11}, "from 1 to 10 regions"),
    ({"regions": 0}, "from 1 to 10 regions"),
    ({"visits": 0}, "at least 1"),
    ({"branches": 0}, "at least 1"),
])
def test_load_scale_refuses_sizes_that_make_no_sense(db, org, kwargs, message):
    before = _table_counts()
    arguments = {"visits": 50, "branches": 10, **kwargs}

    with pytest.raises(ScaleError, match=message):
        load_scale(**arguments)

    assert _table_counts() == before


def test_a_load_that_fails_half_way_leaves_nothing_behind(db, org, monkeypatch):
    calls = []

    def failing_bulk_insert(model, rows):
        calls.append(model)
        if len(calls) == 6:  # in the second batch of visits: the disk is full, say
            raise OSError("disk full")
        bulk_insert(model, rows)

    before = _table_counts()
    monkeypatch.setattr(audit.scale, "BATCH", 50)  # batches as at full size, on a small chain
    monkeypatch.setattr(audit.scale, "bulk_insert", failing_bulk_insert)
    with pytest.raises(OSError):
        load_scale(120, branches=20)
    assert calls == [Visit, Answer, VisitScore, VisitEvent, Visit, Answer]

    assert _table_counts() == before
    monkeypatch.undo()
    assert load_scale(120, branches=20)["visits"] == 120  # the next try works, ids and all
    assert _chain_visits().count() == 120


# -- bulk_insert ------------------------------------------------------------------------------------


def _raw(table, row_id, columns):
    sql = f'SELECT {", ".join(columns)} FROM "{table}" WHERE id = {database.obj.param}'
    return database.execute_sql(sql, (row_id,)).fetchone()


def test_bulk_insert_fills_defaults_and_converts_values_as_peewee_does(db, org):
    version, _created = publish_checklist(*retail_checklist())
    visit_row = {
        "branch": org["branches"][0].id, "checklist_version": version.id, "shopper": org["users"]["shopper"],
        "planned_from": date(2026, 3, 1), "planned_to": date(2026, 3, 5), "state": APPROVED,
        "ended_at": datetime(2026, 3, 2, 10, 30, 15), "score": Decimal("87.456789"),
        "band": {"en": "Good", "ru": "Хорошо"}, "has_critical_failure": True, "checkin_distance_m": 12.5,
    }
    started = utcnow().replace(microsecond=0)
    bulk_insert(Visit, [visit_row, visit_row])
    peewee_id = Visit.insert(**visit_row).execute()

    bulk = list(Visit.select().where(Visit.id != peewee_id).order_by(Visit.id))
    assert len(bulk) == 2
    for visit in bulk:
        assert isinstance(visit.uuid, uuid.UUID) and Visit.by_uuid(visit.uuid).id == visit.id
        assert visit.scenario == "" and visit.review_comment == "" and visit.draft is None
        assert visit.original_score is None and visit.submission_hash is None
        assert started <= visit.created_at <= utcnow()
        assert (visit.branch_id, visit.shopper_id, visit.planned_from, visit.ended_at) == (
            org["branches"][0].id, org["users"]["shopper"].id, date(2026, 3, 1), datetime(2026, 3, 2, 10, 30, 15))
        assert visit.score == Decimal("87.4568") and visit.band == {"en": "Good", "ru": "Хорошо"}
        assert visit.has_critical_failure is True and visit.checkin_distance_m == 12.5
    assert bulk[0].uuid != bulk[1].uuid  # a default is drawn for every row, not once per statement
    columns = ["branch_id", "checklist_version_id", "shopper_id", "scenario", "planned_from", "planned_to",
               "state", "ended_at", "score", "band", "has_critical_failure", "checkin_distance_m",
               "review_comment", "draft", "original_score"]
    assert _raw("visit", bulk[0].id, columns) == _raw("visit", peewee_id, columns)

    answer_rows = [
        {"visit": bulk[0].id, "item_id": "greeted", "section_id": "arrival", "dimension": "politeness",
         "value": "yes", "earned": Decimal("1"), "possible": Decimal("1")},
        {"visit": bulk[0].id, "item_id": "notes", "section_id": "arrival", "dimension": None,
         "value": {"text": "Ünnepi kínálat, «очередь»", "list": [1, 2.5, None, True]},
         "earned": Decimal("0.333333"), "possible": Decimal("2")},
        {"visit": bulk[0].id, "item_id": "skipped", "section_id": None, "dimension": None,
         "value": None, "earned": None, "possible": None},
    ]
    bulk_insert(Answer, answer_rows)
    Answer.insert_many([{**row, "visit": bulk[1].id} for row in answer_rows]).execute()

    stored = {a.item_id: a for a in Answer.select().where(Answer.visit == bulk[0].id)}
    assert set(stored) == {"greeted", "notes", "skipped"}
    for row in answer_rows:
        answer = stored[row["item_id"]]
        assert answer.comment == "" and answer.correction_reason == "" and answer.original_value is None
        assert (answer.section_id, answer.dimension) == (row["section_id"], row["dimension"])
        assert answer.value == row["value"]
    assert (stored["notes"].earned, stored["notes"].possible) == (Decimal("0.3333"), Decimal("2"))
    assert stored["skipped"].earned is None
    columns = ["item_id", "section_id", "dimension", "value", "comment", "earned", "possible", "original_value",
               "correction_reason"]
    by_peewee = {a.item_id: a.id for a in Answer.select().where(Answer.visit == bulk[1].id)}
    for item_id, answer in stored.items():
        assert _raw("answer", answer.id, columns) == _raw("answer", by_peewee[item_id], columns)


def test_bulk_insert_of_no_rows_does_nothing(db):
    bulk_insert(Visit, [])
    assert Visit.select().count() == 0


# -- who sees the chain -----------------------------------------------------------------------------


def test_the_chain_manager_sees_the_chain_on_the_dashboard_and_the_demo_manager_does_not(app):
    assert app.test_cli_runner().invoke(args=["demo", "--scale", "120", "--branches", "40"]).exit_code == 0
    with database.connection_context():
        codes = [b.code for b in _chain_branches()]
    assert len(codes) == 40

    chain_manager = app.test_client()
    assert login(chain_manager, CHAIN_MANAGER, DEMO_PASSWORD).status_code == 302
    page = chain_manager.get("/dashboard/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # Forty branches: the dashboard lists the best and the lowest ten, the whole ranking all of them.
    assert sum(f"<strong>{code}</strong>" in text for code in codes) == 20
    assert "The whole ranking: 40 branches" in text
    assert "Average score:" in text and "No branches in your regions yet." not in text
    ranking = chain_manager.get("/dashboard/ranking").get_data(as_text=True)
    assert all(f"<strong>{code}</strong>" in ranking for code in codes)
    assert "BUD-01" not in text and "Aurora" not in text  # the demo brands are not the chain manager's

    demo_manager = app.test_client()
    assert login(demo_manager, "manager.hu@example.com", DEMO_PASSWORD).status_code == 302
    page = demo_manager.get("/dashboard/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<strong>BUD-01</strong>" in text
    assert not any(code in text for code in codes) and CHAIN not in text


def test_a_chain_dashboard_lists_the_latest_critical_failures_and_says_how_many_there_are(app):
    with app.app_context(), database.connection_context():
        load_demo_and_chain = app.test_cli_runner().invoke(args=["demo", "--scale", "900", "--branches", "150"])
        assert load_demo_and_chain.exit_code == 0, load_demo_and_chain.output
        since = datetime.utcnow() - timedelta(days=182)
        critical = (Visit.select().join(Branch).join(Region).join(Brand)
                    .where((Brand.name == CHAIN) & (Visit.state == APPROVED) & Visit.has_critical_failure
                           & (Visit.ended_at >= since)).count())
    assert critical > 20  # a chain this size has more than the dashboard lists
    manager = app.test_client()
    assert login(manager, CHAIN_MANAGER, DEMO_PASSWORD).status_code == 302
    text = manager.get("/dashboard/").get_data(as_text=True)
    section = text[text.index("Critical failures"):]
    section = section[:section.index("</section>")]
    assert section.count("<li>") == 20
    assert f"The latest 20 of {critical} critical failures are listed; the exports hold them all." in section


def test_on_postgresql_the_loaded_tables_are_analysed_and_vacuumed_for_the_dashboards(db):
    """After the bulk load, PostgreSQL has the planner's statistics and the visibility map of the new
    rows (what autovacuum would do only later): without them it planned the dashboards as scans of
    every answer, which grew with the history. SQLite needs neither: its plans are checked in
    test_query_plans."""
    load_scale(120, branches=20)
    if engine() == "postgresql":
        done = dict(database.execute_sql(
            "SELECT relname, last_analyze IS NOT NULL AND last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                "WHERE schemaname = current_schema()").fetchall())
        # Every table the load fills, the small ones too (unanalysed, 500 branches were guessed as 60).
        filled = {"brand", "region", "branch", "user", "manager_region", "visit", "answer", "visit_score", "visit_event"}
        assert {table: done.get(table) for table in filled} == {table: True for table in filled}
    else:
        assert not database.execute_sql(
            "SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchall()  # no ANALYZE here


def test_exports_read_their_rows_as_they_go_and_on_postgresql_through_a_server_side_cursor(db):
    """Two years of a chain's answers are hundreds of thousands of rows: streamed() hands them over
    without keeping them. On PostgreSQL a plain cursor would first receive the whole result (120 MB
    for the chain, bench/bench_exports.py --postgres), so the rows come `batch` at a time through a
    server-side cursor, which ends with the last row."""
    load_scale(60, branches=10)
    expected = [row[0] for row in Answer.select(Answer.id).order_by(Answer.id).tuples()]
    assert len(expected) > 1000
    rows = streamed(Answer.select(Answer.id).order_by(Answer.id).tuples(), batch=100)
    got = [next(rows)[0]]
    if engine() == "postgresql":
        assert database.execute_sql("SELECT count(*) FROM pg_cursors").fetchone()[0] == 1  # open, server side
    got += [row[0] for row in rows]
    assert got == expected
    if engine() == "postgresql":
        assert database.execute_sql("SELECT count(*) FROM pg_cursors").fetchone()[0] == 0
        assert not database.in_transaction()


# -- the ranking at chain size ----------------------------------------------------------------------

PLACE_ROW = re.compile(r'<span class="place">(\d+)\.</span> <a href="/dashboard/branches/\d+\?period=\d+[^"]*"><strong>([A-Z]{2}-\d{4})</strong>.*?'
                       r'data-label="Average score" class="num">([\d.]+)%</td>', re.S)


def _ranked(page):
    return [(int(place), code, float(score)) for place, code, score in PLACE_ROW.findall(page)]


def test_a_chains_dashboard_lists_its_best_and_lowest_and_the_whole_ranking_comes_a_page_at_a_time(app):
    """A 500-branch chain listed whole was a phone screen per branch before what fails and the
    actions. The dashboard lists the best and lowest ten; the whole ranking keeps every place, a page
    of 50 at a time."""
    assert app.test_cli_runner().invoke(args=["demo", "--scale", "360", "--branches", "120"]).exit_code == 0
    with database.connection_context():
        since = utcnow() - timedelta(days=182)
        scores = {}
        for visit in Visit.select(Visit.score, Branch.code).join(Branch).where(
                (Visit.state == APPROVED) & (Visit.ended_at >= since) & Branch.code.in_([b.code for b in _chain_branches()])):
            scores.setdefault(visit.branch.code, []).append(float(visit.score))
    assert len(scores) == 120  # every branch has a score in the period
    means = sorted(((-statistics.fmean(values), code) for code, values in scores.items()))
    manager = app.test_client()
    assert login(manager, CHAIN_MANAGER, DEMO_PASSWORD).status_code == 302

    dashboard = manager.get("/dashboard/?period=182").get_data(as_text=True)
    listed = _ranked(dashboard)
    assert [place for place, _c, _s in listed] == list(range(1, 11)) + list(range(111, 121))
    assert [code for _p, code, _s in listed[:10]] == [code for _m, code in means[:10]]
    assert [code for _p, code, _s in listed[10:]] == [code for _m, code in means[-10:]]
    assert "Highest scores" in dashboard and "Lowest scores" in dashboard
    assert "The whole ranking: 120 branches" in dashboard and 'href="/dashboard/ranking?period=182&amp;brand=0"' in dashboard
    assert dashboard.count('<option value="') - dashboard.count('<option value="0"') >= 120  # actions still name every branch

    pages = [manager.get(f"/dashboard/ranking?period=182&page={number}").get_data(as_text=True) for number in (1, 2, 3)]
    rows = [row for page in pages for row in _ranked(page)]
    assert [len(_ranked(page)) for page in pages] == [50, 50, 20]
    assert [place for place, _c, _s in rows] == list(range(1, 121))
    assert [code for _p, code, _s in rows] == [code for _m, code in means]
    assert [score for _p, _c, score in rows] == sorted((score for _p, _c, score in rows), reverse=True)
    assert "Page 2 of 3" in pages[1] and 'rel="prev"' in pages[1] and 'rel="next"' in pages[1]
    assert 'rel="prev"' not in pages[0] and 'rel="next"' not in pages[2]

    # Found however it is typed, each at its place in the whole ranking.
    for typed, region in (("DUNÁNTÚL", "Dunántúl"), ("южна", "Южна България")):
        found = manager.get(f"/dashboard/ranking?period=182&find={typed}").get_data(as_text=True)
        hits = _ranked(found)
        expected = [(place, code) for place, code, _s in rows if f"Nordia {region} " in _branch_names()[code]]
        assert [(place, code) for place, code, _s in hits] == expected and len(expected) == 12
        assert "12 branches found" in found
    assert "No branch matches the search." in manager.get("/dashboard/ranking?find=BUD-01").get_data(as_text=True)


def _branch_names():
    with database.connection_context():
        return {b.code: b.name for b in _chain_branches()}


@pytest.mark.parametrize("page, shown", [("0", 1), ("abc", 1), ("99", 3), ("-2", 1), ("9" * 40, 1)])
def test_a_ranking_page_that_does_not_exist_shows_the_nearest_and_says_so(app, page, shown):
    assert app.test_cli_runner().invoke(args=["demo", "--scale", "360", "--branches", "120"]).exit_code == 0
    manager = app.test_client()
    assert login(manager, CHAIN_MANAGER, DEMO_PASSWORD).status_code == 302
    answer = manager.get(f"/dashboard/ranking?page={page}")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert f"There is no page {page[:20]}: page {shown} of 3 is shown." in text
    assert _ranked(text)[0][0] == (shown - 1) * 50 + 1
    assert "There is no page" not in manager.get(f"/dashboard/ranking?page={shown}").get_data(as_text=True)


def test_a_search_too_long_is_refused_with_a_message_and_the_whole_ranking_stays(app):
    assert app.test_cli_runner().invoke(args=["demo", "--scale", "120", "--branches", "40"]).exit_code == 0
    manager = app.test_client()
    assert login(manager, CHAIN_MANAGER, DEMO_PASSWORD).status_code == 302
    manager.post("/language", data={"language": "hu", "csrf_token": csrf_from(manager.get("/dashboard/")), "next": "/"})
    text = manager.get("/dashboard/ranking?find=" + "x" * 101).get_data(as_text=True)
    assert "Legfeljebb 100 karaktert írjon." in text  # "Type at most 100 characters." in Hungarian
    assert text.count('<span class="place">') == 40


def test_the_ranking_keeps_to_the_managers_regions_and_names_no_shopper(app):
    assert app.test_cli_runner().invoke(args=["demo", "--scale", "120", "--branches", "40"]).exit_code == 0
    demo_manager = app.test_client()
    assert login(demo_manager, "manager.hu@example.com", DEMO_PASSWORD).status_code == 302
    with database.connection_context():
        chain_region = _chain_branches()[0].region_id
        shoppers = [u.name for u in User.select().where(User.role == "shopper")]
    mine = demo_manager.get("/dashboard/ranking").get_data(as_text=True)
    assert "BUD-01" in mine and "Nordia" not in mine
    for query in (f"region={chain_region}", "find=Nordia", "find=HU-0001"):
        text = demo_manager.get(f"/dashboard/ranking?{query}").get_data(as_text=True)
        assert "Nordia Budapest" not in text and "<strong>HU-" not in text  # the search itself is echoed in its field
    assert not any(name in mine for name in shoppers)
    shopper = app.test_client()
    assert login(shopper, "shopper1@example.com", DEMO_PASSWORD).status_code == 302
    assert shopper.get("/dashboard/ranking").status_code == 403
    assert app.test_client().get("/dashboard/ranking").status_code == 302  # signed out: to the sign-in page
