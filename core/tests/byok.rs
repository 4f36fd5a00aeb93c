//! Importing key material (BYOK): material wrapped by an independent implementation (raw
//! aws-lc-rs here, and the openssl command line when present) imports and works; tokens,
//! expiry, re-import rules and bad wrappings are enforced.
//!
//! A FIPS build refuses key import (every wrapping algorithm KMS defines starts with RSA-OAEP),
//! so these tests are the default build's; `core/tests/fips.rs` tests the refusal.
#![cfg(not(feature = "fips"))]

use std::time::{Duration, SystemTime};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrapPadded};
use aws_lc_rs::rand;
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm, OaepPublicEncryptingKey,
    PublicEncryptingKey,
};
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use keyplane::seal::LocalRootKey;
use keyplane::{
    CreateKey, EncryptionContext, Error, KeySpec, KeyState, KeyUsage, Keyring, MacAlgorithm,
    MessageType, Origin, SigningAlgorithm, WrappingAlgorithm, WrappingKeySpec,
};

fn random(n: usize) -> Vec<u8> {
    let mut v = vec![0; n];
    rand::fill(&mut v).unwrap();
    v
}

fn oaep_of(alg: WrappingAlgorithm) -> &'static OaepAlgorithm {
    match alg {
        WrappingAlgorithm::RsaesOaepSha1 | WrappingAlgorithm::RsaAesKeyWrapSha1 => {
            &OAEP_SHA1_MGF1SHA1
        }
        _ => &OAEP_SHA256_MGF1SHA256,
    }
}

/// Wraps `material` for `public_key` as AWS KMS's wrapping algorithms specify, with raw
/// aws-lc-rs (not Keyplane's code).
fn wrap(public_key: &[u8], alg: WrappingAlgorithm, material: &[u8]) -> Vec<u8> {
    let public =
        OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(public_key).unwrap()).unwrap();
    let oaep = |plaintext: &[u8]| {
        let mut out = vec![0; public.ciphertext_size()];
        let n = public
            .encrypt(oaep_of(alg), plaintext, &mut out, None)
            .unwrap()
            .len();
        out.truncate(n);
        out
    };
    match alg {
        WrappingAlgorithm::RsaesOaepSha1 | WrappingAlgorithm::RsaesOaepSha256 => oaep(material),
        _ => {
            let aes = random(32);
            let kek = AesKek::new(&AES_256, &aes).unwrap();
            let mut wrapped = vec![0; material.len() + 16];
            let n = kek.wrap_with_padding(material, &mut wrapped).unwrap().len();
            wrapped.truncate(n);
            let mut out = oaep(&aes);
            out.extend_from_slice(&wrapped);
            out
        }
    }
}

fn external(ring: &Keyring, id: &str, spec: KeySpec, usage: KeyUsage) {
    let meta = ring
        .create_key(
            &CreateKey::new(spec)
                .key_id(id)
                .usage(usage)
                .origin(Origin::External),
        )
        .unwrap();
    assert_eq!(meta.key_state, KeyState::PendingImport);
    assert_eq!(meta.origin, Origin::External);
    assert_eq!(meta.current_version, 0);
}

fn import(
    ring: &Keyring,
    id: &str,
    alg: WrappingAlgorithm,
    material: &[u8],
) -> keyplane::Result<()> {
    import_until(ring, id, alg, material, None)
}

/// [`import`], the material valid until `valid_to`.
fn import_until(
    ring: &Keyring,
    id: &str,
    alg: WrappingAlgorithm,
    material: &[u8],
    valid_to: Option<SystemTime>,
) -> keyplane::Result<()> {
    let params = ring
        .get_parameters_for_import(id, alg, WrappingKeySpec::Rsa2048)
        .unwrap();
    ring.import_key_material(
        id,
        &params.import_token,
        &wrap(&params.public_key, alg, material),
        valid_to,
    )
}

