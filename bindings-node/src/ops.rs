//! Reading each operation's arguments into a [`Work`] that owns them.
//!
//! Every function here runs on the JavaScript thread: it type-checks and copies the arguments
//! (so a task never borrows JavaScript memory) and returns the closure that does the work,
//! which the synchronous export runs at once and the asynchronous one on a worker thread.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use keyplane::{
    CreateKey, DataKeyPairSpec, DataKeySpec, EncryptionAlgorithm, EncryptionContext, KeySpec,
    KeyUsage, Keyring, KeyringBuilder, MacAlgorithm, MessageType, Origin, PendingWindow,
    RotationPeriod, SigningAlgorithm, WrappingAlgorithm, WrappingKeySpec,
};
use napi::sys;
use zeroize::Zeroizing;

use crate::audit::{AuditPlan, Delivery, Flushed, Usage};
use crate::error::Failure;
use crate::job::{Work, work};
use crate::js::{Js, NAME_BUF};
use crate::types::{
    AliasEntry, Bytes, DataKey, DataKeyPair, DataKeyPairWithoutPlaintext, ImportParameters,
    KeyMetadata, PublicKey, SecretBytes, Timestamp,
};

type R<T> = Result<T, Failure>;

/// A context argument, parsed; `None` is the empty context.
pub(crate) type Ctx = Option<EncryptionContext>;

pub(crate) fn ctx(c: &Ctx) -> &EncryptionContext {
    c.as_ref().unwrap_or_else(|| EncryptionContext::empty())
}

/// A field of an item of a batch, for error messages (`items[3].keyId`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field(pub(crate) usize, pub(crate) &'static str);

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "items[{}].{}", self.0, self.1)
    }
}

// ----- shared keyrings ----------------------------------------------------------------------

/// What the JavaScript `Keyring` objects of one keyring share besides the core handle: the
/// records `Keyring.open` could not load, and where audit events wait for a JavaScript callback.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) load_problems: Vec<keyplane::LoadProblem>,
    pub(crate) delivery: Option<Arc<Delivery>>,
}

type Entry = (Weak<Keyring>, Arc<Shared>);

/// Keyrings shared by handle with other threads (worker threads load the addon again and
/// attach by handle). Holds weak references: a handle stays valid while some JavaScript
/// `Keyring` object of the process still uses the keyring.
static SHARED: Mutex<Option<HashMap<String, Entry>>> = Mutex::new(None);

pub(crate) fn share(ring: &Arc<Keyring>, shared: &Arc<Shared>) -> R<String> {
    let token = ring.generate_random(16)?;
    let handle: String = token.iter().map(|b| format!("{b:02x}")).collect();
    let mut map = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    let map = map.get_or_insert_with(HashMap::new);
    map.retain(|_, (weak, _)| weak.strong_count() > 0);
    map.insert(handle.clone(), (Arc::downgrade(ring), Arc::clone(shared)));
    Ok(handle)
}

pub(crate) fn attach(handle: &str) -> R<(Arc<Keyring>, Arc<Shared>)> {
    let map = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    map.as_ref()
        .and_then(|m| m.get(handle))
        .and_then(|(weak, shared)| Some((weak.upgrade()?, Arc::clone(shared))))
        .ok_or(Failure::Core(keyplane::Error::NotFound))
}

// ----- argument helpers ---------------------------------------------------------------------

fn key_id(js: Js, v: sys::napi_value, what: &'static str) -> R<String> {
    js.string(v, what)
}

fn rotation_period(js: Js, v: sys::napi_value, what: &'static str) -> R<RotationPeriod> {
    js.object(v, what)?;
    let days = js.get(v, c"days")?;
    let seconds = js.get(v, c"seconds")?;
    match (js.is_nullish(days)?, js.is_nullish(seconds)?) {
        (false, true) => Ok(RotationPeriod::days(
            js.uint_as(days, "rotationPeriod.days")?,
        )?),
        (true, false) => {
            let s = js.positive_seconds(seconds, "rotationPeriod.seconds")?;
            Ok(RotationPeriod::custom(s)?)
        }
        _ => Err(Failure::Type(format!(
            "{what} must have exactly one of `days` and `seconds`"
        ))),
    }
}

