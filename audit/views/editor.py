"""Auditors write, translate, version and publish checklists in the browser."""
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice as Choice

from .. import auditlog, operations
from ..access import role_required
from ..db import record_id
from ..checklist import EMPTY_SECTION, MISSING_TRANSLATION, NO_SECTIONS, ChecklistError, dump_checklist_yaml, load_checklist_bytes
from ..checklist import editing
from ..checklist.diff import diff_checklists, kind_label
from ..checklist.xlsx import export_texts_xlsx, import_texts_xlsx, translatable_texts
from ..config import LANGUAGES
from ..editor_forms import (
    MAX_OPTIONS_EXTRA,
    NEW_ITEM_ROWS,
    AddLanguageForm,
    ChecklistClientForm,
    ConfirmForm,
    ImportForm,
    NewChecklistForm,
    TextsImportForm,
    dimension_tags_in_use,
    undeclared_dimensions,
    fill_item_form,
    fill_settings_form,
    fill_texts,
    item_form_class,
    item_from_form,
    section_form_class,
    settings_form_class,
    settings_from_form,
    texts_from,
    _number,
)
from ..i18n import LANGUAGE_NAMES, answer_label, current_language, localized
from ..i18n import gettext as _
from ..i18n import ngettext
from ..models import Checklist, ChecklistVersion, Role

bp = Blueprint("editor", __name__, url_prefix="/checklists")

MAX_IMPORT_BYTES = 2 * 1024 * 1024


@bp.before_request
@role_required(Role.AUDITOR)
def _auditors_only():
    """Checklists are written by auditors only."""


def _checklist_or_404(slug):
    checklist = Checklist.get_or_none(Checklist.slug == slug)
    if checklist is None or not checklist.history().exists():
        abort(404)
    return checklist


def _version_or_404(slug, number):
    version = ChecklistVersion.find(slug, number)
    if version is None:
        abort(404)
    return version


def _draft_or_404(slug):
    draft = _checklist_or_404(slug).draft()
    if draft is None:
        if request.method == "POST":
            # Sent from a page of a draft published or discarded since (another tab, another auditor).
            flash(_say(operations.DraftError("gone")), "error")
            abort(redirect(url_for("editor.history", slug=slug)))
        abort(404)
    return draft


EDIT_MESSAGES = {
    "unknown_section": lambda d: _("This checklist has no section “%(section)s”.", **d),
    "unknown_item": lambda d: _("This checklist has no item “%(item)s”.", **d),
    "cannot_move": lambda d: _("It cannot move further that way."),
    "last_section": lambda d: _("A checklist needs at least one section."),
    "condition_on_deleted": lambda d: _("“%(question)s” is shown only after an answer to “%(on)s”: change or remove "
                                        "that condition first.", question=localized(d["question"]),
                                        on=localized(d["on"])),
    "condition_before": lambda d: _("“%(question)s” is shown only after an answer to “%(on)s”, so it cannot come "
                                    "before it: change or remove that condition first.",
                                    question=localized(d["question"]), on=localized(d["on"])),
    "condition_on_type": lambda d: _("“%(question)s” is shown only after an answer to “%(on)s”, and only a yes / no or "
                                     "single choice question can show another: keep “%(on)s” one of these, or change "
                                     "or remove the condition of “%(question)s” first.",
                                     question=localized(d["question"]), on=localized(d["on"])),
    "condition_answer_gone": lambda d: _("“%(question)s” is shown only after the answer “%(answer)s” to “%(on)s”, "
                                         "which it would no longer have: keep that answer, or change or remove the "
                                         "condition of “%(question)s” first.", question=localized(d["question"]),
                                         on=localized(d["on"]["text"]), answer=answer_label(d["on"], d["answer"], None)),
    "condition_answer_unknown": lambda d: _("“%(on)s” has no answer “%(answer)s”: write one of its answers, %(answers)s.",
                                            on=localized(d["on"]["text"]), answer=d["answer"],
                                            answers=_answers_to_write(d["on"])),
    "draft_exists": lambda d: _("This checklist already has a draft; edit that one."),
    "published_is_frozen": lambda d: _("A published version cannot be changed."),
    "unchanged": lambda d: _("Nothing changed since version %(number)d, so there is nothing to publish.", **d),
    "incomplete": lambda d: _("The draft cannot be published yet: see the problems listed."),
    "changed_meanwhile": lambda d: _("This part of the draft was changed meanwhile (in another tab, or by another "
                                     "auditor); here it is as it is now. Make your change again."),
    "gone": lambda d: _("This draft was published or discarded meanwhile; nothing was changed."),
}


