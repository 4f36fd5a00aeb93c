//! The keyring handle and key management: create, describe, list, states, aliases, rotation.

use core::ffi::c_char;
use core::num::NonZeroU64;
use std::time::Duration;

use keyplane_core::{
    CreateKey, Error, KeyMetadata, KeyVersionInfo, Keyring, PendingWindow, RotationPeriod,
};

use crate::audit_options::{AuditPlan, audit_plan, kp_audit_options};
use crate::boundary::{
    CText, FfiResult, Handle, free_handle, give, handle, handle_field, in_opt, in_ref, kp_status,
    kp_str, out_opt, out_ref, text, unix_seconds,
};
use crate::enums::{
    CEnum, KP_KEY_USAGE_DEFAULT, from_c, kp_encryption_algorithm, kp_key_spec, kp_key_state,
    kp_key_usage, kp_mac_algorithm, kp_origin, kp_signing_algorithm, to_c,
};

/// A keyring: the set of keys of a process and every operation on them. Thread-safe: one
/// `kp_keyring*` may be used from any number of threads at once. Free with `kp_keyring_free`.
#[derive(Debug)]
pub struct kp_keyring {
    _private: [u8; 0],
}

/// What a `kp_keyring` points at.
#[derive(Debug)]
pub(crate) struct Ring {
    pub(crate) keyring: Keyring,
    pub(crate) max_batch_items: usize,
    /// The records `kp_keyring_open` could not load: path and why (shared by caller handles).
    pub(crate) load_problems: std::sync::Arc<[(CText, kp_status)]>,
}

impl Handle for kp_keyring {
    type Inner = Ring;
    const NAME: &'static str = "keyring";
}

/// The keyring behind a handle.
///
/// # Safety
/// `ptr` is NULL or a live `kp_keyring`.
pub(crate) unsafe fn ring<'a>(ptr: *const kp_keyring) -> FfiResult<&'a Keyring> {
    // SAFETY: forwarded from the caller.
    unsafe { handle(ptr) }.map(|r: &Ring| &r.keyring)
}

/// Settings for `kp_keyring_new_with_options` and `kp_keyring_open`. All-zero is the default
/// for every field.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct kp_keyring_options {
    /// Encryptions allowed per key version before the key rotates (or refuses); 0: 2^32.
    pub encryption_budget: u64,
    /// 0: batches run on one process-wide pool shared by every keyring, with a thread per
    /// core. n > 0: on a pool of n threads of this keyring's own, started at its first batch.
    /// The calling thread works on its batch too, with up to n - 1 pool threads (so n = 1
    /// starts no thread). At most 1024 (`KP_ERR_INVALID_INPUT` above).
    pub batch_threads: usize,
    /// The most items one batch call takes; 0: 100,000.
    pub max_batch_items: usize,
    /// NULL: no audit trail. Otherwise every operation of the keyring is audited as this says
    /// (a callback or a log directory; see `kp_audit_options`). Read only during the call.
    pub audit: *const kp_audit_options,
}

/// Creates an empty keyring with default settings and stores it in `*out`.
///
/// # Safety
/// `out` is NULL or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_keyring_new(out: *mut *mut kp_keyring) -> kp_status {
    ffi! {
        // SAFETY: the caller guarantees `out` is NULL or writable.
        let out = unsafe { out_ref(out, "out") }?;
        give(
            out,
            Ring {
                keyring: Keyring::new(),
                max_batch_items: keyplane_core::batch::DEFAULT_MAX_BATCH_ITEMS,
                load_problems: std::sync::Arc::new([]),
            },
        );
        Ok(())
    }
}

