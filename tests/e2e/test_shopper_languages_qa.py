"""The shopper's pages on a small phone (320 px) in the languages whose words are longest: what a field
shopper meets as they tap, read and send, measured in Chromium."""
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from audit import ROOT
from audit.db import database
from audit.models import User, Visit, VisitState, utcnow
from audit.operations import publish_checklist_file
from conftest import PASSWORD
from tests_support import translated
from tests.e2e.conftest import PHONE

pytestmark = pytest.mark.browser

SMALL_PHONE = {**PHONE, "viewport": {"width": 320, "height": 640}}


def _visit(app, org, checklist="retail-store-visit", **fields):
    with app.app_context(), database.connection_context():
        version, _ = publish_checklist_file(f"{ROOT}/checklists/{checklist}.yaml")
        return str(Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                                planned_from=date.today(), planned_to=date.today() + timedelta(days=5), **fields).uuid)


def _shopper_on_small_phone(app, browser, base, language, java_script=True):
    """A 320 px phone, the shopper (who reads `language`) signed in on it: (context, page)."""
    with app.app_context(), database.connection_context():
        User.update(language=language).where(User.email == "shopper@example.com").execute()
    context = browser.new_context(**SMALL_PHONE, java_script_enabled=java_script)
    page = context.new_page()
    page.goto(base + "/login")
    page.locator("input[type=email]").fill("shopper@example.com")
    page.locator("input[type=password]").fill(PASSWORD)
    page.locator("input[type=password]").press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", language)
    return context, page


@pytest.mark.page_only
@pytest.mark.parametrize("language", ["hu", "ru"])
def test_the_radio_of_a_long_answer_keeps_its_size_on_a_small_phone(app, browser, live_server, org, language):
    """A choice whose answer wraps to three lines on a 320 px screen: its radio was squeezed to a dot
    of 8 px, a target the thumb missed and an answer hard to see as chosen."""
    visit = _visit(app, org)
    context, page = _shopper_on_small_phone(app, browser, live_server, language)
    page.goto(live_server + f"/visits/{visit}/fill")
    radios = page.locator("fieldset[data-type=choice] label.chip input[type=radio]")
    assert radios.count() >= 10
    sizes = [radio.bounding_box() for radio in radios.all()]
    assert [box for box in sizes if box["width"] < 20 or box["height"] < 20] == []
    context.close()


def test_a_question_left_unanswered_names_not_applicable_only_where_it_is_offered(app, browser, live_server, org):
    """Told to "choose not applicable where offered" beside a question without it, the shopper looked
    for an answer that is not there."""
    visit = _visit(app, org)
    context, page = _shopper_on_small_phone(app, browser, live_server, "en")
    page.goto(live_server + f"/visits/{visit}/fill")
    expect(page.locator("[data-save-state]")).to_be_attached()
    page.get_by_role("button", name="Send the visit").click()
    expect(page.locator("#q-opening_hours .error")).to_have_text("Answer this question.")  # yes or no only
    expect(page.locator("#q-busy_acknowledged .error")).to_have_text(
        "Answer this question (or choose “not applicable” where offered).")
    context.close()


PICKER = """picker => {
  const input = picker.querySelector('input[type=file]');
  const box = picker.getBoundingClientRect(), own = input.getBoundingClientRect();
  return {opacity: getComputedStyle(input).opacity, height: box.height, clipped: picker.scrollWidth > picker.clientWidth,
          covered: Math.abs(own.top - box.top) < 3 && Math.abs(own.bottom - box.bottom) < 3 && Math.abs(own.width - box.width) < 5,
          words: picker.innerText.trim()};
}"""