fn pending_window(js: Js, v: sys::napi_value) -> R<PendingWindow> {
    if js.is_nullish(v)? {
        return Ok(PendingWindow::default());
    }
    js.object(v, "pendingWindow")?;
    let days = js.get(v, c"days")?;
    let seconds = js.get(v, c"seconds")?;
    match (js.is_nullish(days)?, js.is_nullish(seconds)?) {
        (false, true) => Ok(PendingWindow::days(
            js.uint_as(days, "pendingWindow.days")?,
        )?),
        (true, false) => Ok(PendingWindow::custom(
            js.positive_seconds(seconds, "pendingWindow.seconds")?,
        )),
        (true, true) => Ok(PendingWindow::default()),
        (false, false) => Err(Failure::Type(
            "pendingWindow must have at most one of `days` and `seconds`".to_owned(),
        )),
    }
}

/// A data key size from `{ keySpec, numberOfBytes }` (both optional; default `AES_256`).
pub(crate) fn data_key_spec(
    js: Js,
    spec: sys::napi_value,
    bytes: sys::napi_value,
    what: impl fmt::Display + Copy,
) -> R<DataKeySpec> {
    match (js.is_nullish(spec)?, js.is_nullish(bytes)?) {
        (true, true) => Ok(DataKeySpec::Aes256),
        (true, false) => Ok(DataKeySpec::NumberOfBytes(
            js.uint_as(bytes, "numberOfBytes")?,
        )),
        (false, true) => {
            let mut buf = [0u8; NAME_BUF];
            match &*js.str_in(spec, "keySpec", &mut buf)? {
                "AES_256" => Ok(DataKeySpec::Aes256),
                "AES_128" => Ok(DataKeySpec::Aes128),
                _ => Err(Failure::Core(keyplane::Error::InvalidInput(
                    "data key spec must be AES_256 or AES_128",
                ))),
            }
        }
        (false, false) => Err(Failure::Type(format!(
            "{what} must have at most one of `keySpec` and `numberOfBytes`"
        ))),
    }
}

fn message_type(js: Js, v: sys::napi_value, what: impl fmt::Display + Copy) -> R<MessageType> {
    js.parse_or(v, what, MessageType::Raw)
}

// ----- key management -----------------------------------------------------------------------

pub(crate) fn create_key(ring: Keyring, js: Js, options: sys::napi_value) -> R<Work> {
    let mut req = CreateKey::new(KeySpec::SymmetricDefault);
    if !js.is_nullish(options)? {
        js.object(options, "options")?;
        let spec = js.parse_or(
            js.get(options, c"keySpec")?,
            "options.keySpec",
            KeySpec::SymmetricDefault,
        )?;
        req = CreateKey::new(spec);
        let usage = js.get(options, c"keyUsage")?;
        if !js.is_nullish(usage)? {
            req = req.usage(js.parse::<KeyUsage>(usage, "options.keyUsage")?);
        }
        if let Some(id) = js.opt_string(js.get(options, c"keyId")?, "options.keyId")? {
            req = req.key_id(id);
        }
        if let Some(alias) = js.opt_string(js.get(options, c"alias")?, "options.alias")? {
            req = req.alias(alias);
        }
        if let Some(d) = js.opt_string(js.get(options, c"description")?, "options.description")? {
            req = req.description(d);
        }
        let period = js.get(options, c"rotationPeriod")?;
        if !js.is_nullish(period)? {
            req = req.rotation_period(rotation_period(js, period, "options.rotationPeriod")?);
        }
        let rotate = js.get(options, c"rotateOnBudget")?;
        if !js.is_nullish(rotate)? {
            req = req.rotate_on_budget(js.bool(rotate, "options.rotateOnBudget")?);
        }
        let origin = js.get(options, c"origin")?;
        if !js.is_nullish(origin)? {
            req = req.origin(js.parse::<Origin>(origin, "options.origin")?);
        }
    }
    Ok(work(move || Ok(KeyMetadata::from(ring.create_key(&req)?))))
}

