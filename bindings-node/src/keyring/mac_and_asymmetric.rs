//! MACs under HMAC keys, and the asymmetric operations: signing and verifying, public
//! keys, and RSA-OAEP encryption and decryption.

use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, JsValue, Result};
use napi_derive::napi;

use super::{Keyring, run};
use crate::job::Job;
use crate::js::{Js, JsAny};
use crate::{hot, ops};

#[napi]
impl Keyring {
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
}
