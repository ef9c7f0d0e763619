//! The model as SQL, for lead bases that live in a warehouse or a lake: one query that
//! scores every lead where the data is (DuckDB, Spark, PostgreSQL), reproducing
//! `leadscore score` from the artifact's frozen feature spec, bounds, weights and rule
//! model. [`dialect`] holds what differs between the engines.

pub mod dialect;
#[cfg(test)]
pub(crate) mod duckdb_test;

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

/// Microseconds in a day, the unit of every age.
#[allow(dead_code)] // Used by the scoring query, being written.
const MICROS_PER_DAY: f64 = 86_400_000_000.0;

/// The parts every scoring query starts with:
/// - `params`: `as_of_us`, the scoring time in µs;
/// - `observed`: one row per lead, `lead_id, as_of_us, created_us` and the lead columns
///   `attributes` under the names `a0, a1, …` (in that order), so that no attribute can
///   be mistaken for another column whatever it is called;
/// - `visible`: the interactions strictly before the as-of time, `lead_id, event_type,
///   detail, occurred_us, age_days` (fractional days before the as-of time).
#[allow(dead_code)] // Used by the scoring query, being written.
pub(crate) fn add_observations(
    query: &mut Query,
    d: Dialect,
    tables: &SqlTables,
    as_of: AsOf,
    attributes: &[String],
) {
    let as_of_us = match as_of {
        AsOf::At(micros) => micros.to_string(),
        AsOf::Parameter => d.micros(&format!("CAST({} AS TIMESTAMP)", d.as_of_parameter())),
    };
    query.with("params", format!("SELECT {as_of_us} AS as_of_us"));
    let column = |table: &str, name: &str| format!("{table}.{}", d.ident(name));
    let mut observed = vec![
        format!("{} AS lead_id", column("l", "lead_id")),
        "p.as_of_us AS as_of_us".to_string(),
        format!("{} AS created_us", d.micros(&column("l", "created_at"))),
    ];
    observed.extend(
        attributes
            .iter()
            .enumerate()
            .map(|(i, name)| format!("{} AS a{i}", column("l", name))),
    );
    query.with(
        "observed",
        format!(
            "SELECT {}\nFROM {} AS l CROSS JOIN params AS p",
            observed.join(",\n       "),
            tables.leads
        ),
    );
    let occurred = d.micros(&column("i", "occurred_at"));
    query.with(
        "visible",
        format!(
            "SELECT {lead} AS lead_id, {event} AS event_type, {detail} AS detail,\n       \
             {occurred} AS occurred_us,\n       \
             CAST(o.as_of_us - {occurred} AS {double}) / {day} AS age_days\n\
             FROM {interactions} AS i JOIN observed AS o ON {lead} = o.lead_id\n\
             WHERE {occurred} < o.as_of_us",
            lead = column("i", "lead_id"),
            event = column("i", "event_type"),
            detail = column("i", "detail"),
            double = d.double_type(),
            day = d.double(MICROS_PER_DAY),
            interactions = tables.interactions,
        ),
    );
}
