//! INSECURE test hooks, built only with the `insecure-test-hooks` feature: keys from
//! caller-chosen material and encryption with a caller-chosen nonce, for the known-answer vector
//! replay, and a switch that reads `str` arguments as on CPython 3.9 (copied), so the tests reach
//! that path on a newer interpreter. Never in a shipped build.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::classes::PyKeyMetadata;
use crate::context::Ctx;
use crate::convert::{self, Buf, Text};
use crate::errors::{KpError, invalid_input};
use crate::keyring::PyKeyring;

#[pymethods]
impl PyKeyring {
    /// INSECURE, test builds only: creates a symmetric key whose versions 1, 2, … have exactly
    /// these 32-byte root materials.
    #[cfg(feature = "insecure-test-hooks")]
    fn _insecure_create_key_with_material(
        &self,
        key_id: Text,
        roots: Vec<Vec<u8>>,
    ) -> PyResult<PyKeyMetadata> {
        let roots = roots
            .iter()
            .map(|r| <[u8; 32]>::try_from(r.as_slice()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| invalid_input("root material must be 32 bytes"))?;
        let metadata = self
            .ring
            .insecure_create_key_with_material(&key_id, &roots)
            .map_err(KpError)?;
        Ok(PyKeyMetadata::new(metadata))
    }

    /// INSECURE, test builds only: creates a key of any spec from caller-chosen material.
    #[cfg(feature = "insecure-test-hooks")]
    fn _insecure_import_key_material(
        &self,
        key_id: Text,
        spec: Text,
        usage: Text,
        material: Buf<'_>,
    ) -> PyResult<PyKeyMetadata> {
        let metadata = self
            .ring
            .insecure_import_key_material(
                &key_id,
                convert::key_spec(&spec)?,
                convert::key_usage(&usage)?,
                material.as_slice(),
            )
            .map_err(KpError)?;
        Ok(PyKeyMetadata::new(metadata))
    }

    /// INSECURE, test builds only: encrypts under a chosen version with a chosen nonce.
    #[cfg(feature = "insecure-test-hooks")]
    #[pyo3(signature = (key_id, version, nonce, plaintext, context=None))]
    fn _insecure_encrypt_with_nonce<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        version: u32,
        nonce: Buf<'py>,
        plaintext: Buf<'py>,
        context: Option<Ctx<'py>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let nonce = <[u8; 12]>::try_from(nonce.as_slice())
            .map_err(|_| invalid_input("nonce must be 12 bytes"))?;
        let context = context.unwrap_or(Ctx::Empty);
        let blob = self
            .ring
            .insecure_encrypt_with_nonce(
                &key_id,
                version,
                nonce,
                plaintext.as_slice(),
                context.get(),
            )
            .map_err(KpError)?;
        Ok(PyBytes::new(py, &blob))
    }

    /// Test builds only: while `copy` is true, every `str` argument is read as on CPython 3.9
    /// (a `bytes` copy) instead of borrowed, for the whole process. Returns the previous setting.
    #[cfg(feature = "insecure-test-hooks")]
    #[staticmethod]
    fn _insecure_copy_str_arguments(copy: bool) -> bool {
        convert::COPY_STR_ARGUMENTS.swap(copy, core::sync::atomic::Ordering::Relaxed)
    }
}