#[test]
fn symmetric_material_imports_with_every_wrapping_algorithm() {
    let ctx = EncryptionContext::new([("byok", "yes")]).unwrap();
    for alg in WrappingAlgorithm::ALL.iter().copied() {
        let ring = Keyring::new();
        external(
            &ring,
            "sym",
            KeySpec::SymmetricDefault,
            KeyUsage::EncryptDecrypt,
        );
        assert_eq!(
            ring.encrypt("sym", b"x", &ctx).unwrap_err(),
            Error::InvalidKeyState
        );
        let material = random(32);
        import(&ring, "sym", alg, &material).unwrap();
        let meta = ring.describe_key("sym").unwrap();
        assert_eq!(meta.key_state, KeyState::Enabled);
        assert_eq!(meta.current_version, 1);
        let blob = ring.encrypt("sym", b"imported", &ctx).unwrap();
        assert_eq!(&ring.decrypt(&blob, &ctx).unwrap()[..], b"imported");

        // The same material under the same id in another keyring reads the same blobs.
        let other = Keyring::new();
        external(
            &other,
            "sym",
            KeySpec::SymmetricDefault,
            KeyUsage::EncryptDecrypt,
        );
        import(&other, "sym", alg, &material).unwrap();
        assert_eq!(&other.decrypt(&blob, &ctx).unwrap()[..], b"imported");
        // Imported keys do not rotate.
        assert_eq!(
            ring.rotate_key("sym").unwrap_err(),
            Error::UnsupportedAlgorithm
        );
    }
}

#[test]
fn ecc_rsa_and_hmac_material_imports() {
    let ring = Keyring::new();
    // ECC P-256: a PKCS#8 key made by aws-lc-rs; our signatures verify with its public key.
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let pkcs8 = pair.to_pkcs8v1().unwrap();
    external(&ring, "ec", KeySpec::EccNistP256, KeyUsage::SignVerify);
    assert!(matches!(
        ring.get_parameters_for_import(
            "ec",
            WrappingAlgorithm::RsaesOaepSha256,
            WrappingKeySpec::Rsa2048
        ),
        Err(Error::InvalidInput(_))
    ));
    import(
        &ring,
        "ec",
        WrappingAlgorithm::RsaAesKeyWrapSha256,
        pkcs8.as_ref(),
    )
    .unwrap();
    let sig = ring
        .sign(
            "ec",
            b"byok",
            MessageType::Raw,
            SigningAlgorithm::EcdsaSha256,
        )
        .unwrap();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, pair.public_key().as_ref())
        .verify(b"byok", &sig)
        .unwrap();

    // RSA-2048 signing key.
    let rsa = signature::RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let rsa_pkcs8 = rsa.as_der().unwrap();
    external(&ring, "rsa", KeySpec::Rsa2048, KeyUsage::SignVerify);
    import(
        &ring,
        "rsa",
        WrappingAlgorithm::RsaAesKeyWrapSha1,
        rsa_pkcs8.as_ref(),
    )
    .unwrap();
    let sig = ring
        .sign(
            "rsa",
            b"byok",
            MessageType::Raw,
            SigningAlgorithm::RsassaPssSha256,
        )
        .unwrap();
    UnparsedPublicKey::new(
        &signature::RSA_PSS_2048_8192_SHA256,
        rsa.public_key().as_ref(),
    )
    .verify(b"byok", &sig)
    .unwrap();

    // HMAC-256 with a 64-byte key (KMS accepts 32 to 64 bytes).
    let secret = random(64);
    external(&ring, "mac", KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
    import(&ring, "mac", WrappingAlgorithm::RsaesOaepSha1, &secret).unwrap();
    let mac = ring
        .generate_mac("mac", b"m", MacAlgorithm::HmacSha256)
        .unwrap();
    let expected = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret),
        b"m",
    );
    assert_eq!(mac, expected.as_ref());

    // Material that does not fit the spec: a P-384 key into a P-256 key, 31 bytes of HMAC.
    external(&ring, "ec2", KeySpec::EccNistP256, KeyUsage::SignVerify);
    let p384 = EcdsaKeyPair::generate(&signature::ECDSA_P384_SHA384_ASN1_SIGNING).unwrap();
    assert!(matches!(
        import(
            &ring,
            "ec2",
            WrappingAlgorithm::RsaAesKeyWrapSha256,
            p384.to_pkcs8v1().unwrap().as_ref()
        ),
        Err(Error::InvalidInput(_))
    ));
    external(&ring, "mac2", KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
    assert!(matches!(
        import(
            &ring,
            "mac2",
            WrappingAlgorithm::RsaesOaepSha256,
            &random(31)
        ),
        Err(Error::InvalidInput(_))
    ));
}

