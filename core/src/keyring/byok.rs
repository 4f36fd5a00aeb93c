//! Importing key material (bring your own key): import parameters, unwrapping and installing
//! the caller's material, its expiry, and deleting it again.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use super::Keyring;
use crate::audit::Operation;
use crate::error::{Error, Result};
use crate::fork::{self, write};
use crate::import::{self, ImportParameters};
use crate::key::{Key, Mutable, state_code, unix_nanos};
use crate::material::Material;
use crate::seal::{self, RootKey};
use crate::spec::{KeyState, Origin, WrappingAlgorithm, WrappingKeySpec};
use crate::versions::VersionTable;

impl Keyring {
    /// An RSA public key and an import token with which to wrap material for `key_id` (a key
    /// created with origin `EXTERNAL`). They are valid for 24 hours in this keyring instance.
    /// RSA private key material needs an `RSA_AES_KEY_WRAP_*` algorithm.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::UnsupportedAlgorithm`] for a key whose origin is not
    /// `EXTERNAL`; [`Error::InvalidKeyState`] when pending deletion; [`Error::InvalidInput`]
    /// for a wrapping algorithm that cannot carry this key's material.
    pub fn get_parameters_for_import(
        &self,
        key_id: &str,
        algorithm: WrappingAlgorithm,
        wrapping_key_spec: WrappingKeySpec,
    ) -> Result<ImportParameters> {
        self.audited(
            Operation::GetParametersForImport,
            Some(key_id),
            None,
            || {
                let key = self.importable(key_id)?;
                import::check_algorithm(key.spec, algorithm)?;
                let (private, public_key) = import::wrapping_key(wrapping_key_spec)?;
                let valid_to = SystemTime::now() + import::IMPORT_PARAMETERS_VALIDITY;
                let import_token = import::seal_token(
                    self.import_root()?,
                    &key.id,
                    algorithm,
                    &private,
                    valid_to,
                )?;
                Ok(ImportParameters {
                    key_id: key.id.to_string(),
                    public_key,
                    import_token,
                    parameters_valid_to: valid_to,
                })
            },
        )
    }

    /// Unwraps `encrypted_key_material` (wrapped with the parameters of `import_token`) and
    /// installs it as the key's material; the key becomes `Enabled`. With `valid_to`, the
    /// material expires then and the key returns to `PendingImport`. A key accepts only the
    /// material it was first given: importing it again (after expiry or deletion, or to change
    /// `valid_to`) works; other material is refused.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::UnsupportedAlgorithm`] unless the origin is `EXTERNAL`;
    /// [`Error::InvalidKeyState`] when pending deletion; [`Error::InvalidInput`] for an
    /// unknown, expired or other key's token, a `valid_to` in the past, material that does not
    /// fit the key spec, or material other than what the key had; [`Error::InvalidCiphertext`]
    /// for wrapped material that does not unwrap with the token's key.
    pub fn import_key_material(
        &self,
        key_id: &str,
        import_token: &[u8],
        encrypted_key_material: &[u8],
        valid_to: Option<SystemTime>,
    ) -> Result<()> {
        self.audited(Operation::ImportKeyMaterial, Some(key_id), None, || {
            let key = self.importable(key_id)?;
            if valid_to.is_some_and(|t| t <= self.import_clock()) {
                return Err(Error::InvalidInput("valid_to must be in the future"));
            }
            let pending = import::open_token(self.import_root()?, &key.id, import_token)?;
            if pending.valid_to <= self.import_clock() {
                return Err(Error::InvalidInput("import token has expired"));
            }
            let material = import::unwrap(&pending, encrypted_key_material)?;
            // Refuse material that does not fit the spec before anything changes.
            Material::from_bytes(key.spec, key.usage, &material, &key.id, 1)?;
            let fingerprint = import::fingerprint(&key.id, &material);

            let mut m = write(&key.mutable);
            // The key's version 1 is what decides, should the fingerprint be missing.
            let previous = m.imported.or_else(|| {
                key.versions
                    .get(1)
                    .map(|v| import::fingerprint(&key.id, v.material.bytes()))
            });
            if let Some(previous) = previous
                && aws_lc_rs::constant_time::verify_slices_are_equal(&previous, &fingerprint)
                    .is_err()
            {
                return Err(Error::InvalidInput(
                    "key material differs from the material imported into this key before",
                ));
            }
            let before = (
                m.clone(),
                key.state.load(Ordering::Acquire),
                key.valid_to.load(Ordering::Acquire),
            );
            m.imported = Some(fingerprint);
            m.valid_to = valid_to;
            if m.state == KeyState::PendingImport {
                key.set_state(&mut m, KeyState::Enabled);
            }
            key.valid_to.store(
                valid_to.map_or(0, |t| unix_nanos(t).max(1)),
                Ordering::Release,
            );
            let written = if key.versions.current().is_none() {
                key.push_version(&mut m, &material, &|key, m, v| {
                    self.persist_locked(key, m, Some(v))
                })
                .map(drop)
            } else {
                self.persist_locked(&key, &m, None)
            };
            if let Err(e) = written {
                *m = before.0;
                key.state.store(before.1, Ordering::Release);
                key.valid_to.store(before.2, Ordering::Release);
                return Err(e);
            }
            Ok(())
        })
    }

