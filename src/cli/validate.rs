//! `leadscore validate`.

use clap::Args;

use crate::cli::flags::UnknownLeadsFlag;

use crate::cli::history::HistoryFiles;

use crate::data::load;
use crate::data::summary::DataQuality;
use crate::error::{Error, Result};
use crate::points::PointModel;

/// Flags of `leadscore validate`, as typed.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The three tables.
    #[command(flatten)]
    pub(crate) history: HistoryFiles,
    /// `--unknown-leads`.
    #[command(flatten)]
    pub(crate) unknown_leads: UnknownLeadsFlag,
    /// Print the summary as JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Runs the command: exit 2 on any violation, the summary on stdout otherwise.
pub(crate) fn run(args: ValidateArgs) -> Result<()> {
    let paths = args.history.paths();
    let tables = load(&paths, args.unknown_leads.load_options())?;
    eprint!("{}", tables.read_summary()?);
    let skipped = PointModel::builtin_rules_skipped(tables.leads.schema())?;
    let quality = DataQuality::of(&tables, skipped)?;
    if args.json {
        let json = serde_json::to_string_pretty(&quality)
            .map_err(|e| Error::output("stdout", std::io::Error::other(e)))?;
        println!("{json}");
    } else {
        print!("{quality}");
    }
    Ok(())
}
