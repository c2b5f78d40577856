//! `SessionActor`: one actix actor per running session. It runs the [`SessionRun`] and stops
//! cooperatively when told to cancel; the dispatcher hears when it is done.

use actix::prelude::*;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::runner::{RunOutcome, SessionRun};

/// Ask a running session to stop; it records `SessionCancelled` itself.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopSession;

/// Sent to the dispatcher when a session actor has finished.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct SessionFinished {
    pub session_id: Uuid,
    pub outcome: RunOutcome,
}

/// Runs one session.
pub struct SessionActor {
    session_id: Uuid,
    run: Option<SessionRun>,
    cancel: CancellationToken,
    on_finish: Recipient<SessionFinished>,
}

impl SessionActor {
    pub fn new(run: SessionRun, on_finish: Recipient<SessionFinished>) -> Self {
        Self {
            session_id: run.plan.session_id,
            cancel: run.cancel.clone(),
            run: Some(run),
            on_finish,
        }
    }
}

impl Actor for SessionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let Some(run) = self.run.take() else {
            ctx.stop();
            return;
        };
        ctx.spawn(run.run().into_actor(self).map(|outcome, act, ctx| {
            act.on_finish.do_send(SessionFinished {
                session_id: act.session_id,
                outcome,
            });
            ctx.stop();
        }));
    }
}

impl Handler<StopSession> for SessionActor {
    type Result = ();

    fn handle(&mut self, _: StopSession, _: &mut Self::Context) {
        self.cancel.cancel();
    }
}
