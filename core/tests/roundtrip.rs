//! Property tests: random plaintexts (0 B to 1 MiB), random contexts and random key ids round
//! trip through every encrypt/decrypt pairing, and the size functions predict exactly what the
//! operations produce.

use std::collections::BTreeMap;

use keyplane::envelope;
use keyplane::{CreateKey, EncryptionContext, KeySpec, Keyring};
use proptest::prelude::*;

const MIB: usize = 1 << 20;
const ALIAS: &str = "alias/roundtrip";
/// Blob bytes besides the key id and the ciphertext: version, id length, key version, nonce, tag.
const OVERHEAD: usize = 1 + 1 + 4 + 12 + 16;

/// Mostly small sizes, some medium, a few large, and the edges (including exactly 1 MiB).
fn plaintext_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        5 => 0..=64usize,
        3 => 65..=4096usize,
        1 => 4097..=MIB,
        1 => prop::sample::select(vec![0, 1, 15, 16, 17, MIB - 1, MIB]),
    ]
}

/// `len` reproducible pseudo-random bytes (SplitMix64). Generating them from a seed keeps large
/// cases cheap to generate and shrink, while proptest still shrinks the length.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// 0 to 4 pairs of short strings; keys non-empty (and unique, being map keys), values any
/// printable Unicode including empty.
fn context_pairs() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map("[a-zA-Z0-9:_-]{1,12}", "\\PC{0,12}", 0..=4)
}

/// A valid caller-chosen key id of any length from 1 to 255.
fn key_id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.:/-]{1,255}".prop_filter("not an alias", |id| !id.starts_with("alias/"))
}

/// Where two byte strings first differ, for failure messages that do not print a megabyte.
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    })]

    #[test]
    fn encrypt_decrypt_round_trip(
        len in plaintext_len(),
        seed in any::<u64>(),
        pairs in context_pairs(),
        key_id in key_id(),
        by_alias in any::<bool>(),
    ) {
        let plaintext = bytes(len, seed);
        let context = EncryptionContext::new(&pairs)?;
        prop_assert_eq!(context.len(), pairs.len());
        let ring = Keyring::new();
        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id(&key_id).alias(ALIAS))?;
        let name = if by_alias { ALIAS } else { key_id.as_str() };

        // Sizes are predicted exactly, from the key id alone.
        let needed = ring.ciphertext_len(name, len)?;
        prop_assert_eq!(needed, OVERHEAD + key_id.len() + len);
        prop_assert_eq!(Some(needed), envelope::ciphertext_len(key_id.len(), len));
        prop_assert!(needed <= envelope::max_ciphertext_len(len).unwrap_or(0));

        // encrypt -> decrypt.
        let blob = ring.encrypt(name, &plaintext, &context)?;
        prop_assert_eq!(blob.len(), needed);
        let info = envelope::inspect(&blob)?;
        prop_assert_eq!(info.format_version, envelope::FORMAT_WRITTEN);
        prop_assert_eq!(info.key_id, key_id.as_str());
        prop_assert_eq!(info.key_version, 1);
        prop_assert_eq!(ring.plaintext_len(&blob)?, len);
        let opened = ring.decrypt(&blob, &context)?;
        prop_assert!(opened.len() == len, "decrypt gave {} bytes, want {len}", opened.len());
        prop_assert_eq!(first_difference(&opened, &plaintext), None);

        // encrypt_into -> decrypt_into, with exact buffers.
        let mut sealed = vec![0; needed];
        prop_assert_eq!(ring.encrypt_into(name, &plaintext, &context, &mut sealed)?, needed);
        prop_assert_eq!(ring.plaintext_len(&sealed)?, len);
        let mut out = vec![0; len];
        prop_assert_eq!(ring.decrypt_into(&sealed, &context, &mut out)?, len);
        prop_assert_eq!(first_difference(&out, &plaintext), None);

        // Crossed: each API reads what the other wrote.
        let crossed = ring.decrypt(&sealed, &context)?;
        prop_assert_eq!(first_difference(&crossed, &plaintext), None);
        out.fill(0);
        prop_assert_eq!(ring.decrypt_into(&blob, &context, &mut out)?, len);
        prop_assert_eq!(first_difference(&out, &plaintext), None);

        // Two encryptions of the same input differ (fresh nonce), and the ciphertext is not the
        // plaintext.
        prop_assert!(sealed != blob, "two encryptions produced the same blob");
        if len >= 16 {
            let header = envelope::header_len(key_id.len());
            prop_assert!(blob[header..header + len] != plaintext[..]);
        }
    }

    #[test]
    fn contexts_are_order_independent_and_distinguishing(
        pairs in context_pairs(),
        other in context_pairs(),
        seed in any::<u64>(),
    ) {
        let ring = Keyring::new();
        ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).key_id("ctx"))?;
        let plaintext = bytes(24, seed);
        let forward = EncryptionContext::new(&pairs)?;
        let reversed = EncryptionContext::new(pairs.iter().rev())?;
        prop_assert_eq!(&forward, &reversed);
        let blob = ring.encrypt("ctx", &plaintext, &forward)?;
        prop_assert_eq!(&ring.decrypt(&blob, &reversed)?[..], &plaintext[..]);

        let other_context = EncryptionContext::new(&other)?;
        if other == pairs {
            prop_assert_eq!(&ring.decrypt(&blob, &other_context)?[..], &plaintext[..]);
        } else {
            prop_assert_eq!(
                ring.decrypt(&blob, &other_context).err(),
                Some(keyplane::Error::InvalidCiphertext)
            );
        }
    }
}

#[test]
fn split_mix_is_deterministic_and_varied() {
    // The generator above must actually produce data, or the properties test nothing.
    assert_eq!(bytes(100, 7), bytes(100, 7));
    assert_ne!(bytes(100, 7), bytes(100, 8));
    assert_eq!(bytes(13, 1).len(), 13);
    let sample = bytes(4096, 42);
    let distinct: std::collections::HashSet<u8> = sample.iter().copied().collect();
    assert!(distinct.len() > 200);
    assert_eq!(first_difference(b"abc", b"abc"), None);
    assert_eq!(first_difference(b"abc", b"abd"), Some(2));
    assert_eq!(first_difference(b"ab", b"abc"), Some(2));
}
