"""The load balancer's health check: this process answers, reaches its database at the schema this
release expects, and reaches Redis where the settings point at it."""
from flask import Blueprint, current_app, jsonify

from ..migrations import schema_problem
from ..security import sign_in_counts_problem
from ..tasks import queue_problem

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    # Anyone may ask (a load balancer has no account); the answer says nothing about the data.
    # A database that is away raises here, and errors.py answers 503, which takes the process out of
    # the balancer's rotation until the database is back. A schema this release cannot use (an
    # upgrade without `flask init-db`) or a Redis that is away also answer 503, naming what to fix.
    problems = [problem for problem in (schema_problem(), sign_in_counts_problem(), queue_problem()) if problem]
    if problems:
        current_app.logger.error("Health check failed: %s.", "; ".join(problems))
        return jsonify({"status": "unavailable", "problems": problems}), 503, {"Retry-After": "5"}
    return jsonify({"status": "ok"})
