//! The feature spec: which features exist, learned once from training observations and
//! frozen into the model artifact, so scoring builds exactly the same columns. Unseen
//! event types and categories fall into an "other" bucket, never an error.
//!
//! Every feature is something SQL says well (windowed counts, recency, distinct days,
//! category buckets, a log transform), so the scoring path can later be exported as one
//! query.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use rayon::prelude::*;

use super::cutoffs::WON_LABEL;
use super::descriptor::Feature;
use super::numeric::log_helps;
use super::rules::RuleFeatures;
use crate::data::columns::*;
use crate::data::events::{EventIndex, NO_DETAIL};
use crate::data::text::ViewCache;
use crate::error::{Error, Result};
use crate::observations::AS_OF;
use crate::points::PointModel;

/// Windows (days) over which activity is counted; `None` is all time.
pub(crate) const WINDOWS: [Option<u32>; 4] = [Some(7), Some(30), Some(90), None];

/// Settings for learning a spec.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpecParams {
    /// A category or event type needs this many training leads to get a feature.
    pub(crate) min_support: u32,
    /// At most this many values per categorical column.
    pub(crate) max_categories: usize,
    /// At most this many (event type, detail) pairs get features of their own.
    pub(crate) max_details: usize,
}

impl Default for SpecParams {
    fn default() -> Self {
        SpecParams {
            min_support: 30,
            max_categories: 25,
            max_details: 12,
        }
    }
}

/// What a feature column is about (see [`FeatureSpec::topics`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Topic {
    /// Counts of an event type (or an (event type, detail) pair), any window.
    Activity(String, Option<String>),
    /// Days since the last activity, and whether there was any.
    Recency,
    /// Distinct active days.
    ActiveDays,
    /// The lead's age.
    LeadAge,
    /// A categorical attribute.
    Category(String),
    /// A numeric attribute.
    Number(String),
    /// One of the rule model's scores.
    Rule(String),
}

/// The frozen list of features.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeatureSpec {
    /// Event types with features of their own (the rest count as "other").
    pub event_types: Vec<String>,
    /// (event type, detail) pairs with features of their own, e.g. page_visit /pricing.
    pub details: Vec<(String, String)>,
    /// Categorical attributes and their kept values.
    pub(crate) categoricals: Vec<(String, Vec<String>)>,
    /// Numeric attributes.
    pub(crate) numerics: Vec<String>,
    /// The numeric attributes whose signed log is a feature too (see
    /// [`super::numeric`]).
    pub(crate) numeric_logs: Vec<String>,
    /// The rule model's scores as features, when training was given `--points`.
    pub(crate) rules: Option<RuleFeatures>,
}

impl FeatureSpec {
    /// Learns the spec from training observations (`lead_id`, `as_of`): only interactions
    /// before each cutoff are looked at, so an event type that only ever happens after
    /// a deal closed never becomes a feature.
    /// With `rules`, the rule model's points and grade become features too.
    pub fn learn(
        leads: &DataFrame,
        events: &EventIndex,
        observations: &DataFrame,
        params: &SpecParams,
        rules: Option<&PointModel>,
    ) -> Result<Self> {
        let observed = ObservedLeads::of(observations)?;
        let training = observed.rows_in(leads.column(LEAD_ID)?.str()?);
        let attributes = leads
            .columns()
            .iter()
            .filter(|c| c.name().as_str() != LEAD_ID && c.name().as_str() != CREATED_AT);
        let (numeric, text): (Vec<&Column>, Vec<&Column>) =
            attributes.partition(|c| c.dtype().is_primitive_numeric());
        let numerics: Vec<String> = numeric.iter().map(|c| c.name().to_string()).collect();
        let support = params.min_support;
        // The log tests are the longest part: they run beside the counting.
        let (counted, numeric_logs) = rayon::join(
            || -> Result<_> {
                let seen = visible_events(events, &observed, &training);
                let mut categoricals = Vec::new();
                for column in text {
                    let values = column.cast(&DataType::String)?;
                    let kept = kept_categories(values.str()?, &training.rows, support, params)?;
                    categoricals.push((column.name().to_string(), kept));
                }
                Ok((seen, categoricals))
            },
            || numerics_worth_a_log(leads, observations, &observed, &training, &numerics),
        );
        let (seen, categoricals) = counted?;
        let numeric_logs = numeric_logs?;
        let mut event_types: Vec<String> = seen
            .types
            .iter()
            .filter(|(event, leads)| *leads >= support && !is_placeholder(event))
            .map(|(event, _)| event.clone())
            .collect();
        event_types.sort_unstable();
        let mut details: Vec<(u32, (String, String))> = seen
            .details
            .into_iter()
            .filter(|(_, leads)| *leads >= support)
            .map(|(pair, leads)| (leads, pair))
            .collect();
        // Most leads first, then by name: the pairs are distinct, so the order is total.
        details.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let details = details
            .into_iter()
            .take(params.max_details)
            .map(|(_, pair)| pair)
            .collect();
        let spec = FeatureSpec {
            event_types,
            details,
            categoricals,
            numerics,
            numeric_logs,
            rules: rules.map(RuleFeatures::of),
        };
        spec.check_unique_names()?;
        Ok(spec)
    }

