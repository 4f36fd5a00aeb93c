//! The keyring: the set of keys in a process, and the operations that need its insides.
//!
//! The [`Keyring`] type, its name resolution and audit hook-up live here; each concern that
//! needs the keyring's own state has a file below:
//! - `builder`: [`KeyringBuilder`], and opening a keyring on a store;
//! - `admin`: creating keys, state changes, deletion, aliases, rotation;
//! - `symmetric`: encrypt, decrypt and re-encrypt under a key's versions, and the nonce budget;
//! - `records`: snapshots of keys, sealed export and import, writing every change to the store;
//! - `byok`: importing key material (AWS KMS's `GetParametersForImport`/`ImportKeyMaterial`);
//! - `hooks`: the insecure known-answer hooks (feature `insecure-test-hooks` only).
//!
//! Operations that only need a resolved key (signing, MACs, RSA encryption, data keys,
//! batches) live in their own modules above this one.

use core::fmt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::SystemTime;

use crate::audit::{self, KeyLastUsage, Recorder};
use crate::context::EncryptionContext;
use crate::error::{Error, Result};
use crate::fork::{self, read, write};
use crate::key::Key;
use crate::lookup;
use crate::pool::BatchConfig;
use crate::seal;
use crate::spec::{KeyState, KeyUsage};

mod admin;
mod builder;
mod byok;
#[cfg(feature = "insecure-test-hooks")]
mod hooks;
mod records;
mod symmetric;

pub use crate::key::{ALIAS_PREFIX, AliasEntry, CreateKey, KeyMetadata, KeyVersionInfo};
pub use builder::KeyringBuilder;
pub(crate) use symmetric::KeyMemo;

use records::Persistence;

/// Encryptions allowed per key version per keyring instance before the key rotates (or refuses):
/// 2^32, where the probability that two random 96-bit nonces collide stays below 2^-32.
pub const DEFAULT_ENCRYPTION_BUDGET: u64 = 1 << 32;

/// The set of keys in a process, and every operation on them.
///
/// `Keyring` is `Send + Sync` and cheap to clone (clones share the keys). Key material never
/// leaves it in plaintext; only the outputs that operations exist to return (data keys) do.
#[derive(Clone)]
pub struct Keyring {
    inner: Arc<Inner>,
    /// Who the audit trail says made the calls through this handle.
    caller: Option<Arc<str>>,
}

struct Inner {
    /// Distinguishes keyrings in the per-thread look-up cache.
    id: u64,
    /// The fork generation of the process that made the keyring (see [`Keyring::forked`]).
    process: u64,
    /// Bumped after any change to what a name resolves to (alias changes, deletions), so
    /// per-thread cached look-ups made before it are not used.
    generation: AtomicU64,
    // Lock order: `aliases` before `keys`.
    keys: RwLock<HashMap<Box<str>, Arc<Key>>>,
    aliases: RwLock<HashMap<Box<str>, Box<str>>>,
    encryption_budget: u64,
    batch: BatchConfig,
    /// The store every change is written to, for a keyring opened on one.
    persistence: Option<Persistence>,
    /// The root a keyring without a store seals its import tokens under, made on first use.
    import_root: OnceLock<seal::LocalRootKey>,
    /// How far a test hook has moved the import clock forward, in nanoseconds.
    import_clock_ahead: AtomicU64,
    /// The audit trail, when enabled.
    audit: Option<Recorder>,
}

/// What a store-backed keyring made before a `fork()` answers, in the child, to anything that
/// would write to the store: parent and children would each rewrite whole records (the last
/// writer wins), could create different material for the same new version, and would each
/// count encryptions from the same stored number.
const FORKED_STORE: Error = Error::Storage(
    "this store-backed keyring was opened before fork(): in a forked child it only reads and \
     decrypts; open the store after forking to write to it or encrypt",
);

impl Default for Keyring {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("keys", &read(&self.inner.keys).len())
            .field("encryption_budget", &self.inner.encryption_budget)
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// An empty keyring with default settings.
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Resolves a key id or `alias/...` to the key, deleting it first if its pending-deletion
    /// window has passed. Repeated look-ups by one thread are served from a per-thread cache
    /// without hashing or locking (see [`crate::lookup`]).
    pub(crate) fn resolve(&self, key_id: &str) -> Result<Arc<Key>> {
        self.resolve_bytes(key_id.as_bytes())
    }

    /// The key, checked to have `usage` and be usable now.
    pub(crate) fn usable(&self, key_id: &str, usage: KeyUsage) -> Result<Arc<Key>> {
        let key = self.resolve(key_id)?;
        key.require(usage)?;
        crate::fips::check_key(key.spec, key.usage)?;
        Ok(key)
    }

    /// [`resolve`](Self::resolve) for a name that may not be UTF-8 (read from a blob); such a
    /// name is [`Error::NotFound`].
    fn resolve_bytes(&self, key_id: &[u8]) -> Result<Arc<Key>> {
        let generation = self.inner.generation.load(Ordering::Acquire);
        let key = match lookup::get(self.inner.id, generation, key_id) {
            Some(key) => key,
            None => {
                let name = core::str::from_utf8(key_id).map_err(|_| Error::NotFound)?;
                let key = self.resolve_uncached(name)?;
                lookup::put(self.inner.id, generation, name, &key);
                key
            }
        };
        audit::note(&key.id, 0);
        if key.state() == KeyState::PendingDeletion && self.purge_if_due(&key) {
            return Err(Error::NotFound);
        }
        self.expire_if_due(key)
    }

