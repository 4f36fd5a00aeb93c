//! Concurrency: workers encrypt and decrypt under three keys while an administrator rotates,
//! disables and re-enables them. Every bound is an iteration count, never a duration.

use std::num::NonZeroU64;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use keyplane::envelope;
use keyplane::{CreateKey, DataKeySpec, EncryptionContext, Error, KeySpec, Keyring, PendingWindow};

const KEYS: [&str; 3] = ["stress-a", "stress-b", "stress-c"];
const ALIASES: [&str; 3] = ["alias/stress-a", "alias/stress-b", "alias/stress-c"];
const WORKERS: u64 = 4;
const ITERATIONS: usize = 1500;
const ADMIN_ROUNDS: usize = 200;
/// Small, so that budget rotations race with the administrator's rotations.
const BUDGET: u64 = 64;
const MAX_LEN: u64 = 2048;

/// SplitMix64: a tiny deterministic generator, one per thread.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> usize {
        usize::try_from(self.next() % n).expect("small bound fits usize")
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

/// What one worker did, for the checks after every thread has joined.
#[derive(Default)]
struct Tally {
    /// Successful encryptions per key (by `KEYS` index): each spent exactly one nonce.
    encryptions: [u64; 3],
    decryptions: u64,
    disabled: u64,
    /// A sample of blobs, to decrypt again once the keys are quiet.
    kept: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Unwraps an operation's result, allowing only `KeyDisabled` as an error.
#[track_caller]
fn allow_disabled<T>(result: keyplane::Result<T>, tally: &mut Tally, what: &str) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(Error::KeyDisabled) => {
            tally.disabled += 1;
            None
        }
        Err(e) => panic!("{what}: unexpected error {e:?}"),
    }
}

#[track_caller]
fn check_decrypted(
    ring: &Keyring,
    blob: &[u8],
    context: &EncryptionContext,
    plaintext: &[u8],
    tally: &mut Tally,
) {
    if let Some(opened) = allow_disabled(ring.decrypt(blob, context), tally, "decrypt") {
        assert!(
            opened.as_slice() == plaintext,
            "decrypt returned other bytes"
        );
        tally.decryptions += 1;
    }
}

fn worker(ring: &Keyring, seed: u64) -> Tally {
    let mut rng = Rng(seed);
    let mut tally = Tally::default();
    let context = EncryptionContext::new([("worker", seed.to_string())]).unwrap();
    for i in 0..ITERATIONS {
        let k = rng.below(3);
        let name = if rng.below(2) == 0 {
            KEYS[k]
        } else {
            ALIASES[k]
        };
        let len = rng.below(MAX_LEN + 1);
        let plaintext = rng.bytes(len);
        match rng.below(4) {
            0 | 1 => {
                let Some(blob) = allow_disabled(
                    ring.encrypt(name, &plaintext, &context),
                    &mut tally,
                    "encrypt",
                ) else {
                    continue;
                };
                tally.encryptions[k] += 1;
                assert_eq!(envelope::inspect(&blob).unwrap().key_id, KEYS[k]);
                check_decrypted(ring, &blob, &context, &plaintext, &mut tally);
                if i % 16 == 0 {
                    tally.kept.push((blob, plaintext));
                }
            }
            2 => {
                let mut blob = vec![0; ring.ciphertext_len(name, len).unwrap()];
                let sealed = ring.encrypt_into(name, &plaintext, &context, &mut blob);
                let Some(n) = allow_disabled(sealed, &mut tally, "encrypt_into") else {
                    continue;
                };
                assert_eq!(n, blob.len());
                tally.encryptions[k] += 1;
                let mut out = vec![0xAA; len];
                let opened = ring.decrypt_into(&blob, &context, &mut out);
                match allow_disabled(opened, &mut tally, "decrypt_into") {
                    Some(n) => {
                        assert_eq!(n, len);
                        assert!(out == plaintext, "decrypt_into returned other bytes");
                        tally.decryptions += 1;
                    }
                    None => assert!(out.iter().all(|&b| b == 0), "failed output not zeroed"),
                }
            }
            _ => {
                // A data key under one key, re-encrypted under another.
                let generated = ring.generate_data_key(
                    name,
                    DataKeySpec::NumberOfBytes(len.clamp(1, 1024)),
                    &context,
                );
                let Some(data_key) = allow_disabled(generated, &mut tally, "generate_data_key")
                else {
                    continue;
                };
                tally.encryptions[k] += 1;
                let to = (k + 1 + rng.below(2)) % 3;
                let moved =
                    ring.re_encrypt(data_key.ciphertext_blob(), &context, KEYS[to], &context);
                if let Some(moved) = allow_disabled(moved, &mut tally, "re_encrypt") {
                    tally.encryptions[to] += 1;
                    assert_eq!(envelope::inspect(&moved).unwrap().key_id, KEYS[to]);
                    check_decrypted(ring, &moved, &context, data_key.plaintext(), &mut tally);
                }
            }
        }
    }
    tally
}

/// Rotates, disables and re-enables every key; returns the successful rotations per key.
fn administrator(ring: &Keyring) -> [u32; 3] {
    let mut rotations = [0; 3];
    for round in 0..ADMIN_ROUNDS {
        for (k, key) in KEYS.iter().enumerate() {
            match ring.rotate_key(key) {
                Ok(_) => rotations[k] += 1,
                Err(Error::KeyDisabled) => {}
                Err(e) => panic!("rotate_key: unexpected error {e:?}"),
            }
            ring.disable_key(ALIASES[k]).unwrap();
            if round % 4 == 0 {
                thread::yield_now();
            }
            ring.enable_key(key).unwrap();
        }
    }
    rotations
}

