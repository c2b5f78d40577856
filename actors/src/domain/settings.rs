//! Node settings: defaults for new sessions (message timeout, target rate limit), new webhooks
//! (retry policy) and the retention period, recorded as `SettingsUpdated` on `node-settings`.

use serde::{Deserialize, Deserializer, Serialize};

use super::target::{RateLimit, validate_rate_limit};
use super::validation::{FieldError, Validator};
use super::webhook::{RetryPolicy, validate_retry};

/// Stream id of the node settings.
pub const SETTINGS_STREAM: &str = "node-settings";

/// The built-in per-message timeout a scenario gets when it names none.
pub const BUILTIN_MESSAGE_TIMEOUT_MS: u64 = 30_000;

/// The node's defaults; `None` = the built-in behaviour.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSettings {
    /// Per-message timeout of sessions whose scenario and `executionConfig` name none.
    #[serde(default)]
    pub message_timeout_ms: Option<u64>,
    /// Token buckets of targets that have no `rateLimit` of their own.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Sessions that ended longer ago than this lose their message texts.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// Retry policy of webhooks created without `retry`.
    #[serde(default)]
    pub webhook_retry: Option<RetryPolicy>,
}

/// `PUT /api/settings`: a field left out keeps its value, `null` restores the built-in default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(default, deserialize_with = "present")]
    pub message_timeout_ms: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    pub rate_limit: Option<Option<RateLimit>>,
    #[serde(default, deserialize_with = "present")]
    pub retention_days: Option<Option<u32>>,
    #[serde(default, deserialize_with = "present")]
    pub webhook_retry: Option<Option<RetryPolicy>>,
}

/// A field that is present (its value possibly `null`), as opposed to one left out.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl NodeSettings {
    /// These settings with the patch laid over them.
    pub fn patched(&self, patch: SettingsPatch) -> Self {
        Self {
            message_timeout_ms: patch.message_timeout_ms.unwrap_or(self.message_timeout_ms),
            rate_limit: patch.rate_limit.unwrap_or(self.rate_limit),
            retention_days: patch.retention_days.unwrap_or(self.retention_days),
            webhook_retry: patch.webhook_retry.unwrap_or(self.webhook_retry),
        }
    }

    /// The timeout a new session gets: its own unless it kept the built-in one and the node
    /// names another.
    pub fn message_timeout(&self, own: u64, overridden: bool) -> u64 {
        match self.message_timeout_ms {
            Some(t) if !overridden && own == BUILTIN_MESSAGE_TIMEOUT_MS => t,
            _ => own,
        }
    }

    /// The retry policy a new webhook without one gets.
    pub fn webhook_retry_or_builtin(&self) -> RetryPolicy {
        self.webhook_retry.unwrap_or_default()
    }
}

/// The settings after every `SettingsUpdated` (each carries the whole settings).
pub fn fold_settings<'a>(updates: impl IntoIterator<Item = &'a NodeSettings>) -> NodeSettings {
    updates.into_iter().last().cloned().unwrap_or_default()
}

/// Checks settings; errors name the field (`rateLimit.requestsPerSecond`, `webhookRetry.multiplier`).
pub fn validate_settings(s: &NodeSettings) -> Result<(), Vec<FieldError>> {
    let mut v = Validator::default();
    if let Some(t) = s.message_timeout_ms {
        v.range(
            "messageTimeoutMs",
            t.min(i64::MAX as u64) as i64,
            100,
            600_000,
        );
    }
    if let Some(limit) = &s.rate_limit {
        validate_rate_limit(&mut v, limit);
    }
    if let Some(days) = s.retention_days {
        v.range("retentionDays", days.into(), 1, 36_500);
    }
    if let Some(retry) = &s.webhook_retry {
        validate_retry(&mut v, "webhookRetry", retry);
    }
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(json: &str) -> SettingsPatch {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_patch_keeps_missing_fields_and_clears_null_ones() {
        let base = NodeSettings {
            message_timeout_ms: Some(5_000),
            retention_days: Some(30),
            ..NodeSettings::default()
        };
        let next = base.patched(patch(
            r#"{"retentionDays": null, "rateLimit": {"requestsPerSecond": 2}}"#,
        ));
        assert_eq!(next.message_timeout_ms, Some(5_000));
        assert_eq!(next.retention_days, None);
        assert_eq!(
            next.rate_limit.and_then(|l| l.requests_per_second),
            Some(2.0)
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<SettingsPatch>(r#"{"retention": 3}"#).is_err());
    }

    #[test]
    fn validation_names_each_field() {
        let s = NodeSettings {
            message_timeout_ms: Some(10),
            rate_limit: Some(RateLimit {
                requests_per_second: Some(0.0),
                tokens_per_minute: None,
            }),
            retention_days: Some(0),
            webhook_retry: Some(RetryPolicy {
                max_attempts: 0,
                ..RetryPolicy::default()
            }),
        };
        let fields: Vec<String> = validate_settings(&s)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "messageTimeoutMs",
                "rateLimit.requestsPerSecond",
                "retentionDays",
                "webhookRetry.maxAttempts"
            ]
        );
    }

    #[test]
    fn the_node_timeout_replaces_only_the_builtin_one() {
        let s = NodeSettings {
            message_timeout_ms: Some(2_000),
            ..NodeSettings::default()
        };
        assert_eq!(s.message_timeout(BUILTIN_MESSAGE_TIMEOUT_MS, false), 2_000);
        assert_eq!(s.message_timeout(BUILTIN_MESSAGE_TIMEOUT_MS, true), 30_000);
        assert_eq!(s.message_timeout(7_000, false), 7_000);
        assert_eq!(
            NodeSettings::default().message_timeout(30_000, false),
            30_000
        );
    }
}
