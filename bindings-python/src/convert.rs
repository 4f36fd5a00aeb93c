//! Arguments from Python: byte buffers, strings, AWS KMS names, counts, and the "one value
//! for every item, or a list with one per item" arguments of the batch forms. The bottom of
//! the crate: it names nothing but `errors`.

use core::ops::Deref;
use core::str::FromStr;

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyMemoryView, PySequence, PyString, PyTuple};
use zeroize::Zeroize;

use crate::errors::{KpError, invalid_input};

/// A bytes-like argument, readable while the GIL is released.
///
/// `bytes` is immutable, so it is borrowed in place: no copy. Every other buffer (`bytearray`,
/// `memoryview`, `array.array`, `mmap`, …) can be written or resized by another Python thread
/// while the GIL is released, so its contents are first copied, with the GIL held, into a private
/// `bytearray` that no Python code can reach; that copy is wiped when the call returns.
pub(crate) enum Buf<'py> {
    Bytes(Bound<'py, PyBytes>),
    Private(Bound<'py, PyByteArray>),
}

impl<'py> Buf<'py> {
    pub(crate) fn new(obj: &Bound<'py, PyAny>) -> PyResult<Self> {
        if let Ok(bytes) = obj.cast::<PyBytes>() {
            return Ok(Self::Bytes(bytes.clone()));
        }
        Self::copy(obj)
    }

    /// As [`new`](Self::new), taking over the caller's reference (no extra reference count
    /// traffic for `bytes`, the common case in batches).
    pub(crate) fn from_owned(obj: Bound<'py, PyAny>) -> PyResult<Self> {
        match obj.cast_into::<PyBytes>() {
            Ok(bytes) => Ok(Self::Bytes(bytes)),
            Err(e) => Self::copy(&e.into_inner()),
        }
    }

    /// A private copy of a buffer other than `bytes`.
    fn copy(obj: &Bound<'py, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(
                "a bytes-like object is required, not 'str' (encode text first, e.g. s.encode())",
            ));
        }
        let copy = if obj.is_instance_of::<PyByteArray>() {
            PyByteArray::from(obj)?
        } else {
            // Only objects with the buffer protocol make a memoryview; bytearray(x) alone would
            // also accept integers and iterables.
            let view = PyMemoryView::from(obj).map_err(|e| unreadable(obj, &e))?;
            PyByteArray::from(view.as_any())?
        };
        Ok(Self::Private(copy))
    }

    /// The bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Self::Bytes(b) => b.as_bytes(),
            // SAFETY: this bytearray was created by `Buf::new` and no reference to it was ever
            // handed to Python code, so nothing can resize or write it, with or without the GIL,
            // while the returned slice (bounded by `&self`) lives.
            Self::Private(b) => unsafe { b.as_bytes() },
        }
    }
}

impl Drop for Buf<'_> {
    fn drop(&mut self) {
        if let Self::Private(b) = self {
            // SAFETY: as in `as_slice`: the private copy is ours alone, and no slice of it
            // outlives `self`.
            unsafe { b.as_bytes_mut() }.zeroize();
        }
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Buf<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Self::new(&obj.to_owned())
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string())
}

