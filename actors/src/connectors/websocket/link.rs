//! One live WebSocket: the handshake (plus the Socket.IO connect) and the I/O task that owns the
//! socket.
//!
//! The task reads continuously, so WebSocket pings (answered by tungstenite on the next read) and
//! Engine.IO pings (`2` → `3`) are answered even while the connector idles between messages.
//! Parsed frames go to the connector over a bounded channel (overflow drops frames rather than
//! blocking the reader). Dropping the [`Link`] aborts the task, so neither the task nor the
//! socket can outlive the connector.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::framing::{EnginePacket, SocketKind, parse_engine, parse_socket, reply_value};
use super::handshake::{connect_error, socket_io_handshake};
use super::plan::WsPlan;
use super::settings::SocketIo;
use crate::connectors::ConnectorError;
use crate::connectors::dial::dial_uri;
use crate::connectors::egress::EgressPolicy;
use crate::domain::events::ErrorKind;

pub(super) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Largest incoming message (same bound as the HTTP connector's reply body).
const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// Frames buffered between the I/O task and the connector.
const EVENT_BUFFER: usize = 1024;
const COMMAND_BUFFER: usize = 16;
/// How long a clean close may take before the socket is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// One JSON frame (for Socket.IO: the reply value of an event), stamped on arrival.
#[derive(Debug, Clone)]
pub(super) struct Frame {
    pub json: Value,
    pub raw: String,
    pub at: Instant,
}

pub(super) enum Command {
    /// Write a text frame; the sender fires once it is flushed (dropped if it never was).
    Text(String, oneshot::Sender<()>),
    /// Send a ping; the sender fires on the matching pong.
    Ping(Bytes, oneshot::Sender<()>),
    Close,
}

pub(super) enum Event {
    Frame(Frame),
    /// The connection ended (the reason never contains credentials).
    Closed(String),
}

/// A live connection: the command and event channels of its I/O task.
pub(super) struct Link {
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<Event>,
    task: JoinHandle<()>,
    closed: Option<String>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Link {
    /// Connects (within `connectTimeoutMs`, Socket.IO connect included) and starts the task.
    /// The TCP connection is dialled under `egress` (to a checked address); the TLS and
    /// WebSocket handshakes then use the endpoint's host name.
    pub async fn open(plan: &WsPlan, egress: &EgressPolicy) -> Result<Self, ConnectorError> {
        let settings = &plan.settings;
        let timeout = settings.connect_timeout;
        let opening = async {
            let config = WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE_BYTES));
            let request = plan.request()?;
            let stream = dial_uri(egress, request.uri()).await.map_err(|e| {
                ConnectorError::new(
                    ErrorKind::Connect,
                    plan.scrub(format!("connection failed: {e}")),
                )
            })?;
            let (mut socket, _) = tokio_tungstenite::client_async_tls_with_config(
                request,
                stream,
                Some(config),
                None,
            )
            .await
            .map_err(|e| connect_error(plan, e))?;
            let sio = match &settings.socket_io {
                Some(sio) => Some(SioState::new(
                    sio.clone(),
                    socket_io_handshake(&mut socket, sio).await?,
                )),
                None => None,
            };
            Ok::<_, ConnectorError>((socket, sio))
        };
        let (socket, sio) = tokio::time::timeout(timeout, opening).await.map_err(|_| {
            ConnectorError::new(
                ErrorKind::Connect,
                format!("no connection within {} ms", timeout.as_millis()),
            )
        })??;
        let (commands, command_rx) = mpsc::channel(COMMAND_BUFFER);
        let (event_tx, events) = mpsc::channel(EVENT_BUFFER);
        let task = tokio::spawn(run(socket, command_rx, event_tx, sio));
        Ok(Self {
            commands,
            events,
            task,
            closed: None,
        })
    }

    /// Whether the connection is known to be gone.
    pub fn is_closed(&self) -> bool {
        self.closed.is_some() || self.task.is_finished()
    }

    /// Why the connection ended, when known.
    pub fn close_reason(&self) -> String {
        self.closed
            .clone()
            .unwrap_or_else(|| "the connection closed".to_string())
    }

    /// The next buffered event without waiting.
    pub fn try_next(&mut self) -> Option<Event> {
        match self.events.try_recv() {
            Ok(event) => Some(self.note(event)),
            Err(mpsc::error::TryRecvError::Empty) => None,
            Err(mpsc::error::TryRecvError::Disconnected) => {
                self.closed
                    .get_or_insert_with(|| "the connection closed".into());
                None
            }
        }
    }

    /// The next event (cancel-safe).
    pub async fn next(&mut self) -> Event {
        match self.events.recv().await {
            Some(event) => self.note(event),
            None => Event::Closed(self.close_reason()),
        }
    }

    fn note(&mut self, event: Event) -> Event {
        if let Event::Closed(reason) = &event {
            self.closed = Some(reason.clone());
        }
        event
    }

    /// Queues a text frame without waiting; the receiver fires once it is written.
    pub fn queue_text(&self, text: String) -> Option<oneshot::Receiver<()>> {
        let (tx, rx) = oneshot::channel();
        self.commands.try_send(Command::Text(text, tx)).ok()?;
        Some(rx)
    }

    /// Sends a ping; the receiver fires on its pong.
    pub fn ping(&self, payload: Bytes) -> Option<oneshot::Receiver<()>> {
        let (tx, rx) = oneshot::channel();
        self.commands.try_send(Command::Ping(payload, tx)).ok()?;
        Some(rx)
    }

    /// Closes cleanly (Close frame, bounded wait for the server's close), then ends the task.
    pub async fn close(mut self) {
        if self.commands.try_send(Command::Close).is_ok() {
            let _ = tokio::time::timeout(CLOSE_GRACE * 2, &mut self.task).await;
        }
    }
}

