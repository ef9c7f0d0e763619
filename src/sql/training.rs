//! The training rows as SQL: everything `train` learns from and judges on, built where
//! the data is, so that `train --features` fits on one machine from a table of features
//! instead of the whole lead base.
//!
//! The rows come in three parts (the `part` column), as `train` builds them:
//! - `train`: every closed deal at each snapshot age strictly before its close;
//! - `holdout`: the leads open at each evaluation date from the split (the close time
//!   of the deal at 80% in closing order) on, as of that date, with how they closed;
//! - `base`: every lead at the data's end, which the drift reference describes.
//!
//! The split and the spacing of the dates are computed here as `train` computes them
//! (index ⌊0.8·n⌋ of the sorted close times; the median time deals stayed open, between
//! 1 and 30 days) and travel on every row, so no row needs another to be read.

use super::dialect::{Dialect, Query};
use super::{add_observations, points, score, Observe, SqlTables};
use crate::data::columns::{CLOSED_AT, CREATED_AT, LEAD_ID, OCCURRED_AT, OUTCOME, WON};
use crate::data::timestamp::MICROS_PER_DAY;
use crate::error::{Error, Result};
use crate::features::cutoffs::MAX_EVALUATION_DATES;
use crate::model::Model;

/// The part of the training rows each row belongs to (see the module comment).
pub const PARTS: [&str; 3] = ["train", "holdout", "base"];

/// The columns every training row starts with, before the features.
pub const KEY_COLUMNS: [&str; 7] = [
    "part",
    "lead_id",
    "as_of_us",
    "won",
    "closed_us",
    "holdout_split_us",
    "holdout_every_us",
];

/// What the holdout model's features are called in the training rows when they differ
/// from the shipped model's: its own name behind this prefix.
pub const HOLDOUT_PREFIX: &str = "holdout:";

