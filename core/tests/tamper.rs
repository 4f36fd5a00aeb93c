//! A blob decrypts only exactly as it was made: every modification, truncation, extension, other
//! context or other keyring is one error, [`Error::InvalidCiphertext`], and a failed
//! `decrypt_into` leaves its whole output buffer zeroed.

use keyplane::envelope;
use keyplane::{CreateKey, EncryptionContext, Error, KeySpec, Keyring};

/// The byte every output buffer is filled with before a call that must fail.
const POISON: u8 = 0xAA;

macro_rules! assert_err {
    ($result:expr, $pattern:pat $(,)?) => {
        match $result {
            Err($pattern) => {}
            other => panic!("expected Err({}), got {:?}", stringify!($pattern), other),
        }
    };
}

fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
    EncryptionContext::new(pairs.iter().copied()).expect("valid test context")
}

/// A keyring whose key `tamper-a` has versions 1..=3 with version 1 retired, and a neighbour
/// `tamper-c` one bit away in its id, so that header bit flips land on keys and versions that
/// exist.
struct Fixture {
    ring: Keyring,
    context: EncryptionContext,
    /// (plaintext, blob) pairs, under version 3 unless noted.
    blobs: Vec<(Vec<u8>, Vec<u8>)>,
}

const KEY: &str = "tamper-a";
const NEIGHBOUR: &str = "tamper-c"; // 'a' ^ 0x02 == 'c'

fn fixture() -> Fixture {
    let ring = Keyring::new();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(KEY))
        .unwrap();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(NEIGHBOUR))
        .unwrap();
    let context = ctx(&[("tenant", "acme"), ("purpose", "tamper")]);
    let mut blobs = Vec::new();

    assert_eq!(ring.rotate_key(KEY).unwrap(), 2);
    let sixteen = b"sixteen bytes!!!".to_vec();
    let v2 = ring.encrypt(KEY, &sixteen, &context).unwrap();
    assert_eq!(envelope::inspect(&v2).unwrap().key_version, 2);
    blobs.push((sixteen, v2));

    assert_eq!(ring.rotate_key(KEY).unwrap(), 3);
    ring.set_min_decryption_version(KEY, 2).unwrap();
    for plaintext in [&b""[..], b"x", b"thirty-three bytes of plaintext!!"] {
        let blob = ring.encrypt(KEY, plaintext, &context).unwrap();
        assert_eq!(envelope::inspect(&blob).unwrap().key_version, 3);
        blobs.push((plaintext.to_vec(), blob));
    }
    Fixture {
        ring,
        context,
        blobs,
    }
}

/// Asserts that `blob` under `context` fails with `InvalidCiphertext` through both `decrypt` and
/// `decrypt_into`, and that `decrypt_into` zeroes its whole (poisoned, ample) buffer.
#[track_caller]
fn assert_invalid(ring: &Keyring, blob: &[u8], context: &EncryptionContext, what: &str) {
    match ring.decrypt(blob, context) {
        Err(Error::InvalidCiphertext) => {}
        other => panic!("{what}: decrypt gave {other:?}"),
    }
    let mut out = vec![POISON; blob.len() + 64];
    match ring.decrypt_into(blob, context, &mut out) {
        Err(Error::InvalidCiphertext) => {}
        other => panic!("{what}: decrypt_into gave {other:?}"),
    }
    assert!(
        out.iter().all(|&b| b == 0),
        "{what}: output buffer not zeroed"
    );
}

#[test]
fn untouched_blobs_decrypt() {
    let f = fixture();
    for (plaintext, blob) in &f.blobs {
        assert_eq!(
            &f.ring.decrypt(blob, &f.context).unwrap()[..],
            &plaintext[..]
        );
        let mut out = vec![POISON; plaintext.len()];
        assert_eq!(
            f.ring.decrypt_into(blob, &f.context, &mut out).unwrap(),
            plaintext.len()
        );
        assert_eq!(out, *plaintext);
    }
}

