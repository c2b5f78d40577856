//! Credential-like `protocolConfig.headers` (HTTP, SSE, WebSocket) and `protocolConfig.metadata`
//! (gRPC) entries are sealed with the auth config: the stored spec keeps the name with the
//! value masked, the plaintext travels inside the sealed auth JSON under [`SEALED_KEY`] and is
//! put back only in memory, when a connector is built.

use serde_json::{Map, Value};

use super::target::MASK;

/// Key of the sealed auth JSON holding the protocol secrets (`"headers.<name>"` → value).
pub const SEALED_KEY: &str = "protocolSecrets";
/// `protocolConfig` maps whose credential-like entries are sealed.
const SEALED_MAPS: &[&str] = &["headers", "metadata"];
/// A header or metadata name containing one of these (case-insensitive) is a credential.
const CREDENTIAL_WORDS: &[&str] = &[
    "auth",
    "key",
    "token",
    "secret",
    "cookie",
    "password",
    "passwd",
    "credential",
    "signature",
];

/// Whether a header or metadata name looks like it carries a credential.
pub fn is_credential_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    CREDENTIAL_WORDS.iter().any(|w| name.contains(w))
}

/// Masks every credential-like entry of `protocol_config` in place and returns their values
/// (`"headers.<name>"` → value); values already masked come back as [`MASK`].
pub fn split_protocol_secrets(protocol_config: &mut Option<Value>) -> Map<String, Value> {
    let mut sealed = Map::new();
    let Some(Value::Object(config)) = protocol_config else {
        return sealed;
    };
    for map in SEALED_MAPS {
        let Some(Value::Object(entries)) = config.get_mut(*map) else {
            continue;
        };
        for (name, value) in entries.iter_mut() {
            if is_credential_name(name) && !value.is_null() {
                let plain = std::mem::replace(value, Value::String(MASK.into()));
                sealed.insert(format!("{map}.{name}"), plain);
            }
        }
    }
    sealed
}

/// Puts the sealed values back into `protocol_config` (in memory, for a connector).
pub fn restore_protocol_secrets(protocol_config: &mut Option<Value>, sealed: &Map<String, Value>) {
    let Some(Value::Object(config)) = protocol_config else {
        return;
    };
    for (path, value) in sealed {
        let Some((map, name)) = path.split_once('.') else {
            continue;
        };
        if let Some(Value::Object(entries)) = config.get_mut(map)
            && entries.contains_key(name)
        {
            entries.insert(name.to_string(), value.clone());
        }
    }
}

/// Whether a split left a masked value (the client sent back `********`).
pub fn has_masked(sealed: &Map<String, Value>) -> bool {
    sealed.values().any(|v| v.as_str() == Some(MASK))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credential_headers_are_masked_and_restored() {
        let mut config = Some(json!({
            "headers": {"X-Api-Key": "sk-1", "Cookie": "s=1", "X-Trace": "t"},
            "metadata": {"authorization": "Bearer g"},
            "path": "/chat"
        }));
        let sealed = split_protocol_secrets(&mut config);
        let masked = config.clone().unwrap();
        assert_eq!(masked["headers"]["X-Api-Key"], MASK);
        assert_eq!(masked["headers"]["Cookie"], MASK);
        assert_eq!(masked["headers"]["X-Trace"], "t");
        assert_eq!(masked["metadata"]["authorization"], MASK);
        assert_eq!(sealed.len(), 3);
        assert!(!masked.to_string().contains("sk-1"));
        assert!(!has_masked(&sealed));
        restore_protocol_secrets(&mut config, &sealed);
        assert_eq!(config.unwrap()["headers"]["X-Api-Key"], "sk-1");
        for name in [
            "x-goog-api-key",
            "api-key",
            "X-Auth-Token",
            "x-client-secret",
        ] {
            assert!(is_credential_name(name), "{name}");
        }
        assert!(!is_credential_name("x-request-id"));
    }
}
