//! Choosing the L2 strength by time, with expanding windows: the training deals, in the
//! order they closed, are cut at 55%, 70% and 85%; each fold fits on the deals before
//! its cut and validates on the deals up to the next one. The strength with the lowest
//! mean validation log loss wins (ties go to the stronger, simpler model), the log loss
//! taken after the one shift of the log-odds that fits the validating deals, so that a
//! change in the won rate (which no penalty can fix) does not decide the penalty. Earlier deals
//! never validate later ones, so the choice is judged the way the model is used; three
//! folds instead of one keep a few hundred deals' noise from deciding.

use ndarray::{Array2, Axis, ShapeBuilder};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::train::{ClassWeight, Feature, FitParams, PreparedRows, SolverState};
use crate::error::Result;
use crate::eval::metrics::{log_loss, roc_auc};

/// Strengths tried when the user leaves `--l2` on `auto` (per training row).
pub(crate) const L2_GRID: [f64; 8] = [1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0];

/// Training rows above which the search fits a sample of whole leads (see
/// `pipeline`): beyond this the chosen strength hardly moves the holdout, and the
/// search's fits would cost more than the rest of training.
pub(crate) const SEARCH_ROWS: usize = 60_000;

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
    pub(crate) l2: f64,
    /// Mean log loss over the folds' validating deals, after the best shift of the
    /// log-odds on each (a change in the won rate is not the penalty's fault).
    pub(crate) log_loss: f64,
    /// Mean ROC AUC over the folds' validating deals.
    pub(crate) roc_auc: f64,
}

/// What the search found.
#[derive(Debug, Clone)]
pub(crate) struct ChosenL2 {
    /// The strength with the lowest mean log loss.
    pub(crate) l2: f64,
    /// Every candidate's result, in grid order.
    pub(crate) trials: Vec<L2Trial>,
    /// Where the solver ended at the chosen strength on the largest fold: a warm start
    /// for the fit on all training rows, which it nearly is (none when the strength
    /// was not on the grid).
    pub(crate) start: Option<SolverState>,
    /// The search could not judge and fell back on scikit-learn's C = 1: a penalty of
    /// 1/n for whatever n rows each fit has (`l2` is that for the search's rows).
    pub(crate) plain: bool,
    /// When the grid was widened past an edge, what happened, in one sentence.
    pub(crate) widened: Option<String>,
}

/// The chosen strength and every candidate's result; `None` when some fold's deals do
/// not hold both won and lost (the caller falls back to its default and says so).
///
/// A best value at the grid's edge means the optimum may lie beyond it: the grid is
/// then extended tenfold past that edge, up to [`MAX_WIDENINGS`] times, and the result
/// says so.
pub(crate) fn choose_l2(
    x: &Array2<f64>,
    won: &[bool],
    closed_at: &[i64],
    grid: &[f64],
    fit: &FitParams,
    on_fit: &(dyn Fn(usize, usize) + Sync),
) -> Result<Option<ChosenL2>> {
    let Some(folds) = folds(won, closed_at) else {
        return Ok(None);
    };
    let folds: Vec<Fold> = folds
        .into_iter()
        .map(|(fit_rows, check_rows)| {
            let y_fit: Vec<bool> = fit_rows.iter().map(|&i| won[i]).collect();
            Ok(Fold {
                fit: PreparedRows::of_rows(x, Some(&fit_rows), &y_fit)?,
                x_check: rows_of(x, &check_rows),
                y_check: check_rows.iter().map(|&i| won[i]).collect(),
            })
        })
        .collect::<Result<_>>()?;
    // Weighting moves only the intercept; judge candidates on calibrated probabilities.
    let unweighted = FitParams {
        class_weight: ClassWeight::None,
        ..fit.clone()
    };
    let mut grid: Vec<f64> = grid.to_vec();
    grid.sort_by(f64::total_cmp);
    let mut widened = Vec::new();
    loop {
        let (trials, per_fold) = walk_grid(&folds, &grid, &unweighted, on_fit)?;
        let best = (0..grid.len()).min_by(|&a, &b| {
            trials[a]
                .log_loss
                .total_cmp(&trials[b].log_loss)
                .then(grid[b].total_cmp(&grid[a]))
        });
        let Some(best) = best else {
            return Ok(None);
        };
        let skill = trials
            .iter()
            .map(|t| t.roc_auc)
            .fold(f64::NEG_INFINITY, f64::max);
        if skill.is_nan() || skill < NO_SKILL_AUC {
            // Later training deals are ranked no better than chance at any strength:
            // the folds cannot tell strengths apart, and the strongest would only
            // flatten the model. Fall back on the plain analyst's convention,
            // scikit-learn's default C = 1: a penalty of 1/n per row.
            let plain = 1.0 / won.len().max(1) as f64;
            return Ok(Some(ChosenL2 {
                l2: plain,
                trials,
                start: None,
                plain: true,
                widened: Some(format!(
                    "no L2 strength ranks the later training deals better than chance (best mean ROC AUC over the time folds {skill:.3}), so the search cannot judge; using {plain:.3e} per row, scikit-learn's default (C = 1). The data may drift over time: compare the periods in `leadscore compare`"
                )),
            }));
        }
        let at_low = best == 0 && grid[0] > MIN_L2;
        let at_high = best + 1 == grid.len() && grid[best] < MAX_L2;
        if (at_low || at_high) && widened.len() < MAX_WIDENINGS {
            let edge = grid[best];
            widened.push(edge);
            grid.push(if at_low { edge / 10.0 } else { edge * 10.0 });
            grid.sort_by(f64::total_cmp);
            continue;
        }
        let largest_fold = per_fold.last().map(|fold| &fold.states);
        let Some(start) = largest_fold.and_then(|states| states[best].clone()) else {
            return Ok(None);
        };
        let note = (!widened.is_empty()).then(|| {
            format!(
                "the best L2 strength was at the edge of the grid ({}), so the grid was widened to {}..{}; chose {}{}",
                widened
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", then "),
                grid[0],
                grid[grid.len() - 1],
                grid[best],
                if at_low || at_high {
                    " (still at the edge: the data may want an even weaker or stronger penalty)"
                } else {
                    ""
                }
            )
        });
        return Ok(Some(ChosenL2 {
            l2: grid[best],
            trials,
            start: Some(start),
            plain: false,
            widened: note,
        }));
    }
}

