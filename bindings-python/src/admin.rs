//! Key administration: create, describe, list, enable, disable, schedule and cancel deletion,
//! aliases, rotation (on demand and by period), the minimum decryption version and the
//! budget policy.

use std::time::{Duration, SystemTime};

use keyplane::{CreateKey, PendingWindow, RotationPeriod};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::classes::PyKeyMetadata;
use crate::convert::{self, Text, count_u32};
use crate::errors::{KpError, KpResult, invalid_input};
use crate::keyring::PyKeyring;

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

#[pymethods]
impl PyKeyring {
    /// Creates a key and returns its metadata.
    ///
    /// ``spec`` is an AWS KMS key spec: ``"SYMMETRIC_DEFAULT"`` (AES-256-GCM, the default),
    /// ``"HMAC_224|256|384|512"``, ``"RSA_2048|3072|4096"``, ``"ECC_NIST_P256|P384|P521"``,
    /// ``"ECC_SECG_P256K1"``. ``usage`` (``"ENCRYPT_DECRYPT"``, ``"SIGN_VERIFY"``,
    /// ``"GENERATE_VERIFY_MAC"``) defaults to the spec's; RSA keys must name one. ``key_id``
    /// defaults to a random UUID; ``alias`` (``"alias/..."``) is created with the key.
    /// ``rotation_period_days`` (90 to 2560) or ``rotation_period`` (any positive
    /// ``timedelta``) turns on automatic rotation of a symmetric key; ``rotate_on_budget=False``
    /// makes the key refuse, rather than rotate, once a version's encryption budget is spent.
    /// ``origin="EXTERNAL"`` creates a key without material, in ``PendingImport``, for
    /// ``get_parameters_for_import`` and ``import_key_material``.
    /// Key generation (seconds for RSA-4096) runs with the GIL released.
    #[pyo3(
        signature = (
            spec=None, *, key_id=None, alias=None, usage=None, description=None,
            rotation_period_days=None, rotation_period=None, rotate_on_budget=true, origin=None
        ),
        text_signature = "(self, spec='SYMMETRIC_DEFAULT', *, key_id=None, alias=None, \
                          usage=None, description=None, rotation_period_days=None, \
                          rotation_period=None, rotate_on_budget=True, origin='KEYPLANE')"
    )]
    #[allow(clippy::too_many_arguments)]
    fn create_key(
        &self,
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
        let ring = &self.ring;
        let metadata = py.detach(|| ring.create_key(&options)).map_err(KpError)?;
        Ok(PyKeyMetadata::new(metadata))
    }

    /// The key's metadata. ``key_id`` may be an alias.
    fn describe_key(&self, py: Python<'_>, key_id: Text) -> KpResult<PyKeyMetadata> {
        Ok(PyKeyMetadata::new(
            py.detach(|| self.ring.describe_key(&key_id))?,
        ))
    }

    /// Every key id, sorted.
    fn list_keys(&self, py: Python<'_>) -> Vec<String> {
        // GIL released: listing first purges keys whose deletion date has passed, which can
        // remove their records from a store.
        py.detach(|| self.ring.list_keys())
    }

    /// Enables a disabled key.
    fn enable_key(&self, py: Python<'_>, key_id: Text) -> KpResult<()> {
        Ok(py.detach(|| self.ring.enable_key(&key_id))?)
    }

    /// Disables a key: every operation with it raises ``KeyDisabledError`` until it is enabled.
    fn disable_key(&self, py: Python<'_>, key_id: Text) -> KpResult<()> {
        Ok(py.detach(|| self.ring.disable_key(&key_id))?)
    }

    /// Schedules the key's deletion after ``pending_window_days`` (7 to 30, default 30), or
    /// after ``pending_window`` (any ``timedelta``, for tests), and returns the deletion date.
    /// Until then the key is unusable and ``cancel_key_deletion`` can save it.
    #[pyo3(signature = (key_id, pending_window_days=None, *, pending_window=None))]
    fn schedule_key_deletion(
        &self,
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
            .detach(|| self.ring.schedule_key_deletion(&key_id, window))
            .map_err(KpError)?)
    }

    /// Cancels a scheduled deletion; as in AWS KMS the key comes back disabled.
    fn cancel_key_deletion(&self, py: Python<'_>, key_id: Text) -> KpResult<()> {
        Ok(py.detach(|| self.ring.cancel_key_deletion(&key_id))?)
    }

    /// Creates ``alias`` (``"alias/..."``) pointing at ``key_id``.
    fn create_alias(&self, py: Python<'_>, alias: Text, key_id: Text) -> KpResult<()> {
        Ok(py.detach(|| self.ring.create_alias(&alias, &key_id))?)
    }

    /// Points an existing alias at another key.
    fn update_alias(&self, py: Python<'_>, alias: Text, key_id: Text) -> KpResult<()> {
        Ok(py.detach(|| self.ring.update_alias(&alias, &key_id))?)
    }

    /// Deletes an alias (the key is untouched).
    fn delete_alias(&self, py: Python<'_>, alias: Text) -> KpResult<()> {
        Ok(py.detach(|| self.ring.delete_alias(&alias))?)
    }

    /// Every alias and the key id it points at, as a ``dict`` sorted by alias.
    fn list_aliases<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for entry in py.detach(|| self.ring.list_aliases()) {
            dict.set_item(entry.alias_name, entry.target_key_id)?;
        }
        Ok(dict)
    }

    /// Adds a new version to a symmetric key now and returns its number. New encryptions use
    /// it; every older version keeps decrypting.
    fn rotate_key(&self, py: Python<'_>, key_id: Text) -> KpResult<u32> {
        let ring = &self.ring;
        Ok(py.detach(|| ring.rotate_key(&key_id))?)
    }

    /// Turns on automatic rotation every ``rotation_period_days`` (90 to 2560, default 365) or
    /// every ``rotation_period`` (any positive ``timedelta``).
    #[pyo3(signature = (key_id, rotation_period_days=None, *, rotation_period=None))]
    fn enable_key_rotation(
        &self,
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
            .detach(|| self.ring.enable_key_rotation(&key_id, period))
            .map_err(KpError)?)
    }

    /// Turns off automatic (periodic) rotation.
    fn disable_key_rotation(&self, py: Python<'_>, key_id: Text) -> KpResult<()> {
        Ok(py.detach(|| self.ring.disable_key_rotation(&key_id))?)
    }

    /// Refuses blobs of versions older than ``version`` (``VersionRetiredError``); lowering it
    /// re-admits them.
    fn set_min_decryption_version(
        &self,
        py: Python<'_>,
        key_id: Text,
        version: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let version = count_u32(version, "version")?;
        Ok(py
            .detach(|| self.ring.set_min_decryption_version(&key_id, version))
            .map_err(KpError)?)
    }

    /// Whether the key rotates (``True``) or refuses (``False``) once a version's encryption
    /// budget is spent.
    fn set_rotate_on_budget(&self, py: Python<'_>, key_id: Text, rotate: bool) -> KpResult<()> {
        Ok(py.detach(|| self.ring.set_rotate_on_budget(&key_id, rotate))?)
    }
}
