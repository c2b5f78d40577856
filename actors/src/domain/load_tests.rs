//! Tests of the load model: wire forms, levels over time and validation messages.

use std::time::Duration;

use serde_json::json;

use super::*;

fn parse(v: serde_json::Value) -> LoadSpec {
    serde_json::from_value(v).unwrap()
}

fn errors(v: serde_json::Value) -> Vec<String> {
    let mut val = Validator::default();
    validate_load(&mut val, "load", &parse(v));
    match val.finish() {
        Ok(()) => Vec::new(),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn constant_users_round_trips() {
    let wire =
        json!({"executor": "constant-users", "users": 20, "duration": "5m", "thinkTimeMs": 100});
    let spec = parse(wire.clone());
    assert_eq!(spec.total_duration(), Duration::from_secs(300));
    assert_eq!(spec.peak_users(), 20);
    let back = serde_json::to_value(&spec).unwrap();
    assert_eq!(back["duration"], "5m");
    assert_eq!(back["executor"], "constant-users");
    assert!(errors(wire).is_empty());
}

#[test]
fn ramps_interpolate_linearly() {
    let spec = parse(json!({"executor": "ramping-users", "stages": [
        {"duration": "10s", "target": 100}, {"duration": "10s", "target": 100}, {"duration": "10s", "target": 0}]}));
    assert_eq!(spec.level_at(Duration::from_secs(5)), 50.0);
    assert_eq!(spec.level_at(Duration::from_secs(15)), 100.0);
    assert_eq!(spec.level_at(Duration::from_secs(25)), 50.0);
    assert_eq!(spec.level_at(Duration::from_secs(40)), 0.0);
    assert_eq!(spec.peak_users(), 100);
    assert_eq!(spec.total_duration(), Duration::from_secs(30));
}

#[test]
fn arrival_rates_per_second_and_intended_total() {
    let spec = parse(
        json!({"executor": "constant-arrival-rate", "rate": 120, "timeUnit": "1m", "duration": "30s"}),
    );
    assert_eq!(spec.rate_per_second_at(Duration::ZERO), 2.0);
    assert_eq!(spec.intended_arrivals(), 60.0);
    let ramp = parse(
        json!({"executor": "ramping-arrival-rate", "start": 0, "stages": [{"duration": "10s", "target": 10}]}),
    );
    assert_eq!(ramp.intended_arrivals(), 50.0);
}

#[test]
fn bad_input_names_the_field_and_the_rule() {
    let e = errors(json!({"executor": "constant-users", "duration": "1m"}));
    assert_eq!(e, vec!["load.users: is required for constant-users"]);
    let e = errors(json!({"executor": "constant-arrival-rate", "rate": -1, "duration": "1m"}));
    assert!(e[0].starts_with("load.rate: must be 0 or more"), "{e:?}");
    let e = errors(json!({"executor": "ramping-users", "stages": []}));
    assert_eq!(e, vec!["load.stages: must contain at least one stage"]);
    let e = errors(
        json!({"executor": "constant-users", "users": 1, "duration": "1m", "abortOn": {"errorRate": 1.5}}),
    );
    assert_eq!(e, vec!["load.abortOn.errorRate: must be between 0 and 1"]);
    let e = errors(json!({"executor": "constant-users", "users": 20000, "duration": "1m"}));
    assert_eq!(e, vec!["load.users: must be between 1 and 10000"]);
}

#[test]
fn wire_errors_for_unknown_executor_and_missing_stage_duration() {
    let unknown = serde_json::from_value::<LoadSpec>(json!({"executor": "soak"}));
    assert!(
        unknown
            .unwrap_err()
            .to_string()
            .contains("unknown variant `soak`")
    );
    let no_duration = serde_json::from_value::<LoadSpec>(
        json!({"executor": "ramping-users", "stages": [{"target": 3}]}),
    );
    assert!(
        no_duration
            .unwrap_err()
            .to_string()
            .contains("missing field `duration`")
    );
    let typo = serde_json::from_value::<LoadSpec>(json!({"executor": "constant-users", "user": 3}));
    assert!(
        typo.unwrap_err()
            .to_string()
            .contains("unknown field `user`")
    );
    let bad_span = serde_json::from_value::<LoadSpec>(
        json!({"executor": "constant-users", "duration": "soon"}),
    );
    assert!(bad_span.unwrap_err().to_string().contains("not a duration"));
}
