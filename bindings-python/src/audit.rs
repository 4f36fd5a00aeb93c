//! The audit trail from Python: `keyplane.Audit` (how a keyring audits) and the events a
//! Python callback receives. Per-key usage and the check of a file log are in `audit_reports`.
//!
//! A Python callback runs on the core's writer thread, which attaches to the interpreter for
//! each event. The keyring therefore never waits on that thread while holding the GIL: every
//! call that can record an event, `flush_audit`, and the drop of a keyring's last handle run
//! with the GIL released (see `keyring.rs`).
//!
//! The writer must also never run a callback the interpreter can no longer run safely: once
//! the garbage collector has found the callback unreachable (it is about to clear the objects
//! the callback uses) or once the interpreter is exiting (attaching a thread then hangs or
//! kills it). A [`PyAuditCallback`] owns the callback and closes it at both moments, before
//! anything is cleared or finalized; events the writer still holds are then counted as
//! failures instead of delivered.

use core::cell::Cell;
use core::sync::atomic::{AtomicBool, Ordering};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use keyplane::audit::{AuditContext, AuditKey, BackPressure, ContextLogging, FileSink};
use keyplane::{AuditConfig, AuditEvent, AuditSink};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyCFunction, PyDict, PyString, PyWeakrefReference};
use pyo3::{PyTraverseError, intern};
use zeroize::Zeroizing;

use crate::convert::{Buf, Text, count, repr_str};
use crate::errors::{KpError, invalid_input};

thread_local! {
    /// On a writer thread while it runs a Python callback: that callback's shared state (its
    /// address, as an identity), else 0.
    static IN_CALLBACK: Cell<usize> = const { Cell::new(0) };
}

/// Whether the current thread is running an audit callback.
pub(crate) fn in_callback() -> bool {
    IN_CALLBACK.get() != 0
}

/// Refuses a call that would wait for the writer thread from the writer thread itself.
pub(crate) fn refuse_in_callback(what: &str) -> PyResult<()> {
    if in_callback() {
        return Err(PyRuntimeError::new_err(format!(
            "{what} cannot be called from an audit callback (it would wait for itself)"
        )));
    }
    Ok(())
}

/// How a keyring records its audit trail: to a Python callable, or to a hash-chained JSON Lines
/// log in a directory.
///
/// ``Audit(*, callback=None, log_dir=None, audit_key=None, context="full",
/// back_pressure="block", queue_capacity=None, max_file_bytes=None, checkpoint_every=None)``:
///
/// - ``callback``: called with one ``AuditEvent`` per operation, in order, on the keyring's
///   audit writer thread (it takes the GIL for each call). An exception it raises is reported
///   through ``sys.unraisablehook``, counted in ``Keyring.audit_failures`` and otherwise
///   ignored; the keyring carries on. The callback must not use the keyring it audits.
/// - ``log_dir`` (with ``audit_key``, 32 bytes): a new directory (or one without a log) for
///   ``audit-000001.jsonl``, …; each line chains the SHA-256 of the one before and checkpoints
///   are HMAC-SHA256'd under ``audit_key``. Check it with ``keyplane.verify_audit_log``.
///   ``max_file_bytes`` (default 64 MiB) and ``checkpoint_every`` (default 1000 records) tune it.
/// - ``context``: ``"full"`` (every key and value), ``"keys_only"`` or ``"none"``.
/// - ``back_pressure``: when the queue is full, ``"block"`` (the caller waits; nothing is lost)
///   or ``"drop"`` (the event is dropped and counted in ``Keyring.audit_dropped``).
/// - ``queue_capacity``: events each calling thread may have waiting for the writer (default
///   4096, at most 1048576).
///
/// Give exactly one of ``callback`` and ``log_dir``. An ``Audit`` can configure several
/// keyrings with a callback; a ``log_dir`` serves one keyring (a log is one chain).
#[pyclass(frozen, module = "keyplane", name = "Audit")]
pub(crate) struct PyAudit {
    callback: Option<Py<PyAny>>,
    log_dir: Option<PathBuf>,
    audit_key: Option<Zeroizing<Vec<u8>>>,
    context: ContextLogging,
    back_pressure: BackPressure,
    queue_capacity: Option<usize>,
    max_file_bytes: Option<u64>,
    checkpoint_every: Option<u64>,
}

