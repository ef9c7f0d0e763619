//! The feature matrix written in place: activity from the one-pass engine straight into
//! its columns, attributes computed once per lead and gathered into each observation's
//! row. No frame of observations × features is materialised on the way, so building
//! features costs one matrix of memory, not three (the frame, its copy into a matrix,
//! and the joins before them).
//!
//! The numbers are those of the polars expressions in `FeatureSpec::build_by_join`
//! (kept as the test oracle), bit for bit: the same formulas, evaluated in the same
//! floating-point order.

use ndarray::{s, Array2, ArrayViewMut1, Axis, ShapeBuilder};
use polars::prelude::*;
use rayon::prelude::*;

use super::activity::{activity_into, ActivityPlan};
use super::spec::{FeatureSpec, WINDOWS};
use crate::data::columns::*;
use crate::data::events::EventIndex;
use crate::data::text::{each_run, IdIndex};
use crate::data::timestamp::DAYS_PER_MICRO;
use crate::error::{Error, Result};
use crate::observations::AS_OF;
use crate::points::PointModel;

/// `ln(1 + x)` as the spec's expressions compute it (`(x + 1).log(e)`), so that the
/// matrix agrees with them to the last bit.
pub(crate) fn log1p(x: f64) -> f64 {
    (x + 1.0).log(std::f64::consts::E)
}

/// Lead age is bounded at ten years, recency at one (the SQL export writes the same).
pub(crate) const MAX_LEAD_AGE_DAYS: f64 = 3650.0;
/// See [`MAX_LEAD_AGE_DAYS`].
pub(crate) const MAX_RECENCY_DAYS: f64 = 365.0;

/// Rows of one set of observations' feature matrix, written on demand (see
/// [`FeatureSpec::writer`]): the whole matrix at once, or partition by partition.
pub(crate) struct MatrixWriter<'a> {
    spec: &'a FeatureSpec,
    index: &'a EventIndex,
    width: usize,
    lead_of: Vec<Option<usize>>,
    as_of: Vec<Option<i64>>,
    /// Each lead's creation time.
    created: Vec<Option<i64>>,
    attributes: Vec<LeadAttribute>,
    /// The rule features' values, one vector per column (empty without rule features).
    rule_columns: Vec<Vec<f64>>,
}

/// Rows per partition of an f32 matrix: the f64 partition is about 200 MiB at 200
/// features.
const PARTITION_ROWS: usize = 131_072;

impl MatrixWriter<'_> {
    /// Observations (rows of the whole matrix).
    pub(crate) fn len(&self) -> usize {
        self.lead_of.len()
    }

    /// The observations `range` (rows of the whole matrix) as a column-major matrix.
    pub(crate) fn rows(&self, range: std::ops::Range<usize>) -> Result<Array2<f64>> {
        let mut x = Array2::<f64>::zeros((range.len(), self.width).f());
        self.write_rows(range, &mut x)?;
        Ok(x)
    }

    /// Writes the observations `range` into `x` (that many rows, zeros on entry).
    fn write_rows(&self, range: std::ops::Range<usize>, x: &mut Array2<f64>) -> Result<()> {
        if range.end > self.len() || range.start > range.end || x.dim() != (range.len(), self.width)
        {
            return Err(Error::Polars(PolarsError::ShapeMismatch(
                "rows outside the observations".into(),
            )));
        }
        let n = range.len();
        let lead_of = &self.lead_of[range.clone()];
        let as_of = &self.as_of[range.clone()];

        // Activity counts, then their log.
        let plan = ActivityPlan {
            event_types: &self.spec.event_types,
            details: &self.spec.details,
            windows: &WINDOWS,
        };
        let counted = plan.width();
        let mut since = vec![f64::NAN; n];
        let mut active = vec![0.0; n];
        activity_into(
            &plan,
            self.index,
            lead_of,
            as_of,
            x.slice_mut(s![.., ..counted]),
            &mut since,
            &mut active,
        )?;
        let count_columns: Vec<ArrayViewMut1<f64>> =
            x.axis_iter_mut(Axis(1)).take(counted).collect();
        count_columns.into_par_iter().for_each(|mut column| {
            // Most counts are 0, whose log is 0.
            column
                .iter_mut()
                .filter(|v| **v != 0.0)
                .for_each(|v| *v = log1p(*v))
        });

        write_recency_and_age(x, counted, &self.created, lead_of, as_of, &since, &active);
        let first_rule = write_attributes(x, counted + 4, &self.attributes, lead_of);
        for (j, values) in self.rule_columns.iter().enumerate() {
            x.column_mut(first_rule + j)
                .iter_mut()
                .zip(&values[range.clone()])
                .for_each(|(v, &value)| *v = value);
        }
        Ok(())
    }

    /// The whole matrix in f32 (each value the f64 one rounded), built partition by
    /// partition so that the f64 values exist for one partition at a time: half the
    /// memory of a training matrix, for the fit, which reads its matrix in f32 anyway.
    /// `each_partition` sees every partition's f64 rows (the exact values) before they
    /// are rounded and let go.
    pub(crate) fn rows_f32(&self, each_partition: impl FnMut(&Array2<f64>)) -> Result<Array2<f32>> {
        self.rows_f32_by(PARTITION_ROWS, each_partition)
    }

    /// [`rows_f32`](Self::rows_f32) with partitions of `partition_rows`.
    pub(super) fn rows_f32_by(
        &self,
        partition_rows: usize,
        mut each_partition: impl FnMut(&Array2<f64>),
    ) -> Result<Array2<f32>> {
        let mut x = Array2::<f32>::zeros((self.len(), self.width).f());
        // One partition's buffer, cleared and reused: fresh pages cost more than zeros.
        let mut part = Array2::<f64>::zeros((0, self.width).f());
        let mut start = 0;
        while start < self.len() {
            let stop = (start + partition_rows.max(1)).min(self.len());
            if part.nrows() == stop - start {
                part.fill(0.0);
            } else {
                part = Array2::zeros((stop - start, self.width).f());
            }
            self.write_rows(start..stop, &mut part)?;
            each_partition(&part);
            let mut target = x.slice_mut(s![start..stop, ..]);
            let columns: Vec<_> = target
                .axis_iter_mut(Axis(1))
                .zip(part.axis_iter(Axis(1)))
                .collect();
            columns.into_par_iter().for_each(|(mut out, values)| {
                match (out.as_slice_mut(), values.as_slice()) {
                    // Both columns are contiguous (column-major): a plain loop the
                    // compiler vectorises.
                    (Some(out), Some(values)) => {
                        out.iter_mut().zip(values).for_each(|(o, &v)| *o = v as f32)
                    }
                    _ => out.iter_mut().zip(values).for_each(|(o, &v)| *o = v as f32),
                }
            });
            start = stop;
        }
        Ok(x)
    }
}

