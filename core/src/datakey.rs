//! Data keys: fresh secrets returned in plaintext and encrypted under a Keyplane key.

use core::fmt;

use zeroize::Zeroizing;

use crate::audit::Operation;
use crate::context::EncryptionContext;
use crate::envelope;
use crate::error::{Error, Result};
use crate::keyring::Keyring;
use crate::material;
use crate::spec::{DataKeyPairSpec, KeyUsage};

/// The most random bytes (and data-key bytes) one call returns, as in AWS KMS.
pub const MAX_RANDOM_BYTES: usize = 1024;

/// The size of a data key.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKeySpec {
    /// 32 bytes, for AES-256.
    Aes256,
    /// 16 bytes, for AES-128.
    Aes128,
    /// Any length from 1 to 1024 bytes (AWS KMS's `NumberOfBytes`).
    NumberOfBytes(usize),
}

impl DataKeySpec {
    /// The data key's length in bytes.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for `NumberOfBytes` outside 1..=1024.
    pub fn byte_len(self) -> Result<usize> {
        match self {
            Self::Aes256 => Ok(32),
            Self::Aes128 => Ok(16),
            Self::NumberOfBytes(n) if (1..=MAX_RANDOM_BYTES).contains(&n) => Ok(n),
            Self::NumberOfBytes(_) => Err(Error::InvalidInput(
                "data key length must be 1 to 1024 bytes",
            )),
        }
    }

    /// The AWS KMS name for the fixed specs (`"AES_256"`, `"AES_128"`); `None` for a byte count.
    #[must_use]
    pub const fn as_str(self) -> Option<&'static str> {
        match self {
            Self::Aes256 => Some("AES_256"),
            Self::Aes128 => Some("AES_128"),
            Self::NumberOfBytes(_) => None,
        }
    }
}

/// A data key: its plaintext (zeroized on drop) and the same bytes encrypted under a key.
///
/// Use the plaintext, drop it, and store the ciphertext blob beside your data; decrypt the blob
/// to get the plaintext back.
pub struct DataKey {
    pub(crate) key_id: String,
    pub(crate) plaintext: Zeroizing<Vec<u8>>,
    pub(crate) ciphertext_blob: Vec<u8>,
}

impl DataKey {
    /// The key that encrypted the data key.
    #[must_use]
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The data key in plaintext.
    #[must_use]
    pub fn plaintext(&self) -> &[u8] {
        &self.plaintext
    }

    /// The data key encrypted under [`key_id`](Self::key_id), a Keyplane blob.
    #[must_use]
    pub fn ciphertext_blob(&self) -> &[u8] {
        &self.ciphertext_blob
    }

    /// Splits into the plaintext (still zeroized on drop) and the blob.
    #[must_use]
    pub fn into_parts(self) -> (Zeroizing<Vec<u8>>, Vec<u8>) {
        (self.plaintext, self.ciphertext_blob)
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("key_id", &self.key_id)
            .field(
                "plaintext",
                &format_args!("<{} secret bytes>", self.plaintext.len()),
            )
            .field("ciphertext_blob_len", &self.ciphertext_blob.len())
            .finish()
    }
}

/// A data key pair: the public key, the private key in plaintext (zeroized on drop) and the
/// private key encrypted under a symmetric Keyplane key.
pub struct DataKeyPair {
    pub(crate) key_id: String,
    pub(crate) key_pair_spec: DataKeyPairSpec,
    pub(crate) public_key: Vec<u8>,
    pub(crate) private_key_plaintext: Zeroizing<Vec<u8>>,
    pub(crate) private_key_ciphertext_blob: Vec<u8>,
}

impl DataKeyPair {
    /// The symmetric key that encrypted the private key.
    #[must_use]
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The kind of key pair.
    #[must_use]
    pub fn key_pair_spec(&self) -> DataKeyPairSpec {
        self.key_pair_spec
    }

    /// The public key, DER-encoded X.509 `SubjectPublicKeyInfo`.
    #[must_use]
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// The private key, PKCS#8 DER.
    #[must_use]
    pub fn private_key_plaintext(&self) -> &[u8] {
        &self.private_key_plaintext
    }

    /// The PKCS#8 private key encrypted under [`key_id`](Self::key_id): a Keyplane blob.
    #[must_use]
    pub fn private_key_ciphertext_blob(&self) -> &[u8] {
        &self.private_key_ciphertext_blob
    }
}

impl fmt::Debug for DataKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKeyPair")
            .field("key_id", &self.key_id)
            .field("key_pair_spec", &self.key_pair_spec)
            .field("public_key_len", &self.public_key.len())
            .field(
                "private_key_plaintext",
                &format_args!("<{} secret bytes>", self.private_key_plaintext.len()),
            )
            .field(
                "private_key_ciphertext_blob_len",
                &self.private_key_ciphertext_blob.len(),
            )
            .finish()
    }
}

