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

use polars::prelude::*;
use rayon::prelude::*;

use crate::data::columns::*;
use crate::data::timestamp::MICROS_PER_DAY;
use crate::error::Result;
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

/// Per observation, in observation order: the count of every event type (then "other",
/// then every detail pair) per window, window by window; the age in days of the last
/// visible interaction (`None` when there is none); distinct active days in the last 90.
pub struct Activity {
    /// `counts[c][o]`: column `c` of observation `o` (window-major, as described).
    pub counts: Vec<Vec<u32>>,
    /// Days since the last visible interaction.
    pub days_since_last: Vec<Option<f64>>,
    /// Distinct whole days (ages floored) with activity in the last 90 days.
    pub active_days_90d: Vec<u32>,
}

/// One interaction, encoded.
#[derive(Clone, Copy)]
struct Event {
    at: i64,
    /// Index into the event types, or `event_types.len()` for "other".
    kind: u32,
    /// Index into the detail pairs, or `u32::MAX` for none.
    detail: u32,
}

/// Computes the activity of every observation (`lead_id`, `as_of`).
pub fn activity(
    plan: &ActivityPlan,
    interactions: &DataFrame,
    observations: &DataFrame,
) -> Result<Activity> {
    let obs_leads = observations.column(LEAD_ID)?.str()?;
    let obs_times = observations.column(AS_OF)?.to_physical_repr();
    let obs_times = obs_times.i64()?;
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
    let width = columns_per_window * plan.windows.len();
    // polars divides by multiplying with the reciprocal; so does this, so that ages
    // agree with the join's to the last bit.
    let per_day = 1.0 / MICROS_PER_DAY as f64;
    let windows: Vec<f64> = plan
        .windows
        .iter()
        .map(|w| w.map_or(f64::INFINITY, f64::from))
        .collect();
    let obs_times: Vec<Option<i64>> = obs_times.iter().collect();
    let rows: Vec<(Vec<u32>, Option<f64>, u32)> = obs_lead
        .par_iter()
        .zip(obs_times.par_iter())
        .map(|(lead, as_of)| {
            let mut counts = vec![0u32; width];
            let (Some(lead), Some(as_of)) = (*lead, *as_of) else {
                return (counts, None, 0);
            };
            let mine = &events[lead];
            // Events sorted by time: the visible ones are a prefix.
            let visible = &mine[..mine.partition_point(|e| e.at < as_of)];
            let (mut last_day, mut active_days) = (f64::NAN, 0u32);
            for event in visible {
                let age = (as_of - event.at) as f64 * per_day;
                for (w, &days) in windows.iter().enumerate() {
                    if age < days {
                        let base = w * columns_per_window;
                        counts[base + event.kind as usize] += 1;
                        if event.detail != u32::MAX {
                            counts[base + plan.event_types.len() + 1 + event.detail as usize] += 1;
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
            let days_since_last = visible.last().map(|e| (as_of - e.at) as f64 * per_day);
            (counts, days_since_last, active_days)
        })
        .collect();
    let mut activity = Activity {
        counts: vec![Vec::with_capacity(rows.len()); width],
        days_since_last: Vec::with_capacity(rows.len()),
        active_days_90d: Vec::with_capacity(rows.len()),
    };
    for (counts, since, days) in rows {
        for (column, value) in activity.counts.iter_mut().zip(counts) {
            column.push(value);
        }
        activity.days_since_last.push(since);
        activity.active_days_90d.push(days);
    }
    Ok(activity)
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
