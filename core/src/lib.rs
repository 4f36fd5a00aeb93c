//! Keyplane: the cryptographic data plane of a key management service, as a library.
//!
//! A [`Keyring`] holds named, versioned keys whose material never leaves it in plaintext, and
//! performs what AWS KMS performs inside its HSMs: encrypt and decrypt under a key with an
//! [`EncryptionContext`] bound as authenticated data, rotation that keeps old versions
//! decrypting, and data keys. Every primitive is [aws-lc-rs](https://docs.rs/aws-lc-rs).
//!
//! ```
//! use keyplane::{CreateKey, DataKeySpec, EncryptionContext, KeySpec, Keyring};
//!
//! let ring = Keyring::new();
//! let key = ring.create_key(&CreateKey::new(KeySpec::SymmetricDefault).alias("alias/orders"))?;
//! let ctx = EncryptionContext::new([("tenant", "acme")])?;
//!
//! let blob = ring.encrypt("alias/orders", b"card 4111", &ctx)?;
//! ring.rotate_key(&key.key_id)?;
//! assert_eq!(&ring.decrypt(&blob, &ctx)?[..], b"card 4111"); // old version still decrypts
//! assert!(ring.decrypt(&blob, EncryptionContext::empty()).is_err()); // context is bound
//!
//! let data_key = ring.generate_data_key("alias/orders", DataKeySpec::Aes256, &ctx)?;
//! assert_eq!(&ring.decrypt(data_key.ciphertext_blob(), &ctx)?[..], data_key.plaintext());
//! # Ok::<(), keyplane::Error>(())
//! ```
//!
//! The byte format of blobs, the key derivation and the nonce argument are in `FORMAT.md`.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod aead;
pub mod asymmetric;
pub mod audit;
pub mod batch;
pub mod context;
pub mod datakey;
pub mod envelope;
pub mod error;
pub mod fips;
mod fork;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod import;
mod key;
pub mod keyring;
mod lookup;
pub mod mac;
mod material;
mod pool;
pub mod seal;
pub mod sign;
pub mod spec;
pub mod store;
mod versions;

pub use asymmetric::{PublicKeyInfo, public_key_pem};
pub use audit::{AuditConfig, AuditEvent, AuditSink, Operation, OwnedAuditEvent};
pub use batch::{
    BatchDataKey, DataKeyRequest, DecryptRequest, EncryptRequest, MacRequest, ReEncryptRequest,
    SignRequest, VerifyMacRequest, VerifyRequest,
};
pub use context::EncryptionContext;
pub use datakey::{DataKey, DataKeyPair, DataKeyPairWithoutPlaintext, DataKeySpec};
pub use envelope::BlobInfo;
pub use error::{Error, Result};
pub use import::ImportParameters;
pub use keyring::{AliasEntry, CreateKey, KeyMetadata, KeyVersionInfo, Keyring, KeyringBuilder};
pub use seal::{LocalRootKey, RootKey};
pub use spec::{
    DataKeyPairSpec, EncryptionAlgorithm, KeySpec, KeyState, KeyUsage, MacAlgorithm, MessageType,
    Origin, PendingWindow, RotationPeriod, SigningAlgorithm, WrappingAlgorithm, WrappingKeySpec,
};
pub use store::{LoadProblem, Store};

/// The README's examples, compiled and run as doc tests (in the default build: they show RSA-OAEP
/// and key import, which a FIPS build refuses).
#[doc = include_str!("../../README.md")]
#[cfg(all(doctest, not(feature = "fips")))]
pub struct ReadmeDoctests;
