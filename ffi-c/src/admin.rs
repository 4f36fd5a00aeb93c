//! Key administration on a keyring: listing keys and aliases, enabling and disabling,
//! scheduled deletion, aliases, and rotation (on demand, by period, on the encryption budget).

use core::ffi::c_char;

use keyplane_core::{Error, Keyring, PendingWindow};

use crate::boundary::{
    CText, Handle, free_handle, give, handle_field, kp_status, kp_str, out_opt, out_ref, text,
    unix_seconds,
};
use crate::keyring::{kp_keyring, ring};
use crate::keys::rotation_period;

// ----- listing ----------------------------------------------------------------------------------

/// A list of strings (key ids), freed with `kp_string_list_free`.
#[derive(Debug)]
pub struct kp_string_list {
    _private: [u8; 0],
}

impl Handle for kp_string_list {
    type Inner = Vec<CText>;
    const NAME: &'static str = "list";
}

/// Every key id of the keyring, sorted, into a new `kp_string_list` in `*out`.
///
/// # Safety
/// `keyring` is NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_list_keys(
    keyring: *const kp_keyring,
    out: *mut *mut kp_string_list,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out, ring) = unsafe { (out_ref(out, "out")?, ring(keyring)?) };
        give(out, ring.list_keys().iter().map(|k| CText::new(k)).collect());
        Ok(())
    }
}

/// The number of strings in the list (0 for NULL).
///
/// # Safety
/// `list` is NULL or a live `kp_string_list`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_string_list_count(list: *const kp_string_list) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(list, 0, Vec::len) }
}

/// String `index` (empty when out of range), valid until the list is freed.
///
/// # Safety
/// `list` is NULL or a live `kp_string_list`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_string_list_get(list: *const kp_string_list, index: usize) -> kp_str {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(list, kp_str::EMPTY, |h| {
            h.get(index).map_or(kp_str::EMPTY, CText::view)
        })
    }
}

/// Frees the list in `*list` and sets `*list` to NULL; NULL or `*list` NULL: no-op.
///
/// # Safety
/// `list` is NULL or points to NULL or a live `kp_string_list*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_string_list_free(list: *mut *mut kp_string_list) {
    // SAFETY: forwarded from the caller.
    ffi_value!((), unsafe { free_handle(list) })
}

/// Every alias and its target key, sorted by alias, freed with `kp_alias_list_free`.
#[derive(Debug)]
pub struct kp_alias_list {
    _private: [u8; 0],
}

impl Handle for kp_alias_list {
    type Inner = Vec<(CText, CText)>;
    const NAME: &'static str = "list";
}

/// Every alias of the keyring into a new `kp_alias_list` in `*out`.
///
/// # Safety
/// `keyring` is NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_list_aliases(
    keyring: *const kp_keyring,
    out: *mut *mut kp_alias_list,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out, ring) = unsafe { (out_ref(out, "out")?, ring(keyring)?) };
        let list = ring
            .list_aliases()
            .iter()
            .map(|a| (CText::new(&a.alias_name), CText::new(&a.target_key_id)))
            .collect();
        give(out, list);
        Ok(())
    }
}

/// The number of aliases in the list (0 for NULL).
///
/// # Safety
/// `list` is NULL or a live `kp_alias_list`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_alias_list_count(list: *const kp_alias_list) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(list, 0, Vec::len) }
}

/// Alias `index`'s name (`alias/...`; empty when out of range).
///
/// # Safety
/// `list` is NULL or a live `kp_alias_list`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_alias_list_name(list: *const kp_alias_list, index: usize) -> kp_str {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(list, kp_str::EMPTY, |h| {
            h.get(index).map_or(kp_str::EMPTY, |(name, _)| name.view())
        })
    }
}

/// The key id alias `index` points at (empty when out of range).
///
/// # Safety
/// `list` is NULL or a live `kp_alias_list`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_alias_list_target(list: *const kp_alias_list, index: usize) -> kp_str {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(list, kp_str::EMPTY, |h| {
            h.get(index)
                .map_or(kp_str::EMPTY, |(_, target)| target.view())
        })
    }
}