#[test]
fn every_single_bit_flip_is_invalid() {
    let f = fixture();
    let mut checked = 0usize;
    for (_, blob) in &f.blobs {
        for byte in 0..blob.len() {
            for bit in 0..8 {
                let mut tampered = blob.clone();
                tampered[byte] ^= 1 << bit;
                let what = format!("byte {byte} bit {bit} of a {}-byte blob", blob.len());
                assert_invalid(&f.ring, &tampered, &f.context, &what);
                checked += 1;
            }
        }
    }
    // Nothing was skipped (see `header_flips_reach_existing_keys_and_versions` for why the
    // header flips are meaningful).
    let total: usize = f.blobs.iter().map(|(_, b)| b.len() * 8).sum();
    assert_eq!(checked, total);
}

#[test]
fn header_flips_reach_existing_keys_and_versions() {
    // The fixture is only useful if flips land on a real neighbour key and a real, retired
    // version; check that they do, so the bit-flip test cannot silently lose its teeth.
    let f = fixture();
    let (_, blob) = &f.blobs[1]; // empty plaintext, version 3
    let id_at = 2;
    let mut to_neighbour = blob.clone();
    to_neighbour[id_at + KEY.len() - 1] ^= 0x02;
    assert_eq!(envelope::inspect(&to_neighbour).unwrap().key_id, NEIGHBOUR);
    assert_invalid(&f.ring, &to_neighbour, &f.context, "neighbour key");

    let version_at = id_at + KEY.len() + 3;
    let mut to_retired = blob.clone();
    to_retired[version_at] ^= 0x02; // 3 -> 1, retired
    assert_eq!(envelope::inspect(&to_retired).unwrap().key_version, 1);
    // Authenticity is checked before policy: a forged version is invalid, not retired.
    assert_invalid(&f.ring, &to_retired, &f.context, "retired version");

    let mut to_existing = blob.clone();
    to_existing[version_at] ^= 0x01; // 3 -> 2, live
    assert_eq!(envelope::inspect(&to_existing).unwrap().key_version, 2);
    assert_invalid(&f.ring, &to_existing, &f.context, "other live version");
}

#[test]
fn every_truncation_is_invalid() {
    let f = fixture();
    for (_, blob) in &f.blobs {
        for len in 0..blob.len() {
            let what = format!("{len}-byte prefix of a {}-byte blob", blob.len());
            assert_invalid(&f.ring, &blob[..len], &f.context, &what);
        }
        // Dropping bytes from the front is no better.
        for start in 1..blob.len() {
            assert_invalid(&f.ring, &blob[start..], &f.context, "suffix");
        }
    }
}

#[test]
fn appended_bytes_are_invalid() {
    let f = fixture();
    for (_, blob) in &f.blobs {
        for extra in [&[0u8][..], &[0xff], &[0; 16], &blob[..]] {
            let mut longer = blob.clone();
            longer.extend_from_slice(extra);
            let what = format!("{} bytes appended", extra.len());
            assert_invalid(&f.ring, &longer, &f.context, &what);
        }
        // The tag moved: the real tag followed by a copy of itself.
        let mut tag_twice = blob.clone();
        tag_twice.extend_from_slice(&blob[blob.len() - 16..]);
        assert_invalid(&f.ring, &tag_twice, &f.context, "tag repeated");
    }
}

#[test]
fn any_other_context_is_invalid() {
    let f = fixture();
    let others = [
        ("missing (empty) context", ctx(&[])),
        (
            "changed value",
            ctx(&[("tenant", "acme2"), ("purpose", "tamper")]),
        ),
        (
            "changed key",
            ctx(&[("Tenant", "acme"), ("purpose", "tamper")]),
        ),
        ("one pair missing", ctx(&[("tenant", "acme")])),
        (
            "extra pair",
            ctx(&[("tenant", "acme"), ("purpose", "tamper"), ("extra", "1")]),
        ),
        (
            "extra pair with empty value",
            ctx(&[("tenant", "acme"), ("purpose", "tamper"), ("z", "")]),
        ),
        (
            "key/value boundary moved",
            ctx(&[("tenan", "tacme"), ("purpose", "tamper")]),
        ),
        (
            "values swapped",
            ctx(&[("tenant", "tamper"), ("purpose", "acme")]),
        ),
    ];
    for (what, other) in &others {
        assert_ne!(*other, f.context);
        for (_, blob) in &f.blobs {
            assert_invalid(&f.ring, blob, other, what);
        }
    }
}

