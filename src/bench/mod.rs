//! The benchmark job: what an analyst would otherwise do in Python (read the exports,
//! build features for closed deals' snapshots and for the lead base, fit a logistic
//! model, score the base, write the scores), done with leadscore's own library code and
//! timed stage by stage, so that `bench/perf.sh` can set it against the Python peer
//! (`bench/peer.py`) on the same files. The report carries the feature spec and the
//! training matrix's column means, so the peer builds the same features and can prove
//! that its matrix is the same one.

pub(crate) mod memory;

use std::path::PathBuf;
use std::time::Instant;

use ndarray::Array2;
use polars::prelude::*;
use serde::Serialize;

use crate::data::columns::LEAD_ID;
use crate::data::events::EventIndex;
use crate::data::{load, InputPaths, LoadOptions};
use crate::error::{Error, Result};
use crate::eval::metrics::{log_loss, Metrics};
use crate::features::cutoffs::{training_observations, CutoffParams};
use crate::features::spec::{FeatureSpec, SpecParams};
use crate::model::pipeline::{split_by_close, won_labels};
use crate::model::score::score_of;
use crate::model::train::{FitParams, PreparedRows};
use crate::observations::observations_at;
use crate::output::write_table;

/// What the job reads, when it scores, how strongly it regularises, where scores go.
#[derive(Debug, Clone)]
pub(crate) struct JobSettings {
    /// The three input tables.
    pub(crate) paths: InputPaths,
    /// Scoring time for the lead base (µs since the epoch).
    pub(crate) as_of: i64,
    /// Solver settings; the L2 strength is fixed (the peer fits one model, so does the job).
    pub(crate) fit: FitParams,
    /// Scores file (`lead_id, probability, score`).
    pub(crate) out: PathBuf,
}

/// One stage's wall time and peak resident memory.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StageRecord {
    /// `read`, `spec`, `features`, `train`, `score` or `write`.
    pub(crate) stage: &'static str,
    /// Wall time.
    pub(crate) seconds: f64,
    /// Peak resident memory of the process during the stage (Linux only).
    pub(crate) peak_mib: Option<f64>,
}

/// Everything the benchmark script needs from one run of the job.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct JobReport {
    /// Always "leadscore" (the peer writes "python").
    pub(crate) tool: &'static str,
    /// Stages in order.
    pub(crate) stages: Vec<StageRecord>,
    /// Leads read.
    pub(crate) leads: usize,
    /// Interactions read.
    pub(crate) interactions: usize,
    /// Training rows (snapshots of the earlier 80% of deals).
    pub(crate) train_rows: usize,
    /// Held-out rows (snapshots of the later 20%).
    pub(crate) holdout_rows: usize,
    /// Leads scored.
    pub(crate) scored: usize,
    /// L2 per training row; scikit-learn's `C` is `1 / (l2 × train_rows)`.
    pub(crate) l2: f64,
    /// The solver's stopping rule (norm of the mean gradient per row).
    pub(crate) gradient_tolerance: f64,
    /// ROC AUC on the held-out rows.
    pub(crate) holdout_roc_auc: f64,
    /// Log loss on the held-out rows.
    pub(crate) holdout_log_loss: f64,
    /// Mean log loss on the training rows (what the fit minimises, without the penalty).
    pub(crate) train_log_loss: f64,
    /// Feature names in matrix order.
    pub(crate) feature_names: Vec<String>,
    /// Column means of the training matrix, to compare the peer's matrix with.
    pub(crate) feature_means: Vec<f64>,
    /// The learned feature spec, which the peer builds its features from.
    pub(crate) spec: FeatureSpec,
}

