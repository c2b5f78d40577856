//! Turns the load and conversation flags of `krawall run` into `executionConfig` overrides,
//! through the same serde schema as the API so errors name the same fields.

use std::collections::BTreeMap;

use actors::commands::ExecutionOverrides;
use anyhow::{Context, bail};
use serde_json::{Map, Value, json};

use crate::cli::LoadArgs;

/// `--threshold METRIC=CONDITION` flags as a map.
pub fn thresholds_from(flags: &[String]) -> anyhow::Result<Option<BTreeMap<String, String>>> {
    if flags.is_empty() {
        return Ok(None);
    }
    flags
        .iter()
        .map(|f| {
            let (metric, condition) = f
                .split_once('=')
                .with_context(|| format!("--threshold {f:?}: expected METRIC=CONDITION"))?;
            Ok((metric.trim().to_string(), condition.trim().to_string()))
        })
        .collect::<anyhow::Result<_>>()
        .map(Some)
}

/// The overrides the flags ask for (only `load`, `history` and `faults` are set here).
pub fn overrides_from(args: &LoadArgs) -> anyhow::Result<ExecutionOverrides> {
    let mut overrides = ExecutionOverrides::default();
    if let Some(load) = load_value(args)? {
        overrides.load =
            Some(serde_json::from_value(load).map_err(|e| anyhow::anyhow!("load: {e}"))?);
    }
    if let Some(history) = &args.history {
        overrides.history = Some(
            serde_json::from_value(history_value(history)?)
                .map_err(|e| anyhow::anyhow!("--history: {e}"))?,
        );
    }
    if let Some(faults) = &args.faults {
        let value: Value = serde_json::from_str(faults).context("--faults is not JSON")?;
        overrides.faults =
            Some(serde_json::from_value(value).map_err(|e| anyhow::anyhow!("faults: {e}"))?);
    }
    Ok(overrides)
}

fn history_value(text: &str) -> anyhow::Result<Value> {
    Ok(match text.split_once(':') {
        None => json!(text),
        Some(("window", n)) => json!({"window": n.parse::<u32>().context("--history window:N")?}),
        Some(("max-tokens", n)) => {
            json!({"maxTokens": n.parse::<u32>().context("--history max-tokens:N")?})
        }
        Some(_) => bail!("--history must be full, none, window:N or max-tokens:N"),
    })
}

/// The `load` object from `--load` with the single flags laid over it; `None` without any.
fn load_value(args: &LoadArgs) -> anyhow::Result<Option<Value>> {
    let mut load = match &args.load {
        Some(text) => match serde_json::from_str(text).context("--load is not JSON")? {
            Value::Object(map) => map,
            _ => bail!("--load must be a JSON object"),
        },
        None => Map::new(),
    };
    let mut set = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            load.insert(key.to_string(), v);
        }
    };
    set("executor", args.executor.clone().map(Value::from));
    set("users", args.users.map(Value::from));
    set("rate", args.rate.map(Value::from));
    set("timeUnit", args.time_unit.clone().map(Value::from));
    set("duration", args.duration.clone().map(Value::from));
    set("start", args.start.map(Value::from));
    set("maxConversations", args.max_conversations.map(Value::from));
    set("maxConcurrent", args.max_concurrent.map(Value::from));
    set("thinkTimeMs", args.think_time_ms.map(Value::from));
    set("distribution", args.distribution.clone().map(Value::from));
    set(
        "abortOn",
        args.abort_on_error_rate.map(|r| json!({"errorRate": r})),
    );
    if !args.stages.is_empty() {
        let stages = args
            .stages
            .iter()
            .map(|s| stage(s))
            .collect::<anyhow::Result<Vec<_>>>()?;
        load.insert("stages".into(), Value::Array(stages));
    }
    Ok((!load.is_empty()).then_some(Value::Object(load)))
}

fn stage(text: &str) -> anyhow::Result<Value> {
    let (duration, target) = text
        .split_once(':')
        .with_context(|| format!("--stage {text:?}: expected DURATION:TARGET, e.g. 30s:100"))?;
    let target: f64 = target
        .parse()
        .with_context(|| format!("--stage {text:?}: the target must be a number"))?;
    Ok(json!({"duration": duration, "target": target}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_build_the_load_object() {
        let args = LoadArgs {
            executor: Some("ramping-users".into()),
            stages: vec!["10s:5".into(), "5s:0".into()],
            history: Some("window:2".into()),
            ..LoadArgs::default()
        };
        let o = overrides_from(&args).unwrap();
        let load = o.load.unwrap();
        assert_eq!(load.stages.len(), 2);
        assert_eq!(load.peak_users(), 5);
        assert_eq!(
            o.history,
            Some(actors::domain::conversation::HistoryPolicy::Window(2))
        );
        let bad = LoadArgs {
            executor: Some("soak".into()),
            ..LoadArgs::default()
        };
        let err = overrides_from(&bad).unwrap_err().to_string();
        assert!(err.contains("unknown variant `soak`"), "{err}");
    }
}
