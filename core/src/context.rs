//! Encryption context: non-secret key/value pairs bound to a ciphertext as authenticated data.

use core::fmt;
use std::sync::{Arc, LazyLock};

use aws_lc_rs::digest;

use crate::error::{Error, Result};

/// The largest context accepted, counted as the sum of all keys' and values' UTF-8 bytes
/// (AWS KMS's limit).
pub const MAX_CONTEXT_BYTES: usize = 8192;

/// An encryption context: a map of UTF-8 strings that must be presented again to decrypt.
///
/// As in AWS KMS, the context is not stored in the ciphertext; it is bound into the AEAD's
/// additional authenticated data through its canonical encoding (pairs sorted by key, see
/// `FORMAT.md`). Build it once and reuse it: construction validates, sorts and hashes the pairs,
/// so the encryption hot path only copies its 32-byte digest.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptionContext {
    // Shared, so that an audited call can keep the context for its record with one atomic
    // increment instead of a copy.
    pairs: Arc<[(String, String)]>,
    digest: [u8; 32],
}

static EMPTY: LazyLock<EncryptionContext> =
    LazyLock::new(|| EncryptionContext::from_sorted(Vec::new()));

impl EncryptionContext {
    /// Builds a context from key/value pairs in any order.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty key or a key given twice;
    /// [`Error::LimitExceeded`] when the keys and values exceed [`MAX_CONTEXT_BYTES`].
    pub fn new<K, V, I>(pairs: I) -> Result<Self>
    where
        K: AsRef<str>,
        V: AsRef<str>,
        I: IntoIterator<Item = (K, V)>,
    {
        let mut total = 0usize;
        let mut owned = Vec::new();
        for (k, v) in pairs {
            let (k, v) = (k.as_ref(), v.as_ref());
            if k.is_empty() {
                return Err(Error::InvalidInput(
                    "encryption context key must not be empty",
                ));
            }
            total = total.saturating_add(k.len()).saturating_add(v.len());
            if total > MAX_CONTEXT_BYTES {
                return Err(Error::LimitExceeded(
                    "encryption context exceeds 8192 bytes",
                ));
            }
            owned.push((k.to_owned(), v.to_owned()));
        }
        owned.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        if owned.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(Error::InvalidInput("encryption context key given twice"));
        }
        Ok(Self::from_sorted(owned))
    }

    /// The empty context.
    #[must_use]
    pub fn empty() -> &'static Self {
        &EMPTY
    }

    fn from_sorted(pairs: Vec<(String, String)>) -> Self {
        let mut ctx = digest::Context::new(&digest::SHA256);
        encode(&pairs, |chunk| ctx.update(chunk));
        let mut digest = [0u8; 32];
        digest.copy_from_slice(ctx.finish().as_ref());
        Self {
            pairs: pairs.into(),
            digest,
        }
    }

    /// Whether the context has no pairs.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The number of pairs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// The value for `key`, if present.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .binary_search_by(|(k, _)| k.as_bytes().cmp(key.as_bytes()))
            .ok()
            .map(|i| self.pairs[i].1.as_str())
    }

    /// The pairs, sorted by key.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The canonical encoding (`FORMAT.md`, "Encryption context").
    #[must_use]
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&self.pairs, |chunk| out.extend_from_slice(chunk));
        out
    }

    /// The pairs, shared: what the audit trail keeps (a clone only when a thread's context
    /// changes from one call to the next).
    pub(crate) fn pairs_shared(&self) -> &Arc<[(String, String)]> {
        &self.pairs
    }

    /// SHA-256 of the canonical encoding: what the AAD carries.
    pub(crate) fn digest(&self) -> &[u8; 32] {
        &self.digest
    }
}

/// Writes the canonical encoding: `u16 count`, then per pair `u16 len, key, u16 len, value`,
/// big-endian. The size limit guarantees every length fits in a `u16`.
fn encode(pairs: &[(String, String)], mut sink: impl FnMut(&[u8])) {
    let len16 = |n: usize| u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes();
    sink(&len16(pairs.len()));
    for (k, v) in pairs {
        sink(&len16(k.len()));
        sink(k.as_bytes());
        sink(&len16(v.len()));
        sink(v.as_bytes());
    }
}

impl Default for EncryptionContext {
    fn default() -> Self {
        EMPTY.clone()
    }
}

impl fmt::Debug for EncryptionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}
