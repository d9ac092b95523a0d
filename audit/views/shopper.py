"""The shopper's own visits: the list, and the checklist form that works with or without JavaScript."""
import secrets
from datetime import timezone

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_datetime, format_number, get_locale
from flask_babel import refresh as refresh_locale
from flask_login import current_user
from markupsafe import Markup

from .. import media, operations
from ..access import role_required
from ..answers import (MAX_COMMENT_LENGTH, SubmissionProblem, answers_from_form, applicable_only, check_submission,
                       items_in_order, photo_item_ids)
from ..i18n import current_language, localized
from ..i18n import gettext as _
from ..media import ImageRejected
from ..models import ChecklistVersion, Evidence, Role, User, Visit, VisitEvent, VisitState
from .auth import choose_language

bp = Blueprint("shopper", __name__, url_prefix="/visits")


def submission_message(problem, item=None):
    """A SubmissionProblem as a sentence in the shopper's language; given its checklist item, a missing
    answer says "not applicable" only where the question offers it."""
    code, allowed = problem.code, problem.allowed
    if code == "required":
        if item is not None and not item.get("na"):
            # Told to choose "not applicable" beside a question without it, the shopper looked for it.
            return _("Answer this question.")
        return _("Answer this question (or choose “not applicable” where offered).")
    if code == "comment_required":
        return _("Say in a comment what went wrong.")
    if code == "photo_required":
        return _("Add a photo that shows what went wrong.")
    if code == "photo_missing":
        return _("Add a photo: this question needs one.")
    if code == "na_not_allowed":
        return _("“Not applicable” is not offered for this question.")
    if code == "out_of_range":
        return _("Give a whole number from %(low)s to %(high)s.", low=allowed[0], high=allowed[1])
    if code in ("not_a_number", "not_whole"):
        return _("Give a number.")
    if code == "negative":
        return _("The number cannot be negative.")
    if code == "too_large":
        return _("Give a number no larger than %(largest)s.", largest=format_number(allowed[0]))
    if code == "too_long":
        return _("This is too long: at most %(count)d characters.", count=allowed[0])
    if code == "unknown_photo":
        return _("A photo of this answer has not arrived yet; send it again.")
    if code == "unknown_item":
        return _("This question is not in the checklist.")
    if code == "not_photos":
        return _("A photo question is answered with its photos: the list of their ids, as uploaded.")
    return _("Choose one of the offered answers.")


# The codes fill.js may be given (by the sync API, kept in the phone's outbox) whose messages take
# no value but the fixed length limit; see refusal_messages.
_PLAIN_CODES = ("required", "comment_required", "photo_required", "photo_missing", "na_not_allowed", "not_a_number", "not_whole",
                "negative", "too_long", "unknown_photo", "unknown_item", "not_yes_no", "not_an_option", "not_text",
                "not_photos")


def visit_refusal_message(code):
    """A refusal of the whole visit (not of one answer), by the code the sync API gives it."""
    if code == "already_submitted":
        return _("This visit was already sent; it can be changed only if the reviewer returns it.")
    if code == "returned":
        return _("The reviewer returned this visit meanwhile: open it again from your visits to read why, "
                 "then send it again.")
    return _("A photo with this id belongs to another visit.")  # photo_elsewhere


VISIT_REFUSAL_CODES = ("already_submitted", "returned", "photo_elsewhere")


def refusal_messages():
    """{code: message} of every refusal, in the page's language, for fill.js to say a refusal kept on
    the phone in the language the page is in now (not the one it was refused in). Values the message
    names are left as {low}, {high} and {largest}, filled in from the question on the page."""
    messages = {code: submission_message(SubmissionProblem("", code, allowed=(MAX_COMMENT_LENGTH,)))
                for code in _PLAIN_CODES}
    messages["out_of_range"] = _("Give a whole number from %(low)s to %(high)s.", low="{low}", high="{high}")
    messages["too_large"] = _("Give a number no larger than %(largest)s.", largest="{largest}")
    messages.update({code: visit_refusal_message(code) for code in VISIT_REFUSAL_CODES})
    return messages


def own_visit_or_404(visit_uuid):
    """The signed-in shopper's visit; anyone else's looks like a missing page."""
    visit = Visit.by_uuid(visit_uuid, with_region=False)
    if visit is None or visit.shopper_id != current_user.id:
        abort(404)
    return visit


