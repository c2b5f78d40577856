//! Command handlers of the write side: load a stream, fold it, decide, append with the expected
//! version. HTTP handlers and the CLI call these; they never append events themselves.

mod accounts;
mod batch;
mod catalog;
mod compare;
mod error;
mod execute;
mod pricing;
mod probe;
mod retention;
mod schedules;
mod service;
mod settings;
mod stream;
mod webhooks;

pub use accounts::{Accounts, TokenGrant, UserChange, UserRecord};
pub use batch::{BatchQueued, BatchRequest};
pub use compare::ComparisonInput;
pub use error::CommandError;
pub use execute::{ExecuteRequest, ExecutionOverrides};
pub use schedules::ScheduleInput;
pub use service::Commands;
pub use webhooks::WebhookInput;
