//! Batch forms: arrays of request structs in, one `kp_batch_result` handle out with a status and
//! an output per item, in input order. One bad item (including a NULL pointer, invalid UTF-8 or
//! an unknown algorithm number in its request) never fails the others; the call itself fails
//! only for the batch as a whole (NULL arguments, `KP_ERR_LIMIT_EXCEEDED` for too many items).

use core::ffi::c_char;
use std::borrow::Cow;

use bytes::Bytes;
use keyplane_core::{
    BatchDataKey, DataKeyRequest, DecryptRequest, EncryptRequest, EncryptionContext, Error,
    MacRequest, ReEncryptRequest, SignRequest, VerifyMacRequest, VerifyRequest,
};

use crate::boundary::{
    CText, Failure, FfiResult, Handle, array, bytes, context, free_handle, give, handle,
    handle_field, kp_bytes, kp_context_entry, kp_status, kp_str, out_ref, text,
};
use crate::enums::{
    data_key_spec, from_c, kp_data_key_spec, kp_mac_algorithm, kp_message_type,
    kp_signing_algorithm,
};
use crate::keyring::{Ring, kp_keyring};

/// One encryption in `kp_encrypt_many`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_encrypt_request {
    /// Key id or `alias/...`.
    pub key_id: *const c_char,
    /// Length of `key_id`.
    pub key_id_len: usize,
    /// The data to encrypt.
    pub plaintext: *const u8,
    /// Length of `plaintext`.
    pub plaintext_len: usize,
    /// The encryption context (NULL, 0 for none).
    pub context: *const kp_context_entry,
    /// Number of context entries.
    pub context_len: usize,
}

/// One decryption in `kp_decrypt_many`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_decrypt_request {
    /// The blob.
    pub blob: *const u8,
    /// Length of `blob`.
    pub blob_len: usize,
    /// The context given when encrypting.
    pub context: *const kp_context_entry,
    /// Number of context entries.
    pub context_len: usize,
}

/// One re-encryption in `kp_re_encrypt_many`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_re_encrypt_request {
    /// The blob.
    pub blob: *const u8,
    /// Length of `blob`.
    pub blob_len: usize,
    /// The context `blob` was made with.
    pub source_context: *const kp_context_entry,
    /// Number of source context entries.
    pub source_context_len: usize,
    /// Key id or `alias/...` to encrypt under.
    pub destination_key_id: *const c_char,
    /// Length of `destination_key_id`.
    pub destination_key_id_len: usize,
    /// The context bound to the new blob.
    pub destination_context: *const kp_context_entry,
    /// Number of destination context entries.
    pub destination_context_len: usize,
}

/// One data key in `kp_generate_data_key_many` / `kp_generate_data_key_without_plaintext_many`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_data_key_request {
    /// Key id or `alias/...` that encrypts the data key.
    pub key_id: *const c_char,
    /// Length of `key_id`.
    pub key_id_len: usize,
    /// The data key's size.
    pub spec: kp_data_key_spec,
    /// With `KP_DATA_KEY_SPEC_NUMBER_OF_BYTES`: 1 to 1024; otherwise 0.
    pub number_of_bytes: usize,
    /// The context bound to the encrypted data key.
    pub context: *const kp_context_entry,
    /// Number of context entries.
    pub context_len: usize,
}

/// One MAC in `kp_generate_mac_many`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_mac_request {
    /// Key id or `alias/...` of an HMAC key.
    pub key_id: *const c_char,
    /// Length of `key_id`.
    pub key_id_len: usize,
    /// The message.
    pub message: *const u8,
    /// Length of `message`.
    pub message_len: usize,
    /// Must match the key's spec.
    pub algorithm: kp_mac_algorithm,
}

