"""Signing in and out, and choosing the language."""
import time
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from .. import auditlog, password_links
from ..forms import PASSWORD_MIN, ChangePasswordForm, LanguageForm, LoginForm, NewPasswordForm
from ..i18n import gettext as _
from ..i18n import ngettext
from ..models import User
from ..security import account_sign_in_wait, check_password, count_failed_sign_in, limit_sign_in_attempts

bp = Blueprint("auth", __name__)


def _safe_next(target):
    """Only a path on this site: an open redirect would hand the session to a phishing page. A control
    character (a line break) cannot go into the Location header at all: the redirect would fail."""
    if not target or any(ord(character) < 32 or ord(character) == 127 for character in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user):
    if user.is_auditor:
        return url_for("admin.index")
    if user.is_manager:
        return url_for("dashboard.index")
    return url_for("shopper.visits")


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


def _start_session(user):
    """A fresh session for `user` (no fixation: nothing of the one before is kept); returns the
    language the visitor had chosen in the session before, for the caller to keep or not."""
    language = session.get("language")
    session.clear()
    login_user(user)
    session.permanent = True
    session["signed_in_at"] = session["seen_at"] = int(time.time())
    return language


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        limit_sign_in_attempts()
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if request.method == "GET" and session.get("sign_in_email"):
        form.email.data = session["sign_in_email"]  # just set with a password link: one field less to type
    if form.validate_on_submit():
        wait = account_sign_in_wait(form.email.data)
        if wait is not None:  # the right password too: guessing must not go on
            flash(ngettext("Too many failed sign-ins for this account: please try again in %(num)d minute.",
                           "Too many failed sign-ins for this account: please try again in %(num)d minutes.", wait),
                  "error")
            return render_template("auth/login.html", form=form), 429
        user = User.by_email(form.email.data)
        if check_password(user, form.password.data) and user.is_enabled:
            language = _start_session(user)
            if language and not user.language:
                _keep_language(user, language, unless_chosen=True)
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
        count_failed_sign_in(form.email.data)
        flash(_("The e-mail or password is not right."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Sessions live in signed cookies; a new epoch makes every copy of this account's cookie worthless.
    User.update(session_epoch=User.session_epoch + 1).where(User.id == current_user.id).execute()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Anyone signed in changes their own password: the current one first (counted as a sign-in is:
    a session left open must not be a way to guess it), then the new one twice. Every other session
    of the account ends; this one goes on."""
    form = ChangePasswordForm()
    if request.method == "POST":
        limit_sign_in_attempts()
    if form.validate_on_submit():
        wait = account_sign_in_wait(current_user.email)
        if wait is not None:
            flash(ngettext("Too many failed sign-ins for this account: please try again in %(num)d minute.",
                           "Too many failed sign-ins for this account: please try again in %(num)d minutes.", wait),
                  "error")
            return render_template("auth/change_password.html", form=form, password_min=PASSWORD_MIN), 429
        if not check_password(current_user, form.current.data):
            count_failed_sign_in(current_user.email)
            form.current.errors.append(_("This is not your current password."))
        elif not password_links.set_password(current_user, form.password.data):
            # Changed meanwhile (another tab or browser), which ended this session too.
            logout_user()
            session.clear()
            flash(_("Your password was changed meanwhile, in another window: sign in with the new one."), "error")
            return redirect(url_for("auth.login"))
        else:
            auditlog.record("user.password_changed", current_user.email)
            account = User.by_id(current_user.id)  # with the new session epoch
            language = _start_session(account)
            if language:
                session["language"] = language
            flash(_("Your password is changed. Wherever else you were signed in, you are signed out."), "success")
            return redirect(home_for(account))
    return render_template("auth/change_password.html", form=form, password_min=PASSWORD_MIN)


@bp.route("/password/<token>", methods=["GET", "POST"])
def password_link(token):
    """Set an account's password with the link an auditor made (an invitation, or a forgotten
    password): typed twice; then every session of the account ends and the person signs in with it."""
    account, problem = password_links.account_of(token)
    if account is not None:
        g.account_language = account.language  # the invitation in the language chosen for the person
    if account is None:
        return _key_page(render_template("auth/password_link_gone.html", expired=problem == "expired"), 410)
    form = NewPasswordForm()
    if form.validate_on_submit():
        if not password_links.set_password(account, form.password.data):  # used meanwhile, in another tab
            return _key_page(render_template("auth/password_link_gone.html", expired=False), 410)
        auditlog.record_by(account.id, "user.password_set", account.email)
        if current_user.is_authenticated:  # someone else's session in this browser
            logout_user()
        session.clear()
        if account.language:
            session["language"] = account.language  # the sign-in page in the language of the link's page
        # The sign-in page has the address filled in: a new shopper did not know which one the
        # agency had used for them. Gone at the sign-in (a new session).
        session["sign_in_email"] = account.email
        flash(_("Your password is set. Sign in with it."), "success")
        return redirect(url_for("auth.login"))
    return _key_page(render_template("auth/password_link.html", form=form, account=account, password_min=PASSWORD_MIN))


def _key_page(html, status=200):
    """A page whose address is a key (a password link): kept by no cache, and named to no other site
    (nor to this one) as a referrer."""
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _keep_language(user, language, unless_chosen=False):
    """The account's language, and nothing else of it: saved whole, the row read when the request
    began was written back, and an account disabled (or signed out everywhere, or given a new
    password) meanwhile was enabled again with its sessions and old password, by a language
    picked at that moment; one who kept picking a language while being disabled stayed in.
    `unless_chosen`: only if the account has no language of its own yet."""
    query = User.update(language=language).where(User.id == user.id)
    (query.where(User.language.is_null()) if unless_chosen else query).execute()
    user.language = language


def choose_language(language):
    """The language picked in the top bar, for this browser and the signed-in account."""
    session["language"] = language
    if current_user.is_authenticated:
        _keep_language(current_user, language)


@bp.route("/language", methods=["POST"])
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        choose_language(form.language.data)
    else:
        flash(_("Choose one of the offered languages."), "error")
    return redirect(_safe_next(form.next.data) or url_for("auth.index"))
