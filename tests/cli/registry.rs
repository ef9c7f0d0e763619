//! `leadscore retrain` and `leadscore models`: a registry over simulated nights of a
//! generated CRM that grows night by night, with a damaged night, a thin one and one
//! whose labels were scrambled; a publish killed half-way; two retrains at once.

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use polars::prelude::*;

use crate::util::leadscore;

/// A generated CRM of 2,000 leads (2024 to the end of 2025), in `dir/crm`.
fn crm(dir: &Path) -> PathBuf {
    let out = dir.join("crm");
    leadscore()
        .args(["generate", "--leads", "2000", "--seed", "5", "--out"])
        .arg(&out)
        .assert()
        .success();
    out
}

fn read(path: &Path) -> DataFrame {
    CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .unwrap()
        .finish()
        .unwrap()
}

fn write(frame: &mut DataFrame, path: &Path) {
    CsvWriter::new(std::fs::File::create(path).unwrap())
        .finish(frame)
        .unwrap();
}

/// The CRM as known before `at` (an ISO time in the generator's format), as the three
/// tables in `dir/name`, with `edit` applied to the outcomes; returns the folder.
fn night(
    crm: &Path,
    dir: &Path,
    name: &str,
    at: &str,
    edit: impl Fn(DataFrame) -> DataFrame,
) -> PathBuf {
    let out = dir.join(name);
    std::fs::create_dir_all(&out).unwrap();
    for (table, time) in [
        ("leads", "created_at"),
        ("interactions", "occurred_at"),
        ("outcomes", "closed_at"),
    ] {
        let frame = read(&crm.join(format!("{table}.csv")));
        let mut known = frame
            .lazy()
            .filter(col(time).lt(lit(at)))
            .collect()
            .unwrap();
        if table == "outcomes" {
            known = edit(known);
        }
        write(&mut known, &out.join(format!("{table}.csv")));
    }
    out
}

/// `leadscore retrain` on the tables in `tables`, recorded at `at`.
fn retrain(registry: &Path, tables: &Path, at: &str) -> Process {
    let bin = assert_cmd::cargo::cargo_bin("leadscore");
    let mut command = Process::new(bin);
    command
        .arg("retrain")
        .arg("--registry")
        .arg(registry)
        .arg("--leads")
        .arg(tables.join("leads.csv"))
        .arg("--interactions")
        .arg(tables.join("interactions.csv"))
        .arg("--outcomes")
        .arg(tables.join("outcomes.csv"))
        .args(["--at", at]);
    command
}

