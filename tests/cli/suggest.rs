//! `leadscore suggest-points`: rules learned from the model, read back by the rule engine.

use predicates::str::contains;

use crate::util::{generate, leadscore};

#[test]
fn suggested_points_are_valid_rules_that_rank_nearly_as_well_as_the_model() {
    let root = tempfile::tempdir().unwrap();
    let dir = generate(&root.path().join("crm"), 2_000, 47, "parquet");
    let table = |name: &str| dir.join(format!("{name}.parquet"));
    let model = root.path().join("m.model");
    leadscore()
        .arg("train")
        .arg("--leads")
        .arg(table("leads"))
        .arg("--interactions")
        .arg(table("interactions"))
        .arg("--outcomes")
        .arg(table("outcomes"))
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    let rules = root.path().join("suggested.toml");
    let output = leadscore()
        .arg("suggest-points")
        .arg("--model")
        .arg(&model)
        .arg("--leads")
        .arg(table("leads"))
        .arg("--interactions")
        .arg(table("interactions"))
        .arg("--outcomes")
        .arg(table("outcomes"))
        .args(["--behaviours", "15", "--attributes", "30"])
        .args(["--target-precision", "0.5", "--out"])
        .arg(&rules)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    // The diff names today's rules and what the data says.
    assert!(
        stdout.contains("Pricing page visit: +10 per occurrence today, data says +"),
        "{stdout}"
    );
    let costs: Vec<f64> = stdout
        .lines()
        .find(|l| l.contains("ROC AUC: model"))
        .unwrap()
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|t| t.parse().ok())
        .collect();
    let (model_auc, suggested_auc) = (costs[0], costs[1]);
    // Judged on the leads open at evaluation dates (where recency, which the rule format
    // holds as one inactivity step, and age bands matter most), 15 behaviours and 30
    // attribute rules cost about 0.021 of the model's ROC AUC.
    assert!(model_auc - suggested_auc < 0.03, "{stdout}");
    // And they rank better than the hand-made rules they would replace.
    assert!(suggested_auc > costs[3], "{stdout}");

    // The rule engine reads the file it wrote.
    let text = std::fs::read_to_string(&rules).unwrap();
    assert!(text.contains("base_points = "));
    assert!(text.contains("[[behaviour]]") && text.contains("[[attribute]]"));
    leadscore()
        .arg("points")
        .arg("--points")
        .arg(&rules)
        .arg("--leads")
        .arg(table("leads"))
        .arg("--interactions")
        .arg(table("interactions"))
        .args(["--as-of", "2026-01-01", "--out"])
        .arg(root.path().join("points.csv"))
        .assert()
        .success();

    // Without tables it still writes valid rules; a target needs tables.
    let plain = root.path().join("plain.toml");
    leadscore()
        .arg("suggest-points")
        .arg("--model")
        .arg(&model)
        .arg("--out")
        .arg(&plain)
        .assert()
        .success()
        .stdout(contains("per occurrence today"));
    leadscore()
        .arg("suggest-points")
        .arg("--model")
        .arg(&model)
        .args(["--target-volume", "0.1", "--out"])
        .arg(root.path().join("x.toml"))
        .assert()
        .code(2)
        .stderr(contains("needs --leads"));

    // A sales-ready threshold that selects no judged lead is no threshold: refused.
    leadscore()
        .arg("suggest-points")
        .arg("--model")
        .arg(&model)
        .arg("--leads")
        .arg(table("leads"))
        .arg("--interactions")
        .arg(table("interactions"))
        .arg("--outcomes")
        .arg(table("outcomes"))
        .args(["--sales-ready-probability", "0.9999", "--out"])
        .arg(root.path().join("none.toml"))
        .assert()
        .code(2)
        .stderr(contains("would select none"));
    assert!(!root.path().join("none.toml").exists());
}
