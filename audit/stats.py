"""The aggregates that dashboards and reports show, each one SQL query over stored results.

Every figure comes from what the scoring function stored (visit.score, VisitScore, Answer.earned),
grouped in the database: nothing here loads every answer into Python.
"""
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import NamedTuple

from peewee import Case, fn

from .db import database, id_in
from .localtime import local_date, utc_start_of
from .models import Action, ActionStatus, Answer, Branch, Region, Visit, VisitScore, VisitState, utcnow
from .scoring import NOT_APPLICABLE

APPROVED = VisitState.APPROVED.value
_BACKGROUND = ThreadPoolExecutor(max_workers=4, thread_name_prefix="aggregate")


def in_background(function, *args):
    """Run a read-only aggregate in another thread on its own connection; returns its Future.

    A dashboard's two heaviest aggregates (section and dimension totals, items failed most often)
    read different tables: side by side they take the time of the longer one, not of both, since
    the database drivers let other Python threads run while the database works.
    """
    def run():
        with database.connection_context():
            return function(*args)

    return _BACKGROUND.submit(run)


def approved_visits(branch_ids, start, end, version_ids=None):
    """Approved visits of some branches that ended in [start, end) (of some checklist versions only,
    when given: a report of the dashboard's checklist)."""
    query = Visit.select().where(
        id_in(Visit.branch, branch_ids) & (Visit.state == APPROVED) & (Visit.ended_at >= start)
        & (Visit.ended_at < end)
    )
    if version_ids is not None:
        query = query.where(id_in(Visit.checklist_version, version_ids))
    return query


def branch_scores(branch_ids, start, end, version_ids=None):
    """{branch id: (visits, mean score)} in the period (optionally of some checklist versions only)."""
    query = (
        Visit.select(Visit.branch, fn.COUNT(Visit.id), fn.AVG(Visit.score))
        .where(id_in(Visit.branch, branch_ids) & (Visit.state == APPROVED) & (Visit.ended_at >= start)
               & (Visit.ended_at < end))
        .group_by(Visit.branch)
        .tuples()
    )
    if version_ids is not None:
        query = query.where(id_in(Visit.checklist_version, version_ids))
    return {branch_id: (count, mean) for branch_id, count, mean in query}


def ranking(branches, start, end, version_ids, previous_start):
    """[(branch, visits, mean, previous mean, change)] best first; branches without visits last. The
    previous period is [previous_start, start) (periods.Period says which it is)."""
    now = branch_scores([b.id for b in branches], start, end, version_ids)
    before = branch_scores([b.id for b in branches], previous_start, start, version_ids)
    rows = []
    for branch in branches:
        count, mean = now.get(branch.id, (0, None))
        previous = before.get(branch.id, (0, None))[1]
        change = (mean - previous) if mean is not None and previous is not None else None
        rows.append((branch, count, mean, previous, change))
    rows.sort(key=lambda row: (row[2] is None, -(row[2] or 0), row[0].code))
    return rows


def region_ranking(regions, branches, start, end, version_ids, previous_start):
    """[(region, visits, mean, previous mean, change)] as ranking() gives branches, of the `branches`
    of each region: a region's mean is that of every one of its visits (its branches' means weighed
    by their visits), as the region report's whole is, not the mean of its branches' means."""
    region_of = {b.id: b.region_id for b in branches}

    def means(scores):
        sums = {}
        for branch_id, (count, mean) in scores.items():
            visits, total = sums.get(region_of[branch_id], (0, 0))
            sums[region_of[branch_id]] = (visits + count, total + count * mean)
        return {region_id: (visits, total / visits) for region_id, (visits, total) in sums.items() if visits}

    now = means(branch_scores(list(region_of), start, end, version_ids))
    before = means(branch_scores(list(region_of), previous_start, start, version_ids))
    rows = []
    for region in regions:
        count, mean = now.get(region.id, (0, None))
        previous = before.get(region.id, (0, None))[1]
        rows.append((region, count, mean, previous,
                     mean - previous if mean is not None and previous is not None else None))
    rows.sort(key=lambda row: (row[2] is None, -(row[2] or 0), row[0].name))
    return rows


def ranked(rows):
    """[(place, row)] of ranking() rows: place 1 is the best score; a branch without a score in the
    period has no place (None), whatever its position in the list."""
    return [(index + 1 if row[2] is not None else None, row) for index, row in enumerate(rows)]


def of_checklist(scope, version_ids):
    """`scope` narrowed to the visits of some checklist versions (the dashboard's checklist filter);
    as it is for None."""
    return scope if version_ids is None else dict(scope, checklist_version_ids=version_ids)