/// A data key pair without its plaintext private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataKeyPairWithoutPlaintext {
    /// The symmetric key that encrypted the private key.
    pub key_id: String,
    /// The kind of key pair.
    pub key_pair_spec: DataKeyPairSpec,
    /// The public key, DER-encoded X.509 `SubjectPublicKeyInfo`.
    pub public_key: Vec<u8>,
    /// The PKCS#8 private key encrypted under `key_id`: a Keyplane blob.
    pub private_key_ciphertext_blob: Vec<u8>,
}

impl Keyring {
    /// A fresh data key: its plaintext and the same bytes encrypted under `key_id`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad length, and any error of [`encrypt`](Self::encrypt).
    pub fn generate_data_key(
        &self,
        key_id: &str,
        spec: DataKeySpec,
        context: &EncryptionContext,
    ) -> Result<DataKey> {
        self.audited(
            Operation::GenerateDataKey,
            Some(key_id),
            Some(context),
            || {
                let mut plaintext = Zeroizing::new(vec![0; spec.byte_len()?]);
                crate::fork::fill(&mut plaintext).map_err(|_| Error::Internal)?;
                let ciphertext_blob = self.encrypt(key_id, &plaintext, context)?;
                let key_id = envelope::inspect(&ciphertext_blob)?.key_id.to_owned();
                Ok(DataKey {
                    key_id,
                    plaintext,
                    ciphertext_blob,
                })
            },
        )
    }

    /// A fresh data key, encrypted under `key_id`, without its plaintext: for a process that
    /// will hand the blob to another that decrypts it when needed.
    ///
    /// # Errors
    /// As [`generate_data_key`](Self::generate_data_key).
    pub fn generate_data_key_without_plaintext(
        &self,
        key_id: &str,
        spec: DataKeySpec,
        context: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        self.audited(
            Operation::GenerateDataKeyWithoutPlaintext,
            Some(key_id),
            Some(context),
            || {
                self.generate_data_key(key_id, spec, context)
                    .map(|dk| dk.ciphertext_blob)
            },
        )
    }

    /// `len` bytes (1 to 1024) from the system's cryptographic random number generator.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a length outside 1..=1024.
    pub fn generate_random(&self, len: usize) -> Result<Vec<u8>> {
        self.audited(Operation::GenerateRandom, None, None, || {
            if !(1..=MAX_RANDOM_BYTES).contains(&len) {
                return Err(Error::InvalidInput("random length must be 1 to 1024 bytes"));
            }
            let mut out = vec![0; len];
            crate::fork::fill(&mut out).map_err(|_| Error::Internal)?;
            Ok(out)
        })
    }
}

impl Keyring {
    /// A fresh key pair whose private key (PKCS#8) is returned both in plaintext and encrypted
    /// under the symmetric key `key_id` with `context`. The key is checked before the pair is
    /// generated, and generation (long for RSA-4096) holds no lock.
    ///
    /// # Errors
    /// Any error of [`encrypt`](Keyring::encrypt).
    pub fn generate_data_key_pair(
        &self,
        key_id: &str,
        spec: DataKeyPairSpec,
        context: &EncryptionContext,
    ) -> Result<DataKeyPair> {
        self.audited(
            Operation::GenerateDataKeyPair,
            Some(key_id),
            Some(context),
            || {
                let key = self.resolve(key_id)?;
                key.require_symmetric()?;
                crate::fips::check_key(spec.key_spec(), KeyUsage::SignVerify)?;
                let (pkcs8, public_key) = material::generate_pair(spec.key_spec())?;
                let blob = self.encrypt_with_key(&key, &pkcs8, context)?;
                Ok(DataKeyPair {
                    key_id: key.id.to_string(),
                    key_pair_spec: spec,
                    public_key,
                    private_key_plaintext: pkcs8,
                    private_key_ciphertext_blob: blob,
                })
            },
        )
    }

    /// As [`generate_data_key_pair`](Keyring::generate_data_key_pair), without the plaintext
    /// private key.
    ///
    /// # Errors
    /// As [`generate_data_key_pair`](Keyring::generate_data_key_pair).
    pub fn generate_data_key_pair_without_plaintext(
        &self,
        key_id: &str,
        spec: DataKeyPairSpec,
        context: &EncryptionContext,
    ) -> Result<DataKeyPairWithoutPlaintext> {
        self.audited(
            Operation::GenerateDataKeyPairWithoutPlaintext,
            Some(key_id),
            Some(context),
            || {
                let pair = self.generate_data_key_pair(key_id, spec, context)?;
                Ok(DataKeyPairWithoutPlaintext {
                    key_id: pair.key_id.clone(),
                    key_pair_spec: pair.key_pair_spec,
                    public_key: pair.public_key.clone(),
                    private_key_ciphertext_blob: pair.private_key_ciphertext_blob.clone(),
                })
            },
        )
    }
}
