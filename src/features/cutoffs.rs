//! Where closed leads are looked at for training, and where leads are judged.
//!
//! A model scores open leads, so it must learn from closed leads as they looked while
//! they were open, at moments that say nothing about when they closed. Snapshots are
//! therefore anchored to the lead's life, not to its close: at lead ages 0, `every`,
//! 2·`every`, 4·`every`, … days (doubling, so that young and old open leads are both
//! seen), each kept while the deal was still open. A snapshot "one day before it
//! closed" would tell the model how long the deal took (its age then, its silence then),
//! which nobody knows while it is open: where lost leads are bulk-closed after months of
//! silence, such a model learns "young = won" and ranks open leads backwards.
//!
//! Models are judged the same way they are used (`open_at_dates`): at evaluation
//! dates, the leads open then are scored as of then and judged by how they later closed.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::columns::*;
use crate::data::text::IdIndex;
use crate::data::timestamp::MICROS_PER_DAY;
use crate::error::{Error, Result};
use crate::observations::AS_OF;

/// Column telling whether the observed lead's deal was won.
pub const WON_LABEL: &str = "won";

/// How closed leads are turned into training observations, as the user sets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CutoffParams {
    every_days: f64,
    max_snapshots: usize,
}

impl Default for CutoffParams {
    fn default() -> Self {
        CutoffParams {
            every_days: 7.0,
            max_snapshots: 8,
        }
    }
}

impl CutoffParams {
    /// The first snapshot age after creation, in days; later ones double (default 7).
    pub(crate) fn every_days(mut self, days: f64) -> Self {
        self.every_days = days;
        self
    }
    /// Snapshots per lead at most (default 8: ages 0, 7, 14, 28, 56, 112, 224 and 448
    /// days; 1 means one snapshot, at creation).
    pub(crate) fn max_snapshots(mut self, n: usize) -> Self {
        self.max_snapshots = n;
        self
    }

    /// Checks the settings once, naming the bad one.
    pub fn check(self) -> Result<ValidCutoffParams> {
        // Ten years bounds the arithmetic well inside i64 microseconds.
        if !(self.every_days.is_finite() && self.every_days > 0.0 && self.every_days <= MAX_DAYS) {
            return Err(Error::setting(
                "CutoffParams.every_days",
                format!(
                    "{} is not a number of days above 0 and at most {MAX_DAYS}",
                    self.every_days
                ),
            ));
        }
        if !(1..=MAX_SNAPSHOTS).contains(&self.max_snapshots) {
            return Err(Error::setting(
                "CutoffParams.max_snapshots",
                format!("{} is out of range 1..={MAX_SNAPSHOTS}", self.max_snapshots),
            ));
        }
        Ok(ValidCutoffParams(self))
    }
}

/// Longest snapshot interval accepted, in days.
const MAX_DAYS: f64 = 3650.0;
/// Most snapshots per lead: the doubling ages pass a century well before this.
const MAX_SNAPSHOTS: usize = 24;

/// Checked cutoff settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidCutoffParams(CutoffParams);

impl ValidCutoffParams {
    /// The lead ages (days) at which closed leads are observed, youngest first.
    pub(crate) fn ages_days(&self) -> Vec<f64> {
        let p = &self.0;
        (0..p.max_snapshots)
            .map(|k| {
                if k == 0 {
                    0.0
                } else {
                    p.every_days * 2f64.powi(k as i32 - 1)
                }
            })
            .take_while(|&age| age <= MAX_AGE_DAYS)
            .collect()
    }

    /// The snapshot ages in µs after creation, as the training rows place them.
    pub(crate) fn ages_micros(&self) -> Vec<i64> {
        self.ages_days().into_iter().map(micros_of_days).collect()
    }

    /// The settings in words, for `inspect` and reports.
    pub(crate) fn describe(&self) -> String {
        let ages: Vec<String> = self.ages_days().iter().map(|a| format!("{a}")).collect();
        format!(
            "each closed lead observed at ages {} days while it was open",
            ages.join(", ")
        )
    }
}

/// Snapshot ages stop here (days): a century of lead life.
const MAX_AGE_DAYS: f64 = 36_500.0;

