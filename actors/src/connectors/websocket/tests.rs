//! Connector tests against scripted tokio-tungstenite servers on 127.0.0.1:0: misbehaviour the
//! mock chatbot does not produce (garbage frames, mid-stream closes, refused upgrades, pings).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::{WebSocketStream, accept_async, accept_hdr_async};

use super::WebSocketConnector;
use crate::connectors::{Connector, OutboundMessage, TargetConnection};
use crate::domain::events::ErrorKind;
use crate::domain::target::{
    AuthType, ConnectorType, RequestTemplate, ResponseTemplate, TargetSpec,
};

type Ws = WebSocketStream<TcpStream>;

/// Serves every connection with `script`; returns the URL and the number of accepted sockets.
async fn serve<F, Fut>(script: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(Ws) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    let script = Arc::new(script);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let script = script.clone();
            tokio::spawn(async move {
                if let Ok(ws) = accept_async(tcp).await {
                    script(ws).await;
                }
            });
        }
    });
    (url, accepted)
}

fn target(endpoint: &str, config: Value) -> TargetConnection {
    TargetConnection {
        spec: TargetSpec {
            name: "ws".into(),
            description: None,
            rate_limit: None,
            connector_type: ConnectorType::Websocket,
            endpoint: endpoint.into(),
            auth_type: AuthType::None,
            request_template: RequestTemplate {
                history_path: None,
                history_item: None,
                history_roles: Default::default(),
                system_path: None,
                message_path: "message".into(),
                structure: None,
            },
            response_template: ResponseTemplate {
                response_path: "text".into(),
                token_usage_path: None,
                error_path: Some("error".into()),
            },
            protocol_config: Some(config),
        },
        auth_config: Value::Null,
    }
}

fn msg(text: &str) -> OutboundMessage {
    OutboundMessage {
        text: text.into(),
        session_id: uuid::Uuid::new_v4(),
        message_index: 0,
        context: None,
        inject: None,
    }
}

async fn next_json(ws: &mut Ws) -> Option<Value> {
    while let Some(Ok(m)) = ws.next().await {
        if let Message::Text(t) = m {
            return serde_json::from_str(t.as_str()).ok();
        }
    }
    None
}

async fn text(ws: &mut Ws, value: Value) {
    let _ = ws.send(Message::text(value.to_string())).await;
}

#[tokio::test]
async fn garbage_frames_are_skipped() {
    let (url, _) = serve(|mut ws| async move {
        while let Some(req) = next_json(&mut ws).await {
            for junk in [
                "not json",
                "{\"truncated\":",
                "[1,2",
                "",
                "99999999999999999999999",
            ] {
                let _ = ws.send(Message::text(junk)).await;
            }
            let _ = ws.send(Message::binary(vec![0xff, 0xfe, 0x00])).await;
            text(&mut ws, json!({"type": "typing"})).await;
            text(
                &mut ws,
                json!({"text": format!("echo {}", req["message"].as_str().unwrap_or(""))}),
            )
            .await;
        }
    })
    .await;
    let mut c = WebSocketConnector::new(&target(&url, json!({})), Default::default()).unwrap();
    c.connect().await.unwrap();
    for i in 0..3 {
        let reply = c.send(&msg(&format!("m{i}"))).await.unwrap();
        assert_eq!(reply.text, format!("echo m{i}"));
        assert!(reply.tokens.estimated && reply.stream.is_none());
    }
    c.disconnect().await;
}

#[tokio::test]
async fn mid_stream_close_keeps_the_partial_text() {
    let (url, _) = serve(|mut ws| async move {
        if next_json(&mut ws).await.is_some() {
            text(&mut ws, json!({"text": "Hel"})).await;
            text(&mut ws, json!({"text": "lo"})).await;
            let _ = ws.close(None).await;
        }
    })
    .await;
    let config = json!({"streaming": {"doneMarkerPath": "done"}, "reconnect": {"maxAttempts": 1}});
    let mut c = WebSocketConnector::new(&target(&url, config), Default::default()).unwrap();
    let err = c.send(&msg("hi")).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol, "{err:?}");
    assert_eq!(err.partial.as_deref(), Some("Hello"));
    c.disconnect().await;
}

/// A handshake callback answering 401 (its signature is tungstenite's).
#[allow(clippy::result_large_err)]
fn reject_unauthorized(_: &Request, _: Response) -> Result<Response, ErrorResponse> {
    let mut response = ErrorResponse::new(Some("no".into()));
    *response.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::UNAUTHORIZED;
    Err(response)
}

#[tokio::test]
async fn refused_upgrade_and_dead_port() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = accept_hdr_async(tcp, reject_unauthorized).await;
        }
    });
    let mut c = WebSocketConnector::new(&target(&url, json!({})), Default::default()).unwrap();
    let err = c.connect().await.unwrap_err();
    assert_eq!(
        (err.kind, err.status),
        (ErrorKind::HttpStatus, Some(401)),
        "{err:?}"
    );
    let err = c.send(&msg("hi")).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::HttpStatus,
        "401 is not retried: {err:?}"
    );
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", dead.local_addr().unwrap());
    drop(dead);
    let mut c = WebSocketConnector::new(&target(&url, json!({})), Default::default()).unwrap();
    assert_eq!(c.connect().await.unwrap_err().kind, ErrorKind::Connect);
    let health = c.health().await;
    assert!(
        !health.healthy && health.detail.starts_with("connect failed"),
        "{health:?}"
    );
}

