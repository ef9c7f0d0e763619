//! Opening one input file as an untyped polars frame: the kind is chosen by extension,
//! and the problems that stop a file from being read at all (missing, empty, not UTF-8,
//! malformed CSV) are reported with the row and column where they sit.
//!
//! CSV is read with every column as text, so that typing (and the row of each typing
//! failure) is decided in one place, `tables`, for CSV and Parquet alike.

use std::io::Cursor;
use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Problem, Result};

/// The two file formats the contract accepts, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileFormat {
    /// Comma-separated, UTF-8, header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl FileFormat {
    /// The format named by the file's extension, or an error naming the file.
    pub(crate) fn of(path: &Path) -> Result<Self> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("csv") => Ok(FileFormat::Csv),
            Some("parquet") => Ok(FileFormat::Parquet),
            _ => Err(Error::InputFile {
                path: path.to_path_buf(),
                reason: "unsupported file type: the name must end in .csv or .parquet".into(),
            }),
        }
    }
}

/// What reading a file gave: a frame, or the one problem that prevented it.
pub(crate) type ReadOutcome = std::result::Result<DataFrame, Problem>;

/// Reads `path` into a frame. I/O failures (no such file, no permission) are errors;
/// content that cannot be read as a table is a [`Problem`] located in the file.
pub(crate) fn read_frame(path: &Path) -> Result<ReadOutcome> {
    let format = FileFormat::of(path)?;
    let cannot_read = |e: std::io::Error| Error::InputFile {
        path: path.to_path_buf(),
        reason: format!("cannot read: {e}"),
    };
    let file = path.display().to_string();
    Ok(match format {
        FileFormat::Csv => {
            let bytes = std::fs::read(path).map_err(cannot_read)?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Err(problem(
                    &file,
                    None,
                    None,
                    "the file is empty: expected at least a header row".into(),
                )));
            }
            read_csv(&file, bytes)
        }
        FileFormat::Parquet => {
            // Handed over as a file, polars maps it instead of it being copied first.
            let handle = std::fs::File::open(path).map_err(cannot_read)?;
            if handle.metadata().map_err(cannot_read)?.len() == 0 {
                return Ok(Err(problem(&file, None, None, "the file is empty".into())));
            }
            read_parquet(&file, handle)
        }
    })
}

fn read_parquet(file: &str, handle: std::fs::File) -> ReadOutcome {
    let frame = ParquetReader::new(handle).finish().map_err(|e| {
        problem(
            file,
            None,
            None,
            format!("not a readable Parquet file: {e}"),
        )
    })?;
    match frame
        .get_column_names()
        .iter()
        .position(|n| n.trim().is_empty())
    {
        Some(index) => Err(problem(
            file,
            None,
            None,
            format!("column {} has no name: every column needs one", index + 1),
        )),
        None => Ok(frame),
    }
}

fn read_csv(file: &str, bytes: Vec<u8>) -> ReadOutcome {
    if let Err(e) = std::str::from_utf8(&bytes) {
        return Err(non_utf8_problem(file, &bytes, e.valid_up_to()));
    }
    if let Some(problem) = super::csv_shape::shape_problem(file, &bytes) {
        return Err(problem);
    }
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(true)
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
        .map_err(|e| problem(file, None, None, format!("not a readable CSV table: {e}")))
}

/// Locates the first invalid byte by record and column, honouring quoted fields.
fn non_utf8_problem(file: &str, bytes: &[u8], offset: usize) -> Problem {
    let mut record = 0usize;
    let mut field = 0usize;
    let mut in_quotes = false;
    for &byte in &bytes[..offset] {
        match byte {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => field += 1,
            b'\n' if !in_quotes => {
                record += 1;
                field = 0;
            }
            _ => {}
        }
    }
    let column = if record == 0 {
        None
    } else {
        header_column_name(bytes, field)
    };
    let byte = bytes[offset];
    problem(
        file,
        Some(record + 1),
        column,
        format!("byte 0x{byte:02X} is not valid UTF-8 (save the file as UTF-8)"),
    )
}

/// The name of the header's `index`-th field, when the header itself is valid UTF-8.
fn header_column_name(bytes: &[u8], index: usize) -> Option<String> {
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    let header = std::str::from_utf8(&bytes[..end]).ok()?;
    header
        .trim_end_matches('\r')
        .split(',')
        .nth(index)
        .map(|name| name.trim_matches('"').to_string())
}

/// Builds a problem for `file`.
pub(crate) fn problem(
    file: &str,
    row: Option<usize>,
    column: Option<String>,
    reason: String,
) -> Problem {
    Problem {
        file: file.to_string(),
        row,
        column,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_utf8_is_located_by_record_and_column() {
        let bytes = b"lead_id,industry\nL1,tech\nL2,\"a,\nb\"\nL3,caf\xE9\n";
        let offset = bytes.iter().position(|&b| b == 0xE9).unwrap();
        let found = non_utf8_problem("leads.csv", bytes, offset);
        assert_eq!(found.row, Some(4));
        assert_eq!(found.column.as_deref(), Some("industry"));
    }

    #[test]
    fn extension_decides_the_format() {
        assert_eq!(FileFormat::of(Path::new("a.CSV")).unwrap(), FileFormat::Csv);
        assert_eq!(
            FileFormat::of(Path::new("x/a.parquet")).unwrap(),
            FileFormat::Parquet
        );
        assert!(FileFormat::of(Path::new("a.xlsx")).is_err());
    }
}
