//! The scheduler: fires schedules' cron slots exactly once (the `ScheduleFired` append at the
//! expected version is the record) and queues each slot's batch.

mod scheduler;

pub use scheduler::{Scheduler, TICK};
