//! Wiring of the dashboard pages and the embedded assets to their handlers.

use actix_web::web;

use super::{
    audit, automation, batches, compare, health, home, login, metrics, pricing, scenario_editor,
    scenarios, session_detail, sessions, settings, targets, users,
};

/// Registers every page route and the embedded assets.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/{path:.*}", web::get().to(crate::assets::asset))
        .route("/login", web::get().to(login::show_login))
        .route("/login", web::post().to(login::submit_login))
        .route("/logout", web::post().to(login::logout))
        .route("/setup", web::get().to(login::show_setup))
        .route("/setup", web::post().to(login::submit_setup))
        .route("/audit", web::get().to(audit::show_audit))
        .route("/", web::get().to(home::show_home))
        .route("/health", web::get().to(health::show_health))
        .route("/sessions", web::get().to(sessions::list_sessions))
        .route(
            "/sessions/{id}",
            web::get().to(session_detail::show_session),
        )
        .route("/schedules", web::get().to(automation::schedules))
        .route("/schedules/{id}", web::get().to(automation::schedule))
        .route("/webhooks", web::get().to(automation::webhooks))
        .route("/batches", web::get().to(batches::index))
        .route("/batches/{id}", web::get().to(batches::show))
        .route("/compare/{id}", web::get().to(compare::show))
        .route("/metrics", web::get().to(metrics::show_metrics))
        .route("/settings", web::get().to(settings::show_settings))
        .route("/settings/pricing", web::get().to(pricing::show_pricing))
        .route("/settings/users", web::get().to(users::show_users))
        .route("/targets", web::get().to(targets::index))
        .route("/targets/new", web::get().to(targets::new))
        .route("/targets/{id}", web::get().to(targets::show))
        .route("/targets/{id}/edit", web::get().to(targets::edit))
        .route("/scenarios", web::get().to(scenarios::index))
        .route("/scenarios/new", web::get().to(scenario_editor::new))
        .route("/scenarios/{id}", web::get().to(scenarios::show))
        .route("/scenarios/{id}/edit", web::get().to(scenario_editor::edit));
}
