//! The `Keyring` class: every operation as a Promise-returning method and a `…Sync` twin.

use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, JsValue, Result};
use napi_derive::napi;

use crate::error::Failure;
use crate::job::{Job, Work, work};
use crate::js::{Js, JsAny};
use crate::{batch, hot, ops, seal};

/// `encryptMany(items)` or `encryptMany(keyId, plaintexts, context?)`.
fn encrypt_many(
    ring: keyplane::Keyring,
    js: Js,
    items_or_key_id: Unknown<'_>,
    plaintexts: Unknown<'_>,
    context: Unknown<'_>,
) -> std::result::Result<Work, Failure> {
    if js.type_of(items_or_key_id.raw())? == napi::sys::ValueType::napi_string {
        return batch::encrypt_many_with_key(
            ring,
            js,
            items_or_key_id.raw(),
            plaintexts.raw(),
            context.raw(),
        );
    }
    batch::encrypt_many(ring, js, items_or_key_id.raw())
}

/// `decryptMany(items)` or `decryptMany(blobs, context?)`.
fn decrypt_many(
    ring: keyplane::Keyring,
    js: Js,
    items_or_blobs: Unknown<'_>,
    context: Unknown<'_>,
) -> std::result::Result<Work, Failure> {
    let list = items_or_blobs.raw();
    if !js.is_nullish(context.raw())? || batch::is_blob_list(js, list)? {
        return batch::decrypt_many_with_context(ring, js, list, context.raw());
    }
    batch::decrypt_many(ring, js, list)
}

/// Runs prepared work on the calling thread and converts its result, or throws.
fn run(js: Js, prepared: std::result::Result<Work, Failure>) -> Result<JsAny> {
    prepared
        .and_then(|work| work())
        .and_then(|out| out.into_js(js))
        .map(JsAny)
        .map_err(|f| f.throw(js))
}

/// A set of named, versioned keys whose material never leaves it in plaintext, and every
/// operation on them (AWS KMS's operations and names).
///
/// Methods return Promises whose work runs on libuv's thread pool, off the event loop; each has
/// a `…Sync` twin that runs on the calling thread. Bytes go in as `Buffer` or `Uint8Array` and
/// come out as `Buffer`; encryption contexts are plain objects of strings. Failures are `Error`s
/// whose `code` is Keyplane's stable code (`KP_NOT_FOUND`, `KP_INVALID_CIPHERTEXT`, …); an
/// argument of the wrong type is a `TypeError`.
#[napi]
#[derive(Debug)]
pub struct Keyring {
    ring: Arc<keyplane::Keyring>,
    shared: Arc<ops::Shared>,
}

impl Keyring {
    /// A handle on the core keyring for a task (clones share the keys).
    fn core(&self) -> keyplane::Keyring {
        keyplane::Keyring::clone(&self.ring)
    }

    fn opened(opened: ops::Opened) -> Self {
        let ops::Opened(ring, shared) = opened;
        Self {
            ring: Arc::new(ring),
            shared: Arc::new(shared),
        }
    }
}

#[napi]
impl Keyring {
    /// An empty keyring.
    #[napi(constructor, ts_args_type = "options?: KeyringOptions | null")]
    pub fn new(env: Env, options: Unknown<'_>) -> Result<Self> {
        let js = Js::new(&env);
        ops::KeyringPlan::read(js, options.raw())
            .and_then(ops::KeyringPlan::build)
            .map(|(builder, delivery)| Self {
                ring: Arc::new(builder.build()),
                shared: Arc::new(ops::Shared {
                    load_problems: Vec::new(),
                    delivery,
                }),
            })
            .map_err(|f| f.throw(js))
    }

