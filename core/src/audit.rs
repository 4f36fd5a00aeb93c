//! The audit trail: every operation on a keyring recorded, off the hot path, in a log whose
//! tampering is detectable.
//!
//! A keyring built with [`KeyringBuilder::audit`](crate::KeyringBuilder::audit) records an
//! [`AuditEvent`] for every operation, key management and cryptographic, success and failure:
//! when, which operation, which key and version, who (the [`caller`](crate::Keyring::with_caller)
//! of the keyring handle), the encryption context (in full, keys only or not at all), the
//! outcome and a request id. Never a plaintext, a ciphertext body or key material. A batch
//! records one event per item.
//!
//! **Off the hot path.** The calling thread fills a one-cache-line record and pushes it into a
//! bounded queue of its own (one per thread and keyring, so callers never contend); a writer
//! thread formats, hashes and writes. When the queue is full the caller
//! either waits ([`BackPressure::Block`], the default: no event is ever lost) or drops the event
//! and counts it ([`BackPressure::Drop`]); the writer records the count. [`Keyring::flush_audit`]
//! returns once everything recorded before it is written; dropping the last handle of the
//! keyring writes everything and closes the log.
//!
//! **Sinks.** [`AuditSink`] receives each thread's events in the order they happened (the
//! writer takes turns among threads): [`MemorySink`] (tests),
//! [`CallbackSink`] (the C, Python and Node layers forward events with it) and [`FileSink`], a
//! JSON Lines log where every line carries the SHA-256 of the line before it, with checkpoints
//! MACed (HMAC-SHA256) under the keyring's [`AuditKey`], rotation by size with the chain running
//! on into the next file, and [`verify`] to check it. The format is in `FORMAT.md`.
//!
//! **Per-key usage** ([`Keyring::key_last_usage`]): last use and counts per operation, kept by the
//! writer thread from the events, so they cost the caller nothing.
//!
//! [`Keyring::flush_audit`]: crate::Keyring::flush_audit
//! [`Keyring::key_last_usage`]: crate::Keyring::key_last_usage

use core::cell::{Cell, RefCell};
use core::fmt;
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::{constant_time, digest, hmac};
use crossbeam::channel::{self, Sender};
use crossbeam::utils::Backoff;
use zeroize::Zeroizing;

use crate::context::EncryptionContext;
use crate::envelope::MAX_KEY_ID_LEN;
use crate::error::{Error, Result};

// ----- events -------------------------------------------------------------------------------

macro_rules! operations {
    ($($variant:ident,)*) => {
        /// An audited operation, named as AWS KMS names its API calls.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $(
                #[doc = concat!("`", stringify!($variant), "`.")]
                $variant,
            )*
        }

        impl Operation {
            /// Every operation.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// The name written in the log (for example `"Encrypt"`).
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => stringify!($variant),)* }
            }

            /// This operation's place in [`ALL`](Self::ALL).
            const fn index(self) -> usize {
                self as usize
            }
        }
    };
}

operations! {
    CreateKey,
    DescribeKey,
    EnableKey,
    DisableKey,
    ScheduleKeyDeletion,
    CancelKeyDeletion,
    CreateAlias,
    UpdateAlias,
    DeleteAlias,
    RotateKey,
    EnableKeyRotation,
    DisableKeyRotation,
    SetRotateOnBudget,
    SetMinDecryptionVersion,
    Encrypt,
    Decrypt,
    ReEncrypt,
    GenerateDataKey,
    GenerateDataKeyWithoutPlaintext,
    GenerateDataKeyPair,
    GenerateDataKeyPairWithoutPlaintext,
    GenerateRandom,
    GenerateMac,
    VerifyMac,
    Sign,
    Verify,
    GetPublicKey,
    EncryptAsymmetric,
    DecryptAsymmetric,
    ExportSealed,
    ImportSealed,
    GetParametersForImport,
    ImportKeyMaterial,
    DeleteImportedKeyMaterial,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much of an encryption context an event keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContextLogging {
    /// Every key and value (what AWS KMS logs).
    #[default]
    Full,
    /// The keys only.
    KeysOnly,
    /// Nothing.
    None,
}

/// What happens when the writer thread falls behind and the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackPressure {
    /// The calling thread waits for room: no event is ever lost.
    #[default]
    Block,
    /// The event is dropped and counted; the writer records how many were dropped.
    Drop,
}

/// Identifies one call: the thread that made it and a counter of that thread's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId {
    /// A number given to each thread at its first audited call.
    pub thread: u64,
    /// The thread's calls, from 1.
    pub counter: u64,
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:x}-{:x}", self.thread, self.counter)
    }
}

/// The encryption context of an event, as much of it as the keyring logs.
#[derive(Debug, Clone, Copy)]
pub struct AuditContext<'a> {
    pairs: &'a [(String, String)],
    keys_only: bool,
}

impl<'a> AuditContext<'a> {
    /// The pairs, sorted by key; values are empty with [`ContextLogging::KeysOnly`].
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a> {
        let keys_only = self.keys_only;
        self.pairs
            .iter()
            .map(move |(k, v)| (k.as_str(), if keys_only { "" } else { v.as_str() }))
    }

