//! Parses scenario input (API JSON or YAML) into the canonical [`ScenarioSpec`], accepting
//! upstream's legacy step shapes (`config.message`, `bodySteps`, top-level `content`/`steps`)
//! and rejecting unknown step types with an error naming the field.

use serde_json::{Map, Value};

use super::condition::Condition;
use super::scenario::{
    ConditionalStep, DelayStep, LoopStep, MessageStep, ScenarioSpec, Step, StepKind,
    validate_scenario,
};
use super::validation::{FieldError, Validator};

/// Turns raw input into a validated canonical scenario.
pub fn parse_scenario(input: &Value) -> Result<ScenarioSpec, Vec<FieldError>> {
    let Some(obj) = input.as_object() else {
        return Err(vec![FieldError {
            field: "$".into(),
            rule: "must be a JSON object".into(),
        }]);
    };
    let mut v = Validator::default();
    let steps = match obj.get("flowConfig") {
        Some(Value::Array(items)) => parse_steps(&mut v, "flowConfig", items),
        Some(_) => {
            v.push("flowConfig", "must be an array of steps");
            Vec::new()
        }
        None => {
            v.push("flowConfig", "is required");
            Vec::new()
        }
    };
    let mut rest = obj.clone();
    rest.insert("flowConfig".into(), Value::Array(Vec::new()));
    let spec: Option<ScenarioSpec> = match serde_path_to_error::deserialize(Value::Object(rest)) {
        Ok(spec) => Some(spec),
        Err(e) => {
            v.push(e.path().to_string(), e.inner().to_string());
            None
        }
    };
    v.finish()?;
    let mut spec = spec.ok_or_else(Vec::new)?;
    spec.flow_config = steps;
    validate_scenario(&spec)?;
    Ok(spec)
}

fn parse_steps(v: &mut Validator, path: &str, items: &[Value]) -> Vec<Step> {
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| parse_step(v, &format!("{path}[{i}]"), item))
        .collect()
}

/// Reads a key from `config`, falling back to the step object itself (template shape).
fn field<'a>(
    step: &'a Map<String, Value>,
    config: Option<&'a Map<String, Value>>,
    keys: &[&str],
) -> Option<&'a Value> {
    keys.iter()
        .find_map(|k| config.and_then(|c| c.get(*k)))
        .or_else(|| keys.iter().find_map(|k| step.get(*k)))
}

fn parse_step(v: &mut Validator, path: &str, item: &Value) -> Option<Step> {
    let Some(step) = item.as_object() else {
        v.push(path, "must be an object with `type` and `config`");
        return None;
    };
    let config = step.get("config").and_then(Value::as_object);
    let id = step.get("id").and_then(Value::as_str).map(str::to_string);
    let here = format!("{path}.config");
    let kind = match step.get("type").and_then(Value::as_str) {
        Some("message") => message(v, &here, step, config),
        Some("delay") => delay(v, &here, step, config),
        Some("loop") => looped(v, &here, step, config),
        Some("conditional") => conditional(v, &here, step, config),
        Some(other) => {
            v.push(
                format!("{path}.type"),
                format!(
                    "unknown step type {other:?}: expected message, delay, loop or conditional"
                ),
            );
            None
        }
        None => {
            v.push(format!("{path}.type"), "is required");
            None
        }
    }?;
    Some(Step { id, kind })
}

fn message(
    v: &mut Validator,
    here: &str,
    step: &Map<String, Value>,
    config: Option<&Map<String, Value>>,
) -> Option<StepKind> {
    let Some(content) = field(step, config, &["content", "message"]).and_then(Value::as_str) else {
        v.push(
            format!("{here}.content"),
            "is required and must be a string",
        );
        return None;
    };
    let inject = field(step, config, &["inject"])
        .and_then(Value::as_str)
        .map(str::to_string);
    Some(StepKind::Message(MessageStep {
        content: content.to_string(),
        inject,
    }))
}

