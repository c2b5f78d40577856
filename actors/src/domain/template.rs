//! Renders message templates (`{{messageIndex}}`, `{{lastResponse}}`, custom variables, …) with
//! minijinja, and applies the verbosity suffix.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use minijinja::Environment;
use uuid::Uuid;

use super::conversation::ChatTurn;
use super::scenario::Verbosity;

/// Everything a template can refer to. Built-in names are listed in [`BUILTIN_VARIABLES`].
#[derive(Debug, Clone)]
pub struct TemplateContext<'a> {
    pub message_index: u32,
    pub repetition_index: u32,
    pub session_id: Uuid,
    pub conversation_id: &'a str,
    pub timestamp: String,
    /// Whole exchanges of this conversation so far (failed exchanges are not in it).
    pub history: &'a [ChatTurn],
    /// Values extracted from earlier replies by JSONPath (scenario `variableExtractors`).
    pub extracted: &'a BTreeMap<String, String>,
    /// Scenario `messageTemplates`; they win over everything else.
    pub custom: &'a BTreeMap<String, String>,
}

/// Variables every template may use.
pub const BUILTIN_VARIABLES: &[&str] = &[
    "messageIndex",
    "index",
    "repetitionIndex",
    "timestamp",
    "sessionId",
    "conversationId",
    "lastResponse",
    "lastAssistantMessage",
    "lastUserMessage",
    "history",
    "messageCount",
];

/// A template failed to parse or render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template error: {0}")]
pub struct TemplateError(pub String);

impl TemplateContext<'_> {
    fn last(&self, role: &str) -> String {
        self.history
            .iter()
            .rev()
            .find(|t| t.role.as_str() == role)
            .map(|t| t.content.to_string())
            .unwrap_or_default()
    }

    /// The value of built-in variable `name`, computed only when a template uses it (the
    /// history grows with the conversation).
    fn builtin(&self, name: &str) -> Option<minijinja::Value> {
        Some(match name {
            "messageIndex" | "index" => self.message_index.into(),
            "repetitionIndex" => self.repetition_index.into(),
            "timestamp" => self.timestamp.clone().into(),
            "sessionId" => self.session_id.to_string().into(),
            "conversationId" => self.conversation_id.into(),
            "lastResponse" | "lastAssistantMessage" => self.last("assistant").into(),
            "lastUserMessage" => self.last("user").into(),
            "history" => self
                .history
                .iter()
                .map(|t| format!("{}: {}", t.role.as_str(), t.content))
                .collect::<Vec<_>>()
                .join("\n")
                .into(),
            "messageCount" => self.history.len().into(),
            _ => return None,
        })
    }

    /// An extracted variable, else a built-in one (custom variables are resolved on top).
    fn base(&self, name: &str) -> Option<minijinja::Value> {
        match self.extracted.get(name) {
            Some(v) => Some(v.clone().into()),
            None => self.builtin(name),
        }
    }
}

/// Instructions one render may execute (minijinja fuel): a template of nested loops stops
/// with an error instead of spinning a thread.
pub const TEMPLATE_FUEL: u64 = 200_000;
/// Largest rendered message, in bytes.
pub const MAX_RENDERED_BYTES: usize = 1024 * 1024;

/// An environment with the fuel limit.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(TEMPLATE_FUEL));
    env
}

/// Collects rendered output and fails past [`MAX_RENDERED_BYTES`].
struct CappedOutput(Vec<u8>);

impl std::io::Write for CappedOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_RENDERED_BYTES {
            return Err(std::io::Error::other(format!(
                "rendered message exceeds {MAX_RENDERED_BYTES} bytes"
            )));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renders with the output cap; a fuel or size overrun names the limit.
fn render_capped<S: serde::Serialize>(
    template: &minijinja::Template<'_, '_>,
    vars: S,
) -> Result<String, TemplateError> {
    let mut out = CappedOutput(Vec::new());
    template
        .render_captured_to(vars, &mut out)
        .map_err(|e| match e.kind() {
            minijinja::ErrorKind::OutOfFuel => TemplateError(format!(
                "template runs longer than its budget of {TEMPLATE_FUEL} instructions"
            )),
            minijinja::ErrorKind::WriteFailure => TemplateError(format!(
                "rendered message exceeds {MAX_RENDERED_BYTES} bytes"
            )),
            _ => TemplateError(e.to_string()),
        })?;
    String::from_utf8(out.0).map_err(|e| TemplateError(e.to_string()))
}

/// Templates parsed once (per conversation lane) with the variables each one uses, so a
/// message renders without re-parsing and computes only the variables it refers to.
pub struct TemplateCache {
    env: Environment<'static>,
    used: HashMap<String, Arc<[String]>>,
}

impl Default for TemplateCache {
    fn default() -> Self {
        TemplateCache {
            env: environment(),
            used: HashMap::new(),
        }
    }
}

impl std::fmt::Debug for TemplateCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateCache")
            .field("templates", &self.used.len())
            .finish()
    }
}

impl TemplateCache {
    /// Parses `template` on first use; returns the variables it uses.
    fn compile(&mut self, template: &str) -> Result<Arc<[String]>, TemplateError> {
        if let Some(used) = self.used.get(template) {
            return Ok(used.clone());
        }
        let error = |e: minijinja::Error| TemplateError(e.to_string());
        self.env
            .add_template_owned(template.to_owned(), template.to_owned())
            .map_err(error)?;
        let mut used: Vec<String> = self
            .env
            .get_template(template)
            .map_err(error)?
            .undeclared_variables(false)
            .into_iter()
            .collect();
        used.sort_unstable();
        let used: Arc<[String]> = used.into();
        self.used.insert(template.to_owned(), used.clone());
        Ok(used)
    }