    /// Whether nothing of the context is logged.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// One audited operation, as the writer thread hands it to a sink (borrowed: copy what you
/// keep, for example with [`to_owned`](Self::to_owned)).
#[derive(Debug, Clone, Copy)]
pub struct AuditEvent<'a> {
    /// Position in this keyring's audit trail, from 1.
    pub sequence: u64,
    /// When the operation finished, to within about a millisecond (calls read a clock the
    /// writer thread keeps, not the system's).
    pub time: SystemTime,
    /// Unique within the process.
    pub request_id: RequestId,
    /// The operation.
    pub operation: Operation,
    /// The key (its id, never an alias, when the key was found; otherwise the name given, cut
    /// to about 200 bytes and marked `…[truncated, N bytes]` when longer than any key id can
    /// be, 255 bytes).
    pub key_id: Option<&'a str>,
    /// The key version used, for symmetric encryption and decryption.
    pub key_version: Option<u32>,
    /// The caller identity of the keyring handle.
    pub caller: Option<&'a str>,
    /// The encryption context, as much of it as the keyring logs.
    pub context: AuditContext<'a>,
    /// `None` for success, otherwise the error's code (for example `"KP_INVALID_CIPHERTEXT"`).
    pub error_code: Option<&'static str>,
}

impl AuditEvent<'_> {
    /// An owned copy.
    #[must_use]
    pub fn to_owned(&self) -> OwnedAuditEvent {
        OwnedAuditEvent {
            sequence: self.sequence,
            time: self.time,
            request_id: self.request_id,
            operation: self.operation,
            key_id: self.key_id.map(str::to_owned),
            key_version: self.key_version,
            caller: self.caller.map(str::to_owned),
            context: self
                .context
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            error_code: self.error_code,
        }
    }
}

/// An [`AuditEvent`] that owns its strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedAuditEvent {
    /// See [`AuditEvent::sequence`].
    pub sequence: u64,
    /// See [`AuditEvent::time`].
    pub time: SystemTime,
    /// See [`AuditEvent::request_id`].
    pub request_id: RequestId,
    /// See [`AuditEvent::operation`].
    pub operation: Operation,
    /// See [`AuditEvent::key_id`].
    pub key_id: Option<String>,
    /// See [`AuditEvent::key_version`].
    pub key_version: Option<u32>,
    /// See [`AuditEvent::caller`].
    pub caller: Option<String>,
    /// See [`AuditEvent::context`].
    pub context: Vec<(String, String)>,
    /// See [`AuditEvent::error_code`].
    pub error_code: Option<&'static str>,
}

/// Receives a keyring's audit events on the writer thread, each calling thread's in the order
/// it made them.
///
/// A sink must not use the keyring it audits: every audited call (and
/// [`flush_audit`](crate::Keyring::flush_audit)) made from the writer thread on that keyring
/// fails with [`Error::InvalidInput`], since it would wait for the thread making it.
pub trait AuditSink: Send {
    /// Records one event.
    ///
    /// # Errors
    /// [`Error::Storage`] when the event cannot be recorded; the writer keeps going and the
    /// failure is counted (see [`Keyring::audit_failures`](crate::Keyring::audit_failures)).
    fn record(&mut self, event: &AuditEvent<'_>) -> Result<()>;

    /// `dropped` more events were dropped under [`BackPressure::Drop`] before the next one.
    ///
    /// # Errors
    /// As [`record`](Self::record).
    fn dropped(&mut self, dropped: u64) -> Result<()> {
        let _ = dropped;
        Ok(())
    }

    /// Makes everything recorded so far durable.
    ///
    /// # Errors
    /// As [`record`](Self::record).
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    /// The keyring is going away: write anything pending and close.
    ///
    /// # Errors
    /// As [`record`](Self::record).
    fn close(&mut self) -> Result<()> {
        self.flush()
    }
}

/// Keeps events in memory, for tests and small tools.
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    events: Arc<Mutex<Vec<OwnedAuditEvent>>>,
    dropped: Arc<AtomicU64>,
}

impl MemorySink {
    /// An empty sink; clones share the events.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the events recorded so far.
    #[must_use]
    pub fn events(&self) -> Vec<OwnedAuditEvent> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many events were reported dropped.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Acquire)
    }
}

impl AuditSink for MemorySink {
    fn record(&mut self, event: &AuditEvent<'_>) -> Result<()> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event.to_owned());
        Ok(())
    }

    fn dropped(&mut self, dropped: u64) -> Result<()> {
        self.dropped.fetch_add(dropped, Ordering::AcqRel);
        Ok(())
    }
}

/// Calls a function with every event (on the writer thread).
pub struct CallbackSink<F>(pub F);

impl<F> fmt::Debug for CallbackSink<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbackSink")
    }
}

impl<F: FnMut(&AuditEvent<'_>) + Send> AuditSink for CallbackSink<F> {
    fn record(&mut self, event: &AuditEvent<'_>) -> Result<()> {
        (self.0)(event);
        Ok(())
    }
}

