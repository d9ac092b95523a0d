// The fill page with JavaScript: every answer kept on the phone as it is given, conditions, progress,
// timers, photos shrunk before upload, and a submission that waits in the outbox until it is sent.
(function () {
  "use strict";

  var form = document.querySelector("form.fill-form");
  if (!window.indexedDB || !window.AuditStore) return;
  var store = window.AuditStore;
  var sentVisit = document.querySelector("[data-visit-sent]");
  if (!form && sentVisit) return showSentVisit(sentVisit);
  if (!form) return;
  var visit = form.dataset.visit;
  var bar = document.querySelector("[data-sync-bar]");
  var saveState = document.querySelector("[data-save-state]");
  var progress = document.querySelector("[data-progress]");
  // Where one message about the questions in error is announced (present before it is filled in,
  // so that screen readers notice the change).
  var summary = document.createElement("div");
  summary.setAttribute("role", "alert");
  form.insertBefore(summary, form.firstChild);
  var draft = { visit: visit, answers: {}, comments: {}, photos: {}, timers: {} };
  // The answers, comments and running timers as this page last read them from the phone's store or
  // wrote them there: what the page shows besides is this page's own change since (see keep). Another
  // tab of the same visit changes the store too, and a page that wrote back all it held undid it.
  var known = { answers: {}, comments: {}, timers: {} };
  var PARTS = ["answers", "comments", "timers"];
  var tab = newId();
  var MAX_SIDE = 1600;

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }
  function clock(ms) {
    // In the page's language: a Hungarian page says 14:05 whatever language the phone is set to.
    return new Date(ms).toLocaleTimeString(document.documentElement.lang || [], { hour: "2-digit", minute: "2-digit" });
  }

  function showSentVisit(sent) {
    // A sent visit's page (shopper/sent.html) has nothing to fill in; the status line says when this
    // phone sent it, if it was this phone, and the page's time of sending is written in the phone's
    // time zone too (the server writes the organisation's): the two never disagree.
    sent.querySelectorAll("time[datetime]").forEach(function (time) {
      var moment = new Date(time.getAttribute("datetime"));
      if (!isNaN(moment)) {
        // The hour as the status line writes it (clock): two digits.
        time.textContent = moment.toLocaleString(document.documentElement.lang || [], {
          year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"
        });
      }
    });
    store.getDraft(sent.dataset.visitSent).then(function (saved) {
      if (!saved || !saved.sentAt) return;
      document.querySelector("[data-save-state]").textContent = say(sent.dataset.msgSent, { time: clock(saved.sentAt) });
      document.querySelector("[data-sync-bar]").hidden = false;
    }).catch(function () { /* no store: the page says it was sent */ });
  }

  function itemsOf() { return Array.prototype.slice.call(form.querySelectorAll("fieldset[data-item]")); }

  // A typed number as the server reads one (see valueOf).
  var DECIMAL = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$/;
  var THOUSANDS_GROUPS = /^[+-]?[1-9]\d{0,2}(,\d{3})+$/;

  function valueOf(fieldset) {
    var name = "answer-" + fieldset.dataset.item;
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    if (checked) {
      return fieldset.dataset.type === "scale" && checked.value !== "na" ? Number(checked.value) : checked.value;
    }
    var field = form.querySelector('[name="' + name + '"]:not([type=radio]):not([type=file])');
    if (!field || field.value.trim() === "") return null;
    if (fieldset.dataset.type === "timer" || fieldset.dataset.type === "number") {
      // Read as the server reads a form's number (answers._form_number): a decimal comma or point;
      // "1,200" (a thousand two hundred, or 1.2?) and anything else kept as typed, for the server
      // to name ("Give a number."). Number() alone read "0x10" as 16 and "1,200" as 1.2.
      var typed = field.value.trim();
      if (!DECIMAL.test(typed) || THOUSANDS_GROUPS.test(typed)) return field.value;
      return Number(typed.replace(",", "."));
    }
    return field.value;
  }

  function setValue(itemId, value) {
    // A timer or number may also have a "not applicable" radio: set whichever holds the value.
    var name = "answer-" + itemId;
    var matched = false;
    form.querySelectorAll('input[type=radio][name="' + name + '"]').forEach(function (radio) {
      radio.checked = value !== null && String(value) === radio.value;
      matched = matched || radio.checked;
    });
    var field = form.querySelector('[name="' + name + '"]:not([type=radio]):not([type=file])');
    if (field) field.value = matched || value === null || value === undefined ? "" : value;
  }

  function isVisible(fieldset, answers) {
    if (!fieldset.dataset.showIf) return true;
    var rule = JSON.parse(fieldset.dataset.showIf);
    var target = form.querySelector('fieldset[data-item="' + rule.item + '"]');
    if (target && target.hidden) return false;
    return rule["in"].indexOf(answers[rule.item]) >= 0;
  }

  function collect() {
    var answers = {}, comments = {};
    itemsOf().forEach(function (fieldset) {
      var id = fieldset.dataset.item;
      var value = valueOf(fieldset);
      if (value !== null) answers[id] = value;
      var comment = form.querySelector('[name="comment-' + id + '"]');
      if (comment && comment.value.trim()) comments[id] = comment.value.trim();
    });
    return { answers: answers, comments: comments };
  }

  function refresh() {
    // Conditions in file order: an item can depend only on an earlier one.
    var state = collect();
    var done = 0, total = 0;
    itemsOf().forEach(function (fieldset) {
      fieldset.hidden = !isVisible(fieldset, state.answers);
      if (!fieldset.hidden && fieldset.hasAttribute("data-scoring")) {
        total += 1;
        if (state.answers[fieldset.dataset.item] !== undefined) done += 1;
      }
    });
    progress.textContent = say(form.dataset.msgProgress, { done: done, total: total });
    form.querySelectorAll(".error.client").forEach(function (error) {
      var fieldset = error.closest("fieldset");
      var code = error.dataset.code;  // a comment or photo the answer needs, else the answer itself
      if (fieldset.hidden || (code ? needs(fieldset).indexOf(code) < 0 : state.answers[fieldset.dataset.item] !== undefined)) {
        unmark(error);
      }
    });
    return state;
  }

  function visibleOnly(values) {
    // The answers or comments of the questions that apply: those of hidden questions are not sent.
    var shown = {};
    itemsOf().forEach(function (fieldset) {
      var id = fieldset.dataset.item;
      if (!fieldset.hidden && values[id] !== undefined) shown[id] = values[id];
    });
    return shown;
  }

  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  function partsOf(source) {
    var parts = {};
    PARTS.forEach(function (part) { parts[part] = JSON.parse(JSON.stringify((source && source[part]) || {})); });
    return parts;
  }

  function changedSince(now, before) {
    var keys = Object.keys(now).concat(Object.keys(before));
    return keys.filter(function (key, index) { return keys.indexOf(key) === index && !same(now[key], before[key]); });
  }

  var keeping = Promise.resolve();
  var writeWaiting = null;  // a write queued behind the keep under way, not begun yet
  function keep(write) {
    // One at a time: a keep that began before the one before it had ended took the answer that one
    // was writing for another tab's change, and put it back on the page (not applicable, then 95
    // typed, then not applicable again: 95 came back).
    // A write asked for while another waits to begin is that one: it reads the page when it begins,
    // so it keeps this change too. Each tap queued a write of its own: on a slow phone quick taps
    // made a queue of whole-draft writes, and Send waited behind all of them.
    if (write && writeWaiting) return writeWaiting;
    var next = keeping.then(function () {
      if (next === writeWaiting) writeWaiting = null;  // begun: a change from now on needs the next write
      return keepNow(write).then(function (kept) {
        // In the same turn: a change's sending must not overtake the next one's (it put the answers
        // of before over the newer ones in the outbox).
        return (write ? sendChangeWithVisit() : Promise.resolve(false)).then(function (waiting) {
          kept.waiting = waiting;
          return kept;
        });
      });
    });
    keeping = next.catch(function () {});
    if (write) writeWaiting = next;
    return next;
  }

  function keepNow(write) {
    // This page's changes since it last read or wrote the store (and only those) go into the stored
    // draft, in one transaction; what other tabs of the visit changed meanwhile comes onto the page.
    // write false: only read what the others changed (another tab said it saved).
    var state = refresh();
    var own = { answers: state.answers, comments: state.comments, timers: runningTimers() };
    var synced = known;  // what the store held when this page last read or wrote it
    var mine = {};
    PARTS.forEach(function (part) { mine[part] = changedSince(own[part], known[part]); });
    // A timer ticking here changes its answer every second: not a change of this tab's while the
    // timer is the one this tab last read or wrote (it wrote the seconds over another tab's N/A).
    mine.answers = mine.answers.filter(function (id) {
      return !(own.timers[id] && same(own.timers[id], known.timers[id]));
    });
    var before;
    function merge(stored) {
      before = partsOf(stored);
      PARTS.forEach(function (part) {
        stored[part] = stored[part] || {};
        mine[part].forEach(function (key) {
          if (own[part][key] === undefined) delete stored[part][key];
          else stored[part][key] = own[part][key];
        });
      });
      withPhotosOf(draft, stored);
      stored.startedAt = stored.startedAt || draft.startedAt;
      stored.location = stored.location || draft.location;
      if (write) stored.updatedAt = Date.now();
      return stored;
    }
    var kept = write ? store.changeDraft(visit, merge) : store.getDraft(visit).then(function (stored) {
      return merge(stored || { visit: visit });
    });
    return kept.then(function (merged) {
      // A photo added or removed on this page while the store was written (Remove tapped as its
      // thumbnail appeared, on a slow phone) changed the draft this one replaces: kept, or the removed
      // photo came back into the list and the added one was listed nowhere, so never sent.
      draft = withPhotosOf(draft, merged);
      known = write ? partsOf(merged) : before;
      showOthersChanges(merged, own, mine, synced);
      return merged;
    });
  }

  function withPhotosOf(page, stored) {
    // Photos: each tab's added ones are kept, less those removed in any tab (a removal is kept as the
    // photo's id, or the other tab's copy of the list brought the photo back).
    var removed = union(stored.removedPhotos, page.removedPhotos);
    if (removed.length) stored.removedPhotos = removed;
    stored.photos = stored.photos || {};
    Object.keys(page.photos || {}).forEach(function (item) {
      stored.photos[item] = union(stored.photos[item], page.photos[item]);
    });
    Object.keys(stored.photos).forEach(function (item) {
      stored.photos[item] = stored.photos[item].filter(function (id) { return removed.indexOf(id) < 0; });
    });
    return stored;
  }

  function showOthersChanges(merged, own, mine, synced) {
    // What another tab changed in the store since this page last read or wrote it: put on the page
    // unless this page changed it meanwhile. (Compared with the page instead, a keep begun while a
    // timer ran here and ended after it was stopped put the store's old seconds back over the new.)
    var changed = false;
    itemsOf().forEach(function (fieldset) {
      var id = fieldset.dataset.item;
      var value = merged.answers[id] === undefined ? null : merged.answers[id];
      var shown = own.answers[id] === undefined ? null : own.answers[id];
      var timer = timers[id];
      var timerMoved = timer && mine.timers.indexOf(id) < 0 && !same(merged.timers[id], synced.timers[id]);
      // A timer running here ticks its field on: what it showed when this keep began says nothing.
      var untouched = same(valueOf(fieldset), shown) || Boolean(own.timers[id]);
      if (timerMoved) {
        if (merged.timers[id]) timer.run(merged.timers[id].started, Number(merged.timers[id].base) || 0);
        else if (timer.state()) timer.halt();
      }
      if (mine.answers.indexOf(id) < 0 && !same(merged.answers[id], synced.answers[id]) && untouched &&
          !(merged.timers[id] && timerMoved)) {
        setValue(id, value);
        settle(fieldset);  // put right in the other tab: its refusal mark goes here too
        changed = true;
      }
      var comment = form.querySelector('[name="comment-' + id + '"]');
      var text = merged.comments[id] || "";
      if (comment && mine.comments.indexOf(id) < 0 && text !== (synced.comments[id] || "") &&
          comment.value.trim() === (own.comments[id] || "")) {
        comment.value = text;
        settle(fieldset);
        if (text) comment.closest("details").open = true;
      }
    });
    if (changed) refresh();
    (merged.removedPhotos || []).forEach(dropThumb);
    showStoredPhotos(true).catch(function () { /* the thumbnails are a courtesy: the draft holds the photos */ });
  }

  function showStoredPhotos(fromOtherTab) {
    // The photos kept on the phone for this visit (by this tab or another) that the page does not show
    // yet; one that reached the server is on the page already (its copy from there). A photo another
    // tab added settles its question's refusal here too.
    return store.photosOf(visit).then(function (photos) {
      // In the order they were added (the draft's lists): the store gives them by their random ids,
      // and "Photo 1" was another photo after a reload, or in another tab.
      var order = [];
      Object.keys(draft.photos || {}).forEach(function (item) { order = order.concat(draft.photos[item]); });
      photos = photos.filter(function (photo) { return (draft.removedPhotos || []).indexOf(photo.clientId) < 0; });
      photos.sort(function (a, b) {
        var i = order.indexOf(a.clientId), j = order.indexOf(b.clientId);
        return (i < 0 ? order.length : i) - (j < 0 ? order.length : j);
      });
      photos.forEach(function (photo) {
        if (!form.querySelector('img.thumb[data-client-id="' + photo.clientId + '"]')) {
          showThumb(photo.item, photo.blob, photo.clientId);
          if (fromOtherTab) settle(form.querySelector('fieldset[data-item="' + photo.item + '"]'));
        }
      });
    });
  }

  function save() {
    if (!draft.startedAt) {
      draft.startedAt = new Date().toISOString();
      checkIn();
    }
    return keep(true).then(function (kept) {
      saveState.classList.remove("not-kept");
      saveState.textContent = kept.waiting ? say(form.dataset.msgWaiting, { count: 1 })
        : say(form.dataset.msgSaved, { time: clock(kept.updatedAt) });
      tellOtherTabs();
      return kept;
    }, function (error) {
      sayNotKept();
      throw error;
    });
  }

  function sayNotKept() {
    // The phone's storage refused the write (full, or closed to the page): said, where the line kept
    // saying "Saved on this phone" from the write before, and a photo vanished without a word.
    saveState.classList.add("not-kept");
    saveState.textContent = form.dataset.msgNotKept;
  }

  function sendChangeWithVisit() {
    // Sent offline, then an answer put right before the network came back: the visit waiting in the
    // outbox takes the change (it left with the answers of the moment Send was tapped, and the page
    // said "saved"). Ended when Send was tapped, still: if the visit is on its way as the change is
    // made, the sender sends the change after it (outbox.js's settleOutbox), and the server takes it
    // as a change of that sending. A refused visit waits for Send instead.
    return ownOutboxEntry().then(function (mine) {
      if (!mine || mine.rejected) return false;
      return queue(mine.payload && mine.payload.ended_at).then(function () { return true; });
    }).catch(function () { return false; /* the draft holds the change; Send again sends it */ });
  }

  function tellOtherTabs() {
    if (typeof BroadcastChannel === "undefined") return;
    var channel = new BroadcastChannel("audit-sync");
    channel.postMessage({ visit: visit, state: "draft", tab: tab });
    channel.close();
  }

  function checkIn() {
    // Where the shopper is when they start: only the distance to the branch reaches the reviewer.
    if (!navigator.geolocation || !form.dataset.branchLat) return;
    navigator.geolocation.getCurrentPosition(function (position) {
      var where = { lat: position.coords.latitude, lon: position.coords.longitude };
      draft.location = where;
      store.changeDraft(visit, function (stored) { stored.location = where; return stored; });
    }, function () { /* denied or unavailable: the visit goes on without it */ }, { timeout: 15000, maximumAge: 60000 });
  }

  // What the server refused in a question is the shopper's to fix: any change to it (answer, comment,
  // photo) takes the mark away; the server looks again when the visit is sent.
  // A photo picked counts only once it is kept (addPhotos): a file that is no image fixes nothing.
  function settleRefusal(event) {
    if (event.target.type === "file") return;
    settle(event.target.closest && event.target.closest("fieldset[data-item]"));
  }
  function settle(fieldset) {
    if (fieldset) fieldset.querySelectorAll(".error.server").forEach(unmark);
  }

  // The shopper tapped Send and has not done anything since: a refusal, whichever sender got it (this
  // page, its regular look at the outbox, or the service worker, which sends at the same time and may
  // be answered first), puts the cursor in the first question to fix.
  var awaitingOutcome = false;

  function oneAnswer(target) {
    // A timer's or a number's value and its "not applicable" are one answer: the one given last
    // counts, and the other is cleared (both stayed, and the phone kept "not applicable" where the
    // form without JavaScript kept the number).
    var fieldset = target.closest("fieldset[data-item]");
    if (!fieldset || (fieldset.dataset.type !== "timer" && fieldset.dataset.type !== "number")) return;
    var na = fieldset.querySelector('input[type=radio][value="na"]');
    var typed = typedAnswer(fieldset);
    if (!na || !typed) return;
    if (target === na && na.checked) typed.value = "";
    else if (target === typed && typed.value !== "") na.checked = false;
  }

  var typing = null;
  function stopTimerByHand(target) {
    // A running timer stops at seconds typed by hand (its ticking overwrote them) or at "not
    // applicable" (it went on counting beside it, and its seconds were sent).
    var fieldset = target.closest && target.closest("fieldset[data-item]");
    var timer = fieldset && timers[fieldset.dataset.item];
    if (!timer || !timer.state()) return;
    if (target === typedAnswer(fieldset)) timer.halt(target.value);
    else if (target.type === "radio" && target.value === "na" && target.checked) timer.halt(null);
  }

  // Questions answered before the page had read what the phone keeps (a slow phone reads for a
  // while): restore leaves them as given (it put the kept answer back over the tap, which the store
  // had, and the page showed the old answer until the next change).
  var restoring = true, givenWhileRestoring = { answers: {}, comments: {} };
  function noteGivenWhileRestoring(target) {
    var fieldset = restoring && target.closest && target.closest("fieldset[data-item]");
    if (!fieldset) return;
    var part = (target.name || "").indexOf("comment-") === 0 ? "comments" : "answers";
    givenWhileRestoring[part][fieldset.dataset.item] = true;
  }
  form.addEventListener("input", function (event) {
    noteGivenWhileRestoring(event.target);
    awaitingOutcome = false;
    stopTimerByHand(event.target);
    oneAnswer(event.target);
    settleRefusal(event);
    if (event.target.type === "file") return;
    clearTimeout(typing);
    typing = setTimeout(function () { typing = null; save(); }, event.target.type === "radio" ? 0 : 300);
  });
  form.addEventListener("change", function (event) {
    noteGivenWhileRestoring(event.target);
    awaitingOutcome = false;
    settleRefusal(event);
    if (event.target.type === "file") return addPhotos(event.target);
    openCommentIfNeeded(event.target.closest("fieldset[data-item]"));
    clearTimeout(typing);
    save();
  });
  // Leaving the page (a reload, Back, the tab closed or put away) with a save still waiting for the
  // typing to pause: kept now, or what was typed in its last moment was lost.
  // The phone's store is opened anew for each write, which a page torn down at once (a reload, Back)
  // does not wait for: what was typed is also copied where a leaving page can write at once, and the
  // next opening of the visit takes it if the store did not get it.
  // Kept per account: on a shared phone the visit may have been another shopper's before.
  var PENDING = "audit-typed-" + window.AuditOutbox.currentUser() + "-" + visit;
  var PENDING_BEFORE = "audit-typed-" + visit;  // kept so by versions before accounts: this one's (outbox.js adopt)
  function saveTypedNow() {
    if (typing === null) return;
    clearTimeout(typing);
    typing = null;
    var state = collect();
    try {
      localStorage.setItem(PENDING, JSON.stringify({ answers: state.answers, comments: state.comments, at: Date.now() }));
    } catch (error) { /* private mode, or full: the save below is all there is */ }
    save().then(forgetTyped, function () {});
  }
  function forgetTyped() {
    try { localStorage.removeItem(PENDING); } catch (error) { /* nothing kept */ }
  }
  function typedBeforeLeaving(saved) {
    // What a page left mid-typing copied (saveTypedNow), if the store did not get it after: put on the
    // page, to be saved as typed. True when there was any.
    var pending = null;
    try {
      pending = JSON.parse(localStorage.getItem(PENDING) || localStorage.getItem(PENDING_BEFORE) || "null");
    } catch (error) { pending = null; }
    forgetTyped();
    try { localStorage.removeItem(PENDING_BEFORE); } catch (error) { /* nothing kept */ }
    if (!pending || (saved && saved.updatedAt && saved.updatedAt >= pending.at)) return false;
    var taken = false;
    itemsOf().forEach(function (fieldset) {
      var id = fieldset.dataset.item;
      var typed = (pending.answers || {})[id];
      if (typed !== undefined && !same(typed, saved && saved.answers ? saved.answers[id] : undefined)) {
        setValue(id, typed);
        taken = true;
      }
      var comment = form.querySelector('[name="comment-' + id + '"]');
      var text = (pending.comments || {})[id];
      if (comment && text && text !== ((saved && saved.comments) || {})[id]) {
        comment.value = text;
        comment.closest("details").open = true;
        taken = true;
      }
    });
    return taken;
  }
  window.addEventListener("pagehide", saveTypedNow);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") saveTypedNow();
  });

  // Timers: start and stop while waiting; the seconds can still be typed by hand. A running timer is
  // kept in the draft (when it started, and the seconds before): the shopper who leaves the page mid-wait
  // (a photo taken with the camera app, a phone that closed the tab) finds it still running, counted
  // from when it started (it was lost, and the wait with it).
  var timers = {};
  form.querySelectorAll("input[data-timer]").forEach(function (input) {
    var item = input.closest("fieldset[data-item]").dataset.item;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary timer-button";
    button.textContent = form.dataset.msgStart;
    input.after(button);
    // `measured`: the seconds at the last stop, unrounded. The box shows whole seconds; a wait timed
    // in several short segments went on from the rounded figure, and four taps of 0.7 s made 4 s.
    var started = null, base = 0, ticker = null, measured = null;
    function soFar() {
      // The seconds to go on from: the measured ones while the box still shows them, else what was typed.
      var shown = Number(input.value) || 0;
      return measured !== null && Math.round(measured) === shown ? measured : shown;
    }
    function run(since, seconds) {
      clearInterval(ticker);
      started = since;
      base = seconds;
      input.value = Math.round(base + (Date.now() - started) / 1000);
      button.textContent = form.dataset.msgStop;
      button.classList.add("running");
      ticker = setInterval(function () {
        // Not while the shopper is in the box: a tick there took their selection away, and the
        // seconds they typed were added to the ticked ones ("2" then "45" made 245).
        if (document.activeElement !== input) input.value = Math.round(base + (Date.now() - started) / 1000);
      }, 250);
    }
    function halt(seconds) {
      clearInterval(ticker);
      measured = seconds === undefined ? base + (Date.now() - started) / 1000 : null;
      input.value = measured !== null ? Math.round(measured) : (seconds === null ? "" : seconds);
      started = null;
      button.textContent = form.dataset.msgStart;
      button.classList.remove("running");
    }
    timers[item] = {
      run: run, halt: halt,
      state: function () { return started === null ? undefined : { started: started, base: base }; }
    };
    button.addEventListener("click", function () {
      if (started === null) {
        run(Date.now(), soFar());
        oneAnswer(input);  // timing gives a value: "not applicable" no longer holds
      } else {
        halt();
      }
      save();
    });
  });

  function runningTimers() {
    var running = {};
    Object.keys(timers).forEach(function (item) {
      var state = timers[item].state();
      if (state) running[item] = state;
    });
    return running;
  }

  function resumeTimers() {
    Object.keys(draft.timers || {}).forEach(function (item) {
      var running = draft.timers[item];
      if (!timers[item] || !running || !running.started) return;
      if (draft.sentAt && running.started < draft.sentAt) return;  // its wait ended with the sending
      timers[item].run(running.started, Number(running.base) || 0);
    });
  }

  function shrink(file) {
    // Long side at most 1600 px, JPEG: a phone photo of 4-8 MB becomes a few hundred KB.
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.82); });
    });
  }

  function takenAt(file) {
    // When the camera took the photo (EXIF DateTimeOriginal, and its zone's offset when written), read
    // with exifr before shrinking: the canvas copy has no EXIF, and the reviewer's "photo taken outside
    // the time of the visit" then never applied to photos sent from a phone. Sent as EXIF's own text.
    if (!window.exifr) return Promise.resolve({});
    return window.exifr.parse(file, { ifd0: false, gps: false, exif: [0x9003, 0x9011], reviveValues: false })
      .then(function (tags) {
        return tags && typeof tags[0x9003] === "string" ? { at: tags[0x9003], offset: tags[0x9011] } : {};
      }).catch(function () { return {}; });
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function union(list, more) {
    list = (list || []).slice();
    (more || []).forEach(function (id) { if (list.indexOf(id) < 0) list.push(id); });
    return list;
  }

  function showThumb(item, blob, clientId) {
    // Numbered after the question's photos already shown, named and with a Remove button as the
    // server shows its thumbnails (_items.html).
    var holder = form.querySelector('[data-photos="' + item + '"]');
    if (!holder) return 0;
    var number = holder.querySelectorAll("img.thumb").length + 1;
    var photo = document.createElement("span");
    photo.className = "photo";
    photo.dataset.clientId = clientId;
    var img = document.createElement("img");
    img.className = "thumb";
    img.src = URL.createObjectURL(blob);
    img.dataset.clientId = clientId;
    var remove = document.createElement("button");
    remove.type = "submit";
    remove.name = "remove_photo";
    remove.value = clientId;
    remove.className = "remove-photo secondary small";
    remove.textContent = form.dataset.msgRemove;
    photo.append(img, remove);
    holder.insertBefore(photo, holder.querySelector(".photo-pick"));
    numberThumbs(holder);
    return number;
  }

  function numberThumbs(holder) {
    // "Photo 2" is the second shown: after a removal the names follow what is left.
    holder.querySelectorAll(".photo").forEach(function (photo, index) {
      var img = photo.querySelector("img.thumb");
      var remove = photo.querySelector(".remove-photo");
      if (img) img.alt = form.dataset.msgPhoto + " " + (index + 1);
      if (remove) remove.setAttribute("aria-label", say(form.dataset.msgRemovePhoto, { number: index + 1 }));
    });
  }

  function dropThumb(clientId) {
    var photo = form.querySelector('.photo[data-client-id="' + clientId + '"]');
    if (!photo) return;
    var holder = photo.closest("[data-photos]");
    var img = photo.querySelector("img.thumb");
    if (img && img.src.indexOf("blob:") === 0) URL.revokeObjectURL(img.src);
    photo.remove();
    numberThumbs(holder);
  }

  function removePhoto(button) {
    // Off the page and the phone at once; the sending leaves it out, and the server then drops its
    // copy if the photo went with an earlier sending (a returned visit). The cursor stays in the
    // question: on the next photo's Remove, else on the picker.
    var holder = button.closest("[data-photos]");
    var fieldset = button.closest("fieldset[data-item]");
    var item = holder.dataset.photos;
    var id = button.value;
    draft.removedPhotos = union(draft.removedPhotos, [id]);
    draft.photos[item] = (draft.photos[item] || []).filter(function (kept) { return kept !== id; });
    var photo = button.closest(".photo");
    var next = photo.nextElementSibling && photo.nextElementSibling.querySelector(".remove-photo");
    if (!next && photo.previousElementSibling) next = photo.previousElementSibling.querySelector(".remove-photo");
    dropThumb(id);
    (next || holder.querySelector(".photo-pick input[type=file]")).focus();
    settle(fieldset);  // a change to the question: the server looks again
    // The draft first, then the phone's copy: a tab closed in between leaves a copy the removal names
    // (never listed, never sent), where the other order left the removed photo listed without a copy,
    // and every sending refused for it.
    return save().then(function (kept) {
      return store.deletePhoto(id).catch(function () { /* left in the store: removed, never sent */ }).then(function () {
        if (!kept.waiting) saveState.textContent = say(form.dataset.msgPhotoRemoved, { time: clock(draft.updatedAt) });
      });
    });
  }

  var lastRemoval = 0;
  form.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".remove-photo");
    if (!button) return;
    event.preventDefault();  // the form without JavaScript is sent by it; here the phone removes it
    // A double tap (or Enter pressed twice): the next photo's button has moved under the finger, and
    // has the focus. One removal, not two.
    if (Date.now() - lastRemoval < 700) return;
    lastRemoval = Date.now();
    awaitingOutcome = false;
    removePhoto(button);
  });

  function markBadPhoto(fieldset, input) {
    // A file the phone cannot read as an image: said beside the question as the server says it to
    // the form without JavaScript, the cursor left on the picker to choose another.
    fieldset.querySelectorAll(".error.photo").forEach(unmark);
    var error = mark(fieldset, "photo", form.dataset.msgBadPhoto, input);
    error.setAttribute("role", "alert");
    describedBy(input, error.id, true);
  }

  function addPhotos(input) {
    var fieldset = input.closest("fieldset[data-item]");
    var item = input.closest("[data-photos]").dataset.photos;
    var files = Array.prototype.slice.call(input.files || []);
    input.value = "";  // kept on the phone instead; the plain form would upload it a second time
    return files.reduce(function (chain, file) {
      var taken = {};
      return chain.then(function () {
        return takenAt(file);
      }).then(function (found) {
        taken = found;
        return shrink(file).catch(function () { return null; });
      }).then(function (blob) {
        if (!blob) return markBadPhoto(fieldset, input);
        fieldset.querySelectorAll(".error.photo").forEach(unmark);
        var id = newId();
        draft.photos[item] = (draft.photos[item] || []).concat([id]);
        return store.putPhoto({ clientId: id, visit: visit, item: item, blob: blob, uploaded: false,
                                takenAt: taken.at, takenOffset: taken.offset })
          .then(function () {
            settle(fieldset);  // the photo a refusal asked for, or another: the server looks again
            var number = showThumb(item, blob, id);
            return save().then(function (kept) {
              // A visit waiting to send (the photo goes with it) says so, not "saved on this phone".
              if (!kept.waiting) saveState.textContent = say(form.dataset.msgPhotoAdded, { number: number, time: clock(draft.updatedAt) });
            });
          });
      });
    }, Promise.resolve()).catch(sayNotKept);
  }

  function keepServerPhotos() {
    // Photos that reached the server come with the page as thumbnails (a returned visit): they are
    // the visit's answers too, also on a phone that never held them (another phone, cleared data),
    // where a sending without them was refused as missing its photo. One removed on this phone
    // stays removed (the server keeps it until the next sending leaves it out).
    form.querySelectorAll("[data-photos] img.thumb[data-client-id]").forEach(function (img) {
      if ((draft.removedPhotos || []).indexOf(img.dataset.clientId) >= 0) return dropThumb(img.dataset.clientId);
      var item = img.closest("[data-photos]").dataset.photos;
      var ids = draft.photos[item] || [];
      if (ids.indexOf(img.dataset.clientId) < 0) draft.photos[item] = ids.concat([img.dataset.clientId]);
    });
  }

  function listPhotosAsKept() {
    // The draft and the phone's photo store are written one after the other: a tab closed between the
    // two (on a slow phone, just after a photo was taken or removed) left a photo shown but listed
    // nowhere (never sent), or a removed one listed without its copy (every sending refused for it).
    // The lists follow the store and the server's photos on the page; true when they changed.
    var onServer = [];
    form.querySelectorAll("[data-photos] img.thumb[data-client-id]").forEach(function (img) {
      onServer.push(img.dataset.clientId);
    });
    return store.photosOf(visit).then(function (photos) {
      var kept = photos.map(function (photo) { return photo.clientId; });
      var removed = draft.removedPhotos || [];
      var changed = false;
      Object.keys(draft.photos).forEach(function (item) {
        draft.photos[item].forEach(function (id) {
          if (kept.indexOf(id) >= 0 || onServer.indexOf(id) >= 0) return;
          // Gone from the phone and never on the server: removed (kept as such, or another tab's list,
          // or the stored draft's, would bring it back).
          draft.removedPhotos = union(draft.removedPhotos, [id]);
          changed = true;
        });
      });
      removed = draft.removedPhotos || [];
      Object.keys(draft.photos).forEach(function (item) {
        draft.photos[item] = draft.photos[item].filter(function (id) { return removed.indexOf(id) < 0; });
      });
      photos.forEach(function (photo) {
        var ids = draft.photos[photo.item] || [];
        if (removed.indexOf(photo.clientId) >= 0 || ids.indexOf(photo.clientId) >= 0) return;
        draft.photos[photo.item] = ids.concat([photo.clientId]);
        changed = true;
      });
      return changed;
    });
  }

  function restore() {
    return store.getDraft(visit).then(function (saved) {
      if (!saved || !saved.updatedAt) {
        // Nothing answered yet, but a photo may be kept (taken, and the tab closed before the draft).
        draft.photos = (saved && saved.photos) || draft.photos || {};
        keepServerPhotos();
        return listPhotosAsKept().then(function (changed) {
          return showStoredPhotos().then(function () {
            var typed = typedBeforeLeaving(saved);
            refresh();
            if (changed || typed) return save();
          });
        });
      }
      draft = saved;
      draft.photos = draft.photos || {};
      known = partsOf(saved);
      keepServerPhotos();
      itemsOf().forEach(function (fieldset) {
        var id = fieldset.dataset.item;
        if (!givenWhileRestoring.answers[id]) setValue(id, saved.answers[id] === undefined ? null : saved.answers[id]);
        var comment = form.querySelector('[name="comment-' + id + '"]');
        if (comment && !givenWhileRestoring.comments[id]) {
          comment.value = saved.comments[id] || "";
          if (comment.value) comment.closest("details").open = true;
        }
      });
      restoring = false;
      resumeTimers();
      return listPhotosAsKept().then(function (changed) {
        return showStoredPhotos().then(function () {
          var typed = typedBeforeLeaving(saved);
          refresh();
          saveState.textContent = say(form.dataset.msgSaved, { time: clock(saved.updatedAt) });
          var given = Object.keys(givenWhileRestoring.answers).length + Object.keys(givenWhileRestoring.comments).length;
          if (changed || typed || given) return save();
        });
      });
    });
  }

  function sentBefore() {
    // Sent from this phone, and not returned by a reviewer since.
    var returnedAt = Number(form.dataset.returnedAt || 0);
    return draft.sentAt && draft.sentAt > returnedAt;
  }

  // A question in error, as the page without JavaScript has it: its message beside it, named as the
  // question's description (and the description of the field a refusal asks to fix), the field marked
  // invalid. One summary is announced for all of them: dozens of alerts at once are read as noise, or
  // only the last.
  function describedBy(element, id, present) {
    var ids = (element.getAttribute("aria-describedby") || "").split(" ").filter(function (old) {
      return old && old !== id;
    });
    if (present) ids.push(id);
    if (ids.length) element.setAttribute("aria-describedby", ids.join(" "));
    else element.removeAttribute("aria-describedby");
  }

  function typedAnswer(fieldset) {
    return form.querySelector('[name="answer-' + fieldset.dataset.item + '"]:not([type=radio]):not([type=file])');
  }

  function fieldToFix(fieldset, code) {
    // Where the shopper puts right what is wrong with a question (the server's code for it): the comment
    // box, the photo picker, else the answer (typed, chosen, or the first choice).
    var field = code === "comment_required" ? fieldset.querySelector("details.comment textarea")
      : code === "photo_required" || code === "photo_missing" ? fieldset.querySelector(".photo-pick input[type=file]")
      : null;
    return field || typedAnswer(fieldset) || fieldset.querySelector("input[type=radio]:checked") ||
      fieldset.querySelector("input:not([type=hidden]):not([disabled]), textarea:not([disabled])");
  }

  function mark(fieldset, kind, text, field, code) {
    var p = document.createElement("p");
    p.className = "error " + kind;
    p.id = "error-" + kind + (code ? "-" + code : "") + "-" + fieldset.dataset.item;
    if (code) p.dataset.code = code;
    p.textContent = text;
    fieldset.querySelector("legend").after(p);
    fieldset.classList.add("has-error");
    describedBy(fieldset, p.id, true);
    if (field) field.setAttribute("aria-invalid", "true");
    return p;
  }

  function unmark(error) {
    var fieldset = error.closest("fieldset");
    error.remove();
    describedBy(fieldset, error.id, false);
    fieldset.querySelectorAll('[aria-describedby~="' + error.id + '"]').forEach(function (element) {
      describedBy(element, error.id, false);
    });
    if (!fieldset.querySelector(".error")) {
      fieldset.classList.remove("has-error");
      fieldset.querySelectorAll("[aria-invalid]").forEach(function (field) { field.removeAttribute("aria-invalid"); });
    }
    if (!form.querySelector(".error.client, .error.server")) summary.textContent = "";
  }

  function clearMarks(kind) {
    form.querySelectorAll(".error." + kind).forEach(unmark);
  }

  function announceMarks() {
    // A new paragraph each time, so that the alert is read again after another try.
    summary.textContent = "";
    if (!form.querySelector(".error.client, .error.server")) return;
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.textContent = form.dataset.msgAttention;
    summary.appendChild(p);
  }

  function focusFirstMark() {
    // The first question in error whole on the screen below the status bar (its text and message, not
    // only a field with a ring), and the cursor where it can be put right: the field its refusal is
    // the description of, else the answer.
    var error = form.querySelector(".error.client, .error.server");
    if (!error) return;
    var fieldset = error.closest("fieldset");
    var target = fieldset.querySelector('[aria-describedby~="' + error.id + '"]') || fieldToFix(fieldset);
    if (!target) return;
    measureBar();  // the status line has just changed: the room kept above the question must be its height
    fieldset.scrollIntoView({ block: "start" });
    if (target.getBoundingClientRect().bottom > window.innerHeight) target.scrollIntoView({ block: "end" });
    target.focus({ preventScroll: true });
  }

  var refusals = JSON.parse(form.dataset.msgRefusals || "{}");

  function unansweredText(fieldset) {
    // "Or choose not applicable" only beside a question that offers it: elsewhere the shopper looked for it.
    return fieldset.querySelector('input[type=radio][value="na"]') ? form.dataset.msgUnanswered
      : form.dataset.msgUnansweredPlain;
  }

  function refusalText(fieldset, code, kept) {
    // A refusal in the page's language (the shopper may have changed it since), from its code and the
    // question; the text the server gave then only for a code this page does not know.
    if (code === "required") return unansweredText(fieldset);
    var template = code && refusals[code];
    if (!template) return kept;
    var values = {};
    if (code === "too_large") {
      var field = typedAnswer(fieldset);
      if (!field || !field.max) return kept;
      values.largest = Number(field.max).toLocaleString(document.documentElement.lang || []);
    } else if (code === "out_of_range") {
      var options = Array.prototype.map.call(fieldset.querySelectorAll("input[type=radio]"), function (radio) {
        return Number(radio.value);
      }).filter(function (number) { return !isNaN(number); });
      if (!options.length) return kept;
      values.low = Math.min.apply(null, options);
      values.high = Math.max.apply(null, options);
    }
    return say(template, values);
  }

  function markRefused(entry) {
    // What the server refused, beside each question it named (a failed answer without its comment or
    // photo, a number past the largest), the comment box opened only where a comment is missing. A
    // refusal kept from before the server gave codes opens every comment box: most asked for a comment.
    clearMarks("server");
    var items = entry.rejectedItems || {};
    var now = collect(), sent = entry.payload || {};
    Object.keys(items).forEach(function (id) {
      var fieldset = form.querySelector('fieldset[data-item="' + id + '"]');
      if (!fieldset) return;
      // Put right since (here, in another tab, or before the page was opened again): no mark.
      if (!same(now.answers[id], (sent.answers || {})[id]) || (now.comments[id] || "") !== ((sent.comments || {})[id] || "") ||
          !same(draft.photos[id] || [], (sent.photos || {})[id] || [])) return;
      var code = entry.rejectedCodes ? entry.rejectedCodes[id] : "comment_required";
      var field = fieldToFix(fieldset, code);
      var details = field && field.closest("details");
      if (details) details.open = true;
      var text = entry.rejectedCodes ? refusalText(fieldset, code, items[id]) : items[id];
      var error = mark(fieldset, "server", text, field);
      if (field) describedBy(field, error.id, true);
    });
    announceMarks();
  }

  function ownOutboxEntry() {
    // This visit's entry in the outbox, if it is the signed-in shopper's.
    return store.getOutbox(visit).then(function (entry) {
      return entry ? window.AuditOutbox.own([entry])[0] : undefined;
    });
  }

  function showOutbox() {
    // Where this visit's work is, in one short line: refused (what is wrong is said beside each
    // question), waiting, or sent. Other visits' work is said on their pages and in the list.
    return ownOutboxEntry().then(function (mine) {
      if (mine && mine.rejected) {
        // In the page's language where the page knows the refusal's code (it may have been refused in
        // another).
        var reason = Object.keys(mine.rejectedItems || {}).length ? form.dataset.msgRefusedAnswers
          : (mine.rejectedCode && refusals[mine.rejectedCode]) || mine.rejected;
        saveState.textContent = say(form.dataset.msgRejected, { reason: reason });
        if (!form.querySelector(".error.server")) markRefused(mine);
        if (awaitingOutcome) {
          awaitingOutcome = false;
          focusFirstMark();
        }
      } else if (mine && window.AuditOutbox.needsSignIn(mine)) {
        // Refused for the session, not for the visit: it goes once its shopper signs in again, which
        // nothing else tells them (the page kept on the phone still shows "Sign out").
        saveState.textContent = form.dataset.msgSignIn + " ";
        var signIn = document.createElement("a");
        signIn.href = form.dataset.loginUrl;
        signIn.textContent = form.dataset.msgSignInLink;
        saveState.appendChild(signIn);
      } else if (mine) {
        saveState.textContent = say(form.dataset.msgWaiting, { count: 1 });
      } else if (sentBefore()) {
        closeAsSent();
      }
      return mine;
    });
  }

  function closeAsSent() {
    // Sent from this phone and heard arrived, yet its form is open: the page Back brings (the
    // browser's copy, or offline the one kept before the sending). A change made there waited on
    // the phone and was refused once online, for good: nothing here can be changed any more.
    Array.prototype.forEach.call(form.elements, function (control) { control.disabled = true; });
    form.querySelectorAll(".fill-actions, .photo-pick").forEach(function (part) { part.hidden = true; });
    saveState.textContent = say(form.dataset.msgSentClosed, { time: clock(draft.sentAt) });
  }

  function showGone() {
    // The server no longer has this visit for the shopper (withdrawn, or given to another shopper):
    // sw.js shows the page the phone kept for it. The answers kept on the phone stay on it, to read and
    // copy (typed ones are read-only, not disabled, so that they can be selected); nothing more can be
    // given or sent.
    stopTimers();
    Array.prototype.forEach.call(form.elements, function (control) {
      if (control.tagName === "TEXTAREA" || (control.tagName === "INPUT" && /^(text|number)$/.test(control.type))) {
        control.readOnly = true;
      } else {
        control.disabled = true;
      }
    });
    form.querySelectorAll(".fill-actions, .photo-pick, .timer-button, .remove-photo").forEach(function (part) {
      part.hidden = true;
    });
    form.querySelectorAll("details.comment").forEach(function (details) {
      if (details.querySelector("textarea").value) details.open = true;
    });
    var note = document.createElement("p");
    note.className = "flash flash-error";
    note.setAttribute("role", "alert");
    note.dataset.visitGone = "";
    // A page kept by a version of the app before this message: the refusal the server gave, if any.
    note.textContent = form.dataset.msgGone || saveState.textContent;
    form.parentNode.insertBefore(note, form);
  }

  function fails(fieldset) {
    // Whether the answer given falls short of the question's pass mark, as far as the page knows it
    // (_items.html): a chosen answer listed in data-failing, a typed one within data-failing-ranges.
    var value = valueOf(fieldset);
    if (value === null || value === "na") return false;
    if (fieldset.dataset.failingRanges) {
      return typeof value === "number" && JSON.parse(fieldset.dataset.failingRanges).some(function (range) {
        return (range[0] === null || value > range[0]) && (range[1] === null || value <= range[1]);
      });
    }
    return (fieldset.dataset.failing || "").split(" ").indexOf(String(value)) >= 0;
  }

  function needsOnFail(fieldset, what) {
    return (fieldset.dataset.needsOnFail || "").split(" ").indexOf(what) >= 0 && fails(fieldset);
  }

  function openCommentIfNeeded(fieldset) {
    // The comment box opens as an answer that needs one is given, not only at the refusal, which a
    // visit sent offline heard back online, long after the shop.
    if (!fieldset || !needsOnFail(fieldset, "comment")) return;
    var comment = fieldset.querySelector("details.comment");
    if (comment) comment.open = true;
  }

  function needs(fieldset) {
    // What the answer given asks for besides (the server's codes): a comment or a photo, when it falls
    // short of the question's pass mark and none is given.
    var wanted = [];
    var comment = fieldset.querySelector("details.comment textarea");
    if (needsOnFail(fieldset, "comment") && comment && !comment.value.trim()) wanted.push("comment_required");
    if (needsOnFail(fieldset, "photo") && !(draft.photos[fieldset.dataset.item] || []).length) {
      wanted.push("photo_required");
    }
    return wanted;
  }

  function markUnanswered() {
    // What the server would refuse for want of an answer, a comment or a photo, said before the visit
    // leaves the phone: sent offline, the refusal came back online, after the shop (and its photo).
    var missing = [];
    clearMarks("client");
    clearMarks("server");
    itemsOf().forEach(function (fieldset) {
      // Every scored question, and a free text or a photo the checklist requires.
      if (fieldset.hidden || !(fieldset.hasAttribute("data-scoring") || fieldset.hasAttribute("data-required"))) return;
      if (fieldset.dataset.type === "photo") {
        if ((draft.photos[fieldset.dataset.item] || []).length || valueOf(fieldset) === "na") return;
        mark(fieldset, "client", form.dataset.msgPhotoMissing, fieldToFix(fieldset, "photo_missing"));
        missing.push(fieldset);
      } else if (valueOf(fieldset) === null) {
        mark(fieldset, "client", unansweredText(fieldset), typedAnswer(fieldset));
        missing.push(fieldset);
      } else {
        needs(fieldset).forEach(function (code) {
          var field = fieldToFix(fieldset, code);
          var details = field && field.closest("details");
          if (details) details.open = true;
          var error = mark(fieldset, "client", refusalText(fieldset, code), field, code);
          if (field) describedBy(field, error.id, true);
          missing.push(fieldset);
        });
      }
    });
    announceMarks();
    return missing.length === 0;
  }

  function stopTimers() {
    // Sent, a wait is over: a timer left running went on counting in the draft, and a returned visit
    // reopened with it still running (a day later, past the largest number a timer takes).
    Object.keys(timers).forEach(function (item) {
      if (timers[item].state()) timers[item].halt();
    });
  }

  function queue(endedAt) {
    var state = refresh();
    var queuedAt = Date.now();
    var payload = {
      answers: visibleOnly(state.answers), comments: visibleOnly(state.comments), photos: draft.photos,
      started_at: draft.startedAt || new Date().toISOString(), ended_at: endedAt || new Date().toISOString(),
      // Of two copies of a sending changed on its way, the server keeps the newer (sendChangeWithVisit).
      changed_at: new Date(queuedAt).toISOString()
    };
    if (draft.location) payload.location = draft.location;
    var csrf = form.querySelector("input[name=csrf_token]").value;
    return store.putOutbox({
      visit: visit, owner: window.AuditOutbox.currentUser(), payload: payload, csrf: csrf, submitUrl: form.dataset.submitUrl,
      pageUrl: location.pathname,
      photoUrl: form.dataset.photoUrl, attempts: 0, nextTry: 0, queuedAt: queuedAt
    });
  }

  function endOfSending(entry) {
    // Send tapped again on a visit refused for an answer (or still waiting): the same sending, put
    // right, keeps its time, so that the server takes it as a change of that sending if a copy of it
    // had arrived meanwhile (with a new time it was refused as sent already, and the fix stayed on
    // the phone). A visit the reviewer returned, or took, meanwhile is a new sending.
    if (!entry || !entry.payload || (entry.rejected && entry.rejectedStatus === 409)) return undefined;
    return entry.payload.ended_at;
  }

  var leaving = false;
  function goHome(delay) {
    // Once sent, back to the list of visits (only once, however the news arrives), which says so
    // (app.js shows the note; the list may be the copy kept on the phone).
    if (leaving) return;
    leaving = true;
    try { sessionStorage.setItem("audit-flash", form.dataset.msgThanks); } catch (e) { /* no storage: the list's badge says it */ }
    setTimeout(function () { window.location.assign(form.dataset.homeUrl); }, delay);
  }

  function send() {
    return window.AuditOutbox.send(true).then(showOutbox, showOutbox).then(function (mine) {
      if (!mine) goHome(800);
    });
  }

  var languagePick = document.getElementById("checklist-lang");

  function showLanguage() {
    // The checklist in the language picked: the answers are on the phone already, the page is fetched
    // in it. Offline there is no page to fetch: said as app.js says it of the other forms, and the
    // pick is put back.
    var shown = languagePick.querySelector("option[selected]") || languagePick.options[0];
    if (!navigator.onLine) {
      languagePick.value = shown.value;
      window.AuditPage.sayOffline();
      return;
    }
    var url = new URL(window.location.href);
    url.searchParams.set("lang", languagePick.value);
    // Kept for the shopper's next visits (and the pages kept on the phone for them, fetched again in
    // it); shown in it now whatever the server says.
    var body = new FormData();
    body.append("language", languagePick.value);
    fetch(form.dataset.languageUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": form.querySelector("input[name=csrf_token]").value }
    }).then(function (response) {
      var worker = navigator.serviceWorker && navigator.serviceWorker.controller;
      if (response.ok && worker) worker.postMessage({ type: "refresh-pages" });
    }).catch(function () { /* this page still shows the language picked */ }).then(function () {
      window.location.assign(url.href);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var action = event.submitter ? event.submitter.value : "save";
    if (action === "submit") stopTimers();
    // Enter in a field presses the first button of the form, the language pick's: then it saves.
    if (action === "lang" && languagePick && languagePick.value !== (languagePick.querySelector("option[selected]") || {}).value) {
      return save().then(showLanguage);
    }
    save().then(function () {
      if (action !== "submit") {
        // The time alone may not change within a minute: show that the tap did something.
        saveState.classList.remove("just-saved");
        void saveState.offsetWidth;
        saveState.classList.add("just-saved");
        return;
      }
      if (!markUnanswered()) return focusFirstMark();
      return ownOutboxEntry().then(function (mine) { return queue(endOfSending(mine)); }).then(function () {
        awaitingOutcome = true;
        saveState.textContent = say(form.dataset.msgWaiting, { count: 1 });
        if (navigator.serviceWorker && navigator.serviceWorker.ready) {
          navigator.serviceWorker.ready.then(function (registration) {
            if (registration.sync) return registration.sync.register("audit-outbox");
          }).catch(function () {});
        }
        return send();
      }, sayNotKept);  // the sending could not be put in the phone's outbox
    }).catch(function () { /* said by save() or above */ });
  });

  if (typeof BroadcastChannel !== "undefined") {
    new BroadcastChannel("audit-sync").onmessage = function (event) {
      if (event.data.state === "draft") {
        // Another tab of this visit saved: its answers come onto this page (a tab left open behind
        // showed the old ones, and wrote them back when it saved).
        if (event.data.visit === visit && event.data.tab !== tab) restored.then(function () { return keep(false); });
        return;
      }
      if (event.data.visit === visit && event.data.state === "sent") {
        store.getDraft(visit).then(function (saved) { if (saved) draft.sentAt = saved.sentAt; showOutbox(); })
          .then(function () { goHome(800); });
      } else {
        showOutbox();
      }
    };
  }

  if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
  bar.hidden = false;
  // The status bar stays at the top of the screen: app.css scrolls what gets focus clear of it.
  function measureBar() { document.documentElement.style.setProperty("--sync-bar-height", bar.offsetHeight + "px"); }
  measureBar();
  if (window.ResizeObserver) new ResizeObserver(measureBar).observe(bar);
  var restored = restore();
  restored.then(function () { restoring = false; }, function () { restoring = false; });
  restored.then(showOutbox).then(function () {
    if (document.querySelector('meta[name="audit-visit-gone"]')) showGone();
  });
  window.addEventListener("pageshow", function (event) {
    // Back to this page as the browser kept it (its scripts paused): sent meanwhile, maybe.
    if (!event.persisted) return;
    store.getDraft(visit).then(function (saved) {
      if (saved && saved.sentAt) draft.sentAt = saved.sentAt;
      return showOutbox();
    }).catch(function () { /* no store: nothing was sent from it either */ });
  });
})();
