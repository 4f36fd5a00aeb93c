//! The audit trail from JavaScript: the `audit` option of a keyring, events delivered to a
//! JavaScript callback, per-key usage, and the check of a file log.
//!
//! **Delivery.** The core's writer thread hands each event to [`JsSink`], which copies it into
//! a queue of its own and wakes the JavaScript thread through a Node-API thread-safe function
//! called in non-blocking mode: the writer never waits for the event loop, so a JavaScript
//! thread blocked in a keyring call (a full audit queue, `flushAuditSync`) can never deadlock
//! with it. On the JavaScript thread the queue is drained in order, one event per callback call.
//! The thread-safe function is unreferenced, so a pending delivery does not keep the process
//! alive. `flushAudit` drains the queue itself once the core has handed everything over, so
//! after it the callback has seen every event recorded before the call.
//!
//! **Back pressure.** With `backPressure: 'block'` (the default) the queue to the JavaScript
//! thread is unbounded: events wait in memory while the event loop is busy (a long synchronous
//! loop) and are delivered when it yields. With `'drop'` it holds at most `queueCapacity`
//! events; more are dropped and counted in `auditDropped`.
//!
//! **A callback that throws** (or returns a Promise that rejects) never reaches the keyring's
//! callers: the error becomes a process warning (`KeyplaneAuditWarning`), counts in
//! `auditFailures`, and the next event is delivered as usual.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use keyplane::audit::{
    AuditKey, BackPressure, ContextLogging, FileSink, KeyLastUsage, VerifyReport,
};
use keyplane::{AuditConfig, AuditEvent, AuditSink};
use napi::bindgen_prelude::ToNapiValue;
use napi::sys;

use crate::error::Failure;
use crate::js::{Js, NAME_BUF, exact_f64_u64};

type R<T> = Result<T, Failure>;

// ----- options ------------------------------------------------------------------------------

/// Where the events go.
enum Target {
    Callback(JsSink),
    File {
        dir: PathBuf,
        key: AuditKey,
        max_file_bytes: Option<u64>,
        checkpoint_every: Option<u64>,
    },
}

/// The `audit` option, read on the JavaScript thread; the sink starts with the keyring.
pub(crate) struct AuditPlan {
    target: Target,
    context: ContextLogging,
    back_pressure: BackPressure,
    capacity: Option<usize>,
}

fn positive(js: Js, v: sys::napi_value, what: &'static str) -> R<Option<u64>> {
    if js.is_nullish(v)? {
        return Ok(None);
    }
    match js.uint(v, what)? {
        0 => Err(Failure::Range(format!("{what} must be at least 1"))),
        n => Ok(Some(n)),
    }
}

