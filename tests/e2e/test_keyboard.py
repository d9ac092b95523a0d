"""With a keyboard (or a phone's screen reader moving focus), in Chromium: after a mistake the cursor is
where it can be put right, a menu is not a trap that reloads the page on each arrow key, and the sticky
status bar of the fill page never covers what has focus."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from audit.db import database
from tests.e2e.conftest import PHONE, screenshot, sign_in
from tests.e2e.test_offline import _fill_everything, _photo_file
from tests.e2e.test_shopper_phone import _open_new_visit, _sign_in, _visit

# What the page shows and does with it, whatever the database: run in the SQLite pass only.
pytestmark = [pytest.mark.browser, pytest.mark.page_only]

# The first question left (the opening hours) offers no "not applicable": the message does not name it.
UNANSWERED = "Answer this question."
SUMMARY = "Some answers need your attention; they are marked below. Nothing you entered was lost."

FOCUSED = """() => {
  const e = document.activeElement, fieldset = e.closest('fieldset[data-item]');
  const described = (el) => (el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean)
    .map(id => document.getElementById(id)).filter(Boolean).map(p => p.textContent.trim());
  return {tag: e.tagName.toLowerCase(), name: e.name || '', type: e.type || '',
          item: fieldset ? fieldset.dataset.item : null, inForm: !!e.closest('form.fill-form'),
          fieldsetDescription: fieldset ? described(fieldset) : [], ownDescription: described(e),
          invalid: e.getAttribute('aria-invalid'), inViewport: (() => { const r = e.getBoundingClientRect();
            return r.top >= 0 && r.bottom <= innerHeight; })()};
}"""
# Alerts a screen reader would read: the role=alert elements with something in them.
ALERTS = "() => [...document.querySelectorAll('[role=alert]')].map(a => a.textContent.trim()).filter(Boolean)"
# Where the question of the focused field is against the sticky status bar and the bottom of the screen.
QUESTION_OF_FOCUS = """() => {
  const e = document.activeElement, question = e.closest('fieldset[data-item]').getBoundingClientRect();
  const bar = document.querySelector('[data-sync-bar]').getBoundingClientRect(), field = e.getBoundingClientRect();
  return {questionTop: question.top, barBottom: bar.bottom, fieldBottom: field.bottom, screenBottom: innerHeight};
}"""
SMALL_PHONE = {"width": 320, "height": 640}
SCREENS = [pytest.param(SMALL_PHONE, id="320"), pytest.param(PHONE["viewport"], id="390")]
REFUSED = "Could not be sent: Some answers need attention."


def _question_of_focus_in_view(page):
    """The whole question (legend, message) below the status bar, and the focused field on the screen."""
    where = page.evaluate(QUESTION_OF_FOCUS)
    assert where["barBottom"] <= where["questionTop"] and where["fieldBottom"] <= where["screenBottom"], where


def _first_unanswered(page):
    return page.evaluate("""() => [...document.querySelectorAll('fieldset[data-item][data-scoring]')]
      .filter(f => !f.hidden && !f.querySelector('input:checked') &&
                   ![...f.querySelectorAll('input[inputmode], textarea[name^=answer-]')].some(i => i.value))
      .map(f => f.dataset.item)""")


@pytest.mark.parametrize("screen", SCREENS)
def test_sending_with_questions_left_puts_the_cursor_on_the_first_one_and_says_so_once(app, browser, live_server, org, screen):
    context, page, _visit_uuid = _open_new_visit(app, browser, live_server, org, screen)
    page.locator('input[name="answer-entrance_tidy"][value="yes"]').check()
    missing = _first_unanswered(page)
    page.get_by_role("button", name="Send the visit").focus()
    page.keyboard.press("Enter")

    expect(page.locator(f'fieldset[data-item="{missing[0]}"] input').first).to_be_focused()
    focused = page.evaluate(FOCUSED)
    assert focused["item"] == missing[0] and focused["tag"] == "input" and focused["inViewport"], focused
    assert focused["fieldsetDescription"] == [UNANSWERED]
    _question_of_focus_in_view(page)
    assert page.evaluate(ALERTS) == [SUMMARY]  # one summary, not one alert per question
    assert page.locator("fieldset[data-item][aria-describedby]").count() == len(missing)
    screenshot(page, f"keyboard-unanswered-{screen['width']}", full_page=False)

    # The keyboard goes on from the question: answering it takes its mark away, the others stay.
    page.keyboard.press("Space")
    expect(page.locator(f'fieldset[data-item="{missing[0]}"]')).not_to_have_attribute("aria-describedby", re.compile("."))
    expect(page.locator(f'fieldset[data-item="{missing[0]}"] .error')).to_have_count(0)
    assert page.locator("fieldset[data-item][aria-describedby]").count() == len(missing) - 1
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["inForm"]

    # A typed answer left empty is marked invalid until it is given.
    timer = page.locator("fieldset[data-type=timer]").first
    typed = timer.locator("input[type=number]")
    expect(typed).to_have_attribute("aria-invalid", "true")
    typed.fill("40")
    expect(typed).not_to_have_attribute("aria-invalid", "true")
    context.close()


# What is refused, and where the shopper puts it right: question, the wrong answer, the field to fix,
# the message beside the question. The server refuses a number past the largest (its 422 names each
# question and why); a missing comment or photo the phone names itself, before the visit leaves it.
REFUSED_ANSWERS = {
    "comment": ("greeted", "no", "#comment-greeted", "Say in a comment what went wrong."),
    "timer": ("wait_for_contact", "86401", "#answer-wait_for_contact", "Give a number no larger than 86,400."),
    "number": ("times_repeated", "2000000000", "#answer-times_repeated", "Give a number no larger than 1,000,000,000."),
    "photo": ("floor_clean", "no", 'input[name="photo-floor_clean"]', "Add a photo that shows what went wrong."),
}


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("refused", list(REFUSED_ANSWERS))
def test_a_refusal_of_the_server_puts_the_cursor_in_the_field_to_fix(app, browser, live_server, org, tmp_path, refused, screen):
    item, wrong, field, message = REFUSED_ANSWERS[refused]
    context, page, _visit_uuid = _open_new_visit(app, browser, live_server, org, screen)
    photo = _photo_file(tmp_path)
    _fill_everything(page, photo)
    question = page.locator(f"#q-{item}")
    if question.get_attribute("data-type") == "yesno":
        question.locator(f"input[value={wrong}]").check()
    else:
        question.locator("input[inputmode]").fill(wrong)
    if refused == "photo":  # said in a comment, but the question also wants a photo
        question.locator("summary").click()
        page.locator("#comment-floor_clean").fill("Boxes left in the aisle.")
    page.get_by_role("button", name="Send the visit").focus()
    page.keyboard.press("Enter")

    expect(page.locator(field)).to_be_focused(timeout=15000)
    focused = page.evaluate(FOCUSED)
    assert focused["ownDescription"] == [message] and focused["invalid"] == "true", focused
    assert focused["fieldsetDescription"] == [message]
    _question_of_focus_in_view(page)
    assert page.evaluate(ALERTS) == [SUMMARY]
    # One short status line; what is wrong with each question is said beside it only.
    by_server = refused in ("timer", "number")
    expect(page.locator("[data-save-state]")).to_have_text(
        REFUSED if by_server else re.compile(r"^Saved on this phone at "))
    assert page.locator(f"#q-{item} .error.{'server' if by_server else 'client'}").count() == 1
    if refused in ("timer", "number"):  # the comment box stays as the shopper left it
        expect(question.locator("details.comment")).not_to_have_attribute("open", re.compile(".*"))
    if refused != "comment":
        comment = page.locator(f"#comment-{item}")
        expect(comment).not_to_have_attribute("aria-describedby", re.compile("."))
        expect(comment).not_to_have_attribute("aria-invalid", "true")
    screenshot(page, f"keyboard-refused-{refused}-{screen['width']}", full_page=False)

    if refused == "comment":
        page.keyboard.type("Nobody looked up for three minutes.")
    elif refused == "photo":
        page.locator(field).set_input_files(photo)
    else:
        page.keyboard.press("Control+A")
        page.keyboard.type("40")
    expect(question.locator(".error")).to_have_count(0)
    expect(page.locator(field)).not_to_have_attribute("aria-invalid", "true")
    assert page.evaluate(ALERTS) == []
    context.close()


def test_a_refusal_that_reaches_the_page_by_another_sender_also_puts_the_cursor_there(app, browser, live_server, org, tmp_path):
    """The page and the service worker send at once; the page's own try may fail (here its photo upload
    answers 503 once) while the other sender is refused: the cursor still goes to the field to fix."""
    context, page, _visit_uuid = _open_new_visit(app, browser, live_server, org)
    _fill_everything(page, _photo_file(tmp_path))
    page.locator("#answer-wait_for_contact").fill("86401")
    page.route("**/photos", lambda route: route.fulfill(
        status=503, content_type="application/json",
        body='{"error": {"code": "unavailable", "message": "Try again in a moment."}}'), times=1)
    page.get_by_role("button", name="Send the visit").focus()
    page.keyboard.press("Enter")

    expect(page.locator("#answer-wait_for_contact")).to_be_focused(timeout=20000)
    _question_of_focus_in_view(page)
    expect(page.locator("[data-save-state]")).to_have_text(REFUSED)
    context.close()


def test_a_refusal_kept_from_before_the_codes_opens_the_comment_box_as_before(app, browser, live_server, org):
    """A refusal stored on the phone by the previous version has no field codes: its question's comment
    box is opened and named by the message, as that version did; the status line is one short line."""
    context, page, visit = _open_new_visit(app, browser, live_server, org)
    page.evaluate("""(visit) => AuditStore.putOutbox({visit, payload: {answers: {}, comments: {}, photos: {}},
        csrf: "old", submitUrl: `/api/v1/visits/${visit}/submission`, photoUrl: `/api/v1/visits/${visit}/photos`,
        attempts: 0, nextTry: 0, queuedAt: Date.now(), rejectedStatus: 422,
        rejected: "Some answers need attention. Give a number no larger than 86,400.",
        rejectedItems: {wait_for_contact: "Give a number no larger than 86,400."}})""", visit)
    page.reload()
    expect(page.locator("#q-wait_for_contact .error.server")).to_have_text("Give a number no larger than 86,400.")
    expect(page.locator("#q-wait_for_contact details.comment")).to_have_attribute("open", "")
    expect(page.locator("#comment-wait_for_contact")).to_have_attribute("aria-describedby", "error-server-wait_for_contact")
    expect(page.locator("[data-save-state]")).to_have_text(REFUSED)
    context.close()


@pytest.mark.parametrize("where", ["interface", "checklist"])
def test_arrow_keys_in_a_language_menu_do_not_reload_the_page(app, browser, live_server, org, where):
    with app.app_context(), database.connection_context():
        visit = _visit(org)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _sign_in(page, live_server)
    page.goto(live_server + f"/visits/{visit}/fill")
    menu, button = (("#language-switch", ".langform button") if where == "interface"
                    else ("#checklist-lang", ".lang-pick button"))
    address = page.url
    page.locator(menu).focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(1000)
    assert page.url == address and page.evaluate("document.activeElement.id") == menu[1:]
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # The choice applies when the shopper says so.
    expect(page.locator(button)).to_be_visible()
    chosen = page.locator(menu).input_value()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    if where == "interface":
        expect(page.locator("html")).to_have_attribute("lang", chosen)
    else:
        expect(page).to_have_url(re.compile(rf"\?lang={chosen}$"))
    context.close()


def test_the_sticky_status_bar_never_covers_the_focused_control(app, browser, live_server, org):
    context, page, _visit_uuid = _open_new_visit(app, browser, live_server, org)
    page.get_by_role("button", name="Send the visit").focus()
    covered = []
    for _step in range(300):
        page.keyboard.press("Shift+Tab")
        where = page.evaluate("""() => {
          const e = document.activeElement, bar = document.querySelector('[data-sync-bar]').getBoundingClientRect();
          const r = e.getBoundingClientRect();
          return {id: e.id, name: e.name || e.textContent.trim().slice(0, 30), top: r.top, bottom: r.bottom,
                  barTop: bar.top, barBottom: bar.bottom};
        }""")
        if where["id"] == "checklist-lang":
            break
        if where["top"] < where["barBottom"] and where["bottom"] > where["barTop"]:
            covered.append(where)
    else:
        pytest.fail("Shift+Tab never reached the checklist language menu")
    assert covered == []
    context.close()


def test_a_form_sent_back_with_a_mistake_has_the_cursor_in_the_wrong_field(app, browser, live_server, org):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _sign_in_manager(page, live_server)
    page.get_by_text("New action").click()
    page.get_by_label("What will be done").fill("   ")
    page.get_by_label("Who does it").fill("Branch manager")
    page.get_by_label("By when").fill((date.today() + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Add the action").click()

    expect(page.get_by_label("What will be done")).to_be_focused()
    expect(page.get_by_label("What will be done")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("document.activeElement.getBoundingClientRect().top") > 0  # and on the screen
    screenshot(page, "keyboard-action-mistake", full_page=False)
    context.close()


def _sign_in_manager(page, base):
    sign_in(page, base, "manager@example.com")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
