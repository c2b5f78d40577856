//! `Commands`: the write side's entry point shared by the HTTP API and the CLI.

use actix::Addr;

use crate::connectors::Outbound;
use crate::runtime::Dispatcher;
use crate::secrets::SecretBox;
use crate::store::{BatchedAppender, EventStore};

/// The write side's entry point, cheap to clone.
#[derive(Clone)]
pub struct Commands {
    pub(super) store: EventStore,
    pub(super) appender: BatchedAppender,
    pub(super) secrets: SecretBox,
    pub(super) dispatcher: Addr<Dispatcher>,
    pub(super) outbound: Outbound,
}

impl Commands {
    pub fn new(
        store: EventStore,
        appender: BatchedAppender,
        secrets: SecretBox,
        dispatcher: Addr<Dispatcher>,
        outbound: Outbound,
    ) -> Self {
        Self {
            store,
            appender,
            secrets,
            dispatcher,
            outbound,
        }
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    pub fn dispatcher(&self) -> &Addr<Dispatcher> {
        &self.dispatcher
    }
}
