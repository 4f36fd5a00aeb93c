//! `keyplane.Keyring`: the handle (a core keyring, its batch limit, what `Keyring.open` could
//! not load), its construction (`Keyring(...)`, `Keyring.open`), and its audit hookup: the
//! callback's owner each handle keeps alive, `with_caller`, and the audit writer its last handle
//! joins on drop.
//!
//! The operations are `#[pymethods]` blocks of their own, one per concern: `admin` (key
//! administration), `symmetric` (the envelope data plane), `asymmetric` (MACs, signatures,
//! RSA-OAEP), `persistence` (sealed records, imported material), `batch`, and `insecure` (the
//! test hooks, only with their feature). Each cryptographic
//! call, batch and key generation runs with the GIL released (`Python::detach`); inside, only
//! Rust data is touched: borrowed `bytes`, private copies of mutable buffers (see
//! `convert::Buf`), contexts and key ids.

use core::num::NonZeroU64;
use std::path::PathBuf;
use std::sync::Arc;

use pyo3::PyTraverseError;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;

use crate::audit::{self, PyAudit};
use crate::audit_reports::PyKeyLastUsage;
use crate::classes::{PyLoadProblem, PyLocalRootKey};
use crate::convert::{Text, count};
use crate::errors::{KpError, KpResult, invalid_input};

/// A set of named, versioned keys whose material never leaves in plaintext, and every operation
/// on them.
///
/// ``Keyring(threads=None, encryption_budget=None, max_batch_items=None, audit=None)``:
///
/// - ``threads``: batches run on a pool of the keyring's own with this many threads (0: one per
///   core; at most 1024); ``None`` shares one process-wide pool with a thread per core. The
///   calling thread works on its batch too (GIL released), with up to ``threads - 1`` pool
///   threads.
/// - ``encryption_budget``: encryptions allowed per key version in this keyring before the key
///   rotates by itself (or refuses); default 2**32.
/// - ``max_batch_items``: the most items one batch call takes (default 100,000).
/// - ``audit``: a ``keyplane.Audit`` that records every operation (see its docstring).
///
/// ``Keyring.open(store_dir, root_key, ...)`` opens a keyring persisted in a directory.
///
/// A keyring is safe to share between threads; every call into it releases the GIL.
#[pyclass(frozen, module = "keyplane", name = "Keyring")]
pub(crate) struct PyKeyring {
    pub(crate) ring: keyplane::Keyring,
    /// Whether the keyring audits: then dropping its last handle waits for the writer thread.
    audited: bool,
    /// The most items one batch may have, checked here too so that a caller's count or list
    /// length is refused before anything is allocated for it.
    pub(crate) max_batch_items: usize,
    /// The records `Keyring.open` could not load (shared by `with_caller` handles).
    load_problems: Arc<[(PathBuf, keyplane::Error)]>,
    /// The owner of the audit callback; each handle (`with_caller` too) holds a reference.
    callback: Option<Py<audit::PyAuditCallback>>,
}

impl Drop for PyKeyring {
    fn drop(&mut self) {
        if self.audited {
            // The last handle's drop joins the audit writer thread, which may be waiting for
            // the GIL to run a Python callback: drop it with the GIL released. On a writer
            // thread (an audit callback let go of the keyring's last handle) the join could be
            // of this very thread: another thread drops it once the callback has returned,
            // and only then this handle's reference to the callback's owner (letting go of it
            // earlier would close the callback and fail the events still queued). Without the
            // GIL, pyo3 defers that release to the next thread that holds it.
            // The placeholder cannot fail to build: this handle exists, so the module passed
            // the same check when it was made, and a process's FIPS mode never changes. Were it
            // to fail, the keyring is dropped in place (with the GIL) instead of panicking.
            let Ok(placeholder) = keyplane::Keyring::builder().try_build() else {
                return;
            };
            let ring = core::mem::replace(&mut self.ring, placeholder);
            if audit::in_callback() {
                let callback = self.callback.take();
                let _ = std::thread::Builder::new()
                    .name("keyplane-audit-close".into())
                    .spawn(move || {
                        drop(ring);
                        drop(callback);
                    });
            } else {
                Python::attach(|py| py.detach(move || drop(ring)));
            }
        }
    }
}

/// A keyring builder from the constructor's options.
fn builder(
    py: Python<'_>,
    threads: Option<&Bound<'_, PyAny>>,
    encryption_budget: Option<&Bound<'_, PyAny>>,
    max_batch_items: Option<&Bound<'_, PyAny>>,
    audit: Option<&Bound<'_, PyAudit>>,
) -> PyResult<(
    keyplane::KeyringBuilder,
    usize,
    Option<Py<audit::PyAuditCallback>>,
)> {
    let mut builder = keyplane::Keyring::builder();
    let mut max_items = keyplane::batch::DEFAULT_MAX_BATCH_ITEMS;
    if let Some(threads) = threads {
        builder = builder
            .threads(count(threads, "threads")?)
            .map_err(KpError)?;
    }
    if let Some(budget) = encryption_budget {
        let budget = u64::try_from(count(budget, "encryption_budget")?)
            .ok()
            .and_then(NonZeroU64::new)
            .ok_or_else(|| invalid_input("encryption_budget must be at least 1"))?;
        builder = builder.encryption_budget(budget);
    }
    if let Some(max) = max_batch_items {
        max_items = count(max, "max_batch_items")?;
        builder = builder.max_batch_items(max_items);
    }
    let mut slot = None;
    if let Some(audit) = audit {
        let (config, callback) = audit.get().config(py)?;
        builder = builder.audit(config).map_err(KpError)?;
        slot = callback;
    }
    Ok((builder, max_items, slot))
}

