//! Fork detection for state that must never be duplicated into a child process.
//!
//! Keyplane buffers nonce randomness per thread (see the `aead` module). A `fork()` copies that
//! buffer into the child, and parent and child would then hand out the same nonces under the
//! same keys. [`generation`] returns a number that strictly increases in a child after a fork,
//! so a buffer stamped with an older generation is discarded before use.
//!
//! On Linux with 4 KiB pages the check is one load from a page marked `MADV_WIPEONFORK`: the
//! kernel hands a forked child that page zeroed. Elsewhere (or if the advice is refused) the check
//! compares the process id on every call: always correct, slower.
//!
//! # Locks across `fork()`
//!
//! A child has only the thread that forked. A lock that another thread held at that moment
//! stays held in the child forever, and the child's first use of it hangs. Every lock Keyplane
//! takes on behalf of a keyring (its key and alias maps, each key's management state, the store
//! writer's lock, batch pool slots, the import root) is therefore taken inside [`pass`]: a
//! process-wide gate that any number of threads hold at once. Handlers registered with
//! `pthread_atfork` ([`arm`]) close the gate before every fork and wait until no thread holds
//! it, so no Keyplane lock is held when the process is copied; they reopen it after the fork,
//! in the parent and in the child. The hot path takes no lock and never passes the gate.
//!
//! What runs inside the gate never waits for another thread that might need the gate (or for
//! anything the forking thread holds, such as an interpreter lock): only the lock itself and
//! the short work under it. A thread that holds the gate passes it again freely (a per-thread
//! depth), so nested locks cannot wait on a fork that waits on them.
//!
//! The audit trail's writer thread does not survive a fork; an audited keyring refuses its
//! operations in a child instead (see the `audit` module), so its locks are never taken there.
#![allow(unsafe_code)]

use core::ops::{Deref, DerefMut};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{
    Condvar, Mutex, MutexGuard, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard,
};

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

// ----- the fork gate ---------------------------------------------------------------------

/// Threads inside the gate, plus [`CLOSED`] while a fork is being prepared.
static GATE: AtomicUsize = AtomicUsize::new(0);
/// The bit of [`GATE`] that keeps new threads out.
const CLOSED: usize = 1 << (usize::BITS - 1);
/// Held by a forking thread from its prepare handler to its parent or child handler, so two
/// threads forking at once take turns.
static FORKING: Mutex<()> = Mutex::new(());
/// Where threads sleep while the gate is closed, and the forking thread while it drains.
static WAKE: Mutex<()> = Mutex::new(());
static WAKE_CV: Condvar = Condvar::new();

thread_local! {
    /// How many [`Pass`]es this thread holds; only the outermost one counts in [`GATE`].
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// The forking thread's hold on [`FORKING`] and [`WAKE`] across `fork()`.
    static HELD: core::cell::RefCell<Option<ForkHold>> = const { core::cell::RefCell::new(None) };
}

struct ForkHold {
    // Field order is release order: the wake lock first, then the turn.
    wake: std::sync::MutexGuard<'static, ()>,
    _turn: std::sync::MutexGuard<'static, ()>,
}

/// Permission to take Keyplane locks: while any thread holds one, no `fork()` happens.
/// Take it before the lock and drop it after the lock's guard.
#[must_use]
pub(crate) struct Pass {
    _not_send: core::marker::PhantomData<*const ()>,
}

/// Runs `f`, a call into aws-lc that may take one of aws-lc's own locks (its random generator's,
/// an RSA key's blinding and Montgomery caches), inside the fork gate: a fork never leaves such
/// a lock held by a thread the child does not have.
#[inline]
pub(crate) fn guarded<R>(f: impl FnOnce() -> R) -> R {
    let _pass = pass();
    f()
}

/// `aws_lc_rs::rand::fill` inside the fork gate (see [`guarded`]).
#[inline]
pub(crate) fn fill(dest: &mut [u8]) -> Result<(), aws_lc_rs::error::Unspecified> {
    guarded(|| aws_lc_rs::rand::fill(dest))
}

