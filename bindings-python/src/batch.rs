//! The batch forms: Python lists in, the core's `*_many` with the GIL released, Python lists
//! out.
//!
//! Every argument is read (and every mutable buffer copied) with the GIL held before the batch
//! starts, so a wrong type anywhere fails the whole call before any work is done. During the
//! batch only Rust data is touched. A failed item comes back as the `KeyplaneError` instance it
//! failed with, in its slot, whether the core refused it or its own arguments did (an unknown
//! algorithm, an invalid or oversized context, a `str` that is not valid Unicode, a released
//! buffer): such items are left out of the core's batch and their error is put in their slot.
//! Only a batch-wide problem raises: a wrong type, lists of different lengths, more items than
//! the keyring allows (counted over every item, before anything is allocated for them).

mod items;

use keyplane::{
    DataKeyRequest, DataKeySpec, DecryptRequest, EncryptRequest, Keyring, MacRequest,
    ReEncryptRequest, SignRequest, VerifyMacRequest, VerifyRequest,
};
use pyo3::exceptions::PyMemoryError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use self::items::{
    Failed, algorithms, bool_results, bytes_results, contexts, key_ids, message_types, results,
};
use crate::classes::PyDataKey;
use crate::convert::{self, Text, too_many_items};
use crate::errors::{KpError, invalid_input};
use crate::keyring::PyKeyring;