    fn render_with(
        &self,
        template: &str,
        vars: &BTreeMap<String, minijinja::Value>,
    ) -> Result<String, TemplateError> {
        let compiled = self
            .env
            .get_template(template)
            .map_err(|e| TemplateError(e.to_string()))?;
        render_capped(&compiled, vars)
    }

    /// Renders a message template; custom variables (which win over extracted and built-in
    /// ones) may themselves use built-in and extracted variables.
    pub fn render(
        &mut self,
        template: &str,
        ctx: &TemplateContext<'_>,
    ) -> Result<String, TemplateError> {
        // Plain text renders as itself (minijinja would drop one trailing newline).
        if !template.contains('{') && !template.ends_with('\n') {
            return Ok(template.to_owned());
        }
        let mut vars = BTreeMap::new();
        for name in self.compile(template)?.iter() {
            let value = match ctx.custom.get(name) {
                Some(custom) if custom.contains("{{") => {
                    let mut inner = BTreeMap::new();
                    for n in self.compile(custom)?.iter() {
                        inner.extend(ctx.base(n).map(|v| (n.clone(), v)));
                    }
                    Some(self.render_with(custom, &inner)?.into())
                }
                Some(custom) => Some(custom.clone().into()),
                None => ctx.base(name),
            };
            vars.extend(value.map(|v| (name.clone(), v)));
        }
        self.render_with(template, &vars)
    }
}

/// Renders a message template once (see [`TemplateCache::render`] to render many).
pub fn render(template: &str, ctx: &TemplateContext<'_>) -> Result<String, TemplateError> {
    TemplateCache::default().render(template, ctx)
}

/// Checks that a template parses and that it stays within the fuel and output budget when
/// rendered without variables (used at validation time; other render errors wait for run time).
pub fn check_syntax(template: &str) -> Result<(), TemplateError> {
    let env = environment();
    let compiled = env
        .template_from_str(template)
        .map_err(|e| TemplateError(e.to_string()))?;
    match render_capped(&compiled, minijinja::context! {}) {
        Err(e) if e.0.contains("budget of") || e.0.contains("exceeds") => Err(e),
        _ => Ok(()),
    }
}

/// Appends the verbosity suffix to a rendered message.
pub fn apply_verbosity(message: String, verbosity: Verbosity) -> String {
    let suffix = verbosity.suffix();
    if suffix.is_empty() {
        message
    } else {
        message + suffix
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::conversation::Role;

    #[test]
    fn renders_builtins_custom_and_extracted() {
        let history = vec![
            ChatTurn::new(Role::User, "hi"),
            ChatTurn::new(Role::Assistant, "hello there"),
        ];
        let extracted = BTreeMap::from([("orderId".to_string(), "42".to_string())]);
        let custom =
            BTreeMap::from([("greeting".to_string(), "Hey #{{messageIndex}}".to_string())]);
        let ctx = TemplateContext {
            message_index: 3,
            repetition_index: 1,
            session_id: Uuid::nil(),
            conversation_id: "c1",
            timestamp: "t".into(),
            history: &history,
            extracted: &extracted,
            custom: &custom,
        };
        let out = render("{{greeting}} {{index}}/{{repetitionIndex}} {{lastResponse}} {{orderId}} {{conversationId}} {{missing}}", &ctx).unwrap();
        assert_eq!(out, "Hey #3 3/1 hello there 42 c1 ");
        assert_eq!(
            render("{{history}}", &ctx).unwrap(),
            "user: hi\nassistant: hello there"
        );
    }

    #[test]
    fn template_bombs_stop_at_the_fuel_and_output_caps() {
        let spin = "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}{% endfor %}{% endfor %}{% endfor %}";
        let err = check_syntax(spin).unwrap_err();
        assert!(err.0.contains("budget"), "{err}");
        let wide = "{% for a in range(100000) %}{{ 'x' * 100 }}{% endfor %}";
        assert!(check_syntax(wide).is_err());
        let err = check_syntax("{{ 'x' * 5000000 }}").unwrap_err();
        assert!(err.0.contains("exceeds"), "{err}");
        let history = Vec::new();
        let (extracted, custom) = (BTreeMap::new(), BTreeMap::new());
        let ctx = TemplateContext {
            message_index: 0,
            repetition_index: 0,
            session_id: Uuid::nil(),
            conversation_id: "c",
            timestamp: "t".into(),
            history: &history,
            extracted: &extracted,
            custom: &custom,
        };
        assert!(render(spin, &ctx).is_err());
        assert_eq!(render("{{ 'ab' * 3 }}", &ctx).unwrap(), "ababab");
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert!(check_syntax("{{ unclosed").is_err());
        assert!(check_syntax("Hello {{name}}").is_ok());
    }

    #[test]
    fn verbosity_suffixes() {
        assert_eq!(apply_verbosity("a".into(), Verbosity::Normal), "a");
        assert!(
            apply_verbosity("a".into(), Verbosity::Verbose)
                .starts_with("a Please provide a detailed")
        );
    }
}