/// One row per (closed lead, snapshot): `lead_id`, `as_of`, `won`, `closed_at`, sorted
/// by lead and snapshot. Every `as_of` is at or after the lead's creation and strictly
/// before its `closed_at`, at a lead age fixed in advance: when a deal closed decides
/// only how many snapshots it has, never where they sit.
pub fn training_observations(
    leads: &DataFrame,
    outcomes: &DataFrame,
    params: &ValidCutoffParams,
) -> Result<DataFrame> {
    match snapshots_by_deal(leads, outcomes, params)? {
        Some(observations) => Ok(observations),
        None => snapshots_by_join(leads, outcomes, params),
    }
}

/// (lead, created, closed, won) of a closed deal whose lead is known.
type Deal<'a> = (&'a str, Option<i64>, Option<i64>, Option<bool>);

fn micros_of_days(days: f64) -> i64 {
    (days * MICROS_PER_DAY as f64).round() as i64
}

/// [`training_observations`] deal by deal: each closed deal's snapshots are made in age
/// order and the deals sorted by lead, which sorts the rows without sorting them all.
/// `None` for tables outside the typed layout (µs timestamps, text ids and outcomes)
/// or with a lead id twice in either table, which [`snapshots_by_join`] handles.
fn snapshots_by_deal(
    leads: &DataFrame,
    outcomes: &DataFrame,
    params: &ValidCutoffParams,
) -> Result<Option<DataFrame>> {
    let stamp = DataType::Datetime(TimeUnit::Microseconds, None);
    let typed = |frame: &DataFrame, column: &str, dtype: &DataType| {
        frame.column(column).is_ok_and(|c| c.dtype() == dtype)
    };
    if !(typed(leads, LEAD_ID, &DataType::String)
        && typed(leads, CREATED_AT, &stamp)
        && typed(outcomes, LEAD_ID, &DataType::String)
        && typed(outcomes, OUTCOME, &DataType::String)
        && typed(outcomes, CLOSED_AT, &stamp))
    {
        return Ok(None);
    }
    let created = leads.column(CREATED_AT)?.to_physical_repr();
    let created = created.i64()?;
    let lead_ids: Vec<&str> = match leads.column(LEAD_ID)?.str()?.iter().collect() {
        Some(ids) => ids,
        None => return Ok(None),
    };
    let lead_ids = IdIndex::new(lead_ids);
    if lead_ids.has_repeats() {
        return Ok(None);
    }
    let closed = outcomes.column(CLOSED_AT)?.to_physical_repr();
    let closed = closed.i64()?;
    let mut cursor = None;
    let mut deals: Vec<Deal> = outcomes
        .column(LEAD_ID)?
        .str()?
        .iter()
        .zip(closed.iter())
        .zip(outcomes.column(OUTCOME)?.str()?.iter())
        .filter_map(|((id, closed), outcome)| {
            let id = id?;
            let created = created.get(lead_ids.find(id, &mut cursor)?);
            Some((id, created, closed, outcome.map(|o| o == WON)))
        })
        .collect();
    if !deals.is_sorted_by(|a, b| a.0 <= b.0) {
        deals.sort_unstable_by(|a, b| a.0.cmp(b.0));
    }
    if deals.windows(2).any(|pair| pair[0].0 == pair[1].0) {
        return Ok(None);
    }
    let ages = params.ages_micros();
    let mut ids = Vec::new();
    let mut as_of = Vec::new();
    let mut won = Vec::new();
    let mut closed_at = Vec::new();
    let mut times = Vec::with_capacity(ages.len());
    for &(id, created, closed, label) in &deals {
        let (Some(created), Some(closed)) = (created, closed) else {
            continue;
        };
        times.clear();
        times.extend(
            ages.iter()
                .map(|&age| created.wrapping_add(age))
                .filter(|&at| at < closed),
        );
        times.sort_unstable();
        for &at in &times {
            ids.push(id);
            as_of.push(at);
            won.push(label);
            closed_at.push(closed);
        }
    }
    let rows = ids.len();
    let columns = vec![
        StringChunked::from_iter_values(LEAD_ID.into(), ids.into_iter()).into_column(),
        Int64Chunked::from_vec(AS_OF.into(), as_of)
            .into_datetime(TimeUnit::Microseconds, None)
            .into_column(),
        BooleanChunked::from_iter_options(WON_LABEL.into(), won.into_iter()).into_column(),
        Int64Chunked::from_vec(CLOSED_AT.into(), closed_at)
            .into_datetime(TimeUnit::Microseconds, None)
            .into_column(),
    ];
    Ok(Some(DataFrame::new(rows, columns)?))
}

