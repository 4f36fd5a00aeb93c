//! JavaScript errors: making and throwing them, pending exceptions, and how failures become
//! them.
//!
//! - A Keyplane error is an `Error` whose `code` is the core's stable code
//!   (`"KP_INVALID_CIPHERTEXT"`, …) and whose message is the core's fixed message.
//! - An argument of the wrong type is a `TypeError` with `code` `"ERR_INVALID_ARG_TYPE"`; a
//!   number that is not a non-negative integer is a `RangeError` with `code`
//!   `"ERR_OUT_OF_RANGE"` (Node's own codes for these).
//! - A broken audit log (`verifyAuditLog`) is an `Error` with `code` `"KP_AUDIT_LOG_BROKEN"`
//!   and the `file`, `line` and `reason` of the first broken link.
//! - An exception thrown by the caller's own code while an argument was read (a getter, a
//!   proxy) propagates unchanged.

use core::ptr;

use napi::sys;

use super::{Js, JsResult, check, exact_f64_u64};
use crate::error::Failure;

impl Failure {
    /// The error object for this failure (taking a pending exception when there is one).
    pub(crate) fn to_js(&self, js: Js) -> Option<sys::napi_value> {
        if let Some(pending) = js.take_exception() {
            return Some(pending);
        }
        let made = match self {
            Self::Core(keyplane::Error::BufferTooSmall { needed }) => {
                let e = keyplane::Error::BufferTooSmall { needed: *needed };
                js.error(ErrorKind::Error, e.code(), &e.to_string())
                    .and_then(|error| {
                        let n = u64::try_from(*needed).unwrap_or(u64::MAX);
                        js.set(error, c"needed", js.num(crate::js::exact_f64_u64(n))?)?;
                        Ok(error)
                    })
            }
            Self::Core(e) => js.error(ErrorKind::Error, e.code(), &e.to_string()),
            Self::Invalid(message) => js.error(
                ErrorKind::Error,
                keyplane::Error::InvalidInput("").code(),
                message,
            ),
            Self::Type(message) => js.error(ErrorKind::Type, "ERR_INVALID_ARG_TYPE", message),
            Self::Range(message) => js.error(ErrorKind::Range, "ERR_OUT_OF_RANGE", message),
            Self::Napi(status) => js.error(
                ErrorKind::Error,
                keyplane::Error::Internal.code(),
                &format!("Node-API call failed (status {status})"),
            ),
            Self::AuditLogBroken(broken) => js.audit_log_broken(broken),
        };
        made.ok()
    }

    /// Throws this failure and returns the error napi-rs expects once an exception is pending.
    pub(crate) fn throw(self, js: Js) -> napi::Error {
        if !js.exception_pending()
            && let Some(error) = self.to_js(js)
        {
            js.throw(error);
        }
        napi::Error::new(napi::Status::PendingException, "")
    }
}

impl Js {
    /// Whether a JavaScript exception is pending (a getter threw while reading arguments).
    pub(crate) fn exception_pending(self) -> bool {
        let mut pending = false;
        // SAFETY: valid out-pointer.
        let status = unsafe { sys::napi_is_exception_pending(self.env, &mut pending) };
        status == sys::Status::napi_ok && pending
    }

    /// Takes the pending exception, if any.
    pub(crate) fn take_exception(self) -> Option<sys::napi_value> {
        if !self.exception_pending() {
            return None;
        }
        let mut out = ptr::null_mut();
        // SAFETY: valid out-pointer; an exception is pending.
        let status = unsafe { sys::napi_get_and_clear_last_exception(self.env, &mut out) };
        (status == sys::Status::napi_ok).then_some(out)
    }

    /// An `Error` (`TypeError`, `RangeError`) with a `code` property.
    pub(crate) fn error(
        self,
        kind: ErrorKind,
        code: &str,
        message: &str,
    ) -> JsResult<sys::napi_value> {
        let code = self.str_value(code)?;
        let message = self.str_value(message)?;
        let mut out = ptr::null_mut();
        // SAFETY: `code` and `message` are string handles; valid out-pointer. Node sets the
        // `code` property from `code`.
        check(unsafe {
            match kind {
                ErrorKind::Error => sys::napi_create_error(self.env, code, message, &mut out),
                ErrorKind::Type => sys::napi_create_type_error(self.env, code, message, &mut out),
                ErrorKind::Range => sys::napi_create_range_error(self.env, code, message, &mut out),
            }
        })?;
        Ok(out)
    }

    pub(crate) fn throw(self, error: sys::napi_value) {
        // SAFETY: `error` is a live handle. A failure here (the environment is shutting down)
        // leaves nothing to report to.
        unsafe { sys::napi_throw(self.env, error) };
    }

    /// The `Error` of a broken audit log: `code` `KP_AUDIT_LOG_BROKEN`, and the `file`, `line`
    /// and `reason` of the first broken link.
    pub(crate) fn audit_log_broken(
        self,
        broken: &keyplane::audit::Broken,
    ) -> JsResult<sys::napi_value> {
        let error = self.error(ErrorKind::Error, "KP_AUDIT_LOG_BROKEN", &broken.to_string())?;
        let file = self.str_value(&broken.file.to_string_lossy())?;
        self.set(error, c"file", file)?;
        self.set(error, c"line", self.num(exact_f64_u64(broken.line))?)?;
        self.set(error, c"reason", self.str_value(&broken.reason)?)?;
        Ok(error)
    }
}

/// Which constructor an error is made with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ErrorKind {
    Error,
    Type,
    Range,
}
