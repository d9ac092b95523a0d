"""Stored results checked against the scoring function, and rewritten where they differ.

Dashboards, reports and exports read what the scoring function stored when a visit was sent or
corrected (visit.score, VisitScore, Answer.earned). When a release corrects the scoring function
itself, the visits scored before it keep the old results until they are scored again: `flask rescore`
does that for every scored visit, in batches, outside any request, saying how far it is. With
`--check` it only counts the visits whose stored results differ (and fails when there are any), so an
operator can see what a release would change before running it.

A visit's answers stay as they are (values, comments, a reviewer's corrections and their reasons);
only what the function computes from them is rewritten: per answer, per section and dimension, the
visit's score, band and critical flag, and the score before corrections.
"""
from collections import defaultdict
from dataclasses import dataclass

from .db import bulk_insert, database, write_transaction
from .models import Answer, ChecklistVersion, Visit, VisitScore, VisitState
from .operations import scored_rows

BATCH = 500


@dataclass
class Rescored:
    checked: int = 0
    differing: int = 0  # visits whose stored results were not the function's
    rewritten: int = 0


# The states of a visit whose answers were sent and scored (a returned visit keeps its sent answers
# until it is sent again).
SENT = (VisitState.SUBMITTED.value, VisitState.RETURNED.value, VisitState.APPROVED.value)


def sent_visit_ids():
    """Every sent visit, whatever its stored score (one left without a score must get it)."""
    return [row.id for row in Visit.select(Visit.id).where(Visit.state.in_(SENT)).order_by(Visit.id)]


def rescore_visits(apply, batch=BATCH, progress=None):
    """Score every sent visit again from its stored answers; rewrite those that differ when `apply`.

    `progress(done, total)` is called after each batch. Each batch is one transaction: a visit being
    corrected by a reviewer meanwhile is either scored before or after, never half."""
    ids = sent_visit_ids()
    summary = Rescored()
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        with write_transaction() if apply else database.atomic():
            for visit, answers, scores in _read_batch(chunk, lock=apply):
                summary.checked += 1
                change = _change_of(visit, answers, scores)
                if change is None:
                    continue
                summary.differing += 1
                if apply:
                    _rewrite(visit, answers, *change)
                    summary.rewritten += 1
        if progress:
            progress(min(start + batch, len(ids)), len(ids))
    return summary


def _read_batch(ids, lock):
    visits = (Visit.select(Visit.id, Visit.checklist_version, Visit.score, Visit.band,
                           Visit.has_critical_failure, Visit.original_score)
              .where(Visit.id.in_(ids)).order_by(Visit.id))
    if lock and database.obj.for_update:  # PostgreSQL: a reviewer's correction waits for this batch
        visits = visits.for_update()
    visits = list(visits)
    answers, scores = defaultdict(list), defaultdict(dict)
    for row in (Answer.select(Answer.id, Answer.visit, Answer.item_id, Answer.value, Answer.earned, Answer.possible,
                              Answer.failed, Answer.original_value, Answer.correction_reason)
                .where(Answer.visit.in_(ids))):
        answers[row.visit_id].append(row)
    for row in VisitScore.select().where(VisitScore.visit.in_(ids)):
        scores[row.visit_id][(row.kind, row.key)] = row.percent
    for visit in visits:
        yield visit, answers[visit.id], scores[visit.id]


def _change_of(visit, answers, scores):
    """None when the stored results are the function's; else (answer rows, score rows, visit fields)."""
    content = ChecklistVersion.shared_content(visit.checklist_version_id)
    values = {row.item_id: row.value for row in answers}
    answer_rows, score_rows, fields, _result = scored_rows(content, visit.id, values)
    if visit.original_score is not None:  # the shopper's own answers, before a reviewer corrected any
        shoppers = {row.item_id: (row.original_value if row.correction_reason else row.value) for row in answers}
        fields["original_score"] = scored_rows(content, visit.id, shoppers)[2]["score"]
    stored_answers = {row.item_id: (row.earned, row.possible, row.failed) for row in answers}
    fresh_answers = {row["item_id"]: (row["earned"], row["possible"], row["failed"]) for row in answer_rows}
    fresh_scores = {(row["kind"], row["key"]): row["percent"] for row in score_rows}
    stored_fields = {name: getattr(visit, name) for name in fields}
    if stored_answers == fresh_answers and scores == fresh_scores and stored_fields == fields:
        return None
    return fresh_answers, score_rows, fields


def _rewrite(visit, answers, fresh_answers, score_rows, fields):
    Visit.update(**fields).where(Visit.id == visit.id).execute()
    VisitScore.delete().where(VisitScore.visit == visit.id).execute()
    bulk_insert(VisitScore, score_rows)
    for row in answers:
        earned, possible, failed = fresh_answers[row.item_id]
        if (row.earned, row.possible, row.failed) != (earned, possible, failed):
            Answer.update(earned=earned, possible=possible, failed=failed).where(Answer.id == row.id).execute()
