//! Symmetric encrypt/decrypt throughput: Keyplane's `encrypt_into` / `decrypt_into` against the
//! raw aws-lc-rs AES-256-GCM floor, at 64 B to 1 MiB.
//!
//! The floor is the route Keyplane's own build takes: `LessSafeKey` seal and open with a nonce
//! the caller chose in the ordinary build; in a FIPS build (`--no-default-features --features
//! fips`) sealing is `RandomizedNonceKey`'s, which draws the nonce inside the module (the only
//! AES-GCM sealing the module approves, and the one Keyplane uses there), and opening is
//! `LessSafeKey`'s as before. The AAD is as long as the one Keyplane authenticates.
//!
//! Run with `cargo bench -p keyplane-benches --bench symmetric`. After the criterion groups the
//! bench reads each benchmark's mean back from criterion's `estimates.json` files and prints a
//! Markdown table with the ratio raw time / Keyplane time (1.00 = as fast as raw aws-lc-rs).
//! Estimates that this run did not write (`--test`, a filter, `--discard-baseline`) are left out.
//!
//! The ratio columns come from a separate *paired* pass: Keyplane and raw aws-lc-rs run in
//! alternating rounds of about a millisecond each (A B B A …), and the ratio is the median of the
//! per-round ratios. Criterion measures each benchmark for seconds one after the other, so on a
//! shared machine whose speed drifts, the ratio of two criterion means says more about the
//! drift than about Keyplane; the paired ratio cancels it.
//!
//! With `KEYPLANE_BENCH_ROWS=<file>` the rows are also written to that file, for
//! `benches/fips-table`, which sets a FIPS build's table beside a non-FIPS build's.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

#[cfg(feature = "fips")]
use aws_lc_rs::aead::RandomizedNonceKey;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, Tag, UnboundKey};
use aws_lc_rs::rand;
use criterion::{BenchmarkId, Criterion, Throughput};
use keyplane::{CreateKey, EncryptionContext, KeySpec, Keyring};
use keyplane_benches::{
    Pairing, Row, Rows, criterion_dir, format_time, mean_ns, paired_median, quick_mode,
};

/// The command that reproduces the table (a FIPS build has a target directory of its own).
const COMMAND: &str = if keyplane::fips::FIPS_BUILD {
    "CARGO_TARGET_DIR=target/fips cargo bench -p keyplane-benches --no-default-features \
     --features fips --bench symmetric"
} else {
    "cargo bench -p keyplane-benches --bench symmetric"
};

const ENCRYPT_GROUP: &str = "symmetric_encrypt";
const DECRYPT_GROUP: &str = "symmetric_decrypt";
const KEYPLANE: &str = "keyplane";
const RAW: &str = "aws-lc-rs";

/// Plaintext sizes, with the label criterion uses as the benchmark parameter.
const SIZES: [(u32, &str); 5] = [
    (64, "64B"),
    (1 << 10, "1KiB"),
    (4 << 10, "4KiB"),
    (64 << 10, "64KiB"),
    (1 << 20, "1MiB"),
];

/// Length of a context digest in Keyplane's AAD (header ‖ SHA-256 of the context).
const CONTEXT_DIGEST_LEN: usize = 32;

fn len(size: u32) -> usize {
    usize::try_from(size).expect("benchmark sizes fit in usize")
}

fn plaintext(size: u32) -> Vec<u8> {
    (0..len(size)).map(|i| i.to_le_bytes()[0]).collect()
}

/// A keyring with one `SYMMETRIC_DEFAULT` key, its id and the context every operation uses.
struct Fixture {
    ring: Keyring,
    key_id: String,
    context: EncryptionContext,
}

impl Fixture {
    fn new() -> Self {
        let ring = Keyring::new();
        let key_id = ring
            .create_key(&CreateKey::new(KeySpec::SymmetricDefault))
            .expect("create key")
            .key_id;
        let context = EncryptionContext::new([("tenant", "acme"), ("purpose", "bench")])
            .expect("encryption context");
        Self {
            ring,
            key_id,
            context,
        }
    }