impl FeatureSpec {
    /// Every feature of every observation (`lead_id`, `as_of`), in [`names`] order, as
    /// an n × p column-major matrix without missing values except the NaN of a
    /// missing number (which the model imputes). Interactions at or after an
    /// observation's `as_of` are invisible to it; an attribute column the spec knows but
    /// `leads` lacks counts as missing for every lead. `rules` is the rule model the
    /// spec was learned with, when it has rule features.
    ///
    /// [`names`]: FeatureSpec::names
    pub(crate) fn matrix(
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
    pub(crate) fn matrix_indexed(
        &self,
        index: &EventIndex,
        leads: &DataFrame,
        interactions: &DataFrame,
        observations: &DataFrame,
        rules: Option<&PointModel>,
    ) -> Result<Array2<f64>> {
        let writer = self.writer(index, leads, interactions, observations, rules)?;
        writer.rows(0..writer.len())
    }

    /// What building rows of a matrix needs, found once for all `observations`:
    /// each observation's lead row and cutoff, the attributes encoded per lead, the rule
    /// features (when the spec has them).
    pub(crate) fn writer<'a>(
        &'a self,
        index: &'a EventIndex,
        leads: &DataFrame,
        interactions: &DataFrame,
        observations: &DataFrame,
        rules: Option<&PointModel>,
    ) -> Result<MatrixWriter<'a>> {
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
        let rule_columns = match rule_columns {
            Some(frame) => frame
                .columns()
                .iter()
                .map(|column| {
                    let values = column.cast(&DataType::Float64)?;
                    Ok(values.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect())
                })
                .collect::<Result<Vec<Vec<f64>>>>()?,
            None => Vec::new(),
        };
        let lead_of = lead_rows(leads, observations)?;
        let as_of = observations.column(AS_OF)?.to_physical_repr();
        let as_of: Vec<Option<i64>> = as_of.i64()?.iter().collect();
        let leads = with_missing_attributes(self, leads)?;
        let created = leads.column(CREATED_AT)?.to_physical_repr();
        let created: Vec<Option<i64>> = created.i64()?.iter().collect();
        Ok(MatrixWriter {
            spec: self,
            index,
            width: self.names().len(),
            lead_of,
            as_of,
            created,
            attributes: self.attributes_per_lead(&leads)?,
            rule_columns,
        })
    }

    /// Every categorical and numeric attribute of the spec, encoded per lead row.
    fn attributes_per_lead(&self, leads: &DataFrame) -> Result<Vec<LeadAttribute>> {
        let mut found = Vec::new();
        for (column, kept) in &self.categoricals {
            // As the expressions see it: the column as text, compared byte for byte.
            let text = leads.column(column)?.cast(&DataType::String)?;
            let code_of: PlHashMap<&str, u32> = kept
                .iter()
                .enumerate()
                .map(|(i, v)| (v.as_str(), i as u32))
                .collect();
            let other = kept.len() as u32;
            let codes = text
                .str()?
                .iter()
                .map(|v| match v {
                    None => other + 1,
                    Some(v) => code_of.get(v).copied().unwrap_or(other),
                })
                .collect();
            found.push(LeadAttribute::Category {
                codes,
                width: kept.len() + 2,
            });
        }
        for column in &self.numerics {
            let raw = leads.column(column)?.cast(&DataType::Float64)?;
            // NaN and infinities (a CSV cell "inf", a Parquet NaN) count as missing.
            let values = raw
                .f64()?
                .iter()
                .map(|v| v.filter(|v| v.is_finite()).unwrap_or(f64::NAN))
                .collect();
            found.push(LeadAttribute::Number {
                values,
                with_log: self.numeric_logs.contains(column),
            });
        }
        Ok(found)
    }
}

