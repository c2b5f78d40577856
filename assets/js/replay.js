// Session replay: loads /api/sessions/{id}/events once, then steps through them at 1×, 2×, 5× or
// instantly (delay = recorded gap / speed, clamped to [50 ms, 3000/speed ms]) with play, pause
// and step. The timeline has one mark per exchange flagging errors, slow replies
// (> max(2 × avg, 1000 ms)) and repeats (same text after normalising, or Jaccard ≥ 0.8 on word
// 3-shingles against the last 100 replies); clicking a mark jumps there.
"use strict";
(function () {
  const root = document.getElementById("session");
  const panel = document.getElementById("panel-replay");
  if (!root || !panel) return;
  const $ = (id) => document.getElementById(id);
  const el = { play: $("replay-play"), step: $("replay-step"), reset: $("replay-reset"), pos: $("replay-position"), timeline: $("replay-timeline"), log: $("replay-log"), detail: $("replay-detail") };
  const EXCHANGE = ["ErrorInjected", "MessageSent", "ResponseReceived", "MessageFailed"];
  const R = { events: null, loading: null, partial: false, exchanges: [], byEvent: [], cursor: 0, speed: 1, timer: null, playing: false, slowMs: 1000 };

  const normalise = (s) => String(s || "").toLowerCase().replace(/\s+/g, " ").trim();
  function shingles(norm) {
    const words = norm.split(" ").filter(Boolean), out = new Set();
    for (let i = 0; i + 3 <= words.length; i++) out.add(words.slice(i, i + 3).join(" "));
    return out;
  }
  function jaccard(a, b) {
    let inter = 0;
    const [small, big] = a.size < b.size ? [a, b] : [b, a];
    for (const s of small) if (big.has(s)) inter++;
    return inter / (a.size + b.size - inter);
  }

  // Groups exchange events by (messageIndex, repetitionIndex, attempt) and flags each exchange.
  function analyse() {
    const byKey = new Map(), order = [];
    R.byEvent = R.events.map((ev, i) => {
      if (!EXCHANGE.includes(ev.type)) return -1;
      const d = ev.data || {}, key = `${d.messageIndex}:${d.repetitionIndex}:${d.attempt || 0}`;
      let x = byKey.get(key);
      if (!x) {
        x = { index: order.length, first: i, last: i, d, request: null, reply: null, failure: null, latency: null, tokens: null, stream: null, fault: null, flags: [], repeatOf: null };
        byKey.set(key, x);
        order.push(x);
      }
      x.last = i;
      if (ev.type === "MessageSent") x.request = d.content;
      if (ev.type === "ErrorInjected") x.fault = d.fault;
      if (ev.type === "ResponseReceived") Object.assign(x, { reply: d.content, latency: d.latencyMs, tokens: d.tokens, stream: d.stream || null, status: d.status });
      if (ev.type === "MessageFailed") Object.assign(x, { failure: d, latency: d.latencyMs });
      return x.index;
    });
    const replies = order.filter((x) => x.reply != null);
    const avg = replies.length ? replies.reduce((s, x) => s + x.latency, 0) / replies.length : 0;
    R.slowMs = Math.max(2 * avg, 1000);
    const exact = new Map(), recent = [];
    for (const x of order) {
      if (x.failure) x.flags.push("error");
      if (x.reply == null) continue;
      if (x.latency > R.slowMs) x.flags.push("slow");
      const norm = normalise(x.reply);
      if (!norm) continue;
      const sh = shingles(norm);
      let match = exact.get(norm);
      if (match == null && sh.size) match = (recent.find((r) => jaccard(sh, r.sh) >= 0.8) || {}).index;
      if (match != null) { x.flags.push("repeat"); x.repeatOf = match; }
      if (!exact.has(norm)) exact.set(norm, x.index);
      if (sh.size) { recent.push({ sh, index: x.index }); if (recent.length > 100) recent.shift(); }
    }
    R.exchanges = order;
  }

  function markTitle(x) {
    const what = x.failure ? `${x.failure.kind} error` : x.reply != null ? krawall.fmtMs(x.latency) : "no reply";
    const flags = x.flags.length ? ` — ${x.flags.join(", ")}` : "";
    return `Exchange #${x.d.messageIndex} (repetition ${x.d.repetitionIndex}${x.d.attempt ? `, retry ${x.d.attempt}` : ""}): ${what}${flags}`;
  }

  function renderTimeline() {
    const frag = document.createDocumentFragment();
    for (const x of R.exchanges) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = ["mark"].concat(x.flags).join(" ");
      b.dataset.testid = "timeline-mark";
      b.dataset.index = x.index;
      b.dataset.flags = x.flags.join(" ");
      b.tabIndex = x.index === 0 ? 0 : -1;
      b.title = markTitle(x);
      b.setAttribute("aria-label", b.title);
      frag.append(b);
    }
    el.timeline.textContent = "";
    el.timeline.append(frag);
    if (!R.exchanges.length) el.timeline.textContent = "No exchanges recorded.";
  }

  function current() {
    for (let i = R.cursor - 1; i >= 0; i--) if (R.byEvent[i] >= 0) return R.exchanges[R.byEvent[i]];
    return null;
  }

  function kv(dl, key, value) {
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = key;
    dd.textContent = value;
    dl.append(dt, dd);
  }

  function showDetail(x) {
    el.detail.textContent = "";
    if (!x) { el.detail.textContent = "Select an exchange on the timeline or press Play."; return; }
    const h = document.createElement("h3");
    h.textContent = `Exchange #${x.d.messageIndex}`;
    const dl = document.createElement("dl");
    kv(dl, "Repetition / retry", `${x.d.repetitionIndex} / ${x.d.attempt || 0}`);
    kv(dl, "Latency", krawall.fmtMs(x.latency));
    if (x.tokens) kv(dl, "Tokens in / out", `${x.tokens.input} / ${x.tokens.output}${x.tokens.estimated ? " (estimated)" : ""}`);
    if (x.stream) kv(dl, "TTFT / chunks", `${krawall.fmtMs(x.stream.ttftMs)} / ${x.stream.chunks}`);
    if (x.status) kv(dl, "HTTP status", String(x.status));
    if (x.fault) kv(dl, "Injected fault", x.fault);
    if (x.failure) kv(dl, "Error", `${x.failure.kind}${x.failure.status ? " " + x.failure.status : ""} → ${x.failure.action}: ${x.failure.error}`);
    if (x.flags.includes("slow")) kv(dl, "Slow", `above ${krawall.fmtMs(R.slowMs)} (2 × average, at least 1 s)`);
    if (x.repeatOf != null) kv(dl, "Repeat", `same or near-same reply as exchange #${R.exchanges[x.repeatOf].d.messageIndex}`);
    el.detail.append(h, dl);
  }

  function position() {
    const total = R.events ? R.events.length : 0;
    el.pos.textContent = `${R.cursor} / ${total} events`;
    panel.dataset.replayState = R.playing ? "playing" : total && R.cursor >= total ? "done" : "paused";
    el.play.textContent = R.playing ? "Pause" : R.cursor >= total && total ? "Play again" : "Play";
    el.play.setAttribute("aria-pressed", String(R.playing));
    const x = current();
    for (const m of el.timeline.querySelectorAll(".mark.current")) m.classList.remove("current");
    if (x) {
      const mark = el.timeline.children[x.index];
      if (mark) { mark.classList.add("current"); mark.scrollIntoView({ block: "nearest", inline: "nearest" }); }
    }
    showDetail(x);
  }

  function renderTo(n) {
    const frag = document.createDocumentFragment();
    for (let i = R.cursor; i < n; i++) frag.append(krawallLog.line(R.events[i], "replay-line"));
    el.log.append(frag);
    R.cursor = n;
    el.log.scrollTop = el.log.scrollHeight;
    position();
  }

  function rewind() {
    pause();
    el.log.textContent = "";
    R.cursor = 0;
    position();
  }

  function pause() {
    clearTimeout(R.timer);
    R.playing = false;
    if (R.events) position();
  }

  // Delay before showing event i: the recorded gap scaled by speed, clamped.
  function delayBefore(i) {
    if (i <= 0) return 0;
    const gap = Date.parse(R.events[i].recordedAt) - Date.parse(R.events[i - 1].recordedAt);
    return Math.min(Math.max((gap || 0) / R.speed, 50), 3000 / R.speed);
  }

  function tick() {
    if (!R.playing) return;
    if (R.speed === 0) { renderTo(R.events.length); return pause(); }
    renderTo(R.cursor + 1);
    if (R.cursor >= R.events.length) return pause();
    R.timer = setTimeout(tick, delayBefore(R.cursor));
  }

  const active = () => root.dataset.status === "QUEUED" || root.dataset.status === "RUNNING";

  // Loads the events once; `fresh` reloads them when they were loaded while the session ran.
  async function load(fresh) {
    if (fresh && R.partial && R.events) { R.events = null; R.loading = null; }
    if (R.events) return true;
    if (!R.loading) {
      el.pos.textContent = "loading…";
      R.partial = active();
      R.loading = krawall.api("GET", `/api/sessions/${root.dataset.sessionId}/events`)
        .then((events) => {
          R.events = events;
          R.cursor = Math.min(R.cursor, events.length);
          el.pos.title = R.partial ? "Loaded while the session was running: Rewind reloads the newer events" : "";
          analyse();
          renderTimeline();
          position();
          return true;
        })
        .catch((err) => { R.loading = null; krawall.fail(err); el.pos.textContent = "could not load the events"; return false; });
    }
    return R.loading;
  }

  async function play() {
    if (!(await load())) return;
    if (R.playing) return pause();
    if (R.cursor >= R.events.length) {
      if (!(await load(true))) return;
      rewind();
    }
    R.playing = true;
    position();
    R.timer = setTimeout(tick, R.speed === 0 ? 0 : delayBefore(R.cursor));
  }

  async function step() {
    if (!(await load())) return;
    pause();
    if (R.cursor < R.events.length) renderTo(R.cursor + 1);
  }

  function jumpTo(index) {
    const x = R.exchanges[index];
    if (!x) return;
    pause();
    el.log.textContent = "";
    R.cursor = 0;
    renderTo(x.last + 1);
  }

  el.play.addEventListener("click", play);
  el.step.addEventListener("click", step);
  el.reset.addEventListener("click", async () => { if (await load(true)) rewind(); });
  for (const b of panel.querySelectorAll("[data-speed]")) {
    b.addEventListener("click", () => {
      R.speed = Number(b.dataset.speed);
      for (const o of panel.querySelectorAll("[data-speed]")) o.setAttribute("aria-pressed", String(o === b));
      if (R.playing) { clearTimeout(R.timer); R.timer = setTimeout(tick, 0); }
    });
  }
  el.timeline.addEventListener("click", (e) => {
    const m = e.target.closest(".mark");
    if (m) { for (const o of el.timeline.children) o.tabIndex = o === m ? 0 : -1; jumpTo(Number(m.dataset.index)); }
  });
  el.timeline.addEventListener("keydown", (e) => {
    const marks = el.timeline.children, i = [...marks].indexOf(document.activeElement);
    const j = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: marks.length - 1 }[e.key];
    if (i < 0 || j === undefined || !marks[j]) return;
    e.preventDefault();
    marks[i].tabIndex = -1;
    marks[j].tabIndex = 0;
    marks[j].focus();
    jumpTo(j);
  });

  document.addEventListener("krawall:tab", (e) => { if (e.detail === "tab-replay") load(); });
  if (!panel.hidden) load();
})();
