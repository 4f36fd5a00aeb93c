//! Asymmetric and HMAC keys through the public API: usage enforcement for every pair of key and
//! operation, negative cases, state checks, and verification of Keyplane's outputs by
//! independent implementations (aws-lc-rs's own verifiers, and the `openssl` command-line tool).
//!
//! RSA key generation is slow (seconds for RSA-4096 in a debug build), so each RSA size is
//! generated once per test binary as PKCS#8 (see [`rsa_pkcs8`]) and imported where needed; the
//! data-key-pair test generates each size once more through Keyplane itself, and the
//! rotation-period test one more RSA-2048 key (`create_key` generates before it validates).
//!
//! In a FIPS build the same tests run over the same keys: what that build refuses (secp256k1
//! keys, RSA encryption keys, signing or verifying a DIGEST message) is asserted refused with
//! `NotApproved` where the non-FIPS build checks the result, and the tests whose whole subject is
//! RSA-OAEP are ignored there (`core/tests/fips.rs` tests those refusals in both builds).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA256_MGF1SHA256, OaepPublicEncryptingKey, PrivateDecryptingKey,
};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair, RsaKeyPair, UnparsedPublicKey,
    VerificationAlgorithm,
};
use base64::Engine as _;
use keyplane::fips::{self, FIPS_BUILD};
use keyplane::{
    CreateKey, DataKeyPairSpec, EncryptionAlgorithm, EncryptionContext, Error, KeySpec, KeyState,
    KeyUsage, Keyring, MacAlgorithm, MessageType, PendingWindow, RotationPeriod, SigningAlgorithm,
};

/// Asserts that `$result` is `Err` matching `$pattern`, printing what it was otherwise.
macro_rules! assert_err {
    ($result:expr, $pattern:pat $(,)?) => {
        match $result {
            Err($pattern) => {}
            other => panic!(
                "{}: expected Err({}), got {:?}",
                stringify!($result),
                stringify!($pattern),
                other
            ),
        }
    };
    ($result:expr, $pattern:pat, $($context:tt)+) => {
        match $result {
            Err($pattern) => {}
            other => panic!(
                "{} ({}): expected Err({}), got {:?}",
                stringify!($result),
                format_args!($($context)+),
                stringify!($pattern),
                other
            ),
        }
    };
}

/// As `assert_err!`, except that where `$refusal` is `Some` (a FIPS build refusing the key or the
/// message type) the result must be exactly that refusal.
macro_rules! assert_err_or_refused {
    ($refusal:expr, $result:expr, $pattern:pat $(,)?) => {
        assert_err_or_refused!($refusal, $result, $pattern, "")
    };
    ($refusal:expr, $result:expr, $pattern:pat, $($context:tt)+) => {
        match $refusal {
            Some(why) => assert_eq!(
                $result.map(drop),
                Err(Error::NotApproved(why)),
                "{} ({})",
                stringify!($result),
                format_args!($($context)+)
            ),
            None => assert_err!($result, $pattern, $($context)+),
        }
    };
}

const ECC_SPECS: [KeySpec; 4] = [
    KeySpec::EccNistP256,
    KeySpec::EccNistP384,
    KeySpec::EccNistP521,
    KeySpec::EccSecgP256k1,
];
const RSA_SPECS: [KeySpec; 3] = [KeySpec::Rsa2048, KeySpec::Rsa3072, KeySpec::Rsa4096];
const HMAC_SPECS: [KeySpec; 4] = [
    KeySpec::Hmac224,
    KeySpec::Hmac256,
    KeySpec::Hmac384,
    KeySpec::Hmac512,
];
const OAEP: [EncryptionAlgorithm; 2] = [
    EncryptionAlgorithm::RsaesOaepSha1,
    EncryptionAlgorithm::RsaesOaepSha256,
];

/// A PKCS#8 RSA private key of `spec`'s size, generated once per test binary.
fn rsa_pkcs8(spec: KeySpec) -> &'static [u8] {
    static KEYS: [OnceLock<Vec<u8>>; 3] = [const { OnceLock::new() }; 3];
    let (slot, size) = match spec {
        KeySpec::Rsa2048 => (0, KeySize::Rsa2048),
        KeySpec::Rsa3072 => (1, KeySize::Rsa3072),
        KeySpec::Rsa4096 => (2, KeySize::Rsa4096),
        other => panic!("{other} is not an RSA spec"),
    };
    KEYS[slot].get_or_init(|| {
        let pair = RsaKeyPair::generate(size).expect("RSA key generation");
        let der: aws_lc_rs::encoding::Pkcs8V1Der<'_> = pair.as_der().expect("PKCS#8 encoding");
        der.as_ref().to_vec()
    })
}

/// Imports the shared RSA key of `spec` into `ring` as `key_id` with `usage`.
fn import_rsa(ring: &Keyring, key_id: &str, spec: KeySpec, usage: KeyUsage) -> String {
    ring.insecure_import_key_material(key_id, spec, usage, rsa_pkcs8(spec))
        .expect("PKCS#8 import")
        .key_id
}

/// Why a FIPS build refuses every use of a key of `spec` with `usage` (once the call's usage and
/// the key's state allow it, before anything else about the call), or `None` where it does not.
fn refusal(spec: KeySpec, usage: KeyUsage) -> Option<&'static str> {
    if fips::allows_key(spec, usage) {
        return None;
    }
    Some(match (spec, usage) {
        (KeySpec::EccSecgP256k1, _) => fips::SECP256K1,
        (_, KeyUsage::EncryptDecrypt) if RSA_SPECS.contains(&spec) => fips::RSA_OAEP,
        other => panic!("{other:?} refused for a reason these tests do not know"),
    })
}

/// Why a FIPS build refuses signing or verifying with `message_type`, or `None`.
fn message_refusal(message_type: MessageType) -> Option<&'static str> {
    (FIPS_BUILD && message_type == MessageType::Digest).then_some(fips::DIGEST_MESSAGE)
}

/// Why a FIPS build refuses signing or verifying `message_type` with a key of `spec`: the key is
/// checked first.
fn signing_refusal(spec: KeySpec, message_type: MessageType) -> Option<&'static str> {
    refusal(spec, KeyUsage::SignVerify).or(message_refusal(message_type))
}

/// A key of `spec`: generated by Keyplane, except RSA keys, imported from [`rsa_pkcs8`]. A key a
/// FIPS build refuses is asserted refused at creation there, then made by the test hooks (as a
/// store a non-FIPS build wrote would hold it), so that its every use can be asserted refused.
fn key(ring: &Keyring, key_id: &str, spec: KeySpec, usage: KeyUsage) -> String {
    let request = CreateKey::new(spec).key_id(key_id).usage(usage);
    let refused = refusal(spec, usage);
    if let Some(why) = refused {
        // Refused before any key generation, so this costs nothing even for RSA.
        assert_eq!(
            ring.create_key(&request),
            Err(Error::NotApproved(why)),
            "{spec} {usage}"
        );
    }
    if RSA_SPECS.contains(&spec) {
        return import_rsa(ring, key_id, spec, usage);
    }
    if refused.is_some() {
        assert_eq!(spec, KeySpec::EccSecgP256k1);
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256K1_SHA256_ASN1_SIGNING,
            &SystemRandom::new(),
        )
        .expect("secp256k1 key generation");
        return ring
            .insecure_import_key_material(key_id, spec, usage, pkcs8.as_ref())
            .expect("PKCS#8 import")
            .key_id;
    }
    ring.create_key(&request).expect("create_key").key_id
}

fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
    EncryptionContext::new(pairs.iter().copied()).expect("valid test context")
}

