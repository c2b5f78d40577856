//! Opening a connection: classifying upgrade failures and the Socket.IO connect handshake
//! (wait for `0{…}`, send `40`/`40/ns,`, wait for the namespace's `40`).

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::framing::{
    EnginePacket, OpenInfo, SocketKind, connect_packet, parse_engine, parse_open, parse_socket,
};
use super::link::Socket;
use super::plan::WsPlan;
use super::settings::SocketIo;
use crate::connectors::ConnectorError;
use crate::domain::events::ErrorKind;

/// An upgrade failure: HTTP 401/403 → `HttpStatus`, 429 → `RateLimited`, any other status,
/// refused, DNS, TLS or handshake failure → `Connect`. Credentials are scrubbed.
pub(super) fn connect_error(plan: &WsPlan, err: WsError) -> ConnectorError {
    if let WsError::Http(response) = &err {
        let status = response.status().as_u16();
        let kind = match status {
            401 | 403 => ErrorKind::HttpStatus,
            429 => ErrorKind::RateLimited,
            _ => ErrorKind::Connect,
        };
        return ConnectorError {
            status: Some(status),
            ..ConnectorError::new(
                kind,
                format!("the WebSocket upgrade was answered with HTTP {status}"),
            )
        };
    }
    let detail = match &err {
        WsError::Io(io) => format!("connection failed: {io}"),
        other => format!("WebSocket handshake failed: {other}"),
    };
    ConnectorError::new(ErrorKind::Connect, plan.scrub(detail))
}

fn handshake_failure(message: impl Into<String>) -> ConnectorError {
    ConnectorError::new(ErrorKind::Connect, message)
}

/// The next text frame, answering Engine.IO pings on the way.
async fn next_text(socket: &mut Socket) -> Result<String, ConnectorError> {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                let text = text.as_str().to_string();
                if let Some(EnginePacket::Ping(payload)) = parse_engine(&text) {
                    send(socket, format!("3{payload}")).await?;
                    continue;
                }
                return Ok(text);
            }
            Some(Ok(Message::Close(_))) | None => {
                return Err(handshake_failure(
                    "the server closed the connection during the Socket.IO handshake",
                ));
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                return Err(handshake_failure(format!(
                    "the Socket.IO handshake failed: {e}"
                )));
            }
        }
    }
}

async fn send(socket: &mut Socket, text: String) -> Result<(), ConnectorError> {
    socket
        .send(Message::text(text))
        .await
        .map_err(|e| handshake_failure(format!("the Socket.IO handshake failed: {e}")))
}

/// Engine.IO open, then Socket.IO connect to the namespace; returns the ping settings.
pub(super) async fn socket_io_handshake(
    socket: &mut Socket,
    sio: &SocketIo,
) -> Result<OpenInfo, ConnectorError> {
    let open = loop {
        let text = next_text(socket).await?;
        match parse_engine(&text) {
            Some(EnginePacket::Open(data)) => break parse_open(data),
            Some(EnginePacket::Close) => {
                return Err(handshake_failure("the Engine.IO server closed the session"));
            }
            _ => {}
        }
    };
    send(socket, connect_packet(&sio.namespace)).await?;
    loop {
        let text = next_text(socket).await?;
        let packet = match parse_engine(&text) {
            Some(EnginePacket::Message(packet)) => parse_socket(packet),
            Some(EnginePacket::Close) => {
                return Err(handshake_failure("the Engine.IO server closed the session"));
            }
            _ => None,
        };
        match packet {
            Some(p) if p.namespace == sio.namespace && p.kind == SocketKind::Connect => {
                return Ok(open);
            }
            Some(p) if p.namespace == sio.namespace && p.kind == SocketKind::ConnectError => {
                let detail: String = p.data.chars().take(200).collect();
                return Err(handshake_failure(format!(
                    "the Socket.IO server refused the connection: {detail}"
                )));
            }
            _ => {}
        }
    }
}
