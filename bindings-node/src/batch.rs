//! Batch forms: an array of items in, an array of results out, in the same order.
//!
//! A failed item does not fail the batch: its slot holds an `Error` with the Keyplane `code`
//! (`KP_NOT_FOUND`, `KP_INVALID_CIPHERTEXT`, …) where a result would be. Whatever is wrong with
//! one item fails in its slot the same way: values Keyplane refuses (an unknown algorithm name,
//! an invalid or oversized context, a string that is not valid Unicode), a field of the wrong
//! type or an item that is not an object (a `TypeError` in the slot). Only what makes the call
//! itself wrong throws (or rejects) for the whole batch: an argument that is not an array, more
//! items than the keyring's `maxBatchItems` (`KP_LIMIT_EXCEEDED`, counting every item), an
//! argument of the same-key forms (their key id or context), or an exception thrown by the
//! caller's own getter.
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
type ItemResult<T> = Result<T, Failure>;

/// Keeps an item's own problem (a Keyplane refusal, a wrong type, a number out of range) in
/// its slot; a failed Node-API call (an exception thrown by the caller's getter) fails the
/// batch.
fn in_slot<T>(r: R<T>) -> R<ItemResult<T>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(
            e @ (Failure::Core(_) | Failure::Type(_) | Failure::Range(_) | Failure::Invalid(_)),
        ) => Ok(Err(e)),
        Err(other) => Err(other),
    }
}

/// The contexts of a batch, each distinct one parsed once.
#[derive(Default)]
struct Contexts {
    list: Vec<Ctx>,
}

impl Contexts {
    fn parse(&mut self, js: Js, v: sys::napi_value, what: Field) -> R<ItemResult<usize>> {
        let parsed = match in_slot(js.context(v, what))? {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        self.list.push(parsed);
        Ok(Ok(self.list.len() - 1))
    }

    /// The parsed contexts, to move into the work.
    fn done(self) -> Vec<Ctx> {
        self.list
    }
}

fn context_at(list: &[Ctx], index: usize) -> &keyplane::EncryptionContext {
    list.get(index).map_or_else(|| ctx(&None), ctx)
}

/// A batch's items as one script call read them ([`Js::collect`]): for each item and field,
/// the index of its value among the distinct values, so that a value shared by consecutive
/// items (a key id, a context object, an algorithm name) crosses Node-API once.
struct Table {
    js: Js,
    items: sys::napi_value,
    values: sys::napi_value,
    refs: Vec<i32>,
    fields: usize,
    /// The items that are not objects, in order (their fields were not read).
    not_objects: Vec<u32>,
}

impl Table {
    /// The fields `names` of every item of the array `items`, if `ring` allows that many.
    fn read(
        js: Js,
        items: sys::napi_value,
        names: &'static [&'static CStr],
        ring: &Keyring,
    ) -> R<Self> {
        Self::collect(js, items, "items", names, ring)
    }

    /// The elements of the array `list` themselves (one field), if `ring` allows that many.
    fn values(js: Js, list: sys::napi_value, what: &'static str, ring: &Keyring) -> R<Self> {
        Self::collect(js, list, what, &[], ring)
    }

