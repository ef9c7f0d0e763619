//! Evaluating a point model as polars expressions, for many leads at once and for any
//! cutoff: each *observation* is a (lead, as_of) pair and sees only interactions with
//! `occurred_at < as_of`. Scoring uses one as_of for every lead; training and backtests
//! use a cutoff per lead through the same code.
//!
//! The plan: attribute rules are one expression each on the leads table; behaviour rules
//! are matched once on the raw interactions (a boolean column per rule), joined to the
//! observations once, then each rule windows, decays, caps and sums its own rows.

use std::f64::consts::LN_2;

use polars::prelude::*;

use super::rules::*;
use crate::data::columns::*;
use crate::error::{Error, Result};
use crate::observations::{micros_type, visible_interactions, AGE_DAYS, AS_OF, OBS};

/// Point scores of a set of observations.
#[derive(Debug, Clone)]
pub struct PointScores {
    /// One row per observation, in observation order: `obs`, `lead_id`, `as_of`,
    /// `points`, `tier`, `grade`, `fit_points`, `engagement_points`.
    pub scores: DataFrame,
    /// When asked for: one row per rule that gave points to an observation: `obs`,
    /// `order` (rule position), `kind` (fit / engagement / inactivity), `rule`, `count`,
    /// `points` (after caps and decay).
    pub breakdown: Option<DataFrame>,
}

/// Why `rule` cannot be evaluated on a leads table of this schema, if it cannot: its
/// column is missing, or a numeric condition meets a text column.
pub(crate) fn rule_column_problem(rule: &AttributeRule, schema: &Schema) -> Option<String> {
    let Some(dtype) = schema.get(&rule.column) else {
        let known: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
        return Some(format!(
            "the leads table has no column `{}` (it has: {})",
            rule.column,
            known.join(", ")
        ));
    };
    let numeric = matches!(
        rule.condition,
        Condition::Range { .. } | Condition::EqualsNumber(_)
    );
    (numeric && !dtype.is_primitive_numeric() && !dtype.is_temporal())
        .then(|| format!("a numeric condition on `{}`, which holds text", rule.column))
}

impl PointModel {
    /// Fails with the rule's line when it reads a column the leads table lacks, or a
    /// numeric condition on a text column.
    pub(crate) fn check_columns(&self, leads: &DataFrame) -> Result<()> {
        self.check_schema(leads.schema())
    }

    /// [`check_columns`](Self::check_columns) on a table's schema.
    pub(crate) fn check_schema(&self, schema: &Schema) -> Result<()> {
        for rule in &self.attributes {
            if let Some(reason) = rule_column_problem(rule, schema) {
                return Err(Error::Config {
                    path: self.source.clone(),
                    line: rule.line,
                    reason: format!("rule `{}`: {reason}", rule.name),
                });
            }
        }
        Ok(())
    }