#[pymethods]
impl PyKeyring {
    /// Encrypts every item of ``plaintexts`` (a list or tuple of bytes-like objects) on the
    /// keyring's thread pool, with the GIL released. ``key_id`` and ``context`` are one value
    /// for every item or a list with one per item. Returns a list in input order: each item is
    /// the blob (``bytes``), or the ``KeyplaneError`` instance that item failed with.
    #[pyo3(signature = (key_id, plaintexts, context=None))]
    fn encrypt_many<'py>(
        &self,
        py: Python<'py>,
        key_id: &Bound<'py, PyAny>,
        plaintexts: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        encrypt_many(
            &self.ring,
            self.max_batch_items,
            py,
            key_id,
            plaintexts,
            context,
        )
    }

    /// Decrypts every blob; ``context`` is one value or a list with one per blob. Returns a
    /// list of plaintexts (``bytes``) or ``KeyplaneError`` instances, in input order.
    #[pyo3(signature = (blobs, context=None))]
    fn decrypt_many<'py>(
        &self,
        py: Python<'py>,
        blobs: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        decrypt_many(&self.ring, self.max_batch_items, py, blobs, context)
    }

    /// Re-encrypts every blob under ``destination_key_id``; each argument other than ``blobs``
    /// is one value or a list with one per blob. Returns blobs or ``KeyplaneError`` instances.
    #[pyo3(signature = (blobs, destination_key_id, *, source_context=None, destination_context=None))]
    fn re_encrypt_many<'py>(
        &self,
        py: Python<'py>,
        blobs: &Bound<'py, PyAny>,
        destination_key_id: &Bound<'py, PyAny>,
        source_context: Option<&Bound<'py, PyAny>>,
        destination_context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        re_encrypt_many(
            &self.ring,
            self.max_batch_items,
            py,
            blobs,
            destination_key_id,
            source_context,
            destination_context,
        )
    }

    /// ``count`` data keys under ``key_id`` (or one per key id if ``key_id`` is a list).
    /// Returns ``DataKey`` objects or ``KeyplaneError`` instances, in order.
    #[pyo3(signature = (key_id, count=None, *, key_spec=None, number_of_bytes=None, context=None))]
    fn generate_data_key_many<'py>(
        &self,
        py: Python<'py>,
        key_id: &Bound<'py, PyAny>,
        count: Option<&Bound<'py, PyAny>>,
        key_spec: Option<Text>,
        number_of_bytes: Option<&Bound<'py, PyAny>>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let spec = convert::data_key_spec(key_spec.as_deref(), number_of_bytes)?;
        generate_data_key_many(
            &self.ring,
            self.max_batch_items,
            py,
            key_id,
            count,
            spec,
            context,
            true,
        )
    }

    /// As ``generate_data_key_many``, returning only the blobs (``bytes``) or
    /// ``KeyplaneError`` instances.
    #[pyo3(signature = (key_id, count=None, *, key_spec=None, number_of_bytes=None, context=None))]
    fn generate_data_key_without_plaintext_many<'py>(
        &self,
        py: Python<'py>,
        key_id: &Bound<'py, PyAny>,
        count: Option<&Bound<'py, PyAny>>,
        key_spec: Option<Text>,
        number_of_bytes: Option<&Bound<'py, PyAny>>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let spec = convert::data_key_spec(key_spec.as_deref(), number_of_bytes)?;
        generate_data_key_many(
            &self.ring,
            self.max_batch_items,
            py,
            key_id,
            count,
            spec,
            context,
            false,
        )
    }

    /// The MAC of every message; ``key_id`` and ``algorithm`` are one value or a list with
    /// one per message. Returns MACs or ``KeyplaneError`` instances.
    fn generate_mac_many<'py>(
        &self,
        py: Python<'py>,
        key_id: &Bound<'py, PyAny>,
        messages: &Bound<'py, PyAny>,
        algorithm: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        generate_mac_many(
            &self.ring,
            self.max_batch_items,
            py,
            key_id,
            messages,
            algorithm,
        )
    }

    /// Checks a MAC per message. Returns ``bool`` or ``KeyplaneError`` instances.
    fn verify_mac_many<'py>(
        &self,
        py: Python<'py>,
        key_id: &Bound<'py, PyAny>,
        messages: &Bound<'py, PyAny>,
        macs: &Bound<'py, PyAny>,
        algorithm: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        verify_mac_many(
            &self.ring,
            self.max_batch_items,
            py,
            key_id,
            messages,
            macs,
            algorithm,
        )
    }

    /// Signs every message; ``key_id``, ``algorithm`` and ``message_type`` are one value or a
    /// list with one per message. Returns signatures or ``KeyplaneError`` instances.
    #[pyo3(
        signature = (key_id, messages, algorithm, *, message_type=None),
        text_signature = "(self, key_id, messages, algorithm, *, message_type='RAW')"
    )]
    fn sign_many<'py>(
        &self,
        py: Python<'py>,
        key_id: &Bound<'py, PyAny>,
        messages: &Bound<'py, PyAny>,
        algorithm: &Bound<'py, PyAny>,
        message_type: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        sign_many(
            &self.ring,
            self.max_batch_items,
            py,
            key_id,
            messages,
            algorithm,
            message_type,
        )
    }

    /// Checks a signature per message. Returns ``bool`` or ``KeyplaneError`` instances.
    #[pyo3(
        signature = (key_id, messages, signatures, algorithm, *, message_type=None),
        text_signature = "(self, key_id, messages, signatures, algorithm, *, message_type='RAW')"
    )]
    fn verify_many<'py>(
        &self,
        py: Python<'py>,
        key_id: &Bound<'py, PyAny>,
        messages: &Bound<'py, PyAny>,
        signatures: &Bound<'py, PyAny>,
        algorithm: &Bound<'py, PyAny>,
        message_type: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        verify_many(
            &self.ring,
            self.max_batch_items,
            py,
            key_id,
            messages,
            signatures,
            algorithm,
            message_type,
        )
    }
}

fn encrypt_many<'py>(
    ring: &Keyring,
    max_items: usize,
    py: Python<'py>,
    key_id: &Bound<'py, PyAny>,
    plaintexts: &Bound<'py, PyAny>,
    context: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let plaintexts = convert::buffers(plaintexts, "plaintexts", max_items)?;
    let n = plaintexts.len();
    let key_ids = key_ids(key_id, "key_id", max_items)?;
    key_ids.check_len(n, "key_id")?;
    let contexts = contexts(context, max_items)?;
    contexts.check_len(n, "context")?;
    let mut failed = Failed::new(py, n);
    let mut requests = Vec::with_capacity(n);
    for (i, p) in plaintexts.iter().enumerate() {
        let (p, k, c) = (
            failed.ok(i, p),
            failed.ok(i, key_ids.get(i)),
            failed.ok(i, contexts.get(i)),
        );
        if let (Some(p), Some(k), Some(c)) = (p, k, c) {
            requests.push(EncryptRequest {
                key_id: k,
                plaintext: p.as_slice(),
                context: c.get(),
            });
        }
    }
    let out = py
        .detach(|| ring.encrypt_many(&requests))
        .map_err(KpError)?;
    bytes_results(py, failed, out)
}

