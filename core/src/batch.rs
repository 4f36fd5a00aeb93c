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
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use crossbeam::queue::ArrayQueue;
use rayon::{ThreadPool, ThreadPoolBuilder};
use zeroize::{Zeroize, Zeroizing};

use crate::audit::Operation;
use crate::context::EncryptionContext;
use crate::datakey::DataKeySpec;
use crate::envelope;
use crate::error::{Error, Result};
use crate::fork;
use crate::keyring::{ALIAS_PREFIX, KeyMemo, Keyring};
use crate::spec::{MacAlgorithm, MessageType, SigningAlgorithm};

/// The most items one batch takes unless the keyring says otherwise.
pub const DEFAULT_MAX_BATCH_ITEMS: usize = 100_000;

/// The most threads a keyring's own batch pool may have
/// ([`KeyringBuilder::threads`](crate::KeyringBuilder::threads)).
pub const MAX_THREADS: usize = 1024;

/// Work per scheduled run: large enough that handing a run out (and, for the first runs, waking
/// a pool thread) stays a few percent, small enough that a batch of a few hundred small items
/// still spreads.
const RUN_NS: u64 = 20_000;

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

// ----- configuration and pools --------------------------------------------------------------

/// Where a keyring's batches run.
#[derive(Clone)]
pub(crate) enum PoolSource {
    /// The process-wide pool, one thread per core.
    Default,
    /// A pool of the keyring's own with this many threads, built at the first batch.
    Own(usize, Arc<Mutex<Option<ForkedPool>>>),
    /// A pool the caller handed in.
    Given(Arc<ThreadPool>),
}

impl fmt::Debug for PoolSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("Default"),
            Self::Own(threads, _) => f.debug_tuple("Own").field(threads).finish(),
            Self::Given(pool) => f
                .debug_tuple("Given")
                .field(&pool.current_num_threads())
                .finish(),
        }
    }
}

/// A pool and the fork generation of the process that built it.
pub(crate) struct ForkedPool {
    generation: u64,
    pool: Arc<ThreadPool>,
}

impl PoolSource {
    pub(crate) fn own(threads: usize) -> Self {
        Self::Own(threads, Arc::new(Mutex::new(None)))
    }

    /// The pool, or `None` for a Keyplane-made pool of one thread, which the calling thread
    /// replaces.
    fn pool(&self) -> Result<Option<Arc<ThreadPool>>> {
        static DEFAULT: Mutex<Option<ForkedPool>> = Mutex::new(None);
        match self {
            Self::Default => built(&DEFAULT, 0),
            Self::Own(threads, slot) => built(slot, *threads),
            Self::Given(pool) => Ok(Some(Arc::clone(pool))),
        }
    }
}

/// The pool in `slot`, built now if there is none or it was built before a `fork()`; `None`
/// for one thread. `threads == 0` means one per core.
fn built(slot: &Mutex<Option<ForkedPool>>, threads: usize) -> Result<Option<Arc<ThreadPool>>> {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    if threads <= 1 {
        return Ok(None);
    }
    let generation = fork::generation();
    // Inside the fork gate: a child must never find the slot locked by a vanished thread.
    // Building a pool only spawns its threads; it waits for none of them.
    let _pass = fork::pass();
    let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(existing) = slot.as_ref()
        && existing.generation == generation
    {
        return Ok(Some(Arc::clone(&existing.pool)));
    }
    let pool = ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("keyplane-batch-{i}"))
        .build()
        .map_err(|_| Error::Internal)?;
    let pool = Arc::new(pool);
    let stale = slot.replace(ForkedPool {
        generation,
        pool: Arc::clone(&pool),
    });
    // A pool from before a fork has no threads in this process, and its locks may be held by
    // threads that no longer exist: dropping it could block, so it is leaked (once per fork).
    core::mem::forget(stale);
    Ok(Some(pool))
}

// ----- the engine ---------------------------------------------------------------------------

/// How an item is recorded in the audit trail: operation, key, context.
type Tag<'r> = (Operation, Option<&'r str>, Option<&'r EncryptionContext>);

/// What an item's operation produced.
enum Out {
    /// This many bytes at the start of the item's region of the shared buffer.
    Written(usize),
    /// Its own allocation: an alias moved to a key with a longer id after sizing.
    Owned(Box<Zeroizing<Vec<u8>>>),
}

/// An item's outcome in a same-size batch, as large as the `Result<Bytes>` it becomes, so that
/// the results are collected into the outcomes' own allocation (no second vector of the
/// batch's length, which for large batches is fresh memory the kernel must fault in).
struct Outcome {
    result: Result<Out>,
    _as_large_as_a_result: usize,
}

