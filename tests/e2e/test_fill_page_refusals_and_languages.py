"""The fill page in Chromium at phone size, where a QA pass found it wrong: a file that is no image,
picked as a photo, is said beside its question (the server's refusal kept); refusals kept on the phone
are said in the language chosen since; changing the checklist's language or the top bar's, with or
without JavaScript, keeps what was typed; a sent visit's page says it was sent instead of offering an empty form."""
import re

import pytest
from playwright.sync_api import expect

from audit.db import database
from audit.models import Evidence, Visit, VisitState
from audit.review import return_to_shopper
from tests.e2e.conftest import PHONE, screenshot, wait_until
from tests.e2e.test_offline import _answer, _fill_everything, _photo_file, _phone_with_visit_kept, _stored
from tests.e2e.test_shopper_phone import WAIT_TOO_LONG, _answer_a_wait_too_long, _open_new_visit, _sign_in, _visit
from tests_support import translated

pytestmark = pytest.mark.browser

NOT_AN_IMAGE = "The file is not a readable PNG or JPEG image."
NEEDS_COMMENT = "Say in a comment what went wrong."
NEEDS_PHOTO = "Add a photo that shows what went wrong."


def _phone_on_a_visit_of_the_retail_checklist_with(app, browser, live_server, org, item_id, **changes):
    """(context, page, visit uuid): a phone on the fill page of a visit of the shipped retail
    checklist with one question changed as an auditor may write it (`changes` to its fields)."""
    from datetime import date, timedelta

    from audit import ROOT
    from audit.checklist import content_hash, load_checklist_file
    from audit.operations import publish_checklist

    content = load_checklist_file(f"{ROOT}/checklists/retail-store-visit.yaml")
    for section in content["sections"]:
        for item in section["items"]:
            if item["id"] == item_id:
                item.update(changes)
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist(content, content_hash(content))
        visit = str(Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                                 planned_from=date.today(), planned_to=date.today() + timedelta(days=5)).uuid)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _sign_in(page, live_server)
    page.goto(live_server + f"/visits/{visit}/fill")
    return context, page, visit


def _not_an_image(tmp_path):
    path = tmp_path / "receipt.jpg"
    path.write_text("Not a photo: the shop's opening hours, typed.")
    return str(path)


def test_a_file_that_is_no_image_is_named_beside_the_question_and_the_refusal_stays(
        app, browser, live_server, org, tmp_path):
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    uncaught = []
    page.on("pageerror", lambda error: uncaught.append(str(error)))
    _fill_everything(page, _photo_file(tmp_path))
    page.locator('input[name="answer-prices_marked"][value="no"]').check()  # wants a photo
    page.get_by_role("button", name="Send the visit").click()
    refusal = page.locator("#q-prices_marked .error.client")  # said by the phone, before sending
    expect(refusal).to_have_text(NEEDS_PHOTO)

    picker = page.locator('input[name="photo-prices_marked"]')
    picker.set_input_files(_not_an_image(tmp_path))
    bad = page.locator("#q-prices_marked .error.photo")
    expect(bad).to_have_text(NOT_AN_IMAGE)
    expect(refusal).to_have_text(NEEDS_PHOTO)  # a failed pick fixes nothing
    expect(page.locator("#q-prices_marked img.thumb")).to_have_count(0)
    assert bad.get_attribute("id") in (picker.get_attribute("aria-describedby") or "").split()
    page.locator("#q-prices_marked").scroll_into_view_if_needed()
    screenshot(page, "fill-bad-photo", full_page=False)
    assert uncaught == []

    picker.set_input_files(_photo_file(tmp_path))  # a real photo: both marks go
    expect(page.locator("#q-prices_marked img.thumb")).to_have_count(1)
    expect(page.locator("#q-prices_marked .error")).to_have_count(0)
    page.get_by_role("button", name="Send the visit").click()
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)
    assert _stored(app, visit)[0].state == VisitState.SUBMITTED.value
    context.close()


