//! Fitting the logistic model on standardised features, through linfa's `Fit` trait
//! with the fused objective of `super::solver` (linfa-logistic's objective and solver,
//! one pass over X per evaluation; the tests hold it to linfa-logistic's coefficients).
//!
//! The loss is summed over rows and the L2 `alpha` is not scaled by the row count, so
//! the strength here is per row (`l2`) and multiplied by the number of rows before it
//! reaches the solver; a setting then means the same at 1,000 and 1,000,000 rows. The
//! same holds for the stopping rule: the solver stops on the norm of the summed
//! gradient, so the tolerance is per row too (the norm of the mean gradient, as
//! scikit-learn's `tol` is). An absolute tolerance would make large fits run to the
//! iteration cap polishing digits that change no probability. Labels are +1 for won,
//! so weights point towards winning.
//!
//! The solver takes no sample or class weights. Weighting the classes of a logistic
//! model with an intercept moves its intercept by the log of the weight ratio and leaves
//! the ranking alone (the prior correction of King and Zeng, 2001), so "balanced"
//! weighting is applied exactly that way after the fit.

use linfa::prelude::*;

use super::solver::FusedLogistic;
use ndarray::{Array1, Array2, Axis, ShapeBuilder};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Solver settings, as the user gives them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitParams {
    /// L2 strength per training row (default 1e-3).
    pub(crate) l2: f64,
    /// L-BFGS iterations at most (default 200).
    pub(crate) max_iterations: u64,
    /// Stop when the norm of the mean gradient per row is below this (default 3e-4:
    /// scikit-learn's default `tol` of 1e-4 bounds the largest component, this the
    /// Euclidean norm; at 3e-4 both reach the same training log loss).
    pub(crate) gradient_tolerance: f64,
    /// How won and lost deals are weighted against each other.
    pub(crate) class_weight: ClassWeight,
}

/// Weighting of won against lost deals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ClassWeight {
    /// As they occur: probabilities are calibrated to the real won rate.
    None,
    /// Each class weighs as much as the other: probabilities centre on 0.5, which some
    /// teams prefer when won deals are rare; the ranking is the same.
    Balanced,
}

impl Default for FitParams {
    fn default() -> Self {
        FitParams {
            l2: 1e-3,
            max_iterations: 200,
            gradient_tolerance: 3e-4,
            class_weight: ClassWeight::None,
        }
    }
}

impl FitParams {
    /// Checks the settings, naming the bad one.
    pub(crate) fn check(&self) -> Result<()> {
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(Error::setting(
                "FitParams.l2",
                format!("{} is not a number ≥ 0", self.l2),
            ));
        }
        if self.max_iterations == 0 {
            return Err(Error::setting(
                "FitParams.max_iterations",
                "must be at least 1",
            ));
        }
        if !(self.gradient_tolerance.is_finite() && self.gradient_tolerance > 0.0) {
            return Err(Error::setting(
                "FitParams.gradient_tolerance",
                "must be a positive number",
            ));
        }
        Ok(())
    }
}

/// linfa's own parameters after a fit (weights, then the intercept, in its orientation
/// of the classes): only good for warm-starting another fit on the same rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SolverState(Vec<f64>);

/// A fit's model and the solver state it ended in.
#[derive(Debug, Clone)]
pub(crate) struct Fitted {
    /// The model.
    pub(crate) model: LinearModel,
    /// Where the solver ended, to warm-start a neighbouring fit.
    pub(crate) state: SolverState,
}

/// A fitted linear model on standardised features: everything scoring needs.
///
/// Before standardising, every feature is brought near what training saw: a missing
/// value (NaN) becomes the training mean of the observed values, and a value far
/// outside the training range is clipped (see `CLIP_MARGIN_SD`). A model cannot know
/// what a lead 3,650 days old or a company founded in year 0 means when training saw
/// neither, and extrapolating a straight line there is how a lead gets probability
/// 0.999995 for a missing field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    /// Smallest value of each feature in the training rows.
    pub(crate) lower: Vec<f64>,
    /// Largest value of each feature in the training rows.
    pub(crate) upper: Vec<f64>,
    /// Standard deviation of each feature's observed training values: values are
    /// clipped [`CLIP_MARGIN_SD`] of them beyond the range.
    pub(crate) spread: Vec<f64>,
    /// What a missing value of each feature becomes: its training mean.
    pub(crate) fill: Vec<f64>,
    /// Mean of each feature in the training rows.
    pub(crate) means: Vec<f64>,
    /// Standard deviation of each feature (1 where it was constant).
    pub(crate) scales: Vec<f64>,
    /// Weight of each standardised feature towards "won" (log-odds per standard deviation).
    pub weights: Vec<f64>,
    /// Log-odds of winning for an average lead.
    pub(crate) intercept: f64,
}

