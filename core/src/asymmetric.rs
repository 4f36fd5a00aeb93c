//! Asymmetric keys: public keys and RSA-OAEP encryption.

use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm};
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::audit::Operation;
use crate::error::{Error, Result};
use crate::keyring::Keyring;
use crate::material::Material;
use crate::spec::{EncryptionAlgorithm, KeySpec, KeyUsage, SigningAlgorithm};

/// What [`Keyring::get_public_key`] returns.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyInfo {
    /// The key id.
    pub key_id: String,
    /// The key spec.
    pub key_spec: KeySpec,
    /// The key usage.
    pub key_usage: KeyUsage,
    /// The public key, DER-encoded X.509 `SubjectPublicKeyInfo`.
    pub public_key: Vec<u8>,
    /// The signing algorithms the key allows (empty unless it signs).
    pub signing_algorithms: Vec<SigningAlgorithm>,
    /// The encryption algorithms the key allows (empty unless it encrypts).
    pub encryption_algorithms: Vec<EncryptionAlgorithm>,
}

impl PublicKeyInfo {
    /// The public key as PEM (`-----BEGIN PUBLIC KEY-----`, 64-column base64).
    #[must_use]
    pub fn to_pem(&self) -> String {
        public_key_pem(&self.public_key)
    }
}

/// A DER SubjectPublicKeyInfo as PEM (`-----BEGIN PUBLIC KEY-----`, 64-column base64), as
/// OpenSSL and most tools read it.
#[must_use]
pub fn public_key_pem(spki_der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(spki_der);
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

impl EncryptionAlgorithm {
    fn oaep(self) -> Option<&'static OaepAlgorithm> {
        match self {
            Self::RsaesOaepSha1 => Some(&OAEP_SHA1_MGF1SHA1),
            Self::RsaesOaepSha256 => Some(&OAEP_SHA256_MGF1SHA256),
            Self::SymmetricDefault => None,
        }
    }
}

impl Keyring {
    /// The public half of an asymmetric key, with what it may be used for.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::UnsupportedAlgorithm`] for symmetric and HMAC keys, which
    /// have no public half; [`Error::KeyDisabled`], [`Error::InvalidKeyState`].
    pub fn get_public_key(&self, key_id: &str) -> Result<PublicKeyInfo> {
        self.audited(Operation::GetPublicKey, Some(key_id), None, || {
            let key = self.resolve(key_id)?;
            key.require(key.usage)?;
            let spki = key
                .versions
                .current()
                .and_then(|v| v.material.spki())
                .ok_or(Error::UnsupportedAlgorithm)?;
            Ok(PublicKeyInfo {
                key_id: key.id.to_string(),
                key_spec: key.spec,
                key_usage: key.usage,
                public_key: spki.to_vec(),
                signing_algorithms: if key.usage == KeyUsage::SignVerify {
                    key.spec.signing_algorithms().to_vec()
                } else {
                    Vec::new()
                },
                encryption_algorithms: key.spec.encryption_algorithms(key.usage).to_vec(),
            })
        })
    }

    /// The largest plaintext `algorithm` can encrypt under `key_id` (AWS KMS's limits, e.g. 190
    /// bytes for RSA_2048 with RSAES_OAEP_SHA_256).
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidKeyUsage`] unless an RSA encryption key allowing
    /// `algorithm`.
    pub fn max_asymmetric_plaintext_len(
        &self,
        key_id: &str,
        algorithm: EncryptionAlgorithm,
    ) -> Result<usize> {
        let key = self.resolve(key_id)?;
        match (
            key.versions.current().map(|v| &v.material),
            algorithm.oaep(),
        ) {
            (Some(Material::RsaDecrypt { public, .. }), Some(oaep)) => {
                Ok(public.max_plaintext_size(oaep))
            }
            _ => Err(Error::InvalidKeyUsage),
        }
    }

    /// Encrypts `plaintext` with the public half of an RSA `ENCRYPT_DECRYPT` key (RSA-OAEP).
    /// The ciphertext is a bare RSA-OAEP ciphertext, as AWS KMS returns; decrypting it needs the
    /// key id and algorithm again.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidKeyUsage`] for any other key or an algorithm the key
    /// does not allow; [`Error::KeyDisabled`], [`Error::InvalidKeyState`];
    /// [`Error::InvalidInput`] for a plaintext over the limit.
    pub fn encrypt_asymmetric(
        &self,
        key_id: &str,
        plaintext: &[u8],
        algorithm: EncryptionAlgorithm,
    ) -> Result<Vec<u8>> {
        self.audited(Operation::EncryptAsymmetric, Some(key_id), None, || {
            let key = self.usable(key_id, KeyUsage::EncryptDecrypt)?;
            let (Some(Material::RsaDecrypt { public, .. }), Some(oaep)) = (
                key.versions.current().map(|v| &v.material),
                algorithm.oaep(),
            ) else {
                return Err(Error::InvalidKeyUsage);
            };
            if plaintext.len() > public.max_plaintext_size(oaep) {
                return Err(Error::InvalidInput(
                    "plaintext longer than the key and algorithm allow",
                ));
            }
            let mut out = vec![0; public.ciphertext_size()];
            let n = crate::fork::guarded(|| public.encrypt(oaep, plaintext, &mut out, None))
                .map_err(|_| Error::Internal)?
                .len();
            out.truncate(n);
            Ok(out)
        })
    }

    /// Decrypts an RSA-OAEP `ciphertext` made with the public half of `key_id`.
    ///
    /// # Errors
    /// [`Error::InvalidCiphertext`] for any ciphertext that does not decrypt (one error for every
    /// cause); otherwise as [`encrypt_asymmetric`](Self::encrypt_asymmetric).
    pub fn decrypt_asymmetric(
        &self,
        key_id: &str,
        ciphertext: &[u8],
        algorithm: EncryptionAlgorithm,
    ) -> Result<Zeroizing<Vec<u8>>> {
        self.audited(Operation::DecryptAsymmetric, Some(key_id), None, || {
            let key = self.usable(key_id, KeyUsage::EncryptDecrypt)?;
            let (Some(Material::RsaDecrypt { private, .. }), Some(oaep)) = (
                key.versions.current().map(|v| &v.material),
                algorithm.oaep(),
            ) else {
                return Err(Error::InvalidKeyUsage);
            };
            let mut out = Zeroizing::new(vec![0; private.min_output_size()]);
            let n = crate::fork::guarded(|| private.decrypt(oaep, ciphertext, &mut out, None))
                .map_err(|_| Error::InvalidCiphertext)?
                .len();
            out.truncate(n);
            Ok(out)
        })
    }
}
