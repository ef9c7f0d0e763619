//! Rule points against predictive probability on the same closed leads: each lead is
//! scored both ways as of one cutoff before it closed (the training leakage rule), and
//! the two rankings are judged against how the deals ended. [`report`] holds the
//! findings; [`markdown`] and [`html`] present them.

pub mod html;
pub mod markdown;
pub mod report;

use polars::prelude::*;

use crate::data::columns::*;
use crate::data::timestamp::format_timestamp;
use crate::data::Tables;
use crate::error::{Error, Result};
use crate::eval::curves::{bootstrap_auc, calibration, gains, histogram, roc_curve};
use crate::eval::metrics::{brier, log_loss, roc_auc};
use crate::features::cutoffs::{training_observations, CutoffParams, WON_LABEL};
use crate::model::score::score_observations;
use crate::model::Model;
use crate::points::OBS;
use report::*;

/// How the comparison is run.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// Days before closing at which each lead is scored (default: the model's gap).
    pub cutoff_gap_days: Option<f64>,
    /// Deals closed before this time form the first period, the rest the second
    /// (default: the end of the model's training data).
    pub split_at: Option<i64>,
    /// Bootstrap resamples for the intervals.
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
    /// How many disagreeing leads to list.
    pub disagreements: usize,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            cutoff_gap_days: None,
            split_at: None,
            bootstrap: 500,
            seed: 1,
            disagreements: 15,
        }
    }
}

/// Scores the closed leads of `tables` both ways and compares.
pub fn compare(model: &Model, tables: &Tables, options: &CompareOptions) -> Result<Comparison> {
    let gap = options
        .cutoff_gap_days
        .unwrap_or_else(|| model.cutoffs.gap_days());
    let cutoffs = CutoffParams::default()
        .gap_days(gap)
        .max_snapshots(1)
        .check()?;
    let observations = training_observations(&tables.leads, &tables.outcomes, &cutoffs)?;
    let won: Vec<bool> = bools(&observations, WON_LABEL)?;
    let positives = won.iter().filter(|&&w| w).count();
    if won.is_empty() {
        return Err(Error::setting(
            "--outcomes",
            "no closed lead to compare on (none existed before its cutoff)",
        ));
    }
    if positives == 0 || positives == won.len() {
        return Err(Error::setting(
            "--outcomes",
            format!(
                "{} closed leads, all {}: comparing rankings needs both won and lost deals",
                won.len(),
                if positives == 0 { "lost" } else { "won" }
            ),
        ));
    }
    let scored_observations = score_observations(
        model,
        &tables.leads,
        &tables.interactions,
        &observations,
        true,
    )?;
    let (scored, breakdown) = (scored_observations.table, scored_observations.breakdown);
    let points = floats(&scored, "points")?;
    let probability = floats(&scored, "probability")?;
    let closed_at: Vec<i64> = observations
        .column(CLOSED_AT)?
        .to_physical_repr()
        .i64()?
        .iter()
        .map(|c| c.unwrap_or(i64::MAX))
        .collect();
    let draws = options.bootstrap;

    let side = |name: &str, scores: &[f64], probabilities: bool| {
        let (roc, pr) = bootstrap_auc(scores, &won, draws, options.seed);
        Side {
            name: name.to_string(),
            roc_auc: roc,
            pr_auc: pr,
            log_loss: probabilities.then(|| log_loss(scores, &won)),
            brier: probabilities.then(|| brier(scores, &won)),
            roc_curve: roc_curve(scores, &won, 1000),
            gains: gains(scores, &won),
        }
    };
    let rule = side("rule points", &points, false);
    let predictive = side("predictive probability", &probability, true);

    let split = options.split_at.unwrap_or(model.data_as_of);
    let in_training = closed_at.iter().filter(|&&c| c <= model.data_as_of).count();
    Ok(Comparison {
        leadscore_version: env!("CARGO_PKG_VERSION").to_string(),
        model_fingerprint: model.data_fingerprint.clone(),
        cutoff: format!(
            "each scored as of {gap} day{} before it closed",
            if gap == 1.0 { "" } else { "s" }
        ),
        leads: won.len(),
        base_rate: positives as f64 / won.len() as f64,
        leads_in_training_period: in_training,
        rule,
        model: predictive,
        calibration: calibration(&probability, &won),
        tiers: group_rates(
            &strings(&scored, "tier")?,
            &won,
            model.points.tiers.iter().map(|t| &t.name),
        ),
        grades: group_rates(
            &strings(&scored, "grade")?,
            &won,
            model.points.grades.iter().map(|g| &g.name),
        ),
        same_volume: same_volume(model, &points, &probability, &won),
        disagreements: disagreements(
            &scored,
            breakdown.as_ref(),
            &points,
            &probability,
            &won,
            options.disagreements,
        )?,
        distributions: Distributions {
            points: histogram(&points, &won, 20),
            probability: histogram(&probability, &won, 20),
        },
        periods: periods(split, &closed_at, &points, &probability, &won),
        rule_checks: rule_checks(breakdown.as_ref(), &won)?,
    })
}

