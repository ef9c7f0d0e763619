//! The history a training run learns from, its interactions encoded into an
//! [`EventIndex`] as they are read. A Parquet interactions file is read a few row groups
//! at a time, twice (counting each lead's interactions, then placing them), so that
//! hundreds of millions of interactions are never held as a frame: only the index is.
//! Every check of [`load`] holds here too, with the same problems.

use std::path::Path;
use std::time::SystemTime;

use polars::prelude::*;

use super::chunks::{ParquetChunks, TypedChunk, CHUNK_ROWS};
use super::columns::*;
use super::events::{EventCounter, EventIndex, EventPlacer};
use super::fingerprint::Fingerprint;
use super::source::FileFormat;
use super::{
    closed_before_created, empty_interactions, empty_outcomes, load, only_known, read_typed,
    rows_before, tables, unknown_lead_problem, unknown_leads, InputPaths, KnownLeads, LoadOptions,
    Tables, UnknownLeadPolicy, UnknownLeads,
};
use crate::error::{Error, Problems, Result};
use crate::progress::Progress;

/// How a history is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HistoryOptions {
    /// As for [`load`].
    pub(crate) load: LoadOptions,
    /// Only what was known before this time (µs) is kept (see [`Tables::known_at`]).
    pub(crate) until: Option<i64>,
    /// Keep the interactions frame too (rule features read it); it is then read whole.
    pub(crate) keep_interactions: bool,
    /// Rows of a Parquet interactions file decoded at a time (whole row groups).
    pub(crate) chunk_rows: usize,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            load: LoadOptions::default(),
            until: None,
            keep_interactions: false,
            chunk_rows: CHUNK_ROWS,
        }
    }
}

/// Leads, outcomes and the encoded interactions of a training run.
#[derive(Debug)]
pub struct History {
    /// Leads and outcomes (what was known before `until`); the interactions frame is
    /// empty unless it was asked to be kept.
    pub(crate) tables: Tables,
    /// The interactions of those leads, encoded.
    pub(crate) events: EventIndex,
    /// The latest time in the three tables (µs since the epoch; 0 when all are empty).
    pub(crate) data_as_of: i64,
    /// See [`super::fingerprint`].
    pub(crate) fingerprint: String,
    /// What was read (before `until`), in lines for stderr.
    pub(crate) read_summary: String,
}

impl History {
    /// Reads, checks and indexes the history: every problem in all files is reported in
    /// one error (exit status 2), as [`load`] reports them.
    pub(crate) fn load(
        paths: &InputPaths,
        options: HistoryOptions,
        progress: &Progress,
    ) -> Result<Self> {
        let streamed = !options.keep_interactions
            && FileFormat::of(&paths.interactions)? == FileFormat::Parquet;
        if streamed {
            return stream(paths, options, progress);
        }
        let tables = load(paths, options.load)?;
        let read_summary = tables.read_summary()?;
        let tables = match options.until {
            Some(at) => tables.known_at(at)?,
            None => tables,
        };
        Ok(History {
            read_summary,
            ..History::of_tables(tables, options.keep_interactions)?
        })
    }

    /// The history of tables already read, their interactions indexed (and the frame
    /// let go unless `keep_interactions`).
    pub(crate) fn of_tables(mut tables: Tables, keep_interactions: bool) -> Result<Self> {
        let events = EventIndex::new(&tables.leads, &tables.interactions)?;
        let mut fingerprint = Fingerprint::default();
        for table in [&tables.leads, &tables.interactions, &tables.outcomes] {
            fingerprint.add(table)?;
        }
        let data_as_of = latest(&[
            (&tables.leads, CREATED_AT),
            (&tables.interactions, OCCURRED_AT),
            (&tables.outcomes, CLOSED_AT),
        ])?;
        let read_summary = tables.read_summary()?;
        if !keep_interactions {
            // The index holds what the features need; the frame is let go to leave room
            // for the matrices.
            tables.interactions = empty_interactions()?;
            crate::heap::release_freed();
        }
        Ok(History {
            tables,
            events,
            data_as_of,
            fingerprint: fingerprint.finish(),
            read_summary,
        })
    }
}

/// The latest value of each (table, time column), over all of them (0 when none).
fn latest(columns: &[(&DataFrame, &str)]) -> Result<i64> {
    let mut latest = None;
    for (frame, column) in columns {
        let at = frame.column(column)?.to_physical_repr().i64()?.max();
        latest = latest.max(at);
    }
    Ok(latest.unwrap_or(0))
}

