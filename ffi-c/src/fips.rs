//! FIPS 140-3 status: which AWS-LC module this library runs on, and whether it is in FIPS mode.

use core::ffi::{c_char, c_int};
use std::ffi::CString;
use std::sync::OnceLock;

use keyplane_core::{Error, fips};

use crate::boundary::FfiResult;

/// 1 when this library is a FIPS build (the `fips` feature: linked to the AWS-LC FIPS module)
/// whose module is in FIPS mode (its power-on self-tests passed), else 0. A non-FIPS build
/// always returns 0. In a FIPS build, services the module does not approve are refused with
/// `KP_ERR_UNSUPPORTED_ALGORITHM` and a message starting `"not approved in FIPS mode: "`:
/// secp256k1 keys and data key pairs, signing or verifying with `KP_MESSAGE_TYPE_DIGEST`,
/// RSA keys with `KP_KEY_USAGE_ENCRYPT_DECRYPT` (RSA-OAEP), `KP_ORIGIN_EXTERNAL` keys and key
/// material import. A FIPS build whose module is not in FIPS mode makes no keyring
/// (`kp_keyring_new` and the others return `KP_ERR_UNSUPPORTED_ALGORITHM`).
#[unsafe(no_mangle)]
pub extern "C" fn kp_fips_mode() -> c_int {
    ffi_value!(0, c_int::from(fips::status().fips_mode))
}

/// The module this library runs on and its version, NUL-terminated: for example
/// `"AWS-LC FIPS 4.2.0"` in a FIPS build or `"AWS-LC 5.12.0"` otherwise. The version is the
/// one the module reports at run time; it is not by itself a statement of certification.
/// Static: never NULL, the same pointer on every call, valid for the life of the process.
#[unsafe(no_mangle)]
pub extern "C" fn kp_fips_module() -> *const c_char {
    ffi_value!(c"AWS-LC".as_ptr(), module().as_ptr())
}

/// The core's `try_build` check, made early by calls that would otherwise create a log or
/// store directory before failing on it: a FIPS build whose module is not in FIPS mode makes
/// no keyring.
pub(crate) fn check_module() -> FfiResult {
    if fips::FIPS_BUILD && !fips::status().fips_mode {
        return Err(Error::NotApproved(fips::MODULE_NOT_IN_FIPS_MODE).into());
    }
    Ok(())
}

/// Built once: the status is a property of the linked module and never changes.
fn module() -> &'static CString {
    static MODULE: OnceLock<CString> = OnceLock::new();
    MODULE.get_or_init(|| {
        let s = fips::status();
        // A NUL inside would cut the C string short; the module's own strings have none.
        let text: String = format!("{} {}", s.module, s.module_version)
            .chars()
            .filter(|&c| c != '\0')
            .collect();
        CString::new(text).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_matches_the_build() {
        assert_eq!(kp_fips_mode(), c_int::from(fips::FIPS_BUILD));
        let first = kp_fips_module();
        assert_eq!(first, kp_fips_module(), "the same static string every time");
        // SAFETY: `kp_fips_module` returns a static NUL-terminated string.
        let text = unsafe { core::ffi::CStr::from_ptr(first) }
            .to_str()
            .expect("ASCII");
        let status = fips::status();
        assert_eq!(text, format!("{} {}", status.module, status.module_version));
        assert!(text.starts_with("AWS-LC "));
        assert_eq!(text.contains("FIPS"), fips::FIPS_BUILD);
    }
}
