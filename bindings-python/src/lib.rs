//! The `keyplane._keyplane` extension module: pyo3 bindings over the `keyplane` core.
//!
//! The pure-Python package `keyplane` (in `python/keyplane/`) re-exports everything here and
//! defines the exception classes (`keyplane/_errors.py`) that core errors map to.

// The modules from the bottom up: each names only modules in the groups before its own.
// Errors and argument conversions.
mod convert;
mod errors;
// Value classes: encryption contexts, results, audit configuration and reports.
mod audit;
mod audit_reports;
mod classes;
mod context;
// The `Keyring` handle and its construction.
mod keyring;
// `Keyring`'s operations, one `#[pymethods]` block per concern.
mod admin;
mod asymmetric;
mod batch;
#[cfg(feature = "insecure-test-hooks")]
mod insecure;
mod persistence;
mod symmetric;

use pyo3::prelude::*;

use crate::convert::Buf;
pub(crate) use crate::errors::KpError;

/// Reads a blob's header (format version, key id, key version) without decrypting it.
/// A malformed blob is ``InvalidCiphertextError``.
#[pyfunction]
fn inspect_blob(blob: Buf<'_>) -> PyResult<classes::PyBlobInfo> {
    let info = keyplane::envelope::inspect(blob.as_slice()).map_err(KpError)?;
    Ok(classes::PyBlobInfo {
        format_version: info.format_version,
        key_id: info.key_id.to_owned(),
        key_version: info.key_version,
    })
}

/// Re-seals a sealed key record under another root key (root key rotation) without importing
/// it anywhere.
#[pyfunction]
fn reseal<'py>(
    py: Python<'py>,
    record: Buf<'py>,
    old: &Bound<'py, classes::PyLocalRootKey>,
    new: &Bound<'py, classes::PyLocalRootKey>,
) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
    let (record, old, new) = (record.as_slice(), &*old.get().inner, &*new.get().inner);
    let resealed = py
        .detach(|| keyplane::seal::reseal(record, old, new))
        .map_err(KpError)?;
    Ok(pyo3::types::PyBytes::new(py, &resealed))
}

/// Which AWS-LC module this build runs on, as a dict: ``fips_build`` (built with the ``fips``
/// feature), ``fips_mode`` (the module is in FIPS mode), ``module`` (``"AWS-LC FIPS"`` or
/// ``"AWS-LC"``), ``module_version`` (as the module reports it) and ``fips_branch`` (the FIPS
/// branch the module was built from, ``None`` in a non-FIPS build).
#[pyfunction]
fn fips_status(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    let status = keyplane::fips::status();
    let dict = pyo3::types::PyDict::new(py);
    dict.set_item("fips_build", status.fips_build)?;
    dict.set_item("fips_mode", status.fips_mode)?;
    dict.set_item("module", status.module)?;
    dict.set_item("module_version", status.module_version)?;
    dict.set_item("fips_branch", status.fips_branch)?;
    Ok(dict)
}

/// The native part of the ``keyplane`` package; import ``keyplane`` instead.
#[pymodule]
fn _keyplane(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<keyring::PyKeyring>()?;
    m.add_class::<classes::PyKeyMetadata>()?;
    m.add_class::<classes::PyKeyVersion>()?;
    m.add_class::<classes::PyDataKey>()?;
    m.add_class::<classes::PyDataKeyPair>()?;
    m.add_class::<classes::PyDataKeyPairWithoutPlaintext>()?;
    m.add_class::<classes::PyPublicKey>()?;
    m.add_class::<classes::PyBlobInfo>()?;
    m.add_class::<context::PyEncryptionContext>()?;
    m.add_class::<classes::PyLocalRootKey>()?;
    m.add_class::<classes::PyImportParameters>()?;
    m.add_class::<audit::PyAudit>()?;
    m.add_class::<audit::PyAuditEvent>()?;
    m.add_class::<audit_reports::PyKeyLastUsage>()?;
    m.add_class::<audit_reports::PyAuditLogReport>()?;
    m.add_class::<classes::PyLoadProblem>()?;
    m.add_function(wrap_pyfunction!(audit_reports::verify_audit_log, m)?)?;
    m.add_function(wrap_pyfunction!(inspect_blob, m)?)?;
    m.add_function(wrap_pyfunction!(reseal, m)?)?;
    m.add_function(wrap_pyfunction!(fips_status, m)?)?;
    // True only in a FIPS build whose module is in FIPS mode.
    let status = keyplane::fips::status();
    m.add("FIPS", status.fips_build && status.fips_mode)?;
    m.add("INSECURE_TEST_HOOKS", cfg!(feature = "insecure-test-hooks"))?;
    Ok(())
}
