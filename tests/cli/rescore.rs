//! `leadscore rescore`: the nightly job's guarantees, with the real binary.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use polars::prelude::{ParquetReader, SerReader};
use predicates::str::contains;

use crate::util::{generate, leadscore};

struct Base {
    /// This test's own folder, holding `out`.
    _root: tempfile::TempDir,
    dir: PathBuf,
    model: PathBuf,
    out: PathBuf,
}

/// The generated CRM and the model trained on it, shared by every test (read only).
/// A static is never dropped, so they live in cargo's folder for test files (made anew
/// by each run) rather than in a temporary folder that would be left behind.
struct Shared {
    dir: PathBuf,
    model: PathBuf,
}

static SHARED: OnceLock<Shared> = OnceLock::new();

/// The shared CRM and model, with an output folder of this test's own.
fn trained() -> Base {
    let shared = SHARED.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rescore-shared");
        let _ = std::fs::remove_dir_all(&root);
        let dir = generate(&root.join("crm"), 1_500, 53, "parquet");
        let model = root.join("m.model");
        leadscore()
            .arg("train")
            .arg("--leads")
            .arg(dir.join("leads.parquet"))
            .arg("--interactions")
            .arg(dir.join("interactions.parquet"))
            .arg("--outcomes")
            .arg(dir.join("outcomes.parquet"))
            .args(["--l2", "0.01", "--out"])
            .arg(&model)
            .assert()
            .success();
        Shared { dir, model }
    });
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("nightly");
    Base {
        _root: root,
        dir: shared.dir.clone(),
        model: shared.model.clone(),
        out,
    }
}

