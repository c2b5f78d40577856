//! Provider presets: ready-made target settings for common chatbot APIs, with correct endpoints
//! and auth placement (upstream's presets lacked API paths and put Gemini's key in a header
//! named `key`). Creating a target from a preset only needs the secret.

use serde::Serialize;
use serde_json::{Value, json};

/// One preset as served by `GET /api/presets`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preset {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub connector_type: &'static str,
    pub default_endpoint: &'static str,
    pub auth_type: &'static str,
    /// Auth config keys the user must supply (the secret), plus fixed non-secret ones.
    pub auth_fields: Vec<&'static str>,
    pub auth_defaults: Value,
    pub request_template: Value,
    pub response_template: Value,
    pub protocol_config: Value,
    pub documentation: &'static str,
    pub example_response: Value,
}

fn chat_structure(model: &str, extra: Value) -> Value {
    let mut s = json!({"model": model, "messages": [{"role": "user", "content": "{{message}}"}], "max_tokens": 1024});
    if let (Some(obj), Some(extra)) = (s.as_object_mut(), extra.as_object()) {
        obj.extend(extra.clone());
    }
    s
}

/// Request template of a chat API whose `messages` array carries the conversation.
fn chat_request(structure: Value, system_path: Option<&str>) -> Value {
    let mut t = json!({
        "messagePath": "messages.0.content",
        "structure": structure,
        "historyPath": "messages",
        "historyItem": {"role": "{{role}}", "content": "{{content}}"},
    });
    if let (Some(obj), Some(path)) = (t.as_object_mut(), system_path) {
        obj.insert("systemPath".into(), json!(path));
    }
    t
}

