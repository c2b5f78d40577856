//! Account commands: users, API tokens and audit entries. `Accounts` needs only the event store,
//! so the CLI uses it while a server runs on the same database; authentication reads the
//! user's or token's own stream, so a new or revoked token counts at once, without waiting for
//! the read models.

use uuid::Uuid;

use crate::credentials::{self, IssuedToken};
use crate::domain::account::{
    ApiTokenCreated, ApiTokenRevoked, AuditRecorded, Role, UserCreated, audit_stream, token_stream,
    user_stream, validate_token_name, validate_user,
};
use crate::domain::events::DomainEvent;
use crate::store::EventStore;

use super::CommandError;
use super::stream::{append, load};

/// A user as the login check needs it.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    pub password_hash: String,
}

/// What a valid API token grants.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenGrant {
    pub token_id: Uuid,
    pub name: String,
    pub role: Role,
}

/// The account commands; cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    store: EventStore,
}

impl Accounts {
    pub fn new(store: EventStore) -> Self {
        Self { store }
    }

    /// Creates a user (argon2id hash computed off the async threads); refuses a taken name.
    pub async fn create_user(
        &self,
        username: &str,
        password: &str,
        role: Role,
        created_by: &str,
    ) -> Result<i64, CommandError> {
        validate_user(username, password).map_err(CommandError::Invalid)?;
        let owned = password.to_string();
        let password_hash = tokio::task::spawn_blocking(move || credentials::hash_password(&owned))
            .await
            .map_err(|e| CommandError::Refused(format!("password hashing stopped: {e}")))?
            .map_err(|e| CommandError::Refused(e.to_string()))?;
        let event = DomainEvent::UserCreated(UserCreated {
            user_id: Uuid::now_v7(),
            username: username.to_string(),
            role,
            password_hash,
            created_by: created_by.to_string(),
        });
        append(&self.store, &user_stream(username), 0, &[event])
            .await
            .map_err(|e| match e {
                CommandError::Conflict => {
                    CommandError::Refused(format!("user {username} already exists"))
                }
                other => other,
            })
    }

    /// The user named `username`, if any.
    pub async fn user(&self, username: &str) -> Result<Option<UserRecord>, CommandError> {
        let (events, _) = load(&self.store, &user_stream(username)).await?;
        Ok(events.into_iter().find_map(|e| match e {
            DomainEvent::UserCreated(u) => Some(UserRecord {
                user_id: u.user_id,
                username: u.username,
                role: u.role,
                password_hash: u.password_hash,
            }),
            _ => None,
        }))
    }

    /// Whether any user exists (a fresh node offers the setup page until one does).
    pub async fn has_users(&self) -> Result<bool, CommandError> {
        Ok(!self.store.read_types(&["UserCreated"]).await?.is_empty())
    }

    /// Issues a token; the plaintext is in the result only, the event holds its SHA-256.
    pub async fn create_token(
        &self,
        name: &str,
        role: Role,
        created_by: &str,
    ) -> Result<(IssuedToken, i64), CommandError> {
        validate_token_name(name).map_err(CommandError::Invalid)?;
        let token = credentials::issue_token();
        let event = DomainEvent::ApiTokenCreated(ApiTokenCreated {
            token_id: token.id,
            name: name.trim().to_string(),
            role,
            token_hash: token.hash.clone(),
            created_by: created_by.to_string(),
        });
        let position = append(&self.store, &token_stream(token.id), 0, &[event]).await?;
        Ok((token, position))
    }

    /// Revokes a token; revoking one already revoked is refused.
    pub async fn revoke_token(&self, id: Uuid, revoked_by: &str) -> Result<i64, CommandError> {
        let stream = token_stream(id);
        let (events, version) = load(&self.store, &stream).await?;
        if events.is_empty() {
            return Err(CommandError::NotFound("token"));
        }
        if events
            .iter()
            .any(|e| matches!(e, DomainEvent::ApiTokenRevoked(_)))
        {
            return Err(CommandError::Refused("the token is already revoked".into()));
        }
        let event = DomainEvent::ApiTokenRevoked(ApiTokenRevoked {
            token_id: id,
            revoked_by: revoked_by.to_string(),
        });
        append(&self.store, &stream, version, &[event]).await
    }

    /// What a presented bearer token grants: `None` if unknown, revoked or wrong.
    pub async fn authenticate_token(
        &self,
        presented: &str,
    ) -> Result<Option<TokenGrant>, CommandError> {
        let Some(id) = credentials::token_id(presented) else {
            return Ok(None);
        };
        let (events, _) = load(&self.store, &token_stream(id)).await?;
        let mut grant = None;
        for event in events {
            match event {
                DomainEvent::ApiTokenCreated(t)
                    if credentials::token_matches(presented, &t.token_hash) =>
                {
                    grant = Some(TokenGrant {
                        token_id: t.token_id,
                        name: t.name,
                        role: t.role,
                    });
                }
                DomainEvent::ApiTokenRevoked(_) => grant = None,
                _ => {}
            }
        }
        Ok(grant)
    }

    /// Every token ever issued with whether it is revoked (for `krawall tokens list`).
    pub async fn tokens(&self) -> Result<Vec<(ApiTokenCreated, bool)>, CommandError> {
        let recorded = self
            .store
            .read_types(&["ApiTokenCreated", "ApiTokenRevoked"])
            .await?;
        let mut tokens: Vec<(ApiTokenCreated, bool)> = Vec::new();
        for r in recorded {
            match DomainEvent::from_parts(&r.event_type, &r.payload)? {
                DomainEvent::ApiTokenCreated(t) => tokens.push((t, false)),
                DomainEvent::ApiTokenRevoked(r) => tokens
                    .iter_mut()
                    .filter(|(t, _)| t.token_id == r.token_id)
                    .for_each(|(_, revoked)| *revoked = true),
                _ => {}
            }
        }
        Ok(tokens)
    }

    /// Records one audit entry in its own stream; returns its position.
    pub async fn record_audit(&self, entry: AuditRecorded) -> Result<i64, CommandError> {
        let stream = audit_stream(entry.entry_id);
        append(
            &self.store,
            &stream,
            0,
            &[DomainEvent::AuditRecorded(entry)],
        )
        .await
    }
}
