//! The recorder: on the calling side, each thread's bounded queue of one-cache-line records,
//! back-pressure, and the per-call scope that fills a record when an operation ends; on the
//! other, the writer thread that takes turns among the queues, formats events, hands them to
//! the sink and keeps the per-key usage counts.

use core::cell::{Cell, RefCell};
use core::fmt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam::channel::{self, Sender};
use crossbeam::utils::Backoff;

use super::encode::push_u64;
use super::{
    AuditConfig, AuditContext, AuditEvent, AuditSink, BackPressure, ContextLogging, Operation,
    RequestId,
};
use crate::context::EncryptionContext;
use crate::envelope::MAX_KEY_ID_LEN;
use crate::error::{Error, Result};

/// Key ids up to this long travel inside a slot; longer ones (rare: generated ids are 36
/// bytes) in an allocation of their own.
const INLINE_KEY_ID: usize = 54;

/// A key id in a slot.
enum KeyName {
    Inline(u8, [u8; INLINE_KEY_ID]),
    Long(Box<str>),
}

impl KeyName {
    const NONE: Self = Self::Inline(0, [0; INLINE_KEY_ID]);

    fn new(id: &[u8]) -> Self {
        match u8::try_from(id.len()) {
            Ok(n) if id.len() <= INLINE_KEY_ID => {
                let mut bytes = [0u8; INLINE_KEY_ID];
                bytes[..id.len()].copy_from_slice(id);
                Self::Inline(n, bytes)
            }
            _ => Self::Long(String::from_utf8_lossy(id).into()),
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Self::Inline(0, _) => None,
            Self::Inline(n, bytes) => core::str::from_utf8(&bytes[..usize::from(*n)]).ok(),
            Self::Long(s) => Some(s),
        }
    }
}

/// One event, as the calling thread records it: what differs from call to call. What tends to
/// stay the same (key, caller, context) travels in slots of its own, only when it changes.
struct Raw {
    time: u64,
    counter: u64,
    version: u32,
    operation: Operation,
    error: Option<Error>,
}

/// One slot of a calling thread's lane: an event, or a change to what the events after it
/// refer to. One cache line: a push writes one line and touches nothing the writer writes (no
/// reference count goes back and forth with every event).
#[repr(align(64))]
enum Slot {
    Event(Raw),
    Key(KeyName),
    Caller(Option<Arc<str>>),
    Context(Option<Arc<[(String, String)]>>),
}

const _: () = assert!(core::mem::size_of::<Slot>() == 64);

/// The most events a calling thread may have waiting, per keyring.
pub const MAX_QUEUE_CAPACITY: usize = 1 << 20;

/// Per-key usage, kept by the writer thread.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyLastUsage {
    /// The last time the key was used (any operation, success or failure).
    pub last_used: Option<SystemTime>,
    /// The last operation.
    pub last_operation: Option<Operation>,
    /// How many times each operation was performed with the key.
    pub counts: Vec<(Operation, u64)>,
}

/// Per key: last use (Unix nanoseconds), last operation, and a count per operation (indexed
/// like [`Operation::ALL`]).
type Usage = HashMap<String, (u64, Operation, Box<[u64]>)>;

/// What the callers hand the writer besides events: new lanes and flush requests.
#[derive(Default)]
struct Inbox {
    lanes: Vec<Intake>,
    flushes: Vec<Sender<()>>,
}

/// What the callers and the writer share.
struct Shared {
    /// Unix nanoseconds, refreshed by the writer at most every [`CLOCK_STEP`]: events carry
    /// this time, which saves each call a clock read and keeps the line it is on quiet
    /// (CloudTrail's own times are to the second).
    clock: AtomicU64,
    /// Set when the keyring goes away: the writer drains every lane, closes the sink and stops.
    closing: AtomicBool,
    /// Whether the inbox may hold something: the writer looks at this flag, not the lock.
    mail: AtomicBool,
    inbox: Mutex<Inbox>,
    dropped: AtomicU64,
    failures: AtomicU64,
    usage: Mutex<Usage>,
}

