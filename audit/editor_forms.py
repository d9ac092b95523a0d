"""Forms of the checklist editor. Their text fields depend on the checklist's languages, so each
form class is built for the languages at hand."""
import re
from decimal import Decimal, InvalidOperation

from flask_babel import format_number
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, StopValidation, ValidationError

from .checklist import ITEM_TYPES, SCORING_TYPES
from .checklist.format import LARGEST_SCALE_VALUE, MAX_SCALE_STEPS, MAX_TEXT_LENGTH, MAX_WEIGHT
from .checklist.units import UnitTextError, categories_of, unit_as_text, unit_from_text
from .form_messages import AppForm
from .i18n import LANGUAGE_NAMES
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .scoring import LARGEST_ANSWER

SNAKE_CASE = Regexp(
    r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$",
    message=_l("Use lowercase letters, digits and single underscores, starting with a letter (e.g. greeted_quickly)."),
)
REQUIRED = InputRequired(message=_l("This field is required."))
WEIGHT_RANGE = [
    NumberRange(min=Decimal("0.001"), message=_l("The weight must be more than 0.")),
    NumberRange(max=MAX_WEIGHT, message=_l("The weight can be at most %(max)s.")),
]
MAX_OPTIONS_EXTRA = 2  # empty rows offered for new options and thresholds
# A new item's rows: most choices have three or four options, and a timer three steps (with two, the
# third needed a save and an edit).
NEW_ITEM_ROWS = 4

TYPE_LABELS = {
    "yesno": _l("Yes / no"),
    "scale": _l("Scale"),
    "choice": _l("Single choice"),
    "timer": _l("Timer (seconds)"),
    "number": _l("Number"),
    "text": _l("Free text"),
    "photo": _l("Photo"),
}


def _text_fields(prefix, label, languages, source_required):
    """One text field per language; only the source language is required in a draft."""
    fields = {}
    for index, language in enumerate(languages):
        validators = [REQUIRED] if (index == 0 and source_required) else [Optional()]
        fields[f"{prefix}_{language}"] = TextAreaField(
            f"{label} · {LANGUAGE_NAMES[language]}", validators=validators + [Length(max=MAX_TEXT_LENGTH)],
            render_kw={"lang": language, "rows": 2},
        )
    return fields


def texts_from(form, prefix, languages):
    """{language: text} of the filled fields only."""
    result = {}
    for language in languages:
        value = (form[f"{prefix}_{language}"].data or "").strip()
        if value:
            result[language] = value
    return result


def fill_texts(form, prefix, texts):
    """Put a text mapping {language: text} into its fields prefix_<language>. `form` is a form, or a
    row of a FieldList (an option, a band, a dimension), whose fields are on its own form: `in` on
    the row itself never matched, so those rows came up empty and a save dropped their translations."""
    form = form.form if isinstance(form, FormField) else form
    for language, text in (texts or {}).items():
        if f"{prefix}_{language}" in form:
            form[f"{prefix}_{language}"].data = text


class NumberField(DecimalField):
    """A DecimalField for a number a checklist holds: a finite one, shown whatever its size."""

    def _value(self):
        # Exactly as the checklist holds it. DecimalField shows two decimal places, and saving an item
        # whose other field was edited then rounded a weight of 0.125 to 0.12, and a pass mark of
        # 99.999 to 100 (no pass mark at all) or of 0.005 to 0.00 (which could not be saved); its
        # rounding also raised past some 10^26 (a draft saved before weights had a bound).
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        number = self.data if isinstance(self.data, Decimal) else Decimal(str(self.data))
        return format(number.normalize(), "f")

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        # Decimal reads "nan", "snan" and "inf" too: the checklist cannot hold them, and a signalling
        # NaN raised in every comparison (NumberRange's too), a 500.
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))

    def pre_validate(self, form):
        # A value that is no number has its one message; the range checks would add "must be more
        # than 0" and "at most 1000" to it, about a number nobody typed.
        # (An empty field is Optional's to pass: it clears the error of reading "" as a number.)
        if self.process_errors and self.raw_data and self.raw_data[0].strip():
            raise StopValidation()