    fn collect(
        js: Js,
        items: sys::napi_value,
        what: &'static str,
        names: &'static [&'static CStr],
        ring: &Keyring,
    ) -> R<Self> {
        // The keyring's `maxBatchItems` counts every item, whatever its values (the core sees
        // only the items whose values were accepted), and before anything is read or
        // allocated for them (a sparse `new Array(2 ** 32 - 1)` costs the caller nothing).
        let len = js.array_len(items, what)?;
        ring.check_batch_len(usize::try_from(len).unwrap_or(usize::MAX))?;
        let (refs, values, not_objects) = js.collect(items, names)?;
        Ok(Self {
            js,
            items,
            values,
            refs,
            fields: names.len().max(1),
            not_objects,
        })
    }

    /// The `TypeError` of item `i`, which is not an object.
    fn not_object(&self, i: usize) -> R<Failure> {
        let index =
            u32::try_from(i).map_err(|_| Failure::Napi(sys::Status::napi_generic_failure))?;
        // Read again to say what it is (a proxy may answer differently the second time).
        let item = self.js.element(self.items, index)?;
        match self.js.object(item, ItemName(i)) {
            Err(e @ Failure::Type(_)) => Ok(e),
            Err(other) => Err(other),
            Ok(()) => Ok(Failure::Type(format!("{} must be an object", ItemName(i)))),
        }
    }

    /// How many items.
    fn len(&self) -> usize {
        self.refs.len() / self.fields
    }

    /// Field `j` of item `i`: the index of its value, and the value.
    fn get(&self, i: usize, j: usize) -> R<(i32, sys::napi_value)> {
        let r = i
            .checked_mul(self.fields)
            .and_then(|n| n.checked_add(j))
            .and_then(|n| self.refs.get(n))
            .copied()
            .ok_or(Failure::Napi(sys::Status::napi_generic_failure))?;
        let index =
            u32::try_from(r).map_err(|_| Failure::Napi(sys::Status::napi_generic_failure))?;
        Ok((r, self.js.element(self.values, index)?))
    }

    /// The index of the value of field `j` of item `i` (no Node-API call).
    fn key(&self, i: usize, j: usize) -> i32 {
        i.checked_mul(self.fields)
            .and_then(|n| n.checked_add(j))
            .and_then(|n| self.refs.get(n))
            .copied()
            .unwrap_or(-1)
    }
}

/// One field of a batch, parsed once per distinct value (the values of a field come in order,
/// so remembering the last one suffices).
struct Column<T> {
    last: Option<(i64, ItemResult<T>)>,
}

impl<T: Clone> Column<T> {
    fn new() -> Self {
        Self { last: None }
    }

    /// The parsed value for `key` (the value's index, or a pair of them), parsing it with
    /// `parse` when it differs from the previous item's.
    fn get(&mut self, key: i64, parse: impl FnOnce() -> R<ItemResult<T>>) -> R<ItemResult<T>> {
        if let Some((last, value)) = &self.last
            && *last == key
        {
            return Ok(value.clone());
        }
        let value = parse()?;
        self.last = Some((key, value.clone()));
        Ok(value)
    }

    /// Field `j` of item `i` of `table`, parsed with `parse`.
    fn field(
        &mut self,
        table: &Table,
        i: usize,
        j: usize,
        parse: impl FnOnce(sys::napi_value) -> R<ItemResult<T>>,
    ) -> R<ItemResult<T>> {
        self.get(i64::from(table.key(i, j)), || parse(table.get(i, j)?.1))
    }
}

/// The key ids of a batch, each distinct one read once.
#[derive(Default)]
struct KeyIds {
    list: Vec<String>,
}

impl KeyIds {
    fn parse(&mut self, js: Js, v: sys::napi_value, what: Field) -> R<ItemResult<usize>> {
        match in_slot(js.string(v, what))? {
            Ok(id) => self.list.push(id),
            Err(e) => return Ok(Err(e)),
        }
        Ok(Ok(self.list.len() - 1))
    }

    fn at(list: &[String], index: usize) -> &str {
        list.get(index).map_or("", String::as_str)
    }
}

/// The byte fields of a batch (plaintexts, blobs, messages): type-checked as they are read,
/// copied into one buffer once every read that could run script code is done (a getter could
/// otherwise detach a buffer already looked at), and zeroized when the batch is done.
#[derive(Default)]
struct ByteValues {
    handles: Vec<sys::napi_value>,
}

/// Where each distinct byte value lies in the batch's one copy of them.
struct Packed {
    bytes: Zeroizing<Vec<u8>>,
    spans: Vec<(usize, usize)>,
}

