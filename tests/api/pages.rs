//! Dashboard pages and embedded assets over HTTP (browser tests live in tests/browser).

use crate::helpers::{Backend, spawn_app};

#[actix_web::test]
async fn health_page_and_assets_are_served() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let resp = app
        .client
        .get(format!("{}/health", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Event log head") && html.contains("<nav"),
        "{html}"
    );
    let css = app
        .client
        .get(format!("{}/assets/css/app.css", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css");
    let chart = app
        .client
        .get(format!(
            "{}/assets/vendor/uplot/uPlot.iife.min.js",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(chart.status(), 200);
    let missing = app
        .client
        .get(format!("{}/assets/nope.js", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
