//! Krawall binary: parses the CLI and runs the chosen subcommand inside an actix System.

use std::net::TcpListener;

use actors::runtime::NodeRole;
use anyhow::Context;
use clap::Parser;
use krawall::cli::{
    AuthArgs, Cli, Command, EgressArgs, HardeningArgs, NodeArgs, ProjectionsAction, StoreArgs,
};
use krawall::config::{AuthMode, Settings};
use krawall::mock::{MockSettings, start_grpc_mock, start_mock};
use krawall::startup::Application;

/// mimalloc instead of glibc's allocator: the hot path allocates many short-lived buffers
/// (event payloads, rows, replies) across threads, where glibc spent about a sixth of the
/// process's CPU in `malloc`/`free` (perf, `krawall bench --external`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn settings_from(store: &StoreArgs) -> Settings {
    Settings::from_store_args(store)
}

fn auth_mode(auth: AuthArgs) -> AuthMode {
    if auth.insecure_no_auth {
        AuthMode::InsecureOff
    } else if auth.no_auth {
        AuthMode::Off
    } else {
        AuthMode::Required
    }
}

fn apply_node(settings: &mut Settings, node: NodeArgs, role: NodeRole) {
    settings.role = role;
    settings.node_id = node.node_id;
    settings.lease_ttl = std::time::Duration::from_millis(node.lease_ttl_ms);
}

/// Settings of a node with the given role and identity.
fn node_settings(store: &StoreArgs, node: NodeArgs, role: NodeRole) -> Settings {
    let mut settings = settings_from(store);
    apply_node(&mut settings, node, role);
    settings
}

/// A node without HTTP: claims and runs sessions until Ctrl-C or SIGTERM, then interrupts the
/// sessions still running (`Core::shutdown`); a killed worker's are taken over by another node.
async fn worker(
    store: &StoreArgs,
    (max_sessions, max_conversations): (usize, usize),
    (node, egress): (NodeArgs, EgressArgs),
) -> anyhow::Result<()> {
    let mut settings = settings_from(store);
    apply_node(&mut settings, node, NodeRole::Worker);
    settings.egress = egress.policy();
    settings.max_concurrent_sessions = max_sessions;
    settings.max_conversations = max_conversations;
    settings.background_workers = false;
    let core = krawall::startup::Core::start(&settings).await?;
    let status = core
        .dispatcher
        .send(actors::runtime::QueryNodeStatus)
        .await?;
    tracing::info!(node = %status.node_id, "Krawall worker running; Ctrl-C stops it");
    shutdown_signal().await;
    core.shutdown(std::time::Duration::from_secs(10)).await;
    Ok(())
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

async fn serve(
    mut settings: Settings,
    bind: String,
    demo: Option<(String, String)>,
    (max_sessions, max_conversations): (usize, usize),
    (auth, hardening): (AuthArgs, HardeningArgs),
) -> anyhow::Result<()> {
    settings.egress = hardening.egress.policy();
    settings.public_urls = hardening.public_url;
    settings.bind = bind;
    settings.auth = auth_mode(auth);
    settings.max_concurrent_sessions = max_sessions;
    settings.max_conversations = max_conversations;
    let app = Application::build(&settings).await?;
    let demo_login = demo.is_some();
    let _mocks = match demo {
        Some((http, grpc)) => Some(krawall::demo::start(&app.core, &http, &grpc).await?),
        None => None,
    };
    if settings.auth == AuthMode::Required {
        krawall::demo::announce_login(&app.core, demo_login).await?;
    }
    tracing::info!(
        "Krawall listening on http://{}",
        settings.bind.replace(":0", &format!(":{}", app.port()))
    );
    app.serve_until_signal(std::time::Duration::from_secs(10))
        .await
}

/// `krawall projections rebuild`: replays the log into fresh read models (sealed texts are
/// opened with the node key, so it needs the same data dir or `KRAWALL_ENCRYPTION_KEY`).
async fn rebuild(store: &StoreArgs) -> anyhow::Result<()> {
    let settings = settings_from(store);
    let store = krawall::startup::open_store(&settings).await?;
    store.install_node_key(krawall::startup::node_key(&settings)?);
    let position = projections::rebuild(&store, &projections::all_projections()).await?;
    println!("read models rebuilt up to position {position}");
    Ok(())
}

async fn mock(bind: String, grpc_bind: String, settings: MockSettings) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&settings.error_rate) {
        anyhow::bail!("--error-rate must be between 0 and 1");
    }
    let listener = TcpListener::bind(&bind).with_context(|| format!("cannot bind {bind}"))?;
    let grpc_listener =
        TcpListener::bind(&grpc_bind).with_context(|| format!("cannot bind {grpc_bind}"))?;
    let server = start_mock(listener, settings.clone()).await?;
    let grpc = start_grpc_mock(grpc_listener, settings).await?;
    tracing::info!(url = %server.url(), grpc = %grpc.endpoint(), "mock chatbot running; Ctrl-C stops it");
    tokio::signal::ctrl_c().await?;
    server.stop().await;
    grpc.stop().await;
    Ok(())
}