/// Enters the fork gate (waiting while a fork is in progress).
pub(crate) fn pass() -> Pass {
    let depth = DEPTH.get();
    DEPTH.set(depth + 1);
    if depth == 0 {
        enter();
    }
    Pass {
        _not_send: core::marker::PhantomData,
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        let depth = DEPTH.get().saturating_sub(1);
        DEPTH.set(depth);
        if depth == 0 {
            leave();
        }
    }
}

fn enter() {
    loop {
        let state = GATE.load(Ordering::Acquire);
        if state & CLOSED == 0 {
            if GATE
                .compare_exchange_weak(state, state + 1, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return;
            }
            continue;
        }
        let wake = WAKE.lock().unwrap_or_else(PoisonError::into_inner);
        // Re-checked under the lock the opener notifies under, so the wake-up is not missed.
        let _wake = WAKE_CV
            .wait_while(wake, |_| GATE.load(Ordering::Acquire) & CLOSED != 0)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

fn leave() {
    let before = GATE.fetch_sub(1, Ordering::AcqRel);
    if before == CLOSED + 1 {
        // The last thread out of a closing gate: the forking thread is waiting for it.
        let _wake = WAKE.lock().unwrap_or_else(PoisonError::into_inner);
        WAKE_CV.notify_all();
    }
}

/// Before `fork()`: closes the gate and waits until no thread is inside.
fn prepare() {
    if DEPTH.get() != 0 {
        // Forking from inside the gate (only possible from a callback run under a Keyplane
        // lock) would wait for itself: fork unguarded, as without the gate.
        return;
    }
    let turn = FORKING.lock().unwrap_or_else(PoisonError::into_inner);
    GATE.fetch_or(CLOSED, Ordering::AcqRel);
    let wake = WAKE.lock().unwrap_or_else(PoisonError::into_inner);
    let wake = WAKE_CV
        .wait_while(wake, |_| GATE.load(Ordering::Acquire) != CLOSED)
        .unwrap_or_else(PoisonError::into_inner);
    HELD.set(Some(ForkHold { wake, _turn: turn }));
}

/// After `fork()`, in the parent: reopens the gate and wakes the threads waiting at it.
fn parent() {
    if let Some(hold) = HELD.take() {
        GATE.fetch_and(!CLOSED, Ordering::AcqRel);
        WAKE_CV.notify_all();
        drop(hold);
    }
}

/// After `fork()`, in the child: the only thread left is this one, which holds both locks;
/// the gate reopens empty.
fn child() {
    if let Some(hold) = HELD.take() {
        GATE.store(0, Ordering::Release);
        drop(hold.wake);
    }
}

/// Registers the fork handlers, once per process; called when a keyring is made, before any
/// of its locks exists.
pub(crate) fn arm() {
    static ARMED: AtomicBool = AtomicBool::new(false);
    if ARMED.load(Ordering::Acquire) || ARMED.swap(true, Ordering::AcqRel) {
        return;
    }
    // Sets up the generation check now, so no fork can catch it half set up.
    let _ = generation();
    handlers::register();
}

#[cfg(target_os = "linux")]
mod handlers {
    extern "C" fn prepare() {
        // A panic must not unwind into libc.
        let _ = std::panic::catch_unwind(super::prepare);
    }
    extern "C" fn parent() {
        let _ = std::panic::catch_unwind(super::parent);
    }
    extern "C" fn child() {
        let _ = std::panic::catch_unwind(super::child);
    }

    pub(super) fn register() {
        // SAFETY: the three handlers are `extern "C"` functions with no arguments that live
        // for the whole process and never unwind; pthread_atfork only records them.
        let rc = unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
        // Without the handlers (ENOMEM) forks are unguarded, as before; nothing else changes.
        let _ = rc;
    }
}

#[cfg(not(target_os = "linux"))]
mod handlers {
    pub(super) fn register() {}
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

// ----- locks taken inside the gate --------------------------------------------------------

/// A lock guard taken inside the fork gate ([`crate::fork::pass`]): no `fork()` copies the
/// process while it is held, so a child never finds the lock held by a thread it does not have.
pub(crate) struct Gated<G> {
    // Declared first, so released before the pass.
    guard: G,
    _pass: Pass,
}

impl<G: Deref> Deref for Gated<G> {
    type Target = G::Target;
    fn deref(&self) -> &Self::Target {
        &self.guard
    }
}

impl<G: DerefMut> DerefMut for Gated<G> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.guard
    }
}

pub(crate) fn read<T>(lock: &RwLock<T>) -> Gated<RwLockReadGuard<'_, T>> {
    let pass = pass();
    Gated {
        guard: lock.read().unwrap_or_else(PoisonError::into_inner),
        _pass: pass,
    }
}

