//! Executes one queued session: starts it, runs its lanes (parallel conversations) and ends it
//! as completed, failed or cancelled. Every step is recorded through the [`SessionLog`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;

use serde_json::Value;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::connectors::{TargetConnection, build_connector};
use crate::domain::events::SessionQueued;
use crate::domain::session::SessionCommand;

use super::lane::Lane;
use super::session_log::SessionLog;
use super::summary::SummaryBuilder;

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    Cancelled,
    Aborted(String),
    Store(String),
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    Completed,
    Failed { reason: String, error: String },
    Cancelled,
}

/// State shared by the lanes of one session.
pub struct Shared {
    pub session_id: Uuid,
    pub cancel: CancellationToken,
    pub next_index: AtomicU32,
    pub log: Mutex<SessionLog>,
    pub summary: Mutex<SummaryBuilder>,
}

/// Everything needed to run a session, assembled by the dispatcher.
pub struct SessionRun {
    pub log: SessionLog,
    pub plan: SessionQueued,
    /// Decrypted auth config of the target snapshot.
    pub auth_config: Value,
    pub http: reqwest::Client,
    pub cancel: CancellationToken,
    pub node_id: String,
}

impl SessionRun {
    /// Runs the session to its end; never panics, always leaves the stream terminal when the store works.
    pub async fn run(self) -> RunOutcome {
        let SessionRun {
            mut log,
            plan,
            auth_config,
            http,
            cancel,
            node_id,
        } = self;
        if let Err(e) = log.execute(SessionCommand::Start { node_id }).await {
            return RunOutcome::Failed {
                reason: "start_rejected".into(),
                error: e.to_string(),
            };
        }
        let shared = Arc::new(Shared {
            session_id: plan.session_id,
            cancel,
            next_index: AtomicU32::new(0),
            log: Mutex::new(log),
            summary: Mutex::new(SummaryBuilder::default()),
        });
        let connection = TargetConnection {
            spec: plan.target.spec.clone(),
            auth_config,
        };
        let stop = run_lanes(&shared, &plan, &connection, &http).await;
        finish(&shared, stop).await
    }
}

async fn run_lanes(
    shared: &Shared,
    plan: &SessionQueued,
    conn: &TargetConnection,
    http: &reqwest::Client,
) -> Option<Stop> {
    let scenario = &plan.scenario.spec;
    let lanes = scenario.concurrency.clamp(1, scenario.repetitions.max(1));
    let futures = (0..lanes).map(|lane| run_lane(shared, plan, conn, http, lane, lanes));
    let results = futures_util::future::join_all(futures).await;
    let mut first: Option<Stop> = None;
    for r in results {
        if let Err(stop) = r {
            first = match (first, stop) {
                (Some(Stop::Cancelled) | None, s) => Some(s),
                (f, _) => f,
            };
        }
    }
    first
}

async fn run_lane(
    shared: &Shared,
    plan: &SessionQueued,
    conn: &TargetConnection,
    http: &reqwest::Client,
    lane: u32,
    lanes: u32,
) -> Result<(), Stop> {
    let scenario = &plan.scenario.spec;
    let mut connector = build_connector(conn, http)
        .map_err(|e| Stop::Aborted(format!("connector: {}", e.message)))?;
    connector
        .connect()
        .await
        .map_err(|e| Stop::Aborted(format!("connect: {}", e.message)))?;
    let mut state = Lane {
        shared,
        scenario,
        connector,
        conversation_id: format!("{}-{lane}", plan.session_id),
        repetition: 0,
        history: Vec::new(),
        last_json: Value::Null,
        extracted: BTreeMap::new(),
        sent_any: false,
    };
    let mut result = Ok(());
    for repetition in (lane..scenario.repetitions).step_by(lanes as usize) {
        result = state.run_repetition(repetition).await;
        if result.is_err() {
            shared.cancel.cancel();
            break;
        }
    }
    state.connector.disconnect().await;
    result
}

async fn finish(shared: &Shared, stop: Option<Stop>) -> RunOutcome {
    let summary = shared.summary.lock().await.build();
    let (cmd, outcome) = match stop {
        None => (SessionCommand::Complete(summary), RunOutcome::Completed),
        Some(Stop::Cancelled) => (SessionCommand::Cancel(summary), RunOutcome::Cancelled),
        Some(Stop::Aborted(error)) => {
            let reason = "aborted".to_string();
            (
                SessionCommand::Fail {
                    reason: reason.clone(),
                    error: error.clone(),
                    summary,
                },
                RunOutcome::Failed { reason, error },
            )
        }
        Some(Stop::Store(error)) => {
            let reason = "store".to_string();
            (
                SessionCommand::Fail {
                    reason: reason.clone(),
                    error: error.clone(),
                    summary,
                },
                RunOutcome::Failed { reason, error },
            )
        }
    };
    let mut log = shared.log.lock().await;
    match log.execute(cmd).await {
        Ok(_) => outcome,
        Err(e) => {
            tracing::warn!(session = %shared.session_id, error = %e, "could not record the end of a session");
            outcome
        }
    }
}
