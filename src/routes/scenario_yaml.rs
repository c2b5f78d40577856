//! YAML export and import of scenarios: `GET /api/scenarios/{id}/export` (every canonical field,
//! errorHandling included) and `POST /api/scenarios/import` (raw YAML or multipart `file` parts,
//! each file all-or-nothing).

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use actors::commands::CommandError;
use actors::connectors::paths::validate_read_path;
use actors::domain::scenario::{ScenarioSpec, Step, StepKind};
use actors::domain::scenario_input::parse_scenario;
use actors::domain::template::check_syntax;
use actors::domain::validation::FieldError;
use futures_util::StreamExt;
use projections::queries;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use super::envelope::{ApiError, Envelope, ErrorBody, JsonObject, ok, parse_id};
use super::state::AppState;
use super::yaml_budget::{MAX_YAML_NODES, bounded_value};

/// Largest import request accepted (all files together).
const MAX_IMPORT_BYTES: usize = 4 * 1024 * 1024;
/// Most scenarios one import request may create.
const MAX_SCENARIOS: usize = 200;
/// Longest file name stem of an export.
const MAX_STEM: usize = 50;

/// Export a scenario as YAML.
#[utoipa::path(
    get,
    path = "/api/scenarios/{id}/export",
    tag = "scenarios",
    params(("id" = uuid::Uuid, Path, description = "Scenario id")),
    responses(
        (status = 200, description = "The scenario as a YAML file (a mapping of the canonical fields)", content_type = "application/yaml", body = JsonObject),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
pub async fn export_scenario(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "scenario")?;
    let view = queries::get_scenario(&state.read, &id.to_string())
        .await?
        .ok_or(ApiError::NotFound("scenario"))?;
    let spec: ScenarioSpec =
        serde_json::from_value(view.spec).map_err(|e| ApiError::Unexpected(e.into()))?;
    let yaml = serde_yaml::to_string(&spec).map_err(|e| ApiError::Unexpected(e.into()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/yaml; charset=utf-8")
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}.yaml\"", file_stem(&spec.name)),
        ))
        .body(yaml))
}

/// A file name stem from a scenario name: lowercase ASCII letters, digits, `-` and `_`.
pub fn file_stem(name: &str) -> String {
    let mut stem = String::new();
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '-' {
            c.to_ascii_lowercase()
        } else {
            '_'
        };
        if !(c == '_' && (stem.is_empty() || stem.ends_with('_'))) {
            stem.push(c);
        }
    }
    let stem: String = stem.chars().take(MAX_STEM).collect();
    let stem = stem.trim_matches('_');
    if stem.is_empty() {
        "scenario".into()
    } else {
        stem.into()
    }
}

/// One scenario created by an import.
#[derive(Debug, Serialize, ToSchema)]
struct Imported {
    file: String,
    id: Uuid,
    name: String,
}

/// What an import did: the scenarios created, and each file that was not imported.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportOutcome {
    imported: Vec<Imported>,
    errors: Vec<FileErrors>,
}

/// The multipart form of an import: one or more `file` parts holding YAML.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the form; `uploaded_files` reads the parts
struct ImportUpload {
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<Vec<u8>>,
}

/// Why one file was not imported (nothing of it was written).
#[derive(Debug, Serialize, ToSchema)]
struct FileErrors {
    file: String,
    errors: Vec<FieldError>,
}

