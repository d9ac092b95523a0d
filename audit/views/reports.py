"""PDF reports for the branches a user may see, in the language the reader asks for."""
import re

from flask import (Blueprint, Response, abort, current_app, redirect, render_template, request,
                   send_from_directory, stream_with_context, url_for)
from flask_babel import force_locale, format_date
from flask_login import current_user
from peewee import fn

from .. import periods, stats
from ..access import branch_or_404, may_read_job, overtaken_by_review, role_required, visible_branches
from ..config import LANGUAGES
from ..db import id_in, record_id
from ..i18n import LANGUAGE_NAMES, current_language
from ..localtime import local_date
from ..models import Branch, Evidence, Region, Role, Visit, VisitEvent, VisitState, utcnow
from ..reports.brand import brand_report_file_name, brand_report_pdf
from ..reports.branch import ChosenChecklist, branch_report_file_name, branch_report_pdf
from ..reports.region import region_report_file_name, region_report_pdf
from ..reports.render import render_pdf

bp = Blueprint("reports", __name__, url_prefix="/reports")

def _language():
    language = request.args.get("lang") or current_language()
    if language not in LANGUAGES:
        abort(404)
    return language


def _period():
    """The periods.Period of ?period= (a token as the dashboard's menu has it), or of ?days= (links
    made before calendar periods); a token naming no period is a 404."""
    token = request.args.get("period") or request.args.get("days") or periods.DEFAULT
    period = periods.parse(token, utcnow())
    if period is None:
        abort(404)
    return period


def _period_name(period, language):
    return period.name(language) if period.is_calendar else None


def _period_words(period, language):
    """The period in a job's title (and so its file's name): "October 2026", or its first and last days;
    in the language of the file, as its month's name is (a Bulgarian ZIP was "Oct 28, 2026 – ...")."""
    with force_locale(language):
        return _period_name(period, language) or f"{format_date(period.first_day)} – {format_date(period.last_day)}"


def _pdf(pdf, filename):
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'})


@bp.route("/branches/<int:branch_id>/visits.pdf")
@role_required(Role.MANAGER, Role.AUDITOR)
def branch_visits(branch_id):
    """The branch report: the brand's colours, scores, trend, what fails, the visits and actions."""
    branch = branch_or_404(current_user, branch_id)
    language = _language()
    period = _period()
    checklist = _report_checklist(language)
    # The period in the name: a manager keeps the reports of several periods side by side.
    return _pdf(branch_report_pdf(branch, language, period.start, period.end, period_name=_period_name(period, language),
                                  checklist=checklist),
                branch_report_file_name(branch.code, _file_dates(period), language, checklist and checklist.slug))


def _file_dates(period):
    """The period in a file's name: its first and last days."""
    return f"{period.first_day:%Y%m%d}-{period.last_day:%Y%m%d}"


@bp.route("/visits/<visit_uuid>.pdf")
@role_required(Role.MANAGER, Role.AUDITOR)
def visit_report(visit_uuid):
    """One visit, every answer with its score, comments and photos; managers see approved visits only."""
    visit = Visit.by_uuid(visit_uuid)
    if visit is None:
        abort(404)
    branch_or_404(current_user, visit.branch_id)
    if current_user.is_manager and visit.state != VisitState.APPROVED.value:
        abort(404)
    language = _language()
    content = visit.checklist_version.content
    answers = {a.item_id: a for a in visit.answers}
    photos = {}
    for evidence in Evidence.select().where((Evidence.visit == visit) & Evidence.in_reports()):
        photos.setdefault(evidence.item_id, []).append(evidence)
    scores = {(s.kind, s.key): s.percent for s in visit.scores}
    # A reviewer may still correct an approved visit: its score moves on the manager's reports, who may
    # have acted on the one before. The report says so (a correction keeps the state: approved to approved).
    corrected_after_approval = (VisitEvent.select(fn.MAX(VisitEvent.created_at))
                                .where((VisitEvent.visit == visit.id)
                                       & (VisitEvent.from_state == VisitState.APPROVED.value)
                                       & (VisitEvent.to_state == VisitState.APPROVED.value)).scalar())
    with force_locale(language):
        pdf, _fetcher = render_pdf(
            "reports/visit.html", visit=visit, branch=visit.branch, brand=visit.branch.region.brand,
            content=content, answers=answers, photos=photos, scores=scores, language=language,
            corrected_after_approval=corrected_after_approval,
        )
    return _pdf(pdf, f"{visit.branch.code}-visit-{local_date(visit.ended_at):%Y%m%d}-{language}.pdf" if visit.ended_at
                else f"{visit.branch.code}-visit-{language}.pdf")


