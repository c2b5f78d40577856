//! Settings commands: the node settings folded from `node-settings`, a validated partial update
//! appended at the stream's expected version, and the defaults they give new sessions.

use crate::domain::events::{DomainEvent, SettingsUpdated, TargetSnapshot};
use crate::domain::scenario::ScenarioSpec;
use crate::domain::settings::{
    NodeSettings, SETTINGS_STREAM, SettingsPatch, fold_settings, validate_settings,
};

use super::stream::{append, load};
use super::{CommandError, Commands};

impl Commands {
    /// The node settings and the stream version they were folded from.
    async fn settings_at(&self) -> Result<(NodeSettings, i64), CommandError> {
        let (events, version) = load(&self.store, SETTINGS_STREAM).await?;
        let settings = fold_settings(events.iter().filter_map(|e| match e {
            DomainEvent::SettingsUpdated(u) => Some(&u.settings),
            _ => None,
        }));
        Ok((settings, version))
    }

    /// The current node settings.
    pub async fn settings(&self) -> Result<NodeSettings, CommandError> {
        Ok(self.settings_at().await?.0)
    }

    /// Lays the patch over the current settings and records the result; returns the position,
    /// or `None` when nothing changed (no event).
    pub async fn update_settings(&self, patch: SettingsPatch) -> Result<Option<i64>, CommandError> {
        let (current, version) = self.settings_at().await?;
        let next = current.patched(patch);
        validate_settings(&next).map_err(CommandError::Invalid)?;
        if next == current {
            return Ok(None);
        }
        let event = DomainEvent::SettingsUpdated(SettingsUpdated { settings: next });
        append(&self.store, SETTINGS_STREAM, version, &[event])
            .await
            .map(Some)
    }
}

/// A new session's message timeout: the node default when neither the scenario nor
/// `executionConfig` chose one.
pub(super) fn default_timeout(settings: &NodeSettings, spec: &mut ScenarioSpec, overridden: bool) {
    spec.message_timeout_ms = settings.message_timeout(spec.message_timeout_ms, overridden);
}

/// A new session's frozen target gets the node's rate limit when it has none of its own.
pub(super) fn default_rate_limit(settings: &NodeSettings, target: &mut TargetSnapshot) {
    if target.spec.rate_limit.is_none() {
        target.spec.rate_limit = settings.rate_limit;
    }
}
