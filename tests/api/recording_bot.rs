//! A stateless chatbot on 127.0.0.1:0 that records every request body and answers in the shape
//! of the API its path names (OpenAI, Anthropic, Gemini), like the real, stateless LLM APIs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

#[derive(Default)]
pub struct Record {
    pub requests: Mutex<Vec<Value>>,
    served: AtomicU64,
    in_flight: AtomicU64,
    pub peak_in_flight: AtomicU64,
}

pub struct RecordingBot {
    pub url: String,
    pub record: Arc<Record>,
    handle: ServerHandle,
}

impl RecordingBot {
    /// Starts the bot; each reply waits `latency`.
    pub async fn start(latency: Duration) -> RecordingBot {
        let record = Arc::new(Record::default());
        let data = web::Data::from(record.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::Data::new(latency))
                .default_service(web::to(answer))
        })
        .workers(2)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        RecordingBot {
            url,
            record,
            handle,
        }
    }

    pub fn requests(&self) -> Vec<Value> {
        self.record.requests.lock().unwrap().clone()
    }

    pub fn peak(&self) -> u64 {
        self.record.peak_in_flight.load(Ordering::SeqCst)
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// The text of the newest user message in any of the three shapes.
fn last_user_text(body: &Value) -> String {
    let items = body["messages"]
        .as_array()
        .or_else(|| body["contents"].as_array())
        .cloned()
        .unwrap_or_default();
    let last = items.last().cloned().unwrap_or(Value::Null);
    last["content"]
        .as_str()
        .or_else(|| last["parts"][0]["text"].as_str())
        .unwrap_or_default()
        .to_string()
}

async fn answer(
    req: HttpRequest,
    body: web::Json<Value>,
    record: web::Data<Record>,
    latency: web::Data<Duration>,
) -> HttpResponse {
    let body = body.into_inner();
    let now = record.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    record.peak_in_flight.fetch_max(now, Ordering::SeqCst);
    record.requests.lock().unwrap().push(body.clone());
    tokio::time::sleep(**latency).await;
    record.in_flight.fetch_sub(1, Ordering::SeqCst);
    let n = record.served.fetch_add(1, Ordering::SeqCst);
    let asked = last_user_text(&body);
    if asked.contains("FAIL") {
        return HttpResponse::InternalServerError().json(json!({"error": {"message": "boom"}}));
    }
    let text = format!("reply {n} to [{asked}]");
    let path = req.path();
    let reply = if path.contains("/v1/messages") {
        json!({"content": [{"type": "text", "text": text}], "usage": {"input_tokens": 10, "output_tokens": 5}})
    } else if path.contains("generateContent") {
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}}]})
    } else {
        json!({"choices": [{"message": {"role": "assistant", "content": text}}], "usage": {"prompt_tokens": 10, "completion_tokens": 5}})
    };
    HttpResponse::Ok().json(reply)
}