/// Creates an empty keyring with `options` (NULL: the defaults) and stores it in `*out`. With
/// `options.audit`, the keyring audits every operation: `KP_ERR_INVALID_INPUT` for audit
/// options that do not fit together, `KP_ERR_STORAGE` for a log directory that cannot be
/// created or already holds a log.
///
/// # Safety
/// `options` is NULL or points to a `kp_keyring_options` whose `audit` is NULL or valid as
/// documented in `kp_audit_options`; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_keyring_new_with_options(
    options: *const kp_keyring_options,
    out: *mut *mut kp_keyring,
) -> kp_status {
    ffi! {
        // SAFETY: the caller guarantees `out` is NULL or writable.
        let out = unsafe { out_ref(out, "out") }?;
        // SAFETY: the caller guarantees `options` is NULL or points to options whose `audit`
        // is NULL or valid.
        let (builder, max_batch_items) = unsafe { settings(options) }?.start()?;
        give(
            out,
            Ring {
                keyring: builder.build(),
                max_batch_items,
                load_problems: std::sync::Arc::new([]),
            },
        );
        Ok(())
    }
}

/// Keyring options from C, checked: a builder with every setting, the batch size limit, and the
/// audit trail still to start.
pub(crate) struct Settings {
    builder: keyplane_core::KeyringBuilder,
    max_batch_items: usize,
    audit: Option<AuditPlan>,
}

/// Checks `options` (NULL: the defaults) without creating or starting anything, so that a call
/// finds every bad argument before it acts.
///
/// # Safety
/// `options` is NULL or points to a `kp_keyring_options` whose `audit` is NULL or points to a
/// `kp_audit_options` whose pointers are valid as documented there.
pub(crate) unsafe fn settings(options: *const kp_keyring_options) -> FfiResult<Settings> {
    // SAFETY: forwarded from the caller.
    let options = unsafe { in_opt(options) }?;
    let mut builder = Keyring::builder();
    let Some(options) = options else {
        let max = keyplane_core::batch::DEFAULT_MAX_BATCH_ITEMS;
        return Ok(Settings {
            builder: builder.max_batch_items(max),
            max_batch_items: max,
            audit: None,
        });
    };
    if let Some(budget) = NonZeroU64::new(options.encryption_budget) {
        builder = builder.encryption_budget(budget);
    }
    if options.batch_threads > 0 {
        // Refuses more than `keyplane::batch::MAX_THREADS` (`KP_ERR_INVALID_INPUT`); the pool
        // itself starts at the first batch.
        builder = builder.threads(options.batch_threads)?;
    }
    let max_batch_items = match options.max_batch_items {
        0 => keyplane_core::batch::DEFAULT_MAX_BATCH_ITEMS,
        n => n,
    };
    builder = builder.max_batch_items(max_batch_items);
    // SAFETY: forwarded from the caller: `audit` is NULL or points to valid audit options.
    let audit = match unsafe { in_opt(options.audit) }? {
        Some(audit) => Some(audit_plan(audit)?),
        None => None,
    };
    Ok(Settings {
        builder,
        max_batch_items,
        audit,
    })
}

impl Settings {
    /// The builder, with the audit trail started when the options asked for one (its log
    /// directory created), and the batch size limit.
    pub(crate) fn start(self) -> FfiResult<(keyplane_core::KeyringBuilder, usize)> {
        let mut builder = self.builder;
        if let Some(audit) = self.audit {
            builder = builder.audit(audit.start()?)?;
        }
        Ok((builder, self.max_batch_items))
    }
}

/// Frees the keyring in `*keyring` and sets `*keyring` to NULL, so that a second
/// `kp_keyring_free(&k)` is a no-op. `keyring` or `*keyring` NULL: no-op. Handles obtained
/// from the keyring (metadata, data keys, batch results) stay valid: they own their data.
///
/// # Safety
/// `keyring` is NULL or points to NULL or a live `kp_keyring*` that no other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_keyring_free(keyring: *mut *mut kp_keyring) {
    // SAFETY: forwarded from the caller.
    ffi_value!((), unsafe { free_handle(keyring) })
}

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

// ----- listing ----------------------------------------------------------------------------------

/// A list of strings (key ids), freed with `kp_string_list_free`.
#[derive(Debug)]
pub struct kp_string_list {
    _private: [u8; 0],
}

