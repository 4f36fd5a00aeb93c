//! Known-answer sealed key records (`vectors/sealed.json`).
//!
//! Records are sealed with fresh random record keys, so the generator cannot reproduce them
//! byte for byte: `KEYPLANE_REGENERATE_VECTORS=1 cargo test -p keyplane --test vectors_sealed`
//! writes a new file, and otherwise the committed records are replayed as they are. Each is
//! checked twice: imported through a keyring (then its blob must decrypt, its MAC or signature
//! verify), and opened by an independent decoder written from `FORMAT.md` alone with raw
//! aws-lc-rs HKDF and AES-GCM, which must find the exact material the generator put in.

use std::path::PathBuf;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::{digest, hkdf, hmac};
use keyplane::seal::LocalRootKey;
use keyplane::{
    CreateKey, EncryptionContext, KeySpec, KeyUsage, Keyring, MacAlgorithm, MessageType,
    SigningAlgorithm,
};
use serde_json::{Value, json};

const SCHEMA: &str = "keyplane-vectors/sealed/1";
const ROOT_ID: &str = "vectors-root";

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vectors/sealed.json")
}

fn seeded(seed: &[u8]) -> [u8; 32] {
    digest::digest(&digest::SHA256, seed)
        .as_ref()
        .try_into()
        .unwrap()
}

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn asymmetric_pkcs8(spec: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vectors/asymmetric.json"),
    )
    .unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let key = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key_spec"] == spec)
        .unwrap();
    unhex(&key["private_key_pkcs8"])
}

fn generate() -> Value {
    let root_material = seeded(b"keyplane sealed vectors root");
    let root = LocalRootKey::new(ROOT_ID, &root_material).unwrap();
    let ring = Keyring::new();
    let ctx = EncryptionContext::new([("tenant", "acme")]).unwrap();
    let mut records = Vec::new();

    // A symmetric key Keyplane generated and rotated once (two versions), with an alias.
    let (v1, v2) = (seeded(b"sealed v1"), seeded(b"sealed v2"));
    ring.insecure_create_key_with_material("sealed-symmetric", &[v1, v2])
        .unwrap();
    ring.create_alias("alias/sealed", "sealed-symmetric")
        .unwrap();
    let blob = ring
        .encrypt("sealed-symmetric", b"sealed vector plaintext", &ctx)
        .unwrap();
    records.push(json!({
        "name": "SYMMETRIC_DEFAULT, two versions, one alias",
        "key_id": "sealed-symmetric",
        "key_spec": "SYMMETRIC_DEFAULT",
        "key_usage": "ENCRYPT_DECRYPT",
        "origin": "KEYPLANE",
        "key_state": "Enabled",
        "aliases": ["alias/sealed"],
        "materials": [hex::encode(v1), hex::encode(v2)],
        "blob": hex::encode(&blob),
        "context": [["tenant", "acme"]],
        "plaintext": hex::encode(b"sealed vector plaintext"),
        "record": hex::encode(ring.export_sealed("sealed-symmetric", &root).unwrap()),
    }));

    // A disabled HMAC key with an imported 64-byte secret.
    let secret: Vec<u8> = [seeded(b"hmac a"), seeded(b"hmac b")].concat();
    ring.insecure_import_key_material(
        "sealed-hmac",
        KeySpec::Hmac256,
        KeyUsage::GenerateVerifyMac,
        &secret,
    )
    .unwrap();
    let mac = ring
        .generate_mac("sealed-hmac", b"mac me", MacAlgorithm::HmacSha256)
        .unwrap();
    ring.disable_key("sealed-hmac").unwrap();
    records.push(json!({
        "name": "HMAC_256 with a 64-byte key, disabled",
        "key_id": "sealed-hmac",
        "key_spec": "HMAC_256",
        "key_usage": "GENERATE_VERIFY_MAC",
        "origin": "EXTERNAL",
        "key_state": "Disabled",
        "aliases": [],
        "materials": [hex::encode(&secret)],
        "message": hex::encode(b"mac me"),
        "mac": hex::encode(&mac),
        "record": hex::encode(ring.export_sealed("sealed-hmac", &root).unwrap()),
    }));

    // An imported ECC P-256 signing key (the PKCS#8 of vectors/asymmetric.json).
    let pkcs8 = asymmetric_pkcs8("ECC_NIST_P256");
    ring.insecure_import_key_material(
        "sealed-ec",
        KeySpec::EccNistP256,
        KeyUsage::SignVerify,
        &pkcs8,
    )
    .unwrap();
    let signature = ring
        .sign(
            "sealed-ec",
            b"sign me",
            MessageType::Raw,
            SigningAlgorithm::EcdsaSha256,
        )
        .unwrap();
    records.push(json!({
        "name": "ECC_NIST_P256 signing key",
        "key_id": "sealed-ec",
        "key_spec": "ECC_NIST_P256",
        "key_usage": "SIGN_VERIFY",
        "origin": "EXTERNAL",
        "key_state": "Enabled",
        "aliases": [],
        "materials": [hex::encode(&pkcs8)],
        "message": hex::encode(b"sign me"),
        "signature": hex::encode(&signature),
        "record": hex::encode(ring.export_sealed("sealed-ec", &root).unwrap()),
    }));

    json!({
        "schema": SCHEMA,
        "generator": "KEYPLANE_REGENERATE_VECTORS=1 cargo test -p keyplane --test vectors_sealed",
        "root_key": { "id": ROOT_ID, "material": hex::encode(root_material) },
        "records": records,
    })
}

