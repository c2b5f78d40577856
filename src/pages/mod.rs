//! Server-rendered dashboard pages (sailfish templates in `views/`), mirroring `src/routes/`.

mod audit;
mod automation;
mod batches;
mod compare;
mod configure;
mod health;
mod home;
pub mod login;
mod metrics;
mod pricing;
mod render;
mod scenario_editor;
mod scenarios;
mod session_detail;
mod sessions;
mod settings;
mod target_form;
mod targets;
mod users;

pub use configure::configure;
pub use render::{Layout, PageError};
