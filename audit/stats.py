"""The aggregates that dashboards and reports show, each one SQL query over stored results.

Every figure comes from what the scoring function stored (visit.score, VisitScore, Answer.earned),
grouped in the database: nothing here loads every answer into Python.
"""
from datetime import timedelta

from peewee import Case, fn

from .models import Action, ActionStatus, Answer, Branch, Region, Visit, VisitScore, VisitState, utcnow

APPROVED = VisitState.APPROVED.value


def approved_visits(branch_ids, start, end):
    """Approved visits of some branches that ended in [start, end)."""
    return Visit.select().where(
        Visit.branch.in_(list(branch_ids)) & (Visit.state == APPROVED) & (Visit.ended_at >= start)
        & (Visit.ended_at < end)
    )


def branch_scores(branch_ids, start, end, version_ids=None):
    """{branch id: (visits, mean score)} in the period (optionally of some checklist versions only)."""
    query = (
        Visit.select(Visit.branch, fn.COUNT(Visit.id), fn.AVG(Visit.score))
        .where(Visit.branch.in_(list(branch_ids)) & (Visit.state == APPROVED) & (Visit.ended_at >= start)
               & (Visit.ended_at < end))
        .group_by(Visit.branch)
        .tuples()
    )
    if version_ids is not None:
        query = query.where(Visit.checklist_version.in_(list(version_ids)))
    return {branch_id: (count, mean) for branch_id, count, mean in query}


def ranking(branches, start, end, version_ids=None):
    """[(branch, visits, mean, previous mean, change)] best first; branches without visits last."""
    length = end - start
    now = branch_scores([b.id for b in branches], start, end, version_ids)
    before = branch_scores([b.id for b in branches], start - length, start, version_ids)
    rows = []
    for branch in branches:
        count, mean = now.get(branch.id, (0, None))
        previous = before.get(branch.id, (0, None))[1]
        change = (mean - previous) if mean is not None and previous is not None else None
        rows.append((branch, count, mean, previous, change))
    rows.sort(key=lambda row: (row[2] is None, -(row[2] or 0), row[0].code))
    return rows


def _visit_ids(scope, start, end):
    """A sub-query of approved visit ids in a scope: {"branches": ids} or {"regions": ids} or {"brand": id}."""
    query = Visit.select(Visit.id).join(Branch).join(Region).where(
        (Visit.state == APPROVED) & (Visit.ended_at >= start) & (Visit.ended_at < end))
    if "branches" in scope:
        query = query.where(Visit.branch.in_(list(scope["branches"])))
    if "regions" in scope:
        query = query.where(Branch.region.in_(list(scope["regions"])))
    if "brand" in scope:
        query = query.where(Region.brand == scope["brand"])
    if "checklist_version_ids" in scope:
        query = query.where(Visit.checklist_version.in_(list(scope["checklist_version_ids"])))
    return query


def part_scores(kind, scope, start, end):
    """{section or dimension id: mean percent} over a scope's approved visits in the period."""
    query = (
        VisitScore.select(VisitScore.key, fn.AVG(VisitScore.percent))
        .where((VisitScore.kind == kind) & VisitScore.visit.in_(_visit_ids(scope, start, end))
               & VisitScore.percent.is_null(False))
        .group_by(VisitScore.key)
        .tuples()
    )
    return {key: mean for key, mean in query}


def overall_mean(scope, start, end):
    return Visit.select(fn.AVG(Visit.score)).where(Visit.id.in_(_visit_ids(scope, start, end))).scalar()


def failed_most_often(scope, start, end, limit=10):
    """[(item id, failures, answers)] for the items that earned less than their points most often."""
    failed = fn.SUM(Case(None, [(Answer.earned < Answer.possible, 1)], 0))
    query = (
        Answer.select(Answer.item_id, failed.alias("failed"), fn.COUNT(Answer.id))
        .where(Answer.visit.in_(_visit_ids(scope, start, end)) & Answer.possible.is_null(False))
        .group_by(Answer.item_id)
        .having(failed > 0)
        .order_by(failed.desc(), Answer.item_id)
        .limit(limit)
        .tuples()
    )
    return list(query)


def critical_failures(branch_ids, start, end):
    return (
        approved_visits(branch_ids, start, end).where(Visit.has_critical_failure)
        .order_by(Visit.ended_at.desc())
    )


def monthly_trend(branch_ids, months, end=None):
    """[(first day of month, mean score or None)] for the last `months` months, oldest first."""
    end = end or utcnow()
    first = end.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = []
    for _ in range(months):
        starts.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    starts.reverse()
    result = []
    for index, month_start in enumerate(starts):
        month_end = starts[index + 1] if index + 1 < len(starts) else end + timedelta(seconds=1)
        mean = Visit.select(fn.AVG(Visit.score)).where(
            Visit.branch.in_(list(branch_ids)) & (Visit.state == APPROVED) & (Visit.ended_at >= month_start)
            & (Visit.ended_at < month_end)).scalar()
        result.append((month_start.date(), mean))
    return result


def shopper_comments(branch_ids, start, end, limit=8):
    """The latest comments shoppers wrote, with their item ids (never who wrote them)."""
    return (
        Answer.select(Answer.item_id, Answer.comment, Visit.ended_at)
        .join(Visit)
        .where(Answer.visit.in_(_visit_ids({"branches": branch_ids}, start, end)) & (Answer.comment != ""))
        .order_by(Visit.ended_at.desc())
        .limit(limit)
        .tuples()
    )


def open_actions(branch_ids):
    """Open actions of some branches, soonest due first, with their branch."""
    return (
        Action.select(Action, Branch).join(Branch)
        .where(Action.branch.in_(list(branch_ids)) & (Action.status == ActionStatus.OPEN.value))
        .order_by(Action.due_date)
    )




def item_texts(branch_ids):
    """{item id or (kind, key): text mapping} from the checklist versions the branches' visits pinned."""
    from .models import ChecklistVersion

    pinned = Visit.select(Visit.checklist_version).where(Visit.branch.in_(list(branch_ids))).distinct()
    texts = {}
    for version in ChecklistVersion.select().where(ChecklistVersion.id.in_(pinned)).order_by(ChecklistVersion.id):
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


def part_scores_by_branch(kind, branch_ids, start, end):
    """{(branch id, section or dimension id): mean percent} in one GROUP BY."""
    query = (
        VisitScore.select(Visit.branch, VisitScore.key, fn.AVG(VisitScore.percent))
        .join(Visit)
        .where((VisitScore.kind == kind) & VisitScore.visit.in_(_visit_ids({"branches": branch_ids}, start, end))
               & VisitScore.percent.is_null(False))
        .group_by(Visit.branch, VisitScore.key)
        .tuples()
    )
    return {(branch_id, key): mean for branch_id, key, mean in query}
