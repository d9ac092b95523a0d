"""Languages: the locale chooser and the formatting helpers templates use."""
import datetime
import functools
import re
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from babel import Locale
from babel.units import format_unit
from flask import g, has_request_context, request, session
from flask_babel import Babel, format_date, format_datetime, format_decimal, format_time, get_locale, get_translations
from flask_babel import format_percent as babel_format_percent
from flask_babel import gettext, lazy_gettext, ngettext  # noqa: F401  (re-exported for the app)
from flask_login import current_user
from jinja2 import pass_context
# Jinja's own (private) newstyle wrappers, the ones install_gettext_callables uses: formatting and
# escaping stay Jinja's; tests/test_i18n.py checks both.
from jinja2.ext import _make_new_gettext, _make_new_ngettext

from .checklist.units import shown_number, unit_form
from .config import LANGUAGES
from .scoring import NOT_APPLICABLE

babel = Babel()

# Each language named in itself, as a language switcher should show it.
LANGUAGE_NAMES = {
    "en": "English",
    "hu": "Magyar",
    "bg": "Български",
    "et": "Eesti",
    "ro": "Română",
    "ru": "Русский",
}


# A visit's state as its shopper reads it (their own work: "To do", "Returned to you"), and as the
# auditors who assign and review it read it.
SHOPPER_STATE_LABELS = {
    "assigned": lazy_gettext("To do"),
    "draft": lazy_gettext("Draft"),
    "submitted": lazy_gettext("Submitted"),
    "returned": lazy_gettext("Returned to you"),
    "approved": lazy_gettext("Approved"),
}
STATE_LABELS = {
    **SHOPPER_STATE_LABELS,
    "assigned": lazy_gettext("Assigned"),
    "returned": lazy_gettext("Returned to the shopper"),
}


def state_label(state):
    """A visit's state in words for the signed-in reader (see SHOPPER_STATE_LABELS)."""
    shopper = has_request_context() and current_user.is_authenticated and current_user.role == "shopper"
    return (SHOPPER_STATE_LABELS if shopper else STATE_LABELS).get(state, state)

ROLE_LABELS = {
    "shopper": lazy_gettext("Shopper"),
    "auditor": lazy_gettext("Auditor"),
    "manager": lazy_gettext("Manager"),
}


def select_locale():
    """The user's choice, else the browser's, else the brand default, else English."""
    if not has_request_context():
        return "en"  # a command (flask checklist validate) speaks English
    # current_user only when signed in: loading it for a visitor makes Flask-Login rewrite the cookie.
    if "_user_id" in session and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return chosen
    if g.get("account_language") in LANGUAGES:  # a page for one account, before it signs in (a password link)
        return g.account_language
    best = request.accept_languages.best_match(LANGUAGES)
    if best:
        return best
    return g.get("brand_language") or "en"


def current_language():
    return str(get_locale() or "en").split("_")[0]


def format_percent(value, places=1):
    """A score (0-100) in the locale's percent style, rounded half up once; an em dash for none."""
    if value is None:
        return "—"
    quantized = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    return _formatted_percent(str(quantized), places, str(get_locale()))


def format_points(value, places=1):
    """A difference of two scores in percentage points ("10,0 szp."): a board reading "10 %" would take
    it for a relative change. An em dash for none."""
    if value is None:
        return "—"
    quantized = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    # Joined by no-break spaces: "▼ 8,4 пр. п." broke as "пр." / "п." in a narrow column.
    return gettext("%(points)s pp", points=format_decimal(quantized, format="#,##0." + "0" * places)).replace(
        " ", "\u00a0")


@functools.lru_cache(maxsize=8192)
def _formatted_percent(quantized, places, locale_name):
    # Remembered per locale: a dashboard's ranking formats two figures for each of hundreds of
    # branches, and Babel took 16 us for each. Keyed by the text of the rounded value, as "-0.0"
    # and "0.0" are equal Decimals that print differently.
    return babel_format_percent(Decimal(quantized) / 100, format=_percent_pattern(locale_name, places))


@functools.lru_cache(maxsize=64)
def _percent_pattern(locale_name, places):
    """The locale's percent pattern with `places` decimals (looked up once: tables list hundreds)."""
    pattern = Locale.parse(locale_name).percent_formats[None].pattern
    if places:
        pattern = re.sub(r"0(?![0-9])", "0." + "0" * places, pattern, count=1)
    return pattern


def format_day(value, format=None):
    """The `date` filter: Flask-Babel's format_date, remembered for plain dates per locale.

    Flask-Babel looks up the locale, the time zone and the pattern anew for every date, which cost
    a tenth of a fill page; the same few dates come back on every page of a shopper. A datetime
    depends on the user's time zone too, so it is formatted each time."""
    if type(value) is not datetime.date:
        return format_date(value, format)
    return _formatted_day(value, format, str(get_locale()))


@functools.lru_cache(maxsize=4096)
def _formatted_day(day, format, locale_name):
    # locale_name is the locale in force (the caller passes it): it keys the cache, format_date reads it.
    return format_date(day, format)


def localized(texts, language=None):
    """The text of a checklist mapping {language: text} in `language`, else its first language."""
    if not texts:
        return None
    language = language or current_language()
    return texts.get(language) or next(iter(texts.values()))