// ----- configuration ------------------------------------------------------------------------

/// The default queue capacity: events each calling thread may have waiting, per keyring (a
/// slot is 64 bytes, so 256 KiB per thread that uses an audited keyring).
pub const DEFAULT_QUEUE_CAPACITY: usize = 1 << 12;

/// How a keyring audits: the sink and the policies.
pub struct AuditConfig {
    sink: Box<dyn AuditSink>,
    context: ContextLogging,
    back_pressure: BackPressure,
    capacity: usize,
}

impl fmt::Debug for AuditConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditConfig")
            .field("context", &self.context)
            .field("back_pressure", &self.back_pressure)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl AuditConfig {
    /// Audits into `sink`, logging contexts in full, blocking when the queue is full.
    pub fn new(sink: impl AuditSink + 'static) -> Self {
        Self {
            sink: Box::new(sink),
            context: ContextLogging::Full,
            back_pressure: BackPressure::Block,
            capacity: DEFAULT_QUEUE_CAPACITY,
        }
    }

    /// How much of each encryption context to log.
    #[must_use]
    pub fn context(mut self, context: ContextLogging) -> Self {
        self.context = context;
        self
    }

    /// What to do when the queue is full.
    #[must_use]
    pub fn back_pressure(mut self, policy: BackPressure) -> Self {
        self.back_pressure = policy;
        self
    }

    /// How many events each calling thread may have waiting for the writer, per keyring
    /// (every thread has a queue of its own; at least 1, at most [`MAX_QUEUE_CAPACITY`]).
    #[must_use]
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.clamp(1, MAX_QUEUE_CAPACITY);
        self
    }
}

// ----- the recorder (calling side) ----------------------------------------------------------

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
fn logged_name<'a>(name: &'a [u8], buf: &'a mut [u8; MAX_KEY_ID_LEN]) -> &'a [u8] {
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

fn now_nanos() -> u64 {
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

// ----- the hash-chained file sink -----------------------------------------------------------

/// The key that MACs the audit log's checkpoints (HMAC-SHA256). Keep it apart from the log:
/// whoever holds it can forge checkpoints.
pub struct AuditKey(Zeroizing<Vec<u8>>);

impl AuditKey {
    /// A key from 32 bytes.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] unless `bytes` is 32 bytes long.
    pub fn new(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 32 {
            return Err(Error::InvalidInput("audit key must be 32 bytes"));
        }
        Ok(Self(Zeroizing::new(bytes.to_vec())))
    }

    fn mac(&self, data: &[u8]) -> [u8; 32] {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.0);
        let mut out = [0u8; 32];
        out.copy_from_slice(hmac::sign(&key, data).as_ref());
        out
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey")
    }
}

/// Records between checkpoints unless the file sink is told otherwise.
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 1000;
/// File size at which the file sink starts the next file unless told otherwise.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 << 20;

/// A JSON Lines audit log in a directory: `audit-000001.jsonl`, `audit-000002.jsonl`, …
///
/// Each line carries `"prev"`, the SHA-256 of the line before it (across files), and every
/// [`checkpoint_every`](Self::checkpoint_every) records, at each file's end and at close, a
/// checkpoint line carries an HMAC-SHA256 under the [`AuditKey`]. See `FORMAT.md`.
///
/// **Write failures** (a full disk, a failing device) never break the chain: a line joins
/// the chain in memory and is written out in order, from exactly where the last write
/// stopped, so a file always holds a prefix of the chain. While writes fail, each call that
/// could not write is counted in [`audit_failures`](crate::Keyring::audit_failures) and the
/// lines wait (up to 4 MiB); a line that does not fit is left out of the chain, and the first
/// line that fits again is `AuditRecordsLost` with how many were left out. Once writes succeed
/// again the whole log verifies.
pub struct FileSink {
    dir: PathBuf,
    key: AuditKey,
    /// The file being written, `audit-{file_number}.jsonl`.
    file: Option<File>,
    /// The number of the last file created (0 before the first).
    file_number: u32,
    /// Bytes chained into the current file, written or pending.
    file_bytes: u64,
    max_file_bytes: u64,
    checkpoint_every: u64,
    since_checkpoint: u64,
    /// Lines chained so far: the last line's `seq`.
    line: u64,
    /// The hash of the last line chained.
    prev: [u8; 32],
    /// Lines chained but not yet written, in order; a failed write leaves its unwritten
    /// remainder here.
    pending: Vec<u8>,
    /// Events left out of the chain since the last `AuditRecordsLost` line.
    lost: u64,
    /// Reused for every record, so writing one allocates nothing.
    body: Vec<u8>,
    line_buffer: Vec<u8>,
    #[cfg(test)]
    faults: Option<Arc<tests::Faults>>,
}

/// The file sink writes its pending lines out once they reach this size.
const WRITE_AT: usize = 1 << 16;
/// The most the file sink keeps in memory while writes fail.
const MAX_PENDING: usize = 4 << 20;

impl fmt::Debug for FileSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSink")
            .field("dir", &self.dir)
            .field("file_number", &self.file_number)
            .finish_non_exhaustive()
    }
}

