//! gRPC connector configuration: `protocolConfig` parsing, the compiled method, the endpoint
//! (plain or TLS), the metadata sent with every call, and `validate_config`.

use std::collections::BTreeMap;
use std::time::Duration;

use prost_reflect::{DynamicMessage, MessageDescriptor, MethodDescriptor};
use serde::Deserialize;
use serde_json::{Value, json};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::codegen::http::{HeaderMap, HeaderName, HeaderValue};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

use super::proto;
use crate::connectors::auth::AuthPlacement;
use crate::connectors::http_config::substitute_placeholder;
use crate::connectors::paths::{validate_read_path, validate_write_path, write_path};
use crate::connectors::{ConnectorError, TargetConnection};
use crate::domain::events::ErrorKind;
use crate::domain::target::{RequestTemplate, ResponseTemplate, TargetSpec};
use crate::domain::validation::FieldError;

/// How long establishing the channel (TCP + TLS + HTTP/2) may take.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_SERVICE: &str = "ChatService";
const DEFAULT_METHOD: &str = "SendMessage";

/// `protocolConfig` of a gRPC target (upstream's names; the proto text replaces `protoPath`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GrpcProtocolConfig {
    proto_content: Option<String>,
    package_name: Option<String>,
    service_name: Option<String>,
    method_name: Option<String>,
    #[serde(alias = "useTLS")]
    use_tls: Option<bool>,
    ca_cert: Option<String>,
    tls_domain: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, Value>,
    #[serde(default)]
    health_service: String,
    /// Upstream's server-side file path; only used to explain that it is not supported.
    proto_path: Option<String>,
}

/// Everything a gRPC connector needs, derived once from the target.
pub(super) struct GrpcPlan {
    pub endpoint: Endpoint,
    /// `http://host:port` or `https://host:port` (for `Debug`; carries no secret).
    pub uri: String,
    pub method: MethodDescriptor,
    /// `/{package}.{service}/{method}`.
    pub path: PathAndQuery,
    /// Auth first, then `protocolConfig.metadata` (last wins); values are marked sensitive.
    pub metadata: HeaderMap,
    pub health_service: String,
    pub request: RequestTemplate,
    pub response: ResponseTemplate,
}

/// Validates the target and derives the plan; errors are `Protocol` and name the field.
pub(super) fn plan(conn: &TargetConnection) -> Result<GrpcPlan, ConnectorError> {
    let spec = &conn.spec;
    let auth = AuthPlacement::build(spec.auth_type, &conn.auth_config)
        .map_err(|e| config_error(e.to_string()))?;
    let parts = build_parts(spec).map_err(|errors| {
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        config_error(messages.join("; "))
    })?;
    let mut metadata = auth_metadata(&auth).map_err(|e| config_error(e.to_string()))?;
    metadata.extend(parts.extra_metadata);
    let path = format!(
        "/{}/{}",
        parts.method.parent_service().full_name(),
        parts.method.name()
    );
    let path = PathAndQuery::try_from(path).map_err(|e| {
        config_error(format!(
            "protocolConfig.methodName: not a usable path ({e})"
        ))
    })?;
    Ok(GrpcPlan {
        endpoint: parts.endpoint,
        uri: parts.uri,
        method: parts.method,
        path,
        metadata,
        health_service: parts.health_service,
        request: spec.request_template.clone(),
        response: spec.response_template.clone(),
    })
}

/// Checks a GRPC target without connecting: compiles `protoContent`, finds the package, service
/// and method, builds a sample request from the template, and checks the endpoint, TLS settings,
/// metadata and template paths. Errors name the field (`protocolConfig.protoContent: line 3: …`).
pub fn validate_config(spec: &TargetSpec) -> Vec<FieldError> {
    build_parts(spec).err().unwrap_or_default()
}

/// The request value (built by `connectors::history::request_value`), deserialised (proto or
/// JSON field names) as the method's input type.
pub(super) fn request_message(
    body: Value,
    input: &MessageDescriptor,
) -> Result<DynamicMessage, FieldError> {
    DynamicMessage::deserialize(input.clone(), body).map_err(|e| {
        field_error(
            "requestTemplate",
            format!("does not match message {}: {e}", input.full_name()),
        )
    })
}

