//! An endpoint's origin (scheme, host, port) and the rule that stored secrets never follow a
//! target to another origin: changing it requires re-entering them.

use serde_json::Value;

use super::target::MASK;
use super::validation::FieldError;

/// `scheme://host:port` of an endpoint (default ports made explicit); the trimmed, lowercased
/// endpoint itself when it is not a URL (e.g. a gRPC `host:port`).
pub fn endpoint_origin(endpoint: &str) -> String {
    let endpoint = endpoint.trim();
    match url::Url::parse(endpoint) {
        Ok(url) if url.host_str().is_some() => format!(
            "{}://{}:{}",
            url.scheme(),
            url.host_str().unwrap_or_default().to_ascii_lowercase(),
            url.port_or_known_default().unwrap_or(0)
        ),
        _ => endpoint.to_ascii_lowercase(),
    }
}

/// Whether `candidate` (an absolute URL) is on the same origin as `endpoint`.
pub fn same_origin(endpoint: &str, candidate: &str) -> bool {
    endpoint_origin(endpoint) == endpoint_origin(candidate)
}

/// Whether an update keeps a stored secret: no new auth config at all, or a masked leaf in it.
pub fn keeps_stored_secret(update: Option<&Value>) -> bool {
    fn masked(value: &Value) -> bool {
        match value {
            Value::String(s) => s == MASK,
            Value::Object(map) => map.values().any(masked),
            Value::Array(items) => items.iter().any(masked),
            _ => false,
        }
    }
    update.is_none_or(masked)
}

/// The error of an update that moves a target with stored secrets to another origin without
/// re-entering them (otherwise the old host's key would be sent to the new one).
pub fn check_secrets_follow_origin(
    old_endpoint: &str,
    new_endpoint: &str,
    has_stored_secret: bool,
    update: Option<&Value>,
) -> Result<(), FieldError> {
    if has_stored_secret
        && endpoint_origin(old_endpoint) != endpoint_origin(new_endpoint)
        && keeps_stored_secret(update)
    {
        return Err(FieldError {
            field: "authConfig".into(),
            rule: format!(
                "re-enter secrets when changing origin (scheme, host or port) from {} to {}",
                endpoint_origin(old_endpoint),
                endpoint_origin(new_endpoint)
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn origins_make_default_ports_explicit() {
        assert_eq!(
            endpoint_origin("https://API.example.com/v1/chat"),
            "https://api.example.com:443"
        );
        assert!(same_origin("http://h:80/a", "http://h/b"));
        assert!(!same_origin("http://h:1/a", "http://h:2/a"));
        assert!(!same_origin("http://h/a", "https://h/a"));
        assert!(!same_origin("http://h/a", "http://evil/a"));
        assert_eq!(endpoint_origin(" 127.0.0.1:50051 "), "127.0.0.1:50051");
    }

    #[test]
    fn moving_origin_with_masked_secrets_is_refused() {
        let masked = json!({"token": MASK});
        let fresh = json!({"token": "sk-new"});
        let (a, b) = ("https://a.example/v1", "https://b.example/v1");
        assert!(check_secrets_follow_origin(a, b, true, Some(&masked)).is_err());
        assert!(check_secrets_follow_origin(a, b, true, None).is_err());
        assert!(check_secrets_follow_origin(a, b, true, Some(&fresh)).is_ok());
        assert!(check_secrets_follow_origin(a, "https://a.example/v2", true, None).is_ok());
        assert!(check_secrets_follow_origin(a, b, false, None).is_ok());
    }
}