/// Below this mean validation ROC AUC at every strength, the folds are noise.
const NO_SKILL_AUC: f64 = 0.55;

/// How many times the grid may be extended past an edge.
pub(crate) const MAX_WIDENINGS: usize = 3;
/// The grid is never widened below this strength per row.
const MIN_L2: f64 = 1e-8;
/// Nor above this one.
const MAX_L2: f64 = 1e3;

/// Every fold walks the grid from the strongest strength to the weakest, each fit
/// warm-started from the previous one; folds run in parallel. Returns each strength's
/// mean result (in grid order) and each fold's path.
fn walk_grid(
    folds: &[Fold],
    grid: &[f64],
    params: &FitParams,
    on_fit: &(dyn Fn(usize, usize) + Sync),
) -> Result<(Vec<L2Trial>, Vec<FoldPath>)> {
    let total = folds.len() * grid.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
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
                    ..params.clone()
                };
                let fitted = fold.fit.fit(&params, state.as_ref())?;
                let z = fitted.model.log_odds(&fold.x_check).to_vec();
                let p: Vec<f64> = z.iter().map(|&z| sigmoid(z)).collect();
                found[g] = (
                    shift_corrected_log_loss(&z, &fold.y_check),
                    roc_auc(&p, &fold.y_check).unwrap_or(f64::NAN),
                );
                states[g] = Some(fitted.state.clone());
                state = Some(fitted.state);
                on_fit(
                    done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                    total,
                );
            }
            Ok(FoldPath { found, states })
        })
        .collect::<Result<_>>()?;
    let trials = grid
        .iter()
        .enumerate()
        .map(|(g, &l2)| {
            let mean = |pick: fn(&(f64, f64)) -> f64| {
                per_fold.iter().map(|f| pick(&f.found[g])).sum::<f64>() / per_fold.len() as f64
            };
            L2Trial {
                l2,
                log_loss: mean(|r| r.0),
                roc_auc: mean(|r| r.1),
            }
        })
        .collect();
    Ok((trials, per_fold))
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Log loss of `log_odds` after the one shift of all log-odds that fits the validating
/// deals best (Newton steps on the intercept). A change in the won rate between the
/// fitting and the validating deals is a shift no L2 strength can undo; judged without
/// this correction, the search rewards whichever strength shrinks predictions towards
/// the old rate, whatever that does to the ranking.
fn shift_corrected_log_loss(log_odds: &[f64], won: &[bool]) -> f64 {
    let mut shift = 0.0;
    for _ in 0..50 {
        let (mut gradient, mut curvature) = (0.0, 0.0);
        for (&z, &w) in log_odds.iter().zip(won) {
            let p = sigmoid(z + shift);
            gradient += p - if w { 1.0 } else { 0.0 };
            curvature += p * (1.0 - p);
        }
        if curvature <= 1e-12 {
            break;
        }
        let step = (gradient / curvature).clamp(-5.0, 5.0);
        shift -= step;
        if step.abs() < 1e-10 {
            break;
        }
    }
    let p: Vec<f64> = log_odds.iter().map(|&z| sigmoid(z + shift)).collect();
    log_loss(&p, won)
}

