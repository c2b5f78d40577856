// Session pages: the cancel / restart / delete actions (list and detail), the detail page's tabs,
// and its live log: an EventSource on /api/sessions/{id}/stream (history, then live; the browser
// resumes with Last-Event-ID by itself) appending one line per event, updating the header and
// feeding the latency/token charts. Lines are appended in batches, never re-rendered.
"use strict";
(function () {
  const TERMINAL = ["SessionCompleted", "SessionFailed", "SessionCancelled"];
  const STATUS_OF = { SessionQueued: "QUEUED", SessionStarted: "RUNNING", SessionCompleted: "COMPLETED", SessionFailed: "FAILED", SessionCancelled: "CANCELLED" };
  const MAX_TEXT = 4000;

  const clip = (s) => {
    s = s == null ? "" : String(s);
    return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)} … (${s.length - MAX_TEXT} more characters)` : s;
  };
  const clock = (iso) => {
    const d = iso ? new Date(iso) : null;
    return d && !isNaN(d) ? d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0") : "";
  };
  const ref = (d) => `#${d.messageIndex} r${d.repetitionIndex}` + (d.attempt > 0 ? ` retry ${d.attempt}` : "");
  const summaryText = (s) => (s ? `${s.messageCount} messages, ${s.errorCount} errors, avg ${krawall.fmtMs(s.avgLatencyMs)}, p95 ${krawall.fmtMs(s.p95LatencyMs)}, ${s.tokensIn}/${s.tokensOut} tokens` : "");

  // [css class, text] of the log line for an event {type, data, recordedAt}.
  function describe(ev) {
    const d = ev.data || {};
    switch (ev.type) {
      case "SessionQueued": return ["meta", `queued · target ${(d.target && d.target.name) || "?"} · scenario ${(d.scenario && d.scenario.name) || "?"}`];
      case "SessionStarted": return ["meta", `started on node ${d.nodeId}`];
      case "ErrorInjected": return ["fail", `⚠ ${ref(d)}  injecting fault ${d.fault}`];
      case "MessageSent": {
        const ctx = d.contextMessages > 1 ? `  [context ${d.contextMessages} messages, ~${d.contextTokens} tokens]` : "";
        const wait = d.waitMs ? `  [waited ${krawall.fmtMs(d.waitMs)}]` : "";
        return ["sent", `→ ${ref(d)}${ctx}${wait}  ${clip(d.content)}`];
      }
      case "ResponseReceived": {
        const t = d.tokens || {};
        const parts = [krawall.fmtMs(d.latencyMs), `${t.input ?? 0} in / ${t.output ?? 0} out tokens${t.estimated ? " (estimated)" : ""}`];
        if (d.stream) parts.push(`TTFT ${krawall.fmtMs(d.stream.ttftMs)}`, `${d.stream.chunks} chunks`);
        if (d.status) parts.push(`HTTP ${d.status}`);
        return ["recv", `← ${ref(d)}  [${parts.join(" · ")}]  ${clip(d.content)}`];
      }
      case "MessageFailed": {
        const partial = d.partialContent ? `  (partial reply: ${clip(d.partialContent)})` : "";
        return ["fail", `✕ ${ref(d)}  ${d.kind}${d.status ? " " + d.status : ""} after ${krawall.fmtMs(d.latencyMs)} → ${d.action}: ${clip(d.error)}${partial}`];
      }
      case "SessionCompleted": return ["meta", `■ completed · ${summaryText(d.summary)}`];
      case "SessionFailed": return ["fail", `■ failed (${d.reason}): ${d.error} · ${summaryText(d.summary)}`];
      case "SessionCancelled": return ["meta", `■ cancelled · ${summaryText(d.summary)}`];
      default: return ["meta", ev.type];
    }
  }

  function line(ev, testid) {
    const [cls, text] = describe(ev);
    const div = document.createElement("div");
    div.className = `line ${cls}`;
    div.dataset.testid = testid;
    div.dataset.type = ev.type;
    if (ev.position != null) div.dataset.position = ev.position;
    const ts = document.createElement("span");
    ts.className = "ts";
    ts.textContent = clock(ev.recordedAt) + " ";
    div.append(ts, text);
    return div;
  }

  window.krawallLog = { line, describe, TERMINAL, STATUS_OF };

  // Percentile by nearest rank over a sorted array.
  const rank = (sorted, p) => (sorted.length ? sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] : null);

  function fmtDuration(ms) {
    if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
    if (ms < 3600000) return `${Math.floor(ms / 60000)} m ${String(Math.floor(ms / 1000) % 60).padStart(2, "0")} s`;
    return `${Math.floor(ms / 3600000)} h ${String(Math.floor(ms / 60000) % 60).padStart(2, "0")} m`;
  }
  window.krawallFmtDuration = fmtDuration;

  // --- actions: cancel, restart, delete (delete asks for a second click) ---
  async function act(btn) {
    const id = btn.dataset.sessionId, action = btn.dataset.sessionAction;
    const onDetail = !!document.getElementById("session");
    if (action === "delete" && btn.dataset.armed !== "1") {
      btn.dataset.armed = "1";
      btn.dataset.label = btn.textContent;
      btn.textContent = "Confirm delete";
      setTimeout(() => { btn.dataset.armed = ""; btn.textContent = btn.dataset.label; }, 4000);
      return;
    }
    btn.disabled = true;
    try {
      if (action === "delete") {
        await krawall.api("DELETE", `/api/sessions/${id}`);
        krawall.toast("Session deleted");
        if (onDetail) location.href = "/sessions";
        else btn.closest("tr")?.remove();
      } else {
        const res = await krawall.api("PATCH", `/api/sessions/${id}`, { action });
        if (action === "restart") { location.href = `/sessions/${res.sessionId}`; return; }
        krawall.toast(res.status === "CANCELLED" ? "Session cancelled" : "Cancelling…");
        if (!onDetail) setTimeout(() => location.reload(), 800);
      }
    } catch (err) {
      krawall.fail(err);
    } finally {
      btn.disabled = false;
    }
  }
  document.addEventListener("click", (e) => {
    const btn = e.target.closest("[data-session-action]");
    if (btn) act(btn);
  });

  // --- tabs (WAI-ARIA tabs pattern: arrows, Home, End) ---
  function tabs() {
    const list = document.querySelector('#main [role="tablist"]');
    if (!list) return;
    const all = [...list.querySelectorAll('[role="tab"]')];
    const select = (tab, focus) => {
      for (const t of all) {
        const on = t === tab;
        t.setAttribute("aria-selected", String(on));
        t.tabIndex = on ? 0 : -1;
        document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
      }
      if (focus) tab.focus();
      const hash = { "tab-replay": "#replay", "tab-report": "#report" }[tab.id];
      history.replaceState(null, "", hash || location.pathname + location.search);
      document.dispatchEvent(new CustomEvent("krawall:tab", { detail: tab.id }));
    };
    list.addEventListener("click", (e) => { const t = e.target.closest('[role="tab"]'); if (t) select(t, false); });
    list.addEventListener("keydown", (e) => {
      const i = all.indexOf(document.activeElement);
      const j = { ArrowRight: (i + 1) % all.length, ArrowLeft: (i - 1 + all.length) % all.length, Home: 0, End: all.length - 1 }[e.key];
      if (i < 0 || j === undefined) return;
      e.preventDefault();
      select(all[j], true);
    });
    if (location.hash === "#replay") select(document.getElementById("tab-replay"), false);
    if (location.hash === "#report") select(document.getElementById("tab-report"), false);
  }

  // --- charts fed by the live events ---
  function sessionCharts() {
    const d = { x: [], ok: [], fail: [], tx: [], tin: [], tout: [] };
    let latency = null, tokens = null, dirty = false;
    const make = () => {
      if (latency || !window.krawallCharts) return;
      latency = krawallCharts.timeChart(document.getElementById("chart-latency"), {
        fmt: krawall.fmtMs, series: [{ label: "latency", color: "#6cb6ff" }, { label: "failed", color: "#ff7b72", pointsOnly: true }],
      });
      tokens = krawallCharts.timeChart(document.getElementById("chart-tokens"), {
        fmt: (v) => Math.round(v).toLocaleString("en-US"), series: [{ label: "input tokens", color: "#57d38c" }, { label: "output tokens", color: "#b392f0" }],
      });
    };
    const at = (iso, xs) => Math.max(Date.parse(iso) || 0, xs.length ? xs[xs.length - 1] : 0);
    return {
      add(ev) {
        const v = ev.data || {};
        if (ev.type === "ResponseReceived") {
          d.x.push(at(ev.recordedAt, d.x)); d.ok.push(v.latencyMs); d.fail.push(null);
          d.tx.push(at(ev.recordedAt, d.tx)); d.tin.push((v.tokens || {}).input ?? 0); d.tout.push((v.tokens || {}).output ?? 0);
          dirty = true;
        } else if (ev.type === "MessageFailed") {
          d.x.push(at(ev.recordedAt, d.x)); d.ok.push(null); d.fail.push(v.latencyMs);
          dirty = true;
        }
      },
      draw() {
        if (!dirty) return;
        make();
        dirty = false;
        if (latency) latency.setData([d.x, d.ok, d.fail]);
        if (tokens) tokens.setData([d.tx, d.tin, d.tout]);
      },
    };
  }

  // --- live log + header ---
  function live(root) {
    const $ = (id) => document.getElementById(id);
    const log = $("live-log"), stateEl = $("live-state"), pauseBtn = $("live-pause"), newEl = $("live-new");
    const st = {
      status: root.dataset.status, startedMs: +root.dataset.startedMs || 0, completedMs: +root.dataset.completedMs || 0,
      messages: 0, errors: 0, tokensIn: 0, tokensOut: 0, cost: null, latencies: [], kinds: {}, summary: null, failure: null,
      paused: false, unseen: 0, seen: false,
    };
    const charts = sessionCharts();
    let pending = [], scheduled = false;

    const setState = (state, text) => { stateEl.dataset.state = state; stateEl.textContent = text; };
    const setPaused = (paused) => {
      st.paused = paused;
      pauseBtn.setAttribute("aria-pressed", String(paused));
      pauseBtn.textContent = paused ? "Resume" : "Pause";
      if (!paused) { st.unseen = 0; newEl.hidden = true; log.scrollTop = log.scrollHeight; }
    };
    pauseBtn.addEventListener("click", () => setPaused(!st.paused));
    $("live-jump").addEventListener("click", () => setPaused(false));
    log.addEventListener("scroll", () => {
      const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
      if (!atBottom && !st.paused && st.seen) setPaused(true);
    });

    function apply(ev) {
      const d = ev.data || {};
      if (STATUS_OF[ev.type]) st.status = STATUS_OF[ev.type];
      if (ev.type === "SessionStarted") st.startedMs = Date.parse(ev.recordedAt) || st.startedMs;
      if (ev.type === "ResponseReceived") {
        st.messages++; st.latencies.push(d.latencyMs);
        st.tokensIn += (d.tokens || {}).input || 0; st.tokensOut += (d.tokens || {}).output || 0;
        if (d.cost != null) st.cost = (st.cost || 0) + d.cost;
      }
      if (ev.type === "MessageFailed") {
        st.kinds[d.kind] = (st.kinds[d.kind] || 0) + 1;
        if (d.action !== "retry") { st.messages++; st.errors++; }
      }
      if (TERMINAL.includes(ev.type)) {
        st.completedMs = Date.parse(ev.recordedAt) || Date.now();
        st.summary = d.summary || null;
        if (ev.type === "SessionFailed") st.failure = `${d.reason}: ${d.error}`;
      }
      charts.add(ev);
    }

    function header() {
      const badge = $("session-status");
      badge.className = `badge ${st.status}`;
      badge.textContent = st.status;
      root.dataset.status = st.status;
      const active = st.status === "QUEUED" || st.status === "RUNNING";
      for (const b of root.querySelectorAll("[data-when]")) b.hidden = (b.dataset.when === "active") !== active;
      $("session-messages").textContent = st.messages;
      $("session-errors").textContent = st.errors;
      $("session-tokens-in").textContent = st.tokensIn;
      $("session-tokens-out").textContent = st.tokensOut;
      const cost = st.summary && st.summary.cost != null ? st.summary.cost : st.cost;
      if (cost != null) $("session-cost").textContent = cost.toFixed(4) + " " + ((st.summary && st.summary.currency) || "");
      const verdicts = (st.summary && st.summary.thresholds) || [];
      if (verdicts.length) {
        const box = $("session-thresholds");
        box.hidden = false;
        box.textContent = "";
        for (const t of verdicts) {
          const b = document.createElement("span");
          b.className = `badge ${t.passed ? "COMPLETED" : "FAILED"}`;
          b.textContent = `${t.metric} ${t.condition} (${+t.actual.toFixed(4)})`;
          box.append(b, " ");
        }
      }
      const sorted = st.latencies.slice().sort((a, b) => a - b);
      const avg = sorted.length ? sorted.reduce((s, v) => s + v, 0) / sorted.length : null;
      $("session-avg").textContent = avg == null ? "–" : krawall.fmtMs(avg);
      const s = st.summary;
      const pick = (key, p) => (s && sorted.length ? s[key] : rank(sorted, p));
      $("session-p50").textContent = krawall.fmtMs(pick("p50LatencyMs", 0.5));
      $("session-p95").textContent = krawall.fmtMs(pick("p95LatencyMs", 0.95));
      $("session-p99").textContent = krawall.fmtMs(pick("p99LatencyMs", 0.99));
      $("session-max").textContent = krawall.fmtMs(pick("maxLatencyMs", 1));
      const load = s && s.load;
      if (load) {
        const intended = load.intendedConversations != null ? ` of ${load.intendedConversations} intended` : "";
        $("session-load").hidden = false;
        $("session-load").textContent = `${load.executor} (${load.stopReason}): ${load.startedConversations} conversations started${intended}, ${load.completedConversations} completed, ${load.droppedConversations} dropped, peak ${load.peakConcurrent} at once`;
      }
      const kinds = $("errors-by-kind");
      kinds.textContent = "";
      for (const [kind, n] of Object.entries((s && s.errorsByKind) || st.kinds)) {
        const b = document.createElement("span");
        b.className = "badge FAILED"; b.dataset.kind = kind; b.textContent = `${kind}: ${n}`;
        kinds.append(b, " ");
      }
      if (st.failure) { $("session-failure").hidden = false; $("session-failure").textContent = st.failure; }
      if (st.completedMs) $("session-finished").textContent = new Date(st.completedMs).toISOString().replace("T", " ").slice(0, 19) + " UTC";
      if (st.startedMs && $("session-started").textContent === "–") $("session-started").textContent = new Date(st.startedMs).toISOString().replace("T", " ").slice(0, 19) + " UTC";
      tick();
    }

    function tick() {
      if (!st.startedMs) return;
      $("session-duration").textContent = fmtDuration((st.completedMs || Date.now()) - st.startedMs);
    }
    setInterval(() => { if (!st.completedMs) tick(); }, 1000);

    function flush() {
      scheduled = false;
      if (!pending.length) return;
      const frag = document.createDocumentFragment();
      for (const ev of pending) frag.append(line(ev, "log-line"));
      const n = pending.length;
      pending = [];
      log.append(frag);
      if (st.paused) { st.unseen += n; newEl.hidden = false; newEl.textContent = `${st.unseen} new`; }
      else log.scrollTop = log.scrollHeight;
      st.seen = true;
      header();
      charts.draw();
    }
    const schedule = () => { if (!scheduled) { scheduled = true; (document.hidden ? setTimeout : requestAnimationFrame)(flush); } };

    const es = new EventSource(`/api/sessions/${root.dataset.sessionId}/stream`);
    es.onopen = () => setState("live", "live");
    es.addEventListener("session", (msg) => {
      let ev;
      try { ev = JSON.parse(msg.data); } catch (_) { return; }
      apply(ev);
      pending.push(ev);
      schedule();
    });
    es.addEventListener("end", () => {
      es.close();
      schedule();
      setState("ended", "finished — full history shown");
    });
    es.onerror = () => {
      if (stateEl.dataset.state === "ended") return;
      setState(es.readyState === EventSource.CLOSED ? "closed" : "reconnecting", es.readyState === EventSource.CLOSED ? "disconnected (reload to retry)" : "reconnecting…");
    };
  }

  function boot() {
    tabs();
    const root = document.getElementById("session");
    if (root && document.getElementById("live-log")) live(root);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
