//! Entry points for the fuzz targets in `fuzz/`, compiled only with the `fuzzing` feature.
//!
//! A sealed record's payload and an import token's payload sit behind an AES-GCM tag, so
//! mutated bytes never reach their parsers. These wrappers seal a payload the fuzzer chose
//! under a root key the fuzz target holds, which is exactly what anyone holding that root key
//! can already do; the parsers then run on it through the ordinary public paths
//! ([`Keyring::import_sealed`](crate::Keyring::import_sealed)) or the one the import path uses.

use zeroize::Zeroizing;

use crate::error::Result;
use crate::seal::{self, IMPORT_TOKEN, KEY_RECORD, RootKey};

/// `payload` sealed under `root` as the key record of `key_id`.
///
/// # Errors
/// As the sealing inside [`Keyring::export_sealed`](crate::Keyring::export_sealed), e.g. a
/// key id longer than 255 bytes.
pub fn seal_record_payload(key_id: &str, payload: &[u8], root: &dyn RootKey) -> Result<Vec<u8>> {
    seal::seal_payload(KEY_RECORD, key_id, payload, root)
}

/// `payload` sealed under `root` as an import token for `key_id`.
///
/// # Errors
/// As [`seal_record_payload`].
pub fn seal_import_token_payload(
    key_id: &str,
    payload: &[u8],
    root: &dyn RootKey,
) -> Result<Vec<u8>> {
    seal::seal_payload(IMPORT_TOKEN, key_id, payload, root)
}

/// What [`Keyring::import_key_material`](crate::Keyring::import_key_material) does with its
/// token and wrapped material before it looks at any key: opens `token` under `root` for
/// `key_id` and unwraps `wrapped` with the key inside. The token's expiry is not checked, so
/// a fuzzed payload reaches the unwrap whatever time it names.
///
/// # Errors
/// As `import_key_material` for a bad token or wrapped material.
pub fn open_import_token(
    root: &dyn RootKey,
    key_id: &str,
    token: &[u8],
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let pending = crate::import::open_token(root, key_id, token)?;
    crate::import::unwrap(&pending, wrapped)
}
