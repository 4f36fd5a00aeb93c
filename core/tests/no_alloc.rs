//! `encrypt_into` and `decrypt_into` allocate nothing once warm.
//!
//! This test binary installs a counting global allocator. Counts are kept per thread, so tests
//! running in parallel (and the harness's own threads) do not disturb each other.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use keyplane::{CreateKey, EncryptionContext, Error, KeySpec, Keyring};

/// The system allocator, counting every allocation (and reallocation) made by the current
/// thread.
struct Counting;

thread_local! {
    // `const` initialisation and a `Copy` payload: no lazy initialisation and no destructor to
    // register, so reading or bumping the count never allocates (which would recurse).
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    // During thread teardown the slot may be gone; such allocations are not ours to count.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees carry over; the only addition is bumping a thread-local counter, which neither
// allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract (non-zero-sized `layout`),
        // which is `System::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: the caller guarantees `ptr` came from this allocator, which is `System`, with
        // `layout`, and that `new_size` is valid for it.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` was allocated by this allocator (so by `System`)
        // with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns its result with the number of allocations it made on this thread.
fn allocations_during<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = ALLOCATIONS.with(Cell::get);
    let result = f();
    let after = ALLOCATIONS.with(Cell::get);
    (result, after - before)
}

const ITERATIONS: usize = 1000;
const WARM_UP: usize = 300;

struct Setup {
    ring: Keyring,
    context: EncryptionContext,
}

fn setup() -> Setup {
    let ring = Keyring::new();
    ring.create_key(
        &CreateKey::new(KeySpec::SymmetricDefault)
            .key_id("no-alloc-key")
            .alias("alias/no-alloc"),
    )
    .unwrap();
    let context = EncryptionContext::new([("tenant", "acme"), ("table", "orders")]).unwrap();
    Setup { ring, context }
}

#[test]
fn the_counter_sees_allocations() {
    let ((), n) = allocations_during(|| {
        let v: Vec<u8> = black_box(Vec::with_capacity(64));
        drop(black_box(v));
    });
    assert_eq!(n, 1, "one Vec, one allocation");
    let ((), n) = allocations_during(|| {
        let mut v: Vec<u64> = black_box(Vec::with_capacity(1));
        for i in 0..100 {
            v.push(black_box(i));
        }
        drop(black_box(v));
    });
    assert!(n >= 2, "growing a Vec reallocates; counted {n}");
    let ((), n) = allocations_during(|| drop(black_box(String::new())));
    assert_eq!(n, 0, "an empty String does not allocate");
    // The allocating API is seen too: encrypt returns a Vec.
    let s = setup();
    let (blob, n) = allocations_during(|| s.ring.encrypt("no-alloc-key", b"x", &s.context));
    blob.unwrap();
    assert!(n >= 1, "encrypt allocates its output; counted {n}");
}

/// Encrypts and decrypts `ITERATIONS` messages under `key` and returns the allocations made.
fn count_round_trips(s: &Setup, key: &str) -> u64 {
    let plaintext = *b"sixty-four bytes of card data, customer records, and so on.....";
    let needed = s.ring.ciphertext_len(key, plaintext.len()).unwrap();
    let mut blob = vec![0u8; needed];
    let mut opened = vec![0u8; plaintext.len()];

    // Warm-up: thread-locals, the nonce pool (several refills), aws-lc's per-thread state.
    for _ in 0..WARM_UP {
        s.ring
            .encrypt_into(key, &plaintext, &s.context, &mut blob)
            .unwrap();
        s.ring.decrypt_into(&blob, &s.context, &mut opened).unwrap();
    }

    let mut failures = 0usize;
    let mut mismatches = 0usize;
    let ((), n) = allocations_during(|| {
        for i in 0..ITERATIONS {
            let mut message = plaintext;
            let counter = u64::try_from(i).unwrap_or(u64::MAX).to_le_bytes();
            message[..8].copy_from_slice(&counter);
            let sealed = s.ring.encrypt_into(key, &message, &s.context, &mut blob);
            let unsealed = s.ring.decrypt_into(&blob, &s.context, &mut opened);
            if sealed != Ok(needed) || unsealed != Ok(message.len()) {
                failures += 1;
            } else if opened != message {
                mismatches += 1;
            }
        }
    });
    assert_eq!(failures, 0, "operations failed");
    assert_eq!(mismatches, 0, "round trips gave other plaintexts");
    n
}

#[test]
fn encrypt_into_and_decrypt_into_allocate_nothing_by_key_id() {
    let s = setup();
    assert_eq!(count_round_trips(&s, "no-alloc-key"), 0);
}

#[test]
fn encrypt_into_and_decrypt_into_allocate_nothing_by_alias() {
    let s = setup();
    assert_eq!(count_round_trips(&s, "alias/no-alloc"), 0);
}

#[test]
fn failures_allocate_nothing() {
    let s = setup();
    let mut blob = vec![0u8; s.ring.ciphertext_len("no-alloc-key", 16).unwrap()];
    let mut opened = [0u8; 16];
    for _ in 0..WARM_UP {
        s.ring
            .encrypt_into("no-alloc-key", &[7; 16], &s.context, &mut blob)
            .unwrap();
        s.ring.decrypt_into(&blob, &s.context, &mut opened).unwrap();
    }
    let mut tampered = blob.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;

    let (results, n) = allocations_during(|| {
        let mut wrong = 0usize;
        for _ in 0..ITERATIONS {
            wrong += usize::from(
                s.ring.decrypt_into(&tampered, &s.context, &mut opened)
                    != Err(Error::InvalidCiphertext),
            );
            wrong += usize::from(
                s.ring
                    .decrypt_into(&blob, EncryptionContext::empty(), &mut opened)
                    != Err(Error::InvalidCiphertext),
            );
            wrong += usize::from(!matches!(
                s.ring.decrypt_into(&blob, &s.context, &mut opened[..15]),
                Err(Error::BufferTooSmall { needed: 16 })
            ));
            wrong += usize::from(!matches!(
                s.ring
                    .encrypt_into("no-alloc-key", &[7; 16], &s.context, &mut blob[..10]),
                Err(Error::BufferTooSmall { .. })
            ));
            wrong += usize::from(
                s.ring
                    .encrypt_into("alias/missing", &[7; 16], &s.context, &mut blob)
                    != Err(Error::NotFound),
            );
        }
        wrong
    });
    assert_eq!(results, 0, "unexpected results");
    assert_eq!(n, 0);
}
