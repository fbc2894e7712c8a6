/*
 * The public inquiry form's date helper: as the resident types a date of birth, show the
 * same day in the other calendar under the field (西暦 2020-05-03 → 令和2年5月3日, and back).
 * The server parses every notation itself (madoguchi.lib.dates); this is only a reading aid,
 * so anything it does not understand simply shows nothing. No inline script (CSP).
 *
 * On the confirmation (the answer to the form's POST), it puts the page's own address,
 * confirm/, in the address bar: a reload then asks for confirm/ instead of posting the form.
 */
(function () {
  "use strict";

  var ERAS = [
    { name: "令和", letter: "R", start: [2019, 5, 1] },
    { name: "平成", letter: "H", start: [1989, 1, 8] },
    { name: "昭和", letter: "S", start: [1926, 12, 25] },
    { name: "大正", letter: "T", start: [1912, 7, 30] },
    { name: "明治", letter: "M", start: [1868, 10, 23] },
  ];

  function canonical(text) {
    var value = (text || "").normalize("NFKC").toUpperCase();
    // Every dash-like character a phone or date may carry becomes "-".
    value = value.replace(/[\u2010-\u2015\u2212\u30FC\uFF70\uFE63\uFF0D]/g, "-");
    return value.replace(/\s+/g, "").replace(/生まれ$|生$/, "");
  }

  function isRealDate(y, m, d) {
    if (m < 1 || m > 12 || d < 1 || y < 1868 || y > 9999) {
      return false;
    }
    var date = new Date(Date.UTC(y, m - 1, d));
    return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
  }

  function compare(a, b) {
    for (var i = 0; i < 3; i += 1) {
      if (a[i] !== b[i]) {
        return a[i] < b[i] ? -1 : 1;
      }
    }
    return 0;
  }

  function eraOf(y, m, d) {
    for (var i = 0; i < ERAS.length; i += 1) {
      if (compare([y, m, d], ERAS[i].start) >= 0) {
        return ERAS[i];
      }
    }
    return null;
  }

  function toWareki(y, m, d) {
    var era = eraOf(y, m, d);
    if (!era) {
      return "";
    }
    var year = y - era.start[0] + 1;
    return era.name + (year === 1 ? "元" : String(year)) + "年" + m + "月" + d + "日";
  }

  // Returns {kind: "western"|"era", y, m, d} or null.
  function parse(text) {
    var v = canonical(text);
    var match = v.match(/^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/) ||
      v.match(/^(\d{4})年(\d{1,2})月(\d{1,2})日?$/) ||
      v.match(/^(\d{4})(\d{2})(\d{2})$/);
    if (match) {
      return { kind: "western", y: +match[1], m: +match[2], d: +match[3] };
    }
    match = v.match(/^(明治|大正|昭和|平成|令和|[MTSHR])(\d{1,2}|元)[年.\-/](\d{1,2})[月.\-/](\d{1,2})日?$/) ||
      v.match(/^([MTSHR])(\d{2})(\d{2})(\d{2})$/);
    if (match) {
      var era = null;
      for (var i = 0; i < ERAS.length; i += 1) {
        if (ERAS[i].name === match[1] || ERAS[i].letter === match[1]) {
          era = ERAS[i];
        }
      }
      var eraYear = match[2] === "元" ? 1 : +match[2];
      return { kind: "era", y: era.start[0] + eraYear - 1, m: +match[3], d: +match[4] };
    }
    return null;
  }

  function describe(input, output) {
    var parsed = parse(input.value);
    if (!parsed) {
      output.textContent = "";
      return;
    }
    if (!isRealDate(parsed.y, parsed.m, parsed.d)) {
      output.textContent = output.getAttribute("data-label-invalid") || "";
      return;
    }
    if (parsed.kind === "western") {
      var wareki = toWareki(parsed.y, parsed.m, parsed.d);
      output.textContent = wareki ? (output.getAttribute("data-label-era") || "") + ": " + wareki : "";
    } else {
      output.textContent =
        (output.getAttribute("data-label-western") || "") + ": " + parsed.y + "年" + parsed.m + "月" + parsed.d + "日";
    }
  }

  // The language switch in the header is its own form (set_language). On the input page it
  // would drop what the resident has typed, so it sends the inquiry form instead, with the
  // language asked for: the server keeps the typed values as the draft and shows the form
  // again in the other language (madoguchi.public.views.inquiry_form).
  function keepDraftOnLanguageSwitch() {
    var inquiry = document.querySelector("form[data-inquiry-form]");
    var switcher = document.querySelector("form.language-switch");
    if (!inquiry || !switcher) {
      return;
    }
    switcher.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || !button.value) {
        return;
      }
      event.preventDefault();
      var field = document.createElement("input");
      field.type = "hidden";
      field.name = "switch_language";
      field.value = button.value;
      inquiry.appendChild(field);
      inquiry.submit();
    });
  }

  // The confirmation answers the form's POST, so the browser's address is the form's and a
  // reload would post the form again (the browser first asks whether to resend it). The page
  // names its own address (link rel=canonical: confirm/, which renders the same page from the
  // session's draft); replacing the address with it makes a reload, or a return to this page
  // from the receipt, a plain GET of confirm/. Nothing is added to the history.
  function showOwnAddress() {
    var own = document.querySelector('link[rel="canonical"]');
    if (!own || !window.history || typeof window.history.replaceState !== "function") {
      return;
    }
    var target = new URL(own.href, window.location.href);
    if (target.origin === window.location.origin && target.pathname !== window.location.pathname) {
      window.history.replaceState(null, "", target.pathname);
    }
  }

  function init() {
    keepDraftOnLanguageSwitch();
    var outputs = document.querySelectorAll(".era-helper[data-for]");
    Array.prototype.forEach.call(outputs, function (output) {
      var input = document.getElementById(output.getAttribute("data-for"));
      if (!input) {
        return;
      }
      var update = function () {
        describe(input, output);
      };
      input.addEventListener("input", update);
      update();
    });
  }

  showOwnAddress();
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
