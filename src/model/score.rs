//! Scoring leads with a trained model: the rule points and the probability, side by
//! side, built through the same feature code as training, with reasons.

use ndarray::Array2;
use polars::prelude::*;

use super::matrix::to_matrix;
use super::reasons::reasons;
use super::Model;
use crate::data::columns::LEAD_ID;
use crate::error::{Error, Result};
use crate::points::{observations_at, AS_OF};

/// One row per lead, in leads order: `lead_id, points, tier, grade, probability, score,
/// reasons`, as of `as_of` (µs since the epoch).
pub fn score_leads(
    model: &Model,
    leads: &DataFrame,
    interactions: &DataFrame,
    as_of: i64,
) -> Result<DataFrame> {
    let observations = observations_at(leads, as_of)?;
    Ok(score_observations(model, leads, interactions, &observations, false)?.table)
}

/// What scoring produced: the table, and what callers judging it need.
#[derive(Debug)]
pub struct Scored {
    /// `lead_id, points, tier, grade, probability, score, reasons`, in observation order.
    pub table: DataFrame,
    /// The rule breakdown, when asked for.
    pub breakdown: Option<DataFrame>,
    /// The feature matrix the probabilities came from (for drift checks).
    pub features: Array2<f64>,
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
    let features = model
        .spec
        .build(leads, interactions, &observations, Some(&model.points))?
        .drop_many([LEAD_ID, AS_OF]);
    let built: Vec<String> = features
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    if built != model.feature_names {
        return Err(Error::Artifact {
            reason: "the model's feature list does not match its feature spec".into(),
        });
    }
    let x = to_matrix(&features)?;
    let probability = model.linear.probabilities(&x).to_vec();
    let score: Vec<u32> = probability.iter().map(|&p| score_of(p)).collect();
    let why = reasons(&model.linear, &model.feature_names, &x);
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
    })
}

/// The contract's 1–99 score of a probability: a number sales reads at a glance, never
/// 0 or 100, which would claim certainty.
pub fn score_of(probability: f64) -> u32 {
    (probability * 100.0).round().clamp(1.0, 99.0) as u32
}
