//! Starting, finishing and cancelling sessions on the dispatcher: a session is claimed before it
//! runs, a session whose runner died is ended as interrupted instead of re-run, and a cancel for
//! a session another node runs is forwarded through its lease row.

use actix::prelude::*;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::session::{SessionCommand, SessionStatus};
use crate::store::{BatchedAppender, EventStore};

use super::dispatcher::Dispatcher;
use super::leases::{CancelRequest, Leases};
use super::recovery::end_interrupted;
use super::runner::SessionRun;
use super::session_actor::{SessionActor, SessionFinished, StopSession};
use super::session_log::{SessionLog, SessionLogError};
use super::summary::SummaryBuilder;

/// Cancel a queued or running session.
#[derive(Message)]
#[rtype(result = "Result<CancelOutcome, SessionLogError>")]
pub struct CancelSession(pub Uuid);

/// What a cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was queued and is now cancelled.
    Cancelled,
    /// It is running (here or on another node) and will record its cancellation when its
    /// in-flight request is aborted.
    Stopping,
}

/// Why a claimed session did not start.
enum NotStarted {
    /// Another node holds it.
    Held,
    /// It had ended, or it was running on a node that died and is now ended as interrupted.
    Ended,
    Failed(String),
}

impl Dispatcher {
    pub(super) fn launch(&mut self, id: Uuid, ctx: &mut Context<Self>) {
        let prepare = prepare(self.prepare_inputs(id));
        ctx.spawn(prepare.into_actor(self).map(
            move |prepared: Result<SessionRun, NotStarted>, act, ctx| match prepared {
                // Shutting down: not started; it stays queued and its lease expires, so it
                // resumes at the next start (or on another node).
                Ok(_) if act.node.shutting_down() => {
                    act.running.remove(&id);
                }
                Ok(run) => {
                    let me = ctx.address().recipient();
                    let addr = match act.pick_arbiter() {
                        Some(handle) => SessionActor::start_in_arbiter(&handle, move |_| {
                            SessionActor::new(run, me)
                        }),
                        None => SessionActor::new(run, me).start(),
                    };
                    act.running.insert(id, Some(addr));
                }
                Err(reason) => {
                    if let NotStarted::Failed(error) = reason {
                        tracing::warn!(session = %id, %error, "session could not be started");
                    }
                    act.running.remove(&id);
                    act.pump(ctx);
                }
            },
        ));
    }

    fn prepare_inputs(&self, id: Uuid) -> PrepareInputs {
        PrepareInputs {
            id,
            store: self.store.clone(),
            appender: self.appender.clone(),
            leases: self.leases.clone(),
            secrets: self.secrets.clone(),
            outbound: self.outbound.clone(),
            node_id: self.settings.node_id.clone(),
            node: self.node.clone(),
        }
    }
}

struct PrepareInputs {
    id: Uuid,
    store: EventStore,
    appender: BatchedAppender,
    leases: Leases,
    secrets: crate::secrets::SecretBox,
    outbound: crate::connectors::Outbound,
    node_id: String,
    node: super::node::NodeResources,
}

/// Claims the session and loads it; a queued session becomes a run, anything else is settled.
async fn prepare(inp: PrepareInputs) -> Result<SessionRun, NotStarted> {
    let failed = |e: &dyn std::fmt::Display| NotStarted::Failed(e.to_string());
    if !inp.leases.claim(inp.id).await.map_err(|e| failed(&e))? {
        return Err(NotStarted::Held);
    }
    let mut log = SessionLog::load(&inp.store, inp.appender, inp.id)
        .await
        .map_err(|e| failed(&e))?;
    match log.state.status {
        Some(SessionStatus::Queued) => {}
        Some(SessionStatus::Running) => {
            end_interrupted(&mut log).await.map_err(|e| failed(&e))?;
            tracing::warn!(session = %inp.id, "ended a session whose node stopped as interrupted");
            let _ = inp.leases.release(inp.id).await;
            return Err(NotStarted::Ended);
        }
        _ => {
            let _ = inp.leases.release(inp.id).await;
            return Err(NotStarted::Ended);
        }
    }
    let plan = log
        .state
        .plan
        .as_deref()
        .cloned()
        .ok_or_else(|| NotStarted::Failed("session has no plan".into()))?;
    let auth_config = match &plan.target.auth.ciphertext {
        Some(sealed) => inp.secrets.open_json(sealed).map_err(|e| failed(&e))?,
        None => serde_json::json!({}),
    };
    Ok(SessionRun {
        log,
        plan,
        auth_config,
        outbound: inp.outbound,
        cancel: CancellationToken::new(),
        node_id: inp.node_id,
        node: inp.node,
    })
}

impl Handler<SessionFinished> for Dispatcher {
    type Result = ();

    fn handle(&mut self, msg: SessionFinished, ctx: &mut Self::Context) {
        tracing::debug!(session = %msg.session_id, outcome = ?msg.outcome, "session finished");
        self.running.remove(&msg.session_id);
        let (leases, id) = (self.leases.clone(), msg.session_id);
        ctx.spawn(
            async move {
                if let Err(error) = leases.release(id).await {
                    tracing::warn!(session = %id, %error, "could not release a lease");
                }
            }
            .into_actor(self),
        );
        self.pump(ctx);
    }
}

impl Handler<CancelSession> for Dispatcher {
    type Result = ResponseActFuture<Self, Result<CancelOutcome, SessionLogError>>;

    fn handle(&mut self, msg: CancelSession, _: &mut Self::Context) -> Self::Result {
        let id = msg.0;
        if let Some(Some(addr)) = self.running.get(&id) {
            addr.do_send(StopSession);
            return Box::pin(async { Ok(CancelOutcome::Stopping) }.into_actor(self));
        }
        self.queue.retain(|q| *q != id);
        let (store, appender, leases) = (
            self.store.clone(),
            self.appender.clone(),
            self.leases.clone(),
        );
        Box::pin(cancel_elsewhere(store, appender, leases, id).into_actor(self))
    }
}

/// Cancels a session this node does not run: claims it and records the cancel, or asks the
/// node holding it to stop it.
async fn cancel_elsewhere(
    store: EventStore,
    appender: BatchedAppender,
    leases: Leases,
    id: Uuid,
) -> Result<CancelOutcome, SessionLogError> {
    for _ in 0..2 {
        if leases.claim(id).await? {
            let mut log = SessionLog::load(&store, appender, id).await?;
            let result = log
                .execute(SessionCommand::Cancel(SummaryBuilder::default().build()))
                .await;
            leases.release(id).await?;
            return result.map(|_| CancelOutcome::Cancelled);
        }
        if let CancelRequest::Forwarded(node) = leases.request_cancel(id).await? {
            tracing::info!(session = %id, %node, "cancel forwarded to the node running the session");
            return Ok(CancelOutcome::Stopping);
        }
    }
    Ok(CancelOutcome::Stopping)
}
