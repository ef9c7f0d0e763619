//! A lead's path through the rescore history, and why it moved: between any two runs,
//! which rules started or stopped giving it points, which reasons appeared or went
//! away, and whether the model changed. The answer to "why did this lead drop out of
//! sales_ready since Monday?", for one lead on the terminal or for every lead as a
//! table for dashboards.
//!
//! Each history partition (`history/as_of=<T>/scores.parquet`) holds a run's scores with
//! the rules that gave each lead points (`rules`, `rule_points`) and the model it ran
//! (`model`). A reason is the same reason in two runs when its words are the same with
//! other numbers ("lead is 149 days old" and "lead is 156 days old"), so that only
//! reasons that really came or went are listed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{MODEL, RULES, RULE_POINTS};
use crate::data::columns::LEAD_ID;
use crate::error::{Error, Result};

/// One run's scores of one lead.
#[derive(Debug, Clone, PartialEq)]
pub struct RunScore {
    /// The run's as-of time (ISO 8601).
    pub as_of: String,
    /// Rule points.
    pub points: f64,
    /// Rule tier.
    pub tier: String,
    /// Predicted probability.
    pub probability: f64,
    /// The 1–99 score.
    pub score: i64,
    /// The model the run scored with, when the run recorded it.
    pub model: Option<String>,
    /// The rules that gave points, with how many.
    pub rules: Vec<(String, f64)>,
    /// The reasons, in order.
    pub reasons: Vec<String>,
}

/// What changed for a lead between two consecutive runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Rules that gave points in the later run and not in the earlier, with the points.
    pub rules_started: Vec<(String, f64)>,
    /// Rules that gave points in the earlier run and not in the later, with the points.
    pub rules_stopped: Vec<(String, f64)>,
    /// Rules that gave points in both runs, but not as many (decay, caps, more or fewer
    /// occurrences), with the points before and after.
    pub rules_changed: Vec<(String, f64, f64)>,
    /// Reasons in the later run only.
    pub reasons_appeared: Vec<String>,
    /// Reasons in the earlier run only.
    pub reasons_gone: Vec<String>,
}

/// The runs in `dir`'s history from `since` (ISO as-of text, inclusive) on, oldest
/// first: (as-of text, scores file).
fn runs(dir: &Path, since: Option<&str>) -> Result<Vec<(String, PathBuf)>> {
    let history = dir.join("history");
    let entries = std::fs::read_dir(&history).map_err(|e| Error::InputFile {
        path: history.clone(),
        reason: format!("no rescore history here: {e}"),
    })?;
    let mut runs: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stamp = name.strip_prefix("as_of=")?.to_string();
            let file = e.path().join("scores.parquet");
            file.is_file().then(|| (as_of_of(&stamp), file))
        })
        .filter(|(as_of, _)| since.is_none_or(|since| as_of.as_str() >= since))
        .collect();
    runs.sort();
    Ok(runs)
}

/// `2026-01-01T00-00-00Z` (a partition's stamp) as `2026-01-01T00:00:00Z`.
fn as_of_of(stamp: &str) -> String {
    match stamp.split_once('T') {
        Some((day, time)) => format!("{day}T{}", time.replace('-', ":")),
        None => stamp.to_string(),
    }
}

