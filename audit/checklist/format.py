"""The checklist file format: load YAML with line numbers, validate it, normalise it, write it back.

A checklist file is edited by people and translators, so validation reports every problem at once, each
as "file:line: message" naming the field and the bad value, and never lets a traceback through. The
normalised dict it returns is plain data (defaults filled in) that `audit.scoring.score` takes as is.

Choices where the format description is silent:
- Section ids are unique among sections, item ids across the whole file, option ids within an item.
  Ids are lowercase snake_case; the checklist id may also use hyphens (it names the file).
- Only true/false are booleans (YAML 1.2), so `in: [yes, no]` and an option id `no` stay text, and
  `critical: yes` is reported rather than guessed.
- `on_site: false` marks a checklist of contacts made away from the branch (a mystery call, a chat, an
  e-mail): the phone asks for no location, and the review weighs neither the distance to the branch
  nor the visit's length. Absent, or true, it is a visit to the branch.
- text and photo items may have id, type, text, help, na, dimension and show_if; weight, pass_mark,
  critical, thresholds and require_*_on_fail are reported as meaningless on them. `unit` is for number
  items; a language's unit is a text, or its plural forms {one: time, other: times} (see units.py).
  pass_mark (above 0, at most 100) is the % of an item's points an answer must earn to pass: without
  it, only full points pass (a 4 on a scale of 1 to 5 fails; with pass_mark 75 it passes).
- Every translation mapping must hold every declared language and no other one.
"""

import hashlib
import json
import math
import re
from dataclasses import dataclass

import yaml
from flask_babel import get_locale, gettext

from ..form_messages import CONTROL_CHARACTER
from ..scoring import LARGEST_ANSWER
from .parse import ChecklistYamlDumper, LineMap, describe, parse_yaml
from .units import OTHER, PLURAL_CATEGORIES, categories_of, unit_from_forms

LANGUAGES = ("en", "hu", "bg", "et", "ro", "ru")
# The longest text (a question, a help, an option...) in any language: what the web editor takes, so
# a file or a spreadsheet cannot bring in a text the editor would then refuse to save.
MAX_TEXT_LENGTH = 2000
# The largest weight of an item or a section, and the most points an option gives: weights are shares
# (the shipped checklists use 1 to 60), so no checklist needs more. Past some 10^26 the editor's form,
# which shows numbers to two decimal places, could no longer show the item: every later visit of its
# page was a 500.
MAX_WEIGHT = 1000
# The most values a scale can have, 0 to 10 or 1 to 5 for instance: the fill page shows a button for
# each, and a scale of 1 to 100000 made a page of 11 MB.
MAX_SCALE_STEPS = 11
# A scale's values are answers a shopper picks (0-10, 1-5, -2 to 2): beyond this no scale is meant,
# and the fill form reads no number of more than 16 digits, so a scale past it could not be answered.
LARGEST_SCALE_VALUE = 1000
ITEM_TYPES = ("yesno", "scale", "choice", "timer", "number", "text", "photo")
SCORING_TYPES = ("yesno", "scale", "choice", "timer", "number")

# Keys in the documented order; the normalised dict and the dumped YAML follow it.
CHECKLIST_KEYS = ("id", "languages", "title", "critical_cap", "on_site", "bands", "dimensions", "sections")
SECTION_KEYS = ("id", "title", "weight", "items")
ITEM_KEYS = (
    "id", "type", "text", "help", "weight", "pass_mark", "critical", "na", "required", "dimension",
    "require_comment_on_fail", "require_photo_on_fail", "min", "max", "options", "thresholds", "unit",
    "show_if",
)
BAND_KEYS = ("min", "label")
OPTION_KEYS = ("id", "points", "text")
THRESHOLD_KEYS = ("max", "points")
SHOW_IF_KEYS = ("item", "in")

_COMMON_ITEM_KEYS = ("id", "type", "text", "help", "na", "dimension", "show_if")
_SCORING_ITEM_KEYS = ("weight", "pass_mark", "critical", "require_comment_on_fail", "require_photo_on_fail")
_TYPE_ITEM_KEYS = {
    # A scored item is always answered (or not applicable); a free text or a photo only when required.
    "text": ("required",),
    "photo": ("required",),
    "scale": ("min", "max"),
    "choice": ("options",),
    "timer": ("thresholds",),
    "number": ("thresholds", "unit"),
}
# Keys that only make sense on an item that can earn points (and so can fail).
_SCORE_ONLY_KEYS = _SCORING_ITEM_KEYS + ("thresholds",)

_SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
# The checklist id also names the file, where hyphens are usual (retail-store-visit).
_CHECKLIST_ID = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")


# Messages are translated when they are made (gettext: the request's language; English outside a
# request, as on the command line). Ids, keys and values inside them stay as written in the file.

