//! HMAC, signing, RSA-OAEP and data-key-pair operations: each Keyplane call beside the raw
//! aws-lc-rs call that does the same cryptographic work.
//!
//! Run with `cargo bench -p keyplane-benches --bench asymmetric`. As in the `symmetric` bench,
//! criterion measures every benchmark, then a separate *paired* pass runs Keyplane and raw
//! aws-lc-rs in alternating rounds (A B B A …) and reports the median per-round ratio raw time /
//! Keyplane time (1.00 = as fast as raw), and a Markdown table is printed at the end. Estimates
//! this run did not write (`--test`, `--list`, a filter) are left out, and `--test` / `--list`
//! skip the paired pass.
//!
//! RSA key generation searches for random primes, so one generation takes anywhere from a third
//! to three times its mean. Its ratio is the ratio of the mean times over 100 interleaved
//! pairs, printed with a bootstrap 95% interval: it cannot resolve a few percent.
//!
//! A FIPS build (`--no-default-features --features fips`) leaves out RSA-OAEP, which the FIPS
//! module does not approve (Keyplane refuses it there); every signature here is over a RAW
//! message, as the module requires. With `KEYPLANE_BENCH_ROWS=<file>` the rows are also written
//! to that file, for `benches/fips-table`, which sets a FIPS build's table beside a non-FIPS
//! build's.
//!
//! `KEYPLANE_BENCH_PAIRED_ONLY=1` skips criterion and reruns the paired pass alone; the table
//! then shows the criterion means of the latest earlier run.
//!
//! The raw side of sign, decrypt and key generation uses its own key of the same size (Keyplane
//! exports no private key, and the cost of these operations does not depend on which key of a
//! given size is used); the raw side of verify uses the Keyplane key's public key and signature.

use std::env;
use std::hint::black_box;
use std::time::{Duration, SystemTime};

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{self, SystemRandom};
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey,
};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, ParsedPublicKey, RsaKeyPair, VerificationAlgorithm,
};
use criterion::{BenchmarkId, Criterion, SamplingMode};
use keyplane::{
    CreateKey, DataKeyPairSpec, EncryptionAlgorithm, EncryptionContext, KeySpec, KeyUsage, Keyring,
    MacAlgorithm, MessageType, SigningAlgorithm,
};
use keyplane_benches::{Pairing, Row, Rows, criterion_dir, mean_ns, time_iters};

/// The command that reproduces the table (a FIPS build has a target directory of its own).
const COMMAND: &str = if keyplane::fips::FIPS_BUILD {
    "CARGO_TARGET_DIR=target/fips cargo bench -p keyplane-benches --no-default-features \
     --features fips --bench asymmetric"
} else {
    "cargo bench -p keyplane-benches --bench asymmetric"
};

const KEYPLANE: &str = "keyplane";
const RAW: &str = "aws-lc-rs";

/// What every signature benchmark signs or verifies (Keyplane hashes it, as aws-lc-rs does).
const MESSAGE: &[u8; 64] = b"a 64-byte message, such as a token or a request digest to sign..";

/// The target ratio of asymmetric operations, and of HMAC on 64-byte messages.
const ASYMMETRIC_TARGET: f64 = 0.95;
const HMAC_64_TARGET: f64 = 0.80;

// ----- the cases --------------------------------------------------------------------------------

/// How a case is measured.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Steady per-call cost: criterion's defaults; paired median of per-round ratios.
    Steady,
    /// RSA key generation: ~0.1 s a call and highly variable. Few flat criterion samples; paired
    /// ratio of means with a bootstrap interval.
    Keygen,
}

type Op<'a> = Box<dyn FnMut() + 'a>;

/// One row of the table: a Keyplane call and the raw aws-lc-rs call it is compared with.
struct Case<'a> {
    group: &'static str,
    param: &'static str,
    label: &'static str,
    target: Option<f64>,
    kind: Kind,
    keyplane: Op<'a>,
    raw: Op<'a>,
}

