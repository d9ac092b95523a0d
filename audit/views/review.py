"""Auditors review submitted visits: the queue, every answer with its score, and the decision."""
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from babel.units import format_unit
from flask_babel import format_date, format_datetime, format_timedelta, get_locale
from flask_login import current_user

from .. import auditlog, media, review
from ..access import role_required, visible_branches
from ..db import record_id
from ..answers import SCORING_TYPES, _form_value, items_in_order
from ..editor_forms import ConfirmForm
from ..forms import CommentCorrectionForm, CorrectionForm, ReopenForm, ReturnForm, ReviewFilterForm
from ..i18n import answer_label, current_language, decimal_text, localized, state_label
from ..i18n import gettext as _
from ..localtime import utc_start_of
from ..models import Answer, Branch, ChecklistVersion, Evidence, Region, Role, User, Visit, VisitEvent, VisitState
from ..paging import Page
from ..scoring import NOT_APPLICABLE, find_answer_problems, visible_item_ids
from .shopper import submission_message

bp = Blueprint("review", __name__, url_prefix="/review")

REFUSALS = {
    "not_submitted": lambda: _("Only a visit waiting for review can be approved or returned, and only one waiting for "
                               "review or approved can be corrected."),
    "comment_required": lambda: _("Tell the shopper why the visit comes back."),
    "reason_required": lambda: _("Give the reason for the correction."),
    "changed_since": lambda: _("The shopper changed this visit after you opened it: nothing was done. "
                               "Look at its answers again."),
    "answer_changed": lambda: _("This answer was changed by another reviewer since you opened the page; here it "
                                "is now. Make your change again if it is still needed."),
    "reopen_reason_required": lambda: _("Say why the visit goes back to the review."),
    "not_approved": lambda: _("Only an approved visit can go back to the review."),
    "corrected_since": lambda: _("Another reviewer corrected this visit since you opened the page: nothing was "
                                 "done. Look at the corrections below, then decide again."),
}


def _refusal_text(refused, visit):
    """A refusal in the reader's words; a visit decided meanwhile says by whom and when (a generic
    "only a visit waiting for review..." left the reviewer guessing what had happened)."""
    if refused.code == "not_submitted":
        current = Visit.get_or_none(Visit.id == visit.id)
        decided = _last_decision(visit)
        if current is not None and decided is not None and decided.to_state == current.state:
            who = decided.actor.name if decided.actor else "—"
            when = format_datetime(decided.created_at, "short")
            if current.state == VisitState.APPROVED.value:
                return _("This visit was approved meanwhile (by %(name)s at %(time)s): nothing was done.",
                         name=who, time=when)
            if current.state == VisitState.RETURNED.value:
                return _("This visit was returned to the shopper meanwhile (by %(name)s at %(time)s): nothing was "
                         "done.", name=who, time=when)
    return REFUSALS[refused.code]()


def _last_decision(visit):
    """The visit's last change of state (an approval, a return, a sending), or None."""
    return (VisitEvent.select().where((VisitEvent.visit == visit) & (VisitEvent.from_state != VisitEvent.to_state))
            .order_by(VisitEvent.id.desc()).first())


def _decided_by_me_already(visit, state, comment=""):
    """Whether the visit stands as this reviewer's own decision `state` (with `comment`): a second
    click of Approve or Return, no mistake to report."""
    decided = _last_decision(visit)
    return (decided is not None and decided.to_state == state and decided.actor_id == current_user.id
            and (decided.comment or "") == comment and Visit.get_by_id(visit.id).state == state)


def _seen():
    """The sending the reviewer's page showed (its submission hash; see review._check_seen)."""
    return request.form.get("seen") or None


def _shown():
    """What the reviewer's page showed of the answer to correct (review.answer_fingerprint)."""
    return request.form.get("shown") or None


def _reviewed():
    """What the reviewer's page showed of all the visit's answers (review.review_fingerprint)."""
    return request.form.get("reviewed") or None


def _changed_since_seen(visit):
    """Whether the shopper changed the visit after the reviewer's page was read: said before anything
    the page's answers would say (a comment gone, an answer that is now the one asked for)."""
    if _seen() is not None and _seen() != visit.submission_hash:
        flash(REFUSALS["changed_since"](), "error")
        return True
    return False


@bp.before_request
@role_required(Role.AUDITOR)
def _auditors_only():
    """Reviewing is the auditors' job."""