fn context_name(c: ContextLogging) -> &'static str {
    match c {
        ContextLogging::Full => "full",
        ContextLogging::KeysOnly => "keys_only",
        ContextLogging::None => "none",
    }
}

fn back_pressure_name(b: BackPressure) -> &'static str {
    match b {
        BackPressure::Block => "block",
        BackPressure::Drop => "drop",
    }
}

fn positive_u64(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<u64>> {
    obj.map(|o| {
        u64::try_from(count(o, what)?)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| invalid_input(format!("{what} must be at least 1")))
    })
    .transpose()
}

/// What a keyring's audit sink (on the writer thread) shares with the [`PyAuditCallback`] that
/// owns the callback.
struct CallbackShared {
    /// The callable. Locked only with the GIL held, and never across a call into Python.
    callback: Mutex<Option<Py<PyAny>>>,
    /// Whether the writer may still run the callback (see the module's documentation).
    open: AtomicBool,
    /// Held by the writer from before it attaches to the interpreter until the callback has
    /// returned, so that closing can wait out a call in progress.
    busy: Mutex<()>,
    /// The process that made it: a forked child has no writer thread, and its copy of `busy`
    /// may be held by the parent's writer for good.
    pid: u32,
}

/// Set at interpreter exit: callbacks made after it start closed.
static EXITING: AtomicBool = AtomicBool::new(false);

/// Every open callback and the weak reference through which the garbage collector tells us it
/// found the callback's owner unreachable. The weak references must be reachable themselves
/// for the collector to call back, hence a registry outside any Python object. Locked only
/// with the GIL held.
static OPEN_CALLBACKS: Mutex<Vec<(Arc<CallbackShared>, Py<PyWeakrefReference>)>> =
    Mutex::new(Vec::new());

impl CallbackShared {
    fn id(self: &Arc<Self>) -> usize {
        Arc::as_ptr(self).addr()
    }

    /// Stops the writer from running the callback again and waits out a call in progress
    /// (with the GIL released, so that the call can finish). On the writer thread inside this
    /// very callback there is nothing to wait for: its later events see the callback closed.
    fn close(self: &Arc<Self>, py: Python<'_>) {
        self.open.store(false, Ordering::Release);
        if IN_CALLBACK.get() != self.id() && self.pid == std::process::id() {
            py.detach(|| drop(self.busy.lock().unwrap_or_else(PoisonError::into_inner)));
        }
    }
}

/// Closes the callback whose owner the garbage collector found unreachable (or freed): called
/// by the weak reference, before the collector clears or finalizes anything.
fn owner_gone(py: Python<'_>, weakref: &Bound<'_, PyAny>) {
    let gone = {
        let mut open = OPEN_CALLBACKS
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        open.iter()
            .position(|(_, w)| w.as_ptr() == weakref.as_ptr())
            .map(|i| open.swap_remove(i))
    };
    if let Some((shared, weakref)) = gone {
        shared.close(py);
        drop(weakref);
    }
}

/// At interpreter exit (`atexit`, before finalization starts), closes every callback: a thread
/// that attaches to an interpreter being finalized hangs or is killed, and the keyrings'
/// drops would wait for it.
fn at_exit(py: Python<'_>) {
    EXITING.store(true, Ordering::Release);
    let all = core::mem::take(
        &mut *OPEN_CALLBACKS
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    for (shared, weakref) in all {
        shared.close(py);
        drop(weakref);
    }
}

/// Registers [`at_exit`] once per process (a `PyOnceLock`, not a `std::sync::Once`: another
/// thread waiting for it must not hold the GIL the registering thread may need).
fn register_at_exit(py: Python<'_>) -> PyResult<()> {
    static REGISTERED: PyOnceLock<()> = PyOnceLock::new();
    REGISTERED
        .get_or_try_init(py, || {
            let hook = PyCFunction::new_closure(py, None, None, |args, _| {
                at_exit(args.py());
                PyResult::Ok(())
            })?;
            py.import(intern!(py, "atexit"))?
                .call_method1(intern!(py, "register"), (hook,))
                .map(drop)
        })
        .map(drop)
}

/// The owner of a keyring's audit callback: every Python handle of the keyring (``with_caller``
/// handles included) holds one reference to it, and it holds the one reference to the callback,
/// so the garbage collector counts each reference once and can free a cycle through the
/// callback (a callback that refers to the keyring it audits).
#[pyclass(
    frozen,
    weakref,
    module = "keyplane._keyplane",
    name = "_AuditCallback"
)]
pub(crate) struct PyAuditCallback {
    shared: Arc<CallbackShared>,
}

