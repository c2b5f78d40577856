//! Server-rendered dashboard pages (sailfish templates in `views/`), mirroring `src/routes/`.

mod health;
mod render;

pub use render::{Layout, PageError};

use actix_web::web;

/// Registers every page route and the embedded assets.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/{path:.*}", web::get().to(crate::assets::asset))
        .route("/health", web::get().to(health::show_health));
}
