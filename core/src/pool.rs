//! What a keyring's batches run on: the thread pool (process-wide, the keyring's own, or one
//! the caller handed in, rebuilt after a `fork()` when Keyplane made it) and the shelf of output
//! buffers a keyring reuses from one batch to the next. The batch engine is in `batch`.

use core::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use crossbeam::queue::ArrayQueue;
use rayon::{ThreadPool, ThreadPoolBuilder};
use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::fork;

/// The most items one batch takes unless the keyring says otherwise.
pub const DEFAULT_MAX_BATCH_ITEMS: usize = 100_000;

/// The most threads a keyring's own batch pool may have
/// ([`KeyringBuilder::threads`](crate::KeyringBuilder::threads)).
pub const MAX_THREADS: usize = 1024;

/// A keyring's batch settings.
#[derive(Debug, Clone)]
pub(crate) struct BatchConfig {
    pub(crate) pool: PoolSource,
    pub(crate) max_items: usize,
    pub(crate) buffers: Arc<BufferShelf>,
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
    pub(crate) fn pool(&self) -> Result<Option<Arc<ThreadPool>>> {
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
    pub(crate) fn take(&self, len: usize) -> Result<Vec<u8>> {
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
pub(crate) struct Recycled {
    pub(crate) buffer: Vec<u8>,
    pub(crate) secret: bool,
    pub(crate) home: Arc<BufferShelf>,
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
