//! Import tokens and wrapped key material from outside (`import_key_material`), and behind the
//! token's authentication tag, the token payload's decoder and the unwrap it leads to.
//!
//! Input: one selector byte, then the bytes under test; selector % 3 is the mode and the rest
//! picks the key.
//! - 0: `u16 n ‖ n bytes of token ‖ wrapped material`, given to `import_key_material` as they are.
//! - 1: key material. The target wraps it with the key's real import parameters, as an
//!   importer would, so the material's parser (raw keys, PKCS #8) gets fuzzed bytes.
//! - 2: `u16 n ‖ n bytes of token payload ‖ wrapped material`: the payload is sealed as a token
//!   under a root key the target holds, then opened and used to unwrap.
#![no_main]

mod common;

use std::sync::LazyLock;

use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrapPadded};
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm, OaepPublicEncryptingKey,
    PublicEncryptingKey,
};
use keyplane::{
    CreateKey, ImportParameters, KeySpec, KeyState, KeyUsage, Keyring, LocalRootKey, Origin,
    WrappingAlgorithm, WrappingKeySpec, fuzzing,
};
use libfuzzer_sys::fuzz_target;

struct Importable {
    key_id: String,
    algorithm: WrappingAlgorithm,
    params: ImportParameters,
    public: OaepPublicEncryptingKey,
}

struct Fixture {
    ring: Keyring,
    keys: Vec<Importable>,
    root: LocalRootKey,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let ring = Keyring::new();
    let keys = [
        (
            KeySpec::SymmetricDefault,
            KeyUsage::EncryptDecrypt,
            WrappingAlgorithm::RsaesOaepSha256,
        ),
        (
            KeySpec::Hmac256,
            KeyUsage::GenerateVerifyMac,
            WrappingAlgorithm::RsaesOaepSha1,
        ),
        (
            KeySpec::EccNistP256,
            KeyUsage::SignVerify,
            WrappingAlgorithm::RsaAesKeyWrapSha256,
        ),
        (
            KeySpec::Rsa2048,
            KeyUsage::EncryptDecrypt,
            WrappingAlgorithm::RsaAesKeyWrapSha1,
        ),
        (
            KeySpec::EccSecgP256k1,
            KeyUsage::SignVerify,
            WrappingAlgorithm::RsaAesKeyWrapSha256,
        ),
    ]
    .into_iter()
    .map(|(spec, usage, algorithm)| {
        let key_id = format!("import-{}", spec.as_str());
        ring.create_key(
            &CreateKey::new(spec)
                .key_id(&key_id)
                .usage(usage)
                .origin(Origin::External),
        )
        .expect("an EXTERNAL key");
        let params = ring
            .get_parameters_for_import(&key_id, algorithm, WrappingKeySpec::Rsa2048)
            .expect("import parameters");
        let public = OaepPublicEncryptingKey::new(
            PublicEncryptingKey::from_der(&params.public_key).expect("the wrapping public key"),
        )
        .expect("an OAEP key");
        Importable {
            key_id,
            algorithm,
            params,
            public,
        }
    })
    .collect();
    let root = LocalRootKey::new("fuzz-import-root", &[9u8; 32]).expect("a root key");
    Fixture { ring, keys, root }
});

/// `u16 n ‖ n bytes ‖ rest` as its two parts.
fn split16(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (n, rest) = bytes.split_first_chunk::<2>()?;
    rest.split_at_checked(usize::from(u16::from_be_bytes(*n)))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let f = &*FIXTURE;
    let key = &f.keys[usize::from(selector / 3) % f.keys.len()];
    match selector % 3 {
        0 => {
            let Some((token, wrapped)) = split16(bytes) else {
                return;
            };
            let imported = f
                .ring
                .import_key_material(&key.key_id, token, wrapped, None);
            // The token is sealed under a root made at random in this process, and a wrap
            // needs the public key: no input can hold a valid pair.
            assert!(imported.is_err(), "made-up import parameters were accepted");
        }
        1 => material(f, key, bytes),
        _ => {
            let Some((payload, wrapped)) = split16(bytes) else {
                return;
            };
            let token = fuzzing::seal_import_token_payload(&key.key_id, payload, &f.root)
                .expect("a token payload seals");
            let _ = fuzzing::open_import_token(&f.root, &key.key_id, &token, wrapped);
        }
    }
});

fn oaep(algorithm: WrappingAlgorithm) -> &'static OaepAlgorithm {
    match algorithm {
        WrappingAlgorithm::RsaesOaepSha1 | WrappingAlgorithm::RsaAesKeyWrapSha1 => {
            &OAEP_SHA1_MGF1SHA1
        }
        _ => &OAEP_SHA256_MGF1SHA256,
    }
}

/// `material` wrapped as an importer does with `key`'s parameters, or `None` for material the
/// wrapping cannot carry (too long for OAEP, too short for key wrap).
fn wrap(key: &Importable, material: &[u8]) -> Option<Vec<u8>> {
    let mut oaep_out = vec![0; key.public.ciphertext_size()];
    let direct = matches!(
        key.algorithm,
        WrappingAlgorithm::RsaesOaepSha1 | WrappingAlgorithm::RsaesOaepSha256
    );
    let aes = [0x5au8; 32];
    let inner: &[u8] = if direct { material } else { &aes };
    let n = key
        .public
        .encrypt(oaep(key.algorithm), inner, &mut oaep_out, None)
        .ok()?
        .len();
    oaep_out.truncate(n);
    if !direct {
        let kek = AesKek::new(&AES_256, &aes).ok()?;
        let mut wrapped = vec![0; material.len().checked_add(16)?];
        let n = kek.wrap_with_padding(material, &mut wrapped).ok()?.len();
        oaep_out.extend_from_slice(&wrapped[..n]);
    }
    Some(oaep_out)
}

fn material(f: &Fixture, key: &Importable, material: &[u8]) {
    let Some(wrapped) = wrap(key, material) else {
        return;
    };
    let token = &key.params.import_token;
    if f.ring
        .import_key_material(&key.key_id, token, &wrapped, None)
        .is_ok()
    {
        let meta = f.ring.describe_key(&key.key_id).expect("the key");
        assert_eq!(meta.key_state, KeyState::Enabled);
        assert_eq!(meta.current_version, 1);
        // The key keeps this material: importing it again works, anything else is refused.
        let again = wrap(key, material).expect("wraps as before");
        f.ring
            .import_key_material(&key.key_id, token, &again, None)
            .expect("the same material imports again");
        // (Material that imported is not empty.)
        let mut other = material.to_vec();
        other[0] ^= 1;
        if let Some(other) = wrap(key, &other) {
            assert!(
                f.ring
                    .import_key_material(&key.key_id, token, &other, None)
                    .is_err(),
                "a key took material other than its own"
            );
        }
    }
}
