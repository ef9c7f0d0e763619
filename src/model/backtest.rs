//! The backtest that decides settings such as the cutoff scheme: go back to a date D,
//! train on what was known then (deals closed before D, interactions before D), score
//! the leads that were open at D as of D, and judge by how those deals later closed.
//! That is exactly the job the model does every night, replayed on history.

use polars::prelude::*;
use serde::Serialize;

use super::score::score_leads;
use super::select::L2Choice;
use super::train::FitParams;
use super::{train_model, TrainChoices};
use crate::data::columns::*;
use crate::data::history::History;
use crate::data::Tables;
use crate::error::{Error, Result};
use crate::eval::metrics::Metrics;
use crate::features::cutoffs::ValidCutoffParams;
use crate::points::PointModel;
use crate::progress::Progress;

/// How one training setting did on the leads open at one date.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BacktestRow {
    /// The date gone back to (µs since the epoch).
    pub(crate) at: i64,
    /// Which setting (e.g. "6 snapshots every 14 days").
    pub(crate) setting: String,
    /// Closed deals the model was trained on.
    pub(crate) trained_on: usize,
    /// Leads open at `at` whose deal later closed: the ones judged.
    pub(crate) judged: usize,
    /// How the probabilities as of `at` did on them.
    #[serde(flatten)]
    pub(crate) metrics: Metrics,
}

/// What one backtest run trains with.
#[derive(Debug, Clone)]
pub(crate) struct BacktestSetting {
    /// Shown in the results.
    pub(crate) name: String,
    /// How training observations are cut.
    pub(crate) cutoffs: ValidCutoffParams,
    /// Solver settings.
    pub(crate) fit: FitParams,
    /// L2 strength or `auto`.
    pub(crate) l2: L2Choice,
}

impl BacktestSetting {
    /// The setting with `snapshots` training snapshots per deal, named after them.
    pub(crate) fn with_snapshots(
        snapshots: usize,
        every_days: f64,
        fit: FitParams,
        l2: L2Choice,
    ) -> Result<Self> {
        let cutoffs = crate::features::cutoffs::CutoffParams::default()
            .every_days(every_days)
            .max_snapshots(snapshots)
            .check()?;
        let ages: Vec<String> = cutoffs.ages_days().iter().map(|a| a.to_string()).collect();
        Ok(BacktestSetting {
            name: format!(
                "{snapshots} snapshot{} (ages {} days)",
                if snapshots == 1 { "" } else { "s" },
                ages.join(", ")
            ),
            cutoffs,
            fit,
            l2,
        })
    }
}

/// The dates a backtest goes back to when none are given: when 60% and when 80% of the
/// deals had closed, so that each has later deals to be judged on.
pub(crate) fn default_dates(outcomes: &DataFrame) -> Result<Vec<i64>> {
    if outcomes.height() == 0 {
        return Err(Error::setting(
            "InputPaths.outcomes",
            "no closed deals to go back to",
        ));
    }
    [0.6, 0.8]
        .iter()
        .map(|&share| super::pipeline::close_quantile(outcomes, share))
        .collect()
}

/// The results as a Markdown table, one row per (date, setting).
pub(crate) fn markdown_table(rows: &[BacktestRow]) -> String {
    let mut text = String::from(
        "| as of | setting | trained on | judged | won rate | ROC AUC | PR AUC | top-decile lift | log loss | Brier |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let day = crate::data::timestamp::format_timestamp(r.at);
        text.push_str(&format!(
            "| {} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.2} | {:.4} | {:.4} |\n",
            day.get(..10).unwrap_or(&day),
            r.setting,
            r.trained_on,
            r.judged,
            r.metrics.base_rate,
            r.metrics.roc_auc,
            r.metrics.pr_auc,
            r.metrics.lift_top_decile,
            r.metrics.log_loss,
            r.metrics.brier
        ));
    }
    text
}

/// Trains with `setting` on what was known at `at` and judges the leads open then.
pub(crate) fn backtest(
    tables: &Tables,
    points: &PointModel,
    rule_features: bool,
    at: i64,
    setting: &BacktestSetting,
    progress: &Progress,
) -> Result<BacktestRow> {
    let known = tables.known_at(at)?;
    let trained_on = known.outcomes.height();
    let (model, _warnings) = train_model(
        History::of_tables(known, rule_features)?,
        points.clone(),
        &setting.cutoffs,
        &setting.fit,
        TrainChoices {
            rule_features,
            ..TrainChoices::new(setting.l2)
        },
        progress,
    )?;
    let judged = open_then_closed(tables, at)?;
    if judged.height() == 0 {
        return Err(Error::setting(
            "backtest.at",
            "no lead was open at that date and closed later: choose an earlier date",
        ));
    }
    let scores = score_leads(&model, &judged, &tables.interactions, at)?.table;
    let probability: Vec<f64> = scores
        .column("probability")?
        .f64()?
        .iter()
        .map(|p| p.unwrap_or(f64::NAN))
        .collect();
    let won = won_labels(tables, &judged)?;
    Ok(BacktestRow {
        at,
        setting: setting.name.clone(),
        trained_on,
        judged: won.len(),
        metrics: Metrics::of(&probability, &won),
    })
}

/// Leads open at `at` (created at or before it, closed after it), in leads order.
fn open_then_closed(tables: &Tables, at: i64) -> Result<DataFrame> {
    let closed_later = tables
        .outcomes
        .clone()
        .lazy()
        .filter(col(CLOSED_AT).cast(DataType::Int64).gt(lit(at)))
        .select([col(LEAD_ID)]);
    Ok(tables
        .leads
        .clone()
        .lazy()
        .filter(col(CREATED_AT).cast(DataType::Int64).lt_eq(lit(at)))
        .join_on_lead(closed_later, JoinType::Semi)
        .collect()?)
}

/// Whether each of `leads` (in order) was won.
fn won_labels(tables: &Tables, leads: &DataFrame) -> Result<Vec<bool>> {
    let labelled = leads
        .clone()
        .lazy()
        .select([col(LEAD_ID)])
        .join(
            tables
                .outcomes
                .clone()
                .lazy()
                .select([col(LEAD_ID), col(OUTCOME).eq(lit(WON)).alias("won")]),
            [col(LEAD_ID)],
            [col(LEAD_ID)],
            JoinArgs {
                maintain_order: MaintainOrderJoin::Left,
                ..JoinArgs::new(JoinType::Left)
            },
        )
        .collect()?;
    Ok(labelled
        .column("won")?
        .bool()?
        .iter()
        .map(|w| w.unwrap_or(false))
        .collect())
}
