//! Key material that comes from, or goes to, outside the keyring: sealed key records (export
//! and import under a root key) and the import of wrapped material of your own (BYOK).

use std::time::SystemTime;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::classes::{PyImportParameters, PyKeyMetadata, PyLocalRootKey};
use crate::convert::{self, Buf, Text};
use crate::errors::{KpError, KpResult};
use crate::keyring::PyKeyring;

#[pymethods]
impl PyKeyring {
    // ----- sealed key records ---------------------------------------------------------------

    /// The key ``key_id`` (every version, its metadata, state, aliases and policy) as a sealed
    /// record: envelope-encrypted under ``root`` (a ``LocalRootKey``), for backup or
    /// replication. The format is in FORMAT.md.
    fn export_sealed<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        root: &Bound<'py, PyLocalRootKey>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (ring, root) = (&self.ring, &*root.get().inner);
        let record = py
            .detach(|| ring.export_sealed(&key_id, root))
            .map_err(KpError)?;
        Ok(PyBytes::new(py, &record))
    }

    /// Opens a sealed record with ``root`` and adds its key to this keyring; returns the key's
    /// metadata. A record that does not open is ``InvalidCiphertextError``.
    fn import_sealed<'py>(
        &self,
        py: Python<'py>,
        record: Buf<'py>,
        root: &Bound<'py, PyLocalRootKey>,
    ) -> PyResult<PyKeyMetadata> {
        let (ring, record, root) = (&self.ring, record.as_slice(), &*root.get().inner);
        let metadata = py
            .detach(|| ring.import_sealed(record, root))
            .map_err(KpError)?;
        Ok(PyKeyMetadata::new(metadata))
    }

    // ----- key material import ----------------------------------------------------------------

    /// A wrapping public key and an import token for bringing your own material into
    /// ``key_id`` (a key created with ``origin="EXTERNAL"``); valid for 24 hours in this
    /// keyring. ``wrapping_algorithm``: ``"RSAES_OAEP_SHA_1"``, ``"RSAES_OAEP_SHA_256"``
    /// (symmetric and HMAC material), ``"RSA_AES_KEY_WRAP_SHA_1"`` or
    /// ``"RSA_AES_KEY_WRAP_SHA_256"`` (any material, RSA private keys included);
    /// ``wrapping_key_spec``: ``"RSA_2048"``, ``"RSA_3072"`` or ``"RSA_4096"``. Generating the
    /// wrapping key runs with the GIL released.
    #[pyo3(
        signature = (key_id, wrapping_algorithm=None, wrapping_key_spec=None),
        text_signature = "(self, key_id, wrapping_algorithm='RSA_AES_KEY_WRAP_SHA_256', \
                          wrapping_key_spec='RSA_2048')"
    )]
    fn get_parameters_for_import(
        &self,
        py: Python<'_>,
        key_id: Text,
        wrapping_algorithm: Option<Text>,
        wrapping_key_spec: Option<Text>,
    ) -> PyResult<PyImportParameters> {
        let algorithm = convert::wrapping_algorithm(
            wrapping_algorithm
                .as_deref()
                .unwrap_or("RSA_AES_KEY_WRAP_SHA_256"),
        )?;
        let spec = convert::wrapping_key_spec(wrapping_key_spec.as_deref().unwrap_or("RSA_2048"))?;
        let parameters = py
            .detach(|| {
                self.ring
                    .get_parameters_for_import(&key_id, algorithm, spec)
            })
            .map_err(KpError)?;
        Ok(PyImportParameters::new(py, parameters))
    }

    /// Unwraps ``encrypted_key_material`` (wrapped with the public key of the parameters that
    /// gave ``import_token``) and installs it as the key's material; the key becomes
    /// ``Enabled``. With ``valid_to`` (a timezone-aware ``datetime`` in the future) the
    /// material expires then and the key returns to ``PendingImport``. A key only ever takes
    /// the material it was first given (re-importing it, e.g. after expiry, works).
    /// ``InvalidInputError`` for a bad, expired or other key's token or material that does
    /// not fit; ``InvalidCiphertextError`` for wrapped material that does not unwrap.
    #[pyo3(signature = (key_id, import_token, encrypted_key_material, valid_to=None))]
    fn import_key_material(
        &self,
        py: Python<'_>,
        key_id: Text,
        import_token: Buf<'_>,
        encrypted_key_material: Buf<'_>,
        valid_to: Option<SystemTime>,
    ) -> KpResult<()> {
        let (token, wrapped) = (import_token.as_slice(), encrypted_key_material.as_slice());
        Ok(py.detach(|| {
            self.ring
                .import_key_material(&key_id, token, wrapped, valid_to)
        })?)
    }

    /// Deletes the imported material of ``key_id`` now: the key returns to ``PendingImport``
    /// until the same material is imported again.
    fn delete_imported_key_material(&self, py: Python<'_>, key_id: Text) -> KpResult<()> {
        Ok(py.detach(|| self.ring.delete_imported_key_material(&key_id))?)
    }
}
