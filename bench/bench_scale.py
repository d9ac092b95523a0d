"""Dashboards, ranking and reports of a national chain at 1,000 / 10,000 / 30,000 visits, on SQLite
(and, with --postgres, on PostgreSQL: the scale-out database).

For each size a fresh SQLite file gets the demo organisation plus the `flask demo --scale` chain
(500 branches in ten regions, one visit a branch a month going back as far as the size needs:
30,000 visits are five years and 1.1 million answers). Through the real app (in-process client,
signed in as the chain's manager, who sees all 500 branches) it times, median of several runs:

- the dashboard over all 500 branches and over one region (default period: the last 182 days),
- the region ranking PDF (50 branches), the brand report of the chain (its ten regions, 500 branches)
  and one branch report PDF over a year;
- `flask rescore --check` (every scored visit scored again from its stored answers, compared with
  the stored results, which must be the scoring function's: none may differ). It reads the whole
  history, so it grows with the data; it runs outside any request.

The baseline is the smallest size: the ratios show how the time grows against the data. Since
every aggregate is driven by the index on (branch, state, ended_at), the work follows the visits in
the period (at most 500 branches x 6 months here), not the history. The query plans SQLite chose
at the largest size are printed at the end (EXPLAIN QUERY PLAN).

--postgres runs the same on a throw-away PostgreSQL server (bench._servers.PostgreSQL, fsync on,
random_page_cost 1.1 as the README advises for SSDs), a fresh database per size, and prints
PostgreSQL's plans (EXPLAIN) instead.

Run: .venv/bin/python bench/bench_scale.py [--sizes 1000,10000,30000] [--postgres] [--json PATH]
"""
import argparse
import logging
import os
import shutil
import statistics
import sys
import time
from datetime import timedelta

from peewee import PostgresqlDatabase

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from audit import stats  # noqa: E402
from audit.db import database  # noqa: E402
from audit.models import Answer, Branch, Brand, Region, Visit, VisitState, utcnow  # noqa: E402
from audit.rescoring import rescore_visits  # noqa: E402
from audit.scale import CHAIN, CHAIN_MANAGER, load_scale  # noqa: E402
from bench._servers import RANDOM_PAGE_COST, PostgreSQL  # noqa: E402
from bench._setup import demo_app, machine, signed_in, write_figures  # noqa: E402

RUNS = 7


def median_ms(client, url, runs=RUNS):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    return 1000 * statistics.median(times)


def measure(size, with_plans=False, postgres=None):
    """The figures at one size; on a new database of `postgres` (a started PostgreSQL) if given."""
    extra = {"DATABASE_URL": postgres.create_database(f"audit_scale_{size}")} if postgres else None
    app, folder = demo_app(extra)
    try:
        with app.app_context(), database.connection_context():
            started = time.perf_counter()
            load_scale(size)
            load_seconds = time.perf_counter() - started
            brand = Brand.get(Brand.name == CHAIN)
            region = Region.select().where(Region.brand == brand).order_by(Region.id).first()
            branch = Branch.select().where(Branch.region == region).order_by(Branch.id).first()
            end = utcnow()
            in_period = Visit.select().join(Branch).join(Region).where(
                (Region.brand == brand) & (Visit.state == VisitState.APPROVED.value)
                & (Visit.ended_at >= end - timedelta(days=182))).count()
            answers = Answer.select().count()
            if postgres:
                database_mb = database.execute_sql("SELECT pg_database_size(current_database())").fetchone()[0] / 2**20
            else:
                database_mb = os.path.getsize(os.path.join(folder, "bench.sqlite3")) / 2**20
            # `flask rescore --check`: every visit scored again from its answers (a full pass over the
            # history, unlike the pages above); the bulk loader must have stored the function's results.
            started = time.perf_counter()
            checked = rescore_visits(apply=False)
            rescore_seconds = time.perf_counter() - started
            assert checked.differing == 0, f"{checked.differing} visits' stored results are not the function's"
        client, _token = signed_in(app, CHAIN_MANAGER)
        row = {
            "visits": size, "answers": answers, "in_period": in_period, "database_mb": database_mb,
            "load_s": load_seconds, "rescore_check_s": rescore_seconds, "rescored": checked.checked,
            "dashboard_ms": median_ms(client, "/dashboard/"),
            "dashboard_region_ms": median_ms(client, f"/dashboard/?region={region.id}"),
            "ranking_pdf_ms": median_ms(client, f"/reports/regions/{region.id}.pdf", runs=3),
            "brand_pdf_ms": median_ms(client, f"/reports/brands/{brand.id}.pdf", runs=3),
            "branch_pdf_ms": median_ms(client, f"/reports/branches/{branch.id}/visits.pdf?days=365", runs=3),
        }
        if with_plans:
            with app.app_context(), database.connection_context():
                row["plans"] = query_plans(brand, end)
        return row
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def query_plans(brand, end):
    """The database's plan for every statement the dashboard's aggregates run."""
    plans = []
    sqlite = not isinstance(database.obj, PostgresqlDatabase)

    class Collect(logging.Handler):
        def emit(self, record):
            sql, params = record.msg
            if sql.startswith("EXPLAIN"):
                return
            if sqlite:
                steps = [row[3] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params)]
            else:
                steps = [row[0].strip() for row in database.execute_sql("EXPLAIN " + sql, params)]
            plans.append((sql.split(" FROM ")[0][:70], steps))

    branch_ids = stats.branch_ids_of({"brand": brand.id})
    branches = list(Branch.select().where(Branch.id.in_(branch_ids)))
    start = end - timedelta(days=182)
    logger = logging.getLogger("peewee")
    handler = Collect()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        stats.ranking(branches, start, end, None, start - timedelta(days=182))
        stats.part_totals(branch_ids, start, end)
        stats.overall_mean({"branches": branch_ids}, start, end)
        stats.failed_most_often({"branches": branch_ids}, start, end)
        list(stats.critical_failures(branch_ids, start, end))
    finally:
        logger.removeHandler(handler)
    return plans


