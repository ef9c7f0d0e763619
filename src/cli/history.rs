//! The three tables' flags, shared by every command that learns from or judges closed
//! deals, so that they read and document them the same way.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::data::InputPaths;

/// `--leads`, `--interactions` and `--outcomes`, as typed.
#[derive(Debug, Args)]
pub struct HistoryFiles {
    /// Leads table (.csv or .parquet).
    #[arg(long, value_name = "F")]
    pub leads: PathBuf,
    /// Interactions table (.csv or .parquet); a header-only file is fine.
    #[arg(long, value_name = "F")]
    pub interactions: PathBuf,
    /// Outcomes table (.csv or .parquet).
    #[arg(long, value_name = "F")]
    pub outcomes: PathBuf,
}

impl HistoryFiles {
    /// Each table with its flag, for checks that name the flag (an output that would
    /// overwrite one of them).
    pub fn flagged(&self) -> Vec<(&'static str, &Path)> {
        vec![
            ("--leads", self.leads.as_path()),
            ("--interactions", self.interactions.as_path()),
            ("--outcomes", self.outcomes.as_path()),
        ]
    }

    /// Where [`crate::data::load`] reads them from.
    pub fn paths(self) -> InputPaths {
        InputPaths {
            leads: self.leads,
            interactions: self.interactions,
            outcomes: Some(self.outcomes),
        }
    }
}
