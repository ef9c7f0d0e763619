//! One published state per run. A run writes its current files (`scores.parquet`,
//! `changes.parquet`, `summary.json`) into a folder of its own under `DIR/runs/`, named
//! while it is being written `.<name>.partial` and renamed when complete; then the
//! symbolic link `DIR/current` is swapped to it in one rename. `DIR/scores.parquet` and
//! its siblings are fixed links into `current/`, so today's paths keep working. A run
//! killed at any moment leaves `current` pointing at the previous complete run: a
//! reader that resolves `current` once reads one run's files, never a mix.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output::{replace_link, sync_dir};

/// The files every published run holds.
pub(crate) const PUBLISHED: [&str; 3] = ["scores.parquet", "changes.parquet", "summary.json"];
/// The link to the published run, inside the output directory.
pub(crate) const CURRENT: &str = "current";
const RUNS: &str = "runs";

/// A run's folder while it is being written.
#[derive(Debug)]
pub(crate) struct RunFolder {
    name: String,
    partial: PathBuf,
}

impl RunFolder {
    /// Creates `DIR/runs/.<name>.partial` for a run as of `stamp` (unique per run).
    pub(crate) fn begin(dir: &Path, stamp: &str) -> Result<RunFolder> {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        let name = format!(
            "run-{}-{micros}-{}",
            stamp.trim_start_matches("as_of="),
            std::process::id()
        );
        let partial = dir.join(RUNS).join(format!(".{name}.partial"));
        std::fs::create_dir_all(&partial).map_err(|e| Error::output(&partial, e))?;
        Ok(RunFolder { name, partial })
    }

    /// The run's name, as its summary records it.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Where the run writes its files until it publishes.
    pub(crate) fn path(&self) -> &Path {
        &self.partial
    }

    /// Completes the folder and points `DIR/current` at it, then keeps the previous
    /// run (a reader may still be in it) and removes older ones.
    pub(crate) fn publish(self, dir: &Path) -> Result<()> {
        let runs = dir.join(RUNS);
        let done = runs.join(&self.name);
        sync_dir(&self.partial);
        std::fs::rename(&self.partial, &done).map_err(|e| Error::output(&done, e))?;
        let previous = std::fs::read_link(dir.join(CURRENT)).ok();
        replace_link(&dir.join(CURRENT), &Path::new(RUNS).join(&self.name))?;
        for name in PUBLISHED {
            let link = dir.join(name);
            let target = Path::new(CURRENT).join(name);
            if std::fs::read_link(&link).ok().as_deref() != Some(target.as_path()) {
                replace_link(&link, &target)?;
            }
        }
        sync_dir(dir);
        let keep: Vec<PathBuf> = [Some(Path::new(RUNS).join(&self.name)), previous]
            .into_iter()
            .flatten()
            .map(|p| dir.join(p))
            .collect();
        if let Ok(entries) = std::fs::read_dir(&runs) {
            for entry in entries.filter_map(|e| e.ok()) {
                let path = entry.path();
                let hidden = entry.file_name().to_string_lossy().starts_with('.');
                if !hidden && !keep.contains(&path) {
                    // Best effort: an old run left behind is removed by the next run.
                    let _ = std::fs::remove_dir_all(&path);
                }
            }
        }
        Ok(())
    }
}
