//! Reading a point model from TOML and checking it, so that every mistake in the file is
//! reported with its line: unknown keys, wrong types, conditions that contradict each
//! other, unordered or overlapping thresholds, impossible windows or half-lives.

use serde::Deserialize;
use toml::Spanned;

use super::rules::*;
use crate::error::{Error, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    base_points: Option<Spanned<f64>>,
    #[serde(default)]
    tier: Vec<Spanned<RawBand>>,
    #[serde(default)]
    grade: Vec<Spanned<RawBand>>,
    #[serde(default)]
    attribute: Vec<Spanned<RawAttribute>>,
    #[serde(default)]
    behaviour: Vec<Spanned<RawBehaviour>>,
    inactivity: Option<Spanned<RawInactivity>>,
    #[serde(default)]
    age: Vec<Spanned<RawAge>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAge {
    name: Option<String>,
    from_days: Option<f64>,
    below_days: Option<f64>,
    points: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    name: String,
    from: f64,
    #[serde(default)]
    action: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttribute {
    name: Option<String>,
    column: String,
    points: f64,
    equals: Option<toml::Value>,
    one_of: Option<Vec<String>>,
    at_least: Option<f64>,
    below: Option<f64>,
    contains: Option<String>,
    matches: Option<String>,
    missing: Option<bool>,
    #[serde(default)]
    not: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBehaviour {
    name: Option<String>,
    event_type: String,
    detail: Option<String>,
    detail_prefix: Option<String>,
    detail_glob: Option<String>,
    points: f64,
    max_count: Option<i64>,
    max_points: Option<f64>,
    window_days: Option<f64>,
    half_life_days: Option<f64>,
    expire_after_days: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInactivity {
    after_days: f64,
    points: f64,
}

/// Parses and checks a point model; `source` names the file in messages.
pub(crate) fn parse(text: &str, source: &str) -> Result<PointModel> {
    let raw: RawModel = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |span| line_of(text, span.start));
        Error::Config {
            path: source.to_string(),
            line,
            reason: e.message().trim().to_string(),
        }
    })?;
    let at = |span: std::ops::Range<usize>| line_of(text, span.start);
    let fail = |line: usize, reason: String| Error::Config {
        path: source.to_string(),
        line,
        reason,
    };

    let base_points = match &raw.base_points {
        Some(base) if !within_bounds(*base.get_ref()) => {
            return Err(fail(
                at(base.span()),
                format!("base_points must be a number from -{MAX_POINTS} to {MAX_POINTS}"),
            ))
        }
        Some(base) => *base.get_ref(),
        None => 0.0,
    };
    if raw.tier.is_empty() {
        return Err(fail(
            1,
            "no [[tier]] defined: at least one score band is needed (e.g. cold, warm, sales_ready)"
                .into(),
        ));
    }
    let (tiers, action) = bands(&raw.tier, "tier", &at, &fail)?;
    let action_tier = action.unwrap_or(tiers.len() - 1);
    let (grades, grade_action) = bands(&raw.grade, "grade", &at, &fail)?;
    if let Some(index) = grade_action {
        return Err(fail(
            at(raw.grade[index].span()),
            "`action` applies to tiers only".into(),
        ));
    }

    let mut attributes = Vec::with_capacity(raw.attribute.len());
    for spanned in &raw.attribute {
        let line = at(spanned.span());
        attributes.push(attribute(spanned.get_ref(), line).map_err(|reason| fail(line, reason))?);
    }
    let mut behaviours = Vec::with_capacity(raw.behaviour.len());
    for spanned in &raw.behaviour {
        let line = at(spanned.span());
        behaviours.push(behaviour(spanned.get_ref(), line).map_err(|reason| fail(line, reason))?);
    }
    let inactivity = match &raw.inactivity {
        None => None,
        Some(spanned) => {
            let raw = spanned.get_ref();
            let line = at(spanned.span());
            positive(Some(raw.after_days), "after_days").map_err(|r| fail(line, r))?;
            points(raw.points).map_err(|r| fail(line, r))?;
            Some(Inactivity {
                after_days: raw.after_days,
                points: raw.points,
            })
        }
    };
    let mut ages: Vec<AgeRule> = Vec::with_capacity(raw.age.len());
    for spanned in &raw.age {
        let line = at(spanned.span());
        let rule = age(spanned.get_ref(), line).map_err(|reason| fail(line, reason))?;
        // Overlapping bands would add up for the leads in both, as overlapping tiers
        // (which are refused) would be ambiguous: a lead's age earns one band's points.
        let end = |r: &AgeRule| r.below_days.unwrap_or(f64::INFINITY);
        if let Some(other) = ages
            .iter()
            .find(|o| rule.from_days < end(o) && o.from_days < end(&rule))
        {
            return Err(fail(
                line,
                format!(
                    "age rule `{}` overlaps `{}` (line {}): a lead's age must fall in one band at most",
                    rule.name, other.name, other.line
                ),
            ));
        }
        ages.push(rule);
    }
    Ok(PointModel {
        source: source.to_string(),
        base_points,
        attributes,
        behaviours,
        inactivity,
        ages,
        tiers,
        grades,
        action_tier,
    })
}

/// An `[[age]]` rule: a band of lead age in days.
fn age(raw: &RawAge, line: usize) -> std::result::Result<AgeRule, String> {
    let from_days = raw.from_days.unwrap_or(0.0);
    if !(from_days.is_finite() && from_days >= 0.0) {
        return Err(format!(
            "from_days must be a number of days ≥ 0, not {from_days}"
        ));
    }
    if let Some(below) = raw.below_days {
        if !(below.is_finite() && below > from_days) {
            return Err(format!(
                "below_days ({below}) must be a number of days above from_days ({from_days})"
            ));
        }
    }
    if raw.from_days.is_none() && raw.below_days.is_none() {
        return Err("give from_days, below_days or both".into());
    }
    points(raw.points)?;
    let name = raw.name.clone().unwrap_or_else(|| match raw.below_days {
        Some(below) => format!("Lead age {from_days} to {below} days"),
        None => format!("Lead age {from_days}+ days"),
    });
    Ok(AgeRule {
        name,
        line,
        from_days,
        below_days: raw.below_days,
        points: raw.points,
    })
}

type At<'a> = dyn Fn(std::ops::Range<usize>) -> usize + 'a;
type Fail<'a> = dyn Fn(usize, String) -> Error + 'a;

/// Bands must have unique names and strictly ascending thresholds in file order.
fn bands(
    raw: &[Spanned<RawBand>],
    kind: &str,
    at: &At,
    fail: &Fail,
) -> Result<(Vec<Band>, Option<usize>)> {
    let mut found: Vec<Band> = Vec::with_capacity(raw.len());
    let mut action = None;
    for (index, spanned) in raw.iter().enumerate() {
        let band = spanned.get_ref();
        let line = at(spanned.span());
        if band.name.trim().is_empty() {
            return Err(fail(line, format!("{kind} name is empty")));
        }
        if !within_bounds(band.from) {
            return Err(fail(
                line,
                format!(
                    "{kind} `{}`: `from` must be a number from -{MAX_POINTS} to {MAX_POINTS}",
                    band.name
                ),
            ));
        }
        if found.iter().any(|b| b.name == band.name) {
            return Err(fail(
                line,
                format!("{kind} `{}` is defined twice", band.name),
            ));
        }
        if let Some(previous) = found.last() {
            if band.from <= previous.from {
                let how = if band.from == previous.from {
                    "overlaps"
                } else {
                    "is out of order with"
                };
                return Err(fail(
                    line,
                    format!(
                        "{kind} `{}` (from {}) {how} `{}` (from {}): list {kind}s from lowest to highest threshold, each strictly higher",
                        band.name, band.from, previous.name, previous.from
                    ),
                ));
            }
        }
        if band.action {
            if action.is_some() {
                return Err(fail(
                    line,
                    format!("only one {kind} can be the action {kind}"),
                ));
            }
            action = Some(index);
        }
        found.push(Band {
            name: band.name.clone(),
            from: band.from,
        });
    }
    Ok((found, action))
}

fn attribute(raw: &RawAttribute, line: usize) -> std::result::Result<AttributeRule, String> {
    points(raw.points)?;
    if raw.column.trim().is_empty() {
        return Err("`column` is empty".into());
    }
    let mut conditions = Vec::new();
    if let Some(value) = &raw.equals {
        conditions.push(match value {
            toml::Value::String(text) => Condition::Equals(text.clone()),
            toml::Value::Integer(n) => Condition::EqualsNumber(*n as f64),
            toml::Value::Float(x) => Condition::EqualsNumber(*x),
            toml::Value::Boolean(b) => Condition::Equals(b.to_string()),
            other => {
                return Err(format!(
                    "`equals` must be text or a number, not {}",
                    other.type_str()
                ))
            }
        });
    }
    if let Some(values) = &raw.one_of {
        if values.is_empty() {
            return Err("`one_of` is empty".into());
        }
        conditions.push(Condition::OneOf(values.clone()));
    }
    if raw.at_least.is_some() || raw.below.is_some() {
        if let (Some(lo), Some(hi)) = (raw.at_least, raw.below) {
            if lo >= hi {
                return Err(format!("empty range: at_least {lo} is not below {hi}"));
            }
        }
        for bound in [raw.at_least, raw.below].into_iter().flatten() {
            finite(bound, "range bound")?;
        }
        conditions.push(Condition::Range {
            at_least: raw.at_least,
            below: raw.below,
        });
    }
    if let Some(text) = &raw.contains {
        conditions.push(Condition::Contains(text.clone()));
    }
    if let Some(pattern) = &raw.matches {
        regex::Regex::new(pattern)
            .map_err(|e| format!("`matches` is not a valid regular expression: {e}"))?;
        conditions.push(Condition::Matches(pattern.clone()));
    }
    match raw.missing {
        Some(true) => conditions.push(Condition::Missing),
        Some(false) => {
            return Err(
                "`missing = false` means nothing: use `not = true` with another condition".into(),
            )
        }
        None => {}
    }
    let condition = match conditions.len() {
        1 => conditions.remove(0),
        0 => return Err("no condition: give one of equals, one_of, at_least/below, contains, matches, missing".into()),
        _ => return Err("more than one condition: give exactly one of equals, one_of, at_least/below, contains, matches, missing".into()),
    };
    if raw.not && condition == Condition::Missing {
        return Err(
            "`not = true` with `missing = true`: a rule on present values needs a condition".into(),
        );
    }
    let name = raw
        .name
        .clone()
        .unwrap_or_else(|| describe(&raw.column, &condition, raw.not));
    Ok(AttributeRule {
        name,
        line,
        column: raw.column.clone(),
        condition,
        negate: raw.not,
        points: raw.points,
    })
}

fn behaviour(raw: &RawBehaviour, line: usize) -> std::result::Result<BehaviourRule, String> {
    points(raw.points)?;
    if raw.event_type.trim().is_empty() {
        return Err("`event_type` is empty".into());
    }
    let details = [&raw.detail, &raw.detail_prefix, &raw.detail_glob];
    if details.iter().filter(|d| d.is_some()).count() > 1 {
        return Err("give at most one of detail, detail_prefix, detail_glob".into());
    }
    let detail = if let Some(text) = &raw.detail {
        Some(DetailMatch::Exact(text.clone()))
    } else if let Some(text) = &raw.detail_prefix {
        Some(DetailMatch::Prefix(text.clone()))
    } else {
        raw.detail_glob.as_ref().map(|pattern| DetailMatch::Glob {
            pattern: pattern.clone(),
            regex: glob_to_regex(pattern),
        })
    };
    let max_count = match raw.max_count {
        None => None,
        Some(n) if n >= 1 && n <= i64::from(u32::MAX) => Some(n as u32),
        Some(n) => return Err(format!("max_count must be at least 1, not {n}")),
    };
    positive(raw.max_points, "max_points")?;
    positive(raw.window_days, "window_days")?;
    positive(raw.half_life_days, "half_life_days")?;
    positive(raw.expire_after_days, "expire_after_days")?;
    let decay = match (raw.half_life_days, raw.expire_after_days) {
        (Some(_), Some(_)) => {
            return Err("give half_life_days or expire_after_days, not both".into())
        }
        (Some(days), None) => Decay::HalfLife(days),
        (None, Some(days)) => Decay::Expire(days),
        (None, None) => Decay::None,
    };
    let name = raw.name.clone().unwrap_or_else(|| match &detail {
        None => raw.event_type.clone(),
        Some(DetailMatch::Exact(d)) => format!("{} {d}", raw.event_type),
        Some(DetailMatch::Prefix(d)) => format!("{} {d}…", raw.event_type),
        Some(DetailMatch::Glob { pattern, .. }) => format!("{} {pattern}", raw.event_type),
    });
    Ok(BehaviourRule {
        name,
        line,
        event_type: raw.event_type.clone(),
        detail,
        points: raw.points,
        max_count,
        max_points: raw.max_points,
        window_days: raw.window_days,
        decay,
    })
}

fn describe(column: &str, condition: &Condition, negate: bool) -> String {
    let test = match condition {
        Condition::Equals(v) => format!("is {v}"),
        Condition::EqualsNumber(v) => format!("is {v}"),
        Condition::OneOf(vs) => format!("is one of {}", vs.join(", ")),
        Condition::Range { at_least, below } => match (at_least, below) {
            (Some(lo), Some(hi)) => format!("in {lo}..{hi}"),
            (Some(lo), None) => format!("at least {lo}"),
            (None, Some(hi)) => format!("below {hi}"),
            (None, None) => "any".into(),
        },
        Condition::Contains(v) => format!("contains {v}"),
        Condition::Matches(v) => format!("matches {v}"),
        Condition::Missing => "missing".into(),
    };
    if negate {
        format!("{column} not {test}")
    } else {
        format!("{column} {test}")
    }
}

fn finite(value: f64, key: &str) -> std::result::Result<(), String> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(format!("`{key}` must be a finite number"))
    }
}

