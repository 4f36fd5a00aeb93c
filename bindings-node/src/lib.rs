//! Keyplane for Node.js: the npm package `keyplane`, a Node-API addon built with napi-rs.
//!
//! One class, `Keyring`, carries every operation of the core keyring. Each operation has a
//! Promise form (an asynchronous task whose work runs on libuv's thread pool, owning copies of
//! its inputs) and a `…Sync` twin. See `README.md` for the conventions and the error mapping.

mod batch;
mod error;
mod hot;
mod job;
mod js;
mod keyring;
mod ops;
mod types;

pub use job::{Job, Outcome};
pub use js::JsAny;
pub use keyring::Keyring;
pub use types::{
    AliasEntry, Bytes, CreateKeyOptions, DataKey, DataKeyItem, DataKeyOptions, DataKeyPair,
    DataKeyPairWithoutPlaintext, DecryptItem, EncryptItem, KeyMetadata, KeyVersion, KeyringOptions,
    MacItem, PendingWindow, PublicKey, ReEncryptItem, ReEncryptOptions, RotationPeriod,
    SecretBytes, SignItem, Timestamp, VerifyItem, VerifyMacItem,
};