/// Keyplane's keys and the raw aws-lc-rs keys beside them.
struct Fixture {
    ring: Keyring,
    hmac: String,
    ec: [(String, &'static EcdsaSigningAlgorithm, EcdsaKeyPair); 2],
    rsa: [(String, RsaKeyPair); 2],
    /// None in a FIPS build, which refuses RSA-OAEP.
    oaep: Option<Oaep>,
    symmetric: String,
    context: EncryptionContext,
    hmac_raw: hmac::Key,
}

/// A Keyplane RSA-OAEP key and a raw one of the same size.
struct Oaep {
    key_id: String,
    raw: OaepPrivateDecryptingKey,
    raw_public: OaepPublicEncryptingKey,
}

impl Oaep {
    fn new(ring: &Keyring) -> Self {
        let raw = PrivateDecryptingKey::generate(KeySize::Rsa2048).expect("RSA key");
        let raw_public = OaepPublicEncryptingKey::new(raw.public_key()).expect("OAEP public key");
        Self {
            key_id: create(ring, KeySpec::Rsa2048, KeyUsage::EncryptDecrypt),
            raw: OaepPrivateDecryptingKey::new(raw).expect("OAEP private key"),
            raw_public,
        }
    }
}

fn create(ring: &Keyring, spec: KeySpec, usage: KeyUsage) -> String {
    ring.create_key(&CreateKey::new(spec).usage(usage))
        .expect("create key")
        .key_id
}

impl Fixture {
    fn new() -> Self {
        let ring = Keyring::new();
        let mut secret = [0u8; 32];
        rand::fill(&mut secret).expect("random HMAC key");
        let ec = |spec, alg| {
            let raw = EcdsaKeyPair::generate(alg).expect("ECDSA key");
            (create(&ring, spec, KeyUsage::SignVerify), alg, raw)
        };
        let rsa = |spec, size| {
            let raw = RsaKeyPair::generate(size).expect("RSA key");
            (create(&ring, spec, KeyUsage::SignVerify), raw)
        };
        Self {
            hmac: create(&ring, KeySpec::Hmac256, KeyUsage::GenerateVerifyMac),
            ec: [
                ec(
                    KeySpec::EccNistP256,
                    &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                ),
                ec(
                    KeySpec::EccNistP384,
                    &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
                ),
            ],
            rsa: [
                rsa(KeySpec::Rsa2048, KeySize::Rsa2048),
                rsa(KeySpec::Rsa3072, KeySize::Rsa3072),
            ],
            oaep: (!keyplane::fips::FIPS_BUILD).then(|| Oaep::new(&ring)),
            symmetric: create(&ring, KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt),
            context: EncryptionContext::new([("tenant", "acme"), ("purpose", "bench")])
                .expect("encryption context"),
            hmac_raw: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            ring,
        }
    }

    /// The Keyplane key's public key, parsed once for raw verification.
    fn parsed_public_key(
        &self,
        key_id: &str,
        alg: &'static dyn VerificationAlgorithm,
    ) -> ParsedPublicKey {
        let spki = self.ring.get_public_key(key_id).expect("public key");
        ParsedPublicKey::new(alg, spki.public_key).expect("parse public key")
    }
}

fn hmac_cases(fx: &Fixture) -> Vec<Case<'_>> {
    [
        ("64B", "HMAC-SHA256, 64 B", 64, Some(HMAC_64_TARGET)),
        ("4KiB", "HMAC-SHA256, 4 KiB", 4096, None),
    ]
    .into_iter()
    .map(|(param, label, len, target)| {
        let message: Vec<u8> = (0..len).map(|i: usize| i.to_le_bytes()[0]).collect();
        let raw_message = message.clone();
        let mut out = [0u8; 32];
        let mac = fx
            .ring
            .generate_mac(&fx.hmac, &message, MacAlgorithm::HmacSha256)
            .expect("generate_mac");
        assert!(
            fx.ring
                .verify_mac(&fx.hmac, &message, MacAlgorithm::HmacSha256, &mac)
                .expect("verify_mac")
        );
        Case {
            group: "hmac_sha256",
            param,
            label,
            target,
            kind: Kind::Steady,
            keyplane: Box::new(move || {
                fx.ring
                    .generate_mac_into(
                        black_box(&fx.hmac),
                        black_box(&message),
                        MacAlgorithm::HmacSha256,
                        black_box(&mut out),
                    )
                    .expect("generate_mac_into");
            }),
            raw: Box::new(move || {
                black_box(hmac::sign(&fx.hmac_raw, black_box(&raw_message)));
            }),
        }
    })
    .collect()
}

fn ecdsa_cases(fx: &Fixture) -> Vec<Case<'_>> {
    let (mut signs, mut verifies) = (Vec::new(), Vec::new());
    let params = [
        (
            "P-256",
            "ECDSA P-256 sign",
            "ECDSA P-256 verify",
            SigningAlgorithm::EcdsaSha256,
            &signature::ECDSA_P256_SHA256_ASN1,
        ),
        (
            "P-384",
            "ECDSA P-384 sign",
            "ECDSA P-384 verify",
            SigningAlgorithm::EcdsaSha384,
            &signature::ECDSA_P384_SHA384_ASN1,
        ),
    ];
    for ((key_id, _, raw_pair), (param, sign_label, verify_label, alg, verification)) in
        fx.ec.iter().zip(params)
    {
        let mut out = vec![0u8; fx.ring.max_signature_len(key_id).expect("length")];
        let rng = SystemRandom::new();
        signs.push(Case {
            group: "ecdsa_sign",
            param,
            label: sign_label,
            target: Some(ASYMMETRIC_TARGET),
            kind: Kind::Steady,
            keyplane: Box::new(move || {
                fx.ring
                    .sign_into(
                        black_box(key_id),
                        black_box(MESSAGE),
                        MessageType::Raw,
                        alg,
                        black_box(&mut out),
                    )
                    .expect("sign_into");
            }),
            raw: Box::new(move || {
                black_box(raw_pair.sign(&rng, black_box(MESSAGE)).expect("sign"));
            }),
        });

        let sig = fx
            .ring
            .sign(key_id, MESSAGE, MessageType::Raw, alg)
            .expect("sign");
        let parsed = fx.parsed_public_key(key_id, verification);
        parsed.verify_sig(MESSAGE, &sig).expect("raw verify");
        let raw_sig = sig.clone();
        verifies.push(Case {
            group: "ecdsa_verify",
            param,
            label: verify_label,
            target: Some(ASYMMETRIC_TARGET),
            kind: Kind::Steady,
            keyplane: Box::new(move || {
                let ok = fx
                    .ring
                    .verify(
                        black_box(key_id),
                        black_box(MESSAGE),
                        MessageType::Raw,
                        alg,
                        black_box(&sig),
                    )
                    .expect("verify");
                assert!(ok);
            }),
            raw: Box::new(move || {
                parsed
                    .verify_sig(black_box(MESSAGE), black_box(&raw_sig))
                    .expect("verify_sig");
            }),
        });
    }
    signs.extend(verifies);
    signs
}