def _visit_ids(scope, start, end):
    """A sub-query of approved visit ids in a scope: {"branches": ids} or {"regions": ids} or {"brand": id}."""
    query = Visit.select(Visit.id).join(Branch).join(Region).where(
        (Visit.state == APPROVED) & (Visit.ended_at >= start) & (Visit.ended_at < end))
    if "branches" in scope:
        query = query.where(id_in(Visit.branch, scope["branches"]))
    if "regions" in scope:
        query = query.where(id_in(Branch.region, scope["regions"]))
    if "brand" in scope:
        query = query.where(Region.brand == scope["brand"])
    if "checklist_version_ids" in scope:
        query = query.where(id_in(Visit.checklist_version, scope["checklist_version_ids"]))
    return query


def part_totals(branch_ids, start, end, per="branch"):
    """[(branch or region id, version id, kind, key, sum of percents, count)] of approved visits in the period.

    One GROUP BY driven by the visit index (branch, state, ended_at), so its cost follows the visits
    in the period, not the whole history. Callers derive every scope they show (their branches, the
    region, the brand) from these rows with `part_means` instead of asking once per scope; `per`
    ("branch" or "region") sets the grain, and a coarser grain means fewer rows to add up.
    """
    group = Visit.branch if per == "branch" else Branch.region
    return list(
        VisitScore.select(group, Visit.checklist_version, VisitScore.kind, VisitScore.key,
                          fn.SUM(VisitScore.percent), fn.COUNT(VisitScore.percent))
        .join(Visit).join(Branch)
        .where(id_in(Visit.branch, branch_ids) & (Visit.state == APPROVED) & (Visit.ended_at >= start)
               & (Visit.ended_at < end) & VisitScore.percent.is_null(False))
        .group_by(group, Visit.checklist_version, VisitScore.kind, VisitScore.key)
        .tuples()
    )


def part_means(totals, kind, group_ids=None, version_ids=None):
    """{section or dimension id: mean percent} from `part_totals` rows, for some groups and versions."""
    group_ids = None if group_ids is None else set(group_ids)
    version_ids = None if version_ids is None else set(version_ids)
    rows = [(key, total, count) for group_id, version_id, row_kind, key, total, count in totals
            if row_kind == kind and (group_ids is None or group_id in group_ids)
            and (version_ids is None or version_id in version_ids)]
    return _means(rows)


def _means(rows):
    """{key: sum / count} over (key, sum, count) rows that may repeat a key."""
    sums = {}
    for key, total, count in rows:
        before = sums.get(key, (0, 0))
        sums[key] = (before[0] + total, before[1] + count)
    return {key: total / count for key, (total, count) in sums.items()}


def branch_ids_of(scope):
    """The branch ids a scope {"regions": ids} or {"brand": id} covers."""
    query = Branch.select(Branch.id).join(Region)
    if "regions" in scope:
        query = query.where(id_in(Branch.region, scope["regions"]))
    if "brand" in scope:
        query = query.where(Region.brand == scope["brand"])
    return [branch_id for (branch_id,) in query.tuples()]


def overall_mean(scope, start, end):
    return Visit.select(fn.AVG(Visit.score)).where(Visit.id.in_(_visit_ids(scope, start, end))).scalar()


def failed_most_often(scope, start, end, limit=10):
    """[(item id, failures, answers)] for the items that failed most often (earned less than their pass
    mark: all their points unless the checklist sets one); limit None: every item that failed."""
    failed = fn.SUM(Case(None, [(Answer.failed, 1)], 0))
    visits = _visit_ids(scope, start, end)
    query = (
        Answer.select(Answer.item_id, failed.alias("failed"), fn.COUNT(Answer.id))
        .join(visits, on=(Answer.visit == visits.c.id))  # a join, so the period's visits drive the plan
        .where(Answer.possible.is_null(False))
        .group_by(Answer.item_id)
        .having(failed > 0)
        .order_by(failed.desc(), Answer.item_id)
        .limit(limit)
        .tuples()
    )
    return list(query)


def failed_critical_items(visits):
    """{visit id: [(item id, question) of the critical questions it failed]} in checklist order: what
    capped its score. The question is its text mapping in the visit's own checklist: each checklist has
    its own "greeted", and one checklist's question named another's failure."""
    from .models import ChecklistVersion

    failed = {}
    if visits:
        for visit_id, item_id in (Answer.select(Answer.visit, Answer.item_id)
                                  .where(id_in(Answer.visit, [v.id for v in visits]) & Answer.failed)
                                  .tuples()):
            failed.setdefault(visit_id, set()).add(item_id)
    return {visit.id: [(item["id"], item["text"])
                       for section in ChecklistVersion.shared_content(visit.checklist_version_id)["sections"]
                       for item in section["items"] if item.get("critical") and item["id"] in failed.get(visit.id, ())]
            for visit in visits}


