// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // The language switcher applies the choice at once when JavaScript runs.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("select[data-autosubmit]")) {
      select.form.submit();
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

  // Score bars: widths come from data-width, since the page allows no inline styles.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".bar .fill[data-width]").forEach(function (fill) {
      fill.style.width = Math.max(0, Math.min(100, Number(fill.dataset.width))) + "%";
    });
  });

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {
        // No service worker (private mode, old browser): the site still works online.
      });
    });
  }
})();