def test_a_refusal_kept_on_the_phone_is_said_in_the_language_chosen_since(app, browser, live_server, org, tmp_path):
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    _answer_a_wait_too_long(page, tmp_path)
    page.get_by_role("button", name="Send the visit").click()
    expect(page.locator("#q-wait_for_contact .error.server")).to_have_text(WAIT_TOO_LONG)

    page.select_option("#language-switch", "hu")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "hu")
    page.goto(live_server + f"/visits/{visit}/fill")
    largest = page.evaluate("(86400).toLocaleString('hu')")  # as the phone writes numbers in Hungarian
    expect(page.locator("#q-wait_for_contact .error.server")).to_have_text(
        translated(app, "hu", "Give a number no larger than %(largest)s.") % {"largest": largest})
    reason = translated(app, "hu", "Some answers need attention.")
    expect(page.locator("[data-save-state]")).to_have_text(
        translated(app, "hu", "Could not be sent: %(reason)s") % {"reason": reason})
    context.close()


def _typed_without_javascript(app, browser, live_server, org):
    """A phone without JavaScript on a visit's fill page, an answer, a comment and a text typed there."""
    with app.app_context(), database.connection_context():
        visit = _visit(org)
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    _sign_in(page, live_server)
    page.goto(live_server + f"/visits/{visit}/fill")
    _type_an_answer_a_comment_and_a_text(page)
    return visit, context, page


def _type_an_answer_a_comment_and_a_text(page):
    page.locator('input[name="answer-greeted"][value="no"]').check()
    page.locator("#q-greeted details.comment summary").click()
    page.locator('[name="comment-greeted"]').fill("Nobody looked up.")
    page.locator('[name="answer-comments"]').fill("Loud music.\nCold inside.")


def _expect_what_was_typed(page):
    expect(page.locator('input[name="answer-greeted"][value="no"]')).to_be_checked()
    expect(page.locator('[name="comment-greeted"]')).to_have_value("Nobody looked up.")
    expect(page.locator('[name="answer-comments"]')).to_have_value("Loud music.\nCold inside.")


def test_without_javascript_the_checklist_language_keeps_what_was_typed(app, browser, live_server, org):
    visit, context, page = _typed_without_javascript(app, browser, live_server, org)

    page.select_option("#checklist-lang", "hu")
    page.get_by_role("button", name="Show").click()

    expect(page).to_have_url(re.compile(r"/fill\?lang=hu$"))
    expect(page.locator("#q-greeted legend span").first).to_have_attribute("lang", "hu")
    _expect_what_was_typed(page)
    expect(page.locator("#checklist-lang")).to_have_value("hu")
    context.close()


def test_without_javascript_the_top_bars_language_keeps_what_was_typed(app, browser, live_server, org):
    """The top bar's language change sends the fill form with it: what was typed is saved first, and the
    page comes back in the language picked with every answer as it was."""
    visit, context, page = _typed_without_javascript(app, browser, live_server, org)

    page.select_option("#language-switch", "hu")
    page.locator(".langform button").click()

    expect(page.locator("html")).to_have_attribute("lang", "hu")
    expect(page).to_have_url(re.compile(rf"/visits/{visit}/fill$"))
    expect(page.locator("#language-switch")).to_have_value("hu")
    expect(page.locator("#q-greeted legend span").first).to_have_attribute("lang", "hu")
    _expect_what_was_typed(page)
    assert _stored(app, visit)[0].draft["answers"]["greeted"] == "no"
    context.close()


def test_with_javascript_the_top_bars_language_is_its_own_form_again_and_the_answers_stay_on_the_phone(
        app, browser, live_server, org):
    with app.app_context(), database.connection_context():
        visit = _visit(org)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _sign_in(page, live_server)
    page.goto(live_server + f"/visits/{visit}/fill")
    page.locator('input[name="answer-greeted"][value="no"]').check()
    expect(page.locator("[data-save-state]")).to_contain_text("Saved on this phone")

    page.select_option("#language-switch", "hu")
    page.locator(".langform button").click()

    expect(page.locator("html")).to_have_attribute("lang", "hu")
    expect(page.locator('input[name="answer-greeted"][value="no"]')).to_be_checked()
    assert _stored(app, visit)[0].draft is None  # kept on the phone, as every answer with JavaScript
    context.close()