/// One MAC check in `kp_verify_mac_many`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_verify_mac_request {
    /// Key id or `alias/...` of an HMAC key.
    pub key_id: *const c_char,
    /// Length of `key_id`.
    pub key_id_len: usize,
    /// The message.
    pub message: *const u8,
    /// Length of `message`.
    pub message_len: usize,
    /// Must match the key's spec.
    pub algorithm: kp_mac_algorithm,
    /// The MAC to check.
    pub mac: *const u8,
    /// Length of `mac`.
    pub mac_len: usize,
}

/// One signature in `kp_sign_many`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_sign_request {
    /// Key id or `alias/...` of a signing key.
    pub key_id: *const c_char,
    /// Length of `key_id`.
    pub key_id_len: usize,
    /// The message, or its digest with `KP_MESSAGE_TYPE_DIGEST`.
    pub message: *const u8,
    /// Length of `message`.
    pub message_len: usize,
    /// `KP_MESSAGE_TYPE_RAW` or `KP_MESSAGE_TYPE_DIGEST`.
    pub message_type: kp_message_type,
    /// One the key's spec allows.
    pub algorithm: kp_signing_algorithm,
}

/// One signature check in `kp_verify_many`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_verify_request {
    /// Key id or `alias/...` of a signing key.
    pub key_id: *const c_char,
    /// Length of `key_id`.
    pub key_id_len: usize,
    /// The message, or its digest with `KP_MESSAGE_TYPE_DIGEST`.
    pub message: *const u8,
    /// Length of `message`.
    pub message_len: usize,
    /// `KP_MESSAGE_TYPE_RAW` or `KP_MESSAGE_TYPE_DIGEST`.
    pub message_type: kp_message_type,
    /// One the key's spec allows.
    pub algorithm: kp_signing_algorithm,
    /// The signature to check.
    pub signature: *const u8,
    /// Length of `signature`.
    pub signature_len: usize,
}

/// The results of one batch call: an item per request, in input order. Outputs are views into
/// buffers the handle owns, valid until `kp_batch_result_free`, which zeroizes secret outputs
/// (plaintexts, data keys).
#[derive(Debug)]
pub struct kp_batch_result {
    _private: [u8; 0],
}

/// One item of a batch result.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_batch_item {
    /// `KP_OK` or why this item failed.
    pub status: kp_status,
    /// The output: the blob (encrypt, re-encrypt, data keys), the plaintext (decrypt), the MAC
    /// or the signature. `(NULL, 0)` when the item failed and for verify results.
    pub output: kp_bytes,
    /// The data key's plaintext (`kp_generate_data_key_many` only; otherwise `(NULL, 0)`).
    pub plaintext: kp_bytes,
    /// Verify forms: whether the MAC or signature is valid (`false` when the item failed).
    pub valid: bool,
    /// Why the item failed (the last-error message of a single call), or empty.
    pub message: kp_str,
}

/// What a `kp_batch_result` points at.
#[derive(Debug, Default)]
pub(crate) struct BatchResult {
    items: Vec<Item>,
}

#[derive(Debug, Default)]
struct Item {
    /// `None` for success (most items): kept small, since a batch holds many.
    status: Option<Box<(kp_status, CText)>>,
    output: Bytes,
    plaintext: Bytes,
    valid: bool,
}

impl Handle for kp_batch_result {
    type Inner = BatchResult;
    const NAME: &'static str = "result";
}

impl Item {
    fn failed(failure: Failure) -> Self {
        Self {
            status: Some(Box::new((
                failure.status(),
                CText::new(&failure.to_string()),
            ))),
            ..Self::default()
        }
    }

    fn output(output: Bytes) -> Self {
        Self {
            output,
            ..Self::default()
        }
    }
}

/// Merges per-request preparation failures with the core's results for the prepared ones.
fn merge<P, T>(
    prepared: &[FfiResult<P>],
    results: Vec<Result<T, Error>>,
    item: impl Fn(T) -> Item,
) -> BatchResult {
    let mut results = results.into_iter();
    let items = prepared
        .iter()
        .map(|p| match p {
            Err(failure) => Item::failed(*failure),
            Ok(_) => match results.next() {
                Some(Ok(t)) => item(t),
                Some(Err(e)) => Item::failed(Failure::Core(e)),
                None => Item::failed(Failure::Core(Error::Internal)),
            },
        })
        .collect();
    BatchResult { items }
}

