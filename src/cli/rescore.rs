//! `leadscore rescore`: the nightly job (see [`crate::rescore`]).

use std::path::PathBuf;

use clap::Args;

use crate::registry::Registry;

use crate::cli::flags::{self, UnknownLeadsFlag};

use crate::data::thousands;
use crate::data::timestamp::now_micros;
use crate::error::{Error, Result};
use crate::model::artifact::read_model;
use crate::output::refuse_overwriting_inputs;
use crate::progress::Progress;
use crate::rescore::base::BaseInput;
use crate::rescore::{refuse_inputs_in_history, rescore, RescoreOptions};

/// Flags of `leadscore rescore`, as typed.
#[derive(Debug, Args)]
pub(crate) struct RescoreArgs {
    /// The model artifact written by `leadscore train`.
    #[arg(long, value_name = "MODEL", required_unless_present = "registry")]
    pub(crate) model: Option<PathBuf>,
    /// Instead of --model: the model in use in this registry (`retrain --registry`),
    /// named in the summary by its file in the registry.
    #[arg(long, value_name = "DIR", conflicts_with = "model")]
    pub(crate) registry: Option<PathBuf>,
    /// Leads table (.csv or .parquet).
    #[arg(long, value_name = "F")]
    pub(crate) leads: PathBuf,
    /// Interactions table (.csv or .parquet). Parquet is read a few row groups at a time,
    /// so bases larger than memory need it; CSV is read whole.
    #[arg(long, value_name = "F")]
    pub(crate) interactions: PathBuf,
    /// Output directory: scores.parquet, history/, changes.parquet, summary.json.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// Score as of this time (ISO 8601). Default: now.
    #[arg(long, value_name = "T", value_parser = flags::time("--as-of"))]
    pub(crate) as_of: Option<i64>,
    /// A lead is listed as changed when its probability moved by more than this.
    #[arg(long, default_value_t = 0.05, value_name = "P")]
    pub(crate) change_threshold: f64,
    /// Population stability index above which the score or a feature has drifted.
    #[arg(long, default_value_t = 0.25, value_name = "PSI")]
    pub(crate) drift_threshold: f64,
    /// Leads scored at a time; lower it to bound memory on very large bases.
    #[arg(long, default_value_t = 250_000, value_name = "N")]
    pub(crate) partition_leads: usize,
    /// Allow an --as-of older than the latest run in the history: the run adds its
    /// history partition (with its own summary.json) and leaves the current scores,
    /// change list and summary alone. Without it such a run is refused.
    #[arg(long)]
    pub(crate) backfill: bool,
    /// Exit with status 3 (after writing everything) when drift is over the threshold.
    #[arg(long)]
    pub(crate) fail_on_drift: bool,
    /// `--unknown-leads`.
    #[command(flatten)]
    pub(crate) unknown_leads: UnknownLeadsFlag,
}

/// Runs the job; the summary's headline goes to stderr, the summary itself to a file.
pub(crate) fn run(args: RescoreArgs) -> Result<()> {
    // The run writes these in DIR (and history partitions below it).
    let written: Vec<std::path::PathBuf> = ["scores.parquet", "changes.parquet", "summary.json"]
        .iter()
        .map(|name| args.out.join(name))
        .collect();
    let (model_path, model_version) = match (&args.model, &args.registry) {
        (Some(path), _) => (
            path.clone(),
            path.file_name().map(|n| n.to_string_lossy().into_owned()),
        ),
        (None, Some(dir)) => {
            let registry = Registry::open(dir)?;
            let Some(version) = registry.current() else {
                return Err(Error::setting(
                    "--registry",
                    format!(
                        "{} has no model in use yet: run `leadscore retrain --registry` first",
                        dir.display()
                    ),
                ));
            };
            (dir.join(&version), Some(version))
        }
        // clap requires one of the two.
        (None, None) => return Err(Error::setting("--model", "give --model or --registry")),
    };
    let inputs = vec![
        ("--model", model_path.as_path()),
        ("--leads", args.leads.as_path()),
        ("--interactions", args.interactions.as_path()),
    ];
    refuse_inputs_in_history(&args.out, &inputs)?;
    refuse_overwriting_inputs(
        &written
            .iter()
            .map(|p| ("--out", p.as_path()))
            .collect::<Vec<_>>(),
        &inputs,
    )?;
    let as_of = args.as_of.unwrap_or_else(now_micros);
    let options = RescoreOptions {
        as_of,
        change_threshold: args.change_threshold,
        drift_threshold: args.drift_threshold,
        partition_leads: args.partition_leads,
        backfill: args.backfill,
        model_version,
    };
    // Checked here too, so that a bad setting is named before the model is read.
    options.check()?;
    let model = read_model(&model_path)?;
    let input = BaseInput {
        leads: args.leads,
        interactions: args.interactions,
        unknown_leads: args.unknown_leads.policy(),
    };
    let summary = rescore(
        &model,
        &input,
        &args.out,
        &options,
        &Progress::stderr(),
        |base| eprint!("{}", base.read_summary()),
    )?;
    eprintln!(
        "rescored {} leads as of {} into {} in {:.1} s: {} changed since {}",
        thousands(summary.scored),
        summary.as_of,
        args.out.display(),
        summary.duration_seconds,
        thousands(summary.changed),
        summary.previous_run.as_deref().unwrap_or("no earlier run")
    );
    for warning in &summary.warnings {
        eprintln!("warning: {warning}");
    }
    if args.fail_on_drift && summary.drift.over_threshold {
        let worst = summary.drift.worst();
        return Err(Error::Drift {
            summary: args.out.join("summary.json"),
            worst,
        });
    }
    Ok(())
}
