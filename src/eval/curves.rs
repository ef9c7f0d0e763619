//! Curves and tables behind the comparison report: ROC curve points, gains by decile,
//! calibration bins, histograms, and bootstrap intervals of the ranking metrics. Scores
//! are ranked once; each bootstrap draw then costs one pass over the ranked leads.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use serde::{Deserialize, Serialize};

/// A figure and its 95% bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// On all judged leads.
    pub value: f64,
    /// 2.5th percentile of the bootstrap.
    pub low: f64,
    /// 97.5th percentile of the bootstrap.
    pub high: f64,
}

/// One decile of leads ranked by a score, highest first.
#[derive(Debug, Clone, Serialize)]
pub struct GainRow {
    /// 1 is the top 10%.
    pub decile: usize,
    /// Leads in this decile.
    pub leads: usize,
    /// Won among them; leads tied across a decile border count in proportion, so the
    /// figure does not depend on input order (hence fractional).
    pub won: f64,
    /// Won rate in this decile.
    pub won_rate: f64,
    /// Share of all won deals found in deciles 1..=this one (the gains curve).
    pub cumulative_won_share: f64,
    /// Won rate of deciles 1..=this one over the base rate.
    pub cumulative_lift: f64,
}

/// One calibration bin.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationBin {
    /// Lower edge of predicted probability (inclusive).
    pub from: f64,
    /// Upper edge (exclusive, except 1.0).
    pub to: f64,
    /// Leads in the bin.
    pub leads: usize,
    /// Mean predicted probability in the bin.
    pub mean_predicted: f64,
    /// Observed won rate in the bin.
    pub won_rate: f64,
}

/// Counts per bin; `edges` has one more entry than each count list.
#[derive(Debug, Clone, Serialize)]
pub struct Histogram {
    /// Bin edges, ascending.
    pub edges: Vec<f64>,
    /// Won leads per bin.
    pub won: Vec<usize>,
    /// Lost leads per bin.
    pub lost: Vec<usize>,
}

/// Row indices by score, highest first, ties in input order.
pub(super) fn descending(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order
}

/// Groups of tied scores along `order`, as (start, end) ranges.
pub(super) fn tie_groups(scores: &[f64], order: &[usize]) -> Vec<(usize, usize)> {
    let mut groups = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        groups.push((start, end));
        start = end;
    }
    groups
}

/// ROC curve points (false positive rate, true positive rate) at every distinct score,
/// from (0, 0) to (1, 1), thinned to at most `max_points` for drawing.
pub(crate) fn roc_curve(scores: &[f64], won: &[bool], max_points: usize) -> Vec<(f64, f64)> {
    let order = descending(scores);
    let positives = won.iter().filter(|&&w| w).count().max(1) as f64;
    let negatives = (won.len() - won.iter().filter(|&&w| w).count()).max(1) as f64;
    let mut points = vec![(0.0, 0.0)];
    let (mut tp, mut fp) = (0usize, 0usize);
    for (start, end) in tie_groups(scores, &order) {
        for &i in &order[start..end] {
            if won[i] {
                tp += 1;
            } else {
                fp += 1;
            }
        }
        points.push((fp as f64 / negatives, tp as f64 / positives));
    }
    if points.len() > max_points && max_points >= 2 {
        let step = points.len() as f64 / (max_points - 1) as f64;
        let last = *points.last().unwrap_or(&(1.0, 1.0));
        let mut thinned: Vec<(f64, f64)> = (0..max_points - 1)
            .map(|k| points[(k as f64 * step) as usize])
            .collect();
        thinned.push(last);
        return thinned;
    }
    points
}

/// Ten groups of leads by score, highest first, with the won rate of each and the
/// cumulative share of won deals found. Leads tied across a decile border are shared in
/// proportion (the expected split under a random tie-break), so the figures do not
/// depend on row order.
pub(crate) fn gains(scores: &[f64], won: &[bool]) -> Vec<GainRow> {
    let order = descending(scores);
    let groups = tie_groups(scores, &order);
    let n = order.len();
    let total_won = won.iter().filter(|&&w| w).count();
    let base_rate = total_won as f64 / n.max(1) as f64;
    // Won count of each tie group, by position in the ranking.
    let group_won: Vec<(usize, usize, f64)> = groups
        .iter()
        .map(|&(start, end)| {
            let w = order[start..end].iter().filter(|&&i| won[i]).count();
            (start, end, w as f64)
        })
        .collect();
    let mut rows = Vec::with_capacity(10);
    let (mut seen, mut seen_won) = (0usize, 0.0f64);
    for decile in 1..=10 {
        let (from, to) = (seen, n * decile / 10);
        let decile_won: f64 = group_won
            .iter()
            .filter(|&&(start, end, _)| start < to && end > from)
            .map(|&(start, end, w)| {
                let overlap = end.min(to) - start.max(from);
                w * overlap as f64 / (end - start) as f64
            })
            .sum();
        seen = to;
        seen_won += decile_won;
        let leads = to - from;
        rows.push(GainRow {
            decile,
            leads,
            won: decile_won,
            won_rate: if leads == 0 {
                f64::NAN
            } else {
                decile_won / leads as f64
            },
            cumulative_won_share: if total_won == 0 {
                f64::NAN
            } else {
                seen_won / total_won as f64
            },
            cumulative_lift: if seen == 0 {
                f64::NAN
            } else {
                seen_won / seen as f64 / base_rate
            },
        });
    }
    rows
}

