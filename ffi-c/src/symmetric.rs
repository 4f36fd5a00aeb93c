//! The symmetric data plane: encrypting under a key's newest version, decrypting a blob (which
//! names its key and version), re-encrypting inside the library, and the size helpers.

use core::ffi::c_char;

use crate::boundary::{
    FfiResult, apart, bytes, context, copy_out, kp_context_entry, kp_status, out_ref, output, text,
    too_small,
};
use crate::keyring::{kp_keyring, ring, ring_and_key};

// ----- symmetric --------------------------------------------------------------------------------

/// The exact blob length `kp_encrypt` writes for `plaintext_len` bytes under `key_id`, into
/// `*out_len`. Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_LIMIT_EXCEEDED`.
///
/// # Safety
/// `keyring` is NULL or live; `(key_id, key_id_len)` is valid; `out_len` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_ciphertext_len(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    plaintext_len: usize,
    out_len: *mut usize,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out_len, (ring, key_id)) =
            unsafe { (out_ref(out_len, "out_len")?, ring_and_key(keyring, key_id, key_id_len)?) };
        *out_len = ring.ciphertext_len(key_id, plaintext_len)?;
        Ok(())
    }
}

/// The plaintext length `kp_decrypt` writes for `blob`, into `*out_len`.
/// Errors: `KP_ERR_INVALID_CIPHERTEXT` for a malformed blob.
///
/// # Safety
/// `keyring` is NULL or live; `(blob, blob_len)` is valid; `out_len` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_plaintext_len(
    keyring: *const kp_keyring,
    blob: *const u8,
    blob_len: usize,
    out_len: *mut usize,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out_len, ring, blob) = unsafe {
            (out_ref(out_len, "out_len")?, ring(keyring)?, bytes(blob, blob_len, "blob")?)
        };
        *out_len = ring.plaintext_len(blob)?;
        Ok(())
    }
}

/// Encrypts `plaintext` under the newest version of `key_id` (or alias) with the encryption
/// context `context[0..context_len]`, writing the blob into `out`. Allocates nothing with an
/// empty context and takes no lock while encrypting. `out` needs `kp_ciphertext_len` bytes;
/// with `(NULL, 0)` the call only reports the size (`KP_ERR_BUFFER_TOO_SMALL`, `*out_len`).
/// Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_USAGE`, `KP_ERR_KEY_DISABLED`,
/// `KP_ERR_INVALID_KEY_STATE`, `KP_ERR_BUFFER_TOO_SMALL`, `KP_ERR_LIMIT_EXCEEDED`,
/// `KP_ERR_INVALID_INPUT` / `KP_ERR_INVALID_UTF8` (context).
///
/// # Safety
/// `keyring` is NULL or live; every `(ptr, len)` is valid; `context` is NULL or points to
/// `context_len` entries; `(out, out_cap)` is writable and overlaps no input; `out_len` is NULL
/// or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_encrypt(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    plaintext: *const u8,
    plaintext_len: usize,
    context: *const kp_context_entry,
    context_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> kp_status {
    ffi! {
        // Every check inside the output step, so that any failure zeroes `out`.
        let write = |buf: &mut [u8]| -> FfiResult<usize> {
            // SAFETY: forwarded from the caller.
            unsafe {
                apart(
                    out,
                    out_cap,
                    &[(plaintext, plaintext_len), (key_id.cast(), key_id_len)],
                    &[(context, context_len)],
                )
            }?;
            // SAFETY: forwarded from the caller.
            let (ring, key_id, plaintext, ctx) = unsafe {
                let (ring, key_id) = ring_and_key(keyring, key_id, key_id_len)?;
                (ring, key_id, bytes(plaintext, plaintext_len, "plaintext")?, self::context(context, context_len)?)
            };
            if buf.is_empty() {
                too_small(buf, ring.ciphertext_len(key_id, plaintext.len()))?;
            }
            Ok(ring.encrypt_into(key_id, plaintext, &ctx, buf)?)
        };
        // SAFETY: forwarded from the caller.
        unsafe { output(out, out_cap, out_len, write) }
    }
}

