//! `leadscore compare`: both scores judged on the same closed leads.

use predicates::str::contains;

use crate::util::{generate, leadscore};

#[test]
fn compare_writes_a_consistent_report_in_three_forms() {
    let root = tempfile::tempdir().unwrap();
    let dir = generate(&root.path().join("crm"), 1_500, 43, "csv");
    let model = root.path().join("m.model");
    let table = |name: &str| dir.join(format!("{name}.csv"));
    leadscore()
        .arg("train")
        .arg("--leads")
        .arg(table("leads"))
        .arg("--interactions")
        .arg(table("interactions"))
        .arg("--outcomes")
        .arg(table("outcomes"))
        .args(["--until", "2025-08-01", "--l2", "0.01", "--out"])
        .arg(&model)
        .assert()
        .success();
    let out = root.path().join("report");
    leadscore()
        .arg("compare")
        .arg("--model")
        .arg(&model)
        .arg("--leads")
        .arg(table("leads"))
        .arg("--interactions")
        .arg(table("interactions"))
        .arg("--outcomes")
        .arg(table("outcomes"))
        .args(["--bootstrap", "200", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("# Rule points versus predictive probability"))
        .stdout(contains("If sales calls the"));

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let leads = json["leads"].as_u64().unwrap();
    assert!(leads > 300);
    for side in ["rule", "model"] {
        let auc = &json[side]["roc_auc"];
        let (value, low, high) = (
            auc["value"].as_f64().unwrap(),
            auc["low"].as_f64().unwrap(),
            auc["high"].as_f64().unwrap(),
        );
        assert!(
            low <= value && value <= high && high - low < 0.2,
            "{side}: {auc}"
        );
        // The AUC agrees with the area under the reported ROC curve (trapezoids),
        // computed here independently of leadscore's rank-based formula.
        let curve: Vec<(f64, f64)> = json[side]["roc_curve"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect();
        let area: f64 = curve
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
            .sum();
        assert!(
            (area - value).abs() < 1e-9,
            "{side}: area {area} vs AUC {value}"
        );
        let gains = json[side]["gains"].as_array().unwrap();
        assert_eq!(gains.len(), 10);
        assert!((gains[9]["cumulative_won_share"].as_f64().unwrap() - 1.0).abs() < 1e-9);
        let in_deciles: u64 = gains.iter().map(|g| g["leads"].as_u64().unwrap()).sum();
        assert_eq!(in_deciles, leads);
    }
    assert!(json["model"]["roc_auc"]["value"].as_f64().unwrap() > 0.65);

    // The same-volume answer agrees with the tier table.
    let tiers = json["tiers"].as_array().unwrap();
    let in_tiers: u64 = tiers.iter().map(|t| t["leads"].as_u64().unwrap()).sum();
    assert_eq!(in_tiers, leads);
    let action = json["same_volume"]["action_tier"].as_str().unwrap();
    let top = tiers.iter().find(|t| t["name"] == action).unwrap();
    assert_eq!(json["same_volume"]["calls"], top["leads"]);
    assert_eq!(json["same_volume"]["won_by_rule"], top["won"]);

    // Trained until 2025-08-01: the leads open from then on form an unseen second
    // period, which is the headline.
    let periods = json["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 2, "{periods:?}");
    assert!(periods[1]["name"]
        .as_str()
        .unwrap()
        .starts_with("open from 2025-0"));
    assert_eq!(json["headline_is_unseen"], true);
    assert_eq!(json["leads"], periods[1]["leads"]);
    assert_eq!(json["leads_in_training_period"], 0);

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.matches("<svg").count() >= 4, "charts missing");
    let without_svg_namespace = html.replace("http://www.w3.org/2000/svg", "");
    assert!(
        !without_svg_namespace.contains("http://") && !without_svg_namespace.contains("https://")
    );
    assert!(!html.contains("<script"));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Gains by decile"));
}

#[test]
fn compare_refuses_damaged_models_and_bad_settings_with_exit_2() {
    let root = tempfile::tempdir().unwrap();
    let fixture = crate::util::Fixture::new();
    let model = crate::util::write(root.path(), "m.model", b"not a model");
    leadscore()
        .arg("compare")
        .arg("--model")
        .arg(&model)
        .arg("--leads")
        .arg(&fixture.leads)
        .arg("--interactions")
        .arg(&fixture.interactions)
        .arg("--outcomes")
        .arg(&fixture.outcomes)
        .arg("--out")
        .arg(root.path().join("r"))
        .assert()
        .code(2)
        .stderr(contains("not a leadscore model"));
    assert!(!root.path().join("r").exists());
}
