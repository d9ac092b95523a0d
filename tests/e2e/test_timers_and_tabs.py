"""Timers and the work waiting in the outbox, in Chromium at phone size: a wait ends with Send, typing or
"not applicable"; a change made while the visit waits to be sent goes with it; two tabs of a visit
agree on a timer's answer."""
import re

import pytest
from playwright.sync_api import expect

from audit.db import database
from audit.models import Answer, User, Visit, VisitEvent, VisitState
from audit.review import return_to_shopper
from tests.e2e.conftest import wait_until
from tests.e2e.test_offline import (_fill_everything, _on_visit_page, _phone_with_visit_kept, _photo_file,  # noqa: F401
                                     assigned)

pytestmark = pytest.mark.browser

DRAFT = "AuditStore.getDraft('%s').then(d => !!d && (%s))"


def _answer_of(app, visit_uuid, item_id):
    with app.app_context(), database.connection_context():
        answer = Answer.get_or_none((Answer.visit == Visit.get(Visit.uuid == visit_uuid)) & (Answer.item_id == item_id))
        return answer.value if answer else None


def test_send_ends_a_running_timer_and_a_returned_visit_reopens_with_the_seconds_sent(app, browser, live_server,
                                                                                     assigned, org, tmp_path):
    context, page = _on_visit_page(browser, live_server, assigned)
    _fill_everything(page, _photo_file(tmp_path))
    timer = page.locator("#q-wait_for_contact")
    timer.get_by_role("button", name="Start").click()
    page.wait_for_timeout(2200)
    page.get_by_role("button", name="Send the visit").click()  # Stop never tapped
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)
    sent = _answer_of(app, assigned, "wait_for_contact")
    assert 2 <= sent <= 4
    assert page.evaluate(DRAFT % (assigned, "!(d.timers || {}).wait_for_contact"))  # no wait left running
    with app.app_context(), database.connection_context():
        return_to_shopper(Visit.get(Visit.uuid == assigned), User.get_by_id(org["users"]["auditor"].id),
                          "Check the photo.")
    page.wait_for_timeout(1500)
    page.goto(live_server + f"/visits/{assigned}/fill")
    timer = page.locator("#q-wait_for_contact")
    expect(timer.get_by_role("button", name="Start")).to_be_visible()
    expect(timer.locator("input[type=number]")).to_have_value(str(sent))
    page.wait_for_timeout(1200)
    expect(timer.locator("input[type=number]")).to_have_value(str(sent))  # not counting on
    context.close()


def test_typing_seconds_or_not_applicable_stops_a_running_timer(app, browser, live_server, assigned):
    context, page = _on_visit_page(browser, live_server, assigned)
    timer = page.locator("#q-till_wait")
    seconds = timer.locator("input[type=number]")
    timer.get_by_role("button", name="Start").click()
    page.wait_for_timeout(1200)
    seconds.fill("45")  # the shopper knows better: the ticking stops at what was typed
    expect(timer.get_by_role("button", name="Start")).to_be_visible()
    page.wait_for_timeout(1200)
    expect(seconds).to_have_value("45")
    wait_until(page, DRAFT % (assigned, "d.answers.till_wait === 45 && !d.timers.till_wait"))
    timer.get_by_role("button", name="Start").click()
    page.wait_for_timeout(1200)
    timer.locator('input[value="na"]').check()  # "not applicable" ends the wait too, and is the answer
    expect(timer.get_by_role("button", name="Start")).to_be_visible()
    expect(seconds).to_have_value("")
    page.wait_for_timeout(1200)
    expect(seconds).to_have_value("")
    wait_until(page, DRAFT % (assigned, "d.answers.till_wait === 'na' && !d.timers.till_wait"))
    context.close()


def test_a_wait_timed_in_short_segments_adds_up_to_the_time_it_ran(app, browser, live_server, assigned):
    """The shopper starts and stops the timer as the queue moves: four stops after 0.7 s each are 2.8 s,
    so 3 (each segment went on from the rounded figure: 4)."""
    context, page = _on_visit_page(browser, live_server, assigned)
    page.clock.install()  # the page's clock, moved on by the test: the segments last exactly 0.7 s
    page.reload()
    timer = page.locator("#q-till_wait")
    seconds = timer.locator("input[type=number]")
    for _segment in range(4):
        timer.get_by_role("button", name="Start").click()
        page.clock.run_for(700)
        timer.get_by_role("button", name="Stop").click()

    expect(seconds).to_have_value("3")
    wait_until(page, DRAFT % (assigned, "d.answers.till_wait === 3 && !d.timers.till_wait"))
    seconds.fill("10")  # typed by hand: it goes on from what was typed
    timer.get_by_role("button", name="Start").click()
    page.clock.run_for(2000)
    timer.get_by_role("button", name="Stop").click()
    expect(seconds).to_have_value("12")
    context.close()