pub(crate) fn describe_key(ring: Keyring, js: Js, id: sys::napi_value) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    Ok(work(move || Ok(KeyMetadata::from(ring.describe_key(&id)?))))
}

pub(crate) fn list_keys(ring: Keyring) -> Work {
    work(move || Ok(ring.list_keys()))
}

/// An operation on a key id that returns nothing.
pub(crate) fn key_action(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    action: fn(&Keyring, &str) -> keyplane::Result<()>,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    Ok(work(move || Ok(action(&ring, &id)?)))
}

pub(crate) fn schedule_key_deletion(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    window: sys::napi_value,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    let window = pending_window(js, window)?;
    Ok(work(move || {
        Ok(Timestamp(ring.schedule_key_deletion(&id, window)?))
    }))
}

pub(crate) fn alias_action(
    ring: Keyring,
    js: Js,
    alias: sys::napi_value,
    id: sys::napi_value,
    action: fn(&Keyring, &str, &str) -> keyplane::Result<()>,
) -> R<Work> {
    let alias = js.string(alias, "aliasName")?;
    let id = key_id(js, id, "keyId")?;
    Ok(work(move || Ok(action(&ring, &alias, &id)?)))
}

pub(crate) fn delete_alias(ring: Keyring, js: Js, alias: sys::napi_value) -> R<Work> {
    let alias = js.string(alias, "aliasName")?;
    Ok(work(move || Ok(ring.delete_alias(&alias)?)))
}

pub(crate) fn list_aliases(ring: Keyring) -> Work {
    work(move || {
        Ok(ring
            .list_aliases()
            .into_iter()
            .map(|a| AliasEntry {
                alias_name: a.alias_name,
                target_key_id: a.target_key_id,
            })
            .collect::<Vec<_>>())
    })
}

pub(crate) fn rotate_key(ring: Keyring, js: Js, id: sys::napi_value) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    Ok(work(move || Ok(ring.rotate_key(&id)?)))
}

pub(crate) fn enable_key_rotation(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    period: sys::napi_value,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    let period = if js.is_nullish(period)? {
        RotationPeriod::days(365)?
    } else {
        rotation_period(js, period, "rotationPeriod")?
    };
    Ok(work(move || Ok(ring.enable_key_rotation(&id, period)?)))
}

pub(crate) fn set_min_decryption_version(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    version: sys::napi_value,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    let version: u32 = js.uint_as(version, "version")?;
    Ok(work(move || {
        Ok(ring.set_min_decryption_version(&id, version)?)
    }))
}

pub(crate) fn set_rotate_on_budget(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    rotate: sys::napi_value,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    let rotate = js.bool(rotate, "rotate")?;
    Ok(work(move || Ok(ring.set_rotate_on_budget(&id, rotate)?)))
}

// ----- symmetric data plane -----------------------------------------------------------------

pub(crate) fn encrypt(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    plaintext: sys::napi_value,
    context: sys::napi_value,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    let context = js.context(context, "context")?;
    let plaintext = js.bytes_owned(plaintext, "plaintext")?;
    Ok(work(move || {
        Ok(Bytes(ring.encrypt(&id, &plaintext, ctx(&context))?))
    }))
}

pub(crate) fn decrypt(
    ring: Keyring,
    js: Js,
    blob: sys::napi_value,
    context: sys::napi_value,
) -> R<Work> {
    let context = js.context(context, "context")?;
    let blob = js.bytes_owned(blob, "blob")?;
    Ok(work(move || {
        Ok(SecretBytes(ring.decrypt(&blob, ctx(&context))?))
    }))
}

pub(crate) fn re_encrypt(
    ring: Keyring,
    js: Js,
    blob: sys::napi_value,
    destination: sys::napi_value,
    options: sys::napi_value,
) -> R<Work> {
    let destination = key_id(js, destination, "destinationKeyId")?;
    let (source_ctx, dest_ctx) = if js.is_nullish(options)? {
        (None, None)
    } else {
        js.object(options, "options")?;
        (
            js.context(js.get(options, c"sourceContext")?, "options.sourceContext")?,
            js.context(
                js.get(options, c"destinationContext")?,
                "options.destinationContext",
            )?,
        )
    };
    let blob = js.bytes_owned(blob, "blob")?;
    Ok(work(move || {
        Ok(Bytes(ring.re_encrypt(
            &blob,
            ctx(&source_ctx),
            &destination,
            ctx(&dest_ctx),
        )?))
    }))
}

