//! The keyring handle (`kp_keyring`): its options, making one (with an audit trail or not) and
//! freeing it.

use core::ffi::c_char;
use core::num::NonZeroU64;

use keyplane_core::Keyring;

use crate::audit_options::{AuditPlan, audit_plan, kp_audit_options};
use crate::boundary::{
    CText, FfiResult, Handle, free_handle, give, handle, in_opt, kp_status, out_ref, text,
};

/// A keyring: the set of keys of a process and every operation on them. Thread-safe: one
/// `kp_keyring*` may be used from any number of threads at once. Free with `kp_keyring_free`.
#[derive(Debug)]
pub struct kp_keyring {
    _private: [u8; 0],
}

/// What a `kp_keyring` points at.
#[derive(Debug)]
pub(crate) struct Ring {
    pub(crate) keyring: Keyring,
    pub(crate) max_batch_items: usize,
    /// The records `kp_keyring_open` could not load: path and why (shared by caller handles).
    pub(crate) load_problems: std::sync::Arc<[(CText, kp_status)]>,
}

impl Handle for kp_keyring {
    type Inner = Ring;
    const NAME: &'static str = "keyring";
}

/// The keyring behind a handle.
///
/// # Safety
/// `ptr` is NULL or a live `kp_keyring`.
pub(crate) unsafe fn ring<'a>(ptr: *const kp_keyring) -> FfiResult<&'a Keyring> {
    // SAFETY: forwarded from the caller.
    unsafe { handle(ptr) }.map(|r: &Ring| &r.keyring)
}

/// The keyring and a key id.
///
/// # Safety
/// `keyring` is NULL or live; `(key_id, len)` is valid.
pub(crate) unsafe fn ring_and_key<'a>(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
) -> FfiResult<(&'a Keyring, &'a str)> {
    // SAFETY: forwarded from the caller.
    unsafe { Ok((ring(keyring)?, text(key_id, key_id_len, "key_id")?)) }
}

/// Settings for `kp_keyring_new_with_options` and `kp_keyring_open`. All-zero is the default
/// for every field.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_keyring_options {
    /// Encryptions allowed per key version before the key rotates (or refuses); 0: 2^32.
    pub encryption_budget: u64,
    /// 0: batches run on one process-wide pool shared by every keyring, with a thread per
    /// core. n > 0: on a pool of n threads of this keyring's own, started at its first batch.
    /// The calling thread works on its batch too, with up to n - 1 pool threads (so n = 1
    /// starts no thread). At most 1024 (`KP_ERR_INVALID_INPUT` above).
    pub batch_threads: usize,
    /// The most items one batch call takes; 0: 100,000.
    pub max_batch_items: usize,
    /// NULL: no audit trail. Otherwise every operation of the keyring is audited as this says
    /// (a callback or a log directory; see `kp_audit_options`). Read only during the call.
    pub audit: *const kp_audit_options,
}

/// Creates an empty keyring with default settings and stores it in `*out`.
/// `KP_ERR_UNSUPPORTED_ALGORITHM` in a FIPS build whose module is not in FIPS mode (see
/// `kp_fips_mode`).
///
/// # Safety
/// `out` is NULL or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_keyring_new(out: *mut *mut kp_keyring) -> kp_status {
    ffi! {
        // SAFETY: the caller guarantees `out` is NULL or writable.
        let out = unsafe { out_ref(out, "out") }?;
        give(
            out,
            Ring {
                // `try_build`, not `Keyring::new()`: a FIPS module not in FIPS mode is a
                // status here, never a panic.
                keyring: Keyring::builder().try_build()?,
                max_batch_items: keyplane_core::batch::DEFAULT_MAX_BATCH_ITEMS,
                load_problems: std::sync::Arc::new([]),
            },
        );
        Ok(())
    }
}