def _band_form_class(languages):
    attrs = _text_fields("label", _l("Label"), languages, False)
    attrs["min"] = NumberField(
        _l("From score (%)"), validators=[Optional(), NumberRange(0, 100, _l("Give a number from 0 to 100."))]
    )
    return type("BandForm", (Form,), attrs)


def _dimension_form_class(languages):
    attrs = _text_fields("label", _l("Label"), languages, False)
    attrs["tag"] = StringField(_l("Dimension id"), validators=[Optional(), Length(max=60), SNAKE_CASE])
    return type("DimensionForm", (Form,), attrs)


def settings_form_class(languages, band_rows, dimension_rows):
    attrs = _text_fields("title", _l("Title"), languages, True)
    attrs["critical_cap"] = NumberField(
        _l("Score cap when a critical item fails (%)"),
        validators=[Optional(), NumberRange(0, 100, _l("Give a number from 0 to 100."))],
    )
    attrs["away"] = BooleanField(_l("Contacts made away from the branch (calls, chats, e-mails)"))
    attrs["bands"] = FieldList(FormField(_band_form_class(languages)), min_entries=band_rows)
    attrs["dimensions"] = FieldList(FormField(_dimension_form_class(languages)), min_entries=dimension_rows)
    attrs["validate"] = _validate_settings
    attrs["source_language"] = languages[0]
    attrs["seen"] = HiddenField()  # editing.fingerprint of the part the page showed
    return type("ChecklistSettingsForm", (AppForm,), attrs)


def _unkeyed_rows(rows, key_name, message):
    """Mark each row with something typed in it but no key (an option's id, a threshold's value...):
    a save keeps only keyed rows, so what was typed would silently go. True when any was marked."""
    marked = False
    for row in rows:
        key = row[key_name]
        if key.data in (None, "") and any(field.data not in (None, "") for field in row if field is not key):
            key.errors.append(message)
            marked = True
    return marked


def _count_row_errors(*lists):
    """Put the errors found in rows after WTForms validated them into their FieldList's errors too,
    where form.errors (the "Nothing was saved" banner) looks; the lists' own sentences stay first."""
    for rows in lists:
        rows.errors = [error for error in rows.errors if isinstance(error, str)] + [
            row.errors for row in rows if row.errors]


def _validate_settings(form, extra_validators=None):
    is_valid = AppForm.validate(form, extra_validators)
    _unkeyed_rows(form.bands, "min", _("Give the band's lowest score, or empty the row."))
    _unkeyed_rows(form.dimensions, "tag", _("Give the dimension an id, or empty the row."))
    mins = [row.min.data for row in form.bands if row.min.data is not None]
    if len(set(mins)) != len(mins):
        form.bands.errors.append(_("Each band needs its own lowest score."))
    tags = [row.tag.data for row in form.dimensions if row.tag.data]
    if len(set(tags)) != len(tags):
        form.dimensions.errors.append(_("Each dimension needs its own id."))
    keyed_rows = [(row, row.min.data) for row in form.bands] + [(row, row.tag.data) for row in form.dimensions]
    for row, key in keyed_rows:
        source_label = row[f"label_{form.source_language}"]
        if key not in (None, "") and not (source_label.data or "").strip():
            source_label.errors.append(_("Give the label in the source language."))
    has_errors = any(sub.errors for rows in (form.bands, form.dimensions) for sub in rows)
    valid = is_valid and not has_errors and not form.bands.errors and not form.dimensions.errors
    _count_row_errors(form.bands, form.dimensions)
    return valid


def settings_from_form(form, languages):
    """(title, critical_cap, bands, dimensions, on_site) as the checklist holds them."""
    bands = [
        {"min": _number(row.min.data), "label": texts_from(row, "label", languages)}
        for row in form.bands if row.min.data is not None
    ]
    dimensions = {
        row.tag.data: texts_from(row, "label", languages) for row in form.dimensions if row.tag.data
    }
    return (texts_from(form, "title", languages), _number(form.critical_cap.data), bands, dimensions,
            not form.away.data)


