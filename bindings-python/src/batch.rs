//! The batch forms: Python lists in, the core's `*_many` with the GIL released, Python lists
//! out.
//!
//! Every argument is read (and every mutable buffer copied) with the GIL held before the batch
//! starts, so a type error anywhere fails the whole call before any work is done. During the
//! batch only Rust data is touched. A failed item comes back as the `KeyplaneError` instance it
//! failed with, in its slot; only a batch-wide problem (more items than the keyring allows,
//! lists of different lengths) raises.

use keyplane::{
    DataKeyRequest, DataKeySpec, DecryptRequest, EncryptRequest, Keyring, MacRequest,
    ReEncryptRequest, SignRequest, VerifyMacRequest, VerifyRequest,
};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyBool, PyBytes, PyList};

use crate::classes::PyDataKey;
use crate::convert::{self, Buf, Ctx, Each};
use crate::errors::{KpError, instance, invalid_input};
use crate::keyring::message_type_or_raw;

/// The list of results: each `Ok` through `ok`, each `Err` as an exception instance.
fn results<'py, T>(
    py: Python<'py>,
    items: Vec<keyplane::Result<T>>,
    ok: impl Fn(T) -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let objects = items
        .into_iter()
        .map(|r| match r {
            Ok(v) => ok(v),
            Err(e) => instance(py, &e),
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

/// The list of byte results, each `bytes` created straight into its slot. The core's batch
/// buffer is released afterwards with the GIL released.
fn bytes_results<'py>(
    py: Python<'py>,
    items: Vec<keyplane::Result<bytes::Bytes>>,
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::new(py, items.iter().map(BytesSlot));
    py.detach(move || drop(items));
    list
}

fn bool_results<'py>(
    py: Python<'py>,
    items: Vec<keyplane::Result<bool>>,
) -> PyResult<Bound<'py, PyList>> {
    results(py, items, |b| Ok(PyBool::new(py, b).to_owned().into_any()))
}

/// Key ids: one `str` for every item or a list of `str`.
fn key_ids(obj: &Bound<'_, PyAny>, what: &'static str) -> PyResult<Each<PyBackedStr>> {
    Each::new(obj, |o| convert::string(o, what))
}

/// Contexts: one for every item (`None`, a dict or an `EncryptionContext`) or a list.
fn contexts<'py>(obj: Option<&Bound<'py, PyAny>>) -> PyResult<Each<Ctx<'py>>> {
    match obj {
        None => Ok(Each::All(Ctx::Empty)),
        Some(obj) => Each::new(obj, |o| Ctx::new(Some(o))),
    }
}

fn algorithms<T>(obj: &Bound<'_, PyAny>, parse: fn(&str) -> PyResult<T>) -> PyResult<Each<T>> {
    Each::new(obj, |o| parse(&convert::string(o, "algorithm")?))
}

fn message_types(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Each<keyplane::MessageType>> {
    match obj {
        None => Ok(Each::All(keyplane::MessageType::Raw)),
        Some(obj) => Each::new(obj, |o| {
            if o.is_none() {
                message_type_or_raw(None)
            } else {
                convert::message_type(&convert::string(o, "message_type")?)
            }
        }),
    }
}

fn slices<'a>(bufs: &'a [Buf<'_>]) -> Vec<&'a [u8]> {
    bufs.iter().map(Buf::as_slice).collect()
}

pub(crate) fn encrypt_many<'py>(
    ring: &Keyring,
    py: Python<'py>,
    key_id: &Bound<'py, PyAny>,
    plaintexts: &Bound<'py, PyAny>,
    context: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let plaintexts = convert::buffers(plaintexts, "plaintexts")?;
    let n = plaintexts.len();
    let key_ids = key_ids(key_id, "key_id")?;
    key_ids.check_len(n, "key_id")?;
    let contexts = contexts(context)?;
    contexts.check_len(n, "context")?;
    let requests: Vec<EncryptRequest<'_>> = plaintexts
        .iter()
        .enumerate()
        .map(|(i, p)| EncryptRequest {
            key_id: key_ids.get(i),
            plaintext: p.as_slice(),
            context: contexts.get(i).get(),
        })
        .collect();
    let out = py
        .detach(|| ring.encrypt_many(&requests))
        .map_err(KpError)?;
    bytes_results(py, out)
}

pub(crate) fn decrypt_many<'py>(
    ring: &Keyring,
    py: Python<'py>,
    blobs: &Bound<'py, PyAny>,
    context: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let blobs = convert::buffers(blobs, "blobs")?;
    let contexts = contexts(context)?;
    contexts.check_len(blobs.len(), "context")?;
    let requests: Vec<DecryptRequest<'_>> = blobs
        .iter()
        .enumerate()
        .map(|(i, b)| DecryptRequest {
            blob: b.as_slice(),
            context: contexts.get(i).get(),
        })
        .collect();
    let out = py
        .detach(|| ring.decrypt_many(&requests))
        .map_err(KpError)?;
    bytes_results(py, out)
}

