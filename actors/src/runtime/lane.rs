//! One conversation (lane) of a session: interprets the flow steps for its repetitions, keeping
//! the conversation's history, last reply and extracted variables.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::Value;

use crate::connectors::paths::read_path;
use crate::connectors::{Connector, Reply};
use crate::domain::events::ExchangeRef;
use crate::domain::scenario::{ScenarioSpec, Step, StepKind};
use crate::domain::template::{TemplateContext, Turn, apply_verbosity, render};

use super::exchange::{Exchange, ExchangeResult, pause, run_exchange};
use super::runner::{Shared, Stop};

/// Turns of history kept per conversation (for `{{history}}`); older turns are dropped.
const MAX_HISTORY: usize = 200;

/// Per-conversation state.
pub struct Lane<'a> {
    pub shared: &'a Shared,
    pub scenario: &'a ScenarioSpec,
    pub connector: Box<dyn Connector>,
    pub conversation_id: String,
    pub repetition: u32,
    pub history: Vec<Turn>,
    pub last_json: Value,
    pub extracted: BTreeMap<String, String>,
    pub sent_any: bool,
}

impl Lane<'_> {
    /// Runs the whole flow once for the current repetition.
    pub async fn run_repetition(&mut self, repetition: u32) -> Result<(), Stop> {
        self.repetition = repetition;
        let steps = &self.scenario.flow_config;
        self.run_steps(steps).await
    }

    fn run_steps<'s>(&'s mut self, steps: &'s [Step]) -> BoxFuture<'s, Result<(), Stop>> {
        Box::pin(async move {
            for step in steps {
                if self.shared.cancel.is_cancelled() {
                    return Err(Stop::Cancelled);
                }
                match &step.kind {
                    StepKind::Message(m) => self.message(&m.content, m.inject.clone()).await?,
                    StepKind::Delay(d) => pause(&self.shared.cancel, d.duration_ms).await?,
                    StepKind::Loop(l) => {
                        for _ in 0..l.iterations {
                            self.run_steps(&l.steps).await?;
                        }
                    }
                    StepKind::Conditional(c) => {
                        let last = self.last_reply_text();
                        let taken = c.condition.evaluate(&last, &self.last_json, |v, p| {
                            read_path(v, p).ok().flatten()
                        });
                        self.run_steps(if taken { &c.then_steps } else { &c.else_steps })
                            .await?;
                    }
                }
            }
            Ok(())
        })
    }

    fn last_reply_text(&self) -> String {
        self.history
            .iter()
            .rev()
            .find(|t| t.role == "assistant")
            .map(|t| t.content.clone())
            .unwrap_or_default()
    }

    async fn message(&mut self, template: &str, inject: Option<String>) -> Result<(), Stop> {
        if self.sent_any {
            pause(&self.shared.cancel, self.scenario.delay_between_ms).await?;
        }
        self.sent_any = true;
        let index = self.shared.next_index.fetch_add(1, Ordering::Relaxed);
        let ctx = TemplateContext {
            message_index: index,
            repetition_index: self.repetition,
            session_id: self.shared.session_id,
            conversation_id: &self.conversation_id,
            timestamp: chrono::Utc::now().to_rfc3339(),
            history: &self.history,
            extracted: &self.extracted,
            custom: &self.scenario.message_templates,
        };
        let rendered = render(template, &ctx).map_err(|e| Stop::Aborted(e.to_string()))?;
        let text = apply_verbosity(rendered, self.scenario.verbosity_level);
        let exchange = Exchange {
            exchange: ExchangeRef {
                session_id: self.shared.session_id,
                message_index: index,
                repetition_index: self.repetition,
                attempt: 0,
            },
            text: text.clone(),
            inject,
            timeout: Duration::from_millis(self.scenario.message_timeout_ms),
            policy: &self.scenario.error_handling,
        };
        let result = run_exchange(self.shared, self.connector.as_mut(), exchange).await?;
        self.history.push(Turn {
            role: "user",
            content: text,
        });
        self.trim_history();
        if let ExchangeResult::Replied(reply) = result {
            self.absorb(reply);
        }
        Ok(())
    }

    fn absorb(&mut self, reply: Reply) {
        for (name, path) in &self.scenario.variable_extractors {
            if let Ok(Some(value)) = read_path(&reply.json, path) {
                let text = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_string);
                if name == "conversationId" {
                    self.conversation_id = text.clone();
                }
                self.extracted.insert(name.clone(), text);
            }
        }
        self.history.push(Turn {
            role: "assistant",
            content: reply.text,
        });
        self.last_json = reply.json;
        self.trim_history();
    }

    fn trim_history(&mut self) {
        if self.history.len() > MAX_HISTORY {
            let excess = self.history.len() - MAX_HISTORY;
            self.history.drain(..excess);
        }
    }
}
