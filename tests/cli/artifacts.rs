//! Damaged artifacts: a payload mutated and given a recomputed checksum passes the
//! envelope, so the consistency check is all that stands between it and published
//! scores. Whatever it accepts must score without a panic and publish nothing that is
//! not finite.

use leadscore::data::{load, InputPaths, LoadOptions};
use leadscore::model::artifact::{decode, MAGIC};
use leadscore::model::score::score_leads;
use leadscore::model::Model;
use rand::{Rng, SeedableRng};

use crate::util::{generate, leadscore};

#[test]
fn mutated_artifacts_never_publish_a_non_finite_number() {
    let root = tempfile::tempdir().unwrap();
    let dir = generate(&root.path().join("crm"), 600, 3, "csv");
    let model_path = root.path().join("m.bin");
    leadscore()
        .arg("train")
        .arg("--leads")
        .arg(dir.join("leads.csv"))
        .arg("--interactions")
        .arg(dir.join("interactions.csv"))
        .arg("--outcomes")
        .arg(dir.join("outcomes.csv"))
        .args(["--l2", "0.01", "--out"])
        .arg(&model_path)
        .assert()
        .success();
    let bytes = std::fs::read(&model_path).unwrap();
    let tables = load(
        &InputPaths {
            leads: dir.join("leads.csv"),
            interactions: dir.join("interactions.csv"),
            outcomes: None,
        },
        LoadOptions::default(),
    )
    .unwrap();
    let as_of = leadscore::data::timestamp::parse_timestamp("2026-01-01").unwrap();
    let payload = &bytes[28..];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
    let (mut accepted, mut scored) = (0, 0);
    for _ in 0..300 {
        let mut mutated = payload.to_vec();
        for _ in 0..rng.gen_range(1..=4) {
            let at = rng.gen_range(0..mutated.len());
            mutated[at] = match rng.gen_range(0..3) {
                0 => mutated[at] ^ (1 << rng.gen_range(0..8)),
                1 => 0xff,
                _ => rng.gen(),
            };
        }
        let mut file = MAGIC.to_vec();
        file.extend_from_slice(&bytes[12..16]);
        file.extend_from_slice(&(mutated.len() as u64).to_le_bytes());
        file.extend_from_slice(&crc32fast::hash(&mutated).to_le_bytes());
        file.extend_from_slice(&mutated);
        let Ok(model) = decode::<Model>(&file) else {
            continue;
        };
        if model.check().is_err() {
            continue;
        }
        accepted += 1;
        let Ok(result) = score_leads(&model, &tables.leads, &tables.interactions, as_of) else {
            continue;
        };
        scored += 1;
        let table = result.table;
        for column in ["probability", "points"] {
            let values = table
                .column(column)
                .unwrap()
                .cast(&polars::prelude::DataType::Float64)
                .unwrap();
            assert!(
                values
                    .f64()
                    .unwrap()
                    .iter()
                    .all(|v| v.is_some_and(f64::is_finite)),
                "a mutated artifact published a non-finite {column}"
            );
        }
        let scores = table
            .column("score")
            .unwrap()
            .cast(&polars::prelude::DataType::UInt32)
            .unwrap();
        assert!(scores
            .u32()
            .unwrap()
            .iter()
            .all(|s| s.is_some_and(|s| (1..=99).contains(&s))));
    }
    eprintln!("{accepted} of 300 mutated artifacts passed the checks, {scored} scored");
    assert!(
        accepted > 0,
        "no mutation got past the envelope: the test proved nothing"
    );
}
