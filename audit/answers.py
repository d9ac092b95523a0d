"""A shopper's answers: read from the plain HTML form or the sync API, and checked before submission.

Pure functions on plain data (no Flask, no database), so the no-JavaScript form and the JSON API
apply exactly the same rules.
"""
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from .form_messages import CONTROL_CHARACTER
from .scoring import NOT_APPLICABLE, find_answer_problems, score, visible_item_ids

SCORING_TYPES = ("yesno", "scale", "choice", "timer", "number")
MAX_COMMENT_LENGTH = 4000
MAX_TEXT_LENGTH = 4000


@dataclass(frozen=True)
class SubmissionProblem:
    """Why a submission cannot be accepted, for one item: a code, and what the message needs.

    Codes: those of scoring.AnswerProblem, plus required, comment_required, photo_required,
    too_long, unknown_photo.
    """

    item_id: str
    code: str
    value: object = None
    allowed: tuple = ()


def items_in_order(checklist):
    for section in checklist["sections"]:
        yield from section["items"]


def _form_text(raw):
    """A form's text with its line breaks as LF: browsers send CRLF (two characters), which the
    textarea's maxlength counted as one, so text the browser accepted must not come out longer.
    Control characters (NUL...) are dropped: no keyboard types them, and PostgreSQL refuses NUL in
    text, which made a whole visit fail to save (a shopper would lose it for an invisible character)."""
    return CONTROL_CHARACTER.sub("", (raw or "").replace("\r\n", "\n").replace("\r", "\n")).strip()


def _form_value(item, raw):
    """A form string as the answer value its item type takes; bad input is kept for the check to name."""
    raw = _form_text(raw)
    if raw == "":
        return None
    if raw == NOT_APPLICABLE and item["type"] != "text":
        return NOT_APPLICABLE
    if item["type"] in ("scale", "timer", "number"):
        return _form_number(raw)
    return raw


# A number typed in a form, past these, is no answer anyone gives (a timer over a day, a count past a
# billion); reading it exactly would cost the server: Fraction("1e10000000") takes seconds of CPU,
# and an int of more than 4,300 digits cannot even be written into the draft's JSON.
_LONGEST_NUMBER_TEXT = 40
_LARGEST_EXPONENT = 15
# "1,200" is twelve hundred to whoever typed it in English, 1.2 in Hungarian: a comma followed by
# groups of three digits is too ambiguous to read either way (the check says "Give a number."), while
# "1,5" is a decimal comma.
_THOUSANDS_GROUPS = re.compile(r"[+-]?[1-9][0-9]{0,2}(,[0-9]{3})+")


def _form_number(raw):
    """A form's number as an int or float; too large ones as a value just past any bound (the check
    then says "no larger than ..."); text that is no number is kept for the check to name."""
    if len(raw) > _LONGEST_NUMBER_TEXT or _THOUSANDS_GROUPS.fullmatch(raw):
        return raw
    try:
        number = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        return raw
    if not number.is_finite():
        return raw
    if number.adjusted() > _LARGEST_EXPONENT:
        return 10 ** (_LARGEST_EXPONENT + 1)
    if number.adjusted() < -_LARGEST_EXPONENT:
        return float(number)  # as good as 0 for any answer, and read without big arithmetic
    exact = Fraction(number)
    return int(exact) if exact.denominator == 1 else float(exact)


# Items whose answer is typed: with "not applicable" allowed, the box and the N/A button share the
# answer's name, and the form sends the box first (empty or not), then "na" when the button is chosen.
_TYPED = ("timer", "number", "text")


def _form_answer(item, form):
    """An item's answer from the form (a MultiDict): for a typed one with N/A allowed, what was typed,
    else N/A when its button was chosen (read alone, the empty box hid the N/A: "Answer this
    question" to a shopper who had answered it, whose visit could then not be sent)."""
    name = f"answer-{item['id']}"
    sent = form.getlist(name)
    if item["type"] in _TYPED and item.get("na") and len(sent) > 1 and sent[-1] == NOT_APPLICABLE:
        typed = _form_value(item, sent[0])
        return NOT_APPLICABLE if typed is None else typed
    return _form_value(item, sent[0] if sent else None)


