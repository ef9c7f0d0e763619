//! `leadscore retrain`: the scheduled retrain with its publish gate.

use std::path::PathBuf;

use clap::Args;

use crate::cli::flags;
use crate::cli::history::HistoryFiles;
use crate::cli::train::TrainSettings;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::registry::gate::GateRule;
use crate::registry::retrain::{retrain, RetrainOutcome, RetrainRequest};
use crate::registry::Registry;

/// Flags of `leadscore retrain`, as typed.
#[derive(Debug, Args)]
pub(crate) struct RetrainArgs {
    /// The registry folder (created when missing): the published models, the link
    /// `current.bin` to the one in use, and `registry.jsonl`, one line per decision.
    #[arg(long, value_name = "DIR")]
    pub(crate) registry: PathBuf,
    /// The three tables.
    #[command(flatten)]
    pub(crate) history: HistoryFiles,
    /// The rule model (TOML) carried in the artifact, its scores features too (as
    /// `train --points`); default: the built-in example.
    #[arg(long, value_name = "F")]
    pub(crate) points: Option<PathBuf>,
    /// How training is cut and fitted (as `train`).
    #[command(flatten)]
    pub(crate) settings: TrainSettings,
    /// The share of the model in use's ROC AUC a candidate must keep.
    #[arg(long, default_value_t = GateRule::default().floor, value_name = "SHARE")]
    pub(crate) floor: f64,
    /// Bootstrap draws behind the gate's 95% intervals.
    #[arg(long, default_value_t = GateRule::default().draws, value_name = "N")]
    pub(crate) draws: usize,
    /// Seed of the bootstrap (the same data gives the same decision).
    #[arg(long, default_value_t = GateRule::default().seed, value_name = "S")]
    pub(crate) seed: u64,
    /// When this retrain is recorded (ISO 8601, default now); a published model's file
    /// name carries it.
    #[arg(long, value_name = "T", value_parser = flags::time("--at"))]
    pub(crate) at: Option<i64>,
}

/// Runs the command: the decision on stdout; exit 0 when published, 4 when the model
/// in use was kept.
pub(crate) fn run(args: RetrainArgs) -> Result<()> {
    let rule = GateRule {
        floor: args.floor,
        draws: args.draws,
        seed: args.seed,
    };
    rule.check()?;
    let cutoffs = args.settings.cutoffs()?;
    let fit = args.settings.fit()?;
    let choices = args.settings.choices(args.points.is_some());
    let settings = serde_json::json!({
        "points": args.points.as_deref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()),
        "snapshots": args.settings.snapshots,
        "snapshot_every_days": args.settings.snapshot_every_days,
        "l2": match choices.l2 {
            crate::model::select::L2Choice::Auto => "auto".to_string(),
            crate::model::select::L2Choice::Fixed(v) => v.to_string(),
        },
        "fit": fit,
        "max_training_rows": choices.max_training_rows,
    });
    let registry = Registry::open(&args.registry)?;
    let request = RetrainRequest {
        paths: args.history.paths(),
        load: args.settings.unknown_leads.load_options(),
        points: args.points.clone(),
        cutoffs,
        fit,
        choices,
        rule,
        at: args.at.unwrap_or_else(crate::data::timestamp::now_micros),
        settings,
    };
    let (outcome, warnings) = retrain(&registry, &request, &Progress::stderr())?;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    match outcome {
        RetrainOutcome::Published(entry) => {
            println!(
                "published {}: {}",
                entry.current.as_deref().unwrap_or(""),
                entry.reason
            );
            Ok(())
        }
        RetrainOutcome::Kept(entry) => Err(Error::Kept {
            current: entry.current.unwrap_or_else(|| "no model".into()),
            reason: entry.reason,
        }),
    }
}
