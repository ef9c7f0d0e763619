//! The three tables' flags, shared by every command that learns from or judges closed
//! deals, so that they read and document them the same way.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::data::InputPaths;

/// `--leads`, `--interactions` and `--outcomes`, as typed.
#[derive(Debug, Args)]
pub(crate) struct HistoryFiles {
    /// Leads table (.csv or .parquet).
    #[arg(long, value_name = "F")]
    pub(crate) leads: PathBuf,
    /// Interactions table (.csv or .parquet); a header-only file is fine.
    #[arg(long, value_name = "F")]
    pub(crate) interactions: PathBuf,
    /// Outcomes table (.csv or .parquet).
    #[arg(long, value_name = "F")]
    pub(crate) outcomes: PathBuf,
}

impl HistoryFiles {
    /// Each table with its flag, for checks that name the flag (an output that would
    /// overwrite one of them).
    pub(crate) fn flagged(&self) -> Vec<(&'static str, &Path)> {
        vec![
            ("--leads", self.leads.as_path()),
            ("--interactions", self.interactions.as_path()),
            ("--outcomes", self.outcomes.as_path()),
        ]
    }

    /// Where [`crate::data::load`] reads them from.
    pub(crate) fn paths(&self) -> InputPaths {
        InputPaths {
            leads: self.leads.clone(),
            interactions: self.interactions.clone(),
            outcomes: Some(self.outcomes.clone()),
        }
    }
}

/// `--leads`, `--interactions` and `--as-of`: the open lead base a command scores, as
/// typed, shared by `score` and `points` so that both read and document them the same.
#[derive(Debug, Args)]
pub(crate) struct LeadBaseFiles {
    /// Leads table (.csv or .parquet).
    #[arg(long, value_name = "F")]
    pub(crate) leads: PathBuf,
    /// Interactions table (.csv or .parquet); a header-only file is fine.
    #[arg(long, value_name = "F")]
    pub(crate) interactions: PathBuf,
    /// Score as of this time (ISO 8601); only interactions before it count. Default: now.
    #[arg(long, value_name = "T", value_parser = crate::cli::flags::time("--as-of"))]
    pub(crate) as_of: Option<i64>,
}

impl LeadBaseFiles {
    /// Each table with its flag, for checks that name the flag.
    pub(crate) fn flagged(&self) -> Vec<(&'static str, &Path)> {
        vec![
            ("--leads", self.leads.as_path()),
            ("--interactions", self.interactions.as_path()),
        ]
    }

    /// Where [`crate::data::load`] reads them from (no outcomes: open leads).
    pub(crate) fn paths(&self) -> InputPaths {
        InputPaths {
            leads: self.leads.clone(),
            interactions: self.interactions.clone(),
            outcomes: None,
        }
    }
}

/// `--model`, as typed.
#[derive(Debug, Args)]
pub(crate) struct ModelFile {
    /// The model artifact written by `leadscore train`.
    #[arg(id = "model", long = "model", value_name = "MODEL")]
    pub(crate) path: PathBuf,
}