/// A keyring's audit machinery: what the callers share with the writer, and the writer.
///
/// Each calling thread has a lane of its own per keyring, a single-producer ring: a push is a
/// copy into the ring and a store, with no compare-and-swap shared with other threads and no
/// load of anything the writer thread writes (the cost is cache-line traffic, not
/// instructions). The writer visits every lane.
pub(crate) struct Recorder {
    /// Tells this keyring's lanes in a thread's lane list from other keyrings'.
    id: u64,
    shared: Arc<Shared>,
    context: ContextLogging,
    back_pressure: BackPressure,
    capacity: usize,
    writer: Option<JoinHandle<()>>,
    /// The fork generation of the process whose writer thread this is. A forked child has no
    /// writer thread (threads do not survive `fork()`): there, audited operations fail rather
    /// than wait for a writer that never comes or go unrecorded.
    generation: u64,
}

/// What an audited call made by the keyring's own sink (on its writer thread) answers: the
/// writer would wait for itself once the queue is full, and every event the sink caused
/// would cause another.
const ON_WRITER: Error = Error::InvalidInput(
    "an audit sink or callback cannot use the keyring it audits (the call would wait for the \
     audit writer thread, which is the thread making it)",
);

/// What an audited keyring made before a `fork()` answers in the child.
const FORKED: Error = Error::Storage(
    "the audit trail's writer is in the parent process: in a forked child, make the audited \
     keyring after the fork",
);

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("context", &self.context)
            .field("back_pressure", &self.back_pressure)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

static NEXT_RECORDER: AtomicU64 = AtomicU64::new(1);

impl Recorder {
    pub(crate) fn start(config: AuditConfig) -> Result<Self> {
        let shared = Arc::new(Shared {
            clock: AtomicU64::new(now_nanos()),
            closing: AtomicBool::new(false),
            mail: AtomicBool::new(false),
            inbox: Mutex::new(Inbox::default()),
            dropped: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            usage: Mutex::new(Usage::new()),
        });
        let id = NEXT_RECORDER.fetch_add(1, Ordering::Relaxed);
        let mut writer = Writer {
            recorder: id,
            lanes: Vec::new(),
            delivery: Delivery {
                sink: config.sink,
                shared: Arc::clone(&shared),
                sequence: 0,
                reported_dropped: 0,
                context: config.context,
            },
            clock_stored: 0,
        };
        let writer = std::thread::Builder::new()
            .name("keyplane-audit".into())
            .spawn(move || writer.run())
            .map_err(|_| Error::Internal)?;
        Ok(Self {
            id,
            shared,
            context: config.context,
            back_pressure: config.back_pressure,
            capacity: config.capacity,
            writer: Some(writer),
            generation: crate::fork::generation(),
        })
    }

    /// Whether this process is a fork of the one that started the writer.
    fn forked(&self) -> bool {
        self.generation != crate::fork::generation()
    }

    /// Whether the calling thread is this keyring's writer thread (running its sink).
    fn on_writer(&self) -> bool {
        WRITER_OF.get() == self.id
    }

