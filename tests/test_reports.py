"""PDF reports rendered by WeasyPrint, read back as text and as a picture."""
import html
import io
import os
import re
import subprocess
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from PIL import Image
from pypdf import PdfReader
from weasyprint import HTML

from audit import periods, stats
from audit.db import database
from audit.demo import ACCOUNTS, DEMO_PASSWORD
from audit.i18n import format_percent
from audit.media import store_logo
from audit.models import Brand, Branch, Visit, VisitState, utcnow
from audit.reports.render import AppFileFetcher
from conftest import csrf_from, demo_data, login
from tests_support import approved_bank_visit, tiny_png, translated


@pytest.fixture
def demo(app):
    with app.app_context(), database.connection_context():
        demo_data()
        bud = Branch.get(Branch.code == "BUD-01")
    return {"branch_id": bud.id}


def _manager_client(app, email="manager.hu@example.com"):
    client = app.test_client()
    assert login(client, email, DEMO_PASSWORD).status_code == 302
    return client


def _pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _expected_scores(app, branch_id, language):
    with app.test_request_context(), database.connection_context(), force_locale(language):
        since = utcnow().replace(year=utcnow().year - 1)
        visits = Visit.select().where((Visit.branch == branch_id) & (Visit.state == VisitState.APPROVED.value))
        return [format_percent(v.score) for v in visits if v.ended_at > since]


@pytest.mark.parametrize("language", ["hu", "ru"])
def test_branch_report_reads_back_in_the_readers_language(app, demo, language):
    client = _manager_client(app)
    response = client.get(f"/reports/branches/{demo['branch_id']}/visits.pdf?lang={language}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    assert "Aurora Electronics" in text and "Aurora Váci utca" in text
    with app.test_request_context(), force_locale(language):
        heading = gettext("Approved visits")
    assert heading != "Approved visits"  # a real translation, not the English fallback
    assert heading in text
    scores = _expected_scores(app, demo["branch_id"], language)
    assert len(scores) == 5  # six months of visits, the latest still waiting for review
    for score in scores:
        assert score.replace("\u00a0", " ") in text.replace("\u00a0", " ")
    if language == "ru":
        assert "Период" in text or "период" in text
    # The trend's months as the reader names them, not 2026-05.
    from babel.dates import format_date

    this_month = format_date(utcnow().date().replace(day=1), "LLL yyyy", locale=language)
    assert this_month.replace("\u00a0", " ") in text.replace("\u00a0", " ")
    assert utcnow().strftime("%Y-%m") not in text


def test_a_branch_audited_with_two_checklists_reports_the_parts_of_one_not_their_mix(app, demo):
    """The shop and the bank checklists both have an "advice" section and a "politeness" dimension:
    with a bank visit at a shop's branch, the report averaged the two under one label, a figure true
    of neither. It shows the most used checklist's parts, and says so."""
    from statistics import mean

    from audit.models import Checklist, ChecklistVersion, VisitScore
    from audit.reports.branch import branch_report_context

    with app.app_context(), database.connection_context():
        branch = Branch.get_by_id(demo["branch_id"])
        visit = approved_bank_visit(branch, days_ago=0)
        start = periods.parse("365", utcnow()).start
        shop_visits = [v.id for v in Visit.select().join(ChecklistVersion).join(Checklist).where(
            (Visit.branch == branch) & (Visit.state == VisitState.APPROVED.value) & (Visit.ended_at >= start)
            & (Checklist.slug == "retail-store-visit"))]
        assert len(shop_visits) > 1, "the shop's checklist is the most used"
        shop_advice = mean(float(row.percent) for row in VisitScore.select().where(
            VisitScore.visit.in_(shop_visits) & (VisitScore.kind == "section") & (VisitScore.key == "advice")))
        bank_advice = float(VisitScore.get(visit=visit, kind="section", key="advice").percent)
        assert abs(shop_advice - bank_advice) > 5
    with app.test_request_context(), force_locale("en"):  # its own connection, closed at its end
        context = branch_report_context(branch, "en", start, utcnow())
        shown, mixed = format_percent(shop_advice), format_percent((shop_advice * len(shop_visits) + bank_advice)
                                                                 / (len(shop_visits) + 1))
    assert shown in context["charts"]["section"] and mixed not in context["charts"]["section"]
    assert context["parts_shown"].count == 2
    text = _pdf_text(_manager_client(app).get(f"/reports/branches/{branch.id}/visits.pdf?lang=en&period=365").data)
    assert "Audited with 2 checklists in this period" in " ".join(text.split())
    # The region's: the shop's and the bank's, and the enquiries made to another of its branches.
    region = _pdf_text(_manager_client(app).get(f"/reports/regions/{branch.region_id}.pdf?lang=en&period=365").data)
    assert "Audited with 3 checklists in this period: the sections are those of" in " ".join(region.split())


@pytest.mark.parametrize("last", ["bank-branch-visit", "retail-store-visit"])
def test_of_two_checklists_used_as_often_the_report_shows_the_one_used_last(app, demo, last):
    """A new branch audited once with each checklist: the parts shown were those of the checklist with
    the lower id, whichever it had been audited with since; now those of the one used last."""
    from audit.demo import best_answers
    from audit.models import Checklist, ChecklistVersion, User
    from audit.operations import submit_visit
    from audit.review import approve

    with app.app_context(), database.connection_context():
        region = Branch.get_by_id(demo["branch_id"]).region
        branch = Branch.create(region=region, code="NEW-01", name="Opened this year", address="Fő utca 2.",
                               city="Budapest", country="HU")
        first = "retail-store-visit" if last == "bank-branch-visit" else "bank-branch-visit"
        for slug, days_ago in ((first, 10), (last, 2)):
            version = ChecklistVersion.select().join(Checklist).where(Checklist.slug == slug).first()
            ended = utcnow() - timedelta(days=days_ago)
            visit = Visit.create(branch=branch, checklist_version=version, shopper=User.get(User.email == "shopper1@example.com"),
                                 planned_from=ended.date() - timedelta(days=3), planned_to=ended.date())
            submit_visit(visit, best_answers(version.content), {}, {}, started_at=ended - timedelta(minutes=30), ended_at=ended)
            approve(visit, User.get(User.email == "auditor@example.com"))
        start = periods.parse("30", utcnow()).start
        shown = stats.parts_shown([branch.id], start, utcnow(), "en")
        expected = Checklist.get(Checklist.slug == last)
        assert shown.count == 2 and shown.title == expected.title("en")
        assert set(shown.version_ids) == set(stats.checklist_version_ids(expected.id))
    text = " ".join(_pdf_text(_manager_client(app).get(f"/reports/branches/{branch.id}/visits.pdf?lang=en&period=30").data).split())
    assert f"those of “{expected.title('en')}”, the most used" in text


@pytest.mark.parametrize("days", [182, 365])
def test_the_trend_takes_in_every_month_of_the_period_the_first_one_too(app, demo, days):
    """A half-year report from 28 May counts a visit of 30 May in its score: its trend starts in May."""
    from babel.dates import format_date

    with app.app_context():
        start = periods.parse(str(days), utcnow()).start
    text = " ".join(_pdf_text(_manager_client(app).get(
        f"/reports/branches/{demo['branch_id']}/visits.pdf?lang=hu&days={days}").data).split())
    first_month = " ".join(format_date(start.date(), "LLL yyyy", locale="hu").split())
    month_before = " ".join(format_date((start.replace(day=1) - timedelta(days=1)).date(), "LLL yyyy", locale="hu").split())
    assert first_month in text and month_before not in text


def test_branch_report_names_no_shopper(app, demo):
    client = _manager_client(app)
    text = _pdf_text(client.get(f"/reports/branches/{demo['branch_id']}/visits.pdf?lang=en").data)
    dashboard = client.get("/dashboard/").get_data(as_text=True)
    shopper_names = [name for _email, name, role, _l, _r in ACCOUNTS if role.value == "shopper"]
    for name in shopper_names:
        assert name not in text and name not in dashboard


def test_report_carries_the_brand_logo_and_first_page_is_not_blank(app, demo, tmp_path):
    with app.app_context(), database.connection_context():
        name = store_logo(tiny_png((200, 80), "#d4145a"), app.config["MEDIA_DIR"], 2**20, 10**6)
        Brand.update(logo_file=name).where(Brand.name == "Aurora Electronics").execute()
    client = _manager_client(app)
    data = client.get(f"/reports/branches/{demo['branch_id']}/visits.pdf?lang=hu").data
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages[0].images) >= 1
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    png = next(p for p in os.listdir(tmp_path) if p.startswith("page") and p.endswith(".png"))
    with Image.open(tmp_path / png) as page:
        grey = page.convert("L")
        dark = sum(grey.histogram()[:200])
    assert dark > 2000  # text, table and the brand bar; a blank page has none