pub(crate) fn re_encrypt_many<'py>(
    ring: &Keyring,
    py: Python<'py>,
    blobs: &Bound<'py, PyAny>,
    destination_key_id: &Bound<'py, PyAny>,
    source_context: Option<&Bound<'py, PyAny>>,
    destination_context: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let blobs = convert::buffers(blobs, "blobs")?;
    let n = blobs.len();
    let destinations = key_ids(destination_key_id, "destination_key_id")?;
    destinations.check_len(n, "destination_key_id")?;
    let sources = contexts(source_context)?;
    sources.check_len(n, "source_context")?;
    let destination_contexts = contexts(destination_context)?;
    destination_contexts.check_len(n, "destination_context")?;
    let requests: Vec<ReEncryptRequest<'_>> = blobs
        .iter()
        .enumerate()
        .map(|(i, b)| ReEncryptRequest {
            blob: b.as_slice(),
            source_context: sources.get(i).get(),
            destination_key_id: destinations.get(i),
            destination_context: destination_contexts.get(i).get(),
        })
        .collect();
    let out = py
        .detach(|| ring.re_encrypt_many(&requests))
        .map_err(KpError)?;
    bytes_results(py, out)
}

pub(crate) fn generate_data_key_many<'py>(
    ring: &Keyring,
    py: Python<'py>,
    key_id: &Bound<'py, PyAny>,
    count: Option<&Bound<'py, PyAny>>,
    spec: DataKeySpec,
    context: Option<&Bound<'py, PyAny>>,
    with_plaintext: bool,
) -> PyResult<Bound<'py, PyList>> {
    let key_ids = key_ids(key_id, "key_id")?;
    let contexts = contexts(context)?;
    let count = count.map(|c| convert::count(c, "count")).transpose()?;
    let n = match (count, key_ids.len(), contexts.len()) {
        (Some(n), _, _) | (None, Some(n), _) | (None, None, Some(n)) => n,
        (None, None, None) => {
            return Err(invalid_input(
                "give count, or lists of key ids or contexts with one per data key",
            ));
        }
    };
    key_ids.check_len(n, "key_id")?;
    contexts.check_len(n, "context")?;
    let requests: Vec<DataKeyRequest<'_>> = (0..n)
        .map(|i| DataKeyRequest {
            key_id: key_ids.get(i),
            spec,
            context: contexts.get(i).get(),
        })
        .collect();
    if with_plaintext {
        let out = py
            .detach(|| ring.generate_data_key_many(&requests))
            .map_err(KpError)?;
        results(py, out, |dk| {
            let data_key = PyDataKey::new(
                py,
                dk.key_id().to_owned(),
                dk.plaintext(),
                dk.ciphertext_blob(),
            );
            Ok(Bound::new(py, data_key)?.into_any())
        })
    } else {
        let out = py
            .detach(|| ring.generate_data_key_without_plaintext_many(&requests))
            .map_err(KpError)?;
        bytes_results(py, out)
    }
}

pub(crate) fn generate_mac_many<'py>(
    ring: &Keyring,
    py: Python<'py>,
    key_id: &Bound<'py, PyAny>,
    messages: &Bound<'py, PyAny>,
    algorithm: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyList>> {
    let messages = convert::buffers(messages, "messages")?;
    let n = messages.len();
    let key_ids = key_ids(key_id, "key_id")?;
    key_ids.check_len(n, "key_id")?;
    let algorithms = algorithms(algorithm, convert::mac_algorithm)?;
    algorithms.check_len(n, "algorithm")?;
    let requests: Vec<MacRequest<'_>> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| MacRequest {
            key_id: key_ids.get(i),
            message: m.as_slice(),
            algorithm: *algorithms.get(i),
        })
        .collect();
    let out = py
        .detach(|| ring.generate_mac_many(&requests))
        .map_err(KpError)?;
    bytes_results(py, out)
}

