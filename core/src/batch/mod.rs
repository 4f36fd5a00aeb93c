//! Batches: many independent operations spread over a thread pool, one result each.
//!
//! Every data-plane operation has a batch form on [`Keyring`] (`encrypt_many`, `decrypt_many`,
//! …). A batch takes a slice of borrowed requests, which may mix keys and contexts, and returns
//! one [`Result`] per request, in input order: one bad item never fails the batch. The outer
//! `Result` fails only for the batch as a whole ([`Error::LimitExceeded`] above the keyring's
//! [`max_batch_items`](crate::KeyringBuilder::max_batch_items), or for outputs too large to
//! allocate; [`Keyring::check_batch_len`] makes the first check alone, before a request list
//! is built).
//!
//! **Outputs share one buffer.** A batch sizes every output first, allocates one buffer for all
//! of them, and hands each item out as a [`Bytes`] view into it: one allocation per batch, not
//! per item. The buffer is freed when the last view is dropped, and zeroized first if it holds
//! secrets (the outputs of `decrypt_many` and `generate_data_key_many`), so keeping one small output alive keeps the whole buffer alive; copy it
//! out (`to_vec()`) to keep it longer than the rest.
//!
//! **Scheduling.** Items go in runs sized so that each run is roughly 20 µs of work: hundreds
//! of 64-byte encryptions make one run, a signature makes one alone. The calling thread and up
//! to n − 1 threads of an n-thread rayon pool take runs until none is left: the caller starts at
//! once instead of waiting for pool threads to wake, and a batch never uses more threads than
//! the pool has, the caller counted. A batch whose work fits in one run, or whose pool would
//! have one thread, stays on the calling thread. The pool is the keyring's own
//! ([`threads`](crate::KeyringBuilder::threads)), one handed to it
//! ([`thread_pool`](crate::KeyringBuilder::thread_pool)), or by default one process-wide pool
//! with a thread per core, created at the first batch. Batches from any number of callers share
//! the pool, and a batch started from inside a pool thread runs there without deadlock. After a
//! `fork()`, a Keyplane-made pool (whose threads the child does not have) is replaced by a new
//! one; a pool handed in by the caller is the caller's to manage.

use core::fmt;

use bytes::Bytes;
use zeroize::Zeroizing;

use crate::audit::Operation;
use crate::context::EncryptionContext;
use crate::datakey::DataKeySpec;
use crate::envelope;
use crate::error::{Error, Result};
use crate::keyring::{ALIAS_PREFIX, KeyMemo, Keyring};
use crate::spec::{MacAlgorithm, MessageType, SigningAlgorithm};

pub use crate::pool::{DEFAULT_MAX_BATCH_ITEMS, MAX_THREADS};

mod engine;

use engine::{Out, Output, Task, run_len, symmetric_ns};

/// One encryption: `plaintext` under the newest version of `key_id` (or alias).
#[derive(Clone, Copy)]
pub struct EncryptRequest<'a> {
    /// Key id or `alias/...`.
    pub key_id: &'a str,
    /// The data to encrypt.
    pub plaintext: &'a [u8],
    /// Bound as authenticated data; decryption must present the same.
    pub context: &'a EncryptionContext,
}

/// One decryption of a blob made by `encrypt` under `context`.
#[derive(Clone, Copy)]
pub struct DecryptRequest<'a> {
    /// The ciphertext blob.
    pub blob: &'a [u8],
    /// The context given when encrypting.
    pub context: &'a EncryptionContext,
}

/// One re-encryption: decrypt `blob` and encrypt its plaintext under `destination_key_id`.
#[derive(Clone, Copy)]
pub struct ReEncryptRequest<'a> {
    /// The ciphertext blob.
    pub blob: &'a [u8],
    /// The context `blob` was made with.
    pub source_context: &'a EncryptionContext,
    /// Key id or `alias/...` to encrypt under.
    pub destination_key_id: &'a str,
    /// The context bound to the new blob.
    pub destination_context: &'a EncryptionContext,
}

