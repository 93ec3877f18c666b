// Small page behaviours (no inline scripts: the CSP forbids them).
(function () {
  "use strict";

  // Toasts leave after 4 s (errors after 8 s); also those added later by hx-swap-oob.
  function scheduleToast(el) {
    if (el.dataset.scheduled) return;
    el.dataset.scheduled = "1";
    var ms = el.classList.contains("toast--error") ? 8000 : 4000;
    setTimeout(function () {
      el.classList.add("is-leaving");
      setTimeout(function () { el.remove(); }, 250);
    }, ms);
  }
  function scanToasts() {
    document.querySelectorAll("#toasts [data-toast]").forEach(scheduleToast);
  }

  // The thin "reconectando…" bar: shown while an SSE stream reconnects or the browser is offline.
  var bar = null;
  function reconnecting(on) {
    bar = bar || document.getElementById("reconnecting");
    if (bar) bar.hidden = !on;
  }
  window.Mostrador = window.Mostrador || {};
  window.Mostrador.reconnecting = reconnecting;

  document.addEventListener("htmx:sseError", function () { reconnecting(true); });
  document.addEventListener("htmx:sseOpen", function () { reconnecting(false); });
  window.addEventListener("offline", function () { reconnecting(true); });
  window.addEventListener("online", function () { reconnecting(false); });

  // Copy buttons: <button data-copy="#input-id" data-copied-label="Copiado">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    var done = function () {
      var original = button.innerHTML;
      button.textContent = button.getAttribute("data-copied-label") || "✓";
      setTimeout(function () { button.innerHTML = original; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { source.select(); });
    } else {
      source.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* selected: the user can copy */ }
    }
  });

  document.addEventListener("DOMContentLoaded", scanToasts);
  document.addEventListener("htmx:afterSettle", scanToasts);
  document.addEventListener("htmx:oobAfterSwap", scanToasts);
})();
