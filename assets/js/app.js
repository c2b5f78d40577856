// Krawall dashboard helpers: JSON API calls, toasts. Pages add their own small scripts.
"use strict";
window.krawall = {
  // The session's CSRF token (cookie set at login); sent on every write as X-CSRF-Token.
  csrf() {
    const m = document.cookie.match(/(?:^|;\s*)krawall_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  },
  async api(method, path, body) {
    const headers = body === undefined ? {} : { "content-type": "application/json" };
    if (method !== "GET" && method !== "HEAD") headers["x-csrf-token"] = krawall.csrf();
    const res = await fetch(path, {
      method,
      headers,
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
  // Delete through the shared dialog (views/targets/delete_dialog.stpl). On 409 the API's reason is
  // shown and the user may delete anyway (?force=true: sessions keep their own copy) or with the
  // finished sessions (?cascade=true).
  confirmDelete({ path, label, name, done }) {
    const $ = (sel) => document.querySelector(sel);
    const dlg = $("#delete-dialog");
    const [confirmBtn, forceBtn, cascadeBtn, reason] = [$("#delete-confirm"), $("#delete-force"), $("#delete-cascade"), $("#delete-reason")];
    const buttons = [confirmBtn, forceBtn, cascadeBtn];
    $("#delete-message").textContent = `Delete ${label} “${name}”? This cannot be undone.`;
    reason.hidden = true; forceBtn.hidden = true; cascadeBtn.hidden = true; confirmBtn.hidden = false;
    const run = async (mode) => {
      buttons.forEach((b) => { b.disabled = true; });
      try {
        await krawall.api("DELETE", `${path}${mode ? `?${mode}=true` : ""}`);
        dlg.close();
        krawall.toast(`Deleted “${name}”.`);
        done();
      } catch (err) {
        if (err.status === 409 && !mode) {
          reason.textContent = `${err.message.replace(/; pass \?force=true.*$/, "")}. Delete it and keep the sessions (they keep their own copy), or delete its finished sessions too?`;
          reason.hidden = false; confirmBtn.hidden = true; forceBtn.hidden = false; cascadeBtn.hidden = false;
          forceBtn.focus();
        } else { dlg.close(); krawall.fail(err); }
      } finally { buttons.forEach((b) => { b.disabled = false; }); }
    };
    confirmBtn.onclick = () => run("");
    forceBtn.onclick = () => run("force");
    cascadeBtn.onclick = () => run("cascade");
    $("#delete-cancel").onclick = () => dlg.close();
    dlg.showModal();
  },
  fmtMs(ms) { return ms == null ? "–" : (ms >= 1000 ? (ms / 1000).toFixed(2) + " s" : Math.round(ms) + " ms"); },
};
document.addEventListener("DOMContentLoaded", () => {
  const logout = document.getElementById("logout");
  if (logout) logout.addEventListener("click", async () => {
    try { await krawall.api("POST", "/logout"); } catch (err) { /* the session may already be gone */ }
    window.location.href = "/login";
  });
});