def test_unknown_report_language_is_a_missing_page(app, demo):
    client = _manager_client(app)
    assert client.get(f"/reports/branches/{demo['branch_id']}/visits.pdf?lang=xx").status_code == 404


def test_hostile_text_is_printed_as_text_and_fetches_nothing(app, demo):
    hostile = '<img src="http://127.0.0.1:9/evil.png"> <link rel="stylesheet" href="file:///etc/passwd">'
    with app.app_context(), database.connection_context():
        Branch.update(name=hostile).where(Branch.id == demo["branch_id"]).execute()
    client = _manager_client(app)
    text = _pdf_text(client.get(f"/reports/branches/{demo['branch_id']}/visits.pdf?lang=en").data)
    assert '<img src="http://127.0.0.1:9/evil.png">' in text.replace("\n", " ")


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/x.png", "https://example.com/logo.png", "file:///etc/passwd",
     "ftp://example.com/a.css", "file:///work/../etc/hosts"],
)
def test_report_fetcher_refuses_everything_but_the_apps_files(app, url):
    fetcher = AppFileFetcher([app.static_folder, app.config["MEDIA_DIR"]])
    HTML(string=f'<p>x</p><img src="{url}"><link rel="stylesheet" href="{url}">',
         url_fetcher=fetcher).write_pdf()
    assert fetcher.refused == [url, url] or set(fetcher.refused) == {url}


def test_report_fetcher_serves_the_apps_static_files(app):
    fetcher = AppFileFetcher([app.static_folder])
    icon = os.path.join(app.static_folder, "icons", "icon-192.png")
    pdf = HTML(string=f'<img src="file://{icon}">', url_fetcher=fetcher).write_pdf()
    assert fetcher.refused == []
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1


def test_a_shopper_comment_with_html_and_a_url_is_printed_as_text_and_fetches_nothing(app, demo):
    from flask_babel import force_locale

    from audit.models import Answer
    from audit.reports.branch import TEMPLATE, branch_report_context
    from audit.reports.render import render_pdf

    hostile = '<img src="http://127.0.0.1:9/spy.png"> see https://evil.example/x.css'
    with app.app_context(), database.connection_context():
        branch = Branch.get_by_id(demo["branch_id"])
        latest = (Visit.select().where((Visit.branch == branch) & (Visit.state == VisitState.APPROVED.value))
                  .order_by(Visit.ended_at.desc()).first())
        Answer.update(comment=hostile).where((Answer.visit == latest) & (Answer.item_id == "greeted")).execute()
        fetcher = AppFileFetcher([app.static_folder, app.config["MEDIA_DIR"]])
        end = utcnow()
        start = end.replace(year=end.year - 1)
        with force_locale("en"):
            pdf, used = render_pdf(TEMPLATE, fetcher=fetcher, **branch_report_context(branch, "en", start, end))
    text = _pdf_text(pdf).replace("\n", " ")
    assert '<img src="http://127.0.0.1:9/spy.png">' in text  # shown as the shopper typed it
    assert used.refused == []  # nothing outside the app was even asked for


def test_a_branch_report_quotes_the_shoppers_own_words_about_the_visit(app, demo):
    """The free-text question ("Your comments on the visit") is where a shopper says most; the
    report's comments give those answers beside the comments on single answers, never "N/A"."""
    from audit.models import Answer

    with app.app_context(), database.connection_context():
        approved = (Visit.select().where((Visit.branch == demo["branch_id"]) & (Visit.state == VisitState.APPROVED.value))
                    .order_by(Visit.ended_at.desc()))
        latest, earlier = approved[0], approved[1]
        Answer.update(comment="").where(Answer.visit.in_([v.id for v in approved])).execute()
        Answer.update(value="Az eladó kedves volt, de meg kellett kérdeznie egy kollégáját.").where(
            (Answer.visit == latest) & (Answer.item_id == "comments")).execute()
        Answer.update(value="na").where((Answer.visit == earlier) & (Answer.item_id == "comments")).execute()
        Answer.update(comment="Nobody at the door.").where(
            (Answer.visit == earlier) & (Answer.item_id == "greeted")).execute()
    text = " ".join(_pdf_text(_manager_client(app).get(
        f"/reports/branches/{demo['branch_id']}/visits.pdf?lang=hu&days=365").data).split())
    words = text[text.index("A próbavásárlók megjegyzései"):]
    assert "Az eladó kedves volt, de meg kellett kérdeznie egy kollégáját." in words
    assert "Megjegyzései a látogatásról" in words and "Nobody at the door." in words
    assert words.index("Az eladó kedves volt") < words.index("Nobody at the door.")  # the latest first


def test_a_visit_report_names_the_critical_failure_that_capped_its_score(app, demo):
    """A board reads 50 % and asks why: the report names the failed critical questions, in its
    language, and marks their rows; a visit without one says nothing of the kind."""
    with app.app_context(), database.connection_context():
        visits = (Visit.select().join(Branch).where((Visit.state == VisitState.APPROVED.value) & Branch.code.startswith("BUD"))
                  .order_by(Visit.ended_at.desc()))
        capped = next(v for v in visits if v.has_critical_failure)
        clean = next(v for v in visits if not v.has_critical_failure)
        content = capped.checklist_version.content
        failed = [item for section in content["sections"] for item in section["items"] if item.get("critical")
                  and any(a.item_id == item["id"] and a.is_failed for a in capped.answers)]
    assert failed
    client = _manager_client(app)
    for language, lead in (("en", "Critical failure, which caps the score:"), ("hu", "Kritikus hiba, amely korlátozza a pontszámot:")):
        text = " ".join(_pdf_text(client.get(f"/reports/visits/{capped.uuid}.pdf?lang={language}").data).split())
        assert lead in text and all(" ".join(item["text"][language].split()) in text for item in failed)
    assert "Critical failure" not in _pdf_text(client.get(f"/reports/visits/{clean.uuid}.pdf?lang=en").data)


