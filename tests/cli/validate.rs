//! `leadscore validate`: every violation the contract names is found, located by file,
//! row and column, and exits 2; valid input prints the data-quality summary.

use predicates::prelude::*;
use predicates::str::contains;

use crate::util::{write, Fixture, INTERACTIONS, LEADS, OUTCOMES};

#[test]
fn valid_tables_print_the_data_quality_summary() {
    let fixture = Fixture::new();
    fixture
        .validate()
        .assert()
        .success()
        .stdout(contains("won / lost / open        1 / 1 / 1"))
        .stdout(contains("won rate (closed)        50.0%"))
        .stdout(contains("demo_request"))
        .stdout(contains(
            "company_size           numeric      missing          1",
        ))
        .stderr(contains("read 3 leads (2 attributes)"));
}

#[test]
fn json_summary_is_machine_readable() {
    let fixture = Fixture::new();
    let output = fixture.validate().arg("--json").output().unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["leads"], 3);
    assert_eq!(json["won"], 1);
    assert_eq!(json["interactions_per_lead"]["max"], 2);
    assert_eq!(json["leads_without_interactions"], 1);
}

#[test]
fn missing_required_column_names_the_column_in_the_header_row() {
    let fixture = Fixture::with("lead_id,industry\nL1,Software\n", INTERACTIONS, OUTCOMES);
    fixture.validate().assert().code(2).stderr(contains(
        "leads.csv, row 1, column `created_at`: required column is missing",
    ));
}

#[test]
fn unparseable_timestamp_names_row_and_column() {
    let leads = LEADS.replace("2025-01-02T10:00:00Z", "02/01/2025");
    let fixture = Fixture::with(leads, INTERACTIONS, OUTCOMES);
    fixture.validate().assert().code(2).stderr(contains(
        "leads.csv, row 3, column `created_at`: cannot read '02/01/2025' as a timestamp",
    ));
}

#[test]
fn unparseable_interaction_and_outcome_timestamps_are_all_reported() {
    let interactions = INTERACTIONS.replace("2025-01-06T10:00:00Z", "2025-13-06");
    let outcomes = OUTCOMES.replace("2025-02-02", "soon");
    let fixture = Fixture::with(LEADS, interactions, outcomes);
    fixture
        .validate()
        .assert()
        .code(2)
        .stderr(contains("2 problems found"))
        .stderr(contains(
            "interactions.csv, row 3, column `occurred_at`: cannot read '2025-13-06'",
        ))
        .stderr(contains(
            "outcomes.csv, row 3, column `closed_at`: cannot read 'soon'",
        ));
}

#[test]
fn empty_lead_id_names_row_and_column() {
    let leads = LEADS.replace("L2,", ",");
    let fixture = Fixture::with(leads, INTERACTIONS, OUTCOMES);
    fixture.validate().assert().code(2).stderr(contains(
        "leads.csv, row 3, column `lead_id`: required value is empty",
    ));
}

#[test]
fn empty_required_interaction_fields_name_row_and_column() {
    let interactions = INTERACTIONS.replace("L2,2025-01-07T10:00:00Z,demo_request", "L2,,");
    let fixture = Fixture::with(LEADS, interactions, OUTCOMES);
    fixture
        .validate()
        .assert()
        .code(2)
        .stderr(contains(
            "interactions.csv, row 4, column `occurred_at`: required timestamp is empty",
        ))
        .stderr(contains(
            "interactions.csv, row 4, column `event_type`: required value is empty",
        ));
}

#[test]
fn duplicate_lead_id_names_both_rows() {
    let leads = format!("{LEADS}L1,2025-03-01,Media,3\n");
    let fixture = Fixture::with(leads, INTERACTIONS, OUTCOMES);
    fixture.validate().assert().code(2).stderr(contains(
        "leads.csv, row 5, column `lead_id`: duplicate lead_id 'L1' (first seen in row 2)",
    ));
}

#[test]
fn unknown_outcome_value_names_row_and_column() {
    let outcomes = OUTCOMES.replace("Lost", "maybe");
    let fixture = Fixture::with(LEADS, INTERACTIONS, outcomes);
    fixture.validate().assert().code(2).stderr(contains(
        "outcomes.csv, row 3, column `outcome`: 'maybe' is not an outcome",
    ));
}

#[test]
fn outcome_values_are_case_insensitive() {
    let outcomes = OUTCOMES.replace("won", "WON");
    Fixture::with(LEADS, INTERACTIONS, outcomes)
        .validate()
        .assert()
        .success();
}

