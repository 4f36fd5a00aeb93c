//! Key management and symmetric operations through the public API only.
//!
//! Every test builds its own [`Keyring`], so tests are independent and may run in parallel.

use std::collections::HashSet;
use std::num::NonZeroU64;
use std::thread;
use std::time::{Duration, SystemTime};

use keyplane::envelope;
use keyplane::{
    AliasEntry, CreateKey, DataKeySpec, EncryptionAlgorithm, EncryptionContext, Error, KeySpec,
    KeyState, KeyUsage, Keyring, Origin, PendingWindow, RotationPeriod,
};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Asserts that `$result` is `Err` matching `$pattern`, printing what it was otherwise.
macro_rules! assert_err {
    ($result:expr, $pattern:pat $(,)?) => {
        match $result {
            Err($pattern) => {}
            other => panic!("expected Err({}), got {:?}", stringify!($pattern), other),
        }
    };
}

fn symmetric() -> CreateKey {
    CreateKey::new(KeySpec::SymmetricDefault)
}

fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
    EncryptionContext::new(pairs.iter().copied()).expect("valid test context")
}

fn key_version(blob: &[u8]) -> u32 {
    envelope::inspect(blob)
        .expect("well-formed blob")
        .key_version
}

fn blob_key_id(blob: &[u8]) -> String {
    envelope::inspect(blob)
        .expect("well-formed blob")
        .key_id
        .to_owned()
}

fn encryption_counts(ring: &Keyring, key_id: &str) -> Vec<u64> {
    ring.describe_key(key_id)
        .expect("key exists")
        .versions
        .iter()
        .map(|v| v.encryptions)
        .collect()
}

#[track_caller]
fn assert_uuid_v4(id: &str) {
    let groups: Vec<&str> = id.split('-').collect();
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    assert_eq!(lens, [8, 4, 4, 4, 12], "not UUID-shaped: {id}");
    assert!(
        id.bytes()
            .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "not lowercase hex: {id}"
    );
    assert_eq!(groups[2].as_bytes()[0], b'4', "version nibble of {id}");
    assert!(
        b"89ab".contains(&groups[3].as_bytes()[0]),
        "variant nibble of {id}"
    );
}

// ----- creation ---------------------------------------------------------------------------------

#[test]
fn generated_key_ids_are_distinct_uuid_v4() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let mut seen = HashSet::new();
    for _ in 0..16 {
        let meta = ring.create_key(&symmetric())?;
        assert_uuid_v4(&meta.key_id);
        assert_eq!(ring.describe_key(&meta.key_id)?.key_id, meta.key_id);
        assert!(seen.insert(meta.key_id), "generated key id repeated");
    }
    assert_eq!(ring.list_keys().len(), 16);
    Ok(())
}

#[test]
fn create_with_caller_id_and_describe() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let before = SystemTime::now();
    let created = ring.create_key(
        &symmetric()
            .key_id("orders-key")
            .description("order records")
            .alias("alias/orders"),
    )?;
    let after = SystemTime::now();

    assert_eq!(created.key_id, "orders-key");
    assert_eq!(created.key_spec, KeySpec::SymmetricDefault);
    assert_eq!(created.key_usage, KeyUsage::EncryptDecrypt);
    assert_eq!(created.key_state, KeyState::Enabled);
    assert_eq!(created.origin, Origin::Keyplane);
    assert_eq!(created.description, "order records");
    assert_eq!(created.deletion_date, None);
    assert_eq!(
        created.encryption_algorithms,
        [EncryptionAlgorithm::SymmetricDefault]
    );
    assert_eq!(created.aliases, ["alias/orders"]);
    assert_eq!(created.rotation_period, None);
    assert_eq!(created.next_rotation_date, None);
    assert_eq!(created.current_version, 1);
    assert_eq!(created.min_decryption_version, 1);
    assert!(created.rotate_on_budget);
    assert_eq!(created.versions.len(), 1);
    assert_eq!(created.versions[0].version, 1);
    assert_eq!(created.versions[0].encryptions, 0);
    assert!(before <= created.creation_date && created.creation_date <= after);
    assert!(created.creation_date <= created.versions[0].creation_date);

    // Nothing happened since: describing returns exactly what creating returned.
    assert_eq!(ring.describe_key("orders-key")?, created);
    assert_eq!(ring.describe_key("alias/orders")?, created);
    Ok(())
}

#[test]
fn key_id_boundaries_are_accepted() -> keyplane::Result<()> {
    let ring = Keyring::new();
    for id in [
        "k".to_owned(),
        "x".repeat(255),
        "arn:aws:kms:eu-west-1:111122223333:key/ab_CD.9".to_owned(),
        "aliasx/not-an-alias".to_owned(),
    ] {
        assert_eq!(ring.create_key(&symmetric().key_id(&*id))?.key_id, id);
        let blob = ring.encrypt(&id, b"boundary", EncryptionContext::empty())?;
        assert_eq!(blob_key_id(&blob), id);
    }
    Ok(())
}

#[test]
fn invalid_key_ids_are_rejected() {
    let ring = Keyring::new();
    for id in [
        String::new(),
        "x".repeat(256),
        "has space".to_owned(),
        "tab\there".to_owned(),
        "nul\0byte".to_owned(),
        "semi;colon".to_owned(),
        "ünicode".to_owned(),
        "alias/looks-like-an-alias".to_owned(),
    ] {
        assert_err!(
            ring.create_key(&symmetric().key_id(&*id)),
            Error::InvalidInput(_)
        );
    }
    assert!(ring.list_keys().is_empty());
    assert!(ring.list_aliases().is_empty());
}

#[test]
fn invalid_aliases_are_rejected() -> keyplane::Result<()> {
    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("target"))?;
    let longest = format!("alias/{}", "a".repeat(249));
    let bad = [
        "orders".to_owned(),
        "alias/".to_owned(),
        "Alias/orders".to_owned(),
        "alias/has space".to_owned(),
        "alias/dot.ted".to_owned(),
        "alias/colon:ed".to_owned(),
        "alias/ünicode".to_owned(),
        format!("alias/{}", "a".repeat(250)),
    ];
    for alias in &bad {
        assert_err!(
            ring.create_key(&symmetric().key_id("never-created").alias(&**alias)),
            Error::InvalidInput(_)
        );
        assert_err!(ring.create_alias(alias, "target"), Error::InvalidInput(_));
        assert_err!(ring.update_alias(alias, "target"), Error::InvalidInput(_));
    }
    assert_err!(ring.describe_key("never-created"), Error::NotFound);
    assert!(ring.list_aliases().is_empty());

    // The boundaries themselves are fine.
    ring.create_alias(&longest, "target")?;
    ring.create_alias("alias/a", "target")?;
    ring.create_alias("alias/team_1/svc-2", "target")?;
    assert_eq!(ring.describe_key(&longest)?.key_id, "target");
    Ok(())
}

