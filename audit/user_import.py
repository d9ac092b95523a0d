"""Accounts from a CSV file: how an agency signs up its panel of shoppers (and a client's managers)
in one go, from the spreadsheet it keeps them in (auditors, who manage everything, are made one by one). Each new account gets an invitation link
(password_links); the app sends no e-mail. The accounts of one import share a batch id, so that its
links can be shown again until each is used.

Every row is checked as the account form checks it (the same UserForm, the same messages); a file
with any mistake saves nothing. A row whose e-mail already has an account leaves that account as it
is (its role, regions and sessions are the account page's business): importing the panel's file
again adds only the new people.
"""
import uuid

from peewee import chunked
from werkzeug.datastructures import MultiDict

from . import csv_import, password_links
from .config import LANGUAGES
from .db import write_transaction
from .forms import UserForm
from .i18n import ROLE_LABELS
from .i18n import gettext as _
from .models import Brand, Region, Role, User
from .operations import save_user

COLUMNS = ("email", "name", "role", "language", "regions")
REQUIRED_COLUMNS = ("email", "name", "role")
MAX_ROWS = 2000
REGION_SEPARATOR = "|"  # a manager's regions in one cell: "Hungary | Estonia"
BRAND_SEPARATOR = "/"  # a region named in several brands: "Aurora Electronics / Hungary"


def read_rows(raw):
    """[(row number, {column: text})] of a CSV file of accounts (csv_import.read_rows)."""
    return csv_import.read_rows(raw, COLUMNS, REQUIRED_COLUMNS, MAX_ROWS,
                                _("The file has more than %(count)d accounts; import it in parts."))


def _roles():
    """{what a cell may say: role}: the role's name in the file's words (shopper) or the reader's."""
    roles = {}
    for role, label in ROLE_LABELS.items():
        roles[role] = role
        roles[str(label).casefold()] = role
    return roles


def _region_finder():
    """name -> ([regions], problem): a region by its name, or by "brand / region" where several brands
    have one of that name."""
    by_name, by_brand = {}, {}
    for region in Region.select(Region, Brand).join(Brand):
        by_name.setdefault(region.name.strip().casefold(), []).append(region)
        by_brand[(region.brand.name.strip().casefold(), region.name.strip().casefold())] = region

    def find(text):
        # "brand / region" at each "/" in turn: a brand's or region's own name may hold one.
        parts = text.split(BRAND_SEPARATOR)
        for cut in range(1, len(parts)):
            key = (BRAND_SEPARATOR.join(parts[:cut]).strip().casefold(),
                   BRAND_SEPARATOR.join(parts[cut:]).strip().casefold())
            if key in by_brand:
                return by_brand[key], None
        found = by_name.get(text.strip().casefold(), [])
        if len(found) == 1:
            return found[0], None
        if found:
            return None, _("Several brands have a region named “%(region)s”: write it as “brand / region”.",
                           region=text.strip())
        return None, _("No region named “%(region)s”: add it first, or correct the name.", region=text.strip())
    return find


def check_rows(rows):
    """([checked UserForm], [(row number, e-mail) already with an account], [(row number, problem)])."""
    roles, find_region = _roles(), _region_finder()
    checked, existing, problems, seen = [], [], [], {}
    for number, row in rows:
        email = row.get("email", "").strip().lower()
        if email and email in seen:
            problems.append((number, _("The same e-mail address as row %(first)d.", first=seen[email])))
            continue
        seen[email] = number
        if email and User.by_email(email) is not None:
            existing.append((number, email))
            continue
        # Every mistake of a row at once, in the file's words where the form's would not fit a file: a
        # file of hundreds of rows took a round of corrections for each mistake of a row.
        said, said_fields = [], set()
        role = roles.get(row.get("role", "").strip().casefold())
        if role == Role.AUDITOR.value:
            # An auditor manages every account and client: made one by one, on the account page, never
            # by a row of a shoppers' file (the Hungarian for auditor is the everyday word for inspector).
            said.append(_("Auditors are added one by one, on the New account page, not from a file."))
        elif role is None:
            said.append(_("Role: write shopper or manager."))
        if role is None or role == Role.AUDITOR.value:
            said_fields.update(("role", "regions"))  # whether it needs regions depends on the role
        language = row.get("language", "").strip().lower()
        if language and language not in LANGUAGES:
            said.append(_("Language: write one of %(languages)s, or leave it empty.", languages=", ".join(LANGUAGES)))
            said_fields.add("language")
            language = ""
        region_ids = []
        for text in filter(str.strip, row.get("regions", "").split(REGION_SEPARATOR)):
            region, problem = find_region(text)
            if region is None:
                said.append(problem)
                said_fields.add("regions")
            elif region.id not in region_ids:
                region_ids.append(region.id)
        data = MultiDict([("email", email), ("name", row.get("name", "")), ("role", role or ""), ("language", language),
                          ("is_enabled", "y")] + [("regions", str(region_id)) for region_id in region_ids])
        form = UserForm(formdata=data, meta={"csrf": False})
        form.validate()
        for name in said_fields:  # said above, as a file says it
            form[name].errors = []
        if said or form.errors:
            problems.extend((number, problem) for problem in said)
            problems.extend(csv_import.form_problems(number, form))
        else:
            checked.append(form)
    return checked, existing, problems


def save_rows(checked):
    """(the import's batch id, the new accounts), in one transaction; none of them has a password until
    its invitation link is used (one unusable hash for the file: argon2 for each of hundreds of rows
    took a minute). The batch id names the accounts of this import: its page lists those still
    invited, however often it is opened again."""
    unusable = password_links.unusable_password()
    batch = str(uuid.uuid4())
    with write_transaction():
        added = [save_user(None, form, unusable_password=unusable) for form in checked]
        for ids in chunked([account.id for account in added], 500):  # a bound parameter each
            User.update(import_batch=batch).where(User.id.in_(ids)).execute()
    return batch, added