#[test]
fn duplicate_outcome_for_a_lead_names_both_rows() {
    let outcomes = format!("{OUTCOMES}L1,lost,2025-03-01\n");
    let fixture = Fixture::with(LEADS, INTERACTIONS, outcomes);
    fixture.validate().assert().code(2).stderr(contains(
        "outcomes.csv, row 4, column `lead_id`: duplicate lead_id 'L1' (first seen in row 2)",
    ));
}

#[test]
fn interactions_for_unknown_leads_are_counted_with_examples() {
    let interactions =
        format!("{INTERACTIONS}L9,2025-01-08,email_open,\nL8,2025-01-09,email_open,\n");
    let fixture = Fixture::with(LEADS, interactions, OUTCOMES);
    fixture
        .validate()
        .assert()
        .success()
        .stderr(contains("warning: 2 interactions in"))
        .stderr(contains("row 5: 'L9'; row 6: 'L8'"))
        .stdout(contains(
            "interactions, unknown lead   2 (e.g. row 5: 'L9'; row 6: 'L8')",
        ));
}

#[test]
fn unknown_leads_can_be_made_an_error() {
    let interactions = format!("{INTERACTIONS}L9,2025-01-08,email_open,\n");
    let fixture = Fixture::with(LEADS, interactions, OUTCOMES);
    fixture
        .validate()
        .args(["--unknown-leads", "error"])
        .assert()
        .code(2)
        .stderr(contains(
            "interactions.csv, row 5, column `lead_id`: lead_id 'L9' is not in the leads table",
        ));
}

#[test]
fn non_utf8_bytes_name_row_and_column() {
    let mut leads = LEADS.as_bytes().to_vec();
    let at = LEADS.find("Retail").unwrap();
    leads[at + 1] = 0xE9;
    let fixture = Fixture::with(leads, INTERACTIONS, OUTCOMES);
    fixture.validate().assert().code(2).stderr(contains(
        "leads.csv, row 3, column `industry`: byte 0xE9 is not valid UTF-8",
    ));
}

#[test]
fn empty_file_is_refused() {
    let fixture = Fixture::with(LEADS, "", OUTCOMES);
    fixture
        .validate()
        .assert()
        .code(2)
        .stderr(contains("interactions.csv: the file is empty"));
}

#[test]
fn header_only_leads_table_is_refused() {
    let fixture = Fixture::with("lead_id,created_at\n", INTERACTIONS, OUTCOMES);
    fixture
        .validate()
        .assert()
        .code(2)
        .stderr(contains("leads.csv: the table has a header but no leads"));
}

#[test]
fn header_only_interactions_are_valid() {
    let fixture = Fixture::with(LEADS, "lead_id,occurred_at,event_type,detail\n", OUTCOMES);
    fixture
        .validate()
        .assert()
        .success()
        .stdout(contains("leads without any        3 (100.0%)"));
}

#[test]
fn interactions_without_detail_column_are_valid() {
    let interactions = "lead_id,occurred_at,event_type\nL1,2025-01-05,page_visit\n";
    Fixture::with(LEADS, interactions, OUTCOMES)
        .validate()
        .assert()
        .success();
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let leads = "lead_id,created_at\nL1,never\n,2025-01-01\nL1,2025-01-02\n";
    let outcomes = "lead_id,outcome,closed_at\nL1,tie,2025-02-01\n";
    let fixture = Fixture::with(leads, INTERACTIONS, outcomes);
    fixture
        .validate()
        .assert()
        .code(2)
        .stderr(contains("4 problems found"))
        .stderr(contains("row 2, column `created_at`"))
        .stderr(contains("row 3, column `lead_id`"))
        .stderr(contains("row 4, column `lead_id`: duplicate"))
        .stderr(contains("outcomes.csv, row 2, column `outcome`"));
}

#[test]
fn interactions_after_close_are_reported_as_leakage_risk() {
    let interactions =
        format!("{INTERACTIONS}L1,2025-02-01,product_login,\nL1,2025-03-01,product_login,\n");
    Fixture::with(LEADS, interactions, OUTCOMES)
        .validate()
        .assert()
        .success()
        .stdout(contains(
            "interactions at/after close  2 (40.0% of all) across 1 closed leads",
        ));
}

