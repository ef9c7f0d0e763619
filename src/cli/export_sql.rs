//! `leadscore export-sql`: the model as one SQL query for the engine where the lead base
//! lives, printed on stdout.

use clap::{Args, ValueEnum};

use crate::cli::flags;
use crate::cli::history::ModelFile;
use crate::error::Result;
use crate::model::artifact::read_model;
use crate::sql::dialect::Dialect;
use crate::sql::{scoring_query, training_query, AsOf, SqlTables};

/// Flags of `leadscore export-sql`, as typed.
#[derive(Debug, Args)]
pub(crate) struct ExportSqlArgs {
    /// `--model`.
    #[command(flatten)]
    pub(crate) model: ModelFile,
    /// The SQL engine the query is for.
    #[arg(long, value_enum)]
    pub(crate) dialect: DialectFlag,
    /// The leads table, written into the query as given (e.g. `crm.leads`).
    #[arg(long, value_name = "T", default_value = "leads")]
    pub(crate) leads_table: String,
    /// The interactions table, written into the query as given.
    #[arg(long, value_name = "T", default_value = "interactions")]
    pub(crate) interactions_table: String,
    /// The outcomes table, for `--training`, written into the query as given.
    #[arg(long, value_name = "T", default_value = "outcomes")]
    pub(crate) outcomes_table: String,
    /// Score as of this time (ISO 8601), written into the query.
    #[arg(long, value_name = "T", value_parser = flags::time("--as-of"), conflicts_with = "as_of_param", required_unless_present_any = ["as_of_param", "training"])]
    pub(crate) as_of: Option<i64>,
    /// Take the as-of time as a query parameter instead ($as_of in DuckDB, :as_of in
    /// Spark, $1 in PostgreSQL), so that one prepared query serves every night.
    #[arg(long)]
    pub(crate) as_of_param: bool,
    /// Print the query that builds the model's training rows instead: every closed
    /// deal's snapshots with their features, as `train` builds them.
    #[arg(long, conflicts_with_all = ["as_of", "as_of_param"])]
    pub(crate) training: bool,
}

/// The values of `--dialect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DialectFlag {
    /// DuckDB.
    Duckdb,
    /// Apache Spark SQL.
    Spark,
    /// PostgreSQL.
    Postgres,
}

/// Runs the command: the query on stdout.
pub(crate) fn run(args: ExportSqlArgs) -> Result<()> {
    let model = read_model(&args.model.path)?;
    let dialect = match args.dialect {
        DialectFlag::Duckdb => Dialect::DuckDb,
        DialectFlag::Spark => Dialect::Spark,
        DialectFlag::Postgres => Dialect::Postgres,
    };
    let tables = SqlTables {
        leads: args.leads_table,
        interactions: args.interactions_table,
    };
    let sql = if args.training {
        training_query(&model, dialect, &tables, &args.outcomes_table)?
    } else {
        let as_of = match args.as_of {
            Some(time) => AsOf::At(time),
            None => AsOf::Parameter,
        };
        scoring_query(&model, dialect, &tables, as_of)?
    };
    print!("{sql}");
    Ok(())
}
