//! The `keyplane.Keyring` handle: its fields, its construction from the constructor's options
//! (and from a store, for `Keyring.open`), and its audit hookup: the callback's owner each
//! handle keeps alive, and the audit writer its last handle joins on drop. The class's Python
//! methods are in `keyring.rs`.

use core::num::NonZeroU64;
use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;

use crate::audit::{self, PyAudit, PyLoadProblem};
use crate::classes::PyLocalRootKey;
use crate::convert::{Text, count};
use crate::errors::{KpError, invalid_input};

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
    pub(crate) callback: Option<Py<audit::PyAuditCallback>>,
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
            let ring = core::mem::replace(&mut self.ring, keyplane::Keyring::new());
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

impl PyKeyring {
    /// `Keyring(...)`: a keyring from the constructor's options.
    pub(crate) fn from_options(
        py: Python<'_>,
        threads: Option<&Bound<'_, PyAny>>,
        encryption_budget: Option<&Bound<'_, PyAny>>,
        max_batch_items: Option<&Bound<'_, PyAny>>,
        audit: Option<&Bound<'_, PyAudit>>,
    ) -> PyResult<Self> {
        let (builder, max_batch_items, callback) =
            builder(py, threads, encryption_budget, max_batch_items, audit)?;
        Ok(Self {
            ring: builder.build(),
            audited: audit.is_some(),
            max_batch_items,
            callback,
            load_problems: Arc::new([]),
        })
    }

    /// `Keyring.open(...)`: the keyring persisted in `store_dir`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn open_store(
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

    /// `Keyring.load_problems`.
    pub(crate) fn load_problem_list(&self) -> Vec<PyLoadProblem> {
        self.load_problems
            .iter()
            .map(|(path, error)| PyLoadProblem {
                path: path.clone(),
                error: *error,
            })
            .collect()
    }

    /// `Keyring.with_caller`: a handle on the same keyring, audit trail and callback.
    pub(crate) fn for_caller(&self, py: Python<'_>, caller: Text) -> Self {
        Self {
            ring: self.ring.with_caller(&caller),
            audited: self.audited,
            max_batch_items: self.max_batch_items,
            load_problems: Arc::clone(&self.load_problems),
            callback: self.callback.as_ref().map(|c| c.clone_ref(py)),
        }
    }
}
