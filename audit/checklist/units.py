"""A number item's unit and its plural forms ("1 time", "2 times"; in Russian 1 раз, 2 раза, 5 раз).

In a checklist a language's unit is a plain text, used with every number, or a mapping of CLDR plural
categories to texts, {one: time, other: times}: which category a number takes in a language is
Babel's (CLDR's) to say, never ours. `other` is always there: numbers with no form of their own take
it. Where no number is (the label beside the fill page's input) a count's word is shown: `many` where
the language has it (Russian "[   ] раз", "[   ] человек": its `other`, "раза", is the form of 1,5),
else `other`.

The web editor and the translators' spreadsheet hold a language's unit in one text field, written
as `one: time | other: times` (or, in the order of the language's categories, `time | times`); a
plain unit is written as it is.
"""

import functools
import re
from decimal import Decimal

from babel import Locale
from flask_babel import gettext

# CLDR's categories in its own order: the order forms are written in (a file, the editor's field).
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")
OTHER = "other"
SEPARATOR = "|"

_LABELLED = re.compile(r"\s*([a-z]+)\s*:\s*(.*)", re.DOTALL)


@functools.lru_cache(maxsize=16)
def categories_of(language):
    """The plural categories numbers take in `language`, in CLDR order, `other` last."""
    tags = Locale.parse(language).plural_form.tags
    return tuple(category for category in PLURAL_CATEGORIES if category in tags or category == OTHER)


def category_of(language, number):
    """The plural category `number` (an int or a Decimal, as shown: 1.5, not 1.50) takes in `language`."""
    return Locale.parse(language).plural_form(number)


def unit_forms(unit):
    """{category: text} of one language's unit: a plain text is the `other` form of every number."""
    return dict(unit) if isinstance(unit, dict) else {OTHER: unit}


def unit_from_forms(forms):
    """A language's unit as a checklist holds it: a plain text when only `other` is given, else the
    forms in CLDR order (so that the same forms always make the same content, and hash)."""
    if set(forms) == {OTHER}:
        return forms[OTHER]
    return {category: forms[category] for category in PLURAL_CATEGORIES if category in forms}


def unit_form(unit, language, number=None):
    """The text of one language's unit for `number` (the form its plural category takes, else `other`),
    or, with no number, the form a count's box reads with (`many`, else `other`: see above)."""
    if not isinstance(unit, dict):
        return unit
    if number is not None:
        form = unit.get(category_of(language, number))
        if form:
            return form
    return unit.get("many") or unit.get(OTHER) or next(iter(unit.values()), "")


def shown_number(value, places):
    """`value` rounded half up to `places` decimals without trailing zeros, as decimal_text shows it:
    1.0 is shown "1" and takes the form of 1, 1.50 is shown "1.5"."""
    number = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding="ROUND_HALF_UP")
    if number == number.to_integral_value():
        return int(number)
    return number.normalize()


def unit_as_text(unit):
    """One language's unit as the editor's field and the spreadsheet's cell show it."""
    if not isinstance(unit, dict):
        return unit
    return f" {SEPARATOR} ".join(f"{category}: {text}" for category, text in unit.items())


class UnitTextError(ValueError):
    """A unit written in a field or a cell that cannot be read; str() is a sentence for the user."""


def unit_from_text(text, language):
    """A language's unit (plain text or forms) from its text in the editor or the spreadsheet
    (unit_as_text's notation); UnitTextError says what is wrong."""
    text = text.strip()
    parts = [part.strip() for part in text.split(SEPARATOR)]
    labelled = [_LABELLED.fullmatch(part) for part in parts]
    labelled = [match if match and match.group(1) in PLURAL_CATEGORIES else None for match in labelled]
    categories = categories_of(language)
    shown = ", ".join(categories)
    if len(parts) == 1 and labelled[0] is None:
        return text
    if any(labelled) and not all(labelled):
        raise UnitTextError(gettext("Label every form, like “one: … | other: …”, or write the forms in the order "
                                    "%(forms)s without labels.", forms=shown))
    if not any(labelled):
        if len(parts) != len(categories):
            raise UnitTextError(gettext(
                "Numbers in this language take %(count)s forms (%(forms)s): write them in this order, separated "
                "by |, or label them, like “one: … | other: …”.", count=len(categories), forms=shown))
        pairs = list(zip(categories, parts))
    else:
        pairs = [(match.group(1), match.group(2).strip()) for match in labelled]
    forms = {}
    for category, form in pairs:
        if category not in categories:
            raise UnitTextError(gettext("Numbers in this language take no form “%(form)s” (their forms: %(forms)s).",
                                        form=category, forms=shown))
        if category in forms:
            raise UnitTextError(gettext("The form “%(form)s” is given twice.", form=category))
        if not form:
            raise UnitTextError(gettext("The form “%(form)s” is empty: write its text, or leave the form out.",
                                        form=category))
        forms[category] = form
    if OTHER not in forms:
        raise UnitTextError(gettext("Give the form “other” too: numbers with no form of their own take it."))
    return unit_from_forms(forms)