fn data_key_options(js: Js, options: sys::napi_value) -> R<(DataKeySpec, Ctx)> {
    if js.is_nullish(options)? {
        return Ok((DataKeySpec::Aes256, None));
    }
    js.object(options, "options")?;
    let spec = data_key_spec(
        js,
        js.get(options, c"keySpec")?,
        js.get(options, c"numberOfBytes")?,
        "options",
    )?;
    let context = js.context(js.get(options, c"context")?, "options.context")?;
    Ok((spec, context))
}

pub(crate) fn generate_data_key(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    options: sys::napi_value,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    let (spec, context) = data_key_options(js, options)?;
    Ok(work(move || {
        let dk = ring.generate_data_key(&id, spec, ctx(&context))?;
        let key_id = dk.key_id().to_owned();
        let (plaintext, blob) = dk.into_parts();
        Ok(DataKey {
            key_id,
            plaintext: SecretBytes(plaintext),
            ciphertext_blob: Bytes(blob),
        })
    }))
}

pub(crate) fn generate_data_key_without_plaintext(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    options: sys::napi_value,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    let (spec, context) = data_key_options(js, options)?;
    Ok(work(move || {
        Ok(Bytes(ring.generate_data_key_without_plaintext(
            &id,
            spec,
            ctx(&context),
        )?))
    }))
}

pub(crate) fn generate_data_key_pair(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    spec: sys::napi_value,
    context: sys::napi_value,
    with_plaintext: bool,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    let spec: DataKeyPairSpec = js.parse(spec, "keyPairSpec")?;
    let context = js.context(context, "context")?;
    if with_plaintext {
        return Ok(work(move || {
            let pair = ring.generate_data_key_pair(&id, spec, ctx(&context))?;
            Ok(DataKeyPair {
                key_id: pair.key_id().to_owned(),
                key_pair_spec: pair.key_pair_spec().as_str().to_owned(),
                public_key: Bytes(pair.public_key().to_vec()),
                private_key_plaintext: SecretBytes(Zeroizing::new(
                    pair.private_key_plaintext().to_vec(),
                )),
                private_key_ciphertext_blob: Bytes(pair.private_key_ciphertext_blob().to_vec()),
            })
        }));
    }
    Ok(work(move || {
        let pair = ring.generate_data_key_pair_without_plaintext(&id, spec, ctx(&context))?;
        Ok(DataKeyPairWithoutPlaintext {
            key_id: pair.key_id,
            key_pair_spec: pair.key_pair_spec.as_str().to_owned(),
            public_key: Bytes(pair.public_key),
            private_key_ciphertext_blob: Bytes(pair.private_key_ciphertext_blob),
        })
    }))
}

pub(crate) fn generate_random(ring: Keyring, js: Js, n: sys::napi_value) -> R<Work> {
    let n: usize = js.uint_as(n, "numberOfBytes")?;
    Ok(work(move || {
        Ok(SecretBytes(Zeroizing::new(ring.generate_random(n)?)))
    }))
}

// ----- MACs, signatures, RSA-OAEP -----------------------------------------------------------

pub(crate) fn generate_mac(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    message: sys::napi_value,
    algorithm: sys::napi_value,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    let algorithm: MacAlgorithm = js.parse(algorithm, "macAlgorithm")?;
    let message = js.bytes_owned(message, "message")?;
    Ok(work(move || {
        Ok(Bytes(ring.generate_mac(&id, &message, algorithm)?))
    }))
}

