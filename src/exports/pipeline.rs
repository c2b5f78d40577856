//! Writing an export: a blocking writer (polars encodes on this thread, off the async runtime)
//! drains the producer's chunks into any `Write`: a file, stdout, or [`ChannelWriter`], which
//! hands the bytes to a streaming HTTP body. Both channels are bounded, so a slow client slows
//! the reading down instead of filling memory.

use std::io::{self, Write};

use actix_web::web::Bytes;
use export::{ExportError, ExportFormat, ExportWriter};
use tokio::sync::mpsc;

use super::rows::Chunk;

/// Bytes buffered before they are handed to the HTTP body.
const SEND_BYTES: usize = 64 * 1024;

/// A `Write` that sends what it gets, in pieces of about 64 KiB, to an HTTP body stream. Must be
/// used from a blocking thread (it waits on the bounded channel). The rest is sent on drop.
pub struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    pub fn new(tx: mpsc::Sender<Result<Bytes, io::Error>>) -> Self {
        Self {
            tx,
            buf: Vec::with_capacity(SEND_BYTES),
        }
    }

    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let bytes = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(SEND_BYTES),
        ));
        self.tx
            .blocking_send(Ok(bytes))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= SEND_BYTES {
            self.send_buffer()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffer()
    }
}

impl Drop for ChannelWriter {
    fn drop(&mut self) {
        let _ = self.send_buffer();
    }
}

/// Writes every chunk from `rx` in `format` into `out`; returns the rows written. Blocking: run
/// it with `spawn_blocking`. A chunk carrying a read error aborts the export with that error.
pub fn export_blocking<W: Write>(
    format: ExportFormat,
    out: W,
    mut rx: mpsc::Receiver<Chunk>,
) -> Result<u64, ExportError> {
    let mut writer = ExportWriter::new(format, out)?;
    while let Some(chunk) = rx.blocking_recv() {
        let rows = chunk.map_err(|e| ExportError::Io(io::Error::other(e)))?;
        writer.write_chunk(&rows)?;
    }
    let (_out, rows) = writer.finish()?;
    Ok(rows)
}

/// The download's file name: `krawall-<what>.<ext>`, with only `[A-Za-z0-9._-]` kept.
pub fn file_name(what: &str, format: ExportFormat) -> String {
    let safe: String = what
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("krawall-{safe}.{}", format.extension())
}