def test_a_visit_report_gives_a_scale_answer_with_its_range(app, demo):
    """A bare "3" beside "How welcoming was your first impression?" said nothing to the board: 3 of what?"""
    with app.app_context(), database.connection_context():
        visit = next(v for v in Visit.select().join(Branch).where(
            (Visit.state == VisitState.APPROVED.value) & Branch.code.startswith("BUD"))
            if any(a.item_id == "first_impression" and isinstance(a.value, int) for a in v.answers))
        step = next(a.value for a in visit.answers if a.item_id == "first_impression")
    text = " ".join(_pdf_text(_manager_client(app).get(f"/reports/visits/{visit.uuid}.pdf?lang=en").data).split())
    assert f"{step} on a scale of 1 to 5" in text


def test_a_visit_report_gives_a_numbers_unit_in_the_form_the_number_takes(app, demo):
    """"1 times" and "2 раз" read as mistakes to a board: the unit takes the plural form of its number in
    the report's language (Russian has three: 1 раз, 2 раза, 5 раз)."""
    from audit.models import Answer

    with app.app_context(), database.connection_context():
        visits = [v for v in Visit.select().join(Branch).where(
            (Visit.state == VisitState.APPROVED.value) & Branch.code.startswith("BUD"))
            if any(a.item_id == "times_repeated" and isinstance(a.value, int) for a in v.answers)][:3]
        for visit, value in zip(visits, (1, 2, 5)):
            Answer.update(value=value).where((Answer.visit == visit.id) & (Answer.item_id == "times_repeated")).execute()
    assert len(visits) == 3
    client = _manager_client(app)
    expected = {"en": ("1 time", "2 times", "5 times"), "ru": ("1 раз", "2 раза", "5 раз")}
    for language, words in expected.items():
        for visit, shown in zip(visits, words):
            text = " ".join(_pdf_text(client.get(f"/reports/visits/{visit.uuid}.pdf?lang={language}").data).split())
            assert re.search(rf"(^|\s){shown}(\s|$)", text), (language, shown)


def test_a_branch_report_names_the_question_of_each_critical_failure(app, demo):
    with app.app_context(), database.connection_context():
        region = Branch.get_by_id(demo["branch_id"]).region_id
        branch = next(b for b in Branch.select().where(Branch.region == region)
                      if Visit.select().where((Visit.branch == b) & (Visit.state == VisitState.APPROVED.value)
                                              & Visit.has_critical_failure).exists())
        capped = [v for v in Visit.select().where((Visit.branch == branch) & (Visit.state == VisitState.APPROVED.value))
                  if v.has_critical_failure]
        content = capped[0].checklist_version.content
        named = {item["text"]["en"] for visit in capped for section in content["sections"] for item in section["items"]
                 if item.get("critical") and any(a.item_id == item["id"] and a.is_failed for a in visit.answers)}
    assert capped and named
    text = " ".join(_pdf_text(_manager_client(app).get(
        f"/reports/branches/{branch.id}/visits.pdf?lang=en&days=365").data).split())
    section = text[text.index("Critical failures"):]
    assert all(" ".join(question.split()) in section for question in named)


def test_a_ranking_without_an_earlier_period_says_why_it_shows_no_change(app, demo):
    """The demo holds six months: against the six before them nothing can be compared, and the
    column of dashes says why."""
    note = "No visit was approved in the period before this one, so there is no change to show yet."
    with app.app_context(), database.connection_context():
        region = Branch.get_by_id(demo["branch_id"]).region_id
    client = _manager_client(app)
    assert note in " ".join(_pdf_text(client.get(f"/reports/regions/{region}.pdf?lang=en&days=182").data).split())
    assert note not in " ".join(_pdf_text(client.get(f"/reports/regions/{region}.pdf?lang=en&days=30").data).split())


def test_a_visit_report_says_what_the_reviewer_corrected_and_its_date_has_the_whole_year(app, demo):
    """A manager reading "Yes" next to a comment about a failure must see that the reviewer changed it,
    from what and why."""
    from audit.models import Answer, User
    from audit.review import correct_answer

    with app.app_context(), database.connection_context():
        visit = (Visit.select().where((Visit.branch == demo["branch_id"]) & (Visit.state == VisitState.APPROVED.value))
                 .order_by(Visit.ended_at.desc()).first())
        answer = Answer.get((Answer.visit == visit) & (Answer.item_id == "greeted"))
        before, after = answer.value, "no" if answer.value == "yes" else "yes"
        auditor = User.get(User.role == "auditor")
        correct_answer(visit, "greeted", after, "The photo shows nobody at the door.", auditor)
        year = str(visit.ended_at.year)
    client = _manager_client(app)
    text = " ".join(_pdf_text(client.get(f"/reports/visits/{visit.uuid}.pdf?lang=en").data).split())
    assert f"Corrected from {before.capitalize()}: The photo shows nobody at the door." in text
    hungarian = " ".join(_pdf_text(client.get(f"/reports/visits/{visit.uuid}.pdf?lang=hu").data).split())
    assert "a javítás oka: The photo shows nobody at the door." in hungarian
    assert f"{year}." in hungarian.split("·")[1] or year in hungarian[:400]
    english_head = text[:400]
    assert year in english_head, english_head  # not "11/26/26"
    # The time of day to the minute: "4:00:00 PM" gave seconds nobody timed.
    assert re.search(r"\d{1,2}:\d\d\s?[AP]M", english_head) and not re.search(r"\d:\d\d:\d\d", english_head), english_head


def test_a_branch_report_of_a_period_without_visits_says_so_rather_than_nothing_failed(app, demo):
    with app.app_context(), database.connection_context():
        quiet = Branch.get(Branch.code == "BUD-01")
        Visit.update(ended_at=utcnow() - timedelta(days=400)).where(Visit.branch == quiet).execute()
    text = " ".join(_pdf_text(_manager_client(app).get(
        f"/reports/branches/{quiet.id}/visits.pdf?lang=en&days=30").data).split())
    assert "0 approved visits" in text
    # The period is in the file's name: reports of several periods are kept side by side.
    response = _manager_client(app).get(f"/reports/branches/{quiet.id}/visits.pdf?lang=en&days=30")
    from audit.localtime import local_date

    with app.app_context():
        name = f"BUD-01-report-{local_date(periods.parse('30', utcnow()).start):%Y%m%d}-{local_date(utcnow()):%Y%m%d}-en.pdf"
    assert name in response.headers["Content-Disposition"]
    assert "Nothing failed in this period." not in text and "No critical failures in this period." not in text
    assert text.count("No approved visits in this period.") >= 3  # the cover, what failed, critical failures


def test_one_approved_visit_is_said_in_the_singular(app, demo):
    with app.app_context(), database.connection_context():
        branch = Branch.get(Branch.code == "BUD-01")
        visits = list(Visit.select().where((Visit.branch == branch) & (Visit.state == VisitState.APPROVED.value))
                      .order_by(Visit.ended_at.desc()))
        Visit.update(ended_at=utcnow() - timedelta(days=400)).where(Visit.id.in_([v.id for v in visits[1:]])).execute()
        Visit.update(ended_at=utcnow() - timedelta(days=2)).where(Visit.id == visits[0].id).execute()
    client = _manager_client(app)
    assert "1 approved visit " in " ".join(_pdf_text(client.get(f"/reports/branches/{branch.id}/visits.pdf?lang=en&days=30").data).split()) + " "
    assert "1 утверждённый визит" in _pdf_text(client.get(f"/reports/branches/{branch.id}/visits.pdf?lang=ru&days=30").data)