/// aws-lc-rs's verifier for `algorithm` on a key of `spec`, written out here independently of
/// Keyplane's own table.
fn independent(spec: KeySpec, algorithm: SigningAlgorithm) -> &'static dyn VerificationAlgorithm {
    use SigningAlgorithm as S;
    match (spec, algorithm) {
        (KeySpec::EccNistP256, S::EcdsaSha256) => &signature::ECDSA_P256_SHA256_ASN1,
        (KeySpec::EccNistP384, S::EcdsaSha384) => &signature::ECDSA_P384_SHA384_ASN1,
        (KeySpec::EccNistP521, S::EcdsaSha512) => &signature::ECDSA_P521_SHA512_ASN1,
        (KeySpec::EccSecgP256k1, S::EcdsaSha256) => &signature::ECDSA_P256K1_SHA256_ASN1,
        (_, S::RsassaPssSha256) => &signature::RSA_PSS_2048_8192_SHA256,
        (_, S::RsassaPssSha384) => &signature::RSA_PSS_2048_8192_SHA384,
        (_, S::RsassaPssSha512) => &signature::RSA_PSS_2048_8192_SHA512,
        (_, S::RsassaPkcs1V15Sha256) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (_, S::RsassaPkcs1V15Sha384) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (_, S::RsassaPkcs1V15Sha512) => &signature::RSA_PKCS1_2048_8192_SHA512,
        other => panic!("no verifier for {other:?}"),
    }
}

fn digest_len(algorithm: SigningAlgorithm) -> usize {
    algorithm.digest_algorithm().output_len()
}

// ----- usage enforcement -------------------------------------------------------------------------

