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

use core::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use crate::error::Result;

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

mod encode;
mod file;
mod recorder;
mod verify;

pub use file::{AuditKey, DEFAULT_CHECKPOINT_EVERY, DEFAULT_MAX_FILE_BYTES, FileSink};
pub use recorder::{KeyLastUsage, MAX_QUEUE_CAPACITY};
pub(crate) use recorder::{Recorder, note, scoped};
pub use verify::{Broken, VerifyReport, log_files_in, verify};