#[test]
fn tokens_are_checked() {
    let ring = Keyring::new();
    external(
        &ring,
        "a",
        KeySpec::SymmetricDefault,
        KeyUsage::EncryptDecrypt,
    );
    external(
        &ring,
        "b",
        KeySpec::SymmetricDefault,
        KeyUsage::EncryptDecrypt,
    );
    let alg = WrappingAlgorithm::RsaesOaepSha256;
    let params = ring
        .get_parameters_for_import("a", alg, WrappingKeySpec::Rsa3072)
        .unwrap();
    assert!(params.parameters_valid_to > SystemTime::now() + Duration::from_secs(23 * 3600));
    let wrapped = wrap(&params.public_key, alg, &random(32));

    // Another key's token, an unknown token, a token of the wrong length.
    assert!(matches!(
        ring.import_key_material("b", &params.import_token, &wrapped, None),
        Err(Error::InvalidInput(m)) if m.contains("another key")
    ));
    assert!(matches!(
        ring.import_key_material("a", &random(16), &wrapped, None),
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        ring.import_key_material("a", b"", &wrapped, None),
        Err(Error::InvalidInput(_))
    ));
    // Tampered or truncated wrapped material.
    let mut bad = wrapped.clone();
    bad[10] ^= 1;
    assert_eq!(
        ring.import_key_material("a", &params.import_token, &bad, None)
            .unwrap_err(),
        Error::InvalidCiphertext
    );
    assert_eq!(
        ring.import_key_material("a", &params.import_token, &wrapped[..100], None)
            .unwrap_err(),
        Error::InvalidCiphertext
    );
    // A damaged token; a token from another keyring; a sealed key record as a token.
    let mut damaged = params.import_token.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    assert!(matches!(
        ring.import_key_material("a", &damaged, &wrapped, None),
        Err(Error::InvalidInput(m)) if m.contains("not valid")
    ));
    let other = Keyring::new();
    external(
        &other,
        "a",
        KeySpec::SymmetricDefault,
        KeyUsage::EncryptDecrypt,
    );
    assert!(matches!(
        other.import_key_material("a", &params.import_token, &wrapped, None),
        Err(Error::InvalidInput(m)) if m.contains("not valid")
    ));
    let root = LocalRootKey::new("r", &[3; 32]).unwrap();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("plain"))
        .unwrap();
    let record = ring.export_sealed("plain", &root).unwrap();
    assert!(matches!(
        ring.import_key_material("a", &record, &wrapped, None),
        Err(Error::InvalidInput(m)) if m.contains("not an import token")
    ));
    // A valid_to in the past.
    assert!(matches!(
        ring.import_key_material(
            "a",
            &params.import_token,
            &wrapped,
            Some(SystemTime::now() - Duration::from_secs(1))
        ),
        Err(Error::InvalidInput(_))
    ));
    // An expired token.
    ring.insecure_age_import_parameters(Duration::from_secs(25 * 3600));
    assert!(matches!(
        ring.import_key_material("a", &params.import_token, &wrapped, None),
        Err(Error::InvalidInput(m)) if m.contains("expired")
    ));
    // Only EXTERNAL keys take parameters.
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("native"))
        .unwrap();
    assert_eq!(
        ring.get_parameters_for_import("native", alg, WrappingKeySpec::Rsa2048)
            .unwrap_err(),
        Error::UnsupportedAlgorithm
    );
}