/// One data key, generated and encrypted under `key_id`.
#[derive(Debug, Clone, Copy)]
pub struct DataKeyRequest<'a> {
    /// Key id or `alias/...` that encrypts the data key.
    pub key_id: &'a str,
    /// The data key's size.
    pub spec: DataKeySpec,
    /// Bound to the encrypted data key.
    pub context: &'a EncryptionContext,
}

/// One MAC of `message`.
#[derive(Clone, Copy)]
pub struct MacRequest<'a> {
    /// Key id or `alias/...` of an HMAC key.
    pub key_id: &'a str,
    /// The message.
    pub message: &'a [u8],
    /// Must match the key's spec.
    pub algorithm: MacAlgorithm,
}

/// One MAC check.
#[derive(Clone, Copy)]
pub struct VerifyMacRequest<'a> {
    /// Key id or `alias/...` of an HMAC key.
    pub key_id: &'a str,
    /// The message.
    pub message: &'a [u8],
    /// Must match the key's spec.
    pub algorithm: MacAlgorithm,
    /// The MAC to check.
    pub mac: &'a [u8],
}

/// One signature of `message` (or of the caller's digest).
#[derive(Clone, Copy)]
pub struct SignRequest<'a> {
    /// Key id or `alias/...` of a signing key.
    pub key_id: &'a str,
    /// The message, or its digest with [`MessageType::Digest`].
    pub message: &'a [u8],
    /// Whether `message` is the message or its digest.
    pub message_type: MessageType,
    /// Must be one the key's spec allows.
    pub algorithm: SigningAlgorithm,
}

/// One signature check.
#[derive(Clone, Copy)]
pub struct VerifyRequest<'a> {
    /// Key id or `alias/...` of a signing key.
    pub key_id: &'a str,
    /// The message, or its digest with [`MessageType::Digest`].
    pub message: &'a [u8],
    /// Whether `message` is the message or its digest.
    pub message_type: MessageType,
    /// Must be one the key's spec allows.
    pub algorithm: SigningAlgorithm,
    /// The signature to check.
    pub signature: &'a [u8],
}

// The requests' Debug shows byte lengths, never the bytes: plaintexts and messages are secrets
// (and blobs, MACs and signatures are long and say nothing useful in a log).

/// A byte field's length, in place of its bytes.
struct Len(usize);

impl fmt::Debug for Len {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0)
    }
}

impl fmt::Debug for EncryptRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptRequest")
            .field("key_id", &self.key_id)
            .field("plaintext", &Len(self.plaintext.len()))
            .field("context", self.context)
            .finish()
    }
}

impl fmt::Debug for DecryptRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptRequest")
            .field("blob", &Len(self.blob.len()))
            .field("context", self.context)
            .finish()
    }
}

impl fmt::Debug for ReEncryptRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReEncryptRequest")
            .field("blob", &Len(self.blob.len()))
            .field("source_context", self.source_context)
            .field("destination_key_id", &self.destination_key_id)
            .field("destination_context", self.destination_context)
            .finish()
    }
}

impl fmt::Debug for MacRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MacRequest")
            .field("key_id", &self.key_id)
            .field("message", &Len(self.message.len()))
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

impl fmt::Debug for VerifyMacRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyMacRequest")
            .field("key_id", &self.key_id)
            .field("message", &Len(self.message.len()))
            .field("algorithm", &self.algorithm)
            .field("mac", &Len(self.mac.len()))
            .finish()
    }
}

impl fmt::Debug for SignRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignRequest")
            .field("key_id", &self.key_id)
            .field("message", &Len(self.message.len()))
            .field("message_type", &self.message_type)
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

impl fmt::Debug for VerifyRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyRequest")
            .field("key_id", &self.key_id)
            .field("message", &Len(self.message.len()))
            .field("message_type", &self.message_type)
            .field("algorithm", &self.algorithm)
            .field("signature", &Len(self.signature.len()))
            .finish()
    }
}

