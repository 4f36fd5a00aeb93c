//! Ciphertext blobs from outside: the header parser (`envelope::inspect`,
//! `Keyring::plaintext_len`), symmetric decryption (`decrypt`, `decrypt_into`, `decrypt_many`,
//! `re_encrypt`) checked against FORMAT.md's decryption written independently, and the other operations that
//! take a caller's ciphertext or signature bytes (`decrypt_asymmetric`, `verify`).
//!
//! Input: one selector byte, then the bytes under test. The selector's low two bits choose the
//! operation (0 and 1: symmetric blob, 2: RSA-OAEP ciphertext, 3: signature); the rest pick a
//! context, key or vector. The keys are the known-answer vectors' own, so the vectors' real
//! blobs, ciphertexts and signatures (the seed corpus) decrypt and verify.
#![no_main]

mod common;

use std::sync::LazyLock;

use common::{hex_of, json, pairs_of, str_of};
use keyplane::{
    DecryptRequest, EncryptionAlgorithm, EncryptionContext, Error, KeySpec, KeyUsage, Keyring,
    MessageType, SigningAlgorithm, envelope,
};
use libfuzzer_sys::fuzz_target;

struct Oaep {
    key_id: String,
    algorithm: EncryptionAlgorithm,
    ciphertext: Vec<u8>,
    plaintext: Vec<u8>,
}

struct Signature {
    key_id: String,
    rsa: bool,
    message: Vec<u8>,
    /// What is signed: the message's digest (`RAW`) or the message itself (`DIGEST`).
    digest: Vec<u8>,
    message_type: MessageType,
    algorithm: SigningAlgorithm,
    signature: Vec<u8>,
}

struct Fixture {
    ring: Keyring,
    /// Symmetric keys: id and root material of versions 1, 2, ...
    roots: Vec<(String, Vec<[u8; 32]>)>,
    /// Every context the symmetric vectors use, with its canonical encoding.
    contexts: Vec<(EncryptionContext, Vec<u8>)>,
    oaep_keys: Vec<String>,
    oaep: Vec<Oaep>,
    signatures: Vec<Signature>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let ring = Keyring::new();
    let symmetric = json(common::SYMMETRIC);
    let mut roots: Vec<(String, Vec<[u8; 32]>)> = Vec::new();
    let mut contexts: Vec<(EncryptionContext, Vec<u8>)> = Vec::new();
    for v in symmetric["vectors"].as_array().expect("vectors") {
        let key_id = str_of(&v["key_id"]);
        if !roots.iter().any(|(id, _)| id == key_id) {
            let material: Vec<[u8; 32]> = v["roots"]
                .as_array()
                .expect("roots")
                .iter()
                .map(|r| hex_of(r).try_into().expect("32-byte roots"))
                .collect();
            ring.insecure_create_key_with_material(key_id, &material)
                .expect("vector key");
            roots.push((key_id.to_owned(), material));
        }
        let pairs = pairs_of(&v["context"]);
        let ctx = EncryptionContext::new(pairs.iter().map(|(k, v)| (k, v))).expect("context");
        if !contexts.iter().any(|(c, _)| *c == ctx) {
            contexts.push((ctx, common::canonical(&pairs)));
        }
    }

    let asymmetric = json(common::ASYMMETRIC);
    for k in asymmetric["keys"].as_array().expect("keys") {
        let spec: KeySpec = str_of(&k["key_spec"]).parse().expect("spec");
        let usage: KeyUsage = str_of(&k["key_usage"]).parse().expect("usage");
        ring.insecure_import_key_material(
            str_of(&k["key_id"]),
            spec,
            usage,
            &hex_of(&k["private_key_pkcs8"]),
        )
        .expect("vector key");
    }
    let mut oaep_keys = Vec::new();
    let oaep = asymmetric["oaep"]
        .as_array()
        .expect("oaep")
        .iter()
        .filter(|v| v["valid"].as_bool() == Some(true))
        .map(|v| {
            let key_id = str_of(&v["key_id"]).to_owned();
            if !oaep_keys.contains(&key_id) {
                oaep_keys.push(key_id.clone());
            }
            Oaep {
                key_id,
                algorithm: str_of(&v["algorithm"]).parse().expect("algorithm"),
                ciphertext: hex_of(&v["ciphertext"]),
                plaintext: hex_of(&v["plaintext"]),
            }
        })
        .collect();
    let signatures = asymmetric["signatures"]
        .as_array()
        .expect("signatures")
        .iter()
        .map(|v| {
            let message = hex_of(&v["message"]);
            let message_type = str_of(&v["message_type"]).parse().expect("message type");
            let algorithm: SigningAlgorithm = str_of(&v["algorithm"]).parse().expect("algorithm");
            let digest = if message_type == MessageType::Raw {
                aws_lc_rs::digest::digest(algorithm.digest_algorithm(), &message)
                    .as_ref()
                    .to_vec()
            } else {
                message.clone()
            };
            Signature {
                key_id: str_of(&v["key_id"]).to_owned(),
                rsa: str_of(&v["key_spec"]).starts_with("RSA"),
                message,
                digest,
                message_type,
                algorithm,
                signature: hex_of(&v["signature"]),
            }
        })
        .collect();
    Fixture {
        ring,
        roots,
        contexts,
        oaep_keys,
        oaep,
        signatures,
    }
});

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let f = &*FIXTURE;
    let pick = usize::from(selector >> 2);
    match selector & 3 {
        0 | 1 => symmetric(f, pick, bytes),
        2 => asymmetric(f, pick, bytes),
        _ => signature(f, pick, bytes),
    }
});

