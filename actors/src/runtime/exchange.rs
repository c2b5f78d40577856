//! One exchange: wait for the rate limiter and any 429 back-off, send the rendered message (or
//! an injected fault in its place) with timeout and cancellation, then apply the error policy
//! (skip, abort, retry with backoff honouring a bounded `Retry-After`), recording every attempt.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::connectors::{Connector, ConnectorError, OutboundMessage, Reply};
use crate::domain::conversation::Context;
use crate::domain::events::{
    DomainEvent, ErrorInjected, ErrorKind, ExchangeRef, MessageFailed, MessageSent,
    ResponseReceived,
};
use crate::domain::faults::InjectedFault;
use crate::domain::quality;
use crate::domain::repetition::{ReplyWindow, Shingles};
use crate::domain::scenario::{ErrorAction, ErrorHandling};
use crate::domain::session::SessionCommand;
use crate::store::seal_texts;

use super::faults::simulate;
use super::runner::{Shared, Stop};

/// Uncommitted appends a session may have queued before its next record waits for the oldest.
const MAX_IN_FLIGHT: usize = 64;

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
    pub context: Option<Context>,
    pub context_messages: u32,
    pub context_tokens: u64,
    /// When the exchange was due; time until it is sent is recorded as `waitMs`.
    pub due: Instant,
    /// The conversation's earlier replies, for the repetition score.
    pub replies: &'a mut ReplyWindow,
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
    fault: Option<InjectedFault>,
) -> Result<(Result<Reply, ConnectorError>, u64), Stop> {
    let started = Instant::now();
    let send = async {
        match fault {
            Some(fault) => simulate(fault, timeout).await,
            None => connector.send(msg).await,
        }
    };
    let result = tokio::select! {
        _ = shared.cancel.cancelled() => return Err(Stop::Cancelled),
        r = tokio::time::timeout(timeout, send) => match r {
            Ok(r) => r,
            Err(_) => Err(ConnectorError::new(ErrorKind::Timeout, format!("no reply within {} ms", timeout.as_millis()))),
        },
    };
    Ok((result, started.elapsed().as_millis() as u64))
}

/// Waits for the session's 429 back-off and the target's rate limiter; returns
/// (total wait since `due`, back-off part) in milliseconds.
async fn wait_turn(shared: &Shared, due: Instant, tokens: u64) -> Result<(u64, u64), Stop> {
    let backoff_until = *shared
        .backoff_until
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut backoff = Duration::ZERO;
    if let Some(until) = backoff_until.filter(|u| *u > Instant::now()) {
        backoff = until - Instant::now();
        pause(&shared.cancel, backoff.as_millis() as u64).await?;
    }
    if let Some(limiter) = &shared.limiter {
        tokio::select! {
            _ = shared.cancel.cancelled() => return Err(Stop::Cancelled),
            _ = limiter.acquire(tokens) => {}
        }
    }
    let waited = Instant::now().saturating_duration_since(due);
    Ok((waited.as_millis() as u64, backoff.as_millis() as u64))
}

/// Runs the exchange to completion under the error policy.
pub async fn run_exchange(
    shared: &Shared,
    connector: &mut dyn Connector,
    ex: Exchange<'_>,
) -> Result<ExchangeResult, Stop> {
    let mut reference = ex.exchange.clone();
    let mut due = ex.due;
    loop {
        let (result, latency_ms, wait_ms) =
            attempt(shared, connector, &ex, &reference, due).await?;
        let err = match result {
            Ok(mut reply) => {
                if reply.tokens.estimated {
                    // Without usage from the bot, the input is everything the request carried.
                    reply.tokens.input = reply.tokens.input.max(ex.context_tokens);
                }
                let timing = (latency_ms, wait_ms);
                record_reply(
                    shared,
                    (&reference, &ex.text),
                    &reply,
                    timing,
                    &mut *ex.replies,
                )
                .await?;
                shared.check_error_rate()?;
                shared.check_budget()?;
                return Ok(ExchangeResult::Replied(reply));
            }
            Err(err) => err,
        };
        let mut action = ex.policy.action_for(err.status);
        if action == ErrorAction::Retry && reference.attempt >= ex.policy.retry_config.max_retries {
            action = ErrorAction::Skip;
        }
        record_failure(shared, &reference, &err, latency_ms, action).await?;
        if err.kind == ErrorKind::RateLimited {
            shared.back_off(ex.policy, reference.attempt + 1, err.retry_after_ms);
        }
        shared.check_error_rate()?;
        match action {
            ErrorAction::Skip => return Ok(ExchangeResult::Skipped),
            ErrorAction::Abort => {
                let error = format!("{}: {}", err.kind.as_str(), err.message);
                return Err(Stop::Aborted(error));
            }
            ErrorAction::Retry => {
                reference.attempt += 1;
                let delay = ex
                    .policy
                    .retry_delay_ms(reference.attempt, err.retry_after_ms);
                pause(&shared.cancel, delay).await?;
                due = Instant::now();
            }
        }
    }
}

