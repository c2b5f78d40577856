//! The `/api` route registry shared by the server and the OpenAPI document: a route is added
//! once, with its `#[utoipa::path]` doc, and that doc's method and path are what actix serves.

use actix_web::{FromRequest, Handler, Responder, Scope, web};
use utoipa::__dev::{SchemaReferences, Tags};
use utoipa::openapi::RefOr;
use utoipa::openapi::path::{HttpMethod, Paths};
use utoipa::openapi::schema::Schema;

/// Where every documented route lives; `#[utoipa::path(path = "/api/…")]` keeps the prefix.
pub const API_PREFIX: &str = "/api";

/// One registered route: its method and its full path (`/api/targets/{id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredRoute {
    /// Lower case, as in the document's path items (`get`, `post`…).
    pub method: String,
    pub path: String,
}

/// Collects `/api` routes: serves them through an actix [`Scope`] (when serving) and records
/// their OpenAPI operations and schemas (always).
pub struct ApiRoutes {
    scope: Option<Scope>,
    routes: Vec<RegisteredRoute>,
    paths: Paths,
    schemas: Vec<(String, RefOr<Schema>)>,
}

impl ApiRoutes {
    /// A registry that also builds the actix scope.
    pub fn serving() -> Self {
        Self::new(Some(web::scope(API_PREFIX)))
    }

    /// A registry that only records the documentation (for the spec and the tests).
    pub fn documenting() -> Self {
        Self::new(None)
    }

    fn new(scope: Option<Scope>) -> Self {
        Self {
            scope,
            routes: Vec::new(),
            paths: Paths::new(),
            schemas: Vec::new(),
        }
    }

    /// Adds `handler` under the method(s) and path of its doc `D` (the `__path_<handler>`
    /// struct `#[utoipa::path]` generates).
    pub fn route<D, F, Args>(mut self, _doc: D, handler: F) -> Self
    where
        D: utoipa::Path + SchemaReferences + for<'t> Tags<'t>,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let path = D::path();
        let methods = D::methods();
        let mut operation = D::operation();
        let tags: Vec<String> = D::tags().into_iter().map(String::from).collect();
        if !tags.is_empty() {
            operation.tags = Some(tags);
        }
        D::schemas(&mut self.schemas);
        let local = path.strip_prefix(API_PREFIX).unwrap_or(&path).to_string();
        for method in &methods {
            self.routes.push(RegisteredRoute {
                method: actix_method(method).as_str().to_lowercase(),
                path: path.clone(),
            });
            self.scope = self.scope.take().map(|s| {
                s.route(
                    &local,
                    web::method(actix_method(method)).to(handler.clone()),
                )
            });
        }
        self.paths.add_path_operation(&path, methods, operation);
        self
    }

    /// The actix scope to mount (empty when only documenting).
    pub fn into_scope(self) -> Scope {
        self.scope.unwrap_or_else(|| web::scope(API_PREFIX))
    }

    /// Every route in registration order.
    pub fn routes(&self) -> &[RegisteredRoute] {
        &self.routes
    }

    /// The documented operations and the schemas they reference.
    pub fn into_parts(self) -> (Paths, Vec<(String, RefOr<Schema>)>) {
        (self.paths, self.schemas)
    }
}

fn actix_method(method: &HttpMethod) -> actix_web::http::Method {
    use actix_web::http::Method;
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}
