//! The envelope data plane: encrypt, decrypt and re-encrypt under symmetric keys, data keys and
//! data key pairs, random bytes, and the blob and plaintext sizes.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use zeroize::Zeroizing;

use crate::classes::{PyDataKey, PyDataKeyPair, PyDataKeyPairWithoutPlaintext};
use crate::context::Ctx;
use crate::convert::{self, Buf, Text, count, filled_bytes};
use crate::errors::{KpError, KpResult};
use crate::keyring::PyKeyring;

impl PyKeyring {
    fn encrypt_bytes<'py>(
        &self,
        py: Python<'py>,
        key_id: &str,
        plaintext: &[u8],
        context: &keyplane::EncryptionContext,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let ring = &self.ring;
        // A key id's blob length follows from the id; only an alias needs a look-up.
        let len = if key_id.starts_with(keyplane::keyring::ALIAS_PREFIX) {
            ring.ciphertext_len(key_id, plaintext.len())
                .map_err(KpError)?
        } else {
            keyplane::envelope::ciphertext_len(key_id.len(), plaintext.len()).ok_or(KpError(
                keyplane::Error::LimitExceeded("plaintext too large"),
            ))?
        };
        let mut outcome = Ok(0);
        let bytes = PyBytes::new_with(py, len, |buf| {
            outcome = py.detach(|| ring.encrypt_into(key_id, plaintext, context, buf));
            Ok(())
        })?;
        match outcome {
            Ok(n) if n == len => Ok(bytes),
            Ok(n) => Ok(PyBytes::new(
                py,
                bytes
                    .as_bytes()
                    .get(..n)
                    .ok_or(KpError(keyplane::Error::Internal))?,
            )),
            // The alias moved to a key with a longer id between sizing and encrypting.
            Err(keyplane::Error::BufferTooSmall { .. }) => {
                let blob = py
                    .detach(|| ring.encrypt(key_id, plaintext, context))
                    .map_err(KpError)?;
                Ok(PyBytes::new(py, &blob))
            }
            Err(e) => Err(KpError(e).into()),
        }
    }
}

#[pymethods]
impl PyKeyring {
    // ----- symmetric encryption -------------------------------------------------------------

