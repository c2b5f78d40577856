//! Exports of exchange rows (CSV, NDJSON, Parquet via the `export` crate) shared by the HTTP
//! routes and `krawall export`: what to export, reading it in pages, writing it in chunks.

mod pipeline;
mod rows;

pub use pipeline::{ChannelWriter, export_blocking, file_name};
pub use rows::{CHUNK_ROWS, ExportScope, exchange_row, produce};
