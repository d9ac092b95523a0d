"""PDF reports for the branches a user may see, in the language the reader asks for."""
from datetime import timedelta

from flask import Blueprint, Response, abort, request
from flask_babel import force_locale
from flask_login import current_user

from .. import stats
from ..access import branch_or_404, role_required
from ..config import LANGUAGES
from ..i18n import current_language, format_percent, localized
from ..models import Branch, Evidence, Role, Visit, VisitState, utcnow
from ..reports.charts import bar_chart, trend_chart
from ..reports.render import render_pdf
from ..scoring import band_for
from .dashboard import item_texts

bp = Blueprint("reports", __name__, url_prefix="/reports")

DEFAULT_DAYS = 182


def _language():
    language = request.args.get("lang") or current_language()
    if language not in LANGUAGES:
        abort(404)
    return language


def _period():
    days = request.args.get("days", DEFAULT_DAYS, type=int)
    if not 7 <= days <= 730:
        abort(404)
    end = utcnow()
    return end - timedelta(days=days), end, days


def _pdf(pdf, filename):
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'})


def _bars(kind, parts, texts, language, brand, labels):
    rows = []
    for key, value in parts["mine"].items():
        compare = [(labels[name], parts[name].get(key)) for name in ("region", "brand") if name in parts]
        rows.append({"label": localized(texts.get((kind, key)), language) or key, "value": float(value),
                     "compare": [(name, float(v) if v is not None else None) for name, v in compare]})
    legend = [(labels["branch"], "bar")] + [(labels[name], index) for index, name in
                                            enumerate(n for n in ("region", "brand") if n in parts)]
    return bar_chart(rows, colour=brand.primary_color, accent=brand.accent_color, legend=legend,
                     value_format=lambda v: format_percent(v)) if rows else ""


@bp.route("/branches/<int:branch_id>/visits.pdf")
@role_required(Role.MANAGER, Role.AUDITOR)
def branch_visits(branch_id):
    """The branch report: the brand's colours, scores, trend, what fails, the visits and actions."""
    branch = branch_or_404(current_user, branch_id)
    language = _language()
    start, end, days = _period()
    brand = branch.region.brand
    scope = {"branches": [branch.id]}
    with force_locale(language):
        from ..i18n import gettext as _

        visits = list(stats.approved_visits([branch.id], start, end).order_by(Visit.ended_at.desc()))
        overall = stats.overall_mean(scope, start, end)
        latest = visits[0].checklist_version.content if visits else None
        texts = item_texts([branch])
        labels = {"branch": branch.name, "region": _("Region average"), "brand": _("Brand average")}
        charts = {}
        for kind in ("section", "dimension"):
            parts = {"mine": stats.part_scores(kind, scope, start, end),
                     "region": stats.part_scores(kind, {"regions": [branch.region_id]}, start, end),
                     "brand": stats.part_scores(kind, {"brand": brand.id}, start, end)}
            charts[kind] = _bars(kind, parts, texts, language, brand, labels)
        months = stats.monthly_trend([branch.id], 12 if days > 200 else 6, end)
        charts["trend"] = trend_chart(
            [(month.strftime("%Y-%m"), float(mean) if mean is not None else None) for month, mean in months],
            colour=brand.primary_color, accent=brand.accent_color, value_format=lambda v: format_percent(v),
            empty_text=_("No approved visits yet."),
        )
        photos = list(Evidence.select().join(Visit).where(Visit.id.in_([v.id for v in visits]))
                      .order_by(Evidence.created_at.desc()).limit(6))
        pdf, _fetcher = render_pdf(
            "reports/branch_visits.html", branch=branch, brand=brand, visits=visits, overall=overall,
            band=band_for(latest, overall) if latest else None, charts=charts, texts=texts,
            failed=stats.failed_most_often(scope, start, end, limit=8),
            critical=[v for v in visits if v.has_critical_failure],
            comments=list(stats.shopper_comments([branch.id], start, end)), photos=photos,
            actions=list(stats.open_actions([branch.id])), start=start, end=end, language=language,
            today=end.date(),
        )
    return _pdf(pdf, f"{branch.code}-report-{language}.pdf")


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
    for evidence in Evidence.select().where(Evidence.visit == visit):
        photos.setdefault(evidence.item_id, []).append(evidence)
    scores = {(s.kind, s.key): s.percent for s in visit.scores}
    with force_locale(language):
        pdf, _fetcher = render_pdf(
            "reports/visit.html", visit=visit, branch=visit.branch, brand=visit.branch.region.brand,
            content=content, answers=answers, photos=photos, scores=scores, language=language,
        )
    return _pdf(pdf, f"{visit.branch.code}-visit-{visit.ended_at:%Y%m%d}-{language}.pdf" if visit.ended_at
                else f"{visit.branch.code}-visit-{language}.pdf")


def _export_scope():
    from ..access import visible_branches

    branches = visible_branches(current_user)
    region = request.args.get("region", type=int)
    if region:
        branches = branches.where(Branch.region == region)
    return [b.id for b in branches]


@bp.route("/export.csv")
@role_required(Role.MANAGER, Role.AUDITOR)
def export_csv():
    """visits or answers (?kind=) of the approved visits in the period, as CSV."""
    from .. import exports

    language = _language()
    start, end, _days = _period()
    branch_ids = _export_scope()
    kind = request.args.get("kind", "visits")
    if kind == "visits":
        rows = exports.visit_rows(branch_ids, start, end, language, with_shopper=current_user.is_auditor)
    elif kind == "answers":
        rows = exports.answer_rows(branch_ids, start, end, language)
    else:
        abort(404)
    return Response(exports.as_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{kind}-{language}.csv"'})


@bp.route("/export.xlsx")
@role_required(Role.MANAGER, Role.AUDITOR)
def export_xlsx():
    """Both visits and answers, one sheet each."""
    from .. import exports

    language = _language()
    start, end, _days = _period()
    branch_ids = _export_scope()
    data = exports.as_xlsx([
        ("visits", exports.visit_rows(branch_ids, start, end, language, with_shopper=current_user.is_auditor)),
        ("answers", exports.answer_rows(branch_ids, start, end, language)),
    ])
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="visits-{language}.xlsx"'})
