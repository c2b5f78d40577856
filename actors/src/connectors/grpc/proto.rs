//! gRPC target protos: compiles `protocolConfig.protoContent` in memory with protox (plus the
//! Google well-known types) and looks up the package, service and method to call.

use std::sync::{Mutex, PoisonError};

use prost_reflect::{DescriptorPool, MethodDescriptor, ServiceDescriptor};
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};

/// The name the user's proto text is compiled under (what error positions refer to).
pub const PROTO_FILE_NAME: &str = "target.proto";

/// The `.proto` text could not be compiled; `line` is 1-based when protox reports a position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CompileError {
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The configured package, service or method is not in the compiled proto. Each variant
/// belongs to one `protocolConfig` field, see [`LookupError::field`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("no service in package \"{package}\"; packages with services: {available}")]
    Package { package: String, available: String },
    #[error("no service \"{service}\" in package \"{package}\"; available: {available}")]
    Service {
        package: String,
        service: String,
        available: String,
    },
    #[error("no method \"{method}\" in service \"{service}\"; available: {available}")]
    Method {
        service: String,
        method: String,
        available: String,
    },
    #[error("method \"{method}\" is {kind}; only unary and server-streaming methods are supported")]
    Streaming { method: String, kind: &'static str },
}

impl LookupError {
    /// The `protocolConfig` field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Package { .. } => "protocolConfig.packageName",
            Self::Service { .. } => "protocolConfig.serviceName",
            Self::Method { .. } | Self::Streaming { .. } => "protocolConfig.methodName",
        }
    }
}

/// Serves the user's proto text as [`PROTO_FILE_NAME`].
struct SourceResolver {
    source: String,
}

impl FileResolver for SourceResolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        if name == PROTO_FILE_NAME {
            File::from_source(name, &self.source)
        } else {
            Err(protox::Error::file_not_found(name))
        }
    }
}

/// [`compile`], remembering the last few results: every conversation builds its own connector,
/// and recompiling the same proto per session would put the compiler on the hot path.
pub fn compile_cached(source: &str) -> Result<DescriptorPool, CompileError> {
    const CAPACITY: usize = 32;
    static CACHE: Mutex<Vec<(String, DescriptorPool)>> = Mutex::new(Vec::new());
    let cached = CACHE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .find(|(text, _)| text == source)
        .map(|(_, pool)| pool.clone());
    if let Some(pool) = cached {
        return Ok(pool);
    }
    let pool = compile(source)?;
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if cache.len() >= CAPACITY {
        cache.remove(0);
    }
    cache.push((source.to_string(), pool.clone()));
    Ok(pool)
}

/// Compiles `source` (imports may name Google's well-known types only) into a descriptor pool.
pub fn compile(source: &str) -> Result<DescriptorPool, CompileError> {
    let mut resolver = ChainFileResolver::new();
    resolver.add(SourceResolver {
        source: source.to_string(),
    });
    resolver.add(GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true).include_source_info(true);
    compiler.open_file(PROTO_FILE_NAME).map_err(compile_error)?;
    Ok(compiler.descriptor_pool())
}

/// protox's `Debug` form carries the position (`target.proto:3:5: message`); `Display` does not.
fn compile_error(err: protox::Error) -> CompileError {
    let debug = format!("{err:?}");
    let positioned = debug
        .strip_prefix(PROTO_FILE_NAME)
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|rest| {
            let mut parts = rest.splitn(3, ':');
            let line = parts.next()?.trim().parse::<usize>().ok()?;
            let _column = parts.next()?.trim().parse::<usize>().ok()?;
            Some((line, parts.next()?.trim().to_string()))
        });
    match positioned {
        Some((line, message)) => CompileError {
            line: Some(line),
            message,
        },
        None => CompileError {
            line: None,
            message: err.to_string(),
        },
    }
}

/// The package of the compiled user file (`""` when it declares none).
pub fn default_package(pool: &DescriptorPool) -> String {
    pool.get_file_by_name(PROTO_FILE_NAME)
        .map(|f| f.package_name().to_string())
        .unwrap_or_default()
}

/// Finds `package.service/method` (`service` may also be fully qualified) and checks that it is
/// unary or server-streaming.
pub fn find_method(
    pool: &DescriptorPool,
    package: &str,
    service: &str,
    method: &str,
) -> Result<MethodDescriptor, LookupError> {
    let service = find_service(pool, package, service)?;
    let Some(found) = service.methods().find(|m| m.name() == method) else {
        return Err(LookupError::Method {
            service: service.full_name().to_string(),
            method: method.to_string(),
            available: list(service.methods().map(|m| m.name().to_string())),
        });
    };
    let kind = match (found.is_client_streaming(), found.is_server_streaming()) {
        (true, true) => Some("bidirectional streaming"),
        (true, false) => Some("client-streaming"),
        _ => None,
    };
    match kind {
        Some(kind) => Err(LookupError::Streaming {
            method: method.to_string(),
            kind,
        }),
        None => Ok(found),
    }
}

