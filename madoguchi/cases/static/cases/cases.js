// Case screens: Ctrl+Enter saves, "insert" copies a standard answer into the response, and
// the call screen shows the identified household's earlier cases. Alt shortcuts are
// handled by madoguchi.js (data-shortcut). No inline script (CSP).
(function () {
  "use strict";

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      var form = event.target && event.target.form;
      if (form && form.requestSubmit) {
        event.preventDefault();
        form.requestSubmit();
      }
    }
  });

  function responseField() {
    return document.querySelector('#case-form textarea[name="response"], #case-edit-form textarea[name="response"]');
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-insert-answer]") : null;
    if (!button) return;
    var field = responseField();
    if (!field) return;
    var text = button.getAttribute("data-insert-answer");
    field.value = field.value ? field.value + "\n" + text : text;
    field.focus();
    if (window.Madoguchi && window.Madoguchi.announce) window.Madoguchi.announce("回答例を挿入しました");
  });

  // The identify panel fills input[name=household][form=case-form]; when it changes, show
  // that household's earlier cases (a caller who calls again is recognised).
  var earlier = document.getElementById("earlier-cases");
  if (!earlier) return;
  var lastHousehold = null;
  function refreshEarlier() {
    var input = document.querySelector('input[name="household"][form="case-form"]');
    var value = input ? input.value : "";
    if (value === lastHousehold) return;
    var first = lastHousehold === null;
    lastHousehold = value;
    if (!value) {
      if (!first) earlier.innerHTML = "";
      return;
    }
    var url = earlier.getAttribute("data-earlier-url").replace("00000000-0000-0000-0000-000000000000", encodeURIComponent(value));
    fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.text() : "";
    }).then(function (html) {
      earlier.innerHTML = html;
    });
  }
  document.addEventListener("change", refreshEarlier);
  document.addEventListener("htmx:afterSettle", refreshEarlier);
  document.addEventListener("identify:confirmed", refreshEarlier);
  window.setInterval(refreshEarlier, 1500);
  refreshEarlier();
})();