pub(crate) fn verify_mac(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    message: sys::napi_value,
    algorithm: sys::napi_value,
    mac: sys::napi_value,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    let algorithm: MacAlgorithm = js.parse(algorithm, "macAlgorithm")?;
    let message = js.bytes_owned(message, "message")?;
    let mac = js.bytes_owned(mac, "mac")?;
    Ok(work(move || {
        Ok(ring.verify_mac(&id, &message, algorithm, &mac)?)
    }))
}

pub(crate) fn sign(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    message: sys::napi_value,
    algorithm: sys::napi_value,
    kind: sys::napi_value,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    let algorithm: SigningAlgorithm = js.parse(algorithm, "signingAlgorithm")?;
    let kind = message_type(js, kind, "messageType")?;
    let message = js.bytes_owned(message, "message")?;
    Ok(work(move || {
        Ok(Bytes(ring.sign(&id, &message, kind, algorithm)?))
    }))
}

pub(crate) fn verify(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    message: sys::napi_value,
    algorithm: sys::napi_value,
    signature: sys::napi_value,
    kind: sys::napi_value,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    let algorithm: SigningAlgorithm = js.parse(algorithm, "signingAlgorithm")?;
    let kind = message_type(js, kind, "messageType")?;
    let message = js.bytes_owned(message, "message")?;
    let signature = js.bytes_owned(signature, "signature")?;
    Ok(work(move || {
        Ok(ring.verify(&id, &message, kind, algorithm, &signature)?)
    }))
}

pub(crate) fn get_public_key(ring: Keyring, js: Js, id: sys::napi_value) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    Ok(work(move || {
        let info = ring.get_public_key(&id)?;
        let public_key_pem = info.to_pem();
        Ok(PublicKey {
            public_key_pem,
            key_spec: info.key_spec.as_str().to_owned(),
            key_usage: info.key_usage.as_str().to_owned(),
            signing_algorithms: info
                .signing_algorithms
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
            encryption_algorithms: info
                .encryption_algorithms
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
            public_key: Bytes(info.public_key),
            key_id: info.key_id,
        })
    }))
}

pub(crate) fn encrypt_asymmetric(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    plaintext: sys::napi_value,
    algorithm: sys::napi_value,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    let algorithm: EncryptionAlgorithm = js.parse(algorithm, "encryptionAlgorithm")?;
    let plaintext = js.bytes_owned(plaintext, "plaintext")?;
    Ok(work(move || {
        Ok(Bytes(ring.encrypt_asymmetric(&id, &plaintext, algorithm)?))
    }))
}

pub(crate) fn decrypt_asymmetric(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    ciphertext: sys::napi_value,
    algorithm: sys::napi_value,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    let algorithm: EncryptionAlgorithm = js.parse(algorithm, "encryptionAlgorithm")?;
    let ciphertext = js.bytes_owned(ciphertext, "ciphertext")?;
    Ok(work(move || {
        Ok(SecretBytes(ring.decrypt_asymmetric(
            &id,
            &ciphertext,
            algorithm,
        )?))
    }))
}

// ----- keyring options ----------------------------------------------------------------------

/// The constructor's (and `Keyring.open`'s) options, read on the JavaScript thread.
#[derive(Default)]
pub(crate) struct KeyringPlan {
    budget: Option<core::num::NonZeroU64>,
    threads: Option<usize>,
    max_batch_items: Option<usize>,
    audit: Option<AuditPlan>,
}

impl KeyringPlan {
    pub(crate) fn read(js: Js, options: sys::napi_value) -> R<Self> {
        let mut plan = Self::default();
        if js.is_nullish(options)? {
            return Ok(plan);
        }
        js.object(options, "options")?;
        let budget = js.get(options, c"encryptionBudget")?;
        let threads = js.get(options, c"threads")?;
        let max = js.get(options, c"maxBatchItems")?;
        let audit = js.get(options, c"audit")?;
        if !js.is_nullish(budget)? {
            let n = js.uint(budget, "options.encryptionBudget")?;
            plan.budget = Some(core::num::NonZeroU64::new(n).ok_or_else(|| {
                Failure::Range("options.encryptionBudget must be at least 1".to_owned())
            })?);
        }
        if !js.is_nullish(threads)? {
            plan.threads =
                Some(js.count_within(threads, "options.threads", keyplane::batch::MAX_THREADS)?);
        }
        if !js.is_nullish(max)? {
            plan.max_batch_items = Some(js.uint_as(max, "options.maxBatchItems")?);
        }
        if !js.is_nullish(audit)? {
            plan.audit = Some(AuditPlan::read(js, audit)?);
        }
        Ok(plan)
    }