/// A data key made by a batch: its plaintext and the blob, both views into the batch's buffer.
#[derive(Clone)]
pub struct BatchDataKey {
    plaintext: Bytes,
    ciphertext_blob: Bytes,
}

impl BatchDataKey {
    /// The key that encrypted the data key (never an alias).
    #[must_use]
    pub fn key_id(&self) -> &str {
        // The blob was made by this process a moment ago; its header parses.
        envelope::inspect(&self.ciphertext_blob).map_or("", |info| info.key_id)
    }

    /// The data key. The buffer that holds it is zeroized once every view into it is dropped.
    #[must_use]
    pub fn plaintext(&self) -> &Bytes {
        &self.plaintext
    }

    /// The data key encrypted under [`key_id`](Self::key_id).
    #[must_use]
    pub fn ciphertext_blob(&self) -> &Bytes {
        &self.ciphertext_blob
    }
}

impl fmt::Debug for BatchDataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchDataKey")
            .field("key_id", &self.key_id())
            .field("plaintext_len", &self.plaintext.len())
            .field("ciphertext_blob_len", &self.ciphertext_blob.len())
            .finish()
    }
}

impl Keyring {
    /// Checks a batch's item count against the keyring's
    /// [`max_batch_items`](crate::KeyringBuilder::max_batch_items) without running anything:
    /// for callers (bindings) that build the request list from a count, so that a huge count
    /// is refused before the list is allocated. Every batch call makes the same check.
    ///
    /// # Errors
    /// [`Error::LimitExceeded`] above the limit.
    pub fn check_batch_len(&self, items: usize) -> Result<()> {
        if items > self.max_batch_items() {
            return Err(Error::LimitExceeded(
                "batch has more items than the keyring allows",
            ));
        }
        Ok(())
    }

    /// The blob length for `plaintext_len` bytes under `key_id`, without a look-up unless
    /// `key_id` is an alias (whose target's id length is needed).
    fn sized_ciphertext(&self, key_id: &str, plaintext_len: usize) -> Result<usize> {
        if key_id.starts_with(ALIAS_PREFIX) {
            self.ciphertext_len(key_id, plaintext_len)
        } else {
            envelope::ciphertext_len(key_id.len(), plaintext_len)
                .ok_or(Error::LimitExceeded("plaintext too large"))
        }
    }

    /// [`encrypt_into`](Self::encrypt_into) with the task's key memo, or into an allocation
    /// of its own if an alias moved to a key with a longer id since the region was sized.
    fn encrypt_region(
        &self,
        memo: &mut KeyMemo,
        key_id: &str,
        plaintext: &[u8],
        context: &EncryptionContext,
        region: &mut [u8],
    ) -> Result<Out> {
        match self.encrypt_memo(memo, key_id, plaintext, context, region) {
            Err(Error::BufferTooSmall { .. }) => self
                .encrypt(key_id, plaintext, context)
                .map(|blob| Out::Owned(Box::new(Zeroizing::new(blob)))),
            other => other.map(Out::Written),
        }
    }

    // ----- the batch operations -------------------------------------------------------------

