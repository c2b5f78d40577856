//! Exchange-row exports: one row per exchange attempt, written as CSV, NDJSON or Parquet in
//! chunks (bounded memory), and read back for tests and tools. The only crate that links polars.

mod format;
mod reader;
mod row;
mod writer;

pub use format::{ExportError, ExportFormat};
pub use reader::read_rows;
pub use row::{COLUMNS, ExchangeRow};
pub use writer::ExportWriter;

#[cfg(test)]
mod tests;
