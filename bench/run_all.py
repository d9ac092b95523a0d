"""Every benchmark in one run, then one table of the headline figures against their targets.

Each bench script runs in its own process (one at a time, so they do not disturb each other), its
full output goes to the screen as it comes, and its headline figures come back as JSON. The
table at the end is what the README quotes. About 15 minutes on a 2-core machine; --quick runs
smaller sizes (a smoke run, figures not comparable).

Run: .venv/bin/python bench/run_all.py [--quick]      (or: make bench)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from bench._setup import machine  # noqa: E402

# (name of its figures, script, arguments, arguments with --quick)
BENCHES = [
    ("bench_scoring.py", "bench_scoring.py", [], []),
    ("bench_fill_page.py", "bench_fill_page.py", [], []),
    ("bench_submissions.py", "bench_submissions.py", ["300", "--history", "30000"], ["50", "--history", "1000"]),
    ("bench_scale.py", "bench_scale.py", ["--sizes", "1000,10000,30000"], ["--sizes", "500,2000"]),
    ("bench_scale.py --postgres", "bench_scale.py", ["--sizes", "1000,10000,30000", "--postgres"],
     ["--sizes", "500,2000", "--postgres"]),
    ("bench_reports.py", "bench_reports.py", [], []),
    ("bench_exports.py", "bench_exports.py", [], ["--visits", "2000"]),
    ("bench_load.py", "bench_load.py", [], ["--quick"]),
    ("bench_zip_memory.py", "bench_zip_memory.py", ["--branches", "500"], ["--branches", "40"]),
    ("bench_worker_memory.py", "bench_worker_memory.py", ["--branches", "100", "--jobs", "5"],
     ["--branches", "20", "--jobs", "4"]),
    ("bench_job_latency.py", "bench_job_latency.py", ["--idle", "60", "--repeat", "2"], ["--idle", "5", "--repeat", "1"]),
]


def _scale(figures, size, key):
    rows = figures.get("bench_scale.py") or []
    row = next((r for r in rows if r["visits"] == size), None)
    return None if row is None else row[key]


def _largest(figures, key, name="bench_scale.py"):
    rows = figures.get(name) or []
    return (rows[-1]["visits"], rows[-1][key]) if rows else (None, None)


def summary(figures):
    """(what, figure, target, met?) rows; a figure is None when its bench failed."""
    get = lambda script, key: (figures.get(script) or {}).get(key)  # noqa: E731
    size, dashboard = _largest(figures, "dashboard_ms")
    pg_size, pg_dashboard = _largest(figures, "dashboard_ms", "bench_scale.py --postgres")
    _size, branch_pdf = _largest(figures, "branch_pdf_ms")
    full_year_pdf = _scale(figures, 10000, "branch_pdf_ms")  # from 10,000 visits on, a year is in the period
    rows = [
        ("Scoring 10,000 visits (s)", get("bench_scoring.py", "scoring_10k_s"), "< 2", lambda v: v < 2),
        ("Fill page first load, gzip (KB)", get("bench_fill_page.py", "fill_page_gzip_kb"), "<= 100",
         lambda v: v <= 100),
        ("Fill page offline: network requests", get("bench_fill_page.py", "offline_network_requests"), "0",
         lambda v: v == 0),
        ("Submissions/s, 40 items, 1 process", get("bench_submissions.py", "submissions_40_per_s"), "", None),
        # One core, in-process: the target is for the whole machine, under gunicorn (below).
        ("Submissions/s, 250 items, 1 process", get("bench_submissions.py", "submissions_250_per_s"), "", None),
        # The same after 30,000 visits of history: a submission's rows go at the end of every index.
        ("  fresh / after 30,000 visits of history", get("bench_submissions.py", "submissions_250_history_ratio"),
         "~1", None),
        (f"Dashboard, 500 branches, {size or '?'} visits (ms)", dashboard, "< 200", lambda v: v < 200),
        (f"  the same on PostgreSQL, {pg_size or '?'} visits (ms)", pg_dashboard, "", None),
        (f"Branch report PDF at {size or '?'} visits (ms)", branch_pdf,
         f"~ same as at 10,000 ({full_year_pdf:.0f})" if full_year_pdf else "", None),
        ("Branch report, 100 visits in a year (s)", get("bench_reports.py", "branch_report_100_visits_s"), "< 3",
         lambda v: v < 3),
        ("Export XLSX, 500 branches, half a year (s)", get("bench_exports.py", "xlsx_both_182_s"), "", None),
        ("Export XLSX, the same over two years (s)", get("bench_exports.py", "xlsx_both_730_s"), "", None),
        ("Exports: largest peak over before (MB)", get("bench_exports.py", "peak_mb"), "flat", None),
        ("gunicorn: fill page req/s", get("bench_load.py", "fill_rps"), "", None),
        ("gunicorn: fill page / bare route", get("bench_load.py", "fill_vs_bare"), ">= 0.5", lambda v: v >= 0.5),
        # The steps between the two (bench_load.py's probes), each a share of the bare route.
        ("  bare app serving the fill page's bytes / bare", get("bench_load.py", "bare_page_vs_bare"), "", None),
        ("  static file through the app / bare", get("bench_load.py", "static_vs_bare"), "", None),
        ("  bare route inside the app / bare", get("bench_load.py", "app_bare_vs_bare"), "", None),
        ("  that route, signed in as a shopper / bare", get("bench_load.py", "signed_in_vs_bare"), "", None),
        ("  fill page's bytes, signed in / bare", get("bench_load.py", "signed_in_page_vs_bare"), "", None),
        ("  same, after the page's checks / bare", get("bench_load.py", "checked_page_vs_bare"), "", None),
        ("gunicorn: sync API submissions/s, 40 items", get("bench_load.py", "sync_rps"), "", None),
        ("gunicorn: sync API p95 (ms), 40 items", get("bench_load.py", "sync_p95_ms"), "", None),
        ("gunicorn: sync API submissions/s, 250 items", get("bench_load.py", "sync_250_rps"), ">= 205 (5x ODK)",
         lambda v: v >= 205),
        ("gunicorn: photo uploads/s, 1600 px (Pillow)", get("bench_load.py", "photo_rps"), "", None),
        ("gunicorn: photo uploads/s, 4000 px as taken", get("bench_load.py", "camera_photo_rps"), "", None),
        ("gunicorn: errors under load", get("bench_load.py", "errors"), "0", lambda v: v == 0),
        ("PostgreSQL: 2 processes / 1 process", get("bench_load.py", "pg_gain"), "> 1", lambda v: v > 1),
        ("Region ZIP of 500 reports: peak RSS (MB)", get("bench_zip_memory.py", "peak_rss_mb"), "flat", None),
        ("Region ZIP: peak over baseline (MB)",
         (lambda z: z and z.get("peak_rss_mb") is not None and z["peak_rss_mb"] - z["baseline_rss_mb"])(
             figures.get("bench_zip_memory.py")), "", None),
        # A worker making ZIP after ZIP: the growth from job to job, each job in a child of its own.
        ("Worker, 100-report ZIPs in a row: MB per job", get("bench_worker_memory.py", "worker_growth_mb_per_job"),
         "~0", None),
        ("  the same in one long-lived process (before)", get("bench_worker_memory.py", "one_process_growth_mb_per_job"),
         "", None),
        # A small XLSX export queued after the worker sat idle: done in, against huey's default polling.
        ("Small XLSX export after an idle worker: done (s)", get("bench_job_latency.py", "done_s"), "", None),
        ("  the same / with huey's default polling", get("bench_job_latency.py", "done_ratio"), "", None),
    ]
    return rows


def main():
    quick = "--quick" in sys.argv
    print(machine())
    figures, failed, started = {}, [], time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="audit-benches-") as folder:
        for name, script, arguments, quick_arguments in BENCHES:
            out = os.path.join(folder, name.replace(" ", "_") + ".json")
            command = [sys.executable, os.path.join(HERE, script), *(quick_arguments if quick else arguments),
                       "--json", out]
            print(f"\n===== {script} {' '.join(quick_arguments if quick else arguments)} =====", flush=True)
            begun = time.perf_counter()
            status = subprocess.call(command, cwd=ROOT)
            print(f"----- {script}: exit {status}, {time.perf_counter() - begun:.0f} s", flush=True)
            if status == 0 and os.path.exists(out):
                with open(out, encoding="utf-8") as result:
                    figures[name] = json.load(result)
            else:
                failed.append(name)
    print(f"\n===== Summary ({'quick run' if quick else 'full run'}, {time.perf_counter() - started:.0f} s) =====")
    print(machine())
    print(f"{'figure':<48} {'value':>10}  {'target':<22} {'':<6}")
    for what, value, target, check in summary(figures):
        shown = "failed" if value is None else (f"{value:,.2f}" if isinstance(value, float) else f"{value:,}")
        verdict = "" if value is None or check is None else ("met" if check(value) else "MISSED")
        print(f"{what:<48} {shown:>10}  {target:<22} {verdict:<6}")
    if failed:
        print("Benchmarks that failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
