"""Changes the web editor makes to a checklist draft: each returns a new, validated checklist.

A draft may wait for its translators (only the source language is required), so every change is
checked with complete=False; publishing checks the complete checklist.
"""

import copy
import hashlib
import json

from .format import ChecklistError, Problem, load_checklist_data
from .xlsx import translatable_texts


class EditError(ValueError):
    """A change the editor cannot make; `code` says which, for a translated message."""

    def __init__(self, code, **details):
        super().__init__(code)
        self.code = code
        self.details = details


def fingerprint(part):
    """What an editor's page of a part of the draft was made from (settings_part, section_part, an
    item): a change to that part saved since makes the page out of date."""
    text = json.dumps(part, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def settings_part(content):
    return {key: value for key, value in content.items() if key != "sections"}


def section_part(content, section_id):
    """A section as its page shows it: without its items, which other pages edit."""
    return {key: value for key, value in content["sections"][section_index(content, section_id)].items()
            if key != "items"}


def as_seen(part, seen):
    """EditError("changed_meanwhile") unless `part` of the draft as stored now is what the page sent
    from showed (`seen`, its fingerprint): the page saves every field and language of it, and would
    undo what another auditor or tab saved since. A page without a fingerprint (a new section or
    item) has nothing to compare."""
    if seen and fingerprint(part) != seen:
        raise EditError("changed_meanwhile")


def checked(content):
    """Validate and normalise an edited draft; ChecklistError lists what the change broke."""
    return load_checklist_data(content, path=content.get("id", "draft"), complete=False)


def section_index(content, section_id):
    for index, section in enumerate(content["sections"]):
        if section["id"] == section_id:
            return index
    raise EditError("unknown_section", section=section_id)


def item_position(content, item_id):
    """(section index, item index) of an item."""
    for s_index, section in enumerate(content["sections"]):
        for i_index, item in enumerate(section["items"]):
            if item["id"] == item_id:
                return s_index, i_index
    raise EditError("unknown_item", item=item_id)


def find_item(content, item_id):
    s_index, i_index = item_position(content, item_id)
    return content["sections"][s_index]["items"][i_index]


def all_ids(content):
    """Every section and item id of the checklist: ids must be unique across the file."""
    ids = set()
    for section in content["sections"]:
        ids.add(section["id"])
        ids.update(item["id"] for item in section["items"])
    return ids


def items_before(content, item_id=None, section_id=None):
    """Items that come before an item (or before the end of a section, for a new item)."""
    earlier = []
    for section in content["sections"]:
        for item in section["items"]:
            if item["id"] == item_id:
                return earlier
            earlier.append(item)
        if section["id"] == section_id and item_id is None:
            return earlier
    return earlier


def save_settings(content, title, critical_cap, bands, dimensions, on_site=True):
    """New title, critical cap, bands and dimension labels, and whether its visits are made at the
    branch; None or empty removes an optional one."""
    draft = copy.deepcopy(content)
    draft["title"] = title
    if on_site:
        draft.pop("on_site", None)  # the default: a file need not say it
    else:
        draft["on_site"] = False
    for key, value in (("critical_cap", critical_cap), ("bands", bands), ("dimensions", dimensions)):
        if value is None or value == [] or value == {}:
            draft.pop(key, None)
        else:
            draft[key] = value
    return checked(draft)


def save_section(content, section_id, fields):
    """Add a section at the end (section_id None) or change one; `fields` has id, title, weight."""
    draft = copy.deepcopy(content)
    if section_id is None:
        section = {"items": []}
        draft["sections"].append(section)
    else:
        section = draft["sections"][section_index(draft, section_id)]
    section["id"] = fields["id"]
    section["title"] = fields["title"]
    if fields.get("weight") is None:
        section.pop("weight", None)
    else:
        section["weight"] = fields["weight"]
    _rename_references(draft, section_id, fields["id"])
    return checked(draft)


def save_item(content, section_id, item_id, item):
    """Add an item at the end of a section (item_id None) or replace one (its id may change)."""
    draft = copy.deepcopy(content)
    if item_id is None:
        draft["sections"][section_index(draft, section_id)]["items"].append(item)
    else:
        s_index, i_index = item_position(draft, item_id)
        draft["sections"][s_index]["items"][i_index] = item
        _rename_references(draft, item_id, item["id"])
    _refuse_a_condition_without_its_answer(draft, item, find_item(content, item_id) if item_id else None)
    return checked(draft)


CONDITION_TYPES = ("yesno", "choice")


def possible_answers(item):
    """The answers a show_if can wait for on a yesno or choice item."""
    if item["type"] == "yesno":
        return ["yes", "no"]
    return [option["id"] for option in item.get("options", [])]


def _refuse_a_condition_without_its_answer(draft, saved, before):
    """EditError naming, in words, a condition the saved item breaks: another question shown only after
    an answer it no longer gives, its type or options changed ("condition_on_type", "condition_answer_gone"),
    or its own condition waiting for an answer its question does not have ("condition_answer_unknown").
    The validator said "show_if value 'proactive' is not an answer item 'offer' can take", naming ids
    and a file's key to an auditor who had changed a question's type. `before`: the saved item as it
    was (None for a new one), whose answer the message names as the auditor knew it."""
    items = {item["id"]: item for section in draft["sections"] for item in section["items"]}
    for item in items.values():
        condition = item.get("show_if") or {}
        on = items.get(condition.get("item"))
        if on is None or saved["id"] not in (item["id"], on["id"]):
            continue
        if on["type"] not in CONDITION_TYPES:
            raise EditError("condition_on_type", question=item["text"], on=on["text"])
        answers = possible_answers(on)
        missing = [value for value in condition.get("in", []) if value not in answers]
        if not missing:
            continue
        if item is saved:
            raise EditError("condition_answer_unknown", on=on, answer=missing[0])
        raise EditError("condition_answer_gone", question=item["text"], on=before or on, answer=missing[0])


def _rename_references(draft, old_id, new_id):
    # A renamed item stays the one that later show_if conditions point at.
    if old_id is None or old_id == new_id:
        return
    for section in draft["sections"]:
        for item in section["items"]:
            condition = item.get("show_if")
            if condition and condition.get("item") == old_id:
                condition["item"] = new_id


def move_section(content, section_id, step):
    """Move a section up (-1) or down (+1)."""
    draft = copy.deepcopy(content)
    index = section_index(draft, section_id)
    target = index + step
    if not 0 <= target < len(draft["sections"]):
        raise EditError("cannot_move")
    sections = draft["sections"]
    sections[index], sections[target] = sections[target], sections[index]
    _refuse_a_condition_before_its_question(draft)
    return checked(draft)


def move_item(content, item_id, step):
    """Move an item up or down; past the edge of its section it goes to the next section."""
    draft = copy.deepcopy(content)
    s_index, i_index = item_position(draft, item_id)
    sections = draft["sections"]
    items = sections[s_index]["items"]
    target = i_index + step
    if 0 <= target < len(items):
        items[i_index], items[target] = items[target], items[i_index]
    else:
        next_section = s_index + step
        if not 0 <= next_section < len(sections):
            raise EditError("cannot_move")
        item = items.pop(i_index)
        if step < 0:
            sections[next_section]["items"].append(item)
        else:
            sections[next_section]["items"].insert(0, item)
    _refuse_a_condition_before_its_question(draft)
    return checked(draft)


def delete_section(content, section_id):
    draft = copy.deepcopy(content)
    index = section_index(draft, section_id)
    if len(draft["sections"]) == 1:
        raise EditError("last_section")
    removed = draft["sections"].pop(index)["items"]
    _refuse_a_condition_left_on(draft, removed)
    return checked(draft)


def delete_item(content, item_id):
    draft = copy.deepcopy(content)
    s_index, i_index = item_position(draft, item_id)
    removed = draft["sections"][s_index]["items"].pop(i_index)
    _refuse_a_condition_left_on(draft, [removed])
    return checked(draft)


def _refuse_a_condition_before_its_question(draft):
    """EditError("condition_before") naming, in words, a question moved above the one whose answer it
    is shown after (or that one moved below it): the validator's "show_if refers to item 'q1', which
    comes later" named ids and a file's key to an auditor who had pressed an arrow."""
    seen = {}
    for section in draft["sections"]:
        for item in section["items"]:
            target = (item.get("show_if") or {}).get("item")
            if target is not None and target not in seen:
                on = next((other for other_section in draft["sections"] for other in other_section["items"]
                           if other["id"] == target), None)
                if on is not None:
                    raise EditError("condition_before", question=item["text"], on=on["text"])
            seen[item["id"]] = item


def _refuse_a_condition_left_on(draft, removed):
    """EditError("condition_on_deleted") naming a question still shown only after an answer to one of
    the `removed` items, in words: the validator's "show_if refers to unknown item 'q1'" read as if q1
    were missing already, while it was the one being deleted."""
    removed = {item["id"]: item for item in removed}
    for section in draft["sections"]:
        for item in section["items"]:
            target = (item.get("show_if") or {}).get("item")
            if target in removed:
                raise EditError("condition_on_deleted", question=item["text"], on=removed[target]["text"])


def coverage(content):
    """{language: (texts translated, texts in all)} for each language of the checklist."""
    mappings = [text.texts for text in translatable_texts(content)]
    return {
        language: (sum(1 for m in mappings if (m.get(language) or "").strip()), len(mappings))
        for language in content["languages"]
    }


def translations_to_check(content, published):
    """[(text key, source wording, [languages])]: the texts whose wording in the source language changed
    since the published version while these translations stayed as they were. Counted as translated,
    they said the old wording in every other language, and nothing told the translators."""
    if published is None:
        return []
    source = content["languages"][0]
    before = {text.key: text.texts for text in translatable_texts(published)}
    found = []
    for text in translatable_texts(content):
        old = before.get(text.key)
        wording = text.texts.get(source)
        if old is None or not wording or old.get(source) == wording:
            continue
        unchanged = [language for language in content["languages"][1:]
                     if text.texts.get(language) and text.texts.get(language) == old.get(language)]
        if unchanged:
            found.append((text.key, wording, unchanged))
    return found


def missing_translations(content):
    """[(text key, language)] for every text that lacks a translation."""
    return [
        (text.key, language)
        for text in translatable_texts(content)
        for language in content["languages"]
        if not (text.texts.get(language) or "").strip()
    ]


def check_complete(content):
    """Problems that stop a draft from being published (every text in every language, all valid)."""
    try:
        load_checklist_data(content, path=content["id"], complete=True)
    except ChecklistError as error:
        return error.problems
    return []


__all__ = ["ChecklistError", "EditError", "Problem"]
