//! Command handlers of the write side: load a stream, fold it, decide, append with the expected
//! version. HTTP handlers and the CLI call these; they never append events themselves.

mod catalog;
mod error;
mod execute;
mod stream;

pub use error::CommandError;
pub use execute::{ExecuteRequest, ExecutionOverrides};

use actix::Addr;

use crate::runtime::Dispatcher;
use crate::secrets::SecretBox;
use crate::store::{BatchedAppender, EventStore};

/// The write side's entry point, cheap to clone.
#[derive(Clone)]
pub struct Commands {
    store: EventStore,
    appender: BatchedAppender,
    secrets: SecretBox,
    dispatcher: Addr<Dispatcher>,
}

impl Commands {
    pub fn new(store: EventStore, appender: BatchedAppender, secrets: SecretBox, dispatcher: Addr<Dispatcher>) -> Self {
        Self { store, appender, secrets, dispatcher }
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    pub fn dispatcher(&self) -> &Addr<Dispatcher> {
        &self.dispatcher
    }
}
