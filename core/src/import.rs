//! Importing key material (AWS KMS's "bring your own key").
//!
//! A key created with origin `EXTERNAL` starts in `PendingImport` with no material.
//! [`Keyring::get_parameters_for_import`](crate::Keyring::get_parameters_for_import) returns an RSA public key and an import token, valid
//! for 24 hours; the caller wraps its material with that public key and
//! [`Keyring::import_key_material`](crate::Keyring::import_key_material) unwraps and installs it. Every step is aws-lc: RSA-OAEP
//! and AES key wrap with padding (RFC 5649).
//!
//! The keyring keeps no state between the two calls: the import token carries the wrapping
//! private key, the key id, the wrapping algorithm and the expiry, sealed like a key record
//! (`FORMAT.md`). A store-backed keyring seals it under its root key, so parameters from one
//! process import in another on the same store (the two steps of `keyplane
//! get-parameters-for-import` / `import-key-material`); any other keyring seals it under a
//! root of its own, made at random, so its tokens import only into that keyring.
//!
//! As in KMS: material may be given an expiry, after which the key returns to `PendingImport`
//! and its material is dropped; [`Keyring::delete_imported_key_material`](crate::Keyring::delete_imported_key_material) does the same at once;
//! and a key only ever accepts the material it was first given (re-importing other material is
//! refused), so blobs made before keep their meaning.

use core::fmt;
use std::time::{Duration, SystemTime};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::hmac;
use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrapPadded};
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm, OaepPrivateDecryptingKey,
    PrivateDecryptingKey,
};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::seal::{self, IMPORT_TOKEN, RootKey};
use crate::spec::{KeySpec, WrappingAlgorithm, WrappingKeySpec};

/// How long import parameters stay valid, as in AWS KMS.
pub const IMPORT_PARAMETERS_VALIDITY: Duration = Duration::from_secs(24 * 60 * 60);

/// What [`Keyring::get_parameters_for_import`](crate::Keyring::get_parameters_for_import)
/// returns.
#[derive(Clone, PartialEq, Eq)]
pub struct ImportParameters {
    /// The key the parameters are for.
    pub key_id: String,
    /// The RSA public key to wrap the material with (DER SubjectPublicKeyInfo).
    pub public_key: Vec<u8>,
    /// Pass back to `import_key_material` with the wrapped material.
    pub import_token: Vec<u8>,
    /// After this, the token is refused.
    pub parameters_valid_to: SystemTime,
}

impl fmt::Debug for ImportParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportParameters")
            .field("key_id", &self.key_id)
            .field("public_key_len", &self.public_key.len())
            .field("parameters_valid_to", &self.parameters_valid_to)
            .finish_non_exhaustive()
    }
}

/// The private half of issued import parameters, opened from an import token.
pub(crate) struct Pending {
    pub(crate) algorithm: WrappingAlgorithm,
    pub(crate) key: OaepPrivateDecryptingKey,
    pub(crate) valid_to: SystemTime,
}

const TOKEN_INVALID: Error =
    Error::InvalidInput("import token is not valid (damaged, or from another keyring)");

fn algorithm_code(algorithm: WrappingAlgorithm) -> u8 {
    match algorithm {
        WrappingAlgorithm::RsaesOaepSha1 => 1,
        WrappingAlgorithm::RsaesOaepSha256 => 2,
        WrappingAlgorithm::RsaAesKeyWrapSha1 => 3,
        WrappingAlgorithm::RsaAesKeyWrapSha256 => 4,
    }
}

/// An import token for `key_id`: the wrapping private key, `algorithm` and `valid_to`, sealed
/// under `root`.
pub(crate) fn seal_token(
    root: &dyn RootKey,
    key_id: &str,
    algorithm: WrappingAlgorithm,
    private: &PrivateDecryptingKey,
    valid_to: SystemTime,
) -> Result<Vec<u8>> {
    let der = private.as_der().map_err(|_| Error::Internal)?;
    let nanos = valid_to
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|_| Error::Internal)?
        .as_nanos();
    let nanos = u64::try_from(nanos).map_err(|_| Error::Internal)?;
    let mut payload = Zeroizing::new(Vec::with_capacity(9 + der.as_ref().len()));
    payload.extend_from_slice(&nanos.to_be_bytes());
    payload.push(algorithm_code(algorithm));
    payload.extend_from_slice(der.as_ref());
    seal::seal_payload(IMPORT_TOKEN, key_id, &payload, root)
}

