//! Rule points against predictive probability on the same leads, judged the way both
//! are used: at evaluation dates, the leads open then are scored both ways as of then,
//! and the two rankings are judged against how those deals later closed. The headline
//! is the period the model never saw (from the end of its training data on); the
//! periods table shows both. The leads and dates come from `OpenLeads`, the judging
//! `suggest-points` shares. [`report`] holds the findings; [`markdown`] and [`html`]
//! present them, with the number formats of `format` and the charts of `charts`.

mod charts;
mod format;
pub mod html;
pub mod markdown;
mod never_closed;
pub mod report;

use polars::prelude::*;

use crate::data::columns::*;
use crate::data::timestamp::format_timestamp;
use crate::data::timestamp::MICROS_PER_DAY;
use crate::data::{floats, Tables};
use crate::error::{Error, Result};
use crate::eval::curves::{bootstrap_auc, calibration, gains, histogram, roc_curve};
use crate::eval::metrics::{brier, log_loss, roc_auc};
use crate::eval::paired::{group_numbers, paired_auc};
use crate::features::cutoffs::typical_open_time;
use crate::model::judging::OpenLeads;
use crate::model::reasons::days_text;
use crate::model::Model;
use crate::observations::OBS;
use crate::progress::Progress;
use report::*;

/// How the comparison is run.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// Days between evaluation dates (default: the median time a deal stays open, from
    /// 1 to 30 days).
    pub every_days: Option<f64>,
    /// Evaluation dates before this time form the first period, the rest the second
    /// (default: the end of the model's training data).
    pub split_at: Option<i64>,
    /// Bootstrap resamples for the intervals.
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
    /// How many disagreeing leads to list.
    pub disagreements: usize,
    /// Where the stages show (hidden by default).
    pub progress: Progress,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            every_days: None,
            split_at: None,
            bootstrap: 500,
            seed: 1,
            disagreements: 15,
            progress: Progress::hidden(),
        }
    }
}

