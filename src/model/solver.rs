//! The regularised logistic objective, evaluated the way a column-major design matrix
//! wants it: one pass over X gives both the cost and the gradient. Rows are taken in
//! blocks small enough to stay in a core's cache; each block's X·w is column loops
//! (axpy), its Xᵀr dot products over the same columns while they are still cached, with
//! no packing of X. linfa-logistic evaluates cost and gradient separately, each with its
//! own X·w through a general matrix product that repacks X: about twice the work, and
//! most of `train`'s time.
//!
//! The objective and the solver are linfa-logistic's, so the optimum is the same:
//! `−Σ log σ(y·(X·w + b)) + α/2·‖w‖²` with y = ±1 and the intercept unpenalised,
//! minimised by argmin's L-BFGS (memory 10) with a More–Thuente line search, stopping on
//! the gradient's norm. The tests hold it to linfa-logistic's coefficients.
//!
//! The standardised matrix is stored in f32 and every sum is taken in f64: a fit is
//! bound by reading the matrix, so half the bytes is nearly half the time, and half the
//! memory. Standardised values rounded to 7 digits move no coefficient by more than
//! 1e-4 (the f64 and f32 fits were compared at 100,000 and 1,000,000 leads; see
//! bench/README.md).

use std::borrow::Cow;
use std::sync::Mutex;

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use ndarray::{s, Array1, ArrayView2};

use super::kernels;
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Rows per parallel task. Fixed, so that the partial sums, added in task order, give
/// the same bits whatever the threads did (a work-stealing sum would not).
const TASK_ROWS: usize = 65_536;

/// Bytes of a row block that should stay in a core's cache between X·w and Xᵀr.
const BLOCK_BYTES: usize = 384 * 1024;

/// The objective over a standardised design matrix, held column-major.
pub(crate) struct Objective<'a> {
    /// X's values, column after column.
    x: Cow<'a, [f32]>,
    rows: usize,
    columns: usize,
    /// +1 for won, −1 for lost.
    y: Vec<f64>,
    alpha: f64,
    /// The last parameters evaluated, with their cost and gradient: the line search asks
    /// for the gradient at the point whose cost it just took.
    last: Mutex<Option<Evaluation>>,
}

/// Parameters, with the cost and gradient there.
type Evaluation = (Array1<f64>, f64, Array1<f64>);

impl<'a> Objective<'a> {
    /// The objective of `x` (any layout; a column-major one is read in place, others
    /// copied) and labels `won`, with L2 strength `alpha` (summed loss, as
    /// linfa-logistic's).
    pub(crate) fn new(x: ArrayView2<'a, f32>, won: &[bool], alpha: f64) -> Self {
        let (rows, columns) = x.dim();
        // Xᵀ in row-major order is X column after column.
        let transposed = x.reversed_axes();
        let values = match transposed.to_slice() {
            Some(values) => Cow::Borrowed(values),
            None => Cow::Owned(transposed.iter().copied().collect()),
        };
        Objective {
            x: values,
            rows,
            columns,
            y: won.iter().map(|&w| if w { 1.0 } else { -1.0 }).collect(),
            alpha,
            last: Mutex::new(None),
        }
    }

    /// Rows `start..stop` of column `j`.
    fn column(&self, j: usize, start: usize, stop: usize) -> &[f32] {
        &self.x[j * self.rows + start..j * self.rows + stop]
    }

