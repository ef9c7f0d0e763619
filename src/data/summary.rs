//! The data-quality summary `leadscore validate` prints: what a user wants to know about
//! their export before training on it, above all whether it leaks the future (activity
//! recorded after a deal closed).

use std::fmt;

use polars::prelude::*;
use serde::Serialize;

use super::columns::*;
use super::timestamp::format_timestamp;
use super::{examples, thousands, Tables, UnknownLeads};
use crate::error::Result;

/// How many event types after closing and details are listed.
const TOP: usize = 10;

/// Facts about the three tables, computed once; shown as text or JSON.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DataQuality {
    /// Number of leads.
    pub(crate) leads: usize,
    /// Earliest and latest `created_at`.
    pub(crate) leads_created: Option<(String, String)>,
    /// Number of interactions (including those of unknown leads).
    pub(crate) interactions: usize,
    /// Earliest and latest `occurred_at`.
    pub(crate) interactions_occurred: Option<(String, String)>,
    /// Interactions per known lead: mean, median, 90th percentile, max.
    pub(crate) interactions_per_lead: PerLead,
    /// Leads with no interaction at all.
    pub(crate) leads_without_interactions: usize,
    /// Count per event type, most frequent first.
    pub(crate) event_types: Vec<(String, usize)>,
    /// The most frequent details, most frequent first.
    pub(crate) top_details: Vec<(String, usize)>,
    /// Closed leads that were won.
    pub(crate) won: usize,
    /// Closed leads that were lost.
    pub(crate) lost: usize,
    /// Leads without an outcome (scored, never trained on).
    pub(crate) open: usize,
    /// won / (won + lost), when anything closed.
    pub(crate) won_rate: Option<f64>,
    /// Earliest and latest `closed_at`.
    pub(crate) outcomes_closed: Option<(String, String)>,
    /// Outcomes whose `closed_at` is before the lead's `created_at`.
    pub(crate) closed_before_created: usize,
    /// Interactions whose lead is not in the leads table.
    pub(crate) unknown_in_interactions: UnknownLeadsSummary,
    /// Outcomes whose lead is not in the leads table.
    pub(crate) unknown_in_outcomes: UnknownLeadsSummary,
    /// Interactions at or after their lead's `closed_at`: what a careless pipeline leaks.
    pub(crate) after_close: AfterClose,
    /// Missing values and shape of each attribute column.
    pub(crate) attributes: Vec<AttributeSummary>,
    /// Rules of the built-in example that these leads cannot feed (their column is
    /// missing or of another kind): training without `--points` skips them.
    pub(crate) builtin_rules_skipped: Vec<String>,
}

/// Distribution of interactions per lead.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct PerLead {
    /// Arithmetic mean.
    pub(crate) mean: f64,
    /// Median.
    pub(crate) median: u32,
    /// 90th percentile.
    pub(crate) p90: u32,
    /// Maximum.
    pub(crate) max: u32,
}

/// Unknown-lead rows of one table.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct UnknownLeadsSummary {
    /// How many rows.
    pub(crate) rows: usize,
    /// Examples as "row N: 'id'".
    pub(crate) examples: String,
}

impl From<&UnknownLeads> for UnknownLeadsSummary {
    fn from(unknown: &UnknownLeads) -> Self {
        UnknownLeadsSummary {
            rows: unknown.rows,
            examples: examples(unknown),
        }
    }
}

/// Interactions recorded at or after the deal closed.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct AfterClose {
    /// How many interactions.
    pub(crate) interactions: usize,
    /// How many closed leads have any.
    pub(crate) leads: usize,
    /// Their event types, most frequent first.
    pub(crate) event_types: Vec<(String, usize)>,
}

/// One attribute column.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AttributeSummary {
    /// Column name.
    pub(crate) name: String,
    /// `categorical` or `numeric`.
    pub(crate) kind: &'static str,
    /// Missing values.
    pub(crate) missing: usize,
    /// Distinct values (categorical) or min..max (numeric), in words.
    pub(crate) shape: String,
}

