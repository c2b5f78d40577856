//! The exported row: one exchange attempt of a session with its session's ids, declared once
//! (name, column name, kind) and turned into the struct, the polars schema, a DataFrame chunk and
//! back. Column names are the API's JSON field names, so NDJSON lines and the message list agree.

use polars::prelude::{
    Column, DataFrame, DataType, Field, IntoColumn, NamedFrom, PolarsResult, Schema, Series,
};
use serde::{Deserialize, Serialize};

use crate::format::ExportError;

macro_rules! kind_ty {
    (Str) => { String };
    (OptStr) => { Option<String> };
    (Int) => { i64 };
    (OptInt) => { Option<i64> };
    (OptFloat) => { Option<f64> };
    (OptBool) => { Option<bool> };
}

macro_rules! kind_dtype {
    (Str) => {
        DataType::String
    };
    (OptStr) => {
        DataType::String
    };
    (Int) => {
        DataType::Int64
    };
    (OptInt) => {
        DataType::Int64
    };
    (OptFloat) => {
        DataType::Float64
    };
    (OptBool) => {
        DataType::Boolean
    };
}

/// A column's values of a chunk, borrowed from the rows.
macro_rules! kind_series {
    (Str, $rows:ident, $f:ident, $name:literal) => {
        Series::new(
            $name.into(),
            $rows.iter().map(|r| r.$f.as_str()).collect::<Vec<_>>(),
        )
    };
    (OptStr, $rows:ident, $f:ident, $name:literal) => {
        Series::new(
            $name.into(),
            $rows.iter().map(|r| r.$f.as_deref()).collect::<Vec<_>>(),
        )
    };
    ($other:ident, $rows:ident, $f:ident, $name:literal) => {
        Series::new($name.into(), $rows.iter().map(|r| r.$f).collect::<Vec<_>>())
    };
}

/// A column of a frame as the row field's type.
macro_rules! kind_read {
    (Str, $df:ident, $name:literal) => {
        $df.column($name)?
            .str()?
            .iter()
            .map(|v| {
                v.map(str::to_string)
                    .ok_or_else(|| ExportError::Column($name, "null in a required column".into()))
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    (OptStr, $df:ident, $name:literal) => {
        $df.column($name)?
            .str()?
            .iter()
            .map(|v| v.map(str::to_string))
            .collect::<Vec<_>>()
    };
    (Int, $df:ident, $name:literal) => {
        $df.column($name)?
            .i64()?
            .iter()
            .map(|v| {
                v.ok_or_else(|| ExportError::Column($name, "null in a required column".into()))
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    (OptInt, $df:ident, $name:literal) => {
        $df.column($name)?.i64()?.iter().collect::<Vec<_>>()
    };
    (OptFloat, $df:ident, $name:literal) => {
        $df.column($name)?.f64()?.iter().collect::<Vec<_>>()
    };
    (OptBool, $df:ident, $name:literal) => {
        $df.column($name)?.bool()?.iter().collect::<Vec<_>>()
    };
}

macro_rules! exchange_row {
    ($( $(#[doc = $doc:literal])* $field:ident : $kind:ident = $name:literal ),* $(,)?) => {
        /// One exchange attempt (a retried exchange has one row per attempt, `attempt` 1, 2, …).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct ExchangeRow {
            $( $(#[doc = $doc])* #[serde(rename = $name)] pub $field: kind_ty!($kind), )*
        }

        /// The column names, in file order.
        pub const COLUMNS: &[&str] = &[$($name),*];

        /// The polars schema of an export.
        pub(crate) fn schema() -> Schema {
            Schema::from_iter([$( Field::new($name.into(), kind_dtype!($kind)) ),*])
        }

        /// One chunk of rows as a DataFrame (one Parquet row group, one CSV batch).
        pub(crate) fn to_frame(rows: &[ExchangeRow]) -> PolarsResult<DataFrame> {
            let columns: Vec<Column> =
                vec![$( kind_series!($kind, rows, $field, $name).into_column() ),*];
            DataFrame::new(rows.len(), columns)
        }

        /// Rows of a frame read back from a file.
        pub(crate) fn from_frame(df: &DataFrame) -> Result<Vec<ExchangeRow>, ExportError> {
            $( let mut $field = kind_read!($kind, df, $name).into_iter(); )*
            let mut rows = Vec::with_capacity(df.height());
            for _ in 0..df.height() {
                rows.push(ExchangeRow {
                    $( $field: $field
                        .next()
                        .ok_or_else(|| ExportError::Column($name, "short column".into()))?, )*
                });
            }
            Ok(rows)
        }
    };
}

exchange_row! {
    session_id: Str = "sessionId",
    target_id: Str = "targetId",
    target_name: Str = "targetName",
    scenario_id: OptStr = "scenarioId",
    scenario_name: Str = "scenarioName",
    /// Order of the exchange in the session (shared by all its conversations).
    message_index: Int = "messageIndex",
    /// 1 for the first attempt; retries count up.
    attempt: Int = "attempt",
    /// The conversation (repetition) the exchange belongs to.
    repetition_index: Int = "repetitionIndex",
    request: Str = "request",
    response: OptStr = "response",
    outcome: Str = "outcome",
    http_status: OptInt = "httpStatus",
    latency_ms: OptInt = "latencyMs",
    ttft_ms: OptInt = "ttftMs",
    chunk_count: OptInt = "chunkCount",
    inter_chunk_mean_ms: OptInt = "interChunkMeanMs",
    inter_chunk_max_ms: OptInt = "interChunkMaxMs",
    tokens_in: OptInt = "tokensIn",
    tokens_out: OptInt = "tokensOut",
    tokens_estimated: OptBool = "tokensEstimated",
    raw_size: OptInt = "rawSize",
    cost: OptFloat = "cost",
    repetition_score: OptFloat = "repetitionScore",
    quality_score: OptFloat = "qualityScore",
    error_kind: OptStr = "errorKind",
    error: OptStr = "error",
    action: OptStr = "action",
    injected: OptStr = "injected",
    partial: OptStr = "partial",
    context_messages: OptInt = "contextMessages",
    context_tokens: OptInt = "contextTokens",
    wait_ms: OptInt = "waitMs",
    sent_at: Str = "sentAt",
    received_at: OptStr = "receivedAt",
}
