//! Key administration: creating keys, deletion windows, aliases, rotation periods and the
//! minimum decryption version. The key id and alias arguments are checked by the core; this
//! module turns the Python arguments (days or `timedelta`s, counts) into core values.

use std::time::{Duration, SystemTime};

use keyplane::{CreateKey, Keyring, PendingWindow, RotationPeriod};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::classes::PyKeyMetadata;
use crate::convert::{self, Text, count_u32};
use crate::errors::{KpError, invalid_input};

/// The latest instant a Python `datetime` holds: 9999-12-31T23:59:59 UTC.
const DATETIME_MAX_SECS: u64 = 253_402_300_799;

/// Refuses a period whose date, counted from now, no `datetime` can hold: the call would take
/// effect and then fail to return (or later to show) that date.
fn within_datetime(period: Duration, what: &str) -> PyResult<()> {
    let latest = SystemTime::UNIX_EPOCH + Duration::from_secs(DATETIME_MAX_SECS);
    match SystemTime::now().checked_add(period) {
        Some(date) if date <= latest => Ok(()),
        _ => Err(invalid_input(format!(
            "{what} is too long: the date it gives would be after the year 9999"
        ))),
    }
}

/// A rotation period from `rotation_period_days` (AWS KMS's 90 to 2560) or a `timedelta`.
fn rotation_period(
    days: Option<&Bound<'_, PyAny>>,
    period: Option<Duration>,
) -> PyResult<Option<RotationPeriod>> {
    match (days, period) {
        (Some(_), Some(_)) => Err(invalid_input(
            "give rotation_period_days or rotation_period, not both",
        )),
        (Some(days), None) => Ok(Some(
            RotationPeriod::days(count_u32(days, "rotation_period_days")?).map_err(KpError)?,
        )),
        (None, Some(period)) => {
            within_datetime(period, "rotation_period")?;
            Ok(Some(RotationPeriod::custom(period).map_err(KpError)?))
        }
        (None, None) => Ok(None),
    }
}

/// `Keyring.create_key`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn create_key(
    ring: &Keyring,
    py: Python<'_>,
    spec: Option<Text>,
    key_id: Option<Text>,
    alias: Option<Text>,
    usage: Option<Text>,
    description: Option<Text>,
    rotation_period_days: Option<&Bound<'_, PyAny>>,
    rotation_period: Option<Duration>,
    rotate_on_budget: bool,
    origin: Option<Text>,
) -> PyResult<PyKeyMetadata> {
    let spec = match &spec {
        Some(name) => convert::key_spec(name)?,
        None => keyplane::KeySpec::SymmetricDefault,
    };
    let mut options = CreateKey::new(spec).rotate_on_budget(rotate_on_budget);
    if let Some(key_id) = key_id {
        options = options.key_id(&*key_id);
    }
    if let Some(alias) = alias {
        options = options.alias(&*alias);
    }
    if let Some(usage) = usage {
        options = options.usage(convert::key_usage(&usage)?);
    }
    if let Some(origin) = origin {
        options = options.origin(convert::origin(&origin)?);
    }
    if let Some(description) = description {
        options = options.description(&*description);
    }
    if let Some(period) = self::rotation_period(rotation_period_days, rotation_period)? {
        options = options.rotation_period(period);
    }
    let metadata = py.detach(|| ring.create_key(&options)).map_err(KpError)?;
    Ok(PyKeyMetadata::new(metadata))
}

/// `Keyring.schedule_key_deletion`.
pub(crate) fn schedule_key_deletion(
    ring: &Keyring,
    py: Python<'_>,
    key_id: Text,
    pending_window_days: Option<&Bound<'_, PyAny>>,
    pending_window: Option<Duration>,
) -> PyResult<SystemTime> {
    let window = match (pending_window_days, pending_window) {
        (Some(_), Some(_)) => {
            return Err(invalid_input(
                "give pending_window_days or pending_window, not both",
            ));
        }
        (Some(days), None) => {
            PendingWindow::days(count_u32(days, "pending_window_days")?).map_err(KpError)?
        }
        (None, Some(window)) => {
            within_datetime(window, "pending_window")?;
            PendingWindow::custom(window)
        }
        (None, None) => PendingWindow::default(),
    };
    Ok(py
        .detach(|| ring.schedule_key_deletion(&key_id, window))
        .map_err(KpError)?)
}

/// `Keyring.enable_key_rotation`.
pub(crate) fn enable_key_rotation(
    ring: &Keyring,
    py: Python<'_>,
    key_id: Text,
    rotation_period_days: Option<&Bound<'_, PyAny>>,
    rotation_period: Option<Duration>,
) -> PyResult<()> {
    let period = match self::rotation_period(rotation_period_days, rotation_period)? {
        Some(period) => period,
        None => RotationPeriod::days(365).map_err(KpError)?,
    };
    Ok(py
        .detach(|| ring.enable_key_rotation(&key_id, period))
        .map_err(KpError)?)
}

/// `Keyring.set_min_decryption_version`.
pub(crate) fn set_min_decryption_version(
    ring: &Keyring,
    py: Python<'_>,
    key_id: Text,
    version: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let version = count_u32(version, "version")?;
    Ok(py
        .detach(|| ring.set_min_decryption_version(&key_id, version))
        .map_err(KpError)?)
}

/// `Keyring.list_aliases`.
pub(crate) fn list_aliases<'py>(ring: &Keyring, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for entry in py.detach(|| ring.list_aliases()) {
        dict.set_item(entry.alias_name, entry.target_key_id)?;
    }
    Ok(dict)
}
