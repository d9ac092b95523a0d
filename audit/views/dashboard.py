"""Managers' view of the branches in their regions: scores, trend, ranking, what fails, and actions."""
from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from .. import periods, stats
from ..access import branch_or_404, may_read_job, overtaken_by_review, role_required, visible_branches
from ..db import id_in, record_id
from ..forms import ActionChangeForm, ActionForm, ChecklistFilterForm, DashboardFilterForm, RankingFilterForm
from ..i18n import current_language, localized
from ..i18n import gettext as _
from ..localtime import today as local_today
from ..paging import Page, found
from ..reports.branch import branch_standing, branch_trend_chart
from ..models import Action, ActionStatus, Branch, Checklist, ChecklistVersion, Job, Region, Role, Visit, utcnow

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
# The dashboard lists the latest critical failures; a chain of hundreds of branches has many more.
CRITICAL_LISTED = 20


def _checklists(titles, only=None):
    return [(c.id, titles.get(c.id) or c.slug) for c in Checklist.ordered() if only is None or c.id in only]


def _checklist_titles():
    """{checklist id: its title in the reader's language}, from each one's newest published version."""
    newest = {}
    for version_id, checklist_id in (ChecklistVersion.select(ChecklistVersion.id, ChecklistVersion.checklist)
                                     .where(ChecklistVersion.is_published).order_by(ChecklistVersion.number).tuples()):
        newest[checklist_id] = version_id
    return {checklist_id: localized(ChecklistVersion.shared_content(version_id).get("title"))
            for checklist_id, version_id in newest.items()}


def _checklists_on_offer(user, looked_at, brand_id, start, now):
    """The ids of the checklists a filter offers (the dashboard's, a branch page's), None for every
    one. A manager chooses among the checklists their branches `looked_at` were audited with in the
    last year, or since `start` when it is older: another client's checklists are none of their
    business. An auditor looking at one client (`brand_id`): its checklists and those for any client
    (another client's checklist gave an empty board)."""
    if not user.is_auditor:
        return {checklist for checklist, _n in stats.checklists_used(looked_at, min(start, now - timedelta(days=365)), now)}
    if brand_id:
        return {c for (c,) in Checklist.select(Checklist.id).where(
            Checklist.brand.is_null() | (Checklist.brand == brand_id)).tuples()}
    return None


def _regions_of(user):
    if user.is_auditor:
        return list(Region.ordered())
    return list(Region.ordered().where(Region.id.in_(list(user.region_ids()))))


def _label_of(select):
    return next(choice.label for choice in select.choices if choice.value == select.data)


class _Selection:
    """What the dashboard's filters select, for the caller's scope: the period, the regions and
    branches, the checklist versions. The dashboard and its whole ranking read the same filters."""

    def __init__(self, user, args, form_class=DashboardFilterForm):
        self.all_regions = _regions_of(user)
        brands = sorted({(r.brand.name, r.brand_id) for r in self.all_regions})
        if len(brands) > 1 and not {"brand", "region", "checklist"} & set(args):
            # An agency's auditor sees every client's branches, and a manager may look after regions of
            # two clients. Scores from different brands' checklists do not compare (one ranking mixed
            # a bank's branches with a shop chain's), and all of them at once made a ranking of
            # thousands (three 500-branch chains: 365 ms and 900 KB): the first brand is shown until
            # another one, or All, is chosen.
            args = args.copy()
            args["brand"] = str(brands[0][1])
        self.checklist_titles = _checklist_titles()
        now = utcnow()
        self.form = form = form_class(args, now=now, regions=self.all_regions)
        self.chosen = form.chosen
        self.period, self.start, self.end = form.chosen.token, form.chosen.start, form.chosen.end
        own = looked_at = None
        if not user.is_auditor:
            own = list(visible_branches(user))
            # With one of their clients chosen, that client's: another's gave a board of empty panels.
            brand_of = {r.id: r.brand_id for r in self.all_regions}
            looked_at = [b.id for b in own if form.brand.data not in brand_of.values()
                         or brand_of[b.region_id] == form.brand.data]
        form.offer_checklists(_checklists(self.checklist_titles,
                                          _checklists_on_offer(user, looked_at, form.brand.data, self.start, now)))
        form.settle()
        region_ids = [r.id for r in self.all_regions if not form.brand.data or r.brand_id == form.brand.data]
        # A region of another brand than the one chosen (the brand was changed and the region kept, in
        # a form without JavaScript): the brand wins, and the page says so instead of quietly showing
        # other branches than the region named.
        self.region_of_another_brand = None
        if form.region.data in region_ids:
            region_ids = [form.region.data]
        else:
            if form.region.data:
                self.region_of_another_brand = {"region": _label_of(form.region), "brand": _label_of(form.brand)}
            form.region.data = 0
        self.region_ids = region_ids
        self.regions = [r for r in self.all_regions if r.id in region_ids]
        if own is None:
            self.branches = list(visible_branches(user).where(id_in(Branch.region, region_ids)))
        else:
            self.branches = [branch for branch in own if branch.region_id in set(region_ids)]
        self.branch_ids = [b.id for b in self.branches]
        self.version_ids = None
        if form.checklist.data:
            self.version_ids = stats.checklist_version_ids(form.checklist.data)

    def ranking(self):
        return (stats.ranking(self.branches, self.start, self.end, self.version_ids, self.chosen.previous_start)
                if self.branches else [])

    def query_args(self, **extra):
        """The filters as URL arguments, for links that keep them (exports, the whole ranking)."""
        form = self.form
        # The brand always: 0 (All) differs from no choice where there are several brands (see above).
        args = {"period": self.period, "brand": form.brand.data or 0, "region": form.region.data,
                "checklist": form.checklist.data, **extra}
        return {name: value for name, value in args.items() if value or name == "brand"}