SLOW_FIRST_READ = """(() => {
  // A slow phone: what the page reads of the phone's store in its first 2.5 s arrives then.
  Object.defineProperty(window, "AuditStore", {configurable: true, get() { return this._store; }, set(store) {
    const read = store.getDraft.bind(store);
    store.getDraft = (visit) => read(visit).then(draft => new Promise(
      resolve => setTimeout(() => resolve(draft), Math.max(0, 2500 - performance.now()))));
    this._store = store;
  }});
})()"""


def test_an_answer_tapped_while_a_slow_phone_still_reads_the_visit_stays_as_tapped(app, browser, live_server,
                                                                                  assigned):
    """The page put the answer it read back over the tap (the store had the tap): the shopper saw
    the old answer until their next change, and took it for theirs."""
    context, page = _on_visit_page(browser, live_server, assigned)
    greeting = page.locator("#q-greeted")
    greeting.locator("input[value=yes]").check()
    greeting.locator("details.comment summary").click()
    greeting.locator("textarea").fill("Greeted at the door.")
    page.locator("#q-till_wait input[type=number]").fill("40")
    wait_until(page, DRAFT % (assigned, "d.answers.greeted === 'yes' && d.comments.greeted && d.answers.till_wait === 40"))
    page.add_init_script(SLOW_FIRST_READ)
    page.reload()
    greeting.locator("input[value=no]").check()  # before the page has read the visit
    assert page.evaluate("performance.now()") < 2000
    wait_until(page, "() => performance.now() > 3500")  # read, and what followed done

    expect(greeting.locator("input[value=no]")).to_be_checked()
    expect(greeting.locator("textarea")).to_have_value("Greeted at the door.")  # what it did not touch
    expect(page.locator("#q-till_wait input[type=number]")).to_have_value("40")
    wait_until(page, DRAFT % (assigned, "d.answers.greeted === 'no' && d.answers.till_wait === 40 && "
                                        "d.comments.greeted === 'Greeted at the door.'"))
    context.close()


def test_a_change_made_while_the_visit_waits_to_be_sent_goes_with_it(app, browser, live_server, assigned, tmp_path):
    path = f"/visits/{assigned}/fill"
    context, page = _phone_with_visit_kept(browser, live_server, path)
    page.goto(live_server + path)
    _fill_everything(page, _photo_file(tmp_path))
    context.set_offline(True)
    page.get_by_role("button", name="Send the visit").click()
    expect(page.locator("[data-save-state]")).to_contain_text("Waiting to send (1)")
    # Before the network is back, the shopper puts an answer right.
    page.locator('input[name="answer-greeted"][value="no"]').check()
    expect(page.locator('textarea[name="comment-greeted"]')).to_be_visible()  # opened for the failed answer
    page.locator('textarea[name="comment-greeted"]').fill("Nobody said hello.")
    wait_until(page, "AuditStore.getOutbox('%s').then(e => !!e && e.payload.answers.greeted === 'no'"
                     " && e.payload.comments.greeted === 'Nobody said hello.')" % assigned)
    expect(page.locator("[data-save-state]")).to_contain_text("Waiting to send (1)")
    context.set_offline(False)
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)
    with app.app_context(), database.connection_context():
        visit = Visit.get(Visit.uuid == assigned)
        greeted = Answer.get((Answer.visit == visit) & (Answer.item_id == "greeted"))
    assert visit.state == VisitState.SUBMITTED.value
    assert (greeted.value, greeted.comment) == ("no", "Nobody said hello.")
    context.close()