def print_table(rows, engine="SQLite"):
    base = rows[0]
    print(f"{'visits':>7} {'answers':>9} {'in period':>9} {'DB MB':>6} {'load s':>6} {'dashboard':>10} "
          f"{'1 region':>9} {'ranking PDF':>11} {'brand PDF':>9} {'branch PDF':>10} {'rescore --check':>15}")
    for row in rows:
        print(f"{row['visits']:>7,} {row['answers']:>9,} {row['in_period']:>9,} {row['database_mb']:>6.0f} "
              f"{row['load_s']:>6.1f} {row['dashboard_ms']:>8.0f}ms {row['dashboard_region_ms']:>7.0f}ms "
              f"{row['ranking_pdf_ms']:>9.0f}ms {row['brand_pdf_ms']:>7.0f}ms {row['branch_pdf_ms']:>8.0f}ms "
              f"{row['rescore_check_s']:>6.1f}s ({row['rescored'] / row['rescore_check_s']:,.0f}/s)")
    print("Growth against the smallest size (data x, then each figure x):")
    for row in rows[1:]:
        print(f"  {row['visits']:>6,} visits: data x{row['visits'] / base['visits']:.0f}, "
              f"dashboard x{row['dashboard_ms'] / base['dashboard_ms']:.2f}, "
              f"1 region x{row['dashboard_region_ms'] / base['dashboard_region_ms']:.2f}, "
              f"ranking PDF x{row['ranking_pdf_ms'] / base['ranking_pdf_ms']:.2f}, "
              f"brand PDF x{row['brand_pdf_ms'] / base['brand_pdf_ms']:.2f}, "
              f"branch PDF x{row['branch_pdf_ms'] / base['branch_pdf_ms']:.2f}")
    top = rows[-1]
    verdict = "met" if top["dashboard_ms"] < 200 else "MISSED"
    print(f"Target (for SQLite): dashboard of all 500 branches under 200 ms at {top['visits']:,} visits; "
          f"{engine}: {top['dashboard_ms']:.0f} ms ({verdict})")
    for name, steps in top.get("plans", []):
        print(f"\n{name} ...")
        for step in steps:
            print(f"    {step if len(step) <= 160 else step[:157] + '...'}")  # PostgreSQL lists every branch id


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,30000")
    parser.add_argument("--postgres", action="store_true", help="on a throw-away PostgreSQL server instead of SQLite")
    parser.add_argument("--json", help="write the headline figures to this file")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(machine())
    server = PostgreSQL() if args.postgres else None
    try:
        if server:
            server.start()
        engine = (f"PostgreSQL {server.version} (fsync on, random_page_cost {RANDOM_PAGE_COST})" if server
                  else "SQLite (WAL)")
        print(f"Chain of 500 branches, {engine}, in-process client, median of runs; dashboard period 182 days.")
        rows = [measure(size, with_plans=size == sizes[-1], postgres=server) for size in sizes]
    finally:
        if server:
            server.stop()
    print_table(rows, "PostgreSQL" if args.postgres else "SQLite")
    if args.json:
        write_figures(args.json, [{k: v for k, v in row.items() if k != "plans"} for row in rows])


if __name__ == "__main__":
    main()