fn find_service(
    pool: &DescriptorPool,
    package: &str,
    service: &str,
) -> Result<ServiceDescriptor, LookupError> {
    let full_name = if package.is_empty() {
        service.to_string()
    } else {
        format!("{package}.{service}")
    };
    if let Some(found) = pool
        .get_service_by_name(&full_name)
        .or_else(|| pool.get_service_by_name(service))
    {
        return Ok(found);
    }
    let in_package: Vec<String> = pool
        .services()
        .filter(|s| s.package_name() == package)
        .map(|s| s.name().to_string())
        .collect();
    if in_package.is_empty() {
        let mut packages: Vec<String> = pool.services().map(|s| quote(s.package_name())).collect();
        packages.dedup();
        return Err(LookupError::Package {
            package: package.to_string(),
            available: list(packages.into_iter()),
        });
    }
    Err(LookupError::Service {
        package: package.to_string(),
        service: service.to_string(),
        available: list(in_package.into_iter()),
    })
}

fn quote(name: &str) -> String {
    format!("\"{name}\"")
}

fn list(names: impl Iterator<Item = String>) -> String {
    let mut names: Vec<String> = names.collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cached_compile_returns_the_same_pool_and_still_reports_errors() {
        let first = super::compile_cached(CHAT).unwrap();
        let second = super::compile_cached(CHAT).unwrap();
        assert_eq!(first, second);
        assert!(super::compile_cached("syntax = \"proto3\";\nmessage {").is_err());
    }

    use super::*;

    const CHAT: &str = r#"syntax = "proto3";
package demo.v1;
import "google/protobuf/timestamp.proto";
service Chat {
  rpc Send(Req) returns (Rep);
  rpc Stream(Req) returns (stream Rep);
  rpc Upload(stream Req) returns (Rep);
  rpc Talk(stream Req) returns (stream Rep);
}
message Req { string text = 1; google.protobuf.Timestamp at = 2; }
message Rep { string answer = 1; }
"#;

    #[test]
    fn compiles_with_well_known_types_and_finds_methods() {
        let pool = compile(CHAT).unwrap();
        assert_eq!(default_package(&pool), "demo.v1");
        let send = find_method(&pool, "demo.v1", "Chat", "Send").unwrap();
        assert_eq!(send.full_name(), "demo.v1.Chat.Send");
        assert!(!send.is_server_streaming());
        assert_eq!(send.input().full_name(), "demo.v1.Req");
        let stream = find_method(&pool, "demo.v1", "demo.v1.Chat", "Stream").unwrap();
        assert!(stream.is_server_streaming());
    }

    #[test]
    fn lookup_errors_name_the_field_and_list_what_exists() {
        let pool = compile(CHAT).unwrap();
        let err = find_method(&pool, "demo.v1", "Chat", "Nope").unwrap_err();
        assert_eq!(err.field(), "protocolConfig.methodName");
        assert_eq!(
            err.to_string(),
            "no method \"Nope\" in service \"demo.v1.Chat\"; available: Send, Stream, Talk, Upload"
        );
        let err = find_method(&pool, "demo.v1", "Other", "Send").unwrap_err();
        assert_eq!(err.field(), "protocolConfig.serviceName");
        assert!(err.to_string().ends_with("available: Chat"), "{err}");
        let err = find_method(&pool, "other", "Chat", "Send").unwrap_err();
        assert_eq!(err.field(), "protocolConfig.packageName");
        assert!(err.to_string().contains("\"demo.v1\""), "{err}");
        let err = find_method(&pool, "demo.v1", "Chat", "Upload").unwrap_err();
        assert!(err.to_string().contains("client-streaming"), "{err}");
        let err = find_method(&pool, "demo.v1", "Chat", "Talk").unwrap_err();
        assert!(err.to_string().contains("bidirectional"), "{err}");
    }

    #[test]
    fn compile_errors_carry_the_line() {
        let broken = "syntax = \"proto3\";\nmessage A {\n  string x = 1\n}\n";
        let err = compile(broken).unwrap_err();
        assert_eq!(err.line, Some(4), "{err:?}");
        assert!(err.to_string().starts_with("line 4: "), "{err}");
        let unknown_type = "syntax = \"proto3\";\nmessage A {\n  Missing x = 1;\n}\n";
        let err = compile(unknown_type).unwrap_err();
        assert_eq!(err.line, Some(3), "{err:?}");
        let bad_import = "syntax = \"proto3\";\nimport \"other.proto\";\n";
        let err = compile(bad_import).unwrap_err();
        assert_eq!(err.line, Some(2), "{err:?}");
        assert!(err.message.contains("other.proto"), "{err}");
    }

    #[test]
    fn a_proto_without_package_uses_bare_names() {
        let pool =
            compile("syntax = \"proto3\";\nservice S { rpc M(E) returns (E); }\nmessage E {}\n")
                .unwrap();
        assert_eq!(default_package(&pool), "");
        assert!(find_method(&pool, "", "S", "M").is_ok());
    }
}
