"""What changed between two versions of a checklist, as short lines for the version history.

Both versions are normalised checklists (from `load_checklist_*`). Sections, items, options, bands
and dimensions are matched by id (bands by their min), never by position, so an edit reads as what a
person did: an item dragged to another place is "moved", not removed and added again. Only the items
that left their place are called moved: among the items that stayed, the longest run kept in the
same order counts as unmoved, so inserting one item does not "move" every item after it.

The lines are in the current request's language (English outside a request, so tests and the command
line read English). Only the words are translated: ids, YAML keys such as weight or show_if, values
and item types are passed in as they are written in the file.
"""

from dataclasses import dataclass

from flask_babel import gettext

from .format import ITEM_KEYS

# Compared and stored as they are; kind_label gives the word shown to people.
ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"
MOVED = "moved"

# Fields compared as plain values, in the order they appear in a file.
_ITEM_VALUE_FIELDS = tuple(
    key for key in ITEM_KEYS if key not in ("id", "text", "help", "options", "thresholds", "unit", "show_if")
)
_ITEM_TEXT_FIELDS = ("text", "help", "unit")
# What an item without the key has: "pass_mark 75 → 100", not "→ none" (which read as "cannot fail").
_UNSET_MEANS = {"pass_mark": 100}


@dataclass(frozen=True)
class Change:
    """One difference: kind (added/removed/changed/moved), target ("item greeted") and detail."""

    kind: str
    target: str
    detail: str = ""

    def __str__(self):
        kind = kind_label(self.kind)
        if self.detail:
            # Translators: a change in the version history, e.g. "item greeted changed: weight 1 → 2".
            return gettext("%(target)s %(kind)s: %(detail)s", target=self.target, kind=kind, detail=self.detail)
        # Translators: a change in the version history, e.g. "item door added".
        return gettext("%(target)s %(kind)s", target=self.target, kind=kind)


def kind_label(kind):
    """The kind as a word in the current language ("added"); the same words as the history page's."""
    # Looked up at each call, not at import, so that the word follows the request's language.
    labels = {ADDED: gettext("added"), REMOVED: gettext("removed"), CHANGED: gettext("changed"),
              MOVED: gettext("moved")}
    return labels.get(kind, kind)


# -- describing values -----------------------------------------------------------------------------


def _shown(value):
    """A value as a person would write it in the YAML file: 2 (not 2.0), true; none (translated) if unset."""
    if value is None:
        # Translators: a value that is not set, e.g. "critical_cap 50 → none".
        return gettext("none")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _from_to(name, old, new):
    """'weight 1 → 2': a field (a YAML key, kept as written), its old value and its new one."""
    # Translators: field is a YAML key left in English (weight, max, languages, ...), e.g. "weight 1 → 2"
    # or "option asked points 1 → 2".
    return gettext("%(field)s %(old)s → %(new)s", field=name, old=old, new=new)


def _value_change(name, old, new):
    return None if old == new else _from_to(name, _shown(old), _shown(new))


def _text_change(name, old, new, languages):
    """'text (hu, ro)' naming the languages whose text differs; added/removed when one side has none."""
    if old is None and new is None:
        return None
    if old is None:
        # Translators: field is a YAML key left in English (help, unit, ...), e.g. "help added".
        return gettext("%(field)s added", field=name)
    if new is None:
        # Translators: field is a YAML key left in English (text, help, unit, ...), e.g. "help removed".
        return gettext("%(field)s removed", field=name)
    changed = [language for language in languages if old.get(language) != new.get(language)]
    if not changed:
        return None
    # Translators: a text changed in these languages (codes), e.g. "text (hu, ro)" or "option asked text (en)".
    return gettext("%(field)s (%(languages)s)", field=name, languages=", ".join(changed))


def _common_languages(old, new):
    # A language added to (or dropped from) the checklist is one "languages" change; naming it again
    # on every text would bury the edits that matter.
    return [language for language in new["languages"] if language in old["languages"]]


