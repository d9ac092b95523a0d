"""Quality review of submitted visits: approve, return to the shopper, correct an answer, and the
integrity warnings a reviewer should see. Every change is one transaction and leaves a VisitEvent."""
import hashlib
import json
from datetime import timedelta

from .db import database, write_transaction
from .localtime import local_date
from .models import Answer, ChecklistVersion, Evidence, Visit, VisitEvent, VisitState, utcnow
from .operations import CLOCK_SLACK, score_and_store_answers


class ReviewRefused(ValueError):
    """A review action that does not fit the visit's state; `code` names it for a translated message."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def record_event(visit, from_state, to_state, actor=None, comment="", details=None):
    return VisitEvent.create(visit=visit, from_state=from_state, to_state=to_state, actor=actor, comment=comment,
                             details=details)


def _check_seen(current, seen):
    """ReviewRefused unless the reviewer decides on the sending they saw (`seen`: its submission hash,
    which the review page carries; None: not asked). The phone may change a sending made while it was
    on its way until the review begins (operations.amends_last_sending), so one may arrive while the
    reviewer reads the page."""
    if seen is not None and current.submission_hash != seen:
        raise ReviewRefused("changed_since")


def answer_fingerprint(answer):
    """What a review page showed of one answer (its value, its correction, its comment), as a short
    hash its correction forms carry: a correction made from a page read before another reviewer's
    change of the same answer would silently undo that change."""
    shown = None if answer is None else [answer.value, answer.original_value, answer.correction_reason,
                                         answer.comment]
    return hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()[:16]


def review_fingerprint(visit_id):
    """What a review page showed of every answer of a visit, as one hash its decision forms carry:
    the reviewer who approves or returns must have seen the corrections made so far."""
    rows = Answer.select().where(Answer.visit == visit_id).order_by(Answer.item_id)
    return hashlib.sha256("".join(f"{row.item_id}={answer_fingerprint(row)};" for row in rows).encode()).hexdigest()[:16]


def _locked_visit(visit_id, *fields):
    """The visit as it is now, held until the caller's transaction ends (PostgreSQL: FOR UPDATE; SQLite:
    write_transaction has the write lock already), so every reviewer's check and write take turns."""
    current = Visit.select(Visit.id, Visit.state, Visit.submission_hash, *fields).where(Visit.id == visit_id)
    return (current.for_update() if database.obj.for_update else current).first()


def _change_state(visit, to_state, actor, comment="", seen=None, reviewed=None, **fields):
    with write_transaction():
        current = _locked_visit(visit.id)
        if current is None or current.state != VisitState.SUBMITTED.value:
            raise ReviewRefused("not_submitted")
        _check_seen(current, seen)
        if reviewed is not None and review_fingerprint(visit.id) != reviewed:
            raise ReviewRefused("corrected_since")
        # Only a submitted visit can be reviewed; the check and the change are one statement.
        changed = Visit.update(state=to_state, **fields).where(
            (Visit.id == visit.id) & (Visit.state == VisitState.SUBMITTED.value)).execute()
        if not changed:
            raise ReviewRefused("not_submitted")
        record_event(visit, VisitState.SUBMITTED.value, to_state, actor, comment)
    return Visit.get_by_id(visit.id)


def approve(visit, reviewer, seen=None, reviewed=None):
    """The visit counts from now on: managers see it in dashboards and reports."""
    return _change_state(visit, VisitState.APPROVED.value, reviewer, seen=seen, reviewed=reviewed,
                         approved_at=utcnow())


def return_to_shopper(visit, reviewer, comment, seen=None, reviewed=None):
    """Back to the shopper with the reviewer's comment; they edit the same visit and send it again."""
    if not comment.strip():
        raise ReviewRefused("comment_required")
    return _change_state(visit, VisitState.RETURNED.value, reviewer, comment.strip(), seen=seen,
                         reviewed=reviewed, review_comment=comment.strip())