def _nothing_in_the_right_margin(data, tmp_path, name):
    pdf = tmp_path / f"{name}.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / name)], check=True)
    pages = sorted(p for p in os.listdir(tmp_path) if p.startswith(name) and p.endswith(".png"))
    assert pages
    for page_name in pages:
        with Image.open(tmp_path / page_name) as page:
            grey = page.convert("L")
            width, height = grey.size
            margin = grey.crop((width - int(width * 0.06), 0, width, height))  # the right margin, 12 of 210 mm
            assert margin.getextrema()[0] > 200, f"{page_name}: something runs into the right margin"


def test_a_long_word_in_a_comment_an_action_or_a_branch_name_stays_on_the_page(app, demo, tmp_path):
    """A pasted code or link without spaces in a shopper's comment or a manager's action breaks at the
    margin instead of running off the page (and pushing the action's owner and due date off it); so
    does a long compound word in a branch's name, in the title of its report and of a visit's."""
    from datetime import date

    from audit.models import Action, Answer, User

    word = "X" * 160
    compound = "ТорговыйЦентрАстриНарваПервыйЭтажОфисноеПомещениеНомерСтоДвадцать"
    with app.app_context(), database.connection_context():
        visit = (Visit.select().where((Visit.branch == demo["branch_id"]) & (Visit.state == VisitState.APPROVED.value))
                 .order_by(Visit.ended_at.desc()).first())
        Answer.update(value=f"Receipt {word} was wrong.").where((Answer.visit == visit) & (Answer.item_id == "comments")).execute()
        Action.create(branch=demo["branch_id"], item_id="greeted", what=f"Check {word}", owner="Store manager",
                      due_date=date.today() + timedelta(days=30), created_by=User.get(User.role == "manager"))
        Branch.update(name=f"Aurora {compound}").where(Branch.id == demo["branch_id"]).execute()
    client = _manager_client(app)
    data = client.get(f"/reports/branches/{demo['branch_id']}/visits.pdf?lang=en&days=365").data
    text = "".join(_pdf_text(data).split())
    assert text.count(word) >= 2 and "StoremanagerL" not in text  # both printed whole, the owner too
    assert compound in text
    _nothing_in_the_right_margin(data, tmp_path, "branch")
    visit_pdf = client.get(f"/reports/visits/{visit.uuid}.pdf?lang=ru").data
    assert compound in "".join(_pdf_text(visit_pdf).split())
    _nothing_in_the_right_margin(visit_pdf, tmp_path, "visit")


def test_a_visit_corrected_after_its_approval_says_so_on_the_managers_report(app, demo):
    """Its score moved on the dashboard and the reports (a critical failure may go), and the manager
    may have acted on the one before: the report says a reviewer changed it after the approval."""
    from audit.models import Answer, User
    from audit.review import correct_answer

    with app.app_context(), database.connection_context():
        approved = (Visit.select().where((Visit.branch == demo["branch_id"]) & (Visit.state == VisitState.APPROVED.value))
                    .order_by(Visit.ended_at.desc()))
        corrected, untouched = approved[0], approved[1]
        greeted = Answer.get((Answer.visit == corrected) & (Answer.item_id == "greeted")).value
        correct_answer(corrected, "greeted", "no" if greeted == "yes" else "yes",
                       "The photo shows nobody at the door.", User.get(User.role == "auditor"))
    client = _manager_client(app)
    text = " ".join(_pdf_text(client.get(f"/reports/visits/{corrected.uuid}.pdf?lang=en").data).split())
    clean = " ".join(_pdf_text(client.get(f"/reports/visits/{untouched.uuid}.pdf?lang=en").data).split())

    assert "Changed by the reviewer after its approval (last on" in text
    assert "after its approval" not in clean


def test_a_corrected_free_text_answer_never_shows_the_shoppers_words_to_a_manager(app, demo):
    """A reviewer takes a shopper's name out of a comment by correcting it: the manager's visit report
    says it was corrected and why, and never prints what the shopper first wrote."""
    from audit.models import User
    from audit.review import correct_answer

    with app.app_context(), database.connection_context():
        visit = (Visit.select().where((Visit.branch == demo["branch_id"]) & (Visit.state == VisitState.APPROVED.value))
                 .order_by(Visit.ended_at.desc()).first())
        from audit.models import Answer

        Answer.update(value="Eszter Varga vagyok, az eladó a nevemen szólított.").where(
            (Answer.visit == visit) & (Answer.item_id == "comments")).execute()
        correct_answer(visit, "comments", "[név törölve] Az eladó felismert.", "Name removed.",
                       User.get(User.role == "auditor"))
    text = " ".join(_pdf_text(_manager_client(app).get(f"/reports/visits/{visit.uuid}.pdf?lang=en").data).split())
    assert "Corrected by the reviewer: Name removed." in text and "[név törölve] Az eladó felismert." in text
    assert "Eszter" not in text and "Varga" not in text


def test_a_ranking_gives_no_place_to_a_branch_without_visits_in_the_period(app, demo):
    """A board reads "4th of 12" as a judgement: a branch nobody visited in the period has no place,
    as on the dashboard, and the scored branches' places run 1, 2, 3 without gaps."""
    with app.app_context(), database.connection_context():
        region = Branch.get_by_id(demo["branch_id"]).region_id
        start = utcnow() - timedelta(days=30)
        branches = list(Branch.select().where(Branch.region == region))
        visited = {b.code for b in branches if Visit.select().where(
            (Visit.branch == b) & (Visit.state == VisitState.APPROVED.value) & (Visit.ended_at >= start)).exists()}
    unvisited = {b.code for b in branches} - visited
    assert visited and unvisited, "the demo's last 30 days hold both"
    text = _pdf_text(_manager_client(app).get(f"/reports/regions/{region}.pdf?lang=en&days=30").data)
    places = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) > 1 and words[1] in visited | unvisited:
            places[words[1]] = words[0]
    assert set(places) == visited | unvisited
    assert all(places[code] == "—" for code in unvisited)
    assert sorted(int(places[code]) for code in visited) == list(range(1, len(visited) + 1))


@pytest.mark.parametrize("language", ["ru", "et", "ro", "hu", "bg"])
def test_the_ratings_of_the_visits_are_printed_whole_not_broken_inside_a_word(app, demo, language):
    """Every cell could break anywhere, so the table squeezed the Rating column below its longest word:
    "Удовлетворительн / о", "Suurepäran / e", with room to spare in the next column (TLN-02's report
    had one in each of these languages)."""
    from audit.i18n import localized

    with app.app_context(), database.connection_context():
        branch = Branch.get(Branch.code == "TLN-02")
        bands = {localized(visit.band, language) for visit in Visit.select().where(
            (Visit.branch == branch) & (Visit.state == VisitState.APPROVED.value)) if visit.band}
    assert bands
    auditor = app.test_client()
    assert login(auditor, "auditor@example.com", DEMO_PASSWORD).status_code == 302
    text = _pdf_text(auditor.get(f"/reports/branches/{branch.id}/visits.pdf?lang={language}&days=365").data)
    for band in bands:
        for word in band.split():
            assert re.search(rf"(^|\s){re.escape(word)}(\s|$)", text), f"{word!r} is broken in the {language} report"


