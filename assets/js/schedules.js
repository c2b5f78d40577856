// /schedules: the create/edit form (POST /api/scheduled-jobs, PUT ?id=), the cron examples, the
// next runs from the API's `nextRuns` after saving, and Edit / Enable-Disable / Delete per row.
(() => {
  const form = document.getElementById("schedule-form");
  if (!form) return;
  const box = document.getElementById("schedule-error");
  const show = (err) => {
    box.textContent = err.details ? `${err.message} (${err.details})` : err.message;
    box.hidden = false;
  };
  const body = () => {
    const data = new FormData(form);
    return {
      name: String(data.get("name")).trim(),
      scenarioId: String(data.get("scenarioId") || ""),
      targetIds: data.getAll("targetIds"),
      cronExpression: String(data.get("cronExpression")).trim(),
      timezone: String(data.get("timezone")).trim(),
      missedRunPolicy: String(data.get("missedRunPolicy")),
      isEnabled: form.elements.isEnabled.checked,
    };
  };
  const nextRuns = async (id) => {
    const job = await krawall.api("GET", `/api/scheduled-jobs/${id}`);
    document.getElementById("schedule-next-name").textContent = job.name;
    const list = document.getElementById("schedule-next-list");
    list.replaceChildren(...job.nextRuns.map((r) => {
      const li = document.createElement("li");
      li.dataset.testid = "next-run";
      li.textContent = `${r.local} (${r.utc})`;
      return li;
    }));
    document.getElementById("schedule-next").hidden = false;
    return job;
  };
  const edit = async (id) => {
    const job = await nextRuns(id);
    form.elements.id.value = id;
    for (const name of ["name", "scenarioId", "cronExpression", "timezone", "missedRunPolicy"]) form.elements[name].value = job[name];
    form.elements.isEnabled.checked = job.isEnabled;
    for (const t of form.querySelectorAll("input[name=targetIds]")) t.checked = job.targetIds.includes(t.value);
    document.getElementById("schedule-form-title").textContent = `Edit ${job.name}`;
    document.getElementById("schedule-new").hidden = false;
    form.scrollIntoView();
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    box.hidden = true;
    const id = form.elements.id.value;
    try {
      const saved = id
        ? await krawall.api("PUT", `/api/scheduled-jobs?id=${id}`, body())
        : await krawall.api("POST", "/api/scheduled-jobs", body());
      await nextRuns(id || saved.id);
    } catch (err) { show(err); }
  });
  form.addEventListener("click", (e) => {
    const example = e.target.closest("button[data-cron]");
    if (example) form.elements.cronExpression.value = example.dataset.cron;
  });
  document.getElementById("schedule-new").addEventListener("click", () => location.reload());
  document.getElementById("schedule-next-done").addEventListener("click", () => location.reload());
  document.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-action]");
    if (!button) return;
    const id = button.dataset.id;
    try {
      if (button.dataset.action === "edit") { await edit(id); return; }
      if (button.dataset.action === "delete") {
        if (!confirm("Delete this schedule? Its past runs stay.")) return;
        await krawall.api("DELETE", `/api/scheduled-jobs?id=${id}`);
      } else {
        const job = await krawall.api("GET", `/api/scheduled-jobs/${id}`);
        const { name, scenarioId, targetIds, cronExpression, timezone, executionConfig, missedRunPolicy } = job;
        await krawall.api("PUT", `/api/scheduled-jobs?id=${id}`,
          { name, scenarioId, targetIds, cronExpression, timezone, executionConfig, missedRunPolicy, isEnabled: !job.isEnabled });
      }
      location.reload();
    } catch (err) { show(err); }
  });
})();
