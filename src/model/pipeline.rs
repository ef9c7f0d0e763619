//! Training end to end: closed leads → snapshot observations before their close →
//! features learned on earlier deals → a logistic fit → metrics on later deals → the
//! final fit on all deals, packed with everything scoring needs into a [`Model`].

use ndarray::Array2;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::drift::{reference, DriftReference};
use super::sample::whole_leads;
use super::select::{choose_l2, rows_of, L2Choice, L2Trial, L2_GRID, SEARCH_ROWS};
use super::source::{HoldoutRows, TablesSource, TrainingSource};
use super::train::{FitParams, LinearModel};
use crate::data::columns::*;
use crate::data::history::History;
use crate::data::timestamp::MICROS_PER_DAY;
use crate::error::{Error, Result};
use crate::eval::metrics::Metrics;
use crate::features::cutoffs::{ValidCutoffParams, WON_LABEL};
use crate::features::spec::FeatureSpec;
use crate::points::PointModel;
use crate::progress::Progress;

/// Closed deals of each class needed before leadscore agrees to train.
pub(crate) const MIN_PER_CLASS: usize = 40;
/// Below this many deals of a class, results are flagged as unstable.
pub(crate) const STABLE_PER_CLASS: usize = 200;

/// Everything scoring needs, and what an analyst wants to know about how it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The leadscore version that trained it.
    pub leadscore_version: String,
    /// Which features exist and how they are built.
    pub spec: FeatureSpec,
    /// Feature names in matrix column order.
    pub feature_names: Vec<String>,
    /// Scaling and weights.
    pub linear: LinearModel,
    /// The rule model scored beside the probability.
    pub points: PointModel,
    /// How training observations were cut.
    pub cutoffs: ValidCutoffParams,
    /// Solver settings, with the L2 strength used.
    pub fit: FitParams,
    /// The L2 strengths tried on later training deals when `--l2 auto` (empty when fixed).
    pub l2_search: Vec<L2Trial>,
    /// What the search said when it had to widen its grid past an edge.
    pub l2_note: Option<String>,
    /// CRC-32 over the training outcomes and table sizes: which data made this model.
    pub data_fingerprint: String,
    /// Latest time seen in the training data (µs since the epoch).
    pub data_as_of: i64,
    /// Metrics on the later deals held out by time.
    pub holdout: Holdout,
    /// Training distributions of every feature and of the probability, for drift checks.
    pub drift: DriftReference,
    /// The features the holdout model used, learned from the earlier deals alone, when
    /// they differ from `spec`: a training query exported from this model builds them
    /// too, so that `train --features` judges and fits exactly as `train` did.
    pub holdout_spec: Option<FeatureSpec>,
}

