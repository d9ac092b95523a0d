"""The audit log: one line per change of checklists, reviews, corrections, accounts and the organisation.

An entry stores codes ("visit.approved", {"reason": ...}) so that it reads in any language later;
`action_label` and `detail_lines` turn them into the reader's words.
"""
import datetime
import re
import uuid

from flask_babel import format_date
from flask_login import current_user

from .i18n import ROLE_LABELS, answer_label, decimal_text, gettext, localized
from .i18n import lazy_gettext as _l
from .models import AuditEntry

ACTIONS = {
    "answer.corrected": _l("Answer corrected"),
    "comment.corrected": _l("Comment corrected"),
    "branch.saved": _l("Branch saved"),
    "branches.imported": _l("Branches imported from a file"),
    "brand.saved": _l("Brand saved"),
    "checklist.draft_discarded": _l("Checklist draft discarded"),
    "checklist.draft_started": _l("Checklist draft started"),
    "checklist.edited": _l("Checklist draft edited"),
    "checklist.imported": _l("Checklist file imported"),
    "checklist.created": _l("Checklist begun in the editor"),
    "checklist.published": _l("Checklist version published"),
    "checklist.client": _l("Checklist tied to a client"),
    "checklist.any_client": _l("Checklist made for any client"),
    "region.deleted": _l("Region deleted"),
    "region.saved": _l("Region saved"),
    "user.saved": _l("Account saved"),
    "user.password_link": _l("Link to set a password made"),
    "user.password_set": _l("Password set with a link"),
    "user.password_changed": _l("Password changed by its owner"),
    "users.imported": _l("Accounts imported from a file"),
    "users.invitations_downloaded": _l("Invitation links downloaded"),
    "users.invitation_links": _l("Invitation links shown"),
    "visit.approved": _l("Visit approved"),
    "visit.assigned": _l("Visit assigned"),
    "visit.changed": _l("Visit changed"),
    "visit.withdrawn": _l("Visit withdrawn"),
    "visit.returned": _l("Visit returned to the shopper"),
    "visit.reopened": _l("Approved visit back in the review"),
    "photo.hidden": _l("Photo left out of the managers' reports"),
    "photo.shown": _l("Photo shown in the managers' reports again"),
    "visits.assigned": _l("Visits of a region assigned"),
}

DETAILS = {
    "added": _l("Added"),
    "branch": _l("Branch"),
    "brief": _l("Scenario brief"),
    "comment": _l("Comment"),
    "count": _l("Number"),
    "client": _l("Client"),
    "enabled": _l("Account enabled"),
    "existing": _l("Already had an account"),
    "endpoint": _l("What"),
    "file": _l("File"),
    "item": _l("Question"),
    "item_id": _l("Item id"),
    "photo": _l("Photo"),
    "new": _l("New"),
    "password_changed": _l("Password changed"),
    "reason": _l("Reason"),
    "region": _l("Region"),
    "revisit": _l("Re-visit"),
    "role": _l("Role"),
    "section_id": _l("Section id"),
    "shopper": _l("Shopper"),
    "source": _l("From version"),
    "updated": _l("Updated"),
    "value": _l("New answer"),
    "via": _l("By"),
    "window": _l("Window"),
    "was": _l("Before"),
}


# A checklist edit records the editor's page it was made on: said as what was done there.
EDITOR_CHANGES = {
    "editor.settings": _l("Settings saved."),
    "editor.section": _l("Section saved."),
    "editor.item": _l("Item saved."),
    "editor.move_section": _l("Section moved."),
    "editor.delete_section": _l("Section deleted."),
    "editor.move_item": _l("Item moved."),
    "editor.delete_item": _l("Item deleted."),
    "editor.import_texts": _l("Import translations"),
}
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def record(action, target, **details):
    """Note that the signed-in user did `action` to `target` (e.g. "checklist.published", "retail v3")."""
    actor = current_user.id if current_user and current_user.is_authenticated else None
    record_by(actor, action, target, **details)


def record_by(actor, action, target, **details):
    """record() for an actor who is not the signed-in user (a person using a link to set a password)."""
    AuditEntry.create(actor=actor, action=action, target=str(target)[:200], details=details or None)


def action_label(action):
    """What an entry's action code means, in the reader's language (the code itself when unknown)."""
    return ACTIONS.get(action, action)


def corrected_answers(entries, language):
    """{entry id: {"item": the question, "value": the answer}} of the page's corrections, in words from
    their visit's checklist (its texts in `language` where it has it): stored as the item's id and the
    answer's code ("no_questions"), which the log read out as they were."""
    from .models import ChecklistVersion, Visit

    # A corrected comment names its question too (it read as the item's id).
    corrections = [entry for entry in entries
                   if entry.action in ("answer.corrected", "comment.corrected") and entry.details]
    versions = dict(Visit.select(Visit.uuid, Visit.checklist_version).where(
        Visit.uuid.in_([entry.target for entry in corrections])).tuples()) if corrections else {}
    words = {}
    for entry in corrections:
        version_id = versions.get(_uuid_or_none(entry.target))
        if version_id is None:
            continue
        content = ChecklistVersion.shared_content(version_id)
        item = next((item for section in content["sections"] for item in section["items"]
                     if item["id"] == entry.details.get("item")), None)
        if item is None:
            continue
        shown_in = language if language in content["languages"] else content["languages"][0]
        words[entry.id] = {"item": localized(item["text"], shown_in)}
        if "value" in entry.details:
            words[entry.id]["value"] = answer_label(item, entry.details["value"], shown_in)
    return words


def _uuid_or_none(text):
    try:
        return uuid.UUID(str(text))
    except ValueError:
        return None


def detail_lines(details, yes, no, words=None):
    """[(label, text)] of an entry's details as the reader reads them: labels in their language, texts
    as they were typed (not JSON escapes), true/false as `yes`/`no`; `words` replaces details by what
    they mean (corrected_answers)."""
    lines = []
    for key, value in (details or {}).items():
        if value is None:
            continue  # nothing to say (older entries wrote the shopper of a change that kept them)
        if words and key in words:
            lines.append((str(DETAILS.get(key, key)), str(words[key])))
            continue
        if isinstance(value, bool):
            value = yes if value else no
        elif isinstance(value, (int, float)):  # a count, a version, a corrected number: "1,5" in Hungarian
            value = decimal_text(value, places=3)
        elif key == "role":
            value = ROLE_LABELS.get(value, value)
        elif key == "endpoint":
            value = EDITOR_CHANGES.get(value, value)
        elif key == "value":  # a corrected answer: its stored code, as the review page says it
            value = {"yes": yes, "no": no, "na": gettext("Not applicable")}.get(value, value)
        elif key == "window":  # stored as ISO dates: written the reader's way
            value = ISO_DATE.sub(lambda found: format_date(datetime.date.fromisoformat(found.group()), "medium"), value)
        lines.append((str(DETAILS.get(key, key)), str(value)))
    return lines
