//! The export formats (`csv`, `ndjson`, `parquet`), their media types and file extensions, and
//! the crate's error.

use std::fmt;
use std::str::FromStr;

/// A file format an export can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Ndjson,
    Parquet,
}

impl ExportFormat {
    /// Every format, in the order the API documents them.
    pub const ALL: [ExportFormat; 3] = [Self::Csv, Self::Ndjson, Self::Parquet];

    /// The name used in `?format=` and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Ndjson => "ndjson",
            Self::Parquet => "parquet",
        }
    }

    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Ndjson => "application/x-ndjson",
            Self::Parquet => "application/vnd.apache.parquet",
        }
    }

    /// The file extension (without the dot).
    pub fn extension(self) -> &'static str {
        self.as_str()
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExportFormat {
    type Err = ExportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ExportError::UnknownFormat(s.to_string()))
    }
}

/// What can go wrong while writing or reading an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("must be one of csv, ndjson, parquet, got {0:?}")]
    UnknownFormat(String),
    #[error("polars: {0}")]
    Polars(#[from] polars::prelude::PolarsError),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("column {0}: {1}")]
    Column(&'static str, String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_by_name_and_reject_others() {
        assert_eq!("CSV".parse::<ExportFormat>().ok(), Some(ExportFormat::Csv));
        assert_eq!(
            "parquet".parse::<ExportFormat>().ok(),
            Some(ExportFormat::Parquet)
        );
        let err = "xlsx".parse::<ExportFormat>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("must be one of csv, ndjson, parquet, got \"xlsx\"")
        );
    }
}
