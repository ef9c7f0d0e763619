//! Writing result tables (scores, breakdowns) by extension, atomically: the table is
//! written under a temporary name in the target's directory and renamed into place, so
//! a failure never leaves a half-written file where a scheduled job would read it.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::data::timestamp::CSV_TIMESTAMP_FORMAT;
use crate::error::{Error, Result};

/// Output formats, chosen by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputFormat {
    /// `.csv`
    Csv,
    /// `.parquet`
    Parquet,
    /// `.jsonl` or `.ndjson`: one JSON object per line, for CRMs and web hooks.
    JsonLines,
}

impl OutputFormat {
    /// The format for `path`, or an error naming the setting that gave it.
    pub(crate) fn of(path: &Path, setting: &str) -> Result<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Ok(OutputFormat::Csv),
            Some("parquet") => Ok(OutputFormat::Parquet),
            Some("jsonl" | "ndjson") => Ok(OutputFormat::JsonLines),
            _ => Err(Error::setting(
                setting,
                format!(
                    "{}: the file name must end in .csv, .parquet or .jsonl",
                    path.display()
                ),
            )),
        }
    }
}

/// Writes `frame` to `path` (format by extension), replacing any existing file only
/// once the new one is complete.
pub(crate) fn write_table(frame: &mut DataFrame, path: &Path, setting: &str) -> Result<()> {
    let format = OutputFormat::of(path, setting)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::output(parent, e))?;
    }
    let temporary = temporary_path(path);
    let written = write_to(frame, &temporary, format)
        .map_err(|e| as_output_error(e, path))
        .and_then(|()| std::fs::rename(&temporary, path).map_err(|e| Error::output(path, e)));
    if written.is_err() {
        // Best effort: the temporary file may not exist if creating it failed.
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Writes `bytes` to `path` atomically (temporary file, then rename).
pub(crate) fn write_bytes(bytes: &[u8], path: &Path) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::output(parent, e))?;
    }
    let temporary = temporary_path(path);
    let written = write_synced(&temporary, bytes)
        .map_err(|e| as_output_error(e, path))
        .and_then(|()| std::fs::rename(&temporary, path).map_err(|e| Error::output(path, e)));
    if written.is_err() {
        // Best effort: the temporary file may not exist if creating it failed.
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// A failure while writing the hidden temporary file, told as a failure to write the
/// file the user named (a full disk, a read-only directory): the temporary name means
/// nothing to them, and polars' own wording ("File out of specification") hides an
/// ordinary I/O error.
fn as_output_error(error: Error, path: &Path) -> Error {
    match error {
        Error::Output { source, .. } => Error::output(path, source),
        Error::Polars(e) => {
            let text = e.to_string();
            let reason = text
                .rsplit_once(": ")
                .filter(|_| text.contains("os error") || text.contains("No space"))
                .map_or(text.clone(), |(_, io)| io.to_string());
            Error::output(path, std::io::Error::other(reason))
        }
        other => other,
    }
}

/// Writes and flushes to disk, so that the rename never publishes an empty file after a
/// crash.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut file = File::create(path).map_err(|e| Error::output(path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::output(path, e))
}

fn write_to(frame: &mut DataFrame, path: &Path, format: OutputFormat) -> Result<()> {
    let file = File::create(path).map_err(|e| Error::output(path, e))?;
    let mut file = BufWriter::with_capacity(1 << 20, file);
    match format {
        OutputFormat::Csv => CsvWriter::new(&mut file)
            .with_datetime_format(Some(CSV_TIMESTAMP_FORMAT.into()))
            .finish(frame)?,
        OutputFormat::Parquet => {
            ParquetWriter::new(&mut file).finish(frame)?;
        }
        OutputFormat::JsonLines => JsonWriter::new(&mut file)
            .with_json_format(JsonFormat::JsonLines)
            .finish(frame)?,
    }
    let file = file
        .into_inner()
        .map_err(|e| Error::output(path, e.into_error()))?;
    file.sync_all().map_err(|e| Error::output(path, e))
}

/// A hidden name beside `path`, distinct per process, so two runs writing the same
/// output never write into each other's temporary file.
fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.partial", std::process::id()))
}

/// Refuses (exit 2) an output path that is one of the command's inputs: writing it
/// would destroy the data the run is reading, and with an atomic rename nothing even
/// warns. Paths are compared after resolving `.`, `..` and symbolic links, so
/// `x/leads.csv` and `./x/../x/leads.csv` are the same file. `outputs` pairs a flag with
/// the file it will write; `inputs` pairs a flag with the file it reads.
pub(crate) fn refuse_overwriting_inputs(
    outputs: &[(&str, &Path)],
    inputs: &[(&str, &Path)],
) -> Result<()> {
    for &(out_flag, output) in outputs {
        let Some(output_file) = resolved(output) else {
            continue;
        };
        for &(in_flag, input) in inputs {
            if resolved(input).as_ref() == Some(&output_file) {
                return Err(Error::setting(
                    out_flag,
                    format!(
                        "{} is also the {in_flag} input: writing it would destroy what this run reads; choose another path",
                        output.display()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The absolute, symlink-free form of a path, whether or not the file exists yet (its
/// directory is resolved then); `None` when even that cannot be resolved.
fn resolved(path: &Path) -> Option<std::path::PathBuf> {
    if let Ok(path) = path.canonicalize() {
        return Some(path);
    }
    let name = path.file_name()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    Some(parent.canonicalize().ok()?.join(name))
}
/// Makes `link` a symbolic link to `target` in one rename, whatever was there.
pub(crate) fn replace_link(link: &Path, target: &Path) -> Result<()> {
    let name = link
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let temporary = link.with_file_name(format!(".{name}.{}.partial", std::process::id()));
    let _ = std::fs::remove_file(&temporary);
    std::os::unix::fs::symlink(target, &temporary).map_err(|e| Error::output(link, e))?;
    std::fs::rename(&temporary, link).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        Error::output(link, e)
    })
}

/// Best effort: flush a directory's entries to disk, so a rename survives a crash.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}
