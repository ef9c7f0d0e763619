//! Giving freed memory back to the system. glibc's malloc keeps freed blocks below its
//! mmap threshold (which grows as large blocks are freed) in its heap for reuse, so
//! letting go of a multi-gigabyte frame made of many buffers does not lower the
//! resident size; the matrices allocated next are mapped fresh, and the two add up.
//! At 1,000,000 leads, trimming after the interactions frame goes returns 1.6 GB.

/// Returns freed heap memory to the system where the allocator can (glibc on Linux);
/// elsewhere does nothing. Call it after letting go of something large.
pub(crate) fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::os::raw::c_int;
        }
        // SAFETY: malloc_trim(3) takes no pointers and has no preconditions; it only
        // returns free pages of glibc's own heaps to the kernel.
        unsafe {
            malloc_trim(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::memory::resident_mib as resident;

    #[test]
    fn freed_small_buffers_leave_the_resident_set() {
        if !cfg!(all(target_os = "linux", target_env = "gnu")) || resident().is_none() {
            return; // nothing to trim or to measure here
        }
        // 256 MiB in 64 KiB buffers (below the mmap threshold, so they live in the heap),
        // each followed by a small block that stays: freeing the buffers leaves holes the
        // allocator cannot give back by shrinking its heap from the top.
        let (buffers, pins): (Vec<Vec<u8>>, Vec<Vec<u8>>) = (0..4096)
            .map(|i| (vec![i as u8; 64 << 10], vec![i as u8; 64]))
            .unzip();
        std::hint::black_box((&buffers, &pins));
        let with_buffers = resident().unwrap();
        drop(buffers);
        release_freed();
        let after = resident().unwrap();
        assert!(
            after < with_buffers - 128.0,
            "resident {after:.0} MiB after freeing 256 MiB (was {with_buffers:.0})"
        );
        drop(pins);
    }
}
