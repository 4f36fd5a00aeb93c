//! Creating and describing keys: the create options, and the metadata handle
//! (`kp_key_metadata`) both answer with.

use core::ffi::c_char;
use std::time::Duration;

use keyplane_core::{CreateKey, Error, KeyMetadata, KeyVersionInfo, RotationPeriod};

use crate::boundary::{
    CText, FfiResult, Handle, free_handle, give, handle, handle_field, in_ref, kp_status, kp_str,
    out_opt, out_ref, text, unix_seconds,
};
use crate::enums::{
    CEnum, KP_KEY_USAGE_DEFAULT, from_c, kp_encryption_algorithm, kp_key_spec, kp_key_state,
    kp_key_usage, kp_mac_algorithm, kp_origin, kp_signing_algorithm, to_c,
};
use crate::keyring::{kp_keyring, ring};

/// Options for `kp_create_key`. Zero-initialize, then set `key_spec` and what you need.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_create_key_options {
    /// The key spec (required).
    pub key_spec: kp_key_spec,
    /// The key usage; `KP_KEY_USAGE_DEFAULT` (0) for the spec's default. RSA keys need one.
    pub key_usage: kp_key_usage,
    /// The key id, 1 to 255 ASCII letters, digits or `-_.:/`; `(NULL, 0)`: a random UUID.
    pub key_id: *const c_char,
    /// Length of `key_id` in bytes.
    pub key_id_len: usize,
    /// Free-text UTF-8 description; `(NULL, 0)` for none.
    pub description: *const c_char,
    /// Length of `description` in bytes.
    pub description_len: usize,
    /// An alias (`alias/...`) to create with the key; `(NULL, 0)` for none.
    pub alias: *const c_char,
    /// Length of `alias` in bytes.
    pub alias_len: usize,
    /// Automatic rotation every this many days (90 to 2560, AWS KMS's bounds); 0: none.
    pub rotation_period_days: u32,
    /// Automatic rotation every this many seconds, without KMS's bounds (for control planes
    /// with a policy of their own); 0: none. At most one of the two periods may be set.
    pub rotation_period_seconds: u64,
    /// `true`: refuse encryptions with `KP_ERR_LIMIT_EXCEEDED` once a version's encryption
    /// budget is spent, instead of rotating (the default, `false`).
    pub refuse_on_budget: bool,
    /// `KP_ORIGIN_EXTERNAL`: the key starts in `PendingImport` without material, for
    /// `kp_import_key_material`. 0 or `KP_ORIGIN_KEYPLANE`: material generated here.
    pub origin: kp_origin,
}

/// The rotation period of `(days, seconds)`, at most one of which is non-zero.
pub(crate) fn rotation_period(days: u32, seconds: u64) -> FfiResult<Option<RotationPeriod>> {
    match (days, seconds) {
        (0, 0) => Ok(None),
        (d, 0) => Ok(Some(RotationPeriod::days(d)?)),
        (0, s) => Ok(Some(RotationPeriod::custom(Duration::from_secs(s))?)),
        _ => Err(Error::InvalidInput(
            "set rotation_period_days or rotation_period_seconds, not both",
        )
        .into()),
    }
}

/// Creates a key. Stores its metadata in `*out_metadata` unless `out_metadata` is NULL (free
/// it with `kp_key_metadata_free`).
///
/// Errors: `KP_ERR_INVALID_INPUT` (malformed id, alias or period), `KP_ERR_ALREADY_EXISTS`,
/// `KP_ERR_INVALID_KEY_USAGE` (usage the spec does not allow), `KP_ERR_UNSUPPORTED_ALGORITHM`
/// (`KEY_AGREEMENT`).
///
/// # Safety
/// `keyring` is NULL or live; `options` is NULL or points to options whose `(ptr, len)` fields
/// are valid; `out_metadata` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_create_key(
    keyring: *const kp_keyring,
    options: *const kp_create_key_options,
    out_metadata: *mut *mut kp_key_metadata,
) -> kp_status {
    ffi! {
        // Every argument, the optional out-parameter included, is checked before the key is
        // made: a call that fails has no effect.
        // SAFETY: the caller guarantees `out_metadata` is NULL or writable.
        let out_metadata = unsafe { out_opt(out_metadata, "out_metadata") }?;
        // SAFETY: the caller guarantees the handle is NULL or live.
        let ring = unsafe { ring(keyring) }?;
        // SAFETY: the caller guarantees `options` is NULL or valid.
        let o = unsafe { in_ref(options, "options") }?;
        let mut create = CreateKey::new(from_c(o.key_spec)?);
        if o.key_usage != KP_KEY_USAGE_DEFAULT {
            create = create.usage(from_c(o.key_usage)?);
        }
        // SAFETY: the caller guarantees the option's `(ptr, len)` fields are valid.
        let key_id = unsafe { text(o.key_id, o.key_id_len, "key_id") }?;
        if !key_id.is_empty() {
            create = create.key_id(key_id);
        }
        // SAFETY: as above.
        let description = unsafe { text(o.description, o.description_len, "description") }?;
        create = create.description(description);
        // SAFETY: as above.
        let alias = unsafe { text(o.alias, o.alias_len, "alias") }?;
        if !alias.is_empty() {
            create = create.alias(alias);
        }
        if let Some(period) = rotation_period(o.rotation_period_days, o.rotation_period_seconds)? {
            create = create.rotation_period(period);
        }
        create = create.rotate_on_budget(!o.refuse_on_budget);
        if o.origin != 0 {
            create = create.origin(from_c(o.origin)?);
        }
        let metadata = ring.create_key(&create)?;
        if let Some(out) = out_metadata {
            give(out, Metadata::new(metadata));
        }
        Ok(())
    }
}