    /// Opens (creating it if needed) a keyring persisted in the directory `storeDir`: every key
    /// whose sealed record opens with `root` is loaded, and every later change (create, import,
    /// rotation, state, policy, alias) is written there before the call that makes it returns.
    /// Records that do not load are left out and listed in `loadProblems`; every other key
    /// loads. The store is locked while the keyring lives (until its last `Keyring` object is
    /// garbage-collected): opening it again, from this process or another, is `KP_STORAGE`
    /// after waiting up to 1 s for the lock, as is a directory that cannot be created or read. `options` are the constructor's.
    #[napi(
        ts_args_type = "storeDir: string, root: LocalRootKey, options?: KeyringOptions | null",
        ts_return_type = "Promise<Keyring>"
    )]
    pub fn open(
        env: Env,
        store_dir: Unknown<'_>,
        root: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let js = Js::new(&env);
        let prepared = ops::open(js, store_dir.raw(), root.raw(), options.raw())
            .map(|open| work(move || open().map(Self::opened)));
        Job::spawn(prepared, js)
    }

    /// `open` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "storeDir: string, root: LocalRootKey, options?: KeyringOptions | null",
        ts_return_type = "Keyring"
    )]
    pub fn open_sync(
        env: Env,
        store_dir: Unknown<'_>,
        root: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<JsAny> {
        let js = Js::new(&env);
        let prepared = ops::open(js, store_dir.raw(), root.raw(), options.raw())
            .map(|open| work(move || open().map(Self::opened)));
        run(js, prepared)
    }

    /// The sealed records `Keyring.open` could not load (a new array on every access; empty for
    /// a keyring not opened from a store). Check it after opening.
    #[napi(getter, ts_return_type = "Array<LoadProblem>")]
    pub fn load_problems(&self, env: Env) -> Result<JsAny> {
        let js = Js::new(&env);
        let build = || -> std::result::Result<_, Failure> {
            let mut array = js.new_array(self.shared.load_problems.len())?;
            for p in &self.shared.load_problems {
                let o = js.new_object()?;
                js.set(o, c"path", js.str_value(&p.path.to_string_lossy())?)?;
                let error = Failure::Core(p.error)
                    .to_js(js)
                    .ok_or(Failure::Core(keyplane::Error::Internal))?;
                js.set(o, c"error", error)?;
                array.push(o)?;
            }
            Ok(JsAny(array.raw))
        };
        build().map_err(|f| f.throw(js))
    }

    // ----- audit ------------------------------------------------------------------------------

    /// A handle on the same keyring (same keys, same audit trail) whose operations the audit
    /// trail attributes to `caller` (a service, user or tenant name of your choosing).
    #[napi(ts_args_type = "caller: string")]
    pub fn with_caller(&self, env: Env, caller: Unknown<'_>) -> Result<Keyring> {
        let js = Js::new(&env);
        let caller = js.string(caller.raw(), "caller").map_err(|f| f.throw(js))?;
        Ok(Self {
            ring: Arc::new(self.ring.with_caller(&caller)),
            shared: Arc::clone(&self.shared),
        })
    }

    /// The caller identity of this handle (`withCaller`), or `null`.
    #[napi(getter)]
    pub fn caller(&self) -> Option<String> {
        self.ring.caller().map(str::to_owned)
    }

    /// Resolves once every operation recorded before the call has been delivered: written (and
    /// synced) to the log, or passed to the audit callback, which has returned for each. Does
    /// nothing on a keyring without audit.
    #[napi(ts_args_type = "", ts_return_type = "Promise<void>")]
    pub fn flush_audit(&self, env: Env) -> Result<AsyncTask<Job>> {
        let js = Js::new(&env);
        Job::spawn(Ok(ops::flush_audit(self.core(), &self.shared)), js)
    }

    /// `flushAudit` on the calling thread: blocks until the core's writer has handed every
    /// earlier event over, then calls the audit callback for each one still waiting (before
    /// returning).
    #[napi(ts_args_type = "", ts_return_type = "void")]
    pub fn flush_audit_sync(&self, env: Env) -> Result<JsAny> {
        let js = Js::new(&env);
        run(js, Ok(ops::flush_audit(self.core(), &self.shared)))
    }

    /// Events dropped because a queue was full (with `backPressure: 'drop'`): the core's queue,
    /// and for a callback the events waiting for the JavaScript thread.
    #[napi(getter)]
    pub fn audit_dropped(&self) -> f64 {
        let callback = self.shared.delivery.as_ref().map_or(0, |d| d.dropped());
        crate::js::exact_f64_u64(self.ring.audit_dropped().saturating_add(callback))
    }

    /// Times the audit failed to deliver: a callback that threw or rejected, a log that could
    /// not be written.
    #[napi(getter)]
    pub fn audit_failures(&self) -> f64 {
        let callback = self.shared.delivery.as_ref().map_or(0, |d| d.failures());
        crate::js::exact_f64_u64(self.ring.audit_failures().saturating_add(callback))
    }

    /// When `keyId` was last used, by which operation, and how often each operation used it
    /// (AWS KMS's `GetKeyLastUsage`), as the audit writer has seen so far (flush first to
    /// include operations still queued). `KP_INVALID_INPUT` on a keyring without audit.
    #[napi(
        ts_args_type = "keyId: string",
        ts_return_type = "Promise<KeyLastUsage>"
    )]
    pub fn key_last_usage(&self, env: Env, key_id: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(ops::key_last_usage(ring, js, key_id.raw()), js)
    }

    /// `keyLastUsage` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(ts_args_type = "keyId: string", ts_return_type = "KeyLastUsage")]
    pub fn key_last_usage_sync(&self, env: Env, key_id: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, ops::key_last_usage(ring, js, key_id.raw()))
    }

    // ----- sealed records ---------------------------------------------------------------------

    /// The key `keyId` (every version, its metadata, state, aliases, rotation policy and
    /// counters) as a sealed record: envelope-encrypted under `root`, for backup or for
    /// `importSealed` in another keyring (a replica). Store it anywhere.
    #[napi(
        ts_args_type = "keyId: string, root: LocalRootKey",
        ts_return_type = "Promise<Buffer>"
    )]
    pub fn export_sealed(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        root: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(seal::export_sealed(ring, js, key_id.raw(), root.raw()), js)
    }

    /// `exportSealed` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, root: LocalRootKey",
        ts_return_type = "Buffer"
    )]
    pub fn export_sealed_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        root: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, seal::export_sealed(ring, js, key_id.raw(), root.raw()))
    }

    /// Opens a sealed record with `root` and adds its key to this keyring, with its id,
    /// versions, state and aliases; resolves to its metadata. A record that is not authentic
    /// under `root` (tampered, truncated, another root with the same id) is
    /// `KP_INVALID_CIPHERTEXT`; one sealed under a root with another id, or bytes that are not
    /// a record, `KP_INVALID_INPUT`; a key id or alias taken here, `KP_ALREADY_EXISTS`.
    #[napi(
        ts_args_type = "record: Uint8Array, root: LocalRootKey",
        ts_return_type = "Promise<KeyMetadata>"
    )]
    pub fn import_sealed(
        &self,
        env: Env,
        record: Unknown<'_>,
        root: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(seal::import_sealed(ring, js, record.raw(), root.raw()), js)
    }

    /// `importSealed` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "record: Uint8Array, root: LocalRootKey",
        ts_return_type = "KeyMetadata"
    )]
    pub fn import_sealed_sync(
        &self,
        env: Env,
        record: Unknown<'_>,
        root: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, seal::import_sealed(ring, js, record.raw(), root.raw()))
    }

    // ----- importing key material -------------------------------------------------------------

    /// An RSA wrapping public key and an import token for bringing your own material into
    /// `keyId` (a key created with `origin: 'EXTERNAL'`), valid for 24 hours. `wrappingAlgorithm`
    /// defaults to `RSA_AES_KEY_WRAP_SHA_256` (also `RSA_AES_KEY_WRAP_SHA_1`, `RSAES_OAEP_SHA_256`,
    /// `RSAES_OAEP_SHA_1`), `wrappingKeySpec` to `RSA_2048` (also `RSA_3072`, `RSA_4096`). The
    /// RSA key generation runs off the event loop in the Promise form.
    #[napi(
        ts_args_type = "keyId: string, wrappingAlgorithm?: string | null, wrappingKeySpec?: string | null",
        ts_return_type = "Promise<ImportParameters>"
    )]
    pub fn get_parameters_for_import(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        wrapping_algorithm: Unknown<'_>,
        wrapping_key_spec: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::get_parameters_for_import(
                ring,
                js,
                key_id.raw(),
                wrapping_algorithm.raw(),
                wrapping_key_spec.raw(),
            ),
            js,
        )
    }

    /// `getParametersForImport` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, wrappingAlgorithm?: string | null, wrappingKeySpec?: string | null",
        ts_return_type = "ImportParameters"
    )]
    pub fn get_parameters_for_import_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        wrapping_algorithm: Unknown<'_>,
        wrapping_key_spec: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::get_parameters_for_import(
                ring,
                js,
                key_id.raw(),
                wrapping_algorithm.raw(),
                wrapping_key_spec.raw(),
            ),
        )
    }

    /// Unwraps `encryptedKeyMaterial` (wrapped with the public key that came with
    /// `importToken`) and installs it as the key's material; the key becomes `Enabled`. With
    /// `validTo` the material expires then and the key returns to `PendingImport`. A key only
    /// ever accepts the material it was first given. `KP_INVALID_INPUT` for a bad, expired or
    /// other key's token, material that does not fit the key, or a `validTo` in the past;
    /// `KP_INVALID_CIPHERTEXT` for wrapped bytes that do not unwrap.
    #[napi(
        ts_args_type = "keyId: string, importToken: Uint8Array, encryptedKeyMaterial: Uint8Array, options?: ImportKeyMaterialOptions | null",
        ts_return_type = "Promise<void>"
    )]
    pub fn import_key_material(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        import_token: Unknown<'_>,
        encrypted_key_material: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::import_key_material(
                ring,
                js,
                key_id.raw(),
                import_token.raw(),
                encrypted_key_material.raw(),
                options.raw(),
            ),
            js,
        )
    }

    /// `importKeyMaterial` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, importToken: Uint8Array, encryptedKeyMaterial: Uint8Array, options?: ImportKeyMaterialOptions | null",
        ts_return_type = "void"
    )]
    pub fn import_key_material_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        import_token: Unknown<'_>,
        encrypted_key_material: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::import_key_material(
                ring,
                js,
                key_id.raw(),
                import_token.raw(),
                encrypted_key_material.raw(),
                options.raw(),
            ),
        )
    }

    /// Deletes the imported material of `keyId` now: the key returns to `PendingImport` until
    /// the same material is imported again.
    #[napi(ts_args_type = "keyId: string", ts_return_type = "Promise<void>")]
    pub fn delete_imported_key_material(
        &self,
        env: Env,
        key_id: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::key_action(
                ring,
                js,
                key_id.raw(),
                keyplane::Keyring::delete_imported_key_material,
            ),
            js,
        )
    }

    /// `deleteImportedKeyMaterial` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(ts_args_type = "keyId: string", ts_return_type = "void")]
    pub fn delete_imported_key_material_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::key_action(
                ring,
                js,
                key_id.raw(),
                keyplane::Keyring::delete_imported_key_material,
            ),
        )
    }

    /// A handle by which other threads of this process (`worker_threads`, which load the addon
    /// again) can `Keyring.attach` to this same keyring and its keys. The handle is valid while
    /// some `Keyring` object of the process still uses the keyring.
    #[napi]
    pub fn share_handle(&self, env: Env) -> Result<String> {
        ops::share(&self.ring, &self.shared).map_err(|f| f.throw(Js::new(&env)))
    }

    /// A `Keyring` on the keyring that `shareHandle` returned `handle` for, in any thread of
    /// the process. An unknown (or no longer used) handle is `KP_NOT_FOUND`.
    #[napi(factory, ts_args_type = "handle: string")]
    pub fn attach(env: Env, handle: Unknown<'_>) -> Result<Self> {
        let js = Js::new(&env);
        js.string(handle.raw(), "handle")
            .and_then(|h| ops::attach(&h))
            .map(|(ring, shared)| Self { ring, shared })
            .map_err(|f| f.throw(js))
    }

    /// Creates a key and returns its metadata. `keySpec` defaults to `SYMMETRIC_DEFAULT`; RSA keys need a
    /// `keyUsage`. Key generation (seconds for RSA-4096) runs off the event loop in the Promise form.
    #[napi(
        ts_args_type = "options?: CreateKeyOptions | null",
        ts_return_type = "Promise<KeyMetadata>"
    )]
    pub fn create_key(&self, env: Env, options: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(ops::create_key(ring, js, options.raw()), js)
    }

    /// `createKey` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "options?: CreateKeyOptions | null",
        ts_return_type = "KeyMetadata"
    )]
    pub fn create_key_sync(&self, env: Env, options: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, ops::create_key(ring, js, options.raw()))
    }

    /// The metadata of a key (by id or `alias/...`).
    #[napi(
        ts_args_type = "keyId: string",
        ts_return_type = "Promise<KeyMetadata>"
    )]
    pub fn describe_key(&self, env: Env, key_id: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(ops::describe_key(ring, js, key_id.raw()), js)
    }

    /// `describeKey` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(ts_args_type = "keyId: string", ts_return_type = "KeyMetadata")]
    pub fn describe_key_sync(&self, env: Env, key_id: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, ops::describe_key(ring, js, key_id.raw()))
    }

    /// Every key id, sorted.
    #[napi(ts_args_type = "", ts_return_type = "Promise<Array<string>>")]
    pub fn list_keys(&self, env: Env) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(Ok(ops::list_keys(ring)), js)
    }

    /// `listKeys` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(ts_args_type = "", ts_return_type = "Array<string>")]
    pub fn list_keys_sync(&self, env: Env) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, Ok(ops::list_keys(ring)))
    }

    /// Enables a disabled key.
    #[napi(ts_args_type = "keyId: string", ts_return_type = "Promise<void>")]
    pub fn enable_key(&self, env: Env, key_id: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::key_action(ring, js, key_id.raw(), keyplane::Keyring::enable_key),
            js,
        )
    }

    /// `enableKey` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(ts_args_type = "keyId: string", ts_return_type = "void")]
    pub fn enable_key_sync(&self, env: Env, key_id: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::key_action(ring, js, key_id.raw(), keyplane::Keyring::enable_key),
        )
    }

    /// Disables a key: every operation with it fails with `KP_KEY_DISABLED` until it is enabled again.
    #[napi(ts_args_type = "keyId: string", ts_return_type = "Promise<void>")]
    pub fn disable_key(&self, env: Env, key_id: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::key_action(ring, js, key_id.raw(), keyplane::Keyring::disable_key),
            js,
        )
    }

    /// `disableKey` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(ts_args_type = "keyId: string", ts_return_type = "void")]
    pub fn disable_key_sync(&self, env: Env, key_id: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::key_action(ring, js, key_id.raw(), keyplane::Keyring::disable_key),
        )
    }

    /// Schedules deletion after the waiting period (default 30 days) and returns the deletion date.
    /// Until then the key is unusable (`KP_INVALID_KEY_STATE`) and `cancelKeyDeletion` can save it.
    #[napi(
        ts_args_type = "keyId: string, pendingWindow?: PendingWindow | null",
        ts_return_type = "Promise<Date>"
    )]
    pub fn schedule_key_deletion(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        pending_window: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::schedule_key_deletion(ring, js, key_id.raw(), pending_window.raw()),
            js,
        )
    }

    /// `scheduleKeyDeletion` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, pendingWindow?: PendingWindow | null",
        ts_return_type = "Date"
    )]
    pub fn schedule_key_deletion_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        pending_window: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::schedule_key_deletion(ring, js, key_id.raw(), pending_window.raw()),
        )
    }

    /// Cancels a scheduled deletion; as in AWS KMS the key comes back disabled (an imported key without material: `PendingImport`).
    #[napi(ts_args_type = "keyId: string", ts_return_type = "Promise<void>")]
    pub fn cancel_key_deletion(&self, env: Env, key_id: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::key_action(
                ring,
                js,
                key_id.raw(),
                keyplane::Keyring::cancel_key_deletion,
            ),
            js,
        )
    }

    /// `cancelKeyDeletion` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(ts_args_type = "keyId: string", ts_return_type = "void")]
    pub fn cancel_key_deletion_sync(&self, env: Env, key_id: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::key_action(
                ring,
                js,
                key_id.raw(),
                keyplane::Keyring::cancel_key_deletion,
            ),
        )
    }

    /// Creates an alias (`alias/...`) pointing at a key.
    #[napi(
        ts_args_type = "aliasName: string, keyId: string",
        ts_return_type = "Promise<void>"
    )]
    pub fn create_alias(
        &self,
        env: Env,
        alias_name: Unknown<'_>,
        key_id: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::alias_action(
                ring,
                js,
                alias_name.raw(),
                key_id.raw(),
                keyplane::Keyring::create_alias,
            ),
            js,
        )
    }

    /// `createAlias` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "aliasName: string, keyId: string",
        ts_return_type = "void"
    )]
    pub fn create_alias_sync(
        &self,
        env: Env,
        alias_name: Unknown<'_>,
        key_id: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::alias_action(
                ring,
                js,
                alias_name.raw(),
                key_id.raw(),
                keyplane::Keyring::create_alias,
            ),
        )
    }

    /// Points an existing alias at another key.
    #[napi(
        ts_args_type = "aliasName: string, keyId: string",
        ts_return_type = "Promise<void>"
    )]
    pub fn update_alias(
        &self,
        env: Env,
        alias_name: Unknown<'_>,
        key_id: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::alias_action(
                ring,
                js,
                alias_name.raw(),
                key_id.raw(),
                keyplane::Keyring::update_alias,
            ),
            js,
        )
    }

    /// `updateAlias` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "aliasName: string, keyId: string",
        ts_return_type = "void"
    )]
    pub fn update_alias_sync(
        &self,
        env: Env,
        alias_name: Unknown<'_>,
        key_id: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::alias_action(
                ring,
                js,
                alias_name.raw(),
                key_id.raw(),
                keyplane::Keyring::update_alias,
            ),
        )
    }

    /// Deletes an alias (the key is untouched).
    #[napi(ts_args_type = "aliasName: string", ts_return_type = "Promise<void>")]
    pub fn delete_alias(&self, env: Env, alias_name: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(ops::delete_alias(ring, js, alias_name.raw()), js)
    }

    /// `deleteAlias` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(ts_args_type = "aliasName: string", ts_return_type = "void")]
    pub fn delete_alias_sync(&self, env: Env, alias_name: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, ops::delete_alias(ring, js, alias_name.raw()))
    }

    /// Every alias, sorted by name.
    #[napi(ts_args_type = "", ts_return_type = "Promise<Array<AliasEntry>>")]
    pub fn list_aliases(&self, env: Env) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(Ok(ops::list_aliases(ring)), js)
    }

    /// `listAliases` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(ts_args_type = "", ts_return_type = "Array<AliasEntry>")]
    pub fn list_aliases_sync(&self, env: Env) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, Ok(ops::list_aliases(ring)))
    }

    /// Adds a new version to a symmetric key and returns its number; new encryptions use it and older
    /// versions keep decrypting. Asymmetric and HMAC keys do not rotate (`KP_UNSUPPORTED_ALGORITHM`).
    #[napi(ts_args_type = "keyId: string", ts_return_type = "Promise<number>")]
    pub fn rotate_key(&self, env: Env, key_id: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(ops::rotate_key(ring, js, key_id.raw()), js)
    }

    /// `rotateKey` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(ts_args_type = "keyId: string", ts_return_type = "number")]
    pub fn rotate_key_sync(&self, env: Env, key_id: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, ops::rotate_key(ring, js, key_id.raw()))
    }

    /// Turns on automatic rotation (default every 365 days), counted from the current version's creation.
    /// Rotation is lazy: the first encryption after the period adds the version.
    #[napi(
        ts_args_type = "keyId: string, rotationPeriod?: RotationPeriod | null",
        ts_return_type = "Promise<void>"
    )]
    pub fn enable_key_rotation(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        rotation_period: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::enable_key_rotation(ring, js, key_id.raw(), rotation_period.raw()),
            js,
        )
    }

    /// `enableKeyRotation` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, rotationPeriod?: RotationPeriod | null",
        ts_return_type = "void"
    )]
    pub fn enable_key_rotation_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        rotation_period: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::enable_key_rotation(ring, js, key_id.raw(), rotation_period.raw()),
        )
    }

    /// Turns off automatic rotation.
    #[napi(ts_args_type = "keyId: string", ts_return_type = "Promise<void>")]
    pub fn disable_key_rotation(&self, env: Env, key_id: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::key_action(
                ring,
                js,
                key_id.raw(),
                keyplane::Keyring::disable_key_rotation,
            ),
            js,
        )
    }

    /// `disableKeyRotation` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(ts_args_type = "keyId: string", ts_return_type = "void")]
    pub fn disable_key_rotation_sync(&self, env: Env, key_id: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::key_action(
                ring,
                js,
                key_id.raw(),
                keyplane::Keyring::disable_key_rotation,
            ),
        )
    }

    /// Refuses blobs of versions older than `version` with `KP_VERSION_RETIRED` (lowering it re-admits them).
    #[napi(
        ts_args_type = "keyId: string, version: number",
        ts_return_type = "Promise<void>"
    )]
    pub fn set_min_decryption_version(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        version: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::set_min_decryption_version(ring, js, key_id.raw(), version.raw()),
            js,
        )
    }

    /// `setMinDecryptionVersion` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, version: number",
        ts_return_type = "void"
    )]
    pub fn set_min_decryption_version_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        version: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::set_min_decryption_version(ring, js, key_id.raw(), version.raw()),
        )
    }

    /// Whether the key rotates (`true`) or refuses with `KP_LIMIT_EXCEEDED` (`false`) once a version's
    /// encryption budget is spent. `true` for an imported (`EXTERNAL`) key is
    /// `KP_UNSUPPORTED_ALGORITHM`: its only version is the material imported into it.
    #[napi(
        ts_args_type = "keyId: string, rotate: boolean",
        ts_return_type = "Promise<void>"
    )]
    pub fn set_rotate_on_budget(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        rotate: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::set_rotate_on_budget(ring, js, key_id.raw(), rotate.raw()),
            js,
        )
    }

    /// `setRotateOnBudget` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, rotate: boolean",
        ts_return_type = "void"
    )]
    pub fn set_rotate_on_budget_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        rotate: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::set_rotate_on_budget(ring, js, key_id.raw(), rotate.raw()),
        )
    }

    /// Encrypts `plaintext` under the newest version of `keyId` (a key id or `alias/...`), binding the
    /// encryption context as authenticated data. Returns the ciphertext blob, which names its key and
    /// version; `decrypt` needs the same context.
    #[napi(
        ts_args_type = "keyId: string, plaintext: Uint8Array, context?: Record<string, string> | null",
        ts_return_type = "Promise<Buffer>"
    )]
    pub fn encrypt(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        plaintext: Unknown<'_>,
        context: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::encrypt(ring, js, key_id.raw(), plaintext.raw(), context.raw()),
            js,
        )
    }

    /// `encrypt` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, plaintext: Uint8Array, context?: Record<string, string> | null",
        ts_return_type = "Buffer"
    )]
    pub fn encrypt_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        plaintext: Unknown<'_>,
        context: Unknown<'_>,
    ) -> Result<JsAny> {
        let js = Js::new(&env);
        hot::encrypt(&self.ring, js, key_id.raw(), plaintext.raw(), context.raw())
            .map(JsAny)
            .map_err(|f| f.throw(js))
    }

    /// Decrypts a blob made by `encrypt` with the same encryption context. Any tampering, another keyring,
    /// or another context is `KP_INVALID_CIPHERTEXT` (one error for every cause).
    #[napi(
        ts_args_type = "blob: Uint8Array, context?: Record<string, string> | null",
        ts_return_type = "Promise<Buffer>"
    )]
    pub fn decrypt(
        &self,
        env: Env,
        blob: Unknown<'_>,
        context: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(ops::decrypt(ring, js, blob.raw(), context.raw()), js)
    }

    /// `decrypt` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "blob: Uint8Array, context?: Record<string, string> | null",
        ts_return_type = "Buffer"
    )]
    pub fn decrypt_sync(&self, env: Env, blob: Unknown<'_>, context: Unknown<'_>) -> Result<JsAny> {
        let js = Js::new(&env);
        hot::decrypt(&self.ring, js, blob.raw(), context.raw())
            .map(JsAny)
            .map_err(|f| f.throw(js))
    }

    /// Encrypts `plaintext` (as `encryptSync`) into the start of `output`, a `Buffer` or
    /// `Uint8Array` of at least `ciphertextLength(keyId, plaintext.length)` bytes, and returns
    /// the blob's length. No allocation: for large payloads, reusing one output buffer spares
    /// the page faults of a fresh one per call. A smaller `output` is `KP_BUFFER_TOO_SMALL`
    /// (with `needed`). Synchronous only (a thread-pool task must not write memory JavaScript
    /// can read); `output` may overlap `plaintext`.
    #[napi(
        ts_args_type = "keyId: string, plaintext: Uint8Array, output: Uint8Array, context?: Record<string, string> | null",
        ts_return_type = "number"
    )]
    pub fn encrypt_into_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        plaintext: Unknown<'_>,
        output: Unknown<'_>,
        context: Unknown<'_>,
    ) -> Result<JsAny> {
        let js = Js::new(&env);
        hot::encrypt_into(
            &self.ring,
            js,
            key_id.raw(),
            plaintext.raw(),
            output.raw(),
            context.raw(),
        )
        .map(JsAny)
        .map_err(|f| f.throw(js))
    }

    /// Decrypts `blob` (as `decryptSync`) into the start of `output`, of at least
    /// `plaintextLength(blob)` bytes, and returns the plaintext's length. On any error `output`
    /// is left zeroed. Synchronous only, like `encryptIntoSync`.
    #[napi(
        ts_args_type = "blob: Uint8Array, output: Uint8Array, context?: Record<string, string> | null",
        ts_return_type = "number"
    )]
    pub fn decrypt_into_sync(
        &self,
        env: Env,
        blob: Unknown<'_>,
        output: Unknown<'_>,
        context: Unknown<'_>,
    ) -> Result<JsAny> {
        let js = Js::new(&env);
        hot::decrypt_into(&self.ring, js, blob.raw(), output.raw(), context.raw())
            .map(JsAny)
            .map_err(|f| f.throw(js))
    }

    /// The exact length of the blob `encrypt` makes of `plaintextLength` bytes under `keyId`
    /// (its current version).
    #[napi(
        ts_args_type = "keyId: string, plaintextLength: number",
        ts_return_type = "number"
    )]
    pub fn ciphertext_length(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        plaintext_length: Unknown<'_>,
    ) -> Result<JsAny> {
        let js = Js::new(&env);
        hot::ciphertext_len(&self.ring, js, key_id.raw(), plaintext_length.raw())
            .map(JsAny)
            .map_err(|f| f.throw(js))
    }

    /// The length of the plaintext in `blob`, read from its header (`KP_INVALID_CIPHERTEXT` for
    /// a malformed blob; nothing is authenticated until it is decrypted).
    #[napi(ts_args_type = "blob: Uint8Array", ts_return_type = "number")]
    pub fn plaintext_length(&self, env: Env, blob: Unknown<'_>) -> Result<JsAny> {
        let js = Js::new(&env);
        hot::plaintext_len(&self.ring, js, blob.raw())
            .map(JsAny)
            .map_err(|f| f.throw(js))
    }

    /// Decrypts a blob and encrypts its plaintext under `destinationKeyId`, without the plaintext
    /// ever leaving Keyplane.
    #[napi(
        ts_args_type = "blob: Uint8Array, destinationKeyId: string, options?: ReEncryptOptions | null",
        ts_return_type = "Promise<Buffer>"
    )]
    pub fn re_encrypt(
        &self,
        env: Env,
        blob: Unknown<'_>,
        destination_key_id: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::re_encrypt(
                ring,
                js,
                blob.raw(),
                destination_key_id.raw(),
                options.raw(),
            ),
            js,
        )
    }

    /// `reEncrypt` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "blob: Uint8Array, destinationKeyId: string, options?: ReEncryptOptions | null",
        ts_return_type = "Buffer"
    )]
    pub fn re_encrypt_sync(
        &self,
        env: Env,
        blob: Unknown<'_>,
        destination_key_id: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::re_encrypt(
                ring,
                js,
                blob.raw(),
                destination_key_id.raw(),
                options.raw(),
            ),
        )
    }

    /// A fresh data key (32 bytes unless `options` say otherwise), in plaintext and encrypted under `keyId`.
    #[napi(
        ts_args_type = "keyId: string, options?: DataKeyOptions | null",
        ts_return_type = "Promise<DataKey>"
    )]
    pub fn generate_data_key(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::generate_data_key(ring, js, key_id.raw(), options.raw()),
            js,
        )
    }

    /// `generateDataKey` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, options?: DataKeyOptions | null",
        ts_return_type = "DataKey"
    )]
    pub fn generate_data_key_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::generate_data_key(ring, js, key_id.raw(), options.raw()),
        )
    }

    /// A fresh data key encrypted under `keyId` (the blob only).
    #[napi(
        ts_args_type = "keyId: string, options?: DataKeyOptions | null",
        ts_return_type = "Promise<Buffer>"
    )]
    pub fn generate_data_key_without_plaintext(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::generate_data_key_without_plaintext(ring, js, key_id.raw(), options.raw()),
            js,
        )
    }

    /// `generateDataKeyWithoutPlaintext` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, options?: DataKeyOptions | null",
        ts_return_type = "Buffer"
    )]
    pub fn generate_data_key_without_plaintext_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::generate_data_key_without_plaintext(ring, js, key_id.raw(), options.raw()),
        )
    }

    /// A fresh key pair (`RSA_2048|3072|4096`, `ECC_NIST_P256|P384|P521`, `ECC_SECG_P256K1`) whose PKCS#8
    /// private key is returned in plaintext and encrypted under the symmetric key `keyId`.
    #[napi(
        ts_args_type = "keyId: string, keyPairSpec: string, context?: Record<string, string> | null",
        ts_return_type = "Promise<DataKeyPair>"
    )]
    pub fn generate_data_key_pair(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        key_pair_spec: Unknown<'_>,
        context: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::generate_data_key_pair(
                ring,
                js,
                key_id.raw(),
                key_pair_spec.raw(),
                context.raw(),
                true,
            ),
            js,
        )
    }

    /// `generateDataKeyPair` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, keyPairSpec: string, context?: Record<string, string> | null",
        ts_return_type = "DataKeyPair"
    )]
    pub fn generate_data_key_pair_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        key_pair_spec: Unknown<'_>,
        context: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::generate_data_key_pair(
                ring,
                js,
                key_id.raw(),
                key_pair_spec.raw(),
                context.raw(),
                true,
            ),
        )
    }

    /// As `generateDataKeyPair`, without the plaintext private key.
    #[napi(
        ts_args_type = "keyId: string, keyPairSpec: string, context?: Record<string, string> | null",
        ts_return_type = "Promise<DataKeyPairWithoutPlaintext>"
    )]
    pub fn generate_data_key_pair_without_plaintext(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        key_pair_spec: Unknown<'_>,
        context: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::generate_data_key_pair(
                ring,
                js,
                key_id.raw(),
                key_pair_spec.raw(),
                context.raw(),
                false,
            ),
            js,
        )
    }

    /// `generateDataKeyPairWithoutPlaintext` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, keyPairSpec: string, context?: Record<string, string> | null",
        ts_return_type = "DataKeyPairWithoutPlaintext"
    )]
    pub fn generate_data_key_pair_without_plaintext_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        key_pair_spec: Unknown<'_>,
        context: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::generate_data_key_pair(
                ring,
                js,
                key_id.raw(),
                key_pair_spec.raw(),
                context.raw(),
                false,
            ),
        )
    }

    /// 1 to 1024 bytes from the system's cryptographic random number generator.
    #[napi(
        ts_args_type = "numberOfBytes: number",
        ts_return_type = "Promise<Buffer>"
    )]
    pub fn generate_random(
        &self,
        env: Env,
        number_of_bytes: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(ops::generate_random(ring, js, number_of_bytes.raw()), js)
    }

    /// `generateRandom` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(ts_args_type = "numberOfBytes: number", ts_return_type = "Buffer")]
    pub fn generate_random_sync(&self, env: Env, number_of_bytes: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, ops::generate_random(ring, js, number_of_bytes.raw()))
    }

    /// The HMAC of `message` under an HMAC key; `macAlgorithm` (`HMAC_SHA_256`, …) must match the key's spec.
    #[napi(
        ts_args_type = "keyId: string, message: Uint8Array, macAlgorithm: string",
        ts_return_type = "Promise<Buffer>"
    )]
    pub fn generate_mac(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        message: Unknown<'_>,
        mac_algorithm: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::generate_mac(ring, js, key_id.raw(), message.raw(), mac_algorithm.raw()),
            js,
        )
    }

    /// `generateMac` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, message: Uint8Array, macAlgorithm: string",
        ts_return_type = "Buffer"
    )]
    pub fn generate_mac_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        message: Unknown<'_>,
        mac_algorithm: Unknown<'_>,
    ) -> Result<JsAny> {
        let js = Js::new(&env);
        hot::generate_mac(
            &self.ring,
            js,
            key_id.raw(),
            message.raw(),
            mac_algorithm.raw(),
        )
        .map(JsAny)
        .map_err(|f| f.throw(js))
    }

    /// Whether `mac` is the HMAC of `message` (compared in constant time): `false` for any mismatch.
    #[napi(
        ts_args_type = "keyId: string, message: Uint8Array, macAlgorithm: string, mac: Uint8Array",
        ts_return_type = "Promise<boolean>"
    )]
    pub fn verify_mac(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        message: Unknown<'_>,
        mac_algorithm: Unknown<'_>,
        mac: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::verify_mac(
                ring,
                js,
                key_id.raw(),
                message.raw(),
                mac_algorithm.raw(),
                mac.raw(),
            ),
            js,
        )
    }

    /// `verifyMac` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, message: Uint8Array, macAlgorithm: string, mac: Uint8Array",
        ts_return_type = "boolean"
    )]
    pub fn verify_mac_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        message: Unknown<'_>,
        mac_algorithm: Unknown<'_>,
        mac: Unknown<'_>,
    ) -> Result<JsAny> {
        let js = Js::new(&env);
        hot::verify_mac(
            &self.ring,
            js,
            key_id.raw(),
            message.raw(),
            mac_algorithm.raw(),
            mac.raw(),
        )
        .map(JsAny)
        .map_err(|f| f.throw(js))
    }

    /// Signs `message` (or, with `messageType` `DIGEST`, the caller's digest of it). ECDSA signatures are
    /// DER-encoded, as AWS KMS returns them; `crypto.verify` accepts them as they are.
    #[napi(
        ts_args_type = "keyId: string, message: Uint8Array, signingAlgorithm: string, messageType?: 'RAW' | 'DIGEST' | null",
        ts_return_type = "Promise<Buffer>"
    )]
    pub fn sign(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        message: Unknown<'_>,
        signing_algorithm: Unknown<'_>,
        message_type: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::sign(
                ring,
                js,
                key_id.raw(),
                message.raw(),
                signing_algorithm.raw(),
                message_type.raw(),
            ),
            js,
        )
    }

    /// `sign` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, message: Uint8Array, signingAlgorithm: string, messageType?: 'RAW' | 'DIGEST' | null",
        ts_return_type = "Buffer"
    )]
    pub fn sign_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        message: Unknown<'_>,
        signing_algorithm: Unknown<'_>,
        message_type: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::sign(
                ring,
                js,
                key_id.raw(),
                message.raw(),
                signing_algorithm.raw(),
                message_type.raw(),
            ),
        )
    }

    /// Whether `signature` is a valid signature of `message`: `false` for any invalid or malformed signature.
    #[napi(
        ts_args_type = "keyId: string, message: Uint8Array, signingAlgorithm: string, signature: Uint8Array, messageType?: 'RAW' | 'DIGEST' | null",
        ts_return_type = "Promise<boolean>"
    )]
    pub fn verify(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        message: Unknown<'_>,
        signing_algorithm: Unknown<'_>,
        signature: Unknown<'_>,
        message_type: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::verify(
                ring,
                js,
                key_id.raw(),
                message.raw(),
                signing_algorithm.raw(),
                signature.raw(),
                message_type.raw(),
            ),
            js,
        )
    }

    /// `verify` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, message: Uint8Array, signingAlgorithm: string, signature: Uint8Array, messageType?: 'RAW' | 'DIGEST' | null",
        ts_return_type = "boolean"
    )]
    pub fn verify_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        message: Unknown<'_>,
        signing_algorithm: Unknown<'_>,
        signature: Unknown<'_>,
        message_type: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::verify(
                ring,
                js,
                key_id.raw(),
                message.raw(),
                signing_algorithm.raw(),
                signature.raw(),
                message_type.raw(),
            ),
        )
    }

    /// The public half of an asymmetric key (DER SubjectPublicKeyInfo and PEM).
    #[napi(ts_args_type = "keyId: string", ts_return_type = "Promise<PublicKey>")]
    pub fn get_public_key(&self, env: Env, key_id: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(ops::get_public_key(ring, js, key_id.raw()), js)
    }

    /// `getPublicKey` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(ts_args_type = "keyId: string", ts_return_type = "PublicKey")]
    pub fn get_public_key_sync(&self, env: Env, key_id: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, ops::get_public_key(ring, js, key_id.raw()))
    }

    /// Encrypts with the public half of an RSA `ENCRYPT_DECRYPT` key (`RSAES_OAEP_SHA_256` or `RSAES_OAEP_SHA_1`).
    #[napi(
        ts_args_type = "keyId: string, plaintext: Uint8Array, encryptionAlgorithm: string",
        ts_return_type = "Promise<Buffer>"
    )]
    pub fn encrypt_asymmetric(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        plaintext: Unknown<'_>,
        encryption_algorithm: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::encrypt_asymmetric(
                ring,
                js,
                key_id.raw(),
                plaintext.raw(),
                encryption_algorithm.raw(),
            ),
            js,
        )
    }

    /// `encryptAsymmetric` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, plaintext: Uint8Array, encryptionAlgorithm: string",
        ts_return_type = "Buffer"
    )]
    pub fn encrypt_asymmetric_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        plaintext: Unknown<'_>,
        encryption_algorithm: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::encrypt_asymmetric(
                ring,
                js,
                key_id.raw(),
                plaintext.raw(),
                encryption_algorithm.raw(),
            ),
        )
    }

    /// Decrypts an RSA-OAEP ciphertext made with the public half of `keyId` (by Keyplane or by
    /// `crypto.publicEncrypt`). Any failure is `KP_INVALID_CIPHERTEXT`.
    #[napi(
        ts_args_type = "keyId: string, ciphertext: Uint8Array, encryptionAlgorithm: string",
        ts_return_type = "Promise<Buffer>"
    )]
    pub fn decrypt_asymmetric(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        ciphertext: Unknown<'_>,
        encryption_algorithm: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            ops::decrypt_asymmetric(
                ring,
                js,
                key_id.raw(),
                ciphertext.raw(),
                encryption_algorithm.raw(),
            ),
            js,
        )
    }

    /// `decryptAsymmetric` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, ciphertext: Uint8Array, encryptionAlgorithm: string",
        ts_return_type = "Buffer"
    )]
    pub fn decrypt_asymmetric_sync(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        ciphertext: Unknown<'_>,
        encryption_algorithm: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            ops::decrypt_asymmetric(
                ring,
                js,
                key_id.raw(),
                ciphertext.raw(),
                encryption_algorithm.raw(),
            ),
        )
    }

    /// Batch form of `encrypt`: one result per item, in order; a failed item's slot holds its
    /// `Error`. Either an array of items, or a key id, an array of plaintexts and one context
    /// for them all (the same-key form, which reads its input with the fewest Node-API calls).
    #[napi(
        ts_args_type = "keyId: string, plaintexts: Array<Uint8Array>, context?: Record<string, string> | null): Promise<Array<Buffer | KeyplaneError>>\n  /** `encryptMany` with one item object (key id, plaintext, context) per plaintext. */\n  encryptMany(items: Array<EncryptItem>",
        ts_return_type = "Promise<Array<Buffer | KeyplaneError>>"
    )]
    pub fn encrypt_many(
        &self,
        env: Env,
        items_or_key_id: Unknown<'_>,
        plaintexts: Unknown<'_>,
        context: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            encrypt_many(ring, js, items_or_key_id, plaintexts, context),
            js,
        )
    }

    /// `encryptMany` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "keyId: string, plaintexts: Array<Uint8Array>, context?: Record<string, string> | null): Array<Buffer | KeyplaneError>\n  /** `encryptManySync` with one item object (key id, plaintext, context) per plaintext. */\n  encryptManySync(items: Array<EncryptItem>",
        ts_return_type = "Array<Buffer | KeyplaneError>"
    )]
    pub fn encrypt_many_sync(
        &self,
        env: Env,
        items_or_key_id: Unknown<'_>,
        plaintexts: Unknown<'_>,
        context: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            encrypt_many(ring, js, items_or_key_id, plaintexts, context),
        )
    }

    /// Batch form of `decrypt`: one result per item, in order; a failed item's slot holds its
    /// `Error`. Either an array of items, or an array of blobs and one context for them all.
    #[napi(
        ts_args_type = "blobs: Array<Uint8Array>, context?: Record<string, string> | null): Promise<Array<Buffer | KeyplaneError>>\n  /** `decryptMany` with one item object (blob, context) per blob. */\n  decryptMany(items: Array<DecryptItem>",
        ts_return_type = "Promise<Array<Buffer | KeyplaneError>>"
    )]
    pub fn decrypt_many(
        &self,
        env: Env,
        items_or_blobs: Unknown<'_>,
        context: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(decrypt_many(ring, js, items_or_blobs, context), js)
    }

    /// `decryptMany` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "blobs: Array<Uint8Array>, context?: Record<string, string> | null): Array<Buffer | KeyplaneError>\n  /** `decryptManySync` with one item object (blob, context) per blob. */\n  decryptManySync(items: Array<DecryptItem>",
        ts_return_type = "Array<Buffer | KeyplaneError>"
    )]
    pub fn decrypt_many_sync(
        &self,
        env: Env,
        items_or_blobs: Unknown<'_>,
        context: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, decrypt_many(ring, js, items_or_blobs, context))
    }

    /// Batch form of `reEncrypt`: one result per item, in order; a failed item's slot holds its `Error`.
    #[napi(
        ts_args_type = "items: Array<ReEncryptItem>",
        ts_return_type = "Promise<Array<Buffer | KeyplaneError>>"
    )]
    pub fn re_encrypt_many(&self, env: Env, items: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(batch::re_encrypt_many(ring, js, items.raw()), js)
    }

    /// `reEncryptMany` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "items: Array<ReEncryptItem>",
        ts_return_type = "Array<Buffer | KeyplaneError>"
    )]
    pub fn re_encrypt_many_sync(&self, env: Env, items: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, batch::re_encrypt_many(ring, js, items.raw()))
    }

    /// Batch form of `generateDataKey`: one result per item, in order; a failed item's slot holds its `Error`.
    #[napi(
        ts_args_type = "items: Array<DataKeyItem>",
        ts_return_type = "Promise<Array<DataKey | KeyplaneError>>"
    )]
    pub fn generate_data_key_many(&self, env: Env, items: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            batch::generate_data_key_many(ring, js, items.raw(), true),
            js,
        )
    }

    /// `generateDataKeyMany` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "items: Array<DataKeyItem>",
        ts_return_type = "Array<DataKey | KeyplaneError>"
    )]
    pub fn generate_data_key_many_sync(&self, env: Env, items: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            batch::generate_data_key_many(ring, js, items.raw(), true),
        )
    }

    /// Batch form of `generateDataKeyWithoutPlaintext`: one result per item, in order; a failed item's
    /// slot holds its `Error`.
    #[napi(
        ts_args_type = "items: Array<DataKeyItem>",
        ts_return_type = "Promise<Array<Buffer | KeyplaneError>>"
    )]
    pub fn generate_data_key_without_plaintext_many(
        &self,
        env: Env,
        items: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(
            batch::generate_data_key_many(ring, js, items.raw(), false),
            js,
        )
    }

    /// `generateDataKeyWithoutPlaintextMany` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "items: Array<DataKeyItem>",
        ts_return_type = "Array<Buffer | KeyplaneError>"
    )]
    pub fn generate_data_key_without_plaintext_many_sync(
        &self,
        env: Env,
        items: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            batch::generate_data_key_many(ring, js, items.raw(), false),
        )
    }

    /// Batch form of `generateMac`: one result per item, in order; a failed item's slot holds its `Error`.
    #[napi(
        ts_args_type = "items: Array<MacItem>",
        ts_return_type = "Promise<Array<Buffer | KeyplaneError>>"
    )]
    pub fn generate_mac_many(&self, env: Env, items: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(batch::generate_mac_many(ring, js, items.raw()), js)
    }

    /// `generateMacMany` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "items: Array<MacItem>",
        ts_return_type = "Array<Buffer | KeyplaneError>"
    )]
    pub fn generate_mac_many_sync(&self, env: Env, items: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, batch::generate_mac_many(ring, js, items.raw()))
    }

    /// Batch form of `verifyMac`: one result per item, in order; a failed item's slot holds its `Error`.
    #[napi(
        ts_args_type = "items: Array<VerifyMacItem>",
        ts_return_type = "Promise<Array<boolean | KeyplaneError>>"
    )]
    pub fn verify_mac_many(&self, env: Env, items: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(batch::verify_mac_many(ring, js, items.raw()), js)
    }

    /// `verifyMacMany` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "items: Array<VerifyMacItem>",
        ts_return_type = "Array<boolean | KeyplaneError>"
    )]
    pub fn verify_mac_many_sync(&self, env: Env, items: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, batch::verify_mac_many(ring, js, items.raw()))
    }

    /// Batch form of `sign`: one result per item, in order; a failed item's slot holds its `Error`.
    #[napi(
        ts_args_type = "items: Array<SignItem>",
        ts_return_type = "Promise<Array<Buffer | KeyplaneError>>"
    )]
    pub fn sign_many(&self, env: Env, items: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(batch::sign_many(ring, js, items.raw()), js)
    }

    /// `signMany` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "items: Array<SignItem>",
        ts_return_type = "Array<Buffer | KeyplaneError>"
    )]
    pub fn sign_many_sync(&self, env: Env, items: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, batch::sign_many(ring, js, items.raw()))
    }

    /// Batch form of `verify`: one result per item, in order; a failed item's slot holds its `Error`.
    #[napi(
        ts_args_type = "items: Array<VerifyItem>",
        ts_return_type = "Promise<Array<boolean | KeyplaneError>>"
    )]
    pub fn verify_many(&self, env: Env, items: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(batch::verify_many(ring, js, items.raw()), js)
    }

    /// `verifyMany` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "items: Array<VerifyItem>",
        ts_return_type = "Array<boolean | KeyplaneError>"
    )]
    pub fn verify_many_sync(&self, env: Env, items: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, batch::verify_many(ring, js, items.raw()))
    }
}

