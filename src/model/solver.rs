//! The regularised logistic objective, evaluated the way a column-major design matrix
//! wants it: one pass over X gives the cost and leaves X·w behind for the gradient, and
//! both are column loops (axpy for X·w, dot products for Xᵀr) split over the cores, with
//! no packing of X. linfa-logistic evaluates cost and gradient separately, each with its
//! own X·w through a general matrix product that repacks X: about twice the work, and
//! most of `train`'s time.
//!
//! The objective and the solver are linfa-logistic's, so the optimum is the same:
//! `−Σ log σ(y·(X·w + b)) + α/2·‖w‖²` with y = ±1 and the intercept unpenalised,
//! minimised by argmin's L-BFGS (memory 10) with a More–Thuente line search, stopping on
//! the gradient's norm. The tests hold it to linfa-logistic's coefficients.
//!
//! The standardised matrix is stored in f32 and every sum is taken in f64: a fit reads
//! the matrix twice per evaluation, so half the bytes is nearly half the time, and half
//! the memory. Standardised values rounded to 7 digits move no coefficient by more than
//! 1e-4 (the f64 and f32 fits were compared at 100,000 and 1,000,000 leads; see
//! bench/README.md).

use std::sync::Mutex;

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use ndarray::{Array1, ArrayView2, Axis, Zip};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Rows per parallel block of X·w.
const BLOCK: usize = 16_384;

/// The objective over a standardised, column-major design matrix.
pub struct Objective<'a> {
    x: ArrayView2<'a, f32>,
    /// +1 for won, −1 for lost.
    y: Vec<f64>,
    alpha: f64,
    /// The last parameters the cost was evaluated at, with their X·w + b: the line
    /// search asks for the gradient at the point whose cost it just took.
    last: Mutex<Option<(Array1<f64>, Vec<f64>)>>,
}

impl<'a> Objective<'a> {
    /// The objective of `x` (any layout; column-major is fastest) and labels `won`,
    /// with L2 strength `alpha` (summed loss, as linfa-logistic's).
    pub fn new(x: ArrayView2<'a, f32>, won: &[bool], alpha: f64) -> Self {
        Objective {
            x,
            y: won.iter().map(|&w| if w { 1.0 } else { -1.0 }).collect(),
            alpha,
            last: Mutex::new(None),
        }
    }

    /// X·w + b for parameters `p` (weights, then the intercept).
    fn scores(&self, p: &Array1<f64>) -> Vec<f64> {
        let p_cols = self.x.ncols();
        let intercept = p[p_cols];
        let rows = self.x.nrows();
        let mut z = vec![intercept; rows];
        z.par_chunks_mut(BLOCK)
            .enumerate()
            .for_each(|(block, out)| {
                let start = block * BLOCK;
                let part = self.x.slice(ndarray::s![start..start + out.len(), ..]);
                for (column, &w) in part.axis_iter(Axis(1)).zip(p.iter()) {
                    if w == 0.0 {
                        continue;
                    }
                    for (o, &v) in out.iter_mut().zip(column.iter()) {
                        *o += w * f64::from(v);
                    }
                }
            });
        z
    }

    /// X·w + b at `p`, from the cache when the cost was just taken there.
    fn scores_cached(&self, p: &Array1<f64>) -> Vec<f64> {
        if let Ok(guard) = self.last.lock() {
            if let Some((at, z)) = guard.as_ref() {
                if at == p {
                    return z.clone();
                }
            }
        }
        self.scores(p)
    }
}

/// log σ(t), stable for large |t|.
fn log_sigmoid(t: f64) -> f64 {
    if t > 0.0 {
        -(-t).exp().ln_1p()
    } else {
        t - t.exp().ln_1p()
    }
}

impl CostFunction for Objective<'_> {
    type Param = Array1<f64>;
    type Output = f64;

    fn cost(&self, p: &Self::Param) -> std::result::Result<f64, argmin::core::Error> {
        let z = self.scores(p);
        // Partial sums over fixed blocks, added in order: the same inputs give the same
        // bits whatever the threads did (a work-stealing sum would not).
        let partial: Vec<f64> = z
            .par_chunks(BLOCK)
            .zip(self.y.par_chunks(BLOCK))
            .map(|(z, y)| z.iter().zip(y).map(|(&z, &y)| -log_sigmoid(y * z)).sum())
            .collect();
        let loss: f64 = partial.iter().sum();
        let weights = p.slice(ndarray::s![..self.x.ncols()]);
        let cost = loss + 0.5 * self.alpha * weights.dot(&weights);
        if let Ok(mut guard) = self.last.lock() {
            *guard = Some((p.clone(), z));
        }
        Ok(cost)
    }
}

impl Gradient for Objective<'_> {
    type Param = Array1<f64>;
    type Gradient = Array1<f64>;

    fn gradient(&self, p: &Self::Param) -> std::result::Result<Array1<f64>, argmin::core::Error> {
        let z = self.scores_cached(p);
        // r = (σ(y·z) − 1)·y: the derivative of the loss in z.
        let r: Vec<f64> = z
            .par_iter()
            .zip(self.y.par_iter())
            .map(|(&z, &y)| (1.0 / (1.0 + (-y * z).exp()) - 1.0) * y)
            .collect();
        let columns = self.x.ncols();
        let mut gradient = Array1::zeros(columns + 1);
        let products: Vec<f64> = (0..columns)
            .into_par_iter()
            .map(|j| {
                self.x
                    .column(j)
                    .iter()
                    .zip(&r)
                    .map(|(&v, &r)| f64::from(v) * r)
                    .sum::<f64>()
            })
            .collect();
        Zip::from(gradient.slice_mut(ndarray::s![..columns]))
            .and(&products)
            .and(p.slice(ndarray::s![..columns]))
            .for_each(|g, &xr, &w| *g = xr + self.alpha * w);
        gradient[columns] = r.iter().sum();
        Ok(gradient)
    }
}

/// Minimises the objective from `start` (weights, then the intercept), as linfa-logistic
/// would: L-BFGS with memory 10, More–Thuente, at most `max_iterations`, stopping when
/// the gradient's norm is below `tolerance`.
pub fn minimise(
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
pub struct FusedLogistic {
    /// L2 strength on the summed loss.
    pub alpha: f64,
    /// Iterations at most.
    pub max_iterations: u64,
    /// Stop when the gradient's norm falls below this.
    pub tolerance: f64,
    /// Where to start (weights, then the intercept); zeros when `None`.
    pub start: Option<Array1<f64>>,
}

/// Fitted parameters: weights towards "won", then the intercept.
#[derive(Debug, Clone)]
pub struct FusedFit(pub Array1<f64>);

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
