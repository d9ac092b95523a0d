"""The brand report: a chain's regions ranked, then the chain as a whole (its trend, its sections and
dimensions, its highest and lowest branches, what failed most often and where critical failures
happened), for a head of retail to hand to the board. Of the regions of the brand its reader may see."""
from flask_babel import force_locale

from .. import stats
from .branch import failed_most_often_listed, part_bar_chart, scores_trend_chart
from .region import TREND_HEIGHT, TREND_WIDTH, critical_failures_by_branch, section_tables
from .render import render_pdf

TEMPLATE = "reports/brand.html"
# A chain of hundreds of branches: its best and lowest BRANCH_ENDS, or all of them up to twice that.
BRANCH_ENDS = 10


def brand_report_pdf(brand, regions, brand_regions, branches, language, period, period_name=None, checklist=None):
    """PDF bytes of the brand report (see brand_report_context) (needs an app context)."""
    with force_locale(language):
        pdf, _fetcher = render_pdf(TEMPLATE, period_name=period_name,
                                   **brand_report_context(brand, regions, brand_regions, branches, language, period,
                                                          checklist))
    return pdf


def brand_report_file_name(brand_id, file_dates, language, checklist_slug=None):
    """The brand report's file name, as the region report's (see region_report_file_name)."""
    of = f"{brand_id}-{checklist_slug}" if checklist_slug else brand_id
    return f"brand-{of}-{file_dates}-{language}.pdf"


def brand_report_context(brand, regions, brand_regions, branches, language, period, checklist=None):
    """Everything the brand report shows, of the `regions` of `brand` the reader may see (of its
    `brand_regions`, every one) and their `branches`, over a periods.Period (call inside
    force_locale(language)); of the visits of `checklist` (a ChosenChecklist) alone when one is given."""
    from ..i18n import gettext as _

    start, end = period.start, period.end
    ids = [b.id for b in branches]
    region_ids = [r.id for r in regions]
    version_ids = checklist.version_ids if checklist else None
    # The sections of one checklist, the one chosen or the most used (see PartsShown).
    shown = stats.parts_shown(ids, start, end, language, version_ids)
    texts = stats.item_texts(ids, start, end, shown.version_ids)
    sections = [key for kind, key in (k for k in texts if isinstance(k, tuple)) if kind == "section"]
    scope = stats.of_checklist({"branches": ids}, version_ids)
    ranking = stats.region_ranking(regions, branches, start, end, version_ids, period.previous_start)
    mean = stats.overall_mean(scope, start, end)
    previous = stats.overall_mean(scope, period.previous_start, start)
    # One query of the brand's parts by region: each region's, the reader's whole and the brand's.
    whole_brand = len(regions) == len(brand_regions)
    brand_totals = stats.part_totals(ids if whole_brand else stats.branch_ids_of({"brand": brand.id}), start, end,
                                     per="region")
    whole = {"visits": sum(row[1] for row in ranking), "mean": mean,
             "change": mean - previous if mean is not None and previous is not None else None,
             "sections": stats.part_means(brand_totals, "section", region_ids, shown.version_ids)}
    cells = {(region_id, key): value for region_id in region_ids
             for key, value in stats.part_means(brand_totals, "section", [region_id], shown.version_ids).items()}
    # The whole's bars; against the brand's average when the reader sees only some of its regions.
    parts = {}
    for kind in ("section", "dimension"):
        parts[kind] = {"mine": stats.in_checklist_order(
            stats.part_means(brand_totals, kind, region_ids, shown.version_ids), kind, texts)}
        if not whole_brand:
            parts[kind]["brand"] = stats.part_means(brand_totals, kind, None, shown.version_ids)
    labels = {"branch": brand.name if whole_brand else _("The regions of this report"), "brand": _("Brand average")}
    charts = {kind: part_bar_chart(kind, parts[kind], texts, language, brand, labels,
                                   width=TREND_WIDTH) for kind in parts}
    charts["trend"] = scores_trend_chart(ids, brand, start, end, TREND_WIDTH, version_ids, TREND_HEIGHT)
    branch_ranking = stats.ranked(stats.ranking(branches, start, end, version_ids, period.previous_start))
    scored = [entry for entry in branch_ranking if entry[0] is not None]
    if len(branch_ranking) <= 2 * BRANCH_ENDS:
        highest, lowest = branch_ranking, []
    else:
        highest, lowest = scored[:BRANCH_ENDS], scored[BRANCH_ENDS:][-BRANCH_ENDS:]
    branch_counts = {}
    for branch in branches:
        branch_counts[branch.region_id] = branch_counts.get(branch.region_id, 0) + 1
    return dict(
        brand=brand, regions=regions, region_count=len(brand_regions), whole_brand=whole_brand,
        ranking=stats.ranked(ranking), whole=whole, branch_counts=branch_counts,
        none_approved=not whole["visits"],
        no_previous=bool(ranking) and all(row[3] is None for row in ranking),
        sections=sections, section_tables=section_tables(sections), cells=cells,
        texts=texts, parts_shown=shown, checklist=checklist, charts=charts,
        highest=highest, lowest=lowest, branch_count=len(branch_ranking),
        **failed_most_often_listed(scope, start, end, shown.version_ids),
        critical=critical_failures_by_branch(ids, start, end, language, version_ids, per="region"),
        start=start, last_day=period.last_day, language=language,
    )