#[test]
fn reimport_takes_only_the_same_material_and_expiry_returns_to_pending_import() {
    let ring = Keyring::new();
    let ctx = EncryptionContext::empty();
    external(
        &ring,
        "k",
        KeySpec::SymmetricDefault,
        KeyUsage::EncryptDecrypt,
    );
    let material = random(32);
    let alg = WrappingAlgorithm::RsaAesKeyWrapSha256;
    import(&ring, "k", alg, &material).unwrap();
    let blob = ring.encrypt("k", b"before", ctx).unwrap();

    // Different material is refused while the key has material, and after deletion.
    assert!(matches!(
        import(&ring, "k", alg, &random(32)),
        Err(Error::InvalidInput(_))
    ));
    ring.delete_imported_key_material("k").unwrap();
    assert_eq!(
        ring.describe_key("k").unwrap().key_state,
        KeyState::PendingImport
    );
    // Without material no blob can authenticate, and an unauthenticated blob learns nothing
    // about the key it names.
    assert_eq!(
        ring.decrypt(&blob, ctx).unwrap_err(),
        Error::InvalidCiphertext
    );
    assert!(matches!(
        import(&ring, "k", alg, &random(32)),
        Err(Error::InvalidInput(_))
    ));
    // The same material brings the old blobs back.
    import(&ring, "k", alg, &material).unwrap();
    assert_eq!(&ring.decrypt(&blob, ctx).unwrap()[..], b"before");

    // Expiring material: the key returns to PendingImport by itself once the keyring's clock
    // passes valid_to, an hour ahead; the test hook moves the clock, so nothing races the
    // system's however slow the machine.
    let soon = SystemTime::now() + Duration::from_secs(3600);
    import_until(&ring, "k", alg, &material, Some(soon)).unwrap();
    assert_eq!(ring.describe_key("k").unwrap().valid_to, Some(soon));
    assert_eq!(&ring.decrypt(&blob, ctx).unwrap()[..], b"before");
    ring.insecure_age_import_parameters(Duration::from_secs(2 * 3600));
    assert_eq!(
        ring.encrypt("k", b"x", ctx).unwrap_err(),
        Error::InvalidKeyState
    );
    let meta = ring.describe_key("k").unwrap();
    assert_eq!(meta.key_state, KeyState::PendingImport);
    assert_eq!(meta.valid_to, None);
    import(&ring, "k", alg, &material).unwrap();
    assert_eq!(&ring.decrypt(&blob, ctx).unwrap()[..], b"before");
}

#[test]
fn a_sealed_key_whose_material_has_expired_imports_waiting_for_material() {
    // The metadata import_sealed returns is the key as it is now: material past its valid_to
    // is gone at once, not at the first use after the import.
    let ring = Keyring::new();
    external(
        &ring,
        "k",
        KeySpec::SymmetricDefault,
        KeyUsage::EncryptDecrypt,
    );
    let alg = WrappingAlgorithm::RsaesOaepSha256;
    let material = random(32);
    let valid_to = SystemTime::now() + Duration::from_secs(3600);
    import_until(&ring, "k", alg, &material, Some(valid_to)).unwrap();
    let root = LocalRootKey::new("r", &[5; 32]).unwrap();
    let record = ring.export_sealed("k", &root).unwrap();

    let fresh = Keyring::new().import_sealed(&record, &root).unwrap();
    assert_eq!(
        (fresh.key_state, fresh.valid_to),
        (KeyState::Enabled, Some(valid_to))
    );

    let later = Keyring::new();
    later.insecure_age_import_parameters(Duration::from_secs(2 * 3600));
    let meta = later.import_sealed(&record, &root).unwrap();
    assert_eq!(
        (meta.key_state, meta.valid_to, meta.current_version),
        (KeyState::PendingImport, None, 0)
    );
    assert_eq!(later.describe_key("k").unwrap(), meta);
    // Its material comes back with the same import.
    import(&later, "k", alg, &material).unwrap();
    assert_eq!(
        later.describe_key("k").unwrap().key_state,
        KeyState::Enabled
    );
}