/// Calibration in ten bins of predicted probability (0–0.1, …, 0.9–1.0); empty bins
/// are kept so tables line up.
pub(crate) fn calibration(probability: &[f64], won: &[bool]) -> Vec<CalibrationBin> {
    let mut sums = [(0usize, 0.0f64, 0usize); 10];
    for (&p, &w) in probability.iter().zip(won) {
        let bin = ((p * 10.0).floor() as usize).min(9);
        sums[bin].0 += 1;
        sums[bin].1 += p;
        sums[bin].2 += usize::from(w);
    }
    sums.iter()
        .enumerate()
        .map(|(b, &(leads, total, won))| CalibrationBin {
            from: b as f64 / 10.0,
            to: (b + 1) as f64 / 10.0,
            leads,
            mean_predicted: if leads == 0 {
                f64::NAN
            } else {
                total / leads as f64
            },
            won_rate: ratio(won, leads),
        })
        .collect()
}

/// Counts of won and lost per equal-width bin between the scores' min and max.
pub(crate) fn histogram(scores: &[f64], won: &[bool], bins: usize) -> Histogram {
    let finite = scores.iter().copied().filter(|s| s.is_finite());
    let low = finite.clone().fold(f64::INFINITY, f64::min);
    let high = finite.fold(f64::NEG_INFINITY, f64::max);
    let (low, high) = if low.is_finite() && high > low {
        (low, high)
    } else if low.is_finite() {
        (low - 0.5, low + 0.5)
    } else {
        (0.0, 1.0)
    };
    let width = (high - low) / bins as f64;
    let mut h = Histogram {
        edges: (0..=bins).map(|k| low + width * k as f64).collect(),
        won: vec![0; bins],
        lost: vec![0; bins],
    };
    for (&s, &w) in scores.iter().zip(won) {
        if !s.is_finite() {
            continue;
        }
        let bin = (((s - low) / width).floor() as usize).min(bins - 1);
        if w {
            h.won[bin] += 1;
        } else {
            h.lost[bin] += 1;
        }
    }
    h
}

/// ROC AUC and PR AUC, each with a 95% interval from `draws` bootstrap resamples of the
/// leads (seeded: the same inputs give the same interval).
pub(crate) fn bootstrap_auc(
    scores: &[f64],
    won: &[bool],
    draws: usize,
    seed: u64,
) -> (Interval, Interval) {
    let order = descending(scores);
    let groups = tie_groups(scores, &order);
    let ones = vec![1u32; scores.len()];
    let (roc, pr) = weighted_aucs(&order, &groups, won, &ones);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rocs = Vec::with_capacity(draws);
    let mut prs = Vec::with_capacity(draws);
    let mut weights = vec![0u32; scores.len()];
    for _ in 0..draws {
        weights.iter_mut().for_each(|w| *w = 0);
        for _ in 0..scores.len() {
            weights[rng.gen_range(0..scores.len())] += 1;
        }
        let (r, p) = weighted_aucs(&order, &groups, won, &weights);
        if r.is_finite() {
            rocs.push(r);
        }
        if p.is_finite() {
            prs.push(p);
        }
    }
    (interval(roc, rocs), interval(pr, prs))
}

