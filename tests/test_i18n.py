"""Languages: complete catalogs, no text outside gettext, the locale chosen as users expect."""
import glob
import os
import re
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

from audit import ROOT
from audit.config import LANGUAGES
from audit.db import database
from audit.models import User
from conftest import csrf_from
from tests_support import translated

TEMPLATES = sorted(glob.glob(os.path.join(ROOT, "audit", "templates", "**", "*.html"), recursive=True))


def _catalog(language):
    with open(os.path.join(ROOT, "translations", language, "LC_MESSAGES", "messages.po"), "rb") as f:
        return read_po(f)


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_no_untranslated_or_fuzzy_entry(language):
    catalog = _catalog(language)
    untranslated = [m.id for m in catalog if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"{language}: untranslated {untranslated}"
    assert not fuzzy, f"{language}: fuzzy {fuzzy}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_translation_has_the_placeholders_of_its_english(language):
    """Babel's own checks (the ones `pybabel compile` prints as errors and still exits 0 after): a
    translation whose placeholders differ from its message's fails when it is formatted."""
    problems = [(message.id, [str(error) for error in errors]) for message, errors in _catalog(language).check()]
    assert not problems, f"{language}: {problems}"


# Words that really are the same in these languages (loanwords, format names).
SAME_AS_ENGLISH = {"PDF", "E-mail", "Audit", "Auditor", "Manager", "Link", "Client",  # loanwords in hu, et, ro
                   "%(points)s pp"}  # Estonian abbreviates protsendipunkt as pp too (the word ran over the next column)


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_translations_are_not_copies_of_the_english(language):
    catalog = _catalog(language)
    copied = [m.id for m in catalog if m.id and m.string == m.id and m.id not in SAME_AS_ENGLISH]
    assert not copied, f"{language}: left in English: {copied}"


def test_every_string_in_the_code_is_in_every_catalog(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "translations/babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "audit"],
        cwd=ROOT, check=True, capture_output=True,
    )
    with open(pot, "rb") as f:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    # Every template is read, those with Flask-Caching's {% cache %} tag too (base.html, fill.html),
    # and so are the strings inside its fragments.
    assert {"Skip to content", "Could not be sent: %(reason)s", "Send the visit"} <= wanted
    for language in LANGUAGES:
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog(language) if m.id}
        missing = wanted - have
        assert not missing, f"{language} lacks {sorted(missing)}: run `flask translate update`"


def _visible_text(source):
    source = re.sub(r"\{#.*?#\}", " ", source, flags=re.S)
    source = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S | re.I)
    source = re.sub(r"\{%.*?%\}", " ", source, flags=re.S)
    source = re.sub(r"\{\{.*?\}\}", " ", source, flags=re.S)
    attributes = re.findall(r'\b(?:alt|title|aria-label|placeholder)="([^"]*)"', source)
    source = re.sub(r"<[^>]+>", " ", source)
    source = re.sub(r"&[a-z]+;|&#\d+;", " ", source)
    return [text for text in [source, *attributes] if re.search(r"[^\W\d_]{2,}", text)]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: os.path.relpath(p, ROOT))
def test_templates_hold_no_user_visible_text_outside_gettext(path):
    with open(path, encoding="utf-8") as f:
        leftovers = _visible_text(f.read())
    words = [re.findall(r"[^\W\d_]{2,}", text) for text in leftovers]
    assert not leftovers, f"text outside gettext: {words}"


def test_text_outside_gettext_is_detected():
    assert _visible_text("<p>Hello {{ name }}</p>")
    assert _visible_text('<img alt="Logo" src="x">')
    assert not _visible_text("<p>{{ _('Hello') }} · {{ n }}</p>")


def test_browser_language_is_used_for_visitors(client):
    page = client.get("/login", headers={"Accept-Language": "ro-RO,ro;q=0.9,en;q=0.5"})
    assert '<html lang="ro">' in page.get_data(as_text=True)


def test_unknown_browser_language_falls_back_to_english(client):
    page = client.get("/login", headers={"Accept-Language": "ja"})
    assert '<html lang="en">' in page.get_data(as_text=True)