#[test]
fn imported_keys_survive_a_sealed_round_trip() {
    let ring = Keyring::new();
    let ctx = EncryptionContext::empty();
    external(
        &ring,
        "k",
        KeySpec::SymmetricDefault,
        KeyUsage::EncryptDecrypt,
    );
    let material = random(32);
    let alg = WrappingAlgorithm::RsaesOaepSha256;
    import(&ring, "k", alg, &material).unwrap();
    let blob = ring.encrypt("k", b"sealed", ctx).unwrap();
    let root = LocalRootKey::new("r", &[5; 32]).unwrap();

    let replica = Keyring::new();
    replica
        .import_sealed(&ring.export_sealed("k", &root).unwrap(), &root)
        .unwrap();
    assert_eq!(&replica.decrypt(&blob, ctx).unwrap()[..], b"sealed");
    assert_eq!(replica.describe_key("k").unwrap().origin, Origin::External);
    // The replica remembers which material the key takes.
    replica.delete_imported_key_material("k").unwrap();
    assert!(matches!(
        import(&replica, "k", alg, &random(32)),
        Err(Error::InvalidInput(_))
    ));
    import(&replica, "k", alg, &material).unwrap();

    // A key waiting for import round-trips too.
    external(
        &ring,
        "waiting",
        KeySpec::Hmac384,
        KeyUsage::GenerateVerifyMac,
    );
    let other = Keyring::new();
    other
        .import_sealed(&ring.export_sealed("waiting", &root).unwrap(), &root)
        .unwrap();
    assert_eq!(
        other.describe_key("waiting").unwrap().key_state,
        KeyState::PendingImport
    );
}