    pub(crate) fn flush(&self) -> Result<()> {
        if self.forked() {
            return Err(FORKED);
        }
        if self.on_writer() {
            return Err(ON_WRITER);
        }
        let (ack, done) = channel::bounded(1);
        self.shared
            .inbox
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flushes
            .push(ack);
        self.shared.mail.store(true, Ordering::Release);
        done.recv()
            .map_err(|_| Error::Storage("the audit writer has stopped"))
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Acquire)
    }

    pub(crate) fn failures(&self) -> u64 {
        self.shared.failures.load(Ordering::Acquire)
    }

    pub(crate) fn usage(&self, key_id: &str) -> KeyLastUsage {
        let usage = self
            .shared
            .usage
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        usage
            .get(key_id)
            .map_or_else(KeyLastUsage::default, |(t, op, counts)| {
                let mut counts: Vec<(Operation, u64)> = Operation::ALL
                    .iter()
                    .zip(counts.iter())
                    .filter(|&(_, &n)| n > 0)
                    .map(|(o, n)| (*o, *n))
                    .collect();
                counts.sort_by_key(|(o, _)| o.as_str());
                KeyLastUsage {
                    last_used: Some(UNIX_EPOCH + Duration::from_nanos(*t)),
                    last_operation: Some(*op),
                    counts,
                }
            })
    }

    /// A new lane for the calling thread (the writer picks it up from the inbox).
    fn open_lane(&self, thread: u64) -> Lane {
        let (producer, consumer) = rtrb::RingBuffer::new(self.capacity);
        self.shared
            .inbox
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .lanes
            .push(Intake {
                slots: consumer,
                thread,
                key: KeyName::NONE,
                caller: None,
                context: None,
            });
        self.shared.mail.store(true, Ordering::Release);
        Lane {
            recorder: self.id,
            slots: producer,
            key_len: 0,
            key: [0; MAX_KEY_ID_LEN],
            caller: None,
            context: None,
        }
    }

    /// Records one event from the calling thread.
    fn record(&self, event: Event<'_>) {
        let recorded = LANES.try_with(|lanes| {
            let mut lanes = lanes.borrow_mut();
            let index = match lanes.iter().position(|lane| lane.recorder == self.id) {
                Some(index) => index,
                None => {
                    // Lanes of keyrings that are gone (their writer let go) leave the list here.
                    lanes.retain(|lane| !lane.slots.is_abandoned());
                    lanes.push(self.open_lane(event.thread));
                    lanes.len() - 1
                }
            };
            self.push(&mut lanes[index], &event);
        });
        if recorded.is_err() {
            // The thread is tearing down its thread-locals: a lane for this one event.
            self.push(&mut self.open_lane(event.thread), &event);
        }
    }

    /// Pushes the changes the event needs, then the event. A change is remembered only once
    /// it is in the lane, so a dropped slot never leaves the two sides disagreeing.
    fn push(&self, lane: &mut Lane, event: &Event<'_>) {
        // Only a name too long for a key id pays for the copy (a stack buffer filled per call
        // would cost every call).
        let mut shortened;
        let key = if event.key.len() > MAX_KEY_ID_LEN {
            shortened = [0u8; MAX_KEY_ID_LEN];
            logged_name(event.key, &mut shortened)
        } else {
            event.key
        };
        if lane.key[..lane.key_len] != *key {
            if !self.send(lane, Slot::Key(KeyName::new(key))) {
                return;
            }
            lane.key[..key.len()].copy_from_slice(key);
            lane.key_len = key.len();
        }
        if !same(lane.caller.as_ref(), event.caller) {
            if !self.send(lane, Slot::Caller(event.caller.cloned())) {
                return;
            }
            lane.caller = event.caller.cloned();
        }
        if !same(lane.context.as_ref(), event.context) {
            if !self.send(lane, Slot::Context(event.context.cloned())) {
                return;
            }
            lane.context = event.context.cloned();
        }
        self.send(
            lane,
            Slot::Event(Raw {
                time: self.shared.clock.load(Ordering::Relaxed),
                counter: event.counter,
                version: event.version,
                operation: event.operation,
                error: event.error,
            }),
        );
    }

    /// Puts a slot in the lane, waiting for room or dropping (and counting) the event,
    /// according to the policy. Returns whether the slot went in.
    fn send(&self, lane: &mut Lane, slot: Slot) -> bool {
        match lane.slots.push(slot) {
            Ok(()) => true,
            Err(rtrb::PushError::Full(mut slot)) => match self.back_pressure {
                BackPressure::Drop => {
                    self.shared.dropped.fetch_add(1, Ordering::AcqRel);
                    false
                }
                BackPressure::Block => {
                    let backoff = Backoff::new();
                    loop {
                        match lane.slots.push(slot) {
                            Ok(()) => return true,
                            Err(rtrb::PushError::Full(back)) => slot = back,
                        }
                        if backoff.is_completed() {
                            std::thread::sleep(Duration::from_micros(50));
                        } else {
                            backoff.snooze();
                        }
                    }
                }
            },
        }
    }
}

