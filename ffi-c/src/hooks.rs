//! **Insecure** hooks for replaying known-answer vectors: keys made from caller-chosen material.
//! Compiled only with the `insecure-test-hooks` feature, and declared in the header only when
//! `KEYPLANE_INSECURE_TEST_HOOKS` is defined. Never ship a library built with them.

use core::ffi::c_char;

use keyplane_core::Error;

use crate::boundary::{bytes, kp_status, text};
use crate::enums::{from_c, kp_key_spec, kp_key_usage};
use crate::keyring::{kp_keyring, ring};

/// **Insecure, tests only.** Creates a `SYMMETRIC_DEFAULT` key whose versions 1, 2, … have the
/// 32-byte root materials `roots[0..32]`, `roots[32..64]`, … (`roots_len` a multiple of 32).
///
/// # Safety
/// `keyring` is NULL or live; both `(ptr, len)` pairs are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_insecure_create_key_with_material(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    roots: *const u8,
    roots_len: usize,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (ring, key_id, roots) = unsafe {
            (ring(keyring)?, text(key_id, key_id_len, "key_id")?, bytes(roots, roots_len, "roots")?)
        };
        let chunks = roots.chunks_exact(32);
        if roots.is_empty() || !chunks.remainder().is_empty() {
            return Err(Error::InvalidInput("roots must be one or more 32-byte root materials").into());
        }
        let roots: Vec<[u8; 32]> = chunks.filter_map(|c| c.try_into().ok()).collect();
        ring.insecure_create_key_with_material(key_id, &roots)?;
        Ok(())
    }
}

/// **Insecure, tests only.** Creates a key of any spec from caller-chosen material: 32 bytes of
/// root material (`SYMMETRIC_DEFAULT`), the HMAC secret (`HMAC_*`) or a PKCS#8 private key.
///
/// # Safety
/// `keyring` is NULL or live; both `(ptr, len)` pairs are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_insecure_import_key_material(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    spec: kp_key_spec,
    usage: kp_key_usage,
    material: *const u8,
    material_len: usize,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (ring, key_id, material) = unsafe {
            (ring(keyring)?, text(key_id, key_id_len, "key_id")?, bytes(material, material_len, "material")?)
        };
        ring.insecure_import_key_material(key_id, from_c(spec)?, from_c(usage)?, material)?;
        Ok(())
    }
}
