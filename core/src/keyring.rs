//! The keyring: named, versioned keys and every operation on them.

use core::fmt;
use core::num::NonZeroU64;
use core::ops::{Deref, DerefMut};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{
    Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use zeroize::Zeroizing;

use crate::aead::{self, NONCE_LEN};
use crate::audit::Operation;
use crate::audit::{self, AuditConfig, KeyLastUsage, Recorder};
use crate::batch::{BatchConfig, PoolSource};
use crate::context::EncryptionContext;
use crate::datakey::{DataKey, DataKeySpec, MAX_RANDOM_BYTES};
use crate::envelope::{self, MAX_KEY_ID_LEN};
use crate::error::{Error, Result};
use crate::fork;
use crate::import::{self, ImportParameters};
use crate::lookup;
use crate::material::{self, Material};
use crate::seal::{self, RootKey};
use crate::spec::{
    EncryptionAlgorithm, KeySpec, KeyState, KeyUsage, MacAlgorithm, Origin, PendingWindow,
    RotationPeriod, SigningAlgorithm, WrappingAlgorithm, WrappingKeySpec,
};
use crate::store::{LoadProblem, Store};
use crate::versions::{Version, VersionTable};

/// Encryptions allowed per key version per keyring instance before the key rotates (or refuses):
/// 2^32, where the probability that two random 96-bit nonces collide stays below 2^-32.
pub const DEFAULT_ENCRYPTION_BUDGET: u64 = 1 << 32;

/// The prefix that marks an alias wherever a key id is accepted.
pub const ALIAS_PREFIX: &str = "alias/";

/// A sealed record stores each alias with a one-byte length.
const MAX_ALIAS_LEN: usize = 255;

/// Options for [`Keyring::create_key`].
#[derive(Debug, Clone)]
pub struct CreateKey {
    spec: KeySpec,
    usage: Option<KeyUsage>,
    key_id: Option<String>,
    description: String,
    alias: Option<String>,
    rotation_period: Option<RotationPeriod>,
    rotate_on_budget: bool,
    origin: Origin,
}

impl CreateKey {
    /// A key of `spec` with a generated id, the spec's default usage, no alias and no rotation
    /// period; it rotates by itself when a version's encryption budget is spent.
    #[must_use]
    pub fn new(spec: KeySpec) -> Self {
        Self {
            spec,
            usage: None,
            key_id: None,
            description: String::new(),
            alias: None,
            rotation_period: None,
            rotate_on_budget: true,
            origin: Origin::Keyplane,
        }
    }

    /// Where the material comes from: [`Origin::Keyplane`] (generated now, the default) or
    /// [`Origin::External`]: the key starts in `PendingImport` with no material until
    /// [`Keyring::import_key_material`] installs the caller's. Imported keys do not rotate.
    #[must_use]
    pub fn origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    /// Use this key id instead of a generated one: 1 to 255 bytes of ASCII letters, digits and
    /// `-_.:/`, not starting with `alias/`.
    #[must_use]
    pub fn key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// The key usage (required for RSA keys, which can encrypt or sign).
    #[must_use]
    pub fn usage(mut self, usage: KeyUsage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// A free-text description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Create an alias (`alias/...`) for the new key at the same time.
    #[must_use]
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(alias.into());
        self
    }

    /// Rotate automatically with this period.
    #[must_use]
    pub fn rotation_period(mut self, period: RotationPeriod) -> Self {
        self.rotation_period = Some(period);
        self
    }

    /// What happens when the current version's encryption budget is spent: rotate (`true`, the
    /// default) or refuse with [`Error::LimitExceeded`] (`false`).
    #[must_use]
    pub fn rotate_on_budget(mut self, rotate: bool) -> Self {
        self.rotate_on_budget = rotate;
        self
    }
}

/// What [`Keyring::describe_key`] reports about a key.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMetadata {
    /// The key id.
    pub key_id: String,
    /// The key spec.
    pub key_spec: KeySpec,
    /// The key usage.
    pub key_usage: KeyUsage,
    /// The key state.
    pub key_state: KeyState,
    /// Where the key material came from.
    pub origin: Origin,
    /// When the key was created.
    pub creation_date: SystemTime,
    /// The description given at creation.
    pub description: String,
    /// When a key pending deletion will be deleted.
    pub deletion_date: Option<SystemTime>,
    /// The encryption algorithms the key supports.
    pub encryption_algorithms: Vec<EncryptionAlgorithm>,
    /// The signing algorithms the key supports.
    pub signing_algorithms: Vec<SigningAlgorithm>,
    /// The MAC algorithms the key supports.
    pub mac_algorithms: Vec<MacAlgorithm>,
    /// Aliases that point at the key, sorted.
    pub aliases: Vec<String>,
    /// The automatic rotation period, if any.
    pub rotation_period: Option<RotationPeriod>,
    /// When the key next rotates by itself (on its first use after this time).
    pub next_rotation_date: Option<SystemTime>,
    /// The version new encryptions use.
    pub current_version: u32,
    /// Blobs of older versions are refused with [`Error::VersionRetired`].
    pub min_decryption_version: u32,
    /// Whether the key rotates (rather than refuses) when a version's encryption budget is spent.
    pub rotate_on_budget: bool,
    /// Every version, oldest first.
    pub versions: Vec<KeyVersionInfo>,
    /// For imported material that expires: when it does (the key then returns to
    /// `PendingImport`).
    pub valid_to: Option<SystemTime>,
}

/// One version of a key.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVersionInfo {
    /// The version number, from 1.
    pub version: u32,
    /// When the version was created.
    pub creation_date: SystemTime,
    /// How many encryptions (nonces) this keyring instance has made under this version.
    pub encryptions: u64,
}

