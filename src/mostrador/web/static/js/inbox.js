// The inbox's live behaviour (no inline scripts: the CSP forbids them).
//  - realtime: SSE events ("sse:rt" on #realtime) refresh the list rows, the open conversation and the contact
//    panel in place;
//  - the thread: scroll to the newest, load older history near the top, dedupe by message id;
//  - the composer: modes (reply / note / template), reply-to, canned responses, typing signal, an attached file
//    (posted to the form's data-attach-url, with the text as its caption), the emoji picker.
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function csrf() { var m = $('meta[name="csrf-token"]'); return m ? m.content : ""; }
  function app() { return $("[data-app]"); }
  function myId() { var a = app(); return a ? a.getAttribute("data-user-id") : ""; }
  function openConversation() { return $("#conversation .conv[data-conversation-id]"); }
  function openId() { var c = openConversation(); return c ? c.getAttribute("data-conversation-id") : null; }
  function scroller() { return $("#thread-scroll"); }
  function thread() { return $("#messages"); }

  function fragment(html) {
    var t = document.createElement("template");
    t.innerHTML = html;
    return t.content;
  }
  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } }).then(function (r) {
      if (r.redirected && /\/login/.test(r.url)) { window.location.reload(); return null; }
      return r.ok ? r.text() : null;
    });
  }
  function activate(el) { if (window.htmx) window.htmx.process(el); }

  // ------------------------------------------------------------------ thread
  function nearBottom() {
    var s = scroller();
    return !s || s.scrollHeight - s.scrollTop - s.clientHeight < 120;
  }
  function toBottom() { var s = scroller(); if (s) s.scrollTop = s.scrollHeight; }
  function newestId() {
    var ids = Array.prototype.map.call(document.querySelectorAll("#messages [data-message-id]"), function (el) {
      return parseInt(el.getAttribute("data-message-id"), 10) || 0;
    });
    var conv = openConversation();
    var initial = conv ? parseInt(conv.getAttribute("data-newest-id"), 10) || 0 : 0;
    return Math.max.apply(null, ids.concat([initial]));
  }

  // Insert or replace bubbles by id: the same message may come from several refreshes.
  function upsertMessages(html) {
    var box = thread();
    if (!box || !html) return;
    var stick = nearBottom();
    var nodes = Array.prototype.filter.call(fragment(html).children, function (el) {
      return el.hasAttribute("data-message-id");
    });
    var appended = false;
    nodes.forEach(function (node) {
      var existing = document.getElementById(node.id);
      if (existing) {
        existing.replaceWith(node);
        activate(node);
      } else if (!node.hasAttribute("data-replace-only")) {
        var empty = box.querySelector("[data-thread-empty]");
        if (empty) empty.remove();
        box.appendChild(node);
        activate(node);
        appended = true;
      }
    });
    if (appended && stick) toBottom();
  }

  var threadBusy = false, threadAgain = false;
  function refreshThread() {
    var id = openId();
    if (!id) return;
    if (threadBusy) { threadAgain = true; return; }
    threadBusy = true;
    get("/conversations/" + id + "/messages?after=" + newestId()).then(function (html) {
      if (id === openId()) upsertMessages(html);
    }).finally(function () {
      threadBusy = false;
      if (threadAgain) { threadAgain = false; refreshThread(); }
    });
  }
  function refreshMessage(messageId) {
    var id = openId();
    if (!id) return;
    get("/conversations/" + id + "/messages/" + messageId).then(function (html) {
      if (id === openId()) upsertMessages(html);
    });
  }
  function refreshPart(path, selector) {
    var id = openId();
    if (!id) return;
    get("/conversations/" + id + "/" + path).then(function (html) {
      var current = $(selector);
      if (!html || id !== openId() || !current) return;
      var node = fragment(html).firstElementChild;
      if (!node) return;
      current.replaceWith(node);
      activate(node);
    });
  }

  // ------------------------------------------------------------------ list
  function listBox() { return $("#conversation-rows"); }
  function listQuery() { var l = listBox(); return l ? l.getAttribute("data-list-query") || "" : ""; }
  var rowTimers = {};
  function refreshRow(conversationId) {
    clearTimeout(rowTimers[conversationId]);
    rowTimers[conversationId] = setTimeout(function () {
      var list = listBox();
      if (!list) return;
      get("/inbox/row/" + conversationId + "?" + listQuery()).then(function (html) {
        if (html === null) return;
        var existing = document.getElementById("row-" + conversationId);
        var node = fragment(html).querySelector("[data-nav-item]");
        if (!node) { if (existing) existing.remove(); return; }
        if (String(conversationId) === openId()) {
          node.classList.add("is-current");
          node.setAttribute("aria-selected", "true");
        }
        var moved = !existing || existing.getAttribute("data-activity") !== node.getAttribute("data-activity");
        if (existing && !moved) {
          existing.replaceWith(node);
        } else {
          if (!existing && list.hasAttribute("data-search")) return;  // search results: only refresh what is there
          if (existing) existing.remove();
          var empty = list.querySelector("[data-list-empty]");
          if (empty) empty.remove();
          list.insertBefore(node, list.firstElementChild);
          node.classList.add("is-new");
        }
        activate(node);
      });
    }, 60);
  }
  function refreshList() {
    var list = listBox();
    if (!list) return;
    get("/inbox/rows?" + listQuery()).then(function (html) {
      if (html === null) return;
      list.innerHTML = html;
      markCurrent();
      activate(list);
    });
  }
  function markCurrent() {
    var id = openId();
    document.querySelectorAll("#conversation-rows [data-nav-item]").forEach(function (row) {
      var on = row.getAttribute("data-conversation-id") === id;
      row.classList.toggle("is-current", on);
      row.setAttribute("aria-selected", on ? "true" : "false");
    });
  }

  // ------------------------------------------------------------------ typing indicator
  var typingTimer = null;
  function showTyping(name, ttl) {
    var el = $("#typing");
    if (!el) return;
    el.textContent = (el.getAttribute("data-typing-template") || "%(name)s…").replace("%(name)s", name);
    el.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { el.hidden = true; }, (ttl || 6) * 1000);
  }
  var lastTypingSent = 0;
  function sendTyping() {
    var id = openId();
    var now = Date.now();
    if (!id || now - lastTypingSent < 3000) return;
    lastTypingSent = now;
    fetch("/conversations/" + id + "/typing", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf(), "HX-Request": "true" }
    }).catch(function () { /* best effort */ });
  }

  // ------------------------------------------------------------------ realtime events
  function onEvent(data) {
    var cid = data.conversation_id ? String(data.conversation_id) : null;
    var open = openId();
    if (data.type === "typing") {
      if (cid && cid === open && String(data.user_id) !== myId()) showTyping(data.name || "", data.ttl);
      return;
    }
    if (data.type === "contact.updated") { onContact(data); return; }
    if (cid) refreshRow(cid);
    if (!cid || cid !== open) return;
    if (data.type === "message.created") {
      refreshThread();
      var composer = $("#composer");
      if (data.direction === "inbound" && composer && composer.getAttribute("data-window") === "closed") {
        refreshPart("composer", "#composer");
        refreshPart("header", "#conversation-header");
      }
      if (data.direction === "inbound") { var t = $("#typing"); if (t) t.hidden = true; }
    } else if (data.type === "message.status" || data.type === "message.updated") {
      if (data.message_id && document.getElementById("m-" + data.message_id)) refreshMessage(data.message_id);
      else refreshThread();
    } else if (data.type === "conversation.updated" && data.what !== "read") {
      refreshHeader();
    }
  }
  function editingIn(el) {
    var active = document.activeElement;
    return !!(el && active && el.contains(active) && /^(SELECT|INPUT|TEXTAREA)$/.test(active.tagName));
  }
  function refreshHeader() {
    var header = $("#conversation-header");
    if (!editingIn(header) && !(header && header.querySelector("details[open]"))) refreshPart("header", "#conversation-header");
  }

  // ------------------------------------------------------------------ contact panel
  // A colleague (or the API) changed a contact: its rows, and the panel and header if it is the open one. Never
  // under the agent's cursor: while they edit the panel the refresh waits until focus leaves it. A panel that
  // already shows this version (the agent who saved it, with its "saved" note) is left alone.
  function panel() { return $("#contact-details"); }
  var contactLater = false;
  function refreshContact() {
    var id = openId();
    contactLater = editingIn(panel());
    if (!id || contactLater) return;
    get("/conversations/" + id + "/contact").then(function (html) {
      var current = panel(), node = html && fragment(html).firstElementChild;
      if (!node || !current || id !== openId() || editingIn(current)) return;
      if (node.getAttribute("data-contact-version") === current.getAttribute("data-contact-version")) return;
      current.replaceWith(node);
      activate(node);
    });
  }
  function onContact(data) {
    var contactId = String(data.contact_id);
    document.querySelectorAll('#conversation-rows [data-contact-id="' + contactId + '"]').forEach(function (row) {
      refreshRow(row.getAttribute("data-conversation-id"));
    });
    var p = panel();
    if (!p || p.getAttribute("data-contact-id") !== contactId) return;
    if (p.getAttribute("data-contact-version") === data.version) return;
    refreshContact();
    refreshHeader();
  }
  document.addEventListener("focusout", function (event) {
    var p = panel();
    if (contactLater && p && !p.contains(event.relatedTarget)) setTimeout(refreshContact, 0);
  });

  var everOpen = false, lostStream = false;
  document.addEventListener("sse:rt", function (event) {
    var raw = event.detail && event.detail.data;
    if (!raw) return;
    try { onEvent(JSON.parse(raw)); } catch (e) { /* ignore malformed events */ }
  });
  document.addEventListener("sse:reconnect", function () { lostStream = true; });
  document.addEventListener("htmx:sseError", function () { if (everOpen) lostStream = true; });
  document.addEventListener("htmx:sseOpen", function () {
    // After a gap, catch up on what happened while the stream was down. The first opening too: whatever
    // happened between rendering this page and subscribing (a message processed meanwhile) had no stream.
    if (lostStream) { refreshList(); refreshThread(); refreshContact(); }
    else if (!everOpen) { refreshList(); refreshThread(); }
    everOpen = true;
    lostStream = false;
  });

  // ------------------------------------------------------------------ older history
  function maybeLoadOlder() {
    var s = scroller();
    if (!s || s.scrollTop > 150) return;
    var loader = $("#messages [data-older]");
    if (loader && !loader.classList.contains("htmx-request") && window.htmx) window.htmx.trigger(loader, "load-older");
  }
  document.addEventListener("scroll", function (event) {
    if (event.target && event.target.id === "thread-scroll") maybeLoadOlder();
  }, true);

  // ------------------------------------------------------------------ composer
  function composer() { return $("#composer"); }
  function setMode(mode) {
    var form = composer();
    if (!form) return;
    var button = form.querySelector('[data-composer-mode="' + mode + '"]');
    if (!button || button.disabled) return;
    form.setAttribute("data-mode", mode);
    form.classList.remove("composer--reply", "composer--note", "composer--template");
    form.classList.add("composer--" + mode);
    form.querySelectorAll("[data-composer-mode]").forEach(function (b) {
      b.setAttribute("aria-pressed", b === button ? "true" : "false");
    });
    var input = form.querySelector("[data-composer-mode-input]");
    if (input && mode !== "template") input.value = mode;
    var text = form.querySelector('[data-composer-section="text"]');
    var tpl = form.querySelector('[data-composer-section="template"]');
    if (text) text.hidden = mode === "template";
    if (tpl) tpl.hidden = mode !== "template";
    var area = form.querySelector("[data-composer]");
    if (area) area.placeholder = form.getAttribute("data-placeholder-" + (mode === "note" ? "note" : "reply")) || "";
    var attach = form.querySelector("[data-attach]");
    if (attach) attach.hidden = mode !== "reply";
    if (mode !== "reply") clearAttachment();
    var sendReply = form.querySelector("[data-send-label-reply]");
    var sendNote = form.querySelector("[data-send-label-note]");
    if (sendReply) sendReply.hidden = mode === "note";
    if (sendNote) sendNote.hidden = mode !== "note";
    if (mode === "template") {
      var select = form.querySelector("[data-template-select]");
      if (select) select.focus();
    }
  }
  // ------------------------------------------------------------------ attached file
  function attachedFile() {
    var form = composer();
    var input = form && form.querySelector("[data-attach-input]");
    return input && input.files && input.files.length ? input.files[0] : null;
  }
  function humanSize(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return Math.round(bytes / 1024) + " KB";
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }
  function showAttachment() {
    var form = composer();
    if (!form) return;
    var file = attachedFile();
    var chip = form.querySelector("[data-attachment]");
    var area = form.querySelector("[data-composer]");
    if (chip) {
      chip.hidden = !file;
      var name = chip.querySelector("[data-attachment-name]");
      var size = chip.querySelector("[data-attachment-size]");
      if (name) name.textContent = file ? file.name : "";
      if (size) size.textContent = file ? humanSize(file.size) : "";
    }
    if (area) {
      var key = file ? "data-placeholder-caption" : "data-placeholder-" + (form.getAttribute("data-mode") === "note" ? "note" : "reply");
      area.placeholder = form.getAttribute(key) || "";
      area.focus();
    }
  }
  function clearAttachment() {
    var form = composer();
    var input = form && form.querySelector("[data-attach-input]");
    if (!input || !input.value) return;
    input.value = "";
    showAttachment();
  }
  // A reply with a file goes to the attachments route (multipart); the text becomes the caption.
  document.addEventListener("htmx:configRequest", function (event) {
    var form = composer();
    if (!form || event.detail.elt !== form || form.getAttribute("data-mode") !== "reply" || !attachedFile()) return;
    event.detail.path = form.getAttribute("data-attach-url") || event.detail.path;
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-attach-input]")) showAttachment();
  });

  function setReply(id, text) {
    var form = composer();
    if (!form) return;
    var input = form.querySelector("[data-reply-input]");
    var preview = form.querySelector("[data-reply-preview]");
    if (!input || !preview) return;
    input.value = id || "";
    preview.hidden = !id;
    var label = preview.querySelector("[data-reply-preview-text]");
    if (label) label.textContent = text || "";
    if (id) {
      if (form.getAttribute("data-mode") !== "reply") setMode("reply");
      var area = form.querySelector("[data-composer]");
      if (area) area.focus();
    }
  }
  function insertCanned(button) {
    var form = composer();
    var area = form && form.querySelector("[data-composer]");
    if (!area) return;
    var content = button.getAttribute("data-canned-content") || "";
    var value = area.value;
    var cut = value.lastIndexOf("/");
    area.value = (cut >= 0 ? value.slice(0, cut) : value) + content;
    var box = form.querySelector("[data-canned]");
    if (box) box.innerHTML = "";
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
  }

  document.addEventListener("click", function (event) {
    var t = event.target;
    var mode = t.closest("[data-composer-mode]");
    if (mode) { setMode(mode.getAttribute("data-composer-mode")); return; }
    var reply = t.closest("[data-reply-to]");
    if (reply) { setReply(reply.getAttribute("data-reply-to"), reply.getAttribute("data-reply-text")); return; }
    if (t.closest("[data-reply-cancel]")) { setReply("", ""); return; }
    if (t.closest("[data-attachment-clear]")) { clearAttachment(); return; }
    var canned = t.closest("[data-canned-content]");
    if (canned) { insertCanned(canned); return; }
    var focus = t.closest("[data-focus]");
    if (focus && event.detail === 0) {  // keyboard shortcuts click programmatically (detail 0), pointers do not
      var target = $(focus.getAttribute("data-focus"));
      if (target) {
        setTimeout(function () {
          target.focus();
          if (target.tagName === "SELECT" && target.showPicker) { try { target.showPicker(); } catch (e) { /* needs a gesture */ } }
        }, 0);
      }
    }
    if (t.closest("[data-toggle-contact]")) {
      var a = app();
      if (a) a.classList.toggle("is-contact-open");
      return;
    }
    if (t.closest('[data-action="back"]')) {
      var shell = app();
      if (shell) shell.classList.remove("is-conversation-open");
    }
    // Close open menus when clicking elsewhere.
    document.querySelectorAll("details.menu[open]").forEach(function (d) { if (!d.contains(t)) d.open = false; });
  });

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-composer]")) {
      var form = composer();
      if (form && form.getAttribute("data-mode") === "reply") sendTyping();
    }
  });

  document.addEventListener("keydown", function (event) {
    var t = event.target;
    if (!t.closest) return;
    // In the composer, ArrowDown moves into the canned suggestions; Escape closes them.
    if (t.matches("[data-composer]")) {
      var box = composer() && composer().querySelector("[data-canned]");
      var first = box && box.querySelector("[data-canned-content]");
      if (event.key === "ArrowDown" && first) { event.preventDefault(); first.focus(); }
      if (event.key === "Escape" && box && box.innerHTML.trim()) { event.stopPropagation(); box.innerHTML = ""; }
      return;
    }
    var item = t.closest("[data-canned-content]");
    if (item && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      var li = item.parentElement;
      var next = event.key === "ArrowDown" ? li.nextElementSibling : li.previousElementSibling;
      if (next) next.querySelector("button").focus();
      else if (event.key === "ArrowUp") { var area = composer().querySelector("[data-composer]"); if (area) area.focus(); }
    }
  }, true);

  // ------------------------------------------------------------------ emoji picker
  // The panel is fetched once per page (conversation/_emoji.html) and kept for the next composers; the chosen
  // emoji goes in at the cursor; "Recently used" lives in this browser (localStorage).
  var emojiHtml = null;
  var RECENT_KEY = "mostrador.emoji.recent";
  function recentEmoji() {
    try { return JSON.parse(window.localStorage.getItem(RECENT_KEY) || "[]").slice(0, 16); } catch (e) { return []; }
  }
  function rememberEmoji(char) {
    var list = recentEmoji().filter(function (c) { return c !== char; });
    list.unshift(char);
    try { window.localStorage.setItem(RECENT_KEY, JSON.stringify(list.slice(0, 16))); } catch (e) { /* private mode */ }
  }
  function fillRecent(panel) {
    var section = panel.querySelector("[data-emoji-recent]");
    var grid = panel.querySelector("[data-emoji-recent-grid]");
    if (!section || !grid) return;
    var known = {};
    panel.querySelectorAll("[data-emoji-group] [data-emoji-char]").forEach(function (b) { known[b.getAttribute("data-emoji-char")] = b; });
    grid.innerHTML = "";
    recentEmoji().forEach(function (char) { if (known[char]) grid.appendChild(known[char].cloneNode(true)); });
    section.hidden = !grid.children.length;
  }
  function emojiPanel() { var form = composer(); return form && form.querySelector("[data-emoji-panel]"); }
  function closeEmoji(refocus) {
    var panel = emojiPanel();
    if (!panel || panel.hidden) return;
    panel.hidden = true;
    var toggle = composer().querySelector("[data-emoji-toggle]");
    if (toggle) toggle.setAttribute("aria-expanded", "false");
    if (refocus) { var area = composer().querySelector("[data-composer]"); if (area) area.focus(); }
  }
  function openEmoji(toggle) {
    var panel = emojiPanel();
    if (!panel) return;
    var show = function () {
      if (!panel.innerHTML.trim()) panel.innerHTML = emojiHtml;
      fillRecent(panel);
      panel.hidden = false;
      toggle.setAttribute("aria-expanded", "true");
      var search = panel.querySelector("[data-emoji-search]");
      if (search) search.focus();
    };
    if (emojiHtml !== null) { show(); return; }
    get(toggle.getAttribute("data-emoji-url")).then(function (html) { emojiHtml = html; show(); }).catch(function () {});
  }
  function plain(text) { return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }
  function filterEmoji(panel, query) {
    var q = plain(query.trim());
    var any = false;
    panel.querySelectorAll("[data-emoji-group]").forEach(function (group) {
      var shown = 0;
      group.querySelectorAll("[data-emoji-char]").forEach(function (b) {
        var hit = !q || plain(b.getAttribute("data-emoji-words") || "").indexOf(q) >= 0 || b.getAttribute("data-emoji-char") === query.trim();
        b.hidden = !hit;
        if (hit) shown += 1;
      });
      group.hidden = !shown;
      if (shown) any = true;
    });
    var recent = panel.querySelector("[data-emoji-recent]");
    if (recent) recent.hidden = !!q || !panel.querySelector("[data-emoji-recent-grid] [data-emoji-char]");
    var none = panel.querySelector("[data-emoji-none]");
    if (none) none.hidden = any;
  }
  function insertEmoji(char) {
    var area = composer() && composer().querySelector("[data-composer]");
    if (!area) return;
    var start = area.selectionStart == null ? area.value.length : area.selectionStart;
    var end = area.selectionEnd == null ? start : area.selectionEnd;
    area.value = area.value.slice(0, start) + char + area.value.slice(end);
    area.focus();
    area.setSelectionRange(start + char.length, start + char.length);
    area.dispatchEvent(new Event("input", { bubbles: true }));
    rememberEmoji(char);
    var panel = emojiPanel();
    if (panel) fillRecent(panel);
  }
  document.addEventListener("click", function (event) {
    var t = event.target;
    if (!t.closest) return;
    var toggle = t.closest("[data-emoji-toggle]");
    if (toggle) {
      var panel = emojiPanel();
      if (panel && !panel.hidden) closeEmoji(true); else openEmoji(toggle);
      return;
    }
    var item = t.closest("[data-emoji-char]");
    if (item && t.closest("[data-emoji-panel]")) { insertEmoji(item.getAttribute("data-emoji-char")); return; }
    if (!t.closest("[data-emoji]")) closeEmoji(false);
  });
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-emoji-search]")) {
      filterEmoji(event.target.closest("[data-emoji-panel]"), event.target.value);
    }
  });
  document.addEventListener("keydown", function (event) {
    var t = event.target;
    if (!t.closest) return;
    var panel = emojiPanel();
    var open = panel && !panel.hidden;
    // Escape closes the picker first, from the search or from the text (where an emoji click leaves the cursor).
    if (event.key === "Escape" && open && (t.closest("[data-emoji-panel]") || t.matches("[data-composer]"))) {
      event.preventDefault(); event.stopPropagation(); closeEmoji(true); return;
    }
    if (!t.closest("[data-emoji-panel]")) return;
    if (event.key === "Enter" && t.matches("[data-emoji-search]")) {
      event.preventDefault();  // Enter in the search takes the first match
      var first = Array.prototype.find.call(t.closest("[data-emoji-panel]").querySelectorAll("[data-emoji-group] [data-emoji-char]"), function (b) { return !b.hidden; });
      if (first) insertEmoji(first.getAttribute("data-emoji-char"));
    }
  }, true);

  // ------------------------------------------------------------------ htmx hooks
  document.addEventListener("mostrador:refresh-thread", refreshThread);

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target) return;
    if (target.id === "conversation") {
      toBottom();
      markCurrent();
      var a = app();
      if (a) a.classList.add("is-conversation-open");
      var area = $("[data-composer]");
      if (area && window.matchMedia("(hover: hover)").matches) area.focus({ preventScroll: true });
    }
    // Canned suggestions swap inside the composer while the agent types (or picks an emoji): focus stays put.
    if (target.id === "composer" || (target.closest && target.closest("#composer") && !target.matches("[data-canned]"))) {
      var c = composer();
      if (c && event.detail.xhr && event.detail.xhr.status < 300) {
        var textArea = c.querySelector("[data-composer]");
        if (textArea && c.getAttribute("data-mode") !== "template") textArea.focus({ preventScroll: true });
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    toBottom();
    markCurrent();
    var hash = window.location.hash;
    if (hash && /^#m-\d+$/.test(hash)) { var m = $(hash); if (m) m.scrollIntoView({ block: "center" }); }
  });
})();