/// Every operation a key's usage does not allow fails with `InvalidKeyUsage` (or, for
/// `get_public_key` on keys without a public half, `UnsupportedAlgorithm`).
#[test]
fn every_operation_outside_a_keys_usage_is_refused() {
    let ring = Keyring::new();
    let empty = EncryptionContext::empty();
    let symmetric = key(
        &ring,
        "symmetric",
        KeySpec::SymmetricDefault,
        KeyUsage::EncryptDecrypt,
    );
    let rsa_decrypt = key(
        &ring,
        "rsa-decrypt",
        KeySpec::Rsa2048,
        KeyUsage::EncryptDecrypt,
    );
    let rsa_sign = key(&ring, "rsa-sign", KeySpec::Rsa2048, KeyUsage::SignVerify);
    let blob = ring.encrypt(&symmetric, b"x", empty).expect("encrypt");
    let mut out = [0u8; 1024];

    // Signing keys: no symmetric or asymmetric encryption, no MACs, no data keys.
    let mut signers = vec![rsa_sign.clone()];
    for spec in ECC_SPECS {
        signers.push(key(
            &ring,
            &format!("sign-{spec}"),
            spec,
            KeyUsage::SignVerify,
        ));
    }
    for id in &signers {
        assert_err!(
            ring.encrypt(id, b"x", empty),
            Error::InvalidKeyUsage,
            "{id}"
        );
        assert_err!(
            ring.encrypt_into(id, b"x", empty, &mut out),
            Error::InvalidKeyUsage,
            "{id}"
        );
        for algorithm in EncryptionAlgorithm::ALL.iter().copied() {
            assert_err!(
                ring.encrypt_asymmetric(id, b"x", algorithm),
                Error::InvalidKeyUsage,
                "{id} {algorithm}"
            );
            assert_err!(
                ring.decrypt_asymmetric(id, &[0; 256], algorithm),
                Error::InvalidKeyUsage,
                "{id} {algorithm}"
            );
            assert_err!(
                ring.max_asymmetric_plaintext_len(id, algorithm),
                Error::InvalidKeyUsage,
                "{id} {algorithm}"
            );
        }
        for algorithm in MacAlgorithm::ALL.iter().copied() {
            assert_err!(
                ring.generate_mac(id, b"x", algorithm),
                Error::InvalidKeyUsage,
                "{id} {algorithm}"
            );
            assert_err!(
                ring.generate_mac_into(id, b"x", algorithm, &mut out),
                Error::InvalidKeyUsage,
                "{id} {algorithm}"
            );
            assert_err!(
                ring.verify_mac(id, b"x", algorithm, &[0; 32]),
                Error::InvalidKeyUsage,
                "{id} {algorithm}"
            );
        }
        assert_err!(ring.mac_len(id), Error::InvalidKeyUsage, "{id}");
        assert_err!(
            ring.generate_data_key(id, keyplane::DataKeySpec::Aes256, empty),
            Error::InvalidKeyUsage,
            "{id}"
        );
        assert_err!(
            ring.generate_data_key_pair(id, DataKeyPairSpec::EccNistP256, empty),
            Error::InvalidKeyUsage,
            "{id}"
        );
        assert!(ring.get_public_key(id).is_ok(), "{id} has a public key");
    }

    // MAC keys: no signing, no encryption of either kind, no public key.
    for spec in HMAC_SPECS {
        let id = key(
            &ring,
            &format!("mac-{spec}"),
            spec,
            KeyUsage::GenerateVerifyMac,
        );
        for algorithm in SigningAlgorithm::ALL.iter().copied() {
            assert_err!(
                ring.sign(&id, b"x", MessageType::Raw, algorithm),
                Error::InvalidKeyUsage,
                "{id} {algorithm}"
            );
            assert_err!(
                ring.sign_into(&id, b"x", MessageType::Raw, algorithm, &mut out),
                Error::InvalidKeyUsage,
                "{id} {algorithm}"
            );
            assert_err!(
                ring.verify(&id, b"x", MessageType::Raw, algorithm, &[0; 64]),
                Error::InvalidKeyUsage,
                "{id} {algorithm}"
            );
        }
        assert_err!(ring.max_signature_len(&id), Error::InvalidKeyUsage, "{id}");
        assert_err!(
            ring.encrypt(&id, b"x", empty),
            Error::InvalidKeyUsage,
            "{id}"
        );
        for algorithm in EncryptionAlgorithm::ALL.iter().copied() {
            assert_err!(
                ring.encrypt_asymmetric(&id, b"x", algorithm),
                Error::InvalidKeyUsage,
                "{id} {algorithm}"
            );
            assert_err!(
                ring.decrypt_asymmetric(&id, &[0; 256], algorithm),
                Error::InvalidKeyUsage,
                "{id} {algorithm}"
            );
        }
        assert_err!(
            ring.get_public_key(&id),
            Error::UnsupportedAlgorithm,
            "{id}"
        );
        assert_err!(
            ring.generate_data_key_pair(&id, DataKeyPairSpec::EccNistP256, empty),
            Error::InvalidKeyUsage,
            "{id}"
        );
    }

    // The symmetric key: no signing, MACs, public key or RSA-OAEP.
    for algorithm in SigningAlgorithm::ALL.iter().copied() {
        assert_err!(
            ring.sign(&symmetric, b"x", MessageType::Raw, algorithm),
            Error::InvalidKeyUsage,
            "{algorithm}"
        );
        assert_err!(
            ring.verify(&symmetric, b"x", MessageType::Raw, algorithm, &[0; 64]),
            Error::InvalidKeyUsage,
            "{algorithm}"
        );
    }
    assert_err!(ring.max_signature_len(&symmetric), Error::InvalidKeyUsage);
    for algorithm in MacAlgorithm::ALL.iter().copied() {
        assert_err!(
            ring.generate_mac(&symmetric, b"x", algorithm),
            Error::InvalidKeyUsage,
            "{algorithm}"
        );
        assert_err!(
            ring.verify_mac(&symmetric, b"x", algorithm, &[0; 32]),
            Error::InvalidKeyUsage,
            "{algorithm}"
        );
    }
    assert_err!(ring.get_public_key(&symmetric), Error::UnsupportedAlgorithm);
    for algorithm in EncryptionAlgorithm::ALL.iter().copied() {
        assert_err!(
            ring.encrypt_asymmetric(&symmetric, b"x", algorithm),
            Error::InvalidKeyUsage,
            "{algorithm}"
        );
        assert_err!(
            ring.decrypt_asymmetric(&symmetric, &blob, algorithm),
            Error::InvalidKeyUsage,
            "{algorithm}"
        );
        assert_err!(
            ring.max_asymmetric_plaintext_len(&symmetric, algorithm),
            Error::InvalidKeyUsage,
            "{algorithm}"
        );
    }

    // An RSA ENCRYPT_DECRYPT key cannot sign, MAC or encrypt symmetrically.
    for algorithm in SigningAlgorithm::ALL.iter().copied() {
        assert_err!(
            ring.sign(&rsa_decrypt, b"x", MessageType::Raw, algorithm),
            Error::InvalidKeyUsage,
            "{algorithm}"
        );
        assert_err!(
            ring.sign_into(&rsa_decrypt, b"x", MessageType::Raw, algorithm, &mut out),
            Error::InvalidKeyUsage,
            "{algorithm}"
        );
        assert_err!(
            ring.verify(&rsa_decrypt, b"x", MessageType::Raw, algorithm, &[0; 256]),
            Error::InvalidKeyUsage,
            "{algorithm}"
        );
    }
    assert_err!(ring.max_signature_len(&rsa_decrypt), Error::InvalidKeyUsage);
    assert_err!(
        ring.encrypt(&rsa_decrypt, b"x", empty),
        Error::InvalidKeyUsage
    );
    assert_err!(
        ring.generate_mac(&rsa_decrypt, b"x", MacAlgorithm::HmacSha256),
        Error::InvalidKeyUsage
    );
    // ... and allows exactly the two OAEP algorithms: SYMMETRIC_DEFAULT is not one of them. (A
    // FIPS build refuses the key itself, before it looks at the algorithm.)
    let oaep_refused = refusal(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    assert_err_or_refused!(
        oaep_refused,
        ring.encrypt_asymmetric(&rsa_decrypt, b"x", EncryptionAlgorithm::SymmetricDefault),
        Error::InvalidKeyUsage
    );
    assert_err_or_refused!(
        oaep_refused,
        ring.decrypt_asymmetric(&rsa_decrypt, &blob, EncryptionAlgorithm::SymmetricDefault),
        Error::InvalidKeyUsage
    );
    assert_err!(
        ring.max_asymmetric_plaintext_len(&rsa_decrypt, EncryptionAlgorithm::SymmetricDefault),
        Error::InvalidKeyUsage
    );
    for algorithm in OAEP {
        if let Some(why) = oaep_refused {
            assert_eq!(
                ring.encrypt_asymmetric(&rsa_decrypt, b"x", algorithm),
                Err(Error::NotApproved(why)),
                "{algorithm}"
            );
            assert_eq!(
                ring.decrypt_asymmetric(&rsa_decrypt, &[1; 256], algorithm)
                    .map(drop),
                Err(Error::NotApproved(why)),
                "{algorithm}"
            );
            continue;
        }
        let ct = ring
            .encrypt_asymmetric(&rsa_decrypt, b"x", algorithm)
            .expect("OAEP encryption");
        assert_eq!(
            &ring
                .decrypt_asymmetric(&rsa_decrypt, &ct, algorithm)
                .expect("OAEP decryption")[..],
            b"x"
        );
    }
    // An RSA SIGN_VERIFY key cannot encrypt or decrypt.
    for algorithm in EncryptionAlgorithm::ALL.iter().copied() {
        assert_err!(
            ring.encrypt_asymmetric(&rsa_sign, b"x", algorithm),
            Error::InvalidKeyUsage,
            "{algorithm}"
        );
        assert_err!(
            ring.decrypt_asymmetric(&rsa_sign, &[0; 256], algorithm),
            Error::InvalidKeyUsage,
            "{algorithm}"
        );
        assert_err!(
            ring.max_asymmetric_plaintext_len(&rsa_sign, algorithm),
            Error::InvalidKeyUsage,
            "{algorithm}"
        );
    }
}

/// Each spec allows exactly the signing algorithms `KeySpec::signing_algorithms` lists; every
/// other is `InvalidKeyUsage`, for signing and for verifying.
#[test]
fn every_signing_algorithm_against_every_signing_spec() {
    let ring = Keyring::new();
    let mut out = [0u8; 1024];
    let mut allowed = 0;
    let mut refused = 0;
    let mut not_approved = 0;
    for spec in ECC_SPECS.into_iter().chain(RSA_SPECS) {
        let id = key(&ring, &format!("sign-{spec}"), spec, KeyUsage::SignVerify);
        for algorithm in SigningAlgorithm::ALL.iter().copied() {
            if let Some(why) = refusal(spec, KeyUsage::SignVerify) {
                // A FIPS build refuses the key before it looks at the algorithm.
                let digest = vec![0; digest_len(algorithm)];
                for (message, message_type) in [
                    (&b"m"[..], MessageType::Raw),
                    (&digest[..], MessageType::Digest),
                ] {
                    let refused = Err(Error::NotApproved(why));
                    let context = format!("{spec} {algorithm} {message_type}");
                    assert_eq!(
                        ring.sign(&id, message, message_type, algorithm).map(drop),
                        refused,
                        "{context}"
                    );
                    assert_eq!(
                        ring.sign_into(&id, message, message_type, algorithm, &mut out)
                            .map(drop),
                        refused,
                        "{context}"
                    );
                    assert_eq!(
                        ring.verify(&id, message, message_type, algorithm, &[0; 64])
                            .map(drop),
                        refused,
                        "{context}"
                    );
                }
                not_approved += 1;
                continue;
            }
            if spec.signing_algorithms().contains(&algorithm) {
                let sig = ring
                    .sign(&id, b"m", MessageType::Raw, algorithm)
                    .unwrap_or_else(|e| panic!("{spec} {algorithm}: {e}"));
                assert_eq!(
                    ring.verify(&id, b"m", MessageType::Raw, algorithm, &sig),
                    Ok(true),
                    "{spec} {algorithm}"
                );
                allowed += 1;
                continue;
            }
            let digest = vec![0; digest_len(algorithm)];
            for (message, message_type) in [
                (&b"m"[..], MessageType::Raw),
                (&digest[..], MessageType::Digest),
            ] {
                assert_err!(
                    ring.sign(&id, message, message_type, algorithm),
                    Error::InvalidKeyUsage,
                    "{spec} {algorithm} {message_type}"
                );
                assert_err!(
                    ring.sign_into(&id, message, message_type, algorithm, &mut out),
                    Error::InvalidKeyUsage,
                    "{spec} {algorithm} {message_type}"
                );
                assert_err!(
                    ring.verify(&id, message, message_type, algorithm, &[0; 64]),
                    Error::InvalidKeyUsage,
                    "{spec} {algorithm} {message_type}"
                );
            }
            refused += 1;
        }
    }
    // 4 ECC specs with 1 algorithm each, 3 RSA specs with 6: 22 allowed of 7 x 9 pairs. A FIPS
    // build refuses the secp256k1 key with each of the 9.
    if FIPS_BUILD {
        assert_eq!((allowed, refused, not_approved), (21, 33, 9));
    } else {
        assert_eq!((allowed, refused, not_approved), (22, 41, 0));
    }
}

/// Each HMAC spec allows exactly its own MAC algorithm.
#[test]
fn every_mac_algorithm_against_every_hmac_spec() {
    let ring = Keyring::new();
    let mut out = [0u8; 64];
    let mut allowed = 0;
    for spec in HMAC_SPECS {
        let id = key(
            &ring,
            &format!("mac-{spec}"),
            spec,
            KeyUsage::GenerateVerifyMac,
        );
        for algorithm in MacAlgorithm::ALL.iter().copied() {
            if spec.mac_algorithm() == Some(algorithm) {
                let mac = ring.generate_mac(&id, b"m", algorithm).expect("MAC");
                assert_eq!(mac.len(), algorithm.mac_len());
                assert_eq!(ring.mac_len(&id), Ok(algorithm.mac_len()));
                assert_eq!(ring.verify_mac(&id, b"m", algorithm, &mac), Ok(true));
                allowed += 1;
                continue;
            }
            assert_err!(
                ring.generate_mac(&id, b"m", algorithm),
                Error::InvalidKeyUsage,
                "{spec} {algorithm}"
            );
            assert_err!(
                ring.generate_mac_into(&id, b"m", algorithm, &mut out),
                Error::InvalidKeyUsage,
                "{spec} {algorithm}"
            );
            // Even with the MAC the key's own algorithm would produce.
            let own = spec.mac_algorithm().expect("an HMAC spec");
            let mac = ring.generate_mac(&id, b"m", own).expect("MAC");
            assert_err!(
                ring.verify_mac(&id, b"m", algorithm, &mac),
                Error::InvalidKeyUsage,
                "{spec} {algorithm}"
            );
        }
    }
    assert_eq!(allowed, 4);
}

/// RSA-OAEP algorithms on keys that are not RSA encryption keys.
#[test]
fn oaep_on_non_rsa_keys_is_refused() {
    let ring = Keyring::new();
    let mut ids = vec![key(
        &ring,
        "symmetric",
        KeySpec::SymmetricDefault,
        KeyUsage::EncryptDecrypt,
    )];
    for spec in HMAC_SPECS {
        ids.push(key(
            &ring,
            &format!("k-{spec}"),
            spec,
            KeyUsage::GenerateVerifyMac,
        ));
    }
    for spec in ECC_SPECS {
        ids.push(key(&ring, &format!("k-{spec}"), spec, KeyUsage::SignVerify));
    }
    for id in &ids {
        for algorithm in OAEP {
            assert_err!(
                ring.encrypt_asymmetric(id, b"x", algorithm),
                Error::InvalidKeyUsage,
                "{id} {algorithm}"
            );
            assert_err!(
                ring.decrypt_asymmetric(id, &[1; 256], algorithm),
                Error::InvalidKeyUsage,
                "{id} {algorithm}"
            );
            assert_err!(
                ring.max_asymmetric_plaintext_len(id, algorithm),
                Error::InvalidKeyUsage,
                "{id} {algorithm}"
            );
        }
    }
}

// ----- negatives ---------------------------------------------------------------------------------

#[test]
fn tampered_signatures_do_not_verify() {
    let ring = Keyring::new();
    let message = b"the message that was signed";

    let ecdsa = key(&ring, "p256", KeySpec::EccNistP256, KeyUsage::SignVerify);
    let alg = SigningAlgorithm::EcdsaSha256;
    let sig = ring
        .sign(&ecdsa, message, MessageType::Raw, alg)
        .expect("sign");
    let digest = aws_lc_rs::digest::digest(alg.digest_algorithm(), message);
    assert_eq!(
        ring.verify(&ecdsa, message, MessageType::Raw, alg, &sig),
        Ok(true)
    );
    // A FIPS build refuses the DIGEST message type, whatever the signature.
    let digest_verdict =
        message_refusal(MessageType::Digest).map_or(Ok(false), |why| Err(Error::NotApproved(why)));
    let mut flips = 0;
    for i in 0..sig.len() {
        for bit in 0..8 {
            let mut bad = sig.clone();
            bad[i] ^= 1 << bit;
            assert_eq!(
                ring.verify(&ecdsa, message, MessageType::Raw, alg, &bad),
                Ok(false),
                "bit {bit} of byte {i} flipped"
            );
            assert_eq!(
                ring.verify(&ecdsa, digest.as_ref(), MessageType::Digest, alg, &bad),
                digest_verdict,
                "bit {bit} of byte {i} flipped (DIGEST)"
            );
            flips += 1;
        }
    }
    assert_eq!(flips, 8 * sig.len());
    let malformed: [&[u8]; 4] = [&[], &sig[..sig.len() - 1], &[0; 72], &[0x30, 0x00]];
    for bad in malformed {
        assert_eq!(
            ring.verify(&ecdsa, message, MessageType::Raw, alg, bad),
            Ok(false),
            "{bad:02x?}"
        );
    }
    let mut longer = sig.clone();
    longer.push(0);
    assert_eq!(
        ring.verify(&ecdsa, message, MessageType::Raw, alg, &longer),
        Ok(false)
    );

    let rsa = key(&ring, "rsa", KeySpec::Rsa2048, KeyUsage::SignVerify);
    for alg in [
        SigningAlgorithm::RsassaPssSha256,
        SigningAlgorithm::RsassaPkcs1V15Sha256,
    ] {
        let sig = ring
            .sign(&rsa, message, MessageType::Raw, alg)
            .expect("sign");
        assert_eq!(sig.len(), 256);
        assert_eq!(
            ring.verify(&rsa, message, MessageType::Raw, alg, &sig),
            Ok(true)
        );
        for i in [0, 1, 100, 128, 254, 255] {
            let mut bad = sig.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                ring.verify(&rsa, message, MessageType::Raw, alg, &bad),
                Ok(false),
                "{alg}: byte {i} flipped"
            );
        }
        let mut longer = sig.clone();
        longer.push(0);
        let malformed: [&[u8]; 4] = [&[], &sig[..255], &longer, &[0; 256]];
        for bad in malformed {
            assert_eq!(
                ring.verify(&rsa, message, MessageType::Raw, alg, bad),
                Ok(false),
                "{alg}: {} bytes",
                bad.len()
            );
        }
        // A different message, and the other padding's algorithm, with the very signature.
        assert_eq!(
            ring.verify(&rsa, b"another message", MessageType::Raw, alg, &sig),
            Ok(false)
        );
        let other = if alg == SigningAlgorithm::RsassaPssSha256 {
            SigningAlgorithm::RsassaPkcs1V15Sha256
        } else {
            SigningAlgorithm::RsassaPssSha256
        };
        assert_eq!(
            ring.verify(&rsa, message, MessageType::Raw, other, &sig),
            Ok(false),
            "{alg} signature under {other}"
        );
    }
}

