//! The `Keyring` class: every operation as a Promise-returning method and a `…Sync` twin.
//!
//! This file holds the class and what its methods share (the core handle, running prepared work
//! on the calling thread); the methods themselves are in the submodules, one per concern.

use std::sync::Arc;

use napi::Result;
use napi_derive::napi;

use crate::error::Failure;
use crate::job::Work;
use crate::js::{Js, JsAny};
use crate::ops;

/// Runs prepared work on the calling thread and converts its result, or throws.
fn run(js: Js, prepared: std::result::Result<Work, Failure>) -> Result<JsAny> {
    prepared
        .and_then(|work| work())
        .and_then(|out| out.into_js(js))
        .map(JsAny)
        .map_err(|f| f.throw(js))
}

/// A set of named, versioned keys whose material never leaves it in plaintext, and every
/// operation on them (AWS KMS's operations and names).
///
/// Methods return Promises whose work runs on libuv's thread pool, off the event loop; each has
/// a `…Sync` twin that runs on the calling thread. Bytes go in as `Buffer` or `Uint8Array` and
/// come out as `Buffer`; encryption contexts are plain objects of strings or prebuilt
/// `EncryptionContext`s. Failures are `Error`s whose `code` is Keyplane's stable code
/// (`KP_NOT_FOUND`, `KP_INVALID_CIPHERTEXT`, …); an argument of the wrong type is a `TypeError`.
#[napi]
#[derive(Debug)]
pub struct Keyring {
    ring: Arc<keyplane::Keyring>,
    shared: Arc<ops::Shared>,
}

impl Keyring {
    /// A handle on the core keyring for a task (clones share the keys).
    fn core(&self) -> keyplane::Keyring {
        keyplane::Keyring::clone(&self.ring)
    }

    fn opened(opened: ops::Opened) -> Self {
        let ops::Opened(ring, shared) = opened;
        Self {
            ring: Arc::new(ring),
            shared: Arc::new(shared),
        }
    }
}

// The class's methods, one file per concern, declared after the class (napi-rs needs the class
// before an `impl` block with its constructor). napi-rs writes each `#[napi] impl` block's methods
// into `index.d.ts` in the order the compiler expands them, which is the order of these
// declarations: keep it (and the methods' order in each file), or the committed `index.d.ts`
// changes. Blank lines keep rustfmt from sorting them.
mod open;

mod audit;

mod persistence;

mod share;

mod admin;

mod symmetric;

mod mac_and_asymmetric;

mod batches;

#[cfg(feature = "insecure-test-hooks")]
mod insecure_hooks;