    /// The core builder (its audit writer started) and where callback events wait.
    pub(crate) fn build(self) -> R<(KeyringBuilder, Option<Arc<Delivery>>)> {
        let mut builder = Keyring::builder();
        if let Some(n) = self.budget {
            builder = builder.encryption_budget(n);
        }
        if let Some(n) = self.threads {
            builder = builder.threads(n)?;
        }
        if let Some(n) = self.max_batch_items {
            builder = builder.max_batch_items(n);
        }
        let mut delivery = None;
        if let Some(audit) = self.audit {
            delivery = audit.delivery();
            builder = builder.audit(audit.config()?)?;
        }
        Ok((builder, delivery))
    }
}

/// A keyring opened on a store, with what its JavaScript objects share.
pub(crate) struct Opened(pub(crate) Keyring, pub(crate) Shared);

pub(crate) fn open(
    js: Js,
    dir: sys::napi_value,
    root: sys::napi_value,
    options: sys::napi_value,
) -> R<impl FnOnce() -> R<Opened> + Send + 'static> {
    let dir = js.string(dir, "storeDir")?;
    let root: Arc<dyn keyplane::RootKey> = crate::seal::root(js, root, "root")?;
    let plan = KeyringPlan::read(js, options)?;
    Ok(move || {
        // The store first: a store in use leaves no audit log behind.
        let store = keyplane::Store::open(&dir)?;
        let (builder, delivery) = plan.build()?;
        let (ring, load_problems) = builder.open(store, root)?;
        Ok(Opened(
            ring,
            Shared {
                load_problems,
                delivery,
            },
        ))
    })
}

// ----- audit --------------------------------------------------------------------------------

pub(crate) fn flush_audit(ring: Keyring, shared: &Arc<Shared>) -> Work {
    let delivery = shared.delivery.clone();
    work(move || {
        ring.flush_audit()?;
        Ok(Flushed(delivery))
    })
}

pub(crate) fn key_last_usage(ring: Keyring, js: Js, id: sys::napi_value) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    Ok(work(move || Ok(Usage(ring.key_last_usage(&id)?))))
}

// ----- importing key material ---------------------------------------------------------------

pub(crate) fn get_parameters_for_import(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    algorithm: sys::napi_value,
    spec: sys::napi_value,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    let algorithm = js.parse_or(
        algorithm,
        "wrappingAlgorithm",
        WrappingAlgorithm::RsaAesKeyWrapSha256,
    )?;
    let spec = js.parse_or(spec, "wrappingKeySpec", WrappingKeySpec::Rsa2048)?;
    Ok(work(move || {
        let p = ring.get_parameters_for_import(&id, algorithm, spec)?;
        Ok(ImportParameters {
            key_id: p.key_id,
            public_key: Bytes(p.public_key),
            import_token: Bytes(p.import_token),
            parameters_valid_to: Timestamp(p.parameters_valid_to),
        })
    }))
}

pub(crate) fn import_key_material(
    ring: Keyring,
    js: Js,
    id: sys::napi_value,
    token: sys::napi_value,
    material: sys::napi_value,
    options: sys::napi_value,
) -> R<Work> {
    let id = key_id(js, id, "keyId")?;
    let mut valid_to = None;
    if !js.is_nullish(options)? {
        js.object(options, "options")?;
        let v = js.get(options, c"validTo")?;
        if !js.is_nullish(v)? {
            valid_to = Some(js.date_arg(v, "options.validTo")?);
        }
    }
    let token = js.bytes_owned(token, "importToken")?;
    let material = js.bytes_owned(material, "encryptedKeyMaterial")?;
    Ok(work(move || {
        Ok(ring.import_key_material(&id, &token, &material, valid_to)?)
    }))
}
