//! The model as SQL, for lead bases that live in a warehouse or a lake: one query that
//! scores every lead where the data is (DuckDB, Spark, PostgreSQL), reproducing
//! `leadscore score` from the artifact's frozen feature spec, bounds, weights and rule
//! model. [`dialect`] holds what differs between the engines; `points` writes the rule
//! model, `score` the features and the probability.

pub mod dialect;
#[cfg(test)]
pub(crate) mod duckdb_test;
pub(crate) mod points;
pub(crate) mod score;
pub mod training;

pub use training::training_query;

use crate::error::Result;
use crate::model::Model;

use dialect::{Dialect, Query};

/// Where the tables are in the target engine: each a name or any expression a `FROM`
/// takes (`sales.leads`, `read_parquet('x.parquet')`), written into the query as given.
#[derive(Debug, Clone)]
pub struct SqlTables {
    /// The leads table (the contract's columns).
    pub leads: String,
    /// The interactions table.
    pub interactions: String,
}

/// The time the query scores as of.
#[derive(Debug, Clone, Copy)]
pub enum AsOf {
    /// A fixed time (µs since the epoch), written into the query.
    At(i64),
    /// A parameter the caller binds (see [`Dialect::as_of_parameter`]), so that one
    /// prepared query serves every night.
    Parameter,
}

/// Which (lead, time) pairs a query observes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Observe<'a> {
    /// Every lead, at one time: scoring.
    Leads(AsOf),
    /// What `train` learns from and judges on: every closed deal at each snapshot age
    /// (µs after its lead's creation) strictly before its close, the leads open at the
    /// holdout's evaluation dates, and every lead at the data's end (see
    /// [`training_query`]).
    Training {
        /// The outcomes table, as written into the query.
        outcomes: &'a str,
        /// The snapshot ages in µs, as the model's cutoffs give them.
        ages_us: &'a [i64],
    },
}

pub(crate) use crate::data::timestamp::DAYS_PER_MICRO;

/// One query that scores every lead of `tables` as of `as_of` in the engine `d`, as
/// `leadscore score` does: `lead_id, points, tier, grade, probability, score`.
pub fn scoring_query(model: &Model, d: Dialect, tables: &SqlTables, as_of: AsOf) -> Result<String> {
    let mut query = Query::default();
    add_observations(
        &mut query,
        d,
        tables,
        Observe::Leads(as_of),
        &score::attributes_of(&model.spec),
    );
    points::add_rule_points(&mut query, &model.points, d, tables);
    score::add_probability(&mut query, model, d)?;
    Ok(d.preamble()
        + &query.finish(
        "SELECT r.lead_id AS lead_id, r.points AS points, r.tier AS tier, r.grade AS grade,\n       \
         s.probability AS probability, s.score AS score\n\
         FROM rule_points AS r JOIN scored AS s ON s.lead_id = r.lead_id",
    ))
}

