// Service worker: the app shell from the cache, the shopper's pages from the network or, offline,
// from the cache, and the outbox sent in the background when the browser offers Background Sync.
// A Jinja template (pwa.service_worker): the shell's URLs carry their files' versions (audit/assets.py),
// and the shell's cache is named after them, so that a deployment brings a new worker with a new cache.
importScripts({{ outbox_url|tojson }});

var SHELL = {{ shell|tojson }};
var PAGES = "audit-pages";
var SHELL_FILES = {{ shell_files|tojson }};
// The page for a page never kept, offline, in each language (templates/pwa/offline.html).
var OFFLINE_PAGES = {{ offline_pages|tojson }};
// The same for a page that only works online: it says to open it again online, not to open the visits.
var ONLINE_ONLY_PAGES = {{ online_only_pages|tojson }};
// The language of the pages last seen (see languageSeen), kept apart from the pages themselves.
var SETTINGS = "audit-settings";
var LANGUAGE_KEY = new URL("/sw/pages-language", self.location.origin).href;

function isVersioned(request) {
  return new URL(request.url, self.location.origin).searchParams.has("v");
}

function keepable(request, response) {
  // During a rolling deployment a process of the old release may answer a new version's URL with the
  // old file; the server marks a file that is the version asked for as immutable (audit/assets.py),
  // and only that may be kept under a versioned URL.
  return response.ok && (!isVersioned(request) || /immutable/.test(response.headers.get("Cache-Control") || ""));
}

self.addEventListener("install", function (event) {
  // Like cache.addAll, but a file that is not the version asked for fails the install: the old worker
  // stays, and the browser tries the new one again at a later page.
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    return Promise.all(SHELL_FILES.map(function (url) {
      var request = new Request(url, { cache: "reload" });
      return fetch(request).then(function (response) {
        if (!keepable(request, response)) throw new Error("not the version asked for: " + url);
        return cache.put(request, response);
      });
    }));
  }).then(function () { return self.skipWaiting(); }, function (error) {
    return caches.delete(SHELL).then(function () { throw error; });
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("audit-shell-") === 0 && name !== SHELL;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function storable(response) {
  // Without Vary: the cached page must match however the offline request is made.
  var headers = new Headers(response.headers);
  headers.delete("Vary");
  return response.blob().then(function (body) {
    return new Response(body, { status: response.status, statusText: response.statusText, headers: headers });
  });
}

var ONLINE_ONLY = ["/account/password"];

function isShopperPage(url) {
  return url.pathname === "/visits/" || /^\/visits\/[0-9a-f-]+\/fill$/.test(url.pathname);
}

function storedPage(request, retries, exactly) {
  // The page kept for this visit (or, unless `exactly`, the list of visits), or null.
  var key = request.url.split("?")[0];
  // The session cookie varies; the page for this signed-in phone is the one stored.
  return pagesDropped.then(function () { return caches.open(PAGES); }).then(function (cache) {
    return cache.match(key, { ignoreVary: true });
  }).then(function (cached) {
    if (cached) return cached;
    if (retries > 0) {
      // A copy being written at this very moment shows up a moment later.
      return new Promise(function (resolve) { setTimeout(resolve, 250); }).then(function () {
        return storedPage(request, retries - 1, exactly);
      });
    }
    // A page never opened online: the list of visits kept for offline use (in the shopper's language,
    // with its offline note) is better than nothing to go on with.
    var list = new URL("/visits/", self.location.origin).href;
    return key === list || exactly ? null : caches.open(PAGES).then(function (cache) { return cache.match(list, { ignoreVary: true }); });
  }).then(function (page) { return page || null; });
}

function pagesLanguage() {
  return caches.open(SETTINGS).then(function (settings) { return settings.match(LANGUAGE_KEY); }).then(function (kept) {
    return kept ? kept.text() : null;
  });
}

function offlinePage(pages) {
  // In the language of the pages last seen, else the phone's first language the app speaks.
  pages = pages || OFFLINE_PAGES;
  return pagesLanguage().catch(function () { return null; }).then(function (language) {
    var phone = Array.prototype.map.call(self.navigator.languages || [], function (tag) {
      return tag.split("-")[0].toLowerCase();
    });
    var chosen = [language].concat(phone).filter(function (tag) { return pages[tag]; })[0] || "en";
    return new Response(pages[chosen], { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
  });
}

function cachedPage(request, retries) {
  return storedPage(request, retries).then(function (page) { return page || offlinePage(); });
}

function networkFirst(request) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var key = request.url.split("?")[0];
      storable(response.clone()).then(function (copy) {
        return caches.open(PAGES).then(function (cache) { return cache.put(key, copy); });
      });
    } else if (response.status >= 500) {
      // The reverse proxy's 502 while the app restarts (a deployment), or the app's own 503: the page
      // kept on the phone lets the shopper go on, as offline; the server's answer only without one.
      return storedPage(request, 0, true).then(function (page) { return page || response; });
    } else if (response.status === 404 && /\/fill$/.test(new URL(request.url).pathname)) {
      // A visit kept on the phone that is no longer the shopper's (withdrawn, or given to another
      // shopper, maybe while it was filled offline): the server's missing page hid the answers the
      // phone still holds, a text typed for ten minutes too. The page kept for it, marked so (fill.js
      // shows the answers to read and copy, and nothing can be changed or sent). Only this account's
      // pages are kept: another account's sign-in drops them. Signed in again since (a sign-out, or
      // another account's sign-in, dropped them): the page kept apart for the account the 404 page
      // names (outbox.js's AuditPages).
      return storedPage(request, 0, true).then(function (page) {
        return page || response.clone().text().then(function (html) { return keptApart(request, html); });
      }).then(function (page) { return page ? markedGone(page) : response; });
    }
    return response;
  }, function () {
    return cachedPage(request, 8);
  });
}

