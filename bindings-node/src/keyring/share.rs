//! One keyring for every thread of the process: `shareHandle`, and `Keyring.attach` from a
//! worker thread.

use napi::bindgen_prelude::Unknown;
use napi::{Env, JsValue, Result};
use napi_derive::napi;

use super::Keyring;
use crate::js::Js;
use crate::ops;

#[napi]
impl Keyring {
    /// A handle by which other threads of this process (`worker_threads`, which load the addon
    /// again) can `Keyring.attach` to this same keyring and its keys. The handle is valid while
    /// some `Keyring` object of the process still uses the keyring.
    #[napi]
    pub fn share_handle(&self, env: Env) -> Result<String> {
        ops::share(&self.ring, &self.shared).map_err(|f| f.throw(Js::new(&env)))
    }

    /// A `Keyring` on the keyring that `shareHandle` returned `handle` for, in any thread of
    /// the process. An unknown (or no longer used) handle is `KP_NOT_FOUND`.
    #[napi(factory, ts_args_type = "handle: string")]
    pub fn attach(env: Env, handle: Unknown<'_>) -> Result<Self> {
        let js = Js::new(&env);
        js.string(handle.raw(), "handle")
            .and_then(|h| ops::attach(&h))
            .map(|(ring, shared)| Self { ring, shared })
            .map_err(|f| f.throw(js))
    }
}