def _answers_to_write(item):
    """A condition's answers as the form takes them, each with its label: "proactive (Unasked), none (Nothing)"."""
    return ", ".join(f"{value} ({answer_label(item, value, None)})" for value in editing.possible_answers(item))


def _say(error):
    return EDIT_MESSAGES[error.code](error.details)


def _apply(draft, change):
    """Run an editing change on the draft as stored now and store it; returns None when stored, else
    the problems it would cause (nothing stored then). A page older than a change to what it edits
    is shown again as it is now; a draft published or discarded meanwhile, its history."""
    try:
        operations.edit_draft(draft.id, change)
    except editing.EditError as error:
        flash(_say(error), "error")
        if error.code == "changed_meanwhile":
            abort(redirect(request.url))
        return []
    except operations.DraftError as error:
        flash(_say(error), "error")
        abort(redirect(url_for("editor.history", slug=draft.checklist.slug)))
    except ChecklistError as error:
        return error.problems
    # Which section or item, where the page names it (a new item's id is in its form, not its address).
    named = {key: value for key, value in request.view_args.items() if key in ("section_id", "item_id")}
    auditlog.record("checklist.edited", f"{draft.checklist.slug} v{draft.number}", endpoint=request.endpoint, **named)
    return None


def _as_seen(part_of, seen, change):
    """`change`, made only to a draft whose part that the page edits, part_of(content), is still as
    the page showed it (its fingerprint `seen`; see editing.as_seen)."""
    def change_as_seen(content):
        editing.as_seen(part_of(content), seen)
        return change(content)
    return change_as_seen


@bp.route("/")
def index():
    checklists = [(c, c.latest_published(), c.draft()) for c in Checklist.ordered()]
    # One left without any version (a discarded first draft, before discarding took it away) is no one's.
    checklists = [row for row in checklists if row[1] or row[2]]
    return render_template("editor/index.html", checklists=checklists, form=ImportForm())


@bp.route("/new", methods=["GET", "POST"])
def new_checklist():
    """A checklist begun in the browser: a draft with its id, languages and title, and no section yet
    (the draft page says what it still needs; its sections and items are added there)."""
    form = NewChecklistForm()
    if form.validate_on_submit():
        content = {"id": form.checklist_id.data, "languages": form.languages(),
                   "title": {form.source.data: form.title.data.strip()}, "sections": []}
        version, _replaced = operations.import_draft(content)
        auditlog.record("checklist.created", form.checklist_id.data)
        flash(_("The checklist was begun as a draft: add its sections and questions."), "success")
        return redirect(url_for("editor.draft", slug=version.checklist.slug))
    return render_template("editor/new.html", form=form)


@bp.route("/import", methods=["POST"])
def import_file():
    form = ImportForm()
    problems = []
    if form.validate_on_submit():
        raw = form.file.data.read(MAX_IMPORT_BYTES + 1)
        name = form.file.data.filename or "upload.yaml"
        if len(raw) > MAX_IMPORT_BYTES:
            form.file.errors.append(_("The file is larger than 2 MB."))
        else:
            try:
                # A draft's file: what it still lacks (a translation, a section) is listed on the draft's
                # page, as for a draft begun here; a draft exported and imported again was refused.
                data = load_checklist_bytes(raw, name, complete=False)
            except ChecklistError as error:
                problems = error.problems
            else:
                version, replaced = operations.import_draft(data)
                auditlog.record("checklist.imported", f"{data['id']} v{version.number}", file=name)
                flash(_("The file replaced the draft.") if replaced else _("The file was imported as a draft."), "success")
                return redirect(url_for("editor.draft", slug=version.checklist.slug))
    checklists = [(c, c.latest_published(), c.draft()) for c in Checklist.ordered()]
    return render_template("editor/index.html", checklists=checklists, form=form, problems=problems,
                           file_name=form.file.data.filename if problems else None), 400


