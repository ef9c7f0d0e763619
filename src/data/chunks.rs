//! Reading a Parquet interactions table a few row groups at a time, typed and checked
//! exactly like a whole table ([`super::tables::type_interactions`]) and with problems
//! numbered by their row in the file: for lead bases whose interactions do not fit in
//! memory (the nightly rescore of tens of millions of leads).

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::columns::*;
use super::source::problem;
use super::tables::type_interactions;
use crate::error::{Error, Problem, Problems, Result};

/// Rows decoded at a time by default (whole row groups, so never less than one group).
pub(crate) const CHUNK_ROWS: usize = 2_000_000;

/// A Parquet interactions file, read chunk by chunk in file order.
#[derive(Debug)]
pub(crate) struct ParquetChunks {
    path: PathBuf,
    file: String,
    row_groups: Vec<usize>,
    next_group: usize,
    rows_before: usize,
    chunk_rows: usize,
}

/// One typed chunk.
#[derive(Debug)]
pub(crate) struct TypedChunk {
    /// 0-based record index of the chunk's first row in the file.
    pub(crate) first_index: usize,
    /// The typed rows, or `None` when the chunk had problems (they are in the caller's
    /// [`Problems`]; reading goes on so that every problem in the file is reported).
    pub(crate) frame: Option<DataFrame>,
}

impl ParquetChunks {
    /// Opens `path` and checks its columns. I/O failures are errors; a file that is empty,
    /// not Parquet, or lacks a required column is a [`Problem`] (or several) located in it.
    pub(crate) fn open(
        path: &Path,
        chunk_rows: usize,
    ) -> Result<std::result::Result<Self, Vec<Problem>>> {
        let file = path.display().to_string();
        let handle = File::open(path).map_err(|e| Error::InputFile {
            path: path.to_path_buf(),
            reason: format!("cannot read: {e}"),
        })?;
        let length = handle.metadata().map(|m| m.len()).unwrap_or(0);
        if length == 0 {
            return Ok(Err(vec![problem(
                &file,
                None,
                None,
                "the file is empty".into(),
            )]));
        }
        let mut reader = ParquetReader::new(handle);
        let unreadable = |e: PolarsError| {
            vec![problem(
                &file,
                None,
                None,
                format!("not a readable Parquet file: {e}"),
            )]
        };
        let row_groups: Vec<usize> = match reader.get_metadata() {
            Ok(metadata) => metadata.row_groups.iter().map(|g| g.num_rows()).collect(),
            Err(e) => return Ok(Err(unreadable(e))),
        };
        let schema = match reader.schema() {
            Ok(schema) => schema,
            Err(e) => return Ok(Err(unreadable(e))),
        };
        let found: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
        let missing: Vec<Problem> = [LEAD_ID, OCCURRED_AT, EVENT_TYPE]
            .into_iter()
            .filter(|name| !found.contains(name))
            .map(|name| {
                problem(
                    &file,
                    Some(1),
                    Some(name.into()),
                    format!("required column is missing (found: {})", found.join(", ")),
                )
            })
            .collect();
        if !missing.is_empty() {
            return Ok(Err(missing));
        }
        Ok(Ok(ParquetChunks {
            path: path.to_path_buf(),
            file,
            row_groups,
            next_group: 0,
            rows_before: 0,
            chunk_rows: chunk_rows.max(1),
        }))
    }

    /// Rows in the whole file.
    pub(crate) fn rows(&self) -> usize {
        self.row_groups.iter().sum()
    }