/// The request value of a probe message `text` without conversation context.
pub(super) fn sample_request(template: &RequestTemplate, text: &str) -> Result<Value, FieldError> {
    let mut body = template.structure.clone().unwrap_or_else(|| json!({}));
    substitute_placeholder(&mut body, text);
    write_path(
        &mut body,
        &template.message_path,
        Value::String(text.to_string()),
    )
    .map_err(|e| field_error("requestTemplate.messagePath", e.to_string()))?;
    Ok(body)
}

pub(super) fn config_error(message: impl Into<String>) -> ConnectorError {
    ConnectorError::new(ErrorKind::Protocol, message)
}

/// What `plan` and `validate_config` share.
struct Parts {
    endpoint: Endpoint,
    uri: String,
    method: MethodDescriptor,
    extra_metadata: HeaderMap,
    health_service: String,
}

fn build_parts(spec: &TargetSpec) -> Result<Parts, Vec<FieldError>> {
    let config = parse_config(spec).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let endpoint = endpoint(&spec.endpoint, &config)
        .map_err(|e| errors.push(e))
        .ok();
    let extra_metadata = extra_metadata(&config.metadata)
        .map_err(|e| errors.push(e))
        .ok();
    errors.extend(template_errors(
        &spec.request_template,
        &spec.response_template,
    ));
    let method = find_method(&config).map_err(|e| errors.push(e)).ok();
    if let Some(method) = &method
        && errors.is_empty()
        && let Err(e) = sample_request(&spec.request_template, "ping")
            .and_then(|body| request_message(body, &method.input()))
    {
        errors.push(e);
    }
    match (endpoint, extra_metadata, method) {
        (Some((endpoint, uri)), Some(extra_metadata), Some(method)) if errors.is_empty() => {
            Ok(Parts {
                endpoint,
                uri,
                method,
                extra_metadata,
                health_service: config.health_service.trim().to_string(),
            })
        }
        _ => Err(errors),
    }
}

fn parse_config(spec: &TargetSpec) -> Result<GrpcProtocolConfig, FieldError> {
    match &spec.protocol_config {
        None | Some(Value::Null) => Ok(GrpcProtocolConfig::default()),
        Some(value) => serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let field = match path.as_str() {
                "" | "." => "protocolConfig".to_string(),
                path => format!("protocolConfig.{path}"),
            };
            field_error(&field, e.into_inner().to_string())
        }),
    }
}

/// Compiles the proto text and finds the method (defaults: the proto's package, `ChatService`,
/// `SendMessage`).
fn find_method(config: &GrpcProtocolConfig) -> Result<MethodDescriptor, FieldError> {
    let source = config
        .proto_content
        .as_deref()
        .filter(|s| !s.trim().is_empty());
    let source = source.ok_or_else(|| {
        let rule = match non_empty(&config.proto_path) {
            Some(_) => "required: paste the .proto text here (protoPath, a file on the server, is not supported)",
            None => "required: the .proto text of the service",
        };
        field_error("protocolConfig.protoContent", rule)
    })?;
    let pool = proto::compile_cached(source)
        .map_err(|e| field_error("protocolConfig.protoContent", e.to_string()))?;
    let package = non_empty(&config.package_name)
        .map_or_else(|| proto::default_package(&pool), str::to_string);
    let service = non_empty(&config.service_name).unwrap_or(DEFAULT_SERVICE);
    let method = non_empty(&config.method_name).unwrap_or(DEFAULT_METHOD);
    proto::find_method(&pool, &package, service, method)
        .map_err(|e| field_error(e.field(), e.to_string()))
}

