//! Writing generated tables chunk by chunk, so memory stays bounded at any size, into
//! temporary files that are renamed into place only when every table is complete: an
//! interrupted or failed run leaves no half-written output behind.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::data::source::FileFormat;
use crate::data::timestamp::CSV_TIMESTAMP_FORMAT;
use crate::error::{Error, Result};

enum Batched {
    Csv(polars::io::csv::write::BatchedWriter<BufWriter<File>>),
    Parquet(Box<polars::io::parquet::write::BatchedWriter<BufWriter<File>>>),
}

/// One output table being written in batches.
pub(crate) struct TableSink {
    format: FileFormat,
    temporary: PathBuf,
    target: PathBuf,
    writer: Option<Batched>,
    rows: usize,
}

impl TableSink {
    /// Prepares `dir/name.ext`; nothing is visible under that name until [`commit`](Self::commit).
    pub(crate) fn new(dir: &Path, name: &str, format: FileFormat) -> Self {
        let extension = match format {
            FileFormat::Csv => "csv",
            FileFormat::Parquet => "parquet",
        };
        TableSink {
            format,
            temporary: dir.join(format!(".{name}.{extension}.partial")),
            target: dir.join(format!("{name}.{extension}")),
            writer: None,
            rows: 0,
        }
    }

    /// Where the table will be once committed.
    pub(crate) fn target(&self) -> &Path {
        &self.target
    }

    /// Rows written so far.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Appends a chunk (the first chunk fixes the schema; it may have zero rows).
    pub(crate) fn write(&mut self, chunk: &mut DataFrame) -> Result<()> {
        if self.writer.is_none() {
            let file =
                File::create(&self.temporary).map_err(|e| Error::output(&self.temporary, e))?;
            let file = BufWriter::with_capacity(1 << 20, file);
            let schema = chunk.schema().as_ref().clone();
            self.writer = Some(match self.format {
                FileFormat::Csv => Batched::Csv(
                    CsvWriter::new(file)
                        .with_datetime_format(Some(CSV_TIMESTAMP_FORMAT.into()))
                        .batched(&schema)?,
                ),
                FileFormat::Parquet => {
                    Batched::Parquet(Box::new(ParquetWriter::new(file).batched(&schema)?))
                }
            });
        }
        chunk.rechunk_mut();
        match self.writer.as_mut() {
            Some(Batched::Csv(writer)) => writer.write_batch(chunk)?,
            Some(Batched::Parquet(writer)) if chunk.height() > 0 => writer.write_batch(chunk)?,
            _ => {}
        }
        self.rows += chunk.height();
        Ok(())
    }

    /// Completes the file under its temporary name.
    pub(crate) fn finish(&mut self) -> Result<()> {
        match self.writer.as_mut() {
            Some(Batched::Csv(writer)) => writer.finish()?,
            Some(Batched::Parquet(writer)) => {
                writer.finish()?;
            }
            None => {}
        }
        self.writer = None;
        Ok(())
    }

    /// Moves the finished file into place.
    pub(crate) fn commit(&self) -> Result<()> {
        std::fs::rename(&self.temporary, &self.target).map_err(|e| Error::output(&self.target, e))
    }
}

impl Drop for TableSink {
    fn drop(&mut self) {
        // Whatever was not committed is a partial file: remove it. Errors are ignored
        // because the file may never have been created.
        self.writer = None;
        let _ = std::fs::remove_file(&self.temporary);
    }
}
