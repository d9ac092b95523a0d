"""The data exports (CSV and XLSX of visits and answers) of a 500-branch chain at 30,000 visits.

A fresh SQLite file gets the demo organisation and the `flask demo --scale` chain (five years, 1.1
million answers). Signed in as the chain's manager (all 500 branches), through the real app, each
export is fetched for the default half year and for two years (the longest period offered), reading
the answer's body as it comes: the time to the last byte, the size, and the peak memory of the
process over what it held before (VmHWM, reset before each export). The XLSX is a background job:
here the queue runs it at once, inside the POST that starts it (as in the tests), so its figure is
the job's time and memory, and then the download's. The baseline, measured in the
same run, is the database alone: the answers of the period read with a bare cursor, no app.

Before the seventh session every row read its checklist version whole (its parsed content), and the
XLSX of a half year took 203 s and 20 GB; this bench keeps that from coming back.

--postgres runs the same on a throw-away PostgreSQL server (bench._servers.PostgreSQL).

Run: .venv/bin/python bench/bench_exports.py [--visits N] [--postgres] [--json PATH]
"""
import argparse
import os
import shutil
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from audit.db import database  # noqa: E402
from audit.models import Answer, Branch, Brand, Region, Visit, VisitState, utcnow  # noqa: E402
from audit.scale import CHAIN, CHAIN_MANAGER, load_scale  # noqa: E402
from bench._servers import PostgreSQL  # noqa: E402
from bench._setup import demo_app, machine, signed_in, write_figures  # noqa: E402
from bench.bench_zip_memory import mib, reset_peak, status_kib  # noqa: E402

EXPORTS = [("CSV, visits", "/reports/export.csv?kind=visits"), ("CSV, answers", "/reports/export.csv?kind=answers"),
           ("XLSX, both", "/reports/export.xlsx")]  # POST: a job
PERIODS = (182, 730)


def fetch(client, token, url):
    """(seconds to the last byte, bytes, peak MiB over the RSS before) of one export."""
    reset_peak()
    before = status_kib("VmRSS")
    started = time.perf_counter()
    if url.startswith("/reports/export.xlsx"):
        job = client.post(url, data={"csrf_token": token})
        assert job.status_code == 302, (url, job.status_code)
        url = job.headers["Location"] + "/download"
    response = client.get(url, buffered=False)
    assert response.status_code == 200, (url, response.status_code)
    size = sum(len(chunk) for chunk in response.response)
    response.close()
    seconds = time.perf_counter() - started
    return seconds, size, mib(status_kib("VmHWM") - before)


def bare_answers(days):
    """(seconds, rows): the period's answers of the chain read with a bare cursor, the database alone."""
    end = utcnow()
    visits = (Visit.select(Visit.id).join(Branch).join(Region).join(Brand)
              .where((Brand.name == CHAIN) & (Visit.state == VisitState.APPROVED.value)
                     & (Visit.ended_at >= end - timedelta(days=days)) & (Visit.ended_at < end)))
    query = (Answer.select(Visit.uuid, Branch.code, Visit.ended_at, Visit.checklist_version, Answer.section_id,
                           Answer.item_id, Answer.value, Answer.earned, Answer.possible, Answer.comment)
             .join(Visit).join(Branch).where(Answer.visit.in_(visits)).order_by(Visit.ended_at, Answer.id))
    sql, params = query.sql()
    started = time.perf_counter()
    rows = sum(1 for _row in database.execute_sql(sql, params))
    return time.perf_counter() - started, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=30000)
    parser.add_argument("--postgres", action="store_true", help="on a throw-away PostgreSQL server instead of SQLite")
    parser.add_argument("--json", help="write the headline figures here")
    args = parser.parse_args()
    print(machine())
    server = PostgreSQL() if args.postgres else None
    if server:
        server.start()
    app, folder = demo_app({"DATABASE_URL": server.create_database("audit_exports")} if server else None)
    try:
        with app.app_context(), database.connection_context():
            counts = load_scale(args.visits)
        print(f"Database: {'PostgreSQL' if server else 'SQLite'}. Data: {counts['branches']} branches, {counts['visits']:,} visits, {counts['answers']:,} answers; "
              f"signed in as the chain's manager (every branch)")
        client, token = signed_in(app, CHAIN_MANAGER)
        figures = {}
        print(f"\n{'export':<14} {'days':>5} {'seconds':>8} {'MB':>7} {'peak over before, MB':>21}")
        for days in PERIODS:
            with app.app_context(), database.connection_context():
                bare_seconds, rows = bare_answers(days)
            print(f"{'(bare cursor)':<14} {days:>5} {bare_seconds:>8.2f} {'':>7} {'':>21}  "
                  f"{rows:,} answers read by the database alone")
            figures[f"answers_{days}"] = rows
            figures[f"bare_answers_{days}_s"] = round(bare_seconds, 2)
            for name, path in EXPORTS:
                seconds, size, peak = fetch(client, token, f"{path}{'&' if '?' in path else '?'}days={days}")
                key = name.split(",")[0].lower() + "_" + name.split(", ")[1]
                figures[f"{key}_{days}_s"] = round(seconds, 2)
                figures[f"{key}_{days}_peak_mb"] = round(peak, 1)
                print(f"{name:<14} {days:>5} {seconds:>8.2f} {size / 2**20:>7.1f} {peak:>21.1f}")
        for days in PERIODS:
            print(f"{days} days: CSV of answers / bare cursor x{figures[f'csv_answers_{days}_s'] / figures[f'bare_answers_{days}_s']:.1f}; "
                  f"XLSX / CSV of answers x{figures[f'xlsx_both_{days}_s'] / figures[f'csv_answers_{days}_s']:.1f} "
                  f"({figures[f'answers_{days}'] / figures[f'xlsx_both_{days}_s']:,.0f} answer rows/s)")
        figures["peak_mb"] = max(value for key, value in figures.items() if key.endswith("_peak_mb"))
        print(f"Largest peak over the memory held before an export: {figures['peak_mb']:.1f} MB (streamed: flat)")
        if args.json:
            write_figures(args.json, figures)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if server:
            server.stop()


if __name__ == "__main__":
    main()
