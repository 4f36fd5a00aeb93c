//! Key material of every spec, in one shape: a spec, a usage, and the bytes that recreate it
//! (32 bytes of root material, an HMAC secret, or a PKCS#8 private key), plus the aws-lc-rs
//! objects built from those bytes once.

use core::fmt;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{
    KeySize, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair, ParsedPublicKey, RsaKeyPair,
    VerificationAlgorithm,
};
use aws_lc_rs::{hmac, rand};
use zeroize::Zeroizing;

use crate::aead::{self, KEY_LEN, VersionKey};
use crate::error::{Error, Result};
use crate::spec::{KeySpec, KeyUsage, SigningAlgorithm};

/// One version's key material.
pub(crate) enum Material {
    /// AES-256-GCM blobs: root material and the derived key.
    Symmetric {
        root: Zeroizing<[u8; KEY_LEN]>,
        aead: VersionKey,
    },
    /// HMAC: the secret and the aws-lc key.
    Hmac {
        secret: Zeroizing<Vec<u8>>,
        key: Box<hmac::Key>,
    },
    /// ECDSA signing.
    Ecdsa {
        pkcs8: Zeroizing<Vec<u8>>,
        pair: EcdsaKeyPair,
        spki: Vec<u8>,
        /// The public key parsed once per allowed algorithm.
        verifiers: Vec<(SigningAlgorithm, ParsedPublicKey)>,
    },
    /// RSA signing (PSS and PKCS#1 v1.5).
    RsaSign {
        pkcs8: Zeroizing<Vec<u8>>,
        pair: RsaKeyPair,
        spki: Vec<u8>,
        verifiers: Vec<(SigningAlgorithm, ParsedPublicKey)>,
    },
    /// RSA-OAEP decryption (and encryption with the public half).
    RsaDecrypt {
        pkcs8: Zeroizing<Vec<u8>>,
        private: OaepPrivateDecryptingKey,
        public: OaepPublicEncryptingKey,
        spki: Vec<u8>,
    },
}

impl fmt::Debug for Material {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Symmetric { .. } => "Material(AES-256-GCM)",
            Self::Hmac { .. } => "Material(HMAC)",
            Self::Ecdsa { .. } => "Material(ECDSA)",
            Self::RsaSign { .. } => "Material(RSA signing)",
            Self::RsaDecrypt { .. } => "Material(RSA-OAEP)",
        })
    }
}

pub(crate) fn ecdsa_signing(spec: KeySpec) -> Option<&'static EcdsaSigningAlgorithm> {
    match spec {
        KeySpec::EccNistP256 => Some(&signature::ECDSA_P256_SHA256_ASN1_SIGNING),
        KeySpec::EccNistP384 => Some(&signature::ECDSA_P384_SHA384_ASN1_SIGNING),
        KeySpec::EccNistP521 => Some(&signature::ECDSA_P521_SHA512_ASN1_SIGNING),
        KeySpec::EccSecgP256k1 => Some(&signature::ECDSA_P256K1_SHA256_ASN1_SIGNING),
        _ => None,
    }
}

/// The aws-lc-rs verification algorithm for `algorithm` on a key of `spec` (`None` when the spec
/// does not allow it).
pub(crate) fn verification_algorithm(
    spec: KeySpec,
    algorithm: SigningAlgorithm,
) -> Option<&'static dyn VerificationAlgorithm> {
    use SigningAlgorithm as S;
    if !spec.signing_algorithms().contains(&algorithm) {
        return None;
    }
    Some(match (spec, algorithm) {
        (KeySpec::EccNistP256, _) => &signature::ECDSA_P256_SHA256_ASN1,
        (KeySpec::EccNistP384, _) => &signature::ECDSA_P384_SHA384_ASN1,
        (KeySpec::EccNistP521, _) => &signature::ECDSA_P521_SHA512_ASN1,
        (KeySpec::EccSecgP256k1, _) => &signature::ECDSA_P256K1_SHA256_ASN1,
        (_, S::RsassaPssSha256) => &signature::RSA_PSS_2048_8192_SHA256,
        (_, S::RsassaPssSha384) => &signature::RSA_PSS_2048_8192_SHA384,
        (_, S::RsassaPssSha512) => &signature::RSA_PSS_2048_8192_SHA512,
        (_, S::RsassaPkcs1V15Sha256) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (_, S::RsassaPkcs1V15Sha384) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (_, S::RsassaPkcs1V15Sha512) => &signature::RSA_PKCS1_2048_8192_SHA512,
        _ => return None,
    })
}

