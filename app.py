"""The app for `flask --app app run`, the other `flask` commands and gunicorn ('app:app')."""
import os
import secrets
import sys

from audit import create_app
from audit.config import ConfigError

# gunicorn's exit status for "the application could not be loaded": a worker that ends with it makes
# the master stop too, where any other status makes it start new workers that fail again, forever.
APP_LOAD_ERROR = 4


def _flask_only_shows_help():
    """`flask --help` (or a command's --help) lists commands and options and runs none: an operator
    finding out what the commands are needs no secret key yet. Its app only lists them."""
    command = os.path.normpath(sys.argv[0])
    started_as_flask = os.path.basename(command) == "flask" or command.endswith(os.path.join("flask", "__main__.py"))
    return started_as_flask and "--help" in sys.argv[1:]


try:
    app = create_app({"SECRET_KEY": secrets.token_hex(32)} if _flask_only_shows_help() else None)
except ConfigError as error:
    # A setting to correct, not a bug: its message alone, not a traceback with it at the bottom.
    print(f"Configuration error: {error}", file=sys.stderr)
    sys.exit(APP_LOAD_ERROR)
