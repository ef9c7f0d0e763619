//! `leadscore train`.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::cli::flags::{self, rule_model, ClassWeights, UnknownLeadsFlag};

use crate::cli::history::HistoryFiles;

use crate::data::history::{History, HistoryOptions};
use crate::data::thousands;
use crate::data::timestamp::format_timestamp;
use crate::error::{Error, Result};
use crate::features::cutoffs::{CutoffParams, ValidCutoffParams};
use crate::model::artifact::{encode, read_model};
use crate::model::select::L2Choice;
use crate::model::summary::summary;
use crate::model::train::FitParams;
use crate::model::{train_model, train_on_features, Model, TrainChoices};
use crate::output::refuse_overwriting_inputs;
use crate::output::write_bytes;
use crate::points::PointModel;
use crate::progress::Progress;

/// Flags of `leadscore train`, as typed.
#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    /// Leads table (.csv or .parquet).
    #[arg(long, value_name = "F", required_unless_present = "features")]
    pub(crate) leads: Option<PathBuf>,
    /// Interactions table (.csv or .parquet); a header-only file is fine.
    #[arg(long, value_name = "F", required_unless_present = "features")]
    pub(crate) interactions: Option<PathBuf>,
    /// Outcomes table (.csv or .parquet).
    #[arg(long, value_name = "F", required_unless_present = "features")]
    pub(crate) outcomes: Option<PathBuf>,
    /// Instead of the three tables: the training rows (.csv or .parquet) that the query
    /// of `leadscore export-sql --training --model MODEL` built in a warehouse. The
    /// fit is train's own on those rows; the features, snapshot ages and rule model are
    /// MODEL's.
    #[arg(long, value_name = "F", requires = "model", conflicts_with_all = ["leads", "interactions", "outcomes", "points", "until", "snapshots", "snapshot_every_days", "unknown_leads"])]
    pub(crate) features: Option<PathBuf>,
    /// With --features: the model whose training query built them.
    #[arg(long, value_name = "MODEL", requires = "features")]
    pub(crate) model: Option<PathBuf>,
    /// The rule model (TOML) carried in the artifact; default: the built-in example.
    /// A rule model given here also feeds its fit points, engagement points and grade
    /// to the predictive model as features.
    #[arg(long, value_name = "F")]
    pub(crate) points: Option<PathBuf>,
    /// Model artifact to write.
    #[arg(long, value_name = "MODEL")]
    pub(crate) out: PathBuf,
    /// Learn only from what was known at this time: deals closed, leads created and
    /// interactions before it (to keep later deals for `compare` or a backtest).
    #[arg(long, value_name = "T", value_parser = flags::time("--until"))]
    pub(crate) until: Option<i64>,
    /// How training is cut and fitted.
    #[command(flatten)]
    pub(crate) settings: TrainSettings,
}

/// The training settings `train` and `retrain` share, as typed.
#[derive(Debug, Args)]
pub(crate) struct TrainSettings {
    /// Snapshots per closed lead while it was open, at lead ages 0, then
    /// --snapshot-every-days, doubling (1 = only at creation).
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub(crate) snapshots: usize,
    /// Lead age (days) of the second snapshot; later ones double.
    #[arg(long, default_value_t = 7.0, value_name = "DAYS")]
    pub(crate) snapshot_every_days: f64,
    /// L2 regularisation strength per training row, or `auto` to choose it on the
    /// latest training deals (the lowest validation log loss).
    #[arg(long, default_value = "auto", value_name = "auto|NUMBER")]
    pub(crate) l2: L2Choice,
    /// Weighting of won against lost deals; `balanced` centres probabilities on 0.5
    /// without changing the ranking.
    #[arg(long, value_enum, default_value_t = ClassWeights::None)]
    pub(crate) class_weight: ClassWeights,
    /// Solver iterations at most.
    #[arg(long, default_value_t = 200)]
    pub(crate) max_iterations: u64,
    /// Solver stops when the norm of the mean gradient per row falls below this.
    #[arg(long, default_value_t = FitParams::default().gradient_tolerance)]
    pub(crate) gradient_tolerance: f64,
    /// `--unknown-leads`.
    #[command(flatten)]
    pub(crate) unknown_leads: UnknownLeadsFlag,
    /// Training rows (snapshots) taken at most: above it, whole leads are sampled,
    /// stratified by outcome (the same data gives the same sample), and `train` says so.
    #[arg(long, default_value_t = crate::model::pipeline::MAX_TRAINING_ROWS, value_name = "N", value_parser = clap::value_parser!(usize))]
    pub(crate) max_training_rows: usize,
}

