"""Auditors manage the organisation: brands, regions, branches and user accounts."""
import re

from flask import (Blueprint, Response, abort, current_app, flash, make_response, redirect, render_template, request,
                   url_for)
from peewee import IntegrityError

from ..access import role_required
from ..db import record_id
from ..forms import (REVISIT_LABEL, BranchForm, BranchImportForm, BranchListForm, BrandForm, BulkVisitForm, RegionForm,
                     UserForm, UserImportForm, UserListForm, VisitChangeForm, VisitForm, VisitListForm, WithdrawVisitForm,
                     last_auditor_message)
from ..editor_forms import ConfirmForm
from ..i18n import LANGUAGE_NAMES, current_language, format_day
from ..i18n import gettext as _
from ..i18n import ngettext
from ..media import ImageRejected, store_logo
from ..models import AuditEntry, Brand, Branch, Checklist, ChecklistVersion, Region, Role, User, Visit, VisitState
from ..paging import Page, found
from .. import auditlog, branch_import, csv_import, operations, password_links, user_import
from ..exports import csv_chunks

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@role_required(Role.AUDITOR)
def _auditors_only():
    """Every admin page is for auditors only."""


def _get_or_404(model, object_id):
    obj = model.get_or_none(model.id == object_id)
    if obj is None:
        abort(404)
    return obj


@bp.route("/")
def index():
    counts = {
        "brands": Brand.select().count(),
        "regions": Region.select().count(),
        "branches": Branch.select().count(),
        "users": User.select().count(),
        "visits": Visit.select().count(),
        "checklists": ChecklistVersion.select().where(ChecklistVersion.is_published).count(),
    }
    shoppers = User.select().where(User.role == Role.SHOPPER.value).count()
    # A new installation has only its first auditor: the order in which the rest is set up, each step
    # with its page, until every step has been done once.
    steps = [
        (counts["brands"] > 0, url_for("admin.brand"), _("Add a brand: the client whose branches are visited, with its logo and colours for its reports.")),
        (counts["regions"] > 0, url_for("admin.region"), _("Add the brand's regions: its branches are grouped in them, and a manager sees the regions given to them.")),
        (counts["branches"] > 0, url_for("admin.import_branches"), _("Import the brand's branches from a CSV file, or add them one by one.")),
        (shoppers > 0, url_for("admin.import_users"), _("Import the shoppers and the client's managers from a CSV file, or add them one by one, and send each their link to choose a password.")),
        (counts["checklists"] > 0, url_for("editor.index"), _("Import a checklist file or begin one in the editor, and publish it.")),
        (counts["visits"] > 0, url_for("admin.assign"), _("Assign visits to the shoppers, one by one or for a whole region.")),
    ]
    return render_template("admin/index.html", counts=counts, steps=None if all(done for done, *_ in steps) else steps)


def _changed_meanwhile(form, row, *more, leave_out=()):
    """Whether the form was sent from a page of `row` older than a change saved since (in another tab,
    or by another auditor): every field of it would be saved, undoing that change (a disabled account
    enabled again, a region it lost given back). Then the page is shown again, as it is now. A new
    row (None) has no older page."""
    if row is None:
        return False
    now = operations.row_fingerprint(row, *more, leave_out=leave_out)
    if not form.is_submitted():
        form.seen.data = now
        return False
    if form.seen.data == now:
        return False
    _say_changed_meanwhile()
    return True


def _say_changed_meanwhile():
    flash(_("This was changed meanwhile (in another tab, or by another auditor); here it is as it is now. "
            "Make your change again."), "error")


def _saved_unless_taken(form, save):
    """save()'s result, or None when a name, code or e-mail address that must be unique was taken
    since the form was checked: the same form sent twice at once (a double press on Save, while the
    password is hashed) or by two auditors. The form, checked again, then names the field, as it does
    for a duplicate found at once (the database refused the row: it answered a 500)."""
    try:
        return save()
    except IntegrityError:
        if form.validate():  # no field names it (a manager's regions saved twice at once): said all the same
            _say_changed_meanwhile()
        return None