pub(crate) fn verify_mac_many<'py>(
    ring: &Keyring,
    py: Python<'py>,
    key_id: &Bound<'py, PyAny>,
    messages: &Bound<'py, PyAny>,
    macs: &Bound<'py, PyAny>,
    algorithm: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyList>> {
    let messages = convert::buffers(messages, "messages")?;
    let n = messages.len();
    let macs = convert::buffers(macs, "macs")?;
    if macs.len() != n {
        return Err(invalid_input(format!(
            "macs has {} items, messages has {n}",
            macs.len()
        )));
    }
    let key_ids = key_ids(key_id, "key_id")?;
    key_ids.check_len(n, "key_id")?;
    let algorithms = algorithms(algorithm, convert::mac_algorithm)?;
    algorithms.check_len(n, "algorithm")?;
    let (messages, macs) = (slices(&messages), slices(&macs));
    let requests: Vec<VerifyMacRequest<'_>> = (0..n)
        .map(|i| VerifyMacRequest {
            key_id: key_ids.get(i),
            message: messages[i],
            algorithm: *algorithms.get(i),
            mac: macs[i],
        })
        .collect();
    let out = py
        .detach(|| ring.verify_mac_many(&requests))
        .map_err(KpError)?;
    bool_results(py, out)
}

pub(crate) fn sign_many<'py>(
    ring: &Keyring,
    py: Python<'py>,
    key_id: &Bound<'py, PyAny>,
    messages: &Bound<'py, PyAny>,
    algorithm: &Bound<'py, PyAny>,
    message_type: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let messages = convert::buffers(messages, "messages")?;
    let n = messages.len();
    let key_ids = key_ids(key_id, "key_id")?;
    key_ids.check_len(n, "key_id")?;
    let algorithms = algorithms(algorithm, convert::signing_algorithm)?;
    algorithms.check_len(n, "algorithm")?;
    let message_types = message_types(message_type)?;
    message_types.check_len(n, "message_type")?;
    let requests: Vec<SignRequest<'_>> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| SignRequest {
            key_id: key_ids.get(i),
            message: m.as_slice(),
            message_type: *message_types.get(i),
            algorithm: *algorithms.get(i),
        })
        .collect();
    let out = py.detach(|| ring.sign_many(&requests)).map_err(KpError)?;
    bytes_results(py, out)
}

pub(crate) fn verify_many<'py>(
    ring: &Keyring,
    py: Python<'py>,
    key_id: &Bound<'py, PyAny>,
    messages: &Bound<'py, PyAny>,
    signatures: &Bound<'py, PyAny>,
    algorithm: &Bound<'py, PyAny>,
    message_type: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let messages = convert::buffers(messages, "messages")?;
    let n = messages.len();
    let signatures = convert::buffers(signatures, "signatures")?;
    if signatures.len() != n {
        return Err(invalid_input(format!(
            "signatures has {} items, messages has {n}",
            signatures.len()
        )));
    }
    let key_ids = key_ids(key_id, "key_id")?;
    key_ids.check_len(n, "key_id")?;
    let algorithms = algorithms(algorithm, convert::signing_algorithm)?;
    algorithms.check_len(n, "algorithm")?;
    let message_types = message_types(message_type)?;
    message_types.check_len(n, "message_type")?;
    let (messages, signatures) = (slices(&messages), slices(&signatures));
    let requests: Vec<VerifyRequest<'_>> = (0..n)
        .map(|i| VerifyRequest {
            key_id: key_ids.get(i),
            message: messages[i],
            message_type: *message_types.get(i),
            algorithm: *algorithms.get(i),
            signature: signatures[i],
        })
        .collect();
    let out = py.detach(|| ring.verify_many(&requests)).map_err(KpError)?;
    bool_results(py, out)
}