#[test]
fn unsupported_extension_and_missing_file_exit_2() {
    let fixture = Fixture::new();
    let xlsx = write(fixture.dir.path(), "leads.xlsx", "x");
    crate::util::leadscore()
        .arg("validate")
        .arg("--leads")
        .arg(&xlsx)
        .arg("--interactions")
        .arg(&fixture.interactions)
        .arg("--outcomes")
        .arg(fixture.dir.path().join("nope.csv"))
        .assert()
        .code(2)
        .stderr(contains("leads.xlsx: unsupported file type"));
    let mut cmd = fixture.validate();
    cmd.arg("--outcomes")
        .arg(fixture.dir.path().join("nope.csv"));
    cmd.assert().code(2);
}

#[test]
fn missing_file_names_the_file() {
    let fixture = Fixture::new();
    crate::util::leadscore()
        .arg("validate")
        .arg("--leads")
        .arg(&fixture.leads)
        .arg("--interactions")
        .arg(&fixture.interactions)
        .arg("--outcomes")
        .arg(fixture.dir.path().join("nope.csv"))
        .assert()
        .code(2)
        .stderr(contains("nope.csv: cannot read").and(contains("No such file")));
}

#[test]
fn usage_errors_exit_2() {
    crate::util::leadscore()
        .args(["validate", "--leads"])
        .assert()
        .code(2);
    crate::util::leadscore().arg("frobnicate").assert().code(2);
}

#[test]
fn parquet_problems_are_located_like_csv_ones() {
    use polars::prelude::*;
    let fixture = Fixture::new();
    let path = fixture.dir.path().join("leads.parquet");
    let mut leads = df!(
        "lead_id" => [1i64, 2, 2],
        "created_at" => ["2025-01-01", "never", "2025-01-03"],
        "employees" => [10i64, 20, 30]
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut leads)
        .unwrap();
    crate::util::leadscore()
        .arg("validate")
        .arg("--leads")
        .arg(&path)
        .arg("--interactions")
        .arg(&fixture.interactions)
        .arg("--outcomes")
        .arg(&fixture.outcomes)
        .assert()
        .code(2)
        .stderr(contains(
            "leads.parquet, row 3, column `created_at`: cannot read 'never'",
        ))
        .stderr(contains(
            "leads.parquet, row 4, column `lead_id`: duplicate lead_id '2' (first seen in row 3)",
        ));
}

#[test]
fn parquet_with_native_timestamps_and_integer_ids_is_read() {
    use polars::prelude::*;
    let fixture = Fixture::new();
    let path = fixture.dir.path().join("leads.parquet");
    let created = Int64Chunked::from_vec(
        "created_at".into(),
        vec![1_735_689_600_000, 1_735_776_000_000],
    )
    .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
    .into_column();
    let mut leads =
        DataFrame::new_infer_height(vec![Column::new("lead_id".into(), [1i64, 2]), created])
            .unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut leads)
        .unwrap();
    let interactions = write(
        fixture.dir.path(),
        "i.csv",
        "lead_id,occurred_at,event_type\n1,2025-01-05,page_visit\n",
    );
    let outcomes = write(
        fixture.dir.path(),
        "o.csv",
        "lead_id,outcome,closed_at\n2,won,2025-02-01\n",
    );
    crate::util::leadscore()
        .arg("validate")
        .arg("--leads")
        .arg(&path)
        .arg("--interactions")
        .arg(&interactions)
        .arg("--outcomes")
        .arg(&outcomes)
        .assert()
        .success()
        .stdout(contains(
            "created                  2025-01-01T00:00:00Z .. 2025-01-02T00:00:00Z",
        ))
        .stdout(contains("won / lost / open        1 / 0 / 1"));
}

#[test]
fn spreadsheet_exports_with_bom_and_crlf_are_read() {
    let leads = format!("\u{feff}{}", LEADS.replace('\n', "\r\n"));
    let interactions = INTERACTIONS.replace('\n', "\r\n");
    Fixture::with(leads, interactions, OUTCOMES)
        .validate()
        .assert()
        .success()
        .stderr(contains("read 3 leads (2 attributes)"))
        .stdout(contains("/pricing"));
}

#[test]
fn a_closed_pipe_ends_the_command_quietly_like_other_unix_tools() {
    // `| true` closes the pipe before validate writes its summary: the write meets a
    // closed pipe, which used to panic (exit 101) and now ends the process by SIGPIPE.
    let fixture = Fixture::new();
    let bin = assert_cmd::cargo::cargo_bin("leadscore");
    let script = format!(
        "'{}' validate --leads '{}' --interactions '{}' --outcomes '{}' | true; echo ${{PIPESTATUS[0]}}",
        bin.display(),
        fixture.leads.display(),
        fixture.interactions.display(),
        fixture.outcomes.display()
    );
    let output = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let status = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        status == "141" || status == "0",
        "exit status {status}: {stderr}"
    );
}
