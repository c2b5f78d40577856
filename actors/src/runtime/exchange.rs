//! One exchange: send a rendered message with timeout, cancellation and the error policy
//! (skip, abort, retry with backoff honouring `Retry-After`), recording every attempt as events.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::connectors::{Connector, ConnectorError, OutboundMessage, Reply};
use crate::domain::events::{
    DomainEvent, ErrorInjected, ErrorKind, ExchangeRef, MessageFailed, MessageSent,
    ResponseReceived,
};
use crate::domain::scenario::{ErrorAction, ErrorHandling};
use crate::domain::session::SessionCommand;

use super::runner::{Shared, Stop};

/// What came of an exchange after the policy ran.
pub enum ExchangeResult {
    Replied(Reply),
    Skipped,
}

/// Parameters of one exchange.
pub struct Exchange<'a> {
    pub exchange: ExchangeRef,
    pub text: String,
    pub inject: Option<String>,
    pub timeout: Duration,
    pub policy: &'a ErrorHandling,
}

/// Sleeps unless cancelled first.
pub async fn pause(cancel: &CancellationToken, ms: u64) -> Result<(), Stop> {
    if ms == 0 {
        return Ok(());
    }
    tokio::select! {
        _ = cancel.cancelled() => Err(Stop::Cancelled),
        _ = tokio::time::sleep(Duration::from_millis(ms)) => Ok(()),
    }
}

async fn send_once(
    shared: &Shared,
    connector: &mut dyn Connector,
    msg: &OutboundMessage,
    timeout: Duration,
) -> Result<(Result<Reply, ConnectorError>, u64), Stop> {
    let started = Instant::now();
    let result = tokio::select! {
        _ = shared.cancel.cancelled() => return Err(Stop::Cancelled),
        r = tokio::time::timeout(timeout, connector.send(msg)) => match r {
            Ok(r) => r,
            Err(_) => Err(ConnectorError::new(ErrorKind::Timeout, format!("no reply within {} ms", timeout.as_millis()))),
        },
    };
    Ok((result, started.elapsed().as_millis() as u64))
}

/// Runs the exchange to completion under the error policy.
pub async fn run_exchange(
    shared: &Shared,
    connector: &mut dyn Connector,
    ex: Exchange<'_>,
) -> Result<ExchangeResult, Stop> {
    let mut reference = ex.exchange.clone();
    loop {
        if let Some(fault) = &ex.inject {
            let injected = ErrorInjected {
                exchange: reference.clone(),
                fault: fault.clone(),
            };
            shared.record(DomainEvent::ErrorInjected(injected)).await?;
        }
        let sent = MessageSent {
            exchange: reference.clone(),
            content: ex.text.clone(),
        };
        shared.record(DomainEvent::MessageSent(sent)).await?;
        let msg = OutboundMessage {
            text: ex.text.clone(),
            session_id: reference.session_id,
            message_index: reference.message_index,
            inject: ex.inject.clone(),
        };
        let (result, latency_ms) = send_once(shared, connector, &msg, ex.timeout).await?;
        let err = match result {
            Ok(reply) => {
                record_reply(shared, &reference, &reply, latency_ms).await?;
                return Ok(ExchangeResult::Replied(reply));
            }
            Err(err) => err,
        };
        let mut action = ex.policy.action_for(err.status);
        if action == ErrorAction::Retry && reference.attempt >= ex.policy.retry_config.max_retries {
            action = ErrorAction::Skip;
        }
        record_failure(shared, &reference, &err, latency_ms, action).await?;
        match action {
            ErrorAction::Skip => return Ok(ExchangeResult::Skipped),
            ErrorAction::Abort => {
                return Err(Stop::Aborted(format!(
                    "{}: {}",
                    err.kind.as_str(),
                    err.message
                )));
            }
            ErrorAction::Retry => {
                reference.attempt += 1;
                pause(
                    &shared.cancel,
                    ex.policy
                        .retry_delay_ms(reference.attempt, err.retry_after_ms),
                )
                .await?;
            }
        }
    }
}

async fn record_reply(
    shared: &Shared,
    exchange: &ExchangeRef,
    reply: &Reply,
    latency_ms: u64,
) -> Result<(), Stop> {
    shared
        .summary
        .lock()
        .await
        .record_reply(latency_ms, reply.tokens);
    let received = ResponseReceived {
        exchange: exchange.clone(),
        content: reply.text.clone(),
        latency_ms,
        status: reply.status,
        tokens: reply.tokens,
        raw_size: reply.raw.len() as u64,
        stream: reply.stream,
    };
    shared.record(DomainEvent::ResponseReceived(received)).await
}

async fn record_failure(
    shared: &Shared,
    exchange: &ExchangeRef,
    err: &ConnectorError,
    latency_ms: u64,
    action: ErrorAction,
) -> Result<(), Stop> {
    shared.summary.lock().await.record_error(err.kind);
    let failed = MessageFailed {
        exchange: exchange.clone(),
        kind: err.kind,
        error: err.message.clone(),
        status: err.status,
        latency_ms,
        action: format!("{action:?}").to_lowercase(),
        partial_content: err.partial.clone(),
    };
    shared.record(DomainEvent::MessageFailed(failed)).await
}

impl Shared {
    /// Records an exchange event in the session stream.
    pub async fn record(&self, event: DomainEvent) -> Result<(), Stop> {
        let mut log = self.log.lock().await;
        log.execute(SessionCommand::Record(Box::new(event)))
            .await
            .map_err(|e| Stop::Store(e.to_string()))?;
        Ok(())
    }
}