    /// Two features with one name would make the matrix ambiguous (a numeric column
    /// named `a=<missing>` beside a categorical `a`, say): refuse, naming the column.
    fn check_unique_names(&self) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for name in self.names() {
            if !seen.insert(name.clone()) {
                return Err(Error::setting(
                    "InputPaths.leads",
                    format!("two features would both be called {name:?}: rename that lead column"),
                ));
            }
        }
        Ok(())
    }

    /// Feature names, in column order of [`build`](FeatureSpec::build)'s output (see
    /// `features` for what each column is).
    pub fn names(&self) -> Vec<String> {
        self.features().iter().map(Feature::name).collect()
    }

    /// One row per observation (in order): `lead_id`, `as_of`, then every feature as
    /// Float64 without nulls (see `matrix`, which this names).
    pub fn build(
        &self,
        leads: &DataFrame,
        interactions: &DataFrame,
        observations: &DataFrame,
        rules: Option<&PointModel>,
    ) -> Result<DataFrame> {
        let x = self.matrix(leads, interactions, observations, rules)?;
        let mut columns = vec![
            observations.column(LEAD_ID)?.clone(),
            observations.column(AS_OF)?.clone(),
        ];
        for (name, values) in self.names().into_iter().zip(x.columns()) {
            columns.push(Column::new(name.into(), values.to_vec()));
        }
        Ok(DataFrame::new(observations.height(), columns)?)
    }

    /// What [`build`](Self::build) gives, by polars joins and expressions: the oracle
    /// the matrix is tested against. Interactions at or after an observation's `as_of` are
    /// invisible to it. An attribute column the spec knows but `leads` lacks counts as
    /// missing for every lead. `rules` is the rule model the spec was learned with, when
    /// it has rule features (scoring passes the artifact's).
    #[cfg(test)]
    pub(crate) fn build_by_join(
        &self,
        leads: &DataFrame,
        interactions: &DataFrame,
        observations: &DataFrame,
        rules: Option<&PointModel>,
    ) -> Result<DataFrame> {
        let leads = super::matrix::with_missing_attributes(self, leads)?;
        // Lead columns and activity aggregates get namespaces of their own, so that an
        // attribute called `as_of` or `email_open_7d` cannot be mistaken for another.
        let mut lead_columns = vec![col(LEAD_ID), col(CREATED_AT).alias(LEAD_CREATED)];
        lead_columns.extend(
            self.categoricals
                .iter()
                .map(|(c, _)| c)
                .chain(&self.numerics)
                .map(|c| col(c.as_str()).alias(attribute_column(c))),
        );
        let observed = observations
            .clone()
            .lazy()
            .select([col(LEAD_ID), col(AS_OF)])
            .with_row_index(OBSERVATION, None);
        let activity = self.activity_by_join(interactions, observed.clone())?;
        let features = self.expressions();
        let mut select = vec![col(LEAD_ID), col(AS_OF)];
        select.extend(
            features
                .into_iter()
                .map(|(name, expr)| expr.cast(DataType::Float64).fill_null(lit(0.0)).alias(name)),
        );
        let built = observed
            .join_on_lead(leads.clone().lazy().select(lead_columns), JoinType::Left)
            .join(
                activity,
                [col(OBSERVATION)],
                [col(OBSERVATION)],
                JoinArgs::new(JoinType::Left),
            )
            .sort([OBSERVATION], SortMultipleOptions::default())
            .select(select)
            .collect()?;
        match (&self.rules, rules) {
            (None, _) => Ok(built),
            (Some(features), Some(rules)) => {
                let rule_columns = features.build(rules, &leads, interactions, observations)?;
                Ok(built.hstack(rule_columns.columns())?)
            }
            (Some(_), None) => Err(Error::Artifact {
                reason: "the features include the rule model's scores, but no rule model was given"
                    .into(),
            }),
        }
    }

    /// The same by a polars join of every observation with its lead's interactions:
    /// the oracle the one-pass engine is tested against.
    #[cfg(test)]
    fn activity_by_join(&self, interactions: &DataFrame, observed: LazyFrame) -> Result<LazyFrame> {
        let events = crate::observations::visible_interactions(
            interactions.clone().lazy().select([
                col(LEAD_ID),
                col(OCCURRED_AT),
                col(EVENT_TYPE),
                col(DETAIL),
            ]),
            observed,
        );
        let known = self
            .event_types
            .iter()
            .map(|e| col(EVENT_TYPE).eq(lit(e.clone())))
            .fold(lit(false), |any, is| any.or(is));
        let mut aggs = vec![
            col(AGE).min().alias(activity_column("days_since_last")),
            col(AGE)
                .filter(col(AGE).lt(lit(90.0)))
                .floor()
                .n_unique()
                .alias(activity_column("active_days_90d")),
        ];
        // Every count is a sum of a 0/1 indicator. The indicators are computed over the
        // whole joined frame first and the group-by only sums plain columns, which
        // polars does on its fast path (features for 100,000 leads: 9.6 s before, 8.4
        // to 8.9 s after, in a release build).
        let mut indicators = Vec::new();
        let in_window = |window: Option<u32>| match window {
            Some(days) => col(AGE).lt(lit(days as f64)),
            None => lit(true),
        };
        for window in WINDOWS {
            for event in &self.event_types {
                indicators.push((
                    activity_column(&count_name(event, window)),
                    col(EVENT_TYPE)
                        .eq(lit(event.clone()))
                        .and(in_window(window)),
                ));
            }
            indicators.push((
                activity_column(&count_name(OTHER, window)),
                known.clone().not().and(in_window(window)),
            ));
            for (event, detail) in &self.details {
                let matches = col(EVENT_TYPE)
                    .eq(lit(event.clone()))
                    .and(col(DETAIL).eq(lit(detail.clone())));
                indicators.push((
                    activity_column(&detail_name(event, detail, window)),
                    matches.and(in_window(window)).fill_null(lit(false)),
                ));
            }
        }
        aggs.extend(indicators.iter().map(|(name, _)| col(name.as_str()).sum()));
        let events = events.with_columns(
            indicators
                .into_iter()
                .map(|(name, indicator)| indicator.alias(name))
                .collect::<Vec<_>>(),
        );
        Ok(events.group_by([col(OBSERVATION)]).agg(aggs))
    }

    #[cfg(test)]
    /// (name, expression) of every feature over the joined observation frame.
    fn expressions(&self) -> Vec<(String, Expr)> {
        let log1p = |e: Expr| (e.cast(DataType::Float64) + lit(1.0)).log(lit(std::f64::consts::E));
        let activity = |name: &str| col(activity_column(name));
        let mut found = Vec::new();
        for window in WINDOWS {
            for event in self.event_types.iter().map(String::as_str).chain([OTHER]) {
                let name = count_name(event, window);
                found.push((name.clone(), log1p(activity(&name).fill_null(lit(0)))));
            }
            for (event, detail) in &self.details {
                let name = detail_name(event, detail, window);
                found.push((name.clone(), log1p(activity(&name).fill_null(lit(0)))));
            }
        }
        let lead_age = (col(AS_OF) - col(LEAD_CREATED))
            .dt()
            .total_days(true)
            .clip(lit(0.0), lit(3650.0));
        // A lead that never did anything has been silent since it was created: its
        // recency is its age (a two-day-old lead is not a year-silent one).
        found.push((
            "days_since_last_log".into(),
            log1p(
                activity("days_since_last")
                    .fill_null(lead_age.clone())
                    .clip(lit(0.0), lit(365.0)),
            ),
        ));
        found.push(("never_active".into(), activity("days_since_last").is_null()));
        found.push((
            "active_days_90d_log".into(),
            log1p(activity("active_days_90d").fill_null(lit(0))),
        ));
        found.push(("lead_age_days_log".into(), log1p(lead_age)));
        found.extend(self.attribute_expressions());
        found
    }

    #[cfg(test)]
    /// (name, expression) of every categorical and numeric feature, over the lead's
    /// attribute columns (namespaced by [`attribute_column`]).
    pub(super) fn attribute_expressions(&self) -> Vec<(String, Expr)> {
        let log1p = |e: Expr| (e.cast(DataType::Float64) + lit(1.0)).log(lit(std::f64::consts::E));
        let mut found = Vec::new();
        for (column, values) in &self.categoricals {
            let text = col(attribute_column(column)).cast(DataType::String);
            for value in values {
                found.push((
                    format!("{column}={value}"),
                    text.clone().eq(lit(value.clone())).fill_null(lit(false)),
                ));
            }
            let kept = values
                .iter()
                .fold(lit(false), |any, v| any.or(text.clone().eq(lit(v.clone()))));
            found.push((
                format!("{column}=<other>"),
                text.clone().is_not_null().and(kept.not()),
            ));
            found.push((format!("{column}=<missing>"), text.is_null()));
        }
        for column in &self.numerics {
            // NaN and infinities (a CSV cell "inf", a Parquet NaN) count as missing.
            let raw = col(attribute_column(column)).cast(DataType::Float64);
            let value = when(raw.clone().is_finite())
                .then(raw)
                .otherwise(lit(NULL).cast(DataType::Float64));
            let signed_log = when(value.clone().lt(lit(0.0)))
                .then(lit(0.0) - log1p(lit(0.0) - value.clone()))
                .otherwise(log1p(value.clone()));
            // The value as it is and its signed log, so the fit can take either shape
            // (a plain count, a skewed amount); missing stays NaN here and is imputed by
            // the model with its training mean (beside the indicator), where it cannot
            // dominate.
            found.push((
                format!("{column}{NUMERIC_VALUE}"),
                value.clone().fill_null(lit(f64::NAN)),
            ));
            if self.numeric_logs.contains(column) {
                found.push((
                    format!("{column}{NUMERIC_LOG}"),
                    signed_log.fill_null(lit(f64::NAN)),
                ));
            }
            found.push((format!("{column}=<missing>"), value.is_null()));
        }
        found
    }
}

