//! What a key is made of: its identity, spec and usage, its versions and management state
//! ([`Key`]), the snapshot a sealed record carries ([`KeySnapshot`]), and the values the API
//! returns about keys ([`KeyMetadata`], [`KeyVersionInfo`], [`AliasEntry`]) or takes to make
//! one ([`CreateKey`]).
//!
//! It builds on the key material and the version table alone; the keyring, the sealed-record
//! format and every operation build on it.

use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use zeroize::Zeroizing;

use crate::envelope::{self, MAX_KEY_ID_LEN};
use crate::error::{Error, Result};
use crate::fork::{read, write};
use crate::material::{self, Material};
use crate::spec::{
    EncryptionAlgorithm, KeySpec, KeyState, KeyUsage, MacAlgorithm, Origin, RotationPeriod,
    SigningAlgorithm,
};
use crate::versions::{Version, VersionTable};

/// The prefix that marks an alias wherever a key id is accepted.
pub const ALIAS_PREFIX: &str = "alias/";

/// A sealed record stores each alias with a one-byte length.
pub(crate) const MAX_ALIAS_LEN: usize = 255;

/// Options for [`Keyring::create_key`](crate::Keyring::create_key).
#[derive(Debug, Clone)]
pub struct CreateKey {
    pub(crate) spec: KeySpec,
    pub(crate) usage: Option<KeyUsage>,
    pub(crate) key_id: Option<String>,
    pub(crate) description: String,
    pub(crate) alias: Option<String>,
    pub(crate) rotation_period: Option<RotationPeriod>,
    pub(crate) rotate_on_budget: bool,
    pub(crate) origin: Origin,
}

impl CreateKey {
    /// A key of `spec` with a generated id, the spec's default usage, no alias and no rotation
    /// period; it rotates by itself when a version's encryption budget is spent.
    #[must_use]
    pub fn new(spec: KeySpec) -> Self {
        Self {
            spec,
            usage: None,
            key_id: None,
            description: String::new(),
            alias: None,
            rotation_period: None,
            rotate_on_budget: true,
            origin: Origin::Keyplane,
        }
    }

    /// Where the material comes from: [`Origin::Keyplane`] (generated now, the default) or
    /// [`Origin::External`]: the key starts in `PendingImport` with no material until
    /// [`Keyring::import_key_material`](crate::Keyring::import_key_material) installs the caller's. Imported keys do not rotate.
    #[must_use]
    pub fn origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    /// Use this key id instead of a generated one: 1 to 255 bytes of ASCII letters, digits and
    /// `-_.:/`, not starting with `alias/`.
    #[must_use]
    pub fn key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// The key usage (required for RSA keys, which can encrypt or sign).
    #[must_use]
    pub fn usage(mut self, usage: KeyUsage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// A free-text description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Create an alias (`alias/...`) for the new key at the same time.
    #[must_use]
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(alias.into());
        self
    }

    /// Rotate automatically with this period.
    #[must_use]
    pub fn rotation_period(mut self, period: RotationPeriod) -> Self {
        self.rotation_period = Some(period);
        self
    }

    /// What happens when the current version's encryption budget is spent: rotate (`true`, the
    /// default) or refuse with [`Error::LimitExceeded`] (`false`).
    #[must_use]
    pub fn rotate_on_budget(mut self, rotate: bool) -> Self {
        self.rotate_on_budget = rotate;
        self
    }
}

