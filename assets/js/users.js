// /settings/users: add users, change roles, disable / enable (PATCH /api/users/{username}),
// create tokens (the secret is shown once, here) and revoke them. Reloads after each change.
(() => {
  const errorBox = document.getElementById("users-error");
  const show = (err) => {
    errorBox.textContent = err.details ? `${err.message} (${err.details})` : err.message;
    errorBox.hidden = false;
  };
  const run = async (work, reload = true) => {
    errorBox.hidden = true;
    try {
      await work();
      if (reload) location.reload();
    } catch (err) { show(err); }
  };
  const patchUser = (username, body) =>
    krawall.api("PATCH", `/api/users/${encodeURIComponent(username)}`, body);

  document.querySelectorAll(".user-role").forEach((select) => {
    select.addEventListener("change", () =>
      run(() => patchUser(select.dataset.username, { role: select.value })));
  });
  document.querySelectorAll(".user-toggle").forEach((button) => {
    button.addEventListener("click", () =>
      run(() => patchUser(button.dataset.username, { disabled: button.dataset.disabled === "true" })));
  });
  document.querySelectorAll(".token-revoke").forEach((button) => {
    button.addEventListener("click", () => {
      if (!confirm(`Revoke token “${button.dataset.name}”? Scripts using it stop working at once.`)) return;
      run(() => krawall.api("DELETE", `/api/tokens/${button.dataset.tokenId}`));
    });
  });

  const userForm = document.getElementById("user-form");
  userForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(userForm);
    run(() => krawall.api("POST", "/api/users", {
      username: String(data.get("username")).trim(),
      password: String(data.get("password")),
      role: String(data.get("role")),
    }));
  });

  const tokenForm = document.getElementById("token-form");
  tokenForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(tokenForm);
    run(async () => {
      const created = await krawall.api("POST", "/api/tokens", {
        name: String(data.get("name")).trim(),
        role: String(data.get("role")),
      });
      document.getElementById("token-secret").textContent = created.token;
      document.getElementById("token-created").hidden = false;
      tokenForm.reset();
    }, false);
  });
})();