/// The numeric attributes whose signed log predicts the training labels better than
/// their value, judged over the training observations (one row per snapshot), each
/// column on a core of its own.
fn numerics_worth_a_log(
    leads: &DataFrame,
    observations: &DataFrame,
    observed: &ObservedLeads,
    training: &TrainingRows,
    numerics: &[String],
) -> Result<Vec<String>> {
    use rayon::prelude::*;
    if numerics.is_empty() || observations.column(WON_LABEL).is_err() {
        return Ok(Vec::new());
    }
    if training.repeated {
        // A lead id that the leads table holds twice gives its observations two rows
        // each, as a join does.
        return numerics_worth_a_log_by_join(leads, observations, numerics);
    }
    let won: Vec<bool> = observations
        .column(WON_LABEL)?
        .bool()?
        .iter()
        .map(|w| w.unwrap_or(false))
        .collect();
    // Each observation's row in the leads table, as a left join finds it.
    let rows: Vec<Option<usize>> = observed
        .of_row
        .iter()
        .map(|lead| lead.and_then(|l| training.row_of[l as usize]))
        .collect();
    let worth = numerics
        .par_iter()
        .map(|column| -> Result<bool> {
            let by_lead = leads.column(column)?.cast(&DataType::Float64)?;
            let by_lead: Vec<f64> = by_lead
                .f64()?
                .iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect();
            let values: Vec<f64> = rows
                .iter()
                .map(|row| row.map_or(f64::NAN, |r| by_lead[r]))
                .collect();
            Ok(log_helps(&values, &won))
        })
        .collect::<Result<Vec<bool>>>()?;
    Ok(numerics
        .iter()
        .zip(worth)
        .filter(|(_, worth)| *worth)
        .map(|(column, _)| column.clone())
        .collect())
}