const _: () = assert!(
    core::mem::size_of::<Outcome>() == core::mem::size_of::<Result<Bytes>>()
        && core::mem::align_of::<Outcome>() == core::mem::align_of::<Result<Bytes>>()
);

/// Whether a batch's outputs are secret (plaintexts, data keys): only then is the shared
/// buffer wiped when its last view is dropped.
#[derive(Clone, Copy)]
enum Output {
    Secret,
    Public,
}

/// An item's progress through a batch.
enum Slot {
    /// Sized: its region starts here and is this long.
    Sized(usize, usize),
    /// Failed before running (sizing failed).
    Failed(Error),
    /// Ran; its region starts here.
    Ran(usize, Result<Out>),
}

/// Output buffers kept for reuse, so a batch neither faults in fresh pages nor zero-fills its
/// buffer: a reused buffer's stale bytes are never visible, since every output is a view of
/// exactly the bytes its operation wrote in this batch.
pub(crate) struct BufferShelf {
    shelf: ArrayQueue<Vec<u8>>,
}

/// Buffers above this size are freed rather than kept.
const MAX_KEPT_BUFFER: usize = 32 << 20;
/// How many buffers a keyring keeps.
const KEPT_BUFFERS: usize = 4;

impl BufferShelf {
    fn new() -> Self {
        Self {
            shelf: ArrayQueue::new(KEPT_BUFFERS),
        }
    }

    /// A buffer of at least `len` initialized bytes. The length comes from the caller's
    /// items, so a size the allocator refuses is an error, not an abort.
    fn take(&self, len: usize) -> Result<Vec<u8>> {
        if let Some(buffer) = self.shelf.pop()
            && buffer.len() >= len
        {
            return Ok(buffer);
        }
        let mut buffer = Vec::new();
        buffer
            .try_reserve_exact(len)
            .map_err(|_| Error::LimitExceeded("batch output too large to allocate"))?;
        buffer.resize(len, 0);
        Ok(buffer)
    }
}

impl fmt::Debug for BufferShelf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferShelf")
            .field("kept", &self.shelf.len())
            .finish()
    }
}

/// The owner of a batch's buffer behind its `Bytes` views: when the last view goes, the buffer
/// is wiped if it held secrets and goes back on the shelf (or is freed).
struct Recycled {
    buffer: Vec<u8>,
    secret: bool,
    home: Arc<BufferShelf>,
}

impl AsRef<[u8]> for Recycled {
    fn as_ref(&self) -> &[u8] {
        &self.buffer
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        let mut buffer = core::mem::take(&mut self.buffer);
        if buffer.len() <= MAX_KEPT_BUFFER {
            if self.secret {
                // The buffer stays reachable (it goes on the shelf), so this store is not dead
                // and the compiler keeps it; a plain fill runs at memory speed.
                buffer.fill(0);
            }
            match self.home.shelf.push(buffer) {
                Ok(()) => return,
                Err(rejected) => buffer = rejected,
            }
        }
        if self.secret {
            buffer.zeroize();
        }
    }
}

/// What one pool task keeps between the items it runs: scratch space (zeroized) and its last
/// key.
#[derive(Default)]
struct Task {
    scratch: Zeroizing<Vec<u8>>,
    memo: KeyMemo,
    /// A re-encryption's source key, apart from its destination.
    source: KeyMemo,
}

/// The size every item's output has, when they all have the same non-zero size and the whole
/// buffer's size fits in memory; `None` otherwise (including when any item fails to size).
fn uniform_size<R>(items: &[R], size: impl Fn(&R) -> Result<usize>) -> Option<usize> {
    let n = match items.first().map(&size) {
        Some(Ok(n)) if n > 0 => n,
        _ => return None,
    };
    n.checked_mul(items.len())?;
    items[1..]
        .iter()
        .all(|item| matches!(size(item), Ok(m) if m == n))
        .then_some(n)
}

/// Runs `work` on every job: on the calling thread, joined by up to `pool`'s size minus one of
/// its threads. Each participant takes the next job until none is left, so the calling thread
/// starts at once instead of waiting for sleeping pool threads to wake, and a pool thread that
/// wakes late (or is busy with another batch) simply finds less left to do. The batch never
/// runs on more threads than the pool has, the calling thread included, and one started from
/// a pool thread does not wait for a thread that could be waiting for it.
fn share<J, W>(pool: Option<&ThreadPool>, jobs: impl ExactSizeIterator<Item = J>, work: W)
where
    J: Send,
    W: Fn(J, &mut Task) + Sync,
{
    let queue = ArrayQueue::new(jobs.len().max(1));
    for job in jobs {
        // The queue holds exactly as many jobs as there are.
        let _ = queue.push(job);
    }
    let drain = || {
        let mut task = Task::default();
        while let Some(job) = queue.pop() {
            work(job, &mut task);
        }
    };
    let helpers = pool.map_or(0, |p| p.current_num_threads().saturating_sub(1));
    match pool {
        Some(pool) if helpers > 0 && queue.len() > 1 => pool.in_place_scope(|scope| {
            for _ in 0..helpers.min(queue.len() - 1) {
                scope.spawn(|_| drain());
            }
            drain();
        }),
        _ => drain(),
    }
}

