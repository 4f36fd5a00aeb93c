//! The symmetric data plane: encrypt, decrypt and re-encrypt under a key's versions, with the
//! nonce budget counted (and, in a store-backed keyring, reserved in the store) before any
//! encryption is acknowledged. The `_into` forms allocate nothing and hold no lock while the
//! cipher runs; batches use the `_memo` forms.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use zeroize::Zeroizing;

use super::{FORKED_STORE, Keyring};
use crate::aead::{self, NONCE_LEN};
use crate::audit::{self, Operation};
use crate::context::EncryptionContext;
use crate::envelope;
use crate::error::{Error, Result};
use crate::key::{ALIAS_PREFIX, Key};
use crate::spec::{KeySpec, KeyState, KeyUsage};
use crate::versions::Version;

/// Encryptions a batch task reserves at a time under one key version.
const MEMO_BLOCK: u64 = 32;

/// A batch task's last key and the encryptions it holds in reserve under one of its versions.
#[derive(Default)]
pub(crate) struct KeyMemo {
    held: Option<HeldKey>,
}

struct HeldKey {
    /// The keyring's generation when `name` was looked up.
    generation: u64,
    name: Box<[u8]>,
    key: Arc<Key>,
    block: Block,
}

/// Reserved encryption counts `next..end` of version `version`.
#[derive(Default)]
struct Block {
    version: u32,
    next: u64,
    end: u64,
}

