//! Known-answer vectors of Keyplane's blob format (`vectors/symmetric.json`).
//!
//! The file is produced by this test's generator through the `insecure-test-hooks` feature
//! (caller-chosen root material and nonces). `KEYPLANE_REGENERATE_VECTORS=1 cargo test -p keyplane
//! --test vectors` rewrites it; otherwise the test fails when the file and the generator differ.
//! Each vector is then checked twice: through the keyring, and by an independent decryption
//! written from `FORMAT.md` alone with raw aws-lc-rs HKDF and AES-GCM.

use std::path::PathBuf;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::{digest, hkdf};
use keyplane::{EncryptionContext, Error, Keyring};
use serde_json::{Value, json};

const SCHEMA: &str = "keyplane-vectors/symmetric/1";

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vectors/symmetric.json")
}

/// Deterministic, obviously-not-secret root material.
fn root(seed: u8) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, &[b'k', b'p', seed]);
    d.as_ref().try_into().unwrap()
}

fn nonce(seed: u8) -> [u8; 12] {
    let mut n = [0u8; 12];
    for (i, b) in n.iter_mut().enumerate() {
        *b = seed.wrapping_mul(31).wrapping_add(u8::try_from(i).unwrap());
    }
    n
}

struct Case {
    name: &'static str,
    /// The blob format: `0x01` (non-FIPS builds) or `0x02` (FIPS builds).
    format: u8,
    key_id: String,
    roots: Vec<[u8; 32]>,
    version: u32,
    nonce: [u8; 12],
    context: Vec<(&'static str, &'static str)>,
    plaintext: Vec<u8>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            format: 0x01,
            name: "empty plaintext, empty context",
            key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
            roots: vec![root(1)],
            version: 1,
            nonce: nonce(1),
            context: vec![],
            plaintext: vec![],
        },
        Case {
            format: 0x01,
            name: "short plaintext, one context pair",
            key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
            roots: vec![root(1)],
            version: 1,
            nonce: nonce(2),
            context: vec![("tenant", "acme")],
            plaintext: b"hello, keyplane".to_vec(),
        },
        Case {
            format: 0x01,
            name: "second version, pairs given out of order",
            key_id: "orders-key".into(),
            roots: vec![root(2), root(3)],
            version: 2,
            nonce: nonce(3),
            context: vec![
                ("tenant", "acme"),
                ("purpose", "orders"),
                ("aws:region", "eu-west-1"),
            ],
            plaintext: b"card 4111 1111 1111 1111".to_vec(),
        },
        Case {
            format: 0x01,
            name: "first version of a rotated key",
            key_id: "orders-key".into(),
            roots: vec![root(2), root(3)],
            version: 1,
            nonce: nonce(4),
            context: vec![("tenant", "acme")],
            plaintext: b"written before rotation".to_vec(),
        },
        Case {
            format: 0x01,
            name: "255-byte key id, 1000-byte plaintext, UTF-8 context",
            key_id: "k".repeat(255),
            roots: vec![root(4)],
            version: 1,
            nonce: nonce(5),
            context: vec![("région", "Île-de-France"), ("empty-value", "")],
            plaintext: (0..1000u32)
                .map(|i| u8::try_from(i % 251).unwrap())
                .collect(),
        },
        Case {
            format: 0x02,
            name: "format 0x02: short plaintext, one context pair",
            key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
            roots: vec![root(1)],
            version: 1,
            nonce: nonce(6),
            context: vec![("tenant", "acme")],
            plaintext: b"hello, FIPS".to_vec(),
        },
        Case {
            format: 0x02,
            name: "format 0x02: second version, empty context",
            key_id: "orders-key".into(),
            roots: vec![root(2), root(3)],
            version: 2,
            nonce: nonce(7),
            context: vec![],
            plaintext: b"sealed with a nonce the module drew".to_vec(),
        },
    ]
}

fn context_json(pairs: &[(&str, &str)]) -> Value {
    Value::Array(pairs.iter().map(|(k, v)| json!([k, v])).collect())
}

fn generate() -> Value {
    let mut vectors = Vec::new();
    for c in cases() {
        let ring = Keyring::new();
        ring.insecure_create_key_with_material(&c.key_id, &c.roots)
            .unwrap();
        let ctx = EncryptionContext::new(c.context.iter().copied()).unwrap();
        let blob = ring
            .insecure_encrypt_in_format(c.format, &c.key_id, c.version, c.nonce, &c.plaintext, &ctx)
            .unwrap();
        let roots: Vec<String> = c.roots.iter().map(hex::encode).collect();
        vectors.push(json!({
            "name": c.name,
            "format": c.format,
            "key_id": c.key_id,
            "roots": roots,
            "version": c.version,
            "nonce": hex::encode(c.nonce),
            "context": context_json(&c.context),
            "canonical_context": hex::encode(ctx.canonical_bytes()),
            "plaintext": hex::encode(&c.plaintext),
            "blob": hex::encode(&blob),
            "valid": true,
        }));
        if c.name.ends_with("short plaintext, one context pair") {
            let invalid = |name: &str, context: &[(&str, &str)], blob: &[u8]| {
                json!({
                    "name": name,
                    "key_id": c.key_id,
                    "roots": roots,
                    "context": context_json(context),
                    "blob": hex::encode(blob),
                    "valid": false,
                })
            };
            let mut tampered = blob.clone();
            let last = tampered.len() - 1;
            tampered[last] ^= 0x80;
            let mut other_version = blob.clone();
            // Version 1 -> 3, which the key does not have.
            other_version[2 + c.key_id.len() + 3] ^= 0x02;
            let mut other_nonce = blob.clone();
            other_nonce[2 + c.key_id.len() + 4] ^= 0x01;
            let mut other_format = blob.clone();
            other_format[0] ^= 0x03;
            let prefix = if c.format == 0x01 {
                ""
            } else {
                "format 0x02: "
            };
            let name = |what: &str| format!("{prefix}{what}");
            vectors.extend([
                invalid(&name("tag bit flipped"), &c.context, &tampered),
                invalid(&name("wrong context value"), &[("tenant", "acme2")], &blob),
                invalid(&name("missing context"), &[], &blob),
                invalid(&name("key version changed"), &c.context, &other_version),
            ]);
            if c.format == 0x02 {
                vectors.extend([
                    invalid(&name("nonce bit flipped"), &c.context, &other_nonce),
                    invalid(&name("format byte 0x02 -> 0x01"), &c.context, &other_format),
                ]);
            }
        }
    }
    json!({
        "schema": SCHEMA,
        "format_versions": [1, 2],
        "generator": "KEYPLANE_REGENERATE_VECTORS=1 cargo test -p keyplane --test vectors",
        "vectors": vectors,
    })
}

