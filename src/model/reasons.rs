//! Reasons a salesperson reads: each feature's contribution to a lead's log-odds,
//! relative to an average training lead (weight × standardised value), turned into words
//! ("page_visit /pricing 3× in the last 30 days", "job_title: Founder", "no activity for
//! 94 days"), strongest first, with + for towards winning and − against.

use ndarray::Array2;

use super::train::LinearModel;
use crate::features::spec::OTHER;

/// How many reasons a lead gets.
pub const REASONS_SHOWN: usize = 4;

/// One reasons string per row of `x`.
pub fn reasons(linear: &LinearModel, names: &[String], x: &Array2<f64>) -> Vec<String> {
    let mut out = Vec::with_capacity(x.nrows());
    let mut contributions: Vec<(f64, usize)> = Vec::with_capacity(names.len());
    for row in x.rows() {
        contributions.clear();
        for (j, &value) in row.iter().enumerate() {
            let c = linear.weights[j] * (value - linear.means[j]) / linear.scales[j];
            if c.abs() > 0.05 {
                contributions.push((c, j));
            }
        }
        contributions.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()).then(a.1.cmp(&b.1)));
        let words: Vec<String> = contributions
            .iter()
            .take(REASONS_SHOWN)
            .map(|&(c, j)| {
                format!(
                    "{} {}",
                    if c > 0.0 { "+" } else { "-" },
                    describe(&names[j], row[j])
                )
            })
            .collect();
        out.push(words.join("; "));
    }
    out
}

/// A feature and its value in words.
pub fn describe(name: &str, value: f64) -> String {
    let count = || (value.exp() - 1.0).round().max(0.0) as i64;
    let window = |suffix: &str| match suffix {
        "all" => "in total".to_string(),
        days => format!("in the last {} days", days.trim_end_matches('d')),
    };
    match name {
        "days_since_last_log" => return format!("no activity for {} days", count()),
        "never_active" => {
            return if value > 0.5 {
                "no activity recorded".into()
            } else {
                "has activity".into()
            }
        }
        "active_days_90d_log" => return format!("active on {} days in the last 90", count()),
        "lead_age_days_log" => return format!("lead is {} days old", count()),
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
            (_, false) => format!("{column}: not {category}"),
        };
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