def _visit_or_404(visit_uuid):
    visit = Visit.by_uuid(visit_uuid)
    if visit is None:
        abort(404)
    return visit


QUEUE_FILTERS = {"brand": lambda: Region.brand, "region": lambda: Branch.region, "branch": lambda: Visit.branch,
                 "checklist": lambda: ChecklistVersion.checklist, "shopper": lambda: Visit.shopper}
QUEUE_DATES = ("visited_from", "visited_to")


def queue_filters():
    """The queue's filters, order and page as the request carries them, only those the queue can use
    (ids as whole numbers, days as ISO dates, "sort" only when not the default), and {field: why one
    given was left out}. The args are carried through a visit's page and back and to the next visit
    (only these names, so no link can lead elsewhere); the reasons are said on the queue's page."""
    args = {name: request.args.get(name, type=record_id) for name in (*QUEUE_FILTERS, "page")}
    problems = {}
    asked_branch = request.args.get("branch", "").strip()
    # A branch out of the reviewer's scope reads as one that does not exist: its id says nothing.
    if asked_branch not in ("", "0") and (
            args["branch"] is None
            or not visible_branches(current_user).where(Branch.id == args["branch"]).exists()):
        args["branch"] = None
        problems["branch"] = _("There is no branch of yours with that id: the list shows every branch.")
    for name in QUEUE_DATES:
        text = request.args.get(name, "").strip()
        args[name] = _queue_day(text)
        if text and args[name] is None:
            problems[name] = _("“%(value)s” is not a date: the list is not filtered by it.", value=text[:20])
    if args["visited_from"] and args["visited_to"] and args["visited_from"] > args["visited_to"]:
        problems["visited_to"] = _("The first day visited comes after the last: the list is not filtered by "
                                   "the day of the visit. Swap the two days.")
        args["visited_from"] = args["visited_to"] = None
    if request.args.get("sort") == "newest":
        args["sort"] = "newest"
    return {name: value for name, value in args.items() if value and not (name == "page" and value == 1)}, problems


def _queue_day(text):
    """The ISO date in `text` ("2026-11-27", as a date field sends it), or None when it is none or
    its day cannot be reached in the organisation's time (year 1, year 9999)."""
    try:
        day = date.fromisoformat(text)
        utc_start_of(day), utc_start_of(day + timedelta(days=1))
    except (ValueError, OverflowError):
        return None
    return day.isoformat()


def queue_args():
    """The queue's filters, order and page that the request carries and the queue can use."""
    return queue_filters()[0]


def _queue_query(args):
    # With the shopper in the same query (each row read its own), 50 a page: a chain's month waits whole.
    newest = args.get("sort") == "newest"
    query = (
        Visit.with_place().select_extend(User).switch(Visit).join(User).switch(Visit).join(ChecklistVersion)
        .where(Visit.state == VisitState.SUBMITTED.value)
        .order_by(*((Visit.submitted_at.desc(), Visit.id.desc()) if newest else (Visit.submitted_at, Visit.id)))
    )
    for name, column in QUEUE_FILTERS.items():
        if args.get(name):
            query = query.where(column() == args[name])
    # The day the shop was visited (the queue's "Visited"), on the organisation's calendar.
    if args.get("visited_from"):
        query = query.where(Visit.ended_at >= utc_start_of(date.fromisoformat(args["visited_from"])))
    if args.get("visited_to"):
        query = query.where(Visit.ended_at < utc_start_of(date.fromisoformat(args["visited_to"]) + timedelta(days=1)))
    return query


@bp.route("/")
def queue():
    args, problems = queue_filters()
    form = ReviewFilterForm(request.args, branches=visible_branches(current_user))
    for name, problem in problems.items():
        getattr(form, name).errors = [problem]
    filters = {name: value for name, value in args.items() if name != "page"}
    page = Page(_queue_query(args), request.args.get("page"))
    # Which checklist each visit was made with (a call and a shop visit queue together), from the
    # shared content of the page's few versions.
    checklists = {version_id: localized(ChecklistVersion.shared_content(version_id)["title"])
                  for version_id in {visit.checklist_version_id for visit in page.items}}
    return render_template("review/queue.html", page=page, args=filters, form=form, queue=args,
                           checklists=checklists, problems=problems)