impl PyAuditCallback {
    /// A new owner for `callback`, and the sink that runs it.
    fn new(py: Python<'_>, callback: Py<PyAny>) -> PyResult<(Py<Self>, PySink)> {
        register_at_exit(py)?;
        let shared = Arc::new(CallbackShared {
            callback: Mutex::new(Some(callback)),
            open: AtomicBool::new(!EXITING.load(Ordering::Acquire)),
            busy: Mutex::new(()),
            pid: std::process::id(),
        });
        let owner = Bound::new(
            py,
            Self {
                shared: Arc::clone(&shared),
            },
        )?;
        let on_gone = PyCFunction::new_closure(py, None, None, |args, _| {
            owner_gone(args.py(), &args.get_item(0)?);
            PyResult::Ok(())
        })?;
        let weakref = PyWeakrefReference::new_with(&owner, on_gone)?;
        OPEN_CALLBACKS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((Arc::clone(&shared), weakref.unbind()));
        Ok((owner.unbind(), PySink { shared }))
    }
}

#[pymethods]
impl PyAuditCallback {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        // Never contended here: the lock is only taken with the GIL held, which the collector
        // holds now.
        if let Ok(callback) = self.shared.callback.try_lock()
            && let Some(callback) = callback.as_ref()
        {
            visit.call(callback)?;
        }
        Ok(())
    }

    fn __clear__(&self) {
        // Closed already: the weak reference's callback runs before the collector clears
        // anything. Closing again only sets the flag.
        self.shared.open.store(false, Ordering::Release);
        let callback = self
            .shared
            .callback
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(callback);
    }
}

impl PyAudit {
    /// A fresh core configuration (a sink is consumed by the keyring it audits), and the
    /// callback's owner when the sink is a callback.
    pub(crate) fn config(
        &self,
        py: Python<'_>,
    ) -> PyResult<(AuditConfig, Option<Py<PyAuditCallback>>)> {
        let mut owner = None;
        let mut config = match (&self.callback, &self.log_dir, &self.audit_key) {
            (Some(callback), _, _) => {
                let (callback, sink) = PyAuditCallback::new(py, callback.clone_ref(py))?;
                owner = Some(callback);
                AuditConfig::new(sink)
            }
            (None, Some(dir), Some(key)) => {
                let key = AuditKey::new(key).map_err(KpError)?;
                let mut sink = py.detach(|| FileSink::create(dir, key)).map_err(KpError)?;
                if let Some(bytes) = self.max_file_bytes {
                    sink = sink.max_file_bytes(bytes);
                }
                if let Some(records) = self.checkpoint_every {
                    sink = sink.checkpoint_every(records);
                }
                AuditConfig::new(sink)
            }
            _ => return Err(KpError(keyplane::Error::Internal).into()),
        };
        config = config
            .context(self.context)
            .back_pressure(self.back_pressure);
        if let Some(capacity) = self.queue_capacity {
            config = config.queue_capacity(capacity);
        }
        Ok((config, owner))
    }
}

