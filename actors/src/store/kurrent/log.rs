//! [`KurrentLog`]: the client, the stream-name prefix, and the reads (`$all` pages, streams,
//! a stream's end, events of given types, the head).

use kurrentdb::{
    Client, ClientSettings, Position, ReadAllOptions, ReadStream, ReadStreamOptions, ResolvedEvent,
    StreamPosition, SubscriptionFilter,
};
use serde_json::Value;

use crate::store::{RecordedEvent, StoreError};

/// A KurrentDB connection and the prefix that namespaces this node's streams.
pub(crate) struct KurrentLog {
    pub(super) client: Client,
    prefix: String,
}

impl KurrentLog {
    /// Parses `url` (`kurrentdb://`, `kurrentdb+discover://`, `esdb://`…) and builds the client
    /// (it connects on first use). Must be called inside a Tokio runtime.
    pub(crate) fn connect(url: &str, prefix: &str, shown: String) -> Result<Self, StoreError> {
        let settings: ClientSettings = url
            .parse()
            .map_err(|_| StoreError::KurrentSetup(shown.clone()))?;
        let client = Client::new(settings).map_err(|_| StoreError::KurrentSetup(shown))?;
        Ok(Self {
            client,
            prefix: prefix.to_owned(),
        })
    }

    /// The KurrentDB stream of a port stream.
    pub(super) fn name(&self, stream_id: &str) -> String {
        format!("{}{stream_id}", self.prefix)
    }

    /// The server-side filter of this node's streams (system streams excluded).
    pub(super) fn filter(&self) -> SubscriptionFilter {
        let filter = SubscriptionFilter::on_stream_name();
        if self.prefix.is_empty() {
            filter.exclude_system_events()
        } else {
            filter.add_prefix(&self.prefix)
        }
    }

    /// The port's view of a read event; `None` for a link, a deleted event or another prefix.
    pub(super) fn decode(
        &self,
        resolved: &ResolvedEvent,
    ) -> Result<Option<RecordedEvent>, StoreError> {
        let Some(e) = &resolved.event else {
            return Ok(None);
        };
        let Some(stream_id) = e.stream_id().strip_prefix(&self.prefix) else {
            return Ok(None);
        };
        let metadata = match e.custom_metadata.is_empty() {
            true => Value::Null,
            false => serde_json::from_slice(&e.custom_metadata)?,
        };
        Ok(Some(RecordedEvent {
            position: position(e.position.commit)?,
            stream_id: stream_id.to_owned(),
            version: i64::try_from(e.revision).map_err(|_| StoreError::KurrentPosition)? + 1,
            event_id: e.id,
            event_type: e.event_type.clone(),
            payload: serde_json::from_slice(&e.data)?,
            metadata,
            recorded_at_ms: e.created.timestamp_millis(),
        }))
    }

    /// Decodes up to `limit` events of a read, keeping those `keep` accepts.
    async fn collect(
        &self,
        mut read: ReadStream,
        limit: usize,
        keep: impl Fn(&RecordedEvent) -> bool,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut out = Vec::new();
        while out.len() < limit {
            let next = match read.next().await {
                Ok(next) => next,
                Err(kurrentdb::Error::ResourceNotFound) => None,
                Err(e) => return Err(e.into()),
            };
            let Some(resolved) = next else { break };
            if let Some(event) = self.decode(&resolved)?.filter(|e| keep(e)) {
                out.push(event);
            }
        }
        Ok(out)
    }

    /// Up to `limit` events with `position > after`, in `$all` order.
    pub(crate) async fn read_all(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let limit = usize::try_from(limit).unwrap_or(0);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let from = match u64::try_from(after) {
            Ok(p) if p > 0 => StreamPosition::Position(Position {
                commit: p,
                prepare: p,
            }),
            _ => StreamPosition::Start,
        };
        // A read from a position includes the event there: ask for one more, drop it.
        let options = ReadAllOptions::default()
            .position(from)
            .forwards()
            .filter(self.filter())
            .max_count(limit.saturating_add(1));
        let read = self.client.read_all(&options).await?;
        self.collect(read, limit, |e| e.position > after).await
    }

    /// The position of the newest event of this node's streams, 0 when there is none.
    pub(crate) async fn head(&self) -> Result<i64, StoreError> {
        let options = ReadAllOptions::default()
            .position(StreamPosition::End)
            .filter(self.filter())
            .max_count(1);
        let read = self.client.read_all(&options).await?;
        let newest = self.collect(read, 1, |_| true).await?;
        Ok(newest.first().map_or(0, |e| e.position))
    }

    /// Up to `limit` events of a stream with `version > after_version`, in version order.
    pub(crate) async fn read_stream_page(
        &self,
        stream_id: &str,
        after_version: i64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        // Version v is revision v - 1, so the first wanted revision is `after_version`.
        let from = u64::try_from(after_version).unwrap_or(0);
        let options = ReadStreamOptions::default()
            .forwards()
            .position(StreamPosition::Position(from))
            .max_count(limit);
        self.read_stream_with(stream_id, &options, limit).await
    }

    /// The first (`newest = false`) or last event of a stream.
    pub(crate) async fn stream_end(
        &self,
        stream_id: &str,
        newest: bool,
    ) -> Result<Option<RecordedEvent>, StoreError> {
        let at = if newest {
            StreamPosition::End
        } else {
            StreamPosition::Start
        };
        let options = ReadStreamOptions::default().position(at).max_count(1);
        Ok(self.read_stream_with(stream_id, &options, 1).await?.pop())
    }

    /// The newest `count` events of a stream, newest first (empty for a missing stream).
    pub(super) async fn tail(
        &self,
        stream_id: &str,
        count: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let options = ReadStreamOptions::default()
            .position(StreamPosition::End)
            .max_count(count);
        self.read_stream_with(stream_id, &options, count).await
    }

    async fn read_stream_with(
        &self,
        stream_id: &str,
        options: &ReadStreamOptions,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        match self.client.read_stream(self.name(stream_id), options).await {
            Ok(read) => self.collect(read, limit, |_| true).await,
            Err(kurrentdb::Error::ResourceNotFound) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every event whose type is one of `types` (static names from the code), in `$all` order.
    pub(crate) async fn read_types(
        &self,
        types: &[&str],
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let names: Vec<String> = types.iter().map(|t| regex::escape(t)).collect();
        let filter = SubscriptionFilter::on_event_type().regex(format!("^({})$", names.join("|")));
        let options = ReadAllOptions::default()
            .position(StreamPosition::Start)
            .filter(filter);
        let read = self.client.read_all(&options).await?;
        self.collect(read, usize::MAX, |e| types.contains(&e.event_type.as_str()))
            .await
    }
}

/// A commit position as the port's `i64` (`u64::MAX` means the server did not send one).
pub(super) fn position(commit: u64) -> Result<i64, StoreError> {
    i64::try_from(commit).map_err(|_| StoreError::KurrentPosition)
}
