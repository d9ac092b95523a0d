"""Branch report time for 10, 100 and 1,000 visits in the period, and the app's share of it.

For each size, one branch gets that many approved visits of the 40-item retail checklist over the
last year (answers scored and stored as in production). The report is timed whole, then in parts:
the app's SQL aggregates and charts (context), Jinja rendering, and WeasyPrint rendering the same
HTML alone. Target from the issue: the time grows far slower than the visits, and a year of one
branch (about 12-50 visits) takes under 3 s.

Run: .venv/bin/python bench/bench_reports.py [--json PATH]
"""
import os
import random
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask import render_template  # noqa: E402
from flask_babel import force_locale  # noqa: E402
from weasyprint import CSS, HTML  # noqa: E402

from audit.db import database  # noqa: E402
from audit.demo import _fill  # noqa: E402
from audit.models import Branch, Region, User, Visit, VisitState, utcnow  # noqa: E402
from audit.operations import score_and_store_answers  # noqa: E402
from audit.reports.branch import TEMPLATE, branch_report_context, branch_report_pdf  # noqa: E402
from audit.reports.render import PRINT_CSS, AppFileFetcher, asset_url  # noqa: E402
from bench._setup import demo_app, write_figures  # noqa: E402


def add_branch_with_visits(count, rng):
    template = Visit.select().join(Branch).where(Branch.code == "BUD-01").first()
    version = template.checklist_version
    shopper = User.get(User.email == "shopper1@example.com")
    branch = Branch.create(region=Region.get(Region.name == "Hungary"), code=f"BENCH-{count}",
                           name=f"Bench branch {count}", address="Bench utca 1.", city="Budapest", country="HU")
    now = utcnow()
    with database.atomic():
        for index in range(count):
            ended = now - timedelta(days=rng.uniform(1, 360))
            visit = Visit.create(branch=branch, checklist_version=version, shopper=shopper,
                                 planned_from=ended.date(), planned_to=ended.date(), state=VisitState.APPROVED.value,
                                 started_at=ended - timedelta(minutes=20), ended_at=ended, submitted_at=ended)
            answers, comments = _fill(version.content, rng.uniform(0.5, 0.95), rng, "en")
            score_and_store_answers(visit, answers, comments)
    return branch


def best_of(runs, work):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    app, _folder = demo_app()
    rng = random.Random(5)
    rows = []
    with app.app_context(), database.connection_context():
        for count in (10, 100, 1000):
            branch = add_branch_with_visits(count, rng)
            end = utcnow()
            start = end - timedelta(days=365)
            total, pdf = best_of(3, lambda: branch_report_pdf(branch, "en", start, end))
            with force_locale("en"):
                context_s, context = best_of(3, lambda: branch_report_context(branch, "en", start, end))
                html_s, html = best_of(3, lambda: render_template(TEMPLATE, asset_url=asset_url, **context))
            fetcher = AppFileFetcher([app.static_folder, app.config["MEDIA_DIR"]])
            weasy_s, _pdf = best_of(3, lambda: HTML(string=html, url_fetcher=fetcher).write_pdf(
                stylesheets=[CSS(filename=str(PRINT_CSS))]))
            rows.append((count, total, context_s, html_s, weasy_s, len(pdf)))
    print("Branch report over one year, best of 3 (seconds):")
    print(f"{'visits':>7} {'total':>7} {'SQL+charts':>10} {'Jinja':>7} {'WeasyPrint':>10} {'app share':>9} {'PDF KB':>7}")
    for count, total, context_s, html_s, weasy_s, size in rows:
        share = (context_s + html_s) / (context_s + html_s + weasy_s)
        print(f"{count:>7} {total:>7.2f} {context_s:>10.3f} {html_s:>7.3f} {weasy_s:>10.2f} {share:>8.0%} {size / 1024:>7.0f}")
    base = rows[0][1]
    print("Growth against 10 visits: " + ", ".join(f"{c} visits x{t / base:.2f}" for c, t, *_ in rows)
          + " (visits x1, x10, x100)")
    print(f"Target: a year of one branch under 3 s: {'met' if rows[1][1] < 3 else 'MISSED'} ({rows[1][1]:.2f} s at 100 visits)")
    if "--json" in sys.argv:
        write_figures(sys.argv[sys.argv.index("--json") + 1],
                      {f"branch_report_{count}_visits_s": total for count, total, *_ in rows}
                      | {"branch_report_weasyprint_share": 1 - (rows[-1][2] + rows[-1][3]) / sum(rows[-1][2:5])})


if __name__ == "__main__":
    main()
