//! HTTP routes of the mock chatbot: OpenAI-shaped completions, a simple `/chat`, fault routes
//! (`/error`, `/timeout`, `/slow`) and a `/__last_request` debug route for tests.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use actors::connectors::usage::estimate_tokens;
use serde_json::{Value, json};

use super::personas::{Outcome, Persona};
use super::server::MockState;
use super::sessions::SessionView;

/// Largest accepted request body (the `oversized` fault injection sends 1 MiB).
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
const SLOW_DELAY: Duration = Duration::from_secs(5);
const NEVER: Duration = Duration::from_secs(3600);

type State = web::Data<MockState>;

/// Registers every mock route.
pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .route("/", web::get().to(root))
        .route("/health", web::get().to(health))
        .route("/__last_request", web::get().to(last_request))
        .route("/v1/chat/completions", web::post().to(chat_completions))
        .route("/chat", web::post().to(chat))
        .route("/error", web::post().to(error))
        .route("/timeout", web::post().to(timeout))
        .route("/slow", web::post().to(slow))
        .configure(super::ws::configure)
        .configure(super::sse::configure);
}

async fn root() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn health(state: State) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "status": "healthy",
        "requestsServed": state.requests_served(),
        "sessions": state.session_count(),
    }))
}

async fn last_request(state: State) -> HttpResponse {
    HttpResponse::Ok().json(state.last_request())
}

/// OpenAI-shaped chat completion answering the last entry of `messages`.
async fn chat_completions(req: HttpRequest, body: web::Bytes, state: State) -> HttpResponse {
    state.record_request(&req);
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error_response(
            HttpResponse::BadRequest(),
            "request body is not valid JSON",
            "invalid_request_error",
        );
    };
    let Some(messages) = request
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
    else {
        return error_response(
            HttpResponse::BadRequest(),
            "messages must be a non-empty array",
            "invalid_request_error",
        );
    };
    let contents: Vec<String> = messages.iter().map(content_text).collect();
    let last = contents.last().cloned().unwrap_or_default();
    let persona = state.persona(&req, request.get("persona").and_then(Value::as_str));
    let session = state.session(&req, &last);
    let text = match answer(&state, persona, &last, &session).await {
        Ok(text) => text,
        Err(response) => return response,
    };
    let prompt_tokens: u64 = contents.iter().map(|c| estimate_tokens(c)).sum();
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        return super::sse::openai_stream(&req, &request, &text, prompt_tokens);
    }
    let completion_tokens = estimate_tokens(&text);
    let now = chrono::Utc::now();
    HttpResponse::Ok().json(json!({
        "id": format!("chatcmpl-{}{:04}", now.timestamp_millis(), fastrand::u16(..10_000)),
        "object": "chat.completion",
        "created": now.timestamp(),
        "model": request.get("model").and_then(Value::as_str).unwrap_or("mock-gpt-4"),
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens
        }
    }))
}

/// `{message, persona?}` → `{response, tokens: {total}, timestamp}`.
async fn chat(req: HttpRequest, body: web::Bytes, state: State) -> HttpResponse {
    state.record_request(&req);
    let request = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    let Some(message) = request
        .get("message")
        .and_then(Value::as_str)
        .filter(|m| !m.trim().is_empty())
    else {
        return error_response(
            HttpResponse::BadRequest(),
            "message is required",
            "invalid_request_error",
        );
    };
    let persona = state.persona(&req, request.get("persona").and_then(Value::as_str));
    let session = state.session(&req, message);
    match answer(&state, persona, message, &session).await {
        Ok(text) => simple_reply(message, &text),
        Err(response) => response,
    }
}

async fn error(req: HttpRequest, state: State) -> HttpResponse {
    state.record_request(&req);
    error_response(
        HttpResponse::InternalServerError(),
        "Internal server error",
        "server_error",
    )
}

async fn timeout(req: HttpRequest, state: State) -> HttpResponse {
    state.record_request(&req);
    tokio::time::sleep(NEVER).await;
    error_response(
        HttpResponse::GatewayTimeout(),
        "Gateway timeout",
        "timeout_error",
    )
}

async fn slow(req: HttpRequest, state: State) -> HttpResponse {
    state.record_request(&req);
    tokio::time::sleep(SLOW_DELAY).await;
    simple_reply("", "This response was intentionally slow.")
}

/// Applies the latency and error-rate knobs, then lets the persona decide.
pub(super) async fn answer(
    state: &MockState,
    persona: Persona,
    message: &str,
    session: &SessionView,
) -> Result<String, HttpResponse> {
    state.delay().await;
    if state.roll_error() {
        return Err(error_response(
            HttpResponse::InternalServerError(),
            "Simulated server error",
            "server_error",
        ));
    }
    match state.respond(persona, message, session) {
        Outcome::Reply(text) => Ok(text),
        Outcome::Empty => Ok(String::new()),
        Outcome::RateLimited { retry_after_secs } => {
            let mut builder = HttpResponse::TooManyRequests();
            builder.insert_header(("Retry-After", retry_after_secs.to_string()));
            let message =
                format!("Rate limit exceeded. Please retry after {retry_after_secs} seconds.");
            Err(error_response(builder, &message, "rate_limit_error"))
        }
        Outcome::ServerError => Err(error_response(
            HttpResponse::InternalServerError(),
            "The server had an error while processing your request",
            "server_error",
        )),
        Outcome::HangThenGatewayTimeout(wait) => {
            tokio::time::sleep(wait).await;
            Err(error_response(
                HttpResponse::GatewayTimeout(),
                "Gateway timeout",
                "timeout_error",
            ))
        }
    }
}

fn simple_reply(message: &str, text: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "response": text,
        "tokens": {"total": estimate_tokens(message) + estimate_tokens(text)},
        "timestamp": chrono::Utc::now().to_rfc3339(),
    }))
}

/// An OpenAI-style error body: `{error: {message, type}}`.
pub(super) fn error_response(
    mut builder: actix_web::HttpResponseBuilder,
    message: &str,
    kind: &str,
) -> HttpResponse {
    builder.json(json!({"error": {"message": message, "type": kind}}))
}

/// The text of a chat message: a string, or the `text` of each content part.
pub(super) fn content_text(message: &Value) -> String {
    match message.get("content") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}
