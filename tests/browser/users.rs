//! The users page as an admin uses it: a token created there shows its secret once and works
//! as a bearer token until it is revoked from the page; a user added there gets a new role and
//! is disabled with the page's controls.

use crate::harness::{Ui, tid};

/// Status of `GET /api/sessions` with `Authorization: Bearer token`.
async fn bearer_status(ui: &Ui, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/api/sessions", ui.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn create_and_revoke_a_token(ui: &Ui) {
    ui.goto("/settings/users").await;
    ui.fill(&tid("token-name"), "grafana").await;
    ui.id("token-role")
        .await
        .select_by_value("viewer")
        .await
        .unwrap();
    ui.click("token-create").await;
    ui.wait_text("token-secret", "krw_").await;
    let secret = ui.text("token-secret").await;
    assert_eq!(bearer_status(ui, &secret).await, 200);
    ui.goto("/settings/users").await;
    ui.wait_text("tokens-table", "grafana").await;
    let page = ui.js("return document.body.innerHTML").await;
    assert!(!page.as_str().unwrap().contains(&secret), "shown once only");
    let row = "[data-testid=token-row]:has(td:first-child)";
    ui.wait_js(
        &format!("return [...document.querySelectorAll('{row}')].some(r => r.textContent.includes('grafana') && r.textContent.includes('viewer'));"),
        "the new token's row",
    )
    .await;
    ui.js("document.querySelectorAll('[data-testid=token-row]').forEach(r => { if (r.textContent.includes('grafana')) r.querySelector('[data-testid=token-revoke]').click(); });")
        .await;
    ui.client.accept_alert().await.unwrap();
    ui.wait_js(
        "return [...document.querySelectorAll('[data-testid=token-row]')].some(r => r.textContent.includes('grafana') && r.querySelector('[data-testid=token-status]').textContent.includes('revoked'));",
        "the token revoked",
    )
    .await;
    assert_eq!(bearer_status(ui, &secret).await, 401);
}

async fn add_promote_and_disable_a_user(ui: &Ui) {
    ui.fill(&tid("user-username"), "frank").await;
    ui.fill(&tid("user-password"), "a long enough password")
        .await;
    ui.click("user-add").await;
    let frank = "[data-testid=user-row][data-username=frank]";
    ui.css(frank).await;
    // Choosing an option saves at once and reloads the page (which drops `window.before`).
    ui.js(&format!(
        "window.before = true; const s = document.querySelector('{frank} [data-testid=user-role]'); s.value = 'operator'; s.dispatchEvent(new Event('change'));"
    ))
    .await;
    ui.wait_js(
        &format!("return !window.before && document.readyState === 'complete' && document.querySelector('{frank} [data-testid=user-role]').value === 'operator';"),
        "the new role after the reload",
    )
    .await;
    ui.css(&format!("{frank} [data-testid=user-disable]"))
        .await
        .click()
        .await
        .unwrap();
    ui.css(&format!("{frank} [data-testid=user-enable]")).await;
    let status = ui
        .css(&format!("{frank} [data-testid=user-status]"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(status, "disabled");
}

#[actix_web::test]
async fn tokens_and_users_are_managed_from_the_users_page() {
    let Some(ui) = Ui::start().await else { return };
    create_and_revoke_a_token(&ui).await;
    add_promote_and_disable_a_user(&ui).await;
    ui.assert_resources_ok("/settings/users").await;
    let users = ui
        .http
        .get(format!("{}/api/users", ui.base))
        .send()
        .await
        .unwrap();
    let users: serde_json::Value = users.json().await.unwrap();
    let frank = users["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "frank")
        .cloned()
        .unwrap();
    assert_eq!(
        (&frank["role"], &frank["disabled"]),
        (&"operator".into(), &true.into())
    );
    ui.finish().await;
}