#[test]
fn empty_value_differs_from_absent_pair() {
    let ring = Keyring::new();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("k"))
        .unwrap();
    let with_empty_value = ctx(&[("k", "")]);
    let blob = ring.encrypt("k", b"x", &with_empty_value).unwrap();
    assert_invalid(&ring, &blob, EncryptionContext::empty(), "absent pair");
    assert_eq!(&ring.decrypt(&blob, &with_empty_value).unwrap()[..], b"x");

    let blob = ring.encrypt("k", b"x", EncryptionContext::empty()).unwrap();
    assert_invalid(&ring, &blob, &with_empty_value, "pair with empty value");
}

#[test]
fn blobs_from_another_keyring_are_invalid() {
    let f = fixture();
    // The same caller-chosen key id, and even the same number of versions, but other material.
    let other = Keyring::new();
    other
        .create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(KEY))
        .unwrap();
    other.rotate_key(KEY).unwrap();
    other.rotate_key(KEY).unwrap();
    // A keyring that does not have the key at all.
    let empty = Keyring::new();
    for (_, blob) in &f.blobs {
        assert_invalid(&other, blob, &f.context, "same id, other material");
        assert_invalid(&empty, blob, &f.context, "unknown key");
    }
    // And the other way round.
    let theirs = other.encrypt(KEY, b"theirs", &f.context).unwrap();
    assert_invalid(&f.ring, &theirs, &f.context, "blob from the other keyring");
}

#[test]
fn garbage_is_invalid() {
    let f = fixture();
    assert_invalid(&f.ring, &[], &f.context, "empty");
    assert_invalid(&f.ring, &[0x01], &f.context, "version byte only");
    assert_invalid(&f.ring, &[0u8; 64], &f.context, "zeros");
    assert_invalid(&f.ring, &[0xffu8; 64], &f.context, "ones");
    // A well-formed header for an existing key with a zero version.
    let (_, blob) = &f.blobs[1];
    let mut zero_version = blob.clone();
    zero_version[2 + KEY.len()..2 + KEY.len() + 4].fill(0);
    assert_invalid(&f.ring, &zero_version, &f.context, "version 0");
    // Another format version byte, the other valid format included (its AAD differs).
    let other_valid = envelope::FORMAT_V1 ^ envelope::FORMAT_V2 ^ blob[0];
    for format in [0x00, other_valid, 0x03, 0x81, 0xff] {
        let mut other_format = blob.clone();
        other_format[0] = format;
        assert_invalid(&f.ring, &other_format, &f.context, "format version");
    }
}

/// Fills a buffer with [`POISON`], runs `f` on it, and asserts it failed with `want` and left
/// the buffer zeroed.
#[track_caller]
fn assert_fails_zeroed(
    len: usize,
    want: Error,
    f: impl FnOnce(&mut [u8]) -> keyplane::Result<usize>,
) {
    let mut out = vec![POISON; len];
    assert_eq!(f(&mut out), Err(want));
    assert!(
        out.iter().all(|&b| b == 0),
        "buffer not zeroed after {want:?}"
    );
}