@pytest.mark.page_only
@pytest.mark.parametrize("language", ["hu", "bg"])
def test_the_photo_button_is_in_the_shoppers_language_and_opens_the_camera(app, browser, live_server, org, language):
    """The browser's own file control spoke the phone's language ("Choose File", "No fil…hosen", cut
    short at 320 px), not the one chosen in the app: with JavaScript the picker is a button in the page's
    words, whole, a thumb's height, and a tap on it opens the phone's picker."""
    visit = _visit(app, org)
    context, page = _shopper_on_small_phone(app, browser, live_server, language)
    page.goto(live_server + f"/visits/{visit}/fill")
    picker = page.locator("#q-shop_front .photo-pick")
    expect(page.locator("html.js")).to_have_count(1)
    seen = picker.evaluate(PICKER)
    add_a_photo = translated(app, language, "Add a photo")
    assert seen["words"] == add_a_photo and add_a_photo != "Add a photo"
    # Only the page's words show: the browser's control lies over the button, see-through, as large.
    assert seen["opacity"] == "0" and seen["covered"] and seen["height"] >= 44 and not seen["clipped"], seen
    with page.expect_file_chooser() as chooser:
        picker.tap()
    assert chooser.value.element.get_attribute("name") == "photo-shop_front"
    context.close()


@pytest.mark.page_only
def test_without_javascript_the_photo_picker_is_the_browsers_own(app, browser, live_server, org):
    """Without JavaScript no thumbnail shows the photo chosen: the browser's control, which names the
    file, stays in sight."""
    visit = _visit(app, org)
    context, page = _shopper_on_small_phone(app, browser, live_server, "hu", java_script=False)
    page.goto(live_server + f"/visits/{visit}/fill")
    seen = page.locator("#q-shop_front .photo-pick").evaluate(PICKER)
    assert seen["opacity"] == "1" and not seen["covered"], seen
    context.close()


def test_without_javascript_a_send_opens_the_comment_box_only_where_a_comment_is_wanted(app, browser, live_server, org):
    """Sent without JavaScript with questions left, every one of them showed an empty comment box, as
    if a comment were wanted, and the page grew by half; a failed answer that needs one still opens it."""
    visit = _visit(app, org)
    context, page = _shopper_on_small_phone(app, browser, live_server, "ru", java_script=False)
    page.goto(live_server + f"/visits/{visit}/fill")
    page.locator('input[name="answer-greeted"][value="no"]').check()  # a failed greeting needs a comment
    page.locator('input[name="answer-first_impression"][value="4"]').check()
    page.locator("details.comment", has=page.locator("#comment-first_impression")).locator("summary").click()
    page.locator("#comment-first_impression").fill("Светло и тихо.")
    page.locator("button[value=submit]").click()

    expect(page.locator("#q-opening_hours .error")).to_have_count(1)  # left unanswered
    open_boxes = page.locator("details.comment[open] textarea").evaluate_all("boxes => boxes.map(box => box.id)")
    assert sorted(open_boxes) == ["comment-first_impression", "comment-greeted"]
    expect(page.locator("#comment-first_impression")).to_have_value("Светло и тихо.")
    context.close()


# The save line's messages that replace one another as the shopper answers, adds and removes photos.
SAVE_LINES = """() => {
  const form = document.querySelector('form.fill-form').dataset, line = document.querySelector('[data-save-state]');
  const bar = document.querySelector('[data-sync-bar]'), kept = line.textContent, heights = {};
  const say = (template, values) => template.replace(/\\{(\\w+)\\}/g, (_, key) => values[key]);
  for (const [name, text] of Object.entries({
      saved: say(form.msgSaved, {time: '14:05'}), added: say(form.msgPhotoAdded, {number: 12, time: '14:05'}),
      removed: say(form.msgPhotoRemoved, {time: '14:05'})})) {
    line.textContent = text;
    heights[name] = Math.round(bar.getBoundingClientRect().height);
  }
  line.textContent = kept;
  return heights;
}"""


