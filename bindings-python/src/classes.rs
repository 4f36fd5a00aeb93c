//! The frozen result classes: key metadata, data keys, public keys, blob headers, root keys,
//! import parameters, and the records `Keyring.open` could not load.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};

use crate::convert::repr_str;

fn names<'py, T: Copy>(
    py: Python<'py>,
    values: &[T],
    as_str: fn(T) -> &'static str,
) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, values.iter().map(|v| as_str(*v)))
}

/// What ``Keyring.describe_key`` and ``Keyring.create_key`` report about a key.
///
/// Immutable: a snapshot taken when it was returned.
#[pyclass(frozen, module = "keyplane", name = "KeyMetadata")]
pub(crate) struct PyKeyMetadata {
    inner: keyplane::KeyMetadata,
}

impl PyKeyMetadata {
    pub(crate) fn new(inner: keyplane::KeyMetadata) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl PyKeyMetadata {
    /// The key id.
    #[getter]
    fn key_id(&self) -> &str {
        &self.inner.key_id
    }

    /// The key spec, e.g. ``"SYMMETRIC_DEFAULT"`` or ``"ECC_NIST_P256"``.
    #[getter]
    fn key_spec(&self) -> &'static str {
        self.inner.key_spec.as_str()
    }

    /// The key usage: ``"ENCRYPT_DECRYPT"``, ``"SIGN_VERIFY"`` or ``"GENERATE_VERIFY_MAC"``.
    #[getter]
    fn key_usage(&self) -> &'static str {
        self.inner.key_usage.as_str()
    }

    /// The key state: ``"Enabled"``, ``"Disabled"``, ``"PendingDeletion"`` or
    /// ``"PendingImport"``.
    #[getter]
    fn key_state(&self) -> &'static str {
        self.inner.key_state.as_str()
    }

    /// Where the key material came from: ``"KEYPLANE"`` (generated) or ``"EXTERNAL"``.
    #[getter]
    fn origin(&self) -> &'static str {
        self.inner.origin.as_str()
    }

    /// When the key was created (UTC).
    #[getter]
    fn creation_date(&self) -> SystemTime {
        self.inner.creation_date
    }

    /// The description given at creation (``""`` if none).
    #[getter]
    fn description(&self) -> &str {
        &self.inner.description
    }

    /// For imported material that expires: when it does (UTC), else ``None``.
    #[getter]
    fn valid_to(&self) -> Option<SystemTime> {
        self.inner.valid_to
    }

    /// When a key pending deletion will be deleted (UTC), else ``None``.
    #[getter]
    fn deletion_date(&self) -> Option<SystemTime> {
        self.inner.deletion_date
    }

    /// The encryption algorithms the key supports.
    #[getter]
    fn encryption_algorithms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        names(
            py,
            &self.inner.encryption_algorithms,
            keyplane::EncryptionAlgorithm::as_str,
        )
    }

    /// The signing algorithms the key supports.
    #[getter]
    fn signing_algorithms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        names(
            py,
            &self.inner.signing_algorithms,
            keyplane::SigningAlgorithm::as_str,
        )
    }

    /// The MAC algorithms the key supports.
    #[getter]
    fn mac_algorithms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        names(
            py,
            &self.inner.mac_algorithms,
            keyplane::MacAlgorithm::as_str,
        )
    }

    /// The aliases that point at the key, sorted.
    #[getter]
    fn aliases<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.aliases.iter().map(String::as_str))
    }

    /// The automatic rotation period, or ``None``.
    #[getter]
    fn rotation_period(&self) -> Option<Duration> {
        self.inner.rotation_period.map(|p| p.as_duration())
    }

    /// When the key next rotates by itself (on its first use after this time), or ``None``.
    #[getter]
    fn next_rotation_date(&self) -> Option<SystemTime> {
        self.inner.next_rotation_date
    }

    /// The version new encryptions use (0 for keys without versions to rotate).
    #[getter]
    fn current_version(&self) -> u32 {
        self.inner.current_version
    }

    /// Blobs of older versions are refused with ``VersionRetiredError``.
    #[getter]
    fn min_decryption_version(&self) -> u32 {
        self.inner.min_decryption_version
    }

    /// Whether the key rotates (rather than refuses) when a version's encryption budget is
    /// spent.
    #[getter]
    fn rotate_on_budget(&self) -> bool {
        self.inner.rotate_on_budget
    }

    /// Every version, oldest first.
    #[getter]
    fn versions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let versions = self
            .inner
            .versions
            .iter()
            .map(|v| {
                Bound::new(
                    py,
                    PyKeyVersion {
                        version: v.version,
                        creation_date: v.creation_date,
                        encryptions: v.encryptions,
                    },
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, versions)
    }

    fn __repr__(&self) -> String {
        format!(
            "KeyMetadata(key_id={}, key_spec='{}', key_usage='{}', key_state='{}', \
             current_version={})",
            repr_str(&self.inner.key_id),
            self.inner.key_spec,
            self.inner.key_usage,
            self.inner.key_state,
            self.inner.current_version,
        )
    }
}