/// Describes a key (id or `alias/...`) into a new `kp_key_metadata` in `*out`.
///
/// # Safety
/// `keyring` is NULL or live; `(key_id, key_id_len)` is valid; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_describe_key(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    out: *mut *mut kp_key_metadata,
) -> kp_status {
    ffi! {
        // SAFETY: the caller's guarantees, as documented.
        let (out, ring, key_id) = unsafe {
            (out_ref(out, "out")?, ring(keyring)?, text(key_id, key_id_len, "key_id")?)
        };
        give(out, Metadata::new(ring.describe_key(key_id)?));
        Ok(())
    }
}

// ----- metadata ---------------------------------------------------------------------------------

/// A key's metadata: a snapshot taken by `kp_create_key` or `kp_describe_key`, read with the
/// `kp_key_metadata_*` accessors and freed with `kp_key_metadata_free`. Strings it hands out
/// are valid until it is freed. Accessors given NULL return 0, `false` or an empty string.
#[derive(Debug)]
pub struct kp_key_metadata {
    _private: [u8; 0],
}

/// What a `kp_key_metadata` points at.
#[derive(Debug)]
pub(crate) struct Metadata {
    key_id: CText,
    description: CText,
    aliases: Vec<CText>,
    encryption_algorithms: Vec<kp_encryption_algorithm>,
    signing_algorithms: Vec<kp_signing_algorithm>,
    mac_algorithms: Vec<kp_mac_algorithm>,
    inner: KeyMetadata,
}

impl Handle for kp_key_metadata {
    type Inner = Metadata;
    const NAME: &'static str = "metadata";
}

fn numbers<T: CEnum>(v: &[T]) -> Vec<u32> {
    v.iter().map(|x| to_c(*x)).collect()
}

impl Metadata {
    pub(crate) fn new(inner: KeyMetadata) -> Self {
        Self {
            key_id: CText::new(&inner.key_id),
            description: CText::new(&inner.description),
            aliases: inner.aliases.iter().map(|a| CText::new(a)).collect(),
            encryption_algorithms: numbers(&inner.encryption_algorithms),
            signing_algorithms: numbers(&inner.signing_algorithms),
            mac_algorithms: numbers(&inner.mac_algorithms),
            inner,
        }
    }
}

/// The key id.
///
/// # Safety
/// `m` is NULL or a live `kp_key_metadata`; so for every `kp_key_metadata_*` accessor.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_key_id(m: *const kp_key_metadata) -> kp_str {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, kp_str::EMPTY, |m| m.key_id.view()) }
}

/// The key spec.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_key_spec(m: *const kp_key_metadata) -> kp_key_spec {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, 0, |m| to_c(m.inner.key_spec)) }
}

/// The key usage.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_key_usage(m: *const kp_key_metadata) -> kp_key_usage {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, 0, |m| to_c(m.inner.key_usage)) }
}

/// The key state when the snapshot was taken.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_key_state(m: *const kp_key_metadata) -> kp_key_state {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, 0, |m| to_c(m.inner.key_state)) }
}

/// Where the key material came from.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_origin(m: *const kp_key_metadata) -> kp_origin {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, 0, |m| to_c(m.inner.origin)) }
}

/// When the key was created, in seconds since the Unix epoch.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_creation_date(m: *const kp_key_metadata) -> i64 {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, 0, |m| unix_seconds(m.inner.creation_date)) }
}

/// The description given at creation.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_description(m: *const kp_key_metadata) -> kp_str {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, kp_str::EMPTY, |m| m.description.view()) }
}

