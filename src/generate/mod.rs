//! `leadscore generate`: a seeded synthetic CRM in the contract's format, realistic
//! enough to train on and to be fooled by (see `lead` for the world it simulates),
//! with a `truth` table of each lead's true conversion probability for tests and
//! benchmarks. The same parameters give byte-identical files.

pub mod catalog;
pub(crate) mod lead;
pub(crate) mod sink;

use std::path::{Path, PathBuf};

use polars::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::data::columns::*;
use crate::data::source::FileFormat;
use crate::data::timestamp::parse_timestamp;
use crate::error::{Error, Result};
use crate::progress::Progress;
use lead::{simulate, LeadLife, Period};
use sink::TableSink;

/// Column of the truth table.
pub(crate) const TRUE_PROBABILITY: &str = "true_probability";

/// Leads simulated per chunk: large enough to keep both cores busy, small enough that
/// memory does not grow with the data set.
const CHUNK_LEADS: usize = 16_384;

/// Settings of a generated data set, as the user gives them.
#[derive(Debug, Clone)]
pub struct GenerateParams {
    leads: usize,
    seed: u64,
    format: FileFormat,
    start: String,
    end: String,
    stale_close_days: Option<f64>,
}

impl Default for GenerateParams {
    fn default() -> Self {
        GenerateParams {
            leads: 5_000,
            seed: 42,
            format: FileFormat::Csv,
            start: "2024-01-01".into(),
            end: "2026-01-01".into(),
            stale_close_days: None,
        }
    }
}

impl GenerateParams {
    /// Number of leads (default 5,000).
    pub(crate) fn leads(mut self, leads: usize) -> Self {
        self.leads = leads;
        self
    }
    /// Seed of every random draw (default 42).
    pub(crate) fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Output format (default CSV).
    pub(crate) fn format(mut self, format: FileFormat) -> Self {
        self.format = format;
        self
    }
    /// First day leads are created (default 2024-01-01).
    pub(crate) fn start(mut self, start: impl Into<String>) -> Self {
        self.start = start.into();
        self
    }
    /// The export's "now" (default 2026-01-01): deals still open then are open leads.
    pub(crate) fn end(mut self, end: impl Into<String>) -> Self {
        self.end = end.into();
        self
    }

    /// Close leads silent for this many days as lost, as a CRM clean-up does (default:
    /// never). Lost deals then end after long silences while won ones close on a
    /// decision: the scenario in which a model that sees how long a deal took looks
    /// brilliant on paper and ranks open leads badly.
    pub(crate) fn stale_close_days(mut self, days: Option<f64>) -> Self {
        self.stale_close_days = days;
        self
    }

    /// Checks the settings once, naming the bad one.
    pub(crate) fn check(self) -> Result<ValidGenerateParams> {
        if let Some(days) = self.stale_close_days {
            if !(days.is_finite() && (1.0..=3650.0).contains(&days)) {
                return Err(Error::setting(
                    "GenerateParams.stale_close_days",
                    format!("{days} is not a number of days from 1 to 3650"),
                ));
            }
        }
        if self.leads == 0 || self.leads > 100_000_000 {
            return Err(Error::setting(
                "GenerateParams.leads",
                format!("{} is out of range 1..=100000000", self.leads),
            ));
        }
        let start = parse_timestamp(&self.start).ok_or_else(|| {
            Error::setting(
                "GenerateParams.start",
                format!("'{}' is not an ISO 8601 timestamp", self.start),
            )
        })?;
        let end = parse_timestamp(&self.end).ok_or_else(|| {
            Error::setting(
                "GenerateParams.end",
                format!("'{}' is not an ISO 8601 timestamp", self.end),
            )
        })?;
        if end - start < 30 * crate::data::timestamp::MICROS_PER_DAY {
            return Err(Error::setting(
                "GenerateParams.end",
                "must be at least 30 days after `GenerateParams.start`",
            ));
        }
        Ok(ValidGenerateParams {
            leads: self.leads,
            seed: self.seed,
            format: self.format,
            period: Period { start, end },
            stale_close_days: self.stale_close_days,
        })
    }
}

