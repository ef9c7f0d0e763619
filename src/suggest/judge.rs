//! Suggested rules measured on history, through the same judging as `compare`
//! (`OpenLeads`): the leads open at evaluation dates scored as of each date by rule
//! points and by the model, the sales-ready threshold that meets a precision or volume
//! target, and the rule engine's check of the suggested text.

use crate::data::{floats, Tables};
use crate::error::{Error, Result};
use crate::eval::metrics::roc_auc;
use crate::features::cutoffs::typical_open_time;
use crate::model::judging::OpenLeads;
use crate::model::Model;
use crate::points::config::parse;
use crate::points::PointModel;

/// The leads open at evaluation dates over the whole history, as of each date, with the
/// model's probability of each: what every rule set is measured against.
pub(crate) struct Judging {
    /// The (date, open lead) pairs and how each closed.
    pub(crate) open: OpenLeads,
    /// The model's probability of each pair.
    pub(crate) probability: Vec<f64>,
}

impl Judging {
    /// The pairs at dates a typical deal's open time apart, scored by the model once.
    pub(crate) fn of(model: &Model, tables: &Tables) -> Result<Self> {
        let every = typical_open_time(&tables.leads, &tables.outcomes)?;
        let open = OpenLeads::at(tables, &OpenLeads::dates(tables, every, None)?)?;
        let probability = floats(&open.scored(model, tables, false)?.table, "probability")?;
        Ok(Judging { open, probability })
    }

    /// The threshold meeting a precision or volume target on `points` (of these pairs).
    pub(crate) fn threshold(
        &self,
        points: &[f64],
        precision: Option<f64>,
        volume: Option<f64>,
    ) -> Option<f64> {
        let won = &self.open.won;
        let mut order: Vec<usize> = (0..points.len()).collect();
        order.sort_by(|&a, &b| points[b].total_cmp(&points[a]));
        if let Some(share) = volume {
            let k = ((order.len() as f64 * share).ceil() as usize).clamp(1, order.len());
            return Some(points[order[k - 1]]);
        }
        let target = precision?;
        // The lowest score whose leads at or above it still win at the target rate.
        let (mut won_above, mut best) = (0usize, None);
        for (seen, &i) in order.iter().enumerate() {
            won_above += usize::from(won[i]);
            let next_differs = order.get(seen + 1).is_none_or(|&n| points[n] != points[i]);
            if next_differs && won_above as f64 / (seen + 1) as f64 >= target {
                best = Some(points[i]);
            }
        }
        best
    }

    /// How the suggested points rank these pairs beside the model and the current rules,
    /// and what a sales-ready threshold of `sales_ready_from` selects.
    pub(crate) fn measure(
        &self,
        suggested: &[f64],
        current: &[f64],
        sales_ready_from: f64,
    ) -> Measured {
        let won = &self.open.won;
        let auc = |scores: &[f64]| roc_auc(scores, won).unwrap_or(f64::NAN);
        let ready = |i: &usize| suggested[*i] >= sales_ready_from;
        Measured {
            pairs: won.len(),
            model_auc: auc(&self.probability),
            suggested_auc: auc(suggested),
            current_auc: auc(current),
            sales_ready_from,
            sales_ready: (0..won.len()).filter(ready).count(),
            won_ready: (0..won.len()).filter(ready).filter(|&i| won[i]).count(),
        }
    }
}

/// The suggestion's ranking quality and its sales-ready threshold, on the judged pairs.
pub(crate) struct Measured {
    /// How many (date, open lead) pairs were judged.
    pub(crate) pairs: usize,
    /// ROC AUC of the model's probability.
    pub(crate) model_auc: f64,
    /// ROC AUC of the suggested points.
    pub(crate) suggested_auc: f64,
    /// ROC AUC of the rules in use.
    pub(crate) current_auc: f64,
    /// The suggested sales-ready threshold (points).
    pub(crate) sales_ready_from: f64,
    /// Pairs at or above it.
    pub(crate) sales_ready: usize,
    /// Of those, how many were won.
    pub(crate) won_ready: usize,
}

impl Measured {
    /// Whether the threshold selects none or all of the pairs, which is no threshold.
    pub(crate) fn threshold_selects_nothing_or_everything(&self) -> bool {
        self.sales_ready == 0 || self.sales_ready == self.pairs
    }

    /// The measurement as the lines printed under the diff.
    pub(crate) fn report(&self) -> String {
        format!(
            "on {} (date, open lead) pairs, each scored as of the date and judged by how it later closed:\n  \
             ROC AUC: model {:.3}, suggested points {:.3} (rounding and pruning cost {:.3}), current rules {:.3}\n  \
             sales-ready from {} points: {} leads ({:.1}%), {:.1}% of them won\n",
            self.pairs,
            self.model_auc,
            self.suggested_auc,
            self.model_auc - self.suggested_auc,
            self.current_auc,
            self.sales_ready_from,
            self.sales_ready,
            100.0 * self.sales_ready as f64 / self.pairs.max(1) as f64,
            100.0 * self.won_ready as f64 / self.sales_ready.max(1) as f64,
        )
    }
}

/// The rule engine's verdict on the generated text: it must read what it suggests.
pub(crate) fn checked(text: &str) -> Result<PointModel> {
    parse(text, "suggested rules").map_err(|e| {
        Error::setting(
            "suggest-points",
            format!("the suggested rules do not pass the rule engine's checks: {e}"),
        )
    })
}
