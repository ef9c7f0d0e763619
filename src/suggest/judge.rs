//! Suggested rules measured on history: the leads open at evaluation dates scored as of
//! each date by rule points and by the model, the sales-ready threshold that meets a
//! precision or volume target, and the rule engine's check of the suggested text.

use crate::data::{floats, Tables};
use crate::error::{Error, Result};
use crate::features::cutoffs::{
    evaluation_dates, history_span, open_at_dates, typical_open_time, WON_LABEL,
};
use crate::model::score::score_observations;
use crate::model::Model;
use crate::points::config::parse;
use crate::points::PointModel;

/// Scores of the leads open at evaluation dates, as of each date, with how they closed.
pub struct Judged {
    /// Rule points of each (date, open lead) pair.
    pub points: Vec<f64>,
    /// The model's probability of each.
    pub probability: Vec<f64>,
    /// Whether its deal was later won.
    pub won: Vec<bool>,
}

/// The leads open at evaluation dates over the whole history, each scored as of its
/// date by `rules` and by the model, with how it later closed.
pub fn judge(model: &Model, tables: &Tables, rules: &PointModel) -> Result<Judged> {
    let every = typical_open_time(&tables.leads, &tables.outcomes)?;
    let dates = match history_span(&tables.leads, &tables.outcomes)? {
        Some((first, last)) => evaluation_dates(first, last, every),
        None => Vec::new(),
    };
    let observations = open_at_dates(&tables.leads, &tables.outcomes, &dates)?;
    let scored = score_observations(
        model,
        &tables.leads,
        &tables.interactions,
        &observations,
        false,
    )?;
    let observed =
        observations.select([crate::data::columns::LEAD_ID, crate::observations::AS_OF])?;
    let points = rules
        .evaluate(&tables.leads, &tables.interactions, &observed, false)?
        .scores;
    Ok(Judged {
        points: floats(&points, "points")?,
        probability: floats(&scored.table, "probability")?,
        won: observations
            .column(WON_LABEL)?
            .bool()?
            .iter()
            .map(|w| w.unwrap_or(false))
            .collect(),
    })
}

/// The threshold meeting a precision or volume target, from the judged points.
pub fn threshold(judged: &Judged, precision: Option<f64>, volume: Option<f64>) -> Option<f64> {
    let mut order: Vec<usize> = (0..judged.points.len()).collect();
    order.sort_by(|&a, &b| judged.points[b].total_cmp(&judged.points[a]));
    if let Some(share) = volume {
        let k = ((order.len() as f64 * share).ceil() as usize).clamp(1, order.len());
        return Some(judged.points[order[k - 1]]);
    }
    let target = precision?;
    // The lowest score whose leads at or above it still win at the target rate.
    let (mut won, mut best) = (0usize, None);
    for (seen, &i) in order.iter().enumerate() {
        won += usize::from(judged.won[i]);
        let next_differs = order
            .get(seen + 1)
            .is_none_or(|&n| judged.points[n] != judged.points[i]);
        if next_differs && won as f64 / (seen + 1) as f64 >= target {
            best = Some(judged.points[i]);
        }
    }
    best
}

/// The rule engine's verdict on the generated text: it must read what it suggests.
pub fn checked(text: &str) -> Result<PointModel> {
    parse(text, "suggested rules").map_err(|e| {
        Error::setting(
            "suggest-points",
            format!("the suggested rules do not pass the rule engine's checks: {e}"),
        )
    })
}