/// Leads a rule must fire on before its sign is judged.
const MIN_FIRED: usize = 20;

/// Every rule that fired, in rule order: won rate with and without it, and whether that
/// agrees with the sign of its points.
fn rule_checks(breakdown: Option<&DataFrame>, won: &[bool]) -> Result<Vec<RuleCheck>> {
    let Some(breakdown) = breakdown.filter(|b| b.width() > 0) else {
        return Ok(Vec::new());
    };
    let obs: Vec<usize> = breakdown
        .column(OBS)?
        .cast(&DataType::UInt64)?
        .u64()?
        .iter()
        .map(|o| o.map_or(usize::MAX, |o| o as usize))
        .collect();
    let order: Vec<u32> = breakdown
        .column("order")?
        .cast(&DataType::UInt32)?
        .u32()?
        .iter()
        .map(|o| o.unwrap_or(u32::MAX))
        .collect();
    let names = strings(breakdown, "rule")?;
    let kinds = strings(breakdown, "kind")?;
    let given = floats(breakdown, "points")?;
    let mut rules: std::collections::BTreeMap<u32, (String, String, Vec<bool>, f64)> =
        std::collections::BTreeMap::new();
    for k in 0..obs.len() {
        if obs[k] >= won.len() || given[k] == 0.0 {
            continue;
        }
        let entry = rules.entry(order[k]).or_insert_with(|| {
            (
                names[k].clone(),
                kinds[k].clone(),
                vec![false; won.len()],
                0.0,
            )
        });
        entry.2[obs[k]] = true;
        entry.3 += given[k];
    }
    let rate = |rows: &mut dyn Iterator<Item = bool>| {
        let (mut n, mut w) = (0usize, 0usize);
        for won in rows {
            n += 1;
            w += usize::from(won);
        }
        if n == 0 {
            f64::NAN
        } else {
            w as f64 / n as f64
        }
    };
    Ok(rules
        .into_values()
        .map(|(rule, kind, fired, total)| {
            let leads_fired = fired.iter().filter(|&&f| f).count();
            let mean_points = total / leads_fired.max(1) as f64;
            let with = rate(&mut (0..won.len()).filter(|&i| fired[i]).map(|i| won[i]));
            let without = rate(&mut (0..won.len()).filter(|&i| !fired[i]).map(|i| won[i]));
            let agrees = (mean_points > 0.0) == (with > without);
            let verdict = if leads_fired < MIN_FIRED || !without.is_finite() {
                "too rare (or too common) to tell".to_string()
            } else if with == without {
                "no difference in the data".to_string()
            } else if agrees {
                "agrees with the data".to_string()
            } else {
                format!(
                    "wishful: gives {mean_points:+.0} but leads it fires on win {} ({:.0}% vs {:.0}%)",
                    if with > without { "more" } else { "less" },
                    100.0 * with,
                    100.0 * without
                )
            };
            RuleCheck {
                rule,
                kind,
                leads_fired,
                mean_points,
                won_rate_fired: with,
                won_rate_not_fired: without,
                agrees,
                verdict,
            }
        })
        .collect())
}

fn same_volume(model: &Model, points: &[f64], probability: &[f64], won: &[bool]) -> SameVolume {
    let action = model.points.action_tier_name().to_string();
    let threshold = model
        .points
        .tiers
        .get(model.points.action_tier)
        .map_or(f64::INFINITY, |t| t.from);
    let chosen: Vec<usize> = (0..points.len())
        .filter(|&i| points[i] >= threshold)
        .collect();
    let calls = chosen.len();
    let won_by_rule = chosen.iter().filter(|&&i| won[i]).count();
    let mut order: Vec<usize> = (0..probability.len()).collect();
    order.sort_by(|&a, &b| probability[b].total_cmp(&probability[a]).then(a.cmp(&b)));
    let won_by_model = order[..calls].iter().filter(|&&i| won[i]).count();
    let sentence = if calls == 0 {
        format!("The rule model marks no lead {action}, so there is no call list to compare.")
    } else {
        let difference = won_by_model as i64 - won_by_rule as i64;
        let how = match difference {
            0 => "the same number of won deals".to_string(),
            d if d > 0 => format!(
                "{d} more won deals ({:+.0}%)",
                100.0 * d as f64 / won_by_rule.max(1) as f64
            ),
            d => format!(
                "{} fewer won deals ({:+.0}%)",
                -d,
                100.0 * d as f64 / won_by_rule.max(1) as f64
            ),
        };
        format!(
            "If sales calls the {calls} leads the rule model marks {action}, {won_by_rule} of them are won deals; \
             if the predictive model chooses the same number of calls, {won_by_model} are: {how}."
        )
    };
    SameVolume {
        action_tier: action,
        calls,
        won_by_rule,
        won_by_model,
        sentence,
    }
}