def fill_form_size_limit():
    """Before any hook reads a fill form (the CSRF check does): its size limit. Without JavaScript the
    form carries its photos whole, one per question that takes them: a phone's three 8 MB pictures
    passed the app's limit for a request (MAX_UPLOAD_MB), and the shopper got an error page for what
    was typed with them. Each photo is held to its own limit (PHOTO_MAX_BYTES) when it is stored."""
    if request.endpoint != "shopper.fill" or request.method != "POST":
        return None
    visit = Visit.by_uuid(request.view_args.get("visit_uuid"), with_region=False)
    # Its own shopper's only: anyone else is held to the app's limit (they are refused anyway, after
    # the form has been read).
    if visit is not None and current_user.is_authenticated and visit.shopper_id == current_user.id:
        config = current_app.config
        photo_inputs = len(photo_item_ids(ChecklistVersion.shared_content(visit.checklist_version_id)))
        request.max_content_length = config["MAX_CONTENT_LENGTH"] + photo_inputs * config["PHOTO_MAX_BYTES"]
    return None


def checklist_language(content, *asked):
    """The language to show a checklist in: the first asked one it has, else the shopper's, else its
    source."""
    for language in (*asked, current_language()):
        if language in content["languages"]:
            return language
    return content["languages"][0]


def checklist_title(version_id, language=None):
    """(the checklist's title, its language): in the language its page is shown in. A mystery call and
    a visit to the shop looked alike, in the list and on the page, but for the brief."""
    content = ChecklistVersion.shared_content(version_id)
    language = language or checklist_language(content, current_user.checklist_language)
    return localized(content["title"], language), language


# A chain's shopper sends hundreds of visits over the years (760 in five years of the scale demo):
# listed whole, the page grew to 470 KB, on the phone and in its offline copy. Open visits are all
# listed; of the sent ones, the latest.
SENT_LISTED = 20


@bp.route("/")
@role_required(Role.SHOPPER)
def visits():
    # What is due first comes first: listed newest window first, the visit due in a week sat below
    # one due in a fortnight.
    open_visits = list(Visit.of_shopper(current_user).where(
        Visit.state.in_((VisitState.RETURNED.value, VisitState.ASSIGNED.value, VisitState.DRAFT.value))).order_by(
        Visit.planned_to, Visit.planned_from, Visit.id))
    sent_query = Visit.of_shopper(current_user).where(
        Visit.state.in_((VisitState.SUBMITTED.value, VisitState.APPROVED.value)))
    sent = list(sent_query.limit(SENT_LISTED))
    returned = [v for v in open_visits if v.state == VisitState.RETURNED.value]
    todo = [v for v in open_visits if v.state != VisitState.RETURNED.value]
    # (key, heading, visits listed, how many there are)
    groups = [
        ("returned", _("Returned to you"), returned, len(returned)),
        ("todo", _("To do"), todo, len(todo)),
        ("done", _("Sent"), sent, sent_query.count() if len(sent) == SENT_LISTED else len(sent)),
    ]
    titles = {version_id: checklist_title(version_id)
              for version_id in {visit.checklist_version_id for visit in open_visits + sent}}
    return render_template("shopper/visits.html", groups=groups, returned_at=_returned_at(returned),
                           checklist_titles=titles)


def _returned_at(visits):
    """{visit id: when it was last returned, in ms since 1970 as the phone counts}. The phone still
    remembers having sent such a visit: a send before that moment no longer counts as "Sent"."""
    returned = VisitEvent.returned_at([v.id for v in visits if v.state == VisitState.RETURNED.value])
    return {visit_id: int(at.replace(tzinfo=timezone.utc).timestamp() * 1000) for visit_id, at in returned.items()}


def _store_form_photos(visit, photos):
    """Photos chosen in the plain form, stored at once so that nothing is lost."""
    errors = {}
    config = current_app.config
    for item_id in photo_item_ids(visit.checklist_version.content):
        for upload in request.files.getlist(f"photo-{item_id}"):
            if not upload or not upload.filename:
                continue
            try:
                evidence, _created = operations.add_photo(
                    visit, "form-" + secrets.token_hex(12), item_id, upload.read(),
                    config["MEDIA_DIR"], config["PHOTO_MAX_BYTES"], config["PHOTO_MAX_PIXELS"],
                )
            except ImageRejected as rejected:
                errors[item_id] = str(rejected)
                continue
            except operations.SubmissionRefused as refused:
                if refused.code == "not_yours":
                    abort(404)  # given to another shopper meanwhile: as if it had never been theirs
                if refused.code == "storage_unavailable":
                    errors[item_id] = _("The server cannot store photos right now. Please try again later.")
                continue  # otherwise sent meanwhile: the submit below reports it
            photos.setdefault(item_id, []).append(evidence.client_id)
    return errors


def _remove_form_photo(visit, client_id):
    """The photo whose Remove button sent the plain form, taken out of the visit; the question it
    answered, or None (no button pressed, or removed already: the page shows what is left)."""
    if not client_id:
        return None
    try:
        return operations.remove_photo(visit, client_id, current_app.config["MEDIA_DIR"])
    except operations.SubmissionRefused as refused:
        if refused.code == "not_yours":
            abort(404)
        return None  # sent meanwhile: the draft's saving below says so


