//! `ExportWriter`: rows in, a file out, one chunk at a time. CSV and Parquet go through polars'
//! batched writers (a Parquet row group per chunk, the footer at `finish`); NDJSON is one
//! `serde_json` line per row. Memory is bounded by the chunk the caller passes.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

use polars::io::csv::write::BatchedWriter as CsvBatches;
use polars::io::parquet::write::BatchedWriter as ParquetBatches;
use polars::prelude::{CsvWriter, ParquetCompression, ParquetWriter, SerWriter};

use crate::format::{ExportError, ExportFormat};
use crate::row::{ExchangeRow, schema, to_frame};

/// The caller's `W`, shared with polars' writer so `finish` can take it back and flush it.
struct Sink<W>(Arc<Mutex<W>>);

impl<W: Write> Write for Sink<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write(data)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flush()
    }
}

enum Inner<W: Write> {
    Csv(CsvBatches<Sink<W>>),
    Ndjson(Sink<W>),
    /// Boxed: the batched Parquet writer is several hundred bytes.
    Parquet(Box<ParquetBatches<Sink<W>>>),
}

/// Writes an export chunk by chunk into `W`.
pub struct ExportWriter<W: Write> {
    inner: Inner<W>,
    out: Arc<Mutex<W>>,
    rows: u64,
}

impl<W: Write> ExportWriter<W> {
    /// Starts an export; nothing is written until the first chunk (CSV writes its header then).
    pub fn new(format: ExportFormat, out: W) -> Result<Self, ExportError> {
        let shared = Arc::new(Mutex::new(out));
        let out = Sink(shared.clone());
        let inner = match format {
            ExportFormat::Csv => Inner::Csv(CsvWriter::new(out).batched(&schema())?),
            ExportFormat::Ndjson => Inner::Ndjson(out),
            ExportFormat::Parquet => Inner::Parquet(Box::new(
                ParquetWriter::new(out)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(&schema())?,
            )),
        };
        Ok(Self {
            inner,
            out: shared,
            rows: 0,
        })
    }

    /// Writes one chunk (for Parquet: one row group). Empty chunks write nothing.
    pub fn write_chunk(&mut self, rows: &[ExchangeRow]) -> Result<(), ExportError> {
        if rows.is_empty() {
            return Ok(());
        }
        match &mut self.inner {
            Inner::Csv(w) => w.write_batch(&to_frame(rows)?)?,
            Inner::Parquet(w) => w.write_batch(&to_frame(rows)?)?,
            Inner::Ndjson(w) => {
                for row in rows {
                    serde_json::to_writer(&mut *w, row)?;
                    w.write_all(b"\n")?;
                }
            }
        }
        self.rows += rows.len() as u64;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Ends the file (CSV header if no row came, Parquet footer), flushes `W` and returns it
    /// with the number of rows written.
    pub fn finish(self) -> Result<(W, u64), ExportError> {
        match self.inner {
            Inner::Csv(mut w) => w.finish()?,
            Inner::Parquet(w) => {
                w.finish()?;
            }
            Inner::Ndjson(w) => drop(w),
        }
        let out = Arc::try_unwrap(self.out)
            .map_err(|_| io::Error::other("the export's writer is still shared"))?;
        let mut out = out.into_inner().unwrap_or_else(PoisonError::into_inner);
        out.flush()?;
        Ok((out, self.rows))
    }
}