    /// Encrypts ``plaintext`` (any bytes-like object) under the newest version of ``key_id``
    /// (or alias) and returns the blob. ``context`` (a ``dict[str, str]`` or
    /// ``EncryptionContext``) is bound as authenticated data and must be given again to
    /// decrypt.
    #[pyo3(signature = (key_id, plaintext, context=None))]
    fn encrypt<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        plaintext: Buf<'py>,
        context: Option<Ctx<'py>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let context = context.unwrap_or(Ctx::Empty);
        self.encrypt_bytes(py, &key_id, plaintext.as_slice(), context.get())
    }

    /// Decrypts a blob made by ``encrypt``; the blob names its key and version. ``context``
    /// must equal the one given to encrypt. Any failure to authenticate is
    /// ``InvalidCiphertextError``, with no detail.
    #[pyo3(signature = (blob, context=None))]
    fn decrypt<'py>(
        &self,
        py: Python<'py>,
        blob: Buf<'py>,
        context: Option<Ctx<'py>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let context = context.unwrap_or(Ctx::Empty);
        let (blob, context, ring) = (blob.as_slice(), context.get(), &self.ring);
        let len = ring.plaintext_len(blob).map_err(KpError)?;
        filled_bytes(py, len, |out| ring.decrypt_into(blob, context, out))
    }

    /// Decrypts ``blob`` (made with ``source_context``) and encrypts its plaintext under
    /// ``destination_key_id`` with ``destination_context``; the plaintext never leaves Keyplane.
    #[pyo3(signature = (blob, destination_key_id, *, source_context=None, destination_context=None))]
    fn re_encrypt<'py>(
        &self,
        py: Python<'py>,
        blob: Buf<'py>,
        destination_key_id: Text,
        source_context: Option<Ctx<'py>>,
        destination_context: Option<Ctx<'py>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let source = source_context.unwrap_or(Ctx::Empty);
        let destination = destination_context.unwrap_or(Ctx::Empty);
        let (blob, source, destination) = (blob.as_slice(), source.get(), destination.get());
        let ring = &self.ring;
        let out = py
            .detach(|| ring.re_encrypt(blob, source, &destination_key_id, destination))
            .map_err(KpError)?;
        Ok(PyBytes::new(py, &out))
    }

    /// A fresh data key: its plaintext and the same bytes encrypted under ``key_id``.
    /// ``key_spec`` is ``"AES_256"`` (the default) or ``"AES_128"``; or give
    /// ``number_of_bytes`` (1 to 1024) instead.
    #[pyo3(signature = (key_id, key_spec=None, *, number_of_bytes=None, context=None))]
    fn generate_data_key<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        key_spec: Option<Text>,
        number_of_bytes: Option<&Bound<'py, PyAny>>,
        context: Option<Ctx<'py>>,
    ) -> PyResult<PyDataKey> {
        let spec = convert::data_key_spec(key_spec.as_deref(), number_of_bytes)?;
        let context = context.unwrap_or(Ctx::Empty);
        let (context, ring) = (context.get(), &self.ring);
        let data_key = py
            .detach(|| ring.generate_data_key(&key_id, spec, context))
            .map_err(KpError)?;
        Ok(PyDataKey::new(
            py,
            data_key.key_id().to_owned(),
            data_key.plaintext(),
            data_key.ciphertext_blob(),
        ))
    }

    /// A fresh data key encrypted under ``key_id``, without its plaintext: the blob only.
    #[pyo3(signature = (key_id, key_spec=None, *, number_of_bytes=None, context=None))]
    fn generate_data_key_without_plaintext<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        key_spec: Option<Text>,
        number_of_bytes: Option<&Bound<'py, PyAny>>,
        context: Option<Ctx<'py>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let spec = convert::data_key_spec(key_spec.as_deref(), number_of_bytes)?;
        let context = context.unwrap_or(Ctx::Empty);
        let (context, ring) = (context.get(), &self.ring);
        let blob = py
            .detach(|| ring.generate_data_key_without_plaintext(&key_id, spec, context))
            .map_err(KpError)?;
        Ok(PyBytes::new(py, &blob))
    }

    /// A fresh key pair (``key_pair_spec``: ``"ECC_NIST_P256"``, ``"RSA_2048"``, …) whose
    /// PKCS#8 private key is returned in plaintext and encrypted under the symmetric key
    /// ``key_id``. RSA generation runs with the GIL released.
    #[pyo3(signature = (key_id, key_pair_spec, *, context=None))]
    fn generate_data_key_pair<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        key_pair_spec: Text,
        context: Option<Ctx<'py>>,
    ) -> PyResult<PyDataKeyPair> {
        let spec = convert::data_key_pair_spec(&key_pair_spec)?;
        let context = context.unwrap_or(Ctx::Empty);
        let (context, ring) = (context.get(), &self.ring);
        let pair = py
            .detach(|| ring.generate_data_key_pair(&key_id, spec, context))
            .map_err(KpError)?;
        Ok(PyDataKeyPair::new(py, &pair))
    }

    /// As ``generate_data_key_pair``, without the plaintext private key.
    #[pyo3(signature = (key_id, key_pair_spec, *, context=None))]
    fn generate_data_key_pair_without_plaintext<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        key_pair_spec: Text,
        context: Option<Ctx<'py>>,
    ) -> PyResult<PyDataKeyPairWithoutPlaintext> {
        let spec = convert::data_key_pair_spec(&key_pair_spec)?;
        let context = context.unwrap_or(Ctx::Empty);
        let (context, ring) = (context.get(), &self.ring);
        let pair = py
            .detach(|| ring.generate_data_key_pair_without_plaintext(&key_id, spec, context))
            .map_err(KpError)?;
        Ok(PyDataKeyPairWithoutPlaintext::new(py, &pair))
    }

    /// ``number_of_bytes`` (1 to 1024) bytes from the system's cryptographic random number
    /// generator.
    fn generate_random<'py>(
        &self,
        py: Python<'py>,
        number_of_bytes: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let n = count(number_of_bytes, "number_of_bytes")?;
        let ring = &self.ring;
        let random = Zeroizing::new(py.detach(|| ring.generate_random(n)).map_err(KpError)?);
        Ok(PyBytes::new(py, &random))
    }

    // ----- sizes ------------------------------------------------------------------------------

    /// The blob length ``encrypt`` returns for ``plaintext_len`` bytes under ``key_id``.
    fn ciphertext_len(
        &self,
        py: Python<'_>,
        key_id: Text,
        plaintext_len: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        let n = count(plaintext_len, "plaintext_len")?;
        Ok(py
            .detach(|| self.ring.ciphertext_len(&key_id, n))
            .map_err(KpError)?)
    }

    /// The plaintext length ``decrypt`` returns for ``blob``.
    fn plaintext_len(&self, blob: Buf<'_>) -> KpResult<usize> {
        Ok(self.ring.plaintext_len(blob.as_slice())?)
    }
}