def _after_decision(visit, message):
    """Where a decided visit leads: the next visit of the same filtered queue in its order, else that queue."""
    args = queue_args()
    if args.get("sort") == "newest":
        after = (Visit.submitted_at < visit.submitted_at) | (
            (Visit.submitted_at == visit.submitted_at) & (Visit.id < visit.id))
    else:
        after = (Visit.submitted_at > visit.submitted_at) | (
            (Visit.submitted_at == visit.submitted_at) & (Visit.id > visit.id))
    following = _queue_query(args).where(after & (Visit.id != visit.id)).first()
    if following is not None:
        if message:
            flash(_("%(done)s Here is the next visit waiting for review.", done=message), "success")
        return redirect(url_for("review.visit", visit_uuid=following.uuid, **args))
    if message:
        flash(_("%(done)s No visit waits after it in this list.", done=message), "success")
    return redirect(url_for("review.queue", **args))


def correction_choices(item, language):
    """(stored value, label) of every answer a reviewer may choose for an item with a fixed set of
    answers (yes/no, scale, choice), "not applicable" last where allowed; None for a typed answer."""
    kind = item["type"]
    if kind == "yesno":
        values = ["yes", "no"]
    elif kind == "scale":
        values = list(range(item["min"], item["max"] + 1))
    elif kind == "choice":
        values = [option["id"] for option in item["options"]]
    else:
        return None
    if item.get("na"):
        values.append(NOT_APPLICABLE)
    return [(value, answer_label(item, value, language, scale_range=False)) for value in values]


def warning_text(code, details, questions=None):
    """An integrity warning in the reader's words; `questions`: {item id: its text} to name a question."""
    if code == "clock_shifted":
        amount = format_timedelta(timedelta(seconds=abs(details["seconds"])))
        if details["seconds"] > 0:
            return _("The phone's clock was %(amount)s ahead: the visit's times were moved back to when it "
                     "arrived.", amount=amount)
        return _("The phone's clock was %(amount)s behind (the visit would have ended before it was assigned): "
                 "the visit's times were moved to when it arrived.", amount=amount)
    if code == "outside_window":
        return _("Made on %(day)s, outside its window (%(first)s to %(last)s).", day=format_date(details["day"]),
                 first=format_date(details["first"]), last=format_date(details["last"]))
    if code == "short_visit":
        # In the reader's words for minutes, one or many ("1 minutes" was English for none).
        return _("The visit took %(duration)s, less than %(limit)s.",
                 duration=_minutes(details["minutes"]), limit=_minutes(details["limit"]))
    if code == "far_checkin":
        return _("Checked in %(metres)s m from the branch (more than %(limit)s m).",
                 metres=decimal_text(details["metres"], places=0), limit=decimal_text(details["limit"], places=0))
    if code == "photo_time":
        return _("A photo was taken outside the time of the visit.")
    if code == "photo_repeated":
        named = [(questions or {}).get(item, item) for item in details["items"]]
        return _("The same photo was given for several questions: %(questions)s.",
                 questions=" · ".join(f"“{question}”" for question in named))
    question = (questions or {}).get(details.get("item"))
    if question:
        return _("A photo of “%(question)s” was also used in another visit.", question=question)
    return _("A photo of this visit was also used in another visit.")


# A text answer in one line of the history is cut here (the answer itself is shown above it, whole).
HISTORY_TEXT_LENGTH = 80


def _history_answer(item, value, language):
    """An answer before or after a correction as the history says it: as the answers above it are
    shown, a text answer quoted (and cut when long), none as "not answered"."""
    if value is None:
        return _("not answered")
    if item.get("type") == "text" and value != NOT_APPLICABLE:
        text = " ".join(str(value).split())
        return f"“{text[:HISTORY_TEXT_LENGTH - 1]}…”" if len(text) > HISTORY_TEXT_LENGTH else f"“{text}”"
    return answer_label(item, value, language, scale_range=False)  # "3 → 5": one line, the range said above


