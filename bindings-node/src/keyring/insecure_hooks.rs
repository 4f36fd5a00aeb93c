//! Hooks for the known-answer vector replay: caller-chosen key material and nonces. Built only
//! with the `insecure-test-hooks` feature, never in the shipped addon.

use napi::bindgen_prelude::Unknown;
use napi::{Env, JsValue, Result};
use napi_derive::napi;

use super::{Keyring, run};
use crate::js::{Js, JsAny};

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
        ts_args_type = "keyId: string, version: number, nonce: Uint8Array, plaintext: Uint8Array, context?: Record<string, string> | EncryptionContext | null",
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
