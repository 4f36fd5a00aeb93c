//! Operations of the keys that are not envelope keys: HMAC (generate and verify MACs),
//! signatures (sign, verify, public keys) and RSA-OAEP encryption.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::classes::PyPublicKey;
use crate::convert::{self, Buf, Text, filled_bytes, message_type_or_raw};
use crate::errors::{KpError, KpResult};
use crate::keyring::PyKeyring;

#[pymethods]
impl PyKeyring {
    // ----- MACs -------------------------------------------------------------------------------

    /// The MAC of ``message`` under the HMAC key ``key_id``; ``algorithm`` must be the key's
    /// (``"HMAC_SHA_256"`` for an ``HMAC_256`` key, …).
    fn generate_mac<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        message: Buf<'py>,
        algorithm: Text,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let algorithm = convert::mac_algorithm(&algorithm)?;
        let (message, ring) = (message.as_slice(), &self.ring);
        filled_bytes(py, algorithm.mac_len(), |out| {
            ring.generate_mac_into(&key_id, message, algorithm, out)
        })
    }

    /// Whether ``mac`` is the MAC of ``message``: ``False`` for any mismatch (compared in
    /// constant time).
    fn verify_mac<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        message: Buf<'py>,
        mac: Buf<'py>,
        algorithm: Text,
    ) -> PyResult<bool> {
        let algorithm = convert::mac_algorithm(&algorithm)?;
        let (message, mac, ring) = (message.as_slice(), mac.as_slice(), &self.ring);
        Ok(py
            .detach(|| ring.verify_mac(&key_id, message, algorithm, mac))
            .map_err(KpError)?)
    }

    /// The largest MAC ``key_id`` produces.
    fn mac_len(&self, py: Python<'_>, key_id: Text) -> KpResult<usize> {
        Ok(py.detach(|| self.ring.mac_len(&key_id))?)
    }

    // ----- signing ----------------------------------------------------------------------------

    /// Signs ``message`` with the signing key ``key_id``. ``algorithm`` is an AWS KMS signing
    /// algorithm the key allows (``"ECDSA_SHA_256"``, ``"RSASSA_PSS_SHA_256"``, …);
    /// ``message_type="DIGEST"`` signs a digest you computed. ECDSA signatures are DER.
    #[pyo3(
        signature = (key_id, message, algorithm, *, message_type=None),
        text_signature = "(self, key_id, message, algorithm, *, message_type='RAW')"
    )]
    fn sign<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        message: Buf<'py>,
        algorithm: Text,
        message_type: Option<Text>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let algorithm = convert::signing_algorithm(&algorithm)?;
        let message_type = message_type_or_raw(message_type.as_deref())?;
        let (message, ring) = (message.as_slice(), &self.ring);
        let mut signature = [0u8; keyplane::sign::MAX_SIGNATURE_LEN];
        let n = py
            .detach(|| ring.sign_into(&key_id, message, message_type, algorithm, &mut signature))
            .map_err(KpError)?;
        let signature = signature
            .get(..n)
            .ok_or(KpError(keyplane::Error::Internal))?;
        Ok(PyBytes::new(py, signature))
    }

    /// Whether ``signature`` is a valid signature of ``message`` (or, with
    /// ``message_type="DIGEST"``, of that digest): ``False`` for any invalid or malformed
    /// signature.
    #[pyo3(
        signature = (key_id, message, signature, algorithm, *, message_type=None),
        text_signature = "(self, key_id, message, signature, algorithm, *, message_type='RAW')"
    )]
    fn verify<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        message: Buf<'py>,
        signature: Buf<'py>,
        algorithm: Text,
        message_type: Option<Text>,
    ) -> PyResult<bool> {
        let algorithm = convert::signing_algorithm(&algorithm)?;
        let message_type = message_type_or_raw(message_type.as_deref())?;
        let (message, signature, ring) = (message.as_slice(), signature.as_slice(), &self.ring);
        Ok(py
            .detach(|| ring.verify(&key_id, message, message_type, algorithm, signature))
            .map_err(KpError)?)
    }

    /// The longest signature ``key_id`` can produce.
    fn max_signature_len(&self, py: Python<'_>, key_id: Text) -> KpResult<usize> {
        Ok(py.detach(|| self.ring.max_signature_len(&key_id))?)
    }

    /// The public half of an asymmetric key (DER ``SubjectPublicKeyInfo``) and what it may be
    /// used for.
    fn get_public_key(&self, py: Python<'_>, key_id: Text) -> KpResult<PyPublicKey> {
        Ok(PyPublicKey::new(
            py.detach(|| self.ring.get_public_key(&key_id))?,
        ))
    }

    // ----- RSA-OAEP ---------------------------------------------------------------------------

    /// Encrypts ``plaintext`` with the public half of an RSA ``ENCRYPT_DECRYPT`` key
    /// (``algorithm``: ``"RSAES_OAEP_SHA_256"`` or ``"RSAES_OAEP_SHA_1"``).
    fn encrypt_asymmetric<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        plaintext: Buf<'py>,
        algorithm: Text,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let algorithm = convert::encryption_algorithm(&algorithm)?;
        let (plaintext, ring) = (plaintext.as_slice(), &self.ring);
        let ciphertext = py
            .detach(|| ring.encrypt_asymmetric(&key_id, plaintext, algorithm))
            .map_err(KpError)?;
        Ok(PyBytes::new(py, &ciphertext))
    }

    /// Decrypts an RSA-OAEP ``ciphertext`` made with the public half of ``key_id``. Any
    /// failure is ``InvalidCiphertextError``.
    fn decrypt_asymmetric<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        ciphertext: Buf<'py>,
        algorithm: Text,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let algorithm = convert::encryption_algorithm(&algorithm)?;
        let (ciphertext, ring) = (ciphertext.as_slice(), &self.ring);
        let plaintext = py
            .detach(|| ring.decrypt_asymmetric(&key_id, ciphertext, algorithm))
            .map_err(KpError)?;
        Ok(PyBytes::new(py, &plaintext))
    }

    /// The longest plaintext ``algorithm`` can encrypt under ``key_id``.
    fn max_asymmetric_plaintext_len(
        &self,
        py: Python<'_>,
        key_id: Text,
        algorithm: Text,
    ) -> PyResult<usize> {
        let algorithm = convert::encryption_algorithm(&algorithm)?;
        Ok(py
            .detach(|| self.ring.max_asymmetric_plaintext_len(&key_id, algorithm))
            .map_err(KpError)?)
    }
}
