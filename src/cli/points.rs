//! `leadscore points`: the classic rule score of every lead as of a time, with tiers,
//! fit grades, threshold crossings since an earlier time, and per-lead breakdowns.

use std::path::PathBuf;

use clap::Args;

use crate::cli::flags::{self, rule_model, UnknownLeadsFlag};
use crate::cli::history::LeadBaseFiles;

use crate::data::timestamp::{format_timestamp, now_micros};
use crate::data::{load, thousands};
use crate::error::{Error, Result};
use crate::output::refuse_overwriting_inputs;
use crate::output::{write_table, OutputFormat};
use crate::points::explain::explain;

/// Flags of `leadscore points`, as typed.
#[derive(Debug, Args)]
pub(crate) struct PointsArgs {
    /// The rule model (TOML); without it, the built-in example of data/points.toml.
    #[arg(long, value_name = "F")]
    pub(crate) points: Option<PathBuf>,
    /// `--leads`, `--interactions`, `--as-of`.
    #[command(flatten)]
    pub(crate) base: LeadBaseFiles,
    /// Also score as of this earlier time and report which leads crossed into the action tier since.
    #[arg(long, value_name = "T", value_parser = flags::time("--since"))]
    pub(crate) since: Option<i64>,
    /// Scores file (.csv or .parquet).
    #[arg(long, value_name = "F")]
    pub(crate) out: PathBuf,
    /// Also write every lead's rule-by-rule breakdown to this file (.csv or .parquet).
    #[arg(long, value_name = "F")]
    pub(crate) breakdown: Option<PathBuf>,
    /// Print the rule-by-rule breakdown of this lead on stdout (repeatable).
    #[arg(long, value_name = "LEAD_ID")]
    pub(crate) explain: Vec<String>,
    /// `--unknown-leads`.
    #[command(flatten)]
    pub(crate) unknown_leads: UnknownLeadsFlag,
}

/// Checked settings of a points run.
#[derive(Debug, Clone)]
pub(crate) struct PointsSettings {
    /// Scoring time, µs since the epoch.
    pub(crate) as_of: i64,
    /// Earlier time for crossings, µs since the epoch.
    pub(crate) since: Option<i64>,
}

impl PointsArgs {
    /// Turns the flags into checked settings; `now` is the default as-of time.
    pub(crate) fn settings(&self, now: i64) -> Result<PointsSettings> {
        let as_of = self.base.as_of.unwrap_or(now);
        let since = self.since;
        if let Some(since) = since {
            if since >= as_of {
                return Err(Error::setting(
                    "--since",
                    format!(
                        "{} is not before --as-of {}",
                        format_timestamp(since),
                        format_timestamp(as_of)
                    ),
                ));
            }
        }
        OutputFormat::of(&self.out, "--out")?;
        if let Some(path) = &self.breakdown {
            OutputFormat::of(path, "--breakdown")?;
        }
        Ok(PointsSettings { as_of, since })
    }
}

/// Runs the command.
pub(crate) fn run(args: PointsArgs) -> Result<()> {
    let mut outputs = vec![("--out", args.out.as_path())];
    outputs.extend(args.breakdown.as_deref().map(|b| ("--breakdown", b)));
    let mut inputs = args.base.flagged();
    inputs.extend(args.points.as_deref().map(|p| ("--points", p)));
    refuse_overwriting_inputs(&outputs, &inputs)?;
    let settings = args.settings(now_micros())?;
    let started = std::time::Instant::now();
    let tables = load(&args.base.paths(), args.unknown_leads.load_options())?;
    eprint!("{}", tables.read_summary()?);
    let model = rule_model(args.points.as_deref(), &tables.leads)?;
    let read_seconds = started.elapsed().as_secs_f64();
    let wants_breakdown = args.breakdown.is_some() || !args.explain.is_empty();
    let mut run = model.run(
        &tables.leads,
        &tables.interactions,
        settings.as_of,
        settings.since,
        wants_breakdown,
    )?;
    // Everything that can fail on input (an unknown --explain lead) fails before any
    // file is written, so a refused run leaves the previous outputs as they were.
    let explanation = if args.explain.is_empty() {
        None
    } else {
        Some(explain(&model, &run.scores, &args.explain)?)
    };
    let mut long = match &args.breakdown {
        Some(_) => Some(run.breakdown_by_lead()?),
        None => None,
    };
    let scored_seconds = started.elapsed().as_secs_f64();
    write_table(&mut run.table, &args.out, "--out")?;
    if let (Some(path), Some(long)) = (&args.breakdown, long.as_mut()) {
        write_table(long, path, "--breakdown")?;
    }
    eprintln!(
        "read {read_seconds:.2} s, scored {:.2} s, wrote {:.2} s",
        scored_seconds - read_seconds,
        started.elapsed().as_secs_f64() - scored_seconds
    );
    eprint!("{}", run.tier_summary(&model, settings.as_of)?);
    if let (Some(since), Some(crossed)) = (settings.since, run.crossed) {
        eprintln!(
            "{} leads crossed into {} since {}",
            thousands(crossed),
            model.action_tier_name(),
            format_timestamp(since)
        );
    }
    if let Some(explanation) = explanation {
        print!("{explanation}");
    }
    Ok(())
}
