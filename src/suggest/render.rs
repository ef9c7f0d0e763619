//! The suggestion as a rule file (the same TOML the rule engine reads, with comments
//! saying where the numbers came from) and as a diff against the rules in use.

use std::fmt::Write as _;

use super::{AttributeTest, Suggestion, INACTIVITY_DAYS};
use crate::points::rules::{AttributeRule, BehaviourRule, Condition, DetailMatch};
use crate::points::PointModel;

/// The rule file. Tier names come from `current`; the action tier starts at the
/// suggested sales-ready score and the others keep their distance below it; grades are
/// kept as they are.
pub(crate) fn to_toml(s: &Suggestion, current: &PointModel, provenance: &str) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# Points learned from data by `leadscore suggest-points`."
    );
    for line in provenance.lines() {
        let _ = writeln!(t, "# {line}");
    }
    let _ = writeln!(
        t,
        "# An average lead scores about {}; every {} points more doubles its odds of winning.\n",
        s.base, s.points_to_double_odds
    );
    let _ = writeln!(t, "base_points = {}\n", s.base_points);
    let action_from = current
        .tiers
        .get(current.action_tier)
        .map_or(0.0, |tier| tier.from);
    let mut previous = f64::NEG_INFINITY;
    for (i, tier) in current.tiers.iter().enumerate() {
        let from = if i == 0 {
            tier.from.min(s.sales_ready_from - 100.0)
        } else {
            if i == current.action_tier {
                s.sales_ready_from
            } else {
                (s.sales_ready_from - (action_from - tier.from)).round()
            }
        };
        let from = if from <= previous {
            previous + 1.0
        } else {
            from
        };
        previous = from;
        let _ = writeln!(t, "[[tier]]\nname = {}\nfrom = {from}", quote(&tier.name));
        if i == current.action_tier {
            let _ = writeln!(t, "action = true");
        }
        t.push('\n');
    }
    for grade in &current.grades {
        let _ = writeln!(
            t,
            "[[grade]]\nname = {}\nfrom = {}\n",
            quote(&grade.name),
            grade.from
        );
    }
    for a in &s.attributes {
        let _ = writeln!(
            t,
            "[[attribute]]\nname = {}\ncolumn = {}",
            quote(&attribute_name(a)),
            quote(&a.column)
        );
        match &a.test {
            AttributeTest::Equals(value) => {
                let _ = writeln!(t, "equals = {}", quote(value));
            }
            AttributeTest::Missing => {
                let _ = writeln!(t, "missing = true");
            }
            AttributeTest::Range(at_least, below) => {
                if let Some(low) = at_least {
                    let _ = writeln!(t, "at_least = {low:?}");
                }
                if let Some(high) = below {
                    let _ = writeln!(t, "below = {high:?}");
                }
            }
        }
        let _ = writeln!(t, "points = {}\n", a.points);
    }
    for b in &s.behaviours {
        let _ = writeln!(
            t,
            "[[behaviour]]\nname = {}\nevent_type = {}",
            quote(&behaviour_name(b)),
            quote(&b.event_type)
        );
        if let Some(detail) = &b.detail {
            let _ = writeln!(t, "detail = {}", quote(detail));
        }
        let _ = writeln!(t, "points = {}\nmax_count = {}", b.points, b.max_count);
        if let Some(days) = b.half_life_days {
            let _ = writeln!(t, "half_life_days = {days}");
        }
        t.push('\n');
    }
    for &(from, below, points) in &s.ages {
        let _ = writeln!(t, "[[age]]\nfrom_days = {from:?}");
        if let Some(below) = below {
            let _ = writeln!(t, "below_days = {below:?}");
        }
        let _ = writeln!(t, "points = {points}\n");
    }
    if let Some(points) = s.inactivity_points {
        let _ = writeln!(
            t,
            "[inactivity]\nafter_days = {INACTIVITY_DAYS}\npoints = {points}"
        );
    }
    t
}

/// "Pricing page visit: +10 today, data says +17", one line per rule either side has.
pub(crate) fn diff(s: &Suggestion, current: &PointModel) -> Vec<String> {
    let mut lines = Vec::new();
    let mut used = vec![false; current.attributes.len() + current.behaviours.len()];
    let offset = current.attributes.len();
    for a in &s.attributes {
        let matched = current
            .attributes
            .iter()
            .position(|rule| same_attribute(rule, a));
        lines.push(match matched {
            Some(k) => {
                used[k] = true;
                let rule = &current.attributes[k];
                format!(
                    "{}: {:+} today, data says {:+}",
                    rule.name, rule.points, a.points
                )
            }
            None => format!(
                "{}: not in the rules today, data says {:+}",
                attribute_name(a),
                a.points
            ),
        });
    }
    for b in &s.behaviours {
        let matched = current
            .behaviours
            .iter()
            .position(|rule| same_behaviour(rule, b));
        lines.push(match matched {
            Some(k) => {
                used[offset + k] = true;
                let rule = &current.behaviours[k];
                format!(
                    "{}: {:+} per occurrence today, data says {:+}",
                    rule.name, rule.points, b.points
                )
            }
            None => format!(
                "{}: not in the rules today, data says {:+} per occurrence",
                behaviour_name(b),
                b.points
            ),
        });
    }
    let names = current
        .attributes
        .iter()
        .map(|r| (&r.name, r.points))
        .chain(current.behaviours.iter().map(|r| (&r.name, r.points)));
    for ((name, points), used) in names.zip(used) {
        if !used {
            lines.push(format!(
                "{name}: {points:+} today, not among the strongest signals in the data"
            ));
        }
    }
    lines
}

/// Whether a rule in use tests what the suggested attribute rule tests.
fn same_attribute(rule: &AttributeRule, a: &super::SuggestedAttribute) -> bool {
    !rule.negate
        && rule.column == a.column
        && match (&rule.condition, &a.test) {
            (Condition::Equals(v), AttributeTest::Equals(value)) => v.eq_ignore_ascii_case(value),
            (Condition::OneOf(vs), AttributeTest::Equals(value)) => {
                vs.iter().any(|v| v.eq_ignore_ascii_case(value))
            }
            (Condition::Missing, AttributeTest::Missing) => true,
            (Condition::Range { at_least, below }, AttributeTest::Range(low, high)) => {
                at_least == low && below == high
            }
            _ => false,
        }
}

/// Whether a rule in use counts what the suggested behaviour rule counts.
fn same_behaviour(rule: &BehaviourRule, b: &super::SuggestedBehaviour) -> bool {
    rule.event_type == b.event_type
        && match (&rule.detail, &b.detail) {
            (None, None) => true,
            (Some(DetailMatch::Exact(d)), Some(detail)) => d == detail,
            _ => false,
        }
}

fn attribute_name(a: &super::SuggestedAttribute) -> String {
    match &a.test {
        AttributeTest::Equals(value) => format!("{}: {value}", a.column),
        AttributeTest::Missing => format!("{}: missing", a.column),
        AttributeTest::Range(Some(low), Some(high)) => {
            format!("{}: {low} to under {high}", a.column)
        }
        AttributeTest::Range(Some(low), None) => format!("{}: {low} or more", a.column),
        AttributeTest::Range(None, Some(high)) => format!("{}: under {high}", a.column),
        AttributeTest::Range(None, None) => format!("{}: any", a.column),
    }
}

fn behaviour_name(b: &super::SuggestedBehaviour) -> String {
    match &b.detail {
        Some(detail) => format!("{} {detail}", b.event_type),
        None => b.event_type.clone(),
    }
}

/// A TOML string literal, escaped.
fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}