impl DataQuality {
    /// Computes the summary; cost is a few group-bys over the interactions.
    /// `builtin_rules_skipped` are the built-in example's rules these leads cannot feed,
    /// which the point model knows (data sits below it).
    pub(crate) fn of(tables: &Tables, builtin_rules_skipped: Vec<String>) -> Result<Self> {
        let leads = &tables.leads;
        let interactions = &tables.interactions;
        let outcomes = &tables.outcomes;

        let counts = interactions
            .clone()
            .lazy()
            .group_by([col(LEAD_ID)])
            .agg([len().cast(DataType::UInt32).alias("n")]);
        let per_lead = leads
            .clone()
            .lazy()
            .select([col(LEAD_ID)])
            .join_on_lead(counts, JoinType::Left)
            .select([col("n").fill_null(lit(0u32))])
            .collect()?;
        let mut per_lead: Vec<u32> = per_lead.column("n")?.u32()?.into_no_null_iter().collect();
        per_lead.sort_unstable();
        let leads_without_interactions = per_lead.iter().take_while(|&&n| n == 0).count();

        let won = tables.won_count()?;
        let lost = outcomes.height() - won;
        let closed_before_created = outcomes
            .clone()
            .lazy()
            .join_on_lead(
                leads.clone().lazy().select([col(LEAD_ID), col(CREATED_AT)]),
                JoinType::Inner,
            )
            .filter(col(CLOSED_AT).lt(col(CREATED_AT)))
            .collect()?
            .height();
        let closed_leads = outcomes
            .clone()
            .lazy()
            .join_on_lead(leads.clone().lazy().select([col(LEAD_ID)]), JoinType::Semi)
            .collect()?
            .height();

        Ok(DataQuality {
            leads: leads.height(),
            leads_created: time_range(leads.column(CREATED_AT)?)?,
            interactions: interactions.height() + tables.unknown_in_interactions.rows,
            interactions_occurred: time_range(interactions.column(OCCURRED_AT)?)?,
            interactions_per_lead: distribution(&per_lead),
            leads_without_interactions,
            event_types: value_counts(interactions, EVENT_TYPE, usize::MAX)?,
            top_details: value_counts(interactions, DETAIL, TOP)?,
            won,
            lost,
            open: leads.height() - closed_leads,
            won_rate: (won + lost > 0).then(|| won as f64 / (won + lost) as f64),
            outcomes_closed: time_range(outcomes.column(CLOSED_AT)?)?,
            closed_before_created,
            unknown_in_interactions: (&tables.unknown_in_interactions).into(),
            unknown_in_outcomes: (&tables.unknown_in_outcomes).into(),
            after_close: after_close(interactions, outcomes)?,
            attributes: attributes(tables)?,
            builtin_rules_skipped,
        })
    }
}

fn time_range(column: &Column) -> Result<Option<(String, String)>> {
    let micros = column.to_physical_repr();
    let micros = micros.i64()?;
    Ok(micros
        .min()
        .zip(micros.max())
        .map(|(lo, hi)| (format_timestamp(lo), format_timestamp(hi))))
}

fn distribution(sorted: &[u32]) -> PerLead {
    if sorted.is_empty() {
        return PerLead::default();
    }
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    PerLead {
        mean: sorted.iter().map(|&n| f64::from(n)).sum::<f64>() / sorted.len() as f64,
        median: at(0.5),
        p90: at(0.9),
        max: sorted[sorted.len() - 1],
    }
}