impl AuditPlan {
    /// Reads `options.audit` (an object).
    pub(crate) fn read(js: Js, v: sys::napi_value) -> R<Self> {
        js.object(v, "options.audit")?;
        let callback = js.get(v, c"callback")?;
        let log_dir = js.get(v, c"logDir")?;
        let audit_key = js.get(v, c"auditKey")?;
        let context = js.get(v, c"context")?;
        let back_pressure = js.get(v, c"backPressure")?;
        let capacity = js.get(v, c"queueCapacity")?;
        let max_file_bytes = js.get(v, c"maxFileBytes")?;
        let checkpoint_every = js.get(v, c"checkpointEvery")?;

        let mut buf = [0u8; NAME_BUF];
        let context = if js.is_nullish(context)? {
            ContextLogging::Full
        } else {
            match &*js.str_in(context, "options.audit.context", &mut buf)? {
                "full" => ContextLogging::Full,
                "keysOnly" => ContextLogging::KeysOnly,
                "none" => ContextLogging::None,
                _ => {
                    return Err(Failure::Core(keyplane::Error::InvalidInput(
                        "audit context must be 'full', 'keysOnly' or 'none'",
                    )));
                }
            }
        };
        let back_pressure = if js.is_nullish(back_pressure)? {
            BackPressure::Block
        } else {
            match &*js.str_in(back_pressure, "options.audit.backPressure", &mut buf)? {
                "block" => BackPressure::Block,
                "drop" => BackPressure::Drop,
                _ => {
                    return Err(Failure::Core(keyplane::Error::InvalidInput(
                        "audit backPressure must be 'block' or 'drop'",
                    )));
                }
            }
        };
        let capacity = positive(js, capacity, "options.audit.queueCapacity")?
            .map(|n| {
                usize::try_from(n).map_err(|_| {
                    Failure::Range("options.audit.queueCapacity is out of range".to_owned())
                })
            })
            .transpose()?;
        let max_file_bytes = positive(js, max_file_bytes, "options.audit.maxFileBytes")?;
        let checkpoint_every = positive(js, checkpoint_every, "options.audit.checkpointEvery")?;

        let refuse =
            |message: &'static str| Err(Failure::Core(keyplane::Error::InvalidInput(message)));
        let target = match (js.is_nullish(callback)?, js.is_nullish(log_dir)?) {
            (false, false) => return refuse("give the audit a callback or a logDir, not both"),
            (true, true) => return refuse("give the audit a callback or a logDir"),
            (false, true) => {
                js.function(callback, "options.audit.callback")?;
                if !js.is_nullish(audit_key)? {
                    return refuse("auditKey is for a logDir; a callback has no checkpoints");
                }
                if max_file_bytes.is_some() || checkpoint_every.is_some() {
                    return refuse("maxFileBytes and checkpointEvery are for a logDir");
                }
                let bound = match back_pressure {
                    BackPressure::Block => None,
                    BackPressure::Drop => {
                        Some(capacity.unwrap_or(keyplane::audit::DEFAULT_QUEUE_CAPACITY))
                    }
                };
                Target::Callback(JsSink::new(js, callback, bound)?)
            }
            (true, false) => {
                let dir = PathBuf::from(js.string(log_dir, "options.audit.logDir")?);
                if js.is_nullish(audit_key)? {
                    return refuse("a logDir needs an auditKey (32 bytes)");
                }
                let key = js.bytes_owned(audit_key, "options.audit.auditKey")?;
                Target::File {
                    dir,
                    key: AuditKey::new(&key)?,
                    max_file_bytes,
                    checkpoint_every,
                }
            }
        };
        Ok(Self {
            target,
            context,
            back_pressure,
            capacity,
        })
    }

    /// Where a callback's events wait for the JavaScript thread.
    pub(crate) fn delivery(&self) -> Option<Arc<Delivery>> {
        match &self.target {
            Target::Callback(sink) => Some(Arc::clone(&sink.0)),
            Target::File { .. } => None,
        }
    }

    /// The core's configuration (creates the log directory for a file log).
    pub(crate) fn config(self) -> R<AuditConfig> {
        let mut config = match self.target {
            Target::Callback(sink) => AuditConfig::new(sink),
            Target::File {
                dir,
                key,
                max_file_bytes,
                checkpoint_every,
            } => {
                let mut sink = FileSink::create(dir, key)?;
                if let Some(bytes) = max_file_bytes {
                    sink = sink.max_file_bytes(bytes);
                }
                if let Some(records) = checkpoint_every {
                    sink = sink.checkpoint_every(records);
                }
                AuditConfig::new(sink)
            }
        };
        config = config
            .context(self.context)
            .back_pressure(self.back_pressure);
        if let Some(capacity) = self.capacity {
            config = config.queue_capacity(capacity);
        }
        Ok(config)
    }
}

// ----- delivery to a JavaScript callback ----------------------------------------------------

/// An event, copied off the writer thread.
struct Event {
    sequence: u64,
    time: SystemTime,
    request_id: String,
    operation: &'static str,
    key_id: Option<String>,
    key_version: Option<u32>,
    caller: Option<String>,
    context: Vec<(String, String)>,
    error_code: Option<&'static str>,
}

impl Event {
    fn new(e: &AuditEvent<'_>) -> Self {
        Self {
            sequence: e.sequence,
            time: e.time,
            request_id: e.request_id.to_string(),
            operation: e.operation.as_str(),
            key_id: e.key_id.map(str::to_owned),
            key_version: e.key_version,
            caller: e.caller.map(str::to_owned),
            context: e
                .context
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            error_code: e.error_code,
        }
    }

