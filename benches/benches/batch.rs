//! Batches against the sequential loop they replace: 10,000 × 64 B and 1,000 × 4 KiB encrypts
//! and 1,000 ECDSA P-256 signatures, as one batch on a 1-thread pool, as one batch on a pool with
//! a thread per core, and as a loop of `encrypt_into` / `sign_into` calls into a buffer allocated
//! once.
//!
//! Run with `cargo bench -p keyplane-benches --bench batch`. Criterion measures each form; a
//! paired pass then alternates batch and loop (A B B A …) and reports the median per-round
//! speed-up loop time / batch time, printed beside the targets in a Markdown table.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use keyplane::{
    CreateKey, EncryptRequest, EncryptionContext, KeySpec, Keyring, MessageType, SignRequest,
    SigningAlgorithm,
};
use keyplane_benches::{Pairing, criterion_dir, format_time, mean_ns, paired_median, quick_mode};

const COMMAND: &str = "cargo bench -p keyplane-benches --bench batch";
const GROUP: &str = "batch";
const LOOP: &str = "loop";
const ONE: &str = "batch-1-thread";
const ALL: &str = "batch-all-cores";

/// A workload: a label, its item count, the minimum speed-ups expected of the 1-thread and
/// all-core batches (where the brief sets one).
struct Workload {
    label: &'static str,
    items: usize,
    one_target: Option<f64>,
    all_target: Option<f64>,
}

const ENCRYPT_64: Workload = Workload {
    label: "encrypt 64B x 10000",
    items: 10_000,
    one_target: Some(0.9),
    all_target: None,
};
const ENCRYPT_4K: Workload = Workload {
    label: "encrypt 4KiB x 1000",
    items: 1000,
    one_target: None,
    all_target: Some(1.8),
};
const SIGN_P256: Workload = Workload {
    label: "sign P-256 x 1000",
    items: 1000,
    one_target: None,
    all_target: Some(1.8),
};

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// A keyring of the given pool with a symmetric and a P-256 key.
fn ring(builder: keyplane::KeyringBuilder) -> Keyring {
    let ring = builder.build();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("sym"))
        .expect("create key");
    ring.create_key(&CreateKey::new(KeySpec::EccNistP256).key_id("ec"))
        .expect("create key");
    ring
}

/// The three forms of one workload as closures: loop, 1-thread batch, all-core batch.
type Forms<'a> = [Box<dyn FnMut() + 'a>; 3];

fn encrypt_forms<'a>(
    rings: &'a [Keyring; 2],
    plaintexts: &'a [Vec<u8>],
    context: &'a EncryptionContext,
) -> Forms<'a> {
    let requests: Vec<EncryptRequest<'a>> = plaintexts
        .iter()
        .map(|p| EncryptRequest {
            key_id: "sym",
            plaintext: p,
            context,
        })
        .collect();
    let blob_len = rings[0]
        .ciphertext_len("sym", plaintexts[0].len())
        .expect("len");
    let mut out = vec![0u8; blob_len * plaintexts.len()];
    let sequential = &rings[0];
    let one = requests.clone();
    let all = requests;
    [
        Box::new(move || {
            for (p, region) in plaintexts.iter().zip(out.chunks_mut(blob_len)) {
                sequential
                    .encrypt_into("sym", black_box(p), context, region)
                    .expect("encrypt_into");
            }
        }),
        Box::new(move || {
            black_box(rings[0].encrypt_many(black_box(&one)).expect("batch"));
        }),
        Box::new(move || {
            black_box(rings[1].encrypt_many(black_box(&all)).expect("batch"));
        }),
    ]
}

fn sign_forms<'a>(rings: &'a [Keyring; 2], messages: &'a [Vec<u8>]) -> Forms<'a> {
    let requests: Vec<SignRequest<'a>> = messages
        .iter()
        .map(|m| SignRequest {
            key_id: "ec",
            message: m,
            message_type: MessageType::Raw,
            algorithm: SigningAlgorithm::EcdsaSha256,
        })
        .collect();
    let sig_len = rings[0].max_signature_len("ec").expect("len");
    let mut out = vec![0u8; sig_len];
    let sequential = &rings[0];
    let one = requests.clone();
    let all = requests;
    [
        Box::new(move || {
            for m in messages {
                sequential
                    .sign_into(
                        "ec",
                        black_box(m),
                        MessageType::Raw,
                        SigningAlgorithm::EcdsaSha256,
                        &mut out,
                    )
                    .expect("sign_into");
            }
        }),
        Box::new(move || {
            black_box(rings[0].sign_many(black_box(&one)).expect("batch"));
        }),
        Box::new(move || {
            black_box(rings[1].sign_many(black_box(&all)).expect("batch"));
        }),
    ]
}

