//! Scoring leads with a trained model: the rule points and the probability, side by
//! side, built through the same feature code as training, with reasons.

use ndarray::Array2;
use polars::prelude::*;

use super::reasons::reasons;
use super::train::CLIP_MARGIN_SD;
use super::Model;
use crate::data::columns::LEAD_ID;
use crate::error::{Error, Result};
use crate::observations::{observations_at, AS_OF};

/// Every lead, in leads order, as of `as_of` (µs since the epoch); see [`Scored`].
pub fn score_leads(
    model: &Model,
    leads: &DataFrame,
    interactions: &DataFrame,
    as_of: i64,
) -> Result<Scored> {
    let observations = observations_at(leads, as_of)?;
    score_observations(model, leads, interactions, &observations, false)
}

/// What scoring produced: the table, and what callers judging it need.
#[derive(Debug)]
pub struct Scored {
    /// `lead_id, points, tier, grade, probability, score, reasons`, in observation order.
    pub table: DataFrame,
    /// The rule breakdown, when asked for.
    pub breakdown: Option<DataFrame>,
    /// The feature matrix the probabilities came from, imputed and clipped to the
    /// training range (for drift checks).
    pub features: Array2<f64>,
    /// Per feature (in the model's order), the rows whose value lay outside the range
    /// training saw (bounded near it): what the run's warnings report.
    pub outside_range: Vec<usize>,
}

/// A warning when some leads were created after `as_of`: they did not exist then, and
/// are scored as leads less than a day old (a score as of a past date usually wants the
/// leads table of that date).
pub(crate) fn created_later_warning(leads: &DataFrame, as_of: i64) -> Result<Option<String>> {
    let created = leads
        .column(crate::data::columns::CREATED_AT)?
        .to_physical_repr();
    let later = created
        .i64()?
        .iter()
        .flatten()
        .filter(|&c| c > as_of)
        .count();
    Ok((later > 0).then(|| {
        format!(
            "{later} lead(s) were created after the as-of time ({}): they are scored as leads less than a day old; filter the leads table to the leads that existed then",
            crate::data::timestamp::format_timestamp(as_of)
        )
    }))
}

/// One warning per feature with values outside the training range, from counts in the
/// model's feature order.
pub(crate) fn outside_range_warnings(names: &[String], counts: &[usize]) -> Vec<String> {
    names
        .iter()
        .zip(counts)
        .filter(|(_, &rows)| rows > 0)
        .map(|(name, rows)| {
            format!(
                "{rows} row(s) had {name} outside the range training saw; the model extrapolates at most {CLIP_MARGIN_SD} training standard deviations beyond it"
            )
        })
        .collect()
}

/// The same for observations (`lead_id`, `as_of`) each with its own time, in their
/// order; with `with_breakdown`, also the rule breakdown of every observation.
pub fn score_observations(
    model: &Model,
    leads: &DataFrame,
    interactions: &DataFrame,
    observations: &DataFrame,
    with_breakdown: bool,
) -> Result<Scored> {
    let observations = observations.select([LEAD_ID, AS_OF])?;
    let rule_scores = model
        .points
        .evaluate(leads, interactions, &observations, with_breakdown)?;
    let points = rule_scores.scores;
    if model.spec.names() != model.feature_names {
        return Err(Error::Artifact {
            reason: "the model's feature list does not match its feature spec".into(),
        });
    }
    let raw = model
        .spec
        .matrix(leads, interactions, &observations, Some(&model.points))?;
    let (x, outside_range) = model.linear.prepare(&raw);
    let probability = model.linear.probabilities_prepared(&x).to_vec();
    // The artifact's consistency check makes this impossible; a published NaN would be
    // worse than a refused run, so it is checked where the numbers are made.
    if let Some(bad) = probability.iter().find(|p| !p.is_finite()) {
        return Err(Error::Artifact {
            reason: format!("the model gave a probability of {bad}: the artifact is damaged"),
        });
    }
    let score: Vec<u32> = probability.iter().map(|&p| score_of(p)).collect();
    let why = reasons(&model.linear, &model.spec.features(), &raw, &x);
    let scored = points
        .lazy()
        .select([col(LEAD_ID), col("points"), col("tier"), col("grade")])
        .with_columns([
            lit(Series::new("probability".into(), probability)),
            lit(Series::new("score".into(), score)),
            lit(Series::new("reasons".into(), why)),
        ])
        .collect()?;
    Ok(Scored {
        table: scored,
        breakdown: rule_scores.breakdown,
        features: x,
        outside_range,
    })
}

/// The contract's 1–99 score of a probability: a number sales reads at a glance, never
/// 0 or 100, which would claim certainty.
pub(crate) fn score_of(probability: f64) -> u32 {
    (probability * 100.0).round().clamp(1.0, 99.0) as u32
}