/// A DIGEST message must be exactly the algorithm's digest length. A FIPS build refuses the DIGEST
/// message type (and the secp256k1 key) before it checks the length, for every length.
#[test]
fn wrong_digest_lengths_are_invalid_input() {
    let ring = Keyring::new();
    let rsa = key(&ring, "rsa", KeySpec::Rsa2048, KeyUsage::SignVerify);
    let p256 = key(&ring, "p256", KeySpec::EccNistP256, KeyUsage::SignVerify);
    let p384 = key(&ring, "p384", KeySpec::EccNistP384, KeyUsage::SignVerify);
    let p521 = key(&ring, "p521", KeySpec::EccNistP521, KeyUsage::SignVerify);
    let k1 = key(&ring, "k1", KeySpec::EccSecgP256k1, KeyUsage::SignVerify);
    let mut out = [0u8; 512];
    let mut checked = 0;
    for algorithm in SigningAlgorithm::ALL.iter().copied() {
        let ids: Vec<(&str, KeySpec)> = match algorithm {
            SigningAlgorithm::EcdsaSha256 => {
                vec![(&p256, KeySpec::EccNistP256), (&k1, KeySpec::EccSecgP256k1)]
            }
            SigningAlgorithm::EcdsaSha384 => vec![(&p384, KeySpec::EccNistP384)],
            SigningAlgorithm::EcdsaSha512 => vec![(&p521, KeySpec::EccNistP521)],
            _ => vec![(&rsa, KeySpec::Rsa2048)],
        };
        let right = digest_len(algorithm);
        for (id, spec) in ids {
            if let Some(why) = signing_refusal(spec, MessageType::Digest) {
                let refused = Err(Error::NotApproved(why));
                // A real signature where the key signs at all: the refusal is not about it.
                let signature = match refusal(spec, KeyUsage::SignVerify) {
                    Some(_) => vec![0; 64],
                    None => ring
                        .sign(id, b"m", MessageType::Raw, algorithm)
                        .expect("sign a RAW message"),
                };
                for len in [0, 1, 20, 28, 32, 48, 64, right - 1, right, right + 1, 1024] {
                    let message = vec![0x5a; len];
                    let context = format!("{algorithm} with a {len}-byte digest");
                    assert_eq!(
                        ring.sign(id, &message, MessageType::Digest, algorithm)
                            .map(drop),
                        refused,
                        "{context}"
                    );
                    assert_eq!(
                        ring.sign_into(id, &message, MessageType::Digest, algorithm, &mut out)
                            .map(drop),
                        refused,
                        "{context}"
                    );
                    assert_eq!(
                        ring.verify(id, &message, MessageType::Digest, algorithm, &signature)
                            .map(drop),
                        refused,
                        "{context}"
                    );
                    if len != right {
                        checked += 1;
                    }
                }
                continue;
            }
            // The right length works, so the refusals below are about the length alone.
            let digest = vec![0x5a; right];
            let sig = ring
                .sign(id, &digest, MessageType::Digest, algorithm)
                .expect("sign a digest");
            assert_eq!(
                ring.verify(id, &digest, MessageType::Digest, algorithm, &sig),
                Ok(true)
            );
            for len in [0, 1, 20, 28, 32, 48, 64, right - 1, right + 1, 1024] {
                if len == right {
                    continue;
                }
                let wrong = vec![0x5a; len];
                assert_err!(
                    ring.sign(id, &wrong, MessageType::Digest, algorithm),
                    Error::InvalidInput(_),
                    "{algorithm} with a {len}-byte digest"
                );
                assert_err!(
                    ring.sign_into(id, &wrong, MessageType::Digest, algorithm, &mut out),
                    Error::InvalidInput(_),
                    "{algorithm} with a {len}-byte digest"
                );
                assert_err!(
                    ring.verify(id, &wrong, MessageType::Digest, algorithm, &sig),
                    Error::InvalidInput(_),
                    "{algorithm} with a {len}-byte digest"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 10 * 8, "only {checked} wrong lengths checked");
}

/// AWS KMS's RSA-OAEP plaintext limits, for every RSA size and both algorithms.
#[test]
#[cfg_attr(
    feature = "fips",
    ignore = "a FIPS build refuses RSA-OAEP (RSA ENCRYPT_DECRYPT keys); core/tests/fips.rs tests \
              the refusal"
)]
fn oaep_plaintext_limits_for_every_size() {
    let ring = Keyring::new();
    let limits = [
        (KeySpec::Rsa2048, 214, 190),
        (KeySpec::Rsa3072, 342, 318),
        (KeySpec::Rsa4096, 470, 446),
    ];
    for (spec, sha1_limit, sha256_limit) in limits {
        let id = key(
            &ring,
            &format!("oaep-{spec}"),
            spec,
            KeyUsage::EncryptDecrypt,
        );
        for (algorithm, limit) in [
            (EncryptionAlgorithm::RsaesOaepSha1, sha1_limit),
            (EncryptionAlgorithm::RsaesOaepSha256, sha256_limit),
        ] {
            assert_eq!(
                ring.max_asymmetric_plaintext_len(&id, algorithm),
                Ok(limit),
                "{spec} {algorithm}"
            );
            for len in [0, 1, limit] {
                let plaintext: Vec<u8> = (0..len)
                    .map(|i| u8::try_from(i % 251).expect("< 251"))
                    .collect();
                let ct = ring
                    .encrypt_asymmetric(&id, &plaintext, algorithm)
                    .unwrap_or_else(|e| panic!("{spec} {algorithm} {len} bytes: {e}"));
                assert_eq!(ct.len() * 8, modulus_bits(spec), "{spec}");
                assert_eq!(
                    &ring
                        .decrypt_asymmetric(&id, &ct, algorithm)
                        .expect("decrypt")[..],
                    &plaintext[..],
                    "{spec} {algorithm} {len} bytes"
                );
            }
            for len in [limit + 1, limit + 2, modulus_bits(spec) / 8, 4096] {
                assert_err!(
                    ring.encrypt_asymmetric(&id, &vec![7; len], algorithm),
                    Error::InvalidInput(_),
                    "{spec} {algorithm} {len} bytes"
                );
            }
        }
    }
}

fn modulus_bits(spec: KeySpec) -> usize {
    match spec {
        KeySpec::Rsa2048 => 2048,
        KeySpec::Rsa3072 => 3072,
        KeySpec::Rsa4096 => 4096,
        other => panic!("{other} is not RSA"),
    }
}

/// What each operation returned, in order: sign, sign_into, verify, generate_mac,
/// generate_mac_into, verify_mac, encrypt_asymmetric, decrypt_asymmetric, get_public_key
/// (twice: for the signing key and the encryption key).
fn every_operation(ring: &Keyring, keys: &StateKeys) -> Vec<(&'static str, Result<(), Error>)> {
    let mut out = [0u8; 512];
    let ecdsa = SigningAlgorithm::EcdsaSha256;
    let hmac = MacAlgorithm::HmacSha256;
    let oaep = EncryptionAlgorithm::RsaesOaepSha256;
    vec![
        (
            "sign",
            ring.sign(&keys.signer, b"m", MessageType::Raw, ecdsa)
                .map(drop),
        ),
        (
            "sign_into",
            ring.sign_into(&keys.signer, b"m", MessageType::Raw, ecdsa, &mut out)
                .map(drop),
        ),
        (
            "verify",
            ring.verify(&keys.signer, b"m", MessageType::Raw, ecdsa, &keys.signature)
                .map(|ok| assert!(ok, "the signature verifies")),
        ),
        (
            "generate_mac",
            ring.generate_mac(&keys.mac, b"m", hmac).map(drop),
        ),
        (
            "generate_mac_into",
            ring.generate_mac_into(&keys.mac, b"m", hmac, &mut out)
                .map(drop),
        ),
        (
            "verify_mac",
            ring.verify_mac(&keys.mac, b"m", hmac, &keys.tag)
                .map(|ok| assert!(ok, "the MAC verifies")),
        ),
        (
            "encrypt_asymmetric",
            ring.encrypt_asymmetric(&keys.rsa, b"m", oaep).map(drop),
        ),
        (
            "decrypt_asymmetric",
            ring.decrypt_asymmetric(&keys.rsa, &keys.ciphertext, oaep)
                .map(|p| assert_eq!(&p[..], b"m")),
        ),
        (
            "get_public_key (signer)",
            ring.get_public_key(&keys.signer).map(drop),
        ),
        (
            "get_public_key (RSA)",
            ring.get_public_key(&keys.rsa).map(drop),
        ),
    ]
}

struct StateKeys {
    signer: String,
    mac: String,
    rsa: String,
    signature: Vec<u8>,
    tag: Vec<u8>,
    ciphertext: Vec<u8>,
}

fn state_keys(ring: &Keyring) -> StateKeys {
    let signer = key(ring, "signer", KeySpec::EccNistP256, KeyUsage::SignVerify);
    let mac = key(ring, "mac", KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
    let rsa = key(ring, "rsa", KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    let signature = ring
        .sign(
            &signer,
            b"m",
            MessageType::Raw,
            SigningAlgorithm::EcdsaSha256,
        )
        .expect("sign");
    let tag = ring
        .generate_mac(&mac, b"m", MacAlgorithm::HmacSha256)
        .expect("MAC");
    let ciphertext = if FIPS_BUILD {
        // The keyring refuses RSA-OAEP there; raw aws-lc-rs makes the ciphertext instead.
        let private =
            PrivateDecryptingKey::from_pkcs8(rsa_pkcs8(KeySpec::Rsa2048)).expect("PKCS#8");
        let public = OaepPublicEncryptingKey::new(private.public_key()).expect("an RSA key");
        let mut out = vec![0; public.ciphertext_size()];
        public
            .encrypt(&OAEP_SHA256_MGF1SHA256, b"m", &mut out, None)
            .expect("encrypt")
            .to_vec()
    } else {
        ring.encrypt_asymmetric(&rsa, b"m", EncryptionAlgorithm::RsaesOaepSha256)
            .expect("encrypt")
    };
    StateKeys {
        signer,
        mac,
        rsa,
        signature,
        tag,
        ciphertext,
    }
}

/// Asserts every operation gave `expected`; except that a FIPS build refuses the RSA encryption
/// key's operations where its state would allow them.
#[track_caller]
fn assert_all(results: &[(&'static str, Result<(), Error>)], expected: Result<(), Error>) {
    let oaep_refused = refusal(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    for (operation, result) in results {
        let expected = match oaep_refused {
            Some(why) if expected.is_ok() && operation.ends_with("crypt_asymmetric") => {
                Err(Error::NotApproved(why))
            }
            _ => expected,
        };
        assert_eq!(result, &expected, "{operation}");
    }
    assert_eq!(results.len(), 10);
}

#[test]
fn disabled_and_pending_deletion_keys_refuse_every_operation() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let keys = state_keys(&ring);
    let ids = [&keys.signer, &keys.mac, &keys.rsa];
    assert_all(&every_operation(&ring, &keys), Ok(()));

    for id in ids {
        ring.disable_key(id)?;
    }
    assert_all(&every_operation(&ring, &keys), Err(Error::KeyDisabled));
    for id in ids {
        ring.enable_key(id)?;
    }
    assert_all(&every_operation(&ring, &keys), Ok(()));

    for id in ids {
        ring.schedule_key_deletion(id, PendingWindow::days(7)?)?;
        assert_eq!(ring.describe_key(id)?.key_state, KeyState::PendingDeletion);
    }
    assert_all(&every_operation(&ring, &keys), Err(Error::InvalidKeyState));
    // Cancelled, a key comes back disabled, as in AWS KMS.
    for id in ids {
        ring.cancel_key_deletion(id)?;
    }
    assert_all(&every_operation(&ring, &keys), Err(Error::KeyDisabled));
    for id in ids {
        ring.enable_key(id)?;
    }
    assert_all(&every_operation(&ring, &keys), Ok(()));

    // Through an alias too.
    ring.create_alias("alias/signer", &keys.signer)?;
    ring.disable_key("alias/signer")?;
    assert_err!(
        ring.sign(
            "alias/signer",
            b"m",
            MessageType::Raw,
            SigningAlgorithm::EcdsaSha256
        ),
        Error::KeyDisabled
    );
    assert_err!(ring.get_public_key("alias/signer"), Error::KeyDisabled);
    Ok(())
}

#[test]
fn asymmetric_and_hmac_keys_do_not_rotate() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let period = RotationPeriod::days(365)?;
    let mut ids = Vec::new();
    for spec in ECC_SPECS {
        ids.push(key(&ring, &format!("k-{spec}"), spec, KeyUsage::SignVerify));
    }
    for spec in HMAC_SPECS {
        ids.push(key(
            &ring,
            &format!("k-{spec}"),
            spec,
            KeyUsage::GenerateVerifyMac,
        ));
    }
    for spec in RSA_SPECS {
        for usage in [KeyUsage::SignVerify, KeyUsage::EncryptDecrypt] {
            ids.push(key(&ring, &format!("k-{spec}-{usage}"), spec, usage));
        }
    }
    assert_eq!(ids.len(), 14);
    for id in &ids {
        assert_err!(ring.rotate_key(id), Error::UnsupportedAlgorithm, "{id}");
        assert_err!(
            ring.enable_key_rotation(id, period),
            Error::UnsupportedAlgorithm,
            "{id}"
        );
        assert_err!(
            ring.disable_key_rotation(id),
            Error::UnsupportedAlgorithm,
            "{id}"
        );
        let described = ring.describe_key(id)?;
        assert_eq!(described.current_version, 1, "{id}");
        assert_eq!(described.rotation_period, None, "{id}");
        assert_eq!(described.next_rotation_date, None, "{id}");
    }
    Ok(())
}

#[test]
fn rotation_period_on_a_non_symmetric_key_is_invalid_input() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let period = RotationPeriod::days(365)?;
    // One RSA key only: `create_key` generates the material before it checks the options,
    // which for RSA-4096 takes seconds for nothing. The check does not depend on the spec.
    let mut requests = vec![CreateKey::new(KeySpec::Rsa2048).usage(KeyUsage::SignVerify)];
    for spec in ECC_SPECS.into_iter().chain(HMAC_SPECS) {
        requests.push(CreateKey::new(spec));
    }
    for request in requests {
        assert_eq!(
            ring.create_key(&request.clone().rotation_period(period)),
            Err(Error::InvalidInput(
                "only SYMMETRIC_DEFAULT keys rotate automatically"
            )),
            "{request:?}"
        );
    }
    assert!(ring.list_keys().is_empty(), "nothing was created");
    // The same option on a symmetric key is fine.
    let symmetric =
        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).rotation_period(period))?;
    assert_eq!(symmetric.rotation_period, Some(period));
    Ok(())
}

#[test]
fn empty_and_one_mebibyte_messages_sign_and_verify() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let large: Vec<u8> = (0..1 << 20)
        .map(|i: u32| u8::try_from(i % 253).expect("< 253"))
        .collect();
    let mut altered = large.clone();
    altered[(1 << 20) - 1] ^= 1;
    for spec in ECC_SPECS.into_iter().chain([KeySpec::Rsa2048]) {
        let id = key(&ring, &format!("k-{spec}"), spec, KeyUsage::SignVerify);
        let public = ring.get_public_key(&id)?.public_key;
        if let Some(why) = refusal(spec, KeyUsage::SignVerify) {
            for &algorithm in spec.signing_algorithms() {
                for message in [&b""[..], &large[..]] {
                    assert_eq!(
                        ring.sign(&id, message, MessageType::Raw, algorithm),
                        Err(Error::NotApproved(why)),
                        "{spec} {algorithm} {} bytes",
                        message.len()
                    );
                    assert_eq!(
                        ring.verify(&id, message, MessageType::Raw, algorithm, &[0; 72]),
                        Err(Error::NotApproved(why)),
                        "{spec} {algorithm} {} bytes",
                        message.len()
                    );
                }
            }
            continue;
        }
        for &algorithm in spec.signing_algorithms() {
            for message in [&b""[..], &large[..]] {
                let sig = ring.sign(&id, message, MessageType::Raw, algorithm)?;
                assert!(
                    ring.verify(&id, message, MessageType::Raw, algorithm, &sig)?,
                    "{spec} {algorithm} {} bytes",
                    message.len()
                );
                UnparsedPublicKey::new(independent(spec, algorithm), &public)
                    .verify(message, &sig)
                    .unwrap_or_else(|_| panic!("aws-lc-rs rejects {spec} {algorithm}"));
                // Signing the digest of the message is the same signature scheme (which a FIPS
                // build refuses to verify).
                let digest = aws_lc_rs::digest::digest(algorithm.digest_algorithm(), message);
                let verified =
                    ring.verify(&id, digest.as_ref(), MessageType::Digest, algorithm, &sig);
                match message_refusal(MessageType::Digest) {
                    Some(why) => assert_eq!(verified, Err(Error::NotApproved(why))),
                    None => assert!(verified?),
                }
            }
            let sig = ring.sign(&id, &large, MessageType::Raw, algorithm)?;
            assert!(
                !ring.verify(&id, &altered, MessageType::Raw, algorithm, &sig)?,
                "{spec} {algorithm}: the last byte of 1 MiB changed"
            );
            let sig = ring.sign(&id, b"", MessageType::Raw, algorithm)?;
            assert!(!ring.verify(&id, b"\0", MessageType::Raw, algorithm, &sig)?);
        }
    }
    Ok(())
}

