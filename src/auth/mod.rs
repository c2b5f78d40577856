//! Authentication and authorisation: who is calling (API token or dashboard session), what
//! their role allows (`policy`), CSRF and Origin checks on cookie writes, login rate limits and
//! the audit trail of every write.

mod audit;
mod identify;
mod middleware;
mod policy;
mod sessions;

pub use audit::{AuditRequest, record};
pub use identify::{Principal, client_ip, same_origin};
pub use middleware::{AuthState, enforce};
pub use policy::{Access, OPEN_PATHS, required};
pub use sessions::{CSRF_COOKIE, LoginLimiter, SESSION_COOKIE, SESSION_TTL_SECS, SessionStore};
