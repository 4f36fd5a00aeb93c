//! Key material in and out of the keyring: sealed records (`exportSealed`, `importSealed`)
//! and bringing your own material (`getParametersForImport`, `importKeyMaterial`,
//! `deleteImportedKeyMaterial`).

use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, JsValue, Result};
use napi_derive::napi;

use super::{Keyring, run};
use crate::job::Job;
use crate::js::{Js, JsAny};
use crate::{ops, seal};

#[napi]
impl Keyring {
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
}
