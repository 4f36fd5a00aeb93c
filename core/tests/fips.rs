//! FIPS mode. Every refusal is tested in both builds: refused with `NotApproved` in a FIPS build,
//! working in a non-FIPS one, so neither build passes these tests by accident. In a FIPS build the
//! module's service indicator must count every approved operation Keyplane performs.

use keyplane::envelope::{FORMAT_V1, FORMAT_V2, FORMAT_WRITTEN};
use keyplane::fips::{self, FIPS_BUILD};
use keyplane::{
    CreateKey, DataKeyPairSpec, EncryptionContext, Error, KeySpec, KeyUsage, Keyring, MessageType,
    Origin, Result, SigningAlgorithm, WrappingAlgorithm, WrappingKeySpec,
};

/// Refused with `why` in a FIPS build; anything but that refusal in a non-FIPS one.
#[track_caller]
fn refused_in_fips<T: core::fmt::Debug>(result: Result<T>, why: &str) {
    if FIPS_BUILD {
        let error = result.expect_err("a FIPS build must refuse this");
        assert_eq!(error, Error::NotApproved(fips_reason(why)));
        assert_eq!(error.code(), "KP_UNSUPPORTED_ALGORITHM");
        assert!(error.to_string().contains("FIPS"), "{error}");
    } else {
        result.expect("a non-FIPS build performs this");
    }
}

/// The `'static` reason constant equal to `why` (errors carry the constant itself).
fn fips_reason(why: &str) -> &'static str {
    [
        fips::SECP256K1,
        fips::DIGEST_MESSAGE,
        fips::RSA_OAEP,
        fips::IMPORT_WRAPPING,
    ]
    .into_iter()
    .find(|r| *r == why)
    .expect("a known reason")
}

#[test]
fn the_status_matches_the_build() {
    let status = fips::status();
    assert_eq!(status.fips_build, cfg!(feature = "fips"));
    // The acceptance test of a FIPS build: the module is in FIPS mode.
    assert_eq!(status.fips_mode, cfg!(feature = "fips"));
    assert_eq!(
        status.module,
        if FIPS_BUILD { "AWS-LC FIPS" } else { "AWS-LC" }
    );
    assert_eq!(status.fips_branch.is_some(), FIPS_BUILD);
    assert!(Keyring::builder().try_build().is_ok());
}

#[test]
fn secp256k1_keys() {
    let ring = Keyring::new();
    refused_in_fips(
        ring.create_key(&CreateKey::new(KeySpec::EccSecgP256k1)),
        fips::SECP256K1,
    );
}

#[test]
fn secp256k1_data_key_pairs() {
    let ring = Keyring::new();
    let key = ring
        .create_key(&CreateKey::new(KeySpec::SymmetricDefault))
        .unwrap();
    refused_in_fips(
        ring.generate_data_key_pair(
            &key.key_id,
            DataKeyPairSpec::EccSecgP256k1,
            EncryptionContext::empty(),
        ),
        fips::SECP256K1,
    );
    // The approved curves still work.
    ring.generate_data_key_pair(
        &key.key_id,
        DataKeyPairSpec::EccNistP256,
        EncryptionContext::empty(),
    )
    .unwrap();
}

#[test]
fn signing_a_callers_digest() {
    let ring = Keyring::new();
    let key = ring
        .create_key(&CreateKey::new(KeySpec::EccNistP256))
        .unwrap();
    let alg = SigningAlgorithm::EcdsaSha256;
    let digest = [7u8; 32];
    refused_in_fips(
        ring.sign(&key.key_id, &digest, MessageType::Digest, alg),
        fips::DIGEST_MESSAGE,
    );
    let signature = ring
        .sign(&key.key_id, b"message", MessageType::Raw, alg)
        .unwrap();
    refused_in_fips(
        ring.verify(&key.key_id, &digest, MessageType::Digest, alg, &signature),
        fips::DIGEST_MESSAGE,
    );
    assert!(
        ring.verify(&key.key_id, b"message", MessageType::Raw, alg, &signature)
            .unwrap()
    );
}

#[test]
fn rsa_oaep_keys() {
    let ring = Keyring::new();
    refused_in_fips(
        ring.create_key(&CreateKey::new(KeySpec::Rsa2048).usage(KeyUsage::EncryptDecrypt)),
        fips::RSA_OAEP,
    );
    // RSA signing keys are approved.
    ring.create_key(&CreateKey::new(KeySpec::Rsa2048).usage(KeyUsage::SignVerify))
        .unwrap();
}