impl Packed {
    fn at(&self, index: usize) -> &[u8] {
        self.spans
            .get(index)
            .and_then(|&(start, len)| self.bytes.get(start..start.checked_add(len)?))
            .unwrap_or_default()
    }
}

impl ByteValues {
    fn parse(
        &mut self,
        js: Js,
        v: sys::napi_value,
        what: impl core::fmt::Display + Copy,
    ) -> R<ItemResult<usize>> {
        if let Err(e) = in_slot(js.typed_array(v, what))? {
            return Ok(Err(e));
        }
        self.handles.push(v);
        Ok(Ok(self.handles.len() - 1))
    }

    /// The copy, made once every read that could run script is done.
    fn pack(self, js: Js) -> R<Packed> {
        let (bytes, spans) = js.concat_bytes(&self.handles)?;
        Ok(Packed { bytes, spans })
    }
}

/// Combines two value indices (each at least -1 and below 2^31) into one column key.
fn pair(a: i32, b: i32) -> i64 {
    i64::from(a) * (1 << 32) + i64::from(b)
}

/// The item itself (`items[3]`), for error messages.
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
            Ok(_) => results
                .next()
                .unwrap_or(Err(keyplane::Error::Internal))
                .map_err(Failure::Core),
            Err(e) => Err(e.clone()),
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
        // Public bytes may share one ArrayBuffer; a secret (a plaintext) gets a Buffer of its
        // own, so that `result.buffer` shows no other item's secret.
        let bytes_only = val
            .0
            .iter()
            .all(|s| matches!(s, Ok(Slot::Bytes(_)) | Err(_)));
        let secrets_only = !bytes_only
            && val
                .0
                .iter()
                .all(|s| matches!(s, Ok(Slot::Secret(_)) | Err(_)));
        let build_bytes = || -> R<sys::napi_value> {
            let slots = val
                .0
                .iter()
                .map(|slot| match slot {
                    Ok(Slot::Bytes(b) | Slot::Secret(b)) => Ok(Ok(&b[..])),
                    Ok(_) => Err(Failure::Napi(sys::Status::napi_generic_failure)),
                    Err(e) => e
                        .to_js(js)
                        .map(Err)
                        .ok_or(Failure::Napi(sys::Status::napi_generic_failure)),
                })
                .collect::<R<Vec<_>>>()?;
            js.batch_buffers(&slots, secrets_only)
        };
        if bytes_only || secrets_only {
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
                    Err(e) => e
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

/// Runs `f` for every item that is an object, collecting each item's parsed fields or its own
/// refusal (a `TypeError` for an item that is not an object).
fn each<T>(table: &Table, mut f: impl FnMut(usize) -> R<ItemResult<T>>) -> R<Vec<ItemResult<T>>> {
    let mut not_objects = table.not_objects.iter().peekable();
    (0..table.len())
        .map(|i| {
            if not_objects
                .peek()
                .is_some_and(|&&bad| usize::try_from(bad).is_ok_and(|bad| bad == i))
            {
                not_objects.next();
                return Ok(Err(table.not_object(i)?));
            }
            f(i)
        })
        .collect()
}

fn encrypt_work(
    ring: Keyring,
    parsed: Vec<ItemResult<(usize, usize, usize)>>,
    key_ids: Vec<String>,
    packed: Packed,
    contexts: Vec<Ctx>,
) -> Work {
    work(move || {
        let out = merge(&parsed, |valid| {
            let reqs: Vec<EncryptRequest<'_>> = valid
                .iter()
                .map(|&&(k, p, c)| EncryptRequest {
                    key_id: KeyIds::at(&key_ids, k),
                    plaintext: packed.at(p),
                    context: context_at(&contexts, c),
                })
                .collect();
            ring.encrypt_many(&reqs)
        })?;
        Ok(slots(out, Slot::Bytes))
    })
}

pub(crate) fn encrypt_many(ring: Keyring, js: Js, list: sys::napi_value) -> R<Work> {
    let table = Table::read(js, list, &[c"keyId", c"plaintext", c"context"], &ring)?;
    let (mut key_ids, mut bytes, mut contexts) = (
        KeyIds::default(),
        ByteValues::default(),
        Contexts::default(),
    );
    let (mut kc, mut pc, mut cc) = (Column::new(), Column::new(), Column::new());
    let parsed = each(&table, |i| {
        let k = kc.field(&table, i, 0, |v| key_ids.parse(js, v, Field(i, "keyId")))?;
        let p = pc.field(&table, i, 1, |v| bytes.parse(js, v, Field(i, "plaintext")))?;
        let c = cc.field(&table, i, 2, |v| contexts.parse(js, v, Field(i, "context")))?;
        Ok(k.and_then(|k| p.and_then(|p| c.map(|c| (k, p, c)))))
    })?;
    let packed = bytes.pack(js)?;
    Ok(encrypt_work(
        ring,
        parsed,
        key_ids.list,
        packed,
        contexts.done(),
    ))
}

/// `encryptMany(keyId, plaintexts, context?)`: every plaintext under one key and context.
pub(crate) fn encrypt_many_with_key(
    ring: Keyring,
    js: Js,
    key_id: sys::napi_value,
    plaintexts: sys::napi_value,
    context: sys::napi_value,
) -> R<Work> {
    let key_id = js.string(key_id, "keyId")?;
    let context = js.context(context, "context")?;
    let table = Table::values(js, plaintexts, "plaintexts", &ring)?;
    let mut bytes = ByteValues::default();
    let mut pc = Column::new();
    let parsed = each(&table, |i| {
        let p = pc.field(&table, i, 0, |v| bytes.parse(js, v, Plaintexts(i)))?;
        Ok(p.map(|p| (0, p, 0)))
    })?;
    let packed = bytes.pack(js)?;
    Ok(encrypt_work(
        ring,
        parsed,
        vec![key_id],
        packed,
        vec![context],
    ))
}

/// `plaintexts[3]`, for error messages.
#[derive(Debug, Clone, Copy)]
struct Plaintexts(usize);

impl core::fmt::Display for Plaintexts {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "plaintexts[{}]", self.0)
    }
}

