"""Command line: `flask init-db`, `flask create-auditor`, `flask demo`, `flask translate ...`."""
import functools
import glob
import json
import os
import subprocess
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from peewee import DatabaseError, IntegrityError, InterfaceError

from . import ROOT
from .db import database, reported_error


def reports_database_errors(command):
    """Decorator: a database that cannot be reached (server down, wrong host or name) ends the command
    with one line naming the cause, not a traceback."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except IntegrityError:
            raise  # a bug, with its traceback
        except (DatabaseError, InterfaceError) as error:  # server away, wrong name, no schema, no database file
            cause = " ".join(str(reported_error(error)).split()) or type(error).__name__
            raise click.ClickException(
                f"The database (DATABASE_URL) cannot be used: {cause}. Check that its server runs, that "
                f"DATABASE_URL names it, and that its disk has room."
            ) from None

    return run


def needs_current_schema(command):
    """Decorator: the command runs only on a database at this release's schema version. One that is not
    there (a mistyped DATABASE_URL: nothing is created), has no schema, or is of another release is
    refused in one line, and nothing is changed."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        from .backup import engine_of, sqlite_path
        from .migrations import schema_problem

        url = current_app.config["DATABASE_URL"]
        if engine_of(url) == "sqlite" and not os.path.isfile(sqlite_path(url)):
            raise click.ClickException(f"There is no database at {sqlite_path(url)}; nothing was changed. Check "
                                       "DATABASE_URL, or create the database with `flask init-db`.")
        with database.connection_context():
            problem = schema_problem()
        if problem:
            raise click.ClickException(f"This database cannot be used: {problem}. Nothing was changed.")
        return command(*args, **kwargs)

    return reports_database_errors(run)