fn storage(what: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |_| Error::Storage(what)
}

impl FileSink {
    /// A log in `dir` (created if needed). The directory must hold no earlier log: a log is
    /// one chain from its first file.
    ///
    /// # Errors
    /// [`Error::Storage`] when the directory cannot be created or already holds a log.
    pub fn create(dir: impl AsRef<Path>, key: AuditKey) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(storage("cannot create the audit directory"))?;
        if !log_files(&dir)?.is_empty() {
            return Err(Error::Storage(
                "the audit directory already holds a log; use a new directory",
            ));
        }
        Ok(Self {
            dir,
            key,
            file: None,
            file_number: 0,
            file_bytes: 0,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
            since_checkpoint: 0,
            line: 0,
            prev: [0; 32],
            pending: Vec::with_capacity(WRITE_AT + 1024),
            lost: 0,
            body: Vec::with_capacity(512),
            line_buffer: Vec::with_capacity(640),
            #[cfg(test)]
            faults: None,
        })
    }

    /// Starts a new file once the current one reaches `bytes` (default 64 MiB).
    #[must_use]
    pub fn max_file_bytes(mut self, bytes: u64) -> Self {
        self.max_file_bytes = bytes.max(1);
        self
    }

    /// Writes a MACed checkpoint every `records` records (default 1000).
    #[must_use]
    pub fn checkpoint_every(mut self, records: u64) -> Self {
        self.checkpoint_every = records.max(1);
        self
    }

    /// Writes the pending lines to the current file (created first if there is none). A
    /// failure keeps whatever was not written, to be written from that byte on next time.
    fn write_out(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if self.file.is_none() {
            // The number is taken only once the file exists: a failed creation is retried
            // under the same name, so no file number is ever skipped.
            let number = self
                .file_number
                .checked_add(1)
                .ok_or(Error::Storage("too many audit log files"))?;
            let path = self.dir.join(format!("audit-{number:06}.jsonl"));
            #[cfg(test)]
            tests::Faults::on_create(self.faults.as_deref())?;
            let file = OpenOptions::new()
                .create_new(true)
                .write(true)
                .open(&path)
                .map_err(storage("cannot create an audit log file"))?;
            self.file = Some(file);
            self.file_number = number;
        }
        let file = self.file.as_mut().ok_or(Error::Internal)?;
        let mut written = 0;
        let result = loop {
            let rest = &self.pending[written..];
            if rest.is_empty() {
                break Ok(());
            }
            #[cfg(test)]
            let attempt = tests::Faults::write(self.faults.as_deref(), file, rest);
            #[cfg(not(test))]
            let attempt = std::io::Write::write(file, rest);
            match attempt {
                Ok(0) => break Err(Error::Storage("cannot write the audit log")),
                Ok(n) => written += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break Err(Error::Storage("cannot write the audit log")),
            }
        };
        self.pending.drain(..written);
        result
    }

    /// Adds one line (`body` is a JSON object without its closing brace) to the chain: it is
    /// written with the pending lines. Fails, leaving the chain as it was, only when the line
    /// cannot be kept (writes are failing and [`MAX_PENDING`] bytes are waiting).
    fn append(&mut self, body: &[u8]) -> Result<()> {
        let mut line = core::mem::take(&mut self.line_buffer);
        line.clear();
        line.extend_from_slice(body);
        line.extend_from_slice(b",\"prev\":\"");
        push_hex(&mut line, &self.prev);
        line.extend_from_slice(b"\"}");
        if self.pending.len() + line.len() >= MAX_PENDING {
            let written = self.write_out();
            if self.pending.len() + line.len() >= MAX_PENDING {
                self.line_buffer = line;
                return written.and(Err(Error::Storage("cannot write the audit log")));
            }
        }
        let hash = digest::digest(&digest::SHA256, &line);
        self.prev.copy_from_slice(hash.as_ref());
        self.line += 1;
        self.pending.extend_from_slice(&line);
        self.pending.push(b'\n');
        self.file_bytes += u64::try_from(line.len() + 1).unwrap_or(u64::MAX);
        self.line_buffer = line;
        Ok(())
    }

    /// Writes the pending lines out once there are enough of them.
    fn write_some(&mut self) -> Result<()> {
        if self.pending.len() >= WRITE_AT {
            self.write_out()
        } else {
            Ok(())
        }
    }

    /// A line saying how many events were left out, if any were, before the next line.
    fn note_lost(&mut self) -> Result<()> {
        if self.lost == 0 {
            return Ok(());
        }
        let body = format!(
            "{{\"seq\":{},\"time\":{},\"operation\":\"AuditRecordsLost\",\"count\":{}",
            self.line + 1,
            now_nanos(),
            self.lost
        );
        self.append(body.as_bytes())?;
        self.lost = 0;
        Ok(())
    }

    /// A checkpoint: the chain so far, MACed.
    fn checkpoint(&mut self, closed: bool) -> Result<()> {
        let seq = self.line + 1;
        let body = checkpoint_body(&self.key, seq, now_nanos(), closed, &self.prev);
        self.append(&body)?;
        self.since_checkpoint = 0;
        Ok(())
    }

    fn sync(&mut self) -> Result<()> {
        self.write_out()?;
        if let Some(file) = self.file.as_ref() {
            file.sync_data()
                .map_err(storage("cannot sync the audit log"))?;
        }
        Ok(())
    }

    fn after_record(&mut self) -> Result<()> {
        self.since_checkpoint += 1;
        if self.since_checkpoint >= self.checkpoint_every {
            self.checkpoint(false)?;
        }
        if self.file_bytes >= self.max_file_bytes {
            if self.since_checkpoint > 0 {
                self.checkpoint(false)?;
            }
            // The file is let go only once everything chained into it is on disk; until
            // then the lines after it go on into it.
            self.sync()?;
            self.file = None;
            self.file_bytes = 0;
        }
        self.write_some()
    }
}

