//! Comparison commands: `POST /api/compare` records `ComparisonCreated` once both sessions
//! exist, differ and completed (upstream's rule); the statistics are read-side.

use uuid::Uuid;

use crate::domain::events::{ComparisonCreated, DomainEvent, comparison_stream, session_stream};
use crate::domain::session::{SessionState, SessionStatus, evolve};
use crate::domain::validation::FieldError;

use super::stream::{append, load};
use super::{CommandError, Commands};

/// What `POST /api/compare` asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonInput {
    pub name: String,
    pub description: Option<String>,
    pub session_a_id: Uuid,
    pub session_b_id: Uuid,
}

fn field(field: &str, rule: &str) -> FieldError {
    FieldError {
        field: field.into(),
        rule: rule.into(),
    }
}

impl Commands {
    async fn session_status(&self, id: Uuid) -> Result<Option<SessionStatus>, CommandError> {
        let (events, _) = load(&self.store, &session_stream(id)).await?;
        let state = events.iter().fold(SessionState::default(), evolve);
        Ok(state.status.filter(|_| !state.deleted))
    }

    /// Records a comparison; returns its id and the event's position.
    pub async fn create_comparison(
        &self,
        input: ComparisonInput,
    ) -> Result<(Uuid, i64), CommandError> {
        let mut errors = Vec::new();
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(field("name", "must be 1 to 200 characters"));
        }
        if input.session_a_id == input.session_b_id {
            errors.push(field("sessionBId", "must differ from sessionAId"));
        }
        let sides = [
            ("sessionAId", input.session_a_id),
            ("sessionBId", input.session_b_id),
        ];
        for (name, id) in sides {
            match self.session_status(id).await? {
                Some(SessionStatus::Completed) => {}
                None => errors.push(field(name, "must name an existing session")),
                Some(other) => errors.push(field(
                    name,
                    &format!("must name a COMPLETED session, it is {}", other.as_str()),
                )),
            }
        }
        if !errors.is_empty() {
            return Err(CommandError::Invalid(errors));
        }
        let id = Uuid::now_v7();
        let event = DomainEvent::ComparisonCreated(ComparisonCreated {
            comparison_id: id,
            name: name.to_owned(),
            description: input.description.filter(|d| !d.trim().is_empty()),
            session_a_id: input.session_a_id,
            session_b_id: input.session_b_id,
        });
        let position = append(&self.store, &comparison_stream(id), 0, &[event]).await?;
        Ok((id, position))
    }
}
