//! `Dispatcher`: the node-wide queue. Starts session actors within a concurrency limit, spreads
//! them over arbiters (one per core), forwards cancels, and recovers unfinished sessions at start.

use std::collections::{HashMap, VecDeque};

use actix::prelude::*;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::events::FailureReason;
use crate::domain::session::{SessionCommand, SessionStatus};
use crate::secrets::SecretBox;
use crate::store::{BatchedAppender, EventStore};

use super::node::NodeResources;
use super::recovery::unfinished_sessions;
use super::runner::SessionRun;
use super::session_actor::{SessionActor, SessionFinished, StopSession};
use super::session_log::{SessionLog, SessionLogError};
use super::summary::SummaryBuilder;

/// Dispatcher configuration.
#[derive(Debug, Clone)]
pub struct DispatcherSettings {
    pub node_id: String,
    /// Sessions running at once on this node.
    pub max_concurrent: usize,
    /// Arbiter threads to spread session actors over (0 = the caller's arbiter only).
    pub arbiters: usize,
    /// Recover sessions a previous process left unfinished (off for `krawall run` next to a server).
    pub recover: bool,
    /// Conversations running at once over all sessions (the node's budget of connections).
    pub max_conversations: usize,
}

/// Queue a session whose `SessionQueued` event is stored.
#[derive(Message)]
#[rtype(result = "()")]
pub struct EnqueueSession(pub Uuid);

/// Cancel a queued or running session.
#[derive(Message)]
#[rtype(result = "Result<CancelOutcome, SessionLogError>")]
pub struct CancelSession(pub Uuid);

/// What a cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was queued and is now cancelled.
    Cancelled,
    /// It is running and will record its cancellation when its in-flight request is aborted.
    Stopping,
}

/// Ask what this node is doing.
#[derive(Message)]
#[rtype(result = "NodeStatus")]
pub struct QueryNodeStatus;

/// Queued and running work on this node.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    pub node_id: String,
    pub max_concurrent: usize,
    pub running: Vec<Uuid>,
    pub queued: Vec<Uuid>,
}

/// The node-wide session queue.
pub struct Dispatcher {
    settings: DispatcherSettings,
    store: EventStore,
    appender: BatchedAppender,
    secrets: SecretBox,
    http: reqwest::Client,
    queue: VecDeque<Uuid>,
    running: HashMap<Uuid, Option<Addr<SessionActor>>>,
    arbiters: Vec<Arbiter>,
    next_arbiter: usize,
    node: NodeResources,
}

impl Dispatcher {
    pub fn new(
        settings: DispatcherSettings,
        store: EventStore,
        appender: BatchedAppender,
        secrets: SecretBox,
        http: reqwest::Client,
    ) -> Self {
        let arbiters = (0..settings.arbiters).map(|_| Arbiter::new()).collect();
        Self {
            store,
            appender,
            secrets,
            http,
            queue: VecDeque::new(),
            running: HashMap::new(),
            arbiters,
            next_arbiter: 0,
            node: NodeResources::new(settings.max_conversations),
            settings,
        }
    }

    fn pump(&mut self, ctx: &mut Context<Self>) {
        while self.running.len() < self.settings.max_concurrent {
            let Some(id) = self.queue.pop_front() else {
                break;
            };
            self.running.insert(id, None);
            self.launch(id, ctx);
        }
    }