/// [`training_observations`] by polars queries: a join, one frame per age, a sort.
fn snapshots_by_join(
    leads: &DataFrame,
    outcomes: &DataFrame,
    params: &ValidCutoffParams,
) -> Result<DataFrame> {
    let closed = closed_deals(leads, outcomes);
    let snapshots: Vec<LazyFrame> = params
        .ages_days()
        .into_iter()
        .map(|age| {
            let as_of = (col(CREATED_AT).cast(DataType::Int64) + lit(micros_of_days(age)))
                .cast(DataType::Datetime(TimeUnit::Microseconds, None));
            closed
                .clone()
                .with_column(as_of.alias(AS_OF))
                .filter(col(AS_OF).lt(col(CLOSED_AT)))
        })
        .collect();
    Ok(concat(snapshots, UnionArgs::default())?
        .select([col(LEAD_ID), col(AS_OF), col(WON_LABEL), col(CLOSED_AT)])
        .sort([LEAD_ID, AS_OF], SortMultipleOptions::default())
        .collect()?)
}

/// Closed deals with their lead's creation time and the label.
fn closed_deals(leads: &DataFrame, outcomes: &DataFrame) -> LazyFrame {
    outcomes
        .clone()
        .lazy()
        .join_on_lead(
            leads.clone().lazy().select([col(LEAD_ID), col(CREATED_AT)]),
            JoinType::Inner,
        )
        .select([
            col(LEAD_ID),
            col(CREATED_AT),
            col(CLOSED_AT),
            col(OUTCOME).eq(lit(WON)).alias(WON_LABEL),
        ])
}

/// The leads open at each date (created at or before it, closed after it) whose deal
/// has since closed, one row per (date, lead) as of that date: `lead_id`, `as_of`,
/// `won`, `closed_at`, by date then lead. This is how a model is used (score the open
/// leads tonight) replayed on history, so it is how models are judged.
pub(crate) fn open_at_dates(
    leads: &DataFrame,
    outcomes: &DataFrame,
    dates: &[i64],
) -> Result<DataFrame> {
    let closed = closed_deals(leads, outcomes);
    let at_dates: Vec<LazyFrame> = dates
        .iter()
        .map(|&date| {
            let as_of = lit(date).cast(DataType::Datetime(TimeUnit::Microseconds, None));
            closed
                .clone()
                .filter(
                    col(CREATED_AT)
                        .cast(DataType::Int64)
                        .lt_eq(lit(date))
                        .and(col(CLOSED_AT).cast(DataType::Int64).gt(lit(date))),
                )
                .with_column(as_of.alias(AS_OF))
        })
        .collect();
    if at_dates.is_empty() {
        return Ok(closed
            .select([
                col(LEAD_ID),
                col(CREATED_AT).alias(AS_OF),
                col(WON_LABEL),
                col(CLOSED_AT),
            ])
            .limit(0)
            .collect()?);
    }
    Ok(concat(at_dates, UnionArgs::default())?
        .select([col(LEAD_ID), col(AS_OF), col(WON_LABEL), col(CLOSED_AT)])
        .sort([AS_OF, LEAD_ID], SortMultipleOptions::default())
        .collect()?)
}

/// Evaluation dates from `from` (inclusive) to `to` (exclusive), `every` µs apart.
pub(crate) fn evaluation_dates(from: i64, to: i64, every: i64) -> Vec<i64> {
    let every = every.max(1);
    let mut dates = Vec::new();
    let mut date = from;
    while date < to && dates.len() < MAX_EVALUATION_DATES {
        dates.push(date);
        date = date.saturating_add(every);
    }
    dates
}

