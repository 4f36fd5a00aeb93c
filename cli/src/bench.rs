//! `keyplane bench`: a quick throughput table on a temporary in-memory keyring.

use std::hint::black_box;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use keyplane::{
    CreateKey, EncryptRequest, EncryptionContext, KeySpec, Keyring, MessageType, SigningAlgorithm,
};

use crate::args::BenchArgs;
use crate::error::{CliError, EXIT_OK};
use crate::output::{self, Format, Obj, Val};

const BATCH_ITEMS: usize = 10_000;

/// One measured row.
struct Row {
    name: &'static str,
    /// Operations (items, for a batch) per second.
    ops_per_sec: f64,
    /// Bytes of input per operation, for the MiB/s column.
    bytes_per_op: Option<usize>,
}

/// Runs `op` (which performs `per_call` operations) repeatedly for about `budget`, after a
/// short warm-up; returns operations per second.
fn measure(
    budget: Duration,
    per_call: usize,
    mut op: impl FnMut() -> Result<(), keyplane::Error>,
) -> Result<f64, keyplane::Error> {
    let warm_until = Instant::now() + budget / 10;
    while Instant::now() < warm_until {
        op()?;
    }
    let start = Instant::now();
    let mut calls = 0u64;
    loop {
        op()?;
        calls += 1;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return Ok(calls as f64 * per_call as f64 / elapsed.as_secs_f64());
        }
    }
}

/// Progress on stderr: a redrawn bar on a terminal, one line per row otherwise.
struct Progress {
    total: usize,
    tty: bool,
}

impl Progress {
    fn step(&self, done: usize, name: &str) {
        let mut err = std::io::stderr().lock();
        if self.tty {
            let filled = done * 20 / self.total;
            let _ = write!(
                err,
                "\r\x1b[2K[{}{}] {done}/{} {name}",
                "#".repeat(filled),
                " ".repeat(20 - filled),
                self.total
            );
        } else if done < self.total {
            let _ = writeln!(err, "bench: {}/{} {name}", done + 1, self.total);
        }
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.tty {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
        }
    }
}

