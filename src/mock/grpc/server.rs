//! Starting and stopping the mock's gRPC server (plain or TLS) with `grpc.health.v1` beside
//! `krawall.mock.v1.ChatService`.

use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use super::pb::chat_service_server::ChatServiceServer;
use super::service::{LastMetadata, MockChat};
use crate::mock::server::{MockSettings, MockState};

/// How long `stop` waits for the server to drain before aborting it.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// A server certificate and key (PEM) for the TLS variant.
#[derive(Clone)]
pub struct GrpcMockTls {
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for GrpcMockTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcMockTls").finish_non_exhaustive()
    }
}

/// Transport options of the gRPC mock.
#[derive(Debug, Clone)]
pub struct GrpcMockOptions {
    /// Serve TLS with this identity (plaintext HTTP/2 when `None`).
    pub tls: Option<GrpcMockTls>,
    /// Offer `grpc.health.v1.Health` (default true; off answers `Unimplemented`).
    pub health: bool,
}

impl Default for GrpcMockOptions {
    fn default() -> Self {
        Self {
            tls: None,
            health: true,
        }
    }
}

/// A running gRPC mock; stop it with [`GrpcMock::stop`].
#[derive(Debug)]
pub struct GrpcMock {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    last_metadata: LastMetadata,
}

impl GrpcMock {
    /// `127.0.0.1:PORT`, the form a GRPC target's `endpoint` takes.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.addr.port())
    }

    /// The ASCII metadata of the latest chat request (raw values, credentials included).
    pub fn last_metadata(&self) -> BTreeMap<String, String> {
        self.last_metadata
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops accepting, lets open calls drain for up to a second, then aborts the server.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if tokio::time::timeout(STOP_GRACE, &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

/// Starts the plaintext gRPC mock (with health) on `listener` (bind `127.0.0.1:0` in tests).
pub async fn start_grpc_mock(
    listener: TcpListener,
    settings: MockSettings,
) -> io::Result<GrpcMock> {
    start_grpc_mock_with(listener, settings, GrpcMockOptions::default()).await
}

/// Starts the gRPC mock with transport options (TLS, health service on/off).
pub async fn start_grpc_mock_with(
    listener: TcpListener,
    settings: MockSettings,
    options: GrpcMockOptions,
) -> io::Result<GrpcMock> {
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let incoming = TcpListenerStream::new(tokio::net::TcpListener::from_std(listener)?);
    let last_metadata: LastMetadata = Arc::new(Mutex::new(BTreeMap::new()));
    let chat = MockChat {
        state: Arc::new(MockState::new(settings)),
        last_metadata: last_metadata.clone(),
    };
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_serving::<ChatServiceServer<MockChat>>().await;
    let mut builder = Server::builder();
    if let Some(tls) = options.tls {
        let identity = Identity::from_pem(tls.cert_pem, tls.key_pem);
        builder = builder
            .tls_config(ServerTlsConfig::new().identity(identity))
            .map_err(io::Error::other)?;
    }
    let router = builder
        .add_optional_service(options.health.then_some(health))
        .add_service(ChatServiceServer::new(chat));
    let (shutdown, signal) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let stopped = async {
            let _ = signal.await;
        };
        if let Err(err) = router.serve_with_incoming_shutdown(incoming, stopped).await {
            tracing::warn!("gRPC mock stopped: {err}");
        }
    });
    Ok(GrpcMock {
        addr,
        shutdown: Some(shutdown),
        task,
        last_metadata,
    })
}