fn verifiers(spec: KeySpec, spki: &[u8]) -> Result<Vec<(SigningAlgorithm, ParsedPublicKey)>> {
    spec.signing_algorithms()
        .iter()
        .map(|&alg| {
            let verifier = verification_algorithm(spec, alg).ok_or(Error::Internal)?;
            let parsed = ParsedPublicKey::new(verifier, spki).map_err(|_| Error::Internal)?;
            Ok((alg, parsed))
        })
        .collect()
}

fn rsa_size(spec: KeySpec) -> Option<(KeySize, usize)> {
    match spec {
        KeySpec::Rsa2048 => Some((KeySize::Rsa2048, 2048)),
        KeySpec::Rsa3072 => Some((KeySize::Rsa3072, 3072)),
        KeySpec::Rsa4096 => Some((KeySize::Rsa4096, 4096)),
        _ => None,
    }
}

pub(crate) fn hmac_algorithm(spec: KeySpec) -> Option<(hmac::Algorithm, usize)> {
    // Key lengths as in AWS KMS: the digest's output length.
    match spec {
        KeySpec::Hmac224 => Some((hmac::HMAC_SHA224, 28)),
        KeySpec::Hmac256 => Some((hmac::HMAC_SHA256, 32)),
        KeySpec::Hmac384 => Some((hmac::HMAC_SHA384, 48)),
        KeySpec::Hmac512 => Some((hmac::HMAC_SHA512, 64)),
        _ => None,
    }
}

/// A fresh key pair for an asymmetric spec: the private key as PKCS#8 DER and the public key as
/// DER SubjectPublicKeyInfo.
pub(crate) fn generate_pair(spec: KeySpec) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>)> {
    if let Some(alg) = ecdsa_signing(spec) {
        let pair = EcdsaKeyPair::generate(alg).map_err(|_| Error::Internal)?;
        let pkcs8 = pair.to_pkcs8v1().map_err(|_| Error::Internal)?;
        let spki = spki(pair.public_key().as_der())?;
        return Ok((Zeroizing::new(pkcs8.as_ref().to_vec()), spki));
    }
    if let Some((size, _)) = rsa_size(spec) {
        let pair = RsaKeyPair::generate(size).map_err(|_| Error::Internal)?;
        let pkcs8: Pkcs8V1Der<'_> = pair.as_der().map_err(|_| Error::Internal)?;
        let spki = spki(pair.public_key().as_der())?;
        return Ok((Zeroizing::new(pkcs8.as_ref().to_vec()), spki));
    }
    Err(Error::UnsupportedAlgorithm)
}

/// Fresh material bytes for `spec` (what [`Material::from_bytes`] takes).
pub(crate) fn generate_bytes(spec: KeySpec) -> Result<Zeroizing<Vec<u8>>> {
    match spec {
        KeySpec::SymmetricDefault => Ok(Zeroizing::new(aead::random_root()?.to_vec())),
        _ => match hmac_algorithm(spec) {
            Some((_, len)) => {
                let mut secret = Zeroizing::new(vec![0; len]);
                rand::fill(&mut secret).map_err(|_| Error::Internal)?;
                Ok(secret)
            }
            None => generate_pair(spec).map(|(pkcs8, _)| pkcs8),
        },
    }
}

fn spki(der: Result<PublicKeyX509Der<'static>, aws_lc_rs::error::Unspecified>) -> Result<Vec<u8>> {
    der.map(|d| d.as_ref().to_vec())
        .map_err(|_| Error::Internal)
}

