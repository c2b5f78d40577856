//! The price table the API shows: shipped defaults with the user's overrides laid over them.

use actors::domain::pricing::{ModelPrice, price_table};
use sqlx::{AnyPool, Row};

/// Every model price, defaults first (overridden where the user set one), then added models.
pub async fn prices(pool: &AnyPool) -> Result<Vec<ModelPrice>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT model, input_per_mtok, output_per_mtok, currency FROM model_prices ORDER BY position, model",
    )
    .fetch_all(pool)
    .await?;
    let overrides = rows
        .iter()
        .map(|r| {
            Ok(ModelPrice {
                model: r.try_get("model")?,
                input_per_mtok: r.try_get("input_per_mtok")?,
                output_per_mtok: r.try_get("output_per_mtok")?,
                currency: r.try_get("currency")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(price_table([overrides.as_slice()]))
}