    /// Reads, types and checks the next chunk, or `None` at the end. Problems are added to
    /// `problems` with their rows counted from the start of the file.
    pub(crate) fn next_chunk(&mut self, problems: &mut Problems) -> Result<Option<TypedChunk>> {
        if self.next_group >= self.row_groups.len() {
            return Ok(None);
        }
        let mut rows = 0;
        while self.next_group < self.row_groups.len() && (rows == 0 || rows < self.chunk_rows) {
            rows += self.row_groups[self.next_group];
            self.next_group += 1;
        }
        let first_index = self.rows_before;
        self.rows_before += rows;
        let handle = File::open(&self.path).map_err(|e| Error::InputFile {
            path: self.path.clone(),
            reason: format!("cannot read: {e}"),
        })?;
        let raw = match ParquetReader::new(handle)
            .with_columns(Some(self.present_columns()?))
            .with_slice(Some((first_index, rows)))
            .finish()
        {
            Ok(raw) => raw,
            Err(e) => {
                problems.push(problem(
                    &self.file,
                    None,
                    None,
                    format!(
                        "not a readable Parquet file (from row {}): {e}",
                        first_index + 2
                    ),
                ));
                self.next_group = self.row_groups.len();
                return Ok(Some(TypedChunk {
                    first_index,
                    frame: None,
                }));
            }
        };
        let mut found = Problems::default();
        let frame = type_interactions(&self.file, &raw, &mut found)?;
        problems.absorb_shifted(found, first_index, first_index == 0);
        Ok(Some(TypedChunk { first_index, frame }))
    }

    /// The contract's interaction columns the file has (`detail` is optional); other
    /// columns are never decoded.
    fn present_columns(&self) -> Result<Vec<String>> {
        let handle = File::open(&self.path).map_err(|e| Error::InputFile {
            path: self.path.clone(),
            reason: format!("cannot read: {e}"),
        })?;
        let schema = ParquetReader::new(handle).schema()?;
        Ok([LEAD_ID, OCCURRED_AT, EVENT_TYPE, DETAIL]
            .into_iter()
            .filter(|name| schema.iter_names().any(|n| n.as_str() == *name))
            .map(String::from)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, frame: &mut DataFrame, group: usize) {
        let file = File::create(path).unwrap();
        ParquetWriter::new(file)
            .with_row_group_size(Some(group))
            .finish(frame)
            .unwrap();
    }

    fn interactions(n: usize, null_at: &[usize]) -> DataFrame {
        let ids: Vec<String> = (0..n).map(|i| format!("L{}", i % 7)).collect();
        let times: Vec<Option<i64>> = (0..n)
            .map(|i| (!null_at.contains(&i)).then_some(1_700_000_000_000_000 + i as i64))
            .collect();
        let times = Int64Chunked::from_iter_options(OCCURRED_AT.into(), times.into_iter())
            .into_datetime(TimeUnit::Microseconds, None);
        df!(
            LEAD_ID => ids,
            OCCURRED_AT => times,
            EVENT_TYPE => vec!["email_open"; n],
        )
        .unwrap()
    }

    #[test]
    fn chunks_cover_every_row_in_order_and_problems_keep_their_file_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("interactions.parquet");
        write(&path, &mut interactions(100, &[3, 57]), 10);
        let mut chunks = ParquetChunks::open(&path, 25).unwrap().unwrap();
        assert_eq!(chunks.rows(), 100);
        let mut problems = Problems::default();
        let mut starts = Vec::new();
        let mut typed_rows = 0;
        while let Some(chunk) = chunks.next_chunk(&mut problems).unwrap() {
            starts.push(chunk.first_index);
            typed_rows += chunk.frame.map_or(0, |f| f.height());
        }
        assert_eq!(starts, vec![0, 30, 60, 90]);
        // The chunks holding rows 3 and 57 are refused; the others are typed.
        assert_eq!(typed_rows, 40);
        let rows: Vec<Option<usize>> = problems.listed.iter().map(|p| p.row).collect();
        assert_eq!(rows, vec![Some(5), Some(59)]);
        assert!(problems.listed[1]
            .to_string()
            .contains("column `occurred_at`"));
    }

    #[test]
    fn a_missing_column_is_reported_before_any_row_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("interactions.parquet");
        let mut frame = interactions(5, &[]).drop(EVENT_TYPE).unwrap();
        write(&path, &mut frame, 10);
        let refused = ParquetChunks::open(&path, 25).unwrap().unwrap_err();
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].column.as_deref(), Some(EVENT_TYPE));
    }
}