impl Model {
    /// Checks that the parts agree with each other, so that a hand-made or mis-written
    /// artifact is refused here rather than panicking while scoring.
    pub fn check(&self) -> Result<()> {
        let p = self.feature_names.len();
        let refuse = |reason: String| Err(Error::Artifact { reason });
        let linear = &self.linear;
        let lengths = [
            linear.means.len(),
            linear.scales.len(),
            linear.weights.len(),
            linear.lower.len(),
            linear.upper.len(),
            linear.spread.len(),
            linear.fill.len(),
        ];
        if lengths != [p; 7] {
            let [means, scales, weights, lower, upper, spread, fill] = lengths;
            return refuse(format!(
                "inconsistent: {p} features but {means} means, {scales} scales, {weights} weights and {lower}/{upper}/{spread}/{fill} bounds"
            ));
        }
        let bounded = (0..p).all(|j| {
            let (low, high, fill) = (linear.lower[j], linear.upper[j], linear.fill[j]);
            low.is_finite()
                && high.is_finite()
                && low <= high
                && (low..=high).contains(&fill)
                && linear.spread[j].is_finite()
                && linear.spread[j] >= 0.0
        });
        if !bounded {
            return refuse(
                "inconsistent: a feature's training range or fill value is not finite and ordered"
                    .into(),
            );
        }
        if self.drift.features.len() != p {
            return refuse(format!(
                "inconsistent: {p} features but {} drift references",
                self.drift.features.len()
            ));
        }
        if let Err(reason) = self.points.check_values() {
            return refuse(format!("inconsistent: {reason}"));
        }
        let drift_bins = self.drift.features.iter().chain([&self.drift.probability]);
        if drift_bins
            .flat_map(|b| b.edges.iter().chain(&b.shares))
            .any(|v| !v.is_finite())
        {
            return refuse(
                "inconsistent: a drift reference holds a number that is not finite".into(),
            );
        }
        if !(self.fit.l2.is_finite() && self.fit.l2 >= 0.0) {
            return refuse("inconsistent: the L2 strength is not a finite number".into());
        }
        if self.spec.names() != self.feature_names {
            return refuse("inconsistent: the feature list does not match the feature spec".into());
        }
        let numbers = linear
            .means
            .iter()
            .chain(&linear.weights)
            .chain([&linear.intercept]);
        if numbers.clone().any(|v| !v.is_finite())
            || linear.scales.iter().any(|s| !(s.is_finite() && *s > 0.0))
        {
            return refuse("inconsistent: a coefficient or scale is not a finite number".into());
        }
        Ok(())
    }
}

/// Quality on held-out later deals, judged as the model is used: the leads open at
/// evaluation dates from `split_at` on, each scored as of the date, by how they closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holdout {
    /// The holdout model learned from deals closed before this time (µs).
    pub split_at: i64,
    /// Days between evaluation dates.
    pub every_days: f64,
    /// Deals (leads) judged.
    pub leads: usize,
    /// (date, open lead) pairs scored.
    pub rows: usize,
    /// Share of won among those rows.
    pub base_rate: f64,
    /// ROC AUC.
    pub roc_auc: f64,
    /// Area under the precision–recall curve (average precision).
    pub pr_auc: f64,
    /// Won rate in the top 10% by probability over the base rate.
    pub lift_top_decile: f64,
    /// Log loss (natural log).
    pub log_loss: f64,
    /// Brier score.
    pub brier: f64,
}

/// What `train` decides beyond the solver: the L2 strength, the rule model as features,
/// and how many training rows it takes at most.
#[derive(Debug, Clone, Copy)]
pub struct TrainChoices {
    /// A fixed L2 strength, or `auto`.
    pub l2: L2Choice,
    /// The rule model's scores become features.
    pub rule_features: bool,
    /// Above this many training rows (snapshots), whole leads are sampled, stratified by
    /// outcome, down to it.
    pub max_training_rows: usize,
}

/// Training rows taken at most by default: 5,000,000 snapshots, about 2 million closed
/// deals, a 4 GiB f64 matrix (the 1M-lead benchmark's 2.3M rows are taken whole).
pub(crate) const MAX_TRAINING_ROWS: usize = 5_000_000;

impl TrainChoices {
    /// `l2` with the defaults: no rule features, [`MAX_TRAINING_ROWS`].
    pub(crate) fn new(l2: L2Choice) -> Self {
        TrainChoices {
            l2,
            rule_features: false,
            max_training_rows: MAX_TRAINING_ROWS,
        }
    }
}

/// Trains on the closed leads of `history`, showing its stages on `progress`.
pub fn train_model(
    history: History,
    points: PointModel,
    cutoffs: &ValidCutoffParams,
    fit: &FitParams,
    choices: TrainChoices,
    progress: &Progress,
) -> Result<(Model, Vec<String>)> {
    points.check_columns(&history.tables.leads)?;
    let counted = counted_activity_warning(&history)?;
    let source = TablesSource {
        history,
        points: &points,
        rule_features: choices.rule_features,
        cutoffs,
    };
    let (model, mut warnings) =
        fit_model(&source, points.clone(), cutoffs, fit, choices, progress)?;
    warnings.extend(counted);
    Ok((model, warnings))
}

