"""What an attacker holding one account of each role tried, and the app now refuses (the security and
scope audit): each test fails on the app as it was before its fix."""
import re

from audit.db import database
from audit.models import User
from conftest import csrf_from, hidden_fields_from, login


def _invitation_link(page):
    found = re.search(r'id="password-link" type="text" readonly value="http://localhost(/password/[^"]+)"',
                      page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)[:2000]
    return found.group(1)


def _save_account(auditor, account_id, **fields):
    page = auditor.get(f"/admin/users/{account_id}")
    data = {"name": fields.get("name", "Nina Newshopper"), "email": fields["email"], "role": "shopper",
            "language": "", "password": "", "is_enabled": "y"}
    return auditor.post(f"/admin/users/{account_id}", data={**data, **hidden_fields_from(page)})


def test_an_invitation_sent_to_a_mistyped_address_dies_when_the_address_is_corrected(app, org, login_as):
    auditor = login_as("auditor")
    form = auditor.get("/admin/users/new")
    created = auditor.post("/admin/users/new", data={
        "name": "Nina Newshopper", "email": "nina@gmial.example", "role": "shopper", "language": "",
        "password": "", "is_enabled": "y", **hidden_fields_from(form)})
    sent_to_a_stranger = _invitation_link(created)
    with app.app_context(), database.connection_context():
        nina = User.get(User.email == "nina@gmial.example")
    assert _save_account(auditor, nina.id, email="nina@gmail.example").status_code == 302
    stranger = app.test_client()
    assert stranger.get(sent_to_a_stranger).status_code == 410
    refused = stranger.post(sent_to_a_stranger, data={
        "password": "the-strangers-password", "repeated": "the-strangers-password",
        "csrf_token": csrf_from(stranger.get("/login"))})
    assert refused.status_code == 410
    assert login(app.test_client(), "nina@gmail.example", "the-strangers-password").status_code == 200  # refused
    # A new link, made for the right address, works.
    made = auditor.post(f"/admin/users/{nina.id}/password-link",
                        data={"csrf_token": csrf_from(auditor.get(f"/admin/users/{nina.id}"))})
    link = _invitation_link(made)
    nina_phone = app.test_client()
    done = nina_phone.post(link, data={"password": "ninas-own-password", "repeated": "ninas-own-password",
                                       "csrf_token": csrf_from(nina_phone.get(link))})
    assert done.status_code == 302
    assert login(app.test_client(), "nina@gmail.example", "ninas-own-password").status_code == 302


def test_an_account_given_a_new_address_is_signed_out_where_it_was_signed_in(app, org, login_as):
    # The account passed to another person (a shopper who left, her panel place taken over): the
    # phone still signed in with the old address no longer reaches the visits.
    old_phone = login_as("shopper")
    assert old_phone.get("/visits/").status_code == 200
    shopper = org["users"]["shopper"]
    auditor = login_as("auditor")
    assert _save_account(auditor, shopper.id, name=shopper.name, email="new.person@example.com").status_code == 302
    assert old_phone.get("/visits/").status_code == 302
    # The same form saved without a new address signs nobody out.
    new_phone = app.test_client()
    assert login(new_phone, "new.person@example.com").status_code == 302
    assert _save_account(auditor, shopper.id, name="Sara S.", email="new.person@example.com").status_code == 302
    assert new_phone.get("/visits/").status_code == 200


def test_a_visit_photo_is_shown_again_only_when_the_app_says_so(app, org, login_as):
    # A shared phone: the shopper signs out, the next person opens the photo's address from the
    # browser's history. Kept an hour without asking, the browser showed it from its cache.
    from datetime import date

    from audit import ROOT
    from audit.models import Visit
    from audit.operations import add_photo, publish_checklist_file
    from tests_support import tiny_png

    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=date.today(), planned_to=date.today())
        add_photo(visit, "photo-1", "shop_front", tiny_png(), app.config["MEDIA_DIR"], 2**20, 10**6)
    for role, url in (("shopper", f"/visits/{visit.uuid}/photos/photo-1"),
                      ("auditor", f"/review/{visit.uuid}/photos/photo-1")):
        client = login_as(role)
        photo = client.get(url)
        assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
        rules = {rule.strip().split("=")[0] for rule in photo.headers["Cache-Control"].split(",")}
        assert {"private", "no-cache"} <= rules and "public" not in rules, photo.headers["Cache-Control"]
        unchanged = client.get(url, headers={"If-None-Match": photo.headers["ETag"]})
        assert unchanged.status_code == 304  # asking again costs no download
        client.post("/logout", data={"csrf_token": csrf_from(client.get("/account/password"))})
        assert client.get(url, headers={"If-None-Match": photo.headers["ETag"]}).status_code == 302


