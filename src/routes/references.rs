//! Deleting a target or scenario that sessions reference: refused with the reason (409) unless
//! the caller confirms `?force=true` (delete it, sessions keep their frozen copy) or
//! `?cascade=true` (also delete its finished sessions; refused while any is queued or running).

use projections::queries::{self, SessionFilter};
use serde::Deserialize;
use utoipa::IntoParams;

use super::envelope::{ApiError, parse_id};
use super::state::AppState;

/// `?force=true` / `?cascade=true` of the delete routes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub cascade: bool,
}

/// Which column of the sessions read model refers to the resource.
#[derive(Debug, Clone, Copy)]
pub enum Referrer {
    Target,
    Scenario,
}

impl Referrer {
    fn noun(self) -> &'static str {
        match self {
            Self::Target => "target",
            Self::Scenario => "scenario",
        }
    }

    fn filter(self, id: &str, offset: i64) -> SessionFilter {
        let mut f = SessionFilter {
            limit: 500,
            offset,
            ..SessionFilter::default()
        };
        match self {
            Self::Target => f.target_id = Some(id.to_string()),
            Self::Scenario => f.scenario_id = Some(id.to_string()),
        }
        f
    }
}

/// Session ids referring to the resource, with whether each has finished.
async fn referring_sessions(
    state: &AppState,
    by: Referrer,
    id: &str,
) -> Result<Vec<(String, bool)>, ApiError> {
    let mut out = Vec::new();
    loop {
        let page = queries::list_sessions(&state.read, &by.filter(id, out.len() as i64)).await?;
        let done = page.sessions.len() < 500;
        out.extend(page.sessions.into_iter().map(|s| {
            let finished = matches!(s.status.as_str(), "COMPLETED" | "FAILED" | "CANCELLED");
            (s.id, finished)
        }));
        if done {
            return Ok(out);
        }
    }
}

/// Checks the delete may go ahead and, for a cascade, deletes the finished sessions first.
pub async fn clear_references(
    state: &AppState,
    by: Referrer,
    raw_id: &str,
    q: &DeleteQuery,
) -> Result<(), ApiError> {
    let id = parse_id(raw_id, by.noun())?.to_string();
    let sessions = referring_sessions(state, by, &id).await?;
    if sessions.is_empty() || (q.force && !q.cascade) {
        return Ok(());
    }
    let noun = by.noun();
    if !q.cascade {
        let n = sessions.len();
        return Err(ApiError::Conflict(format!(
            "{n} session(s) reference this {noun}; pass ?force=true to delete it and keep their history, or ?cascade=true to delete them too"
        )));
    }
    let active = sessions.iter().filter(|(_, finished)| !finished).count();
    if active > 0 {
        return Err(ApiError::Conflict(format!(
            "{active} session(s) of this {noun} are queued or running; cancel them first"
        )));
    }
    let mut last = 0;
    for (session, _) in sessions {
        let session = parse_id(&session, "session")?;
        last = state.commands.delete_session(session).await?;
    }
    state.caught_up(last).await
}