// ----- independent verification ------------------------------------------------------------------

/// Every signing spec and algorithm, RAW and DIGEST, verified by aws-lc-rs from the DER SPKI that
/// `get_public_key` returns. (A FIPS build refuses to sign with the secp256k1 key or a DIGEST.)
#[test]
fn aws_lc_rs_verifies_every_spec_and_algorithm() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let message = b"independently verified";
    let mut verified = 0;
    for spec in ECC_SPECS.into_iter().chain(RSA_SPECS) {
        let id = key(&ring, &format!("k-{spec}"), spec, KeyUsage::SignVerify);
        let info = ring.get_public_key(&id)?;
        assert_eq!(info.key_id, id);
        assert_eq!(info.key_spec, spec);
        assert_eq!(info.key_usage, KeyUsage::SignVerify);
        assert_eq!(info.signing_algorithms, spec.signing_algorithms());
        assert!(info.encryption_algorithms.is_empty());
        if RSA_SPECS.contains(&spec) {
            // The public key is the imported private key's.
            let pair = RsaKeyPair::from_pkcs8(rsa_pkcs8(spec)).expect("PKCS#8");
            let der: aws_lc_rs::encoding::PublicKeyX509Der<'_> =
                pair.public_key().as_der().expect("SPKI");
            assert_eq!(info.public_key, der.as_ref());
        }
        for &algorithm in spec.signing_algorithms() {
            let verifier = UnparsedPublicKey::new(independent(spec, algorithm), &info.public_key);
            let digest = aws_lc_rs::digest::digest(algorithm.digest_algorithm(), message);
            let mut signatures = Vec::new();
            for (input, message_type) in [
                (&message[..], MessageType::Raw),
                (digest.as_ref(), MessageType::Digest),
            ] {
                let sig = ring.sign(&id, input, message_type, algorithm);
                match signing_refusal(spec, message_type) {
                    Some(why) => {
                        assert_eq!(sig, Err(Error::NotApproved(why)), "{spec} {algorithm}");
                    }
                    None => signatures.push((message_type, sig?)),
                }
            }
            for (_, sig) in &signatures {
                assert!(sig.len() <= ring.max_signature_len(&id)?);
                verifier
                    .verify(message, sig)
                    .unwrap_or_else(|_| panic!("aws-lc-rs rejects {spec} {algorithm}"));
                assert!(
                    verifier.verify(b"another message", sig).is_err(),
                    "{spec} {algorithm}"
                );
                verified += 1;
            }
            if RSA_SPECS.contains(&spec) {
                let (_, raw) = signatures
                    .iter()
                    .find(|(t, _)| *t == MessageType::Raw)
                    .expect("a RAW signature");
                assert_eq!(raw.len() * 8, modulus_bits(spec));
            }
        }
    }
    // (4 ECC specs x 1 + 3 RSA specs x 6 algorithms) x RAW and DIGEST; a FIPS build signs
    // neither with the secp256k1 key nor a DIGEST.
    assert_eq!(verified, if FIPS_BUILD { 21 } else { 44 });
    Ok(())
}

