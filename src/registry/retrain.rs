//! One scheduled retrain: train a candidate on what was known before the most recent
//! deals closed, judge it and the model in use on those deals (the leads open at
//! evaluation dates from the split on, each scored as of its date, against how they
//! closed: as `train`'s holdout and `compare` judge), apply the gate, and publish the
//! candidate refitted on every deal only when it passes. Every run leaves one line in
//! the record, whatever it decided.

use std::path::PathBuf;

use super::gate::GateRule;
use super::{in_use, DataFacts, Decision, Entry, Figures, Judged, Registry};
use crate::data::columns::LEAD_ID;
use crate::data::history::History;
use crate::data::timestamp::{format_timestamp, MICROS_PER_DAY};
use crate::data::{floats, load, InputPaths, LoadOptions};
use crate::error::{Error, Result};
use crate::eval::paired::{group_numbers, paired_auc};
use crate::features::cutoffs::{evaluation_dates, typical_open_time, ValidCutoffParams};
use crate::model::judging::OpenLeads;
use crate::model::pipeline::{close_quantile, MIN_PER_CLASS};
use crate::model::train::FitParams;
use crate::model::{train_model, Model, TrainChoices};
use crate::points::PointModel;
use crate::progress::Progress;

/// What a retrain is asked to do.
#[derive(Debug, Clone)]
pub struct RetrainRequest {
    /// The three tables.
    pub paths: InputPaths,
    /// How they are read.
    pub load: LoadOptions,
    /// The rule model file, when not the built-in example.
    pub points: Option<PathBuf>,
    /// Where training snapshots are cut.
    pub cutoffs: ValidCutoffParams,
    /// Solver settings.
    pub fit: FitParams,
    /// L2 choice, rule features, training rows at most.
    pub choices: TrainChoices,
    /// The publish gate.
    pub rule: GateRule,
    /// When this retrain is recorded (µs); a published model's file name carries it.
    pub at: i64,
    /// The settings as the user gave them, for the record.
    pub settings: serde_json::Value,
}

/// What a retrain did.
#[derive(Debug, Clone)]
pub enum RetrainOutcome {
    /// The candidate is now the model in use.
    Published(Entry),
    /// The model in use stays (the line says why).
    Kept(Entry),
}

/// Runs one retrain on `registry`, holding its lock throughout, so that two retrains
/// at once cannot both publish. An input that fails the checks is recorded as refused
/// and returned as its error; warnings come back beside the outcome.
pub fn retrain(
    registry: &Registry,
    request: &RetrainRequest,
    progress: &Progress,
) -> Result<(RetrainOutcome, Vec<String>)> {
    request.rule.check()?;
    request.fit.check()?;
    let _lock = registry.lock()?;
    recover(registry, request.at)?;
    // A model in use that this leadscore cannot read (an older artifact format after
    // an upgrade, a damaged file) must not stop every retrain from now on: the
    // candidate is then judged alone, and the line says why.
    let (current, unreadable) = match registry.current_model() {
        Ok(current) => (current, None),
        Err(Error::Artifact { reason }) => (
            None,
            Some(format!(
                "the model in use ({}) cannot be read ({reason}), so the candidate is judged alone; ",
                registry.current().unwrap_or_default()
            )),
        ),
        Err(error) => return Err(error),
    };
    let mut warnings = Vec::new();
    let judged = judge(request, current.as_ref(), &mut warnings, progress);
    let (verdict, history, points) = match judged {
        Ok(judged) => judged,
        Err(error) => {
            let mut entry = Entry::bare(request.at, Decision::Refused, error.to_string());
            entry.current = registry.current();
            entry.previous = entry.current.clone();
            entry.settings = Some(request.settings.clone());
            registry.append(&entry)?;
            return Err(error);
        }
    };
    let Verdict { mut entry, publish } = verdict;
    if let Some(note) = unreadable {
        entry.reason = format!("{note}{}", entry.reason);
    }
    entry.previous = registry.current();
    entry.current = entry.previous.clone();
    entry.settings = Some(request.settings.clone());
    entry.rule = Some(request.rule);
    if !publish {
        registry.append(&entry)?;
        return Ok((RetrainOutcome::Kept(entry), warnings));
    }
    // The candidate passed; it is refitted on every deal. Should that fail, the line
    // says so and the model in use stays.
    let refit = history
        .ok_or_else(|| Error::setting("retrain", "no history to refit"))
        .and_then(|history| {
            train_model(
                history,
                points,
                &request.cutoffs,
                &request.fit,
                request.choices,
                progress,
            )
        });
    let (model, fit_warnings) = match refit {
        Ok(fitted) => fitted,
        Err(error) => {
            entry.decision = Decision::Refused;
            entry.reason = format!(
                "{}; but the refit on every deal failed: {error}",
                entry.reason
            );
            registry.append(&entry)?;
            return Err(error);
        }
    };
    warnings.extend(fit_warnings);
    let stamp: String = format_timestamp(request.at)
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    let name = registry.store(&model, &stamp)?;
    pause_for_tests("link");
    registry.point_at(&name)?;
    pause_for_tests("record");
    entry.decision = Decision::Published;
    entry.current = Some(name);
    registry.append(&entry)?;
    Ok((RetrainOutcome::Published(entry), warnings))
}