    fn resolve_uncached(&self, key_id: &str) -> Result<Arc<Key>> {
        if key_id.starts_with(ALIAS_PREFIX) {
            let aliases = read(&self.inner.aliases);
            let target = aliases.get(key_id).ok_or(Error::NotFound)?;
            read(&self.inner.keys).get(target).cloned()
        } else {
            read(&self.inner.keys).get(key_id).cloned()
        }
        .ok_or(Error::NotFound)
    }

    pub(crate) fn batch_config(&self) -> &BatchConfig {
        &self.inner.batch
    }

    /// Invalidates every thread's cached look-ups; call after changing the maps.
    fn bump_generation(&self) {
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Deletes `key` if it is pending deletion and its date has passed.
    fn purge_if_due(&self, key: &Arc<Key>) -> bool {
        let due = read(&key.mutable)
            .deletion_date
            .is_some_and(|d| SystemTime::now() >= d);
        if due {
            let mut aliases = write(&self.inner.aliases);
            let mut keys = write(&self.inner.keys);
            // A racing purge may already have removed it and its id been reused: only ever
            // remove this very key.
            let removed = keys.get(&*key.id).is_some_and(|k| Arc::ptr_eq(k, key));
            if removed {
                keys.remove(&*key.id);
                aliases.retain(|_, target| **target != *key.id);
                self.bump_generation();
            }
            drop(keys);
            drop(aliases);
            if removed {
                self.forget_record(&key.id);
            }
        }
        due
    }

    /// Deletes every key whose pending-deletion window has passed, so that management calls
    /// (creating, listing) see ids and aliases free at once.
    fn sweep_expired(&self) {
        let pending: Vec<Arc<Key>> = read(&self.inner.keys)
            .values()
            .filter(|k| k.state() == KeyState::PendingDeletion)
            .cloned()
            .collect();
        for key in pending {
            self.purge_if_due(&key);
        }
    }

    fn aliases_of(&self, key_id: &str) -> Vec<String> {
        let mut v: Vec<String> = read(&self.inner.aliases)
            .iter()
            .filter(|(_, target)| ***target == *key_id)
            .map(|(alias, _)| alias.to_string())
            .collect();
        v.sort_unstable();
        v
    }

    /// Whether this process is a `fork()` of the one that made the keyring. A store-backed
    /// keyring then refuses everything that writes to the store or spends from a budget
    /// recorded there ([`FORKED_STORE`]); reads and decryption go on.
    fn forked(&self) -> bool {
        self.inner.process != fork::generation()
    }
}

impl Keyring {
    /// Runs `f` as one audited operation (just `f` when the keyring does not audit).
    #[inline]
    pub(crate) fn audited<T>(
        &self,
        operation: audit::Operation,
        key_id: Option<&str>,
        context: Option<&EncryptionContext>,
        f: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        match &self.inner.audit {
            None => f(),
            Some(recorder) => audit::scoped(
                recorder,
                self.caller.as_ref(),
                operation,
                key_id,
                context,
                f,
            ),
        }
    }

    /// A handle on the same keyring whose calls the audit trail attributes to `caller` (a
    /// service, user or tenant name the embedding application chooses).
    #[must_use]
    pub fn with_caller(&self, caller: &str) -> Keyring {
        Keyring {
            inner: Arc::clone(&self.inner),
            caller: Some(Arc::from(caller)),
        }
    }

    /// The caller identity of this handle.
    #[must_use]
    pub fn caller(&self) -> Option<&str> {
        self.caller.as_deref()
    }

    /// Returns once every operation recorded before the call is written (and the sink
    /// flushed). Does nothing on a keyring without audit.
    ///
    /// # Errors
    /// [`Error::Storage`] if the writer thread has stopped; [`Error::InvalidInput`] when called
    /// from this keyring's own audit sink or callback (it would wait for itself).
    pub fn flush_audit(&self) -> Result<()> {
        self.inner.audit.as_ref().map_or(Ok(()), Recorder::flush)
    }

    /// Events dropped because the queue was full (under [`audit::BackPressure::Drop`]).
    #[must_use]
    pub fn audit_dropped(&self) -> u64 {
        self.inner.audit.as_ref().map_or(0, Recorder::dropped)
    }

    /// Times the sink failed to record, flush or close.
    #[must_use]
    pub fn audit_failures(&self) -> u64 {
        self.inner.audit.as_ref().map_or(0, Recorder::failures)
    }

    /// When `key_id` was last used, by which operation, and how often each operation used it
    /// (AWS KMS's `GetKeyLastUsage`), from the audit trail's writer as of now (call
    /// [`flush_audit`](Self::flush_audit) first to include operations still queued).
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidInput`] on a keyring without audit;
    /// [`Error::Storage`] in a process forked after the keyring was made.
    pub fn key_last_usage(&self, key_id: &str) -> Result<KeyLastUsage> {
        let recorder = self
            .inner
            .audit
            .as_ref()
            .ok_or(Error::InvalidInput("this keyring does not audit"))?;
        if self.forked() {
            // The counts live with the writer thread, which stayed in the parent (and may have
            // held their lock at the fork).
            return Err(Error::Storage(
                "the audit trail's writer is in the parent process: in a forked child, make \
                 the audited keyring after the fork",
            ));
        }
        let key = self.resolve(key_id)?;
        Ok(recorder.usage(&key.id))
    }
}
