//! Data-plane operations: symmetric encryption, data keys, random bytes, MACs, signatures,
//! public keys and RSA-OAEP.

use core::ffi::c_char;

use keyplane_core::{
    DataKey, DataKeyPair, DataKeyPairWithoutPlaintext, EncryptionAlgorithm, Error, Keyring,
    PublicKeyInfo,
};
use zeroize::Zeroizing;

use crate::boundary::{
    CText, FfiResult, Handle, bytes, context, context_disjoint, copy_out, disjoint, free_handle,
    give, handle_field, kp_bytes, kp_context_entry, kp_status, kp_str, out_ref, output, text,
};
use crate::enums::{
    from_c, kp_data_key_pair_spec, kp_data_key_spec, kp_encryption_algorithm, kp_key_spec,
    kp_key_usage, kp_mac_algorithm, kp_message_type, kp_signing_algorithm, to_c,
};
use crate::keyring::{kp_keyring, ring};

/// The keyring and a key id.
///
/// # Safety
/// `keyring` is NULL or live; `(key_id, len)` is valid.
unsafe fn ring_and_key<'a>(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
) -> FfiResult<(&'a Keyring, &'a str)> {
    // SAFETY: forwarded from the caller.
    unsafe { Ok((ring(keyring)?, text(key_id, key_id_len, "key_id")?)) }
}

/// Fails when an input the call reads while it writes `(out, cap)` overlaps it: texts (key
/// ids, the data) as `(ptr, len)`, and encryption contexts as `(entries, count)`.
///
/// # Safety
/// Every context is NULL or points to its `count` entries.
unsafe fn apart(
    out: *mut u8,
    cap: usize,
    inputs: &[(*const u8, usize)],
    contexts: &[(*const kp_context_entry, usize)],
) -> FfiResult {
    for &(ptr, len) in inputs {
        disjoint(ptr, len, out, cap)?;
    }
    for &(entries, count) in contexts {
        // SAFETY: forwarded from the caller.
        unsafe { context_disjoint(entries, count, out, cap) }?;
    }
    Ok(())
}

/// Fails with the size needed when a length helper (which performs nothing and is not audited)
/// says `buf` is too small. A helper that fails says nothing: the operation then runs and fails
/// by itself, so that an audited keyring records the failure. Size queries answered here leave
/// no failed operation in the audit trail.
fn too_small(buf: &[u8], needed: keyplane_core::Result<usize>) -> FfiResult {
    match needed {
        Ok(needed) if buf.len() < needed => Err(Error::BufferTooSmall { needed }.into()),
        _ => Ok(()),
    }
}

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