/// A judged candidate: the line to record (decision still `Kept`) and whether the
/// gate lets it through.
struct Verdict {
    entry: Entry,
    publish: bool,
}

/// Reads the tables, trains the candidate on what was known before the split, judges
/// it and `current` on the deals after, and applies the gate. Returns the history (for
/// the refit on every deal) when the candidate may be published.
fn judge(
    request: &RetrainRequest,
    current: Option<&(String, Model)>,
    warnings: &mut Vec<String>,
    progress: &Progress,
) -> Result<(Verdict, Option<History>, PointModel)> {
    let tables = load(&request.paths, request.load)?;
    let (points, skipped) =
        PointModel::for_leads(request.points.as_deref(), tables.leads.schema())?;
    warnings.extend(skipped);
    let points = match request.points.as_deref().and_then(|p| p.file_name()) {
        Some(name) => PointModel {
            source: name.to_string_lossy().into_owned(),
            ..points
        },
        None => points,
    };
    // The history keeps its interactions: both models score the judged leads from them.
    let history = History::of_tables(tables, true)?;
    let tables = &history.tables;
    let won = tables.won_count()?;
    let facts = DataFacts {
        fingerprint: history.fingerprint.clone(),
        data_as_of: format_timestamp(history.data_as_of),
        leads: tables.leads.height(),
        won,
        lost: tables.outcomes.height() - won,
    };
    let mut entry = Entry::bare(request.at, Decision::Kept, String::new());
    entry.data = Some(facts);
    // The deals judged are the latest that neither model saw: the later 20%, or, when
    // the model in use learned from data that ends later, the deals after its data.
    // A model judged on deals it learned from looks better than it is.
    let latest_20 = close_quantile(&tables.outcomes, 0.8)?;
    let (split, split_why) = match current {
        Some((_, model)) if model.data_as_of >= latest_20 => (
            model.data_as_of.saturating_add(1),
            "the end of the data the model in use learned from",
        ),
        _ => (latest_20, "the close of the deal at 80% in closing order"),
    };
    let earlier = tables.known_at(split)?;
    let earlier_won = earlier.won_count()?;
    let earlier_lost = earlier.outcomes.height() - earlier_won;
    if earlier_won < MIN_PER_CLASS || earlier_lost < MIN_PER_CLASS {
        entry.reason = format!(
            "too little history to train a candidate: {earlier_won} won and {earlier_lost} lost deals closed before {}; at least {MIN_PER_CLASS} of each are needed",
            format_timestamp(split)
        );
        return Ok(kept(entry, points));
    }
    let every = typical_open_time(&tables.leads, &tables.outcomes)?;
    let dates = evaluation_dates(split, close_quantile(&tables.outcomes, 1.0)?, every);
    let open = OpenLeads::at(tables, &dates)?;
    let ids = open.observations.column(LEAD_ID)?.str()?;
    let deals = group_numbers(ids.iter().map(|id| id.unwrap_or("")));
    let (judged_won, judged_lost) = deal_outcomes(&deals, &open.won);
    entry.judged = Some(Judged {
        split: format_timestamp(split),
        split_why: split_why.into(),
        every_days: every as f64 / MICROS_PER_DAY as f64,
        dates: dates.len(),
        won: judged_won,
        lost: judged_lost,
        rows: open.won.len(),
    });
    if judged_won < MIN_JUDGED || judged_lost < MIN_JUDGED {
        entry.reason = format!(
            "too few deals to judge a candidate on: {judged_won} won and {judged_lost} lost deals were open after {} and have closed; at least {MIN_JUDGED} of each are needed (retrain when more have closed)",
            format_timestamp(split)
        );
        return Ok(kept(entry, points));
    }
    let (candidate, candidate_warnings) = train_model(
        History::of_tables(earlier, request.choices.rule_features)?,
        points.clone(),
        &request.cutoffs,
        &request.fit,
        request.choices,
        progress,
    )?;
    warnings.extend(candidate_warnings);
    let probability = |model: &Model| -> Result<Vec<f64>> {
        floats(&open.scored(model, tables, false)?.table, "probability")
    };
    let candidate_p = probability(&candidate)?;
    let rule = request.rule;
    let mut note = String::new();
    let current_p = match current {
        Some((name, model)) => match probability(model) {
            Ok(p) => Some(p),
            Err(e) => {
                note = format!("the model in use ({name}) cannot score today's data ({e}); ");
                None
            }
        },
        None => None,
    };
    let paired = paired_auc(
        &candidate_p,
        current_p.as_deref().unwrap_or(&candidate_p),
        &open.won,
        &deals,
        rule.draws,
        rule.seed,
    );
    let figures = Figures {
        candidate: paired.candidate,
        current: current_p.as_ref().map(|_| paired.current),
        difference: current_p.as_ref().map(|_| paired.difference),
    };
    let (publish, reason) = rule.decide(&figures);
    entry.figures = Some(figures);
    entry.reason = format!("{note}{reason}");
    Ok((Verdict { entry, publish }, Some(history), points))
}