@bp.route("/<slug>/")
def history(slug):
    checklist = _checklist_or_404(slug)
    versions = list(checklist.history())
    changes = {}
    for newer, older in zip(versions, versions[1:]):
        changes[newer.number] = diff_checklists(older.content, newer.content)
    return render_template(
        "editor/history.html", checklist=checklist, versions=versions, changes=changes, kind_label=kind_label,
        draft=checklist.draft(), form=ConfirmForm(), client_form=ChecklistClientForm(brand=checklist.brand_id or 0),
    )


@bp.route("/<slug>/client", methods=["POST"])
def client(slug):
    """The client the checklist is for: visits are then assigned with it at that client's branches only."""
    checklist = _checklist_or_404(slug)
    form = ChecklistClientForm()
    if form.validate_on_submit():
        operations.set_checklist_client(checklist, form.brand.data or None)
        if checklist.brand_id:
            auditlog.record("checklist.client", checklist.slug, client=checklist.brand.name)
        else:
            auditlog.record("checklist.any_client", checklist.slug)
        flash(_("The checklist’s client is saved."), "success")
        elsewhere = operations.open_visits_at_other_clients(checklist)
        if elsewhere:
            flash(ngettext("%(num)d visit not yet sent uses this checklist at another client’s branch: withdraw it "
                           "and assign it again with the right checklist.",
                           "%(num)d visits not yet sent use this checklist at other clients’ branches: withdraw "
                           "them and assign them again with the right checklist.", elsewhere), "error")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    return redirect(url_for("editor.history", slug=checklist.slug))


@bp.route("/<slug>/draft/start", methods=["POST"])
def start_draft(slug):
    checklist = _checklist_or_404(slug)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    number = request.args.get("from", type=record_id)
    source = _version_or_404(slug, number) if number else checklist.latest_published()
    if source is None:
        abort(404)
    try:
        draft = operations.start_draft(checklist, source)
        auditlog.record("checklist.draft_started", f"{slug} v{draft.number}", source=source.number)
    except operations.DraftError as error:
        flash(_say(error), "error")
    return redirect(url_for("editor.draft", slug=slug))


@bp.route("/<slug>/v<int:number>.yaml")
def export_yaml(slug, number):
    version = _version_or_404(slug, number)
    return Response(
        dump_checklist_yaml(version.content), mimetype="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{slug}-v{number}.yaml"'},
    )


@bp.route("/<slug>/v<int:number>.xlsx")
def export_xlsx(slug, number):
    version = _version_or_404(slug, number)
    return Response(
        export_texts_xlsx(version.content),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{slug}-v{number}-texts.xlsx"'},
    )


@bp.route("/<slug>/v<int:number>/preview")
def preview(slug, number):
    version = _version_or_404(slug, number)
    language = request.args.get("lang") or current_language()
    if language not in LANGUAGES:
        abort(404)
    # Only the checklist's languages, as the shopper is offered them: another showed the source
    # language throughout, marked "not yet translated", which no shopper ever sees.
    if language not in version.content["languages"]:
        language = version.content["languages"][0]
    with force_locale(language):
        checklist_html = Markup(render_template("editor/_preview_checklist.html", content=version.content,
                                                language=language))
    return render_template("editor/preview.html", version=version, content=version.content, language=language,
                           checklist_html=checklist_html)


def _still_empty(content):
    """What a draft still needs before it has anything to fill in, as the editor's pages say it."""
    if not content.get("sections"):
        return [_("Add a section, then its questions: a checklist needs at least one of each.")]
    return [_("Add a question to the section “%(section)s”: a section without one cannot be published.",
              section=localized(section.get("title") or {}) or section.get("id"))
            for section in content["sections"] if not section.get("items")]