/// Runs the job, printing each stage's time on stderr as it ends.
pub(crate) fn run_job(settings: &JobSettings) -> Result<JobReport> {
    let mut stages = Vec::new();
    let mut tables = stage(&mut stages, "read", || {
        load(&settings.paths, LoadOptions::default())
    })?;
    let interactions_read = tables.interactions.height();
    // Encoding the interactions is part of building features (the peer does it inside
    // its joins), but spec learning counts the encoded interactions: the index is built
    // first and its time added to the features stage.
    let (events, indexing) = ahead(|| EventIndex::new(&tables.leads, &tables.interactions))?;
    // Learning which event types, pages and categories get a column is leadscore's own
    // work; the peer is handed the result, so it is timed apart from building features.
    let (spec, train, test) = stage(&mut stages, "spec", || {
        let cutoffs = CutoffParams::default().check()?;
        let observations = training_observations(&tables.leads, &tables.outcomes, &cutoffs)?;
        let (train, test, _) = split_by_close(&observations)?;
        let spec =
            FeatureSpec::learn(&tables.leads, &events, &train, &SpecParams::default(), None)?;
        Ok((spec, train, test))
    })?;
    let built = stage_with(&mut stages, "features", Some(indexing), || {
        // Past the index nothing reads the interactions (the spec has no rule features):
        // letting them go leaves memory for the matrices.
        tables.interactions = DataFrame::empty();
        crate::heap::release_freed();
        // Matrices in f32, as `train` keeps them; the training matrix's column means are
        // taken from the exact f64 values as each partition is built.
        let matrix = |observations: &DataFrame, means: Option<&mut ColumnMeans>| {
            let writer = spec.writer(
                &events,
                &tables.leads,
                &tables.interactions,
                observations,
                None,
            )?;
            match means {
                Some(means) => writer.rows_f32(|part| means.add(part)),
                None => writer.rows_f32(|_| {}),
            }
        };
        let mut means = ColumnMeans::new(spec.names().len());
        let x_train = matrix(&train, Some(&mut means))?;
        let x_test = matrix(&test, None)?;
        let base = observations_at(&tables.leads, settings.as_of)?;
        let x_base = matrix(&base, None)?;
        Ok(Built {
            y_train: won_labels(&train)?,
            y_test: won_labels(&test)?,
            spec,
            x_train,
            x_test,
            x_base,
            feature_means: means.means(),
        })
    })?;
    let Built {
        spec,
        x_train,
        y_train,
        x_test,
        y_test,
        x_base,
        feature_means,
    } = built;
    // The training matrix is standardised in place; the fit's own log loss is taken from
    // it before it goes.
    let (model, fitted) = stage(&mut stages, "train", || {
        let prepared = PreparedRows::from_owned(x_train, &y_train)?;
        let model = prepared.fit(&settings.fit, None)?.model;
        let fitted = prepared.probabilities(&model);
        Ok((model, fitted))
    })?;
    let probability = stage(&mut stages, "score", || {
        Ok(model.probabilities(&x_base).to_vec())
    })?;
    stage(&mut stages, "write", || {
        let score: Vec<u32> = probability.iter().map(|&p| score_of(p)).collect();
        let mut scores = DataFrame::new(
            probability.len(),
            vec![
                tables.leads.column(LEAD_ID)?.clone(),
                Column::new("probability".into(), &probability),
                Column::new("score".into(), score),
            ],
        )?;
        write_table(&mut scores, &settings.out, "JobSettings.out")
    })?;

    let holdout = model.probabilities(&x_test).to_vec();
    let judged = Metrics::of(&holdout, &y_test);
    Ok(JobReport {
        tool: "leadscore",
        stages,
        leads: tables.leads.height(),
        interactions: interactions_read,
        train_rows: y_train.len(),
        holdout_rows: y_test.len(),
        scored: probability.len(),
        l2: settings.fit.l2,
        gradient_tolerance: settings.fit.gradient_tolerance,
        holdout_roc_auc: judged.roc_auc,
        holdout_log_loss: judged.log_loss,
        train_log_loss: log_loss(&fitted, &y_train),
        feature_names: spec.names(),
        feature_means,
        spec,
    })
}

/// The matrices the features stage builds.
struct Built {
    spec: FeatureSpec,
    x_train: Array2<f32>,
    y_train: Vec<bool>,
    x_test: Array2<f32>,
    y_test: Vec<bool>,
    x_base: Array2<f32>,
    /// Means of the training matrix's observed values: what a missing value is imputed
    /// with, so the means of the matrix the model sees.
    feature_means: Vec<f64>,
}

/// Column means of a matrix's observed (finite) values, summed partition by partition.
struct ColumnMeans {
    sums: Vec<f64>,
    counts: Vec<usize>,
}

impl ColumnMeans {
    fn new(columns: usize) -> Self {
        ColumnMeans {
            sums: vec![0.0; columns],
            counts: vec![0; columns],
        }
    }

    fn add(&mut self, part: &Array2<f64>) {
        for ((sum, count), column) in self
            .sums
            .iter_mut()
            .zip(&mut self.counts)
            .zip(part.columns())
        {
            for &v in column.iter().filter(|v| v.is_finite()) {
                *sum += v;
                *count += 1;
            }
        }
    }

    fn means(&self) -> Vec<f64> {
        self.sums
            .iter()
            .zip(&self.counts)
            .map(|(&s, &n)| if n == 0 { 0.0 } else { s / n as f64 })
            .collect()
    }
}

/// Runs `work` as the stage `name`, recording its wall time and peak memory.
fn stage<T>(
    stages: &mut Vec<StageRecord>,
    name: &'static str,
    work: impl FnOnce() -> Result<T>,
) -> Result<T> {
    stage_with(stages, name, None, work)
}

/// Work of a stage done before an earlier stage needed it, timed apart.
struct Ahead {
    seconds: f64,
    peak_mib: Option<f64>,
}

/// Runs work that belongs to a later stage, measuring it for [`stage_with`].
fn ahead<T>(work: impl FnOnce() -> Result<T>) -> Result<(T, Ahead)> {
    memory::reset_peak();
    let started = Instant::now();
    let result = work()?;
    Ok((
        result,
        Ahead {
            seconds: started.elapsed().as_secs_f64(),
            peak_mib: memory::peak_mib(),
        },
    ))
}

/// A stage, with the time (and peak) of its part done ahead added.
fn stage_with<T>(
    stages: &mut Vec<StageRecord>,
    name: &'static str,
    ahead: Option<Ahead>,
    work: impl FnOnce() -> Result<T>,
) -> Result<T> {
    memory::reset_peak();
    let started = Instant::now();
    let result = work()?;
    let ahead = ahead.unwrap_or(Ahead {
        seconds: 0.0,
        peak_mib: None,
    });
    let record = StageRecord {
        stage: name,
        seconds: started.elapsed().as_secs_f64() + ahead.seconds,
        peak_mib: match (memory::peak_mib(), ahead.peak_mib) {
            (Some(now), Some(before)) => Some(now.max(before)),
            (now, before) => now.or(before),
        },
    };
    eprintln!(
        "{name}: {:.2} s{}",
        record.seconds,
        record
            .peak_mib
            .map_or(String::new(), |m| format!(", peak {m:.0} MiB"))
    );
    stages.push(record);
    Ok(result)
}

impl JobReport {
    /// The report as pretty JSON.
    pub(crate) fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::setting("JobReport", e.to_string()))
    }
}