def fill_settings_form(form, content):
    fill_texts(form, "title", content["title"])
    form.critical_cap.data = content.get("critical_cap")
    form.away.data = content.get("on_site") is False
    for row, band in zip(form.bands, content.get("bands", [])):
        row.min.data = Decimal(str(band["min"]))
        fill_texts(row, "label", band["label"])
    for row, (tag, labels) in zip(form.dimensions, content.get("dimensions", {}).items()):
        row.tag.data = tag
        fill_texts(row, "label", labels)


def dimension_tags_in_use(content):
    """The dimension tags of the checklist's items, in their order of first use."""
    return list(dict.fromkeys(item["dimension"] for section in content["sections"] for item in section["items"]
                              if item.get("dimension")))


def undeclared_dimensions(content):
    """Tags the items carry that the checklist does not declare: free while it declares none; declared
    with some, every one must be."""
    return [tag for tag in dimension_tags_in_use(content) if tag not in content.get("dimensions", {})]


def section_form_class(languages):
    attrs = _text_fields("title", _l("Title"), languages, True)
    attrs["section_id"] = StringField(_l("Section id"), validators=[REQUIRED, Length(max=60), SNAKE_CASE])
    attrs["weight"] = NumberField(_l("Weight"), validators=[Optional(), *WEIGHT_RANGE])
    attrs["seen"] = HiddenField()  # editing.fingerprint of the part the page showed
    return type("SectionForm", (AppForm,), attrs)


def _option_form_class(languages):
    attrs = _text_fields("text", _l("Option text"), languages, False)
    attrs["option_id"] = StringField(_l("Option id"), validators=[Optional(), Length(max=60), SNAKE_CASE])
    attrs["points"] = NumberField(_l("Points"), validators=[
        Optional(), NumberRange(min=0, message=_l("Points cannot be negative.")),
        NumberRange(max=MAX_WEIGHT, message=_l("Points can be at most %(max)s.")),
    ])
    return type("OptionForm", (Form,), attrs)


class ThresholdForm(Form):
    # Its bound depends on the item's type (a timer's or a number's largest answer): see _validate_item.
    max = NumberField(_l("Up to (value)"), validators=[Optional(), NumberRange(min=0, message=_l("Give 0 or more."))])
    points = NumberField(
        _l("Share of points (0 to 1)"),
        validators=[Optional(), NumberRange(0, 1, _l("Give a share from 0 to 1, e.g. 0.5."))],
    )


def _pass_mark_range(form, field):
    # Above 0, as the checklist file takes it (NumberRange's least value would refuse 0.001).
    if field.data is not None and not 0 < field.data <= 100:
        raise ValidationError(_("Give a pass mark above 0 and at most 100."))


