//! The batch engine: items cut into runs of about 20 µs of work, shared between the calling
//! thread and the pool, their outputs sized first and written into one shared buffer.

use std::sync::Arc;

use bytes::Bytes;
use crossbeam::queue::ArrayQueue;
use rayon::ThreadPool;
use zeroize::Zeroizing;

use crate::audit::Operation;
use crate::context::EncryptionContext;
use crate::error::{Error, Result};
use crate::keyring::{KeyMemo, Keyring};
use crate::pool::Recycled;

/// Work per scheduled run: large enough that handing a run out (and, for the first runs, waking
/// a pool thread) stays a few percent, small enough that a batch of a few hundred small items
/// still spreads.
const RUN_NS: u64 = 20_000;

/// How an item is recorded in the audit trail: operation, key, context.
type Tag<'r> = (Operation, Option<&'r str>, Option<&'r EncryptionContext>);

/// What an item's operation produced.
pub(super) enum Out {
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
pub(super) enum Output {
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

/// What one pool task keeps between the items it runs: scratch space (zeroized) and its last
/// key.
#[derive(Default)]
pub(super) struct Task {
    pub(super) scratch: Zeroizing<Vec<u8>>,
    pub(super) memo: KeyMemo,
    /// A re-encryption's source key, apart from its destination.
    pub(super) source: KeyMemo,
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
pub(super) fn run_len(items: usize, item_ns: u64) -> usize {
    let per_run = RUN_NS / item_ns.max(1);
    usize::try_from(per_run)
        .unwrap_or(usize::MAX)
        .clamp(1, items.max(1))
}

/// Estimated nanoseconds to encrypt or decrypt `len` bytes (AES-GCM runs at several GB/s).
pub(super) fn symmetric_ns(total_len: usize, items: usize) -> u64 {
    let average = total_len / items.max(1);
    150 + u64::try_from(average / 4).unwrap_or(u64::MAX)
}

impl Keyring {
    /// Runs `op` over `items` in runs of `run` items, on the pool unless one run covers all.
    pub(super) fn run_items<R, T, F>(
        &self,
        items: &[R],
        run: usize,
        op: F,
    ) -> Result<Vec<Result<T>>>
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
    pub(super) fn run_into_buffer<R, T, S, F>(
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

    /// The pool that shares this keyring's batches with the calling thread; `None` when the
    /// pool would have one thread, so the calling thread is all a batch uses.
    fn batch_pool(&self) -> Result<Option<Arc<ThreadPool>>> {
        self.batch_config().pool.pool()
    }

    pub(super) fn max_batch_items(&self) -> usize {
        self.batch_config().max_items
    }
}
