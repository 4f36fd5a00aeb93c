//! FIPS 140-3 mode: which AWS-LC module this build runs on, and what Keyplane refuses in it.
//!
//! Built with the `fips` feature, Keyplane links aws-lc-rs to the AWS-LC FIPS module
//! (aws-lc-fips-sys) and to nothing else. The module never refuses a service itself: it marks the
//! services it does not approve through its service indicator and runs them anyway. So a FIPS
//! build of Keyplane refuses them, with [`Error::NotApproved`] (code `KP_UNSUPPORTED_ALGORITHM`)
//! and a message saying why, and performs every service it offers in an approved way:
//!
//! - symmetric encryption draws its AES-GCM nonce inside the module (blob format `0x02`,
//!   `FORMAT.md`), because the module approves AES-GCM sealing only with an internal IV;
//! - secp256k1 keys ([`SECP256K1`]), signing or verifying a caller's digest ([`DIGEST_MESSAGE`]),
//!   RSA-OAEP ([`RSA_OAEP`]) and the key import that wraps with it ([`IMPORT_WRAPPING`]) are
//!   refused.
//!
//! Decrypting existing blobs of either format, and everything else Keyplane does (HKDF-SHA256,
//! HMAC-SHA2, ECDSA on P-256/384/521, RSA PKCS#1 v1.5 and PSS signatures with 2048-bit keys and
//! up, AES key wrap, the DRBG), is approved. A non-FIPS build refuses none of this.

use crate::error::{Error, Result};
use crate::spec::{KeySpec, KeyUsage, Origin};

/// Whether this build uses the AWS-LC FIPS module (the `fips` feature).
pub const FIPS_BUILD: bool = cfg!(feature = "fips");

/// Why secp256k1 keys are refused in FIPS mode.
pub const SECP256K1: &str = "secp256k1 (ECC_SECG_P256K1) is not an approved curve in FIPS mode";
/// Why the `DIGEST` message type is refused in FIPS mode.
pub const DIGEST_MESSAGE: &str = "signing or verifying a caller-computed digest (message type \
     DIGEST) is not an approved service of the FIPS module; pass the RAW message";
/// Why RSA encryption keys and RSA-OAEP are refused in FIPS mode.
pub const RSA_OAEP: &str = "RSA-OAEP encryption is not an approved service of the FIPS \
     module (it is outside the module's boundary)";
/// Why key import (which wraps key material with RSA-OAEP) is refused in FIPS mode.
pub const IMPORT_WRAPPING: &str = "key material import wraps with RSA-OAEP, which is not an \
     approved service of the FIPS module";
/// Why nothing runs when the module is not in FIPS mode.
pub const MODULE_NOT_IN_FIPS_MODE: &str =
    "the AWS-LC FIPS module is not in FIPS mode (its power-on self-tests did not pass)";

/// What this build runs on, for an auditor or a health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// Built with the `fips` feature: aws-lc-rs runs on the AWS-LC FIPS module.
    pub fips_build: bool,
    /// The module reports FIPS mode (`FIPS_mode() == 1`): a FIPS module whose power-on
    /// self-tests passed. Always `false` in a non-FIPS build.
    pub fips_mode: bool,
    /// The module's name: `"AWS-LC FIPS"` or `"AWS-LC"`.
    pub module: &'static str,
    /// The module's version as it reports itself at run time, e.g. `"4.2.0"`. Not by itself a
    /// statement of certification (see the README's "FIPS mode").
    pub module_version: &'static str,
    /// The FIPS branch the module was built from (`Some(4)` for AWS-LC FIPS 4.x), `None` in a
    /// non-FIPS build.
    pub fips_branch: Option<u32>,
}

/// The module this build runs on and whether it is in FIPS mode.
#[must_use]
pub fn status() -> Status {
    Status {
        fips_build: FIPS_BUILD,
        fips_mode: FIPS_BUILD && aws_lc_rs::try_fips_mode().is_ok(),
        module: if FIPS_BUILD { "AWS-LC FIPS" } else { "AWS-LC" },
        module_version: aws_lc_rs::awslc_version(),
        fips_branch: aws_lc_rs::fips_version(),
    }
}

/// In a FIPS build, the module must be in FIPS mode before any keyring exists. (The module
/// itself aborts the process when a self-test fails; this is the check an auditor can see.)
pub(crate) fn check_module() -> Result<()> {
    if FIPS_BUILD && aws_lc_rs::try_fips_mode().is_err() {
        return Err(Error::NotApproved(MODULE_NOT_IN_FIPS_MODE));
    }
    Ok(())
}

/// Refuses, in a FIPS build, a service the module does not approve.
#[inline]
pub(crate) fn refuse(reason: &'static str) -> Result<()> {
    if FIPS_BUILD {
        Err(Error::NotApproved(reason))
    } else {
        Ok(())
    }
}

/// Refuses, in a FIPS build, a key whose every use would be a service the module does not
/// approve: checked when a key is created and whenever one (perhaps from a store a non-FIPS build
/// wrote) is used.
pub(crate) fn check_key(spec: KeySpec, usage: KeyUsage) -> Result<()> {
    match (spec, usage) {
        (KeySpec::EccSecgP256k1, _) => refuse(SECP256K1),
        (KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096, KeyUsage::EncryptDecrypt) => {
            refuse(RSA_OAEP)
        }
        _ => Ok(()),
    }
}

/// Whether this build creates and uses keys of `spec` with `usage` (a FIPS build refuses
/// secp256k1 keys and RSA encryption keys): for a control plane deciding which key specs to
/// offer.
#[must_use]
pub fn allows_key(spec: KeySpec, usage: KeyUsage) -> bool {
    check_key(spec, usage).is_ok()
}

/// Refuses, in a FIPS build, a key that is to receive imported material.
pub(crate) fn check_origin(origin: Origin) -> Result<()> {
    match origin {
        Origin::External => refuse(IMPORT_WRAPPING),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_the_module_this_build_links() {
        let s = status();
        assert_eq!(s.fips_build, cfg!(feature = "fips"));
        // A FIPS build not in FIPS mode must fail here.
        assert_eq!(s.fips_mode, cfg!(feature = "fips"));
        assert_eq!(s.fips_branch.is_some(), cfg!(feature = "fips"));
        assert!(
            s.module_version
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        );
        assert_eq!(check_module(), Ok(()));
    }

    #[test]
    fn refusals_only_in_a_fips_build() {
        let refused = refuse(SECP256K1);
        if FIPS_BUILD {
            assert_eq!(refused, Err(Error::NotApproved(SECP256K1)));
            assert_eq!(
                Error::NotApproved(SECP256K1).code(),
                "KP_UNSUPPORTED_ALGORITHM"
            );
        } else {
            assert_eq!(refused, Ok(()));
        }
    }
}
