//! Read-model queries behind the API: typed views, never raw rows, secrets only masked.

mod accounts;
mod batches;
mod catalog;
mod comparisons;
mod dashboard;
mod export;
mod metrics;
mod parked;
mod pricing;
mod retention;
mod schedules;
mod session_metrics;
mod sessions;
mod settings;
mod time;
mod upstream_metrics;
mod webhooks;

pub use accounts::{
    AuditEntryView, AuditFilter, TokenView, UserView, list_audit, list_tokens, list_users,
};
pub use batches::{BatchDetail, BatchView, get_batch, list_batches};
pub use catalog::{
    ScenarioView, TargetView, get_scenario, get_target, list_scenarios, list_targets,
};
pub use comparisons::{
    Bins, ComparisonResults, ComparisonView, Side, Statistics, Winner, get_comparison,
    list_comparisons,
};
pub use dashboard::{
    DashboardTotals, NamedRef, SessionRow, SessionRows, active_sessions, dashboard_totals,
    recent_activity, scenario_names, session_row, session_rows, target_names,
};
pub use export::{
    RepeatedReply, SessionCursor, ThroughputBucket, exchange_span, messages_after, sessions_after,
    throughput, top_replies,
};
pub use metrics::{CompletedSession, RangeTotals, completed_sessions, completed_totals};
pub use parked::{LATEST_PARKED, ParkedEvent, ParkedEvents, parked_events};
pub use pricing::prices;
pub use retention::sessions_to_shred;
pub use schedules::{RunSession, RunView, ScheduleView, get_schedule, list_runs, list_schedules};
pub use session_metrics::{
    Aggregate, Distribution, SessionMetrics, TimelineBucket, bucket_totals, session_metrics,
};
pub use sessions::{
    MessageView, SessionFilter, SessionPage, SessionView, get_session, list_messages, list_sessions,
};
pub use settings::{SettingsView, node_settings};
pub use time::iso_opt;
pub use upstream_metrics::{MetricsFilter, OutcomeTotals, metrics_sessions, outcome_totals};
pub use webhooks::{
    AttemptView, DeliveryView, WebhookView, get_webhook, list_deliveries, list_webhooks,
};
