//! `/settings/users` (admins): users (add, change role, disable / enable) and API tokens (create
//! — the secret is shown once, in the page, never stored — and revoke), through the admin API.

use actix_web::{HttpResponse, web};
use projections::queries::{TokenView, UserView};
use sailfish::TemplateSimple;

use super::render::{Layout, PageError, html};
use crate::routes::AppState;

/// The roles a user or token can have, in the forms' order.
const ROLES: [&str; 3] = ["viewer", "operator", "admin"];

#[derive(TemplateSimple)]
#[template(path = "settings/users.stpl")]
struct UsersPage {
    page: Layout,
    users: Vec<UserView>,
    tokens: Vec<TokenView>,
    roles: [&'static str; 3],
}

/// `2024-05-01 12:00 UTC` for an epoch-ms time.
fn date_of(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

pub async fn show_users(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let users = projections::queries::list_users(&state.read).await?;
    let tokens = projections::queries::list_tokens(&state.read).await?;
    html(UsersPage {
        page: Layout::new("Users and tokens", "users"),
        users,
        tokens,
        roles: ROLES,
    })
}
