//! Activity features in one pass per lead: the interactions are grouped by lead and
//! sorted by time once; each observation of a lead (a training snapshot, or the one
//! as-of of a scoring run) then reads only its own lead's events strictly before its
//! cutoff. Nothing is joined or materialised per (observation, interaction) pair, so
//! time and memory grow with the data, not with snapshots × events.
//!
//! The point-in-time rule is the one the polars join stated: an interaction is visible
//! to an observation when `occurred_at < as_of`, and its age is `(as_of − occurred_at)`
//! in fractional days; a window of W days holds the ages below W.

use ndarray::{ArrayViewMut2, Axis};
use polars::prelude::*;
use rayon::prelude::*;

use crate::data::events::{EventIndex, IndexedEvent, NO_DETAIL};
use crate::data::timestamp::DAYS_PER_MICRO;
use crate::error::{Error, Result};

/// Distinct active days are counted over this many days before the cutoff (the SQL
/// export writes the same).
pub(crate) const ACTIVE_DAYS_WINDOW: f64 = 90.0;

/// What the spec counts: event types with columns of their own (the rest is "other")
/// and (event type, detail) pairs, and the windows in days (`None` is all time).
pub(crate) struct ActivityPlan<'a> {
    /// Event types with columns of their own, in column order.
    pub(crate) event_types: &'a [String],
    /// (event type, detail) pairs with columns of their own, in column order.
    pub(crate) details: &'a [(String, String)],
    /// Windows, in column order.
    pub(crate) windows: &'a [Option<u32>],
}

impl ActivityPlan<'_> {
    /// Count columns: every event type, "other" and every detail pair, per window.
    pub(crate) fn width(&self) -> usize {
        (self.event_types.len() + 1 + self.details.len()) * self.windows.len()
    }
}

/// Observations per parallel block: each block writes its own rows of the output.
const BLOCK: usize = 4_096;

/// The activity of every observation (its lead's row in the leads table, its `as_of`
/// in µs), written straight into the caller's matrix: `counts` (one row per
/// observation, [`ActivityPlan::width`] columns, zeros on entry) gets the count of every
/// event type (then "other", then every detail pair) per window, window by window;
/// `days_since_last` the age in days of the last visible interaction (NaN when there is
/// none); `active_days_90d` the distinct whole days (ages floored) with activity in the
/// last 90.
pub(crate) fn activity_into(
    plan: &ActivityPlan,
    index: &EventIndex,
    lead_of: &[Option<usize>],
    as_of: &[Option<i64>],
    mut counts: ArrayViewMut2<f64>,
    days_since_last: &mut [f64],
    active_days_90d: &mut [f64],
) -> Result<()> {
    let n = lead_of.len();
    if as_of.len() != n
        || counts.dim() != (n, plan.width())
        || days_since_last.len() != n
        || active_days_90d.len() != n
    {
        return Err(Error::Polars(PolarsError::ShapeMismatch(
            "activity output does not match the observations".into(),
        )));
    }
    let columns = PlanColumns::new(plan, index);
    let columns_per_window = plan.event_types.len() + 1 + plan.details.len();
    let width = plan.width();
    // polars divides by multiplying with the reciprocal; so does this, so that ages
    // agree with the join's to the last bit.
    let per_day = DAYS_PER_MICRO;
    let windows: Vec<f64> = plan
        .windows
        .iter()
        .map(|w| w.map_or(f64::INFINITY, f64::from))
        .collect();
    let blocks: Vec<_> = counts
        .axis_chunks_iter_mut(Axis(0), BLOCK)
        .zip(days_since_last.chunks_mut(BLOCK))
        .zip(active_days_90d.chunks_mut(BLOCK))
        .zip(lead_of.chunks(BLOCK).zip(as_of.chunks(BLOCK)))
        .collect();
    blocks
        .into_par_iter()
        .for_each(|(((mut out, since), active), (leads, times))| {
            let mut row = vec![0u32; width];
            for (r, (lead, as_of)) in leads.iter().zip(times).enumerate() {
                since[r] = f64::NAN;
                active[r] = 0.0;
                let (Some(lead), Some(as_of)) = (*lead, *as_of) else {
                    continue;
                };
                let visible = index.before(lead, as_of);
                if visible.is_empty() {
                    continue;
                }
                row.fill(0);
                let (mut last_day, mut active_days) = (f64::NAN, 0u32);
                for event in visible {
                    let age = (as_of - event.at) as f64 * per_day;
                    let kind = columns.kind[event.kind as usize] as usize;
                    let detail = columns.detail(event);
                    for (w, &days) in windows.iter().enumerate() {
                        if age < days {
                            let base = w * columns_per_window;
                            row[base + kind] += 1;
                            if let Some(detail) = detail {
                                row[base + detail] += 1;
                            }
                        }
                    }
                    if age < ACTIVE_DAYS_WINDOW {
                        // Ages fall as time rises, so equal floored days are adjacent.
                        let day = age.floor();
                        if day != last_day {
                            active_days += 1;
                            last_day = day;
                        }
                    }
                }
                for (c, &count) in row.iter().enumerate() {
                    if count != 0 {
                        out[[r, c]] = f64::from(count);
                    }
                }
                if let Some(last) = visible.last() {
                    since[r] = (as_of - last.at) as f64 * per_day;
                }
                active[r] = f64::from(active_days);
            }
        });
    Ok(())
}

/// Where an indexed event counts in a plan's columns (within one window).
struct PlanColumns {
    /// Per kind code: the event type's column, or "other"'s.
    kind: Vec<u32>,
    /// Per detail code: the (kind code, column) pairs the plan counts it for.
    detail: Vec<Vec<(u32, usize)>>,
}

impl PlanColumns {
    fn new(plan: &ActivityPlan, index: &EventIndex) -> Self {
        let other = plan.event_types.len() as u32;
        let kind = index
            .kinds
            .iter()
            .map(|k| {
                plan.event_types
                    .iter()
                    .position(|e| e == k)
                    .map_or(other, |i| i as u32)
            })
            .collect();
        let mut detail = vec![Vec::new(); index.details.len()];
        for (i, (event, value)) in plan.details.iter().enumerate() {
            let kind_code = index.kinds.iter().position(|k| k == event);
            let detail_code = index.details.iter().position(|d| d == value);
            if let (Some(k), Some(d)) = (kind_code, detail_code) {
                detail[d].push((k as u32, plan.event_types.len() + 1 + i));
            }
        }
        PlanColumns { kind, detail }
    }

    fn detail(&self, event: &IndexedEvent) -> Option<usize> {
        if event.detail == NO_DETAIL {
            return None;
        }
        self.detail[event.detail as usize]
            .iter()
            .find(|(kind, _)| *kind == event.kind)
            .map(|(_, column)| *column)
    }
}