/// The parts every query starts with:
/// - `params` (when observing leads at one time): `as_of_us`, that time in µs;
/// - `observed`: one row per observed (lead, time), `lead_id, as_of_us, created_us`,
///   the lead columns `attributes` under the names `a0, a1, …` (in that order), so that
///   no attribute can be mistaken for another column whatever it is called (for the
///   training rows, each (lead, time) once, after the parts of
///   [`training::add_training_rows`]);
/// - `visible`: for each observed (lead, time), the interactions strictly before the
///   time, `lead_id, as_of_us, event_type, detail, occurred_us, age_days` (fractional
///   days before the time).
pub(crate) fn add_observations(
    query: &mut Query,
    d: Dialect,
    tables: &SqlTables,
    observe: Observe<'_>,
    attributes: &[String],
) {
    let column = |table: &str, name: &str| format!("{table}.{}", d.ident(name));
    let created = d.micros(&column("l", "created_at"));
    let mut observed = vec![format!("{} AS lead_id", column("l", "lead_id"))];
    let from = match observe {
        Observe::Leads(as_of) => {
            let as_of_us = match as_of {
                AsOf::At(micros) => micros.to_string(),
                AsOf::Parameter => d.micros(&format!("CAST({} AS TIMESTAMP)", d.as_of_parameter())),
            };
            query.with("params", format!("SELECT {as_of_us} AS as_of_us"));
            observed.push("p.as_of_us AS as_of_us".to_string());
            format!("FROM {} AS l CROSS JOIN params AS p", tables.leads)
        }
        Observe::Training { outcomes, ages_us } => {
            training::add_training_rows(query, d, tables, outcomes, ages_us);
            observed.push("k.as_of_us AS as_of_us".to_string());
            format!(
                "FROM (SELECT DISTINCT lead_id, as_of_us FROM observations) AS k\n  \
                 JOIN {} AS l ON {} = k.lead_id",
                tables.leads,
                column("l", "lead_id")
            )
        }
    };
    observed.push(format!("{created} AS created_us"));
    observed.extend(
        attributes
            .iter()
            .enumerate()
            .map(|(i, name)| format!("{} AS a{i}", column("l", name))),
    );
    query.with(
        "observed",
        format!("SELECT {}\n{from}", observed.join(",\n       ")),
    );
    let occurred = d.micros(&column("i", "occurred_at"));
    query.with(
        "visible",
        format!(
            "SELECT {lead} AS lead_id, o.as_of_us AS as_of_us, {event} AS event_type,\n       \
             {detail} AS detail, {occurred} AS occurred_us,\n       \
             CAST(o.as_of_us - {occurred} AS {double}) * {day} AS age_days\n\
             FROM {interactions} AS i JOIN observed AS o ON {lead} = o.lead_id\n\
             WHERE {occurred} < o.as_of_us",
            lead = column("i", "lead_id"),
            event = column("i", "event_type"),
            detail = column("i", "detail"),
            double = d.double_type(),
            day = d.double(DAYS_PER_MICRO),
            interactions = tables.interactions,
        ),
    );
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::data::{load, InputPaths, LoadOptions, Tables};
    use crate::generate::{generate, GenerateParams};
    use crate::progress::Progress;
    use polars::prelude::*;

    /// A generated CRM of `leads` leads, loaded (the folder lives as long as the tables
    /// are used).
    pub(crate) fn crm(leads: usize) -> (tempfile::TempDir, Tables) {
        let dir = tempfile::tempdir().unwrap();
        let params = GenerateParams::default()
            .leads(leads)
            .seed(11)
            .check()
            .unwrap();
        generate(&params, dir.path(), &Progress::hidden()).unwrap();
        let path = |name: &str| dir.path().join(format!("{name}.csv"));
        let tables = load(
            &InputPaths {
                leads: path("leads"),
                interactions: path("interactions"),
                outcomes: Some(path("outcomes")),
            },
            LoadOptions::default(),
        )
        .unwrap();
        (dir, tables)
    }

    #[test]
    fn the_query_sees_exactly_the_interactions_before_the_as_of_time_with_leadscores_ages() {
        let (_dir, tables) = crm(200);
        let as_of = crate::data::timestamp::parse_timestamp("2025-09-01").unwrap();
        let mut query = Query::default();
        let names = SqlTables {
            leads: "leads".into(),
            interactions: "interactions".into(),
        };
        add_observations(
            &mut query,
            Dialect::DuckDb,
            &names,
            Observe::Leads(AsOf::At(as_of)),
            &[],
        );
        let sql = query.finish("SELECT lead_id, age_days FROM visible ORDER BY lead_id, age_days");
        let from_sql = duckdb_test::run(&sql, &tables.leads, &tables.interactions)
            .sort(["lead_id", "age_days"], SortMultipleOptions::default())
            .unwrap();
        let expected = crate::observations::visible_interactions(
            tables.interactions.clone().lazy(),
            crate::observations::observations_at(&tables.leads, as_of)
                .unwrap()
                .lazy(),
        )
        .select([
            col(crate::data::columns::LEAD_ID),
            col(crate::observations::AGE_DAYS),
        ])
        .sort(
            [crate::data::columns::LEAD_ID, crate::observations::AGE_DAYS],
            SortMultipleOptions::default(),
        )
        .collect()
        .unwrap();
        assert!(expected.height() > 100);
        assert_eq!(from_sql.height(), expected.height());
        let ages = |frame: &DataFrame, name: &str| -> Vec<f64> {
            frame
                .column(name)
                .unwrap()
                .f64()
                .unwrap()
                .into_no_null_iter()
                .collect()
        };
        let (got, want) = (
            ages(&from_sql, "age_days"),
            ages(&expected, crate::observations::AGE_DAYS),
        );
        let differing = got.iter().zip(&want).filter(|(g, w)| g != w).count();
        assert_eq!(
            differing,
            0,
            "ages must be the same doubles: {:?}",
            got.iter().zip(&want).find(|(g, w)| g != w)
        );
    }
}
