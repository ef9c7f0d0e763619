//! `leadscore validate`.

use clap::Args;

use crate::cli::history::HistoryFiles;

use crate::data::summary::DataQuality;
use crate::data::{load, LoadOptions, UnknownLeadPolicy};
use crate::error::{Error, Result};

/// Flags of `leadscore validate`, as typed.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The three tables.
    #[command(flatten)]
    pub history: HistoryFiles,
    /// What to do with rows naming a lead_id the leads table lacks.
    #[arg(long, value_enum, default_value_t = UnknownLeadPolicy::Warn)]
    pub unknown_leads: UnknownLeadPolicy,
    /// Print the summary as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command: exit 2 on any violation, the summary on stdout otherwise.
pub fn run(args: ValidateArgs) -> Result<()> {
    let paths = args.history.paths();
    let tables = load(
        &paths,
        LoadOptions {
            unknown_leads: args.unknown_leads,
        },
    )?;
    eprint!("{}", tables.read_summary()?);
    let quality = DataQuality::of(&tables)?;
    if args.json {
        let json = serde_json::to_string_pretty(&quality)
            .map_err(|e| Error::output("stdout", std::io::Error::other(e)))?;
        println!("{json}");
    } else {
        print!("{quality}");
    }
    Ok(())
}