@bp.route("/brands")
def brands():
    return render_template("admin/brands.html", brands=Brand.ordered())


@bp.route("/brands/new", methods=["GET", "POST"])
@bp.route("/brands/<int:brand_id>", methods=["GET", "POST"])
def brand(brand_id=None):
    brand = _get_or_404(Brand, brand_id) if brand_id else None
    form = BrandForm(obj=brand, brand=brand)
    if _changed_meanwhile(form, brand):
        return redirect(request.url)
    if form.validate_on_submit():
        logo_name = None
        upload = form.logo.data
        if upload:
            try:
                logo_name = store_logo(
                    upload.read(),
                    current_app.config["MEDIA_DIR"],
                    current_app.config["LOGO_MAX_BYTES"],
                    current_app.config["LOGO_MAX_PIXELS"],
                )
            except ImageRejected as problem:
                form.logo.errors.append(str(problem))
            except OSError:
                form.logo.errors.append(_("The logo cannot be stored right now. Please try again later."))
        saved = None if form.logo.errors else _saved_unless_taken(
            form, lambda: operations.save_brand(brand, form, logo_name))
        if saved:
            auditlog.record("brand.saved", saved.name, new=brand is None)
            flash(_("Brand saved."), "success")
            return redirect(url_for("admin.brands"))
    if form.logo.data and not form.logo.errors:
        # Another field was refused: the browser shows the form again without the file chosen, and
        # a Save after correcting it left the brand without its logo, unnoticed.
        form.logo.errors.append(_("Choose the logo again: a form sent back forgets the file it had."))
    return render_template("admin/brand_form.html", form=form, brand=brand)


@bp.route("/regions")
def regions():
    return render_template("admin/regions.html", regions=Region.ordered(), brands_exist=Brand.select().exists())


@bp.route("/regions/new", methods=["GET", "POST"])
@bp.route("/regions/<int:region_id>", methods=["GET", "POST"])
def region(region_id=None):
    region = _get_or_404(Region, region_id) if region_id else None
    form = RegionForm(obj=region, region=region)
    if region and not form.is_submitted():
        form.brand.data = region.brand_id
    if _changed_meanwhile(form, region):
        return redirect(request.url)
    if form.validate_on_submit() and (saved := _saved_unless_taken(form, lambda: operations.save_region(region, form))):
        auditlog.record("region.saved", saved.name, new=region is None)
        flash(_("Region saved."), "success")
        return redirect(url_for("admin.regions"))
    # One made by mistake can go while nothing is in it; it stayed in every menu and in the dashboard.
    deletable = region is not None and not Branch.select().where(Branch.region == region).exists()
    return render_template("admin/region_form.html", form=form, region=region, deletable=deletable,
                           delete_form=ConfirmForm())


REGION_IN_USE = {
    "branches": lambda: _("This region has branches: it cannot be deleted. Move them to another region first."),
    "managers": lambda: _("Managers still see this region: take it from their accounts first."),
}