def _correction_text(event, items, language):
    """What a correction changed, in words: its question, the answer before and after it where the
    history entry keeps them (not those made before schema 17), and its reason."""
    details = event.details if isinstance(event.details, dict) else {}
    item_id, _colon, reason = event.comment.partition(": ")
    item_id = details.get("item", item_id)
    item = items.get(item_id)
    question = localized(item["text"], language) if item else item_id
    item = item or {"type": None}  # a question the checklist no longer has: its answers as stored
    before = _history_answer(item, details["was"], language) if "was" in details else None
    after = _history_answer(item, details["now"], language) if "now" in details else None
    if before is not None and after is not None:
        return _("“%(question)s”: %(before)s → %(after)s. Reason: %(reason)s", question=question, before=before,
                 after=after, reason=reason)
    if after is not None:
        return _("“%(question)s”: now %(after)s. Reason: %(reason)s", question=question, after=after, reason=reason)
    if before is not None:
        return _("“%(question)s”: was %(before)s. Reason: %(reason)s", question=question, before=before, reason=reason)
    return f"{question}: {reason}"


def history(visit, events, content, language):
    """The visit's history as the review page lists it: (when, what happened, who, what it said)."""
    items = {item["id"]: item for item in items_in_order(content)}
    lines = []
    for event in events:
        details = event.details if isinstance(event.details, dict) else {}
        # A correction keeps the state ("submitted" -> "submitted"), its comment "item: reason": said
        # as one, its question by its text ("Submitted · Anna · greeted: ..." read as if the reviewer
        # had sent the visit).
        corrected = event.from_state == event.to_state and (details or ": " in (event.comment or ""))
        if corrected:
            what = _("Comment corrected") if details.get("comment") else _("Corrected")
            said = _correction_text(event, items, language)
        else:
            if event.from_state == VisitState.APPROVED.value and event.to_state == VisitState.SUBMITTED.value:
                what = _("Back in the review")
            elif event.from_state == event.to_state == VisitState.SUBMITTED.value and \
                    event.actor_id == visit.shopper_id:
                what = _("Changed by the shopper before the review")
            else:
                what = state_label(event.to_state)
            said = event.comment
        lines.append((event.created_at, what, event.actor.name if event.actor else None, said))
    return lines