/// `s` quoted as Python's `repr` quotes a `str` (for the `__repr__` of every class).
pub(crate) fn repr_str(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn not_bytes_like(obj: &Bound<'_, PyAny>) -> PyErr {
    PyTypeError::new_err(format!(
        "a bytes-like object (bytes, bytearray, memoryview, ...) is required, not '{}'",
        type_name(obj)
    ))
}

/// Why a buffer could not be read: not a buffer at all (a `TypeError`), or a buffer that
/// cannot give its bytes now (a released `memoryview`, a closed `mmap`), which is said as such
/// rather than as a wrong type.
fn unreadable(obj: &Bound<'_, PyAny>, e: &PyErr) -> PyErr {
    if e.is_instance_of::<PyTypeError>(obj.py()) {
        return not_bytes_like(obj);
    }
    if obj.is_instance_of::<PyMemoryView>() {
        return invalid_input("the memoryview has been released");
    }
    match type_name(obj).as_str() {
        "mmap" => invalid_input("the mmap is closed"),
        other => invalid_input(format!(
            "the {other} object cannot be read as bytes: {}",
            e.value(obj.py())
        )),
    }
}

/// A `str` argument as UTF-8: a `TypeError` for anything but a `str`, and
/// `InvalidInputError` for a `str` UTF-8 cannot encode (one with a lone surrogate, such as
/// `"\ud800"`, which `surrogateescape` decoding or JSON can produce).
pub(crate) fn text(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<PyBackedStr> {
    let s = obj.cast::<PyString>().map_err(|_| {
        PyTypeError::new_err(format!("{what} must be a str, not '{}'", type_name(obj)))
    })?;
    s.extract::<PyBackedStr>()
        .map_err(|e| not_unicode(obj.py(), &e, what))
}

/// The `InvalidInputError` for a `str` that UTF-8 cannot encode, from the `UnicodeEncodeError`
/// the encoder raised (which says where the first such character is).
pub(crate) fn not_unicode(py: Python<'_>, e: &PyErr, what: &str) -> PyErr {
    let at = e
        .value(py)
        .getattr("start")
        .and_then(|start| start.extract::<usize>())
        .map_or_else(|_| String::new(), |i| format!(" at index {i}"));
    invalid_input(format!(
        "{what} is not valid Unicode (lone surrogate{at}): it cannot be encoded as UTF-8"
    ))
}

/// A `str`'s UTF-8 text, borrowed from the `str` itself where the running interpreter allows it,
/// so that reading it allocates nothing.
///
/// The wheel is built for the stable ABI of CPython 3.9 (`abi3-py39`), where pyo3 can only ask
/// for a new `bytes` copy (`PyUnicode_AsUTF8String`). `PyUnicode_AsUTF8AndSize`, which returns
/// the UTF-8 the `str` keeps (its own data for ASCII, a cache filled once otherwise), joined the
/// limited API in 3.10; it is used when the interpreter running the wheel is 3.10 or later, and
/// the copy otherwise. Windows is left on the copy: there the module imports from `python3.dll`,
/// whose 3.9 build does not export the function, so naming it would fail the import on 3.9.
pub(crate) struct Utf8 {
    // The `str` (borrowed view) or the `bytes` copy that holds the text `ptr` points to.
    _owner: Py<PyAny>,
    ptr: *const u8,
    len: usize,
}

// SAFETY: as for pyo3's `PyBackedStr`, which this replaces: the text is immutable and owned by
// `_owner`, a `Py` (itself `Send` and `Sync`) that keeps it alive until this value is dropped,
// so the text may be read from any thread, with or without the GIL (the operations read key ids
// with the GIL released).
unsafe impl Send for Utf8 {}
// SAFETY: see `Send`: nothing can write the text, so shared reads from several threads are sound.
unsafe impl Sync for Utf8 {}

#[cfg(not(windows))]
unsafe extern "C" {
    // Part of the limited API (and the stable ABI) from CPython 3.10; only called after
    // `borrowed_utf8` has checked that the running interpreter is at least that.
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut pyo3::ffi::PyObject,
        size: *mut pyo3::ffi::Py_ssize_t,
    ) -> *const core::ffi::c_char;
}

/// Test builds only: read every `str` as on CPython 3.9 (see `Keyring._insecure_copy_str_arguments`).
#[cfg(feature = "insecure-test-hooks")]
pub(crate) static COPY_STR_ARGUMENTS: core::sync::atomic::AtomicBool =
    core::sync::atomic::AtomicBool::new(false);

/// Whether the running interpreter has `PyUnicode_AsUTF8AndSize` in its limited API (3.10+).
#[cfg(not(windows))]
fn borrowed_utf8(py: Python<'_>) -> bool {
    #[cfg(feature = "insecure-test-hooks")]
    if COPY_STR_ARGUMENTS.load(core::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| py.version_info() >= (3, 10))
}

impl Utf8 {
    /// The text of `s`; a `UnicodeEncodeError` (as Python raised it) for a lone surrogate.
    pub(crate) fn new(s: Bound<'_, PyString>) -> PyResult<Self> {
        #[cfg(not(windows))]
        if borrowed_utf8(s.py()) {
            let mut size: pyo3::ffi::Py_ssize_t = 0;
            // SAFETY: `s` is a live `str` (its type was checked) and the GIL is held; the
            // interpreter is CPython 3.10 or later, whose stable ABI has this function with this
            // signature. It returns NULL with an exception set, or the `str`'s own UTF-8, valid
            // and unchanged for as long as the `str` lives (a `str` is immutable).
            let ptr = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &raw mut size) };
            if ptr.is_null() {
                return Err(PyErr::fetch(s.py()));
            }
            let len = usize::try_from(size)
                .map_err(|_| invalid_input("the interpreter gave a negative string length"))?;
            return Ok(Self {
                _owner: s.into_any().unbind(),
                ptr: ptr.cast(),
                len,
            });
        }
        let bytes = s.encode_utf8()?;
        let (ptr, len) = (bytes.as_bytes().as_ptr(), bytes.as_bytes().len());
        Ok(Self {
            _owner: bytes.into_any().unbind(),
            ptr,
            len,
        })
    }

    pub(crate) fn as_str(&self) -> &str {
        // SAFETY: `ptr` and `len` describe UTF-8 that CPython's strict encoder produced (it fails
        // on anything UTF-8 cannot encode), held by `_owner`, an immutable `str` or `bytes` that
        // this value keeps alive and that outlives the returned borrow of `self`.
        unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(self.ptr, self.len)) }
    }
}

