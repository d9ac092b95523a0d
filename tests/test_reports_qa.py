"""The PDF reports as a board gets them, under stress: a pale brand colour, long names and answers, a
checklist of many sections. Read back from the real PDFs: their text, and their pages as pictures."""
import io
import re
import subprocess
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from PIL import Image
from pypdf import PdfReader

from audit.db import database
from audit.demo import DEMO_PASSWORD, best_answers
from audit.models import (Action, Answer, Brand, Branch, Checklist, ChecklistVersion, User, Visit, VisitState,
                          utcnow)
from audit.forms import contrast_with_white
from conftest import demo_data, login
from tests_support import translated

LANGUAGES = ["en", "hu", "bg", "et", "ro", "ru"]
# A paragraph a shopper may well write, and an owner's name of several words.
PARAGRAPH = ("The salesperson was polite but had to ask a colleague about the warranty, and the queue at the till "
             "was long because only one till was open while seven people waited. ") * 2
LINK = "https://example.com/receipts/2026/" + "A1B2C3D4E5" * 5
OWNER = "Руководитель торгового зала и заместитель директора магазина"


@pytest.fixture
def demo(app):
    with app.app_context(), database.connection_context():
        demo_data()
        branch = Branch.get(Branch.code == "BUD-01")
        return {"branch_id": branch.id, "region_id": branch.region_id}


def _client(app):
    client = app.test_client()
    assert login(client, "manager.hu@example.com", DEMO_PASSWORD).status_code == 302
    return client


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.data


def _pages(data):
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def _lines(data):
    """The PDF's text as pdftotext lays it out, a line of the page a line."""
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode().splitlines()


