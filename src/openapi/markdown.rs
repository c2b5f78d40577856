//! Renders the OpenAPI document as Markdown (`docs/API.md`): one section per operation with its
//! parameters, request body and responses, then every component schema with its fields.

use std::fmt::Write;

use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// `docs/API.md`: the document rendered as Markdown.
pub fn markdown() -> String {
    let doc = serde_json::to_value(super::spec()).unwrap_or(Value::Null);
    let mut out = String::new();
    let title = text(&doc["info"]["title"]);
    let _ = writeln!(out, "# {title} (OpenAPI {})\n", text(&doc["openapi"]));
    out.push_str(
        "<!-- Generated from the code by `krawall openapi --markdown`; do not edit. \
         Refresh: `cargo run -- openapi --markdown > docs/API.md`. -->\n\n",
    );
    let _ = writeln!(out, "{}\n", text(&doc["info"]["description"]));
    out.push_str(
        "The machine-readable contract is served at `GET /api/openapi.json` and browsable at \
         `/api/docs` (Swagger UI, offline).\n\n## Operations\n\n",
    );
    for (path, item) in entries(&doc["paths"]) {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                operation(
                    &mut out,
                    (method, path),
                    op,
                    &doc["components"]["responses"],
                );
            }
        }
    }
    out.push_str("## Schemas\n\n");
    for (name, schema) in entries(&doc["components"]["schemas"]) {
        let _ = writeln!(out, "### {name}\n");
        schema_fields(&mut out, schema);
    }
    out
}

fn entries(v: &Value) -> Vec<(&String, &Value)> {
    v.as_object()
        .map(|m| m.iter().collect())
        .unwrap_or_default()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().replace('\n', " ")
}

/// One operation; shared responses (`$ref`) are shown with their description and body.
fn operation(out: &mut String, (method, path): (&str, &str), op: &Value, shared: &Value) {
    let _ = writeln!(out, "### `{} {path}`\n", method.to_uppercase());
    for key in ["summary", "description"] {
        let t = text(&op[key]);
        if !t.is_empty() && (key == "summary" || t != text(&op["summary"])) {
            let _ = writeln!(out, "{t}\n");
        }
    }
    if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        out.push_str("| parameter | in | type | required | description |\n|---|---|---|---|---|\n");
        for p in params {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                text(&p["name"]),
                text(&p["in"]),
                type_of(&p["schema"]),
                if p["required"].as_bool() == Some(true) {
                    "yes"
                } else {
                    "no"
                },
                cell(&p["description"]),
            );
        }
        out.push('\n');
    }
    if let Some(body) = op.get("requestBody") {
        let _ = writeln!(out, "Request body: {}\n", contents(&body["content"]));
    }
    out.push_str("| status | description | body |\n|---|---|---|\n");
    for (status, resp) in entries(&op["responses"]) {
        let resp = match resp["$ref"].as_str() {
            Some(r) => &shared[short(r)],
            None => resp,
        };
        let (description, body) = (cell(&resp["description"]), contents(&resp["content"]));
        let _ = writeln!(out, "| {status} | {description} | {body} |");
    }
    out.push('\n');
}

fn cell(v: &Value) -> String {
    text(v).replace('|', "\\|")
}

fn short(reference: &str) -> String {
    reference
        .rsplit('/')
        .next()
        .unwrap_or(reference)
        .to_string()
}

fn contents(content: &Value) -> String {
    entries(content)
        .into_iter()
        .map(|(media, c)| format!("`{media}` {}", type_of(&c["schema"])))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A short type expression: `TargetView`, `array of MessageView`, `string (uuid)`, `object`.
fn type_of(schema: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        return short(r);
    }
    for combinator in ["allOf", "oneOf", "anyOf"] {
        if let Some(parts) = schema[combinator].as_array() {
            let sep = if combinator == "allOf" { " & " } else { " or " };
            return parts.iter().map(type_of).collect::<Vec<_>>().join(sep);
        }
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds.iter().map(text).collect::<Vec<_>>().join(" or "),
        Value::String(k) => k.clone(),
        _ => "any".into(),
    };
    if kind.starts_with("array") {
        return format!("{kind} of {}", type_of(&schema["items"]));
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values.iter().map(|v| format!("`{}`", text(v))).collect();
        return format!("{kind}: {}", values.join(", "));
    }
    match schema["format"].as_str() {
        Some(format) => format!("{kind} ({format})"),
        None => kind,
    }
}

fn schema_fields(out: &mut String, schema: &Value) {
    let description = text(&schema["description"]);
    if !description.is_empty() {
        let _ = writeln!(out, "{description}\n");
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let props = entries(&schema["properties"]);
    if props.is_empty() {
        let _ = writeln!(out, "Type: {}\n", type_of(schema));
        return;
    }
    out.push_str("| field | type | required | description |\n|---|---|---|---|\n");
    for (name, prop) in props {
        let _ = writeln!(
            out,
            "| `{name}` | {} | {} | {} |",
            type_of(prop),
            if required.contains(&name.as_str()) {
                "yes"
            } else {
                "no"
            },
            cell(&prop["description"]),
        );
    }
    out.push('\n');
}