def _source_text(texts, checklist):
    """The text in the checklist's source (first) language, to name what was added or removed."""
    return texts.get(checklist["languages"][0], "")


def _join(parts):
    return "; ".join(part for part in parts if part)


# -- order -----------------------------------------------------------------------------------------


def _longest_common_order(old_ids, new_ids):
    """The ids of the longest subsequence that old_ids and new_ids share (dynamic programming)."""
    lengths = [[0] * (len(new_ids) + 1) for _ in range(len(old_ids) + 1)]
    for i in range(len(old_ids) - 1, -1, -1):
        for j in range(len(new_ids) - 1, -1, -1):
            if old_ids[i] == new_ids[j]:
                lengths[i][j] = lengths[i + 1][j + 1] + 1
            else:
                lengths[i][j] = max(lengths[i + 1][j], lengths[i][j + 1])
    kept = set()
    i = j = 0
    while i < len(old_ids) and j < len(new_ids):
        if old_ids[i] == new_ids[j]:
            kept.add(old_ids[i])
            i += 1
            j += 1
        elif lengths[i + 1][j] >= lengths[i][j + 1]:
            i += 1
        else:
            j += 1
    return kept


def _moved_ids(old_ids, new_ids):
    """Ids present in both orders that changed place relative to the others."""
    common = set(old_ids) & set(new_ids)
    old_order = [key for key in old_ids if key in common]
    new_order = [key for key in new_ids if key in common]
    return common - _longest_common_order(old_order, new_order)


def _place(ids, key, noun):
    """'now after item x' or 'now first', saying where `key` sits in the new order.

    `noun` (item, section or dimension) picks a whole phrase, so that a translator sees the noun in it.
    """
    index = ids.index(key)
    if index == 0:
        # Translators: where a moved item, section or dimension now is.
        return gettext("now first")
    previous = ids[index - 1]
    if noun == "section":
        return gettext("now after section %(id)s", id=previous)
    if noun == "dimension":
        return gettext("now after dimension %(id)s", id=previous)
    return gettext("now after item %(id)s", id=previous)


# -- checklist level -------------------------------------------------------------------------------


def _checklist_changes(old, new, languages):
    parts = [_value_change("id", old["id"], new["id"])]
    if old["languages"] != new["languages"]:
        parts.append(_from_to("languages", ", ".join(old["languages"]), ", ".join(new["languages"])))
    parts.append(_text_change("title", old["title"], new["title"], languages))
    parts.append(_value_change("critical_cap", old.get("critical_cap"), new.get("critical_cap")))
    parts.append(_value_change("on_site", old.get("on_site", True), new.get("on_site", True)))
    detail = _join(parts)
    # Translators: the checklist as a whole, as in "checklist changed: title (hu)".
    return [Change(CHANGED, gettext("checklist"), detail)] if detail else []


def _band_changes(old, new, languages):
    old_bands = {band["min"]: band for band in old.get("bands") or []}
    new_bands = {band["min"]: band for band in new.get("bands") or []}
    changes = []
    # Bands are kept sorted by min, so they cannot move; a band whose min changed is a new band.
    for low, band in new_bands.items():
        # Translators: a score band named by its lowest score, e.g. "band 80".
        target = gettext("band %(min)s", min=_shown(low))
        if low not in old_bands:
            changes.append(Change(ADDED, target, _source_text(band["label"], new)))
            continue
        detail = _text_change("label", old_bands[low]["label"], band["label"], languages)
        if detail:
            changes.append(Change(CHANGED, target, detail))
    for low, band in old_bands.items():
        if low not in new_bands:
            changes.append(Change(REMOVED, gettext("band %(min)s", min=_shown(low)),
                                  _source_text(band["label"], old)))
    return changes


