//! `leadscore train`: refuses thin history, prints holdout metrics, and writes the same
//! bytes for the same inputs.

use predicates::str::contains;

use crate::util::{generate, leadscore, Fixture};

fn train(dir: &std::path::Path, out: &std::path::Path) -> assert_cmd::assert::Assert {
    train_with(dir, &[], out)
}

/// `train` on the CSV tables in `dir` with `settings` added.
fn train_with(
    dir: &std::path::Path,
    settings: &[&str],
    out: &std::path::Path,
) -> assert_cmd::assert::Assert {
    leadscore()
        .arg("train")
        .arg("--leads")
        .arg(dir.join("leads.csv"))
        .arg("--interactions")
        .arg(dir.join("interactions.csv"))
        .arg("--outcomes")
        .arg(dir.join("outcomes.csv"))
        .args(settings)
        .arg("--out")
        .arg(out)
        .assert()
}

#[test]
fn training_twice_gives_byte_identical_artifacts() {
    let root = tempfile::tempdir().unwrap();
    let dir = generate(&root.path().join("crm"), 1_500, 17, "csv");
    let (a, b) = (root.path().join("a.model"), root.path().join("b.model"));
    train(&dir, &a)
        .success()
        .stdout(contains("ROC AUC"))
        .stdout(contains("fingerprint crc32:"));
    train(&dir, &b).success();
    let (a_bytes, b_bytes) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(a_bytes.starts_with(b"LEADSCORE\0\r\n"));
    assert!(a_bytes == b_bytes, "two trainings on the same data differ");

    // One interaction fewer: another fingerprint.
    let interactions = dir.join("interactions.csv");
    let text = std::fs::read_to_string(&interactions).unwrap();
    let shorter = &text[..text.trim_end().rfind('\n').unwrap() + 1];
    std::fs::write(&interactions, shorter).unwrap();
    let c = root.path().join("c.model");
    train(&dir, &c).success();
    let fingerprint = |path: &std::path::Path| {
        let model: leadscore::model::Model =
            leadscore::model::artifact::decode(&std::fs::read(path).unwrap()).unwrap();
        model.data_fingerprint
    };
    assert_ne!(fingerprint(&a), fingerprint(&c));
}

#[test]
fn too_little_history_is_refused_with_exit_2() {
    let fixture = Fixture::new();
    let out = fixture.dir.path().join("m.model");
    leadscore()
        .arg("train")
        .arg("--leads")
        .arg(&fixture.leads)
        .arg("--interactions")
        .arg(&fixture.interactions)
        .arg("--outcomes")
        .arg(&fixture.outcomes)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("too little history to train: 1 won and 1 lost"));
    assert!(!out.exists());
}

#[test]
fn invalid_training_settings_exit_2() {
    let fixture = Fixture::new();
    leadscore()
        .args(["train", "--snapshots", "0", "--leads"])
        .arg(&fixture.leads)
        .arg("--interactions")
        .arg(&fixture.interactions)
        .arg("--outcomes")
        .arg(&fixture.outcomes)
        .arg("--out")
        .arg(fixture.dir.path().join("m.model"))
        .assert()
        .code(2)
        .stderr(contains("setting `--snapshots`"));
}