/// A checkpoint line's body (without `prev`), the only form [`verify`] accepts.
fn checkpoint_body(key: &AuditKey, seq: u64, time: u64, closed: bool, prev: &[u8; 32]) -> Vec<u8> {
    let mac = key.mac(&checkpoint_input(seq, time, closed, prev));
    let mut body = format!(
        "{{\"seq\":{seq},\"checkpoint\":true,\"time\":{time},\"closed\":{closed},\"mac\":\""
    )
    .into_bytes();
    push_hex(&mut body, &mac);
    body.push(b'"');
    body
}

fn checkpoint_input(seq: u64, time: u64, closed: bool, prev: &[u8; 32]) -> Vec<u8> {
    let mut input = Vec::with_capacity(64);
    input.extend_from_slice(b"keyplane audit checkpoint v1\0");
    input.extend_from_slice(&seq.to_be_bytes());
    input.extend_from_slice(&time.to_be_bytes());
    input.push(u8::from(closed));
    input.extend_from_slice(prev);
    input
}

impl AuditSink for FileSink {
    fn record(&mut self, event: &AuditEvent<'_>) -> Result<()> {
        if let Err(e) = self.note_lost() {
            self.lost += 1;
            return Err(e);
        }
        let mut body = core::mem::take(&mut self.body);
        body.clear();
        let time = event
            .time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let seq = self.line + 1;
        // By hand rather than through `fmt`: this runs once per event on the writer thread.
        body.extend_from_slice(b"{\"seq\":");
        push_u64(&mut body, seq);
        body.extend_from_slice(b",\"time\":");
        push_u64(&mut body, time);
        body.extend_from_slice(b",\"request_id\":\"");
        push_hex_u64(&mut body, event.request_id.thread);
        body.push(b'-');
        push_hex_u64(&mut body, event.request_id.counter);
        body.extend_from_slice(b"\",\"operation\":\"");
        body.extend_from_slice(event.operation.as_str().as_bytes());
        body.push(b'"');
        if let Some(key_id) = event.key_id {
            body.extend_from_slice(b",\"key_id\":");
            push_json_str(&mut body, key_id);
        }
        if let Some(v) = event.key_version {
            body.extend_from_slice(b",\"key_version\":");
            push_u64(&mut body, u64::from(v));
        }
        if let Some(caller) = event.caller {
            body.extend_from_slice(b",\"caller\":");
            push_json_str(&mut body, caller);
        }
        if !event.context.is_empty() {
            body.extend_from_slice(b",\"context\":{");
            for (i, (k, v)) in event.context.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                push_json_str(&mut body, k);
                body.push(b':');
                push_json_str(&mut body, v);
            }
            body.push(b'}');
        }
        body.extend_from_slice(b",\"outcome\":\"");
        body.extend_from_slice(event.error_code.unwrap_or("ok").as_bytes());
        body.push(b'"');
        let appended = self.append(&body);
        self.body = body;
        if let Err(e) = appended {
            self.lost += 1;
            return Err(e);
        }
        self.after_record()
    }

    fn dropped(&mut self, dropped: u64) -> Result<()> {
        if let Err(e) = self.note_lost() {
            // The dropped events are left out too: count them with the lost ones.
            self.lost = self.lost.saturating_add(dropped);
            return Err(e);
        }
        let seq = self.line + 1;
        let body = format!(
            "{{\"seq\":{seq},\"time\":{},\"operation\":\"AuditRecordsDropped\",\"count\":{dropped}",
            now_nanos()
        );
        if let Err(e) = self.append(body.as_bytes()) {
            self.lost = self.lost.saturating_add(dropped);
            return Err(e);
        }
        self.after_record()
    }

    fn flush(&mut self) -> Result<()> {
        self.note_lost()?;
        self.sync()
    }

    fn close(&mut self) -> Result<()> {
        self.note_lost()?;
        self.checkpoint(true)?;
        self.sync()
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        // Normally `close` wrote everything; this is a last try for lines a failing disk kept.
        let _ = self.write_out();
    }
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

