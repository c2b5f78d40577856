//! Running sessions: the per-session actor, the node-wide dispatcher and the flow interpreter.

mod dispatcher;
mod exchange;
mod faults;
mod heartbeat;
mod lane;
mod launch;
mod leases;
mod load;
mod node;
mod nodes;
mod probe;
mod recovery;
mod runner;
mod session_actor;
mod session_log;
mod shutdown;
mod summary;

pub use dispatcher::{
    DEFAULT_LEASE_TTL, Dispatcher, DispatcherSettings, EnqueueSession, NodeStatus, QueryNodeStatus,
    QueryNodes,
};
pub use launch::{CancelOutcome, CancelSession};
pub use leases::{CancelRequest, Leases, NodeRole, NodeRow, Renewal};
pub use node::{DEFAULT_NODE_CONVERSATIONS, NodeResources, TargetLimiter};
pub use nodes::NodeLoad;
pub use probe::{ProbeEvent, ProbeResult, probe};
pub use runner::{RunOutcome, SessionRun};
pub use session_actor::SessionActor;
pub use session_log::{SessionLog, SessionLogError};
pub use shutdown::Shutdown;
pub use summary::SummaryBuilder;
