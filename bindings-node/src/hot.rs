//! Synchronous fast paths for the small, frequent operations: arguments are read in place
//! (the key id into a stack buffer, bytes borrowed from the caller's typed array) and the
//! result is written straight into the new `Buffer`, with no intermediate copy.
//!
//! Order matters: every read that could run script code (the context object's getters) comes
//! before any borrowed byte slice is taken, so no script can detach an array under a borrow.

use napi::sys;

use crate::error::Failure;
use crate::js::{Js, NAME_BUF, exact_f64_u64};
use crate::ops::ctx;

type R<T> = Result<T, Failure>;

pub(crate) fn encrypt(
    ring: &keyplane::Keyring,
    js: Js,
    key_id: sys::napi_value,
    plaintext: sys::napi_value,
    context: sys::napi_value,
) -> R<sys::napi_value> {
    let mut name = [0u8; NAME_BUF];
    let key_id = js.str_in(key_id, "keyId", &mut name)?;
    let context = js.context(context, "context")?;
    let len = js.bytes_len(plaintext, "plaintext")?;
    let sized = ring.ciphertext_len(&key_id, len);
    let mut size = match sized {
        Ok(n) => n,
        Err(e) => {
            let plaintext = js.bytes(plaintext, "plaintext")?;
            return Err(recorded(
                ring.encrypt_into(&key_id, plaintext, ctx(&context), &mut []),
                e,
            ));
        }
    };
    // The size depends on the key id; if an alias moved between sizing and encrypting, size
    // again (a few times at most: each retry follows another thread's alias update). The
    // plaintext is measured again too: making the result pool can run the caller's getter
    // (`globalThis.Buffer`), which could detach the plaintext's buffer in between.
    for _ in 0..4 {
        let result = js.pooled_buffer_with(size, |out| {
            let plaintext = js.bytes(plaintext, "plaintext")?;
            Ok(ring.encrypt_into(&key_id, plaintext, ctx(&context), out)?)
        });
        match result {
            Err(Failure::Core(keyplane::Error::BufferTooSmall { needed })) => size = needed,
            Err(Failure::Core(keyplane::Error::Internal)) if size > 0 => {
                size = ring.ciphertext_len(&key_id, js.bytes_len(plaintext, "plaintext")?)?;
            }
            other => return other,
        }
    }
    Err(Failure::Core(keyplane::Error::Internal))
}

pub(crate) fn decrypt(
    ring: &keyplane::Keyring,
    js: Js,
    blob: sys::napi_value,
    context: sys::napi_value,
) -> R<sys::napi_value> {
    let context = js.context(context, "context")?;
    let size = match ring.plaintext_len(js.bytes(blob, "blob")?) {
        Ok(n) => n,
        Err(e) => {
            let blob = js.bytes(blob, "blob")?;
            return Err(recorded(ring.decrypt_into(blob, ctx(&context), &mut []), e));
        }
    };
    js.buffer_with(size, |out| {
        let blob = js.bytes(blob, "blob")?;
        Ok(ring.decrypt_into(blob, ctx(&context), out)?)
    })
}

/// The failure of an operation whose size helper failed (`ciphertext_len`, `plaintext_len`):
/// the helpers record nothing in the audit trail, so the operation itself is run (with no room
/// for output) to fail and be recorded as its Promise form's would, and its error is the one
/// returned; the helper's `fallback` stands when the operation only wants a larger output.
fn recorded(operation: keyplane::Result<usize>, fallback: keyplane::Error) -> Failure {
    match operation {
        Err(e) if !matches!(e, keyplane::Error::BufferTooSmall { .. }) => Failure::Core(e),
        _ => Failure::Core(fallback),
    }
}

pub(crate) fn generate_mac(
    ring: &keyplane::Keyring,
    js: Js,
    key_id: sys::napi_value,
    message: sys::napi_value,
    algorithm: sys::napi_value,
) -> R<sys::napi_value> {
    let mut name = [0u8; NAME_BUF];
    let key_id = js.str_in(key_id, "keyId", &mut name)?;
    let algorithm: keyplane::MacAlgorithm = js.parse(algorithm, "macAlgorithm")?;
    js.bytes_len(message, "message")?;
    js.pooled_buffer_with(algorithm.mac_len(), |out| {
        let message = js.bytes(message, "message")?;
        Ok(ring.generate_mac_into(&key_id, message, algorithm, out)?)
    })
}

pub(crate) fn verify_mac(
    ring: &keyplane::Keyring,
    js: Js,
    key_id: sys::napi_value,
    message: sys::napi_value,
    algorithm: sys::napi_value,
    mac: sys::napi_value,
) -> R<sys::napi_value> {
    let mut name = [0u8; NAME_BUF];
    let key_id = js.str_in(key_id, "keyId", &mut name)?;
    let algorithm: keyplane::MacAlgorithm = js.parse(algorithm, "macAlgorithm")?;
    let message = js.bytes(message, "message")?;
    let mac = js.bytes(mac, "mac")?;
    js.boolean(ring.verify_mac(&key_id, message, algorithm, mac)?)
}

pub(crate) fn encrypt_into(
    ring: &keyplane::Keyring,
    js: Js,
    key_id: sys::napi_value,
    plaintext: sys::napi_value,
    output: sys::napi_value,
    context: sys::napi_value,
) -> R<sys::napi_value> {
    let mut name = [0u8; NAME_BUF];
    let key_id = js.str_in(key_id, "keyId", &mut name)?;
    let context = js.context(context, "context")?;
    let n = js.in_out(plaintext, "plaintext", output, "output", |input, out| {
        Ok(ring.encrypt_into(&key_id, input, ctx(&context), out)?)
    })?;
    js.num(exact_f64_u64(u64::try_from(n).unwrap_or(u64::MAX)))
}

pub(crate) fn decrypt_into(
    ring: &keyplane::Keyring,
    js: Js,
    blob: sys::napi_value,
    output: sys::napi_value,
    context: sys::napi_value,
) -> R<sys::napi_value> {
    let context = js.context(context, "context")?;
    let n = js.in_out(blob, "blob", output, "output", |input, out| {
        Ok(ring.decrypt_into(input, ctx(&context), out)?)
    })?;
    js.num(exact_f64_u64(u64::try_from(n).unwrap_or(u64::MAX)))
}

pub(crate) fn ciphertext_len(
    ring: &keyplane::Keyring,
    js: Js,
    key_id: sys::napi_value,
    plaintext_len: sys::napi_value,
) -> R<sys::napi_value> {
    let mut name = [0u8; NAME_BUF];
    let key_id = js.str_in(key_id, "keyId", &mut name)?;
    let len: usize = js.uint_as(plaintext_len, "plaintextLength")?;
    let n = ring.ciphertext_len(&key_id, len)?;
    js.num(exact_f64_u64(u64::try_from(n).unwrap_or(u64::MAX)))
}

pub(crate) fn plaintext_len(
    ring: &keyplane::Keyring,
    js: Js,
    blob: sys::napi_value,
) -> R<sys::napi_value> {
    let n = ring.plaintext_len(js.bytes(blob, "blob")?)?;
    js.num(exact_f64_u64(u64::try_from(n).unwrap_or(u64::MAX)))
}
