// The simulator's phone page: a person plays the customer. Vanilla JS, no dependencies.
// Every piece of customer or business text goes through textContent (no HTML parsing of user text).
(() => {
  "use strict";
  const root = document.body.dataset.root || "";
  const T = JSON.parse(document.getElementById("sim-strings").textContent);
  const NUMBERS = JSON.parse(document.getElementById("sim-numbers").textContent);
  const EMOJI = ["😀", "😂", "😍", "🙏", "👍", "👎", "🙌", "😢", "😡", "🎉", "❤️", "🔥", "🤔", "😅", "😉", "👋",
    "✅", "❌", "📦", "🚚", "💳", "🛒", "🕐", "📍"];
  const $ = (id) => document.getElementById(id);
  const state = { pid: NUMBERS.length ? NUMBERS[0].phone_number_id : "", waId: "", version: -1, loop: 0, user: null };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  function ticks(status) {
    const span = el("span", { class: "ticks" + (status === "read" ? " read" : ""), title: T[status] || status });
    if (status === "failed") {
      span.className = "failed";
      span.textContent = "⚠ " + T.failed;
      return span;
    }
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 18 12");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "11");
    svg.setAttribute("aria-hidden", "true");
    const paths = status === "sent" || status === "accepted" ? ["M1 6.5l3.5 3.5L11 2"] : ["M1 6.5l3.5 3.5L11 2", "M6.5 10L13 3.5M10 10l6.5-8"];
    for (const d of paths) {
      const p = document.createElementNS(SVG_NS, "path");
      p.setAttribute("d", d);
      p.setAttribute("fill", "none");
      p.setAttribute("stroke", "currentColor");
      p.setAttribute("stroke-width", "1.6");
      p.setAttribute("stroke-linecap", "round");
      svg.append(p);
    }
    span.append(svg);
    return span;
  }

  async function api(path, options) {
    const res = await fetch(root + path, {
      headers: { "Content-Type": "application/json" },
      ...options,
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((data.error && (data.error.error_data?.details || data.error.message)) || res.status);
    return data;
  }

  // ------------------------------------------------------------------ customers

  function fillNumbers() {
    const select = $("number");
    for (const n of NUMBERS) {
      select.append(el("option", { value: n.phone_number_id }, `+${n.display_phone_number} · ${n.verified_name}`));
    }
    select.addEventListener("change", () => { state.pid = select.value; state.version = -1; loadCustomers(); restart(); });
  }

  async function loadCustomers() {
    const users = await api(`/_sim/users?phone_number_id=${encodeURIComponent(state.pid)}`);
    const list = $("customers");
    list.replaceChildren();
    for (const u of users) {
      list.append(el("li", {}, el("button", {
        type: "button", "aria-current": u.wa_id === state.waId ? "true" : "false",
        onclick: () => pick(u.wa_id),
      }, el("span", {}, u.name || "+" + u.wa_id), el("small", {}, "+" + u.wa_id))));
    }
  }

  function pick(waId) {
    state.waId = waId;
    state.version = -1;
    const url = new URL(location.href);
    url.searchParams.set("wa_id", waId);
    history.replaceState(null, "", url);
    $("chat").hidden = false;
    $("empty").hidden = true;
    $("messages").replaceChildren();
    loadCustomers();
    restart();
  }

  $("new-customer").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    const body = { name: form.name.value.trim(), wa_id: form.wa_id.value.replace(/[^0-9]/g, "") };
    try {
      const user = await api("/_sim/users", { method: "POST", body: JSON.stringify(body) });
      form.reset();
      pick(user.wa_id);
    } catch (e) { alert(`${T.error}: ${e.message}`); }
  });

  // ------------------------------------------------------------------ sending

  async function inbound(fields) {
    if (!state.waId) return;
    const user = state.user || {};
    const body = { phone_number_id: state.pid, from: state.waId, name: user.name, ...fields };
    try {
      await api("/_sim/inbound", { method: "POST", body: JSON.stringify(body) });
    } catch (e) { alert(`${T.error}: ${e.message}`); }
  }

  $("composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = $("text");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    inbound({ type: "text", text });
  });

  function toggle(id) {
    for (const other of ["emoji-pop", "attach-pop"]) if (other !== id) $(other).hidden = true;
    $(id).hidden = !$(id).hidden;
  }
  $("emoji-btn").addEventListener("click", () => toggle("emoji-pop"));
  $("attach-btn").addEventListener("click", () => toggle("attach-pop"));
  for (const e of EMOJI) {
    $("emoji-pop").append(el("button", { type: "button", onclick: () => {
      const input = $("text");
      input.value += e;
      input.focus();
    } }, e));
  }

  function testPhoto() {
    const canvas = document.createElement("canvas");
    canvas.width = 160; canvas.height = 120;
    const ctx = canvas.getContext("2d");
    const hue = Math.floor(Math.random() * 360);
    ctx.fillStyle = `hsl(${hue} 60% 55%)`;
    ctx.fillRect(0, 0, 160, 120);
    ctx.fillStyle = "#fff";
    ctx.font = "bold 20px system-ui";
    ctx.fillText("Mostrador", 24, 66);
    return canvas.toDataURL("image/png");
  }

  function askCaption() {
    const caption = prompt(T.caption, "");
    return caption === null ? null : caption;
  }

  $("gen-photo").addEventListener("click", () => {
    $("attach-pop").hidden = true;
    const caption = askCaption();
    if (caption === null) return;
    inbound({ type: "image", image: { data: testPhoto(), mime_type: "image/png", caption } });
  });

  $("file").addEventListener("change", (ev) => {
    const file = ev.target.files[0];
    ev.target.value = "";
    $("attach-pop").hidden = true;
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => {
      const caption = askCaption();
      if (caption === null) return;
      inbound({ type: "image", image: { data: reader.result, mime_type: file.type || "image/jpeg", caption } });
    };
    reader.readAsDataURL(file);
  });

  const sendLocation = (replyTo) => inbound({
    type: "location", reply_to: replyTo,
    location: { latitude: -34.6037, longitude: -58.3816, name: "Obelisco", address: "Av. 9 de Julio, Buenos Aires" },
  });
  $("send-location").addEventListener("click", () => { $("attach-pop").hidden = true; sendLocation(); });

  $("marketing").addEventListener("click", async () => {
    if (!state.user) return;
    const action = state.user.marketing_opt_out ? "resume-marketing" : "stop-marketing";
    await api(`/_sim/users/${encodeURIComponent(state.waId)}/${action}?phone_number_id=${encodeURIComponent(state.pid)}`,
      { method: "POST" });
  });
  $("advance").addEventListener("click", () => api("/_sim/clock/advance", { method: "POST", body: JSON.stringify({ hours: 25 }) }));

  // ------------------------------------------------------------------ rendering

  // An uploaded file (media id) plays or opens here, as on a phone; a link is only named (never fetched).
  function mediaNode(kind, mediaId, link, caption, filename) {
    const label = T[kind === "image" ? "photo" : kind] || kind;
    const box = el("div", { class: "media", "data-kind": kind });
    const src = mediaId ? `${root}/_sim/media/${encodeURIComponent(mediaId)}` : null;
    if (src && (kind === "image" || kind === "sticker")) {
      box.append(el("img", { src, alt: caption || label, loading: "lazy" }));
    } else if (src && kind === "video") {
      box.append(el("video", { src, controls: true, preload: "metadata", "aria-label": label }));
    } else if (src && kind === "audio") {
      box.append(el("audio", { src, controls: true, preload: "none", "aria-label": label }));
    } else if (src && kind === "document") {
      box.append(el("a", { class: "doc", href: src, download: filename || true, target: "_blank", rel: "noopener" },
        `📄 ${filename || label}`));
    } else {
      box.append(el("div", { class: "kind" }, `📎 ${label}${filename ? " · " + filename : ""}${link ? " · " + link : ""}`));
    }
    if (caption) box.append(el("div", {}, caption));
    return box;
  }

  function safeHttp(url) {
    try {
      const u = new URL(url);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch { return null; }
  }

  function renderOut(item) {
    const r = item.render || {};
    const bubble = el("li", { class: "msg", "data-wamid": item.wamid });
    const actions = el("div", { class: "actions" });
    if (r.kind === "reaction") {
      return el("li", { class: "reaction" }, `${r.emoji || "∅"} ${T.reacted}`);
    }
    if (r.header && r.header.text) bubble.append(el("div", { class: "hdr" }, r.header.text));
    else if (r.header && r.header.type) bubble.append(mediaNode(r.header.type, r.header.media_id, r.header.link, null, r.header.filename));
    if (r.kind === "text") bubble.append(el("div", {}, r.body));
    else if (r.kind === "media") bubble.append(mediaNode(r.media_type, r.media_id, r.link, r.caption, r.filename));
    else if (r.kind === "location") bubble.append(el("div", { class: "kind" }, `📍 ${r.name || T.location}`), r.address ? el("div", {}, r.address) : null);
    else if (r.kind === "contacts") bubble.append(el("div", { class: "kind" }, `👤 ${(r.names || []).join(", ")}`));
    else if (r.kind === "interactive" || r.kind === "template") {
      bubble.append(el("div", {}, r.body || ""));
      if (r.kind === "interactive" && r.itype === "button") {
        for (const b of r.buttons || []) {
          actions.append(el("button", { type: "button", onclick: () => inbound({
            type: "interactive", reply_to: item.wamid, interactive: { type: "button_reply", id: b.id, title: b.title },
          }) }, b.title));
        }
      } else if (r.kind === "interactive" && r.itype === "list") {
        actions.append(el("button", { type: "button", onclick: () => openList(item.wamid, r) }, `☰ ${r.button_label || T.view_list}`));
      } else if (r.kind === "interactive" && r.itype === "cta_url" && r.cta) {
        const href = safeHttp(r.cta.url);
        actions.append(href ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }, `↗ ${r.cta.display_text}`)
          : el("span", {}, r.cta.display_text));
      } else if (r.kind === "interactive" && r.itype === "location_request_message") {
        actions.append(el("button", { type: "button", onclick: () => sendLocation(item.wamid) }, `📍 ${T.send_location}`));
      } else if (r.kind === "template") {
        for (const b of r.buttons || []) {
          if (b.type === "quick_reply") {
            actions.append(el("button", { type: "button", onclick: () => inbound({
              type: "button", reply_to: item.wamid, button: { text: b.text, payload: b.payload },
            }) }, b.text));
          } else if (b.type === "url" && safeHttp(b.url || "")) {
            actions.append(el("a", { href: safeHttp(b.url), target: "_blank", rel: "noopener noreferrer", title: b.url }, `↗ ${b.text}`));
          } else if (b.type === "copy_code" && b.code) {
            actions.append(el("button", { type: "button", title: b.code, onclick: () => {
              if (navigator.clipboard) navigator.clipboard.writeText(b.code).catch(() => {});
            } }, `⧉ ${T.copy_code} · ${b.code}`));
          } else {
            actions.append(el("button", { type: "button", disabled: true }, b.text));
          }
        }
      }
    }
    if (r.footer) bubble.append(el("div", { class: "ftr" }, r.footer));
    const when = new Date(item.timestamp * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const meta = el("div", { class: "meta" }, when, ticks(item.status));
    if (item.status === "failed" && item.errors && item.errors[0]) meta.title = `${item.errors[0].code} ${item.errors[0].title}`;
    bubble.append(meta);
    if (actions.childElementCount) bubble.append(actions);
    return bubble;
  }

  function renderIn(item) {
    const m = item.message || {};
    const bubble = el("li", { class: "msg mine", "data-wamid": item.wamid });
    const t = m.type;
    if (t === "text") bubble.append(el("div", {}, m.text.body));
    else if (["image", "video", "audio", "document", "sticker"].includes(t)) {
      const media = m[t] || {};
      bubble.append(mediaNode(t, media.id, null, media.caption, media.filename));
    } else if (t === "location") bubble.append(el("div", { class: "kind" }, `📍 ${m.location.name || T.location}`));
    else if (t === "interactive") {
      const reply = m.interactive.button_reply || m.interactive.list_reply || {};
      bubble.append(el("div", {}, reply.title || ""));
    } else if (t === "button") bubble.append(el("div", {}, m.button.text));
    else if (t === "reaction") return el("li", { class: "reaction", style: "align-self:flex-end" }, `${m.reaction.emoji || "∅"} ${T.reacted}`);
    else bubble.append(el("div", { class: "kind" }, t));
    const when = new Date(item.timestamp * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    bubble.append(el("div", { class: "meta" }, when, ticks(item.status)));
    return bubble;
  }

  function openList(wamid, r) {
    const dialog = $("list-dialog");
    $("list-title").textContent = r.button_label || T.view_list;
    const rows = $("list-rows");
    rows.replaceChildren();
    for (const section of r.sections || []) {
      if (section.title) rows.append(el("h3", {}, section.title));
      for (const row of section.rows || []) {
        rows.append(el("button", { type: "button", class: "list-row", onclick: () => {
          dialog.close();
          inbound({ type: "interactive", reply_to: wamid,
            interactive: { type: "list_reply", id: row.id, title: row.title, description: row.description } });
        } }, row.title, row.description ? el("small", {}, row.description) : null));
      }
    }
    dialog.showModal();
  }

  function render(thread) {
    state.user = thread.user;
    const user = thread.user || { name: "", wa_id: state.waId };
    $("who-name").textContent = `${user.name || "+" + user.wa_id} · +${user.wa_id}`;
    const sub = $("who-sub");
    sub.replaceChildren(thread.typing ? el("span", { class: "typing" }, T.typing)
      : el("span", {}, user.window_open ? T.window_open : T.window_closed));
    if (user.marketing_opt_out) sub.append(" · ", T.opted_out);
    $("marketing").textContent = user.marketing_opt_out ? T.resume_marketing : T.stop_marketing;
    const list = $("messages");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const nodes = thread.items.map((item) => (item.dir === "out" ? renderOut(item) : renderIn(item)));
    list.replaceChildren(...(nodes.length ? nodes : [el("li", { class: "reaction" }, T.empty)]));
    if (atBottom || state.version < 0) list.scrollTop = list.scrollHeight;
  }

  // ------------------------------------------------------------------ live updates (long polling)

  function restart() {
    state.loop += 1;
    poll(state.loop);
  }

  async function poll(loop) {
    while (loop === state.loop && state.waId) {
      try {
        const q = new URLSearchParams({ wa_id: state.waId, phone_number_id: state.pid });
        if (state.version >= 0) { q.set("since", state.version); q.set("wait", "20"); }
        const thread = await api(`/_sim/thread?${q}`);
        if (loop !== state.loop) return;
        $("offline").hidden = true;
        const first = state.version < 0;
        render(thread);
        state.version = thread.version;
        if (first) loadCustomers();
      } catch (e) {
        $("offline").hidden = false;
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  }

  fillNumbers();
  loadCustomers();
  const initial = new URL(location.href).searchParams.get("wa_id");
  if (initial) pick(initial);
})();
