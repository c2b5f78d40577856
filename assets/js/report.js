// Session page, Report tab: reads /api/sessions/{id}/metrics (the metrics projection) and draws
// the summary cards, latency percentiles, throughput, TTFT / inter-chunk and errors over time
// (uPlot via krawallCharts), and the failed attempts by kind. Loaded when the tab opens.
"use strict";
(function () {
  const head = document.getElementById("session");
  const panel = document.getElementById("panel-report");
  if (!head || !panel) return;
  const id = head.dataset.sessionId;

  function card(label, value, testid) {
    const div = document.createElement("div");
    div.className = "card";
    const h = document.createElement("h2");
    h.textContent = label;
    const p = document.createElement("p");
    p.className = "num";
    p.dataset.testid = testid;
    p.textContent = value;
    div.append(h, p);
    return div;
  }

  const num = (v, digits) => (v == null ? "–" : Number(v).toFixed(digits));

  function cards(m) {
    const lat = m.latency || {}, ttft = m.ttft || {}, itl = m.itl || {};
    const box = document.getElementById("report-cards");
    box.textContent = "";
    box.append(
      card("Exchanges", String(m.exchanges), "report-exchanges"),
      card("Error rate", (100 * m.errorRate).toFixed(1) + " %", "report-error-rate"),
      card("Latency p50 / p95 / p99", [lat.p50, lat.p95, lat.p99].map(krawall.fmtMs).join(" / "), "report-latency-pcts"),
      card("TTFT p50 / p99", [ttft.p50, ttft.p99].map(krawall.fmtMs).join(" / "), "report-ttft-pcts"),
      card("Inter-chunk p50", krawall.fmtMs(itl.p50), "report-itl"),
      card("Tokens/s", num(m.tokensPerSecond, 2), "report-tokens-per-second"),
      card("Cost", num(m.cost, 4), "report-cost"),
      card("429s / back-off", m.rateLimited + " / " + krawall.fmtMs(m.backoffMs), "report-backoff"),
      card("Retries", String(m.retries), "report-retries"),
      card("Repetition / quality", num(m.repetitionMean, 2) + " / " + num(m.qualityMean, 2), "report-scores"),
    );
  }

  function charts(m) {
    const t = m.timeline;
    const xs = t.map((b) => b.startMs);
    const pick = (f) => t.map((b) => { const v = f(b); return v == null ? null : v; });
    const chart = (el, series, fmt, data) => {
      const c = krawallCharts.timeChart(document.getElementById(el), { series, fmt });
      if (c) c.setData([xs].concat(data));
    };
    chart("report-latency", [{ label: "p50", color: "#6cb6ff" }, { label: "p95", color: "#e3b341" }, { label: "p99", color: "#f47067" }],
      krawall.fmtMs, [pick((b) => b.latency && b.latency.p50), pick((b) => b.latency && b.latency.p95), pick((b) => b.latency && b.latency.p99)]);
    chart("report-throughput", [{ label: "exchanges/s", color: "#57d38c" }, { label: "tokens/s", color: "#b392f0" }],
      (v) => Number(v).toFixed(2), [pick((b) => b.exchangesPerSecond), pick((b) => b.tokensPerSecond)]);
    chart("report-ttft", [{ label: "TTFT p50", color: "#6cb6ff" }, { label: "inter-chunk p50", color: "#e3b341" }],
      krawall.fmtMs, [pick((b) => b.ttft && b.ttft.p50), pick((b) => b.itl && b.itl.p50)]);
    chart("report-errors", [{ label: "errors", color: "#f47067" }, { label: "retries", color: "#e3b341" }, { label: "429s", color: "#b392f0" }],
      (v) => String(Math.round(v)), [pick((b) => b.errors), pick((b) => b.retries), pick((b) => b.rateLimited)]);
  }

  function kinds(m) {
    const body = document.querySelector("#report-error-kinds tbody");
    body.textContent = "";
    for (const [kind, n] of Object.entries(m.errorsByKind)) {
      const tr = document.createElement("tr");
      const a = document.createElement("td"), b = document.createElement("td");
      a.textContent = kind;
      b.className = "n";
      b.textContent = String(n);
      tr.append(a, b);
      body.append(tr);
    }
  }

  async function load() {
    const state = document.getElementById("report-state");
    state.textContent = "loading…";
    try {
      const resp = await fetch("/api/sessions/" + id + "/metrics", { headers: { accept: "application/json" } });
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      const m = (await resp.json()).data;
      cards(m);
      charts(m);
      kinds(m);
      state.textContent = m.timeline.length + " time buckets";
      state.dataset.state = "loaded";
    } catch (e) {
      state.textContent = "could not load the metrics: " + e.message;
      state.dataset.state = "error";
    }
  }

  document.addEventListener("krawall:tab", (e) => { if (e.detail === "tab-report") load(); });
  if (!panel.hidden) load();
})();
