//! The validated point model: what marketing and sales agreed, in a form the evaluator
//! trusts and the model artifact can carry (serde). Built only through
//! [`super::config`], which checks every rule and remembers the TOML line it came from.

use serde::{Deserialize, Serialize};

/// A complete rule model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointModel {
    /// Where the rules came from (a file path, or "built-in").
    pub(crate) source: String,
    /// Points every lead starts with.
    pub(crate) base_points: f64,
    /// Fit rules on lead attributes ("who they are").
    pub(crate) attributes: Vec<AttributeRule>,
    /// Engagement rules on interactions ("what they did").
    pub(crate) behaviours: Vec<BehaviourRule>,
    /// Points for going quiet.
    pub(crate) inactivity: Option<Inactivity>,
    /// Points by the lead's age at the time of scoring (part of engagement, not fit:
    /// an old lead has not changed who it is, but its moment may have passed).
    pub(crate) ages: Vec<AgeRule>,
    /// Score bands, ascending by threshold.
    pub(crate) tiers: Vec<Band>,
    /// Fit grades from attribute points alone, ascending by threshold.
    pub(crate) grades: Vec<Band>,
    /// Index into `tiers` of the tier whose crossing triggers an action.
    pub(crate) action_tier: usize,
}

/// A named band: leads reaching `from` points belong to it (unless a higher band applies);
/// leads below the lowest band's threshold belong to the lowest band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Band {
    /// Name shown in output (`sales_ready`, `A`).
    pub(crate) name: String,
    /// Inclusive lower threshold.
    pub(crate) from: f64,
}

/// A fit rule: points when a lead column satisfies a condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AttributeRule {
    /// Name shown in breakdowns.
    pub(crate) name: String,
    /// TOML line of the rule, for messages.
    pub(crate) line: usize,
    /// The lead column it reads.
    pub(crate) column: String,
    /// The test applied to the column.
    pub(crate) condition: Condition,
    /// When true, the rule fires for present values that fail the condition.
    pub(crate) negate: bool,
    /// Points given (may be negative).
    pub(crate) points: f64,
}

/// A test on one lead attribute. Text comparisons ignore case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Condition {
    /// Equal to this text.
    Equals(String),
    /// Equal to this number.
    EqualsNumber(f64),
    /// Equal to one of these texts.
    OneOf(Vec<String>),
    /// A number in `[at_least, below)`; either bound may be open.
    Range {
        /// Inclusive lower bound.
        at_least: Option<f64>,
        /// Exclusive upper bound.
        below: Option<f64>,
    },
    /// Contains this text.
    Contains(String),
    /// Matches this regular expression (checked at load time).
    Matches(String),
    /// The value is missing.
    Missing,
}

/// Points for leads whose age (days since `created_at`, at the time of scoring) lies in
/// `[from_days, below_days)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AgeRule {
    /// Name shown in breakdowns.
    pub(crate) name: String,
    /// TOML line of the rule, for messages.
    pub(crate) line: usize,
    /// Inclusive lower bound in days.
    pub(crate) from_days: f64,
    /// Exclusive upper bound in days, if any.
    pub(crate) below_days: Option<f64>,
    /// Points given (may be negative).
    pub(crate) points: f64,
}

/// An engagement rule: points per matching interaction, with caps, window and decay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct BehaviourRule {
    /// Name shown in breakdowns.
    pub(crate) name: String,
    /// TOML line of the rule, for messages.
    pub(crate) line: usize,
    /// The `event_type` it counts (exact, case-sensitive as exported).
    pub(crate) event_type: String,
    /// Optional test on `detail`.
    pub(crate) detail: Option<DetailMatch>,
    /// Points per occurrence before decay (may be negative).
    pub(crate) points: f64,
    /// Count at most this many occurrences (the most recent ones).
    pub(crate) max_count: Option<u32>,
    /// At most this many points from the rule (in absolute value).
    pub(crate) max_points: Option<f64>,
    /// Only occurrences in the last N days count.
    pub(crate) window_days: Option<f64>,
    /// How old occurrences lose value.
    pub(crate) decay: Decay,
}

impl BehaviourRule {
    /// How old an occurrence may be and still count, in days: the shorter of the window
    /// and an expiry (the evaluator and the SQL export both cut here).
    pub(crate) fn horizon_days(&self) -> Option<f64> {
        match self.decay {
            Decay::Expire(days) => Some(self.window_days.map_or(days, |w| w.min(days))),
            Decay::None | Decay::HalfLife(_) => self.window_days,
        }
    }
}

/// How a behaviour rule matches `detail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum DetailMatch {
    /// Exactly this text.
    Exact(String),
    /// Starts with this text.
    Prefix(String),
    /// A glob (`*` any run of characters, `?` one), stored with its regex translation.
    Glob {
        /// As written.
        pattern: String,
        /// Anchored regular expression equivalent.
        regex: String,
    },
}

/// Decay of old activity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) enum Decay {
    /// Full points whatever the age.
    None,
    /// Points halve every this many days.
    HalfLife(f64),
    /// Full points until this many days old, nothing after.
    Expire(f64),
}

/// Points for a lead with no interaction in `after_days` days (counted from creation when
/// it never interacted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Inactivity {
    /// Days without interaction before the points apply.
    pub(crate) after_days: f64,
    /// Points given (normally negative).
    pub(crate) points: f64,
}

impl PointModel {
    /// Checks what a rule file's reader checks for every number that reaches a score:
    /// an artifact carries its rule model, and a damaged one must not publish NaN.
    pub(crate) fn check_values(&self) -> std::result::Result<(), String> {
        use super::config::within_bounds;
        let points = std::iter::once(self.base_points)
            .chain(self.attributes.iter().map(|r| r.points))
            .chain(self.behaviours.iter().map(|r| r.points))
            .chain(self.behaviours.iter().filter_map(|r| r.max_points))
            .chain(self.ages.iter().map(|r| r.points))
            .chain(self.inactivity.iter().map(|r| r.points))
            .chain(self.tiers.iter().chain(&self.grades).map(|b| b.from));
        if let Some(bad) = points.into_iter().find(|&v| !within_bounds(v)) {
            return Err(format!(
                "the rule model holds {bad} points, outside the accepted range"
            ));
        }
        if self.tiers.is_empty() || self.action_tier >= self.tiers.len() {
            return Err("the rule model's tiers do not include its action tier".into());
        }
        Ok(())
    }

    /// The tier whose crossing triggers an action (e.g. `sales_ready`).
    pub(crate) fn action_tier_name(&self) -> &str {
        self.tiers
            .get(self.action_tier)
            .map_or("", |t| t.name.as_str())
    }
}
