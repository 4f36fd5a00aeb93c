//! A batch's per-item arguments in (one value for every item, or a list with one per item)
//! and its list of per-item results out: each a value, or the exception instance that item
//! failed with, in input order.

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyBool, PyBytes, PyList};

use crate::context::Ctx;
use crate::convert::{self, Each, Item, message_type_or_raw, per_item};
use crate::errors::{KpError, instance};

/// The items whose own arguments failed, with the first error of each; empty while none has
/// (the common case, which then costs nothing).
pub(super) struct Failed<'py> {
    py: Python<'py>,
    n: usize,
    errors: Vec<Option<PyErr>>,
}

impl<'py> Failed<'py> {
    pub(super) fn new(py: Python<'py>, n: usize) -> Self {
        Self {
            py,
            n,
            errors: Vec::new(),
        }
    }

    /// Item `i`'s value of one argument, or `None` once its error is noted.
    pub(super) fn ok<'a, T>(&mut self, i: usize, item: &'a Item<T>) -> Option<&'a T> {
        match item {
            Ok(v) => Some(v),
            Err(e) => {
                if self.errors.is_empty() {
                    self.errors.resize_with(self.n, || None);
                }
                if self.errors[i].is_none() {
                    self.errors[i] = Some(e.clone_ref(self.py));
                }
                None
            }
        }
    }

    /// The results in input order: the core's, in order, for the items it ran (`ok` for a
    /// success), and each other item's argument error. `None` when no argument failed, for
    /// the caller's own fast path.
    pub(super) fn merge<T>(
        self,
        out: &[keyplane::Result<T>],
        ok: impl Fn(&T) -> PyResult<Bound<'py, PyAny>>,
    ) -> Option<PyResult<Bound<'py, PyList>>> {
        if self.errors.is_empty() {
            return None;
        }
        let py = self.py;
        let mut ran = out.iter();
        let merged = self
            .errors
            .into_iter()
            .map(|failed| match failed {
                Some(e) => Ok(e.into_value(py).into_bound(py).into_any()),
                None => match ran.next() {
                    Some(Ok(v)) => ok(v),
                    Some(Err(e)) => instance(py, e),
                    None => Err(KpError(keyplane::Error::Internal).into()),
                },
            })
            .collect::<PyResult<Vec<_>>>();
        Some(merged.and_then(|objects| PyList::new(py, objects)))
    }
}

/// The list of results: each `Ok` through `ok`, each `Err` as an exception instance.
pub(super) fn results<'py, T>(
    py: Python<'py>,
    items: &[keyplane::Result<T>],
    ok: impl Fn(&T) -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let objects = items
        .iter()
        .map(|r| match r {
            Ok(v) => ok(v),
            Err(e) => instance(py, e),
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, objects)
}

/// One slot of a list of byte results: the `bytes`, or the exception instance.
struct BytesSlot<'a>(&'a keyplane::Result<bytes::Bytes>);

impl<'py> IntoPyObject<'py> for BytesSlot<'_> {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.0 {
            Ok(b) => Ok(PyBytes::new(py, b).into_any()),
            Err(e) => instance(py, e),
        }
    }
}

/// The list of byte results, each `bytes` created straight into its slot, with the items
/// whose arguments failed in theirs. The core's batch buffer is released afterwards with the
/// GIL released.
pub(super) fn bytes_results<'py>(
    py: Python<'py>,
    failed: Failed<'py>,
    items: Vec<keyplane::Result<bytes::Bytes>>,
) -> PyResult<Bound<'py, PyList>> {
    let list = failed
        .merge(&items, |b| Ok(PyBytes::new(py, b).into_any()))
        .unwrap_or_else(|| PyList::new(py, items.iter().map(BytesSlot)));
    py.detach(move || drop(items));
    list
}

pub(super) fn bool_results<'py>(
    py: Python<'py>,
    failed: Failed<'py>,
    items: Vec<keyplane::Result<bool>>,
) -> PyResult<Bound<'py, PyList>> {
    let ok = |b: &bool| Ok(PyBool::new(py, *b).to_owned().into_any());
    failed
        .merge(&items, ok)
        .unwrap_or_else(|| results(py, &items, ok))
}

/// Key ids: one `str` for every item or a list of `str`.
pub(super) fn key_ids(
    obj: &Bound<'_, PyAny>,
    what: &'static str,
    max_items: usize,
) -> PyResult<Each<Item<PyBackedStr>>> {
    Each::new(obj, max_items, |o| convert::string(o, what))
}

/// Contexts: one for every item (`None`, a dict or an `EncryptionContext`) or a list.
pub(super) fn contexts<'py>(
    obj: Option<&Bound<'py, PyAny>>,
    max_items: usize,
) -> PyResult<Each<Item<Ctx<'py>>>> {
    match obj {
        None => Ok(Each::All(Ok(Ctx::Empty))),
        Some(obj) => Each::new(obj, max_items, |o| per_item(o.py(), Ctx::new(Some(o)))),
    }
}

pub(super) fn algorithms<T>(
    obj: &Bound<'_, PyAny>,
    max_items: usize,
    parse: fn(&str) -> PyResult<T>,
) -> PyResult<Each<Item<T>>> {
    Each::new(obj, max_items, |o| {
        Ok(convert::string(o, "algorithm")?.and_then(|name| parse(&name).map_err(Box::new)))
    })
}

pub(super) fn message_types(
    obj: Option<&Bound<'_, PyAny>>,
    max_items: usize,
) -> PyResult<Each<Item<keyplane::MessageType>>> {
    match obj {
        None => Ok(Each::All(Ok(keyplane::MessageType::Raw))),
        Some(obj) => Each::new(obj, max_items, |o| {
            if o.is_none() {
                Ok(message_type_or_raw(None).map_err(Box::new))
            } else {
                Ok(convert::string(o, "message_type")?
                    .and_then(|name| convert::message_type(&name).map_err(Box::new)))
            }
        }),
    }
}