pub(crate) fn write<T>(lock: &RwLock<T>) -> Gated<RwLockWriteGuard<'_, T>> {
    let pass = pass();
    Gated {
        guard: lock.write().unwrap_or_else(PoisonError::into_inner),
        _pass: pass,
    }
}

pub(crate) fn lock<T>(lock: &Mutex<T>) -> Gated<MutexGuard<'_, T>> {
    let pass = pass();
    Gated {
        guard: lock.lock().unwrap_or_else(PoisonError::into_inner),
        _pass: pass,
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

    /// The handlers' protocol without a fork: `prepare` returns only once no thread holds a
    /// pass (nested passes count once), and no new pass is granted until `parent` reopens.
    #[test]
    fn prepare_waits_for_every_holder_and_parent_reopens() {
        use std::sync::atomic::AtomicUsize;
        use std::sync::mpsc;
        use std::thread;
        use std::time::{Duration, Instant};

        fn until(what: &str, done: impl Fn() -> bool) {
            let start = Instant::now();
            while !done() {
                assert!(start.elapsed() < Duration::from_secs(60), "{what}");
                thread::yield_now();
            }
        }

        static RELEASED: AtomicUsize = AtomicUsize::new(0);
        static LATE_PASSED: AtomicUsize = AtomicUsize::new(0);
        let (held_tx, held_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let holder = thread::spawn(move || {
            let outer = pass();
            let inner = pass();
            held_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            drop(outer); // Out of order on purpose: the gate is left with the last pass only.
            RELEASED.store(1, Ordering::SeqCst);
            drop(inner);
        });
        held_rx.recv().unwrap();
        let forker = thread::spawn(|| {
            prepare();
            // Nobody may be inside now.
            let released = RELEASED.load(Ordering::SeqCst);
            let inside = GATE.load(Ordering::SeqCst) & !CLOSED;
            let late = thread::spawn(|| {
                let _pass = pass();
                LATE_PASSED.store(1, Ordering::SeqCst);
            });
            // Whatever the late thread has done by now, it has not passed the closed gate.
            let late_before_reopen = LATE_PASSED.load(Ordering::SeqCst);
            parent();
            late.join().unwrap();
            (released, inside, late_before_reopen)
        });
        // Let the holder go only once the forker is waiting behind the closed gate.
        until("the gate closes", || {
            GATE.load(Ordering::SeqCst) & CLOSED != 0
        });
        go_tx.send(()).unwrap();
        let (released, inside, late_before_reopen) = forker.join().unwrap();
        holder.join().unwrap();
        assert_eq!(released, 1, "prepare returned while a pass was held");
        assert_eq!(inside, 0);
        assert_eq!(
            late_before_reopen, 0,
            "a pass was granted while the gate was closed"
        );
        assert_eq!(LATE_PASSED.load(Ordering::SeqCst), 1);
        assert_eq!(GATE.load(Ordering::SeqCst) & CLOSED, 0);
    }
}