#[test]
fn duplicates_are_rejected() -> keyplane::Result<()> {
    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("dup").alias("alias/dup"))?;

    assert_err!(
        ring.create_key(&symmetric().key_id("dup")),
        Error::AlreadyExists
    );
    // A taken id with a fresh alias creates neither.
    assert_err!(
        ring.create_key(&symmetric().key_id("dup").alias("alias/fresh")),
        Error::AlreadyExists
    );
    assert_err!(ring.describe_key("alias/fresh"), Error::NotFound);
    // A fresh id with a taken alias creates neither.
    assert_err!(
        ring.create_key(&symmetric().key_id("other").alias("alias/dup")),
        Error::AlreadyExists
    );
    assert_err!(ring.describe_key("other"), Error::NotFound);
    assert_err!(ring.create_alias("alias/dup", "dup"), Error::AlreadyExists);

    assert_eq!(ring.list_keys(), ["dup"]);
    assert_eq!(
        ring.list_aliases(),
        [AliasEntry {
            alias_name: "alias/dup".into(),
            target_key_id: "dup".into(),
        }]
    );
    Ok(())
}

#[test]
fn key_specs_and_usages() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let mut created = 0;

    for spec in [KeySpec::Rsa2048, KeySpec::Rsa3072, KeySpec::Rsa4096] {
        assert_eq!(spec.default_usage(), None);
        assert_err!(
            ring.create_key(&CreateKey::new(spec)),
            Error::InvalidInput(_)
        );
    }
    for &spec in KeySpec::ALL {
        if spec == KeySpec::SymmetricDefault {
            continue;
        }
        for &usage in KeyUsage::ALL {
            let result = ring.create_key(&CreateKey::new(spec).usage(usage));
            if usage == KeyUsage::KeyAgreement && spec.allowed_usages().contains(&usage) {
                // Allowed by the spec, but key agreement has no operation yet.
                assert_err!(result, Error::UnsupportedAlgorithm);
            } else if spec.allowed_usages().contains(&usage)
                && !keyplane::fips::allows_key(spec, usage)
            {
                assert_err!(result, Error::NotApproved(_));
            } else if spec.allowed_usages().contains(&usage) {
                let meta = result?;
                assert_eq!((meta.key_spec, meta.key_usage), (spec, usage));
                created += 1;
            } else {
                assert_err!(result, Error::InvalidKeyUsage);
            }
        }
        if let Some(usage) = spec.default_usage()
            && keyplane::fips::allows_key(spec, usage)
        {
            assert_eq!(ring.create_key(&CreateKey::new(spec))?.key_usage, usage);
            created += 1;
        }
    }
    for &usage in KeyUsage::ALL {
        let result = ring.create_key(&symmetric().usage(usage));
        if usage == KeyUsage::EncryptDecrypt {
            assert_eq!(result?.key_usage, KeyUsage::EncryptDecrypt);
        } else {
            assert_err!(result, Error::InvalidKeyUsage);
        }
    }
    assert_eq!(
        ring.list_keys().len(),
        created + 1,
        "only the valid keys were created"
    );
    Ok(())
}

// ----- describe, list, look-up ------------------------------------------------------------------

#[test]
fn list_keys_is_sorted_and_clones_share_keys() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let clone = ring.clone();
    for id in ["charlie", "alpha", "bravo"] {
        clone.create_key(&symmetric().key_id(id))?;
    }
    assert_eq!(ring.list_keys(), ["alpha", "bravo", "charlie"]);
    let generated = ring.create_key(&symmetric())?.key_id;
    let mut want = vec!["alpha", "bravo", "charlie", &generated];
    want.sort_unstable();
    assert_eq!(clone.list_keys(), want);
    // An independent keyring shares nothing.
    assert!(Keyring::new().list_keys().is_empty());
    Ok(())
}

#[test]
fn unknown_keys_are_not_found() {
    let ring = Keyring::new();
    let c = EncryptionContext::empty();
    for id in ["missing", "alias/missing"] {
        assert_err!(ring.describe_key(id), Error::NotFound);
        assert_err!(ring.encrypt(id, b"x", c), Error::NotFound);
        assert_err!(
            ring.encrypt_into(id, b"x", c, &mut [0; 128]),
            Error::NotFound
        );
        assert_err!(ring.ciphertext_len(id, 1), Error::NotFound);
        assert_err!(ring.enable_key(id), Error::NotFound);
        assert_err!(ring.disable_key(id), Error::NotFound);
        assert_err!(ring.rotate_key(id), Error::NotFound);
        assert_err!(
            ring.schedule_key_deletion(id, PendingWindow::default()),
            Error::NotFound
        );
        assert_err!(ring.cancel_key_deletion(id), Error::NotFound);
        assert_err!(ring.set_min_decryption_version(id, 1), Error::NotFound);
        assert_err!(
            ring.generate_data_key(id, DataKeySpec::Aes256, c),
            Error::NotFound
        );
        assert_err!(ring.create_alias("alias/new", id), Error::NotFound);
    }
}

// ----- enable / disable -------------------------------------------------------------------------

#[test]
fn disabled_key_refuses_every_operation_until_enabled() -> keyplane::Result<()> {
    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("switch").alias("alias/switch"))?;
    ring.create_key(&symmetric().key_id("other"))?;
    let c = ctx(&[("purpose", "disable")]);
    let blob = ring.encrypt("switch", b"before", &c)?;
    let other_blob = ring.encrypt("other", b"other", &c)?;

    ring.disable_key("alias/switch")?;
    ring.disable_key("switch")?; // idempotent
    assert_eq!(ring.describe_key("switch")?.key_state, KeyState::Disabled);

    assert_err!(ring.encrypt("switch", b"x", &c), Error::KeyDisabled);
    assert_err!(ring.encrypt("alias/switch", b"x", &c), Error::KeyDisabled);
    assert_err!(
        ring.encrypt_into("switch", b"x", &c, &mut [0; 256]),
        Error::KeyDisabled
    );
    assert_err!(ring.decrypt(&blob, &c), Error::KeyDisabled);
    assert_err!(
        ring.decrypt_into(&blob, &c, &mut [0; 64]),
        Error::KeyDisabled
    );
    assert_err!(
        ring.generate_data_key("switch", DataKeySpec::Aes256, &c),
        Error::KeyDisabled
    );
    assert_err!(
        ring.generate_data_key_without_plaintext("switch", DataKeySpec::Aes256, &c),
        Error::KeyDisabled
    );
    assert_err!(ring.rotate_key("switch"), Error::KeyDisabled);
    // Disabled as source or as destination of a re-encryption.
    assert_err!(ring.re_encrypt(&blob, &c, "other", &c), Error::KeyDisabled);
    assert_err!(
        ring.re_encrypt(&other_blob, &c, "switch", &c),
        Error::KeyDisabled
    );
    // The other key is unaffected.
    assert_eq!(&ring.decrypt(&other_blob, &c)?[..], b"other");
    // No encryption was counted while disabled.
    assert_eq!(encryption_counts(&ring, "switch"), [1]);

    ring.enable_key("switch")?;
    ring.enable_key("alias/switch")?; // idempotent
    assert_eq!(ring.describe_key("switch")?.key_state, KeyState::Enabled);
    assert_eq!(&ring.decrypt(&blob, &c)?[..], b"before");
    let after = ring.encrypt("switch", b"after", &c)?;
    assert_eq!(&ring.decrypt(&after, &c)?[..], b"after");
    Ok(())
}

