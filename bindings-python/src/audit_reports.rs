//! What the audit trail reports afterwards: a key's last usage (`KeyLastUsage`, from
//! `Keyring.key_last_usage`) and the check of a hash-chained file log (`verify_audit_log` and its
//! `AuditLogReport`).

use std::path::PathBuf;
use std::time::SystemTime;

use keyplane::audit::{AuditKey, KeyLastUsage};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::convert::Buf;
use crate::errors::KpError;

/// When a key was last used and how often each operation used it (AWS KMS's
/// ``GetKeyLastUsage``), from ``Keyring.key_last_usage``.
#[pyclass(frozen, module = "keyplane", name = "KeyLastUsage")]
pub(crate) struct PyKeyLastUsage {
    inner: KeyLastUsage,
}

impl PyKeyLastUsage {
    pub(crate) fn new(inner: KeyLastUsage) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl PyKeyLastUsage {
    /// The last time the key was used, successfully or not (UTC), or ``None``.
    #[getter]
    fn last_used(&self) -> Option<SystemTime> {
        self.inner.last_used
    }

    /// The last operation (``"Encrypt"``, …), or ``None``.
    #[getter]
    fn last_operation(&self) -> Option<&'static str> {
        self.inner.last_operation.map(keyplane::Operation::as_str)
    }

    /// How many times each operation used the key, by operation name. A new ``dict`` on
    /// every access.
    #[getter]
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (op, n) in &self.inner.counts {
            dict.set_item(op.as_str(), n)?;
        }
        Ok(dict)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "KeyLastUsage(last_operation={}, counts={})",
            self.inner
                .last_operation
                .map_or_else(|| "None".to_owned(), |o| format!("'{}'", o.as_str())),
            self.counts(py)?.repr()?
        ))
    }
}

/// What ``verify_audit_log`` found in an intact log.
#[pyclass(frozen, module = "keyplane", name = "AuditLogReport")]
pub(crate) struct PyAuditLogReport {
    inner: keyplane::audit::VerifyReport,
}

#[pymethods]
impl PyAuditLogReport {
    /// Event lines (checkpoints not counted).
    #[getter]
    fn records(&self) -> u64 {
        self.inner.records
    }

    /// ``(file, line, time)`` of the last checkpoint, or ``None``.
    #[getter]
    fn last_checkpoint<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        self.inner
            .last_checkpoint
            .as_ref()
            .map(|(file, line, time)| (file.clone(), *line, *time).into_pyobject(py))
            .transpose()
    }

    /// Whether the log ends with the checkpoint written when its keyring closed. ``False``
    /// means the writer stopped (crash) or the tail was cut off after ``ends_at``: lines after
    /// the last checkpoint are chained but not MACed.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.closed
    }

    /// ``(file, line)`` of the last complete line, or ``None`` for an empty log.
    #[getter]
    fn ends_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        self.inner
            .ends_at
            .as_ref()
            .map(|(file, line)| (file.clone(), *line).into_pyobject(py))
            .transpose()
    }

    /// An incomplete last line (a crash mid-write) was ignored.
    #[getter]
    fn incomplete_tail(&self) -> bool {
        self.inner.incomplete_tail
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "AuditLogReport(records={}, closed={}, incomplete_tail={})",
            self.inner.records,
            if self.inner.closed { "True" } else { "False" },
            if self.inner.incomplete_tail {
                "True"
            } else {
                "False"
            },
        )
    }
}

/// The log files to check: a directory's ``audit-*.jsonl`` in order, one file, or a sequence
/// of files in order.
fn log_files(py: Python<'_>, files_or_dir: &Bound<'_, PyAny>) -> PyResult<Vec<PathBuf>> {
    if let Ok(path) = files_or_dir.extract::<PathBuf>() {
        if path.is_dir() {
            return Ok(py
                .detach(|| keyplane::audit::log_files_in(&path))
                .map_err(KpError)?);
        }
        return Ok(vec![path]);
    }
    if files_or_dir.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err("files_or_dir must be a path"));
    }
    files_or_dir
        .try_iter()
        .map_err(|_| {
            PyTypeError::new_err("files_or_dir must be a directory, a file, or a list of files")
        })?
        .map(|item| {
            item?.extract::<PathBuf>().map_err(|_| {
                PyTypeError::new_err("files_or_dir must be a directory, a file, or a list of files")
            })
        })
        .collect()
}

/// Checks an audit log written with ``Audit(log_dir=..., audit_key=...)``: the hash chain
/// through every file, each checkpoint's HMAC under ``audit_key`` and the sequence numbers.
///
/// ``files_or_dir`` is the log directory (its ``audit-*.jsonl`` files, in order), one file,
/// or a list of files in order. Returns an ``AuditLogReport``; check its ``closed`` (``False``
/// when the log was not closed: crash or cut-off tail). The first broken link (an edited,
/// deleted, reordered or inserted line, a missing file, a checkpoint that does not verify)
/// raises ``AuditLogBrokenError`` with ``file``, ``line`` and ``reason``.
#[pyfunction]
pub(crate) fn verify_audit_log(
    py: Python<'_>,
    files_or_dir: &Bound<'_, PyAny>,
    audit_key: Buf<'_>,
) -> PyResult<PyAuditLogReport> {
    let key = AuditKey::new(audit_key.as_slice()).map_err(KpError)?;
    let files = log_files(py, files_or_dir)?;
    match py.detach(|| keyplane::audit::verify(&files, &key)) {
        Ok(inner) => Ok(PyAuditLogReport { inner }),
        Err(broken) => {
            let class = py
                .import("keyplane._errors")?
                .getattr("AuditLogBrokenError")?;
            let error = class.call1((
                broken.to_string(),
                broken.file.clone(),
                broken.line,
                broken.reason.clone(),
            ))?;
            Err(PyErr::from_value(error))
        }
    }
}