/// `host:port`, `http://host:port` or `https://host:port`. TLS is `useTls`/`useTLS` when given,
/// else the scheme (`https://` = on), else on when a `caCert` is given, else off.
fn endpoint(raw: &str, config: &GrpcProtocolConfig) -> Result<(Endpoint, String), FieldError> {
    let raw = raw.trim().trim_end_matches('/');
    let shape = "must be host:port, http://host:port or https://host:port";
    let (scheme_tls, authority) = match raw.split_once("://") {
        Some(("https", rest)) => (Some(true), rest),
        Some(("http", rest)) => (Some(false), rest),
        Some(_) => return Err(field_error("endpoint", shape)),
        None => (None, raw),
    };
    if authority.is_empty() || authority.contains('/') {
        return Err(field_error("endpoint", format!("{shape} (no path)")));
    }
    let tls = config
        .use_tls
        .or(scheme_tls)
        .unwrap_or_else(|| non_empty(&config.ca_cert).is_some());
    let uri = format!("{}://{authority}", if tls { "https" } else { "http" });
    let endpoint = Endpoint::from_shared(uri.clone())
        .map_err(|e| field_error("endpoint", format!("{shape} ({e})")))?
        .connect_timeout(CONNECT_TIMEOUT);
    if !tls {
        return Ok((endpoint, uri));
    }
    let endpoint = endpoint.tls_config(tls_config(config)?).map_err(|e| {
        field_error(
            "protocolConfig.caCert",
            format!("unusable TLS settings ({e})"),
        )
    })?;
    Ok((endpoint, uri))
}

/// A custom CA when `caCert` is given (only that CA is trusted), else the webpki roots.
fn tls_config(config: &GrpcProtocolConfig) -> Result<ClientTlsConfig, FieldError> {
    let mut tls = ClientTlsConfig::new();
    tls = match non_empty(&config.ca_cert) {
        Some(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => {
            tls.ca_certificate(Certificate::from_pem(pem))
        }
        Some(_) => {
            return Err(field_error(
                "protocolConfig.caCert",
                "must be a PEM certificate (-----BEGIN CERTIFICATE-----)",
            ));
        }
        None => tls.with_webpki_roots(),
    };
    if let Some(domain) = non_empty(&config.tls_domain) {
        tls = tls.domain_name(domain);
    }
    Ok(tls)
}

/// Auth headers as metadata; query placements (API key `location: query`) become metadata too,
/// since gRPC has no query string.
fn auth_metadata(auth: &AuthPlacement) -> Result<HeaderMap, FieldError> {
    let mut metadata = HeaderMap::new();
    for (name, value) in &auth.headers {
        metadata.insert(name.clone(), value.clone());
    }
    for (name, value) in &auth.query {
        let field = "authConfig.paramName";
        let name = HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes())
            .map_err(|_| field_error(field, "is not a valid metadata key"))?;
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            field_error(
                "authConfig.apiKey",
                "contains characters not allowed in metadata",
            )
        })?;
        value.set_sensitive(true);
        metadata.insert(name, value);
    }
    Ok(metadata)
}

fn extra_metadata(entries: &BTreeMap<String, Value>) -> Result<HeaderMap, FieldError> {
    let mut metadata = HeaderMap::new();
    for (name, value) in entries {
        let field = format!("protocolConfig.metadata.{name}");
        let value = value
            .as_str()
            .ok_or_else(|| field_error(&field, "must be a string"))?;
        let key = HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes())
            .map_err(|_| field_error(&field, "is not a valid metadata key"))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| field_error(&field, "contains characters not allowed in metadata"))?;
        metadata.insert(key, value);
    }
    Ok(metadata)
}

fn template_errors(request: &RequestTemplate, response: &ResponseTemplate) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Err(e) = validate_write_path(&request.message_path) {
        errors.push(field_error("requestTemplate.messagePath", e.to_string()));
    }
    let reads = [
        (
            "responseTemplate.responsePath",
            Some(&response.response_path),
        ),
        (
            "responseTemplate.tokenUsagePath",
            response.token_usage_path.as_ref(),
        ),
        ("responseTemplate.errorPath", response.error_path.as_ref()),
    ];
    for (field, path) in reads {
        if let Some(Err(e)) = path.map(|p| validate_read_path(p)) {
            errors.push(field_error(field, e.to_string()));
        }
    }
    errors
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn field_error(field: &str, rule: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        rule: rule.into(),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
