//! Sealed key records through the C ABI: a root key held in the process, export and import of
//! a key as a sealed record (backup and restore, replicas), moving a record to a new root, and
//! reading a record's clear header.

use core::ffi::c_char;
use std::sync::Arc;

use keyplane_core::{Error, LocalRootKey, seal};

use crate::boundary::{
    FfiResult, Handle, bytes, copy_out, disjoint, free_handle, give, handle, kp_status, out_opt,
    out_ref, output, text,
};
use crate::keyring::{kp_keyring, ring};
use crate::keys::{Metadata, kp_key_metadata};

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
        let (out, root_id, material) = unsafe {
            (
                out_ref(out, "out")?,
                text(root_id, root_id_len, "root_id")?,
                bytes(material, material_len, "material")?,
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
        // SAFETY: forwarded from the caller.
        unsafe {
            output(out, cap, out_len, |buf| {
                copy_out(LocalRootKey::generate_material()?.as_ref(), buf)
            })
        }
    }
}

/// Writes `key_id` (id or `alias/...`) as a sealed record under `root` into `(out, cap)`:
/// every version, its metadata, state, aliases, rotation policy and counters, encrypted and
/// authenticated (format in FORMAT.md). Output convention: a size query (`cap` too small)
/// seals the record to learn its size (and is audited as an export); the size holds for the
/// next call unless the key changes meanwhile (a rotation, an alias). Records are re-sealed on
/// each call, so two calls give different bytes.
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
        // Inside the output convention, so that any failure zeroes `out`.
        let write = |buf: &mut [u8]| -> FfiResult<usize> {
            // The key id is read while the record is written.
            disjoint(key_id.cast(), key_id_len, out, cap)?;
            // SAFETY: the caller's guarantees, as documented.
            let (ring, key_id, root) = unsafe {
                (
                    ring(keyring)?,
                    text(key_id, key_id_len, "key_id")?,
                    handle::<kp_root_key>(root)?,
                )
            };
            copy_out(&ring.export_sealed(key_id, &**root)?, buf)
        };
        // SAFETY: forwarded from the caller.
        unsafe { output(out, cap, out_len, write) }
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
        // SAFETY: the caller's guarantees, as documented. Every argument, the optional
        // out-parameter included, is checked before the key is added.
        let (out_metadata, ring, record, root) = unsafe {
            (
                out_opt(out_metadata, "out_metadata")?,
                ring(keyring)?,
                bytes(record, record_len, "record")?,
                handle::<kp_root_key>(root)?,
            )
        };
        let metadata = ring.import_sealed(record, &**root)?;
        if let Some(out) = out_metadata {
            give(out, Metadata::new(metadata));
        }
        Ok(())
    }
}

/// Moves `record` from root `old` to root `new` (root rotation) without loading the key
/// anywhere; the new record goes to `(out, cap)` with the output convention. Errors as
/// `kp_import_sealed` for `old`; `KP_ERR_INVALID_INPUT` when `out` overlaps `record`.
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
        // Inside the output convention, so that any failure zeroes `out`.
        let write = |buf: &mut [u8]| -> FfiResult<usize> {
            // The record is read while the new one is written.
            disjoint(record, record_len, out, cap)?;
            // SAFETY: the caller's guarantees, as documented.
            let (record, old, new) = unsafe {
                (
                    bytes(record, record_len, "record")?,
                    handle::<kp_root_key>(old)?,
                    handle::<kp_root_key>(new)?,
                )
            };
            let resealed: Vec<u8> = seal::reseal(record, &**old, &**new)?;
            copy_out(&resealed, buf)
        };
        // SAFETY: forwarded from the caller.
        unsafe { output(out, cap, out_len, write) }
    }
}

/// What a sealed record says in the clear, from `kp_sealed_inspect`: which key it holds and
/// which root key opens it. Nothing here is authenticated until the record is opened.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_sealed_record_info {
    /// The record format (1).
    pub format: u8,
    /// The id of the key inside, NUL-terminated (at most 255 bytes before the NUL).
    pub key_id: [c_char; 256],
    /// The length of `key_id` in bytes, without the NUL.
    pub key_id_len: usize,
    /// The id of the root key that sealed it, NUL-terminated (at most 255 bytes).
    pub root_id: [c_char; 256],
    /// The length of `root_id` in bytes, without the NUL.
    pub root_id_len: usize,
}

/// Copies `text` and a NUL into `dst`, or fails when it does not fit.
fn copy_id(text: &str, dst: &mut [c_char; 256]) -> FfiResult<usize> {
    let src = text.as_bytes();
    let slot = dst
        .get_mut(..src.len())
        .filter(|_| src.len() < 256)
        .ok_or(Error::InvalidInput(
            "sealed record id longer than 255 bytes",
        ))?;
    for (d, s) in slot.iter_mut().zip(src) {
        *d = c_char::from_ne_bytes([*s]);
    }
    dst[src.len()] = 0;
    Ok(src.len())
}

/// Reads the clear header of `record` into `*out` without any root key: the key id inside
/// (to pick the keyring or check for a clash before importing) and the id of the root key that
/// sealed it (to find that root). `KP_ERR_INVALID_INPUT` for bytes that are not a sealed
/// record of a known format. A record that inspects fine may still fail to open.
///
/// # Safety
/// `(record, record_len)` is valid; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_sealed_inspect(
    record: *const u8,
    record_len: usize,
    out: *mut kp_sealed_record_info,
) -> kp_status {
    ffi! {
        // SAFETY: the caller's guarantees, as documented.
        let (out, record) = unsafe { (out_ref(out, "out")?, bytes(record, record_len, "record")?) };
        let info = seal::inspect(record)?;
        let key_id_len = copy_id(&info.key_id, &mut out.key_id);
        let root_id_len = copy_id(&info.root_id, &mut out.root_id);
        match (key_id_len, root_id_len) {
            (Ok(k), Ok(r)) => {
                out.format = info.format;
                out.key_id_len = k;
                out.root_id_len = r;
                Ok(())
            }
            (Err(e), _) | (_, Err(e)) => {
                // No partial output: the struct is as `out_ref` left it, all zero.
                *out = kp_sealed_record_info {
                    format: 0,
                    key_id: [0; 256],
                    key_id_len: 0,
                    root_id: [0; 256],
                    root_id_len: 0,
                };
                Err(e)
            }
        }
    }
}
