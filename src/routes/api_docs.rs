//! The contract itself: `GET /api/openapi.json` (generated OpenAPI 3.1) and `GET /api/docs`
//! (the vendored Swagger UI, offline, started by `assets/js/api-docs.js`, no inline script).

use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::header;

/// The page: the vendored bundle and its initializer, both served from `/assets`.
const SWAGGER_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>API · Krawall</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/assets/vendor/swagger-ui/swagger-ui.css">
  <script src="/assets/vendor/swagger-ui/swagger-ui-bundle.js" defer></script>
  <script src="/assets/js/api-docs.js" defer></script>
</head>
<body>
<div id="swagger-ui"></div>
</body>
</html>
"#;

/// The OpenAPI 3.1 document of every `/api` route, generated from the code.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "node",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = serde_json::Value))
)]
pub async fn openapi_json() -> HttpResponse {
    static SPEC: OnceLock<String> = OnceLock::new();
    HttpResponse::Ok()
        .content_type("application/json")
        .body(SPEC.get_or_init(crate::openapi::spec_json).clone())
}

/// Swagger UI over `/api/openapi.json` (vendored, works offline).
#[utoipa::path(
    get,
    path = "/api/docs",
    tag = "node",
    responses((status = 200, description = "The Swagger UI page", content_type = "text/html", body = String))
)]
pub async fn swagger_ui() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(SWAGGER_PAGE)
}
