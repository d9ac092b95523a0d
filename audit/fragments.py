"""Template fragments kept between requests (Flask-Caching's `{% cache %}` tag, in process memory).

The top bar, the head's links and the fill page's status messages are the same for every page of
one language and role: dozens of translated strings and built links that were half of what a page
cost to render. A fragment's key names everything its text depends on (the language, the role, the
URL prefix the app is mounted under; for the top bar's language form, the page's own form its change
sends, the fill page's); nothing about a user, a visit or a request goes inside one.
Entries expire after CACHE_DEFAULT_TIMEOUT seconds; a deployment of new templates or catalogs
restarts the processes, which starts them empty.
"""
from flask_caching import Cache

cache = Cache()


def init_app(app):
    app.config.setdefault("CACHE_TYPE", "SimpleCache")
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", 3600)
    app.config.setdefault("CACHE_THRESHOLD", 1000)  # 6 languages x 4 roles x a few fragments
    cache.init_app(app)
