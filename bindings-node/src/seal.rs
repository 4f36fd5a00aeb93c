//! Sealed key records: the `LocalRootKey` class, `reseal` and `inspectSealed`, and the
//! keyring's `exportSealed` / `importSealed`; and `verifyAuditLog`, the package's other
//! module-level function.

use std::sync::Arc;

use keyplane::Keyring;
use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, JsValue, Result};
use napi_derive::napi;

use crate::error::Failure;
use crate::job::{Job, Work, work};
use crate::js::{Js, JsAny};
use crate::types::{Bytes, KeyMetadata, SealedRecordInfo};

type R<T> = core::result::Result<T, Failure>;

/// A root key held in this process: `new LocalRootKey(rootId, material)` with 32 bytes of
/// material (from `LocalRootKey.generateMaterial()`; keep them as you would any master key).
/// It seals and opens key records (`keyring.exportSealed`, `keyring.importSealed`, `reseal`)
/// and the records of a store (`Keyring.open`). The material cannot be read back.
#[napi]
#[derive(Debug)]
pub struct LocalRootKey {
    pub(crate) inner: Arc<keyplane::LocalRootKey>,
}

#[napi]
impl LocalRootKey {
    /// A root key named `rootId` (1 to 255 bytes, written in the clear in every record it
    /// seals) from 32 bytes of material; anything else is `KP_INVALID_INPUT`.
    #[napi(constructor, ts_args_type = "rootId: string, material: Uint8Array")]
    pub fn new(env: Env, root_id: Unknown<'_>, material: Unknown<'_>) -> Result<Self> {
        let js = Js::new(&env);
        let made = js.string(root_id.raw(), "rootId").and_then(|id| {
            let material = js.bytes(material.raw(), "material")?;
            Ok(keyplane::LocalRootKey::new(id, material)?)
        });
        made.map(|inner| Self {
            inner: Arc::new(inner),
        })
        .map_err(|f| f.throw(js))
    }

    /// 32 fresh random bytes of root key material, from the system's generator.
    #[napi(ts_return_type = "Buffer")]
    pub fn generate_material(env: Env) -> Result<JsAny> {
        let js = Js::new(&env);
        keyplane::LocalRootKey::generate_material()
            .map_err(Failure::Core)
            .and_then(|m| js.buffer(m.as_ref()))
            .map(JsAny)
            .map_err(|f| f.throw(js))
    }

    /// The root key's id, written into every record it seals.
    #[napi(getter)]
    pub fn root_id(&self) -> String {
        keyplane::RootKey::id(&*self.inner).to_owned()
    }
}

/// A `LocalRootKey` argument.
pub(crate) fn root(
    js: Js,
    v: napi::sys::napi_value,
    what: &'static str,
) -> R<Arc<keyplane::LocalRootKey>> {
    js.instance::<LocalRootKey, _>(v, what, "LocalRootKey", |r| Arc::clone(&r.inner))
}

pub(crate) fn export_sealed(
    ring: Keyring,
    js: Js,
    key_id: napi::sys::napi_value,
    root_key: napi::sys::napi_value,
) -> R<Work> {
    let key_id = js.string(key_id, "keyId")?;
    let root_key = root(js, root_key, "root")?;
    Ok(work(move || {
        Ok(Bytes(ring.export_sealed(&key_id, &*root_key)?))
    }))
}

pub(crate) fn import_sealed(
    ring: Keyring,
    js: Js,
    record: napi::sys::napi_value,
    root_key: napi::sys::napi_value,
) -> R<Work> {
    let root_key = root(js, root_key, "root")?;
    let record = js.bytes_owned(record, "record")?;
    Ok(work(move || {
        Ok(KeyMetadata::from(ring.import_sealed(&record, &*root_key)?))
    }))
}

fn reseal_work(
    js: Js,
    record: napi::sys::napi_value,
    old: napi::sys::napi_value,
    new: napi::sys::napi_value,
) -> R<Work> {
    let old = root(js, old, "oldRoot")?;
    let new = root(js, new, "newRoot")?;
    let record = js.bytes_owned(record, "record")?;
    Ok(work(move || {
        Ok(Bytes(keyplane::seal::reseal(&record, &*old, &*new)?))
    }))
}