pub(crate) fn run(args: &BenchArgs, format: Format) -> Result<u8, CliError> {
    if !(args.seconds.is_finite() && (0.01..=60.0).contains(&args.seconds)) {
        return Err(CliError::Usage(
            "--seconds must be between 0.01 and 60".into(),
        ));
    }
    let budget = Duration::from_secs_f64(args.seconds);
    let ring = Keyring::builder().try_build()?;
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("bench-aes"))?;
    ring.create_key(&CreateKey::new(KeySpec::EccNistP256).key_id("bench-p256"))?;
    let ctx = EncryptionContext::new([("purpose", "bench")])?;
    let small = [7u8; 64];
    let large = vec![7u8; 4096];
    let large_blob = ring.encrypt("bench-aes", &large, &ctx)?;
    let signature = ring.sign(
        "bench-p256",
        &small,
        MessageType::Raw,
        SigningAlgorithm::EcdsaSha256,
    )?;
    let mut out_small = vec![0u8; ring.ciphertext_len("bench-aes", small.len())?];
    let mut out_large = vec![0u8; ring.ciphertext_len("bench-aes", large.len())?];
    let mut plain = vec![0u8; large.len()];
    let batch_inputs = vec![[7u8; 64]; BATCH_ITEMS];
    let batch: Vec<EncryptRequest<'_>> = batch_inputs
        .iter()
        .map(|p| EncryptRequest {
            key_id: "bench-aes",
            plaintext: p,
            context: &ctx,
        })
        .collect();

    type Op<'a> = Box<dyn FnMut() -> Result<(), keyplane::Error> + 'a>;
    let plan: Vec<(&'static str, usize, Option<usize>, Op<'_>)> = vec![
        (
            "encrypt 64 B",
            1,
            Some(small.len()),
            Box::new(|| {
                ring.encrypt_into("bench-aes", black_box(&small), &ctx, &mut out_small)
                    .map(drop)
            }),
        ),
        (
            "encrypt 4 KiB",
            1,
            Some(large.len()),
            Box::new(|| {
                ring.encrypt_into("bench-aes", black_box(&large), &ctx, &mut out_large)
                    .map(drop)
            }),
        ),
        (
            "decrypt 4 KiB",
            1,
            Some(large.len()),
            Box::new(|| {
                ring.decrypt_into(black_box(&large_blob), &ctx, &mut plain)
                    .map(drop)
            }),
        ),
        (
            "sign ECDSA P-256",
            1,
            None,
            Box::new(|| {
                ring.sign(
                    "bench-p256",
                    black_box(&small),
                    MessageType::Raw,
                    SigningAlgorithm::EcdsaSha256,
                )
                .map(drop)
            }),
        ),
        (
            "verify ECDSA P-256",
            1,
            None,
            Box::new(|| {
                ring.verify(
                    "bench-p256",
                    black_box(&small),
                    MessageType::Raw,
                    SigningAlgorithm::EcdsaSha256,
                    &signature,
                )
                .map(drop)
            }),
        ),
        (
            "encrypt_many 10,000 x 64 B",
            BATCH_ITEMS,
            Some(64),
            Box::new(|| {
                let results = ring.encrypt_many(black_box(&batch))?;
                results.into_iter().try_for_each(|r| r.map(drop))
            }),
        ),
    ];

    let progress = Progress {
        total: plan.len(),
        tty: std::io::stderr().is_terminal(),
    };
    let mut rows = Vec::new();
    for (i, (name, per_call, bytes_per_op, op)) in plan.into_iter().enumerate() {
        progress.step(i, name);
        let ops_per_sec = measure(budget, per_call, op)?;
        rows.push(Row {
            name,
            ops_per_sec,
            bytes_per_op,
        });
    }
    progress.step(rows.len(), "done");
    progress.finish();

    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    match format {
        Format::Text => print_table(&rows, threads, args.seconds)?,
        _ => {
            let rows: Vec<Obj> = rows
                .iter()
                .map(|r| {
                    Obj::new()
                        .with("Operation", r.name)
                        .with("OpsPerSecond", Val::Float(r.ops_per_sec, 0))
                        .with("MicrosecondsPerOp", Val::Float(1e6 / r.ops_per_sec, 3))
                        .with(
                            "MiBPerSecond",
                            r.bytes_per_op
                                .map_or(Val::Null, |b| Val::Float(mib_per_sec(r, b), 1)),
                        )
                })
                .collect();
            output::print(
                &Obj::new()
                    .with("Cores", u64::try_from(threads).unwrap_or(u64::MAX))
                    .with("SecondsPerRow", Val::Float(args.seconds, 2))
                    .with("Rows", rows),
                format,
            )?;
        }
    }
    Ok(EXIT_OK)
}

fn mib_per_sec(row: &Row, bytes: usize) -> f64 {
    row.ops_per_sec * bytes as f64 / (1024.0 * 1024.0)
}

fn print_table(rows: &[Row], threads: usize, seconds: f64) -> Result<(), CliError> {
    let mut text = format!(
        "{:<28} {:>14} {:>10} {:>10}\n",
        "operation", "ops/s", "µs/op", "MiB/s"
    );
    for r in rows {
        let mib = r
            .bytes_per_op
            .map_or_else(|| "-".to_owned(), |b| format!("{:.1}", mib_per_sec(r, b)));
        text.push_str(&format!(
            "{:<28} {:>14} {:>10.3} {:>10}\n",
            r.name,
            group_thousands(r.ops_per_sec),
            1e6 / r.ops_per_sec,
            mib
        ));
    }
    text.push_str(&format!(
        "({threads} cores; {seconds} s per row; in-memory keyring, batch on the default pool)\n"
    ));
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::Io(format!("cannot write standard output: {e}")))
}

/// `1234567.8` as `"1,234,568"`.
fn group_thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
