// /webhooks: "Send test" and "Redeliver" queue a delivery through the API, then reload the log.
(() => {
  const box = document.getElementById("webhook-error");
  document.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-action]");
    if (!button) return;
    const hook = button.dataset.webhook;
    const path = button.dataset.action === "test"
      ? `/api/webhooks/${hook}/test`
      : `/api/webhooks/${hook}/deliveries/${button.dataset.delivery}/redeliver`;
    button.disabled = true;
    try {
      await krawall.api("POST", path, {});
      setTimeout(() => location.reload(), 500);
    } catch (err) {
      box.textContent = err.message;
      box.hidden = false;
      button.disabled = false;
    }
  });
})();