/// How much of a name longer than any key id or alias a log keeps, at most.
const KEPT_OF_LONG_NAME: usize = 200;

/// `name` as the log records it: as given when it could be a key id or an alias (at most
/// [`MAX_KEY_ID_LEN`] bytes), otherwise its first 200 bytes or so (cut at a character
/// boundary) and a visible mark with its full length, written into `buf`. A name that long
/// names no key, so the call failed; keeping it whole would let a caller grow the log by
/// 64 KiB per failed call.
pub(super) fn logged_name<'a>(name: &'a [u8], buf: &'a mut [u8; MAX_KEY_ID_LEN]) -> &'a [u8] {
    if name.len() <= MAX_KEY_ID_LEN {
        return name;
    }
    // Names come from `&str`: back up to the start of a character (a UTF-8 continuation byte
    // is 0b10xx_xxxx), so the kept part stays valid UTF-8.
    let mut kept = KEPT_OF_LONG_NAME;
    while kept > 0 && name[kept] & 0xc0 == 0x80 {
        kept -= 1;
    }
    let mut out = Vec::with_capacity(MAX_KEY_ID_LEN);
    out.extend_from_slice(&name[..kept]);
    out.extend_from_slice("…[truncated, ".as_bytes());
    push_u64(&mut out, u64::try_from(name.len()).unwrap_or(u64::MAX));
    out.extend_from_slice(b" bytes]");
    let n = out.len().min(MAX_KEY_ID_LEN);
    buf[..n].copy_from_slice(&out[..n]);
    &buf[..n]
}

/// Whether two optional shared values are the same allocation (the lane holds a clone of
/// its own, so an address cannot be reused while it is compared against).
fn same<T: ?Sized>(a: Option<&Arc<T>>, b: Option<&Arc<T>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

/// One event on its way from [`scoped`] into a lane.
struct Event<'a> {
    thread: u64,
    counter: u64,
    operation: Operation,
    key: &'a [u8],
    version: u32,
    caller: Option<&'a Arc<str>>,
    context: Option<&'a Arc<[(String, String)]>>,
    error: Option<Error>,
}

/// The calling thread's end of one keyring's lane, and what it last told the writer.
struct Lane {
    recorder: u64,
    slots: rtrb::Producer<Slot>,
    key_len: usize,
    key: [u8; MAX_KEY_ID_LEN],
    caller: Option<Arc<str>>,
    context: Option<Arc<[(String, String)]>>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if self.forked() {
            // The writer thread, and the sink it owns, belong to the parent: joining a thread
            // this process does not have would never return, so everything is left as it is.
            core::mem::forget(self.writer.take());
            return;
        }
        self.shared.closing.store(true, Ordering::Release);
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

// The calling thread's audit state: whether an audited call is in progress (nested calls,
// such as `decrypt` inside `re_encrypt`, are part of it and not recorded again), what the
// operation noted about its key, and its lanes.
thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static NOTED: RefCell<Noted> = const {
        RefCell::new(Noted { len: 0, key: [0; MAX_KEY_ID_LEN], version: 0 })
    };
    static REQUESTS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    static LANES: RefCell<Vec<Lane>> = const { RefCell::new(Vec::new()) };
    /// On a writer thread: the id of the recorder it writes for (0 elsewhere).
    static WRITER_OF: Cell<u64> = const { Cell::new(0) };
}

/// The key (and version) the operation in progress on this thread is using.
struct Noted {
    len: usize,
    key: [u8; MAX_KEY_ID_LEN],
    version: u32,
}

static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

