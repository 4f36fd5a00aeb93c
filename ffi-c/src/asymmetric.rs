//! Asymmetric keys: signing and verifying, public keys, and RSA-OAEP encryption and decryption.

use core::ffi::c_char;

use keyplane_core::{EncryptionAlgorithm, PublicKeyInfo};

use crate::boundary::{
    CText, FfiResult, Handle, apart, bytes, copy_out, free_handle, give, handle_field, kp_bytes,
    kp_status, kp_str, out_ref, output, too_small,
};
use crate::enums::{
    from_c, kp_encryption_algorithm, kp_key_spec, kp_key_usage, kp_message_type,
    kp_signing_algorithm, to_c,
};
use crate::keyring::{kp_keyring, ring_and_key};

// ----- signatures -------------------------------------------------------------------------------

/// The largest signature `kp_sign` can write for `key_id`, into `*out_len` (ECDSA signatures
/// are often shorter). Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_USAGE`.
///
/// # Safety
/// As `kp_ciphertext_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_max_signature_len(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    out_len: *mut usize,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out_len, (ring, key_id)) =
            unsafe { (out_ref(out_len, "out_len")?, ring_and_key(keyring, key_id, key_id_len)?) };
        *out_len = ring.max_signature_len(key_id)?;
        Ok(())
    }
}

/// Signs `message` (or, with `KP_MESSAGE_TYPE_DIGEST`, the caller's digest) with `algorithm`,
/// writing the signature (DER for ECDSA) into `out`, which needs `kp_max_signature_len` bytes.
/// Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_USAGE`, `KP_ERR_KEY_DISABLED`,
/// `KP_ERR_INVALID_KEY_STATE`, `KP_ERR_INVALID_INPUT` (digest length),
/// `KP_ERR_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `kp_encrypt`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_sign(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    message: *const u8,
    message_len: usize,
    message_type: kp_message_type,
    algorithm: kp_signing_algorithm,
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
            let (message_type, algorithm) = (from_c(message_type)?, from_c(algorithm)?);
            if buf.is_empty() {
                too_small(buf, ring.max_signature_len(key_id))?;
            }
            Ok(ring.sign_into(key_id, message, message_type, algorithm, buf)?)
        };
        // SAFETY: forwarded from the caller.
        unsafe { output(out, out_cap, out_len, write) }
    }
}

/// Checks a signature: `*out_valid` is `true` or `false` (any invalid or malformed signature),
/// and the status is `KP_OK` either way. Errors: as `kp_sign`, without the buffer error.
///
/// # Safety
/// As `kp_verify_mac`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_verify(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    message: *const u8,
    message_len: usize,
    message_type: kp_message_type,
    algorithm: kp_signing_algorithm,
    signature: *const u8,
    signature_len: usize,
    out_valid: *mut bool,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out_valid, (ring, key_id), message, signature) = unsafe {
            (
                out_ref(out_valid, "out_valid")?,
                ring_and_key(keyring, key_id, key_id_len)?,
                bytes(message, message_len, "message")?,
                bytes(signature, signature_len, "signature")?,
            )
        };
        *out_valid = ring.verify(key_id, message, from_c(message_type)?, from_c(algorithm)?, signature)?;
        Ok(())
    }
}

// ----- public keys and RSA-OAEP ---------------------------------------------------------------------

/// The public half of an asymmetric key, freed with `kp_public_key_free`.
#[derive(Debug)]
pub struct kp_public_key {
    _private: [u8; 0],
}

/// What a `kp_public_key` points at.
#[derive(Debug)]
pub(crate) struct PublicKeyHandle {
    key_id: CText,
    pem: CText,
    signing_algorithms: Vec<kp_signing_algorithm>,
    encryption_algorithms: Vec<kp_encryption_algorithm>,
    info: PublicKeyInfo,
}

impl Handle for kp_public_key {
    type Inner = PublicKeyHandle;
    const NAME: &'static str = "public_key";
}

