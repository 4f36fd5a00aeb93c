//! Sealed key records: every key spec survives export and import with its id, versions, state
//! and policy; tampered, truncated and wrong-root records are refused; root rotation.

use std::time::Duration;

use keyplane::seal::{self, LocalRootKey, RecordInfo, RootKey};
use keyplane::{
    CreateKey, EncryptionAlgorithm, EncryptionContext, Error, KeySpec, KeyState, KeyUsage, Keyring,
    MacAlgorithm, MessageType, PendingWindow, RotationPeriod,
};

fn root(id: &str, byte: u8) -> LocalRootKey {
    LocalRootKey::new(id, &[byte; 32]).unwrap()
}

#[test]
fn every_key_spec_round_trips() {
    let ring = Keyring::new();
    let ctx = EncryptionContext::new([("tenant", "acme")]).unwrap();
    let backup_root = root("backup-2026", 7);

    for spec in KeySpec::ALL {
        for &usage in spec.allowed_usages() {
            if usage == KeyUsage::KeyAgreement {
                continue; // refused until a key-agreement operation exists
            }
            if !keyplane::fips::allows_key(*spec, usage) {
                continue; // refused by a FIPS build (core/tests/fips.rs)
            }
            let id = format!("{}-{}", spec.as_str(), usage.as_str()).to_lowercase();
            let meta = ring
                .create_key(
                    &CreateKey::new(*spec)
                        .key_id(&id)
                        .usage(usage)
                        .description("round trip")
                        .alias(format!("alias/{id}")),
                )
                .unwrap();

            // Something made before export, to check after import.
            let made = match (spec, usage) {
                (KeySpec::SymmetricDefault, _) => {
                    let old = ring.encrypt(&id, b"before rotation", &ctx).unwrap();
                    ring.rotate_key(&id).unwrap();
                    ring.set_min_decryption_version(&id, 1).unwrap();
                    ring.enable_key_rotation(&id, RotationPeriod::days(180).unwrap())
                        .unwrap();
                    old
                }
                (_, KeyUsage::SignVerify) => {
                    let alg = meta.signing_algorithms[0];
                    ring.sign(&id, b"signed before", MessageType::Raw, alg)
                        .unwrap()
                }
                (_, KeyUsage::GenerateVerifyMac) => ring
                    .generate_mac(&id, b"mac before", meta.mac_algorithms[0])
                    .unwrap(),
                (_, KeyUsage::EncryptDecrypt) => ring
                    .encrypt_asymmetric(&id, b"oaep before", EncryptionAlgorithm::RsaesOaepSha256)
                    .unwrap(),
                _ => unreachable!("no other usage"),
            };

            let record = ring
                .export_sealed(&format!("alias/{id}"), &backup_root)
                .unwrap();
            assert_eq!(
                seal::inspect(&record).unwrap(),
                RecordInfo {
                    format: 1,
                    key_id: id.clone(),
                    root_id: "backup-2026".into()
                }
            );

            let replica = Keyring::new();
            let restored = replica.import_sealed(&record, &backup_root).unwrap();
            let original = ring.describe_key(&id).unwrap();
            assert_eq!(restored.key_id, original.key_id);
            assert_eq!(restored.key_spec, original.key_spec);
            assert_eq!(restored.key_usage, original.key_usage);
            assert_eq!(restored.key_state, original.key_state);
            assert_eq!(restored.origin, original.origin);
            assert_eq!(restored.description, original.description);
            assert_eq!(restored.aliases, original.aliases);
            assert_eq!(restored.rotation_period, original.rotation_period);
            assert_eq!(restored.current_version, original.current_version);
            assert_eq!(
                restored.min_decryption_version,
                original.min_decryption_version
            );
            assert_eq!(restored.creation_date, original.creation_date);
            assert_eq!(restored.versions, original.versions);

            match (spec, usage) {
                (KeySpec::SymmetricDefault, _) => {
                    assert_eq!(
                        &replica.decrypt(&made, &ctx).unwrap()[..],
                        b"before rotation"
                    );
                    // And the other way: the replica's new blobs decrypt in the original.
                    let blob = replica
                        .encrypt(&format!("alias/{id}"), b"after", &ctx)
                        .unwrap();
                    assert_eq!(&ring.decrypt(&blob, &ctx).unwrap()[..], b"after");
                }
                (_, KeyUsage::SignVerify) => {
                    let alg = meta.signing_algorithms[0];
                    assert!(
                        replica
                            .verify(&id, b"signed before", MessageType::Raw, alg, &made)
                            .unwrap()
                    );
                    assert_eq!(
                        replica.get_public_key(&id).unwrap().public_key,
                        ring.get_public_key(&id).unwrap().public_key
                    );
                }
                (_, KeyUsage::GenerateVerifyMac) => {
                    let alg: MacAlgorithm = meta.mac_algorithms[0];
                    assert_eq!(replica.generate_mac(&id, b"mac before", alg).unwrap(), made);
                }
                (_, KeyUsage::EncryptDecrypt) => {
                    let plain = replica
                        .decrypt_asymmetric(&id, &made, EncryptionAlgorithm::RsaesOaepSha256)
                        .unwrap();
                    assert_eq!(&plain[..], b"oaep before");
                }
                _ => unreachable!(),
            }
        }
    }
}

