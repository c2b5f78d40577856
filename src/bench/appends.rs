//! Event appends per second through the group-commit writer, per backend.

use std::time::Instant;

use actors::store::{AppendRequest, EventStore, ExpectedVersion, NewEvent};
use serde_json::json;
use uuid::Uuid;

use super::support::cpu_seconds;

pub async fn bench_appends(label: &str, url: &str, events: usize) -> anyhow::Result<()> {
    let store = EventStore::connect(url).await?;
    let appender = store.batching(1024);
    let writers = 500usize;
    let per_writer = events.div_ceil(writers);
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let tasks = (0..writers).map(|_| {
        let appender = appender.clone();
        tokio::spawn(async move {
            let stream_id = format!("bench-{}", Uuid::now_v7());
            for version in 0..per_writer as i64 {
                let event = NewEvent {
                    event_id: Uuid::now_v7(),
                    event_type: "BenchEvent".into(),
                    payload: json!({"n": version, "text": "x".repeat(200)}),
                    metadata: json!({}),
                };
                let expected = if version == 0 {
                    ExpectedVersion::NoStream
                } else {
                    ExpectedVersion::Exact(version)
                };
                appender
                    .append(AppendRequest {
                        stream_id: stream_id.clone(),
                        expected,
                        events: vec![event],
                    })
                    .await?;
            }
            Ok::<_, actors::store::AppendError>(())
        })
    });
    for result in futures_util::future::join_all(tasks).await {
        result??;
    }
    let secs = started.elapsed().as_secs_f64();
    let total = writers * per_writer;
    println!(
        "appends  {label:<9} {total:>8} events, {writers} concurrent writers, 1 event/append: {:>9.0} events/s, CPU {:.1} µs/event",
        total as f64 / secs,
        (cpu_seconds() - cpu) * 1e6 / total as f64
    );
    Ok(())
}