fn rsa_cases(fx: &Fixture) -> Vec<Case<'_>> {
    let (mut signs, mut verifies) = (Vec::new(), Vec::new());
    let params = [
        (
            "RSA-2048",
            "RSA-2048 PSS-SHA256 sign",
            "RSA-2048 PSS-SHA256 verify",
        ),
        (
            "RSA-3072",
            "RSA-3072 PSS-SHA256 sign",
            "RSA-3072 PSS-SHA256 verify",
        ),
    ];
    let alg = SigningAlgorithm::RsassaPssSha256;
    for ((key_id, raw_pair), (param, sign_label, verify_label)) in fx.rsa.iter().zip(params) {
        let mut out = vec![0u8; fx.ring.max_signature_len(key_id).expect("length")];
        let mut raw_out = vec![0u8; raw_pair.public_modulus_len()];
        let rng = SystemRandom::new();
        signs.push(Case {
            group: "rsa_pss_sha256_sign",
            param,
            label: sign_label,
            target: Some(ASYMMETRIC_TARGET),
            kind: Kind::Steady,
            keyplane: Box::new(move || {
                fx.ring
                    .sign_into(
                        black_box(key_id),
                        black_box(MESSAGE),
                        MessageType::Raw,
                        alg,
                        black_box(&mut out),
                    )
                    .expect("sign_into");
            }),
            raw: Box::new(move || {
                raw_pair
                    .sign(
                        &signature::RSA_PSS_SHA256,
                        &rng,
                        black_box(MESSAGE),
                        black_box(&mut raw_out),
                    )
                    .expect("sign");
            }),
        });

        let sig = fx
            .ring
            .sign(key_id, MESSAGE, MessageType::Raw, alg)
            .expect("sign");
        let parsed = fx.parsed_public_key(key_id, &signature::RSA_PSS_2048_8192_SHA256);
        parsed.verify_sig(MESSAGE, &sig).expect("raw verify");
        let raw_sig = sig.clone();
        verifies.push(Case {
            group: "rsa_pss_sha256_verify",
            param,
            label: verify_label,
            target: Some(ASYMMETRIC_TARGET),
            kind: Kind::Steady,
            keyplane: Box::new(move || {
                let ok = fx
                    .ring
                    .verify(
                        black_box(key_id),
                        black_box(MESSAGE),
                        MessageType::Raw,
                        alg,
                        black_box(&sig),
                    )
                    .expect("verify");
                assert!(ok);
            }),
            raw: Box::new(move || {
                parsed
                    .verify_sig(black_box(MESSAGE), black_box(&raw_sig))
                    .expect("verify_sig");
            }),
        });
    }
    signs.extend(verifies);
    signs
}

