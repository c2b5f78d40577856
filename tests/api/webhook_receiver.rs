//! A webhook receiver on 127.0.0.1:0 that checks each request's `X-Krawall-Signature` with its
//! own HMAC-SHA256 and can refuse the first delivery attempt with a 500.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{KeyInit, Mac};
use serde_json::Value;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub signature_ok: bool,
    pub body: Value,
}

struct State {
    secret: Mutex<String>,
    fail_next: AtomicBool,
    received: Mutex<Vec<Received>>,
}

pub struct Receiver {
    pub url: String,
    state: Arc<State>,
}

fn verify(secret: &str, req: &HttpRequest, body: &[u8]) -> bool {
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let timestamp = header("X-Krawall-Timestamp");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    !timestamp.is_empty() && header("X-Krawall-Signature") == expected
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let secret = state.secret.lock().unwrap().clone();
    let received = Received {
        signature_ok: verify(&secret, &req, &body),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    state.received.lock().unwrap().push(received);
    if state.fail_next.swap(false, Ordering::SeqCst) {
        HttpResponse::InternalServerError().body("not now")
    } else {
        HttpResponse::Ok().body("thanks")
    }
}

impl Receiver {
    /// Starts a receiver; `fail_first` makes its first answer a 500.
    pub fn start(fail_first: bool) -> Receiver {
        let state = Arc::new(State {
            secret: Mutex::new(String::new()),
            fail_next: AtomicBool::new(fail_first),
            received: Mutex::new(Vec::new()),
        });
        let data = web::Data::from(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Receiver { url, state }
    }

    /// The secret signatures are checked against.
    pub fn expect_secret(&self, secret: &str) {
        *self.state.secret.lock().unwrap() = secret.to_string();
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }
}