fn rescore(base: &Base, leads: &Path, as_of: &str) -> assert_cmd::Command {
    let mut cmd = leadscore();
    cmd.arg("rescore")
        .arg("--model")
        .arg(&base.model)
        .arg("--leads")
        .arg(leads)
        .arg("--interactions")
        .arg(base.dir.join("interactions.parquet"))
        .args(["--as-of", as_of, "--out"])
        .arg(&base.out);
    cmd
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn runs_are_idempotent_keep_history_and_list_changes() {
    let base = trained();
    let leads = base.dir.join("leads.parquet");
    rescore(&base, &leads, "2026-01-01").assert().success();
    let first = summary(&base.out);
    assert_eq!(first["scored"], 1_500);
    assert_eq!(
        first["changed"], 1_500,
        "every lead is new on the first run"
    );
    let files = [
        "scores.parquet",
        "changes.parquet",
        "history/as_of=2026-01-01T00-00-00Z/scores.parquet",
    ];
    let read = |name: &str| std::fs::read(base.out.join(name)).unwrap();
    let before: Vec<Vec<u8>> = files.iter().map(|f| read(f)).collect();
    rescore(&base, &leads, "2026-01-01").assert().success();
    for (name, bytes) in files.iter().zip(&before) {
        assert!(
            read(name) == *bytes,
            "{name} differs on a re-run of the same as-of"
        );
    }
    // Scoring in partitions of 400 leads gives the same scores.
    let partitioned = base.out.parent().unwrap().join("partitioned");
    leadscore()
        .arg("rescore")
        .arg("--model")
        .arg(&base.model)
        .arg("--leads")
        .arg(&leads)
        .arg("--interactions")
        .arg(base.dir.join("interactions.parquet"))
        .args(["--as-of", "2026-01-01", "--partition-leads", "400", "--out"])
        .arg(&partitioned)
        .assert()
        .success();
    let frame = |path: PathBuf| {
        ParquetReader::new(std::fs::File::open(path).unwrap())
            .finish()
            .unwrap()
    };
    assert!(frame(partitioned.join("scores.parquet"))
        .equals_missing(&frame(base.out.join("scores.parquet"))));
    assert_eq!(summary(&partitioned)["drift"], first["drift"]);

    // A later run compares with the earlier one in the history.
    rescore(&base, &leads, "2026-02-15").assert().success();
    let later = summary(&base.out);
    assert_eq!(later["previous_run"], "as_of=2026-01-01T00-00-00Z");
    let changed = later["changed"].as_u64().unwrap();
    assert!(changed > 0 && changed < 1_500, "{changed}");
    assert!(base
        .out
        .join("history/as_of=2026-02-15T00-00-00Z/scores.parquet")
        .is_file());
    // Going back to the earlier date would put older scores in place of today's and
    // list every lead as new: refused, unless asked for as a backfill, which adds to the
    // history only.
    let current = read("scores.parquet");
    let changes = read("changes.parquet");
    rescore(&base, &leads, "2026-01-01")
        .assert()
        .code(2)
        .stderr(contains("--backfill"));
    rescore(&base, &leads, "2026-01-01")
        .arg("--backfill")
        .assert()
        .success();
    assert!(read("scores.parquet") == current);
    assert!(read("changes.parquet") == changes);
    assert_eq!(summary(&base.out)["as_of"], later["as_of"]);
    assert!(read("history/as_of=2026-01-01T00-00-00Z/scores.parquet") == before[2]);
    assert!(base
        .out
        .join("history/as_of=2026-01-01T00-00-00Z/summary.json")
        .is_file());
}

#[test]
fn a_second_run_refuses_while_the_first_holds_the_lock_and_a_leftover_lock_file_is_no_lock() {
    let base = trained();
    let leads = base.dir.join("leads.parquet");
    std::fs::create_dir_all(&base.out).unwrap();
    // This test process holds the lock, as a run in progress does.
    let held = std::fs::File::create(base.out.join("rescore.lock")).unwrap();
    held.lock().unwrap();
    rescore(&base, &leads, "2026-01-01")
        .assert()
        .code(1)
        .stderr(contains("another rescore run"));
    assert!(!base.out.join("scores.parquet").exists());
    drop(held);
    // A lock file left by a killed run (its pid, no lock) does not stop the next run.
    std::fs::write(base.out.join("rescore.lock"), "4194304999\n").unwrap();
    rescore(&base, &leads, "2026-01-01").assert().success();
}

#[test]
fn simultaneous_runs_never_both_run_and_a_refused_one_says_why() {
    let base = trained();
    let leads = base.dir.join("leads.parquet");
    std::fs::create_dir_all(&base.out).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("leadscore");
    let mut refused = 0;
    for pair in 0..12 {
        if pair % 2 == 1 {
            // A lock file left by a run killed at any moment.
            std::fs::write(base.out.join("rescore.lock"), "4194304999\n").unwrap();
        }
        let start = || {
            std::process::Command::new(&bin)
                .arg("rescore")
                .arg("--model")
                .arg(&base.model)
                .arg("--leads")
                .arg(&leads)
                .arg("--interactions")
                .arg(base.dir.join("interactions.parquet"))
                .args(["--as-of", "2026-01-01", "--partition-leads", "500", "--out"])
                .arg(&base.out)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (start(), start());
        for child in [a, b] {
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr).to_string();
            match output.status.code() {
                Some(0) => {}
                Some(1) => {
                    assert!(stderr.contains("another rescore run"), "{stderr}");
                    refused += 1;
                }
                other => panic!("pair {pair}: exit {other:?}: {stderr}"),
            }
        }
        assert_eq!(summary(&base.out)["scored"], 1_500, "pair {pair}");
    }
    eprintln!("{refused} of 24 runs were refused while the other held the lock");
    assert!(refused > 0, "no pair overlapped: the test proved nothing");
}

#[test]
fn drift_fires_on_a_shifted_base_and_stays_quiet_on_an_unshifted_one() {
    let base = trained();
    let leads = base.dir.join("leads.parquet");
    // As of the end of the training data: the base the reference was taken from.
    rescore(&base, &leads, "2026-01-01")
        .arg("--fail-on-drift")
        .assert()
        .success();
    assert_eq!(summary(&base.out)["drift"]["over_threshold"], false);

    // Another market: every lead from one new industry, tiny companies, no title.
    use polars::prelude::*;
    let mut shifted = LazyFrame::scan_parquet(
        PlRefPath::new(leads.to_str().unwrap()),
        ScanArgsParquet::default(),
    )
    .unwrap()
    .with_columns([
        lit("Aerospace").alias("industry"),
        lit(NULL).cast(DataType::String).alias("job_title"),
        lit(1i64).alias("company_size"),
    ])
    .collect()
    .unwrap();
    let shifted_path = base.out.parent().unwrap().join("shifted.parquet");
    ParquetWriter::new(std::fs::File::create(&shifted_path).unwrap())
        .finish(&mut shifted)
        .unwrap();
    rescore(&base, &shifted_path, "2026-01-02")
        .arg("--fail-on-drift")
        .assert()
        .code(3)
        .stderr(contains("drift over threshold"));
    let drifted = summary(&base.out);
    assert_eq!(drifted["drift"]["over_threshold"], true);
    let over: Vec<String> = drifted["drift"]["features_over_threshold"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f[0].as_str().unwrap().to_string())
        .collect();
    assert!(over.iter().any(|f| f.starts_with("industry=")), "{over:?}");
    // The run still published its scores.
    assert!(base
        .out
        .join("history/as_of=2026-01-02T00-00-00Z/scores.parquet")
        .is_file());
}

#[test]
fn a_run_killed_at_any_moment_leaves_readers_one_run_s_files() {
    let base = trained();
    let leads = base.dir.join("leads.parquet");
    rescore(&base, &leads, "2026-01-01").assert().success();
    let binary = assert_cmd::cargo::cargo_bin("leadscore");
    let start = || {
        std::process::Command::new(&binary)
            .arg("rescore")
            .arg("--model")
            .arg(&base.model)
            .arg("--leads")
            .arg(&leads)
            .arg("--interactions")
            .arg(base.dir.join("interactions.parquet"))
            .args(["--as-of", "2026-03-01", "--out"])
            .arg(&base.out)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // How long a whole run takes here, then kills spread over it, writes included.
    let timer = std::time::Instant::now();
    assert!(start().wait().unwrap().success());
    let whole = timer.elapsed();
    let mut outcomes = std::collections::BTreeSet::new();
    for step in 0..16u32 {
        let mut child = start();
        std::thread::sleep(whole * step / 15);
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        // Resolve `current` once, as a careful reader does, and read the three files.
        let run = std::fs::read_link(base.out.join("current")).unwrap();
        let folder = base.out.join(&run);
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(folder.join("summary.json")).unwrap()).unwrap();
        let scores = read_parquet(&folder.join("scores.parquet"));
        let changes = read_parquet(&folder.join("changes.parquet"));
        assert_eq!(summary["run"], run.file_name().unwrap().to_str().unwrap());
        assert_eq!(summary["scored"], scores.height() as u64, "step {step}");
        assert_eq!(summary["changed"], changes.height() as u64, "step {step}");
        // The old paths lead to the same run's files.
        assert_eq!(
            read_parquet(&base.out.join("scores.parquet")).height(),
            scores.height()
        );
        outcomes.insert(summary["as_of"].as_str().unwrap().to_string());
        let january = base
            .out
            .join("history/as_of=2026-01-01T00-00-00Z/scores.parquet");
        assert_eq!(read_parquet(&january).height(), 1_500);
    }
    eprintln!("readers saw complete runs as of {outcomes:?}");
    // The next run takes the lock the killed one left, cleans up and succeeds.
    rescore(&base, &leads, "2026-03-01").assert().success();
    for folder in [base.out.clone(), base.out.join("runs")] {
        let hidden: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(hidden.is_empty(), "{hidden:?} in {}", folder.display());
    }
    // The published run and the one before it are kept; older ones are removed.
    assert!(std::fs::read_dir(base.out.join("runs")).unwrap().count() <= 2);
}

/// `rescore` with explicit input files, for the tests of how the base is read.
fn rescore_files(
    base: &Base,
    leads: &Path,
    interactions: &Path,
    out: &Path,
) -> assert_cmd::Command {
    let mut cmd = leadscore();
    cmd.arg("rescore")
        .arg("--model")
        .arg(&base.model)
        .arg("--leads")
        .arg(leads)
        .arg("--interactions")
        .arg(interactions)
        .args(["--as-of", "2026-01-01", "--partition-leads", "400", "--out"])
        .arg(out);
    cmd
}

fn read_parquet(path: &Path) -> polars::prelude::DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

fn write_parquet(path: &Path, frame: &mut polars::prelude::DataFrame) {
    polars::prelude::ParquetWriter::new(std::fs::File::create(path).unwrap())
        .with_row_group_size(Some(5_000))
        .finish(frame)
        .unwrap();
}

/// Nothing but the lock file: a refused run wrote nothing.
fn assert_nothing_written(out: &Path) {
    let left: Vec<String> = std::fs::read_dir(out)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name != "rescore.lock")
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "a refused run left {left:?}");
}

