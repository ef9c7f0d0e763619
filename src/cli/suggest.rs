//! `leadscore suggest-points`: a rule file learned from the model, checked by the rule
//! engine before it is written, with its cost in ranking quality measured on history
//! when the tables are given.

use std::path::PathBuf;

use clap::Args;

use crate::cli::history::ModelFile;

use crate::data::{load, InputPaths, LoadOptions, UnknownLeadPolicy};
use crate::error::{Error, Result};
use crate::model::artifact::read_model;
use crate::output::refuse_overwriting_inputs;
use crate::output::write_bytes;
use crate::points::PointModel;
use crate::suggest::judge::{checked, Judging};
use crate::suggest::render::{diff, to_toml};
use crate::suggest::{suggest, SuggestOptions};

/// Flags of `leadscore suggest-points`, as typed.
#[derive(Debug, Args)]
pub(crate) struct SuggestArgs {
    /// `--model`.
    #[command(flatten)]
    pub(crate) model: ModelFile,
    /// The rule file (TOML) to write.
    #[arg(long, value_name = "F")]
    pub(crate) out: PathBuf,
    /// Rules to compare against (default: the rule model in the artifact).
    #[arg(long, value_name = "F")]
    pub(crate) points: Option<PathBuf>,
    /// Score of an average lead.
    #[arg(long, default_value_t = 100.0)]
    pub(crate) base: f64,
    /// Points that double the odds of winning.
    #[arg(long, default_value_t = 20.0)]
    pub(crate) points_to_double_odds: f64,
    /// Behaviour rules to keep (the strongest).
    #[arg(long, default_value_t = 7)]
    pub(crate) behaviours: usize,
    /// Attribute rules to keep (the strongest).
    #[arg(long, default_value_t = 20)]
    pub(crate) attributes: usize,
    /// Without tables: a lead is sales-ready from this predicted won probability.
    #[arg(long, default_value_t = 0.5, value_name = "P")]
    pub(crate) sales_ready_probability: f64,
    /// With tables: the lowest threshold at which this share of sales-ready leads won.
    #[arg(long, value_name = "SHARE", conflicts_with = "target_volume")]
    pub(crate) target_precision: Option<f64>,
    /// With tables: the threshold that makes this share of leads sales-ready.
    #[arg(long, value_name = "SHARE")]
    pub(crate) target_volume: Option<f64>,
    /// Leads table, to measure the suggestion on closed deals (with the next two).
    #[arg(long, value_name = "F", requires_all = ["interactions", "outcomes"])]
    pub(crate) leads: Option<PathBuf>,
    /// Interactions table.
    #[arg(long, value_name = "F", requires = "leads")]
    pub(crate) interactions: Option<PathBuf>,
    /// Outcomes table.
    #[arg(long, value_name = "F", requires = "leads")]
    pub(crate) outcomes: Option<PathBuf>,
}

/// Runs the command: the diff and the measurements on stdout, the file written.
pub(crate) fn run(args: SuggestArgs) -> Result<()> {
    let mut inputs = vec![("--model", args.model.path.as_path())];
    inputs.extend(args.points.as_deref().map(|p| ("--points", p)));
    inputs.extend(args.leads.as_deref().map(|p| ("--leads", p)));
    inputs.extend(args.interactions.as_deref().map(|p| ("--interactions", p)));
    inputs.extend(args.outcomes.as_deref().map(|p| ("--outcomes", p)));
    refuse_overwriting_inputs(&[("--out", &args.out)], &inputs)?;
    check_share("--target-precision", args.target_precision)?;
    check_share("--target-volume", args.target_volume)?;
    check_share(
        "--sales-ready-probability",
        Some(args.sales_ready_probability),
    )?;
    if !(args.points_to_double_odds.is_finite() && args.points_to_double_odds > 0.0) {
        return Err(Error::setting(
            "--points-to-double-odds",
            "must be a positive number",
        ));
    }
    if (args.target_precision.is_some() || args.target_volume.is_some()) && args.leads.is_none() {
        return Err(Error::setting(
            "--target-precision/--target-volume",
            "needs --leads, --interactions and --outcomes to choose a threshold on",
        ));
    }
    let model = read_model(&args.model.path)?;
    if model.spec.rules.is_some() {
        eprintln!(
            "warning: this model was trained with --points, so part of what it learned sits in the old rules' scores, which the suggestion holds at their average; for a complete replacement, train again without --points."
        );
    }
    let current = match &args.points {
        Some(path) => PointModel::from_file(path)?,
        None => model.points.clone(),
    };
    let options = SuggestOptions {
        base: args.base,
        points_to_double_odds: args.points_to_double_odds,
        behaviours: args.behaviours,
        attributes: args.attributes,
        sales_ready_probability: args.sales_ready_probability,
        ..SuggestOptions::default()
    };
    let mut suggestion = suggest(&model, &options);
    let provenance = format!(
        "From the model trained on data {} (leadscore {}).",
        model.data_fingerprint, model.leadscore_version
    );
    let mut text = to_toml(&suggestion, &current, &provenance);
    let mut report = String::new();
    if let (Some(leads), Some(interactions), Some(outcomes)) =
        (&args.leads, &args.interactions, &args.outcomes)
    {
        let tables = load(
            &InputPaths {
                leads: leads.clone(),
                interactions: interactions.clone(),
                outcomes: Some(outcomes.clone()),
            },
            LoadOptions {
                unknown_leads: UnknownLeadPolicy::Warn,
            },
        )?;
        let judging = Judging::of(&model, &tables)?;
        if judging.open.is_empty() {
            return Err(Error::setting(
                "--outcomes",
                "no closed lead to measure the suggestion on",
            ));
        }
        let suggested_points = judging.open.points(&checked(&text)?, &tables)?;
        match judging.threshold(&suggested_points, args.target_precision, args.target_volume) {
            Some(threshold) => {
                suggestion.sales_ready_from = threshold;
                text = to_toml(&suggestion, &current, &provenance);
            }
            None if args.target_precision.is_some() => {
                return Err(Error::setting(
                    "--target-precision",
                    "no sales-ready threshold reaches that share of won deals on this history: ask for less",
                ));
            }
            None => {}
        }
        // The threshold only moves the tier bounds, so the text is checked again but its
        // points are the ones already scored.
        checked(&text)?;
        let measured = judging.measure(
            &suggested_points,
            &judging.open.points(&current, &tables)?,
            suggestion.sales_ready_from,
        );
        if measured.threshold_selects_nothing_or_everything() {
            return Err(Error::setting(
                if args.target_volume.is_some() {
                    "--target-volume"
                } else if args.target_precision.is_some() {
                    "--target-precision"
                } else {
                    "--sales-ready-probability"
                },
                format!(
                    "a sales-ready threshold of {} points would select {} of the {} judged leads, which is no threshold at all: ask for another target",
                    suggestion.sales_ready_from,
                    if measured.sales_ready == 0 { "none" } else { "all" },
                    measured.pairs
                ),
            ));
        }
        report = measured.report();
    } else {
        checked(&text)?;
    }
    write_bytes(text.as_bytes(), &args.out)?;
    println!("suggested rules against {}:", current.source);
    for line in diff(&suggestion, &current) {
        println!("  {line}");
    }
    print!("{report}");
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

fn check_share(flag: &str, value: Option<f64>) -> Result<()> {
    match value {
        Some(v) if !(v > 0.0 && v < 1.0) => Err(Error::setting(
            flag,
            format!("{v} is not a share between 0 and 1"),
        )),
        _ => Ok(()),
    }
}