fn delay(
    v: &mut Validator,
    here: &str,
    step: &Map<String, Value>,
    config: Option<&Map<String, Value>>,
) -> Option<StepKind> {
    match field(step, config, &["durationMs", "duration"]).and_then(Value::as_u64) {
        Some(duration_ms) => Some(StepKind::Delay(DelayStep { duration_ms })),
        None => {
            v.push(
                format!("{here}.durationMs"),
                "is required and must be a non-negative integer",
            );
            None
        }
    }
}

fn looped(
    v: &mut Validator,
    here: &str,
    step: &Map<String, Value>,
    config: Option<&Map<String, Value>>,
) -> Option<StepKind> {
    let iterations = field(step, config, &["iterations"]).and_then(Value::as_u64);
    let body = field(step, config, &["steps", "bodySteps"]).and_then(Value::as_array);
    let Some(iterations) = iterations.and_then(|n| u32::try_from(n).ok()) else {
        v.push(
            format!("{here}.iterations"),
            "is required and must be a positive integer",
        );
        return None;
    };
    let Some(body) = body else {
        v.push(
            format!("{here}.steps"),
            "is required and must be an array of steps",
        );
        return None;
    };
    let steps = parse_steps(v, &format!("{here}.steps"), body);
    Some(StepKind::Loop(LoopStep { iterations, steps }))
}

fn conditional(
    v: &mut Validator,
    here: &str,
    step: &Map<String, Value>,
    config: Option<&Map<String, Value>>,
) -> Option<StepKind> {
    let branch = |v: &mut Validator, key: &str| match field(step, config, &[key]) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => parse_steps(v, &format!("{here}.{key}"), items),
        Some(_) => {
            v.push(format!("{here}.{key}"), "must be an array of steps");
            Vec::new()
        }
    };
    let then_steps = branch(v, "thenSteps");
    let else_steps = branch(v, "elseSteps");
    let Some(raw) = field(step, config, &["condition"]).and_then(Value::as_str) else {
        v.push(
            format!("{here}.condition"),
            "is required and must be a string",
        );
        return None;
    };
    match Condition::parse(raw) {
        Ok(condition) => Some(StepKind::Conditional(ConditionalStep {
            condition,
            then_steps,
            else_steps,
        })),
        Err(e) => {
            v.push(format!("{here}.condition"), e.to_string());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_canonical_and_legacy_shapes() {
        let input = json!({
            "name": "s",
            "flowConfig": [
                {"type": "message", "config": {"content": "hi"}},
                {"type": "message", "config": {"message": "seed shape"}, "next": "x"},
                {"type": "loop", "config": {"iterations": 2, "bodySteps": [{"type": "message", "config": {"content": "ui"}}]}},
                {"type": "loop", "iterations": 2, "steps": [{"type": "message", "content": "template"}]},
                {"type": "conditional", "config": {"condition": "contains:yes", "thenSteps": [], "elseSteps": [{"type": "delay", "config": {"durationMs": 5}}]}}
            ]
        });
        let spec = parse_scenario(&input).unwrap();
        assert_eq!(spec.flow_config.len(), 5);
        let StepKind::Loop(l) = &spec.flow_config[2].kind else {
            panic!()
        };
        assert_eq!(l.steps.len(), 1);
        let round: ScenarioSpec =
            serde_json::from_value(serde_json::to_value(&spec).unwrap()).unwrap();
        assert_eq!(round, spec);
    }

    #[test]
    fn rejects_unknown_types_and_names_the_field() {
        let input = json!({"name": "s", "repetitions": 0, "flowConfig": [
            {"type": "loop", "config": {"iterations": 1, "steps": [{"type": "teleport"}]}}
        ]});
        let errors = parse_scenario(&input).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.field == "flowConfig[0].config.steps[0].type"),
            "{errors:?}"
        );
    }

    #[test]
    fn reports_type_errors_with_path() {
        let input = json!({"name": "s", "repetitions": "many", "flowConfig": [{"type": "message", "config": {"content": "x"}}]});
        let errors = parse_scenario(&input).unwrap_err();
        assert_eq!(errors[0].field, "repetitions");
    }
}