fn symmetric(f: &Fixture, pick: usize, blob: &[u8]) {
    let model = common::parse_blob(blob);

    // The header parser agrees with FORMAT.md, and an accepted blob has the length it claims.
    match envelope::inspect(blob) {
        Ok(info) => {
            let h = model
                .as_ref()
                .expect("inspect accepted what FORMAT.md refuses");
            assert_eq!(info.key_id.as_bytes(), h.key_id);
            assert_eq!(info.key_version, h.version);
            assert_eq!(info.format_version, h.format);
            let n = h.sealed.len() - 16;
            assert_eq!(
                envelope::ciphertext_len(h.key_id.len(), n),
                Some(blob.len())
            );
        }
        Err(e) => {
            assert_eq!(e, Error::InvalidCiphertext);
            assert!(
                model
                    .as_ref()
                    .is_none_or(|h| core::str::from_utf8(h.key_id).is_err())
            );
        }
    }
    let len = f.ring.plaintext_len(blob);
    assert_eq!(
        len.as_ref().ok().copied(),
        model.as_ref().map(|h| h.sealed.len() - 16),
        "plaintext_len disagrees with FORMAT.md"
    );

    // Decryption succeeds exactly when FORMAT.md's decryption with the key's real root
    // material does, and gives the same plaintext.
    let (ctx, canonical) = &f.contexts[pick % f.contexts.len()];
    let expected = model.as_ref().and_then(|h| {
        let (_, roots) = f.roots.iter().find(|(id, _)| id.as_bytes() == h.key_id)?;
        let root = roots.get(usize::try_from(h.version - 1).ok()?)?;
        common::format_decrypt(h, root, canonical)
    });
    let got = f.ring.decrypt(blob, ctx);
    match (&got, &expected) {
        (Ok(p), Some(e)) => assert_eq!(&p[..], &e[..]),
        (Err(e), None) => assert_eq!(*e, Error::InvalidCiphertext),
        _ => panic!(
            "decrypt gave {:?}, FORMAT.md's decryption {:?}",
            got.as_ref().map(|p| p.len()),
            expected.as_ref().map(Vec::len)
        ),
    }

    // The allocation-free form agrees, and leaves the buffer zeroed when it fails.
    let mut out = vec![0xa5u8; len.unwrap_or(16)];
    match f.ring.decrypt_into(blob, ctx, &mut out) {
        Ok(n) => assert_eq!(Some(&out[..n]), expected.as_deref()),
        Err(_) => {
            assert!(expected.is_none());
            assert!(
                out.iter().all(|&b| b == 0),
                "decrypt_into left bytes in out"
            );
        }
    }

    // A batch reads each item as the single call does.
    let empty = EncryptionContext::empty();
    let batch = f
        .ring
        .decrypt_many(&[
            DecryptRequest { blob, context: ctx },
            DecryptRequest {
                blob,
                context: empty,
            },
        ])
        .expect("a batch of two");
    assert_eq!(
        batch[0].as_ref().ok().map(|p| &p[..]),
        expected.as_deref(),
        "decrypt_many and decrypt disagree"
    );
    assert_eq!(
        batch[1].as_ref().ok().map(|p| &p[..]),
        f.ring.decrypt(blob, empty).ok().as_deref().map(|p| &p[..]),
        "decrypt_many and decrypt disagree"
    );

    // Re-encryption opens the blob the same way.
    let (other, _) = &f.roots[pick % f.roots.len()];
    match f
        .ring
        .re_encrypt(blob, ctx, other, EncryptionContext::empty())
    {
        Ok(again) => {
            let plain = f
                .ring
                .decrypt(&again, EncryptionContext::empty())
                .expect("a re-encrypted blob decrypts");
            assert_eq!(Some(&plain[..]), expected.as_deref());
        }
        Err(_) => assert!(expected.is_none()),
    }
}

fn asymmetric(f: &Fixture, pick: usize, ciphertext: &[u8]) {
    let key_id = &f.oaep_keys[pick % f.oaep_keys.len()];
    let algorithm = if (pick / f.oaep_keys.len()).is_multiple_of(2) {
        EncryptionAlgorithm::RsaesOaepSha1
    } else {
        EncryptionAlgorithm::RsaesOaepSha256
    };
    if let Ok(plain) = f.ring.decrypt_asymmetric(key_id, ciphertext, algorithm) {
        // Nobody without the public key's help forges an OAEP ciphertext: one that decrypts is
        // a vector's, with its plaintext.
        let known = f
            .oaep
            .iter()
            .find(|v| &v.key_id == key_id && v.algorithm == algorithm && v.ciphertext == ciphertext)
            .expect("an OAEP ciphertext the vectors do not have decrypted");
        assert_eq!(&plain[..], &known.plaintext[..]);
    }
}

fn signature(f: &Fixture, pick: usize, signature: &[u8]) {
    let v = &f.signatures[pick % f.signatures.len()];
    let verified = f.ring.verify(
        &v.key_id,
        &v.message,
        v.message_type,
        v.algorithm,
        signature,
    );
    if verified == Ok(true) && v.rsa {
        // Without the private key nobody makes an RSA signature, so one that verifies is a
        // vector's for the same digest (a RAW message and its DIGEST share signatures). (An
        // ECDSA signature (r, s) has a second valid form, (r, n - s), that anyone can compute,
        // so those are not compared.)
        assert!(
            f.signatures.iter().any(|w| w.key_id == v.key_id
                && w.digest == v.digest
                && w.algorithm == v.algorithm
                && w.signature == signature),
            "an RSA signature the vectors do not have verified"
        );
    }
}
