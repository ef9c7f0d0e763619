//! The feature matrix written in place: activity from the one-pass engine straight into
//! its columns, attributes computed once per lead and gathered into each observation's
//! row. No frame of observations × features is materialised on the way, so building
//! features costs one matrix of memory, not three (the frame, its copy into a matrix,
//! and the joins before them).
//!
//! The numbers are those of the polars expressions in [`FeatureSpec::build_by_join`]
//! (kept as the test oracle), bit for bit: the same formulas, evaluated in the same
//! floating-point order.

use ndarray::{s, Array2, ArrayViewMut1, Axis, ShapeBuilder};
use polars::prelude::*;
use rayon::prelude::*;

use super::activity::{activity_into, ActivityPlan};
use super::events::EventIndex;
use super::spec::{FeatureSpec, WINDOWS};
use crate::data::columns::*;
use crate::data::timestamp::MICROS_PER_DAY;
use crate::error::{Error, Result};
use crate::points::{PointModel, AS_OF};

/// `ln(1 + x)` as the spec's expressions compute it (`(x + 1).log(e)`), so that the
/// matrix agrees with them to the last bit.
pub fn log1p(x: f64) -> f64 {
    (x + 1.0).log(std::f64::consts::E)
}

/// Lead age is bounded at ten years, recency at one.
const MAX_LEAD_AGE_DAYS: f64 = 3650.0;
const MAX_RECENCY_DAYS: f64 = 365.0;

impl FeatureSpec {
    /// Every feature of every observation (`lead_id`, `as_of`), in [`names`] order, as
    /// an n × p column-major matrix without missing values except the NaN of a
    /// missing number (which the model imputes). Interactions at or after an
    /// observation's `as_of` are invisible to it; an attribute column the spec knows but
    /// `leads` lacks counts as missing for every lead. `rules` is the rule model the
    /// spec was learned with, when it has rule features.
    ///
    /// [`names`]: FeatureSpec::names
    pub fn matrix(
        &self,
        leads: &DataFrame,
        interactions: &DataFrame,
        observations: &DataFrame,
        rules: Option<&PointModel>,
    ) -> Result<Array2<f64>> {
        let index = EventIndex::new(leads, interactions)?;
        self.matrix_indexed(&index, leads, interactions, observations, rules)
    }

    /// The same from interactions already indexed (by [`EventIndex::new`] over these
    /// `leads` and `interactions`): a command building several matrices indexes once.
    pub fn matrix_indexed(
        &self,
        index: &EventIndex,
        leads: &DataFrame,
        interactions: &DataFrame,
        observations: &DataFrame,
        rules: Option<&PointModel>,
    ) -> Result<Array2<f64>> {
        let rule_columns =
            match (&self.rules, rules) {
                (None, _) => None,
                (Some(features), Some(rules)) => {
                    Some(features.build(rules, leads, interactions, observations)?)
                }
                (Some(_), None) => return Err(Error::Artifact {
                    reason:
                        "the features include the rule model's scores, but no rule model was given"
                            .into(),
                }),
            };
        let n = observations.height();
        let p = self.names().len();
        let mut x = Array2::<f64>::zeros((n, p).f());

        // Activity counts, then their log.
        let plan = ActivityPlan {
            event_types: &self.event_types,
            details: &self.details,
            windows: &WINDOWS,
        };
        let counted = plan.width();
        let lead_of = lead_rows(leads, observations)?;
        let as_of = observations.column(AS_OF)?.to_physical_repr();
        let as_of: Vec<Option<i64>> = as_of.i64()?.iter().collect();
        let mut since = vec![f64::NAN; n];
        let mut active = vec![0.0; n];
        activity_into(
            &plan,
            index,
            &lead_of,
            &as_of,
            x.slice_mut(s![.., ..counted]),
            &mut since,
            &mut active,
        )?;
        let count_columns: Vec<ArrayViewMut1<f64>> =
            x.axis_iter_mut(Axis(1)).take(counted).collect();
        count_columns
            .into_par_iter()
            .for_each(|mut column| column.mapv_inplace(log1p));

        // Recency, activity days and age: per observation, from its lead's creation.
        let leads = with_missing_attributes(self, leads)?;
        let created = leads.column(CREATED_AT)?.to_physical_repr();
        let created: Vec<Option<i64>> = created.i64()?.iter().collect();
        let per_day = 1.0 / MICROS_PER_DAY as f64;
        for (r, &as_of) in as_of.iter().enumerate() {
            let created = lead_of[r].and_then(|l| created.get(l).copied().flatten());
            let lead_age = match (as_of, created) {
                (Some(as_of), Some(created)) => {
                    Some(((as_of - created) as f64 * per_day).clamp(0.0, MAX_LEAD_AGE_DAYS))
                }
                _ => None,
            };
            // A lead that never did anything has been silent since it was created.
            let silent = if since[r].is_nan() {
                lead_age
            } else {
                Some(since[r])
            };
            let mut row = x.row_mut(r);
            row[counted] = silent.map_or(0.0, |d| log1p(d.clamp(0.0, MAX_RECENCY_DAYS)));
            row[counted + 1] = if since[r].is_nan() { 1.0 } else { 0.0 };
            row[counted + 2] = log1p(active[r]);
            row[counted + 3] = lead_age.map_or(0.0, log1p);
        }

        // Attributes: evaluated once per lead, gathered into the rows.
        let attributes = self.attributes_per_lead(&leads)?;
        let first_attribute = counted + 4;
        let null_lead = leads.height();
        let attribute_columns: Vec<(ArrayViewMut1<f64>, &Column)> = x
            .axis_iter_mut(Axis(1))
            .skip(first_attribute)
            .zip(attributes.columns())
            .collect();
        attribute_columns
            .into_par_iter()
            .try_for_each(|(mut out, values)| -> Result<()> {
                // No nulls: every expression was filled with 0.
                let values: Vec<f64> = values.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect();
                for (v, lead) in out.iter_mut().zip(&lead_of) {
                    *v = values[lead.unwrap_or(null_lead)];
                }
                Ok(())
            })?;

        if let Some(rule_columns) = rule_columns {
            let first_rule = first_attribute + attributes.width();
            for (j, column) in rule_columns.columns().iter().enumerate() {
                let values = column.cast(&DataType::Float64)?;
                for (v, value) in x
                    .column_mut(first_rule + j)
                    .iter_mut()
                    .zip(values.f64()?.iter())
                {
                    *v = value.unwrap_or(0.0);
                }
            }
        }
        Ok(x)
    }