// ----- deletion ---------------------------------------------------------------------------------

#[test]
fn pending_window_bounds() -> keyplane::Result<()> {
    for days in [0, 1, 6, 31, 365, u32::MAX] {
        assert_err!(PendingWindow::days(days), Error::InvalidInput(_));
    }
    assert_eq!(PendingWindow::days(7)?.as_duration(), 7 * DAY);
    assert_eq!(PendingWindow::days(30)?.as_duration(), 30 * DAY);
    assert_eq!(PendingWindow::default(), PendingWindow::days(30)?);
    assert_eq!(
        PendingWindow::custom(Duration::ZERO).as_duration(),
        Duration::ZERO
    );
    Ok(())
}

#[test]
fn pending_deletion_blocks_use_until_cancelled() -> keyplane::Result<()> {
    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("pending").alias("alias/pending"))?;
    let c = ctx(&[("purpose", "deletion")]);
    let blob = ring.encrypt("pending", b"kept", &c)?;

    let before = SystemTime::now();
    let date = ring.schedule_key_deletion("alias/pending", PendingWindow::days(7)?)?;
    assert!(date >= before + 7 * DAY);
    let meta = ring.describe_key("pending")?;
    assert_eq!(meta.key_state, KeyState::PendingDeletion);
    assert_eq!(meta.deletion_date, Some(date));
    assert_eq!(ring.list_keys(), ["pending"], "not due: still listed");

    assert_err!(ring.encrypt("pending", b"x", &c), Error::InvalidKeyState);
    assert_err!(
        ring.encrypt_into("pending", b"x", &c, &mut [0; 256]),
        Error::InvalidKeyState
    );
    assert_err!(ring.decrypt(&blob, &c), Error::InvalidKeyState);
    assert_err!(
        ring.generate_data_key("pending", DataKeySpec::Aes128, &c),
        Error::InvalidKeyState
    );
    assert_err!(ring.rotate_key("pending"), Error::InvalidKeyState);
    assert_err!(ring.enable_key("pending"), Error::InvalidKeyState);
    assert_err!(ring.disable_key("pending"), Error::InvalidKeyState);
    assert_err!(
        ring.schedule_key_deletion("pending", PendingWindow::default()),
        Error::InvalidKeyState
    );

    // Cancelling brings the key back disabled, as AWS KMS does.
    ring.cancel_key_deletion("pending")?;
    let meta = ring.describe_key("pending")?;
    assert_eq!(meta.key_state, KeyState::Disabled);
    assert_eq!(meta.deletion_date, None);
    assert_err!(ring.cancel_key_deletion("pending"), Error::InvalidKeyState);
    assert_err!(ring.encrypt("pending", b"x", &c), Error::KeyDisabled);
    assert_err!(ring.decrypt(&blob, &c), Error::KeyDisabled);

    ring.enable_key("pending")?;
    assert_eq!(&ring.decrypt(&blob, &c)?[..], b"kept");
    assert_eq!(
        &ring.decrypt(&ring.encrypt("alias/pending", b"y", &c)?, &c)?[..],
        b"y"
    );

    // A disabled key can be scheduled for deletion too.
    ring.disable_key("pending")?;
    ring.schedule_key_deletion("pending", PendingWindow::days(30)?)?;
    assert_eq!(
        ring.describe_key("pending")?.key_state,
        KeyState::PendingDeletion
    );
    Ok(())
}

#[test]
fn zero_window_deletes_key_and_aliases_at_next_look_up() -> keyplane::Result<()> {
    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("doomed").alias("alias/doomed"))?;
    ring.create_alias("alias/doomed-too", "doomed")?;
    ring.create_key(&symmetric().key_id("survivor").alias("alias/survivor"))?;
    let c = ctx(&[("purpose", "deletion")]);
    let blob = ring.encrypt("alias/doomed", b"gone", &c)?;

    let date = ring.schedule_key_deletion("doomed", PendingWindow::custom(Duration::ZERO))?;
    assert!(date <= SystemTime::now());

    assert_err!(ring.describe_key("doomed"), Error::NotFound);
    assert_err!(ring.describe_key("alias/doomed"), Error::NotFound);
    assert_err!(ring.describe_key("alias/doomed-too"), Error::NotFound);
    assert_err!(ring.encrypt("doomed", b"x", &c), Error::NotFound);
    assert_err!(ring.cancel_key_deletion("doomed"), Error::NotFound);
    assert_eq!(ring.list_keys(), ["survivor"]);
    assert_eq!(
        ring.list_aliases(),
        [AliasEntry {
            alias_name: "alias/survivor".into(),
            target_key_id: "survivor".into(),
        }]
    );
    assert_err!(ring.decrypt(&blob, &c), Error::InvalidCiphertext);

    // The id is free again, but a new key under it has new material.
    ring.create_key(&symmetric().key_id("doomed"))?;
    assert_err!(ring.decrypt(&blob, &c), Error::InvalidCiphertext);
    Ok(())
}

#[test]
fn zero_window_deletion_noticed_by_decrypt() -> keyplane::Result<()> {
    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("doomed").alias("alias/doomed"))?;
    let blob = ring.encrypt("doomed", b"gone", EncryptionContext::empty())?;
    ring.schedule_key_deletion("doomed", PendingWindow::custom(Duration::ZERO))?;
    // The first look-up after the window is a decryption.
    assert_err!(
        ring.decrypt(&blob, EncryptionContext::empty()),
        Error::InvalidCiphertext
    );
    assert!(ring.list_aliases().is_empty());
    assert!(ring.list_keys().is_empty());
    Ok(())
}

