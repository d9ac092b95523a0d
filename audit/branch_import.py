"""A brand's branches as a CSV file, and back: how an agency enters a chain of hundreds of branches,
and corrects them (addresses, coordinates, closed branches) in a spreadsheet.

Every row is checked as the branch form checks it (the same BranchForm, the same messages); a file
with any mistake saves nothing. A row whose code is already a branch of its region updates it; a
column the file leaves out keeps what the branch has (a file of the required columns only, to
correct addresses, wiped the coordinates and opened closed branches again).
"""
import re

from babel import Locale
from werkzeug.datastructures import MultiDict

from . import csv_import
from .config import LANGUAGES
from .csv_import import ImportRefused  # noqa: F401 (the views catch it from here)
from .db import write_transaction
from .exports import csv_chunks
from .forms import BranchForm
from .i18n import gettext as _
from .models import Branch, Region
from .operations import save_branch

COLUMNS = ("code", "name", "region", "address", "city", "country", "latitude", "longitude", "active")
REQUIRED_COLUMNS = ("code", "name", "region", "address", "city", "country")
MAX_BYTES = csv_import.MAX_BYTES
MAX_ROWS = 5000
YES, NO = ("yes", "true", "1", "y"), ("no", "false", "0", "n")
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


def export_rows(brand):
    """The header and a row per branch of the brand, in the columns the import reads."""
    yield list(COLUMNS)
    query = Branch.select(Branch, Region).join(Region).where(Region.brand == brand).order_by(Region.name, Branch.code)
    for branch in query:
        yield [branch.code, branch.name, branch.region.name, branch.address, branch.city, branch.country,
               "" if branch.latitude is None else branch.latitude, "" if branch.longitude is None else branch.longitude,
               "yes" if branch.is_active else "no"]


def export_csv(brand):
    return "".join(csv_chunks(export_rows(brand)))


def read_rows(raw):
    """[(row number, {column: text})] of a CSV file of branches (csv_import.read_rows)."""
    return csv_import.read_rows(raw, COLUMNS, REQUIRED_COLUMNS, MAX_ROWS,
                                _("The file has more than %(count)d branches; import it in parts."))


def check_rows(brand, rows):
    """([(existing branch or None, checked form)], [(row number, problem)]) of the rows for `brand`."""
    regions = {region.name.strip().casefold(): region for region in Region.select().where(Region.brand == brand)}
    in_file = {(regions[row["region"].casefold()].id, row.get("code", "").upper())
               for _number, row in rows if row.get("region", "").casefold() in regions}
    elsewhere = _branches_by_code(brand)
    countries = _country_names()
    codes = set(countries.values())
    checked, problems, seen = [], [], {}
    for number, row in rows:
        # Every mistake of a row at once, in the file's words where the form's would not fit a file: a
        # file of hundreds of rows took a round of corrections for each mistake of a row.
        said, said_fields = [], set()
        region = regions.get(row.get("region", "").casefold())
        code = row.get("code", "").upper()
        if region is None:
            said.append(_("No region named “%(region)s” in %(brand)s: add it first, or correct the name.",
                          region=row.get("region", ""), brand=brand.name))
            said_fields.add("region")
        elif (region.id, code) in seen:
            problems.append((number, _("The same branch (code %(code)s in %(region)s) as row %(first)d.",
                                       code=code, region=region.name, first=seen[(region.id, code)])))
            continue
        else:
            seen[(region.id, code)] = number
        active = row.get("active", "").lower()
        if active and active not in YES + NO:
            said.append(_("Active: write yes or no."))
        existing = Branch.get_or_none((Branch.region == region) & (Branch.code == code)) if code and region else None
        # The export with a branch's region corrected added a second branch of that code, in the new
        # region, beside the old one (still open, visited twice by a region's assignment). Which one is
        # meant cannot be told: a brand may reuse a code in each region on purpose (the file then lists
        # both, as its export does).
        moved = [other for other in elsewhere.get(code, ()) if (other.region_id, code) not in in_file]
        if region is not None and existing is None and moved:
            said.append(_("%(code)s is already a branch of %(other)s (%(name)s): to move it to %(region)s, change its "
                          "region on its page. A second branch with this code is added only by a file that lists the "
                          "first one too.", code=code, other=moved[0].region.name, name=moved[0].name,
                          region=region.name))
        country = row.get("country", "")
        country = countries.get(country.casefold(), country.upper())
        if country and country not in codes:
            said.append(_("Country: write its two-letter code, such as HU, or its name."))
            said_fields.add("country")
        # A coordinate column left out keeps the stored coordinate; one there with an empty cell clears
        # it (how wrong coordinates are removed, and what an exported branch without them says).
        coordinates = {name: _decimal(row[name]) if name in row else _stored_text(existing, name)
                       for name in ("latitude", "longitude")}
        data = MultiDict({**{name: row.get(name, "") for name in ("code", "name", "address", "city")},
                          "country": country, "region": str(region.id) if region else "", **coordinates})
        # Active left out or empty: a branch keeps its state (an empty cell closing or opening branches
        # would be a surprise), a new one is open.
        if active in YES or (not active and (existing is None or existing.is_active)):
            data["is_active"] = "y"
        form = BranchForm(formdata=data, branch=existing, meta={"csrf": False})
        form.validate()
        for name in said_fields:  # said above, as a file says it
            form[name].errors = []
        if said or form.errors:
            problems.extend((number, problem) for problem in said)
            problems.extend(csv_import.form_problems(number, form))
        else:
            checked.append((existing, form))
    return checked, problems


def _country_names():
    """{a country's name in any of the app's languages, or its code, casefolded: its code}: a
    spreadsheet's country column often says "Hungary" or "Magyarország" ("Choose one of the offered
    options" named no option a file could choose)."""
    names = {}
    for language in LANGUAGES:
        for code, name in Locale.parse(language).territories.items():
            if len(code) == 2 and code.isalpha():
                names.setdefault(name.casefold(), code)
                names[code.casefold()] = code
    return names


def _branches_by_code(brand):
    """{code: [the brand's branches with that code]}."""
    by_code = {}
    for branch in Branch.select(Branch, Region).join(Region).where(Region.brand == brand):
        by_code.setdefault(branch.code, []).append(branch)
    return by_code


def _stored_text(branch, name):
    """A branch's stored value as the file would write it; "" for a new branch."""
    value = None if branch is None else getattr(branch, name)
    return "" if value is None else str(value)


def _decimal(text):
    # 47,4979 from a spreadsheet where the decimal mark is a comma.
    return text.replace(",", ".") if _DECIMAL_COMMA.match(text) else text


_STORED = ("region_id", "code", "name", "address", "city", "country", "latitude", "longitude", "is_active")


def save_rows(checked):
    """Store the checked rows in one transaction; returns (added, updated): a row that changes nothing
    of its branch is neither (the same file imported again said "10 updated")."""
    added = updated = 0
    with write_transaction():
        for existing, form in checked:
            before = None if existing is None else [getattr(existing, name) for name in _STORED]
            saved = save_branch(existing, form)
            if existing is None:
                added += 1
            elif [getattr(saved, name) for name in _STORED] != before:
                updated += 1
    return added, updated
