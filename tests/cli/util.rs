//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The binary under test.
pub fn leadscore() -> Command {
    Command::cargo_bin("leadscore").expect("the leadscore binary is built for integration tests")
}

/// Writes `content` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("temp dir is writable");
    path
}

/// A small valid leads table.
pub const LEADS: &str = "lead_id,created_at,industry,company_size\n\
L1,2025-01-01,Software,120\n\
L2,2025-01-02T10:00:00Z,Retail,\n\
L3,2025-01-03 08:30:00,,15\n";

/// Interactions of the small leads table.
pub const INTERACTIONS: &str = "lead_id,occurred_at,event_type,detail\n\
L1,2025-01-05T10:00:00Z,page_visit,/pricing\n\
L1,2025-01-06T10:00:00Z,email_open,\n\
L2,2025-01-07T10:00:00Z,demo_request,\n";

/// Outcomes of the small leads table.
pub const OUTCOMES: &str = "lead_id,outcome,closed_at\nL1,won,2025-02-01\nL2,Lost,2025-02-02\n";

/// A temp dir holding the three small tables, with any of them replaced.
pub struct Fixture {
    /// Keeps the directory alive.
    pub dir: tempfile::TempDir,
    /// leads.csv
    pub leads: PathBuf,
    /// interactions.csv
    pub interactions: PathBuf,
    /// outcomes.csv
    pub outcomes: PathBuf,
}

impl Fixture {
    /// The valid tables.
    pub fn new() -> Self {
        Self::with(LEADS, INTERACTIONS, OUTCOMES)
    }

    /// Tables with the given contents.
    pub fn with(
        leads: impl AsRef<[u8]>,
        interactions: impl AsRef<[u8]>,
        outcomes: impl AsRef<[u8]>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Fixture {
            leads: write(dir.path(), "leads.csv", leads),
            interactions: write(dir.path(), "interactions.csv", interactions),
            outcomes: write(dir.path(), "outcomes.csv", outcomes),
            dir,
        }
    }

    /// `leadscore validate` on the three tables.
    pub fn validate(&self) -> Command {
        let mut cmd = leadscore();
        cmd.arg("validate")
            .arg("--leads")
            .arg(&self.leads)
            .arg("--interactions")
            .arg(&self.interactions)
            .arg("--outcomes")
            .arg(&self.outcomes);
        cmd
    }
}

/// Runs `leadscore generate` into `dir` and returns the directory.
pub fn generate(dir: &Path, leads: usize, seed: u64, format: &str) -> PathBuf {
    leadscore()
        .args([
            "generate",
            "--leads",
            &leads.to_string(),
            "--seed",
            &seed.to_string(),
            "--format",
            format,
            "--out",
        ])
        .arg(dir)
        .assert()
        .success();
    dir.to_path_buf()
}