/// Words in a numeric lead column's name that say it counts activity.
const COUNT_WORDS: [&str; 10] = [
    "count",
    "num_",
    "number",
    "opens",
    "clicks",
    "visits",
    "views",
    "submissions",
    "downloads",
    "sessions",
];

/// With no interactions at all, a warning that activity counted into lead columns
/// cannot be held to the point-in-time rule, naming the numeric columns that look like
/// such counts: an export counts what happened until the day it was taken, after the
/// deal closed too (onboarding opens, the goodbye unsubscribe), and a model learns that
/// leak as if it were foresight.
fn counted_activity_warning(history: &History) -> Result<Option<String>> {
    if !history.events.is_empty() {
        return Ok(None);
    }
    let looks_counted: Vec<String> = history
        .tables
        .leads
        .columns()
        .iter()
        .filter(|c| c.dtype().is_primitive_numeric())
        .map(|c| c.name().to_string())
        .filter(|name| {
            let lower = name.to_ascii_lowercase();
            COUNT_WORDS.iter().any(|w| lower.contains(w))
        })
        .collect();
    if looks_counted.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "no interactions, and the leads table has numeric columns that look like activity counts ({}): counts taken when the export was made include what happened after a deal closed, which no feature may see; export the counts as of a date before each close, or the events themselves",
        looks_counted.join(", ")
    )))
}

