"""Managers' view of the branches in their regions: scores, trend, ranking, what fails, and actions."""
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import stats
from ..access import branch_or_404, role_required, visible_branches
from ..db import id_in
from ..forms import ActionForm, DashboardFilterForm
from ..i18n import gettext as _
from ..models import Action, ActionStatus, Branch, Checklist, ChecklistVersion, Region, Role, utcnow

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
# The dashboard lists the latest critical failures; a chain of hundreds of branches has many more.
CRITICAL_LISTED = 20


def _checklists():
    return [(c.id, c.slug) for c in Checklist.ordered()]


def _regions_of(user):
    if user.is_auditor:
        return list(Region.ordered())
    return list(Region.ordered().where(Region.id.in_(list(user.region_ids()))))


@bp.route("/")
@role_required(Role.MANAGER, Role.AUDITOR)
def index():
    regions = _regions_of(current_user)
    args = request.args
    brands = sorted({(r.brand.name, r.brand_id) for r in regions})
    if current_user.is_auditor and len(brands) > 1 and "brand" not in args and "region" not in args:
        # An agency's auditor sees every client's branches. Scores from different brands' checklists
        # do not compare, and all of them at once made a ranking of thousands (three 500-branch
        # chains: 365 ms and 900 KB): the first brand is shown until another one, or All, is chosen.
        args = args.copy()
        args["brand"] = str(brands[0][1])
    form = DashboardFilterForm(args, regions=regions, checklists=_checklists())
    period = form.period.data if form.period.data in (30, 91, 182, 365) else 182
    end = utcnow()
    start = end - timedelta(days=period)
    region_ids = [r.id for r in regions if not form.brand.data or r.brand_id == form.brand.data]
    if form.region.data and form.region.data in region_ids:
        region_ids = [form.region.data]
    branches = list(visible_branches(current_user).where(id_in(Branch.region, region_ids)))
    branch_ids = [b.id for b in branches]
    scope = {"branches": branch_ids}
    version_ids = None
    if form.checklist.data:
        version_ids = [v.id for v in ChecklistVersion.select().where(ChecklistVersion.checklist == form.checklist.data)]
        scope["checklist_version_ids"] = version_ids
    # The heaviest aggregate runs beside the others (stats.in_background).
    failed = stats.in_background(stats.failed_most_often, scope, start, end) if branches else None
    brand_ids = {r.brand_id for r in regions if r.id in region_ids}
    # Averages to compare with: the selected regions, and their brand when there is only one. A
    # manager's branches are exactly their regions' branches, so per-region totals serve all three.
    compare = {"region": region_ids}
    widest = {"regions": region_ids}
    if len(brand_ids) == 1:
        widest = {"brand": brand_ids.pop()}
        compare["brand"] = None  # every row of the totals
    totals = stats.part_totals(stats.branch_ids_of(widest), start, end, per="region")
    texts = stats.item_texts(branch_ids, start, end)
    parts = {
        kind: {
            "mine": stats.in_checklist_order(stats.part_means(totals, kind, region_ids, version_ids), kind, texts),
            **{name: stats.part_means(totals, kind, ids) for name, ids in compare.items()},
        }
        for kind in ("section", "dimension")
    }
    today = date.today()
    critical = stats.critical_failures(branch_ids, start, end)
    return render_template(
        "dashboard/index.html", form=form, start=start, end=end, period=period,
        ranking=stats.ranking(branches, start, end, version_ids) if branches else [],
        overall=stats.overall_mean(scope, start, end) if branches else None,
        parts=parts, compare=list(compare), texts=texts,
        failed=failed.result() if failed else [],
        critical=list(critical.limit(CRITICAL_LISTED)) if branches else [],
        critical_count=critical.count() if branches else 0,
        actions=list(stats.open_actions(branch_ids)) if branches else [],
        today=today, action_form=ActionForm(), regions=[r for r in regions if r.id in region_ids],
    )


@bp.route("/actions", methods=["POST"])
@role_required(Role.MANAGER, Role.AUDITOR)
def add_action():
    form = ActionForm()
    try:
        branch = branch_or_404(current_user, int(form.branch.data or 0))
    except ValueError:
        abort(404)
    if form.validate_on_submit():
        Action.create(branch=branch, item_id=form.item.data or None, what=form.what.data.strip(),
                      owner=form.owner.data.strip(), due_date=form.due_date.data, created_by=current_user.id)
        flash(_("Action added."), "success")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    return redirect(url_for("dashboard.index") + "#actions")


@bp.route("/actions/<int:action_id>/done", methods=["POST"])
@role_required(Role.MANAGER, Role.AUDITOR)
def finish_action(action_id):
    action = Action.get_or_none(Action.id == action_id)
    if action is None:
        abort(404)
    branch_or_404(current_user, action.branch_id)
    action.status = ActionStatus.DONE.value
    action.save()
    flash(_("Action marked as done."), "success")
    return redirect(url_for("dashboard.index") + "#actions")