fn small_record() -> (Keyring, Vec<u8>, LocalRootKey) {
    let ring = Keyring::new();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("k"))
        .unwrap();
    let root = root("r", 1);
    let record = ring.export_sealed("k", &root).unwrap();
    (ring, record, root)
}

#[test]
fn every_bit_flip_and_truncation_is_refused() {
    let (_, record, root) = small_record();
    for i in 0..record.len() {
        for bit in 0..8 {
            let mut bad = record.clone();
            bad[i] ^= 1 << bit;
            let err = Keyring::new().import_sealed(&bad, &root).unwrap_err();
            assert!(
                matches!(err, Error::InvalidCiphertext | Error::InvalidInput(_)),
                "byte {i} bit {bit}: {err:?}"
            );
        }
    }
    for len in 0..record.len() {
        assert!(
            Keyring::new().import_sealed(&record[..len], &root).is_err(),
            "prefix {len}"
        );
    }
    let mut longer = record.clone();
    longer.push(0);
    assert!(Keyring::new().import_sealed(&longer, &root).is_err());
}

#[test]
fn the_wrong_root_is_refused_clearly() {
    let (_, record, _) = small_record();
    // Same id, other material: not authentic.
    assert_eq!(
        Keyring::new()
            .import_sealed(&record, &root("r", 2))
            .unwrap_err(),
        Error::InvalidCiphertext
    );
    // Another id: says so before trying.
    assert!(matches!(
        Keyring::new().import_sealed(&record, &root("other", 1)).unwrap_err(),
        Error::InvalidInput(m) if m.contains("another id")
    ));
    assert!(matches!(
        seal::inspect(b"not a record").unwrap_err(),
        Error::InvalidInput(_)
    ));
}

#[test]
fn a_wrapped_key_cannot_move_between_records() {
    let ring = Keyring::new();
    for id in ["aaaa", "bbbb"] {
        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(id))
            .unwrap();
    }
    let root = root("r", 1);
    let a = ring.export_sealed("aaaa", &root).unwrap();
    let mut b = ring.export_sealed("bbbb", &root).unwrap();
    // Same layout (ids of one length): put a's header (its wrapped key) on b's body.
    let header = 4 + 1 + 1 + 4 + 1 + 1 + 2 + usize::from(u16::from_be_bytes([a[12], a[13]]));
    b[..header].copy_from_slice(&a[..header]);
    assert_eq!(
        Keyring::new().import_sealed(&b, &root).unwrap_err(),
        Error::InvalidCiphertext
    );
}

#[test]
fn reseal_moves_a_record_to_a_new_root() {
    let (ring, record, old) = small_record();
    let ctx = EncryptionContext::empty();
    let blob = ring.encrypt("k", b"kept", ctx).unwrap();
    let new = root("r-2027", 9);
    let moved = seal::reseal(&record, &old, &new).unwrap();
    assert_eq!(seal::inspect(&moved).unwrap().root_id, "r-2027");
    assert!(Keyring::new().import_sealed(&moved, &old).is_err());
    let replica = Keyring::new();
    replica.import_sealed(&moved, &new).unwrap();
    assert_eq!(&replica.decrypt(&blob, ctx).unwrap()[..], b"kept");
    assert_eq!(
        seal::reseal(&record, &new, &old).unwrap_err(),
        Error::InvalidInput("sealed key record was sealed under a root key with another id")
    );
}