def _disable(app, user_id):
    """What the auditor's form does to disable an account (operations.save_user): in its own write."""
    User.update(is_enabled=False, session_epoch=User.session_epoch + 1).where(User.id == user_id).execute()


def test_a_language_picked_while_the_account_is_disabled_does_not_enable_it_again(app, org, login_as,
                                                                                  monkeypatch):
    # The shopper keeps picking a language (a script, a click a second) while the auditor disables
    # the account: one request read the account before the change and saved it after.
    from audit.views import auth

    shopper = login_as("shopper")
    token = csrf_from(shopper.get("/visits/"))
    account = org["users"]["shopper"]
    checked = auth.LanguageForm.validate_on_submit

    def disabled_meanwhile(form):
        _disable(app, account.id)
        return checked(form)

    monkeypatch.setattr(auth.LanguageForm, "validate_on_submit", disabled_meanwhile)
    assert shopper.post("/language", data={"language": "hu", "csrf_token": token}).status_code == 302
    monkeypatch.undo()
    with app.app_context(), database.connection_context():
        stored = User.get_by_id(account.id)
        assert not stored.is_enabled and stored.session_epoch == 1 and stored.language == "hu"
    assert shopper.get("/visits/").status_code == 302  # signed out
    assert login(app.test_client(), account.email).status_code == 200  # and cannot sign in again


def test_a_sign_in_at_the_moment_the_account_is_disabled_does_not_enable_it_again(app, org, monkeypatch):
    from audit.views import auth

    account = org["users"]["shopper"]
    client = app.test_client()
    # A language picked before signing in becomes the account's (it has none): the account is saved.
    client.post("/language", data={"language": "ro", "csrf_token": csrf_from(client.get("/login"))})
    right_password = auth.check_password

    def disabled_meanwhile(user, password):
        _disable(app, account.id)
        return right_password(user, password)

    monkeypatch.setattr(auth, "check_password", disabled_meanwhile)
    login(client, account.email)
    monkeypatch.undo()
    with app.app_context(), database.connection_context():
        stored = User.get_by_id(account.id)
        assert not stored.is_enabled and stored.session_epoch == 1 and stored.language == "ro"
    assert client.get("/visits/").status_code == 302


def test_an_account_saved_by_an_auditor_keeps_the_password_its_owner_set_meanwhile(app, org, login_as, monkeypatch):
    # The shopper sets a new password with a link while an auditor saves her account (a new name):
    # the save wrote back the row as read before, with the old password and the sessions it ended.
    from audit import password_links
    from audit.views import admin

    shopper = org["users"]["shopper"]
    old_phone = login_as("shopper")
    auditor = login_as("auditor")
    page = auditor.get(f"/admin/users/{shopper.id}")
    checked = admin.UserForm.validate_on_submit

    def password_set_meanwhile(form):
        assert password_links.set_password(User.get_by_id(shopper.id), "set-with-the-link")
        return checked(form)

    monkeypatch.setattr(admin.UserForm, "validate_on_submit", password_set_meanwhile)
    saved = auditor.post(f"/admin/users/{shopper.id}", data={
        "name": "Sara S.", "email": shopper.email, "role": "shopper", "language": "", "password": "",
        "is_enabled": "y", **hidden_fields_from(page)})
    monkeypatch.undo()
    assert saved.status_code == 302
    assert login(app.test_client(), shopper.email).status_code == 200  # the old password is refused
    assert login(app.test_client(), shopper.email, "set-with-the-link").status_code == 302
    assert old_phone.get("/visits/").status_code == 302  # still signed out
    with app.app_context(), database.connection_context():
        assert User.get_by_id(shopper.id).name == "Sara S."


def _approved_visit_with_a_comment_and_a_photo(app, org):
    from datetime import timedelta

    from audit import ROOT
    from audit.demo import best_answers
    from audit.models import Visit, utcnow
    from audit.operations import add_photo, publish_checklist_file, submit_visit
    from audit.review import approve
    from tests_support import tiny_png

    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
        ended = utcnow() - timedelta(days=2)
        visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                             planned_from=ended.date() - timedelta(days=3), planned_to=ended.date())
        add_photo(visit, "reflection", "shop_front", tiny_png(), app.config["MEDIA_DIR"], 2**20, 10**6)
        answers = best_answers(version.content)
        submit_visit(visit, answers, {"greeted": "Sara here: greeted at once."}, {"shop_front": ["reflection"]},
                     started_at=ended - timedelta(minutes=30), ended_at=ended)
        approve(visit, org["users"]["auditor"])
    return str(visit.uuid)