/// One attempt: wait its turn, record the injected fault (if any) and `MessageSent`, then send
/// (or simulate the fault). Returns the result, its latency and the wait, in milliseconds.
async fn attempt(
    shared: &Shared,
    connector: &mut dyn Connector,
    ex: &Exchange<'_>,
    reference: &ExchangeRef,
    due: Instant,
) -> Result<(Result<Reply, ConnectorError>, u64, u64), Stop> {
    let (wait_ms, backoff_ms) = wait_turn(shared, due, ex.context_tokens).await?;
    shared.summary().record_wait(wait_ms, backoff_ms);
    let fault = injected_fault(shared, ex, reference);
    if let Some(fault) = fault {
        let injected = ErrorInjected {
            exchange: reference.clone(),
            fault,
        };
        shared.record(DomainEvent::ErrorInjected(injected)).await?;
    }
    let sent = MessageSent {
        exchange: reference.clone(),
        content: ex.text.clone(),
        context_messages: ex.context_messages,
        context_tokens: ex.context_tokens,
        wait_ms,
        sealed: None,
        backoff_ms,
    };
    shared.record(DomainEvent::MessageSent(sent)).await?;
    let msg = OutboundMessage {
        text: ex.text.clone(),
        session_id: reference.session_id,
        message_index: reference.message_index,
        inject: ex.inject.clone(),
        context: ex.context.clone(),
    };
    let simulated = fault.filter(|f| InjectedFault::from_step(f.as_str()).is_none());
    let (result, latency_ms) = send_once(shared, connector, &msg, ex.timeout, simulated).await?;
    Ok((result, latency_ms, wait_ms))
}

/// The fault of this attempt: the message step's `inject`, else the session's fault draw.
fn injected_fault(shared: &Shared, ex: &Exchange<'_>, at: &ExchangeRef) -> Option<InjectedFault> {
    ex.inject
        .as_deref()
        .and_then(InjectedFault::from_step)
        .or_else(|| shared.faults?.draw(at.message_index, at.attempt))
}

/// Repetition score of a reply against the conversation's and the session's earlier replies.
/// Replies share the session's ids; the conversation's replies still in the session window are
/// scored there, so only older ones are compared again (none when the session has one lane).
fn repetition(shared: &Shared, replies: &mut ReplyWindow, text: &str) -> f64 {
    let shingles = Arc::new(Shingles::of(text));
    let mut session = shared.replies.lock().unwrap_or_else(|e| e.into_inner());
    let in_session = session.oldest_id().unwrap_or(u64::MAX);
    let score = session
        .score(&shingles)
        .max(replies.score_before(&shingles, in_session));
    let id = session.next_id();
    session.push(id, Arc::clone(&shingles));
    replies.push(id, shingles);
    score
}