def test_a_change_made_while_the_visit_is_on_its_way_arrives_too(app, browser, live_server, assigned, tmp_path):
    """The shopper taps Send and, as it goes, puts an answer right: the page said the change waits to
    be sent with the visit, but the sending that arrived was the one read before it, the phone then
    said "sent", and the change stayed on the phone. Every sending is held (the page's and the
    service worker's) until the change is made."""
    held, holding = [], [True]
    context, page = _on_visit_page(browser, live_server, assigned)
    _fill_everything(page, _photo_file(tmp_path))
    _send_held(page, context, holding, held)
    page.locator('input[name="answer-greeted"][value="no"]').check()
    expect(page.locator('textarea[name="comment-greeted"]')).to_be_visible()  # opened for the failed answer
    page.locator('textarea[name="comment-greeted"]').fill("Nobody said hello.")
    wait_until(page, "AuditStore.getOutbox('%s').then(e => !!e && e.payload.answers.greeted === 'no'"
                     " && e.payload.comments.greeted === 'Nobody said hello.')" % assigned)
    _release(holding, held)
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)
    wait_until(page, "AuditStore.getOutbox('%s').then(e => !e)" % assigned)
    with app.app_context(), database.connection_context():
        visit = Visit.get(Visit.uuid == assigned)
        greeted = Answer.get((Answer.visit == visit) & (Answer.item_id == "greeted"))
        events = [(e.from_state, e.to_state) for e in visit.events.order_by(VisitEvent.id)]
    assert visit.state == VisitState.SUBMITTED.value
    assert (greeted.value, greeted.comment) == ("no", "Nobody said hello.")
    assert events[-1] == ("submitted", "submitted")  # the change, after the sending it changed
    context.close()


def _send_held(page, context, holding, held):
    """Tap Send with every sending held (the page's and the service worker's) until `holding` ends."""
    context.route("**/api/v1/visits/*/submission",
                  lambda route: held.append(route) if holding[0] else route.continue_())
    page.get_by_role("button", name="Send the visit").click()
    for _ in range(150):
        if held:
            return
        page.wait_for_timeout(100)
    raise AssertionError("the visit was never sent")


def _release(holding, held):
    holding[0] = False
    for route in held:
        route.continue_()


def test_a_change_on_its_way_refused_for_an_answer_arrives_once_put_right(app, browser, live_server, assigned,
                                                                          tmp_path):
    """The change made while the visit was on its way needs a comment the shopper has not written: the
    visit arrived without the change, the change was refused; written and sent again, the fix was
    refused as "sent already" (Send gave it a new time of sending) and stayed on the phone."""
    held, holding = [], [True]
    context, page = _on_visit_page(browser, live_server, assigned)
    _fill_everything(page, _photo_file(tmp_path))
    _send_held(page, context, holding, held)
    page.locator('input[name="answer-greeted"][value="no"]').check()  # a failed critical item wants a comment
    wait_until(page, "AuditStore.getOutbox('%s').then(e => !!e && e.payload.answers.greeted === 'no')" % assigned)
    _release(holding, held)
    expect(page.locator("#q-greeted .error.server")).to_have_text("Say in a comment what went wrong.")
    assert _answer_of(app, assigned, "greeted") == "yes"  # the copy before the change arrived
    page.locator('textarea[name="comment-greeted"]').fill("Nobody said hello.")
    page.wait_for_timeout(1500)  # a person's pace: a Send a second later is a Send of its own
    page.get_by_role("button", name="Send the visit").click()
    page.wait_for_url(re.compile(r"/visits/$"), timeout=30000)
    with app.app_context(), database.connection_context():
        greeted = Answer.get((Answer.visit == Visit.get(Visit.uuid == assigned)) & (Answer.item_id == "greeted"))
    assert (greeted.value, greeted.comment) == ("no", "Nobody said hello.")
    context.close()


def _two_tabs(browser, live_server, visit_uuid):
    """(context, first tab, second tab) of one phone, both on the visit's page, their scripts running."""
    context, first = _on_visit_page(browser, live_server, visit_uuid)
    second = context.new_page()
    second.goto(first.url)
    expect(second.locator("[data-sync-bar]")).to_be_visible()  # its script has read the store
    return context, first, second