def _export_scope():
    """The ids of the reader's branches the export is of: the dashboard's region and brand filters, as
    shown when exporting. A filter that is no id, or leaves none of the reader's branches (another
    manager's region), is a 404, as a checklist's is: the file was every region of the reader (an
    unreadable id) or empty (another's region), with no word why."""
    branches = visible_branches(current_user)
    chosen = False
    for name, column in (("region", Branch.region), ("brand", Region.brand)):
        if request.args.get(name, "") in ("", "0"):  # none chosen; brand 0: an agency's every brand
            continue
        wanted = request.args.get(name, type=record_id)
        if wanted is None:
            abort(404)
        branches, chosen = branches.where(column == wanted), True
    ids = [b.id for b in branches]
    if chosen and not ids:
        abort(404)
    return ids


def _asks_for_checklist():
    """Whether the request names a checklist (the dashboard's filter); 0 is its "All"."""
    return request.args.get("checklist", "") not in ("", "0")


def _chosen_checklist(branch_ids):
    """(the checklist the dashboard was filtered by, its version ids), or (None, None) for all: the
    one rule of the exports and the reports. Only a checklist the branches were audited with: another
    client's is none of a manager's business, and its title would show on the file. A checklist that
    is no id, or of no checklist, is a 404 too: the file was of every checklist, with no word why."""
    from ..models import Checklist

    if not _asks_for_checklist():
        return None, None
    checklist = Checklist.get_or_none(Checklist.id == request.args.get("checklist", type=record_id))
    versions = stats.checklist_versions_used(checklist.id, branch_ids) if checklist is not None else None
    if versions is None:
        abort(404)
    return checklist, versions


def _report_checklist(language):
    """The ChosenChecklist a PDF report or ZIP is of, or None for every checklist. Checked against all
    the reader's branches, as the dashboard offers the checklists (a region or branch without its
    visits then has a report that says so: its dashboard link was no missing page)."""
    if not _asks_for_checklist():
        return None  # the reader's branches are not read: the unfiltered reports cost what they did
    mine = [branch_id for (branch_id,) in visible_branches(current_user).select(Branch.id).tuples()]
    checklist, version_ids = _chosen_checklist(mine)
    return ChosenChecklist(checklist.slug, checklist.title(language), version_ids)


@bp.route("/export.csv")
@role_required(Role.MANAGER, Role.AUDITOR)
def export_csv():
    """visits or answers (?kind=) of the approved visits in the period, as CSV."""
    from .. import exports

    language = _language()
    period = _period()
    start, end = period.start, period.end
    branch_ids = _export_scope()
    _checklist, version_ids = _chosen_checklist(branch_ids)
    kind = request.args.get("kind", "visits")
    if kind == "visits":
        rows = exports.visit_rows(branch_ids, start, end, language, current_user.is_auditor, version_ids)
    elif kind == "answers":
        rows = exports.answer_rows(branch_ids, start, end, language, version_ids, with_shopper=current_user.is_auditor)
    else:
        abort(404)
    # Streamed: a two-year export of a chain is tens of megabytes, sent while it is read.
    return Response(stream_with_context(exports.csv_chunks(rows)), mimetype="text/csv",
                    # Named for what it holds: two months' files were both "visits.csv".
                    headers={"Content-Disposition": f'attachment; filename="{kind}-{period.first_day:%Y%m%d}-'
                                                    f'{period.last_day:%Y%m%d}.csv"'})


@bp.route("/export.xlsx", methods=["POST"])
@role_required(Role.MANAGER, Role.AUDITOR)
def export_xlsx():
    """Start an XLSX of visits and answers (one sheet each) in the background; the job page shows
    its progress and then the download."""
    from .. import tasks

    language = _language()
    period = _period()
    start, end = period.start, period.end
    branch_ids = _export_scope()
    checklist, version_ids = _chosen_checklist(branch_ids)
    # The page's heading names the filters, as the dashboard showed them: brand, region, checklist, period.
    parts = []
    if branch_ids and (request.args.get("region", type=record_id) or request.args.get("brand", type=record_id)):
        chosen = Branch.get_by_id(branch_ids[0]).region
        parts = [chosen.brand.name, chosen.name if request.args.get("region", type=record_id) else None]
    if checklist is not None:
        parts.append(checklist.title(language))
    parts.append(_period_words(period, language))  # as the reader writes dates, in TIME_ZONE
    title = " · ".join(part for part in parts if part)
    job = tasks.start_xlsx_export(current_user.id, branch_ids, language, start, end,
                                  with_shopper=current_user.is_auditor, title=title, version_ids=version_ids)
    return redirect(url_for("reports.job", job_uuid=job.uuid))


