//! One run per directory at a time (a rescore per output directory, a retrain or
//! rollback per model registry), held by the operating system: an exclusive advisory
//! lock (`flock`) on a file in the directory. The kernel releases it when
//! its process ends, however it ends (SIGKILL, a crash, a reboot), so there is no stale
//! lock to recognise and nothing to take over: a run either holds the lock or is
//! refused, and no run ever removes a file another live run holds. The file itself is
//! never deleted (deleting it would let a second run lock a new file while the first
//! still holds the old one); it holds the last holder's process id, for the message.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A job that runs once per directory at a time: its lock file and how a refusal
/// names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Job {
    /// `rescore` on its output directory.
    Rescore,
    /// `retrain` or `models --rollback` on a registry.
    Registry,
}

impl Job {
    /// The lock's file name inside the directory.
    pub(crate) fn file(self) -> &'static str {
        match self {
            Job::Rescore => "rescore.lock",
            Job::Registry => "registry.lock",
        }
    }

    /// (what holds the lock, what the directory is), in words.
    fn words(self) -> (&'static str, &'static str) {
        match self {
            Job::Rescore => ("rescore run", "output directory"),
            Job::Registry => ("retrain or rollback", "registry"),
        }
    }
}

/// Held for the run; the lock is released when this is dropped or the process ends.
#[derive(Debug)]
pub(crate) struct RunLock {
    _file: File,
}

impl RunLock {
    /// Takes `job`'s lock of `dir`, or refuses (exit 1) while another process holds it.
    pub(crate) fn acquire(dir: &Path, job: Job) -> Result<RunLock> {
        let path = dir.join(job.file());
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::output(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let (job, place) = job.words();
                return Err(Error::Locked {
                    holder: holder(&path),
                    path,
                    job,
                    place,
                });
            }
            Err(TryLockError::Error(e)) => return Err(Error::output(&path, e)),
        }
        // Only the holder writes here; a refused run may read a half-written id, which
        // only ever appears in its message.
        let id = format!("{}\n", std::process::id());
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(id.as_bytes()))
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::output(&path, e))?;
        Ok(RunLock { _file: file })
    }
}

/// Who holds the lock, in words, for the refusal.
fn holder(path: &PathBuf) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => format!("process {}", text.trim()),
        _ => "another run that is just starting".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_blocks_until_it_lets_go_and_a_leftover_file_is_no_lock() {
        let dir = tempfile::tempdir().unwrap();
        // A lock file left by a killed run holds a pid but no lock.
        std::fs::write(dir.path().join(Job::Rescore.file()), "4194304999\n").unwrap();
        let first = RunLock::acquire(dir.path(), Job::Rescore).unwrap();
        match RunLock::acquire(dir.path(), Job::Rescore) {
            Err(Error::Locked { holder, .. }) => {
                assert_eq!(holder, format!("process {}", std::process::id()))
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        drop(first);
        let again = RunLock::acquire(dir.path(), Job::Rescore).unwrap();
        drop(again);
        assert!(
            dir.path().join(Job::Rescore.file()).exists(),
            "the lock file stays"
        );
    }

    #[test]
    fn never_two_holders_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let holders = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let taken = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..200 {
                        if let Ok(lock) = RunLock::acquire(dir.path(), Job::Rescore) {
                            let now = holders.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            taken.fetch_add(1, Ordering::SeqCst);
                            std::thread::yield_now();
                            holders.fetch_sub(1, Ordering::SeqCst);
                            drop(lock);
                        }
                    }
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 1);
        assert!(taken.load(Ordering::SeqCst) > 0);
    }
}