/// How many consecutive items make one scheduled run, given one item's estimated cost.
fn run_len(items: usize, item_ns: u64) -> usize {
    let per_run = RUN_NS / item_ns.max(1);
    usize::try_from(per_run)
        .unwrap_or(usize::MAX)
        .clamp(1, items.max(1))
}

/// Estimated nanoseconds to encrypt or decrypt `len` bytes (AES-GCM runs at several GB/s).
fn symmetric_ns(total_len: usize, items: usize) -> u64 {
    let average = total_len / items.max(1);
    150 + u64::try_from(average / 4).unwrap_or(u64::MAX)
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

    /// Runs `op` over `items` in runs of `run` items, on the pool unless one run covers all.
    fn run_items<R, T, F>(&self, items: &[R], run: usize, op: F) -> Result<Vec<Result<T>>>
    where
        R: Sync,
        T: Send,
        F: Fn(&R) -> Result<T> + Sync,
    {
        self.check_batch_len(items.len())?;
        if run >= items.len() {
            return Ok(items.iter().map(op).collect());
        }
        let pool = self.batch_pool()?;
        let mut outcomes: Vec<Result<T>> = items.iter().map(|_| Err(Error::Internal)).collect();
        share(
            pool.as_deref(),
            items.chunks(run).zip(outcomes.chunks_mut(run)),
            |(items, outcomes), _| {
                for (item, outcome) in items.iter().zip(outcomes) {
                    *outcome = op(item);
                }
            },
        );
        Ok(outcomes)
    }

    /// Sizes every item's output with `size`, runs `op` on each into its region of one shared
    /// buffer (on the pool unless one run covers all), and hands the outputs out as views.
    fn run_into_buffer<R, T, S, F>(
        &self,
        items: &[R],
        output: Output,
        tag: T,
        run: usize,
        size: S,
        op: F,
    ) -> Result<Vec<Result<Bytes>>>
    where
        R: Sync,
        T: for<'r> Fn(&'r R) -> Tag<'r> + Sync,
        S: Fn(&R) -> Result<usize> + Sync,
        F: Fn(&R, &mut [u8], &mut Task) -> Result<Out> + Sync,
    {
        self.check_batch_len(items.len())?;
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let pool = if run >= items.len() {
            None
        } else {
            self.batch_pool()?
        };
        self.buffered(items, output, &tag, run, &size, &op, pool.as_deref())
    }

    /// [`run_into_buffer`](Self::run_into_buffer)'s work, shared with `pool`'s threads if
    /// there is one.
    #[allow(clippy::too_many_arguments)]
    fn buffered<R, T, S, F>(
        &self,
        items: &[R],
        output: Output,
        tag: &T,
        run: usize,
        size: &S,
        op: &F,
        pool: Option<&ThreadPool>,
    ) -> Result<Vec<Result<Bytes>>>
    where
        R: Sync,
        T: for<'r> Fn(&'r R) -> Tag<'r> + Sync,
        S: Fn(&R) -> Result<usize> + Sync,
        F: Fn(&R, &mut [u8], &mut Task) -> Result<Out> + Sync,
    {
        if let Some(n) = uniform_size(items, size) {
            return self.buffered_uniform(items, output, tag, run, n, op, pool);
        }
        // Size every output; the slot holds its start in the buffer until it holds the result.
        let mut slots: Vec<Slot> = Vec::with_capacity(items.len());
        let mut total = 0usize;
        for item in items {
            slots.push(match size(item) {
                Ok(n) => {
                    let start = total;
                    total = total
                        .checked_add(n)
                        .ok_or(Error::LimitExceeded("batch output too large"))?;
                    Slot::Sized(start, n)
                }
                Err(e) => {
                    // Recorded like any failed operation.
                    let (operation, key_id, context) = tag(item);
                    let _ = self.audited(operation, key_id, context, || Err::<(), _>(e));
                    Slot::Failed(e)
                }
            });
        }
        let buffers = &self.batch_config().buffers;
        // Owned by its wiping owner from the start, so that every way out (a panic included)
        // wipes what the items wrote.
        let mut owner = Recycled {
            buffer: buffers.take(total)?,
            secret: matches!(output, Output::Secret),
            home: Arc::clone(buffers),
        };

        // Run every item into its region. The regions borrow the buffer only in this block.
        {
            let mut regions: Vec<&mut [u8]> = Vec::with_capacity(items.len());
            let mut rest: &mut [u8] = &mut owner.buffer[..total];
            for slot in &slots {
                let n = if let Slot::Sized(_, n) = slot { *n } else { 0 };
                let (region, tail) = core::mem::take(&mut rest).split_at_mut(n);
                regions.push(region);
                rest = tail;
            }
            let jobs = slots
                .chunks_mut(run)
                .zip(regions.chunks_mut(run))
                .zip(items.chunks(run));
            share(pool, jobs, |((slots, regions), items), task| {
                for ((slot, region), item) in slots.iter_mut().zip(regions).zip(items) {
                    if let Slot::Sized(start, _) = *slot {
                        // One event per item, under the batch operation's name.
                        let (operation, key_id, context) = tag(item);
                        let outcome =
                            self.audited(operation, key_id, context, || op(item, region, task));
                        *slot = Slot::Ran(start, outcome);
                    }
                }
            });
        }

        let shared = Bytes::from_owner(owner);
        Ok(slots
            .into_iter()
            .map(|slot| match slot {
                Slot::Ran(start, Ok(Out::Written(len))) => Ok(shared.slice(start..start + len)),
                Slot::Ran(_, Ok(Out::Owned(bytes))) => Ok(Bytes::from_owner(*bytes)),
                Slot::Ran(_, Err(e)) | Slot::Failed(e) => Err(e),
                // Every sized slot ran; a batch never reports an item it did not run.
                Slot::Sized(..) => Err(Error::Internal),
            })
            .collect())
    }

    /// [`buffered`](Self::buffered) for a batch whose outputs all have the same size `n`
    /// (one key, one plaintext length: the common case): every item's region follows from its
    /// index, so no per-item bookkeeping is written before the items run, and each outcome is
    /// written once, in place, by the run itself.
    #[allow(clippy::too_many_arguments)]
    fn buffered_uniform<R, T, F>(
        &self,
        items: &[R],
        output: Output,
        tag: &T,
        run: usize,
        n: usize,
        op: &F,
        pool: Option<&ThreadPool>,
    ) -> Result<Vec<Result<Bytes>>>
    where
        R: Sync,
        T: for<'r> Fn(&'r R) -> Tag<'r> + Sync,
        F: Fn(&R, &mut [u8], &mut Task) -> Result<Out> + Sync,
    {
        let buffers = &self.batch_config().buffers;
        let total = n
            .checked_mul(items.len())
            .ok_or(Error::LimitExceeded("batch output too large"))?;
        // Owned by its wiping owner from the start, as in `buffered`.
        let mut owner = Recycled {
            buffer: buffers.take(total)?,
            secret: matches!(output, Output::Secret),
            home: Arc::clone(buffers),
        };
        let mut outcomes: Vec<Outcome> = items
            .iter()
            .map(|_| Outcome {
                result: Err(Error::Internal),
                _as_large_as_a_result: 0,
            })
            .collect();
        let jobs = owner.buffer[..total]
            .chunks_mut(run * n)
            .zip(items.chunks(run))
            .zip(outcomes.chunks_mut(run));
        share(pool, jobs, |((regions, items), outcomes), task| {
            for ((region, item), outcome) in regions.chunks_mut(n).zip(items).zip(outcomes) {
                let (operation, key_id, context) = tag(item);
                outcome.result =
                    self.audited(operation, key_id, context, || op(item, region, task));
            }
        });
        let shared = Bytes::from_owner(owner);
        Ok(outcomes
            .into_iter()
            .enumerate()
            .map(|(i, outcome)| match outcome.result {
                Ok(Out::Written(len)) => Ok(shared.slice(i * n..i * n + len)),
                Ok(Out::Owned(bytes)) => Ok(Bytes::from_owner(*bytes)),
                Err(e) => Err(e),
            })
            .collect())
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

    /// The pool that shares this keyring's batches with the calling thread; `None` when the
    /// pool would have one thread, so the calling thread is all a batch uses.
    fn batch_pool(&self) -> Result<Option<Arc<ThreadPool>>> {
        self.batch_config().pool.pool()
    }

    fn max_batch_items(&self) -> usize {
        self.batch_config().max_items
    }
}

/// A keyring's batch settings.
#[derive(Debug, Clone)]
pub(crate) struct BatchConfig {
    pub(crate) pool: PoolSource,
    pub(crate) max_items: usize,
    buffers: Arc<BufferShelf>,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            pool: PoolSource::Default,
            max_items: DEFAULT_MAX_BATCH_ITEMS,
            buffers: Arc::new(BufferShelf::new()),
        }
    }
}
