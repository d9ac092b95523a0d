// Shopper pages with JavaScript: where each visit's work is, sending the outbox when the network is
// back, caching the assigned visits for offline use, and a warning before signing out with unsent work.
(function () {
  "use strict";
  if (!window.AuditStore) return;

  function banner() {
    document.querySelectorAll("[data-offline-banner]").forEach(function (el) { el.hidden = navigator.onLine; });
  }
  function trySend(now) {
    if (navigator.onLine) window.AuditOutbox.send(now === true).then(markCards, markCards);
  }

  function markCards() {
    var cards = document.querySelectorAll("article[data-visit]");
    if (!cards.length) return;
    var body = document.body.dataset;
    Promise.all([window.AuditStore.allDrafts(), window.AuditStore.allOutbox()]).then(function (found) {
      var drafts = {}, outbox = {};
      found[0].forEach(function (d) { drafts[d.visit] = d; });
      window.AuditOutbox.own(found[1]).forEach(function (e) { outbox[e.visit] = e; });
      cards.forEach(function (card) {
        var id = card.dataset.visit;
        var label = card.querySelector("[data-local-status]");
        var text = "";
        // A visit the reviewer returned after it was sent from here is not "Sent" any more.
        var sent = drafts[id] && drafts[id].sentAt && drafts[id].sentAt > Number(card.dataset.returnedAt || 0);
        if (outbox[id]) {
          text = outbox[id].rejected ? body.msgRejected
            : window.AuditOutbox.needsSignIn(outbox[id]) ? body.msgSignIn : body.msgWaiting;
        }
        else if (!card.dataset.fillUrl) text = "";  // sent, as the server's badge says already
        else if (sent) text = body.msgSent;  // the list kept offline does not know yet
        else if (drafts[id] && drafts[id].updatedAt) text = body.msgSaved;
        label.textContent = text;
        label.className = text ? "badge local-status" : "local-status";
      });
    });
  }

  function cacheVisits() {
    var urls = Array.prototype.map.call(document.querySelectorAll("article[data-fill-url]"), function (card) {
      return card.dataset.fillUrl;
    }).filter(Boolean);
    if (!urls.length || !navigator.serviceWorker) return;
    navigator.serviceWorker.ready.then(function (registration) {
      registration.active.postMessage({ type: "cache-pages", urls: urls.concat([location.pathname]) });
    });
  }

  function showKept(card) {
    card.dataset.offlineReady = "true";
    var note = card.querySelector("[data-offline-note]");
    if (note) note.hidden = false;
  }

  function markKept() {
    // Offline, or while the server fails, the worker cannot fetch the pages again to say they are
    // kept: what the phone holds says it.
    if (!window.caches) return;
    caches.open("audit-pages").then(function (cache) {
      document.querySelectorAll("article[data-fill-url]").forEach(function (card) {
        cache.match(new URL(card.dataset.fillUrl, location.origin).href, { ignoreVary: true }).then(function (page) {
          if (page) showKept(card);
        });
      });
    });
  }

  function showOthersWaiting() {
    // On a shared phone, another account's sendings wait for it to sign in again (outbox.js sends only
    // the signed-in shopper's): said, without a word of what they hold, so that this one does not clear
    // the browser's data, which would lose them.
    var note = document.querySelector("[data-others-waiting]");
    if (!note) return;
    var user = window.AuditOutbox.currentUser();
    window.AuditStore.allOutbox().then(function (entries) {
      note.hidden = !entries.some(function (e) { return e.owner && e.owner !== user && !e.rejected; });
    }).catch(function () { /* nothing to say */ });
  }

  function showGoneVisits() {
    // Visits this phone keeps answers of that the list no longer has: withdrawn, or given to another
    // shopper, maybe while they were filled offline. Without a word here their answers (a text typed
    // for ten minutes) were on the phone with no way to reach them. Each is linked to the page kept
    // for it (sw.js shows it, read-only): among the pages kept for offline use, or kept apart for this
    // account when it signed out or another signed in (outbox.js's AuditPages). Only this account's
    // answers and pages, and the server is asked whether each is gone indeed (a sent visit past the
    // list's latest ones is not).
    var section = document.querySelector("[data-gone-visits]");
    var account = document.querySelector('meta[name="audit-account"]');
    if (!section || !account || !navigator.onLine || !window.caches) return;
    var listed = Array.prototype.map.call(document.querySelectorAll("article[data-visit]"), function (card) {
      return card.dataset.visit;
    });
    Promise.all([window.AuditStore.allDrafts(), window.AuditStore.allOutbox().then(window.AuditOutbox.own),
                 caches.open("audit-pages"), caches.open(window.AuditPages.keptFor(account.content))]).then(function (found) {
      var worked = {};
      found[0].forEach(function (d) { if (window.AuditPages.isWorked(d)) worked[d.visit] = true; });
      found[1].forEach(function (e) { worked[e.visit] = true; });
      var seen = {};
      function gone(cache, apart) {
        return cache.keys().then(function (requests) {
          return Promise.all(requests.map(function (request) {
            var match = /^\/visits\/([0-9a-f-]+)\/fill$/.exec(new URL(request.url).pathname);
            if (!match) return null;
            // Kept apart, one listed again (or sent since) is kept with the list's pages: not twice.
            if (apart && (!worked[match[1]] || listed.indexOf(match[1]) >= 0)) return cache["delete"](request).then(function () { return null; });
            if (!worked[match[1]] || listed.indexOf(match[1]) >= 0 || seen[match[1]]) return null;
            seen[match[1]] = true;
            return fetch(section.dataset.apiUrl.replace("VISIT", match[1]), { credentials: "same-origin" }).then(function (response) {
              if (response.status !== 404) return null;
              return cache.match(request).then(function (page) { return page.text(); }).then(function (html) {
                var name = new DOMParser().parseFromString(html, "text/html").querySelector("h1");
                return { url: new URL(request.url).pathname, name: name ? name.textContent : match[1] };
              });
            }).catch(function () { return null; });
          }));
        });
      }
      return gone(found[2], false).then(function (inPages) {
        return gone(found[3], true).then(function (apart) { return inPages.concat(apart); });
      });
    }).then(function (gone) {
      var list = section.querySelector("ul");
      list.textContent = "";
      gone.filter(Boolean).forEach(function (visit) {
        var link = document.createElement("a");
        link.href = visit.url;
        link.textContent = visit.name;
        var item = document.createElement("li");
        item.appendChild(link);
        list.appendChild(item);
      });
      section.hidden = !list.children.length;
    }).catch(function () { /* the list itself is what matters */ });
  }

  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (!event.data || event.data.type !== "cached") return;
      document.querySelectorAll("article[data-fill-url]").forEach(function (card) {
        if (event.data.urls.indexOf(card.dataset.fillUrl) >= 0) showKept(card);
      });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    // Offline, app.js has stopped the form and said why; the pages kept for offline use stay.
    if (!form.matches("form[data-logout]") || event.defaultPrevented) return;
    event.preventDefault();
    window.AuditStore.allOutbox().then(window.AuditOutbox.own).then(function (entries) {
      if (entries.length && !window.confirm(form.dataset.unsentWarning)) return;
      // The pages of visits with answers on the phone are kept apart for this account (outbox.js).
      var done = window.caches ? window.AuditPages.drop() : Promise.resolve();
      done.then(function () { form.submit(); }, function () { form.submit(); });
    }, function () { form.submit(); });
  });

  // The network is back: the right moment to send, whatever the backoff said.
  window.addEventListener("online", function () { banner(); trySend(true); });
  var token = document.querySelector("input[name=csrf_token]");
  var user = window.AuditOutbox.currentUser();
  var ready = window.AuditStore.getUser().catch(function () { return undefined; }).then(function (before) {
    // Another shopper signed in on this phone (the last one's session ended without signing out): the
    // pages kept offline for the last one are not this one's to open.
    var forget = before && user && before !== user && window.caches ? window.AuditPages.drop() : Promise.resolve();
    return forget.then(function () { return token ? window.AuditOutbox.refreshTokens(token.value, user) : null; });
  });
  window.addEventListener("offline", banner);
  if (typeof BroadcastChannel !== "undefined") new BroadcastChannel("audit-sync").onmessage = markCards;
  banner();
  markCards();
  ready.then(trySend, trySend);
  ready.then(cacheVisits, cacheVisits);
  ready.then(markKept, markKept);  // after the last shopper's pages are gone, if they had to go
  ready.then(showGoneVisits, showGoneVisits);
  showOthersWaiting();
  // Also look now and then: an "online" event is not always delivered when a connection returns.
  setInterval(trySend, 5000);
})();
