//! The audit trail of a keyring handle through the C ABI: per-handle caller identities,
//! flushing, counters, per-key last usage, and checking a log. How a keyring is told to audit
//! (`kp_audit_options`) is in `audit_options`.

use core::ffi::c_char;
use std::path::PathBuf;

use keyplane_core::Error;
use keyplane_core::audit::{self, AuditKey};

use crate::audit_options::IN_CALLBACK;
use crate::boundary::{
    CText, FfiResult, Handle, array, bytes, free_handle, give, handle, handle_field, kp_status,
    kp_str, out_ref, report, text, unix_nanos,
};
use crate::keyring::{Ring, kp_keyring, ring};

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
