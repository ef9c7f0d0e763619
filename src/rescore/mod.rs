//! The scheduled job: score every lead as of a time, publish the current scores
//! atomically, keep a score history partitioned by run, list what changed since the
//! previous run, check drift against the training distributions in the artifact, and
//! leave a machine-readable summary. One run per output directory at a time (`lock`).
//!
//! Layout of the output directory (the current files are published together, see
//! `publish`):
//! - `current`: a link to the published run's folder under `runs/`;
//! - `scores.parquet`: the current scores (a fixed link to `current/scores.parquet`);
//! - `history/as_of=<time>/scores.parquet`: every run's scores, one partition per as-of;
//! - `changes.parquet`: leads that are new, changed tier, or moved in probability by more
//!   than the threshold since the latest earlier run in the history;
//! - `summary.json`: counts, duration, drift figures and warnings.
//!
//! Re-running the same as-of time rewrites the same scores, history partition and
//! change list: the previous run is looked up in the history by time, not by what the
//! current file happens to hold.

pub(crate) mod base;
pub(crate) mod publish;
pub mod trail;

use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;
use serde::Serialize;

use crate::data::columns::LEAD_ID;
use crate::data::floats;
use crate::data::timestamp::{format_timestamp, MICROS_PER_DAY};
use crate::error::{Error, Result};
use crate::lock::{Job, RunLock};
use crate::model::score::{created_later_warning, outside_range_warnings, score_observations};
use crate::model::Model;
use crate::observations::{observations_at, OBS};
use crate::output::{write_bytes, write_table};
use crate::progress::Progress;
use base::{BaseInput, LeadBase};
use publish::RunFolder;

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct RescoreOptions {
    /// Score as of this time (µs since the epoch).
    pub as_of: i64,
    /// A lead is "changed" when its probability moved by more than this.
    pub change_threshold: f64,
    /// Population stability index above which a feature or the score counts as drifted.
    pub drift_threshold: f64,
    /// Leads scored at a time: bounds the memory of feature building (each partition
    /// joins only its own leads' interactions).
    pub partition_leads: usize,
    /// Allow an as-of older than the latest run in the history: the run then adds its
    /// history partition only and leaves the current files alone.
    pub backfill: bool,
    /// The model's name: its path in its registry (`models/….bin`), or its file name.
    /// The summary and every history row name it (its fingerprint when `None`).
    pub model_version: Option<String>,
}

