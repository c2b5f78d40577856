//! `/api/docs` in a real browser: the vendored Swagger UI loads the node's generated contract
//! (under the node's Content-Security-Policy, no inline script) and lists its operations.

use crate::harness::Ui;

#[actix_web::test]
async fn swagger_ui_renders_the_generated_contract() {
    let Some(ui) = Ui::start().await else { return };
    ui.goto("/api/docs").await;
    ui.wait_js(
        "return document.querySelectorAll('.swagger-ui .opblock').length >= 40;",
        "Swagger UI to list the operations",
    )
    .await;
    ui.assert_resources_ok("/api/docs").await;
    let text = ui.js("return document.body.innerText").await;
    let text = text.as_str().unwrap();
    assert!(
        text.contains("Krawall API"),
        "{}",
        &text[..text.len().min(500)]
    );
    assert!(
        text.contains("/api/targets/{id}"),
        "{}",
        &text[..text.len().min(500)]
    );
    ui.finish().await;
}