/// A Parquet interactions file, its size and modification time: reading it twice is
/// only sound if it did not change in between.
struct Stamped {
    path: std::path::PathBuf,
    stamp: Option<(u64, SystemTime)>,
}

impl Stamped {
    fn of(path: &Path) -> Self {
        Stamped {
            path: path.to_path_buf(),
            stamp: stamp(path),
        }
    }

    fn unchanged(&self) -> Result<()> {
        if stamp(&self.path) == self.stamp && self.stamp.is_some() {
            return Ok(());
        }
        Err(changed(self))
    }
}

fn stamp(path: &Path) -> Option<(u64, SystemTime)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.len(), metadata.modified().ok()?))
}

/// The streamed read (see the module's documentation).
fn stream(paths: &InputPaths, options: HistoryOptions, progress: &Progress) -> Result<History> {
    let file = paths.interactions.display().to_string();
    let stamped = Stamped::of(&paths.interactions);
    let read = |path: &Path, typer: super::Typer| {
        let mut found = Problems::default();
        read_typed(path, &mut found, typer).map(|frame| (frame, found))
    };
    let (leads, outcomes) = rayon::join(
        || read(&paths.leads, tables::type_leads),
        || match &paths.outcomes {
            Some(path) => read(path, tables::type_outcomes),
            None => Ok((Some(empty_outcomes()?), Problems::default())),
        },
    );
    let (leads, leads_problems) = leads?;
    let (outcomes, outcomes_problems) = outcomes?;
    let mut interactions_problems = Problems::default();
    let chunks = ParquetChunks::open(&paths.interactions, options.chunk_rows)?;
    let chunks = match chunks {
        Ok(chunks) => Some(chunks),
        Err(found) => {
            found
                .into_iter()
                .for_each(|p| interactions_problems.push(p));
            None
        }
    };
    let known = leads.as_ref().map(KnownLeads::of).transpose()?;
    // The leads that were known before `until`: the index is by their rows.
    let indexed_leads = match (&leads, options.until) {
        (Some(leads), Some(at)) => Some(rows_before(leads, CREATED_AT, at)?),
        (leads, None) => leads.clone(),
        _ => None,
    };

    // Pass 1: every chunk typed and checked; while nothing is wrong, counted, hashed and
    // its latest time taken.
    let mut counter = indexed_leads.as_ref().map(EventCounter::new).transpose()?;
    let mut counted = Counted {
        fingerprint: Fingerprint::default(),
        unknown: UnknownLeads::default(),
        unknown_problems: Problems::default(),
        known_rows: 0,
        latest: None,
        parts: 0,
    };
    if let Some(leads) = &indexed_leads {
        counted.fingerprint.add(leads)?;
    }
    let total = chunks.as_ref().map_or(0, ParquetChunks::rows) as u64;
    let bar = progress.bar(2 * total, "reading interactions");
    if let Some(mut chunks) = chunks {
        while let Some(chunk) = chunks.next_chunk(&mut interactions_problems)? {
            bar.inc(chunk_rows(&chunk) as u64);
            let Some(frame) = chunk.frame else {
                continue;
            };
            let (Some(known), Some(leads)) = (&known, &leads) else {
                continue;
            };
            let mut unknown_here = 0;
            known.each_unknown(&frame, |index, id| {
                unknown_here += 1;
                let index = chunk.first_index + index;
                counted.unknown.note(index, id);
                if options.load.unknown_leads == UnknownLeadPolicy::Error {
                    counted
                        .unknown_problems
                        .push(unknown_lead_problem(&file, index, id));
                }
            })?;
            if !interactions_problems.is_empty() || !counted.unknown_problems.is_empty() {
                // The input will be refused: reading goes on only to report every problem.
                continue;
            }
            counted.add(frame, counter.as_mut(), leads, unknown_here, options.until)?;
        }
    }

    // The problems, file by file, as `load` reports them.
    let mut problems = Problems::default();
    problems.absorb_shifted(leads_problems, 0, true);
    problems.absorb_shifted(interactions_problems, 0, true);
    problems.absorb_shifted(outcomes_problems, 0, true);
    // A counter exists when the leads were read; outcomes and every chunk must be too.
    let (Some(counter), Some(outcomes)) = (counter, outcomes) else {
        return Err(Error::InvalidInput(problems));
    };
    problems.into_result()?;
    // Placing borrows nothing, so the leads are free to move on.
    let placer = counter.placer();
    // All three come from the leads, which the counter shows were read.
    let (Some(leads), Some(indexed_leads), Some(known)) = (&leads, indexed_leads, known) else {
        return Err(Error::InvalidInput(Problems::default()));
    };
    let outcomes_file = paths
        .outcomes
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let unknown_in_outcomes = unknown_leads(&known, &outcomes)?;
    if options.load.unknown_leads == UnknownLeadPolicy::Error {
        let mut problems = counted.unknown_problems;
        super::report_unknown(&outcomes_file, &known, &outcomes, &mut problems)?;
        problems.into_result()?;
    }
    closed_before_created(&outcomes_file, leads, &known, &outcomes)?;
    drop(known);
    let leads = leads.clone();
    let outcomes = only_known(&leads, outcomes, unknown_in_outcomes.rows)?;
    let tables = Tables {
        leads,
        interactions: empty_interactions()?,
        outcomes,
        paths: paths.clone(),
        unknown_in_interactions: counted.unknown,
        unknown_in_outcomes,
    };
    let read_summary = tables.read_summary_of(counted.known_rows)?;
    let mut tables = match options.until {
        Some(at) => Tables {
            outcomes: rows_before(&tables.outcomes, CLOSED_AT, at)?,
            ..tables
        },
        None => tables,
    };
    tables.leads = indexed_leads;
    if counted.parts == 0 {
        // A file without rows is still an (empty) table in the fingerprint.
        counted.fingerprint.add(&empty_interactions()?)?;
    }
    counted.fingerprint.add(&tables.outcomes)?;
    let data_as_of = latest(&[(&tables.leads, CREATED_AT), (&tables.outcomes, CLOSED_AT)])?
        .max(counted.latest.unwrap_or(0));

    let events = place_all(paths, options, &stamped, placer, &bar)?;
    bar.finish_and_clear();
    Ok(History {
        tables,
        events,
        data_as_of,
        fingerprint: counted.fingerprint.finish(),
        read_summary,
    })
}