// The log is built as bytes: every piece is ASCII or already UTF-8, so no check is needed.

fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    for b in bytes {
        out.extend_from_slice(&[
            HEX_DIGITS[usize::from(b >> 4)],
            HEX_DIGITS[usize::from(b & 0x0f)],
        ]);
    }
}

/// `n` in decimal.
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// `n` in lower-case hexadecimal, without leading zeros.
fn push_hex_u64(out: &mut Vec<u8>, n: u64) {
    let mut text = [0u8; 16];
    let digits = (64 - n.leading_zeros()).div_ceil(4).max(1) as usize;
    for (i, d) in text[..digits].iter_mut().rev().enumerate() {
        *d = HEX_DIGITS[((n >> (4 * i)) & 0xf) as usize];
    }
    out.extend_from_slice(&text[..digits]);
}

fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        // Nothing to escape: the common case for ids, names and contexts.
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    // Only ASCII bytes need escaping; the bytes of a multi-byte character are all >= 0x80.
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b if b < 0x20 => {
                out.extend_from_slice(b"\\u00");
                out.extend_from_slice(&[
                    HEX_DIGITS[usize::from(b >> 4)],
                    HEX_DIGITS[usize::from(b & 0xf)],
                ]);
            }
            b => out.push(b),
        }
    }
    out.push(b'"');
}

fn log_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(storage("cannot list the audit directory"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("audit-") && n.ends_with(".jsonl"))
        })
        .collect();
    files.sort();
    Ok(files)
}

// ----- verification -------------------------------------------------------------------------

/// What [`verify`] found in an intact log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Event lines (checkpoints not counted).
    pub records: u64,
    /// The last checkpoint: its file, line and time.
    pub last_checkpoint: Option<(PathBuf, u64, SystemTime)>,
    /// Whether the log ends with the checkpoint written at close. `false` means the writer
    /// crashed or the tail was cut off after `ends_at`: lines after the last checkpoint are
    /// chained but not MACed.
    pub closed: bool,
    /// The last complete line: file and line number.
    pub ends_at: Option<(PathBuf, u64)>,
    /// An incomplete last line was ignored (a crash mid-write).
    pub incomplete_tail: bool,
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "intact, {} records", self.records)?;
        match &self.last_checkpoint {
            Some((file, line, time)) => {
                let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                write!(
                    f,
                    ", last checkpoint at {}:{line} (unix time {secs})",
                    file.display()
                )?;
            }
            None => f.write_str(", no checkpoint")?,
        }
        if !self.closed {
            match &self.ends_at {
                Some((file, line)) => write!(
                    f,
                    "; NOT CLOSED: ends at {}:{line} (crash or cut-off tail)",
                    file.display()
                )?,
                None => f.write_str("; NOT CLOSED: empty")?,
            }
        }
        Ok(())
    }
}

/// The first broken link [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The file.
    pub file: PathBuf,
    /// The file's place in the list given to [`verify`], from 0 (a file listed twice has two).
    pub file_index: usize,
    /// The line, from 1.
    pub line: u64,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.reason)
    }
}

impl std::error::Error for Broken {}

/// Checks a log: `files` in order (as the file sink numbers them), the hash chain through all of
/// them, every checkpoint's MAC under `key`, and that sequence numbers run without gaps.
///
/// # Errors
/// The first broken link: an edited, deleted, reordered or inserted line, a file missing from
/// the middle, a checkpoint whose MAC fails, or lines after the close.
pub fn verify(files: &[PathBuf], key: &AuditKey) -> core::result::Result<VerifyReport, Broken> {
    let mut prev = [0u8; 32];
    let mut seq = 0u64;
    let mut report = VerifyReport {
        records: 0,
        last_checkpoint: None,
        closed: false,
        ends_at: None,
        incomplete_tail: false,
    };
    for (index, file) in files.iter().enumerate() {
        let broken = |line: u64, reason: &str| Broken {
            file: file.clone(),
            file_index: index,
            line,
            reason: reason.to_owned(),
        };
        let bytes = fs::read(file).map_err(|e| broken(0, &format!("cannot read: {e}")))?;
        let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        // The text after the last newline: empty, or a line cut short by a crash.
        let tail = lines.pop().unwrap_or_default();
        if !tail.is_empty() {
            if index + 1 != files.len() {
                return Err(broken(
                    u64::try_from(lines.len() + 1).unwrap_or(u64::MAX),
                    "incomplete line in the middle of the log",
                ));
            }
            report.incomplete_tail = true;
        }
        for (i, line) in lines.iter().enumerate() {
            let number = u64::try_from(i + 1).unwrap_or(u64::MAX);
            if report.closed {
                return Err(broken(number, "line after the log was closed"));
            }
            let text = core::str::from_utf8(line).map_err(|_| broken(number, "not UTF-8"))?;
            let expected_prev = format!(",\"prev\":\"{}\"}}", hex_string(&prev));
            let body = text.strip_suffix(&expected_prev).ok_or_else(|| {
                broken(
                    number,
                    "chain broken: \"prev\" is not the hash of the line before",
                )
            })?;
            seq += 1;
            let seq_field = format!("{{\"seq\":{seq},");
            if !body.starts_with(&seq_field) {
                return Err(broken(number, "sequence number out of order"));
            }
            // A checkpoint is recognised by its start and must be exactly the line the sink
            // writes for its MACed fields: the MAC covers `seq`, `time`, `closed` and `prev`,
            // and nothing else may be on the line (no added, edited or reordered field).
            if body[seq_field.len()..].starts_with("\"checkpoint\":") {
                let (time, closed, mac) =
                    parse_checkpoint(body).ok_or_else(|| broken(number, "malformed checkpoint"))?;
                let expected = checkpoint_body(key, seq, time, closed, &prev);
                if constant_time::verify_slices_are_equal(&expected, body.as_bytes()).is_err() {
                    let expected_mac = key.mac(&checkpoint_input(seq, time, closed, &prev));
                    return Err(broken(
                        number,
                        if constant_time::verify_slices_are_equal(&expected_mac, &mac).is_ok() {
                            "checkpoint line altered: it holds more or other than its MACed fields"
                        } else {
                            "checkpoint MAC does not verify (wrong audit key, or the log before it was rewritten)"
                        },
                    ));
                }
                report.last_checkpoint = Some((
                    file.clone(),
                    number,
                    UNIX_EPOCH + Duration::from_nanos(time),
                ));
                report.closed = closed;
            } else {
                report.records += 1;
            }
            let hash = digest::digest(&digest::SHA256, line);
            prev.copy_from_slice(hash.as_ref());
            report.ends_at = Some((file.clone(), number));
        }
    }
    Ok(report)
}

