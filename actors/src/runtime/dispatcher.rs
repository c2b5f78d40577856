//! `Dispatcher`: the node's session queue. Claims sessions through leases in the shared
//! database, starts session actors within a concurrency limit, spreads them over arbiters (one
//! per core), forwards cancels (to another node through the lease row), and on a heartbeat
//! renews its leases and picks up offered or abandoned sessions.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use actix::prelude::*;
use uuid::Uuid;

use crate::connectors::Outbound;
use crate::secrets::SecretBox;
use crate::store::{BatchedAppender, EventStore, StoreError};

use super::leases::{Leases, NodeRole, NodeRow};
use super::node::NodeResources;
use super::session_actor::SessionActor;

/// Dispatcher configuration.
#[derive(Debug, Clone)]
pub struct DispatcherSettings {
    pub node_id: String,
    /// `serve` runs sessions, `serve --no-dispatch` only offers them, `worker` only runs them.
    pub role: NodeRole,
    /// Sessions running at once on this node.
    pub max_concurrent: usize,
    /// Arbiter threads to spread session actors over (0 = the caller's arbiter only).
    pub arbiters: usize,
    /// Take work this node did not enqueue: re-offer unfinished sessions at start and claim
    /// offered or expired sessions on each heartbeat (off for `krawall run` next to a server).
    pub recover: bool,
    /// Conversations running at once over all sessions (the node's budget of connections).
    pub max_conversations: usize,
    /// How long a claim lives without renewal; the heartbeat runs every third of it.
    pub lease_ttl: Duration,
}

/// Default lease time-to-live: a dead node's sessions are taken over after at most this long.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(15);

/// Queue a session whose `SessionQueued` event is stored.
#[derive(Message)]
#[rtype(result = "()")]
pub struct EnqueueSession(pub Uuid);

/// Ask what this node is doing.
#[derive(Message)]
#[rtype(result = "NodeStatus")]
pub struct QueryNodeStatus;

/// Queued and running work on this node.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    pub node_id: String,
    pub role: NodeRole,
    pub max_concurrent: usize,
    pub running: Vec<Uuid>,
    pub queued: Vec<Uuid>,
}

/// The node's session queue.
pub struct Dispatcher {
    pub(super) settings: DispatcherSettings,
    pub(super) store: EventStore,
    pub(super) appender: BatchedAppender,
    pub(super) secrets: SecretBox,
    pub(super) outbound: Outbound,
    pub(super) leases: Leases,
    pub(super) queue: VecDeque<Uuid>,
    pub(super) running: HashMap<Uuid, Option<Addr<SessionActor>>>,
    arbiters: Vec<Arbiter>,
    next_arbiter: usize,
    pub(super) node: NodeResources,
    pub(super) started_at_ms: i64,
    /// A heartbeat is in flight (they never overlap).
    pub(super) beating: bool,
}

impl Dispatcher {
    pub fn new(
        settings: DispatcherSettings,
        store: EventStore,
        appender: BatchedAppender,
        secrets: SecretBox,
        outbound: Outbound,
    ) -> Self {
        let arbiters = (0..settings.arbiters).map(|_| Arbiter::new()).collect();
        let leases = Leases::new(store.clone(), settings.node_id.clone(), settings.lease_ttl);
        Self {
            store,
            appender,
            secrets,
            outbound,
            leases,
            queue: VecDeque::new(),
            running: HashMap::new(),
            arbiters,
            next_arbiter: 0,
            node: NodeResources::new(settings.max_conversations),
            started_at_ms: chrono::Utc::now().timestamp_millis(),
            beating: false,
            settings,
        }
    }

    /// The node's lease table (also used by `/api/health` for the node list).
    pub fn leases(&self) -> &Leases {
        &self.leases
    }

    /// Whether this node starts sessions (not `serve --no-dispatch`, not shutting down).
    pub(super) fn dispatching(&self) -> bool {
        self.settings.role != NodeRole::ServeNoDispatch && !self.node.shutting_down()
    }

    pub(super) fn pump(&mut self, ctx: &mut Context<Self>) {
        if !self.dispatching() {
            self.queue.clear();
            return;
        }
        while self.running.len() < self.settings.max_concurrent {
            let Some(id) = self.queue.pop_front() else {
                break;
            };
            self.running.insert(id, None);
            self.launch(id, ctx);
        }
    }

    pub(super) fn pick_arbiter(&mut self) -> Option<ArbiterHandle> {
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
        let every = (self.settings.lease_ttl / 3).max(Duration::from_millis(100));
        ctx.run_interval(every, |act, ctx| act.heartbeat(ctx));
        if !self.settings.recover {
            return;
        }
        let (store, leases) = (self.store.clone(), self.leases.clone());
        let offer = async move { super::recovery::offer_unfinished(&store, &leases).await };
        ctx.wait(offer.into_actor(self).map(|result, act, ctx| {
            match result {
                Ok(n) if n > 0 => tracing::info!(unfinished = n, "offered unfinished sessions"),
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "session recovery failed"),
            }
            act.heartbeat(ctx);
        }));
    }
}

impl Handler<EnqueueSession> for Dispatcher {
    type Result = ();

    fn handle(&mut self, msg: EnqueueSession, ctx: &mut Self::Context) {
        let id = msg.0;
        let leases = self.leases.clone();
        let offer = async move { leases.offer(id).await };
        ctx.spawn(offer.into_actor(self).map(move |offered, act, ctx| {
            if let Err(error) = offered {
                tracing::error!(session = %id, %error, "could not offer a session");
            }
            if act.dispatching() && !act.queue.contains(&id) && !act.running.contains_key(&id) {
                act.queue.push_back(id);
            }
            act.pump(ctx);
        }));
    }
}

impl Handler<QueryNodeStatus> for Dispatcher {
    type Result = MessageResult<QueryNodeStatus>;

    fn handle(&mut self, _: QueryNodeStatus, _: &mut Self::Context) -> Self::Result {
        MessageResult(NodeStatus {
            node_id: self.settings.node_id.clone(),
            role: self.settings.role,
            max_concurrent: self.settings.max_concurrent,
            running: self.running.keys().copied().collect(),
            queued: self.queue.iter().copied().collect(),
        })
    }
}

/// List the nodes that share this database, with their leases.
#[derive(Message)]
#[rtype(result = "Result<Vec<NodeRow>, StoreError>")]
pub struct QueryNodes;

impl Handler<QueryNodes> for Dispatcher {
    type Result = ResponseFuture<Result<Vec<NodeRow>, StoreError>>;

    fn handle(&mut self, _: QueryNodes, _: &mut Self::Context) -> Self::Result {
        let leases = self.leases.clone();
        Box::pin(async move { leases.nodes().await })
    }
}
