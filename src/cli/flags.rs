//! Flags several commands share, flattened into their arguments so that each is read
//! and documented once; the parser every time flag uses; the rule model a command reads.
//! The library's own types carry no clap derives: the value enums here map onto them.

use clap::{Args, ValueEnum};

use crate::data::timestamp::parse_timestamp;
use crate::data::{LoadOptions, UnknownLeadPolicy};
use crate::error::{Error, Result};
use crate::model::train::ClassWeight;
use crate::points::PointModel;

/// `--unknown-leads`.
#[derive(Debug, Clone, Copy, Args)]
pub(crate) struct UnknownLeadsFlag {
    /// What to do with rows naming a lead_id the leads table lacks.
    #[arg(long = "unknown-leads", value_enum, default_value_t = UnknownLeads::Warn)]
    pub(crate) unknown_leads: UnknownLeads,
}

/// The values of `--unknown-leads`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum UnknownLeads {
    /// Count them and show examples on stderr; they never reach a feature.
    Warn,
    /// Refuse the input, listing each row.
    Error,
}

impl UnknownLeadsFlag {
    /// The library's policy.
    pub(crate) fn policy(self) -> UnknownLeadPolicy {
        match self.unknown_leads {
            UnknownLeads::Warn => UnknownLeadPolicy::Warn,
            UnknownLeads::Error => UnknownLeadPolicy::Error,
        }
    }

    /// Loading settings with this policy.
    pub(crate) fn load_options(self) -> LoadOptions {
        LoadOptions {
            unknown_leads: self.policy(),
        }
    }
}

/// The values of `--class-weight`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ClassWeights {
    /// As they occur: probabilities are calibrated to the real won rate.
    None,
    /// Each class weighs as much as the other: probabilities centre on 0.5, which some
    /// teams prefer when won deals are rare; the ranking is the same.
    Balanced,
}

impl From<ClassWeights> for ClassWeight {
    fn from(flag: ClassWeights) -> Self {
        match flag {
            ClassWeights::None => ClassWeight::None,
            ClassWeights::Balanced => ClassWeight::Balanced,
        }
    }
}

/// The parser of a time flag, for clap's `value_parser`: a bad time exits with status
/// 2 and the same words as any other bad setting.
pub(crate) fn time(flag: &'static str) -> TimeFlag {
    TimeFlag { flag }
}

/// See [`time`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeFlag {
    flag: &'static str,
}

impl clap::builder::TypedValueParser for TimeFlag {
    type Value = i64;

    fn parse_ref(
        &self,
        command: &clap::Command,
        _argument: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<i64, clap::Error> {
        let text = value.to_string_lossy();
        timestamp(&text).map_err(|reason| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("setting `{}`: {reason}\n", self.flag),
            )
            .with_cmd(command)
        })
    }
}

/// A time flag's value (µs since the epoch): ISO 8601, in the years 1970 to 2200 (a
/// time outside them is a typo, and would write a history partition for the year
/// 1900).
pub(crate) fn timestamp(text: &str) -> std::result::Result<i64, String> {
    let time = parse_timestamp(text).ok_or_else(|| {
        format!("'{text}' is not an ISO 8601 timestamp (e.g. 2026-03-01 or 2026-03-01T09:30:00Z)")
    })?;
    let latest = parse_timestamp("2200-01-01").unwrap_or(i64::MAX);
    if !(0..=latest).contains(&time) {
        return Err(format!("'{text}' is outside the years 1970 to 2200"));
    }
    Ok(time)
}

/// The rule model for `leads`: the user's rule file, or the built-in example less the
/// rules these columns cannot feed, which it names in one warning on stderr.
pub(crate) fn rule_model(
    path: Option<&std::path::Path>,
    leads: &polars::prelude::DataFrame,
) -> Result<PointModel> {
    let (model, skipped) = PointModel::for_leads(path, leads.schema())?;
    if let Some(warning) = skipped {
        eprintln!("warning: {warning}");
    }
    Ok(model)
}

/// The library names a bad setting by its own field (`FitParams.l2`); the user typed a
/// flag (`--l2`). Each library setting a command line can set, with its flag.
pub(crate) const FLAG_OF_SETTING: &[(&str, &str)] = &[
    ("backtest.at", "--at"),
    ("CompareOptions.every_days", "--every-days"),
    ("CutoffParams.every_days", "--snapshot-every-days"),
    ("CutoffParams.max_snapshots", "--snapshots"),
    ("explain.lead_ids", "--explain"),
    ("FitParams.gradient_tolerance", "--gradient-tolerance"),
    ("FitParams.l2", "--l2"),
    ("FitParams.max_iterations", "--max-iterations"),
    ("GateRule.draws", "--draws"),
    ("GateRule.floor", "--floor"),
    ("GenerateParams.end", "--end"),
    ("GenerateParams.leads", "--leads"),
    ("GenerateParams.stale_close_days", "--stale-close-days"),
    ("GenerateParams.start", "--start"),
    ("InputPaths.leads", "--leads"),
    ("InputPaths.outcomes", "--outcomes"),
    ("TrainingFeatures.path", "--features"),
    ("JobSettings.out", "--out"),
    ("rescore.dir", "--out"),
    ("RescoreOptions.as_of", "--as-of"),
    ("RescoreOptions.backfill", "--backfill"),
    ("RescoreOptions.change_threshold", "--change-threshold"),
    ("RescoreOptions.drift_threshold", "--drift-threshold"),
    ("RescoreOptions.partition_leads", "--partition-leads"),
    ("rollback", "--rollback"),
];

/// The error in the command line's terms: a library setting it names, as the setting at
/// fault or in backticks within the reason, becomes the flag that sets it.
pub(crate) fn in_flag_terms(error: Error) -> Error {
    let Error::Setting { setting, reason } = error else {
        return error;
    };
    let flag = |name: &str| {
        FLAG_OF_SETTING
            .iter()
            .find(|(library, _)| *library == name)
            .map(|&(_, flag)| flag)
    };
    let reason = FLAG_OF_SETTING
        .iter()
        .fold(reason, |text, (library, flag)| {
            text.replace(&format!("`{library}`"), flag)
        });
    Error::Setting {
        setting: flag(&setting).map_or(setting, str::to_string),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_iso_8601_within_two_centuries() {
        assert_eq!(timestamp("1970-01-01"), Ok(0));
        assert!(timestamp("2026-03-01T09:30:00Z").is_ok());
        assert!(timestamp("yesterday")
            .unwrap_err()
            .contains("not an ISO 8601"));
        assert!(timestamp("1900-01-01")
            .unwrap_err()
            .contains("1970 to 2200"));
        assert!(timestamp("2300-01-01")
            .unwrap_err()
            .contains("1970 to 2200"));
    }
}