    /// Encrypts every item; see [`encrypt`](Self::encrypt) for each item's errors.
    ///
    /// # Errors
    /// [`Error::LimitExceeded`] for more items than
    /// [`max_batch_items`](crate::KeyringBuilder::max_batch_items); [`Error::Internal`] if the
    /// pool cannot start.
    pub fn encrypt_many(&self, items: &[EncryptRequest<'_>]) -> Result<Vec<Result<Bytes>>> {
        let bytes = items.iter().map(|r| r.plaintext.len()).sum();
        self.run_into_buffer(
            items,
            Output::Public,
            |r| (Operation::Encrypt, Some(r.key_id), Some(r.context)),
            run_len(items.len(), symmetric_ns(bytes, items.len())),
            |r| self.sized_ciphertext(r.key_id, r.plaintext.len()),
            |r, region, task| {
                self.encrypt_region(&mut task.memo, r.key_id, r.plaintext, r.context, region)
            },
        )
    }

    /// Decrypts every item; see [`decrypt`](Self::decrypt) for each item's errors. The
    /// plaintexts share one buffer, zeroized when the last of them is dropped.
    ///
    /// # Errors
    /// As [`encrypt_many`](Self::encrypt_many).
    pub fn decrypt_many(&self, items: &[DecryptRequest<'_>]) -> Result<Vec<Result<Bytes>>> {
        let bytes = items.iter().map(|r| r.blob.len()).sum();
        self.run_into_buffer(
            items,
            Output::Secret,
            |r| (Operation::Decrypt, None, Some(r.context)),
            run_len(items.len(), symmetric_ns(bytes, items.len())),
            |r| self.plaintext_len(r.blob),
            |r, region, task| {
                self.decrypt_memo(&mut task.memo, r.blob, r.context, region)
                    .map(Out::Written)
            },
        )
    }

    /// Re-encrypts every item; see [`re_encrypt`](Self::re_encrypt) for each item's errors.
    /// Plaintexts exist only in per-task scratch space, zeroized after use.
    ///
    /// # Errors
    /// As [`encrypt_many`](Self::encrypt_many).
    pub fn re_encrypt_many(&self, items: &[ReEncryptRequest<'_>]) -> Result<Vec<Result<Bytes>>> {
        let bytes = items.iter().map(|r| r.blob.len()).sum::<usize>();
        self.run_into_buffer(
            items,
            Output::Public,
            |r| {
                (
                    Operation::ReEncrypt,
                    Some(r.destination_key_id),
                    Some(r.destination_context),
                )
            },
            run_len(items.len(), 2 * symmetric_ns(bytes, items.len())),
            |r| {
                let plaintext_len = self.plaintext_len(r.blob)?;
                self.sized_ciphertext(r.destination_key_id, plaintext_len)
            },
            |r, region, task| {
                let Task {
                    scratch,
                    memo,
                    source,
                } = task;
                scratch.clear();
                scratch.resize(self.plaintext_len(r.blob)?, 0);
                let n = self.decrypt_memo(source, r.blob, r.source_context, scratch)?;
                let out = self.encrypt_region(
                    memo,
                    r.destination_key_id,
                    &scratch[..n],
                    r.destination_context,
                    region,
                );
                scratch.fill(0);
                out
            },
        )
    }

    /// Generates and encrypts a data key per item; see
    /// [`generate_data_key`](Self::generate_data_key) for each item's errors.
    ///
    /// # Errors
    /// As [`encrypt_many`](Self::encrypt_many).
    pub fn generate_data_key_many(
        &self,
        items: &[DataKeyRequest<'_>],
    ) -> Result<Vec<Result<BatchDataKey>>> {
        // Each region is the plaintext followed by its blob.
        let regions = self.run_into_buffer(
            items,
            Output::Secret,
            |r| (Operation::GenerateDataKey, Some(r.key_id), Some(r.context)),
            run_len(items.len(), 400),
            |r| {
                let len = r.spec.byte_len()?;
                let blob = self.sized_ciphertext(r.key_id, len)?;
                len.checked_add(blob)
                    .ok_or(Error::LimitExceeded("batch output too large"))
            },
            |r, region, task| {
                let Task { scratch, memo, .. } = task;
                let len = r.spec.byte_len()?;
                let (plaintext, blob_region) = region.split_at_mut(len);
                crate::fork::fill(plaintext).map_err(|_| Error::Internal)?;
                match self.encrypt_region(memo, r.key_id, plaintext, r.context, blob_region)? {
                    Out::Written(n) => Ok(Out::Written(len + n)),
                    Out::Owned(blob) => {
                        // Rare (an alias moved): keep the pair together in one allocation.
                        scratch.clear();
                        scratch.extend_from_slice(plaintext);
                        scratch.extend_from_slice(&blob);
                        plaintext.fill(0);
                        Ok(Out::Owned(Box::new(Zeroizing::new(core::mem::take(
                            &mut **scratch,
                        )))))
                    }
                }
            },
        )?;
        Ok(items
            .iter()
            .zip(regions)
            .map(|(r, region)| {
                let region = region?;
                let len = r.spec.byte_len()?;
                Ok(BatchDataKey {
                    plaintext: region.slice(..len),
                    ciphertext_blob: region.slice(len..),
                })
            })
            .collect())
    }

    /// Generates a data key per item and returns only its blob; see
    /// [`generate_data_key_without_plaintext`](Self::generate_data_key_without_plaintext).
    ///
    /// # Errors
    /// As [`encrypt_many`](Self::encrypt_many).
    pub fn generate_data_key_without_plaintext_many(
        &self,
        items: &[DataKeyRequest<'_>],
    ) -> Result<Vec<Result<Bytes>>> {
        self.run_into_buffer(
            items,
            Output::Public,
            |r| {
                (
                    Operation::GenerateDataKeyWithoutPlaintext,
                    Some(r.key_id),
                    Some(r.context),
                )
            },
            run_len(items.len(), 400),
            |r| self.sized_ciphertext(r.key_id, r.spec.byte_len()?),
            |r, region, task| {
                let Task { scratch, memo, .. } = task;
                scratch.clear();
                scratch.resize(r.spec.byte_len()?, 0);
                crate::fork::fill(scratch).map_err(|_| Error::Internal)?;
                let out = self.encrypt_region(memo, r.key_id, scratch, r.context, region);
                scratch.fill(0);
                out
            },
        )
    }

    /// Computes a MAC per item; see [`generate_mac`](Self::generate_mac) for each item's errors.
    ///
    /// # Errors
    /// As [`encrypt_many`](Self::encrypt_many).
    pub fn generate_mac_many(&self, items: &[MacRequest<'_>]) -> Result<Vec<Result<Bytes>>> {
        let bytes = items.iter().map(|r| r.message.len()).sum();
        self.run_into_buffer(
            items,
            Output::Public,
            |r| (Operation::GenerateMac, Some(r.key_id), None),
            run_len(items.len(), 2 * symmetric_ns(bytes, items.len())),
            |r| Ok(r.algorithm.mac_len()),
            |r, region, _| {
                self.generate_mac_into(r.key_id, r.message, r.algorithm, region)
                    .map(Out::Written)
            },
        )
    }

    /// Checks a MAC per item; see [`verify_mac`](Self::verify_mac) for each item's errors.
    ///
    /// # Errors
    /// As [`encrypt_many`](Self::encrypt_many).
    pub fn verify_mac_many(&self, items: &[VerifyMacRequest<'_>]) -> Result<Vec<Result<bool>>> {
        let bytes = items.iter().map(|r| r.message.len()).sum();
        self.run_items(
            items,
            run_len(items.len(), 2 * symmetric_ns(bytes, items.len())),
            |r| self.verify_mac(r.key_id, r.message, r.algorithm, r.mac),
        )
    }

    /// Signs every item; see [`sign`](Self::sign) for each item's errors.
    ///
    /// # Errors
    /// As [`encrypt_many`](Self::encrypt_many).
    pub fn sign_many(&self, items: &[SignRequest<'_>]) -> Result<Vec<Result<Bytes>>> {
        // Signing costs tens of microseconds or more: every item is a run of its own.
        self.run_into_buffer(
            items,
            Output::Public,
            |r| (Operation::Sign, Some(r.key_id), None),
            1,
            |r| self.max_signature_len(r.key_id),
            |r, region, _| {
                self.sign_into(r.key_id, r.message, r.message_type, r.algorithm, region)
                    .map(Out::Written)
            },
        )
    }

    /// Checks a signature per item; see [`verify`](Self::verify) for each item's errors.
    ///
    /// # Errors
    /// As [`encrypt_many`](Self::encrypt_many).
    pub fn verify_many(&self, items: &[VerifyRequest<'_>]) -> Result<Vec<Result<bool>>> {
        // Verification costs tens of microseconds: one item per run.
        self.run_items(items, 1, |r| {
            self.verify(
                r.key_id,
                r.message,
                r.message_type,
                r.algorithm,
                r.signature,
            )
        })
    }
}