impl Drop for HeldKey {
    fn drop(&mut self) {
        // Hands unused reservations back if no one reserved after them, so a batch's count is
        // exact when it ran alone.
        if self.block.next < self.block.end
            && let Some(version) = self.key.versions.get(self.block.version)
        {
            let _ = version.encryptions.compare_exchange(
                self.block.end,
                self.block.next,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
    }
}

impl Keyring {
    /// The exact blob length [`encrypt_into`](Self::encrypt_into) writes for `plaintext_len`
    /// bytes under `key_id`.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::LimitExceeded`] when the length overflows.
    pub fn ciphertext_len(&self, key_id: &str, plaintext_len: usize) -> Result<usize> {
        let key = self.resolve(key_id)?;
        key.ciphertext_len(plaintext_len)
    }

    /// The plaintext length [`decrypt_into`](Self::decrypt_into) writes for `blob`.
    ///
    /// # Errors
    /// [`Error::InvalidCiphertext`] for a malformed blob.
    pub fn plaintext_len(&self, blob: &[u8]) -> Result<usize> {
        envelope::parse(blob).map(|p| p.ciphertext.len())
    }

    /// Encrypts `plaintext` under the current version of `key_id` (or alias) into `out`, and
    /// returns the blob's length. Allocates nothing and holds no lock while encrypting.
    ///
    /// `out` must hold [`ciphertext_len`](Self::ciphertext_len) bytes. On error nothing in
    /// `out` is meaningful (it is zeroed if anything was written).
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::InvalidKeyUsage`], [`Error::KeyDisabled`],
    /// [`Error::InvalidKeyState`], [`Error::BufferTooSmall`], [`Error::LimitExceeded`] (budget
    /// spent with rotate-on-budget off).
    pub fn encrypt_into(
        &self,
        key_id: &str,
        plaintext: &[u8],
        context: &EncryptionContext,
        out: &mut [u8],
    ) -> Result<usize> {
        self.audited(Operation::Encrypt, Some(key_id), Some(context), || {
            let key = self.resolve(key_id)?;
            self.encrypt_with(&key, plaintext, context, out)
        })
    }

    fn encrypt_with(
        &self,
        key: &Key,
        plaintext: &[u8],
        context: &EncryptionContext,
        out: &mut [u8],
    ) -> Result<usize> {
        key.require_symmetric()?;
        let needed = key.ciphertext_len(plaintext.len())?;
        let out = out
            .get_mut(..needed)
            .ok_or(Error::BufferTooSmall { needed })?;
        let (version, before, _) =
            key.version_for_encrypt(self.inner.encryption_budget, 1, &|key, m, v| {
                self.persist_locked(key, m, Some(v))
            })?;
        audit::note(&key.id, version.number);
        seal(&key.id, version, plaintext, context, out).inspect_err(|_| out.fill(0))?;
        self.cover_count(key, version, before + 1)
            .inspect_err(|_| out.fill(0))?;
        Ok(needed)
    }

    /// In a store-backed keyring, makes sure the store's count for `version` covers `count`
    /// encryptions before any of them is acknowledged.
    #[inline]
    fn cover_count(&self, key: &Key, version: &Version, count: u64) -> Result<()> {
        if self.inner.persistence.is_some() {
            // A forked child shares the parent's stored count (and every other child's) but
            // cannot record its own encryptions there: refused, like a failed reservation.
            if self.forked() {
                return Err(FORKED_STORE);
            }
            if count > version.reserved.load(Ordering::Acquire) {
                self.reserve(key, version, count)?;
            }
        }
        Ok(())
    }

    /// [`encrypt_into`](Self::encrypt_into) for a batch task: the key comes from `memo` when
    /// the task's previous item named the same key, and the encryption from a block `memo`
    /// reserved, so a run of items under one key shares no counter with other threads.
    pub(crate) fn encrypt_memo(
        &self,
        memo: &mut KeyMemo,
        key_id: &str,
        plaintext: &[u8],
        context: &EncryptionContext,
        out: &mut [u8],
    ) -> Result<usize> {
        let held = self.memo_key(memo, key_id.as_bytes())?;
        let key = &*held.key;
        key.require_symmetric()?;
        let needed = key.ciphertext_len(plaintext.len())?;
        let out = out
            .get_mut(..needed)
            .ok_or(Error::BufferTooSmall { needed })?;
        if held.block.next == held.block.end {
            let (version, before, granted) =
                key.version_for_encrypt(self.inner.encryption_budget, MEMO_BLOCK, &|key, m, v| {
                    self.persist_locked(key, m, Some(v))
                })?;
            // Not handed back if the store cannot cover it: those counts stay spent.
            self.cover_count(key, version, before + granted)?;
            held.block = Block {
                version: version.number,
                next: before,
                end: before + granted,
            };
        }
        let version = key
            .versions
            .get(held.block.version)
            .ok_or(Error::Internal)?;
        held.block.next += 1;
        audit::note(&key.id, version.number);
        seal(&key.id, version, plaintext, context, out).inspect_err(|_| out.fill(0))?;
        Ok(needed)
    }

    /// The key `name` resolves to, from `memo` if it holds it (and nothing about the key needs
    /// the full look-up's checks), else looked up and remembered.
    fn memo_key<'m>(&self, memo: &'m mut KeyMemo, name: &[u8]) -> Result<&'m mut HeldKey> {
        let generation = self.inner.generation.load(Ordering::Acquire);
        let hit = memo.held.as_ref().is_some_and(|h| {
            h.generation == generation
                && *h.name == *name
                && h.key.state() != KeyState::PendingDeletion
                && h.key.valid_to.load(Ordering::Acquire) == 0
        });
        if !hit {
            memo.held = None;
            let key = self.resolve_bytes(name)?;
            memo.held = Some(HeldKey {
                generation,
                name: name.into(),
                key,
                block: Block::default(),
            });
        }
        let held = memo.held.as_mut().ok_or(Error::Internal)?;
        if hit {
            audit::note(&held.key.id, 0);
        }
        Ok(held)
    }

    /// Encrypts `plaintext` under the current version of `key_id` (or alias).
    ///
    /// # Errors
    /// As [`encrypt_into`](Self::encrypt_into), without the buffer error.
    pub fn encrypt(
        &self,
        key_id: &str,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        self.audited(Operation::Encrypt, Some(key_id), Some(context), || {
            // One look-up: an alias moved between sizing and encrypting must not change the size.
            let key = self.resolve(key_id)?;
            self.encrypt_with_key(&key, plaintext, context)
        })
    }

    /// [`encrypt`](Self::encrypt) under an already resolved key.
    pub(crate) fn encrypt_with_key(
        &self,
        key: &Key,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        key.require_symmetric()?;
        let mut out = vec![0; key.ciphertext_len(plaintext.len())?];
        let n = self.encrypt_with(key, plaintext, context, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    /// Decrypts `blob` into `out` and returns the plaintext's length. The blob names its key
    /// and version; `context` must equal the one given to encrypt. Allocates nothing and holds
    /// no lock while decrypting. On any error `out` is left zeroed.
    ///
    /// # Errors
    /// [`Error::InvalidCiphertext`] for a blob that is malformed, tampered with, from another
    /// keyring, or paired with another context, and for any blob that does not authenticate,
    /// whatever the key it names (unknown, of another kind, without material, disabled: one
    /// error for all, on purpose); [`Error::BufferTooSmall`]. Only for a blob that
    /// authenticates: [`Error::KeyDisabled`], [`Error::InvalidKeyState`] (pending deletion),
    /// [`Error::VersionRetired`].
    pub fn decrypt_into(
        &self,
        blob: &[u8],
        context: &EncryptionContext,
        out: &mut [u8],
    ) -> Result<usize> {
        self.audited(Operation::Decrypt, None, Some(context), || {
            let result = self.decrypt_inner(blob, context, out);
            if result.is_err() {
                out.fill(0);
            }
            result
        })
    }

    fn decrypt_inner(
        &self,
        blob: &[u8],
        context: &EncryptionContext,
        out: &mut [u8],
    ) -> Result<usize> {
        self.decrypt_resolved(blob, context, out, |name| self.resolve_bytes(name))
    }

    /// [`decrypt_into`](Self::decrypt_into) for a batch task, its key from `memo` when the
    /// task's previous item used the same key (see [`encrypt_memo`](Self::encrypt_memo)).
    /// Zeroes `out` on failure.
    pub(crate) fn decrypt_memo(
        &self,
        memo: &mut KeyMemo,
        blob: &[u8],
        context: &EncryptionContext,
        out: &mut [u8],
    ) -> Result<usize> {
        let result = self.decrypt_resolved(blob, context, out, |name| {
            self.memo_key(memo, name).map(|held| &*held.key)
        });
        if result.is_err() {
            out.fill(0);
        }
        result
    }

    /// Opens `blob` under the key `resolve` finds for the id it names.
    fn decrypt_resolved<K: core::ops::Deref<Target = Key>>(
        &self,
        blob: &[u8],
        context: &EncryptionContext,
        out: &mut [u8],
        resolve: impl FnOnce(&[u8]) -> Result<K>,
    ) -> Result<usize> {
        let parsed = envelope::parse(blob)?;
        let needed = parsed.ciphertext.len();
        let out = out
            .get_mut(..needed)
            .ok_or(Error::BufferTooSmall { needed })?;
        // Authenticity first: until the blob authenticates, every failure is the same
        // InvalidCiphertext, so a forged blob learns nothing about the key it names: whether it
        // exists, its state, its usage, its versions. A name that leads to no AES key (unknown,
        // an alias, which blobs never name, another kind of key, a version that does not exist,
        // a key without material) is opened under a decoy key instead, so that it costs about
        // what a failed open under a real key does.
        let key = if parsed.key_id.starts_with(ALIAS_PREFIX.as_bytes()) {
            None
        } else {
            resolve(parsed.key_id).ok()
        };
        let version = key
            .as_deref()
            .filter(|k| k.spec == KeySpec::SymmetricDefault && k.usage == KeyUsage::EncryptDecrypt)
            .and_then(|k| k.versions.get(parsed.key_version));
        let (Some(key), Some(version), Some(version_key)) =
            (key.as_deref(), version, version.and_then(Version::aead))
        else {
            return envelope::with_aad(parsed.aad_header(), context, |aad| {
                aead::decoy_open(parsed.nonce, aad, parsed.ciphertext, parsed.tag, out)
            })
            .and(Err(Error::InvalidCiphertext));
        };
        audit::note(&key.id, version.number);
        envelope::with_aad(parsed.aad_header(), context, |aad| {
            version_key.open(parsed.nonce, aad, parsed.ciphertext, parsed.tag, out)
        })?;
        // Authentic: now the key's state (usage was settled above).
        key.require_symmetric()?;
        // Policy after authenticity, so a forged version number is just an invalid blob.
        if version.number < key.min_decryption_version.load(Ordering::Acquire) {
            return Err(Error::VersionRetired);
        }
        Ok(needed)
    }

    /// Decrypts `blob`; the plaintext is zeroized when dropped.
    ///
    /// # Errors
    /// As [`decrypt_into`](Self::decrypt_into), without the buffer error.
    pub fn decrypt(&self, blob: &[u8], context: &EncryptionContext) -> Result<Zeroizing<Vec<u8>>> {
        self.audited(Operation::Decrypt, None, Some(context), || {
            let mut out = Zeroizing::new(vec![0; self.plaintext_len(blob)?]);
            let n = self.decrypt_into(blob, context, &mut out)?;
            out.truncate(n);
            Ok(out)
        })
    }

    /// Decrypts `blob` (made with `source_context`) and encrypts the plaintext under
    /// `destination_key_id` (or its newest version) with `destination_context`. The plaintext
    /// never leaves Keyplane and is zeroized.
    ///
    /// # Errors
    /// Any error of [`decrypt`](Self::decrypt) or [`encrypt`](Self::encrypt).
    pub fn re_encrypt(
        &self,
        blob: &[u8],
        source_context: &EncryptionContext,
        destination_key_id: &str,
        destination_context: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        self.audited(
            Operation::ReEncrypt,
            Some(destination_key_id),
            Some(destination_context),
            || {
                let plaintext = self.decrypt(blob, source_context)?;
                self.encrypt(destination_key_id, &plaintext, destination_context)
            },
        )
    }
}

/// Writes header, ciphertext and tag into `out` (exactly the blob's length) in the format this
/// build writes: `0x01` with a nonce from Keyplane's pool, or in a FIPS build `0x02` with a nonce
/// the module draws.
pub(super) fn seal(
    key_id: &str,
    version: &Version,
    plaintext: &[u8],
    context: &EncryptionContext,
    out: &mut [u8],
) -> Result<()> {
    #[cfg(not(feature = "fips"))]
    {
        let nonce = aead::random_nonce()?;
        seal_with_nonce(
            envelope::FORMAT_V1,
            key_id,
            version,
            nonce,
            plaintext,
            context,
            out,
        )
    }
    #[cfg(feature = "fips")]
    {
        let aead = version.aead().ok_or(Error::InvalidKeyUsage)?;
        let header_len = envelope::write_header(
            out,
            envelope::FORMAT_V2,
            key_id,
            version.number,
            &[0; NONCE_LEN],
        )?;
        let (header, body) = out.split_at_mut(header_len);
        let (ciphertext, tag) = body.split_at_mut(plaintext.len());
        ciphertext.copy_from_slice(plaintext);
        let (aad_header, nonce_slot) = header.split_at_mut(header_len - NONCE_LEN);
        let nonce = envelope::with_aad(aad_header, context, |aad| {
            aead.seal_internal_nonce(aad, ciphertext, tag)
        })?;
        nonce_slot.copy_from_slice(&nonce);
        Ok(())
    }
}

/// [`seal`] in `format` under a nonce the caller chose: the non-FIPS route, and the test hooks'.
#[cfg_attr(
    all(feature = "fips", not(feature = "insecure-test-hooks")),
    allow(dead_code)
)]
pub(super) fn seal_with_nonce(
    format: u8,
    key_id: &str,
    version: &Version,
    nonce: [u8; NONCE_LEN],
    plaintext: &[u8],
    context: &EncryptionContext,
    out: &mut [u8],
) -> Result<()> {
    let header_len = envelope::write_header(out, format, key_id, version.number, &nonce)?;
    let (header, body) = out.split_at_mut(header_len);
    let (ciphertext, tag) = body.split_at_mut(plaintext.len());
    envelope::with_aad(envelope::aad_header(format, header), context, |aad| {
        version
            .aead()
            .ok_or(Error::InvalidKeyUsage)?
            .seal(nonce, aad, plaintext, ciphertext, tag)
    })
}