/// Frees the list in `*list` and sets `*list` to NULL; NULL or `*list` NULL: no-op.
///
/// # Safety
/// `list` is NULL or points to NULL or a live `kp_alias_list*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_alias_list_free(list: *mut *mut kp_alias_list) {
    // SAFETY: forwarded from the caller.
    ffi_value!((), unsafe { free_handle(list) })
}

// ----- state changes, aliases, rotation -------------------------------------------------------------

/// Runs `f` with the keyring and one key id (or alias).
///
/// # Safety
/// `keyring` is NULL or live; `(key_id, key_id_len)` is valid.
unsafe fn with_key(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    f: impl FnOnce(&Keyring, &str) -> Result<(), Error>,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (ring, key_id) = unsafe { (ring(keyring)?, text(key_id, key_id_len, "key_id")?) };
        f(ring, key_id)?;
        Ok(())
    }
}

/// Enables a disabled key. Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_STATE` (pending
/// deletion or import).
///
/// # Safety
/// `keyring` is NULL or live; `(key_id, key_id_len)` is valid. The same for every function
/// below that takes these arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_enable_key(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
) -> kp_status {
    // SAFETY: forwarded from the caller.
    unsafe { with_key(keyring, key_id, key_id_len, Keyring::enable_key) }
}

/// Disables a key: every operation with it fails with `KP_ERR_KEY_DISABLED` until enabled.
///
/// # Safety
/// As `kp_enable_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_disable_key(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
) -> kp_status {
    // SAFETY: forwarded from the caller.
    unsafe { with_key(keyring, key_id, key_id_len, Keyring::disable_key) }
}

/// Schedules the key's deletion after `pending_window_days` (7 to 30; 0: 30, as in AWS KMS).
/// Stores the deletion date (Unix seconds) in `*out_deletion_date` unless it is NULL.
/// Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_STATE` (already pending deletion),
/// `KP_ERR_INVALID_INPUT` (window out of range).
///
/// # Safety
/// As `kp_enable_key`; `out_deletion_date` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_schedule_key_deletion(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    pending_window_days: u32,
    out_deletion_date: *mut i64,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller. The out-parameter is checked before the key
        // changes: a call that fails has no effect.
        let (out_date, ring, key_id) = unsafe {
            (
                out_opt(out_deletion_date, "out_deletion_date")?,
                ring(keyring)?,
                text(key_id, key_id_len, "key_id")?,
            )
        };
        let window = match pending_window_days {
            0 => PendingWindow::default(),
            days => PendingWindow::days(days)?,
        };
        let date = ring.schedule_key_deletion(key_id, window)?;
        if let Some(out) = out_date {
            *out = unix_seconds(date);
        }
        Ok(())
    }
}

/// Cancels a scheduled deletion; as in AWS KMS the key comes back **disabled** (an imported key
/// without material: `KP_KEY_STATE_PENDING_IMPORT`).
/// Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_STATE` (not pending deletion).
///
/// # Safety
/// As `kp_enable_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_cancel_key_deletion(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
) -> kp_status {
    // SAFETY: forwarded from the caller.
    unsafe { with_key(keyring, key_id, key_id_len, Keyring::cancel_key_deletion) }
}

/// Creates `alias` (`alias/...`) pointing at `key_id` (a key id or another alias).
/// Errors: `KP_ERR_INVALID_INPUT`, `KP_ERR_ALREADY_EXISTS`, `KP_ERR_NOT_FOUND`.
///
/// # Safety
/// `keyring` is NULL or live; both `(ptr, len)` pairs are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_create_alias(
    keyring: *const kp_keyring,
    alias: *const c_char,
    alias_len: usize,
    key_id: *const c_char,
    key_id_len: usize,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (ring, alias, key_id) = unsafe {
            (ring(keyring)?, text(alias, alias_len, "alias")?, text(key_id, key_id_len, "key_id")?)
        };
        ring.create_alias(alias, key_id)?;
        Ok(())
    }
}

