//! The event catalogue: every fact Krawall records, serialised as `{type, data}` (see docs/events.md).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

pub use super::account::{
    ApiTokenCreated, ApiTokenRevoked, AuditRecorded, UserCreated, UserUpdated,
};
pub use super::batch::BatchCreated;
pub use super::compare::{ComparisonCreated, comparison_stream};
pub use super::event_type::EventType;
use super::faults::InjectedFault;
pub use super::idempotency::IdempotencyKeyRecorded;
use super::pricing::ModelPrice;
pub use super::retention::SessionTextsShredded;
use super::scenario::{ErrorAction, ScenarioSpec};
pub use super::schedule::{ScheduleFired, ScheduleSnapshot, ScheduleToggled};
use super::settings::NodeSettings;
pub use super::summary::{LoadReport, SessionSummary, StopReason};
use super::target::{SealedAuth, TargetSpec};
pub use super::webhook::{WebhookDeliveryAttempted, WebhookDeliveryQueued, WebhookSnapshot};

/// Calls `$m!` with every `DomainEvent` variant (`to_parts` matches on all of them, so a new
/// variant missing here does not compile).
macro_rules! with_variants {
    ($m:ident) => {
        $m! {
            TargetCreated,
            TargetUpdated,
            TargetDeleted,
            TargetTested,
            ScenarioCreated,
            ScenarioUpdated,
            ScenarioDeleted,
            SessionQueued,
            SessionStarted,
            MessageSent,
            ResponseReceived,
            MessageFailed,
            ErrorInjected,
            SessionCompleted,
            SessionFailed,
            SessionCancelled,
            SessionDeleted,
            PricingUpdated,
            BatchCreated,
            WebhookCreated,
            WebhookUpdated,
            WebhookDeleted,
            WebhookDeliveryQueued,
            WebhookDeliveryAttempted,
            ScheduleCreated,
            ScheduleUpdated,
            ScheduleEnabled,
            ScheduleDisabled,
            ScheduleFired,
            ScheduleDeleted,
            UserCreated,
            UserUpdated,
            ApiTokenCreated,
            ApiTokenRevoked,
            AuditRecorded,
            IdempotencyKeyRecorded,
            SettingsUpdated,
            SessionTextsShredded,
            ComparisonCreated,
        }
    };
}
pub(crate) use with_variants;

/// A domain event. The variant name is the stored `event_type`; the fields are the payload.
/// Names are stable: renaming or removing a field needs an upcaster (docs/events.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum DomainEvent {
    TargetCreated(TargetSnapshot),
    TargetUpdated(TargetSnapshot),
    TargetDeleted(Deleted),
    TargetTested(TargetTested),
    ScenarioCreated(ScenarioSnapshot),
    ScenarioUpdated(ScenarioSnapshot),
    ScenarioDeleted(Deleted),
    SessionQueued(Box<SessionQueued>),
    SessionStarted(SessionStarted),
    MessageSent(MessageSent),
    ResponseReceived(ResponseReceived),
    MessageFailed(MessageFailed),
    ErrorInjected(ErrorInjected),
    SessionCompleted(SessionCompleted),
    SessionFailed(SessionFailed),
    SessionCancelled(SessionCancelled),
    SessionDeleted(Deleted),
    PricingUpdated(PricingUpdated),
    BatchCreated(BatchCreated),
    WebhookCreated(WebhookSnapshot),
    WebhookUpdated(WebhookSnapshot),
    WebhookDeleted(Deleted),
    WebhookDeliveryQueued(WebhookDeliveryQueued),
    WebhookDeliveryAttempted(WebhookDeliveryAttempted),
    ScheduleCreated(ScheduleSnapshot),
    ScheduleUpdated(ScheduleSnapshot),
    ScheduleEnabled(ScheduleToggled),
    ScheduleDisabled(ScheduleToggled),
    ScheduleFired(ScheduleFired),
    ScheduleDeleted(Deleted),
    UserCreated(UserCreated),
    UserUpdated(UserUpdated),
    ApiTokenCreated(ApiTokenCreated),
    ApiTokenRevoked(ApiTokenRevoked),
    AuditRecorded(AuditRecorded),
    IdempotencyKeyRecorded(IdempotencyKeyRecorded),
    SettingsUpdated(SettingsUpdated),
    SessionTextsShredded(SessionTextsShredded),
    ComparisonCreated(ComparisonCreated),
}

