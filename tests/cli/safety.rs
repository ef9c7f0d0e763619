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