fn run(js: Js, prepared: R<Work>) -> Result<JsAny> {
    prepared
        .and_then(|work| work())
        .and_then(|out| out.into_js(js))
        .map(JsAny)
        .map_err(|f| f.throw(js))
}

/// Moves a sealed record from `oldRoot` to `newRoot` (root key rotation) without loading the
/// key anywhere. A record that does not open under `oldRoot` is `KP_INVALID_CIPHERTEXT` (or
/// `KP_INVALID_INPUT` when it names another root id).
#[napi(
    ts_args_type = "record: Uint8Array, oldRoot: LocalRootKey, newRoot: LocalRootKey",
    ts_return_type = "Promise<Buffer>"
)]
pub fn reseal(
    env: Env,
    record: Unknown<'_>,
    old_root: Unknown<'_>,
    new_root: Unknown<'_>,
) -> Result<AsyncTask<Job>> {
    let js = Js::new(&env);
    Job::spawn(
        reseal_work(js, record.raw(), old_root.raw(), new_root.raw()),
        js,
    )
}

/// `reseal` on the calling thread, returning its result directly (throws instead of rejecting).
#[napi(
    ts_args_type = "record: Uint8Array, oldRoot: LocalRootKey, newRoot: LocalRootKey",
    ts_return_type = "Buffer"
)]
pub fn reseal_sync(
    env: Env,
    record: Unknown<'_>,
    old_root: Unknown<'_>,
    new_root: Unknown<'_>,
) -> Result<JsAny> {
    let js = Js::new(&env);
    run(
        js,
        reseal_work(js, record.raw(), old_root.raw(), new_root.raw()),
    )
}

/// What a sealed record says in the clear (its format, key id and root id), read without any
/// key; nothing in it is authenticated until the record is opened. Bytes that are not a sealed
/// record are `KP_INVALID_INPUT`.
#[napi(
    ts_args_type = "record: Uint8Array",
    ts_return_type = "SealedRecordInfo"
)]
pub fn inspect_sealed(env: Env, record: Unknown<'_>) -> Result<JsAny> {
    let js = Js::new(&env);
    let prepared = js.bytes_owned(record.raw(), "record").map(|record| {
        work(move || {
            let info = keyplane::seal::inspect(&record)?;
            Ok(SealedRecordInfo {
                format: u32::from(info.format),
                key_id: info.key_id,
                root_id: info.root_id,
            })
        })
    });
    run(js, prepared)
}

fn verify_work(js: Js, paths: napi::sys::napi_value, key: napi::sys::napi_value) -> R<Work> {
    let files = crate::audit::log_files(js, paths)?;
    let key = keyplane::audit::AuditKey::new(&js.bytes_owned(key, "auditKey")?)?;
    Ok(work(move || crate::audit::verify(files, &key)))
}

/// Checks an audit log written with `audit: { logDir, auditKey }`: the hash chain through
/// every file, each checkpoint's HMAC under `auditKey` and the sequence numbers. `paths` is the
/// log directory (its `audit-*.jsonl` files, in order), one file, or an array of files in
/// order. Resolves to an `AuditLogReport` (check `closed`: `false` when the log was not closed
/// by its keyring, after a crash or a cut-off tail). The first broken link (an edited, deleted,
/// reordered or inserted line, a missing file, a checkpoint that does not verify) rejects with
/// an `AuditLogBrokenError` (`code` `KP_AUDIT_LOG_BROKEN`, `file`, `line`, `reason`).
#[napi(
    ts_args_type = "paths: string | Array<string>, auditKey: Uint8Array",
    ts_return_type = "Promise<AuditLogReport>"
)]
pub fn verify_audit_log(
    env: Env,
    paths: Unknown<'_>,
    audit_key: Unknown<'_>,
) -> Result<AsyncTask<Job>> {
    let js = Js::new(&env);
    Job::spawn(verify_work(js, paths.raw(), audit_key.raw()), js)
}

/// `verifyAuditLog` on the calling thread, returning its result directly (throws instead of
/// rejecting).
#[napi(
    ts_args_type = "paths: string | Array<string>, auditKey: Uint8Array",
    ts_return_type = "AuditLogReport"
)]
pub fn verify_audit_log_sync(
    env: Env,
    paths: Unknown<'_>,
    audit_key: Unknown<'_>,
) -> Result<JsAny> {
    let js = Js::new(&env);
    run(js, verify_work(js, paths.raw(), audit_key.raw()))
}