def answers_from_form(checklist, form):
    """(answers, comments) from a submitted fill form (a MultiDict)."""
    answers, comments = {}, {}
    for item in items_in_order(checklist):
        if item["type"] == "photo":
            continue
        value = _form_answer(item, form)
        if value is not None:
            answers[item["id"]] = value
        comment = _form_text(form.get(f"comment-{item['id']}"))
        if comment:
            comments[item["id"]] = comment
    return answers, comments


def applicable_only(checklist, answers, comments):
    """(answers, comments) without those of items that do not apply given the other answers (a
    show_if not met): the page without JavaScript shows every question, and what was given to one
    that does not apply must not reach the reviewer, as the JavaScript client leaves it out."""
    visible = visible_item_ids(checklist, answers)
    return ({k: v for k, v in answers.items() if k in visible},
            {k: v for k, v in comments.items() if k in visible})


def check_submission(checklist, answers, comments, photos):
    """(every SubmissionProblem of a finished visit, the ScoreResult of its valid answers).

    No problems means it can be submitted, and the result is then the score of all its answers
    (the caller stores it instead of scoring again). photos maps item ids to their photos' ids.
    """
    problems = [
        SubmissionProblem(p.item_id, p.code, p.value, tuple(p.allowed))
        for p in find_answer_problems(checklist, answers)
    ]
    wrong = {p.item_id for p in problems}
    known = {item["id"]: item for item in items_in_order(checklist)}
    for item_id in list(comments) + list(photos):
        if item_id not in known and item_id not in wrong:
            problems.append(SubmissionProblem(item_id, "unknown_item"))
            wrong.add(item_id)
    visible = visible_item_ids(checklist, answers)
    result = score(checklist, {k: v for k, v in answers.items() if k not in wrong} if wrong else answers)
    scored = result.items
    for item in items_in_order(checklist):
        item_id = item["id"]
        if item_id in wrong or item_id not in visible:
            continue
        if item["type"] in SCORING_TYPES and answers.get(item_id) is None:
            problems.append(SubmissionProblem(item_id, "required"))
            continue
        if item.get("required") and answers.get(item_id) != NOT_APPLICABLE:
            # A free text or a photo the checklist will not do without (the shelf's photo).
            if item["type"] == "photo" and not photos.get(item_id):
                problems.append(SubmissionProblem(item_id, "photo_missing"))
                continue
            if item["type"] == "text" and not str(answers.get(item_id) or "").strip():
                problems.append(SubmissionProblem(item_id, "required"))
                continue
        if len(comments.get(item_id, "")) > MAX_COMMENT_LENGTH or (
            item["type"] == "text" and len(str(answers.get(item_id, ""))) > MAX_TEXT_LENGTH
        ):
            problems.append(SubmissionProblem(item_id, "too_long", allowed=(MAX_COMMENT_LENGTH,)))
        if not (item.get("require_comment_on_fail") or item.get("require_photo_on_fail")):
            continue
        item_score = scored.get(item_id)
        failed = item_score is not None and not item_score.passed
        if failed and item.get("require_comment_on_fail") and not comments.get(item_id, "").strip():
            problems.append(SubmissionProblem(item_id, "comment_required"))
        if failed and item.get("require_photo_on_fail") and not photos.get(item_id):
            problems.append(SubmissionProblem(item_id, "photo_required"))
    return problems, result


def photo_item_ids(checklist):
    """Items that take photos: photo items, and items that need a photo when failed."""
    return [
        item["id"] for item in items_in_order(checklist)
        if item["type"] == "photo" or item.get("require_photo_on_fail")
    ]
