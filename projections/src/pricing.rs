//! Price overrides read model (`model_prices`): the latest price set for each model by
//! `PricingUpdated`; the shipped defaults stay in code and are merged at query time.

use actors::domain::events::DomainEvent;
use actors::store::RecordedEvent;
use sqlx::AnyConnection;

use crate::projection::{Projection, ProjectionError};

/// Writes `model_prices`.
pub struct PricingProjection;

#[async_trait::async_trait]
impl Projection for PricingProjection {
    fn name(&self) -> &'static str {
        "model_prices"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["model_prices"]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        meta: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        let DomainEvent::PricingUpdated(update) = event else {
            return Ok(());
        };
        for price in &update.models {
            sqlx::query(
                "INSERT INTO model_prices (model, input_per_mtok, output_per_mtok, currency, updated_at_ms, position)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (model) DO UPDATE SET input_per_mtok = excluded.input_per_mtok,
                     output_per_mtok = excluded.output_per_mtok, currency = excluded.currency,
                     updated_at_ms = excluded.updated_at_ms, position = excluded.position
                 WHERE excluded.position > model_prices.position",
            )
            .bind(price.model.clone())
            .bind(price.input_per_mtok)
            .bind(price.output_per_mtok)
            .bind(price.currency.clone())
            .bind(meta.recorded_at_ms)
            .bind(meta.position)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}