/// Trains on the rows `source` gives: the pipeline `train` runs, whether leadscore
/// built the features or a warehouse did.
pub(crate) fn fit_model(
    source: &dyn TrainingSource,
    points: PointModel,
    cutoffs: &ValidCutoffParams,
    fit: &FitParams,
    choices: TrainChoices,
    progress: &Progress,
) -> Result<(Model, Vec<String>)> {
    let TrainChoices {
        l2,
        max_training_rows,
        ..
    } = choices;
    let deals_setting = source.deals_setting();
    let mut warnings = Vec::new();
    let (won, lost) = source.deal_counts()?;
    if won < MIN_PER_CLASS || lost < MIN_PER_CLASS {
        return Err(Error::setting(
            deals_setting,
            format!("too little history to train: {won} won and {lost} lost closed leads; at least {MIN_PER_CLASS} of each are needed"),
        ));
    }
    if won < STABLE_PER_CLASS || lost < STABLE_PER_CLASS {
        warnings.push(format!(
            "only {won} won and {lost} lost deals: coefficients and metrics will be unstable (aim for {STABLE_PER_CLASS}+ of each)"
        ));
    }
    let stages = progress.bar(7, "training");
    let stage = |message: &'static str| {
        stages.set_message(message);
        stages.inc(1);
    };
    stages.set_message("training: snapshots of closed deals");
    let observations = source.snapshots()?;
    let observations = if observations.height() > max_training_rows {
        let ids = observations.column(LEAD_ID)?.str()?;
        let leads: Vec<&str> = ids.iter().map(|id| id.unwrap_or("")).collect();
        let kept = whole_leads(&leads, &won_labels(&observations)?, max_training_rows);
        warnings.push(format!(
            "training on {} of the {} snapshots (whole leads, stratified by outcome; --max-training-rows {max_training_rows})",
            kept.len(),
            observations.height()
        ));
        let kept: Vec<IdxSize> = kept.iter().map(|&i| i as IdxSize).collect();
        observations.take(&IdxCa::from_vec("kept".into(), kept))?
    } else {
        observations
    };

    // The holdout is judged as the model is used: the earlier 80% of deals (by close)
    // train a model, which then scores the leads open at evaluation dates from the split
    // on, as of each date, judged by how those deals later closed.
    let HoldoutRows {
        split,
        every,
        rows: test,
    } = source.holdout()?;
    let train = observations.filter(
        &observations
            .column(CLOSED_AT)?
            .to_physical_repr()
            .i64()?
            .lt(split),
    )?;
    let outcomes_of = |frame: &DataFrame| -> Result<(bool, bool)> {
        let won = frame.column(WON_LABEL)?.bool()?;
        Ok((won.any(), (!won).any()))
    };
    let split_day = crate::data::timestamp::format_timestamp(split);
    match outcomes_of(&train)? {
        (true, true) => {}
        (has_won, _) => {
            return Err(Error::setting(
                deals_setting,
                format!(
                    "every deal closed before {split_day} (the earlier 80%, which training learns from) was {}: the model needs both outcomes early in the history",
                    if has_won { "won" } else { "lost" }
                ),
            ))
        }
    }
    if outcomes_of(&test)? != (true, true) {
        warnings.push(format!(
            "the leads open from {split_day} on (the later deals, held out) all had one outcome: holdout ranking metrics are undefined"
        ));
    }

    stage("training: features of the earlier deals");
    // The holdout model learns its features from the earlier deals alone; the shipped
    // model learns from every deal, with what every deal teaches.
    let (spec, spec_all) = source.specs(&train, &observations)?;
    let closed_observations = closed_at(&observations)?;
    let earlier_rows: Vec<usize> = (0..observations.height())
        .filter(|&i| closed_observations[i] < split)
        .collect();
    // When both specs agree, one matrix of all deals serves both fits: the holdout fit
    // takes its earlier rows in place. Otherwise the earlier deals get their own.
    let first = if spec_all == spec {
        TrainingMatrix {
            x: source.matrix(&spec, &observations)?,
            rows: Some(earlier_rows),
        }
    } else {
        TrainingMatrix {
            x: source.matrix(&spec, &train)?,
            rows: None,
        }
    };
    let y_train = won_labels(&train)?;
    let x_test = source.matrix(&spec, &test)?;
    let y_test = won_labels(&test)?;
    let mut fit = fit.clone();
    let mut l2_search = Vec::new();
    let mut l2_note = None;
    let mut plain_penalty = false;
    let mut start = None;
    stage("training: L2 search");
    if l2 == L2Choice::Auto {
        let closed_train = closed_at(&train)?;
        let on_fit = |done: usize, total: usize| {
            stages.set_message(format!("training: L2 search, fit {done} of {total}"));
        };
        let search = SearchRows::of(&train, &first, &y_train, &closed_train)?;
        match choose_l2(
            &search.x,
            &search.won,
            &search.closed,
            &L2_GRID,
            &fit,
            &on_fit,
        )? {
            Some(chosen) => {
                // The same total penalty on all rows as on the sample (a fixed prior):
                // per row it shrinks as the rows grow.
                fit.l2 = chosen.l2 * search.won.len() as f64 / y_train.len() as f64;
                l2_search = chosen.trials;
                plain_penalty = chosen.plain;
                start = chosen.start;
                let mut notes: Vec<String> = Vec::new();
                if let Some(widened) = chosen.widened {
                    warnings.push(widened.clone());
                    notes.push(widened);
                }
                if search.sampled {
                    notes.push(format!(
                        "the search fitted a sample of {} of the {} training rows (whole leads, stratified by outcome) and chose {} per row there: the same total penalty on all rows is {:.3e} per row",
                        search.won.len(),
                        y_train.len(),
                        chosen.l2,
                        fit.l2
                    ));
                }
                if !notes.is_empty() {
                    l2_note = Some(notes.join("; "));
                }
            }
            None => warnings.push(format!(
                "the later training deals hold only one outcome, so --l2 stays at {}",
                fit.l2
            )),
        }
    } else if let L2Choice::Fixed(value) = l2 {
        fit.l2 = value;
    }
    // Each fit starts where a fit on nearly the same rows ended: the search's largest
    // fold for the holdout model, the holdout model for the final one (when the spec
    // learned on all deals has as many features; otherwise it starts cold).
    if plain_penalty {
        fit.l2 = 1.0 / y_train.len().max(1) as f64;
    }
    stage("training: holdout fit");
    let holdout_fit = LinearModel::fit_rows_from(
        &first.x,
        first.rows.as_deref(),
        &y_train,
        &fit,
        start.as_ref(),
    )?;
    let holdout_model = holdout_fit.model;
    let probability = holdout_model.probabilities(&x_test).to_vec();
    let judged = Metrics::of(&probability, &y_test);
    let holdout = Holdout {
        split_at: split,
        every_days: every as f64 / MICROS_PER_DAY as f64,
        leads: test.column(LEAD_ID)?.n_unique()?,
        rows: y_test.len(),
        base_rate: judged.base_rate,
        roc_auc: judged.roc_auc,
        pr_auc: judged.pr_auc,
        lift_top_decile: judged.lift_top_decile,
        log_loss: judged.log_loss,
        brier: judged.brier,
    };
    // A million-lead history's holdout matrix is gigabytes.
    drop(x_test);

    stage("training: features of all deals");
    let x_all = match first.rows {
        Some(_) => first.x,
        None => {
            drop(first);
            source.matrix(&spec_all, &observations)?
        }
    };
    let y_all = won_labels(&observations)?;
    let holdout_spec = spec;
    let spec = spec_all;
    if plain_penalty {
        fit.l2 = 1.0 / x_all.nrows().max(1) as f64;
    }
    stage("training: final fit");
    // The matrix is standardised in place and let go with the fit.
    let linear = LinearModel::fit_owned(x_all, &y_all, &fit, Some(&holdout_fit.state))?.model;
    // The drift reference is the lead base as a nightly run would have scored it at
    // the end of the training data: like for like with later runs, which also score
    // the whole base as of one time (training snapshots of closed deals would not be).
    stage("training: drift reference");
    let x_base = source.base_matrix(&spec)?;
    let (x_base, _) = linear.prepare(&x_base);
    let drift = reference(&x_base, &linear.probabilities_prepared(&x_base).to_vec());
    stages.finish_and_clear();
    let holdout_spec = (holdout_spec != spec).then_some(holdout_spec);
    let model = Model {
        leadscore_version: env!("CARGO_PKG_VERSION").to_string(),
        feature_names: spec.names(),
        spec,
        linear,
        points,
        cutoffs: cutoffs.clone(),
        fit,
        l2_search,
        l2_note,
        drift,
        data_fingerprint: source.fingerprint(),
        data_as_of: source.data_as_of(),
        holdout_spec,
        holdout,
    };
    Ok((model, warnings))
}