def _spaced(text):
    """text with its no-break spaces as plain ones (Babel writes "2026\u202fг.")."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def _picture(data, tmp_path, page=1):
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", str(page), "-l", str(page), "-singlefile", str(path),
                    str(tmp_path / "page")], check=True)
    return Image.open(tmp_path / "page.png").convert("RGB")


def _latest_visit(branch_id):
    return (Visit.select().where((Visit.branch == branch_id) & (Visit.state == VisitState.APPROVED.value))
            .order_by(Visit.ended_at.desc()).first())


def test_a_pale_brand_colour_is_printed_dark_enough_to_read(app, demo, tmp_path):
    """A brand saved before the brand form asked for contrast (or restored from such a backup) has a
    pale yellow: the reports printed their headings, big score and table headings' backgrounds (under
    white words) in it, unreadable on white paper. They print it darkened in its own hue."""
    with app.app_context(), database.connection_context():
        Brand.update(primary_color="#f7f1a8", accent_color="#fff3c4").where(
            Brand.id == Branch.get_by_id(demo["branch_id"]).region.brand_id).execute()
        visit = _latest_visit(demo["branch_id"])
    client = _client(app)
    for url in (f"/reports/branches/{demo['branch_id']}/visits.pdf?lang=ru",
                f"/reports/regions/{demo['region_id']}.pdf?lang=hu", f"/reports/visits/{visit.uuid}.pdf?lang=en"):
        page = _picture(_get(client, url), tmp_path)
        # The colour of the cover's bar, the headings and the score: the commonest coloured one.
        coloured = Counter(pixel for pixel in page.get_flattened_data() if max(pixel) - min(pixel) > 24)
        colour, _count = coloured.most_common(1)[0]
        ratio = contrast_with_white("#%02x%02x%02x" % colour)
        assert ratio >= 4.4, f"{url}: the brand colour {colour} has contrast {ratio:.1f}:1 with white"
        assert colour[0] > colour[2] and colour[1] > colour[2], f"{url}: {colour} is no longer the brand's yellow"


def test_the_dates_of_the_approved_visits_are_printed_whole_beside_a_long_checklist_title(app, demo):
    """A long checklist title took the visits table's room and its dates broke in two ("27 нояб." over
    "2026 г.")."""
    from flask_babel import force_locale, format_date

    with app.app_context(), database.connection_context():
        visit = _latest_visit(demo["branch_id"])
        version = ChecklistVersion.get_by_id(visit.checklist_version_id)
        content = dict(version.content)
        long_title = ("Посещение магазина бытовой техники и электроники тайным покупателем по стандартам "
                      "обслуживания сети, версия для филиалов")
        content["title"] = dict(content["title"], ru=long_title)
        ChecklistVersion.update(content=content).where(ChecklistVersion.id == version.id).execute()
        days = [v.ended_at for v in Visit.select().where((Visit.branch == demo["branch_id"])
                                                          & (Visit.state == VisitState.APPROVED.value)
                                                          & (Visit.ended_at > utcnow() - timedelta(days=182)))]
    lines = _lines(_get(_client(app), f"/reports/branches/{demo['branch_id']}/visits.pdf?lang=ru"))
    # The table's lines: from its heading to the shoppers' comments (which give the dates too).
    first = next(i for i, line in enumerate(lines) if translated(app, "ru", "Approved visits") in line)
    last = next(i for i, line in enumerate(lines) if translated(app, "ru", "What the shoppers said") in line)
    lines = lines[first:last]
    with app.test_request_context(), force_locale("ru"):
        from audit.localtime import local_date

        shown = [format_date(local_date(day)) for day in days]
    assert len(shown) == 5
    for day in shown:
        assert any(_spaced(day) in _spaced(line) for line in lines), day


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_long_free_text_answer_runs_under_its_question_across_the_answers_column(app, demo, language):
    """A paragraph in the visit's comments was printed in the answer column alone: a ribbon of three
    or four words a line. It runs under its question, across the question's and the answer's room."""
    with app.app_context(), database.connection_context():
        visit = _latest_visit(demo["branch_id"])
        Answer.update(value=PARAGRAPH).where((Answer.visit == visit) & (Answer.item_id == "comments")).execute()
    lines = _lines(_get(_client(app), f"/reports/visits/{visit.uuid}.pdf?lang={language}"))
    # Its eight words below on five lines at most (on eight in the answer's column).
    answer = [line for line in lines if any(word in line.split() for word in ("polite", "queue", "seven", "waited."))]
    assert 2 <= len(answer) <= 5, answer


def test_an_actions_owner_is_broken_between_its_words_not_inside_one(app, demo):
    """A long action squeezed the owner's column until "Руководитель" was broken inside the word."""
    with app.app_context(), database.connection_context():
        manager = User.get(User.email == "manager.hu@example.com")
        Action.create(branch=demo["branch_id"], item_id="greeted", what=PARAGRAPH * 2, owner=OWNER,
                      due_date=date.today() + timedelta(days=10), created_by=manager)
        # A pasted link in another one, its owner too: a word that may be broken anywhere.
        Action.create(branch=demo["branch_id"], item_id="greeted", what=LINK, owner=LINK[:60],
                      due_date=date.today() + timedelta(days=20), created_by=manager)
    for language in ("hu", "ru"):
        lines = _lines(_get(_client(app), f"/reports/branches/{demo['branch_id']}/visits.pdf?lang={language}"))
        words = " ".join(lines).split()
        for word in OWNER.split():
            assert word in words, (language, word)