#[test]
fn zero_window_deletion_noticed_by_list_keys() -> keyplane::Result<()> {
    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("doomed").alias("alias/doomed"))?;
    ring.create_key(&symmetric().key_id("kept"))?;
    ring.schedule_key_deletion("doomed", PendingWindow::custom(Duration::ZERO))?;
    assert_eq!(ring.list_keys(), ["kept"]);
    assert!(ring.list_aliases().is_empty());
    Ok(())
}

// ----- aliases ----------------------------------------------------------------------------------

#[test]
fn alias_lifecycle() -> keyplane::Result<()> {
    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("k1"))?;
    ring.create_key(&symmetric().key_id("k2"))?;
    let c = ctx(&[("app", "billing")]);

    ring.create_alias("alias/app", "k1")?;
    // An alias given as the target resolves to its key.
    ring.create_alias("alias/app-b", "alias/app")?;
    let entry = |alias: &str, key: &str| AliasEntry {
        alias_name: alias.into(),
        target_key_id: key.into(),
    };
    assert_eq!(
        ring.list_aliases(),
        [entry("alias/app", "k1"), entry("alias/app-b", "k1")]
    );
    assert_eq!(
        ring.describe_key("k1")?.aliases,
        ["alias/app", "alias/app-b"]
    );
    assert_eq!(ring.describe_key("alias/app-b")?.key_id, "k1");

    let under_k1 = ring.encrypt("alias/app", b"one", &c)?;
    assert_eq!(blob_key_id(&under_k1), "k1");

    ring.update_alias("alias/app", "k2")?;
    assert_eq!(
        ring.list_aliases(),
        [entry("alias/app", "k2"), entry("alias/app-b", "k1")]
    );
    assert_eq!(ring.describe_key("k1")?.aliases, ["alias/app-b"]);
    assert_eq!(ring.describe_key("k2")?.aliases, ["alias/app"]);
    let under_k2 = ring.encrypt("alias/app", b"two", &c)?;
    assert_eq!(blob_key_id(&under_k2), "k2");
    // Decryption needs no key id: the blob names its key.
    assert_eq!(&ring.decrypt(&under_k1, &c)?[..], b"one");
    assert_eq!(&ring.decrypt(&under_k2, &c)?[..], b"two");

    assert_err!(ring.update_alias("alias/missing", "k1"), Error::NotFound);
    assert_err!(ring.update_alias("alias/app", "missing"), Error::NotFound);
    assert_err!(ring.create_alias("alias/new", "missing"), Error::NotFound);

    ring.delete_alias("alias/app")?;
    assert_err!(ring.delete_alias("alias/app"), Error::NotFound);
    assert_err!(ring.encrypt("alias/app", b"x", &c), Error::NotFound);
    assert!(ring.describe_key("k2")?.aliases.is_empty());
    // The key itself is untouched.
    assert_eq!(&ring.decrypt(&under_k2, &c)?[..], b"two");
    assert_eq!(ring.list_aliases(), [entry("alias/app-b", "k1")]);
    Ok(())
}

#[test]
fn alias_works_wherever_a_key_id_does() -> keyplane::Result<()> {
    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("real").alias("alias/nick"))?;
    ring.create_key(&symmetric().key_id("src"))?;
    let a = "alias/nick";
    let c = ctx(&[("k", "v")]);

    assert_eq!(ring.describe_key(a)?.key_id, "real");
    assert_eq!(
        ring.ciphertext_len(a, 10)?,
        ring.ciphertext_len("real", 10)?
    );
    let mut out = vec![0; ring.ciphertext_len(a, 3)?];
    let n = ring.encrypt_into(a, b"abc", &c, &mut out)?;
    assert_eq!(blob_key_id(&out[..n]), "real");

    let dk = ring.generate_data_key(a, DataKeySpec::Aes256, &c)?;
    assert_eq!(dk.key_id(), "real");
    assert_eq!(blob_key_id(dk.ciphertext_blob()), "real");
    let blob = ring.generate_data_key_without_plaintext(a, DataKeySpec::Aes128, &c)?;
    assert_eq!(blob_key_id(&blob), "real");

    let from_src = ring.encrypt("src", b"moved", &c)?;
    let moved = ring.re_encrypt(&from_src, &c, a, &c)?;
    assert_eq!(blob_key_id(&moved), "real");

    assert_eq!(ring.rotate_key(a)?, 2);
    ring.enable_key_rotation(a, RotationPeriod::days(365)?)?;
    ring.disable_key_rotation(a)?;
    ring.set_rotate_on_budget(a, false)?;
    ring.set_min_decryption_version(a, 2)?;
    ring.disable_key(a)?;
    ring.enable_key(a)?;
    ring.schedule_key_deletion(a, PendingWindow::default())?;
    ring.cancel_key_deletion(a)?;
    ring.enable_key(a)?;

    let meta = ring.describe_key("real")?;
    assert_eq!(meta.current_version, 2);
    assert_eq!(meta.min_decryption_version, 2);
    assert!(!meta.rotate_on_budget);
    assert_eq!(meta.key_state, KeyState::Enabled);
    Ok(())
}

// ----- rotation ---------------------------------------------------------------------------------

#[test]
fn manual_rotation_keeps_every_version_decrypting() -> keyplane::Result<()> {
    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("rot"))?;
    let c = ctx(&[("tenant", "acme")]);

    let mut blobs = vec![ring.encrypt("rot", b"message 1", &c)?];
    for expected in 2..=5 {
        assert_eq!(ring.rotate_key("rot")?, expected);
        let blob = ring.encrypt("rot", format!("message {expected}").as_bytes(), &c)?;
        assert_eq!(
            key_version(&blob),
            expected,
            "new blobs use the newest version"
        );
        blobs.push(blob);
    }
    let meta = ring.describe_key("rot")?;
    assert_eq!(meta.current_version, 5);
    let numbers: Vec<u32> = meta.versions.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5]);
    assert!(
        meta.versions
            .windows(2)
            .all(|w| w[0].creation_date <= w[1].creation_date)
    );
    assert_eq!(encryption_counts(&ring, "rot"), [1, 1, 1, 1, 1]);

    for (version, blob) in (1..).zip(&blobs) {
        assert_eq!(key_version(blob), version);
        assert_eq!(
            &ring.decrypt(blob, &c)?[..],
            format!("message {version}").as_bytes()
        );
    }
    Ok(())
}

