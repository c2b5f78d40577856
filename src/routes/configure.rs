//! Wiring of the `/api` routes to their handlers, one group per resource family.

use actix_web::{Scope, web};

use super::{
    accounts, batches, compare, exports, global_stream, health, metrics, presets, pricing,
    prometheus, report, scenario_templates, scenario_yaml, scenarios, schedules, sessions,
    settings, stream, target_test, targets, templates, webhooks,
};

/// Registers every `/api` route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let api = web::scope("/api")
        .route("/health", web::get().to(health::health))
        .route("/stream", web::get().to(global_stream::stream_all));
    // `/metrics` is also the dashboard page: scrapers that ask for the Prometheus or OpenMetrics
    // text format get it here, browsers fall through to the page.
    cfg.service(
        web::resource("/metrics")
            .guard(actix_web::guard::fn_guard(prometheus::wants_text))
            .route(web::get().to(prometheus::metrics)),
    );
    cfg.service(account_routes(schedule_routes(webhook_routes(
        session_routes(catalog_routes(api)),
    ))));
}

/// Targets, presets, scenarios and templates.
fn catalog_routes(scope: Scope) -> Scope {
    scope
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
        .route("/pricing", web::get().to(pricing::get_pricing))
        .route("/pricing", web::put().to(pricing::put_pricing))
        .route("/settings", web::get().to(settings::get_settings))
        .route("/settings", web::put().to(settings::put_settings))
        .route(
            "/settings/retention/run",
            web::post().to(settings::run_retention),
        )
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
}

/// Executing sessions and reading them back.
fn session_routes(scope: Scope) -> Scope {
    scope
        .route("/execute", web::post().to(sessions::execute))
        .route("/execute/batch", web::post().to(batches::execute_batch))
        .route("/execute/batch", web::get().to(batches::list_batches))
        .route("/execute/batch/{id}", web::get().to(batches::get_batch))
        .route("/sessions", web::get().to(sessions::list_sessions))
        .route("/sessions/{id}", web::get().to(sessions::get_session))
        .route("/sessions/{id}", web::patch().to(sessions::patch_session))
        .route("/sessions/{id}", web::delete().to(sessions::delete_session))
        .route(
            "/sessions/{id}/messages",
            web::get().to(sessions::list_messages),
        )
        .route(
            "/sessions/{id}/metrics",
            web::get().to(metrics::session_metrics),
        )
        .route("/metrics", web::get().to(metrics::list_metrics))
        .route("/metrics/export", web::get().to(metrics::export_metrics))
        .route("/dashboard/stats", web::get().to(metrics::dashboard_stats))
        .route("/compare", web::post().to(compare::create_comparison))
        .route("/compare", web::get().to(compare::list_comparisons))
        .route("/compare/{id}", web::get().to(compare::get_comparison))
        .route(
            "/sessions/{id}/export",
            web::get().to(exports::export_session),
        )
        .route(
            "/sessions/{id}/report",
            web::get().to(report::session_report),
        )
        .route("/export/sessions", web::get().to(exports::export_sessions))
        .route(
            "/sessions/{id}/events",
            web::get().to(sessions::list_events),
        )
        .route(
            "/sessions/{id}/stream",
            web::get().to(stream::stream_session),
        )
}

/// Webhooks and their delivery log.
fn webhook_routes(scope: Scope) -> Scope {
    scope
        .route("/webhooks", web::get().to(webhooks::list_webhooks))
        .route("/webhooks", web::post().to(webhooks::create_webhook))
        .route("/webhooks/{id}", web::get().to(webhooks::get_webhook))
        .route("/webhooks/{id}", web::put().to(webhooks::update_webhook))
        .route("/webhooks/{id}", web::delete().to(webhooks::delete_webhook))
        .route(
            "/webhooks/{id}/test",
            web::post().to(webhooks::test_webhook),
        )
        .route(
            "/webhooks/{id}/deliveries",
            web::get().to(webhooks::list_deliveries),
        )
        .route(
            "/webhooks/{id}/deliveries/{delivery}/redeliver",
            web::post().to(webhooks::redeliver),
        )
}

/// Scheduled jobs (upstream's `?id=` style for PUT and DELETE).
fn schedule_routes(scope: Scope) -> Scope {
    scope
        .route("/scheduled-jobs", web::get().to(schedules::list_jobs))
        .route("/scheduled-jobs", web::post().to(schedules::create_job))
        .route("/scheduled-jobs", web::put().to(schedules::update_job))
        .route("/scheduled-jobs", web::delete().to(schedules::delete_job))
        .route("/scheduled-jobs/{id}", web::get().to(schedules::get_job))
}

/// Users, API tokens and the audit log (admins only, see `auth::policy`).
fn account_routes(scope: Scope) -> Scope {
    scope
        .route("/auth/me", web::get().to(crate::pages::login::me))
        .route("/users", web::get().to(accounts::list_users))
        .route("/users", web::post().to(accounts::create_user))
        .route("/tokens", web::get().to(accounts::list_tokens))
        .route("/tokens", web::post().to(accounts::create_token))
        .route("/tokens/{id}", web::delete().to(accounts::revoke_token))
        .route("/audit", web::get().to(accounts::list_audit))
}
