"""The dashboard's aggregates read what the period needs through indexes, never the whole history.

SQLite's query planner is asked (EXPLAIN QUERY PLAN) about every statement the dashboard's
aggregates run over a chain with several years of visits. A full scan of visits, answers or
results would make the dashboard as slow as the history is long; reading answers and results
from the table instead of the covering indexes would double the pages read. These are properties of
the embedded SQLite database, so the test builds its own SQLite file on both runs of the suite.
"""
import logging
from datetime import timedelta

import pytest

from audit import create_app, stats
from audit.db import database
from audit.demo import load_demo
from audit.migrations import migrate_database
from audit.models import Branch, Brand, Region, utcnow
from audit.scale import CHAIN, load_scale

HISTORY_TABLES = ("visit", "answer", "visit_score")


@pytest.fixture
def chain_app(tmp_path):
    app = create_app({
        "TESTING": True, "SECRET_KEY": "plans", "DATABASE_URL": f"sqlite:///{tmp_path / 'plans.sqlite3'}",
        "MEDIA_DIR": str(tmp_path / "media"), "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024,
        "ARGON2_PARALLELISM": 1,
    })
    with app.app_context(), database.connection_context():
        migrate_database()
        load_demo()
        load_scale(600, branches=20, regions=4)  # 30 months of history per branch
        database.execute_sql("ANALYZE")  # what a long-running database has; the planner uses it
    yield app
    database.close_all()


def _plans_of(work):
    """(sql, [plan steps]) of every statement `work` runs."""
    statements = []

    class Collect(logging.Handler):
        def emit(self, record):
            statements.append(record.msg)

    logger = logging.getLogger("peewee")
    handler, level = Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        work()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return [(sql, [row[3] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params)])
            for sql, params in statements]


def _dashboard_aggregates():
    brand = Brand.get(Brand.name == CHAIN)
    branch_ids = stats.branch_ids_of({"brand": brand.id})
    branches = list(Branch.select().where(Branch.id.in_(branch_ids)))
    end = utcnow()
    start = end - timedelta(days=182)
    stats.ranking(branches, start, end, None, start - timedelta(days=182))
    stats.part_totals(branch_ids, start, end, per="region")
    stats.part_totals(branch_ids, start, end)
    stats.overall_mean({"branches": branch_ids}, start, end)
    stats.failed_most_often({"branches": branch_ids}, start, end)
    list(stats.critical_failures(branch_ids, start, end))
    stats.item_texts(branch_ids, start, end)
    stats.monthly_trend(branch_ids[:1], 12, end)


def test_no_aggregate_scans_the_history(chain_app):
    with chain_app.app_context(), database.connection_context():
        plans = _plans_of(_dashboard_aggregates)
    assert len(plans) >= 8
    for sql, steps in plans:
        for step in steps:
            table = step.split()[1] if step.startswith(("SCAN", "SEARCH")) else None
            aliases = {alias for name in HISTORY_TABLES for alias in _aliases(sql, name)}
            assert not (step.startswith("SCAN") and table in aliases), (step, sql)


def test_answers_and_results_are_read_from_covering_indexes(chain_app):
    with chain_app.app_context(), database.connection_context():
        brand = Brand.get(Brand.name == CHAIN)
        branch_ids = [b.id for b in Branch.select().join(Region).where(Region.brand == brand)]
        end = utcnow()
        plans = _plans_of(lambda: (stats.part_totals(branch_ids, end - timedelta(days=182), end),
                                   stats.failed_most_often({"branches": branch_ids}, end - timedelta(days=182), end)))
    steps = [step for _sql, plan in plans for step in plan]
    assert any("COVERING INDEX visit_score_visit_id_kind_key_percent" in step for step in steps), steps
    assert any("COVERING INDEX answer_visit_id_item_id_earned_possible" in step for step in steps), steps
    # and the period's visits drive both: found through the (branch, state, ended_at) index
    assert sum("visit_branch_id_state_ended_at" in step for step in steps) >= 2, steps


def _aliases(sql, table):
    """The aliases peewee gave `table` in a statement ("visit" AS "t1" -> t1)."""
    marker = f'"{table}" AS "'
    found, index = [], sql.find(marker)
    while index != -1:
        start = index + len(marker)
        found.append(sql[start:sql.index('"', start)])
        index = sql.find(marker, start)
    return found


def test_every_index_on_a_submissions_rows_leads_with_the_visit(chain_app):
    """A submission's hundreds of rows then land side by side in each index: its commit writes a few
    pages. An index led by anything else (the item id) scattered them over a hundred pages and made
    a 250-item submission twice as slow."""
    with chain_app.app_context(), database.connection_context():
        for table in ("answer", "visit_score"):
            indexes = [row[1] for row in database.execute_sql(f"PRAGMA index_list({table})")]
            assert indexes, table
            for index in indexes:
                first = database.execute_sql(f"PRAGMA index_info({index})").fetchone()[2]
                assert first == "visit_id", (table, index)
