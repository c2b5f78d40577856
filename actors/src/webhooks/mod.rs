//! Webhook delivery: a worker that turns events from the log into signed deliveries, sends them
//! with retries and records every attempt as an event (durable across restarts).

mod batches;
mod registry;
mod sender;
mod worker;

pub use worker::{WORKER_NAME, WebhookWorker};