def reopen(visit, reviewer, reason):
    """An approved visit back in the review queue, with the reason (approved by mistake, or a client's
    query): it leaves the managers' figures until it is approved again. Approve had no way back."""
    if not reason.strip():
        raise ReviewRefused("reopen_reason_required")
    with write_transaction():
        current = _locked_visit(visit.id)
        changed = current is not None and current.state == VisitState.APPROVED.value and Visit.update(
            state=VisitState.SUBMITTED.value, approved_at=None).where(
            (Visit.id == visit.id) & (Visit.state == VisitState.APPROVED.value)).execute()
        if not changed:
            raise ReviewRefused("not_approved")
        record_event(visit, VisitState.APPROVED.value, VisitState.SUBMITTED.value, reviewer, reason.strip())
    return Visit.get_by_id(visit.id)


def hide_photo(visit, client_id, hidden):
    """Leave a photo of the visit out of the managers' reports (hidden True), or show it there again;
    None when the visit has no such photo. The reviewer keeps seeing it."""
    evidence = Evidence.of_visit(visit).where(Evidence.client_id == client_id).first()
    if evidence is None:
        return None
    Evidence.update(hidden_from_reports=hidden).where(Evidence.id == evidence.id).execute()
    return evidence


def _check_shown(visit, item_id, shown):
    """ReviewRefused unless the answer is still as the reviewer's page showed it (`shown`: its
    answer_fingerprint; None: not asked)."""
    if shown is not None:
        row = Answer.get_or_none((Answer.visit == visit.id) & (Answer.item_id == item_id))
        if answer_fingerprint(row) != shown:
            raise ReviewRefused("answer_changed")


def correct_answer(visit, item_id, value, reason, reviewer, seen=None, shown=None):
    """Change one answer with a reason; the score is recomputed, the shopper's answer and the first score kept."""
    if not reason.strip():
        raise ReviewRefused("reason_required")
    with write_transaction():
        # The visit as it is now, held until the correction is written: another reviewer may have
        # returned it since this one's page was read (the correction would have gone to a visit back
        # with its shopper, whose next sending replaces every answer). PostgreSQL: also after a
        # rescoring batch holding this visit (audit/rescoring.py).
        current = _locked_visit(visit.id, Visit.score, Visit.original_score)
        if current is None or current.state not in (VisitState.SUBMITTED.value, VisitState.APPROVED.value):
            raise ReviewRefused("not_submitted")
        _check_seen(current, seen)
        _check_shown(visit, item_id, shown)
        visit.state, visit.score, visit.original_score = current.state, current.score, current.original_score
        rows = {a.item_id: a for a in Answer.select().where(Answer.visit == visit)}
        answers = {key: row.value for key, row in rows.items()}
        comments = {key: row.comment for key, row in rows.items() if row.comment}
        history = {key: (row.original_value, row.correction_reason) for key, row in rows.items()
                   if row.correction_reason}
        original = rows[item_id].value if item_id in rows else None
        answers[item_id] = value
        if visit.original_score is None:
            Visit.update(original_score=visit.score).where(Visit.id == visit.id).execute()
        score_and_store_answers(Visit.get_by_id(visit.id), answers, comments)
        for key, (first_value, why) in history.items():  # earlier corrections survive the rewrite
            Answer.update(original_value=first_value, correction_reason=why).where(
                (Answer.visit == visit) & (Answer.item_id == key)).execute()
        first = history.get(item_id, (original, None))[0]
        this_answer = (Answer.visit == visit) & (Answer.item_id == item_id)
        if value == first:
            # Back to what the shopper answered: nothing of theirs is corrected any more (the event
            # below and the audit log keep the history).
            Answer.update(original_value=None, correction_reason="").where(this_answer).execute()
            if not Answer.select().where((Answer.visit == visit) & (Answer.correction_reason != "")).exists():
                Visit.update(original_score=None).where(Visit.id == visit.id).execute()
        else:
            Answer.update(original_value=first, correction_reason=reason.strip()).where(this_answer).execute()
        # The answer before and after, for the history: the answer's own row keeps only the shopper's.
        record_event(visit, visit.state, visit.state, reviewer, f"{item_id}: {reason.strip()}",
                     details={"item": item_id, "was": original, "now": value})
    return Visit.get_by_id(visit.id)


