//! The event log on KurrentDB (cargo feature `kurrentdb`): the port's appends, reads and
//! subscription wake-ups over the `kurrentdb` gRPC client. Read models, checkpoints, leases,
//! nodes and session keys stay in the SQL database of [`super::EventStore`].
//!
//! Mapping: a port stream `s` is the KurrentDB stream `<prefix>s`; version = revision + 1;
//! a position is the event's `$all` commit position (unique per event for the appends this
//! store makes; prepare = commit without explicit transactions); `read_all`, `head_position`
//! and the wake-ups are `$all` reads and a subscription filtered on the prefix.

mod append;
mod listen;
mod log;

pub(super) use listen::listen;
pub(crate) use log::KurrentLog;