fn oaep_case<'a>(oaep: &'a Oaep, fx: &'a Fixture) -> Case<'a> {
    // A 32-byte data key, the usual RSA-OAEP payload.
    let plaintext = [0x42u8; 32];
    let alg = EncryptionAlgorithm::RsaesOaepSha256;
    let ciphertext = fx
        .ring
        .encrypt_asymmetric(&oaep.key_id, &plaintext, alg)
        .expect("encrypt_asymmetric");
    let decrypted = fx
        .ring
        .decrypt_asymmetric(&oaep.key_id, &ciphertext, alg)
        .expect("decrypt_asymmetric");
    assert_eq!(&decrypted[..], plaintext, "Keyplane round trip");

    let mut raw_ciphertext = vec![0u8; oaep.raw_public.ciphertext_size()];
    let n = oaep
        .raw_public
        .encrypt(
            &OAEP_SHA256_MGF1SHA256,
            &plaintext,
            &mut raw_ciphertext,
            None,
        )
        .expect("encrypt")
        .len();
    raw_ciphertext.truncate(n);
    let mut raw_out = vec![0u8; oaep.raw.min_output_size()];
    let got = oaep
        .raw
        .decrypt(&OAEP_SHA256_MGF1SHA256, &raw_ciphertext, &mut raw_out, None)
        .expect("decrypt");
    assert_eq!(got, plaintext, "raw round trip");
    Case {
        group: "rsa_oaep_sha256_decrypt",
        param: "RSA-2048",
        label: "RSA-2048 OAEP-SHA256 decrypt",
        target: Some(ASYMMETRIC_TARGET),
        kind: Kind::Steady,
        keyplane: Box::new(move || {
            black_box(
                fx.ring
                    .decrypt_asymmetric(black_box(&oaep.key_id), black_box(&ciphertext), alg)
                    .expect("decrypt_asymmetric"),
            );
        }),
        raw: Box::new(move || {
            oaep.raw
                .decrypt(
                    &OAEP_SHA256_MGF1SHA256,
                    black_box(&raw_ciphertext),
                    black_box(&mut raw_out),
                    None,
                )
                .expect("decrypt");
        }),
    }
}

fn data_key_pair_op(fx: &Fixture, spec: DataKeyPairSpec) -> Op<'_> {
    Box::new(move || {
        black_box(
            fx.ring
                .generate_data_key_pair(black_box(&fx.symmetric), spec, &fx.context)
                .expect("generate_data_key_pair"),
        );
    })
}

fn data_key_pair_cases(fx: &Fixture) -> Vec<Case<'_>> {
    let keyplane = |spec| data_key_pair_op(fx, spec);
    let rng = SystemRandom::new();
    vec![
        Case {
            group: "data_key_pair",
            param: "P-256",
            label: "data key pair P-256",
            target: Some(ASYMMETRIC_TARGET),
            kind: Kind::Steady,
            keyplane: keyplane(DataKeyPairSpec::EccNistP256),
            raw: Box::new(move || {
                black_box(
                    EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                        .expect("generate_pkcs8"),
                );
            }),
        },
        Case {
            group: "data_key_pair",
            param: "RSA-2048",
            label: "data key pair RSA-2048",
            target: Some(ASYMMETRIC_TARGET),
            kind: Kind::Keygen,
            keyplane: keyplane(DataKeyPairSpec::Rsa2048),
            raw: Box::new(|| {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("generate");
                let der: Pkcs8V1Der<'static> = pair.as_der().expect("as_der");
                black_box(der);
            }),
        },
    ]
}