impl LinearModel {
    /// Fits on `x` (n × p, any layout) with labels `won`.
    pub fn fit(x: &Array2<f64>, won: &[bool], params: &FitParams) -> Result<Self> {
        Ok(Self::fit_from(x, won, params, None)?.model)
    }

    /// Fits starting from `start`, the solver state of a fit on the same rows with
    /// another L2 strength (a warm start: neighbouring strengths have nearby optima, so
    /// a path of strengths costs a fraction of fitting each from zero).
    pub(crate) fn fit_from(
        x: &Array2<f64>,
        won: &[bool],
        params: &FitParams,
        start: Option<&SolverState>,
    ) -> Result<Fitted> {
        Self::fit_rows_from(x, None, won, params, start)
    }

    /// The same on some of `x`'s rows (`rows`; all when `None`), labelled `won` in that
    /// order: a subset is fitted without copying it out of the matrix.
    pub(crate) fn fit_rows_from<T: Feature>(
        x: &Array2<T>,
        rows: Option<&[usize]>,
        won: &[bool],
        params: &FitParams,
        start: Option<&SolverState>,
    ) -> Result<Fitted> {
        params.check()?;
        PreparedRows::of_rows(x, rows, won)?.fit(params, start)
    }

    /// The same on all of `x`, standardised in place (see [`PreparedRows::from_owned`]).
    pub(crate) fn fit_owned(
        x: Array2<f32>,
        won: &[bool],
        params: &FitParams,
        start: Option<&SolverState>,
    ) -> Result<Fitted> {
        params.check()?;
        PreparedRows::from_owned(x, won)?.fit(params, start)
    }
    /// `x` as the weights expect it: missing values imputed, values far outside the
    /// training range clipped; and per feature, how many rows lay outside that range.
    pub(crate) fn prepare(&self, x: &Array2<f64>) -> (Array2<f64>, Vec<usize>) {
        apply_bounds(x, &self.lower, &self.upper, &self.spread, &self.fill)
    }

    /// Log-odds of winning for each row of `x` (raw features; see [`prepare`](Self::prepare)).
    pub(crate) fn log_odds<T: Feature>(&self, x: &Array2<T>) -> Array1<f64> {
        // Block by block, so that scoring millions of rows copies one block at a time,
        // not the matrix; each block column-major like the matrix, so every row's sum
        // runs in the same order and gives the same bits.
        const BLOCK: usize = 65_536;
        let mut out = Array1::zeros(x.nrows());
        for (rows, mut found) in x
            .axis_chunks_iter(Axis(0), BLOCK)
            .zip(out.axis_chunks_iter_mut(Axis(0), BLOCK))
        {
            let mut block = Array2::zeros(rows.dim().f());
            // Column by column: each column of the block is contiguous in both.
            for (mut to, from) in block.columns_mut().into_iter().zip(rows.columns()) {
                to.iter_mut()
                    .zip(from.iter())
                    .for_each(|(t, &v)| *t = v.into());
            }
            bound_in_place(
                &mut block,
                &self.lower,
                &self.upper,
                &self.spread,
                &self.fill,
            );
            found.assign(&self.log_odds_prepared(&block));
        }
        out
    }

    /// Log-odds of rows already prepared.
    pub(crate) fn log_odds_prepared(&self, x: &Array2<f64>) -> Array1<f64> {
        let weights = Array1::from_iter(self.weights.iter().zip(&self.scales).map(|(w, s)| w / s));
        let shift: f64 = self
            .weights
            .iter()
            .zip(&self.means)
            .zip(&self.scales)
            .map(|((w, m), s)| w * m / s)
            .sum();
        x.dot(&weights) + (self.intercept - shift)
    }

    /// Probability of winning for each row of `x`.
    pub fn probabilities<T: Feature>(&self, x: &Array2<T>) -> Array1<f64> {
        self.log_odds(x).mapv(|z| 1.0 / (1.0 + (-z).exp()))
    }

