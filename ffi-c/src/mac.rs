//! MACs under HMAC keys: the MAC length, generating a MAC, and checking one.

use core::ffi::c_char;

use crate::boundary::{FfiResult, apart, bytes, kp_status, out_ref, output, too_small};
use crate::enums::{from_c, kp_mac_algorithm};
use crate::keyring::{kp_keyring, ring_and_key};

// ----- MAC --------------------------------------------------------------------------------------

/// The MAC length of `key_id`'s algorithm, into `*out_len`. Errors: `KP_ERR_NOT_FOUND`,
/// `KP_ERR_INVALID_KEY_USAGE` (not an HMAC key).
///
/// # Safety
/// As `kp_ciphertext_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_mac_len(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    out_len: *mut usize,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out_len, (ring, key_id)) =
            unsafe { (out_ref(out_len, "out_len")?, ring_and_key(keyring, key_id, key_id_len)?) };
        *out_len = ring.mac_len(key_id)?;
        Ok(())
    }
}

/// Writes the MAC of `message` under the HMAC key `key_id` into `out` (`kp_mac_len` bytes).
/// Allocates nothing. Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_USAGE` (not an HMAC key
/// or another algorithm), `KP_ERR_KEY_DISABLED`, `KP_ERR_INVALID_KEY_STATE`,
/// `KP_ERR_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `kp_encrypt`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_generate_mac(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    message: *const u8,
    message_len: usize,
    algorithm: kp_mac_algorithm,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> kp_status {
    ffi! {
        // Every check inside the output step, so that any failure zeroes `out`.
        let write = |buf: &mut [u8]| -> FfiResult<usize> {
            // SAFETY: no context.
            unsafe { apart(out, out_cap, &[(message, message_len), (key_id.cast(), key_id_len)], &[]) }?;
            // SAFETY: forwarded from the caller.
            let ((ring, key_id), message) = unsafe {
                (ring_and_key(keyring, key_id, key_id_len)?, bytes(message, message_len, "message")?)
            };
            let algorithm = from_c(algorithm)?;
            if buf.is_empty() {
                too_small(buf, ring.mac_len(key_id))?;
            }
            Ok(ring.generate_mac_into(key_id, message, algorithm, buf)?)
        };
        // SAFETY: forwarded from the caller.
        unsafe { output(out, out_cap, out_len, write) }
    }
}

/// Checks `mac` against the MAC of `message`: `*out_valid` is `true` or `false` (compared in
/// constant time; a wrong length is `false`), and the status is `KP_OK` either way. Errors:
/// as `kp_generate_mac`, without the buffer error.
///
/// # Safety
/// `keyring` is NULL or live; every `(ptr, len)` is valid; `out_valid` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_verify_mac(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    message: *const u8,
    message_len: usize,
    algorithm: kp_mac_algorithm,
    mac: *const u8,
    mac_len: usize,
    out_valid: *mut bool,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out_valid, (ring, key_id), message, mac) = unsafe {
            (
                out_ref(out_valid, "out_valid")?,
                ring_and_key(keyring, key_id, key_id_len)?,
                bytes(message, message_len, "message")?,
                bytes(mac, mac_len, "mac")?,
            )
        };
        *out_valid = ring.verify_mac(key_id, message, from_c(algorithm)?, mac)?;
        Ok(())
    }
}