impl Handle for kp_string_list {
    type Inner = Vec<CText>;
    const NAME: &'static str = "list";
}

/// Every key id of the keyring, sorted, into a new `kp_string_list` in `*out`.
///
/// # Safety
/// `keyring` is NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_list_keys(
    keyring: *const kp_keyring,
    out: *mut *mut kp_string_list,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out, ring) = unsafe { (out_ref(out, "out")?, ring(keyring)?) };
        give(out, ring.list_keys().iter().map(|k| CText::new(k)).collect());
        Ok(())
    }
}

/// The number of strings in the list (0 for NULL).
///
/// # Safety
/// `list` is NULL or a live `kp_string_list`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_string_list_count(list: *const kp_string_list) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(list, 0, Vec::len) }
}

/// String `index` (empty when out of range), valid until the list is freed.
///
/// # Safety
/// `list` is NULL or a live `kp_string_list`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_string_list_get(list: *const kp_string_list, index: usize) -> kp_str {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(list, kp_str::EMPTY, |h| {
            h.get(index).map_or(kp_str::EMPTY, CText::view)
        })
    }
}

/// Frees the list in `*list` and sets `*list` to NULL; NULL or `*list` NULL: no-op.
///
/// # Safety
/// `list` is NULL or points to NULL or a live `kp_string_list*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_string_list_free(list: *mut *mut kp_string_list) {
    // SAFETY: forwarded from the caller.
    ffi_value!((), unsafe { free_handle(list) })
}

/// Every alias and its target key, sorted by alias, freed with `kp_alias_list_free`.
#[derive(Debug)]
pub struct kp_alias_list {
    _private: [u8; 0],
}

impl Handle for kp_alias_list {
    type Inner = Vec<(CText, CText)>;
    const NAME: &'static str = "list";
}

/// Every alias of the keyring into a new `kp_alias_list` in `*out`.
///
/// # Safety
/// `keyring` is NULL or live; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_list_aliases(
    keyring: *const kp_keyring,
    out: *mut *mut kp_alias_list,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (out, ring) = unsafe { (out_ref(out, "out")?, ring(keyring)?) };
        let list = ring
            .list_aliases()
            .iter()
            .map(|a| (CText::new(&a.alias_name), CText::new(&a.target_key_id)))
            .collect();
        give(out, list);
        Ok(())
    }
}

/// The number of aliases in the list (0 for NULL).
///
/// # Safety
/// `list` is NULL or a live `kp_alias_list`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_alias_list_count(list: *const kp_alias_list) -> usize {
    // SAFETY: forwarded from the caller.
    unsafe { handle_field(list, 0, Vec::len) }
}

/// Alias `index`'s name (`alias/...`; empty when out of range).
///
/// # Safety
/// `list` is NULL or a live `kp_alias_list`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_alias_list_name(list: *const kp_alias_list, index: usize) -> kp_str {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(list, kp_str::EMPTY, |h| {
            h.get(index).map_or(kp_str::EMPTY, |(name, _)| name.view())
        })
    }
}

/// The key id alias `index` points at (empty when out of range).
///
/// # Safety
/// `list` is NULL or a live `kp_alias_list`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_alias_list_target(list: *const kp_alias_list, index: usize) -> kp_str {
    // SAFETY: forwarded from the caller.
    unsafe {
        handle_field(list, kp_str::EMPTY, |h| {
            h.get(index)
                .map_or(kp_str::EMPTY, |(_, target)| target.view())
        })
    }
}

/// Frees the list in `*list` and sets `*list` to NULL; NULL or `*list` NULL: no-op.
///
/// # Safety
/// `list` is NULL or points to NULL or a live `kp_alias_list*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_alias_list_free(list: *mut *mut kp_alias_list) {
    // SAFETY: forwarded from the caller.
    ffi_value!((), unsafe { free_handle(list) })
}

// ----- state changes, aliases, rotation -------------------------------------------------------------