/// Import scenarios from YAML.
#[utoipa::path(
    post,
    path = "/api/scenarios/import",
    tag = "scenarios",
    request_body(description = "One or more YAML files as multipart `file` parts, or one YAML document as the raw body; at most 4 MiB", content(
        (ImportUpload = "multipart/form-data"),
        (String = "application/yaml")
    )),
    responses(
        (status = 200, description = "Scenarios created, and the files (or documents) that were not imported with their errors", body = Envelope<ImportOutcome>),
        (status = 400, description = "Nothing was imported: `details` lists `<file>: <field>` and the rule", body = ErrorBody),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
pub async fn import_scenarios(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(payload).await?;
    let files = uploaded_files(&req, body).await?;
    if files.is_empty() {
        return Err(ApiError::field("file", "no file uploaded"));
    }
    let (mut imported, mut errors, mut last) = (Vec::new(), Vec::new(), 0);
    for (file, bytes) in files {
        let outcome = match parse_file(&bytes) {
            Ok(specs) if imported.len() + specs.len() > MAX_SCENARIOS => Err(vec![field_error(
                "$",
                format!("at most {MAX_SCENARIOS} scenarios per import"),
            )]),
            Ok(specs) => create_all(&state, &file, specs).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok((created, position)) => {
                imported.extend(created);
                last = last.max(position);
            }
            Err(errs) => errors.push(FileErrors { file, errors: errs }),
        }
    }
    if imported.is_empty() {
        return Ok(nothing_imported(&errors));
    }
    state.caught_up(last).await?;
    Ok(ok(StatusCode::OK, ImportOutcome { imported, errors }))
}

/// The 400 answer: the envelope's `details` flatten every file's errors as `<file>: <field>`.
fn nothing_imported(errors: &[FileErrors]) -> HttpResponse {
    let details: Vec<FieldError> = errors
        .iter()
        .flat_map(|f| {
            f.errors
                .iter()
                .map(|e| field_error(&format!("{}: {}", f.file, e.field), &e.rule))
        })
        .collect();
    HttpResponse::BadRequest().json(json!({
        "success": false,
        "error": "no scenario was imported",
        "details": details,
        "data": { "imported": [], "errors": errors },
    }))
}

fn field_error(field: &str, rule: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        rule: rule.into(),
    }
}

async fn read_body(mut payload: web::Payload) -> Result<Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::field("$", format!("could not read the body: {e}")))?;
        if body.len() + chunk.len() > MAX_IMPORT_BYTES {
            return Err(ApiError::field(
                "$",
                format!("body is larger than {MAX_IMPORT_BYTES} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// `(file name, contents)` of each uploaded file: multipart parts with a file name or named
/// `file`/`files`, else the whole body as one YAML file.
async fn uploaded_files(req: &HttpRequest, body: Bytes) -> Result<Vec<(String, Bytes)>, ApiError> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Ok(if body.iter().all(u8::is_ascii_whitespace) {
            Vec::new()
        } else {
            vec![("body".to_string(), body)]
        });
    }
    let bad = |e: multer::Error| ApiError::field("file", format!("invalid multipart body: {e}"));
    let boundary = multer::parse_boundary(content_type).map_err(bad)?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut files = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        if file_name.is_none() && !name.starts_with("file") {
            continue;
        }
        let data = field.bytes().await.map_err(bad)?;
        let label = file_name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("file {}", files.len() + 1));
        files.push((label, data));
    }
    Ok(files)
}

/// Every scenario of one file, all valid, or every error found (fields prefixed `[i].` when the
/// file holds more than one scenario).
fn parse_file(bytes: &[u8]) -> Result<Vec<ScenarioSpec>, Vec<FieldError>> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| vec![field_error("$", "file is not UTF-8 text")])?;
    let docs = yaml_documents(text)?;
    if docs.is_empty() {
        return Err(vec![field_error("$", "no scenario found in the file")]);
    }
    let many = docs.len() > 1;
    let (mut specs, mut errors) = (Vec::new(), Vec::new());
    for (i, doc) in docs.iter().enumerate() {
        match parse_scenario(doc).and_then(|spec| precheck(&spec).map(|()| spec)) {
            Ok(spec) => specs.push(spec),
            Err(errs) => errors.extend(errs.into_iter().map(|e| {
                let field = if many {
                    format!("[{i}].{}", e.field)
                } else {
                    e.field
                };
                field_error(&field, e.rule)
            })),
        }
    }
    if errors.is_empty() {
        Ok(specs)
    } else {
        Err(errors)
    }
}

/// The YAML documents of a file as JSON; a document that is a list contributes each item.
fn yaml_documents(text: &str) -> Result<Vec<Value>, Vec<FieldError>> {
    let mut docs = Vec::new();
    let budget = std::cell::Cell::new(MAX_YAML_NODES);
    for (i, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = bounded_value(document, &budget).map_err(|e| {
            vec![field_error(
                "$",
                format!("invalid YAML in document {}: {e}", i + 1),
            )]
        })?;
        match value {
            Value::Null => {}
            Value::Array(items) => docs.extend(items),
            other => docs.push(other),
        }
    }
    Ok(docs)
}

