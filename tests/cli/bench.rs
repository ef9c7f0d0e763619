//! `leadscore bench`: the timed train-and-score job reports every stage, scores every
//! lead the same way twice, and refuses bad settings and inputs with exit 2.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use predicates::str::contains;

use crate::util::{generate, leadscore};

fn bench(crm: &Path, out: &Path, json: &Path) -> assert_cmd::Command {
    let mut command = leadscore();
    command
        .arg("bench")
        .arg("--leads")
        .arg(crm.join("leads.parquet"))
        .arg("--interactions")
        .arg(crm.join("interactions.parquet"))
        .arg("--outcomes")
        .arg(crm.join("outcomes.parquet"))
        .args(["--as-of", "2026-01-01"])
        .arg("--out")
        .arg(out)
        .arg("--json")
        .arg(json);
    command
}

fn outputs(root: &Path, name: &str) -> (PathBuf, PathBuf) {
    (
        root.join(format!("{name}.parquet")),
        root.join(format!("{name}.json")),
    )
}

#[test]
fn every_stage_is_reported_and_every_lead_scored_the_same_way_twice() {
    let root = tempfile::tempdir().unwrap();
    let crm = generate(&root.path().join("crm"), 1_500, 5, "parquet");
    let (first, report_path) = outputs(root.path(), "first");
    let started = std::time::Instant::now();
    bench(&crm, &first, &report_path)
        .assert()
        .success()
        .stdout(contains("holdout ROC AUC"));
    let whole_run = started.elapsed().as_secs_f64();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let stages: Vec<&str> = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        ["read", "spec", "features", "train", "score", "write"]
    );
    // Every stage did measurable work, and the stages fit within the process's run.
    let seconds: Vec<f64> = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["seconds"].as_f64().unwrap())
        .collect();
    assert!(seconds.iter().all(|&s| s > 0.0), "{seconds:?}");
    assert!(
        seconds.iter().sum::<f64>() < whole_run,
        "{seconds:?} in {whole_run} s"
    );
    let features = report["feature_names"].as_array().unwrap().len();
    assert!(features > 20);
    assert_eq!(report["feature_means"].as_array().unwrap().len(), features);
    assert!(report["spec"]["event_types"].as_array().unwrap().len() > 3);
    assert!(report["train_rows"].as_u64().unwrap() > report["holdout_rows"].as_u64().unwrap());
    assert!(report["holdout_roc_auc"].as_f64().unwrap() > 0.65);

    let scores = ParquetReader::new(std::fs::File::open(&first).unwrap())
        .finish()
        .unwrap();
    assert_eq!(scores.height(), 1_500);
    assert_eq!(report["scored"], 1_500);
    let probability = scores.column("probability").unwrap().f64().unwrap();
    assert!(probability.iter().flatten().all(|p| p > 0.0 && p < 1.0));

    let (second, second_report) = outputs(root.path(), "second");
    bench(&crm, &second, &second_report).assert().success();
    assert!(
        std::fs::read(&first).unwrap() == std::fs::read(&second).unwrap(),
        "two runs on the same inputs scored differently"
    );
}

#[test]
fn bad_settings_and_inputs_exit_2_and_write_nothing() {
    let root = tempfile::tempdir().unwrap();
    let crm = generate(&root.path().join("crm"), 300, 5, "parquet");
    let (out, json) = outputs(root.path(), "run");
    bench(&crm, &out, &json)
        .arg("--l2=-1")
        .assert()
        .code(2)
        .stderr(contains("--l2"));
    bench(&crm, &root.path().join("scores.txt"), &json)
        .assert()
        .code(2)
        .stderr(contains("--out"));
    std::fs::remove_file(crm.join("outcomes.parquet")).unwrap();
    bench(&crm, &out, &json)
        .assert()
        .code(2)
        .stderr(contains("outcomes.parquet"));
    assert!(!out.exists() && !json.exists(), "a failed run left output");
}
