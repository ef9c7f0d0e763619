//! Peak resident memory per stage, read from Linux's `/proc/self/status`. The kernel
//! keeps one high-water mark per process; writing `5` to `/proc/self/clear_refs`
//! lowers it to the current size, so each stage's peak is its own (on top of whatever
//! earlier stages still hold). Elsewhere the figures are simply absent.

/// Starts a new high-water mark at the current resident size.
pub(crate) fn reset_peak() {
    // Best effort: without it the next reading is the process's peak so far.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The high-water mark of resident memory since the last reset, in MiB.
pub(crate) fn peak_mib() -> Option<f64> {
    status_mib("VmHWM:")
}

/// The resident memory now, in MiB (the heap test's measure).
#[cfg(test)]
pub(crate) fn resident_mib() -> Option<f64> {
    status_mib("VmRSS:")
}

/// A size in `/proc/self/status` (given in KiB there), in MiB.
fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_forgets_memory_that_was_freed() {
        if peak_mib().is_none() {
            return; // not Linux: nothing to measure
        }
        let block = vec![1u8; 64 << 20];
        std::hint::black_box(&block);
        let with_block = peak_mib().unwrap();
        drop(block);
        reset_peak();
        let after = peak_mib().unwrap();
        assert!(
            after < with_block - 32.0,
            "peak stayed at {after} MiB after freeing 64 MiB (was {with_block})"
        );
    }
}