/// Runs `f` with the keyring and one key id (or alias).
///
/// # Safety
/// `keyring` is NULL or live; `(key_id, key_id_len)` is valid.
unsafe fn with_key(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    f: impl FnOnce(&Keyring, &str) -> Result<(), Error>,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (ring, key_id) = unsafe { (ring(keyring)?, text(key_id, key_id_len, "key_id")?) };
        f(ring, key_id)?;
        Ok(())
    }
}

/// Enables a disabled key. Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_STATE` (pending
/// deletion or import).
///
/// # Safety
/// `keyring` is NULL or live; `(key_id, key_id_len)` is valid. The same for every function
/// below that takes these arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_enable_key(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
) -> kp_status {
    // SAFETY: forwarded from the caller.
    unsafe { with_key(keyring, key_id, key_id_len, Keyring::enable_key) }
}

/// Disables a key: every operation with it fails with `KP_ERR_KEY_DISABLED` until enabled.
///
/// # Safety
/// As `kp_enable_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_disable_key(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
) -> kp_status {
    // SAFETY: forwarded from the caller.
    unsafe { with_key(keyring, key_id, key_id_len, Keyring::disable_key) }
}

/// Schedules the key's deletion after `pending_window_days` (7 to 30; 0: 30, as in AWS KMS).
/// Stores the deletion date (Unix seconds) in `*out_deletion_date` unless it is NULL.
/// Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_STATE` (already pending deletion),
/// `KP_ERR_INVALID_INPUT` (window out of range).
///
/// # Safety
/// As `kp_enable_key`; `out_deletion_date` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_schedule_key_deletion(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    pending_window_days: u32,
    out_deletion_date: *mut i64,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller. The out-parameter is checked before the key
        // changes: a call that fails has no effect.
        let (out_date, ring, key_id) = unsafe {
            (
                out_opt(out_deletion_date, "out_deletion_date")?,
                ring(keyring)?,
                text(key_id, key_id_len, "key_id")?,
            )
        };
        let window = match pending_window_days {
            0 => PendingWindow::default(),
            days => PendingWindow::days(days)?,
        };
        let date = ring.schedule_key_deletion(key_id, window)?;
        if let Some(out) = out_date {
            *out = unix_seconds(date);
        }
        Ok(())
    }
}

/// Cancels a scheduled deletion; as in AWS KMS the key comes back **disabled** (an imported key
/// without material: `KP_KEY_STATE_PENDING_IMPORT`).
/// Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_KEY_STATE` (not pending deletion).
///
/// # Safety
/// As `kp_enable_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_cancel_key_deletion(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
) -> kp_status {
    // SAFETY: forwarded from the caller.
    unsafe { with_key(keyring, key_id, key_id_len, Keyring::cancel_key_deletion) }
}

/// Creates `alias` (`alias/...`) pointing at `key_id` (a key id or another alias).
/// Errors: `KP_ERR_INVALID_INPUT`, `KP_ERR_ALREADY_EXISTS`, `KP_ERR_NOT_FOUND`.
///
/// # Safety
/// `keyring` is NULL or live; both `(ptr, len)` pairs are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_create_alias(
    keyring: *const kp_keyring,
    alias: *const c_char,
    alias_len: usize,
    key_id: *const c_char,
    key_id_len: usize,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (ring, alias, key_id) = unsafe {
            (ring(keyring)?, text(alias, alias_len, "alias")?, text(key_id, key_id_len, "key_id")?)
        };
        ring.create_alias(alias, key_id)?;
        Ok(())
    }
}

/// Points an existing alias at another key. Errors: `KP_ERR_INVALID_INPUT`,
/// `KP_ERR_NOT_FOUND` (alias or key).
///
/// # Safety
/// As `kp_create_alias`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_update_alias(
    keyring: *const kp_keyring,
    alias: *const c_char,
    alias_len: usize,
    key_id: *const c_char,
    key_id_len: usize,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (ring, alias, key_id) = unsafe {
            (ring(keyring)?, text(alias, alias_len, "alias")?, text(key_id, key_id_len, "key_id")?)
        };
        ring.update_alias(alias, key_id)?;
        Ok(())
    }
}

