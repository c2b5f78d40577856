//! Composition root: builds a node as a value (store, secrets, projections, dispatcher, commands,
//! HTTP server) so `main`, `krawall run` and the tests all start exactly the same thing.

use std::net::TcpListener;
use std::time::Duration;

use actix::{Actor, Addr};
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use actors::commands::{Accounts, Commands};
use actors::runtime::{Dispatcher, DispatcherSettings, NodeRole, QueryNodeStatus, Shutdown};
use actors::schedules::Scheduler;
use actors::secrets::SecretBox;
use actors::store::EventStore;
use actors::webhooks::WebhookWorker;
use anyhow::Context;
use projections::{ProjectionActor, ProjectionHandle};

use crate::auth::{AuthState, LoginLimiter, SessionStore};
use crate::config::{AuthMode, Settings};
use crate::pages;
use crate::routes::{self, AppState};
use crate::security::HostPolicy;

/// The running write and read sides, without HTTP.
#[derive(Clone)]
pub struct Core {
    pub store: EventStore,
    pub commands: Commands,
    pub projections: ProjectionHandle,
    pub dispatcher: Addr<Dispatcher>,
    pub accounts: Accounts,
}

impl Core {
    /// Connects the store (migrating it), loads the key and starts the projection and dispatcher actors.
    /// Must run inside an actix `System`.
    pub async fn start(settings: &Settings) -> anyhow::Result<Core> {
        raise_file_limit(settings.max_conversations);
        let embedded = settings
            .database_url
            .is_none()
            .then(|| settings.sqlite_file());
        crate::security::secure_data_dir(&settings.data_dir, embedded.as_deref())
            .with_context(|| format!("cannot create data dir {}", settings.data_dir.display()))?;
        let store = open_store(settings).await?;
        let secrets = node_key(settings)?;
        store.install_node_key(secrets.clone());
        let appender = store.batching(512);
        let outbound = actors::connectors::Outbound::new(&settings.egress)
            .context("cannot build the HTTP client")?;
        let (projection, handle) = ProjectionActor::new(store.clone());
        // A worker leaves the read models to the serving node(s).
        if settings.role != NodeRole::Worker {
            projection.start();
        }
        let dispatcher_settings = dispatcher_settings(settings);
        let dispatcher = Dispatcher::new(
            dispatcher_settings,
            store.clone(),
            appender.clone(),
            secrets.clone(),
            outbound.clone(),
        )
        .start();
        if settings.background_workers {
            WebhookWorker::start(store.clone(), secrets.clone(), &settings.egress)
                .context("cannot build the webhook HTTP client")?;
        }
        let commands = Commands::new(
            store.clone(),
            appender,
            secrets,
            dispatcher.clone(),
            outbound,
        );
        if settings.background_workers {
            Scheduler::start(commands.clone());
            crate::retention::start(commands.clone(), store.pool().clone(), handle.clone());
        }
        Ok(Core {
            accounts: Accounts::new(store.clone()),
            store,
            commands,
            projections: handle,
            dispatcher,
        })
    }
}

