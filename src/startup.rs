//! Composition root: builds a node as a value (store, secrets, projections, dispatcher, commands,
//! HTTP server) so `main`, `krawall run` and the tests all start exactly the same thing.

use std::net::TcpListener;
use std::time::Duration;

use actix::{Actor, Addr};
use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use actors::commands::Commands;
use actors::runtime::{Dispatcher, DispatcherSettings, NodeRole};
use actors::schedules::Scheduler;
use actors::secrets::SecretBox;
use actors::store::EventStore;
use actors::webhooks::WebhookWorker;
use anyhow::Context;
use projections::{ProjectionActor, ProjectionHandle};

use crate::config::Settings;
use crate::pages;
use crate::routes::{self, AppState};

/// The running write and read sides, without HTTP.
#[derive(Clone)]
pub struct Core {
    pub store: EventStore,
    pub commands: Commands,
    pub projections: ProjectionHandle,
    pub dispatcher: Addr<Dispatcher>,
}

impl Core {
    /// Connects the store (migrating it), loads the key and starts the projection and dispatcher actors.
    /// Must run inside an actix `System`.
    pub async fn start(settings: &Settings) -> anyhow::Result<Core> {
        raise_file_limit(settings.max_conversations);
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("cannot create data dir {}", settings.data_dir.display()))?;
        let store = EventStore::connect(&settings.database_url())
            .await
            .context("cannot open the event store")?;
        let secrets = node_key(settings)?;
        store.install_node_key(secrets.clone());
        let appender = store.batching(512);
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(1024)
            .build()
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
            http.clone(),
        )
        .start();
        if settings.background_workers {
            WebhookWorker::start(store.clone(), secrets.clone())
                .context("cannot build the webhook HTTP client")?;
        }
        let commands = Commands::new(
            store.clone(),
            appender,
            secrets,
            dispatcher.clone(),
            http.clone(),
        );
        if settings.background_workers {
            Scheduler::start(commands.clone());
            crate::retention::start(commands.clone(), store.pool().clone(), handle.clone());
        }
        Ok(Core {
            store,
            commands,
            projections: handle,
            dispatcher,
        })
    }
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

/// A built node with its HTTP server bound (port 0 in tests).
pub struct Application {
    port: u16,
    server: Server,
    pub core: Core,
}

impl Application {
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
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
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                .app_data(web::PayloadConfig::new(2 * 1024 * 1024))
                .configure(routes::configure)
                .configure(pages::configure)
        })
        .workers(settings.http_workers.max(1))
        // Live feeds send small frames; without NODELAY, Nagle + delayed ACK held some for ~40 ms.
        .tcp_nodelay(true)
        .listen(listener)?
        .run();
        Ok(Application { port, server, core })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
