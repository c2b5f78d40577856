//! Executes one queued session: starts it, runs its conversations (repetitions × concurrency, or
//! a load shape) and ends it as completed, failed or cancelled. Every step is recorded through
//! the [`SessionLog`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::connectors::history::places_history;
use crate::connectors::{Connector, Outbound, TargetConnection, build_connector};
use crate::domain::events::{FailureReason, SessionQueued};
use crate::domain::faults::FaultSpec;
use crate::domain::load::AbortOn;
use crate::domain::pricing::ModelPrice;
use crate::domain::repetition::ReplyWindow;
use crate::domain::scenario::Budget;
use crate::domain::scenario::ScenarioSpec;
use crate::domain::session::SessionCommand;
use crate::domain::thresholds::evaluate;
use crate::store::TextKey;

use super::lane::Lane;
use super::node::{NodeResources, TargetLimiter};
use super::session_log::{SessionLog, wait_all};
use super::summary::SummaryBuilder;

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    Cancelled,
    Aborted(String),
    Store(String),
    /// `load.abortOn` fired.
    ErrorRate(String),
    /// `budget` crossed.
    Budget(String),
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    Completed,
    Failed {
        reason: FailureReason,
        error: String,
    },
    Cancelled,
}

/// Conversation counters of one session (atomics: conversations run concurrently).
#[derive(Debug, Default)]
pub struct Conversations {
    pub started: AtomicU64,
    pub completed: AtomicU64,
    pub dropped: AtomicU64,
    pub active: AtomicU32,
    pub peak: AtomicU32,
}