def test_switcher_choice_is_stored_on_the_account_and_beats_the_browser(app, login_as, org):
    client = login_as("manager")
    token = csrf_from(client.get("/dashboard/"))
    response = client.post("/language", data={"language": "bg", "next": "/dashboard/", "csrf_token": token})
    assert response.headers["Location"] == "/dashboard/"
    page = client.get("/dashboard/", headers={"Accept-Language": "et"}).get_data(as_text=True)
    assert '<html lang="bg">' in page
    with app.app_context(), database.connection_context():
        assert User.get_by_id(org["users"]["manager"].id).language == "bg"


def test_unknown_language_choice_is_refused_with_a_message(app, login_as, org):
    client = login_as("manager")
    token = csrf_from(client.get("/dashboard/"))
    response = client.post("/language", data={"language": "xx", "csrf_token": token}, follow_redirects=True)
    assert "Choose one of the offered languages." in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert User.get_by_id(org["users"]["manager"].id).language is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_of_an_auditor_renders_in_each_language(app, login_as, org, language):
    client = login_as("auditor")
    client.post("/language", data={"language": language, "csrf_token": csrf_from(client.get("/admin/"))})
    for url in ["/admin/", "/admin/brands", "/admin/brands/new", "/admin/regions", "/admin/branches",
                "/admin/branches/new", "/admin/users", "/admin/users/new", "/admin/users/invitations", "/dashboard/"]:
        page = client.get(url)
        assert page.status_code == 200, url
        assert f'<html lang="{language}">' in page.get_data(as_text=True)


def test_dates_are_formatted_for_the_locale(app):
    from datetime import date
    from decimal import Decimal

    from flask_babel import force_locale

    from audit.i18n import format_date, format_percent

    with app.test_request_context():
        with force_locale("hu"):
            assert format_date(date(2026, 3, 5), "long") == "2026. március 5."
            assert format_percent(87.25) == "87,3%"  # half up, once
            assert format_percent(None) == "—"
        with force_locale("ru"):
            assert "марта" in format_date(date(2026, 3, 5), "long")
            assert format_percent(Decimal("66.6667")) == "66,7\u00a0%"
        with force_locale("en"):
            assert format_percent(100) == "100.0%"
            # Remembered per locale and rounded text: the same value in another locale, and a
            # negative zero (equal to zero as a Decimal), each keep their own text.
            assert format_percent(87.25) == "87.3%"
            assert (format_percent(Decimal("-0.04")), format_percent(Decimal("0.04"))) == ("-0.0%", "0.0%")
        with force_locale("hu"):
            assert format_percent(87.25) == "87,3%"


def test_each_render_uses_the_locale_it_runs_in(app):
    """Templates look the catalog up once per render: a report rendered in another language inside a
    request (force_locale) still gets that language, and the page around it keeps its own."""
    from flask import render_template_string
    from flask_babel import force_locale
    from flask_babel import gettext as babel_gettext

    page = "{{ _('Sign out') }}|{{ _('Give a whole number from %(low)s to %(high)s.', low=1, high='<5>') }}|" \
           "{{ current_language() }}"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with force_locale("hu"):
            expected = babel_gettext("Sign out") + "|" + babel_gettext(
                "Give a whole number from %(low)s to %(high)s.", low=1, high="&lt;5&gt;") + "|hu"
            assert render_template_string(page) == expected
        assert render_template_string(page) == "Sign out|Give a whole number from 1 to &lt;5&gt;.|en"
    assert not expected.startswith("Sign out|")


def test_the_date_filter_remembers_a_date_per_locale_and_formats_times_each_time(app):
    """The `date` filter keeps formatted dates per locale: the same date in another locale is that
    locale's text, never the one remembered first; a datetime (time zone dependent) is not kept."""
    from datetime import date, datetime

    from flask import render_template_string
    from flask_babel import force_locale, format_date

    page = "{{ day|date }}|{{ day|date('long') }}"
    day = date(2026, 3, 5)
    with app.test_request_context():
        shown = {}
        for language in ("hu", "ru", "en", "hu"):
            with force_locale(language):
                expected = f"{format_date(day)}|{format_date(day, 'long')}"
                assert render_template_string(page, day=day) == expected
                shown.setdefault(language, expected)
        assert shown["hu"] != shown["ru"] != shown["en"]
        assert "március" in shown["hu"].split("|")[1] and "марта" in shown["ru"].split("|")[1]
        moment = datetime(2026, 3, 5, 23, 30)
        with force_locale("en"):
            assert render_template_string("{{ t|date }}", t=moment) == format_date(moment)


