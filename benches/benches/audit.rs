//! The audit trail's cost: (a) what an audited `encrypt_into` adds on the calling thread while
//! the writer keeps up, (b) the file sink's sustained records per second (chained, with
//! checkpoints), (c) saturated encryption throughput with audit on and off.
//!
//! Run with `cargo bench -p keyplane-benches --bench audit`; `--test` runs a short version.
//! Logs go to a temporary directory on `$TMPDIR`'s file system.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use keyplane::audit::{AuditKey, FileSink};
use keyplane::{AuditConfig, CreateKey, EncryptionContext, KeySpec, Keyring};
use keyplane_benches::quick_mode;

const COMMAND: &str = "cargo bench -p keyplane-benches --bench audit";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "keyplane-audit-bench-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn ring(audit_dir: Option<&PathBuf>) -> Keyring {
    let mut builder = Keyring::builder();
    if let Some(dir) = audit_dir {
        let sink = FileSink::create(dir, AuditKey::new(&[7; 32]).expect("key")).expect("sink");
        builder = builder
            .audit(AuditConfig::new(sink).queue_capacity(1 << 14))
            .expect("audit");
    }
    let ring = builder.build();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("bench"))
        .expect("key");
    ring.with_caller("bench")
}

/// Median over `rounds` of (audited − plain) nanoseconds per call, `per_round` calls each,
/// with the queue drained before every audited round so the writer is never behind.
fn added_ns(
    plain: &Keyring,
    audited: &Keyring,
    size: usize,
    rounds: usize,
    per_round: u32,
) -> (f64, f64) {
    let pt = vec![7u8; size];
    let ctx = EncryptionContext::new([("tenant", "acme")]).expect("context");
    let mut out = vec![0u8; plain.ciphertext_len("bench", size).expect("len")];
    let mut time = |ring: &Keyring| {
        let start = Instant::now();
        for _ in 0..per_round {
            ring.encrypt_into("bench", black_box(&pt), &ctx, &mut out)
                .expect("encrypt");
        }
        start.elapsed().as_secs_f64() * 1e9 / f64::from(per_round)
    };
    let mut diffs = Vec::with_capacity(rounds);
    let mut base = Vec::with_capacity(rounds);
    for round in 0..rounds {
        audited.flush_audit().expect("flush");
        let (p, a) = if round % 2 == 0 {
            let p = time(plain);
            (p, time(audited))
        } else {
            let a = time(audited);
            (time(plain), a)
        };
        diffs.push(a - p);
        base.push(p);
    }
    diffs.sort_by(f64::total_cmp);
    base.sort_by(f64::total_cmp);
    (base[rounds / 2], diffs[rounds / 2])
}

/// Encryptions per second on every core for `duration`.
fn saturated(ring: &Keyring, size: usize, duration: Duration) -> f64 {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let total: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let pt = vec![7u8; size];
                    let ctx = EncryptionContext::empty();
                    let mut out = vec![0u8; ring.ciphertext_len("bench", size).expect("len")];
                    let start = Instant::now();
                    let mut n = 0u64;
                    while start.elapsed() < duration {
                        for _ in 0..64 {
                            ring.encrypt_into("bench", &pt, ctx, &mut out)
                                .expect("encrypt");
                        }
                        n += 64;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    ring.flush_audit().expect("flush");
    #[allow(clippy::cast_precision_loss)] // an operation count, far below 2^52
    let ops = total as f64;
    ops / duration.as_secs_f64()
}

fn main() {
    let quick = quick_mode();
    let (rounds, per_round, records, window) = if quick {
        (3, 500, 20_000, Duration::from_millis(100))
    } else {
        (41, 4000, 1_000_000, Duration::from_secs(2))
    };
    let dir = temp_dir("calls");
    let plain = ring(None);
    let audited = ring(Some(&dir));
    let (base64, add64) = added_ns(&plain, &audited, 64, rounds, per_round);
    let (base4k, add4k) = added_ns(&plain, &audited, 4096, rounds, per_round);

    // (b) the writer alone: push `records` events, then wait for all to be written.
    let writer_dir = temp_dir("writer");
    let writer_ring = ring(Some(&writer_dir));
    writer_ring.flush_audit().expect("flush");
    let mut out = vec![0u8; 128];
    let start = Instant::now();
    for _ in 0..records {
        writer_ring
            .encrypt_into("bench", b"x", EncryptionContext::empty(), &mut out)
            .expect("encrypt");
    }
    writer_ring.flush_audit().expect("flush");
    let writer_rate = f64::from(records) / start.elapsed().as_secs_f64();
    drop(writer_ring);

    // (c) saturated throughput.
    let sat_dir = temp_dir("saturated");
    let sat = ring(Some(&sat_dir));
    let rows: Vec<(usize, f64, f64)> = [64usize, 4096]
        .iter()
        .map(|&size| {
            (
                size,
                saturated(&plain, size, window),
                saturated(&sat, size, window),
            )
        })
        .collect();
    drop(sat);
    drop(audited);
    for d in [&dir, &writer_dir, &sat_dir] {
        let _ = std::fs::remove_dir_all(d);
    }

    println!();
    println!("| measurement | audit off | audit on | difference | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| `encrypt_into` 64 B, calling thread | {base64:.0} ns | {:.0} ns | +{add64:.0} ns | ≤ +50 ns |",
        base64 + add64
    );
    println!(
        "| `encrypt_into` 4 KiB, calling thread | {base4k:.0} ns | {:.0} ns | +{add4k:.0} ns | ≤ +50 ns |",
        base4k + add4k
    );
    println!(
        "| file sink, one writer thread (chained, checkpoint every 1000) | — | {:.2} M records/s | — | ≥ 1 M/s |",
        writer_rate / 1e6
    );
    for (size, off, on) in rows {
        println!(
            "| saturated `encrypt_into` {size} B, all cores | {:.2} M/s | {:.2} M/s | {:.0}% | — |",
            off / 1e6,
            on / 1e6,
            (on / off - 1.0) * 100.0
        );
    }
    println!();
    println!("Reproduce: `{COMMAND}`");
}