/// The keyring and the request array, with the batch-size limit checked before anything is
/// read or allocated per item.
///
/// # Safety
/// `keyring` is NULL or live; `items` is NULL or points to `count` requests.
unsafe fn batch_args<'a, R>(
    keyring: *const kp_keyring,
    items: *const R,
    count: usize,
) -> FfiResult<(&'a Ring, &'a [R])> {
    // SAFETY: forwarded from the caller.
    let ring: &Ring = unsafe { handle(keyring) }?;
    if count > ring.max_batch_items {
        return Err(Error::LimitExceeded("batch has more items than the keyring allows").into());
    }
    // SAFETY: forwarded from the caller.
    let items = unsafe { array(items, count, "items") }?;
    Ok((ring, items))
}

/// A request's context: `None` for the empty one, so that a prepared request stays small.
type Ctx = Option<Box<EncryptionContext>>;

/// A batch request's context.
///
/// # Safety
/// As [`context`].
unsafe fn batch_context(entries: *const kp_context_entry, count: usize) -> FfiResult<Ctx> {
    if count == 0 {
        return Ok(None);
    }
    // SAFETY: forwarded from the caller.
    match unsafe { context(entries, count) }? {
        Cow::Borrowed(_) => Ok(None),
        Cow::Owned(ctx) => Ok(Some(Box::new(ctx))),
    }
}

fn ctx(c: &Ctx) -> &EncryptionContext {
    c.as_deref().unwrap_or(EncryptionContext::empty())
}

/// Runs one batch: prepares every request (a failure stays with its item), calls the core on
/// the prepared ones, and stores the merged result in `*out`.
///
/// # Safety
/// `keyring` is NULL or live; `items` is NULL or points to `count` requests whose pointers are
/// valid; `out` is NULL or writable.
unsafe fn run_batch<R, P, T>(
    keyring: *const kp_keyring,
    items: *const R,
    count: usize,
    out: *mut *mut kp_batch_result,
    prepare: impl Fn(&R) -> FfiResult<P>,
    call: impl FnOnce(&keyplane_core::Keyring, &[&P]) -> Result<Vec<Result<T, Error>>, Error>,
    item: impl Fn(T) -> Item,
) -> FfiResult {
    // SAFETY: forwarded from the caller.
    let (out, (ring, requests)) =
        unsafe { (out_ref(out, "out")?, batch_args(keyring, items, count)?) };
    // A keyring may allow very large batches (`max_batch_items`): memory for one is asked
    // for, not assumed, so that a batch too large for this machine fails instead of aborting.
    let mut prepared: Vec<FfiResult<P>> = Vec::new();
    prepared
        .try_reserve_exact(requests.len())
        .map_err(|_| Error::LimitExceeded("batch too large for the memory available"))?;
    prepared.extend(requests.iter().map(prepare));
    let mut ok: Vec<&P> = Vec::new();
    ok.try_reserve_exact(prepared.len())
        .map_err(|_| Error::LimitExceeded("batch too large for the memory available"))?;
    ok.extend(prepared.iter().filter_map(|p| p.as_ref().ok()));
    let results = call(&ring.keyring, &ok)?;
    give(out, merge(&prepared, results, item));
    Ok(())
}

