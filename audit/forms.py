"""Form classes: every form carries a CSRF token and names what is wrong in the user's language."""
import math
import re
from datetime import timedelta

from babel import Locale
from flask_babel import format_decimal
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms.fields.choices import SelectChoice as Choice
from wtforms import (
    BooleanField,
    DateField,
    TextAreaField,
    EmailField,
    FloatField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.widgets import ColorInput
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from .config import LANGUAGES
from .form_messages import AppForm
from .i18n import LANGUAGE_NAMES, ROLE_LABELS, current_language
from .localtime import today as local_today
from .i18n import gettext as _
from .i18n import ngettext
from .i18n import lazy_gettext as _l
from . import periods
from .models import Brand, Branch, Region, Role, User, Visit, VisitState, utcnow

HEX_COLOUR = Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("Give a colour as # and six hex digits, e.g. #1f4e79."))
REQUIRED = DataRequired(message=_l("This field is required."))
# The brand's main colour is text on white paper (headings, the big score) and the background of
# white table headings in the reports: WCAG's contrast for normal text, 4.5:1, both ways.
MAIN_COLOUR_CONTRAST = 4.5
# The accent colour marks the region average on the charts and the latest point of the trend: WCAG's
# contrast for graphical objects, 3:1 (a white accent left the region average invisible).
ACCENT_COLOUR_CONTRAST = 3


