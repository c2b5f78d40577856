//! Read-model queries behind the API: typed views, never raw rows, secrets only masked.

mod catalog;
mod sessions;
mod time;

pub use catalog::{
    ScenarioView, TargetView, get_scenario, get_target, list_scenarios, list_targets,
    sessions_referencing,
};
pub use sessions::{
    MessageView, SessionFilter, SessionPage, SessionView, get_session, list_messages, list_sessions,
};