/// A `str` argument (see [`text`]), dereferencing to `&str`: borrowed from the `str` where the
/// interpreter allows it (see [`Utf8`]), as key ids are on every call.
pub(crate) struct Text(Utf8);

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Text {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        // pyo3 names the argument in a `TypeError`; other errors are passed on as they are.
        const WHAT: &str = "the argument";
        let s = obj.cast::<PyString>().map_err(|_| {
            PyTypeError::new_err(format!("{WHAT} must be a str, not '{}'", type_name(&obj)))
        })?;
        Utf8::new(s.to_owned())
            .map(Self)
            .map_err(|e| not_unicode(obj.py(), &e, WHAT))
    }
}

/// Parses an AWS KMS name (`"SYMMETRIC_DEFAULT"`, `"ECDSA_SHA_256"`, …).
pub(crate) fn kms_name<T: FromStr + Copy>(
    name: &str,
    what: &str,
    all: &[T],
    as_str: fn(T) -> &'static str,
) -> PyResult<T> {
    T::from_str(name).map_err(|_| {
        let expected: Vec<&str> = all.iter().map(|v| as_str(*v)).collect();
        invalid_input(format!(
            "unknown {what} {name:?}; expected one of {}",
            expected.join(", ")
        ))
    })
}

macro_rules! kms_parser {
    ($fn:ident, $ty:ty, $what:literal) => {
        pub(crate) fn $fn(name: &str) -> PyResult<$ty> {
            kms_name(name, $what, <$ty>::ALL, <$ty>::as_str)
        }
    };
}

kms_parser!(key_spec, keyplane::KeySpec, "key spec");
kms_parser!(key_usage, keyplane::KeyUsage, "key usage");
kms_parser!(
    encryption_algorithm,
    keyplane::EncryptionAlgorithm,
    "encryption algorithm"
);
kms_parser!(
    signing_algorithm,
    keyplane::SigningAlgorithm,
    "signing algorithm"
);
kms_parser!(mac_algorithm, keyplane::MacAlgorithm, "MAC algorithm");
kms_parser!(message_type, keyplane::MessageType, "message type");
kms_parser!(origin, keyplane::Origin, "origin");
kms_parser!(
    wrapping_algorithm,
    keyplane::WrappingAlgorithm,
    "wrapping algorithm"
);
kms_parser!(
    wrapping_key_spec,
    keyplane::WrappingKeySpec,
    "wrapping key spec"
);
kms_parser!(
    data_key_pair_spec,
    keyplane::DataKeyPairSpec,
    "data key pair spec"
);

/// A message type name, `RAW` when not given.
pub(crate) fn message_type_or_raw(name: Option<&str>) -> PyResult<keyplane::MessageType> {
    name.map_or(Ok(keyplane::MessageType::Raw), message_type)
}

