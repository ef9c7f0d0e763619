//! Points learned from data: the fitted logistic model turned into a rule file of the
//! same TOML format marketing already keeps, by scorecard scaling. A lead's suggested
//! score is `base + factor × (its log-odds − the log-odds of an average lead)` with
//! `factor = points_to_double_odds / ln 2`, so 100 is an average lead and every
//! `points_to_double_odds` more points doubles the odds of winning.
//!
//! Each kept feature becomes one rule: a category becomes an attribute rule (`equals`
//! or `missing`); an event type or (event type, detail) pair becomes a behaviour rule
//! whose points per occurrence reproduce the model's effect of `max_count` recent
//! occurrences, with a half-life fitted to how much less the model credits old ones;
//! a penalty for silence becomes the inactivity rule. Features left out are held at
//! their training mean inside the base score. Rounding and pruning cost ranking quality,
//! which [`judge`] measures on history when given the tables.

pub mod judge;
pub mod render;

use std::collections::BTreeMap;

use crate::features::descriptor::{CategoryValue, Feature, NumberForm};
use crate::features::numeric::signed_log;
use crate::features::spec::{FeatureSpec, OTHER, WINDOWS};
use crate::model::Model;

/// How points are scaled and how many rules are kept.
#[derive(Debug, Clone)]
pub struct SuggestOptions {
    /// Score of an average lead.
    pub base: f64,
    /// Points that double the odds of winning.
    pub points_to_double_odds: f64,
    /// Behaviour rules kept (the strongest).
    pub behaviours: usize,
    /// Attribute rules kept (the strongest).
    pub attributes: usize,
    /// Occurrences a behaviour rule counts at most.
    pub max_count: u32,
    /// Predicted won probability at which a lead becomes sales-ready.
    pub sales_ready_probability: f64,
}

impl Default for SuggestOptions {
    fn default() -> Self {
        SuggestOptions {
            base: 100.0,
            points_to_double_odds: 20.0,
            behaviours: 7,
            attributes: 20,
            max_count: 3,
            sales_ready_probability: 0.5,
        }
    }
}

/// A suggested attribute rule.
#[derive(Debug, Clone, PartialEq)]
pub struct SuggestedAttribute {
    /// Lead column.
    pub column: String,
    /// What the column must satisfy.
    pub test: AttributeTest,
    /// Whole points.
    pub points: i64,
}

/// The condition of a suggested attribute rule.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeTest {
    /// Equal to this category.
    Equals(String),
    /// Missing.
    Missing,
    /// A number in `[at_least, below)`.
    Range(Option<f64>, Option<f64>),
}

/// Numeric attributes whose standardised weight is at least this get range rules.
const NUMERIC_MIN_WEIGHT: f64 = 0.02;

/// A suggested behaviour rule.
#[derive(Debug, Clone, PartialEq)]
pub struct SuggestedBehaviour {
    /// Event type.
    pub event_type: String,
    /// Exact detail, when the feature was a detail.
    pub detail: Option<String>,
    /// Whole points per occurrence.
    pub points: i64,
    /// Occurrences counted at most.
    pub max_count: u32,
    /// Half-life of old occurrences in days, when the model credits them less.
    pub half_life_days: Option<u32>,
}

/// The whole suggestion.
#[derive(Debug, Clone)]
pub struct Suggestion {
    /// Points every lead starts with (the base score plus everything held at its mean).
    pub base_points: i64,
    /// Attribute rules, strongest first.
    pub attributes: Vec<SuggestedAttribute>,
    /// Behaviour rules, strongest first.
    pub behaviours: Vec<SuggestedBehaviour>,
    /// Points off after 60 days without activity, when the model penalises silence.
    pub inactivity_points: Option<i64>,
    /// Points by lead age: (from days, below days, points).
    pub ages: Vec<(f64, Option<f64>, i64)>,
    /// Score at which a lead is sales-ready.
    pub sales_ready_from: f64,
    /// Score of an average lead (for the file's comments).
    pub base: f64,
    /// Points that double the odds (for the file's comments).
    pub points_to_double_odds: f64,
}