def critical_failures(branch_ids, start, end, version_ids=None):
    """Approved visits of the period with a critical failure, newest first (optionally of some
    checklist versions only: the dashboard's checklist filter)."""
    return (approved_visits(branch_ids, start, end, version_ids).select_extend(Branch).join(Branch)
            .where(Visit.has_critical_failure).order_by(Visit.ended_at.desc()))


def monthly_trend(branch_ids, months, end=None, version_ids=None):
    """[(first day of month, mean score or None)] for the last `months` months of the organisation's
    calendar up to `end` (not included: a report of October ends at the start of 1 November, and its
    trend ends with October), oldest first; of some checklist versions only, when given."""
    end = end or utcnow() + timedelta(seconds=1)
    first = local_date(end - timedelta(microseconds=1)).replace(day=1)
    firsts = []
    for _ in range(months):
        firsts.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    firsts.reverse()
    result = []
    for index, month in enumerate(firsts):
        month_end = utc_start_of(firsts[index + 1]) if index + 1 < len(firsts) else end
        mean = approved_visits(branch_ids, utc_start_of(month), month_end, version_ids).select(
            fn.AVG(Visit.score)).scalar()
        result.append((month, mean))
    return result


def shopper_comments(branch_ids, start, end, limit=8, version_ids=None):
    """[(question, text, visit end)]: the latest words shoppers wrote (never who wrote them): comments
    on answers, and the answers to free-text questions ("Your comments about the visit"); of the
    visits of some checklist versions only, when given. The question is its text mapping in the
    checklist of the comment's visit (the item's id when that has none): two checklists' "comments"
    are not the same question, and the most used one's texts named another's comments by a bare id."""
    versions = list(_pinned_versions(branch_ids, start, end, version_ids))
    free_text = [item["id"] for version in versions
                 for section in version.content["sections"] for item in section["items"] if item["type"] == "text"]
    questions = {(version.id, item["id"]): item["text"] for version in versions
                 for section in version.content["sections"] for item in section["items"]}
    rows = (
        Answer.select(Answer.item_id, Answer.comment, Answer.value, Visit.ended_at, Visit.checklist_version)
        .join(Visit)
        .where(Answer.visit.in_(_visit_ids(of_checklist({"branches": branch_ids}, version_ids), start, end))
               & ((Answer.comment != "") | Answer.item_id.in_(free_text)))
        .order_by(Visit.ended_at.desc(), Answer.id)
        .tuples()
    )
    words = []
    for item_id, comment, value, ended, version_id in rows.iterator():  # a branch's period: read until there are enough
        for text in (comment, value if item_id in free_text and isinstance(value, str) and value != NOT_APPLICABLE
                     else ""):
            if text.strip():
                words.append((questions.get((version_id, item_id)) or {"": item_id}, text, ended))
        if len(words) >= limit:
            break
    return words[:limit]


def done_actions(branch_ids, limit=10):
    """The latest actions of some branches marked done (by when they were due), with their branch: the
    dashboard offers to reopen them (done was a tap away)."""
    return (
        Action.select(Action, Branch).join(Branch)
        .where(id_in(Action.branch, branch_ids) & (Action.status == ActionStatus.DONE.value))
        .order_by(Action.due_date.desc(), Action.id.desc()).limit(limit)
    )


def open_actions(branch_ids):
    """Open actions of some branches, soonest due first, with their branch."""
    return (
        Action.select(Action, Branch).join(Branch)
        .where(id_in(Action.branch, branch_ids) & (Action.status == ActionStatus.OPEN.value))
        .order_by(Action.due_date)
    )


def action_questions(actions, language):
    """{action id: the text of the question it follows up} (in `language` where its checklist has
    it): an action stores the failed item's id, and "Call the staff together" said nothing of what had
    failed. The text is the one of the newest checklist version its branch was visited with that has
    the item (its visit's, where it names one)."""
    from .i18n import localized
    from .models import ChecklistVersion

    followed = [a for a in actions if a.item_id]
    if not followed:
        return {}
    newest = fn.MAX(Visit.ended_at)
    versions = {}  # branch id -> [version id], newest first
    for branch_id, version_id, _ended in (
            Visit.select(Visit.branch, Visit.checklist_version, newest)
            .where(id_in(Visit.branch, {a.branch_id for a in followed}) & Visit.ended_at.is_null(False))
            .group_by(Visit.branch, Visit.checklist_version).order_by(newest.desc()).tuples()):
        versions.setdefault(branch_id, []).append(version_id)
    own = dict(Visit.select(Visit.id, Visit.checklist_version).where(
        Visit.id.in_([a.visit_id for a in followed if a.visit_id])).tuples()) if any(a.visit_id for a in followed) else {}
    texts = {}
    for action in followed:
        candidates = ([own[action.visit_id]] if action.visit_id in own else []) + versions.get(action.branch_id, [])
        for version_id in candidates:
            content = ChecklistVersion.shared_content(version_id)
            item = next((item for section in content["sections"] for item in section["items"]
                         if item["id"] == action.item_id), None)
            if item is not None:
                shown_in = language if language in content["languages"] else content["languages"][0]
                texts[action.id] = localized(item["text"], shown_in)
                break
    return texts