    /// One row per lead, plus a last row of a lead with every attribute missing (for
    /// observations of leads the table lacks): every categorical and numeric feature,
    /// as Float64 without nulls.
    fn attributes_per_lead(&self, leads: &DataFrame) -> Result<DataFrame> {
        let attribute_names: Vec<&String> = self
            .categoricals
            .iter()
            .map(|(c, _)| c)
            .chain(&self.numerics)
            .collect();
        let mut selected = leads.select(attribute_names.iter().map(|c| c.as_str()))?;
        let missing_lead = DataFrame::new(
            1,
            selected
                .columns()
                .iter()
                .map(|c| Column::full_null(c.name().clone(), 1, c.dtype()))
                .collect(),
        )?;
        selected.vstack_mut(&missing_lead)?;
        let aliased: Vec<Expr> = attribute_names
            .iter()
            .map(|c| col(c.as_str()).alias(super::spec::attribute_column(c)))
            .collect();
        let features: Vec<Expr> = self
            .attribute_expressions()
            .into_iter()
            .map(|(name, expr)| expr.cast(DataType::Float64).fill_null(lit(0.0)).alias(name))
            .collect();
        Ok(selected.lazy().select(aliased).select(features).collect()?)
    }
}

/// `leads` with a null column for every attribute the spec knows and the table lacks.
fn with_missing_attributes(spec: &FeatureSpec, leads: &DataFrame) -> Result<DataFrame> {
    let mut leads = leads.clone();
    let attributes = spec
        .categoricals
        .iter()
        .map(|(c, _)| c)
        .chain(&spec.numerics);
    for column in attributes {
        if leads.column(column).is_err() {
            let dtype = if spec.numerics.contains(column) {
                DataType::Float64
            } else {
                DataType::String
            };
            leads.with_column(Column::full_null(
                column.as_str().into(),
                leads.height(),
                &dtype,
            ))?;
        }
    }
    Ok(leads)
}

/// For each observation, its lead's row in `leads` (`None` when the table lacks it).
fn lead_rows(leads: &DataFrame, observations: &DataFrame) -> Result<Vec<Option<usize>>> {
    let ids = leads.column(LEAD_ID)?.str()?;
    let mut row_of: PlHashMap<&str, usize> = PlHashMap::with_capacity(ids.len());
    for (row, id) in ids.iter().enumerate() {
        if let Some(id) = id {
            // A lead listed twice (which validation refuses) keeps its first row.
            row_of.entry(id).or_insert(row);
        }
    }
    Ok(observations
        .column(LEAD_ID)?
        .str()?
        .iter()
        .map(|id| id.and_then(|id| row_of.get(id).copied()))
        .collect())
}
