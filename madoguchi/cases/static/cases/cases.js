// Case screens: keyboard shortcuts (data-shortcut), the standard-answer search, and the
// identified household's earlier cases on the call screen. No inline script (CSP).
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function keyName(event) {
    var parts = [];
    if (event.ctrlKey || event.metaKey) parts.push("Ctrl");
    if (event.altKey) parts.push("Alt");
    if (event.shiftKey) parts.push("Shift");
    var key = event.key === "Enter" ? "Enter" : (event.code && event.code.indexOf("Key") === 0 ? event.code.slice(3) : event.key);
    parts.push(key.length === 1 ? key.toUpperCase() : key);
    return parts.join("+");
  }

  document.addEventListener("keydown", function (event) {
    var name = keyName(event);
    if (name === "Ctrl+Enter") {
      var form = event.target && event.target.form;
      if (form) {
        event.preventDefault();
        form.requestSubmit();
      }
      return;
    }
    var target = document.querySelector('[data-shortcut-target="' + name + '"] textarea, [data-shortcut-target="' + name + '"] input');
    var element = target || document.querySelector('[data-shortcut="' + name + '"]');
    if (!element) return;
    event.preventDefault();
    if (element.tagName === "BUTTON" && !target) {
      element.click();
    } else {
      element.focus();
    }
  });

  function responseField() {
    return document.querySelector('#case-form textarea[name="response"], #case-edit-form textarea[name="response"]');
  }

  function searchAnswers() {
    var box = document.querySelector("[data-answer-search-url]");
    var results = document.getElementById("answer-results");
    if (!box || !results) return;
    var body = new URLSearchParams();
    body.set("q", document.getElementById("answer-q").value);
    var category = document.querySelector('#case-form select[name="category"], #case-edit-form select[name="category"]');
    if (category && category.value) body.set("category", category.value);
    fetch(box.getAttribute("data-answer-search-url"), {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
      credentials: "same-origin"
    }).then(function (response) {
      return response.ok ? response.text() : "";
    }).then(function (html) {
      results.innerHTML = html;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-insert-answer]") : null;
    if (button) {
      var field = responseField();
      if (field) {
        var text = button.getAttribute("data-insert-answer");
        field.value = field.value ? field.value + "\n" + text : text;
        field.focus();
      }
      return;
    }
    if (event.target.id === "answer-search-button") searchAnswers();
  });

  document.addEventListener("keydown", function (event) {
    if (event.target && event.target.id === "answer-q" && event.key === "Enter") {
      event.preventDefault();
      searchAnswers();
    }
  });

  // The identify panel fills input[name=household][form=case-form]; show that household's
  // earlier cases when it changes (a caller who calls again is recognised).
  var earlier = document.getElementById("earlier-cases");
  var lastHousehold = "";
  function refreshEarlier() {
    var input = document.querySelector('input[name="household"][form="case-form"]');
    if (!earlier || !input) return;
    var value = input.value;
    if (value === lastHousehold) return;
    lastHousehold = value;
    if (!value) {
      earlier.innerHTML = "";
      return;
    }
    var url = earlier.getAttribute("data-earlier-url").replace("00000000-0000-0000-0000-000000000000", encodeURIComponent(value));
    fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.text() : "";
    }).then(function (html) {
      earlier.innerHTML = html;
    });
  }
  if (earlier) {
    document.addEventListener("change", refreshEarlier);
    document.addEventListener("input", refreshEarlier);
    document.addEventListener("identify:confirmed", refreshEarlier);
    new MutationObserver(refreshEarlier).observe(document.body, { subtree: true, attributes: true, attributeFilter: ["value"] });
    window.setInterval(refreshEarlier, 1000);
  }
})();