def checklists_used(branch_ids, start, end):
    """[(checklist id, approved visits)] in the period, the most used first; of two used as often, the
    one used last (a branch audited once with each: the one it is audited with now, not the older id)."""
    from .models import ChecklistVersion

    visits = fn.COUNT(Visit.id)
    return [(checklist, count) for checklist, count, _last in
            approved_visits(branch_ids, start, end).select(ChecklistVersion.checklist, visits, fn.MAX(Visit.ended_at))
            .join(ChecklistVersion).group_by(ChecklistVersion.checklist)
            .order_by(visits.desc(), fn.MAX(Visit.ended_at).desc(), ChecklistVersion.checklist).tuples()]


def checklist_version_ids(checklist_id):
    """Every version id of a checklist (the visits of the period pinned any of them)."""
    from .models import ChecklistVersion

    return [version_id for (version_id,) in ChecklistVersion.select(ChecklistVersion.id)
            .where(ChecklistVersion.checklist == checklist_id).tuples()]


def checklist_versions_used(checklist_id, branch_ids):
    """Every version id of a checklist when some of the branches had a visit of it, else None: the
    reports' and the branch page's rule for a checklist asked for (another client's checklist, its
    title too, is none of a manager's business)."""
    versions = checklist_version_ids(checklist_id)
    if not versions or not Visit.select().where(id_in(Visit.branch, branch_ids)
                                                & id_in(Visit.checklist_version, versions)).exists():
        return None
    return versions


class PartsShown(NamedTuple):
    """Whose sections, dimensions and questions a report shows. They belong to one checklist: two
    checklists' "advice" section or "politeness" dimension are not the same thing, and averaged
    together they gave a number true of neither."""
    version_ids: list  # the versions of the checklist shown (None: no approved visit, nothing to show)
    title: str         # its title, in the reader's language, when the period used several checklists
    count: int         # how many checklists the period's visits used


def parts_shown(branch_ids, start, end, language, version_ids=None):
    """PartsShown for a report of some branches' period: the checklist most used in it, or the one
    whose `version_ids` the report is of (the dashboard's checklist filter)."""
    from .models import Checklist

    if version_ids is not None:
        return PartsShown(version_ids, None, 1)
    used = checklists_used(branch_ids, start, end)
    if not used:
        return PartsShown(None, None, 0)
    checklist = Checklist.get_by_id(used[0][0])
    title = checklist.title(language) if len(used) > 1 else None
    return PartsShown(checklist_version_ids(checklist.id), title, len(used))


def _pinned_versions(branch_ids, start, end, version_ids=None):
    """The checklist versions the period's approved visits pinned (of `version_ids` only, when given)."""
    from .models import ChecklistVersion

    pinned = approved_visits(branch_ids, start, end, version_ids).select(Visit.checklist_version).distinct()
    return ChecklistVersion.select().where(ChecklistVersion.id.in_(pinned)).order_by(ChecklistVersion.id)


def item_texts(branch_ids, start, end, version_ids=None):
    """{item id or (kind, key): text mapping} from the checklist versions the period's visits pinned
    (of those versions only, when given)."""
    texts = {}
    for version in _pinned_versions(branch_ids, start, end, version_ids):
        for section in version.content["sections"]:
            texts[("section", section["id"])] = section["title"]
            for item in section["items"]:
                texts[item["id"]] = item["text"]
        for tag, labels in version.content.get("dimensions", {}).items():
            texts[("dimension", tag)] = labels
    return texts


def in_checklist_order(scores, kind, texts):
    """Section or dimension scores in the order the checklist lists them (unknown keys last)."""
    order = {key: index for index, key in enumerate(k[1] for k in texts if isinstance(k, tuple) and k[0] == kind)}
    return dict(sorted(scores.items(), key=lambda pair: (order.get(pair[0], len(order)), pair[0])))


def part_scores_by_branch(kind, branch_ids, start, end, version_ids=None):
    """{(branch id, section or dimension id): mean percent} from one `part_totals` query (of some
    checklist versions only, when given)."""
    version_ids = None if version_ids is None else set(version_ids)
    return _means([((branch_id, key), total, count)
                   for branch_id, version_id, row_kind, key, total, count in part_totals(branch_ids, start, end)
                   if row_kind == kind and (version_ids is None or version_id in version_ids)])