/// From the first lead's creation to just after the last close (µs), when both exist:
/// the span over which evaluation dates can find open leads.
pub(crate) fn history_span(leads: &DataFrame, outcomes: &DataFrame) -> Result<Option<(i64, i64)>> {
    let first = leads.column(CREATED_AT)?.to_physical_repr().i64()?.min();
    let last = outcomes.column(CLOSED_AT)?.to_physical_repr().i64()?.max();
    Ok(first.zip(last.map(|l| l.saturating_add(1))))
}

/// Evaluation dates at most (ten years of days).
pub(crate) const MAX_EVALUATION_DATES: usize = 3660;

/// The default spacing of evaluation dates (µs): the median time a closed deal stayed
/// open, between 1 and 30 days, so that a typical deal is judged about once and short
/// deals are not missed between two dates.
pub(crate) fn typical_open_time(leads: &DataFrame, outcomes: &DataFrame) -> Result<i64> {
    let durations = closed_deals(leads, outcomes)
        .select([
            (col(CLOSED_AT).cast(DataType::Int64) - col(CREATED_AT).cast(DataType::Int64))
                .alias("open"),
        ])
        .collect()?;
    let mut open: Vec<i64> = durations.column("open")?.i64()?.iter().flatten().collect();
    open.sort_unstable();
    let median = open.get(open.len() / 2).copied().unwrap_or(MICROS_PER_DAY);
    Ok(median.clamp(MICROS_PER_DAY, 30 * MICROS_PER_DAY))
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

    fn ids_and_times(observed: &DataFrame) -> Vec<(String, i64)> {
        let ids = observed.column(LEAD_ID).unwrap().str().unwrap().clone();
        let as_of = observed.column(AS_OF).unwrap().to_physical_repr();
        let as_of = as_of.i64().unwrap();
        ids.iter()
            .zip(as_of.iter())
            .map(|(id, t)| (id.unwrap().to_string(), t.unwrap()))
            .collect()
    }

    #[test]
    fn snapshots_sit_at_fixed_lead_ages_while_the_deal_was_open() {
        let (leads, outcomes) = fixture();
        let params = CutoffParams::default().check().unwrap();
        assert_eq!(
            params.ages_days(),
            [0.0, 7.0, 14.0, 28.0, 56.0, 112.0, 224.0, 448.0]
        );
        let observed = training_observations(&leads, &outcomes, &params).unwrap();
        let day = |t: &str| parse_timestamp(t).unwrap();
        let expected: Vec<(String, i64)> = [
            // A: created Jan 1, closed Apr 1 (90 days): ages 0, 7, 14, 28, 56.
            ("A", "2025-01-01"),
            ("A", "2025-01-08"),
            ("A", "2025-01-15"),
            ("A", "2025-01-29"),
            ("A", "2025-02-26"),
            // B: created Mar 20, closed Apr 1: ages 0 and 7.
            ("B", "2025-03-20"),
            ("B", "2025-03-27"),
            // C: open for 12 hours: at creation only.
            ("C", "2025-03-31T12:00:00"),
        ]
        .iter()
        .map(|(id, t)| (id.to_string(), day(t)))
        .collect();
        assert_eq!(ids_and_times(&observed), expected);
    }

    #[test]
    fn when_a_deal_closed_decides_how_many_snapshots_never_where() {
        // The same lead closed 10 days or 400 days after creation: the later close only
        // adds snapshots, so no snapshot's position can tell how long the deal took.
        let (leads, _) = fixture();
        let params = CutoffParams::default().check().unwrap();
        let close_after = |days: i64| {
            let created = parse_timestamp("2025-01-01").unwrap();
            let outcomes = DataFrame::new_infer_height(vec![
                Column::new(LEAD_ID.into(), ["A"]),
                Column::new(OUTCOME.into(), ["lost"]),
                Int64Chunked::from_vec(CLOSED_AT.into(), vec![created + days * MICROS_PER_DAY])
                    .into_datetime(TimeUnit::Microseconds, None)
                    .into_column(),
            ])
            .unwrap();
            ids_and_times(&training_observations(&leads, &outcomes, &params).unwrap())
        };
        let short = close_after(10);
        let long = close_after(400);
        assert_eq!(short.len(), 2);
        assert_eq!(long.len(), 7);
        assert_eq!(short[..], long[..short.len()]);
    }

    #[test]
    fn every_snapshot_is_before_the_close_and_not_before_creation() {
        let (leads, outcomes) = fixture();
        for every in [0.001, 0.5, 1.0, 30.0] {
            let params = CutoffParams::default()
                .every_days(every)
                .max_snapshots(20)
                .check()
                .unwrap();
            let observed = training_observations(&leads, &outcomes, &params).unwrap();
            let late = observed
                .lazy()
                .filter(col(AS_OF).gt_eq(col(CLOSED_AT)))
                .collect()
                .unwrap();
            assert_eq!(late.height(), 0, "every {every}");
        }
    }

    #[test]
    fn open_leads_at_dates_are_those_created_by_then_and_closed_after() {
        let (leads, outcomes) = fixture();
        let day = |t: &str| parse_timestamp(t).unwrap();
        let dates = [
            day("2025-03-20"),
            day("2025-03-31T12:00:00"),
            day("2025-04-01"),
        ];
        let open = open_at_dates(&leads, &outcomes, &dates).unwrap();
        let expected: Vec<(String, i64)> = [
            ("A", "2025-03-20"),
            ("B", "2025-03-20"),
            ("A", "2025-03-31T12:00:00"),
            ("B", "2025-03-31T12:00:00"),
            ("C", "2025-03-31T12:00:00"),
        ]
        .iter()
        .map(|(id, t)| (id.to_string(), day(t)))
        .collect();
        assert_eq!(ids_and_times(&open), expected);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Deal by deal gives the rows the polars queries give, in the same order.
        #[test]
        fn snapshots_by_deal_agree_with_the_join(
            leads in proptest::collection::vec(0i64..400, 1..12),
            deals in proptest::collection::vec((0usize..14, 0i64..900, proptest::bool::ANY), 0..12),
            every in 1u32..40,
        ) {
            let day = MICROS_PER_DAY;
            let mut seen = std::collections::BTreeSet::new();
            let deals: Vec<_> = deals.into_iter().filter(|d| seen.insert(d.0)).collect();
            let leads = DataFrame::new_infer_height(vec![
                Column::new(LEAD_ID.into(), (0..leads.len()).map(|i| format!("L{}", (i * 7) % 13)).collect::<Vec<_>>()),
                Int64Chunked::from_vec(CREATED_AT.into(), leads.iter().map(|d| d * day / 3).collect())
                    .into_datetime(TimeUnit::Microseconds, None)
                    .into_column(),
            ]).unwrap();
            let outcomes = DataFrame::new_infer_height(vec![
                Column::new(LEAD_ID.into(), deals.iter().map(|d| format!("L{}", d.0)).collect::<Vec<_>>()),
                Column::new(OUTCOME.into(), deals.iter().map(|d| if d.2 { "won" } else { "lost" }).collect::<Vec<_>>()),
                Int64Chunked::from_vec(CLOSED_AT.into(), deals.iter().map(|d| d.1 * day / 2).collect())
                    .into_datetime(TimeUnit::Microseconds, None)
                    .into_column(),
            ]).unwrap();
            let params = CutoffParams::default().every_days(every as f64 / 4.0).max_snapshots(12).check().unwrap();
            let fast = snapshots_by_deal(&leads, &outcomes, &params).unwrap();
            let slow = snapshots_by_join(&leads, &outcomes, &params).unwrap();
            let fast = fast.expect("typed tables with distinct ids are done deal by deal");
            proptest::prop_assert!(fast.equals_missing(&slow), "{fast}\n{slow}");
            proptest::prop_assert_eq!(fast.schema(), slow.schema());
        }
    }

    #[test]
    fn evaluation_dates_step_and_stop() {
        assert_eq!(evaluation_dates(0, 10, 3), [0, 3, 6, 9]);
        assert!(evaluation_dates(5, 5, 1).is_empty());
    }

    #[test]
    fn rejects_invalid_settings() {
        assert!(CutoffParams::default().every_days(-1.0).check().is_err());
        assert!(CutoffParams::default()
            .every_days(f64::MAX)
            .check()
            .is_err());
        assert!(CutoffParams::default().every_days(0.0).check().is_err());
        assert!(CutoffParams::default().max_snapshots(0).check().is_err());
        assert!(CutoffParams::default().max_snapshots(25).check().is_err());
    }
}