/// One version of a key.
#[pyclass(frozen, module = "keyplane", name = "KeyVersion")]
pub(crate) struct PyKeyVersion {
    version: u32,
    creation_date: SystemTime,
    encryptions: u64,
}

#[pymethods]
impl PyKeyVersion {
    /// The version number, from 1.
    #[getter]
    fn version(&self) -> u32 {
        self.version
    }

    /// When the version was created (UTC).
    #[getter]
    fn creation_date(&self) -> SystemTime {
        self.creation_date
    }

    /// How many encryptions (nonces) this keyring has made under this version.
    #[getter]
    fn encryptions(&self) -> u64 {
        self.encryptions
    }

    fn __repr__(&self) -> String {
        format!(
            "KeyVersion(version={}, encryptions={})",
            self.version, self.encryptions
        )
    }
}

/// A data key: its plaintext and the same bytes encrypted under a Keyplane key.
///
/// Use ``plaintext`` (for example as an ``AESGCM`` key), drop it, and store
/// ``ciphertext_blob`` beside your data; ``Keyring.decrypt`` gives the plaintext back.
/// ``repr()`` never shows the plaintext.
#[pyclass(frozen, module = "keyplane", name = "DataKey")]
pub(crate) struct PyDataKey {
    key_id: String,
    plaintext: Py<PyBytes>,
    ciphertext_blob: Py<PyBytes>,
}

impl PyDataKey {
    pub(crate) fn new(
        py: Python<'_>,
        key_id: String,
        plaintext: &[u8],
        ciphertext_blob: &[u8],
    ) -> Self {
        Self {
            key_id,
            plaintext: PyBytes::new(py, plaintext).unbind(),
            ciphertext_blob: PyBytes::new(py, ciphertext_blob).unbind(),
        }
    }
}

#[pymethods]
impl PyDataKey {
    /// The key that encrypted the data key (a key id, never an alias).
    #[getter]
    fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The data key in plaintext.
    #[getter]
    fn plaintext(&self, py: Python<'_>) -> Py<PyBytes> {
        self.plaintext.clone_ref(py)
    }

    /// The data key encrypted under ``key_id``: a Keyplane blob.
    #[getter]
    fn ciphertext_blob(&self, py: Python<'_>) -> Py<PyBytes> {
        self.ciphertext_blob.clone_ref(py)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "DataKey(key_id={}, plaintext=<{} secret bytes>, ciphertext_blob=<{} bytes>)",
            repr_str(&self.key_id),
            self.plaintext.bind(py).as_bytes().len(),
            self.ciphertext_blob.bind(py).as_bytes().len()
        )
    }
}

/// A data key pair: the public key, the private key in plaintext, and the private key encrypted
/// under a symmetric Keyplane key. ``repr()`` never shows the private key.
#[pyclass(frozen, module = "keyplane", name = "DataKeyPair")]
pub(crate) struct PyDataKeyPair {
    key_id: String,
    key_pair_spec: keyplane::DataKeyPairSpec,
    public_key: Py<PyBytes>,
    private_key_plaintext: Py<PyBytes>,
    private_key_ciphertext_blob: Py<PyBytes>,
}

impl PyDataKeyPair {
    pub(crate) fn new(py: Python<'_>, pair: &keyplane::DataKeyPair) -> Self {
        Self {
            key_id: pair.key_id().to_owned(),
            key_pair_spec: pair.key_pair_spec(),
            public_key: PyBytes::new(py, pair.public_key()).unbind(),
            private_key_plaintext: PyBytes::new(py, pair.private_key_plaintext()).unbind(),
            private_key_ciphertext_blob: PyBytes::new(py, pair.private_key_ciphertext_blob())
                .unbind(),
        }
    }
}

#[pymethods]
impl PyDataKeyPair {
    /// The symmetric key that encrypted the private key.
    #[getter]
    fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The kind of pair, e.g. ``"ECC_NIST_P256"`` or ``"RSA_2048"``.
    #[getter]
    fn key_pair_spec(&self) -> &'static str {
        self.key_pair_spec.as_str()
    }

    /// The public key, DER X.509 ``SubjectPublicKeyInfo``.
    #[getter]
    fn public_key(&self, py: Python<'_>) -> Py<PyBytes> {
        self.public_key.clone_ref(py)
    }

    /// The private key, PKCS#8 DER.
    #[getter]
    fn private_key_plaintext(&self, py: Python<'_>) -> Py<PyBytes> {
        self.private_key_plaintext.clone_ref(py)
    }

    /// The PKCS#8 private key encrypted under ``key_id``: a Keyplane blob.
    #[getter]
    fn private_key_ciphertext_blob(&self, py: Python<'_>) -> Py<PyBytes> {
        self.private_key_ciphertext_blob.clone_ref(py)
    }

    fn __repr__(&self) -> String {
        format!(
            "DataKeyPair(key_id={}, key_pair_spec='{}', private_key_plaintext=<secret>)",
            repr_str(&self.key_id),
            self.key_pair_spec
        )
    }
}

