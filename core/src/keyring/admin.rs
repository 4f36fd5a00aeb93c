//! Key administration: creating keys, enabling and disabling them, scheduling and cancelling
//! deletion, aliases, and rotation (on demand, by period, on a spent budget, and the minimum
//! decryption version).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::SystemTime;

use zeroize::Zeroizing;

use super::Keyring;
use crate::audit::{self, Operation};
use crate::error::{Error, Result};
use crate::fork::{read, write};
use crate::import;
use crate::key::{
    AliasEntry, CreateKey, Key, KeyMetadata, Mutable, generate_key_id, state_code, validate_alias,
    validate_key_id,
};
use crate::material;
use crate::spec::{KeySpec, KeyState, KeyUsage, Origin, PendingWindow, RotationPeriod};
use crate::versions::VersionTable;
use std::sync::RwLock;

impl Keyring {
    /// Creates a key and returns its metadata.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a malformed key id or alias, [`Error::AlreadyExists`] when
    /// the id or alias is taken, [`Error::InvalidKeyUsage`] for a usage the spec does not allow,
    /// [`Error::InvalidInput`] for a rotation period on a key that does not rotate.
    ///
    /// Key generation (seconds for RSA-4096) runs before any lock is taken, so it delays no other
    /// operation on the keyring.
    pub fn create_key(&self, options: &CreateKey) -> Result<KeyMetadata> {
        self.audited(
            Operation::CreateKey,
            options.key_id.as_deref(),
            None,
            || {
                // Refuse a bad request before paying for key generation.
                let (usage, _) = self.validate_create(options)?;
                // Here rather than in the validation the test hooks share: vectors made by a
                // non-FIPS build still load into a FIPS one, whose every use of them is refused.
                crate::fips::check_key(options.spec, usage)?;
                crate::fips::check_origin(options.origin)?;
                if options.origin == Origin::External {
                    return self.create_key_with_material(options, Origin::External, &[]);
                }
                let material = material::generate_bytes(options.spec)?;
                self.create_key_with_material(options, Origin::Keyplane, &[material])
            },
        )
    }

    /// Checks everything about a creation request that does not need the key material; returns
    /// the key usage and the key id to use.
    fn validate_create(&self, options: &CreateKey) -> Result<(KeyUsage, String)> {
        let usage = match options.usage {
            Some(u) if options.spec.allowed_usages().contains(&u) => u,
            Some(_) => return Err(Error::InvalidKeyUsage),
            None => options.spec.default_usage().ok_or(Error::InvalidInput(
                "this key spec needs an explicit key usage",
            ))?,
        };
        if usage == KeyUsage::KeyAgreement {
            // No key-agreement operation exists yet; a key that can do nothing is refused.
            return Err(Error::UnsupportedAlgorithm);
        }
        if options.origin == Origin::External && options.rotation_period.is_some() {
            return Err(Error::InvalidInput("imported keys do not rotate"));
        }
        if options.spec != KeySpec::SymmetricDefault && options.rotation_period.is_some() {
            return Err(Error::InvalidInput(
                "only SYMMETRIC_DEFAULT keys rotate automatically",
            ));
        }
        let id = match &options.key_id {
            Some(id) => {
                validate_key_id(id)?;
                id.clone()
            }
            None => generate_key_id()?,
        };
        if let Some(alias) = &options.alias {
            validate_alias(alias)?;
        }
        Ok((usage, id))
    }