/// The checks `create_scenario` makes beyond `parse_scenario` (template syntax, extractor paths),
/// run up front so a file is either imported whole or not at all.
fn precheck(spec: &ScenarioSpec) -> Result<(), Vec<FieldError>> {
    fn walk(errors: &mut Vec<FieldError>, path: &str, steps: &[Step]) {
        for (i, step) in steps.iter().enumerate() {
            let here = format!("{path}[{i}].config");
            match &step.kind {
                StepKind::Message(m) => {
                    if let Err(e) = check_syntax(&m.content) {
                        errors.push(field_error(&format!("{here}.content"), e.to_string()));
                    }
                }
                StepKind::Loop(l) => walk(errors, &format!("{here}.steps"), &l.steps),
                StepKind::Conditional(c) => {
                    walk(errors, &format!("{here}.thenSteps"), &c.then_steps);
                    walk(errors, &format!("{here}.elseSteps"), &c.else_steps);
                }
                StepKind::Delay(_) => {}
            }
        }
    }
    let mut errors = Vec::new();
    walk(&mut errors, "flowConfig", &spec.flow_config);
    for (name, path) in &spec.variable_extractors {
        if let Err(e) = validate_read_path(path) {
            errors.push(field_error(
                &format!("variableExtractors.{name}"),
                e.to_string(),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Creates a file's scenarios; if one is refused, the ones already created are deleted again.
async fn create_all(
    state: &AppState,
    file: &str,
    specs: Vec<ScenarioSpec>,
) -> Result<(Vec<Imported>, i64), Vec<FieldError>> {
    let (mut created, mut last) = (Vec::new(), 0);
    for spec in specs {
        let name = spec.name.clone();
        match state.commands.create_scenario(spec).await {
            Ok((id, position)) => {
                created.push(Imported {
                    file: file.to_string(),
                    id,
                    name,
                });
                last = position;
            }
            Err(e) => {
                for done in &created {
                    if let Err(undo) = state.commands.delete_scenario(done.id).await {
                        tracing::error!(error = %undo, id = %done.id, "could not undo a partial import");
                    }
                }
                return Err(command_errors(e));
            }
        }
    }
    Ok((created, last))
}

fn command_errors(e: CommandError) -> Vec<FieldError> {
    match e {
        CommandError::Invalid(errors) => errors,
        other => {
            tracing::error!(error = %other, "scenario import failed");
            vec![field_error("$", "the scenario could not be stored; retry")]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_sanitised_and_short() {
        assert_eq!(
            file_stem("Stress Test: Repetitive Queries!"),
            "stress_test_repetitive_queries"
        );
        assert_eq!(file_stem("  ///  "), "scenario");
        assert_eq!(file_stem(&"a".repeat(80)).len(), 50);
        assert_eq!(file_stem("Ünïcode-Name"), "n_code-name");
    }

    #[test]
    fn documents_lists_and_separators_are_all_read() {
        let one = "name: a\nflowConfig: [{type: message, config: {content: hi}}]\n";
        assert_eq!(parse_file(one.as_bytes()).unwrap().len(), 1);
        let two = format!("---\n{one}---\n{one}");
        assert_eq!(parse_file(two.as_bytes()).unwrap().len(), 2);
        let list = "- name: a\n  flowConfig: [{type: message, content: x}]\n- name: b\n  flowConfig: [{type: delay, config: {durationMs: 1}}]\n";
        assert_eq!(parse_file(list.as_bytes()).unwrap().len(), 2);
        let bad = format!("{one}---\nname: b\nflowConfig: [{{type: teleport}}]\n");
        let errors = parse_file(bad.as_bytes()).unwrap_err();
        assert_eq!(errors[0].field, "[1].flowConfig[0].type", "{errors:?}");
        let syntax = "name: a\nflowConfig: [{type: message, config: {content: '{{ oops'}}]\n";
        assert_eq!(
            parse_file(syntax.as_bytes()).unwrap_err()[0].field,
            "flowConfig[0].config.content"
        );
    }
}
