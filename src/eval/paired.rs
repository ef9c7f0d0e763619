//! Two models judged on the same rows, for the publish gate: their ROC AUCs and the
//! difference, each with a 95% interval from one paired bootstrap. Paired, because both
//! scored the same leads: resampling the leads once per draw for both cancels the
//! leads' own difficulty, which is most of each AUC's noise. Resampled by deal, because
//! one deal is judged at several dates and those rows rise and fall together.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::curves::{descending, interval, tie_groups, weighted_aucs, Interval};

/// The ROC AUC of each model and of the difference, with 95% intervals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedAuc {
    /// The candidate's ROC AUC.
    pub candidate: Interval,
    /// The current model's ROC AUC.
    pub current: Interval,
    /// Candidate minus current.
    pub difference: Interval,
}

/// ROC AUCs of `candidate` and `current` over the same rows labelled `won`, resampling
/// the groups of `group` (a deal's number on each row) `draws` times (seeded: the same
/// inputs give the same intervals).
pub(crate) fn paired_auc(
    candidate: &[f64],
    current: &[f64],
    won: &[bool],
    group: &[usize],
    draws: usize,
    seed: u64,
) -> PairedAuc {
    let ranked = |scores: &[f64]| {
        let order = descending(scores);
        let groups = tie_groups(scores, &order);
        (order, groups)
    };
    let (a_order, a_ties) = ranked(candidate);
    let (b_order, b_ties) = ranked(current);
    let ones = vec![1u32; won.len()];
    let a = weighted_aucs(&a_order, &a_ties, won, &ones).0;
    let b = weighted_aucs(&b_order, &b_ties, won, &ones).0;
    let groups = group.iter().max().map_or(0, |g| g + 1);
    let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); groups];
    for (row, &g) in group.iter().enumerate() {
        rows_of[g].push(row);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut a_draws, mut b_draws, mut d_draws) = (Vec::new(), Vec::new(), Vec::new());
    let mut weights = vec![0u32; won.len()];
    for _ in 0..draws {
        weights.iter_mut().for_each(|w| *w = 0);
        for _ in 0..groups {
            for &row in &rows_of[rng.gen_range(0..groups)] {
                weights[row] += 1;
            }
        }
        let a = weighted_aucs(&a_order, &a_ties, won, &weights).0;
        let b = weighted_aucs(&b_order, &b_ties, won, &weights).0;
        if a.is_finite() && b.is_finite() {
            a_draws.push(a);
            b_draws.push(b);
            d_draws.push(a - b);
        }
    }
    PairedAuc {
        candidate: interval(a, a_draws),
        current: interval(b, b_draws),
        difference: interval(a - b, d_draws),
    }
}

/// Each row's group (its deal) as a number `0..groups`, in order of first appearance,
/// from the rows' lead ids: what [`paired_auc`] resamples.
pub(crate) fn group_numbers<'a>(leads: impl IntoIterator<Item = &'a str>) -> Vec<usize> {
    let mut numbers: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    leads
        .into_iter()
        .map(|lead| {
            let next = numbers.len();
            *numbers.entry(lead).or_insert(next)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores that rank `won` with some noise, deal by deal.
    fn scores(won: &[bool], noise: u64, strength: f64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(noise);
        won.iter()
            .map(|&w| f64::from(u8::from(w)) * strength + rng.gen_range(0.0..1.0))
            .collect()
    }

    #[test]
    fn the_same_scores_differ_by_exactly_nothing() {
        let won: Vec<bool> = (0..200).map(|i| i % 3 == 0).collect();
        let group: Vec<usize> = (0..200).map(|i| i / 2).collect();
        let s = scores(&won, 1, 0.5);
        let paired = paired_auc(&s, &s, &won, &group, 200, 7);
        assert_eq!(paired.candidate.value, paired.current.value);
        assert_eq!((paired.difference.low, paired.difference.high), (0.0, 0.0));
    }

    #[test]
    fn a_clearly_better_model_wins_beyond_chance_and_a_tie_does_not() {
        let won: Vec<bool> = (0..1000).map(|i| i % 4 == 0).collect();
        let group: Vec<usize> = (0..1000).collect();
        let good = scores(&won, 1, 0.8);
        let weak = scores(&won, 2, 0.1);
        let better = paired_auc(&good, &weak, &won, &group, 300, 7);
        assert!(better.difference.low > 0.0, "{better:?}");
        assert!(better.candidate.low > better.current.high);
        let alike = paired_auc(
            &scores(&won, 3, 0.5),
            &scores(&won, 4, 0.5),
            &won,
            &group,
            300,
            7,
        );
        assert!(
            alike.difference.low < 0.0 && alike.difference.high > 0.0,
            "{alike:?}"
        );
        // Seeded: the same inputs, the same intervals.
        assert_eq!(better, paired_auc(&good, &weak, &won, &group, 300, 7));
    }

    #[test]
    fn rows_of_one_deal_are_drawn_together() {
        // Each deal judged at 5 dates with the same scores: resampling by deal gives a
        // wider interval than pretending the 5 rows were 5 deals.
        let deals = 80;
        let won: Vec<bool> = (0..deals * 5).map(|i| (i / 5) % 3 == 0).collect();
        let a = scores(&won, 5, 0.4);
        let a: Vec<f64> = (0..deals * 5).map(|i| a[i / 5 * 5]).collect();
        let b = scores(&won, 6, 0.4);
        let b: Vec<f64> = (0..deals * 5).map(|i| b[i / 5 * 5]).collect();
        let by_deal: Vec<usize> = (0..deals * 5).map(|i| i / 5).collect();
        let by_row: Vec<usize> = (0..deals * 5).collect();
        let width = |p: PairedAuc| p.difference.high - p.difference.low;
        assert!(
            width(paired_auc(&a, &b, &won, &by_deal, 400, 9))
                > 1.5 * width(paired_auc(&a, &b, &won, &by_row, 400, 9))
        );
    }
}