@bp.route("/<slug>/draft")
def draft(slug):
    version = _draft_or_404(slug)
    content = version.content
    problems = editing.check_complete(content)
    missing = editing.missing_translations(content)
    published = version.checklist.latest_published()
    # Missing translations are listed by text; what is still empty in the editor's words (the file
    # checker's "sections must be a non-empty list of sections" meant nothing to an auditor who had
    # just begun a checklist in the browser); the rest of the problems as the validator says them.
    other = [p for p in problems if p.kind not in (EMPTY_SECTION, NO_SECTIONS)
             and (p.kind != MISSING_TRANSLATION or not missing)]
    to_add = _still_empty(content) if any(p.kind in (EMPTY_SECTION, NO_SECTIONS) for p in problems) else []
    return render_template(
        "editor/draft.html", version=version, content=content, coverage=editing.coverage(content),
        missing=missing, problems=problems, other=other, to_add=to_add, form=ConfirmForm(),
        texts_form=TextsImportForm(),
        # Each missing text beside its key, in the source language: "item:q3:help" alone said which only
        # to whoever knew the ids.
        sources={text.key: localized(text.texts, content["languages"][0]) for text in translatable_texts(content)},
        published=published, to_check=editing.translations_to_check(content, published.content if published else None),
        language_form=AddLanguageForm(languages=content["languages"]),
    )


NEW_BAND_ROWS = 4  # the shipped checklists have four bands


@bp.route("/<slug>/draft/settings", methods=["GET", "POST"])
def settings(slug):
    version = _draft_or_404(slug)
    content = version.content
    languages = content["languages"]
    # A row for every dimension declared or carried by an item (free while none is declared), and two
    # more: with three tags in use and two empty rows, declaring them could never pass ("not declared").
    dimensions = len(set(content.get("dimensions", {})) | set(dimension_tags_in_use(content)))
    # A band row more than it has, and at least NEW_BAND_ROWS: a checklist begun in the browser has none,
    # and its one empty row made the usual three or four bands take as many saves.
    form = settings_form_class(languages, max(len(content.get("bands", [])) + 1, NEW_BAND_ROWS), dimensions + 2)()
    problems = None
    if form.validate_on_submit():
        values = settings_from_form(form, languages)
        problems = _apply(version, _as_seen(editing.settings_part, form.seen.data,
                                            lambda c: editing.save_settings(c, *values)))
        if problems is None:
            flash(_("Settings saved."), "success")
            return redirect(url_for("editor.draft", slug=slug))
    elif not form.is_submitted():
        fill_settings_form(form, content)
        form.seen.data = editing.fingerprint(editing.settings_part(content))
    return render_template("editor/settings.html", version=version, form=form, problems=problems,
                           undeclared=undeclared_dimensions(content))


@bp.route("/<slug>/draft/sections/new", methods=["GET", "POST"])
@bp.route("/<slug>/draft/sections/<section_id>", methods=["GET", "POST"])
def section(slug, section_id=None):
    version = _draft_or_404(slug)
    content = version.content
    languages = content["languages"]
    existing = content["sections"][_index_or_404(content, section_id)] if section_id else None
    form = section_form_class(languages)()
    problems = None
    if form.validate_on_submit():
        if form.section_id.data != section_id and form.section_id.data in editing.all_ids(content):
            form.section_id.errors.append(_("Another section or item already has this id."))
        else:
            fields = {"id": form.section_id.data, "title": texts_from(form, "title", languages),
                      "weight": _number(form.weight.data)}
            save = lambda c: editing.save_section(c, section_id, fields)  # noqa: E731
            problems = _apply(version, _as_seen(lambda c: editing.section_part(c, section_id), form.seen.data, save)
                              if section_id else save)
            if problems is None:
                flash(_("Section saved."), "success")
                return redirect(url_for("editor.draft", slug=slug) + f"#section-{fields['id']}")
    elif not form.is_submitted() and existing:
        form.seen.data = editing.fingerprint(editing.section_part(content, section_id))
        form.section_id.data = existing["id"]
        fill_texts(form, "title", existing["title"])
        form.weight.data = existing.get("weight")
    return render_template("editor/section.html", version=version, form=form, section=existing, problems=problems)


