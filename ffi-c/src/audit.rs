//! The audit trail through the C ABI: a keyring that reports every operation to a C callback
//! or writes it to a hash-chained JSON Lines log, per-handle caller identities, flushing, and
//! checking a log.

use core::ffi::{c_char, c_void};
use std::path::PathBuf;

use keyplane_core::audit::{self, AuditKey, BackPressure, CallbackSink, ContextLogging, FileSink};
use keyplane_core::{AuditConfig, AuditEvent, Error};

use crate::boundary::{
    CText, FfiResult, bytes, give, handle, in_ref, kp_context_entry, kp_status, kp_str, out_ref,
    report, text,
};
use crate::keyring::{Ring, kp_keyring, kp_keyring_options};

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

/// Receives each audit event, in order, on the keyring's audit writer thread (not the thread
/// that made the call). It must return promptly, must not call into the keyring it audits,
/// and must be safe to call from that thread with `user_data`.
pub type kp_audit_callback =
    Option<unsafe extern "C" fn(event: *const kp_audit_event, user_data: *mut c_void)>;

/// How a keyring audits: exactly one of `callback` and `log_dir`. Zero-initialize, then set
/// what you need.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_audit_options {
    /// Called with every event (see `kp_audit_callback`). `user_data` must stay valid until
    /// `kp_keyring_free` of the keyring's last handle returns: that call delivers the events
    /// still queued.
    pub callback: kp_audit_callback,
    /// Passed to `callback` as is.
    pub user_data: *mut c_void,
    /// A directory for a hash-chained JSON Lines log (UTF-8, not NUL-terminated); it must
    /// not already hold a log. `(NULL, 0)` for none.
    pub log_dir: *const c_char,
    /// The length of `log_dir` in bytes.
    pub log_dir_len: usize,
    /// The 32-byte key that MACs the log's checkpoints (required with `log_dir`).
    pub audit_key: *const u8,
    /// The length of `audit_key` (32).
    pub audit_key_len: usize,
    /// `KP_CONTEXT_LOGGING_*`.
    pub context_logging: kp_context_logging,
    /// `KP_BACK_PRESSURE_*`.
    pub back_pressure: kp_back_pressure,
    /// Events each calling thread may have waiting for the writer; 0 for the default (4096);
    /// at most 1048576.
    pub queue_capacity: usize,
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
        let time_unix_nanos = event
            .time
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
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
        // SAFETY: the caller supplied a function of this signature; `c_event` and everything
        // it points at live until the call returns.
        unsafe { (self.callback)(&raw const c_event, self.user_data) };
    }
}

fn audit_config(options: &kp_audit_options) -> FfiResult<AuditConfig> {
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
    // SAFETY: the caller guarantees `log_dir` points to `log_dir_len` bytes when not NULL.
    let log_dir = unsafe { text(options.log_dir, options.log_dir_len, "log_dir") }?;
    let mut config = match (options.callback, log_dir.is_empty()) {
        (Some(callback), true) => {
            let forward = Forward {
                callback,
                user_data: options.user_data,
            };
            AuditConfig::new(CallbackSink(move |event: &AuditEvent<'_>| {
                forward.deliver(event);
            }))
        }
        (None, false) => {
            // SAFETY: the caller guarantees `audit_key` points to `audit_key_len` bytes.
            let key = unsafe { bytes(options.audit_key, options.audit_key_len, "audit_key") }?;
            AuditConfig::new(FileSink::create(
                PathBuf::from(log_dir),
                AuditKey::new(key)?,
            )?)
        }
        (Some(_), false) => {
            return Err(Error::InvalidInput("give callback or log_dir, not both").into());
        }
        (None, true) => return Err(Error::InvalidInput("give callback or log_dir").into()),
    };
    config = config.context(context).back_pressure(back_pressure);
    if options.queue_capacity > 0 {
        config = config.queue_capacity(options.queue_capacity);
    }
    Ok(config)
}

/// Creates an empty keyring that audits every operation as `audit` says, with `options`
/// (NULL: the defaults), and stores it in `*out`.
///
/// # Safety
/// `options` is NULL or points to a `kp_keyring_options`; `audit` points to a
/// `kp_audit_options` whose pointers are valid as documented there; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_keyring_new_audited(
    options: *const kp_keyring_options,
    audit: *const kp_audit_options,
    out: *mut *mut kp_keyring,
) -> kp_status {
    ffi! {
        // SAFETY: the caller guarantees `out` is NULL or writable.
        let out = unsafe { out_ref(out, "out") }?;
        // SAFETY: the caller guarantees `audit` is NULL or points to audit options.
        let audit = unsafe { in_ref(audit, "audit") }?;
        // SAFETY: the caller guarantees `options` is NULL or points to options.
        let (builder, max_batch_items) = crate::keyring::builder(unsafe { options.as_ref() });
        let builder = builder.audit(audit_config(audit)?)?;
        give(
            out,
            Ring {
                keyring: builder.build(),
                max_batch_items,
                load_problems: std::sync::Arc::new([]),
            },
        );
        Ok(())
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
        // SAFETY: forwarded from the caller.
        let ring = unsafe { handle::<kp_keyring>(keyring) }?;
        // SAFETY: forwarded from the caller.
        let caller = unsafe { text(caller, caller_len, "caller") }?;
        // SAFETY: the caller guarantees `out` is NULL or writable.
        let out = unsafe { out_ref(out, "out") }?;
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
/// without audit. Must not be called from the audit callback.
///
/// # Safety
/// `keyring` is NULL or a live `kp_keyring*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_keyring_flush_audit(keyring: *const kp_keyring) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let ring = unsafe { handle::<kp_keyring>(keyring) }?;
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

/// Checks the audit log in directory `log_dir` (every `audit-*.jsonl` file in order): the
/// hash chain through all of them, every checkpoint's MAC under `audit_key` (32 bytes), and
/// that sequence numbers run without gaps. `KP_OK` with the number of event lines in
/// `*records`; `KP_ERR_INVALID_CIPHERTEXT` for a broken log, with
/// `kp_last_error_message()` naming the file, line and reason of the first broken link;
/// `KP_ERR_STORAGE` when the directory cannot be read.
///
/// # Safety
/// `log_dir` points to `log_dir_len` bytes and `audit_key` to `audit_key_len` bytes when not
/// NULL; `records` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_audit_verify(
    log_dir: *const c_char,
    log_dir_len: usize,
    audit_key: *const u8,
    audit_key_len: usize,
    records: *mut u64,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let dir = unsafe { text(log_dir, log_dir_len, "log_dir") }?;
        // SAFETY: forwarded from the caller.
        let key = AuditKey::new(unsafe { bytes(audit_key, audit_key_len, "audit_key") }?)?;
        // SAFETY: the caller guarantees `records` is NULL or writable.
        let records = unsafe { out_ref(records, "records") }?;
        let files = audit::log_files_in(dir)?;
        if files.is_empty() {
            return Err(Error::Storage("no audit log files (audit-*.jsonl) in log_dir").into());
        }
        match audit::verify(&files, &key) {
            Ok(report) => {
                *records = report.records;
                Ok(())
            }
            Err(broken) => Err(report(
                kp_status::KP_ERR_INVALID_CIPHERTEXT,
                format_args!("audit log broken at {broken}"),
            )),
        }
    }
}
