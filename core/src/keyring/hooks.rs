//! Hooks for known-answer vectors, compiled only with the `insecure-test-hooks` feature.

use std::sync::atomic::Ordering;
use std::time::Duration;

use zeroize::Zeroizing;

use super::Keyring;
use super::symmetric::seal_with_nonce;
use crate::aead::NONCE_LEN;
use crate::context::EncryptionContext;
use crate::envelope::{FORMAT_V1, FORMAT_V2};
use crate::error::{Error, Result};
use crate::key::{CreateKey, KeyMetadata};
use crate::spec::{KeySpec, KeyUsage, Origin};

/// Hooks for generating and checking known-answer vectors. **Insecure**: a caller-chosen nonce
/// repeated under one key reveals plaintext, and caller-chosen root material is not secret.
#[cfg(feature = "insecure-test-hooks")]
impl Keyring {
    /// Creates a symmetric key whose versions 1, 2, … have exactly these root materials, as
    /// if Keyplane had generated and rotated it (origin `KEYPLANE`: an imported key has one
    /// version).
    ///
    /// # Errors
    /// As [`create_key`](Self::create_key).
    pub fn insecure_create_key_with_material(
        &self,
        key_id: &str,
        roots: &[[u8; crate::aead::KEY_LEN]],
    ) -> Result<KeyMetadata> {
        let roots: Vec<_> = roots.iter().map(|r| Zeroizing::new(r.to_vec())).collect();
        self.create_key_with_material(
            &CreateKey::new(KeySpec::SymmetricDefault).key_id(key_id),
            Origin::Keyplane,
            &roots,
        )
    }

    /// Creates a key of any spec from caller-chosen material: 32 bytes of root material
    /// (`SYMMETRIC_DEFAULT`), the HMAC secret (`HMAC_*`) or a PKCS#8 private key. The key is
    /// an imported one (origin `EXTERNAL`), as if the material had been imported.
    ///
    /// # Errors
    /// As [`create_key`](Self::create_key); [`Error::InvalidInput`] for material that does not
    /// fit the spec.
    pub fn insecure_import_key_material(
        &self,
        key_id: &str,
        spec: KeySpec,
        usage: KeyUsage,
        material: &[u8],
    ) -> Result<KeyMetadata> {
        self.create_key_with_material(
            &CreateKey::new(spec).key_id(key_id).usage(usage),
            Origin::External,
            &[Zeroizing::new(material.to_vec())],
        )
    }

    /// Moves the clock that import tokens' and imported material's expiry (`valid_to`) are
    /// checked against `by` into the future, so tests see tokens and material expire without
    /// waiting for them (and without racing the system clock).
    pub fn insecure_age_import_parameters(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.inner
            .import_clock_ahead
            .fetch_add(nanos, Ordering::Relaxed);
    }

    /// Encrypts under a chosen version with a chosen nonce, in format `0x01`.
    ///
    /// # Errors
    /// As [`encrypt`](Self::encrypt); [`Error::NotFound`] for an unknown version.
    pub fn insecure_encrypt_with_nonce(
        &self,
        key_id: &str,
        version: u32,
        nonce: [u8; NONCE_LEN],
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        self.insecure_encrypt_in_format(FORMAT_V1, key_id, version, nonce, plaintext, context)
    }

    /// Encrypts under a chosen version with a chosen nonce, in `format` (`0x01` or `0x02`; a
    /// FIPS build writes `0x02` with a nonce the module draws, which no vector can fix).
    ///
    /// # Errors
    /// As [`insecure_encrypt_with_nonce`](Self::insecure_encrypt_with_nonce);
    /// [`Error::InvalidInput`] for another format.
    pub fn insecure_encrypt_in_format(
        &self,
        format: u8,
        key_id: &str,
        version: u32,
        nonce: [u8; NONCE_LEN],
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        if format != FORMAT_V1 && format != FORMAT_V2 {
            return Err(Error::InvalidInput("unknown blob format"));
        }
        let key = self.resolve(key_id)?;
        key.require_symmetric()?;
        let v = key.versions.get(version).ok_or(Error::NotFound)?;
        let mut out = vec![0; self.ciphertext_len(key_id, plaintext.len())?];
        seal_with_nonce(format, &key.id, v, nonce, plaintext, context, &mut out)?;
        Ok(out)
    }
}