    /// Scores every observation. Interactions at or after an observation's `as_of` are
    /// invisible to it; leads missing from `leads` score as if every attribute were missing.
    pub(crate) fn evaluate(
        &self,
        leads: &DataFrame,
        interactions: &DataFrame,
        observations: &DataFrame,
        with_breakdown: bool,
    ) -> Result<PointScores> {
        self.check_columns(leads)?;
        let observations = observations
            .clone()
            .lazy()
            .with_row_index(OBS, None)
            .with_column(col(AS_OF).cast(micros_type()));

        // Who they are: one expression per attribute rule.
        let fit_columns: Vec<String> = (0..self.attributes.len())
            .map(|i| format!("fit_{i}"))
            .collect();
        let mut fit_exprs = vec![col(OBS), col(LEAD_ID), col(AS_OF), col(CREATED_AT)];
        fit_exprs.extend(
            self.attributes
                .iter()
                .zip(&fit_columns)
                .map(|(rule, name)| attribute_points(rule).alias(name.as_str())),
        );
        let fitted = observations
            .clone()
            .join_on_lead(leads.clone().lazy(), JoinType::Left)
            .select(fit_exprs)
            .collect()?;

        // What they did: match every rule once, join to the observations once.
        let mut event_exprs = vec![col(LEAD_ID), col(OCCURRED_AT)];
        event_exprs.extend(
            self.behaviours
                .iter()
                .enumerate()
                .map(|(i, rule)| behaviour_match(rule).alias(format!("match_{i}"))),
        );
        let events = interactions.clone().lazy().select(event_exprs);
        let events = visible_interactions(
            events,
            observations
                .clone()
                .select([col(OBS), col(LEAD_ID), col(AS_OF)]),
        )
        .drop(cols([LEAD_ID, AS_OF]))
        .collect()?;

        let per_rule: Vec<LazyFrame> = self
            .behaviours
            .iter()
            .enumerate()
            .map(|(i, rule)| behaviour_points(&events, rule, i))
            .collect::<Result<_>>()?;
        let behaviour_long = if per_rule.is_empty() {
            DataFrame::new(
                0,
                vec![
                    Column::new_empty(OBS.into(), &IDX_DTYPE),
                    Column::new_empty("rule_index".into(), &DataType::UInt32),
                    Column::new_empty("count".into(), &IDX_DTYPE),
                    Column::new_empty("points".into(), &DataType::Float64),
                ],
            )?
        } else {
            concat(per_rule, UnionArgs::default())?.collect()?
        };
        let behaviour_total =
            behaviour_long
                .clone()
                .lazy()
                .group_by([col(OBS)])
                .agg([col("points").sum().alias("behaviour_points")]);
        let last_activity = events
            .clone()
            .lazy()
            .group_by([col(OBS)])
            .agg([col(OCCURRED_AT).max().alias("last_activity")]);

        let inactivity = match &self.inactivity {
            Some(rule) => {
                let quiet_days = (col(AS_OF) - col("last_activity").fill_null(col(CREATED_AT)))
                    .dt()
                    .total_days(true);
                when(quiet_days.gt_eq(lit(rule.after_days)))
                    .then(lit(rule.points))
                    .otherwise(lit(0.0))
                    .fill_null(lit(0.0))
            }
            None => lit(0.0),
        };
        // Lead age at each observation's time, for the age rules.
        let age_days = (col(AS_OF) - col(CREATED_AT)).dt().total_days(true);
        let age_columns: Vec<Expr> = self
            .ages
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let mut inside = age_days.clone().gt_eq(lit(rule.from_days));
                if let Some(below) = rule.below_days {
                    inside = inside.and(age_days.clone().lt(lit(below)));
                }
                when(inside.fill_null(lit(false)))
                    .then(lit(rule.points))
                    .otherwise(lit(0.0))
                    .alias(format!("age_{i}"))
            })
            .collect();
        let age_sum = (0..self.ages.len()).fold(lit(0.0), |sum, i| sum + col(format!("age_{i}")));
        let fit_sum = fit_columns
            .iter()
            .fold(lit(0.0), |sum, name| sum + col(name.as_str()));
        let scored = fitted
            .clone()
            .lazy()
            .join(
                behaviour_total,
                [col(OBS)],
                [col(OBS)],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                last_activity,
                [col(OBS)],
                [col(OBS)],
                JoinArgs::new(JoinType::Left),
            )
            .with_columns([
                fit_sum.alias("fit_points"),
                inactivity.alias("inactivity_points"),
            ])
            .with_columns(age_columns.clone())
            .with_column(age_sum.alias("age_points"))
            .with_column(
                (col("behaviour_points").fill_null(lit(0.0))
                    + col("inactivity_points")
                    + col("age_points"))
                .alias("engagement_points"),
            )
            .with_column(
                (lit(self.base_points) + col("fit_points") + col("engagement_points"))
                    .round(1, RoundMode::HalfAwayFromZero)
                    .alias("points"),
            )
            .with_columns([
                band(col("points"), &self.tiers).alias("tier"),
                band(col("fit_points"), &self.grades).alias("grade"),
            ])
            .sort([OBS], SortMultipleOptions::default());

        // Totals are computed from unrounded parts; the parts are shown to 0.01.
        let shown = |name: &str| col(name).round(2, RoundMode::HalfAwayFromZero);
        let scores = scored
            .clone()
            .select([
                col(OBS),
                col(LEAD_ID),
                col(AS_OF),
                col("points"),
                col("tier"),
                col("grade"),
                shown("fit_points"),
                shown("engagement_points"),
            ])
            .collect()?;

        let breakdown = if with_breakdown {
            Some(self.breakdown(&fitted, &fit_columns, &behaviour_long, scored)?)
        } else {
            None
        };
        Ok(PointScores { scores, breakdown })
    }

    /// The long table of which rule gave which observation how many points.
    fn breakdown(
        &self,
        fitted: &DataFrame,
        fit_columns: &[String],
        behaviour_long: &DataFrame,
        scored: LazyFrame,
    ) -> Result<DataFrame> {
        let row =
            |frame: LazyFrame, order: usize, kind: &str, rule: &str, count: Expr, points: Expr| {
                frame.select([
                    col(OBS),
                    lit(order as u32).alias("order"),
                    lit(kind).alias("kind"),
                    lit(rule).alias("rule"),
                    count.cast(DataType::UInt32).alias("count"),
                    points.alias("points"),
                ])
            };
        let mut parts = Vec::new();
        for (i, (rule, column)) in self.attributes.iter().zip(fit_columns).enumerate() {
            let fired = fitted
                .clone()
                .lazy()
                .filter(col(column.as_str()).neq(lit(0.0)));
            parts.push(row(
                fired,
                i,
                "fit",
                &rule.name,
                lit(1u32),
                col(column.as_str()),
            ));
        }
        for (i, rule) in self.behaviours.iter().enumerate() {
            let mine = behaviour_long
                .clone()
                .lazy()
                .filter(col("rule_index").eq(lit(i as u32)));
            let order = self.attributes.len() + i;
            parts.push(row(
                mine,
                order,
                "engagement",
                &rule.name,
                col("count"),
                col("points"),
            ));
        }
        if self.inactivity.is_some() {
            let quiet = scored
                .clone()
                .filter(col("inactivity_points").neq(lit(0.0)));
            let order = self.attributes.len() + self.behaviours.len();
            parts.push(row(
                quiet,
                order,
                "inactivity",
                "No recent activity",
                lit(1u32),
                col("inactivity_points"),
            ));
        }
        for (i, rule) in self.ages.iter().enumerate() {
            let column = format!("age_{i}");
            let aged = scored.clone().filter(col(column.as_str()).neq(lit(0.0)));
            let order = self.attributes.len() + self.behaviours.len() + 1 + i;
            parts.push(row(
                aged,
                order,
                "age",
                &rule.name,
                lit(1u32),
                col(column.as_str()),
            ));
        }
        if parts.is_empty() {
            return Ok(DataFrame::empty());
        }
        Ok(concat(parts, UnionArgs::default())?
            .sort([OBS, "order"], SortMultipleOptions::default())
            .collect()?)
    }
}