    fn to_js(&self, js: Js) -> R<sys::napi_value> {
        let o = js.new_object()?;
        js.set(o, c"sequence", js.num(exact_f64_u64(self.sequence))?)?;
        js.set(o, c"time", js.date(self.time)?)?;
        js.set(o, c"requestId", js.str_value(&self.request_id)?)?;
        js.set(o, c"operation", js.str_value(self.operation)?)?;
        js.set(o, c"keyId", js.str_or_null(self.key_id.as_deref())?)?;
        let version = match self.key_version {
            Some(v) => js.num(f64::from(v))?,
            None => js.null()?,
        };
        js.set(o, c"keyVersion", version)?;
        js.set(o, c"caller", js.str_or_null(self.caller.as_deref())?)?;
        let context = js.new_object()?;
        for (k, v) in &self.context {
            js.set_str_key(context, k, js.str_value(v)?)?;
        }
        js.set(o, c"context", context)?;
        js.set(o, c"errorCode", js.str_or_null(self.error_code)?)?;
        Ok(o)
    }
}

/// Wraps the user's callback: `deliver(event)` returns whether the callback returned without
/// throwing; a throw, or the rejection of a returned Promise, becomes a process warning, and a
/// rejection is counted through `failed()`.
const DELIVER_JS: &core::ffi::CStr = c"(function (callback, failed) {
  const report = (error) => {
    let detail
    try {
      detail = error instanceof Error && error.stack ? String(error.stack) : String(error)
    } catch {
      detail = 'a value that cannot be printed'
    }
    process.emitWarning('the audit callback threw; the event counts in auditFailures', { type: 'KeyplaneAuditWarning', detail })
  }
  return function deliver(event) {
    try {
      const result = callback(event)
      if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
        result.then(undefined, (error) => { failed(); report(error) })
      }
      return true
    } catch (error) {
      report(error)
      return false
    }
  }
})";

/// What the writer thread and the JavaScript thread share.
struct State {
    events: VecDeque<Event>,
    /// A call of the thread-safe function is queued and has not started draining yet.
    wake_pending: bool,
    /// Null once released (the sink is gone) or finalized (the environment is going away).
    tsfn: sys::napi_threadsafe_function,
    /// The `deliver` function (JavaScript thread only); null once finalized.
    deliver: sys::napi_ref,
}

/// Events on their way from the writer thread to the JavaScript callback.
pub(crate) struct Delivery {
    /// The environment the callback lives in; only ever dereferenced on its own thread.
    env: sys::napi_env,
    /// The most events that wait (`backPressure: 'drop'`); `None`: unbounded.
    bound: Option<usize>,
    state: Mutex<State>,
    dropped: AtomicU64,
    failures: Arc<AtomicU64>,
}

// SAFETY: the raw handles are used as Node-API allows: the thread-safe function from any
// thread (under `state`'s lock, which its finalizer also takes before it clears the handle),
// and `env` and the `deliver` reference only on the JavaScript thread of `env` (`drain` checks
// that it is given that environment, which Node-API hands out on that thread only).
unsafe impl Send for Delivery {}
// SAFETY: as above; every mutable field is behind the mutex or atomic.
unsafe impl Sync for Delivery {}

impl core::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Delivery")
            .field("bound", &self.bound)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Events dropped because the queue to the JavaScript thread was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Acquire)
    }

    /// Callback calls that threw or rejected.
    pub(crate) fn failures(&self) -> u64 {
        self.failures.load(Ordering::Acquire)
    }

    /// Delivers every waiting event, in order, when `js` is the callback's environment (else
    /// does nothing: another thread's keyring handle cannot call into this one).
    pub(crate) fn drain(&self, js: Js) {
        if js.raw() != self.env {
            return;
        }
        self.lock().wake_pending = false;
        loop {
            // One event at a time: a callback that flushes (and so drains) again keeps the order.
            let (event, deliver) = {
                let mut state = self.lock();
                if state.deliver.is_null() {
                    return;
                }
                match state.events.pop_front() {
                    Some(event) => (event, state.deliver),
                    None => return,
                }
            };
            let delivered = js
                .dereference(deliver)
                .and_then(|f| Ok((f, event.to_js(js)?)))
                .and_then(|(f, e)| js.call(f, &[e]))
                .and_then(|ok| js.bool(ok, "delivered"));
            if !matches!(delivered, Ok(true)) {
                // Nothing may stay pending: it would surface as an uncaught exception.
                let _ = js.take_exception();
                self.failures.fetch_add(1, Ordering::AcqRel);
            }
        }
    }
}

