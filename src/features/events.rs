//! The interactions encoded once per run: grouped by the lead's row in the leads table,
//! each lead's events in time order (ties in file order), event types and details as
//! small integer codes. Every feature matrix a command builds (training snapshots,
//! holdout dates, the scored base) reads its activity from this one index, so the
//! strings of tens of millions of interactions are hashed once, not once per matrix.

use polars::prelude::*;
use rayon::prelude::*;

use crate::data::columns::*;
use crate::data::text::{each_run, IdIndex};
use crate::error::Result;

/// One interaction, encoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndexedEvent {
    /// When it happened (µs since the epoch).
    pub at: i64,
    /// Code of its event type in [`EventIndex::kinds`] (a missing type is "").
    pub kind: u32,
    /// Code of its detail in [`EventIndex::details`], or [`NO_DETAIL`].
    pub detail: u32,
}

/// The detail code of an interaction without one.
pub const NO_DETAIL: u32 = u32::MAX;

/// Interactions grouped by lead row, time-ordered within each lead.
#[derive(Debug)]
pub struct EventIndex {
    /// Lead row `l`'s events are `events[starts[l]..starts[l + 1]]`.
    starts: Vec<usize>,
    events: Vec<IndexedEvent>,
    /// Event type of each kind code.
    pub kinds: Vec<String>,
    /// Detail of each detail code.
    pub details: Vec<String>,
}

impl EventIndex {
    /// Indexes the interactions of the leads in `leads` (by row; a lead listed twice,
    /// which validation refuses, is found at its last row); interactions of other leads
    /// (which loading reports and drops) or without a time are left out.
    pub fn new(leads: &DataFrame, interactions: &DataFrame) -> Result<Self> {
        let lead_ids = leads.column(LEAD_ID)?.str()?;
        let lead_index = IdIndex::new(lead_ids.iter().map(|id| id.unwrap_or("")).collect());
        let ids = interactions.column(LEAD_ID)?.str()?;
        let times = interactions.column(OCCURRED_AT)?.to_physical_repr();
        let times = times.i64()?;
        // Pass 1: each interaction's lead row (u32::MAX when it has none), and how many
        // each lead has. Ids are looked up once per run of equal ids (an export grouped
        // by lead needs one look-up per lead).
        let mut counts = vec![0usize; lead_ids.len()];
        let mut rows = vec![u32::MAX; ids.len()];
        let mut cursor = None;
        each_run(ids, |start, len, id| {
            let Some(row) = id.and_then(|id| lead_index.find(id, &mut cursor)) else {
                return;
            };
            rows[start..start + len].fill(row as u32);
            counts[row] += len;
        });
        if times.null_count() > 0 {
            for (row, at) in rows.iter_mut().zip(times.iter()) {
                if at.is_none() && *row != u32::MAX {
                    counts[*row as usize] -= 1;
                    *row = u32::MAX;
                }
            }
        }
        let mut starts = Vec::with_capacity(counts.len() + 1);
        let mut total = 0;
        for count in &counts {
            starts.push(total);
            total += count;
        }
        starts.push(total);
        // Pass 2: events into their lead's slot, in file order.
        let mut kinds = Dictionary::default();
        let mut details = Dictionary::default();
        let mut next = starts.clone();
        let mut events = vec![
            IndexedEvent {
                at: 0,
                kind: 0,
                detail: NO_DETAIL,
            };
            total
        ];
        let types = interactions.column(EVENT_TYPE)?.str()?;
        let detail_values = interactions.column(DETAIL)?.str()?;
        for (((&row, at), kind), detail) in rows
            .iter()
            .zip(times.iter())
            .zip(types.iter())
            .zip(detail_values.iter())
        {
            let (Some(at), true) = (at, row != u32::MAX) else {
                continue;
            };
            let slot = &mut next[row as usize];
            events[*slot] = IndexedEvent {
                at,
                kind: kinds.code(kind.unwrap_or("")),
                detail: detail.map_or(NO_DETAIL, |d| details.code(d)),
            };
            *slot += 1;
        }
        drop(rows);
        // Each lead's events in time order; the sort is stable, so ties keep file order.
        let mut slices: Vec<&mut [IndexedEvent]> = Vec::with_capacity(counts.len());
        let mut rest = events.as_mut_slice();
        for &count in &counts {
            let (mine, later) = rest.split_at_mut(count);
            slices.push(mine);
            rest = later;
        }
        slices
            .into_par_iter()
            .for_each(|mine| mine.sort_by_key(|e| e.at));
        Ok(EventIndex {
            starts,
            events,
            kinds: kinds.values,
            details: details.values,
        })
    }

    /// The events of the lead at `row` of the leads table, in time order.
    pub fn of_lead(&self, row: usize) -> &[IndexedEvent] {
        match (self.starts.get(row), self.starts.get(row + 1)) {
            (Some(&start), Some(&end)) => &self.events[start..end],
            _ => &[],
        }
    }
}

/// Codes for strings, in order of first appearance.
#[derive(Default)]
struct Dictionary<'a> {
    codes: PlHashMap<&'a str, u32>,
    values: Vec<String>,
}

impl<'a> Dictionary<'a> {
    fn code(&mut self, value: &'a str) -> u32 {
        if let Some(&code) = self.codes.get(value) {
            return code;
        }
        let code = self.values.len() as u32;
        self.codes.insert(value, code);
        self.values.push(value.to_string());
        code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_lead_row_in_time_order_and_skips_unknown_leads_and_missing_times() {
        let leads = df!(LEAD_ID => ["a", "b", "c"]).unwrap();
        let interactions = df!(
            LEAD_ID => ["b", "a", "x", "b", "b", "a"],
            OCCURRED_AT => [Some(30i64), Some(10), Some(5), Some(20), Some(30), None],
            EVENT_TYPE => [Some("open"), Some("visit"), Some("open"), None, Some("visit"), Some("open")],
            DETAIL => [None, Some("/p"), None, Some("/p"), Some("/q"), None],
        )
        .unwrap();
        let index = EventIndex::new(&leads, &interactions).unwrap();
        let kind = |name: &str| index.kinds.iter().position(|k| k == name).unwrap() as u32;
        let detail = |name: &str| index.details.iter().position(|d| d == name).unwrap() as u32;
        assert_eq!(
            index.of_lead(0),
            [IndexedEvent {
                at: 10,
                kind: kind("visit"),
                detail: detail("/p")
            }]
        );
        assert_eq!(
            index.of_lead(1),
            [
                IndexedEvent {
                    at: 20,
                    kind: kind(""),
                    detail: detail("/p")
                },
                IndexedEvent {
                    at: 30,
                    kind: kind("open"),
                    detail: NO_DETAIL
                },
                IndexedEvent {
                    at: 30,
                    kind: kind("visit"),
                    detail: detail("/q")
                },
            ]
        );
        assert!(index.of_lead(2).is_empty());
        assert!(index.of_lead(3).is_empty());
    }
}
