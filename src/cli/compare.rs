//! `leadscore compare`: rule points against predictive probability on the same closed
//! leads, as an HTML report with charts, JSON and Markdown.

use std::path::PathBuf;

use clap::Args;

use crate::cli::history::ModelFile;

use crate::cli::flags::{self, UnknownLeadsFlag};

use crate::cli::history::HistoryFiles;

use crate::compare::{compare, markdown, CompareOptions};
use crate::data::load;
use crate::error::{Error, Result};
use crate::model::artifact::read_model;
use crate::output::refuse_overwriting_inputs;
use crate::output::write_bytes;

/// Flags of `leadscore compare`, as typed.
#[derive(Debug, Args)]
pub(crate) struct CompareArgs {
    /// `--model`.
    #[command(flatten)]
    pub(crate) model: ModelFile,
    /// The three tables.
    #[command(flatten)]
    pub(crate) history: HistoryFiles,
    /// Directory for report.html, report.json and report.md.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// Evaluation dates before this time form the first period, later ones the second,
    /// which is the headline (default: the end of the model's training data, so the
    /// headline is what the model never saw).
    #[arg(long, value_name = "T", value_parser = flags::time("--split-at"))]
    pub(crate) split_at: Option<i64>,
    /// Days between evaluation dates, at each of which the open leads are scored as of
    /// the date (default: the median time a deal stays open, from 1 to 30 days).
    #[arg(long, value_name = "DAYS")]
    pub(crate) every_days: Option<f64>,
    /// Bootstrap resamples for confidence intervals.
    #[arg(long, default_value_t = 500)]
    pub(crate) bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// `--unknown-leads`.
    #[command(flatten)]
    pub(crate) unknown_leads: UnknownLeadsFlag,
}

/// Runs the command: the headline and the files written on stdout, the three reports
/// in `--out`.
pub(crate) fn run(args: CompareArgs) -> Result<()> {
    let reports: Vec<std::path::PathBuf> = ["report.html", "report.json", "report.md"]
        .iter()
        .map(|name| args.out.join(name))
        .collect();
    refuse_overwriting_inputs(
        &reports
            .iter()
            .map(|p| ("--out", p.as_path()))
            .collect::<Vec<_>>(),
        &[("--model", args.model.path.as_path())]
            .into_iter()
            .chain(args.history.flagged())
            .collect::<Vec<_>>(),
    )?;
    let split_at = args.split_at;
    if args.bootstrap > 100_000 {
        return Err(Error::setting("--bootstrap", "at most 100000 resamples"));
    }
    let model = read_model(&args.model.path)?;
    let tables = load(&args.history.paths(), args.unknown_leads.load_options())?;
    eprint!("{}", tables.read_summary()?);
    let options = CompareOptions {
        every_days: args.every_days,
        split_at,
        bootstrap: args.bootstrap,
        seed: args.seed,
        progress: crate::progress::Progress::stderr(),
        ..CompareOptions::default()
    };
    let report = compare(&model, &tables, &options)?;
    let summary = markdown::render(&report);
    let json = serde_json::to_vec_pretty(&report)
        .map_err(|e| Error::output(&args.out, std::io::Error::other(e)))?;
    let html = crate::compare::html::render(&report)?;
    write_bytes(html.as_bytes(), &args.out.join("report.html"))?;
    write_bytes(&json, &args.out.join("report.json"))?;
    write_bytes(summary.as_bytes(), &args.out.join("report.md"))?;
    print!("{}", markdown::summary(&report));
    let file = |name: &str| args.out.join(name).display().to_string();
    println!(
        "\nWritten:\n  {}  open this first: the whole comparison with charts\n  {}  the same in Markdown\n  {}  every figure, for scripts",
        file("report.html"),
        file("report.md"),
        file("report.json")
    );
    Ok(())
}