def _index_or_404(content, section_id):
    try:
        return editing.section_index(content, section_id)
    except editing.EditError:
        abort(404)


def _show_if_choices(content, item_id, section_id):
    # The questions in the reader's language where the checklist has it, like the rest of the page.
    language = current_language() if current_language() in content["languages"] else content["languages"][0]
    earlier = editing.items_before(content, item_id=item_id, section_id=section_id)
    return [Choice("", "—")] + [
        Choice(item["id"], f"{item['id']} · {localized(item['text'], language)}")
        for item in earlier if item["type"] in ("yesno", "choice")
    ]


def _dimension_tags(content):
    return [(tag, localized(labels)) for tag, labels in content.get("dimensions", {}).items()]


@bp.route("/<slug>/draft/sections/<section_id>/items/new", methods=["GET", "POST"])
@bp.route("/<slug>/draft/items/<item_id>", methods=["GET", "POST"])
def item(slug, section_id=None, item_id=None):
    version = _draft_or_404(slug)
    content = version.content
    languages = content["languages"]
    if item_id:
        try:
            existing = editing.find_item(content, item_id)
        except editing.EditError:
            if request.method == "POST":
                # Its change sent from a page read before the question was deleted (another tab,
                # another auditor): said so, not "this page does not exist".
                flash(_("This question was deleted meanwhile (in another tab, or by another auditor); "
                        "nothing was saved."), "error")
                return redirect(url_for("editor.draft", slug=slug))
            abort(404)
    else:
        _index_or_404(content, section_id)
        existing = None
    rows = lambda key: max(len((existing or {}).get(key, [])) + MAX_OPTIONS_EXTRA, NEW_ITEM_ROWS)  # noqa: E731
    form = item_form_class(languages, rows("options"), rows("thresholds"), _dimension_tags(content),
                           (existing or {}).get("unit"))()
    form.show_if_item.choices = _show_if_choices(content, item_id, section_id)
    problems = None
    if form.validate_on_submit():
        if form.item_id.data != item_id and form.item_id.data in editing.all_ids(content):
            form.item_id.errors.append(_("Another section or item already has this id."))
        else:
            new_item = item_from_form(form, languages)
            save = lambda c: editing.save_item(c, section_id, item_id, new_item)  # noqa: E731
            problems = _apply(version, _as_seen(lambda c: editing.find_item(c, item_id), form.seen.data, save)
                              if item_id else save)
            if problems is None:
                flash(_("Item saved."), "success")
                return redirect(url_for("editor.draft", slug=slug) + f"#item-{new_item['id']}")
    elif not form.is_submitted() and existing:
        fill_item_form(form, existing)
        form.seen.data = editing.fingerprint(existing)
    return render_template(
        "editor/item.html", version=version, form=form, item=existing, section_id=section_id,
        problems=problems, languages=languages,
    )


def _move_or_delete(slug, change, success, ask=None):
    """`ask(version, form)`: for a deletion, the page that asks first (None once confirmed, or when
    there is nothing left to ask about)."""
    version = _draft_or_404(slug)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if ask is not None and form.confirmed.data != "yes" and (asking := ask(version, form)) is not None:
        return asking
    problems = _apply(version, change)
    if problems:
        flash(_("That change would make the checklist invalid:") + " " + "; ".join(p.message for p in problems), "error")
    elif problems is None:
        flash(success, "success")
    return redirect(url_for("editor.draft", slug=slug))


def _step():
    return -1 if request.form.get("direction") == "up" else 1


@bp.route("/<slug>/draft/sections/<section_id>/move", methods=["POST"])
def move_section(slug, section_id):
    step = _step()
    return _move_or_delete(slug, lambda c: editing.move_section(c, section_id, step), _("Section moved."))


def _ask_first(version, form, question, consequences, button, back):
    """The page that asks before a deletion that nothing can undo: the delete buttons sat beside the
    move buttons, and one slip took a section's questions with their translations in every language."""
    return render_template("editor/confirm.html", version=version, form=form, question=question,
                           consequences=consequences, button=button, action=request.path, back=back)