def test_two_tabs_of_one_visit_keep_each_others_answers(app, browser, live_server, assigned):
    """The visit open in two tabs of one phone (opened again from the list): what is answered in one
    shows in the other, and saving in either never undoes the other's answers, comments or timer."""
    context, first, second = _two_tabs(browser, live_server, assigned)
    stored = "AuditStore.getDraft('%s').then(d => !!d && %s)" % (assigned, "{}")

    first.locator('input[name="answer-greeted"][value="yes"]').check()
    wait_until(first, stored.replace("{}", "d.answers.greeted === 'yes'"))
    expect(second.locator('input[name="answer-greeted"][value="yes"]')).to_be_checked()  # came over
    second.locator('input[name="answer-entrance_tidy"][value="no"]').check()
    second.locator("#q-entrance_tidy details.comment summary").click()
    second.locator('textarea[name="comment-entrance_tidy"]').fill("Boxes in the doorway.")
    wait_until(second, stored.replace("{}", "d.comments.entrance_tidy === 'Boxes in the doorway.'"))
    expect(first.locator('input[name="answer-entrance_tidy"][value="no"]')).to_be_checked()
    expect(first.locator('textarea[name="comment-entrance_tidy"]')).to_have_value("Boxes in the doorway.")
    # The first tab saves again (another answer, its timer started): the second's answers stay.
    first.locator('input[name="answer-opening_hours"][value="yes"]').check()
    first.locator("#q-wait_for_contact").get_by_role("button", name="Start").click()
    wait_until(first, stored.replace(
        "{}", "d.answers.opening_hours === 'yes' && !!d.timers.wait_for_contact && d.answers.entrance_tidy === 'no'"
              " && d.answers.greeted === 'yes' && d.comments.entrance_tidy === 'Boxes in the doorway.'"))
    expect(second.locator("#q-wait_for_contact").get_by_role("button", name="Stop")).to_be_visible()
    # The second tab stops the timer; the first shows it stopped, with the same seconds.
    second.wait_for_timeout(1500)
    second.locator("#q-wait_for_contact").get_by_role("button", name="Stop").click()
    wait_until(first, stored.replace("{}", "!d.timers.wait_for_contact && d.answers.wait_for_contact >= 1"))
    seconds = first.evaluate(stored.replace("!!d && {}", "d.answers.wait_for_contact"))
    expect(first.locator("#q-wait_for_contact").get_by_role("button", name="Start")).to_be_visible()
    expect(first.locator("#answer-wait_for_contact")).to_have_value(str(seconds))
    second.close()
    first.reload()
    for name, value in (("greeted", "yes"), ("entrance_tidy", "no"), ("opening_hours", "yes")):
        expect(first.locator(f'input[name="answer-{name}"][value="{value}"]')).to_be_checked()
    expect(first.locator('textarea[name="comment-entrance_tidy"]')).to_have_value("Boxes in the doorway.")
    expect(first.locator("#answer-wait_for_contact")).to_have_value(str(seconds))
    context.close()


def test_not_applicable_in_one_tab_stops_the_timer_running_in_the_other(app, browser, live_server, assigned):
    context, first, second = _two_tabs(browser, live_server, assigned)
    first.locator("#q-till_wait").get_by_role("button", name="Start").click()
    expect(second.locator("#q-till_wait").get_by_role("button", name="Stop")).to_be_visible()
    second.locator('#q-till_wait input[value="na"]').check()
    expect(first.locator('#q-till_wait input[value="na"]')).to_be_checked()
    expect(first.locator("#q-till_wait").get_by_role("button", name="Start")).to_be_visible()
    # The first tab saves again (another answer): the other's "not applicable" stays.
    first.locator('input[name="answer-greeted"][value="yes"]').check()
    wait_until(first, DRAFT % (assigned, "d.answers.greeted === 'yes'"))
    first.wait_for_timeout(800)
    assert first.evaluate(DRAFT % (assigned, "d.answers.till_wait === 'na' && !d.timers.till_wait"))
    expect(second.locator('#q-till_wait input[value="na"]')).to_be_checked()
    context.close()


def test_a_refusal_put_right_in_one_tab_is_gone_from_the_other(app, browser, live_server, assigned, tmp_path):
    """The server refused the visit (a wait of ten days: a zero too many); the shopper puts the number
    right in one tab: the other tab kept saying it was wrong, and so did the page opened again."""
    context, first, second = _two_tabs(browser, live_server, assigned)
    _fill_everything(first, _photo_file(tmp_path))
    first.locator('input[name="answer-wait_for_contact"]').fill("864000")
    first.get_by_role("button", name="Send the visit").click()
    too_long = "Give a number no larger than 86,400."
    expect(first.locator("#q-wait_for_contact .error.server")).to_have_text(too_long)
    second.reload()
    expect(second.locator("#q-wait_for_contact .error.server")).to_have_text(too_long)

    first.locator('input[name="answer-wait_for_contact"]').fill("86")
    expect(first.locator("#q-wait_for_contact .error.server")).to_have_count(0)
    expect(second.locator('input[name="answer-wait_for_contact"]')).to_have_value("86")
    expect(second.locator("#q-wait_for_contact .error.server")).to_have_count(0)
    second.reload()
    expect(second.locator('input[name="answer-wait_for_contact"]')).to_have_value("86")
    expect(second.locator("[data-save-state]")).to_contain_text("Could not be sent")  # until Send is tapped again
    expect(second.locator("#q-wait_for_contact .error.server")).to_have_count(0)
    context.close()