def _dimension_changes(old, new, languages):
    old_dimensions = old.get("dimensions") or {}
    new_dimensions = new.get("dimensions") or {}
    moved = _moved_ids(list(old_dimensions), list(new_dimensions))
    changes = []
    for tag, labels in new_dimensions.items():
        target = gettext("dimension %(id)s", id=tag)
        if tag not in old_dimensions:
            changes.append(Change(ADDED, target, _source_text(labels, new)))
            continue
        if tag in moved:
            changes.append(Change(MOVED, target, _place(list(new_dimensions), tag, "dimension")))
        detail = _text_change("label", old_dimensions[tag], labels, languages)
        if detail:
            changes.append(Change(CHANGED, target, detail))
    for tag, labels in old_dimensions.items():
        if tag not in new_dimensions:
            changes.append(Change(REMOVED, gettext("dimension %(id)s", id=tag), _source_text(labels, old)))
    return changes


# -- items -----------------------------------------------------------------------------------------


def _option_changes(old_item, new_item, languages):
    old_options = {option["id"]: option for option in old_item.get("options") or []}
    new_options = {option["id"]: option for option in new_item.get("options") or []}
    parts = []
    for option_id, option in new_options.items():
        if option_id not in old_options:
            parts.append(gettext("option %(id)s added", id=option_id))
            continue
        before = old_options[option_id]
        # Translators: field is an option's YAML key left in English (points, text): "option asked points".
        points = gettext("option %(id)s %(field)s", id=option_id, field="points")
        parts.append(_value_change(points, before["points"], option["points"]))
        text = gettext("option %(id)s %(field)s", id=option_id, field="text")
        parts.append(_text_change(text, before["text"], option["text"], languages))
    parts.extend(gettext("option %(id)s removed", id=option_id)
                 for option_id in old_options if option_id not in new_options)
    if _moved_ids(list(old_options), list(new_options)):
        parts.append(gettext("options reordered"))
    return parts


def _thresholds_shown(thresholds):
    if not thresholds:
        return gettext("none")
    # Translators: one threshold step, e.g. "up to 60: 1" (a time or count up to 60 scores 1 point).
    steps = [gettext("up to %(max)s: %(points)s", max=_shown(step["max"]), points=_shown(step["points"]))
             for step in thresholds]
    return ", ".join(steps)


def _show_if_shown(condition):
    if not condition:
        return gettext("none")
    # Translators: a show_if condition, e.g. "offer in proactive, asked": shown when the answer to item
    # offer is one of the options proactive or asked.
    return gettext("%(item)s in %(options)s", item=condition["item"],
                   options=", ".join(str(value) for value in condition["in"]))


def _item_field_changes(old_item, new_item, languages):
    """The detail for an item in both versions: changed values, then texts, options, thresholds, show_if."""
    parts = [_value_change(key, old_item.get(key, _UNSET_MEANS.get(key)), new_item.get(key, _UNSET_MEANS.get(key)))
             for key in _ITEM_VALUE_FIELDS]
    for key in _ITEM_TEXT_FIELDS:
        parts.append(_text_change(key, old_item.get(key), new_item.get(key), languages))
    parts.extend(_option_changes(old_item, new_item, languages))
    old_steps, new_steps = old_item.get("thresholds"), new_item.get("thresholds")
    if old_steps != new_steps:
        parts.append(_from_to("thresholds", _thresholds_shown(old_steps), _thresholds_shown(new_steps)))
    old_condition, new_condition = old_item.get("show_if"), new_item.get("show_if")
    if old_condition != new_condition:
        parts.append(_from_to("show_if", _show_if_shown(old_condition), _show_if_shown(new_condition)))
    return _join(parts)


def _items_by_id(checklist):
    """{item id: (section id, item)} for every item."""
    return {
        item["id"]: (section["id"], item)
        for section in checklist["sections"]
        for item in section["items"]
    }


