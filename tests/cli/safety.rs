//! Never lose data: no command writes over one of its own inputs.

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