def test_a_region_ranking_without_approved_visits_says_so(app, demo):
    """Every row "—", 0, "—" and no sentence (the branch report says it); and the note about the period
    before stood alone at the top of a second page once a logo took room."""
    with app.app_context(), database.connection_context():
        region = Branch.get_by_id(demo["branch_id"]).region_id
        ids = [b.id for b in Branch.select().where(Branch.region == region)]
        Visit.update(ended_at=utcnow() - timedelta(days=400)).where(Visit.branch.in_(ids)).execute()
    client = _manager_client(app)
    text = " ".join(_pdf_text(client.get(f"/reports/regions/{region}.pdf?lang=en&days=30").data).split())
    assert "No approved visits in this period." in text
    assert "No visit was approved in the period before this one" not in text
    pages = PdfReader(io.BytesIO(client.get(f"/reports/regions/{region}.pdf?lang=ru&days=30").data)).pages
    said = translated(app, "ru", "No approved visits in this period.")
    assert said != "No approved visits in this period." and said in " ".join(pages[0].extract_text().split())


def test_a_cut_through_questions_failed_as_often_is_said_under_the_list(app, demo):
    """Eleven questions each failed once: the report lists eight (by their ids, among equals) and says
    that three more failed as often, rather than dropping them without a word."""
    from audit.models import Answer

    with app.app_context(), database.connection_context():
        approved = Visit.select(Visit.id).where((Visit.branch == demo["branch_id"]) &
                                                (Visit.state == VisitState.APPROVED.value))
        Answer.update(failed=False).where(Answer.visit.in_(approved)).execute()
        visit = approved.order_by(Visit.ended_at.desc()).first()
        scored = [a.id for a in Answer.select(Answer.id).where((Answer.visit == visit) & Answer.possible.is_null(False))
                  .order_by(Answer.item_id).limit(11)]
        assert len(scored) == 11
        Answer.update(failed=True).where(Answer.id.in_(scored)).execute()
    text = " ".join(_pdf_text(_manager_client(app).get(
        f"/reports/branches/{demo['branch_id']}/visits.pdf?lang=en&days=365").data).split())
    assert "3 more questions failed as often as the last one listed." in text
    section = text.split("Failed most often")[1].split("3 more questions")[0]
    assert section.count("1 / ") == 8


def test_a_ranking_ends_with_the_whole_regions_visits_average_and_change(app, demo):
    """The figure a board reads first, as the dashboard gives it: every approved visit of the region's
    branches in the period, their average (each visit counts once, not each branch), and its change."""
    from audit import periods, stats

    with app.app_context(), database.connection_context():
        region = Branch.get_by_id(demo["branch_id"]).region_id
        ids = [b.id for b in Branch.select().where(Branch.region == region)]
        period = periods.parse("91", utcnow())
        visits = Visit.select().where(Visit.branch.in_(ids) & (Visit.state == VisitState.APPROVED.value)
                                      & (Visit.ended_at >= period.start) & (Visit.ended_at < period.end))
        scores = [float(v.score) for v in visits]
        mean = sum(scores) / len(scores)
        previous = stats.overall_mean({"branches": ids}, period.previous_start, period.start)
    assert len(scores) > 1 and previous is not None
    text = _pdf_text(_manager_client(app).get(f"/reports/regions/{region}.pdf?lang=en&days=91").data)
    [line] = [line for line in text.splitlines() if line.startswith("All branches")]
    change = mean - float(previous)
    arrow = "▲" if change > 0 else "▼"
    assert line.split()[2:5] == [str(len(scores)), f"{mean:.1f}%", arrow], line
    assert f"{abs(change):.1f}" in line.split()[5]
    # On the dashboard (in the manager's Hungarian), the same average for the region.
    dashboard = _manager_client(app).get(f"/dashboard/?region={region}&period=91").get_data(as_text=True)
    assert f"{mean:.1f}".replace(".", ",") in dashboard


def test_a_branch_report_says_where_the_branch_stands_in_its_region(app, demo):
    """The cover gives the branch's place in the region's ranking and the region's and brand's
    averages as numbers (the charts had them only as markers), as the region's report ranks it."""
    from audit import stats

    with app.app_context(), database.connection_context():
        region = Branch.get_by_id(demo["branch_id"]).region_id
        branches = list(Branch.select().where(Branch.region == region))
        period = periods.parse("365", utcnow())
        start, end = period.start, period.end
        ranked = [row for row in stats.ranked(stats.ranking(branches, start, end, None, start)) if row[0]]
        brand_mean = stats.overall_mean({"brand": Branch.get_by_id(demo["branch_id"]).region.brand_id}, start, end)
        region_mean = stats.overall_mean({"regions": [region]}, start, end)
    client = _manager_client(app)
    ranking = _pdf_text(client.get(f"/reports/regions/{region}.pdf?lang=en&days=365").data)
    for place, (branch, *_rest) in ranked:
        assert f"{place} {branch.code} " in ranking  # the region's report ranks it so
        cover = " ".join(_pdf_text(client.get(f"/reports/branches/{branch.id}/visits.pdf?lang=en&days=365").data)
                         .split())
        assert (f"Place {place} of {len(ranked)} branches in {branch.region.name} Region average "
                f"{float(region_mean):.1f}% · Brand average {float(brand_mean):.1f}%") in cover, cover[:600]


def _structure(data):
    """{tag: count} of a PDF's structure tree (empty when it is untagged)."""
    from collections import Counter

    root = PdfReader(io.BytesIO(data)).trailer["/Root"]
    counts = Counter()

    def walk(node):
        node = node.get_object()
        if not isinstance(node, dict):
            return
        if "/S" in node:
            counts[str(node["/S"])] += 1
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            walk(kid)

    if "/StructTreeRoot" in root:
        walk(root["/StructTreeRoot"])
    return root, counts


def test_the_reports_are_tagged_for_a_screen_reader_in_their_language(app, demo):
    """Untagged, a report read aloud was one unordered stream: no headings, no table cells."""
    client = _manager_client(app)
    with app.app_context(), database.connection_context():
        visit = Visit.select().where((Visit.branch == demo["branch_id"]) & (Visit.state == VisitState.APPROVED.value)).first()
        region_id = Branch.get_by_id(demo["branch_id"]).region_id
    for url, language in ((f"/reports/branches/{demo['branch_id']}/visits.pdf?lang=ru", "ru"),
                          (f"/reports/visits/{visit.uuid}.pdf?lang=et", "et"),
                          (f"/reports/regions/{region_id}.pdf?lang=hu", "hu")):
        root, tags = _structure(client.get(url).data)
        assert bool(root["/MarkInfo"]["/Marked"]) and root["/Lang"] == language, (url, root["/Lang"])
        assert tags["/H1"] == 1 and tags["/Table"] >= 1 and tags["/TH"] >= 1 and tags["/TD"] >= 1, (url, tags)


@pytest.fixture
def two_checklists(app, demo):
    """BUD-01 audited with two checklists in the half year: the shop's five visits and a bank visit
    that scores well apart from them; a photo on the latest shop visit."""
    from audit.models import Checklist, ChecklistVersion, Evidence

    with app.app_context(), database.connection_context():
        branch = Branch.get_by_id(demo["branch_id"])
        bank_visit = approved_bank_visit(branch)
        period = periods.parse("182", utcnow())
        in_period = Visit.select(Visit, ChecklistVersion, Checklist).join(ChecklistVersion).join(Checklist).where(
            (Visit.branch == branch) & (Visit.state == VisitState.APPROVED.value) & (Visit.ended_at >= period.start)
            & (Visit.ended_at < period.end)).order_by(Visit.ended_at.desc())
        shop = [visit for visit in in_period if visit.checklist_version.checklist.slug == "retail-store-visit"]
        os.makedirs(os.path.join(app.config["MEDIA_DIR"], "photos"), exist_ok=True)
        with open(os.path.join(app.config["MEDIA_DIR"], "photos", "shop.png"), "wb") as file:
            file.write(tiny_png())
        photo = Evidence.create(visit=shop[0], item_id=shop[0].checklist_version.content["sections"][0]["items"][0]["id"],
                                client_id="shop-photo", file_name="shop.png", sha256="0" * 64, width=40, height=20)
        checklists = {c.slug: c for c in Checklist.select()}
        return {
            "branch": branch, "region_id": branch.region_id, "period": period, "photo_id": photo.id,
            "bank": checklists["bank-branch-visit"].id, "retail": checklists["retail-store-visit"].id,
            "bank_title": checklists["bank-branch-visit"].history().first().title("en"),
            "retail_title": checklists["retail-store-visit"].history().first().title("en"),
            "bank_score": float(bank_visit.score), "bank_ended": bank_visit.ended_at, "shop_scores": [float(v.score) for v in shop],
        }