/// [`numerics_worth_a_log`] by a polars join, for a leads table that repeats an id.
fn numerics_worth_a_log_by_join(
    leads: &DataFrame,
    observations: &DataFrame,
    numerics: &[String],
) -> Result<Vec<String>> {
    let joined = observations
        .clone()
        .lazy()
        .select([col(LEAD_ID), col(WON_LABEL)])
        .join_on_lead(
            leads.clone().lazy().select(
                std::iter::once(col(LEAD_ID))
                    .chain(numerics.iter().map(|c| col(c.as_str())))
                    .collect::<Vec<_>>(),
            ),
            JoinType::Left,
        )
        .collect()?;
    let won: Vec<bool> = joined
        .column(WON_LABEL)?
        .bool()?
        .iter()
        .map(|w| w.unwrap_or(false))
        .collect();
    let mut worth = Vec::new();
    for column in numerics {
        let values: Vec<f64> = joined
            .column(column)?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect();
        if log_helps(&values, &won) {
            worth.push(column.clone());
        }
    }
    Ok(worth)
}

/// The values of a categorical column (as text) that `support` training leads have,
/// the most frequent `max_categories` of them, by name.
fn kept_categories(
    values: &StringChunked,
    training: &[bool],
    support: u32,
    params: &SpecParams,
) -> Result<Vec<String>> {
    // Values by first appearance, their training leads, and a cache of their views.
    let mut places: PlHashMap<&str, usize> = PlHashMap::default();
    let mut found: Vec<(u32, &str)> = Vec::new();
    let mut views: ViewCache<usize> = ViewCache::new();
    let mut row = 0;
    for (array, chunk) in values.downcast_iter().zip(values.chunks()) {
        let validity = chunk.validity();
        views.clear();
        for (i, view) in array.views().iter().enumerate() {
            let counted = training[row + i] && validity.is_none_or(|v| v.get_bit(i));
            if !counted {
                continue;
            }
            let view = view.as_u128();
            let place = views.get(view).unwrap_or_else(|| {
                let value = array.value(i);
                let next = found.len();
                let place = *places.entry(value).or_insert(next);
                if place == next {
                    found.push((0, value));
                }
                views.put(view, place);
                place
            });
            found[place].0 += 1;
        }
        row += array.len();
    }
    let mut kept: Vec<(u32, &str)> = found
        .into_iter()
        .filter(|(leads, _)| *leads >= support)
        .collect();
    kept.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    kept.truncate(params.max_categories);
    let mut kept: Vec<String> = kept
        .into_iter()
        .map(|(_, value)| value.to_string())
        .filter(|value| !is_placeholder(value))
        .collect();
    kept.sort_unstable();
    Ok(kept)
}

/// The leads of the training observations, numbered in order of first appearance,
/// with each one's latest cutoff: an interaction visible to some snapshot of a lead is
/// one before that lead's latest cutoff.
struct ObservedLeads<'a> {
    /// The leads' ids, by number.
    index: crate::data::text::IdIndex<'a>,
    /// Each observation's lead (`None` for a missing id), in row order.
    of_row: Vec<Option<u32>>,
    /// Each lead's latest cutoff (µs); `None` when all of its cutoffs are missing.
    latest: Vec<Option<i64>>,
}