#[test]
fn state_counters_and_deletion_survive() {
    let ring = Keyring::new();
    let ctx = EncryptionContext::empty();
    ring.create_key(
        &CreateKey::new(KeySpec::SymmetricDefault)
            .key_id("counted")
            .rotate_on_budget(false),
    )
    .unwrap();
    for _ in 0..5 {
        ring.encrypt("counted", b"x", ctx).unwrap();
    }
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("off"))
        .unwrap();
    ring.disable_key("off").unwrap();
    ring.create_key(&CreateKey::new(KeySpec::Hmac256).key_id("going"))
        .unwrap();
    let when = ring
        .schedule_key_deletion("going", PendingWindow::custom(Duration::from_secs(3600)))
        .unwrap();
    let root = root("r", 3);

    let replica = Keyring::new();
    for id in ["counted", "off", "going"] {
        replica
            .import_sealed(&ring.export_sealed(id, &root).unwrap(), &root)
            .unwrap();
    }
    let counted = replica.describe_key("counted").unwrap();
    assert_eq!(counted.versions[0].encryptions, 5);
    assert!(!counted.rotate_on_budget);
    assert_eq!(
        replica.describe_key("off").unwrap().key_state,
        KeyState::Disabled
    );
    assert_eq!(
        replica.encrypt("off", b"x", ctx).unwrap_err(),
        Error::KeyDisabled
    );
    let going = replica.describe_key("going").unwrap();
    assert_eq!(going.key_state, KeyState::PendingDeletion);
    assert_eq!(going.deletion_date, Some(when));
}

#[test]
fn import_refuses_taken_ids_and_aliases() {
    let ring = Keyring::new();
    ring.create_key(
        &CreateKey::new(KeySpec::SymmetricDefault)
            .key_id("k")
            .alias("alias/a"),
    )
    .unwrap();
    let root = root("r", 4);
    let record = ring.export_sealed("k", &root).unwrap();
    assert_eq!(
        ring.import_sealed(&record, &root).unwrap_err(),
        Error::AlreadyExists
    );

    let other = Keyring::new();
    other
        .create_key(
            &CreateKey::new(KeySpec::SymmetricDefault)
                .key_id("x")
                .alias("alias/a"),
        )
        .unwrap();
    assert_eq!(
        other.import_sealed(&record, &root).unwrap_err(),
        Error::AlreadyExists
    );
    assert!(
        other.describe_key("k").is_err(),
        "a refused import adds nothing"
    );
}

#[test]
fn root_keys_validate_and_do_not_print_material() {
    assert!(LocalRootKey::new("", &[0; 32]).is_err());
    assert!(LocalRootKey::new("r", &[0; 31]).is_err());
    assert!(LocalRootKey::new("x".repeat(256), &[0; 32]).is_err());
    let material = LocalRootKey::generate_material().unwrap();
    let key = LocalRootKey::new("printed", material.as_ref()).unwrap();
    let shown = format!("{key:?}");
    assert!(
        shown.contains("printed") && !shown.contains(&format!("{:02x}", material[0]).repeat(2))
    );
    assert_eq!(key.id(), "printed");
    // Wrap and unwrap bind the AAD.
    let wrapped = key
        .wrap(b"0123456789abcdef0123456789abcdef", b"aad")
        .unwrap();
    assert_eq!(
        &key.unwrap(&wrapped, b"aad").unwrap()[..],
        b"0123456789abcdef0123456789abcdef"
    );
    assert_eq!(
        key.unwrap(&wrapped, b"other").unwrap_err(),
        Error::InvalidCiphertext
    );
    assert_eq!(
        key.unwrap(&wrapped[..10], b"aad").unwrap_err(),
        Error::InvalidCiphertext
    );
}
