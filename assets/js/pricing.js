// /settings/pricing: sets one model's price with PUT /api/pricing, then reloads the table.
(() => {
  const form = document.getElementById("price-form");
  if (!form) return;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const model = {
      model: String(data.get("model")).trim(),
      inputPerMTok: Number(data.get("inputPerMTok")),
      outputPerMTok: Number(data.get("outputPerMTok")),
      currency: String(data.get("currency")).trim(),
    };
    const box = document.getElementById("price-error");
    try {
      await krawall.api("PUT", "/api/pricing", { models: [model] });
      location.reload();
    } catch (err) {
      box.textContent = err.details ? `${err.message} (${err.details})` : err.message;
      box.hidden = false;
    }
  });
})();