/// A data key pair without its plaintext private key.
#[pyclass(frozen, module = "keyplane", name = "DataKeyPairWithoutPlaintext")]
pub(crate) struct PyDataKeyPairWithoutPlaintext {
    key_id: String,
    key_pair_spec: keyplane::DataKeyPairSpec,
    public_key: Py<PyBytes>,
    private_key_ciphertext_blob: Py<PyBytes>,
}

impl PyDataKeyPairWithoutPlaintext {
    pub(crate) fn new(py: Python<'_>, pair: &keyplane::DataKeyPairWithoutPlaintext) -> Self {
        Self {
            key_id: pair.key_id.clone(),
            key_pair_spec: pair.key_pair_spec,
            public_key: PyBytes::new(py, &pair.public_key).unbind(),
            private_key_ciphertext_blob: PyBytes::new(py, &pair.private_key_ciphertext_blob)
                .unbind(),
        }
    }
}

#[pymethods]
impl PyDataKeyPairWithoutPlaintext {
    /// The symmetric key that encrypted the private key.
    #[getter]
    fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The kind of pair, e.g. ``"ECC_NIST_P256"`` or ``"RSA_2048"``.
    #[getter]
    fn key_pair_spec(&self) -> &'static str {
        self.key_pair_spec.as_str()
    }

    /// The public key, DER X.509 ``SubjectPublicKeyInfo``.
    #[getter]
    fn public_key(&self, py: Python<'_>) -> Py<PyBytes> {
        self.public_key.clone_ref(py)
    }

    /// The PKCS#8 private key encrypted under ``key_id``: a Keyplane blob.
    #[getter]
    fn private_key_ciphertext_blob(&self, py: Python<'_>) -> Py<PyBytes> {
        self.private_key_ciphertext_blob.clone_ref(py)
    }

    fn __repr__(&self) -> String {
        format!(
            "DataKeyPairWithoutPlaintext(key_id={}, key_pair_spec='{}')",
            repr_str(&self.key_id),
            self.key_pair_spec
        )
    }
}

/// The public half of an asymmetric key, as ``Keyring.get_public_key`` returns it.
#[pyclass(frozen, module = "keyplane", name = "PublicKey")]
pub(crate) struct PyPublicKey {
    inner: keyplane::PublicKeyInfo,
}

impl PyPublicKey {
    pub(crate) fn new(inner: keyplane::PublicKeyInfo) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl PyPublicKey {
    /// The key id.
    #[getter]
    fn key_id(&self) -> &str {
        &self.inner.key_id
    }

    /// The key spec.
    #[getter]
    fn key_spec(&self) -> &'static str {
        self.inner.key_spec.as_str()
    }

    /// The key usage.
    #[getter]
    fn key_usage(&self) -> &'static str {
        self.inner.key_usage.as_str()
    }

    /// The public key, DER X.509 ``SubjectPublicKeyInfo`` (load it with
    /// ``cryptography.hazmat.primitives.serialization.load_der_public_key``).
    #[getter]
    fn public_key<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.public_key)
    }

    /// The signing algorithms the key allows (empty unless it signs).
    #[getter]
    fn signing_algorithms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        names(
            py,
            &self.inner.signing_algorithms,
            keyplane::SigningAlgorithm::as_str,
        )
    }

    /// The encryption algorithms the key allows (empty unless it encrypts).
    #[getter]
    fn encryption_algorithms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        names(
            py,
            &self.inner.encryption_algorithms,
            keyplane::EncryptionAlgorithm::as_str,
        )
    }

    /// The public key as PEM (``-----BEGIN PUBLIC KEY-----``).
    fn to_pem(&self) -> String {
        self.inner.to_pem()
    }

    fn __repr__(&self) -> String {
        format!(
            "PublicKey(key_id={}, key_spec='{}', key_usage='{}')",
            repr_str(&self.inner.key_id),
            self.inner.key_spec,
            self.inner.key_usage
        )
    }
}

