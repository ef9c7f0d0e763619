//! The analyst notebooks in `notebooks/` run top to bottom on the bundled data, headless,
//! with the binary under test: a notebook that breaks fails the suite.

use std::process::Command;

#[test]
fn every_notebook_runs_top_to_bottom_on_the_bundled_data() {
    let work = tempfile::tempdir().unwrap();
    let ran = Command::new("python3")
        .arg("notebooks/run_all.py")
        .env("LEADSCORE_BIN", assert_cmd::cargo::cargo_bin("leadscore"))
        .env("LEADSCORE_NOTEBOOK_WORK", work.path())
        .output()
        .expect("python3 runs (install tests/requirements.txt)");
    let said = String::from_utf8_lossy(&ran.stderr);
    assert!(ran.status.success(), "{said}");
    let notebooks = std::fs::read_dir("notebooks")
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "ipynb"))
        })
        .count();
    assert!(notebooks >= 6, "{notebooks} notebooks");
    assert_eq!(said.matches(": ran in ").count(), notebooks, "{said}");
}