impl TrainSettings {
    /// Where snapshots are cut, checked.
    pub(crate) fn cutoffs(&self) -> Result<ValidCutoffParams> {
        CutoffParams::default()
            .max_snapshots(self.snapshots)
            .every_days(self.snapshot_every_days)
            .check()
    }

    /// The solver settings, checked (the L2 strength comes with the choices).
    pub(crate) fn fit(&self) -> Result<FitParams> {
        let fit = FitParams {
            max_iterations: self.max_iterations,
            gradient_tolerance: self.gradient_tolerance,
            class_weight: self.class_weight.into(),
            ..FitParams::default()
        };
        fit.check()?;
        Ok(fit)
    }

    /// The L2 choice, rule features (when a rule file is given) and the row cap.
    pub(crate) fn choices(&self, rule_features: bool) -> TrainChoices {
        TrainChoices {
            l2: self.l2,
            rule_features,
            max_training_rows: self.max_training_rows,
        }
    }
}

/// Runs the command: metrics on stdout, the artifact written atomically.
pub(crate) fn run(args: TrainArgs) -> Result<()> {
    let fit = args.settings.fit()?;
    let choices = args.settings.choices(args.points.is_some());
    let (Some(leads), Some(interactions), Some(outcomes)) =
        (&args.leads, &args.interactions, &args.outcomes)
    else {
        return run_on_features(&args, &fit, choices);
    };
    let history = HistoryFiles {
        leads: leads.clone(),
        interactions: interactions.clone(),
        outcomes: outcomes.clone(),
    };
    let mut inputs = history.flagged();
    inputs.extend(args.points.as_deref().map(|p| ("--points", p)));
    refuse_overwriting_inputs(&[("--out", &args.out)], &inputs)?;
    let cutoffs = args.settings.cutoffs()?;
    let until = args.until;
    let rule_features = args.points.is_some();
    let history = History::load(
        &history.paths(),
        HistoryOptions {
            load: args.settings.unknown_leads.load_options(),
            until,
            // Rule features are computed from the interactions frame.
            keep_interactions: rule_features,
            ..HistoryOptions::default()
        },
        &Progress::stderr(),
    )?;
    eprint!("{}", history.read_summary);
    let points = rule_model(args.points.as_deref(), &history.tables.leads)?;
    // The artifact names the rule file, not where it lay on the training machine.
    let points = match args.points.as_deref().and_then(|p| p.file_name()) {
        Some(name) => PointModel {
            source: name.to_string_lossy().into_owned(),
            ..points
        },
        None => points,
    };
    if let Some(at) = until {
        eprintln!(
            "learning from what was known before {}: {} closed deals",
            format_timestamp(at),
            thousands(history.tables.outcomes.height())
        );
    }
    let (model, warnings) = train_model(
        history,
        points,
        &cutoffs,
        &fit,
        choices,
        &Progress::stderr(),
    )?;
    finish(&model, warnings, &args.out)
}

/// `train --features F --model MODEL`: the fit on rows a warehouse built.
fn run_on_features(args: &TrainArgs, fit: &FitParams, choices: TrainChoices) -> Result<()> {
    // clap requires --features or the tables, and --model with --features.
    let (Some(features), Some(model_path)) = (&args.features, &args.model) else {
        return Err(Error::setting(
            "--features",
            "give the three tables, or --features with --model",
        ));
    };
    refuse_overwriting_inputs(
        &[("--out", &args.out)],
        &[("--features", features), ("--model", model_path)],
    )?;
    let source = read_model(model_path)?;
    eprintln!(
        "training on the rows in {} (features of {})",
        features.display(),
        model_path.display()
    );
    let (model, warnings) =
        train_on_features(features, &source, fit, choices, &Progress::stderr())?;
    finish(&model, warnings, &args.out)
}

/// Says the warnings, writes the artifact atomically and prints its summary.
fn finish(model: &Model, warnings: Vec<String>, out: &Path) -> Result<()> {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    write_bytes(&encode(model)?, out)?;
    print!("{}", summary(model));
    eprintln!("wrote {}", out.display());
    Ok(())
}
