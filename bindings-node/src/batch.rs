//! Batch forms: an array of items in, an array of results out, in the same order.
//!
//! A failed item does not fail the batch: its slot holds an `Error` with the Keyplane `code`
//! (`KP_NOT_FOUND`, `KP_INVALID_CIPHERTEXT`, …) where a result would be. An item whose values
//! Keyplane refuses (an unknown algorithm name, a bad context) fails in its slot the same way.
//! Only what makes the call itself wrong throws (or rejects) for the whole batch: an argument
//! that is not an array, an item or field of the wrong type (`TypeError`), or more items than
//! the keyring's `maxBatchItems` (`KP_LIMIT_EXCEEDED`).
//!
//! Items are copied when read (the work runs on other threads), and a context object shared
//! by consecutive items is parsed once.

use core::ffi::CStr;

use bytes::Bytes as SharedBytes;
use keyplane::{
    BatchDataKey, DataKeyRequest, DataKeySpec, DecryptRequest, EncryptRequest, Keyring,
    MacAlgorithm, MacRequest, MessageType, ReEncryptRequest, SignRequest, SigningAlgorithm,
    VerifyMacRequest, VerifyRequest,
};
use napi::bindgen_prelude::ToNapiValue;
use napi::sys;
use zeroize::Zeroizing;

use crate::error::Failure;
use crate::job::{Work, work};
use crate::js::Js;
use crate::ops::{Ctx, Field, ctx};
use crate::types::{Bytes, DataKey, SecretBytes};

type R<T> = Result<T, Failure>;
type ItemResult<T> = Result<T, keyplane::Error>;

/// Keeps a Keyplane refusal in the item's slot; anything else fails the batch.
fn in_slot<T>(r: R<T>) -> R<ItemResult<T>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(Failure::Core(e)) => Ok(Err(e)),
        Err(other) => Err(other),
    }
}

/// The contexts of a batch, each parsed once.
#[derive(Default)]
struct Contexts {
    list: Vec<Ctx>,
    last: Option<(sys::napi_value, usize)>,
}

impl Contexts {
    fn read(&mut self, js: Js, v: sys::napi_value, what: Field) -> R<ItemResult<usize>> {
        if let Some((prev, index)) = self.last
            && js.same(prev, v)?
        {
            return Ok(Ok(index));
        }
        let parsed = match in_slot(js.context(v, what))? {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        self.list.push(parsed);
        let index = self.list.len() - 1;
        self.last = Some((v, index));
        Ok(Ok(index))
    }

    /// The parsed contexts, to move into the work.
    fn done(self) -> Vec<Ctx> {
        self.list
    }
}

fn context_at(list: &[Ctx], index: usize) -> &keyplane::EncryptionContext {
    list.get(index).map_or_else(|| ctx(&None), ctx)
}

/// Reads each item of the `items` array with `read`.
fn items<T>(
    js: Js,
    items: sys::napi_value,
    mut read: impl FnMut(&mut Props, usize, sys::napi_value) -> R<ItemResult<T>>,
) -> R<Vec<ItemResult<T>>> {
    let values = js.array(items, "items")?;
    let mut props = Props {
        js,
        names: Vec::new(),
    };
    let mut out = Vec::with_capacity(values.len());
    for (i, item) in values.into_iter().enumerate() {
        js.object(item, Field(i, "").item())?;
        out.push(read(&mut props, i, item)?);
    }
    Ok(out)
}

/// Reads item fields, making each property-name string once per batch rather than per item.
struct Props {
    js: Js,
    names: Vec<(&'static CStr, sys::napi_value)>,
}

impl Props {
    fn get(&mut self, item: sys::napi_value, name: &'static CStr) -> R<sys::napi_value> {
        let key = match self.names.iter().find(|(n, _)| core::ptr::eq(*n, name)) {
            Some(&(_, key)) => key,
            None => {
                let key = self.js.name(name)?;
                self.names.push((name, key));
                key
            }
        };
        self.js.get_by(item, key)
    }
}

/// The key ids of a batch: a key id string equal to the previous item's is read once.
#[derive(Default)]
struct KeyIds {
    list: Vec<String>,
    last: Option<(sys::napi_value, usize)>,
}

impl KeyIds {
    fn read(&mut self, js: Js, v: sys::napi_value, what: Field) -> R<usize> {
        if let Some((prev, index)) = self.last
            && js.same(prev, v)?
        {
            return Ok(index);
        }
        self.list.push(js.string(v, what)?);
        let index = self.list.len() - 1;
        self.last = Some((v, index));
        Ok(index)
    }
}

impl Field {
    /// The item itself (`items[3]`).
    fn item(self) -> ItemName {
        ItemName(self.0)
    }
}

#[derive(Debug, Clone, Copy)]
struct ItemName(usize);

impl core::fmt::Display for ItemName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "items[{}]", self.0)
    }
}