@pytest.mark.page_only
def test_the_status_bar_keeps_its_height_as_photos_come_and_go_in_every_language(app, browser, live_server, org):
    """The bar is sticky at the top: a message a line longer than the one before moved the whole page
    under the shopper's finger (Remove photo landed beside its button). On a 320 px phone, in Bulgarian,
    "photo removed" took a third line."""
    visit = _visit(app, org)
    context, page = _shopper_on_small_phone(app, browser, live_server, "bg")
    page.goto(live_server + f"/visits/{visit}/fill")
    heights = {}
    for language in ["bg", "en", "hu", "et", "ro", "ru"]:
        if language != "bg":
            page.locator("#language-switch").select_option(language)
            page.locator(".langform button").click()
            expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("[data-sync-bar]")).to_be_visible()
        # As the shopper meets it: its count of answers written (a moment after the page shows). Measured
        # before, the empty count and a long message wrapped under it with the bar's row gap: 4 px more.
        expect(page.locator("[data-sync-bar] [data-progress]")).not_to_be_empty()
        heights[language] = page.evaluate(SAVE_LINES)
    assert {language: sizes for language, sizes in heights.items() if len(set(sizes.values())) > 1} == {}
    context.close()


@pytest.mark.page_only
def test_the_fill_in_buttons_stay_put_as_the_visits_are_kept_for_offline_use(app, browser, live_server, org):
    """A moment after the list shows, each visit to fill gets its "Ready to fill offline" badge; on a
    320 px phone in Russian it took a line of its own and pushed every Fill in button down, under a
    finger already on its way."""
    visits = [_visit(app, org), _visit(app, org)]
    context, page = _shopper_on_small_phone(app, browser, live_server, "ru")
    buttons = page.locator("article a.button")
    expect(buttons).to_have_count(2)
    expect(page.locator("html.js")).to_have_count(1)
    before = [button.bounding_box()["y"] for button in buttons.all()]
    for visit in visits:  # the phone has kept both: their badges show
        expect(page.locator(f'article[data-visit="{visit}"] [data-offline-note]')).to_be_visible(timeout=15000)
    assert [button.bounding_box()["y"] for button in buttons.all()] == before
    context.close()


def test_offline_the_password_page_says_to_come_back_online_not_to_open_the_visits(app, browser, live_server, org):
    """The password page is never kept on the phone: offline it told the shopper to open their visits
    once while online to keep it, which would never make it work."""
    visit = _visit(app, org)
    context, page = _shopper_on_small_phone(app, browser, live_server, "en")
    expect(page.locator(f'article[data-visit="{visit}"] [data-offline-note]')).to_be_visible(timeout=15000)
    context.set_offline(True)
    page.get_by_role("link", name="Password").click()
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(page.locator("main")).to_contain_text("This page needs the network: open it again when you are back online.")
    expect(page.locator("main")).not_to_contain_text("Open your visits once")
    page.get_by_role("link", name="My visits").click()  # the list kept on the phone
    expect(page.locator(f'article[data-visit="{visit}"]')).to_be_visible()
    context.close()


@pytest.mark.page_only
def test_a_sent_visits_status_bar_is_one_line(app, browser, live_server, org):
    """The page of a visit sent from this phone says when, in the bar the fill page keeps two lines high
    for its changing messages: here nothing changes, and an empty line stood under it."""
    visit = _visit(app, org, state=VisitState.SUBMITTED.value, submitted_at=utcnow())
    context, page = _shopper_on_small_phone(app, browser, live_server, "ru")
    page.goto(live_server + f"/visits/{visit}/fill")
    expect(page.locator("[data-visit-sent]")).to_be_visible()
    page.evaluate("visit => AuditStore.changeDraft(visit, draft => Object.assign(draft, {sentAt: Date.now()}))", visit)
    page.reload()
    line = page.locator("[data-save-state]")
    expect(line).to_contain_text(":")  # "Отправлено в 14:05"
    sizes = line.evaluate("line => [line.getBoundingClientRect().height, parseFloat(getComputedStyle(line).lineHeight)]")
    assert sizes[0] < 1.5 * sizes[1], sizes
    context.close()