fn group_rates<'a>(
    groups: &[String],
    won: &[bool],
    names: impl Iterator<Item = &'a String>,
) -> Vec<GroupRate> {
    names
        .map(|name| {
            let members: Vec<usize> = (0..groups.len()).filter(|&i| &groups[i] == name).collect();
            let won_count = members.iter().filter(|&&i| won[i]).count();
            GroupRate {
                name: name.clone(),
                leads: members.len(),
                won: won_count,
                won_rate: if members.is_empty() {
                    f64::NAN
                } else {
                    won_count as f64 / members.len() as f64
                },
            }
        })
        .collect()
}

fn periods(
    split: i64,
    closed_at: &[i64],
    points: &[f64],
    probability: &[f64],
    won: &[bool],
) -> Vec<Period> {
    let day = format_timestamp(split);
    let day = day.get(..10).unwrap_or(&day).to_string();
    [
        (format!("closed up to {day}"), true),
        (format!("closed after {day}"), false),
    ]
    .into_iter()
    .filter_map(|(name, early)| {
        let rows: Vec<usize> = (0..won.len())
            .filter(|&i| (closed_at[i] <= split) == early)
            .collect();
        if rows.is_empty() {
            return None;
        }
        let pick = |values: &[f64]| rows.iter().map(|&i| values[i]).collect::<Vec<_>>();
        let labels: Vec<bool> = rows.iter().map(|&i| won[i]).collect();
        Some(Period {
            name,
            leads: rows.len(),
            base_rate: labels.iter().filter(|&&w| w).count() as f64 / rows.len() as f64,
            rule_roc_auc: roc_auc(&pick(points), &labels).unwrap_or(f64::NAN),
            model_roc_auc: roc_auc(&pick(probability), &labels).unwrap_or(f64::NAN),
        })
    })
    .collect()
}

/// Percentile (0–100) of each score among all, ties sharing their average rank.
fn percentiles(scores: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut out = vec![0.0; scores.len()];
    let n = scores.len().max(2) as f64;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let rank = (start + end - 1) as f64 / 2.0;
        for &i in &order[start..end] {
            out[i] = 100.0 * rank / (n - 1.0);
        }
        start = end;
    }
    out
}

fn disagreements(
    scored: &DataFrame,
    breakdown: Option<&DataFrame>,
    points: &[f64],
    probability: &[f64],
    won: &[bool],
    keep: usize,
) -> Result<Vec<Disagreement>> {
    let rule_pct = percentiles(points);
    let model_pct = percentiles(probability);
    let ids = strings(scored, LEAD_ID)?;
    let tiers = strings(scored, "tier")?;
    let reasons = strings(scored, "reasons")?;
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        let gap = |i: usize| (rule_pct[i] - model_pct[i]).abs();
        gap(b).total_cmp(&gap(a)).then(ids[a].cmp(&ids[b]))
    });
    order.truncate(keep);
    let rule_words = rule_reasons(breakdown, &order)?;
    Ok(order
        .iter()
        .zip(rule_words)
        .map(|(&i, rule_reasons)| Disagreement {
            lead_id: ids[i].clone(),
            outcome: if won[i] { "won" } else { "lost" }.to_string(),
            points: points[i],
            tier: tiers[i].clone(),
            rule_percentile: rule_pct[i],
            probability: probability[i],
            model_percentile: model_pct[i],
            rule_reasons,
            model_reasons: reasons[i].clone(),
        })
        .collect())
}

/// For each observation in `rows`, its three rules with the most points either way.
fn rule_reasons(breakdown: Option<&DataFrame>, rows: &[usize]) -> Result<Vec<String>> {
    let Some(breakdown) = breakdown.filter(|b| b.width() > 0) else {
        return Ok(vec![String::new(); rows.len()]);
    };
    let obs: Vec<u64> = breakdown
        .column(OBS)?
        .cast(&DataType::UInt64)?
        .u64()?
        .iter()
        .map(|o| o.unwrap_or(u64::MAX))
        .collect();
    let rule = strings(breakdown, "rule")?;
    let given = floats(breakdown, "points")?;
    Ok(rows
        .iter()
        .map(|&row| {
            let mut mine: Vec<usize> = (0..obs.len()).filter(|&k| obs[k] == row as u64).collect();
            mine.sort_by(|&a, &b| given[b].abs().total_cmp(&given[a].abs()).then(a.cmp(&b)));
            mine.iter()
                .take(3)
                .map(|&k| format!("{} {:+}", rule[k], (given[k] * 10.0).round() / 10.0))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .collect())
}

/// A numeric column as f64 values, nulls as NaN.
pub(crate) fn floats(frame: &DataFrame, column: &str) -> Result<Vec<f64>> {
    Ok(frame
        .column(column)?
        .cast(&DataType::Float64)?
        .f64()?
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}

fn strings(frame: &DataFrame, column: &str) -> Result<Vec<String>> {
    Ok(frame
        .column(column)?
        .str()?
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect())
}

fn bools(frame: &DataFrame, column: &str) -> Result<Vec<bool>> {
    Ok(frame
        .column(column)?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect())
}