/// Hooks for the known-answer vector replay: caller-chosen key material and nonces. Built only
/// with the `insecure-test-hooks` feature, never in the shipped addon.
#[cfg(feature = "insecure-test-hooks")]
#[napi]
impl Keyring {
    /// INSECURE, tests only: a symmetric key whose versions 1, 2, … have these root materials.
    #[napi(
        js_name = "_insecureCreateKeyWithMaterial",
        ts_args_type = "keyId: string, roots: Array<Uint8Array>",
        ts_return_type = "KeyMetadata"
    )]
    pub fn insecure_create_key_with_material(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        roots: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            hooks::create_key_with_material(ring, js, key_id.raw(), roots.raw()),
        )
    }

    /// INSECURE, tests only: a key of any spec from caller-chosen material (32 bytes of root
    /// material, an HMAC secret, or a PKCS#8 private key).
    #[napi(
        js_name = "_insecureImportKeyMaterial",
        ts_args_type = "keyId: string, keySpec: string, keyUsage: string, material: Uint8Array",
        ts_return_type = "KeyMetadata"
    )]
    pub fn insecure_import_key_material(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        key_spec: Unknown<'_>,
        key_usage: Unknown<'_>,
        material: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            hooks::import_key_material(
                ring,
                js,
                key_id.raw(),
                key_spec.raw(),
                key_usage.raw(),
                material.raw(),
            ),
        )
    }

    /// INSECURE, tests only: encrypts under a chosen version with a chosen nonce.
    #[napi(
        js_name = "_insecureEncryptWithNonce",
        ts_args_type = "keyId: string, version: number, nonce: Uint8Array, plaintext: Uint8Array, context?: Record<string, string> | null",
        ts_return_type = "Buffer"
    )]
    pub fn insecure_encrypt_with_nonce(
        &self,
        env: Env,
        key_id: Unknown<'_>,
        version: Unknown<'_>,
        nonce: Unknown<'_>,
        plaintext: Unknown<'_>,
        context: Unknown<'_>,
    ) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(
            js,
            hooks::encrypt_with_nonce(
                ring,
                js,
                key_id.raw(),
                version.raw(),
                nonce.raw(),
                plaintext.raw(),
                context.raw(),
            ),
        )
    }
}

