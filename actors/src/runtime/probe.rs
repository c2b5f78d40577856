//! Test connection: connect, health, one message, disconnect — reporting each step as it
//! happens, so users can fix endpoints, auth and response paths before a real run.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::connectors::{Outbound, OutboundMessage, TargetConnection, build_connector};

/// One step of a probe, as streamed to the user.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum ProbeEvent {
    Step {
        message: String,
    },
    RawResponse {
        data: String,
        extracted_content: String,
    },
    Error {
        message: String,
    },
    Result(ProbeResult),
}

/// The outcome of a probe (upstream's `result` payload, plus the raw reply).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeResult {
    pub success: bool,
    pub healthy: bool,
    pub latency_ms: u64,
    pub connect_latency_ms: u64,
    pub health_check_latency_ms: u64,
    pub test_response: Option<String>,
    pub raw_response: Option<String>,
    pub connector_type: String,
    pub error: Option<String>,
}

async fn emit(tx: &mpsc::Sender<ProbeEvent>, event: ProbeEvent) {
    let _ = tx.send(event).await;
}

fn ms(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

/// Runs the probe within `timeout` overall; every step is also sent on `tx` (which may be closed).
pub async fn probe(
    conn: TargetConnection,
    outbound: Outbound,
    message: String,
    timeout: Duration,
    tx: mpsc::Sender<ProbeEvent>,
) -> ProbeResult {
    let connector_type = conn.spec.connector_type.as_str().to_string();
    let mut result = ProbeResult {
        success: false,
        healthy: false,
        latency_ms: 0,
        connect_latency_ms: 0,
        health_check_latency_ms: 0,
        test_response: None,
        raw_response: None,
        connector_type,
        error: None,
    };
    if tokio::time::timeout(timeout, steps(&conn, &outbound, message, &tx, &mut result))
        .await
        .is_err()
    {
        result.error = Some(format!(
            "the test did not finish within {} ms",
            timeout.as_millis()
        ));
    }
    if let Some(error) = &result.error {
        emit(
            &tx,
            ProbeEvent::Error {
                message: error.clone(),
            },
        )
        .await;
    }
    emit(&tx, ProbeEvent::Result(result.clone())).await;
    result
}

async fn steps(
    conn: &TargetConnection,
    outbound: &Outbound,
    message: String,
    tx: &mpsc::Sender<ProbeEvent>,
    result: &mut ProbeResult,
) {
    emit(
        tx,
        ProbeEvent::Step {
            message: format!(
                "Connecting to {} ({})…",
                conn.spec.endpoint, result.connector_type
            ),
        },
    )
    .await;
    let started = Instant::now();
    let mut connector = match build_connector(conn, outbound) {
        Ok(c) => c,
        Err(e) => return result.error = Some(e.message),
    };
    if let Err(e) = connector.connect().await {
        result.error = Some(format!("connect failed: {}", e.message));
        return;
    }
    result.connect_latency_ms = ms(started);
    emit(
        tx,
        ProbeEvent::Step {
            message: format!("Connected ({} ms)", result.connect_latency_ms),
        },
    )
    .await;
    let health_started = Instant::now();
    let health = connector.health().await;
    result.healthy = health.healthy;
    result.health_check_latency_ms = ms(health_started);
    let verdict = if health.healthy {
        "healthy"
    } else {
        "not healthy"
    };
    emit(
        tx,
        ProbeEvent::Step {
            message: format!(
                "Health check: {verdict} ({} ms) {}",
                result.health_check_latency_ms, health.detail
            ),
        },
    )
    .await;
    emit(
        tx,
        ProbeEvent::Step {
            message: format!("Sending test message: {message:?}"),
        },
    )
    .await;
    let send_started = Instant::now();
    let outbound = OutboundMessage {
        text: message,
        session_id: Uuid::now_v7(),
        message_index: 0,
        inject: None,
        context: None,
    };
    match connector.send(&outbound).await {
        Ok(reply) => {
            result.latency_ms = ms(send_started);
            emit(
                tx,
                ProbeEvent::RawResponse {
                    data: reply.raw.clone(),
                    extracted_content: reply.text.clone(),
                },
            )
            .await;
            result.success = true;
            result.test_response = Some(reply.text);
            result.raw_response = Some(reply.raw);
        }
        Err(e) => {
            result.latency_ms = ms(send_started);
            result.error = Some(format!("{}: {}", e.kind.as_str(), e.message));
        }
    }
    connector.disconnect().await;
    emit(
        tx,
        ProbeEvent::Step {
            message: "Disconnected".into(),
        },
    )
    .await;
}
