"""The load balancer's health check: this process answers, reaches its database at the schema this
release expects, and reaches Redis where the settings point at it; with a warning when the disk where
photos, job files or the SQLite database go is nearly full."""
import os
import shutil

from flask import Blueprint, current_app, jsonify
from peewee import DatabaseError, InterfaceError

from ..migrations import schema_problem
from ..security import sign_in_counts_problem
from ..tasks import queue_problem

bp = Blueprint("health", __name__)
def _database_problem():
    try:
        return schema_problem()
    except (DatabaseError, InterfaceError) as error:
        # The kind of error only: its text may name the host and the user.
        return f"the database (DATABASE_URL) does not answer ({type(error).__name__})"


def _disk_warnings():
    from ..backup import engine_of, sqlite_path

    config = current_app.config
    folders = {"MEDIA_DIR": config["MEDIA_DIR"]}
    if engine_of(config["DATABASE_URL"]) == "sqlite":
        folders["DATABASE_URL"] = os.path.dirname(os.path.abspath(sqlite_path(config["DATABASE_URL"])))
    # Less room than LOW_DISK_MB is a warning, not a failure: the process still serves (reading a
    # dashboard needs no room), but uploads will fail soon.
    low = config["LOW_DISK_MB"] * 1024 * 1024
    warnings = []
    for name, folder in folders.items():
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            continue  # not there yet: made at the first upload
        if free < low:
            warnings.append(f"the disk of {name} has {free // (1024 * 1024)} MB free")
    return warnings


@bp.route("/healthz")
def healthz():
    # Anyone may ask (a load balancer has no account); the answer says nothing about the data.
    # A database that is away raises here, and errors.py answers 503, which takes the process out of
    # the balancer's rotation until the database is back. A schema this release cannot use (an
    # upgrade without `flask init-db`) or a Redis that is away also answer 503, naming what to fix.
    problems = [problem for problem in (_database_problem(), sign_in_counts_problem(), queue_problem()) if problem]
    if problems:
        current_app.logger.error("Health check failed: %s.", "; ".join(problems))
        return jsonify({"status": "unavailable", "problems": problems}), 503, {"Retry-After": "5"}
    warnings = _disk_warnings()
    if warnings:
        current_app.logger.warning("Health check: %s.", "; ".join(warnings))
        return jsonify({"status": "ok", "warnings": warnings})
    return jsonify({"status": "ok"})
