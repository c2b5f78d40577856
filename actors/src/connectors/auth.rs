//! Auth placement: turns an `AuthType` plus its plaintext config into headers and query params.
//!
//! Built once per connector. Values are marked sensitive and never appear in `Debug` output or
//! error messages; errors name the offending field only (`authConfig.token: required`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use serde_json::Value;

use crate::domain::target::AuthType;

const DEFAULT_API_KEY_HEADER: &str = "x-api-key";
const DEFAULT_API_KEY_PARAM: &str = "api_key";

/// A problem with the auth config; names the field, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("{0}: required")]
    Missing(String),
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: &'static str },
}

/// Where credentials go on each request: headers and query parameters.
#[derive(Clone, Default)]
pub struct AuthPlacement {
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub query: Vec<(String, String)>,
}

impl std::fmt::Debug for AuthPlacement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        let query: Vec<&str> = self.query.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("AuthPlacement")
            .field("headers", &headers)
            .field("query", &query)
            .finish_non_exhaustive()
    }
}

impl AuthPlacement {
    /// Builds the placement for `auth_type` from its plaintext config.
    pub fn build(auth_type: AuthType, config: &Value) -> Result<Self, AuthError> {
        let mut placement = Self::default();
        match auth_type {
            AuthType::None => {}
            AuthType::BearerToken => {
                let token = required_str(config, "token")?;
                placement.header(
                    AUTHORIZATION,
                    &format!("Bearer {token}"),
                    "authConfig.token",
                )?;
            }
            AuthType::ApiKey => placement.api_key(config)?,
            AuthType::BasicAuth => {
                let username = required_str(config, "username")?;
                let password = required_str(config, "password")?;
                let encoded = STANDARD.encode(format!("{username}:{password}"));
                placement.header(
                    AUTHORIZATION,
                    &format!("Basic {encoded}"),
                    "authConfig.password",
                )?;
            }
            AuthType::CustomHeader => placement.custom_headers(config)?,
        }
        Ok(placement)
    }

    fn api_key(&mut self, config: &Value) -> Result<(), AuthError> {
        let key = required_str(config, "apiKey")?;
        match optional_str(config, "location")?.unwrap_or("header") {
            "header" => {
                let name = optional_str(config, "headerName")?.unwrap_or(DEFAULT_API_KEY_HEADER);
                let name = header_name(name, "authConfig.headerName")?;
                self.header(name, key, "authConfig.apiKey")
            }
            "query" => {
                let param = optional_str(config, "paramName")?.unwrap_or(DEFAULT_API_KEY_PARAM);
                self.query.push((param.to_string(), key.to_string()));
                Ok(())
            }
            _ => Err(invalid(
                "authConfig.location",
                "must be \"header\" or \"query\"",
            )),
        }
    }

    fn custom_headers(&mut self, config: &Value) -> Result<(), AuthError> {
        let headers = match config.get("headers") {
            Some(Value::Object(map)) if !map.is_empty() => map,
            Some(Value::Object(_)) | None | Some(Value::Null) => {
                return Err(AuthError::Missing("authConfig.headers".into()));
            }
            Some(_) => {
                return Err(invalid(
                    "authConfig.headers",
                    "must be an object of string values",
                ));
            }
        };
        for (name, value) in headers {
            let field = format!("authConfig.headers.{name}");
            let value = value.as_str().ok_or_else(|| AuthError::Invalid {
                field: field.clone(),
                reason: "must be a string",
            })?;
            let name = header_name(name, &field)?;
            self.header(name, value, &field)?;
        }
        Ok(())
    }

    fn header(&mut self, name: HeaderName, value: &str, field: &str) -> Result<(), AuthError> {
        let mut value = HeaderValue::from_str(value).map_err(|_| AuthError::Invalid {
            field: field.to_string(),
            reason: "contains characters not allowed in a header",
        })?;
        value.set_sensitive(true);
        self.headers.push((name, value));
        Ok(())
    }
}

fn invalid(field: &str, reason: &'static str) -> AuthError {
    AuthError::Invalid {
        field: field.to_string(),
        reason,
    }
}

fn header_name(name: &str, field: &str) -> Result<HeaderName, AuthError> {
    HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| AuthError::Invalid {
        field: field.to_string(),
        reason: "is not a valid header name",
    })
}

fn required_str<'a>(config: &'a Value, key: &str) -> Result<&'a str, AuthError> {
    optional_str(config, key)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AuthError::Missing(format!("authConfig.{key}")))
}

