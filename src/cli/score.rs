//! `leadscore score`: every lead's rule points and predicted probability with reasons.

use std::path::PathBuf;

use clap::Args;

use crate::cli::flags::UnknownLeadsFlag;
use crate::cli::history::{LeadBaseFiles, ModelFile};

use crate::data::timestamp::format_timestamp;
use crate::data::timestamp::now_micros;
use crate::data::{load, thousands};
use crate::error::Result;
use crate::model::artifact::read_model;
use crate::model::score::{created_later_warning, outside_range_warnings, score_leads};
use crate::output::refuse_overwriting_inputs;
use crate::output::{write_table, OutputFormat};

/// Flags of `leadscore score`, as typed.
#[derive(Debug, Args)]
pub(crate) struct ScoreArgs {
    /// `--model`.
    #[command(flatten)]
    pub(crate) model: ModelFile,
    /// `--leads`, `--interactions`, `--as-of`.
    #[command(flatten)]
    pub(crate) base: LeadBaseFiles,
    /// Scores file (.csv or .parquet).
    #[arg(long, value_name = "F")]
    pub(crate) out: PathBuf,
    /// `--unknown-leads`.
    #[command(flatten)]
    pub(crate) unknown_leads: UnknownLeadsFlag,
}

/// Runs the command.
pub(crate) fn run(args: ScoreArgs) -> Result<()> {
    let mut inputs = vec![("--model", args.model.path.as_path())];
    inputs.extend(args.base.flagged());
    refuse_overwriting_inputs(&[("--out", &args.out)], &inputs)?;
    let as_of = args.base.as_of.unwrap_or_else(now_micros);
    OutputFormat::of(&args.out, "--out")?;
    let model = read_model(&args.model.path)?;
    let tables = load(&args.base.paths(), args.unknown_leads.load_options())?;
    eprint!("{}", tables.read_summary()?);
    let scored = score_leads(&model, &tables.leads, &tables.interactions, as_of)?;
    let warnings = created_later_warning(&tables.leads, as_of)?
        .into_iter()
        .chain(outside_range_warnings(
            &model.feature_names,
            &scored.outside_range,
        ));
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    let mut scores = scored.table;
    write_table(&mut scores, &args.out, "--out")?;
    eprintln!(
        "scored {} leads as of {} into {}",
        thousands(scores.height()),
        format_timestamp(as_of),
        args.out.display()
    );
    Ok(())
}
