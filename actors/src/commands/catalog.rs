//! Target and scenario commands: create, update, delete, each an event in the resource's stream.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::connectors::paths::{validate_read_path, validate_write_path};
use crate::connectors::validate_protocol_config;
use crate::domain::events::{
    DomainEvent, ScenarioSnapshot, TargetSnapshot, scenario_stream, target_stream,
};
use crate::domain::lifecycle::{
    Lifecycle, ResourceCommand, decide_scenario, decide_target, evolve,
};
use crate::domain::origin::check_secrets_follow_origin;
use crate::domain::scenario::{ScenarioSpec, Step, StepKind};
use crate::domain::sealed_headers::{SEALED_KEY, has_masked, split_protocol_secrets};
use crate::domain::target::{
    SealedAuth, TargetSpec, mask_auth_config, unmask_auth_config, validate_target,
};
use crate::domain::template::check_syntax;
use crate::domain::validation::{FieldError, Validator};

use super::stream::{append, load};
use super::{CommandError, Commands};

/// Folds a target stream into its lifecycle and latest snapshot.
pub(crate) fn fold_target(events: &[DomainEvent]) -> (Lifecycle, Option<TargetSnapshot>) {
    events
        .iter()
        .fold((Lifecycle::Absent, None), |(state, snap), e| {
            let snap = match e {
                DomainEvent::TargetCreated(s) | DomainEvent::TargetUpdated(s) => Some(s.clone()),
                _ => snap,
            };
            (evolve(state, e), snap)
        })
}

/// Folds a scenario stream into its lifecycle and latest snapshot.
pub(crate) fn fold_scenario(events: &[DomainEvent]) -> (Lifecycle, Option<ScenarioSnapshot>) {
    events
        .iter()
        .fold((Lifecycle::Absent, None), |(state, snap), e| {
            let snap = match e {
                DomainEvent::ScenarioCreated(s) | DomainEvent::ScenarioUpdated(s) => {
                    Some(s.clone())
                }
                _ => snap,
            };
            (evolve(state, e), snap)
        })
}

fn check_target(spec: &TargetSpec, auth_config: &Value) -> Result<(), CommandError> {
    let mut v = Validator::default();
    if let Err(errors) = validate_target(spec, auth_config) {
        v.extend(errors);
    }
    v.extend(validate_protocol_config(spec, auth_config));
    if let Err(e) = validate_write_path(&spec.request_template.message_path) {
        v.push("requestTemplate.messagePath", e.to_string());
    }
    let rt = &spec.response_template;
    let paths = [
        ("responseTemplate.responsePath", Some(&rt.response_path)),
        (
            "responseTemplate.tokenUsagePath",
            rt.token_usage_path.as_ref(),
        ),
        ("responseTemplate.errorPath", rt.error_path.as_ref()),
    ];
    for (field, path) in paths {
        if let Some(Err(e)) = path
            .filter(|p| !p.is_empty())
            .map(|p| validate_read_path(p))
        {
            v.push(field, e.to_string());
        }
    }
    v.finish().map_err(CommandError::Invalid)
}

fn check_templates(spec: &ScenarioSpec) -> Result<(), CommandError> {
    fn walk(v: &mut Validator, path: &str, steps: &[Step]) {
        for (i, s) in steps.iter().enumerate() {
            let here = format!("{path}[{i}].config");
            match &s.kind {
                StepKind::Message(m) => {
                    if let Err(e) = check_syntax(&m.content) {
                        v.push(format!("{here}.content"), e.to_string());
                    }
                }
                StepKind::Loop(l) => walk(v, &format!("{here}.steps"), &l.steps),
                StepKind::Conditional(c) => {
                    walk(v, &format!("{here}.thenSteps"), &c.then_steps);
                    walk(v, &format!("{here}.elseSteps"), &c.else_steps);
                }
                StepKind::Delay(_) => {}
            }
        }
    }
    let mut v = Validator::default();
    walk(&mut v, "flowConfig", &spec.flow_config);
    for (name, path) in &spec.variable_extractors {
        if let Err(e) = validate_read_path(path) {
            v.push(format!("variableExtractors.{name}"), e.to_string());
        }
    }
    v.finish().map_err(CommandError::Invalid)
}

impl Commands {
    /// Seals the auth config together with the protocol secrets (credential-like headers);
    /// the masked copy leaves the protocol secrets out (they show masked in `protocolConfig`).
    fn seal(
        &self,
        auth_config: &Value,
        protocol: Map<String, Value>,
    ) -> Result<SealedAuth, CommandError> {
        let masked = mask_auth_config(auth_config);
        let mut sealed = auth_config.clone();
        if !protocol.is_empty() {
            match &mut sealed {
                Value::Object(m) => {
                    m.insert(SEALED_KEY.into(), Value::Object(protocol));
                }
                other => *other = json!({ SEALED_KEY: protocol }),
            }
        }
        let empty = sealed.as_object().is_none_or(|m| m.is_empty());
        let ciphertext = if empty {
            None
        } else {
            Some(self.secrets.seal_json(&sealed)?)
        };
        Ok(SealedAuth { ciphertext, masked })
    }

    /// Creates a target; returns its id and the event's global position.
    pub async fn create_target(
        &self,
        spec: TargetSpec,
        auth_config: Value,
    ) -> Result<(Uuid, i64), CommandError> {
        self.create_target_from(spec, auth_config, None).await
    }