    pub(super) fn create_key_with_material(
        &self,
        options: &CreateKey,
        origin: Origin,
        versions: &[Zeroizing<Vec<u8>>],
    ) -> Result<KeyMetadata> {
        let (usage, id) = self.validate_create(options)?;
        audit::note(&id, 0);
        self.sweep_expired();
        let initial = if versions.is_empty() {
            KeyState::PendingImport
        } else {
            KeyState::Enabled
        };
        let key = Arc::new(Key {
            id: id.clone().into_boxed_str(),
            spec: options.spec,
            usage,
            origin,
            creation_date: SystemTime::now(),
            description: options.description.clone(),
            state: AtomicU8::new(state_code(initial)),
            next_rotation: AtomicU64::new(0),
            min_decryption_version: AtomicU32::new(1),
            // Imported material cannot be replaced by generated material.
            rotate_on_budget: AtomicBool::new(
                options.rotate_on_budget && origin == Origin::Keyplane,
            ),
            valid_to: AtomicU64::new(0),
            versions: VersionTable::new(),
            mutable: RwLock::new(Mutable {
                state: initial,
                rotation_period: options.rotation_period,
                deletion_date: None,
                // Material given at creation is imported material: only it may come back.
                imported: versions
                    .first()
                    .filter(|_| origin == Origin::External)
                    .map(|m| import::fingerprint(&id, m)),
                valid_to: None,
            }),
        });
        {
            let mut m = write(&key.mutable);
            for material in versions {
                // Not yet visible to anyone: written down below, once it is in the keyring.
                key.push_version(&mut m, material, &|_, _, _| Ok(()))?;
            }
        }
        let mut aliases = write(&self.inner.aliases);
        let mut keys = write(&self.inner.keys);
        if keys.contains_key(id.as_str()) {
            return Err(Error::AlreadyExists);
        }
        if let Some(alias) = &options.alias {
            if aliases.contains_key(alias.as_str()) {
                return Err(Error::AlreadyExists);
            }
            aliases.insert(alias.clone().into_boxed_str(), id.clone().into_boxed_str());
        }
        keys.insert(id.into_boxed_str(), Arc::clone(&key));
        drop(keys);
        drop(aliases);
        self.persist_new(&key)?;
        Ok(key.metadata(options.alias.iter().cloned().collect()))
    }