    /// Probability of winning for rows already prepared.
    pub(crate) fn probabilities_prepared(&self, x: &Array2<f64>) -> Array1<f64> {
        self.log_odds_prepared(x).mapv(|z| 1.0 / (1.0 + (-z).exp()))
    }
}

/// Training rows made ready for the solver once (bounded, imputed, standardised, in
/// f32: see [`super::solver`]), so that a path of L2 strengths, as the search walks,
/// pays for that once and holds one half-size copy of the matrix.
pub(crate) struct PreparedRows {
    bounds: Bounds,
    means: Vec<f64>,
    scales: Vec<f64>,
    won: Vec<bool>,
    dataset: Dataset<f32, bool, ndarray::Ix1>,
}

/// Mean and population standard deviation, in two passes over the values (no
/// cancellation), each sum in order.
fn mean_and_spread(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let (count, total) = values
        .clone()
        .fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
    if count == 0 {
        return (0.0, 0.0);
    }
    let mean = total / count as f64;
    let squares: f64 = values.map(|v| (v - mean) * (v - mean)).sum();
    (mean, (squares / count as f64).sqrt())
}

/// A raw feature value as a matrix holds it: f64 as built, or f32 for a training
/// matrix (see `crate::features::matrix::MatrixWriter::rows_f32`).
pub trait Feature: Copy + Into<f64> + Send + Sync {}
impl Feature for f64 {}
impl Feature for f32 {}

/// Refuses a fit without rows, with labels of another length, or of one class only.
fn check_labels(rows: usize, won: &[bool]) -> Result<()> {
    if rows != won.len() || rows == 0 {
        return Err(Error::setting(
            "training rows",
            "no rows, or features and labels differ in length",
        ));
    }
    if won.iter().all(|&w| w) || won.iter().all(|&w| !w) {
        return Err(Error::setting(
            "training rows",
            "need both won and lost deals",
        ));
    }
    Ok(())
}

/// Column `j`'s raw values bounded and imputed, then centred (and scaled) into `out`;
/// returns the column's (mean, scale).
fn standardise_column(
    column: Array1<f64>,
    bounds: &Bounds,
    j: usize,
    mut out: ndarray::ArrayViewMut1<f32>,
) -> (f64, f64) {
    let mut column = column.insert_axis(Axis(1));
    bound_in_place(
        &mut column,
        &bounds.lower[j..=j],
        &bounds.upper[j..=j],
        &bounds.spread[j..=j],
        &bounds.fill[j..=j],
    );
    let (mean, spread) = mean_and_spread(column.iter().copied());
    // Indicator columns (one-hot categories, missing flags) are centred but not scaled,
    // as scikit-learn's one-hot encoding leaves them: scaling a rare category up makes
    // its weight cheap under the penalty, and on the bank data the model then explained
    // the won rate by the calendar month (which does not come back next year) instead
    // of the economy (which does): 0.66 out-of-time ROC AUC against 0.76.
    let indicator = column.iter().all(|&v| v == 0.0 || v == 1.0);
    let scale = if spread > 1e-12 && spread.is_finite() && !indicator {
        spread
    } else {
        1.0
    };
    for (o, &v) in out.iter_mut().zip(column.iter()) {
        *o = ((v - mean) / scale) as f32;
    }
    (mean, scale)
}

impl PreparedRows {
    /// Prepares the rows `rows` of `x` (all when `None`), labelled `won` in that order.
    pub(crate) fn of_rows<T: Feature>(
        x: &Array2<T>,
        rows: Option<&[usize]>,
        won: &[bool],
    ) -> Result<Self> {
        let n = rows.map_or(x.nrows(), <[usize]>::len);
        if rows.is_some_and(|r| r.iter().any(|&i| i >= x.nrows())) {
            return Err(Error::setting(
                "training rows",
                "a chosen row lies outside the matrix",
            ));
        }
        check_labels(n, won)?;
        let bounds = Bounds::learn(x, rows);
        let mut standardised = Array2::<f32>::zeros((n, x.ncols()).f());
        let columns: Vec<_> = standardised
            .axis_iter_mut(Axis(1))
            .zip(x.axis_iter(Axis(1)))
            .enumerate()
            .collect();
        let moments: Vec<(f64, f64)> = columns
            .into_par_iter()
            .map(|(j, (out, raw))| {
                let column = match rows {
                    Some(rows) => rows.iter().map(|&i| raw[i].into()).collect(),
                    None => raw.iter().map(|&v| v.into()).collect(),
                };
                standardise_column(column, &bounds, j, out)
            })
            .collect();
        Ok(Self::assemble(bounds, moments, won, standardised))
    }

