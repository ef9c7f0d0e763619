//! Judging scores the way they are used, shared by `compare` and `suggest-points`: the
//! leads open at evaluation dates, each scored as of its date, against how its deal
//! later closed. Both commands judge through this one path so that a suggested rule set
//! and the model's own rules are never measured on different leads or dates.

use polars::prelude::*;

use super::score::{score_observations, Scored};
use super::Model;
use crate::data::columns::LEAD_ID;
use crate::data::{floats, Tables};
use crate::error::Result;
use crate::features::cutoffs::{evaluation_dates, history_span, open_at_dates, WON_LABEL};
use crate::observations::AS_OF;
use crate::points::PointModel;

/// The (date, lead) pairs where a lead was open at an evaluation date and its deal has
/// since closed, by date then lead.
pub(crate) struct OpenLeads {
    /// `lead_id, as_of, won, closed_at`, one row per pair.
    pub(crate) observations: DataFrame,
    /// Each pair's date (µs since the epoch).
    pub(crate) as_of: Vec<i64>,
    /// Whether each pair's deal was later won.
    pub(crate) won: Vec<bool>,
}

impl OpenLeads {
    /// Evaluation dates `every` µs apart over the whole history (from the first lead's
    /// creation to the last close), placed so that one falls on `aligned_on` when given:
    /// compare aligns them on the end of training so that no date straddles it.
    pub(crate) fn dates(tables: &Tables, every: i64, aligned_on: Option<i64>) -> Result<Vec<i64>> {
        let Some((first, last)) = history_span(&tables.leads, &tables.outcomes)? else {
            return Ok(Vec::new());
        };
        let start = match aligned_on {
            Some(split) => split - (split.saturating_sub(first)).max(0) / every.max(1) * every,
            None => first,
        };
        Ok(evaluation_dates(start, last, every))
    }

    /// The leads open at each of `dates` whose deal has since closed.
    pub(crate) fn at(tables: &Tables, dates: &[i64]) -> Result<Self> {
        let observations = open_at_dates(&tables.leads, &tables.outcomes, dates)?;
        let as_of = observations
            .column(AS_OF)?
            .to_physical_repr()
            .i64()?
            .iter()
            .map(|c| c.unwrap_or(i64::MIN))
            .collect();
        let won = observations
            .column(WON_LABEL)?
            .bool()?
            .iter()
            .map(|w| w.unwrap_or(false))
            .collect();
        Ok(OpenLeads {
            observations,
            as_of,
            won,
        })
    }

    /// Whether no lead was open at any date.
    pub(crate) fn is_empty(&self) -> bool {
        self.won.is_empty()
    }

    /// Every pair scored as of its date by the model (its rule points and probability,
    /// with the rule breakdown when asked for).
    pub(crate) fn scored(
        &self,
        model: &Model,
        tables: &Tables,
        with_breakdown: bool,
    ) -> Result<Scored> {
        score_observations(
            model,
            &tables.leads,
            &tables.interactions,
            &self.observations,
            with_breakdown,
        )
    }

    /// Every pair's points under `rules` as of its date: how a rule set other than the
    /// model's own (a suggestion, the rules in use) would have ranked the same leads.
    pub(crate) fn points(&self, rules: &PointModel, tables: &Tables) -> Result<Vec<f64>> {
        let observed = self.observations.select([LEAD_ID, AS_OF])?;
        let scores = rules
            .evaluate(&tables.leads, &tables.interactions, &observed, false)?
            .scores;
        floats(&scores, "points")
    }
}
