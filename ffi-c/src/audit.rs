//! The audit trail through the C ABI: audit options for a keyring (`kp_keyring_options.audit`)
//! that report every operation to a C callback or write it to a hash-chained JSON Lines log,
//! per-handle caller identities, flushing, counters, per-key last usage, and checking a log.

use core::cell::Cell;
use core::ffi::{c_char, c_void};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use keyplane_core::audit::{self, AuditKey, BackPressure, CallbackSink, ContextLogging, FileSink};
use keyplane_core::{AuditConfig, AuditEvent, Error};

use crate::boundary::{
    CText, FfiResult, Handle, array, bytes, free_handle, give, handle, handle_field,
    kp_context_entry, kp_status, kp_str, out_ref, report, text,
};
use crate::keyring::{Ring, kp_keyring, ring};

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
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
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

/// A new handle on the same keyring (same keys, same audit trail) whose operations the audit
/// trail attributes to `caller` (UTF-8, `(ptr, len)`), stored in `*out`. Free it with
/// `kp_keyring_free` like any keyring handle; the keyring lives until its last handle is
/// freed.
///
/// # Safety
/// `keyring` is NULL or a live `kp_keyring*`; `caller` points to `caller_len` bytes when not
/// NULL; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_keyring_with_caller(
    keyring: *const kp_keyring,
    caller: *const c_char,
    caller_len: usize,
    out: *mut *mut kp_keyring,
) -> kp_status {
    ffi! {
        // SAFETY: the caller guarantees `out` is NULL or writable.
        let out = unsafe { out_ref(out, "out") }?;
        // SAFETY: forwarded from the caller.
        let ring = unsafe { handle::<kp_keyring>(keyring) }?;
        // SAFETY: forwarded from the caller.
        let caller = unsafe { text(caller, caller_len, "caller") }?;
        give(
            out,
            Ring {
                keyring: ring.keyring.with_caller(caller),
                max_batch_items: ring.max_batch_items,
                load_problems: std::sync::Arc::clone(&ring.load_problems),
            },
        );
        Ok(())
    }
}

/// Returns once every operation recorded before the call has been delivered (the callback
/// has returned for it, or the log is written and synced). `KP_OK` at once for a keyring
/// without audit. From inside an audit callback (of any keyring) it is refused with
/// `KP_ERR_INVALID_INPUT`: it would wait for its own thread. `KP_ERR_STORAGE` if the writer
/// thread has stopped, or in a `fork()`ed child of the process that made the keyring.
///
/// # Safety
/// `keyring` is NULL or a live `kp_keyring*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_keyring_flush_audit(keyring: *const kp_keyring) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let ring = unsafe { handle::<kp_keyring>(keyring) }?;
        if IN_CALLBACK.get() {
            return Err(report(
                kp_status::KP_ERR_INVALID_INPUT,
                format_args!(
                    "invalid input: kp_keyring_flush_audit cannot be called from an audit \
                     callback (it would wait for itself)"
                ),
            ));
        }
        ring.keyring.flush_audit()?;
        Ok(())
    }
}

/// Events dropped because the audit queue was full (with `KP_BACK_PRESSURE_DROP`); 0 for a
/// NULL keyring or one without audit.
///
/// # Safety
/// `keyring` is NULL or a live `kp_keyring*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_keyring_audit_dropped(keyring: *const kp_keyring) -> u64 {
    ffi_value!(0, {
        // SAFETY: forwarded from the caller.
        unsafe { handle::<kp_keyring>(keyring) }.map_or(0, |r| r.keyring.audit_dropped())
    })
}

/// Times the audit sink failed to record, flush or close (a log that could not be written:
/// full disk, removed directory); the writer goes on with the next event. 0 for a NULL
/// keyring or one without audit. A control plane that must not run unaudited checks it.
///
/// # Safety
/// `keyring` is NULL or a live `kp_keyring*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_keyring_audit_failures(keyring: *const kp_keyring) -> u64 {
    ffi_value!(0, {
        // SAFETY: forwarded from the caller.
        unsafe { handle::<kp_keyring>(keyring) }.map_or(0, |r| r.keyring.audit_failures())
    })
}

// ----- key last usage ---------------------------------------------------------------------------

/// When a key was last used, by which operation, and how often each operation used it (AWS
/// KMS's `GetKeyLastUsage`), from `kp_keyring_key_last_usage`. Read with the
/// `kp_key_last_usage_*` accessors (NULL gives 0 or `""`), free with `kp_key_last_usage_free`.
#[derive(Debug)]
pub struct kp_key_last_usage {
    _private: [u8; 0],
}

/// What a `kp_key_last_usage` points at.
#[derive(Debug)]
pub(crate) struct LastUsage {
    last_used: u64,
    last_operation: CText,
    counts: Vec<(CText, u64)>,
}

impl Handle for kp_key_last_usage {
    type Inner = LastUsage;
    const NAME: &'static str = "usage";
}

fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The usage of `key_id` (id or `alias/...`) as the audit writer has seen it so far, in
/// `*out`: call `kp_keyring_flush_audit` first to include operations still queued. Every
/// audited operation counts, successful or not. `KP_ERR_NOT_FOUND` for an unknown key,
/// `KP_ERR_INVALID_INPUT` for a keyring without audit.
///
/// # Safety
/// `keyring` is NULL or live; `(key_id, key_id_len)` is valid; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_keyring_key_last_usage(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    out: *mut *mut kp_key_last_usage,
) -> kp_status {
    ffi! {
        // SAFETY: the caller's guarantees, as documented.
        let (out, ring, key_id) = unsafe {
            (out_ref(out, "out")?, ring(keyring)?, text(key_id, key_id_len, "key_id")?)
        };
        let usage = ring.key_last_usage(key_id)?;
        give(
            out,
            LastUsage {
                last_used: usage.last_used.map_or(0, unix_nanos),
                last_operation: CText::new(usage.last_operation.map_or("", |o| o.as_str())),
                counts: usage
                    .counts
                    .iter()
                    .map(|(o, n)| (CText::new(o.as_str()), *n))
                    .collect(),
            },
        );
        Ok(())
    }
}

/// When the key was last used, in nanoseconds since the Unix epoch; 0 if never (since the
/// keyring was made: usage is not persisted).
///
/// # Safety
/// `u` is NULL or a live `kp_key_last_usage*`; so for every `kp_key_last_usage_*` accessor.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_last_usage_last_used_unix_nanos(
    u: *const kp_key_last_usage,
) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(u, 0, |u: &LastUsage| u.last_used) }
}

/// The last operation that used the key, named as AWS KMS names it (`"Encrypt"`); `""` if
/// never.
///
/// # Safety
/// As `kp_key_last_usage_last_used_unix_nanos`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_last_usage_last_operation(u: *const kp_key_last_usage) -> kp_str {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(u, kp_str::EMPTY, |u: &LastUsage| u.last_operation.view()) }
}

/// How many operations have used the key (each listed once, by name, with its count).
///
/// # Safety
/// As `kp_key_last_usage_last_used_unix_nanos`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_last_usage_operation_count(u: *const kp_key_last_usage) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(u, 0, |u: &LastUsage| u.counts.len()) }
}

/// The name of operation `index` (from 0, in name order); `""` past the last.
///
/// # Safety
/// As `kp_key_last_usage_last_used_unix_nanos`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_last_usage_operation(
    u: *const kp_key_last_usage,
    index: usize,
) -> kp_str {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(u, kp_str::EMPTY, |u: &LastUsage| {
            u.counts
                .get(index)
                .map_or(kp_str::EMPTY, |(name, _)| name.view())
        })
    }
}

/// How many times operation `index` used the key; 0 past the last.
///
/// # Safety
/// As `kp_key_last_usage_last_used_unix_nanos`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_last_usage_uses(u: *const kp_key_last_usage, index: usize) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(u, 0, |u: &LastUsage| {
            u.counts.get(index).map_or(0, |(_, n)| *n)
        })
    }
}

/// Frees the usage in `*u` and sets `*u` to NULL. NULL: no-op.
///
/// # Safety
/// `u` is NULL or points to NULL or a live `kp_key_last_usage*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_last_usage_free(u: *mut *mut kp_key_last_usage) {
    // SAFETY: forwarded from the caller.
    ffi_value!((), unsafe { free_handle(u) })
}

// ----- checking a log ---------------------------------------------------------------------------

/// One file of an audit log, for `kp_audit_verify_files`: a UTF-8 path as `(ptr, len)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_audit_file {
    /// The path's bytes (not NUL-terminated).
    pub path: *const c_char,
    /// Its length in bytes.
    pub path_len: usize,
}

/// What `kp_audit_verify` and `kp_audit_verify_files` found. File positions are indexes into
/// the files checked (from 0): the array given, or a directory's `audit-*.jsonl` files in
/// name order. Lines count from 1.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_audit_report {
    /// Event lines (checkpoints not counted).
    pub records: u64,
    /// The log ends with the checkpoint its keyring wrote when it closed. `false` for an intact
    /// log means the writer stopped (a crash, or the keyring is still open) or the tail after
    /// `end_line` was cut off: lines after the last checkpoint are chained but not MACed, so
    /// a log that must be complete must be closed.
    pub closed: bool,
    /// An incomplete last line (a crash mid-write) was ignored.
    pub incomplete_tail: bool,
    /// The file of the last complete line.
    pub end_file: usize,
    /// The last complete line; 0 for an empty log.
    pub end_line: u64,
    /// The file of the last checkpoint.
    pub checkpoint_file: usize,
    /// The last checkpoint's line; 0 when there is none.
    pub checkpoint_line: u64,
    /// When the last checkpoint was written, in nanoseconds since the Unix epoch; 0: none.
    pub checkpoint_time_unix_nanos: u64,
    /// On `KP_ERR_INVALID_CIPHERTEXT` or `KP_ERR_STORAGE` from a file that cannot be read:
    /// the file of the first broken link. 0 otherwise.
    pub broken_file: usize,
    /// On `KP_ERR_INVALID_CIPHERTEXT`: the line of the first broken link (from 1); 0 otherwise
    /// (and for a file that cannot be read).
    pub broken_line: u64,
}