pub(crate) fn decrypt_many(ring: Keyring, js: Js, list: sys::napi_value) -> R<Work> {
    let table = Table::read(js, list, &[c"blob", c"context"], &ring)?;
    let (mut bytes, mut contexts) = (ByteValues::default(), Contexts::default());
    let (mut bc, mut cc) = (Column::new(), Column::new());
    let parsed = each(&table, |i| {
        let b = bc.field(&table, i, 0, |v| bytes.parse(js, v, Field(i, "blob")))?;
        let c = cc.field(&table, i, 1, |v| contexts.parse(js, v, Field(i, "context")))?;
        Ok(b.and_then(|b| c.map(|c| (b, c))))
    })?;
    let packed = bytes.pack(js)?;
    let contexts = contexts.done();
    Ok(work(move || {
        let out = merge(&parsed, |valid| {
            let reqs: Vec<DecryptRequest<'_>> = valid
                .iter()
                .map(|&&(b, c)| DecryptRequest {
                    blob: packed.at(b),
                    context: context_at(&contexts, c),
                })
                .collect();
            ring.decrypt_many(&reqs)
        })?;
        Ok(slots(out, Slot::Secret))
    }))
}

/// `decryptMany(blobs, context?)`: every blob under one context.
pub(crate) fn decrypt_many_with_context(
    ring: Keyring,
    js: Js,
    blobs: sys::napi_value,
    context: sys::napi_value,
) -> R<Work> {
    let context = js.context(context, "context")?;
    let table = Table::values(js, blobs, "blobs", &ring)?;
    let mut bytes = ByteValues::default();
    let mut bc = Column::new();
    let parsed = each(&table, |i| {
        bc.field(&table, i, 0, |v| bytes.parse(js, v, Blobs(i)))
    })?;
    let packed = bytes.pack(js)?;
    let contexts = [context];
    Ok(work(move || {
        let out = merge(&parsed, |valid| {
            let reqs: Vec<DecryptRequest<'_>> = valid
                .iter()
                .map(|&&b| DecryptRequest {
                    blob: packed.at(b),
                    context: context_at(&contexts, 0),
                })
                .collect();
            ring.decrypt_many(&reqs)
        })?;
        Ok(slots(out, Slot::Secret))
    }))
}