/// Points a rule gives each lead: its points where the condition holds, else 0.
fn attribute_points(rule: &AttributeRule) -> Expr {
    let value = col(rule.column.as_str());
    let text = value.clone().cast(DataType::String).str().to_lowercase();
    let number = value.clone().cast(DataType::Float64);
    let holds = match &rule.condition {
        Condition::Equals(expected) => text.eq(lit(expected.to_lowercase())),
        Condition::EqualsNumber(expected) => number.eq(lit(*expected)),
        Condition::OneOf(options) => options
            .iter()
            .map(|o| text.clone().eq(lit(o.to_lowercase())))
            .reduce(|a, b| a.or(b))
            .unwrap_or(lit(false)),
        Condition::Range { at_least, below } => {
            let mut test = number.clone().is_not_null();
            if let Some(lo) = at_least {
                test = test.and(number.clone().gt_eq(lit(*lo)));
            }
            if let Some(hi) = below {
                test = test.and(number.lt(lit(*hi)));
            }
            test
        }
        Condition::Contains(needle) => text.str().contains_literal(lit(needle.to_lowercase())),
        Condition::Matches(pattern) => value
            .clone()
            .cast(DataType::String)
            .str()
            .contains(lit(pattern.clone()), true),
        Condition::Missing => value.clone().is_null(),
    }
    .fill_null(lit(false));
    let fires = if rule.negate {
        holds.not().and(value.is_not_null())
    } else {
        holds
    };
    when(fires).then(lit(rule.points)).otherwise(lit(0.0))
}