/// ROC AUC (ties count half) and average precision with each lead counted `weight`
/// times, along a ranking computed once.
pub(super) fn weighted_aucs(
    order: &[usize],
    groups: &[(usize, usize)],
    won: &[bool],
    weight: &[u32],
) -> (f64, f64) {
    let total_pos: f64 = order
        .iter()
        .filter(|&&i| won[i])
        .map(|&i| f64::from(weight[i]))
        .sum();
    let total: f64 = weight.iter().map(|&w| f64::from(w)).sum();
    let total_neg = total - total_pos;
    if total_pos == 0.0 || total_neg == 0.0 {
        return (f64::NAN, f64::NAN);
    }
    // Walking from the highest score down: a positive beats every negative below it.
    let (mut neg_above, mut pairs) = (0.0, 0.0);
    let (mut tp, mut seen, mut previous_recall, mut ap) = (0.0, 0.0, 0.0, 0.0);
    for &(start, end) in groups {
        let (mut pos, mut neg) = (0.0, 0.0);
        for &i in &order[start..end] {
            let w = f64::from(weight[i]);
            if won[i] {
                pos += w;
            } else {
                neg += w;
            }
        }
        pairs += pos * (total_neg - neg_above - neg) + 0.5 * pos * neg;
        neg_above += neg;
        tp += pos;
        seen += pos + neg;
        if seen > 0.0 {
            let recall = tp / total_pos;
            ap += (recall - previous_recall) * (tp / seen);
            previous_recall = recall;
        }
    }
    (pairs / (total_pos * total_neg), ap)
}

pub(super) fn interval(value: f64, mut draws: Vec<f64>) -> Interval {
    if draws.is_empty() {
        return Interval {
            value,
            low: f64::NAN,
            high: f64::NAN,
        };
    }
    draws.sort_by(f64::total_cmp);
    let at = |q: f64| draws[((draws.len() - 1) as f64 * q).round() as usize];
    Interval {
        value,
        low: at(0.025),
        high: at(0.975),
    }
}

/// `part / whole`, NaN when `whole` is 0.
pub(crate) fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        f64::NAN
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::metrics::{pr_auc, roc_auc};

    #[test]
    fn unweighted_figures_match_the_exact_metrics() {
        let scores = [0.9, 0.8, 0.7, 0.4, 0.4, 0.1, 0.6, 0.4];
        let won = [true, false, true, true, false, false, true, false];
        let (roc, pr) = bootstrap_auc(&scores, &won, 50, 1);
        assert!((roc.value - roc_auc(&scores, &won).unwrap()).abs() < 1e-12);
        assert!((pr.value - pr_auc(&scores, &won).unwrap()).abs() < 1e-12);
        assert!(roc.low <= roc.value && roc.value <= roc.high);
        assert_eq!(bootstrap_auc(&scores, &won, 50, 1).0.low, roc.low);
    }

    #[test]
    fn gains_and_calibration_by_hand() {
        // 10 leads, one per decile; the top two are won.
        let scores: Vec<f64> = (0..10).map(|i| 1.0 - f64::from(i) / 10.0).collect();
        let won: Vec<bool> = (0..10).map(|i| i < 2).collect();
        let g = gains(&scores, &won);
        assert_eq!(g.len(), 10);
        assert_eq!((g[0].won, g[1].won, g[2].won), (1.0, 1.0, 0.0));
        assert_eq!(g[1].cumulative_won_share, 1.0);
        // All tied: every decile gets its share of the two wins, whatever the order.
        let tied = gains(&[0.5; 10], &won);
        assert!(tied.iter().all(|r| (r.won - 0.2).abs() < 1e-12));
        let reversed: Vec<bool> = won.iter().rev().copied().collect();
        assert_eq!(
            gains(&[0.5; 10], &reversed)
                .iter()
                .map(|r| r.won)
                .collect::<Vec<_>>(),
            tied.iter().map(|r| r.won).collect::<Vec<_>>()
        );
        assert!((g[0].cumulative_lift - 5.0).abs() < 1e-12);
        let c = calibration(&[0.05, 0.15, 0.12, 0.95], &[false, true, false, true]);
        assert_eq!(c[1].leads, 2);
        assert!((c[1].mean_predicted - 0.135).abs() < 1e-12);
        assert_eq!(c[1].won_rate, 0.5);
        assert_eq!(c[9].won_rate, 1.0);
        assert!(c[5].won_rate.is_nan());
    }

    #[test]
    fn roc_curve_runs_corner_to_corner() {
        let curve = roc_curve(&[0.9, 0.1, 0.5, 0.5], &[true, false, true, false], 100);
        assert_eq!(curve.first(), Some(&(0.0, 0.0)));
        assert_eq!(curve.last(), Some(&(1.0, 1.0)));
        let h = histogram(&[0.0, 1.0, 0.5], &[true, false, false], 2);
        assert_eq!((h.won.clone(), h.lost.clone()), (vec![1, 0], vec![0, 2]));
    }
}
