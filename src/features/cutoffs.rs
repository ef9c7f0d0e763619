//! Where closed leads are looked at for training: cutoffs strictly before each deal
//! closed, so nothing caused by the close (onboarding, product logins, goodbye
//! unsubscribes) can reach a feature.
//!
//! One cutoff just before closing only describes leads at the very end of their life;
//! scoring sees open leads at every stage. So each closed lead can be seen at several
//! snapshots across its open life: `gap_days` before closing, then every `every_days`
//! further back, up to `max_snapshots`, while the lead already existed.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::columns::*;
use crate::data::timestamp::MICROS_PER_DAY;
use crate::error::{Error, Result};
use crate::points::AS_OF;

/// Column telling whether the observed lead's deal was won.
pub const WON_LABEL: &str = "won";

/// How closed leads are turned into training observations, as the user sets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CutoffParams {
    gap_days: f64,
    every_days: f64,
    max_snapshots: usize,
}

impl Default for CutoffParams {
    fn default() -> Self {
        CutoffParams {
            gap_days: 1.0,
            every_days: 14.0,
            max_snapshots: 6,
        }
    }
}

impl CutoffParams {
    /// Days between the last cutoff and the close (default 1).
    pub fn gap_days(mut self, days: f64) -> Self {
        self.gap_days = days;
        self
    }
    /// Days between snapshots (default 14).
    pub fn every_days(mut self, days: f64) -> Self {
        self.every_days = days;
        self
    }
    /// Snapshots per lead at most (default 6; 1 means one cutoff just before closing).
    pub fn max_snapshots(mut self, n: usize) -> Self {
        self.max_snapshots = n;
        self
    }

    /// Checks the settings once, naming the bad one.
    pub fn check(self) -> Result<ValidCutoffParams> {
        // A cutoff at the close itself would let the closing day's events in; ten years
        // bounds the arithmetic well inside i64 microseconds.
        if !(self.gap_days.is_finite() && self.gap_days > 0.0 && self.gap_days <= MAX_DAYS) {
            return Err(Error::setting(
                "--cutoff-gap-days",
                format!(
                    "{} is not a number of days above 0 and at most {MAX_DAYS}",
                    self.gap_days
                ),
            ));
        }
        if !(self.every_days.is_finite() && self.every_days > 0.0 && self.every_days <= MAX_DAYS) {
            return Err(Error::setting(
                "--snapshot-every-days",
                format!(
                    "{} is not a number of days above 0 and at most {MAX_DAYS}",
                    self.every_days
                ),
            ));
        }
        if !(1..=100).contains(&self.max_snapshots) {
            return Err(Error::setting(
                "--snapshots",
                format!("{} is out of range 1..=100", self.max_snapshots),
            ));
        }
        Ok(ValidCutoffParams(self))
    }
}

/// Longest gap or snapshot interval accepted, in days.
const MAX_DAYS: f64 = 3650.0;

/// Checked cutoff settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidCutoffParams(CutoffParams);

impl ValidCutoffParams {
    /// Days between a deal's last cutoff and its close.
    pub fn gap_days(&self) -> f64 {
        self.0.gap_days
    }
}