@bp.route("/regions/<int:region_id>/delete", methods=["POST"])
def delete_region(region_id):
    region = _get_or_404(Region, region_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        operations.delete_region(region)
    except operations.RegionInUse as refused:
        flash(REGION_IN_USE[refused.code](), "error")
        return redirect(url_for("admin.region", region_id=region.id))
    auditlog.record("region.deleted", region.name)
    flash(_("Region deleted."), "success")
    return redirect(url_for("admin.regions"))


@bp.route("/branches")
def branches():
    """An agency's branches (thousands): filtered by region, found by code, name or town, 50 a page."""
    form = BranchListForm(request.args)
    query = Branch.ordered()
    if form.region.data:
        query = query.where(Branch.region == form.region.data)
    wanted = form.find.data if form.find.data and form.find.validate(form) else None
    rows = found(list(query), wanted, lambda branch: (branch.code, branch.name, branch.city))
    args = {"region": form.region.data or None, "find": wanted}
    return render_template("admin/branches.html", form=form, page=Page(rows, request.args.get("page")),
                           args={name: value for name, value in args.items() if value})


@bp.route("/branches/new", methods=["GET", "POST"])
@bp.route("/branches/<int:branch_id>", methods=["GET", "POST"])
def branch(branch_id=None):
    branch = _get_or_404(Branch, branch_id) if branch_id else None
    form = BranchForm(obj=branch, branch=branch)
    if branch and not form.is_submitted():
        form.region.data = branch.region_id
    if _changed_meanwhile(form, branch):
        return redirect(request.url)
    if form.validate_on_submit() and (saved := _saved_unless_taken(form, lambda: operations.save_branch(branch, form))):
        auditlog.record("branch.saved", saved.code, new=branch is None)
        flash(_("Branch saved."), "success")
        stranded = _open_visits_at_closed_branches().where(Visit.branch == saved)
        if stranded.exists():
            # Its shoppers would still go there: the auditor lands on the visits, to withdraw them.
            flash(ngettext("%(branch)s is closed and still has %(num)d open visit: withdraw it below.",
                           "%(branch)s is closed and still has %(num)d open visits: withdraw them below.",
                           stranded.count(), branch=f"{saved.code} {saved.name}"), "error")
            return redirect(url_for("admin.visits", branch=saved.id))
        return redirect(url_for("admin.branches"))
    return render_template("admin/branch_form.html", form=form, branch=branch)


@bp.route("/branches/import", methods=["GET", "POST"])
def import_branches():
    """A brand's branches from a CSV file (a chain of hundreds, entered or corrected in a spreadsheet):
    every row checked as the branch form checks it; a file with any mistake saves nothing."""
    form = BranchImportForm()
    problems = []
    if form.validate_on_submit():
        brand = Brand.get_by_id(form.brand.data)
        try:
            rows = branch_import.read_rows(form.file.data.read(branch_import.MAX_BYTES + 1))
        except branch_import.ImportRefused as refused:
            form.file.errors.append(str(refused))
        else:
            checked, problems = branch_import.check_rows(brand, rows)
            if not rows:
                form.file.errors.append(_("The file has no branch rows."))
            elif not problems:
                added, updated = branch_import.save_rows(checked)
                auditlog.record("branches.imported", brand.name, added=added, updated=updated)
                flash(ngettext("%(num)d branch added", "%(num)d branches added", added) + ", "
                      + ngettext("%(num)d updated.", "%(num)d updated.", updated), "success")
                stranded = _open_visits_at_closed_branches().where(Region.brand == brand)
                if stranded.exists():
                    # As for one branch closed in its form: nobody should go to these.
                    flash(ngettext("%(num)d open visit is at a closed branch: withdraw it below.",
                                   "%(num)d open visits are at closed branches: withdraw them below.",
                                   stranded.count()), "error")
                    return redirect(url_for("admin.visits", closed=1))
                return redirect(url_for("admin.branches"))
    return render_template("admin/branch_import.html", form=form, problems=problems, columns=branch_import.COLUMNS,
                           brands=Brand.ordered())


def _open_visits_at_closed_branches():
    return (Visit.select().join(Branch).join(Region)
            .where(~Branch.is_active & Visit.state.in_(operations.CHANGEABLE_STATES)))


@bp.route("/brands/<int:brand_id>/branches.csv")
def export_branches(brand_id):
    """A brand's branches in the columns the import reads: to correct in a spreadsheet and import again."""
    brand = _get_or_404(Brand, brand_id)
    name = re.sub(r"[^A-Za-z0-9]+", "-", brand.name).strip("-") or "brand"  # a header holds ASCII only
    return Response(branch_import.export_csv(brand), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}-branches.csv"'})


@bp.route("/users")
def users():
    """The accounts, 50 a page, by role and found by name or e-mail address: an agency's hundreds of
    shoppers came on one page of 23,000 pixels."""
    form = UserListForm(request.args)
    query = User.select().order_by(User.role, User.name)
    role = form.role.data if form.role.data in {r.value for r in Role} else None
    if role:
        query = query.where(User.role == role)
    wanted = form.find.data if form.find.data and form.find.validate(form) else None
    rows = found(list(query), wanted, lambda user: (user.name, user.email))
    args = {"role": role, "find": wanted}
    return render_template("admin/users.html", form=form, page=Page(rows, request.args.get("page")),
                           args={name: value for name, value in args.items() if value},
                           waiting=User.awaiting_password().count())


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id=None):
    user = _get_or_404(User, user_id) if user_id else None
    form = UserForm(obj=user, user=user)
    if user and not form.is_submitted():
        form.regions.data = sorted(user.region_ids())
        form.language.data = user.language or ""
        form.password.data = ""
    # Not the password, when it was set, nor the sessions' epoch, which a sign-out changes: the page
    # shows none of them.
    if _changed_meanwhile(form, user, sorted(user.region_ids()) if user else None,
                          leave_out=("password_hash", "session_epoch", "password_set_at")):
        return redirect(request.url)
    if form.validate_on_submit():
        # A manager given another role loses their regions with it: named, as the page showed them ticked.
        had = user.region_ids() if user and user.role == Role.MANAGER.value and form.role.data != Role.MANAGER.value \
            else set()
        lost = [region for region in Region.ordered() if region.id in had]
        try:
            saved = _saved_unless_taken(form, lambda: operations.save_user(user, form))
        except operations.LastAuditorRefused:
            # Another auditor was demoted or disabled meanwhile (see operations.save_user).
            form.role.errors.append(last_auditor_message())
            return render_template("admin/user_form.html", form=form, account=user)
        if saved is None:
            return render_template("admin/user_form.html", form=form, account=user)
        auditlog.record("user.saved", saved.email, new=user is None, role=saved.role, enabled=saved.is_enabled,
                        password_changed=bool(form.password.data))
        flash(_no_longer_manager(saved, lost) if lost else _("Account saved."), "success")
        if user is None and not form.password.data:
            return _password_link_page(saved)  # a new account without a password: its invitation
        stranded = Visit.select().where((Visit.shopper == saved) & Visit.state.in_(operations.CHANGEABLE_STATES))
        if (not saved.is_enabled or saved.role != Role.SHOPPER.value) and stranded.exists():
            # Nobody would make these visits: the auditor lands on them, to give them to other shoppers.
            flash(ngettext("%(name)s can no longer make %(num)d open visit: give it to another shopper below.",
                           "%(name)s can no longer make %(num)d open visits: give them to other shoppers below.",
                           stranded.count(), name=saved.name), "error")
            return redirect(url_for("admin.visits", shopper=saved.id))
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, account=user)


