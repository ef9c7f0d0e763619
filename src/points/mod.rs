//! The classic point model: rules marketing and sales agree on, written in TOML
//! ([`config`]), held as checked values ([`rules`]) and evaluated as polars expressions
//! for any cutoff ([`evaluate`]), with a per-lead breakdown a salesperson can read
//! ([`explain`]).

pub mod config;
pub mod evaluate;
pub mod explain;
pub mod rules;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use evaluate::{observations_at, PointScores, AS_OF, OBS};
pub use rules::PointModel;

use crate::error::{Error, Result};

/// The shipped example, `data/points.toml`, used when no rule file is given.
pub const BUILTIN_TOML: &str = include_str!("../../data/points.toml");

impl PointModel {
    /// The built-in example model.
    pub fn builtin() -> Result<Self> {
        config::parse(BUILTIN_TOML, "built-in points (data/points.toml)")
    }

    /// Reads and checks a rule file; errors name the file and line.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::InputFile {
            path: path.to_path_buf(),
            reason: format!("cannot read the point model: {e}"),
        })?;
        config::parse(&text, &path.display().to_string())
    }

    /// Reads a rule file when given, else the built-in example.
    pub fn from_option(path: Option<&Path>) -> Result<Self> {
        match path {
            Some(path) => Self::from_file(path),
            None => Self::builtin(),
        }
    }
}
