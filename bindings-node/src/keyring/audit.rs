//! The audit trail as seen from a handle: the caller identity it records (`withCaller`),
//! flushing, the drop and failure counters, and `keyLastUsage`.

use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, JsValue, Result};
use napi_derive::napi;

use super::{Keyring, run};
use crate::job::Job;
use crate::js::{Js, JsAny};
use crate::ops;

#[napi]
impl Keyring {
    /// A handle on the same keyring (same keys, same audit trail) whose operations the audit
    /// trail attributes to `caller` (a service, user or tenant name of your choosing).
    #[napi(ts_args_type = "caller: string")]
    pub fn with_caller(&self, env: Env, caller: Unknown<'_>) -> Result<Keyring> {
        let js = Js::new(&env);
        let caller = js.string(caller.raw(), "caller").map_err(|f| f.throw(js))?;
        Ok(Self {
            ring: Arc::new(self.ring.with_caller(&caller)),
            shared: Arc::clone(&self.shared),
        })
    }

    /// The caller identity of this handle (`withCaller`), or `null`.
    #[napi(getter)]
    pub fn caller(&self) -> Option<String> {
        self.ring.caller().map(str::to_owned)
    }

    /// Resolves once every operation recorded before the call has been delivered: written (and
    /// synced) to the log, or passed to the audit callback, which has returned for each. Does
    /// nothing on a keyring without audit.
    #[napi(ts_args_type = "", ts_return_type = "Promise<void>")]
    pub fn flush_audit(&self, env: Env) -> Result<AsyncTask<Job>> {
        let js = Js::new(&env);
        Job::spawn(Ok(ops::flush_audit(self.core(), &self.shared)), js)
    }

    /// `flushAudit` on the calling thread: blocks until the core's writer has handed every
    /// earlier event over, then calls the audit callback for each one still waiting (before
    /// returning).
    #[napi(ts_args_type = "", ts_return_type = "void")]
    pub fn flush_audit_sync(&self, env: Env) -> Result<JsAny> {
        let js = Js::new(&env);
        run(js, Ok(ops::flush_audit(self.core(), &self.shared)))
    }

    /// Events dropped because a queue was full (with `backPressure: 'drop'`): the core's queue,
    /// and for a callback the events waiting for the JavaScript thread.
    #[napi(getter)]
    pub fn audit_dropped(&self) -> f64 {
        let callback = self.shared.delivery.as_ref().map_or(0, |d| d.dropped());
        crate::js::exact_f64_u64(self.ring.audit_dropped().saturating_add(callback))
    }

    /// Times the audit failed to deliver: a callback that threw or rejected, a log that could
    /// not be written.
    #[napi(getter)]
    pub fn audit_failures(&self) -> f64 {
        let callback = self.shared.delivery.as_ref().map_or(0, |d| d.failures());
        crate::js::exact_f64_u64(self.ring.audit_failures().saturating_add(callback))
    }

    /// When `keyId` was last used, by which operation, and how often each operation used it
    /// (AWS KMS's `GetKeyLastUsage`), as the audit writer has seen so far (flush first to
    /// include operations still queued). `KP_INVALID_INPUT` on a keyring without audit.
    #[napi(
        ts_args_type = "keyId: string",
        ts_return_type = "Promise<KeyLastUsage>"
    )]
    pub fn key_last_usage(&self, env: Env, key_id: Unknown<'_>) -> Result<AsyncTask<Job>> {
        let (ring, js) = (self.core(), Js::new(&env));
        Job::spawn(ops::key_last_usage(ring, js, key_id.raw()), js)
    }

    /// `keyLastUsage` on the calling thread, returning its result directly (throws instead of rejecting).
    #[napi(ts_args_type = "keyId: string", ts_return_type = "KeyLastUsage")]
    pub fn key_last_usage_sync(&self, env: Env, key_id: Unknown<'_>) -> Result<JsAny> {
        let (ring, js) = (self.core(), Js::new(&env));
        run(js, ops::key_last_usage(ring, js, key_id.raw()))
    }
}
