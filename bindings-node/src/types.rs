//! The objects that cross the boundary, declared once: their `///` docs become the TypeScript
//! interfaces of `index.d.ts`.
//!
//! Results (`KeyMetadata`, `DataKey`, …) are built by napi-rs from these structs. Arguments
//! (`CreateKeyOptions`, the batch items, …) are read field by field in `keyring.rs`, so that
//! every wrong type is a `TypeError` naming the field; their structs only declare the
//! interfaces and are never built.
#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::{ToNapiValue, TypeName};
use napi::sys;
use napi_derive::napi;
use zeroize::Zeroizing;

use crate::js::Js;

// ----- value wrappers -----------------------------------------------------------------------

/// Bytes returned as a new `Buffer`.
#[derive(Debug, Clone, Default)]
pub struct Bytes(pub(crate) Vec<u8>);

impl ToNapiValue for Bytes {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        Js::from_raw(env)
            .public_buffer(&val.0)
            .map_err(|_| napi_failure())
    }
}

/// Secret bytes (a plaintext, a data key, a private key) returned as a new `Buffer`; the Rust
/// copy is zeroized once the Buffer is made.
#[derive(Debug, Default)]
pub struct SecretBytes(pub(crate) Zeroizing<Vec<u8>>);

impl ToNapiValue for SecretBytes {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        Js::from_raw(env).buffer(&val.0).map_err(|_| napi_failure())
    }
}

/// A point in time returned as a `Date`.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(pub(crate) SystemTime);

impl ToNapiValue for Timestamp {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        Js::from_raw(env).date(val.0).map_err(|_| napi_failure())
    }
}

macro_rules! type_name {
    ($($t:ty => $name:literal),*) => {$(
        impl TypeName for $t {
            fn type_name() -> &'static str {
                $name
            }
            fn value_type() -> napi::ValueType {
                napi::ValueType::Object
            }
        }
    )*};
}
type_name!(Bytes => "Buffer", SecretBytes => "Buffer", Timestamp => "Date");

fn napi_failure() -> napi::Error {
    napi::Error::new(
        napi::Status::GenericFailure,
        "could not create a result value",
    )
}

/// Seconds since the epoch, for periods given as `Duration`.
pub(crate) fn seconds(d: std::time::Duration) -> f64 {
    d.as_secs_f64()
}

/// A count as a number: exact below 2^53, which encryption counts never reach (a version's
/// budget is 2^32 by default and rotation comes first).
fn count(n: u64) -> f64 {
    let high = u32::try_from(n >> 32).unwrap_or(u32::MAX);
    let low = u32::try_from(n & 0xffff_ffff).unwrap_or(u32::MAX);
    f64::from(high) * 4_294_967_296.0 + f64::from(low)
}

pub(crate) fn now() -> SystemTime {
    SystemTime::now().max(UNIX_EPOCH)
}

// ----- results ------------------------------------------------------------------------------