/// A data key size from KMS's two exclusive arguments: `key_spec` (`"AES_256"`, `"AES_128"`) or
/// `number_of_bytes` (1 to 1024). Neither means `AES_256`.
pub(crate) fn data_key_spec(
    key_spec: Option<&str>,
    number_of_bytes: Option<&Bound<'_, PyAny>>,
) -> PyResult<keyplane::DataKeySpec> {
    use keyplane::DataKeySpec as D;
    match (key_spec, number_of_bytes) {
        (Some(_), Some(_)) => Err(invalid_input("give key_spec or number_of_bytes, not both")),
        (None, Some(n)) => Ok(D::NumberOfBytes(count(n, "number_of_bytes")?)),
        (Some("AES_256") | None, None) => Ok(D::Aes256),
        (Some("AES_128"), None) => Ok(D::Aes128),
        (Some(other), None) => Err(invalid_input(format!(
            "unknown data key spec {other:?}; expected one of AES_256, AES_128"
        ))),
    }
}

/// A non-negative integer argument (`bool` excluded). Negative or too large values are
/// `InvalidInputError` (a `ValueError`), as the core reports other out-of-range numbers.
pub(crate) fn count(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<usize> {
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be an int, not bool"
        )));
    }
    let n: i64 = match obj.extract() {
        Ok(n) => n,
        Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => {
            return Err(invalid_input(format!("{what} is too large")));
        }
        Err(_) => return Err(PyTypeError::new_err(format!("{what} must be an int"))),
    };
    if n < 0 {
        return Err(invalid_input(format!("{what} must not be negative")));
    }
    usize::try_from(n).map_err(|_| invalid_input(format!("{what} is too large")))
}

/// A `u32` argument, range-checked as [`count`].
pub(crate) fn count_u32(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<u32> {
    u32::try_from(count(obj, what)?).map_err(|_| invalid_input(format!("{what} is too large")))
}

/// A `bytes` of `len` bytes filled by `fill` with the GIL released. `fill` returns how many
/// bytes it wrote; the result is shortened (copied) if that is fewer than `len`. On error the
/// new object is dropped and the error returned.
pub(crate) fn filled_bytes<'py, F>(
    py: Python<'py>,
    len: usize,
    fill: F,
) -> PyResult<Bound<'py, PyBytes>>
where
    F: Send + FnOnce(&mut [u8]) -> keyplane::Result<usize>,
{
    let mut outcome = Ok(0);
    let bytes = PyBytes::new_with(py, len, |buf| {
        outcome = py.detach(|| fill(buf));
        Ok(())
    })?;
    let written = outcome.map_err(KpError)?;
    if written == len {
        Ok(bytes)
    } else {
        let short = bytes
            .as_bytes()
            .get(..written)
            .ok_or(KpError(keyplane::Error::Internal))?;
        Ok(PyBytes::new(py, short))
    }
}

/// One item's value of a batch argument, or the error that item fails with (in its slot).
/// Boxed: the error is rare, and a `PyErr` beside every buffer of a large batch would triple
/// the list the batch is read into.
pub(crate) type Item<T> = Result<T, Box<PyErr>>;

/// Sorts an argument error in a batch: a wrong type fails the whole call (`TypeError`, before
/// any work is done); any other problem with a value (unknown name, invalid context, a
/// released buffer, …) is that item's result.
pub(crate) fn per_item<T>(py: Python<'_>, value: PyResult<T>) -> PyResult<Item<T>> {
    match value {
        Ok(v) => Ok(Ok(v)),
        Err(e) if e.is_instance_of::<PyTypeError>(py) => Err(e),
        Err(e) => Ok(Err(Box::new(e))),
    }
}

/// More items than the keyring allows in one batch (checked before anything is allocated for
/// them).
pub(crate) fn too_many_items() -> PyErr {
    KpError(keyplane::Error::LimitExceeded(
        "batch has more items than the keyring allows",
    ))
    .into()
}

/// A batch argument: one value for every item, or a sequence (list, tuple, …) with one per item.
pub(crate) enum Each<T> {
    All(T),
    PerItem(Vec<T>),
}