/// A verdict that keeps the model in use, for a reason already in `entry`.
fn kept(entry: Entry, points: PointModel) -> (Verdict, Option<History>, PointModel) {
    (
        Verdict {
            entry,
            publish: false,
        },
        None,
        points,
    )
}

/// Judged deals of each outcome needed before a candidate is judged at all: below it,
/// a ROC AUC interval is too wide to tell anything apart.
pub(crate) const MIN_JUDGED: usize = 20;

/// Won and lost deals among rows numbered by deal.
fn deal_outcomes(deals: &[usize], won: &[bool]) -> (usize, usize) {
    let count = deals.iter().max().map_or(0, |d| d + 1);
    let mut outcome = vec![false; count];
    for (&deal, &w) in deals.iter().zip(won) {
        outcome[deal] = w;
    }
    let won = outcome.iter().filter(|&&w| w).count();
    (won, count - won)
}

/// Records a model in use that the record does not know: a run killed after it moved
/// the link and before it wrote its line.
pub(crate) fn recover(registry: &Registry, at: i64) -> Result<()> {
    let Some(current) = registry.current() else {
        return Ok(());
    };
    let stack = in_use(&registry.entries()?);
    if stack.last() == Some(&current) {
        return Ok(());
    }
    let mut entry = Entry::bare(
        at,
        Decision::Recovered,
        format!("{current} is in use but its publish was never recorded (the run was stopped after switching to it): recorded now"),
    );
    entry.previous = stack.last().cloned();
    entry.current = Some(current);
    registry.append(&entry)
}

/// A test hook: with `LEADSCORE_PAUSE_AT=<point>` in the environment, the run sleeps
/// `LEADSCORE_PAUSE_SECONDS` (default 5) at that point, so that a test can kill it
/// there. Points: `link` (the new model is stored, the link not yet moved) and `record`
/// (the link moved, the line not yet written).
fn pause_for_tests(point: &str) {
    if std::env::var("LEADSCORE_PAUSE_AT").as_deref() == Ok(point) {
        let seconds = std::env::var("LEADSCORE_PAUSE_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5.0);
        std::thread::sleep(std::time::Duration::from_secs_f64(seconds));
    }
}