    /// Cost and gradient at `p` (weights, then the intercept) in one pass over X: each
    /// block of rows gives its X·w + b, its loss and its residuals, and adds its Xᵀr
    /// while its columns are still in cache.
    fn evaluate(&self, p: &Array1<f64>) -> (f64, Array1<f64>) {
        let (rows, columns) = (self.rows, self.columns);
        let weights = p.slice(s![..columns]);
        let intercept = p[columns];
        // Columns with a weight: a zero weight adds nothing to X·w.
        let weighted: Vec<(usize, f64)> = weights
            .iter()
            .enumerate()
            .filter(|&(_, &w)| w != 0.0)
            .map(|(j, &w)| (j, w))
            .collect();
        let block = (BLOCK_BYTES / (4 * columns.max(1))).clamp(64, TASK_ROWS);
        let tasks = rows.div_ceil(TASK_ROWS);
        let partials: Vec<(f64, Vec<f64>)> = (0..tasks)
            .into_par_iter()
            .map(|task| {
                let end = ((task + 1) * TASK_ROWS).min(rows);
                let mut loss = 0.0;
                let mut sums = vec![0.0; columns + 1];
                let mut r = vec![0.0; block];
                // The block's column slices, refilled per block (the kernels group them).
                let mut scaled: Vec<(f64, &[f32])> = Vec::with_capacity(weighted.len());
                let mut all: Vec<&[f32]> = Vec::with_capacity(columns);
                let mut start = task * TASK_ROWS;
                while start < end {
                    let stop = (start + block).min(end);
                    let r = &mut r[..stop - start];
                    r.fill(intercept);
                    scaled.clear();
                    scaled.extend(
                        weighted
                            .iter()
                            .map(|&(j, w)| (w, self.column(j, start, stop))),
                    );
                    kernels::add_scaled(r, &scaled);
                    // r = (σ(y·z) − 1)·y: the derivative of the loss in z.
                    for (r, &y) in r.iter_mut().zip(&self.y[start..stop]) {
                        let (log_sigma, sigma) = log_sigmoid(y * *r);
                        loss -= log_sigma;
                        *r = (sigma - 1.0) * y;
                    }
                    all.clear();
                    all.extend((0..columns).map(|j| self.column(j, start, stop)));
                    kernels::add_dots(&mut sums[..columns], &all, r);
                    sums[columns] += r.iter().sum::<f64>();
                    start = stop;
                }
                (loss, sums)
            })
            .collect();
        let mut loss = 0.0;
        let mut gradient = Array1::zeros(columns + 1);
        for (part_loss, sums) in &partials {
            loss += part_loss;
            for (g, s) in gradient.iter_mut().zip(sums) {
                *g += s;
            }
        }
        for (g, &w) in gradient.iter_mut().zip(weights.iter()) {
            *g += self.alpha * w;
        }
        (loss + 0.5 * self.alpha * weights.dot(&weights), gradient)
    }

    /// Cost and gradient at `p`, from the cache when `p` was just evaluated.
    fn evaluate_cached(&self, p: &Array1<f64>) -> (f64, Array1<f64>) {
        if let Ok(guard) = self.last.lock() {
            if let Some((at, cost, gradient)) = guard.as_ref() {
                if at == p {
                    return (*cost, gradient.clone());
                }
            }
        }
        let (cost, gradient) = self.evaluate(p);
        if let Ok(mut guard) = self.last.lock() {
            *guard = Some((p.clone(), cost, gradient.clone()));
        }
        (cost, gradient)
    }
}

/// (log σ(t), σ(t)), stable for large |t|, from one exponential.
fn log_sigmoid(t: f64) -> (f64, f64) {
    if t > 0.0 {
        let e = (-t).exp();
        (-e.ln_1p(), 1.0 / (1.0 + e))
    } else {
        let e = t.exp();
        (t - e.ln_1p(), e / (1.0 + e))
    }
}

impl CostFunction for Objective<'_> {
    type Param = Array1<f64>;
    type Output = f64;

    fn cost(&self, p: &Self::Param) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.evaluate_cached(p).0)
    }
}

impl Gradient for Objective<'_> {
    type Param = Array1<f64>;
    type Gradient = Array1<f64>;

    fn gradient(&self, p: &Self::Param) -> std::result::Result<Array1<f64>, argmin::core::Error> {
        Ok(self.evaluate_cached(p).1)
    }
}

/// Minimises the objective from `start` (weights, then the intercept), as linfa-logistic
/// would: L-BFGS with memory 10, More–Thuente, at most `max_iterations`, stopping when
/// the gradient's norm is below `tolerance`.
pub(crate) fn minimise(
    objective: Objective,
    start: Array1<f64>,
    max_iterations: u64,
    tolerance: f64,
) -> Result<Array1<f64>> {
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(tolerance)
        .map_err(|e| Error::setting("training", format!("the logistic fit failed: {e}")))?;
    let result = Executor::new(objective, solver)
        .configure(|state| state.param(start).max_iters(max_iterations))
        .run()
        .map_err(|e| Error::setting("training", format!("the logistic fit failed: {e}")))?;
    result
        .state()
        .get_best_param()
        .cloned()
        .ok_or_else(|| Error::setting("training", "the logistic fit found no parameters"))
}

