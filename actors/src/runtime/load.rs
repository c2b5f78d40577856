//! Load executors: repetitions × concurrency (upstream), closed-model users (constant or
//! ramping: each user runs conversations back to back) and the open model (arrivals on a
//! schedule, constant or ramping, uniform or Poisson, whether or not earlier ones finished).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::OwnedSemaphorePermit;

use crate::domain::events::{LoadReport, StopReason};
use crate::domain::load::LoadSpec;

use super::exchange::pause;
use super::runner::{RunContext, Stop};

/// Longest sleep of the schedulers between two looks at the clock.
const TICK: Duration = Duration::from_millis(50);

/// Upstream's model: `min(concurrency, repetitions)` users share the repetitions.
pub async fn run_repetitions(ctx: &RunContext<'_>) -> Option<Stop> {
    let scenario = ctx.scenario;
    let lanes = scenario.concurrency.clamp(1, scenario.repetitions.max(1));
    let results =
        futures_util::future::join_all((0..lanes).map(|lane| repetition_lane(ctx, lane, lanes)))
            .await;
    results
        .into_iter()
        .filter_map(Result::err)
        .fold(None, merge)
}

async fn repetition_lane(ctx: &RunContext<'_>, lane: u32, lanes: u32) -> Result<(), Stop> {
    let _permit = node_permit(ctx).await?;
    let mut conversation = ctx.lane(ctx.connector().await?);
    let mut result = Ok(());
    for repetition in (lane..ctx.scenario.repetitions).step_by(lanes as usize) {
        ctx.shared.conversations.try_start(None);
        result = conversation.run_conversation(repetition, None).await;
        ctx.shared.conversations.finish(result.is_ok());
        if result.is_err() {
            ctx.shared.cancel.cancel();
            break;
        }
    }
    conversation.disconnect().await;
    result
}

/// Keeps the most telling stop: anything beats `Cancelled` (which the others cause).
fn merge(first: Option<Stop>, next: Stop) -> Option<Stop> {
    match first {
        None | Some(Stop::Cancelled) => Some(next),
        kept => kept,
    }
}

/// Waits for a node-wide conversation slot (closed model).
async fn node_permit(ctx: &RunContext<'_>) -> Result<OwnedSemaphorePermit, Stop> {
    let slots = ctx.shared.node.conversations.clone();
    tokio::select! {
        _ = ctx.shared.cancel.cancelled() => Err(Stop::Cancelled),
        permit = slots.acquire_owned() => permit.map_err(|_| Stop::Aborted("the node is shutting down".into())),
    }
}

/// Runs a load shape and records what it achieved in the session summary.
pub async fn run(ctx: &RunContext<'_>, load: &LoadSpec) -> Option<Stop> {
    let started = Instant::now();
    let max_hit = AtomicBool::new(false);
    let stop = if load.executor.is_open() {
        run_arrivals(ctx, load, &max_hit).await
    } else {
        run_users(ctx, load, &max_hit).await
    };
    let c = &ctx.shared.conversations;
    let stop_reason = match &stop {
        Some(Stop::Cancelled) => StopReason::Cancelled,
        Some(Stop::ErrorRate(_)) => StopReason::AbortOnErrorRate,
        Some(Stop::Budget(_)) => StopReason::BudgetExceeded,
        Some(_) => StopReason::Aborted,
        None if max_hit.load(Ordering::Relaxed) => StopReason::MaxConversations,
        None => StopReason::Duration,
    };
    let report = LoadReport {
        executor: load.executor,
        intended_conversations: load
            .executor
            .is_open()
            .then(|| load.intended_arrivals().round() as u64),
        started_conversations: c.started.load(Ordering::Relaxed),
        completed_conversations: c.completed.load(Ordering::Relaxed),
        dropped_conversations: c.dropped.load(Ordering::Relaxed),
        peak_concurrent: c.peak.load(Ordering::Relaxed).into(),
        duration_ms: started.elapsed().as_millis() as u64,
        stop_reason,
    };
    ctx.shared.summary().set_load(report);
    stop
}

/// Closed model: the wanted number of users follows the shape; each runs conversations back to
/// back (with `thinkTimeMs` between) until the run ends, and the surplus leaves on a ramp-down.
async fn run_users(ctx: &RunContext<'_>, load: &LoadSpec, max_hit: &AtomicBool) -> Option<Stop> {
    let start = Instant::now();
    let active = AtomicU32::new(0);
    let mut users = FuturesUnordered::new();
    let mut stop = None;
    while start.elapsed() < load.total_duration() && !max_hit.load(Ordering::Relaxed) {
        let want = load.level_at(start.elapsed()).ceil() as u32;
        while active.load(Ordering::Relaxed) < want {
            active.fetch_add(1, Ordering::Relaxed);
            users.push(user(ctx, load, start, &active, max_hit));
        }
        tokio::select! {
            _ = ctx.shared.cancel.cancelled() => break,
            Some(result) = users.next() => {
                if let Err(s) = result {
                    ctx.shared.cancel.cancel();
                    stop = merge(stop, s);
                }
            }
            _ = tokio::time::sleep(TICK) => {}
        }
    }
    while let Some(result) = users.next().await {
        if let Err(s) = result {
            stop = merge(stop, s);
        }
    }
    if stop.is_none() && ctx.shared.cancel.is_cancelled() {
        stop = Some(Stop::Cancelled);
    }
    stop
}

