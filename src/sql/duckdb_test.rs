//! Running an exported query in DuckDB from the tests: the tables are written to Parquet,
//! DuckDB (its Python package, which `.ci/run` installs) reads them as the views `leads`
//! and `interactions`, runs the query and writes the result to Parquet, which is read
//! back with polars to set beside leadscore's own numbers.

use std::path::Path;
use std::process::Command;

use polars::prelude::*;

/// The result of `sql` run by DuckDB over `leads` and `interactions`.
pub(crate) fn run(sql: &str, leads: &DataFrame, interactions: &DataFrame) -> DataFrame {
    run_with_outcomes(sql, leads, interactions, &DataFrame::empty())
}

/// The same with the view `outcomes` too (when `outcomes` has columns).
pub(crate) fn run_with_outcomes(
    sql: &str,
    leads: &DataFrame,
    interactions: &DataFrame,
    outcomes: &DataFrame,
) -> DataFrame {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let write = |frame: &DataFrame, name: &str| {
        let path = dir.path().join(name);
        let mut frame = frame.clone();
        ParquetWriter::new(std::fs::File::create(&path).expect("create"))
            .finish(&mut frame)
            .expect("write parquet");
        path
    };
    let leads_path = write(leads, "leads.parquet");
    let interactions_path = write(interactions, "interactions.parquet");
    let outcomes_path = if outcomes.width() > 0 {
        write(outcomes, "outcomes.parquet")
    } else {
        dir.path().join("none")
    };
    let query_path = dir.path().join("query.sql");
    std::fs::write(&query_path, sql).expect("write query");
    let out = dir.path().join("out.parquet");
    let script = r#"
import sys, duckdb
leads, interactions, query, out, outcomes = sys.argv[1:6]
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute(f"CREATE VIEW leads AS SELECT * FROM read_parquet('{leads}')")
con.execute(f"CREATE VIEW interactions AS SELECT * FROM read_parquet('{interactions}')")
if not outcomes.endswith("none"):
    con.execute(f"CREATE VIEW outcomes AS SELECT * FROM read_parquet('{outcomes}')")
sql = open(query).read().rstrip().rstrip(';')
con.execute(f"COPY ({sql}) TO '{out}' (FORMAT PARQUET)")
"#;
    let ran = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args([
            &leads_path,
            &interactions_path,
            &query_path,
            &out,
            &outcomes_path,
        ])
        .output()
        .expect("python3 runs");
    assert!(
        ran.status.success(),
        "DuckDB refused the query: {}\n{sql}",
        String::from_utf8_lossy(&ran.stderr)
    );
    read(&out)
}

fn read(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).expect("open result"))
        .finish()
        .expect("read result")
}
