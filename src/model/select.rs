//! Choosing the L2 strength by time, with expanding windows: the training deals, in the
//! order they closed, are cut at 55%, 70% and 85%; each fold fits on the deals before
//! its cut and validates on the deals up to the next one. The strength with the lowest
//! mean validation log loss wins (ties go to the stronger, simpler model). Earlier deals
//! never validate later ones, so the choice is judged the way the model is used; three
//! folds instead of one keep a few hundred deals' noise from deciding.

use ndarray::{Array2, Axis, ShapeBuilder};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::train::{ClassWeight, FitParams, LinearModel, SolverState};
use crate::error::Result;
use crate::eval::metrics::{log_loss, roc_auc};

/// Strengths tried when the user leaves `--l2` on `auto` (per training row).
pub const L2_GRID: [f64; 8] = [1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0];

/// Where the folds cut the training deals, as shares in closing order.
const FOLD_CUTS: [f64; 4] = [0.55, 0.70, 0.85, 1.0];

/// The user's `--l2`: a fixed strength, or `auto` to choose one by time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum L2Choice {
    /// Choose from [`L2_GRID`].
    Auto,
    /// Use this strength per training row.
    Fixed(f64),
}

impl std::str::FromStr for L2Choice {
    type Err = String;
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        if text == "auto" {
            return Ok(L2Choice::Auto);
        }
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(L2Choice::Fixed(v)),
            _ => Err(format!("{text:?} is neither `auto` nor a number ≥ 0")),
        }
    }
}

/// How one candidate strength did on the later deals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct L2Trial {
    /// Strength per training row.
    pub l2: f64,
    /// Mean log loss over the folds' validating deals.
    pub log_loss: f64,
    /// Mean ROC AUC over the folds' validating deals.
    pub roc_auc: f64,
}

/// What the search found.
#[derive(Debug, Clone)]
pub struct ChosenL2 {
    /// The strength with the lowest mean log loss.
    pub l2: f64,
    /// Every candidate's result, in grid order.
    pub trials: Vec<L2Trial>,
    /// Where the solver ended at the chosen strength on the largest fold: a warm start
    /// for the fit on all training rows, which it nearly is.
    pub start: SolverState,
}

/// The chosen strength and every candidate's result; `None` when some fold's deals do
/// not hold both won and lost (the caller falls back to its default and says so).
pub fn choose_l2(
    x: &Array2<f64>,
    won: &[bool],
    closed_at: &[i64],
    grid: &[f64],
    fit: &FitParams,
) -> Result<Option<ChosenL2>> {
    let Some(folds) = folds(won, closed_at) else {
        return Ok(None);
    };
    let folds: Vec<Fold> = folds
        .into_iter()
        .map(|(fit_rows, check_rows)| Fold {
            x_fit: rows_of(x, &fit_rows),
            y_fit: fit_rows.iter().map(|&i| won[i]).collect(),
            x_check: rows_of(x, &check_rows),
            y_check: check_rows.iter().map(|&i| won[i]).collect(),
        })
        .collect();
    // Weighting moves only the intercept; judge candidates on calibrated probabilities.
    let unweighted = FitParams {
        class_weight: ClassWeight::None,
        ..fit.clone()
    };
    // Each fold walks the grid from the strongest strength to the weakest, each fit
    // warm-started from the previous one; folds run in parallel.
    let mut order: Vec<usize> = (0..grid.len()).collect();
    order.sort_by(|&a, &b| grid[b].total_cmp(&grid[a]));
    let per_fold: Vec<FoldPath> = folds
        .par_iter()
        .map(|fold| {
            let mut found = vec![(f64::NAN, f64::NAN); grid.len()];
            let mut states = vec![None; grid.len()];
            let mut state: Option<SolverState> = None;
            for &g in &order {
                let params = FitParams {
                    l2: grid[g],
                    ..unweighted.clone()
                };
                let fitted =
                    LinearModel::fit_from(&fold.x_fit, &fold.y_fit, &params, state.as_ref())?;
                let p = fitted.model.probabilities(&fold.x_check).to_vec();
                found[g] = (
                    log_loss(&p, &fold.y_check),
                    roc_auc(&p, &fold.y_check).unwrap_or(f64::NAN),
                );
                states[g] = Some(fitted.state.clone());
                state = Some(fitted.state);
            }
            Ok(FoldPath { found, states })
        })
        .collect::<Result<_>>()?;
    let results: Vec<(f64, f64)> = (0..grid.len())
        .flat_map(|g| per_fold.iter().map(move |fold| fold.found[g]))
        .collect();
    let trials: Vec<L2Trial> = grid
        .iter()
        .enumerate()
        .map(|(g, &l2)| {
            let mine = &results[g * folds.len()..(g + 1) * folds.len()];
            let mean = |pick: fn(&(f64, f64)) -> f64| {
                mine.iter().map(pick).sum::<f64>() / mine.len() as f64
            };
            L2Trial {
                l2,
                log_loss: mean(|r| r.0),
                roc_auc: mean(|r| r.1),
            }
        })
        .collect();
    let best = (0..grid.len()).min_by(|&a, &b| {
        trials[a]
            .log_loss
            .total_cmp(&trials[b].log_loss)
            .then(grid[b].total_cmp(&grid[a]))
    });
    let largest_fold = per_fold.last().map(|fold| &fold.states);
    Ok(best.and_then(|g| {
        let start = largest_fold?[g].clone()?;
        Some(ChosenL2 {
            l2: grid[g],
            trials,
            start,
        })
    }))
}

