//! The Rust core's own figures for the C benchmark (`bench/bench.c`): the same operations, the
//! same loop (a warm-up, then rounds of a fixed number of calls timed with the monotonic clock,
//! the median round reported), called on `keyplane_core::Keyring` directly instead of through the C
//! ABI. Prints `name<TAB>nanoseconds per call` lines in the C benchmark's format.
//!
//! `cargo run --release -p keyplane-ffi --example rust_baseline [-- --quick]`

use std::hint::black_box;
use std::time::Instant;

use keyplane_core::{
    CreateKey, EncryptRequest, EncryptionContext, KeySpec, Keyring, MessageType, SigningAlgorithm,
};

const ROUNDS: usize = 7;
const BATCH: usize = 1024;

/// Median over `ROUNDS` rounds of `iters` calls of `f`, in nanoseconds per call (per item for
/// batches, when `items` > 1).
fn measure(iters: u32, items: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..iters.div_ceil(4) {
        f();
    }
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            start.elapsed().as_secs_f64() * 1e9 / f64::from(iters) / f64::from(items)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

fn main() -> Result<(), keyplane_core::Error> {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 10 } else { 1 };
    let ring = Keyring::new();
    let key = ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("bench-aes"))?;
    let signer = ring.create_key(&CreateKey::new(KeySpec::EccNistP256).key_id("bench-p256"))?;
    let ctx = EncryptionContext::empty();
    let mut out = vec![0u8; 8192];

    for (name, len, iters) in [
        ("encrypt_64", 64usize, 200_000u32),
        ("encrypt_4096", 4096, 50_000),
    ] {
        let plaintext = vec![0x5a; len];
        let ns = measure(iters / scale, 1, || {
            let n = ring.encrypt_into(&key.key_id, black_box(&plaintext), ctx, &mut out);
            black_box(n.ok());
        });
        println!("{name}\t{ns:.1}");
    }

    let message = b"Keyplane C benchmark message";
    let ns = measure(2_000 / scale, 1, || {
        let n = ring.sign_into(
            &signer.key_id,
            black_box(message),
            MessageType::Raw,
            SigningAlgorithm::EcdsaSha256,
            &mut out,
        );
        black_box(n.ok());
    });
    println!("sign_p256\t{ns:.1}");

    let plaintext = [0x5a; 64];
    let requests: Vec<EncryptRequest<'_>> = (0..BATCH)
        .map(|_| EncryptRequest {
            key_id: &key.key_id,
            plaintext: &plaintext,
            context: ctx,
        })
        .collect();
    let items = u32::try_from(BATCH).unwrap_or(u32::MAX);
    let ns = measure(200 / scale, items, || {
        black_box(ring.encrypt_many(black_box(&requests)).ok());
    });
    println!("encrypt_many_64\t{ns:.1}");
    Ok(())
}
