// Target pages: list filter and sort, preset picker and form, path check against a sample reply,
// streamed test connection, delete (with "delete anyway" when sessions reference the target).
"use strict";
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const MASK = "********";
  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    for (const c of children) node.append(c);
    return node;
  };
  const pretty = (value) => {
    if (typeof value !== "string") return JSON.stringify(value, null, 2);
    try { return JSON.stringify(JSON.parse(value), null, 2); } catch (_) { return value; }
  };

  // ---- field errors: each `{field, rule}` goes next to the input whose data-field is the
  // longest prefix of the field; all of them are listed in #form-errors.
  function clearErrors(root) {
    $$(".field-error", root).forEach((p) => p.remove());
    $$("[aria-invalid]", root).forEach((i) => i.removeAttribute("aria-invalid"));
    const box = $("#form-errors");
    if (box) { box.hidden = true; box.replaceChildren(); }
  }
  function showErrors(root, details) {
    clearErrors(root);
    const fields = $$("[data-field]", root);
    for (const [i, d] of details.entries()) {
      const best = fields
        .filter((f) => [f.dataset.field, `${f.dataset.field}.`, `${f.dataset.field}[`].some((x) => d.field === x || (x !== f.dataset.field && d.field.startsWith(x))))
        .sort((a, b) => b.dataset.field.length - a.dataset.field.length)[0];
      if (!best) continue;
      const p = el("p", { className: "field-error", id: `err-${i}`, textContent: d.rule });
      p.dataset.testid = `error:${d.field}`;
      if (best.matches("input, select, textarea")) {
        best.setAttribute("aria-invalid", "true");
        best.setAttribute("aria-describedby", p.id);
        (best.closest("label") || best).after(p);
      } else best.prepend(p);
    }
    const box = $("#form-errors");
    if (!box) return;
    box.append(el("p", { textContent: "Please fix the following:" }),
      el("ul", {}, ...details.map((d) => el("li", { textContent: `${d.field}: ${d.rule}` }))));
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }
  const detailsOf = (err) => (err.body && Array.isArray(err.body.details) ? err.body.details : []);

  // ---- delete: confirm in the dialog; on 409 show the reason and offer "Delete anyway".
  function deleteFlow(id, name, done) {
    krawall.confirmDelete({ path: `/api/targets/${id}`, label: "target", name, done: () => done() });
  }
  document.addEventListener("click", (e) => {
    const btn = e.target.closest("button[data-action='delete']");
    if (!btn) return;
    deleteFlow(btn.dataset.id, btn.dataset.name, () => {
      if (btn.dataset.redirect) { location.href = btn.dataset.redirect; return; }
      btn.closest("tr")?.remove();
      document.dispatchEvent(new Event("targets:changed"));
    });
  });

  // ---- list: filter, sort, quick test
  function initList() {
    const table = $("#targets-table");
    if (!table) return;
    const tbody = table.tBodies[0];
    const filter = $("#target-filter");
    const apply = () => {
      const q = filter.value.trim().toLowerCase();
      let shown = 0;
      for (const tr of tbody.rows) {
        const hit = !q || `${tr.dataset.name} ${tr.dataset.endpoint} ${tr.dataset.type}`.toLowerCase().includes(q);
        tr.hidden = !hit;
        if (hit) shown += 1;
      }
      const total = tbody.rows.length;
      $("#target-count").textContent = q ? `${shown} of ${total} targets` : `${total} target${total === 1 ? "" : "s"}`;
      $("#targets-none").hidden = shown > 0;
    };
    filter.addEventListener("input", apply);
    document.addEventListener("targets:changed", apply);
    for (const btn of $$("button.sort", table)) {
      btn.addEventListener("click", () => {
        const th = btn.closest("th");
        const dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
        $$("th[aria-sort]", table).forEach((h) => h.setAttribute("aria-sort", "none"));
        th.setAttribute("aria-sort", dir);
        const key = btn.dataset.sort;
        const rows = Array.from(tbody.rows).sort((a, b) =>
          a.dataset[key].localeCompare(b.dataset[key], undefined, { sensitivity: "base", numeric: true }));
        if (dir === "descending") rows.reverse();
        tbody.append(...rows);
      });
    }
    table.addEventListener("click", async (e) => {
      const btn = e.target.closest("button[data-action='test']");
      if (!btn) return;
      const cell = $("[data-testid='last-test']", btn.closest("tr"));
      btn.disabled = true;
      cell.replaceChildren(el("span", { className: "muted", textContent: "testing…" }));
      try {
        const r = await krawall.api("POST", `/api/targets/${btn.dataset.id}/test`, {});
        const text = r.success ? `✓ passed (${krawall.fmtMs(r.latencyMs)})` : "✗ failed";
        cell.replaceChildren(el("span", { className: r.success ? "ok" : "bad", textContent: text, title: r.error || "" }));
        if (r.error) cell.append(el("div", { className: "bad small", textContent: r.error }));
        btn.closest("tr").dataset.test = r.success ? "passed" : "failed";
      } catch (err) { cell.textContent = "–"; krawall.fail(err); } finally { btn.disabled = false; }
    });
  }

  // ---- form: build the API body from the fields
  function authConfig(form, type, errors) {
    const v = (name) => form.elements.namedItem(name).value;
    switch (type) {
      case "BEARER_TOKEN": return { token: v("token") };
      case "BASIC_AUTH": return { username: v("username").trim(), password: v("password") };
      case "API_KEY": {
        const cfg = { apiKey: v("apiKey"), location: v("location") };
        const name = (cfg.location === "query" ? v("paramName") : v("headerName")).trim();
        if (name) cfg[cfg.location === "query" ? "paramName" : "headerName"] = name;
        return cfg;
      }
      case "CUSTOM_HEADER": {
        const headers = {};
        for (const row of $$("#header-rows .kv-row", form)) {
          const key = $(".kv-key", row).value.trim();
          const value = $(".kv-value", row).value;
          if (!key && !value) continue;
          if (!key) { errors.push({ field: "authConfig.headers", rule: "every header needs a name" }); continue; }
          if (value === MASK && row.dataset.original !== key) {
            errors.push({ field: "authConfig.headers", rule: `enter the value of “${key}” again (the header was renamed)` });
          }
          headers[key] = value;
        }
        return { headers };
      }
      default: return {};
    }
  }
  function collect(form) {
    const errors = [];
    const v = (name) => form.elements.namedItem(name).value.trim();
    const json = (name, field) => {
      if (!v(name)) return undefined;
      try { return JSON.parse(v(name)); } catch (e) { errors.push({ field, rule: `is not valid JSON (${e.message})` }); return undefined; }
    };
    const body = {
      name: v("name"), connectorType: v("connectorType"), endpoint: v("endpoint"), authType: v("authType"),
      requestTemplate: { messagePath: v("messagePath") }, responseTemplate: { responsePath: v("responsePath") },
    };
    body.authConfig = authConfig(form, body.authType, errors);
    if (v("description")) body.description = v("description");
    const structure = json("structure", "requestTemplate.structure");
    if (structure !== undefined) body.requestTemplate.structure = structure;
    if (v("historyPath")) body.requestTemplate.historyPath = v("historyPath");
    if (v("systemPath")) body.requestTemplate.systemPath = v("systemPath");
    const item = json("historyItem", "requestTemplate.historyItem");
    if (item !== undefined) body.requestTemplate.historyItem = item;
    const roles = json("historyRoles", "requestTemplate.historyRoles");
    if (roles !== undefined) body.requestTemplate.historyRoles = roles;
    const limit = {};
    if (v("rateRps")) limit.requestsPerSecond = Number(v("rateRps"));
    if (v("rateTpm")) limit.tokensPerMinute = Number(v("rateTpm"));
    if (Object.keys(limit).length) body.rateLimit = limit;
    if (v("tokenUsagePath")) body.responseTemplate.tokenUsagePath = v("tokenUsagePath");
    if (v("errorPath")) body.responseTemplate.errorPath = v("errorPath");
    const protocol = json("protocolConfig", "protocolConfig");
    if (protocol !== undefined) body.protocolConfig = protocol;
    return { body, errors };
  }

  function applyPreset(form, p) {
    const set = (name, value) => { form.elements.namedItem(name).value = value ?? ""; };
    const defaults = (p && p.authDefaults) || {};
    set("name", p ? p.name : ""); set("description", "");
    set("connectorType", p ? p.connectorType : "HTTP_REST"); set("endpoint", p ? p.defaultEndpoint : "");
    set("authType", p ? p.authType : "NONE");
    for (const secret of ["token", "apiKey", "username", "password", "headerName", "paramName"]) set(secret, defaults[secret]);
    set("location", defaults.location || "header");
    $("#header-rows").replaceChildren();
    const rt = (p && p.requestTemplate) || {}, resp = (p && p.responseTemplate) || {};
    set("messagePath", rt.messagePath); set("structure", rt.structure ? pretty(rt.structure) : "");
    set("historyPath", rt.historyPath); set("systemPath", rt.systemPath);
    set("historyItem", rt.historyItem ? JSON.stringify(rt.historyItem) : "");
    set("historyRoles", rt.historyRoles ? JSON.stringify(rt.historyRoles) : "");
    set("responsePath", resp.responsePath); set("tokenUsagePath", resp.tokenUsagePath); set("errorPath", resp.errorPath);
    const pc = p && p.protocolConfig;
    set("protocolConfig", pc && Object.keys(pc).length ? pretty(pc) : "");
    const example = p && p.exampleResponse;
    $("#sample-response").value = example && Object.keys(example).length ? pretty(example) : "";
    const doc = $("#preset-doc");
    doc.textContent = p ? p.documentation : "";
    doc.hidden = !p;
    form.dataset.preset = p ? p.id : "";
    form.elements.namedItem("authType").dispatchEvent(new Event("change"));
    form.elements.namedItem("location").dispatchEvent(new Event("change"));
  }

  function renderChecks(box, r) {
    const verdict = (c, okText) => el("dd", { className: c.ok ? "ok" : "bad", textContent: c.ok ? `✓ ${okText(c.value)}` : `✗ ${c.error}` });
    const short = (v) => JSON.stringify(v).slice(0, 300);
    const rows = [
      ["Message path", "messagePath", r.messagePath, () => "request body:"],
      ["Response path", "responsePath", r.responsePath, (v) => `extracts ${short(v)}`],
      ["Token usage path", "tokenUsagePath", r.tokenUsagePath, (v) => (v ? `${v.input} tokens in, ${v.output} out` : "no usage found; tokens will be estimated")],
      ["Error path", "errorPath", r.errorPath, (v) => (v === undefined || v === null ? "well-formed (matches nothing in this reply)" : `extracts ${short(v)}`)],
    ];
    const dl = el("dl", { className: "checks" });
    for (const [label, key, check, okText] of rows) {
      const dd = verdict(check, okText);
      dd.dataset.testid = `check-${key}`;
      if (key === "messagePath" && check.ok) dd.append(el("pre", { textContent: pretty(check.value) }));
      dl.append(el("dt", { textContent: label }), dd);
    }
    const list = el("ul", { className: "plain" });
    list.dataset.testid = "path-suggestions";
    for (const path of r.suggestions) {
      const use = el("button", { type: "button", className: "secondary small", textContent: "Use as response path" });
      use.setAttribute("aria-label", `Use ${path} as response path`);
      use.addEventListener("click", () => { $("#target-form").elements.namedItem("responsePath").value = path; use.textContent = "✓ used"; });
      list.append(el("li", {}, el("code", { textContent: path }), " ", use));
    }
    box.replaceChildren(dl, el("h3", { textContent: "Text values in the sample" }),
      r.suggestions.length ? list : el("p", { className: "muted", textContent: "No text values found." }));
  }

  function initForm() {
    const form = $("#target-form");
    if (!form) return;
    const authType = $("#auth-type"), location_ = $("#auth-location");
    const showAuth = () => $$(".auth-group", form).forEach((g) => { g.hidden = g.dataset.auth !== authType.value; });
    const showLocation = () => $$("[data-location]", form).forEach((l) => { l.hidden = l.dataset.location !== location_.value; });
    authType.addEventListener("change", showAuth);
    location_.addEventListener("change", showLocation);
    showAuth(); showLocation();
    const rows = $("#header-rows");
    const renumber = () => $$(".kv-row", rows).forEach((row, i) => {
      $(".kv-key", row).dataset.testid = `auth-header-key-${i}`;
      $(".kv-value", row).dataset.testid = `auth-header-value-${i}`;
      $("[data-remove-row]", row).setAttribute("aria-label", `Remove header ${i + 1}`);
    });
    $("#add-header").addEventListener("click", () => {
      const row = $("#header-row-template").content.firstElementChild.cloneNode(true);
      rows.append(row); renumber(); $(".kv-key", row).focus();
    });
    rows.addEventListener("click", (e) => {
      const b = e.target.closest("[data-remove-row]");
      if (b) { b.closest(".kv-row").remove(); renumber(); $("#add-header").focus(); }
    });
    renumber();
    const presets = JSON.parse($("#presets-data")?.textContent || "[]");
    for (const btn of $$("button.preset")) {
      btn.addEventListener("click", () => {
        $$("button.preset").forEach((b) => b.setAttribute("aria-pressed", String(b === btn)));
        applyPreset(form, presets.find((p) => p.id === btn.dataset.preset));
        clearErrors(form);
        form.elements.namedItem("name").focus();
      });
    }
    $("#check-paths").addEventListener("click", () => checkPaths(form));
    form.addEventListener("submit", (e) => { e.preventDefault(); save(form); });
  }

  async function checkPaths(form) {
    const { body, errors } = collect(form);
    const own = errors.filter((e) => e.field.startsWith("requestTemplate"));
    if (own.length) { showErrors(form, own); return; }
    const payload = { requestTemplate: body.requestTemplate, responseTemplate: body.responseTemplate, sampleResponse: $("#sample-response").value };
    try {
      clearErrors(form);
      renderChecks($("#path-results"), await krawall.api("POST", "/api/templates/validate", payload));
    } catch (err) {
      if (detailsOf(err).length) showErrors(form, detailsOf(err)); else krawall.fail(err);
    }
  }

  async function save(form) {
    const { body, errors } = collect(form);
    if (errors.length) { showErrors(form, errors); return; }
    const id = form.dataset.id;
    if (!id && form.dataset.preset) body.presetId = form.dataset.preset;
    const button = $("#target-save");
    button.disabled = true;
    try {
      const target = id ? await krawall.api("PUT", `/api/targets/${id}`, body) : await krawall.api("POST", "/api/targets", body);
      location.href = `/targets/${target.id}`;
    } catch (err) {
      button.disabled = false;
      if (detailsOf(err).length) showErrors(form, detailsOf(err)); else krawall.fail(err);
    }
  }

  // ---- test connection: SSE events step, raw_response, error, result
  function initTest() {
    const panel = $("#test-panel");
    if (!panel) return;
    const btn = $("#test-connection"), steps = $("#test-steps"), outcome = $("#test-outcome");
    let source = null;
    btn.addEventListener("click", () => {
      if (source) source.close();
      steps.replaceChildren(); outcome.hidden = true;
      $("#test-extracted").textContent = ""; $("#test-raw").textContent = ""; $("#test-verdict").textContent = "";
      btn.disabled = true; btn.textContent = "Testing…";
      const message = $("#test-message").value.trim();
      source = new EventSource(`/api/targets/${panel.dataset.targetId}/test/stream${message ? `?testMessage=${encodeURIComponent(message)}` : ""}`);
      let finished = false;
      const add = (text, cls) => { const li = el("li", { textContent: text, className: cls || "" }); li.dataset.testid = "test-step"; steps.append(li); };
      const parse = (e) => { try { return JSON.parse(e.data); } catch (_) { return {}; } };
      const done = () => { finished = true; source.close(); source = null; btn.disabled = false; btn.textContent = "Test connection"; };
      source.addEventListener("step", (e) => add(parse(e).message || ""));
      source.addEventListener("raw_response", (e) => {
        const d = parse(e);
        outcome.hidden = false;
        $("#test-extracted").textContent = d.extracted_content ?? d.extractedContent ?? "";
        $("#test-raw").textContent = pretty(d.data ?? "");
      });
      source.addEventListener("error", (e) => {
        if (e.data !== undefined) { add(parse(e).message || "error", "bad"); return; }
        if (!finished) { add("The connection to the server was lost.", "bad"); done(); }
      });
      source.addEventListener("result", (e) => {
        const r = parse(e);
        outcome.hidden = false;
        const verdict = $("#test-verdict");
        verdict.className = r.success ? "ok" : "bad";
        verdict.textContent = r.success ? `✓ Passed: reply in ${krawall.fmtMs(r.latencyMs)} (connect ${krawall.fmtMs(r.connectLatencyMs)})` : `✗ Failed: ${r.error || "unknown error"}`;
        if (!$("#test-raw").textContent && r.rawResponse) $("#test-raw").textContent = pretty(r.rawResponse);
        if (!$("#test-extracted").textContent && r.testResponse) $("#test-extracted").textContent = r.testResponse;
        $("#last-test").replaceChildren(el("span", { className: r.success ? "ok" : "bad", textContent: r.success ? "✓ passed (just now)" : "✗ failed (just now)" }));
        done();
      });
    });
  }

  initList();
  initForm();
  initTest();
})();