/// When a key pending deletion will be deleted (Unix seconds); 0 if not pending deletion.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_deletion_date(m: *const kp_key_metadata) -> i64 {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, 0, |m| m.inner.deletion_date.map_or(0, unix_seconds)) }
}

/// The number of encryption algorithms the key supports.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_encryption_algorithm_count(
    m: *const kp_key_metadata,
) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, 0, |m| m.encryption_algorithms.len()) }
}

/// Encryption algorithm `index` (0 when out of range).
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_encryption_algorithm(
    m: *const kp_key_metadata,
    index: usize,
) -> kp_encryption_algorithm {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(m, 0, |m| {
            m.encryption_algorithms.get(index).copied().unwrap_or(0)
        })
    }
}

/// The number of signing algorithms the key supports.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_signing_algorithm_count(
    m: *const kp_key_metadata,
) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, 0, |m| m.signing_algorithms.len()) }
}

/// Signing algorithm `index` (0 when out of range).
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_signing_algorithm(
    m: *const kp_key_metadata,
    index: usize,
) -> kp_signing_algorithm {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(m, 0, |m| {
            m.signing_algorithms.get(index).copied().unwrap_or(0)
        })
    }
}

/// The number of MAC algorithms the key supports.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_mac_algorithm_count(m: *const kp_key_metadata) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, 0, |m| m.mac_algorithms.len()) }
}

/// MAC algorithm `index` (0 when out of range).
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_mac_algorithm(
    m: *const kp_key_metadata,
    index: usize,
) -> kp_mac_algorithm {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, 0, |m| m.mac_algorithms.get(index).copied().unwrap_or(0)) }
}

/// The number of aliases pointing at the key.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_alias_count(m: *const kp_key_metadata) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, 0, |m| m.aliases.len()) }
}

/// Alias `index`, in sorted order (empty when out of range).
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_alias(m: *const kp_key_metadata, index: usize) -> kp_str {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(m, kp_str::EMPTY, |m| {
            m.aliases.get(index).map_or(kp_str::EMPTY, CText::view)
        })
    }
}

/// The automatic rotation period in seconds; 0: none.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_rotation_period_seconds(m: *const kp_key_metadata) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(m, 0, |m| {
            m.inner
                .rotation_period
                .map_or(0, |p| p.as_duration().as_secs())
        })
    }
}

/// When the key next rotates by itself (Unix seconds; on its first use after then); 0: never.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_next_rotation_date(m: *const kp_key_metadata) -> i64 {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, 0, |m| m.inner.next_rotation_date.map_or(0, unix_seconds)) }
}

/// The version new encryptions use.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_current_version(m: *const kp_key_metadata) -> u32 {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, 0, |m| m.inner.current_version) }
}

/// Blobs of older versions fail with `KP_ERR_VERSION_RETIRED`.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_min_decryption_version(m: *const kp_key_metadata) -> u32 {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, 0, |m| m.inner.min_decryption_version) }
}

/// Whether the key rotates (`true`) or refuses (`false`) once a version's budget is spent.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_rotate_on_budget(m: *const kp_key_metadata) -> bool {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, false, |m| m.inner.rotate_on_budget) }
}

/// The number of versions of the key.
///
/// # Safety
/// As `kp_key_metadata_key_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_version_count(m: *const kp_key_metadata) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(m, 0, |m| m.inner.versions.len()) }
}

/// One version of a key.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_key_version {
    /// The version number, from 1.
    pub version: u32,
    /// When it was created (Unix seconds).
    pub creation_date: i64,
    /// How many encryptions this keyring has made under it.
    pub encryptions: u64,
}

/// Version `index` (oldest first) into `*out`; `KP_ERR_INVALID_INPUT` when out of range.
///
/// # Safety
/// `m` is NULL or a live `kp_key_metadata`; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_version(
    m: *const kp_key_metadata,
    index: usize,
    out: *mut kp_key_version,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out, m) = unsafe { (out_ref(out, "out")?, handle(m)?) };
        let v: &KeyVersionInfo = m
            .inner
            .versions
            .get(index)
            .ok_or(Error::InvalidInput("version index out of range"))?;
        *out = kp_key_version {
            version: v.version,
            creation_date: unix_seconds(v.creation_date),
            encryptions: v.encryptions,
        };
        Ok(())
    }
}

/// Frees the metadata in `*m` and sets `*m` to NULL; NULL or `*m` NULL: no-op.
///
/// # Safety
/// `m` is NULL or points to NULL or a live `kp_key_metadata*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_key_metadata_free(m: *mut *mut kp_key_metadata) {
    // SAFETY: forwarded from the caller.
    ffi_value!((), unsafe { free_handle(m) })
}
