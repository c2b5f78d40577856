//! Model prices: the shipped, dated defaults, the user's overrides (`PricingUpdated` events),
//! which model a target talks to, and the cost of an exchange.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::target::TargetSpec;
use super::validation::{FieldError, Validator};

/// When the default prices were last checked against the providers' price pages.
pub const DEFAULTS_AS_OF: &str = "2026-11-01";

/// The price of one model, per million tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelPrice {
    pub model: String,
    #[serde(rename = "inputPerMTok")]
    pub input_per_mtok: f64,
    #[serde(rename = "outputPerMTok")]
    pub output_per_mtok: f64,
    #[serde(default = "usd")]
    pub currency: String,
}

fn usd() -> String {
    "USD".to_string()
}

impl ModelPrice {
    /// Cost of `input` + `output` tokens.
    pub fn cost(&self, input: u64, output: u64) -> f64 {
        (input as f64 * self.input_per_mtok + output as f64 * self.output_per_mtok) / 1_000_000.0
    }
}

/// The shipped prices (USD per million tokens, standard tier, as of [`DEFAULTS_AS_OF`]).
pub fn default_prices() -> Vec<ModelPrice> {
    [
        ("gpt-4o-mini", 0.15, 0.6),
        ("gpt-4o", 2.5, 10.0),
        ("gpt-4.1", 2.0, 8.0),
        ("gpt-4.1-mini", 0.4, 1.6),
        ("gpt-4.1-nano", 0.1, 0.4),
        ("o3-mini", 1.1, 4.4),
        ("claude-sonnet-4-5", 3.0, 15.0),
        ("claude-haiku-4-5", 1.0, 5.0),
        ("claude-opus-4-1", 15.0, 75.0),
        ("gemini-2.0-flash", 0.1, 0.4),
        ("gemini-2.5-flash", 0.3, 2.5),
        ("gemini-2.5-pro", 1.25, 10.0),
        ("llama3.2", 0.0, 0.0),
    ]
    .into_iter()
    .map(|(model, input, output)| ModelPrice {
        model: model.to_string(),
        input_per_mtok: input,
        output_per_mtok: output,
        currency: usd(),
    })
    .collect()
}

/// The defaults with every update laid over them in order (same model: the later price wins).
pub fn price_table<'a>(updates: impl IntoIterator<Item = &'a [ModelPrice]>) -> Vec<ModelPrice> {
    let mut table = default_prices();
    for update in updates {
        for price in update {
            match table.iter_mut().find(|p| p.model == price.model) {
                Some(existing) => *existing = price.clone(),
                None => table.push(price.clone()),
            }
        }
    }
    table
}

/// The model a target's requests name: `model` in the request structure, else the
/// `models/<name>:` segment of a Gemini-style endpoint.
pub fn target_model(spec: &TargetSpec) -> Option<String> {
    let from_body = spec
        .request_template
        .structure
        .as_ref()
        .and_then(|s| s.get("model"))
        .and_then(Value::as_str)
        .filter(|m| !m.trim().is_empty());
    if let Some(model) = from_body {
        return Some(model.to_string());
    }
    let rest = spec.endpoint.split("/models/").nth(1)?;
    let model = rest.split([':', '/', '?']).next()?;
    (!model.is_empty()).then(|| model.to_string())
}

/// Checks `PUT /api/pricing` input; errors name `models[i].field`.
pub fn validate_prices(models: &[ModelPrice]) -> Result<(), Vec<FieldError>> {
    let mut v = Validator::default();
    if models.is_empty() {
        v.push("models", "must contain at least one model");
    }
    for (i, p) in models.iter().enumerate() {
        v.length(&format!("models[{i}].model"), &p.model, 1, 200);
        for (name, value) in [
            ("inputPerMTok", p.input_per_mtok),
            ("outputPerMTok", p.output_per_mtok),
        ] {
            if !(value.is_finite() && (0.0..=1_000_000.0).contains(&value)) {
                v.push(
                    format!("models[{i}].{name}"),
                    "must be a number from 0 to 1000000",
                );
            }
        }
        if p.currency.len() != 3 || !p.currency.chars().all(|c| c.is_ascii_uppercase()) {
            v.push(
                format!("models[{i}].currency"),
                "must be a 3-letter ISO code such as USD",
            );
        }
    }
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cost_is_per_million_tokens() {
        let p = &default_prices()[0];
        assert_eq!(p.model, "gpt-4o-mini");
        // 1 000 input tokens at $0.15/M + 2 000 output at $0.60/M.
        assert!((p.cost(1_000, 2_000) - 0.00135).abs() < 1e-12);
    }

    #[test]
    fn updates_replace_or_add() {
        let update = vec![
            ModelPrice {
                model: "gpt-4o-mini".into(),
                input_per_mtok: 1.0,
                output_per_mtok: 2.0,
                currency: usd(),
            },
            ModelPrice {
                model: "my-model".into(),
                input_per_mtok: 0.5,
                output_per_mtok: 0.5,
                currency: "EUR".into(),
            },
        ];
        let table = price_table([update.as_slice()]);
        assert_eq!(table.len(), default_prices().len() + 1);
        assert_eq!(table[0].input_per_mtok, 1.0);
        assert_eq!(table.last().unwrap().currency, "EUR");
    }

    #[test]
    fn model_from_body_or_gemini_endpoint() {
        let mut spec: TargetSpec = serde_json::from_value(json!({
            "name": "t", "connectorType": "HTTP_REST", "authType": "NONE",
            "endpoint": "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent",
            "requestTemplate": {"messagePath": "contents.0.parts.0.text"},
            "responseTemplate": {"responsePath": "x"}})).unwrap();
        assert_eq!(target_model(&spec).as_deref(), Some("gemini-2.0-flash"));
        spec.request_template.structure = Some(json!({"model": "gpt-4o"}));
        assert_eq!(target_model(&spec).as_deref(), Some("gpt-4o"));
    }

    #[test]
    fn bad_prices_name_the_field() {
        let bad = vec![ModelPrice {
            model: "".into(),
            input_per_mtok: -1.0,
            output_per_mtok: 1.0,
            currency: "usd".into(),
        }];
        let fields: Vec<String> = validate_prices(&bad)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "models[0].model",
                "models[0].inputPerMTok",
                "models[0].currency"
            ]
        );
    }
}
