"""The base of every form: WTForms' own messages ("Not a valid choice.", "Field cannot be longer than
160 characters.") come from the app's catalogs, not from WTForms'.

WTForms' catalogs miss some of them in our languages (Hungarian lacks nine, the length limit among
them), so a Hungarian form said "Field cannot be longer than 160 characters." The messages the app's
forms can show are listed here, so that `flask translate update` puts them in the app's catalogs,
where CI checks that every language has them all.
"""
import re

from flask_babel import get_translations, gettext
from flask_wtf import FlaskForm


def N_(text):
    """Marks a message for extraction; WTForms translates it when it shows it."""
    return text


def ngettext(singular, plural, _n):  # noqa: N802 - the name Babel extracts plural messages by
    return singular, plural


WTFORMS_MESSAGES = (
    N_("This field is required."),
    N_("Invalid input."),
    ngettext("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1),
    ngettext("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1),
    ngettext("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long.", 1),
    N_("Field must be between %(min)d and %(max)d characters long."),
    N_("Number must be at least %(min)s."),
    N_("Number must be at most %(max)s."),
    N_("Number must be between %(min)s and %(max)s."),
    N_("Invalid Choice: could not coerce."),
    N_("Not a valid choice."),
    N_("Invalid choice(s): one or more data inputs could not be coerced."),
    ngettext("'%(value)s' is not a valid choice for this field.", "'%(value)s' are not valid choices for this field.", 1),
    N_("Not a valid datetime value."),
    N_("Not a valid date value."),
    N_("Not a valid time value."),
    N_("Not a valid integer value."),
    N_("Not a valid decimal value."),
    N_("Not a valid float value."),
)


class _AppCatalog:
    """WTForms asks for its messages untranslated and fills in the numbers itself."""

    def gettext(self, string):
        return get_translations().gettext(string)

    def ngettext(self, singular, plural, n):
        return get_translations().ngettext(singular, plural, n)


_APP_CATALOG = _AppCatalog()


# Control characters no one types or a spreadsheet writes in a cell and no text needs (tab, line feed and carriage return aside). NUL
# is refused by PostgreSQL's text columns: a form that stored it saved on SQLite and failed (500) there.
# Also the text direction overrides and isolates (U+202A-U+202E, U+2066-U+2069): none of the app's
# languages is written right to left, and one pasted into a question turned the rest of its line around.
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


class AppForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _APP_CATALOG

    def validate(self, extra_validators=None):
        """Every form's own checks, and no control character in any text it takes."""
        is_valid = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str) and CONTROL_CHARACTER.search(field.data):
                field.errors = [*field.errors, gettext(
                    "This text holds a control character (such as NUL), which no text needs: remove it.")]
                is_valid = False
        return is_valid