def _moved_within_sections(old, new, old_items):
    """Ids of items that stayed in their section but changed place among the items that stayed."""
    moved = set()
    old_sections = {section["id"]: section for section in old["sections"]}
    for section in new["sections"]:
        if section["id"] not in old_sections:
            continue

        def stayed(item_id, section_id=section["id"]):
            return item_id in old_items and old_items[item_id][0] == section_id

        new_ids = [item["id"] for item in section["items"] if stayed(item["id"])]
        old_ids = [item["id"] for item in old_sections[section["id"]]["items"] if item["id"] in new_ids]
        moved |= _moved_ids(old_ids, new_ids)
    return moved


def _type_in_section(item, section):
    """'yesno in section welcome', naming an added or removed item's type (as written in the file)."""
    # Translators: type is an item type left in English (yesno, choice, ...): "yesno in section welcome".
    return gettext("%(type)s in section %(section)s", type=item["type"], section=section["id"])


def _item_changes(item, section, old_items, moved_within, languages):
    target = gettext("item %(id)s", id=item["id"])
    item_ids = [entry["id"] for entry in section["items"]]
    if item["id"] not in old_items:
        return [Change(ADDED, target, _type_in_section(item, section))]
    old_section_id, old_item = old_items[item["id"]]
    changes = []
    if old_section_id != section["id"]:
        place = _place(item_ids, item["id"], "item")
        # Translators: an item moved to another section; place is "now first" or "now after item x".
        detail = gettext("section %(old)s → %(new)s, %(place)s",
                         old=old_section_id, new=section["id"], place=place)
        changes.append(Change(MOVED, target, detail))
    elif item["id"] in moved_within:
        place = _place(item_ids, item["id"], "item")
        # Translators: an item moved inside its section; place is "now first" or "now after item x".
        detail = gettext("within section %(section)s, %(place)s", section=section["id"], place=place)
        changes.append(Change(MOVED, target, detail))
    detail = _item_field_changes(old_item, item, languages)
    if detail:
        changes.append(Change(CHANGED, target, detail))
    return changes


# -- sections --------------------------------------------------------------------------------------


def _section_changes(section, new, old_sections, moved_sections, languages):
    target = gettext("section %(id)s", id=section["id"])
    if section["id"] not in old_sections:
        return [Change(ADDED, target, _source_text(section["title"], new))]
    old_section = old_sections[section["id"]]
    changes = []
    if section["id"] in moved_sections:
        section_ids = [entry["id"] for entry in new["sections"]]
        changes.append(Change(MOVED, target, _place(section_ids, section["id"], "section")))
    detail = _join([
        _text_change("title", old_section["title"], section["title"], languages),
        _value_change("weight", old_section.get("weight"), section.get("weight")),
    ])
    if detail:
        changes.append(Change(CHANGED, target, detail))
    return changes


def _removed(old, new):
    """Removed sections and items, in their old order."""
    new_sections = {section["id"] for section in new["sections"]}
    new_items = _items_by_id(new)
    changes = []
    for section in old["sections"]:
        if section["id"] not in new_sections:
            changes.append(Change(REMOVED, gettext("section %(id)s", id=section["id"]),
                                  _source_text(section["title"], old)))
        for item in section["items"]:
            if item["id"] not in new_items:
                changes.append(Change(REMOVED, gettext("item %(id)s", id=item["id"]),
                                      _type_in_section(item, section)))
    return changes


def diff_checklists(old, new):
    """Every Change from `old` to `new`: checklist-level first, then in the new order, removals last."""
    languages = _common_languages(old, new)
    changes = _checklist_changes(old, new, languages)
    changes += _band_changes(old, new, languages)
    changes += _dimension_changes(old, new, languages)

    old_sections = {section["id"]: section for section in old["sections"]}
    moved_sections = _moved_ids([section["id"] for section in old["sections"]],
                                [section["id"] for section in new["sections"]])
    old_items = _items_by_id(old)
    moved_within = _moved_within_sections(old, new, old_items)
    for section in new["sections"]:
        changes += _section_changes(section, new, old_sections, moved_sections, languages)
        for item in section["items"]:
            changes += _item_changes(item, section, old_items, moved_within, languages)
    return changes + _removed(old, new)