def test_with_javascript_the_checklist_language_keeps_what_was_typed_and_needs_the_network(
        app, browser, live_server, org):
    with app.app_context(), database.connection_context():
        visit = _visit(org)
    fill_path = f"/visits/{visit}/fill"
    context, page = _phone_with_visit_kept(browser, live_server, fill_path)
    page.goto(live_server + fill_path)
    page.locator('input[name="answer-greeted"][value="no"]').check()
    expect(page.locator("[data-save-state]")).to_contain_text("Saved on this phone")

    page.select_option("#checklist-lang", "hu")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/fill\?lang=hu$"))
    expect(page.locator("#q-greeted legend span").first).to_have_attribute("lang", "hu")
    expect(page.locator('input[name="answer-greeted"][value="no"]')).to_be_checked()
    assert _stored(app, visit)[0].draft is None  # kept on the phone, as every answer with JavaScript

    context.set_offline(True)
    page.select_option("#checklist-lang", "ru")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("[data-offline-action]")).to_contain_text("You are offline. This needs the network")
    page.wait_for_timeout(300)
    assert page.url.endswith("?lang=hu") and page.locator("#checklist-lang").input_value() == "hu"
    context.close()


def test_a_checklist_language_picked_with_javascript_is_kept_for_the_next_visits_even_offline(
        app, browser, live_server, org):
    """Picked on one visit, the checklist language was gone when the shopper opened the next visit, or
    this one again from the list, and the visits kept on the phone stayed in the other language."""
    with app.app_context(), database.connection_context():
        first, second = _visit(org), _visit(org)
    context, page = _phone_with_visit_kept(browser, live_server, f"/visits/{second}/fill")
    kept_in = """(path) => caches.open('audit-pages').then(c => c.match(location.origin + path, {ignoreVary: true}))
                  .then(r => r ? r.text() : '').then(html => html.includes('<option value="hu" lang="hu" selected>'))"""
    assert not page.evaluate(kept_in, f"/visits/{second}/fill")
    page.goto(live_server + f"/visits/{first}/fill")
    page.select_option("#checklist-lang", "hu")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/fill\?lang=hu$"))

    page.goto(live_server + "/visits/")  # back to the list, and the visit opened from it again
    page.locator(f'a[href="/visits/{first}/fill"]').first.click()
    expect(page.locator("#q-greeted legend span").first).to_have_attribute("lang", "hu")
    expect(page.locator("html")).to_have_attribute("lang", "en")  # the page around it stays the shopper's
    wait_until(page, kept_in, arg=f"/visits/{second}/fill", timeout=15000)
    context.set_offline(True)
    page.goto(live_server + f"/visits/{second}/fill")
    expect(page.locator("#q-greeted legend span").first).to_have_attribute("lang", "hu")
    expect(page.locator("#checklist-lang")).to_have_value("hu")
    context.close()


def test_a_sent_visits_page_says_it_was_sent_and_offers_no_form(app, browser, live_server, org, tmp_path):
    # A phone nine hours ahead of the organisation (UTC here): its two times of sending must agree.
    context, page, visit = _open_new_visit(app, browser, live_server, org, timezone_id="Asia/Tokyo")
    _fill_everything(page, _photo_file(tmp_path))
    page.get_by_role("button", name="Send the visit").click()
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)

    page.goto(live_server + f"/visits/{visit}/fill")
    expect(page.locator(".visit-sent")).to_contain_text("This visit was sent on")
    expect(page.locator(".visit-sent .state-submitted")).to_have_text("Submitted")
    expect(page.locator("form.fill-form, fieldset[data-item]")).to_have_count(0)
    expect(page.get_by_role("button", name="Send the visit")).to_have_count(0)
    expect(page.locator("[data-save-state]")).to_have_text(re.compile(r"^Sent at \d\d:\d\d( [AP]M)?$"))
    phone_time = page.locator("[data-save-state]").inner_text()[len("Sent at "):]
    expect(page.locator(".visit-sent time")).to_contain_text(phone_time)
    screenshot(page, "fill-sent-visit", full_page=False)

    context.set_offline(True)  # the page kept for offline use is the sent one too
    page.reload()
    expect(page.locator(".visit-sent")).to_contain_text("This visit was sent on")
    context.close()


