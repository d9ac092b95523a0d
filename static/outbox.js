// The phone's store of unfinished and unsent visits (IndexedDB), and the sender of the outbox.
// Loaded by the pages and by the service worker, so a visit can be sent with no page open.
(function (global) {
  "use strict";

  var DB_NAME = "audit";
  var DB_VERSION = 3;
  var DRAFTS = "account-drafts";
  var OUTBOX = "account-outbox";
  var MAX_DELAY_S = 600;
  var REQUEST_TIMEOUT_MS = 30000;

  // A photo's upload gets its time on top, at a slow mobile uplink's pace (2G, a crowded cell: 4 KB/s):
  // cut at 30 s, a photo of 400 KB on such a link was started again and again and never arrived.
  var SLOW_UPLINK_BYTES_PER_MS = 4;

  function fetchWithTimeout(url, options, bytes) {
    // A request lost in a dying connection must not hold up the outbox for ever.
    if (typeof AbortController === "undefined") return fetch(url, options);
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); },
                           REQUEST_TIMEOUT_MS + (bytes || 0) / SLOW_UPLINK_BYTES_PER_MS);
    options.signal = controller.signal;
    return fetch(url, options).finally(function () { clearTimeout(timer); });
  }

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains("drafts")) db.createObjectStore("drafts", { keyPath: "visit" });
        if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "visit" });
        if (!db.objectStoreNames.contains("photos")) {
          db.createObjectStore("photos", { keyPath: "clientId" }).createIndex("visit", "visit");
        }
        // Version 2: who is signed in on this phone now (see sendOutbox).
        if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta", { keyPath: "key" });
        // Version 3: each account's answers and sendings apart (a shared phone, a visit given from one
        // shopper to the other: the second one saw the first one's answers, and their sending took the
        // place of the first one's). The stores of before, keyed by visit alone, are emptied into these
        // by the first page of a signed-in shopper (adopt).
        if (!db.objectStoreNames.contains(DRAFTS)) db.createObjectStore(DRAFTS, { keyPath: ["owner", "visit"] });
        if (!db.objectStoreNames.contains(OUTBOX)) db.createObjectStore(OUTBOX, { keyPath: ["owner", "visit"] });
        var photos = request.transaction.objectStore("photos");
        if (!photos.indexNames.contains("owner-visit")) photos.createIndex("owner-visit", ["owner", "visit"]);
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    }).then(function (db) {
      return adopted ? db : adopt(db);
    });
  }

  var adopted = null;  // set on a page once the work kept the old way is its shopper's (adopt)

  function adopt(db) {
    // Drafts, sendings and photos kept before version 3, by visit alone, are the account's signed in
    // when this code first runs on a page (the phone showed them to it before), or the account the
    // visit's sending names (since version 2), whose work they are. None is dropped: one
    // whose place is taken (a tab of before still writing) stays where it is. The service worker
    // knows no account, and leaves them to the next page.
    var user = currentUser();
    if (!user) return Promise.resolve(db);
    adopted = adopted || new Promise(function (resolve, reject) {
      var tx = db.transaction(["drafts", "outbox", "photos", DRAFTS, OUTBOX], "readwrite");
      var sentBy = {};  // visit: the account its sending of before names (since version 2)
      function move(from, to, done) {
        var before = tx.objectStore(from), now = tx.objectStore(to);
        before.openCursor().onsuccess = function (event) {
          var cursor = event.target.result;
          if (!cursor) return done && done();
          var record = cursor.value;
          record.owner = record.owner || sentBy[record.visit] || user;
          if (from === "outbox") sentBy[record.visit] = record.owner;
          now.get([record.owner, record.visit]).onsuccess = function (found) {
            if (found.target.result !== undefined) return;
            now.put(record);
            before.delete(record.visit);
          };
          cursor["continue"]();
        };
      }
      // The sendings first: a draft and the photos of a visit whose sending names its shopper are theirs.
      move("outbox", OUTBOX, function () {
        move("drafts", DRAFTS);
        // A photo with an owner is in the owner-visit index, one kept before is not: when the two
        // counts agree (every page after the first), no photo is read. Reading each photo's blob on
        // every page cost a visit's worth of photos each time.
        var photos = tx.objectStore("photos");
        photos.count().onsuccess = function (all) {
          photos.index("owner-visit").count().onsuccess = function (owned) {
            if (owned.target.result === all.target.result) return;
            photos.openCursor().onsuccess = function (event) {
              var cursor = event.target.result;
              if (!cursor) return;
              if (!cursor.value.owner) {
                cursor.value.owner = sentBy[cursor.value.visit] || user;
                cursor.update(cursor.value);
              }
              cursor["continue"]();
            };
          };
        };
      });
      tx.oncomplete = function () { resolve(); };
      tx.onerror = tx.onabort = function () { reject(tx.error); };
    });
    return adopted.then(function () { return db; }, function (error) {
      adopted = null;  // tried again at the next write; the work stays where it was
      db.close();
      throw error;
    });
  }

  function ownerOr(owner) {
    // The account whose work is meant: given (the service worker sends an entry for its owner), else
    // the shopper signed in on the page.
    return owner === undefined ? currentUser() : owner;
  }

  function run(storeName, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(storeName, mode);
        var result;
        var request = work(tx.objectStore(storeName));
        if (request) request.onsuccess = function () { result = request.result; };
        // Resolve only when the transaction is committed: the answer is on the phone for sure.
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  // Each shopper's drafts, sendings and photos are theirs (owner: the account's id, base.html's meta
  // audit-user); without an owner given, the page's signed-in shopper's.
  var store = {
    getDraft: function (visit, owner) {
      return run(DRAFTS, "readonly", function (s) { return s.get([ownerOr(owner), visit]); });
    },
    changeDraft: function (visit, change, owner) {
      // The visit's draft as `change` makes it from the one stored (or a new one), read and written
      // in one transaction: two tabs of one visit, or a tab and the sender, each change their part
      // of it, and neither writes back a copy read before the other's change. Resolves the draft kept.
      var kept;
      owner = ownerOr(owner);
      return run(DRAFTS, "readwrite", function (s) {
        var request = s.get([owner, visit]);
        request.onsuccess = function () {
          kept = change(request.result || { visit: visit, answers: {}, comments: {}, photos: {} });
          kept.owner = owner;
          kept.visit = visit;
          s.put(kept);
        };
      }).then(function () { return kept; });
    },
    allDrafts: function (owner) {
      // One account's drafts, the page's shopper's unless said.
      return run(DRAFTS, "readonly", function (s) { return s.getAll(ofAccount(ownerOr(owner))); });
    },
    putPhoto: function (photo) {
      photo.owner = ownerOr(photo.owner);
      return run("photos", "readwrite", function (s) { return s.put(photo); });
    },
    getPhoto: function (id) { return run("photos", "readonly", function (s) { return s.get(id); }); },
    photosOf: function (visit, owner) {
      return run("photos", "readonly", function (s) { return s.index("owner-visit").getAll([ownerOr(owner), visit]); });
    },
    deletePhoto: function (id) { return run("photos", "readwrite", function (s) { return s.delete(id); }); },
    setPhotoUploaded: function (id, uploaded) {
      // Only a photo still kept: one removed while it was on its way stays removed (put back whole,
      // it came back on the page of the visit returned later).
      return run("photos", "readwrite", function (s) {
        var request = s.get(id);
        request.onsuccess = function () {
          if (!request.result) return;
          request.result.uploaded = uploaded;
          s.put(request.result);
        };
      });
    },
    getOutbox: function (visit, owner) {
      return run(OUTBOX, "readonly", function (s) { return s.get([ownerOr(owner), visit]); });
    },
    putOutbox: function (entry) {
      entry.owner = ownerOr(entry.owner);
      return run(OUTBOX, "readwrite", function (s) { return s.put(entry); });
    },
    updateOutbox: function (entry) {
      // A sender's news of an entry (refused, try later), kept only if the entry is still the one it
      // sent: the page and the service worker send at the same time, and the other one may have had it
      // received meanwhile (a late refusal must not bring a received visit back), or the shopper may
      // have queued it again. Resolves whether it was kept.
      var kept = false;
      return run(OUTBOX, "readwrite", function (s) {
        var request = s.get([entry.owner, entry.visit]);
        request.onsuccess = function () {
          if (request.result && request.result.queuedAt === entry.queuedAt) {
            s.put(entry);
            kept = true;
          }
        };
      }).then(function () { return kept; });
    },
    // Every account's sendings: the sender sends the signed-in one's, the list says others wait.
    allOutbox: function () { return run(OUTBOX, "readonly", function (s) { return s.getAll(); }); },
    deleteOutbox: function (visit, owner) {
      return run(OUTBOX, "readwrite", function (s) { return s.delete([ownerOr(owner), visit]); });
    },
    settleOutbox: function (entry) {
      // The server has the entry sent: deleted if it is still the one stored. Resolves the entry that
      // took its place meanwhile (the shopper changed the visit while it was on its way, fill.js's
      // sendChangeWithVisit), which is still to be sent, or null.
      var newer = null;
      return run(OUTBOX, "readwrite", function (s) {
        var key = [entry.owner, entry.visit];
        var request = s.get(key);
        request.onsuccess = function () {
          if (request.result && request.result.queuedAt !== entry.queuedAt) newer = request.result;
          else if (request.result) s.delete(key);
        };
      }).then(function () { return newer; });
    },
    getUser: function () {
      return run("meta", "readonly", function (s) { return s.get("user"); }).then(function (row) { return row && row.value; });
    },
    setUser: function (user) {
      return run("meta", "readwrite", function (s) { return s.put({ key: "user", value: user }); });
    }
  };

  function ofAccount(owner) {
    // Every key [owner, visit] of one account: an array sorts after any string.
    return IDBKeyRange.bound([owner], [owner, []]);
  }

  function announce(message) {
    if (typeof BroadcastChannel !== "undefined") {
      var channel = new BroadcastChannel("audit-sync");
      channel.postMessage(message);
      channel.close();
    }
  }

  function backoff(entry, reason) {
    entry.attempts = (entry.attempts || 0) + 1;
    var delay = Math.min(MAX_DELAY_S, 2 * Math.pow(2, entry.attempts - 1));
    entry.nextTry = Date.now() + delay * 1000;
    entry.lastError = reason || "network";
    return store.updateOutbox(entry);
  }

  function problemOf(response) {
    // The server's message; for each question it refused ("answers.<item id>") what is wrong with it
    // and its code (what to fix: the comment for comment_required, the photo for photo_required, else
    // the answer), so that the fill page can say it beside the question and put the cursor there. The
    // message adds only what is said nowhere else: the other fields' texts.
    return response.json().then(function (body) {
      var error = (body && body.error) || {};
      var fields = error.fields || {};
      var codes = error.field_codes || {};
      var items = {}, itemCodes = {}, elsewhere = [];
      Object.keys(fields).forEach(function (key) {
        if (key.indexOf("answers.") === 0) {
          items[key.slice(8)] = fields[key];
          if (codes[key]) itemCodes[key.slice(8)] = codes[key];
        } else {
          elsewhere.push(fields[key]);
        }
      });
      return { text: [error.message].concat(elsewhere).filter(Boolean).join(" "), items: items, codes: itemCodes,
               code: error.code };
    }, function () { return { text: String(response.status), items: {}, codes: {} }; });
  }

  function reject(entry, response) {
    return problemOf(response).then(function (problem) {
      entry.rejected = problem.text;
      entry.rejectedItems = problem.items;
      entry.rejectedCodes = problem.codes;  // absent from refusals kept by versions before the codes
      entry.rejectedCode = problem.code;  // the whole visit's refusal, said in the page's language later
      entry.rejectedStatus = response.status;
      return store.updateOutbox(entry).then(function (kept) {
        if (!kept) return "gone";
        announce({ visit: entry.visit, state: "rejected", reason: problem.text });
        return "rejected";
      });
    });
  }

  function photosListed(entry) {
    var listed = [];
    var ofItems = (entry && entry.payload && entry.payload.photos) || {};
    Object.keys(ofItems).forEach(function (item) { listed = listed.concat(ofItems[item]); });
    return listed;
  }

  function uploadPhotos(entry) {
    return store.photosOf(entry.visit, entry.owner).then(function (photos) {
      // The sending's photos only: one removed on the phone, or added in another tab after this
      // entry was read, is not the sending's (the server drops a visit's photos a sending leaves out).
      // In the order they were added, as the sending lists them (the store gives them by id).
      var listed = photosListed(entry);
      var pending = photos.filter(function (p) { return !p.uploaded && listed.indexOf(p.clientId) >= 0; });
      pending.sort(function (a, b) { return listed.indexOf(a.clientId) - listed.indexOf(b.clientId); });
      // One by one: on a bad connection each photo that arrived stays arrived.
      return pending.reduce(function (chain, photo) {
        return chain.then(function () {
          // Looked at again before each: a photo removed on the page meanwhile (gone from the store
          // and from the visit's entry, changed since this run read it) is not uploaded.
          return Promise.all([store.getOutbox(entry.visit, entry.owner), store.getPhoto(photo.clientId)]);
        }).then(function (now) {
          if (!now[1] || !now[0] || photosListed(now[0]).indexOf(photo.clientId) < 0) return null;
          var body = new FormData();
          body.append("client_id", photo.clientId);
          body.append("item_id", photo.item);
          body.append("file", photo.blob, photo.clientId + ".jpg");
          // When the camera took it, read from the file before it was shrunk (fill.js).
          if (photo.takenAt) body.append("taken_at", photo.takenAt);
          if (photo.takenOffset) body.append("taken_offset", photo.takenOffset);
          // The sending it goes with: a sent visit takes the photo of a change made on its way.
          if (entry.payload && entry.payload.ended_at) body.append("ended_at", entry.payload.ended_at);
          return fetchWithTimeout(entry.photoUrl, {
            method: "POST", body: body, credentials: "same-origin",
            headers: { "X-CSRFToken": entry.csrf }
          }, photo.blob.size).then(function (response) {
            if (response.ok) return store.setPhotoUploaded(photo.clientId, true);
            var error = new Error("photo " + response.status);
            error.response = response;
            throw error;
          });
        });
      }, Promise.resolve());
    });
  }

  function unknownPhotosSentAgain(entry, response) {
    // The server no longer has a photo this phone uploaded (removed there meanwhile: from the form
    // without JavaScript, or left out of another sending), and refused the visit for it: "send it
    // again" never did, as the phone took it for uploaded. Uploaded again from the phone's copy, and
    // the visit sent again at once if nothing else was refused. True when there was one to upload.
    return response.clone().json().then(function (body) {
      var codes = (body && body.error && body.error.field_codes) || {};
      var keys = Object.keys(codes);
      var unknown = keys.filter(function (key) { return codes[key] === "unknown_photo"; });
      var ids = [];
      unknown.forEach(function (key) {
        ids = ids.concat(((entry.payload && entry.payload.photos) || {})[key.replace(/^answers\./, "")] || []);
      });
      return Promise.all(ids.map(function (id) { return store.getPhoto(id); })).then(function (kept) {
        var again = ids.filter(function (id, i) { return kept[i]; });
        return Promise.all(again.map(function (id) { return store.setPhotoUploaded(id, false); })).then(function () {
          return again.length > 0 && unknown.length === keys.length;
        });
      });
    }, function () { return false; });
  }

  function refuseOrRetry(entry, response) {
    // Only the app refuses a visit, in its JSON with a code: a page of something in between (a proxy's
    // 413 for a photo, a 400 or 404 of a gateway being reconfigured) said nothing about the visit, yet
    // it was given up for good ("Could not be sent: 413"), and went only if the shopper noticed and
    // tapped Send again. It waits and is tried again, as after a 502.
    return response.clone().json().then(function (body) {
      return Boolean(body && body.error && body.error.code);
    }, function () { return false; }).then(function (fromApp) {
      if (fromApp) return reject(entry, response);
      return backoff(entry, String(response.status)).then(function () { return "retry"; });
    });
  }

  function waitForSignIn(entry) {
    announce({ visit: entry.visit, state: "waiting" });  // its page says to sign in again
    return "retry";
  }

  function afterRefusal(entry, response) {
    // A photo or the visit not taken: try again later if the server, the network or the session was
    // the cause; give up (and say why) only if the visit itself was refused.
    if (response.status >= 500 || response.status === 429 || response.status === 408) {
      return backoff(entry, String(response.status)).then(function () { return "retry"; });
    }
    if (response.status === 401) {
      // Signed out meanwhile: kept until the shopper signs in again on this phone, which its page says.
      return backoff(entry, "signed-out").then(function () { return waitForSignIn(entry); });
    }
    if (response.status === 400) {
      return response.clone().json().then(function (body) {
        if (body && body.error && body.error.code === "csrf") {
          entry.csrfStale = true;  // a page of the new session will give it a fresh token
          return backoff(entry, "csrf").then(function () { return waitForSignIn(entry); });
        }
        return null;
      }, function () { return null; }).then(function (handled) {
        return handled || refuseOrRetry(entry, response);
      });
    }
    return refuseOrRetry(entry, response);
  }

  function keepSentPage(entry) {
    // Offline, the page kept for the visit was still its form: a sent visit offered to be filled and
    // sent again (refused, for good). The service worker keeps the page as the server gives it now,
    // which says the visit was sent.
    // In the service worker (sw.js's keepPage and PAGES), the promise keeps it awake until it is done.
    if (!entry.pageUrl) return null;
    if (typeof keepPage === "function" && typeof PAGES !== "undefined") {
      return caches.open(PAGES).then(function (cache) { return keepPage(cache, entry.pageUrl); })
        .catch(function () { return null; });  // the visit was sent whatever becomes of its page
    }
    if (typeof navigator !== "undefined" && navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "cache-pages", urls: [entry.pageUrl] });
    }
    return null;
  }

  function sendEntry(entry) {
    return uploadPhotos(entry).then(function () {
      return store.getOutbox(entry.visit, entry.owner);
    }).then(function (current) {
      // Changed on the page while its photos went (a photo removed, an answer put right): the newer
      // entry goes instead, its own photos first (this one named a photo removed meanwhile, and was
      // refused for it as not uploaded).
      if (current && current.queuedAt !== entry.queuedAt && !current.rejected) return sendEntry(current);
      return submitEntry(entry);
    }, function (error) {
      // A photo refused (error.response), or the network gone.
      if (error && error.response) return afterRefusal(entry, error.response);
      return backoff(entry, "network").then(function () { return "retry"; });
    });
  }

  function submitEntry(entry) {
    return fetchWithTimeout(entry.submitUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": entry.csrf },
      body: JSON.stringify(entry.payload)
    }).then(function (response) {
      if (response.status === 200 || response.status === 201) {
        // Deleted only now, after the server said it has the visit; a change made while it was on its
        // way goes now (the server takes it until the review begins), and the visit is sent only then.
        return store.settleOutbox(entry).then(function (newer) {
          if (newer) return newer.rejected ? "rejected" : sendEntry(newer);
          return store.changeDraft(entry.visit, function (draft) {
            draft.sentAt = Date.now();
            return draft;
          }, entry.owner).then(function () {
            return keepSentPage(entry);
          }).then(function () {
            announce({ visit: entry.visit, state: "sent" });
            return "sent";
          });
        });
      }
      if (response.status === 422 && !entry.photosSentAgain) {
        return unknownPhotosSentAgain(entry, response).then(function (again) {
          if (!again) return afterRefusal(entry, response);
          entry.photosSentAgain = true;  // once: what the server refuses then is the shopper's to see
          return sendEntry(entry);
        });
      }
      return afterRefusal(entry, response);
    }, function () {
      return backoff(entry, "network").then(function () { return "retry"; });
    });
  }

  var sending = null;

  function sendOutbox(force) {
    // One run at a time per page or worker, and across the phone's pages and its service worker where
    // the browser has Web Locks: two at once each uploaded every photo (on a phone's data plan), the
    // server keeping one. A run that finds another going leaves the work to it (and does not wait: a
    // tab frozen in the background keeps its lock). The server makes overlapping runs harmless anyway.
    if (sending) return sending;
    var locks = global.navigator && global.navigator.locks;
    sending = (locks ? locks.request("audit-outbox", { ifAvailable: true }, function (lock) {
      return lock ? sendDue(force) : store.allOutbox();
    }) : sendDue(force)).finally(function () { sending = null; });
    return sending;
  }

  function sendDue(force) {
    return Promise.all([store.allOutbox(), store.getUser()]).then(function (found) {
      var entries = found[0], user = found[1];
      // Only the work of whoever is signed in now: on a shared phone another shopper's visit, sent
      // with this session, would be refused as not theirs. It waits for its shopper to sign in again.
      var due = entries.filter(function (e) {
        return !e.rejected && (!e.owner || e.owner === user) && (force || !e.nextTry || e.nextTry <= Date.now());
      });
      return due.reduce(function (chain, entry) {
        return chain.then(function () { return sendEntry(entry); });
      }, Promise.resolve()).then(function () { return store.allOutbox(); });
    });
  }

  function refreshTokens(csrf, user) {
    // A new session (signed in again) has a new CSRF token: give it to the work still waiting, of the
    // shopper signed in (user; every shopper page says who it is).
    return (user ? store.setUser(user) : Promise.resolve()).then(function () {
      return store.allOutbox();
    }).then(function (entries) {
      return entries.reduce(function (chain, entry) {
        if (entry.csrf === csrf || (entry.owner && entry.owner !== user)) return chain;
        entry.csrf = csrf;
        entry.nextTry = 0;
        delete entry.csrfStale;
        if (needsSignIn(entry)) delete entry.lastError;  // signed in again: it waits for nothing now
        return chain.then(function () { return store.putOutbox(entry); });
      }, Promise.resolve());
    });
  }

  function currentUser() {
    // The signed-in shopper of the page (base.html); none in the service worker.
    var meta = global.document && global.document.querySelector('meta[name="audit-user"]');
    return meta ? meta.content : undefined;
  }

  global.AuditStore = store;

  // The pages kept on the phone for offline use (sw.js) are the signed-in account's only, and go when
  // it signs out or another signs in. The page of a visit whose answers are still on the phone (given,
  // not sent) is kept apart for its account first, under its account's name: after a sign-in of the
  // same account it shows them if the visit was withdrawn or given to another shopper meanwhile
  // (shopper.js's "Answers kept on this phone"); it was gone, and the answers with it.
  var PAGES_KEPT = "audit-pages";
  var FILL_PAGE = /^\/visits\/([0-9a-f-]+)\/fill$/;

  function accountOf(html) {
    // Whose a page is (base.html): the account's key (meta audit-account) and id (meta audit-user).
    var key = /<meta name="audit-account" content="([0-9a-f]+)">/.exec(html);
    var id = /<meta name="audit-user" content="([^"]+)">/.exec(html);
    return key && id ? { key: key[1], id: id[1] } : null;
  }

  function keptFor(accountKey) { return "audit-kept-" + accountKey; }

  function isWorked(draft, entry) {
    return Boolean(entry || (draft && draft.updatedAt && !draft.sentAt));
  }

  function keepWorkedPages() {
    // Before the pages kept go: those of visits with answers on the phone, kept for their account.
    return caches.open(PAGES_KEPT).then(function (cache) {
      return cache.keys().then(function (requests) {
        return Promise.all(requests.map(function (request) {
          var match = FILL_PAGE.exec(new URL(request.url).pathname);
          if (!match) return null;
          return cache.match(request).then(function (page) {
            return page.clone().text().then(function (html) {
              var account = accountOf(html);
              if (!account) return null;
              return Promise.all([store.getDraft(match[1], account.id), store.getOutbox(match[1], account.id)]).then(function (work) {
                if (!isWorked(work[0], work[1])) return null;
                return caches.open(keptFor(account.key)).then(function (kept) { return kept.put(request, page); });
              });
            });
          });
        }));
      });
    });
  }

  function dropKeptPages() {
    // Signed out, or another account signed in: its pages go, those with answers kept apart first.
    // Whatever becomes of the keeping, the pages go (never one account's page for another).
    return keepWorkedPages().catch(function () {}).then(function () { return caches.delete(PAGES_KEPT); });
  }

  global.AuditPages = { drop: dropKeptPages, keptFor: keptFor, accountOf: accountOf, isWorked: isWorked };
  function ownEntries(entries) {
    // The entries of the shopper signed in on the page (entries from before owners were kept count too).
    var user = currentUser();
    return entries.filter(function (e) { return !e.owner || e.owner === user; });
  }

  function needsSignIn(entry) {
    // Last refused for the session (it ended: the server no longer knew the shopper, or the token
    // of the session it was queued in), not for the visit: it goes once its shopper signs in again.
    return Boolean(entry.csrfStale || entry.lastError === "signed-out" || entry.lastError === "csrf");
  }

  global.AuditOutbox = {
    send: sendOutbox, announce: announce, refreshTokens: refreshTokens, currentUser: currentUser, own: ownEntries,
    needsSignIn: needsSignIn
  };
})(self);
