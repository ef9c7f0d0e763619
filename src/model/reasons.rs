//! Reasons a salesperson reads: each feature's contribution to a lead's log-odds,
//! relative to an average training lead (weight × standardised value), turned into words
//! ("page_visit /pricing 3× in the last 30 days", "job_title: Founder", "no activity for
//! 94 days"), strongest first, with + for towards winning and − against.

use std::collections::BTreeMap;

use ndarray::Array2;
use rayon::prelude::*;

use super::train::LinearModel;
use crate::features::descriptor::{CategoryValue, Feature, NumberForm};
use crate::features::spec::Topic;

/// How many reasons a lead gets.
pub(crate) const REASONS_SHOWN: usize = 4;

/// The features of one topic: (contribution, column) each.
type Members = Vec<(f64, usize)>;

/// Contributions (log-odds) smaller than this are not worth a salesperson's attention.
const NOTABLE: f64 = 0.05;

/// One reasons string per row. `raw` holds the features as built (missing values NaN,
/// nothing clipped): what the lead really is, which is what the words say. `prepared`
/// holds them as the weights saw them (imputed, clipped): what the contributions are
/// computed from, so an imputed value contributes nothing and is never cited; nor is a
/// value outside the training range.
/// Features about one thing (`topics`) are summed into one reason. Rows are worded in
/// parallel blocks; each row's words depend on that row alone, so the order of the work
/// does not show in the output.
pub(crate) fn reasons(
    linear: &LinearModel,
    features: &[Feature],
    raw: &Array2<f64>,
    prepared: &Array2<f64>,
) -> Vec<String> {
    let topics: Vec<Topic> = features.iter().map(Feature::topic).collect();
    let grouping = TopicGrouping::new(&topics);
    let rows: Vec<usize> = (0..raw.nrows()).collect();
    rows.par_chunks(ROWS_PER_TASK)
        .flat_map_iter(|block| {
            let mut scratch = RowScratch::new(features.len(), grouping.members.len());
            block
                .iter()
                .map(|&i| row_reasons(linear, features, &grouping, raw, prepared, i, &mut scratch))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Rows worded per parallel task: enough to amortise the task, small enough to balance.
const ROWS_PER_TASK: usize = 4096;

/// The features of each topic, with topics numbered in their sorted order, so that ties
/// between equally strong topics break the same way as sorting the topics themselves.
struct TopicGrouping<'a> {
    /// Topic number of each feature column.
    topic_of: Vec<usize>,
    /// The topics, by number.
    topics: Vec<&'a Topic>,
    /// Each topic's feature columns, ascending.
    members: Vec<Vec<usize>>,
}

impl<'a> TopicGrouping<'a> {
    fn new(topics: &'a [Topic]) -> Self {
        let sorted: BTreeMap<&Topic, usize> = {
            let mut distinct: Vec<&Topic> = topics.iter().collect();
            distinct.sort();
            distinct.dedup();
            distinct
                .into_iter()
                .enumerate()
                .map(|(n, t)| (t, n))
                .collect()
        };
        let topic_of: Vec<usize> = topics.iter().map(|t| sorted[t]).collect();
        let mut members = vec![Vec::new(); sorted.len()];
        for (j, &t) in topic_of.iter().enumerate() {
            members[t].push(j);
        }
        TopicGrouping {
            topic_of,
            topics: sorted.keys().copied().collect(),
            members,
        }
    }
}

/// Buffers one row's wording reuses, so that a row allocates only its words.
struct RowScratch {
    raw_row: Vec<f64>,
    contribution: Vec<f64>,
    topic_sum: Vec<f64>,
    notable: Vec<(f64, usize)>,
    members: Members,
}

impl RowScratch {
    fn new(columns: usize, topics: usize) -> Self {
        RowScratch {
            raw_row: vec![0.0; columns],
            contribution: vec![0.0; columns],
            topic_sum: vec![0.0; topics],
            notable: Vec::with_capacity(topics),
            members: Vec::new(),
        }
    }
}

/// The reasons string of row `i`.
fn row_reasons(
    linear: &LinearModel,
    features: &[Feature],
    grouping: &TopicGrouping,
    raw: &Array2<f64>,
    prepared: &Array2<f64>,
    i: usize,
    scratch: &mut RowScratch,
) -> String {
    let RowScratch {
        raw_row,
        contribution,
        topic_sum,
        notable,
        members,
    } = scratch;
    topic_sum.iter_mut().for_each(|s| *s = 0.0);
    for j in 0..features.len() {
        raw_row[j] = raw[[i, j]];
        let c = linear.weights[j] * (prepared[[i, j]] - linear.means[j]) / linear.scales[j];
        contribution[j] = c;
        topic_sum[grouping.topic_of[j]] += c;
    }
    // A value outside what training saw is an extrapolation: it still counts in the
    // probability (bounded), but history cannot vouch for it, so it is not a reason.
    let unseen = |t: usize| {
        grouping.members[t].iter().any(|&j| {
            let v = raw_row[j];
            v.is_finite() && (v < linear.lower[j] || v > linear.upper[j])
        })
    };
    notable.clear();
    notable.extend(
        topic_sum
            .iter()
            .enumerate()
            .filter(|&(t, sum)| sum.abs() > NOTABLE && !unseen(t))
            .map(|(t, &sum)| (sum, t)),
    );
    notable.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()).then(a.1.cmp(&b.1)));
    let mut words = Vec::with_capacity(REASONS_SHOWN);
    for &(sum, t) in notable.iter().take(REASONS_SHOWN) {
        members.clear();
        members.extend(grouping.members[t].iter().map(|&j| (contribution[j], j)));
        if let Some(text) = topic_words(grouping.topics[t], members, features, raw_row) {
            words.push(format!("{} {text}", if sum > 0.0 { "+" } else { "-" }));
        }
    }
    words.join("; ")
}

