//! One conversation at a time on one connector: interprets the flow steps, keeping the
//! conversation's role-structured history, last reply and extracted variables. Each
//! conversation starts fresh; only whole exchanges (a message and its reply) enter the history.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use serde_json::Value;

use crate::connectors::paths::read_path;
use crate::connectors::{Connector, Reply};
use crate::domain::conversation::{ChatTurn, Context, Role, estimate_tokens, select_context};
use crate::domain::events::ExchangeRef;
use crate::domain::repetition::ReplyWindow;
use crate::domain::scenario::{ScenarioSpec, Step, StepKind};
use crate::domain::template::{TemplateCache, TemplateContext, apply_verbosity};

use super::exchange::{Exchange, ExchangeResult, pause, run_exchange};
use super::runner::{Shared, Stop};

/// Turns kept per conversation; the oldest exchange is dropped beyond this (memory guard).
const MAX_HISTORY: usize = 1000;

/// Per-conversation state on one connector.
pub struct Lane<'a> {
    pub shared: &'a Shared,
    pub scenario: &'a ScenarioSpec,
    pub connector: Box<dyn Connector>,
    system: Option<Arc<str>>,
    conversation_id: String,
    repetition: u32,
    history: Vec<ChatTurn>,
    last_json: Value,
    extracted: BTreeMap<String, String>,
    /// This conversation's earlier replies (repetition score).
    replies: ReplyWindow,
    sent_any: bool,
    /// When the next exchange is due (open model: the conversation's scheduled start).
    due: Option<Instant>,
    /// The scenario's templates, parsed on first use.
    templates: TemplateCache,
}

impl<'a> Lane<'a> {
    pub fn new(
        shared: &'a Shared,
        scenario: &'a ScenarioSpec,
        connector: Box<dyn Connector>,
    ) -> Self {
        Self {
            shared,
            scenario,
            connector,
            system: scenario.system_prompt.as_deref().map(Arc::from),
            conversation_id: String::new(),
            repetition: 0,
            history: Vec::new(),
            last_json: Value::Null,
            extracted: BTreeMap::new(),
            replies: ReplyWindow::default(),
            sent_any: false,
            due: None,
            templates: TemplateCache::default(),
        }
    }

    /// Runs the whole flow as conversation number `repetition`, from a fresh state.
    pub async fn run_conversation(
        &mut self,
        repetition: u32,
        due: Option<Instant>,
    ) -> Result<(), Stop> {
        self.repetition = repetition;
        self.conversation_id = format!("{}-{repetition}", self.shared.session_id);
        self.history.clear();
        self.last_json = Value::Null;
        self.extracted.clear();
        self.replies = ReplyWindow::default();
        self.sent_any = false;
        self.due = due;
        let steps = &self.scenario.flow_config;
        self.run_steps(steps).await
    }

    pub async fn disconnect(&mut self) {
        self.connector.disconnect().await;
    }

    fn run_steps<'s>(&'s mut self, steps: &'s [Step]) -> BoxFuture<'s, Result<(), Stop>> {
        Box::pin(async move {
            for step in steps {
                // Zero delays and empty branches never await: yield so a busy flow shares its
                // thread and a cancel (delivered on the same arbiter) reaches it.
                tokio::task::yield_now().await;
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
            .find(|t| t.role == Role::Assistant)
            .map(|t| t.content.to_string())
            .unwrap_or_default()
    }

    /// The context the request carries: `None` when the target does not place history or the
    /// policy sends none; the size is recorded either way.
    fn context(&self, text: &str) -> (Option<Context>, u32, u64) {
        if !self.shared.places_history {
            return (None, 1, estimate_tokens(text));
        }
        let ctx = select_context(
            self.scenario.history,
            self.system.as_ref(),
            &self.history,
            text,
        );
        let carries = self.shared.places_history && ctx.message_count > 1;
        if carries {
            let (count, tokens) = (ctx.message_count, ctx.estimated_tokens);
            (Some(ctx), count, tokens)
        } else {
            (None, 1, estimate_tokens(text))
        }
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
        let rendered = self
            .templates
            .render(template, &ctx)
            .map_err(|e| Stop::Aborted(e.to_string()))?;
        let text = apply_verbosity(rendered, self.scenario.verbosity_level);
        let (context, context_messages, context_tokens) = self.context(&text);
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
            context,
            context_messages,
            context_tokens,
            due: self.due.take().unwrap_or_else(Instant::now),
            replies: &mut self.replies,
        };
        let result = run_exchange(self.shared, self.connector.as_mut(), exchange).await?;
        if let ExchangeResult::Replied(reply) = result {
            self.absorb(text, reply);
        }
        Ok(())
    }

    fn absorb(&mut self, sent: String, reply: Reply) {
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
        self.history.push(ChatTurn::new(Role::User, sent));
        self.history
            .push(ChatTurn::new(Role::Assistant, reply.text));
        self.last_json = reply.json;
        if self.history.len() > MAX_HISTORY {
            let excess = self.history.len() - MAX_HISTORY;
            self.history.drain(..excess + excess % 2);
        }
    }
}