/// Runs a retrain and returns (exit code, stdout, stderr).
fn run(mut command: Process) -> (i32, String, String) {
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The record's decisions, in order.
fn decisions(registry: &Path) -> Vec<String> {
    std::fs::read_to_string(registry.join("registry.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).unwrap();
            entry["decision"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The model in use, as the link names it.
fn in_use(registry: &Path) -> Option<String> {
    std::fs::read_link(registry.join("current.bin"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

#[test]
fn nights_publish_keep_refuse_and_roll_back_as_the_gate_says() {
    let dir = tempfile::tempdir().unwrap();
    let crm = crm(dir.path());
    let registry = dir.path().join("registry");
    let same = |frame: DataFrame| frame;
    let empty = dir.path().join("empty-registry");
    std::fs::create_dir(&empty).unwrap();
    leadscore()
        .args(["rescore", "--registry"])
        .arg(&empty)
        .args(["--leads", "l.csv", "--interactions", "i.csv", "--out"])
        .arg(dir.path().join("nowhere"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("has no model in use yet"));

    // Night 1: no model in use; the candidate beats chance and is published.
    let first = night(&crm, dir.path(), "n1", "2025-07-01", same);
    let (code, out, err) = run(retrain(&registry, &first, "2025-07-01T02:00:00Z"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no model in use"), "{out}");
    let model_1 = in_use(&registry).unwrap();
    assert!(
        model_1.starts_with("models/20250701T020000Z-crc32_"),
        "{model_1}"
    );

    // Night 2: more deals have closed; judged on the deals after the first model's
    // data, the candidate is not worse, and is published.
    let second = night(&crm, dir.path(), "n2", "2025-10-01", same);
    let (code, out, err) = run(retrain(&registry, &second, "2025-10-01T02:00:00Z"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("not worse beyond chance"), "{out}");
    let model_2 = in_use(&registry).unwrap();
    assert_ne!(model_2, model_1);

    // The nightly rescore scores with the model in use and names it.
    let scores = dir.path().join("scores");
    leadscore()
        .arg("rescore")
        .arg("--registry")
        .arg(&registry)
        .arg("--leads")
        .arg(second.join("leads.csv"))
        .arg("--interactions")
        .arg(second.join("interactions.csv"))
        .args(["--as-of", "2025-10-01T03:00:00Z", "--out"])
        .arg(&scores)
        .assert()
        .success();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(scores.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["model_version"], model_2.as_str());

    // Night 3: a damaged export (an outcome that is neither won nor lost): refused with
    // the row named, exit 2, the model in use untouched.
    let damaged = night(&crm, dir.path(), "n3", "2025-10-15", |mut frame| {
        let outcome = frame.column("outcome").unwrap().str().unwrap().clone();
        let mut values: Vec<Option<String>> =
            outcome.iter().map(|v| v.map(str::to_string)).collect();
        values[3] = Some("maybe".into());
        frame
            .with_column(Column::new("outcome".into(), values))
            .unwrap();
        frame
    });
    let (code, out, err) = run(retrain(&registry, &damaged, "2025-10-15T02:00:00Z"));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("outcomes.csv, row 5, column `outcome`"),
        "{err}"
    );
    assert_eq!(in_use(&registry).unwrap(), model_2);

    // Night 4: a thin export (most outcomes missing): kept, exit 4.
    let thin = night(&crm, dir.path(), "n4", "2025-11-01", |frame| {
        frame.head(Some(60))
    });
    let (code, out, err) = run(retrain(&registry, &thin, "2025-11-01T02:00:00Z"));
    assert_eq!(code, 4, "{out}{err}");
    assert!(out.contains("too little history"), "{out}");
    assert_eq!(in_use(&registry).unwrap(), model_2);

    // Night 5: the labels of every deal before September were scrambled upstream; the
    // export passes every check, but the candidate learned noise and ranks the recent
    // deals worse beyond chance: kept, exit 4.
    let scrambled = night(&crm, dir.path(), "n5", "2026-01-01", |mut frame| {
        let closed = frame.column("closed_at").unwrap().str().unwrap().clone();
        let outcome = frame.column("outcome").unwrap().str().unwrap().clone();
        let values: Vec<Option<&str>> = closed
            .iter()
            .zip(outcome.iter())
            .enumerate()
            .map(|(i, (closed, outcome))| match closed {
                Some(c) if c < "2025-09-01" => Some(if i % 3 == 0 { "won" } else { "lost" }),
                _ => outcome,
            })
            .collect();
        frame
            .with_column(Column::new("outcome".into(), values))
            .unwrap();
        frame
    });
    let (code, out, err) = run(retrain(&registry, &scrambled, "2026-01-01T02:00:00Z"));
    assert_eq!(code, 4, "{out}{err}");
    assert!(out.contains("worse beyond chance"), "{out}");
    assert_eq!(in_use(&registry).unwrap(), model_2);

    // Rollback: the first model is back; once more, and there is nothing earlier.
    leadscore()
        .arg("models")
        .arg(&registry)
        .arg("--rollback")
        .assert()
        .success();
    assert_eq!(in_use(&registry).unwrap(), model_1);
    leadscore()
        .arg("models")
        .arg(&registry)
        .arg("--rollback")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no earlier published model"));
    assert_eq!(
        decisions(&registry),
        [
            "published",
            "published",
            "refused",
            "kept",
            "kept",
            "rolled_back"
        ]
    );
    let listing = leadscore().arg("models").arg(&registry).output().unwrap();
    let listing = String::from_utf8(listing.stdout).unwrap();
    assert!(
        listing.contains(&format!("model in use: {model_1}")),
        "{listing}"
    );
    assert!(listing.contains("worse beyond chance"), "{listing}");
}

/// Waits until `done` holds, for at most two minutes.
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_publish_killed_half_way_leaves_a_whole_model_in_use_and_two_retrains_never_both_publish() {
    let dir = tempfile::tempdir().unwrap();
    let crm = crm(dir.path());
    let registry = dir.path().join("registry");
    let first = night(&crm, dir.path(), "n1", "2025-07-01", |f| f);
    // A model in use that this leadscore cannot read (say, written by an older one)
    // does not block retraining: the candidate is judged alone. (The link the record
    // does not know is recorded first, as any unrecorded model in use is.)
    std::fs::create_dir_all(registry.join("models")).unwrap();
    std::fs::write(
        registry.join("models/old.bin"),
        "LEADSCORE\0\r\nnot a model",
    )
    .unwrap();
    std::os::unix::fs::symlink("models/old.bin", registry.join("current.bin")).unwrap();
    let (code, out, err) = run(retrain(&registry, &first, "2025-07-01T02:00:00Z"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("(models/old.bin) cannot be read"), "{out}");
    let model_1 = in_use(&registry).unwrap();
    let model_1_bytes = std::fs::read(registry.join(&model_1)).unwrap();
    let second = night(&crm, dir.path(), "n2", "2025-10-01", |f| f);
    let stored = || std::fs::read_dir(registry.join("models")).unwrap().count();
    // The unreadable model and the first published one.
    let stored_before = stored();

    // A retrain stops with its new model stored and the link not yet moved; a second
    // retrain meanwhile is refused (it cannot publish too); then the first is killed.
    let mut paused = retrain(&registry, &second, "2025-10-01T02:00:00Z");
    paused
        .env("LEADSCORE_PAUSE_AT", "link")
        .env("LEADSCORE_PAUSE_SECONDS", "60")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut paused = paused.spawn().unwrap();
    wait_for("the candidate to be stored", || {
        stored() == stored_before + 1
    });
    let (code, _, err) = run(retrain(&registry, &second, "2025-10-01T03:00:00Z"));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("another retrain or rollback"), "{err}");
    paused.kill().unwrap();
    paused.wait().unwrap();
    assert_eq!(in_use(&registry).unwrap(), model_1);
    assert_eq!(
        std::fs::read(registry.join("current.bin")).unwrap(),
        model_1_bytes
    );
    assert_eq!(decisions(&registry), ["recovered", "published"]);

    // Killed after the link moved, before the line: the new model is in use, whole,
    // and the next run on the registry records it before doing anything else.
    let mut paused = retrain(&registry, &second, "2025-10-01T04:00:00Z");
    paused
        .env("LEADSCORE_PAUSE_AT", "record")
        .env("LEADSCORE_PAUSE_SECONDS", "60")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut paused = paused.spawn().unwrap();
    wait_for("the link to move", || {
        in_use(&registry).as_ref() != Some(&model_1)
    });
    paused.kill().unwrap();
    paused.wait().unwrap();
    let model_2 = in_use(&registry).unwrap();
    leadscore()
        .arg("inspect")
        .arg(registry.join("current.bin"))
        .assert()
        .success();
    assert_eq!(decisions(&registry), ["recovered", "published"]);
    leadscore()
        .arg("models")
        .arg(&registry)
        .arg("--rollback")
        .assert()
        .success()
        .stdout(predicates::str::contains(format!(
            "rolled back from {model_2} to {model_1}"
        )));
    assert_eq!(
        decisions(&registry),
        ["recovered", "published", "recovered", "rolled_back"]
    );
    assert_eq!(in_use(&registry).unwrap(), model_1);
}