/// Days of silence after which the suggested inactivity rule applies.
pub(crate) const INACTIVITY_DAYS: f64 = 60.0;

/// Turns `model` into rules.
pub fn suggest(model: &Model, options: &SuggestOptions) -> Suggestion {
    let factor = options.points_to_double_odds / std::f64::consts::LN_2;
    let features = model.spec.features();
    let linear = &model.linear;
    // Raw effect per unit of each feature, and its mean.
    let beta: Vec<f64> = linear
        .weights
        .iter()
        .zip(&linear.scales)
        .map(|(w, s)| w / s)
        .collect();
    let index: BTreeMap<&Feature, usize> =
        features.iter().enumerate().map(|(i, f)| (f, i)).collect();
    let category = |column: &str, value: CategoryValue| Feature::Category {
        column: column.to_string(),
        value,
    };
    let number = |column: &str, form: NumberForm| Feature::Number {
        column: column.to_string(),
        form,
    };
    let mut represented = vec![false; features.len()];

    // Attribute rules: the categories with the largest standardised weights.
    let mut attribute_candidates: Vec<(f64, usize, SuggestedAttribute)> = Vec::new();
    for (column, values) in &model.spec.categoricals {
        let wanted = values.iter().map(|v| {
            let feature = category(column, CategoryValue::Value(v.clone()));
            (AttributeTest::Equals(v.clone()), feature)
        });
        let missing = std::iter::once((
            AttributeTest::Missing,
            category(column, CategoryValue::Missing),
        ));
        for (condition, feature) in wanted.chain(missing) {
            if let Some(&j) = index.get(&feature) {
                let points = (factor * beta[j]).round() as i64;
                if points != 0 {
                    attribute_candidates.push((
                        linear.weights[j].abs(),
                        j,
                        SuggestedAttribute {
                            column: column.clone(),
                            test: condition,
                            points,
                        },
                    ));
                }
            }
        }
    }
    attribute_candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    attribute_candidates.truncate(options.attributes);
    for (_, j, _) in &attribute_candidates {
        represented[*j] = true;
    }
    let mut attributes: Vec<SuggestedAttribute> =
        attribute_candidates.into_iter().map(|c| c.2).collect();
    // Numbers: up to four bands at the quartiles of the lead base, each worth the
    // model's effect at its centre relative to the effect at the training mean, which
    // goes into the base: base points stay near the scale however large the raw
    // numbers are, and a band near the average gets no rule.
    let mut baseline_shift = 0.0;
    for column in &model.spec.numerics {
        let Some(&jv) = index.get(&number(column, NumberForm::Value)) else {
            continue;
        };
        let jl = index.get(&number(column, NumberForm::Log)).copied();
        let effect = |v: f64| beta[jv] * v + jl.map_or(0.0, |j| beta[j] * signed_log(v));
        let members = std::iter::once(jv).chain(jl);
        if members
            .clone()
            .map(|j| linear.weights[j].abs())
            .sum::<f64>()
            < NUMERIC_MIN_WEIGHT
        {
            continue;
        }
        let Some(bands) = Bands::at_quartiles(linear, &model.drift.features[jv], jv) else {
            continue;
        };
        for j in members {
            represented[j] = true;
        }
        let reference = effect(linear.fill[jv]);
        baseline_shift += reference;
        for band in 0..bands.centres.len() {
            let points = (factor * (effect(bands.centres[band]) - reference)).round() as i64;
            if points != 0 {
                attributes.push(SuggestedAttribute {
                    column: column.clone(),
                    test: AttributeTest::Range(bands.from(band), bands.below(band)),
                    points,
                });
            }
        }
        // A missing value is imputed with the training mean beside its indicator.
        if let Some(&jm) = index.get(&number(column, NumberForm::Missing)) {
            represented[jm] = true;
            let missing = beta[jm] * (1.0 - linear.means[jm]);
            baseline_shift += beta[jm] * linear.means[jm];
            let points = (factor * missing).round() as i64;
            if points != 0 {
                attributes.push(SuggestedAttribute {
                    column: column.clone(),
                    test: AttributeTest::Missing,
                    points,
                });
            }
        }
    }

    // Behaviour rules: one per event type or (event type, detail), all windows summed.
    let cap = f64::from(options.max_count.max(1));
    let mut behaviour_candidates: Vec<(f64, Vec<usize>, SuggestedBehaviour)> = Vec::new();
    for (event, detail) in activity_pairs(&model.spec) {
        let columns: Vec<(Option<u32>, usize)> = WINDOWS
            .iter()
            .filter_map(|&w| {
                let feature = Feature::Count {
                    event: Some(event.clone()),
                    detail: detail.clone(),
                    window: w,
                };
                index.get(&feature).map(|&j| (w, j))
            })
            .collect();
        // Log-odds effect of `cap` occurrences, all recent, or all 60 days old.
        let effect = |age: f64| -> f64 {
            columns
                .iter()
                .filter(|(w, _)| w.is_none_or(|days| age < f64::from(days)))
                .map(|(_, j)| beta[*j] * (1.0 + cap).ln())
                .sum()
        };
        let (recent, old) = (effect(1.0), effect(INACTIVITY_DAYS));
        let points = (factor * recent / cap).round() as i64;
        if points == 0 {
            continue;
        }
        let half_life_days = (recent.signum() == old.signum()
            && old.abs() < recent.abs()
            && old != 0.0)
            .then(|| {
                (INACTIVITY_DAYS * std::f64::consts::LN_2 / (recent / old).ln())
                    .round()
                    .clamp(7.0, 365.0) as u32
            });
        // Ranked by standardised weight: how much the pair moves leads as they occur,
        // not how much one rare occurrence would.
        let importance: f64 = columns.iter().map(|(_, j)| linear.weights[*j].abs()).sum();
        behaviour_candidates.push((
            importance,
            columns.iter().map(|(_, j)| *j).collect(),
            SuggestedBehaviour {
                event_type: event.clone(),
                detail: detail.clone(),
                points,
                max_count: options.max_count.max(1),
                half_life_days,
            },
        ));
    }
    behaviour_candidates.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.2.event_type.cmp(&b.2.event_type))
            .then(a.2.detail.cmp(&b.2.detail))
    });
    behaviour_candidates.truncate(options.behaviours);
    for (_, columns, _) in &behaviour_candidates {
        for &j in columns {
            represented[j] = true;
        }
    }

    // Lead age: bands cut at the training snapshot ages (7, 14, 28, … days by default:
    // training saw leads at those ages, while the lead base at its end is mostly old),
    // relative to the average training age, like numbers.
    let mut ages = Vec::new();
    if let Some(&j) = index.get(&Feature::LeadAge) {
        let edges: Vec<f64> = model
            .cutoffs
            .ages_days()
            .into_iter()
            .skip(1)
            .filter(|&days| days.ln_1p() < linear.upper[j])
            .collect();
        let bands = Bands::with_edges(edges, linear.lower[j], linear.upper[j], f64::ln_1p);
        if let Some(bands) = bands {
            represented[j] = true;
            let reference = beta[j] * linear.fill[j];
            baseline_shift += reference;
            for band in 0..bands.centres.len() {
                let points = (factor * (beta[j] * bands.centres[band] - reference)).round() as i64;
                if points != 0 {
                    ages.push((bands.from(band).unwrap_or(0.0), bands.below(band), points));
                }
            }
        }
    }

    // Silence: the recency feature's effect of 60 quiet days against 3.
    let inactivity_points = index.get(&Feature::DaysSinceLast).and_then(|&j| {
        let penalty = beta[j] * ((1.0 + INACTIVITY_DAYS).ln() - 4f64.ln());
        let points = (factor * penalty).round() as i64;
        (points < 0).then(|| {
            represented[j] = true;
            baseline_shift = beta[j] * 4f64.ln();
            points
        })
    });

    // Everything else sits at its training mean inside the base.
    let intercept = linear.intercept
        - linear
            .weights
            .iter()
            .zip(&linear.means)
            .zip(&linear.scales)
            .map(|((w, m), s)| w * m / s)
            .sum::<f64>();
    let held: f64 = (0..features.len())
        .filter(|&j| !represented[j])
        .map(|j| beta[j] * linear.means[j])
        .sum();
    let average = logit(model.holdout.base_rate.clamp(0.01, 0.99));
    let base_points =
        (options.base + factor * (intercept + held + baseline_shift - average)).round() as i64;
    let sales_ready_from = (options.base
        + factor * (logit(options.sales_ready_probability.clamp(0.01, 0.99)) - average))
        .round();
    Suggestion {
        base: options.base,
        base_points,
        attributes,
        ages,
        behaviours: behaviour_candidates.into_iter().map(|c| c.2).collect(),
        inactivity_points,
        sales_ready_from,
        points_to_double_odds: options.points_to_double_odds,
    }
}