/// Scores the closed leads of `tables` both ways and compares.
pub fn compare(model: &Model, tables: &Tables, options: &CompareOptions) -> Result<Comparison> {
    let every = match options.every_days {
        Some(days) if days.is_finite() && (0.01..=3650.0).contains(&days) => {
            (days * MICROS_PER_DAY as f64).round() as i64
        }
        Some(days) => {
            return Err(Error::setting(
                "CompareOptions.every_days",
                format!("{days} is not a number of days from 0.01 to 3650"),
            ))
        }
        None => typical_open_time(&tables.leads, &tables.outcomes)?,
    };
    let split = options.split_at.unwrap_or(model.data_as_of);
    let open = OpenLeads::at(tables, &OpenLeads::dates(tables, every, Some(split))?)?;
    let (as_of_all, won_all) = (&open.as_of, &open.won);
    let unseen: Vec<bool> = as_of_all.iter().map(|&d| d >= split).collect();
    let both = |rows: &[bool]| {
        let picked = won_all.iter().zip(rows).filter(|(_, &r)| r);
        let won = picked.clone().filter(|(w, _)| **w).count();
        won > 0 && won < picked.count()
    };
    // The headline is the period the model never saw, when it holds both outcomes.
    let headline_unseen = both(&unseen);
    let in_headline: Vec<bool> = if headline_unseen {
        unseen.clone()
    } else {
        vec![true; won_all.len()]
    };
    let won: Vec<bool> = won_all
        .iter()
        .zip(&in_headline)
        .filter(|(_, &headline)| headline)
        .map(|(&w, _)| w)
        .collect();
    let positives = won.iter().filter(|&&w| w).count();
    if won.is_empty() {
        return Err(Error::setting(
            "InputPaths.outcomes",
            "no lead was open at any evaluation date and closed later: nothing to compare on",
        ));
    }
    if positives == 0 || positives == won.len() {
        return Err(Error::setting(
            "InputPaths.outcomes",
            format!(
                "{} judged leads, all {}: comparing rankings needs both won and lost deals",
                won.len(),
                if positives == 0 { "lost" } else { "won" }
            ),
        ));
    }
    let stages = options
        .progress
        .bar(3, "compare: scoring the open leads at each date");
    let scored_all = open.scored(model, tables, true)?;
    stages.set_message("compare: bootstrap intervals and the rule audit");
    stages.inc(1);
    let headline_rows: Vec<usize> = (0..in_headline.len()).filter(|&i| in_headline[i]).collect();
    let scored = scored_all.table.take(&IdxCa::from_vec(
        "rows".into(),
        headline_rows.iter().map(|&i| i as IdxSize).collect(),
    ))?;
    let breakdown = match scored_all.breakdown {
        Some(b) => Some(renumber_breakdown(&b, &headline_rows)?),
        None => None,
    };
    let points_all = floats(&scored_all.table, "points")?;
    let probability_all = floats(&scored_all.table, "probability")?;
    let points = floats(&scored, "points")?;
    let probability = floats(&scored, "probability")?;
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
    // Paired, resampled by deal: both scores judge the same pairs, and one deal's
    // pairs at several dates rise and fall together.
    let deals = group_numbers(strings(&scored, LEAD_ID)?.iter().map(String::as_str));
    let roc_auc_difference =
        paired_auc(&probability, &points, &won, &deals, draws, options.seed).difference;

    let dates = {
        let mut d: Vec<i64> = as_of_all
            .iter()
            .zip(&in_headline)
            .filter(|(_, &h)| h)
            .map(|(&d, _)| d)
            .collect();
        d.dedup();
        d
    };
    let in_training = as_of_all
        .iter()
        .zip(&in_headline)
        .filter(|(&d, &h)| h && d < model.data_as_of)
        .count();
    stages.set_message("compare: the leads that never closed");
    let never_closed =
        never_closed::never_closed(model, tables, &dates, (&scored, &probability, &points))?;
    stages.finish_and_clear();
    Ok(Comparison {
        leadscore_version: env!("CARGO_PKG_VERSION").to_string(),
        model_fingerprint: model.data_fingerprint.clone(),
        cutoff: format!(
            "the leads open at {} evaluation dates {} apart{}, each scored as of the date and judged by how it later closed",
            dates.len(),
            days_text(every as f64 / MICROS_PER_DAY as f64),
            match (dates.first(), dates.last()) {
                (Some(&first), Some(&last)) => format!(
                    " from {} to {}",
                    day_of(first),
                    day_of(last)
                ),
                _ => String::new(),
            }
        ),
        headline_is_unseen: headline_unseen,
        leads: won.len(),
        base_rate: positives as f64 / won.len() as f64,
        leads_in_training_period: in_training,
        rule,
        model: predictive,
        roc_auc_difference,
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
            &headline_rows.iter().map(|&i| as_of_all[i]).collect::<Vec<_>>(),
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
        periods: periods(split, as_of_all, &points_all, &probability_all, won_all),
        rule_checks: rule_checks(breakdown.as_ref(), &won)?,
        never_closed,
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
    as_of: &[i64],
    points: &[f64],
    probability: &[f64],
    won: &[bool],
) -> Vec<Period> {
    let day = day_of(split);
    [
        (
            format!("open before {day} (the model's training period)"),
            true,
        ),
        (format!("open from {day} on (unseen by the model)"), false),
    ]
    .into_iter()
    .filter_map(|(name, early)| {
        let rows: Vec<usize> = (0..won.len())
            .filter(|&i| (as_of[i] < split) == early)
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

/// The breakdown rows of the observations in `rows` (ascending), renumbered 0.. in
/// that order.
fn renumber_breakdown(breakdown: &DataFrame, rows: &[usize]) -> Result<DataFrame> {
    if breakdown.width() == 0 {
        return Ok(breakdown.clone());
    }
    let mut new_index = vec![u64::MAX; rows.last().map_or(0, |&r| r + 1)];
    for (k, &row) in rows.iter().enumerate() {
        new_index[row] = k as u64;
    }
    let obs: Vec<u64> = breakdown
        .column(OBS)?
        .cast(&DataType::UInt64)?
        .u64()?
        .iter()
        .map(|o| {
            o.and_then(|o| new_index.get(o as usize).copied())
                .unwrap_or(u64::MAX)
        })
        .collect();
    let keep: BooleanChunked = obs.iter().map(|&o| o != u64::MAX).collect();
    let mut renumbered = breakdown.clone();
    renumbered.with_column(Column::new(OBS.into(), obs))?;
    Ok(renumbered.filter(&keep)?)
}

fn day_of(time: i64) -> String {
    let text = format_timestamp(time);
    text.get(..10).unwrap_or(&text).to_string()
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
    as_of: &[i64],
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
            as_of: day_of(as_of[i]),
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

fn strings(frame: &DataFrame, column: &str) -> Result<Vec<String>> {
    Ok(frame
        .column(column)?
        .str()?
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect())
}
