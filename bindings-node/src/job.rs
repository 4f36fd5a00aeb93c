//! One asynchronous task type for every Promise-returning operation.
//!
//! The export reads and copies its arguments on the JavaScript thread, producing a [`Work`]
//! closure that owns everything it needs (a clone of the keyring, owned bytes, parsed
//! contexts). `compute` runs the closure on a libuv worker thread, away from the event loop;
//! `resolve` turns its result into JavaScript values on the JavaScript thread. An argument
//! error found while reading rejects the Promise rather than throwing, so `promise.catch`
//! sees every argument error.

use napi::bindgen_prelude::{ToNapiValue, Unknown};
use napi::{Env, Task, sys};

use crate::error::Failure;
use crate::js::{Js, JsAny};

/// A result computed off the JavaScript thread, converted to JavaScript on it.
pub(crate) trait Output: Send + 'static {
    fn into_js(self: Box<Self>, js: Js) -> Result<sys::napi_value, Failure>;
}

impl<T: ToNapiValue + Send + 'static> Output for T {
    fn into_js(self: Box<Self>, js: Js) -> Result<sys::napi_value, Failure> {
        // SAFETY: called on the JavaScript thread with the current call's environment.
        unsafe { T::to_napi_value(js.raw(), *self) }
            .map_err(|_| Failure::Napi(sys::Status::napi_generic_failure))
    }
}

/// The work of one operation, owning its inputs.
pub(crate) type Work = Box<dyn FnOnce() -> Result<Box<dyn Output>, Failure> + Send>;

/// Boxes a closure's typed result as [`Work`].
pub(crate) fn work<T, F>(f: F) -> Work
where
    T: Output,
    F: FnOnce() -> Result<T, Failure> + Send + 'static,
{
    Box::new(move || f().map(|v| Box::new(v) as Box<dyn Output>))
}

/// The asynchronous task behind every Promise form.
pub struct Job(Option<Result<Work, Failure>>);

impl core::fmt::Debug for Job {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Job")
    }
}

/// What a [`Job`] computed, on its way back to the JavaScript thread.
pub struct Outcome(Result<Box<dyn Output>, Failure>);

impl core::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(if self.0.is_ok() {
            "Outcome(Ok)"
        } else {
            "Outcome(Err)"
        })
    }
}

impl Job {
    /// The task for `prepared`, or the caller's own exception when reading an argument ran
    /// script code that threw (a getter, a proxy): that one propagates synchronously, unchanged.
    pub(crate) fn spawn(
        prepared: Result<Work, Failure>,
        js: Js,
    ) -> napi::Result<napi::bindgen_prelude::AsyncTask<Self>> {
        if prepared.is_err() && js.exception_pending() {
            return Err(napi::Error::new(napi::Status::PendingException, ""));
        }
        Ok(napi::bindgen_prelude::AsyncTask::new(Self(Some(prepared))))
    }
}

impl Task for Job {
    type Output = Outcome;
    type JsValue = JsAny;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(Outcome(match self.0.take() {
            Some(Ok(work)) => work(),
            Some(Err(failure)) => Err(failure),
            None => Err(Failure::Core(keyplane::Error::Internal)),
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<JsAny> {
        let js = Js::new(&env);
        match output.0.and_then(|out| out.into_js(js)) {
            Ok(value) => Ok(JsAny(value)),
            Err(failure) => Err(rejection(js, &failure)),
        }
    }
}

fn rejection(js: Js, failure: &Failure) -> napi::Error {
    match failure.to_js(js) {
        Some(error) => {
            // SAFETY: `error` is a live value of this environment, made or taken just now.
            let value = unsafe { Unknown::from_raw_unchecked(js.raw(), error) };
            napi::Error::from_unknown_without_coercion(value)
        }
        None => napi::Error::new(napi::Status::GenericFailure, "could not create an error"),
    }
}