impl<'a> ObservedLeads<'a> {
    fn of(observations: &'a DataFrame) -> Result<Self> {
        let ids = observations.column(LEAD_ID)?.str()?;
        let as_of: Vec<Option<i64>> = micros(observations.column(AS_OF)?)?.iter().collect();
        let mut in_order: Vec<&'a str> = Vec::new();
        let mut latest: Vec<Option<i64>> = Vec::new();
        let mut of_row = Vec::with_capacity(ids.len());
        // Ids are hashed only once they stop increasing (observations come sorted).
        let mut places: Option<PlHashMap<&'a str, usize>> = None;
        // Observations come by lead: each run of one id is looked up once.
        crate::data::text::each_run(ids, |start, len, id| {
            let lead = id.map(|id| {
                let last = in_order.last().copied();
                if places.is_none() && last == Some(id) {
                    return in_order.len() - 1;
                }
                if places.is_none() && last.is_none_or(|last| last < id) {
                    in_order.push(id);
                    latest.push(None);
                    return in_order.len() - 1;
                }
                let places = places.get_or_insert_with(|| {
                    in_order
                        .iter()
                        .enumerate()
                        .map(|(place, &id)| (id, place))
                        .collect()
                });
                let next = in_order.len();
                let lead = *places.entry(id).or_insert(next);
                if lead == next {
                    in_order.push(id);
                    latest.push(None);
                }
                lead
            });
            of_row.extend(std::iter::repeat_n(lead.map(|l| l as u32), len));
            if let Some(lead) = lead {
                let latest = &mut latest[lead];
                for &at in &as_of[start..start + len] {
                    *latest = (*latest).max(at);
                }
            }
        });
        Ok(ObservedLeads {
            index: crate::data::text::IdIndex::new(in_order),
            of_row,
            latest,
        })
    }

    /// Which rows of the leads table (`ids`) are observed leads.
    fn rows_in(&self, ids: &StringChunked) -> TrainingRows {
        let mut rows = Vec::with_capacity(ids.len());
        let mut row_of = vec![None; self.latest.len()];
        let mut repeated = false;
        let mut cursor = None;
        for (row, id) in ids.iter().enumerate() {
            let lead = id.and_then(|id| self.index.find(id, &mut cursor));
            if let Some(lead) = lead {
                repeated |= row_of[lead].replace(row).is_some();
            }
            rows.push(lead.is_some());
        }
        TrainingRows {
            rows,
            row_of,
            repeated,
        }
    }
}

/// The rows of the leads table that training observes.
struct TrainingRows {
    /// Whether each row's lead is observed.
    rows: Vec<bool>,
    /// The row of each observed lead (by its number in [`ObservedLeads`]).
    row_of: Vec<Option<usize>>,
    /// Whether some observed lead has more than one row.
    repeated: bool,
}

/// A datetime column as µs.
fn micros(column: &Column) -> Result<Int64Chunked> {
    let typed = column.cast(&DataType::Datetime(TimeUnit::Microseconds, None))?;
    Ok(typed.to_physical_repr().i64()?.clone())
}

/// How many observed leads did each event type, and each (event type, detail) pair,
/// strictly before their latest cutoff.
struct SeenEvents {
    types: Vec<(String, u32)>,
    details: Vec<((String, String), u32)>,
}

/// Observed leads per code, counted over a block of leads.
#[derive(Default)]
struct CodeTally {
    /// Leads per event type code.
    types: Vec<u32>,
    /// Leads per (event type, detail) code pair.
    pairs: PlHashMap<(u32, u32), u32>,
}

impl CodeTally {
    fn add(mut self, other: CodeTally) -> CodeTally {
        if self.types.len() < other.types.len() {
            self.types.resize(other.types.len(), 0);
        }
        for (mine, theirs) in self.types.iter_mut().zip(&other.types) {
            *mine += theirs;
        }
        for (pair, leads) in other.pairs {
            *self.pairs.entry(pair).or_insert(0) += leads;
        }
        self
    }
}

/// Counts distinct leads per event type and per (event type, detail) among the
/// interactions visible to at least one observation: those of an observed lead before
/// its latest cutoff, a prefix of its time-ordered events in the index. Leads are
/// counted in parallel blocks; each lead marks a code once.
fn visible_events(
    events: &EventIndex,
    observed: &ObservedLeads,
    training: &TrainingRows,
) -> SeenEvents {
    let visible: Vec<(usize, i64)> = training
        .row_of
        .iter()
        .zip(&observed.latest)
        .filter_map(|(row, latest)| Some(((*row)?, (*latest)?)))
        .collect();
    let kinds = events.kinds.len();
    let tally = visible
        .par_chunks(4096)
        .map(|block| {
            let mut tally = CodeTally {
                types: vec![0; kinds],
                pairs: PlHashMap::default(),
            };
            // The last lead (by place in `block`) that counted each code, and for pairs
            // their count beside it (one look-up per event).
            let mut type_last = vec![usize::MAX; kinds];
            let mut pairs: PlHashMap<(u32, u32), (usize, u32)> = PlHashMap::default();
            for (lead, &(row, latest)) in block.iter().enumerate() {
                let seen = events.before(row, latest);
                for event in seen {
                    let kind = event.kind as usize;
                    if type_last[kind] != lead {
                        type_last[kind] = lead;
                        tally.types[kind] += 1;
                    }
                    if event.detail == NO_DETAIL {
                        continue;
                    }
                    let (last, leads) = pairs
                        .entry((event.kind, event.detail))
                        .or_insert((usize::MAX, 0));
                    if *last != lead {
                        *last = lead;
                        *leads += 1;
                    }
                }
            }
            tally.pairs = pairs
                .into_iter()
                .map(|(pair, (_, leads))| (pair, leads))
                .collect();
            tally
        })
        .reduce(CodeTally::default, CodeTally::add);
    SeenEvents {
        types: tally
            .types
            .iter()
            .enumerate()
            .filter(|(_, &leads)| leads > 0)
            .map(|(kind, &leads)| (events.kinds[kind].clone(), leads))
            .collect(),
        details: tally
            .pairs
            .into_iter()
            .map(|((kind, detail), leads)| {
                let pair = (
                    events.kinds[kind as usize].clone(),
                    events.details[detail as usize].clone(),
                );
                (pair, leads)
            })
            .collect(),
    }
}

