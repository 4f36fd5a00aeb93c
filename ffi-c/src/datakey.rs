//! Data keys and data key pairs (plaintext and encrypted under a key, or only encrypted), and
//! random bytes.

use core::ffi::c_char;

use keyplane_core::{DataKey, DataKeyPair, DataKeyPairWithoutPlaintext, Error};
use zeroize::Zeroizing;

use crate::boundary::{
    CText, FfiResult, Handle, apart, context, copy_out, free_handle, give, handle_field, kp_bytes,
    kp_context_entry, kp_status, kp_str, out_ref, output, too_small,
};
use crate::enums::{from_c, kp_data_key_pair_spec, kp_data_key_spec, to_c};
use crate::keyring::{kp_keyring, ring, ring_and_key};

// ----- data keys --------------------------------------------------------------------------------

/// A data key: its plaintext and the same bytes encrypted under a key. The plaintext is
/// zeroized when the handle is freed with `kp_data_key_free`.
#[derive(Debug)]
pub struct kp_data_key {
    _private: [u8; 0],
}

/// What a `kp_data_key` points at.
#[derive(Debug)]
pub(crate) struct DataKeyHandle {
    key_id: CText,
    key: DataKey,
}

impl Handle for kp_data_key {
    type Inner = DataKeyHandle;
    const NAME: &'static str = "data_key";
}

/// Generates a data key of `spec` (with `number_of_bytes` for
/// `KP_DATA_KEY_SPEC_NUMBER_OF_BYTES`, else 0) encrypted under `key_id` with `context`, into a
/// new `kp_data_key` in `*out`. Errors: `KP_ERR_INVALID_INPUT` (spec or length), and those of
/// `kp_encrypt`.
///
/// # Safety
/// `keyring` is NULL or live; the `(ptr, len)` pairs and `context` are valid; `out` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_generate_data_key(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    spec: kp_data_key_spec,
    number_of_bytes: usize,
    context: *const kp_context_entry,
    context_len: usize,
    out: *mut *mut kp_data_key,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out, (ring, key_id), ctx) = unsafe {
            (
                out_ref(out, "out")?,
                ring_and_key(keyring, key_id, key_id_len)?,
                self::context(context, context_len)?,
            )
        };
        let spec = crate::enums::data_key_spec(spec, number_of_bytes)?;
        let key = ring.generate_data_key(key_id, spec, &ctx)?;
        give(out, DataKeyHandle { key_id: CText::new(key.key_id()), key });
        Ok(())
    }
}

/// The id of the key that encrypted the data key (never an alias).
///
/// # Safety
/// `dk` is NULL or a live `kp_data_key`; so for every `kp_data_key_*` accessor.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_data_key_key_id(dk: *const kp_data_key) -> kp_str {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(dk, kp_str::EMPTY, |d| d.key_id.view()) }
}

/// The data key in plaintext, valid until the handle is freed (which zeroizes it).
///
/// # Safety
/// As `kp_data_key_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_data_key_plaintext(dk: *const kp_data_key) -> kp_bytes {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(dk, kp_bytes::EMPTY, |d| kp_bytes::of(d.key.plaintext())) }
}

/// The data key encrypted under `kp_data_key_key_id`: a blob for `kp_decrypt`.
///
/// # Safety
/// As `kp_data_key_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_data_key_ciphertext_blob(dk: *const kp_data_key) -> kp_bytes {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(dk, kp_bytes::EMPTY, |d| {
            kp_bytes::of(d.key.ciphertext_blob())
        })
    }
}

/// Zeroizes and frees the data key in `*dk` and sets `*dk` to NULL; NULL or `*dk` NULL: no-op.
///
/// # Safety
/// `dk` is NULL or points to NULL or a live `kp_data_key*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_data_key_free(dk: *mut *mut kp_data_key) {
    // SAFETY: forwarded from the caller.
    ffi_value!((), unsafe { free_handle(dk) })
}

/// Generates a data key and writes only its blob into `out` (no plaintext leaves the library).
/// A size query (`(NULL, 0)`) generates nothing. Errors: as `kp_generate_data_key`, and
/// `KP_ERR_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `kp_generate_data_key`, with `(out, out_cap, out_len)` as in `kp_encrypt`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_generate_data_key_without_plaintext(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    spec: kp_data_key_spec,
    number_of_bytes: usize,
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
                apart(out, out_cap, &[(key_id.cast(), key_id_len)], &[(context, context_len)])
            }?;
            // SAFETY: forwarded from the caller.
            let ((ring, key_id), ctx) = unsafe {
                (ring_and_key(keyring, key_id, key_id_len)?, self::context(context, context_len)?)
            };
            let spec = crate::enums::data_key_spec(spec, number_of_bytes)?;
            let needed = spec.byte_len().and_then(|n| ring.ciphertext_len(key_id, n));
            too_small(buf, needed)?;
            let blob = ring.generate_data_key_without_plaintext(key_id, spec, &ctx)?;
            copy_out(&blob, buf)
        };
        // SAFETY: forwarded from the caller.
        unsafe { output(out, out_cap, out_len, write) }
    }
}

/// A data key pair: public key (DER SubjectPublicKeyInfo), private key (PKCS#8 DER) in
/// plaintext and encrypted under a symmetric key. Freed (plaintext zeroized) with
/// `kp_data_key_pair_free`.
#[derive(Debug)]
pub struct kp_data_key_pair {
    _private: [u8; 0],
}

/// What a `kp_data_key_pair` points at.
#[derive(Debug)]
pub(crate) struct DataKeyPairHandle {
    key_id: CText,
    pair: Pair,
}

#[derive(Debug)]
enum Pair {
    Full(DataKeyPair),
    PublicOnly(DataKeyPairWithoutPlaintext),
}