/// Observations of the earlier 80% of deals (by close time) and of the later 20%, and
/// the close time that splits them: later deals validate earlier ones, and a lead's
/// snapshots all sit on one side.
pub(crate) fn split_by_close(observations: &DataFrame) -> Result<(DataFrame, DataFrame, i64)> {
    let closed = closed_at(observations)?;
    let mut sorted = closed.clone();
    sorted.sort_unstable();
    let split = sorted
        .get(sorted.len() * 4 / 5)
        .copied()
        .unwrap_or(i64::MAX);
    let later: BooleanChunked = closed.iter().map(|&c| c >= split).collect();
    let earlier = !&later;
    Ok((
        observations.filter(&earlier)?,
        observations.filter(&later)?,
        split,
    ))
}

/// The close time below which `share` of the deals closed (µs); 1.0 gives the last
/// close plus one microsecond, so that "before it" holds every deal.
pub(crate) fn close_quantile(outcomes: &DataFrame, share: f64) -> Result<i64> {
    let mut closed: Vec<i64> = outcomes
        .column(CLOSED_AT)?
        .to_physical_repr()
        .i64()?
        .iter()
        .flatten()
        .collect();
    closed.sort_unstable();
    if share >= 1.0 {
        return Ok(closed.last().map_or(i64::MAX, |&c| c.saturating_add(1)));
    }
    Ok(closed
        .get((closed.len() as f64 * share) as usize)
        .copied()
        .unwrap_or(i64::MAX))
}