def _no_longer_manager(account, regions):
    """What the change of a manager's role did: the regions they saw are named, as they were dropped
    without being unticked."""
    names = ", ".join(region.name for region in regions)
    if account.role == Role.AUDITOR.value:
        return _("%(name)s is now an auditor and sees every region, no longer only %(regions)s.",
                 name=account.name, regions=names)
    return _("%(name)s is now a shopper; they no longer see %(regions)s.", name=account.name, regions=names)


@bp.route("/users/import", methods=["GET", "POST"])
def import_users():
    """Accounts from a CSV file (an agency's panel of shoppers): every row checked as the account form
    checks it; a file with any mistake saves nothing. Then the import's page, with the new accounts'
    invitation links: a page of its own (reloading this answer sent the file again, and its links
    were gone with a closed tab)."""
    form = UserImportForm()
    problems, existing = [], []
    if form.validate_on_submit():
        try:
            rows = user_import.read_rows(form.file.data.read(csv_import.MAX_BYTES + 1))
        except csv_import.ImportRefused as refused:
            form.file.errors.append(str(refused))
        else:
            checked, existing, problems = user_import.check_rows(rows)
            if not rows:
                form.file.errors.append(_("The file has no account rows."))
            elif not problems:
                try:
                    batch, added = user_import.save_rows(checked)
                except IntegrityError:  # the same e-mail added by someone else meanwhile
                    form.file.errors.append(_("Another account already uses this e-mail address."))
                else:
                    auditlog.record("users.imported", form.file.data.filename or "", added=len(added),
                                    existing=len(existing))
                    return _imported(batch, added, existing)
    return render_template("admin/user_import.html", form=form, problems=problems, existing=existing,
                           columns=user_import.COLUMNS)