/// Socket.IO state of the I/O task: namespace filter and the ping dead-man timer.
struct SioState {
    config: SocketIo,
    /// pingInterval + pingTimeout: without a ping for this long the server is gone.
    patience: Duration,
    deadline: tokio::time::Instant,
}

impl SioState {
    fn new(config: SocketIo, open: super::framing::OpenInfo) -> Self {
        let patience =
            Duration::from_millis(open.ping_interval_ms.saturating_add(open.ping_timeout_ms));
        Self {
            config,
            patience,
            deadline: tokio::time::Instant::now() + patience,
        }
    }
}

struct Task {
    socket: Socket,
    events: mpsc::Sender<Event>,
    pending_ping: Option<(Bytes, oneshot::Sender<()>)>,
    sio: Option<SioState>,
}

async fn run(
    socket: Socket,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
    sio: Option<SioState>,
) {
    let mut task = Task {
        socket,
        events,
        pending_ping: None,
        sio,
    };
    let far = || tokio::time::Instant::now() + Duration::from_secs(86_400);
    let reason = loop {
        let deadline = task.sio.as_ref().map_or_else(far, |s| s.deadline);
        let step = tokio::select! {
            biased;
            incoming = task.socket.next() => task.on_incoming(incoming).await,
            command = commands.recv() => task.on_command(command).await,
            () = tokio::time::sleep_until(deadline) => {
                Err("the Socket.IO server stopped sending pings".to_string())
            }
        };
        if let Err(reason) = step {
            break reason;
        }
    };
    let _ = task.events.try_send(Event::Closed(reason));
}

