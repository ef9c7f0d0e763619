//! What users read, held still: every command's `--help`, `inspect` of the model the
//! README's main command trains on `data/`, and the Markdown report `compare` writes of
//! it. A change to any of them shows as a snapshot diff to review (`cargo insta review`,
//! or `INSTA_UPDATE=always cargo test --test cli snapshots` to accept them all).

use std::path::{Path, PathBuf};

use crate::util::leadscore;

const COMMANDS: [&str; 15] = [
    "backtest",
    "bench",
    "compare",
    "export-sql",
    "generate",
    "history",
    "inspect",
    "models",
    "points",
    "rescore",
    "retrain",
    "score",
    "suggest-points",
    "train",
    "validate",
];

fn stdout(command: &mut assert_cmd::Command) -> String {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

#[test]
fn every_help_text() {
    let top = stdout(leadscore().arg("--help"));
    // Every command the binary lists has its help snapshot here.
    let listed: Vec<&str> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert_eq!(listed, COMMANDS, "a command without a help snapshot");
    insta::assert_snapshot!("help", top);
    for command in COMMANDS {
        let help = stdout(leadscore().args([command, "--help"]));
        insta::assert_snapshot!(format!("help_{command}"), help);
    }
}

#[test]
fn inspect_and_the_markdown_report_of_the_readme_model() {
    let root = tempfile::tempdir().unwrap();
    let model = root.path().join("model.bin");
    let history = |command: &mut assert_cmd::Command| {
        command
            .arg("--leads")
            .arg(bundled("leads.csv"))
            .arg("--interactions")
            .arg(bundled("interactions.csv"));
    };
    let mut train = leadscore();
    train.arg("train");
    history(&mut train);
    train
        .arg("--outcomes")
        .arg(bundled("outcomes.csv"))
        .args(["--until", "2025-10-01", "--out"])
        .arg(&model)
        .assert()
        .success();
    insta::assert_snapshot!("inspect", stdout(leadscore().arg("inspect").arg(&model)));

    let report = root.path().join("report");
    let mut compare = leadscore();
    compare.arg("compare").arg("--model").arg(&model);
    history(&mut compare);
    compare
        .arg("--outcomes")
        .arg(bundled("outcomes.csv"))
        .arg("--out")
        .arg(&report)
        .assert()
        .success();
    let markdown = std::fs::read_to_string(report.join("report.md")).unwrap();
    insta::assert_snapshot!("report_md", markdown);
}
