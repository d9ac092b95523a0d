"""Visit submissions per second through the real app, for a 40-item and a 250-item checklist.

Each submission is a full visit posted to the sync API (/api/v1/visits/<id>/submission): session
and CSRF checks, validation, scoring, one transaction with all answers and results, on the embedded
SQLite (WAL). The 40-item checklist is the shipped retail one; the 250-item one is made of renamed
copies of its sections (bench._setup.wide_checklist), the size of ODK Central's published anchor
(about 41 submissions/s of a 250-question form on a small 2 GB server; target: five times that).

The baseline is a bare Flask route that parses the same JSON and answers, through the same
in-process client, so the ratio shows what the app's own work costs. In-process means no HTTP
server: bench_load.py measures the same API under gunicorn with several workers.

--history N does it all again on a new database that first gets N visits of the scale chain (30,000
are five years of a 500-branch chain, 1.1 million answers): the ratio shows whether a submission
costs more once the tables are large.

Run: .venv/bin/python bench/bench_submissions.py [N] [--history N] [--json PATH]
"""
import argparse
import os
import sys
import time
from datetime import date, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask import Flask, jsonify, request  # noqa: E402

from audit.checklist import content_hash  # noqa: E402
from audit.db import database  # noqa: E402
from audit.demo import best_answers  # noqa: E402
from audit.models import Branch, User, Visit  # noqa: E402
from audit.operations import publish_checklist  # noqa: E402
from audit.scale import load_scale  # noqa: E402
from bench._setup import demo_app, machine, signed_in, wide_checklist, write_figures  # noqa: E402

ODK_PER_SECOND = 41  # ODK Central, 250-question form, small server (the anchor)
SHOPPER = "shopper1@example.com"
WARMUP = 20  # submissions of each checklist before the clock starts


def make_visits(app, count, items):
    """`count` assigned visits of the demo shopper at one branch, of a checklist of `items` items."""
    with app.app_context(), database.connection_context(), database.atomic():
        shopper = User.get(User.email == SHOPPER)
        template = Visit.select().where(Visit.shopper == shopper).first()
        version = template.checklist_version
        if items != sum(len(s["items"]) for s in version.content["sections"]):
            data = wide_checklist(version.content, items)
            version, _created = publish_checklist(data, content_hash(data))
        branch = Branch.get_by_id(template.branch_id)
        rows = [Visit.create(branch=branch, checklist_version=version, shopper=shopper, planned_from=date.today(),
                             planned_to=date.today() + timedelta(days=3)) for _ in range(count)]
        return [str(v.uuid) for v in rows], best_answers(version.content)


def bare_app():
    bare = Flask("bare")

    @bare.post("/submit")
    def submit():
        body = request.get_json()
        return jsonify({"status": "received", "answers": len(body["answers"])}), 201

    return bare


def timed(ids, post, expected):
    start = time.perf_counter()
    for visit_id in ids:
        response = post(visit_id)
        assert response.status_code == expected, response.data
    return time.perf_counter() - start


def measure(count, history):
    """[(items, answers, stored s, resend s, bare s)] for `count` submissions of each checklist, into
    the demo data plus, if `history`, the scale chain's `history` past visits."""
    app, _folder = demo_app()
    if history:
        with app.app_context(), database.connection_context():
            load_scale(history)
    client, token = signed_in(app, SHOPPER)
    headers = {"X-CSRFToken": token}
    rows = []
    for items in (40, 250):
        ids, answers = make_visits(app, WARMUP + count, items)
        payload = {"answers": answers, "comments": {}, "photos": {}}

        def submit(visit_id, payload=payload):
            return client.post(f"/api/v1/visits/{visit_id}/submission", json=payload, headers=headers)

        timed(ids[:WARMUP], submit, 201)  # the checklist compiled, the queries prepared, caches filled
        ids = ids[WARMUP:]
        stored = timed(ids, submit, 201)
        resend = timed(ids, submit, 200)  # answered from the stored hash, nothing written
        bare_client = bare_app().test_client()
        bare = timed(ids, lambda _id, payload=payload: bare_client.post("/submit", json=payload), 201)
        rows.append((items, len(answers), stored, resend, bare))
    return rows


def print_rows(count, rows, title):
    print(f"{count} submissions per checklist, in-process client, one process, SQLite (WAL), {title}:")
    print(f"{'checklist':<10} {'answers':>7} {'stored/s':>9} {'ms each':>8} {'resend/s':>9} {'bare/s':>8} {'x bare':>7}")
    for items, answered, stored, resend, bare in rows:
        print(f"{items:>4} items {answered:>7} {count / stored:>9.1f} {1000 * stored / count:>8.2f} "
              f"{count / resend:>9.1f} {count / bare:>8.0f} {stored / bare:>7.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=300)
    parser.add_argument("--history", type=int, default=0,
                        help="then the same into a database that already holds this many visits of the scale chain")
    parser.add_argument("--json", help="write the headline figures to this file")
    args = parser.parse_args()
    count = args.count
    rows = measure(count, 0)
    figures = {}
    for items, _answered, stored, _resend, bare in rows:
        figures[f"submissions_{items}_per_s"] = count / stored
        figures[f"submissions_{items}_x_bare"] = stored / bare
    print(machine())
    print_rows(count, rows, "the demo data")
    if args.history:
        # Does a submission cost more once the tables hold years of visits? Its rows are appended at
        # the end of every index (ids increase), so it should not.
        deep = measure(count, args.history)
        print_rows(count, deep, f"after {args.history:,} visits of history")
        for (items, _a, stored, _r, _b), (_i, _a2, deep_stored, _r2, _b2) in zip(rows, deep):
            figures[f"submissions_{items}_history_ratio"] = stored / deep_stored
            print(f"  {items} items: {count / deep_stored:.0f}/s after the history vs {count / stored:.0f}/s "
                  f"without: x{stored / deep_stored:.2f}")
    wide = figures["submissions_250_per_s"]
    # The target is for the machine (both cores, under gunicorn): bench_load.py gives that verdict.
    print(f"ODK Central's published figure: ~{ODK_PER_SECOND}/s for 250 questions; here {wide:.0f}/s "
          f"(x{wide / ODK_PER_SECOND:.1f} ODK) on one core, in-process; the target of five times ODK "
          f"({5 * ODK_PER_SECOND}/s) is for the whole machine under gunicorn: see bench_load.py.")
    if args.json:
        write_figures(args.json, figures)


if __name__ == "__main__":
    main()