/// Every run's scores of the leads `lead` picks (all when `None`), one row per (lead,
/// run), by lead then time: `lead_id, as_of, points, tier, probability, score, model,
/// rules, rule_points, reasons` (the last four null in runs that did not record them).
pub fn history_rows(dir: &Path, since: Option<&str>, lead: Option<&str>) -> Result<DataFrame> {
    let mut frames = Vec::new();
    for (as_of, file) in runs(dir, since)? {
        let mut scan = LazyFrame::scan_parquet(
            PlRefPath::from(file.to_string_lossy().as_ref()),
            ScanArgsParquet::default(),
        )?;
        if let Some(lead) = lead {
            scan = scan.filter(col(LEAD_ID).eq(lit(lead)));
        }
        let schema = scan.collect_schema()?;
        let or_null = |name: &str, dtype: DataType| {
            if schema.contains(name) {
                col(name)
            } else {
                lit(NULL).cast(dtype).alias(name)
            }
        };
        frames.push(scan.select([
            col(LEAD_ID),
            lit(as_of).alias("as_of"),
            col("points").cast(DataType::Float64),
            col("tier"),
            col("probability"),
            col("score").cast(DataType::Int64),
            or_null(MODEL, DataType::String),
            or_null(RULES, DataType::List(Box::new(DataType::String))),
            or_null(RULE_POINTS, DataType::List(Box::new(DataType::Float64))),
            or_null("reasons", DataType::String),
        ]));
    }
    if frames.is_empty() {
        return Err(Error::InputFile {
            path: dir.join("history"),
            reason: "no rescore run in the history (from that time on)".into(),
        });
    }
    Ok(concat(frames, UnionArgs::default())?
        .sort(
            ["lead_id", "as_of"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?)
}

/// The rows of `history_rows` as runs, in order.
pub fn run_scores(rows: &DataFrame) -> Result<Vec<RunScore>> {
    let as_of = rows.column("as_of")?.str()?;
    let points = rows.column("points")?.f64()?;
    let tier = rows.column("tier")?.str()?;
    let probability = rows.column("probability")?.f64()?;
    let score = rows.column("score")?.i64()?;
    let model = rows.column(MODEL)?.str()?;
    let rules = rows.column(RULES)?.list()?;
    let rule_points = rows.column(RULE_POINTS)?.list()?;
    let reasons = rows.column("reasons")?.str()?;
    let mut out = Vec::with_capacity(rows.height());
    for i in 0..rows.height() {
        let names: Vec<String> = match rules.get_as_series(i) {
            Some(s) => s.str()?.iter().flatten().map(str::to_string).collect(),
            None => Vec::new(),
        };
        let given: Vec<f64> = match rule_points.get_as_series(i) {
            Some(s) => s.f64()?.iter().map(|p| p.unwrap_or(0.0)).collect(),
            None => Vec::new(),
        };
        out.push(RunScore {
            as_of: as_of.get(i).unwrap_or("").to_string(),
            points: points.get(i).unwrap_or(f64::NAN),
            tier: tier.get(i).unwrap_or("").to_string(),
            probability: probability.get(i).unwrap_or(f64::NAN),
            score: score.get(i).unwrap_or(0),
            model: model.get(i).map(str::to_string),
            rules: names.into_iter().zip(given).collect(),
            reasons: reasons
                .get(i)
                .map(|r| {
                    r.split("; ")
                        .filter(|r| !r.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    Ok(out)
}

/// What changed from `before` to `after`.
pub fn step(before: &RunScore, after: &RunScore) -> Step {
    let names = |run: &RunScore| -> BTreeSet<String> {
        run.rules.iter().map(|(name, _)| name.clone()).collect()
    };
    let (was, is) = (names(before), names(after));
    let only = |run: &RunScore, other: &BTreeSet<String>| -> Vec<(String, f64)> {
        run.rules
            .iter()
            .filter(|(name, _)| !other.contains(name))
            .cloned()
            .collect()
    };
    let words = |run: &RunScore| -> BTreeSet<String> {
        run.reasons.iter().map(|r| without_numbers(r)).collect()
    };
    let (said, says) = (words(before), words(after));
    let new_reasons = |run: &RunScore, other: &BTreeSet<String>| -> Vec<String> {
        run.reasons
            .iter()
            .filter(|r| !other.contains(&without_numbers(r)))
            .cloned()
            .collect()
    };
    let rules_changed = after
        .rules
        .iter()
        .filter_map(|(name, now)| {
            let then = before.rules.iter().find(|(n, _)| n == name)?.1;
            ((now - then).abs() >= 0.05).then(|| (name.clone(), then, *now))
        })
        .collect();
    Step {
        rules_started: only(after, &was),
        rules_stopped: only(before, &is),
        rules_changed,
        reasons_appeared: new_reasons(after, &said),
        reasons_gone: new_reasons(before, &says),
    }
}

/// A reason's words with every run of digits (and decimal point) as `#`.
fn without_numbers(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut in_number = false;
    for c in reason.chars() {
        if c.is_ascii_digit() || (in_number && c == '.') {
            if !in_number {
                out.push('#');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

/// `rules` as `name (+10)`, joined.
fn rule_list(rules: &[(String, f64)]) -> String {
    rules
        .iter()
        .map(|(name, points)| format!("{name} ({points:+.1})"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `rules` as `name (+27.4 → +17.4)`, joined.
fn changed_list(rules: &[(String, f64, f64)]) -> String {
    rules
        .iter()
        .map(|(name, then, now)| format!("{name} ({then:+.1} → {now:+.1})"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One lead's path and every step, for people.
pub fn render(lead: &str, runs: &[RunScore]) -> String {
    let mut out = format!("lead {lead}: {} run(s)", runs.len());
    if let (Some(first), Some(last)) = (runs.first(), runs.last()) {
        out.push_str(&format!(" from {} to {}", first.as_of, last.as_of));
    }
    out.push_str(&format!(
        "\n\n{:<20}  {:>7}  {:<12}  {:>11}  {:>5}  model\n",
        "as of", "points", "tier", "probability", "score"
    ));
    for run in runs {
        out.push_str(&format!(
            "{:<20}  {:>7.1}  {:<12}  {:>11.3}  {:>5}  {}\n",
            run.as_of,
            run.points,
            run.tier,
            run.probability,
            run.score,
            run.model.as_deref().unwrap_or("–")
        ));
    }
    for pair in runs.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        let change = step(before, after);
        out.push_str(&format!(
            "\n{} → {}: points {:.1} → {:.1} ({:+.1}), tier {}, probability {:.3} → {:.3} ({:+.3})\n",
            before.as_of,
            after.as_of,
            before.points,
            after.points,
            after.points - before.points,
            if before.tier == after.tier {
                format!("{} (unchanged)", after.tier)
            } else {
                format!("{} → {}", before.tier, after.tier)
            },
            before.probability,
            after.probability,
            after.probability - before.probability
        ));
        let mut line = |label: &str, text: String| {
            if !text.is_empty() {
                out.push_str(&format!("  {label}: {text}\n"));
            }
        };
        line(
            "rules that stopped giving points",
            rule_list(&change.rules_stopped),
        );
        line(
            "rules that started giving points",
            rule_list(&change.rules_started),
        );
        line("reasons gone", change.reasons_gone.join("; "));
        line("reasons appeared", change.reasons_appeared.join("; "));
        if before.model != after.model {
            line(
                "model",
                format!(
                    "{} → {}",
                    before.model.as_deref().unwrap_or("–"),
                    after.model.as_deref().unwrap_or("–")
                ),
            );
        }
    }
    out
}

/// Every (lead, run) of `rows` (as `history_rows` gives them) with the movement since
/// the lead's previous run and what changed, as a table for dashboards: the run's
/// columns, then `previous_as_of, points_change, probability_change, previous_tier,
/// rules_started, rules_stopped, rules_changed, reasons_appeared, reasons_gone,
/// previous_model`
/// (texts joined by `; `; null on a lead's first run).
pub fn steps_table(rows: &DataFrame) -> Result<DataFrame> {
    let runs = run_scores(rows)?;
    let leads: Vec<Option<&str>> = rows.column(LEAD_ID)?.str()?.iter().collect();
    let n = runs.len();
    let mut previous_as_of = Vec::with_capacity(n);
    let mut points_change = Vec::with_capacity(n);
    let mut probability_change = Vec::with_capacity(n);
    let mut previous_tier = Vec::with_capacity(n);
    let mut texts: [Vec<Option<String>>; 5] = Default::default();
    let mut previous_model = Vec::with_capacity(n);
    for i in 0..n {
        let before = (i > 0 && leads[i - 1] == leads[i]).then(|| &runs[i - 1]);
        let after = &runs[i];
        previous_as_of.push(before.map(|b| b.as_of.clone()));
        points_change.push(before.map(|b| after.points - b.points));
        probability_change.push(before.map(|b| after.probability - b.probability));
        previous_tier.push(before.map(|b| b.tier.clone()));
        previous_model.push(before.and_then(|b| b.model.clone()));
        let change = before.map(|b| step(b, after));
        let parts: [Option<String>; 5] = match &change {
            Some(c) => [
                Some(rule_list(&c.rules_started)),
                Some(rule_list(&c.rules_stopped)),
                Some(changed_list(&c.rules_changed)),
                Some(c.reasons_appeared.join("; ")),
                Some(c.reasons_gone.join("; ")),
            ],
            None => [None, None, None, None, None],
        };
        for (column, part) in texts.iter_mut().zip(parts) {
            column.push(part);
        }
    }
    let [started, stopped, changed, appeared, gone] = texts;
    let mut table = rows
        .clone()
        .lazy()
        .with_column(col(RULES).list().join(lit("; "), true).alias(RULES))
        .drop(by_name([RULE_POINTS], true, false))
        .collect()?;
    for column in [
        Column::new("previous_as_of".into(), previous_as_of),
        Column::new("points_change".into(), points_change),
        Column::new("probability_change".into(), probability_change),
        Column::new("previous_tier".into(), previous_tier),
        Column::new("rules_started".into(), started),
        Column::new("rules_stopped".into(), stopped),
        Column::new("rules_changed".into(), changed),
        Column::new("reasons_appeared".into(), appeared),
        Column::new("reasons_gone".into(), gone),
        Column::new("previous_model".into(), previous_model),
    ] {
        table.with_column(column)?;
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(as_of: &str, rules: &[(&str, f64)], reasons: &[&str], model: &str) -> RunScore {
        RunScore {
            as_of: as_of.into(),
            points: 100.0 + rules.iter().map(|r| r.1).sum::<f64>(),
            tier: "warm".into(),
            probability: 0.2,
            score: 20,
            model: Some(model.into()),
            rules: rules.iter().map(|(n, p)| (n.to_string(), *p)).collect(),
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn a_step_names_the_rules_and_reasons_that_came_and_went() {
        let monday = run(
            "2026-01-05T00:00:00Z",
            &[("Decision maker", 20.0), ("Demo request", 25.0)],
            &[
                "- lead is 40 days old",
                "+ demo_request 1× in the last 30 days",
            ],
            "a.bin",
        );
        let friday = run(
            "2026-01-09T00:00:00Z",
            &[("Decision maker", 20.0), ("No recent activity", -10.0)],
            &["- lead is 44 days old", "- no activity for 61 days"],
            "a.bin",
        );
        let change = step(&monday, &friday);
        assert_eq!(change.rules_stopped, [("Demo request".to_string(), 25.0)]);
        assert!(change.rules_changed.is_empty());
        let decayed = run(
            "2026-01-16T00:00:00Z",
            &[("Decision maker", 20.0), ("No recent activity", -7.5)],
            &[],
            "a.bin",
        );
        assert_eq!(
            step(&friday, &decayed).rules_changed,
            [("No recent activity".to_string(), -10.0, -7.5)]
        );
        assert_eq!(
            change.rules_started,
            [("No recent activity".to_string(), -10.0)]
        );
        // The same words with other numbers are the same reason.
        assert_eq!(
            change.reasons_gone,
            ["+ demo_request 1× in the last 30 days"]
        );
        assert_eq!(change.reasons_appeared, ["- no activity for 61 days"]);
        assert_eq!(
            without_numbers("lead is 1.5 days old, 3×"),
            "lead is # days old, #×"
        );
    }
}