/// What [`Keyring::describe_key`](crate::Keyring::describe_key) reports about a key.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMetadata {
    /// The key id.
    pub key_id: String,
    /// The key spec.
    pub key_spec: KeySpec,
    /// The key usage.
    pub key_usage: KeyUsage,
    /// The key state.
    pub key_state: KeyState,
    /// Where the key material came from.
    pub origin: Origin,
    /// When the key was created.
    pub creation_date: SystemTime,
    /// The description given at creation.
    pub description: String,
    /// When a key pending deletion will be deleted.
    pub deletion_date: Option<SystemTime>,
    /// The encryption algorithms the key supports.
    pub encryption_algorithms: Vec<EncryptionAlgorithm>,
    /// The signing algorithms the key supports.
    pub signing_algorithms: Vec<SigningAlgorithm>,
    /// The MAC algorithms the key supports.
    pub mac_algorithms: Vec<MacAlgorithm>,
    /// Aliases that point at the key, sorted.
    pub aliases: Vec<String>,
    /// The automatic rotation period, if any.
    pub rotation_period: Option<RotationPeriod>,
    /// When the key next rotates by itself (on its first use after this time).
    pub next_rotation_date: Option<SystemTime>,
    /// The version new encryptions use.
    pub current_version: u32,
    /// Blobs of older versions are refused with [`Error::VersionRetired`].
    pub min_decryption_version: u32,
    /// Whether the key rotates (rather than refuses) when a version's encryption budget is spent.
    pub rotate_on_budget: bool,
    /// Every version, oldest first.
    pub versions: Vec<KeyVersionInfo>,
    /// For imported material that expires: when it does (the key then returns to
    /// `PendingImport`).
    pub valid_to: Option<SystemTime>,
}

/// One version of a key.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVersionInfo {
    /// The version number, from 1.
    pub version: u32,
    /// When the version was created.
    pub creation_date: SystemTime,
    /// How many encryptions (nonces) this keyring instance has made under this version.
    pub encryptions: u64,
}

/// An alias and the key it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasEntry {
    /// The alias, `alias/...`.
    pub alias_name: String,
    /// The key id it resolves to.
    pub target_key_id: String,
}

pub(crate) struct Key {
    pub(crate) id: Box<str>,
    pub(crate) spec: KeySpec,
    pub(crate) usage: KeyUsage,
    pub(crate) origin: Origin,
    pub(crate) creation_date: SystemTime,
    pub(crate) description: String,
    /// Mirrors `Mutable::state` for lock-free checks; written only under the write lock.
    pub(crate) state: AtomicU8,
    /// Unix nanoseconds of the next due rotation; 0 when the key has no rotation period.
    pub(crate) next_rotation: AtomicU64,
    /// Blobs of older versions are refused after they authenticate.
    pub(crate) min_decryption_version: AtomicU32,
    /// Rotate (rather than refuse) when the current version's budget is spent.
    pub(crate) rotate_on_budget: AtomicBool,
    /// Unix nanoseconds when imported material expires; 0 when it does not. Mirrors
    /// `Mutable::valid_to` for a lock-free check on every look-up.
    pub(crate) valid_to: AtomicU64,
    /// Read without locks; pushed to under `mutable`'s write lock.
    pub(crate) versions: VersionTable,
    /// Everything changed by management calls; the hot path never takes this lock.
    pub(crate) mutable: RwLock<Mutable>,
}

/// Makes a key's next state durable before it takes effect: given the key, its management state
/// and (for a rotation) the version about to be published.
pub(crate) type Durable<'a> = &'a dyn Fn(&Key, &Mutable, &Version) -> Result<()>;

#[derive(Clone)]
pub(crate) struct Mutable {
    pub(crate) state: KeyState,
    pub(crate) rotation_period: Option<RotationPeriod>,
    pub(crate) deletion_date: Option<SystemTime>,
    /// Fingerprint of the material imported into an `EXTERNAL` key: only that material may
    /// be imported again.
    pub(crate) imported: Option<[u8; 32]>,
    /// When imported material expires.
    pub(crate) valid_to: Option<SystemTime>,
}

pub(crate) fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

pub(crate) fn state_code(state: KeyState) -> u8 {
    match state {
        KeyState::Enabled => 0,
        KeyState::Disabled => 1,
        KeyState::PendingDeletion => 2,
        KeyState::PendingImport => 3,
    }
}

pub(crate) fn validate_key_id(id: &str) -> Result<()> {
    let ok_char = |b: u8| b.is_ascii_alphanumeric() || b"-_.:/".contains(&b);
    if id.is_empty() || id.len() > MAX_KEY_ID_LEN || !id.bytes().all(ok_char) {
        return Err(Error::InvalidInput(
            "key id must be 1 to 255 ASCII letters, digits or -_.:/",
        ));
    }
    if id.starts_with(ALIAS_PREFIX) {
        return Err(Error::InvalidInput("key id must not start with alias/"));
    }
    Ok(())
}