# A national chain's manager ranks hundreds of branches: listed whole on the dashboard, the ranking
# was a phone screen per branch (a 500-branch chain: 116,000 px to scroll past before what fails and
# the actions). Past RANKING_WHOLE branches the dashboard lists the best and the lowest
# RANKING_ENDS and links the whole ranking, which is searchable and comes RANKING_PAGE rows a page.
RANKING_WHOLE = 20
FILTERS = ("period", "brand", "region", "checklist")
RANKING_ENDS = 10
RANKING_PAGE = 50
VISITS_PAGE = 50


@bp.route("/")
@role_required(Role.MANAGER, Role.AUDITOR)
def index():
    return _dashboard(ActionForm())


def _dashboard(action_form):
    """The dashboard for the filters in the URL; action_form is a new action's form, as typed when
    it had mistakes (shown beside its fields, its panel open)."""
    selection = _Selection(current_user, request.args)
    start, end, branches, branch_ids = selection.start, selection.end, selection.branches, selection.branch_ids
    region_ids, version_ids = selection.region_ids, selection.version_ids
    scope = stats.of_checklist({"branches": branch_ids}, version_ids)
    # Sections, dimensions and questions belong to one checklist: two checklists' "greeting" section
    # or "knowledge" question are not the same thing. Where the branches were audited with several
    # and none is chosen, these parts show the most used one's.
    parts_versions, parts_checklist = version_ids, None
    used = stats.checklists_used(branch_ids, start, end) if branches and version_ids is None else []
    if len(used) > 1:
        parts_checklist = used[0][0]
        parts_versions = stats.checklist_version_ids(parts_checklist)
    parts_scope = dict(scope, checklist_version_ids=parts_versions) if parts_versions is not None else scope
    # The heaviest aggregate runs beside the others (stats.in_background).
    failed = stats.in_background(stats.failed_most_often, parts_scope, start, end) if branches else None
    brand_ids = {r.brand_id for r in selection.regions}
    # Averages to compare with: the selected regions, and their brand when there is only one. A
    # manager's branches are exactly their regions' branches, so per-region totals serve all three.
    compare = {"region": region_ids}
    widest = {"regions": region_ids}
    if len(brand_ids) == 1:
        widest = {"brand": brand_ids.pop()}
        compare["brand"] = None  # every row of the totals
    totals = stats.part_totals(stats.branch_ids_of(widest), start, end, per="region")
    texts = stats.item_texts(branch_ids, start, end, parts_versions)
    parts = {
        kind: {
            "mine": stats.in_checklist_order(stats.part_means(totals, kind, region_ids, parts_versions), kind, texts),
            **{name: stats.part_means(totals, kind, ids, parts_versions) for name, ids in compare.items()},
        }
        for kind in ("section", "dimension")
    }
    ranking = stats.ranked(selection.ranking())
    scored = [entry for entry in ranking if entry[0] is not None]
    if len(ranking) <= RANKING_WHOLE:
        best, lowest = ranking, []
    else:
        best, lowest = scored[:RANKING_ENDS], scored[RANKING_ENDS:][-RANKING_ENDS:]
    today = local_today()
    critical = stats.critical_failures(branch_ids, start, end, version_ids)
    actions = list(stats.open_actions(branch_ids)) if branches else []
    return render_template(
        "dashboard/index.html", form=selection.form, start=start, end=end, period=selection.period,
        period_chosen=selection.chosen,
        selection=selection, best=best, lowest=lowest, ranked_count=len(ranking), unscored=len(ranking) - len(scored),
        no_previous=_no_previous(ranking),
        branches=branches,
        overall=stats.overall_mean(scope, start, end) if branches else None,
        parts=parts, compare=list(compare), texts=texts,
        parts_checklist=selection.checklist_titles.get(parts_checklist) if parts_checklist else None,
        checklist_count=len(used),
        failed=failed.result() if failed else [],
        critical=list(critical.limit(CRITICAL_LISTED)) if branches else [],
        critical_count=critical.count() if branches else 0,
        actions=actions, action_questions=stats.action_questions(actions, current_language()),
        done_actions=list(stats.done_actions(branch_ids)) if branches else [],
        today=today, action_form=action_form, regions=selection.regions, files=_own_files(),
        report_brand=_report_brand(selection),
    )


