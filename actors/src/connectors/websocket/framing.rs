//! Engine.IO v4 / Socket.IO v5 framing: the few packet forms a chat client needs.
//!
//! An Engine.IO packet is `<type><data>` (0 open, 1 close, 2 ping, 3 pong, 4 message, 5 upgrade,
//! 6 noop). A Socket.IO packet travels inside a message packet as
//! `<type>[<attachments>-][<namespace>,][<ackId>][<json>]` (0 connect, 1 disconnect, 2 event,
//! 3 ack, 4 connect error, 5 binary event, 6 binary ack), so `42/chat,7["message",{…}]` is an
//! event in namespace `/chat` with ack id 7. Parsing never panics on malformed input.

use serde_json::Value;

/// Ping settings announced by the open packet (defaults of Engine.IO v4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct OpenInfo {
    pub ping_interval_ms: u64,
    pub ping_timeout_ms: u64,
}

impl Default for OpenInfo {
    fn default() -> Self {
        Self {
            ping_interval_ms: 25_000,
            ping_timeout_ms: 20_000,
        }
    }
}

/// One Engine.IO packet of a text frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EnginePacket<'a> {
    Open(&'a str),
    Close,
    Ping(&'a str),
    Pong,
    Message(&'a str),
    /// Upgrade or noop: nothing to do.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SocketKind {
    Connect,
    Disconnect,
    Event,
    Ack,
    ConnectError,
    BinaryEvent,
    BinaryAck,
}

/// One Socket.IO packet (the payload of an Engine.IO message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SocketPacket<'a> {
    pub kind: SocketKind,
    /// `/` for the main namespace.
    pub namespace: &'a str,
    pub ack_id: Option<u64>,
    /// The JSON part (may be empty).
    pub data: &'a str,
}

pub(super) fn parse_engine(text: &str) -> Option<EnginePacket<'_>> {
    let rest = text.get(1..)?;
    Some(match text.as_bytes().first()? {
        b'0' => EnginePacket::Open(rest),
        b'1' => EnginePacket::Close,
        b'2' => EnginePacket::Ping(rest),
        b'3' => EnginePacket::Pong,
        b'4' => EnginePacket::Message(rest),
        b'5' | b'6' => EnginePacket::Other,
        _ => return None,
    })
}

pub(super) fn parse_socket(text: &str) -> Option<SocketPacket<'_>> {
    let kind = match text.as_bytes().first()? {
        b'0' => SocketKind::Connect,
        b'1' => SocketKind::Disconnect,
        b'2' => SocketKind::Event,
        b'3' => SocketKind::Ack,
        b'4' => SocketKind::ConnectError,
        b'5' => SocketKind::BinaryEvent,
        b'6' => SocketKind::BinaryAck,
        _ => return None,
    };
    let mut rest = text.get(1..)?;
    if matches!(kind, SocketKind::BinaryEvent | SocketKind::BinaryAck) {
        let digits = leading_digits(rest);
        if digits > 0 && rest.get(digits..)?.starts_with('-') {
            rest = rest.get(digits + 1..)?;
        }
    }
    let mut namespace = "/";
    if rest.starts_with('/') {
        let end = rest.find(',').unwrap_or(rest.len());
        namespace = rest.get(..end)?;
        rest = rest.get(end + 1..).unwrap_or("");
    }
    let digits = leading_digits(rest);
    let ack_id = rest.get(..digits).and_then(|d| d.parse().ok());
    let data = rest.get(digits..)?;
    Some(SocketPacket {
        kind,
        namespace,
        ack_id,
        data,
    })
}

fn leading_digits(text: &str) -> usize {
    text.bytes().take_while(u8::is_ascii_digit).count()
}

/// The ping settings of an open packet's JSON (defaults for anything missing or malformed).
pub(super) fn parse_open(data: &str) -> OpenInfo {
    let json: Value = serde_json::from_str(data).unwrap_or(Value::Null);
    let default = OpenInfo::default();
    let get = |key: &str| json.get(key).and_then(Value::as_u64);
    OpenInfo {
        ping_interval_ms: get("pingInterval").unwrap_or(default.ping_interval_ms),
        ping_timeout_ms: get("pingTimeout").unwrap_or(default.ping_timeout_ms),
    }
}

/// The reply carried by an event (`42["event", value]`, the second element) or an ack
/// (`43<id>[value]`, the first element) of `namespace`; `None` for anything else.
pub(super) fn reply_value(
    packet: &SocketPacket<'_>,
    namespace: &str,
    reply_event: Option<&str>,
) -> Option<Value> {
    if packet.namespace != namespace {
        return None;
    }
    let Ok(Value::Array(args)) = serde_json::from_str::<Value>(packet.data) else {
        return None;
    };
    match packet.kind {
        SocketKind::Event | SocketKind::BinaryEvent => {
            let name = args.first()?.as_str()?;
            if reply_event.is_some_and(|wanted| wanted != name) {
                return None;
            }
            Some(args.get(1).cloned().unwrap_or(Value::Null))
        }
        SocketKind::Ack | SocketKind::BinaryAck => args.into_iter().next(),
        _ => None,
    }
}

