//! Wiring of the `/api` routes to their handlers, one group per resource family. Each route is
//! one line here plus one `#[utoipa::path]` on its handler, which gives its method and path; the
//! same list feeds the server ([`configure`]) and the OpenAPI document ([`api_routes`]).

use actix_web::web;

use super::registry::ApiRoutes;
use super::{
    accounts, api_docs, batches, compare, exports, global_stream, health, metrics, presets,
    pricing, prometheus, report, scenario_templates, scenario_yaml, scenarios, schedules, sessions,
    settings, stream, target_test, targets, templates, webhooks,
};

/// Registers every `/api` route, and `/metrics` for scrapers.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // `/metrics` is also the dashboard page: scrapers that ask for the Prometheus or OpenMetrics
    // text format get it here, browsers fall through to the page.
    cfg.service(
        web::resource("/metrics")
            .guard(actix_web::guard::fn_guard(prometheus::wants_text))
            .route(web::get().to(prometheus::metrics)),
    );
    cfg.service(api_routes(ApiRoutes::serving()).into_scope());
}

/// Every `/api` route, in matching order (a literal segment before a `{param}` sibling).
pub fn api_routes(api: ApiRoutes) -> ApiRoutes {
    let api = api
        .route(health::__path_health, health::health)
        .route(global_stream::__path_stream_all, global_stream::stream_all)
        .route(api_docs::__path_openapi_json, api_docs::openapi_json)
        .route(api_docs::__path_swagger_ui, api_docs::swagger_ui);
    let api = schedule_routes(webhook_routes(session_routes(catalog_routes(api))));
    account_routes(api)
}

/// Targets, presets, scenarios and templates.
fn catalog_routes(api: ApiRoutes) -> ApiRoutes {
    api.route(targets::__path_list_targets, targets::list_targets)
        .route(targets::__path_create_target, targets::create_target)
        .route(targets::__path_get_target, targets::get_target)
        .route(targets::__path_update_target, targets::update_target)
        .route(targets::__path_delete_target, targets::delete_target)
        .route(target_test::__path_test_target, target_test::test_target)
        .route(
            target_test::__path_test_target_stream,
            target_test::test_target_stream,
        )
        .route(presets::__path_list_presets, presets::list_presets)
        .route(pricing::__path_get_pricing, pricing::get_pricing)
        .route(pricing::__path_put_pricing, pricing::put_pricing)
        .route(settings::__path_get_settings, settings::get_settings)
        .route(settings::__path_put_settings, settings::put_settings)
        .route(settings::__path_run_retention, settings::run_retention)
        .route(scenarios::__path_list_scenarios, scenarios::list_scenarios)
        .route(
            scenarios::__path_create_scenario,
            scenarios::create_scenario,
        )
        .route(
            scenario_templates::__path_list_templates,
            scenario_templates::list_templates,
        )
        .route(
            scenario_yaml::__path_import_scenarios,
            scenario_yaml::import_scenarios,
        )
        .route(
            scenario_yaml::__path_export_scenario,
            scenario_yaml::export_scenario,
        )
        .route(
            templates::__path_validate_templates,
            templates::validate_templates,
        )
        .route(scenarios::__path_get_scenario, scenarios::get_scenario)
        .route(
            scenarios::__path_update_scenario,
            scenarios::update_scenario,
        )
        .route(
            scenarios::__path_delete_scenario,
            scenarios::delete_scenario,
        )
}

/// Executing sessions and reading them back.
fn session_routes(api: ApiRoutes) -> ApiRoutes {
    api.route(sessions::__path_execute, sessions::execute)
        .route(batches::__path_execute_batch, batches::execute_batch)
        .route(batches::__path_list_batches, batches::list_batches)
        .route(batches::__path_get_batch, batches::get_batch)
        .route(sessions::__path_list_sessions, sessions::list_sessions)
        .route(sessions::__path_get_session, sessions::get_session)
        .route(sessions::__path_patch_session, sessions::patch_session)
        .route(sessions::__path_delete_session, sessions::delete_session)
        .route(sessions::__path_list_messages, sessions::list_messages)
        .route(metrics::__path_session_metrics, metrics::session_metrics)
        .route(metrics::__path_list_metrics, metrics::list_metrics)
        .route(metrics::__path_export_metrics, metrics::export_metrics)
        .route(metrics::__path_dashboard_stats, metrics::dashboard_stats)
        .route(
            compare::__path_create_comparison,
            compare::create_comparison,
        )
        .route(compare::__path_list_comparisons, compare::list_comparisons)
        .route(compare::__path_get_comparison, compare::get_comparison)
        .route(report::__path_comparison_report, report::comparison_report)
        .route(exports::__path_export_session, exports::export_session)
        .route(report::__path_session_report, report::session_report)
        .route(exports::__path_export_sessions, exports::export_sessions)
        .route(sessions::__path_list_events, sessions::list_events)
        .route(stream::__path_stream_session, stream::stream_session)
}

/// Webhooks and their delivery log.
fn webhook_routes(api: ApiRoutes) -> ApiRoutes {
    api.route(webhooks::__path_list_webhooks, webhooks::list_webhooks)
        .route(webhooks::__path_create_webhook, webhooks::create_webhook)
        .route(webhooks::__path_get_webhook, webhooks::get_webhook)
        .route(webhooks::__path_update_webhook, webhooks::update_webhook)
        .route(webhooks::__path_delete_webhook, webhooks::delete_webhook)
        .route(webhooks::__path_test_webhook, webhooks::test_webhook)
        .route(webhooks::__path_list_deliveries, webhooks::list_deliveries)
        .route(webhooks::__path_redeliver, webhooks::redeliver)
}

/// Scheduled jobs (upstream's `?id=` style for PUT and DELETE).
fn schedule_routes(api: ApiRoutes) -> ApiRoutes {
    api.route(schedules::__path_list_jobs, schedules::list_jobs)
        .route(schedules::__path_create_job, schedules::create_job)
        .route(schedules::__path_update_job, schedules::update_job)
        .route(schedules::__path_delete_job, schedules::delete_job)
        .route(schedules::__path_get_job, schedules::get_job)
}

/// Users, API tokens and the audit log (admins only, see `auth::policy`).
fn account_routes(api: ApiRoutes) -> ApiRoutes {
    use crate::pages::login;
    api.route(login::__path_me, login::me)
        .route(accounts::__path_list_users, accounts::list_users)
        .route(accounts::__path_create_user, accounts::create_user)
        .route(accounts::__path_update_user, accounts::update_user)
        .route(accounts::__path_list_tokens, accounts::list_tokens)
        .route(accounts::__path_create_token, accounts::create_token)
        .route(accounts::__path_revoke_token, accounts::revoke_token)
        .route(accounts::__path_list_audit, accounts::list_audit)
}
