//! [`KeyringBuilder`]: a keyring's settings, and opening one on a store.

use core::num::NonZeroU64;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use super::{DEFAULT_ENCRYPTION_BUDGET, Inner, Keyring, Persistence};
use crate::audit::{AuditConfig, Recorder};
use crate::context::EncryptionContext;
use crate::error::{Error, Result};
use crate::fork::{self, read};
use crate::pool::{BatchConfig, PoolSource};
use crate::seal::{self, RootKey};
use crate::store::{LoadProblem, Store};

impl Keyring {
    /// A builder for non-default settings.
    #[must_use]
    pub fn builder() -> KeyringBuilder {
        KeyringBuilder {
            encryption_budget: NonZeroU64::new(DEFAULT_ENCRYPTION_BUDGET)
                .unwrap_or(NonZeroU64::MIN),
            batch: BatchConfig::default(),
            audit: None,
        }
    }
}

/// Builds a [`Keyring`] with non-default settings.
#[derive(Debug)]
pub struct KeyringBuilder {
    encryption_budget: NonZeroU64,
    batch: BatchConfig,
    audit: Option<Recorder>,
}

impl KeyringBuilder {
    /// Encryptions allowed per key version in this keyring instance (default
    /// [`DEFAULT_ENCRYPTION_BUDGET`]). Replicas holding the same key each count their own, so
    /// with `n` replicas give each `2^32 / n` (see `FORMAT.md`).
    #[must_use]
    pub fn encryption_budget(mut self, budget: NonZeroU64) -> Self {
        self.encryption_budget = budget;
        self
    }

    /// Runs this keyring's batches on a pool of its own with `threads` threads (0: one per
    /// core), started at the first batch. A batch runs on the calling thread and up to
    /// `threads - 1` pool threads, so `threads(1)` starts no thread and runs batches on the
    /// calling thread. By default batches share one process-wide pool with a thread per core.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] above [`MAX_THREADS`](crate::pool::MAX_THREADS): a pool that
    /// large is a mistake, and starting it would stall the caller long before it failed.
    pub fn threads(mut self, threads: usize) -> Result<Self> {
        if threads > crate::pool::MAX_THREADS {
            return Err(Error::InvalidInput("threads must be at most 1024"));
        }
        self.batch.pool = PoolSource::own(threads);
        Ok(self)
    }

    /// Runs this keyring's batches on `pool`, which may be shared with other keyrings or with
    /// the rest of the application. A batch runs on the calling thread and up to
    /// `pool.current_num_threads() - 1` of the pool's threads.
    #[must_use]
    pub fn thread_pool(mut self, pool: Arc<rayon::ThreadPool>) -> Self {
        self.batch.pool = PoolSource::Given(pool);
        self
    }

    /// The most items one batch call takes (default
    /// [`DEFAULT_MAX_BATCH_ITEMS`](crate::pool::DEFAULT_MAX_BATCH_ITEMS)); a larger batch
    /// fails as a whole with [`Error::LimitExceeded`], so that one call cannot exhaust memory.
    #[must_use]
    pub fn max_batch_items(mut self, max: usize) -> Self {
        self.batch.max_items = max;
        self
    }

    /// Records every operation of the keyring (see [`crate::audit`]). Starts the writer thread.
    ///
    /// # Errors
    /// [`Error::Internal`] if the writer thread cannot be started.
    pub fn audit(mut self, config: AuditConfig) -> Result<Self> {
        self.audit = Some(Recorder::start(config)?);
        Ok(self)
    }

    fn inner(self) -> Inner {
        // Before this keyring has a lock that a fork could catch held.
        fork::arm();
        // Lazily made on first use; made here, so no fork catches it half made.
        let _ = EncryptionContext::empty();
        Inner {
            id: NEXT_KEYRING_ID.fetch_add(1, Ordering::Relaxed),
            process: fork::generation(),
            generation: AtomicU64::new(0),
            keys: RwLock::new(HashMap::new()),
            aliases: RwLock::new(HashMap::new()),
            encryption_budget: self.encryption_budget.get(),
            batch: self.batch,
            persistence: None,
            import_root: OnceLock::new(),
            import_clock_ahead: AtomicU64::new(0),
            audit: self.audit,
        }
    }