/// Pass 2: the chunks the first pass counted, read again, each interaction placed in its
/// lead's slot of the index.
fn place_all(
    paths: &InputPaths,
    options: HistoryOptions,
    stamped: &Stamped,
    mut placer: EventPlacer,
    bar: &indicatif::ProgressBar,
) -> Result<EventIndex> {
    stamped.unchanged()?;
    let Ok(mut chunks) = ParquetChunks::open(&paths.interactions, options.chunk_rows)? else {
        return Err(changed(stamped));
    };
    let mut ignored = Problems::default();
    while let Some(chunk) = chunks.next_chunk(&mut ignored)? {
        bar.inc(chunk_rows(&chunk) as u64);
        let Some(frame) = chunk.frame else {
            return Err(changed(stamped));
        };
        // The rows the first pass counted: those before `until` (of unknown leads too,
        // which the index leaves out).
        let frame = match options.until {
            Some(at) => rows_before(&frame, OCCURRED_AT, at)?,
            None => frame,
        };
        placer.place(&frame).map_err(|_| changed(stamped))?;
    }
    stamped.unchanged()?;
    placer.finish().map_err(|_| changed(stamped))
}

/// The error of an interactions file that no longer reads as it did.
fn changed(stamped: &Stamped) -> Error {
    Error::InputFile {
        path: stamped.path.clone(),
        reason: "the file changed while it was being read; run again once it is complete".into(),
    }
}

/// Rows in a chunk, typed or not.
fn chunk_rows(chunk: &TypedChunk) -> usize {
    chunk.frame.as_ref().map_or(0, DataFrame::height)
}

/// What the first pass gathers.
struct Counted {
    fingerprint: Fingerprint,
    unknown: UnknownLeads,
    unknown_problems: Problems,
    /// Interactions of known leads (before `until` is applied), for the summary.
    known_rows: usize,
    latest: Option<i64>,
    /// Chunks hashed.
    parts: usize,
}

