//! `leadscore backtest`: replay history to compare training settings (the cutoff
//! scheme first of all) on the job the model does: scoring leads that are still open.

use std::path::PathBuf;

use clap::Args;

use crate::cli::flags::{self, rule_model};

use crate::cli::history::HistoryFiles;

use crate::data::timestamp::format_timestamp;
use crate::data::{load, LoadOptions, UnknownLeadPolicy};
use crate::error::{Error, Result};
use crate::features::cutoffs::CutoffParams;
use crate::model::backtest::{backtest, BacktestRow, BacktestSetting};
use crate::model::pipeline::close_quantile;
use crate::model::select::L2Choice;
use crate::model::train::FitParams;
use crate::output::refuse_overwriting_inputs;
use crate::output::write_bytes;
use crate::progress::Progress;

/// Flags of `leadscore backtest`, as typed.
#[derive(Debug, Args)]
pub(crate) struct BacktestArgs {
    /// The three tables.
    #[command(flatten)]
    pub(crate) history: HistoryFiles,
    /// Rule model (TOML) whose scores become features, as in `train --points`.
    #[arg(long, value_name = "F")]
    pub(crate) points: Option<PathBuf>,
    /// Dates to go back to (repeatable). Default: when 60% and when 80% of the deals
    /// had closed.
    #[arg(long, value_name = "T", value_parser = flags::time("--at"))]
    pub(crate) at: Vec<i64>,
    /// Snapshot counts to compare (1 = each closed lead seen once, at creation).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 4, 8])]
    pub(crate) snapshots: Vec<usize>,
    /// Lead age (days) of the second snapshot; later ones double.
    #[arg(long, default_value_t = 7.0, value_name = "DAYS")]
    pub(crate) snapshot_every_days: f64,
    /// L2 strength per row, or `auto`.
    #[arg(long, default_value = "auto", value_name = "auto|NUMBER")]
    pub(crate) l2: L2Choice,
    /// Also write the results as JSON here.
    #[arg(long, value_name = "F")]
    pub(crate) json: Option<PathBuf>,
}

/// Runs the command: a Markdown table on stdout, progress on stderr.
pub(crate) fn run(args: BacktestArgs) -> Result<()> {
    if let Some(json) = &args.json {
        let mut inputs = args.history.flagged();
        inputs.extend(args.points.as_deref().map(|p| ("--points", p)));
        refuse_overwriting_inputs(&[("--json", json)], &inputs)?;
    }
    let mut settings = Vec::new();
    for &snapshots in &args.snapshots {
        let cutoffs = CutoffParams::default()
            .every_days(args.snapshot_every_days)
            .max_snapshots(snapshots)
            .check()?;
        settings.push(BacktestSetting {
            name: format!(
                "{snapshots} snapshot{} (ages {} days)",
                if snapshots == 1 { "" } else { "s" },
                cutoffs
                    .ages_days()
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            cutoffs,
            fit: FitParams::default(),
            l2: args.l2,
        });
    }
    let tables = load(
        &args.history.paths(),
        LoadOptions {
            unknown_leads: UnknownLeadPolicy::Warn,
        },
    )?;
    eprint!("{}", tables.read_summary()?);
    let points = rule_model(args.points.as_deref(), &tables.leads)?;
    let dates = if args.at.is_empty() {
        default_dates(&tables.outcomes)?
    } else {
        args.at.clone()
    };
    let mut rows: Vec<BacktestRow> = Vec::new();
    for &at in &dates {
        for setting in &settings {
            eprintln!("backtest at {}: {}", format_timestamp(at), setting.name);
            rows.push(backtest(
                &tables,
                &points,
                args.points.is_some(),
                at,
                setting,
                &Progress::stderr(),
            )?);
        }
    }
    print!("{}", table(&rows));
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&rows)
            .map_err(|e| Error::output(path, std::io::Error::other(e)))?;
        write_bytes(&json, path)?;
    }
    Ok(())
}

/// When 60% and 80% of the deals had closed.
fn default_dates(outcomes: &polars::prelude::DataFrame) -> Result<Vec<i64>> {
    if outcomes.height() == 0 {
        return Err(Error::setting(
            "--outcomes",
            "no closed deals to go back to",
        ));
    }
    [0.6, 0.8]
        .iter()
        .map(|&share| close_quantile(outcomes, share))
        .collect()
}

/// The results as a Markdown table.
fn table(rows: &[BacktestRow]) -> String {
    let mut text = String::from(
        "| as of | setting | trained on | judged | won rate | ROC AUC | PR AUC | top-decile lift | log loss | Brier |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        text.push_str(&format!(
            "| {} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.2} | {:.4} | {:.4} |\n",
            &format_timestamp(r.at)[..10],
            r.setting,
            r.trained_on,
            r.judged,
            r.metrics.base_rate,
            r.metrics.roc_auc,
            r.metrics.pr_auc,
            r.metrics.lift_top_decile,
            r.metrics.log_loss,
            r.metrics.brier
        ));
    }
    text
}