def unit_label(unit, language=None, number=None):
    """A number item's unit {language: unit} in `language` (else its first language), in the plural form
    `number` takes there ("1 time", "2 times"; "5 раз"), or in the form most numbers take when no number
    is shown (the label beside the fill page's input)."""
    if not unit:
        return None
    language = language or current_language()
    shown_in = language if unit.get(language) else next(iter(unit))
    return unit_form(unit[shown_in], shown_in, number)


def decimal_text(value, places=2):
    """A number in the reader's locale (decimal comma in hu/bg), rounded half up to `places` once:
    1 for 1.0000, 0,5 for 0.5 in Hungarian."""
    value = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not value.is_finite():
        return str(value)
    with _room_for(value):
        return format_decimal(value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def _room_for(value):
    """A decimal context with room for every digit of `value` and a few decimals. Rounding (ours and
    Babel's) works within the context's precision, 28 digits by default: a shopper's answer of 10^25
    seconds failed to show at all, and with it the review page and the visit report."""
    return localcontext(Context(prec=max(28, value.adjusted() + 12)))


def answer_label(item, value, language, scale_range=True):
    """An answer as its reader should see it, not as it is stored: Yes/No and "Not applicable" in the
    reader's language, a choice option's text and a number item's unit in the checklist `language` (the
    unit in the plural form the number takes there: "1 time", "2 times"),
    numbers in the locale's style, a timer's seconds with the locale's unit, a scale's step with its
    range ("4 on a scale of 1 to 5": a bare 4 said nothing to a board reading the visit report;
    `scale_range=False` where the range is already said, as in a list of a scale's steps). Text answers as written;
    a value that does not fit its item (never stored by the scoring rules) as it is. The review page
    and the visit report show answers with it."""
    if value is None:
        return "\u2014"
    kind = item["type"]
    if value == NOT_APPLICABLE and kind != "text":
        return gettext("Not applicable")
    if kind == "photo" and isinstance(value, (list, tuple)):  # photo ids: the photos are shown beside it
        return ngettext("%(num)d photo", "%(num)d photos", len(value))
    if kind == "yesno" and value in ("yes", "no"):
        return gettext("Yes") if value == "yes" else gettext("No")
    if kind == "choice":
        for option in item.get("options", ()):
            if option["id"] == value:
                return localized(option["text"], language)
    if kind in ("scale", "timer", "number") and isinstance(value, (int, float)) and not isinstance(value, bool):
        if kind == "timer":
            seconds = Decimal(str(value))
            if not seconds.is_finite():
                return str(value)
            with _room_for(seconds):  # a number and its unit stay on one line (no-break space)
                return format_unit(seconds, "duration-second", length="short", locale=get_locale()).replace(" ", "\u00a0")
        number = decimal_text(value, places=3)
        if kind == "scale" and scale_range and "min" in item and "max" in item:
            return gettext("%(value)s on a scale of %(min)s to %(max)s", value=number,
                           min=decimal_text(item["min"], places=0), max=decimal_text(item["max"], places=0))
        if kind == "number" and item.get("unit"):
            exact = Decimal(str(value))
            if not exact.is_finite():
                return number
            with _room_for(exact):
                shown = shown_number(exact, 3)
            return f"{number}\u00a0{unit_label(item['unit'], language, shown)}"
        return number
    return str(value)


def _translations_of_this_render():
    """`_()` and ngettext bound to this render's translations, looked up once per render_template.

    Flask-Babel's template gettext finds the locale and the catalog again for every string, through
    several context lookups; a fill page has dozens of strings, and this was a fifth of its cost.
    Looked up when a template is rendered, so renders inside force_locale (reports in the branch's
    language) get that locale's catalog. Jinja's own wrappers add the %-formatting and escaping.
    """
    translations = get_translations()
    language = str(get_locale() or "en").split("_")[0]
    return {
        "gettext": _make_new_gettext(translations.ugettext),
        "ngettext": _make_new_ngettext(translations.ungettext),
        "current_language": lambda: language,
    }


def _type_label(item_type):
    from .editor_forms import TYPE_LABELS

    return TYPE_LABELS.get(item_type, item_type)


def init_app(app):
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        LANGUAGES=LANGUAGES,
        current_language=current_language,
        localized=localized,
        unit_label=unit_label,
        answer_label=answer_label,
        decimal_text=decimal_text,
        state_label=state_label,
        type_label=_type_label,
        role_label=lambda role: ROLE_LABELS.get(role, role),
    )
    app.context_processor(_translations_of_this_render)
    app.jinja_env.filters.update(
        date=_per_reader(format_day), datetime=_per_reader(format_datetime), percent=_per_reader(format_percent),
        points=_per_reader(format_points), time=_per_reader(format_time),
    )


def _per_reader(format_value):
    """A filter in the reader's locale. Jinja works out a filter of a constant ({{ 0|points }}) once,
    when it compiles the template, in whatever locale is current then: every reader got "0.0 pp". It
    never does so for a filter that takes the render's context."""
    @pass_context
    def in_the_readers_locale(_context, *args, **kwargs):
        return format_value(*args, **kwargs)
    return in_the_readers_locale