def _kept_elsewhere(version):
    """What a deletion from the draft leaves: the published versions as they are, or, for a checklist
    never published, nothing (it said "The versions already published keep it." there too)."""
    if version.checklist.latest_published() is None:
        return _("The checklist was never published, so no version keeps it.")
    return _("The published versions stay as they are.")


def _ask_before_deleting_section(section_id):
    def ask(version, form):
        content = version.content
        try:
            section = content["sections"][editing.section_index(content, section_id)]
        except editing.EditError:
            return None  # deleted meanwhile: _apply says so
        count = len(section["items"])
        consequences = [ngettext("Its %(num)d question goes with it, with its texts in every language.",
                                 "Its %(num)d questions go with it, with their texts in every language.", count)
                        if count else _("It has no questions.")]
        return _ask_first(version, form, _("Delete the section “%(section)s”?", section=localized(section["title"])),
                          consequences + [_kept_elsewhere(version)],
                          _("Yes, delete the section"),
                          url_for("editor.draft", slug=version.checklist.slug) + f"#section-{section_id}")
    return ask


def _ask_before_deleting_item(item_id):
    def ask(version, form):
        try:
            item = editing.find_item(version.content, item_id)
        except editing.EditError:
            return None
        return _ask_first(version, form, _("Delete the question “%(question)s”?", question=localized(item["text"])),
                          [_("Its texts in every language go with it."), _kept_elsewhere(version)],
                          _("Yes, delete the question"),
                          url_for("editor.draft", slug=version.checklist.slug) + f"#item-{item_id}")
    return ask


@bp.route("/<slug>/draft/sections/<section_id>/delete", methods=["POST"])
def delete_section(slug, section_id):
    return _move_or_delete(slug, lambda c: editing.delete_section(c, section_id), _("Section deleted."),
                           ask=_ask_before_deleting_section(section_id))


@bp.route("/<slug>/draft/items/<item_id>/move", methods=["POST"])
def move_item(slug, item_id):
    step = _step()
    return _move_or_delete(slug, lambda c: editing.move_item(c, item_id, step), _("Item moved."))


@bp.route("/<slug>/draft/items/<item_id>/delete", methods=["POST"])
def delete_item(slug, item_id):
    return _move_or_delete(slug, lambda c: editing.delete_item(c, item_id), _("Item deleted."),
                           ask=_ask_before_deleting_item(item_id))


@bp.route("/<slug>/draft/languages", methods=["POST"])
def add_language(slug):
    """Another language for the checklist: its texts to translate appear in the draft's list and the
    spreadsheet (before, a file with the new language and none of its texts was refused whole)."""
    version = _draft_or_404(slug)
    form = AddLanguageForm(languages=version.content["languages"])
    if not form.validate_on_submit():
        for error in form.language.errors:
            flash(error, "error")
        return redirect(url_for("editor.draft", slug=slug))
    language = form.language.data

    def with_the_language(content):
        added = content if language in content["languages"] else {  # else added meanwhile, on another page
            **content, "languages": [*content["languages"], language]}
        # A checklist just begun has no section yet, which the check refuses (it names it on the draft's
        # page); its languages are all that changes here, and they come from the menu's list.
        return editing.checked(added) if added["sections"] else added

    problems = _apply(version, with_the_language)
    if problems:
        flash(_("That change would make the checklist invalid:") + " " + "; ".join(p.message for p in problems), "error")
    else:
        flash(_("%(language)s added: its texts are listed below to translate, and have a column in the spreadsheet "
                "for translators.", language=LANGUAGE_NAMES[language]), "success")
    return redirect(url_for("editor.draft", slug=slug))


