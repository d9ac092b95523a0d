"""The region report: its branches ranked, then the region as a whole against its brand (how it moved
month by month, its sections and dimensions, what failed most often across its branches, and where
critical failures happened), for a regional manager to hand on as it is."""
from collections import Counter
from datetime import timedelta
from typing import NamedTuple

from flask_babel import force_locale

from .. import stats
from ..localtime import local_date
from ..models import Branch
from .branch import failed_most_often_listed, part_bar_chart, scores_trend_chart
from .render import render_pdf

TEMPLATE = "reports/region.html"

# The trend across the landscape page's width, low enough to leave the sections and dimensions room
# under it on the same page (at 900 x 180 they went to the next one, leaving half a page blank).
# The sections' and the dimensions' bars follow it one under the other, as wide, in parts that break
# across pages (see BARS_PER_PICTURE). All are drawn narrower than they print, so that their words
# print at about 8.5 pt: drawn 1000 wide, and the bars 520 wide side by side in half the page, they
# came out at 7 pt, too small for a board; side by side at 8.5 pt the dimensions went to the next page.
TREND_WIDTH, TREND_HEIGHT = 820, 123
# The sections' columns of the ranking: as many as are read beside its own five (the demo's eight
# checklist sections), then tables of the branches and the next sections. A checklist of 28 sections
# put all of them in one table: 5 mm columns, their figures printed over each other and the
# heading (the sections' names, a letter a line) taller than the page, left out.
SECTIONS_BESIDE_RANKING, SECTIONS_PER_TABLE = 8, 12


class ReportPeriod(NamedTuple):
    """The bounds a region report needs, as periods.Period gives them; made from plain data in a job."""
    start: object
    end: object
    previous_start: object

    @property
    def last_day(self):
        return local_date(self.end - timedelta(microseconds=1))


def region_report_pdf(region, branches, language, period, period_name=None, checklist=None):
    """PDF bytes of the region report (see region_report_context), for a download and for the
    region's ZIP, whose reports a board reads after it (needs an app context)."""
    with force_locale(language):
        pdf, _fetcher = render_pdf(TEMPLATE, period_name=period_name,
                                   **region_report_context(region, branches, language, period, checklist))
    return pdf


def region_report_file_name(region_id, file_dates, language, checklist_slug=None):
    """The region report's file name, downloaded alone or first in its region's ZIP: the period and the
    checklist in it, as the branch reports' (see reports.branch.branch_report_file_name)."""
    of = f"{region_id}-{checklist_slug}" if checklist_slug else region_id
    return f"region-{of}-{file_dates}-{language}.pdf"


def region_report_context(region, branches, language, period, checklist=None):
    """Everything the region report shows, for the `branches` of `region` the reader may see, over a
    periods.Period (call inside force_locale(language)); of the visits of `checklist` (a
    reports.branch.ChosenChecklist) alone when one is given. `period`: a periods.Period or a ReportPeriod."""
    from ..i18n import gettext as _

    start, end = period.start, period.end
    ids = [b.id for b in branches]
    brand = region.brand
    version_ids = checklist.version_ids if checklist else None
    # The sections of one checklist, the one chosen or the most used (see PartsShown).
    shown = stats.parts_shown(ids, start, end, language, version_ids)
    texts = stats.item_texts(ids, start, end, shown.version_ids)
    sections = [key for kind, key in (k for k in texts if isinstance(k, tuple)) if kind == "section"]
    scope = stats.of_checklist({"branches": ids}, version_ids)
    ranking = stats.ranking(branches, start, end, version_ids, period.previous_start)
    # The whole region under its branches, as the dashboard gives it: a board reads that first.
    mean = stats.overall_mean(scope, start, end)
    previous = stats.overall_mean(scope, period.previous_start, start)
    mine = stats.part_totals(ids, start, end, per="region")
    whole = {"visits": sum(row[1] for row in ranking), "mean": mean,
             "change": mean - previous if mean is not None and previous is not None else None,
             "sections": stats.part_means(mine, "section", None, shown.version_ids)}
    # The brand's averages of the same checklist: where the region stands, part by part.
    brand_totals = stats.part_totals(stats.branch_ids_of({"brand": brand.id}), start, end, per="region")
    labels = {"branch": region.name, "brand": _("Brand average")}
    charts, parts = {}, {}
    for kind in ("section", "dimension"):
        parts[kind] = {"mine": stats.in_checklist_order(stats.part_means(mine, kind, None, shown.version_ids), kind,
                                                        texts),
                       "brand": stats.part_means(brand_totals, kind, None, shown.version_ids)}
    for kind in ("section", "dimension"):
        charts[kind] = part_bar_chart(kind, parts[kind], texts, language, brand, labels, width=TREND_WIDTH)
    charts["trend"] = scores_trend_chart(ids, brand, start, end, TREND_WIDTH, version_ids, TREND_HEIGHT)
    critical = critical_failures_by_branch(ids, start, end, language, version_ids)
    return dict(
        region=region, brand=brand, ranking=stats.ranked(ranking), whole=whole,
        none_approved=not any(row[1] for row in ranking),
        no_previous=bool(ranking) and all(row[3] is None for row in ranking),
        sections=sections, section_tables=section_tables(sections),
        cells=stats.part_scores_by_branch("section", ids, start, end, shown.version_ids),
        texts=texts, parts_shown=shown, checklist=checklist, charts=charts,
        **failed_most_often_listed(scope, start, end, shown.version_ids),
        critical=critical,
        start=start, last_day=period.last_day, language=language,
    )


def section_tables(sections):
    """The section keys of the ranking's table, then those of each table after it (see SECTIONS_BESIDE_RANKING)."""
    rest = sections[SECTIONS_BESIDE_RANKING:]
    return [sections[:SECTIONS_BESIDE_RANKING]] + [rest[i:i + SECTIONS_PER_TABLE]
                                                   for i in range(0, len(rest), SECTIONS_PER_TABLE)]


def critical_failures_by_branch(branch_ids, start, end, language, version_ids=None, per="branch"):
    """[(branch, visits with a critical failure, [(critical question in `language`, how many of them
    failed it)])] of the period, the branch with the most first: where a region's worst visits
    happened, and what capped them (the branch reports list each visit). A question is counted by its
    words in its visit's checklist: two checklists' "greeted" are not the same question. per="region":
    the same by region, for the brand report."""
    from ..i18n import localized
    from ..models import Region

    visits = list(stats.critical_failures(branch_ids, start, end, version_ids))
    items = stats.failed_critical_items(visits)
    by_group = {}
    for visit in visits:
        group = visit.branch_id if per == "branch" else visit.branch.region_id
        count, questions = by_group.setdefault(group, [0, Counter()])
        by_group[group][0] = count + 1
        questions.update(localized(question, language) or item_id for item_id, question in items.get(visit.id, []))
    model = Branch if per == "branch" else Region
    groups = {g.id: g for g in model.select().where(model.id.in_(list(by_group)))} if by_group else {}
    rows = [(groups[group], count, questions.most_common()) for group, (count, questions) in by_group.items()]
    return sorted(rows, key=lambda row: (-row[1], row[0].code if per == "branch" else row[0].name))
