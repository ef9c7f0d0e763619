//! `leadscore generate`: deterministic, valid by the contract, realistic enough to fool
//! a careless pipeline, and readable the same from CSV and Parquet.

use std::path::Path;

use leadscore::data::{load, InputPaths, LoadOptions};
use predicates::str::contains;

use crate::util::{generate, leadscore};

const TABLES: [&str; 4] = ["leads", "interactions", "outcomes", "truth"];

fn bytes(dir: &Path, name: &str, ext: &str) -> Vec<u8> {
    std::fs::read(dir.join(format!("{name}.{ext}"))).unwrap()
}

fn paths(dir: &Path, ext: &str) -> InputPaths {
    InputPaths {
        leads: dir.join(format!("leads.{ext}")),
        interactions: dir.join(format!("interactions.{ext}")),
        outcomes: Some(dir.join(format!("outcomes.{ext}"))),
    }
}

#[test]
fn same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let root = tempfile::tempdir().unwrap();
    for ext in ["csv", "parquet"] {
        let a = generate(&root.path().join(format!("a-{ext}")), 400, 7, ext);
        let b = generate(&root.path().join(format!("b-{ext}")), 400, 7, ext);
        let c = generate(&root.path().join(format!("c-{ext}")), 400, 8, ext);
        for table in TABLES {
            assert_eq!(
                bytes(&a, table, ext),
                bytes(&b, table, ext),
                "{table}.{ext} differs for one seed"
            );
            assert_ne!(
                bytes(&a, table, ext),
                bytes(&c, table, ext),
                "{table}.{ext} same for two seeds"
            );
        }
    }
}

#[test]
fn csv_and_parquet_read_the_same() {
    let root = tempfile::tempdir().unwrap();
    let csv = generate(&root.path().join("csv"), 500, 3, "csv");
    let parquet = generate(&root.path().join("parquet"), 500, 3, "parquet");
    let from_csv = load(&paths(&csv, "csv"), LoadOptions::default()).unwrap();
    let from_parquet = load(&paths(&parquet, "parquet"), LoadOptions::default()).unwrap();
    assert!(from_csv.interactions.height() > 5_000);
    assert!(
        from_csv.leads.equals_missing(&from_parquet.leads),
        "leads differ"
    );
    assert!(
        from_csv
            .interactions
            .equals_missing(&from_parquet.interactions),
        "interactions differ"
    );
    assert!(
        from_csv.outcomes.equals_missing(&from_parquet.outcomes),
        "outcomes differ"
    );
}

#[test]
fn generated_data_is_valid_and_has_what_training_needs() {
    let root = tempfile::tempdir().unwrap();
    let dir = generate(root.path(), 2_000, 11, "csv");
    let output = leadscore()
        .arg("validate")
        .arg("--leads")
        .arg(dir.join("leads.csv"))
        .arg("--interactions")
        .arg(dir.join("interactions.csv"))
        .arg("--outcomes")
        .arg(dir.join("outcomes.csv"))
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let (won, lost, open) = (
        summary["won"].as_u64().unwrap(),
        summary["lost"].as_u64().unwrap(),
        summary["open"].as_u64().unwrap(),
    );
    assert!(
        won > 200 && lost > 200 && open > 200,
        "won {won}, lost {lost}, open {open}"
    );
    let per_lead = summary["interactions_per_lead"]["mean"].as_f64().unwrap();
    assert!(
        (20.0..40.0).contains(&per_lead),
        "{per_lead} interactions per lead"
    );
    let event_types: Vec<&str> = summary["event_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[0].as_str().unwrap())
        .collect();
    for expected in [
        "email_open",
        "email_click",
        "page_visit",
        "download",
        "webinar",
        "form_submit",
        "demo_request",
        "unsubscribe",
        "email_bounce",
    ] {
        assert!(
            event_types.contains(&expected),
            "no {expected} in {event_types:?}"
        );
    }
    // Real CRMs record activity after the deal closed; so must the generator.
    let after_close = &summary["after_close"];
    assert!(after_close["interactions"].as_u64().unwrap() > 1_000);
    let late_types: Vec<&str> = after_close["event_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[0].as_str().unwrap())
        .collect();
    assert!(
        late_types.contains(&"product_login") && late_types.contains(&"unsubscribe"),
        "{late_types:?}"
    );
    // Attributes with signal and pure noise, some missing.
    let attributes: Vec<&str> = summary["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    for expected in [
        "industry",
        "job_title",
        "seniority",
        "company_size",
        "country",
        "source",
        "lead_owner",
        "lucky_number",
    ] {
        assert!(
            attributes.contains(&expected),
            "no {expected} in {attributes:?}"
        );
    }
}

#[test]
fn truth_file_covers_every_lead_with_a_probability() {
    let root = tempfile::tempdir().unwrap();
    let dir = generate(root.path(), 300, 5, "csv");
    let truth = std::fs::read_to_string(dir.join("truth.csv")).unwrap();
    let mut lines = truth.lines();
    assert_eq!(lines.next(), Some("lead_id,true_probability"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 300);
    for row in rows {
        let p: f64 = row.split(',').nth(1).unwrap().parse().unwrap();
        assert!(p > 0.0 && p < 1.0, "{row}");
    }
}

#[test]
fn bad_settings_exit_2_and_write_nothing() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    leadscore()
        .args(["generate", "--leads", "0", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("setting `--leads`"));
    leadscore()
        .args(["generate", "--end", "2023-01-01", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("setting `--end`"));
    assert!(!out.exists());
}

#[test]
fn leaves_no_partial_files() {
    let root = tempfile::tempdir().unwrap();
    let dir = generate(root.path(), 100, 1, "parquet");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "interactions.parquet",
            "leads.parquet",
            "outcomes.parquet",
            "truth.parquet"
        ]
    );
}

#[test]
fn bundled_sample_is_what_the_generator_makes() {
    let root = tempfile::tempdir().unwrap();
    let dir = generate(root.path(), 4_000, 42, "csv");
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    for table in TABLES {
        assert!(
            bytes(&dir, table, "csv") == bytes(&bundled, table, "csv"),
            "data/{table}.csv is stale: regenerate it with `cargo run -- generate --out data --leads 4000 --seed 42`"
        );
    }
}