def correct_comment(visit, item_id, comment, reason, reviewer, seen=None, shown=None):
    """Change (or empty) the shopper's comment on an answer, with a reason: a shopper who named
    themselves, or a member of staff, in it; managers read comments in their reports. The comment as
    written is not kept: keeping it would keep what had to go."""
    if not reason.strip():
        raise ReviewRefused("reason_required")
    with write_transaction():
        current = _locked_visit(visit.id)
        if current is None or current.state not in (VisitState.SUBMITTED.value, VisitState.APPROVED.value):
            raise ReviewRefused("not_submitted")
        _check_seen(current, seen)
        _check_shown(visit, item_id, shown)
        Answer.update(comment=comment.strip()).where((Answer.visit == visit) & (Answer.item_id == item_id)).execute()
        record_event(visit, current.state, current.state, reviewer, f"{item_id}: {reason.strip()}",
                     details={"item": item_id, "comment": True})


def integrity_warnings(visit, min_minutes, max_distance_m, photo_slack_minutes=30):
    """(code, details) pairs a reviewer should look at: times moved off a wrong phone clock, a visit
    made outside its window, short visit, far check-in, photo times, reused photos."""
    warnings = []
    made_on = local_date(visit.ended_at) if visit.ended_at else None
    if made_on and visit.planned_from and visit.planned_to and not visit.planned_from <= made_on <= visit.planned_to:
        # The client pays for visits in the window it agreed (a weekday, after a campaign's start).
        warnings.append(("outside_window", {"day": made_on, "first": visit.planned_from, "last": visit.planned_to}))
    if visit.clock_shift_s and abs(visit.clock_shift_s) >= CLOCK_SLACK.total_seconds():  # not a few seconds
        warnings.append(("clock_shifted", {"seconds": visit.clock_shift_s}))
    # A contact made away from the branch (a mystery call, a chat: the checklist's on_site false) is
    # short and made from anywhere: its length and place say nothing of its truth.
    on_site = ChecklistVersion.shared_content(visit.checklist_version_id).get("on_site", True)
    if on_site and visit.started_at and visit.ended_at:
        minutes = (visit.ended_at - visit.started_at).total_seconds() / 60
        if minutes < min_minutes:
            warnings.append(("short_visit", {"minutes": round(minutes, 1), "limit": min_minutes}))
    if on_site and visit.checkin_distance_m is not None and visit.checkin_distance_m > max_distance_m:
        warnings.append(("far_checkin", {"metres": round(visit.checkin_distance_m), "limit": max_distance_m}))
    photos = list(Evidence.of_visit(visit))
    if visit.started_at and visit.ended_at:
        slack = timedelta(minutes=photo_slack_minutes)
        for photo in photos:
            if photo.captured_at and not (visit.started_at - slack <= photo.captured_at <= visit.ended_at + slack):
                warnings.append(("photo_time", {"photo": photo.client_id}))
    # One picture given for two questions of the visit (the shop front as the shelf too): each needs its own.
    items_of = {}
    for photo in photos:
        items_of.setdefault(photo.sha256, [])
        if photo.item_id not in items_of[photo.sha256]:
            items_of[photo.sha256].append(photo.item_id)
    for items in items_of.values():
        if len(items) > 1:
            warnings.append(("photo_repeated", {"items": items}))
    hashes = [photo.sha256 for photo in photos]
    if hashes:
        # Which other visits used each photo (a few, newest first): the reviewer compares them.
        others = {}
        for sha256, uuid in (Evidence.select(Evidence.sha256, Visit.uuid).join(Visit)
                             .where(Evidence.sha256.in_(hashes) & (Evidence.visit != visit))
                             .order_by(Visit.id.desc()).tuples()):
            others.setdefault(sha256, [])
            if str(uuid) not in others[sha256]:
                others[sha256].append(str(uuid))
        # Once per question, naming it (the same words once per photo said nothing of which).
        for item_id in dict.fromkeys(photo.item_id for photo in photos if photo.sha256 in others):
            visits = []
            for photo in photos:
                if photo.item_id == item_id:
                    visits += [uuid for uuid in others.get(photo.sha256, []) if uuid not in visits]
            warnings.append(("photo_reused", {"item": item_id, "visits": visits[:3]}))
    return warnings
