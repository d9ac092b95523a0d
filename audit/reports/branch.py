"""The branch report, built the same way for a download and for a region's ZIP made in the background."""
import math
from datetime import timedelta
from typing import NamedTuple

from flask_babel import force_locale, format_date

from .. import stats
from ..i18n import format_percent, localized
from ..localtime import local_date
from ..localtime import today as local_today
from ..models import Branch, Evidence, Visit
from ..scoring import band_for
from .charts import bar_chart, trend_chart
from .render import brand_colours, render_pdf


# A chart of more bars than this is drawn in parts of about equal rows, each a picture of its own,
# the legend under the last: one picture cannot break across pages, and a checklist of 28 sections
# drew one taller than the page room under its heading, which was left alone on a page of its own.
BARS_PER_PICTURE = 12


def part_bar_chart(kind, parts, texts, language, brand, labels, width=520):
    """Bars of parts["mine"] (section or dimension means) named labels["branch"], with a marker for
    each of parts["region"] and parts["brand"] that is given (a region's report compares with its
    brand only): SVG, in parts of at most BARS_PER_PICTURE bars."""
    rows = []
    for key, value in parts["mine"].items():
        compare = [(labels[name], parts[name].get(key)) for name in ("region", "brand") if name in parts]
        rows.append({"label": localized(texts.get((kind, key)), language) or key, "value": float(value),
                     "compare": [(name, float(v) if v is not None else None) for name, v in compare]})
    legend = [(labels["branch"], "bar")] + [(labels[name], index) for index, name in
                                            enumerate(n for n in ("region", "brand") if n in parts)]
    colour, accent = brand_colours(brand)
    pictures = math.ceil(len(rows) / BARS_PER_PICTURE)
    size = math.ceil(len(rows) / pictures) if rows else 0
    return "".join(bar_chart(rows[start:start + size], width=width, colour=colour, accent=accent,
                             legend=legend if start + size >= len(rows) else None,
                             value_format=lambda v: format_percent(v)) for start in range(0, len(rows), size or 1))


class ChosenChecklist(NamedTuple):
    """The checklist a report is of, as the dashboard was filtered: its visits alone are counted. A
    manager whose branches are audited with a store visit and a phone enquiry read a row on the
    dashboard and a PDF of the same branch with different figures (the PDF mixed both)."""
    slug: str          # in the file names: the reports of one checklist and of all differ by name
    title: str         # in the report's language, on its cover
    version_ids: list  # every version of the checklist (a period's visits pinned any of them)


TEMPLATE = "reports/branch_visits.html"
# The report lists the latest visits; the exports hold every one. Keeps a busy year to a few pages.
VISITS_LISTED = 40


def branch_report_pdf(branch, language, start, end, shared=None, period_name=None, checklist=None):
    """PDF bytes of a branch's report for [start, end), in `language` (needs an app context).

    `shared` is a dict that reports built together (a region's ZIP) pass along to reuse what is the
    same for all of them; `period_name` names a calendar period ("October 2026") on the report;
    `checklist` (a ChosenChecklist) makes it a report of that checklist's visits alone."""
    with force_locale(language):
        pdf, _fetcher = render_pdf(TEMPLATE, **branch_report_context(branch, language, start, end, shared, period_name,
                                                                     checklist))
    return pdf


def branch_report_context(branch, language, start, end, shared=None, period_name=None, checklist=None):
    """Everything the branch report shows, from SQL aggregates (call inside force_locale(language)); of
    the visits of `checklist` (a ChosenChecklist) alone when one is given."""
    from ..i18n import gettext as _

    shared = {} if shared is None else shared
    brand = branch.region.brand
    version_ids = checklist.version_ids if checklist else None
    scope = stats.of_checklist({"branches": [branch.id]}, version_ids)
    visits = list(stats.approved_visits([branch.id], start, end, version_ids).order_by(Visit.ended_at.desc()))
    overall = stats.overall_mean(scope, start, end)
    latest = visits[0].checklist_version.content if visits else None
    # Sections, dimensions and questions of one checklist, the one chosen or else the one most used in
    # the period, and the region's and brand's averages of that checklist's only.
    shown = stats.parts_shown([branch.id], start, end, language, version_ids)
    texts = stats.item_texts([branch.id], start, end, shown.version_ids)
    labels = {"branch": branch.name, "region": _("Region average"), "brand": _("Brand average")}
    charts = {}
    mine = stats.part_totals([branch.id], start, end)
    # The brand's totals are the same for every branch of a region's ZIP: computed once per run.
    key = ("brand totals", brand.id, start, end)
    if key not in shared:
        shared[key] = stats.part_totals(stats.branch_ids_of({"brand": brand.id}), start, end, per="region")
    regions = shared[key]
    for kind in ("section", "dimension"):
        parts = {"mine": stats.in_checklist_order(stats.part_means(mine, kind, None, shown.version_ids), kind, texts),
                 "region": stats.part_means(regions, kind, [branch.region_id], shown.version_ids),
                 "brand": stats.part_means(regions, kind, None, shown.version_ids)}
        charts[kind] = part_bar_chart(kind, parts, texts, language, brand, labels)
    last = local_date(end - timedelta(microseconds=1))
    charts["trend"] = branch_trend_chart(branch, brand, start, end, version_ids=version_ids)
    standing = branch_standing(branch, brand, start, end, shared, version_ids)
    photos = list(Evidence.select().join(Visit).where(Visit.id.in_(
        stats.approved_visits([branch.id], start, end, version_ids).select(Visit.id)) & Evidence.in_reports())
        .order_by(Evidence.created_at.desc()).limit(6))
    critical = [v for v in visits if v.has_critical_failure][:VISITS_LISTED]
    actions = list(stats.open_actions([branch.id]))
    return dict(
        branch=branch, brand=brand, visits=visits[:VISITS_LISTED], visit_count=len(visits),
        overall=overall, band=band_for(latest, overall) if latest else None, charts=charts, texts=texts,
        **failed_most_often_listed(scope, start, end, shown.version_ids),
        parts_shown=shown, **standing,
        # A critical failure of any checklist the period used is named with its own checklist's question.
        critical=critical, critical_items=stats.failed_critical_items(critical),
        comments=list(stats.shopper_comments([branch.id], start, end, version_ids=version_ids)), photos=photos,
        actions=actions, action_questions=stats.action_questions(actions, language), start=start, end=end,
        language=language, checklist=checklist,
        last_day=last, period_name=period_name, today=local_today(),  # overdue is of today, not the period
    )


