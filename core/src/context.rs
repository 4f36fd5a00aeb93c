//! Encryption context: non-secret key/value pairs bound to a ciphertext as authenticated data.

use core::fmt;
use std::sync::{Arc, LazyLock, OnceLock};

use aws_lc_rs::digest;

use crate::error::{Error, Result};

/// The largest context accepted, counted as the sum of all keys' and values' UTF-8 bytes
/// (AWS KMS's limit).
pub const MAX_CONTEXT_BYTES: usize = 8192;

/// An encryption context: a map of UTF-8 strings that must be presented again to decrypt.
///
/// As in AWS KMS, the context is not stored in the ciphertext; it is bound into the AEAD's
/// additional authenticated data through its canonical encoding (pairs sorted by key, see
/// `FORMAT.md`). Construction validates, sorts, encodes and hashes the pairs once, so the
/// encryption hot path only copies its 32-byte digest; a small context (canonical encoding up to
/// 118 bytes, e.g. a few short pairs) is built without allocating, so passing a fresh one per
/// call costs one SHA-256 of a few dozen bytes.
#[derive(Clone)]
pub struct EncryptionContext {
    canonical: Canonical,
    digest: [u8; 32],
    /// The pairs as the audit trail keeps them, made on first need (never for a keyring
    /// without audit), then shared: a record keeps the context with one atomic increment.
    pairs: OnceLock<Arc<[(String, String)]>>,
}

/// Canonical encodings up to this long are kept inline.
const INLINE: usize = 118;

/// Contexts with up to this many pairs are sorted on the stack.
const STACK_PAIRS: usize = 8;

/// How many recent inline encodings each thread remembers the digest of.
const RECENT: usize = 4;

/// Inline canonical encodings recently built on this thread, with their digests. Services pass
/// the same few contexts again and again, often as a fresh dict or object per call; a hit
/// costs a comparison of the bytes instead of a SHA-256. Contexts are not secret.
struct Recent {
    next: usize,
    entries: [(u8, [u8; INLINE], [u8; 32]); RECENT],
}

thread_local! {
    static RECENTLY: core::cell::RefCell<Recent> = const {
        core::cell::RefCell::new(Recent { next: 0, entries: [(0, [0; INLINE], [0; 32]); RECENT] })
    };
}

impl Recent {
    fn digest(&mut self, bytes: &[u8]) -> [u8; 32] {
        for (len, known, digest) in &self.entries {
            if usize::from(*len) == bytes.len() && known.get(..bytes.len()) == Some(bytes) {
                return *digest;
            }
        }
        let digest = sha256(bytes);
        let slot = &mut self.entries[self.next % RECENT];
        self.next = self.next.wrapping_add(1);
        slot.0 = u8::try_from(bytes.len()).unwrap_or(0);
        slot.1[..bytes.len()].copy_from_slice(bytes);
        slot.2 = digest;
        digest
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut digest = [0u8; 32];
    digest.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    digest
}

/// The canonical encoding (`FORMAT.md`, "Encryption context"), inline when short.
#[derive(Clone)]
enum Canonical {
    Inline { len: u8, bytes: [u8; INLINE] },
    Shared(Arc<[u8]>),
}

impl Canonical {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Self::Shared(bytes) => bytes,
        }
    }
}