fn hex_string(bytes: &[u8]) -> String {
    let mut s = Vec::with_capacity(bytes.len() * 2);
    push_hex(&mut s, bytes);
    String::from_utf8(s).unwrap_or_default()
}

/// `(time, closed, mac)` of a checkpoint body as [`FileSink`] writes it.
fn parse_checkpoint(body: &str) -> Option<(u64, bool, [u8; 32])> {
    let field = |name: &str| {
        let start = body.find(&format!("\"{name}\":"))? + name.len() + 3;
        let rest = &body[start..];
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        Some(rest[..end].trim_matches('"'))
    };
    let time = field("time")?.parse().ok()?;
    let closed = field("closed")? == "true";
    let mac_hex = field("mac")?;
    if mac_hex.len() != 64 {
        return None;
    }
    let mut mac = [0u8; 32];
    for (i, byte) in mac.iter_mut().enumerate() {
        *byte = u8::from_str_radix(mac_hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some((time, closed, mac))
}

/// The log files in `dir`, in order, for [`verify`].
///
/// # Errors
/// [`Error::Storage`] when the directory cannot be listed.
pub fn log_files_in(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
    log_files(dir.as_ref())
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::io::Write as _;
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::{
        AuditEvent, AuditKey, AuditSink, FileSink, MAX_KEY_ID_LEN, Operation, RequestId,
        logged_name, push_hex_u64, push_json_str, push_u64, verify,
    };
    use crate::error::{Error, Result};

    /// Makes a file sink's I/O fail on demand, as a full disk does: a write that fails first
    /// takes part of its bytes, then refuses the rest.
    #[derive(Default)]
    pub(super) struct Faults {
        fail_writes: AtomicBool,
        fail_creates: AtomicBool,
        took_part: AtomicBool,
    }

    impl Faults {
        pub(super) fn on_create(faults: Option<&Self>) -> Result<()> {
            match faults {
                Some(f) if f.fail_creates.load(Ordering::Acquire) => {
                    Err(Error::Storage("cannot create an audit log file"))
                }
                _ => Ok(()),
            }
        }

        pub(super) fn write(
            faults: Option<&Self>,
            file: &mut File,
            bytes: &[u8],
        ) -> std::io::Result<usize> {
            match faults {
                Some(f) if f.fail_writes.load(Ordering::Acquire) => {
                    if bytes.len() > 1 && !f.took_part.swap(true, Ordering::AcqRel) {
                        file.write(&bytes[..bytes.len() / 2])
                    } else {
                        Err(std::io::Error::from_raw_os_error(28)) // ENOSPC
                    }
                }
                _ => file.write(bytes),
            }
        }

        fn set(&self, writes: bool, creates: bool) {
            self.fail_writes.store(writes, Ordering::Release);
            self.fail_creates.store(creates, Ordering::Release);
            self.took_part.store(false, Ordering::Release);
        }
    }

    fn event(counter: u64, key_id: &str) -> AuditEvent<'_> {
        AuditEvent {
            sequence: counter,
            time: std::time::SystemTime::now(),
            request_id: RequestId { thread: 1, counter },
            operation: Operation::Encrypt,
            key_id: Some(key_id),
            key_version: Some(1),
            caller: None,
            context: super::AuditContext {
                pairs: &[],
                keys_only: false,
            },
            error_code: None,
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("keyplane-audit-unit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// Runs `n` records through `sink`, returning how many it refused.
    fn records(sink: &mut FileSink, from: u64, n: u64) -> u64 {
        let refused = (from..from + n)
            .filter(|&i| sink.record(&event(i, "k")).is_err())
            .count();
        u64::try_from(refused).unwrap()
    }

    #[test]
    fn failed_writes_and_file_creations_never_break_the_chain() {
        let dir = temp_dir("faults");
        let key = || AuditKey::new(&[7; 32]).unwrap();
        let faults = Arc::new(Faults::default());
        let mut sink = FileSink::create(&dir, key())
            .unwrap()
            .max_file_bytes(4096)
            .checkpoint_every(5);
        sink.faults = Some(Arc::clone(&faults));
        assert_eq!(records(&mut sink, 1, 50), 0);
        sink.flush().unwrap();
        // A full disk: writes take part of their bytes, then fail; a flush fails.
        faults.set(true, false);
        records(&mut sink, 51, 100);
        assert!(sink.flush().is_err(), "the flush reports the failure");
        // The disk recovers: everything kept goes out and the log verifies.
        faults.set(false, false);
        assert_eq!(records(&mut sink, 151, 10), 0);
        sink.flush().unwrap();
        let files = super::log_files(&dir).unwrap();
        let report = verify(&files, &key()).unwrap();
        assert_eq!(report.records, 160, "{report}");
        // A file that cannot be created (at a rotation) is created later under its number.
        let before = files.len();
        faults.set(false, true);
        records(&mut sink, 161, 200);
        faults.set(false, false);
        assert_eq!(records(&mut sink, 361, 10), 0);
        sink.close().unwrap();
        drop(sink);
        let files = super::log_files(&dir).unwrap();
        assert!(files.len() > before + 1);
        for (i, file) in files.iter().enumerate() {
            let name = file.file_name().unwrap().to_str().unwrap().to_owned();
            assert_eq!(
                name,
                format!("audit-{:06}.jsonl", i + 1),
                "no number skipped"
            );
        }
        let report = verify(&files, &key()).unwrap();
        assert_eq!(report.records, 370, "{report}");
        assert!(report.closed);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn lines_that_cannot_be_kept_are_counted_in_the_log() {
        let dir = temp_dir("lost");
        let key = || AuditKey::new(&[7; 32]).unwrap();
        let faults = Arc::new(Faults::default());
        let mut sink = FileSink::create(&dir, key()).unwrap();
        sink.faults = Some(Arc::clone(&faults));
        faults.set(true, false);
        // Long key ids fill the memory kept for a failing disk (4 MiB) in a few thousand lines.
        let long = "k".repeat(MAX_KEY_ID_LEN);
        for i in 1..=30_000 {
            let _ = sink.record(&event(i, &long));
        }
        let lost = sink.lost;
        assert!(lost > 0, "the lines kept are bounded");
        faults.set(false, false);
        sink.close().unwrap();
        drop(sink);
        let files = super::log_files(&dir).unwrap();
        let report = verify(&files, &key()).unwrap();
        assert!(report.closed);
        let text: String = files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        assert!(
            text.contains(&format!(
                "\"operation\":\"AuditRecordsLost\",\"count\":{lost},"
            )),
            "the log says how many events it left out"
        );
        assert_eq!(report.records + lost, 30_000 + 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names_longer_than_any_key_id_are_cut_visibly() {
        let mut buf = [0u8; MAX_KEY_ID_LEN];
        for name in ["", "k", &"k".repeat(255)] {
            assert_eq!(logged_name(name.as_bytes(), &mut buf), name.as_bytes());
        }
        for name in ["k".repeat(256), "é".repeat(40_000), "x".repeat(1 << 16)] {
            let logged = std::str::from_utf8(logged_name(name.as_bytes(), &mut buf))
                .unwrap()
                .to_owned();
            assert!(logged.len() <= MAX_KEY_ID_LEN);
            assert!(name.starts_with(logged.split('…').next().unwrap()));
            assert!(
                logged.ends_with(&format!("…[truncated, {} bytes]", name.len())),
                "{logged}"
            );
        }
    }

    #[test]
    fn json_strings_round_trip() {
        for s in [
            "",
            "plain-id",
            "quote\" backslash\\ newline\n tab\t cr\r",
            "\u{1}\u{1f} control",
            "é ü 日本 🔑",
        ] {
            let mut out = Vec::new();
            push_json_str(&mut out, s);
            assert_eq!(serde_json::from_slice::<String>(&out).unwrap(), s);
        }
    }

    #[test]
    fn numbers_in_decimal_and_hex() {
        let mut out = Vec::new();
        for n in [0, 9, 10, 1_795_350_531_757_318_328, u64::MAX] {
            push_u64(&mut out, n);
            out.push(b' ');
        }
        for n in [0, 0xf, 0x10, u64::MAX] {
            push_hex_u64(&mut out, n);
            out.push(b' ');
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "0 9 10 1795350531757318328 18446744073709551615 0 f 10 ffffffffffffffff "
        );
    }
}
