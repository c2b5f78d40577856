//! Price commands: the current table (defaults + `PricingUpdated` events), updating it, and the
//! price frozen into a session when it is queued.

use crate::domain::events::{DomainEvent, PRICING_STREAM, PricingUpdated};
use crate::domain::pricing::{ModelPrice, price_table, target_model, validate_prices};
use crate::domain::target::TargetSpec;

use super::stream::{append, load};
use super::{CommandError, Commands};

impl Commands {
    /// The price table and the stream version it was folded from.
    async fn prices_at(&self) -> Result<(Vec<ModelPrice>, i64), CommandError> {
        let (events, version) = load(&self.store, PRICING_STREAM).await?;
        let updates: Vec<&[ModelPrice]> = events
            .iter()
            .filter_map(|e| match e {
                DomainEvent::PricingUpdated(u) => Some(u.models.as_slice()),
                _ => None,
            })
            .collect();
        Ok((price_table(updates), version))
    }

    /// Replaces or adds the given models' prices; returns the event's position.
    pub async fn update_prices(&self, models: Vec<ModelPrice>) -> Result<i64, CommandError> {
        validate_prices(&models).map_err(CommandError::Invalid)?;
        let (_, version) = self.prices_at().await?;
        let event = DomainEvent::PricingUpdated(PricingUpdated { models });
        append(&self.store, PRICING_STREAM, version, &[event]).await
    }

    /// The price of the model a target names, if the table has it.
    pub(super) async fn price_of(
        &self,
        spec: &TargetSpec,
    ) -> Result<Option<ModelPrice>, CommandError> {
        let Some(model) = target_model(spec) else {
            return Ok(None);
        };
        let (table, _) = self.prices_at().await?;
        Ok(table.into_iter().find(|p| p.model == model))
    }
}