/// Runs the verification of `files` into `out`.
fn verify_into(files: &[PathBuf], key: &AuditKey, out: &mut kp_audit_report) -> FfiResult {
    // Only for an intact log, where a file holding lines cannot be listed twice (its second
    // reading would break the chain), so a path names one place. A broken link carries its
    // place itself: the file listed twice may be where it broke.
    let index = |path: &PathBuf| files.iter().position(|f| f == path).unwrap_or(0);
    match audit::verify(files, key) {
        Ok(found) => {
            out.records = found.records;
            out.closed = found.closed;
            out.incomplete_tail = found.incomplete_tail;
            if let Some((file, line)) = &found.ends_at {
                out.end_file = index(file);
                out.end_line = *line;
            }
            if let Some((file, line, time)) = &found.last_checkpoint {
                out.checkpoint_file = index(file);
                out.checkpoint_line = *line;
                out.checkpoint_time_unix_nanos = unix_nanos(*time);
            }
            Ok(())
        }
        Err(broken) => {
            out.broken_file = broken.file_index;
            out.broken_line = broken.line;
            // Line 0: the file could not be read; otherwise a link of the chain is broken.
            let status = if broken.line == 0 {
                kp_status::KP_ERR_STORAGE
            } else {
                kp_status::KP_ERR_INVALID_CIPHERTEXT
            };
            Err(report(status, format_args!("audit log broken at {broken}")))
        }
    }
}

/// Checks the audit log in directory `log_dir` (UTF-8, `(ptr, len)`; every `audit-*.jsonl`
/// file in name order): the hash chain through all of them, every checkpoint's MAC under
/// `audit_key` (32 bytes), and that sequence numbers run without gaps. `KP_OK` with what it
/// found in `*out_report` (check `closed`: an intact log whose tail was cut off after a
/// checkpoint is not closed). `KP_ERR_INVALID_CIPHERTEXT` for a broken log (an edited, deleted,
/// reordered or inserted line, a file missing from the middle, a checkpoint that does not
/// verify under `audit_key`, lines after the close), with the first broken link's file and
/// line in `out_report->broken_file` / `broken_line` and `kp_last_error_message()` saying
/// `"audit log broken at <path>:<line>: <reason>"`. `KP_ERR_STORAGE` when the directory or a
/// file cannot be read, or holds no log file.
///
/// # Safety
/// `(log_dir, log_dir_len)` and `(audit_key, audit_key_len)` are valid; `out_report` is NULL
/// or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_audit_verify(
    log_dir: *const c_char,
    log_dir_len: usize,
    audit_key: *const u8,
    audit_key_len: usize,
    out_report: *mut kp_audit_report,
) -> kp_status {
    ffi! {
        // SAFETY: the caller's guarantees, as documented.
        let (out, dir, key) = unsafe {
            (
                out_ref(out_report, "out_report")?,
                text(log_dir, log_dir_len, "log_dir")?,
                bytes(audit_key, audit_key_len, "audit_key")?,
            )
        };
        let key = AuditKey::new(key)?;
        if dir.is_empty() {
            return Err(Error::InvalidInput("log_dir is empty").into());
        }
        let files = audit::log_files_in(dir)?;
        if files.is_empty() {
            return Err(Error::Storage("no audit log files (audit-*.jsonl) in log_dir").into());
        }
        verify_into(&files, &key, out)
    }
}

/// Checks an audit log given as its files, in order (for logs moved or archived under other
/// names): as `kp_audit_verify`, with file positions in `*out_report` indexing `files`. The
/// first file must be the log's first. `(NULL, 0)` files is `KP_ERR_INVALID_INPUT`.
///
/// # Safety
/// `files` is NULL or points to `file_count` entries whose `(path, path_len)` are valid;
/// `(audit_key, audit_key_len)` is valid; `out_report` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_audit_verify_files(
    files: *const kp_audit_file,
    file_count: usize,
    audit_key: *const u8,
    audit_key_len: usize,
    out_report: *mut kp_audit_report,
) -> kp_status {
    ffi! {
        // SAFETY: the caller's guarantees, as documented.
        let (out, entries, key) = unsafe {
            (
                out_ref(out_report, "out_report")?,
                array(files, file_count, "files")?,
                bytes(audit_key, audit_key_len, "audit_key")?,
            )
        };
        let key = AuditKey::new(key)?;
        if entries.is_empty() {
            return Err(Error::InvalidInput("no audit log files given").into());
        }
        let mut paths = Vec::new();
        paths
            .try_reserve_exact(entries.len())
            .map_err(|_| Error::LimitExceeded("too many audit log files for the memory available"))?;
        for entry in entries {
            // SAFETY: the caller guarantees each entry's `(path, path_len)` is valid.
            let path = unsafe { text(entry.path, entry.path_len, "files[].path") }?;
            if path.is_empty() {
                return Err(Error::InvalidInput("an audit log file path is empty").into());
            }
            paths.push(PathBuf::from(path));
        }
        verify_into(&paths, &key, out)
    }
}