    /// Prepares all of `x` in place: the raw values are overwritten by the standardised
    /// ones, so a training matrix costs its own memory only.
    pub(crate) fn from_owned(mut x: Array2<f32>, won: &[bool]) -> Result<Self> {
        check_labels(x.nrows(), won)?;
        let bounds = Bounds::learn(&x, None);
        let columns: Vec<_> = x.axis_iter_mut(Axis(1)).enumerate().collect();
        let moments: Vec<(f64, f64)> = columns
            .into_par_iter()
            .map(|(j, out)| {
                let column = out.iter().map(|&v| f64::from(v)).collect();
                standardise_column(column, &bounds, j, out)
            })
            .collect();
        Ok(Self::assemble(bounds, moments, won, x))
    }

    fn assemble(
        bounds: Bounds,
        moments: Vec<(f64, f64)>,
        won: &[bool],
        standardised: Array2<f32>,
    ) -> Self {
        let labels: Array1<bool> = won.iter().copied().collect();
        PreparedRows {
            bounds,
            means: moments.iter().map(|m| m.0).collect(),
            scales: moments.iter().map(|m| m.1).collect(),
            won: won.to_vec(),
            dataset: Dataset::new(standardised, labels),
        }
    }

    /// Rows.
    pub(crate) fn rows(&self) -> usize {
        self.won.len()
    }

    /// Fits at `params`' strength, starting from `start` when it fits these columns.
    pub(crate) fn fit(&self, params: &FitParams, start: Option<&SolverState>) -> Result<Fitted> {
        params.check()?;
        let rows = self.rows() as f64;
        let columns = self.means.len();
        let solver = FusedLogistic {
            alpha: params.l2 * rows,
            max_iterations: params.max_iterations,
            tolerance: params.gradient_tolerance * rows,
            start: start
                .filter(|s| s.0.len() == columns + 1)
                .map(|s| Array1::from(s.0.clone())),
        };
        let fitted = solver
            .fit(&self.dataset)
            .map_err(|e| Error::setting("training", format!("the logistic fit failed: {e}")))?;
        let state = SolverState(fitted.0.to_vec());
        let shift = match params.class_weight {
            ClassWeight::None => 0.0,
            ClassWeight::Balanced => {
                let won_count = self.won.iter().filter(|&&w| w).count() as f64;
                ((rows - won_count) / won_count).ln()
            }
        };
        let model = LinearModel {
            lower: self.bounds.lower.clone(),
            upper: self.bounds.upper.clone(),
            spread: self.bounds.spread.clone(),
            fill: self.bounds.fill.clone(),
            means: self.means.clone(),
            scales: self.scales.clone(),
            weights: fitted.0.iter().take(columns).copied().collect(),
            intercept: fitted.0[columns] + shift,
        };
        Ok(Fitted { model, state })
    }

    /// `model`'s probability for each of these rows, from their standardised values
    /// (what the fit saw): the training matrix need not be kept beside its prepared copy
    /// to judge the fit.
    pub(crate) fn probabilities(&self, model: &LinearModel) -> Vec<f64> {
        let x = self.dataset.records();
        let mut z = vec![model.intercept; x.nrows()];
        for (column, &w) in x.axis_iter(Axis(1)).zip(&model.weights) {
            for (z, &v) in z.iter_mut().zip(column.iter()) {
                *z += w * f64::from(v);
            }
        }
        z.iter().map(|z| 1.0 / (1.0 + (-z).exp())).collect()
    }
}

/// The training range, spread and imputation value of every feature.
struct Bounds {
    lower: Vec<f64>,
    upper: Vec<f64>,
    spread: Vec<f64>,
    fill: Vec<f64>,
}

