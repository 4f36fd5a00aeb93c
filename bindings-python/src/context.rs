//! Encryption contexts: the reusable `keyplane.EncryptionContext` class and the `context`
//! argument every operation takes (`None`, a `dict[str, str]` or that class).

use keyplane::EncryptionContext;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::convert::{repr_str, text};
use crate::errors::KpError;

/// An encryption context built once and reused: ``EncryptionContext({"tenant": "acme"})``.
///
/// Anywhere a ``context`` is accepted, a ``dict[str, str]`` works too; a prebuilt context saves
/// validating, sorting and hashing the pairs on every call.
#[pyclass(frozen, module = "keyplane", name = "EncryptionContext")]
pub(crate) struct PyEncryptionContext {
    pub(crate) inner: EncryptionContext,
}

#[pymethods]
impl PyEncryptionContext {
    #[new]
    #[pyo3(signature = (pairs=None))]
    fn new(pairs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let inner = match pairs {
            Some(dict) => context_from_dict(dict)?,
            None => EncryptionContext::default(),
        };
        Ok(Self { inner })
    }

    /// The pairs as a new ``dict``, sorted by key.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (k, v) in self.inner.iter() {
            dict.set_item(k, v)?;
        }
        Ok(dict)
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Self>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __hash__(&self) -> u64 {
        let bytes = self.inner.canonical_bytes();
        // FNV-1a over the canonical encoding: equal contexts hash equally.
        bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("EncryptionContext({})", self.to_dict(py)?.repr()?))
    }
}

/// An encryption context argument: `None`, a `dict[str, str]`, or a prebuilt
/// `keyplane.EncryptionContext`.
pub(crate) enum Ctx<'py> {
    Empty,
    Owned(EncryptionContext),
    Shared(Bound<'py, PyEncryptionContext>),
}

impl<'py> Ctx<'py> {
    pub(crate) fn new(obj: Option<&Bound<'py, PyAny>>) -> PyResult<Self> {
        let Some(obj) = obj.filter(|o| !o.is_none()) else {
            return Ok(Self::Empty);
        };
        if let Ok(shared) = obj.cast::<PyEncryptionContext>() {
            return Ok(Self::Shared(shared.clone()));
        }
        let dict = obj.cast::<PyDict>().map_err(|_| {
            PyTypeError::new_err(
                "context must be a dict[str, str], a keyplane.EncryptionContext or None",
            )
        })?;
        Ok(Self::Owned(context_from_dict(dict)?))
    }

    pub(crate) fn get(&self) -> &EncryptionContext {
        match self {
            Self::Empty => EncryptionContext::empty(),
            Self::Owned(c) => c,
            Self::Shared(c) => &c.get().inner,
        }
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Ctx<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Self::new(Some(&obj.to_owned()))
    }
}

/// A context from a `dict[str, str]`.
fn context_from_dict(dict: &Bound<'_, PyDict>) -> PyResult<EncryptionContext> {
    let mut pairs = Vec::with_capacity(dict.len());
    for (k, v) in dict.iter() {
        if !k.is_instance_of::<PyString>() || !v.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(
                "encryption context keys and values must be str",
            ));
        }
        let k = text(&k, "an encryption context key")?;
        let v = if k.len() <= 64 {
            text(
                &v,
                &format!("the encryption context value of {}", repr_str(&k)),
            )?
        } else {
            text(&v, "an encryption context value")?
        };
        pairs.push((k, v));
    }
    Ok(EncryptionContext::new(pairs.iter().map(|(k, v)| (&**k, &**v))).map_err(KpError)?)
}