#[test]
fn inspect_shows_the_model_and_refuses_damaged_artifacts() {
    let root = tempfile::tempdir().unwrap();
    let dir = generate(&root.path().join("crm"), 1_200, 23, "csv");
    let model = root.path().join("m.model");
    train(&dir, &model).success();
    leadscore()
        .arg("inspect")
        .arg(&model)
        .assert()
        .success()
        .stdout(contains("format version 4"))
        .stdout(contains("coefficients"))
        .stdout(contains("page_visit[/pricing]"));
    let json = leadscore()
        .arg("inspect")
        .arg(&model)
        .arg("--json")
        .output()
        .unwrap();
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(parsed["holdout"]["roc_auc"].as_f64().unwrap() > 0.6);
    // product_login happens only after a deal was won: it must get no weight at all.
    let names: Vec<&str> = parsed["feature_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(names.iter().any(|n| n.starts_with("page_visit")));
    // Every feature carries its training distribution for later drift checks.
    assert_eq!(
        parsed["drift"]["features"].as_array().unwrap().len(),
        names.len()
    );
    assert!(
        !names.iter().any(|n| n.contains("product_login")),
        "{names:?}"
    );

    let bytes = std::fs::read(&model).unwrap();
    let mut corrupted = bytes.clone();
    let middle = corrupted.len() / 2;
    corrupted[middle] ^= 0xFF;
    let mut newer = bytes.clone();
    newer[12] = 99;
    let mut older = bytes.clone();
    older[12] = 1;
    // A well-formed envelope around parts that disagree (one weight missing).
    let mut parts: leadscore::model::Model = leadscore::model::artifact::decode(&bytes).unwrap();
    parts.linear.weights.pop();
    let inconsistent = leadscore::model::artifact::encode(&parts).unwrap();
    let cases: [(&str, Vec<u8>, &str); 7] = [
        ("truncated", bytes[..bytes.len() / 2].to_vec(), "truncated"),
        ("corrupted", corrupted, "checksum"),
        (
            "foreign",
            b"lead_id,created_at\n".to_vec(),
            "not a leadscore model",
        ),
        ("newer", newer, "newer than this leadscore reads"),
        ("older", older, "retrain the model"),
        ("inconsistent", inconsistent, "inconsistent"),
        ("empty", Vec::new(), "not a leadscore model"),
    ];
    for (name, content, message) in cases {
        let path = crate::util::write(root.path(), &format!("{name}.model"), content);
        leadscore()
            .arg("inspect")
            .arg(&path)
            .assert()
            .code(2)
            .stderr(contains(message));
    }
}

#[test]
fn score_gives_points_probability_and_reasons_even_for_unseen_values() {
    let root = tempfile::tempdir().unwrap();
    let dir = generate(&root.path().join("crm"), 1_200, 29, "csv");
    let model = root.path().join("m.model");
    train(&dir, &model).success();
    // Scoring data from a later export: a new industry and a new event type.
    let leads = crate::util::write(
        root.path(),
        "new_leads.csv",
        "lead_id,created_at,industry,job_title,seniority,company_size,country,source,lead_owner,utm_campaign,browser,lucky_number\n\
         N1,2025-11-01,Aerospace,Founder,owner,300,US,referral,x.new,cmp-999,opera,7\n\
         N2,2025-12-01,Software,,,,,,,,,\n",
    );
    let interactions = crate::util::write(
        root.path(),
        "new_interactions.csv",
        "lead_id,occurred_at,event_type,detail\n\
         N1,2025-12-20,page_visit,/pricing\n\
         N1,2025-12-21,chat_started,widget\n\
         N1,2025-12-22,demo_request,\n",
    );
    let out = root.path().join("scores.csv");
    leadscore()
        .arg("score")
        .arg("--model")
        .arg(&model)
        .arg("--leads")
        .arg(&leads)
        .arg("--interactions")
        .arg(&interactions)
        .args(["--as-of", "2026-01-01", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stderr(contains("scored 2 leads"));
    let written = std::fs::read_to_string(&out).unwrap();
    let mut lines = written.lines();
    assert_eq!(
        lines.next(),
        Some("lead_id,points,tier,grade,probability,score,reasons")
    );
    let n1: Vec<&str> = lines.next().unwrap().splitn(7, ',').collect();
    let n2: Vec<&str> = lines.next().unwrap().splitn(7, ',').collect();
    let (p1, p2): (f64, f64) = (n1[4].parse().unwrap(), n2[4].parse().unwrap());
    assert!(p1 > 0.0 && p1 < 1.0 && p2 > 0.0 && p2 < 1.0);
    assert!(
        p1 > p2,
        "an engaged founder ({p1}) should beat a silent unknown ({p2})"
    );
    assert!(!n1[6].is_empty(), "no reasons for N1");

    // Interactions at or after --as-of change nothing.
    let later = crate::util::write(
        root.path(),
        "later_interactions.csv",
        "lead_id,occurred_at,event_type,detail\n\
         N1,2025-12-20,page_visit,/pricing\n\
         N1,2025-12-21,chat_started,widget\n\
         N1,2025-12-22,demo_request,\n\
         N2,2026-01-01,demo_request,\n\
         N2,2026-01-01T00:00:00,page_visit,/pricing\n\
         N1,2026-02-01,unsubscribe,\n",
    );
    let out_later = root.path().join("scores_later.csv");
    leadscore()
        .arg("score")
        .arg("--model")
        .arg(&model)
        .arg("--leads")
        .arg(&leads)
        .arg("--interactions")
        .arg(&later)
        .args(["--as-of", "2026-01-01", "--out"])
        .arg(&out_later)
        .assert()
        .success();
    assert_eq!(written, std::fs::read_to_string(&out_later).unwrap());
}

#[test]
fn a_rule_file_given_to_train_feeds_its_scores_to_the_model() {
    let root = tempfile::tempdir().unwrap();
    let dir = generate(&root.path().join("crm"), 1_200, 31, "parquet");
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/points.toml");
    let model = root.path().join("m.model");
    leadscore()
        .arg("train")
        .arg("--leads")
        .arg(dir.join("leads.parquet"))
        .arg("--interactions")
        .arg(dir.join("interactions.parquet"))
        .arg("--outcomes")
        .arg(dir.join("outcomes.parquet"))
        .arg("--points")
        .arg(&rules)
        .args(["--l2", "0.01", "--class-weight", "balanced", "--out"])
        .arg(&model)
        .assert()
        .success()
        .stdout(contains("L2 0.01 (fixed)"))
        .stdout(contains("PR AUC"))
        .stdout(contains("lift in top decile"));
    let json = leadscore()
        .arg("inspect")
        .arg(&model)
        .arg("--json")
        .output()
        .unwrap();
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let names = parsed["feature_names"].as_array().unwrap();
    for wanted in ["rule_fit_points", "rule_engagement_points", "rule_grade=A"] {
        assert!(names.iter().any(|n| n == wanted), "{wanted} missing");
    }
    assert_eq!(parsed["fit"]["class_weight"], "Balanced");

    let out = root.path().join("scores.jsonl");
    leadscore()
        .arg("score")
        .arg("--model")
        .arg(&model)
        .arg("--leads")
        .arg(dir.join("leads.parquet"))
        .arg("--interactions")
        .arg(dir.join("interactions.parquet"))
        .args(["--as-of", "2025-10-01", "--out"])
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1_200);
    for row in &rows {
        let p = row["probability"].as_f64().unwrap();
        assert!(p > 0.0 && p < 1.0, "{row}");
    }
    assert!(rows.iter().any(|r| r["reasons"]
        .as_str()
        .unwrap()
        .contains("points from the rules")
        || r["reasons"].as_str().unwrap().contains("fit grade")));
}

#[test]
fn max_training_rows_samples_whole_leads_and_says_so() {
    let root = tempfile::tempdir().unwrap();
    let dir = generate(&root.path().join("crm"), 1_500, 37, "csv");
    let (a, b) = (root.path().join("a.model"), root.path().join("b.model"));
    let sampled = |out: &std::path::Path| {
        train_with(&dir, &["--max-training-rows", "1500"], out)
            .success()
            .stderr(contains("snapshots (whole leads, stratified by outcome"))
    };
    sampled(&a);
    sampled(&b);
    assert!(
        std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
        "the same data gives the same sample"
    );
    train_with(
        &dir,
        &["--max-training-rows", "many"],
        &root.path().join("c.model"),
    )
    .code(2);
    assert!(!root.path().join("c.model").exists());
}
