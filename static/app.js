// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Offline, a form would end on the browser's own "no internet" page (and signing out would forget
  // the pages kept for offline use without signing out). Say so instead; the fill form keeps its
  // answers on the phone by itself (fill.js).
  function sayOffline() {
    var main = document.querySelector("main");
    var note = document.querySelector("[data-offline-action]");
    if (!note) {
      note = document.createElement("p");
      note.className = "flash flash-error";
      note.setAttribute("role", "alert");
      note.setAttribute("data-offline-action", "");
      main.insertBefore(note, main.firstChild);
    }
    note.textContent = document.body.dataset.msgOffline;
    note.scrollIntoView({ block: "center" });
  }
  window.AuditPage = { sayOffline: sayOffline };  // also for fill.js's checklist language pick

  // Without JavaScript the top bar's language pick on the fill page sends the fill form, whose view
  // saves what was typed before changing the language (base.html). Here the answers are kept on the
  // phone as they are given (fill.js): the pick goes back to the top bar's own form.
  document.querySelectorAll("[data-sends-form]").forEach(function (control) {
    control.removeAttribute("form");
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (navigator.onLine || form.matches(".fill-form")) return;
    event.preventDefault();
    sayOffline();
    if (form.matches(".langform")) {
      // Put the choice back: the page did not change language.
      form.querySelectorAll("select").forEach(function (select) {
        select.value = (select.querySelector("option[selected]") || select.options[0]).value;
      });
    }
  });

  // The item editor shows only the settings of the chosen item type (all of them without JavaScript).
  function showFieldsForType(select) {
    document.querySelectorAll("fieldset[data-for-types]").forEach(function (fieldset) {
      fieldset.hidden = fieldset.dataset.forTypes.split(" ").indexOf(select.value) < 0;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches(".item-form select[name=type]")) {
      showFieldsForType(event.target);
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var typeSelect = document.querySelector(".item-form select[name=type]");
    if (typeSelect) showFieldsForType(typeSelect);
  });

  // A form sent back with mistakes: show the first one (a dashboard's action form is far down the page)
  // and put the cursor in it, so that the keyboard goes on from there and its message is read.
  document.addEventListener("DOMContentLoaded", function () {
    var mistake = document.querySelector(".has-error");
    if (!mistake) return;
    mistake.scrollIntoView({ block: "center" });
    var field = mistake.querySelector("input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])");
    if (field) field.focus({ preventScroll: true });
  });

  // A message a script left for the page it went to (fill.js, once a visit is sent), shown where the
  // server's messages are and read out; it also works on a page the phone kept for offline use.
  document.addEventListener("DOMContentLoaded", function () {
    var text = null;
    try {
      text = sessionStorage.getItem("audit-flash");
      sessionStorage.removeItem("audit-flash");
    } catch (e) { /* no storage: nothing was left */ }
    var main = document.querySelector("main");
    if (!text || !main) return;
    var note = document.createElement("p");
    note.className = "flash flash-success";
    note.setAttribute("role", "status");
    note.tabIndex = -1;
    note.textContent = text;
    main.insertBefore(note, main.firstChild);
    note.focus();
  });

  // Score bars: widths come from data-width, since the page allows no inline styles.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".bar .fill[data-width]").forEach(function (fill) {
      fill.style.width = Math.max(0, Math.min(100, Number(fill.dataset.width))) + "%";
    });
  });

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
        return navigator.serviceWorker.ready;
      }).then(function (registration) {
        // The worker keeps the shopper's pages for offline use in the language they were read in.
        registration.active.postMessage({ type: "language", language: document.documentElement.lang });
      }).catch(function () {
        // No service worker (private mode, old browser): the site still works online.
      });
    });
  }
})();
