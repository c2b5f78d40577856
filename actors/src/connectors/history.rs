//! The JSON request every connector sends: the template's `structure` with `{{message}}` filled
//! in, and either the message at `messagePath` or the whole conversation at `historyPath`
//! (system prompt first or at `systemPath`, then the earlier turns, then the new message).

use serde_json::{Value, json};

use super::ConnectorError;
use super::OutboundMessage;
use super::http_config::{config_error, substitute_placeholder};
use super::paths::{validate_write_path, write_path};
use crate::domain::conversation::{ChatTurn, Role};
use crate::domain::target::{RequestTemplate, TargetSpec};
use crate::domain::validation::FieldError;

/// Builds the request value for `text` (the outgoing message, possibly padded by a fault).
pub fn request_value(
    request: &RequestTemplate,
    message: &OutboundMessage,
    text: &str,
) -> Result<Value, ConnectorError> {
    let mut body = request.structure.clone().unwrap_or_else(|| json!({}));
    substitute_placeholder(&mut body, text);
    match (
        &request.history_path,
        &request.history_item,
        &message.context,
    ) {
        (Some(path), Some(item), Some(context)) => {
            let mut items = Vec::with_capacity(context.turns.len() + 2);
            if let Some(system) = &context.system {
                match &request.system_path {
                    Some(system_path) => write_path(&mut body, system_path, json!(**system))
                        .map_err(|e| config_error(format!("requestTemplate.systemPath: {e}")))?,
                    None => items.push(history_item(
                        request,
                        item,
                        &ChatTurn::new(Role::System, system.clone()),
                    )),
                }
            }
            for turn in &context.turns {
                items.push(history_item(request, item, turn));
            }
            items.push(history_item(
                request,
                item,
                &ChatTurn::new(Role::User, text),
            ));
            write_path(&mut body, path, Value::Array(items))
                .map_err(|e| config_error(format!("requestTemplate.historyPath: {e}")))?;
        }
        _ => write_path(
            &mut body,
            &request.message_path,
            Value::String(text.to_string()),
        )
        .map_err(|e| config_error(format!("requestTemplate.messagePath: {e}")))?,
    }
    Ok(body)
}

/// Whether requests of this template carry the conversation.
pub fn places_history(request: &RequestTemplate) -> bool {
    request.history_path.is_some() && request.history_item.is_some()
}

fn history_item(request: &RequestTemplate, item: &Value, turn: &ChatTurn) -> Value {
    let role = request
        .history_roles
        .get(turn.role.as_str())
        .map_or(turn.role.as_str(), String::as_str);
    let mut value = item.clone();
    fill(&mut value, role, &turn.content);
    value
}

/// Fills `{{role}}` and `{{content}}` in every string leaf (a leaf that is exactly the
/// placeholder becomes the value itself).
fn fill(value: &mut Value, role: &str, content: &str) {
    match value {
        Value::String(s) if s.contains("{{") => {
            *s = s.replace("{{role}}", role).replace("{{content}}", content);
        }
        Value::Array(items) => items.iter_mut().for_each(|v| fill(v, role, content)),
        Value::Object(map) => map.values_mut().for_each(|v| fill(v, role, content)),
        _ => {}
    }
}

/// Checks the history paths of a target (every connector type).
pub fn validate_history_paths(spec: &TargetSpec) -> Vec<FieldError> {
    let request = &spec.request_template;
    [
        ("requestTemplate.historyPath", &request.history_path),
        ("requestTemplate.systemPath", &request.system_path),
    ]
    .into_iter()
    .filter_map(|(field, path)| {
        let e = validate_write_path(path.as_deref()?).err()?;
        Some(FieldError {
            field: field.to_string(),
            rule: e.to_string(),
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::domain::conversation::Context;

    fn message(context: Option<Context>) -> OutboundMessage {
        OutboundMessage {
            text: "third".into(),
            session_id: uuid::Uuid::nil(),
            message_index: 2,
            inject: None,
            context,
        }
    }

    fn context(system: bool) -> Context {
        Context {
            system: system.then(|| Arc::from("be brief")),
            turns: vec![
                ChatTurn::new(Role::User, "first"),
                ChatTurn::new(Role::Assistant, "reply one"),
            ],
            message_count: 3,
            estimated_tokens: 10,
        }
    }

    fn template(structure: Value, item: Value, roles: &[(&str, &str)]) -> RequestTemplate {
        RequestTemplate {
            message_path: "messages.0.content".into(),
            structure: Some(structure),
            history_path: Some("messages".into()),
            history_item: Some(item),
            history_roles: roles
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<BTreeMap<_, _>>(),
            system_path: None,
        }
    }

    #[test]
    fn openai_shape_puts_system_first() {
        let t = template(
            json!({"model": "m", "messages": [{"role": "user", "content": "{{message}}"}]}),
            json!({"role": "{{role}}", "content": "{{content}}"}),
            &[],
        );
        let body = request_value(&t, &message(Some(context(true))), "third").unwrap();
        let roles: Vec<&str> = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["system", "user", "assistant", "user"]);
        assert_eq!(body["messages"][3]["content"], "third");
        assert_eq!(body["model"], "m");
    }

    #[test]
    fn anthropic_and_gemini_shapes() {
        let mut t = template(
            json!({"messages": []}),
            json!({"role": "{{role}}", "content": "{{content}}"}),
            &[],
        );
        t.system_path = Some("system".into());
        let body = request_value(&t, &message(Some(context(true))), "third").unwrap();
        assert_eq!(body["system"], "be brief");
        assert_eq!(body["messages"].as_array().unwrap().len(), 3);
        let mut g = template(
            json!({}),
            json!({"role": "{{role}}", "parts": [{"text": "{{content}}"}]}),
            &[("assistant", "model")],
        );
        g.history_path = Some("contents".into());
        g.system_path = Some("systemInstruction.parts.0.text".into());
        let body = request_value(&g, &message(Some(context(true))), "third").unwrap();
        assert_eq!(body["contents"][1]["role"], "model");
        assert_eq!(body["contents"][1]["parts"][0]["text"], "reply one");
        assert_eq!(body["systemInstruction"]["parts"][0]["text"], "be brief");
    }

    #[test]
    fn without_context_the_message_goes_to_message_path() {
        let t = template(
            json!({"messages": [{"role": "user", "content": "{{message}}"}]}),
            json!({"role": "{{role}}", "content": "{{content}}"}),
            &[],
        );
        let body = request_value(&t, &message(None), "third").unwrap();
        assert_eq!(
            body["messages"],
            json!([{"role": "user", "content": "third"}])
        );
    }
}
