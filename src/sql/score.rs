//! The model's probability as SQL: the artifact's frozen features over the observed
//! leads and their visible interactions, bounded and imputed as the model does, then the
//! linear predictor, the probability and the 1–99 score.
//!
//! Each feature is written from its descriptor ([`Feature`]), never from its name. The
//! constants (bounds, weights folded with the standardisation) are computed here in the
//! same double arithmetic as leadscore's scoring and written as exact literals, so the
//! engine's probability differs from leadscore's only by the order of one sum.

use super::dialect::{Dialect, Query};
use super::DAYS_PER_MICRO;
use crate::error::{Error, Result};
use crate::features::descriptor::{CategoryValue, Feature, NumberForm};
use crate::features::spec::FeatureSpec;
use crate::model::train::{LinearModel, CLIP_MARGIN_SD};
use crate::model::Model;

use crate::features::activity::ACTIVE_DAYS_WINDOW;
use crate::features::matrix::{MAX_LEAD_AGE_DAYS, MAX_RECENCY_DAYS};

/// Adds the parts `activity`, `features` (`lead_id, as_of_us, f0, f1, …` in the model's
/// feature order, missing numbers as NULL) and `scored` (`lead_id, probability, score`)
/// after the observation parts.
pub(crate) fn add_probability(query: &mut Query, model: &Model, d: Dialect) -> Result<()> {
    add_features(query, model, d)?;
    let z = linear_predictor(d, &model.linear);
    query.with(
        "scored",
        format!(
            // PostgreSQL raises an error where exp over- or underflows; beyond ±700 the
            // probability is 0 or 1 to within 1e-300 either way.
            "SELECT lead_id, probability,\n       \
             CAST(LEAST(GREATEST(floor(probability * 100 + 0.5), 1), 99) AS INTEGER) AS score\n\
             FROM (SELECT lead_id, 1 / (1 + exp(-LEAST(GREATEST({z}, -700), 700))) AS probability FROM features) AS p"
        ),
    );
    Ok(())
}

/// Adds the parts `activity` and `features` (see [`add_probability`]).
pub(crate) fn add_features(query: &mut Query, model: &Model, d: Dialect) -> Result<()> {
    if model.spec.features().len() != model.linear.weights.len() {
        return Err(Error::Artifact {
            reason: "the model's feature list does not match its weights".into(),
        });
    }
    add_spec_features(query, &model.spec, d, "", &attributes_of(&model.spec))
}

/// Adds the parts `activity{suffix}` and `features{suffix}`: `lead_id, as_of_us, f0,
/// f1, …` in `spec`'s feature order, missing numbers as NULL. `attributes` are the
/// columns `observed` carries, in order (a superset of `spec`'s).
pub(crate) fn add_spec_features(
    query: &mut Query,
    spec: &FeatureSpec,
    d: Dialect,
    suffix: &str,
    attributes: &[String],
) -> Result<()> {
    let features = spec.features();
    let counts: Vec<&Feature> = features
        .iter()
        .filter(|f| matches!(f, Feature::Count { .. }))
        .collect();
    query.with(&format!("activity{suffix}"), activity(d, spec, &counts));
    let lead_age = lead_age_days(d);
    // The counts' aggregates `c0, c1, …` are numbered in feature order.
    let mut next_count = 0;
    let raw: Vec<String> = features
        .iter()
        .map(|feature| {
            let count = matches!(feature, Feature::Count { .. }).then(|| {
                next_count += 1;
                next_count - 1
            });
            raw_feature(d, spec, feature, count, attributes, &lead_age)
        })
        .collect::<Result<_>>()?;
    let mut select = vec![
        "o.lead_id AS lead_id".to_string(),
        "o.as_of_us AS as_of_us".to_string(),
    ];
    select.extend(raw.iter().enumerate().map(|(j, e)| format!("{e} AS f{j}")));
    query.with(
        &format!("features{suffix}"),
        format!(
            "SELECT {}\nFROM observed AS o\n     \
             LEFT JOIN activity{suffix} AS a ON a.lead_id = o.lead_id AND a.as_of_us = o.as_of_us{}",
            select.join(",\n       "),
            if spec.rules.is_some() {
                "\n     LEFT JOIN rule_points AS r ON r.lead_id = o.lead_id AND r.as_of_us = o.as_of_us"
            } else {
                ""
            }
        ),
    );
    Ok(())
}

