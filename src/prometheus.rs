//! Prometheus metrics of a node: a task follows the event log from the head and counts
//! exchanges, latency and TTFT histograms, tokens and cost per target (prometheus-client);
//! the families of [`SCRAPED`] (sessions by status, event-log head, read-model lag, append
//! latency, nodes and leases) are read when scraped and written by [`ScrapeText`].
//! `.ci/check_infra.py` reads the `register` calls and [`SCRAPED`] of this file to check that
//! every metric the Grafana dashboard (`infra/grafana/`) queries exists.

use std::collections::HashMap;
use std::fmt::{Display, Write as _};
use std::sync::{Arc, Mutex};

use actors::domain::events::DomainEvent;
use actors::domain::scenario::ErrorAction;
use actors::runtime::{NodeRole, NodeRow};
use actors::store::{APPEND_BUCKETS, AppendLatency, EventStore};
use futures_util::StreamExt;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use uuid::Uuid;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabel {
    target: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    target: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    target: String,
    direction: String,
}

fn latency_histogram() -> Histogram {
    // 10 ms … ~82 s.
    Histogram::new(exponential_buckets(0.01, 2.0, 14))
}

/// The counters and histograms fed from the event log.
pub struct ExchangeMetrics {
    registry: Registry,
    exchanges: Family<OutcomeLabels, Counter>,
    retries: Family<TargetLabel, Counter>,
    latency: Family<TargetLabel, Histogram, fn() -> Histogram>,
    ttft: Family<TargetLabel, Histogram, fn() -> Histogram>,
    tokens: Family<TokenLabels, Counter>,
    cost: Family<TargetLabel, Counter<f64, std::sync::atomic::AtomicU64>>,
    /// Session → target name, learned from `SessionQueued` (or the read model for older ones).
    targets: Mutex<HashMap<Uuid, String>>,
}

impl ExchangeMetrics {
    pub fn new() -> Arc<Self> {
        let mut m = Self {
            exchanges: Family::default(),
            retries: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            ttft: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            tokens: Family::default(),
            cost: Family::default(),
            targets: Mutex::new(HashMap::new()),
            registry: Registry::with_prefix("krawall"),
        };
        let r = &mut m.registry;
        r.register(
            "exchanges",
            "Exchanges by target and outcome (ok, error); retried attempts are not counted",
            m.exchanges.clone(),
        );
        r.register(
            "retries",
            "Failed attempts that were retried",
            m.retries.clone(),
        );
        r.register(
            "exchange_latency_seconds",
            "Latency of successful exchanges",
            m.latency.clone(),
        );
        r.register(
            "ttft_seconds",
            "Time to first token of streamed replies",
            m.ttft.clone(),
        );
        r.register("tokens", "Tokens by direction (in, out)", m.tokens.clone());
        r.register(
            "cost",
            "Cost of replies at the sessions' model prices",
            m.cost.clone(),
        );
        Arc::new(m)
    }

    /// The metrics in the Prometheus text format, followed by `extra` lines (gauges).
    pub fn encode(&self, extra: &str) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode_registry(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out.push_str(extra);
        out.push_str("# EOF\n");
        out
    }

    fn remember(&self, session: Uuid, target: String) {
        if let Ok(mut targets) = self.targets.lock() {
            targets.insert(session, target);
        }
    }

    fn forget(&self, session: Uuid) {
        if let Ok(mut targets) = self.targets.lock() {
            targets.remove(&session);
        }
    }

    fn target_of(&self, session: Uuid) -> Option<String> {
        self.targets.lock().ok()?.get(&session).cloned()
    }

    fn observe(&self, event: &DomainEvent, target: &str) {
        let t = || TargetLabel {
            target: target.to_string(),
        };
        match event {
            DomainEvent::ResponseReceived(r) => {
                let ok = OutcomeLabels {
                    target: target.to_string(),
                    outcome: "ok".into(),
                };
                self.exchanges.get_or_create(&ok).inc();
                self.latency
                    .get_or_create(&t())
                    .observe(r.latency_ms as f64 / 1000.0);
                if let Some(s) = &r.stream {
                    self.ttft
                        .get_or_create(&t())
                        .observe(s.ttft_ms as f64 / 1000.0);
                }
                for (direction, n) in [("in", r.tokens.input), ("out", r.tokens.output)] {
                    let labels = TokenLabels {
                        target: target.to_string(),
                        direction: direction.into(),
                    };
                    self.tokens.get_or_create(&labels).inc_by(n.min(1 << 53));
                }
                if let Some(cost) = r.cost.filter(|c| c.is_finite() && *c >= 0.0) {
                    self.cost.get_or_create(&t()).inc_by(cost);
                }
            }
            DomainEvent::MessageFailed(f) if f.action == ErrorAction::Retry => {
                self.retries.get_or_create(&t()).inc();
            }
            DomainEvent::MessageFailed(_) => {
                let error = OutcomeLabels {
                    target: target.to_string(),
                    outcome: "error".into(),
                };
                self.exchanges.get_or_create(&error).inc();
            }
            _ => {}
        }
    }
}