/// True for interactions a behaviour rule counts (before any window or cutoff).
fn behaviour_match(rule: &BehaviourRule) -> Expr {
    let event = col(EVENT_TYPE).eq(lit(rule.event_type.clone()));
    let detail = col(DETAIL);
    let matches = match &rule.detail {
        None => event,
        Some(DetailMatch::Exact(text)) => event.and(detail.eq(lit(text.clone()))),
        Some(DetailMatch::Prefix(text)) => event.and(detail.str().starts_with(lit(text.clone()))),
        Some(DetailMatch::Glob { regex, .. }) => {
            event.and(detail.str().contains(lit(regex.clone()), true))
        }
    };
    matches.fill_null(lit(false))
}

/// One behaviour rule's points per observation: window, decay, count cap, points cap.
fn behaviour_points(events: &DataFrame, rule: &BehaviourRule, index: usize) -> Result<LazyFrame> {
    let mut counted = col(format!("match_{index}").as_str());
    if let Some(days) = rule.horizon_days() {
        counted = counted.and(col(AGE_DAYS).lt(lit(days)));
    }
    // Occurrences counted: all, or the `max_count` most recent. Without decay every
    // occurrence is worth the same, so only the count matters; with decay the most
    // recent are worth the most, so the youngest are summed. Both stay group
    // aggregations (no window function over the observations).
    let count = match rule.max_count {
        Some(most) => when(len().gt(lit(most))).then(lit(most)).otherwise(len()),
        None => len(),
    }
    .cast(DataType::UInt32);
    let total = match rule.decay {
        Decay::HalfLife(days) => {
            let worth = lit(rule.points) * (lit(-LN_2 / days) * col(AGE_DAYS)).exp();
            match rule.max_count {
                Some(most) => worth
                    .sort_by([col(AGE_DAYS)], SortMultipleOptions::default())
                    .head(Some(most as usize))
                    .sum(),
                None => worth.sum(),
            }
        }
        Decay::None | Decay::Expire(_) => count.clone().cast(DataType::Float64) * lit(rule.points),
    };
    let rows = events.clone().lazy().filter(counted);
    let mut points = col("points");
    if let Some(cap) = rule.max_points {
        points = points.clip(lit(-cap), lit(cap));
    }
    Ok(rows
        .group_by([col(OBS)])
        .agg([count.alias("count"), total.alias("points")])
        .with_columns([
            points.alias("points"),
            lit(index as u32).alias("rule_index"),
        ])
        .select([col(OBS), col("rule_index"), col("count"), col("points")]))
}

/// The band name for a value: the highest band whose threshold it reaches, else the lowest.
fn band(value: Expr, bands: &[Band]) -> Expr {
    let Some(lowest) = bands.first() else {
        return lit(NULL).cast(DataType::String);
    };
    bands[1..]
        .iter()
        .fold(lit(lowest.name.clone()), |below, b| {
            when(value.clone().gt_eq(lit(b.from)))
                .then(lit(b.name.clone()))
                .otherwise(below)
        })
}