/// One fold's walk along the grid: (log loss, ROC AUC) on its validating deals and the
/// solver's end state, per grid strength.
struct FoldPath {
    found: Vec<(f64, f64)>,
    states: Vec<Option<SolverState>>,
}

/// One expanding-window fold's matrices.
struct Fold {
    x_fit: Array2<f64>,
    y_fit: Vec<bool>,
    x_check: Array2<f64>,
    y_check: Vec<bool>,
}

/// Row indices (fit, validate) of each fold, or `None` if a side lacks a class. Rows of
/// one deal share its `closed_at`, so a deal never sits on both sides.
fn folds(won: &[bool], closed_at: &[i64]) -> Option<Vec<(Vec<usize>, Vec<usize>)>> {
    let mut sorted = closed_at.to_vec();
    sorted.sort_unstable();
    let at = |share: f64| {
        sorted
            .get(((sorted.len() as f64) * share) as usize)
            .copied()
            .unwrap_or(i64::MAX)
    };
    let both = |rows: &[usize]| rows.iter().any(|&i| won[i]) && rows.iter().any(|&i| !won[i]);
    FOLD_CUTS
        .windows(2)
        .map(|cut| {
            let (start, end) = (at(cut[0]), at(cut[1]));
            let fit: Vec<usize> = (0..won.len()).filter(|&i| closed_at[i] < start).collect();
            let check: Vec<usize> = (0..won.len())
                .filter(|&i| closed_at[i] >= start && closed_at[i] < end)
                .collect();
            (both(&fit) && both(&check)).then_some((fit, check))
        })
        .collect()
}

/// The given rows of `x`, column-major like every matrix the fitter sees.
fn rows_of(x: &Array2<f64>, rows: &[usize]) -> Array2<f64> {
    let mut out = Array2::zeros((rows.len(), x.ncols()).f());
    out.assign(&x.select(Axis(0), rows));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn picks_the_strength_with_the_lowest_validation_log_loss() {
        // One informative column and one that is pure noise with a few extreme values.
        let n = 120;
        let x = Array2::from_shape_fn((n, 2), |(i, j)| {
            if j == 0 {
                (i % 10) as f64
            } else {
                ((i * 7919) % 13) as f64
            }
        });
        let won: Vec<bool> = (0..n)
            .map(|i| (i % 10) as f64 + ((i * 31) % 5) as f64 > 8.0)
            .collect();
        let closed: Vec<i64> = (0..n as i64).collect();
        let ChosenL2 { l2, trials, .. } =
            choose_l2(&x, &won, &closed, &L2_GRID, &FitParams::default())
                .unwrap()
                .unwrap();
        assert_eq!(trials.len(), L2_GRID.len());
        let best = trials
            .iter()
            .map(|t| t.log_loss)
            .fold(f64::INFINITY, f64::min);
        let chosen = trials.iter().find(|t| t.l2 == l2).unwrap();
        assert_eq!(chosen.log_loss, best);
    }

    #[test]
    fn declines_when_later_deals_hold_one_class() {
        let x = array![[0.0], [1.0], [2.0], [3.0], [4.0], [5.0], [6.0], [7.0]];
        let won = [false, true, false, true, false, true, true, true];
        let closed = [1, 2, 3, 4, 5, 6, 7, 8];
        assert!(
            choose_l2(&x, &won, &closed, &L2_GRID, &FitParams::default())
                .unwrap()
                .is_none()
        );
    }
}