def item_form_class(languages, option_rows, threshold_rows, dimension_tags, units_before=None):
    """The item form for a checklist's languages, with room for the given option/threshold rows.
    units_before: the item's unit as saved, kept as it is where its field is left as shown."""
    attrs = {}
    attrs["item_id"] = StringField(_l("Item id"), validators=[REQUIRED, Length(max=60), SNAKE_CASE])
    attrs["type"] = SelectField(
        _l("Type"), choices=[Choice(t, TYPE_LABELS[t]) for t in ITEM_TYPES], validators=[REQUIRED]
    )
    attrs.update(_text_fields("text", _l("Question"), languages, True))
    attrs.update(_text_fields("help", _l("Help for the shopper"), languages, False))
    attrs["weight"] = NumberField(_l("Weight (points)"), validators=[Optional(), *WEIGHT_RANGE])
    attrs["pass_mark"] = NumberField(_l("Pass mark (%)"), validators=[Optional(), _pass_mark_range])
    attrs["critical"] = BooleanField(_l("Critical: a fail flags the visit"))
    attrs["na"] = BooleanField(_l("Allow “not applicable”"))
    attrs["require_comment_on_fail"] = BooleanField(_l("Require a comment when failed"))
    attrs["require_photo_on_fail"] = BooleanField(_l("Require a photo when failed"))
    attrs["required"] = BooleanField(_l("Required: the visit cannot be sent without it"))
    if dimension_tags:
        attrs["dimension"] = SelectField(
            _l("Dimension"), choices=[Choice("", "—")] + [Choice(tag, label) for tag, label in dimension_tags]
        )
    else:
        attrs["dimension"] = StringField(_l("Dimension"), validators=[Optional(), SNAKE_CASE])
    attrs["scale_min"] = IntegerField(_l("Lowest value"), validators=[Optional()])
    attrs["scale_max"] = IntegerField(_l("Highest value"), validators=[Optional()])
    attrs["options"] = FieldList(FormField(_option_form_class(languages)), min_entries=option_rows)
    attrs["thresholds"] = FieldList(FormField(ThresholdForm), min_entries=threshold_rows)
    attrs.update(_text_fields("unit", _l("Unit"), languages, False))
    for language in languages:
        # The order of the forms a |-separated unit takes in this language (units.unit_from_text).
        attrs[f"unit_{language}"].kwargs["render_kw"]["placeholder"] = " | ".join(categories_of(language))
    attrs["units_before"] = units_before or {}
    attrs["show_if_item"] = SelectField(_l("Show only when item"), choices=[])
    attrs["show_if_values"] = StringField(
        _l("has one of these answers (comma-separated)"), validators=[Optional(), Length(max=500)]
    )
    attrs["validate"] = _validate_item
    attrs["seen"] = HiddenField()  # editing.fingerprint of the part the page showed
    return type("ItemForm", (AppForm,), attrs)


def _validate_item(form, extra_validators=None):
    is_valid = AppForm.validate(form, extra_validators)
    kind = form.type.data
    if kind == "scale":
        low, high = form.scale_min.data, form.scale_max.data
        if low is None or high is None:
            form.scale_max.errors.append(_("A scale needs a lowest and a highest value."))
        elif low >= high:
            form.scale_max.errors.append(_("The highest value must be above the lowest."))
        elif high - low + 1 > MAX_SCALE_STEPS:
            form.scale_max.errors.append(_("A scale can have at most %(most)s values, e.g. 0 to 10 or 1 to 5; "
                                           "this one has %(count)s.", most=MAX_SCALE_STEPS, count=high - low + 1))
        elif max(abs(low), abs(high)) > LARGEST_SCALE_VALUE:
            field = form.scale_min if abs(low) > LARGEST_SCALE_VALUE else form.scale_max
            field.errors.append(_("Give a value from %(low)s to %(high)s.", low=format_number(-LARGEST_SCALE_VALUE),
                                  high=format_number(LARGEST_SCALE_VALUE)))
    if kind == "choice":
        _unkeyed_rows(form.options, "option_id", _("Give the option an id, or empty the row."))
        options = [row for row in form.options if row.option_id.data]
        ids = [row.option_id.data for row in options]
        if len(options) < 2:
            form.options.errors.append(_("A single choice needs at least two options, each with an id."))
        elif len(set(ids)) != len(ids):
            form.options.errors.append(_("Each option needs its own id."))
        elif not any((row.points.data or 0) > 0 for row in options):
            form.options.errors.append(_("At least one option must earn points."))
        for row in options:
            if row.points.data is None:
                row.points.errors.append(_("Give the option's points."))
    if kind in ("timer", "number"):
        _unkeyed_rows(form.thresholds, "max", _("Give the value this threshold goes up to, or empty the row."))
        rows = [row for row in form.thresholds if row.max.data is not None]
        if not rows:
            form.thresholds.errors.append(_("Give at least one threshold: up to which value how many points."))
        maxima = [row.max.data for row in rows]
        if maxima != sorted(set(maxima)):
            form.thresholds.errors.append(_("List the thresholds from the smallest value up, each value once."))
        if rows and all(row.points.data == 0 for row in rows):
            form.thresholds.errors.append(_("At least one threshold must earn points."))
        for row in rows:
            if row.points.data is None:
                row.points.errors.append(_("Give the share of points for this threshold."))
            if row.max.data > LARGEST_ANSWER[kind]:
                row.max.errors.append(_("Give a number no larger than %(largest)s.",
                                        largest=format_number(LARGEST_ANSWER[kind])))
    if kind == "number":
        for language, field in _unit_fields(form):
            try:
                _unit_of(form, language, field.data)
            except UnitTextError as error:
                field.errors.append(str(error))
    if form.show_if_item.data and not _split(form.show_if_values.data):
        form.show_if_values.errors.append(_("Name the answers that show this item."))
    has_errors = any(field.errors for field in form) or any(
        sub.errors for rows in (form.options, form.thresholds) for sub in rows
    )
    _count_row_errors(form.options, form.thresholds)
    return is_valid and not has_errors


