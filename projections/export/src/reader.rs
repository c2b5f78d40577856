//! Reads an export back into rows (tests, tools): CSV with the export's schema, Parquet with
//! polars' reader, NDJSON line by line.

use std::io::Cursor;
use std::sync::Arc;

use polars::prelude::{CsvReadOptions, ParquetReader, SerReader};

use crate::format::{ExportError, ExportFormat};
use crate::row::{ExchangeRow, from_frame, schema};

/// Every row of an export held in memory (meant for tests and small files).
pub fn read_rows(format: ExportFormat, bytes: &[u8]) -> Result<Vec<ExchangeRow>, ExportError> {
    let cursor = Cursor::new(bytes.to_vec());
    match format {
        ExportFormat::Csv => {
            let df = CsvReadOptions::default()
                .with_has_header(true)
                .with_schema(Some(Arc::new(schema())))
                .into_reader_with_file_handle(cursor)
                .finish()?;
            from_frame(&df)
        }
        ExportFormat::Parquet => from_frame(&ParquetReader::new(cursor).finish()?),
        ExportFormat::Ndjson => bytes
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| serde_json::from_slice(line).map_err(ExportError::from))
            .collect(),
    }
}