/// An alias and the key it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasEntry {
    /// The alias, `alias/...`.
    pub alias_name: String,
    /// The key id it resolves to.
    pub target_key_id: String,
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
    /// [`Error::InvalidInput`] above [`MAX_THREADS`](crate::batch::MAX_THREADS): a pool that
    /// large is a mistake, and starting it would stall the caller long before it failed.
    pub fn threads(mut self, threads: usize) -> Result<Self> {
        if threads > crate::batch::MAX_THREADS {
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
    /// [`DEFAULT_MAX_BATCH_ITEMS`](crate::batch::DEFAULT_MAX_BATCH_ITEMS)); a larger batch
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
    #[must_use]
    pub fn build(self) -> Keyring {
        Keyring {
            inner: Arc::new(self.inner()),
            caller: None,
        }
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
    /// [`Error::Storage`] when the store cannot be listed.
    pub fn open(self, store: Store, root: Arc<dyn RootKey>) -> Result<(Keyring, Vec<LoadProblem>)> {
        let records = store.records()?;
        let ring = Keyring {
            inner: Arc::new(self.inner()),
            caller: None,
        };
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

/// A store-backed keyring's store and root key.
struct Persistence {
    store: Store,
    root: Arc<dyn RootKey>,
    /// Serializes record writes, so an older state of a key never lands after a newer one.
    /// Lock order: a key's `mutable`, then this, then the maps.
    writing: Mutex<()>,
}

/// What a store-backed keyring made before a `fork()` answers, in the child, to anything that
/// would write to the store: parent and children would each rewrite whole records (the last
/// writer wins), could create different material for the same new version, and would each
/// count encryptions from the same stored number.
const FORKED_STORE: Error = Error::Storage(
    "this store-backed keyring was opened before fork(): in a forked child it only reads and \
     decrypts; open the store after forking to write to it or encrypt",
);

/// A store-backed keyring writes again before acknowledging an encryption counted above what
/// the store holds (the first one after each open, then one per 2^20), reserving this many
/// beyond the count: a restart never resumes below the true count.
const COUNT_RESERVATION: u64 = 1 << 20;

/// The count a record stores for a version that has counted `count` encryptions, `reserved`
/// being what the store already holds for it. A count the store covers keeps its reservation
/// as it is: rounding it up again would add a whole reservation at every rewrite of the
/// record (each management change, in every process that opened the store), spending the
/// budget without a single encryption. Only a count above the reservation reserves anew.
fn stored_count(count: u64, reserved: &AtomicU64) -> u64 {
    let reserved = reserved.load(Ordering::Acquire);
    if count <= reserved {
        return reserved;
    }
    (count / COUNT_RESERVATION)
        .saturating_add(1)
        .saturating_mul(COUNT_RESERVATION)
}

static NEXT_KEYRING_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) struct Key {
    pub(crate) id: Box<str>,
    pub(crate) spec: KeySpec,
    pub(crate) usage: KeyUsage,
    origin: Origin,
    creation_date: SystemTime,
    description: String,
    /// Mirrors `Mutable::state` for lock-free checks; written only under the write lock.
    state: AtomicU8,
    /// Unix nanoseconds of the next due rotation; 0 when the key has no rotation period.
    next_rotation: AtomicU64,
    /// Blobs of older versions are refused after they authenticate.
    min_decryption_version: AtomicU32,
    /// Rotate (rather than refuse) when the current version's budget is spent.
    rotate_on_budget: AtomicBool,
    /// Unix nanoseconds when imported material expires; 0 when it does not. Mirrors
    /// `Mutable::valid_to` for a lock-free check on every look-up.
    valid_to: AtomicU64,
    /// Read without locks; pushed to under `mutable`'s write lock.
    pub(crate) versions: VersionTable,
    /// Everything changed by management calls; the hot path never takes this lock.
    mutable: RwLock<Mutable>,
}

/// Makes a key's next state durable before it takes effect: given the key, its management state
/// and (for a rotation) the version about to be published.
type Durable<'a> = &'a dyn Fn(&Key, &Mutable, &Version) -> Result<()>;

#[derive(Clone)]
struct Mutable {
    state: KeyState,
    rotation_period: Option<RotationPeriod>,
    deletion_date: Option<SystemTime>,
    /// Fingerprint of the material imported into an `EXTERNAL` key: only that material may
    /// be imported again.
    imported: Option<[u8; 32]>,
    /// When imported material expires.
    valid_to: Option<SystemTime>,
}

/// A lock guard taken inside the fork gate ([`crate::fork::pass`]): no `fork()` copies the
/// process while it is held, so a child never finds the lock held by a thread it does not have.
struct Gated<G> {
    // Declared first, so released before the pass.
    guard: G,
    _pass: fork::Pass,
}

impl<G: Deref> Deref for Gated<G> {
    type Target = G::Target;
    fn deref(&self) -> &Self::Target {
        &self.guard
    }
}

impl<G: DerefMut> DerefMut for Gated<G> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.guard
    }
}

fn read<T>(lock: &RwLock<T>) -> Gated<RwLockReadGuard<'_, T>> {
    let pass = fork::pass();
    Gated {
        guard: lock.read().unwrap_or_else(PoisonError::into_inner),
        _pass: pass,
    }
}

fn write<T>(lock: &RwLock<T>) -> Gated<RwLockWriteGuard<'_, T>> {
    let pass = fork::pass();
    Gated {
        guard: lock.write().unwrap_or_else(PoisonError::into_inner),
        _pass: pass,
    }
}

fn lock<T>(lock: &Mutex<T>) -> Gated<MutexGuard<'_, T>> {
    let pass = fork::pass();
    Gated {
        guard: lock.lock().unwrap_or_else(PoisonError::into_inner),
        _pass: pass,
    }
}

fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn state_code(state: KeyState) -> u8 {
    match state {
        KeyState::Enabled => 0,
        KeyState::Disabled => 1,
        KeyState::PendingDeletion => 2,
        KeyState::PendingImport => 3,
    }
}

fn validate_key_id(id: &str) -> Result<()> {
    let ok_char = |b: u8| b.is_ascii_alphanumeric() || b"-_.:/".contains(&b);
    if id.is_empty() || id.len() > MAX_KEY_ID_LEN || !id.bytes().all(ok_char) {
        return Err(Error::InvalidInput(
            "key id must be 1 to 255 ASCII letters, digits or -_.:/",
        ));
    }
    if id.starts_with(ALIAS_PREFIX) {
        return Err(Error::InvalidInput("key id must not start with alias/"));
    }
    Ok(())
}

fn validate_alias(alias: &str) -> Result<()> {
    let name = alias
        .strip_prefix(ALIAS_PREFIX)
        .ok_or(Error::InvalidInput("alias must start with alias/"))?;
    let ok_char = |b: u8| b.is_ascii_alphanumeric() || b"-_/".contains(&b);
    if name.is_empty() || alias.len() > MAX_ALIAS_LEN || !name.bytes().all(ok_char) {
        return Err(Error::InvalidInput(
            "alias must be alias/ followed by up to 249 ASCII letters, digits or -_/",
        ));
    }
    Ok(())
}

/// A random UUID v4, as AWS KMS key ids are.
fn generate_key_id() -> Result<String> {
    let mut b = [0u8; 16];
    crate::fork::fill(&mut b).map_err(|_| Error::Internal)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = |r: core::ops::Range<usize>| -> String {
        b[r].iter().map(|x| format!("{x:02x}")).collect()
    };
    Ok(format!(
        "{}-{}-{}-{}-{}",
        h(0..4),
        h(4..6),
        h(6..8),
        h(8..10),
        h(10..16)
    ))
}

impl Key {
    fn state(&self) -> KeyState {
        match self.state.load(Ordering::Acquire) {
            0 => KeyState::Enabled,
            1 => KeyState::Disabled,
            2 => KeyState::PendingDeletion,
            _ => KeyState::PendingImport,
        }
    }

    fn set_state(&self, m: &mut Mutable, state: KeyState) {
        m.state = state;
        self.state.store(state_code(state), Ordering::Release);
    }

    /// The blob length for `plaintext_len` bytes under this key.
    fn ciphertext_len(&self, plaintext_len: usize) -> Result<usize> {
        envelope::ciphertext_len(self.id.len(), plaintext_len)
            .ok_or(Error::LimitExceeded("plaintext too large"))
    }

    /// Checks that this key may perform a symmetric encryption operation now.
    pub(crate) fn require_symmetric(&self) -> Result<()> {
        if self.spec != KeySpec::SymmetricDefault {
            return Err(Error::InvalidKeyUsage);
        }
        self.require(KeyUsage::EncryptDecrypt)
    }

    /// Checks that this key has `usage` and is usable now.
    pub(crate) fn require(&self, usage: KeyUsage) -> Result<()> {
        if self.usage != usage {
            return Err(Error::InvalidKeyUsage);
        }
        match self.state() {
            KeyState::Enabled => Ok(()),
            KeyState::Disabled => Err(Error::KeyDisabled),
            KeyState::PendingDeletion | KeyState::PendingImport => Err(Error::InvalidKeyState),
        }
    }

