//! Never lose data: no command writes over one of its own inputs.

use predicates::prelude::*;
use predicates::str::contains;

use crate::util::{leadscore, Fixture};

#[test]
fn no_command_writes_over_its_own_input() {
    let fixture = Fixture::new();
    let leads_before = std::fs::read(&fixture.leads).unwrap();
    let dir = fixture.dir.path();
    // The same file under another spelling is the same file.
    let respelled = dir.join(".").join("leads.csv");
    let model = dir.join("model.bin");
    std::fs::write(&model, b"not read: the refusal comes first").unwrap();
    let runs: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (
            vec![
                "score".into(),
                "--model".into(),
                model.clone().into(),
                "--leads".into(),
                fixture.leads.clone().into(),
                "--interactions".into(),
                fixture.interactions.clone().into(),
                "--out".into(),
                respelled.clone().into(),
            ],
            "--out",
        ),
        (
            vec![
                "points".into(),
                "--leads".into(),
                fixture.leads.clone().into(),
                "--interactions".into(),
                fixture.interactions.clone().into(),
                "--out".into(),
                dir.join("points.csv").into(),
                "--breakdown".into(),
                fixture.interactions.clone().into(),
            ],
            "--breakdown",
        ),
        (
            vec![
                "train".into(),
                "--leads".into(),
                fixture.leads.clone().into(),
                "--interactions".into(),
                fixture.interactions.clone().into(),
                "--outcomes".into(),
                fixture.outcomes.clone().into(),
                "--out".into(),
                fixture.outcomes.clone().into(),
            ],
            "--out",
        ),
        (
            vec![
                "rescore".into(),
                "--model".into(),
                model.clone().into(),
                "--leads".into(),
                dir.join("scores.parquet").into(),
                "--interactions".into(),
                fixture.interactions.clone().into(),
                "--out".into(),
                dir.into(),
            ],
            "--out",
        ),
    ];
    std::fs::write(dir.join("scores.parquet"), b"an export someone saved here").unwrap();
    for (args, flag) in runs {
        leadscore()
            .args(&args)
            .assert()
            .code(2)
            .stderr(contains(flag))
            .stderr(contains("would destroy what this run reads"));
    }
    assert_eq!(std::fs::read(&fixture.leads).unwrap(), leads_before);
    assert_eq!(
        std::fs::read(dir.join("scores.parquet")).unwrap(),
        b"an export someone saved here"
    );
    assert_eq!(
        std::fs::read_to_string(&fixture.interactions).unwrap(),
        crate::util::INTERACTIONS
    );
}

#[test]
fn a_rule_worth_astronomical_points_is_refused_at_its_line() {
    // 1e308 points made every lead infinitely sales-ready; ±1e308 made NaN.
    let fixture = Fixture::new();
    for (value, line) in [("1e308", 12), ("-2e6", 12)] {
        let rules = crate::util::write(
            fixture.dir.path(),
            "huge.toml",
            format!(
                "base_points = 100\n\n[[tier]]\nname = \"cold\"\nfrom = 0\n\n[[tier]]\nname = \"sales_ready\"\nfrom = 150\naction = true\n\n[[behaviour]]\nname = \"Email open\"\nevent_type = \"email_open\"\npoints = {value}\n"
            ),
        );
        leadscore()
            .arg("points")
            .arg("--points")
            .arg(&rules)
            .arg("--leads")
            .arg(&fixture.leads)
            .arg("--interactions")
            .arg(&fixture.interactions)
            .arg("--out")
            .arg(fixture.dir.path().join("p.csv"))
            .assert()
            .code(2)
            .stderr(contains(format!("huge.toml, line {line}")))
            .stderr(contains("from -1000000 to 1000000"));
        assert!(!fixture.dir.path().join("p.csv").exists());
    }
}

/// `validate` on leads given as `content` (CSV) beside the valid fixture tables.
fn validate_leads_csv(content: &str) -> assert_cmd::assert::Assert {
    let fixture = Fixture::new();
    let leads = crate::util::write(fixture.dir.path(), "leads.csv", content);
    fixture_validate(&fixture, &leads)
}

fn fixture_validate(fixture: &Fixture, leads: &std::path::Path) -> assert_cmd::assert::Assert {
    leadscore()
        .arg("validate")
        .arg("--leads")
        .arg(leads)
        .arg("--interactions")
        .arg(&fixture.interactions)
        .arg("--outcomes")
        .arg(&fixture.outcomes)
        .assert()
}

#[test]
fn damaged_csv_shapes_are_refused_with_their_row() {
    let header = "lead_id,created_at,industry,company_size\n";
    let cases = [
        (
            format!("{header}L1,2025-01-01,Software,120\nL2,2025-01-02,Retail,5,extra\nL3,2025-01-03,,15\n"),
            "leads.csv, row 3: has 5 fields where the header has 4",
        ),
        (
            format!("{header}L1,2025-01-01,Software,120\nL2,2025-01-02\nL3,2025-01-03,,15\n"),
            "leads.csv, row 3: has 2 fields where the header has 4",
        ),
        (
            format!("{header}L1,2025-01-01,\"Software,120\nL2,2025-01-02,Retail,5\n"),
            "leads.csv, row 2: a quoted field opened in this row is never closed",
        ),
        (
            "lead_id,created_at,lead_id\nL1,2025-01-01,L9\nL2,2025-01-02,L8\nL3,2025-01-03,L7\n"
                .to_string(),
            "column `lead_id`: column `lead_id` appears twice in the header",
        ),
        (
            "lead_id,created_at,\nL1,2025-01-01,a\nL2,2025-01-02,b\nL3,2025-01-03,c\n".to_string(),
            "header field 3 has no name",
        ),
        (
            "lead_id,created_at\nL1,2025-01-01\nL\u{0}2,2025-01-02\nL3,2025-01-03\n".to_string(),
            "leads.csv, row 3, column `lead_id`: holds a NUL byte",
        ),
    ];
    for (content, expected) in cases {
        validate_leads_csv(&content)
            .code(2)
            .stderr(contains(expected));
    }
}