def _unit_fields(form):
    return [(name[len("unit_"):], field) for name, field in form._fields.items()
            if name.startswith("unit_") and name[len("unit_"):] in LANGUAGE_NAMES]


def _unit_of(form, language, text):
    """A language's unit from its field: None when empty, as saved when left as shown (a plain unit with
    a | in it stays plain), else read as units.unit_from_text reads it (UnitTextError if it cannot be)."""
    text = (text or "").strip()
    if not text:
        return None
    before = form.units_before.get(language)
    if before is not None and text == unit_as_text(before).strip():
        return before
    return unit_from_text(text, language)


def _split(text):
    return [part.strip() for part in re.split(r"[,;]", text or "") if part.strip()]


def _number(value):
    """A form Decimal as the plain int or float the checklist file holds."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def item_from_form(form, languages):
    """The checklist item the form describes, with only the keys its type takes."""
    kind = form.type.data
    item = {"id": form.item_id.data, "type": kind, "text": texts_from(form, "text", languages)}
    help_texts = texts_from(form, "help", languages)
    if help_texts:
        item["help"] = help_texts
    if kind in SCORING_TYPES:
        if form.weight.data is not None:
            item["weight"] = _number(form.weight.data)
        if form.pass_mark.data is not None and form.pass_mark.data != 100:
            item["pass_mark"] = _number(form.pass_mark.data)
        for flag in ("critical", "require_comment_on_fail", "require_photo_on_fail"):
            if form[flag].data:
                item[flag] = True
    if form.na.data:
        item["na"] = True
    if kind in ("text", "photo") and form.required.data:
        item["required"] = True
    if form.dimension.data:
        item["dimension"] = form.dimension.data
    if kind == "scale":
        item["min"], item["max"] = form.scale_min.data, form.scale_max.data
    if kind == "choice":
        item["options"] = [
            {"id": row.option_id.data, "points": _number(row.points.data),
             "text": texts_from(row, "text", languages)}
            for row in form.options if row.option_id.data
        ]
    if kind in ("timer", "number"):
        item["thresholds"] = [
            {"max": _number(row.max.data), "points": _number(row.points.data)}
            for row in form.thresholds if row.max.data is not None
        ]
    if kind == "number":
        units = {language: _unit_of(form, language, form[f"unit_{language}"].data) for language in languages}
        units = {language: unit for language, unit in units.items() if unit is not None}
        if units:
            item["unit"] = units
    if form.show_if_item.data:
        item["show_if"] = {"item": form.show_if_item.data, "in": _split(form.show_if_values.data)}
    return item


def fill_item_form(form, item):
    """Put an existing item into a fresh (not submitted) form."""
    form.item_id.data = item["id"]
    form.type.data = item["type"]
    fill_texts(form, "text", item.get("text"))
    fill_texts(form, "help", item.get("help"))
    fill_texts(form, "unit", {language: unit_as_text(unit) for language, unit in item.get("unit", {}).items()})
    form.weight.data = Decimal(str(item["weight"])) if "weight" in item else None
    form.pass_mark.data = Decimal(str(item["pass_mark"])) if "pass_mark" in item else None
    for flag in ("critical", "na", "required", "require_comment_on_fail", "require_photo_on_fail"):
        form[flag].data = bool(item.get(flag))
    form.dimension.data = item.get("dimension", "")
    form.scale_min.data, form.scale_max.data = item.get("min"), item.get("max")
    for row, option in zip(form.options, item.get("options", [])):
        row.option_id.data = option["id"]
        row.points.data = Decimal(str(option["points"]))
        fill_texts(row, "text", option.get("text"))
    for row, threshold in zip(form.thresholds, item.get("thresholds", [])):
        row.max.data = Decimal(str(threshold["max"]))
        row.points.data = Decimal(str(threshold["points"]))
    condition = item.get("show_if")
    if condition:
        form.show_if_item.data = condition["item"]
        form.show_if_values.data = ", ".join(condition["in"])


class ImportForm(AppForm):
    file = FileField(_l("Checklist file (YAML)"), validators=[FileRequired(_l("Choose a file to import."))])


class TextsImportForm(AppForm):
    file = FileField(_l("Translations spreadsheet (XLSX)"), validators=[FileRequired(_l("Choose a file to import."))])


class NewChecklistForm(AppForm):
    """A checklist begun in the browser: its id, the language it is written in, those it is translated
    into, and its title. Its sections and items are then added in the draft's editor."""

    checklist_id = StringField(_l("Id"), filters=[lambda text: text.strip() if text else text], validators=[
        REQUIRED, Length(max=80),
        Regexp(r"^[a-z][a-z0-9]*([-_][a-z0-9]+)*$", message=_l(
            "Use lowercase words joined by - or _, starting with a letter (e.g. retail-store-visit)."))])
    source = SelectField(_l("Written in"))
    # Boxes to tick, all in sight (a multiple select hid one language and wanted Ctrl to add another).
    translations = SelectMultipleField(_l("Translated into"), widget=ListWidget(prefix_label=False),
                                       option_widget=CheckboxInput())
    title = StringField(_l("Title"), filters=[lambda text: text.strip() if text else text],
                        validators=[DataRequired(_l("This field is required.")), Length(max=MAX_TEXT_LENGTH)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.source.choices = [Choice(code, name) for code, name in LANGUAGE_NAMES.items()]
        self.translations.choices = [Choice(code, name) for code, name in LANGUAGE_NAMES.items()]

    def validate_checklist_id(self, field):
        from .models import Checklist

        existing = Checklist.get_or_none(Checklist.slug == field.data)
        if existing is not None and existing.history().exists():  # one without versions is reused
            raise ValidationError(_("A checklist with this id exists already."))

    def languages(self):
        """The checklist's languages, the one it is written in first."""
        return [self.source.data] + [code for code in self.translations.data or [] if code != self.source.data]


class AddLanguageForm(AppForm):
    """A language for a checklist to be translated into: its texts are then listed as missing, and the
    spreadsheet for translators has a column for it."""

    language = SelectField(_l("Add a language"))

    def __init__(self, *args, languages, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = [Choice(code, name) for code, name in LANGUAGE_NAMES.items() if code not in languages]


class ConfirmForm(AppForm):
    """A button that changes something: only its CSRF token."""

    direction = HiddenField()
    # "yes" from the page that asked whether to delete or discard (editor/confirm.html).
    confirmed = HiddenField()


class ChecklistClientForm(AppForm):
    """The client a checklist is written for (not part of its versions: the same file may serve
    another agency's clients)."""

    brand = SelectField(_l("Client"), coerce=int)

    def __init__(self, *args, **kwargs):
        from .models import Brand

        super().__init__(*args, **kwargs)
        self.brand.choices = [Choice(0, _("Any client"))] + [Choice(b.id, b.name) for b in Brand.ordered()]


def id_taken(content, new_id, current_id):
    """True when another section or item already has new_id."""
    from .checklist.editing import all_ids

    return new_id != current_id and new_id in all_ids(content)


def check_unique_id(field, content, current_id):
    if id_taken(content, field.data, current_id):
        raise ValidationError(_("Another section or item already has this id."))