function keptApart(request, html) {
  // Only the signed-in account's own (never another's page, or the answers it shows).
  var account = self.AuditPages.accountOf(html);
  if (!account) return null;
  return caches.open(self.AuditPages.keptFor(account.key)).then(function (cache) {
    return cache.match(request.url.split("?")[0], { ignoreVary: true });
  }).then(function (page) { return page || null; });
}

function markedGone(page) {
  return page.text().then(function (html) {
    var headers = new Headers(page.headers);
    headers.delete("Content-Length");
    return new Response(html.replace("<head>", '<head>\n  <meta name="audit-visit-gone" content="">'),
                        { status: 404, headers: headers });
  });
}

function fromNetwork(request) {
  return fetch(request).then(function (response) {
    if (keepable(request, response)) {
      var copy = response.clone();
      caches.open(SHELL).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  });
}

function cacheFirst(request) {
  // A versioned URL names its content, so what the shell keeps under it stays right without asking
  // again. The manifest (in the user's language) is kept too, and brought up to date in the background.
  return caches.match(request).then(function (cached) {
    if (cached) {
      if (!isVersioned(request)) fromNetwork(request).catch(function () {});
      return cached;
    }
    return fromNetwork(request).catch(function (error) {
      // Offline, a page kept from before a deployment asks for its files' old versions: today's
      // version of the same file is better than a page without its styles and scripts.
      return caches.match(request, { ignoreSearch: true }).then(function (other) {
        if (other) return other;
        throw error;
      });
    });
  });
}

// Set while a sign-in finds out whether the pages kept are another account's (see the fetch handler).
var pagesDropped = Promise.resolve();

function accountKey(email) {
  // As audit/assets.py account_key: SHA-256 of the address, trimmed and in lower case, in hex.
  var bytes = new TextEncoder().encode((email || "").trim().toLowerCase());
  return crypto.subtle.digest("SHA-256", bytes).then(function (digest) {
    return Array.prototype.map.call(new Uint8Array(digest), function (byte) {
      return ("0" + byte.toString(16)).slice(-2);
    }).join("");
  });
}

function keptAccount() {
  // Whose the kept pages are: what any of them says in its meta audit-account (null: nothing kept).
  return caches.open(PAGES).then(function (cache) {
    return cache.keys().then(function (requests) {
      if (!requests.length) return null;
      return cache.match(requests[0]).then(function (page) { return page ? page.text() : ""; }).then(function (html) {
        var found = /<meta name="audit-account" content="([0-9a-f]+)">/.exec(html);
        return found ? found[1] : "";
      });
    });
  });
}

function dropPagesOfAnotherAccount(request) {
  // Someone signs in. The pages kept for another account (on a shared phone, the last shopper's) must
  // never stand in for this one's when the server then fails or the network drops; the same shopper
  // signing in again keeps theirs, to go on offline.
  return Promise.all([request.formData().then(function (form) { return accountKey(form.get("email")); }),
                      keptAccount()]).then(function (accounts) {
    if (accounts[1] !== null && accounts[0] !== accounts[1]) return self.AuditPages.drop();
  }).catch(function () { return self.AuditPages.drop(); });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/login") {
    pagesDropped = dropPagesOfAnotherAccount(request.clone());
    event.waitUntil(pagesDropped);
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.indexOf("/static/") === 0 || url.pathname === "/manifest.webmanifest") {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate" && isShopperPage(url)) {
    event.respondWith(networkFirst(request).catch(function () { return cachedPage(request, 8); }));
  } else if (request.mode === "navigate" && ONLINE_ONLY.indexOf(url.pathname) >= 0) {
    // A page of the shopper's top bar that works only online: offline, the app's page that says so
    // (it was the browser's own error page, outside the app).
    event.respondWith(fetch(request).catch(function () { return offlinePage(ONLINE_ONLY_PAGES); }));
  }
});

