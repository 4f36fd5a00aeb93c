//! Signing keys: `sign`, `sign_into`, `verify`.

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaEncoding};

use crate::audit::Operation;
use crate::error::{Error, Result};
use crate::key::Key;
use crate::keyring::Keyring;
use crate::material::Material;
use crate::spec::{KeySpec, KeyUsage, MessageType, SigningAlgorithm};

/// The longest signature any key produces (RSA-4096).
pub const MAX_SIGNATURE_LEN: usize = 512;

impl SigningAlgorithm {
    /// The digest the algorithm signs.
    #[must_use]
    pub fn digest_algorithm(self) -> &'static digest::Algorithm {
        match self {
            Self::EcdsaSha256 | Self::RsassaPssSha256 | Self::RsassaPkcs1V15Sha256 => {
                &digest::SHA256
            }
            Self::EcdsaSha384 | Self::RsassaPssSha384 | Self::RsassaPkcs1V15Sha384 => {
                &digest::SHA384
            }
            Self::EcdsaSha512 | Self::RsassaPssSha512 | Self::RsassaPkcs1V15Sha512 => {
                &digest::SHA512
            }
        }
    }

    fn rsa_encoding(self) -> Option<&'static dyn RsaEncoding> {
        Some(match self {
            Self::RsassaPssSha256 => &signature::RSA_PSS_SHA256,
            Self::RsassaPssSha384 => &signature::RSA_PSS_SHA384,
            Self::RsassaPssSha512 => &signature::RSA_PSS_SHA512,
            Self::RsassaPkcs1V15Sha256 => &signature::RSA_PKCS1_SHA256,
            Self::RsassaPkcs1V15Sha384 => &signature::RSA_PKCS1_SHA384,
            Self::RsassaPkcs1V15Sha512 => &signature::RSA_PKCS1_SHA512,
            Self::EcdsaSha256 | Self::EcdsaSha384 | Self::EcdsaSha512 => return None,
        })
    }
}

/// The longest DER ECDSA signature on the spec's curve: SEQUENCE { INTEGER r, INTEGER s }.
fn max_ecdsa_len(spec: KeySpec) -> usize {
    match spec {
        KeySpec::EccNistP384 => 104,
        KeySpec::EccNistP521 => 139,
        _ => 72,
    }
}

/// The caller's digest, checked against the algorithm's digest length.
fn imported_digest(message: &[u8], algorithm: SigningAlgorithm) -> Result<Digest> {
    crate::fips::refuse(crate::fips::DIGEST_MESSAGE)?;
    Digest::import_less_safe(message, algorithm.digest_algorithm())
        .map_err(|_| Error::InvalidInput("digest length does not match the signing algorithm"))
}

/// The signing key's material, once `algorithm` is checked against its spec.
fn signing_material(key: &Key, algorithm: SigningAlgorithm) -> Result<&Material> {
    if !key.spec.signing_algorithms().contains(&algorithm) {
        return Err(Error::InvalidKeyUsage);
    }
    key.versions
        .current()
        .map(|v| &v.material)
        .ok_or(Error::InvalidKeyState)
}

fn verifier(
    verifiers: &[(SigningAlgorithm, ParsedPublicKey)],
    algorithm: SigningAlgorithm,
) -> Result<&ParsedPublicKey> {
    verifiers
        .iter()
        .find(|(a, _)| *a == algorithm)
        .map(|(_, v)| v)
        .ok_or(Error::InvalidKeyUsage)
}