fn decrypt_many<'py>(
    ring: &Keyring,
    max_items: usize,
    py: Python<'py>,
    blobs: &Bound<'py, PyAny>,
    context: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let blobs = convert::buffers(blobs, "blobs", max_items)?;
    let n = blobs.len();
    let contexts = contexts(context, max_items)?;
    contexts.check_len(n, "context")?;
    let mut failed = Failed::new(py, n);
    let mut requests = Vec::with_capacity(n);
    for (i, b) in blobs.iter().enumerate() {
        let (b, c) = (failed.ok(i, b), failed.ok(i, contexts.get(i)));
        if let (Some(b), Some(c)) = (b, c) {
            requests.push(DecryptRequest {
                blob: b.as_slice(),
                context: c.get(),
            });
        }
    }
    let out = py
        .detach(|| ring.decrypt_many(&requests))
        .map_err(KpError)?;
    bytes_results(py, failed, out)
}

fn re_encrypt_many<'py>(
    ring: &Keyring,
    max_items: usize,
    py: Python<'py>,
    blobs: &Bound<'py, PyAny>,
    destination_key_id: &Bound<'py, PyAny>,
    source_context: Option<&Bound<'py, PyAny>>,
    destination_context: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let blobs = convert::buffers(blobs, "blobs", max_items)?;
    let n = blobs.len();
    let destinations = key_ids(destination_key_id, "destination_key_id", max_items)?;
    destinations.check_len(n, "destination_key_id")?;
    let sources = contexts(source_context, max_items)?;
    sources.check_len(n, "source_context")?;
    let destination_contexts = contexts(destination_context, max_items)?;
    destination_contexts.check_len(n, "destination_context")?;
    let mut failed = Failed::new(py, n);
    let mut requests = Vec::with_capacity(n);
    for (i, b) in blobs.iter().enumerate() {
        let (b, s, d, dc) = (
            failed.ok(i, b),
            failed.ok(i, sources.get(i)),
            failed.ok(i, destinations.get(i)),
            failed.ok(i, destination_contexts.get(i)),
        );
        if let (Some(b), Some(s), Some(d), Some(dc)) = (b, s, d, dc) {
            requests.push(ReEncryptRequest {
                blob: b.as_slice(),
                source_context: s.get(),
                destination_key_id: d,
                destination_context: dc.get(),
            });
        }
    }
    let out = py
        .detach(|| ring.re_encrypt_many(&requests))
        .map_err(KpError)?;
    bytes_results(py, failed, out)
}

