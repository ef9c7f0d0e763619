//! One rescoring run per output directory at a time: a lock file created exclusively,
//! holding the owner's process id. A lock whose process no longer exists (a run killed
//! with SIGKILL, a machine that rebooted) is stale and is taken over.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// File name of the lock inside the output directory.
pub const LOCK_FILE: &str = "rescore.lock";

/// Held for the run; removed when dropped.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
}

impl RunLock {
    /// Takes the lock of `dir`, recovering a stale one; refuses while another live
    /// process holds it.
    pub fn acquire(dir: &Path) -> Result<RunLock> {
        let path = dir.join(LOCK_FILE);
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    writeln!(file, "{}", std::process::id())
                        .and_then(|()| file.sync_all())
                        .map_err(|e| Error::output(&path, e))?;
                    return Ok(RunLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid = holder.trim().parse::<u32>().ok();
                    if pid.is_some_and(alive) {
                        return Err(Error::Locked {
                            path,
                            holder: holder.trim().to_string(),
                        });
                    }
                    // Stale: its process is gone (or it never finished writing its pid).
                    eprintln!(
                        "warning: removing a stale lock {} left by process {}",
                        path.display(),
                        holder.trim()
                    );
                    std::fs::remove_file(&path).map_err(|e| Error::output(&path, e))?;
                }
                Err(e) => return Err(Error::output(&path, e)),
            }
        }
        Err(Error::Locked {
            path,
            holder: "another run that took the lock at the same moment".into(),
        })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Best effort: a lock that cannot be removed is stale next time and recovered.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether a process with this id exists (Linux: /proc).
fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_holder_blocks_and_a_stale_lock_is_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path()).unwrap();
        match RunLock::acquire(dir.path()) {
            Err(Error::Locked { holder, .. }) => assert_eq!(holder, std::process::id().to_string()),
            other => panic!("expected a refusal, got {other:?}"),
        }
        drop(first);
        assert!(!dir.path().join(LOCK_FILE).exists());
        // A pid far above any real one: its process is gone.
        std::fs::write(dir.path().join(LOCK_FILE), "4194304999\n").unwrap();
        let taken = RunLock::acquire(dir.path()).unwrap();
        drop(taken);
    }
}
