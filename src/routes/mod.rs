//! HTTP API routes (upstream-compatible JSON envelope) and their wiring.

mod envelope;
mod global_stream;
mod health;
mod presets;
mod references;
mod scenario_templates;
mod scenario_yaml;
mod scenarios;
mod sessions;
mod state;
mod stream;
mod target_test;
mod targets;
mod templates;

pub use envelope::ApiError;
pub use state::AppState;

use actix_web::web;

/// Registers every `/api` route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api")
            .route("/health", web::get().to(health::health))
            .route("/stream", web::get().to(global_stream::stream_all))
            .route("/targets", web::get().to(targets::list_targets))
            .route("/targets", web::post().to(targets::create_target))
            .route("/targets/{id}", web::get().to(targets::get_target))
            .route("/targets/{id}", web::put().to(targets::update_target))
            .route("/targets/{id}", web::delete().to(targets::delete_target))
            .route(
                "/targets/{id}/test",
                web::post().to(target_test::test_target),
            )
            .route(
                "/targets/{id}/test/stream",
                web::get().to(target_test::test_target_stream),
            )
            .route("/presets", web::get().to(presets::list_presets))
            .route("/scenarios", web::get().to(scenarios::list_scenarios))
            .route("/scenarios", web::post().to(scenarios::create_scenario))
            .route(
                "/scenarios/templates",
                web::get().to(scenario_templates::list_templates),
            )
            .route(
                "/scenarios/import",
                web::post().to(scenario_yaml::import_scenarios),
            )
            .route(
                "/scenarios/{id}/export",
                web::get().to(scenario_yaml::export_scenario),
            )
            .route(
                "/templates/validate",
                web::post().to(templates::validate_templates),
            )
            .route("/scenarios/{id}", web::get().to(scenarios::get_scenario))
            .route("/scenarios/{id}", web::put().to(scenarios::update_scenario))
            .route(
                "/scenarios/{id}",
                web::delete().to(scenarios::delete_scenario),
            )
            .route("/execute", web::post().to(sessions::execute))
            .route("/sessions", web::get().to(sessions::list_sessions))
            .route("/sessions/{id}", web::get().to(sessions::get_session))
            .route("/sessions/{id}", web::patch().to(sessions::patch_session))
            .route("/sessions/{id}", web::delete().to(sessions::delete_session))
            .route(
                "/sessions/{id}/messages",
                web::get().to(sessions::list_messages),
            )
            .route(
                "/sessions/{id}/events",
                web::get().to(sessions::list_events),
            )
            .route(
                "/sessions/{id}/stream",
                web::get().to(stream::stream_session),
            ),
    );
}