def _many_sections_checklist(app, branch_ids, sections=28):
    """A published checklist of `sections` sections of nine questions (250 in all), with two approved
    visits at each of `branch_ids`, one of its questions failed in each section; its id."""
    from audit.operations import publish_checklist_file, submit_visit
    from audit.review import approve

    def text(words):
        return {language: f"{language.upper()} {words}" for language in LANGUAGES}

    data = {"id": "long-audit", "languages": LANGUAGES, "title": text("Long audit"), "critical_cap": 50,
            "bands": [{"min": 80, "label": text("Good")}, {"min": 0, "label": text("Poor")}],
            "dimensions": {"care": text("Care")},
            "sections": [{"id": f"s{s}", "title": text(f"Section {s} handling of complaints"), "weight": 1,
                          "items": [{"id": f"q{s}_{i}", "type": "yesno", "weight": 1, "dimension": "care",
                                     "text": text(f"Question {i} of section {s}?")} for i in range(9)]}
                         for s in range(sections)]}
    folder = Path(app.config["MEDIA_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "long-audit.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with app.app_context(), database.connection_context():
        publish_checklist_file(str(path))
        version = ChecklistVersion.select().join(Checklist).where(Checklist.slug == "long-audit").first()
        shopper, auditor = User.get(User.email == "shopper1@example.com"), User.get(User.email == "auditor@example.com")
        for branch_id in branch_ids:
            for days in (3, 9):
                ended = utcnow() - timedelta(days=days)
                visit = Visit.create(branch=branch_id, checklist_version=version, shopper=shopper,
                                     planned_from=ended.date() - timedelta(days=3), planned_to=ended.date())
                answers = {**best_answers(version.content), **{f"q{s}_{days % 9}": "no" for s in range(sections)}}
                submit_visit(visit, answers, {}, {}, started_at=ended - timedelta(minutes=40), ended_at=ended)
                approve(visit, auditor)
        return version.checklist_id


def _right_margin_is_empty(page):
    width, height = page.size
    margin = page.convert("L").crop((width - int(width * 0.045), 0, width, height))
    return margin.getextrema()[0] > 200


def test_a_ranking_of_a_checklist_with_many_sections_gives_them_tables_of_their_own(app, demo, tmp_path):
    """28 sections were 28 columns beside the ranking's own: 5 mm each, their figures printed over each
    other past the margin, and the heading row (the sections' names, a letter a line) taller than a
    page, so left out. The ranking keeps 8 of them; the others follow in tables of 12, the branches
    and the whole region's row again."""
    with app.app_context(), database.connection_context():
        ids = [b.id for b in Branch.select().where(Branch.region == demo["region_id"])]
    checklist_id = _many_sections_checklist(app, ids)
    data = _get(_client(app), f"/reports/regions/{demo['region_id']}.pdf?lang=en&checklist={checklist_id}")
    text = " ".join(_pages(data))
    assert text.count("All branches") == 3  # the ranking's 8 sections, then 12, then 8
    assert text.count("Average score") == 1
    # Every section is named in a heading row, which was left out: its name is said whole or hyphenated.
    squeezed = text.replace(" ", "").replace("-", "")
    for s in range(28):
        assert f"ENSection{s}handling" in squeezed, s
    for number in range(1, len(PdfReader(io.BytesIO(data)).pages) + 1):
        assert _right_margin_is_empty(_picture(data, tmp_path, number)), f"page {number}: something runs off it"


def test_a_chart_of_many_sections_starts_under_its_heading_and_breaks_across_pages(app, demo):
    """A checklist of 28 sections drew one picture taller than the room under the heading "Sections",
    which was left alone (with its note) at the top of an otherwise empty page. The bars come in parts
    that break across pages, the first under its heading; in the region report too, where the two
    charts, side by side, stand one under the other when they are this long."""
    with app.app_context(), database.connection_context():
        checklist_id = _many_sections_checklist(app, [demo["branch_id"]])
    client = _client(app)
    for url in (f"/reports/branches/{demo['branch_id']}/visits.pdf?lang=en&checklist={checklist_id}",
                f"/reports/regions/{demo['region_id']}.pdf?lang=en&checklist={checklist_id}"):
        pages = _pages(_get(client, url))
        heading = [page for page in pages if "Sections" in page]
        assert len(heading) == 1, url
        assert "EN Section 0 handling of complaints" in heading[0].split("Sections", 1)[1], url
        # Every section's bar is drawn, none cut off at a page's foot.
        every = " ".join(pages)
        for s in range(28):
            assert f"EN Section {s} handling of complaints" in every, (url, s)


def _word_heights(data):
    """{word: [heights in pt of its boxes]} as pdftotext lays the PDF's words out: a box is as tall as
    its font is large."""
    out = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    heights = {}
    for y_min, y_max, word in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]+)</word>', out):
        heights.setdefault(word, []).append(float(y_max) - float(y_min))
    return heights


def test_the_region_and_brand_reports_charts_print_their_words_at_8_pt_at_least(app, demo):
    """Drawn 1000 and 520 wide and scaled down to the landscape page, their charts printed at 7 pt
    beside tables of 8.5 pt: the board read the dimensions' names with a magnifier."""
    with app.app_context(), database.connection_context():
        brand_id = Branch.get_by_id(demo["branch_id"]).region.brand_id
    client = _client(app)
    region = _word_heights(_get(client, f"/reports/regions/{demo['region_id']}.pdf?lang=en&days=182"))
    per_pt = min(region["BUD-01"]) / 8.5  # a branch's code in the ranking's rows, 8.5 pt in print.css
    brand = _word_heights(_get(client, f"/reports/brands/{brand_id}.pdf?lang=en&days=182"))
    for heights in (region, brand):
        # Words only the charts print: dimensions' names in the bars, the trend's months.
        for word in ("Politeness", "Professionalism", "Jun", "Nov"):
            assert min(heights[word]) / per_pt >= 7.95, (word, min(heights[word]) / per_pt)  # 8, measured
