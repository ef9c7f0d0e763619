//! What the comparison cannot see: the leads that never closed. Closed deals are the
//! leads sales chose to work (or that decided on their own), so every figure of the
//! comparison describes a selected population. The leads open at the same evaluation
//! dates whose deal never closed are scored as of those dates too, and their scores set
//! beside the judged leads', with what that means in words.

use polars::prelude::*;
use serde::Serialize;

use crate::data::columns::{CREATED_AT, LEAD_ID};
use crate::data::timestamp::format_timestamp;
use crate::data::{floats, Tables};
use crate::error::Result;
use crate::eval::curves::ratio as share;
use crate::model::score::score_observations;
use crate::model::Model;
use crate::observations::{micros_type, AS_OF};

/// (date, lead) pairs of never-closed leads scored at most: an even spread of them
/// describes the distribution as well as all.
const MAX_ROWS: usize = 200_000;

/// The never-closed leads beside the judged ones.
#[derive(Debug, Clone, Serialize)]
pub struct NeverClosed {
    /// Leads in the leads table.
    pub leads: usize,
    /// Leads with no outcome at the end of the data.
    pub never_closed: usize,
    /// The judged (date, lead) pairs' scores.
    pub judged: GroupScores,
    /// The never-closed leads' scores at the same dates (an even spread when
    /// `sampled`).
    pub open: GroupScores,
    /// Whether `open` is an even spread of more pairs.
    pub sampled: bool,
    /// Share of each group per tenth of probability, `[judged, never closed]`.
    pub probability_tenths: Vec<[f64; 2]>,
    /// What it means, in words.
    pub sentence: String,
}

/// Where a group's scores lie.
#[derive(Debug, Clone, Serialize)]
pub struct GroupScores {
    /// (date, lead) pairs.
    pub rows: usize,
    /// Distinct leads.
    pub leads: usize,
    /// Median probability.
    pub median_probability: f64,
    /// Median rule points.
    pub median_points: f64,
    /// Share in the action tier (e.g. `sales_ready`).
    pub action_share: f64,
}

impl GroupScores {
    fn of(
        leads: usize,
        probability: &[f64],
        points: &[f64],
        tier: &[String],
        action: &str,
    ) -> Self {
        GroupScores {
            rows: probability.len(),
            leads,
            median_probability: median(probability),
            median_points: median(points),
            action_share: share(tier.iter().filter(|t| *t == action).count(), tier.len()),
        }
    }
}

/// Scores the never-closed leads open at each of `dates` and sets them beside the
/// judged pairs (`judged_*`, in the comparison's headline).
pub(crate) fn never_closed(
    model: &Model,
    tables: &Tables,
    dates: &[i64],
    judged: (&DataFrame, &[f64], &[f64]),
) -> Result<NeverClosed> {
    let (judged_table, judged_probability, judged_points) = judged;
    let action = model.points.action_tier_name().to_string();
    let open_leads = tables
        .leads
        .clone()
        .lazy()
        .select([
            col(LEAD_ID),
            col(CREATED_AT).cast(DataType::Int64).alias("created"),
        ])
        .join(
            tables.outcomes.clone().lazy().select([col(LEAD_ID)]),
            [col(LEAD_ID)],
            [col(LEAD_ID)],
            JoinArgs::new(JoinType::Anti),
        )
        .collect()?;
    let ids: Vec<&str> = open_leads
        .column(LEAD_ID)?
        .str()?
        .iter()
        .flatten()
        .collect();
    let created: Vec<i64> = open_leads
        .column("created")?
        .i64()?
        .iter()
        .map(|c| c.unwrap_or(i64::MAX))
        .collect();
    let mut pairs: Vec<(usize, i64)> = Vec::new();
    for &date in dates {
        pairs.extend(
            (0..ids.len())
                .filter(|&i| created[i] <= date)
                .map(|i| (i, date)),
        );
    }
    let sampled = pairs.len() > MAX_ROWS;
    if sampled {
        let n = pairs.len();
        pairs = (0..MAX_ROWS).map(|k| pairs[k * n / MAX_ROWS]).collect();
    }
    let observations = DataFrame::new(
        pairs.len(),
        vec![
            StringChunked::from_iter_values(LEAD_ID.into(), pairs.iter().map(|&(i, _)| ids[i]))
                .into_column(),
            Int64Chunked::from_vec(AS_OF.into(), pairs.iter().map(|&(_, d)| d).collect())
                .into_column()
                .cast(&micros_type())?,
        ],
    )?;
    let scored = score_observations(
        model,
        &tables.leads,
        &tables.interactions,
        &observations,
        false,
    )?
    .table;
    let distinct = |frame: &DataFrame| -> Result<usize> {
        Ok(if frame.height() == 0 {
            0
        } else {
            frame.column(LEAD_ID)?.n_unique()?
        })
    };
    let tiers = |frame: &DataFrame| -> Result<Vec<String>> {
        Ok(frame
            .column("tier")?
            .str()?
            .iter()
            .map(|t| t.unwrap_or("").to_string())
            .collect())
    };
    let open_probability = floats(&scored, "probability")?;
    let judged = GroupScores::of(
        distinct(judged_table)?,
        judged_probability,
        judged_points,
        &tiers(judged_table)?,
        &action,
    );
    let open = GroupScores::of(
        distinct(&scored)?,
        &open_probability,
        &floats(&scored, "points")?,
        &tiers(&scored)?,
        &action,
    );
    let tenths = |p: &[f64]| -> Vec<f64> {
        let mut counts = [0usize; 10];
        for &v in p {
            counts[((v * 10.0).floor().clamp(0.0, 9.0)) as usize] += 1;
        }
        counts.iter().map(|&c| share(c, p.len())).collect()
    };
    let (a, b) = (tenths(judged_probability), tenths(&open_probability));
    let leads = tables.leads.height();
    let never = ids.len();
    let end = format_timestamp(
        tables
            .outcomes
            .column(crate::data::columns::CLOSED_AT)?
            .to_physical_repr()
            .i64()?
            .max()
            .unwrap_or(0),
    );
    let sentence = sentence(leads, never, &end, &judged, &open, &action);
    Ok(NeverClosed {
        leads,
        never_closed: never,
        judged,
        open,
        sampled,
        probability_tenths: a.into_iter().zip(b).map(|(x, y)| [x, y]).collect(),
        sentence,
    })
}