static EMPTY: LazyLock<EncryptionContext> = LazyLock::new(|| EncryptionContext::from_sorted(&[]));

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
        // The caller's items, owned or borrowed, are held (not copied) while borrowed views of
        // them are sorted and encoded: on the stack for small contexts, so building one
        // allocates nothing.
        let mut iter = pairs.into_iter();
        let mut held: [Option<(K, V)>; STACK_PAIRS] = core::array::from_fn(|_| None);
        for slot in &mut held {
            match iter.next() {
                Some(item) => *slot = Some(item),
                None => break,
            }
        }
        let spill: Vec<(K, V)> = iter.collect();
        let mut total = 0usize;
        let all = held.iter().flatten().chain(&spill);
        let mut stack = [("", ""); STACK_PAIRS];
        let mut heap = Vec::new();
        let views: &mut [(&str, &str)] = if spill.is_empty() {
            let mut n = 0;
            for (slot, item) in stack.iter_mut().zip(all) {
                *slot = view(item, &mut total)?;
                n += 1;
            }
            &mut stack[..n]
        } else {
            heap.reserve_exact(STACK_PAIRS + spill.len());
            for item in all {
                heap.push(view(item, &mut total)?);
            }
            &mut heap
        };
        views.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        if views.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(Error::InvalidInput("encryption context key given twice"));
        }
        Ok(Self::from_sorted(views))
    }

    /// The empty context.
    #[must_use]
    pub fn empty() -> &'static Self {
        &EMPTY
    }

    fn from_sorted(pairs: &[(&str, &str)]) -> Self {
        // Every length fits in a u16 (the size limit), and so does the count.
        let len = pairs
            .iter()
            .fold(2usize, |n, (k, v)| n.saturating_add(4 + k.len() + v.len()));
        let canonical = if len <= INLINE {
            let mut bytes = [0u8; INLINE];
            let mut at = 0;
            encode(pairs, |chunk| {
                bytes[at..at + chunk.len()].copy_from_slice(chunk);
                at += chunk.len();
            });
            Canonical::Inline {
                len: u8::try_from(at).unwrap_or(u8::MAX),
                bytes,
            }
        } else {
            let mut bytes = Vec::with_capacity(len);
            encode(pairs, |chunk| bytes.extend_from_slice(chunk));
            Canonical::Shared(bytes.into())
        };
        let digest = match &canonical {
            Canonical::Inline { len, bytes } => {
                let bytes = &bytes[..usize::from(*len)];
                RECENTLY
                    .try_with(|recent| recent.borrow_mut().digest(bytes))
                    .unwrap_or_else(|_| sha256(bytes))
            }
            Canonical::Shared(bytes) => sha256(bytes),
        };
        Self {
            canonical,
            digest,
            pairs: OnceLock::new(),
        }
    }

    /// Whether the context has no pairs.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of pairs.
    #[must_use]
    pub fn len(&self) -> usize {
        match self.canonical.as_bytes() {
            [hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
            _ => 0,
        }
    }

    /// The value for `key`, if present.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The pairs, sorted by key.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        Pairs {
            rest: self.canonical.as_bytes().get(2..).unwrap_or_default(),
            left: self.len(),
        }
    }

    /// The canonical encoding (`FORMAT.md`, "Encryption context").
    #[must_use]
    pub fn canonical_bytes(&self) -> Vec<u8> {
        self.canonical.as_bytes().to_vec()
    }

    /// The pairs, shared: what the audit trail keeps (a clone only when a thread's context
    /// changes from one call to the next).
    pub(crate) fn pairs_shared(&self) -> &Arc<[(String, String)]> {
        if let Some(pairs) = self.pairs.get() {
            return pairs;
        }
        let pairs: Arc<[(String, String)]> = self
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        // Set inside the fork gate, so a fork never catches the cell half set.
        let _pass = crate::fork::pass();
        self.pairs.get_or_init(|| pairs)
    }

    /// SHA-256 of the canonical encoding: what the AAD carries.
    pub(crate) fn digest(&self) -> &[u8; 32] {
        &self.digest
    }
}

/// A checked view of one pair: a non-empty key, and the running total within the limit.
fn view<'a, K: AsRef<str>, V: AsRef<str>>(
    (k, v): &'a (K, V),
    total: &mut usize,
) -> Result<(&'a str, &'a str)> {
    let (k, v) = (k.as_ref(), v.as_ref());
    if k.is_empty() {
        return Err(Error::InvalidInput(
            "encryption context key must not be empty",
        ));
    }
    *total = total.saturating_add(k.len()).saturating_add(v.len());
    if *total > MAX_CONTEXT_BYTES {
        return Err(Error::LimitExceeded(
            "encryption context exceeds 8192 bytes",
        ));
    }
    Ok((k, v))
}

/// Reads the pairs back out of a canonical encoding this module wrote.
struct Pairs<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> Pairs<'a> {
    fn field(&mut self) -> &'a str {
        let (len, rest) = match self.rest {
            [hi, lo, rest @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), rest),
            _ => (0, &[][..]),
        };
        let (field, rest) = rest.split_at(len.min(rest.len()));
        self.rest = rest;
        // Written from `&str`s: always UTF-8.
        core::str::from_utf8(field).unwrap_or_default()
    }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        Some((self.field(), self.field()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Pairs<'_> {}

impl PartialEq for EncryptionContext {
    fn eq(&self, other: &Self) -> bool {
        self.canonical.as_bytes() == other.canonical.as_bytes()
    }
}

impl Eq for EncryptionContext {}

/// Writes the canonical encoding: `u16 count`, then per pair `u16 len, key, u16 len, value`,
/// big-endian. The size limit guarantees every length fits in a `u16`.
fn encode(pairs: &[(&str, &str)], mut sink: impl FnMut(&[u8])) {
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

#[cfg(test)]
mod tests {
    use super::{EncryptionContext, RECENT, sha256};

    #[test]
    fn remembered_digests_are_the_digests_of_the_encodings() {
        // More distinct contexts than a thread remembers, each built several times in an
        // order that hits, misses and evicts; a large one (never remembered) in between.
        let large = "v".repeat(300);
        let names: Vec<String> = (0..2 * RECENT).map(|i| format!("t{i}")).collect();
        for round in 0..4 {
            for (i, name) in names.iter().enumerate() {
                let ctx = EncryptionContext::new([("tenant", name.as_str()), ("n", "1")]).unwrap();
                assert_eq!(*ctx.digest(), sha256(&ctx.canonical_bytes()), "{round} {i}");
                let again =
                    EncryptionContext::new([("n", "1"), ("tenant", name.as_str())]).unwrap();
                assert_eq!(again.digest(), ctx.digest());
                let other = EncryptionContext::new([("tenant", name.as_str())]).unwrap();
                assert_ne!(other.digest(), ctx.digest());
                let big = EncryptionContext::new([("k", large.as_str())]).unwrap();
                assert_eq!(*big.digest(), sha256(&big.canonical_bytes()));
            }
        }
        assert_eq!(
            *EncryptionContext::empty().digest(),
            sha256(&EncryptionContext::empty().canonical_bytes())
        );
    }
}
