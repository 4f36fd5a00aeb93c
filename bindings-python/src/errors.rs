//! Core errors as instances of the exception classes in `keyplane/_errors.py`.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// A core error on its way to Python: `?` turns it into the matching `KeyplaneError` subclass.
#[derive(Debug)]
pub(crate) struct KpError(pub(crate) keyplane::Error);

impl From<keyplane::Error> for KpError {
    fn from(e: keyplane::Error) -> Self {
        Self(e)
    }
}

impl From<KpError> for PyErr {
    fn from(e: KpError) -> Self {
        Python::attach(|py| match class_of(py, &e.0) {
            Ok(class) => PyErr::from_type(class, e.0.to_string()),
            Err(import_failed) => import_failed,
        })
    }
}

/// `Result` whose error converts into a Keyplane exception.
pub(crate) type KpResult<T> = Result<T, KpError>;

/// The exception class name for a core error.
fn class_name(e: &keyplane::Error) -> &'static str {
    use keyplane::Error as E;
    match e {
        E::NotFound => "NotFoundError",
        E::AlreadyExists => "AlreadyExistsError",
        E::InvalidInput(_) => "InvalidInputError",
        E::InvalidKeyUsage => "InvalidKeyUsageError",
        E::KeyDisabled => "KeyDisabledError",
        E::InvalidKeyState => "KeyStateError",
        E::InvalidCiphertext => "InvalidCiphertextError",
        E::BufferTooSmall { .. } => "BufferTooSmallError",
        // A FIPS build's refusal shares the code; its message says why.
        E::UnsupportedAlgorithm | E::NotApproved(_) => "UnsupportedAlgorithmError",
        E::LimitExceeded(_) => "LimitExceededError",
        E::VersionRetired => "VersionRetiredError",
        E::Storage(_) => "StorageError",
        E::Internal => "InternalError",
        // A code added to the core later still reaches Python under the base class.
        _ => "KeyplaneError",
    }
}

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE
        .get_or_try_init(py, || py.import("keyplane._errors").map(Bound::unbind))
        .map(|m| m.bind(py))
}

fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyType>> {
    Ok(errors_module(py)?.getattr(name)?.cast_into()?)
}

fn class_of<'py>(py: Python<'py>, e: &keyplane::Error) -> PyResult<Bound<'py, PyType>> {
    class(py, class_name(e))
}

/// The exception instance for `e`, as a failed batch item carries it in its slot.
pub(crate) fn instance<'py>(py: Python<'py>, e: &keyplane::Error) -> PyResult<Bound<'py, PyAny>> {
    class_of(py, e)?.call1((e.to_string(),))
}

/// `InvalidInputError` with a message of the binding's own (an argument the core never sees).
pub(crate) fn invalid_input(message: impl Into<String>) -> PyErr {
    let message = message.into();
    Python::attach(|py| match class(py, "InvalidInputError") {
        Ok(class) => PyErr::from_type(class, message),
        Err(import_failed) => import_failed,
    })
}