/// The PKCS#8 private key and the public key of a data key pair, as aws-lc-rs sees them.
fn check_data_key_pair(spec: DataKeyPairSpec, pkcs8: &[u8], public_key: &[u8]) {
    let message = b"signed with the data key pair";
    let ecdsa: Option<(
        &'static EcdsaSigningAlgorithm,
        &'static dyn VerificationAlgorithm,
    )> = match spec {
        DataKeyPairSpec::EccNistP256 => Some((
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &signature::ECDSA_P256_SHA256_ASN1,
        )),
        DataKeyPairSpec::EccNistP384 => Some((
            &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            &signature::ECDSA_P384_SHA384_ASN1,
        )),
        DataKeyPairSpec::EccNistP521 => Some((
            &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
            &signature::ECDSA_P521_SHA512_ASN1,
        )),
        DataKeyPairSpec::EccSecgP256k1 => Some((
            &signature::ECDSA_P256K1_SHA256_ASN1_SIGNING,
            &signature::ECDSA_P256K1_SHA256_ASN1,
        )),
        _ => None,
    };
    if let Some((signing, verification)) = ecdsa {
        let pair = EcdsaKeyPair::from_pkcs8(signing, pkcs8)
            .unwrap_or_else(|e| panic!("{spec}: PKCS#8 rejected: {e}"));
        let der: aws_lc_rs::encoding::PublicKeyX509Der<'_> =
            pair.public_key().as_der().expect("SPKI");
        assert_eq!(der.as_ref(), public_key, "{spec}: public key");
        let sig = pair.sign(&SystemRandom::new(), message).expect("sign");
        UnparsedPublicKey::new(verification, public_key)
            .verify(message, sig.as_ref())
            .unwrap_or_else(|_| panic!("{spec}: signature rejected"));
        return;
    }
    let pair = RsaKeyPair::from_pkcs8(pkcs8).unwrap_or_else(|e| panic!("{spec}: {e}"));
    let bits = modulus_bits(spec.key_spec());
    assert_eq!(pair.public_modulus_len() * 8, bits, "{spec}");
    let der: aws_lc_rs::encoding::PublicKeyX509Der<'_> = pair.public_key().as_der().expect("SPKI");
    assert_eq!(der.as_ref(), public_key, "{spec}: public key");
    let mut sig = vec![0; pair.public_modulus_len()];
    pair.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message,
        &mut sig,
    )
    .expect("sign");
    UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public_key)
        .verify(message, &sig)
        .unwrap_or_else(|_| panic!("{spec}: signature rejected"));
}

