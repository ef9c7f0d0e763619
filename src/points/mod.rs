//! The classic point model: rules marketing and sales agree on, written in TOML
//! ([`config`]), held as checked values ([`rules`]) and evaluated as polars expressions
//! for any cutoff (`evaluate`), with a per-lead breakdown a salesperson can read
//! ([`explain`]).

pub mod config;
pub(crate) mod evaluate;
pub mod explain;
pub mod rules;
pub(crate) mod run;
#[cfg(test)]
mod tests;

use std::path::Path;

use polars::prelude::Schema;

pub(crate) use evaluate::rule_column_problem;
pub use evaluate::PointScores;
// Observations live in `crate::observations`; they are named here too for the library's
// users who found them here first.
pub use crate::observations::{observations_at, AS_OF, OBS};
pub use rules::PointModel;

use crate::error::{Error, Result};

/// The shipped example, `data/points.toml`, used when no rule file is given.
pub(crate) const BUILTIN_TOML: &str = include_str!("../../data/points.toml");

impl PointModel {
    /// The built-in example model.
    pub(crate) fn builtin() -> Result<Self> {
        config::parse(BUILTIN_TOML, "built-in points (data/points.toml)")
    }

    /// Reads and checks a rule file; errors name the file and line.
    pub(crate) fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::InputFile {
            path: path.to_path_buf(),
            reason: format!("cannot read the point model: {e}"),
        })?;
        config::parse(&text, &path.display().to_string())
    }

    /// The rule model a command uses on `leads`: the user's rule file when given (a
    /// rule on a column the table lacks is an error naming its line, since the user
    /// wrote it for these tables), else the built-in example without the fit rules that
    /// `leads` cannot feed (an export from another CRM has its own columns; nobody
    /// should have to write a rule file before training). The second value is the
    /// warning to print when rules were skipped.
    pub(crate) fn for_leads(path: Option<&Path>, leads: &Schema) -> Result<(Self, Option<String>)> {
        match path {
            Some(path) => {
                let model = Self::from_file(path)?;
                model.check_schema(leads)?;
                Ok((model, None))
            }
            None => {
                let (model, skipped) = Self::builtin()?.without_unusable_rules(leads);
                let warning = (!skipped.is_empty()).then(|| builtin_skip_warning(&skipped));
                Ok((model, warning))
            }
        }
    }

    /// This model without the attribute rules whose column `leads` lacks or holds the
    /// wrong kind of value, and the names of the rules dropped.
    pub(crate) fn without_unusable_rules(mut self, leads: &Schema) -> (Self, Vec<String>) {
        let mut skipped = Vec::new();
        self.attributes.retain(|rule| {
            let usable = rule_column_problem(rule, leads).is_none();
            if !usable {
                skipped.push(format!("{} ({})", rule.name, rule.column));
            }
            usable
        });
        (self, skipped)
    }

    /// The names of the built-in example's rules that `leads` cannot feed, for
    /// `validate` to say before training does.
    pub(crate) fn builtin_rules_skipped(leads: &Schema) -> Result<Vec<String>> {
        Ok(Self::builtin()?.without_unusable_rules(leads).1)
    }
}

/// One sentence naming the built-in rules skipped.
pub(crate) fn builtin_skip_warning(skipped: &[String]) -> String {
    format!(
        "the built-in example rules (data/points.toml) name lead columns this table lacks; skipped {} of them: {} (give --points with rules for your own columns)",
        skipped.len(),
        skipped.join(", ")
    )
}
