//! How a keyring audits, as C gives it (`kp_keyring_options.audit`): the audit options, the
//! event a C callback receives, and their checked form that starts the core's audit trail (a
//! callback forwarded from the writer thread, or a hash-chained JSON Lines log).

use core::cell::Cell;
use core::ffi::{c_char, c_void};
use std::path::PathBuf;

use keyplane_core::audit::{self, AuditKey, BackPressure, CallbackSink, ContextLogging, FileSink};
use keyplane_core::{AuditConfig, AuditEvent, Error};

use crate::boundary::{CText, FfiResult, bytes, kp_context_entry, kp_str, text, unix_nanos};

/// How much of an encryption context audit events keep.
pub type kp_context_logging = u32;
/// Keys and values (the default; AWS KMS logs contexts in full).
pub const KP_CONTEXT_LOGGING_FULL: kp_context_logging = 0;
/// Keys only, values left out.
pub const KP_CONTEXT_LOGGING_KEYS_ONLY: kp_context_logging = 1;
/// No context.
pub const KP_CONTEXT_LOGGING_NONE: kp_context_logging = 2;

/// What an operation does when the audit queue is full.
pub type kp_back_pressure = u32;
/// Wait for the writer (the default): no event is ever lost.
pub const KP_BACK_PRESSURE_BLOCK: kp_back_pressure = 0;
/// Drop the event and count it; the count is itself recorded.
pub const KP_BACK_PRESSURE_DROP: kp_back_pressure = 1;

/// One audited operation, as a `kp_audit_callback` receives it. Never carries a plaintext, a
/// ciphertext or key material. Everything it points at is valid only during the call.
#[repr(C)]
#[derive(Debug)]
pub struct kp_audit_event {
    /// Position in the keyring's audit trail, from 1.
    pub sequence: u64,
    /// When the operation finished, in nanoseconds since the Unix epoch.
    pub time_unix_nanos: u64,
    /// Unique within the process (for example `"3-1f"`).
    pub request_id: kp_str,
    /// The operation, named as AWS KMS names its API calls (for example `"Encrypt"`).
    pub operation: kp_str,
    /// The key's id (never an alias) when the key was found, else the name given; `""` for
    /// operations without a key.
    pub key_id: kp_str,
    /// The key version used by symmetric encryption and decryption; 0 otherwise.
    pub key_version: u32,
    /// The caller identity of the keyring handle (`kp_keyring_with_caller`); `""` for none.
    pub caller: kp_str,
    /// The encryption context, as much of it as the keyring logs (`context_len` pairs).
    pub context: *const kp_context_entry,
    /// The number of pairs in `context`.
    pub context_len: usize,
    /// `""` for success, else the error's code (for example `"KP_INVALID_CIPHERTEXT"`).
    pub error_code: kp_str,
}

/// Receives each audit event (each calling thread's in the order it made them) on the
/// keyring's audit writer thread (never the thread that made the call), with the `user_data`
/// of `kp_audit_options`. It must return promptly
/// (the writer delivers nothing else meanwhile, and with `KP_BACK_PRESSURE_BLOCK` callers wait
/// once the queue is full), must not unwind (no C++ exception may leave it), and cannot use
/// the keyring it audits, through any of its handles: an operation there would queue a new
/// event that this same thread has to deliver (with a full queue it would wait for itself), so
/// every audited operation and `kp_keyring_flush_audit` called from the callback on its own
/// keyring fail at once with `KP_ERR_INVALID_INPUT`. Freeing the last handle there would make
/// the writer thread wait for its own end: do not.
pub type kp_audit_callback =
    Option<unsafe extern "C" fn(event: *const kp_audit_event, user_data: *mut c_void)>;

/// How a keyring audits (`kp_keyring_options.audit`): exactly one of `callback` and `log_dir`.
/// Zero-initialize, then set what you need. Read only while the keyring is made.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_audit_options {
    /// Called with every event (see `kp_audit_callback`). `user_data` must stay valid until
    /// `kp_keyring_free` of the keyring's last handle returns: that call delivers the events
    /// still queued.
    pub callback: kp_audit_callback,
    /// Passed to `callback` as is.
    pub user_data: *mut c_void,
    /// A directory for a hash-chained JSON Lines log (UTF-8, not NUL-terminated), created if
    /// needed; it must not already hold a log (`KP_ERR_STORAGE`). `(NULL, 0)` for none.
    pub log_dir: *const c_char,
    /// The length of `log_dir` in bytes.
    pub log_dir_len: usize,
    /// The 32-byte key that MACs the log's checkpoints (with `log_dir` only). Keep it apart
    /// from the log: whoever holds it can forge checkpoints.
    pub audit_key: *const u8,
    /// The length of `audit_key` (32).
    pub audit_key_len: usize,
    /// `KP_CONTEXT_LOGGING_*`.
    pub context_logging: kp_context_logging,
    /// `KP_BACK_PRESSURE_*`.
    pub back_pressure: kp_back_pressure,
    /// Events each calling thread may have waiting for the writer; 0 for the default (4096);
    /// at most 1048576 (`KP_ERR_INVALID_INPUT` above).
    pub queue_capacity: usize,
    /// With `log_dir`: the size in bytes at which the log goes on in a new file
    /// (`audit-000002.jsonl`, ...; the chain runs on through them); 0 for the default (64 MiB).
    pub max_file_bytes: u64,
    /// With `log_dir`: a MACed checkpoint every this many records (and at each file's end and
    /// at close); 0 for the default (1000).
    pub checkpoint_every: u64,
}

