// Scenario pages: the list (run on a target, delete with "delete anyway", YAML import) and the
// editor (sidebar form, key/value rows, error policy, template gallery, save with field errors).
"use strict";
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    for (const c of children) node.append(c);
    return node;
  };
  const readJson = (id, fallback) => { try { return JSON.parse($(`#${id}`).textContent) ?? fallback; } catch (_) { return fallback; } };
  const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

  // ---- field errors next to the element whose data-field is the longest prefix of the field
  function clearErrors(root) {
    $$(".field-error", root).forEach((p) => p.remove());
    $$("[aria-invalid]", root).forEach((i) => i.removeAttribute("aria-invalid"));
    const box = $("#form-errors");
    if (box) { box.hidden = true; box.replaceChildren(); }
  }
  const covers = (f, field) => field === f || field.startsWith(`${f}.`) || field.startsWith(`${f}[`);
  function showErrors(root, details) {
    clearErrors(root);
    const fields = $$("[data-field]", root);
    details.forEach((d, i) => {
      const best = fields.filter((f) => covers(f.dataset.field, d.field))
        .sort((a, b) => b.dataset.field.length - a.dataset.field.length)[0];
      if (!best) return;
      const p = el("p", { className: "field-error", id: `err-${i}`, textContent: d.rule });
      p.dataset.testid = `error:${d.field}`;
      if (best.matches("input, select, textarea")) {
        best.setAttribute("aria-invalid", "true");
        best.setAttribute("aria-describedby", p.id);
        (best.closest("label") || best.closest(".fb-field") || best).after(p);
      } else (best.querySelector(":scope > .error-slot") || best).prepend(p);
    });
    const box = $("#form-errors");
    box.append(el("p", { textContent: "The scenario was not saved. Please fix:" }),
      el("ul", {}, ...details.map((d) => el("li", { textContent: `${d.field}: ${d.rule}` }))));
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }
  const detailsOf = (err) => (err.body && Array.isArray(err.body.details) ? err.body.details : []);

  // ---- list page
  function deleteFlow(id, name, row) {
    krawall.confirmDelete({ path: `/api/scenarios/${id}`, label: "scenario", name, done: () => row.remove() });
  }

  function initExecute() {
    const dlg = $("#execute-dialog");
    const form = $("#execute-form");
    let scenarioId = null;
    document.addEventListener("click", (e) => {
      const btn = e.target.closest("button[data-action]");
      if (!btn) return;
      if (btn.dataset.action === "delete") deleteFlow(btn.dataset.id, btn.dataset.name, btn.closest("tr"));
      if (btn.dataset.action !== "execute") return;
      scenarioId = btn.dataset.id;
      $("#execute-name").textContent = `“${btn.dataset.name}”`;
      $("#execute-error").hidden = true;
      dlg.showModal();
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const target = $("#execute-target");
      if (!target) return;
      const body = { targetId: target.value, scenarioId };
      const overrides = {};
      for (const [key, sel] of [["repetitions", "#execute-repetitions"], ["concurrency", "#execute-concurrency"], ["delayBetweenMs", "#execute-delay"]]) {
        if ($(sel).value.trim() !== "") overrides[key] = Number($(sel).value);
      }
      Object.assign(overrides, loadOverrides());
      if (Object.keys(overrides).length) body.executionConfig = overrides;
      const submit = $("[type=submit]", form);
      submit.disabled = true;
      try {
        const run = await krawall.api("POST", "/api/execute", body);
        location.href = `/sessions/${run.sessionId}`;
      } catch (err) {
        submit.disabled = false;
        const box = $("#execute-error");
        box.textContent = err.details ? `${err.message} (${err.details})` : err.message;
        box.hidden = false;
      }
    });
    $$("[data-close]").forEach((b) => b.addEventListener("click", () => b.closest("dialog").close()));
    const executor = $("#load-executor");
    if (executor) {
      const show = () => $$("[data-load]").forEach((l) => { l.hidden = !l.dataset.load.split(" ").includes(executor.value); });
      executor.addEventListener("change", show);
      show();
    }
  }

  /** `history`, `load` and `faults` from the execute dialog (the API names the field of any error). */
  function loadOverrides() {
    const out = {};
    const val = (sel) => { const e = $(sel); return e ? e.value.trim() : ""; };
    const num = (sel) => (val(sel) === "" ? undefined : Number(val(sel)));
    const history = val("#execute-history");
    if (history === "full" || history === "none") out.history = history;
    if (history === "window" || history === "maxTokens") out.history = { [history]: num("#execute-history-n") };
    const executor = val("#load-executor");
    if (executor) {
      const load = { executor };
      const set = (key, value) => { if (value !== undefined && value !== "") load[key] = value; };
      set("users", num("#load-users"));
      set("rate", num("#load-rate"));
      set("timeUnit", val("#load-time-unit"));
      set("duration", val("#load-duration"));
      set("maxConversations", num("#load-max-conversations"));
      if (executor.endsWith("arrival-rate")) {
        set("maxConcurrent", num("#load-max-concurrent"));
        set("distribution", val("#load-distribution"));
      } else {
        set("thinkTimeMs", num("#load-think"));
      }
      if (executor.startsWith("ramping")) {
        load.stages = val("#load-stages").split(",").filter((s) => s.trim()).map((s) => {
          const [duration, target] = s.trim().split(":");
          return { duration, target: Number(target) };
        });
      }
      if (num("#load-abort") !== undefined) load.abortOn = { errorRate: num("#load-abort") };
      out.load = load;
    }
    const faults = {};
    for (const key of ["timeoutRate", "serverErrorRate", "rateLimitRate", "dropRate"]) {
      if (num(`#fault-${key}`) !== undefined) faults[key] = num(`#fault-${key}`);
    }
    if (Object.keys(faults).length) {
      if (num("#fault-seed") !== undefined) faults.seed = num("#fault-seed");
      out.faults = faults;
    }
    return out;
  }

  function initImport() {
    const dlg = $("#import-dialog");
    const input = $("#import-files");
    let imported = false;
    $("#import-open").addEventListener("click", () => { $("#import-results").replaceChildren(); dlg.showModal(); });
    dlg.addEventListener("close", () => { if (imported) location.reload(); });
    input.addEventListener("change", () => {
      $("#import-selected").replaceChildren(...Array.from(input.files).map((f) => el("li", { textContent: `${f.name} (${f.size} bytes)` })));
    });
    $("#import-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!input.files.length) { krawall.toast("Choose one or more YAML files first.", true); return; }
      const data = new FormData();
      for (const f of input.files) data.append("file", f, f.name);
      $("#import-submit").disabled = true;
      try {
        const res = await fetch("/api/scenarios/import", { method: "POST", body: data, headers: { "x-csrf-token": krawall.csrf() } });
        const json = await res.json().catch(() => null);
        if (!json || !json.data) throw new Error((json && json.error) || `HTTP ${res.status}`);
        imported = imported || json.data.imported.length > 0;
        renderImport(json.data);
      } catch (err) { krawall.fail(err); } finally { $("#import-submit").disabled = false; }
    });
  }

  function renderImport(data) {
    const list = el("ul", { className: "plain import-results" });
    for (const s of data.imported) {
      const li = el("li", { className: "ok" }, `✓ ${s.file}: imported `, el("a", { href: `/scenarios/${s.id}/edit`, textContent: s.name }));
      li.dataset.testid = "import-ok";
      list.append(li);
    }
    for (const f of data.errors) {
      const li = el("li", { className: "bad" }, `✗ ${f.file}: not imported`,
        el("ul", {}, ...f.errors.map((e) => el("li", { textContent: `${e.field}: ${e.rule}` }))));
      li.dataset.testid = "import-error";
      list.append(li);
    }
    $("#import-results").replaceChildren(list);
  }

  // ---- editor: key/value rows
  function rows(container, prefix, columns, fieldOf, onChange) {
    const render = (values) => {
      container.replaceChildren();
      values.forEach((v) => add(v, false));
    };
    const renumber = () => $$(".kv-row", container).forEach((row, i) => {
      columns.forEach((c) => { $(`[data-col="${c.key}"]`, row).dataset.testid = `${prefix}-${c.key}-${i}`; });
      const btn = $("button", row);
      btn.dataset.testid = `${prefix}-remove-${i}`;
      btn.setAttribute("aria-label", `Remove row ${i + 1}`);
      const value = read(row);
      $$("[data-col]", row).forEach((input) => { input.dataset.field = fieldOf(value, i, input.dataset.col); });
    });
    const read = (row) => Object.fromEntries(columns.map((c) => [c.key, $(`[data-col="${c.key}"]`, row).value]));
    function add(value = {}, focus = true) {
      const row = el("div", { className: "kv-row" });
      for (const c of columns) {
        const input = c.options ? el("select", {}, ...c.options.map(([v, t]) => el("option", { value: v, textContent: t })))
          : el("input", { placeholder: c.placeholder || "" });
        input.dataset.col = c.key;
        input.value = value[c.key] ?? (c.options ? c.options[0][0] : "");
        input.addEventListener("input", () => { renumber(); onChange(); });
        row.append(el("label", {}, c.label, input));
      }
      const remove = el("button", { type: "button", className: "secondary small", textContent: "Remove" });
      remove.addEventListener("click", () => { row.remove(); renumber(); onChange(); });
      row.append(remove);
      container.append(row);
      renumber();
      if (focus) { $("[data-col]", row).focus(); onChange(); }
    }
    return { render, add, values: () => $$(".kv-row", container).map(read) };
  }

  function initEditor() {
    const form = $("#scenario-form");
    if (!form) return;
    const builtins = readJson("builtin-variables", []);
    let dirty = false;
    const touched = () => { dirty = true; $("#save-status").textContent = "Unsaved changes"; };
    const builder = FlowBuilder.create($("#flow-builder"), { variables: builtins, onChange: touched });
    const refreshVariables = () => {
      const own = [...vars.values().map((r) => r.key.trim()), ...extractors.values().map((r) => r.name.trim())];
      builder.setVariables([...builtins, ...own.filter((n) => IDENT.test(n))]);
    };
    const changed = () => { refreshVariables(); touched(); };
    const vars = rows($("#var-rows"), "var", [{ key: "key", label: "Name", placeholder: "greeting" }, { key: "value", label: "Value", placeholder: "Hello!" }],
      (r, i, col) => (col === "key" ? "messageTemplates" : `messageTemplates.${r.key.trim()}`), changed);
    const extractors = rows($("#extractor-rows"), "extractor", [{ key: "name", label: "Name", placeholder: "orderId" }, { key: "path", label: "JSONPath", placeholder: "$.order.id" }],
      (r, i, col) => (col === "name" ? "variableExtractors" : `variableExtractors.${r.name.trim()}`), changed);
    const rules = rows($("#rule-rows"), "rule", [{ key: "codes", label: "Status codes", placeholder: "429, 503" },
      { key: "action", label: "Action", options: [["retry", "retry"], ["skip", "skip"], ["abort", "abort"]] }],
    (r, i, col) => `errorHandling.statusCodeRules[${i}].${col}`, touched);
    $("#var-add").addEventListener("click", () => vars.add());
    $("#extractor-add").addEventListener("click", () => extractors.add());
    $("#rule-add").addEventListener("click", () => rules.add());
    $$("input, select, textarea", $(".editor-side")).forEach((i) => i.addEventListener("input", touched));

    const fill = (spec) => {
      const set = (sel, v) => { $(sel).value = v ?? ""; };
      set("#s-name", spec.name); set("#s-description", spec.description); set("#s-category", spec.category || "custom");
      set("#s-repetitions", spec.repetitions ?? 1); set("#s-concurrency", spec.concurrency ?? 1);
      set("#s-delay", spec.delayBetweenMs ?? 0); set("#s-timeout", spec.messageTimeoutMs ?? 30000);
      set("#s-verbosity", spec.verbosityLevel || "normal");
      const eh = spec.errorHandling || {}, rc = eh.retryConfig || {};
      set("#s-on-error", eh.onError || "skip"); set("#s-retry-max", rc.maxRetries ?? 3); set("#s-retry-delay", rc.delayMs ?? 1000);
      set("#s-retry-backoff", rc.backoffMultiplier ?? 1.5); set("#s-retry-max-delay", rc.maxDelayMs ?? 30000);
      vars.render(Object.entries(spec.messageTemplates || {}).map(([key, value]) => ({ key, value })));
      extractors.render(Object.entries(spec.variableExtractors || {}).map(([name, path]) => ({ name, path })));
      rules.render((eh.statusCodeRules || []).map((r) => ({ codes: (r.codes || []).join(", "), action: r.action })));
      refreshVariables();
      builder.setSteps(spec.flowConfig || []);
      dirty = false;
    };
    fill(readJson("scenario-data", null) || {});
    if (new URLSearchParams(location.search).has("saved")) {
      $("#save-status").textContent = "Saved.";
      history.replaceState(null, "", location.pathname);
    }
    const templates = readJson("templates-data", []);
    $$("[data-template]").forEach((btn) => btn.addEventListener("click", () => {
      const t = templates.find((x) => x.id === btn.dataset.template);
      if (!t || (dirty && !window.confirm("Replace what you have entered with this template?"))) return;
      const { id: _unused, ...spec } = t;
      fill(spec);
      clearErrors(form);
      $("#save-status").textContent = `Template “${t.name}” loaded: adjust it and save.`;
      $(".gallery").open = false;
      $("#s-name").focus();
    }));
    form.addEventListener("submit", (e) => { e.preventDefault(); save(form, builder, { vars, extractors, rules }, () => { dirty = false; }); });
  }

  function collect(builder, { vars, extractors, rules }) {
    const errors = [];
    const v = (sel) => $(sel).value.trim();
    const num = (sel, fallback) => {
      const text = v(sel);
      if (text === "") return fallback;
      return Number.isFinite(Number(text)) ? Number(text) : text;
    };
    const map = (entries, field, what) => {
      const out = {};
      entries.forEach(([k, val], i) => {
        if (!k && !val) return;
        if (!IDENT.test(k)) errors.push({ field, rule: `${what} ${i + 1}: “${k}” is not a valid name (letters, digits and _, not starting with a digit)` });
        else if (Object.hasOwn(out, k)) errors.push({ field, rule: `${what} “${k}” appears twice` });
        out[k] = val;
      });
      return out;
    };
    const statusCodeRules = rules.values().map((r, i) => {
      const parts = r.codes.split(/[\s,;]+/).filter(Boolean);
      const codes = parts.map(Number);
      if (!parts.length || codes.some((c) => !Number.isInteger(c))) {
        errors.push({ field: `errorHandling.statusCodeRules[${i}].codes`, rule: "list HTTP status codes separated by commas, e.g. 429, 503" });
      }
      return { codes, action: r.action };
    });
    const spec = {
      name: v("#s-name"), category: v("#s-category") || "custom", flowConfig: builder.getSteps(),
      repetitions: num("#s-repetitions", 1), concurrency: num("#s-concurrency", 1),
      delayBetweenMs: num("#s-delay", 0), messageTimeoutMs: num("#s-timeout", 30000), verbosityLevel: v("#s-verbosity"),
      messageTemplates: map(vars.values().map((r) => [r.key.trim(), r.value]), "messageTemplates", "Variable"),
      variableExtractors: map(extractors.values().map((r) => [r.name.trim(), r.path.trim()]), "variableExtractors", "Extractor"),
      errorHandling: {
        onError: v("#s-on-error"),
        retryConfig: { maxRetries: num("#s-retry-max", 3), delayMs: num("#s-retry-delay", 1000), backoffMultiplier: num("#s-retry-backoff", 1.5), maxDelayMs: num("#s-retry-max-delay", 30000) },
        statusCodeRules,
      },
    };
    if (v("#s-description")) spec.description = $("#s-description").value.trim();
    return { spec, errors };
  }

  async function save(form, builder, editors, onSaved) {
    const { spec, errors } = collect(builder, editors);
    if (errors.length) { showErrors(form, errors); return; }
    const id = form.dataset.id;
    const button = $("#scenario-save");
    button.disabled = true;
    $("#save-status").textContent = "Saving…";
    try {
      const saved = await krawall.api(id ? "PUT" : "POST", id ? `/api/scenarios/${id}` : "/api/scenarios", spec);
      clearErrors(form);
      onSaved();
      if (!id) { location.href = `/scenarios/${saved.id}/edit?saved=1`; return; }
      $("#save-status").textContent = "Saved.";
      krawall.toast(`Saved “${saved.name}”.`);
    } catch (err) {
      $("#save-status").textContent = "Not saved";
      if (detailsOf(err).length) showErrors(form, detailsOf(err)); else krawall.fail(err);
    } finally { button.disabled = false; }
  }

  if ($("#scenario-form")) initEditor();
  if ($("#execute-dialog")) initExecute();
  if ($("#import-dialog")) initImport();
})();
