//! The library's one error type. Every variant says what the user did wrong (or what
//! failed around them) precisely enough to act on, and maps to the contract's exit codes:
//! 2 for bad input or usage, 1 for everything else.

use std::fmt;
use std::path::PathBuf;

/// Shorthand used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in leadscore.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more problems in the input tables, each naming file, row and column.
    #[error("{0}")]
    InvalidInput(Problems),
    /// An input file that cannot be opened or has an unsupported kind.
    #[error("{}: {reason}", path.display())]
    InputFile {
        /// The file the user named.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// A command-line setting or parameter that is out of range or inconsistent.
    #[error("setting `{setting}`: {reason}")]
    Setting {
        /// The flag or parameter name as the user wrote it.
        setting: String,
        /// What is wrong with its value.
        reason: String,
    },
    /// A configuration file (the point model's TOML) that is invalid, located by line.
    #[error("{path}, line {line}: {reason}")]
    Config {
        /// The file, as the user named it.
        path: String,
        /// 1-based line of the offending entry.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A model artifact that cannot be trusted: foreign, truncated, corrupted or newer.
    #[error("model artifact refused: {reason}")]
    Artifact {
        /// Which of those, in words.
        reason: String,
    },
    /// Another run holds the directory's lock.
    #[error("{}: another {job} ({holder}) is using this {place}; try again when it has finished", path.display())]
    Locked {
        /// The lock file.
        path: std::path::PathBuf,
        /// Who holds it.
        holder: String,
        /// What runs once at a time there ("rescore run").
        job: &'static str,
        /// What the directory is ("output directory").
        place: &'static str,
    },
    /// The run finished and wrote its outputs, but the lead base has drifted from the
    /// training data beyond the threshold and the user asked to fail on that.
    #[error("drift over threshold: {worst}; outputs were written, see {}", summary.display())]
    Drift {
        /// The run summary with every drift figure.
        summary: std::path::PathBuf,
        /// The largest shifts, in words.
        worst: String,
    },
    /// A retrain ran and judged its candidate, and the model in use stays: an outcome a
    /// scheduler tells apart from success and failure, not a fault.
    #[error("kept {current}: {reason}")]
    Kept {
        /// The model in use, which stays.
        current: String,
        /// Why the candidate was not published.
        reason: String,
    },
    /// Writing an output failed (disk full, permissions, ...): not the user's input.
    #[error("{}: {source}", path.display())]
    Output {
        /// The file or directory being written.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// A failure inside polars that is not attributable to the input.
    #[error("internal data error: {0}")]
    Polars(#[from] polars::error::PolarsError),
}

impl Error {
    /// The process exit status the contract assigns to this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::InvalidInput(_)
            | Error::InputFile { .. }
            | Error::Setting { .. }
            | Error::Config { .. }
            | Error::Artifact { .. } => 2,
            Error::Output { .. } | Error::Polars(_) | Error::Locked { .. } => 1,
            Error::Drift { .. } => 3,
            Error::Kept { .. } => 4,
        }
    }

    /// A setting error, for parameter checks.
    pub(crate) fn setting(setting: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Setting {
            setting: setting.into(),
            reason: reason.into(),
        }
    }

    /// An output error for `path`.
    pub(crate) fn output(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Output {
            path: path.into(),
            source,
        }
    }
}

/// One thing wrong with an input table, located as precisely as the problem allows.
///
/// Rows are counted the way a spreadsheet shows them: the header is row 1, the first
/// record is row 2 (Parquet files are numbered the same way, as if they had a header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file's name as the user gave it.
    pub(crate) file: String,
    /// 1-based spreadsheet row, when the problem sits in one row.
    pub(crate) row: Option<usize>,
    /// The column, when the problem sits in one column.
    pub(crate) column: Option<String>,
    /// What is wrong, in words.
    pub(crate) reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(row) = self.row {
            write!(f, ", row {row}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ", column `{column}`")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// How many problems a report lists before it summarises the rest as a count.
pub(crate) const PROBLEMS_SHOWN: usize = 20;

/// All problems found in one pass over the inputs, so a user fixes them in one go
/// instead of one per run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems {
    /// The problems kept for display, in the order found.
    pub(crate) listed: Vec<Problem>,
    /// How many problems there were in all (may exceed `listed.len()`).
    pub(crate) total: usize,
}

impl Problems {
    /// Records a problem; only the first few hundred are kept in full.
    pub(crate) fn push(&mut self, problem: Problem) {
        self.total += 1;
        if self.listed.len() < 500 {
            self.listed.push(problem);
        }
    }

    /// Adds the problems found in a part of a file that starts `first_index` records in,
    /// renumbering their rows. Problems without a row (a column's type, say) repeat in
    /// every part, so they are kept only from the first (`keep_unrowed`).
    pub(crate) fn absorb_shifted(
        &mut self,
        part: Problems,
        first_index: usize,
        keep_unrowed: bool,
    ) {
        // Problems the part counted but did not keep in full are counted here too.
        self.total += part.total - part.listed.len();
        for mut problem in part.listed {
            match problem.row.as_mut() {
                Some(row) => *row += first_index,
                None if !keep_unrowed => continue,
                None => {}
            }
            self.push(problem);
        }
    }

    /// True when nothing was found.
    pub(crate) fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Turns the collection into a result: `Ok` when empty.
    pub(crate) fn into_result(self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidInput(self))
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = if self.total == 1 {
            "problem"
        } else {
            "problems"
        };
        write!(f, "invalid input: {} {noun} found", self.total)?;
        for problem in self.listed.iter().take(PROBLEMS_SHOWN) {
            write!(f, "\n  - {problem}")?;
        }
        let shown = self.listed.len().min(PROBLEMS_SHOWN);
        if self.total > shown {
            write!(f, "\n  ... and {} more", self.total - shown)?;
        }
        Ok(())
    }
}