@bp.route("/regions/<int:region_id>/reports.zip", methods=["POST"])
@role_required(Role.MANAGER, Role.AUDITOR)
def region_zip(region_id):
    """Start building every branch report of a region; the job page shows the progress."""
    from .. import tasks
    period = _period()
    language = _language()
    branches = list(visible_branches(current_user).where(Branch.region == region_id))
    if not branches:
        abort(404)
    region = branches[0].region
    checklist = _report_checklist(language)
    # Named as its PDFs are: two ZIPs of a region (another period, another language, one checklist's
    # visits or all) differ by name.
    title = " · ".join(part for part in (region.brand.name, region.name, checklist and checklist.title,
                                         _period_words(period, language), LANGUAGE_NAMES[language]) if part)
    job = tasks.start_region_zip(current_user.id, region, [b.id for b in branches], language, period.start, period.end,
                                 title=title, period_name=_period_name(period, language), file_dates=_file_dates(period),
                                 checklist=checklist, previous_start=period.previous_start)
    return redirect(url_for("reports.job", job_uuid=job.uuid))


def _own_job_or_404(job_uuid):
    from ..models import Job

    job = Job.get_or_none(Job.uuid == job_uuid) if _is_uuid(job_uuid) else None
    if job is None or job.owner_id != current_user.id or not may_read_job(current_user, job):
        abort(404)
    return job




def _is_uuid(value):
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@bp.route("/jobs/<job_uuid>")
@role_required(Role.MANAGER, Role.AUDITOR)
def job(job_uuid):
    job = _own_job_or_404(job_uuid)
    # A page that refreshes every two seconds while the file is made: it says why the file is gone,
    # rather than turning into a missing page.
    return render_template("reports/job.html", job=job, overtaken=overtaken_by_review(current_user, job))


@bp.route("/jobs/<job_uuid>/download")
@role_required(Role.MANAGER, Role.AUDITOR)
def job_download(job_uuid):
    job = _own_job_or_404(job_uuid)
    if job.status != "done" or overtaken_by_review(current_user, job):
        abort(404)
    # Named after what it holds (the brand and region, or the export's filters), so that a manager's
    # downloads of two regions on one day do not take each other's names.
    named = re.sub(r"\W+", "-", job.title).strip("-")[:100]
    name = named or ("visits" if job.kind == "xlsx_export" else "reports")
    extension = job.file_name.rsplit(".", 1)[1]
    response = send_from_directory(current_app.config["MEDIA_DIR"] + "/exports", job.file_name, as_attachment=True,
                                   download_name=f"{name}-{local_date(job.created_at):%Y%m%d}.{extension}")
    # A region's answers or reports: kept by no browser or proxy (send_from_directory said no-cache,
    # which lets them store it, and the signed-in default then did not apply).
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/regions/<int:region_id>.pdf")
@role_required(Role.MANAGER, Role.AUDITOR)
def region_report(region_id):
    """A region's ranking of branches with their section scores and the change against the period
    before, then the region against its brand: its trend, parts, most failed questions, critical failures."""
    branches = list(visible_branches(current_user).where(Branch.region == region_id))
    if not branches:
        abort(404)
    language = _language()
    period = _period()
    region = branches[0].region
    checklist = _report_checklist(language)
    pdf = region_report_pdf(region, branches, language, period, _period_name(period, language), checklist)
    return _pdf(pdf, region_report_file_name(region.id, _file_dates(period), language, checklist and checklist.slug))


@bp.route("/brands/<int:brand_id>.pdf")
@role_required(Role.MANAGER, Role.AUDITOR)
def brand_report(brand_id):
    """A chain's regions the reader may see ranked, with their section scores and change, then the
    whole: its trend, parts, highest and lowest branches, most failed questions, critical failures."""
    brand_regions = list(Region.select().where(Region.brand == brand_id).order_by(Region.name))
    mine = set(current_user.region_ids()) if not current_user.is_auditor else {r.id for r in brand_regions}
    regions = [r for r in brand_regions if r.id in mine]
    if not regions:
        abort(404)  # another client's brand, or none: a missing page, whose name is not told
    language = _language()
    period = _period()
    brand = regions[0].brand
    branches = list(visible_branches(current_user).where(id_in(Branch.region, [r.id for r in regions])))
    checklist = _report_checklist(language)
    pdf = brand_report_pdf(brand, regions, brand_regions, branches, language, period, _period_name(period, language),
                           checklist)
    return _pdf(pdf, brand_report_file_name(brand.id, _file_dates(period), language, checklist and checklist.slug))