#[test]
fn parquet_interactions_are_read_in_parts_csv_whole_with_the_same_scores_and_checks() {
    use polars::prelude::*;
    let base = trained();
    let root = base.out.parent().unwrap().to_path_buf();
    // Parquet: spilled by partition (4 partitions of 400 leads).
    let streamed = root.join("streamed");
    rescore_files(
        &base,
        &base.dir.join("leads.parquet"),
        &base.dir.join("interactions.parquet"),
        &streamed,
    )
    .assert()
    .success();
    assert_eq!(summary(&streamed)["interactions_streamed"], true);
    // The same CRM as CSV: read whole.
    let csv = generate(&root.join("crm-csv"), 1_500, 53, "csv");
    let whole = root.join("whole");
    rescore_files(
        &base,
        &csv.join("leads.csv"),
        &csv.join("interactions.csv"),
        &whole,
    )
    .assert()
    .success();
    assert_eq!(summary(&whole)["interactions_streamed"], false);
    assert_eq!(
        summary(&whole)["interactions_read"],
        summary(&streamed)["interactions_read"]
    );
    assert!(read_parquet(&streamed.join("scores.parquet"))
        .equals_missing(&read_parquet(&whole.join("scores.parquet"))));
    let hidden: Vec<_> = std::fs::read_dir(&streamed)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.file_name())
        .collect();
    assert!(hidden.is_empty(), "spill files left behind: {hidden:?}");

    let interactions = read_parquet(&base.dir.join("interactions.parquet"));
    let height = interactions.height();

    // A missing timestamp deep in the file (past the first row groups) is reported with
    // its row and column, and nothing is written.
    let mut broken = interactions
        .clone()
        .lazy()
        .with_row_index("i", None)
        .with_column(
            when(col("i").eq(lit(12_345u32)))
                .then(lit(NULL).cast(DataType::Datetime(TimeUnit::Microseconds, None)))
                .otherwise(col("occurred_at"))
                .alias("occurred_at"),
        )
        .drop(cols(["i"]))
        .collect()
        .unwrap();
    let broken_path = root.join("broken.parquet");
    write_parquet(&broken_path, &mut broken);
    let refused = root.join("refused");
    rescore_files(
        &base,
        &base.dir.join("leads.parquet"),
        &broken_path,
        &refused,
    )
    .assert()
    .code(2)
    .stderr(contains("broken.parquet, row 12347, column `occurred_at`"));
    assert_nothing_written(&refused);

    // Rows naming unknown leads are skipped, counted as rejected, or refused on request.
    let stranger = df!(
        "lead_id" => ["NOT-A-LEAD"],
        "occurred_at" => [interactions.column("occurred_at").unwrap().get(0).unwrap().extract::<i64>().unwrap()],
        "event_type" => ["email_open"],
        "detail" => [None::<&str>],
    )
    .unwrap()
    .lazy()
    .with_column(col("occurred_at").cast(DataType::Datetime(TimeUnit::Microseconds, None)))
    .collect()
    .unwrap();
    let mut with_stranger = interactions.vstack(&stranger).unwrap();
    let stranger_path = root.join("stranger.parquet");
    write_parquet(&stranger_path, &mut with_stranger);
    let warned = root.join("warned");
    rescore_files(
        &base,
        &base.dir.join("leads.parquet"),
        &stranger_path,
        &warned,
    )
    .assert()
    .success()
    .stderr(contains("1 interactions in"))
    .stderr(contains("NOT-A-LEAD"));
    assert_eq!(summary(&warned)["rejected"], 1);
    assert!(read_parquet(&warned.join("scores.parquet"))
        .equals_missing(&read_parquet(&streamed.join("scores.parquet"))));
    let strict = root.join("strict");
    rescore_files(
        &base,
        &base.dir.join("leads.parquet"),
        &stranger_path,
        &strict,
    )
    .args(["--unknown-leads", "error"])
    .assert()
    .code(2)
    .stderr(contains(format!(
        "stranger.parquet, row {}, column `lead_id`: lead_id 'NOT-A-LEAD'",
        height + 2
    )));
    assert_nothing_written(&strict);
}

