//! `POST /api/templates/validate`: checks a target's request and response paths against a
//! sample reply, so users see what each path extracts before they save or run anything.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actors::connectors::paths::{read_path, validate_read_path, validate_write_path, write_path};
use actors::connectors::usage::normalise_usage;
use actors::domain::target::{RequestTemplate, ResponseTemplate};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::envelope::{ApiError, Envelope, JsonObject, ok, parse_body};

/// Object levels explored for suggestions (array indices do not count as a level).
const SUGGESTION_DEPTH: usize = 3;
/// Array items explored per array when suggesting paths.
const SUGGESTION_ITEMS: usize = 3;
/// Most suggestions returned.
const MAX_SUGGESTIONS: usize = 25;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ValidateInput {
    request_template: RequestTemplate,
    response_template: ResponseTemplate,
    /// The sample reply: a JSON value, or a string holding JSON text.
    sample_response: Value,
}

/// The verdict on one path: `value` is what it extracts (or the request it builds).
#[derive(Debug, Serialize)]
struct Check {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Check {
    fn pass(value: Option<Value>) -> Self {
        Self {
            ok: true,
            value,
            error: None,
        }
    }
    fn fail(error: impl Into<String>) -> Self {
        Self {
            ok: false,
            value: None,
            error: Some(error.into()),
        }
    }
}

/// Check request and response paths against a sample reply.
#[utoipa::path(
    post,
    path = "/api/templates/validate",
    tag = "scenarios",
    request_body(content = ValidateInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Each template rendered against the sample response, with the paths it reads", body = Envelope<JsonObject>),
        (status = 400, response = crate::openapi::Invalid),
    )
)]
pub async fn validate_templates(body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let input: ValidateInput = parse_body(&body)?;
    let sample = sample_json(input.sample_response)?;
    let rt = &input.response_template;
    Ok(ok(
        StatusCode::OK,
        json!({
            "messagePath": check_message_path(&input.request_template),
            "responsePath": check_response_path(&sample, &rt.response_path),
            "tokenUsagePath": check_usage_path(&sample, rt.token_usage_path.as_deref()),
            "errorPath": check_error_path(&sample, rt.error_path.as_deref()),
            "suggestions": suggestions(&sample),
        }),
    ))
}

/// A string sample is parsed as JSON text; anything else is the sample itself.
fn sample_json(sample: Value) -> Result<Value, ApiError> {
    match sample {
        Value::String(text) if text.trim().is_empty() => {
            Err(ApiError::field("sampleResponse", "must not be empty"))
        }
        Value::String(text) => serde_json::from_str(&text)
            .map_err(|e| ApiError::field("sampleResponse", format!("is not valid JSON: {e}"))),
        Value::Null => Err(ApiError::field("sampleResponse", "is required")),
        other => Ok(other),
    }
}

/// The write path must be simple; `value` is the request body the structure becomes.
fn check_message_path(template: &RequestTemplate) -> Check {
    let path = template.message_path.trim();
    if let Err(e) = validate_write_path(path) {
        return Check::fail(e.to_string());
    }
    let mut request = template.structure.clone().unwrap_or(Value::Null);
    match write_path(&mut request, path, Value::String("Hello!".into())) {
        Ok(()) => Check::pass(Some(request)),
        Err(e) => Check::fail(e.to_string()),
    }
}

fn check_response_path(sample: &Value, path: &str) -> Check {
    match read_path(sample, path) {
        Err(e) => Check::fail(e.to_string()),
        Ok(None) => Check::fail(format!("`{path}` matches nothing in the sample")),
        Ok(Some(Value::Null)) => Check::fail(format!("`{path}` is null in the sample")),
        Ok(Some(value)) => Check::pass(Some(value)),
    }
}

/// Empty means "detect `usage` / `usageMetadata` at the root"; `value` is the normalised usage.
fn check_usage_path(sample: &Value, path: Option<&str>) -> Check {
    let path = path.map(str::trim).filter(|p| !p.is_empty());
    if let Some(Err(e)) = path.map(validate_read_path) {
        return Check::fail(e.to_string());
    }
    match (normalise_usage(sample, path), path) {
        (Some(tokens), _) => Check::pass(Some(
            json!({"input": tokens.input, "output": tokens.output}),
        )),
        (None, None) => Check::pass(None),
        (None, Some(path)) => match read_path(sample, path) {
            Ok(Some(_)) => Check::fail(
                "no known token usage shape there (prompt_tokens/completion_tokens, input_tokens/output_tokens, promptTokenCount/candidatesTokenCount)",
            ),
            _ => Check::fail("matches nothing in the sample; tokens will be estimated"),
        },
    }
}

/// An error path usually matches nothing in a successful reply; `ok` means it is well-formed.
fn check_error_path(sample: &Value, path: Option<&str>) -> Check {
    match path.map(str::trim).filter(|p| !p.is_empty()) {
        None => Check::pass(None),
        Some(path) => match read_path(sample, path) {
            Err(e) => Check::fail(e.to_string()),
            Ok(value) => Check::pass(value),
        },
    }
}

/// Paths (dotted form, JSONPath for unusual keys) of string values in the sample.
fn suggestions(sample: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(sample, &mut Vec::new(), 0, &mut out);
    out
}

fn walk(value: &Value, path: &mut Vec<String>, depth: usize, out: &mut Vec<String>) {
    if out.len() >= MAX_SUGGESTIONS {
        return;
    }
    match value {
        Value::String(_) if !path.is_empty() => out.push(render_path(path)),
        Value::Object(map) if depth < SUGGESTION_DEPTH => {
            for (key, child) in map {
                path.push(key.clone());
                walk(child, path, depth + 1, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().take(SUGGESTION_ITEMS).enumerate() {
                path.push(i.to_string());
                walk(child, path, depth, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn is_simple(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn render_path(segments: &[String]) -> String {
    if segments.iter().all(|s| is_simple(s)) {
        return segments.join(".");
    }
    let mut out = String::from("$");
    for s in segments {
        if s.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{s}]"));
        } else {
            out.push_str(&format!(
                "['{}']",
                s.replace('\\', "\\\\").replace('\'', "\\'")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_string_leaves_with_indices_not_counting_as_levels() {
        let sample = json!({"choices": [{"message": {"content": "hi", "deep": {"x": "no"}}}], "a b": "c", "n": 1});
        let s = suggestions(&sample);
        assert!(
            s.contains(&"choices.0.message.content".to_string()),
            "{s:?}"
        );
        assert!(s.contains(&"$['a b']".to_string()), "{s:?}");
        assert!(!s.iter().any(|p| p.contains("deep")), "{s:?}");
        for p in &s {
            assert!(
                read_path(&sample, p)
                    .unwrap()
                    .is_some_and(|v| v.is_string()),
                "{p}"
            );
        }
    }
}