#[test]
fn decrypt_into_zeroes_the_buffer_on_every_error() {
    let f = fixture();
    let (plaintext, blob) = &f.blobs[3];
    let n = plaintext.len();

    // Too small: nothing is decrypted, and the poisoned buffer is still wiped.
    assert_fails_zeroed(n - 1, Error::BufferTooSmall { needed: n }, |out| {
        f.ring.decrypt_into(blob, &f.context, out)
    });
    // Retired version: the plaintext was authenticated and written, then must be wiped.
    let (_, v2) = &f.blobs[0];
    f.ring.set_min_decryption_version(KEY, 3).unwrap();
    assert_fails_zeroed(64, Error::VersionRetired, |out| {
        f.ring.decrypt_into(v2, &f.context, out)
    });
    f.ring.set_min_decryption_version(KEY, 2).unwrap();
    // Disabled key.
    f.ring.disable_key(KEY).unwrap();
    assert_fails_zeroed(64, Error::KeyDisabled, |out| {
        f.ring.decrypt_into(blob, &f.context, out)
    });
    f.ring.enable_key(KEY).unwrap();
    // Wrong context, and a larger-than-needed buffer: the whole buffer, not only the plaintext's
    // length, is wiped.
    assert_fails_zeroed(4 * n, Error::InvalidCiphertext, |out| {
        f.ring.decrypt_into(blob, EncryptionContext::empty(), out)
    });
}

#[test]
fn buffer_too_small_reports_the_exact_need() {
    let ring = Keyring::new();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("sized-key"))
        .unwrap();
    let c = ctx(&[("purpose", "sizes")]);
    for n in [0, 1, 2, 15, 16, 17, 100, 4096] {
        let plaintext = vec![0x42; n];
        let needed = ring.ciphertext_len("sized-key", n).unwrap();
        assert_eq!(
            needed,
            envelope::ciphertext_len("sized-key".len(), n).unwrap()
        );

        let count = || ring.describe_key("sized-key").unwrap().versions[0].encryptions;
        let before = count();
        let mut short_lens = vec![0, needed - 1];
        if needed > 2 {
            short_lens.push(needed / 2);
        }
        for len in short_lens {
            let mut out = vec![0; len];
            assert_eq!(
                ring.encrypt_into("sized-key", &plaintext, &c, &mut out),
                Err(Error::BufferTooSmall { needed })
            );
        }
        assert_eq!(count(), before, "refused encryptions spend no budget");

        // Exact and larger buffers both give exactly `needed` bytes.
        let mut exact = vec![0; needed];
        assert_eq!(
            ring.encrypt_into("sized-key", &plaintext, &c, &mut exact),
            Ok(needed)
        );
        let mut roomy = vec![0; needed + 10];
        assert_eq!(
            ring.encrypt_into("sized-key", &plaintext, &c, &mut roomy),
            Ok(needed)
        );
        assert_eq!(
            ring.encrypt("sized-key", &plaintext, &c).unwrap().len(),
            needed
        );
        assert_eq!(count(), before + 3);

        assert_eq!(ring.plaintext_len(&exact), Ok(n));
        if n == 0 {
            // Nothing to write: an empty buffer is big enough.
            assert_eq!(ring.decrypt_into(&exact, &c, &mut []), Ok(0));
        } else {
            for len in [0, n - 1] {
                assert_fails_zeroed(len, Error::BufferTooSmall { needed: n }, |out| {
                    ring.decrypt_into(&exact, &c, out)
                });
            }
        }
        let mut out = vec![POISON; n + 3];
        assert_eq!(ring.decrypt_into(&roomy[..needed], &c, &mut out), Ok(n));
        assert_eq!(out[..n], plaintext[..]);
        assert_eq!(
            out[n..],
            [POISON; 3],
            "bytes past the plaintext are untouched"
        );
    }
}

#[test]
fn context_validation() {
    assert_err!(EncryptionContext::new([("", "v")]), Error::InvalidInput(_));
    assert_err!(
        EncryptionContext::new([("a", "1"), ("", "")]),
        Error::InvalidInput(_)
    );
    assert_err!(
        EncryptionContext::new([("a", "1"), ("a", "2")]),
        Error::InvalidInput(_)
    );
    assert_err!(
        EncryptionContext::new([("a", "1"), ("b", "2"), ("a", "1")]),
        Error::InvalidInput(_)
    );

    // 8192 bytes of keys and values, counted in UTF-8 bytes, is the limit.
    let at_limit = "v".repeat(8191);
    assert!(EncryptionContext::new([("k", at_limit.as_str())]).is_ok());
    let over = "v".repeat(8192);
    assert_err!(
        EncryptionContext::new([("k", over.as_str())]),
        Error::LimitExceeded(_)
    );
    let wide = "é".repeat(4096); // 8192 bytes, 4096 chars
    assert_err!(
        EncryptionContext::new([("k", wide.as_str())]),
        Error::LimitExceeded(_)
    );
    let chunk = "x".repeat(1000);
    let many: Vec<(String, &str)> = (0..9)
        .map(|i| (format!("key{i}"), chunk.as_str()))
        .collect();
    assert_err!(EncryptionContext::new(many), Error::LimitExceeded(_));

    let empty = EncryptionContext::new(Vec::<(&str, &str)>::new()).unwrap();
    assert!(empty.is_empty());
    assert_eq!(empty.len(), 0);
    assert_eq!(&empty, EncryptionContext::empty());
    assert_eq!(EncryptionContext::default(), empty);
}

