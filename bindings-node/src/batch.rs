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

use keyplane::{
    DataKeyRequest, DataKeySpec, DecryptRequest, EncryptRequest, Keyring, MacAlgorithm, MacRequest,
    MessageType, ReEncryptRequest, SignRequest, SigningAlgorithm, VerifyMacRequest, VerifyRequest,
};
use napi::sys;

use crate::job::{Work, work};
use crate::js::Js;
use crate::ops::{Ctx, Field};

mod items;
mod results;

use items::{
    ByteValues, Column, Contexts, ItemName, ItemResult, KeyIds, Packed, R, Table, context_at, each,
    in_slot, pair,
};
use results::{Slot, merge, slots};

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
