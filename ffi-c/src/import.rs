//! Importing key material (AWS KMS's "bring your own key") through the C ABI: import
//! parameters (an RSA wrapping public key and a token), importing wrapped material into an
//! `EXTERNAL` key, and deleting it again.

use core::ffi::c_char;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keyplane_core::{Error, ImportParameters};

use crate::boundary::{
    Handle, bytes, free_handle, give, handle_field, kp_bytes, kp_status, out_ref, text,
    unix_seconds,
};
use crate::enums::{from_c, kp_wrapping_algorithm, kp_wrapping_key_spec};
use crate::keyring::{kp_keyring, ring};

/// Import parameters from `kp_get_parameters_for_import`: read with the
/// `kp_import_parameters_*` accessors (NULL gives empty values), free with
/// `kp_import_parameters_free`.
#[derive(Debug)]
pub struct kp_import_parameters {
    _private: [u8; 0],
}

impl Handle for kp_import_parameters {
    type Inner = ImportParameters;
    const NAME: &'static str = "import_parameters";
}

/// An RSA wrapping public key and an import token for bringing your own material into `key_id`
/// (a key created with `KP_ORIGIN_EXTERNAL`), valid for 24 hours, in `*out`. The token is
/// sealed under the keyring's root key (a store-backed keyring's, so it also works in a later
/// process on the same store) or a root of the keyring's own. RSA key generation makes this
/// call take tens to hundreds of milliseconds.
///
/// # Safety
/// `keyring` is NULL or live; `(key_id, key_id_len)` is valid; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_get_parameters_for_import(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    wrapping_algorithm: kp_wrapping_algorithm,
    wrapping_key_spec: kp_wrapping_key_spec,
    out: *mut *mut kp_import_parameters,
) -> kp_status {
    ffi! {
        // SAFETY: the caller's guarantees, as documented.
        let (out, ring, key_id) = unsafe {
            (out_ref(out, "out")?, ring(keyring)?, text(key_id, key_id_len, "key_id")?)
        };
        let params = ring.get_parameters_for_import(
            key_id,
            from_c(wrapping_algorithm)?,
            from_c(wrapping_key_spec)?,
        )?;
        give(out, params);
        Ok(())
    }
}

/// The RSA public key to wrap the material with, DER SubjectPublicKeyInfo.
///
/// # Safety
/// `p` is NULL or a live `kp_import_parameters*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_import_parameters_public_key(
    p: *const kp_import_parameters,
) -> kp_bytes {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(p, kp_bytes::EMPTY, |p| kp_bytes::of(&p.public_key)) }
}

/// The import token to pass to `kp_import_key_material` with the wrapped material.
///
/// # Safety
/// As `kp_import_parameters_public_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_import_parameters_import_token(
    p: *const kp_import_parameters,
) -> kp_bytes {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(p, kp_bytes::EMPTY, |p| kp_bytes::of(&p.import_token)) }
}

/// When the token stops being accepted, in seconds since the Unix epoch.
///
/// # Safety
/// As `kp_import_parameters_public_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_import_parameters_valid_to(p: *const kp_import_parameters) -> i64 {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(p, 0, |p| unix_seconds(p.parameters_valid_to)) }
}

/// Frees the parameters in `*p` and sets `*p` to NULL. NULL: no-op.
///
/// # Safety
/// `p` is NULL or points to NULL or a live `kp_import_parameters*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_import_parameters_free(p: *mut *mut kp_import_parameters) {
    // SAFETY: forwarded from the caller.
    ffi_value!((), unsafe { free_handle(p) })
}

/// Unwraps `encrypted_key_material` (wrapped for the parameters of `import_token`) and installs
/// it as `key_id`'s material; the key becomes enabled. `valid_to` (seconds since the Unix
/// epoch, in the future) makes the material expire then, and the key return to
/// `PendingImport`; 0: it does not expire. A key accepts only the material it was first given.
/// Errors: `KP_ERR_INVALID_INPUT` for a damaged, expired, other key's or other keyring's token,
/// a `valid_to` in the past, or material that does not fit the key spec or differs from what
/// the key had; `KP_ERR_INVALID_CIPHERTEXT` for material that does not unwrap;
/// `KP_ERR_UNSUPPORTED_ALGORITHM` unless the key's origin is `EXTERNAL`.
///
/// # Safety
/// `keyring` is NULL or live; the `(ptr, len)` pairs are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_import_key_material(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    import_token: *const u8,
    import_token_len: usize,
    encrypted_key_material: *const u8,
    encrypted_key_material_len: usize,
    valid_to: i64,
) -> kp_status {
    ffi! {
        // SAFETY: the caller's guarantees, as documented.
        let (ring, key_id, token, material) = unsafe {
            (
                ring(keyring)?,
                text(key_id, key_id_len, "key_id")?,
                bytes(import_token, import_token_len, "import_token")?,
                bytes(
                    encrypted_key_material,
                    encrypted_key_material_len,
                    "encrypted_key_material",
                )?,
            )
        };
        let valid_to = match valid_to {
            0 => None,
            t => Some(
                u64::try_from(t)
                    .ok()
                    .and_then(|s| UNIX_EPOCH.checked_add(Duration::from_secs(s)))
                    .filter(|t| *t > SystemTime::now())
                    .ok_or(Error::InvalidInput("valid_to must be in the future"))?,
            ),
        };
        ring.import_key_material(key_id, token, material, valid_to)?;
        Ok(())
    }
}

/// Deletes `key_id`'s imported material now: the key returns to `PendingImport`, and the same
/// material can be imported again.
///
/// # Safety
/// `keyring` is NULL or live; `(key_id, key_id_len)` is valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_delete_imported_key_material(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
) -> kp_status {
    ffi! {
        // SAFETY: the caller's guarantees, as documented.
        let (ring, key_id) = unsafe { (ring(keyring)?, text(key_id, key_id_len, "key_id")?) };
        ring.delete_imported_key_material(key_id)?;
        Ok(())
    }
}