#[allow(clippy::too_many_arguments)]
fn generate_data_key_many<'py>(
    ring: &Keyring,
    max_items: usize,
    py: Python<'py>,
    key_id: &Bound<'py, PyAny>,
    count: Option<&Bound<'py, PyAny>>,
    spec: DataKeySpec,
    context: Option<&Bound<'py, PyAny>>,
    with_plaintext: bool,
) -> PyResult<Bound<'py, PyList>> {
    let key_ids = key_ids(key_id, "key_id", max_items)?;
    let contexts = contexts(context, max_items)?;
    let count = count.map(|c| convert::count(c, "count")).transpose()?;
    let n = match (count, key_ids.len(), contexts.len()) {
        (Some(n), _, _) | (None, Some(n), _) | (None, None, Some(n)) => n,
        (None, None, None) => {
            return Err(invalid_input(
                "give count, or lists of key ids or contexts with one per data key",
            ));
        }
    };
    // Before anything is allocated per item: `count` is the caller's number.
    if n > max_items {
        return Err(too_many_items());
    }
    key_ids.check_len(n, "key_id")?;
    contexts.check_len(n, "context")?;
    let mut failed = Failed::new(py, n);
    // `n` may be as large as a keyring's own (caller-chosen) limit: a request list that cannot
    // be allocated is an error, not an abort.
    let mut requests = Vec::new();
    requests.try_reserve_exact(n).map_err(|_| {
        PyMemoryError::new_err(format!("not enough memory for a batch of {n} items"))
    })?;
    for i in 0..n {
        let (k, c) = (failed.ok(i, key_ids.get(i)), failed.ok(i, contexts.get(i)));
        if let (Some(k), Some(c)) = (k, c) {
            requests.push(DataKeyRequest {
                key_id: k,
                spec,
                context: c.get(),
            });
        }
    }
    if with_plaintext {
        let out = py
            .detach(|| ring.generate_data_key_many(&requests))
            .map_err(KpError)?;
        let ok = |dk: &keyplane::BatchDataKey| {
            let data_key = PyDataKey::new(
                py,
                dk.key_id().to_owned(),
                dk.plaintext(),
                dk.ciphertext_blob(),
            );
            Ok(Bound::new(py, data_key)?.into_any())
        };
        let list = failed
            .merge(&out, ok)
            .unwrap_or_else(|| results(py, &out, ok));
        py.detach(move || drop(out));
        list
    } else {
        let out = py
            .detach(|| ring.generate_data_key_without_plaintext_many(&requests))
            .map_err(KpError)?;
        bytes_results(py, failed, out)
    }
}

fn generate_mac_many<'py>(
    ring: &Keyring,
    max_items: usize,
    py: Python<'py>,
    key_id: &Bound<'py, PyAny>,
    messages: &Bound<'py, PyAny>,
    algorithm: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyList>> {
    let messages = convert::buffers(messages, "messages", max_items)?;
    let n = messages.len();
    let key_ids = key_ids(key_id, "key_id", max_items)?;
    key_ids.check_len(n, "key_id")?;
    let algorithms = algorithms(algorithm, max_items, convert::mac_algorithm)?;
    algorithms.check_len(n, "algorithm")?;
    let mut failed = Failed::new(py, n);
    let mut requests = Vec::with_capacity(n);
    for (i, m) in messages.iter().enumerate() {
        let (m, k, a) = (
            failed.ok(i, m),
            failed.ok(i, key_ids.get(i)),
            failed.ok(i, algorithms.get(i)),
        );
        if let (Some(m), Some(k), Some(a)) = (m, k, a) {
            requests.push(MacRequest {
                key_id: k,
                message: m.as_slice(),
                algorithm: *a,
            });
        }
    }
    let out = py
        .detach(|| ring.generate_mac_many(&requests))
        .map_err(KpError)?;
    bytes_results(py, failed, out)
}

#[allow(clippy::too_many_arguments)]
fn verify_mac_many<'py>(
    ring: &Keyring,
    max_items: usize,
    py: Python<'py>,
    key_id: &Bound<'py, PyAny>,
    messages: &Bound<'py, PyAny>,
    macs: &Bound<'py, PyAny>,
    algorithm: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyList>> {
    let messages = convert::buffers(messages, "messages", max_items)?;
    let n = messages.len();
    let macs = convert::buffers(macs, "macs", max_items)?;
    if macs.len() != n {
        return Err(invalid_input(format!(
            "macs has {} items, messages has {n}",
            macs.len()
        )));
    }
    let key_ids = key_ids(key_id, "key_id", max_items)?;
    key_ids.check_len(n, "key_id")?;
    let algorithms = algorithms(algorithm, max_items, convert::mac_algorithm)?;
    algorithms.check_len(n, "algorithm")?;
    let mut failed = Failed::new(py, n);
    let mut requests = Vec::with_capacity(n);
    for (i, (m, t)) in messages.iter().zip(&macs).enumerate() {
        let (m, t, k, a) = (
            failed.ok(i, m),
            failed.ok(i, t),
            failed.ok(i, key_ids.get(i)),
            failed.ok(i, algorithms.get(i)),
        );
        if let (Some(m), Some(t), Some(k), Some(a)) = (m, t, k, a) {
            requests.push(VerifyMacRequest {
                key_id: k,
                message: m.as_slice(),
                algorithm: *a,
                mac: t.as_slice(),
            });
        }
    }
    let out = py
        .detach(|| ring.verify_mac_many(&requests))
        .map_err(KpError)?;
    bool_results(py, failed, out)
}