#[pymethods]
impl PyKeyring {
    #[new]
    #[pyo3(signature = (*, threads=None, encryption_budget=None, max_batch_items=None, audit=None))]
    fn new(
        py: Python<'_>,
        threads: Option<&Bound<'_, PyAny>>,
        encryption_budget: Option<&Bound<'_, PyAny>>,
        max_batch_items: Option<&Bound<'_, PyAny>>,
        audit: Option<&Bound<'_, PyAudit>>,
    ) -> PyResult<Self> {
        let (builder, max_batch_items, callback) =
            builder(py, threads, encryption_budget, max_batch_items, audit)?;
        Ok(Self {
            ring: builder.try_build().map_err(KpError)?,
            audited: audit.is_some(),
            max_batch_items,
            callback,
            load_problems: Arc::new([]),
        })
    }

    /// Opens (creating it if needed) the keyring persisted in the directory ``store_dir``:
    /// every key whose sealed record opens with ``root_key`` (a ``LocalRootKey``) is loaded,
    /// and every later change (create, import, rotate, state, alias) is written there before
    /// the call returns. Records that cannot be loaded are left out and listed in the
    /// keyring's ``load_problems``; every other key loads.
    ///
    /// The store is locked for as long as the keyring lives: opening it a second time, from
    /// this process or another, raises ``StorageError`` after waiting up to 1 s for the lock
    /// (with the GIL released), as does a directory that cannot be
    /// created or read. The other options are the constructor's.
    #[staticmethod]
    #[pyo3(signature = (store_dir, root_key, *, threads=None, encryption_budget=None, max_batch_items=None, audit=None))]
    #[allow(clippy::too_many_arguments)]
    fn open(
        py: Python<'_>,
        store_dir: PathBuf,
        root_key: &Bound<'_, PyLocalRootKey>,
        threads: Option<&Bound<'_, PyAny>>,
        encryption_budget: Option<&Bound<'_, PyAny>>,
        max_batch_items: Option<&Bound<'_, PyAny>>,
        audit: Option<&Bound<'_, PyAudit>>,
    ) -> PyResult<Self> {
        let (builder, max_batch_items, callback) =
            builder(py, threads, encryption_budget, max_batch_items, audit)?;
        let root: Arc<dyn keyplane::RootKey> = root_key.get().inner.clone();
        let (ring, problems) = py
            .detach(|| {
                let store = keyplane::Store::open(&store_dir)?;
                builder.open(store, root)
            })
            .map_err(KpError)?;
        Ok(Self {
            ring,
            audited: audit.is_some(),
            max_batch_items,
            callback,
            load_problems: problems.into_iter().map(|p| (p.path, p.error)).collect(),
        })
    }

    /// The sealed records ``Keyring.open`` could not load, as ``LoadProblem`` objects (``path``
    /// and ``error``, an exception instance); empty for a keyring not opened from a store.
    #[getter]
    fn load_problems(&self) -> Vec<PyLoadProblem> {
        self.load_problems
            .iter()
            .map(|(path, error)| PyLoadProblem {
                path: path.clone(),
                error: *error,
            })
            .collect()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Keyring(keys={})",
            py.detach(|| self.ring.list_keys()).len()
        )
    }

    // ----- audit ------------------------------------------------------------------------------

    /// A handle on the same keyring (same keys, same audit trail) whose calls the audit trail
    /// attributes to ``caller`` (a service, user or tenant name of your choosing).
    fn with_caller(&self, py: Python<'_>, caller: Text) -> Self {
        Self {
            ring: self.ring.with_caller(&caller),
            audited: self.audited,
            max_batch_items: self.max_batch_items,
            load_problems: Arc::clone(&self.load_problems),
            callback: self.callback.as_ref().map(|c| c.clone_ref(py)),
        }
    }

    /// The garbage collector's view of this handle's reference to the audit callback's owner,
    /// so a cycle through the callback (one that refers to the keyring it audits) is found;
    /// the owner breaks it (see `audit::PyAuditCallback`).
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Some(callback) = &self.callback {
            visit.call(callback)?;
        }
        Ok(())
    }

    /// The caller identity of this handle (``with_caller``), or ``None``.
    #[getter]
    fn caller(&self) -> Option<&str> {
        self.ring.caller()
    }

    /// Returns once every operation recorded before the call has been delivered (the callback
    /// has returned for it, or the log is written and synced). Releases the GIL while it
    /// waits. Does nothing on a keyring without audit. Raises ``RuntimeError`` when called from
    /// an audit callback, ``StorageError`` if the audit writer has stopped.
    fn flush_audit(&self, py: Python<'_>) -> PyResult<()> {
        audit::refuse_in_callback("flush_audit")?;
        Ok(py.detach(|| self.ring.flush_audit()).map_err(KpError)?)
    }

    /// Events dropped because the audit queue was full (with ``back_pressure="drop"``).
    #[getter]
    fn audit_dropped(&self) -> u64 {
        self.ring.audit_dropped()
    }

    /// Times the audit sink failed: a callback that raised, a log that could not be written.
    #[getter]
    fn audit_failures(&self) -> u64 {
        self.ring.audit_failures()
    }

    /// When ``key_id`` was last used, by which operation, and how often each operation used it
    /// (``KeyLastUsage``), as the audit writer has seen so far (call ``flush_audit`` first to
    /// include operations still queued). ``InvalidInputError`` on a keyring without audit.
    fn key_last_usage(&self, py: Python<'_>, key_id: Text) -> KpResult<PyKeyLastUsage> {
        Ok(PyKeyLastUsage::new(
            py.detach(|| self.ring.key_last_usage(&key_id))?,
        ))
    }
}