/// The words of one topic: a category by the value the lead has, a number by its value
/// (or its absence), recency by the silence (or no activity at all), anything else by
/// its strongest column.
fn topic_words(
    topic: &Topic,
    members: &[(f64, usize)],
    features: &[Feature],
    raw: &[f64],
) -> Option<String> {
    let strongest = members
        .iter()
        .max_by(|a, b| a.0.abs().total_cmp(&b.0.abs()).then(b.1.cmp(&a.1)))?
        .1;
    let member = |wanted: &dyn Fn(&Feature) -> bool| {
        members
            .iter()
            .map(|&(_, j)| j)
            .find(|&j| wanted(&features[j]))
    };
    match topic {
        Topic::Recency => {
            if member(&|f| *f == Feature::NeverActive).is_some_and(|j| raw[j] > 0.5) {
                return Some("no activity yet".into());
            }
            let j = member(&|f| *f == Feature::DaysSinceLast)?;
            Some(describe(&features[j], raw[j]))
        }
        Topic::Category(column) => {
            // The category the lead has: one of its one-hot columns is 1.
            let j = members.iter().map(|&(_, j)| j).find(|&j| raw[j] > 0.5)?;
            let Feature::Category { value, .. } = &features[j] else {
                return None;
            };
            Some(match value {
                CategoryValue::Missing => format!("{column}: missing"),
                CategoryValue::Other => format!("{column}: an uncommon value"),
                CategoryValue::Value(value) => format!("{column}: {value}"),
            })
        }
        Topic::Number(column) => {
            let form = |wanted: NumberForm| move |f: &Feature| matches!(f, Feature::Number { form, .. } if *form == wanted);
            if member(&form(NumberForm::Missing)).is_some_and(|j| raw[j] > 0.5) {
                return Some(format!("{column}: missing"));
            }
            let j = member(&form(NumberForm::Value))?;
            raw[j]
                .is_finite()
                .then(|| format!("{column}: {}", number(raw[j])))
        }
        _ => Some(describe(&features[strongest], raw[strongest])),
    }
}

