//! Reusable error responses (`components.responses`): each is the failure envelope
//! [`ErrorBody`](crate::routes::ErrorBody) under one status code. Documentation only: handlers
//! answer them through `ApiError`.

use utoipa::ToResponse;

use crate::routes::ErrorBody;

/// 400: the body, a query parameter or a path segment broke a rule; `details` lists every
/// `{field, rule}`.
#[derive(ToResponse)]
#[allow(dead_code)] // a documentation type: `ApiError::Invalid` builds this answer
pub struct Invalid(ErrorBody);

/// 404: the resource (or a resource the request names) does not exist.
#[derive(ToResponse)]
#[allow(dead_code)] // a documentation type: `ApiError::NotFound` builds this answer
pub struct NotFound(ErrorBody);

/// 409: the request conflicts with the resource's state (referenced elsewhere, already
/// finished, changed concurrently).
#[derive(ToResponse)]
#[allow(dead_code)] // a documentation type: `ApiError::Conflict` builds this answer
pub struct Conflict(ErrorBody);

/// 503: the write is stored but the read models did not catch up in time; retry the read.
#[derive(ToResponse)]
#[allow(dead_code)] // a documentation type: `ApiError::Lagging` builds this answer
pub struct Unavailable(ErrorBody);

/// 415: a write body that is not `application/json` (the scenario import also takes YAML and
/// multipart uploads); `details` names `Content-Type`.
#[derive(ToResponse)]
#[allow(dead_code)] // a documentation type: the hardening middleware builds this answer
pub struct UnsupportedMediaType(ErrorBody);

/// 401: no credentials, or an unknown, revoked or expired token or session.
#[derive(ToResponse)]
#[allow(dead_code)] // a documentation type: the authentication middleware builds this answer
pub struct Unauthenticated(ErrorBody);

/// 403: the caller's role may not do this (viewer writing, operator administering), or a
/// cross-site write.
#[derive(ToResponse)]
#[allow(dead_code)] // a documentation type: the authentication middleware builds this answer
pub struct Forbidden(ErrorBody);