def branch_trend_chart(branch, brand, start, end, width=520, version_ids=None, smallest_value_size=6):
    """The branch's monthly averages (see scores_trend_chart), on its report and its page."""
    return scores_trend_chart([branch.id], brand, start, end, width, version_ids, smallest_value_size=smallest_value_size)


def scores_trend_chart(branch_ids, brand, start, end, width=520, version_ids=None, height=180, smallest_value_size=6):
    """The monthly averages of some branches' approved visits as an SVG line in their brand's colours:
    every month the period touches (its first one too, in part), and at least six for a short one. The
    organisation's months, as monthly_trend counts them; the period's last day, not the day it ends at
    (a report of October ends at the start of 1 November). In the current locale's words; of some
    checklist versions' visits only, when given."""
    from ..i18n import gettext as _

    first, last = local_date(start), local_date(end - timedelta(microseconds=1))
    months = stats.monthly_trend(branch_ids, max(6, (last.year - first.year) * 12 + last.month - first.month + 1), end,
                                 version_ids)
    colour, accent = brand_colours(brand)
    return trend_chart(
        # Months as the reader names them ("máj. 2026", "сент. 2026"), not 2026-05.
        [(format_date(month, "LLL yyyy"), float(mean) if mean is not None else None) for month, mean in months],
        colour=colour, accent=accent, value_format=lambda v: format_percent(v),
        empty_text=_("No visit was approved in these months."), width=width, height=height,
        smallest_value_size=smallest_value_size,
    )


def branch_standing(branch, brand, start, end, shared=None, version_ids=None):
    """Where the branch stands, for the cover: its place among the region's branches with an approved
    visit (ordered as the region's ranking orders them), and the region's and the brand's averages of
    every visit (of some checklist versions only, when given). The region's scores are read once for
    all its reports in a ZIP (`shared`)."""
    shared = {} if shared is None else shared
    versions = tuple(version_ids) if version_ids is not None else None  # a part of the keys below
    key = ("region scores", branch.region_id, start, end, versions)
    if key not in shared:
        codes = dict(Branch.select(Branch.id, Branch.code).where(Branch.region == branch.region_id).tuples())
        scores = stats.branch_scores(list(codes), start, end, version_ids)
        order = sorted(scores, key=lambda branch_id: (-scores[branch_id][1], codes[branch_id]))
        visits = sum(count for count, _mean in scores.values())
        mean = sum(count * mean for count, mean in scores.values()) / visits if visits else None
        shared[key] = (order, mean)
    order, region_mean = shared[key]
    key = ("brand mean", brand.id, start, end, versions)
    if key not in shared:
        shared[key] = stats.overall_mean(stats.of_checklist({"brand": brand.id}, version_ids), start, end)
    return {"place": order.index(branch.id) + 1 if branch.id in order else None, "places": len(order),
            "region_mean": region_mean, "brand_mean": shared[key]}


FAILED_LISTED = 8


def failed_most_often_listed(scope, start, end, version_ids):
    """The questions failed most often (FAILED_LISTED of them), and how many more failed just as often
    as the last one listed: a cut through a tie (nine questions failed in 2 of 5 visits) is said, not
    made silently by the questions' ids."""
    every = stats.failed_most_often(dict(scope, checklist_version_ids=version_ids), start, end, limit=None) \
        if version_ids else []
    listed = every[:FAILED_LISTED]
    as_often = sum(1 for _item, failures, _answered in every[FAILED_LISTED:] if failures == listed[-1][1])
    return {"failed": listed, "failed_as_often": as_often}


def branch_report_file_name(branch_code, file_dates, language, checklist_slug=None):
    """A branch report's file name, downloaded alone or in its region's ZIP: the period in it, since a
    manager keeps the reports of several periods side by side (and unpacks ZIPs into one folder), and
    the checklist of a report of one checklist's visits, beside the report of all of them."""
    report = f"report-{checklist_slug}" if checklist_slug else "report"
    return f"{branch_code}-{report}-{file_dates}-{language}.pdf" if file_dates else f"{branch_code}-{language}.pdf"