def test_parts_kept_between_requests_follow_each_pages_language_and_role(app, login_as, org):
    """The top bar and the head's links are rendered once per language and role and then reused
    (audit.fragments): one app serving an auditor in Hungarian, a shopper in English and then in
    Russian, and a visitor in Estonian shows each their own language, links and session's token."""
    auditor = login_as("auditor")
    auditor.post("/language", data={"language": "hu", "csrf_token": csrf_from(auditor.get("/admin/"))})
    shopper = login_as("shopper")
    shopper.post("/language", data={"language": "en", "csrf_token": csrf_from(shopper.get("/visits/"))})

    for _round in range(2):  # the second round is served from the kept parts
        page = auditor.get("/admin/").get_data(as_text=True)
        assert '<html lang="hu">' in page and '<option value="hu" lang="hu" selected>' in page
        assert f'href="/admin/brands">{translated(app, "hu", "Brands")}</a>' in page
        assert f'>{translated(app, "hu", "Sign out")}</button>' in page
        assert "outbox.js" not in page and "data-msg-saved" not in page
        auditor_token = csrf_from(auditor.get("/admin/"))

        page = shopper.get("/visits/").get_data(as_text=True)
        assert '<html lang="en">' in page and '<option value="en" lang="en" selected>' in page
        assert 'href="/visits/">My visits</a>' in page and "/admin/brands" not in page
        assert "outbox.js" in page and 'data-msg-saved="Saved on this phone"' in page
        assert ">Sign out</button>" in page
        assert csrf_from(shopper.get("/visits/")) != auditor_token

        visitor = app.test_client().get("/login", headers={"Accept-Language": "et"}).get_data(as_text=True)
        assert '<option value="et" lang="et" selected>' in visitor
        assert 'class="nav"' not in visitor and "/logout" not in visitor and "outbox.js" not in visitor

    shopper.post("/language", data={"language": "ru", "csrf_token": csrf_from(shopper.get("/visits/"))})
    page = shopper.get("/visits/").get_data(as_text=True)
    assert f'href="/visits/">{translated(app, "ru", "My visits")}</a>' in page
    assert f'data-msg-saved="{translated(app, "ru", "Saved on this phone")}"' in page
    assert translated(app, "ru", "My visits") != "My visits"


def test_a_change_of_score_is_told_in_percentage_points_in_every_language(app):
    """10 % more than 60 % would be 66 %, while the ranking means 70 %: a difference of scores is
    printed in percentage points, not with the percent sign."""
    from flask_babel import force_locale

    from audit.i18n import format_points

    expected = {"en": "4.5 pp", "hu": "4,5 szp.", "bg": "4,5 пр. п.", "et": "4,5 pp", "ro": "4,5 p.p.", "ru": "4,5 п. п."}
    with app.test_request_context():
        for language, text in expected.items():
            with force_locale(language):
                # half up, once; no-break spaces: a narrow column broke "пр. п." into two lines
                assert format_points(4.45) == text.replace(" ", "\u00a0")
                assert format_points(None) == "—"


def test_a_filter_of_a_constant_is_in_each_readers_language(app):
    """Jinja worked out `{{ 0|points }}` (a change that rounds to nothing) once, when it compiled the
    template: every reader of the ranking got "0.0 pp", in English."""
    from flask_babel import force_locale

    template = app.jinja_env.from_string("{{ 0|points }} · {{ 50|percent }}")
    expected = {"en": "0.0 pp · 50.0%", "hu": "0,0 szp. · 50,0%", "ru": "0,0 п. п. · 50,0 %", "et": "0,0 pp · 50,0%"}
    with app.test_request_context():
        for language, text in expected.items():
            with force_locale(language):
                assert template.render().replace("\u00a0", " ") == text