SAID_EXISTING = 10  # e-mail addresses named in the message; a flash travels in the session cookie


def _imported(batch, added, existing):
    """Says what the import did, then goes to its page (or to the accounts, when it added none)."""
    if added:
        flash(ngettext("%(num)d account added.", "%(num)d accounts added.", len(added)), "success")
    if existing:
        emails = ", ".join(email for _row, email in existing[:SAID_EXISTING])
        if len(existing) > SAID_EXISTING:
            emails += " " + ngettext("and %(num)d more", "and %(num)d more", len(existing) - SAID_EXISTING)
        flash(ngettext("%(num)d e-mail address already had an account, left as it is (change it on its page): "
                       "%(emails)s", "%(num)d e-mail addresses already had an account, left as they are (change "
                       "them on their pages): %(emails)s", len(existing), emails=emails), "info")
    if not added:
        return redirect(url_for("admin.users"))
    return redirect(url_for("admin.imported_accounts", batch=batch))


@bp.route("/users/imports/<batch>")
def imported_accounts(batch):
    """One import's accounts still waiting for their first password, each with a link: the page the
    import leads to, and where its links are found again until each is used."""
    imported = User.select().where(User.import_batch == batch)
    if not imported.exists():
        abort(404)
    return _invitations_page(User.awaiting_password(batch), batch=batch, imported=imported.count())


@bp.route("/users/invitations")
def invitations():
    """Every enabled account whose owner has not set a password yet, each with a new link: for the
    invitations of any import, or of an account made without a password, that were lost or ran out."""
    return _invitations_page(User.awaiting_password())


def _invitations_page(waiting, batch=None, imported=None):
    """Accounts waiting for their first password with a new invitation link each, 50 a page: a page
    whose links are keys (kept by no cache, named to no site as a referrer), with a CSV of every link
    for a mail merge. A new link is as good as the first: it signs the same unused password
    (password_links)."""
    page = Page(waiting, request.args.get("page"))
    links = [(account, url_for("auth.password_link", token=password_links.make_token(account), _external=True))
             for account in page.items]
    if links:
        auditlog.record("users.invitation_links", str(len(links)))  # keys handed out, as one link's page
    response = make_response(render_template(
        "admin/invitations.html", page=page, links=links, batch=batch, imported=imported,
        days=password_links.LINK_DAYS, args={"batch": batch} if batch else {}))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/users/invitations.csv", methods=["POST"])