def test_a_refusal_of_the_whole_visit_is_said_in_the_language_chosen_since(app, browser, live_server, org, tmp_path):
    """Another sender's different answers arrived first: the server refuses the phone's (409). Returned
    by the reviewer, the visit is open again and its page says that refusal, in the language chosen
    since (it stayed in the language it was refused in). The service worker is kept out, so that the
    page's own send is the one routed."""
    import json

    context, page, visit = _open_new_visit(app, browser, live_server, org, service_workers="block")
    _fill_everything(page, _photo_file(tmp_path))

    def other_answers_first(route):
        other = json.loads(route.request.post_data)
        other["answers"]["greeted"] = "no"
        other["comments"] = {**other.get("comments", {}), "greeted": "Nobody looked up."}
        assert route.fetch(post_data=json.dumps(other)).status == 201  # the other sender's, received
        route.continue_()  # the phone's own, refused as different

    page.route("**/submission", other_answers_first)
    page.get_by_role("button", name="Send the visit").click()
    expect(page.locator("[data-save-state]")).to_have_text(
        "Could not be sent: This visit was already sent; it can be changed only if the reviewer returns it.")
    page.unroute("**/submission")

    with app.app_context(), database.connection_context():
        stored = Visit.get(Visit.uuid == visit)
        assert stored.state == VisitState.SUBMITTED.value
        return_to_shopper(stored, org["users"]["auditor"], "Which answers are right?")
    page.goto(live_server + "/visits/")
    page.select_option("#language-switch", "ru")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.goto(live_server + f"/visits/{visit}/fill")
    reason = translated(app, "ru", "This visit was already sent; it can be changed only if the reviewer returns it.")
    assert reason != "This visit was already sent; it can be changed only if the reviewer returns it."
    expect(page.locator("[data-save-state]")).to_have_text(
        translated(app, "ru", "Could not be sent: %(reason)s") % {"reason": reason})
    context.close()


def test_a_required_photo_is_asked_for_on_the_phone_before_the_visit_is_sent(app, browser, live_server, org, tmp_path):
    """The checklist requires the shop front's photo: Send names it beside the question and keeps the
    visit on the phone; with the photo it goes."""
    context, page, visit = _phone_on_a_visit_of_the_retail_checklist_with(
        app, browser, live_server, org, "shop_front", required=True)
    expect(page.locator("#q-shop_front legend .badge")).to_have_text("required")
    photo = _photo_file(tmp_path)
    answered = {"shop_front": None}  # everything else, as _fill_everything does (conditions show items)
    for _round in range(3):
        page.wait_for_timeout(100)
        for fieldset in page.locator("fieldset[data-item]").all():
            item = fieldset.get_attribute("data-item")
            if item not in answered and fieldset.is_visible():
                _answer(fieldset, item, answered, set(), photo, True)
    page.get_by_role("button", name="Send the visit").click()
    expect(page.locator("#q-shop_front .error.client")).to_have_text("Add a photo: this question needs one.")
    page.wait_for_timeout(300)
    assert page.evaluate(f"AuditStore.getOutbox('{visit}')") is None  # not queued
    page.locator("#q-shop_front input[type=file]").set_input_files(photo)
    # Shrunk and kept on the phone first: a Send tapped before that found no photo yet, and refused again.
    expect(page.locator("#q-shop_front img.thumb")).to_have_count(1)
    page.get_by_role("button", name="Send the visit").click()
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)
    assert _stored(app, visit)[0].state == VisitState.SUBMITTED.value
    context.close()