def _xlsx_text(data):
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return " ".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())


def test_a_managers_export_made_before_a_reviewer_took_a_name_out_is_no_longer_handed_out(app, org, login_as):
    visit = _approved_visit_with_a_comment_and_a_photo(app, org)
    manager, auditor = login_as("manager"), login_as("auditor")
    started = manager.post("/reports/export.xlsx?period=30", data={"csrf_token": csrf_from(manager.get("/dashboard/"))})
    job = started.headers["Location"]
    made_before = manager.get(job + "/download")
    assert made_before.status_code == 200 and "Sara here" in _xlsx_text(made_before.data)

    page = auditor.get(f"/review/{visit}")
    corrected = auditor.post(f"/review/{visit}/comments/greeted", data={
        "comment": "Greeted at once.", "reason": "The shopper named herself.", **hidden_fields_from(page)})
    assert corrected.status_code == 302

    assert manager.get(job + "/download").status_code == 404
    page = manager.get(job)  # its page says why, and links no file
    assert page.status_code == 200 and "/download" not in page.get_data(as_text=True)
    assert "A reviewer has changed one of its visits since this file was begun" in page.get_data(as_text=True)
    assert job not in manager.get("/dashboard/").get_data(as_text=True)  # no longer among their files
    again = manager.post("/reports/export.xlsx?period=30", data={"csrf_token": csrf_from(manager.get("/dashboard/"))})
    made_after = manager.get(again.headers["Location"] + "/download")
    assert made_after.status_code == 200
    text = _xlsx_text(made_after.data)
    assert "Sara here" not in text and "Greeted at once." in text


def test_a_regions_zip_made_before_a_reviewer_left_a_photo_out_is_no_longer_handed_out(app, org, login_as):
    visit = _approved_visit_with_a_comment_and_a_photo(app, org)
    manager, auditor = login_as("manager"), login_as("auditor")
    region = org["regions"][0].id
    token = csrf_from(manager.get("/dashboard/"))
    job = manager.post(f"/reports/regions/{region}/reports.zip?period=30", data={"csrf_token": token}).headers["Location"]
    assert manager.get(job + "/download").status_code == 200
    # Another manager's ZIP of another region is not theirs to lose.
    other = login_as("other_manager")
    elsewhere = other.post(f"/reports/regions/{org['regions'][1].id}/reports.zip?period=30",
                           data={"csrf_token": csrf_from(other.get("/dashboard/"))}).headers["Location"]

    page = auditor.get(f"/review/{visit}")
    left_out = auditor.post(f"/review/{visit}/photos/reflection/reports", data={"hidden": "1",
                                                                               "csrf_token": csrf_from(page)})
    assert left_out.status_code == 302

    assert manager.get(job + "/download").status_code == 404
    assert other.get(elsewhere + "/download").status_code == 200


def test_a_managers_file_is_lost_to_a_corrected_free_text_answer_not_to_a_corrected_score(app, org, login_as):
    """Every correction took the manager's files away, a "yes" made "no" too, which can hold no name:
    a region's ZIP had to be made again for a score fixed. A free-text answer can hold one."""
    visit = _approved_visit_with_a_comment_and_a_photo(app, org)
    manager, auditor = login_as("manager"), login_as("auditor")
    started = manager.post("/reports/export.xlsx?period=30", data={"csrf_token": csrf_from(manager.get("/dashboard/"))})
    job = started.headers["Location"]
    assert manager.get(job + "/download").status_code == 200

    for item, value in (("greeted", "no"), ("first_impression", "3")):
        page = auditor.get(f"/review/{visit}")
        corrected = auditor.post(f"/review/{visit}/answers/{item}", data={
            "value": value, "reason": "The recording says otherwise.", **hidden_fields_from(page)})
        assert corrected.status_code == 302
    assert manager.get(job + "/download").status_code == 200  # scores only: still theirs

    page = auditor.get(f"/review/{visit}")
    corrected = auditor.post(f"/review/{visit}/answers/comments", data={
        "value": "Calm shop, nothing else to add.", "reason": "The shopper named herself.", **hidden_fields_from(page)})
    assert corrected.status_code == 302
    assert manager.get(job + "/download").status_code == 404