/// Called by operations once they know the key (and the version) they are using.
#[inline]
pub(crate) fn note(key_id: &str, version: u32) {
    if ACTIVE.get() {
        NOTED.with_borrow_mut(|noted| {
            let n = key_id.len().min(MAX_KEY_ID_LEN);
            noted.key[..n].copy_from_slice(&key_id.as_bytes()[..n]);
            noted.len = n;
            noted.version = version;
        });
    }
}

pub(super) fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Runs `f` as one audited operation.
pub(crate) fn scoped<T>(
    recorder: &Recorder,
    caller: Option<&Arc<str>>,
    operation: Operation,
    key_id: Option<&str>,
    context: Option<&EncryptionContext>,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    if ACTIVE.get() {
        return f();
    }
    if recorder.forked() {
        return Err(FORKED);
    }
    if recorder.on_writer() {
        return Err(ON_WRITER);
    }
    ACTIVE.set(true);
    NOTED.with_borrow_mut(|noted| {
        noted.len = 0;
        noted.version = 0;
    });
    let result = f();
    ACTIVE.set(false);

    let (thread, counter) = {
        let (mut thread, counter) = REQUESTS.get();
        if thread == 0 {
            thread = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
        }
        REQUESTS.set((thread, counter + 1));
        (thread, counter + 1)
    };
    let context = match recorder.context {
        ContextLogging::None => None,
        _ => context
            .filter(|c| !c.is_empty())
            .map(EncryptionContext::pairs_shared),
    };
    NOTED.with_borrow(|noted| {
        // The key the operation found (its real id, not an alias), else the name it was given.
        let (key, version) = if noted.len > 0 {
            (&noted.key[..noted.len], noted.version)
        } else {
            (key_id.unwrap_or_default().as_bytes(), 0)
        };
        recorder.record(Event {
            thread,
            counter,
            operation,
            key,
            version,
            caller,
            context,
            error: result.as_ref().err().copied(),
        });
    });
    result
}

// ----- the writer thread --------------------------------------------------------------------

/// Runs a sink call; a sink that panics counts as a failed call, and the writer carries on (a
/// dead writer would leave callers waiting on a full lane).
fn guarded(f: impl FnOnce() -> Result<()>) -> Result<()> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(Err(Error::Internal))
}

/// How long the idle writer sleeps between looks at the lanes (also the most a `flush` waits
/// for it to notice).
const IDLE_NAP: Duration = Duration::from_micros(200);

/// How far the writer lets the event clock fall behind (nanoseconds): each store makes every
/// calling thread's next load a cache miss, so it is not refreshed more often.
const CLOCK_STEP: u64 = 250_000;

/// The most slots the writer takes from one lane before it looks at the next.
const TURN: usize = 1024;

/// The writer's end of a lane, and what the events in it refer to.
struct Intake {
    slots: rtrb::Consumer<Slot>,
    thread: u64,
    key: KeyName,
    caller: Option<Arc<str>>,
    context: Option<Arc<[(String, String)]>>,
}

/// The writer thread: the lanes it visits, and where their events go.
struct Writer {
    /// The id of the recorder this thread writes for.
    recorder: u64,
    lanes: Vec<Intake>,
    delivery: Delivery,
    clock_stored: u64,
}

/// The sink and the writer's running state (apart from the lanes, so that a lane and the
/// sink can be borrowed together).
struct Delivery {
    sink: Box<dyn AuditSink>,
    shared: Arc<Shared>,
    sequence: u64,
    reported_dropped: u64,
    context: ContextLogging,
}

