//! `leadscore points`: the classic rule score of every lead as of a time, with tiers,
//! fit grades, threshold crossings since an earlier time, and per-lead breakdowns.

use std::path::PathBuf;

use clap::Args;
use polars::prelude::*;

use crate::cli::rule_model;
use crate::data::columns::LEAD_ID;
use crate::data::timestamp::{format_timestamp, parse_timestamp};
use crate::data::{load, thousands, InputPaths, LoadOptions, UnknownLeadPolicy};
use crate::error::{Error, Result};
use crate::output::refuse_overwriting_inputs;
use crate::output::{write_table, OutputFormat};
use crate::points::explain::explain;
use crate::points::{observations_at, PointModel, OBS};

/// Flags of `leadscore points`, as typed.
#[derive(Debug, Args)]
pub struct PointsArgs {
    /// The rule model (TOML); without it, the built-in example of data/points.toml.
    #[arg(long, value_name = "F")]
    pub points: Option<PathBuf>,
    /// Leads table (.csv or .parquet).
    #[arg(long, value_name = "F")]
    pub leads: PathBuf,
    /// Interactions table (.csv or .parquet); a header-only file is fine.
    #[arg(long, value_name = "F")]
    pub interactions: PathBuf,
    /// Score as of this time (ISO 8601); only interactions before it count. Default: now.
    #[arg(long, value_name = "T")]
    pub as_of: Option<String>,
    /// Also score as of this earlier time and report which leads crossed into the action tier since.
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Scores file (.csv or .parquet).
    #[arg(long, value_name = "F")]
    pub out: PathBuf,
    /// Also write every lead's rule-by-rule breakdown to this file (.csv or .parquet).
    #[arg(long, value_name = "F")]
    pub breakdown: Option<PathBuf>,
    /// Print the rule-by-rule breakdown of this lead on stdout (repeatable).
    #[arg(long, value_name = "LEAD_ID")]
    pub explain: Vec<String>,
    /// What to do with interactions naming a lead_id the leads table lacks.
    #[arg(long, value_enum, default_value_t = UnknownLeadPolicy::Warn)]
    pub unknown_leads: UnknownLeadPolicy,
}

/// Checked settings of a points run.
#[derive(Debug, Clone)]
pub struct PointsSettings {
    /// Scoring time, µs since the epoch.
    pub as_of: i64,
    /// Earlier time for crossings, µs since the epoch.
    pub since: Option<i64>,
}

