"""The load balancer's health check: this process answers and reaches its database."""
from flask import Blueprint, jsonify

from ..db import database

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    # Anyone may ask (a load balancer has no account); the answer says nothing about the data.
    # A database that is away raises here, and errors.py answers 503, which takes the process out of
    # the balancer's rotation until the database is back.
    database.execute_sql("SELECT 1").fetchone()
    return jsonify({"status": "ok"})