# Problem.kind of a text that lacks a translation: the editor lists those by text instead.
MISSING_TRANSLATION = "missing_translation"
# A draft begun in the editor that is still empty: the editor says these in its own words.
NO_SECTIONS, EMPTY_SECTION = "no_sections", "empty_section"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a checklist file: where it is and what is wrong, as a sentence."""

    path: str
    line: int | None
    message: str
    kind: str = ""

    def __str__(self):
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


class ChecklistError(Exception):
    """A checklist that cannot be used; `problems` lists every Problem found, in line order."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def allowed_item_keys(item_type):
    """The keys an item of `item_type` may have, in the documented order."""
    allowed = set(_COMMON_ITEM_KEYS)
    if item_type in SCORING_TYPES:
        allowed.update(_SCORING_ITEM_KEYS)
    allowed.update(_TYPE_ITEM_KEYS.get(item_type, ()))
    return tuple(key for key in ITEM_KEYS if key in allowed)


def _is_number(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def _is_whole_number(value):
    return _is_number(value) and (isinstance(value, int) or value.is_integer())


def _says(label, text):
    return f"{label}: {text}" if label else text


def _names(values):
    return ", ".join(str(value) for value in values)


def _reader_language():
    """The language the messages are read in (None outside a request: the CLI, a test)."""
    locale = get_locale()
    return locale.language if locale is not None else None


def _section_label(section, index):
    """How messages name a section: by its id, or by its place when it has none."""
    if isinstance(section, dict) and isinstance(section.get("id"), str):
        return gettext("section '%(id)s'", id=section["id"])
    return gettext("section %(number)s", number=index + 1)


class _Validator:
    """Walks raw checklist data and collects a Problem for everything wrong with it."""

    def __init__(self, lines, path, complete=True):
        self.lines = lines if lines is not None else LineMap()
        self.path = path
        # A draft in the editor may wait for its translators: then only the source language is required.
        self.complete = complete
        self.problems = []
        self.declared_languages = None  # as written in `languages`, or None when unusable
        self.required_languages = []  # the supported, distinct ones every text must have
        self.dimension_tags = None  # declared tags, or None when `dimensions` is absent
        self.undeclared = {}  # {language not declared: (its first text's place, texts with it, that one's problem)}

    def report(self, where, message, kind=""):
        # The key's line, not the value's: a block list or mapping value starts on the next line.
        self.problems.append(Problem(self.path, self.lines.key_line_of(where), message, kind))

    # -- building blocks -------------------------------------------------------------------------

    def check_keys(self, mapping, where, label, allowed, required):
        for key in mapping:
            if key not in allowed:
                self.report(
                    where + (key,),
                    _says(label, gettext("unknown key %(key)s (allowed: %(allowed)s)",
                                         key=describe(key), allowed=_names(allowed))),
                )
        for key in required:
            if key not in mapping:
                self.report(where, _says(label, gettext("missing required key '%(key)s'", key=key)))

    def check_mapping(self, value, where, label, what):
        if isinstance(value, dict):
            return True
        self.report(where, _says(label, gettext("%(what)s must be a mapping (got %(value)s)",
                                                what=what, value=describe(value))))
        return False

    def check_identifier(self, value, where, label, field="id"):
        """Report a bad id; return it when it is text (even badly formed), so it can still name things."""
        if not isinstance(value, str):
            self.report(where, _says(label, gettext("%(field)s must be text (got %(value)s)",
                                                    field=field, value=describe(value))))
            return None
        if not _SNAKE_CASE.fullmatch(value):
            self.report(where, _says(label, gettext("%(field)s %(value)s must be lowercase snake_case, like "
                                                    "'greeted_quickly'", field=field, value=describe(value))))
        return value

    def check_number(self, value, where, label, field, low=None, high=None, above=None, most=None):
        """Report a value that is not a finite number or lies outside the bounds; True when usable."""
        if not _is_number(value):
            self.report(where, _says(label, gettext("%(field)s must be a number (got %(value)s)",
                                                    field=field, value=describe(value))))
            return False
        if above is not None and not value > above:
            self.report(where, _says(label, gettext("%(field)s must be greater than %(limit)s (got %(value)s)",
                                                    field=field, limit=above, value=describe(value))))
            return False
        if most is not None and value > most:
            self.report(where, _says(label, gettext("%(field)s must be at most %(most)s (got %(value)s)",
                                                    field=field, most=most, value=describe(value))))
            return False
        if low is not None and high is not None and not low <= value <= high:
            self.report(where, _says(label, gettext("%(field)s must be between %(low)s and %(high)s (got %(value)s)",
                                                    field=field, low=low, high=high, value=describe(value))))
            return False
        if low is not None and high is None and value < low:
            self.report(where, _says(label, gettext("%(field)s must not be negative (got %(value)s)",
                                                    field=field, value=describe(value))))
            return False
        return True

    def check_flag(self, value, where, label, field):
        if not isinstance(value, bool):
            self.report(where, _says(label, gettext("%(field)s must be true or false (got %(value)s)",
                                                    field=field, value=describe(value))))

    def check_translations(self, value, where, label, field, forms=False):
        """Report a bad {language: text} mapping. forms=True (a unit): a language's text may also be a
        mapping of plural forms (check_forms)."""
        if not isinstance(value, dict):
            self.report(
                where,
                _says(label, gettext("%(field)s must be a mapping from language to text, like {en: ...} "
                                     "(got %(value)s)", field=field, value=describe(value))),
            )
            return
        for language in value:
            if self.declared_languages is None:
                if language not in LANGUAGES:
                    self.report(
                        where + (language,),
                        _says(label, gettext("%(field)s has a translation in unknown language %(language)s "
                                             "(supported: %(supported)s)", field=field,
                                             language=describe(language), supported=_names(LANGUAGES))),
                    )
            elif language not in self.declared_languages:
                # Said once per language, at its first text: a language taken out of `languages` made
                # one problem per text (130 lines for one change).
                first, count, one = self.undeclared.get(language, (where + (language,), 0, None))
                one = one or _says(label, gettext(
                    "%(field)s has a translation in %(language)s, which is not one of the checklist's languages "
                    "(%(languages)s)", field=field, language=describe(language),
                    languages=_names(self.declared_languages)))
                self.undeclared[language] = (first, count + 1, one)
        for language in LANGUAGES:
            if language not in value:
                continue
            text = value[language]
            if forms and isinstance(text, dict):
                self.check_forms(text, where + (language,), label, field, language)
            elif forms and not isinstance(text, str):
                self.report(where + (language,), _says(label, gettext(
                    "%(field)s in '%(language)s' must be text, or a mapping of plural forms to texts like "
                    "{one: time, other: times} (got %(value)s)", field=field, language=language,
                    value=describe(text))))
            else:
                self.check_text(text, where + (language,), label, field, language, MISSING_TRANSLATION)
        required = self.required_languages if self.complete else self.required_languages[:1]
        for language in required:
            if language not in value:
                self.report(where, _says(label, gettext("%(field)s is missing the '%(language)s' translation",
                                                        field=field, language=language)), MISSING_TRANSLATION)

    def check_text(self, text, where, label, field, language, empty_kind=""):
        if not isinstance(text, str):
            self.report(where, _says(label, gettext("%(field)s in '%(language)s' must be text (got %(value)s)",
                                                    field=field, language=language, value=describe(text))))
        elif not text.strip():
            self.report(where, _says(label, gettext("%(field)s has an empty '%(language)s' translation",
                                                    field=field, language=language)), empty_kind)
        elif CONTROL_CHARACTER.search(text):
            self.report(where, _says(label, gettext("%(field)s in '%(language)s' holds a control character (such as a "
                                                    "text direction override), which no text needs: remove it",
                                                    field=field, language=language)))
        elif len(text) > MAX_TEXT_LENGTH:
            self.report(where, _says(label, gettext("%(field)s in '%(language)s' is %(length)d characters long; "
                                                    "at most %(most)d fit a question on a phone",
                                                    field=field, language=language, length=len(text),
                                                    most=MAX_TEXT_LENGTH)))

    def check_forms(self, forms, where, label, field, language):
        """A unit's plural forms in one language, {one: time, other: times}: categories the language's
        numbers take (Babel's CLDR data), `other` among them, each a text."""
        known = categories_of(language) if language in LANGUAGES else PLURAL_CATEGORIES
        for category, text in forms.items():
            if category not in known:
                self.report(where + (category,), _says(label, gettext(
                    "%(field)s in '%(language)s' has the plural form %(form)s, which numbers in '%(language)s' do not "
                    "take (its forms: %(forms)s)", field=field, language=language, form=describe(category),
                    forms=_names(known))))
            else:
                # "unit (few) in 'ru' must be text": the existing sentences, naming the form.
                self.check_text(text, where + (category,), label, f"{field} ({category})", language)
        if OTHER not in forms:
            self.report(where, _says(label, gettext(
                "%(field)s in '%(language)s' needs the plural form 'other', the one most numbers take, as in "
                "{one: time, other: times}", field=field, language=language)))

    # -- the checklist ---------------------------------------------------------------------------

    def check_checklist(self, data):
        if not isinstance(data, dict):
            self.report((), gettext("the top level must be a mapping with id, languages, title and sections "
                                    "(got %(value)s)", value=describe(data)))
            return
        self.check_keys(data, (), "", CHECKLIST_KEYS, ("id", "languages", "title", "sections"))
        if "id" in data:
            if not isinstance(data["id"], str):
                self.check_identifier(data["id"], ("id",), "")
            elif not _CHECKLIST_ID.fullmatch(data["id"]):
                self.report(("id",), gettext("id %(value)s must be lowercase words joined by - or _, like "
                                             "'retail-store-visit'", value=describe(data["id"])))
        if "languages" in data:
            self.check_languages(data["languages"])
        if "title" in data:
            self.check_translations(data["title"], ("title",), "", "title")
        if "critical_cap" in data:
            self.check_number(data["critical_cap"], ("critical_cap",), "", "critical_cap", low=0, high=100)
        if "on_site" in data:
            self.check_flag(data["on_site"], ("on_site",), "", "on_site")
        if "bands" in data:
            self.check_bands(data["bands"])
        if "dimensions" in data:
            self.check_dimensions(data["dimensions"])
        if "sections" in data:
            self.check_sections(data["sections"])
        for language, (first, count, one) in self.undeclared.items():
            self.report(first, one if count == 1 else gettext(
                "%(count)d texts have a translation in %(language)s, which is not one of the checklist's languages "
                "(%(languages)s): add it to languages, or remove those translations (the first is here)",
                count=count, language=describe(language), languages=_names(self.declared_languages)))

    def check_languages(self, languages):
        where = ("languages",)
        if not isinstance(languages, list) or not languages:
            self.report(where, gettext("languages must be a non-empty list, like [en, hu] (got %(value)s)",
                                       value=describe(languages)))
            return
        self.declared_languages = [language for language in languages if isinstance(language, str)]
        seen = set()
        for index, language in enumerate(languages):
            if language not in LANGUAGES:
                self.report(where + (index,), gettext("languages: %(value)s is not a supported language "
                                                      "(supported: %(supported)s)",
                                                      value=describe(language), supported=_names(LANGUAGES)))
            elif language in seen:
                self.report(where + (index,), gettext("languages: '%(language)s' is listed twice", language=language))
            else:
                seen.add(language)
                self.required_languages.append(language)
        if not self.required_languages:
            # Without one usable language every translation would be reported; report the list once.
            self.declared_languages = None

    def check_bands(self, bands):
        where = ("bands",)
        if not isinstance(bands, list):
            self.report(where, gettext("bands must be a list, like [{min: 90, label: {en: Excellent}}] "
                                       "(got %(value)s)", value=describe(bands)))
            return
        first_line_of_min = {}
        for index, band in enumerate(bands):
            band_where = where + (index,)
            label = gettext("band %(number)s", number=index + 1)
            if not self.check_mapping(band, band_where, label, gettext("a band")):
                continue
            self.check_keys(band, band_where, label, BAND_KEYS, BAND_KEYS)
            if "min" in band and self.check_number(band["min"], band_where + ("min",), label, "min", 0, 100):
                line = self.lines.line_of(band_where + ("min",))
                if band["min"] in first_line_of_min:
                    self.report(band_where + ("min",),
                                _says(label, gettext("min %(value)s is used by another band too (line %(line)s)",
                                                     value=describe(band["min"]), line=first_line_of_min[band["min"]])))
                else:
                    first_line_of_min[band["min"]] = line
            if "label" in band:
                self.check_translations(band["label"], band_where + ("label",), label, "label")

    def check_dimensions(self, dimensions):
        where = ("dimensions",)
        if not isinstance(dimensions, dict):
            self.report(where, gettext("dimensions must be a mapping of tag to label, like {care: {en: Care}} "
                                       "(got %(value)s)", value=describe(dimensions)))
            return
        self.dimension_tags = [tag for tag in dimensions if isinstance(tag, str)]
        for tag, labels in dimensions.items():
            self.check_identifier(tag, where + (tag,), "dimensions", field="tag")
            self.check_translations(labels, where + (tag,), gettext("dimension %(tag)s", tag=describe(tag)), "label")

    # -- sections and items ----------------------------------------------------------------------

    def check_sections(self, sections):
        where = ("sections",)
        # A draft begun in the browser has no section yet; a published checklist needs one.
        if not isinstance(sections, list) or (not sections and self.complete):
            self.report(where, gettext("sections must be a non-empty list of sections (got %(value)s)",
                                       value=describe(sections)), NO_SECTIONS if sections == [] else "")
            return
        section_lines = {}
        items = []  # (where, item, label) in file order, for the checks that look across items
        for index, section in enumerate(sections):
            section_where = where + (index,)
            label = _section_label(section, index)
            if not self.check_mapping(section, section_where, label, gettext("a section")):
                continue
            self.check_keys(section, section_where, label, SECTION_KEYS, ("id", "title", "items"))
            if "id" in section:
                section_id = self.check_identifier(section["id"], section_where + ("id",), label)
                if section_id is not None:
                    line = self.lines.line_of(section_where + ("id",))
                    if section_id in section_lines:
                        self.report(section_where + ("id",),
                                    gettext("duplicate section id '%(id)s' (first used on line %(line)s)",
                                            id=section_id, line=section_lines[section_id]))
                    else:
                        section_lines[section_id] = line
            if "title" in section:
                self.check_translations(section["title"], section_where + ("title",), label, "title")
            if "weight" in section:
                self.check_number(section["weight"], section_where + ("weight",), label, "weight", above=0,
                                  most=MAX_WEIGHT)
            if "items" in section:
                items.extend(self.section_items(section["items"], section_where + ("items",), label))
        self.check_section_weights(sections)
        self.check_items(items)

    def check_section_weights(self, sections):
        weighted = [section for section in sections if isinstance(section, dict) and "weight" in section]
        if not weighted:
            return
        for index, section in enumerate(sections):
            if isinstance(section, dict) and "weight" not in section:
                self.report(("sections", index),
                            gettext("%(section)s has no weight, but other sections do: either every section has "
                                    "a weight or none does", section=_section_label(section, index)))

    def section_items(self, section_items, where, section_label):
        # A draft may hold a section that is still empty; a published checklist may not.
        if not isinstance(section_items, list) or (not section_items and self.complete):
            self.report(where, _says(section_label, gettext("items must be a non-empty list of items "
                                                            "(got %(value)s)", value=describe(section_items))),
                        EMPTY_SECTION if section_items == [] else "")
            return []
        found = []
        for index, item in enumerate(section_items):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                label = gettext("item '%(id)s'", id=item["id"])
            else:
                label = gettext("item %(number)s of %(section)s", number=index + 1, section=section_label)
            found.append((where + (index,), item, label))
        return found

    def check_items(self, items):
        position_of = {}  # first position of each item id in the file
        item_of = {}
        for position, (where, item, _label) in enumerate(items):
            if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"] not in position_of:
                position_of[item["id"]] = position
                item_of[item["id"]] = item
        first_lines = {}
        for position, (where, item, label) in enumerate(items):
            if not self.check_mapping(item, where, label, gettext("an item")):
                continue
            if "id" in item:
                item_id = self.check_identifier(item["id"], where + ("id",), label)
                if item_id is not None:
                    if item_id in first_lines:
                        self.report(where + ("id",), gettext("duplicate item id '%(id)s' (first used on line %(line)s)",
                                                             id=item_id, line=first_lines[item_id]))
                    else:
                        first_lines[item_id] = self.lines.line_of(where + ("id",))
            self.check_item(item, where, label, position, position_of, item_of)

    def check_item(self, item, where, label, position, position_of, item_of):
        item_type = item.get("type")
        known_type = item_type if isinstance(item_type, str) and item_type in ITEM_TYPES else None
        allowed = allowed_item_keys(known_type) if known_type else ITEM_KEYS
        for key in item:
            if key not in ITEM_KEYS:
                self.report(where + (key,), _says(label, gettext("unknown key %(key)s (allowed: %(allowed)s)",
                                                                 key=describe(key), allowed=_names(allowed))))
            elif key not in allowed and known_type in ("text", "photo") and key in _SCORE_ONLY_KEYS:
                self.report(where + (key,), _says(label, gettext("%(type)s items score nothing, so they cannot "
                                                                 "have '%(key)s'", type=known_type, key=key)))
            elif key not in allowed:
                self.report(where + (key,), _says(label, gettext("key '%(key)s' is not allowed on a %(type)s item "
                                                                 "(allowed: %(allowed)s)", key=key, type=known_type,
                                                                 allowed=_names(allowed))))
        for key in ("id", "type", "text"):
            if key not in item:
                self.report(where, _says(label, gettext("missing required key '%(key)s'", key=key)))
        if "type" in item and known_type is None:
            self.report(where + ("type",), _says(label, gettext("unknown type %(value)s (allowed: %(allowed)s)",
                                                                value=describe(item_type),
                                                                allowed=_names(ITEM_TYPES))))

        def has(key):
            return key in item and key in allowed

        if has("text"):
            self.check_translations(item["text"], where + ("text",), label, "text")
        if has("help"):
            self.check_translations(item["help"], where + ("help",), label, "help")
        if has("weight"):
            self.check_number(item["weight"], where + ("weight",), label, "weight", above=0, most=MAX_WEIGHT)
        if has("pass_mark"):
            self.check_number(item["pass_mark"], where + ("pass_mark",), label, "pass_mark", above=0, most=100)
        for flag in ("critical", "na", "required", "require_comment_on_fail", "require_photo_on_fail"):
            if has(flag):
                self.check_flag(item[flag], where + (flag,), label, flag)
        if has("dimension"):
            self.check_dimension(item["dimension"], where + ("dimension",), label)
        if known_type == "scale":
            self.check_scale(item, where, label)
        if known_type == "choice":
            self.check_options(item, where, label)
        if known_type in ("timer", "number"):
            self.check_thresholds(item, where, label, known_type)
        if has("unit"):
            self.check_translations(item["unit"], where + ("unit",), label, "unit", forms=True)
        if has("show_if"):
            self.check_show_if(item, where + ("show_if",), label, position, position_of, item_of)

    def check_dimension(self, tag, where, label):
        tag = self.check_identifier(tag, where, label, field="dimension")
        if tag is not None and self.dimension_tags is not None and tag not in self.dimension_tags:
            declared = _names(self.dimension_tags) or gettext("none")
            self.report(where, _says(label, gettext("dimension '%(tag)s' is not declared in dimensions (%(declared)s)",
                                                    tag=tag, declared=declared)))

    def check_scale(self, item, where, label):
        bounds = {}
        for key in ("min", "max"):
            if key not in item:
                self.report(where, _says(label, gettext("missing required key '%(key)s'", key=key)))
            elif not _is_whole_number(item[key]):
                self.report(where + (key,), _says(label, gettext("%(field)s must be a whole number (got %(value)s)",
                                                                 field=key, value=describe(item[key]))))
            else:
                bounds[key] = item[key]
        outside = [key for key, value in bounds.items() if abs(value) > LARGEST_SCALE_VALUE]
        if len(bounds) == 2 and not bounds["min"] < bounds["max"]:
            self.report(where + ("max",), _says(label, gettext("min must be less than max (got min %(min)s, max %(max)s)",
                                                               min=describe(bounds["min"]), max=describe(bounds["max"]))))
        elif len(bounds) == 2 and bounds["max"] - bounds["min"] + 1 > MAX_SCALE_STEPS:
            self.report(where + ("max",), _says(label, gettext(
                "a scale can have at most %(most)s values, like 0 to 10 or 1 to 5 (got min %(min)s, max %(max)s: "
                "%(count)s values)", most=MAX_SCALE_STEPS, min=describe(bounds["min"]), max=describe(bounds["max"]),
                count=_whole(bounds["max"] - bounds["min"] + 1))))
        elif outside:
            self.report(where + (outside[0],), _says(label, gettext(
                "min and max must lie between %(low)s and %(high)s (got min %(min)s, max %(max)s)",
                low=-LARGEST_SCALE_VALUE, high=LARGEST_SCALE_VALUE, min=describe(item.get("min")),
                max=describe(item.get("max")))))

    def check_options(self, item, where, label):
        options = item.get("options")
        if "options" not in item:
            self.report(where, _says(label, gettext("a choice item needs at least two options (it has none)")))
            return
        where = where + ("options",)
        if not isinstance(options, list):
            self.report(where, _says(label, gettext("options must be a list of options (got %(value)s)",
                                                    value=describe(options))))
            return
        if len(options) < 2:
            self.report(where, _says(label, gettext("a choice item needs at least two options (it has %(count)s)",
                                                    count=len(options))))
        first_lines = {}
        all_points = []
        for index, option in enumerate(options):
            option_where = where + (index,)
            if isinstance(option, dict) and isinstance(option.get("id"), str):
                option_label = _says(label, gettext("option '%(id)s'", id=option["id"]))
            else:
                option_label = _says(label, gettext("option %(number)s", number=index + 1))
            if not self.check_mapping(option, option_where, option_label, gettext("an option")):
                continue
            self.check_keys(option, option_where, option_label, OPTION_KEYS, OPTION_KEYS)
            if "id" in option:
                option_id = self.check_identifier(option["id"], option_where + ("id",), option_label)
                if option_id is not None:
                    if option_id in first_lines:
                        self.report(option_where + ("id",),
                                    _says(label, gettext("option id '%(id)s' is used twice (first on line %(line)s)",
                                                         id=option_id, line=first_lines[option_id])))
                    else:
                        first_lines[option_id] = self.lines.line_of(option_where + ("id",))
            if "points" in option and self.check_number(option["points"], option_where + ("points",),
                                                        option_label, "points", low=0, most=MAX_WEIGHT):
                all_points.append(option["points"])
            if "text" in option:
                self.check_translations(option["text"], option_where + ("text",), option_label, "text")
        if len(all_points) >= 2 and len(all_points) == len(options) and not any(all_points):
            self.report(where, _says(label, gettext("options all give 0 points; at least one option must give points")))

    def check_thresholds(self, item, where, label, item_type):
        if "thresholds" not in item:
            self.report(where, _says(label, gettext("a %(type)s item needs thresholds, like "
                                                    "[{max: 60, points: 1}, {max: 180, points: 0.5}]", type=item_type)))
            return
        where = where + ("thresholds",)
        thresholds = item["thresholds"]
        if not isinstance(thresholds, list) or not thresholds:
            self.report(where, _says(label, gettext("thresholds must be a non-empty list, like [{max: 60, points: 1}] "
                                                    "(got %(value)s)", value=describe(thresholds))))
            return
        previous_max = None
        all_points = []
        for index, threshold in enumerate(thresholds):
            threshold_where = where + (index,)
            threshold_label = _says(label, gettext("threshold %(number)s", number=index + 1))
            if not self.check_mapping(threshold, threshold_where, threshold_label, gettext("a threshold")):
                continue
            self.check_keys(threshold, threshold_where, threshold_label, THRESHOLD_KEYS, THRESHOLD_KEYS)
            if "points" in threshold and self.check_number(threshold["points"], threshold_where + ("points",),
                                                           threshold_label, "points", 0, 1):
                all_points.append(threshold["points"])
            # No answer is larger than LARGEST_ANSWER, so neither is a threshold anyone means.
            if "max" in threshold and self.check_number(threshold["max"], threshold_where + ("max",), threshold_label,
                                                        "max", low=0, most=LARGEST_ANSWER[item_type]):
                current_max = threshold["max"]
                if previous_max is not None and not previous_max < current_max:
                    self.report(threshold_where + ("max",),
                                _says(label, gettext("thresholds must be in ascending order of max "
                                                     "(%(previous)s then %(current)s)",
                                                     previous=describe(previous_max), current=describe(current_max))))
                previous_max = current_max
        # As with options: an item that no answer can pass fails every visit (and, critical, flags it).
        if len(all_points) == len(thresholds) and not any(all_points):
            self.report(where, _says(label, gettext(
                "thresholds all give 0 points; at least one threshold must give points")))

    def question(self, item, label):
        """How a show_if message names a question: by its text, in the reader's language where the
        checklist has it (else its first language), and its id, which the file's show_if writes (an
        auditor read "item 'offer'" and had to find which question that was). `label` when it has
        neither."""
        text = item.get("text") if isinstance(item, dict) else None
        words = None
        if isinstance(text, dict):
            for language in (_reader_language(), *self.required_languages, *text):
                value = text.get(language)
                if isinstance(value, str) and value.strip():
                    words = value.strip()
                    break
        if words is None or not isinstance(item.get("id"), str):
            return label
        return gettext("the question “%(text)s” (id %(id)s)", text=words, id=item["id"])

    def check_show_if(self, item, where, label, position, position_of, item_of):
        condition = item["show_if"]
        if not isinstance(condition, dict):
            self.report(where, _says(label, gettext("show_if must be a mapping, like {item: offer, in: [proactive]} "
                                                    "(got %(value)s)", value=describe(condition))))
            return
        self.check_keys(condition, where, _says(label, "show_if"), SHOW_IF_KEYS, SHOW_IF_KEYS)
        question = self.question(item, label)
        answers = None  # the answers the referenced item can take, when known
        target = condition.get("item")
        if "item" in condition:
            target_where = where + ("item",)
            if not isinstance(target, str):
                self.report(target_where, _says(label, gettext("show_if item must be an item id (got %(value)s)",
                                                               value=describe(target))))
            elif target not in position_of:
                self.report(target_where, gettext(
                    "%(question)s is shown only after an answer to the question with id '%(id)s', which the checklist "
                    "does not have: write the id of an earlier question in its show_if, or remove that show_if",
                    question=question, id=target))
            elif position_of[target] == position:
                self.report(target_where, gettext(
                    "%(question)s is shown only after an answer to itself: write the id of an earlier question in its "
                    "show_if, or remove that show_if", question=question))
            elif position_of[target] > position:
                self.report(target_where, gettext(
                    "%(question)s is shown only after an answer to %(on)s, which comes after it: move it below "
                    "%(on)s, or remove that show_if", question=question, on=self.question(item_of[target], target)))
            else:
                answers = self.possible_answers(item_of[target])
                if answers is None:
                    self.report(target_where, gettext(
                        "%(question)s is shown only after an answer to %(on)s, a %(type)s question, but only yesno "
                        "and choice questions can show another: make it one of these, or change or remove the show_if "
                        "of %(question)s", question=question, on=self.question(item_of[target], target),
                        type=describe(item_of[target].get("type"))))
        if "in" in condition:
            values = condition["in"]
            values_where = where + ("in",)
            if not isinstance(values, list) or not values:
                self.report(values_where, _says(label, gettext("show_if in must be a non-empty list of answers "
                                                               "(got %(value)s)", value=describe(values))))
                return
            if answers is None:
                return
            for index, value in enumerate(values):
                if value not in answers:
                    self.report(values_where + (index,), gettext(
                        "%(question)s is shown only after the answer %(value)s to %(on)s, which has no such answer "
                        "(its answers: %(answers)s): write one of these in its show_if, or remove that show_if",
                        question=question, value=describe(value), on=self.question(item_of[target], target),
                        answers=_names(answers) or gettext("none")))

    @staticmethod
    def possible_answers(item):
        """Answers a yesno or choice item can take (for show_if), or None for other items."""
        if item.get("type") == "yesno":
            return ["yes", "no"]
        if item.get("type") == "choice":
            options = item.get("options")
            if not isinstance(options, list):
                return []
            return [option["id"] for option in options if isinstance(option, dict) and isinstance(option.get("id"), str)]
        return None


def _in_line_order(problems):
    return sorted(problems, key=lambda problem: (problem.line is None, problem.line or 0))


def validate_checklist(data, lines=None, path="<checklist>", complete=True):
    """Every Problem with raw checklist data (as parsed from YAML), in line order; [] when valid.

    complete=False accepts texts that lack a translation other than the source language's (drafts).
    """
    validator = _Validator(lines, path, complete)
    validator.check_checklist(data)
    return _in_line_order(validator.problems)


# -- normalising ---------------------------------------------------------------------------------


def _translations(texts, languages):
    return {language: _clean_text(texts[language]) for language in languages if language in texts}


def _clean_text(text):
    """A text as stored: line breaks as LF and no spaces around it. Browsers send a text box's line
    breaks as CRLF, files have LF: the same words from the editor, a file and a spreadsheet made
    different versions ("changed item q1: help") that no reader could see."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _clean_unit(unit):
    """A language's unit as stored: a plain text, or its plural forms in CLDR order ({other: x} alone
    is the plain x: the same unit, so the same content)."""
    if isinstance(unit, dict):
        return unit_from_forms({category: _clean_text(text) for category, text in unit.items()})
    return _clean_text(unit)


def _whole(value):
    return int(value) if isinstance(value, float) else value


def _normalise_item(item, languages):
    item_type = item["type"]
    is_scoring = item_type in SCORING_TYPES
    result = {"id": item["id"], "type": item_type, "text": _translations(item["text"], languages)}
    if "help" in item:
        result["help"] = _translations(item["help"], languages)
    if is_scoring:
        result["weight"] = item.get("weight", 1)
        if item.get("pass_mark", 100) != 100:
            # Only when set: a checklist without it keeps its content, and its hash, as before.
            result["pass_mark"] = item["pass_mark"]
        result["critical"] = item.get("critical", False)
    result["na"] = item.get("na", False)
    if item.get("required") and item_type in ("text", "photo"):
        # Only when set: a checklist without it keeps its content, and its hash, as before.
        result["required"] = True
    if "dimension" in item:
        result["dimension"] = item["dimension"]
    if is_scoring:
        result["require_comment_on_fail"] = item.get("require_comment_on_fail", False)
        result["require_photo_on_fail"] = item.get("require_photo_on_fail", False)
    if item_type == "scale":
        result["min"] = _whole(item["min"])
        result["max"] = _whole(item["max"])
    if item_type == "choice":
        result["options"] = [
            {"id": option["id"], "points": option["points"], "text": _translations(option["text"], languages)}
            for option in item["options"]
        ]
    if item_type in ("timer", "number"):
        result["thresholds"] = [{"max": step["max"], "points": step["points"]} for step in item["thresholds"]]
    if "unit" in item:
        result["unit"] = {language: _clean_unit(item["unit"][language]) for language in languages
                          if language in item["unit"]}
    if "show_if" in item:
        result["show_if"] = {"item": item["show_if"]["item"], "in": list(item["show_if"]["in"])}
    return result


def _normalise_section(section, languages):
    result = {"id": section["id"], "title": _translations(section["title"], languages)}
    if "weight" in section:
        result["weight"] = section["weight"]
    result["items"] = [_normalise_item(item, languages) for item in section["items"]]
    return result


def normalise_checklist(data):
    """Valid raw checklist data as fresh plain data in documented key order, with defaults filled in.

    Defaults: weight 1, critical/na/require_*_on_fail false on scoring items, na false on text and
    photo items. Optional keys without a default (critical_cap, bands, dimensions, section weight,
    help, dimension, unit, show_if) stay absent, as does on_site unless false. Bands are sorted from the
    highest min down.
    """
    languages = list(data["languages"])
    result = {"id": data["id"], "languages": languages, "title": _translations(data["title"], languages)}
    if "critical_cap" in data:
        result["critical_cap"] = data["critical_cap"]
    if data.get("on_site") is False:
        # Only when false: true is the default, and a checklist's content (its hash) stays as it was.
        result["on_site"] = False
    if "bands" in data:
        bands = sorted(data["bands"], key=lambda band: band["min"], reverse=True)
        result["bands"] = [{"min": band["min"], "label": _translations(band["label"], languages)} for band in bands]
    if "dimensions" in data:
        result["dimensions"] = {
            tag: _translations(labels, languages) for tag, labels in data["dimensions"].items()
        }
    result["sections"] = [_normalise_section(section, languages) for section in data["sections"]]
    return result


# -- loading and writing -------------------------------------------------------------------------


def load_checklist_data(data, path="<checklist>", complete=True):
    """Validate and normalise checklist data built in code (e.g. by the web editor); ChecklistError if bad."""
    problems = validate_checklist(data, None, path, complete)
    if problems:
        raise ChecklistError(problems)
    return normalise_checklist(data)


def load_checklist_text(text, path="<text>", complete=True):
    """Parse, validate and normalise checklist YAML text; raises ChecklistError listing every problem.
    complete=False: a draft's file (validate_checklist)."""
    parsed = parse_yaml(text)
    problems = [Problem(path, line, message) for line, message in parsed.problems]
    if parsed.data is not None or not problems:
        problems.extend(validate_checklist(parsed.data, parsed.lines, path, complete))
    if problems:
        raise ChecklistError(_in_line_order(problems))
    return normalise_checklist(parsed.data)