/// The sink of a keyring whose audit goes to a JavaScript callback. Owns the thread-safe
/// function's one acquisition, released when the sink is dropped (the keyring is gone, or was
/// never built).
pub(crate) struct JsSink(Arc<Delivery>);

impl JsSink {
    /// A sink for `callback`, on the JavaScript thread.
    fn new(js: Js, callback: sys::napi_value, bound: Option<usize>) -> R<Self> {
        let failures = Arc::new(AtomicU64::new(0));
        let failed = failed_function(js, &failures)?;
        let deliver = js.call(js.script(DELIVER_JS)?, &[callback, failed])?;
        let deliver = js.reference(deliver)?;
        let delivery = Arc::new(Delivery {
            env: js.raw(),
            bound,
            state: Mutex::new(State {
                events: VecDeque::new(),
                wake_pending: false,
                tsfn: ptr::null_mut(),
                deliver,
            }),
            dropped: AtomicU64::new(0),
            failures,
        });
        let name = js.str_value("keyplane audit")?;
        let context = Arc::into_raw(Arc::clone(&delivery)).cast_mut().cast();
        let mut tsfn = ptr::null_mut();
        // SAFETY: on the JavaScript thread of `env`. No function (the calls go to `call_js`),
        // an unbounded queue, one acquisition (the sink's). `context` is a strong reference to
        // the delivery that `finalize` takes back, exactly once.
        let status = unsafe {
            sys::napi_create_threadsafe_function(
                js.raw(),
                ptr::null_mut(),
                ptr::null_mut(),
                name,
                0,
                1,
                context,
                Some(finalize),
                context,
                Some(call_js),
                &mut tsfn,
            )
        };
        if status != sys::Status::napi_ok {
            // SAFETY: the function was not made, so `finalize` never runs: take the reference
            // back here.
            drop(unsafe { Arc::from_raw(context.cast::<Delivery>().cast_const()) });
            js.delete_reference(deliver);
            delivery.lock().deliver = ptr::null_mut();
            return Err(Failure::Napi(status));
        }
        // SAFETY: `tsfn` was just made in this environment, on its thread. Unreferenced, a
        // pending delivery does not keep the event loop (and the process) alive.
        unsafe { sys::napi_unref_threadsafe_function(js.raw(), tsfn) };
        delivery.lock().tsfn = tsfn;
        Ok(Self(delivery))
    }
}

impl Drop for JsSink {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        let tsfn = core::mem::replace(&mut state.tsfn, ptr::null_mut());
        if !tsfn.is_null() {
            // SAFETY: the sink's acquisition, released once (the handle is cleared under the
            // lock). Calls already queued still run; then Node finalizes the function.
            unsafe {
                sys::napi_release_threadsafe_function(
                    tsfn,
                    sys::ThreadsafeFunctionReleaseMode::release,
                )
            };
        }
    }
}

impl AuditSink for JsSink {
    fn record(&mut self, event: &AuditEvent<'_>) -> keyplane::Result<()> {
        let delivery = &self.0;
        let mut state = delivery.lock();
        if state.tsfn.is_null() {
            return Err(keyplane::Error::Storage(
                "the JavaScript environment of the audit callback has shut down",
            ));
        }
        if delivery.bound.is_some_and(|b| state.events.len() >= b) {
            delivery.dropped.fetch_add(1, Ordering::AcqRel);
            return Ok(());
        }
        state.events.push_back(Event::new(event));
        if !state.wake_pending {
            // SAFETY: `tsfn` is live: it is cleared under this lock before it is released or
            // finalized. Non-blocking: the writer thread never waits for the event loop.
            let status = unsafe {
                sys::napi_call_threadsafe_function(
                    state.tsfn,
                    ptr::null_mut(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                )
            };
            if status != sys::Status::napi_ok {
                state.events.pop_back();
                return Err(keyplane::Error::Storage(
                    "cannot reach the JavaScript thread of the audit callback",
                ));
            }
            state.wake_pending = true;
        }
        Ok(())
    }
}

/// Runs on the JavaScript thread for each call of the thread-safe function.
unsafe extern "C" fn call_js(
    env: sys::napi_env,
    _function: sys::napi_value,
    context: *mut core::ffi::c_void,
    _data: *mut core::ffi::c_void,
) {
    // A null environment: the function is being torn down; there is nothing to deliver to.
    if env.is_null() || context.is_null() {
        return;
    }
    // SAFETY: `context` is the strong reference made in `JsSink::new`, alive until `finalize`,
    // which Node runs after the last call.
    let delivery = unsafe { &*context.cast::<Delivery>().cast_const() };
    let js = Js::from_raw(env);
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| delivery.drain(js)));
}

