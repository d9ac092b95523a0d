"""Command line: `flask init-db`, `flask demo`, `flask translate ...`."""
import os
import subprocess
import sys

import click
from flask import current_app

from . import ROOT
from .db import database


def init_app(app):
    app.cli.add_command(init_db_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(translate)


@click.command("init-db")
def init_db_command():
    """Create the database, or upgrade an older one in place."""
    from .migrations import migrate_database

    with database.connection_context():
        before, after = migrate_database()
    if before is None:
        click.echo(f"Created the database at schema version {after}.")
    elif before == after:
        click.echo(f"The database is up to date (schema version {after}).")
    else:
        click.echo(f"Upgraded the database from schema version {before} to {after}.")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def demo_command(if_empty):
    """Load realistic demo data: brands, regions, branches, accounts and six months of visits."""
    from .demo import DEMO_LOGINS, DEMO_PASSWORD, load_demo
    from .migrations import migrate_database
    from .models import User

    with database.connection_context():
        migrate_database()
        if User.select().exists():
            if if_empty:
                click.echo("The database already has data; demo data not loaded.")
            else:
                raise click.ClickException("The database is not empty; demo data goes only into an empty one.")
        else:
            counts = load_demo()
            click.echo("Loaded demo data: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for role, email in DEMO_LOGINS:
        click.echo(f"  {role:<9} {email}")


@click.group()
def translate():
    """Translation catalogs: extract, update, compile."""


def _pybabel(*args):
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


@translate.command()
def update():
    """Extract the strings and merge them into every catalog."""
    _pybabel("extract", "-F", "translations/babel.cfg", "-k", "_l", "-k", "lazy_gettext", "--no-location",
             "--sort-output", "-o", "translations/messages.pot", "audit")
    _pybabel("update", "-i", "translations/messages.pot", "-d", "translations", "--no-fuzzy-matching", "--ignore-obsolete")


@translate.command()
def compile():
    """Compile the catalogs to .mo files."""
    _pybabel("compile", "-d", "translations")


@translate.command()
@click.argument("lang")
def init(lang):
    """Start a catalog for a new language."""
    _pybabel("init", "-i", "translations/messages.pot", "-d", "translations", "-l", lang)
