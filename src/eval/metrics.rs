//! Ranking and probability metrics, computed exactly (no binning), with ties handled
//! the way scikit-learn does so figures can be compared with Python peers.

/// Probabilities judged against outcomes, as the holdout, each backtest row and the
/// benchmark report them. A ranking figure that cannot be had (one outcome only) is NaN.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub(crate) struct Metrics {
    /// Share of won.
    pub(crate) base_rate: f64,
    /// ROC AUC.
    pub(crate) roc_auc: f64,
    /// Area under the precision–recall curve (average precision).
    pub(crate) pr_auc: f64,
    /// Won rate in the top 10% by probability over the base rate.
    pub(crate) lift_top_decile: f64,
    /// Log loss (natural log).
    pub(crate) log_loss: f64,
    /// Brier score.
    pub(crate) brier: f64,
}

impl Metrics {
    /// The figures of `probability` against `won`.
    pub(crate) fn of(probability: &[f64], won: &[bool]) -> Self {
        Metrics {
            base_rate: won.iter().filter(|&&w| w).count() as f64 / won.len().max(1) as f64,
            roc_auc: roc_auc(probability, won).unwrap_or(f64::NAN),
            pr_auc: pr_auc(probability, won).unwrap_or(f64::NAN),
            lift_top_decile: lift_at(0.1, probability, won).unwrap_or(f64::NAN),
            log_loss: log_loss(probability, won),
            brier: brier(probability, won),
        }
    }
}

/// Area under the ROC curve: the chance that a random won lead scores above a random
/// lost one (ties count half). `None` when either class is absent or lengths differ.
pub fn roc_auc(scores: &[f64], won: &[bool]) -> Option<f64> {
    if scores.len() != won.len() {
        return None;
    }
    let positives = won.iter().filter(|&&w| w).count();
    let negatives = won.len() - positives;
    if positives == 0 || negatives == 0 || scores.iter().any(|s| s.is_nan()) {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (average, 1-based) ranks of the positives: Mann–Whitney U.
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = order[start..end].iter().filter(|&&i| won[i]).count();
        rank_sum += average_rank * tied_positives as f64;
        start = end;
    }
    let p = positives as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

/// Mean negative log-likelihood of the outcomes (natural log), probabilities clipped
/// away from 0 and 1 as scikit-learn does.
pub(crate) fn log_loss(probability: &[f64], won: &[bool]) -> f64 {
    let eps = 1e-15;
    let total: f64 = probability
        .iter()
        .zip(won)
        .map(|(&p, &w)| {
            let p = p.clamp(eps, 1.0 - eps);
            if w {
                -p.ln()
            } else {
                -(1.0 - p).ln()
            }
        })
        .sum();
    total / probability.len().max(1) as f64
}

/// Mean squared error of the probabilities against the 0/1 outcomes.
pub(crate) fn brier(probability: &[f64], won: &[bool]) -> f64 {
    let total: f64 = probability
        .iter()
        .zip(won)
        .map(|(&p, &w)| (p - f64::from(u8::from(w))).powi(2))
        .sum();
    total / probability.len().max(1) as f64
}

/// Average precision, the area under the precision–recall curve as scikit-learn's
/// `average_precision_score` computes it (a step sum over distinct score thresholds,
/// ties grouped). What matters when won deals are rare: how clean the top of the list is.
/// `None` when no lead won or lengths differ.
pub(crate) fn pr_auc(scores: &[f64], won: &[bool]) -> Option<f64> {
    let positives = won.iter().filter(|&&w| w).count();
    if scores.len() != won.len() || positives == 0 || scores.iter().any(|s| s.is_nan()) {
        return None;
    }
    let order = descending(scores);
    let (mut true_positives, mut seen, mut previous_recall, mut area) = (0usize, 0usize, 0.0, 0.0);
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        true_positives += order[start..end].iter().filter(|&&i| won[i]).count();
        seen = end;
        let recall = true_positives as f64 / positives as f64;
        let precision = true_positives as f64 / seen as f64;
        area += (recall - previous_recall) * precision;
        previous_recall = recall;
        start = end;
    }
    debug_assert_eq!(seen, order.len());
    Some(area)
}