impl Task {
    async fn on_incoming(
        &mut self,
        incoming: Option<Result<Message, WsError>>,
    ) -> Result<(), String> {
        let message = match incoming {
            None => return Err("the server closed the connection".into()),
            Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) => {
                return Err("the server closed the connection".into());
            }
            Some(Err(e)) => return Err(format!("the connection failed: {e}")),
            Some(Ok(message)) => message,
        };
        match message {
            Message::Text(text) => self.on_text(text.as_str()).await,
            Message::Binary(bytes) => match std::str::from_utf8(&bytes) {
                Ok(text) => self.on_text(text).await,
                Err(_) => Ok(()),
            },
            Message::Pong(payload) => {
                if self
                    .pending_ping
                    .as_ref()
                    .is_some_and(|(p, _)| *p == payload)
                    && let Some((_, done)) = self.pending_ping.take()
                {
                    let _ = done.send(());
                }
                Ok(())
            }
            Message::Close(frame) => Err(match frame {
                Some(f) => format!("the server closed the connection ({})", u16::from(f.code)),
                None => "the server closed the connection".into(),
            }),
            Message::Ping(_) | Message::Frame(_) => Ok(()),
        }
    }

    async fn on_text(&mut self, text: &str) -> Result<(), String> {
        if self.sio.is_none() {
            if let Ok(json) = serde_json::from_str::<Value>(text) {
                self.forward(json, text)?;
            }
            return Ok(());
        }
        match parse_engine(text) {
            Some(EnginePacket::Ping(payload)) => {
                if let Some(sio) = self.sio.as_mut() {
                    sio.deadline = tokio::time::Instant::now() + sio.patience;
                }
                let pong = Message::text(format!("3{payload}"));
                self.socket
                    .send(pong)
                    .await
                    .map_err(|e| format!("the connection failed: {e}"))
            }
            Some(EnginePacket::Close) => Err("the Socket.IO server closed the session".into()),
            Some(EnginePacket::Message(packet)) => self.on_socket_packet(packet, text),
            _ => Ok(()),
        }
    }

    fn on_socket_packet(&mut self, packet: &str, raw: &str) -> Result<(), String> {
        let Some(sio) = self.sio.as_ref() else {
            return Ok(());
        };
        let Some(packet) = parse_socket(packet) else {
            return Ok(());
        };
        let ours = packet.namespace == sio.config.namespace;
        match packet.kind {
            SocketKind::Disconnect if ours => Err("the Socket.IO server disconnected us".into()),
            SocketKind::ConnectError if ours => Err("the Socket.IO server refused us".into()),
            _ => {
                let reply_event = sio.config.reply_event.as_deref();
                match reply_value(&packet, &sio.config.namespace, reply_event) {
                    Some(json) => self.forward(json, raw),
                    None => Ok(()),
                }
            }
        }
    }

    fn forward(&mut self, json: Value, raw: &str) -> Result<(), String> {
        let frame = Frame {
            json,
            raw: raw.to_string(),
            at: Instant::now(),
        };
        match self.events.try_send(Event::Frame(frame)) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!("websocket: {EVENT_BUFFER} unread frames buffered, dropping one");
                Ok(())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err("the connector went away".into()),
        }
    }

    async fn on_command(&mut self, command: Option<Command>) -> Result<(), String> {
        let failed = |e: WsError| format!("the connection failed: {e}");
        match command {
            Some(Command::Text(text, written)) => {
                self.socket
                    .send(Message::text(text))
                    .await
                    .map_err(failed)?;
                let _ = written.send(());
                Ok(())
            }
            Some(Command::Ping(payload, pong)) => {
                self.pending_ping = Some((payload.clone(), pong));
                self.socket
                    .send(Message::Ping(payload))
                    .await
                    .map_err(failed)
            }
            None | Some(Command::Close) => {
                self.close().await;
                Err("closed by the client".into())
            }
        }
    }

    /// Sends a Close frame and waits (bounded) for the server's Close frame, then lets the socket
    /// drop: waiting for the server to end TCP as well costs a round of timeouts with servers
    /// that wait for the client instead (actix-ws does).
    async fn close(&mut self) {
        let closing = async {
            if self.socket.close(None).await.is_ok() {
                while let Some(Ok(message)) = self.socket.next().await {
                    if matches!(message, Message::Close(_)) {
                        break;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_GRACE, closing).await;
    }
}
