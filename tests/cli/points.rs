//! `leadscore points`: the rule score of every lead, as a user runs it.

use predicates::str::contains;

use crate::util::{leadscore, write, Fixture};

const RULES: &str = r#"base_points = 100

[[tier]]
name = "cold"
from = 0
[[tier]]
name = "sales_ready"
from = 120

[[grade]]
name = "B"
from = 0
[[grade]]
name = "A"
from = 15

[[attribute]]
name = "Software"
column = "industry"
equals = "software"
points = 15

[[behaviour]]
name = "Pricing page"
event_type = "page_visit"
detail = "/pricing"
points = 10

[[behaviour]]
name = "Demo request"
event_type = "demo_request"
points = 25
"#;

fn points(fixture: &Fixture, rules: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = leadscore();
    cmd.arg("points")
        .arg("--points")
        .arg(rules)
        .arg("--leads")
        .arg(&fixture.leads)
        .arg("--interactions")
        .arg(&fixture.interactions);
    cmd
}

#[test]
fn scores_every_lead_with_tier_grade_and_parts() {
    let fixture = Fixture::new();
    let rules = write(fixture.dir.path(), "rules.toml", RULES);
    let out = fixture.dir.path().join("points.csv");
    points(&fixture, &rules)
        .args(["--as-of", "2025-03-01", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stderr(contains("points as of 2025-03-01T00:00:00Z"))
        .stderr(contains("sales_ready 2, cold 1"));
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        written,
        "lead_id,points,tier,grade,fit_points,engagement_points\n\
         L1,125.0,sales_ready,A,15.0,10.0\n\
         L2,125.0,sales_ready,B,0.0,25.0\n\
         L3,100.0,cold,B,0.0,0.0\n"
    );
}

#[test]
fn the_cutoff_is_strict_and_crossings_are_reported() {
    let fixture = Fixture::new();
    let rules = write(fixture.dir.path(), "rules.toml", RULES);
    let out = fixture.dir.path().join("points.csv");
    // L2's demo request is at 2025-01-07T10:00:00Z: not seen as of that instant.
    points(&fixture, &rules)
        .args([
            "--as-of",
            "2025-01-07T10:00:00Z",
            "--since",
            "2025-01-06",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success()
        .stderr(contains("0 leads crossed into sales_ready"));
    points(&fixture, &rules)
        .args([
            "--as-of",
            "2025-01-07T10:00:01Z",
            "--since",
            "2025-01-06",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success()
        .stderr(contains(
            "1 leads crossed into sales_ready since 2025-01-06T00:00:00Z",
        ));
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(
        written.contains("L2,125.0,sales_ready,B,0.0,25.0,100.0,cold,true"),
        "{written}"
    );
}

#[test]
fn explain_shows_why_a_lead_has_its_points() {
    let fixture = Fixture::new();
    let rules = write(fixture.dir.path(), "rules.toml", RULES);
    let breakdown = fixture.dir.path().join("breakdown.csv");
    points(&fixture, &rules)
        .args(["--as-of", "2025-03-01", "--explain", "L1", "--out"])
        .arg(fixture.dir.path().join("p.parquet"))
        .arg("--breakdown")
        .arg(&breakdown)
        .assert()
        .success()
        .stdout(contains("L1: 125 points (sales_ready), fit grade A"))
        .stdout(contains("Software"))
        .stdout(contains("Pricing page"))
        .stdout(contains("1×"));
    let long = std::fs::read_to_string(&breakdown).unwrap();
    assert!(long.starts_with("lead_id,kind,rule,count,points\n"));
    assert!(long.contains("L2,engagement,Demo request,1,25.0"), "{long}");

    // An unknown lead to explain is refused before anything is written.
    let out = fixture.dir.path().join("q.csv");
    points(&fixture, &rules)
        .args(["--as-of", "2025-03-01", "--explain", "L404", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("L404"));
    assert!(!out.exists());
}

#[test]
fn invalid_rule_file_exits_2_with_line_and_writes_nothing() {
    let fixture = Fixture::new();
    let rules = write(
        fixture.dir.path(),
        "rules.toml",
        RULES.replace("points = 25", "points = 25\nmax_cout = 1"),
    );
    let out = fixture.dir.path().join("points.csv");
    points(&fixture, &rules)
        .args(["--as-of", "2025-03-01", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("rules.toml, line 33: unknown field `max_cout`"));
    assert!(!out.exists());
}

#[test]
fn rule_on_a_missing_column_exits_2_with_line() {
    let fixture = Fixture::new();
    let rules = write(
        fixture.dir.path(),
        "rules.toml",
        RULES.replace("column = \"industry\"", "column = \"sector\""),
    );
    points(&fixture, &rules)
        .args(["--as-of", "2025-03-01", "--out"])
        .arg(fixture.dir.path().join("p.csv"))
        .assert()
        .code(2)
        .stderr(contains(
            "rules.toml, line 17: rule `Software`: the leads table has no column `sector`",
        ));
}

#[test]
fn inconsistent_flags_exit_2() {
    let fixture = Fixture::new();
    let rules = write(fixture.dir.path(), "rules.toml", RULES);
    points(&fixture, &rules)
        .args(["--as-of", "2025-03-01", "--since", "2025-04-01", "--out"])
        .arg(fixture.dir.path().join("p.csv"))
        .assert()
        .code(2)
        .stderr(contains("setting `--since`"));
    points(&fixture, &rules)
        .args(["--as-of", "2025-03-01", "--out"])
        .arg(fixture.dir.path().join("p.xlsx"))
        .assert()
        .code(2)
        .stderr(contains("setting `--out`"));
    points(&fixture, &rules)
        .args(["--as-of", "March", "--out"])
        .arg(fixture.dir.path().join("p.csv"))
        .assert()
        .code(2)
        .stderr(contains("setting `--as-of`"));
}

#[test]
fn builtin_rules_score_generated_data_deterministically() {
    let root = tempfile::tempdir().unwrap();
    let dir = crate::util::generate(&root.path().join("crm"), 800, 9, "parquet");
    let run = |out: &std::path::Path| {
        leadscore()
            .arg("points")
            .arg("--leads")
            .arg(dir.join("leads.parquet"))
            .arg("--interactions")
            .arg(dir.join("interactions.parquet"))
            .args(["--as-of", "2026-01-01", "--out"])
            .arg(out)
            .assert()
            .success()
            .stderr(contains("built-in points"));
        std::fs::read(out).unwrap()
    };
    let first = run(&root.path().join("a.csv"));
    assert_eq!(first, run(&root.path().join("b.csv")));
    assert_eq!(String::from_utf8(first).unwrap().lines().count(), 801);
}

#[test]
fn json_lines_output_holds_the_same_rows() {
    let fixture = Fixture::new();
    let rules = write(fixture.dir.path(), "rules.toml", RULES);
    let out = fixture.dir.path().join("points.jsonl");
    points(&fixture, &rules)
        .args(["--as-of", "2025-03-01", "--out"])
        .arg(&out)
        .assert()
        .success();
    let written = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<serde_json::Value> = written
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["lead_id"], "L1");
    assert_eq!(rows[0]["points"], 125.0);
    assert_eq!(rows[2]["tier"], "cold");
}

#[test]
fn a_failed_write_keeps_the_old_file_and_leaves_no_temporary_behind() {
    let fixture = Fixture::new();
    let rules = write(fixture.dir.path(), "rules.toml", RULES);
    let out_dir = fixture.dir.path().join("out");
    // The target is a non-empty directory: the table is written, the rename fails.
    let blocked = out_dir.join("points.csv");
    std::fs::create_dir_all(blocked.join("inside")).unwrap();
    points(&fixture, &rules)
        .args(["--as-of", "2025-03-01", "--out"])
        .arg(&blocked)
        .assert()
        .code(1)
        .stderr(contains("points.csv"));
    let left: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["points.csv"], "a temporary file was left behind");
    assert!(blocked.join("inside").is_dir());
}
