//! The embedded store through the C ABI: a keyring opened on a directory of sealed records,
//! where every change is persisted before it is acknowledged.

use core::ffi::c_char;
use std::sync::Arc;

use keyplane_core::{Error, RootKey, Store};

use crate::boundary::{
    CText, handle, handle_field, kp_status, kp_str, out_opt, out_ref, report, text,
};
use crate::keyring::{Ring, kp_keyring, kp_keyring_options, settings};
use crate::seal::kp_root_key;

/// Opens (creating it if needed) the keyring persisted in directory `store_dir` (UTF-8,
/// `(ptr, len)`): every key whose sealed record opens with `root` is loaded, and every later
/// change (create, import, rotate, state, alias) is written there, durably, before the call
/// that makes it returns. The store is locked while the keyring lives: a second open, from
/// this process or another, is `KP_ERR_STORAGE` after waiting up to 1 s for the lock, as is a directory that cannot be created or
/// read. Records that cannot be loaded are left out and counted in `*out_load_problems` (NULL:
/// not wanted; `kp_keyring_load_problem_count` gives it later); `kp_keyring_load_problem`
/// names them. `options` as for `kp_keyring_new_with_options` (NULL: the defaults), audit
/// included: loading the store's keys is not audited, every later operation is. The keyring
/// keeps its own reference to `root`, which may be freed after this call.
/// `KP_ERR_UNSUPPORTED_ALGORITHM` in a FIPS build whose module is not in FIPS mode (see
/// `kp_fips_mode`), before the directory is created.
///
/// # Safety
/// `options` is NULL or points to a `kp_keyring_options` whose `audit` is NULL or valid as
/// documented in `kp_audit_options`; `(store_dir, store_dir_len)` is valid; `root` is NULL or
/// live; `out` and `out_load_problems` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_keyring_open(
    options: *const kp_keyring_options,
    store_dir: *const c_char,
    store_dir_len: usize,
    root: *const kp_root_key,
    out: *mut *mut kp_keyring,
    out_load_problems: *mut usize,
) -> kp_status {
    ffi! {
        // Every argument is checked before the store is opened (which creates its directory)
        // or an audit trail started: a call that fails has no effect.
        // SAFETY: the caller's guarantees, as documented.
        let (out, out_load_problems, dir, root, settings) = unsafe {
            (
                out_ref(out, "out")?,
                out_opt(out_load_problems, "out_load_problems")?,
                text(store_dir, store_dir_len, "store_dir")?,
                handle::<kp_root_key>(root)?,
                settings(options)?,
            )
        };
        if dir.is_empty() {
            return Err(Error::InvalidInput("store_dir is empty").into());
        }
        // The store first: a store in use fails before an audit trail is started for nothing.
        let store = Store::open(dir)?;
        let (builder, max_batch_items) = settings.start()?;
        let root: Arc<dyn RootKey> = Arc::clone(root) as Arc<dyn RootKey>;
        let (keyring, problems) = builder.open(store, root)?;
        if let Some(count) = out_load_problems {
            *count = problems.len();
        }
        let load_problems = problems
            .iter()
            .map(|p| (CText::new(&p.path.to_string_lossy()), kp_status::of(&p.error)))
            .collect();
        crate::boundary::give(
            out,
            Ring {
                keyring,
                max_batch_items,
                load_problems,
            },
        );
        Ok(())
    }
}

/// The `index`-th record (from 0) that `kp_keyring_open` could not load: its file in
/// `*out_path` (valid until the keyring handle is freed) and why in `*out_status`
/// (`KP_ERR_INVALID_CIPHERTEXT` for a damaged record or one sealed under another root,
/// `KP_ERR_INVALID_INPUT` for a file that is not a record, `KP_ERR_STORAGE` for one that
/// cannot be read, `KP_ERR_ALREADY_EXISTS` for a second record of one key). An `index` past
/// the last is `KP_ERR_INVALID_INPUT`. A key whose record did not load keeps its id: creating
/// or importing another under it is `KP_ERR_ALREADY_EXISTS`, so the record is never
/// overwritten.
///
/// # Safety
/// `keyring` is NULL or live; `out_path` and `out_status` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_keyring_load_problem(
    keyring: *const kp_keyring,
    index: usize,
    out_path: *mut kp_str,
    out_status: *mut kp_status,
) -> kp_status {
    ffi! {
        // SAFETY: the caller's guarantees, as documented.
        let (out_path, out_status, ring) = unsafe {
            (
                out_ref(out_path, "out_path")?,
                out_ref(out_status, "out_status")?,
                handle::<kp_keyring>(keyring)?,
            )
        };
        let Some((path, status)) = ring.load_problems.get(index) else {
            return Err(report(
                kp_status::KP_ERR_INVALID_INPUT,
                format_args!(
                    "invalid input: index {index} is past the {} load problems",
                    ring.load_problems.len()
                ),
            ));
        };
        *out_path = path.view();
        *out_status = *status;
        Ok(())
    }
}

/// The number of records `kp_keyring_open` could not load (0 for a NULL keyring or one not
/// opened on a store). Handles made with `kp_keyring_with_caller` share the keyring's.
///
/// # Safety
/// `keyring` is NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_keyring_load_problem_count(keyring: *const kp_keyring) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(keyring, 0, |r| r.load_problems.len()) }
}
