//! The publish gate: whether a candidate may replace the model in use, from both models'
//! ROC AUC on the same recent deals the candidate never saw.
//!
//! The rule: publish when the candidate is **not worse beyond chance** (the 95% paired
//! bootstrap interval of candidate minus current reaches zero or above) **and** keeps at
//! least `floor` (95%) of the current model's ROC AUC. Retraining on newer data is
//! expected to help, so a candidate that merely ties is published (it knows the newer
//! deals); the interval keeps a drop that noise cannot explain out; the floor, as
//! Dynamics 365's, caps the loss a wide interval on thin data could let through. With
//! no model in use, the candidate must rank better than chance (its interval's lower
//! end above 0.5).

use serde::{Deserialize, Serialize};

use super::Figures;
use crate::error::{Error, Result};

/// The gate's settings, recorded with every decision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GateRule {
    /// The share of the current model's ROC AUC a candidate must keep.
    pub floor: f64,
    /// Bootstrap draws.
    pub draws: usize,
    /// Seed of the bootstrap (the same data gives the same decision).
    pub seed: u64,
}

impl Default for GateRule {
    fn default() -> Self {
        GateRule {
            floor: 0.95,
            draws: 1000,
            seed: 42,
        }
    }
}

impl GateRule {
    /// Checks the settings, naming the bad one.
    pub fn check(&self) -> Result<()> {
        if !(self.floor.is_finite() && (0.0..=1.0).contains(&self.floor)) {
            return Err(Error::setting(
                "GateRule.floor",
                format!("{} is not a share between 0 and 1", self.floor),
            ));
        }
        if self.draws < 100 {
            return Err(Error::setting(
                "GateRule.draws",
                "at least 100 draws are needed for a 95% interval",
            ));
        }
        Ok(())
    }

    /// Whether to publish, and why in words.
    pub(crate) fn decide(&self, figures: &Figures) -> (bool, String) {
        let c = figures.candidate;
        let judged = |i: &crate::eval::curves::Interval| {
            i.value.is_finite() && i.low.is_finite() && i.high.is_finite()
        };
        if !judged(&c) {
            return (
                false,
                "the deals after the split do not hold both outcomes, so no ROC AUC can judge the candidate".into(),
            );
        }
        let candidate = format!("{:.3} ({:.3}–{:.3})", c.value, c.low, c.high);
        let (Some(current), Some(difference)) = (figures.current, figures.difference) else {
            return if c.low > 0.5 {
                (
                    true,
                    format!("no model in use; the candidate ranks the later deals better than chance: ROC AUC {candidate}"),
                )
            } else {
                (
                    false,
                    format!("no model in use, and the candidate ranks the later deals no better than chance: ROC AUC {candidate}"),
                )
            };
        };
        if !judged(&current) || !judged(&difference) {
            return (
                false,
                "the model in use could not be judged on the later deals".into(),
            );
        }
        let shown = format!(
            "candidate ROC AUC {candidate} against {:.3} ({:.3}–{:.3}) for the model in use, difference {:+.3} ({:+.3} to {:+.3})",
            current.value, current.low, current.high, difference.value, difference.low, difference.high
        );
        let worse_beyond_chance = difference.high < 0.0;
        let least = self.floor * current.value;
        let below_floor = c.value < least;
        match (worse_beyond_chance, below_floor) {
            (false, false) => (
                true,
                format!(
                    "{shown}: not worse beyond chance, and at least {:.0}% of the current's",
                    self.floor * 100.0
                ),
            ),
            (true, _) => (false, format!("{shown}: worse beyond chance")),
            (false, true) => (
                false,
                format!(
                    "{shown}: below {:.0}% of the current's ({least:.3})",
                    self.floor * 100.0
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::curves::Interval;

    fn interval(value: f64, low: f64, high: f64) -> Interval {
        Interval { value, low, high }
    }

    fn figures(candidate: Interval, current: Interval, difference: Interval) -> Figures {
        Figures {
            candidate,
            current: Some(current),
            difference: Some(difference),
        }
    }

    #[test]
    fn a_tie_publishes_a_drop_beyond_chance_or_below_the_floor_keeps() {
        let rule = GateRule::default();
        let tie = figures(
            interval(0.74, 0.70, 0.78),
            interval(0.75, 0.71, 0.79),
            interval(-0.01, -0.03, 0.01),
        );
        let (publish, reason) = rule.decide(&tie);
        assert!(publish, "{reason}");
        assert!(reason.contains("not worse beyond chance"));
        let drop = figures(
            interval(0.72, 0.69, 0.75),
            interval(0.75, 0.72, 0.78),
            interval(-0.03, -0.05, -0.01),
        );
        let (publish, reason) = rule.decide(&drop);
        assert!(
            !publish && reason.contains("worse beyond chance"),
            "{reason}"
        );
        // Thin data: a wide interval that reaches zero, but a large loss.
        let thin = figures(
            interval(0.66, 0.55, 0.77),
            interval(0.75, 0.64, 0.86),
            interval(-0.09, -0.20, 0.02),
        );
        let (publish, reason) = rule.decide(&thin);
        assert!(!publish && reason.contains("below 95%"), "{reason}");
    }

    #[test]
    fn without_a_model_in_use_the_candidate_must_beat_chance() {
        let rule = GateRule::default();
        let alone = |low| Figures {
            candidate: interval(0.6, low, 0.7),
            current: None,
            difference: None,
        };
        assert!(rule.decide(&alone(0.52)).0);
        assert!(!rule.decide(&alone(0.48)).0);
        let unjudged = Figures {
            candidate: interval(f64::NAN, f64::NAN, f64::NAN),
            current: None,
            difference: None,
        };
        assert!(!rule.decide(&unjudged).0);
    }

    #[test]
    fn bad_settings_are_named() {
        let floor = GateRule {
            floor: 1.5,
            ..GateRule::default()
        };
        assert!(floor
            .check()
            .unwrap_err()
            .to_string()
            .contains("GateRule.floor"));
        let draws = GateRule {
            draws: 10,
            ..GateRule::default()
        };
        assert!(draws
            .check()
            .unwrap_err()
            .to_string()
            .contains("GateRule.draws"));
    }
}
