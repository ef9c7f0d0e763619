//! A lead's points, rule by rule, in words: why a lead has 163 points.

use std::fmt::Write as _;

use polars::prelude::*;

use super::evaluate::PointScores;
use super::rules::PointModel;
use crate::data::columns::LEAD_ID;
use crate::data::timestamp::format_timestamp;
use crate::error::{Error, Result};
use crate::observations::{AS_OF, OBS};

/// Text breakdowns for the given leads (scores must have been evaluated with a breakdown).
pub(crate) fn explain(
    model: &PointModel,
    scores: &PointScores,
    lead_ids: &[String],
) -> Result<String> {
    let Some(breakdown) = &scores.breakdown else {
        return Err(Error::setting(
            "explain.lead_ids",
            "internal: scores were evaluated without a breakdown",
        ));
    };
    let mut text = String::new();
    for lead_id in lead_ids {
        let found = scores
            .scores
            .clone()
            .lazy()
            .filter(col(LEAD_ID).eq(lit(lead_id.as_str())))
            .collect()?;
        if found.height() == 0 {
            return Err(Error::setting(
                "explain.lead_ids",
                format!("lead_id '{lead_id}' is not in the leads table"),
            ));
        }
        for row in 0..found.height() {
            let obs = found.column(OBS)?.idx()?.get(row).unwrap_or_default();
            let as_of = found
                .column(AS_OF)?
                .to_physical_repr()
                .i64()?
                .get(row)
                .unwrap_or_default();
            let points = found.column("points")?.f64()?.get(row).unwrap_or_default();
            let tier = found.column("tier")?.str()?.get(row).unwrap_or("");
            let grade = found.column("grade")?.str()?.get(row).unwrap_or("");
            let _ = writeln!(
                text,
                "{lead_id}: {points} points ({tier}), fit grade {grade}, as of {}",
                format_timestamp(as_of)
            );
            let _ = writeln!(
                text,
                "  {:<44} {:>6} {:>9}",
                "base",
                "",
                signed(model.base_points)
            );
            let mine = breakdown
                .clone()
                .lazy()
                .filter(col(OBS).eq(lit(obs)))
                .collect()?;
            let rules = mine.column("rule")?.str()?;
            let kinds = mine.column("kind")?.str()?;
            let counts = mine.column("count")?.u32()?;
            let given = mine.column("points")?.f64()?;
            for i in 0..mine.height() {
                let count = match (kinds.get(i), counts.get(i)) {
                    (Some("engagement"), Some(n)) => format!("{n}×"),
                    _ => String::new(),
                };
                let _ = writeln!(
                    text,
                    "  {:<44} {:>6} {:>9}",
                    rules.get(i).unwrap_or(""),
                    count,
                    signed(given.get(i).unwrap_or(0.0))
                );
            }
        }
    }
    Ok(text)
}

fn signed(points: f64) -> String {
    let rounded = (points * 10.0).round() / 10.0;
    if rounded >= 0.0 {
        format!("+{rounded}")
    } else {
        format!("{rounded}")
    }
}