/// Runs on the JavaScript thread once the thread-safe function is released by the sink, or
/// when the environment shuts down.
unsafe extern "C" fn finalize(
    env: sys::napi_env,
    data: *mut core::ffi::c_void,
    _hint: *mut core::ffi::c_void,
) {
    if data.is_null() {
        return;
    }
    // SAFETY: `data` is the strong reference made in `JsSink::new`; Node finalizes once.
    let delivery = unsafe { Arc::from_raw(data.cast::<Delivery>().cast_const()) };
    let deliver = {
        let mut state = delivery.lock();
        state.tsfn = ptr::null_mut();
        core::mem::replace(&mut state.deliver, ptr::null_mut())
    };
    if !deliver.is_null() && !env.is_null() {
        Js::from_raw(env).delete_reference(deliver);
    }
}

/// `failed()`: counts one callback Promise that rejected.
fn failed_function(js: Js, failures: &Arc<AtomicU64>) -> R<sys::napi_value> {
    let data = Arc::into_raw(Arc::clone(failures)).cast_mut().cast();
    let mut f = ptr::null_mut();
    // SAFETY: on the JavaScript thread; the name is NUL-terminated; `data` is a strong
    // reference that the finalizer added below takes back when the function is collected.
    let status = unsafe {
        sys::napi_create_function(
            js.raw(),
            c"failed".as_ptr(),
            -1,
            Some(count_failure),
            data,
            &mut f,
        )
    };
    let status = if status == sys::Status::napi_ok {
        // SAFETY: `f` was just made; the finalizer runs once, when it is collected.
        unsafe {
            sys::napi_add_finalizer(
                js.raw(),
                f,
                data,
                Some(drop_counter),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        }
    } else {
        status
    };
    if status != sys::Status::napi_ok {
        // SAFETY: no finalizer owns `data`: take the reference back.
        drop(unsafe { Arc::from_raw(data.cast::<AtomicU64>().cast_const()) });
        return Err(Failure::Napi(status));
    }
    Ok(f)
}

unsafe extern "C" fn count_failure(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    let mut data = ptr::null_mut();
    // SAFETY: `info` is this call's; no arguments are read, only the function's data.
    let status = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            &mut data,
        )
    };
    if status == sys::Status::napi_ok && !data.is_null() {
        // SAFETY: the function's data is the counter, alive until the function is collected.
        let failures = unsafe { &*data.cast::<AtomicU64>().cast_const() };
        failures.fetch_add(1, Ordering::AcqRel);
    }
    ptr::null_mut()
}

unsafe extern "C" fn drop_counter(
    _env: sys::napi_env,
    data: *mut core::ffi::c_void,
    _hint: *mut core::ffi::c_void,
) {
    if !data.is_null() {
        // SAFETY: the strong reference `failed_function` gave the function; dropped once.
        drop(unsafe { Arc::from_raw(data.cast::<AtomicU64>().cast_const()) });
    }
}

// ----- results ------------------------------------------------------------------------------

/// `keyLastUsage`'s result.
pub(crate) struct Usage(pub(crate) KeyLastUsage);

impl ToNapiValue for Usage {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let js = Js::from_raw(env);
        let build = || -> R<sys::napi_value> {
            let o = js.new_object()?;
            let last_used = match val.0.last_used {
                Some(t) => js.date(t)?,
                None => js.null()?,
            };
            js.set(o, c"lastUsed", last_used)?;
            let op = val.0.last_operation.map(keyplane::Operation::as_str);
            js.set(o, c"lastOperation", js.str_or_null(op)?)?;
            let counts = js.new_object()?;
            for (op, n) in &val.0.counts {
                js.set_str_key(counts, op.as_str(), js.num(exact_f64_u64(*n))?)?;
            }
            js.set(o, c"counts", counts)?;
            Ok(o)
        };
        build().map_err(|_| {
            napi::Error::new(napi::Status::GenericFailure, "could not build the result")
        })
    }
}

