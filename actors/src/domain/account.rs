//! Accounts: roles, users, API tokens and audit entries (pure types and validation; hashing and
//! randomness live in `crate::credentials`). Secrets are stored only as hashes.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::validation::{FieldError, Validator};

/// What a user or token may do. Ordered: each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything (pages, API reads, live feeds, `/metrics`).
    Viewer,
    /// Also executes and cancels sessions and edits targets, scenarios, schedules, batches, webhooks.
    Operator,
    /// Also manages users, tokens, settings and prices, and reads the audit log.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }

    /// Parses `viewer`, `operator` or `admin`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "viewer" => Ok(Self::Viewer),
            "operator" => Ok(Self::Operator),
            "admin" => Ok(Self::Admin),
            _ => Err(FieldError {
                field: "role".into(),
                rule: "must be one of viewer, operator, admin".into(),
            }),
        }
    }
}

/// A user account was created (stream `user-<username>`). `passwordHash` is an argon2id PHC
/// string; the password itself is never recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserCreated {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    pub password_hash: String,
    /// Who created it: a username, a token name, `cli` or `setup`.
    pub created_by: String,
}

/// A user's role or status was changed by an admin (stream `user-<username>`): the account's
/// whole state after the change, so the latest event is the current one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserUpdated {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    /// A disabled user cannot log in, and its dashboard sessions stop working at once.
    pub disabled: bool,
    /// Who changed it: a username, a token name or `cli`.
    pub updated_by: String,
}

/// An API token was issued (stream `api-token-<tokenId>`). Only its SHA-256 is recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiTokenCreated {
    pub token_id: Uuid,
    pub name: String,
    pub role: Role,
    /// Hex SHA-256 of the whole token string.
    pub token_hash: String,
    pub created_by: String,
}

/// An API token was revoked; it authenticates nothing from now on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiTokenRevoked {
    pub token_id: Uuid,
    pub revoked_by: String,
}

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    /// A dashboard user (cookie session) or a login attempt naming a user.
    User,
    /// An API token (`Authorization: Bearer`).
    Token,
    /// The command line on the node's machine (`krawall users add`, `krawall tokens …`).
    Cli,
    /// Nobody authenticated (`--insecure-no-auth`, failed logins of unknown users).
    Anonymous,
}

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditOutcome {
    /// Done (a 2xx/3xx answer, a successful login).
    Succeeded,
    /// Refused by validation or state (4xx other than 401/403, 5xx, a wrong password).
    Failed,
    /// Refused by authorisation (403: role too low, CSRF or Origin check).
    Denied,
}

/// One audited action (stream `audit-<entryId>`): every write through the API or dashboard,
/// every login, logout, setup and account command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecorded {
    pub entry_id: Uuid,
    /// Username, token name, `cli` or `anonymous`.
    pub actor: String,
    pub actor_kind: ActorKind,
    /// `login`, `logout`, `setup`, `users add`, `tokens create`, `tokens revoke`, or the
    /// route of a request as `METHOD /pattern` (e.g. `PUT /api/targets/{id}`).
    pub action: String,
    /// What it acted on: the request path, a username or a token id.
    pub object: String,
    pub outcome: AuditOutcome,
    /// The HTTP status answered, for requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The client's address, for requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
}

/// Stream id of a user (usernames are unique and lowercase).
pub fn user_stream(username: &str) -> String {
    format!("user-{username}")
}

/// Stream id of an API token.
pub fn token_stream(id: Uuid) -> String {
    format!("api-token-{id}")
}

/// Stream id of an audit entry.
pub fn audit_stream(id: Uuid) -> String {
    format!("audit-{id}")
}

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Checks a new user's name (1–64 of `a-z 0-9 . _ -`) and password (12–1024 characters).
pub fn validate_user(username: &str, password: &str) -> Result<(), Vec<FieldError>> {
    let mut v = Validator::default();
    let name_ok = !username.is_empty()
        && username.len() <= 64
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !name_ok {
        v.push(
            "username",
            "must be 1-64 characters of a-z, 0-9, '.', '_', '-'",
        );
    }
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=1024).contains(&n) {
        v.push("password", "must be 12-1024 characters long");
    }
    v.finish()
}

/// Checks a token's name (1–100 characters, not blank).
pub fn validate_token_name(name: &str) -> Result<(), Vec<FieldError>> {
    let mut v = Validator::default();
    v.non_empty("name", name);
    v.length("name", name, 1, 100);
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_parse_their_wire_names() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
        for role in [Role::Viewer, Role::Operator, Role::Admin] {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert_eq!(Role::parse("root").unwrap_err().field, "role");
    }

    #[test]
    fn usernames_and_passwords_are_validated() {
        assert!(validate_user("alice", "correct horse battery").is_ok());
        let errors = validate_user("Alice Smith", "short").unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["username", "password"]);
        assert!(validate_token_name("  ").is_err());
    }
}
