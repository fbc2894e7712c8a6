/*
 * Madoguchi page behaviour. Loaded with `defer` from base.html and public_base.html.
 *
 * The Content-Security-Policy allows only same-origin script files (no inline handlers,
 * no eval), so behaviour is declared in the markup with data attributes and wired here:
 *
 *   data-shortcut="Alt+S"      keyboard shortcut: clicks a button/link/summary, focuses
 *                              anything else; a visible <kbd> hint and aria-keyshortcuts
 *                              are added, and the page's shortcut list is built from them.
 *   data-shortcut-label="…"    name shown in the shortcut list (default: element text).
 *   data-shortcut-hint="none"  do not add the visible hint (the template shows one).
 *   data-shortcut-list         element (e.g. a <dl>) that receives the page's shortcut list.
 *   data-confirm="…"           on a form, button or link: ask before going on.
 *   data-once                  on a form: after submit, disable its submit buttons so a
 *                              double click sends one request (typed values stay).
 *   .error-summary             focused on page load and after an htmx swap; its links move
 *                              focus to the field they name.
 *
 * UI strings come from data-i18n-* attributes on <body>, rendered through Django i18n.
 * Everything works without this file too: it only adds convenience and guards.
 */
(function () {
  "use strict";

  var body = document.body;

  function text(name, fallback) {
    var value = body && body.getAttribute("data-i18n-" + name);
    return value || fallback;
  }

  /* ------------------------------------------------------------ live announcements */

  function announce(message) {
    var region = document.getElementById("mdg-live");
    if (!region || !message) {
      return;
    }
    // Clearing first makes a repeated message be read again.
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = message;
    }, 50);
  }

  /* ------------------------------------------------------------ CSRF for htmx */

  // Django reads the token from the X-CSRFToken header; the token is in
  // <meta name="csrf-token"> so no inline script or hx-headers JSON is needed.
  document.addEventListener("htmx:configRequest", function (event) {
    var verb = (event.detail.verb || "get").toLowerCase();
    if (verb === "get" || verb === "head") {
      return;
    }
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      event.detail.headers["X-CSRFToken"] = meta.content;
    }
  });

  /* ------------------------------------------------------------ keyboard shortcuts */

  // "Alt+S", "Alt+Shift+N", "Alt+1". Only Alt combinations: Ctrl and Meta belong to the
  // browser and the screen reader.
  function parseShortcut(spec) {
    var parts = String(spec || "").split("+").map(function (p) {
      return p.trim();
    });
    var key = parts.pop() || "";
    var mods = parts.map(function (p) {
      return p.toLowerCase();
    });
    if (mods.indexOf("alt") === -1 || key.length !== 1 || !/[a-z0-9]/i.test(key)) {
      return null;
    }
    return {
      shift: mods.indexOf("shift") !== -1,
      // event.code is layout-position based and unaffected by Option on macOS.
      code: /[0-9]/.test(key) ? "Digit" + key : "Key" + key.toUpperCase(),
      label: (mods.indexOf("shift") !== -1 ? "Alt+Shift+" : "Alt+") + key.toUpperCase(),
    };
  }

  function isVisible(el) {
    return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  }

  function isActivatable(el) {
    var tag = el.tagName.toLowerCase();
    if (tag === "a" || tag === "summary") {
      return true;
    }
    if (tag === "button") {
      return true;
    }
    return tag === "input" && /^(submit|button|reset)$/i.test(el.type);
  }

  var FOCUSABLE =
    'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), ' +
    'select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

  function shortcutLabel(el) {
    var explicit = el.getAttribute("data-shortcut-label");
    if (explicit) {
      return explicit;
    }
    var aria = el.getAttribute("aria-label");
    if (aria) {
      return aria;
    }
    if (el.labels && el.labels.length) {
      return labelText(el.labels[0]);
    }
    return labelText(el);
  }

  function labelText(node) {
    var clone = node.cloneNode(true);
    Array.prototype.forEach.call(
      clone.querySelectorAll(".kbd-hint, .required-mark, .optional-mark, .visually-hidden, .count-badge"),
      function (n) {
        n.remove();
      }
    );
    return (clone.textContent || "").replace(/\s+/g, " ").trim();
  }

  function decorateShortcuts(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var els = Array.prototype.slice.call(scope.querySelectorAll("[data-shortcut]"));
    if (scope.matches && scope.matches("[data-shortcut]")) {
      els.unshift(scope);
    }
    els.forEach(function (el) {
      var sc = parseShortcut(el.getAttribute("data-shortcut"));
      if (!sc || el.getAttribute("data-shortcut-ready") === "1") {
        return;
      }
      el.setAttribute("data-shortcut-ready", "1");
      el.setAttribute("aria-keyshortcuts", sc.label);
      if (el.getAttribute("data-shortcut-hint") === "none") {
        return;
      }
      var host = el;
      if (!isActivatable(el) && el.labels && el.labels.length) {
        host = el.labels[0];
      }
      if (host.querySelector(".kbd-hint")) {
        return;
      }
      var hint = document.createElement("kbd");
      hint.className = "kbd-hint";
      // Announced through aria-keyshortcuts; the hint is for sighted keyboard users.
      hint.setAttribute("aria-hidden", "true");
      hint.textContent = sc.label;
      if (host.tagName.toLowerCase() === "input") {
        host.insertAdjacentElement("afterend", hint);
      } else {
        host.appendChild(document.createTextNode(" "));
        host.appendChild(hint);
      }
    });
    buildShortcutList();
  }

  function buildShortcutList() {
    var lists = document.querySelectorAll("[data-shortcut-list]");
    if (!lists.length) {
      return;
    }
    var seen = {};
    var rows = [];
    Array.prototype.forEach.call(document.querySelectorAll("[data-shortcut]"), function (el) {
      var sc = parseShortcut(el.getAttribute("data-shortcut"));
      if (!sc || seen[sc.label]) {
        return;
      }
      seen[sc.label] = true;
      rows.push([sc.label, shortcutLabel(el)]);
    });
    Array.prototype.forEach.call(lists, function (list) {
      list.textContent = "";
      rows.forEach(function (row) {
        var dt = document.createElement("dt");
        var kbd = document.createElement("kbd");
        kbd.className = "key";
        kbd.textContent = row[0];
        dt.appendChild(kbd);
        var dd = document.createElement("dd");
        dd.textContent = row[1];
        list.appendChild(dt);
        list.appendChild(dd);
      });
      // The surrounding <details> (or other container) stays hidden on pages without any.
      var container = list.closest("[data-shortcut-help]");
      if (container) {
        container.hidden = rows.length === 0;
      }
    });
  }

  function findShortcutTarget(event) {
    var candidates = document.querySelectorAll("[data-shortcut]");
    for (var i = 0; i < candidates.length; i += 1) {
      var el = candidates[i];
      var sc = parseShortcut(el.getAttribute("data-shortcut"));
      if (sc && sc.code === event.code && sc.shift === event.shiftKey && isVisible(el)) {
        if (el.disabled || el.getAttribute("aria-disabled") === "true") {
          continue;
        }
        return el;
      }
    }
    return null;
  }

  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey || event.repeat || event.isComposing) {
      return;
    }
    var el = findShortcutTarget(event);
    if (!el) {
      return;
    }
    event.preventDefault();
    if (isActivatable(el)) {
      announce(shortcutLabel(el));
      el.click();
      return;
    }
    var target = el;
    if (!el.matches(FOCUSABLE) && el.tabIndex < 0) {
      // A panel or region: focus its first field, or the region itself.
      target = el.querySelector(FOCUSABLE);
      if (!target) {
        if (!el.hasAttribute("tabindex")) {
          el.setAttribute("tabindex", "-1");
        }
        target = el;
      }
    }
    target.focus();
    if (typeof target.select === "function" && target.tagName.toLowerCase() === "input") {
      target.select();
    }
  });

  /* ------------------------------------------------------------ confirm */

  // A click on a button or link with data-confirm asks first; the form's own data-confirm is
  // then skipped for that submission so the user is asked once.
  var confirmedSubmitter = null;

  document.addEventListener(
    "click",
    function (event) {
      var el = event.target.closest && event.target.closest("[data-confirm]");
      if (!el || el.tagName.toLowerCase() === "form") {
        return;
      }
      if (!window.confirm(el.getAttribute("data-confirm"))) {
        event.preventDefault();
        event.stopImmediatePropagation();
        return;
      }
      confirmedSubmitter = el;
    },
    true
  );

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var submitter = event.submitter || null;
      var alreadyAsked = submitter && submitter === confirmedSubmitter;
      confirmedSubmitter = null;
      if (form.hasAttribute("data-confirm") && !alreadyAsked) {
        if (!window.confirm(form.getAttribute("data-confirm"))) {
          event.preventDefault();
          event.stopImmediatePropagation();
        }
      }
    },
    true
  );

  /* ------------------------------------------------------------ submit once */

  // Runs in the bubble phase, after the confirm check and after htmx: a submission that was
  // cancelled or taken over by htmx (defaultPrevented) is left alone; htmx forms use
  // hx-disabled-elt instead. Only buttons are disabled, never fields: disabled fields are
  // not submitted, and the user must find what they typed if the request fails.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-once")) {
      return;
    }
    if (form.getAttribute("data-submitting") === "1") {
      event.preventDefault();
      return;
    }
    if (event.defaultPrevented) {
      return;
    }
    form.setAttribute("data-submitting", "1");
    form.setAttribute("aria-busy", "true");
    var buttons = form.querySelectorAll('button:not([type="button"]):not([type="reset"]), input[type="submit"]');
    var ownButtons = form.id
      ? document.querySelectorAll('button[form="' + form.id + '"], input[type="submit"][form="' + form.id + '"]')
      : [];
    // Disabling inside the submit event would drop the submitter's name/value from the
    // request (disabled controls are not submitted), so wait one task.
    window.setTimeout(function () {
      Array.prototype.forEach.call(buttons, disableButton);
      Array.prototype.forEach.call(ownButtons, disableButton);
    }, 0);
    announce(text("submitting", "送信しています"));
    // If the response never comes (network failure), let the user try again.
    window.setTimeout(function () {
      releaseForm(form);
    }, 20000);
  });

  function disableButton(button) {
    button.disabled = true;
    button.classList.add("is-submitting");
  }

  function releaseForm(form) {
    form.removeAttribute("data-submitting");
    form.removeAttribute("aria-busy");
    Array.prototype.forEach.call(form.querySelectorAll(".is-submitting"), function (button) {
      button.disabled = false;
      button.classList.remove("is-submitting");
    });
    if (form.id) {
      Array.prototype.forEach.call(document.querySelectorAll('[form="' + form.id + '"].is-submitting'), function (b) {
        b.disabled = false;
        b.classList.remove("is-submitting");
      });
    }
  }

  // Back/forward cache restores the page as it was, buttons disabled; undo that.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      Array.prototype.forEach.call(document.querySelectorAll("form[data-once]"), releaseForm);
    }
  });

  /* ------------------------------------------------------------ error summary */

  function focusErrorSummary(root) {
    var scope = root && root.querySelector ? root : document;
    var summary = scope.querySelector(".error-summary");
    if (!summary) {
      return false;
    }
    if (!summary.hasAttribute("tabindex")) {
      summary.setAttribute("tabindex", "-1");
    }
    summary.focus();
    return true;
  }

  // A link in the summary points at the field's id. Following a fragment only scrolls, so
  // move focus to the field and bring its label or legend into view as well.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    if (!link) {
      return;
    }
    var id = decodeURIComponent(link.getAttribute("href").slice(1));
    var input = document.getElementById(id);
    if (!input) {
      return;
    }
    event.preventDefault();
    var anchor = input.closest("fieldset") || input.closest(".field") || input;
    anchor.scrollIntoView();
    input.focus({ preventScroll: true });
  });

  /* ------------------------------------------------------------ start */

  function start() {
    decorateShortcuts(document);
    focusErrorSummary(document);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }

  // htmx: decorate swapped-in content and focus a returned error summary.
  // Only a summary inside the swapped content takes focus: a panel refreshed while the
  // operator types must not pull focus back to an older summary elsewhere on the page.
  document.addEventListener("htmx:afterSettle", function (event) {
    decorateShortcuts(document);
    var root = event.detail && event.detail.target;
    if (!root || !document.contains(root)) {
      root = event.target;
    }
    if (root && root.querySelector && root.querySelector(".error-summary")) {
      focusErrorSummary(root);
    }
  });

  window.Madoguchi = { announce: announce };
})();
