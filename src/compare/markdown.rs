//! The comparison as Markdown for the terminal and for pasting into a ticket.

use std::fmt::Write as _;

use super::format::{num, opt, pct};
use super::report::{Comparison, Interval};

/// The report's numbers as Markdown: headline metrics, the same-volume answer, gains,
/// tiers and grades, calibration, periods and the leads the two disagree on most.
pub fn render(c: &Comparison) -> String {
    let mut md = String::new();
    headline(&mut md, c);
    rest(&mut md, c);
    md
}

/// What a terminal shows: the headline figures, the periods and what the comparison
/// cannot see, a dozen lines.
pub fn summary(c: &Comparison) -> String {
    let mut md = String::new();
    headline(&mut md, c);
    periods(&mut md, c);
    let _ = writeln!(md, "\n{}", c.never_closed.sentence);
    md
}

/// The leads that never closed beside the judged ones.
fn never_closed(md: &mut String, c: &Comparison) {
    let n = &c.never_closed;
    let _ = writeln!(
        md,
        "\n## What this comparison cannot see\n\n{}\n",
        n.sentence
    );
    table(
        md,
        "| | leads | (date, lead) pairs | median probability | median points | in the action tier |",
        "|---|---:|---:|---:|---:|---:|",
        [("judged (closed later)", &n.judged), ("never closed", &n.open)].map(|(name, g)| {
            vec![
                name.to_string(),
                g.leads.to_string(),
                g.rows.to_string(),
                num(g.median_probability, 3),
                num(g.median_points, 1),
                pct(g.action_share),
            ]
        }),
    );
    if n.sampled {
        let _ = writeln!(
            md,
            "\n(The never-closed pairs are an even spread of {}.)",
            n.open.rows
        );
    }
}

/// Title, what was judged, the business answer and the headline metrics.
fn headline(md: &mut String, c: &Comparison) {
    let _ = writeln!(md, "# Rule points versus predictive probability\n");
    let _ = writeln!(
        md,
        "{} judged (date, open lead) pairs, {:.1}% won: {}. Model data fingerprint {}.",
        c.leads,
        100.0 * c.base_rate,
        c.cutoff,
        c.model_fingerprint
    );
    if c.leads_in_training_period > 0 {
        let _ = writeln!(
            md,
            "\n> {} of these pairs are dated inside the model's training data, so the model has seen their deals and its figures are optimistic: train with `--until` to keep a later period unseen.",
            c.leads_in_training_period
        );
    }
    let _ = writeln!(md, "\n**{}**\n", c.same_volume.sentence);
    table(
        md,
        "| | ROC AUC (95% CI) | PR AUC (95% CI) | log loss | Brier | top-decile lift |",
        "|---|---|---|---:|---:|---:|",
        [&c.rule, &c.model].map(|side| {
            vec![
                side.name.clone(),
                interval(side.roc_auc),
                interval(side.pr_auc),
                opt(side.log_loss, 4),
                opt(side.brier, 4),
                num(
                    side.gains.first().map_or(f64::NAN, |g| g.cumulative_lift),
                    2,
                ),
            ]
        }),
    );
    let d = c.roc_auc_difference;
    let _ = writeln!(
        md,
        "\nROC AUC of the model minus the rules': {} (95% interval {} to {}, paired bootstrap over deals).",
        signed(d.value),
        signed(d.low),
        signed(d.high)
    );
}

