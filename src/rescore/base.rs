//! The lead base of one run, split into lead partitions that are scored one at a time,
//! so that a run never holds more than one partition's interactions as a frame.
//!
//! Leads are read whole (one row per lead is small); interactions are the large table.
//! From Parquet they are read a few row groups at a time, checked, and spilled to one
//! temporary Parquet file per lead partition inside the output directory (removed when
//! the run ends, or by the next run if this one is killed). From CSV, which cannot be
//! read in parts with row-exact problems, the table is read whole and split by row index.
//! Partition `p` holds the leads in rows `p * size .. (p + 1) * size` of the leads table.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::data::chunks::{ParquetChunks, CHUNK_ROWS};
use crate::data::columns::*;
use crate::data::source::FileFormat;
use crate::data::{
    empty_interactions, leads_line, load, load_leads, thousands, unknown_lead_problem,
    unknown_warning, InputPaths, LoadOptions, UnknownLeadPolicy, UnknownLeads,
};
use crate::error::{Error, Problems, Result};
use crate::progress::Progress;

/// Where a run's lead base comes from.
#[derive(Debug, Clone)]
pub struct BaseInput {
    /// The leads table.
    pub(crate) leads: PathBuf,
    /// The interactions table: Parquet is streamed, CSV read whole.
    pub(crate) interactions: PathBuf,
    /// What to do with interactions naming unknown leads.
    pub(crate) unknown_leads: UnknownLeadPolicy,
}

/// The validated lead base, partitioned.
#[derive(Debug)]
pub struct LeadBase {
    /// Every lead, typed.
    pub(crate) leads: DataFrame,
    /// Interactions of known leads read.
    pub(crate) interactions_read: usize,
    /// Interactions naming leads the leads table lacks (skipped, and reported).
    pub(crate) unknown: UnknownLeads,
    input: BaseInput,
    size: usize,
    parts: Parts,
}

#[derive(Debug)]
enum Parts {
    /// The whole table, with each partition's row indices.
    InMemory { frame: DataFrame, rows: Vec<IdxCa> },
    /// One file per partition (`None`: the partition has no interactions).
    Spilled {
        /// Owns the files: they are removed when the base is dropped.
        _folder: SpillFolder,
        files: Vec<Option<PathBuf>>,
    },
}

impl LeadBase {
    /// Reads and checks the base, splitting it into partitions of `size` leads. Spill
    /// files go to a hidden folder in `dir`, which the caller must hold the lock of.
    pub(crate) fn open(
        input: &BaseInput,
        size: usize,
        dir: &Path,
        progress: &Progress,
    ) -> Result<Self> {
        let size = size.max(1);
        if FileFormat::of(&input.interactions)? == FileFormat::Csv {
            return Self::read_whole(input, size);
        }
        let leads = load_leads(&input.leads)?;
        let ids = leads.column(LEAD_ID)?.str()?.clone();
        let partition_of = partition_map(&ids, size);
        let count = partitions(leads.height(), size);
        let file = input.interactions.display().to_string();
        let mut chunks = match ParquetChunks::open(&input.interactions, CHUNK_ROWS)? {
            Ok(chunks) => chunks,
            Err(found) => {
                let mut problems = Problems::default();
                found.into_iter().for_each(|p| problems.push(p));
                return Err(Error::InvalidInput(problems));
            }
        };
        let folder = SpillFolder::create(dir)?;
        let mut writers: Vec<Option<polars::io::parquet::write::BatchedWriter<File>>> =
            (0..count).map(|_| None).collect();
        let mut files: Vec<Option<PathBuf>> = vec![None; count];
        let mut problems = Problems::default();
        let mut unknown = UnknownLeads::default();
        let mut read = 0;
        let bar = progress.bar(chunks.rows() as u64, "reading interactions");
        while let Some(chunk) = chunks.next_chunk(&mut problems)? {
            let Some(frame) = chunk.frame else { continue };
            bar.inc(frame.height() as u64);
            let rows = split_rows(
                frame.column(LEAD_ID)?.str()?,
                &partition_of,
                count,
                |index, id| {
                    unknown.note(chunk.first_index + index, id);
                    if input.unknown_leads == UnknownLeadPolicy::Error {
                        problems.push(unknown_lead_problem(&file, chunk.first_index + index, id));
                    }
                },
            );
            if !problems.is_empty() {
                // Nothing more is written once the input is known to be refused; reading
                // goes on only to report every problem at once.
                continue;
            }
            for (p, rows) in rows.into_iter().enumerate().filter(|(_, r)| !r.is_empty()) {
                read += rows.len();
                let part = frame.take(&IdxCa::from_vec(PlSmallStr::EMPTY, rows))?;
                let writer = match &mut writers[p] {
                    Some(writer) => writer,
                    empty => {
                        let path = folder.path.join(format!("part-{p:06}.parquet"));
                        let handle = File::create(&path).map_err(|e| Error::output(&path, e))?;
                        files[p] = Some(path);
                        empty.insert(
                            ParquetWriter::new(handle)
                                .with_compression(ParquetCompression::Lz4Raw)
                                .batched(part.schema())?,
                        )
                    }
                };
                writer.write_batch(&part)?;
            }
        }
        bar.finish_and_clear();
        problems.into_result()?;
        for writer in writers.into_iter().flatten() {
            writer.finish()?;
        }
        Ok(LeadBase {
            leads,
            interactions_read: read,
            unknown,
            input: input.clone(),
            size,
            parts: Parts::Spilled {
                _folder: folder,
                files,
            },
        })
    }

