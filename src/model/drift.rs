//! Reference distributions for drift checks: at training time every feature and the
//! predicted probability are summarised as quantile bins with the share of training rows
//! in each, and stored in the artifact. A later lead base can then be compared with the
//! population stability index (PSI) without the training data, which is what a nightly
//! rescoring job needs to notice that a model trained on last year's leads no longer fits.

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Quantile bins at most per feature.
pub(crate) const DRIFT_BINS: usize = 10;

/// Shares below this are floored before taking logarithms (an empty bin would make PSI
/// infinite).
const SHARE_FLOOR: f64 = 1e-4;

/// Distributions of every feature (in matrix column order) and of the predicted
/// probability over the lead base as scored at the end of the training data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReference {
    /// One per feature.
    pub(crate) features: Vec<Bins>,
    /// Of the predicted probability on the training rows.
    pub(crate) probability: Bins,
}

/// Cut points and the share of reference values between them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Bins {
    /// Inner cut points, strictly ascending; bin k holds values in
    /// `[edges[k-1], edges[k])`, with open ends.
    pub(crate) edges: Vec<f64>,
    /// Share of reference values per bin (`edges.len() + 1` of them, summing to 1).
    pub(crate) shares: Vec<f64>,
}

impl Bins {
    /// Quantile bins of `values` (at most `max_bins`; tied quantiles merge, so a 0/1
    /// feature gets two bins).
    pub(crate) fn learn(values: &[f64], max_bins: usize) -> Bins {
        let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let mut edges: Vec<f64> = Vec::new();
        if let Some(minimum) = finite.iter().copied().min_by(f64::total_cmp) {
            let n = finite.len();
            // The quantiles are order statistics: each is selected in the part of the
            // values above the previous one, no full sort needed.
            let mut below = 0;
            for k in 1..max_bins.max(1) {
                let position = (n * k / max_bins).min(n - 1);
                let (_, &mut cut, _) =
                    finite[below..].select_nth_unstable_by(position - below, f64::total_cmp);
                below = position;
                // A cut equal to the minimum would leave the first bin empty.
                if cut > minimum && edges.last().is_none_or(|&last| cut > last) {
                    edges.push(cut);
                }
            }
        }
        let mut bins = Bins {
            shares: Vec::new(),
            edges,
        };
        bins.shares = bins.shares_of(values);
        bins
    }

    /// Count of `values` in each bin (non-finite values are ignored); counts of parts
    /// of a population add up, so a lead base can be checked in partitions.
    pub(crate) fn counts_of(&self, values: &[f64]) -> Vec<usize> {
        let mut counts = vec![0usize; self.edges.len() + 1];
        for &v in values.iter().filter(|v| v.is_finite()) {
            counts[self.edges.partition_point(|&e| e <= v)] += 1;
        }
        counts
    }

    /// Share of `values` in each bin (non-finite values are ignored).
    pub(crate) fn shares_of(&self, values: &[f64]) -> Vec<f64> {
        shares(&self.counts_of(values))
    }

    /// Population stability index of `values` against the reference: below 0.1 is
    /// usually read as stable, above 0.25 as a shift worth acting on.
    pub(crate) fn psi(&self, values: &[f64]) -> f64 {
        self.psi_of_counts(&self.counts_of(values))
    }

    /// The same from bin counts (see [`counts_of`](Self::counts_of)).
    pub(crate) fn psi_of_counts(&self, counts: &[usize]) -> f64 {
        shares(counts)
            .iter()
            .zip(&self.shares)
            .map(|(&actual, &expected)| {
                let (a, e) = (actual.max(SHARE_FLOOR), expected.max(SHARE_FLOOR));
                (a - e) * (a / e).ln()
            })
            .sum()
    }
}

fn shares(counts: &[usize]) -> Vec<f64> {
    let total: usize = counts.iter().sum();
    counts
        .iter()
        .map(|&c| {
            if total == 0 {
                0.0
            } else {
                c as f64 / total as f64
            }
        })
        .collect()
}

/// The reference of a feature matrix and its predicted probabilities.
pub(crate) fn reference(x: &Array2<f64>, probability: &[f64]) -> DriftReference {
    DriftReference {
        features: (0..x.ncols())
            .into_par_iter()
            .map(|j| Bins::learn(&x.column(j).to_vec(), DRIFT_BINS))
            .collect(),
        probability: Bins::learn(probability, DRIFT_BINS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_distribution_is_stable_and_a_shift_is_not() {
        let reference: Vec<f64> = (0..1000).map(|i| f64::from(i % 100)).collect();
        let bins = Bins::learn(&reference, 10);
        assert_eq!(bins.shares.len(), bins.edges.len() + 1);
        assert!((bins.shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(bins.psi(&reference) < 1e-12);
        let shifted: Vec<f64> = reference.iter().map(|v| v + 40.0).collect();
        assert!(bins.psi(&shifted) > 0.25, "{}", bins.psi(&shifted));
    }

    #[test]
    fn selected_quantiles_are_the_sorted_ones() {
        let values: Vec<f64> = (0..5003)
            .map(|i| ((i * 7919) % 1013) as f64 / 7.0 - if i % 11 == 0 { f64::NAN } else { 0.0 })
            .collect();
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let mut expected = Vec::new();
        for k in 1..10 {
            let cut = sorted[(sorted.len() * k / 10).min(sorted.len() - 1)];
            if cut > sorted[0] && expected.last().is_none_or(|&last| cut > last) {
                expected.push(cut);
            }
        }
        assert_eq!(Bins::learn(&values, 10).edges, expected);
        assert!(Bins::learn(&[f64::NAN], 10).edges.is_empty());
    }

    #[test]
    fn indicator_features_get_two_bins() {
        let values = [0.0, 0.0, 0.0, 1.0];
        let bins = Bins::learn(&values, 10);
        assert_eq!(bins.edges, [1.0]);
        assert_eq!(bins.shares, [0.75, 0.25]);
        assert!(bins.psi(&[1.0, 1.0, 1.0, 0.0]) > 0.25);
        let constant = Bins::learn(&[3.0; 5], 10);
        assert!(constant.edges.is_empty());
        assert!(constant.psi(&[3.0, 3.0]) < 1e-12);
    }
}
