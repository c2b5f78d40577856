//! The OpenAPI 3.1 contract of `/api`, generated from the code: the route registry's
//! `#[utoipa::path]` docs plus shared components, as JSON (`GET /api/openapi.json`,
//! `krawall openapi`) and as Markdown (`docs/API.md`, `krawall openapi --markdown`).

mod markdown;
mod responses;
mod spec;

pub use markdown::markdown;
pub use responses::{
    Conflict, Forbidden, Invalid, NotFound, Unauthenticated, Unavailable, UnsupportedMediaType,
};
pub use spec::{print, spec, spec_json};
