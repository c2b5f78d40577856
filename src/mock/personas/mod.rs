//! Mock chatbot personas: keyword-driven reply generators ported from upstream's mock server.

mod code;
mod default;
mod ecommerce;
mod kind;
mod support;
mod text;

pub use kind::{Outcome, Persona};