    /// Adds a version made from `material`. `durable` runs with the version built but not yet
    /// visible (a store-backed keyring writes it down there); if it fails, nothing changes.
    fn push_version(&self, m: &mut Mutable, material: &[u8], durable: Durable<'_>) -> Result<u32> {
        let number = self
            .versions
            .next_number()
            .ok_or(Error::LimitExceeded("too many key versions"))?;
        let material = Material::from_bytes(self.spec, self.usage, material, &self.id, number)?;
        let version = Version::new(number, material);
        durable(self, m, &version)?;
        let created = version.creation_date;
        if !self.versions.push(version) {
            return Err(Error::Internal);
        }
        self.schedule_rotation(m, created);
        Ok(number)
    }

    fn schedule_rotation(&self, m: &Mutable, from: SystemTime) {
        // A period too long to represent is never due.
        let next = m.rotation_period.map_or(0, |p| {
            from.checked_add(p.as_duration())
                .map_or(u64::MAX, unix_nanos)
                .max(1)
        });
        self.next_rotation.store(next, Ordering::Release);
    }

    /// The version to encrypt under, with between 1 and `want` encryptions reserved against
    /// the budget: the count before them and how many. New versions made here (a rotation that
    /// fell due) pass through `durable` first.
    fn version_for_encrypt(
        &self,
        budget: u64,
        want: u64,
        durable: Durable<'_>,
    ) -> Result<(&Version, u64, u64)> {
        let due = self.next_rotation.load(Ordering::Acquire);
        if due != 0 && unix_nanos(SystemTime::now()) >= due {
            let mut m = write(&self.mutable);
            // Another thread may have rotated while we waited for the lock.
            let due = self.next_rotation.load(Ordering::Acquire);
            if due != 0 && unix_nanos(SystemTime::now()) >= due {
                self.push_version(&mut m, &material::generate_bytes(self.spec)?, durable)?;
            }
        }
        loop {
            let version = self.versions.current().ok_or(Error::InvalidKeyState)?;
            let reserved =
                version
                    .encryptions
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                        (n < budget).then(|| n + want.clamp(1, budget - n))
                    });
            if let Ok(before) = reserved {
                return Ok((version, before, want.clamp(1, budget - before)));
            }
            if !self.rotate_on_budget.load(Ordering::Acquire) {
                return Err(Error::LimitExceeded(
                    "key version's encryption budget is spent and rotate-on-budget is off",
                ));
            }
            let mut m = write(&self.mutable);
            // Rotate once, however many threads found the budget spent.
            if self.versions.current_number() == version.number {
                self.push_version(&mut m, &material::generate_bytes(self.spec)?, durable)?;
            }
        }
    }

    fn metadata(&self, aliases: Vec<String>) -> KeyMetadata {
        let m = read(&self.mutable);
        KeyMetadata {
            key_id: self.id.to_string(),
            key_spec: self.spec,
            key_usage: self.usage,
            key_state: m.state,
            origin: self.origin,
            creation_date: self.creation_date,
            description: self.description.clone(),
            deletion_date: m.deletion_date,
            encryption_algorithms: self.spec.encryption_algorithms(self.usage).to_vec(),
            signing_algorithms: if self.usage == KeyUsage::SignVerify {
                self.spec.signing_algorithms().to_vec()
            } else {
                Vec::new()
            },
            mac_algorithms: self.spec.mac_algorithm().into_iter().collect(),
            aliases,
            rotation_period: m.rotation_period,
            next_rotation_date: match self.next_rotation.load(Ordering::Acquire) {
                0 => None,
                n => Some(UNIX_EPOCH + Duration::from_nanos(n)),
            },
            current_version: self.versions.current_number(),
            min_decryption_version: self.min_decryption_version.load(Ordering::Acquire),
            rotate_on_budget: self.rotate_on_budget.load(Ordering::Acquire),
            versions: self
                .versions
                .iter()
                .map(|v| KeyVersionInfo {
                    version: v.number,
                    creation_date: v.creation_date,
                    encryptions: v.encryptions.load(Ordering::Acquire),
                })
                .collect(),
            valid_to: m.valid_to,
        }
    }
}

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

    // ----- key management -------------------------------------------------------------------

    /// Creates a key and returns its metadata.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a malformed key id or alias, [`Error::AlreadyExists`] when
    /// the id or alias is taken, [`Error::InvalidKeyUsage`] for a usage the spec does not allow,
    /// [`Error::InvalidInput`] for a rotation period on a key that does not rotate.
    ///
    /// Key generation (seconds for RSA-4096) runs before any lock is taken, so it delays no other
    /// operation on the keyring.
    pub fn create_key(&self, options: &CreateKey) -> Result<KeyMetadata> {
        self.audited(
            Operation::CreateKey,
            options.key_id.as_deref(),
            None,
            || {
                // Refuse a bad request before paying for key generation.
                self.validate_create(options)?;
                if options.origin == Origin::External {
                    return self.create_key_with_material(options, Origin::External, &[]);
                }
                let material = material::generate_bytes(options.spec)?;
                self.create_key_with_material(options, Origin::Keyplane, &[material])
            },
        )
    }

    /// Checks everything about a creation request that does not need the key material; returns
    /// the key usage and the key id to use.
    fn validate_create(&self, options: &CreateKey) -> Result<(KeyUsage, String)> {
        let usage = match options.usage {
            Some(u) if options.spec.allowed_usages().contains(&u) => u,
            Some(_) => return Err(Error::InvalidKeyUsage),
            None => options.spec.default_usage().ok_or(Error::InvalidInput(
                "this key spec needs an explicit key usage",
            ))?,
        };
        if usage == KeyUsage::KeyAgreement {
            // No key-agreement operation exists yet; a key that can do nothing is refused.
            return Err(Error::UnsupportedAlgorithm);
        }
        if options.origin == Origin::External && options.rotation_period.is_some() {
            return Err(Error::InvalidInput("imported keys do not rotate"));
        }
        if options.spec != KeySpec::SymmetricDefault && options.rotation_period.is_some() {
            return Err(Error::InvalidInput(
                "only SYMMETRIC_DEFAULT keys rotate automatically",
            ));
        }
        let id = match &options.key_id {
            Some(id) => {
                validate_key_id(id)?;
                id.clone()
            }
            None => generate_key_id()?,
        };
        if let Some(alias) = &options.alias {
            validate_alias(alias)?;
        }
        Ok((usage, id))
    }

    fn create_key_with_material(
        &self,
        options: &CreateKey,
        origin: Origin,
        versions: &[Zeroizing<Vec<u8>>],
    ) -> Result<KeyMetadata> {
        let (usage, id) = self.validate_create(options)?;
        audit::note(&id, 0);
        self.sweep_expired();
        let initial = if versions.is_empty() {
            KeyState::PendingImport
        } else {
            KeyState::Enabled
        };
        let key = Arc::new(Key {
            id: id.clone().into_boxed_str(),
            spec: options.spec,
            usage,
            origin,
            creation_date: SystemTime::now(),
            description: options.description.clone(),
            state: AtomicU8::new(state_code(initial)),
            next_rotation: AtomicU64::new(0),
            min_decryption_version: AtomicU32::new(1),
            // Imported material cannot be replaced by generated material.
            rotate_on_budget: AtomicBool::new(
                options.rotate_on_budget && origin == Origin::Keyplane,
            ),
            valid_to: AtomicU64::new(0),
            versions: VersionTable::new(),
            mutable: RwLock::new(Mutable {
                state: initial,
                rotation_period: options.rotation_period,
                deletion_date: None,
                // Material given at creation is imported material: only it may come back.
                imported: versions
                    .first()
                    .filter(|_| origin == Origin::External)
                    .map(|m| import::fingerprint(&id, m)),
                valid_to: None,
            }),
        });
        {
            let mut m = write(&key.mutable);
            for material in versions {
                // Not yet visible to anyone: written down below, once it is in the keyring.
                key.push_version(&mut m, material, &|_, _, _| Ok(()))?;
            }
        }
        let mut aliases = write(&self.inner.aliases);
        let mut keys = write(&self.inner.keys);
        if keys.contains_key(id.as_str()) {
            return Err(Error::AlreadyExists);
        }
        if let Some(alias) = &options.alias {
            if aliases.contains_key(alias.as_str()) {
                return Err(Error::AlreadyExists);
            }
            aliases.insert(alias.clone().into_boxed_str(), id.clone().into_boxed_str());
        }
        keys.insert(id.into_boxed_str(), Arc::clone(&key));
        drop(keys);
        drop(aliases);
        self.persist_new(&key)?;
        Ok(key.metadata(options.alias.iter().cloned().collect()))
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
        let expires = key.valid_to.load(Ordering::Acquire);
        if expires != 0 && unix_nanos(SystemTime::now()) >= expires {
            return self.expire_material(&key);
        }
        Ok(key)
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

    /// The key's metadata.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub fn describe_key(&self, key_id: &str) -> Result<KeyMetadata> {
        self.audited(Operation::DescribeKey, Some(key_id), None, || {
            let key = self.resolve(key_id)?;
            Ok(key.metadata(self.aliases_of(&key.id)))
        })
    }

    /// Every key id, sorted.
    #[must_use]
    pub fn list_keys(&self) -> Vec<String> {
        self.sweep_expired();
        let mut ids: Vec<String> = read(&self.inner.keys)
            .keys()
            .map(ToString::to_string)
            .collect();
        ids.sort_unstable();
        ids
    }

    fn transition(
        &self,
        key_id: &str,
        f: impl FnOnce(&Key, &mut Mutable) -> Result<()>,
    ) -> Result<()> {
        let key = self.resolve(key_id)?;
        self.change(&key, f)
    }

    /// Applies `f` to `key`'s management state and, in a store-backed keyring, writes the result
    /// down before returning; if that fails, the key is put back as it was.
    fn change(&self, key: &Key, f: impl FnOnce(&Key, &mut Mutable) -> Result<()>) -> Result<()> {
        let mut m = write(&key.mutable);
        let before = (
            m.clone(),
            key.state.load(Ordering::Acquire),
            key.next_rotation.load(Ordering::Acquire),
            key.min_decryption_version.load(Ordering::Acquire),
            key.rotate_on_budget.load(Ordering::Acquire),
        );
        f(key, &mut m)?;
        if let Err(e) = self.persist_locked(key, &m, None) {
            *m = before.0;
            key.state.store(before.1, Ordering::Release);
            key.next_rotation.store(before.2, Ordering::Release);
            key.min_decryption_version
                .store(before.3, Ordering::Release);
            key.rotate_on_budget.store(before.4, Ordering::Release);
            return Err(e);
        }
        Ok(())
    }

    /// Enables a disabled key.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidKeyState`] when pending deletion or import.
    pub fn enable_key(&self, key_id: &str) -> Result<()> {
        self.audited(Operation::EnableKey, Some(key_id), None, || {
            self.transition(key_id, |key, m| match m.state {
                KeyState::Enabled | KeyState::Disabled => {
                    key.set_state(m, KeyState::Enabled);
                    Ok(())
                }
                KeyState::PendingDeletion | KeyState::PendingImport => Err(Error::InvalidKeyState),
            })
        })
    }

    /// Disables a key: every operation with it fails with [`Error::KeyDisabled`] until enabled.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidKeyState`] when pending deletion or import.
    pub fn disable_key(&self, key_id: &str) -> Result<()> {
        self.audited(Operation::DisableKey, Some(key_id), None, || {
            self.transition(key_id, |key, m| match m.state {
                KeyState::Enabled | KeyState::Disabled => {
                    key.set_state(m, KeyState::Disabled);
                    Ok(())
                }
                KeyState::PendingDeletion | KeyState::PendingImport => Err(Error::InvalidKeyState),
            })
        })
    }

    /// Schedules deletion after `window`; returns the deletion date. Until then the key is
    /// unusable and [`cancel_key_deletion`](Self::cancel_key_deletion) can save it; after it, the
    /// key and its aliases are gone at the next look-up.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidKeyState`] when already pending deletion.
    pub fn schedule_key_deletion(&self, key_id: &str, window: PendingWindow) -> Result<SystemTime> {
        self.audited(Operation::ScheduleKeyDeletion, Some(key_id), None, || {
            let date = SystemTime::now()
                .checked_add(window.as_duration())
                .ok_or(Error::InvalidInput("pending window too long"))?;
            self.transition(key_id, |key, m| {
                if m.state == KeyState::PendingDeletion {
                    return Err(Error::InvalidKeyState);
                }
                m.deletion_date = Some(date);
                key.set_state(m, KeyState::PendingDeletion);
                Ok(())
            })?;
            Ok(date)
        })
    }

    /// Cancels a scheduled deletion. As in AWS KMS, the key comes back **disabled**, or, for an
    /// imported key without material, `PendingImport`.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidKeyState`] when not pending deletion.
    pub fn cancel_key_deletion(&self, key_id: &str) -> Result<()> {
        self.audited(Operation::CancelKeyDeletion, Some(key_id), None, || {
            self.transition(key_id, |key, m| {
                if m.state != KeyState::PendingDeletion {
                    return Err(Error::InvalidKeyState);
                }
                m.deletion_date = None;
                // A disabled key with no version could never be enabled, nor take material.
                let state = if key.versions.current().is_none() {
                    KeyState::PendingImport
                } else {
                    KeyState::Disabled
                };
                key.set_state(m, state);
                Ok(())
            })
        })
    }

    /// Creates `alias` (`alias/...`) pointing at `key_id` (which may itself be an alias).
    ///
    /// # Errors
    /// [`Error::InvalidInput`], [`Error::AlreadyExists`], [`Error::NotFound`].
    pub fn create_alias(&self, alias: &str, key_id: &str) -> Result<()> {
        self.audited(Operation::CreateAlias, Some(key_id), None, || {
            validate_alias(alias)?;
            self.sweep_expired();
            let key = self.resolve(key_id)?;
            {
                let mut aliases = write(&self.inner.aliases);
                if aliases.contains_key(alias) {
                    return Err(Error::AlreadyExists);
                }
                aliases.insert(alias.into(), key.id.clone());
                self.bump_generation();
            }
            self.persist_key(&key).inspect_err(|_| {
                write(&self.inner.aliases).remove(alias);
                self.bump_generation();
            })
        })
    }

    /// Points an existing alias at another key.
    ///
    /// # Errors
    /// [`Error::InvalidInput`], [`Error::NotFound`] (alias or key).
    pub fn update_alias(&self, alias: &str, key_id: &str) -> Result<()> {
        self.audited(Operation::UpdateAlias, Some(key_id), None, || {
            validate_alias(alias)?;
            let key = self.resolve(key_id)?;
            let previous = {
                let mut aliases = write(&self.inner.aliases);
                let target = aliases.get_mut(alias).ok_or(Error::NotFound)?;
                let previous = core::mem::replace(target, key.id.clone());
                self.bump_generation();
                previous
            };
            let old_key = read(&self.inner.keys)
                .get(&previous)
                .filter(|old| !Arc::ptr_eq(old, &key))
                .cloned();
            let undo = || {
                if let Some(target) = write(&self.inner.aliases).get_mut(alias) {
                    *target = previous.clone();
                }
                self.bump_generation();
            };
            // The new target's record first: stopped before the old target's record follows,
            // the store has two records claiming the alias, which a load settles (one keeps
            // it). The other order would leave none, losing the alias.
            self.persist_key(&key).inspect_err(|_| undo())?;
            if let Some(old) = old_key.as_deref()
                && let Err(e) = self.persist_key(old)
            {
                undo();
                // Takes the claim back out of the new target's record; should that fail too,
                // the next load settles the double claim.
                let _ = self.persist_key(&key);
                return Err(e);
            }
            Ok(())
        })
    }

    /// Deletes an alias (the key is untouched).
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub fn delete_alias(&self, alias: &str) -> Result<()> {
        self.audited(Operation::DeleteAlias, Some(alias), None, || {
            let target = write(&self.inner.aliases)
                .remove(alias)
                .ok_or(Error::NotFound)?;
            self.bump_generation();
            let key = read(&self.inner.keys).get(&target).cloned();
            key.as_deref()
                .map_or(Ok(()), |key| self.persist_key(key))
                .inspect_err(|_| {
                    write(&self.inner.aliases).insert(alias.into(), target.clone());
                    self.bump_generation();
                })
        })
    }

    /// Every alias, sorted by name.
    #[must_use]
    pub fn list_aliases(&self) -> Vec<AliasEntry> {
        self.sweep_expired();
        let mut v: Vec<AliasEntry> = read(&self.inner.aliases)
            .iter()
            .map(|(a, k)| AliasEntry {
                alias_name: a.to_string(),
                target_key_id: k.to_string(),
            })
            .collect();
        v.sort_unstable_by(|a, b| a.alias_name.cmp(&b.alias_name));
        v
    }

    // ----- rotation ---------------------------------------------------------------------------

    fn symmetric_for_admin(&self, key_id: &str) -> Result<Arc<Key>> {
        let key = self.resolve(key_id)?;
        if key.spec != KeySpec::SymmetricDefault {
            return Err(Error::UnsupportedAlgorithm);
        }
        Ok(key)
    }

    /// Adds a new version now; new encryptions use it, older versions keep decrypting.
    /// Returns the new version number.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::KeyDisabled`] / [`Error::InvalidKeyState`] unless enabled;
    /// [`Error::UnsupportedAlgorithm`] for keys that do not rotate.
    pub fn rotate_key(&self, key_id: &str) -> Result<u32> {
        self.audited(Operation::RotateKey, Some(key_id), None, || {
            let key = self.symmetric_for_admin(key_id)?;
            if key.origin == Origin::External {
                return Err(Error::UnsupportedAlgorithm);
            }
            key.require_symmetric()?;
            let material = material::generate_bytes(key.spec)?;
            let mut m = write(&key.mutable);
            key.push_version(&mut m, &material, &|key, m, v| {
                self.persist_locked(key, m, Some(v))
            })
        })
    }

    /// Turns on automatic rotation with `period`, counted from the current version's creation.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::UnsupportedAlgorithm`] for keys that do not rotate.
    pub fn enable_key_rotation(&self, key_id: &str, period: RotationPeriod) -> Result<()> {
        self.audited(Operation::EnableKeyRotation, Some(key_id), None, || {
            let key = self.symmetric_for_admin(key_id)?;
            if key.origin == Origin::External {
                return Err(Error::UnsupportedAlgorithm);
            }
            self.change(&key, |key, m| {
                m.rotation_period = Some(period);
                let from = key
                    .versions
                    .current()
                    .map_or_else(SystemTime::now, |v| v.creation_date);
                key.schedule_rotation(m, from);
                Ok(())
            })
        })
    }

    /// Turns off automatic (periodic) rotation.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::UnsupportedAlgorithm`] for keys that do not rotate.
    pub fn disable_key_rotation(&self, key_id: &str) -> Result<()> {
        self.audited(Operation::DisableKeyRotation, Some(key_id), None, || {
            let key = self.symmetric_for_admin(key_id)?;
            self.change(&key, |key, m| {
                m.rotation_period = None;
                key.schedule_rotation(m, SystemTime::now());
                Ok(())
            })
        })
    }

    /// Whether the key rotates (`true`) or refuses further encryptions (`false`) once a version's
    /// encryption budget is spent.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::UnsupportedAlgorithm`] for keys that do not rotate, and
    /// for turning it on for an imported (`EXTERNAL`) key, whose versions can only be the
    /// material imported into it.
    pub fn set_rotate_on_budget(&self, key_id: &str, rotate: bool) -> Result<()> {
        self.audited(Operation::SetRotateOnBudget, Some(key_id), None, || {
            let key = self.symmetric_for_admin(key_id)?;
            if rotate && key.origin == Origin::External {
                return Err(Error::UnsupportedAlgorithm);
            }
            self.change(&key, |key, _| {
                key.rotate_on_budget.store(rotate, Ordering::Release);
                Ok(())
            })
        })
    }

    /// Refuses blobs made under versions older than `version` ([`Error::VersionRetired`]).
    /// Lowering it again re-admits them: versions are never destroyed.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidInput`] unless `1 <= version <= current`.
    pub fn set_min_decryption_version(&self, key_id: &str, version: u32) -> Result<()> {
        self.audited(
            Operation::SetMinDecryptionVersion,
            Some(key_id),
            None,
            || {
                let key = self.symmetric_for_admin(key_id)?;
                if version == 0 || version > key.versions.current_number() {
                    return Err(Error::InvalidInput(
                        "minimum decryption version must be between 1 and the current version",
                    ));
                }
                self.change(&key, |key, _| {
                    key.min_decryption_version.store(version, Ordering::Release);
                    Ok(())
                })
            },
        )
    }

    // ----- symmetric operations ---------------------------------------------------------------

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
        let nonce = aead::random_nonce()?;
        seal(&key.id, version, nonce, plaintext, context, out).inspect_err(|_| out.fill(0))?;
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

    /// Whether this process is a `fork()` of the one that made the keyring. A store-backed
    /// keyring then refuses everything that writes to the store or spends from a budget
    /// recorded there ([`FORKED_STORE`]); reads and decryption go on.
    fn forked(&self) -> bool {
        self.inner.process != fork::generation()
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
        let nonce = aead::random_nonce()?;
        seal(&key.id, version, nonce, plaintext, context, out).inspect_err(|_| out.fill(0))?;
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
            return envelope::with_aad(parsed.header, context, |aad| {
                aead::decoy_open(parsed.nonce, aad, parsed.ciphertext, parsed.tag, out)
            })
            .and(Err(Error::InvalidCiphertext));
        };
        audit::note(&key.id, version.number);
        envelope::with_aad(parsed.header, context, |aad| {
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

/// Writes header, ciphertext and tag into `out` (exactly the blob's length).
fn seal(
    key_id: &str,
    version: &Version,
    nonce: [u8; NONCE_LEN],
    plaintext: &[u8],
    context: &EncryptionContext,
    out: &mut [u8],
) -> Result<()> {
    let header_len = envelope::write_header(out, key_id, version.number, &nonce)?;
    let (header, body) = out.split_at_mut(header_len);
    let (ciphertext, tag) = body.split_at_mut(plaintext.len());
    envelope::with_aad(header, context, |aad| {
        version
            .aead()
            .ok_or(Error::InvalidKeyUsage)?
            .seal(nonce, aad, plaintext, ciphertext, tag)
    })
}

/// Hooks for generating and checking known-answer vectors. **Insecure**: a caller-chosen nonce
/// repeated under one key reveals plaintext, and caller-chosen root material is not secret.
#[cfg(feature = "insecure-test-hooks")]
impl Keyring {
    /// Creates a symmetric key whose versions 1, 2, … have exactly these root materials, as
    /// if Keyplane had generated and rotated it (origin `KEYPLANE`: an imported key has one
    /// version).
    ///
    /// # Errors
    /// As [`create_key`](Self::create_key).
    pub fn insecure_create_key_with_material(
        &self,
        key_id: &str,
        roots: &[[u8; crate::aead::KEY_LEN]],
    ) -> Result<KeyMetadata> {
        let roots: Vec<_> = roots.iter().map(|r| Zeroizing::new(r.to_vec())).collect();
        self.create_key_with_material(
            &CreateKey::new(KeySpec::SymmetricDefault).key_id(key_id),
            Origin::Keyplane,
            &roots,
        )
    }

    /// Creates a key of any spec from caller-chosen material: 32 bytes of root material
    /// (`SYMMETRIC_DEFAULT`), the HMAC secret (`HMAC_*`) or a PKCS#8 private key. The key is
    /// an imported one (origin `EXTERNAL`), as if the material had been imported.
    ///
    /// # Errors
    /// As [`create_key`](Self::create_key); [`Error::InvalidInput`] for material that does not
    /// fit the spec.
    pub fn insecure_import_key_material(
        &self,
        key_id: &str,
        spec: KeySpec,
        usage: KeyUsage,
        material: &[u8],
    ) -> Result<KeyMetadata> {
        self.create_key_with_material(
            &CreateKey::new(spec).key_id(key_id).usage(usage),
            Origin::External,
            &[Zeroizing::new(material.to_vec())],
        )
    }

    /// Moves the clock import tokens' expiry is checked against `by` into the future, so
    /// tests can see expired tokens refused without waiting 24 hours.
    pub fn insecure_age_import_parameters(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.inner
            .import_clock_ahead
            .fetch_add(nanos, Ordering::Relaxed);
    }

    /// Encrypts under a chosen version with a chosen nonce.
    ///
    /// # Errors
    /// As [`encrypt`](Self::encrypt); [`Error::NotFound`] for an unknown version.
    pub fn insecure_encrypt_with_nonce(
        &self,
        key_id: &str,
        version: u32,
        nonce: [u8; NONCE_LEN],
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        let key = self.resolve(key_id)?;
        key.require_symmetric()?;
        let v = key.versions.get(version).ok_or(Error::NotFound)?;
        let mut out = vec![0; self.ciphertext_len(key_id, plaintext.len())?];
        seal(&key.id, v, nonce, plaintext, context, &mut out)?;
        Ok(out)
    }
}

// ----- snapshots, for sealed export and import ----------------------------------------------

/// Everything that defines a key: what a sealed record carries (see [`crate::seal`]).
pub(crate) struct KeySnapshot {
    pub(crate) id: String,
    pub(crate) spec: KeySpec,
    pub(crate) usage: KeyUsage,
    pub(crate) origin: Origin,
    pub(crate) creation_date: SystemTime,
    pub(crate) description: String,
    pub(crate) state: KeyState,
    pub(crate) deletion_date: Option<SystemTime>,
    pub(crate) rotation_period: Option<RotationPeriod>,
    /// Unix nanoseconds of the next due rotation; 0 for none.
    pub(crate) next_rotation: u64,
    pub(crate) min_decryption_version: u32,
    pub(crate) rotate_on_budget: bool,
    pub(crate) aliases: Vec<String>,
    pub(crate) versions: Vec<VersionSnapshot>,
    pub(crate) imported: Option<[u8; 32]>,
    pub(crate) valid_to: Option<SystemTime>,
}

/// Brings a key's snapshot in line with what the API can make of such a key, so records
/// written before these rules were enforced load (and behave) as they should. An `EXTERNAL`
/// key:
/// - without material, it waits for its material (`PendingImport`), unless deletion is
///   pending (a disabled key with no version could never be used again);
/// - with material, it accepts only version 1's material again: the fingerprint is computed
///   from version 1 (a record may lack it, or hold that of other material);
/// - it never rotates on budget (a generated version would be lost at the next import).
///
/// A key generated by Keyplane without any version is refused; its material never expires
/// (an expiry would drop its only versions, and its next record would not load) and it has no
/// imported material to remember.
fn repair_imported(snap: &mut KeySnapshot) -> Result<()> {
    if snap.origin != Origin::External {
        if snap.versions.is_empty() {
            return Err(Error::InvalidInput(
                "a key generated by Keyplane must have a version",
            ));
        }
        snap.valid_to = None;
        snap.imported = None;
        return Ok(());
    }
    snap.rotate_on_budget = false;
    match snap.versions.first() {
        None => {
            if snap.state != KeyState::PendingDeletion {
                snap.state = KeyState::PendingImport;
                snap.deletion_date = None;
            }
            snap.valid_to = None;
        }
        Some(first) => snap.imported = Some(import::fingerprint(&snap.id, &first.material)),
    }
    Ok(())
}

/// One version of a [`KeySnapshot`].
pub(crate) struct VersionSnapshot {
    pub(crate) number: u32,
    pub(crate) creation_date: SystemTime,
    pub(crate) encryptions: u64,
    pub(crate) material: Zeroizing<Vec<u8>>,
}

impl Keyring {
    /// A consistent copy of `key_id`'s definition, material included.
    pub(crate) fn snapshot(&self, key_id: &str) -> Result<KeySnapshot> {
        let key = self.resolve(key_id)?;
        // Management changes take this lock, so state, policy and versions agree.
        let m = read(&key.mutable);
        Ok(self.snapshot_parts(&key, &m, None))
    }

    /// `key`'s definition with management state `m` and, if given, `pending` as its newest
    /// version. The caller holds `key.mutable`.
    fn snapshot_parts(&self, key: &Key, m: &Mutable, pending: Option<&Version>) -> KeySnapshot {
        let version = |v: &Version| VersionSnapshot {
            number: v.number,
            creation_date: v.creation_date,
            encryptions: v.encryptions.load(Ordering::Acquire),
            material: Zeroizing::new(v.material.bytes().to_vec()),
        };
        KeySnapshot {
            id: key.id.to_string(),
            spec: key.spec,
            usage: key.usage,
            origin: key.origin,
            creation_date: key.creation_date,
            description: key.description.clone(),
            state: m.state,
            deletion_date: m.deletion_date,
            rotation_period: m.rotation_period,
            next_rotation: key.next_rotation.load(Ordering::Acquire),
            min_decryption_version: key.min_decryption_version.load(Ordering::Acquire),
            rotate_on_budget: key.rotate_on_budget.load(Ordering::Acquire),
            aliases: self.aliases_of(&key.id),
            versions: key.versions.iter().chain(pending).map(version).collect(),
            imported: m.imported,
            valid_to: m.valid_to,
        }
    }

    /// In a store-backed keyring, writes `key` as it is in `m` (with `pending` as its newest
    /// version, about to be published) to the store. The caller holds `key.mutable`'s write
    /// lock, so nothing changes underneath.
    fn persist_locked(&self, key: &Key, m: &Mutable, pending: Option<&Version>) -> Result<()> {
        self.persist_record(key, m, pending, false)
    }

    /// [`persist_locked`](Self::persist_locked); with `new`, refuses to replace a record of
    /// the same id already in the store (one that did not load, e.g. under another root key),
    /// so a new key never overwrites a key this keyring could not read.
    fn persist_record(
        &self,
        key: &Key,
        m: &Mutable,
        pending: Option<&Version>,
        new: bool,
    ) -> Result<()> {
        let Some(p) = &self.inner.persistence else {
            return Ok(());
        };
        if self.forked() {
            return Err(FORKED_STORE);
        }
        let _serial = lock(&p.writing);
        if new && p.store.has_record(&key.id) {
            return Err(Error::AlreadyExists);
        }
        // A key deleted meanwhile must not come back.
        if !read(&self.inner.keys)
            .get(&*key.id)
            .is_some_and(|k| core::ptr::eq(&**k, key))
        {
            return Err(Error::NotFound);
        }
        let mut snapshot = self.snapshot_parts(key, m, pending);
        for (stored, v) in snapshot
            .versions
            .iter_mut()
            .zip(key.versions.iter().chain(pending))
        {
            stored.encryptions = stored_count(stored.encryptions, &v.reserved);
        }
        let record = seal::seal_snapshot(&snapshot, &*p.root)?;
        p.store.write(&key.id, &record)?;
        for (stored, v) in snapshot
            .versions
            .iter()
            .zip(key.versions.iter().chain(pending))
        {
            v.reserved.fetch_max(stored.encryptions, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Writes a new reservation for `version` of `key` unless one covering `count` encryptions
    /// landed meanwhile.
    fn reserve(&self, key: &Key, version: &Version, count: u64) -> Result<()> {
        let m = write(&key.mutable);
        if count <= version.reserved.load(Ordering::Acquire) {
            return Ok(());
        }
        self.persist_locked(key, &m, None)
    }

    /// [`persist_locked`](Self::persist_locked), taking the lock.
    fn persist_key(&self, key: &Key) -> Result<()> {
        if self.inner.persistence.is_none() {
            return Ok(());
        }
        let m = write(&key.mutable);
        self.persist_locked(key, &m, None)
    }

    /// Writes down a key just added to the maps; if that fails, takes it out again.
    fn persist_new(&self, key: &Arc<Key>) -> Result<()> {
        let persisted = if self.inner.persistence.is_some() {
            let m = write(&key.mutable);
            self.persist_record(key, &m, None, true)
        } else {
            Ok(())
        };
        persisted.inspect_err(|_| {
            let mut aliases = write(&self.inner.aliases);
            let mut keys = write(&self.inner.keys);
            if keys.get(&*key.id).is_some_and(|k| Arc::ptr_eq(k, key)) {
                keys.remove(&*key.id);
                aliases.retain(|_, target| **target != *key.id);
                self.bump_generation();
            }
        })
    }

    /// Removes a deleted key's record from the store. A failure leaves the record, whose key
    /// is past its deletion date and is deleted again at the next open.
    fn forget_record(&self, key_id: &str) {
        if self.forked() {
            // A child never writes the parent's store; the record is deleted at a later open.
            return;
        }
        if let Some(p) = &self.inner.persistence {
            let _serial = lock(&p.writing);
            let _ = p.store.remove(key_id);
        }
    }

    /// Adds the key a snapshot describes, with its id, versions, state and aliases.
    ///
    /// # Errors
    /// [`Error::AlreadyExists`] when the id or one of the aliases is taken;
    /// [`Error::InvalidInput`] for a snapshot that does not describe a valid key.
    pub(crate) fn restore(&self, mut snap: KeySnapshot) -> Result<Arc<Key>> {
        validate_key_id(&snap.id)?;
        audit::note(&snap.id, 0);
        for alias in &snap.aliases {
            validate_alias(alias)?;
        }
        if !snap.spec.allowed_usages().contains(&snap.usage) {
            return Err(Error::InvalidKeyUsage);
        }
        let numbered = snap
            .versions
            .iter()
            .zip(1u32..)
            .all(|(v, expected)| v.number == expected);
        if !numbered {
            return Err(Error::InvalidInput(
                "a key's versions must be numbered from 1 without gaps",
            ));
        }
        repair_imported(&mut snap)?;
        self.sweep_expired();
        let key = Arc::new(Key {
            id: snap.id.clone().into_boxed_str(),
            spec: snap.spec,
            usage: snap.usage,
            origin: snap.origin,
            creation_date: snap.creation_date,
            description: snap.description,
            state: AtomicU8::new(state_code(snap.state)),
            next_rotation: AtomicU64::new(snap.next_rotation),
            min_decryption_version: AtomicU32::new(snap.min_decryption_version.max(1)),
            rotate_on_budget: AtomicBool::new(snap.rotate_on_budget),
            valid_to: AtomicU64::new(snap.valid_to.map_or(0, |t| unix_nanos(t).max(1))),
            versions: VersionTable::new(),
            mutable: RwLock::new(Mutable {
                state: snap.state,
                rotation_period: snap.rotation_period,
                deletion_date: snap.deletion_date,
                imported: snap.imported,
                valid_to: snap.valid_to,
            }),
        });
        for v in &snap.versions {
            let material =
                Material::from_bytes(snap.spec, snap.usage, &v.material, &snap.id, v.number)?;
            let version = Version {
                number: v.number,
                creation_date: v.creation_date,
                material,
                encryptions: AtomicU64::new(v.encryptions),
                reserved: AtomicU64::new(v.encryptions),
            };
            if !key.versions.push(version) {
                return Err(Error::Internal);
            }
        }
        let mut aliases = write(&self.inner.aliases);
        let mut keys = write(&self.inner.keys);
        if keys.contains_key(snap.id.as_str())
            || snap
                .aliases
                .iter()
                .any(|a| aliases.contains_key(a.as_str()))
        {
            return Err(Error::AlreadyExists);
        }
        for alias in &snap.aliases {
            aliases.insert(
                alias.clone().into_boxed_str(),
                snap.id.clone().into_boxed_str(),
            );
        }
        keys.insert(snap.id.into_boxed_str(), Arc::clone(&key));
        drop(keys);
        drop(aliases);
        Ok(key)
    }

    /// Removes from `snap` the aliases that already point at a key here.
    fn drop_held_aliases(&self, snap: &mut KeySnapshot) {
        let aliases = read(&self.inner.aliases);
        snap.aliases.retain(|a| !aliases.contains_key(a.as_str()));
    }

    /// [`restore`](Self::restore), written to the store in a store-backed keyring.
    pub(crate) fn restore_persisted(&self, snap: KeySnapshot) -> Result<KeyMetadata> {
        let key = self.restore(snap)?;
        self.persist_new(&key)?;
        Ok(key.metadata(self.aliases_of(&key.id)))
    }
}

// ----- importing key material ---------------------------------------------------------------

impl Keyring {
    /// An RSA public key and an import token with which to wrap material for `key_id` (a key
    /// created with origin `EXTERNAL`). They are valid for 24 hours in this keyring instance.
    /// RSA private key material needs an `RSA_AES_KEY_WRAP_*` algorithm.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::UnsupportedAlgorithm`] for a key whose origin is not
    /// `EXTERNAL`; [`Error::InvalidKeyState`] when pending deletion; [`Error::InvalidInput`]
    /// for a wrapping algorithm that cannot carry this key's material.
    pub fn get_parameters_for_import(
        &self,
        key_id: &str,
        algorithm: WrappingAlgorithm,
        wrapping_key_spec: WrappingKeySpec,
    ) -> Result<ImportParameters> {
        self.audited(
            Operation::GetParametersForImport,
            Some(key_id),
            None,
            || {
                let key = self.importable(key_id)?;
                import::check_algorithm(key.spec, algorithm)?;
                let (private, public_key) = import::wrapping_key(wrapping_key_spec)?;
                let valid_to = SystemTime::now() + import::IMPORT_PARAMETERS_VALIDITY;
                let import_token = import::seal_token(
                    self.import_root()?,
                    &key.id,
                    algorithm,
                    &private,
                    valid_to,
                )?;
                Ok(ImportParameters {
                    key_id: key.id.to_string(),
                    public_key,
                    import_token,
                    parameters_valid_to: valid_to,
                })
            },
        )
    }

    /// Unwraps `encrypted_key_material` (wrapped with the parameters of `import_token`) and
    /// installs it as the key's material; the key becomes `Enabled`. With `valid_to`, the
    /// material expires then and the key returns to `PendingImport`. A key accepts only the
    /// material it was first given: importing it again (after expiry or deletion, or to change
    /// `valid_to`) works; other material is refused.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::UnsupportedAlgorithm`] unless the origin is `EXTERNAL`;
    /// [`Error::InvalidKeyState`] when pending deletion; [`Error::InvalidInput`] for an
    /// unknown, expired or other key's token, a `valid_to` in the past, material that does not
    /// fit the key spec, or material other than what the key had; [`Error::InvalidCiphertext`]
    /// for wrapped material that does not unwrap with the token's key.
    pub fn import_key_material(
        &self,
        key_id: &str,
        import_token: &[u8],
        encrypted_key_material: &[u8],
        valid_to: Option<SystemTime>,
    ) -> Result<()> {
        self.audited(Operation::ImportKeyMaterial, Some(key_id), None, || {
            let key = self.importable(key_id)?;
            if valid_to.is_some_and(|t| t <= SystemTime::now()) {
                return Err(Error::InvalidInput("valid_to must be in the future"));
            }
            let pending = import::open_token(self.import_root()?, &key.id, import_token)?;
            if pending.valid_to <= self.import_clock() {
                return Err(Error::InvalidInput("import token has expired"));
            }
            let material = import::unwrap(&pending, encrypted_key_material)?;
            // Refuse material that does not fit the spec before anything changes.
            Material::from_bytes(key.spec, key.usage, &material, &key.id, 1)?;
            let fingerprint = import::fingerprint(&key.id, &material);

            let mut m = write(&key.mutable);
            // The key's version 1 is what decides, should the fingerprint be missing.
            let previous = m.imported.or_else(|| {
                key.versions
                    .get(1)
                    .map(|v| import::fingerprint(&key.id, v.material.bytes()))
            });
            if let Some(previous) = previous
                && aws_lc_rs::constant_time::verify_slices_are_equal(&previous, &fingerprint)
                    .is_err()
            {
                return Err(Error::InvalidInput(
                    "key material differs from the material imported into this key before",
                ));
            }
            let before = (
                m.clone(),
                key.state.load(Ordering::Acquire),
                key.valid_to.load(Ordering::Acquire),
            );
            m.imported = Some(fingerprint);
            m.valid_to = valid_to;
            if m.state == KeyState::PendingImport {
                key.set_state(&mut m, KeyState::Enabled);
            }
            key.valid_to.store(
                valid_to.map_or(0, |t| unix_nanos(t).max(1)),
                Ordering::Release,
            );
            let written = if key.versions.current().is_none() {
                key.push_version(&mut m, &material, &|key, m, v| {
                    self.persist_locked(key, m, Some(v))
                })
                .map(drop)
            } else {
                self.persist_locked(&key, &m, None)
            };
            if let Err(e) = written {
                *m = before.0;
                key.state.store(before.1, Ordering::Release);
                key.valid_to.store(before.2, Ordering::Release);
                return Err(e);
            }
            Ok(())
        })
    }

    /// Deletes the imported material of `key_id` now: the key returns to `PendingImport`, and
    /// the same material can be imported again.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::UnsupportedAlgorithm`] unless the origin is `EXTERNAL`;
    /// [`Error::InvalidKeyState`] when pending deletion; [`Error::Storage`].
    pub fn delete_imported_key_material(&self, key_id: &str) -> Result<()> {
        self.audited(
            Operation::DeleteImportedKeyMaterial,
            Some(key_id),
            None,
            || {
                let key = self.importable(key_id)?;
                self.drop_material(&key).map(drop)
            },
        )
    }

    /// The root import tokens are sealed under: a store-backed keyring's root key, so tokens
    /// outlive the process; otherwise one of this keyring's own.
    fn import_root(&self) -> Result<&dyn RootKey> {
        if let Some(p) = &self.inner.persistence {
            return Ok(&*p.root);
        }
        if let Some(root) = self.inner.import_root.get() {
            return Ok(root);
        }
        let material = seal::LocalRootKey::generate_material()?;
        let root = seal::LocalRootKey::new("keyplane keyring import tokens", material.as_ref())?;
        // Initialized inside the gate, so a fork never catches the cell half set.
        let _pass = fork::pass();
        Ok(self.inner.import_root.get_or_init(|| root))
    }

    /// The time import tokens' expiry is checked against.
    fn import_clock(&self) -> SystemTime {
        let ahead = self.inner.import_clock_ahead.load(Ordering::Relaxed);
        SystemTime::now()
            .checked_add(Duration::from_nanos(ahead))
            .unwrap_or(SystemTime::UNIX_EPOCH)
    }

    /// The `EXTERNAL` key `key_id`, not pending deletion.
    fn importable(&self, key_id: &str) -> Result<Arc<Key>> {
        let key = self.resolve(key_id)?;
        if key.origin != Origin::External {
            return Err(Error::UnsupportedAlgorithm);
        }
        if key.state() == KeyState::PendingDeletion {
            return Err(Error::InvalidKeyState);
        }
        Ok(key)
    }

    /// Imported material past its `valid_to`: the key goes back to `PendingImport` (or stays
    /// pending deletion).
    fn expire_material(&self, key: &Arc<Key>) -> Result<Arc<Key>> {
        self.drop_material(key)
    }

    /// Replaces `key` with a copy without versions, in `PendingImport`, or still in
    /// `PendingDeletion` with its date when deletion was scheduled: losing its material must
    /// not cancel a deletion. The old key, and its material, are dropped (and zeroized) when
    /// the last operation using it finishes.
    fn drop_material(&self, key: &Arc<Key>) -> Result<Arc<Key>> {
        let empty = {
            let m = write(&key.mutable);
            let (state, deletion_date) = match m.state {
                KeyState::PendingDeletion => (KeyState::PendingDeletion, m.deletion_date),
                _ => (KeyState::PendingImport, None),
            };
            let empty = Arc::new(Key {
                id: key.id.clone(),
                spec: key.spec,
                usage: key.usage,
                origin: key.origin,
                creation_date: key.creation_date,
                description: key.description.clone(),
                state: AtomicU8::new(state_code(state)),
                next_rotation: AtomicU64::new(0),
                min_decryption_version: AtomicU32::new(
                    key.min_decryption_version.load(Ordering::Acquire),
                ),
                rotate_on_budget: AtomicBool::new(false),
                valid_to: AtomicU64::new(0),
                versions: VersionTable::new(),
                mutable: RwLock::new(Mutable {
                    state,
                    rotation_period: None,
                    deletion_date,
                    imported: m.imported,
                    valid_to: None,
                }),
            });
            let mut keys = write(&self.inner.keys);
            match keys.get_mut(&*key.id) {
                Some(slot) if Arc::ptr_eq(slot, key) => *slot = Arc::clone(&empty),
                // Replaced meanwhile (a racing expiry): use what is there now.
                Some(slot) => return Ok(Arc::clone(slot)),
                None => return Err(Error::NotFound),
            }
            self.bump_generation();
            empty
        };
        // The material is gone from memory even if this write fails: the stored record still
        // has it, with its expiry, and expires it again after a restart.
        self.persist_key(&empty)?;
        Ok(empty)
    }
}

// ----- the audit trail ----------------------------------------------------------------------

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