#[pymethods]
impl PyAudit {
    #[new]
    #[pyo3(
        signature = (
            *, callback=None, log_dir=None, audit_key=None, context=None, back_pressure=None,
            queue_capacity=None, max_file_bytes=None, checkpoint_every=None
        ),
        text_signature = "(*, callback=None, log_dir=None, audit_key=None, context='full', \
                          back_pressure='block', queue_capacity=None, max_file_bytes=None, \
                          checkpoint_every=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        callback: Option<Bound<'_, PyAny>>,
        log_dir: Option<PathBuf>,
        audit_key: Option<Buf<'_>>,
        context: Option<Text>,
        back_pressure: Option<Text>,
        queue_capacity: Option<&Bound<'_, PyAny>>,
        max_file_bytes: Option<&Bound<'_, PyAny>>,
        checkpoint_every: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let context = match context.as_deref().unwrap_or("full") {
            "full" => ContextLogging::Full,
            "keys_only" => ContextLogging::KeysOnly,
            "none" => ContextLogging::None,
            other => {
                return Err(invalid_input(format!(
                    "unknown context logging {other:?}; expected one of full, keys_only, none"
                )));
            }
        };
        let back_pressure = match back_pressure.as_deref().unwrap_or("block") {
            "block" => BackPressure::Block,
            "drop" => BackPressure::Drop,
            other => {
                return Err(invalid_input(format!(
                    "unknown back pressure {other:?}; expected one of block, drop"
                )));
            }
        };
        if let Some(callback) = &callback
            && !callback.is_callable()
        {
            return Err(PyTypeError::new_err("callback must be callable"));
        }
        let audit_key = match (&callback, &log_dir, audit_key) {
            (Some(_), Some(_), _) => {
                return Err(invalid_input("give callback or log_dir, not both"));
            }
            (None, None, _) => return Err(invalid_input("give callback or log_dir")),
            (Some(_), None, Some(_)) => {
                return Err(invalid_input(
                    "audit_key is for a log_dir; a callback log has no checkpoints",
                ));
            }
            (None, Some(_), None) => {
                return Err(invalid_input("a log_dir needs an audit_key (32 bytes)"));
            }
            (None, Some(_), Some(key)) => {
                AuditKey::new(key.as_slice()).map_err(KpError)?;
                Some(Zeroizing::new(key.as_slice().to_vec()))
            }
            (Some(_), None, None) => None,
        };
        if callback.is_some() && (max_file_bytes.is_some() || checkpoint_every.is_some()) {
            return Err(invalid_input(
                "max_file_bytes and checkpoint_every are for a log_dir",
            ));
        }
        // Refused rather than clamped by the core: the caller asked for something else.
        let queue_capacity = positive_u64(queue_capacity, "queue_capacity")?
            .map(|n| {
                usize::try_from(n)
                    .ok()
                    .filter(|n| *n <= keyplane::audit::MAX_QUEUE_CAPACITY)
                    .ok_or_else(|| invalid_input("queue_capacity must be at most 1048576"))
            })
            .transpose()?;
        Ok(Self {
            callback: callback.map(Bound::unbind),
            log_dir,
            audit_key,
            context,
            back_pressure,
            queue_capacity,
            max_file_bytes: positive_u64(max_file_bytes, "max_file_bytes")?,
            checkpoint_every: positive_u64(checkpoint_every, "checkpoint_every")?,
        })
    }

    /// The callback, or ``None``.
    #[getter]
    fn callback(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.callback.as_ref().map(|c| c.clone_ref(py))
    }

    /// The log directory, or ``None``.
    #[getter]
    fn log_dir(&self) -> Option<PathBuf> {
        self.log_dir.clone()
    }

    /// ``"full"``, ``"keys_only"`` or ``"none"``.
    #[getter]
    fn context(&self) -> &'static str {
        context_name(self.context)
    }

    /// ``"block"`` or ``"drop"``.
    #[getter]
    fn back_pressure(&self) -> &'static str {
        back_pressure_name(self.back_pressure)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let target = match (&self.callback, &self.log_dir) {
            (Some(callback), _) => format!("callback={}", callback.bind(py).repr()?),
            (None, Some(dir)) => format!(
                "log_dir={}, audit_key=<secret>",
                PyString::new(py, &dir.to_string_lossy()).repr()?
            ),
            (None, None) => String::new(),
        };
        Ok(format!(
            "Audit({target}, context='{}', back_pressure='{}')",
            context_name(self.context),
            back_pressure_name(self.back_pressure)
        ))
    }
}

/// Forwards events to a Python callable, on the writer thread.
struct PySink {
    shared: Arc<CallbackShared>,
}

/// What an event the callback can no longer receive counts as.
const CLOSED: keyplane::Error = keyplane::Error::Storage(
    "the audit callback can no longer run: the garbage collector is freeing it, or the \
     interpreter is exiting",
);