/// 0 when `url` answers 200 within 5 s, else 1 (the reason on stderr).
async fn healthcheck(url: &str) -> i32 {
    let client = reqwest::Client::new();
    match client
        .get(url)
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => 0,
        Ok(r) => {
            eprintln!("{url} answered {}", r.status());
            1
        }
        Err(e) => {
            eprintln!("{url}: {e}");
            1
        }
    }
}

/// The subcommands that are not nodes: mock, run, accounts, projections, bench, healthcheck.
async fn dispatch_tools(command: Command) -> anyhow::Result<i32> {
    match command {
        Command::Mock {
            bind,
            grpc_bind,
            latency_ms,
            jitter_ms,
            error_rate,
            persona,
            rate_limit_every,
            cpu_us_per_reply,
        } => {
            let settings = MockSettings {
                latency_ms,
                jitter_ms,
                error_rate,
                default_persona: persona,
                rate_limit_every,
                cpu_us_per_reply,
            };
            mock(bind, grpc_bind, settings).await.map(|_| 0)
        }
        Command::Run(args) => krawall::run_cmd::run(args).await,
        Command::Projections {
            action: ProjectionsAction::Rebuild { store },
        } => rebuild(&store).await.map(|_| 0),
        Command::Users { action } => krawall::accounts_cmd::users(action).await,
        Command::Tokens { action } => krawall::accounts_cmd::tokens(action).await,
        Command::Export(args) => krawall::export_cmd::run(args).await,
        Command::Bench(args) => krawall::bench::run(args).await.map(|_| 0),
        Command::Healthcheck { url } => Ok(healthcheck(&url).await),
        Command::Openapi { markdown } => Ok(krawall::openapi::print(markdown)),
        Command::Serve { .. } | Command::Worker { .. } => {
            anyhow::bail!("serve and worker are dispatched by `dispatch`")
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve {
            bind,
            store,
            demo,
            mock_bind,
            grpc_mock_bind,
            max_concurrent_sessions,
            max_conversations,
            no_dispatch,
            node,
            auth,
            hardening,
        } => {
            let role = [NodeRole::Serve, NodeRole::ServeNoDispatch][usize::from(no_dispatch)];
            serve(
                node_settings(&store, node, role),
                bind,
                demo.then_some((mock_bind, grpc_mock_bind)),
                (max_concurrent_sessions, max_conversations),
                (auth, hardening),
            )
            .await
            .map(|_| 0)
        }
        Command::Worker {
            store,
            max_concurrent_sessions,
            max_conversations,
            node,
            egress,
        } => worker(
            &store,
            (max_concurrent_sessions, max_conversations),
            (node, egress),
        )
        .await
        .map(|_| 0),
        other => dispatch_tools(other).await,
    }
}

fn main() {
    krawall::install_crypto_provider();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    // The system is not dropped: exiting skips tearing down actors whose database handles need
    // the (then stopped) runtime, which would panic on the way out.
    let system = actix_web::rt::System::new();
    let code = system.block_on(async move {
        match dispatch(cli).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                1
            }
        }
    });
    std::process::exit(code);
}
