//! What `leadscore compare` finds, as one serialisable value: the JSON output is this
//! value, and the Markdown and HTML reports are views of it.

use serde::Serialize;

pub use super::never_closed::{GroupScores, NeverClosed};
pub use crate::eval::curves::{CalibrationBin, GainRow, Histogram, Interval};

/// The rule model and the predictive model judged on the same closed leads.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The leadscore version that compared.
    pub leadscore_version: String,
    /// The model's training-data fingerprint, to tie the report to an artifact.
    pub model_fingerprint: String,
    /// How leads were judged, in words (evaluation dates, their spacing and span).
    pub cutoff: String,
    /// Whether the headline figures are on the period the model never saw (false when
    /// the model was trained on everything, so no later period exists).
    pub headline_is_unseen: bool,
    /// (evaluation date, open lead) pairs judged in the headline.
    pub leads: usize,
    /// Won share among them.
    pub base_rate: f64,
    /// Headline pairs dated before the model's training data ended (their deals may
    /// have been trained on: figures on them are optimistic for the model).
    pub leads_in_training_period: usize,
    /// The rule score (`points`).
    pub rule: Side,
    /// The predictive score (`probability`).
    pub model: Side,
    /// The model's ROC AUC minus the rule's on the same (date, lead) pairs, with a 95%
    /// interval from a paired bootstrap over deals: whether the model ranks better
    /// beyond chance, which two separate intervals cannot say.
    pub roc_auc_difference: Interval,
    /// Reliability of `probability`: predicted against observed, by bins of 0.1.
    pub calibration: Vec<CalibrationBin>,
    /// Won rate per rule tier, lowest tier first.
    pub tiers: Vec<GroupRate>,
    /// Won rate per rule fit grade, lowest first.
    pub grades: Vec<GroupRate>,
    /// The business question: same call volume as the rule's action tier.
    pub same_volume: SameVolume,
    /// Leads the two rank most differently, largest gap first.
    pub disagreements: Vec<Disagreement>,
    /// Score distributions by outcome.
    pub distributions: Distributions,
    /// Metrics per period (before / after a split date), to show decay over time.
    pub periods: Vec<Period>,
    /// Each rule of the rule file checked against history.
    pub rule_checks: Vec<RuleCheck>,
    /// What the comparison cannot see: the leads that never closed, scored at the same
    /// dates beside the judged ones.
    pub never_closed: NeverClosed,
}

/// One rule of the rule file against history: does the data agree with its sign?
#[derive(Debug, Clone, Serialize)]
pub struct RuleCheck {
    /// The rule's name.
    pub rule: String,
    /// `fit`, `engagement` or `inactivity`.
    pub kind: String,
    /// Judged leads it gave points to.
    pub leads_fired: usize,
    /// Mean points it gave them.
    pub mean_points: f64,
    /// Won rate of the leads it fired on.
    pub won_rate_fired: f64,
    /// Won rate of the others.
    pub won_rate_not_fired: f64,
    /// Whether the sign of its points matches the difference in won rates.
    pub agrees: bool,
    /// In words: "agrees", "wishful: gives +10 but fired leads win less", "too rare to tell".
    pub verdict: String,
}

/// One score's quality.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// "rule points" or "predictive probability".
    pub name: String,
    /// ROC AUC with a bootstrap confidence interval.
    pub roc_auc: Interval,
    /// PR AUC (average precision) with a bootstrap confidence interval.
    pub pr_auc: Interval,
    /// Log loss (only for probabilities).
    pub log_loss: Option<f64>,
    /// Brier score (only for probabilities).
    pub brier: Option<f64>,
    /// The ROC curve: (false positive rate, true positive rate), from (0,0) to (1,1).
    pub roc_curve: Vec<(f64, f64)>,
    /// Deciles from the highest score down.
    pub gains: Vec<GainRow>,
}

/// Conversion of one group (tier or grade).
#[derive(Debug, Clone, Serialize)]
pub struct GroupRate {
    /// Tier or grade name.
    pub name: String,
    /// Leads in it.
    pub leads: usize,
    /// Won among them.
    pub won: usize,
    /// Won rate (NaN when empty).
    pub won_rate: f64,
}

/// "If sales calls as many leads as the rule marks sales-ready, how many more won deals
/// are among them when the predictive model chooses?"
#[derive(Debug, Clone, Serialize)]
pub struct SameVolume {
    /// The rule's action tier (e.g. `sales_ready`).
    pub action_tier: String,
    /// Leads at or above it: the call volume.
    pub calls: usize,
    /// Won among the rule's choice.
    pub won_by_rule: usize,
    /// Won among the model's top `calls` leads.
    pub won_by_model: usize,
    /// The answer in one sentence.
    pub sentence: String,
}

/// A lead the two scores rank very differently.
#[derive(Debug, Clone, Serialize)]
pub struct Disagreement {
    /// The lead.
    pub lead_id: String,
    /// The evaluation date it was scored as of (a lead open at several dates may
    /// appear once per date).
    pub as_of: String,
    /// How its deal ended: `won` or `lost`.
    pub outcome: String,
    /// Rule points at the cutoff.
    pub points: f64,
    /// Rule tier at the cutoff.
    pub tier: String,
    /// Percentile of the points among judged leads (0 lowest, 100 highest).
    pub rule_percentile: f64,
    /// Predicted probability at the cutoff.
    pub probability: f64,
    /// Percentile of the probability.
    pub model_percentile: f64,
    /// The rules that gave the most points, in words.
    pub rule_reasons: String,
    /// The model's reasons.
    pub model_reasons: String,
}

/// Histograms of both scores, won and lost separately.
#[derive(Debug, Clone, Serialize)]
pub struct Distributions {
    /// Rule points.
    pub points: Histogram,
    /// Predicted probability.
    pub probability: Histogram,
}

/// Both scores' ranking quality on the deals closed in one period.
#[derive(Debug, Clone, Serialize)]
pub struct Period {
    /// "training period (closed before 2025-09-30)" or "later (closed from 2025-09-30)".
    pub name: String,
    /// Leads judged in it.
    pub leads: usize,
    /// Won share.
    pub base_rate: f64,
    /// ROC AUC of the rule points (NaN when one outcome only).
    pub rule_roc_auc: f64,
    /// ROC AUC of the probability.
    pub model_roc_auc: f64,
}