def init_app(app):
    app.cli.add_command(init_db_command)
    app.cli.add_command(create_auditor_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(translate)
    app.cli.add_command(checklists)
    app.cli.add_command(media)
    app.cli.add_command(rescore_command)
    from .backup import backup_command, restore_command
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.command("init-db")
@with_appcontext
@reports_database_errors
def init_db_command():
    """Create the database, or upgrade an older one in place (a newer release's database is refused)."""
    from .migrations import migrate_database

    with database.connection_context():
        before, after = migrate_database()
    if before is None:
        click.echo(f"Created the database at schema version {after}.")
    elif before == after:
        click.echo(f"The database is up to date (schema version {after}).")
    else:
        click.echo(f"Upgraded the database from schema version {before} to {after}.")


@click.command("create-auditor")
@click.argument("email")
@click.option("--name", default="", help="The full name shown in the app (the e-mail address if none).")
@click.password_option(help="Asked for when not given (twice, not shown).")
@with_appcontext
@needs_current_schema
def create_auditor_command(email, name, password):
    """Make EMAIL an enabled auditor with this password: the first account of a new installation, or
    the way back in when no auditor can sign in. Its other sessions end."""
    from email_validator import EmailNotValidError, validate_email

    from .auditlog import record
    from .forms import PASSWORD_MIN
    from .models import ManagerRegion, Role, User, utcnow
    from .security import hash_password

    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise click.BadParameter(str(error), param_hint="EMAIL") from error
    if len(password) < PASSWORD_MIN:
        raise click.BadParameter(f"at least {PASSWORD_MIN} characters.", param_hint="password")
    with database.connection_context(), database.atomic():
        user = User.by_email(email)
        created = user is None
        before = None if created else f"{user.role}{'' if user.is_enabled else ', disabled'}"
        if created:
            user = User(email=email, name=name.strip() or email)
        else:
            user.name = name.strip() or user.name
            user.session_epoch += 1  # the sessions of the old password end
            ManagerRegion.delete().where(ManagerRegion.manager == user).execute()  # an auditor sees all
        user.role, user.is_enabled, user.password_hash = Role.AUDITOR.value, True, hash_password(password)
        user.password_set_at = utcnow()
        user.save()
        record("user.saved", user.email, new=created, role=user.role, enabled=True, password_changed=True,
               via="create-auditor", was=before)
    click.echo(f"Created the auditor account {email}." if created
               else f"Updated the auditor account {email} (it was: {before}).")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
@click.option("--scale", "scale_visits", type=click.IntRange(min=1), default=None, metavar="N",
              help="Also add a national chain with N scored visits (500 branches, a visit a month each).")
@click.option("--branches", type=click.IntRange(min=1), default=500, show_default=True,
              help="Branches of the --scale chain.")
@with_appcontext
@reports_database_errors
def demo_command(if_empty, scale_visits, branches):
    """Load realistic demo data: brands, regions, branches, accounts and six months of visits
    (only with AUDIT_DEMO=1: its accounts share a published password)."""
    import time

    from .demo import DEMO_LOGINS, DEMO_PASSWORD, load_demo
    from .migrations import migrate_database
    from .models import User
    from .scale import CHAIN_MANAGER, ScaleError, load_scale

    # Every demo account signs in with the password printed below and in the README: in a production
    # database they would be open doors. Tests load it as the demo does.
    if not (current_app.config.get("DEMO_MODE") or current_app.config.get("TESTING")):
        raise click.ClickException(
            "The demo data's accounts all share the published password, so they are loaded only into a local "
            "demo: set AUDIT_DEMO=1 (as `make run` does). Nothing was loaded."
        )
    with database.connection_context():
        migrate_database()
        if User.select().exists():
            if if_empty:
                click.echo("The database already has data; demo data not loaded.")
                scale_visits = None  # "do nothing": not the chain either
            elif scale_visits is None:
                raise click.ClickException("The database is not empty; demo data goes only into an empty one.")
        else:
            counts = load_demo()
            click.echo("Loaded demo data: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
        if scale_visits is not None:
            started = time.perf_counter()
            try:
                counts = load_scale(scale_visits, branches)
            except ScaleError as error:
                raise click.ClickException(str(error)) from error
            seconds = time.perf_counter() - started
            click.echo("Loaded the chain: " + ", ".join(f"{n:,} {what}" for what, n in counts.items())
                       + f" in {seconds:.1f} s; its manager is {CHAIN_MANAGER}.")
        # Only accounts that can sign in: a database with data of its own has none of them.
        present = {email for (email,) in User.select(User.email).where(
            User.email.in_([email for _role, email in DEMO_LOGINS]) & User.is_enabled).tuples()}
    if present:
        click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for role, email in DEMO_LOGINS:
            if email in present:
                click.echo(f"  {role:<9} {email}")


@click.group(cls=AppGroup)
def translate():
    """Translation catalogs: extract, update, compile."""


def _catalogs():
    return current_app.config["BABEL_TRANSLATION_DIRECTORIES"]


CATALOG_WIDTH = "100"


def _pybabel(*args):
    command = [sys.executable, "-m", "babel.messages.frontend", *args]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode == 0:
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)  # what it did, catalog by catalog
    else:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise click.ClickException(f"pybabel {args[0]} failed (exit code {result.returncode}): {last}")


@translate.command()
def update():
    """Extract the strings and merge them into every catalog."""
    pot = os.path.join(_catalogs(), "messages.pot")
    # Lines of up to 100 characters, as the catalogs are kept: another width rewraps every entry.
    _pybabel("extract", "-F", "translations/babel.cfg", "-k", "_l", "-k", "lazy_gettext", "--no-location",
             "--sort-output", "-w", CATALOG_WIDTH, "-o", pot, "audit")
    _pybabel("update", "-i", pot, "-d", _catalogs(), "--no-fuzzy-matching", "--ignore-obsolete", "-w", CATALOG_WIDTH)


@translate.command()
def compile():
    """Compile the catalogs to .mo files."""
    _pybabel("compile", "-d", _catalogs())


@translate.command()
@click.argument("lang")
def init(lang):
    """Start a catalog for a new language (an existing catalog is never replaced)."""
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        raise click.ClickException(f"{lang!r} is not a language code Babel knows (e.g. de, fr, pt_BR).") from None
    catalog = os.path.join(_catalogs(), lang, "LC_MESSAGES", "messages.po")
    if os.path.exists(catalog):
        raise click.ClickException(
            f"{catalog} exists already; `init` would replace its translations with empty ones. "
            f"Use `flask translate update` to add new strings to it."
        )
    _pybabel("init", "-i", os.path.join(_catalogs(), "messages.pot"), "-d", _catalogs(), "-l", lang)


def in_the_operators_language(command):
    """Decorator: a checklist file's problems in the language of the operator's environment (LANGUAGE,
    LC_ALL, LC_MESSAGES, LANG, as gettext reads them) where the app has it, else English. An author
    working in Hungarian got the file checker's sentences in English on the command line, in Hungarian
    only from the web import."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        from flask_babel import force_locale

        from .config import LANGUAGES

        wanted = []
        for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
            if os.environ.get(name):
                wanted = [part.split("_")[0].split(".")[0].lower() for part in os.environ[name].split(":")]
                break
        language = next((code for code in wanted if code in LANGUAGES), "en")
        with force_locale(language):
            return command(*args, **kwargs)

    return run


@click.group(cls=AppGroup)
def checklists():
    """Checklist files: validate, score, load into the database, export."""


@checklists.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@in_the_operators_language
def validate_command(paths):
    """Check checklist files; prints "PATH: ok" or one "PATH:LINE: message" per problem."""
    from .checklist import ChecklistError, load_checklist_file

    failed = False
    for path in paths:
        try:
            load_checklist_file(path)
            click.echo(f"{path}: ok")
        except ChecklistError as error:
            failed = True
            for problem in error.problems:
                click.echo(str(problem))
    sys.exit(1 if failed else 0)


def _read_answers(path):
    try:
        with open(path, encoding="utf-8") as f:
            answers = json.load(f)
    except OSError as error:
        raise click.ClickException(f"{path}: cannot read the answers file ({error.strerror}).")
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{path}:{error.lineno}: not valid JSON ({error.msg}).")
    if not isinstance(answers, dict):
        raise click.ClickException(f"{path}: the answers must be a JSON object of item id to value.")
    return answers


@checklists.command("score")
@click.argument("path", type=click.Path())
@click.argument("answers_path", metavar="ANSWERS.json", type=click.Path())
def score_command(path, answers_path):
    """Score answers against a checklist file and print the result as JSON."""
    from .checklist import ChecklistError, load_checklist_file
    from .scoring import check_answers, score

    try:
        checklist = load_checklist_file(path)
    except ChecklistError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    try:
        answers = _read_answers(answers_path)
    except click.ClickException as error:
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(2)
    problems = check_answers(checklist, answers)
    if problems:
        for problem in problems:
            click.echo(f"{answers_path}: {problem}", err=True)
        sys.exit(2)
    click.echo(json.dumps(score(checklist, answers).to_json(places=2), ensure_ascii=False))


@checklists.command("load")
@click.argument("paths", nargs=-1, type=click.Path())
@needs_current_schema
@in_the_operators_language
def load_command(paths):
    """Publish checklist files (default: all of checklists/) as new versions where they changed."""
    from .checklist import ChecklistError
    from .migrations import migrate_database
    from .operations import DraftOpen, publish_checklist_file

    paths = paths or sorted(glob.glob(os.path.join(current_app.config["CHECKLIST_DIR"], "*.yaml")))
    failed = False
    with database.connection_context():
        migrate_database()
        for path in paths:
            try:
                version, created = publish_checklist_file(path)
            except ChecklistError as error:
                failed = True
                for problem in error.problems:
                    click.echo(str(problem))
                continue
            except DraftOpen as refused:
                failed = True
                click.echo(f"{path}: not published: {refused}")
                continue
            slug = version.checklist.slug
            if created:
                click.echo(f"{path}: published {slug} version {version.number}")
            else:
                click.echo(f"{path}: unchanged, {slug} stays at version {version.number}")
    sys.exit(1 if failed else 0)


@checklists.command("export")
@click.argument("checklist_id")
@click.option("--version", "number", type=int, help="Version number (default: the latest published).")
@click.option("--output", "-o", type=click.Path(), help="Write to this file instead of the screen.")
@needs_current_schema
def export_command(checklist_id, number, output):
    """Write a checklist version back to YAML."""
    from .checklist import dump_checklist_yaml
    from .models import ChecklistVersion

    with database.connection_context():
        version = ChecklistVersion.find(checklist_id, number)
        if version is None:
            which = f"version {number}" if number is not None else "published version"
            raise click.ClickException(f"Checklist {checklist_id!r} has no {which}.")
        text = dump_checklist_yaml(version.content)
    if output:
        try:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as error:
            raise click.ClickException(f"Cannot write {output}: {error.strerror}.") from None
        click.echo(f"Wrote {checklist_id} version {version.number} to {output}")
    else:
        click.echo(text, nl=False)


@click.group(cls=AppGroup)
def media():
    """Files under MEDIA_DIR."""


@media.command("prune")
@click.option("--min-age-minutes", type=click.IntRange(min=1), default=60, show_default=True,
              help="Leave files younger than this: an upload in progress has its file before its row.")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@needs_current_schema
def prune_media_command(min_age_minutes, dry_run):
    """Remove photos and logos that no row refers to (left by a crash mid-upload, or replaced logos)."""
    from .operations import leftover_media

    media_dir = current_app.config["MEDIA_DIR"]
    with database.connection_context():
        leftovers = leftover_media(media_dir, min_age_minutes * 60)
    for relative, _size in leftovers:
        click.echo(relative)
        if not dry_run:
            try:
                os.remove(os.path.join(media_dir, relative))
            except FileNotFoundError:
                pass  # removed meanwhile
    total = sum(size for _name, size in leftovers) / 1e6
    verb = "Would remove" if dry_run else "Removed"
    click.echo(f"{verb} {len(leftovers)} unreferenced file(s), {total:.1f} MB.")


@click.command("rescore")
@click.option("--check", is_flag=True,
              help="Only count the visits whose stored results differ; exit 1 when there are any.")
@with_appcontext
@needs_current_schema
def rescore_command(check):
    """Score every sent visit again with this release's scoring function (after it was corrected)."""
    from .rescoring import rescore_visits

    def progress(done, total):
        click.echo(f"{done:,} of {total:,} visits", err=True)

    with database.connection_context():
        summary = rescore_visits(apply=not check, progress=progress)
    if check:
        click.echo(f"Checked {summary.checked:,} sent visits; stored results differ from this release's scoring "
                   f"for {summary.differing:,}" + (" (run `flask rescore`)." if summary.differing else "."))
        if summary.differing:
            sys.exit(1)
    else:
        click.echo(f"Checked {summary.checked:,} sent visits; scored again: {summary.rewritten:,}.")