#[allow(clippy::too_many_arguments)]
fn sign_many<'py>(
    ring: &Keyring,
    max_items: usize,
    py: Python<'py>,
    key_id: &Bound<'py, PyAny>,
    messages: &Bound<'py, PyAny>,
    algorithm: &Bound<'py, PyAny>,
    message_type: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let messages = convert::buffers(messages, "messages", max_items)?;
    let n = messages.len();
    let key_ids = key_ids(key_id, "key_id", max_items)?;
    key_ids.check_len(n, "key_id")?;
    let algorithms = algorithms(algorithm, max_items, convert::signing_algorithm)?;
    algorithms.check_len(n, "algorithm")?;
    let message_types = message_types(message_type, max_items)?;
    message_types.check_len(n, "message_type")?;
    let mut failed = Failed::new(py, n);
    let mut requests = Vec::with_capacity(n);
    for (i, m) in messages.iter().enumerate() {
        let (m, k, a, t) = (
            failed.ok(i, m),
            failed.ok(i, key_ids.get(i)),
            failed.ok(i, algorithms.get(i)),
            failed.ok(i, message_types.get(i)),
        );
        if let (Some(m), Some(k), Some(a), Some(t)) = (m, k, a, t) {
            requests.push(SignRequest {
                key_id: k,
                message: m.as_slice(),
                message_type: *t,
                algorithm: *a,
            });
        }
    }
    let out = py.detach(|| ring.sign_many(&requests)).map_err(KpError)?;
    bytes_results(py, failed, out)
}

#[allow(clippy::too_many_arguments)]
fn verify_many<'py>(
    ring: &Keyring,
    max_items: usize,
    py: Python<'py>,
    key_id: &Bound<'py, PyAny>,
    messages: &Bound<'py, PyAny>,
    signatures: &Bound<'py, PyAny>,
    algorithm: &Bound<'py, PyAny>,
    message_type: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let messages = convert::buffers(messages, "messages", max_items)?;
    let n = messages.len();
    let signatures = convert::buffers(signatures, "signatures", max_items)?;
    if signatures.len() != n {
        return Err(invalid_input(format!(
            "signatures has {} items, messages has {n}",
            signatures.len()
        )));
    }
    let key_ids = key_ids(key_id, "key_id", max_items)?;
    key_ids.check_len(n, "key_id")?;
    let algorithms = algorithms(algorithm, max_items, convert::signing_algorithm)?;
    algorithms.check_len(n, "algorithm")?;
    let message_types = message_types(message_type, max_items)?;
    message_types.check_len(n, "message_type")?;
    let mut failed = Failed::new(py, n);
    let mut requests = Vec::with_capacity(n);
    for (i, (m, sig)) in messages.iter().zip(&signatures).enumerate() {
        let (m, sig, k, a, t) = (
            failed.ok(i, m),
            failed.ok(i, sig),
            failed.ok(i, key_ids.get(i)),
            failed.ok(i, algorithms.get(i)),
            failed.ok(i, message_types.get(i)),
        );
        if let (Some(m), Some(sig), Some(k), Some(a), Some(t)) = (m, sig, k, a, t) {
            requests.push(VerifyRequest {
                key_id: k,
                message: m.as_slice(),
                message_type: *t,
                algorithm: *a,
                signature: sig.as_slice(),
            });
        }
    }
    let out = py.detach(|| ring.verify_many(&requests)).map_err(KpError)?;
    bool_results(py, failed, out)
}