thread_local! {
    /// Set on the audit writer thread while it runs a C callback.
    pub(crate) static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// The C callback and its data, moved to the writer thread.
struct Forward {
    callback: unsafe extern "C" fn(*const kp_audit_event, *mut c_void),
    user_data: *mut c_void,
}

// SAFETY: the callback and `user_data` are used only from the audit writer thread, which the
// caller agreed to by passing them (the header says the callback runs on that thread).
unsafe impl Send for Forward {}

impl Forward {
    fn deliver(&self, event: &AuditEvent<'_>) {
        let text = |s: &str| CText::new(s);
        let request_id = text(&event.request_id.to_string());
        let key_id = text(event.key_id.unwrap_or_default());
        let caller = text(event.caller.unwrap_or_default());
        let error_code = text(event.error_code.unwrap_or_default());
        let operation = text(event.operation.as_str());
        let context: Vec<kp_context_entry> = event
            .context
            .iter()
            .map(|(k, v)| kp_context_entry {
                key: k.as_ptr().cast(),
                key_len: k.len(),
                value: v.as_ptr().cast(),
                value_len: v.len(),
            })
            .collect();
        let time_unix_nanos = unix_nanos(event.time);
        let c_event = kp_audit_event {
            sequence: event.sequence,
            time_unix_nanos,
            request_id: request_id.view(),
            operation: operation.view(),
            key_id: key_id.view(),
            key_version: event.key_version.unwrap_or(0),
            caller: caller.view(),
            context: if context.is_empty() {
                core::ptr::null()
            } else {
                context.as_ptr()
            },
            context_len: context.len(),
            error_code: error_code.view(),
        };
        IN_CALLBACK.set(true);
        // SAFETY: the caller supplied a function of this signature; `c_event` and everything
        // it points at live until the call returns.
        unsafe { (self.callback)(&raw const c_event, self.user_data) };
        IN_CALLBACK.set(false);
    }
}

/// Where audit events go, once the C options are checked.
enum Destination {
    Callback(Forward),
    Log {
        dir: PathBuf,
        key: AuditKey,
        max_file_bytes: u64,
        checkpoint_every: u64,
    },
}

/// C audit options, checked: everything about them that can be wrong is found by
/// [`audit_plan`], which creates and starts nothing, so that a call can check all its arguments
/// before it acts. [`AuditPlan::start`] then creates the log directory, if any.
pub(crate) struct AuditPlan {
    destination: Destination,
    context: ContextLogging,
    back_pressure: BackPressure,
    queue_capacity: usize,
}

/// Checks C audit options (creates nothing).
pub(crate) fn audit_plan(options: &kp_audit_options) -> FfiResult<AuditPlan> {
    let context = match options.context_logging {
        KP_CONTEXT_LOGGING_FULL => ContextLogging::Full,
        KP_CONTEXT_LOGGING_KEYS_ONLY => ContextLogging::KeysOnly,
        KP_CONTEXT_LOGGING_NONE => ContextLogging::None,
        _ => return Err(Error::InvalidInput("unknown context_logging").into()),
    };
    let back_pressure = match options.back_pressure {
        KP_BACK_PRESSURE_BLOCK => BackPressure::Block,
        KP_BACK_PRESSURE_DROP => BackPressure::Drop,
        _ => return Err(Error::InvalidInput("unknown back_pressure").into()),
    };
    // Refused rather than clamped: a caller asking for more than the limit asked for something
    // this library will not do.
    if options.queue_capacity > audit::MAX_QUEUE_CAPACITY {
        return Err(Error::InvalidInput("queue_capacity must be at most 1048576").into());
    }
    // SAFETY: the caller guarantees `log_dir` points to `log_dir_len` bytes when not NULL.
    let log_dir = unsafe { text(options.log_dir, options.log_dir_len, "log_dir") }?;
    // SAFETY: the caller guarantees `audit_key` points to `audit_key_len` bytes when not NULL.
    let key = unsafe { bytes(options.audit_key, options.audit_key_len, "audit_key") }?;
    let destination = match (options.callback, log_dir.is_empty()) {
        (Some(callback), true) => {
            if !key.is_empty() || options.max_file_bytes != 0 || options.checkpoint_every != 0 {
                return Err(Error::InvalidInput(
                    "audit_key, max_file_bytes and checkpoint_every are for a log_dir",
                )
                .into());
            }
            Destination::Callback(Forward {
                callback,
                user_data: options.user_data,
            })
        }
        (None, false) => Destination::Log {
            dir: PathBuf::from(log_dir),
            key: AuditKey::new(key)?,
            max_file_bytes: options.max_file_bytes,
            checkpoint_every: options.checkpoint_every,
        },
        (Some(_), false) => {
            return Err(Error::InvalidInput("give callback or log_dir, not both").into());
        }
        (None, true) => return Err(Error::InvalidInput("give callback or log_dir").into()),
    };
    Ok(AuditPlan {
        destination,
        context,
        back_pressure,
        queue_capacity: options.queue_capacity,
    })
}

impl AuditPlan {
    /// The core's audit configuration (a log directory is created here).
    pub(crate) fn start(self) -> FfiResult<AuditConfig> {
        let mut config = match self.destination {
            Destination::Callback(forward) => {
                AuditConfig::new(CallbackSink(move |event: &AuditEvent<'_>| {
                    forward.deliver(event);
                }))
            }
            Destination::Log {
                dir,
                key,
                max_file_bytes,
                checkpoint_every,
            } => {
                let mut sink = FileSink::create(dir, key)?;
                if max_file_bytes > 0 {
                    sink = sink.max_file_bytes(max_file_bytes);
                }
                if checkpoint_every > 0 {
                    sink = sink.checkpoint_every(checkpoint_every);
                }
                AuditConfig::new(sink)
            }
        };
        config = config
            .context(self.context)
            .back_pressure(self.back_pressure);
        if self.queue_capacity > 0 {
            config = config.queue_capacity(self.queue_capacity);
        }
        Ok(config)
    }
}
