//! `leadscore backtest`: replay history to compare training settings (the cutoff
//! scheme first of all) on the job the model does: scoring leads that are still open.

use std::path::PathBuf;

use clap::Args;

use crate::cli::flags::{self, rule_model};

use crate::cli::history::HistoryFiles;

use crate::data::timestamp::format_timestamp;
use crate::data::{load, LoadOptions, UnknownLeadPolicy};
use crate::error::{Error, Result};
use crate::model::backtest::{
    backtest, default_dates, markdown_table, BacktestRow, BacktestSetting,
};
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
    let settings = args
        .snapshots
        .iter()
        .map(|&snapshots| {
            BacktestSetting::with_snapshots(
                snapshots,
                args.snapshot_every_days,
                FitParams::default(),
                args.l2,
            )
        })
        .collect::<Result<Vec<_>>>()?;
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
    print!("{}", markdown_table(&rows));
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&rows)
            .map_err(|e| Error::output(path, std::io::Error::other(e)))?;
        write_bytes(&json, path)?;
    }
    Ok(())
}