/// Points an existing alias at another key. Errors: `KP_ERR_INVALID_INPUT`,
/// `KP_ERR_NOT_FOUND` (alias or key).
///
/// # Safety
/// As `kp_create_alias`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_update_alias(
    keyring: *const kp_keyring,
    alias: *const c_char,
    alias_len: usize,
    key_id: *const c_char,
    key_id_len: usize,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (ring, alias, key_id) = unsafe {
            (ring(keyring)?, text(alias, alias_len, "alias")?, text(key_id, key_id_len, "key_id")?)
        };
        ring.update_alias(alias, key_id)?;
        Ok(())
    }
}

/// Deletes an alias (the key is untouched). Errors: `KP_ERR_NOT_FOUND`.
///
/// # Safety
/// `keyring` is NULL or live; `(alias, alias_len)` is valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_delete_alias(
    keyring: *const kp_keyring,
    alias: *const c_char,
    alias_len: usize,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (ring, alias) = unsafe { (ring(keyring)?, text(alias, alias_len, "alias")?) };
        ring.delete_alias(alias)?;
        Ok(())
    }
}

/// Adds a version to a `SYMMETRIC_DEFAULT` key now; new encryptions use it and older versions
/// keep decrypting. Stores the new version number in `*out_version` unless it is NULL.
/// Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_KEY_DISABLED`, `KP_ERR_INVALID_KEY_STATE`,
/// `KP_ERR_UNSUPPORTED_ALGORITHM` (keys that do not rotate).
///
/// # Safety
/// As `kp_enable_key`; `out_version` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_rotate_key(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    out_version: *mut u32,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller. The out-parameter is checked before the key
        // rotates: a call that fails has no effect.
        let (out_version, ring, key_id) = unsafe {
            (
                out_opt(out_version, "out_version")?,
                ring(keyring)?,
                text(key_id, key_id_len, "key_id")?,
            )
        };
        let version = ring.rotate_key(key_id)?;
        if let Some(out) = out_version {
            *out = version;
        }
        Ok(())
    }
}

/// Turns on automatic rotation every `period_days` (90 to 2560) or, when `period_days` is 0,
/// every `period_seconds` (any non-zero period, without KMS's bounds); not both.
/// Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_INPUT`, `KP_ERR_UNSUPPORTED_ALGORITHM`.
///
/// # Safety
/// As `kp_enable_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_enable_key_rotation(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    period_days: u32,
    period_seconds: u64,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (ring, key_id) = unsafe { (ring(keyring)?, text(key_id, key_id_len, "key_id")?) };
        let period = rotation_period(period_days, period_seconds)?
            .ok_or(Error::InvalidInput("a rotation period is required"))?;
        ring.enable_key_rotation(key_id, period)?;
        Ok(())
    }
}

/// Turns off automatic rotation. Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_UNSUPPORTED_ALGORITHM`.
///
/// # Safety
/// As `kp_enable_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_disable_key_rotation(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
) -> kp_status {
    // SAFETY: forwarded from the caller.
    unsafe { with_key(keyring, key_id, key_id_len, Keyring::disable_key_rotation) }
}

/// Whether the key rotates (`true`) or refuses with `KP_ERR_LIMIT_EXCEEDED` (`false`) once a
/// version's encryption budget is spent. `true` for an imported (`EXTERNAL`) key is
/// `KP_ERR_UNSUPPORTED_ALGORITHM`: its only version is the material imported into it.
///
/// # Safety
/// As `kp_enable_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_set_rotate_on_budget(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    rotate: bool,
) -> kp_status {
    // SAFETY: forwarded from the caller.
    unsafe {
        with_key(keyring, key_id, key_id_len, |r, k| {
            r.set_rotate_on_budget(k, rotate)
        })
    }
}

/// Refuses blobs of versions older than `version` (`KP_ERR_VERSION_RETIRED`); lowering it
/// again re-admits them. Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_INPUT` (not between 1
/// and the current version), `KP_ERR_UNSUPPORTED_ALGORITHM`.
///
/// # Safety
/// As `kp_enable_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_set_min_decryption_version(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    version: u32,
) -> kp_status {
    // SAFETY: forwarded from the caller.
    unsafe {
        with_key(keyring, key_id, key_id_len, |r, k| {
            r.set_min_decryption_version(k, version)
        })
    }
}