/// Creates an empty keyring with `options` (NULL: the defaults) and stores it in `*out`. With
/// `options.audit`, the keyring audits every operation: `KP_ERR_INVALID_INPUT` for audit
/// options that do not fit together, `KP_ERR_STORAGE` for a log directory that cannot be
/// created or already holds a log. `KP_ERR_UNSUPPORTED_ALGORITHM` in a FIPS build whose module
/// is not in FIPS mode (see `kp_fips_mode`).
///
/// # Safety
/// `options` is NULL or points to a `kp_keyring_options` whose `audit` is NULL or valid as
/// documented in `kp_audit_options`; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_keyring_new_with_options(
    options: *const kp_keyring_options,
    out: *mut *mut kp_keyring,
) -> kp_status {
    ffi! {
        // SAFETY: the caller guarantees `out` is NULL or writable.
        let out = unsafe { out_ref(out, "out") }?;
        // SAFETY: the caller guarantees `options` is NULL or points to options whose `audit`
        // is NULL or valid.
        let (builder, max_batch_items) = unsafe { settings(options) }?.start()?;
        give(
            out,
            Ring {
                keyring: builder.try_build()?,
                max_batch_items,
                load_problems: std::sync::Arc::new([]),
            },
        );
        Ok(())
    }
}

/// Keyring options from C, checked: a builder with every setting, the batch size limit, and the
/// audit trail still to start.
pub(crate) struct Settings {
    builder: keyplane_core::KeyringBuilder,
    max_batch_items: usize,
    audit: Option<AuditPlan>,
}

/// Checks `options` (NULL: the defaults) without creating or starting anything, so that a call
/// finds every bad argument before it acts.
///
/// # Safety
/// `options` is NULL or points to a `kp_keyring_options` whose `audit` is NULL or points to a
/// `kp_audit_options` whose pointers are valid as documented there.
pub(crate) unsafe fn settings(options: *const kp_keyring_options) -> FfiResult<Settings> {
    // SAFETY: forwarded from the caller.
    let options = unsafe { in_opt(options) }?;
    // Before a log or store directory is created for a keyring `try_build` would refuse.
    crate::fips::check_module()?;
    let mut builder = Keyring::builder();
    let Some(options) = options else {
        let max = keyplane_core::batch::DEFAULT_MAX_BATCH_ITEMS;
        return Ok(Settings {
            builder: builder.max_batch_items(max),
            max_batch_items: max,
            audit: None,
        });
    };
    if let Some(budget) = NonZeroU64::new(options.encryption_budget) {
        builder = builder.encryption_budget(budget);
    }
    if options.batch_threads > 0 {
        // Refuses more than `keyplane::batch::MAX_THREADS` (`KP_ERR_INVALID_INPUT`); the pool
        // itself starts at the first batch.
        builder = builder.threads(options.batch_threads)?;
    }
    let max_batch_items = match options.max_batch_items {
        0 => keyplane_core::batch::DEFAULT_MAX_BATCH_ITEMS,
        n => n,
    };
    builder = builder.max_batch_items(max_batch_items);
    // SAFETY: forwarded from the caller: `audit` is NULL or points to valid audit options.
    let audit = match unsafe { in_opt(options.audit) }? {
        Some(audit) => Some(audit_plan(audit)?),
        None => None,
    };
    Ok(Settings {
        builder,
        max_batch_items,
        audit,
    })
}

impl Settings {
    /// The builder, with the audit trail started when the options asked for one (its log
    /// directory created), and the batch size limit.
    pub(crate) fn start(self) -> FfiResult<(keyplane_core::KeyringBuilder, usize)> {
        let mut builder = self.builder;
        if let Some(audit) = self.audit {
            builder = builder.audit(audit.start()?)?;
        }
        Ok((builder, self.max_batch_items))
    }
}

/// Frees the keyring in `*keyring` and sets `*keyring` to NULL, so that a second
/// `kp_keyring_free(&k)` is a no-op. `keyring` or `*keyring` NULL: no-op. Handles obtained
/// from the keyring (metadata, data keys, batch results) stay valid: they own their data.
///
/// # Safety
/// `keyring` is NULL or points to NULL or a live `kp_keyring*` that no other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_keyring_free(keyring: *mut *mut kp_keyring) {
    // SAFETY: forwarded from the caller.
    ffi_value!((), unsafe { free_handle(keyring) })
}