#[test]
fn largest_context_round_trips() {
    let ring = Keyring::new();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("k"))
        .unwrap();
    let value = "v".repeat(8191);
    let c = EncryptionContext::new([("k", value.as_str())]).unwrap();
    let blob = ring.encrypt("k", b"big context", &c).unwrap();
    assert_eq!(&ring.decrypt(&blob, &c).unwrap()[..], b"big context");
    let shorter = EncryptionContext::new([("k", &value[1..])]).unwrap();
    assert_invalid(&ring, &blob, &shorter, "one byte shorter value");
}

#[test]
fn context_is_order_independent() {
    let ring = Keyring::new();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("k"))
        .unwrap();
    let forward = ctx(&[("a", "1"), ("b", "2"), ("c", "3")]);
    let backward = ctx(&[("c", "3"), ("b", "2"), ("a", "1")]);
    let shuffled = ctx(&[("b", "2"), ("a", "1"), ("c", "3")]);
    assert_eq!(forward, backward);
    assert_eq!(forward, shuffled);
    assert_eq!(forward.canonical_bytes(), backward.canonical_bytes());
    assert_eq!(
        backward.iter().collect::<Vec<_>>(),
        [("a", "1"), ("b", "2"), ("c", "3")]
    );
    assert_eq!(backward.get("b"), Some("2"));
    assert_eq!(backward.get("d"), None);
    assert_eq!(backward.len(), 3);

    let blob = ring.encrypt("k", b"ordered", &forward).unwrap();
    for c in [&forward, &backward, &shuffled] {
        assert_eq!(&ring.decrypt(&blob, c).unwrap()[..], b"ordered");
    }
    let blob = ring.encrypt("k", b"ordered", &shuffled).unwrap();
    assert_eq!(&ring.decrypt(&blob, &backward).unwrap()[..], b"ordered");
}

/// A well-formed blob naming `key_id`, version 1, made by another keyring (so under other
/// material): what an attacker who knows the format, but no key, can make.
fn forged(key_id: &str) -> Vec<u8> {
    let other = Keyring::new();
    other
        .create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(key_id))
        .unwrap();
    other
        .encrypt(key_id, b"forged", EncryptionContext::empty())
        .unwrap()
}

