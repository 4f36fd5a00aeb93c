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

use crate::js::{ErrorKind, Js};

/// Why an operation did not produce a result.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// Keyplane refused or failed.
    Core(keyplane::Error),
    /// A value Keyplane refuses, with a message naming it (`KP_INVALID_INPUT`): a string that
    /// is not valid Unicode, a number out of a core limit, a call made from inside another.
    Invalid(String),
    /// An argument has the wrong type.
    Type(String),
    /// A number is out of range.
    Range(String),
    /// A Node-API call failed; if it was because script code threw, that exception is pending.
    Napi(sys::napi_status),
    /// `verifyAuditLog` found a broken link in an audit log.
    AuditLogBroken(keyplane::audit::Broken),
}

impl From<keyplane::Error> for Failure {
    fn from(e: keyplane::Error) -> Self {
        Self::Core(e)
    }
}

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
