//! Account commands: users, API tokens and audit entries. `Accounts` needs only the event store,
//! so the CLI uses it while a server runs on the same database; authentication reads the
//! user's or token's own stream, so a new or revoked token counts at once, without waiting for
//! the read models.

use uuid::Uuid;

use crate::credentials::{self, IssuedToken};
use crate::domain::account::{
    ApiTokenCreated, ApiTokenRevoked, AuditRecorded, Role, UserCreated, UserUpdated, audit_stream,
    token_stream, user_stream, validate_token_name, validate_user,
};
use crate::domain::event_type::names;
use crate::domain::events::{DomainEvent, EventType};
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
    /// Disabled users cannot log in; their sessions stop working.
    pub disabled: bool,
}

/// An admin's change to a user: a new role, disabling or re-enabling (absent = unchanged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserChange {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

/// Folds a user's stream: created, then every update (the latest wins).
fn fold_user(events: Vec<DomainEvent>) -> Option<UserRecord> {
    let mut user = None;
    for event in events {
        match (event, user.as_mut()) {
            (DomainEvent::UserCreated(u), _) => {
                user = Some(UserRecord {
                    user_id: u.user_id,
                    username: u.username,
                    role: u.role,
                    password_hash: u.password_hash,
                    disabled: false,
                });
            }
            (DomainEvent::UserUpdated(u), Some(current)) => {
                current.role = u.role;
                current.disabled = u.disabled;
            }
            _ => {}
        }
    }
    user
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

    /// The user named `username`, if any, as of its latest update.
    pub async fn user(&self, username: &str) -> Result<Option<UserRecord>, CommandError> {
        let (events, _) = load(&self.store, &user_stream(username)).await?;
        Ok(fold_user(events))
    }

    /// Changes a user's role and/or status; refuses to leave the node without an enabled admin.
    /// Returns the user after the change and the event's position.
    pub async fn update_user(
        &self,
        username: &str,
        change: UserChange,
        updated_by: &str,
    ) -> Result<(UserRecord, i64), CommandError> {
        let stream = user_stream(username);
        let (events, version) = load(&self.store, &stream).await?;
        let mut user = fold_user(events).ok_or(CommandError::NotFound("user"))?;
        let was_admin = user.role == Role::Admin && !user.disabled;
        user.role = change.role.unwrap_or(user.role);
        user.disabled = change.disabled.unwrap_or(user.disabled);
        if was_admin
            && (user.role != Role::Admin || user.disabled)
            && self.enabled_admins().await? < 2
        {
            return Err(CommandError::Refused(format!(
                "{username} is the last enabled admin; make another user admin first"
            )));
        }
        let event = DomainEvent::UserUpdated(UserUpdated {
            user_id: user.user_id,
            username: user.username.clone(),
            role: user.role,
            disabled: user.disabled,
            updated_by: updated_by.to_string(),
        });
        let position = append(&self.store, &stream, version, &[event]).await?;
        Ok((user, position))
    }

    /// How many users are enabled admins.
    async fn enabled_admins(&self) -> Result<usize, CommandError> {
        let recorded = self
            .store
            .read_types(&names([EventType::UserCreated, EventType::UserUpdated]))
            .await?;
        let mut users = std::collections::HashMap::new();
        for r in recorded {
            match DomainEvent::from_parts(&r.event_type, &r.payload)? {
                DomainEvent::UserCreated(u) => users.insert(u.username, u.role == Role::Admin),
                DomainEvent::UserUpdated(u) => {
                    users.insert(u.username, u.role == Role::Admin && !u.disabled)
                }
                _ => None,
            };
        }
        Ok(users.values().filter(|admin| **admin).count())
    }

    /// Whether any user exists (a fresh node offers the setup page until one does).
    pub async fn has_users(&self) -> Result<bool, CommandError> {
        let created = names([EventType::UserCreated]);
        Ok(!self.store.read_types(&created).await?.is_empty())
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
            .read_types(&names([
                EventType::ApiTokenCreated,
                EventType::ApiTokenRevoked,
            ]))
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
