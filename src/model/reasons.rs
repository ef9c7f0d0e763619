//! Reasons a salesperson reads: each feature's contribution to a lead's log-odds,
//! relative to an average training lead (weight × standardised value), turned into words
//! ("page_visit /pricing 3× in the last 30 days", "job_title: Founder", "no activity for
//! 94 days"), strongest first, with + for towards winning and − against.

use std::collections::BTreeMap;

use ndarray::Array2;

use super::train::LinearModel;
use crate::features::spec::{Topic, OTHER};

/// How many reasons a lead gets.
pub const REASONS_SHOWN: usize = 4;

/// The features of one topic: (contribution, column) each.
type Members = Vec<(f64, usize)>;

/// Contributions (log-odds) smaller than this are not worth a salesperson's attention.
const NOTABLE: f64 = 0.05;

/// One reasons string per row. `raw` holds the features as built (missing values NaN,
/// nothing clipped): what the lead really is, which is what the words say. `prepared`
/// holds them as the weights saw them (imputed, clipped): what the contributions are
/// computed from, so an imputed value contributes nothing and is never cited; nor is a
/// value outside the training range.
/// Features about one thing (`topics`) are summed into one reason.
pub fn reasons(
    linear: &LinearModel,
    names: &[String],
    topics: &[Topic],
    raw: &Array2<f64>,
    prepared: &Array2<f64>,
) -> Vec<String> {
    let mut out = Vec::with_capacity(raw.nrows());
    for (raw_row, row) in raw.rows().into_iter().zip(prepared.rows()) {
        let raw_row = raw_row.to_vec();
        let mut by_topic: BTreeMap<&Topic, (f64, Members)> = BTreeMap::new();
        for (j, &value) in row.iter().enumerate() {
            let c = linear.weights[j] * (value - linear.means[j]) / linear.scales[j];
            let entry = by_topic.entry(&topics[j]).or_default();
            entry.0 += c;
            entry.1.push((c, j));
        }
        // A value outside what training saw is an extrapolation: it still counts in the
        // probability (bounded), but history cannot vouch for it, so it is not a reason.
        let unseen = |members: &Members| {
            members.iter().any(|&(_, j)| {
                let v = raw_row[j];
                v.is_finite() && (v < linear.lower[j] || v > linear.upper[j])
            })
        };
        let mut notable: Vec<(f64, &Topic, Members)> = by_topic
            .into_iter()
            .filter(|(_, (sum, members))| sum.abs() > NOTABLE && !unseen(members))
            .map(|(topic, (sum, members))| (sum, topic, members))
            .collect();
        notable.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()).then(a.1.cmp(b.1)));
        let words: Vec<String> = notable
            .iter()
            .take(REASONS_SHOWN)
            .filter_map(|(sum, topic, members)| {
                let text = topic_words(topic, members, names, &raw_row)?;
                Some(format!("{} {text}", if *sum > 0.0 { "+" } else { "-" }))
            })
            .collect();
        out.push(words.join("; "));
    }
    out
}