/// What the never-closed leads mean for the comparison, from the figures.
fn sentence(
    leads: usize,
    never: usize,
    end: &str,
    judged: &GroupScores,
    open: &GroupScores,
    action: &str,
) -> String {
    let share_never = share(never, leads);
    let mut text = format!(
        "{never} of the {leads} leads ({:.0}%) never closed: they had no outcome by the last close in the data ({end}).",
        100.0 * share_never
    );
    if open.rows == 0 {
        text.push_str(" None of them was open at the judged dates, so the comparison covers every lead it could.");
        return text;
    }
    let (a, b) = (open.median_probability, judged.median_probability);
    let relation = if a < 0.8 * b {
        "lower"
    } else if a > 1.25 * b {
        "higher"
    } else {
        "about the same"
    };
    text.push_str(&format!(
        " At the judged dates {} of them were open beside the {} judged leads and scored {relation}: median probability {a:.3} against {b:.3}, {:.0}% against {:.0}% {action}.",
        open.leads,
        judged.leads,
        100.0 * open.action_share,
        100.0 * judged.action_share
    ));
    text.push_str(
        " Every figure above describes only leads whose deal was decided: the leads sales chose to work, or that decided on their own.",
    );
    text.push_str(match relation {
        "lower" => " The never-closed leads look weaker to the model, as if they were left alone because they looked weak; if so, the judged leads are the easier part of the ranking, and both scores will rank the whole base less well than shown here.",
        "higher" => " The model rates the never-closed leads higher than the judged ones: they may be live opportunities nobody has worked yet, which no figure here can confirm or deny; check them before trusting the comparison for the whole base.",
        _ => " The never-closed leads score like the judged ones, so the selection does not show in the scores; it may still show in how they would have closed, which no data here tells.",
    });
    if share_never < 0.05 {
        text.push_str(" They are few, so the comparison covers nearly the whole base.");
    }
    text
}

fn median(values: &[f64]) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(median_probability: f64, leads: usize) -> GroupScores {
        GroupScores {
            rows: leads * 2,
            leads,
            median_probability,
            median_points: 120.0,
            action_share: 0.1,
        }
    }

    #[test]
    fn the_words_follow_the_figures() {
        let lower = sentence(
            100,
            40,
            "2026-01-01T00:00:00Z",
            &group(0.3, 50),
            &group(0.1, 30),
            "sales_ready",
        );
        assert!(
            lower.starts_with("40 of the 100 leads (40%) never closed"),
            "{lower}"
        );
        assert!(
            lower.contains("scored lower: median probability 0.100 against 0.300"),
            "{lower}"
        );
        assert!(lower.contains("easier part of the ranking"), "{lower}");
        let higher = sentence(
            100,
            3,
            "2026-01-01T00:00:00Z",
            &group(0.2, 50),
            &group(0.5, 3),
            "sales_ready",
        );
        assert!(higher.contains("live opportunities"), "{higher}");
        assert!(higher.contains("nearly the whole base"), "{higher}");
        let none = sentence(
            100,
            0,
            "2026-01-01T00:00:00Z",
            &group(0.2, 50),
            &GroupScores {
                rows: 0,
                ..group(f64::NAN, 0)
            },
            "x",
        );
        assert!(none.contains("covers every lead it could"), "{none}");
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