/// What `describeKey` and `createKey` report about a key (AWS KMS's `KeyMetadata`).
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct KeyMetadata {
    /// The key id (never an alias).
    pub key_id: String,
    /// `SYMMETRIC_DEFAULT`, `HMAC_256`, `RSA_2048`, `ECC_NIST_P256`, …
    pub key_spec: String,
    /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY` or `GENERATE_VERIFY_MAC`.
    pub key_usage: String,
    /// `Enabled`, `Disabled`, `PendingDeletion` or `PendingImport`.
    pub key_state: String,
    /// `KEYPLANE` (generated here) or `EXTERNAL` (imported).
    pub origin: String,
    /// When the key was created.
    #[napi(ts_type = "Date")]
    pub creation_date: Timestamp,
    /// The description given at creation.
    pub description: String,
    /// When a key pending deletion will be deleted.
    #[napi(ts_type = "Date")]
    pub deletion_date: Option<Timestamp>,
    /// The encryption algorithms the key supports.
    pub encryption_algorithms: Vec<String>,
    /// The signing algorithms the key supports.
    pub signing_algorithms: Vec<String>,
    /// The MAC algorithms the key supports.
    pub mac_algorithms: Vec<String>,
    /// Aliases that point at the key, sorted.
    pub aliases: Vec<String>,
    /// The automatic rotation period in seconds, if the key rotates by period.
    pub rotation_period_seconds: Option<f64>,
    /// When the key next rotates by itself (at its first use after this time).
    #[napi(ts_type = "Date")]
    pub next_rotation_date: Option<Timestamp>,
    /// The version new encryptions use (symmetric keys; 1 for others).
    pub current_version: u32,
    /// Blobs of older versions are refused with `KP_VERSION_RETIRED`.
    pub min_decryption_version: u32,
    /// Whether the key rotates (rather than refuses) when a version's encryption budget is spent.
    pub rotate_on_budget: bool,
    /// Every version, oldest first.
    pub versions: Vec<KeyVersion>,
    /// For imported material that expires: when it does (the key then returns to
    /// `PendingImport`).
    #[napi(ts_type = "Date")]
    pub valid_to: Option<Timestamp>,
}

/// One version of a key.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct KeyVersion {
    /// The version number, from 1.
    pub version: u32,
    /// When the version was created.
    #[napi(ts_type = "Date")]
    pub creation_date: Timestamp,
    /// How many encryptions (nonces) this keyring has made under the version.
    pub encryptions: f64,
}

impl From<keyplane::KeyMetadata> for KeyMetadata {
    fn from(m: keyplane::KeyMetadata) -> Self {
        let names = |v: &[&'static str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Self {
            key_spec: m.key_spec.as_str().to_owned(),
            key_usage: m.key_usage.as_str().to_owned(),
            key_state: m.key_state.as_str().to_owned(),
            origin: m.origin.as_str().to_owned(),
            creation_date: Timestamp(m.creation_date),
            deletion_date: m.deletion_date.map(Timestamp),
            encryption_algorithms: names(
                &m.encryption_algorithms
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>(),
            ),
            signing_algorithms: names(
                &m.signing_algorithms
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>(),
            ),
            mac_algorithms: names(
                &m.mac_algorithms
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>(),
            ),
            rotation_period_seconds: m.rotation_period.map(|p| seconds(p.as_duration())),
            next_rotation_date: m.next_rotation_date.map(Timestamp),
            current_version: m.current_version,
            min_decryption_version: m.min_decryption_version,
            rotate_on_budget: m.rotate_on_budget,
            versions: m
                .versions
                .iter()
                .map(|v| KeyVersion {
                    version: v.version,
                    creation_date: Timestamp(v.creation_date),
                    encryptions: count(v.encryptions),
                })
                .collect(),
            valid_to: m.valid_to.map(Timestamp),
            aliases: m.aliases,
            description: m.description,
            key_id: m.key_id,
        }
    }
}

/// An alias and the key it points at.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct AliasEntry {
    /// The alias, `alias/...`.
    pub alias_name: String,
    /// The key id it resolves to.
    pub target_key_id: String,
}

/// A data key: use `plaintext`, then drop it; store `ciphertextBlob` beside your data and
/// decrypt it when you need the key again.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct DataKey {
    /// The key that encrypted the data key.
    pub key_id: String,
    /// The data key in plaintext.
    #[napi(ts_type = "Buffer")]
    pub plaintext: SecretBytes,
    /// The data key encrypted under `keyId`: a Keyplane blob for `decrypt`.
    #[napi(ts_type = "Buffer")]
    pub ciphertext_blob: Bytes,
}

/// A data key pair: the public key, the private key in plaintext and the private key encrypted
/// under a symmetric key.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct DataKeyPair {
    /// The symmetric key that encrypted the private key.
    pub key_id: String,
    /// `RSA_2048`, `ECC_NIST_P256`, …
    pub key_pair_spec: String,
    /// The public key, DER-encoded X.509 SubjectPublicKeyInfo.
    #[napi(ts_type = "Buffer")]
    pub public_key: Bytes,
    /// The private key, PKCS#8 DER (`crypto.createPrivateKey({ key, format: 'der', type: 'pkcs8' })`).
    #[napi(ts_type = "Buffer")]
    pub private_key_plaintext: SecretBytes,
    /// The PKCS#8 private key encrypted under `keyId`: a Keyplane blob.
    #[napi(ts_type = "Buffer")]
    pub private_key_ciphertext_blob: Bytes,
}

/// A data key pair without its plaintext private key.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct DataKeyPairWithoutPlaintext {
    /// The symmetric key that encrypted the private key.
    pub key_id: String,
    /// `RSA_2048`, `ECC_NIST_P256`, …
    pub key_pair_spec: String,
    /// The public key, DER-encoded X.509 SubjectPublicKeyInfo.
    #[napi(ts_type = "Buffer")]
    pub public_key: Bytes,
    /// The PKCS#8 private key encrypted under `keyId`: a Keyplane blob.
    #[napi(ts_type = "Buffer")]
    pub private_key_ciphertext_blob: Bytes,
}

/// The public half of an asymmetric key.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct PublicKey {
    /// The key id.
    pub key_id: String,
    /// The key spec.
    pub key_spec: String,
    /// The key usage.
    pub key_usage: String,
    /// DER-encoded X.509 SubjectPublicKeyInfo
    /// (`crypto.createPublicKey({ key, format: 'der', type: 'spki' })`).
    #[napi(ts_type = "Buffer")]
    pub public_key: Bytes,
    /// The same key as PEM (`-----BEGIN PUBLIC KEY-----`).
    pub public_key_pem: String,
    /// The signing algorithms the key allows (empty unless it signs).
    pub signing_algorithms: Vec<String>,
    /// The encryption algorithms the key allows (empty unless it encrypts).
    pub encryption_algorithms: Vec<String>,
}

/// What `getParametersForImport` returns: the public key to wrap material with and the token
/// to give `importKeyMaterial`.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct ImportParameters {
    /// The key the material is for (its id, never an alias).
    pub key_id: String,
    /// The RSA wrapping public key, DER-encoded X.509 SubjectPublicKeyInfo
    /// (`crypto.createPublicKey({ key, format: 'der', type: 'spki' })`).
    #[napi(ts_type = "Buffer")]
    pub public_key: Bytes,
    /// The import token, opaque: pass it back to `importKeyMaterial`.
    #[napi(ts_type = "Buffer")]
    pub import_token: Bytes,
    /// Until when the public key and token can be used (24 hours).
    #[napi(ts_type = "Date")]
    pub parameters_valid_to: Timestamp,
}

/// What a sealed record says in the clear (`inspectSealed`); not authenticated until opened.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct SealedRecordInfo {
    /// The record format (1).
    pub format: u32,
    /// The id of the key inside.
    pub key_id: String,
    /// The id of the root key that sealed it.
    pub root_id: String,
}

/// Which AWS-LC module this build runs on (`fipsStatus()`).
#[napi(object, object_from_js = false, use_nullable = true)]
#[derive(Debug)]
pub struct FipsStatus {
    /// Built with the `fips` feature, on the AWS-LC FIPS module.
    pub fips_build: bool,
    /// The module is in FIPS mode (its power-on self-tests passed); `false` in a non-FIPS build.
    pub fips_mode: bool,
    /// `"AWS-LC FIPS"` or `"AWS-LC"`.
    pub module: String,
    /// The module's version as it reports itself, e.g. `"4.2.0"`.
    pub module_version: String,
    /// The FIPS branch the module was built from (4 for AWS-LC FIPS 4.x); `null` in a non-FIPS
    /// build.
    pub fips_branch: Option<u32>,
}

/// One audited operation, as an audit callback receives it. Never carries a plaintext, a
/// ciphertext or key material.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct AuditEvent {
    /// Position in the keyring's audit trail, from 1.
    pub sequence: f64,
    /// When the operation finished.
    #[napi(ts_type = "Date")]
    pub time: (),
    /// Unique within the process: the calling thread's number and call counter, in hex.
    pub request_id: String,
    /// The operation, named as AWS KMS names its API calls (`Encrypt`, `CreateKey`, …).
    pub operation: String,
    /// The key id (never an alias once the key was found; otherwise the name given).
    #[napi(ts_type = "string | null")]
    pub key_id: (),
    /// The key version used by symmetric encryption and decryption.
    #[napi(ts_type = "number | null")]
    pub key_version: (),
    /// The caller identity of the keyring handle (`withCaller`).
    #[napi(ts_type = "string | null")]
    pub caller: (),
    /// The encryption context, as much as the keyring logs (values are `''` with
    /// `context: 'keysOnly'`; empty with `'none'`).
    #[napi(ts_type = "Record<string, string>")]
    pub context: (),
    /// `null` for success, else the error code (`KP_INVALID_CIPHERTEXT`, …).
    #[napi(ts_type = "KeyplaneErrorCode | null")]
    pub error_code: (),
}

/// When a key was last used and how often each operation used it (AWS KMS's
/// `GetKeyLastUsage`).
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct KeyLastUsage {
    /// The last time the key was used, successfully or not.
    #[napi(ts_type = "Date | null")]
    pub last_used: (),
    /// The last operation (`Encrypt`, …).
    #[napi(ts_type = "string | null")]
    pub last_operation: (),
    /// How many times each operation used the key, by operation name.
    #[napi(ts_type = "Record<string, number>")]
    pub counts: (),
}

/// A line of an audit log file.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct AuditLogPosition {
    /// The file.
    pub file: String,
    /// The line, from 1.
    pub line: f64,
}

/// The last checkpoint of an audit log.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct AuditLogCheckpoint {
    /// The file.
    pub file: String,
    /// The line, from 1.
    pub line: f64,
    /// When the checkpoint was written.
    #[napi(ts_type = "Date")]
    pub time: (),
}

/// What `verifyAuditLog` found in an intact log.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct AuditLogReport {
    /// Event lines (checkpoints not counted).
    pub records: f64,
    /// The last checkpoint.
    #[napi(ts_type = "AuditLogCheckpoint | null")]
    pub last_checkpoint: (),
    /// Whether the log ends with the checkpoint written when its keyring closed. `false`: the
    /// writer stopped (a crash) or the tail was cut off after `endsAt`; lines after the last
    /// checkpoint are chained but not MACed.
    pub closed: bool,
    /// The last complete line (`null` for an empty log).
    #[napi(ts_type = "AuditLogPosition | null")]
    pub ends_at: (),
    /// An incomplete last line (a crash mid-write) was ignored.
    pub incomplete_tail: bool,
    /// The report in one line (`intact, 12 records, last checkpoint at …`).
    pub summary: String,
}

/// A sealed record `Keyring.open` could not load.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct LoadProblem {
    /// The record's file.
    pub path: String,
    /// Why: `KP_INVALID_CIPHERTEXT` for a damaged record or one sealed under another root key,
    /// `KP_INVALID_INPUT` for a file that is not a record, `KP_STORAGE` for one that cannot be
    /// read, `KP_ALREADY_EXISTS` for a second record of the same key.
    #[napi(ts_type = "KeyplaneError")]
    pub error: (),
}

// ----- arguments (interfaces only) -----------------------------------------------------------

/// Options for `new Keyring()`.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct KeyringOptions {
    /// Encryptions allowed per key version before the key rotates by itself (or refuses).
    /// Default 2^32. Replicas holding the same key should each get a share.
    pub encryption_budget: Option<f64>,
    /// Run this keyring's batches on a pool of its own with this many threads (0: one per
    /// core; at most 1024, and anything that is not an integer from 0 to 1024 is
    /// `KP_INVALID_INPUT`). By default batches share one process-wide pool. A batch runs on its
    /// calling thread (the event loop for the `…Sync` forms) and up to `threads - 1` pool
    /// threads.
    pub threads: Option<u32>,
    /// The most items one batch call takes (default 100,000); a larger batch fails as a whole
    /// with `KP_LIMIT_EXCEEDED`. Every item counts, also one whose values are refused in its
    /// slot.
    pub max_batch_items: Option<u32>,
    /// Record every operation of the keyring (see `AuditOptions`).
    #[napi(ts_type = "AuditOptions")]
    pub audit: Option<()>,
}

/// How a keyring records its audit trail: to a JavaScript callback, or to a hash-chained JSON
/// Lines log in a directory. Give exactly one of `callback` and `logDir`.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct AuditOptions {
    /// Called with one `AuditEvent` per operation, in order, on the JavaScript thread (never
    /// on the writer thread). A throw, or a returned Promise that rejects, becomes a process
    /// warning (`KeyplaneAuditWarning`) and counts in `auditFailures`; the keyring carries on.
    #[napi(ts_type = "(event: AuditEvent) => void | Promise<void>")]
    pub callback: Option<()>,
    /// A new directory (or one without a log) for `audit-000001.jsonl`, …: each line chains the
    /// SHA-256 of the one before and checkpoints are HMAC-SHA256'd under `auditKey`. Check it
    /// with `verifyAuditLog`.
    pub log_dir: Option<String>,
    /// 32 bytes, required with `logDir`; keep it away from the log.
    #[napi(ts_type = "Uint8Array")]
    pub audit_key: Option<()>,
    /// How much of each encryption context to log: `'full'` (the default), `'keysOnly'` or
    /// `'none'`.
    #[napi(ts_type = "'full' | 'keysOnly' | 'none'")]
    pub context: Option<String>,
    /// When a queue is full: `'block'` (the default: the caller waits; nothing is lost) or
    /// `'drop'` (the event is dropped and counted in `auditDropped`).
    #[napi(ts_type = "'block' | 'drop'")]
    pub back_pressure: Option<String>,
    /// Events each calling thread may have waiting for the core's writer (default 4096, at most
    /// 1048576); with `'drop'`, also the most events that wait for the JavaScript thread.
    pub queue_capacity: Option<u32>,
    /// A log file reaching this size is followed by the next (default 64 MiB).
    pub max_file_bytes: Option<f64>,
    /// Records between MACed checkpoints (default 1000).
    pub checkpoint_every: Option<f64>,
}

/// Options for `importKeyMaterial`.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct ImportKeyMaterialOptions {
    /// The material expires then (a future `Date`): the key returns to `PendingImport`.
    #[napi(ts_type = "Date")]
    pub valid_to: Option<()>,
}

/// A rotation period: exactly one of `days` (90 to 2560, AWS KMS's bounds) or `seconds` (any
/// positive number of seconds, for tests and custom policies).
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct RotationPeriod {
    /// Whole days, 90 to 2560.
    pub days: Option<u32>,
    /// Seconds, more than zero.
    pub seconds: Option<f64>,
}

/// A deletion waiting period: `days` (7 to 30, AWS KMS's bounds; the default is 30) or
/// `seconds` (any, for tests: 0 deletes at the next look-up).
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct PendingWindow {
    /// Whole days, 7 to 30.
    pub days: Option<u32>,
    /// Seconds, zero or more.
    pub seconds: Option<f64>,
}

/// Options for `createKey`.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct CreateKeyOptions {
    /// The key spec (default `SYMMETRIC_DEFAULT`): `HMAC_224|256|384|512`,
    /// `RSA_2048|3072|4096`, `ECC_NIST_P256|P384|P521`, `ECC_SECG_P256K1`.
    pub key_spec: Option<String>,
    /// The key usage; required for RSA keys (`ENCRYPT_DECRYPT` or `SIGN_VERIFY`), otherwise
    /// the spec's only usage.
    pub key_usage: Option<String>,
    /// Use this key id instead of a generated UUID: 1 to 255 ASCII letters, digits or `-_.:/`.
    pub key_id: Option<String>,
    /// Create this alias (`alias/...`) for the key at the same time.
    pub alias: Option<String>,
    /// A free-text description.
    pub description: Option<String>,
    /// Rotate automatically with this period (symmetric keys only).
    #[napi(ts_type = "RotationPeriod")]
    pub rotation_period: Option<RotationPeriod>,
    /// What happens when a version's encryption budget is spent: rotate (`true`, the default)
    /// or refuse with `KP_LIMIT_EXCEEDED`.
    pub rotate_on_budget: Option<bool>,
    /// `KEYPLANE` (the default: material generated here) or `EXTERNAL`: a key without
    /// material, in `PendingImport`, for `getParametersForImport` and `importKeyMaterial`.
    #[napi(ts_type = "'KEYPLANE' | 'EXTERNAL'")]
    pub origin: Option<String>,
}

/// Options for `reEncrypt`.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct ReEncryptOptions {
    /// The context the blob was encrypted with.
    #[napi(ts_type = "Record<string, string> | EncryptionContext")]
    pub source_context: Option<()>,
    /// The context to bind to the new blob.
    #[napi(ts_type = "Record<string, string> | EncryptionContext")]
    pub destination_context: Option<()>,
}

/// Options for `generateDataKey` and `generateDataKeyWithoutPlaintext`: the size (`keySpec`
/// `AES_256`, the default, or `AES_128`; or `numberOfBytes`, 1 to 1024) and the context.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct DataKeyOptions {
    /// `AES_256` (32 bytes, the default) or `AES_128` (16 bytes).
    pub key_spec: Option<String>,
    /// Any length from 1 to 1024 bytes, instead of `keySpec`.
    pub number_of_bytes: Option<u32>,
    /// Bound to the encrypted data key; `decrypt` must present it again.
    #[napi(ts_type = "Record<string, string> | EncryptionContext")]
    pub context: Option<()>,
}

/// One item of `encryptMany`.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct EncryptItem {
    /// Key id or `alias/...`.
    pub key_id: String,
    /// The data to encrypt.
    #[napi(ts_type = "Uint8Array")]
    pub plaintext: (),
    /// Bound as authenticated data.
    #[napi(ts_type = "Record<string, string> | EncryptionContext")]
    pub context: Option<()>,
}

/// One item of `decryptMany`.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct DecryptItem {
    /// A blob from `encrypt`.
    #[napi(ts_type = "Uint8Array")]
    pub blob: (),
    /// The context given to `encrypt`.
    #[napi(ts_type = "Record<string, string> | EncryptionContext")]
    pub context: Option<()>,
}

/// One item of `reEncryptMany`.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct ReEncryptItem {
    /// A blob from `encrypt`.
    #[napi(ts_type = "Uint8Array")]
    pub blob: (),
    /// Key id or `alias/...` to encrypt under.
    pub destination_key_id: String,
    /// The context the blob was encrypted with.
    #[napi(ts_type = "Record<string, string> | EncryptionContext")]
    pub source_context: Option<()>,
    /// The context to bind to the new blob.
    #[napi(ts_type = "Record<string, string> | EncryptionContext")]
    pub destination_context: Option<()>,
}

/// One item of `generateDataKeyMany` and `generateDataKeyWithoutPlaintextMany`.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct DataKeyItem {
    /// Key id or `alias/...` that encrypts the data key.
    pub key_id: String,
    /// `AES_256` (the default) or `AES_128`.
    pub key_spec: Option<String>,
    /// Any length from 1 to 1024 bytes, instead of `keySpec`.
    pub number_of_bytes: Option<u32>,
    /// Bound to the encrypted data key.
    #[napi(ts_type = "Record<string, string> | EncryptionContext")]
    pub context: Option<()>,
}

/// One item of `generateMacMany`.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct MacItem {
    /// Key id or `alias/...` of an HMAC key.
    pub key_id: String,
    /// The message.
    #[napi(ts_type = "Uint8Array")]
    pub message: (),
    /// `HMAC_SHA_224|256|384|512`, matching the key's spec.
    pub mac_algorithm: String,
}

/// One item of `verifyMacMany`.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct VerifyMacItem {
    /// Key id or `alias/...` of an HMAC key.
    pub key_id: String,
    /// The message.
    #[napi(ts_type = "Uint8Array")]
    pub message: (),
    /// `HMAC_SHA_224|256|384|512`, matching the key's spec.
    pub mac_algorithm: String,
    /// The MAC to check.
    #[napi(ts_type = "Uint8Array")]
    pub mac: (),
}

/// One item of `signMany`.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct SignItem {
    /// Key id or `alias/...` of a signing key.
    pub key_id: String,
    /// The message, or its digest with `messageType: 'DIGEST'`.
    #[napi(ts_type = "Uint8Array")]
    pub message: (),
    /// `ECDSA_SHA_256`, `RSASSA_PSS_SHA_256`, … (one the key's spec allows).
    pub signing_algorithm: String,
    /// `RAW` (the default) or `DIGEST`.
    pub message_type: Option<String>,
}

/// One item of `verifyMany`.
#[napi(object, object_from_js = false, object_to_js = false)]
#[derive(Debug)]
pub struct VerifyItem {
    /// Key id or `alias/...` of a signing key.
    pub key_id: String,
    /// The message, or its digest with `messageType: 'DIGEST'`.
    #[napi(ts_type = "Uint8Array")]
    pub message: (),
    /// `ECDSA_SHA_256`, `RSASSA_PSS_SHA_256`, … (one the key's spec allows).
    pub signing_algorithm: String,
    /// The signature to check.
    #[napi(ts_type = "Uint8Array")]
    pub signature: (),
    /// `RAW` (the default) or `DIGEST`.
    pub message_type: Option<String>,
}