def _report_brand(selection):
    """The brand whose report the dashboard offers: the one it shows, when the reader has two of its
    regions or more (of one, the region report is the same thing)."""
    brands = {r.brand_id for r in selection.regions}
    if len(brands) != 1:
        return None
    (brand_id,) = brands
    regions = [r for r in selection.all_regions if r.brand_id == brand_id]
    return regions[0].brand if len(regions) > 1 else None


FILES_LISTED = 10


def _own_files():
    """The exports and ZIPs of reports the reader started in the days their files are kept, newest
    first: their page says "you can leave this page", and nothing led back to it."""
    kept = timedelta(days=current_app.config["JOB_FILES_KEEP_DAYS"])
    jobs = (Job.select().where((Job.owner == current_user.id) & (Job.created_at >= utcnow() - kept))
            .order_by(Job.created_at.desc()).limit(FILES_LISTED))
    return [job for job in jobs if may_read_job(current_user, job) and not overtaken_by_review(current_user, job)]


@bp.route("/ranking")
@role_required(Role.MANAGER, Role.AUDITOR)
def ranking():
    """Every branch of the selection in score order, a page at a time; the search keeps their places."""
    selection = _Selection(current_user, request.args, RankingFilterForm)
    form = selection.form
    rows = stats.ranked(selection.ranking())
    wanted = form.find.data if form.find.data and form.find.validate(form) else None
    matching = found(rows, wanted, lambda entry: (entry[1][0].code, entry[1][0].name, entry[1][0].city))
    return render_template(
        "dashboard/ranking.html", form=form, selection=selection, start=selection.start, period=selection.period,
        period_chosen=selection.chosen,
        page=Page(matching, request.args.get("page"), RANKING_PAGE), total=len(rows),
        no_previous=_no_previous(rows),
    )


def _no_previous(ranking):
    """True when branches have scores but none had one in the period before: the change column is all
    dashes, which the page then explains."""
    return any(row[2] is not None for _place, row in ranking) and all(row[3] is None for _place, row in ranking)


@bp.route("/branches/<int:branch_id>")
@role_required(Role.MANAGER, Role.AUDITOR)
def branch(branch_id):
    """A branch's approved visits in the period, newest first, each with its visit report (PDF), and
    where it stands; of the checklist chosen on the dashboard (its row carries it) or here, as the
    branch report is: the row, this page and its PDF give the same figures. Never the shopper."""
    branch = branch_or_404(current_user, branch_id)
    brand = branch.region.brand
    form = ChecklistFilterForm(request.args)
    period, start, end = form.chosen.token, form.chosen.start, form.chosen.end
    mine = [b for (b,) in visible_branches(current_user).select(Branch.id).tuples()]
    checklist_id, version_ids = _checklist_asked_for(mine)
    # The dashboard's choices with this branch's client chosen, and the checklist asked for: a row of a
    # dashboard showing every client may be of a checklist this client's branches were not audited
    # with (the row then said 0 visits, and so do this page and the report).
    of_brand = set(stats.branch_ids_of({"brand": brand.id}))
    on_offer = _checklists_on_offer(current_user, [b for b in mine if b in of_brand], brand.id, start, form.now)
    if on_offer is not None and checklist_id:
        on_offer.add(checklist_id)
    form.offer_checklists(_checklists(_checklist_titles(), on_offer))
    form.settle()
    visits = (stats.approved_visits([branch.id], start, end, version_ids).select_extend(ChecklistVersion)
              .join(ChecklistVersion).order_by(Visit.ended_at.desc(), Visit.id.desc()))
    # Where the branch stands and how it went, as the report's cover and trend say: the page showed
    # only its visits, and a manager opened the PDF for its average.
    # The dashboard's brand and region, carried through to lead back to the dashboard as it was left
    # (a manager of two clients otherwise came back to the first client's branches). Checked there.
    dashboard_filters = {name: request.args[name] for name in ("brand", "region")
                         if request.args.get(name, "").isdecimal()}
    return render_template("dashboard/branch.html", branch=branch, form=form, period=period, start=start,
                           dashboard_filters=dashboard_filters,
                           period_chosen=form.chosen, checklist=form.checklist.data,
                           checklist_not_theirs=checklist_id is None,
                           page=Page(visits, request.args.get("page"), VISITS_PAGE),
                           overall=stats.overall_mean(stats.of_checklist({"branches": [branch.id]}, version_ids),
                                                      start, end),
                           **branch_standing(branch, brand, start, end, version_ids=version_ids),
                           # Drawn narrower than on paper, and its values no smaller than its months (a
                           # year's 13: every other one), so that they stay legible at a phone's width.
                           trend=Markup(branch_trend_chart(branch, brand, start, end, width=300,
                                                           version_ids=version_ids, smallest_value_size=9)))