impl Material {
    /// Rebuilds material from its bytes. `key_id` and `version` enter the symmetric key
    /// derivation.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the bytes do not fit the spec (wrong length, curve or
    /// modulus size); [`Error::InvalidKeyUsage`] for a usage the spec does not allow.
    pub(crate) fn from_bytes(
        spec: KeySpec,
        usage: KeyUsage,
        bytes: &[u8],
        key_id: &str,
        version: u32,
    ) -> Result<Self> {
        if !spec.allowed_usages().contains(&usage) {
            return Err(Error::InvalidKeyUsage);
        }
        if spec == KeySpec::SymmetricDefault {
            let root: [u8; KEY_LEN] = bytes
                .try_into()
                .map_err(|_| Error::InvalidInput("symmetric key material must be 32 bytes"))?;
            let root = Zeroizing::new(root);
            let aead = VersionKey::derive(&root, key_id, version)?;
            return Ok(Self::Symmetric { root, aead });
        }
        if let Some((alg, len)) = hmac_algorithm(spec) {
            if bytes.len() != len {
                return Err(Error::InvalidInput(
                    "HMAC key material must be as long as the digest",
                ));
            }
            return Ok(Self::Hmac {
                secret: Zeroizing::new(bytes.to_vec()),
                key: Box::new(hmac::Key::new(alg, bytes)),
            });
        }
        let pkcs8 = Zeroizing::new(bytes.to_vec());
        if let Some(alg) = ecdsa_signing(spec) {
            let pair = EcdsaKeyPair::from_pkcs8(alg, bytes)
                .map_err(|_| Error::InvalidInput("not a PKCS#8 private key on this curve"))?;
            let spki = spki(pair.public_key().as_der())?;
            let verifiers = verifiers(spec, &spki)?;
            return Ok(Self::Ecdsa {
                pkcs8,
                pair,
                spki,
                verifiers,
            });
        }
        let (_, bits) = rsa_size(spec).ok_or(Error::UnsupportedAlgorithm)?;
        let wrong = Error::InvalidInput("not a PKCS#8 RSA private key of this size");
        match usage {
            KeyUsage::SignVerify => {
                let pair = RsaKeyPair::from_pkcs8(bytes).map_err(|_| wrong)?;
                if pair.public_modulus_len() * 8 != bits {
                    return Err(wrong);
                }
                let spki = spki(pair.public_key().as_der())?;
                let verifiers = verifiers(spec, &spki)?;
                Ok(Self::RsaSign {
                    pkcs8,
                    pair,
                    spki,
                    verifiers,
                })
            }
            _ => {
                let key = PrivateDecryptingKey::from_pkcs8(bytes).map_err(|_| wrong)?;
                if key.key_size_bits() != bits {
                    return Err(wrong);
                }
                let public_key = key.public_key();
                let spki = spki(public_key.as_der())?;
                let public = OaepPublicEncryptingKey::new(public_key).map_err(|_| wrong)?;
                let private = OaepPrivateDecryptingKey::new(key).map_err(|_| wrong)?;
                Ok(Self::RsaDecrypt {
                    pkcs8,
                    private,
                    public,
                    spki,
                })
            }
        }
    }

    /// The bytes that recreate this material (for sealed export).
    #[allow(dead_code)] // used by sealed export, which builds on this model
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Self::Symmetric { root, .. } => root.as_ref(),
            Self::Hmac { secret, .. } => secret,
            Self::Ecdsa { pkcs8, .. }
            | Self::RsaSign { pkcs8, .. }
            | Self::RsaDecrypt { pkcs8, .. } => pkcs8,
        }
    }

    /// The DER SubjectPublicKeyInfo of an asymmetric key.
    pub(crate) fn spki(&self) -> Option<&[u8]> {
        match self {
            Self::Ecdsa { spki, .. }
            | Self::RsaSign { spki, .. }
            | Self::RsaDecrypt { spki, .. } => Some(spki),
            Self::Symmetric { .. } | Self::Hmac { .. } => None,
        }
    }
}