def contrast_with_white(colour):
    """WCAG 2.x contrast ratio of a #rrggbb colour against white (1 to 21)."""
    def linear(channel):
        value = int(channel, 16) / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4
    red, green, blue = (linear(colour[i:i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return 1.05 / (luminance + 0.05)


def _too_light(colour, needed):
    return bool(HEX_COLOUR.regex.match(colour or "")) and contrast_with_white(colour) < needed


def _contrast_figures(colour, needed):
    # Rounded down: 4.48 must not read as the 4.5 it falls short of.
    return {"ratio": format_decimal(math.floor(contrast_with_white(colour) * 10) / 10),
            "needed": format_decimal(needed)}


def _stripped(text):
    return text.strip() if isinstance(text, str) else text


def _same_name(names, wanted):
    """Whether a name is among names, however its letters are cased ("aurora" is "Aurora")."""
    wanted = wanted.strip().casefold()
    return any(name.casefold() == wanted for name in names)
PASSWORD_MIN = 10


def language_choices():
    return [Choice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]


class LoginForm(AppForm):
    email = EmailField(_l("E-mail"), validators=[REQUIRED, Length(max=254)])
    password = PasswordField(_l("Password"), validators=[REQUIRED, Length(max=256)])


def _check_password_length(password):
    if password and not password.strip():
        # Accepted, it locked the account out: the sign-in form takes spaces alone for nothing typed.
        raise ValidationError(_("A password of spaces only cannot be used: type letters, digits or signs too."))
    if password and len(password) < PASSWORD_MIN:
        raise ValidationError(ngettext("The password must be at least %(num)d character long.",
                                       "The password must be at least %(num)d characters long.", PASSWORD_MIN))


class NewPasswordForm(AppForm):
    """A password chosen by its owner (through a link an auditor made), typed twice."""

    # The phone's password manager offers to make one and to keep it.
    password = PasswordField(_l("New password"), validators=[REQUIRED, Length(max=256)],
                             render_kw={"autocomplete": "new-password"})
    repeated = PasswordField(_l("The new password again"), validators=[REQUIRED, Length(max=256)],
                             render_kw={"autocomplete": "new-password"})

    def validate_password(self, field):
        _check_password_length(field.data)

    def validate_repeated(self, field):
        if field.data != self.password.data:
            raise ValidationError(_("The two passwords differ. Type the same password twice."))


class ChangePasswordForm(NewPasswordForm):
    """A signed-in person's new password, behind the one they have now (a session left open on a
    shared phone must not be enough to take the account)."""

    current = PasswordField(_l("Current password"), validators=[REQUIRED, Length(max=256)],
                            render_kw={"autocomplete": "current-password"})


class LanguageForm(AppForm):
    language = SelectField(_l("Language"), choices=language_choices, validators=[REQUIRED])
    next = HiddenField()


class _SeenRow:
    # operations.row_fingerprint of the row the page showed: a change saved since (another tab, another
    # auditor) makes the page out of date, and saving every field of it would undo that change.
    seen = HiddenField()


class BrandForm(_SeenRow, AppForm):
    name = StringField(_l("Name"), validators=[REQUIRED, Length(max=120)])
    # A colour picker where the browser has one (a box to type # and six hex digits where not); a
    # colour pasted with spaces around it is read without them (it was refused as no colour).
    primary_color = StringField(_l("Main colour"), validators=[REQUIRED, HEX_COLOUR], widget=ColorInput(),
                                filters=[_stripped])
    accent_color = StringField(_l("Accent colour"), validators=[REQUIRED, HEX_COLOUR], widget=ColorInput(),
                               filters=[_stripped])
    default_language = SelectField(_l("Default language"), choices=language_choices)
    logo = FileField(
        _l("Logo (PNG or JPEG)"),
        validators=[FileAllowed(["png", "jpg", "jpeg"], _l("The logo must be a PNG or JPEG image."))],
    )

    def __init__(self, *args, brand=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._brand = brand

    def validate_name(self, field):
        others = Brand.select(Brand.name).where(Brand.id != (self._brand.id if self._brand else 0))
        if _same_name((b.name for b in others), field.data):
            raise ValidationError(_("A brand with this name already exists."))

    def validate_primary_color(self, field):
        if _too_light(field.data, MAIN_COLOUR_CONTRAST):
            raise ValidationError(_(
                "This colour is too light for text on white paper and behind white text (contrast %(ratio)s:1, "
                "at least %(needed)s:1 is needed). Choose a darker one.", **_contrast_figures(field.data,
                                                                                              MAIN_COLOUR_CONTRAST)))

    def validate_accent_color(self, field):
        if _too_light(field.data, ACCENT_COLOUR_CONTRAST):
            raise ValidationError(_(
                "This colour is too light for the chart marks on white paper (contrast %(ratio)s:1, at least "
                "%(needed)s:1 is needed). Choose a darker one.", **_contrast_figures(field.data,
                                                                                 ACCENT_COLOUR_CONTRAST)))


class RegionForm(_SeenRow, AppForm):
    brand = SelectField(_l("Brand"), coerce=int, validators=[InputRequired()])
    name = StringField(_l("Name"), validators=[REQUIRED, Length(max=120)])

    def __init__(self, *args, region=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._region = region
        self.brand.choices = [Choice(b.id, b.name) for b in Brand.ordered()]

    def validate_name(self, field):
        others = Region.select(Region.name).where(
            (Region.brand == self.brand.data) & (Region.id != (self._region.id if self._region else 0)))
        if _same_name((r.name for r in others), field.data):
            raise ValidationError(_("This brand already has a region with this name."))

    def validate_brand(self, field):
        # A region's visits were made for its brand, under its checklists: moved to another brand, its
        # history would count in that brand's averages and reports, under that brand's logo.
        region = self._region
        if region is not None and field.data != region.brand_id and (
                Visit.select().join(Branch).where(Branch.region == region).exists()):
            raise ValidationError(_("This region's branches have visits made for its brand, so it cannot move to "
                                    "another brand. Make a new region for the other brand instead."))


# The countries of the product's languages come first; every other country follows.
PREFERRED_COUNTRIES = ("HU", "BG", "EE", "RO", "MD", "RU")


def country_choices():
    territories = Locale.parse(current_language()).territories
    codes = [code for code in territories if len(code) == 2 and code.isalpha()]
    preferred = [Choice(c, territories[c]) for c in PREFERRED_COUNTRIES]
    rest = sorted((Choice(c, territories[c]) for c in codes if c not in PREFERRED_COUNTRIES), key=lambda c: c.label)
    return preferred + rest


def _a_number_only(form, field):
    """A value that is no number is said once: "abc" as latitude was also "must be between -90 and 90"."""
    if field.process_errors:
        raise StopValidation()


class BranchForm(_SeenRow, AppForm):
    region = SelectField(_l("Region"), coerce=int, validators=[InputRequired()])
    code = StringField(
        _l("Code"),
        # Stored in capitals: checked for a duplicate as it will be stored ("bud-01" is "BUD-01").
        filters=[lambda code: code.strip().upper() if code else code],
        validators=[
            REQUIRED,
            Length(max=32),
            Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Use only letters, digits, - and _ in the code.")),
        ],
    )
    name = StringField(_l("Name"), validators=[REQUIRED, Length(max=160)])
    address = StringField(_l("Street address"), validators=[REQUIRED, Length(max=255)])
    city = StringField(_l("City"), validators=[REQUIRED, Length(max=120)])
    country = SelectField(_l("Country"), choices=country_choices, validators=[REQUIRED])
    latitude = FloatField(
        _l("Latitude"),
        validators=[Optional(), _a_number_only, NumberRange(-90, 90, _l("Latitude must be between -90 and 90."))],
    )
    longitude = FloatField(
        _l("Longitude"),
        validators=[Optional(), _a_number_only, NumberRange(-180, 180, _l("Longitude must be between -180 and 180."))],
    )
    is_active = BooleanField(_l("Active (can be visited)"), default=True)

    def __init__(self, *args, branch=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._branch = branch
        self.region.choices = [Choice(r.id, f"{r.brand.name} · {r.name}") for r in Region.ordered()]

    def validate_region(self, field):
        # Another region of the same brand is a reorganisation; another brand's would carry this
        # branch's scored visits into that brand's averages and reports (as a region's move would).
        branch = self._branch
        if branch is None or field.data == branch.region_id:
            return
        target = Region.get_or_none(Region.id == field.data)
        if target is not None and target.brand_id != branch.region.brand_id and (
                Visit.select().where(Visit.branch == branch).exists()):
            raise ValidationError(_("This branch has visits made for its brand, so it cannot move to another "
                                    "brand's region."))

    def validate_code(self, field):
        other = Branch.get_or_none((Branch.region == self.region.data) & (Branch.code == field.data))
        if other and (self._branch is None or other.id != self._branch.id):
            raise ValidationError(_("Another branch in this region already has this code."))

    def validate(self, extra_validators=None):
        is_valid = super().validate(extra_validators)
        # Checked on the form, since an empty coordinate skips the field's own validators.
        if not self.latitude.errors and not self.longitude.errors:
            if (self.latitude.data is None) != (self.longitude.data is None):
                self.longitude.errors.append(_("Give both latitude and longitude, or neither."))
                return False
        return is_valid


class BranchImportForm(AppForm):
    brand = SelectField(_l("Brand"), coerce=int, validators=[InputRequired()])
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file to import."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.brand.choices = [Choice(b.id, b.name) for b in Brand.ordered()]


class UserImportForm(AppForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file to import."))])


ROLE_CHOICES = [Choice(role, label) for role, label in ROLE_LABELS.items()]


def last_auditor_message():
    return _("This is the only enabled auditor account: nobody could manage the accounts without it. "
             "Make another auditor first.")


class UserForm(_SeenRow, AppForm):
    email = EmailField(
        _l("E-mail"),
        validators=[REQUIRED, Length(max=254), Email(message=_l("Enter a valid e-mail address."))],
    )
    name = StringField(_l("Full name"), validators=[REQUIRED, Length(max=120)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, validators=[REQUIRED])
    language = SelectField(
        _l("Language"), choices=lambda: [Choice("", _("Browser's language"))] + language_choices()
    )
    regions = SelectMultipleField(_l("Regions (managers)"), coerce=int)
    password = PasswordField(_l("Password"), validators=[Length(max=256)])
    is_enabled = BooleanField(_l("Account enabled"), default=True)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._user = user
        self.regions.choices = [Choice(r.id, f"{r.brand.name} · {r.name}") for r in Region.ordered()]

    def validate_email(self, field):
        other = User.by_email(field.data)
        if other and (self._user is None or other.id != self._user.id):
            raise ValidationError(_("Another account already uses this e-mail address."))

    def validate_password(self, field):
        # A new account without one gets an invitation link instead (see password_links).
        _check_password_length(field.data)

    def validate_role(self, field):
        self._keep_an_auditor(field, field.data != Role.AUDITOR.value)

    def validate_is_enabled(self, field):
        self._keep_an_auditor(field, not field.data)

    def _keep_an_auditor(self, field, stops_being_auditor):
        # Without an enabled auditor nobody can manage accounts again (only the database could).
        user = self._user
        if user is None or not (user.is_auditor and user.is_enabled) or not stops_being_auditor:
            return
        others = User.select().where((User.role == Role.AUDITOR.value) & User.is_enabled & (User.id != user.id))
        if not others.exists():
            raise ValidationError(last_auditor_message())

    def validate_regions(self, field):
        if self.role.data == Role.MANAGER.value and not field.data:
            raise ValidationError(_("A manager needs at least one region."))
        # A manager given another role keeps the regions ticked on the page: they go with the role
        # (save_user drops them; the auditor had to untick each first). Only a region ticked anew for a
        # shopper or an auditor says two contrary things.
        had = self._user.region_ids() if self._user is not None else set()
        if self.role.data != Role.MANAGER.value and set(field.data or ()) - had:
            raise ValidationError(_("Only managers are given regions."))


def _shopper_choices():
    return [Choice(u.id, u.name) for u in User.shoppers().where(User.is_enabled)]


def _checklist_choices():
    from .i18n import localized
    from .models import Checklist

    choices = []
    for checklist in Checklist.ordered():
        version = checklist.latest_published()
        if version is not None:
            label = f"{localized(version.content['title'])} · v{version.number}"
            if checklist.brand_id is not None:
                label += f" ({checklist.brand.name})"  # the client it is for
            choices.append(Choice(checklist.id, label))
    return choices


def _check_checklist_client(checklist_id, brand, where):
    """ValidationError when the checklist is written for another client than `brand`'s (`where`: the
    branch or region chosen, as the message names it)."""
    from .models import Checklist

    checklist = Checklist.get_or_none(Checklist.id == checklist_id)
    if checklist is not None and not checklist.is_for(brand.id):
        raise ValidationError(_("This checklist is for %(client)s, and %(place)s is %(brand)s’s: choose one for "
                                "%(brand)s or for any client.", client=checklist.brand.name, place=where,
                                brand=brand.name))


# How far ahead a visit can be planned: a year covers any programme's calendar, and a window past it
# is a typing slip (year 9999, or year 1, also broke the 30-day rule's date arithmetic).
PLANNING_DAYS = 366
# The longest window: a quarter covers any programme's round; a window of years is a slip, and would
# stretch the no-repeat rule's reach (which compares the windows) over years.
WINDOW_DAYS = 92


class _WindowMixin:
    """The planned window of an assignment: not over already, not further ahead than PLANNING_DAYS,
    at most WINDOW_DAYS long."""

    def validate_planned_from(self, field):
        if field.data and field.data > local_today() + timedelta(days=PLANNING_DAYS):
            raise ValidationError(_("Plan at most a year ahead."))

    def validate_planned_to(self, field):
        if self.planned_from.data and field.data and field.data < self.planned_from.data:
            raise ValidationError(_("The window must end on or after its first day."))
        if field.data and field.data < local_today():
            raise ValidationError(_("This window is already over: give a day from today on."))
        self.validate_planned_from(field)
        if self.planned_from.data and field.data and (field.data - self.planned_from.data).days >= WINDOW_DAYS:
            raise ValidationError(_("A window can be at most %(days)d days long.", days=WINDOW_DAYS))


REVISIT_LABEL = _l("Assign a second visit all the same (a re-visit)")


def _absent_as_empty(text):
    # A text field left out of a POST (a script, a page of an older release) is None, which the
    # browser never sends for an empty box: read it as that empty box (its .strip() was a 500). A
    # form made from a row (the visit change form) has the row's value instead, and needs none.
    return text or ""


class VisitForm(_WindowMixin, AppForm):
    branch = SelectField(_l("Branch"), coerce=int, validators=[InputRequired()])
    checklist = SelectField(_l("Checklist"), coerce=int, validators=[InputRequired()])
    shopper = SelectField(_l("Shopper"), coerce=int, validators=[InputRequired()])
    planned_from = DateField(_l("Visit from"), validators=[InputRequired(_l("Give a date."))])
    planned_to = DateField(_l("Visit by"), validators=[InputRequired(_l("Give a date."))])
    scenario = TextAreaField(_l("Scenario brief (in the shopper's language)"), filters=[_absent_as_empty],
                             validators=[Length(max=2000)])
    # Offered once the branch is found to have a visit with the checklist in that window (the view).
    revisit = BooleanField(REVISIT_LABEL)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.branch.choices = [
            Choice(b.id, f"{b.code} · {b.name} ({b.region.brand.name})") for b in Branch.ordered().where(Branch.is_active)
        ]
        self.checklist.choices = _checklist_choices()
        self.shopper.choices = _shopper_choices()

    def validate_checklist(self, field):
        branch = Branch.get_or_none(Branch.id == self.branch.data)
        if branch is not None:
            _check_checklist_client(field.data, branch.region.brand, branch.name)


class VisitChangeForm(_WindowMixin, AppForm):
    """An assigned visit not yet sent: another shopper, another window, another brief."""

    shopper = SelectField(_l("Shopper"), coerce=int, validators=[InputRequired()])
    planned_from = DateField(_l("Visit from"), validators=[InputRequired(_l("Give a date."))])
    planned_to = DateField(_l("Visit by"), validators=[InputRequired(_l("Give a date."))])
    scenario = TextAreaField(_l("Scenario brief (in the shopper's language)"), validators=[Length(max=2000)])
    # Offered once the new window is found to overlap another visit of the branch (the view).
    revisit = BooleanField(REVISIT_LABEL)
    seen = HiddenField()  # operations.visit_fingerprint of the visit the page showed

    def __init__(self, *args, visit, **kwargs):
        super().__init__(*args, **kwargs)
        self.shopper.choices = _shopper_choices()
        self._visit = visit
        current = visit.shopper
        if not (current.is_enabled and current.is_shopper):
            # Listed, so that the page does not quietly show (and a save give the visit to) the first
            # shopper of the list; saving it is refused below.
            self.shopper.choices.insert(0, Choice(current.id, _("%(name)s (can no longer make visits)",
                                                                name=current.name)))

    def validate_shopper(self, field):
        current = self._visit.shopper
        if field.data == current.id and not (current.is_enabled and current.is_shopper):
            raise ValidationError(_("This account can no longer make visits: choose another shopper."))


class WithdrawVisitForm(AppForm):
    """Withdrawing deletes the visit with what its shopper saved: it takes a tick, not a slip of the mouse."""

    confirm = BooleanField(_l("Yes, withdraw this visit, with what its shopper saved of it"),
                           validators=[DataRequired(_l("Tick the box to withdraw the visit."))])


# Several scenario briefs in one box, for a region's branches to get in turn (a chain rotates what the
# shoppers ask for): separated by a line of three dashes.
SCENARIO_SEPARATOR = re.compile(r"^\s*-{3,}\s*$", re.MULTILINE)
SCENARIO_MAX = 2000
SCENARIOS_MAX = 12


def scenarios_of(text):
    """The briefs of a scenario box, in order, empty ones left out; [""] when there is none."""
    briefs = [brief.strip() for brief in SCENARIO_SEPARATOR.split(text or "")]
    return [brief for brief in briefs if brief] or [""]


class BulkVisitForm(_WindowMixin, AppForm):
    region = SelectField(_l("Region"), coerce=int, validators=[InputRequired()])
    checklist = SelectField(_l("Checklist"), coerce=int, validators=[InputRequired()])
    shoppers = SelectMultipleField(_l("Shoppers (shared out in turn)"), coerce=int)
    planned_from = DateField(_l("Visit from"), validators=[InputRequired(_l("Give a date."))])
    planned_to = DateField(_l("Visit by"), validators=[InputRequired(_l("Give a date."))])
    scenario = TextAreaField(_l("Scenario briefs (in the shopper's language)"),
                             validators=[Length(max=SCENARIOS_MAX * SCENARIO_MAX)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = [Choice(r.id, f"{r.brand.name} · {r.name}") for r in Region.ordered()]
        self.checklist.choices = _checklist_choices()
        self.shoppers.choices = _shopper_choices()

    def validate_checklist(self, field):
        region = Region.get_or_none(Region.id == self.region.data)
        if region is not None:
            _check_checklist_client(field.data, region.brand, region.name)

    def validate_shoppers(self, field):
        if not field.data:
            raise ValidationError(_("Choose at least one shopper."))

    def validate_scenario(self, field):
        briefs = scenarios_of(field.data)
        if len(briefs) > SCENARIOS_MAX:
            raise ValidationError(_("Give at most %(most)d scenarios.", most=SCENARIOS_MAX))
        for number, brief in enumerate(briefs, 1):
            if len(brief) > SCENARIO_MAX:
                raise ValidationError(_("Scenario %(number)d is longer than %(most)d characters.",
                                        number=number, most=SCENARIO_MAX))

    def scenarios(self):
        return scenarios_of(self.scenario.data)


class ReturnForm(AppForm):
    comment = TextAreaField(
        _l("What the shopper should check or change"),
        validators=[DataRequired(message=_l("Tell the shopper why the visit comes back.")),
                    Length(max=2000, message=_l("The note to the shopper can be at most %(max)d characters long: "
                                                "shorten it and send it again."))],
    )


class ReopenForm(AppForm):
    reason = StringField(_l("Why it goes back to the review"),
                         validators=[DataRequired(message=_l("Say why the visit goes back to the review.")),
                                     Length(max=500, message=_l("Type at most 500 characters."))])


class CorrectionForm(AppForm):
    # Not required as such: "not applicable" is a box of its own beside a typed number (the view).
    value = StringField(_l("Corrected answer"), validators=[Length(max=4000)])
    not_applicable = BooleanField(_l("Not applicable"))
    reason = StringField(
        _l("Reason for the correction"),
        validators=[DataRequired(message=_l("Give the reason for the correction.")), Length(max=500)],
    )


class CommentCorrectionForm(AppForm):
    comment = TextAreaField(_l("Corrected comment"), validators=[Length(max=4000)])
    reason = StringField(
        _l("Reason for the correction"),
        validators=[DataRequired(message=_l("Give the reason for the correction.")), Length(max=500)],
    )


REVIEW_ORDERS = {"oldest": _l("Oldest sent first"), "newest": _l("Newest sent first")}


class ReviewFilterForm(AppForm):
    """The review queue's filters, shown as the request gave them; views.review.queue_filters says
    which it can use and why not the others (their messages are set on the fields)."""

    class Meta:
        csrf = False  # a GET filter changes nothing

    brand = SelectField(_l("Brand"), coerce=int, default=0)
    region = SelectField(_l("Region"), coerce=int, default=0)
    branch = SelectField(_l("Branch"), coerce=int, default=0)
    checklist = SelectField(_l("Checklist"), coerce=int, default=0)
    shopper = SelectField(_l("Shopper"), coerce=int, default=0)
    visited_from = DateField(_l("Visited from"), validators=[Optional()])
    visited_to = DateField(_l("Visited to"), validators=[Optional()])
    sort = SelectField(_l("Order of the list"), default="oldest")

    def __init__(self, formdata, branches):
        """`branches`: those the reviewer may filter by (access.visible_branches)."""
        super().__init__(formdata)
        from .models import Checklist

        anything = Choice(0, _("All"))
        self.brand.choices = [anything] + [Choice(b.id, b.name) for b in Brand.ordered()]
        self.branch.choices = [anything] + [Choice(b.id, f"{b.code} · {b.name} ({b.region.brand.name})")
                                            for b in branches]
        self.sort.choices = [Choice(value, label) for value, label in REVIEW_ORDERS.items()]
        self.region.choices = [anything] + [Choice(r.id, f"{r.brand.name} · {r.name}") for r in Region.ordered()]
        # By their titles in the reader's language, as everywhere else (the file ids were shown); a
        # checklist only drafted so far has no visit to review (it was listed by its id).
        self.checklist.choices = [anything]
        for checklist in Checklist.ordered():
            latest = checklist.latest_published()
            if latest:
                self.checklist.choices.append(Choice(checklist.id, latest.title(current_language())))
        self.shopper.choices = [anything] + [Choice(u.id, u.name) for u in User.shoppers()]


ROLLING_LABELS = {30: _l("Last 30 days"), 91: _l("Last 3 months"), 182: _l("Last 6 months"), 365: _l("Last 12 months")}


def _period_label(period, running):
    """How a period menu names a period: its days, or its month, quarter or year as the reader
    writes them; a calendar period still running says so (it counts up to today)."""
    if not period.is_calendar:
        days = int(period.token)
        return str(ROLLING_LABELS.get(days) or ngettext("Last %(num)d day", "Last %(num)d days", days))
    name = period.name(current_language())
    return _("%(period)s (so far)", period=name) if running else name


def period_choices(now, extra=None):
    """The period menu: the rolling periods, then months, quarters and years of the organisation's
    calendar (grouped), newest first; `extra`, a period named by a link but not offered, is added."""
    groups = {"days": _("Up to today"), "month": _("Months"), "quarter": _("Quarters"), "year": _("Years")}
    offered = [(str(days), "days") for days in periods.ROLLING_DAYS]
    for kind, tokens in periods.calendar_tokens(now).items():
        offered += [(token, kind) for token in tokens]
    if extra is not None and extra.token not in {token for token, _kind in offered}:
        offered.append((extra.token, extra.kind))
    choices = []
    for kind in groups:  # grouped as listed, each group's periods in the order above
        for token, of_kind in offered:
            if of_kind == kind:
                period = periods.parse(token, now)
                choices.append(Choice(token, _period_label(period, period.end == now and period.is_calendar),
                                      optgroup=groups[kind]))
    return choices


class PeriodForm(AppForm):
    """The period of what a page shows (a branch's visits; the dashboard's filters add more)."""

    class Meta:
        csrf = False  # a GET filter changes nothing

    period = SelectField(_l("Period"), default=periods.DEFAULT)

    def __init__(self, *args, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now or utcnow()
        self.chosen = periods.parse(self.period.data, self.now)
        if self.chosen is None:  # an old link's, a future month's, a typed one: the default, shown as such
            self.period.data = periods.DEFAULT
            self.chosen = periods.parse(periods.DEFAULT, self.now)
        self.period.data = self.chosen.token
        # A bookmarked month older than the menu's stays what the page shows, and the menu names it.
        self.period.choices = period_choices(self.now, extra=self.chosen)

    def settle(self):
        """Each filter not on offer (an old link, an edited URL, another client's brand) becomes its
        default, which the page then shows: a select must never name another selection than the data."""
        for field in self:
            if isinstance(field, SelectField):
                offered = [choice[0] for choice in field.iter_choices()]
                if field.data not in offered:
                    field.data = field.default


class ChecklistFilterForm(PeriodForm):
    """The period and the checklist: a branch's page's filters (the dashboard's add the brand and the region)."""
    checklist = SelectField(_l("Checklist"), coerce=int, default=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.offer_checklists(())

    def offer_checklists(self, checklists):
        """[(checklist id, title)] to choose from (which ones may depend on the period chosen)."""
        self.checklist.choices = [Choice(0, _("All"))] + [Choice(c_id, label) for c_id, label in checklists]


class DashboardFilterForm(ChecklistFilterForm):
    brand = SelectField(_l("Brand"), coerce=int, default=0)
    region = SelectField(_l("Region"), coerce=int, default=0)

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        brands = {r.brand_id: r.brand.name for r in regions}
        self.brand.choices = [Choice(0, _("All"))] + [Choice(i, name) for i, name in sorted(brands.items(), key=lambda b: b[1])]
        self.region.choices = [Choice(0, _("All my regions"))] + [
            Choice(r.id, f"{r.brand.name} · {r.name}") for r in regions
        ]


class _FindBranch:
    find = StringField(_l("Find a branch"), validators=[Length(max=100, message=_l("Type at most 100 characters."))])


class RankingFilterForm(_FindBranch, DashboardFilterForm):
    pass


class UserListForm(AppForm):
    """The accounts list's filter: an agency has hundreds of shoppers."""

    class Meta:
        csrf = False  # a GET filter changes nothing

    role = SelectField(_l("Role"), default="")
    find = StringField(_l("Find an account"), validators=[Length(max=100, message=_l("Type at most 100 characters."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [Choice("", _("All"))] + ROLE_CHOICES


class VisitListForm(AppForm):
    """The visits list's filter by state: the open ones by default; the sent ones lead to their review
    (an approved visit was found again only through the dashboard)."""

    class Meta:
        csrf = False  # a GET filter changes nothing

    state = SelectField(_l("Status"), default="")

    def __init__(self, *args, **kwargs):
        from .i18n import STATE_LABELS

        super().__init__(*args, **kwargs)
        self.state.choices = [Choice("", _("Not approved yet"))] + [Choice(s.value, STATE_LABELS[s.value])
                                                                    for s in VisitState]


class BranchListForm(_FindBranch, AppForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    region = SelectField(_l("Region"), coerce=int, default=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = [Choice(0, _("All"))] + [Choice(r.id, f"{r.brand.name} · {r.name}") for r in Region.ordered()]


class ActionForm(AppForm):
    branch = HiddenField()
    item = HiddenField()
    what = StringField(_l("What will be done"), validators=[REQUIRED, Length(max=500)])
    owner = StringField(_l("Who does it"), validators=[REQUIRED, Length(max=120)])
    due_date = DateField(_l("By when"), validators=[InputRequired(_l("Give a date."))])

    def validate_due_date(self, field):
        # A new action due in the past would be overdue the moment it is added.
        if field.data and field.data < local_today():
            raise ValidationError(_("Give a day from today on."))
        if field.data and field.data > local_today() + timedelta(days=PLANNING_DAYS):
            raise ValidationError(_("Plan at most a year ahead."))


class ActionChangeForm(ActionForm):
    """An action put right (a typo, another owner, a new date); its branch and question stay."""

    def __init__(self, *args, action, **kwargs):
        super().__init__(*args, obj=action, **kwargs)
        self.action = action

    def validate_due_date(self, field):
        # An overdue action keeps its date when only its text changes: that is no new date in the past.
        if field.data != self.action.due_date:
            super().validate_due_date(field)
