//! Retention: which finished sessions lose their message texts (`retentionDays`), the
//! `SessionTextsShredded` decision, and the redaction readers apply to a shredded session's events.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::events::DomainEvent;
use super::session::{SessionError, SessionState};

const DAY_MS: i64 = 86_400_000;

/// Message texts of the session were removed for retention; its metrics stay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionTextsShredded {
    pub session_id: Uuid,
    /// The retention period in force when the sweep ran.
    pub retention_days: u32,
    /// Sessions that ended before this instant (epoch ms) were swept.
    pub ended_before_ms: i64,
}

/// Sessions that ended before the returned instant lose their texts.
pub fn retention_cutoff_ms(now_ms: i64, retention_days: u32) -> i64 {
    now_ms.saturating_sub(i64::from(retention_days).saturating_mul(DAY_MS))
}

/// Decides the shredding of a session's texts: only once, only after it ended.
pub fn decide_shred(
    state: &SessionState,
    shred: SessionTextsShredded,
) -> Result<Vec<DomainEvent>, SessionError> {
    let status = match (state.status, state.deleted) {
        (None, _) | (_, true) => return Err(SessionError::NotFound),
        (Some(s), false) => s,
    };
    if !status.is_terminal() {
        return Err(SessionError::StillActive(status.as_str()));
    }
    if state.texts_shredded {
        return Ok(Vec::new());
    }
    Ok(vec![DomainEvent::SessionTextsShredded(shred)])
}

/// Blanks the message texts an event carries (what readers show of a shredded session).
pub fn redact_texts(event: &mut DomainEvent) {
    match event {
        DomainEvent::MessageSent(s) => s.content.clear(),
        DomainEvent::ResponseReceived(r) => r.content.clear(),
        DomainEvent::MessageFailed(f) => {
            f.error.clear();
            f.partial_content = None;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::session::SessionStatus;

    fn shred() -> SessionTextsShredded {
        SessionTextsShredded {
            session_id: Uuid::nil(),
            retention_days: 1,
            ended_before_ms: 0,
        }
    }

    #[test]
    fn only_finished_sessions_are_shredded_and_only_once() {
        let mut state = SessionState {
            status: Some(SessionStatus::Running),
            ..SessionState::default()
        };
        assert!(decide_shred(&state, shred()).is_err());
        state.status = Some(SessionStatus::Completed);
        assert_eq!(decide_shred(&state, shred()).unwrap().len(), 1);
        state.texts_shredded = true;
        assert!(decide_shred(&state, shred()).unwrap().is_empty());
    }

    #[test]
    fn the_cutoff_is_whole_days_before_now() {
        assert_eq!(retention_cutoff_ms(10 * DAY_MS, 3), 7 * DAY_MS);
        assert_eq!(
            retention_cutoff_ms(0, u32::MAX),
            -(i64::from(u32::MAX) * DAY_MS)
        );
    }
}