/// What a blob's header says, read without any key (``keyplane.inspect_blob``).
#[pyclass(frozen, module = "keyplane", name = "BlobInfo")]
pub(crate) struct PyBlobInfo {
    pub(crate) format_version: u8,
    pub(crate) key_id: String,
    pub(crate) key_version: u32,
}

#[pymethods]
impl PyBlobInfo {
    /// The format version byte (1).
    #[getter]
    fn format_version(&self) -> u8 {
        self.format_version
    }

    /// The key that encrypted the blob.
    #[getter]
    fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The key version that encrypted the blob.
    #[getter]
    fn key_version(&self) -> u32 {
        self.key_version
    }

    fn __repr__(&self) -> String {
        format!(
            "BlobInfo(format_version={}, key_id={}, key_version={})",
            self.format_version,
            repr_str(&self.key_id),
            self.key_version
        )
    }
}

/// A root key held in this process (``LocalRootKey(root_id, material)``, 32 bytes of material)
/// that seals and opens key records: ``Keyring.export_sealed``, ``Keyring.import_sealed``,
/// ``keyplane.reseal``. ``repr()`` never shows the material.
#[pyclass(frozen, module = "keyplane", name = "LocalRootKey")]
pub(crate) struct PyLocalRootKey {
    pub(crate) inner: std::sync::Arc<keyplane::LocalRootKey>,
}

#[pymethods]
impl PyLocalRootKey {
    #[new]
    fn new(root_id: crate::convert::Text, material: crate::convert::Buf<'_>) -> PyResult<Self> {
        let inner =
            keyplane::LocalRootKey::new(&*root_id, material.as_slice()).map_err(crate::KpError)?;
        Ok(Self {
            inner: std::sync::Arc::new(inner),
        })
    }

    /// 32 fresh random bytes of root key material, from the system's generator.
    #[staticmethod]
    fn generate_material(py: Python<'_>) -> PyResult<Bound<'_, PyBytes>> {
        let material = keyplane::LocalRootKey::generate_material().map_err(crate::KpError)?;
        Ok(PyBytes::new(py, &material[..]))
    }

    /// The root key's id, written into every record it seals.
    #[getter]
    fn root_id(&self) -> &str {
        keyplane::RootKey::id(&*self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "LocalRootKey(root_id={}, material=<secret>)",
            repr_str(keyplane::RootKey::id(&*self.inner))
        )
    }
}

/// What ``Keyring.get_parameters_for_import`` returns: the public key to wrap material with
/// and the token to give ``Keyring.import_key_material``.
#[pyclass(frozen, module = "keyplane", name = "ImportParameters")]
pub(crate) struct PyImportParameters {
    key_id: String,
    public_key: Py<PyBytes>,
    import_token: Py<PyBytes>,
    parameters_valid_to: SystemTime,
}

impl PyImportParameters {
    pub(crate) fn new(py: Python<'_>, p: keyplane::ImportParameters) -> Self {
        Self {
            public_key: PyBytes::new(py, &p.public_key).unbind(),
            import_token: PyBytes::new(py, &p.import_token).unbind(),
            key_id: p.key_id,
            parameters_valid_to: p.parameters_valid_to,
        }
    }
}

#[pymethods]
impl PyImportParameters {
    /// The key the material is for.
    #[getter]
    fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The RSA wrapping public key, DER ``SubjectPublicKeyInfo``.
    #[getter]
    fn public_key(&self, py: Python<'_>) -> Py<PyBytes> {
        self.public_key.clone_ref(py)
    }

    /// The import token, opaque.
    #[getter]
    fn import_token(&self, py: Python<'_>) -> Py<PyBytes> {
        self.import_token.clone_ref(py)
    }

    /// Until when (UTC) the public key and token can be used.
    #[getter]
    fn parameters_valid_to(&self) -> SystemTime {
        self.parameters_valid_to
    }

    fn __repr__(&self) -> String {
        format!("ImportParameters(key_id={})", repr_str(&self.key_id))
    }
}

/// A sealed record ``Keyring.open`` could not load: the file and the error (an exception
/// instance: ``InvalidCiphertextError`` for a damaged or foreign record, ``InvalidInputError``
/// for a file that is not a record, ``StorageError`` for one that cannot be read,
/// ``AlreadyExistsError`` for a second record of the same key).
#[pyclass(frozen, module = "keyplane", name = "LoadProblem")]
pub(crate) struct PyLoadProblem {
    pub(crate) path: PathBuf,
    pub(crate) error: keyplane::Error,
}

#[pymethods]
impl PyLoadProblem {
    /// The record's file.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// The error, as the exception instance a call would raise.
    #[getter]
    fn error<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::errors::instance(py, &self.error)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "LoadProblem(path={}, error={})",
            PyString::new(py, &self.path.to_string_lossy()).repr()?,
            self.error(py)?.repr()?
        ))
    }
}