/// Checked generation settings.
#[derive(Debug, Clone)]
pub struct ValidGenerateParams {
    leads: usize,
    seed: u64,
    format: FileFormat,
    period: Period,
    stale_close_days: Option<f64>,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct GenerateReport {
    /// Leads written.
    pub leads: usize,
    /// Interactions written.
    pub interactions: usize,
    /// Outcomes written (closed leads).
    pub outcomes: usize,
    /// The files, in the order leads, interactions, outcomes, truth.
    pub files: Vec<PathBuf>,
}

/// Writes `leads`, `interactions`, `outcomes` and `truth` tables into `dir`.
pub fn generate(
    params: &ValidGenerateParams,
    dir: &Path,
    progress: &Progress,
) -> Result<GenerateReport> {
    std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    let mut sinks: Vec<TableSink> = ["leads", "interactions", "outcomes", "truth"]
        .into_iter()
        .map(|name| TableSink::new(dir, name, params.format))
        .collect();
    let bar = progress.bar(params.leads as u64, "generating leads");
    let mut first = 0;
    while first < params.leads {
        let last = (first + CHUNK_LEADS).min(params.leads);
        let lives: Vec<LeadLife> = (first..last)
            .into_par_iter()
            .map(|index| {
                let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
                rng.set_stream(index as u64);
                simulate(&mut rng, params.period, params.stale_close_days)
            })
            .collect();
        let frames = chunk_frames(first, &lives)?;
        for (sink, mut frame) in sinks.iter_mut().zip(frames) {
            sink.write(&mut frame)?;
        }
        bar.inc((last - first) as u64);
        first = last;
    }
    bar.finish_and_clear();
    for sink in &mut sinks {
        sink.finish()?;
    }
    for sink in &sinks {
        sink.commit()?;
    }
    Ok(GenerateReport {
        leads: sinks[0].rows(),
        interactions: sinks[1].rows(),
        outcomes: sinks[2].rows(),
        files: sinks.iter().map(|s| s.target().to_path_buf()).collect(),
    })
}

/// The lead id of the lead at 0-based `index`.
pub(crate) fn lead_id(index: usize) -> String {
    format!("L{:07}", index + 1)
}

/// Builds the four tables' rows for one chunk of leads starting at `first`.
fn chunk_frames(first: usize, lives: &[LeadLife]) -> Result<[DataFrame; 4]> {
    let ids: Vec<String> = (first..first + lives.len()).map(lead_id).collect();
    let text = |name: &str, values: Vec<Option<&str>>| Column::new(name.into(), values);
    let leads = DataFrame::new_infer_height(vec![
        Column::new(LEAD_ID.into(), &ids),
        datetime(CREATED_AT, lives.iter().map(|l| l.created_at).collect()),
        text("industry", lives.iter().map(|l| Some(l.industry)).collect()),
        text("job_title", lives.iter().map(|l| l.job_title).collect()),
        text("seniority", lives.iter().map(|l| l.seniority).collect()),
        Column::new(
            "company_size".into(),
            lives.iter().map(|l| l.company_size).collect::<Vec<_>>(),
        ),
        text("country", lives.iter().map(|l| Some(l.country)).collect()),
        text("source", lives.iter().map(|l| Some(l.source)).collect()),
        text(
            "lead_owner",
            lives.iter().map(|l| Some(l.lead_owner)).collect(),
        ),
        Column::new(
            "utm_campaign".into(),
            lives
                .iter()
                .map(|l| format!("cmp-{:03}", l.utm_campaign))
                .collect::<Vec<_>>(),
        ),
        text("browser", lives.iter().map(|l| Some(l.browser)).collect()),
        Column::new(
            "lucky_number".into(),
            lives.iter().map(|l| l.lucky_number).collect::<Vec<_>>(),
        ),
    ])?;

    let total: usize = lives.iter().map(|l| l.interactions.len()).sum();
    let mut lead_ids = Vec::with_capacity(total);
    let mut occurred = Vec::with_capacity(total);
    let mut events = Vec::with_capacity(total);
    let mut details = Vec::with_capacity(total);
    for (id, life) in ids.iter().zip(lives) {
        for interaction in &life.interactions {
            lead_ids.push(id.as_str());
            occurred.push(interaction.at);
            events.push(interaction.event.name());
            details.push(interaction.detail.text());
        }
    }
    let interactions = DataFrame::new(
        total,
        vec![
            Column::new(LEAD_ID.into(), lead_ids),
            datetime(OCCURRED_AT, occurred),
            Column::new(EVENT_TYPE.into(), events),
            Column::new(DETAIL.into(), details),
        ],
    )?;

    let closed: Vec<(&String, bool, i64)> = ids
        .iter()
        .zip(lives)
        .filter_map(|(id, life)| life.outcome.map(|(won, at)| (id, won, at)))
        .collect();
    let outcomes = DataFrame::new(
        closed.len(),
        vec![
            Column::new(
                LEAD_ID.into(),
                closed.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                OUTCOME.into(),
                closed
                    .iter()
                    .map(|c| if c.1 { WON } else { LOST })
                    .collect::<Vec<_>>(),
            ),
            datetime(CLOSED_AT, closed.iter().map(|c| c.2).collect()),
        ],
    )?;

    let truth = DataFrame::new(
        lives.len(),
        vec![
            Column::new(LEAD_ID.into(), &ids),
            Column::new(
                TRUE_PROBABILITY.into(),
                lives
                    .iter()
                    .map(|l| (l.p_win * 1e6).round() / 1e6)
                    .collect::<Vec<f64>>(),
            ),
        ],
    )?;
    Ok([leads, interactions, outcomes, truth])
}

fn datetime(name: &str, micros: Vec<i64>) -> Column {
    Int64Chunked::from_vec(name.into(), micros)
        .into_datetime(TimeUnit::Microseconds, None)
        .into_column()
}