#[test]
fn rotation_period_bounds() -> keyplane::Result<()> {
    for days in [0, 1, 89, 2561, u32::MAX] {
        assert_err!(RotationPeriod::days(days), Error::InvalidInput(_));
    }
    assert_eq!(RotationPeriod::days(90)?.as_duration(), 90 * DAY);
    assert_eq!(RotationPeriod::days(2560)?.as_duration(), 2560 * DAY);
    assert_err!(
        RotationPeriod::custom(Duration::ZERO),
        Error::InvalidInput(_)
    );
    assert_eq!(
        RotationPeriod::custom(Duration::from_nanos(1))?.as_duration(),
        Duration::from_nanos(1)
    );
    Ok(())
}

#[test]
fn enable_and_disable_rotation_report_the_schedule() -> keyplane::Result<()> {
    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("sched"))?;
    let period = RotationPeriod::days(365)?;
    ring.enable_key_rotation("sched", period)?;
    let meta = ring.describe_key("sched")?;
    assert_eq!(meta.rotation_period, Some(period));
    assert_eq!(
        meta.next_rotation_date,
        Some(meta.versions[0].creation_date + 365 * DAY),
        "counted from the current version's creation"
    );

    assert_eq!(ring.rotate_key("sched")?, 2);
    let meta = ring.describe_key("sched")?;
    assert_eq!(
        meta.next_rotation_date,
        Some(meta.versions[1].creation_date + 365 * DAY),
        "a manual rotation restarts the period"
    );

    ring.disable_key_rotation("sched")?;
    let meta = ring.describe_key("sched")?;
    assert_eq!(meta.rotation_period, None);
    assert_eq!(meta.next_rotation_date, None);
    Ok(())
}

#[test]
fn periodic_rotation_is_lazy_and_happens_once() -> keyplane::Result<()> {
    let period = Duration::from_millis(100);
    let ring = Keyring::new();
    ring.create_key(
        &symmetric()
            .key_id("lazy")
            .rotation_period(RotationPeriod::custom(period)?),
    )?;
    let c = ctx(&[("purpose", "lazy rotation")]);
    let meta = ring.describe_key("lazy")?;
    assert_eq!(meta.rotation_period, Some(RotationPeriod::custom(period)?));
    assert_eq!(
        meta.next_rotation_date,
        Some(meta.versions[0].creation_date + period)
    );

    // Several periods pass; nothing rotates without a use.
    thread::sleep(period * 7 / 2);
    assert_eq!(ring.describe_key("lazy")?.current_version, 1);

    // The next encryption rotates exactly once, however many periods passed.
    let b2 = ring.encrypt("lazy", b"two", &c)?;
    assert_eq!(key_version(&b2), 2);
    let meta = ring.describe_key("lazy")?;
    assert_eq!(meta.current_version, 2);
    assert_eq!(encryption_counts(&ring, "lazy"), [0, 1]);
    assert_eq!(
        meta.next_rotation_date,
        Some(meta.versions[1].creation_date + period)
    );

    thread::sleep(period * 3 / 2);
    let b3 = ring.encrypt("lazy", b"three", &c)?;
    assert_eq!(key_version(&b3), 3);
    assert_eq!(ring.describe_key("lazy")?.current_version, 3);

    // Off: no more rotations however long we wait.
    ring.disable_key_rotation("lazy")?;
    thread::sleep(period * 3 / 2);
    let b3_again = ring.encrypt("lazy", b"still three", &c)?;
    assert_eq!(key_version(&b3_again), 3);
    let meta = ring.describe_key("lazy")?;
    assert_eq!(meta.current_version, 3);
    assert_eq!(meta.next_rotation_date, None);

    assert_eq!(&ring.decrypt(&b2, &c)?[..], b"two");
    assert_eq!(&ring.decrypt(&b3, &c)?[..], b"three");
    assert_eq!(&ring.decrypt(&b3_again, &c)?[..], b"still three");
    Ok(())
}

#[test]
fn enabling_rotation_after_the_period_rotates_at_next_use() -> keyplane::Result<()> {
    let period = Duration::from_millis(50);
    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("late"))?;
    thread::sleep(period * 2);
    // Counted from version 1's creation, which is already more than a period ago.
    ring.enable_key_rotation("late", RotationPeriod::custom(period)?)?;
    assert_eq!(ring.describe_key("late")?.current_version, 1);
    let blob = ring.encrypt("late", b"x", EncryptionContext::empty())?;
    assert_eq!(key_version(&blob), 2);
    Ok(())
}

#[test]
fn min_decryption_version_retires_older_blobs() -> keyplane::Result<()> {
    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("min"))?;
    let c = ctx(&[("purpose", "retire")]);
    let b1 = ring.encrypt("min", b"one", &c)?;
    ring.rotate_key("min")?;
    let b2 = ring.encrypt("min", b"two", &c)?;
    ring.rotate_key("min")?;
    let b3 = ring.encrypt("min", b"three", &c)?;

    assert_err!(
        ring.set_min_decryption_version("min", 0),
        Error::InvalidInput(_)
    );
    assert_err!(
        ring.set_min_decryption_version("min", 4),
        Error::InvalidInput(_)
    );
    assert_err!(
        ring.set_min_decryption_version("min", u32::MAX),
        Error::InvalidInput(_)
    );
    assert_eq!(ring.describe_key("min")?.min_decryption_version, 1);

    ring.set_min_decryption_version("min", 2)?;
    assert_eq!(ring.describe_key("min")?.min_decryption_version, 2);
    assert_err!(ring.decrypt(&b1, &c), Error::VersionRetired);
    assert_err!(ring.re_encrypt(&b1, &c, "min", &c), Error::VersionRetired);
    assert_eq!(&ring.decrypt(&b2, &c)?[..], b"two");
    assert_eq!(&ring.decrypt(&b3, &c)?[..], b"three");

    ring.set_min_decryption_version("min", 3)?;
    assert_err!(ring.decrypt(&b2, &c), Error::VersionRetired);
    assert_eq!(&ring.decrypt(&b3, &c)?[..], b"three");
    // Policy comes after authenticity: a retired blob under the wrong context is just invalid.
    assert_err!(
        ring.decrypt(&b1, EncryptionContext::empty()),
        Error::InvalidCiphertext
    );

    // Lowering it re-admits old versions: nothing was destroyed.
    ring.set_min_decryption_version("min", 1)?;
    assert_eq!(&ring.decrypt(&b1, &c)?[..], b"one");

    // The bound follows the current version.
    assert_err!(
        ring.set_min_decryption_version("min", 4),
        Error::InvalidInput(_)
    );
    ring.rotate_key("min")?;
    ring.set_min_decryption_version("min", 4)?;
    assert_err!(ring.decrypt(&b3, &c), Error::VersionRetired);
    Ok(())
}

