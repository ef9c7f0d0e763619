//! The rule model as features: when an analyst trains with `--points`, the classic
//! score's fit points, engagement points and fit grade join the learned features, so the
//! predictive model starts from what marketing and sales agreed and learns what it adds.
//! The rule model evaluated is the one carried in the artifact, as of each observation's
//! cutoff, through the same evaluator the `points` column uses.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::points::PointModel;

/// Which rule-model features exist: the grade names are frozen at training time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RuleFeatures {
    /// Grade names of the rule model, each a 0/1 feature.
    pub(crate) grades: Vec<String>,
}

impl RuleFeatures {
    /// The features a rule model gives.
    pub(crate) fn of(rules: &PointModel) -> Self {
        RuleFeatures {
            grades: rules.grades.iter().map(|g| g.name.clone()).collect(),
        }
    }

    /// One row per observation (in order), the columns of [`names`](Self::names).
    pub(crate) fn build(
        &self,
        rules: &PointModel,
        leads: &DataFrame,
        interactions: &DataFrame,
        observations: &DataFrame,
    ) -> Result<DataFrame> {
        if RuleFeatures::of(rules) != *self {
            return Err(Error::Artifact {
                reason: "the rule model's grades differ from those the features were learned with"
                    .into(),
            });
        }
        let scores = rules
            .evaluate(leads, interactions, observations, false)?
            .scores;
        let mut columns = vec![
            col("fit_points")
                .cast(DataType::Float64)
                .alias("rule_fit_points"),
            col("engagement_points")
                .cast(DataType::Float64)
                .alias("rule_engagement_points"),
        ];
        columns.extend(self.grades.iter().map(|g| {
            col("grade")
                .eq(lit(g.clone()))
                .cast(DataType::Float64)
                .alias(format!("rule_grade={g}"))
        }));
        Ok(scores
            .lazy()
            .select(columns)
            .fill_null(lit(0.0))
            .collect()?)
    }
}