impl Counted {
    /// Takes in a typed chunk naming `unknown` rows' leads the leads table lacks: the
    /// rows before `until` are counted (those of unknown leads too, as the second pass
    /// sees them; the index leaves them out), and those of known leads are hashed and
    /// give the latest time, as `load` would have kept them.
    fn add(
        &mut self,
        frame: DataFrame,
        counter: Option<&mut EventCounter>,
        leads: &DataFrame,
        unknown: usize,
        until: Option<i64>,
    ) -> Result<()> {
        self.known_rows += frame.height() - unknown;
        let frame = match until {
            Some(at) => rows_before(&frame, OCCURRED_AT, at)?,
            None => frame,
        };
        if let Some(counter) = counter {
            counter.count(&frame)?;
        }
        let known = only_known(leads, frame, unknown)?;
        self.fingerprint.add_part(&known, self.parts == 0)?;
        self.parts += 1;
        let at = known.column(OCCURRED_AT)?.to_physical_repr().i64()?.max();
        self.latest = self.latest.max(at);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000;

    fn times(name: &str, days: Vec<Option<i64>>) -> Column {
        Int64Chunked::from_iter_options(name.into(), days.into_iter().map(|d| d.map(|d| d * DAY)))
            .into_datetime(TimeUnit::Microseconds, None)
            .into_column()
    }

    /// Ten leads (L9 created on day 90, the others by day 9), outcomes for six, and
    /// `n` interactions over 100 days; lead "X" (unknown) at the rows in `unknown`.
    fn tables(n: usize, unknown: &[usize]) -> (DataFrame, DataFrame, DataFrame) {
        let leads = DataFrame::new_infer_height(vec![
            Column::new(
                LEAD_ID.into(),
                (0..10).map(|i| format!("L{i}")).collect::<Vec<_>>(),
            ),
            times(
                CREATED_AT,
                (0..10).map(|i| Some(if i == 9 { 90 } else { i })).collect(),
            ),
            Column::new(
                "industry".into(),
                (0..10)
                    .map(|i| ["Tech", "Retail"][i % 2])
                    .collect::<Vec<_>>(),
            ),
        ])
        .unwrap();
        let ids: Vec<String> = (0..n)
            .map(|i| {
                if unknown.contains(&i) {
                    "X".into()
                } else {
                    format!("L{}", (i * 7) % 10)
                }
            })
            .collect();
        let interactions = DataFrame::new_infer_height(vec![
            Column::new(LEAD_ID.into(), ids),
            times(
                OCCURRED_AT,
                (0..n).map(|i| Some(((i * 37) % 100) as i64)).collect(),
            ),
            Column::new(
                EVENT_TYPE.into(),
                (0..n)
                    .map(|i| ["email_open", "page_visit", "webinar"][i % 3])
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                DETAIL.into(),
                (0..n)
                    .map(|i| [Some("/pricing"), None, Some("/blog")][i % 3])
                    .collect::<Vec<_>>(),
            ),
        ])
        .unwrap();
        let outcomes = DataFrame::new_infer_height(vec![
            Column::new(LEAD_ID.into(), ["L0", "L1", "L2", "L3", "L4", "L9"]),
            Column::new(
                OUTCOME.into(),
                ["won", "lost", "won", "lost", "lost", "won"],
            ),
            times(
                CLOSED_AT,
                vec![Some(40), Some(50), Some(60), Some(70), Some(80), Some(95)],
            ),
        ])
        .unwrap();
        (leads, interactions, outcomes)
    }

    fn write(dir: &Path, name: &str, frame: &mut DataFrame) -> std::path::PathBuf {
        let path = dir.join(name);
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .with_row_group_size(Some(10))
            .finish(frame)
            .unwrap();
        path
    }

    fn paths(
        dir: &Path,
        (mut leads, mut interactions, mut outcomes): (DataFrame, DataFrame, DataFrame),
    ) -> InputPaths {
        InputPaths {
            leads: write(dir, "leads.parquet", &mut leads),
            interactions: write(dir, "interactions.parquet", &mut interactions),
            outcomes: Some(write(dir, "outcomes.parquet", &mut outcomes)),
        }
    }

    /// The history read in chunks of two row groups, and read whole.
    fn both_ways(
        paths: &InputPaths,
        options: HistoryOptions,
    ) -> (Result<History>, Result<History>) {
        let streamed = History::load(
            paths,
            HistoryOptions {
                chunk_rows: 16,
                ..options
            },
            &Progress::hidden(),
        );
        let whole = History::load(
            paths,
            HistoryOptions {
                keep_interactions: true,
                ..options
            },
            &Progress::hidden(),
        );
        (streamed, whole)
    }

    #[test]
    fn a_streamed_history_is_the_history_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path(), tables(95, &[3, 44, 45, 90]));
        for until in [None, Some(60 * DAY), Some(95 * DAY)] {
            let options = HistoryOptions {
                until,
                ..HistoryOptions::default()
            };
            let (streamed, whole) = both_ways(&paths, options);
            let (streamed, whole) = (streamed.unwrap(), whole.unwrap());
            assert!(streamed.events.len() > 10, "{until:?}");
            assert_eq!(streamed.events, whole.events, "{until:?}");
            assert_eq!(streamed.fingerprint, whole.fingerprint);
            assert_eq!(streamed.data_as_of, whole.data_as_of);
            assert_eq!(streamed.read_summary, whole.read_summary);
            assert!(streamed.read_summary.contains("read 91 interactions"));
            assert_eq!(streamed.tables.leads, whole.tables.leads);
            assert_eq!(streamed.tables.outcomes, whole.tables.outcomes);
            assert_eq!(
                streamed.tables.unknown_in_interactions,
                whole.tables.unknown_in_interactions
            );
            assert_eq!(streamed.tables.interactions.height(), 0);
        }
    }

    #[test]
    fn a_header_only_interactions_file_streams_as_it_reads_whole() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path(), tables(0, &[]));
        let (streamed, whole) = both_ways(&paths, HistoryOptions::default());
        let (streamed, whole) = (streamed.unwrap(), whole.unwrap());
        assert!(streamed.events.is_empty());
        assert_eq!(streamed.fingerprint, whole.fingerprint);
        assert_eq!(streamed.data_as_of, whole.data_as_of);
    }

    #[test]
    fn a_streamed_history_reports_the_problems_of_the_whole_read() {
        let dir = tempfile::tempdir().unwrap();
        // A missing time in the third chunk and a blank event type in the fifth, beside
        // unknown leads (not reported while the input has other problems).
        let (leads, mut interactions, outcomes) = tables(95, &[3, 90]);
        let mut broken_times: Vec<Option<i64>> = (0..95).map(|i| Some(i as i64)).collect();
        broken_times[47] = None;
        interactions
            .replace(OCCURRED_AT, times(OCCURRED_AT, broken_times))
            .unwrap();
        let mut types: Vec<&str> = vec!["email_open"; 95];
        types[83] = " ";
        interactions
            .replace(EVENT_TYPE, Column::new(EVENT_TYPE.into(), types))
            .unwrap();
        let paths = paths(dir.path(), (leads.clone(), interactions, outcomes.clone()));
        let options = HistoryOptions {
            load: LoadOptions {
                unknown_leads: UnknownLeadPolicy::Error,
            },
            ..HistoryOptions::default()
        };
        let (streamed, whole) = both_ways(&paths, options);
        let (streamed, whole) = (streamed.unwrap_err(), whole.unwrap_err());
        assert_eq!(streamed.to_string(), whole.to_string());
        assert!(streamed.to_string().contains("row 49"), "{streamed}");
        assert!(streamed.to_string().contains("row 85"), "{streamed}");
        assert_eq!(streamed.exit_code(), 2);

        // Only unknown leads, in two chunks and in the outcomes, refused.
        let dir = tempfile::tempdir().unwrap();
        let (_, interactions, _) = tables(95, &[3, 90]);
        let mut outcomes = outcomes;
        outcomes
            .replace(
                LEAD_ID,
                Column::new(LEAD_ID.into(), ["L0", "L1", "Y", "L3", "L4", "L9"]),
            )
            .unwrap();
        let paths = super::tests::paths(dir.path(), (leads, interactions, outcomes));
        let (streamed, whole) = both_ways(&paths, options);
        let (streamed, whole) = (streamed.unwrap_err(), whole.unwrap_err());
        assert_eq!(streamed.to_string(), whole.to_string());
        for row in ["row 5", "row 92", "'Y'"] {
            assert!(streamed.to_string().contains(row), "{row}: {streamed}");
        }
    }

    #[test]
    fn a_file_changed_after_its_stamp_was_taken_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("interactions.parquet");
        std::fs::write(&path, b"one").unwrap();
        let stamped = Stamped::of(&path);
        assert!(stamped.unchanged().is_ok());
        std::fs::write(&path, b"longer").unwrap();
        let refused = stamped.unchanged().unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("changed while it was being read"),
            "{refused}"
        );
        assert_eq!(refused.exit_code(), 2);
    }
}