    /// The length of the AAD Keyplane authenticates for this key: the header (without the
    /// nonce in format `0x02`, whose nonce the module draws after the AAD is fixed) plus the
    /// context digest. Read from a blob, so it follows whichever format this build writes.
    fn aad_len(&self) -> usize {
        let blob = self
            .ring
            .encrypt(&self.key_id, b"", &self.context)
            .expect("encrypt");
        let format = keyplane::envelope::inspect(&blob)
            .expect("inspect")
            .format_version;
        let header = keyplane::envelope::header_len(self.key_id.len());
        let header = match format {
            keyplane::envelope::FORMAT_V1 => header,
            keyplane::envelope::FORMAT_V2 => header - NONCE_LEN,
            other => panic!("blob format {other:#04x} unknown to this bench"),
        };
        header + CONTEXT_DIGEST_LEN
    }
}

/// The raw aws-lc-rs floor: an AES-256-GCM key and an AAD as long as Keyplane's. Opening uses
/// a fixed nonce; sealing too, except in a FIPS build (see [`Raw::seal`]).
struct Raw {
    key: LessSafeKey,
    /// The same key behind the module's own nonce generator.
    #[cfg(feature = "fips")]
    randomized: RandomizedNonceKey,
    aad: Vec<u8>,
}

/// What the table says the raw seal is in this build.
const RAW_SEAL: &str = if keyplane::fips::FIPS_BUILD {
    "raw seal: `RandomizedNonceKey::seal_in_place_separate_tag` (the nonce drawn inside the \
     module, the approved route Keyplane's FIPS build takes); raw open: `LessSafeKey`"
} else {
    "raw seal and open: `LessSafeKey` with a fixed nonce"
};

impl Raw {
    fn new(aad_len: usize) -> Self {
        let mut key = [0u8; 32];
        rand::fill(&mut key).expect("random key");
        let aad = (0..aad_len).map(|i| i.to_le_bytes()[0] ^ 0x5a).collect();
        Self {
            #[cfg(feature = "fips")]
            randomized: RandomizedNonceKey::new(&AES_256_GCM, &key).expect("AES-256 key"),
            key: LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).expect("AES-256 key")),
            aad,
        }
    }

    fn nonce() -> Nonce {
        // Fixed on purpose: only the cost is measured, nothing sealed here is kept.
        Nonce::assume_unique_for_key([7u8; NONCE_LEN])
    }

    /// The encryption floor in a FIPS build: `RandomizedNonceKey`, the module's approved AES-GCM
    /// sealing, whose nonce comes from the module's DRBG on every call.
    #[cfg(feature = "fips")]
    fn seal(&self, in_out: &mut [u8]) -> Tag {
        let aad = Aad::from(black_box(self.aad.as_slice()));
        let (_nonce, tag) = self
            .randomized
            .seal_in_place_separate_tag(aad, in_out)
            .expect("seal");
        tag
    }

    /// The encryption floor in the ordinary build: `LessSafeKey` with a fixed nonce (Keyplane
    /// draws its nonces from a per-thread pool).
    #[cfg(not(feature = "fips"))]
    fn seal(&self, in_out: &mut [u8]) -> Tag {
        let aad = Aad::from(black_box(self.aad.as_slice()));
        self.key
            .seal_in_place_separate_tag(Self::nonce(), aad, in_out)
            .expect("seal")
    }
}

fn bench_encrypt(c: &mut Criterion, fx: &Fixture, raw: &Raw) {
    let mut group = c.benchmark_group(ENCRYPT_GROUP);
    for (size, label) in SIZES {
        group.throughput(Throughput::Bytes(u64::from(size)));
        let pt = plaintext(size);

        let mut out = vec![
            0u8;
            fx.ring
                .ciphertext_len(&fx.key_id, pt.len())
                .expect("ciphertext length")
        ];
        group.bench_with_input(BenchmarkId::new(KEYPLANE, label), &pt, |b, pt| {
            b.iter(|| {
                fx.ring
                    .encrypt_into(
                        black_box(&fx.key_id),
                        black_box(pt),
                        black_box(&fx.context),
                        black_box(&mut out),
                    )
                    .expect("encrypt_into")
            });
        });

        let mut in_out = pt.clone();
        group.bench_with_input(BenchmarkId::new(RAW, label), &pt, |b, _| {
            b.iter(|| raw.seal(black_box(in_out.as_mut_slice())));
        });
    }
    group.finish();
}