/// How far past the training range (in training standard deviations) a value may lie
/// before it is clipped. At 0 a model cannot follow a market that moved a little: on
/// the bank data, where after the split every interest rate lies below any seen in
/// training, clipping at the range itself cost 0.03 ROC AUC; at 3 nothing was lost,
/// and a value thousands of deviations out still moves the log-odds by a bounded
/// amount.
pub(crate) const CLIP_MARGIN_SD: f64 = 3.0;

impl Bounds {
    /// From the observed (non-NaN) values of each column over `rows` (all when `None`);
    /// a column never observed is pinned to 0.
    fn learn<T: Feature>(x: &Array2<T>, rows: Option<&[usize]>) -> Bounds {
        let mut bounds = Bounds {
            lower: Vec::with_capacity(x.ncols()),
            upper: Vec::with_capacity(x.ncols()),
            spread: Vec::with_capacity(x.ncols()),
            fill: Vec::with_capacity(x.ncols()),
        };
        for column in x.columns() {
            let (low, high, spread, fill) = match rows {
                Some(rows) => column_bounds(rows.iter().map(|&i| column[i].into())),
                None => column_bounds(column.iter().map(|&v| v.into())),
            };
            bounds.lower.push(low);
            bounds.upper.push(high);
            bounds.spread.push(spread);
            bounds.fill.push(fill);
        }
        bounds
    }
}

/// (lowest, highest, spread, mean) of a column's observed (finite) values.
fn column_bounds(values: impl Iterator<Item = f64> + Clone) -> (f64, f64, f64, f64) {
    let (mut low, mut high, mut sum, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0);
    for v in values.clone().filter(|v| v.is_finite()) {
        low = low.min(v);
        high = high.max(v);
        sum += v;
        n += 1;
    }
    if n == 0 {
        (low, high, sum, n) = (0.0, 0.0, 0.0, 1);
    }
    let mean = (sum / n as f64).clamp(low, high);
    let squares: f64 = values
        .filter(|v| v.is_finite())
        .map(|v| (v - mean) * (v - mean))
        .sum();
    (low, high, (squares / n as f64).sqrt(), mean)
}

/// A copy of `x` with missing values filled and values far outside the training range
/// clipped (see [`CLIP_MARGIN_SD`]), and per column how many values lay outside the
/// training range at all.
fn apply_bounds(
    x: &Array2<f64>,
    lower: &[f64],
    upper: &[f64],
    spread: &[f64],
    fill: &[f64],
) -> (Array2<f64>, Vec<usize>) {
    let mut out = x.clone();
    let outside = bound_in_place(&mut out, lower, upper, spread, fill);
    (out, outside)
}

