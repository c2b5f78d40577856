//! Retention command: destroy a finished session's data key (its sealed texts become
//! unreadable in the event log) and record `SessionTextsShredded` at the stream's expected
//! version; the read models then blank the session's message texts.

use uuid::Uuid;

use crate::domain::events::session_stream;
use crate::domain::retention::{SessionTextsShredded, decide_shred};
use crate::domain::session::{SessionState, evolve};
use crate::runtime::SessionLogError;

use super::stream::{append, load};
use super::{CommandError, Commands};

impl Commands {
    /// Shreds a finished session's texts; `None` when they already were (nothing appended).
    pub async fn shred_session_texts(
        &self,
        session_id: Uuid,
        retention_days: u32,
        ended_before_ms: i64,
    ) -> Result<Option<i64>, CommandError> {
        let stream = session_stream(session_id);
        let (events, version) = load(&self.store, &stream).await?;
        let state = events.iter().fold(SessionState::default(), evolve);
        let shred = SessionTextsShredded {
            session_id,
            retention_days,
            ended_before_ms,
        };
        let events = decide_shred(&state, shred).map_err(SessionLogError::from)?;
        if events.is_empty() {
            return Ok(None);
        }
        // The key goes first: should the append fail, the texts are already unreadable and
        // the next sweep records the event.
        self.store.destroy_text_key(session_id).await?;
        append(&self.store, &stream, version, &events)
            .await
            .map(Some)
    }
}