    /// The key's metadata.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub fn describe_key(&self, key_id: &str) -> Result<KeyMetadata> {
        self.audited(Operation::DescribeKey, Some(key_id), None, || {
            let key = self.resolve(key_id)?;
            Ok(key.metadata(self.aliases_of(&key.id)))
        })
    }

    /// Every key id, sorted.
    #[must_use]
    pub fn list_keys(&self) -> Vec<String> {
        self.sweep_expired();
        let mut ids: Vec<String> = read(&self.inner.keys)
            .keys()
            .map(ToString::to_string)
            .collect();
        ids.sort_unstable();
        ids
    }

    fn transition(
        &self,
        key_id: &str,
        f: impl FnOnce(&Key, &mut Mutable) -> Result<()>,
    ) -> Result<()> {
        let key = self.resolve(key_id)?;
        self.change(&key, f)
    }

    /// Applies `f` to `key`'s management state and, in a store-backed keyring, writes the result
    /// down before returning; if that fails, the key is put back as it was.
    pub(super) fn change(
        &self,
        key: &Key,
        f: impl FnOnce(&Key, &mut Mutable) -> Result<()>,
    ) -> Result<()> {
        let mut m = write(&key.mutable);
        let before = (
            m.clone(),
            key.state.load(Ordering::Acquire),
            key.next_rotation.load(Ordering::Acquire),
            key.min_decryption_version.load(Ordering::Acquire),
            key.rotate_on_budget.load(Ordering::Acquire),
        );
        f(key, &mut m)?;
        if let Err(e) = self.persist_locked(key, &m, None) {
            *m = before.0;
            key.state.store(before.1, Ordering::Release);
            key.next_rotation.store(before.2, Ordering::Release);
            key.min_decryption_version
                .store(before.3, Ordering::Release);
            key.rotate_on_budget.store(before.4, Ordering::Release);
            return Err(e);
        }
        Ok(())
    }

    /// Enables a disabled key.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidKeyState`] when pending deletion or import.
    pub fn enable_key(&self, key_id: &str) -> Result<()> {
        self.audited(Operation::EnableKey, Some(key_id), None, || {
            self.transition(key_id, |key, m| match m.state {
                KeyState::Enabled | KeyState::Disabled => {
                    key.set_state(m, KeyState::Enabled);
                    Ok(())
                }
                KeyState::PendingDeletion | KeyState::PendingImport => Err(Error::InvalidKeyState),
            })
        })
    }

    /// Disables a key: every operation with it fails with [`Error::KeyDisabled`] until enabled.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidKeyState`] when pending deletion or import.
    pub fn disable_key(&self, key_id: &str) -> Result<()> {
        self.audited(Operation::DisableKey, Some(key_id), None, || {
            self.transition(key_id, |key, m| match m.state {
                KeyState::Enabled | KeyState::Disabled => {
                    key.set_state(m, KeyState::Disabled);
                    Ok(())
                }
                KeyState::PendingDeletion | KeyState::PendingImport => Err(Error::InvalidKeyState),
            })
        })
    }

    /// Schedules deletion after `window`; returns the deletion date. Until then the key is
    /// unusable and [`cancel_key_deletion`](Self::cancel_key_deletion) can save it; after it, the
    /// key and its aliases are gone at the next look-up.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidKeyState`] when already pending deletion.
    pub fn schedule_key_deletion(&self, key_id: &str, window: PendingWindow) -> Result<SystemTime> {
        self.audited(Operation::ScheduleKeyDeletion, Some(key_id), None, || {
            let date = SystemTime::now()
                .checked_add(window.as_duration())
                .ok_or(Error::InvalidInput("pending window too long"))?;
            self.transition(key_id, |key, m| {
                if m.state == KeyState::PendingDeletion {
                    return Err(Error::InvalidKeyState);
                }
                m.deletion_date = Some(date);
                key.set_state(m, KeyState::PendingDeletion);
                Ok(())
            })?;
            Ok(date)
        })
    }

    /// Cancels a scheduled deletion. As in AWS KMS, the key comes back **disabled**, or, for an
    /// imported key without material, `PendingImport`.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidKeyState`] when not pending deletion.
    pub fn cancel_key_deletion(&self, key_id: &str) -> Result<()> {
        self.audited(Operation::CancelKeyDeletion, Some(key_id), None, || {
            self.transition(key_id, |key, m| {
                if m.state != KeyState::PendingDeletion {
                    return Err(Error::InvalidKeyState);
                }
                m.deletion_date = None;
                // A disabled key with no version could never be enabled, nor take material.
                let state = if key.versions.current().is_none() {
                    KeyState::PendingImport
                } else {
                    KeyState::Disabled
                };
                key.set_state(m, state);
                Ok(())
            })
        })
    }

    /// Creates `alias` (`alias/...`) pointing at `key_id` (which may itself be an alias).
    ///
    /// # Errors
    /// [`Error::InvalidInput`], [`Error::AlreadyExists`], [`Error::NotFound`].
    pub fn create_alias(&self, alias: &str, key_id: &str) -> Result<()> {
        self.audited(Operation::CreateAlias, Some(key_id), None, || {
            validate_alias(alias)?;
            self.sweep_expired();
            let key = self.resolve(key_id)?;
            {
                let mut aliases = write(&self.inner.aliases);
                if aliases.contains_key(alias) {
                    return Err(Error::AlreadyExists);
                }
                aliases.insert(alias.into(), key.id.clone());
                self.bump_generation();
            }
            self.persist_key(&key).inspect_err(|_| {
                write(&self.inner.aliases).remove(alias);
                self.bump_generation();
            })
        })
    }

    /// Points an existing alias at another key.
    ///
    /// # Errors
    /// [`Error::InvalidInput`], [`Error::NotFound`] (alias or key).
    pub fn update_alias(&self, alias: &str, key_id: &str) -> Result<()> {
        self.audited(Operation::UpdateAlias, Some(key_id), None, || {
            validate_alias(alias)?;
            let key = self.resolve(key_id)?;
            let previous = {
                let mut aliases = write(&self.inner.aliases);
                let target = aliases.get_mut(alias).ok_or(Error::NotFound)?;
                let previous = core::mem::replace(target, key.id.clone());
                self.bump_generation();
                previous
            };
            let old_key = read(&self.inner.keys)
                .get(&previous)
                .filter(|old| !Arc::ptr_eq(old, &key))
                .cloned();
            let undo = || {
                if let Some(target) = write(&self.inner.aliases).get_mut(alias) {
                    *target = previous.clone();
                }
                self.bump_generation();
            };
            // The new target's record first: stopped before the old target's record follows,
            // the store has two records claiming the alias, which a load settles (one keeps
            // it). The other order would leave none, losing the alias.
            self.persist_key(&key).inspect_err(|_| undo())?;
            if let Some(old) = old_key.as_deref()
                && let Err(e) = self.persist_key(old)
            {
                undo();
                // Takes the claim back out of the new target's record; should that fail too,
                // the next load settles the double claim.
                let _ = self.persist_key(&key);
                return Err(e);
            }
            Ok(())
        })
    }

    /// Deletes an alias (the key is untouched).
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub fn delete_alias(&self, alias: &str) -> Result<()> {
        self.audited(Operation::DeleteAlias, Some(alias), None, || {
            let target = write(&self.inner.aliases)
                .remove(alias)
                .ok_or(Error::NotFound)?;
            self.bump_generation();
            let key = read(&self.inner.keys).get(&target).cloned();
            key.as_deref()
                .map_or(Ok(()), |key| self.persist_key(key))
                .inspect_err(|_| {
                    write(&self.inner.aliases).insert(alias.into(), target.clone());
                    self.bump_generation();
                })
        })
    }

    /// Every alias, sorted by name.
    #[must_use]
    pub fn list_aliases(&self) -> Vec<AliasEntry> {
        self.sweep_expired();
        let mut v: Vec<AliasEntry> = read(&self.inner.aliases)
            .iter()
            .map(|(a, k)| AliasEntry {
                alias_name: a.to_string(),
                target_key_id: k.to_string(),
            })
            .collect();
        v.sort_unstable_by(|a, b| a.alias_name.cmp(&b.alias_name));
        v
    }

    fn symmetric_for_admin(&self, key_id: &str) -> Result<Arc<Key>> {
        let key = self.resolve(key_id)?;
        if key.spec != KeySpec::SymmetricDefault {
            return Err(Error::UnsupportedAlgorithm);
        }
        Ok(key)
    }

    /// Adds a new version now; new encryptions use it, older versions keep decrypting.
    /// Returns the new version number.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::KeyDisabled`] / [`Error::InvalidKeyState`] unless enabled;
    /// [`Error::UnsupportedAlgorithm`] for keys that do not rotate.
    pub fn rotate_key(&self, key_id: &str) -> Result<u32> {
        self.audited(Operation::RotateKey, Some(key_id), None, || {
            let key = self.symmetric_for_admin(key_id)?;
            if key.origin == Origin::External {
                return Err(Error::UnsupportedAlgorithm);
            }
            key.require_symmetric()?;
            let material = material::generate_bytes(key.spec)?;
            let mut m = write(&key.mutable);
            key.push_version(&mut m, &material, &|key, m, v| {
                self.persist_locked(key, m, Some(v))
            })
        })
    }

    /// Turns on automatic rotation with `period`, counted from the current version's creation.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::UnsupportedAlgorithm`] for keys that do not rotate.
    pub fn enable_key_rotation(&self, key_id: &str, period: RotationPeriod) -> Result<()> {
        self.audited(Operation::EnableKeyRotation, Some(key_id), None, || {
            let key = self.symmetric_for_admin(key_id)?;
            if key.origin == Origin::External {
                return Err(Error::UnsupportedAlgorithm);
            }
            self.change(&key, |key, m| {
                m.rotation_period = Some(period);
                let from = key
                    .versions
                    .current()
                    .map_or_else(SystemTime::now, |v| v.creation_date);
                key.schedule_rotation(m, from);
                Ok(())
            })
        })
    }

    /// Turns off automatic (periodic) rotation.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::UnsupportedAlgorithm`] for keys that do not rotate.
    pub fn disable_key_rotation(&self, key_id: &str) -> Result<()> {
        self.audited(Operation::DisableKeyRotation, Some(key_id), None, || {
            let key = self.symmetric_for_admin(key_id)?;
            self.change(&key, |key, m| {
                m.rotation_period = None;
                key.schedule_rotation(m, SystemTime::now());
                Ok(())
            })
        })
    }

    /// Whether the key rotates (`true`) or refuses further encryptions (`false`) once a version's
    /// encryption budget is spent.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::UnsupportedAlgorithm`] for keys that do not rotate, and
    /// for turning it on for an imported (`EXTERNAL`) key, whose versions can only be the
    /// material imported into it.
    pub fn set_rotate_on_budget(&self, key_id: &str, rotate: bool) -> Result<()> {
        self.audited(Operation::SetRotateOnBudget, Some(key_id), None, || {
            let key = self.symmetric_for_admin(key_id)?;
            if rotate && key.origin == Origin::External {
                return Err(Error::UnsupportedAlgorithm);
            }
            self.change(&key, |key, _| {
                key.rotate_on_budget.store(rotate, Ordering::Release);
                Ok(())
            })
        })
    }

    /// Refuses blobs made under versions older than `version` ([`Error::VersionRetired`]).
    /// Lowering it again re-admits them: versions are never destroyed.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::InvalidInput`] unless `1 <= version <= current`.
    pub fn set_min_decryption_version(&self, key_id: &str, version: u32) -> Result<()> {
        self.audited(
            Operation::SetMinDecryptionVersion,
            Some(key_id),
            None,
            || {
                let key = self.symmetric_for_admin(key_id)?;
                if version == 0 || version > key.versions.current_number() {
                    return Err(Error::InvalidInput(
                        "minimum decryption version must be between 1 and the current version",
                    ));
                }
                self.change(&key, |key, _| {
                    key.min_decryption_version.store(version, Ordering::Release);
                    Ok(())
                })
            },
        )
    }
}
