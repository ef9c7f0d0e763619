//! One `points` run as the library does it: every lead scored as of a time, with, given
//! an earlier time, its points then and whether it crossed into the action tier since
//! (what marketing hands to sales each morning), the breakdown keyed by lead, and the
//! count per tier.

use polars::prelude::*;

use super::{PointModel, PointScores};
use crate::data::columns::LEAD_ID;
use crate::data::thousands;
use crate::data::timestamp::format_timestamp;
use crate::error::Result;
use crate::observations::{observations_at, OBS};

/// The scores of every lead as of a time, ready to write.
pub(crate) struct PointRun {
    /// The evaluation, with its breakdown when asked for.
    pub(crate) scores: PointScores,
    /// `lead_id, points, tier, grade, fit_points, engagement_points`, and with an earlier
    /// time also `previous_points, previous_tier, crossed_action_tier`.
    pub(crate) table: DataFrame,
    /// With an earlier time, how many leads crossed into the action tier since.
    pub(crate) crossed: Option<usize>,
}

impl PointModel {
    /// Every lead of `leads` as of `as_of`, compared with `since` when given.
    pub(crate) fn run(
        &self,
        leads: &DataFrame,
        interactions: &DataFrame,
        as_of: i64,
        since: Option<i64>,
        with_breakdown: bool,
    ) -> Result<PointRun> {
        let observations = observations_at(leads, as_of)?;
        let scores = self.evaluate(leads, interactions, &observations, with_breakdown)?;
        let mut table = scores.scores.clone().lazy().select([
            col(LEAD_ID),
            col("points"),
            col("tier"),
            col("grade"),
            col("fit_points"),
            col("engagement_points"),
        ]);
        if let Some(since) = since {
            let earlier = observations_at(leads, since)?;
            let before = self.evaluate(leads, interactions, &earlier, false)?;
            let threshold = self
                .tiers
                .get(self.action_tier)
                .map_or(f64::INFINITY, |t| t.from);
            let previous = before.scores.lazy().select([
                col("points").alias("previous_points"),
                col("tier").alias("previous_tier"),
            ]);
            table = concat_lf_horizontal([table, previous], HConcatOptions::default())?
                .with_column(
                    col("previous_points")
                        .lt(lit(threshold))
                        .and(col("points").gt_eq(lit(threshold)))
                        .alias("crossed_action_tier"),
                );
        }
        let table = table.collect()?;
        let crossed = match since {
            Some(_) => Some(
                table
                    .column("crossed_action_tier")?
                    .bool()?
                    .sum()
                    .unwrap_or(0) as usize,
            ),
            None => None,
        };
        Ok(PointRun {
            scores,
            table,
            crossed,
        })
    }
}

impl PointRun {
    /// The breakdown keyed by lead_id instead of observation number (empty without one).
    pub(crate) fn breakdown_by_lead(&self) -> Result<DataFrame> {
        let Some(breakdown) = &self.scores.breakdown else {
            return Ok(DataFrame::empty());
        };
        Ok(breakdown
            .clone()
            .lazy()
            .join(
                self.scores
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

    /// "points as of … (rules): hot 12, warm 40, …", highest tier first.
    pub(crate) fn tier_summary(&self, model: &PointModel, as_of: i64) -> Result<String> {
        let tiers = self.table.column("tier")?.str()?;
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
}