impl RescoreOptions {
    /// Checks the settings, naming the bad one.
    pub fn check(&self) -> Result<()> {
        if !(self.change_threshold >= 0.0 && self.change_threshold <= 1.0) {
            return Err(Error::setting(
                "RescoreOptions.change_threshold",
                "must be a probability between 0 and 1",
            ));
        }
        if !(self.drift_threshold.is_finite() && self.drift_threshold > 0.0) {
            return Err(Error::setting(
                "RescoreOptions.drift_threshold",
                "must be a positive number",
            ));
        }
        if self.partition_leads == 0 {
            return Err(Error::setting(
                "RescoreOptions.partition_leads",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

/// Refuses an input that lies in `dir`'s history folder, which a run rewrites: scoring a
/// file the run is about to replace would lose it. `inputs` pairs each with the setting
/// that named it.
pub(crate) fn refuse_inputs_in_history(dir: &Path, inputs: &[(&str, &Path)]) -> Result<()> {
    let Ok(history) = dir.join("history").canonicalize() else {
        return Ok(());
    };
    for &(setting, input) in inputs {
        if input
            .canonicalize()
            .is_ok_and(|input| input.starts_with(&history))
        {
            return Err(Error::setting(
                setting,
                format!("{} lies in the run's own history folder, which the run rewrites; copy it elsewhere first", input.display()),
            ));
        }
    }
    Ok(())
}

/// What a run did, for the scheduler and for people reading logs.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// The run's folder under `runs/` (none for a backfill, which publishes nothing).
    pub run: Option<String>,
    /// The leadscore version that ran.
    pub leadscore_version: String,
    /// The model's training-data fingerprint.
    pub model_fingerprint: String,
    /// The model's name: its path in its registry, or its file name.
    pub model_version: Option<String>,
    /// The as-of time scored.
    pub as_of: String,
    /// Leads read.
    pub leads_read: usize,
    /// Interactions read (of known leads).
    pub interactions_read: usize,
    /// Interactions skipped because they name a lead the leads table lacks (any other
    /// invalid row stops the run, exit status 2, before anything is written).
    pub rejected: usize,
    /// Whether interactions were read in parts (Parquet) rather than whole (CSV).
    pub interactions_streamed: bool,
    /// Leads scored.
    pub scored: usize,
    /// Leads in the change list.
    pub changed: usize,
    /// The earlier run the changes are against, if any.
    pub previous_run: Option<String>,
    /// The latest run at least 7 days older, which the `_7d` trend columns are against.
    pub run_7_days_before: Option<String>,
    /// The latest run at least 30 days older, for the `_30d` trend columns.
    pub run_30_days_before: Option<String>,
    /// Wall time of the run in seconds.
    pub duration_seconds: f64,
    /// Drift against the training data.
    pub drift: DriftSummary,
    /// Warnings, in words.
    pub warnings: Vec<String>,
}

/// Population stability of the score and of every feature.
#[derive(Debug, Clone, Serialize)]
pub struct DriftSummary {
    /// The threshold applied.
    pub threshold: f64,
    /// PSI of the predicted probability.
    pub score_psi: f64,
    /// Features whose PSI exceeds the threshold, largest first.
    pub features_over_threshold: Vec<(String, f64)>,
    /// The largest feature PSI.
    pub max_feature_psi: f64,
    /// Whether the score or any feature is over the threshold.
    pub over_threshold: bool,
}

impl DriftSummary {
    /// The worst drifts in a few words: up to three features and the score, for the
    /// error that fails a run on drift.
    pub fn worst(&self) -> String {
        self.features_over_threshold
            .iter()
            .take(3)
            .map(|(name, psi)| format!("{name} PSI {psi:.2}"))
            .chain(std::iter::once(format!("score PSI {:.2}", self.score_psi)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Runs the job into `dir`: takes the lock, reads and checks the base (telling
/// `on_read` what was read, for the log), scores it partition by partition, then writes.
pub fn rescore(
    model: &Model,
    input: &BaseInput,
    dir: &Path,
    options: &RescoreOptions,
    progress: &Progress,
    on_read: impl FnOnce(&LeadBase),
) -> Result<RunSummary> {
    let started = Instant::now();
    options.check()?;
    std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    let _lock = RunLock::acquire(dir, Job::Rescore)?;
    remove_leftovers(dir);
    let stamp = partition_name(options.as_of);
    // An as-of older than the latest run would replace today's scores with older ones
    // and list every lead as new: only on request, and then into the history only.
    let latest = latest_run(dir);
    let backfilling = latest
        .as_ref()
        .is_some_and(|latest| latest.as_str() > stamp.as_str());
    if backfilling && !options.backfill {
        return Err(Error::setting(
            "RescoreOptions.as_of",
            format!(
                "{} is older than the latest run in {} ({}): it would replace the current scores with older ones; pass `RescoreOptions.backfill` to add it to the history only",
                format_timestamp(options.as_of),
                dir.join("history").display(),
                latest.unwrap_or_default()
            ),
        ));
    }
    let base = LeadBase::open(input, options.partition_leads, dir, progress)?;
    on_read(&base);

    let (table, drift) = score_in_partitions(model, &base, options, progress)?;
    let version = options
        .model_version
        .clone()
        .unwrap_or_else(|| model.data_fingerprint.clone());
    let mut table = table
        .lazy()
        .with_column(lit(version).alias(MODEL))
        .collect()?;
    let probability = floats(&table, "probability")?;

    let previous = previous_run(dir, &stamp)?;
    let mut changes = match &previous {
        Some((_, path)) => changes_since(&table, path, options.change_threshold)?,
        None => changes_since_nothing(&table)?,
    };
    let outside_range = drift.outside_range.clone();
    let drift = drift.finish(model, &probability, options.drift_threshold);

    write_table(
        &mut table,
        &dir.join("history").join(&stamp).join("scores.parquet"),
        "rescore.dir",
    )?;
    let week_before = run_at_or_before(dir, options.as_of - 7 * MICROS_PER_DAY)?;
    let month_before = run_at_or_before(dir, options.as_of - 30 * MICROS_PER_DAY)?;
    let folder = if backfilling {
        None
    } else {
        let mut table = with_trends(
            &table,
            [
                (previous.as_ref().map(|(_, p)| p.as_path()), ""),
                (week_before.as_ref().map(|(_, p)| p.as_path()), "_7d"),
                (month_before.as_ref().map(|(_, p)| p.as_path()), "_30d"),
            ],
        )?;
        let folder = RunFolder::begin(dir, &stamp)?;
        write_table(
            &mut changes,
            &folder.path().join("changes.parquet"),
            "rescore.dir",
        )?;
        write_table(
            &mut table,
            &folder.path().join("scores.parquet"),
            "rescore.dir",
        )?;
        Some(folder)
    };

    let mut warnings: Vec<String> = created_later_warning(&base.leads, options.as_of)?
        .into_iter()
        .chain(outside_range_warnings(&model.feature_names, &outside_range))
        .collect();
    if drift.over_threshold {
        warnings.push(format!(
            "drift over {}: score PSI {:.3}, {} feature(s) over, the largest {:.3}: the lead base no longer looks like the training data; consider retraining",
            drift.threshold,
            drift.score_psi,
            drift.features_over_threshold.len(),
            drift.max_feature_psi
        ));
    }
    let summary = RunSummary {
        run: folder.as_ref().map(|f| f.name().to_string()),
        leadscore_version: env!("CARGO_PKG_VERSION").to_string(),
        model_fingerprint: model.data_fingerprint.clone(),
        model_version: options.model_version.clone(),
        as_of: format_timestamp(options.as_of),
        leads_read: base.leads.height(),
        interactions_read: base.interactions_read,
        rejected: base.unknown.rows,
        interactions_streamed: base.streamed(),
        scored: table.height(),
        changed: changes.height(),
        previous_run: previous.map(|(name, _)| name),
        run_7_days_before: week_before.map(|(name, _)| name),
        run_30_days_before: month_before.map(|(name, _)| name),
        duration_seconds: started.elapsed().as_secs_f64(),
        drift,
        warnings,
    };
    let json = serde_json::to_vec_pretty(&summary)
        .map_err(|e| Error::output(dir, std::io::Error::other(e)))?;
    // A backfill's summary sits beside its partition; the current one stays current.
    match folder {
        None => write_bytes(
            &json,
            &dir.join("history").join(&stamp).join("summary.json"),
        )?,
        Some(folder) => {
            write_bytes(&json, &folder.path().join("summary.json"))?;
            folder.publish(dir)?;
        }
    }
    Ok(summary)
}

/// Temporary files and spill folders a killed run left behind (hidden `.*.partial`): under the lock no
/// other run is writing them, so they are removed. Best effort: a file that cannot be
/// removed is hidden and harmless.
fn remove_leftovers(dir: &Path) {
    let history = dir.join("history");
    let partitions = std::fs::read_dir(&history)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path());
    for folder in [dir.to_path_buf(), dir.join("runs")]
        .into_iter()
        .chain(partitions)
    {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.filter_map(|e| e.ok()) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".partial") {
                let path = entry.path();
                if path.is_dir() {
                    let _ = std::fs::remove_dir_all(&path);
                } else {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }
}

/// `as_of=2026-01-01T00-00-00Z`: sortable, and safe in file names.
fn partition_name(as_of: i64) -> String {
    format!("as_of={}", format_timestamp(as_of).replace(':', "-"))
}

/// The latest history partition strictly before `stamp`, with its scores file.
/// The newest history partition's name, if any.
fn latest_run(dir: &Path) -> Option<String> {
    std::fs::read_dir(dir.join("history"))
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("as_of="))
        .filter(|name| {
            dir.join("history")
                .join(name)
                .join("scores.parquet")
                .is_file()
        })
        .max()
}

fn previous_run(dir: &Path, stamp: &str) -> Result<Option<(String, PathBuf)>> {
    let history = dir.join("history");
    let Ok(entries) = std::fs::read_dir(&history) else {
        return Ok(None);
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("as_of=") && name.as_str() < stamp)
        .filter(|name| history.join(name).join("scores.parquet").is_file())
        .collect();
    names.sort();
    Ok(names.pop().map(|name| {
        let path = history.join(&name).join("scores.parquet");
        (name, path)
    }))
}

/// The latest history partition as of `at` or before, with its scores file.
fn run_at_or_before(dir: &Path, at: i64) -> Result<Option<(String, PathBuf)>> {
    // Partition names sort as their times do and name whole seconds: the run named
    // for `at`'s second counts (a weekly run is exactly 7 days older).
    let latest = partition_name(at);
    let exact = dir.join("history").join(&latest).join("scores.parquet");
    if exact.is_file() {
        return Ok(Some((latest, exact)));
    }
    previous_run(dir, &latest)
}

/// The current scores with each lead's movement against earlier runs: for each
/// `(scores file, suffix)`, `probability_change{suffix}`, `points_change{suffix}` and the
/// tier then (`previous_tier` for the previous run, `tier{suffix}_ago` for the others);
/// null where there was no such run or the lead was not in it.
fn with_trends(table: &DataFrame, against: [(Option<&Path>, &str); 3]) -> Result<DataFrame> {
    let mut trended = table.clone().lazy();
    for (path, suffix) in against {
        let tier_then = if suffix.is_empty() {
            "previous_tier".to_string()
        } else {
            format!("tier{suffix}_ago")
        };
        let then = match path {
            Some(path) => {
                let file = std::fs::File::open(path).map_err(|e| Error::InputFile {
                    path: path.to_path_buf(),
                    reason: format!("cannot read an earlier run's scores: {e}"),
                })?;
                ParquetReader::new(file).finish()?.lazy().select([
                    col(LEAD_ID),
                    col("probability").alias("__probability_then"),
                    col("points").alias("__points_then"),
                    col("tier").alias(tier_then.as_str()),
                ])
            }
            None => df!(
                LEAD_ID => Vec::<String>::new(),
                "__probability_then" => Vec::<f64>::new(),
                "__points_then" => Vec::<f64>::new(),
                tier_then.as_str() => Vec::<String>::new(),
            )?
            .lazy(),
        };
        trended = trended
            .join(
                then,
                [col(LEAD_ID)],
                [col(LEAD_ID)],
                JoinArgs {
                    maintain_order: MaintainOrderJoin::Left,
                    ..JoinArgs::new(JoinType::Left)
                },
            )
            .with_columns([
                (col("probability") - col("__probability_then"))
                    .alias(format!("probability_change{suffix}")),
                (col("points").cast(DataType::Float64)
                    - col("__points_then").cast(DataType::Float64))
                .alias(format!("points_change{suffix}")),
            ])
            .drop(by_name(
                ["__probability_then", "__points_then"],
                true,
                false,
            ));
    }
    Ok(trended.collect()?)
}

/// Leads that are new, changed tier, or moved in probability by more than `threshold`.
fn changes_since(current: &DataFrame, previous: &Path, threshold: f64) -> Result<DataFrame> {
    let file = std::fs::File::open(previous).map_err(|e| Error::InputFile {
        path: previous.to_path_buf(),
        reason: format!("cannot read the previous run's scores: {e}"),
    })?;
    let before = ParquetReader::new(file).finish()?.lazy().select([
        col(LEAD_ID),
        col("tier").alias("previous_tier"),
        col("probability").alias("previous_probability"),
    ]);
    Ok(current
        .clone()
        .lazy()
        .select([col(LEAD_ID), col("tier"), col("probability")])
        .join(
            before,
            [col(LEAD_ID)],
            [col(LEAD_ID)],
            JoinArgs {
                maintain_order: MaintainOrderJoin::Left,
                ..JoinArgs::new(JoinType::Left)
            },
        )
        .with_column(
            when(col("previous_tier").is_null())
                .then(lit("new lead"))
                .when(col("previous_tier").neq(col("tier")))
                .then(lit("tier changed"))
                .when(
                    (col("probability") - col("previous_probability"))
                        .abs()
                        .gt(lit(threshold)),
                )
                .then(lit("probability moved"))
                .otherwise(lit(NULL).cast(DataType::String))
                .alias("change"),
        )
        .filter(col("change").is_not_null())
        .select([
            col(LEAD_ID),
            col("change"),
            col("previous_tier"),
            col("tier"),
            col("previous_probability"),
            col("probability"),
        ])
        .collect()?)
}

/// The first run: every lead is new.
fn changes_since_nothing(current: &DataFrame) -> Result<DataFrame> {
    Ok(current
        .clone()
        .lazy()
        .select([
            col(LEAD_ID),
            lit("new lead").alias("change"),
            lit(NULL).cast(DataType::String).alias("previous_tier"),
            col("tier"),
            lit(NULL)
                .cast(DataType::Float64)
                .alias("previous_probability"),
            col("probability"),
        ])
        .collect()?)
}

/// Scores the base one partition at a time, in leads order, counting every feature into
/// its drift bins on the way (counts add up across partitions).
fn score_in_partitions(
    model: &Model,
    base: &LeadBase,
    options: &RescoreOptions,
    progress: &Progress,
) -> Result<(DataFrame, DriftCounts)> {
    let mut counts = DriftCounts {
        features: model
            .drift
            .features
            .iter()
            .map(|b| vec![0; b.shares.len()])
            .collect(),
        outside_range: vec![0; model.feature_names.len()],
    };
    let bar = progress.bar(base.partitions() as u64, "scoring partitions");
    let mut parts: Vec<DataFrame> = Vec::new();
    for p in 0..base.partitions() {
        let (leads, interactions) = base.partition(p)?;
        let observations = observations_at(&leads, options.as_of)?;
        let scored = score_observations(model, &leads, &interactions, &observations, true)?;
        drop(interactions);
        for ((column, bins), counted) in scored
            .features
            .columns()
            .into_iter()
            .zip(&model.drift.features)
            .zip(counts.features.iter_mut())
        {
            for (total, add) in counted.iter_mut().zip(bins.counts_of(&column.to_vec())) {
                *total += add;
            }
        }
        for (total, rows) in counts.outside_range.iter_mut().zip(&scored.outside_range) {
            *total += rows;
        }
        parts.push(with_rules(scored.table, scored.breakdown.as_ref())?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let mut parts = parts.into_iter();
    let mut table = parts.next().unwrap_or_default();
    for part in parts {
        table.vstack_mut(&part)?;
    }
    table.rechunk_mut_par();
    Ok((table, counts))
}

/// `table` with, per lead, the rules that gave it points and how many (`rules`,
/// `rule_points`, lists in the rule file's order), from the breakdown of its
/// observations (one per row, in order): what `history` compares between runs.
fn with_rules(mut table: DataFrame, breakdown: Option<&DataFrame>) -> Result<DataFrame> {
    let n = table.height();
    let mut names: Vec<Vec<&str>> = vec![Vec::new(); n];
    let mut points: Vec<Vec<f64>> = vec![Vec::new(); n];
    let columns = breakdown
        .filter(|b| b.width() > 0)
        .map(|b| -> Result<_> {
            Ok((
                b.column(OBS)?.cast(&DataType::UInt64)?,
                b.column("rule")?.clone(),
                b.column("points")?.cast(&DataType::Float64)?,
            ))
        })
        .transpose()?;
    if let Some((obs, rule, given)) = &columns {
        for ((o, r), p) in obs
            .u64()?
            .iter()
            .zip(rule.str()?.iter())
            .zip(given.f64()?.iter())
        {
            if let (Some(o), Some(r)) = (o, r) {
                if let Some(row) = usize::try_from(o).ok().filter(|&row| row < n) {
                    names[row].push(r);
                    points[row].push(p.unwrap_or(0.0));
                }
            }
        }
    }
    let values: usize = names.iter().map(Vec::len).sum();
    let mut rules = ListStringChunkedBuilder::new(RULES.into(), n, values);
    let mut rule_points = ListPrimitiveChunkedBuilder::<Float64Type>::new(
        RULE_POINTS.into(),
        n,
        values,
        DataType::Float64,
    );
    for (names, points) in names.iter().zip(&points) {
        rules.append_values_iter(names.iter().copied());
        rule_points.append_slice(points);
    }
    table.with_column(rules.finish().into_column())?;
    table.with_column(rule_points.finish().into_column())?;
    Ok(table)
}

/// The rules that gave a lead points in a run, and how many (lists, aligned).
pub(crate) const RULES: &str = "rules";
/// See [`RULES`].
pub(crate) const RULE_POINTS: &str = "rule_points";
/// The model a run scored with: its registry name or file name.
pub(crate) const MODEL: &str = "model";

/// Feature bin counts over the whole scored base.
struct DriftCounts {
    features: Vec<Vec<usize>>,
    /// Leads outside the training range, per feature, summed over partitions.
    outside_range: Vec<usize>,
}

impl DriftCounts {
    fn finish(self, model: &Model, probability: &[f64], threshold: f64) -> DriftSummary {
        let mut over: Vec<(String, f64)> = Vec::new();
        let mut max_feature_psi: f64 = 0.0;
        for (j, counts) in self.features.iter().enumerate() {
            let psi = model.drift.features[j].psi_of_counts(counts);
            max_feature_psi = max_feature_psi.max(psi);
            if psi > threshold {
                over.push((model.feature_names[j].clone(), psi));
            }
        }
        over.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let score_psi = model.drift.probability.psi(probability);
        DriftSummary {
            threshold,
            score_psi,
            over_threshold: score_psi > threshold || !over.is_empty(),
            features_over_threshold: over,
            max_feature_psi,
        }
    }
}
