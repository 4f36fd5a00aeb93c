//! Why an operation did not produce a result: the one failure type every module of the addon
//! returns. It sits at the bottom and knows nothing of JavaScript; the error objects it becomes
//! are made where the Node-API helpers are available.

use napi::sys;

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