    /// Creates a target, remembering the preset it came from.
    pub async fn create_target_from(
        &self,
        spec: TargetSpec,
        auth_config: Value,
        preset_id: Option<String>,
    ) -> Result<(Uuid, i64), CommandError> {
        let mut spec = spec;
        let protocol = split_protocol_secrets(&mut spec.protocol_config);
        if has_masked(&protocol) {
            return Err(invalid(
                "protocolConfig.headers",
                "a masked value (********) needs a stored one; enter the value",
            ));
        }
        check_target(&spec, &auth_config)?;
        let id = Uuid::now_v7();
        let snapshot = TargetSnapshot {
            target_id: id,
            spec,
            auth: self.seal(&auth_config, protocol)?,
            preset_id,
        };
        let events = decide_target(Lifecycle::Absent, ResourceCommand::Create(snapshot))?;
        Ok((
            id,
            append(&self.store, &target_stream(id), 0, &events).await?,
        ))
    }

    /// Replaces a target. `auth_config` None keeps the stored secret; masked leaves keep theirs.
    pub async fn update_target(
        &self,
        id: Uuid,
        spec: TargetSpec,
        auth_config: Option<Value>,
    ) -> Result<i64, CommandError> {
        let (events, version) = load(&self.store, &target_stream(id)).await?;
        let (state, current) = fold_target(&events);
        let current = current
            .filter(|_| state == Lifecycle::Active)
            .ok_or(CommandError::NotFound("target"))?;
        let mut spec = spec;
        let protocol = split_protocol_secrets(&mut spec.protocol_config);
        let keeps_headers = has_masked(&protocol);
        check_secrets_follow_origin(
            &current.spec.endpoint,
            &spec.endpoint,
            current.auth.ciphertext.is_some(),
            auth_config.as_ref().filter(|_| !keeps_headers),
        )
        .map_err(|e| CommandError::Invalid(vec![e]))?;
        let mut stored = match &current.auth.ciphertext {
            Some(c) => self.secrets.open_json(c)?,
            None => Value::Object(Default::default()),
        };
        let stored_protocol = stored
            .as_object_mut()
            .and_then(|m| m.remove(SEALED_KEY))
            .unwrap_or_else(|| json!({}));
        let protocol = match unmask_auth_config(&Value::Object(protocol), &stored_protocol) {
            Value::Object(p) if !has_masked(&p) => p,
            _ => {
                return Err(invalid(
                    "protocolConfig.headers",
                    "a masked value (********) needs a stored one; enter the value",
                ));
            }
        };
        let auth_config =
            auth_config.map_or_else(|| stored.clone(), |new| unmask_auth_config(&new, &stored));
        check_target(&spec, &auth_config)?;
        let snapshot = TargetSnapshot {
            target_id: id,
            spec,
            auth: self.seal(&auth_config, protocol)?,
            preset_id: current.preset_id.clone(),
        };
        let events = decide_target(state, ResourceCommand::Update(snapshot))?;
        append(&self.store, &target_stream(id), version, &events).await
    }

    /// Deletes a target.
    pub async fn delete_target(&self, id: Uuid) -> Result<i64, CommandError> {
        let (events, version) = load(&self.store, &target_stream(id)).await?;
        let (state, _) = fold_target(&events);
        let events = decide_target(state, ResourceCommand::Delete(id))
            .map_err(|_| CommandError::NotFound("target"))?;
        append(&self.store, &target_stream(id), version, &events).await
    }

    /// Creates a scenario from an already parsed spec.
    pub async fn create_scenario(&self, spec: ScenarioSpec) -> Result<(Uuid, i64), CommandError> {
        check_templates(&spec)?;
        let id = Uuid::now_v7();
        let events = decide_scenario(
            Lifecycle::Absent,
            ResourceCommand::Create(ScenarioSnapshot {
                scenario_id: id,
                spec,
            }),
        )?;
        Ok((
            id,
            append(&self.store, &scenario_stream(id), 0, &events).await?,
        ))
    }

    /// Replaces a scenario.
    pub async fn update_scenario(&self, id: Uuid, spec: ScenarioSpec) -> Result<i64, CommandError> {
        check_templates(&spec)?;
        let (events, version) = load(&self.store, &scenario_stream(id)).await?;
        let (state, _) = fold_scenario(&events);
        let events = decide_scenario(
            state,
            ResourceCommand::Update(ScenarioSnapshot {
                scenario_id: id,
                spec,
            }),
        )
        .map_err(|_| CommandError::NotFound("scenario"))?;
        append(&self.store, &scenario_stream(id), version, &events).await
    }

    /// Deletes a scenario.
    pub async fn delete_scenario(&self, id: Uuid) -> Result<i64, CommandError> {
        let (events, version) = load(&self.store, &scenario_stream(id)).await?;
        let (state, _) = fold_scenario(&events);
        let events = decide_scenario(state, ResourceCommand::Delete(id))
            .map_err(|_| CommandError::NotFound("scenario"))?;
        append(&self.store, &scenario_stream(id), version, &events).await
    }
}

/// Field error helper for callers that parse input themselves.
pub fn invalid(field: &str, rule: &str) -> CommandError {
    CommandError::Invalid(vec![FieldError {
        field: field.into(),
        rule: rule.into(),
    }])
}
