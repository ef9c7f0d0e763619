//! `leadscore generate`.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};

use crate::data::source::FileFormat;
use crate::data::thousands;
use crate::error::Result;
use crate::generate::{generate, GenerateParams};
use crate::progress::Progress;

/// Output format of generated tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FormatArg {
    /// Comma-separated values with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

/// Flags of `leadscore generate`, as typed.
#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// Directory to write leads, interactions, outcomes and truth tables into (created if needed).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// Number of leads (about 30 interactions each).
    #[arg(long, default_value_t = 5_000, value_name = "N")]
    pub(crate) leads: usize,
    /// Seed: the same seed gives byte-identical files.
    #[arg(long, default_value_t = 42, value_name = "S")]
    pub(crate) seed: u64,
    /// File format of the tables.
    #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
    pub(crate) format: FormatArg,
    /// First day leads are created (ISO 8601).
    #[arg(long, default_value = "2024-01-01", value_name = "T")]
    pub(crate) start: String,
    /// The export's "now" (ISO 8601): deals not closed by then are open leads.
    #[arg(long, default_value = "2026-01-01", value_name = "T")]
    pub(crate) end: String,
    /// Close leads silent for this many days as lost (a CRM's bulk clean-up), before
    /// any decision of their own. Off by default.
    #[arg(long, value_name = "DAYS")]
    pub(crate) stale_close_days: Option<f64>,
}

impl GenerateArgs {
    /// The library's settings for these flags (checked later by `check`).
    pub(crate) fn params(&self) -> GenerateParams {
        let format = match self.format {
            FormatArg::Csv => FileFormat::Csv,
            FormatArg::Parquet => FileFormat::Parquet,
        };
        GenerateParams::default()
            .leads(self.leads)
            .seed(self.seed)
            .format(format)
            .start(&self.start)
            .end(&self.end)
            .stale_close_days(self.stale_close_days)
    }
}

/// Runs the command.
pub(crate) fn run(args: GenerateArgs) -> Result<()> {
    let params = args.params().check()?;
    let started = Instant::now();
    let report = generate(&params, &args.out, &Progress::stderr())?;
    eprintln!(
        "wrote {} leads, {} interactions, {} outcomes to {} in {:.1} s",
        thousands(report.leads),
        thousands(report.interactions),
        thousands(report.outcomes),
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