/// `blobs[3]`, for error messages.
#[derive(Debug, Clone, Copy)]
struct Blobs(usize);

impl core::fmt::Display for Blobs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "blobs[{}]", self.0)
    }
}

/// Whether `decryptMany`'s argument is an array of blobs (its first element is a typed array)
/// rather than of items.
pub(crate) fn is_blob_list(js: Js, list: sys::napi_value) -> R<bool> {
    if js.type_of(list)? != sys::ValueType::napi_object || !js.is_array(list)? {
        return Ok(false);
    }
    let first = js.element(list, 0)?;
    js.is_typed_array(first)
}

pub(crate) fn re_encrypt_many(ring: Keyring, js: Js, list: sys::napi_value) -> R<Work> {
    let table = Table::read(
        js,
        list,
        &[
            c"blob",
            c"destinationKeyId",
            c"sourceContext",
            c"destinationContext",
        ],
        &ring,
    )?;
    let (mut bytes, mut key_ids, mut contexts) = (
        ByteValues::default(),
        KeyIds::default(),
        Contexts::default(),
    );
    let (mut bc, mut kc, mut sc, mut dc) =
        (Column::new(), Column::new(), Column::new(), Column::new());
    let parsed = each(&table, |i| {
        let b = bc.field(&table, i, 0, |v| bytes.parse(js, v, Field(i, "blob")))?;
        let k = kc.field(&table, i, 1, |v| {
            key_ids.parse(js, v, Field(i, "destinationKeyId"))
        })?;
        let s = sc.field(&table, i, 2, |v| {
            contexts.parse(js, v, Field(i, "sourceContext"))
        })?;
        let d = dc.field(&table, i, 3, |v| {
            contexts.parse(js, v, Field(i, "destinationContext"))
        })?;
        Ok(b.and_then(|b| k.and_then(|k| s.and_then(|s| d.map(|d| (b, k, s, d))))))
    })?;
    let packed = bytes.pack(js)?;
    let (contexts, key_ids) = (contexts.done(), key_ids.list);
    Ok(work(move || {
        let out = merge(&parsed, |valid| {
            let reqs: Vec<ReEncryptRequest<'_>> = valid
                .iter()
                .map(|&&(b, k, s, d)| ReEncryptRequest {
                    blob: packed.at(b),
                    source_context: context_at(&contexts, s),
                    destination_key_id: KeyIds::at(&key_ids, k),
                    destination_context: context_at(&contexts, d),
                })
                .collect();
            ring.re_encrypt_many(&reqs)
        })?;
        Ok(slots(out, Slot::Bytes))
    }))
}