#[test]
fn data_key_pairs_of_every_spec_are_usable_key_pairs() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let wrapping = ring
        .create_key(&CreateKey::new(KeySpec::SymmetricDefault))?
        .key_id;
    let context = ctx(&[("purpose", "data key pair")]);
    let other = ctx(&[("purpose", "something else")]);
    let mut seen = 0;
    let mut not_approved = 0;
    // Each spec once: RSA-4096 is generated here exactly once.
    for spec in DataKeyPairSpec::ALL.iter().copied() {
        if let Some(why) = refusal(spec.key_spec(), KeyUsage::SignVerify) {
            assert_eq!(
                ring.generate_data_key_pair(&wrapping, spec, &context)
                    .map(drop),
                Err(Error::NotApproved(why)),
                "{spec}"
            );
            assert_eq!(
                ring.generate_data_key_pair_without_plaintext(&wrapping, spec, &context)
                    .map(drop),
                Err(Error::NotApproved(why)),
                "{spec}"
            );
            not_approved += 1;
            continue;
        }
        let pair = ring.generate_data_key_pair(&wrapping, spec, &context)?;
        assert_eq!(pair.key_id(), wrapping);
        assert_eq!(pair.key_pair_spec(), spec);
        check_data_key_pair(spec, pair.private_key_plaintext(), pair.public_key());

        // The blob is the PKCS#8, under the wrapping key and this context only.
        let decrypted = ring.decrypt(pair.private_key_ciphertext_blob(), &context)?;
        assert_eq!(&decrypted[..], pair.private_key_plaintext(), "{spec}");
        assert_err!(
            ring.decrypt(pair.private_key_ciphertext_blob(), &other),
            Error::InvalidCiphertext,
            "{spec}"
        );
        assert_err!(
            ring.decrypt(
                pair.private_key_ciphertext_blob(),
                EncryptionContext::empty()
            ),
            Error::InvalidCiphertext,
            "{spec}"
        );

        // Keyplane imports the private key as a key of the same spec with the same public key.
        let imported = ring.insecure_import_key_material(
            &format!("imported-{spec}"),
            spec.key_spec(),
            KeyUsage::SignVerify,
            pair.private_key_plaintext(),
        )?;
        assert_eq!(
            ring.get_public_key(&imported.key_id)?.public_key,
            pair.public_key(),
            "{spec}"
        );
        seen += 1;
    }
    // A FIPS build refuses secp256k1 pairs.
    if FIPS_BUILD {
        assert_eq!((seen, not_approved), (6, 1));
    } else {
        assert_eq!((seen, not_approved), (7, 0));
    }

    let without = ring.generate_data_key_pair_without_plaintext(
        &wrapping,
        DataKeyPairSpec::EccNistP256,
        &context,
    )?;
    assert_eq!(without.key_id, wrapping);
    let pkcs8 = ring.decrypt(&without.private_key_ciphertext_blob, &context)?;
    check_data_key_pair(DataKeyPairSpec::EccNistP256, &pkcs8, &without.public_key);
    Ok(())
}

/// `generate_data_key_pair` checks the wrapping key first. (That it generates nothing then is
/// shown by `no_alloc.rs`, where such a refusal allocates nothing at all.)
#[test]
fn data_key_pairs_need_an_enabled_symmetric_key() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let context = EncryptionContext::empty();
    let mut refused = vec![
        key(&ring, "p256", KeySpec::EccNistP256, KeyUsage::SignVerify),
        key(&ring, "hmac", KeySpec::Hmac256, KeyUsage::GenerateVerifyMac),
        key(&ring, "rsa-enc", KeySpec::Rsa2048, KeyUsage::EncryptDecrypt),
    ];
    refused.push(key(
        &ring,
        "rsa-sign",
        KeySpec::Rsa2048,
        KeyUsage::SignVerify,
    ));
    for id in &refused {
        for spec in [DataKeyPairSpec::Rsa4096, DataKeyPairSpec::EccNistP256] {
            assert_err!(
                ring.generate_data_key_pair(id, spec, context),
                Error::InvalidKeyUsage,
                "{id} {spec}"
            );
            assert_err!(
                ring.generate_data_key_pair_without_plaintext(id, spec, context),
                Error::InvalidKeyUsage,
                "{id} {spec}"
            );
        }
    }
    let disabled = ring
        .create_key(&CreateKey::new(KeySpec::SymmetricDefault))?
        .key_id;
    ring.disable_key(&disabled)?;
    let pending = ring
        .create_key(&CreateKey::new(KeySpec::SymmetricDefault))?
        .key_id;
    ring.schedule_key_deletion(&pending, PendingWindow::custom(Duration::from_secs(3600)))?;
    for spec in [DataKeyPairSpec::Rsa4096, DataKeyPairSpec::EccNistP256] {
        assert_err!(
            ring.generate_data_key_pair(&disabled, spec, context),
            Error::KeyDisabled
        );
        assert_err!(
            ring.generate_data_key_pair(&pending, spec, context),
            Error::InvalidKeyState
        );
        assert_err!(
            ring.generate_data_key_pair("no-such-key", spec, context),
            Error::NotFound
        );
    }
    Ok(())
}