const FORM_NAMES: [&str; 3] = [LOOP, ONE, ALL];

fn bench(c: &mut Criterion, workload: &Workload, forms: &mut Forms<'_>) {
    let mut group = c.benchmark_group(GROUP);
    group.throughput(Throughput::Elements(
        u64::try_from(workload.items).unwrap_or(u64::MAX),
    ));
    group.sampling_mode(SamplingMode::Flat);
    for (name, form) in FORM_NAMES.iter().zip(forms.iter_mut()) {
        group.bench_function(BenchmarkId::new(*name, workload.label), |b| {
            b.iter(&mut *form)
        });
    }
    group.finish();
}

/// Paired speed-ups over the loop: (1-thread batch, all-core batch).
fn speedups(forms: &mut Forms<'_>) -> (f64, f64) {
    let how = Pairing {
        rounds: 21,
        round: Duration::from_millis(5),
        warm_up: Duration::from_millis(100),
    };
    let [sequential, one, all] = forms;
    let one = paired_median(&mut **one, &mut **sequential, how);
    let all = paired_median(&mut **all, &mut **sequential, how);
    (one, all)
}

fn cell(ratio: Option<f64>, target: Option<f64>) -> String {
    match (ratio, target) {
        (None, _) => "—".to_owned(),
        (Some(r), None) => format!("{r:.2}"),
        (Some(r), Some(t)) => format!("{r:.2} ({} ≥ {t})", if r >= t { "meets" } else { "misses" }),
    }
}

fn main() {
    let started = SystemTime::now();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .configure_from_args();

    let rings = [
        ring(Keyring::builder().threads(1).expect("threads")),
        ring(Keyring::builder().threads(threads()).expect("threads")),
    ];
    let context = EncryptionContext::new([("tenant", "acme")]).expect("context");
    let small: Vec<Vec<u8>> = (0..ENCRYPT_64.items)
        .map(|i| vec![i.to_le_bytes()[0]; 64])
        .collect();
    let large: Vec<Vec<u8>> = (0..ENCRYPT_4K.items)
        .map(|i| vec![i.to_le_bytes()[0]; 4096])
        .collect();
    let messages: Vec<Vec<u8>> = (0..SIGN_P256.items)
        .map(|i| i.to_le_bytes().to_vec())
        .collect();

    let mut workloads: Vec<(&Workload, Forms<'_>)> = vec![
        (&ENCRYPT_64, encrypt_forms(&rings, &small, &context)),
        (&ENCRYPT_4K, encrypt_forms(&rings, &large, &context)),
        (&SIGN_P256, sign_forms(&rings, &messages)),
    ];
    for (workload, forms) in &mut workloads {
        bench(&mut c, workload, forms);
    }
    c.final_summary();

    let quick = quick_mode();
    let dir = criterion_dir(&[GROUP]).unwrap_or_default();
    let mut rows = Vec::new();
    for (workload, forms) in &mut workloads {
        let rate = |form: &str| {
            mean_ns(&dir, GROUP, form, workload.label, started).map(|ns| {
                let per_s =
                    f64::from(u32::try_from(workload.items).unwrap_or(u32::MAX)) / (ns * 1e-9);
                format!("{} ({:.0} k items/s)", format_time(ns), per_s / 1e3)
            })
        };
        let (one, all) = if quick {
            (None, None)
        } else {
            let (one, all) = speedups(forms);
            eprintln!(
                "paired: {} 1-thread {one:.3}, all cores {all:.3}",
                workload.label
            );
            (Some(one), Some(all))
        };
        let cells = FORM_NAMES.map(|f| rate(f).unwrap_or_else(|| "—".to_owned()));
        rows.push(format!(
            "| {} | {} | {} | {} | {} | {} |",
            workload.label,
            cells[0],
            cells[1],
            cell(one, workload.one_target),
            cells[2],
            cell(all, workload.all_target),
        ));
    }
    println!();
    println!(
        "{} cores. Criterion mean per whole workload (items per second). speed-up = loop time / \
         batch time, median of 21 interleaved rounds.",
        threads()
    );
    println!();
    println!(
        "| workload | `*_into` loop | batch, 1 thread | speed-up | batch, all cores | speed-up |"
    );
    println!("|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    println!();
    println!("Reproduce: `{COMMAND}`");
}
