// Command center: ticks running sessions' elapsed time, follows GET /api/stream (compact session
// events, resuming from the position the page was rendered at) to add, count and finish
// running sessions and keep the totals current, and runs quick execute.
"use strict";
(function () {
  const home = document.getElementById("home");
  if (!home) return;
  const body = document.getElementById("running-body");
  function fmtDuration(ms) {
    if (ms < 60000) return `${(Math.max(ms, 0) / 1000).toFixed(1)} s`;
    if (ms < 3600000) return `${Math.floor(ms / 60000)} m ${String(Math.floor(ms / 1000) % 60).padStart(2, "0")} s`;
    return `${Math.floor(ms / 3600000)} h ${String(Math.floor(ms / 60000) % 60).padStart(2, "0")} m`;
  }
  const q = (sel, from) => (from || document).querySelector(sel);
  const num = (n) => Number(n).toLocaleString("en-US");

  function bump(testid, delta) {
    const node = q(`[data-testid="${testid}"]`);
    if (!node || node.dataset.value === undefined) return;
    node.dataset.value = Number(node.dataset.value) + delta;
    const target = node.querySelector("a") || node;
    target.textContent = num(node.dataset.value);
  }

  function errorRate(messages, errors) {
    const node = q('[data-testid="stat-error-rate"]');
    if (!node) return;
    node.dataset.messages = Number(node.dataset.messages) + messages;
    node.dataset.errors = Number(node.dataset.errors) + errors;
    const m = Number(node.dataset.messages);
    node.textContent = `${(m ? (100 * Number(node.dataset.errors)) / m : 0).toFixed(1)} %`;
  }

  // Elapsed time of running rows, every second, client-side.
  setInterval(() => {
    const now = Date.now();
    for (const cell of document.querySelectorAll("[data-elapsed-from]")) {
      const from = Number(cell.dataset.elapsedFrom);
      if (from > 0 && !cell.dataset.frozen) cell.textContent = fmtDuration(now - from);
    }
  }, 1000);

  function cell(text, cls, testid) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    if (testid) td.dataset.testid = testid;
    td.textContent = text;
    return td;
  }

  function addRow(id, d) {
    const tr = document.createElement("tr");
    tr.dataset.testid = "running-row";
    tr.dataset.sessionId = id;
    const badge = document.createElement("span");
    badge.className = "badge QUEUED";
    badge.dataset.testid = "running-status";
    badge.textContent = "QUEUED";
    const status = document.createElement("td");
    status.append(badge);
    const elapsed = cell("–", "n", "running-elapsed");
    elapsed.dataset.elapsedFrom = "0";
    const messages = cell("0", "n", "running-messages"), errors = cell("0", "n", "running-errors");
    messages.dataset.value = "0";
    errors.dataset.value = "0";
    const watch = document.createElement("td"), link = document.createElement("a");
    link.href = `/sessions/${id}`;
    link.textContent = "Watch live";
    watch.append(link);
    tr.append(status, cell((d.target && d.target.name) || "?"), cell((d.scenario && d.scenario.name) || "custom messages"), elapsed, messages, errors, watch);
    body.prepend(tr);
    q("#running-empty").hidden = true;
    return tr;
  }

  function activity(id, status, verb, ev, scenario, target) {
    const list = q("#recent-activity");
    q("#activity-empty")?.remove();
    const li = document.createElement("li");
    li.dataset.testid = "activity-item";
    li.dataset.sessionId = id;
    const badge = document.createElement("span");
    badge.className = `badge ${status}`;
    badge.textContent = status;
    const link = document.createElement("a");
    link.href = `/sessions/${id}`;
    link.textContent = scenario || id.slice(0, 8);
    const when = document.createElement("span");
    when.className = "muted";
    when.textContent = ` ${verb} ${new Date(Date.parse(ev.recordedAt) || Date.now()).toISOString().replace("T", " ").slice(0, 19)} UTC`;
    li.append(badge, " ", link, target ? ` on ${target}` : "", when);
    list.prepend(li);
    while (list.children.length > 10) list.lastElementChild.remove();
  }

  function count(row, testid, delta) {
    const td = row && q(`[data-testid="${testid}"]`, row);
    if (!td) return;
    td.dataset.value = Number(td.dataset.value) + delta;
    td.textContent = td.dataset.value;
  }

  function setStatus(row, status) {
    const badge = row && q('[data-testid="running-status"]', row);
    if (badge) { badge.className = `badge ${status}`; badge.textContent = status; }
  }

  const TERMINAL = { SessionCompleted: "COMPLETED", SessionFailed: "FAILED", SessionCancelled: "CANCELLED" };

  function onEvent(ev) {
    const d = ev.data || {}, id = d.sessionId || d.id;
    if (!id) return;
    let row = body.querySelector(`tr[data-session-id="${CSS.escape(id)}"]`);
    switch (ev.type) {
      case "SessionQueued":
        if (!row) addRow(id, d);
        bump("stat-sessions", 1); bump("stat-sessions-24h", 1); bump("stat-active", 1);
        activity(id, "QUEUED", "queued", ev, d.scenario && d.scenario.name, d.target && d.target.name);
        break;
      case "SessionStarted":
        if (!row) row = addRow(id, {});
        setStatus(row, "RUNNING");
        q('[data-testid="running-elapsed"]', row).dataset.elapsedFrom = String(Date.parse(ev.recordedAt) || Date.now());
        break;
      case "MessageSent": bump("stat-messages-24h", 1); break;
      case "ResponseReceived":
        count(row, "running-messages", 1);
        bump("stat-tokens-in", (d.tokens || {}).input || 0); bump("stat-tokens-out", (d.tokens || {}).output || 0);
        errorRate(1, 0);
        break;
      case "MessageFailed":
        count(row, "running-messages", 1); count(row, "running-errors", 1);
        errorRate(1, 1);
        break;
      case "SessionDeleted":
        row?.remove();
        bump("stat-sessions", -1);
        break;
      default:
        if (!TERMINAL[ev.type]) break;
        bump("stat-active", -1);
        activity(id, TERMINAL[ev.type], TERMINAL[ev.type].toLowerCase(), ev, row && row.cells[2].textContent, row && row.cells[1].textContent);
        if (!row) break;
        setStatus(row, TERMINAL[ev.type]);
        q('[data-testid="running-elapsed"]', row).dataset.frozen = "1";
        setTimeout(() => {
          row.remove();
          if (!body.querySelector('tr[data-testid="running-row"]')) q("#running-empty").hidden = false;
        }, 8000);
    }
  }

  function follow() {
    const indicator = q("#live-indicator");
    const es = new EventSource(`/api/stream?kind=session&compact=true&lastEventId=${encodeURIComponent(home.dataset.streamFrom || "0")}`);
    es.onopen = () => { indicator.textContent = "live"; indicator.dataset.state = "live"; };
    es.onerror = () => { indicator.textContent = "reconnecting…"; indicator.dataset.state = "reconnecting"; };
    es.addEventListener("session", (msg) => {
      try { onEvent(JSON.parse(msg.data)); } catch (err) { console.error(err); }
    });
  }

  function quickExecute() {
    const form = q("#quick-execute");
    if (!form) return;
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = new FormData(form), button = q('[type="submit"]', form);
      const body = { targetId: data.get("targetId"), scenarioId: data.get("scenarioId") };
      const config = {};
      for (const key of ["repetitions", "concurrency"]) if (data.get(key)) config[key] = Number(data.get(key));
      if (Object.keys(config).length) body.executionConfig = config;
      button.disabled = true;
      try {
        const res = await krawall.api("POST", "/api/execute", body);
        location.href = `/sessions/${res.sessionId}`;
      } catch (err) {
        krawall.fail(err);
        button.disabled = false;
      }
    });
  }

  follow();
  quickExecute();
})();
