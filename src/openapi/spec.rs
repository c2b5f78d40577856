//! Builds the document: info, tags and shared components declared here, every operation and
//! the schemas it references from the route registry (`routes::api_routes`).

use actors::domain::validation::FieldError;
use utoipa::OpenApi;
use utoipa::openapi::{OpenApi as Document, Ref, RefOr};

use super::responses::{
    Conflict, Forbidden, Invalid, NotFound, Unauthenticated, Unavailable, UnsupportedMediaType,
};
use crate::routes::{ApiRoutes, ErrorBody, api_routes};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Krawall API",
        description = "Stress-test chatbot endpoints: targets, scenarios, sessions, batches, \
            schedules and webhooks. Every JSON answer is an envelope: `{success: true, data}` or \
            `{success: false, error, details}`, where `details` lists `{field, rule}` for each \
            broken rule of a 400. Generated from the code; `docs/API.md` is rendered from it.",
        license(name = "MIT")
    ),
    components(
        schemas(ErrorBody, FieldError),
        responses(
            Invalid,
            NotFound,
            Conflict,
            Unavailable,
            UnsupportedMediaType,
            Unauthenticated,
            Forbidden
        )
    ),
    tags(
        (name = "node", description = "Health, live event feed and this contract"),
        (name = "targets", description = "Chatbot endpoints under test; credentials are write-only"),
        (name = "catalog", description = "Provider presets, model prices, scenario templates"),
        (name = "scenarios", description = "Conversation plans, YAML import and export"),
        (name = "sessions", description = "Runs of a scenario against a target"),
        (name = "batches", description = "One scenario against many targets"),
        (name = "webhooks", description = "Outgoing notifications and their delivery log"),
        (name = "schedules", description = "Cron-scheduled batches"),
        (name = "accounts", description = "Users, API tokens and the audit log (admins)")
    )
)]
struct ApiDoc;

/// The OpenAPI 3.1 document of every `/api` route.
pub fn spec() -> Document {
    let mut doc = ApiDoc::openapi();
    let (paths, schemas) = api_routes(ApiRoutes::documenting()).into_parts();
    doc.paths = paths;
    add_shared_responses(&mut doc);
    add_auth(&mut doc);
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, schema) in schemas {
        components.schemas.entry(name).or_insert(schema);
    }
    doc
}

/// Answers the middleware gives whatever the handler: 415 for a write body that is not JSON.
fn add_shared_responses(doc: &mut Document) {
    for item in doc.paths.paths.values_mut() {
        for op in [&mut item.post, &mut item.put, &mut item.patch]
            .into_iter()
            .flatten()
        {
            op.responses
                .responses
                .entry("415".into())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name("UnsupportedMediaType")));
        }
    }
}

/// Every operation but the open ones needs credentials: a bearer token (`krawall tokens
/// create`) or the dashboard's session cookie; the role each needs comes from `auth::policy`.
fn add_auth(doc: &mut Document) {
    use actix_web::http::Method;
    use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};

    use crate::auth::{Access, required};

    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            (Method::GET, &mut item.get),
            (Method::POST, &mut item.post),
            (Method::PUT, &mut item.put),
            (Method::PATCH, &mut item.patch),
            (Method::DELETE, &mut item.delete),
        ];
        for (method, op) in ops {
            let (Some(op), Access::Role(role)) = (op.as_mut(), required(&method, path)) else {
                continue;
            };
            op.security = Some(vec![SecurityRequirement::new(
                "bearer",
                Vec::<String>::new(),
            )]);
            let note = format!("Needs the `{}` role (or higher).", role.as_str());
            op.description = Some(match op.description.take() {
                Some(d) => format!("{d}\n\n{note}"),
                None => note,
            });
            for (status, name) in [("401", "Unauthenticated"), ("403", "Forbidden")] {
                op.responses
                    .responses
                    .entry(status.into())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
            }
        }
    }
}

/// The document as pretty JSON (what `GET /api/openapi.json` and `krawall openapi` print).
pub fn spec_json() -> String {
    spec()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise the spec: {e}\"}}"))
}

/// `krawall openapi [--markdown]`: prints the document (JSON) or `docs/API.md`; exit code 0.
pub fn print(markdown: bool) -> i32 {
    if markdown {
        print!("{}", super::markdown());
    } else {
        println!("{}", spec_json());
    }
    0
}