/// Every event type and detail pair with features, except the "other" bucket.
fn activity_pairs(spec: &FeatureSpec) -> Vec<(String, Option<String>)> {
    spec.event_types
        .iter()
        .filter(|e| e.as_str() != OTHER)
        .map(|e| (e.clone(), None))
        .chain(
            spec.details
                .iter()
                .map(|(e, d)| (e.clone(), Some(d.clone()))),
        )
        .collect()
}

/// Bands of one feature's values between edges (a number's quartiles, the snapshot
/// ages), with a representative value per band.
struct Bands {
    /// Inner edges in rule-file units, ascending.
    edges: Vec<f64>,
    /// A value inside each band (feature scale).
    centres: Vec<f64>,
}

impl Bands {
    /// Bands of a numeric attribute's value at the lead base's quartiles, edges rounded
    /// to three significant digits (before bands are compared, so no band is empty).
    fn at_quartiles(
        linear: &crate::model::train::LinearModel,
        reference: &crate::model::drift::Bins,
        j: usize,
    ) -> Option<Bands> {
        let deciles = &reference.edges;
        let mut edges: Vec<f64> = [1, 2, 3]
            .iter()
            .filter_map(|&q| deciles.get(deciles.len() * q / 4).copied())
            .map(significant)
            .collect();
        edges.dedup();
        let (low, high) = (linear.lower[j], linear.upper[j]);
        edges.retain(|&e| e > significant(low) && e <= significant(high));
        Bands::with_edges(edges, low, high, |v| v)
    }

    /// Bands between the given edges (rule-file units, ascending) over the training
    /// range `low..high` (feature units).
    fn with_edges(
        edges: Vec<f64>,
        low: f64,
        high: f64,
        from_rule: impl Fn(f64) -> f64,
    ) -> Option<Bands> {
        if edges.is_empty() {
            return None;
        }
        let mut bounds = vec![low];
        bounds.extend(edges.iter().map(|&e| from_rule(e)));
        bounds.push(high);
        let centres: Vec<f64> = bounds.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect();
        Some(Bands { edges, centres })
    }

    /// Lower bound of a band in rule-file terms (`None` for the first).
    fn from(&self, band: usize) -> Option<f64> {
        band.checked_sub(1).map(|k| self.edges[k])
    }

    /// Upper bound (`None` for the last).
    fn below(&self, band: usize) -> Option<f64> {
        self.edges.get(band).copied()
    }
}

/// Three significant digits: band edges a person reads (41.3, 0.125, 2780).
fn significant(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return 0.0;
    }
    let scale = 10f64.powi(2 - value.abs().log10().floor() as i32);
    (value * scale).round() / scale
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}