/// Encrypts every request; see `kp_encrypt` for each item's errors. Each item's `output` is
/// its blob. Stores a new `kp_batch_result` in `*out`.
///
/// # Safety
/// `keyring` is NULL or live; `items` is NULL or points to `count` requests whose pointers
/// are valid for the call; `out` is NULL or writable. The same for every `kp_*_many`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_encrypt_many(
    keyring: *const kp_keyring,
    items: *const kp_encrypt_request,
    count: usize,
    out: *mut *mut kp_batch_result,
) -> kp_status {
    struct P<'a> {
        key_id: &'a str,
        plaintext: &'a [u8],
        context: Ctx,
    }
    ffi! {
        // SAFETY: forwarded from the caller.
        unsafe {
            run_batch(
                keyring,
                items,
                count,
                out,
                |r| {
                    // SAFETY: the caller guarantees the request's pointers are valid.
                    Ok(P {
                        key_id: text(r.key_id, r.key_id_len, "key_id")?,
                        plaintext: bytes(r.plaintext, r.plaintext_len, "plaintext")?,
                        context: batch_context(r.context, r.context_len)?,
                    })
                },
                |ring, ok| {
                    let reqs: Vec<_> = ok
                        .iter()
                        .map(|p| EncryptRequest { key_id: p.key_id, plaintext: p.plaintext, context: ctx(&p.context) })
                        .collect();
                    ring.encrypt_many(&reqs)
                },
                Item::output,
            )
        }
    }
}

/// Decrypts every request; see `kp_decrypt`. Each item's `output` is its plaintext (zeroized
/// when the result is freed).
///
/// # Safety
/// As `kp_encrypt_many`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_decrypt_many(
    keyring: *const kp_keyring,
    items: *const kp_decrypt_request,
    count: usize,
    out: *mut *mut kp_batch_result,
) -> kp_status {
    struct P<'a> {
        blob: &'a [u8],
        context: Ctx,
    }
    ffi! {
        // SAFETY: forwarded from the caller.
        unsafe {
            run_batch(
                keyring,
                items,
                count,
                out,
                |r| {
                    // SAFETY: the caller guarantees the request's pointers are valid.
                    Ok(P { blob: bytes(r.blob, r.blob_len, "blob")?, context: batch_context(r.context, r.context_len)? })
                },
                |ring, ok| {
                    let reqs: Vec<_> =
                        ok.iter().map(|p| DecryptRequest { blob: p.blob, context: ctx(&p.context) }).collect();
                    ring.decrypt_many(&reqs)
                },
                Item::output,
            )
        }
    }
}

/// Re-encrypts every request; see `kp_re_encrypt`. Each item's `output` is its new blob.
///
/// # Safety
/// As `kp_encrypt_many`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_re_encrypt_many(
    keyring: *const kp_keyring,
    items: *const kp_re_encrypt_request,
    count: usize,
    out: *mut *mut kp_batch_result,
) -> kp_status {
    struct P<'a> {
        blob: &'a [u8],
        source: Ctx,
        destination_key_id: &'a str,
        destination: Ctx,
    }
    ffi! {
        // SAFETY: forwarded from the caller.
        unsafe {
            run_batch(
                keyring,
                items,
                count,
                out,
                |r| {
                    // SAFETY: the caller guarantees the request's pointers are valid.
                    Ok(P {
                        blob: bytes(r.blob, r.blob_len, "blob")?,
                        source: batch_context(r.source_context, r.source_context_len)?,
                        destination_key_id: text(
                            r.destination_key_id,
                            r.destination_key_id_len,
                            "destination_key_id",
                        )?,
                        destination: batch_context(r.destination_context, r.destination_context_len)?,
                    })
                },
                |ring, ok| {
                    let reqs: Vec<_> = ok
                        .iter()
                        .map(|p| ReEncryptRequest {
                            blob: p.blob,
                            source_context: ctx(&p.source),
                            destination_key_id: p.destination_key_id,
                            destination_context: ctx(&p.destination),
                        })
                        .collect();
                    ring.re_encrypt_many(&reqs)
                },
                Item::output,
            )
        }
    }
}

struct DataKeyP<'a> {
    key_id: &'a str,
    spec: keyplane_core::DataKeySpec,
    context: Ctx,
}