/// One row per (closed lead, cutoff): `lead_id`, `as_of`, `won`, `closed_at`, sorted by
/// lead and cutoff. Every `as_of` is before the lead's `closed_at`.
pub fn training_observations(
    leads: &DataFrame,
    outcomes: &DataFrame,
    params: &ValidCutoffParams,
) -> Result<DataFrame> {
    let params = &params.0;
    let closed = outcomes
        .clone()
        .lazy()
        .join(
            leads.clone().lazy().select([col(LEAD_ID), col(CREATED_AT)]),
            [col(LEAD_ID)],
            [col(LEAD_ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .select([
            col(LEAD_ID),
            col(CREATED_AT),
            col(CLOSED_AT),
            col(OUTCOME).eq(lit(WON)).alias(WON_LABEL),
        ]);
    let micros = |days: f64| (days * MICROS_PER_DAY as f64).round() as i64;
    let snapshots: Vec<LazyFrame> = (0..params.max_snapshots)
        .map(|k| {
            let back = micros(params.gap_days) + k as i64 * micros(params.every_days);
            let as_of = (col(CLOSED_AT).cast(DataType::Int64) - lit(back))
                .cast(DataType::Datetime(TimeUnit::Microseconds, None));
            let frame = closed.clone().with_column(as_of.alias(AS_OF));
            // The first snapshot always exists; earlier ones only while the lead did.
            if k == 0 {
                frame
            } else {
                frame.filter(col(AS_OF).gt(col(CREATED_AT)))
            }
        })
        .collect();
    Ok(concat(snapshots, UnionArgs::default())?
        .select([col(LEAD_ID), col(AS_OF), col(WON_LABEL), col(CLOSED_AT)])
        .sort([LEAD_ID, AS_OF], SortMultipleOptions::default())
        .collect()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::timestamp::parse_timestamp;

    fn datetimes(name: &str, values: &[&str]) -> Column {
        let micros: Vec<i64> = values.iter().map(|v| parse_timestamp(v).unwrap()).collect();
        Int64Chunked::from_vec(name.into(), micros)
            .into_datetime(TimeUnit::Microseconds, None)
            .into_column()
    }

    fn fixture() -> (DataFrame, DataFrame) {
        let leads = DataFrame::new_infer_height(vec![
            Column::new(LEAD_ID.into(), ["A", "B", "C"]),
            datetimes(
                CREATED_AT,
                &["2025-01-01", "2025-03-20", "2025-03-31T12:00:00"],
            ),
        ])
        .unwrap();
        let outcomes = DataFrame::new_infer_height(vec![
            Column::new(LEAD_ID.into(), ["A", "B", "C"]),
            Column::new(OUTCOME.into(), ["won", "lost", "won"]),
            datetimes(CLOSED_AT, &["2025-04-01", "2025-04-01", "2025-04-01"]),
        ])
        .unwrap();
        (leads, outcomes)
    }

    #[test]
    fn snapshots_go_back_from_the_close_while_the_lead_existed() {
        let (leads, outcomes) = fixture();
        let params = CutoffParams::default().check().unwrap();
        let observed = training_observations(&leads, &outcomes, &params).unwrap();
        let ids: Vec<&str> = observed
            .column(LEAD_ID)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        // A: 6 snapshots, 14 days apart (Mar 31 back to Jan 20); B: Mar 17 is before creation,
        // so one; C: created 12 hours before its only cutoff.
        assert_eq!(ids, ["A", "A", "A", "A", "A", "A", "B", "C"]);
        let as_of = observed.column(AS_OF).unwrap().to_physical_repr();
        let as_of: Vec<i64> = as_of.i64().unwrap().iter().flatten().collect();
        assert_eq!(as_of[5], parse_timestamp("2025-03-31").unwrap());
        assert_eq!(as_of[0], parse_timestamp("2025-01-20").unwrap());
        let won: Vec<bool> = observed
            .column(WON_LABEL)
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(won, [true, true, true, true, true, true, false, true]);
    }

    #[test]
    fn every_cutoff_is_before_the_close() {
        let (leads, outcomes) = fixture();
        for gap in [0.001, 0.5, 1.0, 30.0] {
            let params = CutoffParams::default()
                .gap_days(gap)
                .max_snapshots(10)
                .check()
                .unwrap();
            let observed = training_observations(&leads, &outcomes, &params).unwrap();
            let late = observed
                .lazy()
                .filter(col(AS_OF).gt_eq(col(CLOSED_AT)))
                .collect()
                .unwrap();
            assert_eq!(late.height(), 0, "gap {gap}");
        }
    }

    #[test]
    fn rejects_invalid_settings() {
        assert!(CutoffParams::default().gap_days(-1.0).check().is_err());
        assert!(CutoffParams::default().gap_days(0.0).check().is_err());
        assert!(CutoffParams::default().gap_days(1e300).check().is_err());
        assert!(CutoffParams::default()
            .every_days(f64::MAX)
            .check()
            .is_err());
        assert!(CutoffParams::default().every_days(0.0).check().is_err());
        assert!(CutoffParams::default().max_snapshots(0).check().is_err());
    }
}
