"""Entry point for `flask --app app run`; gunicorn uses 'audit:create_app()'."""
from audit import create_app

app = create_app()
