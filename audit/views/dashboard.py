"""Managers' overview of the branches in their regions."""
from datetime import timedelta

from flask import Blueprint, render_template
from flask_login import current_user

from ..access import role_required, visible_branches
from ..models import Role, Visit, utcnow

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

PERIOD_DAYS = 182


@bp.route("/")
@role_required(Role.MANAGER, Role.AUDITOR)
def index():
    since = utcnow() - timedelta(days=PERIOD_DAYS)
    branches = list(visible_branches(current_user))
    summary = Visit.branch_summary([b.id for b in branches], since)
    rows = [(branch, summary.get(branch.id)) for branch in branches]
    return render_template("dashboard/index.html", rows=rows, since=since)
