// Flow builder: edits a scenario's canonical flowConfig tree (message, delay, loop with nested
// steps, conditional with then/else lists) at any depth. Reordering uses buttons, so it works
// from the keyboard; every control has a data-testid of the form `<what>:<path>`, where <path>
// is the API's field path (e.g. `content:flowConfig[1].config.steps[0]`).
"use strict";
window.FlowBuilder = (() => {
  const TYPES = { message: "Message", delay: "Delay", loop: "Loop", conditional: "Conditional" };
  const FAULTS = [["", "none"], ["malformed_json", "malformed JSON"], ["empty_body", "empty body"], ["oversized", "oversized body"]];
  const CONDITION_HINT = "contains:yes · equals:text · matches:^re$ · length>100 · jsonpath:$.path == value";
  const FRESH = {
    message: () => ({ type: "message", config: { content: "" } }),
    delay: () => ({ type: "delay", config: { durationMs: 1000 } }),
    loop: () => ({ type: "loop", config: { iterations: 3, steps: [] } }),
    conditional: () => ({ type: "conditional", config: { condition: "contains:yes", thenSteps: [], elseSteps: [] } }),
  };
  const FIRST_INPUT = { message: "content", delay: "duration", loop: "iterations", conditional: "condition" };
  const VAR_RE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    for (const c of children) node.append(c);
    return node;
  };
  const tag = (node, testid, field) => {
    node.dataset.testid = testid;
    if (field) node.dataset.field = field;
    return node;
  };
  let uid = 0;
  const nextId = () => `fb-${++uid}`;
  /** Human step number from a path: flowConfig[1].config.steps[0] → "2.1", then-branch → "2.then.1". */
  const stepLabel = (path) => Array.from(path.matchAll(/\[(\d+)\]|\.(then|else)Steps/g))
    .map((m) => (m[1] !== undefined ? String(Number(m[1]) + 1) : m[2])).join(".");
  const describe = (listPath) => {
    if (listPath === "flowConfig") return "the flow";
    const owner = stepLabel(listPath.replace(/\.config\.(steps|thenSteps|elseSteps)$/, ""));
    if (listPath.endsWith("thenSteps")) return `the then branch of step ${owner}`;
    if (listPath.endsWith("elseSteps")) return `the else branch of step ${owner}`;
    return `the loop of step ${owner}`;
  };
  /** A number when the text is one; otherwise the raw text, so the API names the field. */
  const numberOr = (text) => (text.trim() !== "" && Number.isFinite(Number(text)) ? Number(text) : text.trim() === "" ? null : text);

  function create(root, options = {}) {
    let steps = [];
    let variables = [];
    let pendingFocus = null;
    const onChange = options.onChange || (() => {});

    const changed = (structural) => {
      if (structural) render();
      onChange();
    };

    function button(text, testid, onClick, label, disabled) {
      const b = tag(el("button", { type: "button", className: "secondary small", textContent: text, disabled: !!disabled }), testid);
      if (label) b.setAttribute("aria-label", label);
      b.addEventListener("click", onClick);
      return b;
    }

    function field(labelText, input, hint) {
      input.id = input.id || nextId();
      const at = (input.dataset.testid || "").split(":")[1];
      if (at) input.setAttribute("aria-label", `${labelText}, step ${stepLabel(at)}`);
      const wrap = el("div", { className: "fb-field" }, el("label", { htmlFor: input.id, textContent: labelText }), input);
      if (hint) {
        const h = el("p", { className: "hint small", id: nextId(), textContent: hint });
        input.setAttribute("aria-describedby", h.id);
        wrap.append(h);
      }
      return wrap;
    }

    function numberInput(value, testid, fieldPath, min, onValue) {
      const input = tag(el("input", { type: "number", min: String(min), value: value ?? "" }), testid, fieldPath);
      input.addEventListener("input", () => { onValue(numberOr(input.value)); changed(false); });
      return input;
    }

    function unknownVariables(text) {
      const names = new Set();
      for (const m of text.matchAll(VAR_RE)) if (!variables.includes(m[1])) names.add(m[1]);
      return [...names];
    }

    function messageBody(step, path) {
      const ta = tag(el("textarea", { rows: 3, value: step.config.content ?? "" }), `content:${path}`, `${path}.config.content`);
      const warn = tag(el("p", { className: "warn small", hidden: true }), `unknown-vars:${path}`);
      const check = () => {
        const unknown = unknownVariables(ta.value);
        warn.hidden = unknown.length === 0;
        warn.textContent = unknown.length ? `Not defined, will render empty: ${unknown.map((n) => `{{${n}}}`).join(", ")}` : "";
      };
      ta.addEventListener("input", () => { step.config.content = ta.value; check(); changed(false); });
      ta.dataset.varCheck = "1";
      ta.fbCheck = check;
      check();
      const picker = tag(el("select", { className: "var-picker" }), `var-picker:${path}`);
      fillPicker(picker);
      const insert = button("Insert variable", `insert-var:${path}`, () => {
        if (!picker.value) return;
        const start = ta.selectionStart ?? ta.value.length;
        ta.setRangeText(`{{${picker.value}}}`, start, ta.selectionEnd ?? start, "end");
        ta.dispatchEvent(new Event("input", { bubbles: true }));
        ta.focus();
      }, `Insert the chosen variable into message ${stepLabel(path)} at the cursor`);
      const inject = tag(el("select"), `inject:${path}`, `${path}.config.inject`);
      for (const [value, text] of FAULTS) inject.append(el("option", { value, textContent: text, selected: (step.config.inject || "") === value }));
      inject.addEventListener("change", () => {
        if (inject.value) step.config.inject = inject.value; else delete step.config.inject;
        changed(false);
      });
      return [
        field("Message", ta, "Use {{variable}} for built-in and custom variables."), warn,
        el("div", { className: "fb-row" }, field("Variable", picker), insert, field("Inject fault", inject)),
      ];
    }

    function fillPicker(select) {
      const current = select.value;
      select.replaceChildren(...variables.map((name) => el("option", { value: name, textContent: `{{${name}}}`, selected: name === current })));
    }

    function body(step, path, depth) {
      const c = step.config;
      switch (step.type) {
        case "message": return messageBody(step, path);
        case "delay": return [field("Duration (ms)", numberInput(c.durationMs, `duration:${path}`, `${path}.config.durationMs`, 0, (v) => { c.durationMs = v; }))];
        case "loop": return [
          field("Iterations", numberInput(c.iterations, `iterations:${path}`, `${path}.config.iterations`, 1, (v) => { c.iterations = v; })),
          el("div", { className: "branch" }, el("p", { className: "branch-title", textContent: "Repeat these steps" }), list(c.steps, `${path}.config.steps`, depth + 1)),
        ];
        case "conditional": {
          const input = tag(el("input", { value: c.condition ?? "" }), `condition:${path}`, `${path}.config.condition`);
          input.addEventListener("input", () => { c.condition = input.value; changed(false); });
          return [
            field("Condition on the last reply", input, CONDITION_HINT),
            el("div", { className: "branch" }, el("p", { className: "branch-title", textContent: "Then (condition holds)" }), list(c.thenSteps, `${path}.config.thenSteps`, depth + 1)),
            el("div", { className: "branch" }, el("p", { className: "branch-title", textContent: "Else" }), list(c.elseSteps, `${path}.config.elseSteps`, depth + 1)),
          ];
        }
        default: return [el("pre", { textContent: JSON.stringify(step.config, null, 2) })];
      }
    }

    function move(items, i, delta, path) {
      const j = i + delta;
      [items[i], items[j]] = [items[j], items[i]];
      const moved = path.replace(/\[\d+\]$/, `[${j}]`);
      const edge = j === 0 || j === items.length - 1;
      pendingFocus = `${edge ? (delta < 0 ? "move-down" : "move-up") : delta < 0 ? "move-up" : "move-down"}:${moved}`;
      changed(true);
    }

    function remove(items, i, listPath) {
      items.splice(i, 1);
      pendingFocus = items.length ? `delete:${listPath}[${Math.min(i, items.length - 1)}]` : `add-message:${listPath}`;
      changed(true);
    }

    function stepCard(items, i, listPath, depth) {
      const step = items[i];
      const path = `${listPath}[${i}]`;
      const label = stepLabel(path);
      const li = tag(el("li", { className: `fb-step fb-${step.type}` }), `step:${path}`, path);
      const title = el("h3", { className: "fb-title" }, el("span", { className: "fb-num", textContent: label }), ` ${TYPES[step.type] || step.type}`);
      const tools = el("div", { className: "fb-tools" },
        button("↑", `move-up:${path}`, () => move(items, i, -1, path), `Move step ${label} up`, i === 0),
        button("↓", `move-down:${path}`, () => move(items, i, 1, path), `Move step ${label} down`, i === items.length - 1),
        button("Delete", `delete:${path}`, () => remove(items, i, listPath), `Delete step ${label}`));
      li.append(el("div", { className: "fb-head" }, title, tools), el("div", { className: "error-slot" }), ...body(step, path, depth));
      return li;
    }

    function list(items, listPath, depth) {
      const wrap = tag(el("div", { className: "fb-list" }), `steps:${listPath}`, listPath);
      if (!items.length) wrap.append(el("p", { className: "muted small", textContent: depth === 0 ? "No steps yet: add the first message." : "No steps here yet." }));
      const ol = el("ol", { className: "fb-steps" });
      items.forEach((_, i) => ol.append(stepCard(items, i, listPath, depth)));
      const bar = el("div", { className: "fb-add", role: "group" });
      bar.setAttribute("aria-label", `Add a step to ${describe(listPath)}`);
      for (const type of Object.keys(TYPES)) {
        bar.append(button(`+ ${TYPES[type]}`, `add-${type}:${listPath}`, () => {
          items.push(FRESH[type]());
          pendingFocus = `${FIRST_INPUT[type]}:${listPath}[${items.length - 1}]`;
          changed(true);
        }, `Add a ${type} step to ${describe(listPath)}`));
      }
      wrap.append(ol, bar);
      return wrap;
    }

    function render() {
      root.replaceChildren(list(steps, "flowConfig", 0));
      if (pendingFocus) {
        root.querySelector(`[data-testid="${CSS.escape(pendingFocus)}"]`)?.focus();
        pendingFocus = null;
      }
    }

    const api = {
      getSteps: () => JSON.parse(JSON.stringify(steps)),
      setSteps(next) { steps = JSON.parse(JSON.stringify(next || [])); render(); },
      setVariables(names) {
        variables = [...new Set(names)].sort((a, b) => a.localeCompare(b));
        root.querySelectorAll("select.var-picker").forEach(fillPicker);
        root.querySelectorAll("textarea[data-var-check]").forEach((ta) => ta.fbCheck && ta.fbCheck());
      },
    };
    api.setVariables(options.variables || []);
    api.setSteps(options.steps || []);
    return api;
  }

  return { create };
})();
