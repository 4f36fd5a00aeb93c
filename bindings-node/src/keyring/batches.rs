//! The batch forms (`…Many`): one result per item, in order; a failed item's slot holds its
//! `Error`.

use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, JsValue, Result};
use napi_derive::napi;

use super::{Keyring, run};
use crate::batch;
use crate::error::Failure;
use crate::job::{Job, Work};
use crate::js::{Js, JsAny};

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

#[napi]
impl Keyring {
    /// Batch form of `encrypt`: one result per item, in order; a failed item's slot holds its
    /// `Error`. Either an array of items, or a key id, an array of plaintexts and one context
    /// for them all (the same-key form, which reads its input with the fewest Node-API calls).
    #[napi(
        ts_args_type = "keyId: string, plaintexts: Array<Uint8Array>, context?: Record<string, string> | EncryptionContext | null): Promise<Array<Buffer | KeyplaneError>>\n  /** `encryptMany` with one item object (key id, plaintext, context) per plaintext. */\n  encryptMany(items: Array<EncryptItem>",
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
        ts_args_type = "keyId: string, plaintexts: Array<Uint8Array>, context?: Record<string, string> | EncryptionContext | null): Array<Buffer | KeyplaneError>\n  /** `encryptManySync` with one item object (key id, plaintext, context) per plaintext. */\n  encryptManySync(items: Array<EncryptItem>",
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
        ts_args_type = "blobs: Array<Uint8Array>, context?: Record<string, string> | EncryptionContext | null): Promise<Array<Buffer | KeyplaneError>>\n  /** `decryptMany` with one item object (blob, context) per blob. */\n  decryptMany(items: Array<DecryptItem>",
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
        ts_args_type = "blobs: Array<Uint8Array>, context?: Record<string, string> | EncryptionContext | null): Array<Buffer | KeyplaneError>\n  /** `decryptManySync` with one item object (blob, context) per blob. */\n  decryptManySync(items: Array<DecryptItem>",
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