/// Rescoring hand-made leads with `model` as of `as_of` into `out`.
fn rescore_fixture(model: &Path, fixture: &Path, as_of: &str, out: &Path) {
    leadscore()
        .arg("rescore")
        .arg("--model")
        .arg(model)
        .arg("--leads")
        .arg(fixture.join("leads.csv"))
        .arg("--interactions")
        .arg(fixture.join("interactions.csv"))
        .args(["--as-of", as_of, "--out"])
        .arg(out)
        .assert()
        .success();
}

/// The built-in rules by hand: base 100; Software +15; owner (a decision maker) +20;
/// a demo request +25 within 60 days; no activity for 60 days -10. Lead A asked for a
/// demo on New Year's Day: 160 (sales_ready) on 10 January; by 5 March the demo has
/// expired and A has been quiet for 63 days: 125 (warm). Lead B did nothing: 135 (hot)
/// until 60 days after its creation, then 125.
#[test]
fn trends_and_the_history_say_why_a_lead_moved() {
    let base = trained();
    let fixture = base.out.with_file_name("fixture");
    std::fs::create_dir_all(&fixture).unwrap();
    std::fs::write(
        fixture.join("leads.csv"),
        "lead_id,created_at,industry,seniority,job_title,country\n\
         A,2025-12-01,Software,owner,,\n\
         B,2025-12-20,Software,owner,,\n",
    )
    .unwrap();
    std::fs::write(
        fixture.join("interactions.csv"),
        "lead_id,occurred_at,event_type,detail\nA,2026-01-01,demo_request,\n",
    )
    .unwrap();
    // The same model under a second name: the runs tell which one scored.
    let other = base.out.with_file_name("other.model");
    std::fs::copy(&base.model, &other).unwrap();
    rescore_fixture(&base.model, &fixture, "2026-01-10", &base.out);
    rescore_fixture(&base.model, &fixture, "2026-03-05", &base.out);
    rescore_fixture(&other, &fixture, "2026-03-10", &base.out);

    let scores = read_parquet(&base.out.join("scores.parquet"));
    let row = |lead: &str| -> Vec<String> {
        let at = (0..scores.height())
            .find(|&i| scores.column("lead_id").unwrap().str().unwrap().get(i) == Some(lead))
            .unwrap();
        [
            "points",
            "tier",
            "points_change",
            "previous_tier",
            "points_change_7d",
            "tier_7d_ago",
            "points_change_30d",
            "tier_30d_ago",
            "model",
        ]
        .iter()
        .map(|c| scores.column(c).unwrap().get(at).unwrap().to_string())
        .collect()
    };
    // Against the previous run (5 March), the latest at least 7 days older (10 January)
    // and the latest at least 30 days older (10 January).
    assert_eq!(
        row("A"),
        [
            "125.0",
            "\"warm\"",
            "0.0",
            "\"warm\"",
            "-35.0",
            "\"sales_ready\"",
            "-35.0",
            "\"sales_ready\"",
            "\"other.model\""
        ]
    );
    assert_eq!(
        row("B"),
        [
            "125.0",
            "\"warm\"",
            "0.0",
            "\"warm\"",
            "-10.0",
            "\"hot\"",
            "-10.0",
            "\"hot\"",
            "\"other.model\""
        ]
    );
    let first = summary(&base.out);
    assert_eq!(first["model_version"], "other.model");
    assert_eq!(first["run_7_days_before"], "as_of=2026-01-10T00-00-00Z");

    let history = leadscore()
        .args(["history", "--lead", "A", "--rescore-dir"])
        .arg(&base.out)
        .output()
        .unwrap();
    assert!(history.status.success());
    let text = String::from_utf8(history.stdout).unwrap();
    for expected in [
        "lead A: 3 run(s) from 2026-01-10T00:00:00Z to 2026-03-10T00:00:00Z",
        "2026-01-10T00:00:00Z → 2026-03-05T00:00:00Z: points 160.0 → 125.0 (-35.0), tier sales_ready → warm",
        "  rules that stopped giving points: Demo request (+25.0)\n",
        "  rules that started giving points: No recent activity (-10.0)\n",
        "2026-03-05T00:00:00Z → 2026-03-10T00:00:00Z: points 125.0 → 125.0 (+0.0), tier warm (unchanged)",
        "  model: m.model → other.model\n",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    // Since 5 March only: two runs, one step.
    leadscore()
        .args([
            "history",
            "--lead",
            "A",
            "--since",
            "2026-03-01",
            "--rescore-dir",
        ])
        .arg(&base.out)
        .assert()
        .success()
        .stdout(contains("lead A: 2 run(s)"));
    leadscore()
        .args(["history", "--lead", "nobody", "--rescore-dir"])
        .arg(&base.out)
        .assert()
        .code(2)
        .stderr(contains("\"nobody\" is in no run"));

    // Every lead as a table for dashboards.
    let table = base.out.with_file_name("history.csv");
    leadscore()
        .args(["history", "--rescore-dir"])
        .arg(&base.out)
        .arg("--out")
        .arg(&table)
        .assert()
        .success();
    let text = std::fs::read_to_string(&table).unwrap();
    assert_eq!(text.lines().count(), 1 + 2 * 3);
    let b_step = text
        .lines()
        .find(|l| l.starts_with("B,2026-03-05"))
        .unwrap();
    assert!(b_step.contains(",-10.0,"), "{b_step}");
    assert!(b_step.contains("No recent activity (-10.0)"), "{b_step}");

    // Scoring as of a date before a lead existed says so.
    leadscore()
        .arg("score")
        .arg("--model")
        .arg(&base.model)
        .arg("--leads")
        .arg(fixture.join("leads.csv"))
        .arg("--interactions")
        .arg(fixture.join("interactions.csv"))
        .args(["--as-of", "2025-12-10", "--out"])
        .arg(base.out.with_file_name("early.csv"))
        .assert()
        .success()
        .stderr(contains(
            "1 lead(s) were created after the as-of time (2025-12-10T00:00:00Z)",
        ));

    // A weekly run: the run exactly 7 days older is the one the 7-day trend is against.
    rescore_fixture(&other, &fixture, "2026-03-17", &base.out);
    let weekly = summary(&base.out);
    assert_eq!(weekly["previous_run"], "as_of=2026-03-10T00-00-00Z");
    assert_eq!(weekly["run_7_days_before"], "as_of=2026-03-10T00-00-00Z");
    assert_eq!(weekly["run_30_days_before"], "as_of=2026-01-10T00-00-00Z");
}