def invitation_links_csv():
    """The invitation links of the accounts waiting for their first password (of one import, with
    `batch`), as CSV for a mail merge. Only those accounts get one: an account whose password is set,
    or which is disabled, is left out whatever the form says."""
    batch = request.form.get("batch") or None
    rows = [["email", "name", "role", "link"]]
    for account in User.awaiting_password(batch):
        rows.append([account.email, account.name, account.role,
                     url_for("auth.password_link", token=password_links.make_token(account), _external=True)])
    auditlog.record("users.invitations_downloaded", str(len(rows) - 1))
    return Response("".join(csv_chunks(rows)), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="invitations.csv"', "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer"})


@bp.route("/users/<int:user_id>/password-link", methods=["POST"])
def password_link(user_id):
    """A link for the account's owner to set a (new) password: the agency's way to invite a shopper or
    to help one who forgot theirs, without knowing the password."""
    account = _get_or_404(User, user_id)  # (CSRFProtect has checked the form's token)
    if not account.is_enabled:
        flash(_("This account is disabled: enable it first, then make the link."), "error")
        return redirect(url_for("admin.user", user_id=account.id))
    return _password_link_page(account)


def _password_link_page(account):
    auditlog.record("user.password_link", account.email)
    link = url_for("auth.password_link", token=password_links.make_token(account), _external=True)
    response = make_response(render_template("admin/password_link.html", account=account, link=link,
                                             days=password_links.LINK_DAYS))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


ASSIGNMENT_MESSAGES = {
    "no_published_version": lambda d: _("This checklist has no published version yet."),
    "too_soon": lambda d: _("This shopper already has a visit to this branch within %(days)d days.", **d),
    "planned_in_window": lambda d: _("This branch already has a visit with this checklist in that window "
                                     "(%(start)s–%(end)s, %(shopper)s). To have it visited a second time on purpose, "
                                     "tick “%(box)s”.",
                                     start=format_day(d["start"]), end=format_day(d["end"]), shopper=d["shopper"],
                                     box=REVISIT_LABEL),
    "not_changeable": lambda d: _("This visit was sent meanwhile; it can no longer be changed here."),
    "changed_meanwhile": lambda d: _("This visit was changed meanwhile (in another tab, or by another auditor); "
                                     "here it is as it is now. Make your change again."),
}


# A sent visit's row leads to its review (to decide it, or to correct it once approved).
REVIEWABLE_STATES = (VisitState.SUBMITTED.value, VisitState.RETURNED.value, VisitState.APPROVED.value)


@bp.route("/visits")
def visits():
    """Visits not approved yet, 50 a page (an agency assigns a month of thousands), with their shoppers;
    one shopper's only with ?shopper= (an account being closed: whose visits go to someone else), one
    branch's with ?branch= (a branch being closed: whose visits nobody can make), those of one state
    with ?state= (approved ones too, newest window first)."""
    form = VisitListForm(request.args)
    state = form.state.data if form.state.data in {s.value for s in VisitState} else None
    upcoming = Visit.with_place().select_extend(User).switch(Visit).join(User)
    if state == VisitState.APPROVED.value:
        upcoming = upcoming.where(Visit.state == state).order_by(Visit.planned_from.desc(), Branch.code, Visit.id)
    else:
        upcoming = upcoming.where((Visit.state == state) if state else (Visit.state != VisitState.APPROVED.value)) \
            .order_by(Visit.planned_from, Branch.code, Visit.id)
    shopper = User.get_or_none(User.id == request.args.get("shopper", type=record_id)) if request.args.get("shopper") else None
    if shopper is not None:
        upcoming = upcoming.where(Visit.shopper == shopper)
    branch = Branch.get_or_none(Branch.id == request.args.get("branch", type=record_id)) if request.args.get("branch") else None
    if branch is not None:
        upcoming = upcoming.where(Visit.branch == branch)
    closed = request.args.get("closed") == "1"  # branches closed by an import: whose visits nobody can make
    if closed:
        upcoming = upcoming.where(~Branch.is_active)
    page = Page(upcoming, request.args.get("page"))
    # Which checklist each visit is to be filled with (two clients' checklists may share a title):
    # the page's few versions read once, not one per row.
    language = current_language()
    versions = {version.id: f"{version.title(language)} · v{version.number}" for version in ChecklistVersion.select(
        ChecklistVersion, Checklist).join(Checklist).where(
        ChecklistVersion.id.in_({visit.checklist_version_id for visit in page.items}))}
    args = {"shopper": shopper.id if shopper else None, "branch": branch.id if branch else None,
            "closed": 1 if closed else None, "state": state}
    return render_template("admin/visits.html", page=page, shopper=shopper, branch=branch, closed=closed,
                           versions=versions, form=form, reviewable=REVIEWABLE_STATES,
                           changeable=operations.CHANGEABLE_STATES,
                           args={name: value for name, value in args.items() if value is not None})


@bp.route("/visits/<visit_uuid>", methods=["GET", "POST"])
def change_visit(visit_uuid):
    """An assigned visit not yet sent: another shopper, window or brief; or withdrawn."""
    visit = Visit.by_uuid(visit_uuid)
    if visit is None:
        abort(404)
    form = VisitChangeForm(obj=visit, visit=visit)
    if not form.is_submitted():
        form.shopper.data = visit.shopper_id
        form.seen.data = operations.visit_fingerprint(visit)
    if visit.state not in operations.CHANGEABLE_STATES:
        flash(ASSIGNMENT_MESSAGES["not_changeable"]({}), "error")
        return redirect(url_for("admin.visits"))
    if form.is_submitted() and form.seen.data != operations.visit_fingerprint(visit):
        # Made from the visit as it was before a change saved since: shown again as it is now.
        flash(ASSIGNMENT_MESSAGES["changed_meanwhile"]({}), "error")
        return redirect(url_for("admin.change_visit", visit_uuid=visit.uuid))
    offer_revisit = bool(form.revisit.data)  # as on the assignment form: only where it is the answer
    if form.validate_on_submit():
        try:
            changed = operations.change_visit(visit, User.get_by_id(form.shopper.data), form.planned_from.data,
                                              form.planned_to.data, form.scenario.data,
                                              current_app.config["MIN_DAYS_BETWEEN_VISITS"], revisit=form.revisit.data)
        except operations.AssignmentRefused as refused:
            offer_revisit = offer_revisit or refused.code == "planned_in_window"
            field = form.planned_from if refused.code == "planned_in_window" else form.shopper
            field.errors.append(ASSIGNMENT_MESSAGES[refused.code](refused.details))
        else:
            details = {"branch": visit.branch.code}
            if changed.shopper_id != visit.shopper_id:
                details["shopper"] = f"{visit.shopper.name} → {changed.shopper.name}"
            if (changed.planned_from, changed.planned_to) != (visit.planned_from, visit.planned_to):
                details["window"] = (f"{visit.planned_from}–{visit.planned_to} → "
                                     f"{changed.planned_from}–{changed.planned_to}")
            if changed.scenario != visit.scenario:
                details["brief"] = changed.scenario
            if form.revisit.data:
                details["revisit"] = True
            auditlog.record("visit.changed", visit.uuid, **details)
            flash(_("The visit was changed."), "success")
            if changed.shopper_id != visit.shopper_id:
                _say_untranslated(visit.checklist_version, [changed.shopper])
            return redirect(url_for("admin.visits"))
    return render_template("admin/visit_change.html", form=form, visit=visit, withdraw_form=WithdrawVisitForm(),
                           offer_revisit=offer_revisit)


def _say_untranslated(version, shoppers):
    """Warns of the shoppers who read a language the checklist has no text in: they are shown it in
    its first language (views.shopper.checklist_language), and the auditor learnt it from the shopper."""
    languages = version.content["languages"]
    readers = {shopper.id: shopper for shopper in shoppers if shopper.language and shopper.language not in languages}
    if readers:
        flash(_("The checklist has no text in the language of %(shoppers)s, who will see it in %(language)s; if they "
                "cannot read it, give their visits to other shoppers.",
                shoppers=", ".join(f"{shopper.name} ({LANGUAGE_NAMES[shopper.language]})"
                                   for shopper in sorted(readers.values(), key=lambda shopper: shopper.name)),
                language=LANGUAGE_NAMES[languages[0]]), "info")


@bp.route("/visits/<visit_uuid>/withdraw", methods=["POST"])
def withdraw_visit(visit_uuid):
    visit = Visit.by_uuid(visit_uuid)
    if visit is None:
        abort(404)
    form = WithdrawVisitForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        for error in form.confirm.errors:
            flash(error, "error")
        return redirect(url_for("admin.change_visit", visit_uuid=visit.uuid))
    try:
        operations.withdraw_visit(visit)
    except operations.AssignmentRefused as refused:
        flash(ASSIGNMENT_MESSAGES[refused.code](refused.details), "error")
    else:
        auditlog.record("visit.withdrawn", visit.uuid, branch=visit.branch.code, shopper=visit.shopper.name,
                        window=f"{visit.planned_from}–{visit.planned_to}")
        flash(_("The visit was withdrawn."), "success")
    return redirect(url_for("admin.visits"))


@bp.route("/visits/new", methods=["GET", "POST"])
def assign():
    form = VisitForm()
    # The re-visit box only where it is the answer: ticked by habit, it would let every double click through.
    offer_revisit = bool(form.revisit.data)
    if form.validate_on_submit():
        try:
            visit = operations.assign_visit(
                Branch.get_by_id(form.branch.data), Checklist.get_by_id(form.checklist.data),
                User.get_by_id(form.shopper.data), form.planned_from.data, form.planned_to.data,
                form.scenario.data, current_app.config["MIN_DAYS_BETWEEN_VISITS"], revisit=form.revisit.data,
            )
        except operations.AssignmentRefused as refused:
            offer_revisit = offer_revisit or refused.code == "planned_in_window"
            field = form.branch if refused.code == "planned_in_window" else form.shopper
            field.errors.append(ASSIGNMENT_MESSAGES[refused.code](refused.details))
        else:
            auditlog.record("visit.assigned", visit.uuid, branch=visit.branch.code,
                            **({"revisit": True} if form.revisit.data else {}))
            flash(_("Visit assigned."), "success")
            _say_untranslated(visit.checklist_version, [visit.shopper])
            return redirect(url_for("admin.visits"))
    return render_template("admin/visit_form.html", form=form, offer_revisit=offer_revisit)


@bp.route("/visits/bulk", methods=["GET", "POST"])
def assign_bulk():
    form = BulkVisitForm()
    if form.validate_on_submit():
        if not Branch.select().where((Branch.region == form.region.data) & Branch.is_active).exists():
            # A region just made, or whose branches are all closed: "0 visits assigned." said it as a success.
            form.region.errors.append(_("This region has no active branch to visit: add its branches first, or "
                                        "open them again."))
            return render_template("admin/visit_bulk.html", form=form)
        shoppers = list(User.select().where(User.id.in_(form.shoppers.data)).order_by(User.name))
        try:
            created, skipped, planned = operations.assign_region(
                Region.get_by_id(form.region.data), Checklist.get_by_id(form.checklist.data), shoppers,
                form.planned_from.data, form.planned_to.data, form.scenarios(),
                current_app.config["MIN_DAYS_BETWEEN_VISITS"],
            )
        except operations.AssignmentRefused as refused:
            form.checklist.errors.append(ASSIGNMENT_MESSAGES[refused.code](refused.details))
        else:
            auditlog.record("visits.assigned", Region.get_by_id(form.region.data).name, count=len(created))
            flash(ngettext("%(num)d visit assigned.", "%(num)d visits assigned.", len(created)), "success")
            if created:
                _say_untranslated(created[0].checklist_version, [visit.shopper for visit in created])
            if skipped:
                flash(_("No chosen shopper may visit these branches yet: %(branches)s",
                        branches=", ".join(b.code for b in skipped)), "error")
            if planned:
                flash(_("These branches already have a visit with this checklist in that window, so none was added: "
                        "%(branches)s", branches=", ".join(b.code for b in planned)), "error")
            return redirect(url_for("admin.visits"))
    return render_template("admin/visit_bulk.html", form=form)


@bp.route("/log")
def log():
    """Who changed what, newest first, 50 a page."""
    page = Page(AuditEntry.newest_first(), request.args.get("page"))
    return render_template("admin/log.html", page=page, action_label=auditlog.action_label,
                           detail_lines=auditlog.detail_lines,
                           words=auditlog.corrected_answers(page.items, current_language()))