/// The public key of an asymmetric key into a new `kp_public_key` in `*out`. Errors:
/// `KP_ERR_NOT_FOUND`, `KP_ERR_UNSUPPORTED_ALGORITHM` (symmetric and HMAC keys),
/// `KP_ERR_KEY_DISABLED`, `KP_ERR_INVALID_KEY_STATE`.
///
/// # Safety
/// `keyring` is NULL or live; `(key_id, key_id_len)` is valid; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_get_public_key(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    out: *mut *mut kp_public_key,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out, (ring, key_id)) =
            unsafe { (out_ref(out, "out")?, ring_and_key(keyring, key_id, key_id_len)?) };
        let info = ring.get_public_key(key_id)?;
        give(out, PublicKeyHandle {
            key_id: CText::new(&info.key_id),
            pem: CText::new(&info.to_pem()),
            signing_algorithms: info.signing_algorithms.iter().map(|a| to_c(*a)).collect(),
            encryption_algorithms: info.encryption_algorithms.iter().map(|a| to_c(*a)).collect(),
            info,
        });
        Ok(())
    }
}

/// The key id.
///
/// # Safety
/// `p` is NULL or a live `kp_public_key`; so for every `kp_public_key_*` accessor.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_public_key_key_id(p: *const kp_public_key) -> kp_str {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(p, kp_str::EMPTY, |p| p.key_id.view()) }
}

/// The key spec.
///
/// # Safety
/// As `kp_public_key_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_public_key_key_spec(p: *const kp_public_key) -> kp_key_spec {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(p, 0, |p| to_c(p.info.key_spec)) }
}

/// The key usage.
///
/// # Safety
/// As `kp_public_key_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_public_key_key_usage(p: *const kp_public_key) -> kp_key_usage {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(p, 0, |p| to_c(p.info.key_usage)) }
}

/// The public key, DER-encoded X.509 SubjectPublicKeyInfo.
///
/// # Safety
/// As `kp_public_key_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_public_key_der(p: *const kp_public_key) -> kp_bytes {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(p, kp_bytes::EMPTY, |p| kp_bytes::of(&p.info.public_key)) }
}

/// The public key as PEM (`-----BEGIN PUBLIC KEY-----`), NUL-terminated.
///
/// # Safety
/// As `kp_public_key_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_public_key_pem(p: *const kp_public_key) -> kp_str {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(p, kp_str::EMPTY, |p| p.pem.view()) }
}

/// The number of signing algorithms the key allows (0 unless it signs).
///
/// # Safety
/// As `kp_public_key_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_public_key_signing_algorithm_count(p: *const kp_public_key) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(p, 0, |p| p.signing_algorithms.len()) }
}

/// Signing algorithm `index` (0 when out of range).
///
/// # Safety
/// As `kp_public_key_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_public_key_signing_algorithm(
    p: *const kp_public_key,
    index: usize,
) -> kp_signing_algorithm {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(p, 0, |p| {
            p.signing_algorithms.get(index).copied().unwrap_or(0)
        })
    }
}

/// The number of encryption algorithms the key allows (0 unless it encrypts).
///
/// # Safety
/// As `kp_public_key_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_public_key_encryption_algorithm_count(
    p: *const kp_public_key,
) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(p, 0, |p| p.encryption_algorithms.len()) }
}

/// Encryption algorithm `index` (0 when out of range).
///
/// # Safety
/// As `kp_public_key_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_public_key_encryption_algorithm(
    p: *const kp_public_key,
    index: usize,
) -> kp_encryption_algorithm {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(p, 0, |p| {
            p.encryption_algorithms.get(index).copied().unwrap_or(0)
        })
    }
}

/// Frees the public key in `*p` and sets `*p` to NULL; NULL or `*p` NULL: no-op.
///
/// # Safety
/// `p` is NULL or points to NULL or a live `kp_public_key*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_public_key_free(p: *mut *mut kp_public_key) {
    // SAFETY: forwarded from the caller.
    ffi_value!((), unsafe { free_handle(p) })
}

