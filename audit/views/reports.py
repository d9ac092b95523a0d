"""PDF reports for the branches a user may see, in the language the reader asks for."""
from datetime import timedelta

from flask import Blueprint, Response, abort, request
from flask_babel import force_locale
from flask_login import current_user

from ..access import branch_or_404, role_required
from ..config import LANGUAGES
from ..i18n import current_language
from ..models import Action, Role, Visit, utcnow
from ..reports.render import render_pdf

bp = Blueprint("reports", __name__, url_prefix="/reports")

PERIOD_DAYS = 182


@bp.route("/branches/<int:branch_id>/visits.pdf")
@role_required(Role.MANAGER, Role.AUDITOR)
def branch_visits(branch_id):
    branch = branch_or_404(current_user, branch_id)
    language = request.args.get("lang") or current_language()
    if language not in LANGUAGES:
        abort(404)
    end = utcnow()
    start = end - timedelta(days=PERIOD_DAYS)
    visits = list(Visit.approved_for_branch(branch, start, end))
    with force_locale(language):
        pdf, _fetcher = render_pdf(
            "reports/branch_visits.html",
            branch=branch,
            brand=branch.region.brand,
            visits=visits,
            actions=list(Action.open_for_branch(branch)),
            start=start,
            end=end,
            language=language,
        )
    filename = f"{branch.code}-visits-{language}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