/// The names of the training rows' columns for `model`: [`KEY_COLUMNS`], the model's
/// features, then (when the holdout model had features of its own) those, prefixed.
/// Refuses a model whose feature names would collide with these columns.
pub fn training_columns(model: &Model) -> Result<Vec<String>> {
    let mut columns: Vec<String> = KEY_COLUMNS.iter().map(|c| c.to_string()).collect();
    columns.extend(model.feature_names.iter().cloned());
    if let Some(holdout) = &model.holdout_spec {
        columns.extend(
            holdout
                .names()
                .into_iter()
                .map(|name| format!("{HOLDOUT_PREFIX}{name}")),
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = columns.iter().find(|c| !seen.insert(c.as_str())) {
        return Err(Error::Artifact {
            reason: format!(
                "the training rows would have two columns called {twice:?}: rename the lead column behind that feature and retrain"
            ),
        });
    }
    Ok(columns)
}

/// The training rows of `model`'s features, as `train` builds them from `tables` and
/// `outcomes`: the columns of [`training_columns`], missing numbers NULL, in no
/// particular order (`train --features` orders them itself). A lead base too large for
/// one machine aggregates in the warehouse and only this matrix travels.
pub fn training_query(
    model: &Model,
    d: Dialect,
    tables: &SqlTables,
    outcomes: &str,
) -> Result<String> {
    let names = training_columns(model)?;
    let ages_us: Vec<i64> = model.cutoffs.ages_micros();
    let mut attributes = score::attributes_of(&model.spec);
    if let Some(holdout) = &model.holdout_spec {
        for column in score::attributes_of(holdout) {
            if !attributes.contains(&column) {
                attributes.push(column);
            }
        }
    }
    let mut query = Query::default();
    add_observations(
        &mut query,
        d,
        tables,
        Observe::Training {
            outcomes,
            ages_us: &ages_us,
        },
        &attributes,
    );
    let rules_wanted = model.spec.rules.is_some()
        || model
            .holdout_spec
            .as_ref()
            .is_some_and(|s| s.rules.is_some());
    if rules_wanted {
        points::add_rule_points(&mut query, &model.points, d, tables);
    }
    score::add_features(&mut query, model, d)?;
    let mut select: Vec<String> = [
        "o.part",
        "o.lead_id",
        "o.as_of_us",
        "o.won",
        "o.closed_us",
        "p.split_us",
        "p.every_us",
    ]
    .iter()
    .zip(&names)
    .map(|(column, name)| format!("{column} AS {}", d.ident(name)))
    .collect();
    let mut names = names[KEY_COLUMNS.len()..].iter();
    select.extend(
        (0..model.feature_names.len())
            .zip(names.by_ref())
            .map(|(j, name)| format!("f.f{j} AS {}", d.ident(name))),
    );
    let mut joins =
        "JOIN features AS f ON f.lead_id = o.lead_id AND f.as_of_us = o.as_of_us".to_string();
    if let Some(holdout) = &model.holdout_spec {
        score::add_spec_features(&mut query, holdout, d, "_holdout", &attributes)?;
        select.extend(
            names
                .enumerate()
                .map(|(j, name)| format!("h.f{j} AS {}", d.ident(name))),
        );
        joins.push_str(
            "\n  JOIN features_holdout AS h ON h.lead_id = o.lead_id AND h.as_of_us = o.as_of_us",
        );
    }
    Ok(d.preamble()
        + &query.finish(&format!(
            "SELECT {}\nFROM observations AS o\n  {joins}\n  CROSS JOIN holdout_plan AS p",
            select.join(",\n       ")
        )))
}

/// Adds the parts that list the training rows, ending in `observations` (`part,
/// lead_id, as_of_us, won, closed_us`); `holdout_plan` (`split_us, every_us, last_us`)
/// is one row. Several parts may observe one (lead, time): their features are the same.
pub(crate) fn add_training_rows(
    query: &mut Query,
    d: Dialect,
    tables: &SqlTables,
    outcomes: &str,
    ages_us: &[i64],
) {
    let column = |table: &str, name: &str| format!("{table}.{}", d.ident(name));
    let created = d.micros(&column("l", CREATED_AT));
    let closed = d.micros(&column("c", CLOSED_AT));
    let double = d.double_type();
    // Rows naming a lead the leads table lacks never reach `train` (it warns or
    // refuses), so they count here for nothing either.
    let known = |table: &str| {
        format!(
            "{} IN (SELECT {} FROM {})",
            column(table, LEAD_ID),
            d.ident(LEAD_ID),
            tables.leads
        )
    };
    query.with(
        "deals",
        format!(
            "SELECT {lead} AS lead_id, {created} AS created_us, {closed} AS closed_us,\n       \
             lower(trim({outcome})) = {won} AS won\n\
             FROM {outcomes} AS c JOIN {leads} AS l ON {lead_l} = {lead}\n\
             WHERE {created_at} IS NOT NULL AND {closed_at} IS NOT NULL",
            lead = column("c", LEAD_ID),
            lead_l = column("l", LEAD_ID),
            outcome = column("c", OUTCOME),
            won = d.text(WON),
            leads = tables.leads,
            created_at = column("l", CREATED_AT),
            closed_at = column("c", CLOSED_AT),
        ),
    );
    // Every close time, ranked, for the split; every deal's time open, ranked, for the
    // spacing of the evaluation dates.
    query.with(
        "closes",
        format!(
            "SELECT {closed} AS closed_us, row_number() OVER (ORDER BY {closed}) - 1 AS k,\n       \
             count(*) OVER () AS n\nFROM {outcomes} AS c\nWHERE {} IS NOT NULL AND {known}",
            column("c", CLOSED_AT),
            known = known("c"),
        ),
    );
    query.with(
        "opens",
        "SELECT closed_us - created_us AS open_us,\n       \
         row_number() OVER (ORDER BY closed_us - created_us) - 1 AS k, count(*) OVER () AS n\n\
         FROM deals"
            .into(),
    );
    let day = MICROS_PER_DAY;
    let share = d.double(0.8);
    query.with(
        "holdout_plan",
        format!(
            "SELECT (SELECT closed_us FROM closes\n         \
             WHERE CAST(k AS {double}) <= CAST(n AS {double}) * {share}\n           \
             AND CAST(k + 1 AS {double}) > CAST(n AS {double}) * {share}) AS split_us,\n       \
             coalesce((SELECT LEAST(GREATEST(open_us, {day}), {month}) FROM opens\n                 \
             WHERE 2 * k = n OR 2 * k = n - 1), {day}) AS every_us,\n       \
             (SELECT max(closed_us) + 1 FROM closes) AS last_us",
            month = 30 * day,
        ),
    );
    query.with(
        "holdout_dates",
        format!(
            "SELECT p.split_us + g.k * p.every_us AS as_of_us\n\
             FROM holdout_plan AS p CROSS JOIN {}\n\
             WHERE p.split_us + g.k * p.every_us < p.last_us",
            d.counting(MAX_EVALUATION_DATES)
        ),
    );
    query.with(
        "data_end",
        format!(
            "SELECT coalesce(max(t), 0) AS as_of_us FROM (\n  \
             SELECT max({created}) AS t FROM {leads} AS l\n  \
             UNION ALL SELECT max({occurred}) FROM {interactions} AS i WHERE {known_i}\n  \
             UNION ALL SELECT max({closed}) FROM {outcomes} AS c WHERE {known_c}\n) AS e",
            occurred = d.micros(&column("i", OCCURRED_AT)),
            known_i = known("i"),
            known_c = known("c"),
            leads = tables.leads,
            interactions = tables.interactions,
        ),
    );
    let ages: Vec<String> = ages_us.iter().map(|age| format!("({age})")).collect();
    query.with(
        "observations",
        format!(
            "SELECT {train} AS part, d.lead_id AS lead_id, d.created_us + s.age_us AS as_of_us,\n       \
             d.won AS won, d.closed_us AS closed_us\n\
             FROM deals AS d CROSS JOIN (VALUES {ages}) AS s(age_us)\n\
             WHERE d.created_us + s.age_us < d.closed_us\n\
             UNION ALL\n\
             SELECT {holdout}, d.lead_id, t.as_of_us, d.won, d.closed_us\n\
             FROM deals AS d JOIN holdout_dates AS t\n  \
             ON d.created_us <= t.as_of_us AND d.closed_us > t.as_of_us\n\
             UNION ALL\n\
             SELECT {base}, {lead}, e.as_of_us, CAST(NULL AS BOOLEAN), CAST(NULL AS BIGINT)\n\
             FROM {leads} AS l CROSS JOIN data_end AS e",
            train = d.text(PARTS[0]),
            holdout = d.text(PARTS[1]),
            base = d.text(PARTS[2]),
            ages = ages.join(", "),
            lead = column("l", LEAD_ID),
            leads = tables.leads,
        ),
    );
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::data::Tables;
    use crate::features::cutoffs::{evaluation_dates, open_at_dates, training_observations};
    use crate::features::spec::FeatureSpec;
    use crate::observations::{observations_at, AS_OF};
    use crate::sql::score::tests::trained;
    use crate::sql::{duckdb_test, tests::crm};
    use polars::prelude::*;

    /// The training rows of `model` built by DuckDB from `tables`, with `part` `part`,
    /// sorted by `keys`.
    pub(crate) fn rows_from_duckdb(model: &Model, tables: &Tables) -> DataFrame {
        let names = SqlTables {
            leads: "leads".into(),
            interactions: "interactions".into(),
        };
        let sql = training_query(model, Dialect::DuckDb, &names, "outcomes").unwrap();
        duckdb_test::run_with_outcomes(&sql, &tables.leads, &tables.interactions, &tables.outcomes)
    }

    fn part(rows: &DataFrame, part: &str, keys: [&str; 2]) -> DataFrame {
        rows.clone()
            .lazy()
            .filter(col("part").eq(lit(part)))
            .sort(keys, SortMultipleOptions::default())
            .collect()
            .unwrap()
    }

    fn int_column(frame: &DataFrame, name: &str) -> Vec<Option<i64>> {
        let column = frame.column(name).unwrap().to_physical_repr();
        column.i64().unwrap().iter().collect()
    }

    /// Checks that `rows` (lead, time and features as the query named them) hold
    /// `spec`'s features of `observations`, row by row, to 1e-12.
    fn same_features(
        rows: &DataFrame,
        observations: &DataFrame,
        spec: &FeatureSpec,
        prefix: &str,
        model: &Model,
        tables: &Tables,
    ) {
        assert_eq!(
            int_column(rows, "as_of_us"),
            int_column(observations, AS_OF),
            "the same rows in the same order"
        );
        let x = spec
            .matrix(
                &tables.leads,
                &tables.interactions,
                observations,
                spec.rules.is_some().then_some(&model.points),
            )
            .unwrap();
        let mut worst = 0.0f64;
        for (j, name) in spec.names().iter().enumerate() {
            let column = rows.column(&format!("{prefix}{name}")).unwrap();
            let column = column.cast(&DataType::Float64).unwrap();
            for (i, value) in column.f64().unwrap().iter().enumerate() {
                let expected = x[[i, j]];
                match value {
                    None => assert!(expected.is_nan(), "{name} row {i}: NULL for {expected}"),
                    Some(v) => {
                        assert!(!expected.is_nan(), "{name} row {i}: {v} for missing");
                        worst = worst.max((v - expected).abs() / expected.abs().max(1.0));
                    }
                }
            }
        }
        assert!(worst < 1e-12, "features differ by up to {worst:e}");
    }

    #[test]
    fn duckdb_builds_the_rows_train_learns_from_and_judges_on() {
        same_training_rows(false);
    }

    #[test]
    fn duckdb_builds_the_training_rows_with_the_rule_scores_as_features() {
        same_training_rows(true);
    }

    /// Trains on a generated CRM and checks every part of the training query against
    /// what `train` builds: the snapshots with their labels, close times and features;
    /// the holdout's split, spacing and open leads with the holdout model's features;
    /// the lead base at the data's end.
    fn same_training_rows(rule_features: bool) {
        let (_dir, tables) = crm(500);
        let model = trained(&tables, rule_features);
        let rows = rows_from_duckdb(&model, &tables);
        // On 500 generated leads the earlier deals keep fewer details than all deals, so
        // the holdout model's own features are built too.
        assert!(model.holdout_spec.is_some());
        let holdout_spec = model.holdout_spec.as_ref().unwrap_or(&model.spec);
        let holdout_prefix = if model.holdout_spec.is_some() {
            HOLDOUT_PREFIX
        } else {
            ""
        };

        let train = part(&rows, "train", ["lead_id", "as_of_us"]);
        let observations =
            training_observations(&tables.leads, &tables.outcomes, &model.cutoffs).unwrap();
        assert!(train.height() > 500, "{} training rows", train.height());
        let labels = |frame: &DataFrame| -> Vec<Option<bool>> {
            frame
                .column("won")
                .unwrap()
                .bool()
                .unwrap()
                .iter()
                .collect()
        };
        assert_eq!(labels(&train), labels(&observations));
        assert_eq!(
            int_column(&train, "closed_us"),
            int_column(&observations, "closed_at"),
            "the same close times"
        );
        same_features(&train, &observations, &model.spec, "", &model, &tables);
        if let Some(holdout) = &model.holdout_spec {
            same_features(
                &train,
                &observations,
                holdout,
                HOLDOUT_PREFIX,
                &model,
                &tables,
            );
        }

        let split = model.holdout.split_at;
        let every = (model.holdout.every_days * MICROS_PER_DAY as f64).round() as i64;
        let constant = |name: &str, value: i64| {
            assert!(
                int_column(&rows, name).iter().all(|v| *v == Some(value)),
                "{name}"
            );
        };
        constant("holdout_split_us", split);
        constant("holdout_every_us", every);
        let last_close = crate::model::pipeline::close_quantile(&tables.outcomes, 1.0).unwrap();
        let expected = open_at_dates(
            &tables.leads,
            &tables.outcomes,
            &evaluation_dates(split, last_close, every),
        )
        .unwrap();
        let holdout = part(&rows, "holdout", ["as_of_us", "lead_id"]);
        assert!(holdout.height() > 20, "{} holdout rows", holdout.height());
        assert_eq!(holdout.height(), model.holdout.rows);
        assert_eq!(labels(&holdout), labels(&expected));
        same_features(
            &holdout,
            &expected,
            holdout_spec,
            holdout_prefix,
            &model,
            &tables,
        );

        let base = part(&rows, "base", ["lead_id", "as_of_us"]);
        let expected = observations_at(&tables.leads, model.data_as_of)
            .unwrap()
            .sort(
                [crate::data::columns::LEAD_ID],
                SortMultipleOptions::default(),
            )
            .unwrap();
        assert_eq!(base.height(), tables.leads.height());
        same_features(&base, &expected, &model.spec, "", &model, &tables);
    }
}