fn bench_decrypt(c: &mut Criterion, fx: &Fixture, raw: &Raw) {
    let mut group = c.benchmark_group(DECRYPT_GROUP);
    for (size, label) in SIZES {
        group.throughput(Throughput::Bytes(u64::from(size)));
        let pt = plaintext(size);

        let blob = fx
            .ring
            .encrypt(&fx.key_id, &pt, &fx.context)
            .expect("encrypt");
        let mut out = vec![0u8; fx.ring.plaintext_len(&blob).expect("plaintext length")];
        // Checked up front: a filter or `--list` may skip the benchmark itself.
        fx.ring
            .decrypt_into(&blob, &fx.context, &mut out)
            .expect("decrypt_into");
        assert_eq!(out, pt, "Keyplane round trip");
        group.bench_with_input(BenchmarkId::new(KEYPLANE, label), &blob, |b, blob| {
            b.iter(|| {
                fx.ring
                    .decrypt_into(black_box(blob), black_box(&fx.context), black_box(&mut out))
                    .expect("decrypt_into")
            });
        });

        // Sealed once; opened out of place each iteration, so no copy back is needed.
        let mut ciphertext = pt.clone();
        let tag = raw
            .key
            .seal_in_place_separate_tag(Raw::nonce(), Aad::from(&raw.aad), &mut ciphertext)
            .expect("seal");
        let mut out = vec![0u8; pt.len()];
        raw.key
            .open_separate_gather(
                Raw::nonce(),
                Aad::from(&raw.aad),
                &ciphertext,
                tag.as_ref(),
                &mut out,
            )
            .expect("open");
        assert_eq!(out, pt, "raw round trip");
        group.bench_with_input(BenchmarkId::new(RAW, label), &ciphertext, |b, ct| {
            b.iter(|| {
                raw.key
                    .open_separate_gather(
                        Raw::nonce(),
                        Aad::from(black_box(raw.aad.as_slice())),
                        black_box(ct),
                        black_box(tag.as_ref()),
                        black_box(out.as_mut_slice()),
                    )
                    .expect("open");
            });
        });
    }
    group.finish();
}

// ----- paired ratios ----------------------------------------------------------------------------

const ROUNDS: usize = 41;

/// The median over alternating rounds of raw time / Keyplane time.
fn paired_ratio(mut keyplane: impl FnMut(), mut raw: impl FnMut()) -> f64 {
    let how = Pairing {
        rounds: ROUNDS,
        round: Duration::from_millis(1),
        warm_up: Duration::from_millis(20),
    };
    paired_median(&mut keyplane, &mut raw, how)
}

/// Paired (encrypt, decrypt) ratios per size label.
fn paired_ratios(fx: &Fixture, raw: &Raw) -> Vec<(&'static str, f64, f64)> {
    SIZES
        .iter()
        .map(|&(size, label)| {
            let pt = plaintext(size);
            let mut out = vec![0u8; fx.ring.ciphertext_len(&fx.key_id, pt.len()).expect("len")];
            let mut in_out = pt.clone();
            let enc = paired_ratio(
                || {
                    fx.ring
                        .encrypt_into(&fx.key_id, black_box(&pt), &fx.context, &mut out)
                        .expect("encrypt_into");
                },
                || {
                    let _tag = raw.seal(black_box(in_out.as_mut_slice()));
                },
            );

            let blob = fx
                .ring
                .encrypt(&fx.key_id, &pt, &fx.context)
                .expect("encrypt");
            let mut plain = vec![0u8; pt.len()];
            let mut ct = pt.clone();
            let tag = raw
                .key
                .seal_in_place_separate_tag(Raw::nonce(), Aad::from(&raw.aad), &mut ct)
                .expect("seal");
            let mut raw_out = vec![0u8; pt.len()];
            let dec = paired_ratio(
                || {
                    fx.ring
                        .decrypt_into(black_box(&blob), &fx.context, &mut plain)
                        .expect("decrypt_into");
                },
                || {
                    raw.key
                        .open_separate_gather(
                            Raw::nonce(),
                            Aad::from(raw.aad.as_slice()),
                            black_box(&ct),
                            tag.as_ref(),
                            &mut raw_out,
                        )
                        .expect("open");
                },
            );
            (label, enc, dec)
        })
        .collect()
}