#[test]
fn a_forged_blob_learns_nothing_about_the_key_it_names() {
    use keyplane::{DecryptRequest, KeyUsage, Origin, PendingWindow, ReEncryptRequest};
    let ring = Keyring::new();
    let c = EncryptionContext::empty();
    let symmetric = |id: &str| CreateKey::new(KeySpec::SymmetricDefault).key_id(id);
    ring.create_key(&symmetric("enabled")).unwrap();
    ring.create_key(&symmetric("disabled")).unwrap();
    ring.disable_key("disabled").unwrap();
    ring.create_key(&symmetric("pending-deletion")).unwrap();
    ring.schedule_key_deletion("pending-deletion", PendingWindow::days(7).unwrap())
        .unwrap();
    if keyplane::fips::FIPS_BUILD {
        // A FIPS build creates no EXTERNAL keys; one a non-FIPS build stored is this.
        ring.insecure_import_key_material(
            "pending-import",
            KeySpec::SymmetricDefault,
            KeyUsage::EncryptDecrypt,
            &[5; 32],
        )
        .unwrap();
        ring.delete_imported_key_material("pending-import").unwrap();
    } else {
        ring.create_key(&symmetric("pending-import").origin(Origin::External))
            .unwrap();
    }
    ring.create_key(&CreateKey::new(KeySpec::Hmac256).key_id("a-mac-key"))
        .unwrap();
    if keyplane::fips::FIPS_BUILD {
        // An RSA encryption key, as a non-FIPS build's store could hold one.
        use aws_lc_rs::encoding::AsDer;
        let pair = aws_lc_rs::rsa::PrivateDecryptingKey::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .unwrap();
        ring.insecure_import_key_material(
            "an-rsa-key",
            KeySpec::Rsa2048,
            KeyUsage::EncryptDecrypt,
            pair.as_der().unwrap().as_ref(),
        )
        .unwrap();
    } else {
        ring.create_key(
            &CreateKey::new(KeySpec::Rsa2048)
                .key_id("an-rsa-key")
                .usage(KeyUsage::EncryptDecrypt),
        )
        .unwrap();
    }
    let names = [
        "enabled",
        "disabled",
        "pending-deletion",
        "pending-import",
        "a-mac-key",
        "an-rsa-key",
        "no-such-key",
    ];
    for name in names {
        let blob = forged(name);
        assert_err!(ring.decrypt(&blob, c), Error::InvalidCiphertext);
        assert_fails_zeroed(64, Error::InvalidCiphertext, |out| {
            ring.decrypt_into(&blob, c, out)
        });
        assert_err!(
            ring.re_encrypt(&blob, c, "enabled", c),
            Error::InvalidCiphertext
        );
        let decrypted = ring
            .decrypt_many(&[DecryptRequest {
                blob: &blob,
                context: c,
            }])
            .unwrap();
        assert!(
            matches!(decrypted[0], Err(Error::InvalidCiphertext)),
            "{name}: decrypt_many {:?}",
            decrypted[0]
        );
        let re_encrypted = ring
            .re_encrypt_many(&[ReEncryptRequest {
                blob: &blob,
                source_context: c,
                destination_key_id: "enabled",
                destination_context: c,
            }])
            .unwrap();
        assert!(
            matches!(re_encrypted[0], Err(Error::InvalidCiphertext)),
            "{name}: re_encrypt_many {:?}",
            re_encrypted[0]
        );
    }
}

#[test]
fn state_errors_come_only_after_a_blob_authenticates() {
    use keyplane::{DecryptRequest, PendingWindow};
    let ring = Keyring::new();
    let c = EncryptionContext::empty();
    ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("k"))
        .unwrap();
    let blob = ring.encrypt("k", b"genuine", c).unwrap();
    let mut tampered = blob.clone();
    *tampered.last_mut().unwrap() ^= 1;

    ring.disable_key("k").unwrap();
    assert_err!(ring.decrypt(&blob, c), Error::KeyDisabled);
    assert_err!(ring.decrypt(&tampered, c), Error::InvalidCiphertext);
    let batch = ring
        .decrypt_many(&[
            DecryptRequest {
                blob: &blob,
                context: c,
            },
            DecryptRequest {
                blob: &tampered,
                context: c,
            },
        ])
        .unwrap();
    assert!(
        matches!(batch[0], Err(Error::KeyDisabled)),
        "{:?}",
        batch[0]
    );
    assert!(
        matches!(batch[1], Err(Error::InvalidCiphertext)),
        "{:?}",
        batch[1]
    );

    ring.enable_key("k").unwrap();
    ring.schedule_key_deletion("k", PendingWindow::days(7).unwrap())
        .unwrap();
    assert_err!(ring.decrypt(&blob, c), Error::InvalidKeyState);
    assert_err!(ring.decrypt(&tampered, c), Error::InvalidCiphertext);
    // The authenticated plaintext is wiped when a state error follows.
    assert_fails_zeroed(64, Error::InvalidKeyState, |out| {
        ring.decrypt_into(&blob, c, out)
    });
}