fn cases(fx: &Fixture) -> Vec<Case<'_>> {
    let mut cases = hmac_cases(fx);
    cases.extend(ecdsa_cases(fx));
    cases.extend(rsa_cases(fx));
    // RSA-OAEP is not an approved service of the FIPS module: a FIPS build refuses it.
    cases.extend(fx.oaep.as_ref().map(|oaep| oaep_case(oaep, fx)));
    cases.extend(data_key_pair_cases(fx));
    cases
}

// ----- criterion --------------------------------------------------------------------------------

fn bench(c: &mut Criterion, cases: &mut [Case<'_>]) {
    let mut start = 0;
    while start < cases.len() {
        let group_name = cases[start].group;
        let end = start
            + cases[start..]
                .iter()
                .take_while(|case| case.group == group_name)
                .count();
        let mut group = c.benchmark_group(group_name);
        for case in &mut cases[start..end] {
            if case.kind == Kind::Keygen {
                group
                    .sampling_mode(SamplingMode::Flat)
                    .sample_size(10)
                    .measurement_time(Duration::from_secs(10));
            }
            let keyplane = &mut case.keyplane;
            group.bench_function(BenchmarkId::new(KEYPLANE, case.param), |b| {
                b.iter(&mut **keyplane);
            });
            let raw = &mut case.raw;
            group.bench_function(BenchmarkId::new(RAW, case.param), |b| b.iter(&mut **raw));
        }
        group.finish();
        start = end;
    }
}

// ----- paired ratios ----------------------------------------------------------------------------

const ROUNDS: usize = 41;
const ROUND: Duration = Duration::from_millis(2);
const WARM_UP: Duration = Duration::from_millis(50);
/// Interleaved pairs of RSA key generations (about 0.16 s a pair on the development machine).
const KEYGEN_PAIRS: usize = 100;
const BOOTSTRAP_RESAMPLES: usize = 2000;

/// A paired ratio, raw time / Keyplane time, with a 95% interval where one is computed.
#[derive(Clone, Copy)]
struct Ratio {
    value: f64,
    interval: Option<(f64, f64)>,
}

/// The median over alternating rounds of raw time / Keyplane time.
fn paired_median(keyplane: &mut dyn FnMut(), raw: &mut dyn FnMut()) -> Ratio {
    let how = Pairing {
        rounds: ROUNDS,
        round: ROUND,
        warm_up: WARM_UP,
    };
    Ratio {
        value: keyplane_benches::paired_median(keyplane, raw, how),
        interval: None,
    }
}

/// A small xorshift generator for bootstrap resampling (statistics, not cryptography).
struct XorShift(u64);

impl XorShift {
    fn seeded() -> Self {
        let mut seed = [0u8; 8];
        rand::fill(&mut seed).expect("seed");
        Self(u64::from_le_bytes(seed) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let n64 = u64::try_from(n).expect("n fits in u64");
        usize::try_from(self.0 % n64).expect("index fits in usize")
    }
}

/// The ratio of mean times over `KEYGEN_PAIRS` interleaved calls, with a bootstrap 95% interval.
fn paired_means(keyplane: &mut dyn FnMut(), raw: &mut dyn FnMut()) -> Ratio {
    keyplane();
    raw();
    let pairs: Vec<(f64, f64)> = (0..KEYGEN_PAIRS)
        .map(|i| {
            let (k, r) = if i % 2 == 0 {
                let k = time_iters(1, keyplane);
                (k, time_iters(1, raw))
            } else {
                let r = time_iters(1, raw);
                (time_iters(1, keyplane), r)
            };
            (k.as_secs_f64(), r.as_secs_f64())
        })
        .collect();
    let ratio_of_sums = |sample: &mut dyn Iterator<Item = (f64, f64)>| {
        let (k, r) = sample.fold((0.0, 0.0), |(k, r), (pk, pr)| (k + pk, r + pr));
        r / f64::max(k, f64::MIN_POSITIVE)
    };
    let mut rng = XorShift::seeded();
    let mut resampled: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| ratio_of_sums(&mut (0..pairs.len()).map(|_| pairs[rng.below(pairs.len())])))
        .collect();
    resampled.sort_by(f64::total_cmp);
    // Percentiles of the sorted resamples, in thousandths.
    let at = |permille: usize| resampled[(resampled.len() - 1) * permille / 1000];
    Ratio {
        value: ratio_of_sums(&mut pairs.iter().copied()),
        interval: Some((at(25), at(975))),
    }
}

fn paired_ratios(cases: &mut [Case<'_>]) -> Vec<Ratio> {
    cases
        .iter_mut()
        .map(|case| {
            let ratio = match case.kind {
                Kind::Steady => paired_median(&mut *case.keyplane, &mut *case.raw),
                Kind::Keygen => paired_means(&mut *case.keyplane, &mut *case.raw),
            };
            eprintln!("paired: {} {:.3}", case.label, ratio.value);
            ratio
        })
        .collect()
}

// ----- the summary table ----------------------------------------------------------------------

fn format_time(ns: Option<f64>) -> String {
    ns.map_or_else(|| "—".to_owned(), keyplane_benches::format_time)
}

fn format_ratio(ratio: Option<Ratio>, target: Option<f64>) -> String {
    let Some(ratio) = ratio else {
        return "—".to_owned();
    };
    let mut cell = format!("{:.2}", ratio.value);
    let (lo, hi) = ratio.interval.unwrap_or((ratio.value, ratio.value));
    if ratio.interval.is_some() {
        cell.push_str(&format!(" ({lo:.2}–{hi:.2})"));
    }
    match target {
        Some(t) if hi < t => cell.push_str(" ✗"),
        Some(t) if lo < t => cell.push_str(" ?"),
        _ => {}
    }
    cell
}

/// Prints the table and returns its rows, for `benches/fips-table`.
fn print_table(cases: &[Case<'_>], since: SystemTime, paired: &[Ratio]) -> Vec<Row> {
    let groups: Vec<&str> = cases.iter().map(|case| case.group).collect();
    let dir = criterion_dir(&groups).unwrap_or_default();
    let mut rows = Vec::new();
    let mut kept = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let get = |function| mean_ns(&dir, case.group, function, case.param, since);
        let (keyplane, raw) = (get(KEYPLANE), get(RAW));
        let pair = paired.get(i).copied();
        if keyplane.is_none() && raw.is_none() && pair.is_none() {
            continue;
        }
        kept.push(Row {
            label: case.label.to_owned(),
            keyplane_ns: keyplane,
            raw_ns: raw,
            ratio: pair.map(|p| p.value),
            interval: pair.and_then(|p| p.interval),
        });
        rows.push(format!(
            "| {} | {} | {} | {} | {} |",
            case.label,
            format_time(keyplane),
            format_time(raw),
            format_ratio(pair, case.target),
            case.target
                .map_or_else(|| "—".to_owned(), |t| format!("≥ {t:.2}")),
        ));
    }
    if rows.is_empty() {
        println!("\nNo estimates written by this run; summary table skipped.");
        return Vec::new();
    }
    println!();
    println!(
        "Criterion mean time. ratio = raw time / Keyplane time, median of {ROUNDS} interleaved \
         rounds (RSA key generation: ratio of mean times over {KEYGEN_PAIRS} interleaved pairs, \
         bootstrap 95% interval); 1.00 = as fast as raw; ✗ = below target; ? = the interval \
         includes the target."
    );
    let status = keyplane::fips::status();
    println!("Module: {} {}.", status.module, status.module_version);
    println!("Results: {}", dir.display());
    println!();
    println!("| operation | Keyplane | raw aws-lc-rs | ratio | target |");
    println!("|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    println!();
    println!("Reproduce: `{COMMAND}`");
    kept
}

fn main() {
    let paired_only = env::var_os("KEYPLANE_BENCH_PAIRED_ONLY").is_some();
    // Criterion's files carry their write time; anything older than this run is stale, unless
    // only the paired pass reruns, which shows the latest earlier criterion run.
    let started = if paired_only {
        SystemTime::UNIX_EPOCH
    } else {
        SystemTime::now()
    };
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args();

    let fx = Fixture::new();
    let mut cases = cases(&fx);
    if !paired_only {
        bench(&mut c, &mut cases);
        c.final_summary();
    }
    // Test and list modes, and criterion's `--profile-time` (for `perf record`), skip the pass.
    let quick = env::args().any(|a| ["--test", "--list", "--profile-time"].contains(&a.as_str()));
    let paired = if quick {
        Vec::new()
    } else {
        paired_ratios(&mut cases)
    };
    let rows = print_table(&cases, started, &paired);
    let note = if keyplane::fips::FIPS_BUILD {
        "no RSA-OAEP (not an approved service); signatures over RAW messages"
    } else {
        ""
    };
    Rows::new("asymmetric", note, rows)
        .write_if_asked()
        .expect("write the rows for benches/fips-table");
}
