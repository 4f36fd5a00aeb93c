//! A batch's results: each item's result or its own refusal, back in input order, and the
//! JavaScript array they become.

use bytes::Bytes as SharedBytes;
use keyplane::BatchDataKey;
use napi::bindgen_prelude::ToNapiValue;
use napi::sys;
use zeroize::Zeroizing;

use super::items::{ItemResult, R};
use crate::error::Failure;
use crate::js::Js;
use crate::types::{Bytes, DataKey, SecretBytes};

/// Runs the valid items through `run` and puts every result, or the item's own refusal, back
/// in input order.
pub(super) fn merge<I, T>(
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

pub(super) fn slots<T>(r: Vec<ItemResult<T>>, f: impl Fn(T) -> Slot) -> Batch {
    Batch(r.into_iter().map(|x| x.map(&f)).collect())
}
