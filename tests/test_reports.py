"""PDF reports rendered by WeasyPrint, read back as text and as a picture."""
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

from audit import periods
from audit.db import database
from audit.demo import ACCOUNTS, DEMO_PASSWORD, load_demo
from audit.i18n import format_percent
from audit.media import store_logo
from audit.models import Brand, Branch, Visit, VisitState, utcnow
from audit.reports.render import AppFileFetcher
from conftest import login
from tests_support import tiny_png, translated


@pytest.fixture
def demo(app):
    with app.app_context(), database.connection_context():
        load_demo()
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

    from audit.demo import best_answers
    from audit.models import Checklist, ChecklistVersion, User, VisitScore
    from audit.operations import submit_visit
    from audit.reports.branch import branch_report_context
    from audit.review import approve

    with app.app_context(), database.connection_context():
        branch = Branch.get_by_id(demo["branch_id"])
        bank = ChecklistVersion.select().join(Checklist).where(Checklist.slug == "bank-branch-visit").first()
        shopper = User.get(User.email == "shopper1@example.com")
        visit = Visit.create(branch=branch, checklist_version=bank, shopper=shopper,
                             planned_from=utcnow().date() - timedelta(days=3), planned_to=utcnow().date())
        answers = {**best_answers(bank.content)}
        advice = next(section for section in bank.content["sections"] if section["id"] == "advice")
        failed = [item for item in advice["items"] if item["type"] == "yesno" and not item.get("photo_on_fail")]
        answers.update({item["id"]: "no" for item in failed})
        submit_visit(visit, answers, {item["id"]: "Not done." for item in failed}, {}, started_at=utcnow() - timedelta(minutes=40), ended_at=utcnow())
        approve(visit, User.get(User.email == "auditor@example.com"))
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
    region = _pdf_text(_manager_client(app).get(f"/reports/regions/{branch.region_id}.pdf?lang=en&period=365").data)
    assert "Audited with 2 checklists in this period: the sections are those of" in " ".join(region.split())


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
