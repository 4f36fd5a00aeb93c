//! `encrypt_into`, `decrypt_into`, `generate_mac_into`, `verify_mac` and ECDSA `verify` allocate
//! nothing once warm; ECDSA `sign_into` allocates only inside aws-lc-rs (see
//! [`ecdsa_sign_into_allocates_only_inside_aws_lc_rs`]).
//!
//! This test binary installs a counting global allocator. Counts are kept per thread, so tests
//! running in parallel (and the harness's own threads) do not disturb each other.
//!
//! The same allocator can watch for a secret: while a thread watches, every block it frees or
//! reallocates is searched for the secret's bytes, so a copy of key material left unwiped in
//! freed memory (a growing buffer's old block, say) is caught where it happens.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fs;
use std::hint::black_box;

use keyplane::mac::MAX_MAC_LEN;
use keyplane::{
    CreateKey, DataKeyPairSpec, EncryptionContext, Error, KeySpec, KeyUsage, Keyring, MacAlgorithm,
    MessageType, PendingWindow, SigningAlgorithm,
};

/// The system allocator, counting every allocation (and reallocation) made by the current
/// thread, and handing out zeroed memory so that every byte of every block is initialised and
/// a watching thread may read a block before it goes (see [`watch`]).
struct Counting;

/// The length of a watched secret.
const SECRET_LEN: usize = 32;

