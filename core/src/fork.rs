//! Fork detection for state that must never be duplicated into a child process.
//!
//! Keyplane buffers nonce randomness per thread (see [`crate::aead`]). A `fork()` copies that
//! buffer into the child, and parent and child would then hand out the same nonces under the
//! same keys. [`generation`] returns a number that strictly increases in a child after a fork,
//! so a buffer stamped with an older generation is discarded before use.
//!
//! On Linux with 4 KiB pages the check is one load from a page marked `MADV_WIPEONFORK`: the
//! kernel hands a forked child that page zeroed. Elsewhere (or if the advice is refused) the check
//! compares the process id on every call: always correct, slower.
#![allow(unsafe_code)]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Bumped once per process copy that notices it is new; never decreases.
static GENERATION: AtomicU64 = AtomicU64::new(1);

/// The current fork generation of this process.
#[inline]
pub(crate) fn generation() -> u64 {
    static PAGE: OnceLock<Option<&'static wipe::Page>> = OnceLock::new();
    match PAGE.get_or_init(wipe::arm) {
        Some(page) => {
            if page.armed.load(Ordering::Acquire) == 0 {
                // A new process: bump the generation *before* re-arming, so any thread that
                // sees the page armed also sees the new generation.
                GENERATION.fetch_add(1, Ordering::AcqRel);
                page.armed.store(1, Ordering::Release);
            }
            GENERATION.load(Ordering::Acquire)
        }
        None => pid_generation(),
    }
}

fn pid_generation() -> u64 {
    static PID: AtomicU32 = AtomicU32::new(0);
    let pid = std::process::id();
    let seen = PID.load(Ordering::Acquire);
    if seen != pid {
        GENERATION.fetch_add(1, Ordering::AcqRel);
        // Losing this race is fine: the winner bumped the generation too.
        let _ = PID.compare_exchange(seen, pid, Ordering::AcqRel, Ordering::Acquire);
    }
    GENERATION.load(Ordering::Acquire)
}

#[cfg(target_os = "linux")]
mod wipe {
    use std::sync::atomic::AtomicU64;

    const PAGE_SIZE: usize = 4096;

    /// Exactly one 4 KiB page; all-zero bytes are a valid value of every field.
    #[repr(C, align(4096))]
    pub(super) struct Page {
        pub(super) armed: AtomicU64,
        _rest: [u8; PAGE_SIZE - 8],
    }

    pub(super) fn arm() -> Option<&'static Page> {
        // SAFETY: sysconf has no preconditions; it only reads a system constant.
        let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if usize::try_from(page_size).ok() != Some(PAGE_SIZE) {
            // A larger page would extend the advice over memory that is not ours.
            return None;
        }
        let page: &'static Page = Box::leak(Box::new(Page {
            armed: AtomicU64::new(1),
            _rest: [0; PAGE_SIZE - 8],
        }));
        let addr = core::ptr::from_ref(page).cast_mut().cast::<libc::c_void>();
        // SAFETY: `addr` starts a page-aligned allocation of exactly one page that is leaked,
        // so it stays ours for the life of the process and no other object shares the page.
        // MADV_WIPEONFORK only changes what a forked child sees (the page reads as zeros
        // there), and zero is a valid value of every field of `Page`.
        let rc = unsafe { libc::madvise(addr, PAGE_SIZE, libc::MADV_WIPEONFORK) };
        (rc == 0).then_some(page)
    }
}

#[cfg(not(target_os = "linux"))]
mod wipe {
    pub(super) struct Page {
        pub(super) armed: std::sync::atomic::AtomicU64,
    }

    pub(super) fn arm() -> Option<&'static Page> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_stable_without_fork() {
        let a = generation();
        let b = generation();
        assert_eq!(a, b);
        assert_eq!(pid_generation(), pid_generation());
    }
}
