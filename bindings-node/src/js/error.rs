//! How failures become JavaScript errors.
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

use napi::sys;

use crate::error::Failure;
use crate::js::{ErrorKind, Js, JsResult, exact_f64_u64};

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
