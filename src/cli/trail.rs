//! `leadscore history`: one lead's path through the rescore history and why it moved,
//! or every lead's as a table.

use std::path::PathBuf;

use clap::Args;

use crate::cli::flags;
use crate::data::timestamp::format_timestamp;
use crate::error::{Error, Result};
use crate::output::{refuse_overwriting_inputs, write_table};
use crate::rescore::trail::{history_rows, render, run_scores, steps_table};

/// Flags of `leadscore history`, as typed.
#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// The output directory of `leadscore rescore`, whose history/ is read.
    #[arg(long, value_name = "DIR")]
    pub(crate) rescore_dir: PathBuf,
    /// The lead whose path to print: every run's points, tier, probability, score and
    /// model, and between runs the rules that started or stopped giving points and the
    /// reasons that appeared or went away.
    #[arg(long, value_name = "ID", required_unless_present = "out")]
    pub(crate) lead: Option<String>,
    /// Only runs as of this time or later (ISO 8601).
    #[arg(long, value_name = "T", value_parser = flags::time("--since"))]
    pub(crate) since: Option<i64>,
    /// Write one row per (lead, run) with the movement since the lead's previous run
    /// and what changed (.csv or .parquet), for dashboards: every lead, or --lead's.
    #[arg(long, value_name = "F")]
    pub(crate) out: Option<PathBuf>,
}

/// Runs the command: the path on stdout, or the table written.
pub(crate) fn run(args: HistoryArgs) -> Result<()> {
    let since = args.since.map(format_timestamp);
    let history = args.rescore_dir.join("history");
    if let Some(out) = &args.out {
        refuse_overwriting_inputs(&[("--out", out)], &[])?;
        if out.starts_with(&history) {
            return Err(Error::setting(
                "--out",
                format!("{} lies in the history it reads", out.display()),
            ));
        }
    }
    let rows = history_rows(&args.rescore_dir, since.as_deref(), args.lead.as_deref())?;
    if let Some(lead) = &args.lead {
        if rows.height() == 0 {
            return Err(Error::setting(
                "--lead",
                format!("{lead:?} is in no run of {}", history.display()),
            ));
        }
        if args.out.is_none() {
            print!("{}", render(lead, &run_scores(&rows)?));
            return Ok(());
        }
    }
    if let Some(out) = &args.out {
        let mut table = steps_table(&rows)?;
        write_table(&mut table, out, "--out")?;
        eprintln!("wrote {} rows to {}", table.height(), out.display());
    }
    Ok(())
}