// ----- OpenSSL -----------------------------------------------------------------------------------

/// A directory under the system temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "keyplane-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        Self(path)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).expect("write a temporary file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `openssl` with `args`. Fails (never skips) when the tool is missing.
fn openssl(args: &[&str]) -> Output {
    match Command::new("openssl").args(args).output() {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "the `openssl` command-line tool was not found on PATH; these tests need it to check \
             Keyplane's outputs independently. Install OpenSSL (e.g. `apt-get install openssl`)."
        ),
        Err(e) => panic!("could not run openssl: {e}"),
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temporary path")
}

/// `openssl dgst` verifies `sig` over `msg` with the PEM public key; returns whether it did.
fn openssl_verifies(
    dir: &TempDir,
    pem: &Path,
    algorithm: SigningAlgorithm,
    msg: &[u8],
    sig: &[u8],
) -> bool {
    let msg = dir.write("msg.bin", msg);
    let sig = dir.write("sig.bin", sig);
    let (digest, salt) = match algorithm {
        SigningAlgorithm::EcdsaSha256 | SigningAlgorithm::RsassaPkcs1V15Sha256 => ("-sha256", None),
        SigningAlgorithm::EcdsaSha384 | SigningAlgorithm::RsassaPkcs1V15Sha384 => ("-sha384", None),
        SigningAlgorithm::EcdsaSha512 | SigningAlgorithm::RsassaPkcs1V15Sha512 => ("-sha512", None),
        SigningAlgorithm::RsassaPssSha256 => ("-sha256", Some(("32", "sha256"))),
        SigningAlgorithm::RsassaPssSha384 => ("-sha384", Some(("48", "sha384"))),
        SigningAlgorithm::RsassaPssSha512 => ("-sha512", Some(("64", "sha512"))),
        other => panic!("no openssl mapping for {other}"),
    };
    let mut args = vec![
        "dgst",
        digest,
        "-verify",
        path(pem),
        "-signature",
        path(&sig),
    ];
    let salt_opt;
    let mgf_opt;
    if let Some((salt, mgf)) = salt {
        // PSS with the salt length and MGF1 hash AWS KMS uses, checked exactly.
        salt_opt = format!("rsa_pss_saltlen:{salt}");
        mgf_opt = format!("rsa_mgf1_md:{mgf}");
        args.extend([
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            &salt_opt,
            "-sigopt",
            &mgf_opt,
        ]);
    }
    args.push(path(&msg));
    let output = openssl(&args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let ok = output.status.success();
    assert_eq!(
        ok,
        stdout.contains("Verified OK"),
        "openssl's status and output disagree: {stdout}"
    );
    ok
}

#[test]
fn openssl_verifies_keyplane_signatures() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let dir = TempDir::new("openssl-sign");
    let message = b"checked by openssl";
    let mut checked = 0;
    for spec in ECC_SPECS.into_iter().chain([KeySpec::Rsa2048]) {
        let id = key(&ring, &format!("k-{spec}"), spec, KeyUsage::SignVerify);
        let pem = dir.write("pub.pem", ring.get_public_key(&id)?.to_pem().as_bytes());
        for &algorithm in spec.signing_algorithms() {
            if let Some(why) = refusal(spec, KeyUsage::SignVerify) {
                assert_eq!(
                    ring.sign(&id, message, MessageType::Raw, algorithm),
                    Err(Error::NotApproved(why)),
                    "{spec} {algorithm}"
                );
                continue;
            }
            let sig = ring.sign(&id, message, MessageType::Raw, algorithm)?;
            assert!(
                openssl_verifies(&dir, &pem, algorithm, message, &sig),
                "openssl rejects Keyplane's {spec} {algorithm} signature"
            );
            // The control: openssl does reject, for another message.
            assert!(
                !openssl_verifies(&dir, &pem, algorithm, b"another message", &sig),
                "openssl accepts {spec} {algorithm} over another message"
            );
            checked += 1;
        }
    }
    // P-256, P-384, P-521, secp256k1 (which a FIPS build refuses), and the six RSA algorithms.
    assert_eq!(checked, if FIPS_BUILD { 9 } else { 10 });
    Ok(())
}

#[test]
#[cfg_attr(
    feature = "fips",
    ignore = "a FIPS build refuses RSA-OAEP (RSA ENCRYPT_DECRYPT keys); core/tests/fips.rs tests \
              the refusal"
)]
fn openssl_and_keyplane_interoperate_on_rsa_oaep() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let dir = TempDir::new("openssl-oaep");
    let id = key(&ring, "oaep", KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    let pem = dir.write("pub.pem", ring.get_public_key(&id)?.to_pem().as_bytes());
    let private = dir.write("key.der", rsa_pkcs8(KeySpec::Rsa2048));
    let plaintext = b"encrypted by openssl, decrypted by Keyplane";
    let pt = dir.write("pt.bin", plaintext);
    let ct = dir.0.join("ct.bin");
    for (algorithm, md) in [
        (EncryptionAlgorithm::RsaesOaepSha256, "sha256"),
        (EncryptionAlgorithm::RsaesOaepSha1, "sha1"),
    ] {
        let oaep_md = format!("rsa_oaep_md:{md}");
        let mgf1_md = format!("rsa_mgf1_md:{md}");
        let options = [
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            &oaep_md,
            "-pkeyopt",
            &mgf1_md,
        ];
        // openssl encrypts with the PEM public key; Keyplane decrypts.
        let mut args = vec!["pkeyutl", "-encrypt", "-pubin", "-inkey", path(&pem)];
        args.extend(options);
        args.extend(["-in", path(&pt), "-out", path(&ct)]);
        let output = openssl(&args);
        assert!(
            output.status.success(),
            "openssl pkeyutl -encrypt failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let ciphertext = std::fs::read(&ct).expect("read the ciphertext");
        assert_eq!(ciphertext.len(), 256);
        assert_eq!(
            &ring.decrypt_asymmetric(&id, &ciphertext, algorithm)?[..],
            plaintext,
            "{algorithm}"
        );
        let other = OAEP.into_iter().find(|&a| a != algorithm).expect("two");
        assert_err!(
            ring.decrypt_asymmetric(&id, &ciphertext, other),
            Error::InvalidCiphertext,
            "{algorithm} ciphertext under {other}"
        );

        // Keyplane encrypts; openssl decrypts with the private key.
        let ours = ring.encrypt_asymmetric(&id, plaintext, algorithm)?;
        std::fs::write(&ct, &ours).expect("write the ciphertext");
        let mut args = vec![
            "pkeyutl",
            "-decrypt",
            "-keyform",
            "DER",
            "-inkey",
            path(&private),
        ];
        args.extend(options);
        args.extend(["-in", path(&ct)]);
        let output = openssl(&args);
        assert!(
            output.status.success(),
            "openssl pkeyutl -decrypt failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.stdout, plaintext, "{algorithm}");
    }
    Ok(())
}

// ----- PEM ---------------------------------------------------------------------------------------

#[test]
fn pem_is_the_der_in_64_column_base64() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let mut keys = Vec::new();
    for spec in ECC_SPECS {
        keys.push(key(&ring, &format!("k-{spec}"), spec, KeyUsage::SignVerify));
    }
    for spec in RSA_SPECS {
        for usage in [KeyUsage::SignVerify, KeyUsage::EncryptDecrypt] {
            keys.push(key(&ring, &format!("k-{spec}-{usage}"), spec, usage));
        }
    }
    for id in &keys {
        let info = ring.get_public_key(id)?;
        let pem = info.to_pem();
        assert!(pem.ends_with('\n'), "{id}");
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines.first(), Some(&"-----BEGIN PUBLIC KEY-----"), "{id}");
        assert_eq!(lines.last(), Some(&"-----END PUBLIC KEY-----"), "{id}");
        let body = &lines[1..lines.len() - 1];
        assert!(!body.is_empty(), "{id}");
        let (last, full) = body.split_last().expect("non-empty");
        for line in full {
            assert_eq!(line.len(), 64, "{id}: {line}");
        }
        assert!((1..=64).contains(&last.len()), "{id}: {last}");
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.concat())
            .expect("base64");
        assert_eq!(der, info.public_key, "{id}");
        assert!(!pem.contains('\r'), "{id}");
    }
    Ok(())
}