/// Deletes an alias (the key is untouched). Errors: `KP_ERR_NOT_FOUND`.
///
/// # Safety
/// `keyring` is NULL or live; `(alias, alias_len)` is valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_delete_alias(
    keyring: *const kp_keyring,
    alias: *const c_char,
    alias_len: usize,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (ring, alias) = unsafe { (ring(keyring)?, text(alias, alias_len, "alias")?) };
        ring.delete_alias(alias)?;
        Ok(())
    }
}

/// Adds a version to a `SYMMETRIC_DEFAULT` key now; new encryptions use it and older versions
/// keep decrypting. Stores the new version number in `*out_version` unless it is NULL.
/// Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_KEY_DISABLED`, `KP_ERR_INVALID_KEY_STATE`,
/// `KP_ERR_UNSUPPORTED_ALGORITHM` (keys that do not rotate).
///
/// # Safety
/// As `kp_enable_key`; `out_version` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_rotate_key(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    out_version: *mut u32,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller. The out-parameter is checked before the key
        // rotates: a call that fails has no effect.
        let (out_version, ring, key_id) = unsafe {
            (
                out_opt(out_version, "out_version")?,
                ring(keyring)?,
                text(key_id, key_id_len, "key_id")?,
            )
        };
        let version = ring.rotate_key(key_id)?;
        if let Some(out) = out_version {
            *out = version;
        }
        Ok(())
    }
}

/// Turns on automatic rotation every `period_days` (90 to 2560) or, when `period_days` is 0,
/// every `period_seconds` (any non-zero period, without KMS's bounds); not both.
/// Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_INPUT`, `KP_ERR_UNSUPPORTED_ALGORITHM`.
///
/// # Safety
/// As `kp_enable_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_enable_key_rotation(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    period_days: u32,
    period_seconds: u64,
) -> kp_status {
    ffi! {
        // SAFETY: forwarded from the caller.
        let (ring, key_id) = unsafe { (ring(keyring)?, text(key_id, key_id_len, "key_id")?) };
        let period = rotation_period(period_days, period_seconds)?
            .ok_or(Error::InvalidInput("a rotation period is required"))?;
        ring.enable_key_rotation(key_id, period)?;
        Ok(())
    }
}

/// Turns off automatic rotation. Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_UNSUPPORTED_ALGORITHM`.
///
/// # Safety
/// As `kp_enable_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_disable_key_rotation(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
) -> kp_status {
    // SAFETY: forwarded from the caller.
    unsafe { with_key(keyring, key_id, key_id_len, Keyring::disable_key_rotation) }
}

/// Whether the key rotates (`true`) or refuses with `KP_ERR_LIMIT_EXCEEDED` (`false`) once a
/// version's encryption budget is spent. `true` for an imported (`EXTERNAL`) key is
/// `KP_ERR_UNSUPPORTED_ALGORITHM`: its only version is the material imported into it.
///
/// # Safety
/// As `kp_enable_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_set_rotate_on_budget(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    rotate: bool,
) -> kp_status {
    // SAFETY: forwarded from the caller.
    unsafe {
        with_key(keyring, key_id, key_id_len, |r, k| {
            r.set_rotate_on_budget(k, rotate)
        })
    }
}

/// Refuses blobs of versions older than `version` (`KP_ERR_VERSION_RETIRED`); lowering it
/// again re-admits them. Errors: `KP_ERR_NOT_FOUND`, `KP_ERR_INVALID_INPUT` (not between 1
/// and the current version), `KP_ERR_UNSUPPORTED_ALGORITHM`.
///
/// # Safety
/// As `kp_enable_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kp_set_min_decryption_version(
    keyring: *const kp_keyring,
    key_id: *const c_char,
    key_id_len: usize,
    version: u32,
) -> kp_status {
    // SAFETY: forwarded from the caller.
    unsafe {
        with_key(keyring, key_id, key_id_len, |r, k| {
            r.set_min_decryption_version(k, version)
        })
    }
}