/// linfa's face of the solver: settings that `fit` a [`linfa::Dataset`] of a
/// standardised matrix and won/lost labels into its parameters.
#[derive(Debug, Clone)]
pub(crate) struct FusedLogistic {
    /// L2 strength on the summed loss.
    pub(crate) alpha: f64,
    /// Iterations at most.
    pub(crate) max_iterations: u64,
    /// Stop when the gradient's norm falls below this.
    pub(crate) tolerance: f64,
    /// Where to start (weights, then the intercept); zeros when `None`.
    pub(crate) start: Option<Array1<f64>>,
}

/// Fitted parameters: weights towards "won", then the intercept.
#[derive(Debug, Clone)]
pub(crate) struct FusedFit(pub Array1<f64>);

impl linfa::traits::Fit<ndarray::Array2<f32>, Array1<bool>, linfa::Error> for FusedLogistic {
    type Object = FusedFit;

    fn fit(
        &self,
        dataset: &linfa::DatasetBase<ndarray::Array2<f32>, Array1<bool>>,
    ) -> std::result::Result<FusedFit, linfa::Error> {
        let x = dataset.records();
        let won = dataset.targets().to_vec();
        let start = self
            .start
            .clone()
            .filter(|s| s.len() == x.ncols() + 1)
            .unwrap_or_else(|| Array1::zeros(x.ncols() + 1));
        minimise(
            Objective::new(x.view(), &won, self.alpha),
            start,
            self.max_iterations,
            self.tolerance,
        )
        .map(FusedFit)
        .map_err(|e| linfa::Error::Parameters(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::prelude::*;
    use linfa_logistic::LogisticRegression;
    use ndarray::{Array2, ShapeBuilder};

    #[test]
    fn the_optimum_is_linfa_logistic_s() {
        // 3,000 rows, 6 standardised-looking columns, labels from a noisy linear rule.
        let n = 3_000;
        let mut x = Array2::zeros((n, 6).f());
        for ((i, j), v) in x.indexed_iter_mut() {
            let u = ((i * 7919 + j * 104_729) % 1000) as f64 / 1000.0;
            *v = (u - 0.5) * 3.0 + if j == 5 { (i % 3) as f64 } else { 0.0 };
        }
        let won: Vec<bool> = (0..n)
            .map(|i| {
                let s = 1.2 * x[[i, 0]] - 0.7 * x[[i, 1]] + 0.3 * x[[i, 5]];
                s + (((i * 31) % 17) as f64 / 17.0 - 0.5) * 2.0 > 0.2
            })
            .collect();
        let alpha = 3.0;
        // Ours reads the matrix in f32; the oracle gets the same values in f64.
        let x32 = x.mapv(|v| v as f32);
        let x = x32.mapv(f64::from);
        let ours = minimise(
            Objective::new(x32.view(), &won, alpha),
            Array1::zeros(7),
            500,
            1e-10,
        )
        .unwrap();
        // A row-major matrix is copied column-major first: the same fit, bit for bit.
        let row_major = x32.as_standard_layout().to_owned();
        assert!(row_major.is_standard_layout());
        let from_rows = minimise(
            Objective::new(row_major.view(), &won, alpha),
            Array1::zeros(7),
            500,
            1e-10,
        )
        .unwrap();
        assert_eq!(from_rows, ours);
        let labels: Array1<bool> = won.iter().copied().collect();
        let theirs = LogisticRegression::default()
            .alpha(alpha)
            .max_iterations(500)
            .gradient_tolerance(1e-10)
            .fit(&Dataset::new(x.clone(), labels))
            .unwrap();
        let sign = if theirs.labels().pos.class { 1.0 } else { -1.0 };
        for j in 0..6 {
            let gap = (ours[j] - sign * theirs.params()[j]).abs();
            assert!(
                gap < 1e-5,
                "weight {j}: {} against {}",
                ours[j],
                sign * theirs.params()[j]
            );
        }
        assert!((ours[6] - sign * theirs.intercept()).abs() < 1e-5);
    }
}