impl Handle for kp_data_key_pair {
    type Inner = DataKeyPairHandle;
    const NAME: &'static str = "data_key_pair";
}

/// Generates a key pair of `spec` whose private key is also encrypted under the symmetric key
/// `key_id` with `context`, into a new `kp_data_key_pair` in `*out`. Errors: those of
/// `kp_encrypt`, `KP_ERR_INVALID_INPUT` (spec).
///
/// # Safety
/// As `kp_generate_data_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_generate_data_key_pair(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    spec: kp_data_key_pair_spec,
    context: *const kp_context_entry,
    context_len: usize,
    out: *mut *mut kp_data_key_pair,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out, (ring, key_id), ctx) = unsafe {
            (
                out_ref(out, "out")?,
                ring_and_key(keyring, key_id, key_id_len)?,
                self::context(context, context_len)?,
            )
        };
        let pair = ring.generate_data_key_pair(key_id, from_c(spec)?, &ctx)?;
        give(out, DataKeyPairHandle { key_id: CText::new(pair.key_id()), pair: Pair::Full(pair) });
        Ok(())
    }
}

/// As `kp_generate_data_key_pair`, without the plaintext private key
/// (`kp_data_key_pair_private_key_plaintext` is empty).
///
/// # Safety
/// As `kp_generate_data_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_generate_data_key_pair_without_plaintext(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    spec: kp_data_key_pair_spec,
    context: *const kp_context_entry,
    context_len: usize,
    out: *mut *mut kp_data_key_pair,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out, (ring, key_id), ctx) = unsafe {
            (
                out_ref(out, "out")?,
                ring_and_key(keyring, key_id, key_id_len)?,
                self::context(context, context_len)?,
            )
        };
        let pair = ring.generate_data_key_pair_without_plaintext(key_id, from_c(spec)?, &ctx)?;
        give(out, DataKeyPairHandle { key_id: CText::new(&pair.key_id), pair: Pair::PublicOnly(pair) });
        Ok(())
    }
}

/// The symmetric key that encrypted the private key.
///
/// # Safety
/// `p` is NULL or a live `kp_data_key_pair`; so for every `kp_data_key_pair_*` accessor.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_data_key_pair_key_id(p: *const kp_data_key_pair) -> kp_str {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(p, kp_str::EMPTY, |p| p.key_id.view()) }
}

/// The kind of key pair.
///
/// # Safety
/// As `kp_data_key_pair_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_data_key_pair_key_pair_spec(
    p: *const kp_data_key_pair,
) -> kp_data_key_pair_spec {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(p, 0, |p| match &p.pair {
            Pair::Full(f) => to_c(f.key_pair_spec()),
            Pair::PublicOnly(w) => to_c(w.key_pair_spec),
        })
    }
}

/// The public key, DER-encoded X.509 SubjectPublicKeyInfo.
///
/// # Safety
/// As `kp_data_key_pair_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_data_key_pair_public_key(p: *const kp_data_key_pair) -> kp_bytes {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(p, kp_bytes::EMPTY, |p| match &p.pair {
            Pair::Full(f) => kp_bytes::of(f.public_key()),
            Pair::PublicOnly(w) => kp_bytes::of(&w.public_key),
        })
    }
}

/// The private key in plaintext (PKCS#8 DER); empty for a pair made without it.
///
/// # Safety
/// As `kp_data_key_pair_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_data_key_pair_private_key_plaintext(
    p: *const kp_data_key_pair,
) -> kp_bytes {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(p, kp_bytes::EMPTY, |p| match &p.pair {
            Pair::Full(f) => kp_bytes::of(f.private_key_plaintext()),
            Pair::PublicOnly(_) => kp_bytes::EMPTY,
        })
    }
}

/// The private key encrypted under `kp_data_key_pair_key_id`: a blob for `kp_decrypt`.
///
/// # Safety
/// As `kp_data_key_pair_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_data_key_pair_private_key_ciphertext_blob(
    p: *const kp_data_key_pair,
) -> kp_bytes {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(p, kp_bytes::EMPTY, |p| match &p.pair {
            Pair::Full(f) => kp_bytes::of(f.private_key_ciphertext_blob()),
            Pair::PublicOnly(w) => kp_bytes::of(&w.private_key_ciphertext_blob),
        })
    }
}

/// Zeroizes and frees the pair in `*p` and sets `*p` to NULL; NULL or `*p` NULL: no-op.
///
/// # Safety
/// `p` is NULL or points to NULL or a live `kp_data_key_pair*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_data_key_pair_free(p: *mut *mut kp_data_key_pair) {
    // SAFETY: forwarded from the caller.
    ffi_value!((), unsafe { free_handle(p) })
}

/// Writes `number_of_bytes` (1 to 1024) bytes from the system's cryptographic random number
/// generator into `out`. Errors: `KP_ERR_INVALID_INPUT` (length), `KP_ERR_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `keyring` is NULL or live; `(out, out_cap, out_len)` as in `kp_encrypt`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_generate_random(
    keyring: *const kp_keyring,
    number_of_bytes: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> kp_status {
    ffi! {
        // Every check inside the output step, so that any failure zeroes `out`.
        let write = |buf: &mut [u8]| -> FfiResult<usize> {
            // SAFETY: forwarded from the caller.
            let ring = unsafe { ring(keyring) }?;
            if buf.len() < number_of_bytes && (1..=1024).contains(&number_of_bytes) {
                return Err(Error::BufferTooSmall { needed: number_of_bytes }.into());
            }
            let random = Zeroizing::new(ring.generate_random(number_of_bytes)?);
            copy_out(&random, buf)
        };
        // SAFETY: forwarded from the caller.
        unsafe { output(out, out_cap, out_len, write) }
    }
}