/// Model prices set or replaced by `PUT /api/pricing` (stream `pricing-table`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingUpdated {
    pub models: Vec<ModelPrice>,
}

/// The node settings after `PUT /api/settings` (stream `node-settings`): the whole settings, not
/// the patch, so the latest event is the current state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsUpdated {
    pub settings: NodeSettings,
}

/// Full state of a target after a create or update (credentials sealed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetSnapshot {
    pub target_id: Uuid,
    #[serde(flatten)]
    pub spec: TargetSpec,
    pub auth: SealedAuth,
    /// Preset the target was created from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset_id: Option<String>,
}

/// A connection test ran against a target (test-connection endpoints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetTested {
    pub target_id: Uuid,
    pub success: bool,
    pub latency_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Full state of a scenario after a create or update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioSnapshot {
    pub scenario_id: Uuid,
    #[serde(flatten)]
    pub spec: ScenarioSpec,
}

/// A resource was deleted; its stream is closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    pub id: Uuid,
}

/// A session was accepted; the plan is frozen here so later edits to target or scenario don't change it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionQueued {
    pub session_id: Uuid,
    pub target: TargetSnapshot,
    pub scenario: ScenarioSnapshot,
    /// Session this one restarts, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarted_from: Option<Uuid>,
    /// The target model's price when the session was queued (frozen: later edits don't apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<ModelPrice>,
    /// Batch the session belongs to (`POST /api/execute/batch`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStarted {
    pub session_id: Uuid,
    /// Node (process) that runs the session.
    pub node_id: String,
}

/// Identifies one exchange inside a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeRef {
    pub session_id: Uuid,
    /// 0-based over the whole session.
    pub message_index: u32,
    pub repetition_index: u32,
    /// Retry attempt for this exchange, 0 for the first try.
    #[serde(default)]
    pub attempt: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSent {
    #[serde(flatten)]
    pub exchange: ExchangeRef,
    pub content: String,
    /// Messages the request carried (system prompt + earlier turns + this one); 0 in events
    /// recorded before conversations carried context.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub context_messages: u32,
    /// Estimated tokens of everything the request carried (ceil(chars / 4)).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub context_tokens: u64,
    /// Time between when the exchange was due and when it was sent: waiting for the target's
    /// rate limiter, a 429 back-off, or (open model) a conversation that started late.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub wait_ms: u64,
    /// The texts sealed with the session's data key (then empty above); see docs/events.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
    /// Of `wait_ms`, the part spent backing off after a 429 reply (event version 10).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub backoff_ms: u64,
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

/// Token counts normalised from the provider's usage shape, or estimated when it sent none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TokenCounts {
    pub input: u64,
    pub output: u64,
    pub estimated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseReceived {
    #[serde(flatten)]
    pub exchange: ExchangeRef,
    pub content: String,
    pub latency_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub tokens: TokenCounts,
    pub raw_size: u64,
    /// Present when the reply was streamed (SSE, gRPC server streaming, chunked WebSocket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamMetrics>,
    /// Cost of this reply's tokens at the session's frozen model price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// 0–1: highest similarity to an earlier reply of the conversation or the session
    /// (`domain::repetition`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetition_score: Option<f64>,
    /// The texts sealed with the session's data key (then empty above); see docs/events.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
    /// 0–1: upstream's weighted quality heuristic on the prompt and this reply
    /// (`domain::quality`; event version 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_score: Option<f64>,
}

/// Timing of a streamed reply.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct StreamMetrics {
    /// From sending the request to the first content chunk.
    pub ttft_ms: u64,
    pub chunks: u64,
    pub inter_chunk_mean_ms: f64,
    pub inter_chunk_max_ms: u64,
}