/// Decrypts `blob` (which names its key and version) with the context it was encrypted with,
/// writing the plaintext into `out` (`kp_plaintext_len` bytes; `(NULL, 0)` for a size query).
/// On any failure `out[0..out_cap]` is zeroed. Errors: `KP_ERR_INVALID_CIPHERTEXT` (malformed,
/// tampered, another keyring's, another context, or a key that cannot open it, such as one
/// without its material: one error for every cause), `KP_ERR_BUFFER_TOO_SMALL`; and, for a
/// blob that authenticates, `KP_ERR_KEY_DISABLED`, `KP_ERR_INVALID_KEY_STATE`,
/// `KP_ERR_INVALID_KEY_USAGE`, `KP_ERR_VERSION_RETIRED`.
///
/// # Safety
/// As `kp_encrypt`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_decrypt(
    keyring: *const kp_keyring,
    blob: *const u8,
    blob_len: usize,
    context: *const kp_context_entry,
    context_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> kp_status {
    ffi! {
        // Every check inside the output step, so that any failure zeroes `out`.
        let write = |buf: &mut [u8]| -> FfiResult<usize> {
            // SAFETY: forwarded from the caller.
            unsafe { apart(out, out_cap, &[(blob, blob_len)], &[(context, context_len)]) }?;
            // SAFETY: forwarded from the caller.
            let (ring, blob, ctx) = unsafe {
                (ring(keyring)?, bytes(blob, blob_len, "blob")?, self::context(context, context_len)?)
            };
            if buf.is_empty() {
                too_small(buf, ring.plaintext_len(blob))?;
            }
            Ok(ring.decrypt_into(blob, &ctx, buf)?)
        };
        // SAFETY: forwarded from the caller.
        unsafe { output(out, out_cap, out_len, write) }
    }
}

/// Decrypts `blob` (made with `source_context`) and encrypts its plaintext under
/// `destination_key_id` with `destination_context`, writing the new blob into `out`. The
/// plaintext never leaves the library. A size query (`(NULL, 0)`) decrypts nothing.
/// Errors: those of `kp_decrypt` and `kp_encrypt`.
///
/// # Safety
/// As `kp_encrypt`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_re_encrypt(
    keyring: *const kp_keyring,
    blob: *const u8,
    blob_len: usize,
    source_context: *const kp_context_entry,
    source_context_len: usize,
    destination_key_id: *const c_char,
    destination_key_id_len: usize,
    destination_context: *const kp_context_entry,
    destination_context_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> kp_status {
    ffi! {
        // Every check inside the output step, so that any failure zeroes `out`.
        let write = |buf: &mut [u8]| -> FfiResult<usize> {
            // SAFETY: forwarded from the caller.
            unsafe {
                apart(
                    out,
                    out_cap,
                    &[(blob, blob_len), (destination_key_id.cast(), destination_key_id_len)],
                    &[(source_context, source_context_len), (destination_context, destination_context_len)],
                )
            }?;
            // SAFETY: forwarded from the caller.
            let (ring, blob, source, destination, dest_ctx) = unsafe {
                (
                    ring(keyring)?,
                    bytes(blob, blob_len, "blob")?,
                    context(source_context, source_context_len)?,
                    text(destination_key_id, destination_key_id_len, "destination_key_id")?,
                    context(destination_context, destination_context_len)?,
                )
            };
            let needed = ring
                .plaintext_len(blob)
                .and_then(|n| ring.ciphertext_len(destination, n));
            too_small(buf, needed)?;
            let new_blob = ring.re_encrypt(blob, &source, destination, &dest_ctx)?;
            copy_out(&new_blob, buf)
        };
        // SAFETY: forwarded from the caller.
        unsafe { output(out, out_cap, out_len, write) }
    }
}
