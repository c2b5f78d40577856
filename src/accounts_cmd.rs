//! `krawall users add` and `krawall tokens create|list|revoke`: account commands straight on the
//! event store (no node is started, so they work while a server runs on the same database).

use std::io::BufRead;

use actors::commands::{Accounts, CommandError};
use actors::domain::account::{ActorKind, AuditOutcome, AuditRecorded, Role};
use anyhow::Context;
use uuid::Uuid;

use crate::cli::{StoreArgs, TokensAction, UsersAction};

async fn accounts(store: &StoreArgs) -> anyhow::Result<Accounts> {
    let settings = crate::config::Settings::from_store_args(store);
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("cannot create data dir {}", settings.data_dir.display()))?;
    let store = crate::startup::open_store(&settings).await?;
    Ok(Accounts::new(store))
}

fn role(raw: &str) -> anyhow::Result<Role> {
    Role::parse(raw).map_err(|e| anyhow::anyhow!("--{}: {}", e.field, e.rule))
}

fn explain(e: CommandError) -> anyhow::Error {
    match e {
        CommandError::Invalid(errors) => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::Error::new(other),
    }
}

async fn audit(accounts: &Accounts, action: &str, object: String) {
    let entry = AuditRecorded {
        entry_id: Uuid::now_v7(),
        actor: "cli".into(),
        actor_kind: ActorKind::Cli,
        action: action.into(),
        object,
        outcome: AuditOutcome::Succeeded,
        status: None,
        source_ip: None,
    };
    if let Err(e) = accounts.record_audit(entry).await {
        tracing::error!(error = %e, "could not record the audit entry");
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = rpassword::prompt_password("Password: ").context("cannot read the password")?;
    let again = rpassword::prompt_password("Again: ").context("cannot read the password")?;
    anyhow::ensure!(first == again, "the passwords differ");
    Ok(first)
}

pub async fn users(action: UsersAction) -> anyhow::Result<i32> {
    let UsersAction::Add {
        username,
        role: raw_role,
        password_stdin,
        store,
    } = action;
    let role = role(&raw_role)?;
    let password = read_password(password_stdin)?;
    let accounts = accounts(&store).await?;
    let username = username.trim().to_lowercase();
    accounts
        .create_user(&username, &password, role, "cli")
        .await
        .map_err(explain)?;
    audit(&accounts, "users add", username.clone()).await;
    eprintln!("user {username} created with role {}", role.as_str());
    Ok(0)
}

pub async fn tokens(action: TokensAction) -> anyhow::Result<i32> {
    match action {
        TokensAction::Create {
            name,
            role: raw,
            store,
        } => {
            let role = role(&raw)?;
            let accounts = accounts(&store).await?;
            let (token, _) = accounts
                .create_token(&name, role, "cli")
                .await
                .map_err(explain)?;
            audit(&accounts, "tokens create", token.id.to_string()).await;
            eprintln!(
                "token {} ({name}, {}) created; it is shown only now:",
                token.id,
                role.as_str()
            );
            println!("{}", token.plaintext);
        }
        TokensAction::List { store } => {
            for (t, revoked) in accounts(&store).await?.tokens().await.map_err(explain)? {
                let state = if revoked { "revoked" } else { "active" };
                println!("{}\t{}\t{}\t{state}", t.token_id, t.role.as_str(), t.name);
            }
        }
        TokensAction::Revoke { id, store } => {
            let id = Uuid::parse_str(&id).context("the token id is not a UUID")?;
            let accounts = accounts(&store).await?;
            accounts.revoke_token(id, "cli").await.map_err(explain)?;
            audit(&accounts, "tokens revoke", id.to_string()).await;
            eprintln!("token {id} revoked");
        }
    }
    Ok(0)
}
