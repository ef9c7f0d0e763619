//! The interactions encoded once per run: grouped by the lead's row in the leads table,
//! each lead's events in time order (ties in file order), event types and details as
//! small integer codes. Every feature matrix a command builds (training snapshots,
//! holdout dates, the scored base) reads its activity from this one index, so the
//! strings of tens of millions of interactions are hashed once, not once per matrix.

use polars::prelude::*;
use rayon::prelude::*;

use crate::data::columns::*;
use crate::data::text::{each_run, IdIndex, ViewCache};
use crate::error::Result;

/// One interaction, encoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct IndexedEvent {
    /// When it happened (µs since the epoch).
    pub(crate) at: i64,
    /// Code of its event type in [`EventIndex::kinds`] (a missing type is "").
    pub(crate) kind: u32,
    /// Code of its detail in [`EventIndex::details`], or [`NO_DETAIL`].
    pub(crate) detail: u32,
}

/// The detail code of an interaction without one.
pub(crate) const NO_DETAIL: u32 = u32::MAX;

/// Interactions grouped by lead row, time-ordered within each lead.
#[derive(Debug, PartialEq)]
pub struct EventIndex {
    /// Lead row `l`'s events are `events[starts[l]..starts[l + 1]]`.
    starts: Vec<usize>,
    events: Vec<IndexedEvent>,
    /// Event type of each kind code.
    pub(crate) kinds: Vec<String>,
    /// Detail of each detail code.
    pub(crate) details: Vec<String>,
}

impl EventIndex {
    /// Indexes the interactions of the leads in `leads` (by row; a lead listed twice,
    /// which validation refuses, is found at its last row); interactions of other leads
    /// (which loading reports and drops) or without a time are left out.
    pub fn new(leads: &DataFrame, interactions: &DataFrame) -> Result<Self> {
        let mut counter = EventCounter::new(leads)?;
        counter.count(interactions)?;
        let mut placer = counter.placer();
        // Placed a few million rows at a time, so the codes of one part are all the
        // placing holds beside the index.
        let mut offset = 0;
        while offset < interactions.height() {
            let part = interactions.slice(offset as i64, PLACED_AT_ONCE);
            placer.place(&part)?;
            offset += part.height();
        }
        placer.finish()
    }

    /// The events of the lead at `row` of the leads table, in time order.
    pub(crate) fn of_lead(&self, row: usize) -> &[IndexedEvent] {
        match (self.starts.get(row), self.starts.get(row + 1)) {
            (Some(&start), Some(&end)) => &self.events[start..end],
            _ => &[],
        }
    }

    /// The events of the lead at `row` that happened strictly before `as_of`: what an
    /// observation of it as of then may see (the point-in-time cut on the index).
    pub(crate) fn before(&self, row: usize, as_of: i64) -> &[IndexedEvent] {
        let mine = self.of_lead(row);
        &mine[..mine.partition_point(|e| e.at < as_of)]
    }

    /// Interactions indexed.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether no interaction was indexed.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// Rows of a whole frame placed at once by [`EventIndex::new`].
const PLACED_AT_ONCE: usize = 1 << 22;

/// The first of an index's two passes: the interactions, in parts (a whole frame is one
/// part; a Parquet file read a few row groups at a time is many), each counted against
/// its lead. Its [`placer`](Self::placer) is then given the same parts in the same order,
/// so the index is built without ever holding all interactions as a frame.
pub(crate) struct EventCounter<'a> {
    lead_index: IdIndex<'a>,
    /// Interactions per lead row.
    counts: Vec<usize>,
    /// Each counted interaction's lead row (`u32::MAX` when it has none or no time).
    rows: Vec<u32>,
}

impl<'a> EventCounter<'a> {
    /// Counting for the leads of `leads`, by row.
    pub(crate) fn new(leads: &'a DataFrame) -> Result<Self> {
        let lead_ids = leads.column(LEAD_ID)?.str()?;
        Ok(EventCounter {
            lead_index: IdIndex::new(lead_ids.iter().map(|id| id.unwrap_or("")).collect()),
            counts: vec![0; lead_ids.len()],
            rows: Vec::new(),
        })
    }

    /// Counts the next part (typed interactions). Ids are looked up once per run of equal
    /// ids (an export grouped by lead needs one look-up per lead).
    pub(crate) fn count(&mut self, part: &DataFrame) -> Result<()> {
        let ids = part.column(LEAD_ID)?.str()?;
        let times = part.column(OCCURRED_AT)?.to_physical_repr();
        let times = times.i64()?;
        let first = self.rows.len();
        self.rows.resize(first + ids.len(), u32::MAX);
        let rows = &mut self.rows[first..];
        let mut cursor = None;
        each_run(ids, |start, len, id| {
            let Some(row) = id.and_then(|id| self.lead_index.find(id, &mut cursor)) else {
                return;
            };
            rows[start..start + len].fill(row as u32);
            self.counts[row] += len;
        });
        if times.null_count() > 0 {
            for (row, at) in rows.iter_mut().zip(times.iter()) {
                if at.is_none() && *row != u32::MAX {
                    self.counts[*row as usize] -= 1;
                    *row = u32::MAX;
                }
            }
        }
        Ok(())
    }

