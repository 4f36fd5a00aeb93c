//! Encryption contexts: the reusable `keyplane.EncryptionContext` class and the `context`
//! argument every operation takes (`None`, a `dict[str, str]` or that class).

use keyplane::EncryptionContext;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::convert::{Utf8, not_unicode, repr_str};
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
        // A dict first: a flag test, where the class check looks up the class's type object.
        // (The class cannot be subclassed, so no object is both.)
        if let Ok(dict) = obj.cast::<PyDict>() {
            if dict.is_empty() {
                // The same digest as any empty context, without hashing it again.
                return Ok(Self::Empty);
            }
            return Ok(Self::Owned(context_from_dict(dict)?));
        }
        match obj.cast::<PyEncryptionContext>() {
            Ok(shared) => Ok(Self::Shared(shared.clone())),
            Err(_) => Err(PyTypeError::new_err(
                "context must be a dict[str, str], a keyplane.EncryptionContext or None",
            )),
        }
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

/// Contexts of up to this many pairs (nearly all of them) are read into an array on the stack;
/// larger ones into a `Vec`.
const INLINE_PAIRS: usize = 8;

type Pair = (Utf8, Utf8);

/// A context from a `dict[str, str]`.
///
/// Every pair is read (types checked, text borrowed as UTF-8) before the core judges the pairs
/// (empty key, size, a key given twice), so a dict with several faults gets the error it always
/// got. On CPython 3.10+ the binding allocates nothing for a small context: the text is borrowed
/// from the `str` objects, which the pairs keep alive, and the pairs sit on the stack (on 3.9,
/// each `str` is copied into a `bytes`; see `Utf8`).
fn context_from_dict(dict: &Bound<'_, PyDict>) -> PyResult<EncryptionContext> {
    let n = dict.len();
    if n <= INLINE_PAIRS {
        let mut pairs: [Option<Pair>; INLINE_PAIRS] = Default::default();
        // No Python code runs while the dict is read (no `__eq__`, `__hash__` or `__str__` is
        // called), so it cannot change size; `zip` bounds the loop all the same.
        for (slot, (k, v)) in pairs.iter_mut().zip(dict.iter()) {
            *slot = Some(read_pair(k, v)?);
        }
        build(pairs.iter().flatten())
    } else {
        let pairs = dict
            .iter()
            .map(|(k, v)| read_pair(k, v))
            .collect::<PyResult<Vec<_>>>()?;
        build(pairs.iter())
    }
}

fn build<'a>(pairs: impl Iterator<Item = &'a Pair>) -> PyResult<EncryptionContext> {
    Ok(EncryptionContext::new(pairs.map(|(k, v)| (k.as_str(), v.as_str()))).map_err(KpError)?)
}

/// One pair of a context dict: both `str` (subclasses included), both encodable as UTF-8.
fn read_pair(k: Bound<'_, PyAny>, v: Bound<'_, PyAny>) -> PyResult<Pair> {
    let py = k.py();
    let (Ok(k), Ok(v)) = (k.cast_into::<PyString>(), v.cast_into::<PyString>()) else {
        return Err(PyTypeError::new_err(
            "encryption context keys and values must be str",
        ));
    };
    let k = Utf8::new(k).map_err(|e| not_unicode(py, &e, "an encryption context key"))?;
    let v = Utf8::new(v).map_err(|e| {
        // A short key is named, as Python's repr would quote it; a long one is not.
        let key = k.as_str();
        if key.len() <= 64 {
            let what = format!("the encryption context value of {}", repr_str(key));
            not_unicode(py, &e, &what)
        } else {
            not_unicode(py, &e, "an encryption context value")
        }
    })?;
    Ok((k, v))
}