#[test]
fn key_material_import() {
    let ring = Keyring::new();
    refused_in_fips(
        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).origin(Origin::External)),
        fips::IMPORT_WRAPPING,
    );
    // An imported key waiting for its material again (as a non-FIPS build's store could hold
    // one; the test hooks make it without the creation check): its import parameters are
    // refused too.
    ring.insecure_import_key_material(
        "imported",
        KeySpec::SymmetricDefault,
        KeyUsage::EncryptDecrypt,
        &[1; 32],
    )
    .unwrap();
    ring.delete_imported_key_material("imported").unwrap();
    refused_in_fips(
        ring.get_parameters_for_import(
            "imported",
            WrappingAlgorithm::RsaesOaepSha256,
            WrappingKeySpec::Rsa2048,
        ),
        fips::IMPORT_WRAPPING,
    );
}

#[test]
fn keys_a_non_fips_build_made_are_refused_at_use() {
    // The hooks create keys without the creation check, as loading a non-FIPS build's store
    // would.
    let ring = Keyring::new();
    let k1 = ring
        .insecure_import_key_material(
            "k1",
            KeySpec::EccSecgP256k1,
            KeyUsage::SignVerify,
            &secp256k1_pkcs8(),
        )
        .unwrap();
    refused_in_fips(
        ring.sign(
            &k1.key_id,
            b"m",
            MessageType::Raw,
            SigningAlgorithm::EcdsaSha256,
        ),
        fips::SECP256K1,
    );
}

fn secp256k1_pkcs8() -> Vec<u8> {
    aws_lc_rs::signature::EcdsaKeyPair::generate(
        &aws_lc_rs::signature::ECDSA_P256K1_SHA256_ASN1_SIGNING,
    )
    .unwrap()
    .to_pkcs8v1()
    .unwrap()
    .as_ref()
    .to_vec()
}

#[test]
fn this_build_writes_its_format_and_reads_both() {
    let ring = Keyring::new();
    let roots = [[3u8; 32]];
    ring.insecure_create_key_with_material("k", &roots).unwrap();
    let ctx = EncryptionContext::new([("tenant", "acme")]).unwrap();
    let blob = ring.encrypt("k", b"hello", &ctx).unwrap();
    assert_eq!(blob[0], FORMAT_WRITTEN);
    assert_eq!(
        FORMAT_WRITTEN,
        if FIPS_BUILD { FORMAT_V2 } else { FORMAT_V1 }
    );
    assert_eq!(&ring.decrypt(&blob, &ctx).unwrap()[..], b"hello");
    for format in [FORMAT_V1, FORMAT_V2] {
        let blob = ring
            .insecure_encrypt_in_format(format, "k", 1, [9; 12], b"hello", &ctx)
            .unwrap();
        assert_eq!(blob[0], format);
        assert_eq!(&ring.decrypt(&blob, &ctx).unwrap()[..], b"hello");
        assert_eq!(
            ring.decrypt(&blob, EncryptionContext::empty()),
            Err(Error::InvalidCiphertext)
        );
        // The nonce is authenticated in both formats, though only 0x01 puts it in the AAD.
        let nonce_at = 2 + 1 + 4;
        let mut changed = blob.clone();
        changed[nonce_at] ^= 1;
        assert_eq!(ring.decrypt(&changed, &ctx), Err(Error::InvalidCiphertext));
        // A blob's format byte cannot be swapped for the other format.
        let mut swapped = blob.clone();
        swapped[0] = if format == FORMAT_V1 {
            FORMAT_V2
        } else {
            FORMAT_V1
        };
        assert_eq!(ring.decrypt(&swapped, &ctx), Err(Error::InvalidCiphertext));
    }
}

/// The module's service indicator: how many approved services a call completed, read from the
/// calling thread's counter (AWS-LC `crypto/fipsmodule/FIPS.md`, "Service Indicator").
#[cfg(feature = "fips")]
mod indicator {
    use super::*;
    use keyplane::{DataKeySpec, LocalRootKey, MacAlgorithm};

    fn approved<R>(f: impl FnOnce() -> R) -> (R, u64) {
        // SAFETY: reads the calling thread's service-indicator counter; no arguments, no memory.
        let before = unsafe { aws_lc_fips_sys::FIPS_service_indicator_before_call() };
        let r = f();
        // SAFETY: as above.
        let after = unsafe { aws_lc_fips_sys::FIPS_service_indicator_after_call() };
        (r, after - before)
    }

    /// Runs `f` and checks that the module counted exactly `expected` approved services: a
    /// non-approved step inside an operation would leave the count short.
    #[track_caller]
    fn assert_approved<R>(what: &str, expected: u64, f: impl FnOnce() -> Result<R>) -> R {
        let (result, counted) = approved(f);
        let value = result.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(counted, expected, "{what}: approved services counted");
        value
    }

