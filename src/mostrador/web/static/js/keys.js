// Keyboard shortcuts (UI.md). Templates opt in with data attributes:
//   [data-nav-list] [data-nav-item]   j / k move, Enter opens (clicks [data-nav-open] inside the item, or the item)
//   [data-composer]                   r focuses it; Ctrl/Cmd+Enter submits its form; Esc leaves it
//   [data-composer-mode="reply|note"] r / n click the matching mode button first
//   [data-action="template|assign|label|resolve|snooze|back"]   t a l e s, and Esc (back)
//   #shortcuts                        the help overlay, toggled by ? ([data-shortcuts-open] / [data-shortcuts-close])
(function () {
  "use strict";

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }
  function visible(el) {
    return !!el && !el.closest("[hidden]") && el.getClientRects().length > 0;
  }
  function first(selector) {
    var all = document.querySelectorAll(selector);
    for (var i = 0; i < all.length; i++) if (visible(all[i])) return all[i];
    return null;
  }
  function click(selector) {
    var el = first(selector);
    if (el) { el.click(); return true; }
    return false;
  }

  // ---- help overlay
  var lastFocus = null;
  function overlay() { return document.getElementById("shortcuts"); }
  function openHelp() {
    var o = overlay();
    if (!o) return;
    lastFocus = document.activeElement;
    o.hidden = false;
    var close = o.querySelector("[data-shortcuts-close]");
    if (close) close.focus();
  }
  function closeHelp() {
    var o = overlay();
    if (!o || o.hidden) return false;
    o.hidden = true;
    if (lastFocus && lastFocus.focus) lastFocus.focus();
    return true;
  }

  // ---- list navigation
  function items() {
    var list = first("[data-nav-list]");
    return list ? Array.prototype.slice.call(list.querySelectorAll("[data-nav-item]")) : [];
  }
  function currentIndex(all) {
    for (var i = 0; i < all.length; i++) {
      if (all[i].classList.contains("is-current") || all[i].getAttribute("aria-selected") === "true") return i;
    }
    var focused = document.activeElement && document.activeElement.closest("[data-nav-item]");
    return focused ? all.indexOf(focused) : -1;
  }
  function move(step) {
    var all = items();
    if (!all.length) return;
    var i = currentIndex(all);
    var next = i < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, i + step));
    all.forEach(function (el) { el.classList.remove("is-current"); el.setAttribute("aria-selected", "false"); });
    var target = all[next];
    target.classList.add("is-current");
    target.setAttribute("aria-selected", "true");
    if (!target.hasAttribute("tabindex") && target.tagName !== "A") target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: "nearest" });
  }
  function openCurrent() {
    var all = items();
    var i = currentIndex(all);
    if (i < 0) return false;
    var link = all[i].querySelector("[data-nav-open]") || all[i];
    link.click();
    return true;
  }

  // ---- composer
  function composer() { return first("[data-composer]"); }
  function focusComposer(mode) {
    if (mode) click('[data-composer-mode="' + mode + '"]');
    var c = composer();
    if (c) { c.focus(); return true; }
    return false;
  }
  function submitComposer(target) {
    var form = target.closest("form");
    if (!form) return false;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
    return true;
  }

  var actions = { t: "template", a: "assign", l: "label", e: "resolve", s: "snooze" };

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.closest && target.closest("[data-composer]")) {
      if (submitComposer(target)) event.preventDefault();
      return;
    }
    if (event.key === "Escape") {
      if (closeHelp()) { event.preventDefault(); return; }
      if (typing(target)) { target.blur(); return; }
      if (click('[data-action="back"]')) { event.preventDefault(); return; }
      var app = document.querySelector("[data-app]");
      if (app) app.classList.remove("is-conversation-open", "is-contact-open", "is-nav-open");
      var all = items();
      var i = currentIndex(all);
      if (i >= 0) all[i].focus();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(target) || event.defaultPrevented) return;
    var handled = true;
    switch (event.key) {
      case "?": openHelp(); break;
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter": handled = !!(target.closest && target.closest("[data-nav-item]")) && openCurrent(); break;
      case "r": handled = focusComposer("reply"); break;
      case "n": handled = focusComposer("note"); break;
      default:
        handled = actions[event.key] ? click('[data-action="' + actions[event.key] + '"]') : false;
    }
    if (handled) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-shortcuts-open]")) { openHelp(); return; }
    if (event.target.closest("[data-shortcuts-close]")) { closeHelp(); return; }
    var o = overlay();
    if (o && !o.hidden && event.target === o) closeHelp();
  });
})();
