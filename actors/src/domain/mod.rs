//! Pure domain: events, specs and decide/evolve aggregates. No I/O, no actix, no sqlx.

pub mod batch;
pub mod compare;
pub mod condition;
pub mod conversation;
pub mod events;
pub mod faults;
pub mod lifecycle;
pub mod load;
pub mod presets;
pub mod pricing;
pub mod quality;
pub mod repetition;
pub mod scenario;
pub mod scenario_input;
pub mod schedule;
pub mod session;
pub mod summary;
pub mod target;
pub mod template;
pub mod templates;
pub mod thresholds;
pub mod validation;
pub mod webhook;