/// The largest plaintext `algorithm` can encrypt under the RSA key `key_id` (AWS KMS's limits,
/// e.g. 190 bytes for RSA_2048 with RSAES_OAEP_SHA_256), into `*out_len`. A buffer of this
/// size always holds what `kp_decrypt_asymmetric` writes. Errors: `KP_ERR_NOT_FOUND`,
/// `KP_ERR_INVALID_KEY_USAGE`.
///
/// # Safety
/// As `kp_ciphertext_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_max_asymmetric_plaintext_len(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    algorithm: kp_encryption_algorithm,
    out_len: *mut usize,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out_len, (ring, key_id)) =
            unsafe { (out_ref(out_len, "out_len")?, ring_and_key(keyring, key_id, key_id_len)?) };
        *out_len = ring.max_asymmetric_plaintext_len(key_id, from_c::<EncryptionAlgorithm>(algorithm)?)?;
        Ok(())
    }
}

/// Encrypts `plaintext` with the public half of an RSA `ENCRYPT_DECRYPT` key (RSA-OAEP),
/// writing the bare OAEP ciphertext (the modulus length) into `out`. A size query encrypts
/// once and discards the result. Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_USAGE`,
/// `KP_ERR_KEY_DISABLED`, `KP_ERR_INVALID_KEY_STATE`, `KP_ERR_INVALID_INPUT` (plaintext over
/// the limit), `KP_ERR_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `kp_encrypt`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_encrypt_asymmetric(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    plaintext: *const u8,
    plaintext_len: usize,
    algorithm: kp_encryption_algorithm,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> kp_status {
    ffi! {
        // Every check inside the output step, so that any failure zeroes `out`.
        let write = |buf: &mut [u8]| -> FfiResult<usize> {
            // SAFETY: no context.
            unsafe { apart(out, out_cap, &[(plaintext, plaintext_len), (key_id.cast(), key_id_len)], &[]) }?;
            // SAFETY: forwarded from the caller.
            let ((ring, key_id), plaintext) = unsafe {
                (ring_and_key(keyring, key_id, key_id_len)?, bytes(plaintext, plaintext_len, "plaintext")?)
            };
            let algorithm = from_c(algorithm)?;
            copy_out(&ring.encrypt_asymmetric(key_id, plaintext, algorithm)?, buf)
        };
        // SAFETY: forwarded from the caller.
        unsafe { output(out, out_cap, out_len, write) }
    }
}

/// Decrypts an RSA-OAEP `ciphertext` made with the public half of `key_id`, writing the
/// plaintext into `out` (`kp_max_asymmetric_plaintext_len` bytes always suffice). A size query
/// decrypts once and discards the result. On failure `out` is zeroed. Errors:
/// `KP_ERR_INVALID_CIPHERTEXT` (one error for every cause), otherwise as
/// `kp_encrypt_asymmetric`.
///
/// # Safety
/// As `kp_encrypt`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_decrypt_asymmetric(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    ciphertext: *const u8,
    ciphertext_len: usize,
    algorithm: kp_encryption_algorithm,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> kp_status {
    ffi! {
        // Every check inside the output step, so that any failure zeroes `out`.
        let write = |buf: &mut [u8]| -> FfiResult<usize> {
            // SAFETY: no context.
            unsafe { apart(out, out_cap, &[(ciphertext, ciphertext_len), (key_id.cast(), key_id_len)], &[]) }?;
            // SAFETY: forwarded from the caller.
            let ((ring, key_id), ciphertext) = unsafe {
                (ring_and_key(keyring, key_id, key_id_len)?, bytes(ciphertext, ciphertext_len, "ciphertext")?)
            };
            let algorithm = from_c(algorithm)?;
            copy_out(&ring.decrypt_asymmetric(key_id, ciphertext, algorithm)?, buf)
        };
        // SAFETY: forwarded from the caller.
        unsafe { output(out, out_cap, out_len, write) }
    }
}
