//! Graceful shutdown of a node's dispatcher (SIGTERM): stop dispatching and interrupt every
//! running session; each records `SessionFailed` with reason `interrupted` (see `runner.rs`).

use actix::prelude::*;

use super::dispatcher::Dispatcher;
use super::session_actor::StopSession;

/// Stop dispatching and interrupt every running session; queued sessions stay queued and resume
/// at the next start. Answers how many sessions are still running.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct Shutdown;

impl Handler<Shutdown> for Dispatcher {
    type Result = usize;

    fn handle(&mut self, _: Shutdown, _: &mut Self::Context) -> usize {
        self.node.begin_shutdown();
        self.queue.clear();
        let mut stopped = 0;
        for addr in self.running.values().flatten() {
            stopped += usize::from(addr.try_send(StopSession).is_ok());
        }
        tracing::info!(
            running = self.running.len(),
            stopped,
            "interrupting running sessions"
        );
        self.running.len()
    }
}