def _en_percent(app, value):
    with app.test_request_context(), force_locale("en"):
        return format_percent(value)


def _words(response):
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return " ".join(_pdf_text(response.data).split())


def _cover_score(text):
    """The big figure of a branch report's cover: its first percentage."""
    return re.search(r"\d+\.\d%", text).group(0)


def _file_name(response):
    return re.search(r'filename="([^"]+)"', response.headers["Content-Disposition"]).group(1)


def test_a_branch_report_of_the_dashboards_checklist_counts_its_visits_alone_and_names_it(app, two_checklists):
    """Filtered by a checklist, the dashboard's row and the branch's PDF give the same figures: the
    PDF counts that checklist's visits alone (average, standing, visits, trend, comments, photos) and
    says so on its cover. Without the filter it is the report of every visit, as it was."""
    c = two_checklists
    bank, shop = c["bank_score"], c["shop_scores"]
    client = _manager_client(app)
    url = f"/reports/branches/{c['branch'].id}/visits.pdf?lang=en&period=182"
    every, of_bank, of_shop = (client.get(url + query) for query in ("", f"&checklist={c['bank']}",
                                                                     f"&checklist={c['retail']}"))
    every_text, bank_text, shop_text = _words(every), _words(of_bank), _words(of_shop)
    named = "Only the visits made with the checklist “{}”."

    assert named.format(c["bank_title"]) in bank_text.split("Trend")[0]  # on the cover
    assert _cover_score(bank_text) == _en_percent(app, bank) and "1 approved visit " in bank_text
    # Its place and the averages of the bank's visits alone: the only branch of the region with one.
    assert f"Place 1 of 1 branch in Hungary Region average {_en_percent(app, bank)} · Brand average " \
           f"{_en_percent(app, bank)}" in bank_text
    assert c["retail_title"] not in bank_text and "Audited with 2 checklists" not in bank_text

    assert named.format(c["retail_title"]) in shop_text.split("Trend")[0]
    assert _cover_score(shop_text) == _en_percent(app, sum(shop) / len(shop))
    assert f"{len(shop)} approved visits " in shop_text
    assert c["bank_title"] not in shop_text

    # Unfiltered: every visit, the sections of the most used checklist, said as before.
    assert "Only the visits made with" not in every_text and "Audited with 2 checklists" in every_text
    assert f"{len(shop) + 1} approved visits " in every_text
    assert _cover_score(every_text) == _en_percent(app, (sum(shop) + bank) / (len(shop) + 1))
    assert _words(client.get(url + "&checklist=0")) == _words(client.get(url + "&checklist=")) == every_text

    # Named apart: a manager keeps both files in one folder.
    assert re.fullmatch(r"BUD-01-report-\d{8}-\d{8}-en\.pdf", _file_name(every))
    assert re.fullmatch(r"BUD-01-report-bank-branch-visit-\d{8}-\d{8}-en\.pdf", _file_name(of_bank))

    # The trend, the shoppers' words and the photos are of the bank's visit alone too.
    from audit.reports.branch import ChosenChecklist, branch_report_context
    from audit.stats import checklist_version_ids

    with app.test_request_context(), force_locale("en"):
        chosen = ChosenChecklist("bank-branch-visit", c["bank_title"], checklist_version_ids(c["bank"]))
        start, end = c["period"].start, c["period"].end
        of_bank_context = branch_report_context(c["branch"], "en", start, end, checklist=chosen)
        every_context = branch_report_context(c["branch"], "en", start, end)
    trend = of_bank_context["charts"]["trend"]
    assert len(re.findall(r"<circle", trend)) == 1 and _en_percent(app, bank) in trend
    assert len(re.findall(r"<circle", every_context["charts"]["trend"])) > 1
    assert of_bank_context["comments"] and {ended for _item, _text, ended in of_bank_context["comments"]} == {c["bank_ended"]}
    assert len({ended for _item, _text, ended in every_context["comments"]}) > 1
    assert [photo.id for photo in every_context["photos"]] == [c["photo_id"]] and of_bank_context["photos"] == []


def test_a_region_report_of_the_dashboards_checklist_ranks_by_its_visits_alone(app, two_checklists):
    """The region's ranking filtered by a checklist: visits, averages, change and sections of its
    visits alone, the checklist named on the cover; unfiltered, every visit as before."""
    from audit.models import Checklist, ChecklistVersion

    c = two_checklists
    client = _manager_client(app)
    url = f"/reports/regions/{c['region_id']}.pdf?lang=en&period=91"  # the demo's visits of the quarter before too
    every, of_bank, of_shop = (client.get(url + query) for query in ("", f"&checklist={c['bank']}",
                                                                     f"&checklist={c['retail']}"))
    # Column headings are hyphenated to fit: read whole.
    every_text, bank_text, shop_text = (_words(r).replace("\u2010 ", "") for r in (every, of_bank, of_shop))
    bank = _en_percent(app, c["bank_score"])

    assert "Only the visits made with the checklist “{}”.".format(c["bank_title"]) in bank_text.split("#")[0]
    assert f"1 BUD-01 Aurora Váci utca 1 {bank} —" in bank_text
    for code in ("BUD-02", "DEB-01", "SZE-01"):  # no bank visit: no place, no score
        assert re.search(rf"— {code} [^0-9]+ 0 — —", bank_text), code
    assert f"All branches 1 {bank} —" in bank_text  # no bank visit the quarter before
    # The columns are the bank checklist's sections, not those of the shop's, the most used.
    with app.app_context(), database.connection_context():
        sections = {slug: {s["title"]["en"] for s in Checklist.get(Checklist.slug == slug).history().first()
                           .content["sections"]} for slug in ("bank-branch-visit", "retail-store-visit")}
    bank_only = sections["bank-branch-visit"] - sections["retail-store-visit"]
    assert bank_only and all(title in bank_text for title in bank_only), bank_text
    assert not any(title in every_text for title in bank_only)
    # Every visit: the shop's, the bank's, and the enquiries made to another of the region's branches.
    assert "checklists in this period" not in bank_text and "Audited with 3 checklists" in every_text

    # The shop's checklist: its visits of the region, their average and its change.
    with app.app_context(), database.connection_context():
        period = periods.parse("91", utcnow())
        ids = [b.id for b in Branch.select().where(Branch.region == c["region_id"])]

        def scores(start, end, slug=None):
            rows = (Visit.select(Visit.score).join(ChecklistVersion).join(Checklist)
                    .where(Visit.branch.in_(ids) & (Visit.state == VisitState.APPROVED.value)
                           & (Visit.ended_at >= start) & (Visit.ended_at < end)))
            return [float(score) for (score,) in (rows.where(Checklist.slug == slug) if slug else rows).tuples()]

        now, shop_now = scores(period.start, period.end), scores(period.start, period.end, "retail-store-visit")
        shop_before = scores(period.previous_start, period.start, "retail-store-visit")
        enquiries_now = scores(period.start, period.end, "phone-and-online-enquiry")
    assert len(shop_now) == len(now) - 1 - len(enquiries_now) and shop_before  # less the bank visit and the enquiries
    assert "Only the visits made with the checklist “{}”.".format(c["retail_title"]) in shop_text.split("#")[0]
    [line] = [line for line in _pdf_text(of_shop.data).splitlines() if line.startswith("All branches")]
    change = sum(shop_now) / len(shop_now) - sum(shop_before) / len(shop_before)
    assert line.split()[2:5] == [str(len(shop_now)), _en_percent(app, sum(shop_now) / len(shop_now)),
                                 "▲" if change > 0 else "▼"], line
    assert f"{abs(change):.1f}" in line.split()[5]
    [line] = [line for line in _pdf_text(every.data).splitlines() if line.startswith("All branches")]
    assert line.split()[2:4] == [str(len(now)), _en_percent(app, sum(now) / len(now))]
    assert "Only the visits made with" not in every_text
    assert _file_name(of_bank) == _file_name(every).replace(f"region-{c['region_id']}-",
                                                            f"region-{c['region_id']}-bank-branch-visit-")