#[cfg(feature = "insecure-test-hooks")]
mod hooks {
    use keyplane::{KeySpec, KeyUsage, Keyring};
    use napi::sys;

    use crate::error::Failure;
    use crate::job::{Work, work};
    use crate::js::Js;
    use crate::ops::ctx;
    use crate::types::{Bytes, KeyMetadata};

    type R<T> = Result<T, Failure>;

    fn array32(js: Js, v: sys::napi_value, what: &str) -> R<[u8; 32]> {
        let b = js.bytes_owned(v, what)?;
        <[u8; 32]>::try_from(b.as_slice()).map_err(|_| {
            Failure::Core(keyplane::Error::InvalidInput(
                "root material must be 32 bytes",
            ))
        })
    }

    pub(super) fn create_key_with_material(
        ring: Keyring,
        js: Js,
        key_id: sys::napi_value,
        roots: sys::napi_value,
    ) -> R<Work> {
        let key_id = js.string(key_id, "keyId")?;
        let roots = js
            .array(roots, "roots", 1 << 16)?
            .into_iter()
            .map(|r| array32(js, r, "roots[]"))
            .collect::<R<Vec<_>>>()?;
        Ok(work(move || {
            Ok(KeyMetadata::from(
                ring.insecure_create_key_with_material(&key_id, &roots)?,
            ))
        }))
    }