/// One fold's walk along the grid: (log loss, ROC AUC) on its validating deals and the
/// solver's end state, per grid strength.
struct FoldPath {
    found: Vec<(f64, f64)>,
    states: Vec<Option<SolverState>>,
}

/// One expanding-window fold: its fitting rows prepared once for the whole walk, its
/// validating rows as they are.
struct Fold {
    fit: PreparedRows,
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
pub(crate) fn rows_of<T: Feature>(x: &Array2<T>, rows: &[usize]) -> Array2<f64> {
    let mut out = Array2::zeros((rows.len(), x.ncols()).f());
    for (mut column, values) in out.axis_iter_mut(Axis(1)).zip(x.axis_iter(Axis(1))) {
        for (o, &i) in column.iter_mut().zip(rows) {
            *o = values[i].into();
        }
    }
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
        let ChosenL2 { l2, trials, .. } = choose_l2(
            &x,
            &won,
            &closed,
            &L2_GRID,
            &FitParams::default(),
            &|_, _| {},
        )
        .unwrap()
        .unwrap();
        assert!(trials.len() >= L2_GRID.len());
        let best = trials
            .iter()
            .map(|t| t.log_loss)
            .fold(f64::INFINITY, f64::min);
        let chosen = trials.iter().find(|t| t.l2 == l2).unwrap();
        assert_eq!(chosen.log_loss, best);
    }

    #[test]
    fn widens_the_grid_past_an_edge_and_says_so() {
        // One informative column among forty of noise and few rows: the folds want a
        // stronger penalty than a grid that stops at 1e-3 offers.
        let n = 150;
        let x = Array2::from_shape_fn((n, 41), |(i, j)| {
            if j == 0 {
                (i % 10) as f64
            } else {
                ((i * (j + 11) * 7919 + j * 104_729) % 101) as f64
            }
        });
        let won: Vec<bool> = (0..n)
            .map(|i| (i % 10) as f64 + ((i * 31) % 7) as f64 > 8.0)
            .collect();
        let closed: Vec<i64> = (0..n as i64).collect();
        let grid = [1e-4, 1e-3];
        let chosen = choose_l2(&x, &won, &closed, &grid, &FitParams::default(), &|_, _| {})
            .unwrap()
            .unwrap();
        assert!(chosen.l2 > 1e-3, "chose {}", chosen.l2);
        assert!(chosen.trials.len() > grid.len());
        let note = chosen.widened.expect("the widening is reported");
        assert!(note.contains("edge of the grid"), "{note}");
        // The same data with room on the grid is not widened.
        let wide = [1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1000.0];
        let inner = choose_l2(&x, &won, &closed, &wide, &FitParams::default(), &|_, _| {})
            .unwrap()
            .unwrap();
        assert!(
            inner.l2 < 1000.0 && inner.widened.is_none(),
            "{:?}",
            inner.widened
        );
    }

    #[test]
    fn falls_back_to_a_plain_penalty_when_no_strength_ranks_later_deals() {
        let n = 400;
        let x = Array2::from_shape_fn((n, 3), |(i, j)| ((i * (j + 7) * 7919) % 97) as f64);
        let won: Vec<bool> = (0..n).map(|i| (i * 2_654_435_761) % 7 < 3).collect();
        let closed: Vec<i64> = (0..n as i64).collect();
        let chosen = choose_l2(
            &x,
            &won,
            &closed,
            &L2_GRID,
            &FitParams::default(),
            &|_, _| {},
        )
        .unwrap()
        .unwrap();
        assert_eq!(chosen.l2, 1.0 / n as f64);
        assert!(chosen.widened.unwrap().contains("cannot judge"));
    }

    #[test]
    fn declines_when_later_deals_hold_one_class() {
        let x = array![[0.0], [1.0], [2.0], [3.0], [4.0], [5.0], [6.0], [7.0]];
        let won = [false, true, false, true, false, true, true, true];
        let closed = [1, 2, 3, 4, 5, 6, 7, 8];
        assert!(choose_l2(
            &x,
            &won,
            &closed,
            &L2_GRID,
            &FitParams::default(),
            &|_, _| {}
        )
        .unwrap()
        .is_none());
    }
}
