"""Entry point for `flask --app app run` and the other `flask` commands; gunicorn uses 'audit:create_app()'."""
import sys

from audit import create_app
from audit.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # A setting to correct, not a bug: its message alone, not a traceback with it at the bottom.
    sys.exit(f"Configuration error: {error}")