impl Keyring {
    /// The largest signature [`sign_into`](Self::sign_into) can write for `key_id`: the modulus
    /// length for RSA, the longest DER encoding for ECDSA (signatures are often shorter).
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidKeyUsage`] for a key that does not sign.
    pub fn max_signature_len(&self, key_id: &str) -> Result<usize> {
        let key = self.resolve(key_id)?;
        match key.versions.current().map(|v| &v.material) {
            Some(Material::Ecdsa { .. }) => Ok(max_ecdsa_len(key.spec)),
            Some(Material::RsaSign { pair, .. }) => Ok(pair.public_modulus_len()),
            _ => Err(Error::InvalidKeyUsage),
        }
    }

    /// Signs `message` (or, with [`MessageType::Digest`], the caller's digest) into `out` and
    /// returns the signature's length. ECDSA signatures are DER-encoded, as AWS KMS returns them.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidKeyUsage`] for a key that does not sign or an
    /// algorithm its spec does not allow; [`Error::KeyDisabled`], [`Error::InvalidKeyState`];
    /// [`Error::InvalidInput`] for a digest of the wrong length; [`Error::BufferTooSmall`].
    pub fn sign_into(
        &self,
        key_id: &str,
        message: &[u8],
        message_type: MessageType,
        algorithm: SigningAlgorithm,
        out: &mut [u8],
    ) -> Result<usize> {
        self.audited(Operation::Sign, Some(key_id), None, || {
            let key = self.usable(key_id, KeyUsage::SignVerify)?;
            let material = signing_material(&key, algorithm)?;
            match material {
                Material::Ecdsa { pair, .. } => {
                    let needed = max_ecdsa_len(key.spec);
                    if out.len() < needed {
                        return Err(Error::BufferTooSmall { needed });
                    }
                    let digest = match message_type {
                        MessageType::Raw => None,
                        MessageType::Digest => Some(imported_digest(message, algorithm)?),
                    };
                    let sig = crate::fork::guarded(|| match &digest {
                        None => pair.sign(&SystemRandom::new(), message),
                        Some(digest) => pair.sign_digest(digest),
                    })
                    .map_err(|_| Error::Internal)?;
                    let sig = sig.as_ref();
                    out[..sig.len()].copy_from_slice(sig);
                    Ok(sig.len())
                }
                Material::RsaSign { pair, .. } => {
                    let needed = pair.public_modulus_len();
                    let out = out
                        .get_mut(..needed)
                        .ok_or(Error::BufferTooSmall { needed })?;
                    let encoding = algorithm.rsa_encoding().ok_or(Error::InvalidKeyUsage)?;
                    let digest = match message_type {
                        MessageType::Raw => None,
                        MessageType::Digest => Some(imported_digest(message, algorithm)?),
                    };
                    crate::fork::guarded(|| match &digest {
                        None => pair.sign(encoding, &SystemRandom::new(), message, out),
                        Some(digest) => pair.sign_digest(encoding, digest, out),
                    })
                    .map_err(|_| Error::Internal)?;
                    Ok(needed)
                }
                _ => Err(Error::InvalidKeyUsage),
            }
        })
    }

    /// Signs `message` (or the caller's digest); see [`sign_into`](Self::sign_into).
    ///
    /// # Errors
    /// As [`sign_into`](Self::sign_into), without the buffer error.
    pub fn sign(
        &self,
        key_id: &str,
        message: &[u8],
        message_type: MessageType,
        algorithm: SigningAlgorithm,
    ) -> Result<Vec<u8>> {
        self.audited(Operation::Sign, Some(key_id), None, || {
            let mut out = vec![0; self.max_signature_len(key_id)?];
            let n = self.sign_into(key_id, message, message_type, algorithm, &mut out)?;
            out.truncate(n);
            Ok(out)
        })
    }

    /// Whether `signature` is a valid signature of `message` (or of the caller's digest):
    /// `Ok(false)` for any invalid or malformed signature.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidKeyUsage`] for a key that does not sign or an
    /// algorithm its spec does not allow; [`Error::KeyDisabled`], [`Error::InvalidKeyState`];
    /// [`Error::InvalidInput`] for a digest of the wrong length.
    pub fn verify(
        &self,
        key_id: &str,
        message: &[u8],
        message_type: MessageType,
        algorithm: SigningAlgorithm,
        signature: &[u8],
    ) -> Result<bool> {
        self.audited(Operation::Verify, Some(key_id), None, || {
            let key = self.usable(key_id, KeyUsage::SignVerify)?;
            let verifiers = match signing_material(&key, algorithm)? {
                Material::Ecdsa { verifiers, .. } | Material::RsaSign { verifiers, .. } => {
                    verifiers
                }
                _ => return Err(Error::InvalidKeyUsage),
            };
            let verifier = verifier(verifiers, algorithm)?;
            let digest = match message_type {
                MessageType::Raw => None,
                MessageType::Digest => Some(imported_digest(message, algorithm)?),
            };
            // An RSA public key sets up its Montgomery cache under a lock at first use.
            Ok(crate::fork::guarded(|| match &digest {
                None => verifier.verify_sig(message, signature),
                Some(digest) => verifier.verify_digest_sig(digest, signature),
            })
            .is_ok())
        })
    }
}
