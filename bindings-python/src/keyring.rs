//! `keyplane.Keyring`: every operation of the core keyring.
//!
//! Each cryptographic call, batch and key generation runs with the GIL released
//! (`Python::detach`); inside, only Rust data is touched: borrowed `bytes`, private copies of
//! mutable buffers (see [`Buf`]), contexts and key ids.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use pyo3::PyTraverseError;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use zeroize::Zeroizing;

use crate::admin;
use crate::audit::{self, PyAudit, PyKeyLastUsage, PyLoadProblem};
use crate::batch;
use crate::classes::{
    PyDataKey, PyDataKeyPair, PyDataKeyPairWithoutPlaintext, PyImportParameters, PyKeyMetadata,
    PyLocalRootKey, PyPublicKey,
};
use crate::context::Ctx;
use crate::convert::{self, Buf, Text, count, filled_bytes, message_type_or_raw};
use crate::errors::{KpError, KpResult};
use crate::handle::PyKeyring;
#[cfg(feature = "insecure-test-hooks")]
use crate::insecure;

impl PyKeyring {
    fn encrypt_bytes<'py>(
        &self,
        py: Python<'py>,
        key_id: &str,
        plaintext: &[u8],
        context: &keyplane::EncryptionContext,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let ring = &self.ring;
        // A key id's blob length follows from the id; only an alias needs a look-up.
        let len = if key_id.starts_with(keyplane::keyring::ALIAS_PREFIX) {
            ring.ciphertext_len(key_id, plaintext.len())
                .map_err(KpError)?
        } else {
            keyplane::envelope::ciphertext_len(key_id.len(), plaintext.len()).ok_or(KpError(
                keyplane::Error::LimitExceeded("plaintext too large"),
            ))?
        };
        let mut outcome = Ok(0);
        let bytes = PyBytes::new_with(py, len, |buf| {
            outcome = py.detach(|| ring.encrypt_into(key_id, plaintext, context, buf));
            Ok(())
        })?;
        match outcome {
            Ok(n) if n == len => Ok(bytes),
            Ok(n) => Ok(PyBytes::new(
                py,
                bytes
                    .as_bytes()
                    .get(..n)
                    .ok_or(KpError(keyplane::Error::Internal))?,
            )),
            // The alias moved to a key with a longer id between sizing and encrypting.
            Err(keyplane::Error::BufferTooSmall { .. }) => {
                let blob = py
                    .detach(|| ring.encrypt(key_id, plaintext, context))
                    .map_err(KpError)?;
                Ok(PyBytes::new(py, &blob))
            }
            Err(e) => Err(KpError(e).into()),
        }
    }
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
        Self::from_options(py, threads, encryption_budget, max_batch_items, audit)
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
        Self::open_store(
            py,
            store_dir,
            root_key,
            threads,
            encryption_budget,
            max_batch_items,
            audit,
        )
    }

    /// The sealed records ``Keyring.open`` could not load, as ``LoadProblem`` objects (``path``
    /// and ``error``, an exception instance); empty for a keyring not opened from a store.
    #[getter]
    fn load_problems(&self) -> Vec<PyLoadProblem> {
        self.load_problem_list()
    }

    // ----- audit ------------------------------------------------------------------------------

    /// A handle on the same keyring (same keys, same audit trail) whose calls the audit trail
    /// attributes to ``caller`` (a service, user or tenant name of your choosing).
    fn with_caller(&self, py: Python<'_>, caller: Text) -> Self {
        self.for_caller(py, caller)
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

    // ----- key material import ----------------------------------------------------------------

    /// A wrapping public key and an import token for bringing your own material into
    /// ``key_id`` (a key created with ``origin="EXTERNAL"``); valid for 24 hours in this
    /// keyring. ``wrapping_algorithm``: ``"RSAES_OAEP_SHA_1"``, ``"RSAES_OAEP_SHA_256"``
    /// (symmetric and HMAC material), ``"RSA_AES_KEY_WRAP_SHA_1"`` or
    /// ``"RSA_AES_KEY_WRAP_SHA_256"`` (any material, RSA private keys included);
    /// ``wrapping_key_spec``: ``"RSA_2048"``, ``"RSA_3072"`` or ``"RSA_4096"``. Generating the
    /// wrapping key runs with the GIL released.
    #[pyo3(
        signature = (key_id, wrapping_algorithm=None, wrapping_key_spec=None),
        text_signature = "(self, key_id, wrapping_algorithm='RSA_AES_KEY_WRAP_SHA_256', \
                          wrapping_key_spec='RSA_2048')"
    )]
    fn get_parameters_for_import(
        &self,
        py: Python<'_>,
        key_id: Text,
        wrapping_algorithm: Option<Text>,
        wrapping_key_spec: Option<Text>,
    ) -> PyResult<PyImportParameters> {
        let algorithm = convert::wrapping_algorithm(
            wrapping_algorithm
                .as_deref()
                .unwrap_or("RSA_AES_KEY_WRAP_SHA_256"),
        )?;
        let spec = convert::wrapping_key_spec(wrapping_key_spec.as_deref().unwrap_or("RSA_2048"))?;
        let parameters = py
            .detach(|| {
                self.ring
                    .get_parameters_for_import(&key_id, algorithm, spec)
            })
            .map_err(KpError)?;
        Ok(PyImportParameters::new(py, parameters))
    }

    /// Unwraps ``encrypted_key_material`` (wrapped with the public key of the parameters that
    /// gave ``import_token``) and installs it as the key's material; the key becomes
    /// ``Enabled``. With ``valid_to`` (a timezone-aware ``datetime`` in the future) the
    /// material expires then and the key returns to ``PendingImport``. A key only ever takes
    /// the material it was first given (re-importing it, e.g. after expiry, works).
    /// ``InvalidInputError`` for a bad, expired or other key's token or material that does
    /// not fit; ``InvalidCiphertextError`` for wrapped material that does not unwrap.
    #[pyo3(signature = (key_id, import_token, encrypted_key_material, valid_to=None))]
    fn import_key_material(
        &self,
        py: Python<'_>,
        key_id: Text,
        import_token: Buf<'_>,
        encrypted_key_material: Buf<'_>,
        valid_to: Option<SystemTime>,
    ) -> KpResult<()> {
        let (token, wrapped) = (import_token.as_slice(), encrypted_key_material.as_slice());
        Ok(py.detach(|| {
            self.ring
                .import_key_material(&key_id, token, wrapped, valid_to)
        })?)
    }

    /// Deletes the imported material of ``key_id`` now: the key returns to ``PendingImport``
    /// until the same material is imported again.
    fn delete_imported_key_material(&self, py: Python<'_>, key_id: Text) -> KpResult<()> {
        Ok(py.detach(|| self.ring.delete_imported_key_material(&key_id))?)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Keyring(keys={})",
            py.detach(|| self.ring.list_keys()).len()
        )
    }

    // ----- key management ---------------------------------------------------------------------

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
        admin::create_key(
            &self.ring,
            py,
            spec,
            key_id,
            alias,
            usage,
            description,
            rotation_period_days,
            rotation_period,
            rotate_on_budget,
            origin,
        )
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
        admin::schedule_key_deletion(&self.ring, py, key_id, pending_window_days, pending_window)
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
        admin::list_aliases(&self.ring, py)
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
        admin::enable_key_rotation(
            &self.ring,
            py,
            key_id,
            rotation_period_days,
            rotation_period,
        )
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
        admin::set_min_decryption_version(&self.ring, py, key_id, version)
    }

    /// Whether the key rotates (``True``) or refuses (``False``) once a version's encryption
    /// budget is spent.
    fn set_rotate_on_budget(&self, py: Python<'_>, key_id: Text, rotate: bool) -> KpResult<()> {
        Ok(py.detach(|| self.ring.set_rotate_on_budget(&key_id, rotate))?)
    }

    // ----- symmetric encryption -------------------------------------------------------------

    /// Encrypts ``plaintext`` (any bytes-like object) under the newest version of ``key_id``
    /// (or alias) and returns the blob. ``context`` (a ``dict[str, str]`` or
    /// ``EncryptionContext``) is bound as authenticated data and must be given again to
    /// decrypt.
    #[pyo3(signature = (key_id, plaintext, context=None))]
    fn encrypt<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        plaintext: Buf<'py>,
        context: Option<Ctx<'py>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let context = context.unwrap_or(Ctx::Empty);
        self.encrypt_bytes(py, &key_id, plaintext.as_slice(), context.get())
    }

    /// Decrypts a blob made by ``encrypt``; the blob names its key and version. ``context``
    /// must equal the one given to encrypt. Any failure to authenticate is
    /// ``InvalidCiphertextError``, with no detail.
    #[pyo3(signature = (blob, context=None))]
    fn decrypt<'py>(
        &self,
        py: Python<'py>,
        blob: Buf<'py>,
        context: Option<Ctx<'py>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let context = context.unwrap_or(Ctx::Empty);
        let (blob, context, ring) = (blob.as_slice(), context.get(), &self.ring);
        let len = ring.plaintext_len(blob).map_err(KpError)?;
        filled_bytes(py, len, |out| ring.decrypt_into(blob, context, out))
    }

    /// Decrypts ``blob`` (made with ``source_context``) and encrypts its plaintext under
    /// ``destination_key_id`` with ``destination_context``; the plaintext never leaves Keyplane.
    #[pyo3(signature = (blob, destination_key_id, *, source_context=None, destination_context=None))]
    fn re_encrypt<'py>(
        &self,
        py: Python<'py>,
        blob: Buf<'py>,
        destination_key_id: Text,
        source_context: Option<Ctx<'py>>,
        destination_context: Option<Ctx<'py>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let source = source_context.unwrap_or(Ctx::Empty);
        let destination = destination_context.unwrap_or(Ctx::Empty);
        let (blob, source, destination) = (blob.as_slice(), source.get(), destination.get());
        let ring = &self.ring;
        let out = py
            .detach(|| ring.re_encrypt(blob, source, &destination_key_id, destination))
            .map_err(KpError)?;
        Ok(PyBytes::new(py, &out))
    }

    /// A fresh data key: its plaintext and the same bytes encrypted under ``key_id``.
    /// ``key_spec`` is ``"AES_256"`` (the default) or ``"AES_128"``; or give
    /// ``number_of_bytes`` (1 to 1024) instead.
    #[pyo3(signature = (key_id, key_spec=None, *, number_of_bytes=None, context=None))]
    fn generate_data_key<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        key_spec: Option<Text>,
        number_of_bytes: Option<&Bound<'py, PyAny>>,
        context: Option<Ctx<'py>>,
    ) -> PyResult<PyDataKey> {
        let spec = convert::data_key_spec(key_spec.as_deref(), number_of_bytes)?;
        let context = context.unwrap_or(Ctx::Empty);
        let (context, ring) = (context.get(), &self.ring);
        let data_key = py
            .detach(|| ring.generate_data_key(&key_id, spec, context))
            .map_err(KpError)?;
        Ok(PyDataKey::new(
            py,
            data_key.key_id().to_owned(),
            data_key.plaintext(),
            data_key.ciphertext_blob(),
        ))
    }

    /// A fresh data key encrypted under ``key_id``, without its plaintext: the blob only.
    #[pyo3(signature = (key_id, key_spec=None, *, number_of_bytes=None, context=None))]
    fn generate_data_key_without_plaintext<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        key_spec: Option<Text>,
        number_of_bytes: Option<&Bound<'py, PyAny>>,
        context: Option<Ctx<'py>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let spec = convert::data_key_spec(key_spec.as_deref(), number_of_bytes)?;
        let context = context.unwrap_or(Ctx::Empty);
        let (context, ring) = (context.get(), &self.ring);
        let blob = py
            .detach(|| ring.generate_data_key_without_plaintext(&key_id, spec, context))
            .map_err(KpError)?;
        Ok(PyBytes::new(py, &blob))
    }

    /// A fresh key pair (``key_pair_spec``: ``"ECC_NIST_P256"``, ``"RSA_2048"``, …) whose
    /// PKCS#8 private key is returned in plaintext and encrypted under the symmetric key
    /// ``key_id``. RSA generation runs with the GIL released.
    #[pyo3(signature = (key_id, key_pair_spec, *, context=None))]
    fn generate_data_key_pair<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        key_pair_spec: Text,
        context: Option<Ctx<'py>>,
    ) -> PyResult<PyDataKeyPair> {
        let spec = convert::data_key_pair_spec(&key_pair_spec)?;
        let context = context.unwrap_or(Ctx::Empty);
        let (context, ring) = (context.get(), &self.ring);
        let pair = py
            .detach(|| ring.generate_data_key_pair(&key_id, spec, context))
            .map_err(KpError)?;
        Ok(PyDataKeyPair::new(py, &pair))
    }

    /// As ``generate_data_key_pair``, without the plaintext private key.
    #[pyo3(signature = (key_id, key_pair_spec, *, context=None))]
    fn generate_data_key_pair_without_plaintext<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        key_pair_spec: Text,
        context: Option<Ctx<'py>>,
    ) -> PyResult<PyDataKeyPairWithoutPlaintext> {
        let spec = convert::data_key_pair_spec(&key_pair_spec)?;
        let context = context.unwrap_or(Ctx::Empty);
        let (context, ring) = (context.get(), &self.ring);
        let pair = py
            .detach(|| ring.generate_data_key_pair_without_plaintext(&key_id, spec, context))
            .map_err(KpError)?;
        Ok(PyDataKeyPairWithoutPlaintext::new(py, &pair))
    }

    /// ``number_of_bytes`` (1 to 1024) bytes from the system's cryptographic random number
    /// generator.
    fn generate_random<'py>(
        &self,
        py: Python<'py>,
        number_of_bytes: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let n = count(number_of_bytes, "number_of_bytes")?;
        let ring = &self.ring;
        let random = Zeroizing::new(py.detach(|| ring.generate_random(n)).map_err(KpError)?);
        Ok(PyBytes::new(py, &random))
    }

    // ----- MACs -------------------------------------------------------------------------------

    /// The MAC of ``message`` under the HMAC key ``key_id``; ``algorithm`` must be the key's
    /// (``"HMAC_SHA_256"`` for an ``HMAC_256`` key, …).
    fn generate_mac<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        message: Buf<'py>,
        algorithm: Text,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let algorithm = convert::mac_algorithm(&algorithm)?;
        let (message, ring) = (message.as_slice(), &self.ring);
        filled_bytes(py, algorithm.mac_len(), |out| {
            ring.generate_mac_into(&key_id, message, algorithm, out)
        })
    }

    /// Whether ``mac`` is the MAC of ``message``: ``False`` for any mismatch (compared in
    /// constant time).
    fn verify_mac<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        message: Buf<'py>,
        mac: Buf<'py>,
        algorithm: Text,
    ) -> PyResult<bool> {
        let algorithm = convert::mac_algorithm(&algorithm)?;
        let (message, mac, ring) = (message.as_slice(), mac.as_slice(), &self.ring);
        Ok(py
            .detach(|| ring.verify_mac(&key_id, message, algorithm, mac))
            .map_err(KpError)?)
    }

    /// The largest MAC ``key_id`` produces.
    fn mac_len(&self, py: Python<'_>, key_id: Text) -> KpResult<usize> {
        Ok(py.detach(|| self.ring.mac_len(&key_id))?)
    }

    // ----- signing ----------------------------------------------------------------------------

    /// Signs ``message`` with the signing key ``key_id``. ``algorithm`` is an AWS KMS signing
    /// algorithm the key allows (``"ECDSA_SHA_256"``, ``"RSASSA_PSS_SHA_256"``, …);
    /// ``message_type="DIGEST"`` signs a digest you computed. ECDSA signatures are DER.
    #[pyo3(
        signature = (key_id, message, algorithm, *, message_type=None),
        text_signature = "(self, key_id, message, algorithm, *, message_type='RAW')"
    )]
    fn sign<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        message: Buf<'py>,
        algorithm: Text,
        message_type: Option<Text>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let algorithm = convert::signing_algorithm(&algorithm)?;
        let message_type = message_type_or_raw(message_type.as_deref())?;
        let (message, ring) = (message.as_slice(), &self.ring);
        let mut signature = [0u8; keyplane::sign::MAX_SIGNATURE_LEN];
        let n = py
            .detach(|| ring.sign_into(&key_id, message, message_type, algorithm, &mut signature))
            .map_err(KpError)?;
        let signature = signature
            .get(..n)
            .ok_or(KpError(keyplane::Error::Internal))?;
        Ok(PyBytes::new(py, signature))
    }

    /// Whether ``signature`` is a valid signature of ``message`` (or, with
    /// ``message_type="DIGEST"``, of that digest): ``False`` for any invalid or malformed
    /// signature.
    #[pyo3(
        signature = (key_id, message, signature, algorithm, *, message_type=None),
        text_signature = "(self, key_id, message, signature, algorithm, *, message_type='RAW')"
    )]
    fn verify<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        message: Buf<'py>,
        signature: Buf<'py>,
        algorithm: Text,
        message_type: Option<Text>,
    ) -> PyResult<bool> {
        let algorithm = convert::signing_algorithm(&algorithm)?;
        let message_type = message_type_or_raw(message_type.as_deref())?;
        let (message, signature, ring) = (message.as_slice(), signature.as_slice(), &self.ring);
        Ok(py
            .detach(|| ring.verify(&key_id, message, message_type, algorithm, signature))
            .map_err(KpError)?)
    }

    /// The longest signature ``key_id`` can produce.
    fn max_signature_len(&self, py: Python<'_>, key_id: Text) -> KpResult<usize> {
        Ok(py.detach(|| self.ring.max_signature_len(&key_id))?)
    }

    /// The public half of an asymmetric key (DER ``SubjectPublicKeyInfo``) and what it may be
    /// used for.
    fn get_public_key(&self, py: Python<'_>, key_id: Text) -> KpResult<PyPublicKey> {
        Ok(PyPublicKey::new(
            py.detach(|| self.ring.get_public_key(&key_id))?,
        ))
    }

    // ----- RSA-OAEP ---------------------------------------------------------------------------

    /// Encrypts ``plaintext`` with the public half of an RSA ``ENCRYPT_DECRYPT`` key
    /// (``algorithm``: ``"RSAES_OAEP_SHA_256"`` or ``"RSAES_OAEP_SHA_1"``).
    fn encrypt_asymmetric<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        plaintext: Buf<'py>,
        algorithm: Text,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let algorithm = convert::encryption_algorithm(&algorithm)?;
        let (plaintext, ring) = (plaintext.as_slice(), &self.ring);
        let ciphertext = py
            .detach(|| ring.encrypt_asymmetric(&key_id, plaintext, algorithm))
            .map_err(KpError)?;
        Ok(PyBytes::new(py, &ciphertext))
    }

    /// Decrypts an RSA-OAEP ``ciphertext`` made with the public half of ``key_id``. Any
    /// failure is ``InvalidCiphertextError``.
    fn decrypt_asymmetric<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        ciphertext: Buf<'py>,
        algorithm: Text,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let algorithm = convert::encryption_algorithm(&algorithm)?;
        let (ciphertext, ring) = (ciphertext.as_slice(), &self.ring);
        let plaintext = py
            .detach(|| ring.decrypt_asymmetric(&key_id, ciphertext, algorithm))
            .map_err(KpError)?;
        Ok(PyBytes::new(py, &plaintext))
    }

    /// The longest plaintext ``algorithm`` can encrypt under ``key_id``.
    fn max_asymmetric_plaintext_len(
        &self,
        py: Python<'_>,
        key_id: Text,
        algorithm: Text,
    ) -> PyResult<usize> {
        let algorithm = convert::encryption_algorithm(&algorithm)?;
        Ok(py
            .detach(|| self.ring.max_asymmetric_plaintext_len(&key_id, algorithm))
            .map_err(KpError)?)
    }

    // ----- sizes ------------------------------------------------------------------------------

    /// The blob length ``encrypt`` returns for ``plaintext_len`` bytes under ``key_id``.
    fn ciphertext_len(
        &self,
        py: Python<'_>,
        key_id: Text,
        plaintext_len: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        let n = count(plaintext_len, "plaintext_len")?;
        Ok(py
            .detach(|| self.ring.ciphertext_len(&key_id, n))
            .map_err(KpError)?)
    }

    /// The plaintext length ``decrypt`` returns for ``blob``.
    fn plaintext_len(&self, blob: Buf<'_>) -> KpResult<usize> {
        Ok(self.ring.plaintext_len(blob.as_slice())?)
    }

    // ----- sealed key records ---------------------------------------------------------------

    /// The key ``key_id`` (every version, its metadata, state, aliases and policy) as a sealed
    /// record: envelope-encrypted under ``root`` (a ``LocalRootKey``), for backup or
    /// replication. The format is in FORMAT.md.
    fn export_sealed<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        root: &Bound<'py, PyLocalRootKey>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (ring, root) = (&self.ring, &*root.get().inner);
        let record = py
            .detach(|| ring.export_sealed(&key_id, root))
            .map_err(KpError)?;
        Ok(PyBytes::new(py, &record))
    }

    /// Opens a sealed record with ``root`` and adds its key to this keyring; returns the key's
    /// metadata. A record that does not open is ``InvalidCiphertextError``.
    fn import_sealed<'py>(
        &self,
        py: Python<'py>,
        record: Buf<'py>,
        root: &Bound<'py, PyLocalRootKey>,
    ) -> PyResult<PyKeyMetadata> {
        let (ring, record, root) = (&self.ring, record.as_slice(), &*root.get().inner);
        let metadata = py
            .detach(|| ring.import_sealed(record, root))
            .map_err(KpError)?;
        Ok(PyKeyMetadata::new(metadata))
    }

    // ----- batches ----------------------------------------------------------------------------

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
        batch::encrypt_many(
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
        batch::decrypt_many(&self.ring, self.max_batch_items, py, blobs, context)
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
        batch::re_encrypt_many(
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
        batch::generate_data_key_many(
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
        batch::generate_data_key_many(
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
        batch::generate_mac_many(
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
        batch::verify_mac_many(
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
        batch::sign_many(
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
        batch::verify_many(
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

    // ----- insecure test hooks ----------------------------------------------------------------

    /// INSECURE, test builds only: creates a symmetric key whose versions 1, 2, … have exactly
    /// these 32-byte root materials.
    #[cfg(feature = "insecure-test-hooks")]
    fn _insecure_create_key_with_material(
        &self,
        key_id: Text,
        roots: Vec<Vec<u8>>,
    ) -> PyResult<PyKeyMetadata> {
        insecure::create_key_with_material(&self.ring, key_id, roots)
    }

    /// INSECURE, test builds only: creates a key of any spec from caller-chosen material.
    #[cfg(feature = "insecure-test-hooks")]
    fn _insecure_import_key_material(
        &self,
        key_id: Text,
        spec: Text,
        usage: Text,
        material: Buf<'_>,
    ) -> PyResult<PyKeyMetadata> {
        insecure::import_key_material(&self.ring, key_id, spec, usage, material)
    }

    /// INSECURE, test builds only: encrypts under a chosen version with a chosen nonce.
    #[cfg(feature = "insecure-test-hooks")]
    #[pyo3(signature = (key_id, version, nonce, plaintext, context=None))]
    fn _insecure_encrypt_with_nonce<'py>(
        &self,
        py: Python<'py>,
        key_id: Text,
        version: u32,
        nonce: Buf<'py>,
        plaintext: Buf<'py>,
        context: Option<Ctx<'py>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        insecure::encrypt_with_nonce(&self.ring, py, key_id, version, nonce, plaintext, context)
    }
}