impl Conversations {
    /// Counts a conversation start unless `max` are already started.
    pub fn try_start(&self, max: Option<u64>) -> Option<u64> {
        let number = self.started.fetch_add(1, Ordering::Relaxed);
        if max.is_some_and(|m| number >= m) {
            self.started.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        let active = self.active.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(active, Ordering::Relaxed);
        Some(number)
    }

    pub fn finish(&self, completed: bool) {
        self.active.fetch_sub(1, Ordering::Relaxed);
        if completed {
            self.completed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// State shared by the conversations of one session.
pub struct Shared {
    pub session_id: Uuid,
    pub cancel: CancellationToken,
    pub next_index: AtomicU32,
    /// Locked only to decide and queue an append, never across an await.
    pub log: std::sync::Mutex<SessionLog>,
    pub summary: std::sync::Mutex<SummaryBuilder>,
    pub started: Instant,
    pub conversations: Conversations,
    pub faults: Option<FaultSpec>,
    pub limiter: Option<Arc<TargetLimiter>>,
    /// Session-wide pause after a 429 (adaptive slow-down): no exchange is sent before it.
    pub backoff_until: std::sync::Mutex<Option<Instant>>,
    pub abort_on: Option<AbortOn>,
    /// The session's latest replies, for the repetition score.
    pub replies: std::sync::Mutex<ReplyWindow>,
    pub budget: Option<Budget>,
    /// The model price frozen into the plan (cost per reply).
    pub price: Option<ModelPrice>,
    /// Whether the target's requests carry the conversation (`requestTemplate.historyPath`).
    pub places_history: bool,
    pub node: NodeResources,
    /// The session's data key: exchange texts are recorded sealed with it (`store::text_keys`).
    pub text_key: TextKey,
}

impl Shared {
    pub fn summary(&self) -> std::sync::MutexGuard<'_, SummaryBuilder> {
        self.summary.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn log(&self) -> std::sync::MutexGuard<'_, SessionLog> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Everything needed to run a session, assembled by the dispatcher.
pub struct SessionRun {
    pub log: SessionLog,
    pub plan: SessionQueued,
    /// Decrypted auth config of the target snapshot.
    pub auth_config: Value,
    pub outbound: Outbound,
    pub cancel: CancellationToken,
    pub node_id: String,
    pub node: NodeResources,
}

/// What every conversation of a run is built from.
pub struct RunContext<'a> {
    pub shared: &'a Shared,
    pub scenario: &'a ScenarioSpec,
    pub conn: &'a TargetConnection,
    pub outbound: &'a Outbound,
}

impl RunContext<'_> {
    /// A connected connector for one user or conversation.
    pub async fn connector(&self) -> Result<Box<dyn Connector>, Stop> {
        let mut connector = build_connector(self.conn, self.outbound)
            .map_err(|e| Stop::Aborted(format!("connector: {}", e.message)))?;
        connector
            .connect()
            .await
            .map_err(|e| Stop::Aborted(format!("connect: {}", e.message)))?;
        Ok(connector)
    }

    pub fn lane(&self, connector: Box<dyn Connector>) -> Lane<'_> {
        Lane::new(self.shared, self.scenario, connector)
    }
}

/// Loads the session's data key (its texts are sealed with it), then records `SessionStarted`.
async fn start(log: &mut SessionLog, node_id: String) -> Result<TextKey, RunOutcome> {
    let rejected = |error: String| RunOutcome::Failed {
        reason: FailureReason::StartRejected,
        error,
    };
    let key = log
        .store()
        .text_key(log.id)
        .await
        .map_err(|e| rejected(e.to_string()))?;
    log.execute(SessionCommand::Start { node_id })
        .await
        .map_err(|e| rejected(e.to_string()))?;
    Ok(key)
}

impl SessionRun {
    /// Runs the session to its end; never panics, always leaves the stream terminal when the store works.
    pub async fn run(self) -> RunOutcome {
        let SessionRun {
            mut log,
            plan,
            auth_config,
            outbound,
            cancel,
            node_id,
            node,
        } = self;
        let text_key = match start(&mut log, node_id).await {
            Ok(key) => key,
            Err(outcome) => return outcome,
        };
        let scenario = &plan.scenario.spec;
        let target = &plan.target;
        let shared = Shared {
            session_id: plan.session_id,
            cancel,
            next_index: AtomicU32::new(0),
            log: std::sync::Mutex::new(log),
            summary: std::sync::Mutex::new(SummaryBuilder::default()),
            started: Instant::now(),
            conversations: Conversations::default(),
            faults: scenario.faults.filter(FaultSpec::is_active),
            limiter: target
                .spec
                .rate_limit
                .as_ref()
                .and_then(|l| node.limiter(target.target_id, l)),
            backoff_until: std::sync::Mutex::new(None),
            abort_on: scenario.load.as_ref().and_then(|l| l.abort_on),
            replies: std::sync::Mutex::new(ReplyWindow::default()),
            budget: scenario.budget,
            price: plan.price.clone(),
            places_history: places_history(&target.spec.request_template),
            node,
            text_key,
        };
        let conn = TargetConnection {
            spec: target.spec.clone(),
            auth_config,
        };
        let ctx = RunContext {
            shared: &shared,
            scenario,
            conn: &conn,
            outbound: &outbound,
        };
        let stop = match &scenario.load {
            Some(load) => super::load::run(&ctx, load).await,
            None => super::load::run_repetitions(&ctx).await,
        };
        finish(&shared, stop, &scenario.thresholds).await
    }
}

/// Waits for the session's queued appends, then records and waits for the terminal event.
/// A queued append that failed ends the session as failed (`store`); the stream is re-read
/// first, so the terminal event is appended at the stored version.
async fn finish(
    shared: &Shared,
    stop: Option<Stop>,
    thresholds: &BTreeMap<String, String>,
) -> RunOutcome {
    let queued = shared.log().take_in_flight();
    let flushed = wait_all(queued).await;
    let stop = match (stop, flushed) {
        (None, Err(e)) => Some(Stop::Store(e.to_string())),
        (stop, _) => stop,
    };
    if matches!(stop, Some(Stop::Store(_))) {
        let reload = shared.log().reload();
        match reload.await {
            Ok(fresh) => *shared.log() = fresh,
            Err(e) => {
                tracing::warn!(session = %shared.session_id, error = %e, "could not re-read a session stream")
            }
        }
    }
    let mut summary = shared.summary().build();
    if !thresholds.is_empty() {
        summary.thresholds = evaluate(thresholds, &summary);
        summary.thresholds_passed = Some(summary.thresholds.iter().all(|t| t.passed));
    }
    let (cmd, outcome) = match stop {
        None => (SessionCommand::Complete(summary), RunOutcome::Completed),
        Some(Stop::Cancelled) if shared.node.shutting_down() => failed(
            FailureReason::Interrupted,
            "the node was shut down (SIGTERM) while the session was running".into(),
            summary,
        ),
        Some(Stop::Cancelled) => (SessionCommand::Cancel(summary), RunOutcome::Cancelled),
        Some(Stop::Aborted(error)) => failed(FailureReason::Aborted, error, summary),
        Some(Stop::Store(error)) => failed(FailureReason::Store, error, summary),
        Some(Stop::ErrorRate(error)) => failed(FailureReason::AbortOnErrorRate, error, summary),
        Some(Stop::Budget(error)) => failed(FailureReason::BudgetExceeded, error, summary),
    };
    let terminal = shared.log().enqueue(cmd);
    let committed = match terminal {
        Ok(ticket) => ticket.wait().await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(error) = committed {
        tracing::warn!(session = %shared.session_id, %error, "could not record the end of a session");
    }
    outcome
}

fn failed(
    reason: FailureReason,
    error: String,
    summary: crate::domain::events::SessionSummary,
) -> (SessionCommand, RunOutcome) {
    (
        SessionCommand::Fail {
            reason,
            error: error.clone(),
            summary,
        },
        RunOutcome::Failed { reason, error },
    )
}