fn load() -> Value {
    let text = std::fs::read_to_string(vectors_path()).expect("vectors/symmetric.json exists");
    serde_json::from_str(&text).expect("valid JSON")
}

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

fn context_of(v: &Value) -> Vec<(String, String)> {
    v["context"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_owned(),
                p[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn roots_of(v: &Value) -> Vec<[u8; 32]> {
    v["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| unhex(r).try_into().unwrap())
        .collect()
}

#[test]
fn file_matches_generator() {
    let generated = generate();
    if std::env::var_os("KEYPLANE_REGENERATE_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
        std::fs::write(vectors_path(), text).unwrap();
    }
    assert_eq!(
        load(),
        generated,
        "vectors/symmetric.json is stale: run KEYPLANE_REGENERATE_VECTORS=1 cargo test -p keyplane --test vectors"
    );
}

#[test]
fn keyring_decrypts_every_vector() {
    let file = load();
    assert_eq!(file["schema"], SCHEMA);
    let vectors = file["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 9);
    for v in vectors {
        let ring = Keyring::new();
        ring.insecure_create_key_with_material(v["key_id"].as_str().unwrap(), &roots_of(v))
            .unwrap();
        let ctx = EncryptionContext::new(context_of(v)).unwrap();
        let got = ring.decrypt(&unhex(&v["blob"]), &ctx);
        if v["valid"].as_bool().unwrap() {
            assert_eq!(
                &got.unwrap()[..],
                &unhex(&v["plaintext"])[..],
                "{}",
                v["name"]
            );
            assert_eq!(hex::encode(ctx.canonical_bytes()), v["canonical_context"]);
        } else {
            assert_eq!(got.unwrap_err(), Error::InvalidCiphertext, "{}", v["name"]);
        }
    }
}

/// Decryption from `FORMAT.md` alone: no Keyplane code below this line.
fn format_md_decrypt(
    blob: &[u8],
    roots: &[[u8; 32]],
    context: &[(String, String)],
) -> Option<Vec<u8>> {
    // Header.
    let format = *blob.first()?;
    if format != 0x01 && format != 0x02 {
        return None;
    }
    let id_len = usize::from(*blob.get(1)?);
    let header_len = 2 + id_len + 4 + 12;
    if id_len == 0 || blob.len() < header_len + 16 {
        return None;
    }
    let key_id = &blob[2..2 + id_len];
    let version = u32::from_be_bytes(blob[2 + id_len..6 + id_len].try_into().ok()?);
    let nonce: [u8; 12] = blob[6 + id_len..header_len].try_into().ok()?;
    let root = roots.get(usize::try_from(version).ok()?.checked_sub(1)?)?;

    // Key: HKDF-SHA256(salt "keyplane/v1", ikm root, info prefix || u8 len || id || u32 version).
    let mut info = b"keyplane/v1/aes-256-gcm\0".to_vec();
    info.push(u8::try_from(id_len).ok()?);
    info.extend_from_slice(key_id);
    info.extend_from_slice(&version.to_be_bytes());
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"keyplane/v1").extract(root);
    let mut key = [0u8; 32];
    prk.expand(&[&info], hkdf::HKDF_SHA256)
        .ok()?
        .fill(&mut key)
        .ok()?;

    // AAD: header || SHA-256(canonical context); in format 0x02 the header without its nonce.
    let mut pairs: Vec<&(String, String)> = context.iter().collect();
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut canonical = u16::try_from(pairs.len()).ok()?.to_be_bytes().to_vec();
    for (k, v) in pairs {
        canonical.extend_from_slice(&u16::try_from(k.len()).ok()?.to_be_bytes());
        canonical.extend_from_slice(k.as_bytes());
        canonical.extend_from_slice(&u16::try_from(v.len()).ok()?.to_be_bytes());
        canonical.extend_from_slice(v.as_bytes());
    }
    let aad_header_len = if format == 0x02 {
        header_len - 12
    } else {
        header_len
    };
    let mut aad = blob[..aad_header_len].to_vec();
    aad.extend_from_slice(digest::digest(&digest::SHA256, &canonical).as_ref());

    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).ok()?);
    let mut in_out = blob[header_len..].to_vec();
    let plaintext = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut in_out,
        )
        .ok()?;
    Some(plaintext.to_vec())
}

#[test]
fn format_md_alone_decrypts_every_vector() {
    for v in load()["vectors"].as_array().unwrap() {
        let got = format_md_decrypt(&unhex(&v["blob"]), &roots_of(v), &context_of(v));
        if v["valid"].as_bool().unwrap() {
            assert_eq!(
                got.as_deref(),
                Some(&unhex(&v["plaintext"])[..]),
                "{}",
                v["name"]
            );
        } else {
            assert_eq!(got, None, "{}", v["name"]);
        }
    }
}
