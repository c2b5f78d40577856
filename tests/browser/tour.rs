//! Every main page renders in the browser: title, main navigation, no error page, every script
//! and stylesheet loaded, the page's landmark element present; with screenshots after a run.

use crate::harness::Ui;

/// (path, an element the page must show, screenshot name).
const PAGES: &[(&str, &str, &str)] = &[
    ("/", "[data-testid=totals]", "command-center"),
    ("/targets", "h1", "targets"),
    ("/scenarios", "h1", "scenarios"),
    ("/sessions", "[data-testid=status-filter]", "sessions"),
    ("/batches", "[data-testid=batches-table]", "batches"),
    ("/schedules", "[data-testid=schedules-table]", "schedules"),
    ("/webhooks", "h1", "webhooks"),
    ("/metrics", "h1", "metrics"),
    ("/health", "[data-testid=head]", "health"),
    ("/settings/users", "[data-testid=users-table]", "users"),
];

/// Visits every main page; saves `docs/screenshots/{name}.png` when `screenshots` is set.
pub async fn visit_main_pages(ui: &Ui, screenshots: bool) {
    for (path, landmark, name) in PAGES {
        ui.goto(path).await;
        ui.assert_page_ok(path).await;
        ui.css(landmark).await;
        ui.assert_resources_ok(path).await;
        if screenshots && !["scenarios", "batches", "schedules", "webhooks", "users"].contains(name)
        {
            ui.screenshot(name).await;
        }
    }
}

#[actix_web::test]
async fn every_main_page_renders_on_an_empty_node() {
    let Some(ui) = Ui::start().await else { return };
    visit_main_pages(&ui, false).await;
    ui.goto("/").await;
    ui.id("empty-state").await;
    ui.id("create-first-target").await;
    ui.goto("/sessions").await;
    ui.id("sessions-empty").await;
    ui.finish().await;
}
