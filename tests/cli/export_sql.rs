//! `leadscore export-sql`: the model as one query, run in DuckDB the way a warehouse
//! job would, against `leadscore score` on the bundled data (the library's tests hold it
//! to `score` on generated data with hostile names and values).

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
/// the rows as `lead_id,points,tier,grade,probability,score` lines, sorted.
fn duckdb(sql: &str, as_of: Option<&str>) -> Vec<String> {
    let script = r#"
import sys, duckdb
sql, as_of = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute("CREATE VIEW leads AS SELECT * FROM read_csv('data/leads.csv')")
con.execute("CREATE VIEW interactions AS SELECT * FROM read_csv('data/interactions.csv')")
rows = con.execute(sql, {"as_of": as_of} if as_of else None).fetchall()
for lead, points, tier, grade, probability, score in sorted(rows):
    print(f"{lead},{points!r},{tier},{grade},{probability!r},{score}")
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
    let export = |extra: &[&str]| export_duckdb(&model, extra);
    let written = duckdb(&export(&["--as-of", "2026-01-01"]), None);
    let bound = duckdb(&export(&["--as-of-param"]), Some("2026-01-01 00:00:00"));
    assert_eq!(written.len(), 4000);
    assert_eq!(written, bound);
}

#[test]
fn a_model_trained_with_rules_scores_in_duckdb_as_score_does() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path(), &["--points", "data/points.toml"]);
    let from_sql = duckdb(&export_duckdb(&model, &["--as-of", "2026-01-01"]), None);
    let scores = dir.path().join("scores.csv");
    leadscore()
        .args(["score", "--leads", "data/leads.csv", "--interactions"])
        .args(["data/interactions.csv", "--as-of", "2026-01-01", "--model"])
        .arg(&model)
        .arg("--out")
        .arg(&scores)
        .assert()
        .success();
    let mut expected: Vec<Vec<String>> = std::fs::read_to_string(&scores)
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| line.split(',').take(6).map(str::to_string).collect())
        .collect();
    expected.sort();
    assert_eq!(from_sql.len(), expected.len());
    for (got, want) in from_sql.iter().zip(&expected) {
        let got: Vec<&str> = got.split(',').collect();
        // lead_id, tier, grade and score exactly; points and probability as numbers.
        let exact = |i: usize| want[i].as_str();
        assert_eq!(
            [got[0], got[2], got[3], got[5]],
            [exact(0), exact(2), exact(3), exact(5)]
        );
        let number = |s: &str| s.parse::<f64>().unwrap();
        assert_eq!(number(got[1]), number(&want[1]), "points of {}", got[0]);
        assert!(
            (number(got[4]) - number(&want[4])).abs() < 1e-9,
            "probability of {}",
            got[0]
        );
    }
}

#[test]
fn the_time_is_required_one_way_or_the_other() {
    leadscore()
        .args(["export-sql", "--dialect", "spark", "--model", "m.bin"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--as-of"));
}

/// `leadscore export-sql --dialect duckdb --model MODEL` with `extra` flags: the query.
fn export_duckdb(model: &std::path::Path, extra: &[&str]) -> String {
    let out = leadscore()
        .args(["export-sql", "--dialect", "duckdb", "--model"])
        .arg(model)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Builds the training rows of `model` in DuckDB over the bundled data, as a warehouse
/// job would, into `out` (CSV or Parquet by its extension).
fn training_rows_in_duckdb(model: &std::path::Path, out: &std::path::Path) {
    let sql = export_duckdb(model, &["--training"]);
    let script = r#"
import sys, duckdb
sql, out = sys.argv[1].rstrip().rstrip(';'), sys.argv[2]
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
for table in ["leads", "interactions", "outcomes"]:
    con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_csv('data/{table}.csv')")
con.execute(f"COPY ({sql}) TO '{out}'")
"#;
    let ran = Process::new("python3")
        .args(["-c", script, &sql])
        .arg(out)
        .output()
        .expect("python3 runs");
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
}

/// `inspect --json` of a model.
fn inspected(model: &std::path::Path) -> serde_json::Value {
    let out = leadscore()
        .arg("inspect")
        .arg(model)
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `leadscore train --features ROWS --model MODEL --out OUT`.
fn train_on_rows(
    rows: &std::path::Path,
    model: &std::path::Path,
    out: &std::path::Path,
) -> assert_cmd::assert::Assert {
    leadscore()
        .args(["train", "--features"])
        .arg(rows)
        .arg("--model")
        .arg(model)
        .arg("--out")
        .arg(out)
        .assert()
}

#[test]
fn training_on_the_rows_duckdb_built_gives_trains_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path(), &[]);
    let rows = dir.path().join("rows.csv");
    training_rows_in_duckdb(&model, &rows);
    let refit = dir.path().join("refit.bin");
    train_on_rows(&rows, &model, &refit)
        .success()
        .stdout(predicates::str::contains("holdout"));
    let (mut trained, mut refitted) = (inspected(&model), inspected(&refit));
    assert_ne!(trained["data_fingerprint"], refitted["data_fingerprint"]);
    for json in [&mut trained, &mut refitted] {
        json.as_object_mut().unwrap().remove("data_fingerprint");
    }
    assert!(
        trained["holdout_spec"].is_object(),
        "data/ exercises the holdout's own features"
    );
    assert_eq!(
        trained["linear"], refitted["linear"],
        "the same coefficients"
    );
    assert_eq!(
        trained, refitted,
        "the same artifact but for the data fingerprint"
    );
}

#[test]
fn rows_built_for_another_model_or_an_output_over_them_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let other_dir = dir.path().join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let other = model(&other_dir, &["--points", "data/points.toml"]);
    let model = model(dir.path(), &[]);
    let rows = dir.path().join("rows.parquet");
    training_rows_in_duckdb(&model, &rows);
    let refused = dir.path().join("refused.bin");
    train_on_rows(&rows, &other, &refused)
        .code(2)
        .stderr(predicates::str::contains("rows.parquet"))
        .stderr(predicates::str::contains(
            "not the training rows of this model",
        ));
    assert!(!refused.exists());
    let before = std::fs::read(&rows).unwrap();
    train_on_rows(&rows, &model, &rows)
        .code(2)
        .stderr(predicates::str::contains("--features"));
    assert_eq!(std::fs::read(&rows).unwrap(), before);
    leadscore()
        .args(["train", "--features"])
        .arg(&rows)
        .args(["--model", "m.bin", "--snapshots", "3", "--out", "x.bin"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot be used with"));
}