/// Won rate among the top `share` of leads by score, divided by the overall won rate:
/// how many times better than calling at random the first calls are. Ties at the border
/// are broken by input order so the figure is deterministic. `None` without a win.
pub(crate) fn lift_at(share: f64, scores: &[f64], won: &[bool]) -> Option<f64> {
    let positives = won.iter().filter(|&&w| w).count();
    if scores.len() != won.len() || positives == 0 || !(share > 0.0 && share <= 1.0) {
        return None;
    }
    let take = ((scores.len() as f64 * share).ceil() as usize).clamp(1, scores.len());
    let order = descending(scores);
    let top_won = order[..take].iter().filter(|&&i| won[i]).count();
    let base_rate = positives as f64 / scores.len() as f64;
    Some(top_won as f64 / take as f64 / base_rate)
}

/// Row indices by score, highest first, ties in input order.
fn descending(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order
}

#[cfg(test)]
mod tests {
    #[test]
    fn log_loss_and_brier_match_hand_values() {
        let p = [0.8, 0.4];
        let won = [true, false];
        assert!((log_loss(&p, &won) - (-(0.8f64.ln()) - 0.6f64.ln()) / 2.0).abs() < 1e-12);
        assert!((brier(&p, &won) - (0.04 + 0.16) / 2.0).abs() < 1e-12);
    }

    use super::*;

    #[test]
    fn perfect_inverse_and_tied_rankings() {
        let won = [false, false, true, true];
        assert_eq!(roc_auc(&[0.1, 0.2, 0.8, 0.9], &won), Some(1.0));
        assert_eq!(roc_auc(&[0.9, 0.8, 0.2, 0.1], &won), Some(0.0));
        assert_eq!(roc_auc(&[0.5; 4], &won), Some(0.5));
    }

    #[test]
    fn matches_hand_computed_pairs() {
        // Pairs (pos, neg): (0.4 vs 0.1) win, (0.4 vs 0.4) tie, (0.4 vs 0.6) loss,
        // (0.7 vs all) three wins: (1 + 0.5 + 0 + 3) / 6.
        let scores = [0.1, 0.4, 0.6, 0.4, 0.7];
        let won = [false, false, false, true, true];
        assert!((roc_auc(&scores, &won).unwrap() - 4.5 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn average_precision_matches_scikit_learn() {
        // sklearn.metrics.average_precision_score([1,0,1,1,0], [0.9,0.8,0.7,0.4,0.4])
        // = 1/3 * 1 + 1/3 * 2/3 + 1/3 * 3/5 = 0.7555...
        let won = [true, false, true, true, false];
        let scores = [0.9, 0.8, 0.7, 0.4, 0.4];
        let expected = (1.0 + 2.0 / 3.0 + 3.0 / 5.0) / 3.0;
        assert!((pr_auc(&scores, &won).unwrap() - expected).abs() < 1e-12);
        assert_eq!(pr_auc(&[0.9, 0.1], &[true, false]), Some(1.0));
        assert_eq!(pr_auc(&[0.9, 0.1], &[false, false]), None);
    }

    #[test]
    fn lift_counts_won_in_the_top_share() {
        // 10 leads, 2 won; the top 10% (1 lead) is won: lift = 1 / 0.2 = 5.
        let scores: Vec<f64> = (0..10).map(|i| f64::from(i) / 10.0).collect();
        let mut won = [false; 10];
        won[9] = true;
        won[0] = true;
        assert!((lift_at(0.1, &scores, &won).unwrap() - 5.0).abs() < 1e-12);
        // The top half holds one of two wins: lift 1.
        assert!((lift_at(0.5, &scores, &won).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(lift_at(0.0, &scores, &won), None);
    }

    #[test]
    fn undefined_without_both_classes() {
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(roc_auc(&[0.1], &[true, false]), None);
    }
}
