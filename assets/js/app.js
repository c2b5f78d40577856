// Krawall dashboard helpers: JSON API calls, toasts. Pages add their own small scripts.
"use strict";
window.krawall = {
  async api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let json = null;
    try { json = await res.json(); } catch (_) { /* empty body */ }
    if (!res.ok || (json && json.success === false)) {
      const details = json && Array.isArray(json.details) ? json.details.map(d => `${d.field}: ${d.rule}`).join("; ") : "";
      const err = new Error((json && json.error) || `HTTP ${res.status}`);
      err.details = details; err.status = res.status; err.body = json;
      throw err;
    }
    return json ? json.data : null;
  },
  toast(message, bad) {
    const box = document.getElementById("toast");
    if (!box) return;
    const div = document.createElement("div");
    div.className = "msg" + (bad ? " bad" : "");
    div.textContent = message;
    box.appendChild(div);
    setTimeout(() => div.remove(), 6000);
  },
  fail(err) { krawall.toast(err.details ? `${err.message} — ${err.details}` : err.message, true); },
  fmtMs(ms) { return ms == null ? "–" : (ms >= 1000 ? (ms / 1000).toFixed(2) + " s" : Math.round(ms) + " ms"); },
};