    pub(super) fn import_key_material(
        ring: Keyring,
        js: Js,
        key_id: sys::napi_value,
        spec: sys::napi_value,
        usage: sys::napi_value,
        material: sys::napi_value,
    ) -> R<Work> {
        let key_id = js.string(key_id, "keyId")?;
        let spec: KeySpec = js.parse(spec, "keySpec")?;
        let usage: KeyUsage = js.parse(usage, "keyUsage")?;
        let material = js.bytes_owned(material, "material")?;
        Ok(work(move || {
            Ok(KeyMetadata::from(ring.insecure_import_key_material(
                &key_id, spec, usage, &material,
            )?))
        }))
    }

    pub(super) fn encrypt_with_nonce(
        ring: Keyring,
        js: Js,
        key_id: sys::napi_value,
        version: sys::napi_value,
        nonce: sys::napi_value,
        plaintext: sys::napi_value,
        context: sys::napi_value,
    ) -> R<Work> {
        let key_id = js.string(key_id, "keyId")?;
        let version: u32 = js.uint_as(version, "version")?;
        let context = js.context(context, "context")?;
        let nonce = js.bytes_owned(nonce, "nonce")?;
        let nonce = <[u8; 12]>::try_from(nonce.as_slice())
            .map_err(|_| Failure::Core(keyplane::Error::InvalidInput("nonce must be 12 bytes")))?;
        let plaintext = js.bytes_owned(plaintext, "plaintext")?;
        Ok(work(move || {
            Ok(Bytes(ring.insecure_encrypt_with_nonce(
                &key_id,
                version,
                nonce,
                &plaintext,
                ctx(&context),
            )?))
        }))
    }
}