thread_local! {
    // `const` initialisation and a `Copy` payload: no lazy initialisation and no destructor to
    // register, so reading or bumping the count never allocates (which would recurse).
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    /// The secret this thread watches for, if any.
    static WATCHED: Cell<Option<[u8; SECRET_LEN]>> = const { Cell::new(None) };
    /// Blocks freed or reallocated by this thread while watching that held the secret.
    static EXPOSED: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    // During thread teardown the slot may be gone; such allocations are not ours to count.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

/// Counts the block at `ptr` as exposed if this thread watches for a secret that it holds.
///
/// # Safety
/// `ptr` must be a live block of this allocator of at least `len` bytes.
unsafe fn check_block(ptr: *const u8, len: usize) {
    let Ok(Some(secret)) = WATCHED.try_with(Cell::get) else {
        return;
    };
    // SAFETY: the caller guarantees `len` live bytes at `ptr`; every block of this allocator
    // is zeroed when made (and when grown), so every byte is initialised.
    let block = unsafe { core::slice::from_raw_parts(ptr, len) };
    if block.windows(SECRET_LEN).any(|w| w == secret) {
        let _ = EXPOSED.try_with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees carry over; the additions are bumping thread-local counters, zeroing memory the
// caller owns, and reading a block before it is handed back, none of which allocates or
// unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract (non-zero-sized `layout`),
        // which is `System::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: `ptr` is a live block of `layout.size()` bytes (the caller's guarantee).
        unsafe { check_block(ptr, layout.size()) };
        // SAFETY: the caller guarantees `ptr` came from this allocator, which is `System`, with
        // `layout`, and that `new_size` is valid for it.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() && new_size > layout.size() {
            // SAFETY: `new` holds `new_size` bytes; the grown tail is zeroed like a new block.
            unsafe {
                new.add(layout.size())
                    .write_bytes(0, new_size - layout.size())
            };
        }
        new
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` is a live block of `layout.size()` bytes (the caller's guarantee).
        unsafe { check_block(ptr, layout.size()) };
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
fn audited_encrypt_into_and_decrypt_into_allocate_nothing_on_the_calling_thread() {
    // The writer thread formats and allocates; the calling thread only pushes a record.
    let sink = keyplane::audit::MemorySink::new();
    let ring = Keyring::builder()
        .audit(keyplane::AuditConfig::new(sink.clone()))
        .unwrap()
        .build()
        .with_caller("no-alloc-test");
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("audited-key"))
        .unwrap();
    let context = EncryptionContext::new([("tenant", "acme")]).unwrap();
    let s = Setup { ring, context };
    assert_eq!(count_round_trips(&s, "audited-key"), 0);
    s.ring.flush_audit().unwrap();
    assert!(sink.events().len() >= 2 * (WARM_UP + ITERATIONS));
}

#[test]
fn a_small_context_is_built_without_allocating() {
    // What the bindings do on every call with a plain dict or object: borrowed pairs in any
    // order, validated, sorted, encoded and hashed.
    let owned = [
        ("tenant".to_owned(), "acme".to_owned()),
        ("table".to_owned(), "orders".to_owned()),
    ];
    let _ = EncryptionContext::new([("warm", "up")]).unwrap();
    let (built, n) = allocations_during(|| {
        let a = EncryptionContext::new([("tenant", "acme"), ("table", "orders")]).unwrap();
        let b = EncryptionContext::new(owned.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        (a, b.unwrap())
    });
    assert_eq!(n, 0);
    assert_eq!(built.0, built.1);
    // A context too large to keep inline still works: its encoding is built, then moved into
    // a shared buffer.
    let long = "v".repeat(200);
    let (large, n) = allocations_during(|| EncryptionContext::new([("k", long.as_str())]));
    assert_eq!(large.unwrap().get("k"), Some(long.as_str()));
    assert!((1..=2).contains(&n), "{n} allocations");
}

#[test]
fn encrypting_with_a_fresh_small_context_per_call_allocates_nothing() {
    let s = setup();
    let plaintext = [7u8; 64];
    let mut blob = vec![
        0u8;
        s.ring
            .ciphertext_len("no-alloc-key", plaintext.len())
            .unwrap()
    ];
    let mut opened = [0u8; 64];
    let round = |blob: &mut [u8], opened: &mut [u8]| {
        let ctx = EncryptionContext::new([("tenant", "acme"), ("table", "orders")]).unwrap();
        let n = s
            .ring
            .encrypt_into("no-alloc-key", &plaintext, &ctx, blob)
            .unwrap();
        let ctx = EncryptionContext::new([("table", "orders"), ("tenant", "acme")]).unwrap();
        s.ring.decrypt_into(&blob[..n], &ctx, opened).unwrap()
    };
    for _ in 0..WARM_UP {
        round(&mut blob, &mut opened);
    }
    let ((), n) = allocations_during(|| {
        for _ in 0..ITERATIONS {
            assert_eq!(round(&mut blob, &mut opened), 64);
        }
    });
    assert_eq!(n, 0);
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
    // The shared empty context is built (one allocation) at its first use in the process.
    black_box(EncryptionContext::empty());

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

// ----- HMAC ---------------------------------------------------------------------------------------

fn mac_setup() -> Keyring {
    let ring = Keyring::new();
    ring.create_key(
        &CreateKey::new(KeySpec::Hmac256)
            .key_id("no-alloc-mac")
            .alias("alias/no-alloc-mac"),
    )
    .unwrap();
    ring
}

/// Generates and verifies `ITERATIONS` MACs under `key` (and refuses as many wrong ones) after a
/// warm-up, and returns the allocations made.
fn count_mac_round_trips(ring: &Keyring, key: &str) -> u64 {
    let algorithm = MacAlgorithm::HmacSha256;
    let len = algorithm.mac_len();
    let mut message = *b"sixty-four bytes of request data to authenticate, and so on.....";
    let mut mac = [0u8; MAX_MAC_LEN];

    for _ in 0..WARM_UP {
        ring.generate_mac_into(key, &message, algorithm, &mut mac)
            .unwrap();
        assert_eq!(
            ring.verify_mac(key, &message, algorithm, &mac[..len]),
            Ok(true)
        );
    }

    let mut failures = 0usize;
    let ((), n) = allocations_during(|| {
        for i in 0..ITERATIONS {
            let counter = u64::try_from(i).unwrap_or(u64::MAX).to_le_bytes();
            message[..8].copy_from_slice(&counter);
            let generated = ring.generate_mac_into(key, &message, algorithm, &mut mac);
            let verified = ring.verify_mac(key, &message, algorithm, &mac[..len]);
            mac[len - 1] ^= 1;
            let refused = ring.verify_mac(key, &message, algorithm, &mac[..len]);
            if generated != Ok(len) || verified != Ok(true) || refused != Ok(false) {
                failures += 1;
            }
        }
    });
    assert_eq!(failures, 0, "MAC operations gave unexpected results");
    n
}

#[test]
fn generate_mac_into_and_verify_mac_allocate_nothing_by_key_id() {
    let ring = mac_setup();
    assert_eq!(count_mac_round_trips(&ring, "no-alloc-mac"), 0);
}

#[test]
fn generate_mac_into_and_verify_mac_allocate_nothing_by_alias() {
    let ring = mac_setup();
    assert_eq!(count_mac_round_trips(&ring, "alias/no-alloc-mac"), 0);
}

// ----- ECDSA --------------------------------------------------------------------------------------

/// The longest DER encoding of a P-256 ECDSA signature, and what aws-lc sizes its output for.
const P256_MAX_DER: usize = 72;

fn ecdsa_setup() -> Keyring {
    let ring = Keyring::new();
    ring.create_key(&CreateKey::new(KeySpec::EccNistP256).key_id("no-alloc-ecdsa"))
        .unwrap();
    ring
}

/// `sign_into` cannot reach zero allocations through aws-lc-rs's public API: in aws-lc-rs 1.19,
/// `EcdsaKeyPair::sign` goes through `evp_pkey.rs`'s `sign`, which writes the DER signature into
/// `vec![0u8; sig_len]` (`sig_len` being the 72-byte maximum aws-lc reports), truncates it to
/// the actual length and returns `into_boxed_slice()`, which shrinks the buffer. So each call
/// makes one allocation, plus one reallocation whenever the DER is shorter than 72 bytes. (Only
/// when r and s both have their top bit set, and so a leading zero byte each, is it 72 bytes
/// long: about one call in four.) That is exactly what this test observes. Keyplane itself adds
/// nothing, so the count must never exceed that; a regression in Keyplane's own code (a `Vec`
/// for the output, a formatted error, a look-up that allocates) would.
#[test]
fn ecdsa_sign_into_allocates_only_inside_aws_lc_rs() {
    let ring = ecdsa_setup();
    let key = "no-alloc-ecdsa";
    let algorithm = SigningAlgorithm::EcdsaSha256;
    let mut message = *b"sixty-four bytes of a document to sign, with a counter in front..";
    let mut sig = [0u8; P256_MAX_DER];
    assert_eq!(ring.max_signature_len(key), Ok(P256_MAX_DER));
    for _ in 0..WARM_UP {
        ring.sign_into(key, &message, MessageType::Raw, algorithm, &mut sig)
            .unwrap();
    }

    // Signatures by length, to know how many calls shrank aws-lc-rs's buffer.
    let mut lengths = [0u64; P256_MAX_DER + 1];
    let mut failures = 0usize;
    let ((), n) = allocations_during(|| {
        for i in 0..ITERATIONS {
            let counter = u64::try_from(i).unwrap_or(u64::MAX).to_le_bytes();
            message[..8].copy_from_slice(&counter);
            match ring.sign_into(key, &message, MessageType::Raw, algorithm, &mut sig) {
                Ok(len) if len <= P256_MAX_DER => lengths[len] += 1,
                _ => failures += 1,
            }
        }
    });
    assert_eq!(failures, 0, "sign_into failed");
    let calls = u64::try_from(ITERATIONS).unwrap();
    let shrunk: u64 = lengths[..P256_MAX_DER].iter().sum();
    let inside_aws_lc_rs = calls + shrunk;
    println!(
        "ECDSA P-256 sign_into: {n} allocations in {calls} calls ({shrunk} signatures shorter \
         than {P256_MAX_DER} bytes); aws-lc-rs's own: {inside_aws_lc_rs}"
    );
    assert!(
        n <= inside_aws_lc_rs,
        "sign_into made {n} allocations in {calls} calls; aws-lc-rs accounts for \
         {inside_aws_lc_rs} (1 per call + 1 per shortened signature), so Keyplane added {}",
        n - inside_aws_lc_rs
    );
    // The last signature is a real one.
    let len = ring
        .sign_into(key, b"m", MessageType::Raw, algorithm, &mut sig)
        .unwrap();
    assert_eq!(
        ring.verify(key, b"m", MessageType::Raw, algorithm, &sig[..len]),
        Ok(true)
    );
}

#[test]
fn ecdsa_verify_allocates_nothing() {
    let ring = ecdsa_setup();
    let key = "no-alloc-ecdsa";
    let algorithm = SigningAlgorithm::EcdsaSha256;
    let sig = ring
        .sign(key, b"signed", MessageType::Raw, algorithm)
        .unwrap();
    let mut tampered = sig.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    for _ in 0..WARM_UP {
        assert_eq!(
            ring.verify(key, b"signed", MessageType::Raw, algorithm, &sig),
            Ok(true)
        );
    }
    let (wrong, n) = allocations_during(|| {
        let mut wrong = 0usize;
        for _ in 0..ITERATIONS {
            wrong += usize::from(
                ring.verify(key, b"signed", MessageType::Raw, algorithm, &sig) != Ok(true),
            );
            wrong += usize::from(
                ring.verify(key, b"signed", MessageType::Raw, algorithm, &tampered) != Ok(false),
            );
        }
        wrong
    });
    assert_eq!(wrong, 0, "unexpected verification results");
    assert_eq!(n, 0);
}

// ----- data key pairs -----------------------------------------------------------------------------

/// `generate_data_key_pair` checks its wrapping key before generating anything: a refused call
/// allocates nothing at all, where generating would (the PKCS#8 is copied into a `Vec`), even
/// for RSA-4096.
#[test]
fn refused_data_key_pairs_generate_nothing() {
    let ring = Keyring::new();
    let context = EncryptionContext::empty();
    for (id, spec) in [
        ("ecdsa", KeySpec::EccNistP256),
        ("hmac", KeySpec::Hmac256),
        ("disabled", KeySpec::SymmetricDefault),
        ("pending", KeySpec::SymmetricDefault),
        ("wrapping", KeySpec::SymmetricDefault),
    ] {
        ring.create_key(&CreateKey::new(spec).key_id(id)).unwrap();
    }
    ring.disable_key("disabled").unwrap();
    ring.schedule_key_deletion("pending", PendingWindow::days(7).unwrap())
        .unwrap();
    let refusals = [
        ("ecdsa", Error::InvalidKeyUsage),
        ("hmac", Error::InvalidKeyUsage),
        ("disabled", Error::KeyDisabled),
        ("pending", Error::InvalidKeyState),
    ];
    // Warm the look-ups (and anything else lazily initialised) first.
    for (id, _) in refusals {
        let _ = ring.generate_data_key_pair(id, DataKeyPairSpec::EccNistP256, context);
    }
    let (wrong, n) = allocations_during(|| {
        let mut wrong = 0usize;
        for (id, error) in refusals {
            for &spec in DataKeyPairSpec::ALL {
                let result = ring.generate_data_key_pair(id, spec, context);
                wrong += usize::from(result.map(drop) != Err(error));
            }
        }
        wrong
    });
    assert_eq!(wrong, 0, "unexpected results");
    assert_eq!(n, 0, "a refused generate_data_key_pair allocated");

    // The control: an accepted call is seen allocating.
    let (pair, n) = allocations_during(|| {
        ring.generate_data_key_pair("wrapping", DataKeyPairSpec::EccNistP256, context)
    });
    pair.unwrap();
    assert!(n >= 1, "generating a key pair allocates; counted {n}");
}

/// Runs `f` while this thread watches for `secret`, and returns how many blocks it freed or
/// reallocated that still held it.
fn exposures_during(secret: [u8; SECRET_LEN], f: impl FnOnce()) -> u64 {
    WATCHED.with(|w| w.set(Some(secret)));
    let before = EXPOSED.with(Cell::get);
    f();
    WATCHED.with(|w| w.set(None));
    EXPOSED.with(Cell::get) - before
}

#[test]
fn the_watch_sees_a_secret_left_in_freed_memory() {
    let secret = [0x5a; SECRET_LEN];
    let n = exposures_during(secret, || {
        let mut v = black_box(Vec::with_capacity(SECRET_LEN));
        v.extend_from_slice(&secret);
        v.push(1); // grows: the old block, secret inside, goes back unwiped
        drop(black_box(zeroize::Zeroizing::new(v)));
    });
    assert_eq!(n, 1, "the reallocated block");
    let n = exposures_during(secret, || {
        let mut v = zeroize::Zeroizing::new(Vec::with_capacity(SECRET_LEN + 1));
        v.extend_from_slice(&secret);
        v.push(1);
        drop(black_box(v));
    });
    assert_eq!(n, 0, "wiped before it is freed");
}

#[test]
fn sealing_a_key_leaves_no_copy_of_its_material_in_freed_memory() {
    // Key material is copied into the record's payload before it is encrypted; that buffer
    // must be sized exactly, so it never grows (leaving its old block unwiped), whatever the
    // key's aliases add before the material and the fingerprint and expiry after it. Every
    // alias length is tried, so any estimate that falls short shows for some of them.
    let material = [0xc3; SECRET_LEN];
    let root = keyplane::LocalRootKey::new("watch", &[1; 32]).unwrap();
    let mut exposed = Vec::new();
    let mut records = Vec::new();
    for len in 7..=255 {
        let ring = Keyring::new();
        ring.insecure_import_key_material(
            "watched",
            KeySpec::SymmetricDefault,
            KeyUsage::EncryptDecrypt,
            &material,
        )
        .unwrap();
        let alias = format!("alias/{}", "a".repeat(len - "alias/".len()));
        ring.create_alias(&alias, "watched").unwrap();
        let n = exposures_during(material, || {
            records.push(ring.export_sealed("watched", &root).unwrap());
        });
        if n != 0 {
            exposed.push(len);
        }
    }
    assert!(
        exposed.is_empty(),
        "export with aliases of length {exposed:?}"
    );

    // Every write of a store-backed keyring seals the same way.
    let dir = std::env::temp_dir().join(format!("keyplane-no-alloc-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let root: std::sync::Arc<dyn keyplane::RootKey> = std::sync::Arc::new(root);
    for (record, len) in records.iter().zip(7..) {
        let (stored, _) = Keyring::builder()
            .open(keyplane::Store::open(&dir).unwrap(), root.clone())
            .unwrap();
        let n = exposures_during(material, || {
            stored.import_sealed(record, &*root).unwrap();
            stored.disable_key("watched").unwrap();
        });
        if n != 0 {
            exposed.push(len);
        }
        drop(stored);
        fs::remove_dir_all(&dir).unwrap();
    }
    assert!(
        exposed.is_empty(),
        "store writes with aliases of length {exposed:?}"
    );
}

#[test]
fn wrapping_a_record_key_leaves_no_copy_of_it_in_freed_memory() {
    use keyplane::RootKey;
    let record_key = [0x77; SECRET_LEN];
    let root = keyplane::LocalRootKey::new("watch", &[2; 32]).unwrap();
    let mut wrapped = Vec::new();
    let n = exposures_during(record_key, || {
        wrapped = root.wrap(&record_key, b"aad").unwrap();
    });
    assert_eq!(n, 0);
    let n = exposures_during(record_key, || {
        drop(black_box(root.unwrap(&wrapped, b"aad").unwrap()));
    });
    assert_eq!(n, 0);
}