fn optional_str<'a>(config: &'a Value, key: &str) -> Result<Option<&'a str>, AuthError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(AuthError::Invalid {
            field: format!("authConfig.{key}"),
            reason: "must be a string",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(p: &AuthPlacement) -> Vec<(String, String)> {
        p.headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect()
    }

    #[test]
    fn bearer_token() {
        let p = AuthPlacement::build(AuthType::BearerToken, &json!({"token": "sk-1"})).unwrap();
        assert_eq!(
            headers(&p),
            vec![("authorization".into(), "Bearer sk-1".into())]
        );
        assert!(p.headers[0].1.is_sensitive());
        let err = AuthPlacement::build(AuthType::BearerToken, &json!({})).unwrap_err();
        assert_eq!(err.to_string(), "authConfig.token: required");
        let err = AuthPlacement::build(AuthType::BearerToken, &json!({"token": ""})).unwrap_err();
        assert_eq!(err.to_string(), "authConfig.token: required");
    }

    #[test]
    fn api_key_header_and_query() {
        let p = AuthPlacement::build(AuthType::ApiKey, &json!({"apiKey": "k"})).unwrap();
        assert_eq!(headers(&p), vec![("x-api-key".into(), "k".into())]);
        let cfg = json!({"apiKey": "k", "headerName": "api-key"});
        let p = AuthPlacement::build(AuthType::ApiKey, &cfg).unwrap();
        assert_eq!(headers(&p), vec![("api-key".into(), "k".into())]);
        let cfg = json!({"apiKey": "k", "location": "query"});
        let p = AuthPlacement::build(AuthType::ApiKey, &cfg).unwrap();
        assert!(p.headers.is_empty());
        assert_eq!(p.query, vec![("api_key".into(), "k".into())]);
        let cfg = json!({"apiKey": "k", "location": "query", "paramName": "key"});
        let p = AuthPlacement::build(AuthType::ApiKey, &cfg).unwrap();
        assert_eq!(p.query, vec![("key".into(), "k".into())]);
    }

    #[test]
    fn api_key_errors_name_the_field() {
        let err = AuthPlacement::build(AuthType::ApiKey, &json!({"headerName": "x"})).unwrap_err();
        assert_eq!(err.to_string(), "authConfig.apiKey: required");
        let cfg = json!({"apiKey": "k", "location": "cookie"});
        let err = AuthPlacement::build(AuthType::ApiKey, &cfg).unwrap_err();
        assert!(err.to_string().starts_with("authConfig.location:"));
        let cfg = json!({"apiKey": "k", "headerName": "bad header"});
        let err = AuthPlacement::build(AuthType::ApiKey, &cfg).unwrap_err();
        assert!(err.to_string().starts_with("authConfig.headerName:"));
        let cfg = json!({"apiKey": "line\nbreak"});
        let err = AuthPlacement::build(AuthType::ApiKey, &cfg).unwrap_err();
        assert_eq!(
            err.to_string(),
            "authConfig.apiKey: contains characters not allowed in a header"
        );
    }

    #[test]
    fn basic_auth() {
        let cfg = json!({"username": "alice", "password": "s3cret"});
        let p = AuthPlacement::build(AuthType::BasicAuth, &cfg).unwrap();
        assert_eq!(
            headers(&p),
            vec![("authorization".into(), "Basic YWxpY2U6czNjcmV0".into())]
        );
        let err = AuthPlacement::build(AuthType::BasicAuth, &json!({"username": "a"})).unwrap_err();
        assert_eq!(err.to_string(), "authConfig.password: required");
    }

    #[test]
    fn custom_headers() {
        let cfg = json!({"headers": {"x-api-key": "k", "anthropic-version": "2023-06-01"}});
        let p = AuthPlacement::build(AuthType::CustomHeader, &cfg).unwrap();
        let mut got = headers(&p);
        got.sort();
        assert_eq!(
            got,
            vec![
                ("anthropic-version".into(), "2023-06-01".into()),
                ("x-api-key".into(), "k".into())
            ]
        );
        let err = AuthPlacement::build(AuthType::CustomHeader, &json!({})).unwrap_err();
        assert_eq!(err.to_string(), "authConfig.headers: required");
        let cfg = json!({"headers": {"x": 1}});
        let err = AuthPlacement::build(AuthType::CustomHeader, &cfg).unwrap_err();
        assert_eq!(err.to_string(), "authConfig.headers.x: must be a string");
    }

    #[test]
    fn none_and_debug_redaction() {
        let p = AuthPlacement::build(AuthType::None, &Value::Null).unwrap();
        assert!(p.headers.is_empty() && p.query.is_empty());
        let p =
            AuthPlacement::build(AuthType::BearerToken, &json!({"token": "TOPSECRET"})).unwrap();
        let debug = format!("{p:?}");
        assert!(
            debug.contains("authorization") && !debug.contains("TOPSECRET"),
            "{debug}"
        );
        let cfg = json!({"apiKey": "TOPSECRET", "location": "query"});
        let p = AuthPlacement::build(AuthType::ApiKey, &cfg).unwrap();
        assert!(!format!("{p:?}").contains("TOPSECRET"));
    }
}