/// The largest number of points a rule, the base or a band threshold may hold. Every
/// published score is a sum of such values times counts, so bounding them keeps every
/// score finite: a rule of 1e308 points gave every lead infinite points and made it
/// sales-ready, and ±1e308 together gave NaN.
pub(crate) const MAX_POINTS: f64 = 1_000_000.0;

/// Whether `value` is a number of points leadscore accepts.
pub(crate) fn within_bounds(value: f64) -> bool {
    value.is_finite() && value.abs() <= MAX_POINTS
}

/// Points of a rule: finite and within ±[`MAX_POINTS`].
fn points(value: f64) -> std::result::Result<(), String> {
    if within_bounds(value) {
        Ok(())
    } else {
        Err(format!(
            "`points` must be a number from -{MAX_POINTS} to {MAX_POINTS}"
        ))
    }
}

fn positive(value: Option<f64>, key: &str) -> std::result::Result<(), String> {
    match value {
        Some(v) if !(v.is_finite() && v > 0.0) => Err(format!(
            "`{key}` must be a positive number of days or points, not {v}"
        )),
        _ => Ok(()),
    }
}

/// `*` is any run of characters, `?` exactly one; everything else is literal.
pub(crate) fn glob_to_regex(pattern: &str) -> String {
    let mut regex = String::from("^");
    for c in pattern.chars() {
        match c {
            '*' => regex.push_str(".*"),
            '?' => regex.push('.'),
            c => regex.push_str(&regex::escape(&c.to_string())),
        }
    }
    regex.push('$');
    regex
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