def test_offline_a_visit_sent_from_the_phone_opens_as_sent_not_as_a_form_to_send_again(
        app, browser, live_server, org, tmp_path):
    """The page kept for offline use was still the form: offline, the sent visit could be changed and
    sent again, which the server then refused for good ("Could not be sent", and a warning at every
    sign-out)."""
    with app.app_context(), database.connection_context():
        visit = _visit(org)
    fill_path = f"/visits/{visit}/fill"
    context, page = _phone_with_visit_kept(browser, live_server, fill_path)
    page.goto(live_server + fill_path)
    _fill_everything(page, _photo_file(tmp_path))
    page.get_by_role("button", name="Send the visit").click()
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)
    wait_until(page,
        "(path) => caches.open('audit-pages').then(c => c.match(location.origin + path))"
        ".then(r => r && r.text()).then(t => !!t && t.indexOf('data-visit-sent') >= 0)",
        arg=fill_path, timeout=15000)
    context.set_offline(True)
    page.goto(live_server + fill_path)
    expect(page.locator("[data-visit-sent]")).to_be_visible()
    expect(page.get_by_role("button", name="Send the visit")).to_have_count(0)
    context.close()


def test_a_timer_and_its_not_applicable_are_one_answer_the_last_given(app, browser, live_server, org):
    """"Not applicable", then 95 typed: both stayed chosen, and the phone kept "not applicable" where
    the form without JavaScript kept 95. The last one given counts, and the other is cleared."""
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    fieldset = page.locator("#q-till_wait")
    number, na = fieldset.locator("input[type=number]"), fieldset.locator('input[value="na"]')
    na.check()
    number.fill("95")
    expect(na).not_to_be_checked()
    wait_until(page, f"AuditStore.getDraft('{visit}').then(d => d && d.answers.till_wait === 95)")
    na.check()
    expect(number).to_have_value("")
    wait_until(page, f"AuditStore.getDraft('{visit}').then(d => d && d.answers.till_wait === 'na')")
    fieldset.get_by_role("button", name="Start").click()  # timing gives a value too
    expect(na).not_to_be_checked()
    context.close()


def test_a_number_typed_with_a_decimal_comma_is_kept_as_that_decimal(app, browser, live_server, org):
    """A number question in a number field: Chromium read "1,5" typed there as 15 (a Hungarian's "1,5
    hours" stored as fifteen, and failed). Typed on the phone's decimal keypad into a text field, it is
    read as the server reads it: a comma or a point is the decimal mark, "1,200" is asked again."""
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    field = page.locator('input[name="answer-times_repeated"]')
    expect(field).to_have_attribute("inputmode", "decimal")
    for typed, kept in (("1,5", "1.5"), ("0.5", "0.5"), ("2", "2"), ("1,200", "'1,200'"), ("0x10", "'0x10'")):
        field.fill("")
        field.click()
        page.keyboard.type(typed)  # key by key, as on the phone (fill() sets the value whole)
        wait_until(page, f"AuditStore.getDraft('{visit}').then(d => d && d.answers.times_repeated === {kept})")
    context.close()


def test_the_comment_box_opens_as_an_answer_that_needs_a_comment_is_chosen(app, browser, live_server, org):
    """A failed answer that needs a comment: the box opened only when the server refused the visit,
    which for a visit sent offline came back online, long after the shop."""
    context, page, _visit_id = _open_new_visit(app, browser, live_server, org, service_workers="block")
    comment = page.locator('[name="comment-greeted"]')
    expect(comment).to_be_hidden()
    page.locator('input[name="answer-greeted"][value="yes"]').check()
    expect(comment).to_be_hidden()  # a passing answer needs no comment
    page.locator('input[name="answer-greeted"][value="no"]').check()
    expect(comment).to_be_visible()
    # A question whose failed answer needs no comment keeps its box closed.
    page.locator('input[name="answer-staff_available"][value="no"]').check()
    expect(page.locator('[name="comment-staff_available"]')).to_be_hidden()
    context.close()