impl AuditSink for PySink {
    fn record(&mut self, event: &AuditEvent<'_>) -> keyplane::Result<()> {
        // Built before attaching: the interpreter is held only for the call itself.
        let event = PyAuditEvent::new(event);
        let shared = &self.shared;
        let _busy = shared.busy.lock().unwrap_or_else(PoisonError::into_inner);
        if !shared.open.load(Ordering::Acquire) {
            return Err(CLOSED);
        }
        let called = Python::try_attach(|py| {
            // Again with the GIL held: closing may have happened while this thread waited
            // for it.
            if !shared.open.load(Ordering::Acquire) {
                return Err(CLOSED);
            }
            let callback = shared
                .callback
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .map(|c| c.clone_ref(py));
            let Some(callback) = callback else {
                return Err(CLOSED);
            };
            IN_CALLBACK.set(shared.id());
            let outcome = Bound::new(py, event).and_then(|e| callback.call1(py, (e,)));
            IN_CALLBACK.set(0);
            match outcome {
                Ok(_) => Ok(()),
                Err(e) => {
                    e.write_unraisable(py, Some(callback.bind(py)));
                    Err(keyplane::Error::Storage("the audit callback raised"))
                }
            }
        });
        called.unwrap_or(Err(keyplane::Error::Storage(
            "the Python interpreter is shutting down",
        )))
    }
}

/// One audited operation, as an ``Audit`` callback receives it. Never carries a plaintext, a
/// ciphertext or key material.
#[pyclass(frozen, module = "keyplane", name = "AuditEvent")]
pub(crate) struct PyAuditEvent {
    sequence: u64,
    time: SystemTime,
    request_id: String,
    operation: &'static str,
    key_id: Option<String>,
    key_version: Option<u32>,
    caller: Option<String>,
    context: Vec<(String, String)>,
    error_code: Option<&'static str>,
}

fn pairs(context: &AuditContext<'_>) -> Vec<(String, String)> {
    context
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

impl PyAuditEvent {
    fn new(e: &AuditEvent<'_>) -> Self {
        Self {
            sequence: e.sequence,
            time: e.time,
            request_id: e.request_id.to_string(),
            operation: e.operation.as_str(),
            key_id: e.key_id.map(str::to_owned),
            key_version: e.key_version,
            caller: e.caller.map(str::to_owned),
            context: pairs(&e.context),
            error_code: e.error_code,
        }
    }
}

#[pymethods]
impl PyAuditEvent {
    /// Position in the keyring's audit trail, from 1.
    #[getter]
    fn sequence(&self) -> u64 {
        self.sequence
    }

    /// When the operation finished (UTC).
    #[getter]
    fn time(&self) -> SystemTime {
        self.time
    }

    /// Unique within the process: the calling thread's number and call counter, in hex.
    #[getter]
    fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The operation, named as AWS KMS names its API calls (``"Encrypt"``, ``"CreateKey"``, …).
    #[getter]
    fn operation(&self) -> &'static str {
        self.operation
    }

    /// The key id (never an alias once the key was found; otherwise the name given), or
    /// ``None``.
    #[getter]
    fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// The key version used by symmetric encryption and decryption, else ``None``.
    #[getter]
    fn key_version(&self) -> Option<u32> {
        self.key_version
    }

    /// The caller identity of the keyring handle (``Keyring.with_caller``), or ``None``.
    #[getter]
    fn caller(&self) -> Option<&str> {
        self.caller.as_deref()
    }

    /// The encryption context, as much as the keyring logs (values are ``""`` with
    /// ``context="keys_only"``; empty with ``"none"``). A new ``dict`` on every access.
    #[getter]
    fn context<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (k, v) in &self.context {
            dict.set_item(k, v)?;
        }
        Ok(dict)
    }

    /// ``None`` for success, else the error code (``"KP_INVALID_CIPHERTEXT"``, …).
    #[getter]
    fn error_code(&self) -> Option<&'static str> {
        self.error_code
    }

    fn __repr__(&self) -> String {
        format!(
            "AuditEvent(sequence={}, operation='{}', key_id={}, caller={}, error_code={})",
            self.sequence,
            self.operation,
            self.key_id
                .as_deref()
                .map_or_else(|| "None".to_owned(), repr_str),
            self.caller
                .as_deref()
                .map_or_else(|| "None".to_owned(), repr_str),
            self.error_code
                .map_or_else(|| "None".to_owned(), |c| format!("'{c}'")),
        )
    }
}
