//! JSON-lines metrics files.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::{Error, Result};

/// Appends one JSON object per line to a metrics file.
#[derive(Debug)]
pub struct MetricsWriter {
    out: BufWriter<File>,
    path: String,
}

impl MetricsWriter {
    /// Opens `path`, truncating it (`append = false`) or appending to it (resumed runs).
    pub fn open(path: &Path, append: bool) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(MetricsWriter { out: BufWriter::new(file), path: path.display().to_string() })
    }

    /// Writes one record and flushes it.
    pub fn write(&mut self, record: &serde_json::Value) -> Result<()> {
        let io = |e| Error::Io { path: self.path.clone(), source: e };
        serde_json::to_writer(&mut self.out, record).map_err(|e| io(e.into()))?;
        self.out.write_all(b"\n").map_err(io)?;
        self.out.flush().map_err(io)
    }
}
