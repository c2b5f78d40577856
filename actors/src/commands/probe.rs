//! Test-connection command: probe a stored target with its decrypted credentials and record the
//! outcome as `TargetTested` in the target's stream.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::connectors::TargetConnection;
use crate::domain::events::{TargetTested, target_stream};
use crate::domain::lifecycle::{Lifecycle, decide_target_tested};
use crate::runtime::{ProbeEvent, ProbeResult, probe};

use super::catalog::fold_target;
use super::stream::{append, load};
use super::{CommandError, Commands};

impl Commands {
    /// A stored target with its credentials decrypted (kept in memory only).
    pub async fn connection(
        &self,
        id: Uuid,
    ) -> Result<(TargetConnection, Lifecycle, i64), CommandError> {
        let (events, version) = load(&self.store, &target_stream(id)).await?;
        let (state, snapshot) = fold_target(&events);
        let snapshot = snapshot
            .filter(|_| state == Lifecycle::Active)
            .ok_or(CommandError::NotFound("target"))?;
        let auth_config = match &snapshot.auth.ciphertext {
            Some(sealed) => self.secrets.open_json(sealed)?,
            None => Value::Object(Default::default()),
        };
        Ok((
            TargetConnection {
                spec: snapshot.spec,
                auth_config,
            },
            state,
            version,
        ))
    }

    /// Probes a target; steps go to `tx` as they happen. Returns the result and the position of
    /// the recorded `TargetTested` event.
    pub async fn test_target(
        &self,
        id: Uuid,
        message: String,
        timeout: Duration,
        tx: mpsc::Sender<ProbeEvent>,
    ) -> Result<(ProbeResult, i64), CommandError> {
        let (conn, _, _) = self.connection(id).await?;
        let result = probe(conn, self.outbound.clone(), message, timeout, tx).await;
        let tested = TargetTested {
            target_id: id,
            success: result.success,
            latency_ms: result.latency_ms,
            error: result.error.clone(),
        };
        let (events, version) = load(&self.store, &target_stream(id)).await?;
        let (state, _) = fold_target(&events);
        let events = decide_target_tested(state, tested)?;
        let position = append(&self.store, &target_stream(id), version, &events).await?;
        Ok((result, position))
    }
}