/// A number as a person writes it: whole numbers without decimals, others with up to
/// three significant digits.
fn number(value: f64) -> String {
    if value == value.round() && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    let digits = (2 - value.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let text = format!("{value:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// "1 day", "12 days", "0.5 days".
pub(crate) fn days_text(days: f64) -> String {
    if days == 1.0 {
        "1 day".to_string()
    } else {
        format!("{} days", (days * 100.0).round() / 100.0)
    }
}

/// A feature and its value in words.
pub(crate) fn describe(feature: &Feature, value: f64) -> String {
    let count = || (value.exp() - 1.0).round().max(0.0) as i64;
    let flag = value > 0.5;
    match feature {
        Feature::Count {
            event,
            detail,
            window,
        } => {
            let what = match (event, detail) {
                (None, _) => "other activity".to_string(),
                (Some(event), Some(detail)) => format!("{event} {detail}"),
                (Some(event), None) => event.clone(),
            };
            let when = match window {
                None => "in total".to_string(),
                Some(days) => format!("in the last {days} days"),
            };
            match count() {
                0 => format!("no {what} {when}"),
                n => format!("{what} {n}× {when}"),
            }
        }
        Feature::DaysSinceLast => match count() {
            0 => "active within the last day".into(),
            n => format!("no activity for {}", days_text(n as f64)),
        },
        Feature::NeverActive if flag => "no activity recorded".into(),
        Feature::NeverActive => "has activity".into(),
        Feature::ActiveDays90 => format!("active on {} days in the last 90", count()),
        Feature::LeadAge => match count() {
            0 => "lead is less than a day old".into(),
            n => format!("lead is {} old", days_text(n as f64)),
        },
        Feature::RuleFitPoints => format!("fit points from the rules: {value}"),
        Feature::RuleEngagementPoints => format!("engagement points from the rules: {value}"),
        Feature::RuleGrade(grade) if flag => format!("fit grade {grade}"),
        Feature::RuleGrade(grade) => format!("not fit grade {grade}"),
        Feature::Category {
            column,
            value: CategoryValue::Missing,
        }
        | Feature::Number {
            column,
            form: NumberForm::Missing,
        } => match flag {
            true => format!("{column}: missing"),
            false => format!("{column}: given"),
        },
        Feature::Category {
            column,
            value: CategoryValue::Other,
        } if flag => format!("{column}: an uncommon value"),
        Feature::Category {
            column,
            value: CategoryValue::Other,
        } => format!("{column} is not <other>"),
        Feature::Category {
            column,
            value: CategoryValue::Value(category),
        } => match flag {
            true => format!("{column}: {category}"),
            false => format!("{column} is not {category}"),
        },
        Feature::Number {
            column,
            form: NumberForm::Value,
        } => format!("{column}: {}", number(value)),
        Feature::Number {
            column,
            form: NumberForm::Log,
        } => {
            let raw = if value < 0.0 {
                -((-value).exp() - 1.0)
            } else {
                value.exp() - 1.0
            };
            format!("{column}: {}", raw.round())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(event: Option<&str>, detail: Option<&str>, window: Option<u32>) -> Feature {
        Feature::Count {
            event: event.map(String::from),
            detail: detail.map(String::from),
            window,
        }
    }

    fn category(column: &str, value: CategoryValue) -> Feature {
        Feature::Category {
            column: column.into(),
            value,
        }
    }

    #[test]
    fn features_read_as_words() {
        assert_eq!(
            describe(
                &count(Some("page_visit"), Some("/pricing"), Some(30)),
                4f64.ln()
            ),
            "page_visit /pricing 3× in the last 30 days"
        );
        assert_eq!(
            describe(&count(Some("demo_request"), None, None), 2f64.ln()),
            "demo_request 1× in total"
        );
        assert_eq!(
            describe(&Feature::DaysSinceLast, 95f64.ln()),
            "no activity for 94 days"
        );
        assert_eq!(
            describe(
                &category("job_title", CategoryValue::Value("Founder".into())),
                1.0
            ),
            "job_title: Founder"
        );
        assert_eq!(
            describe(&category("country", CategoryValue::Other), 1.0),
            "country: an uncommon value"
        );
        let size_log = Feature::Number {
            column: "company_size".into(),
            form: NumberForm::Log,
        };
        assert_eq!(describe(&size_log, 121f64.ln()), "company_size: 120");
        assert_eq!(
            describe(
                &count(Some("page_visit"), Some("/pricing?plan=team"), Some(7)),
                2f64.ln()
            ),
            "page_visit /pricing?plan=team 1× in the last 7 days"
        );
        assert_eq!(
            describe(&count(None, None, Some(90)), 3f64.ln()),
            "other activity 2× in the last 90 days"
        );
        assert_eq!(
            describe(
                &category("source", CategoryValue::Value("web_all".into())),
                1.0
            ),
            "source: web_all"
        );
        assert_eq!(
            describe(&Feature::RuleEngagementPoints, 32.0),
            "engagement points from the rules: 32"
        );
        assert_eq!(
            describe(&count(Some("email_open"), None, Some(30)), 0.0),
            "no email_open in the last 30 days"
        );
        assert_eq!(
            describe(&Feature::RuleGrade("A".into()), 1.0),
            "fit grade A"
        );
    }
}