async fn user(
    ctx: &RunContext<'_>,
    load: &LoadSpec,
    start: Instant,
    active: &AtomicU32,
    max_hit: &AtomicBool,
) -> Result<(), Stop> {
    let mut lane = match async { Ok((node_permit(ctx).await?, ctx.connector().await?)) }.await {
        Ok((permit, connector)) => (permit, ctx.lane(connector)),
        Err(stop) => {
            active.fetch_sub(1, Ordering::Relaxed);
            return Err(stop);
        }
    };
    let mut left = false;
    let result = loop {
        let t = start.elapsed();
        if t >= load.total_duration() {
            break Ok(());
        }
        if leave_if_surplus(active, load.level_at(t).ceil() as u32) {
            left = true;
            break Ok(());
        }
        let Some(number) = ctx.shared.conversations.try_start(load.max_conversations) else {
            max_hit.store(true, Ordering::Relaxed);
            break Ok(());
        };
        let r = lane.1.run_conversation(number as u32, None).await;
        ctx.shared.conversations.finish(r.is_ok());
        if r.is_err() {
            break r;
        }
        if let Err(stop) = pause(&ctx.shared.cancel, load.think_time_ms).await {
            break Err(stop);
        }
    };
    if !left {
        active.fetch_sub(1, Ordering::Relaxed);
    }
    lane.1.disconnect().await;
    result
}

/// Leaves (and counts itself out) when more users run than the shape wants.
fn leave_if_surplus(active: &AtomicU32, want: u32) -> bool {
    active
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            (n > want).then(|| n - 1)
        })
        .is_ok()
}

/// Open model: arrivals when the integral of the rate since the last one passes a threshold
/// (1 for uniform spacing, an Exp(1) draw for a Poisson process). An arrival that finds the
/// concurrency cap or the node budget exhausted is dropped and counted, never delayed.
async fn run_arrivals(ctx: &RunContext<'_>, load: &LoadSpec, max_hit: &AtomicBool) -> Option<Stop> {
    let shared = ctx.shared;
    let start = Instant::now();
    let total = load.total_duration();
    let cap = load.max_concurrent.map_or(usize::MAX, |c| c as usize);
    let mut rng = fastrand::Rng::with_seed(
        load.seed
            .unwrap_or_else(|| shared.session_id.as_u128() as u64),
    );
    let mut threshold = arrival_threshold(load, &mut rng);
    // The first arrival is at the start (k6 semantics), then one per threshold of the integral.
    let (mut accumulated, mut last, mut wake) = (threshold, start, start);
    let mut running = FuturesUnordered::new();
    let mut stop = None;
    while wake.duration_since(start) < total && !max_hit.load(Ordering::Relaxed) {
        tokio::select! {
            biased;
            _ = shared.cancel.cancelled() => break,
            Some(result) = running.next() => {
                if let Err(s) = result {
                    shared.cancel.cancel();
                    stop = merge(stop, s);
                }
                continue;
            }
            _ = tokio::time::sleep_until(wake.into()) => {}
        }
        let mid = (last.duration_since(start) + wake.duration_since(start)) / 2;
        accumulated += load.rate_per_second_at(mid) * wake.duration_since(last).as_secs_f64();
        last = wake;
        while accumulated + 1e-9 >= threshold {
            accumulated -= threshold;
            threshold = arrival_threshold(load, &mut rng);
            if let Some(conversation) = admit(ctx, load, cap, running.len(), wake, max_hit) {
                running.push(conversation);
            }
        }
        let rate = load.rate_per_second_at(wake.duration_since(start));
        let gap = if rate > 0.0 {
            (threshold - accumulated).max(0.0) / rate
        } else {
            f64::MAX
        };
        wake +=
            Duration::from_secs_f64(gap.min(TICK.as_secs_f64())).max(Duration::from_micros(100));
    }
    while let Some(result) = running.next().await {
        if let Err(s) = result {
            stop = merge(stop, s);
        }
    }
    if stop.is_none() && shared.cancel.is_cancelled() {
        stop = Some(Stop::Cancelled);
    }
    stop
}

fn arrival_threshold(load: &LoadSpec, rng: &mut fastrand::Rng) -> f64 {
    match load.distribution {
        crate::domain::load::Distribution::Uniform => 1.0,
        crate::domain::load::Distribution::Poisson => -(1.0 - rng.f64()).ln(),
    }
}

/// Starts an arrival unless a cap says no (then it is dropped and counted).
fn admit<'c>(
    ctx: &'c RunContext<'c>,
    load: &'c LoadSpec,
    cap: usize,
    running: usize,
    due: Instant,
    max_hit: &AtomicBool,
) -> Option<impl std::future::Future<Output = Result<(), Stop>> + 'c> {
    let shared = ctx.shared;
    let permit = (running < cap)
        .then(|| shared.node.conversations.clone().try_acquire_owned().ok())
        .flatten();
    let Some(permit) = permit else {
        shared.conversations.dropped.fetch_add(1, Ordering::Relaxed);
        return None;
    };
    let Some(number) = shared.conversations.try_start(load.max_conversations) else {
        max_hit.store(true, Ordering::Relaxed);
        return None;
    };
    Some(async move {
        let _permit = permit;
        let result = match ctx.connector().await {
            Ok(connector) => {
                let mut lane = ctx.lane(connector);
                let r = lane.run_conversation(number as u32, Some(due)).await;
                lane.disconnect().await;
                r
            }
            Err(stop) => Err(stop),
        };
        shared.conversations.finish(result.is_ok());
        result
    })
}