def test_a_regions_zip_of_the_dashboards_checklist_holds_reports_of_its_visits_alone(
        app_config, app, two_checklists, tmp_path, monkeypatch):
    """The ZIP button of a dashboard filtered by a checklist: the job, queued as a worker takes it,
    makes every branch's report of that checklist's visits, named apart from the ZIP of every visit."""
    import html
    import zipfile

    from audit import create_app
    from audit.models import Job
    from conftest import csrf_from

    c = two_checklists
    monkeypatch.setenv("AUDIT_INSTANCE", str(tmp_path / "instance"))
    queued = create_app(dict(app_config, HUEY_IMMEDIATE=False))  # the web process only queues the jobs
    client = queued.test_client()
    assert login(client, "manager.hu@example.com", DEMO_PASSWORD).status_code == 302
    page = client.get(f"/dashboard/?period=182&checklist={c['bank']}")
    action = html.unescape(re.search(r'action="(/reports/regions/\d+/reports\.zip\?[^"]*)"', page.get_data(as_text=True))
                           .group(1))
    assert f"checklist={c['bank']}" in action
    token = csrf_from(page)
    of_bank = client.post(action + "&lang=en", data={"csrf_token": token})
    every = client.post(f"/reports/regions/{c['region_id']}/reports.zip?period=182&lang=en", data={"csrf_token": token})
    assert of_bank.status_code == every.status_code == 302
    huey = queued.extensions["huey"]
    assert huey.pending_count() == 2
    while (task := huey.dequeue()) is not None:  # as the worker does: the task's arguments from the queue
        huey.execute(task)
    with queued.app_context(), database.connection_context():
        jobs = {job.uuid: job for job in Job.select()}
    assert [job.status for job in jobs.values()] == ["done", "done"]
    bank_job = jobs[next(uuid for uuid in jobs if str(uuid) in of_bank.headers["Location"])]
    assert c["bank_title"] in bank_job.title and c["bank_title"] not in next(
        job.title for job in jobs.values() if job is not bank_job)

    archives = {}
    for name, started in (("bank", of_bank), ("every", every)):
        download = client.get(started.headers["Location"] + "/download")
        archives[name] = (re.search(r"filename=([^;]+)", download.headers["Content-Disposition"]).group(1),
                          zipfile.ZipFile(io.BytesIO(download.data)))
    assert archives["bank"][0] != archives["every"][0] and "Bank-branch" in archives["bank"][0]
    bank_names, every_names = sorted(archives["bank"][1].namelist()), sorted(archives["every"][1].namelist())
    # The region report first in each, of the same checklist (tests/test_region_report.py reads it).
    assert archives["bank"][1].namelist()[0] == bank_names.pop() and re.fullmatch(
        rf"region-{c['region_id']}-bank-branch-visit-\d{{8}}-\d{{8}}-en\.pdf", archives["bank"][1].namelist()[0])
    assert archives["every"][1].namelist()[0] == every_names.pop() and re.fullmatch(
        rf"region-{c['region_id']}-\d{{8}}-\d{{8}}-en\.pdf", archives["every"][1].namelist()[0])
    assert all(re.fullmatch(r"[A-Z]{3}-\d\d-report-bank-branch-visit-\d{8}-\d{8}-en\.pdf", n) for n in bank_names)
    assert all(re.fullmatch(r"[A-Z]{3}-\d\d-report-\d{8}-\d{8}-en\.pdf", n) for n in every_names)
    assert [n.replace("-bank-branch-visit", "") for n in bank_names] == every_names  # one report per branch

    def report(name, code):
        archive = archives[name][1]
        return " ".join(_pdf_text(archive.read(next(n for n in archive.namelist() if n.startswith(code)))).split())

    named = "Only the visits made with the checklist “{}”.".format(c["bank_title"])
    bud = report("bank", "BUD-01")
    assert named in bud and "1 approved visit " in bud and _cover_score(bud) == _en_percent(app, c["bank_score"])
    deb = report("bank", "DEB-01")
    assert named in deb and "No approved visits in this period." in deb
    every_bud = report("every", "BUD-01")
    assert "Only the visits made with" not in every_bud and f"{len(c['shop_scores']) + 1} approved visits " in every_bud


def test_a_checklist_that_is_no_id_or_not_the_readers_is_a_missing_report(app, demo):
    """Reports of a checklist are of one the reader's branches were audited with (another client's
    is none of a manager's business, and its title would be on the cover), named by a real id: an
    edited address is a missing page, not the report of every checklist. Another region's manager
    gets a missing page whatever the checklist."""
    from audit.models import Checklist, Job
    from conftest import csrf_from

    with app.app_context(), database.connection_context():
        branch = Branch.get_by_id(demo["branch_id"])
        bank, retail = (Checklist.get(Checklist.slug == slug).id for slug in ("bank-branch-visit", "retail-store-visit"))
        theirs = Branch.get(Branch.code == "CLJ-01")  # the other manager's, audited with the shop's checklist
    client = _manager_client(app)
    token = csrf_from(client.get("/dashboard/"))

    def answers(client, branch, checklist):
        return [client.get(f"/reports/branches/{branch.id}/visits.pdf?checklist={checklist}").status_code,
                client.get(f"/reports/regions/{branch.region_id}.pdf?checklist={checklist}").status_code,
                client.post(f"/reports/regions/{branch.region_id}/reports.zip?checklist={checklist}",
                            data={"csrf_token": token}).status_code]

    for checklist in ("abc", "999999", "99999999999999999999999", "-1", "1.5", bank):  # bank: not at Aurora's
        assert answers(client, branch, checklist) == [404, 404, 404], checklist
    with app.app_context(), database.connection_context():
        assert Job.select().count() == 0
    assert answers(client, branch, retail) == [200, 200, 302]
    other = _manager_client(app, "manager.ee@example.com")
    token = csrf_from(other.get("/dashboard/"))
    assert answers(other, branch, retail) == [404, 404, 404]
    assert answers(other, theirs, retail) == [200, 200, 302]