/// `activity`: per lead, the last activity's age, the distinct active days of the last
/// 90, and every windowed count, over the visible interactions.
fn activity(d: Dialect, spec: &FeatureSpec, counts: &[&Feature]) -> String {
    let mut select = vec![
        "lead_id".to_string(),
        "as_of_us".to_string(),
        "min(age_days) AS days_since_last".to_string(),
        format!(
            "count(DISTINCT CASE WHEN age_days < {} THEN floor(age_days) END) AS active_days",
            d.double(ACTIVE_DAYS_WINDOW)
        ),
    ];
    for (k, count) in counts.iter().enumerate() {
        select.push(format!(
            "sum(CASE WHEN {} THEN 1 ELSE 0 END) AS c{k}",
            count_condition(d, spec, count)
        ));
    }
    format!(
        "SELECT {}\nFROM visible\nGROUP BY lead_id, as_of_us",
        select.join(",\n       ")
    )
}

/// Which visible interactions a count counts: its event type (and detail), or any type
/// without a column of its own, within its window.
fn count_condition(d: Dialect, spec: &FeatureSpec, count: &Feature) -> String {
    let Feature::Count {
        event,
        detail,
        window,
    } = count
    else {
        return "FALSE".into();
    };
    let mut parts = Vec::new();
    match event {
        Some(event) => {
            parts.push(format!("event_type = {}", d.text(event)));
            if let Some(detail) = detail {
                parts.push(format!("detail = {}", d.text(detail)));
            }
        }
        None if spec.event_types.is_empty() => parts.push("TRUE".into()),
        None => parts.push(format!(
            "NOT (event_type IN ({}))",
            list(d, &spec.event_types)
        )),
    }
    if let Some(days) = window {
        parts.push(format!("age_days < {}", d.double(f64::from(*days))));
    }
    parts.join(" AND ")
}