/// A topic in words, from the lead's raw values of its features.
fn topic_words(
    topic: &Topic,
    members: &[(f64, usize)],
    names: &[String],
    raw: &[f64],
) -> Option<String> {
    let strongest = members
        .iter()
        .max_by(|a, b| a.0.abs().total_cmp(&b.0.abs()).then(b.1.cmp(&a.1)))?
        .1;
    let member = |suffix: &str| {
        members
            .iter()
            .map(|&(_, j)| j)
            .find(|&j| names[j].ends_with(suffix))
    };
    match topic {
        Topic::Recency => {
            if member("never_active").is_some_and(|j| raw[j] > 0.5) {
                return Some("no activity yet".into());
            }
            let j = member("days_since_last_log")?;
            Some(describe(&names[j], raw[j]))
        }
        Topic::Category(column) => {
            // The category the lead has: one of its one-hot columns is 1.
            let j = members.iter().map(|&(_, j)| j).find(|&j| raw[j] > 0.5)?;
            let value = names[j].strip_prefix(column.as_str())?.strip_prefix('=')?;
            Some(match value {
                "<missing>" => format!("{column}: missing"),
                "<other>" => format!("{column}: an uncommon value"),
                value => format!("{column}: {value}"),
            })
        }
        Topic::Number(column) => {
            if member("=<missing>").is_some_and(|j| raw[j] > 0.5) {
                return Some(format!("{column}: missing"));
            }
            let j = member(crate::features::spec::NUMERIC_VALUE)?;
            raw[j]
                .is_finite()
                .then(|| format!("{column}: {}", number(raw[j])))
        }
        _ => Some(describe(&names[strongest], raw[strongest])),
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
pub fn days_text(days: f64) -> String {
    if days == 1.0 {
        "1 day".to_string()
    } else {
        format!("{} days", (days * 100.0).round() / 100.0)
    }
}

/// A feature and its value in words.
pub fn describe(name: &str, value: f64) -> String {
    let count = || (value.exp() - 1.0).round().max(0.0) as i64;
    let window = |suffix: &str| match suffix {
        "all" => "in total".to_string(),
        days => format!("in the last {} days", days.trim_end_matches('d')),
    };
    match name {
        "days_since_last_log" => {
            return match count() {
                0 => "active within the last day".into(),
                n => format!("no activity for {}", days_text(n as f64)),
            }
        }
        "never_active" => {
            return if value > 0.5 {
                "no activity recorded".into()
            } else {
                "has activity".into()
            }
        }
        "active_days_90d_log" => return format!("active on {} days in the last 90", count()),
        "lead_age_days_log" => {
            return match count() {
                0 => "lead is less than a day old".into(),
                n => format!("lead is {} old", days_text(n as f64)),
            }
        }
        "rule_fit_points" => return format!("fit points from the rules: {value}"),
        "rule_engagement_points" => return format!("engagement points from the rules: {value}"),
        _ => {}
    }
    // Activity counts first: a detail such as "/pricing?plan=team" may hold '=' itself.
    if let Some((head, suffix)) = name.rsplit_once('_') {
        let is_window = suffix == "all"
            || suffix
                .strip_suffix('d')
                .is_some_and(|d| d.parse::<u32>().is_ok());
        if is_window {
            let times = |what: String| match count() {
                0 => format!("no {what} {}", window(suffix)),
                n => format!("{what} {n}× {}", window(suffix)),
            };
            if let Some((event, detail)) = head.split_once('[') {
                if let Some(detail) = detail.strip_suffix(']') {
                    return times(format!("{event} {detail}"));
                }
            }
            if head == OTHER {
                return times("other activity".into());
            }
            if !head.contains('=') {
                return times(head.to_string());
            }
        }
    }
    if let Some(grade) = name.strip_prefix("rule_grade=") {
        return if value > 0.5 {
            format!("fit grade {grade}")
        } else {
            format!("not fit grade {grade}")
        };
    }
    if let Some((column, category)) = name.split_once('=') {
        return match (category, value > 0.5) {
            ("<missing>", true) => format!("{column}: missing"),
            ("<missing>", false) => format!("{column}: given"),
            ("<other>", true) => format!("{column}: an uncommon value"),
            (_, true) => format!("{column}: {category}"),
            (_, false) => format!("{column} is not {category}"),
        };
    }
    if let Some(column) = name.strip_suffix(crate::features::spec::NUMERIC_VALUE) {
        return format!("{column}: {}", number(value));
    }
    if let Some(column) = name.strip_suffix("_log") {
        let raw = if value < 0.0 {
            -((-value).exp() - 1.0)
        } else {
            value.exp() - 1.0
        };
        return format!("{column}: {}", raw.round());
    }
    format!("{name} = {value:.2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_read_as_words() {
        assert_eq!(
            describe("page_visit[/pricing]_30d", 4f64.ln()),
            "page_visit /pricing 3× in the last 30 days"
        );
        assert_eq!(
            describe("demo_request_all", 2f64.ln()),
            "demo_request 1× in total"
        );
        assert_eq!(
            describe("days_since_last_log", 95f64.ln()),
            "no activity for 94 days"
        );
        assert_eq!(describe("job_title=Founder", 1.0), "job_title: Founder");
        assert_eq!(
            describe("country=<other>", 1.0),
            "country: an uncommon value"
        );
        assert_eq!(
            describe("company_size_log", 121f64.ln()),
            "company_size: 120"
        );
        assert_eq!(
            describe("page_visit[/pricing?plan=team]_7d", 2f64.ln()),
            "page_visit /pricing?plan=team 1× in the last 7 days"
        );
        assert_eq!(
            describe("<other>_90d", 3f64.ln()),
            "other activity 2× in the last 90 days"
        );
        assert_eq!(describe("source=web_all", 1.0), "source: web_all");
        assert_eq!(
            describe("rule_engagement_points", 32.0),
            "engagement points from the rules: 32"
        );
        assert_eq!(
            describe("email_open_30d", 0.0),
            "no email_open in the last 30 days"
        );
        assert_eq!(describe("rule_grade=A", 1.0), "fit grade A");
    }
}