/// Why an exchange failed; a metrics label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Timeout,
    HttpStatus,
    Connect,
    Protocol,
    RateLimited,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::HttpStatus => "http_status",
            Self::Connect => "connect",
            Self::Protocol => "protocol",
            Self::RateLimited => "rate_limited",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageFailed {
    #[serde(flatten)]
    pub exchange: ExchangeRef,
    pub kind: ErrorKind,
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// What the error policy decided.
    pub action: ErrorAction,
    /// Text received before a streamed reply broke off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_content: Option<String>,
    /// The texts sealed with the session's data key (then empty above); see docs/events.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
}

/// Krawall deliberately sent a faulty request (a scenario's `inject` on a message step).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorInjected {
    #[serde(flatten)]
    pub exchange: ExchangeRef,
    pub fault: InjectedFault,
}

/// Why a session failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// The error policy aborted (or a connector could not be built or connected).
    Aborted,
    /// The event store refused a write.
    Store,
    /// The node stopped while the session was running.
    Interrupted,
    /// The session could not be started.
    StartRejected,
    /// `load.abortOn`: the error rate passed its limit.
    AbortOnErrorRate,
    /// `budget`: the session's tokens or cost crossed the limit.
    BudgetExceeded,
}

impl FailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aborted => "aborted",
            Self::Store => "store",
            Self::Interrupted => "interrupted",
            Self::StartRejected => "start_rejected",
            Self::AbortOnErrorRate => "abort_on_error_rate",
            Self::BudgetExceeded => "budget_exceeded",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionCompleted {
    pub session_id: Uuid,
    pub summary: SessionSummary,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionFailed {
    pub session_id: Uuid,
    pub reason: FailureReason,
    pub error: String,
    pub summary: SessionSummary,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionCancelled {
    pub session_id: Uuid,
    pub summary: SessionSummary,
}

impl DomainEvent {
    /// The stored `event_type`: the variant name (see [`EventType`]).
    pub fn event_type(&self) -> &'static str {
        self.kind().as_str()
    }

    /// Splits into the stored `(event_type, payload)` pair (the variant's fields, serialised
    /// directly).
    pub fn to_parts(&self) -> Result<(String, Value), serde_json::Error> {
        macro_rules! by_variant {
            ($($variant:ident),* $(,)?) => {
                match self {
                    $(Self::$variant(data) => serde_json::to_value(data),)*
                }
            };
        }
        let data = with_variants!(by_variant)?;
        Ok((self.event_type().to_string(), data))
    }

    /// Rebuilds an event from its stored `(event_type, payload)` pair, decoding the payload in
    /// place for its type (no copy of the payload tree).
    pub fn from_parts(event_type: &str, payload: &Value) -> Result<Self, serde_json::Error> {
        macro_rules! by_type {
            ($($variant:ident),* $(,)?) => {
                match event_type {
                    $(stringify!($variant) => Deserialize::deserialize(payload).map(Self::$variant),)*
                    other => Err(serde::de::Error::unknown_variant(
                        other,
                        &[$(stringify!($variant)),*],
                    )),
                }
            };
        }
        with_variants!(by_type)
    }
}

/// Stream id of a target.
pub fn target_stream(id: Uuid) -> String {
    format!("target-{id}")
}

/// Stream id of a scenario.
pub fn scenario_stream(id: Uuid) -> String {
    format!("scenario-{id}")
}

/// Stream id of the price table.
pub const PRICING_STREAM: &str = "pricing-table";

/// Stream id of a session.
pub fn session_stream(id: Uuid) -> String {
    format!("session-{id}")
}
