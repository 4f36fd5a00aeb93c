//! `fipsStatus()`: which AWS-LC module the addon runs on, for an auditor or a health check.

use napi_derive::napi;

use crate::types::FipsStatus;

/// Which AWS-LC module this build runs on: `fipsBuild` (built with the `fips` feature),
/// `fipsMode` (the module is in FIPS mode; then the services it does not approve are refused
/// with `KP_UNSUPPORTED_ALGORITHM`), `module`, `moduleVersion` and `fipsBranch` (`null` in a
/// non-FIPS build).
#[napi]
pub fn fips_status() -> FipsStatus {
    let s = keyplane::fips::status();
    FipsStatus {
        fips_build: s.fips_build,
        fips_mode: s.fips_mode,
        module: s.module.to_owned(),
        module_version: s.module_version.to_owned(),
        fips_branch: s.fips_branch,
    }
}