impl Writer {
    fn run(&mut self) {
        WRITER_OF.set(self.recorder);
        // Polls rather than sleeping on a condition: a sleeping writer would make every
        // producer pay a futex wake (microseconds) to hand it one event. Idle, it naps.
        loop {
            let now = now_nanos();
            if now.abs_diff(self.clock_stored) >= CLOCK_STEP {
                self.delivery.shared.clock.store(now, Ordering::Relaxed);
                self.clock_stored = now;
            }
            // Read before the lanes: once it is set, no caller pushes any more.
            let closing = self.delivery.shared.closing.load(Ordering::Acquire);
            let flushes = self.open_mail();
            let everything = closing || !flushes.is_empty();
            let mut taken = 0;
            for lane in &mut self.lanes {
                taken += self.delivery.drain(lane, everything);
            }
            // A lane whose thread has ended and that is empty is done with.
            self.lanes
                .retain(|lane| !(lane.slots.is_abandoned() && lane.slots.is_empty()));
            if !flushes.is_empty() {
                self.delivery.report_dropped();
                let flushed = guarded(|| self.delivery.sink.flush());
                self.delivery.check(flushed);
                for ack in flushes {
                    let _ = ack.send(());
                }
            }
            if closing {
                break;
            }
            if taken == 0 {
                std::thread::sleep(IDLE_NAP);
            }
        }
        self.delivery.report_dropped();
        let closed = guarded(|| self.delivery.sink.close());
        self.delivery.check(closed);
    }

    /// Takes new lanes and flush requests from the inbox.
    fn open_mail(&mut self) -> Vec<Sender<()>> {
        let shared = &self.delivery.shared;
        if !shared.mail.swap(false, Ordering::AcqRel) {
            return Vec::new();
        }
        let mut inbox = shared.inbox.lock().unwrap_or_else(PoisonError::into_inner);
        self.lanes.append(&mut inbox.lanes);
        core::mem::take(&mut inbox.flushes)
    }
}

impl Delivery {
    /// Writes what `lane` holds: a turn's worth, or (`everything`) all that is in it now.
    fn drain(&mut self, lane: &mut Intake, everything: bool) -> usize {
        let available = lane.slots.slots();
        let n = if everything {
            available
        } else {
            available.min(TURN)
        };
        for _ in 0..n {
            let Ok(slot) = lane.slots.pop() else {
                break;
            };
            match slot {
                Slot::Event(raw) => self.record(lane, &raw),
                Slot::Key(key) => lane.key = key,
                Slot::Caller(caller) => lane.caller = caller,
                Slot::Context(context) => lane.context = context,
            }
        }
        n
    }

    /// Counts the event's use of its key, then hands it to the sink.
    fn record(&mut self, lane: &Intake, raw: &Raw) {
        self.report_dropped();
        self.sequence += 1;
        let key_id = lane.key.as_str();
        if let Some(id) = key_id {
            let mut usage = self
                .shared
                .usage
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let entry = match usage.get_mut(id) {
                Some(entry) => entry,
                None => usage.entry(id.to_owned()).or_insert_with(|| {
                    (
                        0,
                        raw.operation,
                        vec![0; Operation::ALL.len()].into_boxed_slice(),
                    )
                }),
            };
            entry.0 = raw.time;
            entry.1 = raw.operation;
            if let Some(count) = entry.2.get_mut(raw.operation.index()) {
                *count += 1;
            }
        }
        let event = AuditEvent {
            sequence: self.sequence,
            time: UNIX_EPOCH + Duration::from_nanos(raw.time),
            request_id: RequestId {
                thread: lane.thread,
                counter: raw.counter,
            },
            operation: raw.operation,
            key_id,
            key_version: (raw.version > 0).then_some(raw.version),
            caller: lane.caller.as_deref(),
            context: AuditContext {
                pairs: lane.context.as_deref().unwrap_or_default(),
                keys_only: self.context == ContextLogging::KeysOnly,
            },
            error_code: raw.error.map(|e| e.code()),
        };
        let result = guarded(|| self.sink.record(&event));
        self.check(result);
    }

    fn check(&self, result: Result<()>) {
        if result.is_err() {
            self.shared.failures.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Tells the sink how many events were dropped since it was last told.
    fn report_dropped(&mut self) {
        let dropped = self.shared.dropped.load(Ordering::Acquire);
        if dropped > self.reported_dropped {
            let result = guarded(|| self.sink.dropped(dropped - self.reported_dropped));
            self.check(result);
            self.reported_dropped = dropped;
        }
    }
}