/// # Safety
/// The request's pointers are valid.
unsafe fn prepare_data_key<'a>(r: &kp_data_key_request) -> FfiResult<DataKeyP<'a>> {
    // SAFETY: forwarded from the caller.
    unsafe {
        Ok(DataKeyP {
            key_id: text(r.key_id, r.key_id_len, "key_id")?,
            spec: data_key_spec(r.spec, r.number_of_bytes)?,
            context: batch_context(r.context, r.context_len)?,
        })
    }
}

fn data_key_requests<'a>(ok: &[&'a DataKeyP<'a>]) -> Vec<DataKeyRequest<'a>> {
    ok.iter()
        .map(|p| DataKeyRequest {
            key_id: p.key_id,
            spec: p.spec,
            context: ctx(&p.context),
        })
        .collect()
}

/// Generates a data key per request; see `kp_generate_data_key`. Each item's `plaintext` is
/// the data key (zeroized when the result is freed) and `output` its blob.
///
/// # Safety
/// As `kp_encrypt_many`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_generate_data_key_many(
    keyring: *const kp_keyring,
    items: *const kp_data_key_request,
    count: usize,
    out: *mut *mut kp_batch_result,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        unsafe {
            run_batch(
                keyring,
                items,
                count,
                out,
                // SAFETY: the caller guarantees the request's pointers are valid.
                |r| prepare_data_key(r),
                |ring, ok| ring.generate_data_key_many(&data_key_requests(ok)),
                |dk: BatchDataKey| Item {
                    output: dk.ciphertext_blob().clone(),
                    plaintext: dk.plaintext().clone(),
                    ..Item::default()
                },
            )
        }
    }
}

/// Generates a data key per request and keeps only its blob (`output`); see
/// `kp_generate_data_key_without_plaintext`.
///
/// # Safety
/// As `kp_encrypt_many`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_generate_data_key_without_plaintext_many(
    keyring: *const kp_keyring,
    items: *const kp_data_key_request,
    count: usize,
    out: *mut *mut kp_batch_result,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        unsafe {
            run_batch(
                keyring,
                items,
                count,
                out,
                // SAFETY: the caller guarantees the request's pointers are valid.
                |r| prepare_data_key(r),
                |ring, ok| ring.generate_data_key_without_plaintext_many(&data_key_requests(ok)),
                Item::output,
            )
        }
    }
}

/// Computes a MAC per request (`output`); see `kp_generate_mac`.
///
/// # Safety
/// As `kp_encrypt_many`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_generate_mac_many(
    keyring: *const kp_keyring,
    items: *const kp_mac_request,
    count: usize,
    out: *mut *mut kp_batch_result,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        unsafe {
            run_batch(
                keyring,
                items,
                count,
                out,
                |r| {
                    // SAFETY: the caller guarantees the request's pointers are valid.
                    Ok(MacRequest {
                        key_id: text(r.key_id, r.key_id_len, "key_id")?,
                        message: bytes(r.message, r.message_len, "message")?,
                        algorithm: from_c(r.algorithm)?,
                    })
                },
                |ring, ok| {
                    let reqs: Vec<MacRequest<'_>> = ok.iter().map(|p| **p).collect();
                    ring.generate_mac_many(&reqs)
                },
                Item::output,
            )
        }
    }
}

/// Checks a MAC per request (`valid`); see `kp_verify_mac`.
///
/// # Safety
/// As `kp_encrypt_many`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_verify_mac_many(
    keyring: *const kp_keyring,
    items: *const kp_verify_mac_request,
    count: usize,
    out: *mut *mut kp_batch_result,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        unsafe {
            run_batch(
                keyring,
                items,
                count,
                out,
                |r| {
                    // SAFETY: the caller guarantees the request's pointers are valid.
                    Ok(VerifyMacRequest {
                        key_id: text(r.key_id, r.key_id_len, "key_id")?,
                        message: bytes(r.message, r.message_len, "message")?,
                        algorithm: from_c(r.algorithm)?,
                        mac: bytes(r.mac, r.mac_len, "mac")?,
                    })
                },
                |ring, ok| {
                    let reqs: Vec<VerifyMacRequest<'_>> = ok.iter().map(|p| **p).collect();
                    ring.verify_mac_many(&reqs)
                },
                |valid| Item { valid, ..Item::default() },
            )
        }
    }
}