/// The spec learned by polars queries (how [`FeatureSpec::learn`] used to do it): the
/// oracle the counting above is tested against.
#[cfg(test)]
mod learn_oracle {
    use super::*;
    use proptest::prelude::*;

    fn strings(frame: &DataFrame, column: &str) -> Vec<String> {
        frame
            .column(column)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .map(str::to_string)
            .collect()
    }

    fn by_polars(
        leads: &DataFrame,
        interactions: &DataFrame,
        observations: &DataFrame,
        params: &SpecParams,
    ) -> FeatureSpec {
        let seen = interactions
            .clone()
            .lazy()
            .join_on_lead(
                observations
                    .clone()
                    .lazy()
                    .group_by([col(LEAD_ID)])
                    .agg([col(AS_OF).max()]),
                JoinType::Inner,
            )
            .filter(col(OCCURRED_AT).lt(col(AS_OF)))
            .select([col(LEAD_ID), col(EVENT_TYPE), col(DETAIL)]);
        let support = lit(params.min_support);
        let event_types = seen
            .clone()
            .group_by([col(EVENT_TYPE)])
            .agg([col(LEAD_ID).n_unique().alias("leads")])
            .filter(col("leads").gt_eq(support.clone()))
            .sort([EVENT_TYPE], SortMultipleOptions::default())
            .collect()
            .unwrap();
        let event_types = strings(&event_types, EVENT_TYPE)
            .into_iter()
            .filter(|e| !is_placeholder(e))
            .collect();
        let details = seen
            .filter(col(DETAIL).is_not_null())
            .group_by([col(EVENT_TYPE), col(DETAIL)])
            .agg([col(LEAD_ID).n_unique().alias("leads")])
            .filter(col("leads").gt_eq(support.clone()))
            .sort_by_exprs(
                [col("leads"), col(EVENT_TYPE), col(DETAIL)],
                SortMultipleOptions::default().with_order_descending_multi([true, false, false]),
            )
            .limit(params.max_details as IdxSize)
            .collect()
            .unwrap();
        let details = strings(&details, EVENT_TYPE)
            .into_iter()
            .zip(strings(&details, DETAIL))
            .collect();
        let training_leads = leads.clone().lazy().join_on_lead(
            observations
                .clone()
                .lazy()
                .select([col(LEAD_ID)])
                .unique(None, UniqueKeepStrategy::First),
            JoinType::Semi,
        );
        let mut categoricals = Vec::new();
        let mut numerics = Vec::new();
        for column in leads.columns() {
            let name = column.name().as_str();
            if name == LEAD_ID || name == CREATED_AT {
                continue;
            }
            if column.dtype().is_primitive_numeric() {
                numerics.push(name.to_string());
                continue;
            }
            let kept = training_leads
                .clone()
                .filter(col(name).is_not_null())
                .group_by([col(name).cast(DataType::String).alias("value")])
                .agg([len().alias("leads")])
                .filter(col("leads").gt_eq(support.clone()))
                .sort_by_exprs(
                    [col("leads"), col("value")],
                    SortMultipleOptions::default().with_order_descending_multi([true, false]),
                )
                .limit(params.max_categories as IdxSize)
                .sort(["value"], SortMultipleOptions::default())
                .collect()
                .unwrap();
            let kept = strings(&kept, "value")
                .into_iter()
                .filter(|v| !is_placeholder(v))
                .collect();
            categoricals.push((name.to_string(), kept));
        }
        let numeric_logs = if numerics.is_empty() || observations.column(WON_LABEL).is_err() {
            Vec::new()
        } else {
            numerics_worth_a_log_by_join(leads, observations, &numerics).unwrap()
        };
        FeatureSpec {
            event_types,
            details,
            categoricals,
            numerics,
            numeric_logs,
            rules: None,
        }
    }