    /// For key creation, whose count depends on how many random draws and derivations the
    /// module's own key generation makes: at least one, and `f` succeeds.
    #[track_caller]
    fn assert_some_approved<R>(what: &str, f: impl FnOnce() -> Result<R>) -> R {
        let (result, counted) = approved(f);
        let value = result.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(counted >= 1, "{what}: no approved service counted");
        value
    }

    #[test]
    fn the_indicator_tells_approved_from_not() {
        // What makes every count below mean something: AES-GCM sealing under a nonce the caller
        // chose (Keyplane's format 0x01 route) is not approved, and counts nothing.
        use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[1; 32]).unwrap());
        let mut in_out = vec![0u8; 64];
        let (sealed, counted) = approved(|| {
            key.seal_in_place_separate_tag(
                Nonce::assume_unique_for_key([2; 12]),
                Aad::from(b"aad"),
                &mut in_out,
            )
        });
        let _tag = sealed.unwrap();
        assert_eq!(counted, 0);
    }

    #[test]
    fn every_symmetric_operation_is_approved() {
        let ring = Keyring::new();
        let key = assert_some_approved("create a symmetric key", || {
            ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault))
        });
        let id = key.key_id.as_str();
        let ctx = EncryptionContext::new([("tenant", "acme")]).unwrap();
        let blob = assert_approved("encrypt", 1, || ring.encrypt(id, b"secret", &ctx));
        assert_eq!(blob[0], FORMAT_V2);
        assert_approved("decrypt", 1, || ring.decrypt(&blob, &ctx));
        assert_approved("re-encrypt", 2, || ring.re_encrypt(&blob, &ctx, id, &ctx));
        assert_approved("generate a data key", 2, || {
            ring.generate_data_key(id, DataKeySpec::Aes256, &ctx)
        });
        assert_some_approved("rotate", || ring.rotate_key(id));
        // A format 0x01 blob (what a non-FIPS build wrote) still opens, approved.
        let old = ring
            .insecure_encrypt_in_format(FORMAT_V1, id, 1, [5; 12], b"old", &ctx)
            .unwrap();
        assert_approved("decrypt format 0x01", 1, || ring.decrypt(&old, &ctx));
    }

    #[test]
    fn mac_and_signatures_are_approved() {
        let ring = Keyring::new();
        let hmac = ring.create_key(&CreateKey::new(KeySpec::Hmac256)).unwrap();
        let mac = assert_approved("generate a MAC", 1, || {
            ring.generate_mac(&hmac.key_id, b"m", MacAlgorithm::HmacSha256)
        });
        assert_approved("verify a MAC", 1, || {
            ring.verify_mac(&hmac.key_id, b"m", MacAlgorithm::HmacSha256, &mac)
        });
        for (spec, alg) in [
            (KeySpec::EccNistP256, SigningAlgorithm::EcdsaSha256),
            (KeySpec::EccNistP384, SigningAlgorithm::EcdsaSha384),
            (KeySpec::EccNistP521, SigningAlgorithm::EcdsaSha512),
            (KeySpec::Rsa2048, SigningAlgorithm::RsassaPssSha256),
            (KeySpec::Rsa2048, SigningAlgorithm::RsassaPkcs1V15Sha256),
        ] {
            let key = assert_some_approved("generate a key pair", || {
                ring.create_key(&CreateKey::new(spec).usage(KeyUsage::SignVerify))
            });
            let sig = assert_approved("sign", 1, || {
                ring.sign(&key.key_id, b"m", MessageType::Raw, alg)
            });
            let ok = assert_approved("verify", 1, || {
                ring.verify(&key.key_id, b"m", MessageType::Raw, alg, &sig)
            });
            assert!(ok);
        }
    }

    #[test]
    fn sealed_records_are_approved() {
        let ring = Keyring::new();
        let key = ring
            .create_key(&CreateKey::new(KeySpec::SymmetricDefault))
            .unwrap();
        let root = LocalRootKey::new("root", &[4; 32]).unwrap();
        // The record key's draw, its wrap and the payload's seal. (A payload sealed under a
        // nonce Keyplane drew would count the same: a DRBG call plus an uncounted seal. Only
        // `seal.rs` using the module's internal-nonce AES-GCM rules that out.)
        let record = assert_approved("export sealed", 3, || {
            ring.export_sealed(&key.key_id, &root)
        });
        let other = Keyring::new();
        assert_approved("import sealed", 3, || other.import_sealed(&record, &root));
    }
}
