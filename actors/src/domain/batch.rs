//! Batches: one scenario run against several targets at once, one session per target, grouped
//! under a batch id (stream `batch-<id>`); the batch's status is derived from its sessions'.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::validation::{FieldError, Validator};

/// Most targets one batch may name.
pub const MAX_BATCH_TARGETS: usize = 50;

/// A batch was accepted; its sessions are queued in the same commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchCreated {
    pub batch_id: Uuid,
    pub scenario_id: Uuid,
    pub scenario_name: String,
    /// One session per target, in the order the request listed the targets.
    pub sessions: Vec<BatchMember>,
}

/// One target of a batch and the session that runs the scenario against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchMember {
    pub session_id: Uuid,
    pub target_id: Uuid,
    pub target_name: String,
}

/// Stream id of a batch.
pub fn batch_stream(id: Uuid) -> String {
    format!("batch-{id}")
}

/// The session id of a batch's `index`-th target: a UUID v8 of SHA-256(batch id, index), so
/// queuing the same batch twice (a scheduler resuming a slot another node also resumed)
/// conflicts instead of storing a second set of sessions.
pub fn member_session_id(batch: Uuid, index: usize) -> Uuid {
    let digest = Sha256::new()
        .chain_update(batch.as_bytes())
        .chain_update((index as u64).to_be_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// `targetIds` must list 1 to [`MAX_BATCH_TARGETS`] distinct targets.
pub fn validate_target_ids(ids: &[Uuid]) -> Result<(), Vec<FieldError>> {
    let mut v = Validator::default();
    if ids.is_empty() || ids.len() > MAX_BATCH_TARGETS {
        v.push(
            "targetIds",
            format!(
                "must list 1 to {MAX_BATCH_TARGETS} targets, got {}",
                ids.len()
            ),
        );
    }
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            v.push(format!("targetIds[{i}]"), "is listed twice");
        }
    }
    v.finish()
}

/// Sessions of a batch per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchCounts {
    pub total: i64,
    pub queued: i64,
    pub running: i64,
    pub completed: i64,
    pub failed: i64,
    pub cancelled: i64,
}

/// Where a batch stands (upper case on the wire, like session statuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BatchStatus {
    /// No session has started yet.
    Queued,
    /// Some sessions are queued or running.
    Running,
    /// Every session completed.
    Completed,
    /// Every session ended, at least one failed or was cancelled.
    Partial,
    /// Every session ended and none completed.
    Failed,
}

impl BatchCounts {
    /// Sessions that ended (completed, failed or cancelled).
    pub fn finished(&self) -> i64 {
        self.completed + self.failed + self.cancelled
    }

    /// Share of finished sessions, 0.0 to 1.0.
    pub fn progress(&self) -> f64 {
        if self.total <= 0 {
            return 1.0;
        }
        self.finished() as f64 / self.total as f64
    }

    /// The batch's status; sessions deleted from the read models count as ended.
    pub fn status(&self) -> BatchStatus {
        let present = self.queued + self.running + self.finished();
        if self.queued + self.running > 0 {
            if self.running == 0 && self.queued == present {
                BatchStatus::Queued
            } else {
                BatchStatus::Running
            }
        } else if self.completed == self.total {
            BatchStatus::Completed
        } else if self.completed == 0 {
            BatchStatus::Failed
        } else {
            BatchStatus::Partial
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_session_ids_are_stable_and_distinct() {
        let b = Uuid::now_v7();
        assert_eq!(member_session_id(b, 0), member_session_id(b, 0));
        assert_ne!(member_session_id(b, 0), member_session_id(b, 1));
        assert_ne!(
            member_session_id(b, 0),
            member_session_id(Uuid::now_v7(), 0)
        );
    }

    #[test]
    fn target_ids_are_counted_and_unique() {
        assert!(validate_target_ids(&[Uuid::now_v7()]).is_ok());
        let empty = validate_target_ids(&[]).unwrap_err();
        assert_eq!(empty[0].field, "targetIds");
        let many: Vec<_> = (0..51).map(|_| Uuid::now_v7()).collect();
        assert_eq!(
            validate_target_ids(&many).unwrap_err()[0].field,
            "targetIds"
        );
        let id = Uuid::now_v7();
        let twice = validate_target_ids(&[id, Uuid::now_v7(), id]).unwrap_err();
        assert_eq!(twice[0].field, "targetIds[2]");
    }

    fn counts(queued: i64, running: i64, completed: i64, failed: i64) -> BatchCounts {
        BatchCounts {
            total: queued + running + completed + failed,
            queued,
            running,
            completed,
            failed,
            cancelled: 0,
        }
    }

    #[test]
    fn status_follows_the_sessions() {
        assert_eq!(counts(3, 0, 0, 0).status(), BatchStatus::Queued);
        assert_eq!(counts(2, 1, 0, 0).status(), BatchStatus::Running);
        assert_eq!(counts(1, 0, 2, 0).status(), BatchStatus::Running);
        assert_eq!(counts(0, 0, 3, 0).status(), BatchStatus::Completed);
        assert_eq!(counts(0, 0, 2, 1).status(), BatchStatus::Partial);
        assert_eq!(counts(0, 0, 0, 3).status(), BatchStatus::Failed);
        assert_eq!(counts(1, 0, 2, 0).progress(), 2.0 / 3.0);
    }
}