#[test]
fn parquet_columns_of_the_wrong_kind_are_named_once() {
    use polars::prelude::*;
    let fixture = Fixture::new();
    // A list column as an attribute: named, not an internal error.
    let path = fixture.dir.path().join("lists.parquet");
    let tags = Series::new(
        "tags".into(),
        [
            Series::new("".into(), ["a", "b"]),
            Series::new("".into(), ["c"]),
            Series::new("".into(), ["d"]),
        ],
    );
    let mut leads = DataFrame::new_infer_height(vec![
        Column::new("lead_id".into(), ["L1", "L2", "L3"]),
        Column::new(
            "created_at".into(),
            ["2025-01-01", "2025-01-02", "2025-01-03"],
        ),
        tags.into_column(),
    ])
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut leads)
        .unwrap();
    fixture_validate(&fixture, &path)
        .code(2)
        .stderr(contains("lists.parquet, column `tags`: holds list"));
    // created_at stored as integers: one line for the column, not one per row.
    let path = fixture.dir.path().join("ints.parquet");
    let mut leads = df!(
        "lead_id" => ["L1", "L2", "L3"],
        "created_at" => [1i64, 2, 3]
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut leads)
        .unwrap();
    let output = fixture_validate(&fixture, &path)
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("holds i64 values, expected timestamps"),
        "{stderr}"
    );
    assert!(!stderr.contains("required timestamp is empty"), "{stderr}");
}

#[test]
fn an_output_that_cannot_be_written_is_named_as_the_user_gave_it() {
    let fixture = Fixture::new();
    leadscore()
        .arg("points")
        .arg("--leads")
        .arg(&fixture.leads)
        .arg("--interactions")
        .arg(&fixture.interactions)
        .args([
            "--as-of",
            "2025-03-01",
            "--out",
            "/proc/leadscore-points.csv",
        ])
        .assert()
        .code(1)
        .stderr(contains("/proc/leadscore-points.csv:"))
        .stderr(contains(".partial").not());
}

#[test]
fn impossible_times_are_refused_with_their_row_or_flag() {
    // A deal closed before its lead existed, and one closed in 2099.
    let fixture = Fixture::with(
        crate::util::LEADS,
        crate::util::INTERACTIONS,
        "lead_id,outcome,closed_at\nL1,won,2024-12-01\nL2,lost,2099-01-01\n",
    );
    fixture.validate().assert().code(2).stderr(contains(
        "outcomes.csv, row 3, column `closed_at`: 2099-01-01T00:00:00Z is in the future",
    ));
    let fixture = Fixture::with(
        crate::util::LEADS,
        crate::util::INTERACTIONS,
        "lead_id,outcome,closed_at\nL1,won,2024-12-01\nL2,lost,2025-02-02\n",
    );
    fixture
        .validate()
        .assert()
        .code(2)
        .stderr(contains(
            "outcomes.csv, row 2, column `closed_at`: lead 'L1' closed at 2024-12-01",
        ))
        .stderr(contains("cannot close before its lead exists"));
    // An as-of in 1900 or 9999 is a typo, not a run to keep in the history.
    for as_of in ["1900-01-01", "9999-01-01"] {
        leadscore()
            .arg("points")
            .arg("--leads")
            .arg(&fixture.leads)
            .arg("--interactions")
            .arg(&fixture.interactions)
            .args(["--as-of", as_of, "--out"])
            .arg(fixture.dir.path().join("p.csv"))
            .assert()
            .code(2)
            .stderr(contains("--as-of"))
            .stderr(contains("outside the years 1970 to 2200"));
    }
}

#[test]
fn overlapping_age_bands_are_refused_like_overlapping_tiers() {
    let fixture = Fixture::new();
    let rules = crate::util::write(
        fixture.dir.path(),
        "ages.toml",
        "base_points = 100\n\n[[tier]]\nname = \"cold\"\nfrom = 0\n\n[[tier]]\nname = \"hot\"\nfrom = 150\naction = true\n\n[[age]]\nname = \"Young\"\nfrom_days = 0\nbelow_days = 30\npoints = 10\n\n[[age]]\nname = \"Middle\"\nfrom_days = 20\nbelow_days = 90\npoints = 5\n",
    );
    leadscore()
        .arg("points")
        .arg("--points")
        .arg(&rules)
        .arg("--leads")
        .arg(&fixture.leads)
        .arg("--interactions")
        .arg(&fixture.interactions)
        .arg("--out")
        .arg(fixture.dir.path().join("p.csv"))
        .assert()
        .code(2)
        .stderr(contains("ages.toml, line 18"))
        .stderr(contains("overlaps `Young` (line 12)"));
}
