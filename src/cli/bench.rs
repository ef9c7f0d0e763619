//! `leadscore bench`: the train-and-score job timed stage by stage, for the benchmark
//! against the Python stack (`bench/perf.sh`).

use std::path::PathBuf;

use clap::Args;

use crate::cli::flags;

use crate::cli::history::HistoryFiles;

use crate::bench::{run_job, JobSettings};
use crate::data::timestamp::now_micros;
use crate::error::Result;
use crate::model::train::FitParams;
use crate::output::refuse_overwriting_inputs;
use crate::output::{write_bytes, OutputFormat};

/// Flags of `leadscore bench`, as typed.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// The three tables.
    #[command(flatten)]
    pub(crate) history: HistoryFiles,
    /// Score the lead base as of this time (ISO 8601). Default: now.
    #[arg(long, value_name = "T", value_parser = flags::time("--as-of"))]
    pub(crate) as_of: Option<i64>,
    /// L2 strength per training row (one fixed fit, as the peer does).
    #[arg(long, default_value_t = 1e-3)]
    pub(crate) l2: f64,
    /// Solver stops when the norm of the mean gradient per row falls below this.
    #[arg(long, default_value_t = FitParams::default().gradient_tolerance)]
    pub(crate) gradient_tolerance: f64,
    /// Scores file (.csv or .parquet): lead_id, probability, score.
    #[arg(long, value_name = "F")]
    pub(crate) out: PathBuf,
    /// Where the timings, quality and feature spec go (JSON).
    #[arg(long, value_name = "F")]
    pub(crate) json: PathBuf,
}

/// Runs the command.
pub(crate) fn run(args: BenchArgs) -> Result<()> {
    refuse_overwriting_inputs(
        &[("--out", &args.out), ("--json", &args.json)],
        &args.history.flagged(),
    )?;
    let as_of = args.as_of.unwrap_or_else(now_micros);
    OutputFormat::of(&args.out, "--out")?;
    let fit = FitParams {
        l2: args.l2,
        gradient_tolerance: args.gradient_tolerance,
        ..FitParams::default()
    };
    fit.check()?;
    let report = run_job(&JobSettings {
        paths: args.history.paths(),
        as_of,
        fit,
        out: args.out,
    })?;
    write_bytes(report.to_json()?.as_bytes(), &args.json)?;
    let total: f64 = report.stages.iter().map(|s| s.seconds).sum();
    println!(
        "{} leads, {} training rows, {} features: {total:.2} s, holdout ROC AUC {:.3}, log loss {:.4}",
        report.leads,
        report.train_rows,
        report.feature_names.len(),
        report.holdout_roc_auc,
        report.holdout_log_loss
    );
    Ok(())
}