/// Runs the valid items through `run` and puts every result, or the item's own refusal, back
/// in input order.
fn merge<I, T>(
    parsed: &[ItemResult<I>],
    run: impl FnOnce(Vec<&I>) -> keyplane::Result<Vec<keyplane::Result<T>>>,
) -> keyplane::Result<Vec<ItemResult<T>>> {
    let valid: Vec<&I> = parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
    let mut results = run(valid)?.into_iter();
    Ok(parsed
        .iter()
        .map(|p| match p {
            Ok(_) => results.next().unwrap_or(Err(keyplane::Error::Internal)),
            Err(e) => Err(*e),
        })
        .collect())
}

/// One slot of a batch's result.
pub(crate) enum Slot {
    Bytes(SharedBytes),
    Secret(SharedBytes),
    Bool(bool),
    DataKey(BatchDataKey),
}

/// A batch's results, in input order.
pub(crate) struct Batch(Vec<ItemResult<Slot>>);

impl ToNapiValue for Batch {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let js = Js::from_raw(env);
        let bytes_only = val
            .0
            .iter()
            .all(|s| matches!(s, Ok(Slot::Bytes(_) | Slot::Secret(_)) | Err(_)));
        let build_bytes = || -> R<sys::napi_value> {
            let slots = val
                .0
                .iter()
                .map(|slot| match slot {
                    Ok(Slot::Bytes(b) | Slot::Secret(b)) => Ok(Ok(&b[..])),
                    Ok(_) => Err(Failure::Napi(sys::Status::napi_generic_failure)),
                    Err(e) => Failure::Core(*e)
                        .to_js(js)
                        .map(Err)
                        .ok_or(Failure::Napi(sys::Status::napi_generic_failure)),
                })
                .collect::<R<Vec<_>>>()?;
            js.batch_buffers(&slots)
        };
        if bytes_only {
            return build_bytes().map_err(|_| {
                napi::Error::new(
                    napi::Status::GenericFailure,
                    "could not build the batch result",
                )
            });
        }
        let build = || -> R<sys::napi_value> {
            let mut array = js.new_array(val.0.len())?;
            for slot in val.0 {
                let value = match slot {
                    Ok(Slot::Bytes(b)) => js.public_buffer(&b)?,
                    Ok(Slot::Secret(b)) => js.buffer(&b)?,
                    Ok(Slot::Bool(b)) => js.boolean(b)?,
                    Ok(Slot::DataKey(dk)) => {
                        let dk = DataKey {
                            key_id: dk.key_id().to_owned(),
                            plaintext: SecretBytes(Zeroizing::new(dk.plaintext().to_vec())),
                            ciphertext_blob: Bytes(dk.ciphertext_blob().to_vec()),
                        };
                        // SAFETY: on the JavaScript thread with this call's environment.
                        unsafe { DataKey::to_napi_value(env, dk) }
                            .map_err(|_| Failure::Napi(sys::Status::napi_generic_failure))?
                    }
                    Err(e) => Failure::Core(e)
                        .to_js(js)
                        .ok_or(Failure::Napi(sys::Status::napi_generic_failure))?,
                };
                array.push(value)?;
            }
            Ok(array.raw)
        };
        build().map_err(|_| {
            napi::Error::new(
                napi::Status::GenericFailure,
                "could not build the batch result",
            )
        })
    }
}

fn slots<T>(r: Vec<ItemResult<T>>, f: impl Fn(T) -> Slot) -> Batch {
    Batch(r.into_iter().map(|x| x.map(&f)).collect())
}

// ----- the batch operations -----------------------------------------------------------------

pub(crate) fn encrypt_many(ring: Keyring, js: Js, list: sys::napi_value) -> R<Work> {
    let mut contexts = Contexts::default();
    let mut key_ids = KeyIds::default();
    let parsed = items(js, list, |p, i, item| {
        let key_id = key_ids.read(js, p.get(item, c"keyId")?, Field(i, "keyId"))?;
        let context = p.get(item, c"context")?;
        let plaintext = js.bytes_owned(p.get(item, c"plaintext")?, Field(i, "plaintext"))?;
        Ok(contexts
            .read(js, context, Field(i, "context"))?
            .map(|c| (key_id, plaintext, c)))
    })?;
    let contexts = contexts.done();
    let key_ids = key_ids.list;
    Ok(work(move || {
        let out = merge(&parsed, |valid| {
            let reqs: Vec<EncryptRequest<'_>> = valid
                .iter()
                .map(|(k, p, c)| EncryptRequest {
                    key_id: key_ids.get(*k).map_or("", String::as_str),
                    plaintext: p,
                    context: context_at(&contexts, *c),
                })
                .collect();
            ring.encrypt_many(&reqs)
        })?;
        Ok(slots(out, Slot::Bytes))
    }))
}