    /// Deletes the imported material of `key_id` now: the key returns to `PendingImport`, and
    /// the same material can be imported again.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::UnsupportedAlgorithm`] unless the origin is `EXTERNAL`;
    /// [`Error::InvalidKeyState`] when pending deletion; [`Error::Storage`].
    pub fn delete_imported_key_material(&self, key_id: &str) -> Result<()> {
        self.audited(
            Operation::DeleteImportedKeyMaterial,
            Some(key_id),
            None,
            || {
                let key = self.importable(key_id)?;
                self.drop_material(&key).map(drop)
            },
        )
    }

    /// The root import tokens are sealed under: a store-backed keyring's root key, so tokens
    /// outlive the process; otherwise one of this keyring's own.
    pub(super) fn import_root(&self) -> Result<&dyn RootKey> {
        if let Some(p) = &self.inner.persistence {
            return Ok(&*p.root);
        }
        if let Some(root) = self.inner.import_root.get() {
            return Ok(root);
        }
        let material = seal::LocalRootKey::generate_material()?;
        let root = seal::LocalRootKey::new("keyplane keyring import tokens", material.as_ref())?;
        // Initialized inside the gate, so a fork never catches the cell half set.
        let _pass = fork::pass();
        Ok(self.inner.import_root.get_or_init(|| root))
    }

    /// The time import tokens' and imported material's expiry is checked against: the
    /// system's, unless a test hook moved it forward.
    pub(super) fn import_clock(&self) -> SystemTime {
        let ahead = self.inner.import_clock_ahead.load(Ordering::Relaxed);
        SystemTime::now()
            .checked_add(Duration::from_nanos(ahead))
            .unwrap_or(SystemTime::UNIX_EPOCH)
    }

    /// The `EXTERNAL` key `key_id`, not pending deletion.
    fn importable(&self, key_id: &str) -> Result<Arc<Key>> {
        let key = self.resolve(key_id)?;
        if key.origin != Origin::External {
            return Err(Error::UnsupportedAlgorithm);
        }
        if key.state() == KeyState::PendingDeletion {
            return Err(Error::InvalidKeyState);
        }
        Ok(key)
    }

    /// `key`, or, if its imported material is past its `valid_to` by the import clock, the key
    /// without it: back in `PendingImport` (or still pending deletion).
    pub(super) fn expire_if_due(&self, key: Arc<Key>) -> Result<Arc<Key>> {
        let expires = key.valid_to.load(Ordering::Acquire);
        if expires != 0 && unix_nanos(self.import_clock()) >= expires {
            return self.drop_material(&key);
        }
        Ok(key)
    }

    /// Replaces `key` with a copy without versions, in `PendingImport`, or still in
    /// `PendingDeletion` with its date when deletion was scheduled: losing its material must
    /// not cancel a deletion. The old key, and its material, are dropped (and zeroized) when
    /// the last operation using it finishes.
    fn drop_material(&self, key: &Arc<Key>) -> Result<Arc<Key>> {
        let empty = {
            let m = write(&key.mutable);
            let (state, deletion_date) = match m.state {
                KeyState::PendingDeletion => (KeyState::PendingDeletion, m.deletion_date),
                _ => (KeyState::PendingImport, None),
            };
            let empty = Arc::new(Key {
                id: key.id.clone(),
                spec: key.spec,
                usage: key.usage,
                origin: key.origin,
                creation_date: key.creation_date,
                description: key.description.clone(),
                state: AtomicU8::new(state_code(state)),
                next_rotation: AtomicU64::new(0),
                min_decryption_version: AtomicU32::new(
                    key.min_decryption_version.load(Ordering::Acquire),
                ),
                rotate_on_budget: AtomicBool::new(false),
                valid_to: AtomicU64::new(0),
                versions: VersionTable::new(),
                mutable: RwLock::new(Mutable {
                    state,
                    rotation_period: None,
                    deletion_date,
                    imported: m.imported,
                    valid_to: None,
                }),
            });
            let mut keys = write(&self.inner.keys);
            match keys.get_mut(&*key.id) {
                Some(slot) if Arc::ptr_eq(slot, key) => *slot = Arc::clone(&empty),
                // Replaced meanwhile (a racing expiry): use what is there now.
                Some(slot) => return Ok(Arc::clone(slot)),
                None => return Err(Error::NotFound),
            }
            self.bump_generation();
            empty
        };
        // The material is gone from memory even if this write fails: the stored record still
        // has it, with its expiry, and expires it again after a restart.
        self.persist_key(&empty)?;
        Ok(empty)
    }
}