pub(crate) fn generate_data_key_many(
    ring: Keyring,
    js: Js,
    list: sys::napi_value,
    with_plaintext: bool,
) -> R<Work> {
    let table = Table::read(
        js,
        list,
        &[c"keyId", c"keySpec", c"numberOfBytes", c"context"],
        &ring,
    )?;
    let (mut key_ids, mut contexts) = (KeyIds::default(), Contexts::default());
    let (mut kc, mut sc, mut cc) = (Column::new(), Column::new(), Column::new());
    let parsed = each(&table, |i| {
        let k = kc.field(&table, i, 0, |v| key_ids.parse(js, v, Field(i, "keyId")))?;
        let s = sc.get(pair(table.key(i, 1), table.key(i, 2)), || {
            in_slot(crate::ops::data_key_spec(
                js,
                table.get(i, 1)?.1,
                table.get(i, 2)?.1,
                ItemName(i),
            ))
        })?;
        let c = cc.field(&table, i, 3, |v| contexts.parse(js, v, Field(i, "context")))?;
        Ok(k.and_then(|k| s.and_then(|s| c.map(|c| (k, s, c)))))
    })?;
    let (contexts, key_ids) = (contexts.done(), key_ids.list);
    Ok(work(move || {
        let requests = |valid: Vec<&(usize, DataKeySpec, usize)>| -> Vec<DataKeyRequest<'_>> {
            valid
                .into_iter()
                .map(|&(k, s, c)| DataKeyRequest {
                    key_id: KeyIds::at(&key_ids, k),
                    spec: s,
                    context: context_at(&contexts, c),
                })
                .collect()
        };
        if with_plaintext {
            let out = merge(&parsed, |valid| {
                ring.generate_data_key_many(&requests(valid))
            })?;
            return Ok(slots(out, Slot::DataKey));
        }
        let out = merge(&parsed, |valid| {
            ring.generate_data_key_without_plaintext_many(&requests(valid))
        })?;
        Ok(slots(out, Slot::Bytes))
    }))
}

/// A MAC item: key id, message and MAC (indices), and the algorithm.
type Mac = (usize, usize, MacAlgorithm, usize);

/// Reads the MAC items (`keyId`, `message`, `macAlgorithm` and, when `with_mac`, `mac`).
fn mac_items(
    ring: &Keyring,
    js: Js,
    list: sys::napi_value,
    with_mac: bool,
) -> R<(Vec<ItemResult<Mac>>, Vec<String>, Packed)> {
    let names: &[&'static CStr] = if with_mac {
        &[c"keyId", c"message", c"macAlgorithm", c"mac"]
    } else {
        &[c"keyId", c"message", c"macAlgorithm"]
    };
    let table = Table::read(js, list, names, ring)?;
    let (mut key_ids, mut bytes) = (KeyIds::default(), ByteValues::default());
    let (mut kc, mut mc, mut ac, mut tc) =
        (Column::new(), Column::new(), Column::new(), Column::new());
    let parsed = each(&table, |i| {
        let k = kc.field(&table, i, 0, |v| key_ids.parse(js, v, Field(i, "keyId")))?;
        let m = mc.field(&table, i, 1, |v| bytes.parse(js, v, Field(i, "message")))?;
        let a = ac.field(&table, i, 2, |v| {
            in_slot(js.parse::<MacAlgorithm>(v, Field(i, "macAlgorithm")))
        })?;
        let t = if with_mac {
            tc.field(&table, i, 3, |v| bytes.parse(js, v, Field(i, "mac")))?
        } else {
            Ok(0)
        };
        Ok(k.and_then(|k| m.and_then(|m| a.and_then(|a| t.map(|t| (k, m, a, t))))))
    })?;
    Ok((parsed, key_ids.list, bytes.pack(js)?))
}

pub(crate) fn generate_mac_many(ring: Keyring, js: Js, list: sys::napi_value) -> R<Work> {
    let (parsed, key_ids, packed) = mac_items(&ring, js, list, false)?;
    Ok(work(move || {
        let out = merge(&parsed, |valid| {
            let reqs: Vec<MacRequest<'_>> = valid
                .iter()
                .map(|&&(k, m, a, _)| MacRequest {
                    key_id: KeyIds::at(&key_ids, k),
                    message: packed.at(m),
                    algorithm: a,
                })
                .collect();
            ring.generate_mac_many(&reqs)
        })?;
        Ok(slots(out, Slot::Bytes))
    }))
}