#[test]
fn openssl_wrapped_material_imports() {
    let Ok(version) = std::process::Command::new("openssl")
        .arg("version")
        .output()
    else {
        eprintln!("openssl not found; skipped (the aws-lc-rs wrappings above still ran)");
        return;
    };
    assert!(version.status.success());
    let ring = Keyring::new();
    external(
        &ring,
        "k",
        KeySpec::SymmetricDefault,
        KeyUsage::EncryptDecrypt,
    );
    let params = ring
        .get_parameters_for_import(
            "k",
            WrappingAlgorithm::RsaesOaepSha256,
            WrappingKeySpec::Rsa2048,
        )
        .unwrap();
    let dir = std::env::temp_dir().join(format!("keyplane-byok-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (public, plain, wrapped) = (
        dir.join("pub.der"),
        dir.join("material"),
        dir.join("wrapped"),
    );
    std::fs::write(&public, &params.public_key).unwrap();
    let material = random(32);
    std::fs::write(&plain, &material).unwrap();
    let status = std::process::Command::new("openssl")
        .args(["pkeyutl", "-encrypt", "-pubin", "-keyform", "DER", "-inkey"])
        .arg(&public)
        .args([
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            "rsa_oaep_md:sha256",
            "-pkeyopt",
            "rsa_mgf1_md:sha256",
            "-in",
        ])
        .arg(&plain)
        .arg("-out")
        .arg(&wrapped)
        .status()
        .unwrap();
    assert!(status.success());
    ring.import_key_material(
        "k",
        &params.import_token,
        &std::fs::read(&wrapped).unwrap(),
        None,
    )
    .unwrap();
    let blob = ring
        .encrypt("k", b"openssl", EncryptionContext::empty())
        .unwrap();
    assert_eq!(
        &ring.decrypt(&blob, EncryptionContext::empty()).unwrap()[..],
        b"openssl"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn parameters_from_one_process_import_in_the_next_on_the_same_store() {
    let dir = std::env::temp_dir().join(format!("keyplane-byok-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let root: std::sync::Arc<dyn keyplane::RootKey> =
        std::sync::Arc::new(LocalRootKey::new("store-root", &[9; 32]).unwrap());
    let open = || {
        Keyring::builder()
            .open(keyplane::Store::open(&dir).unwrap(), root.clone())
            .unwrap()
            .0
    };
    let alg = WrappingAlgorithm::RsaAesKeyWrapSha256;
    let params = {
        let ring = open();
        external(
            &ring,
            "ext",
            KeySpec::SymmetricDefault,
            KeyUsage::EncryptDecrypt,
        );
        ring.get_parameters_for_import("ext", alg, WrappingKeySpec::Rsa2048)
            .unwrap()
    };
    let ring = open();
    let material = random(32);
    ring.import_key_material(
        "ext",
        &params.import_token,
        &wrap(&params.public_key, alg, &material),
        None,
    )
    .unwrap();
    let blob = ring
        .encrypt("ext", b"after import", &EncryptionContext::default())
        .unwrap();
    drop(ring);
    let ring = open();
    assert_eq!(
        &ring.decrypt(&blob, &EncryptionContext::default()).unwrap()[..],
        b"after import"
    );
    drop(ring);
    // Under another root the store does not open its keys, nor take its tokens.
    let other: std::sync::Arc<dyn keyplane::RootKey> =
        std::sync::Arc::new(LocalRootKey::new("store-root", &[8; 32]).unwrap());
    let (ring, problems) = Keyring::builder()
        .open(keyplane::Store::open(&dir).unwrap(), other)
        .unwrap();
    assert_eq!(problems.len(), 1);
    external(
        &ring,
        "ext2",
        KeySpec::SymmetricDefault,
        KeyUsage::EncryptDecrypt,
    );
    assert!(matches!(
        ring.import_key_material("ext2", &params.import_token, &wrap(&params.public_key, alg, &material), None),
        Err(Error::InvalidInput(m)) if m.contains("not valid")
    ));
    drop(ring);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A store in a fresh temporary directory, and a function that opens a keyring on it.
fn store_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("keyplane-byok-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn open_store(dir: &std::path::Path) -> Keyring {
    let root: std::sync::Arc<dyn keyplane::RootKey> =
        std::sync::Arc::new(LocalRootKey::new("store-root", &[9; 32]).unwrap());
    let (ring, problems) = Keyring::builder()
        .open(keyplane::Store::open(dir).unwrap(), root)
        .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    ring
}

#[test]
fn imported_keys_refuse_rotate_on_budget() {
    // A spent budget would otherwise make a Keyplane-generated version, lost when the
    // material is deleted and imported again.
    let ring = Keyring::builder()
        .encryption_budget(std::num::NonZeroU64::new(1).unwrap())
        .build();
    let ctx = EncryptionContext::empty();
    external(
        &ring,
        "k",
        KeySpec::SymmetricDefault,
        KeyUsage::EncryptDecrypt,
    );
    import(&ring, "k", WrappingAlgorithm::RsaesOaepSha256, &random(32)).unwrap();
    assert_eq!(
        ring.set_rotate_on_budget("k", true).unwrap_err(),
        Error::UnsupportedAlgorithm
    );
    ring.set_rotate_on_budget("k", false).unwrap();
    assert!(!ring.describe_key("k").unwrap().rotate_on_budget);
    ring.encrypt("k", b"one", ctx).unwrap();
    assert!(matches!(
        ring.encrypt("k", b"two", ctx),
        Err(Error::LimitExceeded(_))
    ));
    assert_eq!(ring.describe_key("k").unwrap().current_version, 1);
}

#[test]
fn material_expiring_while_pending_deletion_keeps_the_deletion() {
    let dir = store_dir("expire-pending");
    let alg = WrappingAlgorithm::RsaAesKeyWrapSha256;
    let material = random(32);
    let scheduled = {
        let ring = open_store(&dir);
        external(
            &ring,
            "k",
            KeySpec::SymmetricDefault,
            KeyUsage::EncryptDecrypt,
        );
        let expiry = SystemTime::now() + Duration::from_secs(3600);
        import_until(&ring, "k", alg, &material, Some(expiry)).unwrap();
        let date = ring
            .schedule_key_deletion("k", keyplane::PendingWindow::days(7).unwrap())
            .unwrap();
        let meta = ring.describe_key("k").unwrap();
        assert_eq!(meta.valid_to, Some(expiry), "scheduled before the expiry");
        // Past the expiry by the keyring's (test) clock, not by waiting for the system's.
        ring.insecure_age_import_parameters(Duration::from_secs(2 * 3600));
        let meta = ring.describe_key("k").unwrap();
        assert_eq!(meta.key_state, KeyState::PendingDeletion);
        assert_eq!(meta.deletion_date, Some(date));
        assert_eq!(meta.current_version, 0, "the material is gone");
        date
    };
    // The expired key pending deletion loads again, still pending deletion.
    let ring = open_store(&dir);
    let meta = ring.describe_key("k").unwrap();
    assert_eq!(meta.key_state, KeyState::PendingDeletion);
    assert_eq!(meta.deletion_date, Some(scheduled));
    assert_eq!(
        ring.get_parameters_for_import("k", alg, WrappingKeySpec::Rsa2048)
            .unwrap_err(),
        Error::InvalidKeyState
    );
    // Cancelled, it waits for its material again rather than being a disabled key with none.
    ring.cancel_key_deletion("k").unwrap();
    let meta = ring.describe_key("k").unwrap();
    assert_eq!(meta.key_state, KeyState::PendingImport);
    assert_eq!(meta.deletion_date, None);
    drop(ring);
    let ring = open_store(&dir);
    assert_eq!(
        ring.describe_key("k").unwrap().key_state,
        KeyState::PendingImport
    );
    import(&ring, "k", alg, &material).unwrap();
    assert_eq!(ring.describe_key("k").unwrap().key_state, KeyState::Enabled);
    drop(ring);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_cancelled_deletion_of_a_key_without_material_waits_for_import() {
    let dir = store_dir("cancel-empty");
    {
        let ring = open_store(&dir);
        external(&ring, "k", KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
        ring.schedule_key_deletion("k", keyplane::PendingWindow::days(7).unwrap())
            .unwrap();
    }
    let ring = open_store(&dir);
    assert_eq!(
        ring.describe_key("k").unwrap().key_state,
        KeyState::PendingDeletion
    );
    ring.cancel_key_deletion("k").unwrap();
    assert_eq!(
        ring.describe_key("k").unwrap().key_state,
        KeyState::PendingImport
    );
    drop(ring);
    let ring = open_store(&dir);
    assert_eq!(
        ring.describe_key("k").unwrap().key_state,
        KeyState::PendingImport
    );
    import(&ring, "k", WrappingAlgorithm::RsaesOaepSha256, &random(32)).unwrap();
    ring.generate_mac("k", b"m", MacAlgorithm::HmacSha256)
        .unwrap();
    drop(ring);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn material_given_at_creation_is_the_only_material_taken_back() {
    // Keys made from known material (the vectors' hook) are imported keys like any other.
    let ring = Keyring::new();
    let material = random(32);
    let meta = ring
        .insecure_import_key_material(
            "known",
            KeySpec::SymmetricDefault,
            KeyUsage::EncryptDecrypt,
            &material,
        )
        .unwrap();
    assert_eq!(meta.origin, Origin::External);
    let blob = ring
        .encrypt("known", b"kept", EncryptionContext::empty())
        .unwrap();
    ring.delete_imported_key_material("known").unwrap();
    let alg = WrappingAlgorithm::RsaesOaepSha256;
    assert!(matches!(
        import(&ring, "known", alg, &random(32)),
        Err(Error::InvalidInput(_))
    ));
    import(&ring, "known", alg, &material).unwrap();
    assert_eq!(
        &ring.decrypt(&blob, EncryptionContext::empty()).unwrap()[..],
        b"kept"
    );
}
