//! Server-rendered dashboard pages (sailfish templates in `views/`), mirroring `src/routes/`.

mod automation;
mod batches;
mod compare;
mod configure;
mod health;
mod home;
mod metrics;
mod pricing;
mod render;
mod scenario_editor;
mod scenarios;
mod session_detail;
mod sessions;
mod target_form;
mod targets;

pub use configure::configure;
pub use render::{Layout, PageError};
