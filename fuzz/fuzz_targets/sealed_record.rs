//! Sealed key records from outside: the clear header (`seal::inspect`), `import_sealed` and
//! `reseal` on arbitrary bytes, and, behind the authentication tag, the payload decoder and
//! the checks a key passes before it joins a keyring.
//!
//! Input: one selector byte, then the bytes under test. Selector bit 0 clear: the bytes are a
//! whole record, opened under the vectors' root key (the vectors' records seed the corpus).
//! Bit 0 set: the bytes are `u8 k ‖ k bytes of key id ‖ payload`; the target seals that payload
//! under the root key itself (as only a holder of the root key can), so every mutation of the
//! payload reaches the decoder.
#![no_main]

mod common;

use std::sync::LazyLock;

use common::{hex_of, json, str_of};
use keyplane::seal::{self, LocalRootKey};
use keyplane::{EncryptionContext, KeySpec, KeyState, Keyring, fuzzing};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    root: LocalRootKey,
    /// Another root, for `reseal`.
    other: LocalRootKey,
    records: Vec<Vec<u8>>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let sealed = json(common::SEALED);
    let root = LocalRootKey::new(
        str_of(&sealed["root_key"]["id"]),
        &hex_of(&sealed["root_key"]["material"]),
    )
    .expect("the vectors' root key");
    let other = LocalRootKey::new("fuzz-other-root", &[7u8; 32]).expect("a root key");
    let records = sealed["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| hex_of(&r["record"]))
        .collect();
    Fixture {
        root,
        other,
        records,
    }
});

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let f = &*FIXTURE;
    if selector & 1 == 0 {
        whole_record(f, bytes);
    } else {
        let Some((&k, rest)) = bytes.split_first() else {
            return;
        };
        let Some((key_id, payload)) = rest.split_at_checked(usize::from(k)) else {
            return;
        };
        let Ok(key_id) = core::str::from_utf8(key_id) else {
            return;
        };
        if let Ok(record) = fuzzing::seal_record_payload(key_id, payload, &f.root) {
            let imported = import_and_check(f, &record);
            if let Some(id) = imported {
                assert_eq!(id, key_id, "the key imported under another id");
            }
        }
    }
});

fn whole_record(f: &Fixture, record: &[u8]) {
    // The clear header says what its bytes say (FORMAT.md: magic, format, k, key id, r, root).
    if let Ok(info) = seal::inspect(record) {
        assert!(record.starts_with(b"KPSR\x01"));
        let k = usize::from(record[5]);
        assert_eq!(info.key_id.as_bytes(), &record[6..6 + k]);
        let r = usize::from(record[6 + k]);
        assert_eq!(info.root_id.as_bytes(), &record[7 + k..7 + k + r]);
    }
    let imported = import_and_check(f, record);
    // Nobody without the root key makes a record that opens under it.
    if imported.is_some() {
        assert!(
            f.records.iter().any(|r| r == record),
            "a record the vectors do not have opened under their root key"
        );
    }
    if let Ok(moved) = seal::reseal(record, &f.root, &f.other) {
        assert!(
            imported.is_some(),
            "reseal opened what import_sealed refused"
        );
        Keyring::new()
            .import_sealed(&moved, &f.other)
            .expect("a resealed record imports under the new root");
    }
}

/// Imports `record` into a fresh keyring; a key that loads must export, import again
/// unchanged, and work. Returns the imported key's id.
fn import_and_check(f: &Fixture, record: &[u8]) -> Option<String> {
    let ring = Keyring::new();
    let key_id = ring.import_sealed(record, &f.root).ok()?.key_id;
    // Described again rather than taken from the import: a deletion or a material expiry
    // already past takes effect at the key's first look-up, which the import is not.
    let Ok(meta) = ring.describe_key(&key_id) else {
        // Only a key whose deletion date had passed is gone at once.
        return Some(key_id);
    };
    let again = ring
        .export_sealed(&meta.key_id, &f.root)
        .expect("an imported key exports");
    let copy = Keyring::new();
    copy.import_sealed(&again, &f.root)
        .expect("a record this keyring wrote imports");
    let meta2 = copy.describe_key(&key_id).expect("the key just imported");
    assert_eq!(meta, meta2, "a key changed through export and import");
    for alias in &meta.aliases {
        assert_eq!(
            ring.describe_key(alias).map(|m| m.key_id).ok().as_deref(),
            Some(meta.key_id.as_str()),
            "an imported alias does not name its key"
        );
    }
    // An enabled symmetric key encrypts, and decrypts what it encrypted.
    if meta.key_spec == KeySpec::SymmetricDefault && meta.key_state == KeyState::Enabled {
        let ctx = EncryptionContext::empty();
        if let Ok(blob) = ring.encrypt(&meta.key_id, b"fuzz", ctx) {
            let plain = ring.decrypt(&blob, ctx);
            if meta.min_decryption_version <= meta.current_version {
                assert_eq!(plain.as_deref().ok().map(|p| &p[..]), Some(&b"fuzz"[..]));
            }
        }
    }
    Some(meta.key_id)
}