    fn micros(column: &str, values: Vec<i64>) -> Column {
        Int64Chunked::from_vec(column.into(), values)
            .into_datetime(TimeUnit::Microseconds, None)
            .into_column()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// The counting learns the spec the polars queries learn, whether the
        /// interactions come grouped by lead, sorted by time or shuffled, with leads
        /// that are never observed and observations of leads the table lacks.
        #[test]
        fn learning_agrees_with_the_polars_queries(
            mut events in prop::collection::vec((0u8..12, 0i64..60, 0u8..5, 0u8..6), 0..150),
            cutoffs in prop::collection::vec((0u8..14, 0i64..60, any::<bool>()), 0..30),
            attributes in prop::collection::vec((0u8..6, 0u32..1000), 12),
            order in 0u8..3,
            min_support in 1u32..4,
            max_details in 0usize..6,
            max_categories in 0usize..4,
        ) {
            match order {
                0 => events.sort_by_key(|e| e.0),
                1 => events.sort_by_key(|e| e.1),
                _ => {}
            }
            let day = 86_400_000_000i64;
            let kinds = ["open", "visit", "call", "<other>", "demo"];
            let details = [Some("/pricing"), Some("news"), None, Some("/home"), Some("a"), None];
            let values = [Some("x"), Some("y"), None, Some("<missing>"), Some("z"), Some("y")];
            let leads = DataFrame::new_infer_height(vec![
                Column::new(LEAD_ID.into(), (0..12).map(|i| format!("L{i}")).collect::<Vec<_>>()),
                micros(CREATED_AT, vec![0; 12]),
                Column::new("kind".into(), attributes.iter().map(|a| values[a.0 as usize]).collect::<Vec<_>>()),
                Column::new("size".into(), attributes.iter().map(|a| (a.1 as f64).powi(2) - 40.0).collect::<Vec<_>>()),
            ]).unwrap();
            let interactions = DataFrame::new_infer_height(vec![
                Column::new(LEAD_ID.into(), events.iter().map(|e| format!("L{}", e.0)).collect::<Vec<_>>()),
                micros(OCCURRED_AT, events.iter().map(|e| e.1 * day).collect()),
                Column::new(EVENT_TYPE.into(), events.iter().map(|e| kinds[e.2 as usize]).collect::<Vec<_>>()),
                Column::new(DETAIL.into(), events.iter().map(|e| details[e.3 as usize]).collect::<Vec<_>>()),
            ]).unwrap();
            let mut cutoffs = cutoffs;
            cutoffs.sort_by_key(|c| (format!("L{}", c.0), c.1));
            let observations = DataFrame::new_infer_height(vec![
                Column::new(LEAD_ID.into(), cutoffs.iter().map(|c| format!("L{}", c.0)).collect::<Vec<_>>()),
                micros(AS_OF, cutoffs.iter().map(|c| c.1 * day).collect()),
                Column::new(WON_LABEL.into(), cutoffs.iter().map(|c| c.2).collect::<Vec<_>>()),
            ]).unwrap();
            let params = SpecParams { min_support, max_categories, max_details };
            let events = EventIndex::new(&leads, &interactions).unwrap();
            let learned = FeatureSpec::learn(&leads, &events, &observations, &params, None).unwrap();
            prop_assert_eq!(learned, by_polars(&leads, &interactions, &observations, &params));
        }
    }
}

/// Suffix of a numeric attribute's value feature.
pub(crate) const NUMERIC_VALUE: &str = "_value";
/// Suffix of a numeric attribute's signed-log feature.
pub(crate) const NUMERIC_LOG: &str = "_log";

/// The bucket for event types without features of their own.
pub(crate) const OTHER: &str = "<other>";
#[cfg(test)]
const OBSERVATION: &str = "__observation";
#[cfg(test)]
const LEAD_CREATED: &str = "__created_at";
#[cfg(test)]
const AGE: &str = crate::observations::AGE_DAYS;

/// Names like `<other>` are the spec's own buckets; data values spelled that way join
/// the bucket rather than clash with it.
fn is_placeholder(value: &str) -> bool {
    value.starts_with('<') && value.ends_with('>')
}

#[cfg(test)]
pub(super) fn attribute_column(name: &str) -> String {
    format!("attr:{name}")
}

#[cfg(test)]
fn activity_column(name: &str) -> String {
    format!("act:{name}")
}

#[cfg(test)]
fn window_suffix(window: Option<u32>) -> String {
    window.map_or("all".to_string(), |d| format!("{d}d"))
}

#[cfg(test)]
fn count_name(event: &str, window: Option<u32>) -> String {
    format!("{event}_{}", window_suffix(window))
}