pub(crate) fn validate_alias(alias: &str) -> Result<()> {
    let name = alias
        .strip_prefix(ALIAS_PREFIX)
        .ok_or(Error::InvalidInput("alias must start with alias/"))?;
    let ok_char = |b: u8| b.is_ascii_alphanumeric() || b"-_/".contains(&b);
    if name.is_empty() || alias.len() > MAX_ALIAS_LEN || !name.bytes().all(ok_char) {
        return Err(Error::InvalidInput(
            "alias must be alias/ followed by up to 249 ASCII letters, digits or -_/",
        ));
    }
    Ok(())
}

/// A random UUID v4, as AWS KMS key ids are.
pub(crate) fn generate_key_id() -> Result<String> {
    let mut b = [0u8; 16];
    crate::fork::fill(&mut b).map_err(|_| Error::Internal)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = |r: core::ops::Range<usize>| -> String {
        b[r].iter().map(|x| format!("{x:02x}")).collect()
    };
    Ok(format!(
        "{}-{}-{}-{}-{}",
        h(0..4),
        h(4..6),
        h(6..8),
        h(8..10),
        h(10..16)
    ))
}

impl Key {
    pub(crate) fn state(&self) -> KeyState {
        match self.state.load(Ordering::Acquire) {
            0 => KeyState::Enabled,
            1 => KeyState::Disabled,
            2 => KeyState::PendingDeletion,
            _ => KeyState::PendingImport,
        }
    }

    pub(crate) fn set_state(&self, m: &mut Mutable, state: KeyState) {
        m.state = state;
        self.state.store(state_code(state), Ordering::Release);
    }

    /// The blob length for `plaintext_len` bytes under this key.
    pub(crate) fn ciphertext_len(&self, plaintext_len: usize) -> Result<usize> {
        envelope::ciphertext_len(self.id.len(), plaintext_len)
            .ok_or(Error::LimitExceeded("plaintext too large"))
    }

    /// Checks that this key may perform a symmetric encryption operation now.
    pub(crate) fn require_symmetric(&self) -> Result<()> {
        if self.spec != KeySpec::SymmetricDefault {
            return Err(Error::InvalidKeyUsage);
        }
        self.require(KeyUsage::EncryptDecrypt)
    }

    /// Checks that this key has `usage` and is usable now.
    pub(crate) fn require(&self, usage: KeyUsage) -> Result<()> {
        if self.usage != usage {
            return Err(Error::InvalidKeyUsage);
        }
        match self.state() {
            KeyState::Enabled => Ok(()),
            KeyState::Disabled => Err(Error::KeyDisabled),
            KeyState::PendingDeletion | KeyState::PendingImport => Err(Error::InvalidKeyState),
        }
    }

    /// Adds a version made from `material`. `durable` runs with the version built but not yet
    /// visible (a store-backed keyring writes it down there); if it fails, nothing changes.
    pub(crate) fn push_version(
        &self,
        m: &mut Mutable,
        material: &[u8],
        durable: Durable<'_>,
    ) -> Result<u32> {
        let number = self
            .versions
            .next_number()
            .ok_or(Error::LimitExceeded("too many key versions"))?;
        let material = Material::from_bytes(self.spec, self.usage, material, &self.id, number)?;
        let version = Version::new(number, material);
        durable(self, m, &version)?;
        let created = version.creation_date;
        if !self.versions.push(version) {
            return Err(Error::Internal);
        }
        self.schedule_rotation(m, created);
        Ok(number)
    }

    pub(crate) fn schedule_rotation(&self, m: &Mutable, from: SystemTime) {
        // A period too long to represent is never due.
        let next = m.rotation_period.map_or(0, |p| {
            from.checked_add(p.as_duration())
                .map_or(u64::MAX, unix_nanos)
                .max(1)
        });
        self.next_rotation.store(next, Ordering::Release);
    }