/// Each observation's `closed_at` (µs), in row order.
fn closed_at(observations: &DataFrame) -> Result<Vec<i64>> {
    let physical = observations.column(CLOSED_AT)?.to_physical_repr();
    Ok(physical
        .i64()?
        .iter()
        .map(|c| c.unwrap_or(i64::MAX))
        .collect())
}

/// Leads of the base the drift reference is taken from, at most.
pub(crate) const DRIFT_REFERENCE_ROWS: usize = 1_000_000;

/// `frame` itself when it has at most `rows` rows; otherwise `rows` of them evenly
/// spread over it (row ⌊k·n/rows⌋ for each k), in order.
pub(crate) fn evenly_spread(frame: DataFrame, rows: usize) -> Result<DataFrame> {
    let n = frame.height();
    if n <= rows {
        return Ok(frame);
    }
    let picked: Vec<IdxSize> = (0..rows).map(|k| (k * n / rows) as IdxSize).collect();
    Ok(frame.take(&IdxCa::from_vec("picked".into(), picked))?)
}

/// Whether each observation's deal was won, in row order.
pub(crate) fn won_labels(observations: &DataFrame) -> Result<Vec<bool>> {
    Ok(observations
        .column(WON_LABEL)?
        .bool()?
        .iter()
        .map(|w| w.unwrap_or(false))
        .collect())
}

/// The matrix the holdout fit learns from: the rows `rows` of `x` (all deals' matrix),
/// or all of `x` (the earlier deals' own) when `None`.
struct TrainingMatrix {
    x: Array2<f32>,
    rows: Option<Vec<usize>>,
}

/// The training rows the L2 search fits: all of them, or whole leads stratified by
/// outcome when there are more than [`SEARCH_ROWS`] (the penalty matters less the more
/// rows there are, and the search's 24 fits would cost more than the rest of `train`).
struct SearchRows {
    x: Array2<f64>,
    won: Vec<bool>,
    closed: Vec<i64>,
    /// Whether the rows are a sample.
    sampled: bool,
}

impl SearchRows {
    /// From the training rows `train` (observations), their matrix, labels and close
    /// times.
    fn of(
        train: &DataFrame,
        matrix: &TrainingMatrix,
        won: &[bool],
        closed: &[i64],
    ) -> Result<Self> {
        let kept: Vec<usize> = if won.len() <= SEARCH_ROWS {
            (0..won.len()).collect()
        } else {
            let ids = train.column(LEAD_ID)?.str()?;
            let leads: Vec<&str> = ids.iter().map(|id| id.unwrap_or("")).collect();
            whole_leads(&leads, won, SEARCH_ROWS)
        };
        let in_matrix: Vec<usize> = match &matrix.rows {
            Some(rows) => kept.iter().map(|&i| rows[i]).collect(),
            None => kept.clone(),
        };
        Ok(SearchRows {
            x: rows_of(&matrix.x, &in_matrix),
            won: kept.iter().map(|&i| won[i]).collect(),
            closed: kept.iter().map(|&i| closed[i]).collect(),
            sampled: kept.len() < won.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_base_is_spread_evenly_and_a_small_one_kept() {
        let frame = df!("n" => (0..10i64).collect::<Vec<_>>()).unwrap();
        let spread = evenly_spread(frame.clone(), 4).unwrap();
        let picked: Vec<i64> = spread
            .column("n")
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(picked, [0, 2, 5, 7]);
        assert_eq!(evenly_spread(frame.clone(), 10).unwrap(), frame);
    }
}