fn namespace_prefix(namespace: &str) -> String {
    if namespace == "/" {
        String::new()
    } else {
        format!("{namespace},")
    }
}

/// `40` for the main namespace, `40/chat,` otherwise.
pub(super) fn connect_packet(namespace: &str) -> String {
    format!("40{}", namespace_prefix(namespace))
}

/// `42["<event>",<payload>]` (with the namespace prefix outside the main namespace).
pub(super) fn encode_event(namespace: &str, event: &str, payload: &Value) -> String {
    let args = Value::Array(vec![Value::String(event.to_string()), payload.clone()]);
    format!("42{}{args}", namespace_prefix(namespace))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn engine_packets() {
        assert_eq!(
            parse_engine("0{\"sid\":\"a\"}"),
            Some(EnginePacket::Open("{\"sid\":\"a\"}"))
        );
        assert_eq!(parse_engine("2"), Some(EnginePacket::Ping("")));
        assert_eq!(parse_engine("2probe"), Some(EnginePacket::Ping("probe")));
        assert_eq!(parse_engine("3"), Some(EnginePacket::Pong));
        assert_eq!(parse_engine("1"), Some(EnginePacket::Close));
        assert_eq!(parse_engine("6"), Some(EnginePacket::Other));
        assert_eq!(parse_engine("42[1]"), Some(EnginePacket::Message("2[1]")));
        assert_eq!(parse_engine(""), None);
        assert_eq!(parse_engine("x"), None);
        assert_eq!(parse_engine("ä"), None);
    }

    #[test]
    fn socket_packets_with_namespace_and_ack_id() {
        let p = parse_socket("2[\"message\",{\"a\":1}]").unwrap();
        assert_eq!(
            (p.kind, p.namespace, p.ack_id),
            (SocketKind::Event, "/", None)
        );
        assert_eq!(p.data, "[\"message\",{\"a\":1}]");
        let p = parse_socket("2/chat,17[\"m\",2]").unwrap();
        assert_eq!(
            (p.namespace, p.ack_id, p.data),
            ("/chat", Some(17), "[\"m\",2]")
        );
        let p = parse_socket("312[\"ok\"]").unwrap();
        assert_eq!(
            (p.kind, p.ack_id, p.data),
            (SocketKind::Ack, Some(12), "[\"ok\"]")
        );
        let p = parse_socket("51-/x,[\"m\",{\"_placeholder\":true,\"num\":0}]").unwrap();
        assert_eq!((p.kind, p.namespace), (SocketKind::BinaryEvent, "/x"));
        let p = parse_socket("0{\"sid\":\"s\"}").unwrap();
        assert_eq!((p.kind, p.data), (SocketKind::Connect, "{\"sid\":\"s\"}"));
        let p = parse_socket("1/chat").unwrap();
        assert_eq!(
            (p.kind, p.namespace, p.data),
            (SocketKind::Disconnect, "/chat", "")
        );
        assert_eq!(
            parse_socket("4{\"message\":\"no\"}").unwrap().kind,
            SocketKind::ConnectError
        );
        assert_eq!(parse_socket(""), None);
        assert_eq!(parse_socket("9[]"), None);
        assert!(parse_socket("2/unterminated").is_some());
        assert!(
            parse_socket("299999999999999999999999[1]")
                .unwrap()
                .ack_id
                .is_none()
        );
    }

    #[test]
    fn reply_values() {
        let p = parse_socket("2[\"message\",{\"data\":{\"content\":\"hi\"}}]").unwrap();
        assert_eq!(
            reply_value(&p, "/", None),
            Some(json!({"data": {"content": "hi"}}))
        );
        assert_eq!(
            reply_value(&p, "/", Some("message")),
            Some(json!({"data": {"content": "hi"}}))
        );
        assert_eq!(reply_value(&p, "/", Some("answer")), None);
        assert_eq!(reply_value(&p, "/chat", None), None);
        let p = parse_socket("2[\"typing\"]").unwrap();
        assert_eq!(reply_value(&p, "/", None), Some(Value::Null));
        let p = parse_socket("35[{\"text\":\"ok\"}]").unwrap();
        assert_eq!(reply_value(&p, "/", None), Some(json!({"text": "ok"})));
        for bad in ["2{\"not\":\"array\"}", "2[", "2[1,2]", "2"] {
            let p = parse_socket(bad).unwrap();
            assert_eq!(reply_value(&p, "/", None), None, "{bad}");
        }
    }

    #[test]
    fn encoding_and_open() {
        assert_eq!(connect_packet("/"), "40");
        assert_eq!(connect_packet("/chat"), "40/chat,");
        assert_eq!(
            encode_event("/", "message", &json!({"m": "x"})),
            "42[\"message\",{\"m\":\"x\"}]"
        );
        assert_eq!(
            encode_event("/chat", "ask", &json!("q")),
            "42/chat,[\"ask\",\"q\"]"
        );
        let info = parse_open("{\"sid\":\"a\",\"pingInterval\":300,\"pingTimeout\":200}");
        assert_eq!(
            info,
            OpenInfo {
                ping_interval_ms: 300,
                ping_timeout_ms: 200
            }
        );
        assert_eq!(parse_open("garbage"), OpenInfo::default());
    }
}