@bp.route("/<slug>/draft/texts", methods=["POST"])
def import_texts(slug):
    version = _draft_or_404(slug)
    form = TextsImportForm()
    if not form.validate_on_submit():
        for error in form.file.errors:
            flash(error, "error")
        return redirect(url_for("editor.draft", slug=slug))
    raw = form.file.data.read(6 * 1024 * 1024)
    new_content, report = import_texts_xlsx(version.content, raw)
    if report.problems:
        flash(_("The spreadsheet could not be used:") + " "
              # Each problem is a sentence ending in its full stop: "; " between them read "again.; E17:".
              + _listed([f"{cell}: {msg}" if cell else msg for cell, msg in report.problems], " "), "error")
        return redirect(url_for("editor.draft", slug=slug))
    fresh = {}

    def texts_into_the_draft_as_it_is_now(content):
        # The spreadsheet applied to the draft as stored now (not as read above): a section saved
        # meanwhile keeps its change where the spreadsheet's text for it is older.
        fresh["content"], fresh["report"] = import_texts_xlsx(content, raw)
        if fresh["report"].problems:
            raise editing.EditError("changed_meanwhile")
        return editing.checked(fresh["content"])

    problems = _apply(version, texts_into_the_draft_as_it_is_now)
    report = fresh.get("report", report)
    if problems:
        flash(_("That change would make the checklist invalid:") + " " + "; ".join(p.message for p in problems), "error")
        return redirect(url_for("editor.draft", slug=slug))
    flash(ngettext("%(num)d text updated from the spreadsheet.", "%(num)d texts updated from the spreadsheet.",
                   report.changed), "success")
    if report.joined:
        flash(_("These texts are shown on one line, so their line breaks became spaces:") + " "
              + _listed([f"{cell} {key} ({language})" for cell, key, language in report.joined]), "info")
    if report.kept:
        flash(_("These texts were changed in the checklist after the spreadsheet was exported, and in the "
                "spreadsheet too; the checklist's texts were kept:") + " "
              + _listed([f"{cell} {key} ({language})" for cell, key, language in report.kept]), "error")
    if report.unknown_keys:
        flash(_("These rows name nothing in this checklist and were skipped:") + " "
              + _listed([f"{cell} {key}" for cell, key in report.unknown_keys]), "error")
    if report.ignored_columns:
        flash(_("These columns are not a language and were left out:") + " "
              + _listed([f"{cell} {header}" for cell, header in report.ignored_columns]), "info")
    return redirect(url_for("editor.draft", slug=slug))


# A flash message travels in the session cookie, which browsers drop past 4 KB (then nothing at all
# is shown): a long list is cut to its first entries and a count of the rest.
LISTED_IN_A_MESSAGE = 10


def _listed(entries, separator=", "):
    shown = separator.join(entries[:LISTED_IN_A_MESSAGE])
    rest = len(entries) - LISTED_IN_A_MESSAGE
    return shown if rest <= 0 else shown + " " + ngettext("and %(num)d more", "and %(num)d more", rest)


@bp.route("/<slug>/draft/publish", methods=["POST"])
def publish(slug):
    version = _draft_or_404(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        operations.publish_draft(version.id, editing.check_complete)
    except operations.DraftError as error:
        flash(_say(error), "error")
        return redirect(url_for("editor.draft", slug=slug))
    auditlog.record("checklist.published", f"{slug} v{version.number}")
    flash(_("Version %(number)d is published.", number=version.number), "success")
    return redirect(url_for("editor.history", slug=slug))


@bp.route("/<slug>/draft/discard", methods=["POST"])
def discard(slug):
    version = _draft_or_404(slug)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if form.confirmed.data != "yes":
        # Discarding loses every change made in the draft, however long its translation took.
        published = version.checklist.latest_published()
        consequences = [_("Every change made in it is lost.")]
        consequences.append(_("The published versions stay as they are.") if published else
                            _("The checklist was never published: it goes with its draft."))
        return _ask_first(version, form, _("Discard the draft, version %(number)d?", number=version.number),
                          consequences, _("Yes, discard the draft"), url_for("editor.draft", slug=slug))
    checklist_gone = operations.discard_draft(version)
    auditlog.record("checklist.draft_discarded", f"{slug} v{version.number}")
    if checklist_gone:
        flash(_("The draft was discarded; the checklist, never published, is gone with it."), "success")
        return redirect(url_for("editor.index"))
    flash(_("The draft was discarded."), "success")
    return redirect(url_for("editor.history", slug=slug))
