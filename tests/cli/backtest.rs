//! `leadscore backtest`: settings judged on the leads open at a past date.

use leadscore::data::columns::*;
use leadscore::data::timestamp::parse_timestamp;
use leadscore::data::{load, InputPaths, LoadOptions};
use polars::prelude::ChunkAgg;

use crate::util::{generate, leadscore};

#[test]
fn compares_cutoff_schemes_on_leads_open_at_a_past_date() {
    let root = tempfile::tempdir().unwrap();
    let dir = generate(&root.path().join("crm"), 2_000, 41, "parquet");
    let json = root.path().join("backtest.json");
    let output = leadscore()
        .arg("backtest")
        .arg("--leads")
        .arg(dir.join("leads.parquet"))
        .arg("--interactions")
        .arg(dir.join("interactions.parquet"))
        .arg("--outcomes")
        .arg(dir.join("outcomes.parquet"))
        .args([
            "--at",
            "2025-09-01",
            "--snapshots",
            "1,4",
            "--l2",
            "0.01",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(
        table.contains("| 2025-09-01 | 1 snapshot (ages 0 days) |"),
        "{table}"
    );
    assert!(
        table.contains("| 2025-09-01 | 4 snapshots (ages 0, 7, 14, 28 days) |"),
        "{table}"
    );
    let rows: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        let auc = row["roc_auc"].as_f64().unwrap();
        assert!(auc > 0.6 && auc <= 1.0, "{row}");
        assert!(row["judged"].as_u64().unwrap() > 50);
        assert_eq!(row["trained_on"], rows[0]["trained_on"]);
    }

    // What the model trained on was known at the date; nothing later.
    let tables = load(
        &InputPaths {
            leads: dir.join("leads.parquet"),
            interactions: dir.join("interactions.parquet"),
            outcomes: Some(dir.join("outcomes.parquet")),
        },
        LoadOptions::default(),
    )
    .unwrap();
    let at = parse_timestamp("2025-09-01").unwrap();
    let known = tables.known_at(at).unwrap();
    assert_eq!(
        known.outcomes.height() as u64,
        rows[0]["trained_on"].as_u64().unwrap()
    );
    for (frame, column) in [
        (&known.leads, CREATED_AT),
        (&known.interactions, OCCURRED_AT),
        (&known.outcomes, CLOSED_AT),
    ] {
        let latest = frame
            .column(column)
            .unwrap()
            .to_physical_repr()
            .i64()
            .unwrap()
            .max();
        assert!(latest.unwrap() < at, "{column}");
    }
    assert!(known.outcomes.height() < tables.outcomes.height());
}