fn openai(stream: bool) -> Preset {
    let extra = if stream {
        json!({"stream": true, "stream_options": {"include_usage": true}})
    } else {
        json!({})
    };
    Preset {
        id: if stream {
            "openai-chat-stream"
        } else {
            "openai-chat"
        },
        name: if stream {
            "OpenAI Chat Completions (streaming)"
        } else {
            "OpenAI Chat Completions"
        },
        description: "OpenAI /v1/chat/completions with a bearer API key",
        connector_type: if stream { "SSE" } else { "HTTP_REST" },
        default_endpoint: "https://api.openai.com/v1/chat/completions",
        auth_type: "BEARER_TOKEN",
        auth_fields: vec!["token"],
        auth_defaults: json!({}),
        request_template: chat_request(chat_structure("gpt-4o-mini", extra), None),
        response_template: if stream {
            json!({"responsePath": "choices.0.delta.content", "tokenUsagePath": "usage", "errorPath": "error.message"})
        } else {
            json!({"responsePath": "choices.0.message.content", "tokenUsagePath": "usage", "errorPath": "error.message"})
        },
        protocol_config: json!({}),
        documentation: "Set `token` to your OpenAI API key. Change `model` in the request structure as needed.",
        example_response: json!({"choices": [{"message": {"role": "assistant", "content": "Hello!"}}], "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}}),
    }
}

fn anthropic(stream: bool) -> Preset {
    let extra = if stream {
        json!({"stream": true})
    } else {
        json!({})
    };
    Preset {
        id: if stream {
            "anthropic-messages-stream"
        } else {
            "anthropic-messages"
        },
        name: if stream {
            "Anthropic Messages (streaming)"
        } else {
            "Anthropic Messages"
        },
        description: "Anthropic /v1/messages with an x-api-key header",
        connector_type: if stream { "SSE" } else { "HTTP_REST" },
        default_endpoint: "https://api.anthropic.com/v1/messages",
        auth_type: "API_KEY",
        auth_fields: vec!["apiKey"],
        auth_defaults: json!({"headerName": "x-api-key", "location": "header"}),
        request_template: chat_request(chat_structure("claude-sonnet-4-5", extra), Some("system")),
        response_template: if stream {
            json!({"responsePath": "delta.text", "errorPath": "error.message"})
        } else {
            json!({"responsePath": "content.0.text", "tokenUsagePath": "usage", "errorPath": "error.message"})
        },
        protocol_config: json!({"headers": {"anthropic-version": "2023-06-01"}}),
        documentation: "Set `apiKey` to your Anthropic API key; the `anthropic-version` header is preset.",
        example_response: json!({"content": [{"type": "text", "text": "Hello!"}], "usage": {"input_tokens": 9, "output_tokens": 3}}),
    }
}

fn gemini() -> Preset {
    Preset {
        id: "google-gemini",
        name: "Google Gemini",
        description: "Gemini generateContent with the API key in the x-goog-api-key header",
        connector_type: "HTTP_REST",
        default_endpoint: "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent",
        auth_type: "API_KEY",
        auth_fields: vec!["apiKey"],
        auth_defaults: json!({"headerName": "x-goog-api-key", "location": "header"}),
        request_template: json!({
            "messagePath": "contents.0.parts.0.text",
            "structure": {"contents": [{"role": "user", "parts": [{"text": "{{message}}"}]}]},
            "historyPath": "contents",
            "historyItem": {"role": "{{role}}", "parts": [{"text": "{{content}}"}]},
            "historyRoles": {"assistant": "model"},
            "systemPath": "systemInstruction.parts.0.text",
        }),
        response_template: json!({"responsePath": "candidates.0.content.parts.0.text", "tokenUsagePath": "usageMetadata", "errorPath": "error.message"}),
        protocol_config: json!({}),
        documentation: "Set `apiKey` to a Google AI Studio key. The model is part of the endpoint path.",
        example_response: json!({"candidates": [{"content": {"parts": [{"text": "Hello!"}]}}], "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 3}}),
    }
}

fn azure() -> Preset {
    Preset {
        id: "azure-openai",
        name: "Azure OpenAI",
        description: "Azure OpenAI deployment chat completions with an api-key header",
        connector_type: "HTTP_REST",
        default_endpoint: "https://{resource-name}.openai.azure.com/openai/deployments/{deployment-id}/chat/completions?api-version=2024-10-21",
        auth_type: "API_KEY",
        auth_fields: vec!["apiKey"],
        auth_defaults: json!({"headerName": "api-key", "location": "header"}),
        request_template: chat_request(
            json!({"messages": [{"role": "user", "content": "{{message}}"}], "max_tokens": 1024}),
            None,
        ),
        response_template: json!({"responsePath": "choices.0.message.content", "tokenUsagePath": "usage", "errorPath": "error.message"}),
        protocol_config: json!({}),
        documentation: "Replace {resource-name} and {deployment-id} in the endpoint and set `apiKey`.",
        example_response: json!({"choices": [{"message": {"content": "Hello!"}}], "usage": {"prompt_tokens": 9, "completion_tokens": 3}}),
    }
}

fn ollama() -> Preset {
    Preset {
        id: "ollama",
        name: "Ollama",
        description: "A local Ollama server's /api/chat",
        connector_type: "HTTP_REST",
        default_endpoint: "http://localhost:11434/api/chat",
        auth_type: "NONE",
        auth_fields: vec![],
        auth_defaults: json!({}),
        request_template: chat_request(
            json!({"model": "llama3.2", "messages": [{"role": "user", "content": "{{message}}"}], "stream": false}),
            None,
        ),
        response_template: json!({"responsePath": "message.content", "errorPath": "error"}),
        protocol_config: json!({}),
        documentation: "No key needed. Ollama reports prompt_eval_count/eval_count, which Krawall reads as tokens.",
        example_response: json!({"message": {"role": "assistant", "content": "Hello!"}, "prompt_eval_count": 9, "eval_count": 3}),
    }
}

fn custom(
    id: &'static str,
    connector_type: &'static str,
    endpoint: &'static str,
    request: Value,
    response: Value,
    protocol: Value,
) -> Preset {
    Preset {
        id,
        name: match connector_type {
            "WEBSOCKET" => "Custom WebSocket",
            "GRPC" => "Custom gRPC",
            _ => "Custom HTTP",
        },
        description: "Start from a blank target of this protocol",
        connector_type,
        default_endpoint: endpoint,
        auth_type: "NONE",
        auth_fields: vec![],
        auth_defaults: json!({}),
        request_template: request,
        response_template: response,
        protocol_config: protocol,
        documentation: "Adjust the request structure and response paths to your bot; use test connection to check them.",
        example_response: json!({}),
    }
}

/// The mock's proto, offered as the starting point of the custom gRPC preset.
pub const MOCK_PROTO: &str = include_str!("../../../proto/krawall_mock.proto");

/// Every preset, in display order.
pub fn presets() -> Vec<Preset> {
    vec![
        openai(false),
        openai(true),
        anthropic(false),
        anthropic(true),
        gemini(),
        azure(),
        ollama(),
        custom(
            "custom-http",
            "HTTP_REST",
            "https://",
            json!({"messagePath": "message", "structure": {"message": "{{message}}"}}),
            json!({"responsePath": "response", "errorPath": "error"}),
            json!({}),
        ),
        custom(
            "custom-websocket",
            "WEBSOCKET",
            "wss://",
            json!({"messagePath": "message", "structure": {"type": "message", "message": "{{message}}"}}),
            json!({"responsePath": "data.content", "errorPath": "error.message"}),
            json!({}),
        ),
        custom(
            "custom-grpc",
            "GRPC",
            "localhost:50051",
            json!({"messagePath": "message", "structure": {"message": "{{message}}"}}),
            json!({"responsePath": "content", "tokenUsagePath": "usage"}),
            json!({"protoContent": MOCK_PROTO, "packageName": "krawall.mock.v1", "serviceName": "ChatService", "methodName": "SendMessage", "useTls": false}),
        ),
    ]
}

/// A preset by id.
pub fn preset(id: &str) -> Option<Preset> {
    presets().into_iter().find(|p| p.id == id)
}

/// The target body a preset stands for, with the user's fields laid over it.
pub fn apply_preset(preset: &Preset, user: &Value) -> Value {
    let mut body = json!({
        "name": preset.name,
        "connectorType": preset.connector_type,
        "endpoint": preset.default_endpoint,
        "authType": preset.auth_type,
        "requestTemplate": preset.request_template,
        "responseTemplate": preset.response_template,
        "protocolConfig": preset.protocol_config,
    });
    if let (Some(base), Some(over)) = (body.as_object_mut(), user.as_object()) {
        for (k, v) in over {
            if k != "presetId" && k != "authConfig" {
                base.insert(k.clone(), v.clone());
            }
        }
    }
    body
}

/// The auth config from a preset's fixed keys with the user's keys laid over them.
pub fn preset_auth(preset: &Preset, user: Option<&Value>) -> Value {
    let mut auth = preset.auth_defaults.clone();
    if let (Some(base), Some(Value::Object(over))) = (auth.as_object_mut(), user) {
        base.extend(over.clone());
    }
    auth
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_presets_with_unique_ids() {
        let all = presets();
        assert_eq!(all.len(), 10);
        let mut ids: Vec<_> = all.iter().map(|p| p.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), 10);
    }

    #[test]
    fn user_fields_win_and_only_the_secret_is_needed() {
        let p = preset("anthropic-messages").unwrap();
        let body = apply_preset(
            &p,
            &json!({"presetId": "anthropic-messages", "name": "mine"}),
        );
        assert_eq!(body["name"], "mine");
        assert_eq!(body["endpoint"], "https://api.anthropic.com/v1/messages");
        assert_eq!(p.request_template["historyPath"], "messages");
        assert_eq!(p.request_template["systemPath"], "system");
        let auth = preset_auth(&p, Some(&json!({"apiKey": "k"})));
        assert_eq!(
            auth,
            json!({"headerName": "x-api-key", "location": "header", "apiKey": "k"})
        );
    }
}