// ----- encryption budget ------------------------------------------------------------------------

fn budget_ring(budget: u64) -> Keyring {
    Keyring::builder()
        .encryption_budget(NonZeroU64::new(budget).expect("non-zero budget"))
        .build()
}

#[test]
fn spent_budget_rotates_the_key() -> keyplane::Result<()> {
    let ring = budget_ring(3);
    ring.create_key(&symmetric().key_id("budget"))?;
    let c = ctx(&[("purpose", "budget")]);
    let mut blobs = Vec::new();

    for i in 0..3u8 {
        let blob = ring.encrypt("budget", &[i], &c)?;
        assert_eq!(key_version(&blob), 1);
        blobs.push(blob);
    }
    let meta = ring.describe_key("budget")?;
    assert_eq!(meta.current_version, 1);
    assert_eq!(encryption_counts(&ring, "budget"), [3]);

    // Version 1 is spent: the next encryption rotates first.
    let blob = ring.encrypt("budget", &[3], &c)?;
    assert_eq!(key_version(&blob), 2);
    blobs.push(blob);
    assert_eq!(ring.describe_key("budget")?.current_version, 2);
    assert_eq!(encryption_counts(&ring, "budget"), [3, 1]);

    // encrypt_into and generate_data_key count too; a too-small buffer does not.
    assert_err!(
        ring.encrypt_into("budget", &[4], &c, &mut [0; 8]),
        Error::BufferTooSmall { .. }
    );
    let mut out = vec![0; ring.ciphertext_len("budget", 1)?];
    let n = ring.encrypt_into("budget", &[4], &c, &mut out)?;
    blobs.push(out[..n].to_vec());
    let dk = ring.generate_data_key("budget", DataKeySpec::NumberOfBytes(1), &c)?;
    assert_eq!(key_version(dk.ciphertext_blob()), 2);
    assert_eq!(encryption_counts(&ring, "budget"), [3, 3]);

    let blob = ring.encrypt("budget", &[5], &c)?;
    assert_eq!(key_version(&blob), 3);
    blobs.push(blob);
    assert_eq!(encryption_counts(&ring, "budget"), [3, 3, 1]);

    let want: [&[u8]; 6] = [&[0], &[1], &[2], &[3], &[4], &[5]];
    for (blob, want) in blobs.iter().zip(want) {
        assert_eq!(&ring.decrypt(blob, &c)?[..], want);
    }
    Ok(())
}

#[test]
fn spent_budget_refuses_without_rotate_on_budget() -> keyplane::Result<()> {
    let ring = budget_ring(3);
    let meta = ring.create_key(&symmetric().key_id("strict").rotate_on_budget(false))?;
    assert!(!meta.rotate_on_budget);
    let c = EncryptionContext::empty();

    let first = ring.encrypt("strict", b"1", c)?;
    ring.encrypt("strict", b"2", c)?;
    ring.encrypt("strict", b"3", c)?;
    assert_err!(ring.encrypt("strict", b"4", c), Error::LimitExceeded(_));
    assert_err!(
        ring.encrypt_into("strict", b"4", c, &mut [0; 128]),
        Error::LimitExceeded(_)
    );
    assert_err!(
        ring.generate_data_key("strict", DataKeySpec::Aes256, c),
        Error::LimitExceeded(_)
    );
    assert_err!(
        ring.re_encrypt(&first, c, "strict", c),
        Error::LimitExceeded(_)
    );
    let meta = ring.describe_key("strict")?;
    assert_eq!(meta.current_version, 1);
    assert_eq!(encryption_counts(&ring, "strict"), [3]);
    // Decryption is not limited.
    assert_eq!(&ring.decrypt(&first, c)?[..], b"1");

    // A manual rotation gives a fresh budget.
    assert_eq!(ring.rotate_key("strict")?, 2);
    assert_eq!(key_version(&ring.encrypt("strict", b"4", c)?), 2);
    assert_eq!(encryption_counts(&ring, "strict"), [3, 1]);
    Ok(())
}

#[test]
fn set_rotate_on_budget_switches_behaviour() -> keyplane::Result<()> {
    let ring = budget_ring(3);
    ring.create_key(&symmetric().key_id("switch"))?;
    ring.set_rotate_on_budget("switch", false)?;
    assert!(!ring.describe_key("switch")?.rotate_on_budget);
    let c = EncryptionContext::empty();
    for _ in 0..3 {
        ring.encrypt("switch", b"x", c)?;
    }
    assert_err!(ring.encrypt("switch", b"x", c), Error::LimitExceeded(_));
    assert_eq!(encryption_counts(&ring, "switch"), [3]);

    ring.set_rotate_on_budget("switch", true)?;
    assert!(ring.describe_key("switch")?.rotate_on_budget);
    assert_eq!(key_version(&ring.encrypt("switch", b"x", c)?), 2);
    assert_eq!(encryption_counts(&ring, "switch"), [3, 1]);
    Ok(())
}

#[test]
fn budget_of_one_rotates_every_encryption() -> keyplane::Result<()> {
    let ring = budget_ring(1);
    ring.create_key(&symmetric().key_id("one"))?;
    let c = EncryptionContext::empty();
    let blobs: Vec<Vec<u8>> = (0..5u8)
        .map(|i| ring.encrypt("one", &[i], c))
        .collect::<keyplane::Result<_>>()?;
    for (version, (i, blob)) in (1..).zip((0..5u8).zip(&blobs)) {
        assert_eq!(key_version(blob), version);
        assert_eq!(&ring.decrypt(blob, c)?[..], [i]);
    }
    assert_eq!(encryption_counts(&ring, "one"), [1, 1, 1, 1, 1]);
    Ok(())
}

// ----- re-encryption and data keys -------------------------------------------------------------