/// `verifyAuditLog`'s result.
pub(crate) struct Report(VerifyReport);

impl ToNapiValue for Report {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let js = Js::from_raw(env);
        let r = val.0;
        let build = || -> R<sys::napi_value> {
            let o = js.new_object()?;
            js.set(o, c"records", js.num(exact_f64_u64(r.records))?)?;
            let checkpoint = match &r.last_checkpoint {
                Some((file, line, time)) => {
                    let c = js.new_object()?;
                    js.set(c, c"file", js.str_value(&file.to_string_lossy())?)?;
                    js.set(c, c"line", js.num(exact_f64_u64(*line))?)?;
                    js.set(c, c"time", js.date(*time)?)?;
                    c
                }
                None => js.null()?,
            };
            js.set(o, c"lastCheckpoint", checkpoint)?;
            js.set(o, c"closed", js.boolean(r.closed)?)?;
            let ends_at = match &r.ends_at {
                Some((file, line)) => {
                    let e = js.new_object()?;
                    js.set(e, c"file", js.str_value(&file.to_string_lossy())?)?;
                    js.set(e, c"line", js.num(exact_f64_u64(*line))?)?;
                    e
                }
                None => js.null()?,
            };
            js.set(o, c"endsAt", ends_at)?;
            js.set(o, c"incompleteTail", js.boolean(r.incomplete_tail)?)?;
            js.set(o, c"summary", js.str_value(&r.to_string())?)?;
            Ok(o)
        };
        build().map_err(|_| {
            napi::Error::new(napi::Status::GenericFailure, "could not build the result")
        })
    }
}

/// `flushAudit`'s result: once the core has handed everything over, the events waiting for the
/// JavaScript thread are delivered before the Promise resolves.
pub(crate) struct Flushed(pub(crate) Option<Arc<Delivery>>);

impl ToNapiValue for Flushed {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let js = Js::from_raw(env);
        if let Some(delivery) = val.0 {
            delivery.drain(js);
        }
        js.undefined().map_err(|_| {
            napi::Error::new(napi::Status::GenericFailure, "could not build the result")
        })
    }
}

// ----- verifying a file log -----------------------------------------------------------------

/// The files `verifyAuditLog` checks: a directory's `audit-*.jsonl` in order, one file, or an
/// array of files in order.
pub(crate) enum LogFiles {
    DirOrFile(PathBuf),
    Files(Vec<PathBuf>),
}

/// The most files one `verifyAuditLog` call takes as a list (far more than a log rotates into).
const MAX_LOG_FILES: usize = 1 << 20;

pub(crate) fn log_files(js: Js, v: sys::napi_value) -> R<LogFiles> {
    const WHAT: &str = "paths";
    if js.type_of(v)? == sys::ValueType::napi_string {
        return Ok(LogFiles::DirOrFile(PathBuf::from(js.string(v, WHAT)?)));
    }
    if js.type_of(v)? != sys::ValueType::napi_object {
        return Err(js.type_error(WHAT, "a directory, a file or an array of files", v));
    }
    let files = js
        .array(v, WHAT, MAX_LOG_FILES)?
        .into_iter()
        .enumerate()
        .map(|(i, f)| js.string(f, PathIndex(i)).map(PathBuf::from))
        .collect::<R<Vec<_>>>()?;
    Ok(LogFiles::Files(files))
}

/// `paths[i]`, for error messages.
#[derive(Debug, Clone, Copy)]
struct PathIndex(usize);

impl core::fmt::Display for PathIndex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "paths[{}]", self.0)
    }
}

/// Checks the log (on whatever thread runs the work).
pub(crate) fn verify(files: LogFiles, key: &AuditKey) -> R<Report> {
    let files = match files {
        LogFiles::DirOrFile(path) if path.is_dir() => keyplane::audit::log_files_in(&path)?,
        LogFiles::DirOrFile(path) => vec![path],
        LogFiles::Files(files) => files,
    };
    keyplane::audit::verify(&files, key)
        .map(Report)
        .map_err(Failure::AuditLogBroken)
}
