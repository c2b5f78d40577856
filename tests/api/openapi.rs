//! The generated contract: `GET /api/openapi.json` documents every registered `/api` route,
//! `/api/docs` serves the vendored Swagger UI without inline script, `docs/API.md` is current,
//! and malformed query parameters answer the JSON error envelope.

use krawall::routes::{ApiRoutes, api_routes};
use serde_json::Value;

use crate::helpers::{Backend, spawn_app};

const REFRESH: &str = "cargo run -- openapi --markdown > docs/API.md";

#[actix_web::test]
async fn every_registered_route_is_in_the_served_spec() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (status, spec) = app.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert!(
        spec["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        spec["openapi"]
    );
    let routes = api_routes(ApiRoutes::documenting());
    assert!(
        routes.routes().len() >= 45,
        "{} routes",
        routes.routes().len()
    );
    for route in routes.routes() {
        let op = &spec["paths"][&route.path][&route.method];
        assert!(
            op.is_object(),
            "{} {} is not in the spec",
            route.method,
            route.path
        );
        assert!(
            op["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{} has no tag",
            route.path
        );
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{} has no 2xx",
            route.path
        );
        for (status, response) in responses {
            if let Some(r) = response["$ref"].as_str() {
                let name = r.rsplit('/').next().unwrap();
                assert!(
                    spec["components"]["responses"][name].is_object(),
                    "{status}: {r}"
                );
            }
        }
    }
}

#[test]
fn no_api_route_bypasses_the_registry() {
    // A route added with `.route("/api/…")` or `web::resource("/api/…")` would be served but not
    // documented: every `/api` route goes through `ApiRoutes::route` in src/routes/configure.rs.
    for entry in walk("src") {
        let text = std::fs::read_to_string(&entry).unwrap();
        for (i, line) in text.lines().enumerate() {
            let bypass = [
                "web::scope(\"/api",
                "web::resource(\"/api",
                ".route(\"/api",
                ".route(\"/",
            ]
            .iter()
            .any(|p| line.contains(p));
            let in_configure = entry.ends_with("routes/configure.rs");
            assert!(
                !(bypass && (in_configure || line.contains("\"/api"))),
                "{}:{}: register /api routes with ApiRoutes::route and #[utoipa::path]: {line}",
                entry.display(),
                i + 1
            );
        }
    }
}

fn walk(dir: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(path.to_str().unwrap()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

#[test]
fn docs_api_md_is_generated_from_the_current_spec() {
    let expected = krawall::openapi::markdown();
    let actual = std::fs::read_to_string("docs/API.md").unwrap_or_default();
    assert!(
        actual == expected,
        "docs/API.md is out of date with the code's OpenAPI spec; refresh it with `{REFRESH}`"
    );
}

#[actix_web::test]
async fn swagger_ui_is_served_offline_without_inline_script() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let page = app
        .client
        .get(format!("{}/api/docs", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no CDN: {html}"
    );
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert_eq!(scripts.len(), 2, "{html}");
    for script in scripts {
        let tag = &script[..script.find('>').unwrap()];
        assert!(tag.contains("src=\"/assets/"), "inline script: {script}");
        assert!(script[script.find('>').unwrap() + 1..].starts_with("</script>"));
    }
    for asset in [
        "/assets/vendor/swagger-ui/swagger-ui-bundle.js",
        "/assets/vendor/swagger-ui/swagger-ui.css",
        "/assets/js/api-docs.js",
    ] {
        assert!(html.contains(asset), "{asset} not referenced");
        let r = app
            .client
            .get(format!("{}{asset}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{asset}");
        assert!(r.bytes().await.unwrap().len() > 100, "{asset}");
    }
}

#[actix_web::test]
async fn malformed_query_parameters_answer_the_error_envelope() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    for path in [
        "/api/sessions?limit=abc",
        "/api/execute/batch?offset=x",
        "/api/stream?lastEventId=-",
        "/api/targets?connectorType=HTTP_REST&x=1",
    ] {
        let (status, body) = app.get(path).await;
        if path.contains("connectorType") {
            assert_eq!(status, 200, "{path}: {body}");
            continue;
        }
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["success"], Value::Bool(false), "{path}: {body}");
        let field = body["details"][0]["field"].as_str().unwrap();
        assert!(path.contains(&format!("{field}=")), "{path}: {body}");
    }
}
