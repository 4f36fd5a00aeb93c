//! Sealed key records through the C ABI: a root key held in the process, export and import of
//! a key as a sealed record (backup and restore, replicas), and moving a record to a new root.

use core::ffi::c_char;
use std::sync::Arc;

use keyplane_core::{LocalRootKey, seal};

use crate::boundary::{
    Handle, bytes, copy_out, free_handle, give, handle, kp_status, out_ref, output, text,
};
use crate::keyring::{Metadata, kp_key_metadata, kp_keyring, ring};

/// A root key held in this process (`LocalRootKey`): AES-256-GCM under a key derived from 32
/// bytes of root material. Seals and opens key records; safe to share between threads. Free
/// with `kp_root_key_free`.
#[derive(Debug)]
pub struct kp_root_key {
    _private: [u8; 0],
}

impl Handle for kp_root_key {
    /// Shared, so that a keyring opened on a store can keep it.
    type Inner = Arc<LocalRootKey>;
    const NAME: &'static str = "root_key";
}

/// A root key named `root_id` (UTF-8, 1 to 255 bytes, written in the clear in each record)
/// from `material` (32 bytes; keep it as secret as every key sealed under it), in `*out`.
///
/// # Safety
/// `(root_id, root_id_len)` and `(material, material_len)` are valid; `out` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_root_key_new(
    root_id: *const c_char,
    root_id_len: usize,
    material: *const u8,
    material_len: usize,
    out: *mut *mut kp_root_key,
) -> kp_status {
    ffi! {
        // SAFETY: the caller's guarantees, as documented.
        let (root_id, material, out) = unsafe {
            (
                text(root_id, root_id_len, "root_id")?,
                bytes(material, material_len, "material")?,
                out_ref(out, "out")?,
            )
        };
        give(out, Arc::new(LocalRootKey::new(root_id, material)?));
        Ok(())
    }
}

/// Frees the root key in `*root` (its material is wiped) and sets `*root` to NULL. NULL: no-op.
///
/// # Safety
/// `root` is NULL or points to NULL or a live `kp_root_key*` no other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_root_key_free(root: *mut *mut kp_root_key) {
    // SAFETY: forwarded from the caller.
    ffi_value!((), unsafe { free_handle(root) })
}

/// Writes 32 bytes of fresh root material (from aws-lc's DRBG) into `(out, cap)`, `*out_len`
/// = 32.
///
/// # Safety
/// `(out, cap)` is writable; `out_len` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_root_key_generate_material(
    out: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> kp_status {
    ffi! {
        let material = LocalRootKey::generate_material()?;
        // SAFETY: forwarded from the caller.
        unsafe { output(out, cap, out_len, |buf| copy_out(material.as_ref(), buf)) }
    }
}

/// Writes `key_id` (id or `alias/...`) as a sealed record under `root` into `(out, cap)`:
/// every version, its metadata, state, aliases, rotation policy and counters, encrypted and
/// authenticated (format in FORMAT.md). A size query (`cap` too small) reports the size in
/// `*out_len`; records are re-sealed on each call, so two calls give different bytes.
///
/// # Safety
/// `keyring` and `root` are NULL or live; `(key_id, key_id_len)` is valid; `(out, cap)` is
/// writable; `out_len` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_export_sealed(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    root: *const kp_root_key,
    out: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> kp_status {
    ffi! {
        // SAFETY: the caller's guarantees, as documented.
        let (ring, key_id, root) = unsafe {
            (
                ring(keyring)?,
                text(key_id, key_id_len, "key_id")?,
                handle::<kp_root_key>(root)?,
            )
        };
        // Sealed inside the output step, so a failure zeroes the buffer like any other.
        // SAFETY: forwarded from the caller.
        unsafe {
            output(out, cap, out_len, |buf| {
                copy_out(&ring.export_sealed(key_id, &**root)?, buf)
            })
        }
    }
}

/// Opens `record` with `root` and adds its key to the keyring with its id, versions, state
/// and aliases; its metadata goes to `*out_metadata` unless that is NULL. A record that does
/// not authenticate under `root` (tampered, truncated, another root with the same id) is
/// `KP_ERR_INVALID_CIPHERTEXT`; one sealed under a root with another id, or bytes that are not
/// a record, `KP_ERR_INVALID_INPUT`; a key id or alias taken here, `KP_ERR_ALREADY_EXISTS`.
///
/// # Safety
/// `keyring` and `root` are NULL or live; `(record, record_len)` is valid; `out_metadata` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_import_sealed(
    keyring: *const kp_keyring,
    record: *const u8,
    record_len: usize,
    root: *const kp_root_key,
    out_metadata: *mut *mut kp_key_metadata,
) -> kp_status {
    ffi! {
        // SAFETY: the caller's guarantees, as documented.
        let (ring, record, root) = unsafe {
            (
                ring(keyring)?,
                bytes(record, record_len, "record")?,
                handle::<kp_root_key>(root)?,
            )
        };
        let metadata = ring.import_sealed(record, &**root)?;
        if !out_metadata.is_null() {
            // SAFETY: non-NULL, and the caller guarantees it is writable.
            give(unsafe { out_ref(out_metadata, "out_metadata") }?, Metadata::new(metadata));
        }
        Ok(())
    }
}

/// Moves `record` from root `old` to root `new` (root rotation) without loading the key
/// anywhere; the new record goes to `(out, cap)` with the output convention. Errors as
/// `kp_import_sealed` for `old`.
///
/// # Safety
/// `(record, record_len)` is valid; `old` and `new` are NULL or live; `(out, cap)` is
/// writable; `out_len` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_reseal(
    record: *const u8,
    record_len: usize,
    old: *const kp_root_key,
    new: *const kp_root_key,
    out: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> kp_status {
    ffi! {
        // SAFETY: the caller's guarantees, as documented.
        let (record, old, new) = unsafe {
            (
                bytes(record, record_len, "record")?,
                handle::<kp_root_key>(old)?,
                handle::<kp_root_key>(new)?,
            )
        };
        // SAFETY: forwarded from the caller.
        unsafe {
            output(out, cap, out_len, |buf| {
                copy_out(&seal::reseal(record, &**old, &**new)?, buf)
            })
        }
    }
}