    /// CSV interactions: the tables are read and checked whole, then split by row index.
    fn read_whole(input: &BaseInput, size: usize) -> Result<Self> {
        let tables = load(
            &InputPaths {
                leads: input.leads.clone(),
                interactions: input.interactions.clone(),
                outcomes: None,
            },
            LoadOptions {
                unknown_leads: input.unknown_leads,
            },
        )?;
        let count = partitions(tables.leads.height(), size);
        let ids = tables.leads.column(LEAD_ID)?.str()?.clone();
        let partition_of = partition_map(&ids, size);
        // `load` has already dropped unknown leads, so every row has a partition.
        let rows = split_rows(
            tables.interactions.column(LEAD_ID)?.str()?,
            &partition_of,
            count,
            |_, _| {},
        );
        Ok(LeadBase {
            interactions_read: tables.interactions.height(),
            unknown: tables.unknown_in_interactions,
            leads: tables.leads,
            input: input.clone(),
            size,
            parts: Parts::InMemory {
                frame: tables.interactions,
                rows: rows
                    .into_iter()
                    .map(|r| IdxCa::from_vec(PlSmallStr::EMPTY, r))
                    .collect(),
            },
        })
    }

    /// How many partitions there are (at least one).
    pub(crate) fn partitions(&self) -> usize {
        partitions(self.leads.height(), self.size)
    }

    /// The leads and interactions of partition `p`.
    pub(crate) fn partition(&self, p: usize) -> Result<(DataFrame, DataFrame)> {
        let start = p * self.size;
        let leads = self.leads.slice(start as i64, self.size);
        let interactions = match &self.parts {
            Parts::InMemory { frame, rows } if rows.len() == 1 => frame.clone(),
            Parts::InMemory { frame, rows } => frame.take(&rows[p])?,
            Parts::Spilled { files, .. } => match &files[p] {
                Some(path) => {
                    let handle = File::open(path).map_err(|e| Error::InputFile {
                        path: path.clone(),
                        reason: format!("cannot read a temporary partition file: {e}"),
                    })?;
                    ParquetReader::new(handle).finish()?
                }
                None => empty_interactions()?,
            },
        };
        Ok((leads, interactions))
    }

    /// Lines for stderr saying what was read, with a warning about unknown leads.
    pub(crate) fn read_summary(&self) -> String {
        let mut text = leads_line(&self.leads, &self.input.leads);
        text.push_str(&format!(
            "read {} interactions from {}\n",
            thousands(self.interactions_read),
            self.input.interactions.display()
        ));
        if let Some(warning) =
            unknown_warning("interactions", &self.input.interactions, &self.unknown)
        {
            text.push_str(&warning);
        }
        text
    }

    /// Whether the interactions were spilled to partition files (read in parts).
    pub(crate) fn streamed(&self) -> bool {
        matches!(self.parts, Parts::Spilled { .. })
    }
}

fn partitions(leads: usize, size: usize) -> usize {
    leads.div_ceil(size).max(1)
}

/// Each lead's partition, by its row in the leads table.
fn partition_map(ids: &StringChunked, size: usize) -> PlHashMap<&str, u32> {
    let mut map = PlHashMap::with_capacity(ids.len());
    for (row, id) in ids.iter().enumerate() {
        if let Some(id) = id {
            // Partition numbers fit in u32: there are at most as many as leads, and a
            // polars frame holds fewer than 2^32 rows.
            map.insert(id, (row / size) as u32);
        }
    }
    map
}

/// Row indices of `ids` by partition, in order; `unknown` is told of rows without one.
fn split_rows(
    ids: &StringChunked,
    partition_of: &PlHashMap<&str, u32>,
    count: usize,
    mut unknown: impl FnMut(usize, &str),
) -> Vec<Vec<IdxSize>> {
    let mut rows: Vec<Vec<IdxSize>> = vec![Vec::new(); count];
    for (index, id) in ids.iter().enumerate() {
        let id = id.unwrap_or_default();
        match partition_of.get(id) {
            // Chunks hold at most a few million rows, so the index fits in IdxSize.
            Some(&p) => rows[p as usize].push(index as IdxSize),
            None => unknown(index, id),
        }
    }
    rows
}

/// A hidden folder in the output directory for the partition files, removed when the
/// run ends; its `.partial` name lets the next run remove it if this one is killed.
#[derive(Debug)]
struct SpillFolder {
    path: PathBuf,
}

impl SpillFolder {
    fn create(dir: &Path) -> Result<Self> {
        let path = dir.join(format!(".interactions.{}.partial", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).map_err(|e| Error::output(&path, e))?;
        Ok(SpillFolder { path })
    }
}

impl Drop for SpillFolder {
    fn drop(&mut self) {
        // Best effort: a folder left behind is hidden, and removed by the next run.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