def test_a_zip_of_a_checklist_with_a_long_title_is_still_made(app, two_checklists):
    """The checklist's title in the job's title, beside the brand's, region's and period's: a long one
    is cut to what the job's row holds (PostgreSQL refused the row, and the button gave an error)."""
    from audit.models import ChecklistVersion, Job
    from conftest import csrf_from

    c = two_checklists
    with app.app_context(), database.connection_context():
        for version in ChecklistVersion.select().where(ChecklistVersion.checklist == c["bank"]):
            version.content = dict(version.content, title={**version.content["title"], "en": "Thorough " * 30})
            version.save()
    client = _manager_client(app)
    started = client.post(f"/reports/regions/{c['region_id']}/reports.zip?period=182&lang=en&checklist={c['bank']}",
                          data={"csrf_token": csrf_from(client.get("/dashboard/"))})
    assert started.status_code == 302
    with app.app_context(), database.connection_context():
        job = Job.get()
    assert job.status == "done" and len(job.title) == Job.title.max_length and job.title.startswith("Aurora")


def _photo_count(data):
    """How many different raster images a PDF holds (the demo's brands have no logo). WeasyPrint puts
    them in resources every page shares: counted once each."""
    return len({image.data for page in PdfReader(io.BytesIO(data)).pages for image in page.images})


def test_a_photo_the_reviewer_leaves_out_is_in_no_managers_report(app, two_checklists):
    """The shopper's reflection in the shop window: the reviewer keeps it out of the visit's and the
    branch's reports, still sees it marked so, and can put it back."""
    from audit.models import Evidence

    with app.app_context(), database.connection_context():
        photo = Evidence.get_by_id(two_checklists["photo_id"])
        visit = photo.visit
    manager = _manager_client(app)
    auditor = app.test_client()
    assert login(auditor, "auditor@example.com", DEMO_PASSWORD).status_code == 302
    visit_pdf, branch_pdf = f"/reports/visits/{visit.uuid}.pdf?lang=en", \
        f"/reports/branches/{two_checklists['branch'].id}/visits.pdf?lang=en&period=182"
    shown_in_visit, shown_in_branch = _photo_count(manager.get(visit_pdf).data), _photo_count(manager.get(branch_pdf).data)
    assert shown_in_visit >= 1 and shown_in_branch >= 1
    page = auditor.get(f"/review/{visit.uuid}")
    hide = f"/review/{visit.uuid}/photos/shop-photo/reports"
    assert manager.post(hide, data={"hidden": "1", "csrf_token": csrf_from(manager.get("/dashboard/"))}).status_code == 403

    left_out = auditor.post(hide, data={"hidden": "1", "csrf_token": csrf_from(page)}, follow_redirects=True)

    assert "The photo is left out of the managers&#39; reports." in left_out.get_data(as_text=True)
    assert "<span class=\"badge\">Left out of the managers' reports</span>" in left_out.get_data(as_text=True)  # still shown
    assert _photo_count(manager.get(visit_pdf).data) == shown_in_visit - 1
    assert _photo_count(manager.get(branch_pdf).data) == shown_in_branch - 1
    assert auditor.post(f"/review/{visit.uuid}/photos/nobodys/reports",
                        data={"hidden": "1", "csrf_token": csrf_from(page)}).status_code == 404
    assert auditor.post(hide, data={"hidden": "1"}).status_code == 400  # no token
    auditor.post(hide, data={"hidden": "0", "csrf_token": csrf_from(page)})
    assert _photo_count(manager.get(visit_pdf).data) == shown_in_visit
    log = html.unescape(auditor.get("/admin/log").get_data(as_text=True))
    assert "Photo left out of the managers' reports" in log and "Photo shown in the managers' reports again" in log


def test_a_visit_reports_question_is_not_broken_after_its_first_word(app, demo):
    """A question that just fits its column's line came out as "How" on one line and the rest on the
    next: the space the template left after it in the cell pushed WeasyPrint to break at its first word."""
    from audit.models import Checklist, ChecklistVersion, ManagerRegion, User

    with app.app_context(), database.connection_context():
        visit = (Visit.select().join(ChecklistVersion).join(Checklist)
                 .where((Checklist.slug == "phone-and-online-enquiry") & (Visit.state == VisitState.APPROVED.value))
                 .order_by(Visit.ended_at.desc()).first())
        manager = User.select().join(ManagerRegion).where(ManagerRegion.region == visit.branch.region_id).first()
    response = _manager_client(app, manager.email).get(f"/reports/visits/{visit.uuid}.pdf?lang=en")
    assert response.status_code == 200
    lines = subprocess.run(["pdftotext", "-", "-"], input=response.data, capture_output=True, check=True).stdout.decode()
    assert "How did the staff member find out what you needed?" in lines.splitlines()


def test_a_branch_reports_comments_are_named_by_the_question_of_their_own_checklist(app, demo):
    """A branch audited with two checklists: each comment in the report is named by its question in the
    checklist of its visit. They were named from the most used checklist's questions alone: a comment on
    the bank visit's advice came out under a bare item id ("advice_..."), as no shop question has it."""
    from audit.models import Checklist, ChecklistVersion

    with app.app_context(), database.connection_context():
        branch = Branch.get_by_id(demo["branch_id"])
        visit = approved_bank_visit(branch)
        bank = ChecklistVersion.select().join(Checklist).where(Checklist.slug == "bank-branch-visit").first()
        commented = [answer.item_id for answer in visit.answers if answer.comment == "Not done."]
        questions = {item["id"]: item["text"]["en"] for section in bank.content["sections"] for item in section["items"]}
    assert commented
    text = " ".join(_pdf_text(_manager_client(app).get(
        f"/reports/branches/{demo['branch_id']}/visits.pdf?lang=en&period=182").data).split())
    assert "those of “Retail store visit”, the most used" in text  # the shop's questions are the parts shown
    words = text[text.index("What the shoppers said"):text.index("Open actions")]
    assert "Not done." in words
    assert not any(item_id in words for item_id in commented)
    assert any(" ".join(questions[item_id].split()) in words for item_id in commented)


def test_a_critical_failure_is_named_by_the_question_of_its_own_checklist(app, demo):
    """Every shipped checklist has a critical "greeted" question, each worded for its kind of visit: a
    bank visit's failed greeting at a shop that also had shop visits was named, in the branch and the
    region reports, with the shop's question (the texts of every checklist were merged by item id)."""
    from audit.models import Checklist, ChecklistVersion, User
    from audit.review import correct_answer

    with app.app_context(), database.connection_context():
        branch = Branch.get_by_id(demo["branch_id"])
        visit = approved_bank_visit(branch)
        correct_answer(visit, "greeted", "no", "Nobody greeted.", User.get(User.role == "auditor"))
        assert Visit.get_by_id(visit.id).has_critical_failure
        bank, shop = (ChecklistVersion.select().join(Checklist).where(Checklist.slug == slug).first()
                      for slug in ("bank-branch-visit", "retail-store-visit"))
        greeted = {version.id: next(item["text"]["en"] for section in version.content["sections"]
                                    for item in section["items"] if item["id"] == "greeted") for version in (bank, shop)}
        region = branch.region_id
    assert greeted[bank.id] != greeted[shop.id]
    client = _manager_client(app)
    branch_text = " ".join(_pdf_text(client.get(
        f"/reports/branches/{demo['branch_id']}/visits.pdf?lang=en&period=182").data).split())
    region_text = " ".join(_pdf_text(client.get(f"/reports/regions/{region}.pdf?lang=en&period=182").data).split())
    for text in (branch_text, region_text):
        critical = text[text.rindex("Critical failures"):]
        assert greeted[bank.id] in critical
        assert greeted[shop.id] not in critical