    fn launch(&mut self, id: Uuid, ctx: &mut Context<Self>) {
        let (store, appender, secrets, http) = (
            self.store.clone(),
            self.appender.clone(),
            self.secrets.clone(),
            self.http.clone(),
        );
        let node_id = self.settings.node_id.clone();
        let node = self.node.clone();
        let prepare = async move {
            let log = SessionLog::load(&store, appender, id)
                .await
                .map_err(|e| e.to_string())?;
            if log.state.status != Some(SessionStatus::Queued) {
                return Err(format!("session is {:?}, not queued", log.state.status));
            }
            let plan = log
                .state
                .plan
                .as_deref()
                .cloned()
                .ok_or("session has no plan")?;
            let auth_config = match &plan.target.auth.ciphertext {
                Some(sealed) => secrets.open_json(sealed).map_err(|e| e.to_string())?,
                None => serde_json::json!({}),
            };
            Ok(SessionRun {
                log,
                plan,
                auth_config,
                http,
                cancel: CancellationToken::new(),
                node_id,
                node,
            })
        };
        ctx.spawn(prepare.into_actor(self).map(
            move |prepared: Result<SessionRun, String>, act, ctx| match prepared {
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
                Err(error) => {
                    tracing::warn!(session = %id, %error, "session could not be started");
                    act.running.remove(&id);
                    act.pump(ctx);
                }
            },
        ));
    }

    fn pick_arbiter(&mut self) -> Option<ArbiterHandle> {
        if self.arbiters.is_empty() {
            return None;
        }
        self.next_arbiter = (self.next_arbiter + 1) % self.arbiters.len();
        Some(self.arbiters[self.next_arbiter].handle())
    }
}

impl Actor for Dispatcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if !self.settings.recover {
            return;
        }
        let (store, appender) = (self.store.clone(), self.appender.clone());
        let recover = async move {
            let unfinished = unfinished_sessions(&store)
                .await
                .map_err(|e| e.to_string())?;
            let mut resume = Vec::new();
            for s in unfinished {
                if s.started {
                    let mut log = SessionLog::load(&store, appender.clone(), s.session_id)
                        .await
                        .map_err(|e| e.to_string())?;
                    let cmd = SessionCommand::Fail {
                        reason: FailureReason::Interrupted,
                        error: "the node stopped while the session was running".into(),
                        summary: SummaryBuilder::default().build(),
                    };
                    if let Err(e) = log.execute(cmd).await {
                        tracing::warn!(session = %s.session_id, error = %e, "could not mark an interrupted session");
                    }
                } else {
                    resume.push(s.session_id);
                }
            }
            Ok::<_, String>(resume)
        };
        ctx.wait(
            recover
                .into_actor(self)
                .map(|result, act, ctx| match result {
                    Ok(resume) => {
                        act.queue.extend(resume);
                        act.pump(ctx);
                    }
                    Err(error) => tracing::error!(%error, "session recovery failed"),
                }),
        );
    }
}

impl Handler<EnqueueSession> for Dispatcher {
    type Result = ();

    fn handle(&mut self, msg: EnqueueSession, ctx: &mut Self::Context) {
        if !self.queue.contains(&msg.0) && !self.running.contains_key(&msg.0) {
            self.queue.push_back(msg.0);
        }
        self.pump(ctx);
    }
}

impl Handler<SessionFinished> for Dispatcher {
    type Result = ();

    fn handle(&mut self, msg: SessionFinished, ctx: &mut Self::Context) {
        tracing::debug!(session = %msg.session_id, outcome = ?msg.outcome, "session finished");
        self.running.remove(&msg.session_id);
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
        let (store, appender) = (self.store.clone(), self.appender.clone());
        Box::pin(
            async move {
                let mut log = SessionLog::load(&store, appender, id).await?;
                log.execute(SessionCommand::Cancel(SummaryBuilder::default().build()))
                    .await?;
                Ok(CancelOutcome::Cancelled)
            }
            .into_actor(self),
        )
    }
}

impl Handler<QueryNodeStatus> for Dispatcher {
    type Result = MessageResult<QueryNodeStatus>;

    fn handle(&mut self, _: QueryNodeStatus, _: &mut Self::Context) -> Self::Result {
        MessageResult(NodeStatus {
            node_id: self.settings.node_id.clone(),
            max_concurrent: self.settings.max_concurrent,
            running: self.running.keys().copied().collect(),
            queued: self.queue.iter().copied().collect(),
        })
    }
}