def _sent_time(moment):
    """A sending time as <time>: written in the organisation's time zone, with the instant in UTC for
    the phone to write in its own (fill.js), as it writes the time it sent the visit."""
    return Markup('<time datetime="{}Z">{}</time>').format(moment.replace(microsecond=0).isoformat(),
                                                            format_datetime(moment, "short"))


@bp.route("/<visit_uuid>/fill", methods=["GET", "POST"])
@role_required(Role.SHOPPER)
def fill(visit_uuid):
    visit = own_visit_or_404(visit_uuid)
    content = ChecklistVersion.shared_content(visit.checklist_version_id)
    shown_in = checklist_language(content, request.args.get("lang"), current_user.checklist_language)
    action = request.form.get("action") if request.method == "POST" else None
    # The fill form carries the checklist language pick (fill.html): without JavaScript, changing the
    # language sends the form, so that what was typed is saved first.
    language = checklist_language(content, request.form.get("lang"), shown_in) \
        if request.method == "POST" else shown_in
    page_lang = language  # the checklist language the page comes back in (none: it follows the shopper's)
    changed_language = False
    if action == "language":
        # Without JavaScript the top bar's language change sends this form too (base.html): what was
        # typed is saved below as Save saves it, and the page comes back in the new language. Its
        # checklist stays in the one it was asked in, if any, as after the top bar's own form; or in the
        # one picked beside it.
        picked = request.form.get("lang")
        page_lang = picked if picked in content["languages"] and picked != shown_in else request.args.get("lang")
        before = current_language()
        _change_language(request.form.get("language"))
        changed_language = current_language() != before
        language = checklist_language(content, page_lang, current_user.checklist_language)
    if request.method == "GET" and not visit.is_open_for_shopper:
        # Sent: nothing left to fill in. Still a page (200) for the service worker and the list.
        return render_template("shopper/sent.html", visit=visit, sent_time=_sent_time,
                               checklist_title=checklist_title(visit.checklist_version_id))
    draft = visit.draft or {}
    answers, comments = draft.get("answers", {}), draft.get("comments", {})
    errors = {}
    unanswered = set()  # questions whose only problem is a missing answer: their comment boxes stay shut
    if visit.state == VisitState.RETURNED.value and not draft:
        # The shopper's own answers, not the reviewer's corrections: sent again, a correction would
        # have become the shopper's answer, its reason and the first answer gone.
        answers = {a.item_id: a.original_value if a.correction_reason else a.value for a in visit.answers}
        comments = {a.item_id: a.comment for a in visit.answers if a.comment}
    if request.method == "POST":
        if not visit.is_open_for_shopper:
            # A Send tapped twice: the first went, and the list thanks for it; the same sending again
            # is no mistake to report beside that.
            if not (request.form.get("action") == "submit" and operations.is_its_last_sending(
                    visit, *applicable_only(content, *answers_from_form(content, request.form)),
                    Evidence.client_ids_by_item(visit.id))):
                flash(_("This visit was already sent."), "error")
            return redirect(url_for("shopper.visits"))
        if action == "lang" and request.form.get("lang") == language:
            _remember_checklist_language(language)
        answers, comments = answers_from_form(content, request.form)
        removed_from = _remove_form_photo(visit, request.form.get("remove_photo"))
        photos = Evidence.client_ids_by_item(visit.id)
        errors = _store_form_photos(visit, photos)
        # Whatever happens next, what was typed is kept (a language picked before anything was given
        # starts nothing: the visit's start is when the shopper first answers).
        saving = action not in ("lang", "language") or bool(answers or comments or photos or visit.draft)
        if saving:
            try:
                operations.save_visit_draft(visit, answers, comments, photos)
            except operations.SubmissionRefused as refused:
                if refused.code == "not_yours":
                    abort(404)
                flash(_("This visit was already sent."), "error")
                return redirect(url_for("shopper.visits"))
        if action == "submit":
            problems = ()
            sent_answers, sent_comments = applicable_only(content, answers, comments)
            if errors:
                # A photo was refused: nothing is sent, but every other problem is named at once too.
                problems, _result = check_submission(content, sent_answers, sent_comments, photos)
            else:
                try:
                    operations.submit_visit(visit, sent_answers, sent_comments, photos,
                                            media_dir=current_app.config["MEDIA_DIR"])
                except operations.SubmissionRefused as refused:
                    if refused.code == "not_yours":
                        abort(404)
                    if refused.status == 409:
                        flash(_("This visit was already sent."), "error")
                        return redirect(url_for("shopper.visits"))
                    problems = refused.problems
                else:
                    flash(_("Thank you: the visit was sent."), "success")
                    return redirect(url_for("shopper.visits"))
            items = {item["id"]: item for item in items_in_order(content)}
            for problem in problems:
                if problem.code == "required":
                    unanswered.add(problem.item_id)
                message = submission_message(problem, items.get(problem.item_id))
                known = errors.get(problem.item_id)
                errors[problem.item_id] = f"{known} {message}" if known else message
        if errors:
            flash(_("Some answers need your attention; they are marked below. Nothing you entered was lost."), "error")
        elif removed_from is not None:
            flash(_("The photo was removed. Your answers are saved."), "success")
            # Back at the question, which says so too: the message at the top of the page was out of sight.
            return redirect(url_for("shopper.fill", visit_uuid=visit.uuid, lang=language, removed=removed_from,
                                    _anchor=f"q-{removed_from}"))
        else:
            # Enter in a field presses the form's first button, the top bar's language change (before it
            # was there, the checklist language's): with the language as it was, that is a save.
            if saving and not changed_language and (action != "lang" or language == shown_in):
                flash(_("Saved. You can finish it later."), "success")
            return redirect(url_for("shopper.fill", visit_uuid=visit.uuid, lang=page_lang))
    photos = Evidence.client_ids_by_item(visit.id)
    removed = request.args.get("removed") if request.method == "GET" else None
    photo_notes = {removed: _("Photo removed.")} if removed and removed in photo_item_ids(content) else None
    if answers or comments or errors or photos or photo_notes:
        items_html = render_template(
            "shopper/_fill_items.html", content=content, language=language, answers=answers, comments=comments,
            errors=errors, unanswered=unanswered, photos=photos, photo_items=set(photo_item_ids(content)),
            photo_notes=photo_notes,
            photo_url=lambda client_id: url_for("shopper.photo", visit_uuid=visit.uuid, client_id=client_id),
        )
    else:
        items_html = _blank_items_html(content, language)
    return render_template("shopper/fill.html", visit=visit, content=content, language=language,
                           checklist_title=checklist_title(visit.checklist_version_id, language),
                           items_html=Markup(items_html), returned_at=_returned_at([visit]),
                           refusal_messages=refusal_messages)