#[cfg(test)]
fn detail_name(event: &str, detail: &str, window: Option<u32>) -> String {
    format!("{event}[{detail}]_{}", window_suffix(window))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::timestamp::MICROS_PER_DAY;
    use proptest::prelude::*;

    /// A spec with activity features only.
    fn spec() -> FeatureSpec {
        FeatureSpec {
            event_types: vec!["open".into(), "visit".into()],
            details: vec![
                ("visit".into(), "/pricing".into()),
                ("open".into(), "news".into()),
            ],
            categoricals: Vec::new(),
            numerics: Vec::new(),
            numeric_logs: Vec::new(),
            rules: None,
        }
    }

    fn micros(column: &str, values: Vec<i64>) -> Column {
        Int64Chunked::from_vec(column.into(), values)
            .into_datetime(TimeUnit::Microseconds, None)
            .into_column()
    }

    /// Event times on a grid of quarter days around the cutoffs, so that ties with a
    /// cutoff and ages of exactly 7, 30 and 90 days occur often, some shifted off the
    /// grid by a few microseconds (where rounding in the age would show).
    fn events() -> impl Strategy<Value = Vec<(u8, i64, u8, u8)>> {
        prop::collection::vec(
            (
                0u8..4,
                (0i64..800, prop_oneof![Just(0i64), 1i64..1_000_000]),
                0u8..4,
                0u8..4,
            )
                .prop_map(|(lead, (quarters, jitter), kind, detail)| {
                    (lead, quarters * (MICROS_PER_DAY / 4) + jitter, kind, detail)
                }),
            0..60,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The matrix written by the one-pass engine and the polars joins and
        /// expressions give the same features for every observation, to the bit: same
        /// counts per window, recency, active days, age, categories (text, and a
        /// boolean read as text) and numbers (floats with NaN, integers), for leads the
        /// table has and one it lacks (`L4`).
        #[test]
        fn the_engine_agrees_with_the_join(
            events in events(),
            cutoffs in prop::collection::vec((0u8..5, 0i64..800), 1..12),
            tiers in prop::collection::vec(0u8..4, 4),
            sizes in prop::collection::vec(0u8..6, 4),
        ) {
            let quarter = MICROS_PER_DAY / 4;
            let start = 1_700_000_000_000_000i64;
            let kinds = ["open", "visit", "call", "<other>"];
            let details = [Some("/pricing"), Some("news"), None, Some("/home")];
            let interactions = DataFrame::new_infer_height(vec![
                Column::new(LEAD_ID.into(), events.iter().map(|e| format!("L{}", e.0)).collect::<Vec<_>>()),
                micros(OCCURRED_AT, events.iter().map(|e| start + e.1).collect()),
                Column::new(EVENT_TYPE.into(), events.iter().map(|e| kinds[e.2 as usize]).collect::<Vec<_>>()),
                Column::new(DETAIL.into(), events.iter().map(|e| details[e.3 as usize]).collect::<Vec<_>>()),
            ]).unwrap();
            let observations = DataFrame::new_infer_height(vec![
                Column::new(LEAD_ID.into(), cutoffs.iter().map(|c| format!("L{}", c.0)).collect::<Vec<_>>()),
                micros(AS_OF, cutoffs.iter().map(|c| start + c.1 * quarter).collect()),
            ]).unwrap();
            let leads = DataFrame::new_infer_height(vec![
                Column::new(LEAD_ID.into(), (0..4).map(|l| format!("L{l}")).collect::<Vec<_>>()),
                micros(CREATED_AT, (0..4).map(|l| start - (l as i64) * 37 * quarter).collect()),
                Column::new("tier".into(), tiers.iter().map(|t| ["a", "b", "z"].get(*t as usize).copied()).collect::<Vec<_>>()),
                Column::new("size".into(), sizes.iter().map(|v| match v { 0 => None, 1 => Some(f64::NAN), 2 => Some(-12.5), _ => Some(*v as f64 * 3.0) }).collect::<Vec<_>>()),
                Column::new("vip".into(), tiers.iter().map(|t| (*t < 3).then_some(*t == 1)).collect::<Vec<_>>()),
                Column::new("seats".into(), sizes.iter().map(|v| (*v > 1).then_some(*v as i64 * 7 - 20)).collect::<Vec<_>>()),
            ]).unwrap();
            let spec = FeatureSpec {
                categoricals: vec![
                    ("tier".into(), vec!["a".into(), "b".into()]),
                    ("region".into(), vec!["eu".into()]),
                    ("vip".into(), vec!["true".into()]),
                ],
                numerics: vec!["size".into(), "seats".into()],
                numeric_logs: vec!["size".into()],
                ..spec()
            };
            let engine = spec.matrix(&leads, &interactions, &observations, None).unwrap();
            let joined_frame = spec
                .build_by_join(&leads, &interactions, &observations, None)
                .unwrap()
                .drop_many([LEAD_ID, AS_OF]);
            // The descriptors name the columns as the oracle's expressions do.
            let joined_names: Vec<String> =
                joined_frame.get_column_names().iter().map(|n| n.to_string()).collect();
            prop_assert_eq!(&joined_names, &spec.names());
            let oracle = crate::model::matrix::to_matrix(&joined_frame).unwrap();
            prop_assert_eq!(engine.dim(), oracle.dim());
            // Partition by partition, the same rows; in f32, each value rounded.
            let index = crate::data::events::EventIndex::new(&leads, &interactions).unwrap();
            let writer = spec.writer(&index, &leads, &interactions, &observations, None).unwrap();
            let mut partitions = Vec::new();
            let rounded = writer.rows_f32_by(3, |part| partitions.push(part.clone())).unwrap();
            let views: Vec<_> = partitions.iter().map(|p| p.view()).collect();
            let joined = ndarray::concatenate(ndarray::Axis(0), &views).unwrap();
            prop_assert!(joined.iter().zip(engine.iter()).all(|(a, b)| a.to_bits() == b.to_bits()));
            prop_assert!(rounded.iter().zip(engine.iter()).all(|(a, b)| a.to_bits() == (*b as f32).to_bits()));
            prop_assert_eq!(rounded.dim(), engine.dim());
            let names = spec.names();
            for ((r, c), &a) in engine.indexed_iter() {
                let b = oracle[[r, c]];
                prop_assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                    "{} of observation {}: {} against {}", names[c], r, a, b
                );
            }
        }
    }
}