#[tokio::test]
async fn pings_are_answered_while_idle_and_health_pongs() {
    let pongs = Arc::new(AtomicUsize::new(0));
    let seen = pongs.clone();
    let (url, _) = serve(move |mut ws| {
        let seen = seen.clone();
        async move {
            let _ = ws.send(Message::Ping(b"srv".to_vec().into())).await;
            while let Some(Ok(m)) = ws.next().await {
                if matches!(m, Message::Pong(ref p) if p.as_ref() == b"srv") {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    })
    .await;
    let mut c = WebSocketConnector::new(&target(&url, json!({})), Default::default()).unwrap();
    c.connect().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        pongs.load(Ordering::SeqCst),
        1,
        "server ping answered without a send"
    );
    let health = c.health().await;
    assert!(health.healthy, "{health:?}");
    c.disconnect().await;
}

/// Replies `{id, text}` after the delay (ms) that starts the message text, concurrently.
async fn delayed_echo(mut ws: Ws) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Value>(16);
    loop {
        tokio::select! {
            req = next_json(&mut ws) => {
                let Some(req) = req else { break };
                let tx = tx.clone();
                tokio::spawn(async move {
                    let message = req["message"].as_str().unwrap_or("").to_string();
                    let delay = message.split(' ').next().and_then(|d| d.parse().ok()).unwrap_or(0);
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    let _ = tx.send(json!({"id": req["id"], "text": message})).await;
                });
            }
            Some(reply) = rx.recv() => text(&mut ws, reply).await,
        }
    }
}

#[tokio::test]
async fn stale_reply_of_an_abandoned_send_is_skipped_by_id() {
    let (url, accepted) = serve(delayed_echo).await;
    let mut c = WebSocketConnector::new(&target(&url, json!({"idPath": "id"})), Default::default())
        .unwrap();
    let first = tokio::time::timeout(Duration::from_millis(40), c.send(&msg("120 first"))).await;
    assert!(first.is_err(), "the caller gave up");
    let reply = c.send(&msg("100 second")).await.unwrap();
    assert_eq!(reply.text, "100 second");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "same connection");
    c.disconnect().await;
}

#[tokio::test]
async fn without_ids_an_abandoned_send_moves_to_a_fresh_connection() {
    let (url, accepted) = serve(delayed_echo).await;
    let mut c = WebSocketConnector::new(&target(&url, json!({})), Default::default()).unwrap();
    let first = tokio::time::timeout(Duration::from_millis(40), c.send(&msg("120 first"))).await;
    assert!(first.is_err(), "the caller gave up");
    let reply = c.send(&msg("100 second")).await.unwrap();
    assert_eq!(
        reply.text, "100 second",
        "the late reply to `first` is not taken"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "a fresh connection");
    let mut c =
        WebSocketConnector::new(&target(&url, json!({"timeoutMs": 40})), Default::default())
            .unwrap();
    let err = c.send(&msg("120 slow")).await.unwrap_err();
    assert_eq!((err.kind, err.partial), (ErrorKind::Timeout, None));
    assert_eq!(c.send(&msg("0 fast")).await.unwrap().text, "0 fast");
    c.disconnect().await;
}

#[tokio::test]
async fn reconnect_exhausted_fails_with_connect() {
    let (url, accepted) = serve(|mut ws| async move {
        let _ = ws.close(None).await;
    })
    .await;
    let config = json!({"reconnect": {"maxAttempts": 3, "initialDelayMs": 5, "maxDelayMs": 10}});
    let mut c = WebSocketConnector::new(&target(&url, config), Default::default()).unwrap();
    c.connect().await.unwrap();
    let err = c.send(&msg("hi")).await.unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::Protocol | ErrorKind::Connect),
        "{err:?}"
    );
    let url = "ws://127.0.0.1:1/";
    let config = json!({"reconnect": {"maxAttempts": 3, "initialDelayMs": 5, "maxDelayMs": 10}});
    let mut c = WebSocketConnector::new(&target(url, config), Default::default()).unwrap();
    let err = c.send(&msg("hi")).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connect);
    assert!(
        err.message
            .starts_with("gave up after 3 connection attempts"),
        "{}",
        err.message
    );
    assert!(accepted.load(Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn socket_io_pings_are_answered_and_events_decoded() {
    let pongs = Arc::new(AtomicUsize::new(0));
    let seen = pongs.clone();
    let (url, _) = serve(move |mut ws| {
        let seen = seen.clone();
        async move {
            let _ = ws
                .send(Message::text(
                    "0{\"sid\":\"x\",\"pingInterval\":100,\"pingTimeout\":100}",
                ))
                .await;
            let _ = ws.send(Message::text("2")).await;
            while let Some(Ok(Message::Text(t))) = ws.next().await {
                match t.as_str() {
                    "3" => {
                        seen.fetch_add(1, Ordering::SeqCst);
                    }
                    "40/bot," => {
                        let _ = ws.send(Message::text("40/bot,{\"sid\":\"y\"}")).await;
                    }
                    other if other.starts_with("42/bot,") => {
                        let _ = ws
                            .send(Message::text(
                                "42[\"message\",{\"text\":\"wrong namespace\"}]",
                            ))
                            .await;
                        let _ = ws.send(Message::text("42/bot,[\"typing\",{}]")).await;
                        let _ = ws
                            .send(Message::text("42/bot,[\"reply\",{\"text\":\"ok\"}]"))
                            .await;
                        let _ = ws.send(Message::text("2")).await;
                    }
                    _ => {}
                }
            }
        }
    })
    .await;
    let config = json!({"socketIo": {"namespace": "/bot", "event": "ask"}});
    let mut c = WebSocketConnector::new(&target(&url, config), Default::default()).unwrap();
    c.connect().await.unwrap();
    let reply = c.send(&msg("hi")).await.unwrap();
    assert_eq!(reply.text, "ok");
    assert_eq!(reply.json, json!({"text": "ok"}));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(pongs.load(Ordering::SeqCst), 2);
    c.disconnect().await;
}