/// [`apply_bounds`] without the copy.
fn bound_in_place(
    x: &mut Array2<f64>,
    lower: &[f64],
    upper: &[f64],
    spread: &[f64],
    fill: &[f64],
) -> Vec<usize> {
    let mut outside = vec![0; x.ncols()];
    for (j, mut column) in x.axis_iter_mut(Axis(1)).enumerate() {
        let (low, high) = (lower[j], upper[j]);
        let margin = CLIP_MARGIN_SD * spread[j];
        for v in column.iter_mut() {
            if v.is_nan() {
                *v = fill[j];
            } else if *v < low || *v > high {
                *v = v.clamp(low - margin, high + margin);
                outside[j] += 1;
            }
        }
    }
    outside
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn a_subset_fits_in_place_as_its_copy_does() {
        let x = Array2::from_shape_fn((40, 3).f(), |(i, j)| {
            if (i + j) % 11 == 0 {
                f64::NAN
            } else {
                ((i * 7 + j * 13) % 17) as f64 - 0.5 * j as f64
            }
        });
        let won: Vec<bool> = (0..40).map(|i| (i * 5) % 7 < 3).collect();
        let rows: Vec<usize> = (0..40).filter(|i| i % 3 != 1).collect();
        let subset_won: Vec<bool> = rows.iter().map(|&i| won[i]).collect();
        let params = FitParams::default();
        let copied = LinearModel::fit(&x.select(Axis(0), &rows), &subset_won, &params).unwrap();
        let in_place = LinearModel::fit_rows_from(&x, Some(&rows), &subset_won, &params, None)
            .unwrap()
            .model;
        assert_eq!(in_place, copied);
        assert!(
            LinearModel::fit_rows_from(&x, Some(&[0, 40]), &[true, false], &params, None).is_err()
        );
    }

    #[test]
    fn mean_and_spread_are_the_population_moments() {
        let (mean, spread) = mean_and_spread([1.0, 2.0, 3.0, 4.0].into_iter());
        assert_eq!(mean, 2.5);
        assert!((spread - 1.25f64.sqrt()).abs() < 1e-15);
        // A large offset does not cancel the spread away.
        let (mean, spread) = mean_and_spread([1e9 + 1.0, 1e9 + 3.0].into_iter());
        assert_eq!((mean, spread), (1e9 + 2.0, 1.0));
        assert_eq!(mean_and_spread(std::iter::empty()), (0.0, 0.0));
    }

    #[test]
    fn won_gets_higher_probability_whichever_class_is_more_frequent() {
        let x = array![
            [0.0],
            [0.1],
            [0.2],
            [0.3],
            [1.0],
            [1.1],
            [1.2],
            [1.3],
            [0.9]
        ];
        for won_is_rare in [true, false] {
            let won: Vec<bool> = x
                .column(0)
                .iter()
                .map(|&v| (v > 0.5) == won_is_rare)
                .collect();
            let model = LinearModel::fit(&x, &won, &FitParams::default()).unwrap();
            let p = model.probabilities(&array![[0.0], [1.2]]);
            assert_eq!(p[1] > p[0], won_is_rare, "p = {p:?}");
        }
    }

    #[test]
    fn a_warm_start_reaches_the_cold_start_optimum() {
        let n = 400;
        let x = Array2::from_shape_fn((n, 3), |(i, j)| ((i * (j + 3) * 7919) % 101) as f64 / 10.0);
        let won: Vec<bool> = (0..n)
            .map(|i| x[[i, 0]] + 0.5 * x[[i, 1]] + ((i * 31) % 7) as f64 > 9.0)
            .collect();
        let strong = FitParams {
            l2: 0.3,
            ..FitParams::default()
        };
        let weak = FitParams {
            l2: 0.001,
            ..FitParams::default()
        };
        let start = LinearModel::fit_from(&x, &won, &strong, None)
            .unwrap()
            .state;
        let warm = LinearModel::fit_from(&x, &won, &weak, Some(&start))
            .unwrap()
            .model;
        let cold = LinearModel::fit(&x, &won, &weak).unwrap();
        let gap = (warm.probabilities(&x) - cold.probabilities(&x))
            .iter()
            .fold(0.0f64, |m, d| m.max(d.abs()));
        assert!(gap < 1e-3, "warm and cold fits differ by {gap}");
        assert_ne!(warm, cold, "the warm start was ignored");
    }

    #[test]
    fn fitting_twice_gives_identical_weights() {
        let x = array![
            [1.0, 5.0],
            [2.0, 3.0],
            [3.0, 8.0],
            [4.0, 1.0],
            [5.0, 2.0],
            [6.0, 9.0]
        ];
        let won = [false, false, true, false, true, true];
        let a = LinearModel::fit(&x, &won, &FitParams::default()).unwrap();
        let b = LinearModel::fit(&x, &won, &FitParams::default()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn balanced_weighting_centres_probabilities_and_keeps_the_ranking() {
        let x = array![[0.0], [0.2], [0.4], [0.6], [0.8], [1.0], [1.2], [1.4]];
        let won = [false, false, false, true, false, false, true, true];
        let plain = LinearModel::fit(&x, &won, &FitParams::default()).unwrap();
        let balanced = LinearModel::fit(
            &x,
            &won,
            &FitParams {
                class_weight: ClassWeight::Balanced,
                ..FitParams::default()
            },
        )
        .unwrap();
        assert_eq!(plain.weights, balanced.weights);
        assert!((balanced.intercept - plain.intercept - (5.0f64 / 3.0).ln()).abs() < 1e-12);
        let mean = |m: &LinearModel| m.probabilities(&x).mean().unwrap();
        assert!(mean(&plain) < 0.45 && (mean(&balanced) - 0.5).abs() < 0.08);
    }

    #[test]
    fn rejects_invalid_settings_and_single_class_data() {
        let x = array![[1.0], [2.0]];
        let bad = FitParams {
            l2: -1.0,
            ..FitParams::default()
        };
        assert!(LinearModel::fit(&x, &[true, false], &bad).is_err());
        assert!(LinearModel::fit(&x, &[true, true], &FitParams::default()).is_err());
    }
}
