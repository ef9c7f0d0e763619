//! `leadscore score`: every lead's rule points and predicted probability with reasons.

use std::path::PathBuf;

use clap::Args;

use crate::cli::flags::{self, UnknownLeadsFlag};

use crate::data::timestamp::format_timestamp;
use crate::data::timestamp::now_micros;
use crate::data::{load, thousands, InputPaths};
use crate::error::Result;
use crate::model::artifact::read_model;
use crate::model::score::{outside_range_warnings, score_leads};
use crate::output::refuse_overwriting_inputs;
use crate::output::{write_table, OutputFormat};

/// Flags of `leadscore score`, as typed.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The model artifact written by `leadscore train`.
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,
    /// Leads table (.csv or .parquet).
    #[arg(long, value_name = "F")]
    pub leads: PathBuf,
    /// Interactions table (.csv or .parquet); a header-only file is fine.
    #[arg(long, value_name = "F")]
    pub interactions: PathBuf,
    /// Score as of this time (ISO 8601); only interactions before it count. Default: now.
    #[arg(long, value_name = "T", value_parser = flags::time("--as-of"))]
    pub as_of: Option<i64>,
    /// Scores file (.csv or .parquet).
    #[arg(long, value_name = "F")]
    pub out: PathBuf,
    /// `--unknown-leads`.
    #[command(flatten)]
    pub unknown_leads: UnknownLeadsFlag,
}

/// Runs the command.
pub fn run(args: ScoreArgs) -> Result<()> {
    refuse_overwriting_inputs(
        &[("--out", &args.out)],
        &[
            ("--model", &args.model),
            ("--leads", &args.leads),
            ("--interactions", &args.interactions),
        ],
    )?;
    let as_of = args.as_of.unwrap_or_else(now_micros);
    OutputFormat::of(&args.out, "--out")?;
    let model = read_model(&args.model)?;
    let tables = load(
        &InputPaths {
            leads: args.leads,
            interactions: args.interactions,
            outcomes: None,
        },
        args.unknown_leads.load_options(),
    )?;
    eprint!("{}", tables.read_summary()?);
    let scored = score_leads(&model, &tables.leads, &tables.interactions, as_of)?;
    for warning in outside_range_warnings(&model.feature_names, &scored.outside_range) {
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
