"""Visit submissions per second through the real app, against a bare Flask route in the same run.

Each submission is a full visit of the 40-item retail checklist posted to the sync API
(/api/v1/visits/<id>/submission): session and CSRF checks, validation, scoring, one transaction with
all answers, on the embedded SQLite. The baseline is a bare Flask route that parses the same JSON and
answers, through the same in-process client, so the ratio shows what the app's own work costs.

Run: .venv/bin/python bench/bench_submissions.py [N]
"""
import os
import sys
import time
from datetime import date, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask import Flask, jsonify, request  # noqa: E402

from audit.db import database  # noqa: E402
from audit.demo import best_answers  # noqa: E402
from audit.models import Branch, User, Visit  # noqa: E402
from bench._setup import demo_app, signed_in  # noqa: E402



def make_visits(app, count):
    with app.app_context(), database.connection_context(), database.atomic():
        shopper = User.get(User.email == "shopper1@example.com")
        template = Visit.select().join(User).where((User.email == "shopper1@example.com")).first()
        version = template.checklist_version
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


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    app, _folder = demo_app()
    ids, answers = make_visits(app, count)
    client, token = signed_in(app, "shopper1@example.com")
    payload = {"answers": answers, "comments": {}, "photos": {}}

    start = time.perf_counter()
    for visit_id in ids:
        response = client.post(f"/api/v1/visits/{visit_id}/submission", json=payload, headers={"X-CSRFToken": token})
        assert response.status_code == 201, response.data
    app_seconds = time.perf_counter() - start

    start = time.perf_counter()
    for visit_id in ids:  # the same resend: answered from the stored hash, nothing written
        assert client.post(f"/api/v1/visits/{visit_id}/submission", json=payload,
                           headers={"X-CSRFToken": token}).status_code == 200
    resend_seconds = time.perf_counter() - start

    bare_client = bare_app().test_client()
    start = time.perf_counter()
    for _ in ids:
        assert bare_client.post("/submit", json=payload).status_code == 201
    bare_seconds = time.perf_counter() - start

    rate = count / app_seconds
    print(f"{count} submissions of a {len(answers)}-answer visit, in-process client, SQLite (WAL):")
    print(f"{'route':<34} {'per s':>8} {'ms each':>8} {'x bare':>7}")
    print(f"{'-' * 34} {'-' * 8} {'-' * 8} {'-' * 7}")
    for name, seconds in [("sync API submission (stored)", app_seconds), ("resend (already received)", resend_seconds),
                          ("bare Flask route (baseline)", bare_seconds)]:
        print(f"{name:<34} {count / seconds:>8.1f} {1000 * seconds / count:>8.2f} {seconds / bare_seconds:>7.1f}")
    print(f"ODK Central's published figure: ~41 submissions/s; this run: {rate:.0f}/s on one core.")


if __name__ == "__main__":
    main()
