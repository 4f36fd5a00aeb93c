//! Key administration: creating, describing and listing keys, enabling and disabling them,
//! scheduling and cancelling deletion, aliases, rotation and its policy.

use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, JsValue, Result};
use napi_derive::napi;

use super::{Keyring, run};
use crate::job::Job;
use crate::js::{Js, JsAny};
use crate::ops;

#[napi]
impl Keyring {
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
}