pub(crate) fn verify_mac_many(ring: Keyring, js: Js, list: sys::napi_value) -> R<Work> {
    let (parsed, key_ids, packed) = mac_items(&ring, js, list, true)?;
    Ok(work(move || {
        let out = merge(&parsed, |valid| {
            let reqs: Vec<VerifyMacRequest<'_>> = valid
                .iter()
                .map(|&&(k, m, a, t)| VerifyMacRequest {
                    key_id: KeyIds::at(&key_ids, k),
                    message: packed.at(m),
                    algorithm: a,
                    mac: packed.at(t),
                })
                .collect();
            ring.verify_mac_many(&reqs)
        })?;
        Ok(slots(out, Slot::Bool))
    }))
}

type Signing = (usize, usize, SigningAlgorithm, MessageType, usize);

/// Reads the signing items (and, when `with_signature`, their `signature`).
fn signing_items(
    ring: &Keyring,
    js: Js,
    list: sys::napi_value,
    with_signature: bool,
) -> R<(Vec<ItemResult<Signing>>, Vec<String>, Packed)> {
    let names: &[&'static CStr] = if with_signature {
        &[
            c"keyId",
            c"message",
            c"signingAlgorithm",
            c"messageType",
            c"signature",
        ]
    } else {
        &[c"keyId", c"message", c"signingAlgorithm", c"messageType"]
    };
    let table = Table::read(js, list, names, ring)?;
    let (mut key_ids, mut bytes) = (KeyIds::default(), ByteValues::default());
    let (mut kc, mut mc, mut ac, mut tc, mut sc) = (
        Column::new(),
        Column::new(),
        Column::new(),
        Column::new(),
        Column::new(),
    );
    let parsed = each(&table, |i| {
        let k = kc.field(&table, i, 0, |v| key_ids.parse(js, v, Field(i, "keyId")))?;
        let m = mc.field(&table, i, 1, |v| bytes.parse(js, v, Field(i, "message")))?;
        let a = ac.field(&table, i, 2, |v| {
            in_slot(js.parse::<SigningAlgorithm>(v, Field(i, "signingAlgorithm")))
        })?;
        let t = tc.field(&table, i, 3, |v| {
            in_slot(js.parse_or(v, Field(i, "messageType"), MessageType::Raw))
        })?;
        let s = if with_signature {
            sc.field(&table, i, 4, |v| bytes.parse(js, v, Field(i, "signature")))?
        } else {
            Ok(0)
        };
        Ok(k.and_then(|k| {
            m.and_then(|m| a.and_then(|a| t.and_then(|t| s.map(|s| (k, m, a, t, s)))))
        }))
    })?;
    Ok((parsed, key_ids.list, bytes.pack(js)?))
}

pub(crate) fn sign_many(ring: Keyring, js: Js, list: sys::napi_value) -> R<Work> {
    let (parsed, key_ids, packed) = signing_items(&ring, js, list, false)?;
    Ok(work(move || {
        let out = merge(&parsed, |valid| {
            let reqs: Vec<SignRequest<'_>> = valid
                .iter()
                .map(|&&(k, m, a, t, _)| SignRequest {
                    key_id: KeyIds::at(&key_ids, k),
                    message: packed.at(m),
                    message_type: t,
                    algorithm: a,
                })
                .collect();
            ring.sign_many(&reqs)
        })?;
        Ok(slots(out, Slot::Bytes))
    }))
}

pub(crate) fn verify_many(ring: Keyring, js: Js, list: sys::napi_value) -> R<Work> {
    let (parsed, key_ids, packed) = signing_items(&ring, js, list, true)?;
    Ok(work(move || {
        let out = merge(&parsed, |valid| {
            let reqs: Vec<VerifyRequest<'_>> = valid
                .iter()
                .map(|&&(k, m, a, t, s)| VerifyRequest {
                    key_id: KeyIds::at(&key_ids, k),
                    message: packed.at(m),
                    message_type: t,
                    algorithm: a,
                    signature: packed.at(s),
                })
                .collect();
            ring.verify_many(&reqs)
        })?;
        Ok(slots(out, Slot::Bool))
    }))
}