    /// The keyring.
    ///
    /// # Panics
    /// In a FIPS build whose module is not in FIPS mode, where [`try_build`](Self::try_build)
    /// fails. (The module aborts the process itself when a power-on self-test fails; this is the
    /// second line.) Never in a non-FIPS build.
    #[must_use]
    pub fn build(self) -> Keyring {
        match self.try_build() {
            Ok(ring) => ring,
            Err(error) => panic!("{error}"),
        }
    }

    /// The keyring, refusing to exist on a FIPS module that is not in FIPS mode.
    ///
    /// # Errors
    /// [`Error::NotApproved`] in a FIPS build whose module is not in FIPS mode.
    pub fn try_build(self) -> Result<Keyring> {
        crate::fips::check_module()?;
        Ok(Keyring {
            inner: Arc::new(self.inner()),
            caller: None,
        })
    }

    /// A keyring on `store`: every key in it is loaded (records sealed under `root`), and every
    /// later change (create, import, rotate, state, policy, alias) is written to the store
    /// before the call that makes it returns. Keys whose records cannot be loaded are left out
    /// and named in the returned [`LoadProblem`]s; every other key loads.
    ///
    /// **Open the store after `fork()`, in the process that uses it.** In a child forked after
    /// the open, the keyring still reads and decrypts, but everything that would write to the
    /// store (creating, importing, rotating, state, alias and policy changes, and encryption,
    /// which spends from a count the store records) fails with [`Error::Storage`].
    ///
    /// # Errors
    /// [`Error::Storage`] when the store cannot be listed; [`Error::NotApproved`] as
    /// [`try_build`](Self::try_build).
    pub fn open(self, store: Store, root: Arc<dyn RootKey>) -> Result<(Keyring, Vec<LoadProblem>)> {
        let records = store.records()?;
        let ring = self.try_build()?;
        let mut problems = Vec::new();
        let mut repaired = Vec::new();
        for (path, bytes) in records {
            let loaded = bytes.and_then(|bytes| {
                let mut snapshot = seal::open_snapshot(&bytes, &*root)?;
                if !store.is_record_of(&path, &snapshot.id) {
                    return Err(Error::InvalidInput("record does not match its file name"));
                }
                // An alias a key loaded before already holds: an alias update stopped (by a
                // crash or a failed write) between writing its new target's record and its
                // old target's. Either key may keep it, as the update was never
                // acknowledged; the first claim stands, and the key keeps everything else.
                let claimed = snapshot.aliases.len();
                ring.drop_held_aliases(&mut snapshot);
                if snapshot.aliases.len() != claimed {
                    repaired.push(snapshot.id.clone());
                }
                ring.restore(snapshot).map(drop)
            });
            if let Err(error) = loaded {
                problems.push(LoadProblem { path, error });
            }
        }
        let mut inner = Arc::into_inner(ring.inner).ok_or(Error::Internal)?;
        inner.persistence = Some(Persistence {
            store,
            root,
            writing: Mutex::new(()),
        });
        let ring = Keyring {
            inner: Arc::new(inner),
            caller: None,
        };
        for id in repaired {
            // Rewrites the record without the dropped claim, so that it cannot come back if
            // the winner lets the alias go. If this fails, the next open settles it the
            // same way.
            let key = read(&ring.inner.keys).get(id.as_str()).cloned();
            if let Some(key) = key {
                let _ = ring.persist_key(&key);
            }
        }
        Ok((ring, problems))
    }
}

static NEXT_KEYRING_ID: AtomicU64 = AtomicU64::new(1);
