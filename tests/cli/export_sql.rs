//! `leadscore export-sql`: the model as one query, run in DuckDB the way a warehouse
//! job would (the exactness against `score` is tested in the library, on generated data
//! with hostile names and values).

use std::process::Command as Process;

use crate::util::leadscore;

/// Trains on the bundled data into `dir` (with `extra` flags) and returns the model.
fn model(dir: &std::path::Path, extra: &[&str]) -> std::path::PathBuf {
    let out = dir.join("model.bin");
    leadscore()
        .args(["train", "--leads", "data/leads.csv", "--interactions"])
        .args([
            "data/interactions.csv",
            "--outcomes",
            "data/outcomes.csv",
            "--out",
        ])
        .arg(&out)
        .args(extra)
        .assert()
        .success();
    out
}

/// Runs `sql` in DuckDB over the bundled data, binding `as_of` when given, and returns
/// the rows as `lead_id,probability,score` lines, sorted.
fn duckdb(sql: &str, as_of: Option<&str>) -> Vec<String> {
    let script = r#"
import sys, duckdb
sql, as_of = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute("CREATE VIEW leads AS SELECT * FROM read_csv('data/leads.csv')")
con.execute("CREATE VIEW interactions AS SELECT * FROM read_csv('data/interactions.csv')")
rows = con.execute(sql, {"as_of": as_of} if as_of else None).fetchall()
for lead, probability, score in sorted(rows):
    print(f"{lead},{probability!r},{score}")
"#;
    let ran = Process::new("python3")
        .args(["-c", script, sql, as_of.unwrap_or("")])
        .output()
        .expect("python3 runs");
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    String::from_utf8(ran.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_parameterised_query_scores_as_the_query_with_the_time_written_in() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path(), &[]);
    let export = |extra: &[&str]| {
        let out = leadscore()
            .args(["export-sql", "--dialect", "duckdb", "--model"])
            .arg(&model)
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let written = duckdb(&export(&["--as-of", "2026-01-01"]), None);
    let bound = duckdb(&export(&["--as-of-param"]), Some("2026-01-01 00:00:00"));
    assert_eq!(written.len(), 4000);
    assert_eq!(written, bound);
}

#[test]
fn a_model_with_rule_features_is_refused_with_exit_2_for_now() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path(), &["--points", "data/points.toml"]);
    leadscore()
        .args([
            "export-sql",
            "--dialect",
            "postgres",
            "--as-of",
            "2026-01-01",
            "--model",
        ])
        .arg(&model)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("trained with --points"));
}

#[test]
fn the_time_is_required_one_way_or_the_other() {
    leadscore()
        .args(["export-sql", "--dialect", "spark", "--model", "m.bin"])
        .assert()
        .code(2);
}