    /// The version to encrypt under, with between 1 and `want` encryptions reserved against
    /// the budget: the count before them and how many. New versions made here (a rotation that
    /// fell due) pass through `durable` first.
    pub(crate) fn version_for_encrypt(
        &self,
        budget: u64,
        want: u64,
        durable: Durable<'_>,
    ) -> Result<(&Version, u64, u64)> {
        let due = self.next_rotation.load(Ordering::Acquire);
        if due != 0 && unix_nanos(SystemTime::now()) >= due {
            let mut m = write(&self.mutable);
            // Another thread may have rotated while we waited for the lock.
            let due = self.next_rotation.load(Ordering::Acquire);
            if due != 0 && unix_nanos(SystemTime::now()) >= due {
                self.push_version(&mut m, &material::generate_bytes(self.spec)?, durable)?;
            }
        }
        loop {
            let version = self.versions.current().ok_or(Error::InvalidKeyState)?;
            let reserved =
                version
                    .encryptions
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                        (n < budget).then(|| n + want.clamp(1, budget - n))
                    });
            if let Ok(before) = reserved {
                return Ok((version, before, want.clamp(1, budget - before)));
            }
            if !self.rotate_on_budget.load(Ordering::Acquire) {
                return Err(Error::LimitExceeded(
                    "key version's encryption budget is spent and rotate-on-budget is off",
                ));
            }
            let mut m = write(&self.mutable);
            // Rotate once, however many threads found the budget spent.
            if self.versions.current_number() == version.number {
                self.push_version(&mut m, &material::generate_bytes(self.spec)?, durable)?;
            }
        }
    }

    pub(crate) fn metadata(&self, aliases: Vec<String>) -> KeyMetadata {
        let m = read(&self.mutable);
        KeyMetadata {
            key_id: self.id.to_string(),
            key_spec: self.spec,
            key_usage: self.usage,
            key_state: m.state,
            origin: self.origin,
            creation_date: self.creation_date,
            description: self.description.clone(),
            deletion_date: m.deletion_date,
            encryption_algorithms: self.spec.encryption_algorithms(self.usage).to_vec(),
            signing_algorithms: if self.usage == KeyUsage::SignVerify {
                self.spec.signing_algorithms().to_vec()
            } else {
                Vec::new()
            },
            mac_algorithms: self.spec.mac_algorithm().into_iter().collect(),
            aliases,
            rotation_period: m.rotation_period,
            next_rotation_date: match self.next_rotation.load(Ordering::Acquire) {
                0 => None,
                n => Some(UNIX_EPOCH + Duration::from_nanos(n)),
            },
            current_version: self.versions.current_number(),
            min_decryption_version: self.min_decryption_version.load(Ordering::Acquire),
            rotate_on_budget: self.rotate_on_budget.load(Ordering::Acquire),
            versions: self
                .versions
                .iter()
                .map(|v| KeyVersionInfo {
                    version: v.number,
                    creation_date: v.creation_date,
                    encryptions: v.encryptions.load(Ordering::Acquire),
                })
                .collect(),
            valid_to: m.valid_to,
        }
    }
}

/// Everything that defines a key: what a sealed record carries (the `seal` module encodes it).
pub(crate) struct KeySnapshot {
    pub(crate) id: String,
    pub(crate) spec: KeySpec,
    pub(crate) usage: KeyUsage,
    pub(crate) origin: Origin,
    pub(crate) creation_date: SystemTime,
    pub(crate) description: String,
    pub(crate) state: KeyState,
    pub(crate) deletion_date: Option<SystemTime>,
    pub(crate) rotation_period: Option<RotationPeriod>,
    /// Unix nanoseconds of the next due rotation; 0 for none.
    pub(crate) next_rotation: u64,
    pub(crate) min_decryption_version: u32,
    pub(crate) rotate_on_budget: bool,
    pub(crate) aliases: Vec<String>,
    pub(crate) versions: Vec<VersionSnapshot>,
    pub(crate) imported: Option<[u8; 32]>,
    pub(crate) valid_to: Option<SystemTime>,
}

/// One version of a [`KeySnapshot`].
pub(crate) struct VersionSnapshot {
    pub(crate) number: u32,
    pub(crate) creation_date: SystemTime,
    pub(crate) encryptions: u64,
    pub(crate) material: Zeroizing<Vec<u8>>,
}
