//! The symmetric data plane: `encrypt` and `decrypt` (with their no-allocation `…IntoSync`
//! forms and length helpers), `reEncrypt`, data keys, data key pairs, and random bytes.

use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, JsValue, Result};
use napi_derive::napi;

use super::{Keyring, run};
use crate::job::Job;
use crate::js::{Js, JsAny};
use crate::{hot, ops};

#[napi]
impl Keyring {
    /// Encrypts `plaintext` under the newest version of `keyId` (a key id or `alias/...`), binding the
    /// encryption context as authenticated data. Returns the ciphertext blob, which names its key and
    /// version; `decrypt` needs the same context.
    #[napi(
        ts_args_type = "keyId: string, plaintext: Uint8Array, context?: Record<string, string> | EncryptionContext | null",
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
        ts_args_type = "keyId: string, plaintext: Uint8Array, context?: Record<string, string> | EncryptionContext | null",
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
        ts_args_type = "blob: Uint8Array, context?: Record<string, string> | EncryptionContext | null",
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
        ts_args_type = "blob: Uint8Array, context?: Record<string, string> | EncryptionContext | null",
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
        ts_args_type = "keyId: string, plaintext: Uint8Array, output: Uint8Array, context?: Record<string, string> | EncryptionContext | null",
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
        ts_args_type = "blob: Uint8Array, output: Uint8Array, context?: Record<string, string> | EncryptionContext | null",
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
        ts_args_type = "keyId: string, keyPairSpec: string, context?: Record<string, string> | EncryptionContext | null",
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
        ts_args_type = "keyId: string, keyPairSpec: string, context?: Record<string, string> | EncryptionContext | null",
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
        ts_args_type = "keyId: string, keyPairSpec: string, context?: Record<string, string> | EncryptionContext | null",
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
        ts_args_type = "keyId: string, keyPairSpec: string, context?: Record<string, string> | EncryptionContext | null",
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
}