def _checklist_asked_for(branch_ids):
    """(checklist id, its version ids) of ?checklist=, by the rule of the branch reports
    (reports._chosen_checklist): (0, None) when none is asked for, every checklist; (None, None) when
    it names no checklist that `branch_ids` were audited with (the page then shows every checklist and
    says so, where a report, a file with no page to say it on, is a 404)."""
    if request.args.get("checklist", "") in ("", "0"):
        return 0, None
    checklist_id = request.args.get("checklist", type=record_id)
    versions = stats.checklist_versions_used(checklist_id, branch_ids) if checklist_id else None
    return (checklist_id, versions) if versions is not None else (None, None)


@bp.route("/actions", methods=["POST"])
@role_required(Role.MANAGER, Role.AUDITOR)
def add_action():
    form = ActionForm()
    try:
        branch = branch_or_404(current_user, record_id(form.branch.data or 0))
    except ValueError:
        abort(404)
    # The question it follows up is one the menu offered: of a checklist this branch was audited with
    # (any other text was stored, and shown on the dashboard and in the branch's report as a question).
    if form.item.data and form.item.data not in stats.item_texts([branch.id], datetime(periods.EARLIEST_YEAR, 1, 1), utcnow()):
        abort(400)
    if not form.validate_on_submit():
        # The dashboard again, with what was typed and the mistakes beside it (its filters are in the
        # form's URL): a redirect would have lost both.
        return _dashboard(form)
    Action.create(branch=branch, item_id=form.item.data or None, what=form.what.data.strip(),
                  owner=form.owner.data.strip(), due_date=form.due_date.data, created_by=current_user.id)
    flash(_("Action added."), "success")
    return redirect(_back_to_dashboard())


def _action_or_404(action_id):
    """An action of a branch the user may see; any other is a missing page."""
    action = Action.get_or_none(Action.id == action_id)
    if action is None:
        abort(404)
    branch_or_404(current_user, action.branch_id)
    return action


def _set_action_status(action_id, status, message):
    action = _action_or_404(action_id)
    action.status = status.value
    action.save()
    flash(message, "success")
    return redirect(_back_to_dashboard())


@bp.route("/actions/<int:action_id>/done", methods=["POST"])
@role_required(Role.MANAGER, Role.AUDITOR)
def finish_action(action_id):
    return _set_action_status(action_id, ActionStatus.DONE, _("Action marked as done."))


@bp.route("/actions/<int:action_id>/reopen", methods=["POST"])
@role_required(Role.MANAGER, Role.AUDITOR)
def reopen_action(action_id):
    """Done by mistake (one tap on the phone): open again, as it was."""
    return _set_action_status(action_id, ActionStatus.OPEN, _("Action open again."))


@bp.route("/actions/<int:action_id>", methods=["GET", "POST"])
@role_required(Role.MANAGER, Role.AUDITOR)
def change_action(action_id):
    """An action put right: what, who, by when."""
    action = _action_or_404(action_id)
    form = ActionChangeForm(action=action)
    if form.validate_on_submit():
        Action.update(what=form.what.data.strip(), owner=form.owner.data.strip(), due_date=form.due_date.data).where(
            Action.id == action.id).execute()
        flash(_("Action saved."), "success")
        return redirect(_back_to_dashboard())
    return render_template("dashboard/action.html", form=form, action=action, back=_back_to_dashboard(),
                           question=stats.action_questions([action], current_language()).get(action.id))


def _back_to_dashboard():
    """The dashboard's actions, on the filters the form was sent from. Only the filters: url_for takes
    other names as its own (endpoint, _external), so any other argument stays out."""
    period = periods.parse(request.args.get("period"), utcnow())
    # A period by its token: a month's or a quarter's is no number ("2026-10"), and was lost.
    filters = {"period": period.token} if period is not None else {}
    filters.update({name: request.args[name] for name in FILTERS
                    if name != "period" and request.args.get(name, "").isdecimal()})
    return url_for("dashboard.index", **filters) + "#actions"
