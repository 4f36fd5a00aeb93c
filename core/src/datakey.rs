//! Data keys: fresh secrets returned in plaintext and encrypted under a Keyplane key.

use core::fmt;

use zeroize::Zeroizing;

use crate::error::{Error, Result};

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
