// Krawall charts: a small wrapper around uPlot (vendored) for time series — hover values in the
// legend, drag to zoom (uPlot), wheel to zoom and shift-drag / middle-drag to pan (plugin below),
// double-click to reset. Also boots the /metrics page's charts from its embedded JSON.
"use strict";
(function () {
  const AXIS = { stroke: "#a3acb9", grid: { stroke: "#2c333d", width: 1 }, ticks: { stroke: "#2c333d", width: 1 } };

  // Wheel zooms the x scale around the cursor; shift+left-drag or middle-drag pans it.
  function zoomPanPlugin(state) {
    function fullRange(u) {
      const xs = u.data[0];
      return xs.length ? [xs[0], xs[xs.length - 1]] : [0, 1];
    }
    function setX(u, min, max) {
      const [lo, hi] = fullRange(u);
      const span = max - min;
      if (span >= hi - lo) { state.zoomed = false; u.setScale("x", { min: lo, max: hi }); return; }
      if (min < lo) { min = lo; max = lo + span; }
      if (max > hi) { max = hi; min = hi - span; }
      state.zoomed = true;
      u.setScale("x", { min, max });
    }
    return {
      hooks: {
        ready(u) {
          const over = u.over;
          over.addEventListener("wheel", (e) => {
            if (!u.data[0].length) return;
            e.preventDefault();
            const rect = over.getBoundingClientRect();
            const left = e.clientX - rect.left;
            const at = u.posToVal(left, "x");
            const { min, max } = u.scales.x;
            const span = (max - min) * (e.deltaY < 0 ? 0.75 : 1 / 0.75);
            const from = at - (left / rect.width) * span;
            setX(u, from, from + span);
          }, { passive: false });
          // Capture phase on the root: runs before uPlot's own drag-to-zoom on the overlay.
          u.root.addEventListener("mousedown", (e) => {
            if (!over.contains(e.target) || !(e.button === 1 || (e.button === 0 && e.shiftKey))) return;
            e.preventDefault();
            e.stopPropagation();
            const x0 = e.clientX, { min, max } = u.scales.x;
            const perPx = (max - min) / over.getBoundingClientRect().width;
            const move = (m) => setX(u, min - (m.clientX - x0) * perPx, max - (m.clientX - x0) * perPx);
            const up = () => { document.removeEventListener("mousemove", move); document.removeEventListener("mouseup", up); };
            document.addEventListener("mousemove", move);
            document.addEventListener("mouseup", up);
          }, true);
          over.addEventListener("dblclick", () => { state.zoomed = false; });
        },
        setSelect(u) { if (u.select.width > 0) state.zoomed = true; },
      },
    };
  }

  // cfg: {series: [{label, color, pointsOnly?}], fmt: value formatter, height?}. Data: [xs(ms), ...ys].
  function timeChart(el, cfg) {
    if (!el || typeof uPlot === "undefined") return null;
    const state = { zoomed: false };
    const fmt = cfg.fmt || ((v) => String(v));
    const series = [{ label: "time", value: (u, v) => (v == null ? "–" : new Date(v).toLocaleString()) }];
    for (const s of cfg.series) {
      series.push({
        label: s.label, stroke: s.color, width: s.pointsOnly ? 0 : 1.5, spanGaps: true, scale: "y",
        value: (u, v) => (v == null ? "–" : fmt(v)),
        paths: s.pointsOnly ? () => null : undefined,
        points: s.pointsOnly ? { show: true, space: 0, size: 8, fill: s.color, stroke: s.color } : { size: 5, fill: s.color },
      });
    }
    const opts = {
      width: Math.max(el.clientWidth - 16, 300), height: cfg.height || 240, ms: 1,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      series,
      axes: [Object.assign({}, AXIS), Object.assign({ size: 70, values: (u, vals) => vals.map((v) => fmt(v)) }, AXIS)],
      cursor: { drag: { x: true, y: false, setScale: true } },
      legend: { live: true },
      plugins: [zoomPanPlugin(state)],
    };
    el.textContent = "";
    const empty = [[]].concat(cfg.series.map(() => []));
    const u = new uPlot(opts, empty, el);
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth - 16, 300), height: opts.height })).observe(el);
    }
    return {
      uplot: u,
      // Keeps a zoomed view while live data comes in; otherwise fits all data.
      setData(data) { u.setData(data, !state.zoomed); },
    };
  }

  window.krawallCharts = { timeChart };

  // The /metrics page: avg + p95 latency and tokens of the last completed sessions.
  function bootMetrics() {
    const node = document.getElementById("metrics-data");
    if (!node) return;
    let points = [];
    try { points = JSON.parse(node.textContent); } catch (_) { return; }
    const xs = points.map((p) => p.t);
    const count = (v) => Math.round(v).toLocaleString("en-US");
    const latency = timeChart(document.getElementById("chart-metrics-latency"), {
      fmt: krawall.fmtMs,
      series: [{ label: "avg latency", color: "#6cb6ff" }, { label: "p95 latency", color: "#e3b341" }, { label: "p99 latency", color: "#f47067" }],
    });
    const tokens = timeChart(document.getElementById("chart-metrics-tokens"), {
      fmt: count,
      series: [{ label: "tokens in", color: "#57d38c" }, { label: "tokens out", color: "#b392f0" }],
    });
    if (latency) latency.setData([xs, points.map((p) => p.avg), points.map((p) => p.p95), points.map((p) => p.p99)]);
    if (tokens) tokens.setData([xs, points.map((p) => p.tokensIn), points.map((p) => p.tokensOut)]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", bootMetrics);
  else bootMetrics();
})();