#[test]
fn concurrent_use_rotation_and_disabling() {
    let ring = Keyring::builder()
        .encryption_budget(NonZeroU64::new(BUDGET).unwrap())
        .build();
    for (key, alias) in KEYS.iter().zip(ALIASES) {
        ring.create_key(
            &CreateKey::new(KeySpec::SymmetricDefault)
                .key_id(*key)
                .alias(alias),
        )
        .unwrap();
    }

    let (tallies, rotations) = thread::scope(|s| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|seed| {
                let ring = &ring;
                s.spawn(move || worker(ring, seed))
            })
            .collect();
        let admin = s.spawn(|| administrator(&ring));
        let tallies: Vec<Tally> = workers
            .into_iter()
            .map(|w| w.join().expect("worker panicked"))
            .collect();
        (tallies, admin.join().expect("administrator panicked"))
    });

    let decryptions: u64 = tallies.iter().map(|t| t.decryptions).sum();
    let disabled: u64 = tallies.iter().map(|t| t.disabled).sum();
    assert!(decryptions > 0, "nothing succeeded ({disabled} disabled)");

    // Every successful encryption spent exactly one nonce of exactly one version, and no version
    // went over its budget.
    for (k, key) in KEYS.iter().enumerate() {
        let meta = ring.describe_key(key).unwrap();
        let numbers: Vec<u32> = meta.versions.iter().map(|v| v.version).collect();
        let want: Vec<u32> = (1..=meta.current_version).collect();
        assert_eq!(numbers, want, "{key}: versions are 1..=current");
        assert!(
            meta.current_version > rotations[k],
            "{key}: {} versions after {} rotations",
            meta.current_version,
            rotations[k]
        );
        for v in &meta.versions {
            assert!(
                v.encryptions <= BUDGET,
                "{key} v{}: {}",
                v.version,
                v.encryptions
            );
        }
        let spent: u64 = meta.versions.iter().map(|v| v.encryptions).sum();
        let succeeded: u64 = tallies.iter().map(|t| t.encryptions[k]).sum();
        assert_eq!(spent, succeeded, "{key}: nonces spent vs encryptions");
    }

    // Quiet now: every kept blob, of whichever version, still decrypts.
    for (seed, tally) in (0..WORKERS).zip(&tallies) {
        let context = EncryptionContext::new([("worker", seed.to_string())]).unwrap();
        for (blob, plaintext) in &tally.kept {
            assert!(ring.decrypt(blob, &context).unwrap().as_slice() == plaintext.as_slice());
        }
    }
}

#[test]
fn concurrent_encryptions_never_repeat_a_nonce() {
    // Many threads share one key version; with a budget large enough that nothing rotates,
    // every blob must carry a distinct nonce.
    const THREADS: usize = 8;
    const PER_THREAD: usize = 2000;
    let ring = Keyring::new();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("nonces"))
        .unwrap();
    let nonce_at = envelope::header_len("nonces".len()) - 12;
    let nonces: Vec<[u8; 12]> = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    (0..PER_THREAD)
                        .map(|_| {
                            let blob = ring.encrypt("nonces", b"", EncryptionContext::empty());
                            let blob = blob.unwrap();
                            blob[nonce_at..nonce_at + 12].try_into().unwrap()
                        })
                        .collect::<Vec<[u8; 12]>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let distinct: std::collections::HashSet<_> = nonces.iter().collect();
    assert_eq!(distinct.len(), THREADS * PER_THREAD);
    let meta = ring.describe_key("nonces").unwrap();
    assert_eq!(meta.current_version, 1);
    assert_eq!(
        meta.versions[0].encryptions,
        u64::try_from(THREADS * PER_THREAD).unwrap()
    );
}

// ----- regressions: races ---------------------------------------------------

#[test]
fn encrypt_never_reports_buffer_too_small_while_an_alias_moves() {
    let ring = Keyring::new();
    let long = "l".repeat(200);
    ring.create_key(
        &CreateKey::new(KeySpec::SymmetricDefault)
            .key_id("s")
            .alias("alias/moving"),
    )
    .unwrap();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(&*long))
        .unwrap();
    let stop = AtomicBool::new(false);
    let mut too_small = 0u32;
    thread::scope(|s| {
        s.spawn(|| {
            let mut to_long = true;
            while !stop.load(Ordering::Relaxed) {
                let target = if to_long { long.as_str() } else { "s" };
                ring.update_alias("alias/moving", target).unwrap();
                to_long = !to_long;
            }
        });
        for _ in 0..20_000 {
            match ring.encrypt("alias/moving", b"hello", EncryptionContext::empty()) {
                Ok(_) => {}
                Err(Error::BufferTooSmall { .. }) => {
                    too_small += 1;
                    break;
                }
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert_eq!(
        too_small, 0,
        "encrypt returned BufferTooSmall, which it documents it never does"
    );
}

#[test]
fn purging_a_deleted_key_never_removes_a_new_key_with_its_id() {
    let ring = Keyring::new();
    let stop = AtomicBool::new(false);
    let mut vanished = 0u32;
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let _ = ring.describe_key("k");
                }
            });
        }
        for _ in 0..2_000 {
            loop {
                match ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("k")) {
                    Ok(_) => break,
                    // The previous incarnation is due but not purged yet: look it up.
                    Err(Error::AlreadyExists) => {
                        let _ = ring.describe_key("k");
                    }
                    Err(e) => panic!("unexpected {e:?}"),
                }
            }
            // Give a lagging purge of the previous incarnation time to run. Nobody deletes the
            // key just created, so it must still be found.
            thread::yield_now();
            match ring.schedule_key_deletion("k", PendingWindow::custom(Duration::ZERO)) {
                Ok(_) => {}
                Err(Error::NotFound) => {
                    vanished += 1;
                    break;
                }
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert_eq!(vanished, 0, "a freshly created, enabled key vanished");
}
