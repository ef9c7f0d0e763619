//! Ranking and probability metrics, computed exactly (no binning), with ties handled
//! the way scikit-learn does so figures can be compared with Python peers.

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
pub fn log_loss(probability: &[f64], won: &[bool]) -> f64 {
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
pub fn brier(probability: &[f64], won: &[bool]) -> f64 {
    let total: f64 = probability
        .iter()
        .zip(won)
        .map(|(&p, &w)| (p - f64::from(u8::from(w))).powi(2))
        .sum();
    total / probability.len().max(1) as f64
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
    fn undefined_without_both_classes() {
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(roc_auc(&[0.1], &[true, false]), None);
    }
}