impl PointsArgs {
    /// Turns the flags into checked settings; `now` is the default as-of time.
    pub fn settings(&self, now: i64) -> Result<PointsSettings> {
        let as_of = match &self.as_of {
            Some(text) => time_flag("--as-of", text)?,
            None => now,
        };
        let since = self
            .since
            .as_deref()
            .map(|t| time_flag("--since", t))
            .transpose()?;
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

/// Parses a time flag, naming the flag when it is not ISO 8601.
pub fn time_flag(flag: &str, text: &str) -> Result<i64> {
    let time = parse_timestamp(text)
        .ok_or_else(|| Error::setting(flag, format!("'{text}' is not an ISO 8601 timestamp")))?;
    // No CRM holds leads from before 1970 or after 2200: such a time is a typo, and it
    // would write a history partition for the year 1900.
    let (earliest, latest) = (0, parse_timestamp("2200-01-01").unwrap_or(i64::MAX));
    if !(earliest..=latest).contains(&time) {
        return Err(Error::setting(
            flag,
            format!("'{text}' is outside the years 1970 to 2200"),
        ));
    }
    Ok(time)
}

/// Microseconds since the epoch, now.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Runs the command.
pub fn run(args: PointsArgs) -> Result<()> {
    let mut outputs = vec![("--out", args.out.as_path())];
    outputs.extend(args.breakdown.as_deref().map(|b| ("--breakdown", b)));
    let mut inputs = vec![
        ("--leads", args.leads.as_path()),
        ("--interactions", args.interactions.as_path()),
    ];
    inputs.extend(args.points.as_deref().map(|p| ("--points", p)));
    refuse_overwriting_inputs(&outputs, &inputs)?;
    let settings = args.settings(now_micros())?;
    let started = std::time::Instant::now();
    let tables = load(
        &InputPaths {
            leads: args.leads.clone(),
            interactions: args.interactions.clone(),
            outcomes: None,
        },
        LoadOptions {
            unknown_leads: args.unknown_leads,
        },
    )?;
    eprint!("{}", tables.read_summary()?);
    let model = rule_model(args.points.as_deref(), &tables.leads)?;
    let read_seconds = started.elapsed().as_secs_f64();
    let wants_breakdown = args.breakdown.is_some() || !args.explain.is_empty();
    let observations = observations_at(&tables.leads, settings.as_of)?;
    let scores = model.evaluate(
        &tables.leads,
        &tables.interactions,
        &observations,
        wants_breakdown,
    )?;

    let mut output = scores.scores.clone().lazy().select([
        col(LEAD_ID),
        col("points"),
        col("tier"),
        col("grade"),
        col("fit_points"),
        col("engagement_points"),
    ]);
    if let Some(since) = settings.since {
        let earlier = observations_at(&tables.leads, since)?;
        let before = model.evaluate(&tables.leads, &tables.interactions, &earlier, false)?;
        let threshold = model
            .tiers
            .get(model.action_tier)
            .map_or(f64::INFINITY, |t| t.from);
        let previous = before.scores.lazy().select([
            col("points").alias("previous_points"),
            col("tier").alias("previous_tier"),
        ]);
        output = concat_lf_horizontal([output, previous], HConcatOptions::default())?.with_column(
            col("previous_points")
                .lt(lit(threshold))
                .and(col("points").gt_eq(lit(threshold)))
                .alias("crossed_action_tier"),
        );
    }
    let mut output = output.collect()?;
    // Everything that can fail on input (an unknown --explain lead) fails before any
    // file is written, so a refused run leaves the previous outputs as they were.
    let explanation = if args.explain.is_empty() {
        None
    } else {
        Some(explain(&model, &scores, &args.explain)?)
    };
    let mut long = match &args.breakdown {
        Some(_) => Some(breakdown_by_lead(&scores)?),
        None => None,
    };
    let scored_seconds = started.elapsed().as_secs_f64();
    write_table(&mut output, &args.out, "--out")?;
    if let (Some(path), Some(long)) = (&args.breakdown, long.as_mut()) {
        write_table(long, path, "--breakdown")?;
    }
    eprintln!(
        "read {read_seconds:.2} s, scored {:.2} s, wrote {:.2} s",
        scored_seconds - read_seconds,
        started.elapsed().as_secs_f64() - scored_seconds
    );
    eprint!("{}", tier_summary(&model, &output, settings.as_of)?);
    if let Some(since) = settings.since {
        let crossed = output
            .column("crossed_action_tier")?
            .bool()?
            .sum()
            .unwrap_or(0);
        eprintln!(
            "{} leads crossed into {} since {}",
            thousands(crossed as usize),
            model.action_tier_name(),
            format_timestamp(since)
        );
    }
    if let Some(explanation) = explanation {
        print!("{explanation}");
    }
    Ok(())
}

/// The breakdown keyed by lead_id instead of observation number.
fn breakdown_by_lead(scores: &crate::points::PointScores) -> Result<DataFrame> {
    let Some(breakdown) = &scores.breakdown else {
        return Ok(DataFrame::empty());
    };
    Ok(breakdown
        .clone()
        .lazy()
        .join(
            scores
                .scores
                .clone()
                .lazy()
                .select([col(OBS), col(LEAD_ID)]),
            [col(OBS)],
            [col(OBS)],
            JoinArgs::new(JoinType::Left),
        )
        .select([
            col(LEAD_ID),
            col("kind"),
            col("rule"),
            col("count"),
            col("points"),
        ])
        .collect()?)
}

fn tier_summary(model: &PointModel, output: &DataFrame, as_of: i64) -> Result<String> {
    let tiers = output.column("tier")?.str()?;
    let mut text = format!(
        "points as of {} ({}):",
        format_timestamp(as_of),
        model.source
    );
    for tier in model.tiers.iter().rev() {
        let n = tiers
            .iter()
            .filter(|t| *t == Some(tier.name.as_str()))
            .count();
        text.push_str(&format!(" {} {},", tier.name, thousands(n)));
    }
    text.pop();
    text.push('\n');
    Ok(text)
}