pub(crate) fn decrypt_many(ring: Keyring, js: Js, list: sys::napi_value) -> R<Work> {
    let mut contexts = Contexts::default();
    let parsed = items(js, list, |p, i, item| {
        let context = p.get(item, c"context")?;
        let blob = js.bytes_owned(p.get(item, c"blob")?, Field(i, "blob"))?;
        Ok(contexts
            .read(js, context, Field(i, "context"))?
            .map(|c| (blob, c)))
    })?;
    let contexts = contexts.done();
    Ok(work(move || {
        let out = merge(&parsed, |valid| {
            let reqs: Vec<DecryptRequest<'_>> = valid
                .iter()
                .map(|(b, c)| DecryptRequest {
                    blob: b,
                    context: context_at(&contexts, *c),
                })
                .collect();
            ring.decrypt_many(&reqs)
        })?;
        Ok(slots(out, Slot::Secret))
    }))
}

pub(crate) fn re_encrypt_many(ring: Keyring, js: Js, list: sys::napi_value) -> R<Work> {
    let mut contexts = Contexts::default();
    let parsed = items(js, list, |p, i, item| {
        let dest = js.string(
            p.get(item, c"destinationKeyId")?,
            Field(i, "destinationKeyId"),
        )?;
        let source_ctx = p.get(item, c"sourceContext")?;
        let dest_ctx = p.get(item, c"destinationContext")?;
        let blob = js.bytes_owned(p.get(item, c"blob")?, Field(i, "blob"))?;
        let s = contexts.read(js, source_ctx, Field(i, "sourceContext"))?;
        let d = contexts.read(js, dest_ctx, Field(i, "destinationContext"))?;
        Ok(s.and_then(|s| d.map(|d| (blob, dest, s, d))))
    })?;
    let contexts = contexts.done();
    Ok(work(move || {
        let out = merge(&parsed, |valid| {
            let reqs: Vec<ReEncryptRequest<'_>> = valid
                .iter()
                .map(|(b, k, s, d)| ReEncryptRequest {
                    blob: b,
                    source_context: context_at(&contexts, *s),
                    destination_key_id: k,
                    destination_context: context_at(&contexts, *d),
                })
                .collect();
            ring.re_encrypt_many(&reqs)
        })?;
        Ok(slots(out, Slot::Bytes))
    }))
}

fn data_key_items(
    js: Js,
    list: sys::napi_value,
    contexts: &mut Contexts,
) -> R<Vec<ItemResult<(String, DataKeySpec, usize)>>> {
    items(js, list, |p, i, item| {
        let key_id = js.string(p.get(item, c"keyId")?, Field(i, "keyId"))?;
        let spec = in_slot(crate::ops::data_key_spec(
            js,
            p.get(item, c"keySpec")?,
            p.get(item, c"numberOfBytes")?,
            Field(i, "keySpec"),
        ))?;
        let c = contexts.read(js, p.get(item, c"context")?, Field(i, "context"))?;
        Ok(spec.and_then(|s| c.map(|c| (key_id, s, c))))
    })
}

pub(crate) fn generate_data_key_many(
    ring: Keyring,
    js: Js,
    list: sys::napi_value,
    with_plaintext: bool,
) -> R<Work> {
    let mut contexts = Contexts::default();
    let parsed = data_key_items(js, list, &mut contexts)?;
    let contexts = contexts.done();
    Ok(work(move || {
        if with_plaintext {
            let out = merge(&parsed, |valid| {
                let reqs: Vec<DataKeyRequest<'_>> = valid
                    .into_iter()
                    .map(|(k, s, c)| DataKeyRequest {
                        key_id: k,
                        spec: *s,
                        context: context_at(&contexts, *c),
                    })
                    .collect();
                ring.generate_data_key_many(&reqs)
            })?;
            return Ok(slots(out, Slot::DataKey));
        }
        let out = merge(&parsed, |valid| {
            let reqs: Vec<DataKeyRequest<'_>> = valid
                .into_iter()
                .map(|(k, s, c)| DataKeyRequest {
                    key_id: k,
                    spec: *s,
                    context: context_at(&contexts, *c),
                })
                .collect();
            ring.generate_data_key_without_plaintext_many(&reqs)
        })?;
        Ok(slots(out, Slot::Bytes))
    }))
}

