//! Making a `Keyring`: empty (`new Keyring(options)`), or opened from a store directory
//! (`Keyring.open`), and the records that store could not load (`loadProblems`).

use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, JsValue, Result};
use napi_derive::napi;

use super::{Keyring, run};
use crate::error::Failure;
use crate::job::{Job, work};
use crate::js::{Js, JsAny};
use crate::ops;

#[napi]
impl Keyring {
    /// An empty keyring. In a FIPS build whose module is not in FIPS mode this throws
    /// `KP_UNSUPPORTED_ALGORITHM`.
    #[napi(constructor, ts_args_type = "options?: KeyringOptions | null")]
    pub fn new(env: Env, options: Unknown<'_>) -> Result<Self> {
        let js = Js::new(&env);
        ops::KeyringPlan::read(js, options.raw())
            .and_then(ops::KeyringPlan::build)
            .and_then(|(builder, delivery)| {
                // A FIPS build whose module is not in FIPS mode refuses to make a keyring.
                Ok(Self {
                    ring: Arc::new(builder.try_build()?),
                    shared: Arc::new(ops::Shared {
                        load_problems: Vec::new(),
                        delivery,
                    }),
                })
            })
            .map_err(|f| f.throw(js))
    }

    /// Opens (creating it if needed) a keyring persisted in the directory `storeDir`: every key
    /// whose sealed record opens with `root` is loaded, and every later change (create, import,
    /// rotation, state, policy, alias) is written there before the call that makes it returns.
    /// Records that do not load are left out and listed in `loadProblems`; every other key
    /// loads. The store is locked while the keyring lives (until its last `Keyring` object is
    /// garbage-collected): opening it again, from this process or another, is `KP_STORAGE`
    /// after waiting up to 1 s for the lock, as is a directory that cannot be created or read. `options` are the constructor's.
    #[napi(
        ts_args_type = "storeDir: string, root: LocalRootKey, options?: KeyringOptions | null",
        ts_return_type = "Promise<Keyring>"
    )]
    pub fn open(
        env: Env,
        store_dir: Unknown<'_>,
        root: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<AsyncTask<Job>> {
        let js = Js::new(&env);
        let prepared = ops::open(js, store_dir.raw(), root.raw(), options.raw())
            .map(|open| work(move || open().map(Self::opened)));
        Job::spawn(prepared, js)
    }

    /// `open` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(
        ts_args_type = "storeDir: string, root: LocalRootKey, options?: KeyringOptions | null",
        ts_return_type = "Keyring"
    )]
    pub fn open_sync(
        env: Env,
        store_dir: Unknown<'_>,
        root: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<JsAny> {
        let js = Js::new(&env);
        let prepared = ops::open(js, store_dir.raw(), root.raw(), options.raw())
            .map(|open| work(move || open().map(Self::opened)));
        run(js, prepared)
    }

    /// The sealed records `Keyring.open` could not load (a new array on every access; empty for
    /// a keyring not opened from a store). Check it after opening.
    #[napi(getter, ts_return_type = "Array<LoadProblem>")]
    pub fn load_problems(&self, env: Env) -> Result<JsAny> {
        let js = Js::new(&env);
        let build = || -> std::result::Result<_, Failure> {
            let mut array = js.new_array(self.shared.load_problems.len())?;
            for p in &self.shared.load_problems {
                let o = js.new_object()?;
                js.set(o, c"path", js.str_value(&p.path.to_string_lossy())?)?;
                let error = Failure::Core(p.error)
                    .to_js(js)
                    .ok_or(Failure::Core(keyplane::Error::Internal))?;
                js.set(o, c"error", error)?;
                array.push(o)?;
            }
            Ok(JsAny(array.raw))
        };
        build().map_err(|f| f.throw(js))
    }
}