def _change_language(language):
    """The top bar's language pick, sent with the fill form: the shopper's language from now on, this
    response's too."""
    if language not in current_app.config["LANGUAGES"]:
        flash(_("Choose one of the offered languages."), "error")
        return
    choose_language(language)
    refresh_locale()  # the messages and the page below are in it already


def _remember_checklist_language(language):
    """The shopper's pick of a checklist language, for every visit they open from now on (on any
    phone): picked on one visit, the next opened in the other language again."""
    if current_user.checklist_language != language:
        User.update(checklist_language=language).where(User.id == current_user.id).execute()
        current_user.checklist_language = language


@bp.route("/checklist-language", methods=["POST"])
@role_required(Role.SHOPPER)
def pick_checklist_language():
    """The fill page's script tells its language pick before showing the page in it (fill.js)."""
    language = request.form.get("language")
    if language not in current_app.config["LANGUAGES"]:
        return jsonify({"error": {"code": "invalid", "message": _("Choose one of the offered languages.")}}), 400
    _remember_checklist_language(language)
    return "", 204


# A blank form is the same for every visit of a checklist version, in a checklist language and a UI
# language, and most fill pages are blank (answers live on the phone until sent): rendered once, it
# no longer costs three quarters of the page. Keyed by the shared content object (see
# ChecklistVersion.shared_content), which the entry keeps alive so its id cannot be reused.
_BLANK_FORMS = {}
_BLANK_FORMS_SIZE = 64


def _blank_items_html(content, language):
    key = (id(content), language, str(get_locale()))
    entry = _BLANK_FORMS.get(key)
    if entry is not None and entry[0] is content:
        return entry[1]
    html = render_template("shopper/_fill_items.html", content=content, language=language, answers={},
                           comments={}, errors={}, unanswered=set(), photos={}, photo_items=set(photo_item_ids(content)),
                           photo_notes=None,
                           photo_url=None)
    while len(_BLANK_FORMS) >= _BLANK_FORMS_SIZE:
        _BLANK_FORMS.pop(next(iter(_BLANK_FORMS)), None)
    _BLANK_FORMS[key] = (content, html)
    return html


@bp.route("/<visit_uuid>/photos/<client_id>")
@role_required(Role.SHOPPER)
def photo(visit_uuid, client_id):
    visit = own_visit_or_404(visit_uuid)
    evidence = Evidence.get_or_none((Evidence.visit == visit) & (Evidence.client_id == client_id))
    if evidence is None:
        abort(404)
    return media.send_photo(current_app.config["MEDIA_DIR"], evidence.file_name)