def load_checklist_file(path):
    """Load a checklist file (UTF-8 YAML) like load_checklist_text; ChecklistError names the file."""
    name = str(path)
    try:
        with open(path, "rb") as file:
            content = file.read()
    except OSError as error:
        message = gettext("cannot read the file (%(reason)s)", reason=error.strerror or error)
        raise ChecklistError([Problem(name, None, message)]) from None
    return load_checklist_bytes(content, name)


def load_checklist_bytes(content, name, complete=True):
    """Load a checklist file's bytes (UTF-8 YAML, an upload or a file read) like load_checklist_text;
    bytes that are not UTF-8 are named by their line."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        message = gettext("the file is not UTF-8 text (byte 0x%(byte)s cannot be read); save it as UTF-8",
                          byte=f"{content[error.start]:02x}")
        raise ChecklistError([Problem(name, line, message)]) from None
    return load_checklist_text(text, name, complete)


def dump_checklist_yaml(data):
    """Normalised checklist data as block-style YAML that loads back to an equal dict, its keys and
    languages in the documented order (as the shipped files have them): the database hands the
    stored content back with its keys sorted, which put `bands` first and `title` last."""
    content = normalise_checklist(data)
    for section in content["sections"]:
        for item in section["items"]:
            for language, unit in item.get("unit", {}).items():
                if isinstance(unit, dict):
                    item["unit"][language] = FlowMapping(unit)
    return yaml.dump(
        content,
        Dumper=ChecklistYamlDumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        # A text on one line, as the shipped files have them: wrapped at 100 characters mid-sentence,
        # an exported version compared with its file differed on every long text.
        width=float("inf"),
        indent=2,
    )


class FlowMapping(dict):
    """A mapping dumped on one line, as a unit's plural forms are written: en: {one: time, other: times}."""


ChecklistYamlDumper.add_representer(
    FlowMapping, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True))


def _canonical(value):
    # 2 and 2.0 are the same weight; the hash should not see an edit that changes nothing.
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def content_hash(data):
    """sha256 hex digest of normalised checklist data, to tell whether a file's content changed."""
    canonical = json.dumps(_canonical(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