async fn record_reply(
    shared: &Shared,
    (exchange, prompt): (&ExchangeRef, &str),
    reply: &Reply,
    (latency_ms, wait_ms): (u64, u64),
    replies: &mut ReplyWindow,
) -> Result<(), Stop> {
    let repetition_score = repetition(shared, replies, &reply.text);
    let quality_score = quality::score(prompt, &reply.text, latency_ms).overall;
    let cost = shared
        .price
        .as_ref()
        .map(|p| (p.cost(reply.tokens.input, reply.tokens.output), p));
    {
        let mut summary = shared.summary();
        summary.record_reply(latency_ms, wait_ms, reply.tokens);
        if let Some(stream) = &reply.stream {
            summary.record_ttft(stream.ttft_ms);
        }
        if let Some((cost, price)) = cost {
            summary.record_cost(cost, &price.currency);
        }
        summary.record_repetition(repetition_score);
        summary.record_quality(quality_score);
    }
    let received = ResponseReceived {
        exchange: exchange.clone(),
        content: reply.text.clone(),
        latency_ms,
        status: reply.status,
        tokens: reply.tokens,
        raw_size: reply.raw.len() as u64,
        stream: reply.stream,
        cost: cost.map(|(c, _)| c),
        repetition_score: Some(repetition_score),
        sealed: None,
        quality_score: Some(quality_score),
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
    shared
        .summary()
        .record_error(err.kind, action == ErrorAction::Retry);
    let failed = MessageFailed {
        exchange: exchange.clone(),
        kind: err.kind,
        error: err.message.clone(),
        status: err.status,
        latency_ms,
        action,
        partial_content: err.partial.clone(),
        sealed: None,
    };
    shared.record(DomainEvent::MessageFailed(failed)).await
}

impl Shared {
    /// Records an exchange event in the session stream: decided and queued in order without
    /// waiting for the commit (see `SessionLog::record`); waits only when more than
    /// [`MAX_IN_FLIGHT`] of the session's appends are uncommitted.
    pub async fn record(&self, mut event: DomainEvent) -> Result<(), Stop> {
        if let Some(key) = &self.text_key {
            seal_texts(key, &mut event).map_err(|e| Stop::Store(e.to_string()))?;
        }
        let backlog = self
            .log()
            .record(SessionCommand::Record(Box::new(event)), MAX_IN_FLIGHT)
            .map_err(|e| Stop::Store(e.to_string()))?;
        if let Some(ticket) = backlog {
            ticket
                .wait()
                .await
                .map_err(|e| Stop::Store(e.to_string()))?;
        }
        Ok(())
    }

    /// Adaptive slow-down after a 429: every conversation of the session holds off until the
    /// bot's `Retry-After` (bounded by `maxRetryAfterMs`) or the policy's backoff has passed.
    fn back_off(&self, policy: &ErrorHandling, attempt: u32, retry_after_ms: Option<u64>) {
        let ms = retry_after_ms.map_or_else(
            || policy.retry_delay_ms(attempt, None),
            |ra| policy.bounded_retry_after(ra),
        );
        let until = Instant::now() + Duration::from_millis(ms);
        let mut slot = self.backoff_until.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none_or(|u| u < until) {
            *slot = Some(until);
        }
    }

    /// `budget`: fails the run when the tokens or the cost so far crossed a limit.
    fn check_budget(&self) -> Result<(), Stop> {
        let Some(budget) = &self.budget else {
            return Ok(());
        };
        let (tokens, cost) = self.summary().spent();
        let over = match (budget.max_tokens, budget.max_cost) {
            (Some(max), _) if tokens > max => format!("{tokens} tokens used, the budget is {max}"),
            (_, Some(max)) if cost > max => format!("cost {cost:.4} is above the budget of {max}"),
            _ => return Ok(()),
        };
        self.cancel.cancel();
        Err(Stop::Budget(over))
    }

    /// `load.abortOn`: fails the run when the error rate passed the limit after the warm-up.
    pub fn check_error_rate(&self) -> Result<(), Stop> {
        let Some(rule) = &self.abort_on else {
            return Ok(());
        };
        if self.started.elapsed() < rule.warmup.0 {
            return Ok(());
        }
        let (replies, errors) = self.summary().counts();
        let finished = replies + errors;
        if finished < rule.min_exchanges || finished == 0 {
            return Ok(());
        }
        let rate = errors as f64 / finished as f64;
        if rate > rule.error_rate {
            self.cancel.cancel();
            return Err(Stop::ErrorRate(format!(
                "error rate {:.1}% over {finished} exchanges is above the limit of {:.1}%",
                rate * 100.0,
                rule.error_rate * 100.0
            )));
        }
        Ok(())
    }
}