impl Core {
    /// Graceful shutdown: stop dispatching, interrupt running sessions and wait (at most
    /// `grace`) until each has committed its terminal event through the batched appender.
    pub async fn shutdown(&self, grace: Duration) {
        let deadline = std::time::Instant::now() + grace;
        if self.dispatcher.send(Shutdown).await.is_err() {
            return;
        }
        loop {
            match self.dispatcher.send(QueryNodeStatus).await {
                Ok(status) if !status.running.is_empty() => {}
                _ => return,
            }
            if std::time::Instant::now() >= deadline {
                tracing::warn!("shutdown grace period over with sessions still running");
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Opens the event store of `settings`: the SQL database, with the event log in it or, with
/// `--event-store`, on KurrentDB (builds with the `kurrentdb` feature).
pub async fn open_store(settings: &Settings) -> anyhow::Result<EventStore> {
    let store = match &settings.event_store {
        None => EventStore::connect(&settings.database_url()).await,
        Some(url) => connect_kurrentdb(settings, url).await?,
    };
    store.context("cannot open the event store")
}

#[cfg(feature = "kurrentdb")]
async fn connect_kurrentdb(
    settings: &Settings,
    url: &str,
) -> anyhow::Result<Result<EventStore, actors::store::StoreError>> {
    const SCHEMES: [&str; 4] = [
        "kurrentdb://",
        "kurrentdb+discover://",
        "esdb://",
        "esdb+discover://",
    ];
    anyhow::ensure!(
        SCHEMES.iter().any(|s| url.starts_with(s)),
        "--event-store must be a kurrentdb:// (or esdb://) connection string"
    );
    let (sql, prefix) = (settings.database_url(), &settings.event_store_prefix);
    Ok(EventStore::connect_with_kurrentdb(&sql, url, prefix).await)
}

#[cfg(not(feature = "kurrentdb"))]
async fn connect_kurrentdb(
    _: &Settings,
    _: &str,
) -> anyhow::Result<Result<EventStore, actors::store::StoreError>> {
    anyhow::bail!(
        "--event-store needs a build with KurrentDB support: cargo build --features kurrentdb"
    )
}

/// The node key: `KRAWALL_ENCRYPTION_KEY`, else the data dir's key file (created on first start).
pub fn node_key(settings: &Settings) -> anyhow::Result<SecretBox> {
    match &settings.encryption_key {
        Some(hex) => SecretBox::from_key_hex(hex).context("KRAWALL_ENCRYPTION_KEY is invalid"),
        None => SecretBox::load_or_create(&settings.key_file()).context("cannot load the key file"),
    }
}

/// Each conversation may hold a socket: raise the soft open-files limit towards the hard one
/// and warn when the node's conversation budget cannot fit.
fn raise_file_limit(conversations: usize) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < conversations as u64 + 256 => tracing::warn!(
            limit,
            conversations,
            "the open-files limit is below the conversation budget; connections may fail"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not raise the open-files limit"),
    }
}

fn dispatcher_settings(settings: &Settings) -> DispatcherSettings {
    DispatcherSettings {
        node_id: settings.node_id.clone().unwrap_or_else(default_node_id),
        role: settings.role,
        max_concurrent: settings.max_concurrent_sessions,
        arbiters: settings.session_arbiters,
        recover: settings.recover_sessions,
        max_conversations: settings.max_conversations,
        lease_ttl: settings.lease_ttl,
    }
}

/// Unique per start, so two nodes in one process (tests) or a restarted node never share leases.
fn default_node_id() -> String {
    format!(
        "{}-{}-{:04x}",
        hostname(),
        std::process::id(),
        fastrand::u16(..)
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "node".into())
}

/// Whether every address `bind` resolves to is a loopback address.
pub fn is_loopback(bind: &str) -> bool {
    use std::net::ToSocketAddrs;
    bind.to_socket_addrs()
        .map(|addrs| {
            let addrs: Vec<_> = addrs.collect();
            !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
        })
        .unwrap_or(false)
}

/// Refuses to serve without authentication on a non-loopback address, unless insecure on purpose.
fn check_auth_mode(settings: &Settings) -> anyhow::Result<()> {
    match settings.auth {
        AuthMode::Required => Ok(()),
        AuthMode::Off if is_loopback(&settings.bind) => {
            tracing::warn!(bind = %settings.bind, "authentication is OFF (--no-auth, loopback only)");
            Ok(())
        }
        AuthMode::Off => anyhow::bail!(
            "refusing to serve {} without authentication: it is not a loopback address \
             (drop --no-auth, or pass --insecure-no-auth to expose an unauthenticated node)",
            settings.bind
        ),
        AuthMode::InsecureOff => {
            tracing::error!(bind = %settings.bind, "INSECURE: authentication is OFF (--insecure-no-auth); anyone who reaches this address can read and change everything and spend your API keys");
            Ok(())
        }
    }
}

/// A built node with its HTTP server bound (port 0 in tests).
pub struct Application {
    port: u16,
    server: Server,
    pub core: Core,
}

impl Application {
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        check_auth_mode(settings)?;
        let core = Core::start(settings).await?;
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot bind {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let state = AppState {
            commands: core.commands.clone(),
            store: core.store.clone(),
            read: core.store.pool().clone(),
            projections: core.projections.clone(),
            metrics: crate::prometheus::ExchangeMetrics::new(),
        };
        actix_web::rt::spawn(crate::prometheus::follow(
            core.store.clone(),
            state.metrics.clone(),
        ));
        let auth = web::Data::new(AuthState {
            mode: settings.auth,
            accounts: core.accounts.clone(),
            sessions: SessionStore::default(),
            limiter: LoginLimiter::default(),
        });
        let hosts = web::Data::new(HostPolicy::new(&settings.bind, &settings.public_urls));
        let server = HttpServer::new(move || {
            // The last `wrap` is the outermost: Host, content-type and security headers apply
            // before (and to the answers of) authentication.
            App::new()
                .wrap(from_fn(crate::auth::enforce))
                .wrap(from_fn(crate::security::harden))
                .app_data(auth.clone())
                .app_data(hosts.clone())
                .app_data(web::Data::new(state.clone()))
                .app_data(web::PayloadConfig::new(2 * 1024 * 1024))
                .configure(routes::configure)
                .configure(pages::configure)
        })
        .workers(settings.http_workers.max(1))
        // Live feeds send small frames; without NODELAY, Nagle + delayed ACK held some for ~40 ms.
        .tcp_nodelay(true)
        // A graceful stop waits at most this long for open requests (live feeds never end).
        .shutdown_timeout(3)
        // actix-server would stop the whole System (and the session arbiters with it) on
        // SIGTERM; `krawall serve` handles signals itself (`serve_until_signal`).
        .disable_signals()
        .listen(listener)?
        .run();
        Ok(Application { port, server, core })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully: the HTTP server stops
    /// accepting and answers open requests (at most 3 s), then [`Core::shutdown`] interrupts the
    /// running sessions and waits (at most `grace`) for their terminal events.
    pub async fn serve_until_signal(self, grace: Duration) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let core = self.core.clone();
        let server = actix_web::rt::spawn(self.server);
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot listen for SIGTERM")?;
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received; shutting down"),
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received; shutting down"),
        }
        handle.stop(true).await;
        tracing::info!("stopping: interrupting running sessions");
        core.shutdown(grace).await;
        server.await.context("HTTP server task")??;
        tracing::info!("stopped");
        Ok(())
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
