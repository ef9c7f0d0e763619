//! Activity features in one pass per lead: the interactions are grouped by lead and
//! sorted by time once; each observation of a lead (a training snapshot, or the one
//! as-of of a scoring run) then reads only its own lead's events strictly before its
//! cutoff. Nothing is joined or materialised per (observation, interaction) pair, so
//! time and memory grow with the data, not with snapshots × events.
//!
//! The point-in-time rule is the one the polars join stated: an interaction is visible
//! to an observation when `occurred_at < as_of`, and its age is `(as_of − occurred_at)`
//! in fractional days; a window of W days holds the ages below W.

use std::collections::HashMap;

use ndarray::{ArrayViewMut2, Axis};
use polars::prelude::*;
use rayon::prelude::*;

use crate::data::columns::*;
use crate::data::timestamp::MICROS_PER_DAY;
use crate::error::{Error, Result};
use crate::points::AS_OF;

/// What the spec counts: event types with columns of their own (the rest is "other")
/// and (event type, detail) pairs, and the windows in days (`None` is all time).
pub struct ActivityPlan<'a> {
    /// Event types with columns of their own, in column order.
    pub event_types: &'a [String],
    /// (event type, detail) pairs with columns of their own, in column order.
    pub details: &'a [(String, String)],
    /// Windows, in column order.
    pub windows: &'a [Option<u32>],
}

impl ActivityPlan<'_> {
    /// Count columns: every event type, "other" and every detail pair, per window.
    pub fn width(&self) -> usize {
        (self.event_types.len() + 1 + self.details.len()) * self.windows.len()
    }
}

/// Observations per parallel block: each block writes its own rows of the output.
const BLOCK: usize = 4_096;

/// One interaction, encoded.
#[derive(Clone, Copy)]
struct Event {
    at: i64,
    /// Index into the event types, or `event_types.len()` for "other".
    kind: u32,
    /// Index into the detail pairs, or `u32::MAX` for none.
    detail: u32,
}

/// The activity of every observation (`lead_id`, `as_of`), written straight into the
/// caller's matrix: `counts` (one row per observation, [`ActivityPlan::width`] columns,
/// zeros on entry) gets the count of every event type (then "other", then every detail
/// pair) per window, window by window; `days_since_last` the age in days of the last
/// visible interaction (NaN when there is none); `active_days_90d` the distinct whole
/// days (ages floored) with activity in the last 90.
pub fn activity_into(
    plan: &ActivityPlan,
    interactions: &DataFrame,
    observations: &DataFrame,
    mut counts: ArrayViewMut2<f64>,
    days_since_last: &mut [f64],
    active_days_90d: &mut [f64],
) -> Result<()> {
    let n = observations.height();
    if counts.dim() != (n, plan.width()) || days_since_last.len() != n || active_days_90d.len() != n
    {
        return Err(Error::Polars(PolarsError::ShapeMismatch(
            "activity output does not match the observations".into(),
        )));
    }
    let obs_leads = observations.column(LEAD_ID)?.str()?;
    let obs_times = observations.column(AS_OF)?.to_physical_repr();
    let obs_times: Vec<Option<i64>> = obs_times.i64()?.iter().collect();
    // Leads that are observed, each with a dense index.
    let mut lead_index: HashMap<&str, usize> = HashMap::new();
    let obs_lead: Vec<Option<usize>> = obs_leads
        .iter()
        .map(|id| {
            id.map(|id| {
                let next = lead_index.len();
                *lead_index.entry(id).or_insert(next)
            })
        })
        .collect();
    let events = events_by_lead(plan, interactions, &lead_index)?;

    let columns_per_window = plan.event_types.len() + 1 + plan.details.len();
    let width = plan.width();
    // polars divides by multiplying with the reciprocal; so does this, so that ages
    // agree with the join's to the last bit.
    let per_day = 1.0 / MICROS_PER_DAY as f64;
    let windows: Vec<f64> = plan
        .windows
        .iter()
        .map(|w| w.map_or(f64::INFINITY, f64::from))
        .collect();
    let blocks: Vec<_> = counts
        .axis_chunks_iter_mut(Axis(0), BLOCK)
        .zip(days_since_last.chunks_mut(BLOCK))
        .zip(active_days_90d.chunks_mut(BLOCK))
        .zip(obs_lead.chunks(BLOCK).zip(obs_times.chunks(BLOCK)))
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
                let mine = &events[lead];
                // Events sorted by time: the visible ones are a prefix.
                let visible = &mine[..mine.partition_point(|e| e.at < as_of)];
                if visible.is_empty() {
                    continue;
                }
                row.fill(0);
                let (mut last_day, mut active_days) = (f64::NAN, 0u32);
                for event in visible {
                    let age = (as_of - event.at) as f64 * per_day;
                    for (w, &days) in windows.iter().enumerate() {
                        if age < days {
                            let base = w * columns_per_window;
                            row[base + event.kind as usize] += 1;
                            if event.detail != u32::MAX {
                                row[base + plan.event_types.len() + 1 + event.detail as usize] += 1;
                            }
                        }
                    }
                    if age < 90.0 {
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

/// The interactions of the observed leads, encoded and grouped by lead, each lead's in
/// time order (ties in file order).
fn events_by_lead(
    plan: &ActivityPlan,
    interactions: &DataFrame,
    lead_index: &HashMap<&str, usize>,
) -> Result<Vec<Vec<Event>>> {
    let kinds: HashMap<&str, u32> = plan
        .event_types
        .iter()
        .enumerate()
        .map(|(i, e)| (e.as_str(), i as u32))
        .collect();
    let pairs: HashMap<(&str, &str), u32> = plan
        .details
        .iter()
        .enumerate()
        .map(|(i, (e, d))| ((e.as_str(), d.as_str()), i as u32))
        .collect();
    let other = plan.event_types.len() as u32;
    let ids = interactions.column(LEAD_ID)?.str()?;
    let times = interactions.column(OCCURRED_AT)?.to_physical_repr();
    let times = times.i64()?;
    let types = interactions.column(EVENT_TYPE)?.str()?;
    let details = interactions.column(DETAIL)?.str()?;
    let mut events: Vec<Vec<Event>> = vec![Vec::new(); lead_index.len()];
    for (((id, at), kind), detail) in ids
        .iter()
        .zip(times.iter())
        .zip(types.iter())
        .zip(details.iter())
    {
        let (Some(id), Some(at)) = (id, at) else {
            continue;
        };
        let Some(&lead) = lead_index.get(id) else {
            continue;
        };
        let kind_name = kind.unwrap_or("");
        let detail = detail
            .and_then(|d| pairs.get(&(kind_name, d)))
            .copied()
            .unwrap_or(u32::MAX);
        events[lead].push(Event {
            at,
            kind: kinds.get(kind_name).copied().unwrap_or(other),
            detail,
        });
    }
    events
        .par_iter_mut()
        .for_each(|mine| mine.sort_by_key(|e| e.at));
    Ok(events)
}