fn load() -> Value {
    // Both tests load; only one may regenerate.
    static GENERATED: std::sync::Once = std::sync::Once::new();
    GENERATED.call_once(|| {
        if std::env::var_os("KEYPLANE_REGENERATE_VECTORS").is_some() || !path().exists() {
            let doc = generate();
            std::fs::write(path(), serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
        }
    });
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path()).unwrap()).unwrap();
    assert_eq!(doc["schema"], SCHEMA);
    doc
}

#[test]
fn committed_records_import_and_work() {
    let doc = load();
    let root = LocalRootKey::new(
        doc["root_key"]["id"].as_str().unwrap(),
        &unhex(&doc["root_key"]["material"]),
    )
    .unwrap();
    let records = doc["records"].as_array().unwrap();
    assert_eq!(records.len(), 3);
    for v in records {
        let ring = Keyring::new();
        let meta = ring.import_sealed(&unhex(&v["record"]), &root).unwrap();
        let name = v["name"].as_str().unwrap();
        assert_eq!(meta.key_id, v["key_id"].as_str().unwrap(), "{name}");
        assert_eq!(
            meta.key_spec.as_str(),
            v["key_spec"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(
            meta.key_usage.as_str(),
            v["key_usage"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(
            meta.key_state.as_str(),
            v["key_state"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(
            meta.origin.as_str(),
            v["origin"].as_str().unwrap(),
            "{name}"
        );
        let aliases: Vec<&str> = v["aliases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(meta.aliases, aliases, "{name}");
        if let Some(blob) = v.get("blob") {
            let pairs: Vec<(String, String)> = v["context"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().to_owned(),
                        p[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let ctx = EncryptionContext::new(pairs).unwrap();
            assert_eq!(
                &ring.decrypt(&unhex(blob), &ctx).unwrap()[..],
                unhex(&v["plaintext"])
            );
        }
        if let Some(mac) = v.get("mac") {
            ring.enable_key(&meta.key_id).unwrap();
            assert!(
                ring.verify_mac(
                    &meta.key_id,
                    &unhex(&v["message"]),
                    MacAlgorithm::HmacSha256,
                    &unhex(mac)
                )
                .unwrap()
            );
        }
        if let Some(sig) = v.get("signature") {
            assert!(
                ring.verify(
                    &meta.key_id,
                    &unhex(&v["message"]),
                    MessageType::Raw,
                    SigningAlgorithm::EcdsaSha256,
                    &unhex(sig)
                )
                .unwrap()
            );
        }
        // A record imports into a keyring that already has other keys, under its own id.
        let busy = Keyring::new();
        busy.create_key(&CreateKey::new(KeySpec::SymmetricDefault))
            .unwrap();
        busy.import_sealed(&unhex(&v["record"]), &root).unwrap();
    }
}

/// Reads a record with nothing but `FORMAT.md` and raw aws-lc-rs.
struct Independent<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Independent<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        out
    }
    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.take(2).try_into().unwrap())
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.take(4).try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.take(8).try_into().unwrap())
    }
    fn str8(&mut self) -> String {
        let n = usize::from(self.u8());
        String::from_utf8(self.take(n).to_vec()).unwrap()
    }
    fn bytes32(&mut self) -> Vec<u8> {
        let n = usize::try_from(self.u32()).unwrap();
        self.take(n).to_vec()
    }
}

fn aes_gcm_open(key: &[u8], nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Vec<u8> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).unwrap());
    let mut buf = sealed.to_vec();
    let n = key
        .open_in_place(
            Nonce::try_assume_unique_for_key(nonce).unwrap(),
            Aad::from(aad),
            &mut buf,
        )
        .unwrap()
        .len();
    buf.truncate(n);
    buf
}

#[test]
fn committed_records_decode_from_format_md_alone() {
    struct Len;
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            32
        }
    }
    let doc = load();
    let root_material = unhex(&doc["root_key"]["material"]);
    let mut wrapping_key = [0u8; 32];
    hkdf::Salt::new(hkdf::HKDF_SHA256, b"")
        .extract(&root_material)
        .expand(&[b"keyplane local root key v1"], Len)
        .unwrap()
        .fill(&mut wrapping_key)
        .unwrap();

    for v in doc["records"].as_array().unwrap() {
        let record = unhex(&v["record"]);
        let mut r = Independent {
            bytes: &record,
            pos: 0,
        };
        assert_eq!(r.take(4), b"KPSR");
        assert_eq!(r.u8(), 1);
        let key_id = r.str8();
        assert_eq!(key_id, v["key_id"].as_str().unwrap());
        assert_eq!(r.str8(), ROOT_ID);
        let wrapped_len = usize::from(r.u16());
        let wrapped = r.take(wrapped_len);
        let header = &record[..r.pos];
        let nonce = r.take(12);
        let sealed = &record[r.pos..];

        // The record key: LocalRootKey's wrapping is nonce ‖ ciphertext ‖ tag.
        let mut wrap_aad = b"keyplane sealed record key v1\0".to_vec();
        wrap_aad.extend_from_slice(key_id.as_bytes());
        let record_key = aes_gcm_open(&wrapping_key, &wrapped[..12], &wrap_aad, &wrapped[12..]);
        assert_eq!(record_key.len(), 32);
        let payload = aes_gcm_open(&record_key, nonce, header, sealed);

        let mut p = Independent {
            bytes: &payload,
            pos: 0,
        };
        assert_eq!(p.str8(), v["key_spec"].as_str().unwrap());
        assert_eq!(p.str8(), v["key_usage"].as_str().unwrap());
        let origin = p.str8();
        assert_eq!(origin, v["origin"].as_str().unwrap());
        assert_eq!(p.str8(), v["key_state"].as_str().unwrap());
        let _creation = p.u64();
        let _description = p.bytes32();
        let (_has_deletion, _deletion) = (p.u8(), p.u64());
        let (_has_rotation, _secs, _nanos) = (p.u8(), p.u64(), p.u32());
        let _next_rotation = p.u64();
        assert!(p.u32() >= 1, "minimum decryption version");
        let _rotate_on_budget = p.u8();
        let aliases: Vec<String> = (0..p.u16()).map(|_| p.str8()).collect();
        assert_eq!(
            aliases,
            v["aliases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        );
        let materials: Vec<Vec<u8>> = v["materials"]
            .as_array()
            .unwrap()
            .iter()
            .map(unhex)
            .collect();
        assert_eq!(usize::try_from(p.u32()).unwrap(), materials.len());
        if origin == "EXTERNAL" {
            assert!(materials.len() <= 1, "an imported key has one version");
        }
        for (i, material) in materials.iter().enumerate() {
            assert_eq!(
                p.u32(),
                u32::try_from(i + 1).unwrap(),
                "version numbers from 1"
            );
            let (_created, _encryptions) = (p.u64(), p.u64());
            assert_eq!(&p.bytes32(), material, "{}: version {}", v["name"], i + 1);
        }
        let fingerprint = p.bytes32();
        if origin == "EXTERNAL" && !materials.is_empty() {
            // HMAC-SHA256 keyed with the label, over u32 key id length ‖ key id ‖ material.
            let label = hmac::Key::new(hmac::HMAC_SHA256, b"keyplane imported material v1");
            let mut input = u32::try_from(key_id.len()).unwrap().to_be_bytes().to_vec();
            input.extend_from_slice(key_id.as_bytes());
            input.extend_from_slice(&materials[0]);
            assert_eq!(
                fingerprint,
                hmac::sign(&label, &input).as_ref(),
                "{}",
                v["name"]
            );
        } else {
            assert!(fingerprint.is_empty(), "{}", v["name"]);
        }
        let (_has_valid_to, _valid_to) = (p.u8(), p.u64());
        assert_eq!(p.pos, payload.len(), "nothing left over");
    }
}