/// Texts as a quoted, comma-separated list.
fn list(d: Dialect, values: &[String]) -> String {
    values
        .iter()
        .map(|v| d.text(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The attribute columns `observed` must carry for `spec`, in order: the `i`th is
/// `o.a{i}` in the query.
pub(crate) fn attributes_of(spec: &FeatureSpec) -> Vec<String> {
    spec.categoricals
        .iter()
        .map(|(column, _)| column.clone())
        .chain(spec.numerics.iter().cloned())
        .collect()
}

/// `expression` kept within `[low, high]`.
fn clip(d: Dialect, expression: &str, low: f64, high: f64) -> String {
    format!(
        "LEAST(GREATEST({expression}, {}), {})",
        d.double(low),
        d.double(high)
    )
}

/// The observed lead's age in days at its as-of time, within the engine's bounds.
fn lead_age_days(d: Dialect) -> String {
    clip(
        d,
        &format!(
            "CAST(o.as_of_us - o.created_us AS {}) * {}",
            d.double_type(),
            d.double(DAYS_PER_MICRO)
        ),
        0.0,
        MAX_LEAD_AGE_DAYS,
    )
}

/// One feature's value before bounding, over `observed AS o`, `activity AS a` and (for
/// rule features) `rule_points AS r`; NULL where the model imputes. `count` is a count
/// feature's aggregate number; `attributes` are `observed`'s attribute columns in order.
fn raw_feature(
    d: Dialect,
    spec: &FeatureSpec,
    feature: &Feature,
    count: Option<usize>,
    attributes: &[String],
    lead_age: &str,
) -> Result<String> {
    let double = d.double_type();
    let log1p = |e: &str| format!("ln(1 + {e})");
    let clip = |e: &str, low: f64, high: f64| clip(d, e, low, high);
    let flag = |condition: &str| format!("CASE WHEN {condition} THEN 1 ELSE 0 END");
    let attribute = |column: &str| -> Result<String> {
        attributes
            .iter()
            .position(|a| a == column)
            .map(|i| format!("o.a{i}"))
            .ok_or_else(|| Error::Artifact {
                reason: format!("the feature spec reads {column:?} but does not list it"),
            })
    };
    Ok(match feature {
        Feature::Count { .. } => {
            let k = count.ok_or_else(|| Error::Artifact {
                reason: "a count feature without its aggregate".into(),
            })?;
            log1p(&format!("CAST(coalesce(a.c{k}, 0) AS {double})"))
        }
        Feature::DaysSinceLast => log1p(&clip(
            &format!("coalesce(a.days_since_last, {lead_age})"),
            0.0,
            MAX_RECENCY_DAYS,
        )),
        Feature::NeverActive => flag("a.days_since_last IS NULL"),
        Feature::ActiveDays90 => log1p(&format!("CAST(coalesce(a.active_days, 0) AS {double})")),
        Feature::LeadAge => format!("coalesce({}, 0)", log1p(lead_age)),
        Feature::Category { column, value } => {
            let text = d.as_text(&attribute(column)?);
            match value {
                CategoryValue::Value(value) => flag(&format!("{text} = {}", d.text(value))),
                CategoryValue::Missing => flag(&format!("{text} IS NULL")),
                CategoryValue::Other => {
                    let kept = spec
                        .categoricals
                        .iter()
                        .find(|(c, _)| c == column)
                        .map(|(_, values)| values.as_slice())
                        .unwrap_or_default();
                    if kept.is_empty() {
                        flag(&format!("{text} IS NOT NULL"))
                    } else {
                        flag(&format!(
                            "{text} IS NOT NULL AND NOT ({text} IN ({}))",
                            list(d, kept)
                        ))
                    }
                }
            }
        }
        Feature::Number { column, form } => {
            let value = d.finite_or_null(&attribute(column)?);
            match form {
                NumberForm::Value => value,
                NumberForm::Log => format!(
                    "CASE WHEN {value} < 0 THEN -ln(1 + -({value})) ELSE ln(1 + {value}) END"
                ),
                NumberForm::Missing => flag(&format!("{value} IS NULL")),
            }
        }
        Feature::RuleFitPoints => format!("CAST(coalesce(r.fit_points, 0) AS {double})"),
        Feature::RuleEngagementPoints => {
            format!("CAST(coalesce(r.engagement_points, 0) AS {double})")
        }
        Feature::RuleGrade(grade) => flag(&format!("r.grade = {}", d.text(grade))),
    })
}

/// The log-odds over the `features` part: the bounded, imputed features times the
/// weights folded with the standardisation, plus the folded intercept, as
/// `LinearModel::log_odds_prepared` computes them.
fn linear_predictor(d: Dialect, linear: &LinearModel) -> String {
    let shift: f64 = linear
        .weights
        .iter()
        .zip(&linear.means)
        .zip(&linear.scales)
        .map(|((w, m), s)| w * m / s)
        .sum();
    let mut terms = vec![d.double(linear.intercept - shift)];
    for j in 0..linear.weights.len() {
        let weight = linear.weights[j] / linear.scales[j];
        let (low, high) = (linear.lower[j], linear.upper[j]);
        let margin = CLIP_MARGIN_SD * linear.spread[j];
        let f = format!("f{j}");
        let bounded = format!(
            "CASE WHEN {f} IS NULL THEN {fill} WHEN {f} < {low} THEN GREATEST({f}, {floor}) \
             WHEN {f} > {high} THEN LEAST({f}, {ceiling}) ELSE {f} END",
            fill = d.double(linear.fill[j]),
            low = d.double(low),
            high = d.double(high),
            floor = d.double(low - margin),
            ceiling = d.double(high + margin),
        );
        terms.push(format!("{} * ({bounded})", d.double(weight)));
    }
    terms.join("\n + ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::data::history::History;
    use crate::data::timestamp::parse_timestamp;
    use crate::features::cutoffs::CutoffParams;
    use crate::model::score::score_leads;
    use crate::model::select::L2Choice;
    use crate::model::train::FitParams;
    use crate::model::{train_model, TrainChoices};
    use crate::points::PointModel;
    use crate::progress::Progress;
    use crate::sql::{duckdb_test, tests::crm, AsOf, SqlTables};
    use polars::prelude::*;

    /// A model trained on `tables`, with the rule model's scores as features or not.
    pub(crate) fn trained(tables: &crate::data::Tables, rule_features: bool) -> Model {
        let (model, _) = train_model(
            History::of_tables(tables.clone(), rule_features).unwrap(),
            PointModel::for_leads(None, tables.leads.schema())
                .unwrap()
                .0,
            &CutoffParams::default().check().unwrap(),
            &FitParams::default(),
            TrainChoices {
                rule_features,
                ..TrainChoices::new(L2Choice::Auto)
            },
            &Progress::hidden(),
        )
        .unwrap();
        model
    }

    #[test]
    fn duckdb_gives_every_lead_leadscores_probability_and_score() {
        let (_dir, tables) = crm(600);
        same_in_duckdb(&tables, false);
    }

    #[test]
    fn a_model_with_the_rule_scores_as_features_scores_the_same_in_duckdb() {
        let (_dir, tables) = crm(600);
        let model = same_in_duckdb(&tables, true);
        assert!(model
            .feature_names
            .iter()
            .any(|n| n.starts_with("rule_grade=")));
    }

    /// Names and values that would break or inject into a carelessly quoted query.
    pub(crate) const HOSTILE: &str = "x'\"; DROP TABLE leads; --\\ `é`";

    /// Makes `tables` hostile: the `industry` column's name and every industry, event
    /// type and detail end in [`HOSTILE`]. Returns the new column name.
    pub(crate) fn make_hostile(tables: &mut crate::data::Tables) -> String {
        let industry = format!("industry{HOSTILE}");
        tables
            .leads
            .rename("industry", industry.as_str().into())
            .unwrap();
        let hostile_text = |frame: &DataFrame, column: &str| -> Column {
            let values = frame.column(column).unwrap().str().unwrap();
            values
                .apply_values(|v| format!("{v}{HOSTILE}").into())
                .into_column()
        };
        let renamed = hostile_text(&tables.leads, &industry);
        tables.leads.with_column(renamed).unwrap();
        let events = hostile_text(&tables.interactions, "event_type");
        tables.interactions.with_column(events).unwrap();
        let details = hostile_text(&tables.interactions, "detail");
        tables.interactions.with_column(details).unwrap();
        industry
    }

    #[test]
    fn hostile_names_and_values_neither_break_nor_change_the_query() {
        let (_dir, mut tables) = crm(600);
        let industry = make_hostile(&mut tables);
        let model = same_in_duckdb(&tables, false);
        assert!(model.feature_names.iter().any(|n| n.starts_with(&industry)));
        assert!(model.spec.event_types.iter().all(|e| e.ends_with(HOSTILE)));
        assert!(model.spec.details.iter().all(|(_, d)| d.ends_with(HOSTILE)));
    }

    /// Scores `tables` both ways with a model trained on them and checks they agree.
    fn same_in_duckdb(tables: &crate::data::Tables, rule_features: bool) -> Model {
        let model = trained(tables, rule_features);
        assert!(!model.spec.numerics.is_empty() && !model.spec.categoricals.is_empty());
        assert!(!model.spec.details.is_empty());
        let as_of = parse_timestamp("2026-01-01").unwrap();
        let names = SqlTables {
            leads: "leads".into(),
            interactions: "interactions".into(),
        };
        let sql =
            crate::sql::scoring_query(&model, Dialect::DuckDb, &names, AsOf::At(as_of)).unwrap();
        let from_sql = duckdb_test::run(&sql, &tables.leads, &tables.interactions);
        let expected = score_leads(&model, &tables.leads, &tables.interactions, as_of)
            .unwrap()
            .table;
        let joined = expected
            .lazy()
            .join(
                from_sql.lazy(),
                [col("lead_id")],
                [col("lead_id")],
                JoinArgs::new(JoinType::Inner).with_suffix(Some("_sql".into())),
            )
            .collect()
            .unwrap();
        assert_eq!(joined.height(), tables.leads.height());
        let floats = |name: &str| -> Vec<f64> {
            joined
                .column(name)
                .unwrap()
                .cast(&DataType::Float64)
                .unwrap()
                .f64()
                .unwrap()
                .into_no_null_iter()
                .collect()
        };
        let worst = floats("probability")
            .iter()
            .zip(floats("probability_sql"))
            .map(|(a, b)| (a - b).abs())
            // A NaN on either side is the worst difference, never one passed over.
            .fold(0.0, |worst, d| {
                if d.is_nan() {
                    f64::INFINITY
                } else {
                    worst.max(d)
                }
            });
        assert!(worst < 1e-9, "probabilities differ by up to {worst}");
        assert_eq!(floats("score"), floats("score_sql"));
        assert_eq!(floats("points"), floats("points_sql"));
        for band in ["tier", "grade"] {
            let sql_band = format!("{band}_sql");
            assert!(joined
                .column(band)
                .unwrap()
                .equals_missing(joined.column(&sql_band).unwrap()));
        }
        model
    }
}