function keepPage(cache, path) {
  // The page as the server gives it now, kept for offline use; its path, or null when it could not be.
  // A redirect (the session ended) is not followed: the sign-in page fetched in the background set a
  // new session cookie, and the sign-in form the shopper had open was refused as expired.
  return fetch(path, { credentials: "same-origin", redirect: "manual" }).then(function (response) {
    if (!response.ok || response.redirected) return null;
    return storable(response).then(function (copy) {
      return cache.put(new URL(path, self.location.origin).href, copy);
    }).then(function () { return path; });
  }).catch(function () { return null; });
}

function languageSeen(language) {
  // Every page says its language. Another one than the pages kept were in (the shopper chose it, on
  // whatever page): each kept page is fetched again, or offline the visits would mix languages.
  if (!OFFLINE_PAGES[language]) return Promise.resolve();
  return pagesLanguage().then(function (before) {
    if (before === language) return null;
    return caches.open(SETTINGS).then(function (settings) {
      return settings.put(LANGUAGE_KEY, new Response(language));
    }).then(refreshKeptPages);
  });
}

function refreshKeptPages() {
  return caches.open(PAGES).then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.map(function (kept) { return keepPage(cache, kept.url); }));
    });
  });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "language") {
    event.waitUntil(languageSeen(data.language));
  } else if (data.type === "refresh-pages") {
    // The shopper picked another language for checklists (fill.js): the visits kept are shown in it.
    event.waitUntil(refreshKeptPages());
  } else if (data.type === "cache-pages") {
    // The visits list asks for its fill pages, so that a visit listed once can be filled offline.
    event.waitUntil(caches.open(PAGES).then(function (cache) {
      return Promise.all(data.urls.map(function (path) { return keepPage(cache, path); }));
    }).then(function (stored) {
      // Tell the page which visits can now be opened offline.
      if (event.source) event.source.postMessage({ type: "cached", urls: stored.filter(Boolean) });
    }));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag === "audit-outbox") event.waitUntil(self.AuditOutbox.send(true));
});