// ----- the summary table ----------------------------------------------------------------------

fn format_cell(ns: Option<f64>, size: u32) -> String {
    ns.map_or_else(
        || "—".to_owned(),
        |ns| {
            let bytes_per_s = f64::from(size) / (ns * 1e-9);
            let gib = f64::from(1u32 << 30);
            let mib = f64::from(1u32 << 20);
            let rate = if bytes_per_s >= gib {
                format!("{:.2} GiB/s", bytes_per_s / gib)
            } else {
                format!("{:.0} MiB/s", bytes_per_s / mib)
            };
            format!("{} ({rate})", format_time(ns))
        },
    )
}

fn format_ratio(paired: Option<f64>) -> String {
    paired.map_or_else(|| "—".to_owned(), |r| format!("{r:.2}"))
}

/// Prints the table and returns its rows, encryption then decryption, for `benches/fips-table`.
fn print_table(since: SystemTime, paired: &[(&str, f64, f64)]) -> Vec<Row> {
    let dir = criterion_dir(&[ENCRYPT_GROUP, DECRYPT_GROUP]).unwrap_or_default();
    let mut rows = Vec::new();
    let (mut encrypt_rows, mut decrypt_rows) = (Vec::new(), Vec::new());
    for (size, label) in SIZES {
        let get = |group, function| mean_ns(&dir, group, function, label, since);
        let enc = get(ENCRYPT_GROUP, KEYPLANE);
        let seal = get(ENCRYPT_GROUP, RAW);
        let dec = get(DECRYPT_GROUP, KEYPLANE);
        let open = get(DECRYPT_GROUP, RAW);
        let pair = paired.iter().find(|p| p.0 == label);
        if [enc, seal, dec, open].iter().all(Option::is_none) && pair.is_none() {
            continue;
        }
        let row = |op: &str, keyplane_ns, raw_ns, ratio| Row {
            label: format!("{op} {label}"),
            keyplane_ns,
            raw_ns,
            ratio,
            interval: None,
        };
        encrypt_rows.push(row("encrypt", enc, seal, pair.map(|p| p.1)));
        decrypt_rows.push(row("decrypt", dec, open, pair.map(|p| p.2)));
        rows.push(format!(
            "| {label} | {} | {} | {} | {} | {} | {} |",
            format_cell(enc, size),
            format_cell(seal, size),
            format_ratio(pair.map(|p| p.1)),
            format_cell(dec, size),
            format_cell(open, size),
            format_ratio(pair.map(|p| p.2)),
        ));
    }
    if rows.is_empty() {
        println!("\nNo estimates written by this run; summary table skipped.");
        return Vec::new();
    }
    let status = keyplane::fips::status();
    println!();
    println!(
        "Criterion mean time (throughput). ratio = raw time / Keyplane time, median of {ROUNDS} \
         interleaved rounds; 1.00 = as fast as raw."
    );
    println!(
        "Module: {} {}; {RAW_SEAL}.",
        status.module, status.module_version
    );
    println!("Results: {}", dir.display());
    println!();
    println!(
        "| size | encrypt (Keyplane) | seal (raw) | ratio | decrypt (Keyplane) | open (raw) | ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    println!();
    println!("Reproduce: `{COMMAND}`");
    encrypt_rows.extend(decrypt_rows);
    encrypt_rows
}

fn main() {
    // Criterion's files carry their write time; anything older than this run is stale.
    let started = SystemTime::now();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args();

    let fx = Fixture::new();
    let raw = Raw::new(fx.aad_len());
    bench_encrypt(&mut c, &fx, &raw);
    bench_decrypt(&mut c, &fx, &raw);

    c.final_summary();
    let quick = quick_mode();
    let paired = if quick {
        Vec::new()
    } else {
        paired_ratios(&fx, &raw)
    };
    let rows = print_table(started, &paired);
    Rows::new("symmetric", RAW_SEAL, rows)
        .write_if_asked()
        .expect("write the rows for benches/fips-table");
}
