"""The app for `flask --app app run`, the other `flask` commands and gunicorn ('app:app')."""
import sys

from audit import create_app
from audit.config import ConfigError

# gunicorn's exit status for "the application could not be loaded": a worker that ends with it makes
# the master stop too, where any other status makes it start new workers that fail again, forever.
APP_LOAD_ERROR = 4

try:
    app = create_app()
except ConfigError as error:
    # A setting to correct, not a bug: its message alone, not a traceback with it at the bottom.
    print(f"Configuration error: {error}", file=sys.stderr)
    sys.exit(APP_LOAD_ERROR)