/// Signs every request (`output`); see `kp_sign`.
///
/// # Safety
/// As `kp_encrypt_many`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_sign_many(
    keyring: *const kp_keyring,
    items: *const kp_sign_request,
    count: usize,
    out: *mut *mut kp_batch_result,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        unsafe {
            run_batch(
                keyring,
                items,
                count,
                out,
                |r| {
                    // SAFETY: the caller guarantees the request's pointers are valid.
                    Ok(SignRequest {
                        key_id: text(r.key_id, r.key_id_len, "key_id")?,
                        message: bytes(r.message, r.message_len, "message")?,
                        message_type: from_c(r.message_type)?,
                        algorithm: from_c(r.algorithm)?,
                    })
                },
                |ring, ok| {
                    let reqs: Vec<SignRequest<'_>> = ok.iter().map(|p| **p).collect();
                    ring.sign_many(&reqs)
                },
                Item::output,
            )
        }
    }
}

/// Checks a signature per request (`valid`); see `kp_verify`.
///
/// # Safety
/// As `kp_encrypt_many`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_verify_many(
    keyring: *const kp_keyring,
    items: *const kp_verify_request,
    count: usize,
    out: *mut *mut kp_batch_result,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        unsafe {
            run_batch(
                keyring,
                items,
                count,
                out,
                |r| {
                    // SAFETY: the caller guarantees the request's pointers are valid.
                    Ok(VerifyRequest {
                        key_id: text(r.key_id, r.key_id_len, "key_id")?,
                        message: bytes(r.message, r.message_len, "message")?,
                        message_type: from_c(r.message_type)?,
                        algorithm: from_c(r.algorithm)?,
                        signature: bytes(r.signature, r.signature_len, "signature")?,
                    })
                },
                |ring, ok| {
                    let reqs: Vec<VerifyRequest<'_>> = ok.iter().map(|p| **p).collect();
                    ring.verify_many(&reqs)
                },
                |valid| Item { valid, ..Item::default() },
            )
        }
    }
}

/// The number of items (0 for NULL).
///
/// # Safety
/// `result` is NULL or a live `kp_batch_result`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_batch_result_count(result: *const kp_batch_result) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(result, 0, |r| r.items.len()) }
}

/// Item `index` into `*out`; its views stay valid until the result is freed.
/// `KP_ERR_INVALID_INPUT` when `index` is out of range.
///
/// # Safety
/// `result` is NULL or a live `kp_batch_result`; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_batch_result_item(
    result: *const kp_batch_result,
    index: usize,
    out: *mut kp_batch_item,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out, result) = unsafe { (out_ref(out, "out")?, handle(result)?) };
        let item = result
            .items
            .get(index)
            .ok_or(Error::InvalidInput("batch item index out of range"))?;
        let (status, message) = item
            .status
            .as_ref()
            .map_or((kp_status::KP_OK, kp_str::EMPTY), |b| (b.0, b.1.view()));
        *out = kp_batch_item {
            status,
            output: kp_bytes::of(&item.output),
            plaintext: kp_bytes::of(&item.plaintext),
            valid: item.valid,
            message,
        };
        Ok(())
    }
}

/// Frees the result in `*result` (zeroizing secret outputs) and sets `*result` to NULL; NULL or
/// `*result` NULL: no-op.
///
/// # Safety
/// `result` is NULL or points to NULL or a live `kp_batch_result*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_batch_result_free(result: *mut *mut kp_batch_result) {
    // SAFETY: forwarded from the caller.
    ffi_value!((), unsafe { free_handle(result) })
}
