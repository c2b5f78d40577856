//! Renders message templates (`{{messageIndex}}`, `{{lastResponse}}`, custom variables, …) with
//! minijinja, and applies the verbosity suffix.

use std::collections::BTreeMap;

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

    fn builtins(&self) -> BTreeMap<String, minijinja::Value> {
        let history = self
            .history
            .iter()
            .map(|t| format!("{}: {}", t.role.as_str(), t.content))
            .collect::<Vec<_>>()
            .join("\n");
        let assistant = self.last("assistant");
        let pairs: [(&str, minijinja::Value); 11] = [
            ("messageIndex", self.message_index.into()),
            ("index", self.message_index.into()),
            ("repetitionIndex", self.repetition_index.into()),
            ("timestamp", self.timestamp.clone().into()),
            ("sessionId", self.session_id.to_string().into()),
            ("conversationId", self.conversation_id.into()),
            ("lastResponse", assistant.clone().into()),
            ("lastAssistantMessage", assistant.into()),
            ("lastUserMessage", self.last("user").into()),
            ("history", history.into()),
            ("messageCount", self.history.len().into()),
        ];
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
}

/// Renders a message template; custom variables may themselves use built-in variables.
pub fn render(template: &str, ctx: &TemplateContext<'_>) -> Result<String, TemplateError> {
    let env = Environment::new();
    let mut vars = ctx.builtins();
    for (k, v) in ctx.extracted {
        vars.insert(k.clone(), v.clone().into());
    }
    let base = vars.clone();
    for (k, v) in ctx.custom {
        let value = if v.contains("{{") {
            render_str(&env, v, &base)?
        } else {
            v.clone()
        };
        vars.insert(k.clone(), value.into());
    }
    render_str(&env, template, &vars)
}

fn render_str(
    env: &Environment<'_>,
    template: &str,
    vars: &BTreeMap<String, minijinja::Value>,
) -> Result<String, TemplateError> {
    env.render_str(template, vars)
        .map_err(|e| TemplateError(e.to_string()))
}

/// Checks that a template parses (used at validation time).
pub fn check_syntax(template: &str) -> Result<(), TemplateError> {
    Environment::new()
        .template_from_str(template)
        .map(|_| ())
        .map_err(|e| TemplateError(e.to_string()))
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