def test_offline_a_failed_answer_missing_its_comment_or_photo_is_named_before_the_visit_leaves(
        app, browser, live_server, org, tmp_path):
    """Sent offline, the server's refusal (no comment, no photo of what went wrong) reached the shopper
    once the phone was back online, after the shop and its photo. The phone says it at Send: beside each
    question, the cursor in the first comment box, nothing queued; each mark goes as it is put right."""
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    photo = _photo_file(tmp_path)
    _fill_everything(page, photo)
    context.set_offline(True)
    page.locator('input[name="answer-greeted"][value="no"]').check()
    page.locator('input[name="answer-prices_marked"][value="no"]').check()
    page.get_by_role("button", name="Send the visit").click()

    greeted, prices = page.locator("#q-greeted"), page.locator("#q-prices_marked")
    expect(greeted.locator(".error.client")).to_have_text(NEEDS_COMMENT)
    expect(prices.locator(".error.client")).to_have_text(NEEDS_PHOTO)
    comment = page.locator('[name="comment-greeted"]')
    expect(comment).to_be_focused()
    expect(comment).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert").first).to_contain_text("Some answers need your attention")
    page.wait_for_timeout(300)
    assert page.evaluate(f"AuditStore.getOutbox('{visit}')") is None  # not queued
    screenshot(page, "fill-comment-asked-before-sending", full_page=False)

    comment.fill("Nobody looked up for three minutes.")
    expect(greeted.locator(".error")).to_have_count(0)
    expect(prices.locator(".error.client")).to_have_count(1)  # still no photo
    page.locator('input[name="answer-prices_marked"][value="yes"]').check()
    expect(prices.locator(".error")).to_have_count(0)  # a passing answer needs no photo
    page.locator('input[name="answer-prices_marked"][value="no"]').check()
    prices.locator("input[type=file]").set_input_files(photo)
    expect(prices.locator("img.thumb")).to_have_count(1)
    page.get_by_role("button", name="Send the visit").click()
    wait_until(page, f"AuditStore.getOutbox('{visit}').then(e => !!e)")
    context.set_offline(False)
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)
    with app.app_context(), database.connection_context():
        sent = Visit.get(Visit.uuid == visit)
        assert sent.state == VisitState.SUBMITTED.value
        assert {e.item_id for e in Evidence.select().where(Evidence.visit == sent)} == {"shop_front", "prices_marked"}
    context.close()


def test_a_wait_typed_past_the_pass_mark_asks_for_its_comment_before_the_visit_leaves(
        app, browser, live_server, org, tmp_path):
    """A timer whose failed answer needs a comment (an auditor's checklist may ask it): the phone knows
    which waits fail from the checklist's steps, opens the comment box as the wait is typed and names
    the missing comment at Send, as it does for a chosen answer."""
    # Full points up to a minute: more fails.
    context, page, visit = _phone_on_a_visit_of_the_retail_checklist_with(
        app, browser, live_server, org, "wait_for_contact", require_comment_on_fail=True)
    _fill_everything(page, _photo_file(tmp_path))
    wait, comment = page.locator("#answer-wait_for_contact"), page.locator("#comment-wait_for_contact")
    wait.fill("60")
    wait.press("Tab")
    expect(comment).to_be_hidden()  # a minute passes
    wait.fill("61")
    wait.press("Tab")
    expect(comment).to_be_visible()
    page.get_by_role("button", name="Send the visit").click()
    expect(page.locator("#q-wait_for_contact .error.client")).to_have_text(NEEDS_COMMENT)
    expect(comment).to_be_focused()
    page.wait_for_timeout(300)
    assert page.evaluate(f"AuditStore.getOutbox('{visit}')") is None  # not queued
    comment.fill("Two staff members talked to each other until I asked.")
    expect(page.locator("#q-wait_for_contact .error")).to_have_count(0)
    page.get_by_role("button", name="Send the visit").click()
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)
    assert _stored(app, visit)[0].state == VisitState.SUBMITTED.value
    context.close()
