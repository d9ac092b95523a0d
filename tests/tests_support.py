"""Small helpers shared by tests (not fixtures)."""
import functools
import io

from PIL import Image

from audit import ROOT
from audit.checklist import content_hash, load_checklist_file


def translated(app, language, text):
    """`text` as the app's catalog for `language` has it (what a page in that language shows)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale(language):
        return gettext(text)


def tiny_png(size=(40, 20), colour="#1f4e79"):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


# A small valid checklist in two languages, for tests that need one of their own.
SMALL = """\
id: small-visit
languages: [en, ru]
title: {en: Small visit, ru: Небольшой визит}
critical_cap: 40
bands:
  - {min: 80, label: {en: Good, ru: Хорошо}}
  - {min: 0, label: {en: Poor, ru: Плохо}}
sections:
  - id: welcome
    title: {en: Welcome, ru: Приветствие}
    items:
      - id: greeted
        type: yesno
        critical: true
        weight: 2
        dimension: politeness
        text: {en: "Greeted?", ru: "Поприветствовали?"}
      - id: wait
        type: timer
        thresholds: [{max: 60, points: 1}, {max: 180, points: 0.5}]
        text: {en: Wait, ru: Ожидание}
"""


def small_draft_started(app, client, tmp_path, text=SMALL):
    """SMALL (or `text`, id small-visit) published from a file, and a draft of it started by `client`
    (an auditor's): the response of the start."""
    from audit.db import database
    from audit.operations import publish_checklist_file
    from conftest import csrf_from

    path = tmp_path / "small-visit.yaml"
    path.write_text(text, encoding="utf-8")
    with app.app_context(), database.connection_context():
        publish_checklist_file(str(path))
    return client.post("/checklists/small-visit/draft/start",
                       data={"csrf_token": csrf_from(client.get("/checklists/small-visit/"))})


@functools.cache
def retail_checklist():
    """The shipped retail checklist, read once per test run: (content, hash)."""
    data = load_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
    return data, content_hash(data)


def approved_bank_visit(branch, days_ago=3):
    """An approved visit of the demo's bank checklist at `branch` (a shop's, in the demo), its
    "advice" questions failed with a comment: the branch is then audited with two checklists, the
    bank's scoring well apart from the shop's. Needs the demo and an open connection."""
    from datetime import timedelta

    from audit.demo import best_answers
    from audit.models import Checklist, ChecklistVersion, User, Visit, utcnow
    from audit.operations import submit_visit
    from audit.review import approve

    bank = ChecklistVersion.select().join(Checklist).where(Checklist.slug == "bank-branch-visit").first()
    ended = utcnow() - timedelta(days=days_ago)
    visit = Visit.create(branch=branch, checklist_version=bank, shopper=User.get(User.email == "shopper1@example.com"),
                         planned_from=ended.date() - timedelta(days=3), planned_to=ended.date())
    advice = next(section for section in bank.content["sections"] if section["id"] == "advice")
    failed = [item for item in advice["items"] if item["type"] == "yesno" and not item.get("photo_on_fail")]
    submit_visit(visit, {**best_answers(bank.content), **{item["id"]: "no" for item in failed}},
                 {item["id"]: "Not done." for item in failed}, {}, started_at=ended - timedelta(minutes=40), ended_at=ended)
    approve(visit, User.get(User.email == "auditor@example.com"))
    return Visit.get_by_id(visit.id)


def signed_in_new_auditor(app, email, name):
    """An auditor account made now, with the tests' password, signed in in a test client of its own."""
    from audit.db import database
    from audit.models import Role, User, utcnow
    from audit.security import hash_password
    from conftest import PASSWORD, login

    with app.app_context(), database.connection_context():
        User.create(email=email, name=name, role=Role.AUDITOR.value, password_hash=hash_password(PASSWORD),
                    password_set_at=utcnow())
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client