    /// The second pass, over the same parts.
    pub(crate) fn placer(self) -> EventPlacer {
        let mut starts = Vec::with_capacity(self.counts.len() + 1);
        let mut total = 0;
        for count in &self.counts {
            starts.push(total);
            total += count;
        }
        starts.push(total);
        EventPlacer {
            next: starts[..self.counts.len()].to_vec(),
            starts,
            events: vec![
                IndexedEvent {
                    at: 0,
                    kind: 0,
                    detail: NO_DETAIL,
                };
                total
            ],
            rows: self.rows,
            placed: 0,
            kinds: Dictionary::default(),
            details: Dictionary::default(),
        }
    }
}

/// The second of an index's two passes (see [`EventCounter`]): every counted part again,
/// each interaction written into its lead's slot in file order.
pub(crate) struct EventPlacer {
    starts: Vec<usize>,
    /// Each lead row's next free slot.
    next: Vec<usize>,
    events: Vec<IndexedEvent>,
    /// The counting pass's lead rows.
    rows: Vec<u32>,
    /// Rows of the parts placed so far.
    placed: usize,
    kinds: Dictionary,
    details: Dictionary,
}

impl EventPlacer {
    /// Places the next part: the one counted at this place.
    pub(crate) fn place(&mut self, part: &DataFrame) -> Result<()> {
        let n = part.height();
        let Some(rows) = self.rows.get(self.placed..self.placed + n) else {
            return Err(polars_err!(
                ComputeError: "placing interactions {}..{}, but {} were counted",
                self.placed,
                self.placed + n,
                self.rows.len()
            )
            .into());
        };
        let times = part.column(OCCURRED_AT)?.to_physical_repr();
        let times = times.i64()?;
        let types = part.column(EVENT_TYPE)?.str()?;
        let details = part.column(DETAIL)?.str()?;
        let (kinds, detail_codes) = rayon::join(
            || self.kinds.codes(types, None),
            || self.details.codes(details, Some(NO_DETAIL)),
        );
        for (((&row, at), kind), detail) in
            rows.iter().zip(times.iter()).zip(kinds).zip(detail_codes)
        {
            let (Some(at), true) = (at, row != u32::MAX) else {
                continue;
            };
            let slot = &mut self.next[row as usize];
            self.events[*slot] = IndexedEvent { at, kind, detail };
            *slot += 1;
        }
        self.placed += n;
        Ok(())
    }

    /// The index, each lead's events in time order (the sort is stable, so ties keep
    /// file order). Fails when fewer rows were placed than counted.
    pub(crate) fn finish(mut self) -> Result<EventIndex> {
        if self.placed != self.rows.len() {
            return Err(polars_err!(
                ComputeError: "{} interactions were counted but {} placed",
                self.rows.len(),
                self.placed
            )
            .into());
        }
        drop(std::mem::take(&mut self.rows));
        let mut slices: Vec<&mut [IndexedEvent]> = Vec::with_capacity(self.next.len());
        let mut rest = self.events.as_mut_slice();
        for pair in self.starts.windows(2) {
            let (mine, later) = rest.split_at_mut(pair[1] - pair[0]);
            slices.push(mine);
            rest = later;
        }
        slices
            .into_par_iter()
            .for_each(|mine| mine.sort_by_key(|e| e.at));
        Ok(EventIndex {
            starts: self.starts,
            events: self.events,
            kinds: self.kinds.values,
            details: self.details.values,
        })
    }
}

/// Codes for strings, in order of first appearance.
#[derive(Default)]
struct Dictionary {
    codes: PlHashMap<String, u32>,
    values: Vec<String>,
}

impl Dictionary {
    fn code(&mut self, value: &str) -> u32 {
        if let Some(&code) = self.codes.get(value) {
            return code;
        }
        let code = self.values.len() as u32;
        self.codes.insert(value.to_string(), code);
        self.values.push(value.to_string());
        code
    }

    /// The code of every row of `values` in order, a missing one `missing` (or, without
    /// it, the code of ""). Rows
    /// of a Parquet dictionary column share views, and short values are their views:
    /// most rows are coded by their view, without hashing their text.
    fn codes(&mut self, values: &StringChunked, missing: Option<u32>) -> Vec<u32> {
        let mut codes = Vec::with_capacity(values.len());
        let mut views: ViewCache<u32> = ViewCache::new();
        for (array, chunk) in values.downcast_iter().zip(values.chunks()) {
            let validity = chunk.validity();
            views.clear();
            for (i, view) in array.views().iter().enumerate() {
                if validity.is_some_and(|v| !v.get_bit(i)) {
                    let code = missing.unwrap_or_else(|| self.code(""));
                    codes.push(code);
                    continue;
                }
                let view = view.as_u128();
                let code = views.get(view).unwrap_or_else(|| {
                    let code = self.code(array.value(i));
                    views.put(view, code);
                    code
                });
                codes.push(code);
            }
        }
        codes
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