/// One attribute of every lead, ready to be gathered into observation rows.
enum LeadAttribute {
    /// Per lead: the one-hot column that is 1 (a kept value's, then "other", then
    /// "missing").
    Category { codes: Vec<u32>, width: usize },
    /// Per lead: the value (NaN when missing); its signed log is a feature too when
    /// `with_log`.
    Number { values: Vec<f64>, with_log: bool },
}

impl LeadAttribute {
    /// Columns: the one-hot columns; or value, log (if any) and missing flag.
    fn width(&self) -> usize {
        match self {
            LeadAttribute::Category { width, .. } => *width,
            LeadAttribute::Number { with_log, .. } => 2 + usize::from(*with_log),
        }
    }

    /// Writes this attribute's columns (zeros on entry) for observations of `lead_of`
    /// (a lead the table lacks has every attribute missing).
    fn write(&self, out: &mut [ArrayViewMut1<f64>], lead_of: &[Option<usize>]) {
        match self {
            LeadAttribute::Category { codes, width } => {
                let missing = (*width - 1) as u32;
                for (r, lead) in lead_of.iter().enumerate() {
                    let code = lead.map_or(missing, |l| codes[l]);
                    out[code as usize][r] = 1.0;
                }
            }
            LeadAttribute::Number { values, with_log } => {
                let value_of = |lead: &Option<usize>| lead.map_or(f64::NAN, |l| values[l]);
                for (v, lead) in out[0].iter_mut().zip(lead_of) {
                    *v = value_of(lead);
                }
                if *with_log {
                    for (v, lead) in out[1].iter_mut().zip(lead_of) {
                        let value = value_of(lead);
                        *v = if value < 0.0 {
                            0.0 - log1p(0.0 - value)
                        } else {
                            log1p(value)
                        };
                    }
                }
                let flag = out.len() - 1;
                for (v, lead) in out[flag].iter_mut().zip(lead_of) {
                    *v = if value_of(lead).is_nan() { 1.0 } else { 0.0 };
                }
            }
        }
    }
}

/// Columns `first..first + 4`: days since the last activity (the lead's age when it
/// never acted), never active, active days in the last 90, lead age; each as the
/// log the spec's expressions take.
fn write_recency_and_age(
    x: &mut Array2<f64>,
    first: usize,
    created: &[Option<i64>],
    lead_of: &[Option<usize>],
    as_of: &[Option<i64>],
    since: &[f64],
    active: &[f64],
) {
    let per_day = DAYS_PER_MICRO;
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
        row[first] = silent.map_or(0.0, |d| log1p(d.clamp(0.0, MAX_RECENCY_DAYS)));
        row[first + 1] = if since[r].is_nan() { 1.0 } else { 0.0 };
        row[first + 2] = log1p(active[r]);
        row[first + 3] = lead_age.map_or(0.0, log1p);
    }
}

/// The attributes' columns from `first` on, each attribute's run written on a core of
/// its own; returns the column after the last.
fn write_attributes(
    x: &mut Array2<f64>,
    first: usize,
    attributes: &[LeadAttribute],
    lead_of: &[Option<usize>],
) -> usize {
    let mut next = first;
    let mut runs = Vec::with_capacity(attributes.len());
    for attribute in attributes {
        runs.push((next, attribute));
        next += attribute.width();
    }
    let mut columns: Vec<Option<ArrayViewMut1<f64>>> = x.axis_iter_mut(Axis(1)).map(Some).collect();
    let jobs: Vec<(Vec<ArrayViewMut1<f64>>, &LeadAttribute)> = runs
        .into_iter()
        .map(|(start, attribute)| {
            let mine = (start..start + attribute.width())
                .filter_map(|c| columns[c].take())
                .collect();
            (mine, attribute)
        })
        .collect();
    jobs.into_par_iter()
        .for_each(|(mut out, attribute)| attribute.write(&mut out, lead_of));
    next
}

/// `leads` with a null column for every attribute the spec knows and the table lacks.
pub(super) fn with_missing_attributes(spec: &FeatureSpec, leads: &DataFrame) -> Result<DataFrame> {
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

/// For each observation, its lead's row in `leads` (`None` when the table lacks it),
/// found as [`EventIndex`] finds it.
fn lead_rows(leads: &DataFrame, observations: &DataFrame) -> Result<Vec<Option<usize>>> {
    let ids = leads.column(LEAD_ID)?.str()?;
    let index = IdIndex::new(ids.iter().map(|id| id.unwrap_or("")).collect());
    let observed = observations.column(LEAD_ID)?.str()?;
    let mut rows = vec![None; observed.len()];
    let mut cursor = None;
    each_run(observed, |start, len, id| {
        if let Some(row) = id.and_then(|id| index.find(id, &mut cursor)) {
            rows[start..start + len].fill(Some(row));
        }
    });
    Ok(rows)
}
