//! The C ABI of Keyplane: `libkeyplane.a` / `libkeyplane.so` and the header
//! `include/keyplane.h`, generated from this crate by cbindgen.
//!
//! The conventions (ownership, threads, buffers, status codes, failure behaviour) are stated
//! once, in the header's preamble (`cbindgen.toml`) and in `README.md`. In short: opaque handles
//! made by `kp_*_new` / returned through `**out` and released by `kp_*_free(&handle)`; inputs as
//! `(ptr, len)` with `(NULL, 0)` as the empty input; outputs as `(out, cap, *out_len)` with the
//! needed size reported on `KP_ERR_BUFFER_TOO_SMALL`; every entry point behind one
//! `catch_unwind` boundary ([`boundary`]), so no panic and no Rust type crosses into C.
//!
//! All `unsafe` code of the crate is here, at the boundary: turning C pointers into references
//! and slices once their NULL-ness and lengths are checked.
#![allow(non_camel_case_types, non_upper_case_globals)]

// The header lists each module's items in the order of these declarations (cbindgen reads the
// modules in turn, `[fn] sort_by = "None"`), so this order is the header's: a new module goes
// where its functions belong there. One comment per module keeps rustfmt from sorting them.

// Status codes, the last error, `catch_unwind`, and the pointer, slice and output conventions.
#[macro_use]
pub mod boundary;
// Which AWS-LC module the library runs on and whether it is in FIPS mode.
pub mod fips;
// How a keyring audits: the audit options and event, checked into the core's audit trail.
pub mod audit_options;
// The audit trail of a keyring handle: callers, flushing, counters, last usage, checking a log.
pub mod audit;
// Batches of operations over one keyring, with per-item results in one buffer.
pub mod batch;
// The C numbers and names of the core's enumerations.
pub mod enums;
// Keys from caller-chosen material, for the known-answer vectors only.
#[cfg(feature = "insecure-test-hooks")]
pub mod hooks;
// Bringing your own key material (AWS KMS's import flow).
pub mod import;
// The keyring handle: its options, making one, freeing it.
pub mod keyring;
// Creating and describing keys, and the key metadata handle.
pub mod keys;
// Key administration: listing, states, deletion, aliases, rotation.
pub mod admin;
// The symmetric data plane: encrypt, decrypt, re-encrypt and their sizes.
pub mod symmetric;
// Data keys, data key pairs and random bytes.
pub mod datakey;
// MACs under HMAC keys.
pub mod mac;
// Signatures, public keys and RSA-OAEP.
pub mod asymmetric;
// Root keys and sealed export/import of keys.
pub mod seal;
// Keyrings backed by a key store on disk.
pub mod store;

pub use admin::*;
pub use asymmetric::*;
pub use audit::*;
pub use audit_options::*;
pub use batch::*;
pub use boundary::*;
pub use datakey::*;
pub use enums::*;
pub use fips::*;
#[cfg(feature = "insecure-test-hooks")]
pub use hooks::*;
pub use import::*;
pub use keyring::*;
pub use keys::*;
pub use mac::*;
pub use seal::*;
pub use store::*;
pub use symmetric::*;
