// /settings: saves the node defaults with PUT /api/settings (an empty field = the built-in
// default, sent as null), then reloads the page.
(() => {
  const form = document.getElementById("settings-form");
  if (!form) return;
  const num = (data, name) => {
    const raw = String(data.get(name) ?? "").trim();
    return raw === "" ? null : Number(raw);
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const rps = num(data, "requestsPerSecond");
    const tpm = num(data, "tokensPerMinute");
    const rateLimit = rps === null && tpm === null ? null : {};
    if (rps !== null) rateLimit.requestsPerSecond = rps;
    if (tpm !== null) rateLimit.tokensPerMinute = tpm;
    const body = {
      messageTimeoutMs: num(data, "messageTimeoutMs"),
      rateLimit,
      retentionDays: num(data, "retentionDays"),
      webhookRetry: {},
    };
    for (const name of ["maxAttempts", "initialDelayMs", "multiplier", "maxDelayMs"]) {
      const value = num(data, name);
      if (value !== null) body.webhookRetry[name] = value;
    }
    const box = document.getElementById("settings-error");
    try {
      await krawall.api("PUT", "/api/settings", body);
      location.reload();
    } catch (err) {
      box.textContent = err.details ? `${err.message} (${err.details})` : err.message;
      box.hidden = false;
    }
  });
})();
