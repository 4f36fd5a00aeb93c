//! Keyplane for Node.js: the npm package `keyplane`, a Node-API addon built with napi-rs.
//!
//! One class, `Keyring`, carries every operation of the core keyring; `EncryptionContext` is a
//! context built once and passed anywhere a context is accepted; `LocalRootKey` and a few
//! module functions (`reseal`, `inspectSealed`, `verifyAuditLog`) serve sealed records and the
//! audit log, and `fipsStatus` names the AWS-LC module the addon runs on. Each operation has a
//! Promise form (an asynchronous task whose work runs on libuv's thread pool, owning copies of
//! its inputs) and a `…Sync` twin. See `README.md` for the conventions and the error mapping.
//!
//! Modules, each using only those listed before it: `error` (why an operation failed), `js` (the
//! Node-API boundary: reading arguments, making values and `Buffer`s, JavaScript errors),
//! `context` (the `EncryptionContext` class and the reader of every context argument),
//! `types` (the objects that cross the boundary), `fips` (`fipsStatus`), `job` (the Promise
//! task), `audit` (the audit trail), `seal` (sealed records, `LocalRootKey`, the module
//! functions), `ops` (each operation's arguments read into owned work), `hot` (the synchronous
//! fast paths), `batch` (the batch forms), and `keyring` (the class, with its methods by
//! concern).

mod audit;
mod batch;
mod context;
mod error;
mod fips;
mod hot;
mod job;
mod js;
mod keyring;
mod ops;
mod seal;
mod types;

pub use context::EncryptionContext;
pub use fips::fips_status;
pub use job::{Job, Outcome};
pub use js::JsAny;
pub use keyring::Keyring;
pub use seal::{
    LocalRootKey, inspect_sealed, reseal, reseal_sync, verify_audit_log, verify_audit_log_sync,
};
pub use types::{
    AliasEntry, AuditEvent, AuditLogCheckpoint, AuditLogPosition, AuditLogReport, AuditOptions,
    Bytes, CreateKeyOptions, DataKey, DataKeyItem, DataKeyOptions, DataKeyPair,
    DataKeyPairWithoutPlaintext, DecryptItem, EncryptItem, FipsStatus, ImportKeyMaterialOptions,
    ImportParameters, KeyLastUsage, KeyMetadata, KeyVersion, KeyringOptions, LoadProblem, MacItem,
    PendingWindow, PublicKey, ReEncryptItem, ReEncryptOptions, RotationPeriod, SealedRecordInfo,
    SecretBytes, SignItem, Timestamp, VerifyItem, VerifyMacItem,
};