impl<T> Each<T> {
    /// Reads `obj` as a list/tuple of values or as one value, with `one` for each value. A list
    /// longer than `max_items` is refused before its values are read.
    pub(crate) fn new<'py>(
        obj: &Bound<'py, PyAny>,
        max_items: usize,
        one: impl Fn(&Bound<'py, PyAny>) -> PyResult<T>,
    ) -> PyResult<Self> {
        match items(obj, max_items)? {
            Some(list) => list
                .iter()
                .map(&one)
                .collect::<PyResult<_>>()
                .map(Self::PerItem),
            None => one(obj).map(Self::All),
        }
    }

    /// The value for item `i`.
    pub(crate) fn get(&self, i: usize) -> &T {
        match self {
            Self::All(v) => v,
            Self::PerItem(v) => &v[i],
        }
    }

    /// Checks a per-item list against the batch's length.
    pub(crate) fn check_len(&self, n: usize, what: &str) -> PyResult<()> {
        match self {
            Self::PerItem(v) if v.len() != n => Err(invalid_input(format!(
                "{what} has {} items, the batch has {n}",
                v.len()
            ))),
            _ => Ok(()),
        }
    }

    /// The batch length this argument implies, if it is a per-item list.
    pub(crate) fn len(&self) -> Option<usize> {
        match self {
            Self::All(_) => None,
            Self::PerItem(v) => Some(v.len()),
        }
    }
}

/// The items of a list, tuple or other sequence (a snapshot, holding a reference to each), or
/// `None` for a single value: anything else, including `str` and bytes-like objects. More than
/// `max_items` items is `LimitExceededError`, found before they are all read (a sequence may
/// be endless).
fn items<'py>(
    obj: &Bound<'py, PyAny>,
    max_items: usize,
) -> PyResult<Option<Vec<Bound<'py, PyAny>>>> {
    if let Ok(list) = obj.cast::<PyList>() {
        if list.len() > max_items {
            return Err(too_many_items());
        }
        return Ok(Some(list.iter().collect()));
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        if tuple.len() > max_items {
            return Err(too_many_items());
        }
        return Ok(Some(tuple.iter().collect()));
    }
    if obj.is_instance_of::<PyString>()
        || obj.is_instance_of::<PyBytes>()
        || obj.is_instance_of::<PyByteArray>()
        || obj.is_instance_of::<PyMemoryView>()
    {
        return Ok(None);
    }
    let Ok(seq) = obj.cast::<PySequence>() else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for item in seq.try_iter()? {
        if out.len() == max_items {
            return Err(too_many_items());
        }
        out.push(item?);
    }
    Ok(Some(out))
}

/// The byte buffers of a batch: a list, tuple or other sequence of bytes-like objects. An item
/// of the wrong type fails the call; one that cannot be read now (a released `memoryview`) is
/// that item's error.
pub(crate) fn buffers<'py>(
    obj: &Bound<'py, PyAny>,
    what: &str,
    max_items: usize,
) -> PyResult<Vec<Item<Buf<'py>>>> {
    let item = |i: usize, o: Bound<'py, PyAny>| {
        let py = o.py();
        per_item(py, Buf::from_owned(o))
            .map_err(|e| PyTypeError::new_err(format!("{what}[{i}]: {}", e.value(py))))
    };
    // A list, the common case, is read in one pass with no intermediate snapshot: the GIL is
    // held throughout and reading an item runs no Python code.
    if let Ok(list) = obj.cast::<PyList>() {
        if list.len() > max_items {
            return Err(too_many_items());
        }
        let mut out = Vec::with_capacity(list.len());
        for (i, o) in list.iter().enumerate() {
            out.push(item(i, o)?);
        }
        return Ok(out);
    }
    let list = items(obj, max_items)?.ok_or_else(|| {
        PyTypeError::new_err(format!(
            "{what} must be a list, tuple or other sequence of bytes-like objects"
        ))
    })?;
    list.into_iter()
        .enumerate()
        .map(|(i, o)| item(i, o))
        .collect()
}

/// A `str` argument of a batch (key id, algorithm name): a wrong type fails the call, a `str`
/// that is not valid Unicode is the item's error.
pub(crate) fn string(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Item<PyBackedStr>> {
    if !obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a str or a list of str"
        )));
    }
    per_item(obj.py(), text(obj, what))
}