def _minutes(value):
    """Minutes in the reader's words, one or many, to a tenth ("0,1 perc", "1 minute", "8 минут")."""
    tenths = Decimal(str(value)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    # A whole number as one: the plural rules read "1.0" as a fraction ("1,0 минуты").
    return format_unit(tenths if tenths % 1 else int(tenths), "duration-minute", length="long", locale=get_locale())


@bp.route("/<visit_uuid>")
def visit(visit_uuid):
    visit = _visit_or_404(visit_uuid)
    return _visit_page(visit, corrected_item=_item_of(visit.checklist_version.content, request.args.get("corrected")))


def _visit_page(visit, status=200, return_form=None, typed=None, corrected_item=None, reopen_form=None):
    """The review page; shown again by a refused correction or return with what was typed (`typed`:
    the correction form's fields and its item; `return_form`: the note) kept in its form."""
    config = current_app.config
    content = visit.checklist_version.content
    language = current_language() if current_language() in content["languages"] else content["languages"][0]
    questions = {item["id"]: localized(item["text"], language) for item in items_in_order(content)}
    # (its words, the other visits it names: a reused photo leads to where else it was used)
    warnings = [(warning_text(code, details, questions), details.get("visits", [])) for code, details in
                review.integrity_warnings(visit, config["REVIEW_MIN_MINUTES"], config["REVIEW_MAX_DISTANCE_M"])]
    answers = {a.item_id: a for a in visit.answers}
    photos = {}
    for evidence in Evidence.of_visit(visit):
        photos.setdefault(evidence.item_id, []).append(evidence)
    return render_template(
        "review/visit.html", visit=visit, content=content, language=language, answers=answers, photos=photos,
        warnings=warnings, history=history(visit, VisitEvent.of_visit(visit), content, language),
        return_form=return_form or ReturnForm(formdata=None),
        correction_form=CorrectionForm(formdata=None), comment_form=CommentCorrectionForm(formdata=None),
        reopen_form=reopen_form or ReopenForm(formdata=None), photo_form=ConfirmForm(formdata=None),
        correction_choices=correction_choices, corrected_item=corrected_item, typed=typed or {},
        shown=review.answer_fingerprint, reviewed=review.review_fingerprint(visit.id), queue=queue_args(),
    ), status


def _item_of(content, item_id):
    """item_id when the checklist has that item (the page shows a correction's messages there), else None."""
    known = {item["id"] for section in content["sections"] for item in section["items"]}
    return item_id if item_id in known else None


@bp.route("/<visit_uuid>/approve", methods=["POST"])
def approve(visit_uuid):
    visit = _visit_or_404(visit_uuid)
    if not ReturnForm().validate_on_submit() and "csrf_token" in ReturnForm().errors:
        abort(400)
    try:
        review.approve(visit, current_user, seen=_seen(), reviewed=_reviewed())
        auditlog.record("visit.approved", visit.uuid)
    except review.ReviewRefused as refused:
        if refused.code == "not_submitted" and _decided_by_me_already(visit, VisitState.APPROVED.value):
            return _after_decision(visit, None)  # a double click: the first click's message says it
        flash(_refusal_text(refused, visit), "error")
        return redirect(url_for("review.visit", visit_uuid=visit.uuid, **queue_args()))
    return _after_decision(visit, _("The visit is approved."))


@bp.route("/<visit_uuid>/return", methods=["POST"])
def return_visit(visit_uuid):
    visit = _visit_or_404(visit_uuid)
    form = ReturnForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _visit_page(visit, 422, return_form=form)  # the note kept, its error beside it
    try:
        review.return_to_shopper(visit, current_user, form.comment.data, seen=_seen(), reviewed=_reviewed())
        auditlog.record("visit.returned", visit.uuid, comment=form.comment.data)
    except review.ReviewRefused as refused:
        if refused.code == "not_submitted" and _decided_by_me_already(
                visit, VisitState.RETURNED.value, form.comment.data.strip()):
            return _after_decision(visit, None)  # a double click: the first click's message says it
        flash(_refusal_text(refused, visit), "error")
        return _visit_page(Visit.get_by_id(visit.id), 409, return_form=form)
    return _after_decision(visit, _("The visit went back to the shopper."))


@bp.route("/<visit_uuid>/reopen", methods=["POST"])
def reopen(visit_uuid):
    """An approved visit back in the queue (approved by mistake, or a client's query), with why."""
    visit = _visit_or_404(visit_uuid)
    form = ReopenForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _visit_page(visit, 422, reopen_form=form)  # the reason kept, its error beside it
    try:
        review.reopen(visit, current_user, form.reason.data)
    except review.ReviewRefused as refused:
        flash(_refusal_text(refused, visit), "error")
        return _visit_page(Visit.get_by_id(visit.id), 409)
    auditlog.record("visit.reopened", visit.uuid, reason=form.reason.data.strip())
    flash(_("The visit is back in the review: the managers' figures leave it out until it is approved again."),
          "success")
    return redirect(url_for("review.visit", visit_uuid=visit.uuid, **queue_args()))


def _stored_answers(visit):
    return {a.item_id: a.value for a in Answer.select(Answer.item_id, Answer.value).where(Answer.visit == visit)}


def _unanswered_now_shown(visit, content, before):
    """The texts of scoring questions this correction has shown (a show_if answer changed; `before`:
    the answers before it) that have no answer: the shopper never saw them, and unanswered they
    silently drop out of the score. Only those it showed: one shown by an earlier correction was
    said then."""
    answers = _stored_answers(visit)
    visible = visible_item_ids(content, answers) - visible_item_ids(content, before)
    language = current_language() if current_language() in content["languages"] else content["languages"][0]
    return [localized(item["text"], language) for section in content["sections"] for item in section["items"]
            if item["id"] in visible and item["type"] in SCORING_TYPES and answers.get(item["id"]) is None]


@bp.route("/<visit_uuid>/answers/<item_id>", methods=["POST"])
def correct(visit_uuid, item_id):
    visit = _visit_or_404(visit_uuid)
    content = visit.checklist_version.content
    item = next((i for s in content["sections"] for i in s["items"] if i["id"] == item_id), None)
    if item is None:
        abort(404)
    form = CorrectionForm()
    if _changed_since_seen(visit):
        return _refused_correction(visit, item_id, form, 409)
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return _refused_correction(visit, item_id, form)
    value = _form_value(item, NOT_APPLICABLE if form.not_applicable.data else form.value.data)
    problems = find_answer_problems(content, {item_id: value})
    current = Answer.get_or_none((Answer.visit == visit) & (Answer.item_id == item_id))
    if value is None:
        flash(_("Give the corrected answer."), "error")
        return _refused_correction(visit, item_id, form)
    if problems:
        flash(submission_message(problems[0]), "error")
        return _refused_correction(visit, item_id, form)
    if current is not None and current.value == value and (_shown() is None or _shown() == review.answer_fingerprint(current)):
        # Stored as a correction, it would claim the shopper got it wrong and write a reason for nothing.
        flash(_("That is the answer already: nothing was changed."), "info")
        return _back_at(visit, item_id)
    before = _stored_answers(visit)
    try:
        review.correct_answer(visit, item_id, value, form.reason.data, current_user, seen=_seen(), shown=_shown())
        auditlog.record("answer.corrected", visit.uuid, item=item_id, value=value, reason=form.reason.data)
    except review.ReviewRefused as refused:
        flash(_refusal_text(refused, visit), "error")
        return _refused_correction(visit, item_id, form, 409)
    flash(_("The answer is changed and the score recomputed."), "success")
    # Not "return the visit": the shopper gets their own answers back, under which it is hidden again.
    for question in _unanswered_now_shown(visit, content, before):
        flash(_("The question “%(question)s” now applies and has no answer, so it counts for nothing: give its "
                "answer with its own “Change this answer” button below.", question=question), "error")
    return _back_at(visit, item_id)


def _back_at(visit, item_id):
    """The review page again, opened at the corrected question where its messages are."""
    return redirect(url_for("review.visit", visit_uuid=visit.uuid, corrected=item_id, **queue_args())
                    + f"#a-{item_id}")


def _refused_correction(visit, item_id, form, status=422):
    """The page again with the correction as it was typed, its messages at its question: a redirect
    lost the typed reason and comment."""
    typed = {"item": item_id, "value": form.value.data if "value" in form else None,
             "not_applicable": form.not_applicable.data if "not_applicable" in form else False,
             "comment": form.comment.data if "comment" in form else None, "reason": form.reason.data,
             "form": "comment" if "comment" in form else "answer"}
    return _visit_page(Visit.get_by_id(visit.id), status, typed=typed, corrected_item=item_id)


@bp.route("/<visit_uuid>/comments/<item_id>", methods=["POST"])
def correct_comment(visit_uuid, item_id):
    """The shopper's comment on an answer, changed or emptied with a reason (a name in it: managers
    read the comments, and never learn who made a visit)."""
    visit = _visit_or_404(visit_uuid)
    current = Answer.get_or_none((Answer.visit == visit) & (Answer.item_id == item_id))
    form = CommentCorrectionForm()
    if _changed_since_seen(visit):  # the comment may be gone with the shopper's change: said first
        return _refused_correction(visit, item_id, form, 409)
    if current is None or (not current.comment and _shown() is None):
        abort(404)
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return _refused_correction(visit, item_id, form)
    if form.comment.data.strip() == current.comment.strip() and (
            _shown() is None or _shown() == review.answer_fingerprint(current)):
        flash(_("That is the comment already: nothing was changed."), "info")
        return _back_at(visit, item_id)
    try:
        review.correct_comment(visit, item_id, form.comment.data, form.reason.data, current_user, seen=_seen(),
                               shown=_shown())
        # Not the texts: the comment as written is what had to go.
        auditlog.record("comment.corrected", visit.uuid, item=item_id, reason=form.reason.data)
    except review.ReviewRefused as refused:
        flash(_refusal_text(refused, visit), "error")
        return _refused_correction(visit, item_id, form, 409)
    flash(_("The comment is changed."), "success")
    return _back_at(visit, item_id)


@bp.route("/<visit_uuid>/photos/<client_id>/reports", methods=["POST"])
def photo_in_reports(visit_uuid, client_id):
    """A photo left out of the managers' reports, or shown there again (the shopper's reflection in a
    shop window, a face): only its CSRF token and which of the two."""
    visit = _visit_or_404(visit_uuid)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    hidden = request.form.get("hidden") == "1"
    if review.hide_photo(visit, client_id, hidden) is None:
        abort(404)
    auditlog.record("photo.hidden" if hidden else "photo.shown", visit.uuid, photo=client_id)
    flash(_("The photo is left out of the managers' reports.") if hidden
          else _("The photo is shown in the managers' reports again."), "success")
    return redirect(url_for("review.visit", visit_uuid=visit.uuid, **queue_args()))


@bp.route("/<visit_uuid>/photos/<client_id>")
def photo(visit_uuid, client_id):
    visit = _visit_or_404(visit_uuid)
    evidence = Evidence.of_visit(visit).where(Evidence.client_id == client_id).first()
    if evidence is None:
        abort(404)
    return media.send_photo(current_app.config["MEDIA_DIR"], evidence.file_name)