/// Everything below the headline.
fn rest(md: &mut String, c: &Comparison) {
    never_closed(md, c);
    let _ = writeln!(md, "\n## Gains by decile (highest scores first)\n");
    table(
        md,
        "| decile | rule: won rate | rule: won found | model: won rate | model: won found |",
        "|---:|---:|---:|---:|---:|",
        c.rule.gains.iter().zip(&c.model.gains).map(|(r, m)| {
            vec![
                r.decile.to_string(),
                pct(r.won_rate),
                pct(r.cumulative_won_share),
                pct(m.won_rate),
                pct(m.cumulative_won_share),
            ]
        }),
    );
    for (title, groups) in [("rule tier", &c.tiers), ("fit grade", &c.grades)] {
        let _ = writeln!(md, "\n## Won rate by {title}\n");
        table(
            md,
            &format!("| {title} | leads | won | won rate |"),
            "|---|---:|---:|---:|",
            groups.iter().map(|g| {
                vec![
                    g.name.clone(),
                    g.leads.to_string(),
                    g.won.to_string(),
                    pct(g.won_rate),
                ]
            }),
        );
    }
    let _ = writeln!(md, "\n## Calibration of the probability\n");
    table(
        md,
        "| predicted | leads | mean predicted | won rate |",
        "|---|---:|---:|---:|",
        c.calibration.iter().filter(|b| b.leads > 0).map(|b| {
            vec![
                format!("{:.1}–{:.1}", b.from, b.to),
                b.leads.to_string(),
                pct(b.mean_predicted),
                pct(b.won_rate),
            ]
        }),
    );
    periods(md, c);
    rest_after_periods(md, c);
}

/// Both scores' ROC AUC before and after the split.
fn periods(md: &mut String, c: &Comparison) {
    let _ = writeln!(md, "\n## By period\n");
    table(
        md,
        "| period | leads | won rate | rule ROC AUC | model ROC AUC |",
        "|---|---:|---:|---:|---:|",
        c.periods.iter().map(|p| {
            vec![
                p.name.clone(),
                p.leads.to_string(),
                pct(p.base_rate),
                num(p.rule_roc_auc, 3),
                num(p.model_roc_auc, 3),
            ]
        }),
    );
}

/// The rule audit and the disagreements.
fn rest_after_periods(md: &mut String, c: &Comparison) {
    let _ = writeln!(md, "\n## The rule file against history\n");
    table(
        md,
        "| rule | kind | leads fired | mean points | won rate fired | won rate not fired | verdict |",
        "|---|---|---:|---:|---:|---:|---|",
        c.rule_checks.iter().map(|r| {
            vec![
                cell(&r.rule),
                r.kind.to_string(),
                r.leads_fired.to_string(),
                format!("{:+.1}", r.mean_points),
                pct(r.won_rate_fired),
                pct(r.won_rate_not_fired),
                r.verdict.to_string(),
            ]
        }),
    );
    let _ = writeln!(md, "\n## Where they disagree most\n");
    table(
        md,
        "| lead | as of | outcome | points (pct) | probability (pct) | rules | model |",
        "|---|---|---|---|---|---|---|",
        c.disagreements.iter().map(|d| {
            vec![
                cell(&d.lead_id),
                d.as_of.clone(),
                d.outcome.to_string(),
                format!("{} {} ({:.0})", d.points, cell(&d.tier), d.rule_percentile),
                format!("{:.3} ({:.0})", d.probability, d.model_percentile),
                cell(&d.rule_reasons),
                cell(&d.model_reasons),
            ]
        }),
    );
}

/// A Markdown table: the header and alignment rows as written, then one row of cells
/// each.
fn table(
    md: &mut String,
    header: &str,
    alignment: &str,
    rows: impl IntoIterator<Item = Vec<String>>,
) {
    let _ = writeln!(md, "{header}\n{alignment}");
    for row in rows {
        let _ = writeln!(md, "| {} |", row.join(" | "));
    }
}

/// "0.712 (0.690–0.735)".
/// A difference with its sign, or a dash.
fn signed(value: f64) -> String {
    if value.is_finite() {
        format!("{value:+.3}")
    } else {
        "–".to_string()
    }
}

fn interval(i: Interval) -> String {
    format!("{} ({}–{})", num(i.value, 3), num(i.low, 3), num(i.high, 3))
}

/// Keeps a data value from breaking the table.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
