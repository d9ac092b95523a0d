"""A checklist of contacts made away from the branch (`on_site: false`: a mystery call, a chat, an
e-mail): the phone asks for no location, the review weighs neither the distance to the branch nor the
contact's length, and the shopper sees which checklist a visit is to be filled with."""
import re
from datetime import date, timedelta

import pytest

from audit import ROOT
from audit.checklist.diff import diff_checklists
from audit.checklist.format import ChecklistError, content_hash, load_checklist_text
from audit.db import database
from audit.demo import best_answers
from audit.models import Checklist, Visit
from audit.operations import publish_checklist, publish_checklist_file, submit_visit
from audit.review import integrity_warnings
from tests_support import SMALL, small_draft_started

REMOTE = SMALL.replace("critical_cap: 40", "critical_cap: 40\non_site: false")


def _visit(app, org, text):
    with app.app_context(), database.connection_context():
        data = load_checklist_text(text)
        version, _created = publish_checklist(data, content_hash(data))
        return Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                            planned_from=date.today() - timedelta(days=1), planned_to=date.today() + timedelta(days=5))


def _sent_from_far_away_in_two_minutes(app, visit):
    """Sent from 5,000 km away, two minutes after it began: a visit to the shop that no one made."""
    with app.app_context(), database.connection_context():
        ended = visit.created_at + timedelta(minutes=30)
        submit_visit(visit, best_answers(visit.checklist_version.content), {}, {},
                     started_at=ended - timedelta(minutes=2), ended_at=ended, location=(0.0, 0.0))
        stored = Visit.get_by_id(visit.id)
        return stored, [code for code, _details in integrity_warnings(stored, 8, 300)]


def test_a_contact_made_away_from_the_branch_keeps_no_distance_and_gets_no_place_or_length_warning(app, org):
    on_site, on_site_warnings = _sent_from_far_away_in_two_minutes(app, _visit(app, org, SMALL))
    remote, remote_warnings = _sent_from_far_away_in_two_minutes(app, _visit(app, org, REMOTE))

    assert on_site.checkin_distance_m > 5_000_000 and {"short_visit", "far_checkin"} <= set(on_site_warnings)
    assert remote.checkin_distance_m is None
    assert "short_visit" not in remote_warnings and "far_checkin" not in remote_warnings


def test_the_phone_asks_for_a_location_only_for_a_visit_to_the_branch_and_names_the_checklist(app, org, login_as):
    on_site, remote = _visit(app, org, SMALL), _visit(app, org, REMOTE.replace("small-visit", "small-call").replace(
        "{en: Small visit, ru: Небольшой визит}", "{en: Small call, ru: Небольшой звонок}"))
    shopper = login_as("shopper")

    visit_page = shopper.get(f"/visits/{on_site.uuid}/fill").get_data(as_text=True)
    call_page = shopper.get(f"/visits/{remote.uuid}/fill").get_data(as_text=True)
    listed = shopper.get("/visits/").get_data(as_text=True)

    assert 'data-branch-lat="47.4936"' in visit_page and 'data-branch-lat=""' in call_page
    assert '<p class="checklist-name" lang="en">Small call</p>' in call_page
    assert '<p class="checklist-name" lang="en">Small visit</p>' in visit_page
    assert listed.count('class="checklist-name"') == 2 and "Small call" in listed and "Small visit" in listed


def test_the_shipped_phone_and_online_enquiry_is_made_away_from_the_branch(app):
    with app.app_context(), database.connection_context():
        version, _created = publish_checklist_file(f"{ROOT}/checklists/phone-and-online-enquiry.yaml")
        store, _created = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
    assert version.content["on_site"] is False
    assert "on_site" not in store.content  # the default is not written: a shop visit's content stays as it was


def test_on_site_must_be_true_or_false_and_true_is_the_default(app):
    with app.app_context():
        with pytest.raises(ChecklistError) as refused:
            load_checklist_text(SMALL.replace("critical_cap: 40", "critical_cap: 40\non_site: no"))
        said_true = load_checklist_text(SMALL.replace("critical_cap: 40", "critical_cap: 40\non_site: true"))
    assert "on_site must be true or false (got 'no')" in str(refused.value)
    assert "on_site" not in said_true and content_hash(said_true) == content_hash(load_checklist_text(SMALL))


def test_the_editor_sets_a_checklist_as_made_away_from_the_branch(app, org, login_as, tmp_path):
    client = login_as("auditor")
    assert small_draft_started(app, client, tmp_path).status_code == 302
    url = "/checklists/small-visit/draft/settings"
    settings = {"title_en": "Small visit", "title_ru": "Небольшой визит", "critical_cap": "40",
                "bands-0-min": "80", "bands-0-label_en": "Good", "bands-0-label_ru": "Хорошо",
                "bands-1-min": "0", "bands-1-label_en": "Poor", "bands-1-label_ru": "Плохо"}

    ticked = client.post(url, data={**settings, "away": "y", **_hidden(client, url)})
    with app.app_context(), database.connection_context():
        away = Checklist.get(Checklist.slug == "small-visit").draft().content
    page = client.get(url).get_data(as_text=True)
    with app.test_request_context():
        published = Checklist.get(Checklist.slug == "small-visit").latest_published().content
        changes = " ".join(change.detail for change in diff_checklists(published, away))
    unticked = client.post(url, data={**settings, **_hidden(client, url)})
    with app.app_context(), database.connection_context():
        back = Checklist.get(Checklist.slug == "small-visit").draft().content

    assert ticked.status_code == 302 and away["on_site"] is False
    assert re.search(r'<input checked id="away" name="away" type="checkbox"', page)
    assert "on_site true → false" in changes
    assert unticked.status_code == 302 and "on_site" not in back


def _hidden(client, url):
    from conftest import hidden_fields_from

    return hidden_fields_from(client.get(url))