/// Opens an import token sealed under `root` for `key_id`. Expiry is the caller's to check.
pub(crate) fn open_token(root: &dyn RootKey, key_id: &str, token: &[u8]) -> Result<Pending> {
    let parsed = seal::Parsed::new(IMPORT_TOKEN, token)?;
    let payload = parsed.open(root).map_err(|e| match e {
        Error::InvalidCiphertext => TOKEN_INVALID,
        e => e,
    })?;
    if parsed.key_id != key_id {
        return Err(Error::InvalidInput("import token is for another key"));
    }
    let (nanos, rest) = payload.split_first_chunk::<8>().ok_or(TOKEN_INVALID)?;
    let (&code, der) = rest.split_first().ok_or(TOKEN_INVALID)?;
    let algorithm = [
        WrappingAlgorithm::RsaesOaepSha1,
        WrappingAlgorithm::RsaesOaepSha256,
        WrappingAlgorithm::RsaAesKeyWrapSha1,
        WrappingAlgorithm::RsaAesKeyWrapSha256,
    ]
    .into_iter()
    .find(|&a| algorithm_code(a) == code)
    .ok_or(TOKEN_INVALID)?;
    let private = PrivateDecryptingKey::from_pkcs8(der).map_err(|_| TOKEN_INVALID)?;
    Ok(Pending {
        algorithm,
        key: OaepPrivateDecryptingKey::new(private).map_err(|_| TOKEN_INVALID)?,
        valid_to: SystemTime::UNIX_EPOCH + Duration::from_nanos(u64::from_be_bytes(*nanos)),
    })
}

/// Whether `algorithm` can carry material of `spec` (RSA private keys are too long for OAEP).
pub(crate) fn check_algorithm(spec: KeySpec, algorithm: WrappingAlgorithm) -> Result<()> {
    crate::fips::refuse(crate::fips::IMPORT_WRAPPING)?;
    let direct = matches!(
        algorithm,
        WrappingAlgorithm::RsaesOaepSha1 | WrappingAlgorithm::RsaesOaepSha256
    );
    let asymmetric = !matches!(
        spec,
        KeySpec::SymmetricDefault
            | KeySpec::Hmac224
            | KeySpec::Hmac256
            | KeySpec::Hmac384
            | KeySpec::Hmac512
    );
    if direct && asymmetric {
        return Err(Error::InvalidInput(
            "asymmetric key material must be wrapped with RSA_AES_KEY_WRAP_SHA_1 or _SHA_256",
        ));
    }
    Ok(())
}

/// A fresh RSA wrapping key of `spec`, and its public key (DER SubjectPublicKeyInfo).
pub(crate) fn wrapping_key(spec: WrappingKeySpec) -> Result<(PrivateDecryptingKey, Vec<u8>)> {
    let size = match spec {
        WrappingKeySpec::Rsa2048 => KeySize::Rsa2048,
        WrappingKeySpec::Rsa3072 => KeySize::Rsa3072,
        WrappingKeySpec::Rsa4096 => KeySize::Rsa4096,
    };
    let private = crate::fork::guarded(|| PrivateDecryptingKey::generate(size))
        .map_err(|_| Error::Internal)?;
    let public = crate::material::spki_of(private.public_key())?;
    Ok((private, public))
}

fn oaep(algorithm: WrappingAlgorithm) -> &'static OaepAlgorithm {
    match algorithm {
        WrappingAlgorithm::RsaesOaepSha1 | WrappingAlgorithm::RsaAesKeyWrapSha1 => {
            &OAEP_SHA1_MGF1SHA1
        }
        WrappingAlgorithm::RsaesOaepSha256 | WrappingAlgorithm::RsaAesKeyWrapSha256 => {
            &OAEP_SHA256_MGF1SHA256
        }
    }
}

/// The material inside `wrapped`; [`Error::InvalidCiphertext`] for anything else.
pub(crate) fn unwrap(pending: &Pending, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    crate::fips::refuse(crate::fips::IMPORT_WRAPPING)?;
    let modulus = pending.key.key_size_bytes();
    let mut out = Zeroizing::new(vec![0u8; modulus]);
    match pending.algorithm {
        WrappingAlgorithm::RsaesOaepSha1 | WrappingAlgorithm::RsaesOaepSha256 => {
            let n = crate::fork::guarded(|| {
                pending
                    .key
                    .decrypt(oaep(pending.algorithm), wrapped, &mut out, None)
                    .map(|p| p.len())
            })
            .map_err(|_| Error::InvalidCiphertext)?;
            out.truncate(n);
            Ok(out)
        }
        WrappingAlgorithm::RsaAesKeyWrapSha1 | WrappingAlgorithm::RsaAesKeyWrapSha256 => {
            if wrapped.len() <= modulus {
                return Err(Error::InvalidCiphertext);
            }
            let (wrapped_key, wrapped_material) = wrapped.split_at(modulus);
            let aes = crate::fork::guarded(|| {
                pending
                    .key
                    .decrypt(oaep(pending.algorithm), wrapped_key, &mut out, None)
            })
            .map_err(|_| Error::InvalidCiphertext)?;
            let kek = AesKek::new(&AES_256, aes).map_err(|_| Error::InvalidCiphertext)?;
            let mut material = Zeroizing::new(vec![0u8; wrapped_material.len()]);
            let n = kek
                .unwrap_with_padding(wrapped_material, &mut material)
                .map_err(|_| Error::InvalidCiphertext)?
                .len();
            material.truncate(n);
            Ok(material)
        }
    }
}

/// Identifies imported material without revealing it: HMAC-SHA256 keyed with a fixed label,
/// over the key id and the material. Kept so that only the same material can be re-imported.
pub(crate) fn fingerprint(key_id: &str, material: &[u8]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, b"keyplane imported material v1");
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(
        &u32::try_from(key_id.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    ctx.update(key_id.as_bytes());
    ctx.update(material);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}
