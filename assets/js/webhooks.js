// /webhooks: the create/edit form (POST or PUT /api/webhooks; the secret of a new webhook is
// shown once), "Edit", "Delete", "Send test" and "Redeliver" per webhook, then the page reloads.
(() => {
  const box = document.getElementById("webhook-error");
  const form = document.getElementById("webhook-form");
  const show = (err) => {
    box.textContent = err.details ? `${err.message} (${err.details})` : err.message;
    box.hidden = false;
  };
  const reset = () => {
    form.reset();
    form.elements.id.value = "";
    document.getElementById("webhook-form-title").textContent = "New webhook";
    document.getElementById("webhook-new").hidden = true;
  };
  const edit = async (id) => {
    const hook = await krawall.api("GET", `/api/webhooks/${id}`);
    form.elements.id.value = id;
    form.elements.name.value = hook.name;
    form.elements.url.value = hook.url;
    form.elements.enabled.checked = hook.enabled;
    for (const box of form.querySelectorAll("input[name=events]")) box.checked = hook.events.includes(box.value);
    document.getElementById("webhook-form-title").textContent = `Edit ${hook.name}`;
    document.getElementById("webhook-new").hidden = false;
    form.scrollIntoView();
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    box.hidden = true;
    const data = new FormData(form);
    const id = String(data.get("id") || "");
    const body = {
      name: String(data.get("name")).trim(),
      url: String(data.get("url")).trim(),
      events: data.getAll("events"),
      enabled: form.elements.enabled.checked,
    };
    const secret = String(data.get("secret") || "").trim();
    if (secret) body.secret = secret;
    try {
      if (id) {
        await krawall.api("PUT", `/api/webhooks/${id}`, body);
        location.reload();
        return;
      }
      const created = await krawall.api("POST", "/api/webhooks", body);
      reset();
      document.getElementById("webhook-secret").textContent = created.secret;
      document.getElementById("webhook-created").hidden = false;
    } catch (err) { show(err); }
  });
  document.getElementById("webhook-new").addEventListener("click", reset);
  document.getElementById("webhook-created-done").addEventListener("click", () => location.reload());
  document.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-action]");
    if (!button) return;
    const hook = button.dataset.webhook;
    const action = button.dataset.action;
    if (action === "edit") { edit(hook).catch(show); return; }
    if (action === "delete" && !confirm("Delete this webhook? Deliveries not yet sent are given up.")) return;
    const path = action === "test" ? `/api/webhooks/${hook}/test`
      : action === "delete" ? `/api/webhooks/${hook}`
      : `/api/webhooks/${hook}/deliveries/${button.dataset.delivery}/redeliver`;
    button.disabled = true;
    try {
      await krawall.api(action === "delete" ? "DELETE" : "POST", path, action === "delete" ? undefined : {});
      setTimeout(() => location.reload(), action === "delete" ? 0 : 500);
    } catch (err) {
      show(err);
      button.disabled = false;
    }
  });
})();