#[test]
fn re_encrypt_to_another_key_and_to_the_newest_version() -> keyplane::Result<()> {
    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("src"))?;
    ring.create_key(&symmetric().key_id("dst"))?;
    let src_ctx = ctx(&[("stage", "source")]);
    let dst_ctx = ctx(&[("stage", "destination"), ("extra", "pair")]);
    let blob = ring.encrypt("src", b"payload", &src_ctx)?;

    let moved = ring.re_encrypt(&blob, &src_ctx, "dst", &dst_ctx)?;
    assert_eq!(blob_key_id(&moved), "dst");
    assert_eq!(&ring.decrypt(&moved, &dst_ctx)?[..], b"payload");
    assert_err!(ring.decrypt(&moved, &src_ctx), Error::InvalidCiphertext);

    assert_err!(
        ring.re_encrypt(&blob, &dst_ctx, "dst", &dst_ctx),
        Error::InvalidCiphertext
    );
    assert_err!(
        ring.re_encrypt(&blob, EncryptionContext::empty(), "dst", &dst_ctx),
        Error::InvalidCiphertext
    );
    assert_err!(
        ring.re_encrypt(&blob, &src_ctx, "missing", &dst_ctx),
        Error::NotFound
    );

    ring.rotate_key("src")?;
    ring.rotate_key("src")?;
    let refreshed = ring.re_encrypt(&blob, &src_ctx, "src", &src_ctx)?;
    assert_eq!(key_version(&blob), 1);
    assert_eq!(key_version(&refreshed), 3);
    assert_eq!(blob_key_id(&refreshed), "src");
    assert_eq!(&ring.decrypt(&refreshed, &src_ctx)?[..], b"payload");
    // Re-encrypting changes the nonce, so the blob differs even under the same key and context.
    assert_ne!(
        ring.re_encrypt(&refreshed, &src_ctx, "src", &src_ctx)?,
        refreshed
    );
    Ok(())
}

#[test]
fn generate_data_key_sizes() -> keyplane::Result<()> {
    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("dk"))?;
    let c = ctx(&[("purpose", "data key")]);
    for (spec, len) in [
        (DataKeySpec::Aes256, 32),
        (DataKeySpec::Aes128, 16),
        (DataKeySpec::NumberOfBytes(1), 1),
        (DataKeySpec::NumberOfBytes(1024), 1024),
    ] {
        assert_eq!(spec.byte_len()?, len);
        let dk = ring.generate_data_key("dk", spec, &c)?;
        assert_eq!(dk.key_id(), "dk");
        assert_eq!(dk.plaintext().len(), len);
        assert_eq!(ring.plaintext_len(dk.ciphertext_blob())?, len);
        assert_eq!(
            ring.decrypt(dk.ciphertext_blob(), &c)?.as_slice(),
            dk.plaintext()
        );
        assert_err!(
            ring.decrypt(dk.ciphertext_blob(), EncryptionContext::empty()),
            Error::InvalidCiphertext
        );
        if len >= 16 {
            let again = ring.generate_data_key("dk", spec, &c)?;
            assert_ne!(again.plaintext(), dk.plaintext(), "data keys are fresh");
        }
        let (plaintext, blob) = dk.into_parts();
        assert_eq!(ring.decrypt(&blob, &c)?.as_slice(), plaintext.as_slice());

        let blob = ring.generate_data_key_without_plaintext("dk", spec, &c)?;
        assert_eq!(blob_key_id(&blob), "dk");
        assert_eq!(ring.decrypt(&blob, &c)?.len(), len);
    }
    assert_eq!(DataKeySpec::Aes256.as_str(), Some("AES_256"));
    assert_eq!(DataKeySpec::Aes128.as_str(), Some("AES_128"));
    assert_eq!(DataKeySpec::NumberOfBytes(7).as_str(), None);

    let before = encryption_counts(&ring, "dk");
    for n in [0, 1025, usize::MAX] {
        let spec = DataKeySpec::NumberOfBytes(n);
        assert_err!(spec.byte_len(), Error::InvalidInput(_));
        assert_err!(
            ring.generate_data_key("dk", spec, &c),
            Error::InvalidInput(_)
        );
        assert_err!(
            ring.generate_data_key_without_plaintext("dk", spec, &c),
            Error::InvalidInput(_)
        );
    }
    assert_eq!(
        encryption_counts(&ring, "dk"),
        before,
        "no encryption counted"
    );
    Ok(())
}

#[test]
fn generate_random_lengths() -> keyplane::Result<()> {
    let ring = Keyring::new();
    for len in [1, 2, 16, 32, 1023, 1024] {
        assert_eq!(ring.generate_random(len)?.len(), len);
    }
    assert_ne!(ring.generate_random(32)?, ring.generate_random(32)?);
    for len in [0, 1025, usize::MAX] {
        assert_err!(ring.generate_random(len), Error::InvalidInput(_));
    }
    Ok(())
}

/// Every way `bytes` could show up in text: hex either case, and the `Debug` of the bytes or of
/// any 4-byte window (a partial leak counts too).
#[track_caller]
fn assert_not_leaked(text: &str, bytes: &[u8]) {
    let hex = hex::encode(bytes);
    assert!(!text.contains(&hex), "hex leaked: {text}");
    assert!(!text.contains(&hex.to_uppercase()), "HEX leaked: {text}");
    assert!(
        !text.contains(&format!("{bytes:?}")),
        "bytes leaked: {text}"
    );
    for window in bytes.windows(4) {
        assert!(
            !text.contains(&hex::encode(window)),
            "part of the secret leaked: {text}"
        );
        let listed = format!("{window:?}");
        let inner = &listed[1..listed.len() - 1];
        assert!(!text.contains(inner), "part of the secret leaked: {text}");
    }
}

#[test]
fn debug_output_never_contains_key_bytes() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let root = [0x5a_u8; 32];
    ring.insecure_create_key_with_material("known-root", &[root])?;
    ring.create_key(&symmetric().key_id("debug-key"))?;
    let c = ctx(&[("purpose", "debug")]);

    let dk = ring.generate_data_key("debug-key", DataKeySpec::Aes256, &c)?;
    let dk_known = ring.generate_data_key("known-root", DataKeySpec::Aes256, &c)?;
    for text in [
        format!("{dk:?}"),
        format!("{dk:#?}"),
        format!("{dk_known:?}"),
        format!("{ring:?}"),
        format!("{ring:#?}"),
        format!("{:?}", ring.describe_key("known-root")?),
    ] {
        assert_not_leaked(&text, dk.plaintext());
        assert_not_leaked(&text, dk_known.plaintext());
        assert_not_leaked(&text, &root);
    }
    assert!(
        format!("{dk:?}").contains("debug-key"),
        "the key id is not secret"
    );
    Ok(())
}

// ----- errors and types -------------------------------------------------------------------------

