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

#[macro_use]
pub mod boundary;
pub mod audit;
pub mod batch;
pub mod enums;
#[cfg(feature = "insecure-test-hooks")]
pub mod hooks;
pub mod import;
pub mod keyring;
pub mod ops;
pub mod seal;
pub mod store;

pub use audit::*;
pub use batch::*;
pub use boundary::*;
pub use enums::*;
#[cfg(feature = "insecure-test-hooks")]
pub use hooks::*;
pub use import::*;
pub use keyring::*;
pub use ops::*;
pub use seal::*;
pub use store::*;