fn session_of(event: &DomainEvent) -> Option<Uuid> {
    match event {
        DomainEvent::ResponseReceived(r) => Some(r.exchange.session_id),
        DomainEvent::MessageFailed(f) => Some(f.exchange.session_id),
        _ => None,
    }
}

/// Follows the log from its head and feeds `metrics` until the store's subscription ends.
pub async fn follow(store: EventStore, metrics: Arc<ExchangeMetrics>) {
    let head = store.head_position().await.unwrap_or(0);
    let mut events = std::pin::pin!(store.subscribe(head));
    while let Some(Ok(recorded)) = events.next().await {
        let Ok(event) = DomainEvent::from_parts(&recorded.event_type, &recorded.payload) else {
            continue;
        };
        match &event {
            DomainEvent::SessionQueued(q) => {
                metrics.remember(q.session_id, q.target.spec.name.clone());
                continue;
            }
            DomainEvent::SessionCompleted(_)
            | DomainEvent::SessionFailed(_)
            | DomainEvent::SessionCancelled(_) => {
                if let Some(id) = recorded
                    .stream_id
                    .strip_prefix("session-")
                    .and_then(|s| s.parse().ok())
                {
                    metrics.forget(id);
                }
                continue;
            }
            _ => {}
        }
        let Some(session) = session_of(&event) else {
            continue;
        };
        let target = match metrics.target_of(session) {
            Some(t) => t,
            None => {
                let name = target_from_read_model(&store, session).await;
                metrics.remember(session, name.clone());
                name
            }
        };
        metrics.observe(&event, &target);
    }
}

/// The target name of a session queued before this node started following the log.
async fn target_from_read_model(store: &EventStore, session: Uuid) -> String {
    let name: Option<String> = sqlx::query_scalar("SELECT target_name FROM sessions WHERE id = $1")
        .bind(session.to_string())
        .fetch_optional(store.pool())
        .await
        .ok()
        .flatten();
    name.unwrap_or_else(|| "unknown".into())
}

/// Families written at scrape time: name, OpenMetrics type, help.
pub const SCRAPED: &[(&str, &str, &str)] = &[
    ("krawall_sessions", "gauge", "Sessions by status"),
    (
        "krawall_event_log_head",
        "gauge",
        "Position of the newest event",
    ),
    (
        "krawall_read_model_lag_events",
        "gauge",
        "Events not yet in the read models",
    ),
    (
        "krawall_store_append_seconds",
        "histogram",
        "Duration of this node's group commits (one transaction of up to 512 appends)",
    ),
    (
        "krawall_nodes",
        "gauge",
        "Nodes on the database with a live heartbeat, by role",
    ),
    (
        "krawall_node_leases",
        "gauge",
        "Unexpired session leases held per node",
    ),
    (
        "krawall_node_running_sessions",
        "gauge",
        "Sessions running per node at its last heartbeat",
    ),
];

/// The OpenMetrics text of the [`SCRAPED`] families.
#[derive(Debug, Default)]
pub struct ScrapeText(String);

impl ScrapeText {
    /// `# HELP` and `# TYPE` of one family of [`SCRAPED`] (unknown names write nothing).
    pub fn family(&mut self, name: &str) {
        if let Some((_, kind, help)) = SCRAPED.iter().find(|f| f.0 == name) {
            let _ = write!(self.0, "# HELP {name} {help}.\n# TYPE {name} {kind}\n");
        }
    }

    /// One sample; label values are escaped.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            let pairs: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = write!(self.0, "{{{}}}", pairs.join(","));
        }
        let _ = writeln!(self.0, " {value}");
    }

    /// `krawall_store_append_seconds` from the store's histogram.
    pub fn append_latency(&mut self, latency: &AppendLatency) {
        const NAME: &str = "krawall_store_append_seconds";
        self.family(NAME);
        let bounds = APPEND_BUCKETS.iter().map(f64::to_string);
        for (le, n) in bounds.chain(["+Inf".to_string()]).zip(&latency.cumulative) {
            self.sample(&format!("{NAME}_bucket"), &[("le", &le)], n);
        }
        self.sample(&format!("{NAME}_sum"), &[], latency.sum_seconds);
        self.sample(&format!("{NAME}_count"), &[], latency.count);
    }

    /// Live nodes by role (every role, 0 included), then leases and running sessions per node.
    pub fn nodes(&mut self, nodes: &[NodeRow]) {
        let live: Vec<&NodeRow> = nodes.iter().filter(|n| !n.stale).collect();
        self.family("krawall_nodes");
        for role in [NodeRole::Serve, NodeRole::ServeNoDispatch, NodeRole::Worker] {
            let n = live.iter().filter(|n| n.role == role).count();
            self.sample("krawall_nodes", &[("role", role.as_str())], n);
        }
        for (name, value) in [
            (
                "krawall_node_leases",
                (|n: &NodeRow| n.leases) as fn(&NodeRow) -> i64,
            ),
            ("krawall_node_running_sessions", |n: &NodeRow| n.running),
        ] {
            self.family(name);
            for n in &live {
                let labels = [("node", n.node_id.as_str()), ("role", n.role.as_str())];
                self.sample(name, &labels, value(n));
            }
        }
    }

    pub fn finish(self) -> String {
        self.0
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