pub(crate) fn generate_mac_many(ring: Keyring, js: Js, list: sys::napi_value) -> R<Work> {
    let parsed = items(js, list, |p, i, item| {
        let key_id = js.string(p.get(item, c"keyId")?, Field(i, "keyId"))?;
        let alg = in_slot(
            js.parse::<MacAlgorithm>(p.get(item, c"macAlgorithm")?, Field(i, "macAlgorithm")),
        )?;
        let message = js.bytes_owned(p.get(item, c"message")?, Field(i, "message"))?;
        Ok(alg.map(|a| (key_id, message, a)))
    })?;
    Ok(work(move || {
        let out = merge(&parsed, |valid| {
            let reqs: Vec<MacRequest<'_>> = valid
                .iter()
                .map(|(k, m, a)| MacRequest {
                    key_id: k,
                    message: m,
                    algorithm: *a,
                })
                .collect();
            ring.generate_mac_many(&reqs)
        })?;
        Ok(slots(out, Slot::Bytes))
    }))
}

pub(crate) fn verify_mac_many(ring: Keyring, js: Js, list: sys::napi_value) -> R<Work> {
    let parsed = items(js, list, |p, i, item| {
        let key_id = js.string(p.get(item, c"keyId")?, Field(i, "keyId"))?;
        let alg = in_slot(
            js.parse::<MacAlgorithm>(p.get(item, c"macAlgorithm")?, Field(i, "macAlgorithm")),
        )?;
        let message = p.get(item, c"message")?;
        let mac = p.get(item, c"mac")?;
        let message = js.bytes_owned(message, Field(i, "message"))?;
        let mac = js.bytes_owned(mac, Field(i, "mac"))?;
        Ok(alg.map(|a| (key_id, message, a, mac)))
    })?;
    Ok(work(move || {
        let out = merge(&parsed, |valid| {
            let reqs: Vec<VerifyMacRequest<'_>> = valid
                .iter()
                .map(|(k, m, a, t)| VerifyMacRequest {
                    key_id: k,
                    message: m,
                    algorithm: *a,
                    mac: t,
                })
                .collect();
            ring.verify_mac_many(&reqs)
        })?;
        Ok(slots(out, Slot::Bool))
    }))
}

type Signing = (String, Zeroizing<Vec<u8>>, SigningAlgorithm, MessageType);

fn signing_item(js: Js, p: &mut Props, i: usize, item: sys::napi_value) -> R<ItemResult<Signing>> {
    let key_id = js.string(p.get(item, c"keyId")?, Field(i, "keyId"))?;
    let alg = in_slot(js.parse::<SigningAlgorithm>(
        p.get(item, c"signingAlgorithm")?,
        Field(i, "signingAlgorithm"),
    ))?;
    let kind = in_slot(js.parse_or(
        p.get(item, c"messageType")?,
        Field(i, "messageType"),
        MessageType::Raw,
    ))?;
    let message = js.bytes_owned(p.get(item, c"message")?, Field(i, "message"))?;
    Ok(alg.and_then(|a| kind.map(|k| (key_id, message, a, k))))
}

pub(crate) fn sign_many(ring: Keyring, js: Js, list: sys::napi_value) -> R<Work> {
    let parsed = items(js, list, |p, i, item| signing_item(js, p, i, item))?;
    Ok(work(move || {
        let out = merge(&parsed, |valid| {
            let reqs: Vec<SignRequest<'_>> = valid
                .iter()
                .map(|(k, m, a, t)| SignRequest {
                    key_id: k,
                    message: m,
                    message_type: *t,
                    algorithm: *a,
                })
                .collect();
            ring.sign_many(&reqs)
        })?;
        Ok(slots(out, Slot::Bytes))
    }))
}

pub(crate) fn verify_many(ring: Keyring, js: Js, list: sys::napi_value) -> R<Work> {
    let parsed = items(js, list, |p, i, item| {
        let signing = signing_item(js, p, i, item)?;
        let signature = js.bytes_owned(p.get(item, c"signature")?, Field(i, "signature"))?;
        Ok(signing.map(|s| (s, signature)))
    })?;
    Ok(work(move || {
        let out = merge(&parsed, |valid| {
            let reqs: Vec<VerifyRequest<'_>> = valid
                .iter()
                .map(|((k, m, a, t), s)| VerifyRequest {
                    key_id: k,
                    message: m,
                    message_type: *t,
                    algorithm: *a,
                    signature: s,
                })
                .collect();
            ring.verify_many(&reqs)
        })?;
        Ok(slots(out, Slot::Bool))
    }))
}
