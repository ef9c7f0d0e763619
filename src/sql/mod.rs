//! The model as SQL, for lead bases that live in a warehouse or a lake: one query that
//! scores every lead where the data is (DuckDB, Spark, PostgreSQL), reproducing
//! `leadscore score` from the artifact's frozen feature spec, bounds, weights and rule
//! model. [`dialect`] holds what differs between the engines.

pub mod dialect;