/// Counts of a text column's values, most frequent first, ties by value (deterministic).
fn value_counts(frame: &DataFrame, column: &str, limit: usize) -> Result<Vec<(String, usize)>> {
    let counted = frame
        .clone()
        .lazy()
        .filter(col(column).is_not_null())
        .group_by([col(column)])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .sort_by_exprs(
            [col("n"), col(column)],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .limit(limit.min(u32::MAX as usize) as IdxSize)
        .collect()?;
    let names = counted.column(column)?.str()?;
    let counts = counted.column("n")?.u64()?;
    Ok(names
        .iter()
        .flatten()
        .zip(counts.into_no_null_iter())
        .map(|(name, n)| (name.to_string(), n as usize))
        .collect())
}

fn after_close(interactions: &DataFrame, outcomes: &DataFrame) -> Result<AfterClose> {
    let late = interactions
        .clone()
        .lazy()
        .join(
            outcomes
                .clone()
                .lazy()
                .select([col(LEAD_ID), col(CLOSED_AT)]),
            [col(LEAD_ID)],
            [col(LEAD_ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col(OCCURRED_AT).gt_eq(col(CLOSED_AT)))
        .collect()?;
    Ok(AfterClose {
        interactions: late.height(),
        leads: late.column(LEAD_ID)?.n_unique()?,
        event_types: value_counts(&late, EVENT_TYPE, TOP)?,
    })
}

fn attributes(tables: &Tables) -> Result<Vec<AttributeSummary>> {
    let mut found = Vec::new();
    for name in tables.attribute_names() {
        let column = tables.leads.column(&name)?;
        let missing = column.null_count();
        let (kind, shape) = if column.dtype().is_float() {
            let values = column.f64()?;
            let shape = match (values.min(), values.max()) {
                (Some(lo), Some(hi)) => format!("{lo} .. {hi}"),
                _ => "no values".to_string(),
            };
            ("numeric", shape)
        } else {
            let distinct = column.drop_nulls().n_unique()?;
            ("categorical", format!("{distinct} distinct values"))
        };
        found.push(AttributeSummary {
            name,
            kind,
            missing,
            shape,
        });
    }
    Ok(found)
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "0.0%".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

fn range(range: &Option<(String, String)>) -> String {
    match range {
        Some((lo, hi)) => format!("{lo} .. {hi}"),
        None => "none".into(),
    }
}

impl fmt::Display for DataQuality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Leads")?;
        writeln!(f, "  rows                     {}", thousands(self.leads))?;
        writeln!(
            f,
            "  created                  {}",
            range(&self.leads_created)
        )?;
        writeln!(
            f,
            "  won / lost / open        {} / {} / {}",
            thousands(self.won),
            thousands(self.lost),
            thousands(self.open)
        )?;
        match self.won_rate {
            Some(rate) => writeln!(f, "  won rate (closed)        {:.1}%", 100.0 * rate)?,
            None => writeln!(f, "  won rate (closed)        no closed deals")?,
        }
        writeln!(
            f,
            "  closed                   {}",
            range(&self.outcomes_closed)
        )?;
        writeln!(f)?;
        writeln!(f, "Interactions")?;
        writeln!(
            f,
            "  rows                     {}",
            thousands(self.interactions)
        )?;
        writeln!(
            f,
            "  occurred                 {}",
            range(&self.interactions_occurred)
        )?;
        let p = &self.interactions_per_lead;
        writeln!(
            f,
            "  per lead                 mean {:.1}, median {}, p90 {}, max {}",
            p.mean, p.median, p.p90, p.max
        )?;
        writeln!(
            f,
            "  leads without any        {} ({})",
            thousands(self.leads_without_interactions),
            percent(self.leads_without_interactions, self.leads)
        )?;
        writeln!(f, "  event types")?;
        for (name, n) in &self.event_types {
            writeln!(f, "    {name:<28} {:>12}", thousands(*n))?;
        }
        if !self.top_details.is_empty() {
            writeln!(f, "  most frequent details")?;
            for (name, n) in &self.top_details {
                writeln!(f, "    {name:<28} {:>12}", thousands(*n))?;
            }
        }
        writeln!(f)?;
        writeln!(f, "Checks")?;
        let unknown = |u: &UnknownLeadsSummary| {
            if u.rows == 0 {
                "none".to_string()
            } else {
                format!("{} (e.g. {})", thousands(u.rows), u.examples)
            }
        };
        writeln!(
            f,
            "  interactions, unknown lead   {}",
            unknown(&self.unknown_in_interactions)
        )?;
        writeln!(
            f,
            "  outcomes, unknown lead       {}",
            unknown(&self.unknown_in_outcomes)
        )?;
        writeln!(
            f,
            "  closed before created        {}",
            thousands(self.closed_before_created)
        )?;
        let late = &self.after_close;
        writeln!(
            f,
            "  interactions at/after close  {} ({} of all) across {} closed leads: leakage risk, never used for training",
            thousands(late.interactions),
            percent(late.interactions, self.interactions),
            thousands(late.leads)
        )?;
        for (name, n) in &late.event_types {
            writeln!(f, "    {name:<28} {:>12}", thousands(*n))?;
        }
        writeln!(f)?;
        writeln!(f, "Attributes")?;
        // Long column names (real exports have them) widen the name column for all rows.
        let width = self
            .attributes
            .iter()
            .map(|a| a.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(22);
        for a in &self.attributes {
            writeln!(
                f,
                "  {:<width$} {:<12} missing {:>10} ({:>6})  {}",
                a.name,
                a.kind,
                thousands(a.missing),
                percent(a.missing, self.leads),
                a.shape
            )?;
        }
        if !self.builtin_rules_skipped.is_empty() {
            writeln!(f)?;
            writeln!(f, "Built-in example rules")?;
            writeln!(
                f,
                "  without --points, {} rule(s) name columns these leads lack and are skipped:",
                self.builtin_rules_skipped.len()
            )?;
            for rule in &self.builtin_rules_skipped {
                writeln!(f, "    {rule}")?;
            }
        }
        Ok(())
    }
}