#[test]
fn error_codes_and_numbers_are_distinct_and_stable() {
    let all = [
        (Error::NotFound, "KP_NOT_FOUND", 1),
        (Error::AlreadyExists, "KP_ALREADY_EXISTS", 2),
        (Error::InvalidInput("x"), "KP_INVALID_INPUT", 3),
        (Error::InvalidKeyUsage, "KP_INVALID_KEY_USAGE", 4),
        (Error::KeyDisabled, "KP_KEY_DISABLED", 5),
        (Error::InvalidKeyState, "KP_INVALID_KEY_STATE", 6),
        (Error::InvalidCiphertext, "KP_INVALID_CIPHERTEXT", 7),
        (
            Error::BufferTooSmall { needed: 9 },
            "KP_BUFFER_TOO_SMALL",
            8,
        ),
        (Error::UnsupportedAlgorithm, "KP_UNSUPPORTED_ALGORITHM", 9),
        (Error::LimitExceeded("y"), "KP_LIMIT_EXCEEDED", 10),
        (Error::VersionRetired, "KP_VERSION_RETIRED", 11),
        (Error::Internal, "KP_INTERNAL", 100),
    ];
    let mut codes = HashSet::new();
    let mut numbers = HashSet::new();
    let mut messages = HashSet::new();
    for (error, code, number) in all {
        assert_eq!(error.code(), code, "{error:?}");
        assert_eq!(error.number(), number, "{error:?}");
        assert!(codes.insert(error.code()), "duplicate code {code}");
        assert!(numbers.insert(error.number()), "duplicate number {number}");
        let message = error.to_string();
        assert!(!message.is_empty());
        assert!(messages.insert(message), "duplicate message for {error:?}");
        let _: &dyn std::error::Error = &error;
    }
    // The payload never changes the code or number.
    assert_eq!(
        Error::InvalidInput("a").code(),
        Error::InvalidInput("b").code()
    );
    assert_eq!(
        Error::BufferTooSmall { needed: 1 }.number(),
        Error::BufferTooSmall { needed: 2 }.number()
    );
    assert!(
        Error::InvalidInput("the key id")
            .to_string()
            .contains("the key id")
    );
    assert!(
        Error::BufferTooSmall { needed: 4242 }
            .to_string()
            .contains("4242")
    );
}

#[test]
fn keyring_is_send_sync_and_default() {
    fn send_sync<T: Send + Sync + Clone + Default>() {}
    send_sync::<Keyring>();
    assert!(Keyring::default().list_keys().is_empty());
}

// ----- regressions: edge cases ----------------------------------------------

#[test]
fn very_long_custom_durations_do_not_panic() {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("long")).unwrap();
    let huge = Duration::MAX;
    let create = catch_unwind(AssertUnwindSafe(|| {
        let period = RotationPeriod::custom(huge)?;
        ring.create_key(&symmetric().rotation_period(period))
            .map(drop)
    }));
    let enable = catch_unwind(AssertUnwindSafe(|| {
        ring.enable_key_rotation("long", RotationPeriod::custom(huge)?)
    }));
    let delete = catch_unwind(AssertUnwindSafe(|| {
        ring.schedule_key_deletion("long", PendingWindow::custom(huge))
            .map(drop)
    }));
    // Accepting (a schedule that never comes due) or refusing with InvalidInput are both fine;
    // panicking is not.
    for (what, outcome) in [
        ("create_key", create),
        ("enable_key_rotation", enable),
        ("schedule_key_deletion", delete),
    ] {
        match outcome {
            Ok(Ok(()) | Err(Error::InvalidInput(_))) => {}
            Ok(Err(e)) => panic!("{what}: unexpected error {e:?}"),
            Err(_) => panic!("{what} panicked with a custom duration of Duration::MAX"),
        }
    }
}

#[test]
fn id_and_aliases_of_a_deleted_key_are_free_at_once() {
    let ring = Keyring::new();
    ring.create_key(&symmetric().key_id("reused").alias("alias/reused"))
        .unwrap();
    ring.schedule_key_deletion("reused", PendingWindow::custom(Duration::ZERO))
        .unwrap();
    // The key is deleted ("gone at the next look-up"): nothing may still list or hold its names.
    assert!(
        ring.list_aliases().is_empty(),
        "alias of a deleted key listed: {:?}",
        ring.list_aliases()
    );
    ring.create_key(&symmetric().key_id("reused").alias("alias/reused"))
        .expect("the id and alias of a deleted key are free");
}

// ----- the per-thread look-up cache ----------------------------------------------------------

#[test]
fn same_key_id_in_two_keyrings_never_crosses() -> keyplane::Result<()> {
    let a = Keyring::new();
    let b = Keyring::new();
    a.create_key(&symmetric().key_id("shared-id"))?;
    b.create_key(&symmetric().key_id("shared-id"))?;
    let c = EncryptionContext::empty();
    // Alternate on one thread so each look-up could be served from the other ring's cache entry.
    for _ in 0..3 {
        let from_a = a.encrypt("shared-id", b"a", c)?;
        let from_b = b.encrypt("shared-id", b"b", c)?;
        assert_eq!(&a.decrypt(&from_a, c)?[..], b"a");
        assert_eq!(&b.decrypt(&from_b, c)?[..], b"b");
        assert_err!(a.decrypt(&from_b, c), Error::InvalidCiphertext);
        assert_err!(b.decrypt(&from_a, c), Error::InvalidCiphertext);
    }
    Ok(())
}

#[test]
fn a_recreated_key_id_is_a_new_key_at_once() -> keyplane::Result<()> {
    let ring = Keyring::new();
    let c = EncryptionContext::empty();
    ring.create_key(&symmetric().key_id("reborn"))?;
    let old = ring.encrypt("reborn", b"old", c)?; // caches the look-up
    ring.schedule_key_deletion("reborn", PendingWindow::custom(Duration::ZERO))?;
    assert_err!(ring.encrypt("reborn", b"x", c), Error::NotFound);
    ring.create_key(&symmetric().key_id("reborn"))?;
    let new = ring.encrypt("reborn", b"new", c)?;
    assert_eq!(&ring.decrypt(&new, c)?[..], b"new");
    assert_err!(ring.decrypt(&old, c), Error::InvalidCiphertext);
    Ok(())
}

#[test]
fn many_keys_on_one_thread_each_resolve_to_themselves() -> keyplane::Result<()> {
    // More keys than cache slots, used round-robin, so entries are evicted and refilled.
    let ring = Keyring::new();
    let ids: Vec<String> = (0..9).map(|i| format!("key-{i}")).collect();
    for id in &ids {
        ring.create_key(&symmetric().key_id(id.as_str()).alias(format!("alias/{id}")))?;
    }
    let c = EncryptionContext::empty();
    for round in 0..3 {
        for id in &ids {
            let name = if round % 2 == 0 {
                id.clone()
            } else {
                format!("alias/{id}")
            };
            let blob = ring.encrypt(&name, id.as_bytes(), c)?;
            assert_eq!(blob_key_id(&blob), id.as_str());
            assert_eq!(&ring.decrypt(&blob, c)?[..], id.as_bytes());
        }
    }
    Ok(())
}
